"""E8 -- where the asymmetry acts: noise inside the training loss.

:func:`~lossanalysis.analysis.noise_bias` predicts a loss-specific lean of the mean prediction
only where the training loss averages over noise the model cannot see (z + sigma e, or
sigmoid(z) + sigma e clipped into [P_MIN, 1 - P_MIN]: :class:`~lossanalysis.nn.noise.NoisyOutput`).
Every row is a lean toward 1/2 (> 0: nearer 1/2): rule "intensity".

* ``E8.free.*`` (consistency: the fit minimizes the expected loss noise_bias minimizes): a free
  logit per level of :data:`FREE_LEVELS`; sign(1/2 - y)(E_e[p] - y) averaged over the levels.
* ``E8.ae.*`` (falsifiable): the AE pair's net (:func:`..networks.ae_pair`) trained with the
  noise; its optimum for a conditional mean m is q = m + noise_bias(m), so E[q - y | q] = q - g(q)
  (:func:`predicted_bins`); measured minus the noise-free twin's, on the pairs of :data:`JUDGED`.
* ``E8.vae.bernoulli``, ``E8.vae_gaussian.per_sample`` (falsifiable): a decoder sees its latent
  sample h, so a proper loss is minimized by E[x | h]: p(h) binned by p(h) has no lean.

Not applicable (not trained): bins expecting < :data:`MIN_PIXELS` pixels; < :data:`MIN_IMAGES`
images for the VAEs.
"""
from __future__ import annotations

import copy
import functools
import math

import numpy as np

from .. import analysis, plotting
from ..losses import sigmoid
from ..nn import AE, train
from ..nn.noise import NoisyOutput, fit_free_logits
from ..protocol import CONSISTENCY, NOT_APPLICABLE, Prediction
from . import networks as shared
from .base import Finding, Network, entropy, rng
from .figures import seeds_note, title
from .leans import (CENTRES, EDGES, PAIRS, by_prediction, finite_mean, pair_lean, pairs_from,
                     sampled_decoder, sparse_bins)

LABEL, NAME = "E8", "Noise inside the training loss"
LOSSES, SPACES = ("bce", "mse"), ("logit", "prob")
#: Grey levels of the free outputs: k/255 nearest to 0.10, 0.15, ..., 0.90 without 0.5.
FREE_LEVELS = np.round(np.r_[np.arange(0.1, 0.451, 0.05), np.arange(0.55, 0.901, 0.05)] * 255) / 255
#: (loss, space, sigma) of the free outputs and of the AEs.
SETUPS = {model: [(loss, space, float(sg)) for space, sgs in sig.items() for sg in sgs
                  for loss in LOSSES] for model, sig in (
    ("free", {"logit": (1.0, 2.0), "prob": (0.01, 0.02)}),
    ("ae", {"logit": (1.0, 2.0), "prob": (0.02, 0.05)}))}
CLIP_SIGMAS, P_MIN = 5.0, 1e-4    #: probability space: judged CLIP_SIGMAS inside; the clip
VAE_SIGMA = 0.5                   #: the Gaussian decoder's sigma
LATENT_SAMPLES, N_VAE = 16, 2000  #: latent samples of each of the first N_VAE training images
MIN_PIXELS, MIN_IMAGES = 1000, 1000
COST = 9.0                        #: CPU-s of measure per seed (MNIST, full)
TOWARD = np.sign(0.5 - FREE_LEVELS)  #: +1 below 1/2, -1 above: a lean toward 1/2 is > 0
#: The AEs' judged bin pairs: in probability space inside [5 sigma, 1 - 5 sigma] (clip < 3e-7)
JUDGED = {(sp, sg): PAIRS if sp == "logit" else pairs_from(CLIP_SIGMAS * sg)
          for _, sp, sg in SETUPS["ae"]}
VAE_IDS = {"bernoulli": "E8.vae.bernoulli", "gaussian": "E8.vae_gaussian.per_sample"}


