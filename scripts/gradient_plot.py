#!/usr/bin/env python3
"""What the network is told to do: gradients of each loss in the prediction and in the logit,
and the curvature at the target relative to MSE.

(a) dL/dp against the prediction p for one target y;
(b) dL/dz against the logit z (a sigmoid output p = sigmoid(z)) for the same target: BCE's
    p - y (canonical link) keeps pulling a saturated wrong output, MSE's 2 (p - y) p (1 - p)
    vanishes there;
(c) the effective weight L_pp(y, y) / L_pp of MSE against y (BCE: 1/(2 y (1 - y)), 2 at y = 1/2).
Writes out/gradients.pdf and .png by default (lossanalysis.figures.gradient_figure); the
committed copy is regenerated with --out figures --force.
"""
import sys

from lossanalysis import figures


def main(argv=None):
    ap = figures.parser(__doc__, "gradients", losses=figures.GRADIENT_LOSSES)
    ap.add_argument("--target", type=float, default=0.9,
                    help="target intensity y of panels (a) and (b), in (0, 1) (default: 0.9)")
    args = ap.parse_args(argv)
    return figures.run(ap, args, lambda: figures.gradient_figure(
        figures.selected_losses(args), args.target, columns=args.columns))


if __name__ == "__main__":
    sys.exit(main())
