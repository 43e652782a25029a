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
  annealed learning rate so that it ends near the optimum the rule is about
  (:func:`.models.vae_settings`);
  the negative ELBO above the analytic optimum is reported as the convergence check.
* MLP VAE 784-256-16 (ReLU), sigmoid output, likelihoods: Gaussian with sigma in
  :data:`SIGMAS`, Gaussian with a learned shared sigma (started at the sigma that is optimal
  for the zero-rate model, sqrt of the mean pixel variance), Bernoulli.  Active dimensions:
  mean per-dimension KL over the training data above ``tau``.  Predicted: at most the linear
  count (the zero-rate solution opens as for a linear decoder; each nonlinear dimension can
  explain at least a linear one's variance), measured after a longer run for the decoders whose
  predicted count lies below the latent size (collapse of spare dimensions is slow; see
  :func:`.models.vae_settings`); counts ordered as the rule's counts (tied at the cap: the predicted rank
  correlation is that of the predicted counts, and a tie of all measured counts is
  inconclusive); and -- for any decoder -- a total KL that falls with sigma (at the optimum
  of D/(2 sigma^2) + R the rate cannot rise with sigma).
* Every tolerance is fixed in :func:`build_predictions` from the spectrum or from first
  principles, with its reason next to it, before any network is trained.
* Blur on the test slice, reconstructions at the posterior mean: the mean image-gradient
  magnitude (forward differences, 27 x 27 positions) of the data over that of the
  reconstructions, and the fraction of mid-grey pixels (0.2 < x < 0.8).
* The Bernoulli decoder's effective sigma (:func:`lossanalysis.analysis.bernoulli_sigma_zero_rate`): its expected
  negative log-likelihood weighs a squared error at the decoder output p by the Fisher
  information 1/(2 p (1 - p)); at the zero-rate solution (p = m, the mean image; errors of
  variance S_jj) the one sigma that weighs those errors alike is
  sigma_eff^2 = tr S / tr(D^(-1/2) S D^(-1/2)), D = diag(m (1 - m)).  Its active count is
  predicted from the same operating point: the spectrum of ``D^(-1/2) S D^(-1/2)`` against 1
  (for D = sigma^2 I this is the Gaussian rule).  The earlier value, sqrt(mean over the training
  pixels of y(1 - y)) (:func:`lossanalysis.analysis.bernoulli_sigma_eff`, from ``analysis.effective_weight``), takes
  the curvature at p = y -- where the decoder never is -- and averages variances where the
  trade-off averages precisions; it is kept for comparison and for E6.
* The blur and grey orderings cover the decoders whose sigma is known before training
  (:data:`ORDER_LABELS`: the fixed sigmas and the Bernoulli at sigma_eff); the learned sigma is
  a training outcome and is reported post hoc.

Kinds: the linear VAE's counts predicted at the latent cap are consistency checks (the
measurement cannot exceed the cap and falls below it only if training fails), as is the learned
sigma's calibration (sigma^2 = MSE is where the Gaussian likelihood's own gradient in sigma
vanishes); every other prediction is falsifiable.

Observations (report JSON ``observations``; one value per seed unless noted)
-----------------------------------------------------------------------------
``<lik>`` is one of :data:`LIKELIHOOD_LABELS`: ``gaussian_sigma1``, ``gaussian_sigma0.5``,
``gaussian_sigma0.3``, ``gaussian_sigma0.1``, ``gaussian_learned``, ``bernoulli``.

* ``blur_ratio[vae_<lik>]`` -- mean |grad| of the data / mean |grad| of the reconstructions of
  the same test images (1: as sharp as the data; > 1: blurrier).
* ``E5.midgrey_fraction[<lik>]``, ``E5.midgrey_fraction[data]`` (single value) -- fraction of
  pixels with 0.2 < x < 0.8; ``E5.midgrey_ratio[<lik>]`` = reconstruction's / data's.
* ``E5.mse[<lik>]`` -- per-pixel squared error of the reconstructions on the test slice.
* ``E5.active_dims[<lik>]`` -- MLP VAE active latent dimensions at the common training length;
  ``E5.active_dims_long[<lik>]`` -- after ``count_epochs`` (decoders with a count
  prediction); ``E5.kl_total[<lik>]`` -- the summed KL (nats); ``E5.collapsed_kl[<lik>]`` --
  mean KL of the dimensions ranked beyond the predicted count after ``count_epochs``.
* ``E5.active_dims_linear[sigma=<s>]``, ``E5.rate_linear[sigma=<s>]`` (nats),
  ``E5.elbo_gap_linear[sigma=<s>]`` (negative ELBO minus the analytic optimum, nats),
  ``E5.collapsed_kl_linear[sigma=<s>]``.
* ``E5.sigma_eff[bernoulli]`` (single value: the zero-rate prediction),
  ``E5.sigma_eff_at_data[bernoulli]`` (single value), ``E5.sigma[gaussian_learned]``,
  ``E5.learned_sigma_calibration``, ``E5.sigma_eff_posthoc[bernoulli]`` (post hoc).
* ``E5.linear_analytic_check_max_error`` (single value, nats).
* ``E5.blur_spearman``, ``E5.midgrey_spearman``, ``E5.rate_spearman``, ``E5.active_spearman``,
  ``E5.bernoulli_blur_rank`` -- what the ordering predictions judge.
