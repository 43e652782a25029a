"""E1 (lossanalysis.experiments.e1_minimizers): registration
without training, every row measured on tiny data, premises that give "not applicable" rows,
the figure's layout, and the measurement helpers against known answers."""
import dataclasses
import math

import numpy as np
import pytest

import figcheck

from lossanalysis import analysis, plotting
from lossanalysis.experiments import runner
from lossanalysis.experiments import e1_minimizers as e1
from lossanalysis.experiments.base import StudyData, render_findings
from lossanalysis.losses import sigmoid
from lossanalysis.protocol import CONSISTENCY, FALSIFIABLE, GREY_LEVEL, NOT_APPLICABLE


def grey_images(n, side=8, seed=0):
    """8-bit images with many grey pixels: a soft blob on a grey ramp (no premise fails)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side] / (side - 1)
    c = rng.uniform(0.3, 0.7, (n, 2))
    blob = np.exp(-((xx - c[:, :1, None]) ** 2 + (yy - c[:, 1:, None]) ** 2) / 0.08)
    im = np.clip(0.15 + 0.5 * xx * rng.uniform(0.5, 1, (n, 1, 1)) + 0.5 * blob, 0, 1)
    return (np.round(im * 255) / 255).reshape(n, -1).astype(np.float32)


#: Short fits for the tests (the precision they reach is not what is tested here).
SHORT_FIT = {"steps": 100, "lr0": 0.3, "lr_end": 1e-3}


@pytest.fixture(scope="module")
def small(request):
    """A quick run of E1 on 150 8x8 images, with short fits (the module's FIT and location cap
    patched for speed; everything else runs as in a study)."""
    mp = pytest.MonkeyPatch()
    request.addfinalizer(mp.undo)
    mp.setattr(e1, "FIT", SHORT_FIT)
    mp.setattr(e1, "MAX_LOCATIONS", {False: 4, True: 4})
    declared = e1.networks
    mp.setattr(e1, "networks", lambda data, quick: {     # the overfitting AEs: 60 Adam steps
        k: dataclasses.replace(v, settings={**v.settings, "steps": 60}) if k == "overfit" else v
        for k, v in declared(data, quick).items()})
    data = StudyData("tiny", grey_images(150), grey_images(40, seed=1), (8, 8))
    reg = runner.predict(data, [e1])
    return data, reg, runner.run(data, [e1], reg, quick=True).results["E1"]


def test_the_registration_is_computed_from_the_data_without_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("registration trained something")
    monkeypatch.setattr(e1, "fit_free_logits", refuse)
    monkeypatch.setattr(e1, "AE", refuse)
    data = StudyData("tiny", grey_images(150), grey_images(40, seed=1), (8, 8))
    preds = {p.id: p for p in runner.predict(data, [e1])["E1"]}
    assert list(preds) == e1.IDS
    levels = e1.grey_levels(data.train)
    for pid, p in preds.items():
        assert not p.applicable
        if pid.startswith("E1.ae."):
            assert (p.kind, p.rule, p.value) == (FALSIFIABLE, "intensity", 0.0)
            assert p.tolerance == pytest.approx(GREY_LEVEL)
        elif pid == "E1.point.focal_direction":
            # focal pulls every level toward 1/2 (the analysis), to half of one level's share
            assert p.value == 1.0 and p.tolerance == pytest.approx(0.5 / levels.size)
        else:
            assert (p.kind, p.rule, p.tolerance) == (CONSISTENCY, "numeric", e1.FIT["lr_end"])


def test_every_row_is_measured_and_reported(small):
    data, reg, res = small
    assert [r.id for r in res.rows] == e1.IDS
    for row in res.rows:
        assert len(row.measurements) == 2 and all(map(math.isfinite, row.measurements)), row.id
    for name, obs in res.observations.items():
        assert all(map(math.isfinite, obs.values)), name
    assert res.observations["E1.locations"].values == (4.0, 4.0)
    # focal's argmin at the batch's grey pixels is pulled toward 1/2, the CB's pushed away
    assert res.observations["E1.ae_argmin_bias[focal]"].mean < -0.05
    assert res.observations["E1.ae_argmin_bias[continuous_bernoulli]"].mean > 0.05
    assert len(render_findings(e1.FINDINGS, res)) == len(e1.FINDINGS)


def test_the_figure_has_a_paper_width_and_no_legend_over_data(small):
    fig = e1.figure(small[2])
    assert [float(v) for v in fig.get_size_inches()][0] == plotting.COLUMN_WIDTH[2]
    assert figcheck.figure_problems(fig, "E1") == []


@pytest.mark.parametrize("case", ["binary", "no_grey_locations"])
def test_data_without_the_premises_give_not_applicable_rows(case, monkeypatch):
    monkeypatch.setattr(e1, "FIT", SHORT_FIT)
    rng = np.random.default_rng(3)
    if case == "binary":              # no grey level at all: every part is inapplicable
        x = (rng.random((150, 64)) < 0.3).astype(np.float32)
        expect = set(e1.IDS)
    else:                             # sparse grey: two levels, but no grey median, few pixels
        x = np.where(rng.random((150, 64)) < 0.05, rng.choice([0.4, 0.6], (150, 64)), 0.0)
        expect = {i for i in e1.IDS if not i.startswith("E1.point.")}
    data = StudyData(case, x.astype(np.float32), x[:20].astype(np.float32), (8, 8))
    reg = runner.predict(data, [e1])
    assert {p.id for p in reg["E1"] if p.applicable} == expect
    assert set(e1.networks(data, True)) == {"points"} - ({"points"} if case == "binary" else set())
    res = runner.run(data, [e1], reg, quick=True).results["E1"]
    for row in res.rows:
        if row.id in expect:
            assert row.verdict == NOT_APPLICABLE and row.note
        else:
            assert all(map(math.isfinite, row.measurements)), row.id


def test_free_logits_converge_to_the_catalogue_minimizer():
    y = np.array([0.1, 0.3, 0.8])
    for loss in ("focal", "continuous_bernoulli"):
        z, g = e1.fit_free_logits(loss, y[:, None], np.ones((3, 1)), np.zeros(3), steps=1500,
                                  lr0=0.3, lr_end=1e-5)
        assert np.max(np.abs(sigmoid(z) - analysis.argmin(loss, y))) < 1e-5 and g < 1e-4
    # one output fitted to several targets: BCE at their mean, MAE at their median
    t, w = np.array([[0.1, 0.2, 0.9]]), np.ones((1, 3)) / 3
    for loss, want in (("bce", 0.4), ("mae", 0.2)):
        z, _ = e1.fit_free_logits(loss, t, w, np.zeros(1), steps=1500, lr0=0.3, lr_end=1e-5)
        assert abs(float(sigmoid(z[0])) - want) < 1e-5


def test_newton_distance_vanishes_at_the_minimizer_and_bias_signs():
    y = np.array([0.2, 0.7])
    z_star = np.log(analysis.argmin("focal", y) / (1 - analysis.argmin("focal", y)))
    assert np.all(e1.newton_distance("focal", y, z_star) < 1e-8)
    assert np.all(e1.newton_distance("focal", y, z_star + 0.3) > 1e-3)
    assert e1.directional_bias([0.2, 0.8], [0.1, 0.9]) == pytest.approx(0.1)
    assert e1.directional_bias([0.2], [0.3], ref=[0.25]) == pytest.approx(-0.05)
    assert math.isnan(e1.directional_bias([], []))


def test_locations_keep_the_columns_with_a_unique_grey_median():
    x = np.zeros((4, 3))
    x[:, 0] = [0.2, 0.4, 0.4, 0.8]         # mean 0.45, median 0.4 (unique): kept
    x[:, 1] = [0.2, 0.2, 0.6, 0.6]         # the median is any point of [0.2, 0.6]: dropped
    x[:, 2] = [0.0, 0.0, 0.0, 0.6]         # median 0: dropped
    w = e1.locations(np.round(x * 255) / 255)
    assert w.shape == (1, 256) and w.sum() == pytest.approx(1.0)
    assert analysis.optimal_prediction("mae", np.arange(256) / 255, w[0]) == pytest.approx(
        102 / 255)
    assert e1.grey_levels(np.array([0.0, 10 / 255, 128 / 255, 1.0])).tolist() == [128 / 255]
