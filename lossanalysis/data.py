"""Load MNIST and Fashion-MNIST from IDX files, download them, and summarise pixel intensities.

Both datasets are distributed as four files in the IDX format described on the MNIST
database page (Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of
handwritten digits", http://yann.lecun.com/exdb/mnist/): a big-endian header made of a
magic number (two zero bytes, a type code, 0x08 for unsigned bytes, and the number of
dimensions), one 32-bit size per dimension, then the data in C order.  Images files have
magic 0x00000803 (n x 28 x 28 bytes), labels files 0x00000801 (n bytes).
Fashion-MNIST (H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset
for Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017) uses the same
format and file names.

Files are looked for in this order, the first folder holding the requested split's
images file winning (see :func:`find_files`):

1. the ``data_dir`` argument (the folder holding the files, or a parent holding ``<name>/``);
2. ``$LOSSANALYSIS_DATA/<name>/``, then ``$LOSSANALYSIS_DATA`` itself;
3. ``~/.cache/lossanalysis/<name>/`` (:data:`CACHE_ROOT`);
4. ``/usr/share/datasets/<name>/`` (:data:`SYSTEM_ROOT`, where Debian's
   ``dataset-fashion-mnist`` package installs).

Each file may be gzip-compressed (``.gz``) or not.  Files found on disk are checked
structurally only (magic numbers, sizes, label range); only files that :func:`download`
fetches are checked against the published checksums, because a user's folder may
legitimately hold a subset of a dataset under the standard names.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ._io import atomic_write

__all__ = [
    "DATASETS",
    "SPLITS",
    "MIRRORS",
    "CHECKSUMS",
    "DatasetError",
    "IntensitySummary",
    "load",
    "find_files",
    "download",
    "intensity_summary",
    "ImageSource",
    "open_images",
    "ImageSet",
    "load_images",
]

DATASETS = ("mnist", "fashion-mnist")
SPLITS = ("train", "test")

#: Base names of the (images, labels) files of each split.
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
IMAGE_SHAPE = (28, 28)
N_CLASSES = 10

#: Environment variable naming a folder that holds ``<name>/`` subfolders (or the files).
DATA_ENV = "LOSSANALYSIS_DATA"
#: Environment variable overriding the download mirrors: base URLs separated by
#: whitespace or commas; ``{name}`` in a URL is replaced by the dataset name.
MIRRORS_ENV = "LOSSANALYSIS_MIRRORS"

#: Per-user cache; ``~`` is expanded when searching, so tests can move it (or HOME).
CACHE_ROOT = Path("~/.cache/lossanalysis")
#: System-wide location used by Debian's dataset packages.
SYSTEM_ROOT = Path("/usr/share/datasets")

#: Base URLs tried in order by :func:`download`; each file is fetched from
#: ``<base>/<file>.gz``.  yann.lecun.com is listed last because it has at times
#: refused anonymous downloads.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
}

#: MD5 digests of the canonical ``.gz`` files.  Source: the ``resources`` lists of the
#: ``MNIST`` and ``FashionMNIST`` classes in torchvision (torchvision/datasets/mnist.py,
#: github.com/pytorch/vision); the Fashion-MNIST values are also those printed in the
#: README of github.com/zalandoresearch/fashion-mnist.
CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

#: Seconds to wait on a silent connection before giving up on a mirror.
TIMEOUT = 30.0
_CHUNK = 1 << 16


class DatasetError(ValueError):
    """A dataset file is missing, malformed, or could not be downloaded."""


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; valid choices: {', '.join(choices)}")


# --------------------------------------------------------------------------- finding


def _search_dirs(name: str, data_dir: str | os.PathLike | None) -> list[Path]:
    """The folders searched for ``name``, in priority order."""
    dirs: list[Path] = []
    if data_dir is not None:
        dirs += [Path(data_dir), Path(data_dir) / name]
    env = os.environ.get(DATA_ENV)
    if env:
        dirs += [Path(env) / name, Path(env)]
    dirs.append(CACHE_ROOT.expanduser() / name)
    dirs.append(SYSTEM_ROOT / name)
    return list(dict.fromkeys(dirs))  # drop repeats, keep the order


def _existing(folder: Path, base: str) -> Path | None:
    """``folder/base`` or ``folder/base.gz``, whichever exists (uncompressed first)."""
    for candidate in (folder / base, folder / (base + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _how_to_get(name: str) -> str:
    hint = (
        f"To get the files, run `python -m lossanalysis download {name}` (or call "
        f"load(..., download=True)), or set {DATA_ENV} to a folder holding {name}/ "
        f"with the standard IDX files (.gz or uncompressed)."
    )
    if name == "fashion-mnist":
        hint += " On Debian, `apt install dataset-fashion-mnist` installs them system-wide."
    return hint


def find_files(name: str, split: str = "train", data_dir=None) -> tuple[Path, Path]:
    """Return the paths of the (images, labels) files of ``name``/``split``.

    The first searched folder holding the split's images file wins; its labels file must
    sit next to it.  Raises :class:`DatasetError` naming every folder searched when no
    images file is found, or naming the expected labels file when only that is missing.
    """
    _check_choice(name, DATASETS, "dataset")
    _check_choice(split, SPLITS, "split")
    images_base, labels_base = FILES[split]
    searched = _search_dirs(name, data_dir)
    for folder in searched:
        images = _existing(folder, images_base)
        if images is None:
            continue
        labels = _existing(folder, labels_base)
        if labels is None:
            raise DatasetError(
                f"{folder / labels_base}[.gz]: labels file missing (the images file "
                f"{images.name} is there)"
            )
        return images, labels
    places = "\n".join(f"  - {folder}" for folder in searched)
    raise DatasetError(
        f"no {name} {split} data found: looked for {images_base}[.gz] in\n{places}\n"
        + _how_to_get(name)
    )


# --------------------------------------------------------------------------- parsing


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes into a writable uint8 array, checking its header."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
            if len(head) < 4:
                raise DatasetError(f"{path}: file too short for an IDX header")
            found = int.from_bytes(head, "big")
            if found != magic:
                raise DatasetError(
                    f"{path}: wrong magic number 0x{found:08X} (expected 0x{magic:08X})"
                )
            ndim = head[3]
            dims_bytes = f.read(4 * ndim)
            if len(dims_bytes) < 4 * ndim:
                raise DatasetError(f"{path}: file too short for its {ndim} dimension sizes")
            dims = tuple(int(d) for d in np.frombuffer(dims_bytes, dtype=">u4"))
            if magic == IMAGES_MAGIC and dims[1:] != IMAGE_SHAPE:
                raise DatasetError(
                    f"{path}: images are {dims[1]}x{dims[2]}, expected "
                    f"{IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]}"
                )
            expected = int(np.prod(dims, dtype=np.int64))
            if not path.name.endswith(".gz"):
                actual = path.stat().st_size - 4 - 4 * ndim
                if actual != expected:
                    raise DatasetError(
                        f"{path}: payload is {actual} bytes but the header {dims} "
                        f"promises {expected}"
                    )
            out = np.empty(dims, dtype=np.uint8)
            view = memoryview(out).cast("B")
            got = 0
            while got < expected:
                n = f.readinto(view[got:])
                if not n:
                    break
                got += n
            if got < expected:
                raise DatasetError(
                    f"{path}: payload is {got} bytes but the header {dims} promises {expected}"
                )
            if f.read(1):
                raise DatasetError(
                    f"{path}: payload is longer than the {expected} bytes the header {dims} "
                    "promises"
                )
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DatasetError(f"{path}: truncated or corrupt gzip data ({exc})") from exc
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from exc
    except MemoryError as exc:
        raise DatasetError(f"{path}: header claims more data than fits in memory") from exc
    return out


def load(
    name: str,
    split: str = "train",
    data_dir=None,
    download: bool = False,
    *,
    raw: bool = False,
    quiet: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of MNIST or Fashion-MNIST as ``(images, labels)``.

    ``name`` is one of :data:`DATASETS`, ``split`` one of :data:`SPLITS`.  Images come as
    float32 of shape (n, 784) with values v/255 in [0, 1] (0 and 255 map to exactly 0.0
    and 1.0), or, with ``raw=True``, as the stored uint8 array of shape (n, 28, 28).
    Labels are uint8 in 0..9.

    ``data_dir`` is searched first (see :func:`find_files`).  When nothing is found and
    ``download`` is true, the four standard files are downloaded into
    ``<data_dir or CACHE_ROOT>/<name>/`` first; ``quiet`` silences the progress report.
    Raises :class:`DatasetError` for missing or malformed files.
    """
    _check_choice(name, DATASETS, "dataset")
    _check_choice(split, SPLITS, "split")
    try:
        images_path, labels_path = find_files(name, split, data_dir)
    except DatasetError:
        if not download:
            raise
        _download(name, data_dir, quiet=quiet)  # the `download` argument hides the function
        images_path, labels_path = find_files(name, split, data_dir)

    images = _read_idx(images_path, IMAGES_MAGIC)
    labels = _read_idx(labels_path, LABELS_MAGIC)
    if len(labels) != len(images):
        raise DatasetError(
            f"{labels_path}: holds {len(labels)} labels but {images_path.name} "
            f"holds {len(images)} images"
        )
    if labels.size and labels.max() >= N_CLASSES:
        raise DatasetError(
            f"{labels_path}: label {int(labels.max())} is out of range 0..{N_CLASSES - 1}"
        )
    if raw:
        return images, labels
    flat = images.reshape(len(images), -1)
    out = np.empty(flat.shape, dtype=np.float32)
    # One vectorized pass straight into float32 (no float64 intermediate).  Dividing by
    # 255 rather than multiplying by float32(1/255) gives the correctly rounded v/255,
    # so the values equal the uint8 ones exactly at the thresholds 0.2 (51) and 0.8 (204).
    np.divide(flat, np.float32(255), out=out, dtype=np.float32)
    return out, labels


