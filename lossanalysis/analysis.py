"""What each reconstruction loss does to the prediction, derived and computed.

Every quantity is a function of the target intensity ``y`` in [0, 1] (vectorized over ``y``) and
is computed from the loss catalogue (:mod:`lossanalysis.losses`): the SymPy definition
``loss.expr`` for the symbolic results, the stable NumPy methods ``loss.excess``, ``loss.grad``,
``loss.curvature``, ``loss.grad_logit``, ... for the numbers.  No loss formula is written here.

Quantities
----------
* :func:`asymmetry_ratio` -- R(y, delta): the excess cost of moving a prediction a distance
  ``delta`` away from 1/2 over the cost of moving it toward 1/2.  > 1 for BCE at every y != 1/2,
  exactly 1 for MSE.
* :func:`series`, :func:`asymmetry_coefficient` -- the Taylor expansion of L(y, y + d) - L(y, y)
  in d and the leading odd term of L(y, y + d) - L(y, y - d), with its sign over (0, 1).
* :func:`argmin`, :func:`bias`, :func:`argmin_expr`, :func:`is_proper` -- the prediction that
  minimizes the loss for a point target and whether it equals the target.
* :func:`optimal_prediction` (and the ``_beta`` / ``_two_point`` helpers) -- the single
  prediction minimizing the mean loss over a distribution of targets (mean, median, ...).
* :func:`noise_bias`, :func:`noise_bias_series`, :func:`noise_bias_coefficient` -- the bias of
  the mean prediction when the prediction carries irreducible zero-mean noise, in probability
  space or in logit space.
* :func:`gradient_profile`, :func:`logit_gradient`, :func:`logit_gradient_expr`,
  :func:`curvature_at_optimum`, :func:`effective_weight` -- gradients, the canonical-link
  identity and the curvature relative to MSE.
* :func:`derivations`, :func:`derivations_latex` -- all symbolic results of one loss, and a
  standalone LaTeX document of them.

SymPy is imported only inside the functions that need it (importing this module stays cheap);
symbolic results are cached per loss.

References: Gneiting & Raftery (2007) for proper scoring rules; Loaiza-Ganem & Cunningham
(2019, arXiv 1907.06845) for the continuous Bernoulli; Charoenphakdee et al. (2021,
arXiv 2011.09172) and Mukhoti et al. (2020) for the focal loss's pull toward 1/2.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from ._inputs import as_output, nonneg, real_array, unit_interval
from .losses import LOSSES, Loss, get_loss, logit, sigmoid
from .losses import _internal_symbols as symbols  # the analysis works in positive y, p
from .losses import _to_public

__all__ = [
    # asymmetry
    "asymmetry_ratio", "series", "series_symbol", "asymmetry_coefficient", "Asymmetry",
    # point-target bias
    "argmin", "bias", "argmin_expr", "is_proper", "Properness",
    # distributions of targets
    "optimal_prediction", "optimal_prediction_beta", "optimal_prediction_two_point",
    # prediction noise
    "noise_bias", "noise_offset", "noise_bias_series", "noise_bias_coefficient",
    "NOISE_SPACES",
    # gradients and curvature
    "gradient_profile", "logit_gradient", "logit_gradient_expr", "curvature_at_optimum",
    "effective_weight", "effective_weight_expr",
    # derivations
    "derivations", "derivations_latex",
]

#: The two noise models of :func:`noise_bias`.
NOISE_SPACES = ("prob", "logit")

_EPS = np.finfo(np.float64).eps
# The search interval for a minimizer in p: [P_LO, P_HI] are the extreme floats at which every
# catalogue gradient is finite; a minimizer below P_LO (above P_HI) is reported as 0 (1).
_P_LO = 1e-300
_P_HI = 1.0 - 2.0 ** -53
# Gauss-Hermite sizes: the probability-space rule must keep y + c + sigma*x inside (0, 1), so it
# uses few nodes (bounded support |x| <= 4.86); the logit-space rule has no such constraint.
_PROB_NODES = 10
_LOGIT_NODES = 32
# The 32-point logit rule is used for smooth losses while every sigma is at most _GH_SIGMA_MAX.
# Its error for the sigmoid's poles at distance pi/sigma from the real axis behaves like
# exp(-pi sqrt(2n)/sigma) (measured against 25-digit mpmath for MSE: 1e-10 relative at
# sigma = 1, 7e-5 at sigma = 2, 8e-4 at sigma = 3), about 3e-15 at sigma = 0.75.  Beyond it, and
# for kinked losses at any sigma, the composite Gauss-Legendre rule of _composite_rule is used.
_GH_SIGMA_MAX = 0.75
_MAX_NODES = 300              # numpy's hermegauss weights overflow beyond about 400 nodes


# ----------------------------------------------------------------------------------------------
# Input handling
# ----------------------------------------------------------------------------------------------
def _sp():
    import sympy
    return sympy


def _as_loss(loss) -> Loss:
    """A catalogue loss from a name, or the Loss itself; ValueError naming ``loss`` otherwise."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        try:
            return get_loss(loss)
        except ValueError as err:
            raise ValueError(f"loss: {err}") from None
    raise ValueError(f"loss must be a catalogue name or a Loss, got {type(loss).__name__}")


def _targets(y, arg="y", loss: Loss | None = None, open_=False):
    """float64 array of targets in [0, 1] (in (0, 1) for open-domain losses or ``open_``)."""
    by_loss = loss is not None and loss.target_domain == "open"
    why = f" for {loss.name} (its targets must lie strictly inside)" if by_loss else ""
    return unit_interval(y, arg, open_=open_ or by_loss, why=why)


def _space(space):
    if space not in NOISE_SPACES:
        raise ValueError(f"space must be one of {NOISE_SPACES}, got {space!r}")
    return space


_out = as_output


def _public_fields(result):
    """A frozen result dataclass with every SymPy field in the public symbols."""
    import dataclasses
    changes = {f.name: _to_public(getattr(result, f.name)) for f in dataclasses.fields(result)}
    return dataclasses.replace(result, **changes)


# ----------------------------------------------------------------------------------------------
# 0. The asymmetry ratio (cheap: used by the flagship figure)
# ----------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------
# Symbolic machinery (SymPy imported lazily, results cached per loss)
# ----------------------------------------------------------------------------------------------
_D = None


def series_symbol():
    """The SymPy symbol ``d`` (real) of :func:`series`: the prediction is p = y + d."""
    global _D
    if _D is None:
        _D = _sp().Symbol("d", real=True)
    return _D


def __getattr__(name):
    # ``analysis.d`` is the series symbol, created on first access (no SymPy import at load)
    if name == "d":
        return series_symbol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _tidy(e, budget=150):
    """Simplify a SymPy expression, with cheaper rewrites for large ones."""
    sp = _sp()
    if e is None:
        return None
    e = sp.sympify(e)
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


# ----------------------------------------------------------------------------------------------
# 1. The asymmetry coefficient
# ----------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------
# A vectorized bracketed Newton / bisection solver
# ----------------------------------------------------------------------------------------------
def _logit_mid(lo, hi):
    """Midpoint of [lo, hi] in the logit: geometric near 0 and near 1, arithmetic-like inside."""
    m = sigmoid(0.5 * (logit(lo) + logit(hi)))
    return np.clip(m, lo, hi)


def _arith_mid(lo, hi):
    return lo + 0.5 * (hi - lo)


