"""E4 -- asymmetry in the errors: what BCE's asymmetric cost does to an autoencoder's errors.

The networks: the AE pair (:mod:`.models`, shared with E3), two AEs of identical architecture,
initialization and data order, trained with MSE and with BCE.
Per bin of the target intensity y (test images): the mean signed error p - y, the mean absolute
error and the fraction of errors that point toward 1/2.

What the analysis predicts for the BCE-minus-MSE differences.  Both losses are proper (argmin =
y; both are Bregman divergences, so for a target that is uncertain given the input both are
minimized by its conditional mean, E1.noisy), so a loss-specific lean can appear only through
noise in the *prediction* (:func:`lossanalysis.analysis.noise_bias`): a model whose output
carries noise it cannot remove, and which can only shift it, chooses the offset that minimizes
the expected loss.

* Which spread.  The error p - y of a trained AE in a bin has two parts: the target's
  uncertainty given what the 16-number code keeps (the same for every seed: a property of the
  data and the architecture), for which properness predicts no BCE - MSE difference at all,
  and the network's own prediction noise.  The noise model concerns only the second.  It is
  estimated by the seed-to-seed disagreement of the MSE networks: for seeds a != b,
  sigma_pred^2 = mean over the bin's pixels of (z_a - z_b)^2 / 2 (logit; in probability for
  the probability-space model).  The bin's total error spread (the earlier version's input)
  counts the target uncertainty as prediction noise and overstates sigma about twofold.
  sigma_pred needs at least two seeds; with one the predictions are NaN (inconclusive).
* Noise model: **in the logit**, z = logit(y) + c + sigma e, e ~ N(0, 1).  The network's last
  layer is affine in z, so its errors are additive there; then BCE's mean is exactly unbiased
  (E[p] = y: the canonical link) and MSE's is pushed away from 1/2 by
  -sigma^2 y(1 - y)(1 - 2y) + O(sigma^4), so BCE - MSE points toward 1/2.  The predicted BCE
  outputs are the MSE network's own logits shifted by the difference of the two optimal offsets,
  delta(y) = noise_offset(bce, y, sigma_pred) - noise_offset(mse, y, sigma_pred)
  (:func:`analysis.noise_offset`); the predicted differences in mean signed error and in the
  fraction of errors toward 1/2 are those of the shifted outputs against the unshifted ones, so
  the measured error distribution of each bin (not a Gaussian) decides how many errors cross
  zero.  Under the pure noise model this is exactly noise_bias(bce) - noise_bias(mse).
* For comparison, the probability-space model (p = y + c + sigma e): BCE biased toward 1/2 by
  -sigma^2 (2y - 1)/(y(1 - y)), MSE unbiased; used at leading order
  (:func:`analysis.noise_bias_series`), the MSE outputs shifted by it and clipped to [0, 1].
* What is compared.  Both models predict a lean *toward 1/2*: antisymmetric about 1/2 in the
  signed error (positive below 1/2, negative above), symmetric in the toward-1/2 fraction.  A
  uniform brightness offset between the two networks -- each seed's MSE network has its own
  calibration in the large (E3), and it moves every bin alike by up to 0.01 -- is neither, and
  in single bins it outweighs the predicted lean's sign.  So the bins are paired, (y, 1 - y)
  for y = 0.1, ..., 0.4, and the predictions judge the lean of each pair:
  1/2 [d(y) - d(1 - y)] for the signed error, 1/2 [d(y) + d(1 - y)] for the toward fraction
  (d = BCE - MSE), which cancel any uniform offset.

The asymmetry ratio (:func:`analysis.asymmetry_ratio`) says the same in words: BCE charges more
for an error toward 0 or 1 than for one toward 1/2, so under noise it leans toward 1/2 relative
to MSE.  Whether the data show that lean is what is measured.  All four predictions are
falsifiable.
"""
from __future__ import annotations

import math

import numpy as np

from .. import analysis, plotting
from ..losses import logit, sigmoid
from . import models
from .core import (FALSIFIABLE, REFUTED, Measured, Observation, Prediction, Revision, Task,
                   bin_by_target, dataset, eval_subset, experiment_settings, frozen,
                   prediction_table, stated)
from .images import blur_stats

__all__ = ["LABEL", "NAME", "REVISIONS", "settings", "prepare", "tasks", "measure", "figure",
           "text", "EDGES", "PAIRS", "AIM_GRID", "bin_stats", "prediction_noise",
           "offset_tables", "predicted_differences", "pair_lean", "slope", "toward_half"]

