"""The statements the analysis and the claims rely on, for each loss, as :class:`Statement`s.

Families (one builder each; the sign each one asserts is the analysis' own classification,
so a certificate proves -- or disproves -- exactly what the analysis reports):

* ``asymmetry`` -- R(y, delta) > 1 (or < 1) for every y != 1/2: the prediction moved delta
  away from 1/2 costs more (less) than moved delta toward it; = 1 as an identity for the
  symmetric losses.  (R > 1 is L(y, y - s delta) > L(y, y + s delta) with s = sign(1/2 - y),
  whatever the loss's minimum, see ``asymmetry_ratio``.)
* ``proper`` -- argmin_p L(y, p) = y: dL/dp < 0 for p < y and > 0 for p > y.
* ``location`` -- an improper loss's minimizer: strictly between y and 1/2 (pulled toward
  1/2 but not past it), or farther from 1/2 than y.
* ``noise/prob``, ``noise/logit`` -- the sign of the sigma^2 coefficient of the noise-induced
  bias (``noise_bias_coefficient``): toward 1/2, away, or zero identically.
* ``canonical`` -- dL/dz = sigmoid(z) - y: logit noise of any size leaves E[p] = y exactly.
* ``mean`` -- dL/dp is affine in y: for any distribution of targets the optimum is the one
  for their mean (the edge pixel's optimum is its mean intensity).
* ``second-order`` -- claim 4: at y = 1/2 the zero-normalized BCE is 2 MSE to second order
  in d = p - 1/2, not beyond: 3 d^4 < KL - 2 d^2 (all d) and KL - 2 d^2 < 5 d^4 (|d| <= 1/4).

The half y < 1/2 is proven by branch and bound; y > 1/2 follows from the mirror identity
L(1 - y, 1 - p) = L(y, p) where SymPy proves it (every catalogue loss), else it is a second
sign condition.  Domains reach within :data:`EPS` = 2^-30 of 0 and 1: the logarithms of the
cross-entropy family are unbounded there, and the excluded neighbourhood is stated in every
statement.
"""
from __future__ import annotations

import functools
from fractions import Fraction

from .certificate import Condition, Statement, Variable

__all__ = ["EPS", "RANGES", "FAMILIES", "statements", "catalogue", "get_statement"]

#: The excluded neighbourhood of 0 and 1 (exact: 2^-30, about 9.3e-10).
EPS = Fraction(1, 2 ** 30)
HALF = Fraction(1, 2)
ONE = Fraction(1)

#: Parameter ranges proven for the parametrized catalogue losses (exact binary endpoints).
RANGES = {"focal": ("gamma", Fraction(1, 2), Fraction(5)),
          "huber": ("delta", Fraction(1, 128), Fraction(1)),
          "gaussian_nll": ("sigma", Fraction(1, 128), Fraction(8)),
          "beta_nll": ("kappa", Fraction(1), Fraction(64))}

FAMILIES = ("asymmetry", "proper", "location", "noise/prob", "noise/logit", "canonical",
            "mean", "second-order")

_EXCLUDED = ("targets and predictions within 2^-30 (about 9.3e-10) of 0 and 1: the cross-"
             "entropy family's logarithms are unbounded there")


def _sp():
    import sympy
    return sympy


@functools.lru_cache(maxsize=None)
def _symbols():
    sp = _sp()
    from .._symbols import internal_symbols
    y, p = internal_symbols()
    t = sp.Symbol("t", positive=True)
    d = sp.Symbol("d", positive=True)
    z = sp.Symbol("z", real=True)
    return y, p, t, d, z


def _expr(loss, param_symbol=None):
    """The loss's internal expression (parameters as numbers, or the ranged one as a
    symbol), with atanh(u) written u * atanhc_d(0, u) (see ``_interval.without_atanh``)."""
    from . import _interval as I
    from ..losses import internal_expr, is_catalogue
    if not is_catalogue(loss) or param_symbol is None:
        e = internal_expr(loss)
    else:
        e = internal_expr(loss, param_symbol)
    return I.without_atanh(e)


def _sample(expr, values):
    """The sign of ``expr`` at a point (dict symbol -> Fraction), rigorously: 1, -1, or 0 when
    the ball contains 0 (the expression vanishes there, or is not resolved)."""
    from . import _interval as I
    syms = list(values)
    with I.precision():
        v = I.compile_expr(expr, syms)([I.ball(Fraction(values[s])) for s in syms])
    if v.is_finite() and v > 0:
        return 1
    if v.is_finite() and v < 0:
        return -1
    return 0


