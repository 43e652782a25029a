#!/usr/bin/env python3
"""`lossanalysis train` from a source checkout (the same code: lossanalysis.commands.train):
an AE or a VAE on your images, MNIST or Fashion-MNIST.  --help lists the options."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossanalysis.commands import train  # noqa: E402


def main(argv=None):
    return train.main(argv)


if __name__ == "__main__":
    sys.exit(main())