"""
from __future__ import annotations

import math

import numpy as np

from .. import plotting
from ..analysis import (KL_THRESHOLD, bernoulli_sigma_eff, bernoulli_sigma_zero_rate,
                        linear_optimum_kl, linear_optimum_nll, marginal_count,
                        predicted_active_dims, spectrum, whitened_spectrum)
from ..nn import VAE
from . import models
from .core import (CONSISTENCY, FALSIFIABLE, REFUTED, Measured, Observation,
                   Prediction, Revision, Task, experiment_settings, frozen, one_swap_tolerance,
                   pm, sd, spearman, stated, stream)
from .figures import image_rows, legend_below, seeds_note, title
from .images import blur_stats

__all__ = ["LABEL", "NAME", "REVISIONS", "settings", "prepare", "tasks", "measure", "figure",
           "text", "SIGMAS", "LINEAR_SIGMAS", "LIKELIHOOD_LABELS", "ORDER_LABELS", "label",
           "build_predictions", "active_dims", "collapsed_kl", "posthoc_bernoulli_sigma",
           "analytic_linear_check"]

LABEL = "E5"
NAME = "E5 VAE likelihood scale and blur"
#: Fixed sigmas of the MLP VAE's Gaussian decoder (intensity units).
SIGMAS = (1.0, 0.5, 0.3, 0.1)
#: Fixed sigmas of the linear VAE: chosen so that the predicted counts lie below the latent cap
#: of 20 on both datasets for most of them (smaller sigmas would all predict "20 of 20").
LINEAR_SIGMAS = (2.0, 1.0, 0.7, 0.5)
LINEAR_LATENT = models.LINEAR_LATENT
LIKELIHOODS = tuple(("gaussian", s) for s in SIGMAS) + (("gaussian", "shared"), ("bernoulli", None))


def label(likelihood: str, sigma=None) -> str:
    """The measurement label of a decoder: ``gaussian_sigma0.5``, ``gaussian_learned``, ...

    >>> label("gaussian", 0.5), label("gaussian", "shared"), label("bernoulli")
    ('gaussian_sigma0.5', 'gaussian_learned', 'bernoulli')
    """
    if likelihood == "gaussian":
        return "gaussian_learned" if isinstance(sigma, str) else f"gaussian_sigma{sigma:g}"
    return likelihood


LIKELIHOOD_LABELS = tuple(label(*spec) for spec in LIKELIHOODS)
#: The decoders of the blur and grey ordering predictions: those whose sigma is known before
#: training (the learned sigma is a training outcome, so it has no predicted place).
ORDER_LABELS = tuple(label("gaussian", s) for s in SIGMAS) + ("bernoulli",)

_OLD = {
    "E5.linear.active[sigma=1]": (("mnist", "12, 13, 12; mean 12.33, confirmed by the mean"),
                                  ("fashion-mnist", "8, 8, 8; mean 8, confirmed by the mean")),
    "E5.mlp.active[gaussian_sigma1]": (
        ("mnist", "12, 12, 12; mean 12, confirmed by the mean"),
        ("fashion-mnist", "6, 7, 7; mean 6.667, confirmed by the mean")),
    "E5.mlp.active_order": (("mnist", "nan, nan, nan; mean nan, inconclusive by the mean"),
                            ("fashion-mnist",
                             "-0.7746, nan, nan; mean nan, inconclusive by the mean")),
    "E5.blur.order": (("mnist", "1, 0.9, 0.9; mean 0.9333, confirmed by the mean"),
                      ("fashion-mnist", "1, 1, 1; mean 1, confirmed by the mean")),
    "E5.midgrey.order": (("mnist", "1, 1, 1; mean 1, confirmed by the mean"),
                         ("fashion-mnist", "0.7, 0.9, 1; mean 0.8667, refuted by the mean")),
    "E5.bernoulli.blur_rank": (("mnist", "2, 1, 1; mean 1.333, confirmed by the mean"),
                               ("fashion-mnist", "2, 2, 2; mean 2, confirmed by the mean")),
    "E5.mlp.rate_order": (("mnist", "-1, -1, -1; mean -1, confirmed by the mean"),
                          ("fashion-mnist", "-1, -1, -1; mean -1, confirmed by the mean")),
}


def _old(*ids):
    return tuple((i, ds, text) for i in ids for ds, text in _OLD[i])


#: Predictions changed after an earlier run had measured them (listed in the report).
REVISIONS = (
    Revision(("E5.linear.active[sigma=1]",),
             "the linear VAEs train 30 epochs, then 5 at lr/10 and 5 at lr/100",
             "the earlier run ended 0.41 nats above the analytic optimum; constant-step Adam's "
             "jitter in the nearly flat directions carried about the 0.01-nat threshold.  The "
             "schedule was chosen in a pilot on the measurement seeds 0-2 (by the gap to the "
             "optimum, with their counts in view)",
             "12 predicted, 16.3 ± 1.5 measured, refuted",
             old_seeds=_old("E5.linear.active[sigma=1]")),
    Revision(("E5.mlp.active[gaussian_sigma1]",),
             "the sigma = 1 MLP decoder is counted after 24 epochs (the orderings still use 8)",
             "unused latent dimensions collapse slowly; in a pilot on seeds 10-11 (not the "
             "measurement seeds) the count settled by epoch 16-24",
             "at most 12 predicted, 16 ± 0 measured at 8 epochs, refuted",
             old_seeds=_old("E5.mlp.active[gaussian_sigma1]")),
    Revision(("E5.mlp.active_order",),
             "predicted Spearman -0.775 (the linear rule's own counts, ties included) instead "
             "of -1; a constant count gives NaN, i.e. inconclusive, instead of 0",
             "-1 was unreachable for the rule's counts (12, 16, 16, 16), and the Spearman "
             "correlation of a constant is undefined",
             "-1 predicted, 0 ± 0 measured (every count 16), refuted",
             old_seeds=_old("E5.mlp.active_order")),
    Revision(("E5.blur.order", "E5.midgrey.order", "E5.bernoulli.blur_rank"),
             "the Bernoulli decoder's effective sigma is taken at the zero-rate operating point "
             "(sigma_eff^2 = tr S / tr(D^-1/2 S D^-1/2)), not at p = y; the learned-sigma "
             "decoder is left out of the orderings",
             "the decoder is never at p = y, and one sigma weighing the errors alike averages "
             "precisions, not variances; the learned sigma is itself a measurement",
             "sigma_eff 0.137: Spearman 0.81 ± 0.066 and 0.89 ± 0 (predicted 1), blur rank "
             "1.33 ± 0.58 (predicted 3), all refuted",
             old_seeds=_old("E5.blur.order", "E5.midgrey.order", "E5.bernoulli.blur_rank")),
    Revision(("E5.mlp.rate_order",),
             "added: the total KL must fall as the fixed sigma grows (Spearman -1, one swap "
             "of tolerance)",
             "the count ordering was inconclusive (tied counts); the information in the code "
             "is the quantity the count stands for -- but this prediction was written after a "
             "report (d41c7ea) had printed the total KL per sigma in that very order",
             "", old_seeds=_old("E5.mlp.rate_order")),
)


def settings(cfg) -> dict:
    """E5 uses the VAE settings (:func:`.models.vae_settings`)."""
    return experiment_settings(cfg, LABEL, {"vae": models.vae_settings(cfg)})


# ----------------------------------------------------------------------------------------------
# Measurement helpers
# ----------------------------------------------------------------------------------------------
def active_dims(model, x, threshold: float = KL_THRESHOLD):
    """(count, per-dimension KL): latent dimensions whose KL to the prior, averaged over ``x``,
    exceeds ``threshold`` nats."""
    kl = model.kl_per_dim(x)
    return int(np.count_nonzero(kl > threshold)), kl


def collapsed_kl(kl, predicted: int) -> float:
    """Mean KL (nats) of the dimensions ranked below the ``predicted`` active count: the
    level at which the directions the analysis expects to collapse actually sit (NaN when the
    prediction keeps every dimension).

    >>> collapsed_kl([3.0, 0.02, 0.0, 1.0], 2)
    0.01
    """
    k = np.sort(np.asarray(kl, dtype=float))[::-1]
    return float(k[predicted:].mean()) if predicted < k.size else math.nan


def posthoc_bernoulli_sigma(p, x) -> float:
    """Post hoc, from a trained Bernoulli decoder's outputs ``p`` on images ``x``: the
    Bernoulli variance p(1 - p) averaged with the squared errors as weights, square-rooted --
    the Gaussian sigma the decoder's curvature 1/(p(1 - p)) amounts to *where it errs*.

    >>> round(posthoc_bernoulli_sigma(np.array([0.5, 0.9]), np.array([0.0, 0.9])), 3)
    0.5
    """
    p = np.asarray(p, dtype=np.float64)
    e2 = (p - np.asarray(x, dtype=np.float64)) ** 2
    return float(math.sqrt(np.sum(p * (1 - p) * e2) / np.sum(e2)))


def _eigh(x):
    """(eigenvalues descending, eigenvectors as columns, mean image) of the covariance of x."""
    x = np.asarray(x, dtype=np.float64)
    m = x.mean(axis=0)
    xc = x - m
    lam, u = np.linalg.eigh(xc.T @ xc / len(x))
    return np.clip(lam[::-1], 0.0, None), u[:, ::-1], m


def analytic_linear_check(x, eig, sigma) -> float:
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
_ORDER_KIND = ("a trained decoder need not follow the ordering of the optima; an out-of-order "
               "measurement would contradict the analysis")


def build_predictions(x_train, latent: int, eigenvalues=None) -> dict:
    """Every E5 prediction, computed from the training images alone (no network involved).

    Returns ``{"predictions": {key: Prediction}, "eigenvalues", "whitened", "sigma_eff",
    "sigma_eff_at_data", "predicted_linear": {sigma: count}, "predicted_mlp": {label: count},
    "predicted_rates": {sigma: nats}}``.  ``eigenvalues``: the covariance spectrum of
    ``x_train`` if already computed.
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
        capped = n >= LINEAR_LATENT
        # Tolerance: the count is exact at the optimum; a finite Adam run decides the marginal
        # directions (optimal KL within MARGIN_NATS = 5 x the threshold of it) either way, and
        # the threshold crossing of a stochastic KL estimate adds +-1.  Fixed from the spectrum.
        preds[f"lin{s:g}"] = Prediction(
            id=f"E5.linear.active[sigma={s:g}]", experiment=LABEL,
            statement=(f"linear VAE (latent {LINEAR_LATENT}), fixed sigma={s:g}: a direction is "
                       f"active iff lambda_i > sigma^2 e^(2 tau), so {n} active dimensions"),
            quantity=f"latent dimensions with mean KL > {KL_THRESHOLD:g} nats (count)",
            value=float(n), tolerance=float(1 + marg), comparison="equal",
            kind=CONSISTENCY if capped else FALSIFIABLE,
            kind_reason=("the predicted count is the latent size: the measurement cannot exceed "
                         "it and falls below it only if training fails, so it does not test the "
                         "spectrum rule" if capped else
                         "the count below the cap depends on the spectrum; a trained linear VAE "
                         "off the rule's count would contradict it"),
            source=_SRC_SPECTRUM)
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
            id=f"E5.mlp.active[{lab}]", experiment=LABEL,
            statement=(f"MLP VAE, {lab}: at most the linear-VAE count of the "
                       f"{'whitened ' if lik == 'bernoulli' else ''}spectrum ({n}; the linear "
                       f"rule is exact only for a linear decoder)"),
            quantity=(f"latent dimensions with mean KL > {KL_THRESHOLD:g} nats (count, of "
                      f"{latent}), after the count's training length"),
            value=float(n), tolerance=float(1 + marg), comparison="at_most", kind=FALSIFIABLE,
            kind_reason=("a nonlinear decoder could use more dimensions than the linear bound "
                         "allows"), source=_SRC_SPECTRUM)
    n_fixed = len(SIGMAS)
    counts = [predicted_mlp[label("gaussian", s)] for s in SIGMAS]
    if len(set(counts)) > 1:
        # The spectrum rule's counts, capped at the latent size, tie wherever the cap binds;
        # the predicted correlation is that of the predicted counts (not -1, which no tied
        # prediction can reach).
        rho = spearman(SIGMAS, counts)
        preds["active_order"] = Prediction(
            id="E5.mlp.active_order", experiment=LABEL,
            statement=(f"MLP VAE: the active counts follow the spectrum rule's order over sigma "
                       f"{SIGMAS} (predicted counts {tuple(counts)}, tied at the latent cap)"),
            quantity=("Spearman correlation between sigma and the active count at the common "
                      "training length, per seed (undefined -- inconclusive -- when all counts "
                      "are equal)"),
            value=rho, tolerance=one_swap_tolerance(n_fixed), comparison="at_most",
            kind=FALSIFIABLE, kind_reason=_ORDER_KIND,
            source=("Spearman correlation of the spectrum rule's counts; tolerance: one swap of "
                    "neighbours"))
    rates = [float(linear_optimum_kl(lam, s, latent).sum()) for s in SIGMAS]
    preds["rate_order"] = Prediction(
        id="E5.mlp.rate_order", experiment=LABEL,
        statement=("MLP VAE: the information in the code (total KL) falls as the fixed sigma "
                   "grows (linear-rule rates " + ", ".join(f"{r:.1f}" for r in rates)
                   + " nats)"),
        quantity="Spearman correlation between sigma and the total KL (nats), per seed",
        value=-1.0, tolerance=one_swap_tolerance(n_fixed), comparison="at_most",
        kind=FALSIFIABLE, kind_reason=_ORDER_KIND,
        source=("for any fixed model class the optimum of D/(2 sigma^2) + R has a rate R that "
                "does not rise with sigma (add the two optimality inequalities of sigma_1 < "
                "sigma_2: (D_1 - D_2)(1/sigma_1^2 - 1/sigma_2^2) <= 0, so D_1 <= D_2 and "
                "R_1 >= R_2); tolerance: one swap of neighbours"))
    n_ord = len(ORDER_LABELS)
    grey = ("larger sigma (fixed, or the Bernoulli's effective sigma "
            f"{s_eff:.3f} at its zero-rate operating point) = weaker data term against the KL "
            "= blurrier")
    preds["blur_order"] = Prediction(
        id="E5.blur.order", experiment=LABEL, statement="blur ratio rises with sigma: " + grey,
        quantity=(f"Spearman correlation between (effective) sigma and blur ratio over the "
                  f"{n_ord} decoders of known sigma"),
        value=1.0, tolerance=one_swap_tolerance(n_ord), comparison="at_least",
        kind=FALSIFIABLE, kind_reason=_ORDER_KIND,
        source=("bernoulli_sigma_zero_rate: Fisher information of the Bernoulli at the mean "
                "image, weighted by the zero-rate errors; tolerance: one swap of neighbours"))
    preds["midgrey_order"] = Prediction(
        id="E5.midgrey.order", experiment=LABEL,
        statement="the fraction of mid-grey output pixels rises with sigma: " + grey,
        quantity=(f"Spearman correlation between (effective) sigma and mid-grey fraction over "
                  f"the {n_ord} decoders of known sigma"),
        value=1.0, tolerance=one_swap_tolerance(n_ord), comparison="at_least",
        kind=FALSIFIABLE, kind_reason=_ORDER_KIND, source="as E5.blur.order")
    n_blurrier = sum(1 for s in SIGMAS if s > s_eff)
    # A grid sigma within a factor 1.25 of sigma_eff cannot be ordered against it: sigma_eff is
    # a heuristic average whose reasonable alternatives differ by tens of percent.
    close = sum(1 for s in SIGMAS if max(s / s_eff, s_eff / s) < 1.25)
    preds["bernoulli_rank"] = Prediction(
        id="E5.bernoulli.blur_rank", experiment=LABEL,
        statement=(f"the Bernoulli decoder behaves like a Gaussian with sigma_eff = {s_eff:.3f}: "
                   f"{n_blurrier} of the fixed sigmas {SIGMAS} are blurrier than it"),
        quantity="number of fixed-sigma Gaussian decoders with a larger blur ratio than the Bernoulli's",
        value=float(n_blurrier), tolerance=float(close), comparison="equal", kind=FALSIFIABLE,
        kind_reason="the Bernoulli decoder could blur like a Gaussian of another sigma",
        source=("sigma_eff^2 = tr S / tr(D^-1/2 S D^-1/2), D = diag(m(1 - m)) "
                "(bernoulli_sigma_zero_rate)"))
    # Rybkin et al.: the optimal shared sigma^2 is the MSE.  Adam moves log sigma by about lr
    # per step and the MSE still falls during the last epoch by a few percent: 10%.
    preds["calibration"] = Prediction(
        id="E5.learned.calibration", experiment=LABEL,
        statement="the learned shared sigma^2 equals the per-pixel MSE of the reconstructions",
        quantity="sigma^2 / MSE - 1 (MSE with posterior samples, training images)",
        value=0.0, tolerance=0.1, comparison="equal", kind=CONSISTENCY,
        kind_reason=("sigma^2 = MSE is where the Gaussian likelihood's own gradient in sigma "
                     "vanishes; the row checks that training reached it"),
        source="Rybkin, Daniilidis & Levine 2021 (arXiv 2006.13202): optimal sigma^2 = MSE")
    return {"predictions": preds, "eigenvalues": lam, "whitened": white, "sigma_eff": s_eff,
            "sigma_eff_at_data": bernoulli_sigma_eff(x_train),
            "predicted_linear": predicted_linear, "predicted_mlp": predicted_mlp,
            "predicted_rates": dict(zip(SIGMAS, rates))}


