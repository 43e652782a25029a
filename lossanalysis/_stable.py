"""Stable elementary functions the loss catalogue is built from.

No loss formula lives here: only the numerically careful pieces that several catalogue entries
share -- softplus and log-sigmoid from one logarithm, the sigmoid and its complement from one
exponential, residuals p - y computed from the complementary form where it is exact, the terms
of the Bernoulli KL divergence, and the continuous Bernoulli's log-partition function with its
Maclaurin series near lambda = 1/2.  Every function is dtype-preserving (float32 in, float32
out; no float64 constant leaks into float32 arithmetic).  :mod:`lossanalysis.losses` re-exports
the public ones (``sigmoid``, ``logit``, ``softplus``, ``log_sigmoid``,
``continuous_bernoulli_mean``, ``continuous_bernoulli_mean_logit``).

References: Loaiza-Ganem & Cunningham (2019, arXiv 1907.06845) for the continuous Bernoulli.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ._inputs import real_array

# ----------------------------------------------------------------------------------------------
# Stable elementary functions (dtype-preserving: no float64 constants leak into float32 math)
# ----------------------------------------------------------------------------------------------
def log1p_unit(u):
    """ln(1 + u) for u in [0, 1] from a single ln, to within about an ulp.

    With w = fl(1 + u), w - 1 is exact (Sterbenz) and ln(1 + u) = ln w + ln(1 + d/w),
    d = u - (w - 1), |d/w| <= eps/2; the first-order term d/w restores what rounding 1 + u lost
    (and gives u itself when w rounds to 1).  NumPy's ln is vectorized where its log1p is not:
    in float32 this is about 5x faster than ``np.log1p``, which the training step feels.
    """
    w = 1 + u
    return np.log(w) - ((w - 1) - u) / w


def softplus_unchecked(z):
    return np.maximum(z, 0) + log1p_unit(np.exp(-np.abs(z)))


def log_sigmoid_unchecked(z):
    return -softplus_unchecked(-z)


def _float_input(x, arg, lo=None, hi=None):
    """``x`` as a floating array (integers and bools become float32 or float64 as NumPy
    promotes them with float32): the public helpers' one input check.  NaN passes through
    (NaN in, NaN out, as in NumPy: callers mark missing values with it); a number outside
    [lo, hi] is refused."""
    a = real_array(x, arg)
    if a.dtype.kind != "f":
        a = a.astype(np.result_type(a, np.float32))
    if lo is not None and np.any((a < lo) | (a > hi)):
        bad = a[(a < lo) | (a > hi)].ravel()[0]
        raise ValueError(f"{arg} must lie in [{lo}, {hi}]; got {float(bad)!r}")
    return a


def softplus(z):
    """ln(1 + e^z) = max(z, 0) + ln(1 + e^-|z|), finite for every finite z.

    Parameters
    ----------
    z : array_like of real numbers (+-inf give inf and 0; NaN gives NaN)

    Returns
    -------
    ndarray or NumPy scalar, floating

    >>> float(softplus(0.0)) == math.log(2.0), float(softplus(1000.0)), float(softplus(-1000.0))
    (True, 1000.0, 0.0)
    """
    return softplus_unchecked(_float_input(z, "z"))


def log_sigmoid(z):
    """ln sigmoid(z) = -softplus(-z), finite for every finite z.

    >>> float(log_sigmoid(-1000.0))
    -1000.0
    """
    return log_sigmoid_unchecked(_float_input(z, "z"))


def _sigmoid_from(z, e):
    """sigmoid(z) given e = exp(-|z|) (no overflow: e <= 1): 1/(1 + e) for z >= 0 and
    e/(1 + e) below, selected arithmetically (m in {0, 1}: r (m + (1 - m) e) is r or e r, bit for
    bit), which is about 3x faster than ``np.where`` on the training step's arrays."""
    r = 1 / (1 + e)
    m = (z >= 0).astype(e.dtype)
    return r * (m + (1 - m) * e)


def sigmoid_pair(z, e):
    """(sigmoid(z), sigmoid(-z)) given e = exp(-|z|), each to full relative accuracy (the
    smaller one is e/(1 + e), not 1 minus the larger), selected arithmetically as above."""
    r = 1 / (1 + e)
    m = (z >= 0).astype(e.dtype)
    er = e * r
    return r * m + er * (1 - m), er * m + r * (1 - m)


