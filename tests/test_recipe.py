"""ARCHITECTURE.md's recipe for an experiment, followed by a test: one file in a package of
experiments, and nothing else edited, gives a registered, measured, judged and reported
experiment (the runner derives its tasks, streams and costs from the declaration)."""
from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from lossanalysis.experiments import runner, study
from lossanalysis.experiments.base import StudyData

ROOT = Path(__file__).resolve().parents[1]

TOY = '''
"""E9 -- a toy: the mean training image, fitted by a one-layer network with MSE, is the data's
mean (MSE is proper), to one grey level."""
import numpy as np

from lossanalysis import plotting
from lossanalysis.experiments.base import Finding, Network, rng
from lossanalysis.protocol import Prediction

LABEL = "E9"
NAME = "A toy"
OBSERVATIONS = {"E9.spread": "intensity"}


def train_mean(x, settings, seed):
    start = rng(seed, LABEL, "start").random(x.shape[1])
    return start + settings["steps"] * 0 + (x.mean(axis=0) - start)


def networks(data, quick):
    return {"mean": Network("toy_mean", train_mean, {"steps": 1}, 1000, cost=0.01)}


def predictions(data):
    return [Prediction("E9.mean", "the fitted mean is the data's mean", "mean |fit - mean|",
                       0.0, "intensity", reason="a toy")]


def measure(nets, data):
    x = data.train(1000)
    gap = float(np.abs(nets["mean"] - x.mean(axis=0)).mean())
    return {"E9.mean": gap, "E9.spread": float(x.std())}


def figure(result):
    fig, ax = plotting.figure(columns=1)
    ax.plot(result.row("E9.mean").measurements, "o")
    ax.set_xlabel("seed")
    ax.set_ylabel(plotting.axis_label("gap", "intensity"))
    return fig


FINDINGS = (Finding("The gap is {row:E9.mean}."),)
'''


def test_an_experiment_is_one_file(tmp_path, monkeypatch):
    pkg = tmp_path / "toy_experiments"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "e9_toy.py").write_text(textwrap.dedent(TOY))
    monkeypatch.syspath_prepend(str(tmp_path))
    exps = runner.discover("toy_experiments")
    assert [m.LABEL for m in exps] == ["E9"]
    x = np.random.default_rng(0).integers(0, 256, (160, 16)).astype(np.float32) / 255
    data = StudyData("noise", x[:130], x[130:], (4, 4))
    study.register(data, tmp_path / "s", exps)
    out = study.run(data, tmp_path / "s", exps)
    doc = json.loads(Path(out["json"]).read_text())
    [row] = doc["rows"]
    assert row["id"] == "E9.mean" and row["verdict"] == "confirmed"
    assert doc["experiments"]["E9"]["findings"][0].startswith("The gap is ")
    assert (tmp_path / "s" / "figures" / "e9_toy.png").is_file()
    assert "E9.spread" in doc["observations"]
    sys.modules.pop("toy_experiments.e9_toy", None)
    sys.modules.pop("toy_experiments", None)


def test_architecture_names_the_files_the_recipe_touches():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    recipe = re.search(r"\*\*Add an experiment\.\*\*(.*?)(?:\n\n\*\*|\Z)", text, re.S).group(1)
    named = set(re.findall(r"`([\w/.<>-]+\.(?:py|json))`", recipe))
    assert named, recipe
    assert any("eN_" in n or "e<N>" in n for n in named), named
