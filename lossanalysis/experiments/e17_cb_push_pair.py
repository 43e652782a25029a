"""E17 -- why the continuous Bernoulli's parameter push differs between two data sets: their
grey levels or their exact 0s.

A pair experiment of the mechanism stage (``SCOPE = "pair"``, ``STAGE = "mechanisms"``): it
reads two finished mechanism studies that measured E16 and compares, seed by seed, the CB
parameter push over the mid-grey test pixels (mean|lambda - 1/2| - mean|x - 1/2|), as E7 does
for E6's (``E7.e6_cb_lambda_push``: "flat", ln(grey / binary) within ln 1.1; on MNIST against
Fashion-MNIST it fell by 0.23).  "Flat" summarized the analysis loosely: the analysis's push
lambda = mu^-1(x) is an average over each data set's own grey levels
(E6's prediction, E16's ``E16.analysis_push``), so its log ratio
between the two data sets is a prediction in itself.  Rivals (rule "log_ratio", ln 1.1):

* **grey levels**: the pushes' log ratio is the analysis's, on the raw images and on the
  clipped ones (``E17.grey[raw]``, ``E17.grey[clipped]``: ln(measured ratio) - ln(analysis
  ratio) = 0, at E16's last stage);
* **exact 0s**: the CB has no minimizer at an exact 0 and its logits there diverge (E10),
  pushing the shared decoder's mid-grey parameters out by an amount that depends on each data
  set's background, not its grey levels; without the exact 0s (E6's clipped images) the ratio
  is the analysis's: ``E17.grey[clipped]`` = 0 while ``E17.grey[raw]`` departs;
* and, since diverging logits move on with training, ``E17.plateau[raw]``: the raw log ratio at
  E16's last stage - at E6's length = 0 holds for the grey levels and fails for a divergence
  that differs between the two.

Not applicable: the raw rows unless both studies have E6's raw premise (exact 0s or 1s in at
least 1% of the training pixels).
"""
from __future__ import annotations

import math

import numpy as np

from .. import plotting
from ..protocol import CONFIRMED as _C
from ..protocol import INCONCLUSIVE as _I
from ..protocol import REFUTED as _R
from ..protocol import FALSIFIABLE, NOT_APPLICABLE, Prediction
from .base import Finding, order, rival_findings
from .cb import raw_premise
from .figures import legend_below, title

LABEL = "E17"
NAME = "The continuous Bernoulli's push between two data sets: grey levels or exact 0s"
SCOPE = "pair"
STAGE = "mechanisms"              #: measured apart from the main study (``study --mechanisms``)
#: The pair study's rows (id prefixes) whose departure from the analysis this explains.
EXPLAINS = ("E7.e6_cb_lambda_push",)
VARIANTS = ("raw", "clipped")
STAGES = (4, 8, 24)              #: E16's training stages (epochs), whose pushes this reads
LAST, E6_LENGTH = STAGES[-1], STAGES[1]
OBSERVATIONS = {}


def _raw_premise(doc: dict) -> str:
    why = raw_premise(doc["summary"]["frac_zero"] + doc["summary"]["frac_one"])
    return why and f"{doc['name']}: {why}"


def predictions(a: dict, b: dict) -> list:
    binary, grey = order(a, b)
    raw = _raw_premise(binary) or _raw_premise(grey)
    ratio = f"ln({grey['name']} / {binary['name']}) per seed"
    out = [Prediction(
        f"E17.grey[{v}]", f"{'raw' if v == 'raw' else 'clipped'} images: the CB parameter "
        f"push at epoch {LAST} changes between the two data sets as the analysis's push "
        "lambda = mu^-1(x) over each one's mid-grey pixels does", f"{ratio} of the push - the "
        "same of the analysis's push", 0.0, "log_ratio", kind=FALSIFIABLE,
        applicable=raw if v == "raw" else "", source="E6's predicted push (argmin of the CB "
        "loss) over each data set's mid-grey evaluation pixels (E16.analysis_push)",
        reason="diverging logits at exact 0s would push the decoder by an amount the grey "
        "levels do not set") for v in VARIANTS]
    out.append(Prediction(
        "E17.plateau[raw]", f"raw images: the pushes' log ratio stays from epoch {E6_LENGTH} "
        f"(E6's length) to {LAST}", f"{ratio} at epoch {LAST} - at epoch {E6_LENGTH}", 0.0,
        "log_ratio", kind=FALSIFIABLE, applicable=raw, source="a ratio the grey levels set "
        "does not move with training", reason="logits diverging at exact 0s move on with "
        "training, by amounts that differ between the data sets"))
    return out


def _value(obs: dict, name: str, i: int) -> float:
    o = obs.get(name)
    if o is None:
        return math.nan
    return float(o["values"][i] if o["seeds"] else o["values"][0])


