"""Read the committed experiment reports (``reports/<dataset>.json``) by prediction id.

Two layouts are read, by structured fields only (never by parsing the prose):

* the layout written so far: ``experiments.<E>.results`` -- rows with ``id``, ``kind``,
  ``value`` (the prediction), ``tolerance``, ``measurements`` (one per seed), ``mean``,
  ``spread`` and ``verdict`` -- and a flat ``measurements`` mapping ``"E5.sigma_eff[bernoulli]"``
  to a number;
* the ``results`` schema: a top-level ``results`` list (or mapping by id) of rows with ``id``,
  ``comparison`` (``equal``, ``at_least``, ``at_most``), ``kind`` (``falsifiable`` or
  ``consistency``), ``value``, ``tolerance``, ``mean``, ``sd``, ``interval`` and ``verdict``,
  and ``observations`` holding the named measurements with their per-seed values (a mapping of
  name to ``{"values": [...], ...}``, or a list of rows with an ``id``).

A row is returned as a :class:`Measured` whichever layout it came from.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

from .._limits import load_json
from ..data import DATASETS

__all__ = ["DEFAULT_DIR", "Measured", "find_reports", "load_reports", "result",
           "measurement"]

#: Where a source checkout keeps the reports: ``<repository>/reports``.
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "reports"

#: Names shown for the report datasets.
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
    """The folder holding the reports: ``folder`` if given, else :data:`DEFAULT_DIR` when a
    source checkout has it; None when there is none.

    Examples
    --------
    >>> find_reports("/nonexistent") is None
    True
    """
    p = Path(folder) if folder is not None else DEFAULT_DIR
    return p if p.is_dir() else None


def load_reports(folder, *, limits=None) -> dict:
    """``{dataset: report}`` for every ``<dataset>.json`` (dataset in ``data.DATASETS``) in
    ``folder``; an empty dict when there is none.  ValueError naming the file for one that is
    not a JSON object, or larger or deeper than ``limits`` allow (``json_bytes``,
    ``json_depth``; see :mod:`lossanalysis._limits`).

    Examples
    --------
    >>> import tempfile
    >>> load_reports(tempfile.mkdtemp())
    {}
    """
    out = {}
    for name in DATASETS:
        path = Path(folder) / f"{name}.json"
        if not path.is_file():
            continue
        try:
            doc = load_json(path, f"report {path}", limits)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        if not isinstance(doc, dict):
            raise ValueError(f"report {path}: not a JSON object")
        out[name] = doc
    return out


def _rows(report: dict):
    top = report.get("results")
    if isinstance(top, list):
        yield from (r for r in top if isinstance(r, dict))
    elif isinstance(top, dict):
        yield from (dict(r, id=r.get("id", k)) for k, r in top.items() if isinstance(r, dict))
    exps = report.get("experiments")
    if isinstance(exps, dict):
        for e in exps.values():
            rows = e.get("results") if isinstance(e, dict) else None
            if isinstance(rows, list):
                yield from (r for r in rows if isinstance(r, dict))


def result(report: dict, pid: str, dataset: str = "") -> Measured | None:
    """The judged prediction ``pid`` of ``report`` (either layout), or None if absent.

    Examples
    --------
    >>> old = {"experiments": {"E2": {"results": [{"id": "E2.x", "kind": "equal",
    ...        "value": 2.0, "tolerance": 0.1, "measurements": [1.9, 2.1], "mean": 2.0,
    ...        "spread": 0.14, "verdict": "confirmed"}]}}}
    >>> new = {"results": [{"id": "E2.x", "kind": "equal", "mean": 2.0, "sd": 0.14,
    ...        "interval": [1.8, 2.2], "verdict": "confirmed"}]}
    >>> result(old, "E2.x").mean == result(new, "E2.x").mean == 2.0
    True
    >>> result(new, "E2.x").interval, result(old, "E2.x").n
    ((1.8, 2.2), 2)
    """
    for r in _rows(report):
        if r.get("id") != pid or not isinstance(r.get("verdict"), str):
            continue
        mean = _number(r.get("mean"))
        if mean is None:
            continue
        per_seed = r.get("measurements", r.get("values", r.get("per_seed")))
        n = len(per_seed) if isinstance(per_seed, list) else None
        if n is None and isinstance(r.get("n"), int):
            n = r["n"]
        interval = r.get("interval")
        interval = (tuple(float(v) for v in interval)
                    if isinstance(interval, (list, tuple)) and len(interval) == 2
                    and all(_number(v) is not None for v in interval) else None)
        comparisons = ("equal", "at_least", "at_most")
        comparison = next((r[k] for k in ("comparison", "kind") if r.get(k) in comparisons), None)
        role = r.get("kind") if r.get("kind") in ("falsifiable", "consistency") else None
        return Measured(dataset=dataset or str(report.get("dataset", "")), id=pid,
                        kind=comparison, role=role,
                        value=_number(r.get("value", r.get("predicted"))),
                        tolerance=_number(r.get("tolerance")), mean=mean,
                        sd=_number(r.get("sd", r.get("spread"))), n=n, interval=interval,
                        verdict=r["verdict"])
    return None


def measurement(report: dict, *keys: str) -> float | None:
    """A named measurement (mean over seeds) such as ``"E5.sigma_eff[bernoulli]"``, from the
    flat ``measurements`` mapping or from ``observations`` (a number, a list of per-seed values,
    or an object with ``mean`` or ``values``); the first of ``keys`` found (names differ between
    the layouts), None if none is.

    Examples
    --------
    >>> measurement({"measurements": {"E5.a": 0.5}}, "E5.a")
    0.5
    >>> measurement({"observations": [{"id": "E5.a", "values": [0.4, 0.6]}]}, "E5.a")
    0.5
    >>> measurement({"observations": {"b": {"values": [1.0]}}}, "E5.b", "b")
    1.0
    >>> measurement({}, "E5.a") is None
    True
    """
    def value_of(v):
        if isinstance(v, dict):
            if _number(v.get("mean")) is not None:
                return _number(v["mean"])
            v = v.get("values", v.get("per_seed"))
        if isinstance(v, list):
            nums = [_number(u) for u in v]
            return sum(nums) / len(nums) if nums and None not in nums else None
        return _number(v)

    flat = report.get("measurements")
    obs = report.get("observations")
    for key in keys:
        if isinstance(flat, dict) and key in flat:
            return value_of(flat[key])
        if isinstance(obs, dict) and key in obs:
            return value_of(obs[key])
        if isinstance(obs, list):
            for row in obs:
                if isinstance(row, dict) and key in (row.get("id"), row.get("key"),
                                                     row.get("name")):
                    return value_of(row)
    return None
