"""Thread counts: what the BLAS library really uses, and elementwise work split over threads.

NumPy runs each elementwise call (a *ufunc*) on one core, but it releases the GIL during large
calls, so a second Python thread can run another slice of the same work at the same time.
:func:`split` does that for the large elementwise passes of a training step (the Adam update
and the output loss) when :func:`threads` is 2 or more; the matrix products are threaded by
the BLAS library itself.  Splitting never changes a result: every element is computed by the
same operations whichever thread computes it, and each row sum stays within one thread.

It is off unless asked for (``set_threads(2)``): on the 2-core machine it was built on it did
not pay -- the loss is many short NumPy calls whose Python dispatch holds the GIL, Adam is
bound by memory bandwidth, and the BLAS library's own threads keep spinning on the second core
after each matrix product.  ``scripts/bench.py`` measures it (its split/no-split column).

:func:`blas_threads` asks the loaded OpenBLAS library for its thread count (through
``ctypes``; NumPy and SciPy wheels ship OpenBLAS), falling back to the environment variables
that set it, so that a metrics file records the count that was in force rather than
``null`` when no variable was set.

Examples
--------
>>> info = blas_threads()
>>> sorted(info) == ["cpu_count", "env", "library", "source", "threads"]
True
>>> import numpy as np
>>> out = np.zeros(10)
>>> split(lambda lo, hi, part: out.__setitem__(slice(lo, hi), part), 10, min_size=1)
>>> bool(out[0] == 0)
True
"""

from __future__ import annotations

import ctypes
import glob
import os
import queue
import re
import threading

__all__ = ["blas_threads", "blas_limit", "blas_axpy", "threads", "set_threads", "split"]

#: Symbols returning the thread count, in the order tried (NumPy's 64-bit-integer build first).
_GET = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
        "scipy_openblas_get_num_threads", "openblas_get_num_threads")
_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _openblas_paths() -> list[str]:
    """Paths of the OpenBLAS libraries loaded in this process, NumPy's first."""
    import numpy  # noqa: F401  (make sure NumPy's BLAS is loaded)

    paths = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            paths = re.findall(r"(/\S*openblas\S*\.so[\w.]*)", f.read())
    except OSError:  # not Linux: look where the wheels put their libraries
        base = os.path.dirname(os.path.dirname(numpy.__file__))
        for folder in ("numpy.libs", "numpy/.dylibs", "scipy.libs", "scipy/.dylibs"):
            paths += glob.glob(os.path.join(base, folder, "*openblas*"))
    unique = list(dict.fromkeys(paths))
    return sorted(unique, key=lambda p: "numpy" not in p)


def blas_threads() -> dict:
    """The number of threads NumPy's BLAS uses, and where that number comes from.

    Returns
    -------
    dict
        ``threads`` (int, or None if it cannot be read), ``library`` (file name of the BLAS
        library asked, or None), ``source`` (``"openblas_get_num_threads"`` when read from the
        library, else ``"environment"`` or ``"unknown"``), ``env`` (the thread variables that
        are set) and ``cpu_count``.

    Examples
    --------
    >>> info = blas_threads()
    >>> info["threads"] is None or info["threads"] >= 1
    True
    """
    env = {k: os.environ[k] for k in _ENV if k in os.environ}
    info = {"threads": None, "library": None, "source": "unknown", "env": env,
            "cpu_count": os.cpu_count()}
    for path in _openblas_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _GET:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_int
                n = int(fn())
                if n >= 1:
                    info.update(threads=n, library=os.path.basename(path),
                                source="openblas_get_num_threads")
                    return info
    for k in _ENV:
        try:
            n = int(env.get(k, ""))
        except ValueError:
            continue
        if n >= 1:
            info.update(threads=n, source="environment")
            break
    return info


def _numpy_openblas():
    """``(library, ilp64)`` for NumPy's own OpenBLAS, or ``(None, False)``."""
    for path in _openblas_paths():
        if "numpy" not in path:
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_get_config64_", "openblas_get_config64_",
                     "scipy_openblas_get_config", "openblas_get_config"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return lib, b"USE64BITINT" in (fn() or b"")
    return None, False


_AXPY: dict = {}


