"""The prediction that minimizes a loss: for a point target (argmin, bias, properness) and for
a distribution of targets (the optimal single prediction)."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from .._inputs import nonneg
from ..losses import Loss
from ..losses import _internal_symbols as symbols  # the analysis works in positive y, p
from ..losses import _to_public
from ._common import _P_HI, _P_LO, _as_loss, _out, _public_fields, _targets
from ._quadrature import _tanh_sinh
from ._solve import _minimize_unit
from ._symbolic import _dp, _dp_at_target, _is_zero, _sp, _tidy

__all__ = ["argmin", "bias", "argmin_expr", "is_proper", "Properness",
           "optimal_prediction", "optimal_prediction_beta", "optimal_prediction_two_point"]

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
    good = [s for s in sols if _check_candidate(loss, sp.sympify(s))]  # safe: sp.solve output
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
