#!/usr/bin/env python3
"""Write docs/lesson.ipynb from docs/lesson.md (lossanalysis._notebook: prose cells, the
doctest blocks as code cells with their expected outputs, solutions collapsed).

    python scripts/lesson_notebook.py            # (re)write docs/lesson.ipynb
    python scripts/lesson_notebook.py --check    # exit 1 if the committed notebook is stale

The notebook is a pure function of the Markdown, so a test regenerates it and compares; run
this after every edit of the lesson.
"""
import argparse
import sys
from pathlib import Path

from lossanalysis._cli import OneLineParser
from lossanalysis._io import atomic_write
from lossanalysis._notebook import notebook_from_markdown, notebook_json

DOCS = Path(__file__).resolve().parents[1] / "docs"


def main(argv=None) -> int:
    ap = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lesson", default=str(DOCS / "lesson.md"), metavar="FILE.md",
                    help="the Markdown lesson (default: docs/lesson.md)")
    ap.add_argument("--out", default=None, metavar="DIR",
                    help="output folder (default: the lesson's folder, docs/)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if the notebook differs from the lesson's")
    args = ap.parse_args(argv)
    lesson = Path(args.lesson)
    try:
        text = lesson.read_text(encoding="utf-8")
        notebook = notebook_json(notebook_from_markdown(text))
    except (OSError, ValueError) as err:
        ap.error(f"--lesson: {err}")
    path = Path(args.out or lesson.parent) / (lesson.stem + ".ipynb")
    if args.check:
        same = path.is_file() and path.read_text(encoding="utf-8") == notebook
        print(f"{path}: {'up to date' if same else 'stale: run scripts/lesson_notebook.py'}")
        return 0 if same else 1
    atomic_write(path, notebook)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
