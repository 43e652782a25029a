"""E8 in the new experiment shape: the registration (ids the claims read, one intensity rule for
every lean), every row measured on tiny data, the premises giving rows that are not applicable
without crashing, the figure, and the AE measurement recovering the predicted lean from networks
that sit exactly on their noisy optimum."""
from __future__ import annotations

import math

import numpy as np
import pytest

import figcheck
from toyimages import blobs

from lossanalysis import analysis, plotting
from lossanalysis.claims import evidence
from lossanalysis.experiments import runner
from lossanalysis.experiments import e8_noise_in_loss as e8
from lossanalysis.experiments.base import StudyData
from lossanalysis.losses import logit
from lossanalysis.nn.noise import NoisyOutput, fit_free_logits
from lossanalysis.protocol import CONSISTENCY, FALSIFIABLE, GREY_LEVEL, NOT_APPLICABLE

#: Blob peaks above 1 (clipped): saturated cores, so that every bin of E8's pairs is populated.
SATURATED = (0.6, 1.6)


def _study(n, side=8):
    return StudyData("blobs", blobs(n, side, contrast=SATURATED),
                     blobs(max(n // 4, 40), side, 1, contrast=SATURATED), (side, side))


@pytest.fixture(scope="module")
def quick():
    data = _study(1500)
    reg = runner.predict(data, [e8])
    with pytest.MonkeyPatch.context() as mp:            # one seed: E8 trains 12 networks
        mp.setattr(runner, "quick_seeds", lambda: (0,))
        return data, reg, runner.run(data, [e8], reg, quick=True).results["E8"]


def test_registration_reads_the_claims_ids_and_one_rule(quick):
    _, reg, _ = quick
    preds = reg["E8"]
    rep = evidence.Report("t", "blobs", False, tuple(
        evidence._toy(p.id, [p.value, p.value], p.value, p.comparison, p.kind) for p in preds))
    logit_ids = {r.id for r in rep.matching("E8.*.logit.*", exclude="E8.vae.*")}
    prob_ids = {r.id for r in rep.matching("E8.*.prob.*", exclude="E8.vae.*")}
    assert logit_ids == {p.id for p in preds if ".logit.bce[" in p.id} and len(logit_ids) == 4
    assert prob_ids == {p.id for p in preds if ".prob.bce[" in p.id} and len(prob_ids) == 4
    assert {r.id for r in rep.matching("E8.vae.*")} == {"E8.vae.bernoulli"}
    assert "E8.ae.mse_logit[sigma=1]" in {p.id for p in preds}
    for p in preds:
        assert (p.rule, p.tolerance, p.applicable) == ("intensity", GREY_LEVEL, ""), p.id
        assert p.kind == (CONSISTENCY if p.id.startswith("E8.free.") else FALSIFIABLE)
    for model in ("free", "ae"):
        for loss, space, sg in e8.SETUPS[model]:
            v = next(p.value for p in preds if p.id == e8.row_id(model, loss, space, sg))
            if space == "prob":       # BCE leans toward 1/2 under probability noise, MSE not
                assert (v > 0) if loss == "bce" else abs(v) < 1e-12
            else:                     # logit noise: BCE on target, MSE away from 1/2
                assert abs(v) < 1e-12 if loss == "bce" else v < -0.01


def test_every_row_and_observation_is_measured_on_tiny_data(quick):
    _, reg, res = quick
    assert [r.id for r in res.rows] == [p.id for p in reg["E8"]]
    for r in res.rows:
        assert len(r.measurements) == 1 and r.verdict != NOT_APPLICABLE, r.id
    free = [r for r in res.rows if r.id.startswith("E8.free.")]
    assert all(math.isfinite(v) for r in free for v in r.measurements)
    assert set(res.observations) == set(e8.OBSERVATIONS)


def test_figure_has_no_legend_over_data_and_a_paper_width(quick):
    fig = e8.figure(quick[2])
    assert figcheck.figure_problems(fig, "E8") == []
    assert float(fig.get_size_inches()[0]) == plotting.COLUMN_WIDTH[2]


def test_too_few_pixels_or_images_give_not_applicable_rows_and_no_crash():
    data = _study(150, side=8)
    ok = e8.premises(data)
    assert ok["vae"].startswith("fewer than 1000 training images")
    assert all(ok["ae", sp, sg] for _, sp, sg in e8.SETUPS["ae"])
    assert set(e8.networks(data, True)) == {"free"}
    free = {s: np.zeros(e8.FREE_LEVELS.size) for s in e8.SETUPS["free"]}
    out = e8.measure({"free": free}, data.seed_data(0))
    assert all(math.isnan(out[k]) for k in e8.OBSERVATIONS)
    applicable = [p.id for p in e8.predictions(data) if not p.applicable]
    assert applicable == [e8.row_id("free", *s) for s in e8.SETUPS["free"]]
    assert all(out[rid] == 0 for rid in applicable)


class _Fixed:
    """A network whose logits are fixed in advance (for the one training set it is given)."""

    def __init__(self, z, term=None):
        self.z, self.term = z, term

    def logits(self, x):
        return self.z

    def set_params(self, params):
        pass


@pytest.mark.parametrize("loss,space,sigma", [("mse", "logit", 1.0), ("bce", "prob", 0.05)])
def test_networks_on_their_noisy_optimum_are_measured_as_predicted(loss, space, sigma):
    """Targets y with known conditional means m; the twin outputs exactly m, the noisy network
    exactly its noisy optimum (analysis.noise_offset), so E_e[p] = m + noise_bias(m).  E8's
    measurement must then find the predicted lean, up to the bin-centre approximation."""
    rng = np.random.default_rng(0)
    m_all = np.clip(rng.beta(2, 3, (600, 256)), 0.01, 0.99).round(3)   # conditional means
    y_all = np.round(rng.beta(4 * m_all, 4 * (1 - m_all)) * 255) / 255    # targets around them
    study = StudyData("beta", y_all.astype(np.float32), y_all[:40].astype(np.float32), (16, 16))
    y = study.seed_data(0).train(len(y_all))             # the seed's subset the AEs train on
    rows = {r.tobytes(): i for i, r in enumerate(study.train)}
    m = m_all[[rows[r.tobytes()] for r in y]]
    levels, inv = np.unique(m, return_inverse=True)
    # probability space: the offset where the noise stays inside (0, 1), none nearer the edges
    # (those pixels lie outside the judged bins)
    room = (space == "logit") | (np.minimum(levels, 1 - levels) > e8.CLIP_SIGMAS * sigma)
    c = np.zeros(levels.size)
    c[room] = analysis.noise_offset(loss, levels[room], sigma, space)
    c = c[inv.reshape(m.shape)]
    z = logit(m) + c if space == "logit" else logit(m + c)
    rid = e8.row_id("ae", loss, space, sigma)
    nets = {"pair": {"n": len(y_all), "adam": {"bce": None, "mse": None},
                     **{lo: _Fixed(logit(m)) for lo in e8.LOSSES}},
            rid: _Fixed(z, NoisyOutput(loss, space, sigma, p_min=e8.P_MIN))}
    out = e8._ae(nets, study.seed_data(0))
    predicted = next(p.value for p in e8.predictions(study) if p.id == rid)
    # ideal networks must be confirmed with room to spare: within half the row's tolerance
    # (bin averaging instead of bin centres, and the sampling of y, move the measurement)
    assert abs(out[rid] - predicted) < GREY_LEVEL / 2
    assert np.sign(out[rid]) == np.sign(predicted) and abs(predicted) > GREY_LEVEL / 2
    assert out[f"{rid}:clip"] < 1e-6                     # judged bins: clipping negligible


def test_free_logits_land_on_noise_bias():
    y = np.array([0.15, 0.3, 0.8])
    z, term = fit_free_logits("mse", "logit", 1.0, y, np.zeros(3), draws=512, steps=600,
                              seed=5)
    measured = term.expected_prediction(z) - y
    predicted = np.asarray(analysis.noise_bias("mse", y, 1.0, "logit"))
    assert np.max(np.abs(measured - predicted)) < 0.05 * np.max(np.abs(predicted))
    with pytest.raises(ValueError, match="steps"):
        fit_free_logits("mse", "logit", 1.0, y, np.zeros(3), draws=8, steps=0)
