"""The Cross Validated thread's claims about MSE and BCE, each with a computed verdict.

The question "Loss function autoencoder vs variational-autoencoder or MSE-loss vs
binary-cross-entropy-loss" (stats.stackexchange.com) and its answers make ten claims.  Each is
declared once, in its own module ``c<NN>_<name>.py`` (a :class:`Claim` named ``CLAIM``): the
thread's words, the checkable statement, the analytic check (a function of the losses it is
about, using :mod:`lossanalysis.analysis`) and the measured evidence it reads.  No verdict is
typed by hand: feeding a check another loss, or the evidence other numbers, changes it.

Verdicts (:mod:`.verdicts`): confirmed, qualified, refuted; awaiting data, not judged (quick
runs), inconclusive.  The analysis' verdict and the data's are combined by one rule,
:func:`combine`: a measurement that contradicts a claim refutes it; a measured effect the
analysis does not account for holds only with that qualification; only agreement confirms.

Evidence (:mod:`.evidence`) comes from the structured fields of the experiment reports
(``studies/<name>/report.json``: rows of predictions and named observations), never from prose;
:data:`~.evidence.CONTRACT` says what each row pattern and observation must measure.

To add a claim, write ``c11_<name>.py`` defining ``CLAIM``; it is found by its file name.

Command line: ``python -m lossanalysis claims [--json] [--report FILE ...]``.

Examples
--------
>>> from lossanalysis import claims
>>> r = claims.evaluate("3")
>>> r.verdict, [(p.id, p.analysis.verdict if p.analysis else None, p.verdict) for p in r.parts]
('awaiting data', [('3a', 'refuted', 'awaiting data'), ('3b', None, 'awaiting data')])
"""
from __future__ import annotations

import importlib
import pkgutil
import re

from .c08_binary_mnist import pixel_observations
from .claim import Claim, ClaimResult
from .cli import _register_claims, main
from .evidence import (CONTRACT, Evidence, Exceeds, Observation, Report, Row, Rows, load_report,
                       report_from_document)
from .render import to_json, to_markdown
from .verdicts import DECIDED, PENDING, VERDICTS, Finding, combine, conjoin, pool

__all__ = ["VERDICTS", "DECIDED", "PENDING", "Finding", "combine", "pool", "conjoin",
           "Claim", "ClaimResult", "CLAIMS", "get_claim", "evaluate", "evaluate_all",
           "CONTRACT", "Row", "Observation", "Report", "Evidence", "Rows", "Exceeds",
           "load_report", "report_from_document", "pixel_observations",
           "to_markdown", "to_json", "main"]

_MODULE = re.compile(r"c(\d\d)_\w+$")


def _discover() -> tuple:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if _MODULE.match(m.name))
    return tuple(importlib.import_module(f"{__name__}.{n}").CLAIM for n in names)


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
