"""E3 (lossanalysis.experiments.e3_calibration): the registration from the
data alone, every row measured on tiny synthetic images, the premise, the figure, and the
measurement helpers on inputs with a known answer."""
import math

import numpy as np
import pytest

import figcheck

from lossanalysis import plotting
from lossanalysis.experiments import runner
from lossanalysis.experiments import e3_calibration as e3
from lossanalysis.experiments.base import StudyData, render_findings
from lossanalysis.protocol import NOT_APPLICABLE, RULES


def blobs(n, side=8, seed=0):
    """Gaussian blobs of random place, size and contrast, quantized to 8 bits."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side]
    cx, cy = rng.uniform(2, side - 2, (2, n))
    r, c = rng.uniform(1, 3, n), rng.uniform(0.3, 1, n)
    im = c[:, None, None] * np.exp(-((xx - cx[:, None, None]) ** 2
                                     + (yy - cy[:, None, None]) ** 2) / (2 * r[:, None, None] ** 2))
    return (np.round(im * 255) / 255).reshape(n, -1).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    return StudyData("blobs", blobs(300), blobs(60, seed=1), (8, 8))


@pytest.fixture(scope="module")
def result(data):
    registered = runner.predict(data, [e3])
    return registered, runner.run(data, [e3], registered, quick=True).results["E3"]


def test_registration_reads_the_data_alone(monkeypatch):
    import lossanalysis.experiments.networks as shared

    def no_training(*args, **kwargs):
        raise AssertionError("a prediction trained a network")
    monkeypatch.setattr(shared, "train", no_training)
    d = StudyData("blobs", blobs(200, seed=3), blobs(20, seed=4), (8, 8))
    preds = {p.id: p for p in runner.predict(d, [e3])["E3"]}
    assert set(preds) == {"E3.bce.calibration", "E3.mse.calibration", "E3.mse_vs_bce"}
    assert all(not p.applicable for p in preds.values())
    assert preds["E3.bce.calibration"].tolerance == 1e-5              # the stated precision
    assert preds["E3.mse.calibration"].tolerance == pytest.approx(math.log(1.1))
    assert preds["E3.mse_vs_bce"].tolerance == pytest.approx(10.0)    # a tenth of 100
    assert {p.rule for p in preds.values()} <= set(RULES)
    assert [p.kind for p in preds.values()] == ["consistency", "falsifiable", "consistency"]


def test_every_row_and_observation_is_measured(result):
    registered, res = result
    for out in res.per_seed:
        for key in [p.id for p in registered["E3"]] + list(e3.OBSERVATIONS):
            assert isinstance(out[key], float), key
    assert all(r.verdict != NOT_APPLICABLE for r in res.rows)
    # the canonical link, after the Newton polish of the output bias: rounding only
    assert max(res.row("E3.bce.calibration").measurements) < 1e-5
    assert min(res.row("E3.mse_vs_bce").measurements) >= 100
    assert render_findings(e3.FINDINGS, res)


def test_too_few_varying_locations_is_not_applicable():
    x = np.zeros((150, 64), np.float32)
    x[:, :5] = blobs(150)[:, 27:32]                 # five locations vary, the rest stay 0
    d = StudyData("flat", x, x[:20], (8, 8))
    registered = runner.predict(d, [e3])
    assert all("fewer than 10" in p.applicable for p in registered["E3"])
    res = runner.run(d, [e3], registered, quick=True).results["E3"]
    assert {r.verdict for r in res.rows} == {NOT_APPLICABLE}


def test_figure_has_no_legend_over_data(result):
    fig = e3.figure(result[1])
    assert figcheck.figure_problems(fig, "E3") == []
    assert fig.get_size_inches()[0] == pytest.approx(plotting.COLUMN_WIDTH[2])


def test_calibration_errors_and_strata_have_their_known_answers():
    # four locations with data means 0.005, 0.03, 0.1 and 0.5 over 200 images
    n = 200
    x = np.zeros((n, 4))
    x[:1, 0], x[:6, 1], x[:20, 2], x[:100, 3] = 1.0, 1.0, 1.0, 1.0
    offset = np.array([0.001, -0.002, 0.003, -0.004])
    p = np.clip(x, 0.05, 0.95) + offset - (np.clip(x, 0.05, 0.95) - x).mean(axis=0)
    cols = np.arange(4)
    err = e3.calibration_errors(p, x, cols)
    np.testing.assert_allclose(err, offset, atol=1e-12)
    pred = 2 * offset
    # the BCE network draws every ink pixel, the MSE network leaves the two rarest locations off
    p_mse = p.copy()
    p_mse[:, :2] = 0.0
    s = e3.strata({"bce": p, "mse": p_mse}, x, cols, err, pred)
    names = e3.STRATUM_NAMES
    for k, name in enumerate(names):
        assert s[f"E3.mse_error[{name}]"] == pytest.approx(abs(offset[k]))
        assert s[f"E3.mse_error_predicted[{name}]"] == pytest.approx(2 * abs(offset[k]))
        assert s[f"E3.ink_off[bce,{name}]"] == 0.0
        assert s[f"E3.ink_off[mse,{name}]"] == (1.0 if k < 2 else 0.0)
    empty = e3.strata({"bce": p, "mse": p}, x[:, 3:], cols[:1], err[3:], pred[3:])
    assert math.isnan(empty[f"E3.mse_error[{names[0]}]"])      # no location in that stratum