def row_id(model, loss, space, sigma) -> str:
    """BCE's ``E8.ae.prob.bce[sigma=0.05]`` (read by the claims), MSE's ``E8.ae.mse_prob[...]``."""
    return (f"E8.{model}.{space}.bce[sigma={sigma:g}]" if loss == "bce" else
            f"E8.{model}.{loss}_{space}[sigma={sigma:g}]")


OBSERVATIONS = {
    **{f"{row_id('ae', *s)}:{k}": "probability" if k == "clip" else "intensity"
       for s in SETUPS["ae"] for k in ("lean_noisy", "lean_twin", "clip", "shift")},
    **{f"E8.vae_{k}[{lik}]": u for k, u in (("mean_lean", "intensity"), ("spread", "logit"))
       for lik in VAE_IDS}, "E8.vae_offset_model[gaussian]": "intensity"}


@functools.lru_cache(maxsize=None)        # read by predictions and the figure; do not modify
def predicted_bins(loss, space, sigma) -> np.ndarray:
    """Per bin centre c of the judged pairs (NaN elsewhere): the predicted E[q - y | q = c] =
    c - g(c), g(c) the conditional mean m whose noisy optimum has mean prediction c:
    m + noise_bias(loss, m, sigma, space) = c (E[p] rises with m; solved elementwise).

    >>> b = predicted_bins("mse", "logit", 1.0); m = (CENTRES - b)[np.isfinite(b)]
    >>> bool(np.allclose(m + analysis.noise_bias("mse", m, 1.0, "logit"), CENTRES[np.isfinite(
    ...     b)], rtol=0, atol=1e-12)), int(np.isfinite(b).sum())
    (True, 8)
    """
    idx = np.array([i for pair in JUDGED[space, sigma] for i in pair])
    c, out = CENTRES[idx], np.full(CENTRES.size, np.nan)
    w = 0.5 - 1e-9 + 0 * c if space == "logit" else np.minimum(c, 1 - c) - CLIP_SIGMAS * sigma

    def f(m, i):
        return m + np.asarray(analysis.noise_bias(loss, m, sigma, space), float) - c[i]
    lo_hi = (0.5 - w, 0.5 + w) if space == "logit" else (c - w, c + w)   # w > 0 when judged
    out[idx] = c - analysis.find_root(f, *lo_hi, xatol=1e-14)[0]
    return out


def premises(data) -> dict:
    """{("ae", space, sigma) or "vae": "" or why those rows are not applicable}."""
    n_ae, n_vae = data.n_train(6000) * data.D, min(N_VAE, data.n_train(10000)) * data.D
    return {**{("ae", sp, sg): sparse_bins(data.train, JUDGED[sp, sg], n_ae, MIN_PIXELS)
               for _, sp, sg in SETUPS["ae"]},
            "vae": f"fewer than {MIN_IMAGES} training images for the VAEs" if data.n_train(
                10000) < MIN_IMAGES else sparse_bins(data.train, PAIRS, n_vae, MIN_PIXELS)}


def train_free(x, s, seed) -> dict:
    """Every free-output fit of one seed (a Network's train function; ``x`` is not used)."""
    z0 = rng(seed, LABEL, "start").normal(0.0, 2.0, FREE_LEVELS.size)
    fits = {k: fit_free_logits(*k, FREE_LEVELS, z0, draws=s["draws"], steps=s["steps"],
                               p_min=P_MIN, seed=entropy(seed, LABEL, "free", *k))
            for k in SETUPS["free"]}
    return {k: term.expected_prediction(z) - FREE_LEVELS for k, (z, term) in fits.items()}