def _looks_zero(expr) -> bool:
    """Whether ``expr`` is 0 (to 128 bits) at four fixed points: how a statement chooses its
    form (an identity, the mirror); the identity itself is then proven by :func:`prove`."""
    from . import _interval as I
    if expr == 0:
        return True
    syms = sorted(expr.free_symbols, key=str)
    try:
        with I.precision():
            fn = I.compile_expr(expr, syms)
            for k in range(4):
                v = fn([I.ball(Fraction(2 + k + j, 7 + 2 * k + j)) for j in range(len(syms))])
                if not (v.is_finite() and abs(v) < I.ball(Fraction(1, 2 ** 100))):
                    return False
    except I.Unsupported:
        return False
    return True


def _mirror(e, y, p):
    """L(1 - y, 1 - p) - L(y, p)."""
    return e.subs({y: 1 - y, p: 1 - p}, simultaneous=True) - e


def _params_words(loss, param=None):
    if param is not None:
        name, lo, hi = param
        return f"{name} in [{_fmt(lo)}, {_fmt(hi)}]"
    if not loss.params:
        return "no parameters"
    return ", ".join(f"{k} = {v:g}" for k, v in loss.params.items()) + " (default)" \
        if _is_default(loss) else ", ".join(f"{k} = {v:g}" for k, v in loss.params.items())


def _is_default(loss):
    from ..losses import get_loss
    try:
        return get_loss(loss.name) == loss
    except ValueError:
        return False


def _fmt(f):
    f = Fraction(f)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def _id(family, loss, param):
    tag = loss.name
    if param is not None:
        tag += f"[{param[0]}={_fmt(param[1])}..{_fmt(param[2])}]"
    elif loss.params and not _is_default(loss):
        tag += "[" + ",".join(f"{k}={v:g}" for k, v in loss.params.items()) + "]"
    return f"{family}/{tag}"


def _unit(sym, lo, hi):
    return Variable(sym, Fraction(lo), Fraction(hi), "unit")


def _param_var(param):
    sp = _sp()
    name, lo, hi = param
    return Variable(sp.Symbol(name, positive=True), lo, hi, "param")


def _half_and_mirror(loss, e, conds_left, conds_right, mirror_words):
    """[mirror identity] + left conditions, or left + right conditions without the mirror."""
    y, p, *_ = _symbols()
    m = _mirror(e, y, p)
    extra = tuple(v for v in conds_left[0].variables if v.kind == "param")
    if _looks_zero(m):
        return (Condition(mirror_words, m, "== 0", (_unit(y, 0, 1), _unit(p, 0, 1)) + extra),
                *conds_left)
    return (*conds_left, *conds_right)


# ----------------------------------------------------------------------------------------------
# Families
# ----------------------------------------------------------------------------------------------
def _asymmetry(loss, param=None):
    y, p, t, d, _ = _symbols()
    e = _expr(loss, param and _param_var(param).symbol)
    extra = (_param_var(param),) if param else ()
    pw = _params_words(loss, param)
    diff = e.subs(p, y + d) - e.subs(p, y - d)
    if _looks_zero(diff):
        return Statement(
            _id("asymmetry", loss, param), "asymmetry", loss.name, pw,
            "R(y, delta) = 1 for every y and delta: L(y, y + d) = L(y, y - d) identically",
            (Condition("L(y, y + d) - L(y, y - d) == 0", diff, "== 0",
                       (_unit(y, 0, 1), _unit(d, 0, 1)) + extra),))
    # y < 1/2: away is p = y (1 - t), toward is p = y (1 + t), delta = t y; the sign asserted
    # is the one at y = 1/4, delta = 1/8 (the analysis' leading term has it too)
    left = e.subs(p, y * (1 - t)) - e.subs(p, y * (1 + t))
    at = {y: Fraction(1, 4), t: Fraction(1, 2)}
    if param:
        at[_param_var(param).symbol] = Fraction(loss.params[param[0]])
    rel, what = (">", "R(y, delta) > 1") if _sample(left, at) >= 0 else ("<", "R(y, delta) < 1")
    dear = "away from 1/2 (toward 0 or 1)" if rel == ">" else "toward 1/2"
    right = e.subs(p, y + t * (1 - y)) - e.subs(p, y - t * (1 - y))
    box_l = (_unit(y, EPS, HALF), _unit(t, 0, ONE - EPS)) + extra
    box_r = (_unit(y, HALF, ONE - EPS), _unit(t, 0, ONE - EPS)) + extra
    conds = _half_and_mirror(
        loss, e,
        (Condition(f"y < 1/2: L(y, y - delta) - L(y, y + delta) {rel} 0, delta = t y",
                   left, rel, box_l, lines=((t, 0), (y, HALF))),),
        (Condition(f"y > 1/2: L(y, y + delta) - L(y, y - delta) {rel} 0, delta = t (1 - y)",
                   right, rel, box_r, lines=((t, 0), (y, HALF))),),
        "mirror: L(1 - y, 1 - p) = L(y, p), so y > 1/2 follows from y < 1/2")
    return Statement(
        _id("asymmetry", loss, param), "asymmetry", loss.name, pw,
        f"{what} for every y != 1/2 and every delta with y +- delta in (0, 1): moving the "
        f"prediction {dear} costs more",
        conds, (_EXCLUDED + "; delta within a factor 2^-30 of its largest value",))


