"""The measures experiments share (experiments.leans, experiments.images) on inputs with known
answers: a conditional mean has no lean and no slope gap, a shrunk or noisier predictor breaks
them with the predicted signs; the blur ratio of a contrast-halved image is 2."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lossanalysis.experiments import leans
from lossanalysis.experiments.images import blur_stats, mean_gradient, midgrey_fraction


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

def test_blur_measures():
    assert mean_gradient(np.full((3, 784), 0.5)) == 0.0
    step = np.zeros((1, 28, 28))
    step[:, :, 14:] = 1.0
    # one column of unit horizontal steps among 27 x 27 positions
    assert mean_gradient(step.reshape(1, -1)) == pytest.approx(27 / 729)
    x = np.random.default_rng(1).random((5, 784))
    s = blur_stats(x, x)
    assert s["blur_ratio"] == pytest.approx(1.0) and s["midgrey_ratio"] == pytest.approx(1.0)
    assert s["mse"] == 0.0 and s["mae"] == 0.0
    assert blur_stats(0.5 * x + 0.25, x)["blur_ratio"] == pytest.approx(2.0)
    assert midgrey_fraction(np.array([0.0, 51 / 255, 0.5, 0.8, 1.0])) == pytest.approx(0.2)
    # images of another shape: the gradient is taken on their own grid
    bars = np.zeros((1, 4, 6))
    bars[:, :, 3:] = 1.0
    assert mean_gradient(bars.reshape(1, -1), (4, 6)) == pytest.approx(3 / 15)
