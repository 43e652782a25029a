"""Tests of lossanalysis.claims: verdicts are computed, change with the loss, and take data."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from lossanalysis import Loss
from lossanalysis import claims as C


@pytest.fixture(scope="module")
def results():
    return C.evaluate_all()


@pytest.fixture(autouse=True)
def clean_registry():
    saved = C.registered_measurements()
    for cid in list(saved):
        C.unregister_measurement(cid)
    yield
    for cid in list(C.registered_measurements()):
        C.unregister_measurement(cid)
    for cid, fn in saved.items():
        C.register_measurement(cid, fn)


def test_all_ten_claims_have_a_verdict(results):
    assert [r.id for r in results] == [str(i) for i in range(1, 11)]
    for r in results:
        assert r.verdict in C.VERDICTS
        assert r.qualification and r.statement and r.claim
        for part in r.parts:
            assert part.verdict in C.VERDICTS
    by_id = {r.id: r for r in results}
    # the data-dependent parts wait for measurements, the derivable ones do not
    assert by_id["8"].verdict == "awaiting data"
    assert [p.verdict for p in by_id["3"].parts][1] == "awaiting data"
    assert all(by_id[i].verdict != "awaiting data" for i in "1 2 4 5 6 7 9 10".split())


def test_default_verdicts(results):
    """The verdicts the analysis currently computes (each is flipped by a test below)."""
    v = {r.id: r.verdict for r in results}
    assert v == {"1": "confirmed", "2": "confirmed", "3": "qualified", "4": "qualified",
                 "5": "qualified", "6": "qualified", "7": "qualified", "8": "awaiting data",
                 "9": "qualified", "10": "confirmed"}


@pytest.mark.parametrize("cid,kwargs,verdict", [
    ("1", dict(asymmetric="mse"), "refuted"),
    ("1", dict(symmetric="bce"), "refuted"),
    ("2", dict(loss="mse"), "refuted"),
    ("2", dict(loss="continuous_bernoulli"), "refuted"),
    ("2", dict(loss="logit_mse"), "confirmed"),
    ("3", dict(loss="focal"), "confirmed"),
    ("3", dict(loss="mse"), "refuted"),
    ("4", dict(zero_normalized="logit_mse"), "refuted"),
    ("4", dict(zero_normalized="mse", factor=1), "confirmed"),
    ("5", dict(loss="mae"), "refuted"),
    ("5", dict(loss="focal"), "refuted"),
    ("7", dict(loss="mse", reference="bce"), "refuted"),
    ("9", dict(gaussian="mae"), "refuted"),
    ("10", dict(loss="focal"), "refuted"),
    ("10", dict(loss="continuous_bernoulli"), "refuted"),
    ("10", dict(loss="kl"), "confirmed"),
])
def test_verdicts_follow_the_loss(cid, kwargs, verdict):
    assert C.evaluate(cid, **kwargs).verdict == verdict


def test_claim_6_hard_edges_from_a_loss_that_saturates():
    # expected-accuracy loss: biased away from 1/2 (minimizer at 0 or 1) and a step-edge
    linear = Loss.from_expr("-(y*p + (1 - y)*(1 - p))", name="linear")
    assert C.evaluate("6", loss=linear).verdict == "confirmed"
    with pytest.raises(ValueError, match="loss"):
        C.evaluate("6", loss="focal")                 # focal is biased toward 1/2


def test_claim_evidence_is_computed(results):
    by_id = {r.id: r for r in results}
    e2 = by_id["2"].evidence["excess losses (nats)"]
    assert e2["L(0.8,0.9)"] > e2["L(0.8,0.7)"] and e2["L(0.3,0.4)"] < e2["L(0.3,0.2)"]
    ratio = by_id["4"].evidence["ratio kl / (2 mse) at p"]
    vals = [ratio[k] for k in sorted(ratio)]
    assert all(v > 1 for v in vals) and vals == sorted(vals)   # exceeds 2*MSE, increasingly
    slope = by_id["6"].evidence["slope dp*/dw at w = 1/2 (mean: 1)"]
    assert slope > 1


def test_measurements_via_registry_and_mapping():
    assert C.evaluate("8").verdict == "awaiting data"
    C.register_measurement("8", lambda: C.Measurement("confirmed", {"fraction": 0.97}))
    assert C.evaluate("8").verdict == "confirmed"
    C.unregister_measurement("8")
    assert C.evaluate("8").verdict == "awaiting data"
    r3 = C.evaluate("3", measurements={"3": {"verdict": "refuted", "evidence": {"x": 1}}})
    assert r3.verdict == "refuted" and r3.parts[1].verdict == "refuted"
    r3 = C.evaluate("3", measurements={"3": C.Measurement("confirmed")})
    assert r3.verdict == "qualified"                   # 3a stays qualified
    r7 = C.evaluate("7", measurements={"7": C.Measurement("refuted")})
    assert r7.verdict == "refuted"
    with pytest.raises(ValueError, match="claim_id"):
        C.register_measurement("4", lambda: None)
    with pytest.raises(ValueError, match="verdict"):
        C.Measurement("awaiting data")


def test_binary_fraction_measurement():
    rng = np.random.default_rng(0)
    binary = rng.integers(0, 2, 10_000).astype(float)
    grey = rng.random(10_000)
    mixed = np.where(rng.random(10_000) < 0.8, binary, grey)
    for x in (binary, grey, mixed):
        f = np.mean((x <= 0.1) | (x >= 0.9))
        m = C.binary_fraction_measurement(x)
        assert m.evidence["fraction near 0 or 1"] == pytest.approx(f)
        expected = "confirmed" if f >= 0.95 else "qualified" if f >= 0.5 else "refuted"
        assert m.verdict == expected
    assert C.evaluate("8", measurements={"8": C.binary_fraction_measurement(binary)}).verdict \
        == "confirmed"
    with pytest.raises(ValueError, match="pixels"):
        C.binary_fraction_measurement([0.5, 1.5])


def test_markdown_and_json(results):
    md = C.to_markdown(results)
    lines = md.strip().splitlines()
    assert lines[0].startswith("| # | Claim | Verdict")
    n_rows = len(results) + sum(len(r.parts) for r in results)
    assert len(lines) == 2 + n_rows
    data = json.loads(C.to_json(results))
    assert [d["id"] for d in data] == [r.id for r in results]
    assert [d["verdict"] for d in data] == [r.verdict for r in results]


def test_cli_subcommand(capsys, monkeypatch):
    canned = [C.check_8()]
    monkeypatch.setattr(C, "evaluate_all", lambda measurements=None: canned)
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    C._register_claims(sub)
    args = parser.parse_args(["claims", "--json"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == "8"
    args = parser.parse_args(["claims"])
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith("| # | Claim")


def test_bad_claim_id():
    with pytest.raises(ValueError, match="claim_id"):
        C.evaluate("11")
