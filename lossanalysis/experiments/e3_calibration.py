"""E3 -- calibration in the large: the canonical link of sigmoid + BCE.

The analysis (:func:`lossanalysis.analysis.logit_gradient`): with p = sigmoid(z) the logit
gradient of BCE is p - y.  A per-pixel output bias b_j adds to every logit of pixel j, so its
gradient over the training set is mean_i (p_ij - y_ij): at a stationary point of the bias the
mean reconstruction of every pixel location equals the data mean there, whatever the rest of
the network does (the canonical link of a generalized linear model).  MSE's logit gradient
2 (p - y) p (1 - p) weighs each error by p (1 - p): its stationarity condition
sum_i p(1 - p)(p - y) = 0 lets errors on confident outputs (p near 0 or 1) go unbalanced.

Measurement.  The AE pair (:mod:`.models`: same architecture, initialization and data order,
one trained with BCE and one with MSE), whose output biases are brought to their exact
stationary point over the training set by Newton's method per pixel location, holding the rest
of the network fixed.  Measured: the mean reconstruction of each location over the training set
minus the data mean there, at the locations whose data mean lies strictly between 0 and 1.

Prediction for MSE (from the BCE network alone, before anything about the MSE network is
measured): assume the two networks learn the same features and differ only in how the loss sets
the per-pixel offset.  Then MSE's offsets are the roots of the MSE stationarity condition on
the BCE network's logits without its bias, and its calibration error follows.  The premise is
checked, not assumed: per stratum of the locations' data mean the report shows measured and
predicted errors and the share of ink pixels each network leaves off.

``E3.bce.calibration`` is a consistency check (the Newton polish enforces mean(p - y) = 0 and
the row measures it); so is ``E3.mse_vs_bce``, whose denominator is that polished BCE error
(rounding); ``E3.mse.calibration`` is falsifiable.
"""
from __future__ import annotations

import math

import matplotlib
import numpy as np

from .. import plotting
from ..losses import sigmoid
from . import models
from .figures import legend_below, seeds_note, title
from .core import (CONSISTENCY, FALSIFIABLE, REFUTED, Measured, Observation, Prediction, Task,
                   experiment_settings, frozen, prediction_table, stated)

__all__ = ["LABEL", "NAME", "REVISIONS", "settings", "prepare", "tasks", "measure", "figure",
           "text", "calibration_errors", "strata", "STRATA"]

LABEL = "E3"
NAME = "E3 Calibration in the large"
REVISIONS = ()
#: Strata of the locations by their data mean (the share of ink there), for the diagnostics.
STRATA = (0.0, 0.01, 0.05, 0.2, 1.0)
#: An ink pixel (target > INK) whose reconstruction stays below OFF is "left off".
INK, OFF = 0.5, 0.1


def settings(cfg) -> dict:
    """E3 uses the AE pair's settings (:func:`.models.ae_settings`)."""
    return experiment_settings(cfg, LABEL, {"ae": models.ae_settings(cfg)})


def calibration_errors(model, x, columns):
    """Mean reconstruction minus data mean per location (float64 means of the float32
    reconstructions), at ``columns``."""
    p = model.reconstruct(x).astype(np.float64)[:, columns]
    return p.mean(axis=0) - x[:, columns].astype(np.float64).mean(axis=0)


def _counterfactual(bce_model, x, columns):
    """Predicted MSE calibration errors: MSE-stationary offsets on the BCE network's logits
    without its output bias."""
    b = bce_model.params[models.last_layer(bce_model) + ".b"].astype(np.float64)[columns]
    u = bce_model.logits(x).astype(np.float64)[:, columns] - b
    y = x[:, columns]
    c, _ = models.stationary_offsets("mse", y, u, b)
    return sigmoid(u + c).mean(axis=0) - y.astype(np.float64).mean(axis=0)


