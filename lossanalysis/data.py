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
import math
import os
import sys
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ._io import atomic_write
from ._limits import InputError, LimitError, Limits, as_limits

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
    "DataWarning",
    "infer_scale",
    "value_range",
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
#: Bytes inflated per read of a compressed file: never a temporary as large as the data.
_READ_CHUNK = 1 << 20


class DatasetError(InputError):
    """A dataset file is missing, malformed, or could not be downloaded (a ValueError)."""


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


def _read_idx(path: Path, magic: int, *, image_shape=IMAGE_SHAPE, limits=None) -> np.ndarray:
    """Read one IDX file of unsigned bytes into a writable uint8 array, checking its header.

    The declared sizes are checked before anything is allocated: against the file's size (an
    uncompressed file) and against ``limits`` (``array_bytes``; for images also
    ``image_values`` and ``total_values``); gzip data is inflated in bounded chunks and must
    end where the header says.  ``image_shape`` (None: any) is the shape each image must have.
    """
    lim = as_limits(limits)
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
            if magic == IMAGES_MAGIC and image_shape is not None and dims[1:] != image_shape:
                raise DatasetError(
                    f"{path}: images are {dims[1]}x{dims[2]}, expected "
                    f"{image_shape[0]}x{image_shape[1]}"
                )
            expected = math.prod(dims)
            if magic == IMAGES_MAGIC:
                lim.check("image_values", math.prod(dims[1:]), f"{path}: one image")
                lim.check("total_values", expected, f"{path}: the header")
            lim.check("array_bytes", expected, f"{path}: the header")
            if not path.name.endswith(".gz"):
                actual = path.stat().st_size - 4 - 4 * ndim
                if actual != expected:
                    raise DatasetError(
                        f"{path}: payload is {actual} bytes but the header {dims} "
                        f"promises {expected}"
                    )
            out = np.empty(dims, dtype=np.uint8)
            view = memoryview(out.reshape(-1))
            got = 0
            while got < expected:
                n = f.readinto(view[got:min(got + _READ_CHUNK, expected)])
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
    limits=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of MNIST or Fashion-MNIST as ``(images, labels)``.

    ``name`` is one of :data:`DATASETS`, ``split`` one of :data:`SPLITS`.  Images come as
    float32 of shape (n, 784) with values v/255 in [0, 1] (0 and 255 map to exactly 0.0
    and 1.0), or, with ``raw=True``, as the stored uint8 array of shape (n, 28, 28).
    Labels are uint8 in 0..9.

    ``data_dir`` is searched first (see :func:`find_files`).  When nothing is found and
    ``download`` is true, the four standard files are downloaded into
    ``<data_dir or CACHE_ROOT>/<name>/`` first; ``quiet`` silences the progress report.
    ``limits`` (a :class:`~lossanalysis._limits.Limits`, a dict of bounds or None) bounds
    what the files may declare.  Raises :class:`DatasetError` for missing or malformed files.
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

    images = _read_idx(images_path, IMAGES_MAGIC, limits=limits)
    labels = _read_idx(labels_path, LABELS_MAGIC, limits=limits)
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
    try:
        a = np.asarray(images)
    except (TypeError, ValueError):        # ragged rows: NumPy's own message names nothing
        raise ValueError("images must be a regular array of numbers (rows of one length), got "
                         f"{type(images).__name__}") from None
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

#: File name endings read as images in a folder (decoded by matplotlib through Pillow).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: How far outside [0, 1] a float value may lie and still count as rounding (about 8 float32
#: ulps at 1): such values are clipped, with a note, instead of suggesting another scale.
ROUNDING = 1e-6
#: Integer images whose largest value is below this are "far below 255": the scale is taken
#: from their maximum, with a warning (0-16 digits, 0-15 4-bit levels, 0-1 binary images).
LOW_INTEGER_MAX = 64
#: Integer images whose largest value is below this (but at least LOW_INTEGER_MAX) are read as
#: v/255 with a warning that they may use another full scale.
DARK_INTEGER_MAX = 128
#: The standard IDX training and test images files, read as a train/test pair from a folder.
IDX_SPLIT = {"train": FILES["train"][0], "test": FILES["test"][0]}
#: npz member names read as a train/test pair (Keras' mnist.npz, and plain names).
NPZ_SPLITS = (("x_train", "x_test"), ("train", "test"))