def residual(y, p, q):
    """p - y with p = sigmoid(z) and q = sigmoid(-z), as p (1 - y) - q y (p + q = 1).

    ``sigmoid(z) - y`` loses the digits of a small p - y where p rounds toward 1 (at y = 1,
    z = 30: three digits in float64, all of them in float32); here each product keeps full
    relative accuracy, so only a genuine p ~ y cancels.
    """
    return p * (1 - y) - q * y


def residual_logit(y, z, e, want_pq=False):
    """p - y at p = sigmoid(z) given e = exp(-|z|) (and p q if ``want_pq``), for the training
    step: (m - y) + (1 - 2m) s with m = [z >= 0] and s = e/(1 + e) the smaller of p, 1 - p.

    That is (1 - y) - sigmoid(-z) for z >= 0 and sigmoid(z) - y below: as in
    :func:`residual`, the small one of p and 1 - p enters directly.  Written in place, so that
    few block-sized temporaries are alive at once (more made malloc return memory to the OS
    after every call and fault it back in: 120 page faults and 3x the time per BCE block).
    """
    sign = (z >= 0).astype(e.dtype)
    d = np.subtract(sign, y)
    sign *= -2
    sign += 1
    s = np.empty_like(e)
    np.add(e, 1, out=s)
    np.reciprocal(s, out=s)
    s *= e
    pq = s * (1 - s) if want_pq else None
    s *= sign
    d += s
    return (d, pq) if want_pq else d


def sigmoid_unchecked(z):
    return _sigmoid_from(z, np.exp(-np.abs(z)))


def logit_unchecked(p):
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def sigmoid(z):
    """The logistic function 1/(1 + e^-z), without overflow for large |z|.

    Parameters
    ----------
    z : array_like of real numbers (+-inf give 1 and 0; NaN gives NaN)

    Returns
    -------
    ndarray or NumPy scalar, floating (float32 stays float32)

    >>> float(sigmoid(0.0)), float(sigmoid(-1000.0))
    (0.5, 0.0)
    """
    return sigmoid_unchecked(_float_input(z, "z"))


def logit(p):
    """ln(p / (1 - p)) for p in [0, 1]; -inf at 0 and +inf at 1 (NaN gives NaN).

    >>> float(logit(0.5)), float(logit(1.0))
    (0.0, inf)
    >>> logit(1.5)
    Traceback (most recent call last):
    ...
    ValueError: p must lie in [0, 1]; got 1.5
    """
    return logit_unchecked(_float_input(p, "p", 0, 1))


def where0(w, x):
    """w * x, taking 0 * anything = 0 (the xlogy convention)."""
    with np.errstate(invalid="ignore"):
        return np.where(w == 0, 0, w * x)


def _kl_term(a, b, d):
    """a g(d/a) with g(u) = u - ln(1 + u) >= 0 and d = b - a: one term of a Bernoulli KL.

    Written directly as d - a ln(b/a) it cancels when |d| << a (relative error about
    2 eps a/|d|), so for |d/a| < 1/8 the alternating series a sum_{k>=2} (-1)^k u^k / k is
    summed by Horner's rule (22 terms reach 1e-17 relative accuracy there).  Elsewhere
    d - a (ln b - ln a) is used, which neither overflows for tiny a nor loses digits when b is
    tiny.  At a = 0 the term is its limit, b.
    """
    small = np.abs(d) < 0.125 * a
    u = np.where(small, d / np.where(small, a, 1), 0)
    acc = np.zeros_like(u)
    for k in range(22, 1, -1):
        acc = acc * u + (1.0 if k % 2 == 0 else -1.0) / k
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = d - a * (np.log(b) - np.log(a))
    return np.where(small, d * u * acc, np.where(a == 0, b, direct))


