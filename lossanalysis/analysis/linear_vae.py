"""The linear VAE and the likelihood scale: which latent directions a VAE opens, and the
Gaussian sigma a Bernoulli or continuous Bernoulli decoder is equivalent to.

A Gaussian decoder with fixed sigma is the summed squared error times 1/(2 sigma^2) (Rybkin et
al. 2021, arXiv 2006.13202).  For a linear decoder the optimum is known in closed form
(probabilistic PCA; Tipping & Bishop 1999; Lucas et al. 2019, arXiv 1911.02469): latent
direction i carries information exactly when the data-covariance eigenvalue ``lambda_i``
exceeds ``sigma^2``, and then its KL is ``1/2 ln(lambda_i / sigma^2)`` nats.  The Bernoulli and
continuous Bernoulli (Loaiza-Ganem & Cunningham 2019, arXiv 1907.06845) decoders are placed on
the same sigma axis through their variance at the data's intensities.
"""
from __future__ import annotations

import math

import numpy as np

from ..losses import continuous_bernoulli_mean_logit, get_loss
from ._solve import _arith_mid, _solve_increasing
from .gradients import effective_weight

__all__ = ["KL_THRESHOLD", "MARGIN_NATS", "spectrum", "whitened_spectrum",
           "predicted_active_dims", "marginal_count", "linear_optimum_kl", "linear_optimum_nll",
           "bernoulli_sigma_eff", "bernoulli_sigma_zero_rate", "cb_natural_parameter",
           "cb_variance", "cb_sigma_eff"]

#: A latent dimension is active when its KL, averaged over the data, exceeds this (nats).
KL_THRESHOLD = 0.01
#: Directions whose optimal KL lies within this many nats of KL_THRESHOLD are "marginal": a
#: finite stochastic optimization can leave them on either side (see marginal_count).
MARGIN_NATS = 0.05


def spectrum(x) -> np.ndarray:
    """Eigenvalues (descending, float64) of the covariance of the images ``x`` (n, pixels),
    normalized by n (the maximum-likelihood covariance that probabilistic PCA fits)."""
    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean(axis=0)
    cov = xc.T @ xc / len(x)
    return np.clip(np.linalg.eigvalsh(cov)[::-1], 0.0, None)


def whitened_spectrum(x) -> np.ndarray:
    """Eigenvalues (descending) of ``D^(-1/2) S D^(-1/2)``, S the covariance of ``x`` and
    ``D = diag(m (1 - m))`` the Bernoulli variance of the mean image m (the Fisher information
    of the Bernoulli decoder at the collapsed solution).  Pixels with m(1 - m) = 0 carry no
    variance and are dropped."""
    x = np.asarray(x, dtype=np.float64)
    m = x.mean(axis=0)
    d = m * (1.0 - m)
    keep = d > 0
    xc = (x[:, keep] - m[keep]) / np.sqrt(d[keep])
    cov = xc.T @ xc / len(x)
    return np.clip(np.linalg.eigvalsh(cov)[::-1], 0.0, None)


def predicted_active_dims(eigenvalues, sigma: float, cap: int,
                          threshold: float = KL_THRESHOLD) -> int:
    """Active latent dimensions of the optimal linear VAE with noise ``sigma``: directions whose
    optimal KL 1/2 ln(lambda / sigma^2) exceeds ``threshold``, i.e. lambda > sigma^2 e^(2
    threshold), at most ``cap`` (the latent size).  ``sigma = 1`` on the whitened spectrum is
    the Bernoulli rule."""
    lam = np.asarray(eigenvalues, dtype=float)
    return int(min(cap, np.count_nonzero(lam > sigma ** 2 * math.exp(2 * threshold))))


def marginal_count(eigenvalues, sigma: float, cap: int, threshold: float = KL_THRESHOLD,
                   margin: float = MARGIN_NATS) -> int:
    """How many of the top ``cap`` directions have an optimal KL, 1/2 ln(lambda / sigma^2),
    within ``margin`` nats of ``threshold`` (directions below sigma^2 counted by the same
    formula, negative).  These are the directions a finite run cannot be trusted to put on the
    right side of the threshold; they set the tolerance of the count."""
    lam = np.asarray(eigenvalues, dtype=float)[:cap]
    with np.errstate(divide="ignore"):
        kl = 0.5 * np.log(lam / sigma ** 2)
    return int(np.count_nonzero(np.abs(kl - threshold) < margin))


def linear_optimum_kl(eigenvalues, sigma: float, latent: int) -> np.ndarray:
    """Per-dimension KL (nats) of the optimal linear VAE, 1/2 ln(max(lambda_i / sigma^2, 1)),
    for the top ``latent`` directions (Lucas et al. 2019)."""
    lam = np.asarray(eigenvalues, dtype=float)[:latent]
    return 0.5 * np.log(np.maximum(lam / sigma ** 2, 1.0))


def linear_optimum_nll(eigenvalues, sigma: float, latent: int) -> float:
    """Negative ELBO per example at the linear VAE's optimum, which equals the probabilistic
    PCA negative log-likelihood with fixed noise (the ELBO is tight there): with
    c_i = max(lambda_i, sigma^2) for i <= latent and sigma^2 otherwise,
    1/2 [D ln 2 pi + sum ln c_i + sum lambda_i / c_i]."""
    lam = np.asarray(eigenvalues, dtype=float)
    c = np.full(lam.shape, sigma ** 2)
    c[:latent] = np.maximum(lam[:latent], sigma ** 2)
    return float(0.5 * (lam.size * math.log(2 * math.pi) + np.log(c).sum() + (lam / c).sum()))


