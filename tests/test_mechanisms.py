"""The mechanisms' analysis functions (lossanalysis.analysis.mechanisms) against known answers,
Monte Carlo and finite differences, and E9's masked noise term against its two pieces."""
from __future__ import annotations

import numpy as np
import pytest
from toyimages import blobs

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


@pytest.fixture(scope="module")
def mechanism_runs():
    from lossanalysis.experiments import runner
    from lossanalysis.experiments.base import StudyData
    data = StudyData("blobs", blobs(2000), blobs(400, seed=1), (8, 8))
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
    data = StudyData("floor", blobs(1500, floor=0.1), blobs(400, seed=1, floor=0.1), (8, 8))
    exps = [m for m in runner.discover(stage="mechanisms") if m.LABEL in ("E10", "E14")]
    reg = runner.predict(data, exps)
    results = runner.run(data, exps, reg, quick=True).results
    assert all(r.verdict == NOT_APPLICABLE for r in results["E10"].rows)
    assert [r.verdict == NOT_APPLICABLE for r in results["E14"].rows] == [True, True, False,
                                                                          False]
    assert results["E10"].observations and exps[0].figure(results["E10"]) is None


def test_e16_reach_rival_is_exact_for_an_image_scaled_toward_grey():
    # the reach rival's premise: an image a + c x has c times the data's contrast and c times
    # its mean gradient, so g_B (1 - c_CB / c_B) is the sharpness deficit exactly
    from lossanalysis.experiments.images import contrast, mean_gradient
    x = blobs(50).astype(np.float64)
    sharp, flat = 0.1 + 0.8 * x, 0.3 + 0.4 * x
    deficit = mean_gradient(sharp) - mean_gradient(flat)
    reach = mean_gradient(sharp) * (1 - contrast(flat, x) / contrast(sharp, x))
    assert deficit == pytest.approx(reach, rel=1e-12) and deficit > 0
    with pytest.raises(ValueError, match="one shape"):
        contrast(x[:2], x[:3])


@pytest.fixture(scope="module")
def e6_e16_quick():
    from lossanalysis.experiments import e6_continuous_bernoulli as e6
    from lossanalysis.experiments import e16_cb_blur_path as e16
    from lossanalysis.experiments import runner
    from lossanalysis.experiments.base import StudyData
    data = StudyData("blobs", blobs(1500), blobs(400, seed=1), (8, 8))
    reg = runner.predict(data, [e6, e16])
    return runner.run(data, [e6, e16], reg, quick=True).results


def test_e16_trains_e6s_networks_on_and_its_rows_follow_from_its_stages(e6_e16_quick):
    # E16's last quick stage is E6's quick length on the same streams: the same networks, so
    # E6's clipped ratio of blur ratios comes back (E6 divides the two blur ratios, E16 the
    # two gradients: the same number up to the rounding of two divisions)
    e6, e16 = e6_e16_quick["E6"], e6_e16_quick["E16"]
    last = e16.per_seed[0]["_stages"][-1]
    assert last == 3
    for m6, m16 in zip(e6.per_seed, e16.per_seed):
        assert m16["E16.sharper[t=24]"] == pytest.approx(m6["E6.clipped.cb.sharper"], rel=1e-14)
        assert m16["E16.push[raw][t=24]"] == m6["E6.cb.param_expansion"]
        assert m16["E16.push[clipped][t=24]"] == m6["E6.clipped.cb.param_expansion"]
        assert m16["E16.analysis_push[raw]"] == pytest.approx(
            m6["E6.predicted_param_extremeness"] - m6["E6.param_extremeness[data]"], abs=1e-15)
        d = [m16[f"E16.deficit[t={t}]"] for t in (4, 8, 24)]
        assert m16["E16.plateau"] == d[2] - d[1]
        assert m16["E16.reach"] == d[2] - m16["E16.deficit_reach[t=24]"]


