"""E8, noise inside the training loss: predictions, the measurement on synthetic networks that
follow the analysis exactly, the row ids against the claims' contract, and -- on the shared tiny
run of conftest -- the figure's legends and the text rendered with facts made false.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import experiment_state, experiment_text, with_observation
from lossanalysis import analysis, plotting
from lossanalysis.claims import evidence
from lossanalysis.experiments import e8_noise_in_loss as e8
from lossanalysis.experiments import leans
from lossanalysis.experiments.core import CONSISTENCY, FALSIFIABLE, RunConfig


@pytest.fixture(scope="module")
def prep():
    return e8.prepare(RunConfig(), None)


def test_row_ids_follow_the_contract(prep):
    P = prep["predictions"]
    rep = evidence.Report("t", "mnist", False, tuple(
        evidence._toy(p.id, [p.value, p.value], p.value, p.comparison, p.kind) for p in P))
    ids = [p.id for p in P]
    assert len(ids) == len(set(ids))
    logit = {r.id for r in rep.matching("E8.*.logit.*", exclude="E8.vae.*")}
    prob = {r.id for r in rep.matching("E8.*.prob.*", exclude="E8.vae.*")}
    vae = {r.id for r in rep.matching("E8.vae.*")}
    assert logit == {i for i in ids if ".logit.bce[" in i} and len(logit) == 4
    assert prob == {i for i in ids if ".prob.bce[" in i} and len(prob) == 4
    assert vae == {"E8.vae.bernoulli"}
    read = logit | prob | vae
    for p in P:
        assert ("bce" in p.statement.lower() or "bernoulli" in p.statement.lower()) == (
            p.id in read), p.id
        assert p.kind == (CONSISTENCY if p.id.startswith("E8.free.") else FALSIFIABLE)
        assert p.kind_reason and p.tolerance > 0


def test_prob_rows_predict_a_lean_toward_half_and_logit_bce_rows_none(prep):
    P = {p.id: p for p in prep["predictions"]}
    s = e8.settings(RunConfig())["E8"]
    for model in ("free", "ae"):
        for _, space, sg in e8.configs(s, model):
            bce, mse = (P[e8.row_id(model, loss, space, sg)] for loss in e8.LOSSES)
            if space == "prob":
                assert bce.value > 0 and mse.value == 0.0
            else:
                assert abs(bce.value) < 1e-12 and mse.value < 0
            # the tolerance: a quarter of the contrast between the two losses
            assert bce.tolerance == mse.tolerance == pytest.approx(
                0.25 * abs(bce.value - mse.value))


def test_aim_for_mean_inverts_the_noisy_optimum():
    for loss, space, sg in (("mse", "logit", 2.0), ("bce", "prob", 0.05), ("bce", "logit", 1.0)):
        for c in (0.3, 0.7):
            m = e8.aim_for_mean(loss, c, sg, space)
            assert m + float(analysis.noise_bias(loss, m, sg, space)) == pytest.approx(c,
                                                                                   abs=1e-12)
    assert e8.aim_for_mean("bce", 0.3, 1.0, "logit") == pytest.approx(0.3, abs=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        e8.aim_for_mean("bce", 0.1, 0.05, "prob")
    assert e8.judged_pairs("prob", 0.05) == ((2, 6), (3, 5))
    assert e8.judged_pairs("logit", 2.0) == leans.PAIRS


@pytest.mark.parametrize("loss,space,sigma", [("mse", "logit", 1.0), ("bce", "prob", 0.05)])
def test_a_network_on_its_noisy_optimum_is_measured_as_predicted(prep, loss, space, sigma):
    """Synthetic targets with conditional means m; the 'trained' network outputs exactly the
    noisy optimum q = m + noise_bias(m), the twin exactly m.  The measured row must then lie
    within the row's tolerance of the prediction (the bin-centre approximation included)."""
    rng = np.random.default_rng(0)
    m = rng.uniform(0.02, 0.98, 300000)
    y = rng.beta(3 * m, 3 * (1 - m))
    grid = np.round(m, 3)
    q = grid + np.asarray(analysis.noise_bias(loss, grid, sigma, space)) if space == "logit" \
        else grid + np.where((grid > 5 * sigma) & (grid < 1 - 5 * sigma), np.asarray(
            analysis.noise_bias(loss, np.clip(grid, 5 * sigma, 1 - 5 * sigma), sigma, space)), 0)
    pairs = e8.judged_pairs(space, sigma)
    bins = leans.by_prediction(q, y)[0] - leans.by_prediction(grid, y)[0]
    measured = float(np.mean(leans.pair_lean(bins, pairs)))
    P = {p.id: p for p in prep["predictions"]}[e8.row_id("ae", loss, space, sigma)]
    assert abs(measured - P.value) < P.tolerance
    assert np.sign(measured) == np.sign(P.value)


