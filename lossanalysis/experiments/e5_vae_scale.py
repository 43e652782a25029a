"""E5 -- the VAE's likelihood scale, its active latent dimensions and the blur of its images.

A Gaussian decoder with fixed σ is the summed squared error times 1/(2σ²) (Rybkin et al. 2021):
σ prices a nat of reconstruction against a nat of KL.  For a linear decoder the optimum is
probabilistic PCA (Tipping & Bishop 1999; Lucas et al. 2019): direction i opens iff the
covariance eigenvalue λ_i > σ², with KL ½ ln(λ_i/σ²) (analysis.predicted_active_dims on the
training split's spectrum).  The Bernoulli decoder sits on the σ axis at σ_eff (analysis.
bernoulli_sigma_zero_rate) and opens the whitened spectrum's directions above 1.  Larger σ:
fewer open directions, less information in the code, blurrier images.  Rows (active: KL > τ):

* ``E5.linear.active[sigma=s]`` (rule count): the linear VAE's count is the rule's (consistency
  at the latent cap).  ``E5.mlp.active[<decoder>]`` (count, at most): an MLP decoder opens at
  most the linear count, counted after a longer run (spare dimensions collapse slowly).
* ``E5.mlp.active_order`` (rank, 4 items, at most): ρ(σ, count) is that of the rule's counts,
  each count as in its count row; a seed whose counts all tie gives ρ = 0 (ρ of a constant is
  undefined; 0 lies outside the band, so a tie refutes instead of hiding).
* ``E5.mlp.rate_order`` (rank, 4, at most -1), ``E5.blur.order``, ``E5.midgrey.order`` (rank,
  5 with the Bernoulli at σ_eff, at least 1): the total KL falls, blur and mid-grey share rise
  with σ.  ``E5.bernoulli.blur_rank`` (count): the fixed σ > σ_eff are the blurrier ones.
* ``E5.learned.calibration`` (ratio, consistency): learned σ² / MSE = 1 (zero gradient in σ).
The rest are falsifiable (a trained decoder need not be optimal).  Premise: at least
:data:`MIN_IMAGES` training images per seed (fewer: too few Adam steps to near the optimum); a
count at the latent size, or counts tied at every σ, predict nothing (not applicable).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import plotting
from ..analysis import (KL_THRESHOLD, bernoulli_sigma_eff, bernoulli_sigma_zero_rate,
                         linear_optimum_nll, predicted_active_dims, spectrum,
                         whitened_spectrum)
from ..protocol import CONSISTENCY, FALSIFIABLE, Prediction
from . import networks as shared
from .base import Finding, rng
from .figures import image_rows, legend_below, seeds_note, title
from .images import mean_gradient, midgrey_fraction

LABEL, NAME = "E5", "VAE likelihood scale, active dimensions and blur"
SIGMAS, LINEAR_SIGMAS, LIN = (1.0, 0.5, 0.3, 0.1), (2.0, 1.0, 0.7, 0.5), shared.LINEAR_LATENT
FIXED = tuple(f"gaussian_sigma{s:g}" for s in SIGMAS)
DECODERS = {**dict(zip(FIXED, (("gaussian", s) for s in SIGMAS))),
            "gaussian_learned": ("gaussian", "shared"), "bernoulli": ("bernoulli", 1.0)}
COUNTED = FIXED + ("bernoulli",)
#: The count's longer run (the common length: networks.vae's 8 epochs), test and calibration images.
COUNT_EPOCHS, N_EVAL, N_CALIB, MIN_IMAGES, COST = 24, 2000, 2000, 5000, 3.0
OBSERVATIONS = {
    **{q.format(d): u for d in DECODERS for q, u in (
        ("blur_ratio[vae_{}]", "ratio"), ("E5.midgrey_fraction[{}]", "fraction"),
        ("E5.mse[{}]", "intensity²"), ("E5.active_dims[{}]", "count"),
        ("E5.kl_total[{}]", "nats"))},
    **{f"E5.collapsed_kl[{d}]": "nats" for d in COUNTED},
    **{f"E5.{q}_linear[sigma={s:g}]": "nats" for s in LINEAR_SIGMAS
       for q in ("rate", "elbo_gap", "collapsed_kl")},
    "E5.midgrey_fraction[data]": "fraction", "E5.sigma[gaussian_learned]": "intensity",
    **{f"E5.sigma_eff{k}[bernoulli]": "intensity" for k in ("", "_at_data", "_posthoc")}}


@functools.lru_cache(maxsize=4)
def plan(study) -> dict:
    """From ``study``'s training split alone: spectra, σ_eff, counts, premise, long runs."""
    x, latent = study.train, shared.vae_sizes(study.D)[-1]
    lam = spectrum(x)
    varies = bool(lam[0] > 0)                 # the Bernoulli's count: whitened spectrum vs 1
    counts = {d: predicted_active_dims(lam, s, latent) for d, s in zip(FIXED, SIGMAS)}
    counts["bernoulli"] = predicted_active_dims(whitened_spectrum(x) if varies else [0], 1, latent)
    k = study.n_train(shared.vae(study, likelihood="bernoulli").n)
    na = ("" if varies else "the training images do not vary") or (
        f"{k} training images per seed (fewer than {MIN_IMAGES}): too few Adam steps to near "
        "the optimum the rules describe" if k < MIN_IMAGES else "")
    return {"lam": lam, "latent": latent, "counts": counts, "na": na,
            "linear": {s: predicted_active_dims(lam, s, LIN) for s in LINEAR_SIGMAS},
            "long": {d for d in COUNTED if not na and counts[d] < latent},
            "s_eff_data": bernoulli_sigma_eff(x),
            "s_eff": bernoulli_sigma_zero_rate(x) if varies else math.nan,
            "init_sigma": math.sqrt(max(float(lam.sum()) / study.D, 1e-6))}  # zero-rate optimum


