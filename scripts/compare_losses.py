"""Train one AE (or VAE) with several losses from one initialization and compare them.

    python scripts/compare_losses.py --losses mse,bce [--model ae|vae]
        [--data PATH | --dataset mnist --data-dir ../shared/data] [--n-train 10000]
        [--epochs 5] [--out out/compare] [--columns 1|2] [--seed 0]

``--data PATH`` takes your images (anything ``lossanalysis.data.load_images`` reads); the layer
sizes follow their number of values (``lossanalysis.nn.default_layers``) unless --layers is
given, and the table and the default figure name carry the data's name.

Prints a table (test loss in each loss's unit, per-pixel MSE, mean absolute and signed error,
sharpness relative to the data) and writes a figure (PDF and PNG): reconstructions of test
images under each loss, mean signed and absolute error against the target intensity, and
sharpness.  The defaults (10 000 training images, 5 epochs) take well under a minute on one
laptop core.  The work is done by :mod:`lossanalysis.nn.compare`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossanalysis.nn.cli import (OneLineParser, add_data_arguments, load_data,  # noqa: E402
                                 positive_int)


def parse_args(argv=None):
    ap = OneLineParser(description="Train one network with several losses from one "
                                   "initialization and compare their reconstructions.")
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
    ap.add_argument("--out", default=None,
                    help="figure path without extension (writes .pdf and .png; default "
                         "compare_<data name> in the current folder)")
    ap.add_argument("--force", action="store_true",
                    help="overwrite a figure in the checkout's committed folders (figures/, ...)")
    ap.add_argument("--columns", type=int, choices=(1, 2), default=2,
                    help="figure width: 1 (3.4 in) or 2 (7.0 in) paper columns")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)
    args.loss_list = [s.strip() for s in args.losses.split(",") if s.strip()]
    if len(args.loss_list) < 2 or len(set(args.loss_list)) != len(args.loss_list):
        ap.error(f"--losses needs two or more different losses, got {args.losses!r}")
    args.layer_sizes = None
    if args.layers is not None:
        try:
            args.layer_sizes = tuple(int(s) for s in args.layers.split(","))
        except ValueError:
            ap.error(f"--layers must be comma-separated integers, got {args.layers!r}")
    return ap, args


def main(argv=None) -> int:
    ap, args = parse_args(argv)
    from lossanalysis import plotting
    from lossanalysis.nn.compare import comparison_figure, compare_losses, format_comparison

    from lossanalysis import _text
    from lossanalysis._io import check_writable, refuse_overwrite

    x_train, x_test = load_data(ap, args)
    data = args.images
    stem = Path(args.out if args.out is not None else f"compare_{data.name}")
    try:
        check_writable(stem.parent, "--out")
        refuse_overwrite([stem.with_suffix(".pdf"), stem.with_suffix(".png")], force=args.force)
    except (ValueError, FileExistsError) as err:
        ap.error(str(err))
    try:
        result = compare_losses(args.loss_list, x_train, x_test, model=args.model,
                                layers=args.layer_sizes, epochs=args.epochs,
                                batch_size=args.batch_size, seed=args.seed, bins=args.bins,
                                quiet=args.quiet, shape=data.shape)
    except ValueError as err:
        ap.error(str(err))
    s = result["settings"]
    print(f"{result['model']} on {_text.terminal(data.name)}: {s['n_train']} training and "
          f"{s['n_test']} test "
          f"images, {s['epochs']} epochs, batch {s['batch_size']}, Adam {s['lr']:g}, seed "
          f"{s['seed']}, one initialization for all losses")
    print(format_comparison(result))
    print("sharpness: mean gradient magnitude of the reconstructions over that of the test "
          "images (1 = as sharp as the data)")
    try:
        paths = plotting.save(comparison_figure(result, columns=args.columns), stem)
    except OSError as err:
        ap.error(f"--out: cannot write {str(stem)!r} ({err.strerror or err})")
    print("figure: " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
