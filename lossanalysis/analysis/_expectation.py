"""The expected loss under prediction noise as a function of the offset, for the certified
global search of a user's loss (private; used by :mod:`.noise`).

Each builder returns ``(value, grad, enclose, grid)`` for :func:`._global.global_min`: the
expected loss F(c) of each row (a target y and a noise level sigma), its derivative, rigorous
interval bounds of F, F' and F'' on cells of c, and the search grid of each row.

* Probability space (:func:`prob_problem`): F(c) = sum_k w_k L(y, y + c + sigma x_k) for the
  n-point Gauss-Hermite noise (x_k, w_k) -- the noise model of ``noise_bias`` itself, so the
  certificate is about the very function whose minimum is reported.  Bounds: the loss's
  interval extension at the shifted cells.
* Logit space (:func:`logit_problem`): F(mu) = E[L(y, sigmoid(clip(mu + sigma e)))], e ~ N(0, 1),
  with the logit clipped to [T0, T1] (T1 = logit(1 - 2^-53), T0 = min(-40, logit y - 40,
  logit p* - 40), where p* = argmin L; beyond, p is not representable or the Gaussian mass is
  below 1e-16 for sigma <= 5).  Written as an integral over the logit t,
  F(mu) = l(T0) Phi((T0 - mu)/sigma) + l(T1) Phi((mu - T1)/sigma)
  + int_T0^T1 l(t) phi((t - mu)/sigma)/sigma dt,   l(t) = L(y, sigmoid(t)),
  the loss is evaluated once, at fixed nodes (8-point Gauss-Legendre on segments of length
  h = min(1, sigma)), and every dependence on mu sits in the Gaussian kernel: F is smooth
  in mu (no kink even for a kinked loss), its derivatives are the kernel's, and bounds on a
  cell of mu follow from the kernel's bounds (phi, u phi, (u^2 - 1) phi are unimodal or have
  known extrema).  Nodes more than 8.5 sigma from mu are skipped; their weight (the kernels'
  mass beyond, 1.4e-15 at most, doubled, times the largest |l|) is added to the bounds.  A
  second lower bound needs no cancellation: F is a combination of the node values l_j with
  weights >= 0 that sum to 1 within the quadrature error of the Gaussian, so F >= the least
  l_j within reach -- tight on the flat stretches where a loss approaches its infimum toward
  p = 0 or 1 (there the kernel bounds would need cells of width 1e-9).  The certificate is
  about this quadrature of the expectation (accurate to about 1e-12 for a smooth loss, and to
  the O(h^2) error of a kink inside a segment otherwise); :mod:`.noise` then polishes the
  offset with its own rule.
"""
from __future__ import annotations

import math

import numpy as np

from ..losses import logit, sigmoid
from ._common import _P_HI, _P_LO
from ._interval import _EPS, _widen

__all__ = ["prob_problem", "logit_problem", "LOGIT_SIGMA_MAX"]

#: The largest logit-space sigma of the global search for a user's loss.
LOGIT_SIGMA_MAX = 5.0
_T_HI = float(logit(_P_HI))
_SQRT_2PI = math.sqrt(2 * math.pi)
_PHI0 = 1 / _SQRT_2PI
_PHI1 = math.exp(-0.5) / _SQRT_2PI
_PHI3 = 2 * math.exp(-1.5) / _SQRT_2PI          # (u^2 - 1) phi(u) at u = sqrt(3)
#: Gauss-Legendre nodes per segment (of length <= sigma: the Gaussian kernel and the loss
#: are integrated to about 1e-12 relative)
_NODES = 8
_BAND = 8.5                                      # nodes within 8.5 sigma of mu
#: A bound on |sum of the weights - 1| of the rule for the Gaussian: the Gauss-Legendre
#: remainder (b - a)^17 (8!)^4 / (17 (16!)^3) max|f^(16)| per segment is below
#: 1.7e-23 (h/sigma)^17 max|He_16(u) phi(u)|, and Cramer's inequality gives |He_16(u) phi(u)| <=
#: 1.09 sqrt(16!) e^(-u^2/4)/sqrt(2 pi) = 2e6 e^(-u^2/4); summed over segments (h <= sigma) that
#: is below 2e-16, the float weights add a few eps: 1e-13 is generous.
_MASS_ERROR = 1e-13
_BAND_MASS = 4e-15                               # int_{|u|>8.5} (1 + u^2) phi(u) du = 1.4e-15, doubled


