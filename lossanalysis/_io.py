"""The one way the package writes a file: :func:`atomic_write`.

Readers see the old file or the complete new one, never a partial one; an interrupted write
leaves no temporary file behind; the new file gets the permissions an ordinary ``open`` would
give it (0666 masked by the umask), not the 0600 of :func:`tempfile.mkstemp`.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Callable, Union

__all__ = ["atomic_write", "COMMITTED", "refuse_overwrite", "check_writable", "jsonable",
           "json_text", "checkout"]

#: The folders of a source checkout that hold committed results: a command overwrites a file
#: in them only when asked to (``--force``), so that a smoke test or a quick start never
#: replaces a registered prediction, a judged report or a published figure by surprise.
COMMITTED = ("figures", "studies")

Payload = Union[str, bytes, Callable]


def _umask() -> int:
    # os.umask can only be read by setting it; set it back at once
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def checkout() -> Path | None:
    """The source checkout this package is imported from, or None for an installed copy."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "lossanalysis").is_dir() \
        else None


def refuse_overwrite(paths, *, force: bool, flag: str = "--force") -> None:
    """Raise ``FileExistsError`` (a one-line message naming the file and ``flag``) if any of
    ``paths`` exists in one of the checkout's :data:`COMMITTED` folders and ``force`` is false.

    >>> refuse_overwrite(["/tmp/nowhere/x.pdf"], force=False)   # outside the checkout: fine
    """
    root = checkout()
    if force or root is None:
        return
    guarded = [(root / name).resolve() for name in COMMITTED]
    for path in paths:
        path = Path(path).resolve()
        if path.exists() and any(path.is_relative_to(g) for g in guarded):
            raise FileExistsError(f"{path} is a committed result; pass {flag} to overwrite it")


def check_writable(folder, what: str = "--out") -> Path:
    """Make sure files can be written into ``folder`` (created if missing) before any work is
    done: ``ValueError`` ``"<what>: cannot write into <folder> (<reason>)"`` otherwise, one line.
    Returns the folder.

    >>> import tempfile
    >>> check_writable(tempfile.mkdtemp()).is_dir()
    True
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{what}: {str(folder)!r} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"{what}: cannot write into {str(folder)!r} "
                         f"({exc.strerror or type(exc).__name__})") from None
    return folder


def atomic_write(path, payload: Payload, *, encoding: str = "utf-8") -> Path:
    """Write ``payload`` to ``path`` atomically and durably; return the path.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder is created if missing.
    payload : str, bytes or callable
        Text (written with ``encoding`` and ``\\n`` line endings), bytes, or a function called
        with a binary file object that writes the content (``np.savez``, ``fig.savefig``, ...).

    The content goes to a temporary file in the same folder, is flushed and fsynced, given
    mode ``0o666 & ~umask`` and renamed over ``path``; on any error (an interruption included)
    the temporary file is removed and the old file, if any, is left as it was.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = atomic_write(pathlib.Path(tempfile.mkdtemp()) / "note.txt", "hello\\n")
    >>> p.read_text()
    'hello\\n'
    """
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(payload, str):
        data = payload.encode(encoding)
        write = lambda f: f.write(data)  # noqa: E731
    elif isinstance(payload, (bytes, bytearray, memoryview)):
        write = lambda f: f.write(payload)  # noqa: E731
    elif callable(payload):
        write = payload
    else:
        raise TypeError(f"payload must be str, bytes or a callable, got {type(payload).__name__}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable where the platform allows it
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return path
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
    return path


def jsonable(x, digits: int | None = None):
    """Plain JSON types for numbers, arrays, tuples and nested containers (the package's one
    conversion); non-finite floats become "nan", "inf", "-inf"; with ``digits``, floats are
    rounded to that many significant digits (a registration's stable form).

    >>> import numpy as np
    >>> jsonable({"a": (np.float32(0.5), np.int64(3)), "b": float("nan")})
    {'a': [0.5, 3], 'b': 'nan'}
    >>> jsonable(0.1 + 0.2, digits=12)
    0.3
    """
    import numpy as np
    if isinstance(x, dict):
        return {str(k): jsonable(v, digits) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v, digits) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if not math.isfinite(v):
            return str(v)
        return float(f"{v:.{digits}g}") if digits else v
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist(), digits)
    if x is None or isinstance(x, str):
        return x
    return str(x)


def json_text(doc, digits: int | None = None) -> str:
    """``doc`` as the package writes JSON files: :func:`jsonable`, sorted keys, one-space
    indent, non-ASCII kept, a final newline (the same document gives the same bytes)."""
    return json.dumps(jsonable(doc, digits), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
