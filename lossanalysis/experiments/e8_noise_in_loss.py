"""E8 -- where the asymmetry acts: noise inside the training loss.

The analysis (:func:`lossanalysis.analysis.noise_bias`) predicts a loss-specific lean of the mean
prediction only when the training loss averages over noise in the prediction that the model
cannot see and can only offset.  E4's deterministic AE has no such noise; here it is put inside
the loss (:class:`lossanalysis.nn.noise.NoisyOutput`: Gaussian noise of standard deviation
sigma added to the output logit, z + sigma e, or to the probability, p = sigmoid(z) + sigma e
clipped into [1e-4, 1 - 1e-4], with a fresh e at every step), and the lean is predicted before
anything is trained.

* **Free outputs** (``E8.free.*``): one free logit per target value, 16 grey levels k/255 near
  0.10, 0.15, ..., 0.90 (0.5 left out: it has no direction toward 1/2), trained with Adam on
  the noisy loss (``free_draws`` noise draws per level and step, decaying learning rate) from a
  random start (stream ``e8.start``).  Measured: E_e[p] - y at the fitted logit (exact:
  :meth:`~lossanalysis.nn.noise.NoisyOutput.expected_prediction`), signed toward 1/2 and
  averaged over the levels; predicted: the same average of noise_bias(loss, y, sigma, space).
  Consistency checks: the fit minimizes the very expected loss that noise_bias minimizes by
  quadrature (the probability-space sigmas keep y +- 5 sigma inside (0, 1) at every level, so
  the clipping acts with probability below 3e-7 and the analysis's bounded 10-point noise and
  the Gaussian agree to O(sigma^20)).
* **Autoencoders** (``E8.ae.*``): the AE of the pair (:mod:`.models`, same architecture,
  initialization, data order and epochs) trained with the noise inside its loss.  Its targets
  are uncertain given the code; for BCE and MSE (both affine in y) the noisy optimum for a
  target of conditional mean m is m + noise_bias(loss, m, sigma), so the network's mean
  prediction q = E_e[p] stands for m = g(q), the solution of m + noise_bias(m) = q.  What is
  cleanly predictable is therefore its calibration: binned by q, E[q - y | q] = q - g(q).
  Measured: the lean toward 1/2 of the errors q - y binned by q (bin pairs (c, 1 - c) of
  :mod:`.leans`, on the training images) *minus* the same lean of the noise-free twin (the
  pair's network of the same loss after Adam, which differs only in the noise), so that the
  calibration error a finite network has without noise (E4) cancels.  Predicted: the lean of
  q - g(q) at the bin centres.  In probability space only the bin pairs inside
  [5 sigma, 1 - 5 sigma] are judged (clipping below 3e-7 there; the darker pixels' outputs
  clip and carry no prediction).
* **VAEs** (``E8.vae.*``): the Bernoulli and the Gaussian (sigma = ``vae_sigma``) decoders of
  E5/E6 (the same networks).  Their sampled latent puts noise inside the loss, but the decoder
  *sees* it: for each latent sample h the optimum of either proper loss is E[x | h], not an
  offset of a noise it cannot observe.  Predicted (from properness, not from noise_bias): the
  decoder's output for each latent sample is calibrated -- no lean toward 1/2 in the errors
  p(h) - x binned by p(h), for both decoders.  The offset-only reading of noise_bias (BCE's
  latent-averaged mean E_h[p] on target, the Gaussian one leaning away from 1/2 at the measured
  logit spread) would instead apply to E_h[p]; that lean, and what the offset-only model
  predicts for it, are reported as observations.

Tolerances.  Rows with a noise contrast (free outputs, AEs): a quarter of the contrast the
set-up is built to detect, |lean(BCE) - lean(MSE)| predicted at that noise (the convention of
E1: an effect counts at four times the resolution).  The VAE rows (predicted 0, no contrast):
one grey level, 1/255.  Free-output rows are consistency checks, AE and VAE rows falsifiable.

Row ids follow :data:`lossanalysis.claims.evidence.CONTRACT`: ``E8.<model>.<space>.bce[...]``
are BCE's leans (read by the claims), MSE's are ``E8.<model>.mse_<space>[...]``; ``E8.vae.*``
is the Bernoulli decoder, ``E8.vae_gaussian.*`` the Gaussian one.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .. import analysis, plotting
from ..losses import sigmoid
from ..nn import AE, Adam, BiasOnly, train
from ..nn.noise import NoisyOutput
from . import models
from .figures import seeds_note, title
from .core import (CONSISTENCY, FALSIFIABLE, REFUTED, Measured, Observation, Prediction,
                   Revision, Task, bin_by_target, experiment_settings, frozen,
                   prediction_table, stated, stream, stream_entropy)
from .leans import (CENTRES, EDGES, PAIRS, RESOLUTION, by_prediction, calibration_lean,
                    finite_mean, pair_lean, pairs_from)

__all__ = ["LABEL", "NAME", "REVISIONS", "settings", "prepare", "tasks", "measure", "figure",
           "text", "LOSSES", "SPACES", "FREE_LEVELS", "CLIP_SIGMAS", "configs", "row_id",
           "aim_for_mean", "fit_noisy_free", "free_lean", "judged_pairs", "toward_half"]

LABEL = "E8"
NAME = "E8 Noise inside the training loss"
LOSSES = ("bce", "mse")
SPACES = ("logit", "prob")
#: Grey levels of the free outputs: k/255 nearest to 0.10, 0.15, ..., 0.90 without 0.5.
FREE_LEVELS = np.round(255 * np.concatenate([np.arange(0.10, 0.451, 0.05),
                                              np.arange(0.55, 0.901, 0.05)])) / 255
#: Probability-space noise is judged where y (or the bin) lies CLIP_SIGMAS sigmas inside (0, 1).
CLIP_SIGMAS = 5.0


def settings(cfg) -> dict:
    """E8's sizes (full or quick, overridden by ``cfg.extra["settings"]["E8"]``) with the AE
    pair's and the VAEs' settings, whose networks E8 shares or mirrors."""
    own = experiment_settings(
        cfg, LABEL,
        dict(free_draws=256, free_steps=1200, free_lr0=0.1, free_lr_end=1e-4,
             **_FULL_SIGMAS, p_min=1e-4,
             vae_sigma=0.5, latent_samples=16, n_vae=2000),
        dict(free_draws=128, free_steps=300, latent_samples=4, n_vae=500))
    return {"E8": own, "ae": models.ae_settings(cfg), "vae": models.vae_settings(cfg)}


def toward_half(y) -> np.ndarray:
    """+1 below 1/2, -1 above: the sign that makes a lean toward 1/2 positive."""
    return np.sign(0.5 - np.asarray(y, dtype=float))


def configs(s: dict, model: str) -> list:
    """[(index, space, sigma)] of the noise set-ups of ``model`` ("free" or "ae"); the index
    names the set-up's noise stream."""
    if model == "free":
        sig = [("logit", v) for v in s["free_logit_sigmas"]] + [("prob", v)
                                                               for v in s["free_prob_sigmas"]]
    else:
        sig = [("logit", v) for v in s["logit_sigmas"]] + [("prob", v) for v in s["prob_sigmas"]]
    return [(i, space, float(v)) for i, (space, v) in enumerate(sig)]


