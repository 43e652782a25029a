"""Shared fixtures.

``real_data``: the folder named by ``LOSSANALYSIS_DATA``, holding ``mnist/`` and
``fashion-mnist/`` with the four standard IDX files each (``.gz`` or not).  Tests on the real
datasets take it; without it they are skipped -- except under CI (the ``CI`` variable set),
where a missing dataset is a failure, so that a broken data set-up cannot pass as green.

``experiment_run``: one registered run of every experiment on the real MNIST with tiny networks
(:data:`TINY`), in this process, shared by every test that needs trained networks.

BLAS runs on one thread in the test process (set before NumPy is imported), as in the
experiments' worker processes, so that a serial run here and a parallel one give the same bits.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from lossanalysis import data  # noqa: E402

#: Settings of the shared experiment run: the real MNIST, networks small enough for a test.
TINY = {"settings": {
    "E1": {"steps": 200, "ae_steps": 5, "ae_images": 4, "ae_sizes": (784, 16, 4),
           "n_locations": 8},
    "E2": {"n_train": 200, "n_eval": 16, "batch": 8, "max_steps": 400, "eval_every_slow": 5,
           "lr_sgd": 0.05, "lr_adam": 0.01, "ae_sizes": (784, 16, 4), "eta_free": 1.0},
    "ae": {"sizes": (784, 16, 4), "n_train": 300, "n_eval": 100, "epochs": 1, "batch": 50},
    "vae": {"n_train": 300, "n_eval": 60, "epochs": 1, "lin_epochs": 1, "lin_anneal": (1,),
            "count_epochs": 2, "hidden": 16, "latent": 4, "n_calib": 50, "batch_size": 50},
    "E8": {"free_draws": 32, "free_steps": 150, "latent_samples": 2, "n_vae": 100},
},
    # one deliberately wrong prediction: the same machinery must refute it
    "override": {"E2.ae.first_step.sgd": 1.0}}
#: Its seeds, and the seed the registered rule may add (not the registered run's 3-8).
TINY_SEEDS, TINY_EXTRA = (30, 31), (32,)


def _problem(folder):
    if not folder:
        return "LOSSANALYSIS_DATA is not set"
    missing = [f"{folder}/{name}/{base}[.gz]"
               for name in data.DATASETS
               for split in data.SPLITS for base in data.FILES[split]
               if not any((Path(folder) / name / (base + ext)).is_file() for ext in ("", ".gz"))]
    return ("missing " + ", ".join(missing)) if missing else None


@pytest.fixture(scope="session")
def real_data():
    folder = os.environ.get(data.DATA_ENV)
    problem = _problem(folder)
    if problem:
        message = (f"the real-data tests need MNIST and Fashion-MNIST: {problem}. Set "
                   f"{data.DATA_ENV} to a folder holding mnist/ and fashion-mnist/ "
                   "(CI uses ../shared/data).")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def experiment_run(tmp_path_factory, real_data):
    """Register, then run every experiment on MNIST with :data:`TINY` (one worker: in this
    process).  Returns {"out", "predictions", "registered", "written", "md", "json"}."""
    import json

    from lossanalysis.experiments import report
    root = tmp_path_factory.mktemp("experiment_run")
    pred = root / "predictions"
    registered = report.register(["mnist"], seeds=TINY_SEEDS, extra_seeds=TINY_EXTRA,
                                 out_dir=str(pred), data_dir=real_data, quiet=True, workers=1,
                                 extra=TINY)
    written = report.run_all(["mnist"], seeds=TINY_SEEDS, extra_seeds=TINY_EXTRA,
                             out_dir=str(root / "reports"), figures_dir=str(root / "figures"),
                             data_dir=real_data, quiet=True, command="tiny test run",
                             extra=TINY, workers=1, registration_dir=str(pred))
    w = written["mnist"]
    return {"out": root / "reports", "figures": root / "figures", "predictions": pred,
            "registered": registered["mnist"], "written": w, "run": w["run"],
            "md": Path(w["report"]).read_text(encoding="utf-8"),
            "json": json.loads(Path(w["json"]).read_text(encoding="utf-8"))}


# ---------------------------------------------------------------- helpers on the shared run
# (imported by the tests that rewrite a run's facts to check that the report text follows)
def experiment_state(run, label):
    """The state of experiment ``label`` (e.g. "E4") in ``experiment_run["run"]``."""
    return next(s for s in run["states"] if s.label == label)


def experiment_text(state, measured=None, rows=None, prep=None):
    """The experiment's report text, from the run's state with any part replaced."""
    return state.mod.text(state.cfg, prep or state.prep, measured or state.measured,
                          rows if rows is not None else state.rows)


def with_observation(measured, name, values):
    """A copy of ``measured`` whose observation ``name`` holds ``values`` (a sequence, one per
    seed, cut to one value for a seed-independent observation; or a number for every seed)."""
    import copy

    from lossanalysis.experiments.core import Observation
    m = copy.deepcopy(measured)
    old = m.observations[name]
    if isinstance(values, (int, float)):
        vals = (float(values),) * len(old.values)
    else:
        vals = tuple(values) if len(old.values) > 1 else tuple(values)[:1]
    m.observations[name] = Observation(vals, old.seeds, old.unit)
    return m