def strata(reconstructions, x, cols, errs, predicted) -> list[dict]:
    """Diagnostics per stratum of the locations' data mean (:data:`STRATA`): how many
    locations, the measured and predicted MSE calibration errors (mean |.| and signed mean), and
    for each network (``reconstructions``: loss -> reconstructions of ``x``) the share of ink
    pixels (target > INK) it leaves off (output < OFF)."""
    mean = x[:, cols].astype(np.float64).mean(axis=0)
    y = x[:, cols]
    ink = y > INK
    off = {loss: (reconstructions[loss][:, cols] < OFF) & ink for loss in ("bce", "mse")}
    rows = []
    for lo, hi in zip(STRATA[:-1], STRATA[1:]):
        sel = (mean >= lo) & ((mean < hi) if hi < 1 else (mean <= hi))
        n_ink = int(ink[:, sel].sum())
        row = {"lo": lo, "hi": hi, "locations": int(sel.sum()), "ink": n_ink}
        if sel.any():
            row.update(measured=float(np.mean(np.abs(errs[sel]))),
                       predicted=float(np.mean(np.abs(predicted[sel]))),
                       measured_signed=float(np.mean(errs[sel])),
                       predicted_signed=float(np.mean(predicted[sel])),
                       share=float(sel.sum() / sel.size))
            for loss in ("bce", "mse"):
                row[f"off_{loss}"] = (float(off[loss][:, sel].sum() / n_ink) if n_ink
                                      else math.nan)
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------------
# Predictions
# ----------------------------------------------------------------------------------------------
def prepare(cfg, data) -> dict:
    s = settings(cfg)
    x = models.ae_training_images(cfg.data, s["ae"])
    mean = x.astype(np.float64).mean(axis=0)
    n_loc = int(np.count_nonzero((mean > 0) & (mean < 1)))
    P = {
        "bce": Prediction(
            "E3.bce.calibration", LABEL,
            "sigmoid + BCE with a stationary output bias: the mean reconstruction of every "
            "pixel location equals the data mean there",
            f"max over {n_loc} locations of |mean reconstruction - data mean| (intensity)",
            0.0, 1e-5, "equal", CONSISTENCY,
            "the Newton polish sets mean(p - y) = 0 at every location and the row measures "
            "that mean: true by construction",
            "canonical link: d(BCE)/dz = p - y (analysis.logit_gradient); tolerance 1e-5: "
            f"Newton stops at |bias gradient| <= {models.GRAD_TOL:g}, the bias is stored in "
            "float32 (relative 6e-8 of |b| <= 20: <= 3e-7 in p) and each float32 logit/output "
            "carries ~1e-7 rounding; 1e-5 is 10x their sum"),
        "mse": Prediction(
            "E3.mse.calibration", LABEL,
            "sigmoid + MSE with a stationary output bias is miscalibrated by as much as the "
            "MSE stationarity condition predicts on the BCE network's features",
            "log10(measured / predicted mean |mean reconstruction - data mean| over locations)",
            0.0, math.log10(2.0), "equal", FALSIFIABLE,
            "the MSE network learns its own features; if they differ from the BCE network's, "
            "its calibration error differs from the prediction",
            "roots of mean_i 2(p - y)p(1 - p) = 0 per location (catalogue grad_logit) on the "
            "BCE network's logits; tolerance a factor 2: the features of the two networks are "
            "assumed equal, which holds only roughly"),
        "gap": Prediction(
            "E3.mse_vs_bce", LABEL,
            "MSE's calibration error is far larger than BCE's",
            "mean |calibration error| of MSE / that of BCE (both stationary)",
            100.0, 0.0, "at_least", CONSISTENCY,
            "the denominator is the polished BCE error, rounding by construction; the ratio "
            "falls below 100 only if MSE's error is rounding too",
            "BCE's error is bounded by rounding (~1e-7), MSE's predicted one by the weighting "
            "p(1 - p) (~1e-3 and up); 'at least 100x' is a conservative factor between them"),
    }
    P = {k: stated(cfg, v) for k, v in P.items()}
    return {"settings": s, "P": P, "predictions": list(P.values()), "locations": n_loc}