def row_id(model: str, loss: str, space: str, sigma: float) -> str:
    """The row id: BCE ``E8.<model>.<space>.bce[sigma=...]`` (read by the claims), MSE
    ``E8.<model>.mse_<space>[sigma=...]``.

    >>> row_id("ae", "bce", "prob", 0.05), row_id("free", "mse", "logit", 1.0)
    ('E8.ae.prob.bce[sigma=0.05]', 'E8.free.mse_logit[sigma=1]')
    """
    if loss == "bce":
        return f"E8.{model}.{space}.bce[sigma={sigma:g}]"
    return f"E8.{model}.{loss}_{space}[sigma={sigma:g}]"


#: The noise levels of a full run (the ids of :data:`REVISIONS`; :func:`settings` holds them).
_FULL_SIGMAS = {"free_logit_sigmas": (1.0, 2.0), "free_prob_sigmas": (0.01, 0.02),
                "logit_sigmas": (1.0, 2.0), "prob_sigmas": (0.02, 0.05)}
#: E8 was designed with pilot runs on seeds 40-42 in view.
REVISIONS = (
    Revision(tuple(row_id(model, loss, space, sg) for model in ("free", "ae")
                   for _, space, sg in configs(_FULL_SIGMAS, model) for loss in LOSSES)
             + ("E8.vae.bernoulli", "E8.vae_gaussian.per_sample"),
             "new experiment; its design -- the noise levels (logit 1 and 2, probability 0.02 "
             "and 0.05 for the AEs), the AEs measured by calibration against a noise-free twin "
             "on their training images, the VAE rows read per latent sample, the tolerance "
             "rule -- was chosen after pilot runs on seeds 40-42 had shown the numbers; the "
             "predicted values come from the analysis alone",
             "the first pilot showed that a noisy AE differs from its twin by more than an "
             "offset (so the pixel-wise comparison was dropped) and that the VAEs' "
             "latent-averaged mean leans toward 1/2 for both decoders (so the decoder, which "
             "sees its latent sample, is judged per sample)",
             "these rows' code on seeds 40-42, mean over seeds, MNIST / Fashion-MNIST: AE "
             "logit BCE +0.0032 / +0.0016 (sigma 1), +0.0066 / +0.0033 (sigma 2), MSE -0.0449 "
             "/ -0.0465, -0.0886 / -0.1019 (predicted -0.0507, -0.1092); AE probability BCE "
             "+0.0059 / +0.0028 (sigma 0.02, predicted +0.0009), +0.0170 / +0.0125 (sigma "
             "0.05, predicted +0.0037), MSE -0.0011 / +0.0001, -0.0040 / -0.0016; VAE per "
             "sample Bernoulli -0.0020 / -0.0079, Gaussian +0.0053 / -0.0051; free outputs "
             "within 1e-3 of noise_bias",
             commit="pilot, seeds 40-42"),
)


