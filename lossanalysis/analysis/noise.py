"""The bias of the mean prediction under irreducible zero-mean prediction noise, in
probability space or in logit space: exact (quadrature), to order sigma^2, and symbolic."""
from __future__ import annotations

import functools

import numpy as np

from .._inputs import nonneg
from ..losses import Loss, logit, sigmoid
from ..losses import _internal_symbols as symbols  # the analysis works in positive y, p
from ..losses import _to_public
from ._common import _EPS, _as_loss, _out, _targets
from ._quadrature import _SQRT_2PI, _TAIL, _composite_rule, _composite_size, _hermite
from ._solve import _arith_mid, _solve_increasing
from ._symbolic import _dp, _dp_at_target, _is_smooth, _kink_points, _regular, _sp, _tidy
from .gradients import _third
from .minimizers import _argmin_expr, argmin

__all__ = ["noise_bias", "noise_offset", "noise_bias_series", "noise_bias_coefficient",
           "NOISE_SPACES"]

#: The two noise models of :func:`noise_bias`.
NOISE_SPACES = ("prob", "logit")


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


def _space(space):
    if space not in NOISE_SPACES:
        raise ValueError(f"space must be one of {NOISE_SPACES}, got {space!r}")
    return space


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
