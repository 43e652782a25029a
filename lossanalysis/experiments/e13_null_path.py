"""E13 -- BCE's lean toward 1/2 relative to MSE (E4's null) along the training path: a transient
of finite training, or a plateau?

E4's null says the AE pair's BCE and MSE networks estimate the same conditional mean, so their
mean signed errors per target bin agree: the lean 1/2 [d(y) - d(1 - y)] of d = BCE - MSE is 0
(``E4.null.lean``).  Both are proper losses; their gradient profiles differ (BCE's logit
gradient p - y, MSE's 2 p (1 - p)(p - y)), so at a finite length they can sit at different
points of their paths.  The pair is trained on (same streams, each network's output bias
polished as the pair's) and the null lean, averaged over the bin pairs holding at least
:data:`MIN_PIXELS` training pixels in each bin, is measured at epochs :data:`STAGES`:

* **transient** (:func:`~lossanalysis.analysis.power_law_extrapolation`): the lean decays as a
  power of the training length through the two earlier stages; ``E13.transient.null_lean``:
  value at the last stage - that extrapolation = 0.
* **plateau**: ``E13.plateau.null_lean``: value at the last stage - at the pair's own length
  (10 epochs, what E4 measures) = 0.

Rule "intensity".  Premise: at least one bin pair with :data:`MIN_PIXELS` training pixels in
each of its bins (E4's).
"""
from __future__ import annotations

import math

import numpy as np

from .. import analysis, plotting
from ..losses import sigmoid
from ..protocol import Prediction
from . import networks as shared
from .base import Finding
from .figures import seed_spread, seeds_note, title
from .leans import EDGES, PAIRS, by_target, pair_lean
from .paths import stage_axis, verdict_findings

LABEL, NAME = "E13", "BCE's lean relative to MSE along the training path: transient or plateau"
STAGE = "mechanisms"              #: measured apart from the main study (``study --mechanisms``)
#: The main study's rows (id prefixes) whose departure from the analysis this explains.
EXPLAINS = ("E4.null.lean[",)
STAGES, QUICK_STAGES = (5, 10, 30), (1, 3, 6)
LOSSES, MIN_PIXELS, COST = ("bce", "mse"), 1000, 1.0
OBSERVATIONS = {f"E13.null_lean[t={t}]": "intensity" for t in STAGES}


def judged_pairs(data) -> tuple:
    """E4's bin pairs with at least MIN_PIXELS training pixels in each bin."""
    counts = np.histogram(data.train, bins=EDGES)[0]
    return tuple((a, b) for a, b in PAIRS if min(counts[a], counts[b]) >= MIN_PIXELS)


def networks(data, quick):
    if not judged_pairs(data):
        return {}
    return {"path": shared.ae_pair_path(data, quick, QUICK_STAGES if quick else STAGES)}


def predictions(data) -> list:
    pairs, (t0, t1, t2) = judged_pairs(data), STAGES
    na = "" if pairs else f"no bin pair holds {MIN_PIXELS} training pixels in each bin"
    what = "BCE's lean toward 1/2 relative to MSE (E4's null lean, mean over the judged pairs)"
    return [Prediction(
        "E13.transient.null_lean", f"{what} decays as a power of the training length: its "
        f"value at epoch {t2} is the power law through epochs {t0} and {t1}",
        f"value at epoch {t2} - the power law's", 0.0, "intensity", applicable=na,
        source="analysis.power_law_extrapolation", reason="a lean set by the losses' optima "
        "within the network would not decay"), Prediction(
        "E13.plateau.null_lean", f"{what} stays from epoch {t1} to {t2}",
        f"value at epoch {t2} - value at epoch {t1}", 0.0, "intensity", applicable=na,
        source="the lean is not a transient of training",
        reason="an unfinished fit would move on")]


def measure(nets, data) -> dict:
    out = {k: math.nan for k in OBSERVATIONS}
    if "path" not in nets:
        return out
    path, pairs = nets["path"], judged_pairs(data.study)
    x = data.train(path["n"])
    y = x.astype(np.float64)
    stages = sorted(path["stages"])
    v = {}
    for t in stages:
        d = [by_target(sigmoid(path["stages"][t][loss][1].logits(x).astype(np.float64)), y)[0]
             for loss in LOSSES]
        v[t] = float(np.mean(pair_lean(d[0] - d[1], pairs)))
    out.update({f"E13.null_lean[t={a}]": v[b] for a, b in zip(STAGES, stages)})
    out["_stages"] = np.array(stages)             # the epochs really measured (quick: fewer)
    t0, t1, t2 = stages
    out["E13.plateau.null_lean"] = v[t2] - v[t1]
    out["E13.transient.null_lean"] = v[t2] - analysis.power_law_extrapolation(
        (t0, t1), (v[t0], v[t1]), t2)
    return out


@plotting.style()
def figure(result):
    """The null lean at each stage (mean ± sd over the seeds)."""
    if result.row("E13.plateau.null_lean").verdict == "not applicable":
        return None
    fig, ax = plotting.figure(1, 1, columns=1, height=2.4)
    v = np.array([[m[f"E13.null_lean[t={t}]"] for t in STAGES] for m in result.per_seed])
    at = result.per_seed[0]["_stages"]
    ax.errorbar(at, *seed_spread(v), marker="o", ms=3.5, color=plotting.color("", 0))
    stage_axis(ax, at)
    ax.set_ylabel(plotting.axis_label("BCE − MSE lean toward ½", "intensity"))
    title(fig, LABEL, result.data.name, "E4's null lean along the training path",
          "mean ± sd over " + seeds_note(result.seeds))
    return fig


FINDINGS = (
    Finding("BCE's lean toward ½ relative to MSE: " + ", ".join(
        f"{{obs:E13.null_lean[t={t}]:+.4f}} at epoch {t}" for t in STAGES)
        + "; transient {row:E13.transient.null_lean}; plateau {row:E13.plateau.null_lean}."),
    *verdict_findings("The null lean", "E13.transient.null_lean", "E13.plateau.null_lean"),
)