def train_noisy_ae(x, s, seed) -> AE:
    """The AE pair's net of ``s["loss"]`` (same init and data order) with the noise in its loss."""
    term = NoisyOutput(s["loss"], s["space"], s["sigma"], p_min=P_MIN,
                       seed=entropy(seed, LABEL, "noise", s["loss"], s["space"], s["sigma"]))
    model = AE(s["sizes"], loss=term, seed=entropy(seed, "ae_pair", "init"))
    train(model, x, None, epochs=s["epochs"], batch_size=s["batch"], lr=s["lr"],
          seed=entropy(seed, "ae_pair", "train"), quiet=True)
    return model


def networks(data, quick):
    ok, pair = premises(data), shared.ae_pair(data, quick)
    draws, steps = (64, 300) if quick else (256, 1200)
    out = {"free": Network("e8_free", train_free, {"draws": draws, "steps": steps}, 1,
                           cost=steps * draws / 1.2e5)}
    for loss, space, sg in SETUPS["ae"]:
        if not ok["ae", space, sg]:
            rid = row_id("ae", loss, space, sg)         # the network is named by its row
            out.update({"pair": pair, rid: Network(rid, train_noisy_ae, {
                **pair.settings, "loss": loss, "space": space, "sigma": sg}, pair.n,
                cost=pair.cost * 0.4)})
    if not ok["vae"]:
        out.update(vae_bernoulli=shared.vae(data, quick, likelihood="bernoulli"),
                   vae_gaussian=shared.vae(data, quick, likelihood="gaussian", sigma=VAE_SIGMA))
    return out


def predictions(data) -> list:
    ok, out = premises(data), []
    for loss, space, sg in SETUPS["free"]:
        out.append(Prediction(
            row_id("free", loss, space, sg), f"free outputs trained with {loss.upper()} and "
            f"{space} noise of sd {sg:g} in the loss land where noise_bias puts them",
            "mean over the levels y of sign(1/2 - y)(E_e[p] - y) at the fitted logits",
            float(np.mean(TOWARD * analysis.noise_bias(loss, FREE_LEVELS, sg, space))),
            "intensity", kind=CONSISTENCY, reason="a check of the noise injection, not the data",
            source=f"analysis.noise_bias({loss}, y, {sg:g}, '{space}')"))
    for loss, space, sg in SETUPS["ae"]:
        pairs = JUDGED[space, sg]
        out.append(Prediction(
            row_id("ae", loss, space, sg), f"an AE trained with {loss.upper()} and {space} "
            f"noise of sd {sg:g} in the loss leans as its noisy optimum: E[q - y | q] = q - g(q)",
            f"lean of q - y binned by q = E_e[p] minus the noise-free twin's, mean over the bin "
            f"pairs {', '.join(f'{CENTRES[a]:g}/{CENTRES[b]:g}' for a, b in pairs)}",
            float(np.mean(pair_lean(predicted_bins(loss, space, sg), pairs))), "intensity",
            reason="shared weights and uncertain targets: nothing forces the network onto the "
            "per-pixel noisy optimum", applicable=ok["ae", space, sg],
            source=f"g: m + analysis.noise_bias({loss}, m, {sg:g}, '{space}') = q"))
    for lik, rid in VAE_IDS.items():
        out.append(Prediction(
            rid, f"the {lik} decoder's ({'BCE' if lik == 'bernoulli' else f'sigma {VAE_SIGMA:g}'}"
            ") outputs p(h) binned by p(h) have no lean toward 1/2",
            f"lean of p(h) - x binned by p(h), {LATENT_SAMPLES} samples h ~ q(h | x) of the first "
            f"{N_VAE} training images", 0.0, "intensity", reason="one short of its optimum could "
            "lean either way", applicable=ok["vae"], source="properness: the optimum is E[x | h]"))
    return out