LABEL = "E4"
NAME = "E4 Asymmetry in the errors"
#: Predictions changed after an earlier run had measured them (listed in the report).
REVISIONS = (
    Revision(("E4.signed.sign",),
             "the sign is judged on bin pairs (y, 1 - y), the part of BCE - MSE that is "
             "antisymmetric about 1/2, instead of bin by bin",
             "each MSE network's uniform offset (its calibration in the large, E3) was larger "
             "than the per-bin pattern and decided the per-bin signs",
             "per bin: 0.417 ± 0.14 of 8 bins with the predicted sign (predicted 1), refuted",
             old_seeds=(("E4.signed.sign", "mnist",
                         "0.25, 0, 0; mean 0.08333, refuted by the mean"),
                        ("E4.signed.sign", "fashion-mnist",
                         "1, 1, 1; mean 1, confirmed by the mean"))),
    Revision(("E4.signed.size.logit", "E4.signed.size.prob", "E4.toward.size.logit"),
             "the noise in the noise-bias model is the seed-to-seed spread of the MSE networks' "
             "outputs (1.1 logits on MNIST), evaluated at the networks' aim, instead of each "
             "bin's total error spread (2.05 logits)",
             "most of the error spread is the target's uncertainty given the code, shared by "
             "both losses, for which both proper losses are minimized by the conditional mean",
             "slopes -0.0142 ± 0.0048, -0.0057 ± 0.0023, 0.0105 ± 0.015 (predicted 1 ± 0.5), "
             "all refuted",
             old_seeds=(
                 ("E4.signed.size.logit", "mnist",
                  "-0.03055, -0.05862, -0.06629; mean -0.05182, refuted by the mean"),
                 ("E4.signed.size.logit", "fashion-mnist",
                  "0.335, 0.4424, 0.234; mean 0.3371, refuted by the mean"),
                 ("E4.signed.size.prob", "mnist",
                  "-0.01269, -0.02265, -0.02519; mean -0.02018, refuted by the mean"),
                 ("E4.signed.size.prob", "fashion-mnist",
                  "0.1326, 0.1741, 0.08048; mean 0.129, refuted by the mean"),
                 ("E4.toward.size.logit", "mnist",
                  "0.02573, -0.009739, 0.03988; mean 0.01862, refuted by the mean"),
                 ("E4.toward.size.logit", "fashion-mnist",
                  "0.1805, 0.4061, 0.1528; mean 0.2465, refuted by the mean"))),
)
#: Interior bins of width 0.1 centred on 0.1, ..., 0.9 (predictions need 0 < y < 1); the
#: pixels below 0.05 and above 0.95 are reported but carry no prediction.
EDGES = np.round(np.arange(0.05, 0.951, 0.1), 10)
CENTRE_BIN = 4                      # [0.45, 0.55): no direction to predict
#: The bins (y, 1 - y) whose lean is judged: centres (0.1, 0.9), (0.2, 0.8), (0.3, 0.7),
#: (0.4, 0.6).
PAIRS = ((0, 8), (1, 7), (2, 6), (3, 5))


def settings(cfg) -> dict:
    """E4 uses the AE pair's settings (:func:`.models.ae_settings`)."""
    return experiment_settings(cfg, LABEL, {"ae": models.ae_settings(cfg)})


def toward_half(y, p) -> np.ndarray:
    """True where the error p - y points toward 1/2 (False at y = 1/2 and for p = y)."""
    return (np.sign(0.5 - y) * np.sign(p - y)) > 0


def _bin_index(y):
    """(mask of the pixels inside the interior bins, their bin index)."""
    inside = (y >= EDGES[0]) & (y <= EDGES[-1])
    idx = np.clip(np.searchsorted(EDGES, y[inside], side="right") - 1, 0, len(EDGES) - 2)
    return inside, idx


def bin_stats(y, p, z):
    """Per interior bin: mean signed error, mean |error|, toward-1/2 fraction, the logit and
    probability spreads of the errors around the target, pixel counts."""
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    z = np.asarray(z, dtype=np.float64).ravel()
    keep = (y >= EDGES[0]) & (y <= EDGES[-1])
    y, p, z = y[keep], p[keep], z[keep]
    err = p - y
    with np.errstate(divide="ignore"):
        zerr = z - logit(y)
    out = {}
    for key, v in (("signed", err), ("abs", np.abs(err)),
                   ("toward", toward_half(y, p).astype(float)),
                   ("zerr", zerr), ("zerr2", zerr * zerr), ("err2", err * err)):
        _, out[key], counts = bin_by_target(y, v, EDGES)
    out["counts"] = counts
    out["sigma_logit"] = np.sqrt(np.maximum(out["zerr2"] - out["zerr"] ** 2, 0))
    out["sigma_prob"] = np.sqrt(np.maximum(out["err2"] - out["signed"] ** 2, 0))
    return out


def reliability(y, p, edges=np.linspace(0, 1, 11), min_count=1000):
    """Binned by the *prediction*: mean target minus mean prediction per bin (bins with at
    least ``min_count`` pixels); returns (centres, differences, counts)."""
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    c, d, n = bin_by_target(p, y - p, edges)
    return c, np.where(n >= min_count, d, np.nan), n


def prediction_noise(y, outputs) -> np.ndarray:
    """Per interior bin, the prediction noise of networks that differ only in their seed:
    sqrt(mean over seed pairs a < b of mean_bin (o_a - o_b)^2 / 2), ``outputs`` a list of
    arrays (logits or probabilities) on the same pixels ``y``.  The target's uncertainty given
    the input is common to all seeds and cancels; what remains is the noise of the networks'
    own predictions.  NaN for fewer than two seeds."""
    y = np.asarray(y, dtype=np.float64).ravel()
    nb = len(EDGES) - 1
    outs = [np.asarray(o, dtype=np.float64).ravel() for o in outputs]
    if len(outs) < 2:
        return np.full(nb, np.nan)
    acc = np.zeros(nb)
    n_pairs = 0
    for i in range(len(outs)):
        for j in range(i + 1, len(outs)):
            d = outs[i] - outs[j]
            acc += np.nan_to_num(bin_by_target(y, d * d, EDGES)[1])
            n_pairs += 1
    return np.sqrt(acc / n_pairs / 2)


