"""The cost asymmetry of a loss about the target: the ratio R(y, delta), the Taylor series of
the excess and the leading odd term of L(y, y + d) - L(y, y - d) with its sign over (0, 1)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .. import _budget
from .._inputs import real_array
from .._symbols import internal_symbols as symbols  # the analysis works in positive y, p
from .._symbols import to_public
from ..losses import Loss, as_loss, is_catalogue, logit
from ._common import _out, _public_fields, _result_latex, _result_repr, _targets
from ._solve import find_root
from ._symbolic import (_dp_at_target, _expr, _float_values, _is_smooth, _is_zero,
                        _mp_values, _sp, _task, _tidy)
from .gradients import _third
from .minimizers import argmin

__all__ = ["asymmetry_ratio", "series", "series_symbol", "asymmetry_coefficient", "Asymmetry"]

#: Elements per block of :func:`asymmetry_ratio` (bounded memory for any number of targets).
_BLOCK = 1 << 16


def asymmetry_ratio(loss, y, delta):
    """R(y, delta): the excess cost of moving the prediction ``delta`` away from 1/2 over the
    excess cost of moving it ``delta`` toward 1/2.

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    y : array_like
        Targets in [0, 1].
    delta : array_like
        Distances > 0 (finite); broadcasts with ``y``.

    Returns
    -------
    numpy.ndarray or numpy.float64
        R = E(y, y + s delta) / E(y, y - s delta) with s = sign(y - 1/2) (s = +1 at y = 1/2)
        and E(y, p) = L(y, p) - min_q L(y, q) the excess over the loss's own minimum.

    Notes
    -----
    R > 1: moving toward 0 or 1 is dearer (BCE at every y != 1/2); R = 1: symmetric (MSE, MAE,
    Huber); R < 1: moving toward 1/2 is dearer.

    One rule for every loss: the excess is measured from the loss's minimum over p, so that
    E >= 0 always and R >= 0.  For a proper loss the minimum is at p = y and E is the
    catalogue's cancellation-free ``loss.excess``; for an improper loss (focal, continuous
    Bernoulli, beta NLL, a user loss) E = excess(y, p) - excess(y, p*) with p* = :func:`argmin`
    (the second term through the loss's logit form, ``value_logit``, where p* is inside
    (0, 1); absolute rounding about eps |excess(y, p*)|; a difference that rounds below 0 is
    0; a minimizer that rounds to 0 or 1 in p is taken in the logit, where it is an ordinary
    number).  NaN also where that fails (no minimum with |logit p*| <= 800).  R is
    +inf where only the "toward" excess is 0 (the toward point is the minimizer), and NaN where
    both are 0 or where y + delta or y - delta leaves the open interval (0, 1) -- which also
    keeps y inside every loss's target domain, since y - delta > 0 and y + delta < 1 imply
    0 < y < 1.

    Resolution: the points y +- delta are rounded to float64, which perturbs each excess by a
    relative 2 ulp(y)/delta; differences |R - 1| below about 4 eps (1 + 1/delta) are not
    resolved unless y +- delta are exact (e.g. dyadic y and delta).  Computed in blocks of
    65,536 elements (bounded memory).

    Examples
    --------
    >>> float(asymmetry_ratio("mse", 0.75, 0.125))      # dyadic: y +- delta exact
    1.0
    >>> bool(asymmetry_ratio("bce", 0.8, 0.1) > 1)
    True
    >>> float(asymmetry_ratio("focal", 0.3, 0.05)) > 1  # the toward point is nearer focal's p*
    True
    """
    loss = as_loss(loss)
    y = _targets(y)
    delta = real_array(delta, "delta", np.float64)
    bad = ~(np.isfinite(delta) & (delta > 0))
    if bad.any():
        raise ValueError(f"delta must be finite and > 0; got {float(delta[bad].ravel()[0])!r}")
    try:
        shape = np.broadcast_shapes(y.shape, delta.shape)
    except ValueError:
        raise ValueError(f"y with shape {y.shape} and delta with shape {delta.shape} do not "
                         "broadcast together") from None
    yb, db = np.broadcast_to(y, shape), np.broadcast_to(delta, shape)
    size = int(np.prod(shape))
    out = np.empty(size)
    for s in range(0, size, _BLOCK):
        out[s:s + _BLOCK] = _ratio_block(loss, yb.flat[s:s + _BLOCK], db.flat[s:s + _BLOCK])
    return _out(out.reshape(shape))


def _ratio_block(loss: Loss, y, delta):
    s = np.where(y >= 0.5, 1.0, -1.0)
    away, toward = y + s * delta, y - s * delta
    valid = (away > 0) & (away < 1) & (toward > 0) & (toward < 1)
    out = np.full(y.shape, np.nan)
    if not valid.any():
        return out
    yv = y[valid]
    with np.errstate(all="ignore"):
        num = np.asarray(loss.excess(yv, away[valid], check=False), dtype=float)
        den = np.asarray(loss.excess(yv, toward[valid], check=False), dtype=float)
        # the excess over the loss's own minimum: p* = y where the catalogue loss is stationary
        # at the target (its single stationary point); argmin elsewhere and for user losses
        if is_catalogue(loss):
            need = np.flatnonzero(np.asarray(loss.grad(yv, yv, check=False)) != 0)
        else:
            need = np.arange(yv.size)
        if need.size:
            yn = yv[need]
            ps = np.asarray(argmin(loss, yn), dtype=float)
            # L(y, p*) - L(y, y): in the logit where p* is inside (0, 1) (a minimizer at
            # 1e-100 is an ordinary logit, while 1 - 2 p* rounds), else at the boundary in p
            inside = (ps > 0) & (ps < 1)
            zs = logit(np.where(inside, ps, 0.5))
            edge = np.flatnonzero(~inside)
            if edge.size:
                # a minimizer that rounds to 0 or 1 in p (the CB's at y > 0.973 is
                # 1 - e^(-1/(1 - y))) is still an ordinary number in the logit
                ze, status = _logit_minimizer(loss, yn[edge])
                ok = status == 0
                zs[edge[ok]] = ze[ok]
                inside[edge[ok]] = True
            base = np.where(inside,
                            np.asarray(loss.value_logit(yn, zs, check=False))
                            - np.asarray(loss.value_logit(yn, logit(yn), check=False)),
                            np.asarray(loss.excess(yn, ps, check=False)))
            num[need] = np.maximum(num[need] - base, 0.0)
            den[need] = np.maximum(den[need] - base, 0.0)
        out[valid] = np.where(den > 0, num / np.where(den > 0, den, 1.0),
                              np.where(num > 0, np.inf, np.nan))
    return out


def _logit_minimizer(loss: Loss, y):
    """(z*, status): the root of dL/dz(y, z) in [-800, 800], where L rises through it; status
    0 where found (see ``_solve.find_root``)."""
    def f(z, idx):
        return loss.grad_logit(y[idx], z, check=False)

    return find_root(f, np.full(y.shape, -800.0), np.full(y.shape, 800.0))


_D = None


def series_symbol():
    """The SymPy symbol ``d`` of :func:`series` and :func:`asymmetry_coefficient`.

    Returns
    -------
    sympy.Symbol
        ``d`` (real), the distance of the prediction from the target: p = y + d.  Created on
        first use (no SymPy import when the package loads); also ``analysis.d``.

    Examples
    --------
    >>> d = series_symbol(); d, d.is_real
    (d, True)
    """
    global _D
    if _D is None:
        _D = _sp().Symbol("d", real=True)
    return _D


def series(loss, order=4):
    """The expansion of the excess L(y, y + d) - L(y, y) in the distance d, through d**order.

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    order : int, optional
        The highest power of d kept (>= 1; default 4).

    Returns
    -------
    sympy.Expr
        In y and d (:func:`series_symbol`).  For a smooth loss the Taylor polynomial

            sum_{k=1}^{order} L^(k)(y, y) d^k / k!,   L^(k) = d^k L / dp^k,

        coefficients simplified; the remainder O(d^(order+1)) is not included.  The linear term
        vanishes exactly for losses whose minimizer is the target (proper losses).  A
        non-smooth loss (mae, huber, or any loss whose expression contains Abs, Piecewise,
        sign, Max, Min, ...) has no Taylor expansion at d = 0: the exact difference
        L(y, y + d) - L(y, y) is returned instead (``|d|`` for mae, a Piecewise that is
        ``d**2/2`` for |d| <= delta for huber).

    Examples
    --------
    >>> series("mse")
    d**2
    >>> series("bce", 3)
    d**3*(2*y - 1)/(3*y**2*(1 - y)**2) + d**2/(2*y*(1 - y))
    >>> series("mae")
    Abs(d)
    """
    sp = _sp()
    loss = as_loss(loss)
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be an integer >= 1, got {order!r}")
    y, p = symbols()
    d = series_symbol()
    with _task(loss, "the series"):
        if not _is_smooth(loss):
            e = _expr(loss)
            return to_public(_tidy(_budget.checked(e.subs(p, y + d) - e.subs(p, y),
                                                    "the exact difference")))
        terms = [_dp_at_target(loss, k) * d ** k / sp.factorial(k)
                 for k in range(1, int(order) + 1)]
        return to_public(sp.Add(*terms))


_SIGN_TEXT = {
    "away": "moving toward 0 or 1 (away from 1/2) is dearer than moving toward 1/2",
    "toward": "moving toward 1/2 is dearer than moving toward 0 or 1",
    "none": "moving either way costs the same",
    "mixed": "the dearer direction depends on y",
}


@dataclass(frozen=True)
class Asymmetry:
    """The leading odd term of A(y, d) = L(y, y + d) - L(y, y - d) = coefficient * d**order + ...

    Returned by :func:`asymmetry_coefficient`.  Its ``repr`` lists one field per line; in
    Jupyter it renders as a table with the coefficient typeset (``_repr_latex_``).

    Attributes
    ----------
    loss : str
        The loss name.
    order : int or None
        The power of d of the leading odd term: 3 for smooth proper losses (the linear term
        2 L_p(y, y) d vanishes), 1 for improper ones (reported as is: it dominates for small
        d), None when A(y, d) == 0 identically (the two sides cost exactly the same, to all
        orders).
    coefficient : sympy.Expr
        In y (0 when ``order`` is None); for order 3 it is L_ppp(y, y)/3, for order 1 it is
        2 L_p(y, y).  For a kinked loss whose two sides differ, the exact difference A(y, d).
    sign : str
        "away" (the coefficient has the sign of y - 1/2 on (0, 1): moving toward 0 or 1 is
        dearer, as for BCE), "toward" (the opposite), "none" (exactly symmetric) or "mixed".
    classification : str
        The same in words.
    about_minimizer : str or None
        For improper losses (order 1) the sign, in the same vocabulary, of the cubic asymmetry
        about the loss's own minimizer p* (L_ppp(y, p*)); None otherwise.
    evidence : dict
        How the sign was established ("symbolic" or a 40-digit grid), grid extremes, ...

    Examples
    --------
    >>> a = asymmetry_coefficient("logit_mse")
    >>> a.order, a.sign
    (3, 'away')
    >>> a.leading_term()
    2*d**3*(2*y - 1)/(y**3*(1 - y)**3)
    """

    loss: str
    order: int | None
    coefficient: object
    sign: str
    classification: str
    about_minimizer: str | None = None
    evidence: dict = field(default_factory=dict)

    def leading_term(self):
        """coefficient * d**order as a SymPy expression (0 for symmetric losses).

        >>> asymmetry_coefficient("mse").leading_term()
        0
        """
        if self.order is None:
            return _sp().Integer(0)
        return self.coefficient * series_symbol() ** self.order

    def __repr__(self):
        return _result_repr(self)

    def _repr_latex_(self):
        k = "k" if self.order is None else str(self.order)
        return _result_latex(self, {"coefficient": r"\text{coefficient of } d^{" + k + "}"})


def _sign_on_unit(expr):
    """Sign of s(y) * expr(y) on (0, 1), s = sign(y - 1/2): ("away"|"toward"|"mixed", evidence).

    First tries a proof: expr/(2y - 1) with y = t/(1 + t), t > 0, decided by SymPy's
    assumptions; otherwise a 40-digit evaluation on a grid of 398 points avoiding y = 1/2
    (float64 where the expression overflows there: its sign is still that of the value; a
    point where neither is defined makes the answer "mixed").
    """
    sp = _sp()
    y, _ = symbols()
    t = sp.Symbol("t", positive=True)
    with _budget.soft(1.0) as gave_up:
        try:
            r = _tidy(expr / (2 * y - 1)).subs(y, t / (1 + t))
            r = sp.factor(sp.together(r))
            if r.is_positive:
                return "away", {"method": "symbolic: coefficient/(2y - 1) > 0 on (0, 1)"}
            if r.is_negative:
                return "toward", {"method": "symbolic: coefficient/(2y - 1) < 0 on (0, 1)"}
        except (TypeError, ValueError, NotImplementedError, AttributeError):
            pass
    del gave_up
    ks = [i for i in range(1, 400) if i != 200]
    points = [(Fraction(i, 400),) for i in ks]
    q = _signed_values(expr, [y], points, [1 if i > 200 else -1 for i in ks])
    ev = {"method": "40-digit grid y = k/400, k = 1..399 (k != 200)",
          "min s*coefficient": float(np.nanmin(q)) if np.isfinite(q).any() else float("nan"),
          "max s*coefficient": float(np.nanmax(q)) if np.isfinite(q).any() else float("nan")}
    if np.all(q > 0):
        return "away", ev
    if np.all(q < 0):
        return "toward", ev
    return "mixed", ev


def _signed_values(expr, syms, points, signs):
    """s_i * Re expr(point_i): 40-digit mpmath where float64 does not overflow, float64 (whose
    sign is right, inf included) elsewhere; NaN where neither is defined."""
    import mpmath
    mp = _mp_values(expr, syms, points)
    fl = None
    out = np.empty(len(points))
    for i, (v, s) in enumerate(zip(mp, signs)):
        if v is not None:
            out[i] = float(mpmath.re(v)) * s
            continue
        if fl is None:
            fl = _float_values(expr, syms, points)
        out[i] = fl[i] * s
    return out


@functools.lru_cache(maxsize=None)
def _asymmetry(loss: Loss) -> Asymmetry:
    with _task(loss, "the asymmetry"):
        return _asymmetry_of(loss)


def _asymmetry_of(loss: Loss) -> Asymmetry:
    sp = _sp()
    y, p = symbols()
    d = series_symbol()
    e = _expr(loss)
    exact = _budget.checked(e.subs(p, y + d) - e.subs(p, y - d), "the exact difference")
    smooth = _is_smooth(loss)
    if exact == 0 or (not smooth and _tidy(exact) == 0):
        return Asymmetry(loss.name, None, sp.Integer(0), "none", _SIGN_TEXT["none"],
                         evidence={"method": "exact: L(y, y + d) - L(y, y - d) == 0"})
    if not smooth:
        # a kinked loss whose two sides differ: report the exact difference, sign on a grid
        pairs = [(i, j) for i in range(2, 39) if i != 20 for j in (1, 5, 20)]
        vals = _signed_values(exact, [y, d], [(Fraction(i, 40), Fraction(j, 400)) for i, j in pairs],
                              [1 if i > 20 else -1 for i, _ in pairs])
        sign = "away" if np.all(vals > 0) else "toward" if np.all(vals < 0) else "mixed"
        return Asymmetry(loss.name, None, _tidy(exact), sign, _SIGN_TEXT[sign],
                         evidence={"method": "exact difference on a grid (non-smooth loss)"})
    for k in (1, 3, 5, 7):
        c = _tidy(2 * _dp_at_target(loss, k) / sp.factorial(k))
        if _is_zero(c) is not True:     # not zero, or undecided (reported with its sign)
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
          "points": int(q.size)}
    if q.size == 0:
        ev["result"] = "no target of the grid has its minimizer inside (0, 1)"
        return None, ev
    ev.update({"min": float(q.min()), "max": float(q.max())})
    if np.all(q > 0):
        return "away", ev
    if np.all(q < 0):
        return "toward", ev
    return "mixed", ev


def asymmetry_coefficient(loss) -> Asymmetry:
    """The leading odd term of L(y, y + d) - L(y, y - d) and its sign over (0, 1).

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.

    Returns
    -------
    Asymmetry
        The order, the coefficient (SymPy, in y), its sign over (0, 1) in words and the
        evidence for the sign.

    Notes
    -----
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
    sign changes.  Non-smooth losses are decided on the exact difference.  The sign is proved
    by SymPy where it can be (coefficient/(2y - 1) with y = t/(1 + t), t > 0), else read off a
    40-digit grid of 398 targets.  Cached per loss.

    Examples
    --------
    >>> a = asymmetry_coefficient("bce"); a.order, a.sign
    (3, 'away')
    >>> a.coefficient
    2*(2*y - 1)/(3*y**2*(1 - y)**2)
    >>> asymmetry_coefficient("focal").about_minimizer     # improper: order 1, about p*
    'toward'
    """
    return _public_fields(_asymmetry(as_loss(loss)))
