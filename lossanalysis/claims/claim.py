"""A claim's declaration (:class:`Claim`) and its evaluation (:class:`ClaimResult`).

A claim is declared once, in its own module (``c01_symmetry.py`` ... ``c10_minimizer.py``), as a
:class:`Claim`: the thread's words, the checkable statement, the analytic ``check`` (a function
of the losses it is about, returning a :class:`~lossanalysis.claims.verdicts.Finding`) and the
evidence it ``reads`` (:mod:`lossanalysis.claims.evidence`).  A claim with ``parts`` (claim 3:
"3a, so 3b") is their conjunction (:func:`~lossanalysis.claims.verdicts.conjoin`); its
``conditions`` are sub-claims reported beside it that do not decide it -- the settings in which
it would hold, or its premise.

Evaluation: the analysis' verdict and the data's are combined by the one rule
:func:`~lossanalysis.claims.verdicts.combine`; several measurements by
:func:`~lossanalysis.claims.verdicts.pool`.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from .._io import jsonable as _jsonable
from .evidence import Evidence
from .verdicts import (AWAITING, DECIDED, NOT_JUDGED, PENDING, QUALIFIED, REFUTED,
                       Finding, combine, conjoin, pool)

__all__ = ["Claim", "ClaimResult"]


def _finding_dict(f: Finding | None):
    return None if f is None else {"verdict": f.verdict, "text": f.text,
                                   "evidence": _jsonable(f.evidence)}


@dataclass(frozen=True)
class ClaimResult:
    """A claim with its computed verdict, the sentence that explains it and the evidence.

    ``analysis`` and ``data`` are the two findings that :func:`~.verdicts.combine` joined (None
    where the claim has no such part); ``parts`` and ``conditions`` the sub-claims' results;
    ``reads`` names the evidence it reads; ``role`` is "claim", "part" or "condition".

    Examples
    --------
    >>> from lossanalysis.claims import evaluate
    >>> r = evaluate("5")
    >>> [(p.id, p.role, p.analysis.verdict) for p in r.parts]
    [('5a', 'part', 'confirmed'), ('5b', 'part', 'refuted')]
    >>> r.to_dict()["parts"][1]["conditions"][1]["id"]
    '5b.logit'
    """

    id: str
    claim: str
    statement: str
    verdict: str
    qualification: str
    analysis: Finding | None = None
    data: Finding | None = None
    parts: tuple = ()
    conditions: tuple = ()
    reads: tuple = ()
    role: str = "claim"

    @property
    def evidence(self) -> dict:
        """The analysis' and the data's evidence."""
        return {"analysis": self.analysis.evidence if self.analysis else None,
                "data": self.data.evidence if self.data else None}

    def to_dict(self) -> dict:
        """JSON-able: id, claim, statement, verdict, qualification, role, analysis and data
        ({verdict, text, evidence} or None), reads, parts, conditions."""
        return {"id": self.id, "claim": self.claim, "statement": self.statement,
                "verdict": self.verdict, "qualification": self.qualification, "role": self.role,
                "analysis": _finding_dict(self.analysis), "data": _finding_dict(self.data),
                "reads": list(self.reads),
                "parts": [p.to_dict() for p in self.parts],
                "conditions": [c.to_dict() for c in self.conditions]}


def _explain(a: Finding | None, d: Finding | None, verdict: str) -> str:
    if d is None:
        return a.text
    if a is None:
        return d.text
    text = f"Analysis: {a.verdict}. {a.text} Data: {d.verdict}. {d.text}"
    if d.verdict in PENDING:
        return text + f" The verdict waits for the data ({d.verdict})."
    if verdict == REFUTED and a.verdict != REFUTED:
        return text + " The measurements refute it whatever the analysis says."
    if verdict == QUALIFIED and a.verdict != d.verdict:
        return text + (" Measured, but not for the reason the claim gives: it holds only with "
                       "that qualification." if a.verdict == REFUTED else
                       " The two agree only in part.")
    return text


def _read(readers, evidence: Evidence) -> Finding | None:
    if not readers:
        return None
    names = [n for r in readers for n in r.names]
    items, sources = [], []
    for rep in evidence.reports:
        relevant = [r for r in readers if not r.datasets or rep.dataset in r.datasets]
        if not relevant:
            continue
        sources.append(rep.source + (f" ({rep.note})" if rep.note else ""))
        if rep.quick:
            items.append(Finding(NOT_JUDGED, f"{rep.source} is a quick run (a smoke test, not "
                                             "evidence)", {"source": rep.source}))
            continue
        for r in relevant:
            items.extend(r.read(rep))
    verdict = pool([i.verdict for i in items])
    if verdict == AWAITING:
        text = (f"Reads {', '.join(names)}; "
                + (f"none in {', '.join(sources)}." if sources else
                   "no report given." if not evidence.reports else
                   f"no report of {', '.join(sorted({d for r in readers for d in r.datasets}))} "
                   "given."))
    else:
        text = "; ".join(i.text for i in items) + "."
    return Finding(verdict, text, {"reads": names, "sources": sources,
                                   "items": [i.evidence for i in items]})


@dataclass(frozen=True)
class Claim:
    """One claim of the thread, declared in one place.

    Parameters
    ----------
    id : str
        "1" ... "10"; parts and conditions "3a", "3a.prob", ...
    text : str
        The thread's words.
    statement : str
        The checkable statement.
    check : callable, optional
        The analytic check: keyword arguments choosing the losses, returns a Finding.
    reads : tuple, optional
        Readers of measured evidence (:class:`~.evidence.Rows`, :class:`~.evidence.Exceeds`,
        or any object with ``names``, ``datasets`` and ``read(report) -> [Finding]``).
    parts : tuple of Claim, optional
        Sub-claims whose conjunction this claim is (then no ``check`` and no ``reads``).
    conditions : tuple of Claim, optional
        Sub-claims reported beside it that do not decide it.
    verdicts : tuple of str, optional
        The decided verdicts it may report (the tests reach every one).

    Examples
    --------
    >>> c = Claim("x", "Two is even.", "2 % 2 == 0",
    ...           check=lambda: Finding("confirmed" if 2 % 2 == 0 else "refuted", "2 = 2 * 1."))
    >>> c.evaluate().verdict
    'confirmed'
    """

    id: str
    text: str
    statement: str
    check: Callable[..., Finding] | None = None
    reads: tuple = ()
    parts: tuple = ()
    conditions: tuple = ()
    verdicts: tuple = DECIDED

    def __post_init__(self):
        if self.parts and (self.check is not None or self.reads):
            raise ValueError(f"claim {self.id}: a claim made of parts has no check or reads of "
                             "its own")
        if not self.parts and self.check is None and not self.reads:
            raise ValueError(f"claim {self.id}: needs a check, evidence to read, or parts")
        if not set(self.verdicts) <= set(DECIDED):
            raise ValueError(f"claim {self.id}: verdicts must be among {DECIDED}")

    def walk(self):
        """This claim, then its parts and conditions, depth first.

        Examples
        --------
        >>> from lossanalysis.claims import get_claim
        >>> [c.id for c in get_claim("3").walk()], get_claim("3").has_data
        (['3', '3a', '3a.prob', '3b'], True)
        """
        yield self
        for sub in self.parts + self.conditions:
            yield from sub.walk()

    @property
    def has_data(self) -> bool:
        """Whether any part of it reads measured evidence."""
        return any(c.reads for c in self.walk())

    def _route(self, kwargs) -> dict:
        """{claim id: the keyword arguments its check accepts}; each one must be accepted by
        some check of the tree (a misspelt loss argument is an error, not a silent default)."""
        accepted, used = {}, set()
        for c in self.walk():
            if c.check is None:
                continue
            names = set(inspect.signature(c.check).parameters)
            accepted[c.id] = {k: v for k, v in kwargs.items() if k in names}
            used |= set(accepted[c.id])
        unknown = sorted(set(kwargs) - used)
        if unknown:
            raise ValueError(f"claim {self.id} has no check that takes {', '.join(unknown)}")
        return accepted

    def evaluate(self, evidence: Evidence | None = None, **kwargs) -> ClaimResult:
        """Evaluate the claim: its check (``kwargs`` choose the losses) and its evidence.

        Parameters
        ----------
        evidence : Evidence, optional
            The measured evidence; None: none (data parts await data).
        **kwargs
            Passed to every check of the claim and its parts that takes them.

        Returns
        -------
        ClaimResult
        """
        if evidence is not None and not isinstance(evidence, Evidence):
            raise TypeError(f"evidence must be a lossanalysis.claims.Evidence (e.g. "
                            f"Evidence.from_files([...])), got {type(evidence).__name__}")
        return self._evaluate(evidence if evidence is not None else Evidence(),
                              self._route(kwargs), "claim")

    def _evaluate(self, evidence, routed, role) -> ClaimResult:
        conditions = tuple(c._evaluate(evidence, routed, "condition") for c in self.conditions)
        names = tuple(n for r in self.reads for n in r.names)
        if self.parts:
            parts = tuple(p._evaluate(evidence, routed, "part") for p in self.parts)
            verdict = conjoin([p.verdict for p in parts])
            why = ("; ".join(f"{p.id}: {p.verdict}" for p in parts)
                   + f" -> {verdict} (a claim of parts holds only if every part does).")
            return ClaimResult(self.id, self.text, self.statement, verdict, why, parts=parts,
                               conditions=conditions, reads=names, role=role)
        analysis = self.check(**routed[self.id]) if self.check is not None else None
        data = _read(self.reads, evidence)
        verdict = combine(analysis.verdict if analysis else None, data.verdict if data else None)
        return ClaimResult(self.id, self.text, self.statement, verdict,
                           _explain(analysis, data, verdict), analysis, data,
                           conditions=conditions, reads=names, role=role)