def judged_pairs(space: str, sigma: float) -> tuple:
    """The bin pairs judged for a set-up: all of :data:`.leans.PAIRS` in logit space; in
    probability space those inside [CLIP_SIGMAS sigma, 1 - CLIP_SIGMAS sigma]."""
    return PAIRS if space == "logit" else pairs_from(CLIP_SIGMAS * sigma)


# ----------------------------------------------------------------------------------------------
# Predictions
# ----------------------------------------------------------------------------------------------
def free_lean(loss, space, sigma, levels=FREE_LEVELS) -> float:
    """The predicted lean of the free outputs: mean over ``levels`` of
    sign(1/2 - y) noise_bias(loss, y, sigma, space).

    >>> abs(free_lean("bce", "logit", 1.0)) < 1e-15, free_lean("mse", "logit", 1.0) < 0
    (True, True)
    """
    b = np.asarray(analysis.noise_bias(loss, levels, sigma, space), dtype=float)
    return float(np.mean(toward_half(levels) * b))


def aim_for_mean(loss, c, sigma, space) -> float:
    """The conditional mean m whose noisy optimum has mean prediction ``c``:
    m + noise_bias(loss, m, sigma, space) = c (Brent's method; E[p] rises with m).

    >>> m = aim_for_mean("mse", 0.2, 1.0, "logit")
    >>> round(m + float(analysis.noise_bias("mse", m, 1.0, "logit")), 12)
    0.2
    """
    from scipy.optimize import brentq
    if space == "logit":
        lo, hi = 1e-9, 1 - 1e-9
    else:
        w = min(c, 1 - c) - CLIP_SIGMAS * sigma
        if not w > 0:
            raise ValueError(f"c={c!r} lies within {CLIP_SIGMAS:g} sigma of 0 or 1")
        lo, hi = c - w, c + w

    def f(m):
        return m + float(analysis.noise_bias(loss, m, sigma, space)) - c
    return float(brentq(f, lo, hi, xtol=1e-14, maxiter=200))


def predicted_bins(loss, space, sigma) -> np.ndarray:
    """Per bin centre c of :mod:`.leans` (NaN outside the judged pairs): the predicted
    E[q - y | q = c] = c - g(c) (:func:`aim_for_mean`)."""
    out = np.full(CENTRES.size, np.nan)
    for a, b in judged_pairs(space, sigma):
        for i in (a, b):
            c = float(CENTRES[i])
            out[i] = c - aim_for_mean(loss, c, sigma, space)
    return out


def _contrast_tolerance(leans: dict) -> float:
    return 0.25 * abs(leans["bce"] - leans["mse"])


def prepare(cfg, data) -> dict:
    """E8's predictions: noise_bias for the free outputs, the calibration of the noisy optimum
    for the AEs, properness for the VAEs (no training; module docstring)."""
    S = settings(cfg)
    s = S["E8"]
    P, free_pred, ae_pred, ae_bins = {}, {}, {}, {}
    tol_src = ("tolerance: a quarter of the contrast |lean(BCE) - lean(MSE)| predicted at this "
               "noise")
    for _, space, sg in configs(s, "free"):
        leans = {loss: free_lean(loss, space, sg) for loss in LOSSES}
        free_pred[space, sg] = leans
        for loss in LOSSES:
            P[f"free.{loss}.{space}.{sg:g}"] = Prediction(
                row_id("free", loss, space, sg), LABEL,
                f"free outputs trained with {loss.upper()} and {space}-space noise of sd {sg:g} "
                "inside the loss: the mean prediction lies where noise_bias puts it",
                f"mean over {FREE_LEVELS.size} grey levels of sign(1/2 - y)(E_e[p] - y) at the "
                "fitted logits (intensity; > 0: toward 1/2)", leans[loss],
                _contrast_tolerance(leans), "equal", CONSISTENCY,
                "the fit minimizes the expected loss that noise_bias minimizes by quadrature: a "
                "check of the noise injection and its gradient, not of the data",
                f"analysis.noise_bias({loss}, y, {sg:g}, '{space}'); {tol_src}")
    for _, space, sg in configs(s, "ae"):
        pairs = judged_pairs(space, sg)
        bins = {loss: predicted_bins(loss, space, sg) for loss in LOSSES}
        leans = {loss: float(np.mean(pair_lean(bins[loss], pairs))) for loss in LOSSES}
        ae_pred[space, sg], ae_bins[space, sg] = leans, bins
        where = ", ".join(f"({CENTRES[a]:g}, {CENTRES[b]:g})" for a, b in pairs)
        for loss in LOSSES:
            P[f"ae.{loss}.{space}.{sg:g}"] = Prediction(
                row_id("ae", loss, space, sg), LABEL,
                f"an AE trained with {loss.upper()} and {space}-space noise of sd {sg:g} inside "
                "the loss leans as its noisy optimum does: binned by its mean prediction q, "
                "E[q - y | q] = q - g(q)",
                f"mean over the prediction-bin pairs {where} of the lean toward 1/2 of q - y "
                "binned by q = E_e[p], minus the same for the noise-free twin, on the training "
                "images (intensity)", leans[loss], _contrast_tolerance(leans), "equal",
                FALSIFIABLE,
                "the AE's outputs share weights and see uncertain targets; nothing forces the "
                "trained network onto the per-pixel noisy optimum",
                f"g(q): m + analysis.noise_bias({loss}, m, {sg:g}, '{space}') = q at the bin "
                f"centres; {tol_src}")
    for name, lik in (("vae.bernoulli", "bernoulli"), ("vae_gaussian", "gaussian")):
        which = ("the Bernoulli decoder (BCE)" if lik == "bernoulli" else
                 f"the Gaussian decoder (sigma = {s['vae_sigma']:g}: MSE)")
        P[name] = Prediction(
            f"E8.{name}.per_sample" if lik == "gaussian" else "E8.vae.bernoulli", LABEL,
            f"{which} predicts the conditional mean given its latent sample: its outputs p(h) "
            "have no lean toward 1/2 when binned by p(h)",
            f"mean over the 4 prediction-bin pairs of the lean toward 1/2 of p(h) - x binned "
            f"by p(h), over {s['latent_samples']} latent samples h ~ q(h | x) of each of the "
            f"first {s['n_vae']} training images (intensity)", 0.0, RESOLUTION, "equal",
            FALSIFIABLE,
            "a decoder whose output carried noise it cannot see (the noise_bias picture) "
            "would not be calibrated per sample; one short of its optimum could lean either "
            "way",
            "properness: for each h the optimum of BCE or MSE is E[x | h] "
            "(analysis.optimal_prediction); tolerance one grey level (1/255)")
    P = {k: stated(cfg, v) for k, v in P.items()}
    return {"settings": S, "P": P, "predictions": list(P.values()), "free_pred": free_pred,
            "ae_pred": ae_pred, "ae_bins": ae_bins}