def bernoulli_kl(a, b, a_bar, b_bar, d=None):
    """KL(Bern(a) || Bern(b)) without cancellation, given the complements a_bar = 1 - a and
    b_bar = 1 - b (passed separately so that callers can supply accurate complements) and
    optionally d = b - a (where the caller has it more accurately than b - a).

    With d = b - a, u = d/a and v = -d/a_bar, a u + a_bar v = 0 and therefore
    KL = a g(u) + a_bar g(v) with g(x) = x - ln(1 + x) >= 0: two non-negative terms, no
    cancellation.  (v is formed from d, not from b_bar - a_bar, whose rounded complements would
    lose the digits of a small d.)
    """
    if d is None:
        d = b - a
    return _kl_term(a, b, d) + _kl_term(a_bar, b_bar, -d)


def _log_ratio(a, b, d):
    """ln(a/b) for a, b > 0, given d = a - b to full relative accuracy.

    Within a factor 2 of each other, ln(1 + d/b): no cancellation, and d/b cannot round to -1.
    Further apart |ln(a/b)| >= ln 2, so ln of the rounded quotient is accurate to about an ulp,
    and where the quotient leaves the normal range (a subnormal target, say) ln a - ln b has
    |ln a - ln b| > 700 and no cancellation either.  (ln(1 + d/b) alone turns into ln 0 = -inf
    for a << b: logit_mse(0.001, 1e-30) was inf, its value 3865.2.)
    """
    r = a / b
    fi = np.finfo(r.dtype)
    near = (r >= 0.5) & (r <= 2)
    normal = (r >= fi.tiny) & (r <= fi.max)
    far = np.where(normal, np.log(np.where(normal, r, 1)), np.log(a) - np.log(b))
    return np.where(near, np.log1p(d / b), far)


def log_ratio_diff(y, p):
    """logit(p) - logit(y) = ln(p/y) - ln((1-p)/(1-y)): two terms of the same sign, each from
    :func:`_log_ratio`, so nothing cancels (the complements 1 - p and 1 - y are exact where
    they are small)."""
    d = p - y
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _log_ratio(p, y, d) - _log_ratio(1 - p, 1 - y, -d)


def _bernoulli_numbers(n):
    """B_0 .. B_n as exact fractions (B_1 = -1/2), from the standard recurrence."""
    b = [Fraction(1)]
    for m in range(1, n + 1):
        b.append(-sum(math.comb(m + 1, k) * b[k] for k in range(m)) / (m + 1))
    return b


# Continuous Bernoulli in the natural parameter z = logit(lambda): the log-partition function is
# A(z) = ln((e^z - 1)/z), the mean is mu(z) = A'(z) = 1/(1 - e^-z) - 1/z and the variance A''(z).
# The closed forms cancel catastrophically near z = 0 (lambda = 1/2); there the Maclaurin series
# A(z) = z/2 + sum_k B_2k z^2k / (2k (2k)!) is used (radius 2 pi; at |z| < 1/2 eight terms give
# full double precision).  The coefficients are exact Bernoulli-number fractions.
_CB_WINDOW = 0.5
_B = _bernoulli_numbers(16)
_CB_A = [float(_B[2 * k] / (2 * k * math.factorial(2 * k))) for k in range(1, 9)]
_CB_MU = [float(_B[2 * k] / math.factorial(2 * k)) for k in range(1, 9)]
_CB_VAR = [float(_B[2 * k] * (2 * k - 1) / math.factorial(2 * k)) for k in range(1, 9)]


