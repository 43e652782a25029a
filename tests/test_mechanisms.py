"""The mechanisms' analysis functions (lossanalysis.analysis.mechanisms) against known answers,
Monte Carlo and finite differences, and E9's masked noise term against its two pieces."""
from __future__ import annotations

import numpy as np
import pytest

from lossanalysis import analysis
from lossanalysis.losses import get_loss, sigmoid


@pytest.mark.parametrize("space,sigma,z", [("prob", 0.05, -4.0), ("prob", 0.02, 0.3),
                                           ("logit", 1.5, -1.0)])
def test_expected_noisy_loss_against_monte_carlo(space, sigma, z):
    # 100,000 draws: the Monte Carlo mean's standard error s/sqrt(n) bounds the comparison
    # (5 standard errors); the quadrature's own error is far below it
    rng = np.random.default_rng(0)
    e = rng.standard_normal(100_000)
    y, loss = 0.2, get_loss("bce")
    p = sigmoid(z + sigma * e) if space == "logit" else np.clip(sigmoid(z) + sigma * e, 1e-4,
                                                                 1 - 1e-4)
    v = loss.value(np.full(e.size, y), p)
    got, _ = analysis.expected_noisy_loss("bce", np.array([y]), np.array([z]), sigma, space)
    assert abs(got[0] - v.mean()) < 5 * v.std() / np.sqrt(e.size)


@pytest.mark.parametrize("space,sigma", [("prob", 0.02), ("logit", 1.0)])
def test_expected_noisy_loss_gradient_is_its_derivative(space, sigma):
    y, z = np.array([0.1, 0.4, 0.9]), np.array([-1.2, 0.1, 1.7])
    h = 1e-6                                   # central differences in float64: error ~h^2
    _, g = analysis.expected_noisy_loss("mse", y, z, sigma, space)
    up, _ = analysis.expected_noisy_loss("mse", y, z + h, sigma, space)
    dn, _ = analysis.expected_noisy_loss("mse", y, z - h, sigma, space)
    np.testing.assert_allclose(g, (up - dn) / (2 * h), rtol=1e-6, atol=1e-9)


def test_affine_map_without_noise_anywhere_is_the_plain_fit():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, 400)
    y = (rng.random(z.size) < sigmoid(0.2 + 0.8 * z)).astype(float)
    plain = analysis.affine_logit_map("bce", z, y)
    masked = analysis.affine_logit_map("bce", z, y, 0.05, "prob", noisy=np.zeros(z.size, bool))
    np.testing.assert_allclose(masked, plain, rtol=0, atol=1e-7)   # the same objective


def test_affine_map_shrinks_under_probability_noise_at_faint_pixels():
    # the mechanism: BCE's noisy loss pulls faint predictions up much more than mid-grey ones,
    # and one affine map answers with k < 1
    z = np.linspace(-7, 3, 101)
    y = sigmoid(z)
    a, k = analysis.affine_logit_map("bce", z, y, 0.05, "prob", width=1e-3)
    assert k < 0.95


def test_affine_map_rejects_a_loss_not_affine_in_the_target():
    with pytest.raises(ValueError, match="affine in the target"):
        analysis.affine_logit_map("mae", [0.0, 1.0], [0.2, 0.7])


def test_e9_masked_noise_is_the_plain_loss_outside_the_band_and_the_noisy_one_inside():
    from lossanalysis.experiments.e9_noise_mechanism import BAND, MaskedNoise
    from lossanalysis.nn.noise import NoisyOutput

    class Twin:                                      # predicts its input: the mask reads x
        def logits(self, x):
            return np.log(x) - np.log1p(-x)
    x = np.array([[0.05, 0.3, 0.7, 0.95]])
    out = np.array([[-1.0, 0.2, 0.5, 2.0]])
    eps = np.array([[1.0, -0.5, 0.8, 2.0]])
    inside = (x >= BAND[0]) & (x <= BAND[1])
    m = MaskedNoise("bce", "prob", 0.05, twin=Twin())
    n = NoisyOutput("bce", "prob", 0.05)
    m.eps = n.eps = eps
    _, g = m.value_and_grad(x, out, grad_scale=1.0)
    _, gn = n.value_and_grad(x, out, grad_scale=1.0)
    plain = get_loss("bce").grad_logit(x, out)
    np.testing.assert_allclose(g, np.where(inside, gn, plain), rtol=1e-12)


def test_e10_substitutes_only_the_exact_boundary_values():
    from lossanalysis.experiments.e10_cb_mechanism import substitute
    x = np.array([0.0, 1 / 255, 0.5, 1.0], dtype=np.float32)
    got = substitute(x, 0.01)
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(got, np.array([0.01, 1 / 255, 0.5, 0.99], dtype=np.float32))
    assert substitute(x, 0.0) is x


def test_cb_expansion_of_a_more_extreme_mean_image_is_larger():
    x = np.full(10, 0.3)
    assert analysis.cb_expansion(x - 0.1, x) > analysis.cb_expansion(x, x)
    assert np.isnan(analysis.cb_expansion(np.full(3, 0.1), np.full(3, 0.1)))   # none mid-grey


def test_power_law_extrapolation_is_exact_on_a_power_law_and_refuses_bad_stages():
    v = lambda t: 0.3 * t ** -0.7                                           # noqa: E731
    assert analysis.power_law_extrapolation((4, 9), (v(4), v(9)), 50) == pytest.approx(
        v(50), rel=1e-12)
    with pytest.raises(ValueError, match="increasing"):
        analysis.power_law_extrapolation((9, 4), (0.1, 0.2), 50)


