"""The README's numbers and verdicts are the committed reports', not typed by hand: every count,
every row verdict and every claim verdict it quotes is compared with reports/*.json and with the
claims computed from them."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ("mnist", "fashion-mnist")


def _section(title):
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def _table_rows(text):
    """The cells of every Markdown table row in text (header and rule rows included)."""
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("|")]


def _report(dataset):
    return json.loads((ROOT / "reports" / f"{dataset}.json").read_text())


def test_counts_are_the_reports():
    # in the words the reports print them (one formatter: experiments.report.count_line)
    from lossanalysis.experiments.report import count_line
    rows = {r[0]: r[1:] for r in _table_rows(_section("What the measurements say"))}
    for kind, label in (("falsifiable", "falsifiable predictions"),
                        ("consistency", "consistency checks")):
        assert rows[label] == [count_line(_report(d)["counts"][kind], quick=False)
                               for d in DATASETS]


def test_quoted_rows_have_the_reports_verdicts():
    verdicts = {d: {r["id"]: r["verdict"] for r in _report(d)["results"]} for d in DATASETS}
    quoted = [r for r in _table_rows(_section("What the measurements say"))
              if re.fullmatch(r"`E\d\.[^`]+`", r[0])]
    assert len(quoted) >= 10
    for row in quoted:
        rid = row[0].strip("`")
        assert row[2:4] == [verdicts[d][rid] for d in DATASETS], rid


def test_claim_verdicts_are_computed_from_the_reports():
    from lossanalysis.claims import evaluate_all
    from lossanalysis.claims.evidence import Evidence
    evidence = Evidence.from_files([str(ROOT / "reports" / f"{d}.json") for d in DATASETS])
    computed = {}

    def walk(result):
        computed[str(result.id)] = result.verdict
        for sub in (*(result.parts or ()), *(result.conditions or ())):
            walk(sub)

    for result in evaluate_all(evidence):
        walk(result)
    quoted = {}
    for row in _table_rows(_section("What the measurements say")):
        m = re.match(r"(\d+[a-z]?(?:\.[a-z]+)?)\. ", row[0])
        if m and len(row) == 2:
            quoted[m.group(1)] = row[1]
    assert {"1", "3a", "3b", "6", "10"} <= set(quoted)
    for claim_id, verdict in quoted.items():
        assert verdict == computed[claim_id], claim_id
