"""The cost bounds of every input, and the readers that check them before doing the work.

A file a user hands over may claim anything: a PNG header of 50,000 x 50,000 pixels in 2 MB, a
zip member that inflates a thousandfold, an IDX header promising 4 GB, a ``.npy`` shape of
(-1, 784), a JSON document nested ten thousand deep.  Every reader of the package checks what a
file *declares* (image header, zip central directory, ``.npy`` header, IDX sizes, the file's
own size) against a :class:`Limits` bound before it allocates or decodes anything, and reads
compressed data in bounded chunks, so that a hostile or careless input ends in one line naming
the input and the bound, never in gigabytes or a traceback.

The bounds are generous defaults (MNIST's 70,000 images of 784 values use a fifth of
``total_values``); a user raises one with ``Limits(name=...)`` in Python or ``--limit NAME=N``
on a command line (:func:`parse_limit`).

Examples
--------
>>> Limits().total_values
268435456
>>> Limits().check("image_values", 50_000 * 50_000, "big.png: one image")
Traceback (most recent call last):
...
lossanalysis._limits.LimitError: big.png: one image has 2,500,000,000 values, above the bound image_values = 16,777,216 (raise it with --limit image_values=N)
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["Limits", "InputError", "LimitError", "as_limits", "DEFAULT", "parse_limit", "read_bytes", "load_json",
           "json_depth", "NpyHeader", "npy_header", "read_npy", "npz_members", "read_member",
           "readinto_capped"]


class InputError(ValueError):
    """A file is not what it claims to be, or cannot be read; the message names it."""


class LimitError(InputError):
    """An input declares or holds more than a bound of :class:`Limits` allows."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """The bounds every reader checks before working.  Each is an int >= 1.

    Attributes
    ----------
    image_values : int
        Values (pixels x channels) of one image, read from its header before decoding
        (default 2**24: 4096 x 4096 grey).
    total_values : int
        Values of a whole set of images, N x D (default 2**28, about 1 GB as float32).
    array_bytes : int
        Bytes of one stored array as it will sit in memory: a ``.npy`` file, an ``.npz`` member
        (its uncompressed size), an IDX payload (default 2**31).
    files : int
        Image files in a folder, its subfolders included (default 100,000).
    json_bytes, json_depth : int
        Size and nesting of a JSON document (reports, checkpoint metadata; default 64 MiB and
        64 levels).
    parameters : int
        Parameters of a model rebuilt from a checkpoint (default 2**25, 128 MiB as float32).
    analysis_values : int
        Values ``advise`` analyses (N x D) before it asks for ``--max-images`` (default 2**26:
        the MNIST training set is 47 million).
    """
    image_values: int = 2 ** 24
    total_values: int = 2 ** 28
    array_bytes: int = 2 ** 31
    files: int = 100_000
    json_bytes: int = 64 * 2 ** 20
    json_depth: int = 64
    parameters: int = 2 ** 25
    analysis_values: int = 2 ** 26

    def __post_init__(self):
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"limits: {f.name} must be an integer >= 1, got {v!r}")

    def check(self, name: str, value: int, what: str) -> None:
        """Raise :class:`LimitError` ``"<what> has <value> ..., above the bound <name>"`` when
        ``value`` exceeds the bound ``name``."""
        bound = getattr(self, name)
        if value > bound:
            unit = {"array_bytes": "bytes", "json_bytes": "bytes", "files": "files",
                    "json_depth": "levels of nesting", "parameters": "parameters"}.get(
                        name, "values")
            raise LimitError(f"{what} has {value:,} {unit}, above the bound {name} = "
                             f"{bound:,} (raise it with --limit {name}=N)")


#: The default bounds.
DEFAULT = Limits()


def as_limits(limits) -> Limits:
    """``limits`` as a :class:`Limits`: None gives :data:`DEFAULT`, a dict its overrides."""
    if limits is None:
        return DEFAULT
    if isinstance(limits, Limits):
        return limits
    if isinstance(limits, dict):
        unknown = sorted(set(limits) - {f.name for f in dataclasses.fields(Limits)})
        if unknown:
            raise ValueError(f"limits: unknown bound {unknown[0]!r}; known: "
                             + ", ".join(f.name for f in dataclasses.fields(Limits)))
        return dataclasses.replace(DEFAULT, **limits)
    raise ValueError(f"limits must be a Limits, a dict or None, got {type(limits).__name__}")


def parse_limit(text: str) -> tuple[str, int]:
    """``"total_values=1e9"`` -> ``("total_values", 1000000000)``: one ``--limit`` setting.

    >>> parse_limit("files=200000")
    ('files', 200000)
    >>> parse_limit("speed=3")
    Traceback (most recent call last):
    ...
    ValueError: unknown bound 'speed'; known: image_values, total_values, array_bytes, files, json_bytes, json_depth, parameters, analysis_values
    """
    name, sep, value = str(text).partition("=")
    names = [f.name for f in dataclasses.fields(Limits)]
    if not sep:
        raise ValueError(f"expected NAME=N such as total_values=1000000000, got {text!r}")
    if name not in names:
        raise ValueError(f"unknown bound {name!r}; known: {', '.join(names)}")
    try:
        number = float(value)
        n = int(number)
    except (ValueError, OverflowError):
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}") from None
    if n != number or n < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return name, n


# ------------------------------------------------------------------------------ plain bytes
def read_bytes(path, what: str, limits: Limits | None = None, *,
               bound: str = "json_bytes") -> bytes:
    """The content of ``path``, refused (:class:`LimitError`) past the bound ``bound`` of
    ``limits``, whether the file says its size (a regular file: checked before reading) or not
    (a pipe, ``/dev/zero``: read with a cap)."""
    lim = as_limits(limits)
    cap = getattr(lim, bound)
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if stat.S_ISREG(st.st_mode):
            lim.check(bound, st.st_size, what)
        data = f.read(cap + 1)
    if len(data) > cap:
        raise LimitError(f"{what} has more than {cap:,} bytes, above the bound {bound} = "
                         f"{cap:,} (raise it with --limit {bound}=N)")
    return data


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in the JSON text ``data`` (strings skipped),
    counted in one vectorized pass, without parsing.

    >>> json_depth(b'{"a": [1, [2, "]]]"]]}')
    3
    """
    bare = np.frombuffer(_JSON_STRING.sub(b'""', data), dtype=np.uint8)
    if bare.size == 0:
        return 0
    step = (np.isin(bare, (ord("["), ord("{"))).astype(np.int64)
            - np.isin(bare, (ord("]"), ord("}"))))
    return int(np.cumsum(step).max(initial=0))


