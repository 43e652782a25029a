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

from .._inputs import real_array, unit_interval
from ..losses import continuous_bernoulli_mean_logit, get_loss
from ._solve import find_root
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


def _images(x, arg="x", unit=False):
    """float64 array (n >= 1, pixels) of finite values (in [0, 1] with ``unit``)."""
    a = unit_interval(x, arg) if unit else real_array(x, arg, np.float64)
    if a.ndim != 2 or a.shape[0] < 1:
        raise ValueError(f"{arg} must be a 2-d array (images, pixels) with at least one row, "
                         f"got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{arg} must be finite")
    return a


def _eigenvalues(eigenvalues):
    lam = real_array(eigenvalues, "eigenvalues", np.float64)
    if lam.ndim != 1 or not np.all(np.isfinite(lam)):
        raise ValueError("eigenvalues must be a 1-d array of finite numbers")
    return lam


def _positive(v, arg):
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{arg} must be a number, got {v!r}") from None
    if not (math.isfinite(v) and v > 0 and 0 < v * v < math.inf):
        raise ValueError(f"{arg} must be finite and > 0 (with a finite, nonzero square), "
                         f"got {v!r}")
    return v


def _count(v, arg):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
        raise ValueError(f"{arg} must be an integer >= 0, got {v!r}")
    return int(v)


def spectrum(x) -> np.ndarray:
    """The covariance spectrum of a set of images, as probabilistic PCA sees it.

    Parameters
    ----------
    x : array_like
        Images, shape (n, pixels).

    Returns
    -------
    numpy.ndarray
        Eigenvalues (descending, float64, >= 0) of S = (1/n) sum_i (x_i - m)(x_i - m)^T, the
        maximum-likelihood covariance that probabilistic PCA fits (Tipping & Bishop 1999).

    Examples
    --------
    >>> spectrum([[0.0, 0.0], [1.0, 0.0]])
    array([0.25, 0.  ])
    """
    x = _images(x)
    xc = x - x.mean(axis=0)
    cov = xc.T @ xc / len(x)
    return np.clip(np.linalg.eigvalsh(cov)[::-1], 0.0, None)


def whitened_spectrum(x) -> np.ndarray:
    """The covariance spectrum in the Bernoulli decoder's own units, at the collapsed solution.

    Parameters
    ----------
    x : array_like
        Images with intensities in [0, 1], shape (n, pixels).

    Returns
    -------
    numpy.ndarray
        Eigenvalues (descending) of D^(-1/2) S D^(-1/2), S the covariance of ``x`` (as in
        :func:`spectrum`) and D = diag(m (1 - m)) the Bernoulli variance of the mean image m
        (the inverse Fisher information of the Bernoulli decoder at the zero-rate solution).
        Pixels with m (1 - m) = 0 carry no variance and are dropped.

    Examples
    --------
    >>> whitened_spectrum([[0.0, 0.0], [1.0, 0.0]])       # the second pixel is always 0
    array([1.])
    """
    x = _images(x, unit=True)
    m = x.mean(axis=0)
    d = m * (1.0 - m)
    keep = d > 0
    xc = (x[:, keep] - m[keep]) / np.sqrt(d[keep])
    cov = xc.T @ xc / len(x)
    return np.clip(np.linalg.eigvalsh(cov)[::-1], 0.0, None)


