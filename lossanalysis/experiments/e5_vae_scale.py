"""E5 -- the VAE's likelihood scale, its active latent dimensions and the blur of its images.

The thread asks why the VAE's images are blurrier than the autoencoder's.  The analysis answers
with the likelihood's *scale*: a Gaussian decoder with fixed sigma is the summed squared error
times 1/(2 sigma^2) (Rybkin et al. 2021, arXiv 2006.13202), so sigma sets how much a nat of
reconstruction is worth against a nat of KL.  For a linear decoder the optimum is known in
closed form (probabilistic PCA; Tipping & Bishop 1999; Lucas et al. 2019, arXiv 1911.02469):
``W = U (Lambda - sigma^2 I)_+^(1/2) R``, so latent direction i carries information exactly when
the data-covariance eigenvalue ``lambda_i`` exceeds ``sigma^2``, and then its KL is
``1/2 ln(lambda_i / sigma^2)`` nats (the posterior variance is ``sigma^2 / lambda_i`` and the
posterior mean has variance ``1 - sigma^2 / lambda_i``).  Larger sigma -> fewer active
dimensions -> less information about the image in the code -> a blurrier reconstruction.

Method
------
* Data: the training images (MNIST: the 10,000-image subset; Fashion-MNIST: a fixed random
  10,000 of the 60,000) and a fixed slice of the test set for the image statistics.
* Linear VAE (encoder and decoder affine, latent 20, Gaussian likelihood, sigma in
  :data:`LINEAR_SIGMAS`): predicted active count = #{i <= 20 : lambda_i > sigma^2 e^(2 tau)},
  the eigenvalues of the training-data covariance (``numpy.linalg.eigvalsh``), ``tau`` =
  :data:`KL_THRESHOLD` = 0.01 nats.  An analytic check puts the closed-form optimum into the
  network and reads its per-dimension KL back through ``VAE.kl_per_dim``.  Trained with an
  annealed learning rate so that it ends near the optimum the rule is about (:func:`settings`);
  the negative ELBO above the analytic optimum is reported as the convergence check.
* MLP VAE 784-256-16 (ReLU), sigmoid output, likelihoods: Gaussian with sigma in
  :data:`SIGMAS`, Gaussian with a learned shared sigma (started at the sigma that is optimal
  for the zero-rate model, sqrt of the mean pixel variance), Bernoulli.  Active dimensions:
  mean per-dimension KL over the training data above ``tau``.  Predicted: at most the linear
  count (the zero-rate solution opens as for a linear decoder; each nonlinear dimension can
  explain at least a linear one's variance), measured after a longer run for the decoders whose
  predicted count lies below the latent size (collapse of spare dimensions is slow; see
  :func:`settings`); counts ordered as the rule's counts (tied at the cap: the predicted rank
  correlation is that of the predicted counts, and a tie of all measured counts is
  inconclusive); and -- for any decoder -- a total KL that falls with sigma (at the optimum
  of D/(2 sigma^2) + R the rate cannot rise with sigma).
* Every tolerance is fixed in :func:`build_predictions` from the spectrum or from first
  principles, with its reason next to it, before any network is trained.
* Blur on the test slice, reconstructions at the posterior mean: the mean image-gradient
  magnitude (forward differences, 27 x 27 positions) of the data over that of the
  reconstructions, and the fraction of mid-grey pixels (0.2 < x < 0.8).
* The Bernoulli decoder's effective sigma (:func:`bernoulli_sigma_zero_rate`): its expected
  negative log-likelihood weighs a squared error at the decoder output p by the Fisher
  information 1/(2 p (1 - p)); at the zero-rate solution (p = m, the mean image; errors of
  variance S_jj) the one sigma that weighs those errors alike is
  sigma_eff^2 = tr S / tr(D^(-1/2) S D^(-1/2)), D = diag(m (1 - m)).  Its active count is
  predicted from the same operating point: the spectrum of ``D^(-1/2) S D^(-1/2)`` against 1
  (for D = sigma^2 I this is the Gaussian rule).  The earlier value, sqrt(mean over the training
  pixels of y(1 - y)) (:func:`bernoulli_sigma_eff`, from ``analysis.effective_weight``), takes
  the curvature at p = y -- where the decoder never is -- and averages variances where the
  trade-off averages precisions; it is kept for comparison and for E6.
* The blur and grey orderings cover the decoders whose sigma is known before training
  (:data:`ORDER_LABELS`: the fixed sigmas and the Bernoulli at sigma_eff); the learned sigma is
  a training outcome and is reported post hoc.

Measurement keys (``ExperimentOutput.measurements``; floats, means over seeds)
---------------------------------------------------------------------------
``<lik>`` is one of :data:`LIKELIHOOD_LABELS`: ``gaussian_sigma1``, ``gaussian_sigma0.5``,
``gaussian_sigma0.3``, ``gaussian_sigma0.1``, ``gaussian_learned``, ``bernoulli``.

* ``blur_ratio[<lik>]`` -- mean |grad| of the data / mean |grad| of the reconstructions of the
  same test images (1: as sharp as the data; > 1: blurrier).  ``blur_ratio_sd[<lik>]``: spread
  over seeds.
* ``midgrey_fraction[<lik>]``, ``midgrey_fraction[data]`` -- fraction of pixels with
  0.2 < x < 0.8; ``midgrey_ratio[<lik>]`` = reconstruction's / data's (> 1: greyer).
* ``gradient_magnitude[<lik>]``, ``gradient_magnitude[data]`` -- the two means behind the ratio.
* ``mse[<lik>]`` -- per-pixel squared error of the reconstructions on the test slice.
* ``active_dims[<lik>]`` -- MLP VAE active latent dimensions (of 16) at the common training
  length; ``active_dims_long[<lik>]`` -- the same after ``count_epochs`` (only the decoders with
  a count prediction);
  ``predicted_active_dims[<lik>]`` -- the spectrum rule, capped at 16; ``kl_total[<lik>]`` --
  the summed KL (nats; the information in the code); ``collapsed_kl[<lik>]`` -- mean KL of the
  dimensions ranked beyond the predicted count after ``count_epochs`` (only where that count is
  below 16).  ``count_epochs``, ``linear_epochs`` -- the training lengths.
* ``active_dims_linear[sigma=<s>]`` / ``predicted_active_dims_linear[sigma=<s>]`` -- linear VAE
  (of 20); ``rate_linear[sigma=<s>]`` / ``predicted_rate_linear[sigma=<s>]`` -- its total KL
  in nats; ``elbo_gap_linear[sigma=<s>]`` -- its negative ELBO minus the analytic optimum;
  ``collapsed_kl_linear[sigma=<s>]`` -- mean KL of the directions predicted to collapse.
* ``sigma_eff[bernoulli]`` (predicted, zero-rate), ``sigma_eff_at_data[bernoulli]`` (the
  data-evaluated variant), ``sigma[gaussian_learned]`` (learned value),
  ``learned_sigma_calibration`` (sigma^2 / MSE - 1, Rybkin et al.: 0 at the optimum),
  ``sigma_eff_posthoc[bernoulli]`` (measured after training: sqrt of the Bernoulli variance
  p(1 - p) of the decoder's outputs weighted by its squared errors; not a prediction).
* ``linear_analytic_check_max_error`` -- |KL of the network at the closed-form optimum -
  1/2 ln(lambda / sigma^2)|, largest over dimensions and sigmas (nats).
* ``blur_spearman``, ``midgrey_spearman``, ``rate_spearman``, ``active_spearman`` -- the rank
  correlations that the ordering predictions judge (``active_spearman`` only when defined: it
  is absent when the counts of a seed all tie).
"""
from __future__ import annotations

import hashlib
import math
import os
import time

import numpy as np
from scipy.stats import rankdata

from .. import plotting
from ..analysis import (KL_THRESHOLD, bernoulli_sigma_eff, bernoulli_sigma_zero_rate,
                        linear_optimum_kl, linear_optimum_nll, marginal_count,
                        predicted_active_dims, spectrum, whitened_spectrum)
from ..nn import VAE, train
from .core import ExperimentOutput, Prediction, Result, Revision, run_seeds

__all__ = ["run", "NAME", "REVISIONS", "SIGMAS", "LINEAR_SIGMAS", "KL_THRESHOLD", "LIKELIHOOD_LABELS",
           "settings", "training_subset", "eval_subset", "spectrum", "whitened_spectrum",
           "predicted_active_dims", "marginal_count", "linear_optimum_kl", "linear_optimum_nll",
           "bernoulli_sigma_eff", "bernoulli_sigma_zero_rate", "mean_gradient", "midgrey_mask",
           "midgrey_fraction", "blur_stats",
           "active_dims", "collapsed_kl", "posthoc_bernoulli_sigma", "spearman", "train_vae",
           "label", "build_predictions", "run_seeds"]

