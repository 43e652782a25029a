"""The global minimum of a family of functions of one variable, with a certificate (private).

Used wherever the analysis minimizes a user's loss (``Loss.from_expr``), which carries no
promise of a single minimum: :func:`~lossanalysis.analysis.argmin` and everything built on it,
the optimal predictions for mixtures of targets, and the optimal offset of
:func:`~lossanalysis.analysis.noise_bias`.

Method (:func:`global_min`), for each row (one function f on one interval):

1. **Candidates.**  f and f' on a grid; every grid interval where f' rises through zero is
   solved to the last bit (SciPy's Chandrupatla); the ends, where f rises inward.  The lowest
   candidate value is U.
2. **Certificate** (branch and bound on interval enclosures, :mod:`._interval`).  Every grid
   interval is a cell.  A cell whose rigorous lower bound of f (the natural interval extension,
   sharpened by the mean-value form f(m) + f'(X)(X - m)) is at least U - tol holds nothing
   lower and is discarded.  A cell on which f is smooth (no kink or jump of the expression can
   lie inside) is *resolved* when f' > 0 (its minimum is its left end), f' < 0 (its right end)
   or f'' >= 0 (convex: its minimum is the root of f' or an end); those points become
   candidates and may lower U.  Other cells are bisected (their midpoints are candidates too),
   down to the resolution of float64.
3. The row is **certified** when no cell is left: no point of the interval has f < U - tol.
   Otherwise -- more than :data:`MAX_CELLS` cells per row, or cells at float64 resolution that
   still might hold a lower value -- it is reported as not certified, and the caller says so
   instead of returning a number that may be a local minimum.

tol = 1e-12 (1 + |U|) plus the rounding of f at the best point (the width of its enclosure
there): the certificate says that the minimum value is U to that accuracy; two minima closer
than that in value are a tie, and ties go to the smallest x.

Without an enclosure (``enclose=None``: an expectation whose quadrature nodes move with x) the
certificate is the sampled one: f at every grid point and every midpoint must not be below U.
"""
from __future__ import annotations

import numpy as np

from ._solve import find_root

__all__ = ["global_min", "MAX_CELLS", "NOT_EXAMINED"]

#: Cells the branch and bound may examine per row before it gives up ...
MAX_CELLS = 40_000
#: ... and per row on average over the rows solved together (the costliest row gives up
#: first), so that many hard rows do not cost many times one.
_CELLS_PER_ROW = 4_000
#: Rounds of bisection (each halves the remaining cells).
_MAX_ROUNDS = 120
_REL_TOL = 1e-12


def _float(a):
    return np.asarray(a, dtype=np.float64)


#: The reason of rows left unexamined once another row failed (``fail_fast``).
NOT_EXAMINED = "not examined (another function could not be certified)"