def _log_ratio(x: float, y: float) -> float:
    return math.log(y / x) if x > 0 and y > 0 else math.nan


def measure(a: dict, b: dict, i: int) -> dict:
    """Seed ``i`` of both studies' E16 observations: the log ratios and the rows."""
    binary, grey = order(a, b)
    out = {}
    for v in VARIANTS:
        for t in STAGES:
            out[f"_push[{v}][t={t}]"] = _log_ratio(
                *(_value(s["observations"], f"E16.push[{v}][t={t}]", i) for s in (binary, grey)))
        out[f"_analysis[{v}]"] = _log_ratio(
            *(_value(s["observations"], f"E16.analysis_push[{v}]", i) for s in (binary, grey)))
        out[f"E17.grey[{v}]"] = out[f"_push[{v}][t={LAST}]"] - out[f"_analysis[{v}]"]
    out["E17.plateau[raw]"] = out[f"_push[raw][t={LAST}]"] - out[f"_push[raw][t={E6_LENGTH}]"]
    return out


_STYLE = {"raw": dict(marker="o", ms=3.5, color=plotting.color("", 0)),
          "clipped": dict(marker="s", ms=3.0, color=plotting.color("", 2))}


@plotting.style()
def figure(result):
    """The pushes' ratio (grey / binary) at E16's stages, each seed, with the analysis's."""
    first = result.per_seed[0]
    drawn = [v for v in VARIANTS if np.isfinite(first[f"_push[{v}][t={LAST}]"])]
    if not drawn:
        return None
    fig, ax = plotting.figure(1, 1, columns=2, height=2.6)
    entries = []
    for v in drawn:
        style = _STYLE[v]
        for k, m in enumerate(result.per_seed):
            ax.plot(STAGES, [math.exp(m[f"_push[{v}][t={t}]"]) for t in STAGES], lw=0.8,
                    **{**style, "mfc": "none" if k else style["color"]})
        ref = ax.axhline(math.exp(first[f"_analysis[{v}]"]), lw=0.8, ls=":",
                         color=style["color"])
        plotting.mark_reference(ref)
        entries += [(f"CB push, {v} images (each seed)", style),
                    (f"λ = μ⁻¹(x), {v} images", dict(lw=0.8, ls=":", color=style["color"]))]
    ax.set_xscale("log")
    ax.set_xticks(STAGES, [str(t) for t in STAGES])
    ax.minorticks_off()
    plotting.guides(ax, y=[1.0])
    ax.set(xlabel=plotting.axis_label("training length", "epoch"),
           ylabel=plotting.axis_label("push, grey / binary", "ratio"))
    legend_below(fig, entries)
    title(fig, LABEL, result.data.name, "CB push between the data sets")
    return fig


#: The conclusion for each pair of verdicts (grey[raw], grey[clipped]).
CAUSE = {
    (_C, _C): "the analysis's push per data set predicts the ratio on raw and clipped images: "
              "the grey levels set it.",
    (_R, _C): "the ratio follows the analysis once the exact 0s are gone and departs on the raw "
              "images: the exact 0s carry the departure.",
    (_R, _R): "neither: the ratio departs from the analysis's even without exact 0s.",
    (_C, _R): "the raw ratio follows the analysis and the clipped one does not: neither rival "
              "states this.",
    (_C, _I): "the grey levels hold on raw images; the clipped ones are undecided.",
    (_I, _C): "the ratio follows the analysis without exact 0s; the raw images are undecided.",
    (_R, _I): "the raw ratio departs; the clipped ones are undecided.",
    (_I, _R): "the clipped ratio departs from the analysis's: the exact 0s are not all of it; "
              "the raw images are undecided.",
    (_I, _I): "undecided."}

FINDINGS = (
    Finding(f"The CB push's log ratio at epoch {LAST} less the analysis's, raw images: "
            "{row:E17.grey[raw]}; the raw ratio's move from epoch "
            f"{E6_LENGTH} to {LAST}: {{row:E17.plateau[raw]}}."),
    Finding(f"The CB push's log ratio at epoch {LAST} less the analysis's, clipped images: "
            "{row:E17.grey[clipped]}."),
    *(Finding(f"Without exact 0s (only the clipped images apply): {text}",
              (("E17.grey[raw]", NOT_APPLICABLE), ("E17.grey[clipped]", v)))
      for v, text in ((_C, "the ratio follows the analysis's."),
                      (_R, "the ratio departs from the analysis's."), (_I, "undecided."))),
    *rival_findings("Grey levels or exact 0s", "E17.grey[raw]", "E17.grey[clipped]", CAUSE),
    Finding("The raw ratio moves with training, as diverging logits would make it.",
            (("E17.plateau[raw]", _R),)),
    Finding("The raw ratio stays between the stages.", (("E17.plateau[raw]", _C),)),
)