# ----------------------------------------------------------------------------------------------
# Measure
# ----------------------------------------------------------------------------------------------
def fit_noisy_free(loss, space, sigma, levels, z0, *, draws, steps, lr0, lr_end, seed,
                   p_min=1e-4):
    """Free logits z_j trained with Adam on the loss at the noisy prediction of target
    ``levels[j]`` (:class:`~lossanalysis.nn.noise.NoisyOutput`, ``draws`` fresh noise draws per
    level and step, learning rate decaying exponentially from ``lr0`` to ``lr_end``); returns
    (z, the term).

    >>> z, term = fit_noisy_free("bce", "logit", 1.0, np.array([0.3]), np.zeros(1), draws=256,
    ...                          steps=600, lr0=0.1, lr_end=1e-3, seed=0)
    >>> abs(float(term.expected_prediction(z)[0]) - 0.3) < 5e-3
    True
    """
    levels = np.asarray(levels, dtype=np.float64)
    term = NoisyOutput(loss, space, sigma, p_min=p_min, seed=seed)
    model = BiasOnly(levels.size, loss=term, dtype=np.float64)
    model.params["out.b"][...] = z0
    opt = Adam(model.params, lr=lr0, betas=(0.9, 0.99))
    decay = (lr_end / lr0) ** (1.0 / max(steps - 1, 1))
    x = np.ascontiguousarray(np.broadcast_to(levels, (int(draws), levels.size)))
    for t in range(int(steps)):
        opt.lr = lr0 * decay ** t
        _, g = model.loss_and_grads(x)
        opt.step(g)
    return model.params["out.b"].copy(), term


def _free_seed(s, seed, *, deps=None) -> dict:
    """Every free-output fit of one seed (task function)."""
    z0 = stream("e8.start", seed).normal(0.0, 2.0, FREE_LEVELS.size)
    out = {}
    for index, space, sg in configs(s, "free"):
        for k, loss in enumerate(LOSSES):
            z, term = fit_noisy_free(loss, space, sg, FREE_LEVELS, z0, draws=s["free_draws"],
                                     steps=s["free_steps"], lr0=s["free_lr0"],
                                     lr_end=s["free_lr_end"], p_min=s["p_min"],
                                     seed=stream_entropy("e8.noise", seed, 2 * index + k))
            err = term.expected_prediction(z) - FREE_LEVELS
            out[loss, space, sg] = {"error": err,
                                    "lean": float(np.mean(toward_half(FREE_LEVELS) * err))}
    return out


def _noisy_ae(ref, s_ae, loss, space, sigma, index, seed, p_min, *, deps=None) -> dict:
    """The AE of the pair trained with the noise inside its loss (task function)."""
    x = models.ae_training_images(ref, s_ae)
    term = NoisyOutput(loss, space, sigma, p_min=p_min,
                       seed=stream_entropy("e8.noise", seed, 100 + index))
    model = AE(s_ae["sizes"], loss=term, seed=stream_entropy("net.init", seed))
    t0 = time.perf_counter()
    hist = train(model, x, None, epochs=s_ae["epochs"], batch_size=s_ae["batch"],
                 lr=s_ae["lr"], seed=stream_entropy("net.train", seed), quiet=True)
    return {"params": model.get_params(), "train_loss": hist["train_loss"][-1],
            "seconds": time.perf_counter() - t0}


