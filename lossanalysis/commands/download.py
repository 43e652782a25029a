"""``lossanalysis download NAME``: MNIST or Fashion-MNIST, every file checked against its
published MD5 sum before it is moved into place."""
from __future__ import annotations

import sys

from . import SUMMARIES
from ._common import standalone, subcommand

__all__ = ["register", "main", "run"]

DESCRIPTION = ("Fetch the four standard .gz files of a dataset into DIR/NAME/, trying the "
               "mirrors in order and checking every file against its published MD5 before "
               "moving it into place. Files already present are kept.")


def arguments(p) -> None:
    """The options of ``download``."""
    from ..data import DATASETS

    p.add_argument("name", choices=DATASETS, help="dataset to download")
    p.add_argument("--dir", default=None,
                   help="parent folder of NAME/ (default: ~/.cache/lossanalysis, which load() "
                        "searches)")
    p.add_argument("--mirror", action="append", default=None, metavar="URL",
                   help="base URL to try (repeatable; replaces $LOSSANALYSIS_MIRRORS and the "
                        "built-in list)")
    p.add_argument("--force", action="store_true", help="download even files already present")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress report")


def run(args) -> int:
    """Download; a failure (no mirror answers, a checksum differs) is one line, status 1."""
    from .. import _text
    from ..data import DatasetError, download

    try:
        folder = download(args.name, args.dir, mirrors=args.mirror, force=args.force,
                          quiet=args.quiet)
    except DatasetError as exc:
        print(f"{args.parser.prog}: error: {_text.terminal(_text.one_line(str(exc)))}",
              file=sys.stderr)
        return 1
    print(folder)
    return 0


def register(subparsers):
    """Add ``download`` to an argparse ``subparsers`` object."""
    return subcommand(subparsers, "download", help=SUMMARIES["download"],
                      description=DESCRIPTION, arguments=arguments, run=run)


def main(argv=None, prog=None) -> int:
    """``download`` on its own."""
    return standalone(argv, prog, description=DESCRIPTION, arguments=arguments, run=run)