NAME = "E5 VAE likelihood scale and blur"

#: Fixed sigmas of the MLP VAE's Gaussian decoder (intensity units).
SIGMAS = (1.0, 0.5, 0.3, 0.1)
#: Fixed sigmas of the linear VAE: chosen so that the predicted counts lie below the latent cap
#: of 20 on both datasets for most of them (smaller sigmas would all predict "20 of 20").
LINEAR_SIGMAS = (2.0, 1.0, 0.7, 0.5)
MIDGREY = (0.2, 0.8)
LINEAR_LATENT = 20
#: Fixed seed of the training subset: every training seed sees the same images, so the
#: spectrum the prediction uses is the spectrum of the data the networks fit.
SUBSET_SEED = 20240601

LIKELIHOODS = tuple(("gaussian", s) for s in SIGMAS) + (("gaussian", "shared"), ("bernoulli", None))


def label(likelihood: str, sigma=None) -> str:
    """The measurement label of a decoder: ``gaussian_sigma0.5``, ``gaussian_learned``, ..."""
    if likelihood == "gaussian":
        return "gaussian_learned" if isinstance(sigma, str) else f"gaussian_sigma{sigma:g}"
    return likelihood


LIKELIHOOD_LABELS = tuple(label(*spec) for spec in LIKELIHOODS)


# ----------------------------------------------------------------------------------------------
# Settings
# ----------------------------------------------------------------------------------------------
class Settings:
    """Sizes of one run; ``settings(cfg)`` picks them for the full or the quick mode."""

    def __init__(self, *, n_train, n_eval, epochs, lin_epochs, lin_anneal=(), count_epochs=None,
                 batch_size=128, lr=2e-3, lin_lr=3e-3, hidden=256, latent=16, n_calib=2000):
        self.n_train, self.n_eval, self.epochs, self.lin_epochs = n_train, n_eval, epochs, lin_epochs
        #: epochs of the linear VAE's annealing phases, at lin_lr / 10, lin_lr / 100, ...
        self.lin_anneal = tuple(lin_anneal)
        #: epochs of the MLP decoders whose predicted count lies below the latent size
        self.count_epochs = max(epochs, count_epochs or epochs)
        self.batch_size, self.lr, self.lin_lr = batch_size, lr, lin_lr
        self.hidden, self.latent, self.n_calib = hidden, latent, n_calib

    def lin_phases(self):
        """(epochs, learning rate) of the linear VAE's training phases."""
        return [(self.lin_epochs, self.lin_lr)] + [
            (e, self.lin_lr * 10.0 ** -(i + 1)) for i, e in enumerate(self.lin_anneal) if e > 0]

    def lin_total_epochs(self) -> int:
        return sum(e for e, _ in self.lin_phases())

    def key(self):
        return (self.n_train, self.epochs, self.batch_size, self.lr, self.hidden, self.latent)

    def describe(self) -> str:
        return (f"{self.n_train} training images, MLP VAE 784-{self.hidden}-{self.latent} "
                f"(ReLU, sigmoid output), Adam lr {self.lr:g}, batch {self.batch_size}, "
                f"{self.epochs} epochs (the decoders whose active count is predicted below "
                f"{self.latent}: {self.count_epochs} epochs for that count); linear VAE "
                f"784-{LINEAR_LATENT}, Adam lr {self.lin_lr:g} for {self.lin_epochs} epochs"
                + "".join(f", then {e} at lr {lr:g}" for e, lr in self.lin_phases()[1:])
                + f"; image statistics on {self.n_eval} test images")


def settings(cfg) -> Settings:
    """Full mode: 10,000 training images, 8 epochs (~1 s each on 2 cores); quick mode: 2,500
    images, 3 epochs (networks far from converged: for smoke tests only).

    The active counts are predicted for the optimum, so the networks they are measured on must
    be near it:

    * Linear VAE: 30 epochs at lr 3e-3, then 5 at 3e-4 and 5 at 3e-5.  Adam at a constant step
      hovers around the optimum with a spread set by its step; in the nearly flat directions
      (lambda_i just below sigma^2: the Hessian of the loss in a direction's decoder and
      encoder weights has determinant lambda (sigma^2 - lambda) / sigma^4 at the collapsed
      point, vanishing as lambda -> sigma^2) that spread alone carries ~0.01 nats per latent
      dimension -- the threshold.
      Pilot (MNIST sigma = 2, 1, 0.5 and Fashion-MNIST sigma = 1, 0.7; seeds 0-2; judged by
      the convergence diagnostic -ELBO minus the analytic optimum, not by the counts): 20
      constant epochs end 0.06-1.8 nats above the optimum, the annealed schedule 0.00-0.39
      (MNIST sigma = 1: 0.38-0.43 -> 0.05-0.07).
    * MLP decoders whose predicted count lies below the latent size (on both datasets: sigma =
      1 only): 24 epochs for the count; everything else about them (blur, grey, KL, the
      ordering predictions) is read at the common 8 epochs of the same run.  Pilot with seeds
      10 and 11 (not the measurement's), sigma = 1, counts every 4 epochs to epoch 32-40: the
      count falls over the first 16-24 epochs and then changes little (MNIST 16 at epoch 8,
      12-13 at 16-20, 10-12 at 24-40; Fashion-MNIST 15 at 8, 10 at 20, 6 from 24 to 40), the
      spare dimensions' KL decaying steadily; at 8 epochs collapse has barely begun.
    """
    if cfg.quick:
        return Settings(n_train=2500, n_eval=500, epochs=3, lin_epochs=4, lin_anneal=(1, 1),
                        count_epochs=6, n_calib=500)
    return Settings(n_train=10000, n_eval=2000, epochs=8, lin_epochs=30, lin_anneal=(5, 5),
                    count_epochs=24)



def training_subset(x_train, n: int) -> np.ndarray:
    """``n`` training images: all of them if there are at most ``n``, else a fixed random
    subset (seed :data:`SUBSET_SEED`, original order kept)."""
    if len(x_train) <= n:
        return np.ascontiguousarray(x_train)
    idx = np.sort(np.random.default_rng(SUBSET_SEED).choice(len(x_train), n, replace=False))
    return np.ascontiguousarray(x_train[idx])


def eval_subset(x_test, n: int) -> np.ndarray:
    """The first ``n`` test images (the test files are not sorted by class)."""
    return np.ascontiguousarray(x_test[:n])


# ----------------------------------------------------------------------------------------------
# Measurements
# ----------------------------------------------------------------------------------------------
def _as_images(x):
    x = np.asarray(x, dtype=np.float64)
    side = int(round(math.sqrt(x.shape[-1])))
    return x.reshape(-1, side, side)


def mean_gradient(x) -> float:
    """Mean image-gradient magnitude sqrt(dx^2 + dy^2) of images ``x`` (n, side^2), forward
    differences on the (side - 1)^2 positions where both exist (intensity units per pixel)."""
    im = _as_images(x)
    gx = im[:, :-1, 1:] - im[:, :-1, :-1]
    gy = im[:, 1:, :-1] - im[:, :-1, :-1]
    return float(np.mean(np.sqrt(gx * gx + gy * gy)))


def midgrey_mask(x, lo: float = MIDGREY[0], hi: float = MIDGREY[1]) -> np.ndarray:
    """Pixels strictly between ``lo`` and ``hi``, compared in float32 -- the precision of the
    loader and the networks -- so that a data value of 51/255 is 0.2 exactly (as in
    :func:`lossanalysis.data.intensity_summary`) whatever dtype the caller passes."""
    x = np.asarray(x, dtype=np.float32)
    return (x > np.float32(lo)) & (x < np.float32(hi))


def midgrey_fraction(x, lo: float = MIDGREY[0], hi: float = MIDGREY[1]) -> float:
    """Fraction of pixels strictly between ``lo`` and ``hi`` (see :func:`midgrey_mask`)."""
    return float(np.mean(midgrey_mask(x, lo, hi)))


