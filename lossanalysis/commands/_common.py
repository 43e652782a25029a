"""What every subcommand module shares: adding itself to a parser, and running on its own."""
from __future__ import annotations

import argparse

from .._cli import OneLineParser, add_columns_argument as add_columns  # noqa: F401


def subcommand(subparsers, name: str, *, help: str, description: str, arguments, run):
    """Add subcommand ``name`` to ``subparsers``: ``arguments(parser)`` adds its options, and
    the parsed namespace carries ``func`` (= ``run``) and ``parser`` (for one-line errors)."""
    p = subparsers.add_parser(name, help=help, description=description,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments(p)
    p.set_defaults(func=run, parser=p)
    return p


def standalone(argv, prog, *, description: str, arguments, run) -> int:
    """Run a subcommand on its own (a script of ``scripts/``): parse ``argv``, call ``run``."""
    ap = OneLineParser(prog=prog, description=description,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments(ap)
    args = ap.parse_args(argv)
    args.parser = ap
    return run(args)


def check_name(ap, name: str) -> None:
    """``--name`` is a file name stem: no folder, not '.' or '..'; else a one-line error."""
    import os

    if not name or name in (".", "..") or "/" in name or os.sep in name:
        ap.error(f"--name must be a file name stem without folders, got {name!r}")


def plain(doc: str) -> str:
    """A module docstring as ``--help`` text: after its first line, without reStructuredText
    markup (roles, double backquotes, the ``::`` of a literal block).

    >>> plain("First.\\nRuns :func:`x.y` on ``DATA``::\\n\\n    cmd")
    'Runs x.y on DATA:\\n\\n    cmd'
    """
    import re

    text = doc.split("\n", 1)[1].strip() if "\n" in doc else doc.strip()
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", text)
    text = text.replace("``", "").replace("::\n", ":\n")
    return text.replace("\\\\", "\\")