def _poly(coeffs, t):
    """sum_k coeffs[k] t^k by Horner's rule (in place: one temporary, not two per term)."""
    acc = np.full_like(t, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        acc *= t
        acc += c
    return acc


def cb_nll_logit(z, y):
    """A(z) - y z with A(z) = ln((e^z - 1)/z), A(0) = 0: the continuous Bernoulli's NLL.

    Away from 0, A(z) = max(z, 0) + ln((1 - e^-|z|)/|z|), and max(z, 0) - y z is formed as
    (1 - y) z or -y z, so that at z = 1000, y = 1 nothing cancels (1000 - 6.9 - 1000 lost
    seven bits).
    """
    small = np.abs(z) < _CB_WINDOW
    zs = np.where(small, z, 0)
    z2 = zs * zs
    series = _poly(_CB_A, z2)
    series *= z2
    series = series + (0.5 - y) * zs          # (y may broadcast z: not in place)
    az = np.abs(np.where(small, 1, z))
    with np.errstate(over="ignore", divide="ignore"):
        closed = np.log(-np.expm1(-az) / az) + z * ((z > 0).astype(z.dtype) - y)
    return np.where(small, series, closed)


def _cb_mean(z):
    """mu(z) = 1/(1 - e^-z) - 1/z, the mean of the continuous Bernoulli; mu(0) = 1/2."""
    small = np.abs(z) < _CB_WINDOW
    zs = np.where(small, z, 0)
    series = 0.5 + zs * _poly(_CB_MU, zs * zs)
    zc = np.where(small, 1, z)
    with np.errstate(over="ignore", divide="ignore"):
        closed = -1 / np.expm1(-zc) - 1 / zc
    return np.where(small, series, closed)


def cb_residual(z, y):
    """mu(z) - y without rounding mu to 1: for z >= 1/2 as (1 - y) - h(z) and for z <= -1/2 as
    h(-z) - y, with h(a) = 1 - mu(a) = mu(-a) = 1/a - 1/(e^a - 1) (in float32, mu(1000) - 1
    computed as mu minus 1 kept four digits of -0.001)."""
    small = np.abs(z) < _CB_WINDOW
    zs = np.where(small, z, 0)
    series = _poly(_CB_MU, zs * zs)
    series *= zs
    series = series + (0.5 - y)                    # (y may broadcast z: not in place)
    a = np.abs(np.where(small, 1, z))
    with np.errstate(over="ignore"):
        h = 1 / a - 1 / np.expm1(a)
    pos = (z > 0).astype(z.dtype)                  # 1 where z > 0
    h *= 1 - 2 * pos                               # -h for z > 0, h below
    return np.where(small, series, h + (pos - y))  # (1 - y) - h or h - y


def cb_variance(z):
    """A''(z) = 1/z^2 - 1/(4 sinh^2(z/2)); 1/12 at z = 0."""
    small = np.abs(z) < _CB_WINDOW
    zs = np.where(small, z, 0)
    series = _poly(_CB_VAR, zs * zs)
    zc = np.where(small, 1, z)
    with np.errstate(over="ignore"):
        closed = 1 / (zc * zc) - 0.25 / np.sinh(0.5 * zc) ** 2
    return np.where(small, series, closed)


def cb_log_normalizer(p):
    """ln C(p), C(p) = 2 artanh(1 - 2p)/(1 - 2p); ln 2 at p = 1/2 and +inf at p = 0 or 1.

    For p >= 1/4, x = 1 - 2p is exact in floating point and artanh(x)/x has no cancellation,
    so only the removable point x = 0 needs care.  Below 1/4, 1 - 2p rounds to 1 for
    p < 5.6e-17 (float32: 3e-8) and artanh(1) = inf; there 2 artanh(1 - 2p) = ln((1 - p)/p) is
    formed from ln(1 - p) - ln p instead, so ln C = ln(ln(1 - p) - ln p) - ln(1 - 2p).
    """
    x = 1 - 2 * p
    low = p < 0.25
    xs = np.where((x == 0) | low, 1, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(x == 0, 1, np.arctanh(xs) / xs)
        mid = math.log(2.0) + np.log(np.where(low, 1, ratio))
        pl = np.where(low, p, 0.125)
        small = np.log(np.log1p(-pl) - np.log(pl)) - np.log1p(-2 * pl)
    return np.where(low, small, mid)


def continuous_bernoulli_mean_logit(z):
    """Mean of the continuous Bernoulli with natural parameter z = logit(lambda):
    mu(z) = 1/(1 - e^-z) - 1/z, mu(0) = 1/2 (a series near 0).

    >>> float(continuous_bernoulli_mean_logit(0.0)), round(float(continuous_bernoulli_mean_logit(2.0)), 6)
    (0.5, 0.656518)
    """
    return _cb_mean(_float_input(z, "z"))


def continuous_bernoulli_mean(lam):
    """Mean of the continuous Bernoulli with parameter lambda in [0, 1]:
    mu = lambda/(2 lambda - 1) + 1/(2 artanh(1 - 2 lambda)) (Loaiza-Ganem & Cunningham 2019).

    >>> float(continuous_bernoulli_mean(0.5)), float(continuous_bernoulli_mean(1.0))
    (0.5, 1.0)
    """
    return _cb_mean(logit_unchecked(_float_input(lam, "lam", 0, 1)))