def _level_values(x):
    """(levels in [0, 1], counts): the distinct intensities of 8-bit images and how often each
    occurs (the loader returns v/255)."""
    v = np.rint(np.asarray(x, dtype=np.float64).ravel() * 255).astype(np.int64)
    counts = np.bincount(v, minlength=256)
    return np.arange(256) / 255.0, counts


def bernoulli_sigma_eff(x) -> float:
    """The Gaussian sigma the Bernoulli decoder is locally equivalent to on the data ``x``.

    At target y the BCE's curvature relative to MSE's is w(y) = ``analysis.effective_weight``
    = 1/(2 y (1 - y)), i.e. a Gaussian of variance 1/(2 w) = y(1 - y) (the Bernoulli variance).
    At y = 0 or 1 the minimum sits on the boundary and the excess loss is linear in the error
    (infinitely sharp on the quadratic scale): variance 0.  The variances are averaged over the
    pixels of ``x``: sigma_eff = sqrt(mean y(1 - y)).  A heuristic: it places the Bernoulli
    decoder on the sigma axis of the Gaussian ones.
    """
    levels, counts = _level_values(x)
    var = np.zeros_like(levels)
    inner = (levels > 0) & (levels < 1)
    var[inner] = 1.0 / (2.0 * np.asarray(effective_weight("bce", levels[inner])))
    return float(math.sqrt(np.sum(var * counts) / counts.sum()))


def bernoulli_sigma_zero_rate(x) -> float:
    """The Gaussian sigma the Bernoulli decoder is equivalent to at its operating point: the
    E5 prediction of the Bernoulli's place on the sigma axis.

    A Gaussian decoder weighs a squared error e_j^2 by 1/(2 sigma^2).  The Bernoulli's expected
    negative log-likelihood around a decoder output p weighs it by its Fisher information
    1/(2 p (1 - p)) -- at the decoder's output, not at the data (the curvature at p = y, which
    :func:`bernoulli_sigma_eff` uses, is where the decoder never is: it outputs the conditional
    mean of pixels it is unsure about).  One sigma that weighs a set of errors e_j as the
    per-pixel variances v_j do satisfies sum e_j^2 / sigma^2 = sum e_j^2 / v_j: a harmonic mean
    of the variances weighted by the errors (not their arithmetic mean).  At the zero-rate
    solution -- where the spectrum rules decide which directions open, and where the whitened
    spectrum of the Bernoulli's count prediction is taken -- p = m, the mean image, and
    E[e_j^2] = S_jj, so

        sigma^2 = sum_j S_jj / sum_j (S_jj / (m_j (1 - m_j))) = tr S / tr(D^-1/2 S D^-1/2),

    D = diag(m (1 - m)): the scale for which the covariance spectrum over sigma^2 has the total
    of the whitened spectrum.  Pixels with m (1 - m) = 0 have no variance and drop out.
    Computed from the data alone."""
    x = np.asarray(x, dtype=np.float64)
    m = x.mean(axis=0)
    s = x.var(axis=0)
    d = m * (1.0 - m)
    keep = d > 0
    return float(math.sqrt(s[keep].sum() / (s[keep] / d[keep]).sum()))


def cb_natural_parameter(m) -> np.ndarray:
    """The natural parameter eta = logit(lambda) whose CB mean is ``m`` (0 < m < 1), by the
    safeguarded Newton iteration of the analysis on the catalogue's
    ``continuous_bernoulli_mean_logit`` (increasing in eta, with derivative the CB variance,
    the catalogue's ``curvature_logit``), bracketed in [-1e4, 1e4] (mean about 1e-4: below
    1/255).  In the logit, so intensities near 0 or 1 (lambda within 1e-100 of the boundary)
    stay exact."""
    m = np.asarray(m, dtype=np.float64)
    if np.any((m <= 0) | (m >= 1)):
        raise ValueError("the CB mean must lie strictly inside (0, 1)")
    mf = m.ravel()
    cb = get_loss("continuous_bernoulli")

    def F(eta, idx):
        return continuous_bernoulli_mean_logit(eta) - mf[idx], cb.curvature_logit(mf[idx], eta,
                                                                                  check=False)

    lo, hi = np.full(mf.shape, -1e4), np.full(mf.shape, 1e4)
    eta = _solve_increasing(F, lo, hi, np.zeros(mf.shape), _arith_mid)
    return eta.reshape(m.shape)


def cb_variance(m) -> np.ndarray:
    """Variance of the CB whose mean is ``m``: the curvature of its NLL in the natural parameter
    (the catalogue's ``curvature_logit``; exponential family).  0 at m = 0 or 1."""
    m = np.asarray(m, dtype=np.float64)
    out = np.zeros(m.shape)
    inner = (m > 0) & (m < 1)
    if np.any(inner):
        eta = cb_natural_parameter(m[inner])
        out[inner] = get_loss("continuous_bernoulli").curvature_logit(m[inner], eta)
    return out


def cb_sigma_eff(x) -> float:
    """sqrt(mean CB variance at the data's intensities): the CB counterpart of
    :func:`bernoulli_sigma_eff`."""
    levels, counts = _level_values(x)
    return float(math.sqrt(np.sum(cb_variance(levels) * counts) / counts.sum()))

