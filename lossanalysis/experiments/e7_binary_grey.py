"""E7 -- binary versus grey data: each loss-dependent effect on two studies, set side by side.

A pair study (``SCOPE = "pair"``): it reads two finished studies, the *binary* one (fewer
mid-grey pixels among its non-zero pixels) and the *grey* one, and compares an effect each of
them measured (the observations named in :data:`EFFECTS`) seed by seed: ln(grey / binary).
Where the analysis states how an effect depends on the grey share, that is a prediction on the
log ratio (rule "log_ratio", ln 1.1): "flat" is |ln ratio| <= ln 1.1; "grows" is ln ratio >=
ln 1.1 and "falls" ln ratio <= -ln 1.1 (registered as at_least 2 ln 1.1 and at_most -2 ln 1.1,
so that the tolerance band starts at ln 1.1).  Effects that are properties of the data or of
registered predicted values (the mean-median gap, the focal pull, the Bernoulli's sigma_eff)
are *derived* rows: shown, counted with neither kind.  When the two studies are about equally
grey (their grey shares within a factor 1.1), no dependence can show: every row is not
applicable.
"""
from __future__ import annotations

import math

import numpy as np

from .. import plotting
from ..protocol import DERIVED, FALSIFIABLE, Prediction
from .base import Finding, grey_share, order
from .figures import legend_below, title

LABEL = "E7"
NAME = "Binary versus grey data"
SCOPE = "pair"
SAME = 1.1
OBSERVATIONS = {}
#: (id suffix, what, observation(s) of each study: one name, or (a, b) for a - b, the stated
#: dependence on the grey share or None, derived?, why)
EFFECTS = (
    ("e1_mean_median_gap", "E1 mean |mean - median| of a pixel location", "E1.mean_minus_median",
     "falls", True, "a location's mean and median part most when its targets are bimodal; grey "
     "targets between 0 and 1 bring them together"),
    ("e1_focal_pull", "E1 focal's predicted pull toward 1/2 at grey pixels",
     "E1.focal_pull_predicted", "flat", True,
     "an average over grey pixels, set by where the grey levels lie, not how many there are"),
    ("e2_sgd_slowdown", "E2 SGD slowdown of MSE from saturation", "E2.sgd_slowdown", "flat",
     False, "set by the sigmoid at the starting logit, not by the data"),
    ("e2_adam_slowdown", "E2 Adam slowdown", "E2.adam_slowdown", "flat", False,
     "as the SGD slowdown"),
    ("e3_mse_calibration", "E3 MSE calibration error, mean |.|", "E3.mse_mean_abs_error", None,
     False, "no scaling with the grey share follows"),
    ("e4_bce_mse_signed", "E4 mean |BCE - MSE| signed error", "E4.mean_abs_signed_diff", None,
     False, "set by the networks' noise at grey pixels"),
    ("e5_bernoulli_vae_blur", "E5 Bernoulli VAE blur ratio", "blur_ratio[vae_bernoulli]",
     "grows", False, "the Bernoulli's effective sigma grows with the grey share, and a larger "
     "sigma weakens the data term against the KL"),
    ("e5_bernoulli_sigma_eff", "E5 Bernoulli decoder's effective sigma",
     "E5.sigma_eff[bernoulli]", "grows", True,
     "the harmonic mean of the mean image's Bernoulli variances m(1 - m): greyer, larger"),
    ("e6_cb_lambda_push", "E6 CB parameter's extra distance from 1/2 over the data",
     ("E6.param_extremeness[continuous_bernoulli_param]", "E6.param_extremeness[data]"),
     "flat", False, "an average over mid-grey pixels, set by where the grey levels lie"),
    ("e6_cb_lambda_push_control", "E6 the same on data clipped into [0.05, 0.95]",
     ("E6.clipped.param_extremeness[continuous_bernoulli_param]",
      "E6.clipped.param_extremeness[data]"), "flat", False,
     "as the raw push, without the exact 0s and 1s where the CB has no minimizer"),
)
_SPEC = {"flat": (0.0, "equal"), "grows": (2 * math.log(SAME), "at_least"),
         "falls": (-2 * math.log(SAME), "at_most")}