def load_json(path, what: str | None = None, limits: Limits | None = None):
    """Parse the JSON file ``path`` after checking its size and nesting against ``limits``
    (``json_bytes``, ``json_depth``).  ``ValueError`` (one line naming ``what``, default the
    path; :class:`InputError`) for a file too large, too deep, unreadable or not JSON.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "deep.json"
    >>> _ = p.write_text("[" * 100 + "]" * 100)
    >>> load_json(p, "deep.json")
    Traceback (most recent call last):
    ...
    lossanalysis._limits.LimitError: deep.json has 100 levels of nesting, above the bound json_depth = 64 (raise it with --limit json_depth=N)
    """
    lim = as_limits(limits)
    what = what or str(path)
    try:
        data = read_bytes(path, what, lim)
    except FileNotFoundError:
        raise InputError(f"{what}: does not exist") from None
    except OSError as exc:
        raise InputError(f"{what}: cannot read ({exc.strerror or exc})") from None
    lim.check("json_depth", json_depth(data), what)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{what}: not UTF-8 text, so not JSON") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"{what}: not valid JSON ({str(exc).splitlines()[0]})") from None


# ------------------------------------------------------------------------------ .npy, .npz
@dataclasses.dataclass(frozen=True)
class NpyHeader:
    """What a ``.npy`` header declares: ``shape``, ``dtype``, ``fortran`` order, the byte
    ``offset`` of the data and its size ``nbytes``."""
    shape: tuple
    dtype: np.dtype
    fortran: bool
    offset: int
    nbytes: int


def _describe_start(head: bytes) -> str:
    """What a file that is not a ``.npy`` array looks like, from its first bytes."""
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (an .npz?)"
    if head.startswith(b"\x89PNG"):
        return "a PNG image"
    if head.startswith(b"\xff\xd8\xff"):
        return "a JPEG image"
    if head.startswith(b"\x1f\x8b"):
        return "gzip-compressed data"
    if head[:1] in (b"\x80",) or head.startswith(b"(dp") or head.startswith(b"(lp"):
        return "a Python pickle"
    if not head:
        return "an empty file"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data of another kind"
    if all(c.isprintable() or c in "\r\n\t" for c in text):
        return "a text file"
    return "binary data of another kind"


def npy_header(f, what: str, *, error=InputError) -> NpyHeader:
    """Read and check the header of the ``.npy`` data at the start of the binary file ``f``.

    Refused (``error``, one line naming ``what``): not a ``.npy`` (and what it looks like
    instead: a text file, a pickle, a zip, ...), a malformed header, a shape with a negative
    or non-integer size, an object or structured dtype (it would need pickle).
    """
    head = f.read(6)
    if head != b"\x93NUMPY":
        more = head + f.read(58)
        raise error(f"{what}: not a NumPy .npy array (written by numpy.save): it is "
                    f"{_describe_start(more)}")
    try:
        major, minor = np.lib.format.read_magic(io.BytesIO(head + f.read(2)))
        reader = (np.lib.format.read_array_header_1_0 if major == 1
                  else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = reader(f)
        offset = f.tell()
    except (ValueError, TypeError, SyntaxError, OverflowError, EOFError, KeyError) as exc:
        raise error(f"{what}: malformed .npy header ({str(exc).splitlines()[0]})") from None
    if not (isinstance(shape, tuple)
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)):
        raise error(f"{what}: the .npy header declares the shape {shape!r}; sizes must be "
                    "whole numbers >= 0")
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise error(f"{what}: holds {'Python objects (pickled data)' if dtype.hasobject else 'records'}"
                    f" of dtype {dtype}, not an array of numbers")
    n = 1
    for s in shape:
        n *= s
    return NpyHeader(shape, dtype, bool(fortran), int(offset), n * dtype.itemsize)