#: The aim m of a pixel (the noise model's noiseless output) is quantized to this grid for
#: the offset tables (its effect on the offsets is far below their seed-to-seed spread).
AIM_GRID = 1000


def offset_tables(y, aim, sigma_logit, sigma_prob):
    """The analysis' BCE-minus-MSE shifts for the pixels of the interior bins:
    (delta_logit, delta_prob), one value per such pixel (in the order of ``y[inside]``).

    * delta_logit = noise_offset(bce, m, s) - noise_offset(mse, m, s) in logit space
      (:func:`analysis.noise_offset`), s = sigma_logit of the pixel's target bin and m its
      ``aim``, the output the network would give without its prediction noise (estimated by the
      seed mean of the MSE networks' outputs; quantized to 1/:data:`AIM_GRID`).  The noise
      model's "y" is what the network aims at: for a target that is uncertain given the input,
      the conditional mean, not the target.
    * delta_prob = noise_bias_series(bce, y, s) - noise_bias_series(mse, y, s) in probability
      space at the pixel's target level y, s = sigma_prob of its bin (the comparison model at
      leading order; at the aim its 1/(m(1 - m)) would diverge on the many dark aims).

    NaN where a sigma is not finite (fewer than two seeds)."""
    y = np.asarray(y, dtype=np.float64).ravel()
    inside, idx = _bin_index(y)
    yi = y[inside]
    mi = np.clip(np.rint(np.asarray(aim, dtype=np.float64).ravel()[inside] * AIM_GRID),
                 1, AIM_GRID - 1) / AIM_GRID
    d_logit = np.full(yi.shape, np.nan)
    d_prob = np.full(yi.shape, np.nan)
    for b in np.unique(idx):
        sel = idx == b
        sl, sp = float(sigma_logit[b]), float(sigma_prob[b])
        if math.isfinite(sl):
            lv, inv = np.unique(mi[sel], return_inverse=True)
            d = (np.asarray(analysis.noise_offset("bce", lv, sl, "logit"))
                 - np.asarray(analysis.noise_offset("mse", lv, sl, "logit")))
            d_logit[sel] = np.atleast_1d(d)[inv.ravel()]
        if math.isfinite(sp):
            lv, inv = np.unique(yi[sel], return_inverse=True)
            d = (np.asarray(analysis.noise_bias_series("bce", lv, sp, "prob"))
                 - np.asarray(analysis.noise_bias_series("mse", lv, sp, "prob")))
            d_prob[sel] = np.atleast_1d(d)[inv.ravel()]
    return d_logit, d_prob


def predicted_differences(y, z_mse, tables):
    """BCE - MSE per interior bin predicted from the MSE network's own outputs ``z_mse``
    (logits) shifted by the analysis' offsets (``tables`` from :func:`offset_tables`):
    {"signed_logit": mean of sigmoid(z + delta_logit) - sigmoid(z), "toward_logit": the same
    for the toward-1/2 indicator, "signed_prob": mean of clip(p + delta_prob, 0, 1) - p}.
    Under the pure noise model (z = logit(m) + c_mse + noise) the first is exactly
    noise_bias(bce, m) - noise_bias(mse, m)."""
    y = np.asarray(y, dtype=np.float64).ravel()
    z = np.asarray(z_mse, dtype=np.float64).ravel()
    d_logit, d_prob = tables
    inside, _ = _bin_index(y)
    yi, zi = y[inside], z[inside]
    p = sigmoid(zi)
    p_logit = sigmoid(zi + d_logit)
    p_prob = np.clip(p + d_prob, 0.0, 1.0)
    out = {}
    out["signed_logit"] = bin_by_target(yi, p_logit - p, EDGES)[1]
    out["toward_logit"] = bin_by_target(
        yi, toward_half(yi, p_logit).astype(float) - toward_half(yi, p).astype(float), EDGES)[1]
    out["signed_prob"] = bin_by_target(yi, p_prob - p, EDGES)[1]
    return out


def pair_lean(d, kind: str) -> np.ndarray:
    """The lean toward 1/2 of each bin pair (y, 1 - y) of :data:`PAIRS` from per-bin BCE - MSE
    differences ``d``: "signed": 1/2 [d(y) - d(1 - y)] (the antisymmetric part); "toward":
    1/2 [d(y) + d(1 - y)] (the symmetric part).  Either cancels a uniform offset between the
    two networks; positive = BCE leans toward 1/2 of MSE."""
    d = np.asarray(d, dtype=float)
    lo, hi = d[[a for a, _ in PAIRS]], d[[b for _, b in PAIRS]]
    if kind == "signed":
        return 0.5 * (lo - hi)
    if kind == "toward":
        return 0.5 * (lo + hi)
    raise ValueError(f"kind must be 'signed' or 'toward', got {kind!r}")


