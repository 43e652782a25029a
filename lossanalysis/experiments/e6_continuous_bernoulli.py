"""E6 -- the continuous Bernoulli (CB) decoder against the Bernoulli decoder.

The CB (Loaiza-Ganem & Cunningham 2019, arXiv 1907.06845) makes the Bernoulli a density on
[0, 1]; its mean mu(lambda) lies between lambda and 1/2.  Predicted for MLP VAEs of one
architecture and seed (:func:`..networks.vae`), decoded at the posterior mean (test images):

* ``cb.param_expansion``: the minimizer for a target x is lambda = mu^-1(x) (``analysis.argmin``),
  so over mid-grey pixels mean|lambda - 1/2| - mean|x - 1/2| is as predicted ("intensity");
* ``cb.mean_intensity``, ``bernoulli.mean_intensity``: canonical link, so at a stationary output
  bias the mean image's mean is the data's (0, "intensity");
* ``cb.mae_ratio``, ``cb.sharper``: the CB mean image's MAE and blur ratio over the Bernoulli's,
  at most 1 ("ratio"): the CB's variance at each mean is below m(1 - m) (Bhatia-Davis);
* ``cb.active_dims``: CB minus Bernoulli active latent dimensions, at least 0 ("count").

All falsifiable, except ``cb.active_dims`` when E5's rule puts the Bernoulli count at the latent
size (both at the cap: consistency).  The CB has no minimizer at an exact 0 or 1, so every row
is also measured on data clipped into ``base.INTERIOR`` (the control ``E6.clipped.*``, predicted
from the clipped data).  Premises (data statistics): raw rows need :data:`.cb.MIN_BOUNDARY` of the
training pixels exactly 0 or 1 (else no boundary to test; the control covers the data), all rows
:data:`.cb.MIN_IMAGES` training images, the expansion :data:`.cb.MIN_MIDGREY` mid-grey test pixels.
"""
from __future__ import annotations

import math
import re

import numpy as np

from .. import analysis, plotting
from ..analysis import KL_THRESHOLD, cb_variance, predicted_active_dims, whitened_spectrum
from ..protocol import CONSISTENCY, FALSIFIABLE, NOT_APPLICABLE, ROW_VERDICTS, Prediction
from . import networks as shared
from .base import INTERIOR, Finding, rng
from .cb import MIN_MIDGREY, N_EVAL, VARIANTS, clip, extremeness, premises
from .figures import image_rows, legend_below, seeds_note, title
from .images import blur_stats, midgrey_fraction, midgrey_mask
from .leans import finite_mean

LABEL = "E6"
NAME = "The continuous Bernoulli against the Bernoulli decoder"
OUTPUTS = ("bernoulli", "continuous_bernoulli", "continuous_bernoulli_param")
LIKS = ("bernoulli", "continuous_bernoulli")
PREFIX = {"raw": "E6.", "clipped": "E6.clipped."}
EDGES = np.linspace(0, 1, 21)   #: bins of the data intensity for the figure's curves
COST = 1.5
_JUDGEABLE = tuple(v for v in ROW_VERDICTS if v != NOT_APPLICABLE)
_PER = {"midgrey_fraction": "fraction", "mae": "intensity", "mse": "intensity²", "mae_stroke":
        "intensity", "param_extremeness": "intensity", "mae_background": "intensity",
        "mean_intensity": "intensity", "active_dims": "count", "kl_total": "nats",
        "mean_intensity_sampled": "intensity", "logit_background_median": "logit"}  # 7 per output
_PER_DATA = {"mean_intensity[data]": "intensity", "midgrey_fraction[data]": "fraction",
             "param_extremeness[data]": "intensity", "predicted_param_extremeness": "intensity",
             "variance_ratio": "ratio", "mae_ratio": "ratio"}
