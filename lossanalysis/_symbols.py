"""The SymPy symbols of a loss: the public plain (y, p) and the analysis' positive copies.

Every :attr:`lossanalysis.Loss.expr` is written in :func:`symbols`; the analysis works in
:func:`internal_symbols`, whose assumptions let SymPy simplify logarithms and powers on the
domain, and hands results back through :func:`to_public`.  This module sits below both
:mod:`lossanalysis.losses` and :mod:`lossanalysis.expressions`, which read it (and neither needs
the other for it).  SymPy is imported on first use, not with the module.
"""
from __future__ import annotations

import sys

__all__ = ["symbols", "internal_symbols", "to_public"]

_SYMBOLS = None
_INTERNAL = None


def symbols():
    """The SymPy symbols (y, p) in which every :attr:`Loss.expr` is written.

    They are plain ``sympy.Symbol("y")`` and ``sympy.Symbol("p")``, with no assumptions, so
    that a user's own ``sympy.symbols("y p")`` are the same symbols (also ``lossanalysis.y``,
    ``lossanalysis.p``)::

        >>> import sympy as sp
        >>> from lossanalysis import get_loss
        >>> sp.diff(get_loss("mse").expr, sp.Symbol("p"))
        2*p - 2*y
    """
    global _SYMBOLS
    if _SYMBOLS is None:
        import sympy as sp
        _SYMBOLS = (sp.Symbol("y"), sp.Symbol("p"))
    return _SYMBOLS


def internal_symbols():
    """The positive (y, p) in which the analysis works: the assumptions let SymPy simplify
    logarithms and powers on the domain.  Never returned to users (see :func:`to_public`)."""
    global _INTERNAL
    if _INTERNAL is None:
        import sympy as sp
        _INTERNAL = sp.symbols("y p", positive=True)
    return _INTERNAL


def to_public(obj):
    """``obj`` with the internal (positive) y and p replaced by the public plain symbols;
    SymPy objects, and lists, tuples and dicts of them, are converted; anything else is kept."""
    if isinstance(obj, dict):
        return {k: to_public(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_public(v) for v in obj)
    if hasattr(obj, "xreplace"):
        yi, pi = internal_symbols()
        y, p = symbols()
        obj = obj.xreplace({yi: y, pi: p})
        calculus = sys.modules.get(__package__ + "._calculus")
        return obj if calculus is None else calculus.public_form(obj)
    return obj

