#!/usr/bin/env python3
"""`lossanalysis derive` from a source checkout (the same code: lossanalysis.commands.derive):
every catalogue loss's derivations as a LaTeX document, out/derivations.tex by default (the
committed figures/derivations.tex is rewritten only with --out figures --force)."""
import sys

from lossanalysis.commands import derive


def main(argv=None):
    return derive.main(argv)


if __name__ == "__main__":
    sys.exit(main())