def _noisy_task(ref, s_ae, loss, space, sigma, index, seed, p_min) -> Task:
    return Task(("E8", "ae", ref.name, frozen(s_ae), loss, space, repr(sigma), float(p_min),
                 int(seed)), _noisy_ae, (ref, s_ae, loss, space, sigma, index, int(seed), p_min),
                cost=s_ae["epochs"] * s_ae["n_train"] * 1.5 / 4000.0,
                label=f"{ref.name} E8 seed {seed}: AE {loss} + {space} noise {sigma:g}")


def _ae_seed(ref, S, seed, *, deps) -> dict:
    """The AEs' calibration leans of one seed (task function)."""
    s, s_ae = S["E8"], S["ae"]
    x = models.ae_training_images(ref, s_ae)
    y = x.astype(np.float64)
    pair = deps[models.ae_pair_task(ref, s_ae, seed).key]
    twin = {}
    for loss in LOSSES:
        net = models.ae(s_ae, loss, pair[loss]["adam"], seed)
        a = sigmoid(net.logits(x).astype(np.float64))
        twin[loss] = {"bins": by_prediction(a, y)[0], "a": a}
    out = {}
    for index, space, sg in configs(s, "ae"):
        pairs = judged_pairs(space, sg)
        for loss in LOSSES:
            res = deps[_noisy_task(ref, s_ae, loss, space, sg, index, seed, s["p_min"]).key]
            net = models.ae(s_ae, loss, res["params"], seed)
            z = net.logits(x).astype(np.float64)
            term = NoisyOutput(loss, space, sg, p_min=s["p_min"])
            q = term.expected_prediction(z)
            bins = by_prediction(q, y)[0] - twin[loss]["bins"]
            lo, hi = EDGES[pairs[0][0]], EDGES[pairs[0][1] + 1]
            judged = (q >= lo) & (q <= hi)
            out[loss, space, sg] = {
                "bins": bins,
                "lean": float(np.mean(pair_lean(bins, pairs))),
                "lean_noisy": calibration_lean(q, y, pairs),
                "lean_twin": calibration_lean(twin[loss]["a"], y, pairs),
                "clip": float(np.mean(term.clip_probability(z[judged]))) if judged.any()
                else math.nan,
                "shift": float(np.mean(np.abs(q - twin[loss]["a"]))),
                "train_loss": res["train_loss"]}
    return out


def _vae_task(ref, st, lik, seed, sigma):
    return models.vae_task(ref, st, lik, seed, sigma=sigma if lik == "gaussian" else 1.0)


def _vae_seed(ref, S, seed, *, deps) -> dict:
    """Latent samples of the two decoders on the first training images (task function):
    per-sample calibration, the latent-averaged mean's calibration, the logit spread."""
    s, st = S["E8"], S["vae"]
    x = models.vae_training_images(ref, st)[:s["n_vae"]]
    y = x.astype(np.float64)
    out = {}
    for lik in ("bernoulli", "gaussian"):
        sig = s["vae_sigma"] if lik == "gaussian" else 1.0
        params = deps[_vae_task(ref, st, lik, seed, sig).key]["params"][st["epochs"]]
        model = models.vae(st, lik, params, sigma=sig, seed=seed)
        mu, logvar = model.encode(x)
        std = np.exp(0.5 * logvar)
        rng = stream("e8.latent", seed)
        nb = CENTRES.size
        sums, counts = np.zeros(nb), np.zeros(nb)
        z1, z2, p1 = np.zeros(y.shape), np.zeros(y.shape), np.zeros(y.shape)
        for _ in range(s["latent_samples"]):
            h = mu + std * rng.standard_normal(mu.shape, dtype=mu.dtype)
            z = model.decode(h, kind="logit").astype(np.float64)
            p = sigmoid(z)
            m, n = by_prediction(p, y)
            sums += np.nan_to_num(m) * n
            counts += n
            z1 += z
            z2 += z * z
            p1 += p
        k = s["latent_samples"]
        q = p1 / k
        spread = np.sqrt(np.maximum(z2 / k - (z1 / k) ** 2, 0) * k / max(k - 1, 1))
        with np.errstate(invalid="ignore"):
            per_sample = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        judged = (q >= EDGES[0]) & (q <= EDGES[-1])
        offset = math.nan
        if lik == "gaussian" and judged.any():
            # the offset-only reading: E_h[p] leans by noise_bias(mse, q, spread, logit)
            # (first order: at q rather than at g(q)); quantized to 0.01 and 0.1 logits
            qg = np.clip(np.round(q[judged] * 100) / 100, 0.01, 0.99)
            sg = np.round(spread[judged] * 10) / 10
            b = np.asarray(analysis.noise_bias("mse", qg, sg, "logit"), dtype=float)
            offset = float(np.mean(pair_lean(bin_by_target(q[judged], b, EDGES)[1])))
        out[lik] = {"per_sample": float(np.mean(pair_lean(per_sample))),
                    "per_sample_bins": per_sample, "mean_bins": by_prediction(q, y)[0],
                    "mean_lean": calibration_lean(q, y),
                    "spread": float(np.mean(spread[judged])) if judged.any() else math.nan,
                    "offset_model": offset}
    return out


