"""The ``study`` subcommand of ``python -m lossanalysis``: register, then measure, the
experiments on any image set (:mod:`.study`)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .._cli import positive_int

__all__ = ["register", "run"]


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must lie in (0, 1), got {text!r}")
    return v


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``study`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "study",
        help="register, then measure, the experiments' predictions on your images",
        description=(
            "A registered study of an image set. First `study DATA --register` computes every "
            "experiment's predictions from the images alone (nothing is trained) and writes "
            "OUT/predictions.json: commit it. Then `study DATA` trains the networks on the "
            "protocol's seeds, measures, judges each prediction and writes OUT/report.md, "
            "OUT/report.json and OUT/figures/. The run refuses without a registration, when "
            "the registration differs from its committed version, or when the images differ "
            "from the registered ones. `--quick` is a smoke test (small networks, two seeds, "
            "nothing judged) written to OUT/quick/. `study --pair A B` registers (with "
            "--register) or measures the experiments that compare two finished studies (E7) in "
            "OUT. The protocol: docs/protocol.md."),
    )
    p.add_argument("data", metavar="DATA", nargs="?",
                   help="images: an .npz with x_train/x_test (or train/test) arrays, a .npy/.npz "
                        "array of images (split with --split-seed), an IDX images file, a "
                        "folder in MNIST's IDX layout, or a folder of PNG/JPEG files")
    p.add_argument("--register", action="store_true",
                   help="write the registration (OUT/predictions.json); train nothing")
    p.add_argument("--status", choices=("prospective", "development"), default="prospective",
                   help="with --register: 'development' for data on which predictions were "
                        "revised (default: prospective)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="the study's folder (default: studies/<name of DATA>)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke test: small networks, two seeds, not judged (into OUT/quick/)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing registration or report")
    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="worker processes (default: the CPUs available)")
    p.add_argument("--scale", type=float, default=None,
                   help="divide the stored values by this (default: 255 for integers, 1 for "
                        "floats)")
    p.add_argument("--test-fraction", type=_fraction, default=0.2, metavar="F",
                   help="for a single array: the share held out as test images (default 0.2)")
    p.add_argument("--split-seed", type=int, default=0, metavar="S",
                   help="for a single array: the seed of the train/test split (default 0)")
    p.add_argument("--experiments", default=None, metavar="E1,E4",
                   help="only these experiments (default: all but the mechanism stage)")
    p.add_argument("--pair", nargs=2, default=None, metavar=("A", "B"),
                   help="instead of DATA: two study folders, compared by the pair experiments "
                        "(E7; with --mechanisms E17); --out is then required")
    p.add_argument("--mechanisms", action="store_true",
                   help="the mechanism stage: the experiments that test why others depart from "
                        "the analysis (modules with STAGE = 'mechanisms', e.g. E9), measured in "
                        "their own study folder (default: studies/mechanisms/<name of DATA>, apart "
                        "from the studies that claims and advise read)")
    p.set_defaults(func=run, parser=p)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; bad input ends in ``parser.error`` (one line, exit status 2)."""
    from ..data import DatasetError
    from ..experiments.parallel import TaskFailed, default_workers
    from . import runner, study
    from .base import Source

    parser = args.parser
    if args.pair is not None:
        return _pair(args, parser, study, runner.discover(
            runner.PACKAGE, "pair", "mechanisms" if args.mechanisms else "main"))
    if args.data is None:
        parser.error("DATA: give the images (or --pair A B for two finished studies)")
    source = Source(str(args.data), args.scale, args.test_fraction, args.split_seed)
    try:
        data = source.load()
    except (DatasetError, ValueError, OSError) as exc:
        parser.error(f"DATA: {exc}")
    for note in data.notes:
        _progress(f"note: {note}")
    stage = "mechanisms" if args.mechanisms else "main"
    exps = runner.discover(runner.PACKAGE, stage=None if args.experiments else stage)
    if args.experiments:
        wanted = [s.strip().upper() for s in args.experiments.split(",") if s.strip()]
        known = {m.LABEL: m for m in exps}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            parser.error(f"--experiments: unknown {', '.join(unknown)} (known: "
                         f"{', '.join(known)})")
        exps = [known[w] for w in known if w in wanted]
    folder = Path(args.out) if args.out else (
        Path("studies", "mechanisms") if args.mechanisms else Path("studies")) / data.name
    progress = _progress
    try:
        if args.register:
            path = study.register(data, folder, exps, status=args.status, force=args.force)
            print(path)
            return 0
        workers = args.workers or default_workers()
        done = study.run(data, folder, exps, quick=args.quick, workers=workers,
                         source=source, force=args.force, progress=progress,
                         command="python -m lossanalysis study " + " ".join(sys.argv[2:]))
    except (study.StudyError, FileExistsError, DatasetError, ValueError) as exc:
        parser.error(str(exc))
    except TaskFailed as exc:                   # a bug of an experiment, met on these data
        if os.environ.get("LOSSANALYSIS_DEBUG"):
            raise
        print(f"{parser.prog}: error: {exc} (an error in lossanalysis, please report it; "
              "no report was written; LOSSANALYSIS_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1
    print(done["report"])
    return 0


def _pair(args, parser, study, experiments) -> int:
    """--pair A B: the pair experiments ``experiments`` of the stage asked for."""
    if args.data is not None or args.out is None:
        parser.error("--pair: give two study folders and --out, and no DATA")
    try:
        if args.register:
            print(study.register_pair(*args.pair, args.out, experiments, status=args.status,
                                      force=args.force))
        else:
            print(study.run_pair(*args.pair, args.out, experiments, force=args.force,
                                 command=("python -m lossanalysis study "
                                          + " ".join(sys.argv[2:])))["report"])
    except (study.StudyError, FileExistsError, ValueError, OSError) as exc:
        parser.error(str(exc))
    return 0


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