def _e16_report(name, frac_zero, grey, push, analysis_push, tmp_path):
    """A mechanism study's registration and report holding E16's push observations only:
    ``push`` {(variant, epoch): value}, each seed 1% apart; ``grey`` the grey share."""
    from lossanalysis import protocol as P
    from lossanalysis.experiments import study
    from lossanalysis.experiments.base import StudyData
    x = blobs(300)
    data = StudyData(name, x[:200], x[200:], (8, 8))
    folder = tmp_path / name
    study.register(data, folder, [], status="development")
    doc = study._data_doc(data)
    doc["summary"].update(frac_zero=frac_zero, frac_one=0.0, frac_mid_of_nonzero=grey)
    n = len(P.SEEDS)
    obs = {f"E16.push[{v}][t={t}]": {"values": [val * (1 + 0.01 * i) for i in range(n)],
                                     "seeds": list(P.SEEDS), "unit": "intensity"}
           for (v, t), val in push.items()}
    obs.update({f"E16.analysis_push[{v}]": {"values": [a], "seeds": [], "unit": "intensity"}
                for v, a in analysis_push.items()})
    import json
    (folder / "report.json").write_text(json.dumps({
        "study": name, "quick": False, "registration": {"sha256": "x"}, "data": doc,
        "observations": obs}))
    reg = json.loads((folder / "predictions.json").read_text())
    reg["data"] = doc                      # the registration the pair reads: the same summary
    (folder / "predictions.json").write_text(json.dumps(reg))
    return folder


def test_e17_compares_the_pushes_with_the_analysis_ratio(tmp_path):
    # the greyer data's raw push is 0.8 of the binary data's at the last stage (0.9 at E6's
    # length), the clipped pushes are equal, the analysis's pushes too: the raw rows are
    # refuted and the clipped one confirmed (the exact-0 rival's pattern)
    import json
    import math

    from lossanalysis import protocol as P
    from lossanalysis.experiments import e17_cb_push_pair as e17
    from lossanalysis.experiments import runner, study
    assert runner.discover(scope="pair", stage="mechanisms") == [e17]
    from lossanalysis.experiments import e16_cb_blur_path as e16
    assert e17.STAGES == e16.STAGES                 # the observations E17 reads
    assert e17 not in runner.discover(scope="pair")
    ana = {"raw": 0.17, "clipped": 0.15}
    b = _e16_report("bin", 0.8, 0.2, {**{("raw", t): 0.3 for t in (4, 8, 24)},
                                 **{("clipped", t): 0.2 for t in (4, 8, 24)}}, ana, tmp_path)
    g = _e16_report("grey", 0.5, 0.5, {("raw", 4): 0.27, ("raw", 8): 0.27,
                                  ("raw", 24): 0.24, **{("clipped", t): 0.2 for t in (4, 8, 24)}},
                    ana, tmp_path)
    pair = tmp_path / "pair"
    study.register_pair(g, b, pair, [e17], status="development")
    study.run_pair(g, b, pair, [e17])
    by = {r["id"]: r for r in json.loads((pair / "report.json").read_text())["rows"]}
    assert by["E17.grey[raw]"]["mean"] == pytest.approx(math.log(0.8))
    assert by["E17.grey[raw]"]["verdict"] == P.REFUTED
    assert by["E17.grey[clipped]"]["verdict"] == P.CONFIRMED
    assert by["E17.plateau[raw]"]["mean"] == pytest.approx(math.log(0.8 / 0.9))
    assert by["E17.plateau[raw]"]["verdict"] == P.REFUTED
    text = (pair / "report.md").read_text()
    assert "the exact 0s carry the departure" in text
    # its figure is a paper figure (labelled axes, legend outside the data)
    import figcheck
    from lossanalysis.experiments.base import Result
    from lossanalysis.protocol import SEEDS, Prediction, make_row
    reports = [json.loads((f / "report.json").read_text()) for f in (g, b)]
    per_seed = [e17.measure(*reports, i) for i in range(len(SEEDS))]
    preds = [Prediction.from_dict(d) for d in json.loads((pair / "predictions.json").read_text())
             ["experiments"]["E17"]["predictions"]]
    rows = [make_row(p, [m[p.id] for m in per_seed], SEEDS) for p in preds]
    res = Result("E17", study.PairData("bin", "grey"), SEEDS, rows, per_seed, {})
    assert figcheck.figure_problems(e17.figure(res), "E17") == []


def test_e17_raw_rows_need_exact_zeros_in_both_studies():
    from lossanalysis.experiments import e17_cb_push_pair as e17
    docs = [{"name": n, "summary": {"frac_zero": z, "frac_one": 0.0, "frac_mid_of_nonzero": m}}
            for n, z, m in (("a", 0.5, 0.2), ("b", 0.001, 0.6))]
    got = {p.id: p.applicable for p in e17.predictions(*docs)}
    assert "b: 0.1% of the training pixels" in got["E17.grey[raw]"] and got["E17.plateau[raw]"]
    assert got["E17.grey[clipped]"] == ""
