#!/usr/bin/env python3
"""Test the analysis's predictions by training the NumPy networks (experiments E1-E8).

Register first, then measure:

  python scripts/confirm_predictions.py --register --dataset both
      computes every prediction from the analysis and the data (nothing is trained) and writes
      predictions/<dataset>.json (value, tolerance, comparison, kind, seeds);
  python scripts/confirm_predictions.py --dataset both
      trains and measures, judges each prediction from the seeds' 95% interval, compares it with
      the registration and writes reports/<dataset>.md and .json and the figures.

Figures go to figures/ for the default full run and to <out>/figures otherwise (a quick run or
another --out never overwrites the committed figures).  The work runs in --workers processes
(default: the CPU count), each with one BLAS thread; the results do not depend on the count.

Examples:
  LOSSANALYSIS_DATA=../shared/data python scripts/confirm_predictions.py --dataset both
  python scripts/confirm_predictions.py --quick --out runs/quick
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # before NumPy is imported

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lossanalysis._cli import nonnegative_int, positive_int  # noqa: E402

DEFAULT_OUT = ROOT / "reports"
DEFAULT_FIGURES = ROOT / "figures"
DEFAULT_PREDICTIONS = ROOT / "predictions"
QUICK_OUT = ROOT / "runs" / "quick"


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=("mnist", "fashion-mnist", "both"), default="mnist",
                    help="dataset(s) to run on (default: mnist)")
    ap.add_argument("--register", action="store_true",
                    help="write the predictions to --predictions and stop (nothing is trained)")
    ap.add_argument("--seeds", type=positive_int, default=None,
                    help="seeds per experiment (default 3; --quick uses at most 2)")
    ap.add_argument("--base-seed", type=nonnegative_int, default=None,
                    help="the first seed (default 3: seeds 3, 4, 5; the registered rule adds the "
                         "next ones where a falsifiable row is inconclusive)")
    ap.add_argument("--quick", action="store_true",
                    help="smaller networks, fewer seeds and images: a smoke test, not judged")
    ap.add_argument("--workers", type=positive_int, default=None,
                    help="worker processes (default: the CPU count; 1 runs in this process)")
    ap.add_argument("--out", default=None,
                    help="output folder for the reports (default: reports/, or "
                         f"{QUICK_OUT.relative_to(ROOT)}/ with --quick)")
    ap.add_argument("--predictions", default=None,
                    help="folder of the registration files (default: predictions/)")
    ap.add_argument("--data-dir", default=None,
                    help="folder holding the IDX files (default: the loader's search path, "
                         "e.g. $LOSSANALYSIS_DATA)")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return ap


def seed_lists(n, base):
    """(seeds, extra seeds): n seeds from base, and as many more after them."""
    seeds = tuple(range(base, base + n))
    return seeds, tuple(range(base + n, base + 2 * n))


def command_line(args) -> str:
    """The canonical command that reproduces the run (non-default options only)."""
    parts = ["python scripts/confirm_predictions.py", "--dataset", args.dataset]
    if args.register:
        parts.append("--register")
    if args.seeds is not None:
        parts += ["--seeds", str(args.seeds)]
    if args.base_seed is not None:
        parts += ["--base-seed", str(args.base_seed)]
    if args.quick:
        parts.append("--quick")
    for flag, value in (("--out", args.out), ("--predictions", args.predictions),
                        ("--data-dir", args.data_dir)):
        if value is not None:
            parts += [flag, value]
    return " ".join(parts)


def main(argv=None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if args.register and args.quick:
        ap.error("--register registers the full run; it cannot be combined with --quick")
    if args.register and args.out is not None:
        ap.error("--register writes to --predictions, not --out")

    from lossanalysis.data import DatasetError
    from lossanalysis.experiments import report
    from lossanalysis.experiments.core import DEFAULT_SEEDS

    n = args.seeds if args.seeds is not None else (2 if args.quick else len(DEFAULT_SEEDS))
    seeds, extra = seed_lists(n, DEFAULT_SEEDS[0] if args.base_seed is None else args.base_seed)
    datasets = ("mnist", "fashion-mnist") if args.dataset == "both" else (args.dataset,)
    predictions = Path(args.predictions) if args.predictions else DEFAULT_PREDICTIONS
    try:
        if args.register:
            written = report.register(datasets, seeds=seeds, extra_seeds=extra,
                                      out_dir=str(predictions), data_dir=args.data_dir,
                                      quiet=args.quiet, workers=args.workers)
            for ds, w in written.items():
                print(f"{ds}: {w['path']} ({w['predictions']} predictions, SHA-256 "
                      f"{w['sha256']})")
            return 0
        out = Path(args.out) if args.out is not None else (QUICK_OUT if args.quick
                                                           else DEFAULT_OUT)
        default_full = (not args.quick) and out.resolve() == DEFAULT_OUT.resolve()
        figures = DEFAULT_FIGURES if default_full else out / "figures"
        written = report.run_all(datasets, seeds=seeds, extra_seeds=extra, quick=args.quick,
                                 out_dir=str(out), figures_dir=str(figures),
                                 data_dir=args.data_dir, quiet=args.quiet,
                                 command=command_line(args), workers=args.workers,
                                 registration_dir=str(predictions))
    except (DatasetError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for ds, w in written.items():
        c = report.counts(w["rows"])
        if w["quick"]:
            verdicts = "smoke test: not judged"
        else:
            verdicts = (f"falsifiable: {report.count_line(c['falsifiable'], False)}; "
                        f"consistency: {report.count_line(c['consistency'], False)}")
        print(f"{ds}: {w['report']} ({verdicts}; {w['wall_time']:.0f} s, {w['workers']} "
              "workers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