def _solve_increasing(F, lo, hi, x0, mid, *, scale=None, maxiter=400):
    """Root of an increasing function, elementwise, by safeguarded Newton with bisection.

    ``F(x, idx)`` returns (f, df) for the entries ``idx`` (an index array) at points ``x``,
    optionally (f, df, scale): |f| <= 4 eps scale then counts as zero (``scale`` the size of the
    terms summed into f); the caller guarantees f <= 0 at lo and f >= 0 at hi (which need not
    be evaluated).  A Newton
    step is taken when it stays strictly inside the bracket and at most halves the previous step;
    otherwise ``mid(lo, hi)`` is used.  An entry stops when f is zero, when the Newton correction is
    below 4 eps |x| + scale (``scale``: the absolute resolution of x) or when the bracket cannot
    be split further.
    """
    x = np.array(np.clip(x0, lo, hi), dtype=np.float64)
    lo = np.array(lo, dtype=np.float64)
    hi = np.array(hi, dtype=np.float64)
    scale = np.zeros_like(x) if scale is None else np.broadcast_to(scale, x.shape)
    last = np.full(x.shape, np.inf)
    active = np.arange(x.size)
    for _ in range(maxiter):
        if active.size == 0:
            break
        xa = x[active]
        with np.errstate(all="ignore"):
            out = F(xa, active)
            f, df = out[0], out[1]
            ftol = 4 * _EPS * np.asarray(out[2], dtype=np.float64) if len(out) > 2 else 0.0
            f = np.asarray(f, dtype=np.float64)
            df = np.asarray(df, dtype=np.float64)
            la = np.where(f < 0, xa, lo[active])
            ha = np.where(f > 0, xa, hi[active])
            lo[active], hi[active] = la, ha
            step = -f / df
            xn = xa + step
        tol = 4 * _EPS * np.abs(xa) + scale[active]
        inside = np.isfinite(xn) & (xn >= la) & (xn <= ha)
        flat = np.abs(f) <= ftol                  # zero to rounding (e.g. MAE's flat mean)
        converged = flat | np.isnan(f) | (inside & (np.abs(step) <= tol))
        ok = inside & (np.abs(step) <= 0.5 * last[active])
        xm = mid(la, ha)
        xnew = np.where(ok | (converged & inside), xn, xm)
        xnew = np.where(flat, xa, xnew)
        last[active] = np.where(ok, np.abs(step), np.abs(ha - la))
        x[active] = xnew
        done = converged | (~ok & ((xm <= la) | (xm >= ha))) | (ha - la <= tol)
        active = active[~done]
    return x


def _minimize_unit(F, n, x0):
    """Minimizer in [0, 1] of n functions of p whose derivative F(p, idx) -> (L_p, L_pp) is
    increasing through its single sign change; boundary minima are reported as 0 or 1."""
    idx = np.arange(n)
    with np.errstate(all="ignore"):
        g_lo = np.asarray(F(np.full(n, _P_LO), idx)[0], dtype=float)
        g_hi = np.asarray(F(np.full(n, _P_HI), idx)[0], dtype=float)
    # a derivative that is >= 0 at P_LO and <= 0 at P_HI is flat (zero): left to the solver,
    # which keeps the starting point
    flat = (g_lo >= 0) & (g_hi <= 0)
    at0 = (g_lo >= 0) & ~flat
    at1 = (g_hi <= 0) & ~flat
    x = _solve_increasing(F, np.full(n, _P_LO), np.full(n, _P_HI), x0, _logit_mid,
                          scale=np.full(n, 1e-300))
    return np.where(at0, 0.0, np.where(at1, 1.0, x))


# ----------------------------------------------------------------------------------------------
# 2. Bias for a point target
# ----------------------------------------------------------------------------------------------
def argmin(loss, y):
    """The prediction p in [0, 1] minimizing L(y, p) for each target ``y`` (vectorized).

    A vectorized safeguarded Newton iteration on dL/dp (the catalogue's ``grad`` and
    ``curvature``), kept inside a bracket with bisection in the logit (so targets near 0 or 1 are
    resolved to relative precision), started at p = y; it assumes dL/dp changes sign once on
    (0, 1), which holds for every catalogue loss.  Minima at the boundary (e.g. BCE at y = 0) are
    returned as exactly 0 or 1.  Agrees with :func:`argmin_expr` where that exists (tested).

    >>> float(argmin("bce", 0.3))
    0.3
    """
    loss = _as_loss(loss)
    y = _targets(y, loss=loss)
    yf = y.ravel()

    def F(p, idx):
        yi = yf[idx]
        return loss.grad(yi, p, check=False), loss.curvature(yi, p, check=False)

    return _out(_minimize_unit(F, yf.size, yf).reshape(y.shape))


def bias(loss, y):
    """argmin(loss, y) - y: how far the point-target minimizer sits from the target."""
    loss = _as_loss(loss)
    y = _targets(y, loss=loss)
    return _out(np.asarray(argmin(loss, y)) - y)


def _check_candidate(loss, cand):
    """A closed-form candidate p*(y): real, inside (0, 1) and a strict minimum at test points."""
    sp = _sp()
    y, p = symbols()
    if cand.free_symbols - {y}:
        return False
    for v in (sp.Rational(17, 100), sp.Rational(2, 5), sp.Rational(71, 100)):
        try:
            val = complex(cand.subs(y, v).evalf(30))
        except (TypeError, ValueError):
            return False
        if abs(val.imag) > 1e-20 or not 0 < val.real < 1:
            return False
        x, h = val.real, 1e-4 * min(val.real, 1 - val.real)
        v0 = loss.value(float(v), x, check=False)
        if not (loss.value(float(v), x - h, check=False) > v0
                and loss.value(float(v), x + h, check=False) > v0):
            return False
        if abs(val.real - float(argmin(loss, float(v)))) > 1e-9:
            return False
    return True


@functools.lru_cache(maxsize=None)
def _argmin_expr(loss: Loss):
    sp = _sp()
    y, p = symbols()
    lp = _dp(loss, 1)
    try:
        sols = sp.solve(lp, p)
    except (NotImplementedError, ValueError, TypeError):
        sols = []
    good = [s for s in sols if _check_candidate(loss, sp.sympify(s))]
    if len(good) == 1:
        return _tidy(good[0])
    # SymPy cannot solve dL/dp = 0 (e.g. a kink): accept p = y if it is verifiably stationary
    if _is_zero(_tidy(lp.subs(p, y))) and _check_candidate(loss, y):
        return y
    return None


def argmin_expr(loss):
    """Closed form of the point-target minimizer p*(y) as a SymPy expression, or None.

    From ``sympy.solve(dL/dp, p)`` (the real root in (0, 1) that is a minimum; checked against
    :func:`argmin` at three targets).  When SymPy cannot solve the equation but dL/dp vanishes
    identically at p = y (e.g. MAE's sign(p - y), Huber's Piecewise gradient), ``y`` is returned.
    None for losses whose stationarity condition is transcendental (focal, continuous Bernoulli,
    beta NLL): use :func:`argmin`.
    """
    return _to_public(_argmin_expr(_as_loss(loss)))


@dataclass(frozen=True)
class Properness:
    """Whether a loss's point-target minimizer is the target itself, for every y.

    ``proper`` -- True when argmin(loss, y) == y for all y: the symbolic check L_p(y, y) == 0
    (``symbolic``: True/False, None when SymPy cannot decide) and the numeric maximum of
    |bias| over a grid (``max_abs_bias``; <= 1e-9 required).  ``direction`` -- "none",
    "toward 1/2", "away from 1/2" or "mixed": the sign of bias * (y - 1/2) where |bias| > 1e-9.
    ``stationarity`` is the SymPy expression L_p(y, y).
    """

    loss: str
    proper: bool
    direction: str
    max_abs_bias: float
    symbolic: bool | None
    stationarity: object
    evidence: dict = field(default_factory=dict)


_PROPER_TOL = 1e-9