def _template(m=1025):
    """Points of [0, 1]: uniform, plus geometric ones toward both ends."""
    t = np.linspace(0.0, 1.0, m)
    ends = 10.0 ** -np.arange(4, 13)
    return np.unique(np.concatenate([t, ends, 1 - ends]))


# ----------------------------------------------------------------------------------------------
# Probability space
# ----------------------------------------------------------------------------------------------
def prob_problem(loss, enclosures, y, sigma, x, w, c_lo, c_hi):
    """F(c) = sum_k w_k L(y, y + c + sigma x_k) on [c_lo, c_hi] per row."""
    t = _template()
    grid = c_lo[:, None] + (c_hi - c_lo)[:, None] * t
    grid[:, -1] = c_hi

    def points(c, rows):
        c = np.asarray(c, dtype=np.float64)
        return (y[rows][..., None] + c[..., None]) + sigma[rows][..., None] * x

    def value(c, rows):
        pp = points(c, rows)
        return np.asarray(loss.value(np.broadcast_to(y[rows][..., None], pp.shape), pp,
                                     check=False), dtype=np.float64) @ w

    def grad(c, rows):
        pp = points(c, rows)
        return np.asarray(loss.grad(np.broadcast_to(y[rows][..., None], pp.shape), pp,
                                    check=False), dtype=np.float64) @ w

    def enclose(a, b, rows, order):
        enc = enclosures[order]
        if enc is None:
            return None
        yy = y[rows][:, None]
        sx = sigma[rows][:, None] * x
        lo_p, hi_p = (_shifted(yy + np.asarray(c)[:, None], sx, side) for c, side in
                      ((a, -1), (b, 1)))
        lo, hi, kink = enc(yy, yy, lo_p, hi_p)
        lo, hi = _weighted_sum(lo, hi, w)
        return lo, hi, kink.any(axis=1)

    return value, grad, enclose, grid


def _shifted(base, shift, side):
    """base + shift rounded outward (side -1: down, +1: up): each of the three roundings that
    made it (y + c, sigma x, their sum) is below eps times its own size."""
    s = base + shift
    err = _EPS * (np.abs(base) + np.abs(shift) + np.abs(s)) + np.finfo(np.float64).tiny
    return s + side * err


def _weighted_sum(lo, hi, w):
    """sum_k w_k [lo_k, hi_k] for w_k >= 0 (rows x k), rounded outward."""
    with np.errstate(all="ignore"):
        slo = np.where(w > 0, lo * w, 0.0).sum(axis=-1)
        shi = np.where(w > 0, hi * w, 0.0).sum(axis=-1)
    slo = np.where(np.isnan(slo), -np.inf, slo)
    shi = np.where(np.isnan(shi), np.inf, shi)
    return _widen(slo, shi, 2 * w.shape[-1] + 2)


# ----------------------------------------------------------------------------------------------
# Logit space
# ----------------------------------------------------------------------------------------------
def _kernel(u, order):
    """phi(u), u phi(u), (u^2 - 1) phi(u) for order 0, 1, 2."""
    phi = np.exp(-0.5 * u * u) / _SQRT_2PI
    return phi if order == 0 else u * phi if order == 1 else (u * u - 1) * phi