def _ae(nets, data) -> dict:
    """The AEs' calibration leans against their noise-free twins, on the training images."""
    pair, out, twin = nets["pair"], {}, {}
    x = data.train(pair["n"])
    y = x.astype(np.float64)
    for loss in LOSSES:
        net = copy.deepcopy(pair[loss])
        net.set_params(pair["adam"][loss])                 # the pair's net before the polish
        a = sigmoid(net.logits(x).astype(np.float64))
        twin[loss] = (a, by_prediction(a, y)[0])
    for loss, space, sg in SETUPS["ae"]:
        rid, pairs = row_id("ae", loss, space, sg), JUDGED[space, sg]
        if rid not in nets:                                   # not applicable: not trained
            continue
        z, term = nets[rid].logits(x).astype(np.float64), nets[rid].term
        q, (a, by_a) = term.expected_prediction(z), twin[loss]
        by_q = by_prediction(q, y)[0]                 # NaN in an empty bin: a NaN lean
        judged = (q >= EDGES[pairs[0][0]]) & (q <= EDGES[pairs[0][1] + 1])
        out.update({rid: float(np.mean(pair_lean(by_q - by_a, pairs))), f"_bins[{rid}]":
                    by_q - by_a, f"{rid}:lean_noisy": float(np.mean(pair_lean(by_q, pairs))),
                    f"{rid}:lean_twin": float(np.mean(pair_lean(by_a, pairs))),
                    f"{rid}:clip": float(np.mean(term.clip_probability(z[judged])))
                    if judged.any() else math.nan, f"{rid}:shift": float(np.mean(np.abs(q - a)))})
    return out


