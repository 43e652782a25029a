#!/usr/bin/env python3
"""Write studies/mechanisms/MECHANISMS.md from the committed studies
(lossanalysis.experiments.render.mechanisms_summary): the main and pair studies in studies/
and the mechanism stage in studies/mechanisms/ (one report per data: its folders' rows and
experiments merged; its pair studies one each); and render each main and pair study's
report.md again from its report.json, with what the mechanism stage found about its departures
(render.mechanism_notes).  --check exits 1 when the file is out of date."""
import argparse
import sys
from pathlib import Path

from lossanalysis._io import atomic_write
from lossanalysis._limits import load_json
from lossanalysis.advise.reports import load_reports
from lossanalysis.experiments import discover
from lossanalysis.experiments.render import markdown, mechanism_notes, mechanisms_summary

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


def _inputs():
    mech = ROOT / "studies" / "mechanisms"
    return (_ordered(load_reports(ROOT / "studies")),
            {**_ordered(stage_reports(mech)), **pair_reports(mech)},
            sorted(discover(stage="mechanisms") + discover(scope="pair", stage="mechanisms"),
                   key=lambda m: int(m.LABEL[1:])),
            pair_reports(ROOT / "studies"))


def text() -> str:
    return mechanisms_summary(*_inputs())


def reports() -> dict:
    """{path: text}: each main and pair study's report.md, rendered from its report.json with
    the mechanism stage's notes on its departures (render.mechanism_notes)."""
    studies, stage, modules, pairs = _inputs()
    out = {}
    for name, doc in {**studies, **pairs}.items():
        out[ROOT / "studies" / name / "report.md"] = markdown(
            doc, mechanism_notes(doc, stage.get(name), modules))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="only check; exit 1 if out of date")
    args = ap.parse_args(argv)
    wanted = {TARGET: text(), **reports()}
    if args.check:
        stale = [p for p, t in wanted.items()
                 if not p.exists() or p.read_text(encoding="utf-8") != t]
        for p in stale:
            print(f"{p.relative_to(ROOT)} is out of date: run scripts/mechanisms_summary.py",
                  file=sys.stderr)
        return 1 if stale else 0
    for p, t in wanted.items():
        atomic_write(p, t)
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
