"""E11 -- the calibration departures of E3 and E4 along the training path: a transient of finite
training, or a plateau?

E4 finds the AE pair's MSE network underconfident when binned by its prediction
(``E4.cmean.calib[mse]``) and the BCE network shrunk toward the middle (``E4.cmean.slope
[bce]``); E3 finds the MSE network's calibration in the large off its prediction from the BCE
network's features (``E3.mse.calibration``).  Both analyses describe optima; the networks stop
after 10 epochs.  The pair is trained on, with E4's and E3's measures taken (after each
network's output-bias polish, as the pair's) at epochs :data:`STAGES`:

* **transient** (finite training; :func:`~lossanalysis.analysis.power_law_extrapolation`): the
  departure decays as a power of the training length, v(t) = c t^-alpha through the two
  earlier stages, so its value at the last stage is predicted from them.  Row
  ``E11.transient.<q>``: v(last) - that extrapolation = 0.
* **plateau** (the networks' shared weights, not their training length, set it): the departure
  stays: ``E11.plateau.<q>``: v(last) - v(middle) = 0.

The middle stage is the pair's own length (10 epochs, :func:`.networks.ae_pair`), so v(middle)
is what E3 and E4 measure.  Rules: "intensity" (leans, slope gaps), "log_ratio" (E3's).
Premise: E3's rows need :data:`MIN_LOCATIONS` locations with a data mean strictly in (0, 1).
"""
from __future__ import annotations

import math

import numpy as np

from .. import analysis, plotting
from ..losses import sigmoid
from ..protocol import Prediction
from . import networks as shared
from .base import Finding
from .figures import legend_below, seed_spread, seeds_note, title
from .leans import calibration_lean, conditional_mean_gap
from .paths import stage_axis, verdict_findings

LABEL, NAME = "E11", "Calibration departures along the training path: transient or plateau"
STAGE = "mechanisms"              #: measured apart from the main study (``study --mechanisms``)
#: The main study's rows (id prefixes) whose departure from the analysis this explains.
EXPLAINS = ("E3.mse.calibration", "E4.cmean.calib[", "E4.cmean.slope[")
STAGES, QUICK_STAGES = (5, 10, 30), (1, 3, 6)
LOSSES, MIN_LOCATIONS, COST = ("bce", "mse"), 10, 3.0
QUANTITIES = {"calib[bce]": "intensity", "calib[mse]": "intensity", "slope[bce]": "intensity",
              "slope[mse]": "intensity", "e3[mse]": "log_ratio"}
WHAT = {"calib": "E4.cmean.calib's lean (errors binned by the prediction)",
        "slope": "E4.cmean.slope's gap (slope of p - y on y minus R^2 - 1)",
        "e3": "E3.mse.calibration's ln(measured / predicted mean calibration error)"}
OBSERVATIONS = {f"E11.{q}[t={t}]": "ratio" if u == "log_ratio" else u for q, u in QUANTITIES.items()
                for t in STAGES}


def _stages(quick) -> tuple:
    return QUICK_STAGES if quick else STAGES


def premise(data) -> str:
    mean = data.train.astype(np.float64).mean(axis=0)
    n = int(np.count_nonzero((mean > 0) & (mean < 1)))
    return (f"only {n} pixel locations have a data mean strictly in (0, 1) (fewer than "
            f"{MIN_LOCATIONS})" if n < MIN_LOCATIONS else "")


def networks(data, quick):
    return {"path": shared.ae_pair_path(data, quick, _stages(quick))}


def predictions(data) -> list:
    na, (t0, t1, t2), out = premise(data), STAGES, []
    for q, rule in QUANTITIES.items():
        kind, loss = q.split("[")[0], q.split("[")[1].rstrip("]")
        what = f"the {loss.upper()} AE's {WHAT[kind]}"
        out += [Prediction(
            f"E11.transient.{q}", f"{what} decays as a power of the training length: its value "
            f"at epoch {t2} is the power law through epochs {t0} and {t1}",
            f"value at epoch {t2} - the power law's", 0.0, rule, source="analysis."
            "power_law_extrapolation of the two earlier stages", applicable=na if kind == "e3"
            else "", reason="a departure set by the shared weights would not decay"),
            Prediction(
            f"E11.plateau.{q}", f"{what} stays as training goes on from epoch {t1} to {t2}",
            f"value at epoch {t2} - value at epoch {t1}", 0.0, rule, applicable=na
            if kind == "e3" else "", source="the departure is not a transient of training",
            reason="an unfinished fit would move on")]
    return out


