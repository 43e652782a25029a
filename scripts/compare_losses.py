#!/usr/bin/env python3
"""`lossanalysis compare` from a source checkout (the same code: lossanalysis.commands.compare):
one network trained with several losses from one initialization, compared side by side.
--help lists the options."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossanalysis.commands import compare  # noqa: E402


def main(argv=None):
    return compare.main(argv)


if __name__ == "__main__":
    sys.exit(main())
