"""The one vectorized root finder of the analysis (private): safeguarded Newton with bisection."""
from __future__ import annotations

import numpy as np

from ..losses import logit, sigmoid
from ._common import _EPS, _P_HI, _P_LO


def _logit_mid(lo, hi):
    """Midpoint of [lo, hi] in the logit: geometric near 0 and near 1, arithmetic-like inside."""
    m = sigmoid(0.5 * (logit(lo) + logit(hi)))
    return np.clip(m, lo, hi)


def _arith_mid(lo, hi):
    return lo + 0.5 * (hi - lo)


def _solve_increasing(F, lo, hi, x0, mid, *, scale=None, ftol=0.0, maxiter=400):
    """Root of an increasing function, elementwise, by safeguarded Newton with bisection.

    ``F(x, idx)`` returns (f, df) for the entries ``idx`` (an index array) at points ``x``,
    optionally (f, df, scale): |f| <= 4 eps scale then counts as zero (``scale`` the size of the
    terms summed into f); the caller guarantees f <= 0 at lo and f >= 0 at hi (which need not
    be evaluated).  A Newton
    step is taken when it stays strictly inside the bracket and at most halves the previous step;
    otherwise ``mid(lo, hi)`` is used.  An entry stops when f is zero, when the Newton correction is
    below 4 eps |x| + scale (``scale``: the absolute resolution of x), when |f| <= ``ftol`` (an
    absolute tolerance on f, 0 by default) or when the bracket cannot be split further.
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
            fzero = ftol + (4 * _EPS * np.asarray(out[2], dtype=np.float64) if len(out) > 2
                            else 0.0)
            f = np.asarray(f, dtype=np.float64)
            df = np.asarray(df, dtype=np.float64)
            la = np.where(f < 0, xa, lo[active])
            ha = np.where(f > 0, xa, hi[active])
            lo[active], hi[active] = la, ha
            step = -f / df
            xn = xa + step
        tol = 4 * _EPS * np.abs(xa) + scale[active]
        inside = np.isfinite(xn) & (xn >= la) & (xn <= ha)
        flat = np.abs(f) <= fzero                 # zero to rounding (e.g. MAE's flat mean)
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
