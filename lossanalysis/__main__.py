"""Command line: ``python -m lossanalysis COMMAND ...``.

Each subcommand is added by a *registrar*, a function ``_register_<command>(subparsers)``
that creates the subparser and sets ``func`` (called with the parsed arguments, returning
an exit status).  To add a subcommand, write its registrar and list it in ``_REGISTRARS``.
"""

from __future__ import annotations

import argparse
import sys

# --------------------------------------------------------------------------- download


def _run_download(args: argparse.Namespace) -> int:
    from .data import DatasetError, download

    try:
        folder = download(
            args.name, args.dir, mirrors=args.mirror, force=args.force, quiet=args.quiet
        )
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(folder)
    return 0


def _register_download(subparsers) -> None:
    from .data import DATASETS

    p = subparsers.add_parser(
        "download",
        help="download MNIST or Fashion-MNIST and verify the checksums",
        description=(
            "Fetch the four standard .gz files of a dataset into DIR/NAME/, trying the "
            "mirrors in order and checking every file against its published MD5 before "
            "moving it into place. Files already present are kept."
        ),
    )
    p.add_argument("name", choices=DATASETS, help="dataset to download")
    p.add_argument(
        "--dir",
        default=None,
        help="parent folder of NAME/ (default: ~/.cache/lossanalysis, which load() searches)",
    )
    p.add_argument(
        "--mirror",
        action="append",
        default=None,
        metavar="URL",
        help="base URL to try (repeatable; replaces $LOSSANALYSIS_MIRRORS and the built-in list)",
    )
    p.add_argument("--force", action="store_true", help="download even files already present")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress report")
    p.set_defaults(func=_run_download)


# --------------------------------------------------------------------------- claims


def _register_claims(subparsers) -> None:
    from .claims.cli import register

    register(subparsers)


# --------------------------------------------------------------------------- advise


def _register_advise(subparsers) -> None:
    from .advise.cli import register

    register(subparsers)


# --------------------------------------------------------------------------- study


def _register_study(subparsers) -> None:
    from .experiments.cli import register

    register(subparsers)


# --------------------------------------------------------------------------- entry point

_REGISTRARS = (
    _register_download,
    _register_claims,
    _register_advise,
    _register_study,
)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return its status."""
    from ._cli import OneLineParser

    parser = OneLineParser(
        prog="python -m lossanalysis",
        description="Reconstruction-loss analysis toolkit.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                       parser_class=OneLineParser)
    for register in _REGISTRARS:
        register(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
