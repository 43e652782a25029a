"""``python -m lossanalysis claims [--json] [--report FILE ...]``."""
from __future__ import annotations

import argparse
import sys

__all__ = ["main", "committed_reports"]


def committed_reports() -> list:
    """The judged single-study reports of the source checkout (``studies/*/report.json``, not
    the pair studies), or [] for an installed copy."""
    import json

    from .._io import checkout
    root = checkout()
    if root is None:
        return []
    out = []
    for path in sorted((root / "studies").glob("*/report.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("data") and not doc.get("quick"):
            out.append(str(path))
    return out


def _run_claims(args: argparse.Namespace) -> int:
    from .. import _text
    from .._cli import limits_from
    from .._limits import load_json
    from .registry import evaluate_all
    from .evidence import Evidence
    from .render import to_json, to_markdown
    try:
        limits = limits_from(args)
        paths = args.report if args.report else committed_reports()
        for path in paths:      # size and nesting bounded before it is parsed
            load_json(path, str(path), limits)
        evidence = Evidence.from_files(paths)
    except (ValueError, OSError, RecursionError, MemoryError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        args.claims_parser.error(_text.terminal(f"--report: {reason}"))
    results = evaluate_all(evidence)
    sys.stdout.write(to_json(results) if args.json else to_markdown(results))
    return 0


def register(subparsers) -> None:
    """Add the ``claims`` subcommand (``--json``, ``--report FILE``) to argparse subparsers."""
    p = subparsers.add_parser(
        "claims",
        help="the thread's claims about MSE and BCE with computed verdicts",
        description=(
            "Evaluate the claims of the Cross Validated thread on MSE vs binary cross-entropy: "
            "each by the analysis (lossanalysis.analysis) and, where it makes an empirical "
            "statement, by the measurements of experiment reports. Verdicts: confirmed, "
            "qualified, refuted; awaiting data (no report given or it lacks the rows), not "
            "judged (only quick runs), inconclusive (the measurements do not decide)."),
    )
    p.add_argument("--json", action="store_true",
                   help="print JSON (verdicts, explanations and evidence) instead of Markdown")
    p.add_argument("--report", action="append", default=None, metavar="FILE",
                   help="a study's report.json (e.g. studies/mnist/report.json) whose rows and "
                        "observations supply the data verdicts (repeatable: the reports' "
                        "measurements are pooled per claim; default: every measured study "
                        "of the source checkout)")
    from .._cli import add_limit_argument

    add_limit_argument(p)
    p.set_defaults(func=_run_claims, claims_parser=p)


def main(argv: list[str] | None = None) -> int:
    """``python -m lossanalysis.claims [--json] [--report FILE ...]``: the ``claims``
    subcommand on its own.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the command (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status (bad arguments exit with status 2 through argparse).

    Examples
    --------
    >>> import contextlib, io
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     status = main(["--json"])
    >>> status, out.getvalue().lstrip()[:1]
    (0, '[')
    """
    parser = argparse.ArgumentParser(prog="python -m lossanalysis")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register(sub)
    args = parser.parse_args(["claims", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)