def global_min(value, grad, n, grid, enclose=None, *, block=1 << 18, hints=None, coarse=8,
               fail_fast=True):
    """Global minimizers of n functions of x on the rows of ``grid``.

    Parameters
    ----------
    value, grad : callable
        ``value(x, rows)``, ``grad(x, rows)``: f and f' at points ``x`` of the functions
        ``rows`` (integer array of the shape of ``x``); NaN where f is undefined (counted +inf).
    n : int
        Number of functions.
    grid : ndarray
        Increasing points, shape (m,) shared by every row or (n, m); f's interval is
        [grid[0], grid[-1]].
    enclose : callable, optional
        ``enclose(a, b, rows, order)`` -> (lo, hi, kink): rigorous bounds of f (order 0),
        f' (1) and f'' (2) on the cells [a, b] of the functions ``rows``, and where a kink or
        jump may lie inside; ``None`` for orders the caller cannot bound.  Without it the
        certificate is the sampled one (see the module).
    block : int
        Elements (rows x grid points) per block of the candidate search (and of cells of the
        branch and bound).
    hints : ndarray, optional
        One more candidate point per row (e.g. the target, where a user loss is often
        exactly stationary); it wins a tie in value (other ties go to the smallest x).
    coarse : int
        The branch and bound starts from every ``coarse``-th grid point.
    fail_fast : bool
        Stop at the first row that cannot be certified (the others are reported with
        :data:`NOT_EXAMINED`): the callers raise for it anyway.

    Returns
    -------
    x, certified, info
        x: the minimizers (NaN where no finite value was found); certified: bool per row;
        info: per row, a short reason where not certified (else "").
    """
    grid = _float(grid)
    shared = grid.ndim == 1
    m = grid.shape[-1]
    best_x = np.full(n, np.nan)
    best_v = np.full(n, np.inf)
    lowest_sampled = np.full(n, np.inf)
    hint_x, hint_v = np.full(n, np.nan), np.full(n, np.inf)
    rows_per = max(1, block // m)
    for s in range(0, n, rows_per):
        idx = np.arange(s, min(n, s + rows_per))
        g_ = np.broadcast_to(grid, (idx.size, m)) if shared else grid[idx]
        bx, bv, low = _candidates(value, grad, idx, g_, sample_mids=enclose is None)
        if hints is not None:
            h = np.clip(_float(hints)[idx], g_[:, 0], g_[:, -1])
            with np.errstate(all="ignore"):
                hv = _float(value(h, idx))
            bx, bv = _best(np.arange(idx.size), h, hv, idx.size, bx, bv)
            hint_x[idx], hint_v[idx] = h, np.where(np.isnan(hv), np.inf, hv)
        best_x[idx], best_v[idx], lowest_sampled[idx] = bx, bv, low
    certified = np.isfinite(best_v)
    info = np.where(certified, "", "no finite value").astype(object)
    if enclose is None:
        missed = certified & (lowest_sampled < best_v - 1e-8 * (1 + np.abs(best_v)))
        certified &= ~missed
        info[missed] = "a sampled value lies below the best local minimum found"
        return best_x, certified, info
    todo = np.flatnonzero(certified)
    if fail_fast and not certified.all():
        certified[todo] = False
        info[todo] = NOT_EXAMINED
        todo = todo[:0]
    per = max(1, (4 * block) // m)
    for s in range(0, todo.size, per):
        t = todo[s:s + per]
        bx, bv, ok, why = _branch_and_bound(value, grad, enclose, t,
                                            grid if shared else grid[t], best_x[t], best_v[t],
                                            coarse, fail_fast)
        best_x[t], best_v[t] = bx, bv
        certified[t] = ok
        info[t] = why
        if fail_fast and not ok.all():
            rest = todo[s + per:]
            certified[rest] = False
            info[rest] = NOT_EXAMINED
            break
    # a hint that ties with the best value wins the tie (e.g. the target of a loss whose value
    # underflows to the same number over a whole stretch)
    tied = np.isfinite(hint_v) & (hint_v <= best_v)
    best_x = np.where(tied, hint_x, best_x)
    return best_x, certified, info


def _candidates(value, grad, idx, grid, sample_mids=False):
    """The best local minimum per row from the grid (f' rising through zero, solved; the ends
    where f rises inward), and the lowest sampled value (for the sampled certificate)."""
    r, m = grid.shape
    rows = np.broadcast_to(idx[:, None], (r, m))
    with np.errstate(all="ignore"):
        g = _float(grad(grid, rows))
        v = _float(value(grid, rows))
    br, bi = np.nonzero((g[:, :-1] < 0) & (g[:, 1:] >= 0))
    if br.size:
        fn = idx[br]

        def gb(x, j):
            return grad(x, fn[j])

        roots, _ = find_root(gb, grid[br, bi], grid[br, bi + 1])
        with np.errstate(all="ignore"):
            vals = _float(value(roots, fn))
    else:
        roots = vals = np.empty(0)
    left = np.flatnonzero(g[:, 0] >= 0)
    right = np.flatnonzero(g[:, -1] <= 0)
    cand_row = np.concatenate([br, left, right])
    cand_x = np.concatenate([roots, grid[left, 0], grid[right, -1]])
    cand_v = np.concatenate([vals, v[left, 0], v[right, -1]])
    bx, bv = _best(cand_row, cand_x, cand_v, r)
    low = np.full(r, np.inf)
    if sample_mids:
        mids = 0.5 * (grid[:, 1:] + grid[:, :-1])
        with np.errstate(all="ignore"):
            vm = _float(value(mids, rows[:, 1:]))
        both = np.concatenate([v, vm], axis=1)
        low = np.min(np.where(np.isnan(both), np.inf, both), axis=1)
    return bx, bv, low


def _best(cand_row, cand_x, cand_v, r, bx=None, bv=None):
    """The lowest candidate per row (ties: the smallest x), merged with (bx, bv)."""
    if bx is None:
        bx, bv = np.full(r, np.nan), np.full(r, np.inf)
    cand_v = np.where(np.isnan(cand_v), np.inf, cand_v)
    cand_row = np.concatenate([np.arange(r), cand_row])
    cand_x = np.concatenate([bx, cand_x])
    cand_v = np.concatenate([bv, cand_v])
    keep = np.isfinite(cand_v)
    cand_row, cand_x, cand_v = cand_row[keep], cand_x[keep], cand_v[keep]
    order = np.lexsort((cand_x, cand_v, cand_row))
    cand_row, cand_x, cand_v = cand_row[order], cand_x[order], cand_v[order]
    first = np.ones(cand_row.size, dtype=bool)
    first[1:] = cand_row[1:] != cand_row[:-1]
    out_x, out_v = np.full(r, np.nan), np.full(r, np.inf)
    out_x[cand_row[first]] = cand_x[first]
    out_v[cand_row[first]] = cand_v[first]
    return out_x, out_v


#: Cells per call of ``enclose`` (bounded memory whatever the number of cells).
_CHUNK = 1 << 14


def _chunked(enclose):
    """``enclose`` applied to at most :data:`_CHUNK` cells at a time."""
    def f(a, b, rows, order):
        a, b, rows = (np.asarray(v) for v in np.broadcast_arrays(a, b, rows))
        if a.size <= _CHUNK:
            return enclose(a, b, rows, order)
        parts = [enclose(a[s:s + _CHUNK], b[s:s + _CHUNK], rows[s:s + _CHUNK], order)
                 for s in range(0, a.size, _CHUNK)]
        if any(p is None or p[0] is None for p in parts):
            return None
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))
    return f


