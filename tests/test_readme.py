"""The README's measurement section quotes the committed studies, never typed numbers: every row
verdict and every claim verdict it quotes is compared with studies/*/report.json and with the
claims computed from them."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _section(title):
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def _table_rows(text):
    """The cells of every Markdown table row in text (header and rule rows included)."""
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("|")]


def _reports():
    """{study: report} of every measured study."""
    out = {}
    for path in sorted((ROOT / "studies").glob("*/report.json")):
        doc = json.loads(path.read_text())
        out[doc["study"]] = doc
    return out


def _columns():
    """The studies the measurement tables quote, from the header of the first table."""
    rows = _table_rows(_section("What the measurements say"))
    return [c.strip("`") for c in rows[0][1:]] if rows else []


def test_the_section_states_the_protocol():
    text = _section("What the measurements say")
    assert "docs/protocol.md" in text and "development" in text and "prospective" in text


def test_quoted_rows_have_the_studies_verdicts():
    reports = _reports()
    columns = _columns()
    quoted = [r for r in _table_rows(_section("What the measurements say"))
              if re.fullmatch(r"`E\d\.[^`]+`", r[0])]
    for row in quoted:
        rid = row[0].strip("`")
        for study, cell in zip(columns[1:], row[2:]):
            verdicts = {r["id"]: r["verdict"] for r in reports[study]["rows"]}
            assert cell.split(" ")[0] == verdicts[rid].split(" ")[0], (rid, study)
