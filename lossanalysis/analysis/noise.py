"""The bias of the mean prediction under irreducible zero-mean prediction noise, in
probability space or in logit space: exact (quadrature), to order sigma^2, and symbolic."""
from __future__ import annotations

import functools

import numpy as np

from .._inputs import nonneg
from .._symbols import internal_symbols as symbols  # the analysis works in positive y, p
from .._symbols import to_public
from ..losses import Loss, as_loss, is_catalogue, logit, sigmoid
from ._common import _EPS, _out, _targets
from ._expectation import LOGIT_SIGMA_MAX, logit_problem, prob_problem
from ._global import NOT_EXAMINED, global_min
from ._quadrature import _composite_rule, _composite_size, _hermite
from ._solve import find_root
from ._symbolic import (_dp, _dp_at_target, _is_smooth, _kink_points, _regular, _sp, _task,
                        _tidy)
from .gradients import _third
from .minimizers import _argmin_expr, _enclosures, argmin

__all__ = ["noise_bias", "noise_offset", "noise_bias_series", "noise_bias_coefficient",
           "max_prob_noise", "NOISE_SPACES"]

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
    if not isinstance(space, str) or space not in NOISE_SPACES:
        raise ValueError(f"space must be one of {NOISE_SPACES}, got {space!r}")
    return space


# Block size of the noise solve, in (targets x quadrature nodes) elements (1 MB per temporary).
# Each block is one call of SciPy's solver, whose fixed cost per iteration is about a
# millisecond; measured on 10^6 targets (BCE, one core, CPU seconds, probability / logit
# space): 8.4 / 9.3 with 8,192 elements, 3.3 / 3.9 with 65,536, 3.0 / 3.3 with 262,144 and
# 11.2 / 15.6 with 1,048,576 (temporaries beyond the caches and page faults).
_BLOCK_ELEMENTS = 1 << 17


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

    def f(cc, idx):
        g = loss.grad(ycol[idx], ycol[idx] + cc[:, None] + scol[idx] * x, check=False)
        return g @ w, np.abs(g) @ w

    idx = np.arange(yi.size)
    with np.errstate(all="ignore"):
        f_lo, f_hi = f(c_lo, idx)[0], f(c_hi, idx)[0]
    # a flat expected gradient (MAE: zero between the innermost nodes) may round to +-1e-17
    bad = ~((f_lo <= 1e-12) & (f_hi >= -1e-12))
    if bad.any():
        i = np.flatnonzero(bad)[0]
        raise ValueError(
            f"sigma={float(si[i])!r} is too large for y={float(yi[i])!r} in probability space: "
            f"the optimal offset would push the {n}-point noisy prediction out of (0, 1)")
    # c is resolved to the spacing of the floats p = y + c + sigma e (per row, so that a row's
    # answer does not depend on its block); a sum that cancels to rounding stops the search
    return _solve_rows(f, c_lo, c_hi, np.clip(x0, c_lo, c_hi), 2 * _EPS * (yi + si))


def _solve_rows(f, lo, hi, x0, resolution):
    """The root of the expected gradient ``f(c, idx)`` -> (value, size of its terms) on
    [lo, hi] (rows), started at ``x0`` and resolved to ``resolution`` (per row).  A value
    within 4 eps of the size of its terms is zero to rounding (re-evaluated at every point: at
    large sigma that size changes by orders of magnitude along the bracket)."""
    idx = np.arange(lo.size)
    with np.errstate(all="ignore"):
        val, scale = (np.asarray(v, dtype=float) for v in f(x0, idx))
    done = np.abs(val) <= 4 * _EPS * scale
    c = np.where(done, x0, np.nan)
    todo = np.flatnonzero(~done)
    if todo.size:
        lo = np.where(val < 0, x0, lo)[todo]          # x0 narrows the bracket
        hi = np.where(val > 0, x0, hi)[todo]
        c[todo], _ = find_root(lambda cc, i: f(cc, todo[i]), lo, hi, xatol=resolution[todo])
    return c