def networks(data, quick):
    P = plan(data)
    nets = {f"linear{s:g}": shared.linear_vae(data, quick, sigma=s) for s in LINEAR_SIGMAS}
    for d, (lik, s) in DECODERS.items():
        more = {"epochs": COUNT_EPOCHS, "snapshots": (8,)} if d in P["long"] else {}
        nets[d] = shared.vae(data, quick, likelihood=lik, sigma=s, **more,
                             init_sigma=P["init_sigma"] if s == "shared" else 1.0)
    return nets


def predictions(data) -> list:
    P = plan(data)
    na, lat, counts, s_eff = P["na"], P["latent"], P["counts"], P["s_eff"]
    src, order = "analysis.spectrum; Lucas et al. 2019", "a trained net need not be optimal"
    kl_q = f"latent dimensions with mean KL > {KL_THRESHOLD:g} nats"
    fixed = tuple(counts[d] for d in FIXED)
    out = [Prediction(
        f"E5.linear.active[sigma={s:g}]", f"linear VAE (latent {LIN}), σ = {s:g}: the {n} "
        "directions with λ_i > σ² e^(2τ) are active", kl_q, float(n), "count", source=src,
        kind=CONSISTENCY if n >= LIN else FALSIFIABLE, applicable=na,
        reason="a measurement cannot exceed the cap" if n >= LIN else "the count follows the "
        "spectrum") for s, n in P["linear"].items()] + [Prediction(
        f"E5.mlp.active[{d}]", f"MLP VAE, {d}: at most the linear count of the "
        f"{'whitened ' if d == 'bernoulli' else ''}spectrum, {counts[d]}", f"{kl_q} (of {lat}), "
        "after the longer run", float(counts[d]), "count", "at_most", source=src,
        reason="a nonlinear decoder could open more directions than the linear bound",
        applicable=na or (f"the rule's count is the latent size {lat}: 'at most all' predicts "
                          "nothing" if counts[d] >= lat else "")) for d in COUNTED]
    out += [Prediction(
        "E5.mlp.active_order", f"MLP VAE: the counts fall with σ as the rule's {fixed} do",
        "Spearman ρ(σ, count), each as in its count row; all tied: 0", spearman(SIGMAS, fixed),
        "rank", "at_most", items=len(SIGMAS), reason=order, source=src,
        applicable=na or ("the rule's counts tie at every σ" if len(set(fixed)) == 1 else "")),
        Prediction("E5.mlp.rate_order", "MLP VAE: the total KL falls as the fixed σ grows",
                   "Spearman ρ(σ, total KL)", -1.0, "rank", "at_most", items=len(SIGMAS),
                   reason=order, applicable=na, source="at the optimum of D/(2σ²) + R, "
                   "(D_1 - D_2)(1/σ_1² - 1/σ_2²) <= 0: R cannot rise with σ")] + [Prediction(
        f"E5.{key}.order", f"the {what} rises with σ (the Bernoulli's: σ_eff = {s_eff:.3f})",
        f"Spearman ρ(σ, {what}) over the fixed σ and the Bernoulli", 1.0, "rank", "at_least",
        items=len(SIGMAS) + 1, reason=order, applicable=na, source="bernoulli_sigma_zero_rate")
        for key, what in (("blur", "blur ratio"), ("midgrey", "mid-grey share"))]
    return out + [Prediction(
        "E5.bernoulli.blur_rank", f"the Bernoulli blurs like a Gaussian of σ_eff = {s_eff:.3f}",
        "fixed-σ decoders blurrier than the Bernoulli", float(sum(s > s_eff for s in SIGMAS)),
        "count", applicable=na, reason="it could blur like another σ",
        source="bernoulli_sigma_zero_rate"), Prediction(
        "E5.learned.calibration", "the learned shared σ² equals the per-pixel MSE", "σ² / MSE "
        "(one posterior sample per training image)", 1.0, "ratio", kind=CONSISTENCY,
        applicable=na, source="Rybkin, Daniilidis & Levine 2021", reason="σ² = MSE zeroes the "
        "likelihood's gradient in σ: the row checks that training reached it")]


