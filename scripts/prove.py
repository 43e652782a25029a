"""(Re)compute the stored certificates of lossanalysis.proofs: prove or disprove every statement
of the catalogue (or those named) and write lossanalysis/proofs/certificates.json.

    python scripts/prove.py                      # every statement, 60 s budget each
    python scripts/prove.py --only proper/ --only location/focal
    python scripts/prove.py --check              # are the stored ones current? (exit 1 if not)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossanalysis import _cli  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="prove.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], metavar="PREFIX",
                    help="statements whose id starts with PREFIX (repeatable; default: all)")
    ap.add_argument("--max-seconds", type=_cli.positive_float, default=60.0,
                    help="wall-time budget per statement (default 60)")
    ap.add_argument("--check", action="store_true",
                    help="only compare the stored certificates' digests with the current "
                         "statements; exit 1 if any is stale or missing")
    ap.add_argument("--out", type=Path, default=None,
                    help="write here instead of the package's certificates.json")
    args = ap.parse_args(argv)

    from lossanalysis import proofs
    from lossanalysis.proofs import store
    statements = [s for s in proofs.catalogue()
                  if not args.only or any(s.id.startswith(o) for o in args.only)]
    if not statements:
        ap.error(f"--only: no statement id starts with {', '.join(args.only)}")
    have = store.stored(args.out)
    if args.check:
        bad = [s.id for s in statements
               if s.id not in have or have[s.id].digest != s.digest()]
        for sid in bad:
            print(f"stale or missing: {sid}")
        print(f"{len(statements) - len(bad)} of {len(statements)} stored certificates current")
        return 1 if bad else 0
    try:
        proofs.require_flint()
    except ImportError as err:
        ap.error(str(err))
    for k, s in enumerate(statements, 1):
        print(f"[{k}/{len(statements)}] {s.id} ...", end=" ", flush=True)

        def progress(boxes, open_boxes, seconds):
            print(f"({boxes} boxes, {open_boxes} open, {seconds:.0f} s)", end=" ", flush=True)

        c = proofs.prove(s, max_seconds=args.max_seconds, progress=progress)
        have[s.id] = c
        print(f"{c.verdict}: {c.boxes} boxes, depth {c.depth}, {c.seconds:.1f} s", flush=True)
        if c.explanation:
            print(f"    why undecided: {c.explanation}", flush=True)
    current = {s.id for s in proofs.catalogue()}
    path = store.write([c for sid, c in have.items() if sid in current], args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
