"""Unit tests of the experiments' measuring pieces on synthetic inputs with known answers: image
measures, E1's Newton distance, E2's gradient ratios (E4's and E8's in test_e4.py, test_e8.py),
E5's spectrum rule, orderings and snapshots, E6's CB tables and E7's pairing of datasets.  No
test pins a measured value of a real run.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from lossanalysis import analysis
from lossanalysis.experiments import EXPERIMENTS, models, module
from lossanalysis.experiments import e1_minimizers as e1
from lossanalysis.experiments import e2_saturation as e2
from lossanalysis.experiments import e5_vae_scale as e5
from lossanalysis.experiments import e6_continuous_bernoulli as e6
from lossanalysis.experiments import e7_binary_grey as e7
from lossanalysis.experiments.core import (DataRef, Observation, RunConfig, Task,
                                           one_swap_tolerance, spearman)
from lossanalysis.experiments.images import blur_stats, mean_gradient, midgrey_fraction
from lossanalysis.losses import continuous_bernoulli_mean_logit, logit, sigmoid


def test_every_experiment_follows_the_protocol_and_imports_no_other():
    import ast
    import inspect
    for label, name in EXPERIMENTS:
        mod = module(label)
        assert mod.LABEL == label and mod.NAME.startswith(label)
        for fn in ("settings", "prepare", "tasks", "measure", "figure", "text"):
            assert callable(getattr(mod, fn)), (label, fn)
        tree = ast.parse(inspect.getsource(mod))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.lstrip(".").startswith("e"), (label, node.module)
    with pytest.raises(ValueError, match="unknown experiment"):
        module("E99")


# ------------------------------------------------------------------------------------- images
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


def test_spearman_and_the_one_swap_tolerance():
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 2, 3], [5, 5, 5]))
    rho = spearman([1, 2, 3, 4, 5, 6], [1, 2, 4, 3, 5, 6])
    assert rho == pytest.approx(1 - one_swap_tolerance(6))


# ------------------------------------------------------------------------------------------ E1
def test_newton_distance_vanishes_at_the_minimizer():
    y = np.array([0.1, 0.3, 0.7, 0.9])
    for name in e1.AE_LOSSES:
        z_star = logit(np.asarray(analysis.argmin(name, y), dtype=float))
        assert np.all(e1.newton_distance(name, y, z_star) < 1e-6)
        d = e1.newton_distance(name, y, z_star + 0.05)
        np.testing.assert_allclose(d, np.abs(sigmoid(z_star + 0.05) - sigmoid(z_star)),
                                   rtol=0.2)
    d = e1.newton_distance("mse", np.array([0.9]), np.array([-12.0]))
    assert 0 < d[0] <= 1.0                 # capped where the curvature is negative


def test_location_histograms_and_grey_levels():
    x = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 128 / 255]])
    w, mean, lo, hi = e1.location_histograms(x)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_allclose(mean, [1 / 3, (2 + 128 / 255) / 3])
    assert lo[0] == hi[0] == 0.0
    assert e1.grey_levels(x).tolist() == [128 / 255]


# ------------------------------------------------------------------------------------------ E2
def test_gradient_ratios_from_the_catalogue():
    p = sigmoid(e2.Z0)
    assert e2.first_step_ratio() == pytest.approx(1 / (2 * p * (1 - p)), rel=1e-12)
    # with the same loss the flow times are equal
    assert e2.integral_ratio(slow="bce", fast="bce") == pytest.approx(1.0)
    # the local ratio 1/(2p(1 - p)) falls as the logit leaves saturation: the longer path
    # averages it lower
    assert e2.first_step_ratio() > e2.integral_ratio(z1=-3.0) > e2.integral_ratio() > 1


# ------------------------------------------------------------------------------------------ E5
def _spectrum_data(rng, n=4000, d=40):
    scales = np.geomspace(0.5, 0.02, d)
    return np.clip(0.3 + rng.standard_normal((n, d)) * scales, 0.0, 1.0)


def test_ordering_predictions_follow_the_spectrum():
    rng = np.random.default_rng(3)
    x = _spectrum_data(rng)
    P = e5.build_predictions(x, latent=8)
    preds = P["predictions"]
    counts = [P["predicted_mlp"][e5.label("gaussian", s)] for s in e5.SIGMAS]
    if len(set(counts)) > 1:
        assert preds["active_order"].value == pytest.approx(spearman(e5.SIGMAS, counts))
    else:
        assert "active_order" not in preds
    rates = [P["predicted_rates"][s] for s in e5.SIGMAS]
    assert rates == sorted(rates)
    assert "gaussian_learned" not in e5.ORDER_LABELS
    assert P["sigma_eff"] == pytest.approx(analysis.bernoulli_sigma_zero_rate(x))
    assert preds["bernoulli_rank"].value == sum(1 for s in e5.SIGMAS if s > P["sigma_eff"])
    # kinds: a linear count at the latent cap is a consistency check, below it falsifiable
    for s in e5.LINEAR_SIGMAS:
        p = preds[f"lin{s:g}"]
        capped = P["predicted_linear"][s] >= e5.LINEAR_LATENT
        assert p.kind == ("consistency" if capped else "falsifiable")


def test_tied_predicted_counts_make_no_ordering_prediction():
    x = _spectrum_data(np.random.default_rng(4), n=500, d=20)
    P = e5.build_predictions(x, latent=4, eigenvalues=np.full(20, 10.0))
    assert "active_order" not in P["predictions"]
    assert not any(k.startswith("mlp_gaussian") for k in P["predictions"])
    assert all(P["predictions"][f"lin{s:g}"].kind == "consistency" for s in e5.LINEAR_SIGMAS)


def test_closed_form_linear_optimum_through_the_network():
    x = np.random.default_rng(0).random((400, 30)) * np.linspace(0.2, 1.0, 30)
    eig = e5._eigh(x)
    for sigma in (0.05, 0.15, 0.3):
        assert e5.analytic_linear_check(x, eig, sigma) < 1e-8


def test_vae_task_snapshots_the_shorter_run():
    """One run of E epochs passes through the states of shorter runs of the same seed, and the
    task key holds the whole configuration (a changed setting is another network)."""
    x = np.random.default_rng(5).random((96, 784)).astype(np.float32)
    s = {"n_train": 96, "hidden": 8, "latent": 2, "batch_size": 32, "lr": 2e-3, "epochs": 1}
    import lossanalysis.experiments.models as m
    orig = m.vae_training_images
    m.vae_training_images = lambda ref, st, variant="raw": x
    try:
        long = m.train_vae(None, s, "gaussian", 0.5, 1.0, 0, 2, (1, 2))
        short = m.train_vae(None, s, "gaussian", 0.5, 1.0, 0, 1, (1,))
    finally:
        m.vae_training_images = orig
    for k, v in short["params"][1].items():
        np.testing.assert_array_equal(long["params"][1][k], v)
    assert any(not np.array_equal(long["params"][2][k], v)
               for k, v in short["params"][1].items())
    ref = DataRef("mnist")
    a = models.vae_task(ref, s, "bernoulli", 3)
    assert a.key == models.vae_task(ref, dict(s), "bernoulli", 3).key
    assert a.key != models.vae_task(ref, dict(s, lr=1e-3), "bernoulli", 3).key
    assert a.key != models.vae_task(ref, s, "bernoulli", 3, variant="clipped").key
    with pytest.raises(ValueError, match="snapshots"):
        models.vae_task(ref, s, "bernoulli", 3, epochs=2, snapshots=(3,))


# ------------------------------------------------------------------------------------------ E6
def test_cb_tables_agree_with_the_analysis():
    m = np.array([0.01, 0.2, 0.3, 0.5, 0.8, 0.97])
    eta = analysis.cb_natural_parameter(m)
    np.testing.assert_allclose(continuous_bernoulli_mean_logit(eta), m, rtol=1e-9)
    table = e6._argmin_table()
    levels = np.rint(m * 255).astype(int)
    np.testing.assert_allclose(table[levels], sigmoid(analysis.cb_natural_parameter(levels / 255)),
                               atol=1e-7)
    assert np.all(np.abs(table[1:255] - 0.5) >= np.abs(np.arange(1, 255) / 255 - 0.5) - 1e-12)


def test_e6_predictions_from_the_data():
    rng = np.random.default_rng(6)
    x = (rng.random((300, 784)) < 0.2).astype(np.float32) * rng.uniform(0.3, 1.0, (300, 784))
    x = np.round(x * 255).astype(np.float32) / 255
    P = e6.build_predictions(x[:100], x, latent=16)
    xe = x[:100].astype(np.float64)
    mid = (xe > 0.2) & (xe < 0.8)
    lam = e6._argmin_table()[np.rint(xe[mid] * 255).astype(int)]
    expected = np.mean(np.abs(lam - 0.5)) - np.mean(np.abs(xe[mid] - 0.5))
    p = P["predictions"]["expansion"]
    assert p.value == pytest.approx(expected) and p.tolerance == pytest.approx(0.5 * expected)
    assert 0 < P["variance_ratio"] < 1                  # Bhatia-Davis
    active = P["predictions"]["active"]
    at_cap = analysis.predicted_active_dims(analysis.whitened_spectrum(x), 1.0, 16) >= 16
    assert active.kind == ("consistency" if at_cap else "falsifiable")
    ctl = e6._control(e6.build_predictions(x[:100], x, latent=16))
    assert all(q.id.startswith("E6.clipped.") for q in ctl["predictions"].values())


# ------------------------------------------------------------------------------------------ E7
def _obs(v, seeds=(3, 4, 5)):
    return Observation(tuple(v), tuple(seeds) if len(v) > 1 else (), "x")


def _context(mnist, fashion, grey=(0.3, 0.6)):
    base = {"E1.mean_minus_median": [0.1], "E1.focal_pull_predicted": [0.14],
            "E2.adam_slowdown": [1.1, 1.0, 1.2]}
    return {"experiments": {d: {"E1", "E2"} for d in ("mnist", "fashion-mnist")},
            "observations": {
        "mnist": {k: _obs(v) for k, v in {**base, **mnist}.items()},
        "fashion-mnist": {k: _obs(v) for k, v in {**base, **fashion}.items()}},
        "summaries": {"mnist": {"frac_mid_of_nonzero": grey[0], "frac_between": 0.2},
                      "fashion-mnist": {"frac_mid_of_nonzero": grey[1], "frac_between": 0.5}},
        "sources": {"mnist": "this run", "fashion-mnist": "this run"}}


def test_e7_pairs_the_datasets_seed_by_seed():
    cfg = RunConfig()
    prep = e7.prepare(cfg, None)
    ctx = _context({"E2.sgd_slowdown": [100.0, 120.0, 110.0]},
                   {"E2.sgd_slowdown": [100.0, 240.0, 99.0]})
    m = e7.measure(cfg, prep, (), {}, ctx)
    pid = "E7.e2_sgd_slowdown"
    np.testing.assert_allclose(m.values[pid], np.log([1.0, 2.0, 0.9]))
    assert m.row_seeds[pid] == (3, 4, 5)
    # a property of the data alone: one value, no seeds
    assert m.values["E7.e1_mean_median_gap"] == [0.0] and m.row_seeds[
        "E7.e1_mean_median_gap"] == ()
    effects = {e["short"]: e for e in m.extra["effects"]}
    assert effects["E2 SGD slowdown"]["ratio"] == pytest.approx(439 / 330)
    assert effects["E2 SGD slowdown"]["elasticity"] == pytest.approx(
        math.log(439 / 330) / math.log(2))
    assert effects["E3 MSE calibration drift"]["ratio"] is None      # E3 did not run
    # an experiment that ran without publishing what E7 reads is a bug, not a blank
    ran = dict(ctx, experiments={"mnist": {"E2", "E3"}, "fashion-mnist": {"E2", "E3"}})
    with pytest.raises(KeyError, match="E3 ran on mnist"):
        e7.measure(cfg, prep, (), {}, ran)
    assert "not_registrable" not in m.extra
    # seeds in common only
    ctx2 = _context({"E2.sgd_slowdown": [100.0, 120.0, 110.0]},
                    {"E2.sgd_slowdown": [200.0, 240.0]})
    ctx2["observations"]["fashion-mnist"]["E2.sgd_slowdown"] = Observation((200.0, 240.0),
                                                                           (4, 5), "x")
    m2 = e7.measure(cfg, prep, (), {}, ctx2)
    assert m2.row_seeds[pid] == (4, 5)
    np.testing.assert_allclose(m2.values[pid], np.log([200 / 120, 240 / 110]))
    # another run's numbers cannot count as registered; one dataset cannot be compared
    ctx["sources"]["fashion-mnist"] = "fashion-mnist.json, git abc"
    assert "another run" in e7.measure(cfg, prep, (), {}, ctx).extra["not_registrable"]
    one = {k: {d: v for d, v in ctx[k].items() if d == "mnist"} for k in ctx}
    m3 = e7.measure(cfg, prep, (), {}, one)
    assert all(v == [] for v in m3.values.values())
    assert "Only MNIST has results" in e7.text(cfg, prep, m3, [])
    assert e7.relation(-0.5) == "changes sign" and e7.relation(1.05) == "flat"


def test_tasks_are_keyed_by_their_whole_configuration():
    s = models.ae_settings(RunConfig())
    a = models.ae_pair_task(DataRef("mnist"), s, 3)
    assert isinstance(a, Task) and a.key == models.ae_pair_task(DataRef("mnist"), dict(s), 3).key
    assert a.key != models.ae_pair_task(DataRef("mnist"), dict(s, epochs=2), 3).key
    assert a.key != models.ae_pair_task(DataRef("fashion-mnist"), s, 3).key