def predicted_active_dims(eigenvalues, sigma: float, cap: int,
                          threshold: float = KL_THRESHOLD) -> int:
    """Active latent dimensions of the optimal linear VAE with Gaussian noise ``sigma``.

    Parameters
    ----------
    eigenvalues : array_like
        The data covariance spectrum (:func:`spectrum`), 1-d.
    sigma : float
        The decoder's noise standard deviation, > 0.
    cap : int
        The latent size (the count cannot exceed it).
    threshold : float, optional
        A direction is active when its KL exceeds this many nats (default
        :data:`KL_THRESHOLD` = 0.01).

    Returns
    -------
    int
        #{i : 1/2 ln(lambda_i / sigma^2) > threshold} = #{i : lambda_i > sigma^2 e^(2
        threshold)}, at most ``cap``: at the optimum W = U (Lambda - sigma^2 I)_+^(1/2) R
        (Lucas et al. 2019) direction i carries KL 1/2 ln(lambda_i / sigma^2) when lambda_i >
        sigma^2 and none otherwise.  ``sigma = 1`` on :func:`whitened_spectrum` is the
        Bernoulli rule.

    Examples
    --------
    >>> predicted_active_dims([4.0, 1.5, 1.01, 0.5], 1.0, 20)   # 1.01 < e^0.02
    2
    """
    lam = _eigenvalues(eigenvalues)
    sigma, cap = _positive(sigma, "sigma"), _count(cap, "cap")
    return int(min(cap, np.count_nonzero(lam > sigma ** 2 * math.exp(2 * threshold))))


def marginal_count(eigenvalues, sigma: float, cap: int, threshold: float = KL_THRESHOLD,
                   margin: float = MARGIN_NATS) -> int:
    """How many directions sit too near the activity threshold to be called either way.

    Parameters
    ----------
    eigenvalues, sigma, cap, threshold
        As for :func:`predicted_active_dims`.
    margin : float, optional
        Nats either side of ``threshold`` (default :data:`MARGIN_NATS` = 0.05).

    Returns
    -------
    int
        How many of the top ``cap`` directions have an optimal KL, 1/2 ln(lambda / sigma^2),
        within ``margin`` of ``threshold`` (directions below sigma^2 counted by the same
        formula, negative).  A finite run cannot be trusted to put these on the right side of
        the threshold; they set the tolerance of a predicted count.

    Examples
    --------
    >>> marginal_count([4.0, 1.5, 1.01, 0.5], 1.0, 20)          # 1.01: KL 0.005
    1
    """
    lam = _eigenvalues(eigenvalues)
    sigma, cap = _positive(sigma, "sigma"), _count(cap, "cap")
    lam = lam[:cap]
    with np.errstate(divide="ignore"):
        kl = 0.5 * np.log(lam / sigma ** 2)
    return int(np.count_nonzero(np.abs(kl - threshold) < margin))


def linear_optimum_kl(eigenvalues, sigma: float, latent: int) -> np.ndarray:
    """Per-dimension KL (nats) of the optimal linear VAE.

    Parameters
    ----------
    eigenvalues : array_like
        The data covariance spectrum (:func:`spectrum`), descending.
    sigma : float
        The decoder's noise standard deviation, > 0.
    latent : int
        The latent size.

    Returns
    -------
    numpy.ndarray
        1/2 ln(max(lambda_i / sigma^2, 1)) for the top ``latent`` directions (Lucas et al.
        2019): the posterior variance is sigma^2 / lambda_i and the posterior mean has variance
        1 - sigma^2 / lambda_i.

    Examples
    --------
    >>> linear_optimum_kl([4.0, 1.0, 0.25], 1.0, 3)
    array([0.69314718, 0.        , 0.        ])
    """
    lam = _eigenvalues(eigenvalues)
    sigma, latent = _positive(sigma, "sigma"), _count(latent, "latent")
    return 0.5 * np.log(np.maximum(lam[:latent] / sigma ** 2, 1.0))


def linear_optimum_nll(eigenvalues, sigma: float, latent: int) -> float:
    """Negative ELBO per example at the linear VAE's optimum (nats).

    Parameters
    ----------
    eigenvalues : array_like
        The full data covariance spectrum (:func:`spectrum`; its length is the dimension D).
    sigma : float
        The decoder's noise standard deviation, > 0.
    latent : int
        The latent size.

    Returns
    -------
    float
        The probabilistic PCA negative log-likelihood with fixed noise (the ELBO is tight at
        the optimum): with c_i = max(lambda_i, sigma^2) for i <= latent and sigma^2 otherwise,
        1/2 [D ln 2 pi + sum_i ln c_i + sum_i lambda_i / c_i].

    Examples
    --------
    >>> round(linear_optimum_nll([1.0, 1.0], 1.0, 1), 12)       # D ln(2 pi)/2 + D/2
    2.837877066409
    """
    lam = _eigenvalues(eigenvalues)
    sigma, latent = _positive(sigma, "sigma"), _count(latent, "latent")
    c = np.full(lam.shape, sigma ** 2)
    c[:latent] = np.maximum(lam[:latent], sigma ** 2)
    return float(0.5 * (lam.size * math.log(2 * math.pi) + np.log(c).sum() + (lam / c).sum()))