def blur_stats(recon, data) -> dict:
    """Blur of reconstructions ``recon`` of the images ``data``: gradient magnitudes, their
    ratio data/recon (> 1: blurrier), mid-grey fractions and their ratio recon/data, and MSE."""
    g_data, g_rec = mean_gradient(data), mean_gradient(recon)
    f_data, f_rec = midgrey_fraction(data), midgrey_fraction(recon)
    diff = np.asarray(recon, dtype=np.float64) - np.asarray(data, dtype=np.float64)
    return {"gradient": g_rec, "gradient_data": g_data, "blur_ratio": g_data / g_rec,
            "midgrey": f_rec, "midgrey_data": f_data, "midgrey_ratio": f_rec / f_data,
            "mse": float(np.mean(diff * diff)), "mae": float(np.mean(np.abs(diff)))}


def active_dims(model, x, threshold: float = KL_THRESHOLD):
    """(count, per-dimension KL): latent dimensions whose KL to the prior, averaged over ``x``,
    exceeds ``threshold`` nats."""
    kl = model.kl_per_dim(x)
    return int(np.count_nonzero(kl > threshold)), kl


def collapsed_kl(kl, predicted: int) -> float:
    """Mean KL (nats) of the dimensions ranked below the ``predicted`` active count: the
    level at which the directions the analysis expects to collapse actually sit (NaN when the
    prediction keeps every dimension)."""
    k = np.sort(np.asarray(kl, dtype=float))[::-1]
    return float(k[predicted:].mean()) if predicted < k.size else math.nan


def posthoc_bernoulli_sigma(p, x) -> float:
    """Post hoc, from a trained Bernoulli decoder's outputs ``p`` on images ``x``: the
    Bernoulli variance p(1 - p) averaged with the squared errors as weights, square-rooted --
    the Gaussian sigma the decoder's curvature 1/(p(1 - p)) amounts to *where it errs*."""
    p = np.asarray(p, dtype=np.float64)
    e2 = (p - np.asarray(x, dtype=np.float64)) ** 2
    return float(math.sqrt(np.sum(p * (1 - p) * e2) / np.sum(e2)))


def spearman(a, b) -> float:
    """Spearman rank correlation with average ranks for ties; NaN when either side is constant:
    a constant has no ordering, so the correlation is undefined (not 0, which would claim
    "no association" and be judged as a number; NaN makes the verdict inconclusive)."""
    ra, rb = rankdata(a), rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = math.sqrt(float(np.sum(ra * ra) * np.sum(rb * rb)))
    return float(np.sum(ra * rb) / den) if den > 0 else math.nan


def _one_swap_tolerance(n: int) -> float:
    """How much one transposition of neighbours lowers a perfect Spearman correlation of n
    items: 1 - rho = 6 * 2 / (n (n^2 - 1))."""
    return 12.0 / (n * (n * n - 1))


#: Predictions changed after an earlier run had measured them (listed in the report).
REVISIONS = (
    Revision(("E5.linear.active[sigma=1]",),
             "the linear VAEs train 30 epochs, then 5 at lr/10 and 5 at lr/100",
             "the earlier run ended 0.41 nats above the analytic optimum; constant-step Adam's "
             "jitter in the nearly flat directions carried about the 0.01-nat threshold.  The "
             "schedule was chosen in a pilot on the measurement seeds 0-2 (by the gap to the "
             "optimum, with their counts in view)",
             "12 predicted, 16.3 ± 1.5 measured, refuted"),
    Revision(("E5.mlp.active[gaussian_sigma1]",),
             "the sigma = 1 MLP decoder is counted after 24 epochs (the orderings still use 8)",
             "unused latent dimensions collapse slowly; in a pilot on seeds 10-11 (not the "
             "measurement seeds) the count settled by epoch 16-24",
             "at most 12 predicted, 16 ± 0 measured at 8 epochs, refuted"),
    Revision(("E5.mlp.active_order",),
             "predicted Spearman -0.775 (the linear rule's own counts, ties included) instead "
             "of -1; a constant count gives NaN, i.e. inconclusive, instead of 0",
             "-1 was unreachable for the rule's counts (12, 16, 16, 16), and the Spearman "
             "correlation of a constant is undefined",
             "-1 predicted, 0 ± 0 measured (every count 16), refuted"),
    Revision(("E5.blur.order", "E5.midgrey.order", "E5.bernoulli.blur_rank"),
             "the Bernoulli decoder's effective sigma is taken at the zero-rate operating point "
             "(sigma_eff^2 = tr S / tr(D^-1/2 S D^-1/2)), not at p = y; the learned-sigma "
             "decoder is left out of the orderings",
             "the decoder is never at p = y, and one sigma weighing the errors alike averages "
             "precisions, not variances; the learned sigma is itself a measurement",
             "sigma_eff 0.137: Spearman 0.81 ± 0.066 and 0.89 ± 0 (predicted 1), blur rank "
             "1.33 ± 0.58 (predicted 3), all refuted"),
)

# ----------------------------------------------------------------------------------------------
# Training (shared with E6: same architecture, seeds and data order; Bernoulli runs are cached)
# ----------------------------------------------------------------------------------------------
_CACHE: dict = {}


def _fingerprint(x) -> str:
    return hashlib.sha1(np.ascontiguousarray(x).view(np.uint8)).hexdigest()


def train_vae(x, likelihood: str, seed: int, st: Settings, progress=None, *, sigma=1.0,
              init_sigma=1.0, tag: str = "", cache: bool = False, epochs: int | None = None,
              at_epoch=None):
    """Train the MLP VAE 784-hidden-latent with ``likelihood`` on ``x`` (seed: initialization,
    data order and reparameterization noise) for ``epochs`` (default ``st.epochs``).  With
    ``cache`` the trained model is kept for this process and returned for an identical request
    (E6 reuses E5's Bernoulli VAEs).  ``at_epoch``: a dict {epoch: function(model)} called
    after those epochs (one run of E epochs passes through exactly the states of shorter runs
    of the same seed, so a function at epoch e sees the e-epoch model)."""
    epochs = st.epochs if epochs is None else int(epochs)
    key = (likelihood, str(sigma), float(init_sigma), seed, st.key(), epochs, _fingerprint(x))
    if cache and at_epoch:
        raise ValueError("at_epoch cannot be combined with cache")
    if cache and key in _CACHE:
        if progress:
            progress(f"{tag}: reusing the trained {likelihood} VAE (seed {seed})")
        return _CACHE[key]
    model = VAE((x.shape[1], st.hidden, st.latent), likelihood=likelihood, sigma=sigma,
                init_sigma=init_sigma, seed=seed)
    t0 = time.perf_counter()

    def report(epoch, history, _model):
        if progress:
            progress(f"{tag}: epoch {epoch}/{epochs}  -ELBO {history['train_loss'][-1]:.1f} "
                     f"(rec {history['train_rec'][-1]:.1f}, KL {history['train_kl'][-1]:.1f})  "
                     f"{time.perf_counter() - t0:.1f} s")
        if at_epoch and epoch in at_epoch:
            at_epoch[epoch](_model)

    train(model, x, None, epochs=epochs, batch_size=st.batch_size, lr=st.lr, seed=seed,
          quiet=True, callback=report)
    if cache:
        _CACHE[key] = model
    return model


def _train_linear(x, sigma, seed, st, progress, tag):
    """The linear VAE, trained in the phases of ``st.lin_phases()`` (constant lr, then
    annealed); each phase a fresh Adam with its own data-order seed."""
    model = VAE((x.shape[1], LINEAR_LATENT), likelihood="gaussian", sigma=sigma,
                decoder="linear", seed=seed)
    t0 = time.perf_counter()
    for i, (epochs, lr) in enumerate(st.lin_phases()):
        train(model, x, None, epochs=epochs, batch_size=st.batch_size, lr=lr,
              seed=seed + 1000 * i, quiet=True)
    if progress:
        progress(f"{tag}: {st.lin_total_epochs()} epochs in {time.perf_counter() - t0:.1f} s")
    return model


def _eigh(x):
    """(eigenvalues descending, eigenvectors as columns, mean image) of the covariance of x."""
    x = np.asarray(x, dtype=np.float64)
    m = x.mean(axis=0)
    xc = x - m
    lam, u = np.linalg.eigh(xc.T @ xc / len(x))
    return np.clip(lam[::-1], 0.0, None), u[:, ::-1], m