OBSERVATIONS = {"E6.background_fraction": "fraction", **{
    f"blur_ratio[vae_{o}{'' if v == 'raw' else '_clipped'}]": "ratio" for v in VARIANTS
    for o in OUTPUTS if (o, v) != ("bernoulli", "raw")}}      # E5 publishes the raw Bernoulli's
for _p in PREFIX.values():
    OBSERVATIONS.update({f"{_p}{k}[{o}]": u for i, (k, u) in enumerate(_PER.items())
                         for o in (OUTPUTS if i < 7 else LIKS)})
    OBSERVATIONS.update({f"{_p}{k}": u for k, u in _PER_DATA.items()})


def variance_ratio(x) -> float:
    """Mean over the pixels of the mean image m (0 < m < 1) of Var_CB(m) / (m (1 - m))."""
    m = np.asarray(x, dtype=np.float64).mean(axis=0)
    m = m[(m > 0) & (m < 1)]
    return float(np.mean(cb_variance(m) / (m * (1 - m)))) if m.size else math.nan


def networks(data, quick):
    return {f"{lik}_{v}": shared.vae(data, quick, likelihood=lik, variant=v)
            for v, why in premises(data).items() if not why for lik in LIKS}


def predictions(data) -> list:
    ok, out, latent = premises(data), [], shared.vae_sizes(data.D)[2]
    why = ("nothing in training enforces it on test images decoded at the posterior mean; a "
           "measurement off the prediction would contradict the analysis")
    for v, pre in PREFIX.items():
        tag = "" if v == "raw" else f"(data clipped into [{INTERIOR[0]}, {INTERIOR[1]}]) "

        def row(rid, statement, quantity, value, rule, comparison="equal", **kw):
            return Prediction(pre + rid, tag + statement, quantity, value, rule, comparison,
                              **{"reason": why, "applicable": ok[v], **kw})
        ext = extremeness(clip(data.test[:N_EVAL], v))
        few = ok[v] or (f"{ext['n']} mid-grey evaluation pixels (fewer than {MIN_MIDGREY})"
                        if ext["n"] < MIN_MIDGREY else "")
        x = clip(data.train[:data.n_train(10000)], v)
        cap = not ok[v] and predicted_active_dims(whitened_spectrum(x), 1.0, latent) >= latent
        out += [
            row("cb.param_expansion", "the CB parameter image lambda = mu^-1(x) is more extreme "
                "than the data", "mean |lambda - 1/2| - mean |x - 1/2| over evaluation pixels "
                "with 0.2 < x < 0.8", 0.0 if few else ext["predicted"] - ext["data"],
                "intensity", applicable=few, source="analysis.argmin('continuous_bernoulli', "
                "x) at the evaluation images' mid-grey intensities"),
            *(row(f"{lik}.mean_intensity", f"the {name} have the data's mean intensity "
                  "(canonical link: the logit gradient is mean - x)",
                  f"mean intensity of the {name} - the data's", 0.0, "intensity",
                  source="exponential family in the logit; analysis.logit_gradient")
              for lik, name in (("cb", "CB mean images"),
                                ("bernoulli", "Bernoulli reconstructions"))),
            row("cb.mae_ratio", "the CB mean image is at least as accurate as the Bernoulli "
                "reconstruction", "mean |CB mean image - x| / mean |Bernoulli "
                "reconstruction - x|", 1.0, "ratio", "at_most", source="Bhatia-Davis: Var <= "
                "m(1 - m) on [0, 1], the CB's below it (analysis.cb_variance)"),
            row("cb.sharper", "the CB mean image is at least as sharp as the Bernoulli "
                "reconstruction", "blur ratio of the CB mean images / that of the Bernoulli "
                "reconstructions", 1.0, "ratio", "at_most", source="as cb.mae_ratio"),
            row("cb.active_dims", "the CB VAE uses at least as many latent dimensions as the "
                "Bernoulli VAE", f"active dims (KL > {KL_THRESHOLD:g} nats), CB - Bernoulli",
                0.0, "count", "at_least", kind=CONSISTENCY if cap else FALSIFIABLE,
                reason=f"the Bernoulli VAE's predicted count is the latent size ({latent}): "
                "both counts sit at the cap" if cap else "the Bernoulli VAE's predicted count "
                "lies below the latent size: the CB could use fewer dimensions",
                source="a sharper likelihood weighs the data term more against the KL (E5's "
                "rule: analysis.predicted_active_dims)")]
    return out