def offset_model(q, spread) -> float:
    """The offset-only reading of noise_bias for a latent-averaged mean E_h[p] = q: the lean
    of noise_bias(mse, q, spread, logit) binned by q (q to 0.01, the spread to 0.1 logits)."""
    if q.size == 0:
        return math.nan
    keys, inv = np.unique(np.clip(np.round(q * 100), 1, 99) * 1000 + np.round(spread * 10),
                          return_inverse=True)           # distinct (q, spread) on the grid
    b = np.asarray(analysis.noise_bias("mse", keys // 1000 / 100, keys % 1000 / 10, "logit"),
                   float)[inv.ravel()]
    return float(np.mean(pair_lean(by_prediction(q, q - b)[0])))


def _vae(nets, data) -> dict:
    """Both decoders' calibration per latent sample and averaged over them (first images)."""
    x = data.train(nets["vae_bernoulli"]["n"])[:N_VAE]
    y, out, k = x.astype(np.float64), {}, LATENT_SAMPLES
    for lik, rid in VAE_IDS.items():
        model = nets[f"vae_{lik}"]["epochs"][max(nets[f"vae_{lik}"]["epochs"])]
        c = sampled_decoder(model, x, rng(data.seed, LABEL, "latent"), k)
        per_sample, q, spread = c["per_sample"], c["q"], c["spread"]
        judged = np.abs(q - 0.5) <= 0.45
        by_q = by_prediction(q, y)[0]
        out.update({rid: float(np.mean(pair_lean(per_sample))), f"_per_sample[{lik}]":
                    per_sample, f"_mean_bins[{lik}]": by_q,
                    f"E8.vae_mean_lean[{lik}]": float(np.mean(pair_lean(by_q))),
                    f"E8.vae_spread[{lik}]":
                        float(np.mean(spread[judged])) if judged.any() else math.nan})
    return {**out, "E8.vae_offset_model[gaussian]": offset_model(q[judged], spread[judged])}


def measure(nets, data) -> dict:
    out = {k: math.nan for k in OBSERVATIONS}
    for s, e in nets["free"].items():
        out.update({row_id("free", *s): float(np.mean(TOWARD * e)),
                    f"_free[{row_id('free', *s)}]": e})
    return {**out, **(_ae(nets, data) if "pair" in nets else {}),
            **(_vae(nets, data) if "vae_gaussian" in nets else {})}


_DASH, _MARK = ("-", (0, (4, 1.5))), ("o", "x")
_AXES = {"free": ("target y", "E[p] − y over the noise"),
         "ae": ("mean prediction q (bin centre)", "E[q − y | q]: noisy − twin"),
         "vae": ("prediction (bin centre)", "mean prediction − x")}


def _panel(ax, model, space, result) -> None:
    """Predicted (lines) and measured (markers; AEs: judged bins) leans of one panel."""
    free, y = model == "free", np.linspace(0.1, 0.9, 81)
    for j, sg in enumerate(sorted({sg for _, sp, sg in SETUPS[model] if sp == space})):
        for loss, rid in ((loss, row_id(model, loss, space, sg)) for loss in LOSSES):
            if result.row(rid).verdict != NOT_APPLICABLE:
                pred = analysis.noise_bias(loss, y, sg, space) if free else \
                    predicted_bins(loss, space, sg)
                got = finite_mean(result.arrays(f"_{'free' if free else 'bins'}[{rid}]"))
                ax.plot(y if free else CENTRES, pred, color=plotting.color(loss), ls=_DASH[j],
                        lw=0.8, label=f"{plotting.display_name(loss)}, σ = {sg:g}")
                ax.plot(FREE_LEVELS if free else CENTRES, got if free else got + 0 * pred,
                        ls="none", marker=_MARK[j], ms=2.6, color=plotting.color(loss))


@plotting.style()
def figure(result):
    """(a, b) free outputs, (c, d) the AEs against their twins, in logit / probability space
    (lines: the analysis; markers: measured); (e) the VAEs per latent sample and averaged."""
    fig, _ = plotting.figure(0, 0, columns=2, height=7.8)
    rows = fig.subfigures(3, 1, height_ratios=(1, 1, 0.9))
    subs = list(rows[0].subfigures(1, 2)) + list(rows[1].subfigures(1, 2)) + [rows[2]]
    axes = [sub.subplots() for sub in subs]
    for k, (model, space) in enumerate((m, s) for m in ("free", "ae") for s in SPACES):
        _panel(axes[k], model, space, result)
        axes[k].set_title(f"({'abcd'[k]}) {'free outputs' if model == 'free' else 'AEs'}, "
                          f"{space}-space noise")
    for (lik, rid), loss in zip(VAE_IDS.items(), LOSSES):
        for j, (key, what) in enumerate((("per_sample", "each latent sample"),
                                         ("mean_bins", "mean over samples"))):
            if result.row(rid).verdict != NOT_APPLICABLE:
                axes[4].plot(CENTRES, finite_mean(result.arrays(f"_{key}[{lik}]")), ms=2.5,
                             ls=_DASH[j], marker=_MARK[j], color=plotting.color(loss),
                             label=f"{plotting.display_name(lik)}: {what}")
    axes[4].set_title("(e) VAEs, binned by the prediction")
    for ax, sub, model in zip(axes, subs, ("free", "free", "ae", "ae", "vae")):
        ax.set(xlabel=plotting.axis_label(_AXES[model][0], "intensity"),
               ylabel=plotting.axis_label(_AXES[model][1], "intensity"))
        plotting.guides(ax, y=[0], x=[0.5])
        plotting.panel_legend(sub)
    title(fig, LABEL, result.data.name, "noise inside the training loss (lines: predicted, "
          "markers: measured)", "mean over " + seeds_note(result.seeds))
    return fig


FINDINGS = (
    Finding("Per latent sample the Bernoulli decoder leans {row:E8.vae.bernoulli}; averaged over "
            "the samples, E_h[p] binned by itself leans {obs:E8.vae_mean_lean[bernoulli]:+.4f} "
            "toward ½ (Bernoulli) and {obs:E8.vae_mean_lean[gaussian]:+.4f} (Gaussian, logit "
            "spread over the samples {obs:E8.vae_spread[gaussian]:.2f}); the offset-only reading "
            "of noise_bias puts the Gaussian's at {obs:E8.vae_offset_model[gaussian]:+.4f}."),
)
