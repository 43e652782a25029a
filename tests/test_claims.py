"""Tests of lossanalysis.claims: each claim reaches every verdict it may report, driven by other
losses (the analysis) and by synthetic report evidence (the data); the CLI in-process."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from lossanalysis import Loss
from lossanalysis import claims as C
from lossanalysis.claims import PENDING
from lossanalysis.claims.cli import register

STUDIES = Path(__file__).resolve().parents[1] / "studies"


# ---------------------------------------------------------------------------------------------
# synthetic evidence in the report's schema
# ---------------------------------------------------------------------------------------------
def row(id_, verdict, mean=0.0, value=0.0, comparison="equal", kind="falsifiable", half=0.02):
    """A row in a study report's schema, its interval mean +- half (wide: no effect detected
    unless the mean is far from the prediction)."""
    return {"id": id_, "statement": "", "quantity": "", "rule": "intensity", "kind": kind,
            "comparison": comparison, "value": value, "tolerance": 0.01, "mean": mean,
            "measurements": [mean, mean], "seeds": [0, 1],
            "interval": [mean - half, mean + half], "verdict": verdict}


def obs(*values):
    return {"values": list(values), "seeds": list(range(len(values))), "unit": "ratio"}


def ev(rows=(), observations=None, dataset="mnist", quick=False):
    return C.Evidence.from_documents([{"study": dataset, "quick": quick, "rows": list(rows),
                                       "observations": observations or {}}], [f"{dataset}.json"])


# E4.null / E8.vae / E8.*.logit: a lean toward 1/2 predicted 0 (CONTRACT)
NO_LEAN = row("E4.null.lean", "confirmed", mean=0.001)
LEANS = row("E4.null.lean", "refuted", mean=0.05)
LEANS_AWAY = row("E4.null.lean", "refuted", mean=-0.05)
UNDECIDED = row("E4.null.lean", "inconclusive", mean=float("nan"))
BLURRIER = [1.30, 1.31, 1.29]
SHARPER = [1.10, 1.12, 1.11]
MIDDLE = [1.20, 1.22, 1.21]
AE_BCE_BLURRIER = {"blur_ratio[ae_bce]": obs(*BLURRIER), "blur_ratio[ae_mse]": obs(*MIDDLE)}
AE_BCE_SHARPER = {"blur_ratio[ae_bce]": obs(*SHARPER), "blur_ratio[ae_mse]": obs(*MIDDLE)}
VAE_BERN_BLURRIER = {"blur_ratio[vae_bernoulli]": obs(*BLURRIER),
                     "blur_ratio[vae_gaussian_sigma1]": obs(*MIDDLE)}
VAE_BERN_SHARPER = {"blur_ratio[vae_bernoulli]": obs(*SHARPER),
                    "blur_ratio[vae_gaussian_sigma1]": obs(*MIDDLE)}
MSE_SHARPER_THAN_DATA = {"blur_ratio[ae_mse]": obs(0.90, 0.92, 0.91)}
E8_PROB_AS_PREDICTED = row("E8.ae.prob.lean", "confirmed", mean=0.002, value=0.002)
E8_PROB_NONE = row("E8.ae.prob.lean", "refuted", mean=0.0, value=0.002)
E8_PROB_MORE = row("E8.ae.prob.lean", "refuted", mean=0.05, value=0.002)
E8_LOGIT_ON_TARGET = row("E8.ae.logit.lean", "confirmed", mean=0.0)
E8_LOGIT_LEANS = row("E8.ae.logit.lean", "refuted", mean=0.05)
CB_SHARPER = row("E6.cb.sharper", "confirmed", mean=-0.05, comparison="at_most")
CB_BLURRIER = row("E6.cb.sharper", "refuted", mean=0.05, comparison="at_most")
CB_AWAY = row("E6.cb.param_expansion", "confirmed", mean=0.17, value=0.17)
CB_NOT_AWAY = row("E6.cb.param_expansion", "refuted", mean=0.0, value=0.17)
SGD_FASTER = row("E2.ae.first_step.sgd", "confirmed", mean=202.0, value=202.0)
ADAM_EQUAL = row("E2.ae.first_step.adam", "confirmed", mean=1.0, value=1.0)
ADAM_FASTER = row("E2.ae.first_step.adam", "refuted", mean=3.0, value=1.0)
ADAM_SLOWER = row("E2.ae.first_step.adam", "refuted", mean=0.3, value=1.0)

LINEAR = Loss.from_expr("-(y*p + (1 - y)*(1 - p))", name="linear")   # biased away: a step edge
PULL = Loss.from_expr("(p - y)**2 - y*(1 - y)*(p - 1/2)**2", name="pull")  # away, edge = mean
LOPSIDED = Loss.from_expr("(p - y)**2*(1 + 10*(p - y)*(y - 1/2)*(y - 1/5))", name="lopsided")
NORMALIZED_BERNOULLI = Loss.from_expr("-log((1 - p)*(1 - y) + p*y + 3*y*(1 - y))",
                                      name="normalized_bernoulli")   # Bern at 0/1, integral 1

# (claim id, verdict) -> (keyword arguments for the checks, evidence); every claim, part and
# condition, every verdict it may report (test_the_drivers_cover_every_verdict checks the list)
DRIVERS = {
    ("1", "confirmed"): ({}, None),
    ("1", "refuted"): ({"asymmetric": "mse"}, None),
    ("2", "confirmed"): ({}, None),
    ("2", "qualified"): ({"loss": LOPSIDED}, None),
    ("2", "refuted"): ({"loss": "mse"}, None),
    ("3", "confirmed"): ({"loss": "focal"}, ev([LEANS], {**AE_BCE_BLURRIER,
                                                          **VAE_BERN_BLURRIER})),
    ("3", "qualified"): ({}, ev([LEANS], {**AE_BCE_BLURRIER, **VAE_BERN_BLURRIER})),
    ("3", "refuted"): ({}, ev([NO_LEAN], {**AE_BCE_BLURRIER, **VAE_BERN_BLURRIER})),
    ("3a", "confirmed"): ({"loss": "focal"}, ev([LEANS])),
    ("3a", "qualified"): ({}, ev([LEANS])),
    ("3a", "refuted"): ({}, ev([NO_LEAN])),
    ("3a.prob", "confirmed"): ({}, ev([E8_PROB_AS_PREDICTED])),
    ("3a.prob", "qualified"): ({}, ev([E8_PROB_MORE])),
    ("3a.prob", "refuted"): ({}, ev([E8_PROB_NONE])),
    ("3b", "confirmed"): ({}, ev(observations={**AE_BCE_BLURRIER, **VAE_BERN_BLURRIER})),
    ("3b", "qualified"): ({}, ev(observations={**AE_BCE_BLURRIER, **VAE_BERN_SHARPER})),
    ("3b", "refuted"): ({}, ev(observations={**AE_BCE_SHARPER, **VAE_BERN_SHARPER})),
    ("4", "confirmed"): ({"zero_normalized": "mse", "factor": 1}, None),
    ("4", "qualified"): ({}, None),
    ("4", "refuted"): ({"zero_normalized": "logit_mse"}, None),
    ("5", "confirmed"): ({"contrast": "focal"}, ev([LEANS], {"blur_ratio[ae_mse]":
                                                             obs(*MIDDLE)})),
    ("5", "qualified"): ({}, ev([LEANS], {"blur_ratio[ae_mse]": obs(*MIDDLE)})),
    ("5", "refuted"): ({}, ev([NO_LEAN], {"blur_ratio[ae_mse]": obs(*MIDDLE)})),
    ("5a", "confirmed"): ({}, ev(observations={"blur_ratio[ae_mse]": obs(*MIDDLE)})),
    ("5a", "qualified"): ({"loss": "mae"}, ev(observations={"blur_ratio[ae_mse]":
                                                            obs(*MIDDLE)})),
    ("5a", "refuted"): ({}, ev(observations=MSE_SHARPER_THAN_DATA)),
    ("5b", "confirmed"): ({"contrast": "focal"}, ev([LEANS])),
    ("5b", "qualified"): ({}, ev([LEANS])),
    ("5b", "refuted"): ({}, ev([LEANS_AWAY])),
    ("5b.prob", "confirmed"): ({}, ev([E8_PROB_AS_PREDICTED])),
    ("5b.prob", "qualified"): ({}, ev([E8_PROB_MORE])),
    ("5b.prob", "refuted"): ({}, ev([E8_PROB_NONE])),
    ("5b.logit", "confirmed"): ({"loss": "bce", "contrast": "logit_mse"}, ev([E8_LOGIT_LEANS])),
    ("5b.logit", "qualified"): ({}, ev([E8_LOGIT_LEANS])),
    ("5b.logit", "refuted"): ({}, ev([E8_LOGIT_ON_TARGET])),
    ("6", "confirmed"): ({"loss": LINEAR}, ev([CB_SHARPER])),
    ("6", "qualified"): ({}, ev([CB_SHARPER])),
    ("6", "refuted"): ({}, ev([CB_BLURRIER])),
    ("6.premise", "confirmed"): ({}, ev([CB_AWAY])),
    ("6.premise", "qualified"): ({}, ev([CB_AWAY, dict(CB_NOT_AWAY, id="E6.clipped.cb."
                                                                         "param_expansion")])),
    ("6.premise", "refuted"): ({}, ev([CB_NOT_AWAY])),
    ("7", "qualified"): ({}, ev([SGD_FASTER, ADAM_FASTER])),
    ("7", "refuted"): ({}, ev([ADAM_SLOWER])),
    ("8", "confirmed"): ({}, ev(observations={"binary_pixel_fraction": obs(0.97)})),
    ("8", "qualified"): ({}, ev(observations={"binary_pixel_fraction": obs(0.913)})),
    ("8", "refuted"): ({}, ev(observations={"binary_pixel_fraction": obs(0.3)})),
    ("9", "confirmed"): ({"bernoulli": NORMALIZED_BERNOULLI}, None),
    ("9", "qualified"): ({}, None),
    ("9", "refuted"): ({"gaussian": "bce"}, None),
    ("10", "confirmed"): ({}, None),
    ("10", "refuted"): ({"loss": "focal"}, None),
}
EVERY = [c for top in C.CLAIMS for c in top.walk()]


def _pending_evidence(claim, verdict):
    """Evidence that leaves ``claim`` pending with ``verdict``: none at all, a quick run, or
    every row inconclusive and every observation undecided."""
    if verdict == "awaiting data":
        return None
    if verdict == "not judged":
        return ev([LEANS, SGD_FASTER, CB_SHARPER], {**AE_BCE_BLURRIER}, quick=True)
    rows = [dict(UNDECIDED, id=i) for i in ("E4.null.lean", "E8.vae.lean", "E8.ae.logit.lean",
                                           "E8.ae.prob.lean", "E6.cb.sharper",
                                           "E6.cb.param_expansion", "E2.ae.first_step.sgd",
                                           "E2.ae.first_step.adam")]
    one_seed = {k: obs(1.2) for k in C.CONTRACT if k.startswith("blur_ratio")}
    return ev(rows, {**one_seed, "binary_pixel_fraction": obs(float("nan"))})


def test_the_drivers_cover_every_verdict():
    """Every claim, part and condition is driven to exactly the verdicts it declares."""
    want = {(c.id, v) for c in EVERY for v in c.verdicts}
    assert set(DRIVERS) == want
    assert {c.id for c in EVERY} == {cid for cid, _ in DRIVERS}


@pytest.mark.parametrize("cid,verdict", sorted(DRIVERS))
def test_each_decided_verdict_is_reached(cid, verdict):
    kwargs, evidence = DRIVERS[(cid, verdict)]
    assert C.evaluate(cid, evidence, **kwargs).verdict == verdict


@pytest.mark.parametrize("cid", [c.id for c in EVERY if c.has_data])
@pytest.mark.parametrize("verdict", PENDING)
def test_each_pending_verdict_is_reached(cid, verdict):
    r = C.evaluate(cid, _pending_evidence(C.get_claim(cid), verdict))
    assert r.verdict == verdict


def test_analysis_alone():
    """The verdicts the analysis gives today, with no measurements (each one is flipped by a
    driver above); the data parts await data."""
    got = {c.id: C.evaluate(c.id) for c in EVERY}
    analysis = {cid: (r.analysis.verdict if r.analysis else None) for cid, r in got.items()}
    assert analysis == {"1": "confirmed", "2": "confirmed", "3": None, "3a": "refuted",
                        "3a.prob": "confirmed", "3b": None, "4": "qualified", "5": None,
                        "5a": "confirmed", "5b": "refuted", "5b.prob": "confirmed",
                        "5b.logit": "refuted", "6": "qualified", "6.premise": None,
                        "7": "qualified", "8": None, "9": "qualified", "10": "confirmed"}
    for c in EVERY:
        assert (got[c.id].verdict == "awaiting data") == c.has_data, c.id


def test_consistency_rows_never_count():
    rows = [dict(LEANS, kind="consistency"), dict(NO_LEAN, kind="consistency", id="E4.null.b")]
    assert C.evaluate("3a", ev(rows)).data.verdict == "awaiting data"


def test_a_quick_run_judges_nothing_even_next_to_a_full_one():
    quick = ev([NO_LEAN], quick=True)
    both = C.Evidence(quick.reports + ev([LEANS], dataset="fashion-mnist").reports)
    assert C.evaluate("3a", quick).verdict == "not judged"
    assert C.evaluate("3a", both).data.verdict == "confirmed"     # the full report decides


def test_datasets_are_pooled():
    mixed = C.Evidence(ev([LEANS]).reports + ev([NO_LEAN], dataset="fashion-mnist").reports)
    r = C.evaluate("3a", mixed)
    assert r.data.verdict == "qualified" and r.verdict == "qualified"
    assert "mnist" in r.data.text and "fashion-mnist" in r.data.text


def test_each_blur_comparison_alone_decides_3b():
    for observations, verdict in ((AE_BCE_BLURRIER, "confirmed"), (AE_BCE_SHARPER, "refuted"),
                                  (VAE_BERN_BLURRIER, "confirmed"),
                                  (VAE_BERN_SHARPER, "refuted")):
        assert C.evaluate("3b", ev(observations=observations)).verdict == verdict
    # an undecided AE pair leaves 3b pending even when the VAE refutes it
    tied = {"blur_ratio[ae_bce]": obs(1.3, 1.2, 1.25), "blur_ratio[ae_mse]": obs(1.25, 1.26,
                                                                                  1.24)}
    assert C.evaluate("3b", ev(observations={**tied, **VAE_BERN_SHARPER})).verdict == \
        "inconclusive"


def test_claim_8_reads_only_mnist():
    fashion = ev(observations={"binary_pixel_fraction": obs(0.5)}, dataset="fashion-mnist")
    r = C.evaluate("8", fashion)
    assert r.verdict == "awaiting data" and "no report of mnist given" in r.qualification


@pytest.mark.parametrize("cid,kwargs,verdict", [
    ("1", dict(symmetric="bce"), "refuted"),
    ("2", dict(loss="continuous_bernoulli"), "refuted"),
    ("2", dict(loss="logit_mse"), "confirmed"),
    ("3a", dict(loss="mse"), "refuted"),
    ("3a", dict(loss=PULL), "refuted"),                       # biased, but away from 1/2
    ("3a", dict(loss="logit_mse"), "qualified"),               # only under logit noise
    ("3a.prob", dict(loss="mse"), "refuted"),
    ("5a", dict(loss="mae"), "refuted"),
    ("5b", dict(loss="focal"), "refuted"),
    ("6", dict(loss=PULL), "refuted"),
    ("7", dict(loss="mse", reference="bce"), "refuted"),
    ("10", dict(loss="continuous_bernoulli"), "refuted"),
    ("10", dict(loss="kl"), "confirmed"),
])
def test_analysis_follows_the_loss(cid, kwargs, verdict):
    assert C.evaluate(cid, **kwargs).analysis.verdict == verdict


def test_claim_6_needs_a_loss_biased_away():
    with pytest.raises(ValueError, match="loss"):
        C.evaluate("6", loss="focal")


def test_unknown_arguments_and_ids():
    with pytest.raises(ValueError, match="no check that takes lss"):
        C.evaluate("3", lss="focal")
    with pytest.raises(ValueError, match="claim_id"):
        C.evaluate("11")
    with pytest.raises(TypeError, match="evidence must be"):
        C.evaluate("8", {"dataset": "mnist"})


def test_evidence_is_computed():
    r3a = C.evaluate("3a").analysis.evidence
    assert r3a["point targets"]["max |argmin - y|"] <= 1e-9
    assert r3a["uncertain targets (edge pixel, weight w of 1)"]["max |p*(w) - w|"] <= 1e-9
    assert max(abs(v) for v in r3a["noise in the logit"]["E[p] - y (noise part)"]) <= 1e-9
    prob = C.evaluate("3a.prob").analysis.evidence
    y, off = np.array(prob["y"]), np.array(prob["E[p] - y (noise part)"])
    assert np.all(np.sign(off) == -np.sign(y - 0.5))            # toward 1/2 at every target
    # to leading order -sigma^2 (2y - 1)/(y (1 - y)) (noise_bias_series)
    lead = -prob["sigma"] ** 2 * (2 * y - 1) / (y * (1 - y))
    assert off == pytest.approx(lead, rel=0.05)
    ratio = C.evaluate("4").analysis.evidence["ratio kl / (2 mse) at p"]
    vals = [ratio[k] for k in sorted(ratio)]
    assert all(v > 1 for v in vals) and vals == sorted(vals)


# ---------------------------------------------------------------------------------------------
# pixels (claim 8)
# ---------------------------------------------------------------------------------------------
def test_pixel_observations():
    rng = np.random.default_rng(0)
    x = np.where(rng.random(5000) < 0.8, rng.integers(0, 2, 5000), rng.random(5000))
    o = C.pixel_observations(x.reshape(50, 100))
    f = np.mean((x <= 0.1) | (x >= 0.9))
    assert o["binary_pixel_fraction"]["values"] == [pytest.approx(f)]
    inner = x[(x > 0) & (x < 1)]
    h = np.sum(-inner * np.log(inner) - (1 - inner) * np.log(1 - inner)) / x.size
    assert o["mean_pixel_entropy"]["values"] == [pytest.approx(h, rel=1e-12)]
    rep = C.report_from_document({"study": "mnist", "quick": False, "observations": o}, "p")
    assert rep.observations["binary_pixel_fraction"].seeds == ()
    for bad in ([0.5, 1.5], [], [np.nan]):
        with pytest.raises(ValueError, match="pixels"):
            C.pixel_observations(bad)


# ---------------------------------------------------------------------------------------------
# rendering and the command line
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def everything():
    return C.evaluate_all()


def test_markdown_and_json(everything):
    lines = C.to_markdown(everything).strip().splitlines()
    assert lines[0] == "| # | Claim | Analysis | Data | Verdict | Why |"
    n = sum(len(list(top.walk())) for top in C.CLAIMS)
    assert len(lines) == 2 + n
    data = json.loads(C.to_json(everything))
    assert [d["id"] for d in data] == [str(i) for i in range(1, 11)]
    assert [d["verdict"] for d in data] == [r.verdict for r in everything]
    three = data[2]
    assert [p["id"] for p in three["parts"]] == ["3a", "3b"]
    assert three["parts"][0]["analysis"]["verdict"] == "refuted"
    assert three["parts"][0]["conditions"][0]["id"] == "3a.prob"
    assert "rows E4.null.*" in three["parts"][0]["reads"]


def _cli(argv, capsys):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(["claims", *argv])
    rc = args.func(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_reads_a_report(tmp_path, capsys):
    doc = {"study": "mnist", "quick": False, "rows": [LEANS, SGD_FASTER, ADAM_EQUAL],
           "observations": {**AE_BCE_BLURRIER, **VAE_BERN_SHARPER,
                            "binary_pixel_fraction": obs(0.913)}}
    path = tmp_path / "mnist.json"
    path.write_text(json.dumps(doc))
    rc, out, _ = _cli(["--json", "--report", str(path)], capsys)
    res = {d["id"]: d for d in json.loads(out)}
    assert rc == 0
    assert res["8"]["verdict"] == "qualified"
    assert res["7"]["verdict"] == "qualified" and res["7"]["data"]["verdict"] == "qualified"
    parts = {p["id"]: p for p in res["3"]["parts"]}
    assert parts["3a"]["verdict"] == "qualified" and parts["3b"]["verdict"] == "qualified"
    rc, out, _ = _cli(["--report", str(path)], capsys)
    assert rc == 0 and out.startswith("| # | Claim")


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_cli_runs_on_the_committed_reports(name, capsys):
    path = STUDIES / name / "report.json"
    assert path.exists(), f"studies/{name}/report.json is committed and must be there"
    rc, out, _ = _cli(["--json", "--report", str(path)], capsys)
    assert rc == 0
    res = json.loads(out)
    assert len(res) == 10 and all(r["verdict"] in C.VERDICTS for r in res)


@pytest.mark.parametrize("content,why", [(None, "does not exist"), ("{not json", "valid JSON"),
                                         ('{"study": 3, "quick": false}', "'study'")])
def test_cli_bad_report(tmp_path, capsys, content, why):
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit) as exit_:
        _cli(["--report", str(path)], capsys)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and str(path) in err and why in err


def test_main_entry_point(capsys):
    assert C.main(["--json"]) == 0
    assert json.loads(capsys.readouterr().out)[9]["id"] == "10"


def test_3b_names_every_gaussian_the_bernoulli_vae_is_compared_with():
    """Blurrier than the sigma = 1 Gaussian but sharper than the sharper ones: each comparison
    is a finding of its own, and together they qualify 3b (issue 17)."""
    gauss = {f"blur_ratio[vae_gaussian_{k}]": obs(*v) for k, v in (
        ("sigma0.1", SHARPER), ("sigma0.3", SHARPER), ("sigma0.5", MIDDLE),
        ("sigma1", [1.40, 1.41, 1.42]), ("learned", SHARPER))}
    r = C.evaluate("3b", ev(observations={**AE_BCE_BLURRIER,
                                          "blur_ratio[vae_bernoulli]": obs(*MIDDLE), **gauss}))
    named = [i["against"] for i in r.data.evidence["items"]
             if i.get("observation") == "blur_ratio[vae_bernoulli]"]
    assert sorted(named) == sorted(f"blur_ratio[vae_gaussian_{k}]" for k in
                                   ("sigma0.1", "sigma0.3", "sigma0.5", "sigma1", "learned"))
    assert r.verdict == "qualified"
