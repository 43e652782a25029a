"""E16 -- why the continuous Bernoulli's mean image is blurrier than the Bernoulli's on clipped
data: an unfinished fit or a decoder that stops short of the data's levels; and its parameter
push along the training path (for the pair experiment E17).

E6's control (data clipped into ``base.INTERIOR``: no exact 0s or 1s) predicts the CB mean image
at least as sharp as the Bernoulli reconstruction (Bhatia-Davis: a sharper likelihood at equal
mean); on MNIST, glyphs and mnist-soft it is about 9% blurrier (``E6.clipped.cb.sharper``).
E6's clipped VAEs (same streams: :func:`.networks.vae`) are trained on to :data:`STAGES`\\ [-1]
epochs and measured at each of :data:`STAGES` as E6 measures them (posterior mean, the first
:data:`N_EVAL` clipped test images).  The departure is the *sharpness deficit*
d = |grad Bernoulli reconstruction| - |grad CB mean image| (:func:`.images.mean_gradient`,
intensity per pixel; > 0: the CB is blurrier).  Rivals, each a row (rule "intensity"):

* **transient** (:func:`~lossanalysis.analysis.power_law_extrapolation`):
  ``E16.transient``: d at the last stage - the power law through the two earlier ones = 0;
* **plateau**: ``E16.plateau``: d at the last stage - d at E6's length = 0;
* **reach**: the CB's mean map mu(eta) flattens toward 0 and 1 (dmu/deta ~ mu^2 there, the
  sigmoid's ~ mu), so the decoder's image stops short of the data's dark and bright levels; an
  image scaled toward a grey by c has c times the contrast and c times the mean gradient
  (:func:`.images.contrast`).  From the contrasts on the first :data:`N_EVAL` *training*
  images: d = g_B (1 - c_CB / c_B).  ``E16.reach``: d - that = 0 (last stage);
* **spread**: the CB keeps the Bernoulli's levels and spreads its edges (less spatial
  information in the code).  ``E16.spread``: c_B - c_CB = 0 on the training images (last
  stage).  Reach and spread predict different contrasts whenever d is beyond the tolerance: the
  decisive pair.

Also measured at each stage, for the pair experiment E17 (``E7.e6_cb_lambda_push``): the CB
parameter push over the mid-grey test pixels, mean|lambda - 1/2| - mean|x - 1/2|, on the raw
images (E6's raw CB VAE, when E6's raw premise holds) and on the clipped ones, with the
analysis's push lambda = mu^-1(x) (E6's prediction: :func:`.cb.extremeness`).  Premises as
E6's (:func:`.cb.premises`).
"""
from __future__ import annotations

import math

import numpy as np

from .. import analysis, plotting
from ..protocol import CONFIRMED as _C
from ..protocol import REFUTED as _R
from ..protocol import Prediction
from . import networks as shared
from .base import Finding, rival_findings, rival_verdicts
from .cb import N_EVAL, VARIANTS, clip, extremeness, premises
from .figures import legend_below, seed_spread, seeds_note, title
from .images import contrast, mean_gradient, midgrey_mask
from .paths import stage_axis, verdict_findings

LABEL = "E16"
NAME = "The continuous Bernoulli's blur and parameter push along the training path"
STAGE = "mechanisms"              #: measured apart from the main study (``study --mechanisms``)
#: The main study's rows (id prefixes) whose departure from the analysis this explains.
EXPLAINS = ("E6.clipped.cb.sharper",)
STAGES, QUICK_STAGES = (4, 8, 24), (1, 2, 3)
LIKS = ("bernoulli", "continuous_bernoulli")
OBSERVATIONS = {
    **{f"E16.{q}[{o}][t={t}]": u for t in STAGES for o in LIKS for q, u in (
        ("sharpness", "intensity"), ("contrast", "intensity"))},
    **{f"E16.{q}[t={t}]": u for t in STAGES for q, u in (
        ("deficit", "intensity"), ("deficit_reach", "intensity"), ("sharper", "ratio"))},
    **{f"E16.push[{v}][t={t}]": "intensity" for v in VARIANTS for t in STAGES},
    **{f"E16.analysis_push[{v}]": "intensity" for v in VARIANTS},
    "E16.sharpness[data]": "intensity", "E16.contrast[data]": "intensity"}


def networks(data, quick):
    ok, st = premises(data), QUICK_STAGES if quick else STAGES
    if ok["clipped"]:
        return {}
    out = {f"{lik}_clipped": shared.vae(data, quick, likelihood=lik, variant="clipped",
                                        epochs=max(st), snapshots=st) for lik in LIKS}
    if not ok["raw"]:
        out["continuous_bernoulli_raw"] = shared.vae(data, quick, likelihood=LIKS[1],
                                                     epochs=max(st), snapshots=st)
    return out