def _level_values(x):
    """(levels in [0, 1], counts): the distinct intensities of 8-bit images and how often each
    occurs (the loader returns v/255)."""
    v = np.rint(unit_interval(x, "x").ravel() * 255).astype(np.int64)
    counts = np.bincount(v, minlength=256)
    return np.arange(256) / 255.0, counts


def bernoulli_sigma_eff(x) -> float:
    """The Gaussian sigma the Bernoulli decoder is locally equivalent to at the data.

    Parameters
    ----------
    x : array_like
        8-bit images as intensities v/255 in [0, 1] (any shape).

    Returns
    -------
    float
        sqrt(mean over the pixels of y (1 - y)).

    Notes
    -----
    At target y the BCE's curvature relative to MSE's is w(y) = :func:`effective_weight`
    = 1/(2 y (1 - y)), i.e. a Gaussian of variance 1/(2 w) = y(1 - y) (the Bernoulli variance).
    At y = 0 or 1 the minimum sits on the boundary and the excess loss is linear in the error
    (infinitely sharp on the quadratic scale): variance 0.  The variances are averaged over the
    pixels of ``x``.  A heuristic: it places the Bernoulli decoder on the sigma axis of the
    Gaussian ones, at p = y, where the decoder never is (:func:`bernoulli_sigma_zero_rate` takes
    its operating point instead).

    Examples
    --------
    >>> bernoulli_sigma_eff([0.0, 1.0])                          # binary images: 0
    0.0
    >>> round(bernoulli_sigma_eff([0.2, 0.2]), 12)               # sqrt(0.2 * 0.8)
    0.4
    """
    levels, counts = _level_values(x)
    var = np.zeros_like(levels)
    inner = (levels > 0) & (levels < 1)
    var[inner] = 1.0 / (2.0 * np.asarray(effective_weight("bce", levels[inner])))
    return float(math.sqrt(np.sum(var * counts) / counts.sum()))


def bernoulli_sigma_zero_rate(x) -> float:
    """The Gaussian sigma the Bernoulli decoder is equivalent to at its operating point.

    Parameters
    ----------
    x : array_like
        Images with intensities in [0, 1], shape (n, pixels).

    Returns
    -------
    float
        sigma with sigma^2 = tr S / tr(D^-1/2 S D^-1/2), S the covariance of ``x`` and
        D = diag(m (1 - m)), m the mean image.

    Notes
    -----
    A Gaussian decoder weighs a squared error e_j^2 by 1/(2 sigma^2).  The Bernoulli's expected
    negative log-likelihood around a decoder output p weighs it by its Fisher information
    1/(2 p (1 - p)) -- at the decoder's output, not at the data (the curvature at p = y, which
    :func:`bernoulli_sigma_eff` uses, is where the decoder never is: it outputs the conditional
    mean of pixels it is unsure about).  One sigma that weighs a set of errors e_j as the
    per-pixel variances v_j do satisfies sum e_j^2 / sigma^2 = sum e_j^2 / v_j: a harmonic mean
    of the variances weighted by the errors (not their arithmetic mean).  At the zero-rate
    solution -- where the spectrum rules decide which directions open, and where the whitened
    spectrum of the Bernoulli's count prediction is taken -- p = m and E[e_j^2] = S_jj, so

        sigma^2 = sum_j S_jj / sum_j (S_jj / (m_j (1 - m_j))),

    the scale for which the covariance spectrum over sigma^2 has the total of the whitened
    spectrum.  Pixels with m (1 - m) = 0 have no variance and drop out.  Computed from the data
    alone (the E5 prediction of the Bernoulli decoder's place on the sigma axis).

    Examples
    --------
    >>> round(bernoulli_sigma_zero_rate([[0.0], [1.0]]), 12)    # binary pixel: sqrt(m (1 - m))
    0.5
    """
    x = _images(x, unit=True)
    m = x.mean(axis=0)
    s = x.var(axis=0)
    d = m * (1.0 - m)
    keep = d > 0
    if not (s[keep] > 0).any():
        raise ValueError("x has no pixel that varies across the images: sigma_eff is 0/0")
    return float(math.sqrt(s[keep].sum() / (s[keep] / d[keep]).sum()))