def spearman(a, b, tied=math.nan) -> float:
    """Spearman's ρ (average ranks for ties); ``tied`` when a side is constant, NaN if any is."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return math.nan
    ra, rb = ((np.sum(v < v[:, None], 1) + (np.sum(v == v[:, None], 1) + 1) / 2 - (v.size + 1) / 2)
              for v in (a, b))
    den = math.sqrt(float(np.sum(ra * ra) * np.sum(rb * rb)))
    return float(np.sum(ra * rb) / den) if den > 0 else tied


def collapsed_kl(kl, predicted: int) -> float:
    """Mean KL of the dimensions ranked below the ``predicted`` count (NaN if none)."""
    k = np.sort(np.asarray(kl, dtype=float))[::-1]
    return float(k[predicted:].mean()) if predicted < k.size else math.nan


def measure(nets, data) -> dict:
    P = plan(data.study)
    x, xt = data.train(nets["bernoulli"]["n"]), data.test[:N_EVAL]
    out = {"E5.sigma_eff[bernoulli]": P["s_eff"], "E5.sigma_eff_at_data[bernoulli]":
           P["s_eff_data"], "E5.midgrey_fraction[data]": midgrey_fraction(xt), "_x": xt[:8]}
    lam_x = spectrum(x)
    for s in LINEAR_SIGMAS:
        m, key = nets[f"linear{s:g}"], f"sigma={s:g}"
        kl, nelbo = m.kl_per_dim(x), m.evaluate(x, rng=rng(data.seed, LABEL, "elbo", key))["loss"]
        out.update({f"E5.linear.active[{key}]": float(np.sum(kl > KL_THRESHOLD)),
                    f"E5.rate_linear[{key}]": float(kl.sum()),
                    f"E5.elbo_gap_linear[{key}]": nelbo - linear_optimum_nll(lam_x, s, LIN),
                    f"E5.collapsed_kl_linear[{key}]": collapsed_kl(kl, P["linear"][s])})
    for d in DECODERS:
        snaps = nets[d]["epochs"]
        m = snaps[min(snaps)]
        kl, rec = m.kl_per_dim(x), m.reconstruct(xt).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):    # post hoc: p(1 - p) where it errs
            blur = np.float64(mean_gradient(xt, data.shape)) / mean_gradient(rec, data.shape)
            post = np.sqrt(np.sum(rec * (1 - rec) * (rec - xt) ** 2) / np.sum((rec - xt) ** 2))
        out.update({f"blur_ratio[vae_{d}]": float(blur), f"_examples[{d}]": rec[:8],
                    f"E5.midgrey_fraction[{d}]": midgrey_fraction(rec),
                    f"E5.mse[{d}]": float(np.mean((rec - xt) ** 2)),
                    f"E5.active_dims[{d}]": float(np.sum(kl > KL_THRESHOLD)),
                    f"E5.kl_total[{d}]": float(kl.sum())})
        if d == "gaussian_learned":                    # σ² / MSE, one posterior sample each
            mu, logvar = m.encode(x[:N_CALIB])
            eps = rng(data.seed, LABEL, "calibration").standard_normal(mu.shape).astype(mu.dtype)
            e = m.decode(mu + np.exp(0.5 * logvar) * eps).astype(np.float64) - x[:N_CALIB]
            sigma = out["E5.sigma[gaussian_learned]"] = float(m.term.sigma_values()[0])
            out["E5.learned.calibration"] = sigma ** 2 / float(np.mean(e ** 2))
        if d in COUNTED:
            kl_c = snaps[max(snaps)].kl_per_dim(x) if d in P["long"] else kl
            out[f"E5.mlp.active[{d}]"] = float(np.sum(kl_c > KL_THRESHOLD))
            out[f"E5.collapsed_kl[{d}]"] = collapsed_kl(kl_c, P["counts"][d])
    out["E5.sigma_eff_posthoc[bernoulli]"] = float(post)          # the Bernoulli's (the last)
    blur = [out[f"blur_ratio[vae_{d}]"] for d in COUNTED]
    counts = [out[f"E5.mlp.active[{d}]"] for d in FIXED]
    out.update({
        "E5.mlp.active_order": spearman(SIGMAS, counts, tied=0.0),         # a tie: no order
        "E5.mlp.rate_order": spearman(SIGMAS, [out[f"E5.kl_total[{d}]"] for d in FIXED]),
        "E5.blur.order": spearman(SIGMAS + (P["s_eff"],), blur),
        "E5.midgrey.order": spearman(SIGMAS + (P["s_eff"],),
                                     [out[f"E5.midgrey_fraction[{d}]"] for d in COUNTED]),
        "E5.bernoulli.blur_rank": float(sum(b > blur[-1] for b in blur[:-1]))})
    return out


def _style(c, marker, filled, ms) -> dict:
    c = plotting.color("", c)
    return dict(ls="none", marker=marker, ms=ms, mew=0.7, color=c, mfc=c if filled else "none")


_KINDS = {"linear": (f"linear VAE, latent {LIN}", _style(0, "o", True, 3.5)),
          "fixed": ("MLP, Gaussian, fixed σ", _style(1, "s", True, 3.5)),
          "long": ("MLP, fixed σ, after the longer run", _style(1, "s", False, 5.5)),
          "learned": ("MLP, Gaussian, learned σ (final)", _style(2, "^", True, 4.5)),
          "bernoulli": (r"MLP, Bernoulli at predicted $\sigma_\mathrm{eff}$",
                        _style(3, "D", True, 4.5)),
          "posthoc": (r"MLP, Bernoulli at post-hoc $\sigma_\mathrm{eff}$",
                      _style(3, "D", False, 4.5))}
_NAMES = [f"Gaussian, σ = {s:g}" for s in SIGMAS] + ["Gaussian, learned σ", "Bernoulli"]


def _marks(ax, kind, xs, runs, line=False):
    """Mean ± sd over the seeds of each run at ``xs``."""
    runs = [np.asarray(r, dtype=float) for r in runs]
    ax.errorbar(xs, [r.mean() for r in runs], [r.std(ddof=1) if r.size > 1 else 0 for r in runs],
                lw=0.8, elinewidth=0.7, **{**_KINDS[kind][1], "ls": "-" if line else "none"})


@plotting.style()
def figure(result):
    """(a) spectrum; (b) active dimensions, (c) blur, (d) mid-grey against σ; (e) images."""
    P, first, s_eff = plan(result.data), result.per_seed[0], plan(result.data)["s_eff"]
    per = lambda k: np.array([m.get(k, np.nan) for m in result.per_seed], float)  # noqa: E731
    fig, _ = plotting.figure(0, 0, columns=2, height=6.4)
    g = fig.add_gridspec(2, 6, height_ratios=[1.0, 1.15])
    ax_spec, ax_act, ax_blur = (fig.add_subplot(g[0, 2 * i:2 * i + 2]) for i in range(3))
    ax_grey, ax_img = fig.add_subplot(g[1, :2]), fig.add_subplot(g[1, 2:])
    lam, levels = P["lam"][:60], sorted(set(SIGMAS) | set(LINEAR_SIGMAS), reverse=True)
    at = [s * s * math.exp(2 * KL_THRESHOLD) for s in levels]
    ax_spec.semilogy(np.arange(1, lam.size + 1), lam, color="black", marker="o", ms=1.8, lw=0.8)
    for j, y in enumerate(at):
        plotting.mark_reference(ax_spec.axhline(y, lw=0.6, ls="--", color=plotting.color("", j)))
    ax_spec.secondary_yaxis("right").set_yticks(at, [f"σ = {s:g}" for s in levels], fontsize=6)
    ax_spec.set(xlabel=plotting.axis_label("eigenvalue index i", "count"), title="(a) data "
                "spectrum; lines: σ² e^(2τ)", ylabel=plotting.axis_label("λᵢ", "intensity²"))
    rules, grid = [], np.geomspace(0.08, 2.5, 120)
    for n, c, ls in ((LIN, 0, "-"), (P["latent"], 1, (0, (3, 2)))):
        rules.append((f"(b) linear rule, latent {n}", dict(color=plotting.color("", c), ls=ls)))
        ax_act.plot(grid, [predicted_active_dims(P["lam"], s, n) for s in grid], **rules[-1][1])
    learned, long = float(np.nanmean(per("E5.sigma[gaussian_learned]"))), sorted(P["long"])
    for kind, xs, keys in (
            ("linear", LINEAR_SIGMAS, [f"E5.linear.active[sigma={s:g}]" for s in LINEAR_SIGMAS]),
            ("fixed", SIGMAS, [f"E5.active_dims[{d}]" for d in FIXED]),
            ("long", [DECODERS[d][1] if d in FIXED else s_eff for d in long],
             [f"E5.mlp.active[{d}]" for d in long]),
            ("learned", [learned], ["E5.active_dims[gaussian_learned]"]),
            ("bernoulli", [s_eff], ["E5.active_dims[bernoulli]"])):
        _marks(ax_act, kind, xs, [per(k) for k in keys])
    ax_act.set(ylabel=plotting.axis_label(f"active dims (KL > {KL_THRESHOLD:g} nats)", "count"),
               title="(b) active latent dimensions")
    data_line = dict(color="0.6", lw=0.6, ls=":")
    posthoc = float(np.nanmean(per("E5.sigma_eff_posthoc[bernoulli]")))
    for ax, key, what, ref, head in (
            (ax_blur, "blur_ratio[vae_{}]", "blur |∇x|/|∇x̂|", 1.0, "(c) blur (>1: blurrier)"),
            (ax_grey, "E5.midgrey_fraction[{}]", "share 0.2 < x̂ < 0.8",
             float(np.nanmean(per("E5.midgrey_fraction[data]"))), "(d) mid-grey pixels")):
        plotting.mark_reference(ax.axhline(ref, **data_line))
        _marks(ax, "fixed", SIGMAS, [per(key.format(d)) for d in FIXED], line=True)
        _marks(ax, "learned", [learned], [per(key.format("gaussian_learned"))])
        for kind, s in (("bernoulli", s_eff), ("posthoc", posthoc)):
            _marks(ax, kind, [s], [per(key.format("bernoulli"))])
        ax.set(ylabel=plotting.axis_label(what, "ratio"), title=head)
    for ax in (ax_act, ax_blur, ax_grey):
        ax.set(xscale="log", xlabel=plotting.axis_label("decoder σ", "intensity"))
    image_rows(ax_img, [first["_x"]] + [first[f"_examples[{d}]"] for d in DECODERS],
               ["data"] + _NAMES, shape=result.data.shape)
    ax_img.set_title(f"(e) test reconstructions (posterior mean, {seeds_note(result.seeds[:1])})")
    legend_below(fig, rules + list(_KINDS.values()) + [("(c, d) the data", data_line)], ncols=3)
    title(fig, LABEL, result.data.name, "decoder scale, active dimensions and blur",
          "mean ± sd over " + seeds_note(result.seeds))
    return fig


FINDINGS = (
    Finding("Blur ratio and information in the code (total KL, nats) by decoder: " + "; ".join(
        f"{name} {{obs:blur_ratio[vae_{d}]:.3f}}, {{obs:E5.kl_total[{d}]:.1f}}" for name, d in
        zip(_NAMES, DECODERS)) + " (learned σ {obs:E5.sigma[gaussian_learned]:.4f}, Bernoulli "
        "σ_eff {obs:E5.sigma_eff[bernoulli]:.3f}; post hoc, its variance at its own outputs "
        "weighted by its squared errors: {obs:E5.sigma_eff_posthoc[bernoulli]:.3f})."),
    Finding("The linear VAEs (σ = " + ", ".join(f"{s:g}" for s in LINEAR_SIGMAS) + ") end "
            + ", ".join(f"{{obs:E5.elbo_gap_linear[sigma={s:g}]:.2f}}" for s in LINEAR_SIGMAS)
            + " nats above the analytic optimum."),
    Finding("At the common training length the fixed-σ decoders open " + ", ".join(
        f"{{obs:E5.active_dims[{d}]:.1f}}" for d in FIXED) + " dimensions; the order row reads "
        "each count as its count row does: {row:E5.mlp.active_order}."),
    Finding("After the longer run the σ = 1 decoder's dimensions beyond the predicted count "
            "still carry {obs:E5.collapsed_kl[gaussian_sigma1]:.3f} nats each: the linear bound "
            "does not hold for it at this training length.",
            when=(("E5.mlp.active[gaussian_sigma1]", "refuted"),)),
)