def _binned(x, v) -> np.ndarray:
    """Mean of ``v`` per bin of :data:`EDGES` of the data intensity ``x`` (NaN where empty)."""
    idx = np.clip(np.searchsorted(EDGES, np.ravel(x), side="right") - 1, 0, len(EDGES) - 2)
    n = np.bincount(idx, minlength=len(EDGES) - 1)
    return np.bincount(idx, np.ravel(v), len(EDGES) - 1) / np.where(n > 0, n, np.nan)


def _mean(a, mask) -> float:
    return float(np.mean(a[mask])) if mask.any() else math.nan


def _variant(nets, data, v) -> dict:
    pre, suffix, xe = PREFIX[v], "" if v == "raw" else "_clipped", clip(data.test[:N_EVAL], v)
    y, black = xe.astype(np.float64), data.test[:N_EVAL] == 0     # exact 0s of the raw data
    x = data.train(nets[f"bernoulli_{v}"]["n"], v)           # the VAEs' training images
    out, outs = {}, {}
    for lik in LIKS:
        model = nets[f"{lik}_{v}"]["epochs"][max(nets[f"{lik}_{v}"]["epochs"])]
        kl, (mu, logvar) = model.kl_per_dim(x), model.encode(xe)
        eta = model.decode(mu, kind="logit").astype(np.float64)
        outs[lik] = model.decode(mu).astype(np.float64)
        if lik == "continuous_bernoulli":
            outs["continuous_bernoulli_param"] = model.decode(mu, kind="param").astype(float)
        eps = rng(data.seed, LABEL, "posterior").standard_normal(mu.shape).astype(mu.dtype)
        out.update({f"{pre}active_dims[{lik}]": int(np.count_nonzero(kl > KL_THRESHOLD)),
                    f"{pre}kl_total[{lik}]": float(kl.sum()),
                    f"{pre}mean_intensity_sampled[{lik}]": float(np.mean(model.decode(
                        mu + np.exp(0.5 * logvar) * eps), dtype=np.float64)),
                    f"{pre}logit_background_median[{lik}]":
                        float(np.median(eta[black])) if black.any() else math.nan})
    blur, mid, stroke = {}, midgrey_mask(xe), xe > np.float32(0.2)
    for o, p in outs.items():
        b = blur_stats(p, y, data.shape)
        err, blur[o] = np.abs(p - y), b["blur_ratio"]
        if (o, v) != ("bernoulli", "raw"):                  # E5 publishes that one
            out[f"blur_ratio[vae_{o}{suffix}]"] = b["blur_ratio"]
        out.update({f"{pre}midgrey_fraction[{o}]": b["midgrey"], f"{pre}mae[{o}]": b["mae"],
                    f"{pre}mse[{o}]": b["mse"], f"{pre}mean_intensity[{o}]": float(p.mean()),
                    f"{pre}param_extremeness[{o}]": _mean(np.abs(p - 0.5), mid),
                    f"{pre}mae_background[{o}]": _mean(err, black),
                    f"{pre}mae_stroke[{o}]": _mean(err, stroke),
                    f"_curve[{v},{o}]": _binned(y, p), f"_examples[{v},{o}]": p[:6]})
    ext, cb, be = extremeness(xe), "[continuous_bernoulli]", "[bernoulli]"
    with np.errstate(divide="ignore", invalid="ignore"):   # a flat image: inf or nan
        ratio = np.float64(out[f"{pre}mae{cb}"]) / out[f"{pre}mae{be}"]
        sharper = np.float64(blur["continuous_bernoulli"]) / blur["bernoulli"]
    return {**out, f"{pre}mean_intensity[data]": float(y.mean()),
            f"{pre}midgrey_fraction[data]": midgrey_fraction(xe),
            f"{pre}param_extremeness[data]": ext["data"],
            f"{pre}predicted_param_extremeness": ext["predicted"],
            f"{pre}variance_ratio": variance_ratio(clip(
                data.study.train[:data.study.n_train(10000)], v)),
            f"{pre}mae_ratio": float(ratio), f"{pre}cb.mae_ratio": float(ratio),
            f"{pre}cb.param_expansion":
                out[f"{pre}param_extremeness[continuous_bernoulli_param]"] - ext["data"],
            f"{pre}cb.mean_intensity": out[f"{pre}mean_intensity{cb}"] - y.mean(),
            f"{pre}bernoulli.mean_intensity": out[f"{pre}mean_intensity{be}"] - y.mean(),
            f"{pre}cb.sharper": float(sharper),
            f"{pre}cb.active_dims": float(out[f"{pre}active_dims{cb}"]
                                          - out[f"{pre}active_dims{be}"]), f"_x[{v}]": xe[:6]}