def slope(measured, predicted, bins=None):
    """Least-squares slope through the origin of measured on predicted (over ``bins`` if
    given); NaN when nothing finite is predicted."""
    m, p = np.asarray(measured, dtype=float), np.asarray(predicted, dtype=float)
    if bins is not None:
        m, p = m[bins], p[bins]
    ok = np.isfinite(m) & np.isfinite(p)
    den = float(p[ok] @ p[ok])
    return float(m[ok] @ p[ok]) / den if den > 0 else math.nan


def _sign_agreement(measured, predicted) -> float:
    m, p = np.asarray(measured, dtype=float), np.asarray(predicted, dtype=float)
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(p))):
        return math.nan
    return float(np.mean(np.sign(m) == np.sign(p)))


# ----------------------------------------------------------------------------------------------
# Predictions
# ----------------------------------------------------------------------------------------------
def prepare(cfg, data) -> dict:
    """E4's predictions: fixed without data (their values are slopes and a sign fraction; the
    predicted leans themselves need the networks' seed-to-seed noise, see the docstring)."""
    n = len(PAIRS)
    noise = ("prediction noise sigma_pred = seed-to-seed disagreement of the MSE networks per "
             "bin (module docstring)")
    why = ("a deterministic AE may not hedge against noise it never sees in training; the "
           "measured lean could be absent or reversed")
    P = {
        "sign": Prediction(
            "E4.signed.sign", LABEL,
            "BCE's mean signed error leans toward 1/2 of MSE's in every pair of bins (y, 1 - y) "
            "(logit-space noise model)",
            f"fraction of the {n} bin pairs (y, 1 - y), y = 0.1 ... 0.4, where the antisymmetric "
            "part 1/2 [d(y) - d(1 - y)] of d = BCE - MSE has the predicted sign", 1.0, 0.25,
            "equal", FALSIFIABLE, why,
            "sign of the shift noise_offset(bce) - noise_offset(mse) in logit space with "
            f"{noise}; tolerance 1 of {n} pairs: in the pair (0.4, 0.6) the predicted lean "
            "y(1 - y)(1 - 2y) is half its maximum and the smallest, so seed noise may flip it"),
        "slope_logit": Prediction(
            "E4.signed.size.logit", LABEL,
            "the size of BCE's lean toward 1/2 in mean signed error follows the logit-space "
            "noise model with the prediction noise",
            f"slope through the origin of measured on predicted antisymmetric parts over the {n} "
            "bin pairs", 1.0, 0.5, "equal", FALSIFIABLE, why,
            f"analysis.noise_offset(loss, y, sigma_pred, 'logit'), {noise}; tolerance 50% of "
            "the predicted effect"),
        "slope_prob": Prediction(
            "E4.signed.size.prob", LABEL,
            "the same with the probability-space noise model (leading order)",
            f"slope through the origin of measured on predicted antisymmetric parts over the {n} "
            "bin pairs", 1.0, 0.5, "equal", FALSIFIABLE, why,
            f"analysis.noise_bias_series(loss, y, sigma_pred, 'prob'), {noise} in probability; "
            "tolerance 50%"),
        "toward": Prediction(
            "E4.toward.size.logit", LABEL,
            "the BCE - MSE difference in the fraction of errors pointing toward 1/2 follows "
            "the logit-space noise model",
            f"slope through the origin of measured on predicted symmetric parts "
            f"1/2 [d(y) + d(1 - y)] over the {n} bin pairs", 1.0, 0.5, "equal", FALSIFIABLE, why,
            "the MSE network's errors shifted by noise_offset(bce) - noise_offset(mse) "
            f"(logit), {noise}; tolerance 50%"),
    }
    P = {k: stated(cfg, v) for k, v in P.items()}
    return {"settings": settings(cfg), "P": P, "predictions": list(P.values())}


# ----------------------------------------------------------------------------------------------
# Measure
# ----------------------------------------------------------------------------------------------
def _regression(c, signed):
    """Slope of the mean signed error on the target (-1: the output ignores the target, 0:
    no regression toward the middle)."""
    c = np.asarray(c) - np.mean(c)
    return float(c @ (np.asarray(signed) - np.mean(signed)) / (c @ c))


