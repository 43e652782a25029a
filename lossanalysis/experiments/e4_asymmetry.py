"""E4 -- asymmetry in the errors: an autoencoder trained with BCE and one trained with MSE
estimate the same conditional mean (the registered null).

Both losses are proper and both are Bregman divergences, so for a target that is uncertain given
the input both are minimized by its conditional mean (:func:`lossanalysis.analysis.
optimal_prediction`): an AE whose short code keeps only part of an image estimates
p = E[y | code] per pixel location under either loss.  BCE's asymmetric cost
(:func:`~lossanalysis.analysis.asymmetry_ratio`) moves a mean prediction only where the loss
averages over noise in the prediction itself (:func:`~lossanalysis.analysis.noise_bias`, E8);
a deterministic AE's training loss holds no such noise.  Pixel by pixel, on the AE pair's
training images (:func:`.networks.ae_pair`):

* ``E4.null.lean[y,1-y]``: BCE's minus MSE's mean signed error per target bin has no lean
  toward 1/2: 1/2 [d(y) - d(1 - y)] = 0 (:func:`..leans.pair_lean`; > 0: BCE nearer 1/2),
  which cancels a uniform offset between the two networks.
* ``E4.cmean.slope[loss]``: for p = E[y | code], cov(p, y) = var(p), so the slope of p - y on
  y is R^2 - 1 (R^2 = var(p)/var(y)): the gap slope - (R^2 - 1) is 0
  (:func:`..leans.conditional_mean_gap`).
* ``E4.cmean.calib[loss]``: binned by the prediction the errors vanish, E[y - p | p] = 0
  (:func:`..leans.calibration_lean`).

Every row is falsifiable (the networks share weights across pixels and stop after finite
training; nothing forces either onto the conditional mean) and an intensity (rule "intensity").
A bin pair holding fewer than :data:`MIN_PIXELS` training pixels has no row to judge: it is
not applicable.
"""
from __future__ import annotations

import numpy as np

from .. import plotting
from ..losses import sigmoid
from ..protocol import FALSIFIABLE, GREY_LEVEL, Prediction
from . import networks as shared
from .base import Finding
from .figures import seeds_note, title
from .images import blur_stats
from .leans import (CENTRES, EDGES, PAIRS, by_prediction, by_target, calibration_lean,
                     conditional_mean_gap, finite_mean, pair_lean, pair_names)

LABEL = "E4"
NAME = "Asymmetry in the errors: the conditional-mean null"
LOSSES = ("bce", "mse")
NULL_IDS = tuple(f"E4.null.lean[{n}]" for n in pair_names(PAIRS))
#: A bin pair needs this many training pixels in each of its bins for its lean to be judged: a
#: bin mean of signed errors whose spread is up to 0.1 then has a standard error below one
#: grey level (0.1 / sqrt(1000) = 0.0032 < 1/255).
MIN_PIXELS = 1000
#: Test images the networks are also measured on (reported, not judged).
N_EVAL = 5000
COST = 2.0
OBSERVATIONS = {
    **{f"blur_ratio[ae_{loss}]": "ratio" for loss in LOSSES},
    "E4.null_lean_mean[train]": "intensity", "E4.null_lean_mean[test]": "intensity",
    "E4.mean_abs_signed_diff": "intensity",
    **{f"E4.{q}[{loss},{split}]": "ratio" for q in ("slope", "r2") for loss in LOSSES
       for split in ("train", "test")},
    **{f"E4.cmean.calib_test[{loss}]": "intensity" for loss in LOSSES},
}


def networks(data, quick):
    return {"pair": shared.ae_pair(data, quick)}