def prepare(cfg, data) -> dict:
    s = settings(cfg)
    st = s["vae"]
    x = models.vae_training_images(cfg.data, st)
    x_eval = models.vae_eval_images(cfg.data, st)
    eig = _eigh(x)
    B = build_predictions(x, st["latent"], eigenvalues=eig[0])
    preds = {k: stated(cfg, v) for k, v in B.pop("predictions").items()}
    lam = B["eigenvalues"]
    long_labels = tuple(lab for lab in B["predicted_mlp"] if f"mlp_{lab}" in preds
                        and lab.startswith("gaussian_sigma"))
    return {"settings": s, "P": preds, "predictions": list(preds.values()), **B,
            "init_sigma": float(math.sqrt(lam.sum() / x.shape[1])),   # zero-rate optimum
            "long_labels": long_labels,
            "linear_optimum_nll": {sg: float(linear_optimum_nll(lam, sg, LINEAR_LATENT))
                                   for sg in LINEAR_SIGMAS},
            "analytic_check": max(analytic_linear_check(x, eig, sg) for sg in LINEAR_SIGMAS),
            "data_stats": blur_stats(x_eval, x_eval)}


# ----------------------------------------------------------------------------------------------
# Measure
# ----------------------------------------------------------------------------------------------
def _measure_linear(ref, st, sigma, seed, optimum_nll, *, deps=None) -> dict:
    """One linear VAE: trained (annealed), its active count, KL and ELBO gap (task function)."""
    x = models.vae_training_images(ref, st)
    model = models.train_linear_vae(x, sigma, seed, st)
    n, kl = active_dims(model, x)
    nelbo = model.evaluate(x, rng=stream("e5.elbo", seed))["loss"]
    return {"active": n, "kl": kl, "rate": float(kl.sum()), "gap": nelbo - optimum_nll}