def _measure_all(ref, s, seeds, *, deps) -> dict:
    """Every E4 measurement from the AE pairs of all ``seeds`` (task function): the prediction
    noise is their seed-to-seed disagreement, so the seeds are measured together."""
    x_eval = eval_subset(dataset(ref).x_test, s["n_eval"])
    y = x_eval.astype(np.float64)
    z = {"bce": [], "mse": []}
    for seed in seeds:
        pair = deps[models.ae_pair_task(ref, s, seed).key]
        for loss in ("bce", "mse"):
            net = models.ae(s, loss, pair[loss]["polished"], seed)
            z[loss].append(net.logits(x_eval).astype(np.float64))
    p = {loss: [sigmoid(v) for v in z[loss]] for loss in z}
    sig_logit = prediction_noise(y, z["mse"])
    sig_prob = prediction_noise(y, p["mse"])
    aim = np.mean(p["mse"], axis=0)
    tables = offset_tables(y, aim, sig_logit, sig_prob)
    off = np.array([b for b in range(len(EDGES) - 1) if b != CENTRE_BIN])
    per = []
    for i in range(len(seeds)):
        st = {loss: bin_stats(y, p[loss][i], z[loss][i]) for loss in ("bce", "mse")}
        pr = predicted_differences(y, z["mse"][i], tables)
        d_signed = st["bce"]["signed"] - st["mse"]["signed"]
        d_toward = st["bce"]["toward"] - st["mse"]["toward"]
        lm, lp = pair_lean(d_signed, "signed"), pair_lean(pr["signed_logit"], "signed")
        tm, tp = pair_lean(d_toward, "toward"), pair_lean(pr["toward_logit"], "toward")
        blur = {loss: blur_stats(p[loss][i], y)["blur_ratio"] for loss in ("bce", "mse")}
        per.append({
            "st": st, "pr": pr, "lean_meas": lm, "lean_pred": lp, "toward_meas": tm,
            "toward_pred": tp, "sign": _sign_agreement(lm, lp), "slope_logit": slope(lm, lp),
            "slope_prob": slope(lm, pair_lean(pr["signed_prob"], "signed")),
            "slope_toward": slope(tm, tp), "blur": blur,
            "uniform": float(d_signed[off].mean()),
            "mean_abs_diff": float(np.mean(np.abs(d_signed[off]))),
            "rel": {loss: float(np.nanmax(np.abs(reliability(y, p[loss][i])[1])))
                    for loss in ("bce", "mse")}})
    return {"per": per, "sig_logit": sig_logit, "sig_prob": sig_prob,
            "examples": {loss: p[loss][0][:8] for loss in ("bce", "mse")}, "x_eval": x_eval[:8]}


def _key(cfg, s, seeds):
    return ("E4", cfg.dataset, frozen(s), tuple(int(v) for v in seeds))


def tasks(cfg, prep, seeds) -> list:
    s = prep["settings"]["ae"]
    pairs = [models.ae_pair_task(cfg.data, s, seed) for seed in seeds]
    return pairs + [Task(_key(cfg, s, seeds), _measure_all, (cfg.data, s, tuple(seeds)),
                         deps=tuple(t.key for t in pairs),
                         cost=len(seeds) * s["n_eval"] / 1000.0,
                         label=f"{cfg.dataset} E4 seeds {', '.join(map(str, seeds))}")]


def measure(cfg, prep, seeds, done) -> Measured:
    s = prep["settings"]["ae"]
    res = done[_key(cfg, s, seeds)]
    per, seeds = res["per"], tuple(seeds)
    note = "prediction noise needs two seeds: inconclusive" if len(seeds) < 2 else ""
    values = {"E4.signed.sign": [d["sign"] for d in per],
              "E4.signed.size.logit": [d["slope_logit"] for d in per],
              "E4.signed.size.prob": [d["slope_prob"] for d in per],
              "E4.toward.size.logit": [d["slope_toward"] for d in per]}
    notes = {k: note for k in values} if note else {}

    def avg(key, loss=None):
        rows = [(d["st"][loss][key] if loss else d["pr"][key]) for d in per]
        return np.mean(np.vstack(rows), axis=0)
    tab = {"centres": 0.5 * (EDGES[:-1] + EDGES[1:]), "counts": per[0]["st"]["bce"]["counts"],
           "sigma_pred_logit": res["sig_logit"], "sigma_pred_prob": res["sig_prob"]}
    for loss in ("bce", "mse"):
        for key in ("signed", "abs", "toward", "sigma_logit", "sigma_prob"):
            tab[f"{key}_{loss}"] = avg(key, loss)
    for key in ("signed_logit", "toward_logit", "signed_prob"):
        tab[f"pred_{key}"] = avg(key)
    for key in ("lean_meas", "lean_pred", "toward_meas", "toward_pred"):
        tab[key] = np.vstack([d[key] for d in per])
    off = np.array([b for b in range(len(EDGES) - 1) if b != CENTRE_BIN])
    w = tab["counts"]
    one = ()                     # statistics of all seeds together: a single value

    def o(fn, unit):
        return Observation(tuple(fn(d) for d in per), seeds, unit)
    obs = {
        "blur_ratio[ae_bce]": o(lambda d: d["blur"]["bce"], "ratio"),
        "blur_ratio[ae_mse]": o(lambda d: d["blur"]["mse"], "ratio"),
        "E4.blur_diff": o(lambda d: d["blur"]["bce"] - d["blur"]["mse"], "ratio"),
        "E4.uniform_offset": o(lambda d: d["uniform"], "intensity"),
        "E4.mean_abs_signed_diff": o(lambda d: d["mean_abs_diff"], "intensity"),
        "E4.signed_lean_toward_half_mean": o(lambda d: float(np.mean(d["lean_meas"])),
                                             "intensity"),
        "E4.signed_lean_predicted_mean": o(lambda d: float(np.mean(d["lean_pred"])),
                                           "intensity"),
        "E4.by_prediction_max_abs[bce]": o(lambda d: d["rel"]["bce"], "intensity"),
        "E4.by_prediction_max_abs[mse]": o(lambda d: d["rel"]["mse"], "intensity"),
        "E4.abs_error_bce": Observation((float(np.average(tab["abs_bce"], weights=w)),), one,
                                        "intensity"),
        "E4.abs_error_mse": Observation((float(np.average(tab["abs_mse"], weights=w)),), one,
                                        "intensity"),
        "E4.sigma_logit_mse_mean": Observation(
            (float(np.average(tab["sigma_logit_mse"], weights=w)),), one, "logit"),
        "E4.sigma_pred_logit_mean": Observation(
            (float(np.average(res["sig_logit"], weights=w)),), one, "logit"),
        "E4.by_target_max_abs[mse]": Observation(
            (float(np.nanmax(np.abs(tab["signed_mse"]))),), one, "intensity"),
        "E4.by_target_max_abs[bce]": Observation(
            (float(np.nanmax(np.abs(tab["signed_bce"]))),), one, "intensity"),
        "E4.regression_slope_mse": Observation(
            (_regression(tab["centres"][off], tab["signed_mse"][off]),), one, "intensity"),
        "E4.regression_slope_bce": Observation(
            (_regression(tab["centres"][off], tab["signed_bce"][off]),), one, "intensity"),
    }
    return Measured(values, seeds, notes, obs,
                    {"tab": tab, "examples": res["examples"], "x_eval": res["x_eval"]})


