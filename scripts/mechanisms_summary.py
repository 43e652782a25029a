#!/usr/bin/env python3
"""Write studies/mechanisms/MECHANISMS.md from the committed studies
(lossanalysis.experiments.render.mechanisms_summary): the main and pair studies in studies/
and the mechanism stage in studies/mechanisms/ (one report per data: its folders' rows and
experiments merged; its pair studies one each).  --check exits 1 when the file is out of date."""
import argparse
import sys
from pathlib import Path

from lossanalysis._io import atomic_write
from lossanalysis._limits import load_json
from lossanalysis.advise.reports import load_reports
from lossanalysis.experiments import discover
from lossanalysis.experiments.render import mechanisms_summary

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "studies" / "mechanisms" / "MECHANISMS.md"
ORDER = ("mnist", "fashion-mnist")          # the development data first, then by name


def _ordered(reports: dict) -> dict:
    key = lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n)  # noqa: E731
    return {n: reports[n] for n in sorted(reports, key=key)}


def stage_reports(folder: Path) -> dict:
    """{data: report} with the rows and experiments of every judged report of that data under
    ``folder`` merged (the stage's studies of MNIST are one folder per experiment)."""
    merged = {}
    for path in sorted(folder.glob("*/report.json")):
        doc = load_json(path, f"report {path}")
        if doc.get("quick") or not isinstance(doc.get("data"), dict):
            continue
        name = doc["study"]
        if name in merged:
            merged[name]["rows"] += doc["rows"]
            merged[name]["experiments"].update(doc["experiments"])
        else:
            merged[name] = {**doc, "rows": list(doc["rows"]),
                            "experiments": dict(doc["experiments"])}
    return merged


def pair_reports(folder: Path) -> dict:
    """{study: report} of the pair studies (E7, E17) in ``folder``."""
    docs = (load_json(p, f"report {p}") for p in sorted(folder.glob("*/report.json")))
    return {d["study"]: d for d in docs if d.get("pair") and not d.get("quick")}


def text() -> str:
    mech = ROOT / "studies" / "mechanisms"
    return mechanisms_summary(
        _ordered(load_reports(ROOT / "studies")),
        {**_ordered(stage_reports(mech)), **pair_reports(mech)},
        sorted(discover(stage="mechanisms") + discover(scope="pair", stage="mechanisms"),
               key=lambda m: int(m.LABEL[1:])),
        pair_reports(ROOT / "studies"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="only check; exit 1 if out of date")
    args = ap.parse_args(argv)
    new = text()
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != new:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run "
                  "scripts/mechanisms_summary.py", file=sys.stderr)
            return 1
        return 0
    atomic_write(TARGET, new)
    print(TARGET)
    return 0


if __name__ == "__main__":
    sys.exit(main())