def _keys(cfg, S, seed) -> dict:
    frz = frozen(S)
    return {part: ("E8", part, cfg.dataset, frz, int(seed)) for part in ("free", "ae", "vae")}


def tasks(cfg, prep, seeds) -> list:
    S = prep["settings"]
    s, s_ae, st = S["E8"], S["ae"], S["vae"]
    out = []
    for seed in seeds:
        keys = _keys(cfg, S, seed)
        out.append(Task(keys["free"], _free_seed, (s, int(seed)),
                        cost=len(configs(s, "free")) * 2 * s["free_steps"] * s["free_draws"]
                        * FREE_LEVELS.size / 1.5e7,
                        label=f"{cfg.dataset} E8 seed {seed}: free outputs"))
        pair = models.ae_pair_task(cfg.data, s_ae, seed)
        noisy = [_noisy_task(cfg.data, s_ae, loss, space, sg, index, seed, s["p_min"])
                 for index, space, sg in configs(s, "ae") for loss in LOSSES]
        out += [pair] + noisy
        out.append(Task(keys["ae"], _ae_seed, (cfg.data, S, int(seed)),
                        deps=(pair.key,) + tuple(t.key for t in noisy),
                        cost=len(noisy) * s_ae["n_train"] / 8000.0,
                        label=f"{cfg.dataset} E8 seed {seed}: AEs measured"))
        vaes = [_vae_task(cfg.data, st, lik, seed, s["vae_sigma"])
                for lik in ("bernoulli", "gaussian")]
        out += vaes
        out.append(Task(keys["vae"], _vae_seed, (cfg.data, S, int(seed)),
                        deps=tuple(t.key for t in vaes),
                        cost=2 * s["latent_samples"] * s["n_vae"] / 20000.0,
                        label=f"{cfg.dataset} E8 seed {seed}: VAEs measured"))
    return out


def measure(cfg, prep, seeds, done) -> Measured:
    S = prep["settings"]
    s = S["E8"]
    seeds = tuple(seeds)
    got = {part: [done[_keys(cfg, S, seed)[part]] for seed in seeds]
           for part in ("free", "ae", "vae")}
    values, obs = {}, {}
    for _, space, sg in configs(s, "free"):
        for loss in LOSSES:
            values[row_id("free", loss, space, sg)] = [d[loss, space, sg]["lean"]
                                                       for d in got["free"]]
    for _, space, sg in configs(s, "ae"):
        for loss in LOSSES:
            rid = row_id("ae", loss, space, sg)
            values[rid] = [d[loss, space, sg]["lean"] for d in got["ae"]]
            for key in ("lean_noisy", "lean_twin", "clip", "shift"):
                obs[f"{rid}:{key}"] = Observation(
                    tuple(float(d[loss, space, sg][key]) for d in got["ae"]), seeds,
                    "intensity" if key != "clip" else "probability")
    values["E8.vae.bernoulli"] = [d["bernoulli"]["per_sample"] for d in got["vae"]]
    values["E8.vae_gaussian.per_sample"] = [d["gaussian"]["per_sample"] for d in got["vae"]]
    for lik in ("bernoulli", "gaussian"):
        for key, unit in (("mean_lean", "intensity"), ("spread", "logit")):
            obs[f"E8.vae_{key}[{lik}]"] = Observation(
                tuple(float(d[lik][key]) for d in got["vae"]), seeds, unit)
    obs["E8.vae_offset_model[gaussian]"] = Observation(
        tuple(float(d["gaussian"]["offset_model"]) for d in got["vae"]), seeds, "intensity")
    extra = {
        "free": {k: np.mean([d[k]["error"] for d in got["free"]], axis=0)
                 for k in got["free"][0]},
        "ae": {k: finite_mean([d[k]["bins"] for d in got["ae"]], axis=0) for k in got["ae"][0]},
        "vae": {lik: {b: finite_mean([d[lik][b] for d in got["vae"]], axis=0)
                      for b in ("per_sample_bins", "mean_bins")}
                for lik in ("bernoulli", "gaussian")}}
    return Measured(values, seeds, {}, obs, extra)


# ----------------------------------------------------------------------------------------------
# Figure
# ----------------------------------------------------------------------------------------------
def _legend_handles(sigmas) -> list:
    """Proxy handles: the two losses by colour, the noise levels by dash and marker."""
    from matplotlib.lines import Line2D
    out = [Line2D([], [], color=plotting.color(loss), label=plotting.display_name(loss))
           for loss in LOSSES]
    out += [Line2D([], [], color="0.3", ls=_STYLES[j], marker=_MARKERS[j], ms=2.6,
                   label=f"σ = {sg:g}") for j, sg in enumerate(sigmas)]
    out += [Line2D([], [], color="0.3", lw=0.8, label="predicted (lines)"),
            Line2D([], [], color="0.3", ls="none", marker="o", ms=2.6,
                   label="measured (markers)")]
    return out


