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

from .c08_binary_mnist import pixel_observations
from .claim import Claim, ClaimResult
from .cli import main
from .evidence import (CONTRACT, Evidence, Exceeds, Observation, Report, Row, Rows, load_report,
                       report_from_document)
from .registry import CLAIMS, evaluate, evaluate_all, get_claim
from .render import to_json, to_markdown
from .verdicts import DECIDED, PENDING, VERDICTS, Finding, combine, conjoin, pool

__all__ = ["VERDICTS", "DECIDED", "PENDING", "Finding", "combine", "pool", "conjoin",
           "Claim", "ClaimResult", "CLAIMS", "get_claim", "evaluate", "evaluate_all",
           "CONTRACT", "Row", "Observation", "Report", "Evidence", "Rows", "Exceeds",
           "load_report", "report_from_document", "pixel_observations",
           "to_markdown", "to_json", "main"]
