"""What the training-path experiments (E11-E13, E15) share: a departure from the analysis
measured at three training lengths, and two rivals for it.

* **transient** -- finite training: the departure decays as a power of the training length
  through the two earlier stages (:func:`lossanalysis.analysis.power_law_extrapolation`), so
  its value at the last stage is predicted from them;
* **plateau** -- the network's shared weights, not its training length, set it: it stays.

:func:`verdict_findings` turns each pair of the rows' verdicts into the sentence it supports
(:data:`VERDICTS`), and :func:`stage_axis` draws the training length the same way in each
figure.
"""
from __future__ import annotations

from .. import plotting
from ..protocol import CONFIRMED as _C
from ..protocol import INCONCLUSIVE as _I
from ..protocol import REFUTED as _R
from .base import rival_findings, rival_verdicts

__all__ = ["VERDICTS", "verdict_findings", "stage_axis"]

#: The conclusion for each pair of verdicts (transient row, plateau row).
VERDICTS = rival_verdicts("the transient", "the plateau", "stages", {
    (_C, _R): "it decays as the power law through the earlier stages predicts: a transient of "
              "finite training.",
    (_R, _C): "it stays: a plateau, not a transient.",
    (_R, _R): "neither: it moves on with training, but not as the power law predicts.",
    (_I, _C): "the plateau is confirmed; the transient undecided (or undefined: the earlier "
              "stages differ in sign).",
    (_I, _R): "the plateau is refuted; the transient undecided (or undefined).",
    (_I, _I): "undecided."})


def verdict_findings(what: str, transient: str, plateau: str) -> list:
    """One conditional :class:`.base.Finding` per pair of verdicts of the rows ``transient`` and
    ``plateau``: ``"<what>: <conclusion>"``."""
    return rival_findings(what, transient, plateau, VERDICTS)


def stage_axis(ax, stages) -> None:
    """The training length on a log axis with a tick at each stage (in epochs), and the zero
    line of a departure."""
    ax.set(xscale="log", xlabel=plotting.axis_label("training length", "epoch"))
    ax.set_xticks(stages, [str(t) for t in stages])
    ax.minorticks_off()
    plotting.guides(ax, y=[0])
