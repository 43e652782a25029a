"""The lazy SymPy machinery of the analysis (private).

SymPy is imported only inside these helpers, so importing :mod:`lossanalysis.analysis` stays
cheap.  The analysis works in the positive internal symbols (``losses._internal_symbols()``,
``Loss._internal_expr``): their assumptions let SymPy simplify logarithms and powers on the
domain; every SymPy result handed to a user is converted with ``losses._to_public``.  Symbolic
results are cached per loss.
"""
from __future__ import annotations

import functools

import numpy as np

from ..losses import Loss
from ..losses import _internal_symbols as symbols  # the analysis works in positive y, p

def _sp():
    import sympy
    return sympy


def _tidy(e, budget=150):
    """Simplify a SymPy expression, with cheaper rewrites for large ones."""
    sp = _sp()
    if e is None:
        return None
    e = sp.sympify(e)  # safe: e is a SymPy expression or a Python number, never text
    if e.is_number:
        return sp.nsimplify(e) if e.is_Float else sp.simplify(e)
    if sp.count_ops(e) <= budget:
        return sp.simplify(e)
    return sp.factor_terms(sp.cancel(sp.together(e)))


@functools.lru_cache(maxsize=None)
def _expr(loss: Loss):
    return loss._internal_expr


@functools.lru_cache(maxsize=None)
def _dp(loss: Loss, k: int):
    """d^k L / dp^k (unsimplified)."""
    sp = _sp()
    _, p = symbols()
    return _expr(loss) if k == 0 else sp.diff(_dp(loss, k - 1), p)


@functools.lru_cache(maxsize=None)
def _dp_at_target(loss: Loss, k: int):
    """d^k L / dp^k at p = y, simplified."""
    y, p = symbols()
    return _tidy(_dp(loss, k).subs(p, y))


@functools.lru_cache(maxsize=None)
def _lambdified(loss: Loss, k: int, module: str = "numpy"):
    """d^k L/dp^k as a function of (y, p): module "numpy" (with SciPy) or "mpmath"."""
    sp = _sp()
    y, p = symbols()
    mods = ["scipy", "numpy"] if module == "numpy" else ["mpmath"]
    return sp.lambdify((y, p), _dp(loss, k), modules=mods)


def _is_zero(e):
    """True when the SymPy expression in y is identically 0 (simplification, then a 40-digit
    check at several points), False when it is not."""
    sp = _sp()
    if e == 0:
        return True
    if e.is_number:
        return bool(abs(complex(e.evalf(40))) < 1e-30)
    y, _ = symbols()
    f = sp.lambdify(y, e, modules=["mpmath"])
    import mpmath
    with mpmath.workdps(40):
        vals = [abs(mpmath.mpmathify(f(mpmath.mpf(v)))) for v in ("0.137", "0.31", "0.4621",
                                                                   "0.709", "0.883")]
    return all(v < mpmath.mpf("1e-30") for v in vals)


def _is_smooth(loss: Loss) -> bool:
    """False for mae, huber and any user loss whose expression has a kink (``Loss.smooth``)."""
    return loss.smooth


@functools.lru_cache(maxsize=None)
def _kinks(loss: Loss):
    """The kinks of p -> L(y, p) as a tuple of SymPy expressions in y (the zeros of the Abs,
    sign and Heaviside arguments, the boundaries of the Piecewise conditions, the crossings of
    Max/Min arguments); None when SymPy cannot solve for them."""
    sp = _sp()
    from itertools import combinations
    from sympy.core.relational import Relational
    y, p = symbols()
    e = _expr(loss)
    eqs = [a.args[0] for a in e.atoms(sp.Abs, sp.sign, sp.Heaviside)]
    for pw in e.atoms(sp.Piecewise):
        for _, cond in pw.args:
            rels = [cond] if isinstance(cond, Relational) else list(cond.atoms(Relational))
            eqs += [r.lhs - r.rhs for r in rels]
    for mm in e.atoms(sp.Max, sp.Min):
        eqs += [a - b for a, b in combinations(mm.args, 2)]
    out = []
    for q in eqs:
        if not q.has(p):
            continue
        try:
            sols = sp.solve(q, p)
        except (NotImplementedError, ValueError, TypeError):
            return None
        for s in sols:
            if not s.free_symbols <= {y}:
                return None
            if s not in out:
                out.append(s)
    return tuple(out)


@functools.lru_cache(maxsize=None)
def _kink_functions(loss: Loss):
    y, _ = symbols()
    return tuple(_sp().lambdify(y, k, modules=["numpy"]) for k in (_kinks(loss) or ()))


def _kink_points(loss: Loss, y):
    """Kink locations in p at the targets ``y``: rows x J, NaN outside (0, 1) or non-real."""
    y = np.asarray(y, dtype=float)
    cols = []
    for f in _kink_functions(loss):
        with np.errstate(all="ignore"):
            v = np.asarray(f(y) * np.ones_like(y), dtype=complex)
        ok = (np.abs(v.imag) <= 1e-15) & (v.real > 0) & (v.real < 1)
        cols.append(np.where(ok, v.real, np.nan))
    return np.stack(cols, axis=1) if cols else np.empty((y.size, 0))


def _regular(e):
    """None for a 'value' that is a distribution (MAE's curvature 2 DiracDelta(0) at its kink)."""
    sp = _sp()
    return None if e is None or e.has(sp.DiracDelta) else e