def test_mechanism_experiments_say_when_their_premises_fail():
    # decided on the data alone (no training): binary images have no mid-grey bins for E9;
    # images without exact 0s and 1s give E10 nothing to substitute; constant images give E11
    # no location to calibrate
    from lossanalysis.experiments import e9_noise_mechanism as e9
    from lossanalysis.experiments import e10_cb_mechanism as e10
    from lossanalysis.experiments import e11_training_path as e11
    from lossanalysis.experiments.base import StudyData
    rng = np.random.default_rng(0)
    binary = (rng.random((1800, 64)) < 0.3).astype(np.float32)
    grey = rng.uniform(0.1, 0.9, (1800, 64)).astype(np.float32)
    flat = np.zeros((1800, 64), np.float32)
    for mod, x, why in ((e9, binary, "fewer than"), (e10, grey, "nothing to substitute"),
                        (e11, flat, "pixel locations")):
        data = StudyData("toy", x[:1500], x[1500:], (8, 8))
        preds = mod.predictions(data)
        assert preds and all(why in p.applicable for p in preds
                             if mod is not e11 or ".e3[" in p.id), mod.LABEL
    assert not e10.networks(StudyData("toy", grey[:1500], grey[1500:], (8, 8)), False)


def _blobs(n, side=8, seed=0, floor=0.0):
    """Soft blobs on exact-0 backgrounds (``floor`` > 0: on a grey floor, no exact 0s),
    quantized to 8 bits: mid-grey pixels for the lean bins, exact 0s for E10's substitution."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side]
    c = rng.uniform(2, side - 2, (n, 2, 1, 1))
    r = rng.uniform(1.5, 3, (n, 1, 1))
    im = rng.uniform(0.4, 1, (n, 1, 1)) * np.exp(-((xx - c[:, 0]) ** 2 + (yy - c[:, 1]) ** 2)
                                                / (2 * r * r))
    im = floor + (1 - 2 * floor) * np.where(im < 0.05, 0, im)
    return (np.round(im * 255) / 255).reshape(n, -1).astype(np.float32)


@pytest.fixture(scope="module")
def mechanism_runs():
    from lossanalysis.experiments import runner
    from lossanalysis.experiments.base import StudyData
    data = StudyData("blobs", _blobs(2000), _blobs(400, seed=1), (8, 8))
    exps = runner.discover(stage="mechanisms")
    reg = runner.predict(data, exps)
    return exps, reg, runner.run(data, exps, reg, quick=True).results


def test_the_mechanism_stage_is_apart_from_the_study():
    from lossanalysis.experiments import discover
    main, mech = discover(), discover(stage="mechanisms")
    assert {m.LABEL for m in mech} >= {"E9", "E10", "E11", "E12", "E13", "E14"}
    assert not {m.LABEL for m in main} & {m.LABEL for m in mech}
    assert {m.LABEL for m in discover(stage=None)} == {m.LABEL for m in main + mech}


def test_every_mechanism_row_is_measured_on_tiny_data_and_drawn(mechanism_runs):
    # tiny data and two quick epochs: a statistic may be undefined (NaN: an empty bin, no
    # location to calibrate), but every experiment runs through the runner, measures some row,
    # and draws a paper figure when it has a measured row
    import math

    import figcheck
    from lossanalysis.protocol import NOT_APPLICABLE, NOT_JUDGED
    exps, reg, results = mechanism_runs
    finite = {}
    for mod in exps:
        res = results[mod.LABEL]
        assert [r.id for r in res.rows] == [p.id for p in reg[mod.LABEL]], mod.LABEL
        assert set(res.observations) == set(mod.OBSERVATIONS), mod.LABEL
        measured = [r for r in res.rows if r.verdict != NOT_APPLICABLE]
        assert all(r.verdict == NOT_JUDGED and len(r.measurements) == 2 for r in measured)
        finite[mod.LABEL] = sum(all(map(math.isfinite, r.measurements)) for r in measured)
        fig = mod.figure(res)
        if measured:
            assert figcheck.figure_problems(fig, mod.LABEL) == [], mod.LABEL
    # E12's VAE rows need more latent structure than 8x8 blobs give, E18's more ink pixels
    # (>= 0.9: E2's premise) than the blobs hold (not applicable here; tests/test_e18.py)
    assert {k for k, n in finite.items() if n == 0} == {"E12", "E18"}, finite


def test_the_stage_runs_where_premises_fail():
    # no exact 0s or 1s: E10 and E14's raw rows are not applicable; the stage still runs through
    # (mnist-soft's first run stopped at E10's measure, which looked for networks never trained)
    from lossanalysis.experiments import runner
    from lossanalysis.experiments.base import StudyData
    from lossanalysis.protocol import NOT_APPLICABLE
    data = StudyData("floor", _blobs(1500, floor=0.1), _blobs(400, seed=1, floor=0.1), (8, 8))
    exps = [m for m in runner.discover(stage="mechanisms") if m.LABEL in ("E10", "E14")]
    reg = runner.predict(data, exps)
    results = runner.run(data, exps, reg, quick=True).results
    assert all(r.verdict == NOT_APPLICABLE for r in results["E10"].rows)
    assert [r.verdict == NOT_APPLICABLE for r in results["E14"].rows] == [True, True, False,
                                                                          False]
    assert results["E10"].observations and exps[0].figure(results["E10"]) is None