def measure(nets, data) -> dict:
    out = {"E6.background_fraction": float(np.mean(data.test[:N_EVAL] == 0))}
    for v in (v for v in VARIANTS if f"bernoulli_{v}" in nets):     # the applicable ones
        out.update(_variant(nets, data, v))
    return {**{k: math.nan for k in OBSERVATIONS}, **out}


_LABELS = {"data": "output = data", "predicted": r"predicted $\lambda = \mu^{-1}(x)$",
           "bernoulli": "Bernoulli decoder p", "continuous_bernoulli": r"CB mean $\mu(\lambda)$",
           "continuous_bernoulli_param": r"CB parameter $\lambda$"}
_STYLES = {"data": dict(color="0.6", lw=0.6, ls=":"), "predicted": dict(
    color=plotting.color("continuous_bernoulli"), lw=0.8, ls=(0, (3, 2))), **{
    o: dict(marker="o", ms=2.2, lw=1.0, color=plotting.color(c))
    for o, c in zip(OUTPUTS, ("bce", "mse", "continuous_bernoulli"))}}


@plotting.style()
def figure(result):
    """(a) test images and the three outputs; the mean output in bins of the data intensity
    (b) on the raw data and (c) on the control's clipped data; one legend below."""
    done = [v for v in VARIANTS if f"_curve[{v},bernoulli]" in result.per_seed[0]]
    if not done:                                          # no VAE: nothing to draw
        return None
    fig, (ax_img, *axes) = plotting.figure(1, 3, columns=2, height=2.7,
                                           gridspec_kw={"width_ratios": [1.3, 1.0, 1.0]})
    first, v0 = result.per_seed[0], done[0]
    image_rows(ax_img, [first[f"_x[{v0}]"]] + [first[f"_examples[{v0},{o}]"] for o in OUTPUTS],
               ["data"] + [_LABELS[o] for o in OUTPUTS], shape=result.data.shape)
    ax_img.set_title(f"(a) {v0} data, posterior mean")
    grid = np.linspace(0.01, 0.99, 99)
    centres = 0.5 * (EDGES[:-1] + EDGES[1:])
    for ax, v, what in zip(axes, VARIANTS, ("(b) raw data", "(c) control, clipped data")):
        plotting.mark_reference(ax.plot(grid, grid, **_STYLES["data"])[0])
        ax.plot(grid, analysis.argmin("continuous_bernoulli", grid), **_STYLES["predicted"])
        for o in OUTPUTS if v in done else ():
            ax.plot(centres, finite_mean(result.arrays(f"_curve[{v},{o}]")), **_STYLES[o])
        ax.set(xlim=(0, 1), ylim=(0, 1), title=what + ("" if v in done else ": not applicable"),
               xlabel=plotting.axis_label("data intensity x", "intensity"),
               ylabel=plotting.axis_label("mean output", "intensity"))
    legend_below(fig, [(_LABELS[k], s) for k, s in _STYLES.items()], ncols=5, columnspacing=1.2)
    title(fig, LABEL, result.data.name, "continuous Bernoulli (CB) against Bernoulli decoder",
          f"a: {seeds_note(result.seeds[:1])}; b, c: {seeds_note(result.seeds)}")
    return fig


