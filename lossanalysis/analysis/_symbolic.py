"""The lazy SymPy machinery of the analysis (private).

SymPy is imported only inside these helpers, so importing :mod:`lossanalysis.analysis` stays
cheap.  The analysis works in the positive internal symbols (``_symbols.internal_symbols()``,
``losses.internal_expr``): their assumptions let SymPy simplify logarithms and powers on the
domain; every SymPy result handed to a user is converted with ``_symbols.to_public``.  Symbolic
results are cached per loss.

Every symbolic task on a user's loss runs under the budget of :mod:`lossanalysis._budget`
(:func:`_task`): each derivative and substitution is size-checked, simplification is a
:func:`~lossanalysis._budget.soft` section (on running out it keeps the unsimplified form), and
numbers are taken from mpmath only where float64 evaluates the expression without overflow
(:func:`_mp_values`: ``exp(exp(exp(p)))`` at 40 digits would otherwise need astronomically many
digits).
"""
from __future__ import annotations

import contextlib
import functools
import warnings
from fractions import Fraction

import numpy as np

from .. import _budget
from .._symbols import internal_symbols as symbols  # the analysis works in positive y, p
from ..losses import Loss, internal_expr, is_catalogue

#: Seconds a simplification may take before the unsimplified form is kept.
_SIMPLIFY_SECONDS = 1.0


def _sp():
    import sympy
    return sympy


@contextlib.contextmanager
def _task(loss: Loss, what: str):
    """The symbolic budget for ``what`` on ``loss`` (none for the catalogue's losses)."""
    with _budget.budget(f"loss {loss.name!r}: {what}", enabled=not is_catalogue(loss)):
        yield


def _tidy(e, budget=150):
    """Simplify a SymPy expression, with cheaper rewrites for large ones, then write its
    polynomial factors the way the domain reads them (:func:`_readable`).  Under a symbolic
    budget each rewrite is abandoned (keeping the form before it) when it runs out."""
    sp = _sp()
    if e is None:
        return None
    e = sp.sympify(e)  # safe: e is a SymPy expression or a Python number, never text
    if e.is_number:
        if e.is_Float:
            return sp.nsimplify(e)
        with _budget.soft(_SIMPLIFY_SECONDS) as gave_up:
            out = sp.simplify(e)
        return e if gave_up else out
    with _budget.soft(_SIMPLIFY_SECONDS) as gave_up:
        if sp.count_ops(e) <= budget:
            out = _budget.checked(sp.simplify(e), "simplification")
        else:
            out = _budget.checked(sp.factor_terms(sp.cancel(sp.together(e))), "simplification")
    if gave_up:
        out = e
    with _budget.soft(_SIMPLIFY_SECONDS) as gave_up:
        nicer = _readable(out)
    return out if gave_up else nicer


def _flipped(base):
    """-base when -base reads better on the domain: k (1 - v) for k (v - 1) (v = y or p, a
    factor positive on (0, 1)), k (p - y) for k (y - p); None otherwise (k > 0 rational)."""
    sp = _sp()
    y, p = symbols()
    for v in (y, p):
        k = base.coeff(v)
        if k.is_Rational and k > 0 and sp.expand(base - k * (v - 1)) == 0:
            return k * (1 - v)
    k = base.coeff(y)
    if k.is_Rational and k > 0 and sp.expand(base - k * (y - p)) == 0:
        return k * (p - y)
    return None


