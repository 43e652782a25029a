"""The one set of input validators, shared by the catalogue and the analysis.

Each raises ``ValueError`` with a one-line message that names the offending argument, so that bad
input never surfaces as a traceback from deep inside NumPy or as a silently wrong number.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["real_array", "check_range", "unit_interval", "nonneg", "finite_real", "as_output"]


def real_array(x, arg: str, dtype=None) -> np.ndarray:
    """``x`` as an array of real numbers (bool, int or float; ``dtype`` converts it).

    >>> real_array([1, 2], "y").dtype.kind
    'i'
    >>> real_array("a", "y")
    Traceback (most recent call last):
    ...
    ValueError: y must be real numbers, got 'a'
    """
    try:
        a = np.asarray(x)
    except (TypeError, ValueError):
        raise ValueError(f"{arg} must be real numbers, got {_short(x)}") from None
    if a.dtype.kind not in "biuf":
        # checked before any cast: asarray(complex, float) would drop the imaginary part
        shown = _short(x) if a.ndim == 0 else f"an array of dtype {a.dtype}"
        raise ValueError(f"{arg} must be real numbers, got {shown}")
    return a if dtype is None else a.astype(dtype, copy=False)


def _short(x, n=60):
    r = repr(x)
    return r if len(r) <= n else r[:n] + "..."


def check_range(a: np.ndarray, arg: str, what: str, lo: float, hi: float,
                open_: bool = False, why: str = "") -> np.ndarray:
    """Raise unless every element of ``a`` lies in [lo, hi] (in (lo, hi) with ``open_``).

    NaN fails every range.  The message names ``arg``, says what it is (``what``), and quotes
    the first offending value and its flat index.
    """
    ok = (a > lo) & (a < hi) if open_ else (a >= lo) & (a <= hi)
    if not np.all(ok):
        flat = np.asarray(ok).ravel()
        bad = int(np.flatnonzero(~flat)[0])
        value = np.asarray(a).ravel()[bad] if np.ndim(a) else np.asarray(a)[()]
        where = f" at flat index {bad}" if np.ndim(a) else ""
        interval = f"({lo}, {hi})" if open_ else f"[{lo}, {hi}]"
        label = f"{arg} ({what})" if what else arg
        raise ValueError(f"{label} must lie in {interval}{why}; got {value!r}{where}")
    return a


def unit_interval(x, arg: str = "y", open_: bool = False, why: str = "") -> np.ndarray:
    """float64 array of values in [0, 1] (in (0, 1) with ``open_``)."""
    return check_range(real_array(x, arg, np.float64), arg, "", 0, 1, open_=open_, why=why)


def nonneg(x, arg: str) -> np.ndarray:
    """float64 array of finite values >= 0."""
    a = real_array(x, arg, np.float64)
    ok = np.isfinite(a) & (a >= 0)
    if not np.all(ok):
        bad = a[~ok].ravel()[0] if a.ndim else a[()]
        raise ValueError(f"{arg} must be finite and >= 0; got {bad!r}")
    return a


def finite_real(x, arg: str) -> float:
    """``x`` as a Python float: a finite real number (any :class:`numbers.Real`: int, float,
    a NumPy or SymPy real scalar, a Fraction; not a bool, a string or an array).

    >>> finite_real(2, "gamma")
    2.0
    >>> finite_real(float("nan"), "gamma")
    Traceback (most recent call last):
    ...
    ValueError: gamma must be a finite number, got nan
    >>> finite_real("2", "gamma")
    Traceback (most recent call last):
    ...
    ValueError: gamma must be a number, got '2'
    """
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x[()]
    if not isinstance(x, numbers.Real) or isinstance(x, (bool, np.bool_)):
        raise ValueError(f"{arg} must be a number, got {x!r}")
    try:
        v = float(x)
    except OverflowError:
        v = float("inf")
    if not np.isfinite(v):
        raise ValueError(f"{arg} must be a finite number, got {v!r}")
    return v


def as_output(a):
    """A NumPy scalar for a 0-d result, the array otherwise."""
    a = np.asarray(a)
    return a[()] if a.ndim == 0 else a