def _calibration(model, x, seed) -> tuple[float, float]:
    """(learned sigma, sigma^2 / MSE - 1) with one posterior sample per training image."""
    mu, logvar = model.encode(x)
    eps = stream("e5.calibration", seed).standard_normal(mu.shape).astype(mu.dtype)
    rec = model.decode(mu + np.exp(0.5 * logvar) * eps)
    mse = float(np.mean((rec.astype(np.float64) - x) ** 2))
    sigma = float(model.term.sigma_values()[0])
    return sigma, sigma ** 2 / mse - 1.0


def _vae_task(ref, st, lik, sig, seed, init_sigma, long):
    return models.vae_task(ref, st, lik, seed, sigma=sig if lik == "gaussian" else 1.0,
                           init_sigma=init_sigma if isinstance(sig, str) else 1.0,
                           epochs=st["count_epochs"] if long else None,
                           snapshots=(st["epochs"], st["count_epochs"]) if long else None)


def _measure_mlp(ref, st, lik, sig, seed, init_sigma, long, *, deps) -> dict:
    """One MLP decoder of one seed, at the common training length (and the count's)."""
    trained = deps[_vae_task(ref, st, lik, sig, seed, init_sigma, long).key]["params"]
    x = models.vae_training_images(ref, st)
    x_eval = models.vae_eval_images(ref, st)

    def rebuild(epoch):
        return models.vae(st, lik, trained[epoch], sigma=sig if lik == "gaussian" else 1.0,
                          init_sigma=init_sigma if isinstance(sig, str) else 1.0, seed=seed)
    model = rebuild(st["epochs"])
    n, kl = active_dims(model, x)
    rec = model.reconstruct(x_eval)
    out = {"active": n, "kl": kl, **{k: v for k, v in blur_stats(rec, x_eval).items()
                                     if k in ("blur_ratio", "midgrey", "midgrey_ratio",
                                              "gradient", "mse")},
           "examples": rec[:8]}
    if lik == "bernoulli":
        out["posthoc"] = posthoc_bernoulli_sigma(rec, x_eval)
    if isinstance(sig, str):
        out["sigma"], out["calib"] = _calibration(model, x[:st["n_calib"]], seed)
    if long:
        out["active_long"], out["kl_long"] = active_dims(rebuild(st["count_epochs"]), x)
    else:
        out["active_long"], out["kl_long"] = n, kl
    return out


def tasks(cfg, prep, seeds) -> list:
    st = prep["settings"]["vae"]
    out = []
    for seed in seeds:
        for sg in LINEAR_SIGMAS:
            epochs = sum(e for e, _ in models.lin_phases(st))
            out.append(Task(("E5", "linear", cfg.dataset, frozen(st), sg, int(seed)),
                            _measure_linear,
                            (cfg.data, st, sg, seed, prep["linear_optimum_nll"][sg]),
                            cost=epochs * st["n_train"] / 47000.0,
                            label=f"{cfg.dataset} E5 seed {seed}: linear VAE sigma={sg:g}"))
        for lik, sig in LIKELIHOODS:
            lab = label(lik, sig)
            long = lab in prep["long_labels"]
            net = _vae_task(cfg.data, st, lik, sig, seed, prep["init_sigma"], long)
            out += [net, Task(("E5", "mlp", cfg.dataset, frozen(st), lab, int(seed)),
                              _measure_mlp,
                              (cfg.data, st, lik, sig, seed, prep["init_sigma"], long),
                              deps=(net.key,), cost=0.4,
                              label=f"{cfg.dataset} E5 seed {seed}: {lab} measured")]
    return out


