"""The ``lossanalysis`` command (installed by ``pip install``; also ``python -m lossanalysis``).

One parser, one subcommand per job, each with one implementation that the scripts of a source
checkout (``scripts/train.py``, ``scripts/asymmetry_plot.py``, ...) call as well:

=====================  =======================================================  ===========
command                what it does                                             writes into
=====================  =======================================================  ===========
``advise DATA``        which reconstruction loss suits a set of images          ``--out``
``study DATA``         register, then measure, the experiments on an image set  ``--out``
``claims``             the thread's claims with computed verdicts               (stdout)
``download NAME``      MNIST or Fashion-MNIST, checksums verified               ``--dir``
``train``              an AE or a VAE on your images, MNIST or Fashion-MNIST    ``--out``
``compare``            one network, several losses, one initialization          ``--out``
``figure KIND``        the analysis figures: asymmetry, bias, gradients         ``--out``
``derive``             every loss's derivations as a LaTeX document             ``--out``
=====================  =======================================================  ===========

The conventions every subcommand follows:

* ``--out`` is a folder (created when missing); a file's name inside it is fixed or given by
  ``--name``;
* a committed result of a source checkout (``figures/``, ``studies/``) is overwritten only
  with ``--force``; the defaults write elsewhere (``out/``, ``runs/``);
* ``--columns`` (a figure's width in paper columns: 1 is 3.4 in, 2 is 7.0 in) defaults to
  :data:`lossanalysis._cli.COLUMNS` (2) everywhere;
* the blur of reconstructions is the blur ratio, the data's mean gradient magnitude over the
  reconstructions' (1: as sharp as the data, above 1: blurrier);
* a bad argument or input is one line, ``<prog>: error: <message>``, with exit status 2.

Each subcommand module has ``register(subparsers)`` (adds it to a parser) and ``main(argv,
prog)`` (runs it on its own, as a script does).

Examples
--------
>>> import contextlib, io
>>> with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
...     main(["--help"], prog="lossanalysis")
>>> print(out.getvalue().splitlines()[0])
usage: lossanalysis [-h] COMMAND ...
"""
from __future__ import annotations

import sys

__all__ = ["main", "console", "parser", "COMMANDS", "SUMMARIES"]

#: The subcommands, in the order ``--help`` lists them, with the line ``--help`` shows.
SUMMARIES = {
    "advise": "which reconstruction loss suits a set of images, and why",
    "study": "register, then measure, the experiments' predictions on your images",
    "claims": "the thread's claims about MSE and BCE with computed verdicts",
    "download": "download MNIST or Fashion-MNIST and verify the checksums",
    "train": "train an AE or a VAE on your images, MNIST or Fashion-MNIST",
    "compare": "train one network with several losses from one initialization and compare them",
    "figure": "the analysis figures: asymmetry, bias, gradients",
    "derive": "every loss's derivatives, asymmetry, minimizer and noise coefficients in LaTeX",
}
COMMANDS = tuple(SUMMARIES)


def _registrar(name):
    if name == "advise":
        from ..advise.cli import register
    elif name == "study":
        from ..experiments.cli import register
    elif name == "claims":
        from ..claims.cli import register
    else:
        import importlib
        register = importlib.import_module(f"{__name__}.{name}").register
    return register


def parser(prog: str = "lossanalysis", only: str | None = None):
    """The command line's parser: every subcommand of :data:`COMMANDS`.

    ``only``: build that subcommand's options alone (the others get their one-line summary),
    so that a command imports only what it runs; ``""`` builds none (the top-level help).
    """
    from .._cli import OneLineParser

    ap = OneLineParser(prog=prog, description="Reconstruction losses characterized by "
                       "derivation and measurement: which loss for your images, and why.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True,
                            parser_class=OneLineParser)
    for name, summary in SUMMARIES.items():
        if only is None or name == only:
            _registrar(name)(sub)
        else:
            sub.add_parser(name, help=summary)
    return ap


def main(argv: list[str] | None = None, prog: str = "lossanalysis") -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    first = next((a for a in argv if not a.startswith("-")), "")
    args = parser(prog, only=first if first in SUMMARIES else "").parse_args(argv)
    return args.func(args)


def console() -> int:
    """The ``lossanalysis`` console script (``[project.scripts]`` of pyproject.toml)."""
    sys.exit(main())
