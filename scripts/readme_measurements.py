#!/usr/bin/env python3
"""Write the README's "What the measurements say" from the committed studies
(lossanalysis.experiments.render.readme_section): the single-dataset studies in studies/, the
development ones first, and the thread's claims on all of them pooled.  --check prints the
difference instead and exits 1 when the README is out of date."""
import argparse
import sys
from pathlib import Path

from lossanalysis import claims
from lossanalysis._io import atomic_write
from lossanalysis.advise.reports import load_reports
from lossanalysis.experiments.render import readme_section

ROOT = Path(__file__).resolve().parents[1]
HEAD = "## What the measurements say\n"


def section() -> str:
    reports = load_reports(ROOT / "studies")
    known = ("mnist", "fashion-mnist")
    order = sorted(reports, key=lambda n: (reports[n]["status"] != "development",
                                           known.index(n) if n in known else len(known), n))
    paths = [str(ROOT / "studies" / n / "report.json") for n in order]
    results = claims.evaluate_all(claims.Evidence.from_files(paths))
    return readme_section({n: reports[n] for n in order}, results)


def replaced(text: str, new: str) -> str:
    start = text.index(HEAD)
    end = text.find("\n## ", start + 1)
    return text[:start] + new + ("\n" + text[end + 1:] if end >= 0 else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="only check; exit 1 if out of date")
    args = ap.parse_args(argv)
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    new = replaced(text, section())
    if args.check:
        if new != text:
            print("README.md's measurement section is out of date: run "
                  "scripts/readme_measurements.py", file=sys.stderr)
            return 1
        return 0
    atomic_write(readme, new)
    print(readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