def measure(cfg, prep, seeds, done) -> Measured:
    st = prep["settings"]["vae"]
    seeds = tuple(seeds)
    P = prep["P"]
    lin = {sg: [done[("E5", "linear", cfg.dataset, frozen(st), sg, int(seed))]
                for seed in seeds] for sg in LINEAR_SIGMAS}
    per = {lab: [done[("E5", "mlp", cfg.dataset, frozen(st), lab, int(seed))]
                 for seed in seeds] for lab in LIKELIHOOD_LABELS}
    lam, s_eff = prep["eigenvalues"], prep["sigma_eff"]
    fixed = [label("gaussian", sg) for sg in SIGMAS]
    active_rho, rate_rho, blur_rho, grey_rho, rank = [], [], [], [], []
    sig_axis = list(SIGMAS) + [s_eff]                       # the decoders of ORDER_LABELS
    for i in range(len(seeds)):
        active_rho.append(spearman(SIGMAS, [per[lab][i]["active"] for lab in fixed]))
        rate_rho.append(spearman(SIGMAS, [float(np.sum(per[lab][i]["kl"])) for lab in fixed]))
        blur_rho.append(spearman(sig_axis, [per[lab][i]["blur_ratio"] for lab in ORDER_LABELS]))
        grey_rho.append(spearman(sig_axis, [per[lab][i]["midgrey"] for lab in ORDER_LABELS]))
        b_bern = per["bernoulli"][i]["blur_ratio"]
        rank.append(float(sum(1 for lab in fixed if per[lab][i]["blur_ratio"] > b_bern)))
    values, notes = {}, {}
    for sg in LINEAR_SIGMAS:
        pid = f"E5.linear.active[sigma={sg:g}]"
        values[pid] = [float(d["active"]) for d in lin[sg]]
        notes[pid] = (f"negative ELBO {np.mean([d['gap'] for d in lin[sg]]):.2f} nats above the "
                      f"analytic optimum; total KL {np.mean([d['rate'] for d in lin[sg]]):.2f} "
                      f"nats vs {linear_optimum_kl(lam, sg, LINEAR_LATENT).sum():.2f} at the "
                      "optimum")
    for lab in LIKELIHOOD_LABELS:
        if f"mlp_{lab}" in P:
            pid = P[f"mlp_{lab}"].id
            ep = st["count_epochs"] if lab in prep["long_labels"] else st["epochs"]
            values[pid] = [float(d["active_long"]) for d in per[lab]]
            notes[pid] = (f"count after {ep} epochs; "
                          f"{np.mean([d['active'] for d in per[lab]]):.1f} after {st['epochs']}")
    if "active_order" in P:
        values["E5.mlp.active_order"] = active_rho
        notes["E5.mlp.active_order"] = (
            f"counts per sigma at epoch {st['epochs']} " + ", ".join(
                f"{sg:g}: {np.mean([d['active'] for d in per[lab]]):.1f}"
                for sg, lab in zip(SIGMAS, fixed))
            + ("; all counts equal in a seed: the correlation is undefined"
               if not all(np.isfinite(active_rho)) else ""))
    values["E5.mlp.rate_order"] = rate_rho
    notes["E5.mlp.rate_order"] = "total KL per sigma " + ", ".join(
        f"{sg:g}: {np.mean([np.sum(d['kl']) for d in per[lab]]):.1f}"
        for sg, lab in zip(SIGMAS, fixed)) + " nats"
    values["E5.blur.order"] = blur_rho
    values["E5.midgrey.order"] = grey_rho
    values["E5.bernoulli.blur_rank"] = rank
    values["E5.learned.calibration"] = [d["calib"] for d in per["gaussian_learned"]]
    notes["E5.learned.calibration"] = ("learned sigma "
                                       f"{np.mean([d['sigma'] for d in per['gaussian_learned']]):.4f}")

    def o(vals, unit):
        return Observation(tuple(float(v) for v in vals), seeds, unit)
    one = ()
    ds = prep["data_stats"]
    obs = {"E5.midgrey_fraction[data]": Observation((ds["midgrey_data"],), one, "fraction"),
           "E5.gradient_magnitude[data]": Observation((ds["gradient_data"],), one,
                                                      "intensity per pixel"),
           "E5.sigma_eff[bernoulli]": Observation((s_eff,), one, "intensity"),
           "E5.sigma_eff_at_data[bernoulli]": Observation((prep["sigma_eff_at_data"],), one,
                                                          "intensity"),
           "E5.sigma[gaussian_learned]": o([d["sigma"] for d in per["gaussian_learned"]],
                                           "intensity"),
           "E5.learned_sigma_calibration": o(values["E5.learned.calibration"], "ratio"),
           "E5.sigma_eff_posthoc[bernoulli]": o([d["posthoc"] for d in per["bernoulli"]],
                                                "intensity"),
           "E5.linear_analytic_check_max_error": Observation((prep["analytic_check"],), one,
                                                             "nats"),
           "E5.rate_spearman": o(rate_rho, "correlation"),
           "E5.active_spearman": o(active_rho, "correlation"),
           "E5.blur_spearman": o(blur_rho, "correlation"),
           "E5.midgrey_spearman": o(grey_rho, "correlation"),
           "E5.bernoulli_blur_rank": o(rank, "count")}
    for lab in LIKELIHOOD_LABELS:
        r = per[lab]
        obs[f"blur_ratio[vae_{lab}]"] = o([d["blur_ratio"] for d in r], "ratio")
        obs[f"E5.midgrey_fraction[{lab}]"] = o([d["midgrey"] for d in r], "fraction")
        obs[f"E5.midgrey_ratio[{lab}]"] = o([d["midgrey_ratio"] for d in r], "ratio")
        obs[f"E5.gradient_magnitude[{lab}]"] = o([d["gradient"] for d in r],
                                                 "intensity per pixel")
        obs[f"E5.mse[{lab}]"] = o([d["mse"] for d in r], "intensity²")
        obs[f"E5.active_dims[{lab}]"] = o([d["active"] for d in r], "count")
        obs[f"E5.kl_total[{lab}]"] = o([np.sum(d["kl"]) for d in r], "nats")
        n_pred = prep["predicted_mlp"].get(lab)
        if n_pred is not None and n_pred < st["latent"]:
            obs[f"E5.collapsed_kl[{lab}]"] = o([collapsed_kl(d["kl_long"], n_pred) for d in r],
                                               "nats")
            obs[f"E5.active_dims_long[{lab}]"] = o([d["active_long"] for d in r], "count")
    for sg in LINEAR_SIGMAS:
        key = f"sigma={sg:g}"
        obs[f"E5.active_dims_linear[{key}]"] = o([d["active"] for d in lin[sg]], "count")
        obs[f"E5.rate_linear[{key}]"] = o([d["rate"] for d in lin[sg]], "nats")
        obs[f"E5.elbo_gap_linear[{key}]"] = o([d["gap"] for d in lin[sg]], "nats")
        n_pred = prep["predicted_linear"][sg]
        if n_pred < LINEAR_LATENT:
            obs[f"E5.collapsed_kl_linear[{key}]"] = o(
                [collapsed_kl(d["kl"], n_pred) for d in lin[sg]], "nats")
    cols = ("active", "active_long", "kl", "blur_ratio", "midgrey", "mse", "sigma", "calib",
            "posthoc")
    extra = {"per": {lab: {k: [d[k] for d in r] for k in cols if k in r[0]}
                     for lab, r in per.items()},
             "lin": {sg: {k: [d[k] for d in r] for k in ("active", "rate", "gap")}
                     for sg, r in lin.items()},
             "examples": {lab: per[lab][0]["examples"] for lab in LIKELIHOOD_LABELS},
             "x_eval": models.vae_eval_images(cfg.data, st)[:8]}
    return Measured(values, seeds, notes, obs, extra)


# ----------------------------------------------------------------------------------------------
# Figure
# ----------------------------------------------------------------------------------------------
#: The decoders of (b)-(d): (legend label, colour index, marker, filled).
_GAUSS, _BERN = plotting.display_name("gaussian"), plotting.display_name("bernoulli")
_KINDS = {"linear": (f"linear VAE, latent {LINEAR_LATENT}", 0, "o", True),
          "fixed": (f"MLP VAE, {_GAUSS}, fixed σ", 1, "s", True),
          "long": ("", 1, "s", False),
          "learned": (f"MLP VAE, {_GAUSS}, learned σ (final)", 2, "^", True),
          "bernoulli": (f"MLP VAE, {_BERN} at predicted " r"$\sigma_\mathrm{eff}$", 1, "D", True),
          "posthoc": (f"MLP VAE, {_BERN} at post-hoc " r"$\sigma_\mathrm{eff}$", 1, "D", False)}