# ----------------------------------------------------------------------------------------------
# Measure
# ----------------------------------------------------------------------------------------------
def _measure_seed(ref, s, seed, *, deps) -> dict:
    """E3's measurements on the AE pair of one seed (task function)."""
    (pair,) = deps.values()
    x = models.ae_training_images(ref, s)
    cols = pair["columns"]
    adam = {loss: models.ae(s, loss, pair[loss]["adam"], seed) for loss in ("bce", "mse")}
    net = {loss: models.ae(s, loss, pair[loss]["polished"], seed) for loss in ("bce", "mse")}
    pre = {loss: float(np.mean(np.abs(calibration_errors(adam[loss], x, cols))))
           for loss in ("bce", "mse")}
    predicted = _counterfactual(adam["bce"], x, cols)
    errs = {loss: calibration_errors(net[loss], x, cols) for loss in ("bce", "mse")}
    recon = {loss: net[loss].reconstruct(x) for loss in ("bce", "mse")}
    mace_mse = float(np.mean(np.abs(errs["mse"])))
    mace_pred = float(np.mean(np.abs(predicted)))
    return {"bce_max": float(np.max(np.abs(errs["bce"]))),
            "ratio": math.log10(mace_mse / mace_pred),
            "gap": mace_mse / max(float(np.mean(np.abs(errs["bce"]))), 1e-300),
            "corr": float(np.corrcoef(predicted, errs["mse"])[0, 1]),
            "strata": strata(recon, x, cols, errs["mse"], predicted),
            "mse": errs["mse"], "bce": errs["bce"], "pred": predicted, "mace_mse": mace_mse,
            "mace_pred": mace_pred, "signed_mse": float(np.mean(errs["mse"])),
            "signed_pred": float(np.mean(predicted)), "pre": pre,
            "gmax": {loss: pair[loss]["gmax"] for loss in ("bce", "mse")},
            "data_mean": x.astype(np.float64).mean(axis=0), "columns": cols}


def _key(cfg, s, seed):
    return ("E3", cfg.dataset, frozen(s), int(seed))


def tasks(cfg, prep, seeds) -> list:
    s = prep["settings"]["ae"]
    out = []
    for seed in seeds:
        pair = models.ae_pair_task(cfg.data, s, seed)
        out += [pair, Task(_key(cfg, s, seed), _measure_seed, (cfg.data, s, seed),
                           deps=(pair.key,), cost=s["n_train"] / 750.0,
                           label=f"{cfg.dataset} E3 seed {seed}: calibration")]
    return out


def _mean_strata(per_seed_rows) -> list[dict]:
    """The strata averaged over seeds (NaN-aware: a stratum without ink has no 'left off')."""
    out = []
    for rows in zip(*per_seed_rows):
        row = {"lo": rows[0]["lo"], "hi": rows[0]["hi"], "locations": rows[0]["locations"]}
        for k in ("measured", "predicted", "measured_signed", "predicted_signed", "share",
                  "off_bce", "off_mse"):
            vals = [r[k] for r in rows if k in r and math.isfinite(r[k])]
            if vals:
                row[k] = float(np.mean(vals))
        out.append(row)
    return out


def measure(cfg, prep, seeds, done) -> Measured:
    s = prep["settings"]["ae"]
    per = [done[_key(cfg, s, seed)] for seed in seeds]
    seeds = tuple(seeds)
    values = {"E3.bce.calibration": [d["bce_max"] for d in per],
              "E3.mse.calibration": [d["ratio"] for d in per],
              "E3.mse_vs_bce": [d["gap"] for d in per]}
    notes = {"E3.bce.calibration": ("before the bias polish (Adam only): mean |error| "
                                    f"{np.mean([d['pre']['bce'] for d in per]):.1e}"),
             "E3.mse.calibration": ("measured " + ", ".join(f"{d['mace_mse']:.2e}" for d in per)
                                    + "; predicted " + ", ".join(f"{d['mace_pred']:.2e}"
                                                                 for d in per)
                                    + "; correlation over locations "
                                    + ", ".join(f"{d['corr']:.2f}" for d in per))}

    def o(key, unit):
        return Observation(tuple(d[key] for d in per), seeds, unit)
    obs = {"E3.mse_mean_abs_error": o("mace_mse", "intensity"),
           "E3.mse_mean_abs_error_predicted": o("mace_pred", "intensity"),
           "E3.mse_signed_error": o("signed_mse", "intensity"),
           "E3.mse_signed_error_predicted": o("signed_pred", "intensity"),
           "E3.mse_pred_correlation": o("corr", "correlation"),
           "E3.bce_max_abs_error": o("bce_max", "intensity"),
           "E3.bce_pre_polish_mean_abs_error": Observation(
               tuple(d["pre"]["bce"] for d in per), seeds, "intensity"),
           "E3.mse_pre_polish_mean_abs_error": Observation(
               tuple(d["pre"]["mse"] for d in per), seeds, "intensity"),
           "E3.locations": Observation((float(prep["locations"]),), (), "count")}
    return Measured(values, seeds, notes, obs,
                    {"strata": _mean_strata([d["strata"] for d in per]), "first": per[0]})