# ----------------------------------------------------------------------------------------------
# Figure
# ----------------------------------------------------------------------------------------------
@plotting.style()
def figure(cfg, prep, measured):
    """Per bin of the target: (a) signed errors, (b) BCE - MSE against the noise models,
    (c) the toward-1/2 fraction, (d) the absolute error."""
    tab = measured.extra["tab"]
    fig, _ = plotting.figure(0, 0, columns=2, height=6.2)
    subs = list(np.ravel(fig.subfigures(2, 2)))
    ax_s, ax_d, ax_t, ax_a = (sub.subplots() for sub in subs)
    c = tab["centres"]
    x_label = plotting.axis_label("target y (bin centre)", "intensity")
    for loss in ("mse", "bce"):
        ax_s.plot(c, tab[f"signed_{loss}"], marker=plotting.marker(loss), ms=2.2,
                  color=plotting.color(loss), ls=plotting.linestyle(loss),
                  label=plotting.display_name(loss))
    plotting.guides(ax_s, y=[0])
    ax_s.set_ylabel(plotting.axis_label("mean signed error p − y", "intensity"))
    ax_s.set_title("(a) signed error")
    d = tab["signed_bce"] - tab["signed_mse"]
    ax_d.plot(c, d, "o-", ms=2.5, color="black", label="measured")
    ax_d.plot(c, tab["pred_signed_logit"], "s--", ms=2.2, color=plotting.color("", 0),
              label="predicted, logit noise")
    ax_d.plot(c, tab["pred_signed_prob"], "^:", ms=2.2, color=plotting.color("", 1),
              label="predicted, prob. noise")
    plotting.guides(ax_d, y=[0])
    lim = 1.5 * float(np.nanmax(np.abs(np.concatenate([d, tab["pred_signed_logit"]]))))
    if math.isfinite(lim) and lim > 0:
        ax_d.set_ylim(-lim, lim)
    ax_d.set_ylabel(plotting.axis_label("BCE − MSE signed error", "intensity"))
    ax_d.set_title("(b) BCE − MSE vs the models")
    ax_t.plot(c, tab["toward_bce"] - tab["toward_mse"], "o-", ms=2.5, color="black",
              label="measured")
    ax_t.plot(c, tab["pred_toward_logit"], "s--", ms=2.2, color=plotting.color("", 0),
              label="predicted, logit noise")
    plotting.guides(ax_t, y=[0])
    ax_t.set_ylabel(plotting.axis_label("BCE − MSE share toward ½", "ratio"))
    ax_t.set_title("(c) errors pointing toward ½")
    for loss in ("mse", "bce"):
        ax_a.plot(c, tab[f"abs_{loss}"], marker=plotting.marker(loss), ms=2.2,
                  color=plotting.color(loss), ls=plotting.linestyle(loss),
                  label=plotting.display_name(loss))
    ax_a.set_ylabel(plotting.axis_label("mean |p − y|", "intensity"))
    ax_a.set_title("(d) absolute error")
    for sub, ax in zip(subs, (ax_s, ax_d, ax_t, ax_a)):
        ax.set_xlabel(x_label)
        plotting.panel_legend(sub)
    fig.suptitle(f"E4 {cfg.dataset}: BCE and MSE autoencoders by target intensity (test "
                 f"images; mean over seeds {plotting.listing(measured.seeds)})")
    return fig


# ----------------------------------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------------------------------
def _times(predicted, measured) -> str:
    """'N times' for how much smaller the measured lean is than the predicted one."""
    if not (math.isfinite(predicted) and math.isfinite(measured)) or measured == 0:
        return "much"
    return f"{abs(predicted / measured):.0f} times"