def _values(stage, x, cols) -> dict:
    y, out = x.astype(np.float64), {}
    p = {}
    for loss in LOSSES:
        p[loss] = sigmoid(stage[loss][1].logits(x).astype(np.float64))
        out[f"calib[{loss}]"] = calibration_lean(p[loss], y)
        out[f"slope[{loss}]"] = conditional_mean_gap(p[loss], y)["gap"]
    if cols.size >= MIN_LOCATIONS:
        bce = stage["bce"][0]
        b = bce.params[shared.last_layer(bce) + ".b"].astype(np.float64)[cols]
        u = bce.logits(x).astype(np.float64)[:, cols] - b
        c, _ = shared.stationary_offsets("mse", y[:, cols], u, b)
        mean = y[:, cols].mean(axis=0)
        pred = float(np.mean(np.abs(sigmoid(u + c).mean(axis=0) - mean)))
        got = float(np.mean(np.abs(p["mse"][:, cols].mean(axis=0) - mean)))
        out["e3[mse]"] = math.log(got / pred) if got > 0 and pred > 0 else math.nan
    else:
        out["e3[mse]"] = math.nan
    return out


def measure(nets, data) -> dict:
    path = nets["path"]
    x = data.train(path["n"])
    stages = sorted(path["stages"])
    v = {t: _values(path["stages"][t], x, path["columns"]) for t in stages}
    out = {k: math.nan for k in OBSERVATIONS}
    for t, names in zip(stages, STAGES):          # quick runs: their stages under these names
        out.update({f"E11.{q}[t={names}]": v[t][q] for q in QUANTITIES})
    t0, t1, t2 = stages
    out["_stages"] = np.array(stages)             # the epochs really measured (quick: fewer)
    for q in QUANTITIES:
        out[f"E11.plateau.{q}"] = v[t2][q] - v[t1][q]
        out[f"E11.transient.{q}"] = v[t2][q] - analysis.power_law_extrapolation(
            (t0, t1), (v[t0][q], v[t1][q]), t2)
    return out


_TITLES = {"calib": "(a) E4.cmean.calib", "slope": "(b) E4.cmean.slope",
           "e3": "(c) E3.mse.calibration"}


@plotting.style()
def figure(result):
    """Each departure at the three stages (mean ± sd over the seeds), one panel per kind."""
    fig, axes = plotting.figure(1, 3, columns=2, height=2.6)
    at = result.per_seed[0]["_stages"]
    for ax, kind, unit in zip(axes, ("calib", "slope", "e3"), ("intensity", "intensity",
                                                               "ratio")):
        for q in (q for q in QUANTITIES if q.startswith(kind)):
            loss = q[-4:-1]
            v = np.array([[m[f"E11.{q}[t={t}]"] for t in STAGES] for m in result.per_seed])
            ax.errorbar(at, *seed_spread(v), marker="os"[LOSSES.index(loss)], ms=3.5,
                        color=plotting.color(loss), label=plotting.display_name(loss))
        stage_axis(ax, at)
        ax.set(title=_TITLES[kind], ylabel=plotting.axis_label(
            {"calib": "calibration lean", "slope": "slope gap",
             "e3": "ln(measured / predicted)"}[kind], unit))
    legend_below(fig, [(plotting.display_name(loss), dict(color=plotting.color(loss),
                                                         marker="os"[j], ms=3.5))
                       for j, loss in enumerate(LOSSES)])
    title(fig, LABEL, result.data.name, "calibration departures along the training path",
          "mean ± sd over " + seeds_note(result.seeds))
    return fig


def _findings():
    out = []
    for q in QUANTITIES:
        kind, loss = q.split("[")[0], q.split("[")[1].rstrip("]").upper()
        tr, pl = f"E11.transient.{q}", f"E11.plateau.{q}"
        out.append(Finding(f"{WHAT[kind]}, {loss}: " + ", ".join(
            f"{{obs:E11.{q}[t={t}]:+.4f}} at epoch {t}" for t in STAGES)
            + f"; transient {{row:{tr}}}; plateau {{row:{pl}}}."))
        out += verdict_findings(f"{WHAT[kind]}, {loss}", tr, pl)
    return tuple(out)


FINDINGS = _findings()
