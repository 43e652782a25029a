#!/usr/bin/env python3
"""Write the symbolic derivations of every catalogue loss as a standalone LaTeX document.

For each loss: the loss, dL/dp, dL/dz (sigmoid output), the curvature at the target and relative
to MSE, the leading odd term of L(y, y + d) - L(y, y - d), the point-target minimizer and the
sigma^2 coefficients of the noise-induced bias (lossanalysis.analysis.derivations_latex does the
work; this script only writes the file).  The output is byte-stable for a given SymPy version.
Compile with `pdflatex derivations.tex` (article class + amsmath).
"""
import argparse
import sys
from pathlib import Path

from lossanalysis import LOSSES
from lossanalysis._io import atomic_write
from lossanalysis.analysis import derivations_latex


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="figures", help="output folder (default: figures)")
    ap.add_argument("--name", default="derivations", help="file name stem (default: derivations)")
    ap.add_argument("--losses", default=",".join(LOSSES),
                    help="comma-separated catalogue losses (default: all)")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.losses.split(",") if n.strip()]
    unknown = [n for n in names if n not in LOSSES]
    if unknown or not names:
        ap.error(f"unknown loss(es) {unknown}; choose from {', '.join(LOSSES)}")
    text = derivations_latex(names)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{args.name}.tex"
    atomic_write(path, text)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