def _decoder_name(lb: str) -> str:
    """A decoder's row label in (e): "Gaussian, σ = 0.5", "Gaussian, learned σ", "Bernoulli"."""
    if lb == "gaussian_learned":
        return f"{_GAUSS}, learned σ"
    if lb.startswith("gaussian_sigma"):
        return f"{_GAUSS}, σ = {lb[len('gaussian_sigma'):]}"
    return plotting.display_name(lb)


#: Marker size and drawing order of each kind: a larger marker lies below a smaller one, so
#: that both show where they meet (e.g. the Bernoulli decoder at sigma_eff next to sigma 0.3).
_SIZES = {"long": (5.5, 2.0), "learned": (4.5, 2.5), "bernoulli": (4.5, 2.5),
          "posthoc": (4.5, 2.5)}


def _style(kind) -> dict:
    """How a kind of decoder is drawn (and shown in the legend); "long" is the count after the
    longer run, a larger open marker around the short run's."""
    _, c, m, filled = _KINDS[kind]
    c = plotting.color("", c)
    return dict(ls="none", marker=m, ms=_SIZES.get(kind, (3.5, 3.0))[0], mew=0.7, color=c,
                mfc=c if filled else "none")


def _marks(ax, kind, xs, runs, *, line=False):
    """Mean ± sd over the seeds of each run in ``runs`` at ``xs``, drawn as ``kind``."""
    ax.errorbar(xs, [np.mean(r) for r in runs], yerr=[sd(r) for r in runs], lw=0.8,
                elinewidth=0.7, zorder=_SIZES.get(kind, (3.5, 3.0))[1],
                **{**_style(kind), "ls": "-" if line else "none"})


@plotting.style()
def figure(cfg, prep, measured):
    """(a) the spectrum against sigma^2; (b) active dimensions; (c) blur and (d) grey pixels
    against sigma; (e) reconstructions; one legend for (b)-(d) below the figure."""
    st, lam, seeds = prep["settings"]["vae"], prep["eigenvalues"], measured.seeds
    per, lin = measured.extra["per"], measured.extra["lin"]
    fig, _ = plotting.figure(0, 0, columns=2, height=6.6)
    grid = fig.add_gridspec(2, 6, height_ratios=[1.0, 1.15])
    ax_spec, ax_act, ax_blur = (fig.add_subplot(grid[0, 2 * i:2 * i + 2]) for i in range(3))
    ax_grey, ax_img = fig.add_subplot(grid[1, :2]), fig.add_subplot(grid[1, 2:])
    sigma_label = plotting.axis_label("decoder σ", "intensity")
    fixed = [label("gaussian", sg) for sg in SIGMAS]
    s_eff, s_learned = prep["sigma_eff"], np.mean(per["gaussian_learned"]["sigma"])

    # (a) spectrum with the thresholds sigma^2 e^(2 tau) (right axis) and the latent sizes
    ax_spec.semilogy(np.arange(1, 61), lam[:60], color="black", marker="o", ms=1.8, lw=0.8)
    levels = sorted(set(SIGMAS) | set(LINEAR_SIGMAS), reverse=True)
    at = [sg * sg * math.exp(2 * KL_THRESHOLD) for sg in levels]
    for j, y in enumerate(at):
        plotting.mark_reference(ax_spec.axhline(y, lw=0.7, color=plotting.color("", j),
                                                ls=(0, (3, 2))))
    right = ax_spec.secondary_yaxis("right")
    right.set_yticks(at, [f"σ = {sg:g}" for sg in levels], fontsize=6)
    right.minorticks_off()
    for j, tick in enumerate(right.get_yticklabels()):
        tick.set_color(plotting.color("", j))
    for x, name, side in ((st["latent"], "MLP", "right"), (LINEAR_LATENT, "linear", "left")):
        plotting.guides(ax_spec, x=[x])
        ax_spec.text(x + (-0.8 if side == "right" else 0.8), 0.03, f"{name} latent {x}",
                     rotation=90, ha=side, va="bottom", fontsize=6, color="0.35",
                     transform=ax_spec.get_xaxis_transform())
    ax_spec.set_xlabel(plotting.axis_label("eigenvalue index i", "count"))
    ax_spec.set_ylabel(plotting.axis_label(r"eigenvalue $\lambda_i$", "intensity²"))
    ax_spec.set_title(r"(a) data spectrum; lines at $\sigma^2 e^{2\tau}$")

    # (b) active dimensions vs sigma: the rule for both latent sizes, the measured counts
    rules = [(f"(b) linear rule, latent {n}", dict(color=plotting.color("", c),
                                                              lw=0.9, ls=ls))
             for n, c, ls in ((LINEAR_LATENT, 0, "-"), (st["latent"], 1, (0, (3, 2))))]
    grid_s = np.geomspace(0.08, 2.5, 200)
    for n, (_, line) in zip((LINEAR_LATENT, st["latent"]), rules):
        ax_act.plot(grid_s, [predicted_active_dims(lam, sg, n) for sg in grid_s], zorder=1,
                    **line)
    _marks(ax_act, "linear", LINEAR_SIGMAS, [lin[sg]["active"] for sg in LINEAR_SIGMAS])
    runs = {lb: (sg, "fixed") for sg, lb in zip(SIGMAS, fixed)}
    runs.update(gaussian_learned=(s_learned, "learned"), bernoulli=(s_eff, "bernoulli"))
    for lb, (sg, kind) in runs.items():
        _marks(ax_act, kind, [sg], [per[lb]["active"]])
        if lb in prep["long_labels"]:
            _marks(ax_act, "long", [sg], [per[lb]["active_long"]])
    ax_act.set_xscale("log")
    ax_act.yaxis.get_major_locator().set_params(integer=True)
    ax_act.set_xlabel(sigma_label)
    ax_act.set_ylabel(plotting.axis_label(f"active dims (KL > {KL_THRESHOLD:g} nats)",
                                          "count"))
    ax_act.set_title("(b) active latent dimensions")

    # (c), (d) blur and mid-grey vs sigma
    data_line = dict(color="0.6", lw=0.6, ls=":")
    for ax, key, ylabel, ref in (
            (ax_blur, "blur_ratio", r"blur $|\nabla x|\,/\,|\nabla \hat x|$", 1.0),
            (ax_grey, "midgrey", r"share $0.2 < \hat x < 0.8$", prep["data_stats"]["midgrey_data"])):
        plotting.mark_reference(ax.axhline(ref, **data_line))
        _marks(ax, "fixed", SIGMAS, [per[lb][key] for lb in fixed], line=True)
        _marks(ax, "learned", [s_learned], [per["gaussian_learned"][key]])
        _marks(ax, "bernoulli", [s_eff], [per["bernoulli"][key]])
        _marks(ax, "posthoc", [np.mean(per["bernoulli"]["posthoc"])], [per["bernoulli"][key]])
        ax.set_xscale("log")
        ax.set_xlabel(sigma_label)
        ax.set_ylabel(plotting.axis_label(ylabel, "ratio"))
    ax_blur.set_title("(c) blur (> 1: blurrier)")
    ax_grey.set_title("(d) mid-grey pixels")

    # (e) reconstructions
    image_rows(ax_img, [measured.extra["x_eval"]] + [measured.extra["examples"][lb]
                                                     for lb in LIKELIHOOD_LABELS],
               ["data"] + [_decoder_name(lb) for lb in LIKELIHOOD_LABELS])
    ax_img.set_title(f"(e) test reconstructions (posterior mean, {seeds_note(seeds[:1])})")

    long = (f"(b) MLP VAE after {st['count_epochs']} epochs (filled: {st['epochs']})",
            _style("long"))
    kinds = [(text, _style(kind)) for kind, (text, *_) in _KINDS.items() if kind != "long"]
    legend_below(fig, rules + kinds[:2] + [long] + kinds[2:]
                 + [("(c, d) the data", data_line)], ncols=3)
    title(fig, LABEL, cfg.dataset, "decoder scale, active dimensions and blur",
          f"mean ± sd over {seeds_note(seeds)}")
    return fig


