"""The cost asymmetry of a loss about the target: the ratio R(y, delta), the Taylor series of
the excess and the leading odd term of L(y, y + d) - L(y, y - d) with its sign over (0, 1)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .._inputs import real_array
from ..losses import Loss
from ..losses import _internal_symbols as symbols  # the analysis works in positive y, p
from ..losses import _to_public
from ._common import _as_loss, _out, _public_fields, _targets
from ._symbolic import _dp_at_target, _expr, _is_smooth, _is_zero, _sp, _tidy
from .gradients import _third
from .minimizers import argmin

__all__ = ["asymmetry_ratio", "series", "series_symbol", "asymmetry_coefficient", "Asymmetry"]

def asymmetry_ratio(loss, y, delta):
    """R(y, delta) = excess(y, y + s delta) / excess(y, y - s delta), s = sign(y - 1/2).

    The excess cost of moving the prediction a distance ``delta`` from the target *away from*
    1/2 (toward 0 or 1) over the excess cost of moving it *toward* 1/2; s = +1 at y = 1/2.  The
    excesses are the catalogue's cancellation-free ``loss.excess``.  R > 1: moving toward 0 or 1
    is dearer (BCE at every y != 1/2); R = 1: symmetric (MSE, MAE, Huber); R < 1: moving toward
    1/2 is dearer.

    ``loss`` is a catalogue name or a :class:`~lossanalysis.losses.Loss`; ``y`` in [0, 1] and
    ``delta`` > 0 broadcast.  The result is NaN where y + delta or y - delta leaves the open
    interval (0, 1) -- this also keeps y inside every loss's target domain, since y - delta > 0
    and y + delta < 1 imply 0 < y < 1 -- and where both excesses underflow to 0.

    Resolution: the points y +- delta are rounded to float64, which perturbs each excess by a
    relative 2 ulp(y)/delta; differences |R - 1| below about 4 eps (1 + 1/delta) are not
    resolved unless y +- delta are exact (e.g. dyadic y and delta).

    >>> float(asymmetry_ratio("mse", 0.75, 0.125))      # dyadic: y +- delta exact
    1.0
    >>> bool(asymmetry_ratio("bce", 0.8, 0.1) > 1)
    True
    """
    loss = _as_loss(loss)
    y = _targets(y)
    delta = real_array(delta, "delta", np.float64)
    if not np.all(np.isfinite(delta) & (delta > 0)):
        raise ValueError(f"delta must be finite and > 0; got {delta.ravel()[0]!r}"
                         if delta.ndim else f"delta must be finite and > 0; got {delta[()]!r}")
    y, delta = np.broadcast_arrays(y, delta)
    s = np.where(y >= 0.5, 1.0, -1.0)
    away, toward = y + s * delta, y - s * delta
    valid = (away > 0) & (away < 1) & (toward > 0) & (toward < 1)
    out = np.full(y.shape, np.nan)
    if np.any(valid):
        yv = y[valid]
        num = loss.excess(yv, away[valid], check=False)
        den = loss.excess(yv, toward[valid], check=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[valid] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return _out(out)


_D = None


def series_symbol():
    """The SymPy symbol ``d`` (real) of :func:`series`: the prediction is p = y + d."""
    global _D
    if _D is None:
        _D = _sp().Symbol("d", real=True)
    return _D


def series(loss, order=4):
    """The expansion of L(y, y + d) - L(y, y) in d, through d**order (a SymPy expression).

    For a smooth loss this is the Taylor polynomial sum_{k=1}^{order} L^(k)(y, y) d^k / k!
    (L^(k) = d^k L/dp^k, coefficients simplified); the remainder O(d^(order+1)) is not included.
    The linear term vanishes exactly for losses whose minimizer is the target (proper losses).
    ``d`` is :func:`series_symbol` (also ``analysis.d``).

    A non-smooth loss (mae, huber, or any loss whose expression contains Abs, Piecewise, sign,
    Max, Min, ...) has no Taylor expansion at d = 0; the exact difference L(y, y + d) - L(y, y)
    is returned instead (``|d|`` for mae, a Piecewise that is ``d**2/2`` for |d| <= delta for
    huber).

    >>> series("mse")
    d**2
    """
    sp = _sp()
    loss = _as_loss(loss)
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be an integer >= 1, got {order!r}")
    y, p = symbols()
    d = series_symbol()
    if not _is_smooth(loss):
        e = _expr(loss)
        return _to_public(_tidy(e.subs(p, y + d) - e.subs(p, y)))
    terms = [_dp_at_target(loss, k) * d ** k / sp.factorial(k) for k in range(1, int(order) + 1)]
    return _to_public(sp.Add(*terms))


_SIGN_TEXT = {
    "away": "moving toward 0 or 1 (away from 1/2) is dearer than moving toward 1/2",
    "toward": "moving toward 1/2 is dearer than moving toward 0 or 1",
    "none": "moving either way costs the same",
    "mixed": "the dearer direction depends on y",
}


@dataclass(frozen=True)
class Asymmetry:
    """The leading odd term of A(y, d) = L(y, y + d) - L(y, y - d) = coefficient * d**order + ...

    Attributes
    ----------
    loss : the loss name.
    order : the power of d of the leading odd term: 3 for smooth proper losses (the linear term
        2 L_p(y, y) d vanishes), 1 for improper ones (reported as is: it dominates for small d),
        None when A(y, d) == 0 identically (the two sides cost exactly the same, to all orders).
    coefficient : SymPy expression in y (0 when ``order`` is None); for order 3 it is
        L_ppp(y, y)/3, for order 1 it is 2 L_p(y, y).
    sign : "away" (coefficient has the sign of y - 1/2 on (0, 1): moving toward 0 or 1 is dearer,
        as for BCE), "toward" (the opposite), "none" (exactly symmetric) or "mixed".
    classification : the same in words.
    about_minimizer : for improper losses (order 1) the sign, in the same vocabulary, of the
        cubic asymmetry about the loss's own minimizer p* (L_ppp(y, p*)); None otherwise.
    evidence : how the sign was established ("symbolic" or a 40-digit grid), grid extremes, ...
    """

    loss: str
    order: int | None
    coefficient: object
    sign: str
    classification: str
    about_minimizer: str | None = None
    evidence: dict = field(default_factory=dict)

    def leading_term(self):
        """coefficient * d**order as a SymPy expression (0 for symmetric losses)."""
        if self.order is None:
            return _sp().Integer(0)
        return self.coefficient * series_symbol() ** self.order


def _sign_on_unit(expr):
    """Sign of s(y) * expr(y) on (0, 1), s = sign(y - 1/2): ("away"|"toward"|"mixed", evidence).

    First tries a proof: expr/(2y - 1) with y = t/(1 + t), t > 0, decided by SymPy's
    assumptions; otherwise a 40-digit evaluation on a grid of 398 points avoiding y = 1/2.
    """
    sp = _sp()
    y, _ = symbols()
    t = sp.Symbol("t", positive=True)
    try:
        r = _tidy(expr / (2 * y - 1)).subs(y, t / (1 + t))
        r = sp.factor(sp.together(r))
        if r.is_positive:
            return "away", {"method": "symbolic: coefficient/(2y - 1) > 0 on (0, 1)"}
        if r.is_negative:
            return "toward", {"method": "symbolic: coefficient/(2y - 1) < 0 on (0, 1)"}
    except (TypeError, ValueError, NotImplementedError, AttributeError):
        pass
    import mpmath
    f = sp.lambdify(y, expr, modules=["mpmath"])
    grid = [mpmath.mpf(i) / 400 for i in range(1, 400) if i != 200]
    with mpmath.workdps(40):
        q = [float(mpmath.re(mpmath.mpmathify(f(v))) * (1 if v > 0.5 else -1)) for v in grid]
    q = np.array(q)
    ev = {"method": "40-digit grid y = k/400, k = 1..399 (k != 200)",
          "min s*coefficient": float(q.min()), "max s*coefficient": float(q.max())}
    if np.all(q > 0):
        return "away", ev
    if np.all(q < 0):
        return "toward", ev
    return "mixed", ev


@functools.lru_cache(maxsize=None)
def _asymmetry(loss: Loss) -> Asymmetry:
    sp = _sp()
    y, p = symbols()
    d = series_symbol()
    e = _expr(loss)
    exact = e.subs(p, y + d) - e.subs(p, y - d)
    smooth = _is_smooth(loss)
    if exact == 0 or (not smooth and _tidy(exact) == 0):
        return Asymmetry(loss.name, None, sp.Integer(0), "none", _SIGN_TEXT["none"],
                         evidence={"method": "exact: L(y, y + d) - L(y, y - d) == 0"})
    if not smooth:
        # a kinked loss whose two sides differ: report the exact difference, sign on a grid
        import mpmath
        f = sp.lambdify((y, d), exact, modules=["mpmath"])
        vals = [float(f(mpmath.mpf(i) / 40, mpmath.mpf(j) / 400) * (1 if i > 20 else -1))
                for i in range(2, 39) if i != 20 for j in (1, 5, 20)]
        sign = "away" if min(vals) > 0 else "toward" if max(vals) < 0 else "mixed"
        return Asymmetry(loss.name, None, _tidy(exact), sign, _SIGN_TEXT[sign],
                         evidence={"method": "exact difference on a grid (non-smooth loss)"})
    for k in (1, 3, 5, 7):
        c = _tidy(2 * _dp_at_target(loss, k) / sp.factorial(k))
        if not _is_zero(c):
            break
    else:  # every odd coefficient through d^7 vanishes
        return Asymmetry(loss.name, None, sp.Integer(0), "none", _SIGN_TEXT["none"],
                         evidence={"method": "odd Taylor coefficients vanish through d^7"})
    sign, ev = _sign_on_unit(c)
    ev = dict(ev, formula=f"L(y, y + d) - L(y, y - d) = ({sp.sstr(c)}) d^{k} + O(d^{k + 2})")
    about_min = None
    if k == 1:
        about_min, ev_min = _asymmetry_about_minimizer(loss)
        ev["about_minimizer"] = ev_min
    return Asymmetry(loss.name, k, c, sign, _SIGN_TEXT[sign], about_min, ev)


def _asymmetry_about_minimizer(loss: Loss):
    """Sign of s(y) L_ppp(y, p*(y)) on a grid (numeric), for losses with p* != y."""
    yg = np.linspace(0.02, 0.98, 49)
    yg = yg[np.abs(yg - 0.5) > 1e-9]
    ps = np.asarray(argmin(loss, yg))
    inside = (ps > 0) & (ps < 1)
    yg, ps = yg[inside], ps[inside]
    l3 = np.asarray(_third(loss, yg, ps), dtype=float)
    finite = np.isfinite(l3)
    q = (l3 * np.sign(ps - 0.5))[finite]
    ev = {"method": "grid y = 0.02..0.98 (step 0.02, y != 1/2, p* representable inside (0, 1)):"
                    " sign of (p* - 1/2) L_ppp(y, p*), p* = argmin",
          "points": int(q.size), "min": float(q.min()), "max": float(q.max())}
    if np.all(q > 0):
        return "away", ev
    if np.all(q < 0):
        return "toward", ev
    return "mixed", ev


def asymmetry_coefficient(loss) -> Asymmetry:
    """The leading odd term of L(y, y + d) - L(y, y - d) and its sign over (0, 1).

    For a smooth loss, L(y, y + d) - L(y, y - d) = 2 L_p(y, y) d + (1/3) L_ppp(y, y) d^3 + O(d^5).
    Convention (decided here): the asymmetry is measured **about the target** p = y, the point the
    thread's claims are about ("for a target of 0.8, predicting 0.9 costs more than 0.7").  For
    a proper loss L_p(y, y) = 0 and the leading term is cubic, (1/3) L_ppp(y, y) d^3.  For an
    improper loss (focal, continuous Bernoulli, beta NLL) L_p(y, y) != 0 and the leading odd term
    is the *linear* one, 2 L_p(y, y) d, which is reported honestly (``order`` = 1): the cheaper
    side is then simply the side of the loss's own minimizer.  The cubic asymmetry about that
    minimizer is given in ``about_minimizer``.

    The sign is stated with s = sign(y - 1/2): ``"away"`` when s * coefficient > 0 on (0, 1) --
    moving toward 0 or 1 costs more than moving toward 1/2 (BCE, KL, reverse KL, logit MSE) --
    ``"toward"`` for the opposite, ``"none"`` when L(y, y + d) == L(y, y - d) exactly (MSE,
    Gaussian NLL; MAE, whose two sides are both |d|; Huber, symmetric in d), ``"mixed"`` when the
    sign changes.  Non-smooth losses are decided on the exact difference.

    >>> a = asymmetry_coefficient("bce"); a.order, a.sign
    (3, 'away')
    """
    return _public_fields(_asymmetry(_as_loss(loss)))
