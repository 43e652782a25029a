"""Tests for E5 (the VAE's likelihood scale and blur) and E6 (continuous Bernoulli).

The module-scoped fixture runs both experiments once in quick mode on the real MNIST files in
$LOSSANALYSIS_DATA (skipped without them; a failure on CI, which sets it).  The checks are about
the machinery -- well-formed outputs, predictions computed from the data before measuring,
verdicts computed from prediction and measurement, seeds that matter -- never about the
measured values themselves, which the quick mode's short training does not pin down.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from lossanalysis.experiments import e5_vae_scale as e5
from lossanalysis.experiments import e6_continuous_bernoulli as e6
from lossanalysis.experiments.core import (CONFIRMED, INCONCLUSIVE, REFUTED, ExperimentOutput,
                                           Prediction, Progress, Result, RunConfig, judge,
                                           load_data)
from lossanalysis.losses import continuous_bernoulli_mean_logit, sigmoid

@pytest.fixture(scope="module")
def run(tmp_path_factory, real_data):
    figures = tmp_path_factory.mktemp("figures")
    cfg = RunConfig(dataset="mnist", n_seeds=2, quick=True, data_dir=real_data,
                    figures_dir=str(figures), quiet=True)
    data = load_data(cfg)
    progress = Progress(quiet=True)
    out5 = e5.run(cfg, data, progress)
    out6 = e6.run(cfg, data, progress)
    return {"cfg": cfg, "data": data, "e5": out5, "e6": out6, "figures": figures}


def _result(out, pid):
    found = [r for r in out.results if r.prediction.id == pid]
    assert len(found) == 1, f"no single result {pid}"
    return found[0]


# ---------------------------------------------------------------------------------- outputs
@pytest.mark.parametrize("which", ["e5", "e6"])
def test_outputs_are_well_formed(run, which):
    out = run[which]
    assert isinstance(out, ExperimentOutput)
    assert out.results
    ids = [r.prediction.id for r in out.results]
    assert len(ids) == len(set(ids))
    for r in out.results:
        assert isinstance(r, Result)
        assert r.dataset == "mnist"
        assert len(r.measurements) == 2                       # quick mode: two seeds
        if all(math.isfinite(v) for v in r.measurements):
            assert math.isfinite(r.mean) and math.isfinite(r.spread)
            assert r.verdict in (CONFIRMED, REFUTED)
        else:
            # only a degenerate statistic (E5's rank correlation of tied counts) may be NaN,
            # and it is reported as inconclusive, never as a number
            assert r.prediction.id == "E5.mlp.active_order"
            assert r.verdict == INCONCLUSIVE
        assert r.verdict == judge(r.prediction, r.measurements)
        assert r.prediction.id in out.markdown
        assert r.verdict in out.markdown
        d = r.to_dict()
        assert d["verdict"] == r.verdict
    assert all(isinstance(v, float) and math.isfinite(v) for v in out.measurements.values())


@pytest.mark.parametrize("stem", ["mnist_e5_vae_scale", "mnist_e6_continuous_bernoulli"])
def test_figures_written(run, stem):
    for ext in ("pdf", "png"):
        path = Path(run["figures"]) / f"{stem}.{ext}"
        assert path.is_file() and path.stat().st_size > 1000
    listed = [Path(p).name for p in run["e5"].figures + run["e6"].figures]
    assert f"{stem}.png" in listed


def test_measurement_keys_for_the_claims(run):
    m5, m6 = run["e5"].measurements, run["e6"].measurements
    for lab in e5.LIKELIHOOD_LABELS:
        for key in ("blur_ratio", "midgrey_fraction", "midgrey_ratio", "active_dims", "mse"):
            assert f"{key}[{lab}]" in m5
    for key in ("midgrey_fraction[data]", "sigma_eff[bernoulli]", "sigma[gaussian_learned]",
                "blur_spearman", "midgrey_spearman", "rate_spearman",
                "sigma_eff_at_data[bernoulli]"):
        assert key in m5
    for s in e5.LINEAR_SIGMAS:
        assert f"active_dims_linear[sigma={s:g}]" in m5
        assert f"predicted_active_dims_linear[sigma={s:g}]" in m5
    for o in e6.OUTPUTS:
        for key in ("blur_ratio", "midgrey_fraction", "mae", "mean_intensity", "param_extremeness"):
            assert f"{key}[{o}]" in m6
    assert "midgrey_fraction[data]" in m6 and "predicted_param_extremeness" in m6
    # the same Bernoulli VAEs (shared seeds, settings and data) give the same blur in both
    assert m6["blur_ratio[bernoulli]"] == pytest.approx(m5["blur_ratio[bernoulli]"])
    assert m6["midgrey_fraction[data]"] == m5["midgrey_fraction[data]"]
    assert m6["midgrey_fraction[bernoulli]"] == pytest.approx(m5["midgrey_fraction[bernoulli]"])
    # ratios are the quotients they claim to be
    assert m5["blur_ratio[bernoulli]"] > 0
    assert 0 <= m5["midgrey_fraction[data]"] <= 1


# ---------------------------------------------------------------- predictions from the data
def test_active_prediction_comes_from_the_spectrum(run):
    cfg, data = run["cfg"], run["data"]
    st = e5.settings(cfg)
    x = e5.training_subset(data.x_train, st.n_train)
    lam = e5.spectrum(x)
    assert np.all(np.diff(lam) <= 1e-12)                      # descending
    counts = {s: e5.predicted_active_dims(lam, s, e5.LINEAR_LATENT) for s in e5.LINEAR_SIGMAS}
    for s in e5.LINEAR_SIGMAS:
        r = _result(run["e5"], f"E5.linear.active[sigma={s:g}]")
        assert r.prediction.value == counts[s]
        assert r.prediction.tolerance == 1 + e5.marginal_count(lam, s, e5.LINEAR_LATENT)
    # changing sigma changes the predicted count, monotonically
    ordered = [counts[s] for s in sorted(e5.LINEAR_SIGMAS)]
    assert ordered == sorted(ordered, reverse=True)
    assert len(set(ordered)) > 1
    # and the count follows the data: halving the images quarters the eigenvalues
    assert e5.predicted_active_dims(e5.spectrum(0.5 * x), 1.0, 20) < counts[1.0]


def test_active_rule_on_a_known_spectrum():
    lam = np.array([5.0, 3.0, 1.5, 1.01, 0.5])
    assert e5.predicted_active_dims(lam, 1.0, 20) == 3        # 1.01 < e^0.02: KL below 0.01
    assert e5.predicted_active_dims(lam, 2.0, 20) == 1
    assert e5.predicted_active_dims(lam, 0.5, 20) == 5
    assert e5.predicted_active_dims(lam, 0.5, 2) == 2         # the latent size caps it
    assert e5.marginal_count(lam, 1.0, 20) == 1               # 1.01: KL 0.005, near 0.01
    np.testing.assert_allclose(e5.linear_optimum_kl(lam, 1.0, 3), 0.5 * np.log([5.0, 3.0, 1.5]))
    np.testing.assert_allclose(e5.linear_optimum_kl(lam, 3.0, 5)[2:], 0.0)


def test_closed_form_linear_optimum_through_the_network():
    rng = np.random.default_rng(0)
    x = rng.random((400, 30)) * np.linspace(0.2, 1.0, 30)
    eig = e5._eigh(x)
    for sigma in (0.05, 0.15, 0.3):
        assert e5._analytic_linear_check(x, eig, sigma) < 1e-8


def test_effective_sigmas():
    binary = np.array([[0.0, 1.0, 1.0, 0.0]], dtype=np.float32)
    assert e5.bernoulli_sigma_eff(binary) == 0.0
    grey = np.full((2, 4), 128 / 255, dtype=np.float32)
    y = 128 / 255
    assert e5.bernoulli_sigma_eff(grey) == pytest.approx(math.sqrt(y * (1 - y)))
    # Bhatia-Davis: the CB's variance at mean m is below the Bernoulli's m(1 - m)
    m = np.linspace(0.01, 0.99, 25)
    var = e6.cb_variance(m)
    assert np.all(var > 0) and np.all(var < m * (1 - m))
    assert e6.cb_variance(np.array([0.5]))[0] == pytest.approx(1 / 12)
    assert e6.cb_sigma_eff(grey) < e5.bernoulli_sigma_eff(grey)


def test_cb_inverse_mean_agrees_with_the_analysis():
    m = np.array([0.01, 0.2, 0.3, 0.5, 0.8, 0.97])
    eta = e6.cb_natural_parameter(m)
    np.testing.assert_allclose(continuous_bernoulli_mean_logit(eta), m, rtol=1e-9)
    table = e6._argmin_table()
    levels = np.rint(m * 255).astype(int)
    lam = sigmoid(e6.cb_natural_parameter(levels / 255))
    np.testing.assert_allclose(table[levels], lam, atol=1e-7)
    # the parameter sits farther from 1/2 than the mean it produces
    assert np.all(np.abs(table[1:255] - 0.5) >= np.abs(np.arange(1, 255) / 255 - 0.5) - 1e-12)


def test_e6_expansion_prediction_from_the_data(run):
    cfg, data = run["cfg"], run["data"]
    st = e5.settings(cfg)
    xe = e5.eval_subset(data.x_test, st.n_eval).astype(np.float64)
    mid = e5.midgrey_mask(xe)
    assert mid.sum() == np.count_nonzero((np.rint(xe * 255) > 51) & (np.rint(xe * 255) < 204))
    lam = e6._argmin_table()[np.rint(xe[mid] * 255).astype(int)]
    expected = np.mean(np.abs(lam - 0.5)) - np.mean(np.abs(xe[mid] - 0.5))
    r = _result(run["e6"], "E6.cb.param_expansion")
    assert r.prediction.value == pytest.approx(expected)
    assert r.prediction.value > 0
    assert r.prediction.tolerance == pytest.approx(0.5 * expected)


def test_e6_control_on_clipped_data(run):
    """The control repeats every E6 prediction on the data clipped into [CLIP_LO, CLIP_HI], where
    the CB has a finite minimizer at every pixel; its predictions come from the clipped data."""
    cfg, data = run["cfg"], run["data"]
    st = e5.settings(cfg)
    x = e5.training_subset(data.x_train, st.n_train)
    xe = e5.eval_subset(data.x_test, st.n_eval)
    lo, hi = np.float32(e6.CLIP_LO), np.float32(e6.CLIP_HI)
    direct = e6.build_predictions(np.clip(xe, lo, hi), np.clip(x, lo, hi), st.latent)
    main = {r.prediction.id for r in run["e6"].results
            if not r.prediction.id.startswith("E6.clipped.")}
    for key, p in direct["predictions"].items():
        r = _result(run["e6"], p.id.replace("E6.", "E6.clipped.", 1))
        assert r.prediction.value == pytest.approx(p.value)
        assert r.prediction.tolerance == pytest.approx(p.tolerance)
        assert r.prediction.kind == p.kind
        assert p.id in main                                    # every prediction has its control
    # the clipped data has no exact 0 or 1, where the CB's likelihood would be unbounded
    m6 = run["e6"].measurements
    clipped_mean = float(np.clip(xe, lo, hi).astype(np.float64).mean())
    assert m6["clipped.mean_intensity[data]"] == pytest.approx(clipped_mean)
    assert 0 < m6["background_fraction"] < 1
    for lik in ("bernoulli", "continuous_bernoulli"):
        assert math.isfinite(m6[f"logit_background_median[{lik}]"])
        assert math.isfinite(m6[f"clipped.logit_background_median[{lik}]"])
    assert "Control:" in run["e6"].markdown and "Findings (control):" in run["e6"].markdown


# -------------------------------------------------------------------- verdicts and seeds
def _wrong(p: Prediction, mean: float) -> Prediction:
    """The same prediction moved so far that the measured mean must contradict it."""
    gap = p.tolerance + 1.0 + abs(mean)
    value = {"equal": mean + gap, "at_least": mean + gap, "at_most": mean - gap}[p.kind]
    return Prediction(p.id + ".wrong", p.experiment, "deliberately wrong: " + p.statement,
                      p.quantity, value, p.tolerance, p.kind, p.source)


@pytest.mark.parametrize("which", ["e5", "e6"])
def test_wrong_predictions_are_refuted(run, which):
    for r in run[which].results:
        if not math.isfinite(r.mean):
            continue                                           # inconclusive either way
        wrong = Result(_wrong(r.prediction, r.mean), r.measurements, r.dataset)
        assert wrong.verdict == REFUTED, r.prediction.id


def test_seeds_change_the_measurements(run):
    for out, pid in ((run["e5"], "E5.learned.calibration"), (run["e6"], "E6.cb.mae_ratio"),
                     (run["e6"], "E6.cb.mean_intensity"), (run["e6"], "E6.cb.param_expansion")):
        a, b = _result(out, pid).measurements
        assert a != b, pid


# ---------------------------------------------------------------------------- measurements
def test_blur_measures():
    flat = np.full((3, 784), 0.5)
    assert e5.mean_gradient(flat) == 0.0
    step = np.zeros((1, 28, 28))
    step[:, :, 14:] = 1.0
    # one column of unit horizontal steps among 27 x 27 positions
    assert e5.mean_gradient(step.reshape(1, -1)) == pytest.approx(27 / 729)
    x = np.random.default_rng(1).random((5, 784))
    s = e5.blur_stats(x, x)
    assert s["blur_ratio"] == pytest.approx(1.0) and s["midgrey_ratio"] == pytest.approx(1.0)
    assert s["mse"] == 0.0
    smooth = 0.5 * x + 0.25                                    # contrast halved: twice as blurry
    assert e5.blur_stats(smooth, x)["blur_ratio"] == pytest.approx(2.0)
    assert e5.midgrey_fraction(np.array([0.0, 0.2, 0.5, 0.8, 1.0])) == pytest.approx(0.2)


def test_spearman():
    assert e5.spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert e5.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(e5.spearman([1, 2, 3], [5, 5, 5]))      # a constant has no ordering
    assert math.isnan(e5.spearman([2, 2, 2], [1, 2, 3]))
    # one swap of neighbours costs exactly the tolerance the ordering predictions allow
    rho = e5.spearman([1, 2, 3, 4, 5, 6], [1, 2, 4, 3, 5, 6])
    assert rho == pytest.approx(1 - e5._one_swap_tolerance(6))