# ----------------------------------------------------------------------------------------------
# Figure
# ----------------------------------------------------------------------------------------------
@plotting.style()
def figure(cfg, prep, measured):
    """(a) the MSE network's calibration error map; (b) measured against predicted; (c) both
    losses against the data mean.  e = mean reconstruction - data mean of a pixel location."""
    d = measured.extra["first"]
    cols, mean = d["columns"], d["data_mean"]
    fig, (ax_m, ax_s, ax_b) = plotting.figure(1, 3, columns=2, height=2.7,
                                            gridspec_kw={"width_ratios": [1.0, 1.1, 1.1]})
    fig.get_layout_engine().set(wspace=0.06)     # the colour bar's label apart from (b)'s
    img = np.full(784, np.nan)
    img[cols] = d["mse"]
    lim = float(np.nanmax(np.abs(img)))
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.82")
    im = ax_m.imshow(img.reshape(28, 28), cmap=cmap, vmin=-lim, vmax=lim)
    fig.colorbar(im, ax=ax_m, shrink=0.9, label=plotting.axis_label("e", "intensity"))
    ax_m.set_xticks([])
    ax_m.set_yticks([])
    for spine in ax_m.spines.values():
        spine.set_visible(False)
    ax_m.set_xlabel("grey: data mean 0 or 1", fontsize=7)
    ax_m.set_title("(a) MSE: e per location")
    mse = dict(ls="none", marker=plotting.marker("mse"), ms=1.8, mfc="none", mew=0.4,
               color=plotting.color("mse"))
    bce = dict(ls="none", marker="x", ms=1.8, mew=0.4, color=plotting.color("bce"))
    ax_s.plot(d["pred"], d["mse"], **mse)
    lo = float(min(d["pred"].min(), d["mse"].min()))
    hi = float(max(d["pred"].max(), d["mse"].max()))
    plotting.mark_reference(ax_s.plot([lo, hi], [lo, hi], color="0.6", lw=0.5)[0])
    ax_s.set_xlabel(plotting.axis_label("predicted e", "intensity"))
    ax_s.set_ylabel(plotting.axis_label("measured e", "intensity"))
    ax_s.set_title(f"(b) MSE network, r = {d['corr']:.2f}".replace("-", "−"))
    ax_b.plot(mean[cols], np.abs(d["mse"]), **mse)
    ax_b.plot(mean[cols], np.maximum(np.abs(d["bce"]), 1e-12), **bce)
    ax_b.set_yscale("log")
    ax_b.set_xlabel(plotting.axis_label("data mean", "intensity"))
    ax_b.set_ylabel(plotting.axis_label("|e|", "intensity"))
    ax_b.set_title("(c) both, per location")
    legend_below(fig, [("MSE network", {**mse, "ms": 3.5}), ("BCE network", {**bce, "ms": 3.5}),
                       ("(b) measured = predicted", dict(color="0.6", lw=0.5))], ncols=3)
    title(fig, LABEL, cfg.dataset, "calibration in the large, e = mean reconstruction − data "
          "mean", seeds_note(measured.seeds[:1]))
    return fig


