"""E12 -- the VAE departures of E5 along the training path: the learned sigma's calibration and
the sigma = 1 decoder's active count, transient or plateau?

E5 finds the learned shared sigma^2 above the per-pixel MSE (``E5.learned.calibration``, a
consistency row: sigma^2 = MSE zeroes the likelihood's gradient in sigma) and the sigma = 1
decoder above the linear rule's count at the common length (``E5.mlp.active_order``; the count
row reads it after 24 epochs).  Both analyses describe optima.  E5's networks (same streams:
:func:`.networks.vae`) are trained on, and measured at the stages :data:`CAL_STAGES` (learned
sigma: ln(sigma^2 / MSE), one posterior sample per training image, as E5) and
:data:`COUNT_STAGES` (sigma = 1: active dimensions minus the rule's count, as E5's count row).

* **transient** (:func:`~lossanalysis.analysis.power_law_extrapolation`): the departure decays as
  a power of the training length through the two earlier stages; ``E12.transient.<q>``: value
  at the last stage - that extrapolation = 0.
* **plateau**: ``E12.plateau.<q>``: value at the last stage - at the one before = 0.

Rules: "log_ratio" (calibration), "count" (active dimensions).  Premises as E5's: at least
:data:`MIN_IMAGES` training images; the count rows need the rule's count below the latent size.
"""
from __future__ import annotations

import math

import numpy as np

from .. import analysis, plotting
from ..analysis import KL_THRESHOLD, predicted_active_dims, spectrum
from ..protocol import Prediction
from . import networks as shared
from .base import Finding, rng
from .figures import seed_spread, seeds_note, title
from .paths import stage_axis, verdict_findings

LABEL, NAME = "E12", "VAE departures along the training path: learned sigma and active count"
STAGE = "mechanisms"              #: measured apart from the main study (``study --mechanisms``)
#: The main study's rows (id prefixes) whose departure from the analysis this explains.
EXPLAINS = ("E5.learned.calibration", "E5.mlp.active_order")
CAL_STAGES, COUNT_STAGES = (4, 8, 24), (16, 24, 48)
QUICK = {"cal": (1, 2, 3), "count": (1, 2, 3)}
MIN_IMAGES, N_CALIB, COST = 5000, 2000, 2.0
QUANTITIES = {"calibration": ("log_ratio", "ln(learned sigma^2 / MSE)"),
              "active": ("count", "active dimensions of the sigma = 1 decoder - the rule's count")}
OBSERVATIONS = {**{f"E12.calibration[t={t}]": "ratio" for t in CAL_STAGES},
                **{f"E12.active[t={t}]": "count" for t in COUNT_STAGES}}


def plan(data) -> dict:
    latent = shared.vae_sizes(data.D)[2]
    k = data.n_train(shared.vae(data, likelihood="bernoulli").n)
    lam = spectrum(data.train)
    count = predicted_active_dims(lam, 1.0, latent)
    na = (f"{k} training images per seed (fewer than {MIN_IMAGES})" if k < MIN_IMAGES else
          "the training images do not vary" if not lam[0] > 0 else "")
    return {"na": na, "count": count, "latent": latent,
            "init_sigma": math.sqrt(max(float(lam.sum()) / data.D, 1e-6)),
            "count_na": na or (f"the rule's count is the latent size {latent}" if count >= latent
                               else "")}


def networks(data, quick):
    P = plan(data)
    if P["na"]:
        return {}
    cal, cnt = (QUICK["cal"], QUICK["count"]) if quick else (CAL_STAGES, COUNT_STAGES)
    out = {"learned": shared.vae(data, quick, likelihood="gaussian", sigma="shared",
                                 init_sigma=P["init_sigma"], epochs=max(cal), snapshots=cal)}
    if not P["count_na"]:
        out["sigma1"] = shared.vae(data, quick, likelihood="gaussian", sigma=1.0,
                                   epochs=max(cnt), snapshots=cnt)
    return out