def _logit_block(loss: Loss, yi, si, c_start, rule, bracket=None):
    """Optimal logit offsets and E[p] for one block of targets in (0, 1) (all sigma > 0).

    ``rule`` is ("gh", nodes, weights) -- the expectation over e ~ N(0, 1) by Gauss-Hermite --
    or ("composite", kinks): the composite Gauss-Legendre rule of :func:`_composite_rule`, cut
    at the e where p crosses a kink of the loss (``kinks``: an array rows x J of kink locations
    in p, NaN where there is none)."""
    z0 = logit(yi)
    ycol, zcol, scol = yi[:, None], z0[:, None], si[:, None]
    if rule[0] == "gh":
        x, w = rule[1], rule[2]

        def f(cc, idx):
            zz = zcol[idx] + cc[:, None] + scol[idx] * x
            g = loss.grad_logit(ycol[idx], zz, check=False)
            return g @ w, np.abs(g) @ w

        def bias(cs):
            return _mean_minus_y(yi, zcol + cs[:, None] + scol * x, w)
    else:
        smax = float(si.max())
        with np.errstate(all="ignore"):
            zk = logit(rule[1])                                    # kinks in z, rows x J
        zk = np.where((rule[1] > 0) & (rule[1] < 1), zk, np.nan)

        def nodes(cc, idx, cuts):
            mu = z0[idx] + cc
            e, wt = _composite_rule(cuts, smax, -mu / si[idx], si[idx])
            return mu[:, None] + scol[idx] * e, wt

        def f(cc, idx):
            zz, wt = nodes(cc, idx, (zk[idx] - zcol[idx] - cc[:, None]) / scol[idx])
            g = np.asarray(loss.grad_logit(ycol[idx], zz, check=False))
            return (g * wt).sum(axis=1), (np.abs(g) * wt).sum(axis=1)

        def bias(cs):
            zz, wt = nodes(cs, np.arange(cs.size), np.empty((cs.size, 0)))
            return _mean_minus_y(yi, zz, wt)

    if bracket is not None:
        return _polish_logit(f, bias, yi, si, c_start, bracket)
    # bracket: grow [-B, B] until the expected gradient changes sign (only the rows still
    # without a bracket are re-evaluated); up to 4^16 B, since the offset can be huge (the
    # continuous Bernoulli's optimal logit at y = 1 - 3e-6 is 3e5, its parameter rounds to 1)
    bound = 1.0 + 2 * si + np.abs(c_start)
    todo = np.arange(yi.size)
    for _ in range(16):
        with np.errstate(all="ignore"):
            (f_lo, s_lo), (f_hi, s_hi) = f(-bound[todo], todo), f(bound[todo], todo)
        # zero to rounding counts (a flat expected gradient, e.g. MAE's): relative to the size
        # of the terms, since at large sigma the whole expected gradient is tiny
        found = (f_lo <= 4 * _EPS * s_lo) & (f_hi >= -4 * _EPS * s_hi)
        todo = todo[~found]
        if todo.size == 0:
            break
        bound[todo] *= 4
    if todo.size:
        i = todo[0]
        raise ValueError(f"no optimal logit offset found for y={float(yi[i])!r}, "
                         f"sigma={float(si[i])!r}: the expected gradient does not change sign")
    cs = _solve_rows(f, -bound, bound, np.clip(c_start, -bound, bound),
                     2 * _EPS * (1 + np.abs(z0) + si))
    with np.errstate(all="ignore"):
        return cs, bias(cs)