def predictions(data) -> list:
    counts = np.histogram(data.train, bins=EDGES)[0]
    why = ("the networks share weights across pixels and are not run to their optimum; a lean "
           "of either sign would show")
    src = "both losses proper: the argmin over the conditional distribution is its mean"
    out = []
    for (a, b), name, pid in zip(PAIRS, pair_names(PAIRS), NULL_IDS):
        lo, hi = name.split(",")
        few = min(counts[a], counts[b]) < MIN_PIXELS
        out.append(Prediction(
            pid, f"BCE's and MSE's mean signed errors agree in the target bins {lo} and {hi}: no "
            "lean of BCE toward 1/2 relative to MSE",
            f"1/2 [d({lo}) - d({hi})], d = BCE - MSE mean signed error per target bin (> 0: "
            "BCE nearer 1/2)", 0.0, "intensity", kind=FALSIFIABLE, reason=why,
            source=f"analysis.optimal_prediction; {src}",
            applicable=(f"fewer than {MIN_PIXELS} training pixels in the bins {lo} or {hi}"
                        if few else "")))
    for loss in LOSSES:
        out.append(Prediction(
            f"E4.cmean.slope[{loss}]", f"the {loss.upper()} AE's signed error falls with the "
            "target at the slope R^2 - 1 of a conditional mean",
            "slope of p - y on y minus (R^2 - 1), pooled over every training pixel", 0.0,
            "intensity", reason="a predictor shrunk toward the middle gives > 0, one noisier "
            "than the conditional mean < 0", source="p = E[y | code] implies cov(p, y) = var(p)"))
        out.append(Prediction(
            f"E4.cmean.calib[{loss}]", f"the {loss.upper()} AE's errors binned by its prediction "
            "have no lean toward 1/2 (a calibrated conditional mean)",
            "mean over the 4 prediction-bin pairs of 1/2 [e(p) - e(1 - p)], e = mean p - y",
            0.0, "intensity", reason="an over- or underconfident network breaks it",
            source="p = E[y | code] implies E[y - p | p] = 0"))
    return out


def _stats(p, y) -> dict:
    t, n_t = by_target(p, y)
    e, _ = by_prediction(p, y)
    return {"by_target": t, "by_prediction": e, "counts": n_t, "calib": calibration_lean(p, y),
            **conditional_mean_gap(p, y)}


def measure(nets, data) -> dict:
    pair = nets["pair"]
    x = data.train(pair["n"])
    sets = {"train": x, "test": data.test[:N_EVAL]}
    st, out = {}, {}
    for loss in LOSSES:
        net = pair[loss]
        for split, xs in sets.items():
            p = sigmoid(net.logits(xs).astype(np.float64))
            st[loss, split] = _stats(p, xs)
            if split == "test":
                out[f"blur_ratio[ae_{loss}]"] = blur_stats(p, xs, data.shape)["blur_ratio"]
                out[f"_examples[{loss}]"] = p[:8]
    for split in sets:
        d = st["bce", split]["by_target"] - st["mse", split]["by_target"]
        lean = pair_lean(d)
        out[f"_null[{split}]"] = d
        out[f"E4.null_lean_mean[{split}]"] = float(np.nanmean(lean)) if np.isfinite(
            lean).any() else float("nan")
        if split == "train":
            out.update({pid: float(v) for pid, v in zip(NULL_IDS, lean)})
        else:
            off = np.abs(CENTRES - 0.5) > 1e-9
            out["E4.mean_abs_signed_diff"] = float(np.nanmean(np.abs(d[off])))
        for loss in LOSSES:
            s = st[loss, split]
            out[f"E4.slope[{loss},{split}]"], out[f"E4.r2[{loss},{split}]"] = s["slope"], s["r2"]
            out[f"_by_prediction[{loss},{split}]"] = s["by_prediction"]
            if split == "train":
                out[f"E4.cmean.slope[{loss}]"] = s["gap"]
                out[f"E4.cmean.calib[{loss}]"] = s["calib"]
            else:
                out[f"E4.cmean.calib_test[{loss}]"] = s["calib"]
    out["_x_examples"] = sets["test"][:8]
    return out


