"""A study: one image set's registration, measurement and report, in one folder.

``<folder>/predictions.json`` is the registration (:func:`register`): every experiment's
predictions for the data, computed from the data alone with the protocol's tolerance rules,
the networks they will be measured on, the seeds, and a fingerprint of the images.  It is
written once (``force`` to replace it) and is meant to be committed before the run.

:func:`run` refuses to measure without a registration, when the file differs from its committed
version (git, when the folder is in a repository), when the images are not the registered ones,
or when the code now computes other predictions than the registered ones; then it trains,
measures and judges (:mod:`.runner`) and writes ``report.md``, ``report.json`` and
``figures/`` beside the registration (a quick run, not judged, writes into ``quick/``).  Every
path a report records is relative to the study folder.

A study is *prospective* when its registration says so and was committed before the run (the
report records the commit); data on which predictions were revised is *development* data
(``status="development"``), and is reported as such.
"""
from __future__ import annotations

import hashlib
import json
import math
import subprocess
from pathlib import Path

import numpy as np

from .. import __version__
from .._io import atomic_write, check_writable, json_text, refuse_overwrite
from ..protocol import CONFIDENCE, RULES, SEEDS, Prediction
from . import runner
from .base import StudyData

__all__ = ["REGISTRATION", "FORMAT", "STATUSES", "MIN_TRAIN", "MIN_TEST", "usable", "StudyError", "fingerprint",
           "registration_doc", "register", "read_registration", "check", "git_record", "run"]

REGISTRATION = "predictions.json"
FORMAT = "lossanalysis study registration 1"
#: The fewest training and test images a study takes (the networks' subsets are four fifths of
#: the training images; the blur and calibration measures need a few dozen test images).
MIN_TRAIN, MIN_TEST = 100, 20
STATUSES = ("prospective", "development")
_REL = 1e-9


class StudyError(ValueError):
    """A study cannot go on (no registration, a changed file, other images...): one line."""


def fingerprint(data: StudyData) -> str:
    """SHA-256 of the images (training then test split, float32, C order) and their shape."""
    h = hashlib.sha256(repr((tuple(data.shape), data.train.shape, data.test.shape)).encode())
    for x in (data.train, data.test):
        h.update(np.ascontiguousarray(x, dtype=np.float32).tobytes())
    return h.hexdigest()


def usable(data: StudyData) -> StudyData:
    """``data`` if a study can run on it, else StudyError saying why (too few images)."""
    if len(data.train) < MIN_TRAIN or len(data.test) < MIN_TEST:
        raise StudyError(f"{data.name}: {len(data.train)} training and {len(data.test)} test "
                         f"images; a study needs at least {MIN_TRAIN} and {MIN_TEST}")
    return data


def _data_doc(data: StudyData) -> dict:
    import dataclasses
    summary = {k: v for k, v in dataclasses.asdict(data.summary).items()
               if not k.startswith("hist")}
    return {"name": data.name, "shape": list(data.shape), "n_train": len(data.train),
            "n_test": len(data.test), "split": data.split, "notes": list(data.notes),
            "fingerprint": fingerprint(data), "profile": {"step": data.profile.step},
            "summary": summary}