_STYLES = ("-", (0, (4, 1.5)))
_MARKERS = ("o", "x")


@plotting.style()
def figure(cfg, prep, measured):
    """(a, b) free outputs in logit / probability space; (c, d) the AEs' calibration against
    their twins; (e) the VAEs, per latent sample and averaged over samples.  Lines: the
    analysis; markers: measured."""
    s = prep["settings"]["E8"]
    fig, _ = plotting.figure(0, 0, columns=2, height=7.8)
    rows = fig.subfigures(3, 1, height_ratios=(1, 1, 0.9))
    subs = list(rows[0].subfigures(1, 2)) + list(rows[1].subfigures(1, 2)) + [rows[2]]
    axes = [sub.subplots() for sub in subs]
    y = np.linspace(0.1, 0.9, 81)
    for k, space in enumerate(SPACES):
        ax = axes[k]
        sigmas = [sg for _, sp, sg in configs(s, "free") if sp == space]
        for j, sg in enumerate(sigmas):
            for loss in LOSSES:
                ax.plot(y, analysis.noise_bias(loss, y, sg, space), color=plotting.color(loss),
                        ls=_STYLES[j], lw=0.8)
                ax.plot(FREE_LEVELS, measured.extra["free"][loss, space, sg], ls="none",
                        marker=_MARKERS[j], ms=2.6, color=plotting.color(loss))
        plotting.guides(ax, y=[0], x=[0.5])
        ax.set_xlabel(plotting.axis_label("target y", "intensity"))
        ax.set_ylabel(plotting.axis_label("E[p] − y over the noise", "intensity"))
        ax.set_title(f"({'ab'[k]}) free outputs, {space}-space noise")
        plotting.panel_legend(subs[k], _legend_handles(sigmas))
    for k, space in enumerate(SPACES):
        ax = axes[2 + k]
        sigmas = [sg for _, sp, sg in configs(s, "ae") if sp == space]
        for j, sg in enumerate(sigmas):
            for loss in LOSSES:
                pred = prep["ae_bins"][space, sg][loss]
                ok = np.isfinite(pred)
                ax.plot(CENTRES[ok], pred[ok], color=plotting.color(loss), ls=_STYLES[j],
                        lw=0.8)
                ax.plot(CENTRES[ok], measured.extra["ae"][loss, space, sg][ok], ls="none",
                        marker=_MARKERS[j], ms=2.6, color=plotting.color(loss))
        plotting.guides(ax, y=[0], x=[0.5])
        ax.set_xlabel(plotting.axis_label("mean prediction q (bin centre)", "intensity"))
        ax.set_ylabel(plotting.axis_label("E[q − y | q]: noisy − twin", "intensity"))
        ax.set_title(f"({'cd'[k]}) AEs, {space}-space noise")
        plotting.panel_legend(subs[2 + k], _legend_handles(sigmas))
    ax = axes[4]
    for lik, loss in (("bernoulli", "bce"), ("gaussian", "mse")):
        name = plotting.display_name(lik)
        v = measured.extra["vae"][lik]
        ax.plot(CENTRES, v["per_sample_bins"], color=plotting.color(loss), marker="o", ms=2.4,
                label=f"{name}: each latent sample")
        ax.plot(CENTRES, v["mean_bins"], color=plotting.color(loss), ls=_STYLES[1], marker="x",
                ms=2.6, label=f"{name}: mean over samples")
    plotting.guides(ax, y=[0], x=[0.5])
    ax.set_xlabel(plotting.axis_label("prediction (bin centre)", "intensity"))
    ax.set_ylabel(plotting.axis_label("mean prediction − x", "intensity"))
    ax.set_title("(e) VAEs, binned by the prediction")
    plotting.panel_legend(subs[4])
    title(fig, LABEL, cfg.dataset, "noise inside the training loss",
          "mean over " + seeds_note(measured.seeds))
    return fig


