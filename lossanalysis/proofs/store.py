"""The stored certificates: ``certificates.json`` inside the package (package data), read
without SymPy or python-flint, so that the claims cite proofs without re-running them.

Each entry is a :class:`~lossanalysis.proofs.certificate.Certificate` as JSON, with the
:meth:`~lossanalysis.proofs.certificate.Statement.digest` of the statement it proves; the tests
check every digest against the current catalogue and re-verify a few cheap ones, and
``scripts/prove.py`` regenerates them.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from .certificate import Certificate

__all__ = ["PATH", "stored", "certificate", "write", "table", "explanations"]

#: The stored certificates (package data).
PATH = Path(__file__).with_name("certificates.json")


@functools.lru_cache(maxsize=None)
def _load(path: str) -> dict:
    p = Path(path)
    if not p.is_file():
        return {}
    doc = json.loads(p.read_text(encoding="utf-8"))
    return {d["id"]: Certificate.from_dict(d) for d in doc.get("certificates", [])}


def stored(path=None) -> dict:
    """{statement id: Certificate} of the stored certificates (empty if none are stored)."""
    return dict(_load(str(path or PATH)))


def certificate(statement_id: str, path=None) -> Certificate | None:
    """The stored certificate of a statement (e.g. ``"proper/bce"``), or None.

    Examples
    --------
    >>> certificate("proper/bce").verdict
    'proven'
    """
    return _load(str(path or PATH)).get(statement_id)


def write(certificates, path=None) -> Path:
    """Write certificates (an iterable of Certificate) atomically, sorted by id."""
    from .._io import atomic_write
    target = Path(path or PATH)
    doc = {"about": "certificates of lossanalysis.proofs.catalogue(); regenerate with "
                    "scripts/prove.py", "certificates": [c.to_dict() for c in
                                                         sorted(certificates,
                                                                key=lambda c: c.id)]}
    atomic_write(target, json.dumps(doc, indent=1) + "\n")
    _load.cache_clear()
    return target


_COLUMNS = (("asymmetry", "R vs 1"), ("proper", "argmin = y"),
            ("location", "argmin vs y, 1/2"), ("noise/prob", "noise in p"),
            ("noise/logit", "noise in logit"), ("canonical", "E[p] = y, any logit noise"),
            ("mean", "optimum of a mixture"), ("second-order", "claim 4"))


def table(path=None) -> str:
    """The stored verdicts as a Markdown table: one row per loss (and parameter range), one
    column per family; "–" where the statement does not apply.

    Examples
    --------
    >>> print(table().splitlines()[0][:40])
    | loss | parameters | R vs 1 | argmin =
    """
    certs = stored(path)
    rows = {}
    for c in certs.values():
        rows.setdefault((c.loss, c.parameters), {})[c.family] = c
    from ..losses import LOSSES
    order = {n: i for i, n in enumerate(LOSSES)}
    lines = ["| loss | parameters | " + " | ".join(h for _, h in _COLUMNS) + " |",
             "|---|---|" + "---|" * len(_COLUMNS)]
    for (loss, params), fam in sorted(rows.items(),
                                       key=lambda kv: (order.get(kv[0][0], 99), kv[0][1])):
        cells = []
        for key, _ in _COLUMNS:
            c = fam.get(key)
            cells.append("–" if c is None else _cell(c))
        lines.append(f"| {loss} | {params} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def explanations(path=None) -> str:
    """Why each stored undecided certificate is undecided, as a Markdown list: the prover's
    own account (:attr:`~lossanalysis.proofs.certificate.Certificate.explanation`), one item
    per certificate, sorted by id.

    Examples
    --------
    >>> explanations().splitlines()[0].startswith("Undecided")
    True
    """
    und = sorted((c for c in stored(path).values() if c.verdict == "undecided"),
                 key=lambda c: c.id)
    if not und:
        return "Undecided certificates: none (every statement is proven or disproven).\n"
    lines = [f"Undecided certificates ({len(und)}) and why, as the prover recorded it (each "
             "certificate's\n`explanation`):", ""]
    for c in und:
        lines.append(f"- `{c.id}` ({c.seconds:.0f} s): {c.explanation}")
    return "\n".join(lines) + "\n"


def _cell(c: Certificate) -> str:
    if c.verdict != "proven":
        return c.verdict
    if c.family == "asymmetry":
        return "proven " + ("> 1" if "R(y, delta) > 1" in c.words else
                            "< 1" if "R(y, delta) < 1" in c.words else "= 1")
    if c.family.startswith("noise"):
        return "proven " + ("0" if "is 0" in c.words else
                            "toward ½" if "toward 1/2" in c.words else "away from ½")
    if c.family == "location":
        return "proven " + ("between" if "between" in c.words else "farther")
    return "proven"