def _readable(e):
    """``e`` with each polynomial sum in y and p factored ((y**2 - 2*y + 1) -> (1 - y)**2) and
    every factor (v - 1)**k written (-1)**k (1 - v)**k, positive on the domain (y, p in (0, 1)),
    and (y - p)**k as (-1)**k (p - y)**k, as the losses are written; a negative coefficient of a
    product with a single sum factor is moved into that sum.

    SymPy keeps a product's factors as given, so the result prints as, e.g.,
    2*d**3*(2*y - 1)/(3*y**2*(1 - y)**2) instead of .../(3*y**2*(y**2 - 2*y + 1)).  The rewrite
    is kept only when it is verified equal (exact cancellation, else a 30-digit comparison at
    several points); otherwise ``e`` is returned unchanged."""
    sp = _sp()
    y, p = symbols()

    def factor_polys(node):
        if (isinstance(node, sp.Add) and node.free_symbols <= {y, p}
                and node.is_polynomial(y, p) and sp.Poly(node, y, p).total_degree() >= 2):
            f = sp.factor(node)
            if not isinstance(f, sp.Add):
                return f
        return node

    def flip(node):
        if not isinstance(node, (sp.Mul, sp.Pow)):
            return node
        sign, args = sp.Integer(1), []
        for a in (node.args if isinstance(node, sp.Mul) else (node,)):
            base, ex = a.as_base_exp()
            om = _flipped(base) if isinstance(base, sp.Add) and ex.is_Integer else None
            if om is None:
                args.append(a)
            else:
                sign *= sp.Integer(-1) ** ex
                args.append(sp.Pow(om, ex))
        out = sp.Mul(sign, *args)
        # a negative coefficient goes into the one sum factor: -(2*y - 1)/... -> (1 - 2*y)/...
        coeff, rest = out.as_coeff_mul()
        sums = [a for a in rest if isinstance(a, sp.Add)]
        if coeff.is_negative and len(sums) == 1 and _flipped(-sums[0]) is None:
            rest = [-sums[0] if a is sums[0] else a for a in rest]
            out = sp.Mul(-coeff, *rest)
        return out

    try:
        new = e.replace(lambda n: isinstance(n, sp.Add), factor_polys)
        for _ in range(2):      # moving a sign into a sum can re-create a (v - 1) inside it
            new = new.replace(lambda n: isinstance(n, (sp.Mul, sp.Pow)), flip)
    except (sp.PolynomialError, TypeError, ValueError):
        return e
    if new == e or _equal(new, e):
        return new
    return e


def _equal(a, b):
    """True when the SymPy expressions a and b are equal: their difference cancels exactly, or
    agrees to 25 digits at five points of (0, 1)^2 (and d = 0.3)."""
    sp = _sp()
    diff = a - b
    if sp.cancel(sp.together(diff)) == 0:
        return True
    import mpmath
    syms = sorted(diff.free_symbols, key=str)
    pts = ("0.137", "0.31", "0.4621", "0.709", "0.883")
    points = [[pts[(i + j) % 5] for j in range(len(syms))] for i in range(5)]
    dv = _mp_values(diff, syms, points)
    av = _mp_values(a, syms, points)
    for d, s in zip(dv, av):
        if d is None or s is None or abs(d) > mpmath.mpf("1e-25") * (1 + abs(s)):
            return False
    return True


def _mp(v):
    """An mpmath number from a decimal string or a Fraction (exactly, at the working
    precision)."""
    import mpmath
    if isinstance(v, Fraction):
        return mpmath.mpf(v.numerator) / v.denominator
    return mpmath.mpf(v)


def _mp_values(expr, syms, points, dps=40):
    """mpmath values of ``expr`` at ``points`` (sequences of decimal strings or Fractions, one
    per symbol), None at a point where float64 overflows first (mpmath would then need
    astronomically many digits: exp(exp(exp(exp(p))))) or where the value is undefined."""
    sp = _sp()
    import mpmath
    from .. import _calculus
    syms = list(syms)
    try:
        fnum = sp.lambdify(syms, _calculus.numeric_form(expr), modules=["scipy", "numpy"])
        fmp = sp.lambdify(syms, expr, modules=["mpmath"])
    except Exception:  # noqa: BLE001 - a construct the printers cannot write (DiracDelta, ...)
        return [None] * len(points)
    out = []
    for pt in points:
        with np.errstate(over="raise", invalid="ignore", divide="ignore", under="ignore"), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                complex(np.asarray(fnum(*[float(v) for v in pt])))
            except (FloatingPointError, OverflowError):
                out.append(None)
                continue
            except Exception:  # noqa: BLE001 - the generated code failed: undefined here
                pass
        _budget.tick("numeric evaluation")
        with mpmath.workdps(dps):
            try:
                v = mpmath.mpmathify(fmp(*[_mp(v) for v in pt]))
            except Exception:  # noqa: BLE001 - undefined (or not computable) at this point
                v = None
        if v is not None and not mpmath.isfinite(v):
            v = None
        out.append(v)
    return out