# ----------------------------------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------------------------------
def text(cfg, prep, measured, rows) -> str:
    s, obs, st = prep["settings"]["ae"], measured.observations, measured.extra["strata"]
    by = {r.id: r for r in rows}
    lines = [
        f"### {NAME} ({cfg.dataset})", "",
        f"Setup: two AEs {'-'.join(map(str, s['sizes']))}-...-784 (ReLU, sigmoid output) per "
        f"seed, one trained with BCE and one with MSE, same initialization and data order, "
        f"Adam lr {s['lr']:g}, batch {s['batch']}, {s['epochs']} epochs on {s['n_train']} "
        f"training images; then the output bias of each is made stationary over those images "
        f"by Newton's method (|gradient| ≤ {models.GRAD_TOL:g}); {prep['locations']} locations "
        f"with a data mean strictly inside (0, 1).  Seeds {', '.join(map(str, measured.seeds))}.",
        ""]
    lines += prediction_table(rows)
    bce = by["E3.bce.calibration"]
    pre = obs["E3.bce_pre_polish_mean_abs_error"].mean
    tol = bce.prediction.tolerance
    lines += ["", "Findings:", "",
              f"* BCE: with the output bias at its stationary point the largest calibration "
              f"error over the locations is {bce.mean:.1e}"
              + (" -- rounding." if bce.mean <= tol else
                 f", above the {tol:g} that rounding explains.")
              + f"  Adam alone leaves a mean |error| of {pre:.1e}"
              + (" (the minibatch noise of the last steps), so the identity holds at "
                 "stationarity, not along the way." if pre > tol else
                 ", within the same tolerance: Adam alone had reached the identity."),
              f"* MSE: mean |error| {obs['E3.mse_mean_abs_error'].mean:.2e} (signed mean "
              f"{obs['E3.mse_signed_error'].mean:+.2e}), against "
              f"{obs['E3.mse_mean_abs_error_predicted'].mean:.2e} predicted from the BCE "
              f"network's features; the two error maps correlate at "
              f"r = {obs['E3.mse_pred_correlation'].mean:.2f} over the locations.  MSE's "
              "condition sum p(1 − p)(p − y) = 0 down-weights the confident outputs, so a "
              "location's mean can drift wherever its errors on near-0 and near-1 outputs do not "
              "cancel."]
    lines += ["", "By the locations' data mean (a measurement, not judged; means over the seeds; "
              f"'ink left off': share of the target pixels > {INK:g} whose reconstruction stays "
              f"below {OFF:g}):", "",
              "| data mean of the location | locations | MSE error, measured mean abs | "
              "predicted | measured signed | predicted signed | ink left off: BCE net | "
              "MSE net |", "|---|---|---|---|---|---|---|---|"]
    for row in st:
        if "measured" not in row:
            continue
        off = [("–" if not math.isfinite(row.get(k, math.nan)) else f"{100 * row[k]:.1f}%")
               for k in ("off_bce", "off_mse")]
        lines.append(f"| [{row['lo']:g}, {row['hi']:g}) | {row['locations']} | "
                     f"{row['measured']:.2e} | {row['predicted']:.2e} | "
                     f"{row['measured_signed']:+.2e} | {row['predicted_signed']:+.2e} | "
                     f"{off[0]} | {off[1]} |")
    lines.append("")
    r = by["E3.mse.calibration"]
    if r.verdict == REFUTED:
        lines.append(_missed_mse(r, st))
    if bce.verdict == REFUTED:
        lines.append("* `E3.bce.calibration` is refuted.  What the analysis missed: the bias "
                     "did not reach its stationary point to the stated precision.")
    return "\n".join(lines) + "\n"


def _missed_mse(r, st) -> str:
    """Why E3.mse.calibration failed, from the strata of this run."""
    rows = [row for row in st if "measured" in row and row["predicted"] > 0]
    worst = max(rows, key=lambda row: row["measured"] / row["predicted"])
    dense = rows[-1]
    rare = worst is rows[0]
    text = (f"* `E3.mse.calibration` is refuted: the measured error is {10 ** r.mean:.2f}x the "
            "predicted one.  What the analysis missed: the prediction keeps the BCE network's "
            "features and lets the loss change only the offset, but MSE's weighting p(1 − p) "
            "also decides which pixels the network learns to draw.  The largest miss is at the "
            f"{worst['locations']} locations with a data mean in [{worst['lo']:g}, "
            f"{worst['hi']:g})" + (" (where ink is rarest)" if rare else "") + ": measured "
            f"{worst['measured']:.2e} (signed {worst['measured_signed']:+.2e}) against "
            f"{worst['predicted']:.2e} (signed {worst['predicted_signed']:+.2e}) predicted, and "
            f"the MSE network leaves {100 * worst.get('off_mse', math.nan):.0f}% of the ink "
            f"pixels there off, the BCE network {100 * worst.get('off_bce', math.nan):.0f}%.")
    if worst.get("off_mse", 0) > worst.get("off_bce", 0):
        text += ("  At a location where most targets are black, every image's output there is "
                 "pushed toward 0 early in training; for the few images with ink there MSE's "
                 "gradient 2p(1 − p)(p − y) then nearly vanishes (E2's saturation) -- in "
                 "training, so those pixels are never learned, and in the bias's stationarity "
                 "condition, so the location's mean reconstruction stays below its data mean.  "
                 "BCE's gradient p − y does not vanish there.")
    ratio = dense["measured"] / dense["predicted"]
    text += (f"  Where ink is most common (data mean ≥ {dense['lo']:g}, {dense['locations']} "
             f"locations) the MSE network leaves {100 * dense.get('off_mse', math.nan):.1f}% of "
             f"the ink off against {100 * dense.get('off_bce', math.nan):.1f}% for BCE, and the "
             f"prediction is {'within' if 0.5 <= ratio <= 2 else 'outside'} a factor 2: "
             f"{dense['measured']:.2e} measured against {dense['predicted']:.2e}.")
    return text