def predictions(data) -> list:
    P, out = plan(data), []
    for q, (rule, what) in QUANTITIES.items():
        st = CAL_STAGES if q == "calibration" else COUNT_STAGES
        na = P["na"] if q == "calibration" else P["count_na"]
        out += [Prediction(
            f"E12.transient.{q}", f"{what} decays as a power of the training length: its value "
            f"at epoch {st[2]} is the power law through epochs {st[0]} and {st[1]}",
            f"value at epoch {st[2]} - the power law's", 0.0, rule, applicable=na,
            source="analysis.power_law_extrapolation", reason="a departure set by the network "
            "or the optimizer's equilibrium would not decay"), Prediction(
            f"E12.plateau.{q}", f"{what} stays from epoch {st[1]} to {st[2]}",
            f"value at epoch {st[2]} - value at epoch {st[1]}", 0.0, rule, applicable=na,
            source="the departure is not a transient of training",
            reason="an unfinished fit would move on")]
    return out


def _calibration(model, x, seed) -> float:
    mu, logvar = model.encode(x)
    eps = rng(seed, LABEL, "calibration").standard_normal(mu.shape).astype(mu.dtype)
    e = model.decode(mu + np.exp(0.5 * logvar) * eps).astype(np.float64) - x
    return math.log(float(model.term.sigma_values()[0]) ** 2 / float(np.mean(e ** 2)))


def _rows(v, q, out) -> None:
    t = sorted(v)
    out[f"E12.plateau.{q}"] = v[t[2]] - v[t[1]]
    out[f"E12.transient.{q}"] = v[t[2]] - analysis.power_law_extrapolation(
        (t[0], t[1]), (v[t[0]], v[t[1]]), t[2])


def measure(nets, data) -> dict:
    out = {k: math.nan for k in OBSERVATIONS}
    if "learned" not in nets:
        return out
    P = plan(data.study)
    x = data.train(nets["learned"]["n"])
    snaps = nets["learned"]["epochs"]
    v = {t: _calibration(snaps[t], x[:N_CALIB], data.seed) for t in sorted(snaps)}
    out.update({f"E12.calibration[t={a}]": v[b] for a, b in zip(CAL_STAGES, sorted(v))})
    out["_stages[calibration]"] = np.array(sorted(v))     # the epochs really measured
    _rows(v, "calibration", out)
    if "sigma1" in nets:
        snaps = nets["sigma1"]["epochs"]
        c = {t: float(np.sum(snaps[t].kl_per_dim(x) > KL_THRESHOLD)) - P["count"]
             for t in sorted(snaps)}
        out.update({f"E12.active[t={a}]": c[b] for a, b in zip(COUNT_STAGES, sorted(c))})
        out["_stages[active]"] = np.array(sorted(c))
        _rows(c, "active", out)
    return out


@plotting.style()
def figure(result):
    """(a) ln(sigma^2 / MSE) and (b) the count minus the rule's, at each stage."""
    if result.row("E12.plateau.calibration").verdict == "not applicable":
        return None
    fig, axes = plotting.figure(1, 2, columns=2, height=2.6)
    for ax, q, stages, head in ((axes[0], "calibration", CAL_STAGES, "(a) learned σ² / MSE"),
                                (axes[1], "active", COUNT_STAGES, "(b) σ = 1: count − rule")):
        v = np.array([[m[f"E12.{q}[t={t}]"] for t in stages] for m in result.per_seed])
        stages = result.per_seed[0].get(f"_stages[{q}]", stages)
        ax.errorbar(stages, *seed_spread(v), marker="o", ms=3.5, color=plotting.color("", 0))
        stage_axis(ax, stages)
        ax.set(title=head, ylabel=plotting.axis_label(
            "ln(σ² / MSE)" if q == "calibration" else "active dims − rule",
            "ratio" if q == "calibration" else "count"))
    title(fig, LABEL, result.data.name, "VAE departures along the training path",
          "mean ± sd over " + seeds_note(result.seeds))
    return fig


FINDINGS = (
    Finding("ln(learned σ² / MSE): " + ", ".join(f"{{obs:E12.calibration[t={t}]:+.3f}} at "
            f"epoch {t}" for t in CAL_STAGES) + "; transient {row:E12.transient.calibration}; "
            "plateau {row:E12.plateau.calibration}."),
    *verdict_findings("The learned σ's calibration", "E12.transient.calibration",
                      "E12.plateau.calibration"),
    Finding("σ = 1 decoder, active dimensions minus the rule's count: " + ", ".join(
        f"{{obs:E12.active[t={t}]:+.1f}} at epoch {t}" for t in COUNT_STAGES)
        + "; transient {row:E12.transient.active}; plateau {row:E12.plateau.active}."),
    *verdict_findings("The σ = 1 count", "E12.transient.active", "E12.plateau.active"),
)