def _analytic_linear_check(x, eig, sigma) -> float:
    """Put the closed-form linear-VAE optimum into the network and compare its per-dimension
    KL (``VAE.kl_per_dim``) with 1/2 ln(max(lambda / sigma^2, 1)); returns the largest absolute
    difference in nats (float64 network).  ``eig`` = ``_eigh(x)``."""
    lam, u, m = eig
    k = LINEAR_LATENT
    lam, u = lam[:k], u[:, :k]
    s2 = sigma ** 2
    amp = np.sqrt(np.maximum(lam - s2, 0.0))           # decoder column norms
    c = np.maximum(lam, s2)                             # diagonal of W^T W + sigma^2 I
    model = VAE((x.shape[1], k), likelihood="gaussian", sigma=sigma, decoder="linear",
                dtype=np.float64, seed=0)
    enc_w = np.zeros((x.shape[1], 2 * k))
    enc_b = np.zeros(2 * k)
    enc_w[:, :k] = u * (amp / c)                        # posterior mean M^-1 W^T (x - m)
    enc_b[:k] = -m @ enc_w[:, :k]
    enc_b[k:] = np.log(s2 / c)                          # posterior variance sigma^2 / c
    model.set_params({"enc.0.W": enc_w, "enc.0.b": enc_b, "dec.0.W": (u * amp).T, "dec.0.b": m})
    measured = model.kl_per_dim(np.asarray(x, dtype=np.float64))
    return float(np.max(np.abs(measured - linear_optimum_kl(lam, sigma, k))))


# ----------------------------------------------------------------------------------------------
# Predictions (all built before any training)
# ----------------------------------------------------------------------------------------------
_SRC_SPECTRUM = ("eigenvalues of the training-data covariance (numpy.linalg.eigvalsh); linear-VAE "
                 "optimum of Tipping & Bishop 1999 / Lucas et al. 2019 (arXiv 1911.02469)")


#: The decoders of the blur and grey ordering predictions: those whose sigma is known before
#: training (the learned sigma is a training outcome, so it has no predicted place).
ORDER_LABELS = tuple(label("gaussian", s) for s in SIGMAS) + ("bernoulli",)


def build_predictions(x_train, latent: int, eigenvalues=None) -> dict:
    """Every E5 prediction, computed from the training images alone (no network involved).

    Returns ``{"predictions": {id: Prediction}, "eigenvalues", "whitened", "sigma_eff",
    "sigma_eff_at_data", "predicted_linear": {sigma: count}, "predicted_mlp": {label: count}}``.
    ``eigenvalues``: the covariance spectrum of ``x_train`` if already computed.
    """
    lam = spectrum(x_train) if eigenvalues is None else np.asarray(eigenvalues, dtype=float)
    white = whitened_spectrum(x_train)
    s_eff = bernoulli_sigma_zero_rate(x_train)
    preds = {}
    predicted_linear, predicted_mlp = {}, {}
    for s in LINEAR_SIGMAS:
        n = predicted_active_dims(lam, s, LINEAR_LATENT)
        marg = marginal_count(lam, s, LINEAR_LATENT)
        predicted_linear[s] = n
        # Tolerance: the count is exact at the optimum; a finite Adam run decides the marginal
        # directions (optimal KL within MARGIN_NATS = 5 x the threshold of it) either way, and
        # the threshold crossing of a stochastic KL estimate adds +-1.  Fixed from the spectrum.
        preds[f"lin{s:g}"] = Prediction(
            id=f"E5.linear.active[sigma={s:g}]", experiment=NAME,
            statement=(f"linear VAE (latent {LINEAR_LATENT}), fixed sigma={s:g}: a direction is "
                       f"active iff lambda_i > sigma^2 e^(2 tau), so {n} active dimensions"),
            quantity=f"latent dimensions with mean KL > {KL_THRESHOLD:g} nats (count)",
            value=float(n), tolerance=float(1 + marg), kind="equal", source=_SRC_SPECTRUM)
    for lik, sig in LIKELIHOODS:
        lab = label(lik, sig)
        if lik == "gaussian" and not isinstance(sig, str):
            predicted_mlp[lab] = predicted_active_dims(lam, sig, latent)
            marg = marginal_count(lam, sig, latent)
        elif lik == "bernoulli":
            predicted_mlp[lab] = predicted_active_dims(white, 1.0, latent)
            marg = marginal_count(white, 1.0, latent)
        else:
            continue
        n = predicted_mlp[lab]
        if n >= latent:
            continue    # "at most all of them" is no prediction
        # The zero-rate solution opens exactly as for the linear decoder (first-order
        # expansion), and each nonlinear dimension explains at least the variance of a linear
        # one, so the residual that must exceed sigma^2 shrinks faster: at most the linear
        # count.  Tolerance: the same marginal directions as for the linear VAE.
        preds[f"mlp_{lab}"] = Prediction(
            id=f"E5.mlp.active[{lab}]", experiment=NAME,
            statement=(f"MLP VAE, {lab}: at most the linear-VAE count of the "
                       f"{'whitened ' if lik == 'bernoulli' else ''}spectrum ({n}; the linear "
                       f"rule is exact only for a linear decoder)"),
            quantity=(f"latent dimensions with mean KL > {KL_THRESHOLD:g} nats (count, of "
                      f"{latent}), after the count's training length"),
            value=float(n), tolerance=float(1 + marg), kind="at_most", source=_SRC_SPECTRUM)
    n_fixed = len(SIGMAS)
    counts = [predicted_mlp[label("gaussian", s)] for s in SIGMAS]
    if len(set(counts)) > 1:
        # The spectrum rule's counts, capped at the latent size, tie wherever the cap binds;
        # the predicted correlation is that of the predicted counts (not -1, which no tied
        # prediction can reach).
        rho = spearman(SIGMAS, counts)
        preds["active_order"] = Prediction(
            id="E5.mlp.active_order", experiment=NAME,
            statement=(f"MLP VAE: the active counts follow the spectrum rule's order over sigma "
                       f"{SIGMAS} (predicted counts {tuple(counts)}, tied at the latent cap)"),
            quantity=("Spearman correlation between sigma and the active count at the common "
                      "training length, per seed (undefined -- inconclusive -- when all counts "
                      "are equal)"),
            value=rho, tolerance=_one_swap_tolerance(n_fixed), kind="at_most",
            source=("Spearman correlation of the spectrum rule's counts; tolerance: one swap of "
                    "neighbours"))
    rates = [float(linear_optimum_kl(lam, s, latent).sum()) for s in SIGMAS]
    preds["rate_order"] = Prediction(
        id="E5.mlp.rate_order", experiment=NAME,
        statement=("MLP VAE: the information in the code (total KL) falls as the fixed sigma "
                   "grows (linear-rule rates " + ", ".join(f"{r:.1f}" for r in rates)
                   + " nats)"),
        quantity="Spearman correlation between sigma and the total KL (nats), per seed",
        value=-1.0, tolerance=_one_swap_tolerance(n_fixed), kind="at_most",
        source=("for any fixed model class the optimum of D/(2 sigma^2) + R has a rate R that "
                "does not rise with sigma (add the two optimality inequalities of sigma_1 < "
                "sigma_2: (D_1 - D_2)(1/sigma_1^2 - 1/sigma_2^2) <= 0, so D_1 <= D_2 and "
                "R_1 >= R_2); tolerance: one swap of neighbours"))
    n_ord = len(ORDER_LABELS)
    grey = ("larger sigma (fixed, or the Bernoulli's effective sigma "
            f"{s_eff:.3f} at its zero-rate operating point) = weaker data term against the KL "
            "= blurrier")
    preds["blur_order"] = Prediction(
        id="E5.blur.order", experiment=NAME, statement="blur ratio rises with sigma: " + grey,
        quantity=(f"Spearman correlation between (effective) sigma and blur ratio over the "
                  f"{n_ord} decoders of known sigma"),
        value=1.0, tolerance=_one_swap_tolerance(n_ord), kind="at_least",
        source=("bernoulli_sigma_zero_rate: Fisher information of the Bernoulli at the mean "
                "image, weighted by the zero-rate errors; tolerance: one swap of neighbours"))
    preds["midgrey_order"] = Prediction(
        id="E5.midgrey.order", experiment=NAME,
        statement="the fraction of mid-grey output pixels rises with sigma: " + grey,
        quantity=(f"Spearman correlation between (effective) sigma and mid-grey fraction over "
                  f"the {n_ord} decoders of known sigma"),
        value=1.0, tolerance=_one_swap_tolerance(n_ord), kind="at_least",
        source="as E5.blur.order")
    n_blurrier = sum(1 for s in SIGMAS if s > s_eff)
    # A grid sigma within a factor 1.25 of sigma_eff cannot be ordered against it: sigma_eff is
    # a heuristic average whose reasonable alternatives differ by tens of percent.
    close = sum(1 for s in SIGMAS if max(s / s_eff, s_eff / s) < 1.25)
    preds["bernoulli_rank"] = Prediction(
        id="E5.bernoulli.blur_rank", experiment=NAME,
        statement=(f"the Bernoulli decoder behaves like a Gaussian with sigma_eff = {s_eff:.3f}: "
                   f"{n_blurrier} of the fixed sigmas {SIGMAS} are blurrier than it"),
        quantity="number of fixed-sigma Gaussian decoders with a larger blur ratio than the Bernoulli's",
        value=float(n_blurrier), tolerance=float(close), kind="equal",
        source=("sigma_eff^2 = tr S / tr(D^-1/2 S D^-1/2), D = diag(m(1 - m)) "
                "(bernoulli_sigma_zero_rate)"))
    # Rybkin et al.: the optimal shared sigma^2 is the MSE.  Adam moves log sigma by about lr
    # per step and the MSE still falls during the last epoch by a few percent: 10%.
    preds["calibration"] = Prediction(
        id="E5.learned.calibration", experiment=NAME,
        statement="the learned shared sigma^2 equals the per-pixel MSE of the reconstructions",
        quantity="sigma^2 / MSE - 1 (MSE with posterior samples, training images)",
        value=0.0, tolerance=0.1, kind="equal",
        source="Rybkin, Daniilidis & Levine 2021 (arXiv 2006.13202): optimal sigma^2 = MSE")
    return {"predictions": preds, "eigenvalues": lam, "whitened": white, "sigma_eff": s_eff,
            "sigma_eff_at_data": bernoulli_sigma_eff(x_train),
            "predicted_linear": predicted_linear, "predicted_mlp": predicted_mlp,
            "predicted_rates": dict(zip(SIGMAS, rates))}