def _proper(loss, param=None):
    y, p, t, *_ = _symbols()
    e = _expr(loss, param and _param_var(param).symbol)
    extra = (_param_var(param),) if param else ()
    lp = _sp().diff(e, p)
    left = lp.subs(p, y * (1 - t))
    right = lp.subs(p, y + t * (1 - y))
    box = (_unit(y, EPS, ONE - EPS), _unit(t, 0, ONE - EPS)) + extra
    conds = _half_and_mirror(
        loss, e,
        (Condition("dL/dp < 0 for p = y (1 - t) < y", left, "<", box, lines=((t, 0),)),),
        (Condition("dL/dp > 0 for p = y + t (1 - y) > y", right, ">", box, lines=((t, 0),)),),
        "mirror: L(1 - y, 1 - p) = L(y, p), so dL/dp > 0 above y follows from < 0 below")
    return Statement(
        _id("proper", loss, param), "proper", loss.name, _params_words(loss, param),
        "argmin_p L(y, p) = y for every y: L falls strictly below the target and rises "
        "strictly above it",
        conds, (_EXCLUDED + " (y in [2^-30, 1 - 2^-30]; p from 2^-30 y to 1 - 2^-30 (1 - y))",))


def _location(loss, param=None):
    y, p, t, *_ = _symbols()
    e = _expr(loss, param and _param_var(param).symbol)
    extra = (_param_var(param),) if param else ()
    lp = _sp().diff(e, p)
    direction = _direction(loss, lp, param)
    pw = _params_words(loss, param)
    if direction == "toward 1/2":
        c1 = Condition("y <= 1/2: dL/dp < 0 for p = y (1 - t) <= y", lp.subs(p, y * (1 - t)),
                       "<", (_unit(y, EPS, HALF), _unit(t, 0, ONE - EPS)) + extra,
                       corners=({y: HALF, t: 0},))
        c2 = Condition("y <= 1/2: dL/dp > 0 for p >= 1/2", lp, ">",
                       (_unit(y, EPS, HALF), _unit(p, HALF, ONE - EPS)) + extra,
                       corners=({y: HALF, p: HALF},))
        r1 = Condition("y >= 1/2: dL/dp > 0 for p = y + t (1 - y) >= y",
                       lp.subs(p, y + t * (1 - y)), ">",
                       (_unit(y, HALF, ONE - EPS), _unit(t, 0, ONE - EPS)) + extra,
                       corners=({y: HALF, t: 0},))
        r2 = Condition("y >= 1/2: dL/dp < 0 for p <= 1/2", lp, "<",
                       (_unit(y, HALF, ONE - EPS), _unit(p, EPS, HALF)) + extra,
                       corners=({y: HALF, p: HALF},))
        conds = _half_and_mirror(loss, e, (c1, c2), (r1, r2),
                                 "mirror: L(1 - y, 1 - p) = L(y, p), so y > 1/2 follows")
        words = ("argmin_p L(y, p) lies strictly between y and 1/2 for every y != 1/2 (pulled "
                 "toward 1/2, never past it), and is 1/2 at y = 1/2")
    elif direction == "away from 1/2":
        c1 = Condition("y <= 1/2: dL/dp > 0 for p = y + t (1 - y) >= y",
                       lp.subs(p, y + t * (1 - y)), ">",
                       (_unit(y, EPS, HALF), _unit(t, 0, ONE - EPS)) + extra,
                       corners=({y: HALF, t: 0},))
        r1 = Condition("y >= 1/2: dL/dp < 0 for p = y (1 - t) <= y", lp.subs(p, y * (1 - t)),
                       "<", (_unit(y, HALF, ONE - EPS), _unit(t, 0, ONE - EPS)) + extra,
                       corners=({y: HALF, t: 0},))
        conds = _half_and_mirror(loss, e, (c1,), (r1,),
                                 "mirror: L(1 - y, 1 - p) = L(y, p), so y > 1/2 follows")
        words = ("argmin_p L(y, p) is farther from 1/2 than y for every y != 1/2 (below y "
                 "for y < 1/2, above it for y > 1/2)")
    else:
        return None
    return Statement(_id("location", loss, param), "location", loss.name, pw, words, conds,
                     (_EXCLUDED, "the point y = p = 1/2 itself, where dL/dp = 0 (the corner "
                      "is decided by the mean value theorem on the boxes around it)"))