@functools.lru_cache(maxsize=None)
def _is_proper(loss: Loss) -> Properness:
    yg = np.concatenate([[1e-3, 5e-3], np.linspace(0.01, 0.99, 99), [0.995, 0.999]])
    b = np.asarray(bias(loss, yg))
    worst = float(np.max(np.abs(b)))
    lp = _dp_at_target(loss, 1)
    try:
        symbolic = bool(_is_zero(lp))
    except (TypeError, ValueError):
        symbolic = None
    numeric = worst <= _PROPER_TOL
    proper = numeric if symbolic is None else symbolic
    sig = b * np.sign(yg - 0.5)
    big = (np.abs(b) > _PROPER_TOL) & (yg != 0.5)     # toward/away is undefined at y = 1/2
    if not big.any():
        direction = "none"
    elif np.all(sig[big] < 0):
        direction = "toward 1/2"
    elif np.all(sig[big] > 0):
        direction = "away from 1/2"
    else:
        direction = "mixed"
    i = int(np.argmax(np.abs(b)))
    ev = {"grid": f"{yg.size} targets in [0.001, 0.999]", "max |bias| at y": float(yg[i]),
          "bias at y = 0.2, 0.8": [float(bias(loss, 0.2)), float(bias(loss, 0.8))],
          "L_p(y, y)": _sp().sstr(lp), "symbolic and numeric agree": symbolic in (None, numeric)}
    return Properness(loss.name, proper, direction, worst, symbolic, lp, ev)


def is_proper(loss) -> Properness:
    """Classify strict properness for point targets: argmin_p L(y, p) = y for every y in (0, 1).

    Evidence: the symbolic stationarity L_p(y, y) == 0 (decided by simplification plus a 40-digit
    check) and the numeric max |argmin - y| over 103 targets; when both exist the symbolic verdict
    is used and their agreement recorded in ``evidence``.  (This is the point-target notion of the
    brief; as scoring rules for Bernoulli outcomes only the Brier score (MSE) and the log score
    (BCE) are strictly proper -- MAE, for instance, is unbiased for a point target but its optimum
    for a spread of targets is the median, see :func:`optimal_prediction`.)

    Results: mse, mae, huber, bce, kl, reverse_kl, logit_mse and gaussian_nll are proper; focal
    is pulled toward 1/2; the continuous Bernoulli's parameter is pushed away from 1/2 (its mean
    ``continuous_bernoulli_mean(argmin)`` is the target); beta_nll's mean parameter is pulled
    toward 1/2 (psi(kappa p) - psi(kappa (1 - p)) = logit y at the optimum, and
    psi(x) ~ ln x - 1/(2x)).
    """
    return _public_fields(_is_proper(_as_loss(loss)))


# ----------------------------------------------------------------------------------------------
# 3. The optimal single prediction for a distribution of targets
# ----------------------------------------------------------------------------------------------
def _weighted_minimizer(loss: Loss, ys, ws, x0):
    """argmin_p sum_i ws_i L(ys_i, p) (ws >= 0, summing to 1), a scalar."""
    ys = np.asarray(ys, dtype=float)
    ws = np.asarray(ws, dtype=float)
    keep = ws > 0
    ys, ws = ys[keep], ws[keep]

    def F(p, idx):
        pp = np.asarray(p)[:, None]
        g = loss.grad(ys[None, :], pp, check=False)
        h = loss.curvature(ys[None, :], pp, check=False)
        return (g * ws).sum(axis=1), (h * ws).sum(axis=1)

    return float(_minimize_unit(F, 1, np.array([x0]))[0])


def optimal_prediction(loss, targets, weights=None):
    """The single prediction p minimizing the weighted mean loss sum_i w_i L(y_i, p) / sum_i w_i.

    ``targets`` is any array of target intensities (e.g. a dataset's pixels), ``weights``
    (optional, non-negative, same shape) their weights.  For MSE, BCE and KL this is the weighted
    mean of the targets (their gradients are affine in y, so the condition is E[y] = p); for MAE
    the weighted median (when the weights split exactly in half any point between the two middle
    targets is optimal and one of them is returned).  Duplicate targets are merged, so 8-bit
    images cost 256 terms per evaluation.

    >>> round(float(optimal_prediction("mae", [0.0, 0.1, 1.0])), 12)
    0.1
    """
    loss = _as_loss(loss)
    t = _targets(targets, "targets", loss=loss).ravel()
    if t.size == 0:
        raise ValueError("targets must not be empty")
    if weights is None:
        w = np.ones_like(t)
    else:
        w = nonneg(weights, "weights")
        try:
            w = np.broadcast_to(w, np.asarray(targets).shape).ravel()
        except ValueError:
            raise ValueError("weights must have the shape of targets") from None
    total = w.sum()
    if not total > 0:
        raise ValueError("weights must not all be zero")
    u, inv = np.unique(t, return_inverse=True)
    wu = np.bincount(inv.ravel(), weights=w) / total
    return _weighted_minimizer(loss, u, wu, float(np.dot(u, wu)))


def optimal_prediction_two_point(loss, y0, y1, w1):
    """argmin_p (1 - w1) L(y0, p) + w1 L(y1, p): targets y0 and y1 with weights 1 - w1 and w1.

    Vectorized over broadcast ``y0``, ``y1``, ``w1`` (w1 in [0, 1]); the exact closed sum of
    the two gradients is solved by the bracketed Newton iteration of :func:`argmin`.  An edge
    uncertain between black (y0 = 0) and white (y1 = 1) with probability w1 of white: MSE and BCE
    predict w1 (grey: blur), MAE predicts 0 or 1 (the median: a hard edge).

    >>> float(optimal_prediction_two_point("bce", 0.0, 1.0, 0.25))
    0.25
    """
    loss = _as_loss(loss)
    y0 = _targets(y0, "y0", loss=loss)
    y1 = _targets(y1, "y1", loss=loss)
    w1 = _targets(w1, "w1")
    y0, y1, w1 = np.broadcast_arrays(y0, y1, w1)
    a, b, w = y0.ravel(), y1.ravel(), w1.ravel()

    def F(p, idx):
        wi = w[idx]
        g0 = loss.grad(a[idx], p, check=False)
        g1 = loss.grad(b[idx], p, check=False)
        h0 = loss.curvature(a[idx], p, check=False)
        h1 = loss.curvature(b[idx], p, check=False)
        g = np.where(wi == 0, g0, np.where(wi == 1, g1, (1 - wi) * g0 + wi * g1))
        h = np.where(wi == 0, h0, np.where(wi == 1, h1, (1 - wi) * h0 + wi * h1))
        return g, h

    x0 = (1 - w) * a + w * b
    return _out(_minimize_unit(F, a.size, x0).reshape(w1.shape))


@functools.lru_cache(maxsize=None)
def _tanh_sinh(h=1 / 32, smax=4.5):
    """Tanh-sinh (double-exponential) rule on (0, 1): t = sigmoid(pi sinh s), s = k h.

    Returns (t, log t, log(1 - t), weights dt/ds h); the logs are computed without forming
    1 - t, so nodes reach t ~ 1e-61 at the singular end.  Integrable endpoint singularities
    (t^(a-1), ln t) converge exponentially in 1/h (Takahasi & Mori 1974)."""
    s = np.arange(-smax, smax + h / 2, h)
    u = np.pi * np.sinh(s)
    log_t = -np.logaddexp(0, -u)
    log_1mt = -np.logaddexp(0, u)
    t = np.exp(log_t)
    w = h * np.pi * np.cosh(s) * np.exp(log_t + log_1mt)
    return t, log_t, log_1mt, w