def _polish_logit(f, bias, yi, si, c_start, bracket):
    """The root of the expected gradient ``f`` (the accurate rule) on ``bracket`` around the
    certified global offset ``c_start`` (a user loss); where it does not change sign there the
    certified offset is kept.  Infinite offsets (the optimum at p = 0 or 1) are kept."""
    lo, hi = (np.asarray(v, dtype=float) for v in bracket)
    cs = c_start.astype(float).copy()
    finite = np.flatnonzero(np.isfinite(cs))
    if finite.size:
        with np.errstate(all="ignore"):
            f_lo = f(lo[finite], finite)[0]
            f_hi = f(hi[finite], finite)[0]
        ok = finite[(f_lo <= 0) & (f_hi >= 0)]
        if ok.size:
            res = 2 * _EPS * (1 + np.abs(logit(yi[ok])) + si[ok])

            def fo(cc, i):
                return f(cc, ok[i])

            cs[ok] = _solve_rows(fo, lo[ok], hi[ok], np.clip(cs[ok], lo[ok], hi[ok]), res)
    with np.errstate(all="ignore"):
        out = bias(np.where(np.isfinite(cs), cs, 0.0))
    inf = ~np.isfinite(cs)
    out = np.where(inf & (cs > 0), 1 - yi, np.where(inf & (cs < 0), -yi, out))
    return cs, out


def _mean_minus_y(y, z, w):
    """E[sigmoid(z)] - y for rows of nodes z with weights w (rows x K): for y > 1/2 as
    (1 - y) - E[sigmoid(-z)], so that a mean within 1e-6 of 1 keeps its relative precision."""
    w = np.broadcast_to(w, z.shape)
    out = np.empty(y.shape)
    up = y > 0.5
    out[~up] = (sigmoid(z[~up]) * w[~up]).sum(axis=1) - y[~up]
    out[up] = (1 - y[up]) - (sigmoid(-z[up]) * w[up]).sum(axis=1)
    return out


#: (target, sigma) pairs per block of the noise solve; each block's distinct pairs are solved
#: once (images have 256 levels), so memory stays bounded whatever the number of targets.
_PAIR_BLOCK = 1 << 16


def _noise_solve(loss: Loss, y, sigma, space, nodes):
    """(offset c, bias E[p] - y) minimizing the expected loss under prediction noise.

    Each distinct (y, sigma) pair of a block is solved once: arrays of pixel intensities (256
    grey levels) or of bin centres repeat a few values many times."""
    shape = np.broadcast_shapes(y.shape, sigma.shape)
    yb, sb = np.broadcast_to(y, shape), np.broadcast_to(sigma, shape)
    size = int(np.prod(shape))
    c, bias = np.empty(size), np.empty(size)
    for s in range(0, size, _PAIR_BLOCK):
        ys, ss = yb.flat[s:s + _PAIR_BLOCK], sb.flat[s:s + _PAIR_BLOCK]
        # the pairs as complex numbers: a 1-d sort (6x faster than unique rows), exact
        pairs, inverse = np.unique(ys + 1j * ss, return_inverse=True)
        cu, mu = _noise_solve_flat(loss, pairs.real.copy(), pairs.imag.copy(), space, nodes)
        inverse = inverse.ravel()
        c[s:s + _PAIR_BLOCK], bias[s:s + _PAIR_BLOCK] = cu[inverse], mu[inverse]
    return c.reshape(shape), bias.reshape(shape)


