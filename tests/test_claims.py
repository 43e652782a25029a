"""Tests of lossanalysis.claims: verdicts are computed, change with the loss, and take data."""
from __future__ import annotations

import argparse
import json
import re

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
    edge = by_id["3"].parts[0].evidence["edge pixel (targets 0 and 1, weight w of 1): "
                                        "max |p*(w) - w|"]
    assert max(edge.values()) <= 1e-9                 # BCE and MSE both predict the mean w
    focal = C.evaluate("3", loss="focal").parts[0].evidence
    assert focal["edge pixel (targets 0 and 1, weight w of 1): max |p*(w) - w|"]["focal"] > 0.01


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


# ---------------------------------------------------------------------------------------------
# measurements read back from an experiments report (python -m lossanalysis claims --report)
# ---------------------------------------------------------------------------------------------
def _write_report(path, results, dataset="toy"):
    """A report in the layout of lossanalysis.experiments.report: the claims under "claims"."""
    doc = {"dataset": dataset, "measurements": {}, "claims": [r.to_dict() for r in results]}
    path.write_text(json.dumps(doc))
    return path


def _cli(argv, capsys):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    C._register_claims(sub)
    args = parser.parse_args(["claims", *argv])
    rc = args.func(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_report_round_trip(tmp_path):
    given = {"3": C.Measurement("refuted", {"blur ratio": {"bce": 1.1, "mse": 1.2}},
                                "BCE is sharper here.", source="toy blur run"),
             "7": C.Measurement("qualified", {"SGD slowdown": 12.5}, "Faster with SGD only.",
                                source="toy optimizer run"),
             "8": C.Measurement("confirmed", {"fraction near 0 or 1": 0.97}, "Nearly binary.",
                                source="toy pixels")}
    path = _write_report(tmp_path / "toy.json", C.evaluate_all(given))
    back = C.measurements_from_report(path)
    assert back == given
    # a report whose data claims still await data carries no measurement
    empty = _write_report(tmp_path / "empty.json", C.evaluate_all())
    assert C.measurements_from_report(empty) == {}


def test_cli_report_supplies_the_data_verdicts(tmp_path, capsys):
    # written by hand in the report's layout, not through to_dict
    doc = {"dataset": "toy", "claims": [
        {"id": "3", "verdict": "qualified", "qualification": "", "evidence": {}, "parts": [
            {"id": "3a", "verdict": "qualified", "qualification": "", "evidence": {}},
            {"id": "3b", "verdict": "confirmed", "qualification": "Blurrier with BCE.",
             "evidence": {"blur": 1.3, "source": "E4 on toy"}}]},
        {"id": "8", "verdict": "refuted", "qualification": "Mostly grey.",
         "evidence": {"fraction near 0 or 1": 0.2}}]}
    path = tmp_path / "hand.json"
    path.write_text(json.dumps(doc))
    rc, out, _ = _cli(["--json", "--report", str(path)], capsys)
    assert rc == 0
    res = {d["id"]: d for d in json.loads(out)}
    assert res["8"]["verdict"] == "refuted"
    assert res["8"]["evidence"]["source"] == "hand.json (toy)"     # no source: the file names it
    assert [p["verdict"] for p in res["3"]["parts"]][1] == "confirmed"
    assert res["3"]["verdict"] == "qualified"                        # 3a (theory) stays qualified
    rc, out, _ = _cli([], capsys)                                   # without --report: awaiting
    assert rc == 0 and "| 8 |" in out and "awaiting data" in out.split("| 8 |")[1]


def test_several_reports_are_combined(tmp_path):
    a = _write_report(tmp_path / "a.json", C.evaluate_all(
        {"8": C.Measurement("confirmed", {"f": 0.97}, "binary", "pixels A"),
         "7": C.Measurement("qualified", {"x": 1}, "q", "run")}))
    b = _write_report(tmp_path / "b.json", C.evaluate_all(
        {"8": C.Measurement("refuted", {"f": 0.3}, "grey", "pixels B"),
         "7": C.Measurement("qualified", {"x": 1}, "q", "run")}))
    m = C.measurements_from_reports([a, b])
    assert m["7"] == C.Measurement("qualified", {"x": 1}, "q", "run")   # same: counted once
    assert m["8"].verdict == "refuted"                                   # any refutation wins
    assert set(m["8"].evidence) == {"pixels A", "pixels B"}
    both_confirmed = _write_report(tmp_path / "c.json", C.evaluate_all(
        {"8": C.Measurement("confirmed", {"f": 0.99}, "binary", "pixels C")}))
    assert C.measurements_from_reports([a, both_confirmed])["8"].verdict == "confirmed"


@pytest.mark.parametrize("content,why", [
    (None, "does not exist"), ("{not json", "not valid JSON"), ('{"claims": 3}', "'claims'"),
    ('[1, 2]', "'claims'"), ('{"claims": [{"id": "8", "verdict": "maybe"}]}', "claims\\[0\\]"),
    ('{"claims": [{"id": "7", "verdict": "qualified", "evidence": {"measurement": 5}}]}',
     "claim 7")])
def test_bad_report_files(tmp_path, capsys, content, why):
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match="report") as err:
        C.measurements_from_report(path)
    assert str(path) in str(err.value)
    assert re.search(why, str(err.value))
    rc, out, errtext = _cli(["--report", str(path)], capsys)
    assert rc == 2 and out == "" and str(path) in errtext
