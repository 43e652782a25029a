"""E4 (the conditional-mean null): its registration from the data alone, the premise on sparse
bins, every row measured on small images, and the figure.  The lean measures themselves are
tested on predictors with known answers in test_leans.py."""
from __future__ import annotations

import numpy as np
import pytest

import figcheck
from lossanalysis import protocol as P
from lossanalysis.experiments import e4_asymmetry as e4
from lossanalysis.experiments import runner
from lossanalysis.experiments.base import StudyData, render_findings


def _blobs(n, size=12, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    c = rng.uniform(3, size - 3, (n, 2))
    r, a = rng.uniform(2, 4, n), rng.uniform(0.3, 1, n)
    im = a[:, None, None] * np.exp(-((xx - c[:, 0, None, None]) ** 2
                                     + (yy - c[:, 1, None, None]) ** 2) / (2 * r[:, None, None] ** 2))
    return (np.round(im * 255) / 255).reshape(n, -1).astype(np.float32)


@pytest.fixture(scope="module")
def quick():
    data = StudyData("blobs", _blobs(1200), _blobs(200, seed=1), (12, 12))
    reg = runner.predict(data, [e4])
    return data, reg, runner.run(data, [e4], reg, quick=True).results["E4"]


def test_registration_is_the_null_at_one_grey_level(quick):
    data, reg, _ = quick
    preds = reg["E4"]
    assert [p.id for p in preds][:4] == list(e4.NULL_IDS)
    for p in preds:
        assert p.value == 0.0 and p.kind == P.FALSIFIABLE and p.rule == "intensity"
        assert p.applicable or p.tolerance == pytest.approx(1 / 255)


def test_sparse_bins_are_not_applicable():
    """Binary images have no grey pixels to bin: every lean row says so, and nothing fails."""
    x = (_blobs(300) > 0.5).astype(np.float32)
    data = StudyData("binary", x, x[:50], (12, 12))
    preds = {p.id: p for p in e4.predictions(data)}
    assert all("fewer than" in preds[i].applicable for i in e4.NULL_IDS)


def test_every_row_is_measured_and_the_figure_is_a_paper_figure(quick):
    _, reg, res = quick
    for row in res.rows:
        if row.verdict != P.NOT_APPLICABLE:
            assert len(row.measurements) == 2 and row.verdict == P.NOT_JUDGED
    assert all(name in res.observations for name in e4.OBSERVATIONS)
    assert figcheck.figure_problems(e4.figure(res), "E4") == []
    assert render_findings(e4.FINDINGS, res)
