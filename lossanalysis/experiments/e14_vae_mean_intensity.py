"""E14 -- why a VAE decoder's mean image misses the data's mean intensity (E6's
``*.mean_intensity`` rows): Jensen at the posterior mean, or an unfinished output bias?

The Bernoulli and continuous Bernoulli likelihoods are canonical exponential families in the
decoder's logit: the gradient of an output bias is the mean of (mean image - target) over the
training images *and the latent samples the objective draws*.  At a stationary bias the decoded
mean over posterior samples equals the targets' mean, pixel by pixel.  E6 decodes at the
posterior mean on test images instead.  Rivals for E6's departure:

* **Jensen**: the training objective is calibrated over samples; decoding at the posterior mean
  h = mu(x) moves the mean image by E_eps[f(mu + s eps)] - f(mu) (f the decoder's nonlinear mean
  image).  Row ``E14.sampled[lik,variant]``: the mean over the training images and
  :data:`SAMPLES` posterior samples of the decoded mean image minus the targets' mean = 0.
* **unfinished bias** (finite training: Adam stops before the bias is stationary, as E3 finds
  for the AEs before their polish): the sampled decode misses the targets' mean too, by about
  E6's departure; the row is then refuted.

The networks are E6's VAEs (same streams, :func:`.networks.vae`), raw and clipped (E6's
premises).  Observations: the posterior-mean decode's departure on the training and on the test
images (E6's quantity) and the Jensen term (posterior mean - sampled) on the training images.
Rule "intensity".
"""
from __future__ import annotations

import math

import numpy as np

from .. import plotting
from ..protocol import Prediction
from . import networks as shared
from .base import INTERIOR, Finding, rng
from .figures import legend_below, seeds_note, title

LABEL, NAME = "E14", "VAE mean intensity: Jensen at the posterior mean or an unfinished bias"
STAGE = "mechanisms"              #: measured apart from the main study (``study --mechanisms``)
#: The main study's rows (id prefixes) whose departure from the analysis this explains.
EXPLAINS = ("E6.bernoulli.mean_intensity", "E6.cb.mean_intensity",
            "E6.clipped.bernoulli.mean_intensity", "E6.clipped.cb.mean_intensity")
LIKS, VARIANTS = ("bernoulli", "continuous_bernoulli"), ("raw", "clipped")
SAMPLES, N_IMAGES, N_EVAL, MIN_BOUNDARY, MIN_IMAGES, COST = 16, 2000, 2000, 0.01, 1000, 1.0
KEYS = tuple((lik, v) for v in VARIANTS for lik in LIKS)
OBSERVATIONS = {f"E14.{q}[{lik},{v}]": "intensity" for lik, v in KEYS
                for q in ("posterior_mean_train", "posterior_mean_test", "jensen")}


def premises(data) -> dict:
    """{variant: "" or why its rows are not applicable} (E6's premises)."""
    boundary = data.summary.frac_zero + data.summary.frac_one
    few = data.n_train(10000) < MIN_IMAGES
    return {v: f"fewer than {MIN_IMAGES} training images for the VAEs" if few else
            (f"{100 * boundary:.2g}% of the training pixels are exactly 0 or 1 (fewer than "
             f"{100 * MIN_BOUNDARY:g}%): the raw data barely differ from the clipped"
             if v == "raw" and boundary < MIN_BOUNDARY else "") for v in VARIANTS}


def networks(data, quick):
    return {f"{lik}_{v}": shared.vae(data, quick, likelihood=lik, variant=v)
            for v, why in premises(data).items() if not why for lik in LIKS}


def predictions(data) -> list:
    ok = premises(data)
    return [Prediction(
        f"E14.sampled[{lik},{v}]", f"{lik} VAE ({v} data): decoded over posterior samples, the "
        "mean image has the targets' mean intensity (a stationary output bias, canonical link)",
        f"mean over the first {N_IMAGES} training images and {SAMPLES} samples h ~ q(h | x) of "
        "the decoded mean image - the targets' mean", 0.0, "intensity", applicable=ok[v],
        source="exponential family in the logit: d(loss)/d(bias) = mean(mean image - target)",
        reason="Adam stops before the bias is stationary (E3's AEs before the polish): an "
        "unfinished bias would show here") for lik, v in KEYS]


def _clip(x, v):
    return np.clip(x, np.float32(INTERIOR[0]), np.float32(INTERIOR[1])) if v == "clipped" else x