def _direction(loss, lp, param=None):
    """Where the minimizer lies, from the sign of dL/dp at p = y for y = 1/4: "none" (it
    vanishes: proper), "toward 1/2" (dL/dp < 0: the loss still falls past the target) or
    "away from 1/2"."""
    y, p, *_ = _symbols()
    at = {y: Fraction(1, 4), p: Fraction(1, 4)}
    if param:
        at[_param_var(param).symbol] = Fraction(loss.params[param[0]])
    s = _sample(lp, at)
    return "none" if s == 0 else "toward 1/2" if s < 0 else "away from 1/2"


def _noise(loss, space):
    from ..analysis.noise import noise_coefficient_at
    y, p, *_ = _symbols()
    b2 = noise_coefficient_at(loss, space)      # the analysis' formula, at p = y (proper)
    if b2 is None:
        return None
    from . import _interval as I
    b2 = I.without_atanh(b2.subs(p, y))
    if b2.has(_sp().nan, _sp().zoo, _sp().oo, -_sp().oo):
        # L_pp vanishes at the target (e.g. (p - y)^4): the bias is not of order sigma^2 and
        # has no sigma^2 coefficient to sign -- the statement does not apply
        return None
    fam = f"noise/{space}"
    where = "in p" if space == "prob" else "in the logit"
    pw = _params_words(loss)
    if _looks_zero(b2):
        return Statement(_id(fam, loss, None), fam, loss.name, pw,
                         f"noise {where}: the sigma^2 coefficient of E[p] - y is 0 for every y",
                         (Condition("b2(y) == 0", b2, "== 0", (_unit(y, 0, 1),)),))
    with I.precision():
        v = I.compile_expr(b2, [y])([I.ball(Fraction(1, 4))])
    rel = ">" if v > 0 else "<"
    lean = "toward 1/2" if rel == ">" else "away from 1/2"
    mirror = b2.subs(y, 1 - y) + b2
    conds = [Condition(f"y < 1/2: b2(y) {rel} 0", b2, rel, (_unit(y, EPS, HALF),),
                       lines=((y, HALF),))]
    if _looks_zero(mirror):
        conds.insert(0, Condition("mirror: b2(1 - y) = -b2(y)", b2.subs(y, 1 - y) + b2, "== 0",
                                  (_unit(y, 0, 1),)))
    else:
        conds.append(Condition(f"y > 1/2: b2(y) {'<' if rel == '>' else '>'} 0", b2,
                               "<" if rel == ">" else ">", (_unit(y, HALF, ONE - EPS),),
                               lines=((y, HALF),)))
    return Statement(_id(fam, loss, None), fam, loss.name, pw,
                     f"noise {where}: the sigma^2 coefficient b2(y) of E[p] - y points "
                     f"{lean} for every y != 1/2 (the mean prediction leans {lean} to order "
                     "sigma^2)", tuple(conds), (_EXCLUDED,))


def _canonical(loss):
    sp = _sp()
    y, p, _, _, z = _symbols()
    e = _expr(loss)
    s = 1 / (1 + sp.exp(-z))
    ident = sp.diff(e.subs(p, s), z) - (s - y)
    return Statement(_id("canonical", loss, None), "canonical", loss.name, _params_words(loss),
                     "dL/dz = sigmoid(z) - y: with noise of any size in the logit, the optimum "
                     "sets E[sigmoid(z)] = y, so the mean prediction stays exactly on target",
                     (Condition("d/dz L(y, sigmoid(z)) - (sigmoid(z) - y) == 0", ident, "== 0",
                                (_unit(y, 0, 1), Variable(z, Fraction(-8), Fraction(8),
                                                          "param"))),))