def _float_values(expr, syms, points):
    """float64 values of ``expr`` at ``points`` (NaN where undefined or not real)."""
    from .. import _calculus
    sp = _sp()
    try:
        f = sp.lambdify(list(syms), _calculus.numeric_form(expr), modules=["scipy", "numpy"])
    except Exception:  # noqa: BLE001 - a construct the printer cannot write
        return np.full(len(points), np.nan)
    out = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for pt in points:
            try:
                v = complex(np.asarray(f(*[float(x) for x in pt])))
                out.append(v.real if v.imag == 0 else np.nan)
            except Exception:  # noqa: BLE001 - the generated code failed: undefined here
                out.append(np.nan)
    return np.array(out)


@functools.lru_cache(maxsize=None)
def _expr(loss: Loss):
    return internal_expr(loss)


@functools.lru_cache(maxsize=None)
def _dp(loss: Loss, k: int):
    """d^k L / dp^k (unsimplified; Max/Min as the branch attaining them, see
    :mod:`lossanalysis._calculus`), each derivative within the symbolic budget."""
    from .. import _calculus
    _, p = symbols()
    if k == 0:
        return _expr(loss)
    prev = _calculus.calculus_form(_expr(loss)) if k == 1 else _dp(loss, k - 1)
    return _budget.checked(_sp().diff(prev, p), _ORDINAL.get(k, f"derivative {k}"))


_ORDINAL = {1: "the first derivative", 2: "the second derivative", 3: "the third derivative",
            4: "the fourth derivative", 5: "the fifth derivative", 6: "the sixth derivative",
            7: "the seventh derivative"}


@functools.lru_cache(maxsize=None)
def _dp_at_target(loss: Loss, k: int):
    """d^k L / dp^k at p = y, simplified."""
    y, p = symbols()
    return _tidy(_budget.checked(_dp(loss, k).subs(p, y), "the derivative at p = y"))


@functools.lru_cache(maxsize=None)
def _lambdified(loss: Loss, k: int, module: str = "numpy"):
    """d^k L/dp^k as a function of (y, p): module "numpy" (with SciPy) or "mpmath"."""
    sp = _sp()
    y, p = symbols()
    from .. import _calculus
    if module == "numpy":
        return sp.lambdify((y, p), _calculus.numeric_form(_dp(loss, k)), modules=["scipy", "numpy"])
    return sp.lambdify((y, p), _dp(loss, k), modules=["mpmath"])


def _is_zero(e):
    """True when the SymPy expression in y is identically 0 (simplification, then a 40-digit
    check at five points), False when it is not, None when that cannot be decided (the
    expression overflows float64 at a point, where mpmath is not asked)."""
    if e == 0:
        return True
    y, _ = symbols()
    pts = [(v,) for v in ("0.137", "0.31", "0.4621", "0.709", "0.883")]
    vals = _mp_values(e, [y], pts)
    import mpmath
    if any(v is not None and abs(v) >= mpmath.mpf("1e-30") for v in vals):
        return False
    if any(v is None for v in vals):
        # undecided by mpmath: a float64 value far from 0 still says "not zero"
        fv = _float_values(e, [y], pts)
        if np.any(np.isinf(fv) | (np.abs(fv) > 1e-6)):
            return False
        return None
    return True


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
