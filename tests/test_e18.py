"""E18 (lossanalysis.experiments.e18_escape_mechanism): found in the mechanism stage only, its
registration, E2's networks reproduced (settings, trajectories, and E2's escape row seed by
seed), the shared dilation's first state against 1/(2p(1 - p)), the ink-only term against the
catalogue, every row measured on tiny data and drawn."""
import math

import numpy as np
import pytest

import figcheck
from toyimages import strokes

from lossanalysis.experiments import discover, runner
from lossanalysis.experiments import e2_saturation as e2
from lossanalysis.experiments import e18_escape_mechanism as e18
from lossanalysis.experiments.base import StudyData, render_findings
from lossanalysis.experiments.saturation import first_step_ratio
from lossanalysis.losses import get_loss
from lossanalysis.protocol import FALSIFIABLE, NOT_APPLICABLE, NOT_JUDGED


def tiny():
    return StudyData("tiny", strokes(150), strokes(30, seed=1), (8, 8))


@pytest.fixture(scope="module")
def runs(request):
    """E2 and E18 run together (quick) on 150 8x8 images, plain SGD's lr raised to 0.05 in both
    (as tests/test_e2.py does) so that MSE escapes in a few hundred steps."""
    mp = pytest.MonkeyPatch()
    request.addfinalizer(mp.undo)
    for mod in (e2, e18):
        mp.setattr(mod, "LR", 0.05)
    data = tiny()
    reg = runner.predict(data, [e2, e18])
    return data, reg, runner.run(data, [e2, e18], reg, quick=True).results


def test_found_in_the_mechanism_stage_only():
    assert e18 in discover(stage="mechanisms") and e18 not in discover()
    assert e18.STAGE == "mechanisms" and e18.EXPLAINS == ("E2.ae.escape.sgd",)
    assert "E2.ae.escape.sgd" in e2.IDS


def test_the_registration(monkeypatch):
    monkeypatch.setattr(e18, "AE", None)          # registering trains nothing
    preds = runner.predict(tiny(), [e18])["E18"]
    assert tuple(p.id for p in preds) == e18.IDS
    for p in preds:
        assert (p.kind, p.rule, p.value, p.tolerance, p.applicable) == (
            FALSIFIABLE, "ratio", 1.0, pytest.approx(0.1), ""), p.id


def test_the_networks_are_e2s():
    # E18 builds its own network declarations (E2's settings and premise are shared through
    # experiments.saturation): the same training subset, sizes, batches and evaluation as E2's
    dim = np.round(np.random.default_rng(2).uniform(0, 0.6, (150, 64)) * 255) / 255
    for data in (tiny(), StudyData("dim", dim.astype(np.float32), dim[:20].astype(np.float32),
                                   (8, 8))):
        for quick in (False, True):
            ours, theirs = e18.networks(data, quick), e2.networks(data, quick)
            assert bool(ours) == ("ae" not in e2._premises(data))
            for loss in ("bce", "mse") if ours else ():
                a, b = ours[loss], theirs[f"{loss}_sgd"]
                assert (a.n, a.variant) == (b.n, b.variant)
                assert a.cost == b.cost or loss == "bce"     # BCE also steps two twins a state
                assert {k: a.settings[k] for k in ("sizes", "batch", "n_eval", "every")} == {
                    k: b.settings[k] for k in ("sizes", "batch", "n_eval", "every")}


def test_the_plain_trajectories_are_e2s(runs):
    # the same subset, streams and loop: E2's networks bit for bit, so E18's per-pixel row is
    # E2's escape row seed by seed, and the shared dilation's first state is E2's first step
    data, reg, res = runs
    mine, e2s = res["E18"], res["E2"]
    assert mine.row("E18.per_pixel").measurements == e2s.row("E2.ae.escape.sgd").measurements
    for m, m2 in zip(mine.per_seed, e2s.per_seed):
        for loss in ("bce", "mse"):
            np.testing.assert_array_equal(m[f"_traj[{loss}]"], m2[f"_traj[{loss}_sgd]"])
        # at W = 0 only the last layer moves, linearly in output gradients that differ by the
        # constant 2p(1 - p): both are the same float64 arithmetic (E2's a step of its own twin)
        assert m["E18.first_dilation[shared]"] == pytest.approx(m2["E2.ae.first_step.sgd"],
                                                                rel=1e-12)
        assert m["E18.first_dilation[shared]"] == pytest.approx(first_step_ratio(), rel=1e-6)
        assert m["E18.predicted[per_pixel]"] == m2["E2.steps[mse_sgd_predicted]"]