def predictions(data) -> list:
    na, (t0, t1, t2) = premises(data)["clipped"], STAGES
    what = ("the sharpness deficit of the CB mean image on clipped data (|grad| of the Bernoulli "
            "reconstruction - |grad| of the CB mean image)")

    def row(rid, statement, quantity, source, reason):
        return Prediction(f"E16.{rid}", statement, quantity, 0.0, "intensity", applicable=na,
                          source=source, reason=reason)
    return [
        row("transient", f"{what} decays as a power of the training length: its value at epoch "
            f"{t2} is the power law through epochs {t0} and {t1}", f"deficit at epoch {t2} - "
            "the power law's", "analysis.power_law_extrapolation", "a deficit the likelihood "
            "holds at its optimum would not decay"),
        row("plateau", f"{what} stays from epoch {t1} (E6's length) to {t2}", f"deficit at "
            f"epoch {t2} - deficit at epoch {t1}", "the deficit is not a transient of training",
            "an unfinished fit would move on"),
        row("reach", f"at epoch {t2}, {what} is the CB's shortfall in contrast: the Bernoulli's "
            "sharpness times 1 - (CB contrast / Bernoulli contrast) on the training images",
            f"deficit - g_B (1 - c_CB / c_B) at epoch {t2}", "images.contrast: an image scaled "
            "toward a grey by c has c times the contrast and the mean gradient", "a CB that "
            "keeps the levels and blurs its edges has the contrast but not the sharpness"),
        row("spread", f"at epoch {t2}, the CB mean image keeps the Bernoulli reconstruction's "
            "contrast on the training images (its deficit lies in wider edges)",
            f"contrast of the Bernoulli reconstruction - of the CB mean image at epoch {t2}",
            "images.contrast (mean over x >= 1/2 - mean over x < 1/2)", "a CB decoder that "
            "stops short of the dark and bright levels loses contrast")]


def _analysis_push(x) -> float:
    """E6's predicted push over the mid-grey pixels of ``x``: lambda = mu^-1(x)."""
    ext = extremeness(x)
    return ext["predicted"] - ext["data"]


def _push(model, x) -> float:
    """The CB parameter push over the mid-grey pixels of ``x`` (posterior mean)."""
    lam = model.decode(model.encode(x)[0], kind="param").astype(np.float64)
    y, mid = x.astype(np.float64), midgrey_mask(x)                # E6's pixels
    return float(np.mean(np.abs(lam[mid] - 0.5)) - np.mean(np.abs(y[mid] - 0.5))) \
        if mid.any() else math.nan


def measure(nets, data) -> dict:
    out = {k: math.nan for k in OBSERVATIONS}
    if not nets:                                # the premise fails: nothing was trained
        return out
    xe = clip(data.test[:N_EVAL])
    xt = data.train(nets["bernoulli_clipped"]["n"], "clipped")[:N_EVAL]
    ye, yt = xe.astype(np.float64), xt.astype(np.float64)
    out.update({"E16.sharpness[data]": mean_gradient(ye, data.shape),
                "E16.contrast[data]": contrast(yt, yt),
                "E16.analysis_push[clipped]": _analysis_push(xe)})
    if "continuous_bernoulli_raw" in nets:
        out["E16.analysis_push[raw]"] = _analysis_push(data.test[:N_EVAL])
    stages = sorted(nets["bernoulli_clipped"]["epochs"])
    d = {}
    for a, t in zip(STAGES, stages):
        g, c = {}, {}
        for lik in LIKS:
            model = nets[f"{lik}_clipped"]["epochs"][t]
            g[lik] = mean_gradient(model.decode(model.encode(xe)[0]).astype(np.float64),
                                   data.shape)
            c[lik] = contrast(model.decode(model.encode(xt)[0]).astype(np.float64), yt)
            out[f"E16.sharpness[{lik}][t={a}]"], out[f"E16.contrast[{lik}][t={a}]"] = g[lik], c[lik]
        b, cb = LIKS
        d[t] = out[f"E16.deficit[t={a}]"] = g[b] - g[cb]
        out[f"E16.deficit_reach[t={a}]"] = g[b] * (1 - c[cb] / c[b])
        out[f"E16.sharper[t={a}]"] = g[b] / g[cb]          # E6's ratio of blur ratios
        out[f"E16.push[clipped][t={a}]"] = _push(nets["continuous_bernoulli_clipped"]["epochs"]
                                                 [t], xe)
        if "continuous_bernoulli_raw" in nets:
            out[f"E16.push[raw][t={a}]"] = _push(nets["continuous_bernoulli_raw"]["epochs"][t],
                                                 data.test[:N_EVAL])
    (t0, t1, t2), last = stages, STAGES[-1]
    out["E16.transient"] = d[t2] - analysis.power_law_extrapolation((t0, t1), (d[t0], d[t1]), t2)
    out["E16.plateau"] = d[t2] - d[t1]
    out["E16.reach"] = d[t2] - out[f"E16.deficit_reach[t={last}]"]
    out["E16.spread"] = out[f"E16.contrast[{LIKS[0]}][t={last}]"] - \
        out[f"E16.contrast[{LIKS[1]}][t={last}]"]
    out["_stages"] = np.array(stages)                 # the epochs really measured
    return out


