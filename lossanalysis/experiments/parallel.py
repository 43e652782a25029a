"""Running the tasks of a run: in this process, or in worker processes, with the same results.

:class:`Runner` takes :class:`Task` s (with dependencies) and
runs each once -- tasks with equal keys are one task, so a network two experiments ask for is
trained once.  ``workers=1`` runs them here, one after another; ``workers=N`` runs them in N
worker processes started with the ``spawn`` method, each with one BLAS thread (the thread
variables are set in the environment the workers start with, so they hold before NumPy is
imported there).  A task is a pure function of its arguments, the dataset and its dependencies'
results, so where it runs does not change its result: a serial run and a parallel one with
the same BLAS threading give identical numbers.

Order: among the tasks whose dependencies are done, the highest priority first, then the
costliest (list scheduling by the tasks' cost estimates), at most ``workers`` at a time.  After each task a progress line
gives the count, the task's time and an ETA for all known tasks, the cost estimates scaled by
the time the finished tasks actually took.  ``on_done(task, result)`` (a callback in this
process) may add further tasks, e.g. an experiment's figure once its measurements are in.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Task", "Runner", "TaskFailed", "THREAD_VARS", "single_threaded_env", "worker_info",
           "default_workers"]

#: The environment variables that set the BLAS / OpenMP thread counts.
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def default_workers() -> int:
    """The CPU count available to this process (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def single_threaded_env():
    """Set every thread variable to 1 for processes started inside the block; restore after."""
    old = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update({k: "1" for k in THREAD_VARS})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def worker_info(*, deps=None) -> dict:
    """The process id and thread settings of the process that runs it (a task for tests)."""
    return {"pid": os.getpid(), **{k: os.environ.get(k) for k in THREAD_VARS}}


class TaskFailed(RuntimeError):
    """A task raised: the message names the task and the error (the original is its
    ``__cause__``); the other tasks' results are not kept."""


@dataclass(frozen=True)
class Task:
    """A unit of work: ``fn(*args, deps=...)`` with ``deps`` the results of the tasks named in
    ``deps`` (a dict key -> result).  ``key`` identifies the work completely (a network's key
    holds its whole configuration, so that a change of any setting retrains it, and two
    experiments asking for the same network share one training); ``cost`` is a rough estimate
    in seconds, for the order of the work and the ETA; among ready tasks the higher
    ``priority`` runs first."""
    key: tuple
    fn: object
    args: tuple = ()
    deps: tuple = ()
    cost: float = 1.0
    label: str = ""
    priority: int = 0


def _call(fn, args, deps):
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn(*args, deps=deps)
    return result, time.perf_counter() - t0, time.process_time() - c0


def _eta(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{int(seconds // 60)} min {int(round(seconds % 60)):02d} s"


class Runner:
    """Run tasks with dependencies, each once, serially or in worker processes.

    Parameters
    ----------
    workers : int
        1: in this process; more: that many spawned worker processes.
    progress : callable or None
        Called with one line per finished task (e.g. ``print``).

    Examples
    --------
    >>> def double(x, *, deps): return 2 * x + sum(deps.values())
    >>> with Runner(workers=1) as r:
    ...     r.add([Task(("a",), double, (1,)), Task(("b",), double, (10,), deps=(("a",),))])
    ...     r.run()
    ...     r.results[("b",)]
    22
    """

    def __init__(self, workers: int = 1, progress=None):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
        self.workers = workers
        self.progress = progress
        self.tasks: dict = {}
        self.results: dict = {}
        self.seconds: dict = {}
        #: CPU seconds of each task (its process's time while it ran: on a loaded machine a
        #: better measure of the work than the wall-clock seconds)
        self.cpu: dict = {}
        self._pool = None
        self._env = None
        self.t0 = time.perf_counter()

    # -- lifetime --------------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _executor(self):
        if self._pool is None:
            # the workers are spawned on demand, so the variables stay set until close()
            self._env = single_threaded_env()
            self._env.__enter__()
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._env is not None:
            self._env.__exit__(None, None, None)
            self._env = None

    # -- tasks -----------------------------------------------------------------------------
    def add(self, tasks) -> None:
        """Add tasks; a task whose key is known already is the same work and is ignored."""
        for t in tasks:
            if t.key not in self.tasks:
                self.tasks[t.key] = t

    def _ready(self, running):
        out = []
        for key, t in self.tasks.items():
            if key in self.results or key in running:
                continue
            missing = [d for d in t.deps if d not in self.tasks]
            if missing:
                raise ValueError(f"task {t.label or key} depends on unknown tasks {missing}")
            if all(d in self.results for d in t.deps):
                out.append(t)
        out.sort(key=lambda t: (-t.priority, -t.cost, repr(t.key)))
        return out

    def _report(self, task, seconds):
        if self.progress is None:
            return
        done = [k for k in self.tasks if k in self.results]
        left = [t for k, t in self.tasks.items() if k not in self.results]
        spent = sum(self.seconds[k] for k in done)
        est = sum(self.tasks[k].cost for k in done)
        rate = spent / est if est > 0 else 1.0
        eta = rate * sum(t.cost for t in left) / self.workers
        self.progress(f"{len(done)}/{len(self.tasks)} tasks, ETA {_eta(eta)}: "
                      f"{task.label or task.key} ({seconds:.1f} s)")

    def _finish(self, task, result, seconds, cpu, on_done):
        self.results[task.key] = result
        self.seconds[task.key] = seconds
        self.cpu[task.key] = cpu
        self._report(task, seconds)
        if on_done is not None:
            on_done(task, result)

    def run(self, on_done=None) -> None:
        """Run every task not yet run, including those ``on_done`` adds, until none is left."""
        if self.workers == 1:
            while True:
                ready = self._ready(())
                if not ready:
                    break
                t = ready[0]
                try:
                    result, seconds, cpu = _call(t.fn, t.args,
                                                 {d: self.results[d] for d in t.deps})
                except Exception as err:
                    raise TaskFailed(f"task {t.label or t.key} failed: "
                                     f"{type(err).__name__}: {err}") from err
                self._finish(t, result, seconds, cpu, on_done)
        else:
            running = {}
            try:
                while True:
                    for t in self._ready(running):
                        if len(running) >= self.workers:
                            break
                        deps = {d: self.results[d] for d in t.deps}
                        running[t.key] = (t, self._executor().submit(_call, t.fn, t.args, deps))
                    if not running:
                        break
                    finished, _ = cf.wait([f for _, f in running.values()],
                                          return_when=cf.FIRST_COMPLETED)
                    for key in [k for k, (_, f) in running.items() if f in finished]:
                        t, fut = running.pop(key)
                        try:
                            result, seconds, cpu = fut.result()
                        except Exception as err:
                            raise TaskFailed(f"task {t.label or key} failed: "
                                             f"{type(err).__name__}: {err}") from err
                        self._finish(t, result, seconds, cpu, on_done)
            except BaseException:
                self.close()
                raise
        left = [t.label or k for k, t in self.tasks.items() if k not in self.results]
        if left:
            raise RuntimeError(f"tasks left with unfinished dependencies: {left}")