#: By default the branch and bound starts from every 8th grid point (cells 8 grid intervals
#: wide): a cell far above the best value is discarded as cheaply whatever its width, and the
#: cells near a minimum are bisected anyway.
_COARSE = 8


def _branch_and_bound(value, grad, enclose, rows, grid, bx, bv, coarse=_COARSE,
                      fail_fast=False):
    """Step 2 of the module's method for the functions ``rows`` (their current best x, value)."""
    enclose = _chunked(enclose)
    a, b, local = _first_cells(grid, coarse, rows.size)
    r = rows.size
    spent = np.zeros(r, dtype=np.int64)
    failed = np.zeros(r, dtype=bool)
    why = np.full(r, "", dtype=object)

    def tolerance():
        with np.errstate(all="ignore"):
            lo, hi, _ = enclose(bx, bx, rows, 0)
        width = np.where(np.isfinite(hi - lo), hi - lo, 0.0)
        return _REL_TOL * (1 + np.abs(bv)) + 4 * width

    for _ in range(_MAX_ROUNDS):
        if fail_fast and failed.any():
            _give_up(failed, why, np.arange(r), NOT_EXAMINED)
        keep = ~failed[local]
        a, b, local = a[keep], b[keep], local[keep]
        if a.size == 0:
            break
        np.add.at(spent, local, 1)
        over = _over_budget(spent, r)
        if over.any():
            _give_up(failed, why, np.flatnonzero(over),
                     f"more than {MAX_CELLS:,} cells would be needed: the function varies on a "
                     "finer scale than the search can resolve")
            keep = ~failed[local]
            a, b, local = a[keep], b[keep], local[keep]
            if a.size == 0:
                break
        fr = rows[local]
        tol = tolerance()
        with np.errstate(all="ignore"):
            lo0, hi0, kink = enclose(a, b, fr, 0)
        lb = np.where(lo0 > hi0, np.inf, lo0)                 # empty: f undefined there
        alive = lb < bv[local] - tol[local]
        a, b, local, kink, lb = a[alive], b[alive], local[alive], kink[alive], lb[alive]
        if a.size == 0:
            break
        resolved, cand_l, cand_x = _derivative_tests(enclose, grad, a, b, local, rows[local],
                                                     ~kink, lb)
        # cells that may still hold a lower value: bisect; the midpoints are candidates
        alive = ~resolved & (lb < bv[local] - tol[local])
        mid = 0.5 * (a + b)
        finest = alive & ((mid <= a) | (mid >= b))
        cand_l.append(local[alive])
        cand_x.append(mid[alive])
        cl = np.concatenate(cand_l)
        cx = np.concatenate(cand_x)
        if cl.size:
            with np.errstate(all="ignore"):
                cv = _float(value(cx, rows[cl]))
            bx, bv = _best(cl, cx, cv, r, bx, bv)
        if finest.any():
            # a cell at float64 resolution that may still hold a lower value than U
            stuck = np.unique(local[finest & (lb < bv[local] - tolerance()[local])])
            _give_up(failed, why, stuck, "cells at float64 resolution may hold a lower value "
                                         "(a jump or a kink the bounds cannot resolve)")
        split = alive & ~finest
        a, b, local = (np.concatenate([a[split], mid[split]]),
                       np.concatenate([mid[split], b[split]]),
                       np.concatenate([local[split], local[split]]))
    else:
        _give_up(failed, why, np.unique(local), "the bisection did not finish")
    return bx, bv, ~failed, why