# ----------------------------------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------------------------------
def text(cfg, prep, measured, rows) -> str:
    st, lam = prep["settings"]["vae"], prep["eigenvalues"]
    per, lin, obs = measured.extra["per"], measured.extra["lin"], measured.observations

    def m(key):
        return obs[key].mean
    lines = [f"### {NAME} ({cfg.dataset})", "",
             f"Setup: {models.describe_vae(st)}; seeds {', '.join(map(str, measured.seeds))}; a "
             f"latent dimension counts as active when its KL to the prior, averaged over the "
             f"training images, exceeds {KL_THRESHOLD:g} nats.", "",
             "Prediction (before training): a Gaussian decoder with fixed σ is the summed squared "
             "error weighted by 1/(2σ²) (Rybkin et al. 2021); for a linear decoder the optimum is "
             "probabilistic PCA (Tipping & Bishop 1999; Lucas et al. 2019), which keeps direction "
             "i exactly when the covariance eigenvalue λ_i exceeds σ², with KL ½ ln(λ_i/σ²).  "
             f"Largest eigenvalues: {', '.join(f'{v:.2f}' for v in lam[:6])}, ... "
             f"(total variance {lam.sum():.1f}).  Putting the closed-form optimum into the network "
             f"gives ½ ln(λ_i/σ²) through its own KL code to within "
             f"{m('E5.linear_analytic_check_max_error'):.1e} nats.  The counts concern the "
             "optimum, so the linear VAE ends with an annealed learning rate (in a pilot a "
             "constant Adam step left ~0.01 nats of jitter in the nearly flat directions with λ_i "
             "just below σ²; the −ELBO gap to the analytic optimum below is the convergence "
             "check).", "",
             "| linear VAE σ | predicted active | measured | total KL predicted / measured (nats) "
             "| mean KL of the directions predicted to collapse (nats) "
             "| −ELBO above optimum (nats) |", "|---|---|---|---|---|---|"]
    for sg in LINEAR_SIGMAS:
        ck = obs.get(f"E5.collapsed_kl_linear[sigma={sg:g}]")
        lines.append(f"| {sg:g} | {prep['predicted_linear'][sg]} | "
                     f"{pm(lin[sg]['active'], '{:.1f}')} "
                     f"| {linear_optimum_kl(lam, sg, LINEAR_LATENT).sum():.2f} / "
                     f"{pm(lin[sg]['rate'], '{:.2f}')} | "
                     f"{'–' if ck is None else f'{ck.mean:.4f}'} "
                     f"| {pm(lin[sg]['gap'], '{:.2f}')} |")
    lines += ["", "The Bernoulli decoder's effective σ: its expected negative log-likelihood weighs "
              "a squared error at the decoder output p by the Fisher information 1/(2p(1−p)); at "
              "the zero-rate solution (p = the mean image m, errors of variance S_jj) one σ that "
              "weighs those errors alike is σ_eff² = tr S / tr(D^−½ S D^−½), D = diag(m(1−m)): "
              f"σ_eff = {prep['sigma_eff']:.3f}.  (Evaluated instead at the data, √(mean y(1−y)) "
              f"= {prep['sigma_eff_at_data']:.3f}, the earlier prediction: it uses the curvature "
              "at p = y, where the decoder never is, and averages variances where the trade-off "
              "averages precisions.)  The Bernoulli's active-count prediction uses the same "
              f"operating point: the whitened spectrum (largest eigenvalue "
              f"{prep['whitened'][0]:.1f}) against 1.", "",
              f"| MLP decoder | active dims (of {st['latent']}) at {st['epochs']} epochs "
              f"| at {st['count_epochs']} epochs | predicted (linear rule) "
              "| total KL (nats) | blur ratio | mid-grey fraction | per-pixel MSE |",
              "|---|---|---|---|---|---|---|---|"]
    for lab in LIKELIHOOD_LABELS:
        r = per[lab]
        pred = prep["predicted_mlp"].get(lab, "–")
        rate = [float(np.sum(k)) for k in r["kl"]]
        long = pm(r["active_long"], "{:.1f}") if lab in prep["long_labels"] else "–"
        lines.append(f"| {lab} | {pm(r['active'], '{:.1f}')} | {long} | {pred} "
                     f"| {pm(rate, '{:.1f}')} "
                     f"| {pm(r['blur_ratio'])} | {pm(r['midgrey'])} | {pm(r['mse'], '{:.4f}')} |")
    lines.append(f"| data | – | – | – | – | 1 | {m('E5.midgrey_fraction[data]'):.3f} | 0 |")
    learned = m("E5.sigma[gaussian_learned]")
    lines += ["", f"Learned shared σ: {pm(per['gaussian_learned']['sigma'], '{:.4f}')} "
              f"(σ²/MSE − 1 = {pm(per['gaussian_learned']['calib'])}); the learned σ is a "
              "training outcome, so its decoder has no predicted place in the orderings."]
    below = [sg for sg in SIGMAS if sg < learned]
    if below:
        s_lo = max(below)
        lab_lo = label("gaussian", s_lo)
        b_lo, mse_lo = m(f"blur_ratio[vae_{lab_lo}]"), m(f"E5.mse[{lab_lo}]")
        b_l, mse_l = m("blur_ratio[vae_gaussian_learned]"), m("E5.mse[gaussian_learned]")
        if b_l < b_lo:
            lines[-1] += (f"  Post hoc, at its final σ it is sharper (blur {b_l:.3f}) than the "
                          f"fixed σ = {s_lo:g} (blur {b_lo:.3f}) although its σ is larger; per-"
                          f"pixel MSE {mse_l:.4f} against {mse_lo:.4f} for σ = {s_lo:g}"
                          + (" -- the fixed small σ trained slower, a training-path effect the "
                             "analysis, which compares optima, does not address."
                             if mse_lo > mse_l else "."))
        else:
            lines[-1] += (f"  Post hoc, at its final σ it is blurrier (blur {b_l:.3f}) than the "
                          f"fixed σ = {s_lo:g} (blur {b_lo:.3f}).")
    lines[-1] += (f"  Post hoc, the Bernoulli variance p(1−p) at the trained Bernoulli decoder's "
                  f"own outputs, weighted by its squared errors, amounts to σ = "
                  f"{m('E5.sigma_eff_posthoc[bernoulli]'):.3f} (a measurement, not a "
                  "prediction).")
    lines.append("")
    lines += _verdict_text(rows, obs, prep, per, st)
    lines.append(_why_blurrier(obs, prep))
    return "\n".join(lines) + "\n"