def _mean(loss):
    sp = _sp()
    y, p, *_ = _symbols()
    e = _expr(loss)
    return Statement(_id("mean", loss, None), "mean", loss.name, _params_words(loss),
                     "dL/dp is affine in y, so for any distribution of targets the optimal "
                     "single prediction is the one for their mean (with properness: the mean)",
                     (Condition("d^2/dy^2 dL/dp == 0", sp.diff(e, p, 1, y, 2), "== 0",
                                (_unit(y, 0, 1), _unit(p, 0, 1))),))


def _second_order():
    from ..losses import get_loss
    sp = _sp()
    y, p, _, d, _ = _symbols()
    kl = _expr(get_loss("kl")).subs(y, HALF)
    f = sp.expand_log(kl.subs(p, sp.Rational(1, 2) + d), force=True) - 2 * d ** 2
    mirror = kl.subs(p, sp.Rational(1, 2) - d) - kl.subs(p, sp.Rational(1, 2) + d)
    return Statement(
        "second-order/kl", "second-order", "kl", "y = 1/2",
        "at y = 1/2, KL(1/2 || p) = 2 (p - 1/2)^2 + c (p - 1/2)^4 with c > 3 for every p and "
        "c < 5 for |p - 1/2| <= 1/4: the zero-normalized BCE is 2 MSE to second order in "
        "p - 1/2, not beyond",
        (Condition("mirror: KL(1/2 || 1/2 - d) = KL(1/2 || 1/2 + d)", mirror, "== 0",
                   (_unit(d, 0, HALF),)),
         Condition("KL - 2 d^2 - 3 d^4 > 0 for 0 < d < 1/2", f - 3 * d ** 4, ">",
                   (_unit(d, 0, HALF - EPS),), lines=((d, 0),)),
         Condition("5 d^4 - (KL - 2 d^2) > 0 for 0 < d <= 1/4", 5 * d ** 4 - f, ">",
                   (_unit(d, 0, Fraction(1, 4)),), lines=((d, 0),))),
        ("p within 2^-30 of 0 and 1, where KL(1/2 || p) is unbounded",))


# ----------------------------------------------------------------------------------------------
# Which statements apply to which loss
# ----------------------------------------------------------------------------------------------
def statements(loss, param_range: bool = False) -> list:
    """The statements that apply to ``loss``.

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a Loss (``Loss.from_expr`` too: the same statements are attempted).
    param_range : bool
        For a parametrized catalogue loss: the statements over :data:`RANGES` instead of
        at the loss's parameters.

    Returns
    -------
    list of Statement
    """
    from ..losses import as_loss, is_catalogue
    L = as_loss(loss)
    param = None
    if param_range:
        if not is_catalogue(L) or L.name not in RANGES:
            raise ValueError(f"loss: {L.name} has no parameter range to prove over "
                             f"(ranges: {', '.join(RANGES)})")
        param = RANGES[L.name]
    y, p, *_ = _symbols()
    proper = _direction(L, _sp().diff(_expr(L), p)) == "none"
    # properness is stated for every loss: for an improper one the certificate is a disproof
    # with a counterexample, beside where its minimizer lies
    out = [_asymmetry(L, param), _proper(L, param)]
    if not proper:
        loc = _location(L, param)
        if loc is not None:
            out.append(loc)
    if param is None and proper:
        for space in ("prob", "logit"):
            st = _noise(L, space)
            if st is not None:
                out.append(st)
    if param is None and is_catalogue(L):
        if L.name in ("bce", "kl"):
            out.append(_canonical(L))
        if L.name in ("mse", "bce", "kl", "gaussian_nll"):
            out.append(_mean(L))
        if L.name == "kl" and _is_default(L):
            out.append(_second_order())
    return out


@functools.lru_cache(maxsize=None)
def catalogue() -> tuple:
    """Every statement of the catalogue: each loss at its default parameters, and the
    parametrized ones over :data:`RANGES`."""
    from ..losses import LOSSES
    out = []
    for name in LOSSES:
        out.extend(statements(name))
        if name in RANGES:
            out.extend(statements(name, param_range=True))
    return tuple(out)


def get_statement(statement_id: str) -> Statement:
    """The catalogue statement with this id (ValueError naming it otherwise)."""
    for s in catalogue():
        if s.id == statement_id:
            return s
    raise ValueError(f"statement_id: no catalogue statement {statement_id!r}")