def registration_doc(data: StudyData, experiments, *, status: str = "prospective") -> dict:
    """The registration of ``data``: nothing trained, nothing measured (see the module)."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    preds = runner.predict(data, experiments)
    exps = {}
    for mod in experiments:
        nets = mod.networks(data, False)
        exps[mod.LABEL] = {
            "name": mod.NAME,
            "networks": {name: {"settings": n.settings, "n": data.n_train(n.n),
                                "variant": n.variant} for name, n in nets.items()},
            "predictions": [p.to_dict() for p in preds[mod.LABEL]]}
    return {"format": FORMAT, "study": data.name, "status": status, "data": _data_doc(data),
            "protocol": {"seeds": list(SEEDS), "confidence": CONFIDENCE,
                         "rules": {r.name: r.formula for r in RULES.values()}},
            "experiments": exps, "lossanalysis": __version__}


def register(data: StudyData, folder, experiments=None, *, status: str = "prospective",
             force: bool = False) -> Path:
    """Write ``<folder>/predictions.json``; refuses to replace one unless ``force``."""
    experiments = runner.discover() if experiments is None else experiments
    usable(data)
    path = Path(folder) / REGISTRATION
    if path.exists() and not force:
        raise StudyError(f"{path} exists: a registration is written once (pass --force to "
                         "replace it, and say why in the commit)")
    refuse_overwrite([path], force=force)
    doc = registration_doc(data, experiments, status=status)
    check_writable(Path(folder), "--out")
    return atomic_write(path, json_text(doc, digits=12))


def read_registration(folder) -> tuple[dict, str]:
    """(registration, SHA-256 of the file); StudyError when missing or not a registration."""
    path = Path(folder) / REGISTRATION
    if not path.is_file():
        raise StudyError(f"no registration in {folder}: run `study DATA --register` first")
    raw = path.read_bytes()
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise StudyError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StudyError(f"{path} is not a study registration ({FORMAT!r})")
    return doc, hashlib.sha256(raw).hexdigest()


def git_record(path) -> dict:
    """Whether ``path`` is committed: {"tracked", "same_as_commit", "commit", "date"}; all None
    outside a git repository (or without git)."""
    path = Path(path).resolve()

    def git(*args, cwd=path.parent):
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=20)
    none = {"tracked": None, "same_as_commit": None, "commit": None, "date": None}
    try:
        top = git("rev-parse", "--show-toplevel")
        if top.returncode != 0:
            return none
        root = Path(top.stdout.decode().strip()).resolve()
        rel = path.relative_to(root).as_posix()
        head = git("show", f"HEAD:{rel}")
        if head.returncode != 0:
            return {**none, "tracked": False}
        log = git("log", "-1", "--format=%H %cI", "--", rel, cwd=root).stdout.decode().split()
        return {"tracked": True, "same_as_commit": head.stdout == path.read_bytes(),
                "commit": log[0][:12] if log else None, "date": log[1] if len(log) > 1 else None}
    except (OSError, subprocess.SubprocessError, ValueError):
        return none


def _differs(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            a, b = float(a), float(b)
        except (TypeError, ValueError):
            return True
        if math.isnan(a) and math.isnan(b):
            return False
        return not abs(a - b) <= _REL * max(1.0, abs(a), abs(b))
    return a != b


def check(data: StudyData, folder, experiments) -> dict:
    """The registration of ``folder``, checked against the file's committed version, the
    images and the code's predictions (StudyError naming the first difference).  Returns
    {"doc", "sha256", "git", "predictions": {label: [Prediction]}}."""
    doc, sha = read_registration(folder)
    where = Path(folder) / REGISTRATION
    git = git_record(where)
    if git["tracked"] and not git["same_as_commit"]:
        raise StudyError(f"{where} differs from its committed version: a registration is not "
                         "edited after it is committed")
    if doc["data"]["fingerprint"] != fingerprint(data):
        raise StudyError(f"the images are not those registered in {where} (their fingerprint "
                         "differs)")
    if list(doc["protocol"]["seeds"]) != list(SEEDS):
        raise StudyError(f"{where} registers the seeds {doc['protocol']['seeds']}, the "
                         f"protocol's are {list(SEEDS)}")
    labels = [m.LABEL for m in experiments]
    missing = [lab for lab in labels if lab not in doc["experiments"]]
    if missing:
        raise StudyError(f"{where} registers no predictions for {', '.join(missing)}")
    fresh = runner.predict(data, experiments)
    registered = {}
    for lab in labels:
        reg = [Prediction.from_dict(p) for p in doc["experiments"][lab]["predictions"]]
        now = {p.id: p for p in fresh[lab]}
        if [p.id for p in reg] != list(now):
            raise StudyError(f"{lab}: the code's predictions are not the registered ones "
                             f"(ids {sorted(set(now) ^ {p.id for p in reg})})")
        for p in reg:
            q = now[p.id].to_dict()
            bad = [k for k, v in p.to_dict().items() if _differs(v, q[k])]
            if bad:
                raise StudyError(f"{p.id}: the code now predicts another {bad[0]} than the "
                                 f"registration ({q[bad[0]]!r} vs {p.to_dict()[bad[0]]!r})")
        registered[lab] = reg
    return {"doc": doc, "sha256": sha, "git": git, "predictions": registered}


def run(data: StudyData, folder, experiments=None, *, quick: bool = False, workers: int = 1,
        source=None, force: bool = False, progress=None, command: str = "") -> dict:
    """Measure a registered study and write its report (see the module docstring).

    Returns {"report": path, "json": path, "figures": [paths], "run": :class:`.runner.Run`}.
    """
    from . import render
    experiments = runner.discover() if experiments is None else experiments
    usable(data)
    folder = Path(folder)
    out = folder / "quick" if quick else folder
    targets = [out / "report.md", out / "report.json"]
    if not force and any(p.exists() for p in targets) and not quick:
        raise StudyError(f"{out / 'report.json'} exists: pass --force to measure again and "
                         "replace the report")
    refuse_overwrite(targets, force=force or quick)
    if quick:
        reg = {"doc": None, "sha256": None, "git": None,
               "predictions": runner.predict(data, experiments)}
    else:
        reg = check(data, folder, experiments)
    check_writable(out, "--out")                # before hours of training, not after
    code = render.git_state()                   # the code that measures, before it runs
    measured = runner.run(data, experiments, reg["predictions"], quick=quick, workers=workers,
                          progress=progress, source=source)
    figures = render.save_figures(measured, experiments, out / "figures", progress)
    doc = render.json_doc(data, experiments, measured, reg, figures, out, command, code,
                          data_doc=_data_doc(data))
    atomic_write(out / "report.json", json_text(doc))
    atomic_write(out / "report.md", render.markdown(doc))
    return {"report": str(out / "report.md"), "json": str(out / "report.json"),
            "figures": [str(out / f) for fs in figures.values() for f in fs["files"]],
            "run": measured}


# ----------------------------------------------------------------------------------------------
# Pair studies: experiments that compare two finished studies (E7)
# ----------------------------------------------------------------------------------------------
class PairData:
    """What a pair experiment's result names: the pair, ``<a>-vs-<b>``."""

    def __init__(self, a: str, b: str):
        self.name = self.title = f"{a} vs {b}"