class DataWarning(UserWarning):
    """A choice :func:`load_images` made about a user's images (a scale taken from the data,
    values clipped, a 2-D array read as N images): warned once and kept in ``notes``."""


@dataclasses.dataclass(frozen=True, eq=False)
class ImageSource:
    """A set of images on disk, opened by :func:`open_images` and read by :meth:`read`.

    ``kind`` is ``"npy"``, ``"npz"``, ``"idx"`` or ``"images"`` (a folder of PNG/JPEG files);
    ``n`` the number of images, ``image_shape`` the shape of one image (``(D,)``, ``(H, W)`` or
    ``(H, W, C)``) and ``dtype`` their stored type (uint8 for IDX files and 8-bit PNG/JPEG
    images, float32 for other PNGs).  Values are as stored: no scaling is applied here.
    ``notes`` says what was chosen on the reader's behalf (e.g. which member of a train/test
    archive was opened).
    """

    path: Path
    kind: str
    n: int
    image_shape: tuple
    dtype: np.dtype
    notes: tuple = ()
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


def _dtype_check(path, dtype) -> None:
    if np.dtype(dtype).kind not in "biuf":
        raise DatasetError(f"{path}: images must be numbers (bool, integer or float), got "
                           f"dtype {np.dtype(dtype)}")


def _as_images(path, arr, one_image: bool, lim: Limits, notes: list):
    """``arr`` as a stack of images ``(N, ...)``, its shape checked; a 2-D array is N images of
    D values unless ``one_image``, and says so in ``notes``."""
    shape = tuple(int(s) for s in arr.shape)
    _dtype_check(path, arr.dtype)
    if one_image:
        if len(shape) == 3 and shape[2] not in (1, 2, 3, 4):
            raise DatasetError(f"{path}: --one-image reads an H x W or H x W x C array (C of 1 "
                               f"to 4 channels), got shape {shape}")
        if len(shape) not in (2, 3):
            raise DatasetError(f"{path}: --one-image reads an H x W or H x W x C array, got "
                               f"shape {shape}")
        arr = arr.reshape((1, *shape))
        shape = (1, *shape)
    elif len(shape) not in (2, 3, 4):
        raise DatasetError(f"{path}: expected an array of images (N x D, N x H x W or "
                           f"N x H x W x C; one image as H x W with --one-image), got shape "
                           f"{shape}")
    n, d = shape[0], math.prod(shape[1:])
    if n == 0 or d == 0:
        raise DatasetError(f"{path}: holds no image values (shape {shape})")
    lim.check("image_values", d, f"{path}: one image")
    lim.check("total_values", n * d, f"{path}: the array of shape {shape}")
    if len(shape) == 2 and not one_image:
        side = math.isqrt(d)
        shown = f" (shown as {side}x{side})" if side * side == d and d > 1 else ""
        notes.append(f"{path.name}: a 2-D array of shape {shape}, read as {n} images of {d} "
                     f"values{shown}; pass --one-image if it is one image")
    return arr


# ---- image files
_PNG = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 4, 4: 2, 6: 4}      # colour type -> channels (palette: RGBA)
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _image_header(path: Path) -> tuple[str, int, int, int]:
    """``(format, height, width, channels)`` from a PNG's IHDR or a JPEG's frame header, read
    without decoding anything (so a decompression bomb is seen before it goes off)."""
    try:
        with open(path, "rb") as f:
            head = f.read(33)
            if head.startswith(_PNG):
                if len(head) < 33 or head[12:16] != b"IHDR":
                    raise DatasetError(f"{path}: truncated PNG header")
                w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
                colour = head[25]
                if colour not in _PNG_CHANNELS:
                    raise DatasetError(f"{path}: PNG colour type {colour} is not valid")
                if not (h and w):
                    raise DatasetError(f"{path}: a PNG of {w}x{h} pixels holds no image")
                return "png", h, w, _PNG_CHANNELS[colour]
            if head.startswith(b"\xff\xd8"):
                f.seek(2)
                for _ in range(100_000):
                    b = f.read(1)
                    while b and b != b"\xff":          # skip to the next marker
                        b = f.read(1)
                    while b == b"\xff":                 # fill bytes
                        b = f.read(1)
                    if not b:
                        break
                    m = b[0]
                    if m in (0x01, 0xD8) or 0xD0 <= m <= 0xD7:
                        continue
                    if m in (0xD9, 0xDA):
                        break
                    length = int.from_bytes(f.read(2), "big")
                    if m in _SOF:
                        seg = f.read(6)
                        if len(seg) < 6:
                            break
                        h, w = int.from_bytes(seg[1:3], "big"), int.from_bytes(seg[3:5], "big")
                        if not (h and w and 1 <= seg[5] <= 4):
                            raise DatasetError(f"{path}: a JPEG frame of {w}x{h} pixels and "
                                               f"{seg[5]} components cannot be an image")
                        return "jpeg", h, w, seg[5]
                    if length < 2:
                        break
                    f.seek(length - 2, 1)
                raise DatasetError(f"{path}: a JPEG without a readable frame header")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    raise DatasetError(f"{path}: not a PNG or JPEG image (by its first bytes)")