def test_the_ink_only_runs_start_at_the_same_ratio_and_differ_after(monkeypatch):
    monkeypatch.setattr(e18, "LR", 0.05)
    x = strokes(120)
    s = {"loss": "bce", "sizes": (64, 32, 16), "batch": 16, "n_eval": 30, "every": 1}
    plain = e18.train_escape(x, {**s, "masked": False}, 0)
    masked = e18.train_escape(x, {**s, "masked": True}, 0)
    # the mask zeroes some output gradients; at W = 0 every remaining one still carries the
    # same factor 2p(1 - p) between the losses
    assert masked["shared"][0] == pytest.approx(first_step_ratio(), rel=1e-6)
    assert masked["means"][0] == plain["means"][0]               # one initialization
    assert masked["means"][1] != plain["means"][1]               # another gradient
    assert all(np.isfinite(masked[k]).all() for k in ("per_pixel", "shared"))


def test_the_ink_only_term_is_the_catalogue_on_ink_pixels():
    rng = np.random.default_rng(4)
    x = np.round(rng.uniform(0, 1, (3, 40)) * 255) / 255
    x[0, :3] = np.float32(0.9)                    # ink in float32, just under 0.9 in float64
    z = rng.normal(0, 3, x.shape)
    for loss in ("bce", "mse"):
        cat = get_loss(loss)
        keep = x.astype(np.float32) >= np.float32(0.9)
        assert keep[0, :3].all()
        v, g = e18.InkOnly(loss).value_and_grad(x, z, grad_scale=0.5)
        np.testing.assert_allclose(v, np.where(keep, cat.value_logit(x, z), 0).sum(1), rtol=1e-12)
        np.testing.assert_array_equal(g[~keep], 0)
        np.testing.assert_allclose(g[keep], 0.5 * cat.grad_logit(x, z)[keep], rtol=1e-12)
        # the gradient is the derivative of the value (central differences in float64: the
        # error is O(h^2) against a curvature of order 1)
        h, j = 1e-6, np.flatnonzero(keep[1])[0]
        up, dn = z.copy(), z.copy()
        up[1, j] += h
        dn[1, j] -= h
        t = e18.InkOnly(loss)
        fd = (t.value_and_grad(x, up)[0][1] - t.value_and_grad(x, dn)[0][1]) / (2 * h)
        assert 0.5 * fd == pytest.approx(g[1, j], rel=1e-6, abs=1e-9)


def test_every_row_is_measured_on_tiny_runs_and_drawn(runs):
    data, reg, res = runs
    res = res["E18"]
    assert [r.id for r in res.rows] == list(e18.IDS)
    for r in res.rows:
        assert r.verdict == NOT_JUDGED and len(r.measurements) == 2, r.id
        assert all(math.isfinite(v) and v > 0 for v in r.measurements), r.id
    for name, obs in res.observations.items():
        assert all(map(math.isfinite, obs.values)), name
    for m in res.per_seed:                    # the rows are the stated ratios of the counts
        assert m["E18.shared"] == pytest.approx(m["E18.steps[mse]"] / m["E18.predicted[shared]"])
        assert m["E18.masked.shared"] == pytest.approx(
            m["E18.ratio[shared,masked]"] / m["E18.shared"], rel=1e-12)
    assert figcheck.figure_problems(e18.figure(res), "E18") == []
    # not judged: only the two unconditional sentences
    assert len(render_findings(e18.FINDINGS, res)) == 2


def test_data_without_ink_give_not_applicable_rows():
    dim = np.round(np.random.default_rng(2).uniform(0, 0.6, (150, 64)) * 255) / 255
    data = StudyData("dim", dim.astype(np.float32), dim[:20].astype(np.float32), (8, 8))
    reg = runner.predict(data, [e18])
    assert all(p.applicable for p in reg["E18"]) and e18.networks(data, True) == {}
    res = runner.run(data, [e18], reg, quick=True).results["E18"]
    assert all(r.verdict == NOT_APPLICABLE for r in res.rows)
    assert e18.figure(res) is None and render_findings(e18.FINDINGS, res) == []