# --------------------------------------------------------------------------- downloading


def _mirror_list(name: str, mirrors: Iterable[str] | None) -> list[str]:
    if mirrors is None:
        env = os.environ.get(MIRRORS_ENV, "")
        mirrors = env.replace(",", " ").split() or MIRRORS[name]
    return [m.replace("{name}", name) for m in mirrors]


def _fetch(url: str, folder: Path, filename: str, md5: str, timeout: float, quiet: bool) -> None:
    """Fetch ``url`` to ``folder/filename`` atomically, or raise with the reason.

    The bytes go to a temporary file in the same folder which is checked against ``md5``,
    flushed to disk and only then renamed over the target; on any failure (including an
    interruption) the temporary file is removed.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "lossanalysis (urllib)"})

    def stream(out):
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            digest = hashlib.md5()
            done = 0
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if not quiet:
                    of = f"/{total}" if total is not None else ""
                    print(f"\r  {filename}: {done}{of} bytes", end="", file=sys.stderr, flush=True)
            if not quiet:
                print(file=sys.stderr, flush=True)
        if total is not None and done != total:
            raise DatasetError(f"incomplete: got {done} of {total} bytes")
        if digest.hexdigest() != md5:
            raise DatasetError(f"checksum mismatch: MD5 {digest.hexdigest()}, expected {md5}")

    atomic_write(folder / filename, stream)


def download(
    name: str,
    root=None,
    *,
    mirrors: Iterable[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    force: bool = False,
    quiet: bool = False,
    timeout: float = TIMEOUT,
) -> Path:
    """Download the four standard ``.gz`` files of ``name`` into ``<root>/<name>/``.

    ``root`` defaults to :data:`CACHE_ROOT`.  Mirrors are tried in order: the
    ``mirrors`` argument, else the URLs in ``$LOSSANALYSIS_MIRRORS``, else
    :data:`MIRRORS`; a mirror that fails (unreachable, HTTP error, short read, wrong
    checksum) is skipped for the next one.  Every file is verified against ``checksums``
    (default :data:`CHECKSUMS`) before it is atomically moved into place, so a failed or
    interrupted download leaves nothing behind.  Files already present (compressed or
    not) are kept as they are unless ``force`` is true.  Progress goes to stderr unless
    ``quiet``.  Returns the folder; raises :class:`DatasetError` when a file could not
    be fetched from any mirror.
    """
    _check_choice(name, DATASETS, "dataset")
    folder = Path(root if root is not None else CACHE_ROOT).expanduser() / name
    sums = CHECKSUMS[name] if checksums is None else checksums
    urls = _mirror_list(name, mirrors)
    if not urls:
        raise DatasetError(f"no download mirrors configured for {name}")
    created = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    try:
        for split in SPLITS:
            for base in FILES[split]:
                filename = base + ".gz"
                if not force and _existing(folder, base) is not None:
                    continue
                md5 = sums.get(filename)
                if md5 is None:
                    raise DatasetError(f"no checksum known for {filename}; refusing to download")
                folder.mkdir(parents=True, exist_ok=True)
                failures = []
                for mirror in urls:
                    url = mirror.rstrip("/") + "/" + filename
                    if not quiet:
                        print(f"downloading {url}", file=sys.stderr, flush=True)
                    try:
                        _fetch(url, folder, filename, md5, timeout, quiet)
                        break
                    except (DatasetError, OSError, http.client.HTTPException, ValueError) as exc:
                        if not quiet:
                            print(f"  failed: {exc}", file=sys.stderr, flush=True)
                        failures.append(f"  - {url}: {exc}")
                else:
                    raise DatasetError(
                        f"could not download {filename} for {name}; tried:\n"
                        + "\n".join(failures)
                        + f"\nCheck the network connection, or set {MIRRORS_ENV} to a "
                        f"mirror, or put the files in {folder} yourself."
                    )
    except BaseException:
        for made in created:  # remove the folders this call made, if they stayed empty
            if made.is_dir() and not any(made.iterdir()):
                made.rmdir()
        raise
    return folder


def _download(name: str, data_dir, quiet: bool) -> Path:
    return download(name, data_dir, quiet=quiet)


# --------------------------------------------------------------------------- intensities


@dataclasses.dataclass(frozen=True)
class IntensitySummary:
    """How the pixel intensities of a set of images (scaled to [0, 1]) are distributed.

    ``frac_mid_of_nonzero`` is the share of non-zero pixels lying strictly between 0.2
    and 0.8: near 0 for nearly binary data (Bernoulli-like targets), large for grey-level
    data.  It is NaN when every pixel is zero.  The histogram covers [0, 1] in equal
    bins (the last bin includes 1).
    """

    n_pixels: int
    frac_zero: float
    frac_one: float
    frac_between: float  # strictly between 0 and 1
    frac_mid: float  # strictly between 0.2 and 0.8
    frac_mid_of_nonzero: float
    hist_counts: tuple[int, ...]
    hist_edges: tuple[float, ...]


def _byte_counts(a: np.ndarray) -> np.ndarray:
    """How often each value 0..255 occurs in the uint8 array ``a``.

    Counted in chunks: np.bincount converts its input to intp, which for a whole
    dataset would mean a temporary eight times its size.
    """
    flat = a.ravel()
    counts = np.zeros(256, dtype=np.int64)
    step = 1 << 18
    for start in range(0, flat.size, step):
        counts += np.bincount(flat[start : start + step], minlength=256)
    return counts


def intensity_summary(images, bins: int = 20) -> IntensitySummary:
    """Summarise the intensity distribution of ``images`` (any shape).

    Accepts uint8 (or other integer) arrays with values 0..255, read as v/255, or float
    arrays with values in [0, 1].  Bin edges are k/bins, a value equal to an edge
    belonging to the bin above it; comparisons are made in the array's own precision, so
    uint8 images and their correctly rounded float32 or float64 copies (as returned by
    :func:`load`) give identical summaries.
    """
    a = np.asarray(images)
    if a.size == 0:
        raise ValueError("intensity_summary needs at least one pixel")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)):
        raise TypeError(f"bins must be an integer, got {bins!r}")
    if bins < 1:
        raise ValueError(f"bins must be positive, got {bins}")
    edges = np.arange(bins + 1) / bins
    n = a.size
    if a.dtype.kind in "ui":
        if a.dtype != np.uint8:
            if a.min() < 0 or a.max() > 255:
                raise ValueError("integer images must have values in 0..255")
            a = a.astype(np.uint8)
        counts = _byte_counts(a)
        zero, one = int(counts[0]), int(counts[255])
        # 0.2 and 0.8 are exactly 51/255 and 204/255, so "strictly inside" is 52..203.
        mid = int(counts[52:204].sum())
        # Exact bin of v/255: floor(v * bins / 255), with 1.0 in the last bin.
        which = np.minimum(np.arange(256) * bins // 255, bins - 1)
        hist = np.bincount(which, weights=counts, minlength=bins)
    elif a.dtype.kind == "f":
        if not (np.all(a >= 0) and np.all(a <= 1)):  # also rejects NaN
            raise ValueError("float images must have values in [0, 1]")
        zero = int(np.count_nonzero(a == 0))
        one = int(np.count_nonzero(a == 1))
        # Python floats are compared in the array's precision, where 0.2 == 51/255.
        mid = int(np.count_nonzero((a > 0.2) & (a < 0.8)))
        # Edges rounded to the array's precision, then widened exactly to float64.
        hist = np.histogram(a, bins=edges.astype(a.dtype).astype(np.float64))[0]
    else:
        raise TypeError(f"images must be uint8 or float, got dtype {a.dtype}")
    nonzero = n - zero
    return IntensitySummary(
        n_pixels=int(n),
        frac_zero=zero / n,
        frac_one=one / n,
        frac_between=(n - zero - one) / n,
        frac_mid=mid / n,
        frac_mid_of_nonzero=mid / nonzero if nonzero else float("nan"),
        hist_counts=tuple(int(c) for c in np.rint(hist).astype(np.int64)),
        hist_edges=tuple(float(e) for e in edges),
    )


# --------------------------------------------------------------------------- user images


@dataclasses.dataclass(frozen=True, eq=False)
class ImageSource:
    """A set of images on disk, opened by :func:`open_images` and read by :meth:`read`.

    ``kind`` is ``"npy"``, ``"npz"``, ``"idx"`` or ``"png"``; ``n`` the number of images,
    ``image_shape`` the shape of one image (``(D,)``, ``(H, W)`` or ``(H, W, C)``) and ``dtype``
    their stored type (uint8 for IDX files and 8-bit PNGs, float32 for other PNGs).  Values are
    as stored: no scaling is applied here.
    """

    path: Path
    kind: str
    n: int
    image_shape: tuple
    dtype: np.dtype
    _array: object = dataclasses.field(default=None, repr=False)

    def read(self, indices=None) -> np.ndarray:
        """The images (all, or those at the sorted ``indices``) as an array ``(k, *image_shape)``.

        A ``.npy`` file is memory-mapped: without ``indices`` the map itself is returned and
        only the rows a caller touches are read from disk.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.npy"
        >>> np.save(path, np.arange(12, dtype=np.uint8).reshape(3, 2, 2))
        >>> src = open_images(path)
        >>> src.read([0, 2])[:, 0, 0]
        array([0, 8], dtype=uint8)
        """
        return self._array if indices is None else self._array[np.asarray(indices)]


def _image_shape_check(path: Path, shape: tuple) -> None:
    if len(shape) not in (2, 3, 4):
        raise DatasetError(f"{path}: expected an array of images (N x D, N x H x W or "
                           f"N x H x W x C), got shape {shape}")


def _dtype_check(path: Path, dtype) -> None:
    if np.dtype(dtype).kind not in "biuf":
        raise DatasetError(f"{path}: images must be numbers (bool, integer or float), got "
                           f"dtype {np.dtype(dtype)}")


def _peek_magic(path: Path) -> int | None:
    """The first four bytes of ``path`` (gunzipped for ``.gz``) as a big-endian integer."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from exc
    return int.from_bytes(head, "big") if len(head) == 4 else None