def _image_files(folder: Path, lim: Limits) -> list[Path]:
    """The PNG and JPEG files under ``folder`` (subfolders included, hidden ones and symbolic
    links to folders skipped), sorted by their path relative to it."""
    found, seen = [], 0
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        seen += len(dirs) + len(names)
        if seen > 10 * lim.files:
            raise LimitError(f"{folder}: more than {10 * lim.files:,} entries searched for images "
                             f"(10 x the bound files = {lim.files:,}; raise it with --limit "
                             "files=N)")
        for name in names:
            if not name.startswith(".") and name.lower().endswith(IMAGE_SUFFIXES):
                found.append(Path(root) / name)
        lim.check("files", len(found), f"{folder}: the folder")
    return sorted(found, key=lambda p: p.relative_to(folder).parts)


def _decode(path: Path, fmt: str, h: int, w: int) -> np.ndarray:
    import matplotlib.image as mpimg

    try:
        with warnings.catch_warnings():
            # Pillow's decompression-bomb warning: the header was checked against our bound
            warnings.simplefilter("ignore")
            img = np.asarray(mpimg.imread(path, format=fmt))
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for a broken file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(f"{path}: not a readable {fmt.upper()} ({reason})") from None
    if img.shape[:2] != (h, w):
        raise DatasetError(f"{path}: decoded as {img.shape[1]}x{img.shape[0]} pixels, but its "
                           f"header says {w}x{h}")
    if img.dtype == np.uint8:
        img = img.astype(np.float32) / np.float32(255)
    if img.ndim == 3 and img.shape[2] in (2, 4):
        img = img[..., :-1]            # drop the alpha channel
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    return img


def _open_image_folder(folder: Path, lim: Limits) -> ImageSource:
    files = _image_files(folder, lim)
    if not files:
        raise DatasetError(f"{folder}: the folder holds no .png or .jpg files (subfolders "
                           "included) and no IDX files")
    headers = [_image_header(p) for p in files]
    fmt0, h0, w0, _ = headers[0]
    total = 0
    for path, (fmt, h, w, c) in zip(files, headers):
        lim.check("image_values", h * w * c, f"{path}: its header ({w}x{h}, {c} channels)")
        if (h, w) != (h0, w0):
            raise DatasetError(f"{path}: image of {w}x{h} pixels, but {files[0].name} has "
                               f"{w0}x{h0}")
        total += h * w * c
    lim.check("total_values", total, f"{folder}: its {len(files)} images")
    first = _decode(files[0], fmt0, h0, w0)
    out = np.empty((len(files), *first.shape), dtype=np.float32)
    for i, (path, (fmt, h, w, _)) in enumerate(zip(files, headers)):
        img = first if i == 0 else _decode(path, fmt, h, w)
        if img.shape != first.shape:
            raise DatasetError(f"{path}: image of shape {img.shape}, but {files[0].name} has "
                               f"shape {first.shape}")
        out[i] = img
    # grey images saved as RGB: the channels are equal in every image
    if out.ndim == 4 and all(np.array_equal(out[..., 0], out[..., c])
                             for c in range(1, out.shape[3])):
        out = np.ascontiguousarray(out[..., 0])
    # 8-bit images come back as float32 v/255: keep them as the exact uint8 levels
    levels = np.rint(out * np.float32(255))
    if np.array_equal(levels / np.float32(255), out):
        out = levels.astype(np.uint8)
    return ImageSource(folder, "images", len(files), tuple(out.shape[1:]), out.dtype,
                       _array=out)