def _first_cells(grid, coarse, r):
    """The first cells ``(a, b, row)`` of the search: every ``coarse``-th interval of the grid
    (the last point kept), for each of the ``r`` rows (a grid per row, or one shared)."""
    keep = np.unique(np.concatenate([np.arange(0, grid.shape[-1], coarse),
                                     [grid.shape[-1] - 1]]))
    grid = grid[..., keep]
    if grid.ndim == 1:
        return (np.tile(grid[:-1], r), np.tile(grid[1:], r),
                np.repeat(np.arange(r), grid.size - 1))
    return grid[:, :-1].ravel(), grid[:, 1:].ravel(), np.repeat(np.arange(r), grid.shape[1] - 1)


def _over_budget(spent, r):
    """The rows whose cells exceed :data:`MAX_CELLS`, and when all together exceed their total
    budget, the costliest row as well (it gives up first)."""
    over = spent > MAX_CELLS
    if spent.sum() > max(MAX_CELLS, _CELLS_PER_ROW * r):
        over |= spent == spent.max()
    return over


def _give_up(failed, why, rows, reason):
    """Mark ``rows`` (indices) as failed, giving ``reason`` to those not failed before."""
    new = ~failed[rows]
    why[rows[new]] = reason
    failed[rows] = True


def _derivative_tests(enclose, grad, a, b, local, fr, smooth, lb):
    """The smooth cells' derivative tests: a cell where f' keeps its sign holds its minimum at
    an end, and a convex cell at its stationary point (found by ``grad``), so neither needs
    bisecting; the mean-value and second-order forms raise the lower bounds ``lb`` (in place).
    Returns which cells are resolved and the candidate (row, x) lists they give."""
    resolved = np.zeros(a.size, dtype=bool)
    cand_l, cand_x = [], []
    d1 = enclose(a[smooth], b[smooth], fr[smooth], 1) if smooth.any() else None
    if d1 is None or d1[0] is None:
        return resolved, cand_l, cand_x
    g_lo = np.full(a.size, -np.inf)
    g_hi = np.full(a.size, np.inf)
    g_lo[smooth], g_hi[smooth] = d1[0], d1[1]
    g_lo = np.where(np.isnan(g_lo), -np.inf, g_lo)
    g_hi = np.where(np.isnan(g_hi), np.inf, g_hi)
    # the mean-value form sharpens the bound: f(X) >= f(m) - |f'(X)| w/2
    mid = 0.5 * (a + b)
    sel = np.flatnonzero(smooth & np.isfinite(g_lo) & np.isfinite(g_hi))
    if sel.size:
        with np.errstate(all="ignore"):
            fm, _, _ = enclose(mid[sel], mid[sel], fr[sel], 0)
        slope = np.maximum(np.abs(g_lo[sel]), np.abs(g_hi[sel]))
        mv = fm - 0.5 * (b[sel] - a[sel]) * slope
        mv = np.where(np.isnan(mv), -np.inf, mv)
        lb[sel] = np.maximum(lb[sel], mv)
    rising = smooth & (g_lo > 0)
    falling = smooth & (g_hi < 0)
    for mask, ends in ((rising, a), (falling, b)):
        cand_l.append(local[mask])
        cand_x.append(ends[mask])
    resolved |= rising | falling
    rest = np.flatnonzero(smooth & ~resolved)
    if not rest.size:
        return resolved, cand_l, cand_x
    d2 = enclose(a[rest], b[rest], fr[rest], 2)
    if d2 is None or d2[0] is None:
        return resolved, cand_l, cand_x
    # second order: f(X) >= f(m) + f'(m) d + f''(X)_lo d^2/2, |d| <= w/2
    with np.errstate(all="ignore"):
        fm2, _, _ = enclose(mid[rest], mid[rest], fr[rest], 0)
        gm = enclose(mid[rest], mid[rest], fr[rest], 1)
    lb[rest] = np.maximum(lb[rest], _taylor_bound(
        fm2, gm[0], gm[1], np.asarray(d2[0]), 0.5 * (b[rest] - a[rest])))
    convex = rest[np.asarray(d2[0]) >= 0]
    if convex.size:
        xs = _convex_minimum(grad, a[convex], b[convex], fr[convex])
        cand_l.append(local[convex])
        cand_x.append(xs)
        resolved[convex] = True
    return resolved, cand_l, cand_x


