"""Tests of lossanalysis.claims' verdict rules and evidence: the report's structured fields only."""
from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from lossanalysis.claims import evidence as E
from lossanalysis.claims import verdicts as V


# ---------------------------------------------------------------------------------------------
# the rules, against their tables
# ---------------------------------------------------------------------------------------------
_COMBINE = {  # (analysis, data) -> verdict: the table of combine's docstring
    ("confirmed", "confirmed"): "confirmed", ("confirmed", "qualified"): "qualified",
    ("confirmed", "refuted"): "refuted", ("qualified", "confirmed"): "qualified",
    ("qualified", "qualified"): "qualified", ("qualified", "refuted"): "refuted",
    ("refuted", "confirmed"): "qualified", ("refuted", "qualified"): "qualified",
    ("refuted", "refuted"): "refuted"}


def test_combine_table():
    for (a, d), want in _COMBINE.items():
        assert V.combine(a, d) == want, (a, d)
    for a, d in itertools.product(V.DECIDED, V.PENDING):
        assert V.combine(a, d) == d                      # pending data: the verdict waits
    for v in V.DECIDED:
        assert V.combine(v, None) == v and V.combine(None, v) == v
    assert V.combine(None, "not judged") == "not judged"
    with pytest.raises(ValueError, match="analysis"):
        V.combine("awaiting data", "confirmed")
    with pytest.raises(ValueError, match="data"):
        V.combine("confirmed", "true")


def test_pool():
    assert V.pool([]) == "awaiting data"
    assert V.pool(["not judged", "not judged"]) == "not judged"
    for v in V.DECIDED:
        assert V.pool([v, v, "not judged"]) == v        # quick runs are no evidence
        assert V.pool([v, "inconclusive"]) == "inconclusive"
    assert V.pool(["confirmed", "refuted"]) == "qualified"
    assert V.pool(["confirmed", "refuted", "inconclusive"]) == "qualified"   # settled either way
    assert V.pool(["inconclusive"]) == "inconclusive"
    with pytest.raises(ValueError, match="verdicts"):
        V.pool(["yes"])


def test_conjoin():
    assert V.conjoin(["refuted", "awaiting data"]) == "refuted"
    assert V.conjoin(["confirmed", "confirmed"]) == "confirmed"
    assert V.conjoin(["confirmed", "qualified"]) == "qualified"
    assert V.conjoin(["confirmed", "inconclusive"]) == "inconclusive"
    assert V.conjoin(["inconclusive", "not judged", "awaiting data"]) == "awaiting data"
    with pytest.raises(ValueError, match="at least one"):
        V.conjoin([])


# ---------------------------------------------------------------------------------------------
# loading reports
# ---------------------------------------------------------------------------------------------
def _row(id_, verdict, mean=0.0, value=0.0, comparison="equal", kind="falsifiable", half=0.02,
         **kw):
    """A row as a study report writes it (its interval mean +- half)."""
    m = float(mean) if not isinstance(mean, str) else float("nan")
    return dict({"id": id_, "experiment": id_.split(".")[0], "statement": "", "quantity": "",
                 "rule": "intensity", "kind": kind, "comparison": comparison, "value": value,
                 "tolerance": 0.01, "mean": mean, "measurements": [mean, mean],
                 "seeds": [0, 1], "sd": 0.0,
                 "interval": None if m != m else [m - half, m + half], "verdict": verdict,
                 "effect": 0.0, "detected": False}, **kw)


def _doc(rows=(), observations=None, dataset="mnist", quick=False):
    return {"study": dataset, "quick": quick, "rows": list(rows),
            "observations": observations if observations is not None else {}}


def test_load_a_report(tmp_path):
    doc = _doc([_row("E4.null.lean", "refuted", mean=0.05),
                _row("E4.null.nan", "inconclusive", mean="nan")],
               {"blur_ratio[ae_bce]": {"values": [1.3, 1.2], "seeds": [0, 1], "unit": "ratio"}})
    path = tmp_path / "mnist.json"
    path.write_text(json.dumps(doc))
    rep = E.load_report(path)
    assert (rep.source, rep.dataset, rep.quick, rep.note) == (str(path), "mnist", False, "")
    assert [r.id for r in rep.rows] == ["E4.null.lean", "E4.null.nan"]
    assert rep.rows[0].side() == "above" and rep.rows[0].mean == 0.05
    assert math.isnan(rep.rows[1].mean) and rep.rows[1].side() is None
    o = rep.observations["blur_ratio[ae_bce]"]
    assert (o.values, o.seeds) == ((1.3, 1.2), (0, 1))