# ----------------------------------------------------------------------------------------------
# The experiment
# ----------------------------------------------------------------------------------------------
def _calibration(model, x, seed) -> tuple[float, float]:
    """(learned sigma, sigma^2 / MSE - 1) with one posterior sample per training image."""
    mu, logvar = model.encode(x)
    eps = np.random.default_rng([seed, 5]).standard_normal(mu.shape).astype(mu.dtype)
    rec = model.decode(mu + np.exp(0.5 * logvar) * eps)
    mse = float(np.mean((rec.astype(np.float64) - x) ** 2))
    sigma = float(model.term.sigma_values()[0])
    return sigma, sigma ** 2 / mse - 1.0


def run(cfg, data, progress) -> ExperimentOutput:
    """Run E5 on ``data`` (an :class:`~lossanalysis.experiments.core.ExperimentData`)."""
    t_start = time.perf_counter()
    st = settings(cfg)
    seeds = run_seeds(cfg)
    ds = data.name
    x = training_subset(data.x_train, st.n_train)
    x_eval = eval_subset(data.x_test, st.n_eval)
    progress(f"E5 {ds}: predictions from the spectrum of {len(x)} training images")
    eig = _eigh(x)
    P = build_predictions(x, st.latent, eigenvalues=eig[0])
    preds, lam = P["predictions"], P["eigenvalues"]
    init_sigma = float(math.sqrt(lam.sum() / x.shape[1]))   # optimal sigma of the zero-rate model

    # analytic check of the linear optimum through the network's own KL
    analytic_err = max(_analytic_linear_check(x, eig, s) for s in LINEAR_SIGMAS)

    per = {lab: {k: [] for k in ("active", "kl", "active_long", "kl_long", "blur_ratio",
                                 "midgrey", "midgrey_ratio", "gradient", "mse", "sigma", "calib",
                                 "posthoc")}
           for lab in LIKELIHOOD_LABELS}
    # decoders whose count carries a prediction: trained longer for it (see settings)
    long_labels = {lab for lab in P["predicted_mlp"] if f"mlp_{lab}" in preds
                   and lab.startswith("gaussian_sigma")}
    lin = {s: {"active": [], "rate": [], "gap": [], "kl": []} for s in LINEAR_SIGMAS}
    examples = {}
    for seed in seeds:
        for s in LINEAR_SIGMAS:
            tag = f"E5 {ds} seed {seed} linear VAE sigma={s:g}"
            model = _train_linear(x, s, seed, st, progress, tag)
            n, kl = active_dims(model, x)
            lin[s]["active"].append(n)
            lin[s]["kl"].append(kl)
            lin[s]["rate"].append(float(kl.sum()))
            nelbo = model.evaluate(x, rng=np.random.default_rng([seed, 7]))["loss"]
            lin[s]["gap"].append(nelbo - linear_optimum_nll(lam, s, LINEAR_LATENT))
        for lik, sig in LIKELIHOODS:
            lab = label(lik, sig)
            tag = f"E5 {ds} seed {seed} {lab}"
            r = per[lab]

            def measure(model, lik=lik, sig=sig, r=r, lab=lab):
                # everything at the common training length st.epochs
                n, kl = active_dims(model, x)
                rec = model.reconstruct(x_eval)
                b = blur_stats(rec, x_eval)
                r["active"].append(n)
                r["kl"].append(kl)
                for k in ("blur_ratio", "midgrey", "midgrey_ratio", "gradient", "mse"):
                    r[k].append(b[k])
                if lik == "bernoulli":
                    r["posthoc"].append(posthoc_bernoulli_sigma(rec, x_eval))
                if isinstance(sig, str):
                    s_learned, calib = _calibration(model, x[:st.n_calib], seed)
                    r["sigma"].append(s_learned)
                    r["calib"].append(calib)
                if seed == seeds[0]:
                    examples[lab] = rec[:8]
                progress(f"{tag}: {n} active dims at epoch {st.epochs}, blur ratio "
                         f"{b['blur_ratio']:.3f}, mid-grey {b['midgrey']:.3f}")

            long = lab in long_labels
            model = train_vae(x, lik, seed, st, progress, sigma=sig if lik == "gaussian" else 1.0,
                              init_sigma=init_sigma if isinstance(sig, str) else 1.0, tag=tag,
                              cache=(lik == "bernoulli"),
                              epochs=st.count_epochs if long else None,
                              at_epoch={st.epochs: measure} if long else None)
            if not long:
                measure(model)
                r["active_long"].append(r["active"][-1])
                r["kl_long"].append(r["kl"][-1])
            else:
                n, kl = active_dims(model, x)
                r["active_long"].append(n)
                r["kl_long"].append(kl)
                progress(f"{tag}: {n} active dims at epoch {st.count_epochs}")
    data_stats = blur_stats(x_eval, x_eval)

    # ---- per-seed derived quantities ------------------------------------------------------
    s_eff = P["sigma_eff"]
    fixed_labels = [label("gaussian", s) for s in SIGMAS]
    active_rho, rate_rho, blur_rho, grey_rho, rank = [], [], [], [], []
    sig_axis = list(SIGMAS) + [s_eff]                       # the decoders of ORDER_LABELS
    for i in range(len(seeds)):
        counts = [per[lab]["active"][i] for lab in fixed_labels]
        active_rho.append(spearman(SIGMAS, counts))
        rate_rho.append(spearman(SIGMAS, [float(np.sum(per[lab]["kl"][i]))
                                          for lab in fixed_labels]))
        blur = [per[lab]["blur_ratio"][i] for lab in ORDER_LABELS]
        grey = [per[lab]["midgrey"][i] for lab in ORDER_LABELS]
        blur_rho.append(spearman(sig_axis, blur))
        grey_rho.append(spearman(sig_axis, grey))
        b_bern = per["bernoulli"]["blur_ratio"][i]
        rank.append(sum(1 for lab in fixed_labels if per[lab]["blur_ratio"][i] > b_bern))

    results = []
    for s in LINEAR_SIGMAS:
        gap = float(np.mean(lin[s]["gap"]))
        results.append(Result(preds[f"lin{s:g}"], [float(v) for v in lin[s]["active"]], ds,
                              notes=(f"negative ELBO {gap:.2f} nats above the analytic optimum; "
                                     f"total KL {np.mean(lin[s]['rate']):.2f} nats vs "
                                     f"{linear_optimum_kl(lam, s, LINEAR_LATENT).sum():.2f} "
                                     "at the optimum")))
    for lab in LIKELIHOOD_LABELS:
        if f"mlp_{lab}" in preds:
            ep = st.count_epochs if lab in long_labels else st.epochs
            results.append(Result(preds[f"mlp_{lab}"], [float(v) for v in per[lab]["active_long"]],
                                  ds, notes=(f"count after {ep} epochs; "
                                             f"{np.mean(per[lab]['active']):.1f} after "
                                             f"{st.epochs}")))
    counts_note = ("counts per sigma at epoch " + f"{st.epochs} " + ", ".join(
        f"{s:g}: {np.mean(per[lab]['active']):.1f}" for s, lab in zip(SIGMAS, fixed_labels)))
    if "active_order" in preds:
        if not all(np.isfinite(active_rho)):
            counts_note += "; all counts equal in a seed: the correlation is undefined"
        results.append(Result(preds["active_order"], active_rho, ds, notes=counts_note))
    rates_note = "total KL per sigma " + ", ".join(
        f"{s:g}: {np.mean([np.sum(k) for k in per[lab]['kl']]):.1f}"
        for s, lab in zip(SIGMAS, fixed_labels)) + " nats"
    results.append(Result(preds["rate_order"], rate_rho, ds, notes=rates_note))
    results.append(Result(preds["blur_order"], blur_rho, ds))
    results.append(Result(preds["midgrey_order"], grey_rho, ds))
    results.append(Result(preds["bernoulli_rank"], [float(v) for v in rank], ds))
    results.append(Result(preds["calibration"], per["gaussian_learned"]["calib"], ds,
                          notes=f"learned sigma {np.mean(per['gaussian_learned']['sigma']):.4f}"))

    # ---- measurements for the claims ------------------------------------------------------
    meas = {"midgrey_fraction[data]": data_stats["midgrey_data"],
            "gradient_magnitude[data]": data_stats["gradient_data"],
            "sigma_eff[bernoulli]": s_eff,
            "sigma_eff_at_data[bernoulli]": P["sigma_eff_at_data"],
            "sigma[gaussian_learned]": float(np.mean(per["gaussian_learned"]["sigma"])),
            "learned_sigma_calibration": float(np.mean(per["gaussian_learned"]["calib"])),
            "rate_spearman": float(np.mean(rate_rho)),
            "count_epochs": float(st.count_epochs),
            "linear_epochs": float(st.lin_total_epochs()),
            "blur_spearman": float(np.mean(blur_rho)),
            "midgrey_spearman": float(np.mean(grey_rho)),
            "bernoulli_blur_rank": float(np.mean(rank)),
            "sigma_eff_posthoc[bernoulli]": float(np.mean(per["bernoulli"]["posthoc"])),
            "linear_analytic_check_max_error": analytic_err}
    if all(np.isfinite(active_rho)):         # undefined when the counts of a seed tie
        meas["active_spearman"] = float(np.mean(active_rho))
    for lab in LIKELIHOOD_LABELS:
        r = per[lab]
        meas[f"blur_ratio[{lab}]"] = float(np.mean(r["blur_ratio"]))
        meas[f"blur_ratio_sd[{lab}]"] = _sd(r["blur_ratio"])
        meas[f"midgrey_fraction[{lab}]"] = float(np.mean(r["midgrey"]))
        meas[f"midgrey_ratio[{lab}]"] = float(np.mean(r["midgrey_ratio"]))
        meas[f"gradient_magnitude[{lab}]"] = float(np.mean(r["gradient"]))
        meas[f"mse[{lab}]"] = float(np.mean(r["mse"]))
        meas[f"active_dims[{lab}]"] = float(np.mean(r["active"]))
        meas[f"kl_total[{lab}]"] = float(np.mean([np.sum(k) for k in r["kl"]]))
        if lab in P["predicted_mlp"]:
            n_pred = P["predicted_mlp"][lab]
            meas[f"predicted_active_dims[{lab}]"] = float(n_pred)
            if n_pred < st.latent:
                meas[f"collapsed_kl[{lab}]"] = float(np.mean([collapsed_kl(k, n_pred)
                                                              for k in r["kl_long"]]))
                meas[f"active_dims_long[{lab}]"] = float(np.mean(r["active_long"]))
    for s in LINEAR_SIGMAS:
        meas[f"active_dims_linear[sigma={s:g}]"] = float(np.mean(lin[s]["active"]))
        meas[f"predicted_active_dims_linear[sigma={s:g}]"] = float(P["predicted_linear"][s])
        meas[f"rate_linear[sigma={s:g}]"] = float(np.mean(lin[s]["rate"]))
        meas[f"predicted_rate_linear[sigma={s:g}]"] = float(
            linear_optimum_kl(lam, s, LINEAR_LATENT).sum())
        meas[f"elbo_gap_linear[sigma={s:g}]"] = float(np.mean(lin[s]["gap"]))
        n_pred = P["predicted_linear"][s]
        if n_pred < LINEAR_LATENT:
            meas[f"collapsed_kl_linear[sigma={s:g}]"] = float(np.mean(
                [collapsed_kl(k, n_pred) for k in lin[s]["kl"]]))

    figures = _figure(cfg, ds, P, per, lin, seeds, x_eval, examples, st)
    elapsed = time.perf_counter() - t_start
    md = _markdown(ds, st, seeds, P, per, lin, results, meas, elapsed)
    progress(f"E5 {ds}: done in {elapsed:.0f} s")
    return ExperimentOutput(NAME, results, md, figures, meas)


