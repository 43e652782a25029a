#!/usr/bin/env python3
"""Where each loss puts its optimal prediction: the point-target bias and the bias caused by
irreducible prediction noise, against the target intensity.

(a) argmin_p L(y, p) - y for every catalogue loss (the proper ones, zero, as one band);
(b) the noise-induced bias of the mean prediction, (E[p] - p*)/sigma^2, for noise in
    probability space (p = p* + c + sigma e) at two sigmas (line, circles);
(c) the same for noise in the logit (z = logit y + c + sigma e, p = sigmoid(z)).
Writes out/bias.pdf and out/bias.png by default (lossanalysis.figures.bias_figure); the
committed copy is regenerated with --out figures --force.
"""
import sys

from lossanalysis import figures


def main(argv=None):
    ap = figures.parser(__doc__, "bias", losses=figures.BIAS_LOSSES)
    ap.add_argument("--sigma-prob", type=figures.numbers, default=(0.01, 0.03),
                    help="two noise levels in probability space, each below 0.1029 "
                         "(default: 0.01,0.03)")
    ap.add_argument("--sigma-logit", type=figures.numbers, default=(0.25, 1.0),
                    help="two noise levels in the logit, in (0, 3] (default: 0.25,1.0)")
    args = ap.parse_args(argv)
    return figures.run(ap, args, lambda: figures.bias_figure(
        figures.selected_losses(args), args.sigma_prob, args.sigma_logit, columns=args.columns))


if __name__ == "__main__":
    sys.exit(main())
