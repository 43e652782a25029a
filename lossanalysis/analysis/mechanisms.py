"""Mechanisms: rival explanations of a trained network's departure from the per-pixel analysis,
each turning a quantity known before the outcome into a predicted number.

The analysis describes per-pixel optima: each output at the minimizer of its own expected
loss.  A network shares its weights across pixels and stops after finite training.  The
functions here state rivals as computations on a *reference network* trained without the
intervention (its logits ``z`` on the training images, and the targets ``y``), so that what
a rival predicts for the intervened network is fixed before that network is measured.

Noise inside the training loss (experiment E9)
----------------------------------------------
A network trained with zero-mean noise inside its loss (:func:`noise_bias`'s setting: the
loss sees sigmoid(z + sigma e) or clip(sigmoid(z) + sigma e, p_min, 1 - p_min)) is compared
with its noise-free twin, whose prediction m at each pixel stands for the conditional mean.

* **Per-pixel optimum** (:func:`pixelwise_noisy_mean`): each output moves to the noisy
  optimum of its own conditional mean, E_e[p] = m + noise_bias(m).  Only the noise at a pixel
  moves that pixel.
* **Shared affine map** (:func:`affine_logit_map`): the network keeps its features and answers
  the noise with the cheapest change its output layer offers, one affine map of every logit,
  z -> a + k z, chosen to minimize the noisy loss summed over all training pixels.  The noise at
  faint pixels, where BCE's curvature 1/(p(1 - p)) is largest, then moves the mid-grey pixels
  too (a k < 1 shrinks every logit toward a common centre).

Both are computed from the twin alone.  An intervention separates them: noise applied only
where the twin predicts mid-grey values leaves the per-pixel prediction at those pixels
unchanged, while the shared map loses the pull of the faint pixels.

The continuous Bernoulli's parameter image (experiment E10)
----------------------------------------------------------
The CB is an exponential family in its logit eta with sufficient statistic x, so a decoder at
its optimum has mean image mu(eta) = E[x | code], whatever the likelihood.  Its parameter image
lambda = sigmoid(eta) is then fixed by the conditional mean: :func:`cb_expansion` turns a mean
image (the data itself, as E6 predicts, or a Bernoulli decoder's reconstruction, an estimate of
the same conditional mean trained beside it) into the parameter image's extremeness.

Finite training (experiment E11)
--------------------------------
A departure measured after a fixed number of epochs may be a transient that more training
removes, or a plateau.  :func:`power_law_extrapolation` states the transient rival as a number:
the power law through two earlier stages of the same run, extrapolated to a later one.

Why the sufficient statistics suffice: for a loss whose value is affine in the target up to a
term free of the prediction, L(y, p) = (1 - y) L(0, p) + y L(1, p) + c(y) (every Bregman
divergence: BCE, MSE), the mean loss over pixels of equal logit depends on their targets only
through their mean, so :func:`affine_logit_map` works on bins of the logit (width ``width``)
holding the count and mean target (:func:`_affine_in_target` checks the premise).
"""
from __future__ import annotations

import math

import numpy as np

from .._inputs import real_array
from ..losses import Loss, as_loss, sigmoid
from ._quadrature import _hermite, _tanh_sinh
from .minimizers import argmin  # noqa: F401  (the doctests' reference)
from .noise import NOISE_SPACES, noise_bias

__all__ = ["affine_logit_map", "pixelwise_noisy_mean", "expected_noisy_loss", "cb_expansion",
           "power_law_extrapolation"]

#: Gauss-Hermite nodes of :func:`expected_noisy_loss` in logit space (a smooth integrand).
NODES = 48
#: Probability space: the normal density is integrated over |e| <= _TAIL.
_TAIL = 9.0


def _affine_in_target(loss: Loss) -> bool:
    """Whether L(y, p) - (1 - y) L(0, p) - y L(1, p) is free of p (checked on a grid to 1e-9)."""
    y = np.linspace(0.05, 0.95, 7)[:, None]
    p = np.linspace(0.05, 0.95, 9)[None, :]
    with np.errstate(all="ignore"):
        r = (loss.value(y + 0 * p, p + 0 * y, check=False)
             - (1 - y) * loss.value(0 * y + 0 * p, p + 0 * y, check=False)
             - y * loss.value(1 + 0 * y + 0 * p, p + 0 * y, check=False))
    return bool(np.all(np.isfinite(r)) and np.max(np.ptp(r, axis=1)) < 1e-9)