def cb_natural_parameter(m) -> np.ndarray:
    """The natural parameter of the continuous Bernoulli whose mean is ``m``.

    Parameters
    ----------
    m : array_like
        Means in the open interval (0, 1).

    Returns
    -------
    numpy.ndarray
        eta = logit(lambda) with mu(eta) = 1/(1 - e^-eta) - 1/eta = m (Loaiza-Ganem &
        Cunningham 2019; the catalogue's ``continuous_bernoulli_mean_logit``), the root of
        an increasing function found by the analysis's root finder on [-(1 + 2/m),
        1 + 2/(1 - m)] (mu(eta) ~ -1/eta and 1 - 1/eta at the two ends).  In the logit, so
        means near 0 or 1 (lambda within 1e-100 of the boundary) stay exact.

    Examples
    --------
    >>> cb_natural_parameter([0.5])
    array([0.])
    >>> round(float(cb_natural_parameter(0.01)), 6)        # about -1/m for small m
    -100.0
    """
    m = unit_interval(m, "m", open_=True)
    mf = m.ravel()

    def f(eta, idx):
        return continuous_bernoulli_mean_logit(eta) - mf[idx]

    # mu(eta) ~ -1/eta for eta -> -inf and 1 - 1/eta for eta -> +inf: these ends bracket m
    lo, hi = -(1 + 2 / mf), 1 + 2 / (1 - mf)
    eta, _ = find_root(f, lo, hi, x0=np.zeros(mf.shape))
    return eta.reshape(m.shape)


def cb_variance(m) -> np.ndarray:
    """Variance of the continuous Bernoulli whose mean is ``m``.

    Parameters
    ----------
    m : array_like
        Means in [0, 1].

    Returns
    -------
    numpy.ndarray
        A''(eta) at eta = :func:`cb_natural_parameter` (m): the curvature of the CB's negative
        log-likelihood in its natural parameter (the catalogue's ``curvature_logit``), which
        for an exponential family is the variance; 0 at m = 0 or 1.  Below the Bernoulli's
        m (1 - m) at every m (Bhatia-Davis bound, attained only by the Bernoulli).

    Examples
    --------
    >>> cb_variance([0.0, 0.5])                          # 1/12 at the uniform distribution
    array([0.        , 0.08333333])
    """
    m = unit_interval(m, "m")
    out = np.zeros(m.shape)
    inner = (m > 0) & (m < 1)
    if np.any(inner):
        eta = cb_natural_parameter(m[inner])
        out[inner] = get_loss("continuous_bernoulli").curvature_logit(m[inner], eta)
    return out


def cb_sigma_eff(x) -> float:
    """The Gaussian sigma the continuous Bernoulli decoder is locally equivalent to at the data.

    Parameters
    ----------
    x : array_like
        8-bit images as intensities v/255 in [0, 1] (any shape).

    Returns
    -------
    float
        sqrt(mean over the pixels of :func:`cb_variance` (y)): the CB counterpart of
        :func:`bernoulli_sigma_eff`, smaller at every intensity.

    Examples
    --------
    >>> cb_sigma_eff([0.0, 1.0])
    0.0
    >>> cb_sigma_eff([0.2, 0.2]) < bernoulli_sigma_eff([0.2, 0.2])
    True
    """
    levels, counts = _level_values(x)
    return float(math.sqrt(np.sum(cb_variance(levels) * counts) / counts.sum()))
