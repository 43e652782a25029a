"""E2 (lossanalysis.experiments.e2_saturation): the predicted
ratios against closed forms, every row measured on tiny data, premises that give "not
applicable" rows, the figure's layout, and the first-step measurement against the analysis."""
import math

import numpy as np
import pytest

import figcheck
from toyimages import strokes

from lossanalysis import plotting
from lossanalysis.experiments import runner
from lossanalysis.experiments import e2_saturation as e2
from lossanalysis.experiments.base import StudyData, render_findings
from lossanalysis.protocol import CONSISTENCY, FALSIFIABLE, NOT_APPLICABLE


@pytest.fixture(scope="module")
def small(request):
    """A quick run of E2 on 150 8x8 images; the step sizes are raised (LR 0.05, free-output eta
    0.5) so that MSE escapes in a few hundred steps.  Everything else runs as in a study."""
    mp = pytest.MonkeyPatch()
    request.addfinalizer(mp.undo)
    mp.setattr(e2, "LR", 0.05)
    mp.setattr(e2, "ETA_FREE", 0.5)
    data = StudyData("tiny", strokes(150), strokes(30, seed=1), (8, 8))
    reg = runner.predict(data, [e2])
    return data, reg, runner.run(data, [e2], reg, quick=True).results["E2"]


def test_the_predicted_ratios_match_their_closed_forms():
    # |dBCE/dz| = 1 - p and |dMSE/dz| = 2 p (1 - p)^2 at y = 1; with p = sigmoid(z) the
    # integrands 1 + e^z and (3 + 3 e^z + e^2z + e^-z) / 2 integrate in closed form
    e6 = math.exp(-6)
    bce = 6 + 1 - e6
    mse = (18 + 3 * (1 - e6) + (1 - e6 ** 2) / 2 + (1 / e6 - 1)) / 2
    assert e2.integral_ratio() == pytest.approx(mse / bce, rel=1e-9)
    p = 1 / (1 + math.exp(6))
    assert e2.first_step_ratio() == pytest.approx(1 / (2 * p * (1 - p)), rel=1e-12)


def test_the_registration_needs_no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("registration trained something")
    monkeypatch.setattr(e2, "AE", refuse)
    monkeypatch.setattr(e2, "BiasOnly", refuse)
    data = StudyData("tiny", strokes(150), strokes(30, seed=1), (8, 8))
    preds = {p.id: p for p in runner.predict(data, [e2])["E2"]}
    assert tuple(preds) == e2.IDS and not any(p.applicable for p in preds.values())
    free, sgd, escape, adam = (preds[i] for i in e2.IDS)
    assert (free.kind, free.rule, free.tolerance) == (CONSISTENCY, "ratio", free.value / 10)
    assert (escape.kind, escape.rule, escape.value, escape.tolerance) == (FALSIFIABLE, "ratio",
                                                                          1.0, 0.1)
    assert (sgd.rule, sgd.tolerance) == ("numeric", pytest.approx(1e-6 * sgd.value))
    assert (adam.rule, adam.value, adam.tolerance) == ("numeric", 1.0, 0.01)


def test_every_row_is_measured_and_the_first_steps_are_exact(small):
    data, reg, res = small
    assert tuple(r.id for r in res.rows) == e2.IDS
    for row in res.rows:
        assert len(row.measurements) == 2 and all(map(math.isfinite, row.measurements)), row.id
    for name, obs in res.observations.items():
        assert all(map(math.isfinite, obs.values)), name
    # the gradient arithmetic holds on any data, to float64 precision
    for v in res.row("E2.ae.first_step.sgd").measurements:
        assert v == pytest.approx(e2.first_step_ratio(), rel=1e-6)
    for v in res.row("E2.ae.first_step.adam").measurements:
        assert v == pytest.approx(1.0, abs=0.01)
    # MSE escapes saturation more slowly than BCE under SGD, free or in the AE
    assert min(res.observations["E2.sgd_slowdown"].values) > 2
    assert min(res.row("E2.free.slowdown").measurements) > 2
    assert len(render_findings(e2.FINDINGS, res)) == len(e2.FINDINGS) - 1   # none refuted


def test_the_figure_has_a_paper_width_and_no_legend_over_data(small):
    fig = e2.figure(small[2])
    assert [float(v) for v in fig.get_size_inches()][0] == plotting.COLUMN_WIDTH[2]
    assert figcheck.figure_problems(fig, "E2") == []


def test_data_without_ink_give_not_applicable_rows():
    x = (np.round(np.random.default_rng(2).uniform(0, 0.6, (150, 64)) * 255) / 255)
    data = StudyData("dim", x.astype(np.float32), x[:20].astype(np.float32), (8, 8))
    reg = runner.predict(data, [e2])
    assert all(p.applicable for p in reg["E2"])
    assert e2.networks(data, True) == {}
    res = runner.run(data, [e2], reg, quick=True).results["E2"]
    assert all(r.verdict == NOT_APPLICABLE for r in res.rows)
    assert e2.figure(res) is not None


def test_crossing_and_dilation_on_known_answers():
    assert e2.crossing([0, 1, 2], [-2.0, -1.0, 1.0], 0.0) == 1.5
    assert e2.crossing([0, 10], [0.5, 1.0], 0.0) == 0.0
    assert math.isnan(e2.crossing([0, 1], [-2.0, -1.0], 0.0))
    # at a common logit every pixel's gradient ratio is 1/(2p(1 - p)), whatever its target
    y = np.array([0.9, 0.95, 1.0])
    assert e2.dilation(np.full(3, e2.Z0), y) == pytest.approx(e2.first_step_ratio(), rel=1e-12)
