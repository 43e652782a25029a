"""E4, the conditional-mean null, and the lean measures it shares with E8 (.leans).

Unit tests on synthetic predictors with known answers (a conditional mean, one shrunk toward the
middle, one with extra noise), the predictions' ids, kinds and tolerances against the claims'
contract, and -- on the shared tiny run of conftest -- the figure's legends and the text rendered
with facts made false.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from conftest import experiment_state, experiment_text, with_observation
from lossanalysis import plotting
from lossanalysis.claims import evidence
from lossanalysis.experiments import e4_asymmetry as e4
from lossanalysis.experiments import leans
from lossanalysis.experiments.core import FALSIFIABLE, RunConfig


def _conditional(n=400000, seed=0):
    """A conditional mean m (unimodal at 1/2) and grey targets y ~ Beta(4 m, 4 (1 - m)), so
    that E[y | m] = m."""
    rng = np.random.default_rng(seed)
    m = rng.beta(2.0, 2.0, n)
    return m, rng.beta(4 * m, 4 * (1 - m))


# ----------------------------------------------------------------------------------- leans
def test_pair_lean_is_the_antisymmetric_part_and_cancels_a_uniform_offset():
    c = leans.CENTRES
    toward = 0.03 * np.sign(0.5 - c)
    np.testing.assert_allclose(leans.pair_lean(toward), 0.03)
    np.testing.assert_allclose(leans.pair_lean(toward + 0.02), 0.03)
    np.testing.assert_allclose(leans.pair_lean(-toward), -0.03)
    assert leans.pair_lean(np.zeros((2, c.size))).shape == (2, 4)
    with pytest.raises(ValueError, match="one value per bin"):
        leans.pair_lean(np.zeros(5))
    assert leans.pairs_from(0.25) == ((2, 6), (3, 5)) and leans.pairs_from(0.0) == leans.PAIRS


def test_a_conditional_mean_is_calibrated_and_has_no_slope_gap():
    m, y = _conditional()
    gap = leans.conditional_mean_gap(m, y)
    assert abs(gap["gap"]) < 0.005
    assert gap["slope"] == pytest.approx(gap["r2"] - 1 + gap["gap"], abs=1e-12)
    assert abs(leans.calibration_lean(m, y)) < 0.005
    # binned by the target the same predictor regresses toward the middle
    t, _ = leans.by_target(m, y)
    assert np.nanmean(leans.pair_lean(t)) > 0.1


def test_shrunk_and_noisy_predictors_break_the_identities_with_the_predicted_signs():
    m, y = _conditional(seed=1)
    k = 0.2
    shrunk = 0.5 + (1 - k) * (m - 0.5)
    r2 = float(np.var(m) / np.var(y))
    assert leans.conditional_mean_gap(shrunk, y)["gap"] == pytest.approx(k * (1 - k) * r2,
                                                                         rel=0.05)
    assert leans.calibration_lean(shrunk, y) > 0.02          # nearer 1/2: underconfident
    rng = np.random.default_rng(2)
    noisy = np.clip(m + rng.normal(0, 0.05, m.size), 0, 1)
    assert leans.conditional_mean_gap(noisy, y)["gap"] < -0.01
    # noise spreads the predictions beyond the targets they stand for (m is unimodal at 1/2)
    assert leans.calibration_lean(noisy, y) < -0.005


def test_empty_bins_give_nan_not_a_number():
    y = np.array([0.0, 1.0])
    assert math.isnan(leans.calibration_lean(np.array([0.5, 0.5]), y))
    assert math.isnan(leans.conditional_mean_gap(np.array([0.2, 0.3]), np.ones(2))["gap"])


# ----------------------------------------------------------------------------- predictions
def test_predictions_follow_the_contract():
    P = e4.prepare(RunConfig(), None)["predictions"]
    ids = [p.id for p in P]
    assert len(ids) == len(set(ids)) == 8
    rep = evidence.Report("t", "mnist", False, tuple(
        evidence._toy(p.id, [p.value, p.value], p.value, p.comparison, p.kind) for p in P))
    assert [r.id for r in rep.matching("E4.null.*")] == list(e4.NULL_IDS)
    for p in P:
        assert p.kind == FALSIFIABLE and p.value == 0.0 and p.comparison == "equal"
        assert p.tolerance == leans.RESOLUTION and p.kind_reason
    withdrawn = e4.REVISIONS[0].ids
    assert not set(withdrawn) & set(ids)
    assert {i for r in e4.REVISIONS for i in r.ids} >= set(ids)


def test_injected_values_reach_the_predictions():
    cfg = RunConfig(extra={"override": {e4.NULL_IDS[0]: 0.5}})
    P = {p.id: p for p in e4.prepare(cfg, None)["predictions"]}
    assert P[e4.NULL_IDS[0]].value == 0.5 and P[e4.NULL_IDS[1]].value == 0.0


# ------------------------------------------------------------- the shared run: figure, text
def _state(run):
    return experiment_state(run, "E4")


_text = experiment_text
_set = with_observation


def _rows(rows, **changes):
    """``changes``: id -> dict of fields (mean, verdict)."""
    return [dataclasses.replace(r, **changes.get(r.id, {})) for r in rows]


def test_e4_runs_and_its_figure_has_no_legend_over_data(experiment_run):
    s = _state(experiment_run["run"])
    assert {r.id for r in s.rows} == {p.id for p in s.prep["predictions"]}
    obs = experiment_run["json"]["observations"]
    assert len(obs["blur_ratio[ae_bce]"]["values"]) == len(s.measured.seeds)
    fig = e4.figure(s.cfg, s.prep, s.measured)
    assert plotting.legend_overlaps(fig) == []


def test_e4_text_follows_the_facts(experiment_run):
    s = _state(experiment_run["run"])
    m = s.measured
    down = _set(_set(m, "E4.slope[bce,train]", -0.3), "E4.slope[mse,train]", -0.2)
    up = _set(down, "E4.slope[mse,train]", 0.1)
    assert "Both networks regress toward the middle" in _text(s, down)
    t = _text(s, up)
    assert "regress toward the middle" not in t and "do not both fall" in t
    near = _set(m, "E4.null_lean_mean[train]", 0.002)
    far = _set(m, "E4.null_lean_mean[train]", -0.002)
    assert "lie nearer ½ than MSE's by 0.0020" in _text(s, near)
    assert "lie farther from ½ than MSE's by 0.0020" in _text(s, far)
    calib = "E4.cmean.calib[mse]"
    under = _rows(s.rows, **{calib: {"mean": 0.01}})
    over = _rows(s.rows, **{calib: {"mean": -0.01}})
    fine = _rows(s.rows, **{calib: {"mean": 0.0}})
    assert "MSE +0.0100 (" in _text(s, rows=under) and "underconfident" in _text(s, rows=under)
    assert "MSE -0.0100 (" in _text(s, rows=over) and "overconfident" in _text(s, rows=over)
    assert "MSE +0.0000 (**" in _text(s, rows=fine)
    test_side = _set(m, "E4.cmean.calib_test[bce]", -0.02)
    assert "On the test images: BCE -0.0200 (overconfident" in _text(s, test_side)
    refuted = _rows(s.rows, **{e4.NULL_IDS[0]: {"verdict": "refuted", "mean": -0.01}})
    held = _rows(s.rows, **{r.id: {"verdict": "confirmed"} for r in s.rows})
    assert "What the analysis missed" in _text(s, rows=refuted)
    assert "BCE farther from ½ than MSE" in _text(s, rows=refuted)
    t = _text(s, rows=held)
    assert "What the analysis missed" not in t and "4 of 4 pairs confirmed" in t