@plotting.style()
def figure(result):
    """(a) the slope gap per seed; (b) BCE - MSE by target bin; (c, d) the errors binned by the
    prediction on the training and on the test images."""
    fig, _ = plotting.figure(0, 0, columns=2, height=5.4)
    subs = list(np.ravel(fig.subfigures(2, 2)))
    ax_a, ax_b, ax_c, ax_d = (sub.subplots() for sub in subs)
    for k, loss in enumerate(LOSSES):
        gap = result.row(f"E4.cmean.slope[{loss}]").measurements
        ax_a.plot(np.full(len(gap), k), gap, ls="none", marker="o", ms=3,
                  color=plotting.color(loss), label=plotting.display_name(loss))
    ax_a.set_xticks(range(len(LOSSES)), [plotting.display_name(loss) for loss in LOSSES])
    ax_a.set_xlim(-0.6, len(LOSSES) - 0.4)
    ax_a.set_xlabel("network (one marker per seed)")
    ax_a.set_ylabel(plotting.axis_label("slope of p − y on y − (R² − 1)", "ratio"))
    ax_a.set_title("(a) slope of p − y on y, against R² − 1")
    for split, style, label in (("train", "o-", "training images"), ("test", "s--", "test images")):
        ax_b.plot(CENTRES, finite_mean(result.arrays(f"_null[{split}]")), style, ms=2.4,
                  color="black" if split == "train" else plotting.color("", 1),
                  label=f"BCE − MSE, {label}")
    ax_b.set_xlabel(plotting.axis_label("target y (bin centre)", "intensity"))
    ax_b.set_ylabel(plotting.axis_label("BCE − MSE signed error", "intensity"))
    ax_b.set_title("(b) the null: BCE − MSE (dotted: ±1 grey level)")
    for ax, split, head in ((ax_c, "train", "(c) by the prediction, training images"),
                            (ax_d, "test", "(d) by the prediction, test images")):
        for loss in LOSSES:
            ax.plot(CENTRES, finite_mean(result.arrays(f"_by_prediction[{loss},{split}]")),
                    marker=plotting.marker(loss), ms=2.4, color=plotting.color(loss),
                    ls=plotting.linestyle(loss), label=plotting.display_name(loss))
        ax.set_xlabel(plotting.axis_label("prediction p (bin centre)", "intensity"))
        ax.set_ylabel(plotting.axis_label("mean p − y", "intensity"))
        ax.set_title(head)
    for ax in (ax_a, ax_b, ax_c, ax_d):
        plotting.guides(ax, y=[0])
        for v in (-GREY_LEVEL, GREY_LEVEL):
            plotting.mark_reference(ax.axhline(v, color="0.6", lw=0.5, ls=":", zorder=0))
    for sub in subs:
        plotting.panel_legend(sub)
    title(fig, LABEL, result.data.name, "BCE and MSE autoencoders against the conditional mean",
          "mean over " + seeds_note(result.seeds))
    return fig


FINDINGS = (
    Finding("Averaged over the bin pairs, BCE's errors lean toward ½ relative to MSE's by "
            "{obs:E4.null_lean_mean[train]:+.4f} on the training images and "
            "{obs:E4.null_lean_mean[test]:+.4f} on the test images."),
    Finding("At the bins 0.2 and 0.8 the lean is {effect:E4.null.lean[0.2,0.8]} "
            "({verdict:E4.null.lean[0.2,0.8]}); an effect this size is detected although it "
            "lies within one grey level.",
            when=(("E4.null.lean[0.2,0.8]", "confirmed"), ("E4.null.lean[0.2,0.8]", "detected"))),
    Finding("At the bins 0.2 and 0.8 the lean is {effect:E4.null.lean[0.2,0.8]} "
            "({verdict:E4.null.lean[0.2,0.8]}).",
            when=(("E4.null.lean[0.2,0.8]", ("refuted", "inconclusive")),)),
    Finding("Binned by the prediction, the BCE network's errors lean {row:E4.cmean.calib[bce]} "
            "and the MSE network's {row:E4.cmean.calib[mse]}: a positive lean means "
            "predictions nearer ½ than the targets they stand for (underconfident)."),
    Finding("Blur ratio (test images' gradient over the reconstructions'): BCE "
            "{obs:blur_ratio[ae_bce]:.3f}, MSE {obs:blur_ratio[ae_mse]:.3f}."),
)
