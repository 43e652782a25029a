#!/usr/bin/env python3
"""The flagship figure: how MSE and BCE (and any catalogue loss) price an error of the same size
toward 0 or 1 against toward 1/2, as a function of the target intensity.

Writes out/asymmetry.pdf and out/asymmetry.png by default (lossanalysis.figures.asymmetry_figure);
the committed copy is regenerated with --out figures --force.
"""
import sys

from lossanalysis import figures


def main(argv=None):
    ap = figures.parser(__doc__, "asymmetry", losses=figures.ASYMMETRY_LOSSES)
    ap.add_argument("--targets", type=figures.numbers, default=(0.1, 0.3, 0.5, 0.7, 0.9),
                    help="comma-separated target intensities in (0, 1) "
                         "(default: 0.1,0.3,0.5,0.7,0.9)")
    ap.add_argument("--deltas", type=figures.numbers, default=(0.05, 0.1, 0.2),
                    help="comma-separated step sizes in (0, 0.5) for the ratio panel, at most 4 "
                         "(default: 0.05,0.1,0.2)")
    args = ap.parse_args(argv)
    return figures.run(ap, args, lambda: figures.asymmetry_figure(
        figures.selected_losses(args), args.targets, args.deltas, columns=args.columns))


if __name__ == "__main__":
    sys.exit(main())
