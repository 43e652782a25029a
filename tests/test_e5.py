"""E5 (lossanalysis.experiments.e5_vae_scale): the registration from the
data alone, every row measured on tiny synthetic images, the premises, the networks it declares,
the figure, and the measurement helpers on inputs with a known answer."""
import math

import numpy as np
import pytest

import figcheck

from lossanalysis import analysis, plotting
from lossanalysis.experiments import runner
from lossanalysis.experiments import e5_vae_scale as e5
from lossanalysis.experiments.base import StudyData, render_findings
from lossanalysis.nn import VAE
from lossanalysis.protocol import NOT_APPLICABLE, REFUTED, make_row

from test_e3 import blobs


@pytest.fixture(scope="module")
def data():
    # 6,300 images of 8 x 8: four fifths (5,040) per seed, just above the premise's 5,000
    return StudyData("blobs", blobs(6300), blobs(60, seed=1), (8, 8))


def quick_run(d):
    """A quick run of E5 on one seed (the runner's second seed adds time, not coverage)."""
    registered = runner.predict(d, [e5])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "quick_seeds", lambda: runner.SEEDS[:1])
        return registered, runner.run(d, [e5], registered, quick=True).results["E5"]


@pytest.fixture(scope="module")
def result(data):
    return quick_run(data)


def test_registration_reads_the_data_alone(data, monkeypatch):
    import lossanalysis.experiments.networks as shared

    def no_training(*args, **kwargs):
        raise AssertionError("a prediction trained a network")
    monkeypatch.setattr(shared, "train", no_training)
    preds = {p.id: p for p in runner.predict(data, [e5])["E5"]}
    lam = analysis.spectrum(data.train)
    for s in e5.LINEAR_SIGMAS:
        p = preds[f"E5.linear.active[sigma={s:g}]"]
        assert p.value == analysis.predicted_active_dims(lam, s, 20) and p.tolerance == 1.0
        assert p.kind == ("consistency" if p.value == 20 else "falsifiable")
    assert preds["E5.mlp.active[gaussian_sigma1]"].comparison == "at_most"
    for pid, n in (("E5.mlp.active_order", 4), ("E5.mlp.rate_order", 4), ("E5.blur.order", 5),
                   ("E5.midgrey.order", 5)):
        assert preds[pid].rule == "rank" and preds[pid].items == n
        assert preds[pid].tolerance == pytest.approx(12 / (n * (n * n - 1)))
    s_eff = analysis.bernoulli_sigma_zero_rate(data.train)
    assert preds["E5.bernoulli.blur_rank"].value == sum(s > s_eff for s in e5.SIGMAS)
    assert preds["E5.learned.calibration"].tolerance == pytest.approx(0.1)   # ratio rule at 1
    assert not any(p.applicable for p in preds.values())


def test_every_row_and_observation_is_measured(result):
    registered, res = result
    for out in res.per_seed:
        for key in [p.id for p in registered["E5"]] + list(e5.OBSERVATIONS):
            assert isinstance(out[key], float), key
    assert {"blur_ratio[vae_gaussian_sigma1]", "blur_ratio[vae_gaussian_sigma0.1]",
            "blur_ratio[vae_gaussian_learned]", "blur_ratio[vae_bernoulli]",
            "E5.sigma_eff[bernoulli]"} <= set(e5.OBSERVATIONS)
    assert render_findings(e5.FINDINGS, res)


def test_the_counts_are_read_after_the_longer_run(data):
    nets = e5.networks(data, quick=False)
    plan = e5.plan(data)
    for d in e5.COUNTED:
        epochs = nets[d].settings["epochs"]
        assert epochs == (e5.COUNT_EPOCHS if plan["counts"][d] < plan["latent"] else 8)
        assert 8 in nets[d].settings["snapshots"]
    # the decoders without a count share the VAE other experiments declare (one training)
    assert nets["gaussian_learned"].settings["epochs"] == 8
    assert nets["bernoulli"].n == nets["linear1"].n   # measure reads the VAEs' images again


@pytest.mark.parametrize("images, reason", [
    (blobs(150), "fewer than 5000"),
    (np.full((150, 64), 0.25, np.float32), "do not vary")])
def test_premises_give_not_applicable_rows_without_a_crash(images, reason):
    d = StudyData("small", images, images[:20], (8, 8))
    registered, res = quick_run(d)
    assert all(reason in p.applicable for p in registered["E5"])
    assert {r.verdict for r in res.rows} == {NOT_APPLICABLE}


def test_figure_has_no_legend_over_data(result):
    fig = e5.figure(result[1])
    assert figcheck.figure_problems(fig, "E5") == []
    assert fig.get_size_inches()[0] == pytest.approx(plotting.COLUMN_WIDTH[2])


def test_spearman_and_the_tie_rule():
    assert e5.spearman([1, 2, 3], [10, 30, 20]) == pytest.approx(0.5)
    assert e5.spearman(e5.SIGMAS, [12, 16, 16, 16]) == pytest.approx(-math.sqrt(0.6))
    assert math.isnan(e5.spearman([1, 2], [5, 5]))
    assert math.isnan(e5.spearman([1, math.nan], [1, 2], tied=0))
    # counts that all tie show no order: rho = 0 lies outside the predicted band, so refuted
    d = StudyData("blobs", blobs(6300), blobs(10), (8, 8))
    p = next(p for p in runner.predict(d, [e5])["E5"] if p.id == "E5.mlp.active_order")
    tied = [e5.spearman(e5.SIGMAS, [16] * 4, tied=0.0) for _ in range(5)]
    assert make_row(p, tied, range(5)).verdict == REFUTED


def test_collapsed_kl():
    assert e5.collapsed_kl([3.0, 0.02, 0.0, 1.0], 2) == pytest.approx(0.01)
    assert math.isnan(e5.collapsed_kl([3.0, 1.0], 2))


@pytest.mark.parametrize("sigma", [0.05, 0.2])
def test_the_linear_optimum_in_the_network_has_the_analytic_kl(sigma):
    """The closed-form linear-VAE optimum (Lucas et al. 2019) set into a float64 network: its
    KL code gives 1/2 ln(max(lambda / sigma^2, 1)) per direction, the counts E5 predicts."""
    x = blobs(500).astype(np.float64)
    m = x.mean(axis=0)
    lam, u = np.linalg.eigh((x - m).T @ (x - m) / len(x))
    k = e5.LIN
    lam, u = np.clip(lam[::-1][:k], 0, None), u[:, ::-1][:, :k]
    amp, c = np.sqrt(np.maximum(lam - sigma ** 2, 0.0)), np.maximum(lam, sigma ** 2)
    model = VAE((64, k), likelihood="gaussian", sigma=sigma, decoder="linear", dtype=np.float64)
    w = u * (amp / c)                                   # posterior mean M^-1 W^T (x - m)
    model.set_params({"enc.0.W": np.hstack([w, np.zeros_like(w)]), "dec.0.W": (u * amp).T,
                      "enc.0.b": np.concatenate([-m @ w, np.log(sigma ** 2 / c)]), "dec.0.b": m})
    kl = model.kl_per_dim(x)
    np.testing.assert_allclose(kl, analysis.linear_optimum_kl(lam, sigma, k), atol=1e-9)
    assert np.sum(kl > analysis.KL_THRESHOLD) == analysis.predicted_active_dims(lam, sigma, k)
