"""Every claim, found by its module's file name (``c<NN>_<name>.py`` defining ``CLAIM``), and
their evaluation: :data:`CLAIMS`, :func:`get_claim`, :func:`evaluate`, :func:`evaluate_all`
(re-exported by :mod:`lossanalysis.claims`)."""
from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from .claim import Claim, ClaimResult
from .evidence import Evidence

__all__ = ["CLAIMS", "get_claim", "evaluate", "evaluate_all"]

_MODULE = re.compile(r"c(\d\d)_\w+$")


def _discover() -> tuple:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
                   if _MODULE.match(m.name))
    return tuple(importlib.import_module(f"{__package__}.{n}").CLAIM for n in names)


#: Every claim, in the thread's order (one module ``c<NN>_*.py`` each).
CLAIMS: tuple = _discover()


def get_claim(claim_id) -> Claim:
    """The declaration of a claim, or of one of its parts or conditions ("3a", "5b.prob").

    Parameters
    ----------
    claim_id : str or int

    Returns
    -------
    Claim

    Examples
    --------
    >>> get_claim(3).parts[1].id
    '3b'
    >>> get_claim("11")
    Traceback (most recent call last):
    ...
    ValueError: claim_id must be one of 1, 2, 3, 3a, 3a.prob, 3b, 4, 5, 5a, 5b, 5b.prob, \
5b.logit, 6, 6.premise, 7, 8, 9, 10, got '11'
    """
    cid = str(claim_id)
    every = [c for top in CLAIMS for c in top.walk()]
    for c in every:
        if c.id == cid:
            return c
    raise ValueError(f"claim_id must be one of {', '.join(c.id for c in every)}, "
                     f"got {claim_id!r}")


def evaluate(claim_id, evidence: Evidence | None = None, **kwargs) -> ClaimResult:
    """Evaluate one claim (or part), e.g. ``evaluate("10", loss="focal")``.

    Parameters
    ----------
    claim_id : str or int
        See :func:`get_claim`.
    evidence : Evidence, optional
        Measured evidence (default: none, so data parts await data).
    **kwargs
        Passed to the claim's checks that take them (the losses they are about).

    Returns
    -------
    ClaimResult

    Examples
    --------
    >>> evaluate("10").verdict, evaluate("10", loss="focal").verdict
    ('confirmed', 'refuted')
    """
    return get_claim(claim_id).evaluate(evidence, **kwargs)


def evaluate_all(evidence: Evidence | None = None) -> list:
    """Every claim with its computed verdict.

    Parameters
    ----------
    evidence : Evidence, optional
        Measured evidence, e.g. ``Evidence.from_files(["studies/mnist/report.json"])``.

    Returns
    -------
    list of ClaimResult

    Examples
    --------
    >>> [r.id for r in evaluate_all()]
    ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']
    """
    return [c.evaluate(evidence) for c in CLAIMS]