def _findings(text, when) -> list:
    """The finding on the raw data and the control's (reading the E6.clipped.* names)."""
    ctl = re.sub(r"(blur_ratio\[vae_\w+)\]", r"\1_clipped]", text.replace(":E6.", ":E6.clipped."))
    return [Finding(text[0].upper() + text[1:], when),
            Finding("In the control (clipped data), " + ctl,
                    tuple((rid.replace("E6.", "E6.clipped.", 1), ok) for rid, ok in when))]


FINDINGS = (
    *_findings("over the mid-grey pixels the CB parameter image λ lies "
               "{obs:E6.param_extremeness[continuous_bernoulli_param]:.3f} from ½ on average "
               "(λ = μ⁻¹(x) would lie {obs:E6.predicted_param_extremeness:.3f}, the data "
               "{obs:E6.param_extremeness[data]:.3f}); the CB mean image lies "
               "{obs:E6.param_extremeness[continuous_bernoulli]:.3f} from ½.",
               (("E6.cb.param_expansion", _JUDGEABLE),)),
    *_findings("the CB's variance at the training mean image is {obs:E6.variance_ratio:.2f} "
               "of the Bernoulli's m(1 − m) on average (a sharper likelihood); information in "
               "the code (total KL): Bernoulli {obs:E6.kl_total[bernoulli]:.1f} nats, CB "
               "{obs:E6.kl_total[continuous_bernoulli]:.1f}.",
               (("E6.cb.active_dims", _JUDGEABLE),)),
    Finding("{obs:E6.background_fraction:.1%} of the test pixels are exactly 0, where the CB "
            "has no minimizer; their median decoder logit is {obs:E6.logit_background_median"
            "[continuous_bernoulli]:.1f} (CB), {obs:E6.logit_background_median[bernoulli]:.1f} "
            "(Bernoulli).", (("E6.cb.mae_ratio", _JUDGEABLE),)),
    *_findings("over a posterior sample per image the mean intensity is "
               "{obs:E6.mean_intensity_sampled[continuous_bernoulli]:.4f} (CB), "
               "{obs:E6.mean_intensity_sampled[bernoulli]:.4f} (Bernoulli), the data's "
               "{obs:E6.mean_intensity[data]:.4f}.", (("E6.cb.mean_intensity", "refuted"),)),
    *_findings("mean |error| above 0.2: CB {obs:E6.mae_stroke[continuous_bernoulli]:.3f}, "
               "Bernoulli {obs:E6.mae_stroke[bernoulli]:.3f}; on the raw data's exact 0s "
               "{obs:E6.mae_background[continuous_bernoulli]:.4f} and "
               "{obs:E6.mae_background[bernoulli]:.4f}.  Bhatia–Davis compares the likelihoods "
               "at equal mean; near 0 the CB weighs an error by ~1/m² (its variance ~m²), the "
               "Bernoulli by ~1/m, so the CB's capacity goes to the dark pixels.",
               (("E6.cb.mae_ratio", "refuted"),)),
    *_findings("blur ratios: CB mean image {obs:blur_ratio[vae_continuous_bernoulli]:.3f}, λ "
               "{obs:blur_ratio[vae_continuous_bernoulli_param]:.3f}.  Bhatia–Davis speaks of "
               "curvature, not edge contrast; a possible reason: μ(η) flattens toward 0 and 1 "
               "(dμ/dη ~ m² there), so an uncertain edge has less contrast in μ(η) than in "
               "sigmoid(η).", (("E6.cb.sharper", "refuted"),)),
)
