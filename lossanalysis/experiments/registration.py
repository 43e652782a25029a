"""Registration: every prediction written down before anything is trained, and checked after.

``scripts/confirm_predictions.py --register`` computes each experiment's predictions from the
analysis and the data statistics (``prepare``; nothing is trained) and writes
``predictions/<dataset>.json``: per experiment its settings, the seeds it will be measured on and
the seeds the registered rule may add, and per prediction its value, tolerance, comparison,
kind (with the reason), quantity, statement and source.  The file is stable -- sorted keys,
floats rounded to 12 significant digits -- so that registering unchanged code again gives
identical bytes.

The measuring run reads the file, records its SHA-256 in the report header, recomputes the
predictions and compares (:func:`compare`): a row counts as *registered* only if the
registration holds its id with the same value and tolerance (to 1e-9 relative), comparison,
kind, deterministic flag and quantity, its experiment's settings are the registered ones, and it
was measured on the registered seeds (or those plus the registered extra seeds); every other
row, a registered id the run did not produce, and every row of a run without a registration
file are reported as not registered, with the reason.  A registered row measured only on
seeds no earlier run used (:data:`~.core.USED_SEEDS`) is *blind*.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np  # noqa: F401  (the doctests use it)

from .._io import atomic_write
from .core import CONFIDENCE, USED_SEEDS

__all__ = ["FORMAT", "RULE", "registration_doc", "dumps", "write", "read", "compare",
           "COMPARED", "stable"]

FORMAT = 1
#: The rule the registration commits to, written into the file.
RULE = ("Each experiment is measured on its 'seeds'.  A verdict compares the "
        f"{100 * CONFIDENCE:.0f}% Student-t interval of the seed mean with the tolerance band: "
        "confirmed if inside, refuted if entirely outside, inconclusive otherwise (one seed: no "
        "interval, unless the prediction is deterministic).  Where a falsifiable row of an "
        "experiment is inconclusive on its 'seeds', the experiment is measured once more on "
        "'seeds' + 'extra_seeds' and every row of it is judged on all of them; tolerances are "
        "never widened.")
#: The fields of a prediction that must match the registration.
COMPARED = ("value", "tolerance", "comparison", "kind", "deterministic", "quantity")
_REL = 1e-9


def stable(x):
    """``x`` in the registration's stable form: the report's JSON conversion
    (:func:`lossanalysis._io.jsonable`) with floats rounded to 12 significant digits.

    >>> stable({"a": (0.1 + 0.2, 3), "b": np.float32(0.5)})
    {'a': [0.3, 3], 'b': 0.5}
    """
    from .._io import jsonable
    return jsonable(x, digits=12)


def _prediction_fields(p) -> dict:
    return {"experiment": p.experiment, "statement": p.statement, "quantity": p.quantity,
            "value": p.value, "tolerance": p.tolerance, "comparison": p.comparison,
            "kind": p.kind, "kind_reason": p.kind_reason, "source": p.source,
            "deterministic": p.deterministic}


def registration_doc(dataset: str, experiments: dict) -> dict:
    """The registration of one dataset.

    ``experiments``: label -> {"predictions": [Prediction], "settings": dict, "seeds": tuple,
    "extra_seeds": tuple}.
    """
    preds, exps = {}, {}
    for label, e in experiments.items():
        exps[label] = {"settings": e["settings"], "seeds": list(e["seeds"]),
                       "extra_seeds": list(e["extra_seeds"])}
        for p in e["predictions"]:
            if p.id in preds:
                raise ValueError(f"prediction id {p.id!r} registered twice")
            preds[p.id] = _prediction_fields(p)
    return stable({"format": FORMAT, "dataset": dataset, "rule": RULE,
                   "confidence": CONFIDENCE, "experiments": exps, "predictions": preds})


def dumps(doc: dict) -> str:
    """The file's text: sorted keys, one-space indent, a final newline."""
    return json.dumps(stable(doc), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write(path, doc: dict) -> Path:
    """Write ``doc`` to ``path`` atomically (:func:`lossanalysis._io.atomic_write`)."""
    return atomic_write(path, dumps(doc))


def read(path) -> tuple[dict, str]:
    """(registration, SHA-256 of the file's bytes); ValueError naming the file when it is
    unreadable or not a registration."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise ValueError(f"registration {str(path)!r} cannot be read: {err}") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"registration {str(path)!r} is not valid JSON: {err}") from None
    if not (isinstance(doc, dict) and doc.get("format") == FORMAT
            and isinstance(doc.get("predictions"), dict)
            and isinstance(doc.get("experiments"), dict)):
        raise ValueError(f"registration {str(path)!r} is not a registration of format "
                         f"{FORMAT} (written by confirm_predictions.py --register)")
    return doc, hashlib.sha256(raw).hexdigest()


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(float(a), float(b), rel_tol=_REL, abs_tol=1e-12)
    return a == b


def _differences(p, reg: dict) -> list[str]:
    now = stable(_prediction_fields(p))
    return [f for f in COMPARED if not _same(now.get(f), reg.get(f))]


def compare(rows, doc: dict | None, settings: dict, *, quick: bool = False,
            unregistrable: dict | None = None, revised=()) -> tuple[list, list]:
    """The rows with ``registered``, ``blind`` and ``registration_note`` set, and the list of
    registered ids the run did not produce.

    ``settings``: label -> the run's settings of that experiment; ``unregistrable``: id ->
    reason for rows that cannot count as registered whatever the file says (e.g. E7 rows
    that use another run's measurements); ``revised``: ids of predictions revised after their
    numbers had been seen -- a deterministic one (its value does not depend on the seed) can
    never be blind.
    """
    import dataclasses
    unregistrable = unregistrable or {}
    out = []
    if doc is None or quick:
        note = "quick run: not a registered measurement" if quick else "no registration file"
        return ([dataclasses.replace(r, registered=False, blind=False, registration_note=note)
                 for r in rows], [])
    regs, exps = doc["predictions"], doc["experiments"]
    for r in rows:
        p = r.prediction
        reg = regs.get(p.id)
        exp = exps.get(p.experiment)
        if p.id in unregistrable:
            note = unregistrable[p.id]
        elif reg is None:
            note = "not in the registration"
        elif exp is None:
            note = f"experiment {p.experiment} not in the registration"
        elif _differences(p, reg):
            note = "differs from the registration in " + ", ".join(_differences(p, reg))
        elif stable(settings.get(p.experiment)) != exp.get("settings"):
            keys = sorted(set(stable(settings.get(p.experiment) or {})) ^ set(exp["settings"])
                          | {k for k, v in (stable(settings.get(p.experiment)) or {}).items()
                             if exp["settings"].get(k) != v})
            note = "settings differ from the registration (" + ", ".join(keys) + ")"
        elif not (p.deterministic and not r.seeds) and list(r.seeds) not in (
                exp["seeds"], exp["seeds"] + exp["extra_seeds"]):
            note = (f"measured on seeds {list(r.seeds)}, registered {exp['seeds']} (+ "
                    f"{exp['extra_seeds']})")
        else:
            note = ""
        registered = note == ""
        seen = p.deterministic and p.id in revised
        blind = registered and not seen and not (set(r.seeds) & USED_SEEDS)
        if registered:
            note = "registered" + (
                ", blind (fresh seeds)" if blind else
                ", not blind (its value does not depend on the seed and was seen before)"
                if seen else ", not blind (seeds used before: "
                + ", ".join(str(s) for s in sorted(set(r.seeds) & USED_SEEDS)) + ")")
        out.append(dataclasses.replace(r, registered=registered, blind=blind,
                                       registration_note=note))
    produced = {r.prediction.id for r in rows}
    missing = sorted(set(regs) - produced)
    return out, missing
