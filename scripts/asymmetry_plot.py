#!/usr/bin/env python3
"""`lossanalysis figure asymmetry` from a source checkout (the same code: lossanalysis.commands.figure).

Writes out/asymmetry.pdf and .png by default; the committed copy in figures/ is rewritten only
with --out figures --force.  --help lists the options.
"""
import sys

from lossanalysis.commands import figure


def main(argv=None):
    return figure.main("asymmetry", argv)


if __name__ == "__main__":
    sys.exit(main())
