#!/usr/bin/env python3
"""The flagship figure: how MSE and BCE (and any catalogue loss) price an error of the same size
toward 0 or 1 against toward 1/2, as a function of the target intensity.

Writes figures/asymmetry.pdf and figures/asymmetry.png by default.
"""
import argparse
import sys

from lossanalysis import LOSSES, plotting


def floats(text):
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return values


def names(text):
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = [v for v in values if v not in LOSSES]
    if unknown or not values:
        raise argparse.ArgumentTypeError(f"unknown loss(es) {unknown}; choose from "
                                         f"{', '.join(LOSSES)}")
    return values


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="figures", help="output folder (default: figures)")
    ap.add_argument("--name", default="asymmetry", help="file name stem (default: asymmetry)")
    ap.add_argument("--format", default="pdf,png",
                    help="comma-separated formats: pdf, png, svg (default: pdf,png)")
    ap.add_argument("--losses", type=names, default=("mse", "bce"),
                    help="comma-separated catalogue losses (default: mse,bce)")
    ap.add_argument("--targets", type=floats, default=(0.1, 0.3, 0.5, 0.7, 0.9),
                    help="comma-separated target intensities in (0, 1) "
                         "(default: 0.1,0.3,0.5,0.7,0.9)")
    ap.add_argument("--deltas", type=floats, default=(0.05, 0.1, 0.2),
                    help="comma-separated step sizes for the ratio panel (default: 0.05,0.1,0.2)")
    args = ap.parse_args(argv)
    if any(not 0 < t < 1 for t in args.targets):
        ap.error("--targets must lie strictly between 0 and 1")
    if any(not 0 < d < 0.5 for d in args.deltas):
        ap.error("--deltas must lie strictly between 0 and 0.5")
    formats = tuple(f.strip().lower() for f in args.format.split(",") if f.strip())
    if not formats or any(f not in ("pdf", "png", "svg") for f in formats):
        ap.error("--format takes pdf, png and/or svg")
    fig = plotting.asymmetry_figure(args.losses, args.targets, args.deltas)
    for path in plotting.save(fig, f"{args.out}/{args.name}", formats, tight=False):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
