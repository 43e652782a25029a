"""The task runner of the experiments (experiments.parallel): dependencies, duplicates, and
worker processes that compute the serial run's bits."""
from __future__ import annotations

import numpy as np
import pytest

from lossanalysis.experiments.parallel import THREAD_VARS, Runner, Task, worker_info


def _matmul(seed, *, deps):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((60, 40)).astype(np.float32)
    return float((a @ a.T).sum()) + sum(deps.values())


def _tasks():
    return [Task(("a", i), _matmul, (i,), cost=i) for i in range(3)] + [
        Task(("b",), _matmul, (9,), deps=(("a", 0), ("a", 2)))]


def test_runner_dependencies_callbacks_and_duplicates():
    seen = []
    with Runner(workers=1) as r:
        r.add(_tasks())
        r.add([Task(("a", 0), _matmul, (99,))])            # same key: the same work, ignored

        def on_done(task, result):
            seen.append(task.key)
            if task.key == ("b",):
                r.add([Task(("c",), _matmul, (5,), deps=(("b",),))])
        r.run(on_done)
    assert seen.index(("b",)) > max(seen.index(("a", 0)), seen.index(("a", 2)))
    assert ("c",) in r.results and len(r.results) == 5
    assert r.results[("a", 0)] == _matmul(0, deps={})
    with Runner(workers=1) as r2:
        r2.add([Task(("x",), _matmul, (1,), deps=(("missing",),))])
        with pytest.raises(ValueError, match="unknown tasks"):
            r2.run()
    with pytest.raises(ValueError, match="workers"):
        Runner(workers=0)


def test_worker_processes_match_the_serial_run():
    """Two spawned workers, each with one BLAS thread, give the serial results bit for bit."""
    with Runner(workers=1) as serial:
        serial.add(_tasks())
        serial.run()
    with Runner(workers=2) as par:
        par.add(_tasks() + [Task(("info", i), worker_info, cost=0) for i in range(2)])
        par.run()
    for key, value in serial.results.items():
        assert par.results[key] == value, key
    for i in range(2):
        info = par.results[("info", i)]
        assert all(info[v] == "1" for v in THREAD_VARS), info