def _report(folder) -> dict:
    path = Path(folder) / "report.json"
    if not path.is_file():
        raise StudyError(f"{folder} has no report.json: measure that study first")
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("quick") or doc.get("registration") is None:
        raise StudyError(f"{path} is a quick run: a pair compares judged studies")
    return doc


def register_pair(a, b, folder, experiments=None, *, status: str = "prospective",
                  force: bool = False) -> Path:
    """Register the pair experiments comparing the studies in folders ``a`` and ``b`` (their
    registrations only are read: nothing measured) into ``<folder>/predictions.json``."""
    experiments = runner.discover(runner.PACKAGE, "pair") if experiments is None else experiments
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    path = Path(folder) / REGISTRATION
    if path.exists() and not force:
        raise StudyError(f"{path} exists: a registration is written once (pass --force)")
    refuse_overwrite([path], force=force)
    (ra, sa), (rb, sb) = read_registration(a), read_registration(b)
    exps = {}
    for mod in experiments:
        preds = [p.registered(_coarser(ra, rb)) for p in mod.predictions(ra["data"], rb["data"])]
        exps[mod.LABEL] = {"name": mod.NAME, "predictions": [p.to_dict() for p in preds]}
    doc = {"format": FORMAT, "study": f"{ra['study']}-vs-{rb['study']}", "status": status,
           "pair": {"a": {"study": ra["study"], "registration_sha256": sa},
                    "b": {"study": rb["study"], "registration_sha256": sb}},
           "protocol": {"seeds": list(SEEDS), "confidence": CONFIDENCE,
                        "rules": {r.name: r.formula for r in RULES.values()}},
           "experiments": exps, "lossanalysis": __version__}
    return atomic_write(path, json_text(doc, digits=12))


def _coarser(ra, rb):
    from ..protocol import Profile
    return Profile(max(ra["data"]["profile"]["step"], rb["data"]["profile"]["step"]))


def run_pair(a, b, folder, experiments=None, *, force: bool = False, command: str = "") -> dict:
    """Measure a registered pair from the two studies' reports; writes the pair's report
    (``command``: the command line to record, "" for a library call)."""
    import time

    from ..protocol import make_row
    from . import render
    from .base import Result
    t0 = time.perf_counter()
    experiments = runner.discover(runner.PACKAGE, "pair") if experiments is None else experiments
    folder = Path(folder)
    targets = [folder / "report.md", folder / "report.json"]
    if not force and any(p.exists() for p in targets):
        raise StudyError(f"{folder / 'report.json'} exists: pass --force to replace it")
    refuse_overwrite(targets, force=force)
    doc, sha = read_registration(folder)
    git = git_record(folder / REGISTRATION)
    if git["tracked"] and not git["same_as_commit"]:
        raise StudyError(f"{folder / REGISTRATION} differs from its committed version")
    reports = []
    for key, where in (("a", a), ("b", b)):
        rep, (_, sha_c) = _report(where), read_registration(where)
        if sha_c != doc["pair"][key]["registration_sha256"]:
            raise StudyError(f"{where}: its registration is not the one this pair registered")
        reports.append(rep)
    results = {}
    for mod in experiments:
        preds = [Prediction.from_dict(p) for p in doc["experiments"][mod.LABEL]["predictions"]]
        per_seed = [mod.measure(reports[0], reports[1], i) for i in range(len(SEEDS))]
        rows = [make_row(p, [m.get(p.id, math.nan) for m in per_seed], SEEDS) for p in preds]
        results[mod.LABEL] = Result(mod.LABEL, PairData(reports[0]["study"],
                                                        reports[1]["study"]),
                                    SEEDS, rows, per_seed, {})
    measured = runner.Run(results, SEEDS, False, 1, time.perf_counter() - t0)
    figures = render.save_figures(measured, experiments, folder / "figures")
    pair_doc = render.pair_doc(doc, sha, git, experiments, measured, figures, command)
    atomic_write(folder / "report.json", json_text(pair_doc))
    atomic_write(folder / "report.md", render.markdown(pair_doc))
    return {"report": str(folder / "report.md"), "json": str(folder / "report.json")}