def _taylor_bound(f0, g_lo, g_hi, h_lo, r):
    """A lower bound of f0 + g d + h d^2/2 over g in [g_lo, g_hi], h >= h_lo, |d| <= r: the
    minimum of the two one-sided quadratics (d >= 0 with g_lo, d <= 0 with g_hi), rounded
    down by a relative 1e-14 of the terms; -inf where a bound is not finite."""
    with np.errstate(all="ignore"):
        out = np.zeros(f0.shape)
        scale = np.zeros(f0.shape)
        for g in (g_lo, -g_hi):             # d >= 0 with slope g (the d <= 0 side mirrored)
            end = g * r + 0.5 * h_lo * r * r
            vertex = np.where((h_lo > 0) & (-g > 0) & (-g < h_lo * r), -g * g / (2 * h_lo),
                              np.inf)
            out = np.minimum(out, np.minimum(end, vertex))
            scale = np.maximum(scale, np.abs(g * r) + np.abs(h_lo) * r * r)
        lb = f0 + out - 1e-14 * (np.abs(f0) + scale) - np.finfo(float).tiny
    return np.where(np.isfinite(lb), lb, -np.inf)


def _convex_minimum(grad, a, b, rows):
    """The minimizer of a convex function on [a, b]: an end where f' points outward, else the
    root of f'."""
    with np.errstate(all="ignore"):
        ga = _float(grad(a, rows))
        gb = _float(grad(b, rows))
    out = np.where(ga >= 0, a, np.where(gb <= 0, b, np.nan))
    inner = np.flatnonzero(np.isnan(out))
    if inner.size:
        ri = rows[inner]

        def g(x, j):
            return grad(x, ri[j])

        x, status = find_root(g, a[inner], b[inner])
        # f' not finite inside (rounding at a pole): keep the midpoint as a candidate
        out[inner] = np.where(status == 0, x, 0.5 * (a[inner] + b[inner]))
    return out