def _sigma(sigma, space) -> float:
    if space not in NOISE_SPACES:
        raise ValueError(f"space must be one of {NOISE_SPACES}, got {space!r}")
    s = float(real_array(sigma, "sigma", np.float64))
    if not (math.isfinite(s) and s >= 0):
        raise ValueError(f"sigma must be >= 0 and finite, got {sigma!r}")
    return s


def expected_noisy_loss(loss, y, z, sigma, space, *, p_min: float = 1e-4, nodes: int = NODES):
    """E_e[L(y, p_e)] and its derivative in z, elementwise, for e ~ N(0, 1):
    p_e = sigmoid(z + sigma e) (``space="logit"``) or clip(sigmoid(z) + sigma e, p_min,
    1 - p_min) (``"prob"``).  sigma = 0: the loss itself.

    Logit space: ``nodes``-point Gauss-Hermite quadrature (a smooth integrand).  Probability
    space, with s = sigmoid(z), alpha = (p_min - s)/sigma and beta = (1 - p_min - s)/sigma,
    the clip is integrated exactly:

        E = Phi(alpha) L(y, p_min) + (1 - Phi(beta)) L(y, 1 - p_min)
            + int_alpha^beta L(y, s + sigma e) phi(e) de,
        dE/dz = s (1 - s) int_alpha^beta L_p(y, s + sigma e) phi(e) de

    (the clip is continuous, so its edges add nothing to the derivative), the integrals over
    [max(alpha, -9), min(beta, 9)] by the tanh-sinh rule, which stays exact where L grows
    steeply toward the clip (a Gauss-Hermite rule across the clip's kink errs by 0.03 nats at a
    faint pixel; the normal tail beyond 9 holds 1e-19).

    Examples
    --------
    >>> v, g = expected_noisy_loss("mse", np.array([0.3]), np.array([0.0]), 0.02, "prob")
    >>> round(float(v[0]), 12), round(float(g[0]), 12)       # (0.5 - 0.3)^2 + 0.02^2; 2(0.2)/4
    (0.0404, 0.1)
    """
    loss = as_loss(loss)
    sigma = _sigma(sigma, space)
    y = np.asarray(y, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        if sigma == 0:
            return loss.value_and_grad_logit(y, z, check=False)
        if space == "logit":
            x, w = _hermite(int(nodes))
            yy = np.broadcast_to(y[..., None], y.shape + (x.size,))
            v, g = loss.value_and_grad_logit(yy, z[..., None] + sigma * x, check=False)
            return v @ w, g @ w
        from scipy.special import ndtr
        s = sigmoid(z)
        alpha, beta = (p_min - s) / sigma, (1 - p_min - s) / sigma
        lo, hi = np.maximum(alpha, -_TAIL), np.minimum(beta, _TAIL)
        t, _, _, w = _tanh_sinh(1 / 32, 3.5)     # 225 nodes: the normal to 1e-15
        e = lo[..., None] + (hi - lo)[..., None] * t
        dw = (hi - lo)[..., None] * w * np.exp(-0.5 * e * e) / math.sqrt(2 * math.pi)
        yy = np.broadcast_to(y[..., None], e.shape)
        p = np.clip(s[..., None] + sigma * e, p_min, 1 - p_min)
        ends = (ndtr(alpha) * loss.value(y, np.full(y.shape, p_min), check=False)
                + ndtr(-beta) * loss.value(y, np.full(y.shape, 1 - p_min), check=False))
        v = ends + np.sum(loss.value(yy, p, check=False) * dw, axis=-1)
        g = s * sigmoid(-z) * np.sum(loss.grad(yy, p, check=False) * dw, axis=-1)
        return v, g


def _bins(z, y, width):
    k = np.round(z / width).astype(np.int64)
    keys, inv = np.unique(k, return_inverse=True)
    n = np.bincount(inv.ravel()).astype(np.float64)
    return keys * width, n, np.bincount(inv.ravel(), y) / n


def affine_logit_map(loss, z, y, sigma: float = 0.0, space: str = "prob", *, noisy=None,
                     p_min: float = 1e-4, width: float = 1 / 64, nodes: int = NODES) -> tuple:
    """The shared affine map of a network's logits under noise in its loss: (a, k) minimizing

        sum_i E_e[L(y_i, p_e(a + k z_i))]   (noise where ``noisy`` is True; none elsewhere)

    over the pixels i of a reference network trained without noise (logits ``z``, targets
    ``y``; see the module docstring and :func:`expected_noisy_loss` for p_e).  The logits are
    binned (``width``; a bin's pixels then differ by at most width/2 in z, 1/128 by default,
    which moves p by at most 1/512) with their count and mean target, exact for losses affine
    in the target (BCE, MSE, focal; ValueError for others).  Returns (a, k); sigma = 0 gives the
    reference network's own best affine recalibration.

    Examples
    --------
    Targets that are exactly sigmoid(0.3 + 1.7 z) are fitted by that map under any proper
    loss, and under MSE with probability noise too (E(y - p - sigma e)^2 = (y - p)^2 + sigma^2):

    >>> z = np.linspace(-1.5, 1.5, 41); y = 1 / (1 + np.exp(-(0.3 + 1.7 * z)))
    >>> [round(float(v), 4) for v in affine_logit_map("bce", z, y, width=1e-6)]
    [0.3, 1.7]
    >>> [round(float(v), 3) for v in affine_logit_map("mse", z, y, 0.02, "prob", width=1e-6)]
    [0.3, 1.7]
    """
    from scipy.optimize import minimize
    loss = as_loss(loss)
    if not _affine_in_target(loss):
        raise ValueError(f"loss: {loss.name}'s value is not affine in the target; the binned "
                         "fit needs a loss that is (BCE, MSE)")
    sigma = _sigma(sigma, space)
    z = real_array(z, "z", np.float64).ravel()
    y = real_array(y, "y", np.float64).ravel()
    if z.shape != y.shape or z.size == 0:
        raise ValueError(f"z and y must have the same nonzero size, got {z.size} and {y.size}")
    if not (np.all(np.isfinite(z)) and np.all((y >= 0) & (y <= 1))):
        raise ValueError("z must be finite and y must lie in [0, 1]")
    if not (math.isfinite(width) and width > 0):
        raise ValueError(f"width must be positive, got {width!r}")
    mask = np.ones(z.size, bool) if noisy is None else np.asarray(noisy, bool).ravel()
    if mask.shape != z.shape:
        raise ValueError(f"noisy must have the size of z ({z.size}), got {mask.size}")
    groups = [(s, _bins(z[m], y[m], width)) for s, m in ((sigma, mask), (0.0, ~mask))
              if m.any()]
    total = float(z.size)

    def objective(theta):
        a, k = theta
        f, g = 0.0, np.zeros(2)
        for s, (zb, n, yb) in groups:
            v, d = expected_noisy_loss(loss, yb, a + k * zb, s, space, p_min=p_min,
                                       nodes=nodes)
            f += float(n @ v)
            g += (float(n @ d), float((n * zb) @ d))
        return f / total, g / total

    best = minimize(objective, np.array([0.0, 1.0]), jac=True, method="BFGS",
                    options={"gtol": 1e-12, "maxiter": 500})
    return float(best.x[0]), float(best.x[1])


def pixelwise_noisy_mean(loss, m, sigma: float, space: str, *, grid: int = 401) -> np.ndarray:
    """Each output at the noisy optimum of its own conditional mean ``m``: E_e[p] = m +
    noise_bias(loss, m, sigma, space), elementwise.  noise_bias is evaluated on ``grid``
    points and interpolated linearly (its second derivative is O(sigma^2/m^3), so the error is
    far below 1/255 on the grid spacing); NaN where the model has no answer (probability space:
    within 4.9 sigma of 0 or 1, where the quadrature's nodes would leave (0, 1)).

    Examples
    --------
    Near m = 0.3 BCE's probability-space bias is sigma^2 (1 - 2m)/(m(1 - m)) to leading order
    (the next order adds about 1% at sigma = 0.02):

    >>> q = pixelwise_noisy_mean("bce", np.array([0.3, 0.05]), 0.02, "prob")
    >>> round(float(q[0] - 0.3) / (0.02 ** 2 * 0.4 / 0.21), 1), bool(np.isnan(q[1]))
    (1.0, True)
    """
    sigma = _sigma(sigma, space)
    m = real_array(m, "m", np.float64)
    lo = 4.9 * sigma if space == "prob" else 1e-3
    if not lo < 0.5:
        raise ValueError(f"sigma = {sigma:g} leaves no probability-space target inside (0, 1)")
    g = np.linspace(lo, 1 - lo, int(grid))
    b = np.asarray(noise_bias(loss, g, sigma, space), dtype=np.float64)
    inside = (m >= g[0]) & (m <= g[-1])
    return np.where(inside, m + np.interp(m, g, b), np.nan)


def cb_expansion(mean_image, x, lo: float = 0.2, hi: float = 0.8) -> float:
    """How much farther from 1/2 the CB parameter image lies than the data, over the pixels
    with lo < x < hi, if the CB's mean image is ``mean_image``:

        mean |lambda(m) - 1/2| - mean |x - 1/2|,  lambda(m) = sigmoid(eta(m)), mu(eta(m)) = m

    (:func:`cb_natural_parameter`; ``mean_image`` is clipped into [1e-12, 1 - 1e-12], where
    lambda is within 1e-10 of 0 or 1).  ``mean_image = x`` gives E6's prediction; NaN when no
    pixel lies in (lo, hi).

    Examples
    --------
    >>> x = np.array([0.3, 0.7, 0.9])                 # the 0.9 pixel lies outside (0.2, 0.8)
    >>> lam = float(argmin("continuous_bernoulli", 0.3))
    >>> round(cb_expansion(x, x) - (0.5 - lam - 0.2), 9)
    0.0
    """
    from .linear_vae import cb_natural_parameter
    m = real_array(mean_image, "mean_image", np.float64)
    x = real_array(x, "x", np.float64)
    if m.shape != x.shape:
        raise ValueError(f"mean_image and x must have one shape, got {m.shape} and {x.shape}")
    sel = (x > lo) & (x < hi)
    if not sel.any():
        return math.nan
    eta = cb_natural_parameter(np.clip(m[sel], 1e-12, 1 - 1e-12))
    return float(np.mean(np.abs(sigmoid(eta) - 0.5)) - np.mean(np.abs(x[sel] - 0.5)))


def power_law_extrapolation(t, v, t_new) -> float:
    """A transient's value at ``t_new`` from two earlier stages: v(t) = c t^-alpha through
    (t[0], v[0]) and (t[1], v[1]), so v(t_new) = v[1] (t_new / t[1])^-alpha with
    alpha = ln(v[0] / v[1]) / ln(t[1] / t[0]) (the finite-training rival: a departure that
    decays as a power of the training length, toward 0).  NaN when the two values differ in
    sign or one is 0 (no power law passes through them).

    Examples
    --------
    >>> round(power_law_extrapolation((5, 10), (0.02, 0.01), 40), 12)      # alpha = 1
    0.0025
    >>> power_law_extrapolation((5, 10), (0.02, -0.01), 30)
    nan
    """
    (t0, t1), (v0, v1) = (real_array(a, n, np.float64) for a, n in ((t, "t"), (v, "v")))
    t_new = float(t_new)
    if not (0 < t0 < t1 and t_new > 0):
        raise ValueError(f"t must be two increasing positive stages and t_new > 0, got {t!r}, "
                         f"{t_new!r}")
    if not (np.isfinite(v0) and np.isfinite(v1)) or v0 * v1 <= 0:
        return math.nan
    alpha = math.log(v0 / v1) / math.log(t1 / t0)
    return float(v1 * (t_new / t1) ** -alpha)
