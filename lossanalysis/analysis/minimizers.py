"""The prediction that minimizes a loss: for a point target (argmin, bias, properness) and for
a distribution of targets (the optimal single prediction)."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from .._inputs import nonneg
from .._symbols import internal_symbols as symbols  # the analysis works in positive y, p
from .._symbols import to_public
from ..losses import Loss, as_loss, is_catalogue, logit, sigmoid
from ._common import _P_HI, _P_LO, _out, _public_fields, _result_latex, _result_repr, _targets
from ._global import NOT_EXAMINED, global_min
from ._interval import Enclosure
from ._quadrature import _tanh_sinh
from ._solve import _Z_HI, _Z_LO, find_root, minimize_unit
from ._symbolic import _dp, _dp_at_target, _is_zero, _mp_values, _sp, _task, _tidy

__all__ = ["argmin", "bias", "argmin_expr", "is_proper", "Properness",
           "optimal_prediction", "optimal_prediction_beta", "optimal_prediction_two_point"]


#: Targets per block of :func:`argmin` (each distinct target is solved once per block): bounds
#: the memory of every temporary array (a few MB) whatever the number of targets.
_BLOCK = 1 << 16
#: Elements (targets x grid points) per block of the global search of a user loss.
_GRID_BLOCK = 1 << 18


def argmin(loss, y):
    """The prediction p in [0, 1] minimizing L(y, p) for each target ``y`` (vectorized).

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss` (a user loss from
        ``Loss.from_expr`` too).
    y : array_like
        Targets in [0, 1] (in (0, 1) for losses whose targets must lie strictly inside).

    Returns
    -------
    numpy.ndarray or numpy.float64
        p*(y) = argmin_{p in [0, 1]} L(y, p), the shape of ``y``; the global minimizer, never a
        maximum or a merely local minimum.

    Notes
    -----
    Catalogue losses have a single stationary point (dL/dp rises through zero once): where
    dL/dp vanishes at p = y (every proper loss) the answer is y exactly; otherwise the root of
    dL/dp is bracketed (from a cached table of p* on a grid of targets, p* rising with y) and
    found by SciPy's vectorized Chandrupatla solver (:mod:`scipy.optimize.elementwise`) to the
    last bit.  Minima at the boundary (BCE at y = 0) are returned as exactly 0 or 1; a minimizer
    below 1e-300 (above 1 - 2^-53) is reported as 0 (1).

    A user loss has no such structure, so the minimum is searched globally: dL/dp and L on a
    grid of 2,450 points of [0, 1] (1,025 uniform in p, and steps of 0.5 in the logit below
    0.001 and above 0.999), every bracket where dL/dp rises through zero solved, and the lowest
    of those local minima and the endpoints (where the loss rises inward) kept.  The answer is
    then **certified**: a branch and bound on rigorous interval bounds of L, dL/dp and
    d2L/dp2 (computed from the expression with outward rounding) proves that no p in
    [1e-300, 1 - 2^-53] has a value lower than the answer's by more than 1e-12 (1 + |L|) plus
    its rounding; it refines wherever the loss varies faster than the grid, and the local
    minima it finds there join the candidates (``sin(1e6*(p - y))**2 + (p - y)**2`` gets its
    minimizer y).  When that would need more than 40,000 cells at one target (structure far
    finer than the grid wherever the loss could be lower), or a jump the bounds cannot resolve
    remains, ValueError says that the global minimum cannot be certified -- never a local
    minimum returned as the global one.  Ties (equal values) go to the target, then to the
    smallest p.  A minimizer below 1e-300 (above 1 - 2^-53) is reported as 0 (1).

    Each distinct target is solved once (images have 256 levels), in blocks of 65,536 targets
    (bounded memory).  Agrees with :func:`argmin_expr` where that exists (tested).

    Examples
    --------
    >>> float(argmin("bce", 0.3))
    0.3
    >>> float(argmin("focal", 0.2))          # pulled toward 1/2
    0.3733...
    >>> from lossanalysis import Loss
    >>> argmin(Loss.from_expr("-(p - y)**2"), [0.3, 0.7])   # the far end, not the maximum y
    array([1., 0.])
    """
    loss = as_loss(loss)
    y = _targets(y, loss=loss)
    yf = y.ravel()
    out = np.empty(yf.shape)
    for s in range(0, yf.size, _BLOCK):
        u, inv = np.unique(yf[s:s + _BLOCK], return_inverse=True)
        out[s:s + _BLOCK] = _argmin_distinct(loss, u)[inv.ravel()]
    return _out(out.reshape(y.shape))


def _argmin_distinct(loss: Loss, y):
    """argmin for a 1-d float64 array of targets."""
    if not is_catalogue(loss):
        def value(p, idx):
            return loss.value(y[idx], p, check=False)

        def grad(p, idx):
            return loss.grad(y[idx], p, check=False)

        return _global_min(value, grad, y.size, lambda i: f"y={float(y[i])!r}", loss.name,
                           _mixture_enclosure(loss, [y], [None]), hints=y)
    with np.errstate(all="ignore"):
        g = np.asarray(loss.grad(y, y, check=False), dtype=float)
    out = np.where(g == 0, y, np.nan)       # the single stationary point is at the target
    rest = np.flatnonzero(np.isnan(out))
    if rest.size:
        out[rest] = _argmin_catalogue(loss, y[rest])
    return out


@functools.lru_cache(maxsize=None)
def _bracket_table(loss: Loss):
    """(logit y nodes, p* at them) for a catalogue loss, or None when p* does not rise with y.

    Targets between two nodes have their minimizer between the nodes' minimizers (p* rises
    with y), a tight bracket that the solver closes in a few steps."""
    t = np.linspace(-36.0, 36.0, 4609)                 # steps of 1/64 in logit y
    y = sigmoid(t)

    def grad(p, idx):
        return loss.grad(y[idx], p, check=False)

    p = minimize_unit(grad, y.size, y)
    if not np.all(np.diff(p) >= 0):
        return None
    return t, p


def _argmin_catalogue(loss: Loss, y):
    """Minimizers of a catalogue loss at targets where dL/dp(y, y) != 0."""
    out = np.full(y.size, np.nan)
    tab = _bracket_table(loss)
    if tab is not None:
        tn, pn = tab
        with np.errstate(all="ignore"):
            t = logit(y)
        inside = np.flatnonzero((t > tn[0]) & (t < tn[-1]))
        k = np.searchsorted(tn, t[inside]) - 1
        lo, hi = pn[k], pn[k + 1]
        same = lo == hi                                # p* pinned between equal neighbours
        out[inside[same]] = lo[same]
        todo = inside[~same]
        if todo.size:
            yt = y[todo]

            def grad(p, idx):
                return loss.grad(yt[idx], p, check=False)

            p, status = find_root(grad, lo[~same], hi[~same])
            ok = status == 0
            out[todo[ok]] = p[ok]
    rest = np.flatnonzero(np.isnan(out))
    if rest.size:
        yr = y[rest]

        def grad(p, idx):
            return loss.grad(yr[idx], p, check=False)

        out[rest] = minimize_unit(grad, yr.size, yr)
    return out


@functools.lru_cache(maxsize=None)
def _search_grid():
    """The grid of the global search: 1,025 points uniform in [0.001, 0.999] and steps of 0.5 in
    the logit out to P_LO and P_HI (2,450 points)."""
    mid = np.linspace(1e-3, 1 - 1e-3, 1025)
    z_lo = np.arange(_Z_LO, float(logit(1e-3)), 0.5)
    z_hi = np.arange(float(logit(1 - 1e-3)), _Z_HI, 0.5)[1:]
    return np.unique(np.concatenate([sigmoid(z_lo), mid, sigmoid(z_hi), [_P_HI]]))


def _global_min(value, grad, n, where, name, enclose=None, hints=None):
    """Certified global minimizer on [0, 1] of n functions of p, each given by
    ``value(p, idx)`` and ``grad(p, idx)`` (elementwise; ``idx`` the function's index, same
    shape as p) and, for the certificate, ``enclose(a, b, idx, order)`` (see
    :func:`._global.global_min`); ``where(i)`` describes function i in error messages.  See
    :func:`argmin` for the method."""
    grid = _search_grid()
    x, ok, info = global_min(value, grad, n, grid, enclose, hints=hints)
    x = np.where(x <= grid[0], 0.0, np.where(x >= grid[-1], 1.0, x))     # the ends, exactly
    if not ok.all():
        bad = np.flatnonzero(~ok)
        i = int(next((j for j in bad if info[j] != NOT_EXAMINED), bad[0]))
        if info[i] == "no finite value":
            raise ValueError(f"loss: cannot locate a minimum of {name} in [0, 1] at {where(i)} "
                             "(no finite local minimum on the search grid)")
        raise ValueError(f"loss: cannot certify the global minimum of {name} at {where(i)}: "
                         f"{info[i]}")
    return x


@functools.lru_cache(maxsize=None)
def _enclosures(loss: Loss):
    """Interval extensions of L, dL/dp and d2L/dp2 of a loss (None for the derivatives when
    they exceed the symbolic budget: the certificate then rests on L alone)."""
    from .. import _budget
    y, p = symbols()
    out = [Enclosure(_dp(loss, 0), [y, p])]
    try:
        with _task(loss, "the interval bounds of its derivatives"):
            out += [Enclosure(_dp(loss, 1), [y, p]), Enclosure(_dp(loss, 2), [y, p])]
    except _budget.SymbolicBudgetError:
        out += [None, None]
    return tuple(out)


def _mixture_enclosure(loss: Loss, targets, weights):
    """``enclose`` for f_i(p) = sum_k w_k[i] L(y_k[i], p): ``targets`` and ``weights`` lists of
    arrays indexed by the function (a weight None is 1)."""
    encs = _enclosures(loss)

    def enclose(a, b, idx, order):
        enc = encs[order]
        if enc is None:
            return None
        lo = hi = 0.0
        kink = False
        for yk, wk in zip(targets, weights):
            yy = yk[idx]
            l_, h_, k_ = enc(yy, yy, a, b)
            if wk is not None:
                w = wk[idx]
                l_, h_ = np.where(w == 0, 0.0, w * l_), np.where(w == 0, 0.0, w * h_)
                k_ = k_ & (w != 0)
            lo, hi, kink = lo + l_, hi + h_, kink | k_
        if len(targets) > 1:     # one rounding per addition and product
            lo, hi = _widen(lo, hi, 2 * len(targets))
        return lo, hi, kink

    return enclose


def _widen(lo, hi, ulps):
    eps = np.finfo(np.float64).eps
    tiny = np.finfo(np.float64).tiny
    with np.errstate(all="ignore"):
        lo2 = np.where(np.isfinite(lo), lo - np.abs(lo) * ulps * eps - tiny, lo)
        hi2 = np.where(np.isfinite(hi), hi + np.abs(hi) * ulps * eps + tiny, hi)
    lo2 = np.where(np.isnan(lo2), -np.inf, lo2)
    return lo2, np.where(np.isnan(hi2), np.inf, hi2)


def bias(loss, y):
    """How far the point-target minimizer sits from the target: argmin(loss, y) - y.

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    y : array_like
        Targets in [0, 1].

    Returns
    -------
    numpy.ndarray or numpy.float64
        p*(y) - y, the shape of ``y``: 0 for proper losses, toward 1/2 (its sign opposite to
        y - 1/2) for focal, away from 1/2 for the continuous Bernoulli's parameter.

    Examples
    --------
    >>> float(bias("mse", 0.3))
    0.0
    >>> bool(bias("focal", 0.2) > 0)          # pulled up toward 1/2
    True
    """
    loss = as_loss(loss)
    y = _targets(y, loss=loss)
    return _out(np.asarray(argmin(loss, y)) - y)


def _check_candidate(loss, cand):
    """A closed-form candidate p*(y): real, inside (0, 1) and a strict minimum at test points."""
    y, p = symbols()
    if cand.free_symbols - {y}:
        return False
    for v, mv in zip((0.17, 0.4, 0.71), _mp_values(cand, [y], [("0.17",), ("0.4",), ("0.71",)],
                                                    dps=30)):
        if mv is None:
            return False
        val = complex(mv)
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
    from .. import _budget
    sp = _sp()
    y, p = symbols()
    with _task(loss, "the closed-form minimizer"):
        lp = _dp(loss, 1)
        sols = []
        with _budget.soft(_SOLVE_SECONDS) as gave_up:
            try:
                sols = [_budget.checked(s, "a root of dL/dp") for s in sp.solve(lp, p)]
            except (NotImplementedError, ValueError, TypeError):
                sols = []
        if gave_up:
            sols = []
        good = [s for s in sols if _check_candidate(loss, sp.sympify(s))]  # safe: solve output
        if len(good) == 1:
            return _tidy(good[0])
        # SymPy cannot solve dL/dp = 0 (e.g. a kink): accept p = y if verifiably stationary
        if _is_zero(_tidy(lp.subs(p, y))) is True and _check_candidate(loss, y):
            return y
        return None


#: Seconds ``sympy.solve`` may take on a user's loss before the minimizer is reported as
#: having no closed form.
_SOLVE_SECONDS = 2.0


def argmin_expr(loss):
    """Closed form of the point-target minimizer p*(y), or None.

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.

    Returns
    -------
    sympy.Expr or None
        p*(y) in y.  From ``sympy.solve(dL/dp, p)``: the real root in (0, 1) that is a strict
        minimum and agrees with :func:`argmin` at three targets.  When SymPy cannot solve the
        equation but dL/dp vanishes identically at p = y (e.g. MAE's sign(p - y), Huber's
        Piecewise gradient), ``y`` is returned.  None for losses whose stationarity condition
        is transcendental (focal, continuous Bernoulli, beta NLL): use :func:`argmin`.

    Examples
    --------
    >>> argmin_expr("bce")
    y
    >>> argmin_expr("focal") is None
    True
    """
    return to_public(_argmin_expr(as_loss(loss)))


@dataclass(frozen=True)
class Properness:
    """Whether a loss's point-target minimizer is the target itself, for every y.

    Attributes
    ----------
    loss : str
        The loss name.
    proper : bool
        True when argmin(loss, y) == y for every y: the global minimizer (:func:`argmin`) is
        within 1e-9 of the target on a grid of 103 targets in [0.001, 0.999] **and** the
        target is stationary, L_p(y, y) == 0 identically (where SymPy decides it).  Both are
        needed: -(p - y)**2 is stationary at p = y but has its maximum there.
    direction : str
        "none", "toward 1/2", "away from 1/2" or "mixed": where |bias| > 1e-9, whether the
        minimizer lies closer to 1/2 than the target (|p* - 1/2| < |y - 1/2|) or farther.
    max_abs_bias : float
        max |argmin(loss, y) - y| over the grid.
    symbolic : bool or None
        L_p(y, y) == 0 identically (simplification plus a 40-digit check); None when SymPy
        cannot decide.
    stationarity : sympy.Expr
        L_p(y, y).
    evidence : dict
        The grid, where the largest bias sits, the biases at y = 0.2 and 0.8, whether the
        symbolic and numeric verdicts agree and, when they do not, why the loss is not proper.

    Examples
    --------
    >>> r = is_proper("continuous_bernoulli")
    >>> r.proper, r.direction, r.symbolic
    (False, 'away from 1/2', False)
    """

    loss: str
    proper: bool
    direction: str
    max_abs_bias: float
    symbolic: bool | None
    stationarity: object
    evidence: dict = field(default_factory=dict)

    def __repr__(self):
        return _result_repr(self)

    def _repr_latex_(self):
        return _result_latex(self, {"stationarity": r"L_p(y, y)",
                                    "max_abs_bias": r"\max_y |p^{\star}(y) - y|"})


_PROPER_TOL = 1e-9


@functools.lru_cache(maxsize=None)
def _is_proper(loss: Loss) -> Properness:
    yg = np.concatenate([[1e-3, 5e-3], np.linspace(0.01, 0.99, 99), [0.995, 0.999]])
    pstar = np.asarray(argmin(loss, yg))
    b = pstar - yg
    worst = float(np.max(np.abs(b)))
    from .. import _budget
    try:
        with _task(loss, "the stationarity at the target"):
            lp = _dp_at_target(loss, 1)
            zero = _is_zero(lp)
        symbolic = None if zero is None else bool(zero)
    except _budget.SymbolicBudgetError:
        lp, symbolic = _sp().nan, None
    except (TypeError, ValueError):
        symbolic = None
    numeric = worst <= _PROPER_TOL
    # proper needs the minimizer at the target; a stationary target that is not the minimum
    # (a maximum or a local minimum only) is not proper
    proper = numeric and symbolic is not False
    closer = np.abs(pstar - 0.5) - np.abs(yg - 0.5)
    big = np.abs(b) > _PROPER_TOL
    if not big.any():
        direction = "none"
    elif np.all(closer[big] < 0):
        direction = "toward 1/2"
    elif np.all(closer[big] > 0):
        direction = "away from 1/2"
    else:
        direction = "mixed"
    i = int(np.argmax(np.abs(b)))
    ev = {"grid": f"{yg.size} targets in [0.001, 0.999]", "max |bias| at y": float(yg[i]),
          "bias at y = 0.2, 0.8": [float(bias(loss, 0.2)), float(bias(loss, 0.8))],
          "L_p(y, y)": _sp().sstr(lp), "symbolic and numeric agree": symbolic in (None, numeric)}
    if symbolic is True and not numeric:
        ev["not proper because"] = "the target is stationary but not the global minimum"
    elif symbolic is False and numeric:
        ev["not proper because"] = "the target is not stationary (the bias is below 1e-9)"
    return Properness(loss.name, proper, direction, worst, symbolic, lp, ev)


def is_proper(loss) -> Properness:
    """Classify strict properness for point targets: argmin_p L(y, p) = y for every y in (0, 1).

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.

    Returns
    -------
    Properness
        ``proper`` is True when the global minimizer :func:`argmin` equals the target (within
        1e-9) at 103 targets in [0.001, 0.999] and the target is stationary, L_p(y, y) == 0
        (decided by simplification plus a 40-digit check; None when undecided).  So
        ``proper`` always agrees with :func:`argmin`: a stationary point that is a maximum
        (-(p - y)**2) or not the lowest minimum is not proper, and ``evidence`` says which of
        the two failed.  ``direction`` states where the minimizer lies relative to 1/2.

    Notes
    -----
    This is the point-target notion of properness; as scoring rules for Bernoulli outcomes
    only the Brier score (MSE) and the log score (BCE) are strictly proper (Gneiting & Raftery
    2007) -- MAE, for instance, is unbiased for a point target but its optimum for a spread of
    targets is the median, see :func:`optimal_prediction`.

    Results: mse, mae, huber, bce, kl, reverse_kl, logit_mse and gaussian_nll are proper; focal
    is pulled toward 1/2; the continuous Bernoulli's parameter is pushed away from 1/2 (its mean
    ``continuous_bernoulli_mean(argmin)`` is the target); beta_nll's mean parameter is pulled
    toward 1/2 (psi(kappa p) - psi(kappa (1 - p)) = logit y at the optimum, and
    psi(x) ~ ln x - 1/(2x)).

    Examples
    --------
    >>> is_proper("bce").proper
    True
    >>> r = is_proper("focal"); r.proper, r.direction
    (False, 'toward 1/2')
    >>> from lossanalysis import Loss
    >>> is_proper(Loss.from_expr("-(p - y)**2")).proper      # stationary, but a maximum
    False
    """
    return _public_fields(_is_proper(as_loss(loss)))


def _minimize(loss: Loss, value, grad, n, x0, where, enclose=None):
    """The minimizer of n functions of p (``value(p, idx)``, ``grad(p, idx)``) built from
    ``loss``: the single sign change of the gradient for a catalogue loss, the global search of
    :func:`argmin` for a user loss (certified with ``enclose``, else by sampling)."""
    if is_catalogue(loss):
        return minimize_unit(grad, n, x0)
    return _global_min(value, grad, n, where, loss.name, enclose)


def _weighted_minimizer(loss: Loss, ys, ws, x0):
    """argmin_p sum_i ws_i L(ys_i, p) (ws >= 0, summing to 1), a scalar."""
    ys = np.asarray(ys, dtype=float)
    ws = np.asarray(ws, dtype=float)
    keep = ws > 0
    ys, ws = ys[keep], ws[keep]
    step = max(1, _GRID_BLOCK // ys.size)

    def mean_of(fn):
        def f(p, idx):
            p = np.asarray(p, dtype=float)
            flat = p.ravel()
            out = np.empty(flat.size)
            for s in range(0, flat.size, step):
                out[s:s + step] = fn(ys[None, :], flat[s:s + step, None], check=False) @ ws
            return out.reshape(p.shape)
        return f

    enclose = None
    if ys.size <= _CERTIFIED_TARGETS:
        enclose = _mixture_enclosure(loss, [np.array([v]) for v in ys],
                                     [np.array([v]) for v in ws])
    return float(_minimize(loss, mean_of(loss.value), mean_of(loss.grad), 1, np.array([x0]),
                           lambda i: "the given targets", enclose)[0])


#: Distinct targets up to which the global minimum of a user loss's mean is certified by
#: interval bounds (each bound costs one evaluation per target); beyond, by sampling.
_CERTIFIED_TARGETS = 256


def optimal_prediction(loss, targets, weights=None):
    """The single prediction p minimizing the weighted mean loss over a set of targets.

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    targets : array_like
        Target intensities in [0, 1] (e.g. a dataset's pixels); not empty.
    weights : array_like, optional
        Non-negative weights of the shape of ``targets``, not all zero (default: equal).

    Returns
    -------
    float
        argmin_p sum_i w_i L(y_i, p) / sum_i w_i over p in [0, 1].

    Notes
    -----
    For MSE, BCE and KL this is the weighted mean of the targets (their gradients are affine in
    y, so the condition is E[y] = p); for MAE the weighted median (when the weights split
    exactly in half any point between the two middle targets is optimal and one of them is
    returned).  Duplicate targets are merged, so 8-bit images cost 256 terms per evaluation.
    The root of the summed gradient is found as in :func:`argmin` (a single sign change for the
    catalogue losses, the certified global search for a user loss; with more than 256
    distinct targets the certificate is the sampled one of
    :func:`optimal_prediction_beta`).

    Examples
    --------
    >>> round(float(optimal_prediction("mae", [0.0, 0.1, 1.0])), 12)
    0.1
    >>> round(float(optimal_prediction("bce", [0.0, 0.1, 1.0], [1, 2, 1])), 12)
    0.3
    """
    loss = as_loss(loss)
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
    """The optimal prediction for two targets: argmin_p (1 - w1) L(y0, p) + w1 L(y1, p).

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    y0, y1 : array_like
        The two targets, in [0, 1].
    w1 : array_like
        The weight of ``y1`` in [0, 1] (``y0`` has 1 - w1); the three broadcast.

    Returns
    -------
    numpy.ndarray or numpy.float64
        The minimizer, the broadcast shape; the exact weighted sum of the two gradients is
        solved as in :func:`argmin`.

    Notes
    -----
    An edge uncertain between black (y0 = 0) and white (y1 = 1) with probability w1 of white:
    MSE and BCE predict w1 (grey: blur), MAE predicts 0 or 1 (the median: a hard edge).

    Examples
    --------
    >>> float(optimal_prediction_two_point("bce", 0.0, 1.0, 0.25))
    0.25
    >>> optimal_prediction_two_point("mae", 0.0, 1.0, [0.25, 0.75])
    array([0., 1.])
    """
    loss = as_loss(loss)
    y0 = _targets(y0, "y0", loss=loss)
    y1 = _targets(y1, "y1", loss=loss)
    w1 = _targets(w1, "w1")
    y0, y1, w1 = np.broadcast_arrays(y0, y1, w1)
    a, b, w = y0.ravel(), y1.ravel(), w1.ravel()

    def mix(fn):
        def f(p, idx):
            wi = w[idx]
            f0 = fn(a[idx], p, check=False)
            f1 = fn(b[idx], p, check=False)
            return np.where(wi == 0, f0, np.where(wi == 1, f1, (1 - wi) * f0 + wi * f1))
        return f

    x0 = (1 - w) * a + w * b
    p = _minimize(loss, mix(loss.value), mix(loss.grad), a.size, x0,
                  lambda i: f"y0={float(a[i])!r}, y1={float(b[i])!r}, w1={float(w[i])!r}",
                  None if is_catalogue(loss) else _mixture_enclosure(loss, [a, b], [1 - w, w]))
    return _out(p.reshape(w1.shape))


def optimal_prediction_beta(loss, a, b):
    """The optimal prediction for Beta-distributed targets: argmin_p E[L(Y, p)], Y ~ Beta(a, b).

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    a, b : float
        The Beta shape parameters, > 0.

    Returns
    -------
    float
        The minimizer in [0, 1].

    Notes
    -----
    E[L_p(Y, p)] is an integral over y split at y = p (where MAE's gradient jumps), each piece
    by tanh-sinh quadrature in the distance to its singular end (y = 0 on the left, y = 1 on the
    right), so the Beta density's endpoint singularities y^(a-1), (1-y)^(b-1) and logarithmic
    terms (logit MSE, reverse KL, beta NLL) are integrated to about 1e-11.  Nodes closer than
    1e-16 to y = 1 round to 1.0; where the loss is singular there they are evaluated at the
    largest float below 1, an error of order 1e-16^b |ln 1e-16| (1e-10 for b = 1/2, 1e-4 for
    b = 0.2; likewise near 0 with a).  MSE/BCE/KL give the
    mean a/(a + b), MAE the median, logit MSE sigmoid(psi(a) - psi(b)) (all tested).

    For a user's loss the minimum is searched globally as in :func:`argmin`, but the
    expectation's nodes move with p (the split at y = p), so it is certified by sampling only:
    no value at a grid point or midpoint may lie below the answer (ValueError otherwise).

    Examples
    --------
    >>> round(optimal_prediction_beta("bce", 2.0, 6.0), 12)       # the mean a/(a + b)
    0.25
    >>> round(optimal_prediction_beta("mae", 2.0, 2.0), 12)       # the median
    0.5
    """
    loss = as_loss(loss)
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

    def expect(fn):
        def f(p, idx):
            p = np.asarray(p, dtype=float)
            out = np.empty(p.size)
            for k, pi in enumerate(p.ravel()):
                ys, ws = pieces(pi)
                out[k] = np.dot(ws, at(fn, ys, pi))
            return out.reshape(p.shape)
        return f

    return float(_minimize(loss, expect(loss.value), expect(loss.grad), 1,
                           np.array([a_ / (a_ + b_)]), lambda i: f"a={a_!r}, b={b_!r}")[0])