# ----------------------------------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------------------------------
def text(cfg, prep, measured, rows) -> str:
    S = prep["settings"]
    s, s_ae = S["E8"], S["ae"]
    obs = measured.observations
    by = {r.id: r for r in rows}

    def m(key):
        return obs[key].mean
    lines = [
        f"### {NAME} ({cfg.dataset})", "",
        f"Setup: Gaussian noise inside the loss, in the logit (z + σe) or in the probability "
        f"(sigmoid(z) + σe clipped into [{s['p_min']:g}, {1 - s['p_min']:g}]), fresh at every "
        f"step.  Free outputs: {FREE_LEVELS.size} grey levels from {FREE_LEVELS[0]:.3f} to "
        f"{FREE_LEVELS[-1]:.3f}, {s['free_steps']} Adam steps of {s['free_draws']} draws "
        f"each.  AEs: the pair's architecture ({'-'.join(map(str, s_ae['sizes']))}-...-784), "
        f"initialization, data order and {s_ae['epochs']} epochs on its {s_ae['n_train']} "
        "training images, with the noise; measured against the noise-free twin (the pair's "
        "network after Adam) on the training images.  VAEs: E5/E6's Bernoulli and Gaussian "
        f"(σ = {s['vae_sigma']:g}) decoders, {s['latent_samples']} latent samples of each of "
        f"{s['n_vae']} training images.  Seeds {', '.join(map(str, measured.seeds))}.", ""]
    lines += prediction_table(rows)
    lines += ["", "Findings:", ""]
    free = [r for r in rows if r.id.startswith("E8.free.")]
    ok = sum(r.verdict == "confirmed" for r in free)
    lines.append(f"* Free outputs: {ok} of {len(free)} set-ups land where noise_bias puts the "
                 "mean prediction (" + "; ".join(f"`{r.id}` {r.mean:+.5f} against "
                                                 f"{r.prediction.value:+.5f}" for r in free)
                 + ").")
    for space in SPACES:
        lines.append("* " + _ae_line(s, by, space, obs))
    lines.append("* " + _vae_line(by, obs, s))
    missed = _missed(rows)
    if missed:
        lines.append(missed)
    return "\n".join(lines) + "\n"


def _missed(rows) -> str:
    """What the analysis missed, from this run's refuted rows ('' when none is refuted)."""
    refuted = [r for r in rows if r.verdict == REFUTED]
    if not refuted:
        return ""
    parts = [f"`{r.id}` by {r.mean - r.prediction.value:+.4f}" for r in refuted]
    text = ("* What the analysis missed: measured minus predicted " + ", ".join(parts) + ".")
    if any(r.id.startswith("E8.ae.") for r in refuted):
        text += ("  The prediction is the per-pixel noisy optimum of an output free to take it; "
                 "the AE's outputs share weights and are fitted for a fixed number of epochs on "
                 "gradients that the noise itself makes noisier, and none of that is in the "
                 "analysis.")
    if any(r.id.startswith("E8.vae") for r in refuted):
        text += ("  A decoder short of E[x | h] is not calibrated per latent sample; properness "
                 "says where its optimum lies, not that training reaches it.")
    if any(r.id.startswith("E8.free.") for r in refuted):
        text += ("  A free-output row is a check of the code: its failure means the noise "
                 "injection or its gradient is wrong, not the analysis.")
    return text


def _ae_line(s, by, space, obs) -> str:
    parts = []
    for _, sp, sg in configs(s, "ae"):
        if sp != space:
            continue
        for loss in LOSSES:
            r = by[row_id("ae", loss, sp, sg)]
            parts.append(f"{loss.upper()} σ = {sg:g}: {r.mean:+.4f} against "
                         f"{r.prediction.value:+.4f} (**{r.verdict}**)")
    head = (f"AEs with {space}-space noise, lean toward ½ of the calibration against the twin: "
            + "; ".join(parts) + ".")
    bce = [(sg, by[row_id("ae", "bce", sp, sg)]) for _, sp, sg in configs(s, "ae")
           if sp == space]
    above = [(sg, r) for sg, r in bce if r.verdict == REFUTED and r.mean > r.prediction.value]
    if above:
        head += ("  BCE leans further toward ½ than its noisy optimum predicts ("
                 + ", ".join(f"{r.mean - r.prediction.value:+.4f} at σ = {sg:g}"
                             for sg, r in above) + ").")
    return head


def _vae_line(by, obs, s) -> str:
    rb, rg = by["E8.vae.bernoulli"], by["E8.vae_gaussian.per_sample"]
    mb, mg = obs["E8.vae_mean_lean[bernoulli]"].mean, obs["E8.vae_mean_lean[gaussian]"].mean
    off = obs["E8.vae_offset_model[gaussian]"].mean
    text = (f"VAEs, per latent sample: Bernoulli {rb.mean:+.4f} (**{rb.verdict}**), Gaussian "
            f"{rg.mean:+.4f} (**{rg.verdict}**).  Averaged over the latent samples, "
            f"E_h[p] binned by itself leans {'toward' if mb > 0 else 'away from'} ½ by "
            f"{abs(mb):.4f} (Bernoulli) and {'toward' if mg > 0 else 'away from'} ½ by "
            f"{abs(mg):.4f} (Gaussian; mean logit spread over the samples "
            f"{obs['E8.vae_spread[gaussian]'].mean:.2f}).  The offset-only reading of noise_bias "
            f"would have put the Gaussian decoder's lean at {off:+.4f} and the Bernoulli one's "
            "at 0")
    if mb > RESOLUTION and mg > RESOLUTION:
        text += ("; both lean toward ½ instead: the decoder sees its latent sample and predicts "
                 "E[x | h], and averaging those over the posterior smooths the prediction "
                 "toward the middle whatever the likelihood.")
    else:
        text += "."
    return text