@pytest.mark.parametrize("doc,why", [
    ([1, 2], "not a JSON object"),
    ({"quick": False}, "'study'"),
    ({"study": "mnist", "quick": "no"}, "'quick'"),
    ({"study": "mnist", "quick": False, "rows": {}}, "'rows' that is not a list"),
    (_doc([{"id": "E1.a", "kind": "falsifiable", "comparison": "equal", "value": 1.0,
            "rule": "intensity"}]), "no 'verdict' in rows\\[0\\]"),
    (_doc([_row("E1.a", "maybe")]), "rows\\[0\\] \\(E1.a\\).*verdict must be one of"),
    (_doc([_row("E1.a", "confirmed", kind="check")]), "kind must be one of"),
    (_doc([_row("E1.a", "confirmed", comparison="near")]), "comparison must be one of"),
    (_doc([_row("E1.a", "confirmed", value="1")]), "non-numeric value"),
    (_doc([_row("E1.a", "confirmed", rule="a quarter")]), "unknown tolerance rule"),
    (_doc([_row("E1.a", "confirmed", interval=[1.0])]), "interval"),
    (_doc([_row("E1.a", "confirmed"), _row("E1.a", "refuted")]), "two rows with the id 'E1.a'"),
    (_doc(observations={"x": {"values": [1.0], "seeds": [0, 1]}}), "seeds do not match"),
    (_doc(observations={"x": {"values": []}}), "no values"),
    (_doc(observations={"x": {"values": [1.0], "seeds": [[0]]}}), "seed that is not"),
    (_doc(observations={"x": {"seeds": []}}), "without 'values'"),
    (_doc(observations={"x": {"values": [True]}}), "non-numeric"),
])
def test_malformed_reports(doc, why):
    with pytest.raises(ValueError, match=why) as err:
        E.report_from_document(doc, "bad.json")
    assert "bad.json" in str(err.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        E.load_report(tmp_path / "none.json")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        E.load_report(tmp_path / "x.json")
    (tmp_path / "b.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="cannot be read"):
        E.load_report(tmp_path / "b.json")


# ---------------------------------------------------------------------------------------------
# readers
# ---------------------------------------------------------------------------------------------
def test_row_side():
    def side(verdict, comparison, mean, value=0.0, half=0.5):
        doc = _doc([_row("E.x", verdict, mean, value, comparison, half=half)])
        return E.report_from_document(doc, "t").rows[0].side()
    assert side("refuted", "equal", 0.2) == "above" and side("refuted", "equal", -0.2) == "below"
    assert side("refuted", "at_most", -5.0) == "above"     # an at_most row fails only above
    assert side("refuted", "at_least", 5.0) == "below"
    assert side("confirmed", "equal", 0.2) is None and side("refuted", "equal", math.nan) is None
    # a confirmed row whose interval excludes the prediction has a side: its detected effect
    assert side("confirmed", "equal", 0.003, half=0.001) == "above"


def test_rows_reader_maps_each_outcome():
    rows = E.Rows("E4.null.*", confirmed="refuted", above="confirmed", below="qualified")
    rep = E.report_from_document(_doc([
        _row("E4.null.a", "confirmed"), _row("E4.null.b", "refuted", mean=0.5),
        _row("E4.null.c", "refuted", mean=-0.5), _row("E4.null.d", "inconclusive"),
        _row("E4.null.e", "not judged"), _row("E4.null.f", "refuted", mean=0.5,
                                              kind="consistency"),
        _row("E4.other", "refuted", mean=0.5)]), "t")
    found = rows.read(rep)
    assert [f.evidence["row"] for f in found] == ["E4.null.a", "E4.null.b", "E4.null.c",
                                                  "E4.null.d", "E4.null.e"]
    assert [f.verdict for f in found] == ["refuted", "confirmed", "qualified", "inconclusive",
                                          "not judged"]
    assert "E4.null.b" in found[1].text and "above" in found[1].text


def test_rows_reader_reads_the_effect_of_a_confirmed_row():
    """A lean predicted 0 and confirmed within the tolerance, with an interval that excludes 0,
    is a small lean: the reader says so (issue 17: claims read the effect)."""
    rep = E.report_from_document(_doc([
        _row("E4.null.small", "confirmed", mean=0.003, half=0.001),
        _row("E4.null.none", "confirmed", mean=0.0005, half=0.002),
        _row("E4.null.na", "not applicable", mean="nan", applicable="no grey pixels"),
        _row("E4.null.derived", "refuted", mean=0.5, kind="derived")]), "t")
    found = E.AE_LEAN.read(rep)
    assert [(f.evidence["row"], f.verdict) for f in found] == [
        ("E4.null.small", "qualified"), ("E4.null.none", "refuted")]
    assert "effect detected" in found[0].text


def test_rows_reader_exclusion():
    rows = E.Rows("E8.*.prob.*", exclude="E8.vae.*", confirmed="confirmed", above="qualified",
                  below="refuted")
    rep = E.report_from_document(_doc([
        _row("E8.ae.prob.y", "confirmed"),
        _row("E8.vae.prob.y", "refuted", mean=-1.0)]), "t")
    found = rows.read(rep)
    assert [f.evidence["row"] for f in found] == ["E8.ae.prob.y"]
    with pytest.raises(ValueError, match="CONTRACT"):
        E.Rows("E99.*", confirmed="confirmed", above="refuted", below="refuted")
    with pytest.raises(ValueError, match="above"):
        E.Rows("E4.null.*", confirmed="confirmed", above="up", below="refuted")


def test_mean_interval_against_the_t_table():
    # with 2 degrees of freedom the t quantile has the closed form (2q - 1) / sqrt(2 q (1 - q))
    q = 0.975
    t2 = (2 * q - 1) / math.sqrt(2 * q * (1 - q))                 # 4.3027 (two-sided 95%)
    m, lo, hi = E.mean_interval([1.0, 2.0, 3.0])
    assert m == 2.0
    assert lo == pytest.approx(2 - t2 / math.sqrt(3), rel=1e-12)
    assert hi == pytest.approx(2 + t2 / math.sqrt(3), rel=1e-12)
    m, lo, hi = E.mean_interval([5.0])
    assert m == 5.0 and math.isnan(lo) and math.isnan(hi)
    with pytest.raises(ValueError, match="level"):
        E.mean_interval([1.0, 2.0], level=1.5)
    with pytest.raises(ValueError, match="values"):
        E.mean_interval([])


def _obs(values, seeds=None):
    return {"values": list(values), "seeds": list(range(len(values)) if seeds is None
                                                   else seeds), "unit": "ratio"}


@pytest.mark.parametrize("a,b,verdict", [
    ([1.30, 1.31, 1.29], [1.20, 1.22, 1.21], "confirmed"),
    ([1.20, 1.22, 1.21], [1.30, 1.31, 1.29], "refuted"),
    ([1.30, 1.20, 1.25], [1.25, 1.26, 1.24], "inconclusive"),
    ([1.30], [1.20], "inconclusive"),                 # one seed: no interval
])
def test_exceeds(a, b, verdict):
    rep = E.report_from_document(_doc(observations={"blur_ratio[ae_bce]": _obs(a),
                                                    "blur_ratio[ae_mse]": _obs(b)}), "t")
    [f] = E.Exceeds("blur_ratio[ae_bce]", "blur_ratio[ae_mse]").read(rep)
    assert f.verdict == verdict
    d = np.subtract(a, b)
    assert f.evidence["differences"] == pytest.approx(d.tolist())
    if len(d) > 1:
        assert (f.evidence["interval"][0] > 0) == (verdict == "confirmed")
        assert (f.evidence["interval"][1] < 0) == (verdict == "refuted")


def test_exceeds_pairs_by_seed_and_against_a_constant():
    rep = E.report_from_document(_doc(observations={
        "blur_ratio[ae_bce]": _obs([1.3, 1.4, 1.5], seeds=[0, 1, 2]),
        "blur_ratio[ae_mse]": _obs([1.2, 1.3], seeds=[2, 1])}), "t")
    [f] = E.Exceeds("blur_ratio[ae_bce]", "blur_ratio[ae_mse]").read(rep)
    assert f.evidence["seeds"] == [1, 2]
    assert f.evidence["differences"] == pytest.approx([1.4 - 1.3, 1.5 - 1.2])
    [g] = E.Exceeds("blur_ratio[ae_mse]", 1.0).read(rep)
    assert g.evidence["differences"] == pytest.approx([0.2, 0.3])
    assert g.verdict == "inconclusive"          # two seeds: t(0.975, 1) = 12.7 makes it wide
    assert E.Exceeds("blur_ratio[vae_bernoulli]", 1.0).read(rep) == []   # not measured
    rep = E.report_from_document(_doc(observations={
        "blur_ratio[ae_mse]": _obs([0.9, 0.91, 0.92])}), "t")
    [g] = E.Exceeds("blur_ratio[ae_mse]", 1.0).read(rep)
    assert g.verdict == "refuted" and g.evidence["interval"][1] < 0


def test_evidence_from_documents_labels_sources():
    ev = E.Evidence.from_documents([_doc(), _doc(dataset="fashion-mnist")])
    assert [r.source for r in ev.reports] == ["document 1", "document 2"]
    assert [r.dataset for r in ev.reports] == ["mnist", "fashion-mnist"]