def _sd(values) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _pm(values, fmt="{:.3f}") -> str:
    return (fmt + " ± " + fmt).format(float(np.mean(values)), _sd(values))


# ----------------------------------------------------------------------------------------------
# Figure and text
# ----------------------------------------------------------------------------------------------
def _mosaic(rows, side=28, gap=2):
    """One greyscale array from a list of image rows (each (n, side^2)), white gaps."""
    n = max(len(r) for r in rows)
    out = np.ones((len(rows) * (side + gap) - gap, n * (side + gap) - gap))
    for i, r in enumerate(rows):
        for j, im in enumerate(r):
            out[i * (side + gap):i * (side + gap) + side,
                j * (side + gap):j * (side + gap) + side] = np.asarray(im).reshape(side, side)
    return out


def _figure(cfg, ds, P, per, lin, seeds, x_eval, examples, st):
    lam = P["eigenvalues"]
    fig, axes = plotting.figure(2, 3, columns=2, height=4.9)
    ax_spec, ax_act, ax_blur = axes[0]
    ax_grey = axes[1, 0]
    gs = axes[1, 1].get_gridspec()
    for a in axes[1, 1:]:
        a.remove()
    ax_img = fig.add_subplot(gs[1, 1:])

    # (a) spectrum with the thresholds
    idx = np.arange(1, 61)
    ax_spec.semilogy(idx, lam[:60], color="black", marker="o", ms=1.8, lw=0.8,
                     label="data covariance")
    for j, s in enumerate(sorted(set(SIGMAS) | set(LINEAR_SIGMAS), reverse=True)):
        ax_spec.axhline(s * s * math.exp(2 * KL_THRESHOLD), color=plotting.color("", j),
                        lw=0.7, ls=(0, (3, 2)))
        ax_spec.text(1.01, s * s * math.exp(2 * KL_THRESHOLD), f"σ={s:g}", ha="left",
                     va="center", fontsize=6, color=plotting.color("", j),
                     transform=ax_spec.get_yaxis_transform())
    ax_spec.axvline(LINEAR_LATENT, color="grey", lw=0.5)
    ax_spec.axvline(st.latent, color="grey", lw=0.5, ls=":")
    ax_spec.set_xlabel("eigenvalue index i")
    ax_spec.set_ylabel("eigenvalue λ_i (intensity²)")
    ax_spec.set_title("(a) spectrum; lines at σ²")

    # (b) active dimensions vs sigma
    sl = np.array(LINEAR_SIGMAS)
    grid = np.geomspace(0.08, 2.5, 200)
    ax_act.plot(grid, [predicted_active_dims(lam, s, LINEAR_LATENT) for s in grid],
                color=plotting.color("", 0), lw=0.9, label=f"predicted, linear (cap {LINEAR_LATENT})")
    ax_act.errorbar(sl, [np.mean(lin[s]["active"]) for s in LINEAR_SIGMAS],
                    yerr=[_sd(lin[s]["active"]) for s in LINEAR_SIGMAS], fmt="o", ms=3,
                    color=plotting.color("", 0), label="measured, linear VAE")
    ax_act.plot(grid, [predicted_active_dims(lam, s, st.latent) for s in grid],
                color=plotting.color("", 1), lw=0.9, ls=(0, (3, 2)),
                label=f"linear rule, cap {st.latent}")
    fixed = [label("gaussian", s) for s in SIGMAS]
    ax_act.errorbar(SIGMAS, [np.mean(per[l]["active"]) for l in fixed],
                    yerr=[_sd(per[l]["active"]) for l in fixed], fmt="s", ms=3,
                    color=plotting.color("", 1), label=f"measured, MLP VAE ({st.epochs} epochs)")
    longs = [(s, l) for s, l in zip(SIGMAS, fixed) if per[l]["active_long"] != per[l]["active"]]
    if longs:
        ax_act.errorbar([s for s, _ in longs], [np.mean(per[l]["active_long"]) for _, l in longs],
                        yerr=[_sd(per[l]["active_long"]) for _, l in longs], fmt="s", ms=3,
                        mfc="none", color=plotting.color("", 1),
                        label=f"measured, MLP VAE ({st.count_epochs} epochs)")
    ax_act.plot([P["sigma_eff"]], [np.mean(per["bernoulli"]["active"])], "D", ms=4,
                color=plotting.color("bce"), label="MLP, Bernoulli (at σ_eff)")
    ax_act.plot([np.mean(per["gaussian_learned"]["sigma"])],
                [np.mean(per["gaussian_learned"]["active"])], "^", ms=4,
                color=plotting.color("", 2), label="MLP, learned σ (final value)")
    ax_act.set_xscale("log")
    ax_act.set_xlabel("decoder σ (intensity units)")
    ax_act.set_ylabel(f"active latent dims (KL > {KL_THRESHOLD:g} nats)")
    ax_act.set_title("(b) active dimensions")
    ax_act.legend(fontsize=5.5, loc="lower left")

    # (c), (d) blur and mid-grey vs sigma
    for ax, key, ylabel, ref in (
            (ax_blur, "blur_ratio", "blur ratio |∇x| data / |∇x̂| recon.", 1.0),
            (ax_grey, "midgrey", "mid-grey fraction (0.2 < x̂ < 0.8)", midgrey_fraction(x_eval))):
        ax.errorbar(SIGMAS, [np.mean(per[l][key]) for l in fixed],
                    yerr=[_sd(per[l][key]) for l in fixed], fmt="s-", ms=3, lw=0.8,
                    color=plotting.color("", 1), label="Gaussian, fixed σ")
        ax.errorbar([np.mean(per["gaussian_learned"]["sigma"])],
                    [np.mean(per["gaussian_learned"][key])],
                    yerr=[_sd(per["gaussian_learned"][key])], fmt="^", ms=4,
                    color=plotting.color("", 2), label="Gaussian, learned σ (final value)")
        ax.errorbar([P["sigma_eff"]], [np.mean(per["bernoulli"][key])],
                    yerr=[_sd(per["bernoulli"][key])], fmt="D", ms=4,
                    color=plotting.color("bce"), label="Bernoulli (at predicted σ_eff)")
        ax.plot([np.mean(per["bernoulli"]["posthoc"])], [np.mean(per["bernoulli"][key])], "D",
                ms=4, mfc="none", color=plotting.color("bce"),
                label="Bernoulli (at post-hoc σ_eff)")
        ax.axhline(ref, color="grey", lw=0.6, ls=":", label="data")
        ax.set_xscale("log")
        ax.set_xlabel("decoder σ (intensity units)")
        ax.set_ylabel(ylabel)
    ax_blur.set_title("(c) blur (> 1: blurrier than the data)")
    ax_grey.set_title("(d) grey pixels")
    ax_grey.legend(fontsize=5.5)

    # (e) reconstructions
    rows = [x_eval[:8]] + [examples[l] for l in LIKELIHOOD_LABELS]
    ax_img.imshow(_mosaic(rows), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_img.set_yticks([14 + 30 * i for i in range(len(rows))])
    ax_img.set_yticklabels(["data"] + [l.replace("gaussian_", "Gauss. ").replace("sigma", "σ=")
                                       for l in LIKELIHOOD_LABELS], fontsize=6)
    ax_img.set_xticks([])
    for side in ("left", "bottom"):
        ax_img.spines[side].set_visible(False)
    ax_img.set_title(f"(e) test reconstructions (posterior mean, seed {seeds[0]})")
    fig.suptitle(f"E5 {ds}: decoder scale, active dimensions and blur", fontsize=8)
    stem = os.path.join(cfg.figures_dir, f"{_prefix(ds)}_e5_vae_scale")
    return [str(p) for p in plotting.save(fig, stem)]


def _prefix(ds: str) -> str:
    return ds.replace("-", "_")


def _markdown(ds, st, seeds, P, per, lin, results, meas, elapsed) -> str:
    lam = P["eigenvalues"]
    lines = [f"### {NAME} ({ds})", "",
             f"Setup: {st.describe()}; seeds {seeds}; a latent dimension counts as active when "
             f"its KL to the prior, averaged over the training images, exceeds "
             f"{KL_THRESHOLD:g} nats.  Run time {elapsed:.0f} s.", "",
             "Prediction (before training): a Gaussian decoder with fixed σ is the summed squared "
             "error weighted by 1/(2σ²) (Rybkin et al. 2021); for a linear decoder the optimum is "
             "probabilistic PCA (Tipping & Bishop 1999; Lucas et al. 2019), which keeps direction "
             "i exactly when the covariance eigenvalue λ_i exceeds σ², with KL ½ ln(λ_i/σ²).  "
             f"Largest eigenvalues: {', '.join(f'{v:.2f}' for v in lam[:6])}, ... "
             f"(total variance {lam.sum():.1f}).  Putting the closed-form optimum into the network "
             f"reproduces ½ ln(λ_i/σ²) through its own KL code to "
             f"{meas['linear_analytic_check_max_error']:.1e} nats.  The counts concern the "
             "optimum, so the linear VAE ends with an annealed learning rate (a constant Adam step "
             "leaves ~0.01 nats of jitter in the nearly flat directions with λ_i just below σ²; "
             "the −ELBO gap to the analytic optimum below is the convergence check).", "",
             "| linear VAE σ | predicted active | measured | total KL predicted / measured (nats) "
             "| mean KL of the directions predicted to collapse (nats) "
             "| −ELBO above optimum (nats) |", "|---|---|---|---|---|---|"]
    for s in LINEAR_SIGMAS:
        ck = meas.get(f"collapsed_kl_linear[sigma={s:g}]")
        lines.append(f"| {s:g} | {P['predicted_linear'][s]} | {_pm(lin[s]['active'], '{:.1f}')} "
                     f"| {linear_optimum_kl(lam, s, LINEAR_LATENT).sum():.2f} / "
                     f"{_pm(lin[s]['rate'], '{:.2f}')} | {'–' if ck is None else f'{ck:.4f}'} "
                     f"| {_pm(lin[s]['gap'], '{:.2f}')} |")
    lines += ["", "The Bernoulli decoder's effective σ: its expected negative log-likelihood weighs "
              "a squared error at the decoder output p by the Fisher information 1/(2p(1−p)); at "
              "the zero-rate solution (p = the mean image m, errors of variance S_jj) one σ that "
              "weighs those errors alike is σ_eff² = tr S / tr(D^−½ S D^−½), D = diag(m(1−m)): "
              f"σ_eff = {P['sigma_eff']:.3f}.  (Evaluated instead at the data, √(mean y(1−y)) "
              f"= {P['sigma_eff_at_data']:.3f}, the earlier prediction: it uses the curvature at "
              "p = y, where the decoder never is, and averages variances where the trade-off "
              "averages precisions.)  The Bernoulli's active-count prediction uses the same "
              f"operating point: the whitened spectrum (largest eigenvalue {P['whitened'][0]:.1f}) "
              "against 1.", "",
              f"| MLP decoder | active dims (of {st.latent}) at {st.epochs} epochs "
              f"| at {st.count_epochs} epochs | predicted (linear rule) "
              "| total KL (nats) | blur ratio | mid-grey fraction | per-pixel MSE |",
              "|---|---|---|---|---|---|---|---|"]
    for lab in LIKELIHOOD_LABELS:
        r = per[lab]
        pred = P["predicted_mlp"].get(lab, "–")
        rate = [float(np.sum(k)) for k in r["kl"]]
        long = (_pm(r["active_long"], "{:.1f}") if f"active_dims_long[{lab}]" in meas else "–")
        lines.append(f"| {lab} | {_pm(r['active'], '{:.1f}')} | {long} | {pred} "
                     f"| {_pm(rate, '{:.1f}')} "
                     f"| {_pm(r['blur_ratio'])} | {_pm(r['midgrey'])} | {_pm(r['mse'], '{:.4f}')} |")
    lines.append(f"| data | – | – | – | – | 1 | {meas['midgrey_fraction[data]']:.3f} | 0 |")
    learned = float(np.mean(per["gaussian_learned"]["sigma"]))
    below = [s for s in SIGMAS if s < learned]
    lines += ["", f"Learned shared σ: {_pm(per['gaussian_learned']['sigma'], '{:.4f}')} "
              f"(σ²/MSE − 1 = {_pm(per['gaussian_learned']['calib'])}); the learned σ is a "
              "training outcome, so its decoder has no predicted place in the orderings."]
    if below:
        s_lo = max(below)
        lab_lo = label("gaussian", s_lo)
        b_lo, mse_lo = meas[f"blur_ratio[{lab_lo}]"], meas[f"mse[{lab_lo}]"]
        b_l = meas["blur_ratio[gaussian_learned]"]
        which = "sharper" if b_l < b_lo else "blurrier"
        lines[-1] += (f"  Post hoc, at its final σ it is {which} "
                      f"(blur {b_l:.3f}) than the fixed σ = {s_lo:g} (blur {b_lo:.3f})"
                      + (" although its σ is larger: it trained from the zero-rate σ downward, "
                         "and fixed small σ trains slower (per-pixel MSE "
                         f"{meas['mse[gaussian_learned]']:.4f} against "
                         f"{mse_lo:.4f} for σ = "
                         f"{s_lo:g}, which at the optimum would be the lower one) -- a training-"
                         "path effect the analysis, which compares optima, does not address."
                         if b_l < b_lo else "."))
    lines[-1] += (f"  Post hoc, the Bernoulli variance p(1−p) at the trained Bernoulli decoder's "
                  f"own outputs, weighted by its squared errors, amounts to σ = "
                  f"{meas['sigma_eff_posthoc[bernoulli]']:.3f} (a measurement, not a prediction).")
    lines.append("")
    lines += _verdict_text(results, meas, P, per, st)
    lines.append(_why_blurrier(meas, P))
    return "\n".join(lines) + "\n"


def _why_blurrier(meas, P) -> str:
    """The quantitative answer to "why are the VAE's images blurrier", from this run."""
    axis = sorted([(s, label("gaussian", s)) for s in SIGMAS] + [(P["sigma_eff"], "bernoulli")])
    parts = "; ".join(f"{lab} (σ {s:.3g}): {meas[f'kl_total[{lab}]']:.1f} nats, blur "
                      f"{meas[f'blur_ratio[{lab}]']:.3f}, mid-grey "
                      f"{meas[f'midgrey_fraction[{lab}]']:.3f}" for s, lab in axis)
    return ("* Why the VAE's images are blurrier, in this run's numbers: the likelihood's scale σ "
            "prices a nat of reconstruction against a nat of KL, and the code keeps less "
            "information the larger σ is -- information in the code, blur ratio and mid-grey "
            f"fraction by (effective) σ: {parts} (data: mid-grey "
            f"{meas['midgrey_fraction[data]']:.3f}).  Summed BCE is a Bernoulli likelihood whose "
            f"scale at the zero-rate operating point is σ_eff ≈ {P['sigma_eff']:.2f}, so it "
            "blurs like a Gaussian decoder of that σ, not like the small σ its data-evaluated "
            f"value ({P['sigma_eff_at_data']:.3f}) suggests.")


def _sigma_axis(per, s_eff):
    """(label, sigma) of the decoders of :data:`ORDER_LABELS` on the sigma axis."""
    return [(label("gaussian", s), s) for s in SIGMAS] + [("bernoulli", s_eff)]


def _discordant(per, s_eff, key):
    """Pairs (smaller sigma, larger sigma) whose mean ``key`` is in the wrong order."""
    axis = sorted(_sigma_axis(per, s_eff), key=lambda t: t[1])
    vals = {lab: float(np.mean(per[lab][key])) for lab, _ in axis}
    return [(a, b, vals[a], vals[b]) for i, (a, _) in enumerate(axis)
            for b, _ in axis[i + 1:] if vals[a] > vals[b]]


def _verdict_text(results, meas, P, per, st) -> list[str]:
    """Findings, with what the analysis missed where a prediction was refuted (the reasons
    quote this run's own diagnostics)."""
    out = ["Findings:", ""]
    for r in results:
        p = r.prediction
        out.append(f"* `{p.id}` -- {p.statement}.  Predicted {p.kind} {p.value:.3g} "
                   f"(tolerance {p.tolerance:.3g}); measured {r.mean:.3g} ± {r.spread:.2g}: "
                   f"**{r.verdict}**." + (f"  ({r.notes})" if r.notes else ""))
        if r.verdict == "inconclusive" and p.id == "E5.mlp.active_order":
            out.append(
                f"  Inconclusive: at the common {st.epochs} epochs the four fixed-σ decoders "
                "have equal counts in at least one seed (see the table: the spare dimensions "
                f"have not collapsed below {KL_THRESHOLD:g} nats yet), and the rank correlation "
                "of a constant is undefined.  The count prediction that "
                "can be tested is the σ = 1 one above, after the longer run; the ordering of the "
                "information in the code is `E5.mlp.rate_order`.")
        if r.verdict != "refuted":
            continue
        if p.id.startswith("E5.linear"):
            s = p.id[p.id.index("=") + 1:-1]
            ck = meas.get(f"collapsed_kl_linear[sigma={s}]", math.nan)
            out.append(
                "  What the analysis missed: the rule is exact at the optimum; this run ends "
                f"{meas[f'elbo_gap_linear[sigma={s}]']:.2f} nats above it (total KL "
                f"{meas[f'rate_linear[sigma={s}]']:.2f} vs "
                f"{meas[f'predicted_rate_linear[sigma={s}]']:.2f} nats), and the directions "
                f"predicted to collapse keep {ck:.3f} nats each on average, at the level of the "
                f"{KL_THRESHOLD:g}-nat threshold: the count is decided by the optimizer's "
                "residual, not by the spectrum.")
        elif p.id.startswith("E5.mlp.active["):
            lab = p.id[p.id.index("[") + 1:-1]
            out.append(
                f"  What the analysis missed: after {st.count_epochs} epochs the dimensions "
                f"beyond the predicted {int(p.value)} still carry "
                f"{meas.get(f'collapsed_kl[{lab}]', math.nan):.3f} nats each on average; the "
                "linear bound does not hold for this nonlinear decoder at this training length "
                "(for non-Gaussian data a nonlinear code can gain more per nat than the "
                "Gaussian rate-distortion bound behind the linear rule).")
        elif p.id == "E5.mlp.active_order":
            out.append(
                "  What the analysis missed: the counts at the common training length do not "
                "follow the spectrum rule's order; the count is a coarse proxy for the "
                "information in the code (see `E5.mlp.rate_order`).")
        elif p.id == "E5.mlp.rate_order":
            out.append(
                "  What the analysis missed: the monotonicity holds at the optimum of each "
                f"objective; at {st.epochs} epochs the decoders are not at their optima, and the "
                "total KL does not fall monotonically with σ.")
        elif p.id in ("E5.blur.order", "E5.midgrey.order", "E5.bernoulli.blur_rank"):
            key = "midgrey" if p.id == "E5.midgrey.order" else "blur_ratio"
            bad = _discordant(per, P["sigma_eff"], key)
            if bad:
                out.append("  Out of order (smaller σ but blurrier/greyer): " + "; ".join(
                    f"{a} ({va:.3f}) vs {b} ({vb:.3f})" for a, b, va, vb in bad) + ".")
            if any("bernoulli" in (a, b) for a, b, *_ in bad) or p.id == "E5.bernoulli.blur_rank":
                out.append(
                    f"  What the analysis missed: σ_eff = {P['sigma_eff']:.3f} is the Bernoulli's "
                    "curvature at the zero-rate operating point; the trained decoder errs where "
                    "its own outputs sit, and there its Bernoulli variance, weighted by its "
                    f"squared errors, amounts to σ = {meas['sigma_eff_posthoc[bernoulli]']:.3f} "
                    "(post hoc): a single σ does not describe a likelihood whose curvature "
                    "changes with the output by orders of magnitude.")
            elif bad:
                out.append(
                    "  What the analysis missed: neighbouring σ differ in blur by less than the "
                    "training budget moves it (the decoders are compared after a fixed number of "
                    "epochs, the analysis compares optima).")
        elif p.id == "E5.learned.calibration":
            out.append("  What the analysis missed: σ follows the MSE only as fast as Adam moves "
                       "log σ (about the learning rate per step); the run ended before it "
                       "caught up.")
    return out