def optimal_prediction_beta(loss, a, b):
    """argmin_p E[L(Y, p)] for targets Y ~ Beta(a, b) (a, b > 0), a scalar.

    E[L_p(Y, p)] is an integral over y split at y = p (where MAE's gradient jumps), each piece
    by tanh-sinh quadrature in the distance to its singular end (y = 0 on the left, y = 1 on the
    right), so the Beta density's endpoint singularities y^(a-1), (1-y)^(b-1) and logarithmic
    terms (logit MSE, reverse KL, beta NLL) are integrated to about 1e-11.  Nodes closer than
    1e-16 to y = 1 round to 1.0; where the loss is singular there they are evaluated at the
    largest float below 1, an error of order 1e-16^b |ln 1e-16| (1e-10 for b = 1/2, 1e-4 for
    b = 0.2; likewise near 0 with a).  MSE/BCE/KL give the
    mean a/(a + b), MAE the median, logit MSE sigmoid(psi(a) - psi(b)) (all tested).
    """
    loss = _as_loss(loss)
    a_ = float(nonneg(a, "a"))
    b_ = float(nonneg(b, "b"))
    if not (a_ > 0 and b_ > 0):
        raise ValueError(f"a and b must be > 0, got a={a!r}, b={b!r}")
    t, log_t, log_1mt, wt = _tanh_sinh()
    omt = np.exp(log_1mt)                        # 1 - t, accurate where t rounds to 1
    from scipy.special import betaln        # here: importing scipy.special costs 0.2 s
    log_beta = betaln(a_, b_)

    def pieces(p):
        """Targets in (0, 1) and their probability weights for the split at p."""
        p = float(min(max(p, _P_LO), _P_HI))
        q = 1 - p
        # [0, p]: y = p t, 1 - y = q + p (1 - t)
        yl = p * t
        log_yl = math.log(p) + log_t
        log_1myl = np.log(q + p * omt)
        wl = wt * np.exp((a_ - 1) * log_yl + (b_ - 1) * log_1myl - log_beta + math.log(p))
        # [p, 1]: 1 - y = q t, y = p + q (1 - t)
        yr = p + q * omt
        log_1myr = math.log(q) + log_t
        wr = wt * np.exp((a_ - 1) * np.log(yr) + (b_ - 1) * log_1myr - log_beta + math.log(q))
        ys, ws = np.concatenate([yl, yr]), np.concatenate([wl, wr])
        ok = ws > 0
        return ys[ok], ws[ok]

    def at(fn, ys, p):
        """fn(y, p); nodes within 1e-16 of an end round to 0.0 or 1.0: where the loss is
        singular there (or outside its open domain) they are moved to the nearest interior
        float, an error of order (1e-16)^min(a, b) times the log singularity."""
        v = fn(ys, p, check=False)
        bad = ~np.isfinite(v)
        if loss.target_domain == "open":
            bad |= (ys <= 0) | (ys >= 1)
        if bad.any():
            v = np.where(bad, fn(np.clip(ys, _P_LO, _P_HI), p, check=False), v)
        return v

    def F(p, idx):
        out_g, out_h = [], []
        for pi in np.atleast_1d(p):
            ys, ws = pieces(pi)
            out_g.append(np.dot(ws, at(loss.grad, ys, pi)))
            out_h.append(np.dot(ws, at(loss.curvature, ys, pi)))
        return np.array(out_g), np.array(out_h)

    return float(_minimize_unit(F, 1, np.array([a_ / (a_ + b_)]))[0])


# ----------------------------------------------------------------------------------------------
# 4. Bias from irreducible prediction noise
# ----------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _hermite(n):
    x, w = hermegauss(n)
    return x, w / w.sum()


def _third(loss: Loss, y, p):
    """d^3 L/dp^3 at (y, p) from the catalogue's stable curvature: a Richardson-extrapolated
    central difference with h = 1e-3 min(p, 1 - p) (truncation error O(h^4), rounding about
    eps L_pp / h).  Inside Huber's quadratic zone it is 0; at p = 0 or 1 it is NaN."""
    y, p = np.broadcast_arrays(np.asarray(y, dtype=float), np.asarray(p, dtype=float))
    h = 1e-3 * np.minimum(p, 1 - p)
    with np.errstate(all="ignore"):
        def central(hh):
            up = loss.curvature(y, p + hh, check=False)
            down = loss.curvature(y, p - hh, check=False)
            return (np.asarray(up, dtype=float) - np.asarray(down, dtype=float)) / (2 * hh)
        out = (4 * central(h / 2) - central(h)) / 3
    return np.where(h > 0, out, np.nan)


# Block size of the noise solve, in (targets x quadrature nodes) elements: each temporary array
# of a block then has 8192 doubles (64 kB, below glibc's default 128 kB mmap threshold).  For
# 10^4 targets, whole-array temporaries were measured 1.5-3x slower in CPU time, much of it
# system time spent on page faults for the large intermediate arrays.
_BLOCK_ELEMENTS = 8192


