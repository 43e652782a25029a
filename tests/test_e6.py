"""E6 in the new experiment shape: the registration from the data alone, every row measured on
tiny data through the runner, the premises (no exact 0s or 1s, too few images) giving rows that
are not applicable without crashing, the figure, and the measurement on decoders that sit
exactly where the analysis puts them."""
from __future__ import annotations

import math

import numpy as np
import pytest

import figcheck
from toyimages import blobs

from lossanalysis import analysis, plotting
from lossanalysis.experiments import cb, runner
from lossanalysis.experiments import e6_continuous_bernoulli as e6
from lossanalysis.experiments.base import StudyData
from lossanalysis.protocol import GREY_LEVEL, NOT_APPLICABLE, NOT_JUDGED


def _study(n, floor=0.0, side=8):
    return StudyData("blobs", blobs(n, side, 0, floor), blobs(max(n // 4, 40), side, 1, floor),
                     (side, side))


@pytest.fixture(scope="module")
def quick():
    data = _study(1500)
    reg = runner.predict(data, [e6])
    return data, reg, runner.run(data, [e6], reg, quick=True).results["E6"]


def test_registration_follows_the_rules_without_training(quick):
    data, reg, _ = quick
    preds = {p.id: p for p in reg["E6"]}
    raw = ("cb.param_expansion", "cb.mean_intensity", "bernoulli.mean_intensity",
           "cb.mae_ratio", "cb.sharper", "cb.active_dims")
    assert set(preds) == {pre + k for pre in ("E6.", "E6.clipped.") for k in raw}
    for pid, p in preds.items():
        assert not p.applicable, pid
        if pid.endswith(("expansion", "mean_intensity")):
            assert p.rule == "intensity" and p.tolerance == GREY_LEVEL
        elif pid.endswith(("mae_ratio", "sharper")):       # a ratio, at most 1, within 10%
            assert (p.rule, p.comparison, p.value, p.tolerance) == ("ratio", "at_most", 1.0, 0.1)
        else:
            assert (p.rule, p.comparison, p.tolerance) == ("count", "at_least", 1.0)
    # the expansion: mu^-1 of the evaluation images' mid-grey pixels, pushed away from 1/2
    ext = e6.extremeness(data.test[:e6.N_EVAL])
    assert preds["E6.cb.param_expansion"].value == pytest.approx(ext["predicted"] - ext["data"])
    assert preds["E6.cb.param_expansion"].value > 0
    # a second registration gives the same table: nothing measured is read
    assert runner.predict(data, [e6]) == reg


def test_every_row_and_observation_is_measured_on_tiny_data(quick):
    _, reg, res = quick
    assert [r.id for r in res.rows] == [p.id for p in reg["E6"]]
    for r in res.rows:
        assert r.verdict == NOT_JUDGED and len(r.measurements) == 2
        assert all(math.isfinite(v) for v in r.measurements), r.id
    assert set(res.observations) == set(e6.OBSERVATIONS)
    assert "blur_ratio[vae_bernoulli]" not in res.observations      # E5 publishes it
    assert res.observations["E6.background_fraction"].mean > cb.MIN_BOUNDARY


def test_figure_has_no_legend_over_data_and_a_paper_width(quick):
    fig = e6.figure(quick[2])
    assert figcheck.figure_problems(fig, "E6") == []
    assert float(fig.get_size_inches()[0]) == plotting.COLUMN_WIDTH[2]


def test_data_without_exact_zeros_or_ones_leave_only_the_control():
    data = _study(1500, floor=0.1)
    assert data.summary.frac_zero + data.summary.frac_one == 0
    preds = e6.predictions(data)
    raw = [p for p in preds if not p.id.startswith("E6.clipped.")]
    assert all("exactly 0 or 1" in p.applicable for p in raw)
    assert not any(p.applicable for p in preds if p.id.startswith("E6.clipped."))
    assert set(e6.networks(data, True)) == {"bernoulli_clipped", "continuous_bernoulli_clipped"}


def test_too_few_images_give_not_applicable_rows_and_no_crash():
    data = _study(150)
    reg = runner.predict(data, [e6])
    assert all(p.applicable.startswith("fewer than 1000 training images") for p in reg["E6"])
    assert e6.networks(data, True) == {}
    res = runner.run(data, [e6], reg, quick=True).results["E6"]
    assert {r.verdict for r in res.rows} == {NOT_APPLICABLE}
    assert e6.figure(res) is None


class _Exact:
    """A decoder that returns the data itself (mean image) and, as the CB parameter image,
    mu^-1 of it: where the analysis puts the optimum."""

    def __init__(self, latent=16):
        self.latent = latent

    def kl_per_dim(self, x):
        return np.zeros(self.latent)

    def encode(self, x):
        return np.asarray(x, np.float32), np.zeros_like(x, np.float32)

    def decode(self, h, kind="mean"):
        h = np.asarray(h, np.float64)
        if kind == "param":
            return np.interp(h, cb.GRID, analysis.argmin("continuous_bernoulli", cb.GRID))
        return np.log(h + 1e-9) - np.log1p(1e-9 - h) if kind == "logit" else h


def test_decoders_at_the_optimum_are_measured_on_the_prediction():
    data = _study(1500)
    n = e6.shared.vae(data, False, likelihood="bernoulli").n
    nets = {f"{lik}_{v}": {"epochs": {8: _Exact()}, "n": n} for lik in e6.LIKS
            for v in e6.VARIANTS}
    out = e6.measure(nets, data.seed_data(0))
    preds = {p.id: p for p in e6.predictions(data)}
    for pre in e6.PREFIX.values():
        # the parameter image expands exactly as predicted; both means match the data's
        assert out[pre + "cb.param_expansion"] == pytest.approx(
            preds[pre + "cb.param_expansion"].value, abs=1e-12)
        for rid in ("cb.mean_intensity", "bernoulli.mean_intensity"):
            assert abs(out[pre + rid]) < 1e-9
        assert out[pre + "cb.active_dims"] == 0
        assert math.isnan(out[pre + "cb.mae_ratio"])           # 0 / 0: no error to compare
        assert out[pre + "cb.sharper"] == pytest.approx(1.0)
    assert out["E6.clipped.mean_intensity[data]"] > out["E6.mean_intensity[data]"]


def test_the_inverse_mean_grid_is_exact_at_the_8bit_levels():
    levels = np.arange(52, 204) / 255.0                    # 0.2 < x < 0.8
    exact = np.asarray(analysis.argmin("continuous_bernoulli", levels), dtype=float)
    grid = np.interp(levels, cb.GRID, analysis.argmin("continuous_bernoulli", cb.GRID))
    assert np.max(np.abs(grid - exact)) < 2e-6             # the docstring's bound
    # lambda lies farther from 1/2 than x at every level (mu lies between lambda and 1/2)
    assert np.all(np.abs(exact - 0.5) >= np.abs(levels - 0.5))
    assert e6.variance_ratio(np.full((3, 2), 0.5)) == pytest.approx(1 / 3)   # (1/12) / (1/4)
