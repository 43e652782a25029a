"""Quadrature rules of the analysis (private): Gauss-Hermite, tanh-sinh and the composite
Gauss-Legendre rule for the expectation over a standard normal."""
from __future__ import annotations

import functools
import math

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

@functools.lru_cache(maxsize=None)
def _hermite(n):
    x, w = hermegauss(n)
    return x, w / w.sum()


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