# ---- arrays
def _peek_magic(path: Path) -> int | None:
    """The first four bytes of ``path`` (gunzipped for ``.gz``) as a big-endian integer."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from exc
    return int.from_bytes(head, "big") if len(head) == 4 else None


def _npz_arrays(p: Path, lim: Limits) -> tuple[dict, str | None]:
    """The image arrays of an ``.npz``: ``({"train": a, "test": b}, "x_train/x_test")`` for a
    train/test archive, ``({"images": a}, None)`` otherwise."""
    from ._limits import npz_members, read_member

    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, OverflowError) as exc:
        raise DatasetError(f"{p}: not a readable .npz archive ({str(exc).splitlines()[0]})") \
            from None
    with zf:
        try:
            names = [i.filename[:-4] if i.filename.endswith(".npy") else i.filename
                     for i in zf.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, ValueError) as exc:
            raise DatasetError(f"{p}: not a readable .npz archive ({exc})") from None
        pair = next(((a, b) for a, b in NPZ_SPLITS if a in names and b in names), None)
        if pair is not None:
            wanted = {"train": pair[0], "test": pair[1]}
        elif "images" in names:
            wanted = {"images": "images"}
        elif len(names) == 1:
            wanted = {"images": names[0]}
        else:
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise DatasetError(f"{p}: holds {len(names)} arrays ({shown}); keep one, or name the "
                               "images 'images', or the two sets 'x_train' and 'x_test' (or "
                               "'train' and 'test')")
        members = npz_members(zf, str(p), lim, error=DatasetError, names=set(wanted.values()))
        for key, name in wanted.items():
            if name not in members:
                raise DatasetError(f"{p}: member {name!r} is not a .npy array")
        total = sum(math.prod(members[n][1].shape) for n in wanted.values())
        lim.check("total_values", total, f"{p}: its arrays")
        arrays = {key: read_member(zf, *members[name], str(p), error=DatasetError)
                  for key, name in wanted.items()}
    return arrays, (f"{pair[0]}/{pair[1]}" if pair else None)


def _idx_folder(folder: Path) -> dict | None:
    found = {split: _existing(folder, base) for split, base in IDX_SPLIT.items()}
    return found if found["train"] is not None else None


def _open_sets(path, *, one_image: bool = False, limits=None) -> dict:
    """Everything :func:`open_images` and :func:`load_images` read: ``{"train": array,
    "test": array or None, "kind", "split": how the test set was given (or None), "notes",
    "path"}``; arrays as stored, ``(N, ...)``."""
    lim = as_limits(limits)
    p = Path(path)
    notes: list[str] = []
    split = None
    test = None
    if p.is_dir():
        idx = _idx_folder(p)
        if idx is not None:
            kind = "idx"
            train = _read_idx(idx["train"], IMAGES_MAGIC, image_shape=None, limits=lim)
            if idx["test"] is not None:
                test = _read_idx(idx["test"], IMAGES_MAGIC, image_shape=None, limits=lim)
                split = f"{idx['train'].name} / {idx['test'].name}"
        else:
            src = _open_image_folder(p, lim)
            return {"train": src.read(), "test": None, "kind": src.kind, "split": None,
                    "notes": notes, "path": p}
    elif not p.is_file():
        raise DatasetError(f"{p}: no such file or folder")
    else:
        name = p.name.lower()
        if name.endswith(".npy"):
            from ._limits import read_npy
            kind = "npy"
            try:
                train = read_npy(p, str(p), lim, error=DatasetError)
            except OSError as exc:
                raise DatasetError(f"{p}: cannot read ({exc.strerror or exc})") from None
        elif name.endswith(".npz"):
            kind = "npz"
            arrays, split = _npz_arrays(p, lim)
            train = arrays.get("train", arrays.get("images"))
            test = arrays.get("test")
        elif name.endswith(IMAGE_SUFFIXES):
            if not one_image:
                raise DatasetError(f"{p}: a single image file; pass --one-image to read it as "
                                   "one image, or give the folder holding the images")
            fmt, h, w, c = _image_header(p)
            lim.check("image_values", h * w * c, f"{p}: its header ({w}x{h}, {c} channels)")
            img = _decode(p, fmt, h, w)
            return {"train": img[None], "test": None, "kind": "images", "split": None,
                    "notes": notes, "path": p}
        else:
            magic = _peek_magic(p)
            if magic == LABELS_MAGIC:
                raise DatasetError(f"{p}: an IDX labels file, not images")
            if magic != IMAGES_MAGIC:
                raise DatasetError(f"{p}: not a .npy/.npz array, an IDX images file (.gz or "
                                   "not), a PNG/JPEG image or a folder of them")
            train = _read_idx(p, IMAGES_MAGIC, image_shape=None, limits=lim)
            kind = "idx"
    train = _as_images(p, train, one_image, lim, notes)
    if test is not None:
        test = _as_images(p, test, False, lim, [])
        if test.shape[1:] != train.shape[1:] or test.dtype.kind != train.dtype.kind:
            raise DatasetError(f"{p}: the test images ({test.shape[1:]}, {test.dtype}) do not "
                               f"match the training images ({train.shape[1:]}, {train.dtype})")
        lim.check("total_values", train.size + test.size, f"{p}: the two sets")
    return {"train": train, "test": test, "kind": kind, "split": split, "notes": notes,
            "path": p}


def open_images(path, *, one_image: bool = False, limits=None) -> ImageSource:
    """Open a set of images for reading: a ``.npy`` or ``.npz`` array, an IDX images file
    (``.gz`` or not), or a folder of PNG/JPEG files or of IDX files.

    Parameters
    ----------
    path : str or os.PathLike
        * ``.npy``: an array ``N x D``, ``N x H x W`` or ``N x H x W x C`` of numbers
          (memory-mapped, not loaded);
        * ``.npz``: the same, as its only array or as the array named ``images``; of a
          train/test archive (``x_train`` and ``x_test``, as Keras' ``mnist.npz``, or ``train``
          and ``test``) the training images;
        * an IDX images file (magic 0x00000803, N x H x W unsigned bytes);
        * a folder holding ``train-images-idx3-ubyte[.gz]`` (the standard IDX layout): its
          training images;
        * any other folder: every ``*.png``, ``*.jpg`` and ``*.jpeg`` in it and its subfolders,
          in path order, all of one size; an alpha channel is dropped, and RGB images whose
          three channels are equal in every image are read as grey.  8-bit images are
          returned as uint8, others as float32 in [0, 1].  The images are read in full when
          the folder is opened;
        * with ``one_image``, a single PNG/JPEG file, or a 2-D (H x W) or 3-D (H x W x C)
          array, as one image.
    one_image : bool
        Read a 2-D array as one H x W image (default: N images of D values, said in
        ``notes``).
    limits : Limits, dict or None
        The bounds (:class:`lossanalysis._limits.Limits`) checked before anything is read:
        values per image, values in all, bytes of an array or archive member, files in a
        folder.

    Returns
    -------
    ImageSource
        ``n``, ``image_shape``, ``dtype``, ``notes`` and :meth:`ImageSource.read`.

    Raises
    ------
    DatasetError
        (a ValueError) naming ``path`` for a missing or unreadable file, an IDX labels file,
        an array that is not a stack of images, or a file of another kind (a text file renamed
        ``.npy`` is called a text file); :class:`~lossanalysis._limits.LimitError` (a
        ValueError too) for an input past a bound, naming the bound.

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
    sets = _open_sets(path, one_image=one_image, limits=limits)
    arr = sets["train"]
    notes = list(sets["notes"])
    if sets["split"] is not None:
        notes.append(f"{sets['path'].name}: the training images of its train/test pair "
                     f"({sets['split']})")
    return ImageSource(sets["path"], sets["kind"], int(arr.shape[0]),
                       tuple(int(s) for s in arr.shape[1:]), arr.dtype, tuple(notes),
                       _array=arr)