def test_free_lean_matches_noise_bias_signs():
    assert e8.free_lean("bce", "prob", 0.02) > 0 > e8.free_lean("mse", "logit", 2.0)
    assert e8.free_lean("mse", "prob", 0.02) == 0.0
    assert 0.5 not in set(np.round(e8.FREE_LEVELS, 3)) and len(e8.FREE_LEVELS) == 16
    np.testing.assert_allclose(e8.FREE_LEVELS * 255, np.round(e8.FREE_LEVELS * 255))


# ------------------------------------------------------------- the shared run: figure, text
def _state(run):
    return experiment_state(run, "E8")


_text = experiment_text
_set = with_observation


def _rows(rows, fn):
    return [fn(r) for r in rows]


def test_e8_runs_and_its_figure_has_no_legend_over_data(experiment_run):
    s = _state(experiment_run["run"])
    assert {r.id for r in s.rows} == {p.id for p in s.prep["predictions"]}
    for r in s.rows:
        assert len(r.measurements) == len(s.measured.seeds)
    fig = e8.figure(s.cfg, s.prep, s.measured)
    assert plotting.legend_overlaps(fig) == []


def test_e8_text_follows_the_facts(experiment_run):
    s = _state(experiment_run["run"])

    def verdict(v, pred=lambda r: True, **kw):
        return _rows(s.rows, lambda r: dataclasses.replace(r, verdict=v, **kw) if pred(r) else r)
    free = lambda r: r.id.startswith("E8.free.")  # noqa: E731
    n_free = sum(map(free, s.rows))
    assert f"Free outputs: {n_free} of {n_free} set-ups" in _text(s, rows=verdict("confirmed"))
    assert f"Free outputs: 0 of {n_free} set-ups" in _text(s, rows=verdict("refuted"))
    bce_logit = e8.row_id("ae", "bce", "logit", 2.0)
    above = _rows(s.rows, lambda r: dataclasses.replace(r, verdict="refuted", mean=0.05)
                  if r.id == bce_logit else dataclasses.replace(r, verdict="confirmed"))
    held = verdict("confirmed")
    assert "BCE leans further toward ½ than its noisy optimum predicts (+0.0500 at σ = 2)" in \
        _text(s, rows=above)
    assert "leans further toward ½" not in _text(s, rows=held)
    t = _text(s, rows=above)
    assert f"What the analysis missed: measured minus predicted `{bce_logit}` by +0.0500" in t
    assert "the AE's outputs share weights" in t
    assert "What the analysis missed" not in _text(s, rows=held)
    vae = _rows(s.rows, lambda r: dataclasses.replace(r, verdict="refuted", mean=0.02)
                if r.id == "E8.vae.bernoulli" else dataclasses.replace(r, verdict="confirmed"))
    t = _text(s, rows=vae)
    assert "`E8.vae.bernoulli` by +0.0200" in t and "not calibrated per latent sample" in t
    both = _set(_set(s.measured, "E8.vae_mean_lean[bernoulli]", 0.03),
                "E8.vae_mean_lean[gaussian]", 0.04)
    away = _set(both, "E8.vae_mean_lean[gaussian]", -0.04)
    t = _text(s, both)
    assert "leans toward ½ by 0.0300 (Bernoulli) and toward ½ by 0.0400" in t
    assert "both lean toward ½ instead" in t
    t = _text(s, away)
    assert "away from ½ by 0.0400 (Gaussian" in t and "both lean toward ½" not in t
    off = _set(s.measured, "E8.vae_offset_model[gaussian]", -0.0123)
    assert "lean at -0.0123" in _text(s, off)
