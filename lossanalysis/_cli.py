"""The argument types every command line of the package shares.

Each type checks a value as argparse reads it; a bad value becomes argparse's one-line
``error: argument --name: ...`` with exit status 2, naming the argument.

Examples
--------
>>> import argparse
>>> ap = argparse.ArgumentParser(prog="demo")
>>> _ = ap.add_argument("--seed", type=nonnegative_int, default=0)
>>> ap.parse_args(["--seed", "3"]).seed
3
>>> numbers("0.1, 0.3")
(0.1, 0.3)
"""
from __future__ import annotations

import argparse
import math
import os

__all__ = ["positive_int", "nonnegative_int", "positive_float", "numbers", "existing_dir",
           "OneLineParser", "limit_setting", "add_limit_argument", "limits_from", "COLUMNS",
           "add_columns_argument"]

#: The default figure width of every command line, in paper columns (1: 3.4 in, 2: 7.0 in).
COLUMNS = 2


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, ``<prog>: error: <message>`` with exit
    status 2 (no usage block first: ``--help`` shows it; the message's control characters
    escaped: a file name cannot forge a line)."""

    def error(self, message):  # noqa: D401 - argparse's hook
        from . import _text
        self.exit(2, f"{self.prog}: error: {_text.terminal(_text.one_line(message))}\n")


def _typed(name, convert, ok, rule):
    def parse(text):
        try:
            value = convert(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text!r}")
        return value

    parse.__name__ = name  # argparse names the type in some messages
    return parse


#: An integer >= 1.
positive_int = _typed("positive_int", int, lambda v: v >= 1, "a positive integer")
#: An integer >= 0.
nonnegative_int = _typed("nonnegative_int", int, lambda v: v >= 0, "a non-negative integer")
#: A finite number > 0 (inf and nan are refused).
positive_float = _typed("positive_float", float, lambda v: math.isfinite(v) and v > 0,
                        "a positive finite number")


def numbers(text: str) -> tuple:
    """Comma-separated finite numbers, as a tuple of floats."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


def existing_dir(text: str) -> str:
    """A folder that exists."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"no such folder: {text!r}")
    return text


def limit_setting(text: str) -> tuple:
    """One ``--limit NAME=N`` setting (a bound of :class:`lossanalysis._limits.Limits`)."""
    from ._limits import parse_limit

    try:
        return parse_limit(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_limit_argument(ap) -> None:
    """``--limit NAME=N`` (repeatable): raise (or lower) one of the input bounds."""
    from ._limits import DEFAULT

    shown = ", ".join(f"{k}={v}" for k, v in DEFAULT.__dict__.items())
    ap.add_argument("--limit", type=limit_setting, action="append", default=[],
                    metavar="NAME=N",
                    help="raise a bound checked before any input is read (repeatable); the "
                         f"defaults: {shown}")


def limits_from(args):
    """The :class:`lossanalysis._limits.Limits` of the parsed ``--limit`` settings."""
    from ._limits import as_limits

    return as_limits(dict(getattr(args, "limit", None) or []))


def add_columns_argument(ap, what: str = "the figure") -> None:
    """``--columns 1|2``: a figure's width in paper columns, default :data:`COLUMNS` in every
    command."""
    ap.add_argument("--columns", type=int, choices=(1, 2), default=COLUMNS,
                    help=f"width of {what}: 1 (3.4 in) or 2 (7.0 in) paper columns "
                         f"(default: {COLUMNS})")
