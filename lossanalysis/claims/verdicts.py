"""The verdicts, what a check returns, and the rules that combine verdicts.

A claim's verdict is one of :data:`VERDICTS`.  Three are decided (:data:`DECIDED`):

* ``"confirmed"`` -- the checkable statement holds;
* ``"qualified"`` -- it holds only with the qualification stated beside it (in some settings
  or on some of the evidence, not all);
* ``"refuted"`` -- it does not hold.

Three are pending (:data:`PENDING`, from the farthest from a verdict to the nearest):

* ``"awaiting data"`` -- the claim needs measurements and none were given;
* ``"not judged"`` -- the only measurements come from a quick (smoke-test) run, which judges
  nothing;
* ``"inconclusive"`` -- measurements exist but do not decide (e.g. a seed interval that
  straddles zero, an experiment row that is itself inconclusive).

Three rules combine verdicts; each is a few lines below, with its table:

* :func:`combine` -- THE rule for an analytic result and measured evidence of one statement;
* :func:`pool` -- several measurements of one statement (rows, datasets, model families);
* :func:`conjoin` -- a claim made of parts (claim 3 is "3a, so 3b").
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["VERDICTS", "DECIDED", "PENDING", "CONFIRMED", "QUALIFIED", "REFUTED",
           "AWAITING", "NOT_JUDGED", "INCONCLUSIVE", "Finding", "combine", "pool", "conjoin"]

CONFIRMED, QUALIFIED, REFUTED = "confirmed", "qualified", "refuted"
AWAITING, NOT_JUDGED, INCONCLUSIVE = "awaiting data", "not judged", "inconclusive"
DECIDED = (CONFIRMED, QUALIFIED, REFUTED)
PENDING = (AWAITING, NOT_JUDGED, INCONCLUSIVE)
VERDICTS = DECIDED + PENDING


def _check(verdict, arg):
    if verdict not in VERDICTS:
        raise ValueError(f"{arg} must be one of {VERDICTS}, got {verdict!r}")
    return verdict


@dataclass(frozen=True)
class Finding:
    """A verdict with the sentence that explains it and the numbers behind it.

    What an analytic check returns, and what reading the evidence gives.  ``evidence`` holds
    JSON-able values (numbers, strings, lists, dicts).

    Examples
    --------
    >>> Finding("refuted", "argmin = y.").verdict
    'refuted'
    >>> Finding("maybe", "")
    Traceback (most recent call last):
    ...
    ValueError: verdict must be one of ('confirmed', 'qualified', 'refuted', 'awaiting data', \
'not judged', 'inconclusive'), got 'maybe'
    """

    verdict: str
    text: str
    evidence: dict = field(default_factory=dict)

    def __post_init__(self):
        _check(self.verdict, "verdict")


def _first_pending(verdicts):
    return next(v for v in PENDING if v in verdicts)


def combine(analysis: str | None, data: str | None) -> str | None:
    """THE rule for one statement checked by an analysis and by measurements.

    =========  =========  =========  =========  ===========
    analysis   data:      data:      data:      data:
               confirmed  qualified  refuted    pending
    =========  =========  =========  =========  ===========
    confirmed  confirmed  qualified  refuted    the pending
    qualified  qualified  qualified  refuted    the pending
    refuted    qualified  qualified  refuted    the pending
    =========  =========  =========  =========  ===========

    The thread's claims are about what trained networks do.  A measurement that contradicts a
    claim refutes it, whatever the derivation says; a measured effect that the analysis does not
    account for (or accounts for only in part) holds with that qualification, since its cause is
    not the one the claim gives; only agreement confirms.  Until the measurements decide, the
    verdict is theirs (pending), because every decided outcome of them would give a different
    verdict.  A statement with no analytic part (``analysis`` None) takes the data's verdict, one
    with no data part (``data`` None) the analysis'.

    Parameters
    ----------
    analysis, data : str or None
        Verdicts (:data:`VERDICTS`); the analysis' must be decided.

    Returns
    -------
    str or None
        The statement's verdict (None only when both are None).

    Examples
    --------
    >>> combine("refuted", "confirmed"), combine("qualified", "refuted")
    ('qualified', 'refuted')
    >>> combine("confirmed", "awaiting data"), combine(None, "inconclusive")
    ('awaiting data', 'inconclusive')
    """
    if analysis is not None and _check(analysis, "analysis") not in DECIDED:
        raise ValueError(f"analysis must be decided (one of {DECIDED}), got {analysis!r}")
    if data is None:
        return analysis
    if analysis is None or _check(data, "data") in PENDING or data == REFUTED:
        return data
    return CONFIRMED if analysis == data == CONFIRMED else QUALIFIED


def pool(verdicts) -> str:
    """Several measurements of one statement: rows of a prefix, datasets, model families.

    "not judged" items (quick runs) are no evidence and are dropped.  Of the rest: decided items
    that disagree give "qualified" (the statement holds on some of the evidence, not all) whatever
    the undecided ones turn out to be; otherwise an undecided item leaves the verdict pending
    ("inconclusive"), since it could still disagree; items that all agree give their verdict.
    Nothing at all gives "awaiting data" ("not judged" if only quick runs were given).

    Parameters
    ----------
    verdicts : iterable of str
        One verdict per measurement.

    Returns
    -------
    str

    Examples
    --------
    >>> pool(["confirmed", "confirmed"]), pool(["confirmed", "refuted", "inconclusive"])
    ('confirmed', 'qualified')
    >>> pool(["confirmed", "inconclusive"]), pool(["not judged"]), pool([])
    ('inconclusive', 'not judged', 'awaiting data')
    """
    verdicts = [_check(v, "verdicts") for v in verdicts]
    evidence = [v for v in verdicts if v != NOT_JUDGED]
    if not evidence:
        return NOT_JUDGED if verdicts else AWAITING
    decided = {v for v in evidence if v in DECIDED}
    if len(decided) > 1:
        return QUALIFIED
    pending = [v for v in evidence if v in PENDING]
    if pending:
        return _first_pending(pending)
    return decided.pop()


def conjoin(verdicts) -> str:
    """A claim made of parts ("3a, so 3b"): it holds only if every part does.

    Any refuted part refutes the claim; otherwise a pending part leaves it pending (the first of
    :data:`PENDING` that occurs); otherwise it is "confirmed" if every part is, else "qualified".

    Parameters
    ----------
    verdicts : iterable of str
        The parts' verdicts (at least one).

    Returns
    -------
    str

    Examples
    --------
    >>> conjoin(["refuted", "awaiting data"]), conjoin(["confirmed", "qualified"])
    ('refuted', 'qualified')
    >>> conjoin(["confirmed", "inconclusive", "awaiting data"])
    'awaiting data'
    """
    verdicts = [_check(v, "verdicts") for v in verdicts]
    if not verdicts:
        raise ValueError("verdicts must name at least one part's verdict")
    if REFUTED in verdicts:
        return REFUTED
    pending = [v for v in verdicts if v in PENDING]
    if pending:
        return _first_pending(pending)
    return CONFIRMED if all(v == CONFIRMED for v in verdicts) else QUALIFIED