def _noise_solve_flat(loss: Loss, yf, sf, space, nodes):
    """:func:`_noise_solve` on flat float arrays of distinct pairs, in blocks of about
    :data:`_BLOCK_ELEMENTS` (targets x nodes)."""
    pstar = np.asarray(argmin(loss, yf), dtype=float).reshape(yf.shape)
    c = np.zeros_like(yf)
    bias = pstar - yf
    noisy = sf > 0
    user = not is_catalogue(loss)
    if space == "prob":
        n = _nodes(nodes, _PROB_NODES)
        x, w = _hermite(n)
        _check_prob_room(yf, sf, pstar, n)
        yi, si = yf[noisy], sf[noisy]
        x0 = pstar[noisy] - yi
        cs = np.empty_like(yi)
        rows = _USER_ROWS if user else _block_rows(n)
        for start in range(0, yi.size, rows):
            b = slice(start, start + rows)
            cs[b] = (_user_prob_block(loss, yi[b], si[b], x, w) if user
                     else _prob_block(loss, yi[b], si[b], x0[b], x, w, n))
        c[noisy] = cs
        bias[noisy] = cs                 # zero-mean noise: E[p] = y + c
    else:
        _check_logit_target(yf, sf)
        yi, si = yf[noisy], sf[noisy]
        if yi.size == 0:                 # no noise anywhere: the point bias
            return c, bias
        if user and si.max() > LOGIT_SIGMA_MAX:
            i = int(np.argmax(si))
            raise ValueError(f"sigma={float(si[i])!r}: for a user's loss, logit-space noise is "
                             f"supported up to sigma = {LOGIT_SIGMA_MAX:g} (the certified "
                             "global search of the expected loss)")
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
        rows = min(rows, _USER_ROWS) if user else rows
        for start in range(0, yi.size, rows):
            b = slice(start, start + rows)
            bracket = None
            if user:
                c_start[b], bracket = _user_logit_block(loss, yi[b], si[b], pstar[noisy][b])
            cs[b], ms[b] = _logit_block(loss, yi[b], si[b], c_start[b], rules(b), bracket)
        c[noisy] = cs
        bias[noisy] = ms
    return c, bias


#: Rows (target, sigma pairs) per block of the global search of a user loss's expected loss.
_USER_ROWS = 64


