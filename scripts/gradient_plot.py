#!/usr/bin/env python3
"""`lossanalysis figure gradients` from a source checkout (the same code: lossanalysis.commands.figure).

Writes out/gradients.pdf and .png by default; the committed copy in figures/ is rewritten only
with --out figures --force.  --help lists the options.
"""
import sys

from lossanalysis.commands import figure


def main(argv=None):
    return figure.main("gradients", argv)


if __name__ == "__main__":
    sys.exit(main())