def blas_axpy(dtype):
    """``axpy(x, y, a)``: ``y <- a x + y`` in place, in one pass, by the ``cblas_?axpy`` of
    NumPy's own OpenBLAS (so that it shares the thread pool of NumPy's matrix products; a second
    BLAS library's pool, e.g. SciPy's, would fight it for the cores), for contiguous float32 or
    float64 vectors; ``None`` when NumPy's BLAS does not offer it.

    Examples
    --------
    >>> import numpy as np
    >>> axpy = blas_axpy(np.float64)
    >>> y = np.ones(3)
    >>> if axpy is not None:
    ...     axpy(np.arange(3.0), y, 2.0)
    ... else:
    ...     y += 2.0 * np.arange(3.0)
    >>> y.tolist()
    [1.0, 3.0, 5.0]
    """
    import numpy as np

    dtype = np.dtype(dtype)
    if dtype in _AXPY:
        return _AXPY[dtype]
    fn = None
    if dtype in (np.float32, np.float64):
        lib, ilp64 = _numpy_openblas()
        t = "s" if dtype == np.float32 else "d"
        names = ((f"scipy_cblas_{t}axpy64_", f"cblas_{t}axpy64_", f"cblas_{t}axpy") if ilp64
                 else (f"scipy_cblas_{t}axpy", f"cblas_{t}axpy"))
        raw = next((getattr(lib, n) for n in names if lib is not None and hasattr(lib, n)), None)
        if raw is not None:
            integer = ctypes.c_int64 if ilp64 else ctypes.c_int
            scalar = ctypes.c_float if dtype == np.float32 else ctypes.c_double
            raw.argtypes = [integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
            raw.restype = None

            def fn(x, y, a, _raw=raw, _dtype=dtype):
                if not (x.dtype == y.dtype == _dtype and x.size == y.size and x.flags.c_contiguous
                        and y.flags.c_contiguous and y.flags.writeable):
                    raise ValueError("axpy needs two contiguous vectors of the same size and "
                                     f"dtype {_dtype}")
                _raw(y.size, a, x.ctypes.data, 1, y.ctypes.data, 1)

            # ``raw(n, a, x_address, 1, y_address, 1)``: no checks, for callers that have
            # checked the arrays once and call it on fixed addresses (Adam's blocks).
            fn.raw = raw
    _AXPY[dtype] = fn
    return fn


_configured: int | None = None


def threads() -> int:
    """Threads used for the split elementwise work: 1 (no split) unless :func:`set_threads`
    asked for more.

    >>> threads()
    1
    """
    return 1 if _configured is None else _configured


def set_threads(n: int | None) -> None:
    """Use ``n`` threads for the split elementwise work (``None``: back to the default, 1).
    The BLAS library's own threads are not changed: set ``OPENBLAS_NUM_THREADS`` before NumPy
    is imported for that.

    >>> set_threads(1); threads()
    1
    >>> set_threads(None)
    """
    global _configured
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    _configured = n


class _Pool:
    """``n - 1`` daemon worker threads, each fed through its own queue."""

    def __init__(self, n: int):
        self.n = n
        self.pid = os.getpid()
        self.inbox = [queue.SimpleQueue() for _ in range(n - 1)]
        self.done = queue.SimpleQueue()
        for box in self.inbox:
            threading.Thread(target=self._work, args=(box,), daemon=True).start()

    def _work(self, box):
        while True:
            fn, args = box.get()
            try:
                fn(*args)
                self.done.put(None)
            except BaseException as err:  # noqa: BLE001 - handed to the caller
                self.done.put(err)


_pool: _Pool | None = None
_lock = threading.Lock()


def _get_pool(n: int) -> _Pool:
    global _pool
    with _lock:
        if _pool is None or _pool.n != n or _pool.pid != os.getpid():
            _pool = _Pool(n)   # also after a fork: the child has no worker threads
        return _pool


def split(fn, n: int, *, min_size: int, align: int = 16) -> None:
    """Run ``fn(lo, hi, part)`` over ``range(n)`` cut into :func:`threads` contiguous parts.

    Part 0 runs on the calling thread, the others on worker threads, all at the same time; the
    call returns when every part is done and re-raises the first error.  With one thread, or
    when ``n < min_size`` (too little work to pay for the hand-over, some tens of microseconds),
    it is simply ``fn(0, n, 0)``.  Cut points are multiples of ``align``.

    Parameters
    ----------
    fn : callable
        ``fn(lo, hi, part)`` processes items ``lo:hi``; ``part`` (0, 1, ...) can select
        per-thread scratch space.
    n : int
        Number of items.
    min_size : int
        Smallest ``n`` worth splitting.
    align : int
        Cut points are multiples of this.

    Examples
    --------
    >>> seen = []
    >>> split(lambda lo, hi, part: seen.append((lo, hi)), 100, min_size=10**9)
    >>> seen
    [(0, 100)]
    """
    k = threads()
    if k < 2 or n < min_size:
        fn(0, n, 0)
        return
    pool = _get_pool(k)
    size = -(-n // k)
    size = -(-size // align) * align
    cuts = [min(n, i * size) for i in range(k + 1)]
    for part in range(1, k):
        pool.inbox[part - 1].put((fn, (cuts[part], cuts[part + 1], part)))
    errors = []
    try:
        fn(cuts[0], cuts[1], 0)
    finally:
        for _ in range(1, k):
            err = pool.done.get()
            if err is not None:
                errors.append(err)
    if errors:
        raise errors[0]


#: Symbols setting the thread count, in the order of :data:`_GET`.
_SET = tuple(name.replace("_get_", "_set_") for name in _GET)


def _blas_setter():
    for path in _openblas_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SET:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                return fn
    return None


class blas_limit:
    """Run a block with the BLAS library at ``n`` threads (then restore the count it had): what
    the experiments' serial runs use, so that they compute what their single-threaded worker
    processes compute, without the BLAS threads of a busy machine spinning (a no-op where the
    library cannot be reached).

    >>> with blas_limit(1):
    ...     blas_threads()["threads"] in (1, None)
    True
    """

    def __init__(self, n: int):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        self.n, self.old, self.setter = n, None, None

    def __enter__(self):
        self.setter = _blas_setter()
        if self.setter is not None:
            self.old = blas_threads()["threads"]
            self.setter(self.n)
        return self

    def __exit__(self, *exc):
        if self.setter is not None and self.old:
            self.setter(int(self.old))
        return False