def _kernel_bounds(ul, uh, order):
    """Bounds of the order's kernel on [ul, uh] (its extrema: 0 for phi; +-1 for u phi; 0 and
    +-sqrt(3) for (u^2 - 1) phi)."""
    kl, kh = _kernel(ul, order), _kernel(uh, order)
    lo, hi = np.minimum(kl, kh), np.maximum(kl, kh)

    def inside(v):
        return (ul <= v) & (uh >= v)

    if order == 0:
        hi = np.where(inside(0.0), _PHI0, hi)
    elif order == 1:
        hi = np.where(inside(1.0), _PHI1, hi)
        lo = np.where(inside(-1.0), -_PHI1, lo)
    else:
        lo = np.where(inside(0.0), -_PHI0, lo)
        top = inside(math.sqrt(3)) | inside(-math.sqrt(3))
        hi = np.where(top, _PHI3, hi)
    lo, hi = _widen(lo, hi, 8)
    return lo, hi


def _normal_cdf(v):
    from scipy.special import ndtr
    return ndtr(v)


class _LogitRows:
    """The nodes of the logit-space expectation for a block of rows (padded arrays)."""

    def __init__(self, loss, y, sigma, pstar, cell):
        from numpy.polynomial.legendre import leggauss
        self.sigma = sigma
        z0 = np.asarray(logit(y), dtype=np.float64)
        with np.errstate(all="ignore"):
            zs = np.where((pstar > 0) & (pstar < 1), logit(np.clip(pstar, _P_LO, _P_HI)), z0)
        self.t0 = np.maximum(float(logit(_P_LO)), np.minimum(np.minimum(z0, zs) - 40.0, -40.0))
        self.t1 = np.full(y.shape, _T_HI)
        self.h = np.minimum(1.0, sigma)
        segs = np.ceil((self.t1 - self.t0) / self.h).astype(np.int64)
        self.h = (self.t1 - self.t0) / segs             # exactly covering [t0, t1]
        self.segs = segs
        xi, wi = leggauss(_NODES)
        self.per = per = xi.size
        band = int(np.max(np.ceil((2 * _BAND * sigma + cell) / self.h))) + 3
        self.width = band * per
        # node j of a row: segment j // 16, t = t0 + h (segment + (xi + 1)/2); the arrays are
        # padded with `band` empty segments, so that every window lies inside them
        ntot = (int(segs.max()) + band) * per
        self.tmpl = (np.arange(ntot) // per) + 0.5 * (np.tile(xi, ntot // per) + 1)
        t = self.t0[:, None] + self.h[:, None] * self.tmpl[None, :]
        valid = (np.arange(ntot)[None, :] // per) < segs[:, None]
        t = np.where(valid, t, self.t1[:, None])
        p = np.clip(sigmoid(t), _P_LO, _P_HI)
        with np.errstate(all="ignore"):
            ell = np.asarray(loss.value(np.broadcast_to(y[:, None], p.shape), p, check=False),
                             dtype=np.float64)
            wl = (0.5 * self.h[:, None]) * np.tile(wi, ntot // per)[None, :] * ell
        self.c = np.where(valid, wl, 0.0)
        self.ell = np.where(valid & np.isfinite(ell), ell, np.inf)     # for the convex bound
        self.ntot = ntot
        self.cell = cell
        with np.errstate(all="ignore"):
            self.ell_lo = np.asarray(loss.value(y, sigmoid(self.t0), check=False), float)
            self.ell_hi = np.asarray(loss.value(y, np.full(y.shape, _P_HI), check=False), float)
            big = np.where(valid, np.abs(ell), 0.0).max(axis=1)
        self.big = np.maximum(big, np.maximum(np.abs(self.ell_lo), np.abs(self.ell_hi)))
        self.finite = np.isfinite(self.big) & np.all(np.isfinite(self.c), axis=1)
        self.c = np.where(np.isfinite(self.c), self.c, 0.0)

    def gathered(self, lo_mu, hi_mu, rows, ell=False):
        """(t, c) of the nodes (points x width) covering [lo_mu - B sigma, hi_mu + B sigma]
        (for hi_mu - lo_mu <= cell): t computed, c = w l gathered; and l itself if asked."""
        s, h, t0 = self.sigma[rows], self.h[rows], self.t0[rows]
        k0 = np.clip(np.floor((lo_mu - _BAND * s - t0) / h).astype(np.int64) - 1, 0, None)
        idx = (rows * self.ntot + k0 * self.per)[:, None] + np.arange(self.width)
        c = np.take(self.c.ravel(), idx)
        t = t0[:, None] + h[:, None] * (k0[:, None] + self.tmpl[None, :self.width])
        if ell:
            return t, c, np.take(self.ell.ravel(), idx)
        return t, c

    def at(self, mu, rows, order):
        """F^(order)(mu) per point (in chunks of bounded memory)."""
        mu = np.asarray(mu, dtype=np.float64)
        shape = mu.shape
        mu, rows = mu.ravel(), np.broadcast_to(rows, shape).ravel()
        step = max(1, (1 << 18) // self.width)
        out = np.empty(mu.size)
        for s in range(0, mu.size, step):
            out[s:s + step] = self._at(mu[s:s + step], rows[s:s + step], order)
        return out.reshape(shape)

    def _at(self, mu, rows, order):
        s = self.sigma[rows]
        t, c = self.gathered(mu, mu, rows)
        u = (t - mu[:, None]) / s[:, None]
        body = (c * _kernel(u, order)).sum(axis=1) / s ** (order + 1)
        a = (self.t0[rows] - mu) / s
        b = (mu - self.t1[rows]) / s
        lo_, hi_ = self.ell_lo[rows], self.ell_hi[rows]
        with np.errstate(all="ignore"):
            if order == 0:      # l_lo Phi(a) + l_hi Phi(b)
                tails = lo_ * _normal_cdf(a) + hi_ * _normal_cdf(b)
            elif order == 1:    # (-l_lo phi(a) + l_hi phi(b))/s
                tails = (-lo_ * _kernel(a, 0) + hi_ * _kernel(b, 0)) / s
            else:               # (-l_lo a phi(a) - l_hi b phi(b))/s^2
                tails = (-lo_ * _kernel(a, 1) - hi_ * _kernel(b, 1)) / s ** 2
        out = body + tails
        return np.where(self.finite[rows], out, np.nan)

    def bounds(self, a_mu, b_mu, rows, order):
        """Bounds of F^(order) on the cells [a_mu, b_mu] (in chunks of bounded memory)."""
        step = max(1, (1 << 18) // self.width)
        parts = [self._bounds(a_mu[s:s + step], b_mu[s:s + step], rows[s:s + step], order)
                 for s in range(0, a_mu.size, step)]
        return (np.concatenate([q[0] for q in parts]) if parts else np.empty(0),
                np.concatenate([q[1] for q in parts]) if parts else np.empty(0))

    def _bounds(self, a_mu, b_mu, rows, order):
        s = self.sigma[rows]
        t, c, ell = self.gathered(a_mu, b_mu, rows, ell=True)
        ul = (t - b_mu[:, None]) / s[:, None]
        uh = (t - a_mu[:, None]) / s[:, None]
        ul, _ = _widen(ul, 0.0, 4)
        _, uh = _widen(0.0, uh, 4)
        kl, kh = _kernel_bounds(ul, uh, order)
        scale = s ** (order + 1)
        with np.errstate(all="ignore"):
            lo = np.where(c >= 0, c * kl, c * kh).sum(axis=1)
            hi = np.where(c >= 0, c * kh, c * kl).sum(axis=1)
            # the rounding of a sum is bounded by its terms' sizes, not by its result
            mag = (np.abs(c) * np.maximum(np.abs(kl), np.abs(kh))).sum(axis=1)
        err = (self.width + 8) * _EPS * mag / scale
        lo, hi = _widen(lo / scale - err, hi / scale + err, 2)
        # the tails, monotone in mu for order 0; bounded through the kernel for 1 and 2
        al, ah = _widen((self.t0[rows] - b_mu) / s, (self.t0[rows] - a_mu) / s, 4)
        bl, bh = _widen((a_mu - self.t1[rows]) / s, (b_mu - self.t1[rows]) / s, 4)
        if order == 0:
            ta = _interval_times(self.ell_lo[rows], _normal_cdf(al), _normal_cdf(ah))
            tb = _interval_times(self.ell_hi[rows], _normal_cdf(bl), _normal_cdf(bh))
        else:
            k = order - 1
            ka = _kernel_bounds(al, ah, k)
            kb = _kernel_bounds(bl, bh, k)
            if k == 0:    # -l_lo phi(a)/s + l_hi phi(b)/s
                ta = _interval_times(-self.ell_lo[rows], *ka)
                tb = _interval_times(self.ell_hi[rows], *kb)
            else:         # (-l_lo a phi(a) - l_hi b phi(b))/s^2
                ta = _interval_times(-self.ell_lo[rows], *ka)
                tb = _interval_times(-self.ell_hi[rows], *kb)
            ta = (ta[0] / s ** order, ta[1] / s ** order)
            tb = (tb[0] / s ** order, tb[1] / s ** order)
        lo, hi = lo + ta[0] + tb[0], hi + ta[1] + tb[1]
        # the skipped nodes beyond 8.5 sigma, and the normal CDF's rounding
        slack = self.big[rows] * (_BAND_MASS * (1 + s) / s ** (order + 1) + 1e-15)
        lo, hi = _widen(lo - slack, hi + slack, 4)
        if order == 0:
            # F is a combination of the node values l_j with weights >= 0 that sum to 1 within
            # the quadrature error of the Gaussian (_MASS_ERROR): F >= m (1 +- error), m the
            # least l_j within reach; no cancellation, so flat stretches are bounded tightly
            m = ell.min(axis=1)
            tail_lo = _normal_cdf(ah) > 1e-18
            tail_hi = _normal_cdf(bh) > 1e-18
            m = np.where(tail_lo, np.minimum(m, self.ell_lo[rows]), m)
            m = np.where(tail_hi, np.minimum(m, self.ell_hi[rows]), m)
            conv = m - np.abs(m) * _MASS_ERROR - 2 * self.big[rows] * (_BAND_MASS + 1e-18)
            lo = np.maximum(lo, np.where(np.isfinite(conv), conv, -np.inf))
        wide = (b_mu - a_mu) > self.cell           # beyond the window: no bound
        lo, hi = np.where(wide, -np.inf, lo), np.where(wide, np.inf, hi)
        lo = np.where(self.finite[rows], lo, -np.inf)
        hi = np.where(self.finite[rows], hi, np.inf)
        return lo, hi


def _interval_times(c, lo, hi):
    """c [lo, hi] for a float c."""
    with np.errstate(all="ignore"):
        a, b = c * lo, c * hi
    return _widen(np.minimum(a, b), np.maximum(a, b), 2)


def logit_problem(loss, y, sigma, pstar):
    """F(mu) of the module's docstring per row; mu is the mean logit (offset + logit y)."""
    spacing = np.maximum(sigma, 0.02)
    rows_ = _LogitRows(loss, y, sigma, pstar, 2.5 * float(spacing.max()))
    lo = rows_.t0 - 9 * sigma
    hi = rows_.t1 + 9 * sigma
    m = int(max(257, np.max(np.ceil((hi - lo) / spacing)) + 1))
    t = np.linspace(0.0, 1.0, m)
    grid = lo[:, None] + (hi - lo)[:, None] * t
    grid[:, -1] = hi

    def value(mu, rows):
        return rows_.at(mu, rows, 0)

    def grad(mu, rows):
        return rows_.at(mu, rows, 1)

    def enclose(a, b, rows, order):
        lo_, hi_ = rows_.bounds(np.asarray(a, float), np.asarray(b, float), rows, order)
        return lo_, hi_, np.zeros(lo_.shape, dtype=bool)

    return value, grad, enclose, grid