def _block_rows(nodes):
    return max(1, _BLOCK_ELEMENTS // max(1, int(nodes)))


def _nodes(nodes, default):
    """The Gauss-Hermite size: ``default`` for None, else an integer in [2, 300] (ValueError)."""
    if nodes is None:
        return default
    if (isinstance(nodes, bool) or not isinstance(nodes, (int, np.integer))
            or not 2 <= nodes <= _MAX_NODES):
        raise ValueError(f"nodes must be an integer from 2 to {_MAX_NODES}, got {nodes!r}")
    return int(nodes)


def _prob_block(loss: Loss, yi, si, x0, x, w, n):
    """Optimal probability-space offsets for one block of targets (all sigma > 0)."""
    xmax = float(x.max())
    # every node stays inside (0, 1) for c in [c_lo, c_hi]
    margin = 1e-12
    c_lo = si * xmax - yi + margin
    c_hi = 1 - yi - si * xmax - margin
    ycol, scol = yi[:, None], si[:, None]

    def G(cc, idx):
        pp = ycol[idx] + cc[:, None] + scol[idx] * x
        return loss.grad(ycol[idx], pp, check=False), pp

    def F(cc, idx):
        g, pp = G(cc, idx)
        h = loss.curvature(ycol[idx], pp, check=False)
        return g @ w, h @ w, np.abs(g) @ w

    idx = np.arange(yi.size)
    with np.errstate(all="ignore"):
        f_lo, f_hi = G(c_lo, idx)[0] @ w, G(c_hi, idx)[0] @ w
    # a flat expected gradient (MAE: zero between the innermost nodes) may round to +-1e-17
    bad = ~((f_lo <= 1e-12) & (f_hi >= -1e-12))
    if bad.any():
        i = np.flatnonzero(bad)[0]
        raise ValueError(
            f"sigma={si[i]!r} is too large for y={yi[i]!r} in probability space: the "
            f"optimal offset would push the {n}-point noisy prediction out of (0, 1)")
    return _solve_increasing(F, c_lo, c_hi, np.clip(x0, c_lo, c_hi), _arith_mid,
                             scale=2 * _EPS * (yi + si))


def _logit_block(loss: Loss, yi, si, c_start, rule):
    """Optimal logit offsets and E[p] for one block of targets in (0, 1) (all sigma > 0).

    ``rule`` is ("gh", nodes, weights) -- the expectation over e ~ N(0, 1) by Gauss-Hermite --
    or ("composite", kinks): the composite Gauss-Legendre rule of :func:`_composite_rule`, cut
    at the e where p crosses a kink of the loss (``kinks``: an array rows x J of kink locations
    in p, NaN where there is none)."""
    z0 = logit(yi)
    ycol, zcol, scol = yi[:, None], z0[:, None], si[:, None]
    if rule[0] == "gh":
        x, w = rule[1], rule[2]

        def G(cc, idx):
            zz = zcol[idx] + cc[:, None] + scol[idx] * x
            return loss.grad_logit(ycol[idx], zz, check=False) @ w

        def F(cc, idx):
            zz = zcol[idx] + cc[:, None] + scol[idx] * x
            g = loss.grad_logit(ycol[idx], zz, check=False)
            h = loss.curvature_logit(ycol[idx], zz, check=False)
            return g @ w, h @ w, np.abs(g) @ w

        def mean(cs):
            return sigmoid(zcol + cs[:, None] + scol * x) @ w
    else:
        smax = float(si.max())
        with np.errstate(all="ignore"):
            zk = logit(rule[1])                                    # kinks in z, rows x J
        zk = np.where((rule[1] > 0) & (rule[1] < 1), zk, np.nan)
        # the expected gradient's derivative in c gets, besides E[curvature], a term from each
        # jump of the gradient at a kink: (1/sigma) phi(e_k) [G(e_k+) - G(e_k-)] (Leibniz rule
        # for the moving cut e_k = (z_k - z0 - c)/sigma); the one-sided values are taken
        # 1e-8 (1 + |z_k|) either side of the kink
        has = np.isfinite(zk)
        zk0 = np.where(has, zk, 0.0)
        step = 1e-8 * (1 + np.abs(zk0))
        with np.errstate(all="ignore"):
            jump = np.where(has, np.asarray(loss.grad_logit(ycol, zk0 + step, check=False))
                            - np.asarray(loss.grad_logit(ycol, zk0 - step, check=False)), 0.0)

        def rule_at(cc, idx):
            cuts = (zk[idx] - zcol[idx] - cc[:, None]) / scol[idx]
            e, wt = _composite_rule(cuts, smax)
            return zcol[idx] + cc[:, None] + scol[idx] * e, wt, cuts

        def G(cc, idx):
            zz, wt, _ = rule_at(cc, idx)
            return (np.asarray(loss.grad_logit(ycol[idx], zz, check=False)) * wt).sum(axis=1)

        def F(cc, idx):
            zz, wt, cuts = rule_at(cc, idx)
            g = np.asarray(loss.grad_logit(ycol[idx], zz, check=False))
            h = np.asarray(loss.curvature_logit(ycol[idx], zz, check=False))
            inside = np.abs(np.nan_to_num(cuts, nan=np.inf)) < _TAIL
            cut = np.where(inside, cuts, 0.0)
            dirac = np.where(inside, np.exp(-0.5 * cut * cut) * jump[idx], 0.0).sum(axis=1)
            return ((g * wt).sum(axis=1),
                    (h * wt).sum(axis=1) + dirac / (_SQRT_2PI * si[idx]),
                    (np.abs(g) * wt).sum(axis=1))

        def mean(cs):
            e, wt = _composite_rule(np.empty((cs.size, 0)), smax)
            return (sigmoid(zcol + cs[:, None] + scol * e) * wt).sum(axis=1)

    # bracket: grow [-B, B] until the expected gradient changes sign (only the rows still
    # without a bracket are re-evaluated)
    bound = 1.0 + 2 * si + np.abs(c_start)
    todo = np.arange(yi.size)
    for _ in range(8):
        with np.errstate(all="ignore"):
            f_lo, f_hi = G(-bound[todo], todo), G(bound[todo], todo)
        found = (f_lo <= 1e-12) & (f_hi >= -1e-12)
        todo = todo[~found]
        if todo.size == 0:
            break
        bound[todo] *= 4
    if todo.size:
        i = todo[0]
        raise ValueError(f"no optimal logit offset found for y={yi[i]!r}, "
                         f"sigma={si[i]!r}: the expected gradient does not change sign")
    cs = _solve_increasing(F, -bound, bound, c_start, _arith_mid,
                           scale=2 * _EPS * (1 + np.abs(z0) + si))
    return cs, mean(cs)


# The composite rule of the logit-space noise: [-_TAIL, _TAIL] (the standard normal mass
# outside is 2e-19) cut into segments of length at most min(4.5, 2/sigma) -- the integrand's
# singularities (the sigmoid's poles) lie pi/sigma from the real axis -- and at the kinks, with
# a 16-point Gauss-Legendre rule on each segment.  Measured against 25-digit mpmath (MAE, Huber,
# MSE; sigma from 0.25 to 3): relative error of the bias <= 1e-14.
_TAIL = 9.0
_SQRT_2PI = math.sqrt(2 * math.pi)


@functools.lru_cache(maxsize=None)
def _legendre(m=16):
    from numpy.polynomial.legendre import leggauss
    return leggauss(m)


def _segments(sigma_max):
    """Number of fixed segments of [-9, 9]: length at most min(4.5, 2/sigma_max)."""
    ell = min(4.5, 2.0 / sigma_max) if sigma_max > 0 else 4.5
    return int(math.ceil(2 * _TAIL / ell))


def _composite_size(sigma_max, kinks):
    """Number of nodes of :func:`_composite_rule` with ``kinks`` cuts per row."""
    return (_segments(sigma_max) + kinks) * _legendre()[0].size


def _composite_rule(cuts, sigma_max):
    """Nodes and weights (rows x K) with sum_k w_k f(e_k) ~ E[f(e)], e ~ N(0, 1), for f smooth
    between the per-row ``cuts`` (rows x J; NaN or values outside [-9, 9] are ignored)."""
    rows = cuts.shape[0]
    grid = np.linspace(-_TAIL, _TAIL, _segments(sigma_max) + 1)
    inner = np.clip(np.nan_to_num(cuts, nan=_TAIL), -_TAIL, _TAIL)
    pts = np.sort(np.concatenate([np.broadcast_to(grid, (rows, grid.size)), inner], axis=1),
                  axis=1)
    t, v = _legendre()
    mid = 0.5 * (pts[:, 1:] + pts[:, :-1])
    half = 0.5 * (pts[:, 1:] - pts[:, :-1])
    e = (mid[..., None] + half[..., None] * t).reshape(rows, -1)
    w = (half[..., None] * v).reshape(rows, -1) * np.exp(-0.5 * e * e) / _SQRT_2PI
    return e, w


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


def _noise_solve(loss: Loss, y, sigma, space, nodes):
    """(offset c, E[p]) minimizing the expected loss under prediction noise, elementwise.

    Each distinct (y, sigma) pair is solved once: arrays of pixel intensities (256 grey levels)
    or of bin centres repeat a few values many times."""
    y, sigma = np.broadcast_arrays(y, sigma)
    pairs = np.stack([y.ravel(), sigma.ravel()], axis=1).astype(float)
    if pairs.shape[0] > 1:
        pairs, inverse = np.unique(pairs, axis=0, return_inverse=True)
    else:
        inverse = np.zeros(pairs.shape[0], dtype=np.intp)
    c, mean = _noise_solve_flat(loss, pairs[:, 0], pairs[:, 1], space, nodes)
    inverse = inverse.ravel()
    return c[inverse].reshape(y.shape), mean[inverse].reshape(y.shape)


def _noise_solve_flat(loss: Loss, yf, sf, space, nodes):
    """:func:`_noise_solve` on flat float arrays, in blocks of about :data:`_BLOCK_ELEMENTS`
    (targets x nodes)."""
    pstar = np.asarray(argmin(loss, yf), dtype=float).reshape(yf.shape)
    c = np.zeros_like(yf)
    mean = pstar.copy()
    noisy = sf > 0
    if space == "prob":
        n = _nodes(nodes, _PROB_NODES)
        x, w = _hermite(n)
        xmax = float(x.max())
        room = np.minimum(pstar, 1 - pstar) - sf * xmax
        bad = noisy & ~(room > 0)
        if bad.any():
            i = np.flatnonzero(bad)[0]
            raise ValueError(
                f"sigma={sf[i]!r} is too large for y={yf[i]!r} in probability space: the "
                f"{n}-point noise reaches +-{xmax:.3f} sigma, so {xmax:.3f} sigma must be below "
                f"min(p*, 1 - p*) = {min(pstar[i], 1 - pstar[i])!r} (p* = argmin, = y for proper "
                "losses) to keep the noisy prediction inside (0, 1)")
        yi, si = yf[noisy], sf[noisy]
        x0 = pstar[noisy] - yi
        cs = np.empty_like(yi)
        rows = _block_rows(n)
        for start in range(0, yi.size, rows):
            b = slice(start, start + rows)
            cs[b] = _prob_block(loss, yi[b], si[b], x0[b], x, w, n)
        c[noisy] = cs
        mean[noisy] = yi + cs            # zero-mean noise: E[p] = y + c
    else:
        bad = noisy & ~((yf > 0) & (yf < 1))
        if bad.any():
            i = np.flatnonzero(bad)[0]
            raise ValueError(
                f"y={yf[i]!r}: logit-space noise is centred on a finite logit, so y must lie in "
                "the open interval (0, 1)")
        yi, si = yf[noisy], sf[noisy]
        smooth = _is_smooth(loss)
        if nodes is not None or (smooth and (si.size == 0 or si.max() <= _GH_SIGMA_MAX)):
            x, w = _hermite(_nodes(nodes, _LOGIT_NODES))
            rules = lambda b: ("gh", x, w)  # noqa: E731
            rows = _block_rows(x.size)
        else:
            kinks = _kink_points(loss, yi) if not smooth else np.empty((yi.size, 0))
            rules = lambda b: ("composite", kinks[b])  # noqa: E731
            rows = _block_rows(_composite_size(float(si.max()), kinks.shape[1]))
        # z = logit(y) + c + sigma e; the offset c also absorbs an improper loss's own bias
        # (the continuous Bernoulli's optimal logit can exceed what p = sigmoid(z) resolves)
        with np.errstate(all="ignore"):
            c_start = logit(pstar[noisy]) - logit(yi)
        c_start = np.where(np.isfinite(c_start), c_start, 0.0)
        cs, ms = np.empty_like(yi), np.empty_like(yi)
        for start in range(0, yi.size, rows):
            b = slice(start, start + rows)
            cs[b], ms[b] = _logit_block(loss, yi[b], si[b], c_start[b], rules(b))
        c[noisy] = cs
        mean[noisy] = ms
    return c, mean


def _noise_inputs(loss, y, sigma, space):
    loss = _as_loss(loss)
    space = _space(space)
    y = _targets(y, loss=loss)
    sigma = nonneg(sigma, "sigma")
    try:
        np.broadcast_shapes(y.shape, sigma.shape)
    except ValueError:
        raise ValueError(f"y with shape {y.shape} and sigma with shape {sigma.shape} do not "
                         "broadcast together") from None
    return loss, y, sigma, space


def noise_bias(loss, y, sigma, space="prob", *, nodes=None):
    """Bias E[p] - y of the mean prediction when the prediction carries irreducible noise.

    The prediction is noisy with standard deviation ``sigma`` and the model can only choose the
    offset c that minimizes the expected loss:

    * ``space="prob"``: p = y + c + sigma e.  The returned bias is E[p] - y = c*.
    * ``space="logit"``: z = logit(y) + c + sigma e, p = sigmoid(z) (for an improper loss c also
      carries the loss's own pull, logit(p*) - logit(y) at sigma = 0).  The returned bias is
      E[p] - y, which includes the sigmoid's own curvature (E[sigmoid(z)] != sigmoid(E[z])).

    For improper losses the point-target bias (``bias(loss, y)``) is included; sigma = 0 gives it
    exactly.

    Noise models.  In probability space a Gaussian leaves (0, 1) with positive probability (and
    BCE's expectation is then infinite), so e is the ``nodes``-point Gauss-Hermite distribution
    (``numpy.polynomial.hermite_e``; default 10 points, |e| <= 4.86): bounded, with the
    Gaussian's moments through order 2 nodes - 1, hence the same sigma-expansion through
    sigma^(2 nodes - 2) for a smooth loss.  For a kinked loss (MAE, Huber) the result is exact
    for this discrete noise, not an approximation of a Gaussian.  ``sigma * 4.86`` must stay
    below min(p*, 1 - p*) (p* = argmin, = y for proper losses); otherwise ValueError (naming
    sigma).

    In logit space e is Gaussian and y must lie in (0, 1).  For a smooth loss with every
    sigma <= 0.75 the expectation is the 32-point Gauss-Hermite rule (relative error about
    exp(-pi sqrt(64)/sigma), 3e-15 at sigma = 0.75); for larger sigma, and for kinked losses at
    every sigma, a composite 16-point Gauss-Legendre rule on [-9, 9] in e, cut at the points
    where p crosses a kink of the loss (found by SymPy from the expression), with segments
    shorter than 2/sigma (relative error below 1e-14, tested against mpmath for MAE, Huber and
    MSE up to sigma = 3).  A Gauss-Hermite rule across a kink would be wrong by O(1): for MAE its
    root sits on one of the jumps that the discrete nodes put into E[dL/dz].  ``nodes`` given
    forces the Gauss-Hermite rule of that size (2 to 300) in logit space as well.

    Signs (see :func:`noise_bias_series` for the formulas):

    * BCE/KL, probability space: bias = -sigma^2 (2y - 1)/(y(1 - y)) + O(sigma^4): **toward 1/2**
      (the noisy prediction is pulled in to avoid the steep walls of ln p, ln(1 - p)).
    * BCE/KL, logit space: **exactly 0** for every sigma: the optimality condition
      E[dL/dz] = E[sigmoid(z)] - y = 0 *is* E[p] = y (canonical link).
    * MSE, probability space: exactly 0 (E[(c + sigma e)^2] = c^2 + sigma^2).
    * MSE, logit space: bias = -sigma^2 y(1 - y)(1 - 2y) + O(sigma^4): **away from 1/2**.
    * logit MSE, logit space: c = 0 exactly (the loss is symmetric in z), so only the sigmoid's
      curvature acts: E[p] - y = sigma^2 y(1 - y)(1 - 2y)/2 + O(sigma^4): **toward 1/2**.
    * The proper catalogue losses with a cost asymmetry (BCE, KL, reverse KL, logit MSE) all
      move the mean toward 1/2 under probability-space noise (b2 = -L_ppp/(2 L_pp) at p = y);
      MSE, MAE, Huber and the Gaussian NLL leave it at y.  In logit space that term is
      multiplied by s'^2 and the sigmoid's curvature adds -s'' = -y(1 - y)(1 - 2y) (away from
      1/2): the two cancel exactly for BCE/KL, the curvature wins for MSE and reverse KL (away
      from 1/2), the asymmetry wins for logit MSE (toward 1/2).
    """
    loss, y, sigma, space = _noise_inputs(loss, y, sigma, space)
    _, mean = _noise_solve(loss, y, sigma, space, nodes)
    return _out(mean - np.broadcast_to(y, mean.shape))


def noise_offset(loss, y, sigma, space="prob", *, nodes=None):
    """The optimal offset c of :func:`noise_bias` (in p for "prob", in the logit for "logit")."""
    loss, y, sigma, space = _noise_inputs(loss, y, sigma, space)
    c, _ = _noise_solve(loss, y, sigma, space, nodes)
    return _out(c)


def noise_bias_series(loss, y, sigma, space="prob"):
    """Leading order in sigma^2 of :func:`noise_bias`: bias(y) + sigma^2 b2(y) (+ O(sigma^4)).

    With p* the point-target minimizer and the derivatives L_pp, L_ppp taken at (y, p*):

    * probability space: the optimal offset is c = (p* - y) - (sigma^2/2) L_ppp/L_pp, and
      b2 = -(1/2) L_ppp / L_pp;
    * logit space: with s' = p*(1 - p*) and s'' = s'(1 - 2p*) the sigmoid's derivatives,
      b2 = -(1/2) (L_ppp / L_pp) s'^2 - s'': the optimal logit offset contributes
      -(sigma^2/2) [(L_ppp/L_pp) s' + 3 s''/s'] times s', and E[sigmoid] adds (sigma^2/2) s''.

    For BCE the two logit-space terms cancel (bias 0); for MSE (L_ppp = 0) the logit-space bias is
    -sigma^2 p(1 - p)(1 - 2p), away from 1/2.  Needs L_pp(y, p*) > 0 (ValueError for MAE, whose
    kink at p = y has no expansion).  :func:`noise_bias_coefficient` gives b2 symbolically.
    """
    loss, y, sigma, space = _noise_inputs(loss, y, sigma, space)
    y, sigma = np.broadcast_arrays(y, sigma)
    pstar = np.asarray(argmin(loss, y), dtype=float)
    with np.errstate(all="ignore"):
        l2 = np.asarray(loss.curvature(y, pstar, check=False), dtype=float)
        l3 = np.asarray(_third(loss, y, pstar), dtype=float)
    if not np.all(np.isfinite(l2) & (l2 > 0)):
        raise ValueError(f"loss: {loss.name} has no sigma^2 expansion here (its curvature at the "
                         "minimizer is not finite and positive)")
    b2 = -0.5 * l3 / l2
    if space == "logit":
        s1 = pstar * (1 - pstar)
        b2 = b2 * s1 * s1 - s1 * (1 - 2 * pstar)
    return _out(pstar - y + sigma ** 2 * b2)


@functools.lru_cache(maxsize=None)
def _logit_noise_formula():
    """The logit-space sigma^2 coefficient for a general loss, derived by SymPy.

    l(z) = L(y, s(z)) with s the sigmoid: the chain rule (Faa di Bruno) gives l'' and l''' in
    terms of L_p, L_pp, L_ppp (symbols L_1, L_2, L_3) and s', s'', s''' (differentiated from the
    sigmoid and written in p = s(z)).  At a stationary point (L_1 = 0) the optimal logit offset
    is c = -(sigma^2/2) l'''/l'' and E[p] - p* = s' c + (sigma^2/2) s''.  Returns (b2, L_2, L_3),
    b2 a SymPy expression in p, L_2 and L_3.
    """
    sp = _sp()
    _, p = symbols()
    z = sp.Symbol("z", real=True)
    f, g = sp.Function("f"), sp.Function("g")
    lsym = sp.symbols("L_1 L_2 L_3")
    ssym = sp.symbols("s_1 s_2 s_3")

    def chain(k):
        e = sp.diff(f(g(z)), z, k)
        for j in range(k, 0, -1):
            e = e.subs(sp.Derivative(f(g(z)), (g(z), j)), lsym[j - 1])
            e = e.subs(sp.Derivative(g(z), (z, j)), ssym[j - 1])
        return e.subs(lsym[0], 0)

    sig = 1 / (1 + sp.exp(-z))
    sder = {ssym[k - 1]: sp.factor(sp.simplify(sp.diff(sig, z, k).subs(z, sp.log(p / (1 - p)))))
            for k in (1, 2, 3)}
    b2 = (ssym[0] * (-chain(3) / (2 * chain(2))) + ssym[1] / 2).subs(sder)
    return sp.factor(sp.simplify(b2)), lsym[1], lsym[2]


@functools.lru_cache(maxsize=None)
def _noise_coefficient(loss: Loss, space: str):
    sp = _sp()
    y, p = symbols()
    if _regular(_dp_at_target(loss, 2)) is None:     # MAE: L_pp is a Dirac delta at p = y
        return None
    pstar = _argmin_expr(loss)
    if space == "prob":
        b2 = -sp.Rational(1, 2) * _dp(loss, 3) / _dp(loss, 2)
    else:
        formula, l2, l3 = _logit_noise_formula()
        b2 = formula.subs({l2: _dp(loss, 2), l3: _dp(loss, 3)})
    if pstar is not None:
        b2 = b2.subs(p, pstar)
    return _tidy(b2)


def noise_bias_coefficient(loss, space="prob"):
    """b2 of :func:`noise_bias_series` as a SymPy expression: bias = bias0 + b2 sigma^2 + ...

    Probability space: b2 = -L_ppp/(2 L_pp).  Logit space: derived in z for l(z) = L(y, s(z))
    (s the sigmoid) with SymPy's chain rule: offset c = -(sigma^2/2) l'''/l'' and
    E[p] - p* = s'(z*) c + s''(z*) sigma^2/2, which at a stationary point is
    b2 = -(L_ppp/(2 L_pp)) p^2 (1-p)^2 - p (1-p)(1-2p).  Evaluated at the minimizer: in terms
    of y when :func:`argmin_expr` exists, otherwise in y and p, with p standing for p*(y).
    None for MAE (no expansion at its kink).

    >>> noise_bias_coefficient("bce", "logit")
    0
    """
    loss = _as_loss(loss)
    return _to_public(_noise_coefficient(loss, _space(space)))


# ----------------------------------------------------------------------------------------------
# 5. Gradient and curvature profiles
# ----------------------------------------------------------------------------------------------
def gradient_profile(loss, y, p):
    """dL/dp at targets ``y`` and predictions ``p`` (broadcast), from the catalogue."""
    loss = _as_loss(loss)
    y = _targets(y, loss=loss)
    p = _targets(p, "p")
    return loss.grad(y, p)


def logit_gradient(loss, y, z):
    """dL/dz with p = sigmoid(z), the gradient a network with a sigmoid output receives.

    Canonical link: for BCE it is sigmoid(z) - y, which stays of order 1 when the sigmoid
    saturates on the wrong side; for MSE it is 2 (p - y) p (1 - p), which vanishes there.
    """
    loss = _as_loss(loss)
    y = _targets(y, loss=loss)
    z = real_array(z, "z", np.float64)
    if not np.all(np.isfinite(z)):
        raise ValueError("z must be finite")
    return loss.grad_logit(y, z)


@functools.lru_cache(maxsize=None)
def _logit_gradient_expr(loss: Loss):
    sp = _sp()
    y, p = symbols()
    z = sp.Symbol("z", real=True)
    ell = _expr(loss).subs(p, 1 / (1 + sp.exp(-z)))
    return _tidy(sp.diff(ell, z).subs(z, sp.log(p / (1 - p))))


def logit_gradient_expr(loss):
    """dL/dz of L(y, sigmoid(z)) differentiated in z and written in p = sigmoid(z) (SymPy).

    BCE gives p - y (the canonical link), MSE 2 p (1 - p)(p - y) (up to SymPy's arrangement).
    """
    return _to_public(_logit_gradient_expr(_as_loss(loss)))


def curvature_at_optimum(loss, y):
    """d2L/dp2 at the point-target minimizer, L_pp(y, argmin(loss, y))."""
    loss = _as_loss(loss)
    y = _targets(y, loss=loss)
    return loss.curvature(y, argmin(loss, y), check=False)


def effective_weight(loss, y):
    """L_pp(y, y) relative to MSE's curvature 2: how much harder the loss pulls near the target.

    BCE: (1/(y(1 - y)))/2 = 1/(2 y (1 - y)), which is 2 at y = 1/2 -- BCE near a target of 1/2
    behaves like 2*MSE to leading order -- and grows without bound toward 0 and 1.  Both
    curvatures come from the catalogue (MSE's ``curvature`` is not hard-coded).  MAE's is 0 (its
    curvature is concentrated in the kink).
    """
    loss = _as_loss(loss)
    y = _targets(y, loss=loss)
    mse = get_loss("mse")
    return _out(np.asarray(loss.curvature(y, y, check=False), dtype=float)
                / np.asarray(mse.curvature(y, y, check=False), dtype=float))


@functools.lru_cache(maxsize=None)
def _effective_weight_expr(loss: Loss):
    y, p = symbols()
    mse = get_loss("mse")
    lpp = _regular(_dp_at_target(loss, 2))
    return None if lpp is None else _tidy(lpp / _dp(mse, 2).subs(p, y))


def effective_weight_expr(loss):
    """L_pp(y, y) / L_pp^MSE(y, y) as a SymPy expression (BCE: 1/(2y(1 - y))); None for MAE,
    whose curvature at p = y is a Dirac delta."""
    return _to_public(_effective_weight_expr(_as_loss(loss)))


# ----------------------------------------------------------------------------------------------
# Derivations
# ----------------------------------------------------------------------------------------------
def _regular(e):
    """None for a 'value' that is a distribution (MAE's curvature 2 DiracDelta(0) at its kink)."""
    sp = _sp()
    return None if e is None or e.has(sp.DiracDelta) else e


@functools.lru_cache(maxsize=None)
def _derivations(loss: Loss):
    y, p = symbols()
    asym = _asymmetry(loss)
    return {
        "loss": _expr(loss),
        "dL/dp": _tidy(_dp(loss, 1)),
        "dL/dz": _logit_gradient_expr(loss),
        "curvature": _regular(_dp_at_target(loss, 2)),
        "effective weight": _effective_weight_expr(loss),
        "asymmetry": asym.leading_term(),
        "minimizer": _argmin_expr(loss),
        "noise bias prob": _noise_coefficient(loss, "prob"),
        "noise bias logit": _noise_coefficient(loss, "logit"),
    }


def derivations(loss) -> dict:
    """Every symbolic result for one loss, as SymPy expressions (None where none exists).

    Keys: "loss" L(y, p); "dL/dp"; "dL/dz" (in p = sigmoid(z)); "curvature" L_pp(y, y);
    "effective weight" L_pp(y, y)/2; "asymmetry" the leading odd term of L(y, y+d) - L(y, y-d)
    (in the symbol d; see :func:`asymmetry_coefficient`); "minimizer" :func:`argmin_expr`;
    "noise bias prob" / "noise bias logit" the sigma^2 coefficients of :func:`noise_bias_series`
    (in y and p = p*(y) when the minimizer has no closed form).
    """
    return _to_public(dict(_derivations(_as_loss(loss))))


def _latex(e):
    """LaTeX of a SymPy expression, with Piecewise written without the cases environment (so
    that the formula also parses with matplotlib's mathtext)."""
    sp = _sp()
    from sympy.printing.latex import LatexPrinter

    class _Printer(LatexPrinter):
        def _print_Piecewise(self, expr):
            parts = []
            for value, cond in expr.args:
                if cond == sp.true:
                    parts.append(rf"{self._print(value)} \ \mathrm{{otherwise}}")
                else:
                    parts.append(rf"{self._print(value)} \ \mathrm{{if}}\ {self._print(cond)}")
            return r"\left\{ " + r";\quad ".join(parts) + r" \right."

    return _Printer({"ln_notation": True}).doprint(e)


_LATEX_ROWS = (
    ("loss", "Loss", r"L(y, p) = {}"),
    ("dL/dp", "Gradient in the prediction", r"\frac{{\partial L}}{{\partial p}} = {}"),
    ("dL/dz", r"Gradient in the logit ($p = \sigma(z)$)", r"\frac{{\partial L}}{{\partial z}} = {}"),
    ("curvature", "Curvature at the target", r"L_{{pp}}(y, y) = {}"),
    ("effective weight", "Curvature relative to MSE",
     r"\frac{{L_{{pp}}(y, y)}}{{L^{{\mathrm{{MSE}}}}_{{pp}}}} = {}"),
    ("asymmetry", "Leading odd term",
     r"L(y, y + d) - L(y, y - d) = {}"),
    ("minimizer", "Point-target minimizer", r"p^{{\star}}(y) = {}"),
    ("noise bias prob", r"Noise bias, probability space ($\sigma^2$ coefficient)",
     r"b_2^{{\mathrm{{prob}}}} = {}"),
    ("noise bias logit", r"Noise bias, logit space ($\sigma^2$ coefficient)",
     r"b_2^{{\mathrm{{logit}}}} = {}"),
)


def _general_noise_latex(space):
    formula, l2, l3 = _logit_noise_formula()
    if space == "prob":
        formula = -l3 / (2 * l2)
    return r"b_2^{\mathrm{" + space + "}} = " + _latex(formula)


def _tex_escape(s):
    return s.replace("_", r"\_")


def derivations_latex(losses=LOSSES) -> str:
    """A standalone LaTeX document (article + amsmath) with :func:`derivations` of each loss.

    Each formula is a display ``\\[ ... \\]`` whose body also parses with matplotlib's mathtext.
    Deterministic: the same SymPy version gives the same bytes.
    """
    names = [losses] if isinstance(losses, (str, Loss)) else list(losses)
    out = [
        r"\documentclass{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath}",
        r"\allowdisplaybreaks",
        r"\begin{document}",
        r"\section*{Reconstruction losses: derivations}",
        "Generated by \\texttt{scripts/derive.py} from the loss catalogue "
        "(\\texttt{lossanalysis.losses}) with SymPy. Targets $y \\in [0, 1]$, predictions "
        "$p = \\sigma(z) \\in (0, 1)$, $d = p - y$. Noise-bias coefficients: the bias of the "
        "mean prediction is $\\mathrm{E}[p] - y = (p^{\\star} - y) + b_2 \\sigma^2 + "
        "O(\\sigma^4)$; where $p^{\\star}$ has no closed form, $p$ stands for "
        "$p^{\\star}(y)$, the root of $\\partial L/\\partial p = 0$. With "
        "$L_k = \\partial^k L/\\partial p^k$ at $(y, p^{\\star})$, the general coefficients "
        "are, in probability space and in logit space:",
        r"\[ " + _general_noise_latex("prob") + r" \]",
        r"\[ " + _general_noise_latex("logit") + r" \]",
        "",
    ]
    for name in names:
        loss = _as_loss(name)
        der = _derivations(loss)
        params = ", ".join(f"{k} = {v:g}" for k, v in loss.params.items())
        title = _tex_escape(loss.name) + (f" ({_tex_escape(params)})" if params else "")
        out.append(rf"\subsection*{{{title}}}")
        asym = _asymmetry(loss)
        for key, label, fmt in _LATEX_ROWS:
            val = der[key]
            if val is None:
                body = r"\text{no closed form}" if key == "minimizer" else r"\text{none (kink)}"
            else:
                body = _latex(val)
            note = ""
            if key == "asymmetry":
                tail = "" if asym.order is None else rf" + O(d^{{{asym.order + 2}}})"
                body = body + tail
                note = f" ({asym.sign}: {asym.classification})"
            out.append(f"{label}{_tex_escape(note)}:")
            display = r"\[ " + fmt.format(body) + r" \]"
            # long formulas in a smaller font (they may still run into the margin)
            out.append(display if len(body) < 300 else r"{\footnotesize " + display + "}")
        out.append("")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