def predictions(a: dict, b: dict) -> list:
    binary, grey = order(a, b)
    ratio = grey_share(grey) / max(grey_share(binary), 1e-12)
    na = (f"the two studies are about equally grey (grey-share ratio {ratio:.2f} < {SAME})"
          if ratio < SAME else "")
    out = []
    for slug, what, _, expected, derived, why in EFFECTS:
        if expected is None:
            continue
        value, comparison = _SPEC[expected]
        out.append(Prediction(
            f"E7.{slug}", f"{what}: {expected} with the grey share ({why})",
            f"ln({grey['name']} / {binary['name']}) per seed", value, "log_ratio", comparison,
            DERIVED if derived else FALSIFIABLE,
            "computed from a data statistic or registered values" if derived else
            "the two datasets could show another dependence than the analysis states",
            source="the analysis' stated dependence on the grey share", applicable=na))
    return out


def _effect(obs: dict, name, i: int) -> float:
    def one(n):
        o = obs[n]
        return float(o["values"][i] if o["seeds"] else o["values"][0])
    return one(name) if isinstance(name, str) else one(name[0]) - one(name[1])


def measure(a: dict, b: dict, i: int) -> dict:
    """Seed ``i`` of both studies' reports: ln(grey effect / binary effect) per effect."""
    binary, grey = order(a, b)
    out = {}
    for slug, _, name, _, _, _ in EFFECTS:
        x, y = _effect(binary["observations"], name, i), _effect(grey["observations"], name, i)
        out[f"E7.{slug}"] = math.log(y / x) if x > 0 and y > 0 else math.nan
        out[f"_ratio[{slug}]"] = y / x if x != 0 else math.nan
    return out


@plotting.style()
def figure(result):
    """Each effect with a stated dependence: grey / binary per seed against the band."""
    from matplotlib.patches import Rectangle
    rows = [r for r in result.rows if r.verdict != "not applicable"][::-1]
    if not rows:
        return None
    fig, ax = plotting.figure(columns=1, height=1.1 + 0.24 * len(rows))
    band = dict(color="0.88", lw=0)
    seed = dict(ls="none", marker="o", ms=3, mfc="none", mew=0.6, color=plotting.color("", 0))
    bands = {"equal": (1 / SAME, SAME), "at_least": (SAME, 50.0), "at_most": (0.02, 1 / SAME)}
    vals = [np.exp(np.array(r.measurements)) for r in rows]
    finite = np.concatenate([v[np.isfinite(v)] for v in vals] + [[1 / SAME, SAME]])
    lo, hi = float(finite.min()) / 1.15, float(finite.max()) * 1.15
    for k, (r, v) in enumerate(zip(rows, vals)):
        b0, b1 = bands[r.prediction.comparison]
        ax.add_patch(Rectangle((max(b0, lo), k - 0.35), min(b1, hi) - max(b0, lo), 0.7,
                               zorder=0, **band))
        ax.plot(v, np.full(v.size, k), zorder=2, **seed)
    plotting.guides(ax, x=[1.0])
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks(range(len(rows)), [r.id.removeprefix("E7.") for r in rows])
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(plotting.axis_label("grey study / binary study", "ratio"))
    legend_below(fig, [Rectangle((0, 0), 1, 1, label="stated band", **band),
                       ("measured, each seed", seed)])
    title(fig, LABEL, result.data.name, "effect ratios")
    return fig


FINDINGS = (
    Finding("The Bernoulli VAE's blur on the greyer data over the binary data: "
            "{row:E7.e5_bernoulli_vae_blur} (log ratio)."),
    Finding("The continuous Bernoulli's push of λ away from ½ changes by "
            "{row:E7.e6_cb_lambda_push} (log ratio) between the two studies, and by "
            "{row:E7.e6_cb_lambda_push_control} on clipped data."),
)
