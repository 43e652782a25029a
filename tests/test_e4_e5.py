"""Unit tests of the E4 and E5 machinery that need no training data: the prediction-noise
estimate and the bin-pair leans of E4, the predicted shift under E4's own noise model, and E5's
zero-rate effective sigma, training schedules, ordering predictions and snapshots.

No test pins a measured value of a real run; synthetic inputs with known answers only.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from lossanalysis import analysis
from lossanalysis.experiments import e4_asymmetry as e4
from lossanalysis.experiments import e5_vae_scale as e5
from lossanalysis.experiments.core import INCONCLUSIVE, RunConfig, judge
from lossanalysis.losses import logit


# ------------------------------------------------------------------------------------------ E4
def _levels(n, rng):
    """n pixels at 8-bit grey levels inside the interior bins."""
    return rng.integers(14, 242, n) / 255.0


def test_prediction_noise_is_half_the_seed_disagreement():
    rng = np.random.default_rng(0)
    y = _levels(20000, rng)
    base = rng.normal(size=y.size)
    # identical networks: no prediction noise
    np.testing.assert_allclose(e4.prediction_noise(y, [base, base.copy()]), 0.0, atol=1e-12)
    # independent noise of sd s on a shared part: sqrt(mean (a - b)^2 / 2) estimates s
    s = 0.7
    outs = [base + s * rng.normal(size=y.size) for _ in range(3)]
    est = e4.prediction_noise(y, outs)
    assert est.shape == (len(e4.EDGES) - 1,)
    np.testing.assert_allclose(est, s, rtol=0.05)
    # one seed: undefined
    assert np.all(np.isnan(e4.prediction_noise(y, [base])))


def test_pair_lean_cancels_a_uniform_offset():
    nb = len(e4.EDGES) - 1
    uniform = np.full(nb, 0.01)
    np.testing.assert_allclose(e4.pair_lean(uniform, "signed"), 0.0)
    centres = 0.5 * (e4.EDGES[:-1] + e4.EDGES[1:])
    toward = 0.02 * np.sign(0.5 - centres)          # toward 1/2 in every bin
    np.testing.assert_allclose(e4.pair_lean(toward + uniform, "signed"), 0.02)
    # in the toward-1/2 fraction a uniform brightening is antisymmetric, a lean symmetric
    np.testing.assert_allclose(e4.pair_lean(np.sign(0.5 - centres) * 0.01, "toward"), 0.0)
    np.testing.assert_allclose(e4.pair_lean(np.full(nb, 0.03), "toward"), 0.03)
    with pytest.raises(ValueError):
        e4.pair_lean(uniform, "other")


def test_slope_and_sign_agreement():
    assert e4.slope([2.0, 4.0], [1.0, 2.0]) == pytest.approx(2.0)
    assert math.isnan(e4.slope([1.0, 2.0], [0.0, 0.0]))
    assert math.isnan(e4.slope([1.0, 2.0], [np.nan, np.nan]))
    assert e4._sign_agreement([1, -1, 1, 1], [1, 1, 1, 1]) == 0.75
    assert math.isnan(e4._sign_agreement([1, 1], [np.nan, 1]))


def test_predicted_shift_reproduces_the_noise_model():
    """On outputs that follow E4's own noise model exactly -- the MSE network at
    logit(m) + c_mse(m) + sigma e with targets y = m -- shifting them by the offset difference
    gives noise_bias(bce) - noise_bias(mse) at the levels: BCE toward 1/2."""
    rng = np.random.default_rng(1)
    y = np.repeat(np.array([26, 51, 77, 179, 204, 230]) / 255.0, 20000)
    sigma = 0.8
    nb = len(e4.EDGES) - 1
    lv, inv = np.unique(y, return_inverse=True)
    c_mse = np.asarray(analysis.noise_offset("mse", lv, sigma, "logit"))[inv]
    z = logit(y) + c_mse + sigma * rng.standard_normal(y.size)
    sig = np.full(nb, sigma)
    tables = e4.offset_tables(y, y, sig, np.full(nb, 0.01))
    pr = e4.predicted_differences(y, z, tables)
    expected = {}
    for lv in np.unique(y):
        expected[lv] = float(analysis.noise_bias("bce", lv, sigma, "logit")
                             - analysis.noise_bias("mse", lv, sigma, "logit"))
    idx = np.clip(np.searchsorted(e4.EDGES, np.unique(y), side="right") - 1, 0, nb - 1)
    for lv, b in zip(np.unique(y), idx):
        assert pr["signed_logit"][b] == pytest.approx(expected[lv], abs=2e-3)
        assert np.sign(pr["signed_logit"][b]) == np.sign(0.5 - lv)     # toward 1/2
    lean = e4.pair_lean(pr["signed_logit"], "signed")
    assert np.all(lean[np.isfinite(lean)] > 0)
    # without a second seed the noise, and with it every prediction, is undefined
    nan_tables = e4.offset_tables(y, y, np.full(nb, np.nan), np.full(nb, np.nan))
    pr_nan = e4.predicted_differences(y, z, nan_tables)
    assert np.all(np.isnan(pr_nan["signed_logit"]))
    assert judge(e4.build_predictions(RunConfig())["slope_logit"],
                 [e4.slope([1.0], pr_nan["signed_logit"][:1])]) == INCONCLUSIVE


def test_e4_predictions_are_fixed_without_data():
    P = e4.build_predictions(RunConfig())
    assert {p.id for p in P.values()} == {"E4.signed.sign", "E4.signed.size.logit",
                                          "E4.signed.size.prob", "E4.toward.size.logit"}
    assert P["sign"].value == 1.0 and P["sign"].tolerance == 1 / len(e4.PAIRS)
    over = e4.build_predictions(RunConfig(extra={"override": {"E4.signed.size.logit": 3.0}}))
    assert over["slope_logit"].value == 3.0


# ------------------------------------------------------------------------------------------ E5
def test_zero_rate_sigma_is_the_ratio_of_the_spectra_totals():
    rng = np.random.default_rng(2)
    m = rng.uniform(0.05, 0.6, 60)
    x = (rng.random((3000, 60)) < m).astype(np.float64) * rng.uniform(0.5, 1.0, (3000, 60))
    x[:, :5] = 0.0                                     # dead pixels drop out
    s = e5.bernoulli_sigma_zero_rate(x)
    lam, white = e5.spectrum(x), e5.whitened_spectrum(x)
    assert s == pytest.approx(math.sqrt(lam.sum() / white.sum()), rel=1e-9)
    # binary independent pixels: S_jj = m_j (1 - m_j), so sigma^2 is the mean Bernoulli variance
    xb = (rng.random((200000, 4)) < np.array([0.1, 0.3, 0.5, 0.8])).astype(np.float64)
    mb = xb.mean(axis=0)
    assert e5.bernoulli_sigma_zero_rate(xb) == pytest.approx(math.sqrt(np.mean(mb * (1 - mb))))
    # mostly-zero data: the data-evaluated variant sits far lower (pixels at 0 count as 0)
    assert e5.bernoulli_sigma_eff(x.astype(np.float32)) < s


def test_linear_schedule_anneals():
    full = e5.settings(RunConfig())
    assert full.lin_phases() == [(30, 3e-3), (5, pytest.approx(3e-4)), (5, pytest.approx(3e-5))]
    assert full.lin_total_epochs() == 40
    assert full.count_epochs > full.epochs
    quick = e5.settings(RunConfig(quick=True))
    assert quick.count_epochs >= quick.epochs
    short = e5.Settings(n_train=1, n_eval=1, epochs=5, lin_epochs=1, count_epochs=2)
    assert short.count_epochs == 5                     # never shorter than the common length


def _spectrum_data(rng, n=4000, d=40):
    """Images in [0, 1] with a decaying covariance spectrum."""
    scales = np.geomspace(0.5, 0.02, d)
    x = 0.3 + rng.standard_normal((n, d)) * scales
    return np.clip(x, 0.0, 1.0)


def test_ordering_predictions_follow_the_spectrum():
    rng = np.random.default_rng(3)
    x = _spectrum_data(rng)
    P = e5.build_predictions(x, latent=8)
    preds = P["predictions"]
    counts = [P["predicted_mlp"][e5.label("gaussian", s)] for s in e5.SIGMAS]
    if len(set(counts)) > 1:
        assert preds["active_order"].value == pytest.approx(e5.spearman(e5.SIGMAS, counts))
        assert preds["active_order"].value >= -1.0
    else:
        assert "active_order" not in preds
    r = preds["rate_order"]
    assert r.value == -1.0 and r.kind == "at_most"
    rates = [P["predicted_rates"][s] for s in e5.SIGMAS]
    assert rates == sorted(rates)                      # sigma falls along SIGMAS: rate rises
    # the blur and grey orderings cover the decoders of known sigma only (not the learned one)
    assert "gaussian_learned" not in e5.ORDER_LABELS
    n_ord = len(e5.ORDER_LABELS)
    assert preds["blur_order"].tolerance == pytest.approx(e5._one_swap_tolerance(n_ord))
    assert P["sigma_eff"] == pytest.approx(e5.bernoulli_sigma_zero_rate(x))
    n_blurrier = sum(1 for s in e5.SIGMAS if s > P["sigma_eff"])
    assert preds["bernoulli_rank"].value == n_blurrier


def test_tied_predicted_counts_make_no_ordering_prediction():
    rng = np.random.default_rng(4)
    x = _spectrum_data(rng, n=500, d=20)
    # every eigenvalue above every sigma^2: all counts at the latent cap, nothing to order
    P = e5.build_predictions(x, latent=4, eigenvalues=np.full(20, 10.0))
    assert "active_order" not in P["predictions"]
    assert not any(k.startswith("mlp_gaussian") for k in P["predictions"])


def test_snapshot_sees_the_shorter_run():
    rng = np.random.default_rng(5)
    x = rng.random((96, 784)).astype(np.float32)
    st = e5.Settings(n_train=96, n_eval=8, epochs=1, lin_epochs=1, batch_size=32, hidden=8,
                     latent=2)
    seen = {}
    long = e5.train_vae(x, "gaussian", 0, st, sigma=0.5, epochs=2,
                        at_epoch={1: lambda m: seen.update(p=m.get_params())})
    short = e5.train_vae(x, "gaussian", 0, st, sigma=0.5)
    for k, v in short.get_params().items():
        np.testing.assert_array_equal(seen["p"][k], v)
    assert any(not np.array_equal(long.get_params()[k], v) for k, v in short.get_params().items())
    with pytest.raises(ValueError):
        e5.train_vae(x, "bernoulli", 0, st, cache=True, at_epoch={1: lambda m: None})


# ------------------------------------------------------------------ E4 on real data, quick mode
@pytest.fixture(scope="module")
def e4_run(tmp_path_factory, real_data):
    from lossanalysis.experiments.core import Progress, load_data
    cfg = RunConfig(dataset="mnist", n_seeds=2, quick=True, data_dir=real_data,
                    figures_dir=str(tmp_path_factory.mktemp("figures")), quiet=True)
    data = load_data(cfg)
    return {"cfg": cfg, "data": data, "out": e4.run(cfg, data, Progress(quiet=True))}


def test_e4_quick_run_is_well_formed(e4_run):
    out = e4_run["out"]
    assert {r.prediction.id for r in out.results} == {
        "E4.signed.sign", "E4.signed.size.logit", "E4.signed.size.prob", "E4.toward.size.logit"}
    for r in out.results:
        assert len(r.measurements) == 2
        assert all(math.isfinite(v) for v in r.measurements)
        assert r.verdict == judge(r.prediction, r.measurements)
        assert r.prediction.id in out.markdown and r.verdict in out.markdown
    m = out.measurements
    for key in ("blur_ratio[ae_bce]", "blur_ratio[ae_mse]", "mean_abs_signed_diff",
                "sigma_pred_logit_mean", "sigma_logit_mse_mean"):
        assert math.isfinite(m[key])
    assert len(m["blur_diff_per_seed"]) == 2
    assert all(Path(p).is_file() for p in out.figures)


def test_e4_prediction_noise_comes_from_the_mse_networks(e4_run):
    """The noise the predictions use is the seed disagreement of the MSE networks, recomputed
    here from the cached pairs; it is smaller than the total error spread around the target."""
    from lossanalysis.experiments import e3_calibration as e3
    cfg, data = e4_run["cfg"], e4_run["data"]
    s = e3.settings(cfg)
    xe = np.ascontiguousarray(data.x_test[:s["n_eval"]])
    y = xe.astype(np.float64)
    z = [e3.train_pair(cfg, data, seed, lambda *_: None)["mse"].logits(xe).astype(np.float64)
         for seed in e3.run_seeds(cfg)]
    sig = e4.prediction_noise(y, z)
    counts = e4.bin_stats(y, 1 / (1 + np.exp(-z[0])), z[0])["counts"]
    m = e4_run["out"].measurements
    assert m["sigma_pred_logit_mean"] == pytest.approx(np.average(sig, weights=counts))
    assert m["sigma_pred_logit_mean"] < m["sigma_logit_mse_mean"]
