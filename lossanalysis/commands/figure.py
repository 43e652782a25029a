"""``lossanalysis figure asymmetry|bias|gradients``: the analysis figures
(:mod:`lossanalysis.figures`), written as OUT/NAME.pdf and .png (default out/<kind>; the
committed copies in a checkout's figures/ are rewritten only with ``--out figures --force``).

Every kind takes ``--out``, ``--name``, ``--format pdf,png,svg``, ``--columns 1|2``,
``--losses`` and ``--loss-expr [NAME=]EXPR`` (a loss of your own, read by the safe parser,
repeatable); each figure is byte-identical when regenerated in the same environment.
"""
from __future__ import annotations

import argparse

from .. import figures
from .._cli import OneLineParser
from . import SUMMARIES
from ._common import subcommand

__all__ = ["register", "main", "KINDS"]

ASYMMETRY = """The flagship figure: how MSE and BCE (and any catalogue loss) price an error of the
same size toward 0 or 1 against toward 1/2, as a function of the target intensity.

Writes out/asymmetry.pdf and out/asymmetry.png by default (lossanalysis.figures.asymmetry_figure);
the committed copy is regenerated with --out figures --force."""

BIAS = """Where each loss puts its optimal prediction: the point-target bias and the bias caused by
irreducible prediction noise, against the target intensity.

(a) argmin_p L(y, p) - y for every catalogue loss (the proper ones, zero, as one band);
(b) the noise-induced bias of the mean prediction, (E[p] - p*)/sigma^2, for noise in
    probability space (p = p* + c + sigma e) at two sigmas (line, circles);
(c) the same for noise in the logit (z = logit y + c + sigma e, p = sigmoid(z)).
Writes out/bias.pdf and out/bias.png by default (lossanalysis.figures.bias_figure); the
committed copy is regenerated with --out figures --force."""

GRADIENTS = """What the network is told to do: gradients of each loss in the prediction and in the
logit, and the curvature at the target relative to MSE.

(a) dL/dp against the prediction p for one target y;
(b) dL/dz against the logit z (a sigmoid output p = sigmoid(z)) for the same target: BCE's
    p - y (canonical link) keeps pulling a saturated wrong output, MSE's 2 (p - y) p (1 - p)
    vanishes there;
(c) the effective weight L_pp(y, y) / L_pp of MSE against y (BCE: 1/(2 y (1 - y)), 2 at y = 1/2).
Writes out/gradients.pdf and .png by default (lossanalysis.figures.gradient_figure); the
committed copy is regenerated with --out figures --force."""


def _asymmetry(ap):
    ap.add_argument("--targets", type=figures.numbers, default=(0.1, 0.3, 0.5, 0.7, 0.9),
                    help="comma-separated target intensities in (0, 1) "
                         "(default: 0.1,0.3,0.5,0.7,0.9)")
    ap.add_argument("--deltas", type=figures.numbers, default=(0.05, 0.1, 0.2),
                    help="comma-separated step sizes in (0, 0.5) for the ratio panel, at most 4 "
                         "(default: 0.05,0.1,0.2)")
    return lambda args: figures.asymmetry_figure(
        figures.selected_losses(args), args.targets, args.deltas, columns=args.columns)


def _bias(ap):
    ap.add_argument("--sigma-prob", type=figures.numbers, default=(0.01, 0.03),
                    help="two noise levels in probability space, each below 0.1029 "
                         "(default: 0.01,0.03)")
    ap.add_argument("--sigma-logit", type=figures.numbers, default=(0.25, 1.0),
                    help="two noise levels in the logit, in (0, 3] (default: 0.25,1.0)")
    return lambda args: figures.bias_figure(
        figures.selected_losses(args), args.sigma_prob, args.sigma_logit, columns=args.columns)


def _gradients(ap):
    ap.add_argument("--target", type=float, default=0.9,
                    help="target intensity y of panels (a) and (b), in (0, 1) (default: 0.9)")
    return lambda args: figures.gradient_figure(
        figures.selected_losses(args), args.target, columns=args.columns)


#: kind -> (description, default losses, adds the kind's own options and returns its drawing)
KINDS = {
    "asymmetry": (ASYMMETRY, figures.ASYMMETRY_LOSSES, _asymmetry),
    "bias": (BIAS, figures.BIAS_LOSSES, _bias),
    "gradients": (GRADIENTS, figures.GRADIENT_LOSSES, _gradients),
}

_HELP = {"asymmetry": "an error toward 0 or 1 against one toward 1/2 (the flagship figure)",
         "bias": "where each loss puts its optimum: point targets and prediction noise",
         "gradients": "gradients in the prediction and the logit, curvature against MSE"}

DESCRIPTION = """The analysis figures, written as OUT/NAME.pdf and .png (default out/KIND; the
committed copies in a checkout's figures/ are rewritten only with --out figures --force).

Every kind takes --out, --name, --format pdf,png,svg, --columns 1|2, --losses and
--loss-expr [NAME=]EXPR (a loss of your own, read by the safe parser, repeatable); a figure
is byte-identical when regenerated in the same environment."""


def _arguments(kind):
    description, losses, own = KINDS[kind]

    def add(ap):
        figures.add_arguments(ap, kind, losses=losses)
        draw = own(ap)
        ap.set_defaults(draw=draw)
    return add


def _run(args) -> int:
    return figures.run(args.parser, args, lambda: args.draw(args))


def register(subparsers):
    """Add ``figure`` (with its kinds as subcommands) to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("figure", help=SUMMARIES["figure"],
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True,
                             parser_class=OneLineParser)
    for kind, (description, _, _) in KINDS.items():
        subcommand(kinds, kind, help=_HELP[kind],
                   description=description, arguments=_arguments(kind), run=_run)
    return p


def main(kind: str, argv=None, prog=None) -> int:
    """One kind of figure on its own (``scripts/asymmetry_plot.py``, ``bias_plot.py``,
    ``gradient_plot.py``)."""
    ap = OneLineParser(prog=prog, description=KINDS[kind][0],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments(kind)(ap)
    args = ap.parse_args(argv)
    args.parser = ap
    return _run(args)