def _why_blurrier(obs, prep) -> str:
    """The quantitative answer to "why are the VAE's images blurrier", from this run."""
    def m(key):
        return obs[key].mean
    axis = sorted([(sg, label("gaussian", sg)) for sg in SIGMAS] + [(prep["sigma_eff"],
                                                                     "bernoulli")])
    parts = "; ".join(f"{lab} (σ {sg:.3g}): {m(f'E5.kl_total[{lab}]'):.1f} nats, blur "
                      f"{m(f'blur_ratio[vae_{lab}]'):.3f}, mid-grey "
                      f"{m(f'E5.midgrey_fraction[{lab}]'):.3f}" for sg, lab in axis)
    rates = [m(f"E5.kl_total[{lab}]") for _, lab in axis]
    blurs = [m(f"blur_ratio[vae_{lab}]") for _, lab in axis]
    falls = all(a > b for a, b in zip(rates, rates[1:]))
    rises = all(a < b for a, b in zip(blurs, blurs[1:]))
    text = ("* Why the VAE's images are blurrier, in this run's numbers: the likelihood's scale "
            "σ prices a nat of reconstruction against a nat of KL.  Information in the code, "
            f"blur ratio and mid-grey fraction by (effective) σ: {parts} (data: mid-grey "
            f"{m('E5.midgrey_fraction[data]'):.3f}).  Along this axis the information in the "
            f"code {'falls' if falls else 'does not fall'} monotonically and the blur "
            f"{'rises' if rises else 'does not rise'} monotonically.")
    s_eff = prep["sigma_eff"]
    lower = [sg for sg in SIGMAS if sg < s_eff]
    upper = [sg for sg in SIGMAS if sg > s_eff]
    b = m("blur_ratio[vae_bernoulli]")
    if lower and upper:
        lo_s, hi_s = max(lower), min(upper)
        b_lo = m(f"blur_ratio[vae_{label('gaussian', lo_s)}]")
        b_hi = m(f"blur_ratio[vae_{label('gaussian', hi_s)}]")
        inside = b_lo <= b <= b_hi
        text += (f"  Summed BCE is a Bernoulli likelihood whose scale at the zero-rate operating "
                 f"point is σ_eff ≈ {s_eff:.2f}; its blur ({b:.3f}) "
                 + ("lies" if inside else "does not lie")
                 + f" between those of the Gaussian decoders with σ = {lo_s:g} ({b_lo:.3f}) and "
                 f"σ = {hi_s:g} ({b_hi:.3f}), the fixed σ on either side of σ_eff.")
    return text


def _discordant(per, s_eff, key):
    """Pairs (smaller sigma, larger sigma) whose mean ``key`` is in the wrong order."""
    axis = sorted([(label("gaussian", sg), sg) for sg in SIGMAS] + [("bernoulli", s_eff)],
                  key=lambda t: t[1])
    vals = {lab: float(np.mean(per[lab][key])) for lab, _ in axis}
    return [(a, b, vals[a], vals[b]) for i, (a, _) in enumerate(axis)
            for b, _ in axis[i + 1:] if vals[a] > vals[b]]


def _verdict_text(rows, obs, prep, per, st) -> list[str]:
    """Findings, with what the analysis missed where a prediction was refuted (the reasons
    quote this run's own diagnostics)."""
    out = ["Findings:", ""]
    for r in rows:
        p = r.prediction
        out.append(f"* `{p.id}` -- {p.statement}.  Predicted {p.comparison} {p.value:.3g} "
                   f"(tolerance {p.tolerance:.3g}); measured {r.mean:.3g} ± {r.sd:.2g}: "
                   f"**{r.verdict}**." + (f"  ({r.notes})" if r.notes else ""))
        if p.id == "E5.mlp.active_order" and not all(np.isfinite(r.measurements)):
            tied = sum(1 for v in r.measurements if not np.isfinite(v))
            out.append(
                f"  In {tied} of the {len(r.measurements)} seeds the four fixed-σ decoders have "
                f"equal counts at the common {st['epochs']} epochs (the spare dimensions have "
                f"not collapsed below {KL_THRESHOLD:g} nats yet), and the rank correlation of a "
                "constant is undefined, so the row cannot be decided.  The ordering of the "
                "information in the code is `E5.mlp.rate_order`.")
        if r.verdict != REFUTED:
            continue
        if p.id.startswith("E5.linear"):
            sg = p.id[p.id.index("=") + 1:-1]
            ck = obs.get(f"E5.collapsed_kl_linear[sigma={sg}]")
            out.append(
                "  What the analysis missed: the rule is exact at the optimum; this run ends "
                f"{obs[f'E5.elbo_gap_linear[sigma={sg}]'].mean:.2f} nats above it (total KL "
                f"{obs[f'E5.rate_linear[sigma={sg}]'].mean:.2f} vs "
                f"{linear_optimum_kl(prep['eigenvalues'], float(sg), LINEAR_LATENT).sum():.2f} "
                "nats)" + ("" if ck is None else
                           f", and the directions predicted to collapse keep {ck.mean:.3f} nats "
                           "each on average")
                + f": against the {KL_THRESHOLD:g}-nat threshold, the count is decided by the "
                "optimizer's residual, not by the spectrum.")
        elif p.id.startswith("E5.mlp.active["):
            lab = p.id[p.id.index("[") + 1:-1]
            ck = obs.get(f"E5.collapsed_kl[{lab}]")
            out.append(
                f"  What the analysis missed: after {st['count_epochs']} epochs the dimensions "
                f"beyond the predicted {int(p.value)} still carry "
                f"{(ck.mean if ck else math.nan):.3f} nats each on average; the linear bound "
                "does not hold for this nonlinear decoder at this training length.")
        elif p.id == "E5.mlp.active_order":
            out.append(
                "  What the analysis missed: the counts at the common training length do not "
                "follow the spectrum rule's order; the count is a coarse proxy for the "
                "information in the code (see `E5.mlp.rate_order`).")
        elif p.id == "E5.mlp.rate_order":
            out.append(
                "  What the analysis missed: the monotonicity holds at the optimum of each "
                f"objective; at {st['epochs']} epochs the decoders are not at their optima, and "
                "the total KL does not fall monotonically with σ.")
        elif p.id in ("E5.blur.order", "E5.midgrey.order", "E5.bernoulli.blur_rank"):
            key = "midgrey" if p.id == "E5.midgrey.order" else "blur_ratio"
            bad = _discordant(per, prep["sigma_eff"], key)
            if bad:
                out.append("  Out of order (smaller σ but blurrier/greyer): " + "; ".join(
                    f"{a} ({va:.3f}) vs {b} ({vb:.3f})" for a, b, va, vb in bad) + ".")
            if any("bernoulli" in (a, b) for a, b, *_ in bad) or p.id == "E5.bernoulli.blur_rank":
                out.append(
                    f"  What the analysis missed: σ_eff = {prep['sigma_eff']:.3f} is the "
                    "Bernoulli's curvature at the zero-rate operating point; the trained decoder "
                    "errs where its own outputs sit, and there its Bernoulli variance, weighted "
                    f"by its squared errors, amounts to σ = "
                    f"{obs['E5.sigma_eff_posthoc[bernoulli]'].mean:.3f} (post hoc): a single σ "
                    "does not describe a likelihood whose curvature changes with the output by "
                    "orders of magnitude.")
            elif bad:
                out.append(
                    "  What the analysis missed: neighbouring σ differ in blur by less than the "
                    "training budget moves it (the decoders are compared after a fixed number "
                    "of epochs, the analysis compares optima).")
        elif p.id == "E5.learned.calibration":
            out.append("  What the analysis missed: σ follows the MSE only as fast as Adam moves "
                       "log σ (about the learning rate per step); the run ended before it "
                       "caught up.")
    return out