def _png_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".png")


def _read_png(path: Path) -> np.ndarray:
    import matplotlib.image as mpimg

    try:
        img = np.asarray(mpimg.imread(path, format="png"))
    except Exception as exc:  # Pillow raises many types for a broken file
        raise DatasetError(f"{path}: not a readable PNG ({exc})") from None
    if img.ndim == 3 and img.shape[2] in (2, 4):
        img = img[..., :-1]            # drop the alpha channel
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    return img


def _open_png_folder(folder: Path) -> ImageSource:
    files = _png_files(folder)
    if not files:
        raise DatasetError(f"{folder}: the folder holds no .png files")
    first = _read_png(files[0])
    out = np.empty((len(files), *first.shape), dtype=np.float32)
    for i, path in enumerate(files):
        img = first if i == 0 else _read_png(path)
        if img.shape != first.shape:
            raise DatasetError(f"{path}: image of shape {img.shape}, but {files[0].name} has "
                               f"shape {first.shape}")
        out[i] = img
    # grey images saved as RGB: the channels are equal in every image
    if out.ndim == 4 and all(np.array_equal(out[..., 0], out[..., c])
                             for c in range(1, out.shape[3])):
        out = np.ascontiguousarray(out[..., 0])
    # 8-bit PNGs come back as float32 v/255: keep them as the exact uint8 levels
    levels = np.rint(out * np.float32(255))
    if np.array_equal(levels / np.float32(255), out):
        out = levels.astype(np.uint8)
    return ImageSource(folder, "png", len(files), tuple(out.shape[1:]), out.dtype, _array=out)