_DEFICIT = dict(marker="o", ms=3.5, color=plotting.color("continuous_bernoulli"))
_REACH = dict(marker="s", ms=3.0, mfc="none", ls=(0, (3, 2)), color=plotting.color("", 1))
_PUSH = {"raw": dict(marker="o", ms=3.5, color=plotting.color("", 0)),
         "clipped": dict(marker="s", ms=3.0, color=plotting.color("", 2))}


@plotting.style()
def figure(result):
    """(a) the sharpness deficit and the contrast's (reach) prediction, (b) the CB parameter
    push on raw and clipped images with the analysis's, at the three stages (mean ± sd)."""
    if result.row("E16.plateau").verdict == "not applicable":
        return None
    fig, (ax_a, ax_b) = plotting.figure(1, 2, columns=2, height=2.8)
    at = result.per_seed[0]["_stages"]

    def per(key):
        return seed_spread([[m[key.format(t=t)] for t in STAGES] for m in result.per_seed])
    ax_a.errorbar(at, *per("E16.deficit[t={t}]"), **_DEFICIT)
    ax_a.errorbar(at, *per("E16.deficit_reach[t={t}]"), **_REACH)
    entries = [("sharpness deficit, measured (test images)", _DEFICIT),
               (r"reach: $g_\mathrm{B}\,(1 - c_\mathrm{CB} / c_\mathrm{B})$ (training images)",
                _REACH)]
    for v, style in _PUSH.items():
        mean, sd = per(f"E16.push[{v}][t={{t}}]")
        if np.isfinite(mean).any():
            ax_b.errorbar(at, mean, sd, **style)
            ref = ax_b.axhline(result.per_seed[0][f"E16.analysis_push[{v}]"], lw=0.8,
                               ls=":", color=style["color"])
            plotting.mark_reference(ref)
            entries += [(f"CB push, {v} images", style),
                        (f"λ = μ⁻¹(x), {v} images",
                         dict(lw=0.8, ls=":", color=style["color"]))]
    for ax, what, head in ((ax_a, "sharpness deficit", "(a) |∇ Bernoulli| − |∇ CB mean|, "
                            "clipped"), (ax_b, "push of λ from ½",
                                         "(b) mean |λ − ½| − mean |x − ½|, mid-grey")):
        stage_axis(ax, at)
        ax.set(title=head, ylabel=plotting.axis_label(what, "intensity"))
    legend_below(fig, entries, ncols=3)
    title(fig, LABEL, result.data.name, "continuous Bernoulli along the training path",
          "mean ± sd over " + seeds_note(result.seeds))
    return fig


#: The conclusion for each pair of verdicts (reach row, spread row).
CONTRAST = rival_verdicts("reach", "spread", "contrasts", {
    (_C, _R): "the CB mean image's sharpness differs from the Bernoulli's in proportion to its "
              "contrast: the levels its decoder reaches set the deficit (reach), not its edges.",
    (_R, _C): "the CB mean image keeps the Bernoulli's contrast and its sharpness still "
              "differs: its edges (spread), not its levels.",
    (_R, _R): "neither: the CB's contrast differs from the Bernoulli's, but not in proportion to "
              "its sharpness.",
    (_C, _C): "both rivals lie within the tolerance: the deficit is too small to separate them."})

FINDINGS = (
    Finding("Sharpness deficit of the CB mean image on clipped data: " + ", ".join(
        f"{{obs:E16.deficit[t={t}]:+.4f}} at epoch {t}" for t in STAGES) + " (the data's "
        "sharpness {obs:E16.sharpness[data]:.4f}); E6's ratio at the last stage "
        f"{{obs:E16.sharper[t={STAGES[-1]}]:.3f}}; transient {{row:E16.transient}}; plateau "
        "{row:E16.plateau}."),
    *verdict_findings("The sharpness deficit", "E16.transient", "E16.plateau"),
    Finding(f"Contrast on the training images at epoch {STAGES[-1]}: Bernoulli "
            f"{{obs:E16.contrast[bernoulli][t={STAGES[-1]}]:.4f}}, CB "
            f"{{obs:E16.contrast[continuous_bernoulli][t={STAGES[-1]}]:.4f}} (the data's "
            "{obs:E16.contrast[data]:.4f}); the deficit reach predicts "
            f"{{obs:E16.deficit_reach[t={STAGES[-1]}]:+.4f}}; reach {{row:E16.reach}}; spread "
            "{row:E16.spread}."),
    *rival_findings("The deficit's cause", "E16.reach", "E16.spread", CONTRAST),
    *(Finding(f"CB parameter push over the mid-grey test pixels, {v} images: " + ", ".join(
        f"{{obs:E16.push[{v}][t={t}]:.4f}}" for t in STAGES) + " at epochs "
        + ", ".join(str(t) for t in STAGES)
        + f" (λ = μ⁻¹(x): {{obs:E16.analysis_push[{v}]:.4f}}).",
        ((f"obs:E16.analysis_push[{v}]", "finite"),)) for v in VARIANTS),
)
