"""``lossanalysis derive``: the symbolic derivations of every catalogue loss as a standalone
LaTeX document, OUT/NAME.tex (default out/derivations.tex; the committed
figures/derivations.tex is rewritten only with ``--out figures --force``).

For each loss: the loss, dL/dp, dL/dz (sigmoid output), the curvature at the target and relative
to MSE, the leading odd term of L(y, y + d) - L(y, y - d), the point-target minimizer and the
sigma^2 coefficients of the noise-induced bias (:func:`lossanalysis.analysis.derivations_latex`
does the work).  The output is byte-stable for a given SymPy version.  Compile with
`pdflatex derivations.tex` (article class + amsmath).
"""
from __future__ import annotations

from pathlib import Path

from . import SUMMARIES
from ._common import check_name, standalone, subcommand, plain

__all__ = ["register", "main", "run"]

DESCRIPTION = plain(__doc__)


def arguments(ap) -> None:
    """The options of ``derive``."""
    from ..losses import LOSSES

    ap.add_argument("--out", default="out", metavar="DIR",
                    help="output folder (default: out; a checkout's figures/ is written only "
                         "with --force)")
    ap.add_argument("--name", default="derivations", help="file name stem (default: derivations)")
    ap.add_argument("--force", action="store_true",
                    help="overwrite the committed figures/derivations.tex")
    ap.add_argument("--losses", default=",".join(LOSSES),
                    help="comma-separated catalogue losses (default: all)")


def run(args) -> int:
    """Write the document; print its path."""
    from ..losses import LOSSES
    from .._io import atomic_write, check_writable, refuse_overwrite
    from ..analysis import derivations_latex

    ap = args.parser
    names = [n.strip() for n in args.losses.split(",") if n.strip()]
    unknown = [n for n in names if n not in LOSSES]
    if unknown or not names:
        ap.error(f"--losses: unknown loss(es) {', '.join(unknown) or '(none given)'}; choose "
                 f"from {', '.join(LOSSES)}")
    check_name(ap, args.name)
    path = Path(args.out) / f"{args.name}.tex"
    try:
        check_writable(args.out, "--out")
        refuse_overwrite([path], force=args.force)
    except (ValueError, FileExistsError) as err:
        ap.error(str(err))
    text = derivations_latex(names)
    try:
        atomic_write(path, text)
    except OSError as err:
        ap.error(f"--out: cannot write {str(path)!r} ({err.strerror or err})")
    print(path)
    return 0


def register(subparsers):
    """Add ``derive`` to an argparse ``subparsers`` object."""
    return subcommand(subparsers, "derive", help=SUMMARIES["derive"],
                      description=DESCRIPTION, arguments=arguments, run=run)


def main(argv=None, prog=None) -> int:
    """``derive`` on its own (``scripts/derive.py``)."""
    return standalone(argv, prog, description=DESCRIPTION, arguments=arguments, run=run)
