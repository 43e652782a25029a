"""The claims' results as Markdown and as JSON."""
from __future__ import annotations

import json

from .claim import ClaimResult

__all__ = ["to_markdown", "to_json"]


def _cell(text) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _rows(r: ClaimResult, depth: int) -> list:
    a = r.analysis.verdict if r.analysis else "–"
    d = r.data.verdict if r.data else "–"
    lines = [f"| {'&nbsp;' * 2 * depth}{r.id} | {_cell(r.claim)} | {a} | {d} | "
             + (f"**{r.verdict}**" if depth == 0 else r.verdict)
             + f" | {_cell(r.qualification)} |"]
    for sub in r.parts + r.conditions:
        lines += _rows(sub, depth + 1)
    return lines


def to_markdown(results) -> str:
    """The results as a Markdown table: id, claim, the analysis' and the data's verdicts, the
    verdict and why; parts and conditions (reported beside a claim, not deciding it) as indented
    rows.

    Parameters
    ----------
    results : list of ClaimResult

    Returns
    -------
    str

    Examples
    --------
    >>> from lossanalysis.claims import evaluate
    >>> to_markdown([evaluate("10")]).splitlines()[2].startswith("| 10 | Even for non-binary")
    True
    """
    lines = ["| # | Claim | Analysis | Data | Verdict | Why |", "|---|---|---|---|---|---|"]
    for r in results:
        lines += _rows(r, 0)
    return "\n".join(lines) + "\n"


def to_json(results) -> str:
    """The results as a JSON array of :meth:`ClaimResult.to_dict` objects.

    Parameters
    ----------
    results : list of ClaimResult

    Returns
    -------
    str

    Examples
    --------
    >>> import json
    >>> from lossanalysis.claims import evaluate
    >>> json.loads(to_json([evaluate("10")]))[0]["verdict"]
    'confirmed'
    """
    return json.dumps([r.to_dict() for r in results], indent=2) + "\n"
