#!/usr/bin/env python3
"""Write an image set made by a documented, seeded procedure (lossanalysis.imagesets), as an
.npz with x_train and x_test, for `python -m lossanalysis study`.

  glyphs      12,000 letters and digits rendered from matplotlib's fonts (imagesets.glyphs,
              seed 2026): the first 10,000 for training, the last 2,000 for testing
  mnist-soft  MNIST's 10,000 canonical test images under x -> 0.1 + 0.8 x^0.5
              (imagesets.soft), split 8,000 / 2,000 by a permutation of seed 2026
  glyphs-soft 12,000 new glyphs (imagesets.glyphs, seed 2027) under the same map: the
              first 10,000 for training, the last 2,000 for testing

These are the image sets of the committed prospective studies (studies/glyphs/,
studies/mnist-soft/, and in the mechanism stage studies/mechanisms/glyphs-soft-*): their
registrations were committed before any network was trained on them.
"""
import sys

import numpy as np

from lossanalysis import imagesets
from lossanalysis._cli import OneLineParser

SEED = 2026


def main(argv=None) -> int:
    ap = OneLineParser(prog="make_imageset.py", description=__doc__,
                       formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    ap.add_argument("name", choices=("glyphs", "mnist-soft", "glyphs-soft"))
    ap.add_argument("--out", required=True, metavar="FILE.npz", help="the file to write")
    ap.add_argument("--data-dir", default=None,
                    help="for mnist-soft: the folder holding mnist/ (default: the loader's "
                         "search path, $LOSSANALYSIS_DATA first)")
    args = ap.parse_args(argv)
    if args.name in ("glyphs", "glyphs-soft"):
        soft = args.name == "glyphs-soft"
        x = imagesets.glyphs(12000, seed=SEED + soft,
                             progress=lambda m: print(m, file=sys.stderr, flush=True))
        x = imagesets.soft(x) if soft else x
        train, test = x[:10000], x[10000:]
    else:
        from lossanalysis.data import DatasetError, load
        try:
            x, _ = load("mnist", "test", data_dir=args.data_dir)
        except DatasetError as err:
            ap.error(str(err))
        x = imagesets.soft(x.reshape(-1, 28, 28))
        perm = np.random.default_rng(SEED).permutation(len(x))
        train, test = x[np.sort(perm[:8000])], x[np.sort(perm[8000:])]
    print(imagesets.write(args.out, train, test))
    return 0


if __name__ == "__main__":
    sys.exit(main())