# ---- values and scale
def value_range(images, *, name: str = "data", block_values: int = 1 << 22):
    """The smallest and largest value of ``images`` (an array ``(N, ...)``, possibly
    memory-mapped), read in blocks of about ``block_values`` values; ``DatasetError`` naming the
    first image holding NaN or an infinity.

    >>> value_range(np.array([[0, 3], [16, 2]], dtype=np.uint8))
    (0, 16)
    """
    arr = images
    n = len(arr)
    d = max(1, math.prod(arr.shape[1:]))
    rows = max(1, block_values // d)
    lo = hi = None
    for start in range(0, n, rows):
        block = np.asarray(arr[start:start + rows]).reshape(-1)
        if block.dtype.kind == "f" and not np.isfinite(block).all():
            bad = int(np.flatnonzero(~np.isfinite(block))[0])
            what = "NaN" if np.isnan(block[bad]) else "an infinite value"
            raise DatasetError(f"{name} holds {what} (image {start + bad // d}, value "
                               f"{bad % d})")
        b_lo, b_hi = block.min(), block.max()
        lo = b_lo if lo is None else min(lo, b_lo)
        hi = b_hi if hi is None else max(hi, b_hi)
    if lo is None:
        raise DatasetError(f"{name} holds no images")
    cast = bool if arr.dtype.kind == "b" else int if arr.dtype.kind in "iu" else float
    return cast(lo), cast(hi)


def infer_scale(lo, hi, kind: str, scale=None, *, name: str = "data"):
    """The divisor that maps stored values in [``lo``, ``hi``] (of dtype kind ``kind``: ``b``,
    ``i``, ``u`` or ``f``) to intensities in [0, 1], and the notes that say what was chosen.

    Never a silent guess: with ``scale`` None, bool images are 0/1; integers up to 255 are
    8-bit levels v/255 (with a warning when the brightest is below
    :data:`DARK_INTEGER_MAX`), but integers whose maximum is below :data:`LOW_INTEGER_MAX`
    (0-16 digits, 0-1 binary) are divided by that maximum, with a warning naming ``--scale
    255``; integers above 255 need ``--scale``; floats are taken as they are, values within
    :data:`ROUNDING` outside [0, 1] are clipped with a note, floats further above 1 need
    ``--scale``.  Constant images (every value equal) are refused: nothing can be learned or
    analysed from them.

    Returns
    -------
    (scale, notes, clip) : float, list of str, bool
        ``clip``: values within :data:`ROUNDING` outside [0, 1] must be clipped.

    Raises
    ------
    DatasetError
        One line naming ``name`` and the flag to pass.

    Examples
    --------
    >>> infer_scale(0, 16, "u")[:2]
    (16.0, ['data: integer values 0..16, far below 255: read as v/16 (the largest value as full intensity); pass --scale 255 if they are 8-bit levels'])
    >>> infer_scale(0.0, 1.0000001, "f")[0]
    1.0
    >>> infer_scale(0.0, 254.0, "f")
    Traceback (most recent call last):
    ...
    lossanalysis.data.DatasetError: data: float values up to 254 lie outside [0, 1]; pass --scale 255 if they are 8-bit levels stored as floats (or --scale N for full intensity N)
    """
    notes: list[str] = []
    clip = False
    if kind == "b":
        if scale is not None and scale != 1:
            raise DatasetError(f"{name}: boolean images are 0 and 1; --scale does not apply")
        scale = 1.0
    elif scale is not None:
        scale = float(scale)
        if not (math.isfinite(scale) and scale > 0):
            raise DatasetError(f"{name}: --scale must be a finite number > 0, got {scale!r}")
        if lo < 0:
            raise DatasetError(f"{name}: values down to {lo:g} lie outside [0, 1]; intensities "
                               "must be >= 0")
        top = hi / scale
        if top > 1 + ROUNDING:
            raise DatasetError(f"{name}: values divided by {scale:g} must lie in [0, 1]; the "
                               f"largest, {hi:g}, gives {top:g}; pass --scale {hi:g} or larger")
        clip = top > 1
    elif kind in "iu":
        if lo < 0:
            raise DatasetError(f"{name}: integer values down to {lo} lie outside [0, 1]; "
                               "intensities must be >= 0")
        if hi > 255:
            raise DatasetError(f"{name}: integer values up to {hi} exceed 255; pass --scale N "
                               "with N the full-scale value (65535 for 16-bit, 4095 for "
                               "12-bit, 1023 for 10-bit levels)")
        if 0 < hi < LOW_INTEGER_MAX:
            scale = float(hi)
            notes.append(f"{name}: integer values {lo}..{hi}, far below 255: read as v/{hi} "
                         "(the largest value as full intensity); pass --scale 255 if they are "
                         "8-bit levels")
        else:
            scale = 255.0
            if LOW_INTEGER_MAX <= hi < DARK_INTEGER_MAX:
                notes.append(f"{name}: the brightest value is {hi} of 255: read as v/255 "
                             f"(8-bit levels); pass --scale {hi} if {hi} is full intensity")
    else:
        if lo < -ROUNDING:
            raise DatasetError(f"{name}: values down to {lo:g} lie outside [0, 1]; intensities "
                               "must be >= 0")
        if hi > 1 + ROUNDING:
            hint = (f"pass --scale 255 if they are 8-bit levels stored as floats (or --scale N "
                    "for full intensity N)" if hi <= 255 + ROUNDING else
                    f"pass --scale N with N the full-scale value (at least {hi:g})")
            raise DatasetError(f"{name}: float values up to {hi:g} lie outside [0, 1]; {hint}")
        scale = 1.0
        if lo < 0 or hi > 1:
            clip = True
            notes.append(f"{name}: values between {lo!r} and {hi!r} lie outside [0, 1] by "
                         f"rounding only (at most {ROUNDING:g}): clipped to [0, 1]")
    if lo == hi:
        level = lo / scale
        what = "0 (all black)" if level == 0 else f"{level:g}"
        raise DatasetError(f"{name}: every value is {what}: the images are constant, so there "
                           "is nothing to learn or analyse")
    return scale, notes, clip


# ---- the loader
@dataclasses.dataclass(frozen=True, eq=False)
class ImageSet:
    """A user's images, ready to train on: what :func:`load_images` returns.

    Attributes
    ----------
    name : str
        From the file or folder name (``digits`` for ``digits.npy``); a user's string: escape
        it (:mod:`lossanalysis._text`) before showing it.
    train, test : numpy.ndarray
        float32 arrays ``(n, D)`` of intensities in [0, 1], read-only.
    shape : tuple
        The shape of one image: ``(H, W)`` or ``(H, W, C)``; ``(D,)`` for rows of ``D`` values
        that are not a square.
    split : str
        How train and test were obtained: given by the file (which members or files), or drawn
        (the fraction and the seed).
    source : str
        The path read, and what it was (``npy``, ``npz``, ``idx``, ``images``).
    scale : float
        The divisor applied to the stored values.
    notes : tuple of str
        The choices made on the caller's behalf (each also warned as a :class:`DataWarning`).
    """
    name: str
    train: np.ndarray = dataclasses.field(repr=False)
    test: np.ndarray = dataclasses.field(repr=False)
    shape: tuple
    split: str
    source: str
    scale: float = 1.0
    notes: tuple = ()

    @property
    def n_values(self) -> int:
        """Values per image, D."""
        return int(self.train.shape[1])


def _display_name(p: Path) -> str:
    name = p.name
    for end in (".gz", ".npy", ".npz", ".png", ".jpg", ".jpeg"):
        if name.lower().endswith(end):
            name = name[: -len(end)]
    return name or p.name


def _to_unit(src, indices, scale: float, clip: bool, d: int, block_values: int = 1 << 22):
    """Rows ``indices`` (sorted; None: all) of ``src`` as float32 ``(k, d)`` values / scale."""
    n = len(src) if indices is None else len(indices)
    out = np.empty((n, d), dtype=np.float32)
    rows = max(1, block_values // max(d, 1))
    exact = np.dtype(src.dtype) == np.uint8 and scale == 255.0
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        part = src[start:stop] if indices is None else src[indices[start:stop]]
        part = np.asarray(part).reshape(stop - start, d)
        if exact:   # correctly rounded v/255, as load() gives
            np.divide(part, np.float32(255), out=out[start:stop], dtype=np.float32)
        else:
            out[start:stop] = part.astype(np.float64) / scale
    if clip:
        np.clip(out, 0, 1, out=out)
    return out


def load_images(path, *, scale=None, one_image: bool = False, test_fraction: float = 0.2,
                seed: int = 0, limits=None) -> ImageSet:
    """Read a user's images for training: train and test sets of intensities in [0, 1].

    Parameters
    ----------
    path : str or os.PathLike
        Anything :func:`open_images` reads: a ``.npy``/``.npz`` array, an IDX images file, a
        folder of PNG/JPEG files (subfolders included) or a folder in the standard IDX layout.
        Train and test sets given by the file are kept: an ``.npz`` with ``x_train`` and
        ``x_test`` (Keras' ``mnist.npz``) or ``train`` and ``test``, a folder holding
        ``train-images-idx3-ubyte[.gz]`` and ``t10k-images-idx3-ubyte[.gz]``.  Anything else is
        split at random (``test_fraction``, ``seed``).
    scale : float, optional
        Divide the stored values by this (the command lines' ``--scale``).  Default: chosen
        by :func:`infer_scale`, which warns whenever it takes the scale from the data and
        refuses what it cannot decide (integers above 255, floats above 1).
    one_image : bool
        A 2-D array (or a single image file) is one image, not N images of D values (the
        command lines' ``--one-image``).  One image cannot be split: it is refused here.
    test_fraction : float
        Share of the images drawn for the test set when the file gives none, in [0, 1)
        (default 0.2; at least one test image when it is above 0).
    seed : int
        Seed of that draw (``numpy.random.default_rng``); the same seed, the same split.
    limits : Limits, dict or None
        Bounds checked before anything is read or decoded (see :mod:`lossanalysis._limits`).

    Returns
    -------
    ImageSet

    Raises
    ------
    DatasetError
        A ValueError with one line naming the input: unreadable, not images, out of range,
        constant, or a bound exceeded (:class:`~lossanalysis._limits.LimitError`).

    Warns
    -----
    DataWarning
        Each note of the result (a scale taken from the data, values clipped, a 2-D array read
        as N images).

    Examples
    --------
    >>> import pathlib, tempfile, warnings
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "digits.npy"
    >>> rng = np.random.default_rng(0)
    >>> np.save(path, rng.integers(0, 17, size=(50, 8, 8)))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     s = load_images(path)
    >>> s.name, s.train.shape, s.test.shape, s.shape, s.scale
    ('digits', (40, 64), (10, 64), (8, 8), 16.0)
    >>> s.split
    'drawn: 10 of 50 images for test (test_fraction 0.2, seed 0)'
    >>> print(caught[0].message)
    digits.npy: integer values 0..16, far below 255: read as v/16 (the largest value as full intensity); pass --scale 255 if they are 8-bit levels
    """
    f = test_fraction
    if isinstance(f, bool) or not isinstance(f, (int, float)) or not (0 <= f < 1):
        raise ValueError(f"test_fraction must be a number in [0, 1), got {f!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float))):
        raise ValueError(f"scale must be a number > 0 or None, got {scale!r}")
    sets = _open_sets(path, one_image=one_image, limits=limits)
    p = sets["path"]
    label = p.name
    train, test = sets["train"], sets["test"]
    notes = list(sets["notes"])
    lo, hi = value_range(train, name=label)
    if test is not None:
        t_lo, t_hi = value_range(test, name=label)
        lo, hi = min(lo, t_lo), max(hi, t_hi)
    chosen, more, clip = infer_scale(lo, hi, train.dtype.kind, scale, name=label)
    notes += more
    n, d = int(train.shape[0]), math.prod(train.shape[1:])
    if test is not None:
        x_train = _to_unit(train, None, chosen, clip, d)
        x_test = _to_unit(test, None, chosen, clip, d)
        split = f"given by the file: {sets['split']}"
    else:
        if n < 2:
            raise DatasetError(f"{label}: holds one image; a training and a test set need two "
                               "or more")
        n_test = 0 if f == 0 else min(n - 1, max(1, round(f * n)))
        order = np.random.default_rng(seed).permutation(n)
        test_idx, train_idx = np.sort(order[:n_test]), np.sort(order[n_test:])
        x_train = _to_unit(train, train_idx, chosen, clip, d)
        x_test = _to_unit(train, test_idx, chosen, clip, d)
        split = (f"drawn: {n_test} of {n} images for test (test_fraction {f:g}, seed {seed})")
    shape = tuple(int(s) for s in train.shape[1:])
    if len(shape) == 1:
        side = math.isqrt(d)
        shape = (side, side) if side * side == d and d > 1 else (d,)
    elif len(shape) == 3 and shape[2] == 1:
        shape = shape[:2]
    for arr in (x_train, x_test):
        arr.flags.writeable = False
    for note in notes:
        warnings.warn(note, DataWarning, stacklevel=2)
    return ImageSet(name=_display_name(p), train=x_train, test=x_test, shape=shape,
                    split=split, source=f"{p} ({sets['kind']})", scale=chosen,
                    notes=tuple(notes))