def measure(nets, data) -> dict:
    out = {k: math.nan for k in OBSERVATIONS}
    for lik, v in KEYS:
        if f"{lik}_{v}" not in nets:
            continue
        net = nets[f"{lik}_{v}"]
        model = net["epochs"][max(net["epochs"])]
        x = data.train(net["n"], v)[:N_IMAGES]
        target = float(np.mean(model.term.prepare(x), dtype=np.float64))
        mu, logvar = model.encode(x)
        gen, total = rng(data.seed, LABEL, "samples", lik, v), 0.0
        for _ in range(SAMPLES):
            eps = gen.standard_normal(mu.shape).astype(mu.dtype)
            total += float(np.mean(model.decode(mu + np.exp(0.5 * logvar) * eps),
                                   dtype=np.float64))
        sampled = total / SAMPLES
        at_mean = float(np.mean(model.decode(mu), dtype=np.float64))
        xt = _clip(data.test[:N_EVAL], v)
        test = float(np.mean(model.reconstruct(xt), dtype=np.float64)
                     - np.mean(model.term.prepare(xt), dtype=np.float64))
        key = f"[{lik},{v}]"
        out.update({f"E14.sampled{key}": sampled - target,
                    f"E14.posterior_mean_train{key}": at_mean - target,
                    f"E14.posterior_mean_test{key}": test, f"E14.jensen{key}": at_mean - sampled})
    return out


@plotting.style()
def figure(result):
    """Per decoder: the departure over samples (the row), at the posterior mean on the training
    and on the test images (E6's quantity), mean ± sd over the seeds."""
    done = [k for k in KEYS if result.row(f"E14.sampled[{k[0]},{k[1]}]").verdict
            != "not applicable"]
    if not done:
        return None
    fig, ax = plotting.figure(1, 1, columns=2, height=3.0)
    xs = np.arange(len(done))
    for j, (q, label) in enumerate((("sampled", "over posterior samples (training images)"),
                                    ("posterior_mean_train", "at the posterior mean (training)"),
                                    ("posterior_mean_test", "at the posterior mean (test: E6)"))):
        v = np.array([[m[f"E14.{q}[{lik},{var}]"] for lik, var in done]
                      for m in result.per_seed])
        ax.errorbar(xs + 0.2 * (j - 1), v.mean(0), v.std(0, ddof=1) if len(v) > 1 else None,
                    ls="none", marker="os^"[j], ms=3.5, color=plotting.color("", j), label=label)
    ax.set_xticks(xs, [f"{plotting.display_name(lik)}\n{var}" for lik, var in done], fontsize=6)
    ax.set(xlim=(-0.6, len(done) - 0.4), ylabel=plotting.axis_label(
        "mean image − target mean", "intensity"))
    plotting.guides(ax, y=[0])
    legend_below(fig, ax.get_legend_handles_labels()[0], ncols=3)
    title(fig, LABEL, result.data.name, "VAE decoders' mean intensity",
          "mean ± sd over " + seeds_note(result.seeds))
    return fig


FINDINGS = tuple(f for lik, v in KEYS for f in (
    Finding(f"{lik}, {v} data: over posterior samples the mean image departs "
            f"{{row:E14.sampled[{lik},{v}]}} from the targets' mean; at the posterior mean "
            f"{{obs:E14.posterior_mean_train[{lik},{v}]:+.4f}} (training images; Jensen term "
            f"{{obs:E14.jensen[{lik},{v}]:+.4f}}) and {{obs:E14.posterior_mean_test[{lik},{v}]"
            ":+.4f} (test images, E6's quantity)."),
    Finding(f"{lik}, {v} data: the sampled decode is calibrated: E6's departure is the "
            "posterior-mean decode's (Jensen) and the split's, not an unfinished bias.",
            ((f"E14.sampled[{lik},{v}]", "confirmed"),)),
    Finding(f"{lik}, {v} data: the sampled decode misses the targets' mean too: the output bias "
            "is not at its stationary point (finite training).",
            ((f"E14.sampled[{lik},{v}]", "refuted"),)),
    Finding(f"{lik}, {v} data: the test does not decide between the rivals (the sampled "
            "decode's departure is neither within nor beyond one grey level).",
            ((f"E14.sampled[{lik},{v}]", "inconclusive"),))))
