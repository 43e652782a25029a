"""Command-line plumbing shared by ``scripts/train.py`` and ``scripts/compare_losses.py``.

Bad arguments end the program with one line, ``error: ...`` naming the argument, and exit
status 2 (:class:`OneLineParser`); the argument types below check values as they are parsed.

Examples
--------
>>> ap = OneLineParser(prog="demo")
>>> _ = ap.add_argument("--seed", type=nonnegative_int, default=0)
>>> ap.parse_args(["--seed", "3"]).seed
3
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .._cli import (OneLineParser, existing_dir, nonnegative_int, positive_float,  # noqa: F401
                    positive_int)

__all__ = ["OneLineParser", "positive_int", "nonnegative_int", "positive_float", "existing_dir",
           "add_data_arguments", "load_data"]


def add_data_arguments(ap, *, n_train: int | None = None, n_test: int | None = None) -> None:
    """``--dataset``, ``--data-dir``, ``--n-train``, ``--n-test`` and ``--seed``."""
    ap.add_argument("--dataset", default="mnist", choices=("mnist", "fashion-mnist"))
    ap.add_argument("--data-dir", type=existing_dir, default=None,
                    help="folder holding the dataset (or <dataset>/ inside it); default: "
                         "$LOSSANALYSIS_DATA or the download cache")
    ap.add_argument("--n-train", type=positive_int, default=n_train,
                    help="use only the first N training images"
                         + (f" (default {n_train})" if n_train else " (default: all)"))
    ap.add_argument("--n-test", type=positive_int, default=n_test,
                    help="use only the first N test images"
                         + (f" (default {n_test})" if n_test else " (default: all)"))
    ap.add_argument("--seed", type=nonnegative_int, default=0,
                    help="initialization, data order and VAE noise (default 0)")


def load_data(ap, args):
    """The training and test images named by the data arguments; a dataset that cannot be read,
    or one found elsewhere than the ``--data-dir`` given, is an argument error."""
    from ..data import DatasetError, find_files, load

    try:
        if args.data_dir is not None:
            root = Path(args.data_dir).resolve()
            for split in ("train", "test"):
                found = Path(find_files(args.dataset, split, args.data_dir)[0]).resolve()
                if root not in found.parents:
                    raise DatasetError(f"--data-dir {args.data_dir} holds no {args.dataset} "
                                       f"{split} files (looked in it and in its "
                                       f"{args.dataset}/ folder)")
        x_train, _ = load(args.dataset, "train", data_dir=args.data_dir)
        x_test, _ = load(args.dataset, "test", data_dir=args.data_dir)
    except (DatasetError, OSError) as err:
        ap.error(str(err).splitlines()[0] if str(err) else type(err).__name__)
    if args.n_train is not None:
        x_train = x_train[:args.n_train]
    if getattr(args, "n_test", None) is not None:
        x_test = x_test[:args.n_test]
    return x_train, x_test
