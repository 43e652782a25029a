"""E15 -- the VAE decoders' lean of E8 along the training path: a transient of finite training,
or a plateau?

E8 judges a VAE decoder per latent sample: the decoder sees its sample h, so a proper
likelihood is minimized by E[x | h] and its outputs binned by themselves have no lean toward
1/2 (``E8.vae.bernoulli``, ``E8.vae_gaussian.per_sample``).  Both analyses describe the
optimum; E8's VAEs stop after 8 epochs.  E8's networks (same streams: :func:`.networks.vae`) are
trained on to :data:`STAGES`\\ [-1] epochs and the lean is measured as E8 measures it
(:func:`.leans.sampled_decoder`: :data:`LATENT_SAMPLES` samples of each of the first
:data:`N_IMAGES` training images, E8's latent stream) at each of :data:`STAGES`:

* **transient** (:func:`~lossanalysis.analysis.power_law_extrapolation`): the lean decays as a
  power of the training length through the two earlier stages; ``E15.transient[lik]``: value
  at the last stage - that extrapolation = 0.
* **plateau**: ``E15.plateau[lik]``: value at the last stage - at E8's length = 0.

The middle stage is E8's own length, so its value repeats E8's row (the same network, images
and latent draws).  Rule "intensity".  Premise as E8's: at least :data:`MIN_IMAGES` training
images, and :data:`MIN_PIXELS` pixels expected in every bin of E8's pairs.
"""
from __future__ import annotations

import math

import numpy as np

from .. import analysis, plotting
from ..protocol import Prediction
from . import networks as shared
from .base import Finding, rng
from .figures import legend_below, seed_spread, seeds_note, title
from .leans import PAIRS, pair_lean, sampled_decoder, sparse_bins
from .paths import stage_axis, verdict_findings

LABEL, NAME = "E15", "The VAE decoders' lean along the training path: transient or plateau"
STAGE = "mechanisms"              #: measured apart from the main study (``study --mechanisms``)
#: The main study's rows (id prefixes) whose departure from the analysis this explains.
EXPLAINS = ("E8.vae.bernoulli", "E8.vae_gaussian.per_sample")
STAGES, QUICK_STAGES = (4, 8, 24), (1, 2, 3)
#: E8's decoders (likelihood, sigma), its latent samples and images, its premises.
DECODERS = {"bernoulli": 1.0, "gaussian": 0.5}
LATENT_SAMPLES, N_IMAGES, MIN_IMAGES, MIN_PIXELS = 16, 2000, 1000, 1000
OBSERVATIONS = {f"E15.lean[{lik}][t={t}]": "intensity" for lik in DECODERS for t in STAGES}


def premise(data) -> str:
    """"" or why the rows are not applicable (E8's VAE premise)."""
    if data.n_train(10000) < MIN_IMAGES:
        return f"fewer than {MIN_IMAGES} training images for the VAEs"
    n = min(N_IMAGES, data.n_train(10000)) * data.D
    return sparse_bins(data.train, PAIRS, n, MIN_PIXELS)


def networks(data, quick):
    if premise(data):
        return {}
    st = QUICK_STAGES if quick else STAGES
    return {lik: shared.vae(data, quick, likelihood=lik, sigma=sigma, epochs=max(st),
                            snapshots=st) for lik, sigma in DECODERS.items()}


def predictions(data) -> list:
    na, (t0, t1, t2), out = premise(data), STAGES, []
    for lik, sigma in DECODERS.items():
        what = (f"the {lik} decoder's ({'BCE' if lik == 'bernoulli' else f'sigma {sigma:g}'}) "
                "lean toward 1/2 per latent sample (E8's row)")
        out += [Prediction(
            f"E15.transient[{lik}]", f"{what} decays as a power of the training length: its "
            f"value at epoch {t2} is the power law through epochs {t0} and {t1}",
            f"value at epoch {t2} - the power law's", 0.0, "intensity", applicable=na,
            source="analysis.power_law_extrapolation", reason="a lean the decoder's shared "
            "weights hold at their optimum would not decay"), Prediction(
            f"E15.plateau[{lik}]", f"{what} stays from epoch {t1} (E8's length) to {t2}",
            f"value at epoch {t2} - value at epoch {t1}", 0.0, "intensity", applicable=na,
            source="the lean is not a transient of training",
            reason="an unfinished fit would move on")]
    return out


def measure(nets, data) -> dict:
    out = {k: math.nan for k in OBSERVATIONS}
    if not nets:                                # the premise fails: nothing was trained
        return out
    x = data.train(nets["bernoulli"]["n"])[:N_IMAGES]
    for lik in DECODERS:
        snaps = nets[lik]["epochs"]
        v = {t: float(np.mean(pair_lean(sampled_decoder(
            snaps[t], x, rng(data.seed, "E8", "latent"), LATENT_SAMPLES)["per_sample"])))
            for t in sorted(snaps)}                   # E8's latent stream: E8's row at t = 8
        t0, t1, t2 = sorted(v)
        out.update({f"E15.lean[{lik}][t={a}]": v[b] for a, b in zip(STAGES, sorted(v))})
        out[f"E15.plateau[{lik}]"] = v[t2] - v[t1]
        out[f"E15.transient[{lik}]"] = v[t2] - analysis.power_law_extrapolation(
            (t0, t1), (v[t0], v[t1]), t2)
        out["_stages"] = np.array(sorted(v))          # the epochs really measured
    return out


@plotting.style()
def figure(result):
    """Each decoder's lean per latent sample at the three stages (mean ± sd over the seeds)."""
    if result.row("E15.plateau[bernoulli]").verdict == "not applicable":
        return None
    fig, ax = plotting.figure(1, 1, columns=2, height=2.8)
    at = result.per_seed[0]["_stages"]
    for j, lik in enumerate(DECODERS):
        v = np.array([[m[f"E15.lean[{lik}][t={t}]"] for t in STAGES] for m in result.per_seed])
        ax.errorbar(at, *seed_spread(v), marker="os"[j], ms=3.5, color=plotting.color("", j),
                    label=plotting.display_name(lik))
    stage_axis(ax, at)
    ax.set_ylabel(plotting.axis_label("lean toward ½", "intensity"))
    legend_below(fig, ax.get_legend_handles_labels()[0])
    title(fig, LABEL, result.data.name, "VAE decoders' lean along the training path",
          "mean ± sd over " + seeds_note(result.seeds))
    return fig


FINDINGS = tuple(f for lik in DECODERS for f in (
    Finding(f"The {lik} decoder's lean per latent sample: " + ", ".join(
        f"{{obs:E15.lean[{lik}][t={t}]:+.4f}} at epoch {t}" for t in STAGES)
        + f"; transient {{row:E15.transient[{lik}]}}; plateau {{row:E15.plateau[{lik}]}}."),
    *verdict_findings(f"The {lik} decoder's lean", f"E15.transient[{lik}]",
                      f"E15.plateau[{lik}]")))
