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
import warnings
from pathlib import Path

from .. import _text  # noqa: F401
from .._cli import (OneLineParser, add_limit_argument, existing_dir, limits_from,  # noqa: F401
                    nonnegative_int, positive_float, positive_int)

__all__ = ["OneLineParser", "positive_int", "nonnegative_int", "positive_float", "existing_dir",
           "add_data_arguments", "load_data"]


def _fraction(text):
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")
    return v


def add_data_arguments(ap, *, n_train: int | None = None, n_test: int | None = None) -> None:
    """``--data`` (a user's images) or ``--dataset`` and ``--data-dir``; ``--scale``,
    ``--test-fraction``, ``--limit``, ``--n-train``, ``--n-test`` and ``--seed``."""
    ap.add_argument("--data", default=None, metavar="PATH",
                    help="your images: a .npy/.npz array (N x H x W, N x H x W x C or N x D; an "
                         ".npz with x_train/x_test or train/test keeps that split), an IDX "
                         "images file, a folder of PNG/JPEG files (subfolders included) or of "
                         "IDX files; replaces --dataset")
    ap.add_argument("--dataset", default="mnist", choices=("mnist", "fashion-mnist"))
    ap.add_argument("--data-dir", type=existing_dir, default=None,
                    help="folder holding the dataset (or <dataset>/ inside it); default: "
                         "$LOSSANALYSIS_DATA or the download cache")
    ap.add_argument("--scale", type=positive_float, default=None,
                    help="--data: divide the stored values by this (default: 255 for integers "
                         "up to 255, their maximum with a warning when far below 255, 1 for "
                         "floats)")
    ap.add_argument("--test-fraction", type=_fraction, default=0.2,
                    help="--data without a test set of its own: the share drawn for testing "
                         "with --seed (default 0.2)")
    add_limit_argument(ap)
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
    or one found elsewhere than the ``--data-dir`` given, is an argument error.

    Also sets ``args.images``: a :class:`lossanalysis.data.ImageSet` describing the data (its
    name, image shape, split, scale and notes; the notes are printed as ``warning:`` lines
    unless ``--quiet``).
    """
    import sys

    from ..data import DataWarning, DatasetError, ImageSet, find_files, load, load_images

    if args.data is not None:
        if args.data_dir is not None:
            ap.error("--data and --data-dir name two sources of images; give one")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                images = load_images(args.data, scale=args.scale,
                                     test_fraction=args.test_fraction, seed=args.seed,
                                     limits=limits_from(args))
        except (ValueError, OSError) as err:
            ap.error(f"--data: {err}")
        if not getattr(args, "quiet", False):
            for note in images.notes:
                print(f"warning: {_text.terminal(note)}", file=sys.stderr)
        x_train, x_test = images.train, images.test
    else:
        if args.scale is not None:
            ap.error("--scale applies to --data only (MNIST and Fashion-MNIST are 8-bit "
                     "levels, read as v/255)")
        try:
            if args.data_dir is not None:
                root = Path(args.data_dir).resolve()
                for split in ("train", "test"):
                    found = Path(find_files(args.dataset, split, args.data_dir)[0]).resolve()
                    if root not in found.parents:
                        raise DatasetError(f"--data-dir {args.data_dir} holds no {args.dataset} "
                                           f"{split} files (looked in it and in its "
                                           f"{args.dataset}/ folder)")
            lim = limits_from(args)
            x_train, _ = load(args.dataset, "train", data_dir=args.data_dir, limits=lim)
            x_test, _ = load(args.dataset, "test", data_dir=args.data_dir, limits=lim)
        except (DatasetError, OSError) as err:
            ap.error(str(err) if str(err) else type(err).__name__)
        for arr in (x_train, x_test):
            arr.flags.writeable = False
        images = ImageSet(name=args.dataset, train=x_train, test=x_test, shape=(28, 28),
                          split="given by the files: the dataset's training and test sets",
                          source=args.dataset, scale=255.0)
    if args.n_train is not None:
        x_train = x_train[:args.n_train]
    if getattr(args, "n_test", None) is not None:
        x_test = x_test[:args.n_test]
    if len(x_test) == 0:
        ap.error("--data: no test images (the file gives none and --test-fraction is 0)")
    args.images = images
    return x_train, x_test