def open_images(path) -> ImageSource:
    """Open a set of images for reading: a ``.npy`` or ``.npz`` array, an IDX images file
    (``.gz`` or not) or a folder of PNG files.

    Parameters
    ----------
    path : str or os.PathLike
        * ``.npy``: an array ``N x D``, ``N x H x W`` or ``N x H x W x C`` of numbers
          (memory-mapped, not loaded);
        * ``.npz``: the same, as its only array or as the array named ``images``;
        * an IDX images file (magic 0x00000803; the loader's 28 x 28 images);
        * a folder: every ``*.png`` in it, in name order, all of one shape; an alpha channel is
          dropped, and RGB images whose three channels are equal in every image are read as
          grey.  8-bit PNGs are returned as uint8, others as float32 in [0, 1].  The folder is
          read in full when it is opened.

    Returns
    -------
    ImageSource
        ``n``, ``image_shape``, ``dtype`` and :meth:`ImageSource.read`.

    Raises
    ------
    DatasetError
        (a ValueError) naming ``path`` for a missing or unreadable file, an IDX labels file,
        an array that is not a stack of images, or a file of another kind.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.npz"
    >>> np.savez(path, images=np.zeros((5, 4, 4), dtype=np.float32))
    >>> src = open_images(path)
    >>> src.kind, src.n, src.image_shape, src.dtype.name
    ('npz', 5, (4, 4), 'float32')
    >>> open_images(path.with_suffix(".txt"))
    Traceback (most recent call last):
    ...
    lossanalysis.data.DatasetError: .../x.txt: no such file or folder
    """
    p = Path(path)
    if p.is_dir():
        return _open_png_folder(p)
    if not p.is_file():
        raise DatasetError(f"{p}: no such file or folder")
    name = p.name.lower()
    if name.endswith(".npy"):
        try:
            arr = np.load(p, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise DatasetError(f"{p}: not a readable .npy array ({exc})") from None
        kind = "npy"
    elif name.endswith(".npz"):
        try:
            with np.load(p, allow_pickle=False) as z:
                keys = list(z.files)
                if len(keys) != 1 and "images" not in keys:
                    raise DatasetError(f"{p}: holds {len(keys)} arrays ({', '.join(keys)}); "
                                       "keep one, or name the images 'images'")
                arr = z[keys[0] if len(keys) == 1 else "images"]
        except DatasetError:
            raise
        except (ValueError, OSError, EOFError, zlib.error) as exc:
            raise DatasetError(f"{p}: not a readable .npz archive ({exc})") from None
        kind = "npz"
    else:
        magic = _peek_magic(p)
        if magic == LABELS_MAGIC:
            raise DatasetError(f"{p}: an IDX labels file, not images")
        if magic != IMAGES_MAGIC:
            raise DatasetError(f"{p}: not a .npy/.npz array, an IDX images file (.gz or not) "
                               "or a folder of PNG files")
        arr = _read_idx(p, IMAGES_MAGIC)
        kind = "idx"
    _image_shape_check(p, arr.shape)
    _dtype_check(p, arr.dtype)
    return ImageSource(p, kind, int(arr.shape[0]), tuple(int(s) for s in arr.shape[1:]),
                       arr.dtype, _array=arr)


# --------------------------------------------------------------------------- a study's images
@dataclasses.dataclass(frozen=True, eq=False)
class ImageSet:
    """A user's images as the experiments read them: float32 (n, D) in [0, 1], split into a
    training and a test part (see :func:`load_images`)."""

    name: str
    train: np.ndarray
    test: np.ndarray
    shape: tuple
    split: str
    source: str
    notes: tuple = ()


def _as_unit(x: np.ndarray, scale, path) -> np.ndarray:
    x = np.asarray(x)
    if scale is None:
        scale = 255.0 if x.dtype.kind in "iu" else 1.0
    out = (x.astype(np.float64) / float(scale)).astype(np.float32)
    if out.size and (out.min() < 0 or out.max() > 1):
        raise DatasetError(f"{path}: values lie outside [0, 1] after scaling by 1/{scale:g}")
    return out.reshape(len(out), -1)


def load_images(path, *, scale=None, one_image: bool = False, test_fraction: float = 0.2,
                seed: int = 0, limits=None) -> ImageSet:
    """Read a set of images for a study: an ``.npz`` holding train/test arrays (``x_train`` and
    ``x_test``, or ``train`` and ``test``), or anything :func:`open_images` reads (split into
    training and test images with ``seed``: the last ``test_fraction`` of a fixed permutation
    is the test part), or a folder in the IDX layout of MNIST (its train and t10k files)."""
    p = Path(path)
    name = p.stem if p.is_file() else p.name
    if p.is_dir() and _existing(p, FILES["train"][0]):
        train = _read_idx(_existing(p, FILES["train"][0]), IMAGES_MAGIC)
        test = _read_idx(_existing(p, FILES["test"][0]), IMAGES_MAGIC)
        shape = tuple(int(s) for s in train.shape[1:])
        return ImageSet(name, _as_unit(train, scale, p), _as_unit(test, scale, p), shape,
                        "the folder's train and t10k files", str(path))
    if p.suffix.lower() == ".npz" and p.is_file():
        with np.load(p, allow_pickle=False) as z:
            for a, b in (("x_train", "x_test"), ("train", "test")):
                if a in z.files and b in z.files:
                    tr, te = z[a], z[b]
                    shape = tuple(int(s) for s in tr.shape[1:])
                    return ImageSet(name, _as_unit(tr, scale, p), _as_unit(te, scale, p),
                                    shape, f"the file's {a} and {b} arrays", str(path))
    src = open_images(p)
    x = np.asarray(src.read())
    perm = np.random.default_rng(seed).permutation(len(x))
    n_test = max(1, int(round(test_fraction * len(x))))
    xs = _as_unit(x, scale, p)
    return ImageSet(name, xs[np.sort(perm[n_test:])], xs[np.sort(perm[:n_test])],
                    tuple(src.image_shape), f"drawn: {test_fraction:g} of the images as test "
                    f"images, seed {seed}", str(path))
