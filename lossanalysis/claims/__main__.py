"""``python -m lossanalysis.claims``: the same as ``python -m lossanalysis claims``."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