def _table(tab, seeds) -> list:
    lines = ["| y bin | pixels | σ_logit of the error (MSE) | σ_pred (seeds) | signed error MSE "
             "| BCE | BCE − MSE | predicted (logit) | predicted (prob.) | toward ½ MSE | BCE "
             "| predicted BCE − MSE | mean abs. error MSE | BCE |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for b, cen in enumerate(tab["centres"]):
        d = tab["signed_bce"][b] - tab["signed_mse"][b]
        lines.append(
            f"| {cen:.1f} | {int(tab['counts'][b])} | {tab['sigma_logit_mse'][b]:.2f} | "
            f"{tab['sigma_pred_logit'][b]:.2f} | "
            f"{tab['signed_mse'][b]:+.4f} | {tab['signed_bce'][b]:+.4f} | {d:+.4f} | "
            f"{tab['pred_signed_logit'][b]:+.4f} | {tab['pred_signed_prob'][b]:+.3f} | "
            f"{tab['toward_mse'][b]:.3f} | {tab['toward_bce'][b]:.3f} | "
            f"{tab['pred_toward_logit'][b]:+.4f} | "
            f"{tab['abs_mse'][b]:.4f} | {tab['abs_bce'][b]:.4f} |")
    sd = (lambda a: np.std(a, axis=0, ddof=1)) if len(seeds) > 1 else (lambda a: 0 * a[0])
    lines += ["", "Lean of BCE toward ½ relative to MSE per bin pair (positive = toward ½; mean ± "
              "sd over seeds):", "",
              "| bins | signed error: measured | predicted (logit) | toward-½ fraction: measured "
              "| predicted |", "|---|---|---|---|---|"]
    c = tab["centres"]
    for k, (lo, hi) in enumerate(PAIRS):
        lines.append(
            f"| {c[lo]:.1f} / {c[hi]:.1f} | {np.mean(tab['lean_meas'][:, k]):+.4f} ± "
            f"{sd(tab['lean_meas'])[k]:.4f} | {np.mean(tab['lean_pred'][:, k]):+.4f} | "
            f"{np.mean(tab['toward_meas'][:, k]):+.4f} ± {sd(tab['toward_meas'])[k]:.4f} | "
            f"{np.mean(tab['toward_pred'][:, k]):+.4f} |")
    return lines


def text(cfg, prep, measured, rows) -> str:
    s, tab, obs = prep["settings"]["ae"], measured.extra["tab"], measured.observations
    seeds = measured.seeds

    def m(key):
        return obs[key].mean
    lines = [
        f"### {NAME} ({cfg.dataset})", "",
        f"Setup: the AE pair of E3 ({'-'.join(map(str, s['sizes']))}-...-784; BCE and MSE, same "
        f"initialization and data order), evaluated on the first {s['n_eval']} test images; "
        "bins of the target of width 0.1 centred on 0.1, ..., 0.9.  Noise model: Gaussian in the "
        "logit with the *prediction* noise σ_pred, the seed-to-seed disagreement of the MSE "
        "networks (√(mean (z_a − z_b)²/2) per bin); the predicted BCE outputs are the MSE "
        "network's own logits shifted by noise_offset(bce) − noise_offset(mse).  The lean toward "
        "½ is judged on bin pairs (y, 1 − y), which cancels a uniform brightness offset between "
        f"the networks (see the module docstring).  Seeds {', '.join(map(str, seeds))}.", ""]
    lines += prediction_table(rows)
    lines += [""] + _table(tab, seeds)
    by = {r.id: r for r in rows}
    sgn, sz = by["E4.signed.sign"], by["E4.signed.size.logit"]
    s_mse, s_bce = m("E4.regression_slope_mse"), m("E4.regression_slope_bce")
    sig_err, sig_pred = m("E4.sigma_logit_mse_mean"), m("E4.sigma_pred_logit_mean")
    share = (sig_pred / sig_err) ** 2 if sig_err > 0 else math.nan
    lines += ["", "Findings:", ""]
    if s_mse < 0 and s_bce < 0:
        head = ("Both networks regress toward the middle when their errors are binned by the "
                "target: the mean signed error falls with y at a slope of "
                f"{s_mse:.2f} (MSE) and {s_bce:.2f} (BCE).")
    else:
        head = (f"The mean signed error changes with y at a slope of {s_mse:.2f} (MSE) and "
                f"{s_bce:.2f} (BCE), binned by the target.")
    spread = (f"  The logit error spread around the target is {sig_err:.2f} (pixel-weighted mean "
              f"over the bins), the seed-to-seed prediction noise {sig_pred:.2f}, "
              f"{share:.0%} of the error variance")
    if share < 0.5:
        spread += ("; the rest, the target's uncertainty given the code, is common to every "
                   "seed, and for it properness predicts no difference between the losses (both "
                   "estimate the conditional mean), so only σ_pred enters the noise model.")
    else:
        spread += "; most of the error spread is seed-to-seed noise."
    lines.append("* " + head + spread)
    uni = obs["E4.uniform_offset"].values
    lean_abs = float(np.mean(np.abs(tab["lean_meas"])))
    uni_abs = float(np.mean(np.abs(uni)))
    part = ("mostly a uniform offset (mean |offset| over the seeds "
            f"{uni_abs:.4f} against a mean |lean| of the bin pairs of {lean_abs:.4f})"
            if uni_abs > lean_abs else
            f"not mostly a uniform offset (mean |offset| {uni_abs:.4f}, mean |lean| of the bin "
            f"pairs {lean_abs:.4f})")
    if len(uni) > 1 and min(uni) < 0 < max(uni):
        sign = "that changes sign from seed to seed"
    elif len(uni) > 1:
        sign = f"of the same sign in every seed ({'+' if uni[0] > 0 else '−'})"
    else:
        sign = "(one seed)"
    lines.append(
        f"* The BCE − MSE differences per bin (mean |difference| {m('E4.mean_abs_signed_diff'):.4f} "
        f"over the off-centre bins) are {part}, {sign}: per seed "
        + ", ".join(f"{v:+.4f}" for v in uni) + ".  A uniform offset is what each network's own "
        "calibration in the large (E3) produces; it carries no direction toward ½, and the bin "
        "pairs cancel it.")
    lines.append(
        f"* Verdicts: direction **{sgn.verdict}** ({sgn.mean:.2f} of the pairs lean the predicted "
        f"way); size with logit-space noise **{sz.verdict}** (slope {sz.mean:.3f} ± "
        f"{sz.sd:.3f}); with probability-space noise **{by['E4.signed.size.prob'].verdict}** "
        f"(slope {by['E4.signed.size.prob'].mean:.4f}); toward-½ fraction "
        f"**{by['E4.toward.size.logit'].verdict}** (slope {by['E4.toward.size.logit'].mean:.3f}).  "
        f"Mean lean over the pairs: measured {m('E4.signed_lean_toward_half_mean'):+.4f}, "
        f"predicted {m('E4.signed_lean_predicted_mean'):+.4f}.")
    if any(r.verdict == REFUTED for r in rows):
        lines.append(_missed(tab, obs))
    po, lo_ = tab["pred_signed_prob"][0], tab["pred_signed_logit"][0]
    if abs(po) > abs(lo_):
        lines.append(
            "* The probability-space model predicts a larger lean than the logit-space one in "
            f"the outermost bin ({po:+.3f} against {lo_:+.3f} at y = {tab['centres'][0]:.1f}; its "
            "leading-order term grows like σ²/(y(1 − y))): a Gaussian error of the measured size "
            "in probability space would cross 0 and 1, where BCE's cost diverges; the logit-space "
            "model is the consistent one.")
    lines.append(f"* Blur (gradient magnitude of the data over that of the reconstruction, "
                 f"as in E5): BCE {m('blur_ratio[ae_bce]'):.3f}, MSE {m('blur_ratio[ae_mse]'):.3f} "
                 "(BCE − MSE per seed " + ", ".join(f"{v:+.3f}" for v in obs["E4.blur_diff"].values)
                 + f"); mean |error| over the interior bins BCE {m('E4.abs_error_bce'):.4f}, MSE "
                 f"{m('E4.abs_error_mse'):.4f}.")
    return "\n".join(lines) + "\n"


def _missed(tab, obs) -> str:
    """What the analysis missed, quoting this run's numbers."""
    lm = tab["lean_meas"]
    away, cells = int(np.count_nonzero(lm < 0)), lm.size
    meas, pred = (obs["E4.signed_lean_toward_half_mean"].mean,
                  obs["E4.signed_lean_predicted_mean"].mean)
    text = ("  What the analysis missed: the noise-bias model assumes that the training loss "
            "averages over the prediction's noise, so that the fitted offset hedges against it "
            "(BCE toward ½, MSE away from it in logit space).  A deterministic autoencoder is "
            "trained on its one output per input: the seed-to-seed noise exists only between "
            "training runs, never inside one, and nothing in training makes a network hedge "
            "against it.  What the loss does average over is the target's uncertainty given the "
            f"code, and there both proper losses give the conditional mean.  The predicted lean "
            f"toward ½ (mean {pred:+.4f} over the pairs) against the measured {meas:+.4f}: ")
    if 2 * away > cells:
        text += (f"it points *away* from ½ in {away} of the {cells} pair-seed cells -- BCE is, "
                 "if anything, a little more extreme than MSE.  ")
    else:
        text += (f"toward ½ in {cells - away} of the {cells} pair-seed cells, "
                 f"{_times(pred, meas)} smaller than predicted.  ")
    text += ("The mechanism needs noise inside the training loss (dropout, a VAE's sampled "
             "latent), which this AE does not have.")
    bp = {k: obs[f"E4.by_prediction_max_abs[{k}]"].mean for k in ("mse", "bce")}
    bt = {k: obs[f"E4.by_target_max_abs[{k}]"].mean for k in ("mse", "bce")}
    smaller = all(bp[k] < bt[k] for k in bp)
    text += ("  Binned by the *prediction* instead of the target, the errors are "
             + ("smaller" if smaller else "not smaller")
             + ": the largest |mean target − mean prediction| over prediction bins with ≥ 1000 "
             f"pixels is {bp['mse']:.3f} (MSE) and {bp['bce']:.3f} (BCE), against "
             f"{bt['mse']:.3f} and {bt['bce']:.3f} binned by the target.")
    return text