def readinto_capped(f, out: np.ndarray, what: str, *, error=InputError,
                    chunk: int = 1 << 20) -> None:
    """Fill the C-contiguous array ``out`` from ``f`` in chunks (never a temporary as large as
    the array), then check that ``f`` holds nothing more."""
    view = memoryview(out.reshape(-1).view(np.uint8))
    got, total = 0, view.nbytes
    while got < total:
        n = f.readinto(view[got:min(got + chunk, total)])
        if not n:
            raise error(f"{what}: the data ends after {got:,} of the {total:,} bytes its header "
                        "promises")
        got += n
    if f.read(1):
        raise error(f"{what}: holds more data than the {total:,} bytes its header promises")


def _limit_array(lim: Limits, h: NpyHeader, what: str) -> None:
    lim.check("array_bytes", h.nbytes, what)


def read_npy(path, what: str, limits: Limits | None = None, *, error=InputError,
             mmap: bool = True):
    """The array in the ``.npy`` file ``path``, its header checked against the file's size and
    ``limits`` first; memory-mapped (read-only) unless ``mmap`` is false."""
    lim = as_limits(limits)
    with open(path, "rb") as f:
        h = npy_header(f, what, error=error)
        size = os.fstat(f.fileno()).st_size
    _limit_array(lim, h, what)
    if size - h.offset != h.nbytes:
        raise error(f"{what}: the data is {size - h.offset:,} bytes but the header's shape "
                    f"{h.shape} and dtype {h.dtype} need {h.nbytes:,}")
    if mmap and h.nbytes:
        return np.memmap(path, dtype=h.dtype, mode="r", offset=h.offset, shape=h.shape,
                         order="F" if h.fortran else "C")
    out = np.empty(h.shape, dtype=h.dtype, order="F" if h.fortran else "C")
    with open(path, "rb") as f:
        f.seek(h.offset)
        readinto_capped(f, out.T if h.fortran else out, what, error=error)
    return out


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
               NotImplementedError, RuntimeError, ValueError, OverflowError, KeyError)


def npz_members(zf: zipfile.ZipFile, what: str, limits: Limits | None = None, *,
                error=InputError, names=None) -> dict:
    """``{array name: (ZipInfo, NpyHeader)}`` of the ``.npy`` members of the open archive
    ``zf`` (all, or those in ``names``), each checked from the central directory and its own
    header before anything is inflated: uncompressed size within ``array_bytes``, the
    header's shape and dtype matching that size, no pickled objects, no repeated names."""
    lim = as_limits(limits)
    out = {}
    try:
        infos = zf.infolist()
        for info in infos:
            if info.is_dir():
                continue
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if names is not None and name not in names:
                continue
            where = f"{what}: member {name!r}"
            if name in out:
                raise error(f"{where} appears twice in the archive")
            if info.flag_bits & 0x1:
                raise error(f"{where} is encrypted")
            lim.check("array_bytes", info.file_size, where)
            with zf.open(info) as f:
                h = npy_header(f, where, error=error)
            _limit_array(lim, h, where)
            if info.file_size - h.offset != h.nbytes:
                raise error(f"{where}: {info.file_size - h.offset:,} bytes of data but its "
                            f"header's shape {h.shape} and dtype {h.dtype} need {h.nbytes:,}")
            out[name] = (info, h)
    except InputError:
        raise
    except _ZIP_ERRORS as exc:
        raise error(f"{what}: not a readable .npz archive "
                    f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    return out


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, h: NpyHeader, what: str, *,
                error=InputError) -> np.ndarray:
    """The array of one member checked by :func:`npz_members`, inflated in bounded chunks into
    an array of the declared shape (the zip's CRC is checked at the end)."""
    out = np.empty(h.shape, dtype=h.dtype, order="F" if h.fortran else "C")
    name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
    where = f"{what}: member {name!r}"
    try:
        with zf.open(info) as f:
            f.read(h.offset)
            readinto_capped(f, out.T if h.fortran else out, where, error=error)
    except InputError:
        raise
    except _ZIP_ERRORS as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"{where}: corrupt data ({reason})") from None
    return out
