"""Read the committed studies' reports (``studies/<name>/report.json``) by prediction id.

One layout, the study report's (:mod:`lossanalysis.experiments.render`): ``rows`` -- each with
``id``, ``comparison``, ``kind``, ``value``, ``tolerance``, per-seed ``measurements``,
``mean``, ``sd``, ``interval`` and ``verdict`` -- and ``observations`` (name -> per-seed
``values``).  Only judged single-dataset studies are read (a quick run or a pair study is
left out).  A row is returned as a :class:`Measured`, always labelled with the study it was
measured on: a measurement on MNIST says nothing directly about a user's images.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

from .._io import checkout
from .._limits import load_json

__all__ = ["DEFAULT_DIR", "Measured", "find_reports", "load_reports", "result",
           "measurement", "DISPLAY"]

#: Where a source checkout keeps the studies: ``<repository>/studies`` (None when installed).
DEFAULT_DIR = None if checkout() is None else checkout() / "studies"

#: Names shown for the studies' datasets.
DISPLAY = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


@dataclass(frozen=True)
class Measured:
    """One judged prediction of a report: its id, comparison (``equal``, ``at_least``,
    ``at_most``), role (``falsifiable`` or ``consistency`` where the report says), predicted
    value and tolerance (None where the report does not give them), measured mean and spread
    over seeds (sample sd), number of seeds, optional interval and the verdict."""
    dataset: str
    id: str
    kind: str | None
    role: str | None
    value: float | None
    tolerance: float | None
    mean: float
    sd: float | None
    n: int | None
    interval: tuple | None
    verdict: str

    def to_dict(self) -> dict:
        d = asdict(self)
        d["interval"] = list(self.interval) if self.interval is not None else None
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in d.items()}


def _number(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):          # JSON has no NaN: reports may write it as a string
        try:
            return float(v)
        except ValueError:
            return None
    return None


def find_reports(folder=None) -> Path | None:
    """The folder holding the studies: ``folder`` if given, else :data:`DEFAULT_DIR` when a
    source checkout has it; None when there is none.

    Examples
    --------
    >>> find_reports("/nonexistent") is None
    True
    """
    p = Path(folder) if folder is not None else DEFAULT_DIR
    return p if p is not None and p.is_dir() else None


def load_reports(folder, *, limits=None) -> dict:
    """``{study: report}`` for every judged single-dataset study ``<folder>/<study>/report.json``
    (an empty dict when there is none).  ValueError naming the file for one that is not a JSON
    object, or larger or deeper than ``limits`` allow (``json_bytes``, ``json_depth``; see
    :mod:`lossanalysis._limits`).

    Examples
    --------
    >>> import tempfile
    >>> load_reports(tempfile.mkdtemp())
    {}
    """
    out = {}
    for path in sorted(Path(folder).glob("*/report.json")):
        doc = load_json(path, f"report {path}", limits)
        if not isinstance(doc, dict):
            raise ValueError(f"report {path}: not a JSON object")
        if doc.get("quick") or not isinstance(doc.get("data"), dict):
            continue
        out[str(doc.get("study", path.parent.name))] = doc
    return out


def result(report: dict, pid: str, dataset: str = "") -> Measured | None:
    """The judged prediction ``pid`` of ``report``, or None if absent (or not applicable).

    Examples
    --------
    >>> doc = {"study": "mnist", "rows": [{"id": "E2.x", "comparison": "equal",
    ...        "kind": "falsifiable", "value": 2.0, "tolerance": 0.2, "mean": 2.0, "sd": 0.14,
    ...        "measurements": [1.9, 2.1], "interval": [1.8, 2.2], "verdict": "confirmed"}]}
    >>> r = result(doc, "E2.x")
    >>> r.mean, r.interval, r.n, r.dataset
    (2.0, (1.8, 2.2), 2, 'mnist')
    """
    for r in report.get("rows") or []:
        if not isinstance(r, dict) or r.get("id") != pid:
            continue
        mean = _number(r.get("mean"))
        if mean is None or r.get("verdict") == "not applicable":
            return None
        per_seed = r.get("measurements")
        interval = r.get("interval")
        interval = (tuple(float(v) for v in interval)
                    if isinstance(interval, (list, tuple)) and len(interval) == 2
                    and all(_number(v) is not None for v in interval) else None)
        return Measured(dataset=dataset or str(report.get("study", "")), id=pid,
                        kind=r.get("comparison"), role=r.get("kind"),
                        value=_number(r.get("value")), tolerance=_number(r.get("tolerance")),
                        mean=mean, sd=_number(r.get("sd")),
                        n=len(per_seed) if isinstance(per_seed, list) else None,
                        interval=interval, verdict=str(r.get("verdict")))
    return None


def measurement(report: dict, *keys: str) -> float | None:
    """The mean over seeds of the first observation of ``keys`` the report has (e.g.
    ``"E5.sigma_eff[bernoulli]"``), or None.

    Examples
    --------
    >>> measurement({"observations": {"b": {"values": [1.0, 2.0]}}}, "a", "b")
    1.5
    >>> measurement({}, "E5.a") is None
    True
    """
    obs = report.get("observations")
    for key in keys:
        v = obs.get(key) if isinstance(obs, dict) else None
        if isinstance(v, dict) and isinstance(v.get("values"), list) and v["values"]:
            nums = [_number(u) for u in v["values"]]
            if None not in nums:
                return sum(nums) / len(nums)
    return None
