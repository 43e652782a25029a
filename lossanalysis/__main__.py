"""Command line: ``python -m lossanalysis COMMAND ...``, the same as the ``lossanalysis``
command that ``pip install`` puts on the PATH (:mod:`lossanalysis.commands`).

To add a subcommand, write a module of :mod:`lossanalysis.commands` with ``register(subparsers)``
and list it there.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return its status."""
    from .commands import main as run

    return run(argv, prog="python -m lossanalysis")


if __name__ == "__main__":
    sys.exit(main())
