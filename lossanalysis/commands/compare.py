"""``lossanalysis compare``: one AE (or VAE) trained with several losses from one
initialization, compared side by side (:func:`lossanalysis.nn.compare.compare_losses`)::

    lossanalysis compare --losses mse,bce [--model ae|vae]
        [--data PATH | --dataset mnist --data-dir DIR] [--n-train 10000] [--epochs 5]
        [--out out] [--name STEM] [--columns 1|2] [--seed 0]

``--data PATH`` takes your images (anything ``lossanalysis.data.load_images`` reads); the layer
sizes follow their number of values (``lossanalysis.nn.default_layers``) unless --layers is
given, and the table and the default figure name carry the data's name.

Prints a table (test loss in each loss's unit, per-pixel MSE, mean absolute and signed error,
blur ratio) and writes OUT/NAME.pdf and .png (default out/compare_<data name>):
reconstructions of test images under each loss, mean signed and absolute error against the
target intensity, and the blur ratio (the test images' mean gradient magnitude over the
reconstructions': 1 = as sharp as the data, above 1 = blurrier).  A committed figure (in a
checkout's figures/) is overwritten only with --force.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..nn.cli import add_data_arguments, load_data, positive_int
from . import SUMMARIES
from ._common import add_columns, standalone, subcommand, plain

__all__ = ["register", "main", "run"]

DESCRIPTION = plain(__doc__)


def arguments(ap) -> None:
    """The options of ``compare``."""
    ap.add_argument("--losses", default="mse,bce",
                    help="comma-separated catalogue losses (VAE: also likelihood names); "
                         "default mse,bce")
    ap.add_argument("--model", choices=("ae", "vae"), default="ae")
    ap.add_argument("--layers", default=None,
                    help="comma-separated layer sizes (default: AE D,512,128,32 and VAE "
                         "D,400,20 for D >= 784 values, scaled down with D for smaller images)")
    add_data_arguments(ap, n_train=10000, n_test=2000)
    ap.add_argument("--epochs", type=positive_int, default=5)
    ap.add_argument("--batch-size", type=positive_int, default=128)
    ap.add_argument("--bins", type=positive_int, default=10,
                    help="target-intensity bins of the error curves")
    ap.add_argument("--out", default="out", metavar="DIR",
                    help="output folder (default: out; a checkout's figures/ is written only "
                         "with --force)")
    ap.add_argument("--name", default=None,
                    help="file name stem of the figure (default: compare_<data name>)")
    ap.add_argument("--force", action="store_true",
                    help="overwrite a figure in a checkout's committed folders (figures/, ...)")
    add_columns(ap)
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _losses(ap, text):
    names = [s.strip() for s in text.split(",") if s.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        ap.error(f"--losses needs two or more different losses, got {text!r}")
    return names


def _layers(ap, text):
    if text is None:
        return None
    try:
        return tuple(int(s) for s in text.split(","))
    except ValueError:
        ap.error(f"--layers must be comma-separated integers, got {text!r}")


def _safe(name: str) -> str:
    """A data name as part of a file name: runs of other characters than letters, digits, '_',
    '-' and '.' become one '_'."""
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "data"


def run(args) -> int:
    """Train, print the table, write the figure; return the exit status."""
    from .. import _text, plotting
    from .._io import check_writable, refuse_overwrite
    from ..nn.compare import compare_losses, comparison_figure, format_comparison
    from ._common import check_name

    ap = args.parser
    losses = _losses(ap, args.losses)
    layers = _layers(ap, args.layers)
    if args.name is not None:
        check_name(ap, args.name)
    try:
        check_writable(args.out, "--out")
    except ValueError as err:
        ap.error(str(err))
    x_train, x_test = load_data(ap, args)
    data = args.images
    stem = Path(args.out) / (args.name or "compare_" + _safe(data.name))
    try:
        refuse_overwrite([stem.with_suffix(".pdf"), stem.with_suffix(".png")], force=args.force)
    except FileExistsError as err:
        ap.error(str(err))
    try:
        result = compare_losses(losses, x_train, x_test, model=args.model, layers=layers,
                                epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                                bins=args.bins, quiet=args.quiet, shape=data.shape)
    except ValueError as err:
        ap.error(str(err))
    s = result["settings"]
    print(f"{result['model']} on {_text.terminal(data.name)}: {s['n_train']} training and "
          f"{s['n_test']} test images, {s['epochs']} epochs, batch {s['batch_size']}, Adam "
          f"{s['lr']:g}, seed {s['seed']}, one initialization for all losses")
    print(format_comparison(result))
    print("blur ratio: mean gradient magnitude of the test images over that of their "
          "reconstructions (1 = as sharp as the data, above 1 = blurrier)")
    try:
        paths = plotting.save(comparison_figure(result, columns=args.columns), stem)
    except OSError as err:
        ap.error(f"--out: cannot write {str(stem)!r} ({err.strerror or err})")
    print("figure: " + ", ".join(str(p) for p in paths))
    sys.stdout.flush()
    return 0


def register(subparsers):
    """Add ``compare`` to an argparse ``subparsers`` object."""
    return subcommand(subparsers, "compare", help=SUMMARIES["compare"],
                      description=DESCRIPTION, arguments=arguments, run=run)


def main(argv=None, prog=None) -> int:
    """``compare`` on its own (``scripts/compare_losses.py``)."""
    return standalone(argv, prog, description=DESCRIPTION, arguments=arguments, run=run)
