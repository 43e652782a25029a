"""Running experiments on a study's data: every task is derived from the experiments'
declarations (:mod:`.base`), so adding an experiment is adding its module.

* :func:`discover` finds the experiment modules (``eN_*.py``) of a package, in order of N.
* :func:`predict` computes every experiment's predictions from the data alone and sets each
  tolerance by its rule (:mod:`lossanalysis.protocol`): what a registration holds.
* :func:`run` trains each declared network once per seed (a network two experiments declare is
  one task), measures each experiment on each seed, and judges the rows against the registered
  predictions.  All tasks are known before the first one starts (the protocol adds no seed), so
  the ETA counts every task from the start.  ``workers=1`` runs in this process; more workers
  need data read from a file (a :class:`.base.Source`), which each worker loads once.
"""
from __future__ import annotations

import importlib
import math
import pkgutil
import re
import time
from dataclasses import dataclass, field

import numpy as np

from ..protocol import SEEDS, Observation, make_row
from .base import Result, Source, StudyData
from .parallel import Runner, Task

__all__ = ["discover", "predict", "run", "Run", "quick_seeds", "MODULE_NAME", "PACKAGE"]

#: The package whose ``eN_*`` modules are the experiments of a study.
PACKAGE = "lossanalysis.experiments"

#: The name of an experiment module: ``e<N>_<name>``.
MODULE_NAME = re.compile(r"^e(\d+)_[a-z0-9_]+$")


def quick_seeds() -> tuple:
    """The seeds of a quick (smoke-test) run: the first two."""
    return SEEDS[:2]


def discover(package: str = PACKAGE, scope: str = "single", stage: str | None = "main") -> list:
    """The experiment modules of ``package`` (``e<N>_*.py``), in order of N, of ``scope``:
    "single" (measured on one study's data) or "pair" (comparing two finished studies, a module
    with ``SCOPE = "pair"``), and of ``stage``: "main" (the study), "mechanisms" (a module with
    ``STAGE = "mechanisms"``: why the others depart from the analysis, measured apart) or None
    (every stage)."""
    pkg = importlib.import_module(package)
    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        m = MODULE_NAME.match(info.name)
        if m:
            mod = importlib.import_module(f"{package}.{info.name}")
            if getattr(mod, "SCOPE", "single") == scope and stage in (
                    None, getattr(mod, "STAGE", "main")):
                found.append((int(m.group(1)), mod))
    return [mod for _, mod in sorted(found, key=lambda t: t[0])]


def _check_module(mod) -> None:
    missing = [name for name in ("LABEL", "NAME", "networks", "predictions", "measure",
                                 "figure", "FINDINGS", "OBSERVATIONS") if not hasattr(mod, name)]
    if missing:
        raise ValueError(f"experiment module {mod.__name__} lacks {', '.join(missing)} "
                         "(see lossanalysis.experiments.base)")


def predict(data: StudyData, experiments) -> dict:
    """{label: [registered Prediction]}: each experiment's predictions for ``data``, with the
    tolerance its rule gives for the data's profile.  Nothing is trained."""
    out = {}
    for mod in experiments:
        _check_module(mod)
        preds = [p.registered(data.profile) for p in mod.predictions(data)]
        ids = [p.id for p in preds]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"{mod.LABEL}: duplicate prediction ids {dup}")
        wrong = [i for i in ids if not i.startswith(mod.LABEL + ".")]
        if wrong:
            raise ValueError(f"{mod.LABEL}: prediction ids must start with '{mod.LABEL}.': {wrong}")
        out[mod.LABEL] = preds
    return out


# ----------------------------------------------------------------------------------------------
# Tasks (module-level functions: they run in worker processes)
# ----------------------------------------------------------------------------------------------
def _data(ref) -> StudyData:
    return ref if isinstance(ref, StudyData) else ref.load()


def _train(ref, net, seed, *, deps=None):
    x = _data(ref).seed_data(seed).train(net.n, net.variant)
    return net.train(x, net.settings, seed)


def _measure(ref, module_name, nets, seed, quick=False, *, deps):
    mod = importlib.import_module(module_name)
    trained = {name: deps[key] for name, key in nets.items()}
    out = mod.measure(trained, _data(ref).seed_data(seed, quick))
    if not isinstance(out, dict):
        raise TypeError(f"{mod.LABEL}.measure must return a dict, got {type(out).__name__}")
    return out


def _values(mod, out: dict, preds) -> None:
    """Check one seed's measurements: a float for every applicable prediction and every
    observation (an undefined statistic may be NaN)."""
    need = [p.id for p in preds if not p.applicable] + list(mod.OBSERVATIONS)
    missing = [k for k in need if k not in out]
    if missing:
        raise ValueError(f"{mod.LABEL}.measure gave no value for {missing}")
    for k in need:
        v = out[k]
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.floating,
                                                                 np.integer)):
            raise TypeError(f"{mod.LABEL}.measure: {k} must be a number, got {type(v).__name__}")


@dataclass
class Run:
    """What :func:`run` returns: {label: :class:`.base.Result`}, the seeds, the mode, and the
    wall and CPU seconds of every task (keys as the tasks')."""
    results: dict
    seeds: tuple
    quick: bool
    workers: int
    wall: float
    seconds: dict = field(default_factory=dict)
    cpu: dict = field(default_factory=dict)


def run(data: StudyData, experiments, registered: dict, *, quick: bool = False,
        workers: int = 1, progress=None, source: Source | None = None) -> Run:
    """Measure every experiment on ``data`` and judge it against ``registered`` ({label:
    [Prediction]}, as :func:`predict` gives them).

    ``quick``: smaller networks, :func:`quick_seeds`, nothing judged.  ``workers > 1`` needs
    ``source`` (the file the data was read from).
    """
    if workers > 1 and source is None:
        raise ValueError("a run in worker processes needs the data's source file (source=...)")
    t0 = time.perf_counter()
    ref = source if workers > 1 else data
    seeds = quick_seeds() if quick else SEEDS
    tasks = []
    for mod in experiments:
        _check_module(mod)
        nets = mod.networks(data, quick)
        for s in seeds:
            net_keys = {}
            for name, net in nets.items():
                key = ("net", data.name, net.key, s)
                net_keys[name] = key
                tasks.append(Task(key, _train, (ref, net, s), cost=net.cost,
                                  label=f"{data.name} {net.name} seed {s}"))
            tasks.append(Task(("measure", data.name, mod.LABEL, s, quick), _measure,
                              (ref, mod.__name__, net_keys, s, quick),
                              deps=tuple(net_keys.values()),
                              cost=getattr(mod, "COST", 1.0),
                              label=f"{data.name} {mod.LABEL} seed {s}: measured"))
    from ..nn.parallel import blas_limit
    with Runner(workers, progress) as runner, blas_limit(1):
        runner.add(tasks)
        runner.run()
        results = {}
        for mod in experiments:
            preds = registered[mod.LABEL]
            per_seed = [runner.results[("measure", data.name, mod.LABEL, s, quick)]
                        for s in seeds]
            for out in per_seed:
                _values(mod, out, preds)
            rows = [make_row(p, [out.get(p.id, math.nan) for out in per_seed], seeds,
                             judged=not quick) for p in preds]
            obs = {name: Observation(tuple(float(out[name]) for out in per_seed), seeds, unit)
                   for name, unit in mod.OBSERVATIONS.items()}
            results[mod.LABEL] = Result(mod.LABEL, data, seeds, rows, per_seed, obs)
        return Run(results, seeds, quick, workers, time.perf_counter() - t0,
                   dict(runner.seconds), dict(runner.cpu))
