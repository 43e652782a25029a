#!/usr/bin/env python3
"""Test the analysis's predictions by training the NumPy networks (experiments E1-E7).

Writes <out>/<dataset>.md (the report: header, table of predictions, measurements and computed
verdicts, the thread's claims, a section per experiment) and <out>/<dataset>.json, and the
figures.  Figures go to figures/ for the default full run, and to <out>/figures otherwise (a
quick run or another --out never overwrites the committed figures).

Examples:
  LOSSANALYSIS_DATA=../shared/data python scripts/confirm_predictions.py --dataset both
  python scripts/confirm_predictions.py --quick --out runs/quick

BLAS runs on one thread unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS is set: the networks'
matrices are small, and on a shared 2-core machine a second BLAS thread slows them down.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # before NumPy is imported

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "reports"
DEFAULT_FIGURES = ROOT / "figures"
QUICK_OUT = ROOT / "runs" / "quick"


def _positive(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def command_line(args, explicit_seeds) -> str:
    """The canonical command that reproduces the run (non-default options only)."""
    parts = ["python scripts/confirm_predictions.py", "--dataset", args.dataset]
    if explicit_seeds:
        parts += ["--seeds", str(args.seeds)]
    if args.quick:
        parts.append("--quick")
    if args.out is not None:
        parts += ["--out", args.out]
    if args.data_dir is not None:
        parts += ["--data-dir", args.data_dir]
    return " ".join(parts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=("mnist", "fashion-mnist", "both"), default="mnist",
                    help="dataset(s) to run on (default: mnist)")
    ap.add_argument("--seeds", type=_positive, default=None,
                    help="seeds per prediction (default 3; 2 with --quick, which uses at most 2)")
    ap.add_argument("--quick", action="store_true",
                    help="fewer epochs, seeds and images (smoke test, ~2 minutes per dataset)")
    ap.add_argument("--out", default=None,
                    help=f"output folder for the reports (default: reports/, or {QUICK_OUT.relative_to(ROOT)}/ "
                         "with --quick)")
    ap.add_argument("--data-dir", default=None,
                    help="folder holding the IDX files (default: the loader's search path, "
                         "e.g. $LOSSANALYSIS_DATA)")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = ap.parse_args(argv)

    from lossanalysis.data import DatasetError
    from lossanalysis.experiments.report import run_all

    explicit_seeds = args.seeds is not None
    n_seeds = args.seeds if explicit_seeds else (2 if args.quick else 3)
    if args.out is not None:
        out = Path(args.out)
    else:
        out = QUICK_OUT if args.quick else DEFAULT_OUT
    default_full = (not args.quick) and out.resolve() == DEFAULT_OUT.resolve()
    figures = DEFAULT_FIGURES if default_full else out / "figures"
    datasets = ("mnist", "fashion-mnist") if args.dataset == "both" else (args.dataset,)
    try:
        written = run_all(datasets, n_seeds=n_seeds, quick=args.quick, out_dir=str(out),
                          figures_dir=str(figures), data_dir=args.data_dir, quiet=args.quiet,
                          command=command_line(args, explicit_seeds))
    except (DatasetError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for ds, w in written.items():
        verdicts = [r.verdict for r in w["results"]]
        print(f"{ds}: {w['report']} ({verdicts.count('confirmed')} confirmed, "
              f"{verdicts.count('refuted')} refuted, {verdicts.count('inconclusive')} "
              f"inconclusive; {w['timing']['total']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