def _user_prob_block(loss: Loss, yi, si, x, w):
    """The globally optimal probability-space offsets of a user loss (certified; see
    :mod:`._expectation`)."""
    xmax = float(x.max())
    margin = 1e-12
    c_lo = si * xmax - yi + margin
    c_hi = 1 - yi - si * xmax - margin
    value, grad, enclose, grid = prob_problem(loss, _enclosures(loss), yi, si, x, w, c_lo, c_hi)
    c, ok, info = global_min(value, grad, yi.size, grid, enclose, block=(1 << 17) // x.size)
    _refuse_uncertified(loss, ok, info, yi, si)
    return c


def _user_logit_block(loss: Loss, yi, si, pstar):
    """The certified globally optimal logit offsets of a user loss (with the clipped-logit
    quadrature of :mod:`._expectation`), and a bracket around each for the polish."""
    value, grad, enclose, grid = logit_problem(loss, yi, si, pstar)
    mu, ok, info = global_min(value, grad, yi.size, grid, enclose, block=1 << 14, coarse=2)
    _refuse_uncertified(loss, ok, info, yi, si)
    z0 = logit(yi)
    c = mu - z0
    # the optimum at an end (the loss keeps falling toward p = 0 or 1): beyond the last
    # representable logit, tied with the constant value at the end of the range, the offset
    # is infinite
    lo, hi = grid[:, 0], grid[:, -1]
    idx = np.arange(yi.size)
    with np.errstate(all="ignore"):
        best, at_hi, at_lo = value(mu, idx), value(hi, idx), value(lo, idx)
    tie = 1e-12 * (1 + np.abs(best))
    up = (mu >= hi - 9 * si) & (at_hi <= best + tie)
    down = (mu <= lo + 9 * si) & (at_lo <= best + tie)
    c = np.where(up, np.inf, np.where(down, -np.inf, c))
    half = np.maximum(0.05 * si, 1e-3)
    return c, (c - half, c + half)


def _refuse_uncertified(loss: Loss, ok, info, yi, si):
    if not ok.all():
        bad = np.flatnonzero(~ok)
        i = int(next((j for j in bad if info[j] != NOT_EXAMINED), bad[0]))
        raise ValueError(f"loss: cannot certify the global minimum of the expected {loss.name} "
                         f"at y={float(yi[i])!r}, sigma={float(si[i])!r}: {info[i]}")


def _check_prob_room(y, sigma, pstar, n):
    """ValueError unless the n-point noise keeps every noisy prediction inside (0, 1):
    sigma * max|e| < min(p*, 1 - p*) wherever sigma > 0."""
    xmax = float(_hermite(n)[0].max())
    room = np.minimum(pstar, 1 - pstar) - sigma * xmax
    bad = (sigma > 0) & ~(room > 0)
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        yv, sv, pv = (float(np.ravel(a)[i]) for a in (y, sigma, pstar))
        raise ValueError(
            f"sigma={sv!r} is too large for y={yv!r} in probability space: the {n}-point noise "
            f"reaches +-{xmax:.3f} sigma, so {xmax:.3f} sigma must be below min(p*, 1 - p*) = "
            f"{min(pv, 1 - pv)!r} (p* = argmin, = y for proper losses) to keep the noisy "
            "prediction inside (0, 1); see max_prob_noise")


def _check_prob_boundary(y, sigma, pstar):
    """ValueError where sigma > 0 and the minimizer lies on the boundary (p* = 0 or 1): noise in
    probability space then leaves (0, 1) for every sigma > 0."""
    bad = (sigma > 0) & ~((pstar > 0) & (pstar < 1))
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        yv, pv = (float(np.ravel(a)[i]) for a in (y, pstar))
        raise ValueError(
            f"y={yv!r}: the minimizer p* = {pv!r} lies on the boundary, so noise in probability "
            "space leaves (0, 1) for every sigma > 0")


def _check_logit_target(y, sigma):
    """ValueError unless y lies in (0, 1) wherever sigma > 0 (logit-space noise)."""
    bad = (sigma > 0) & ~((y > 0) & (y < 1))
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        raise ValueError(
            f"y={float(np.ravel(y)[i])!r}: logit-space noise is centred on a finite logit, so y "
            "must lie in the open interval (0, 1)")


def _noise_inputs(loss, y, sigma, space):
    loss = as_loss(loss)
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

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    y : array_like
        Targets in [0, 1] (in (0, 1) for logit-space noise).
    sigma : array_like
        Noise standard deviations >= 0 (in p for "prob", in the logit for "logit"); broadcasts
        with ``y``.
    space : {"prob", "logit"}, optional
        Where the noise acts (default "prob").
    nodes : int, optional
        Gauss-Hermite size (2 to 300) of the noise; default 10 in probability space, and the
        rule described below in logit space.

    Returns
    -------
    numpy.ndarray or numpy.float64
        E[p] - y, the broadcast shape of ``y`` and ``sigma``.

    Notes
    -----
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
    below min(p*, 1 - p*) (p* = argmin, = y for proper losses), i.e. sigma below
    :func:`max_prob_noise`; otherwise ValueError (naming sigma).

    In logit space e is Gaussian and y must lie in (0, 1).  For a smooth loss with every
    sigma <= 0.75 the expectation is the 32-point Gauss-Hermite rule (relative error about
    exp(-pi sqrt(64)/sigma), 3e-15 at sigma = 0.75); for larger sigma, and for kinked losses at
    every sigma, a composite 16-point Gauss-Legendre rule on [-9, 9] in e, cut at the points
    where p crosses a kink of the loss (found by SymPy from the expression), with segments
    shorter than 2/sigma (relative error below 1e-14, tested against mpmath for MAE, Huber and
    MSE up to sigma = 3).  A Gauss-Hermite rule across a kink would be wrong by O(1): for MAE its
    root sits on one of the jumps that the discrete nodes put into E[dL/dz].  ``nodes`` given
    forces the Gauss-Hermite rule of that size (2 to 300) in logit space as well.  Beyond
    sigma = 5 the uniform segments would number 9 sigma; instead 40 segments cover the window
    of e where the sigmoid is not saturated (|z| < 40, outside it within 4e-18 of 0 or 1) and
    4.5-long segments the rest, so the cost no longer grows with sigma (tested against mpmath
    up to sigma = 1e5).  The noise is the Gaussian truncated to |e| <= 9 (mass 2e-19 beyond);
    at very large sigma the optimal offset of an MSE-like loss runs into that truncation, which
    changes the offset c (``noise_offset``) but not the bias, then 0 or 1 minus y to every digit
    (the untruncated optimum puts the sigmoid's transition far in the Gaussian tail).

    For a catalogue loss the offset is the root of the expected gradient in c, bracketed and
    found by SciPy's vectorized Chandrupatla solver (the expected loss has a single minimum);
    each distinct (y, sigma) pair is solved once, in blocks of 65,536 pairs (bounded memory).

    A user's loss (``Loss.from_expr``) may be bounded, non-convex or kinked, so its expected
    loss may have several wells and flat stretches.  Its offset is the **certified global
    minimum** of the expected loss (the search of :func:`argmin`: candidates from a grid,
    then a branch and bound on rigorous interval bounds, see :mod:`._expectation`).  In
    probability space the certificate is about the very function reported (the discrete
    noise).  In logit space it is about a fixed-node quadrature of the Gaussian expectation
    (accurate to about 1e-12), with the logit clipped to where p is representable; the offset
    is then polished with the rule above.  Where the optimum lies at p = 0 or 1 (a loss that
    keeps falling toward an end), the offset is infinite and the bias is -y or 1 - y.  For a
    user's loss the logit-space sigma is limited to 5.  ValueError says so when the global
    minimum cannot be certified (a loss varying faster than the search resolves).

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

    Examples
    --------
    >>> round(float(noise_bias("bce", 0.8, 0.02)), 6)        # toward 1/2
    -0.001521
    >>> abs(float(noise_bias("bce", 0.8, 0.5, "logit"))) < 1e-15   # canonical link
    True
    >>> bool(noise_bias("mse", 0.8, 0.5, "logit") > 0)      # away from 1/2
    True
    """
    loss, y, sigma, space = _noise_inputs(loss, y, sigma, space)
    _, bias = _noise_solve(loss, y, sigma, space, nodes)
    return _out(bias)


def noise_offset(loss, y, sigma, space="prob", *, nodes=None):
    """The optimal offset c of :func:`noise_bias`.

    Parameters
    ----------
    loss, y, sigma, space, nodes
        As for :func:`noise_bias`.

    Returns
    -------
    numpy.ndarray or numpy.float64
        c minimizing the expected loss: p = y + c + sigma e ("prob", where E[p] - y = c) or
        z = logit(y) + c + sigma e ("logit", where c also absorbs an improper loss's own pull).

    Examples
    --------
    >>> float(noise_offset("mse", 0.3, 0.01))
    0.0
    >>> bool(noise_offset("mse", 0.3, 0.5, "logit") < 0)    # MSE pushes a dark pixel darker
    True
    """
    loss, y, sigma, space = _noise_inputs(loss, y, sigma, space)
    c, _ = _noise_solve(loss, y, sigma, space, nodes)
    return _out(c)


def noise_bias_series(loss, y, sigma, space="prob"):
    """Leading order in sigma^2 of :func:`noise_bias`: bias(y) + sigma^2 b2(y) (+ O(sigma^4)).

    Parameters
    ----------
    loss, y, sigma, space
        As for :func:`noise_bias`.

    Returns
    -------
    numpy.ndarray or numpy.float64
        (p* - y) + sigma^2 b2(y), the broadcast shape of ``y`` and ``sigma``.

    Notes
    -----
    With p* the point-target minimizer and the derivatives L_pp, L_ppp taken at (y, p*):

    * probability space: the optimal offset is c = (p* - y) - (sigma^2/2) L_ppp/L_pp, and
      b2 = -(1/2) L_ppp / L_pp;
    * logit space: with s' = p*(1 - p*) and s'' = s'(1 - 2p*) the sigmoid's derivatives,
      b2 = -(1/2) (L_ppp / L_pp) s'^2 - s'': the optimal logit offset contributes
      -(sigma^2/2) [(L_ppp/L_pp) s' + 3 s''/s'] times s', and E[sigmoid] adds (sigma^2/2) s''.

    For BCE the two logit-space terms cancel (bias 0); for MSE (L_ppp = 0) the logit-space bias is
    -sigma^2 p(1 - p)(1 - 2p), away from 1/2.  :func:`noise_bias_coefficient` gives b2
    symbolically.

    Domain (one rule with :func:`noise_bias`): where sigma = 0 both return the point bias
    p* - y.  Where sigma > 0 both raise ValueError when the noisy prediction leaves (0, 1) for
    every sigma > 0 -- probability space with the minimizer on the boundary (p* = 0 or 1, e.g.
    BCE at y = 0), logit space with y = 0 or 1 -- and the series also where the expansion does
    not exist (L_pp(y, p*) not finite and positive, e.g. MAE's kink, or L_ppp not finite).  The
    series is an expansion in sigma -> 0, so it is returned for any sigma > 0 beyond that;
    :func:`noise_bias`, a finite noise model, further needs sigma < :func:`max_prob_noise` in
    probability space.  L_ppp is a Richardson-extrapolated central difference of the
    catalogue's curvature (relative error about 1e-10).

    Examples
    --------
    >>> round(float(noise_bias_series("bce", 0.8, 0.02)), 6)   # -sigma^2 (2y - 1)/(y (1 - y))
    -0.0015
    >>> noise_bias_series("bce", 0.0, 0.0)                    # no noise: the point bias
    np.float64(0.0)
    """
    loss, y, sigma, space = _noise_inputs(loss, y, sigma, space)
    y, sigma = np.broadcast_arrays(y, sigma)
    pstar = np.asarray(argmin(loss, y), dtype=float)
    if space == "prob":
        _check_prob_boundary(y, sigma, pstar)
    else:
        _check_logit_target(y, sigma)
    noisy = sigma > 0
    b2 = np.zeros(y.shape)
    if noisy.any():
        yn, pn = y[noisy], pstar[noisy]
        with np.errstate(all="ignore"):
            l2 = np.asarray(loss.curvature(yn, pn, check=False), dtype=float)
            l3 = np.asarray(_third(loss, yn, pn), dtype=float)
        bad = ~(np.isfinite(l2) & (l2 > 0) & np.isfinite(l3))
        if bad.any():
            i = np.flatnonzero(bad)[0]
            raise ValueError(f"loss: {loss.name} has no sigma^2 expansion at y={float(yn[i])!r} "
                             "(its second derivative at the minimizer is not finite and "
                             "positive, or its third is not finite)")
        c2 = -0.5 * l3 / l2
        if space == "logit":
            s1 = pn * (1 - pn)
            c2 = c2 * s1 * s1 - s1 * (1 - 2 * pn)
        b2[noisy] = c2
    return _out(pstar - y + sigma ** 2 * b2)


def max_prob_noise(loss, y, *, nodes=None):
    """The largest noise level the probability-space model of :func:`noise_bias` accepts at y.

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    y : array_like
        Targets in [0, 1].
    nodes : int, optional
        The size of the Gauss-Hermite noise (default 10, as in :func:`noise_bias`).

    Returns
    -------
    numpy.ndarray or numpy.float64
        sigma_max(y) = min(p*, 1 - p*) / max|e|, with p* = :func:`argmin` (= y for a proper
        loss) and max|e| the outermost node of the ``nodes``-point noise (4.859 for 10 nodes):
        the noisy prediction p* + sigma e stays inside (0, 1) exactly when sigma < sigma_max.
        :func:`noise_bias` and :func:`noise_bias_series` raise ValueError for sigma >=
        sigma_max (and the former also if the optimal offset itself would push the noise out,
        which no catalogue loss does below sigma_max: tested).

    Examples
    --------
    >>> round(float(max_prob_noise("bce", 0.5)), 6)        # 0.5 / 4.859...
    0.102892
    >>> bool(max_prob_noise("mse", 0.0) == 0)
    True
    """
    loss = as_loss(loss)
    y = _targets(y, loss=loss)
    xmax = float(_hermite(_nodes(nodes, _PROB_NODES))[0].max())
    pstar = np.asarray(argmin(loss, y), dtype=float)
    return _out(np.minimum(pstar, 1 - pstar) / xmax)


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

    # the sigmoid's derivatives as polynomials in p = s(z), from s' = s (1 - s): d/dz acts on a
    # function of p as p (1 - p) d/dp (exact, and far cheaper than simplifying exp forms)
    sder, d = {}, p
    for k in (1, 2, 3):
        d = sp.factor(sp.expand(p * (1 - p) * sp.diff(d, p)))
        sder[ssym[k - 1]] = d
    b2 = (ssym[0] * (-chain(3) / (2 * chain(2))) + ssym[1] / 2).subs(sder)
    return sp.factor(sp.cancel(sp.together(b2))), lsym[1], lsym[2]


def noise_coefficient_at(loss: Loss, space: str):
    """b2 in the internal y and p (p standing for the minimizer), unsimplified; None for MAE.
    The one formula, also read by :mod:`lossanalysis.proofs` at p = y for proper losses (public
    to the package, not in ``__all__``: the result is in the analysis' internal symbols)."""
    sp = _sp()
    y, p = symbols()
    if _regular(_dp(loss, 2).subs(p, y)) is None:     # MAE: L_pp is a Dirac delta at p = y
        return None
    if space == "prob":
        return -sp.Rational(1, 2) * _dp(loss, 3) / _dp(loss, 2)
    formula, l2, l3 = _logit_noise_formula()
    return formula.subs({l2: _dp(loss, 2), l3: _dp(loss, 3)})


@functools.lru_cache(maxsize=None)
def _noise_coefficient(loss: Loss, space: str):
    with _task(loss, f"the {space}-space noise coefficient"):
        return _noise_coefficient_of(loss, space)


def _noise_coefficient_of(loss: Loss, space: str):
    from .. import _budget
    sp = _sp()
    y, p = symbols()
    b2 = noise_coefficient_at(loss, space)
    if b2 is None:
        return None
    pstar = _argmin_expr(loss)
    if pstar is not None:
        b2 = b2.subs(p, pstar)
    return _tidy(_budget.checked(b2, "the noise coefficient"))


def noise_bias_coefficient(loss, space="prob"):
    """b2 of :func:`noise_bias_series` as a SymPy expression: bias = bias0 + b2 sigma^2 + ...

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    space : {"prob", "logit"}, optional
        Where the noise acts (default "prob").

    Returns
    -------
    sympy.Expr or None
        b2 in y (and p, see below); None for MAE (no expansion at its kink).

    Notes
    -----
    Probability space: b2 = -L_ppp/(2 L_pp).  Logit space: derived in z for l(z) = L(y, s(z))
    (s the sigmoid) with SymPy's chain rule: offset c = -(sigma^2/2) l'''/l'' and
    E[p] - p* = s'(z*) c + s''(z*) sigma^2/2, which at a stationary point is
    b2 = -(L_ppp/(2 L_pp)) p^2 (1-p)^2 - p (1-p)(1-2p).  Evaluated at the minimizer: in terms
    of y when :func:`argmin_expr` exists, otherwise in y and p, with p standing for p*(y).
    Cached per loss.

    Examples
    --------
    >>> noise_bias_coefficient("bce", "logit")
    0
    >>> noise_bias_coefficient("bce")
    (1 - 2*y)/(y*(1 - y))
    """
    loss = as_loss(loss)
    return to_public(_noise_coefficient(loss, _space(space)))
