"""Assemble a run of the experiments into reports: nothing here measures or judges by itself.

:func:`run_all` (what ``scripts/confirm_predictions.py`` calls) takes the experiments of
:data:`lossanalysis.experiments.EXPERIMENTS` through their protocol (:mod:`.core`): for each
dataset each experiment's ``prepare`` (its predictions), its ``tasks`` (run by
:class:`.parallel.Runner`, serially or in worker processes; shared networks once), its
``measure``, the rows (:func:`.core.make_row`: interval and verdict), the registered rule's extra
seeds where a falsifiable row is inconclusive, the comparison with the registration
(:mod:`.registration`), the figures (as tasks) and the text; then the experiments that need
every dataset (E7), the thread's claims, and it writes

* ``<out>/<dataset>.md`` -- the report: falsifiable counts first, the header (command, seeds,
  registration and its SHA-256, data, version, wall time and worker processes), the summary
  tables (falsifiable predictions and consistency checks apart), the disclosure of the
  predictions revised after an earlier measurement, the claims, a section per experiment;
* ``<out>/<dataset>.json`` -- see :func:`json_doc` for the schema.

:func:`register` writes ``predictions/<dataset>.json`` without training anything.  The
Markdown is byte-stable for a given code version, data and machine except for the lines that
contain "Run time".
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

from .._io import atomic_write
from . import EXPERIMENTS, module, registration
from .core import (CONFIRMED, CONSISTENCY, DATASET_TITLES, DEFAULT_SEEDS, EXTRA_SEEDS,
                   FALSIFIABLE, INCONCLUSIVE, NOT_JUDGED, OLD_COMMIT, REFUTED, Observation,
                   Progress, RunConfig, Task, cell, dataset, file_stem, fmt, make_row, run_seeds)
from .parallel import Runner, default_workers

__all__ = ["run_all", "register", "render", "json_doc", "revisions",
           "pixel_observations", "claim_evidence", "version_info", "git_state", "git_label", "TIMING_MARK",
           "DATASET_TITLES", "OUTPUT_DIRS", "counts", "count_line"]

#: Every line of the report that carries a wall-clock time contains this.
TIMING_MARK = "Run time"
#: Folders that a run writes into (they do not change the results): a modified or untracked
#: file there does not make the working tree count as modified.
OUTPUT_DIRS = ("reports", "figures", "runs")
_OP = {"equal": "=", "at_least": "≥", "at_most": "≤"}


# ----------------------------------------------------------------------------------------------
# Tasks the report runs for the experiments
# ----------------------------------------------------------------------------------------------
def _prepare(label, cfg, *, deps=None) -> dict:
    """An experiment's ``prepare`` (task function: loads the data in its process)."""
    return module(label).prepare(cfg, dataset(cfg.data))


def _figure(label, cfg, prep, measured, stem, *, deps=None) -> dict:
    """An experiment's figure, saved as PDF and PNG, and where its legends cover anything
    (:func:`lossanalysis.plotting.legend_overlaps`, checked after saving) (task function)."""
    from .. import plotting
    fig = module(label).figure(cfg, prep, measured)
    if fig is None:
        return {"paths": [], "overlaps": []}
    paths = [str(p) for p in plotting.save(fig, stem)]
    return {"paths": paths, "overlaps": [" / ".join(o) for o in plotting.legend_overlaps(fig)]}


def _configs(datasets, seeds, extra_seeds, quick, data_dir, figures_dir, extra) -> dict:
    return {ds: RunConfig(dataset=ds, seeds=tuple(seeds), extra_seeds=tuple(extra_seeds),
                          quick=quick, data_dir=data_dir, figures_dir=str(figures_dir),
                          extra=dict(extra or {})) for ds in datasets}


def _labels(only):
    labels = [lab for lab, _ in EXPERIMENTS]
    if only is not None:
        unknown = sorted(set(only) - set(labels))
        if unknown:
            raise ValueError(f"only: unknown experiments {unknown} (known: {', '.join(labels)})")
        labels = [lab for lab in labels if lab in only]
    return labels


def _workers(workers) -> int:
    w = default_workers() if workers is None else workers
    if isinstance(w, bool) or not isinstance(w, int) or w < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    return w


# ----------------------------------------------------------------------------------------------
# Registration
# ----------------------------------------------------------------------------------------------
def register(datasets, *, seeds=DEFAULT_SEEDS, extra_seeds=EXTRA_SEEDS, out_dir="predictions",
             data_dir=None, quiet=False, workers=None, extra=None, only=None) -> dict:
    """Compute every prediction (no training) and write ``<out_dir>/<dataset>.json``.

    Returns {dataset: {"path", "sha256", "predictions": count}}.
    """
    progress = Progress(quiet=quiet)
    cfgs = _configs(datasets, seeds, extra_seeds, False, data_dir, "figures", extra)
    labels = _labels(only)
    preps = {}
    with Runner(_workers(workers), progress) as runner:
        runner.add([Task(("prepare", ds, lab), _prepare, (lab, cfgs[ds]), cost=5.0,
                         label=f"{ds} {lab}: predictions") for ds in cfgs for lab in labels])
        runner.run()
        for ds in cfgs:
            for lab in labels:
                preps[ds, lab] = runner.results[("prepare", ds, lab)]
    written = {}
    for ds, cfg in cfgs.items():
        doc = registration.registration_doc(ds, {
            lab: {"predictions": preps[ds, lab]["predictions"],
                  "settings": module(lab).settings(cfg), "seeds": cfg.seeds,
                  "extra_seeds": cfg.extra_seeds} for lab in labels})
        path = Path(out_dir) / f"{ds}.json"
        registration.write(path, doc)
        written[ds] = {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                       "predictions": len(doc["predictions"])}
        progress(f"{ds}: registered {len(doc['predictions'])} predictions in {path}")
    return written


# ----------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------
class _State:
    """One (dataset, experiment) through the run."""

    def __init__(self, ds, label, cfg):
        self.ds, self.label, self.cfg = ds, label, cfg
        self.mod = module(label)
        self.prep = None
        self.seeds = run_seeds(cfg)
        self.extended = False
        self.pending = None          # task keys of the current round
        self.measured = None
        self.rows = None
        self.figures = []
        self.overlaps = []
        self.stem = os.path.join(cfg.figures_dir, f"{file_stem(ds)}_"
                                 f"{dict(EXPERIMENTS)[label]}")


def _inconclusive_falsifiable(rows) -> bool:
    return any(r.prediction.kind == FALSIFIABLE and r.verdict == INCONCLUSIVE for r in rows)


def _rows(state) -> list:
    m, judged = state.measured, not state.cfg.quick
    out = []
    for p in state.prep["predictions"]:
        if p.id not in m.values:
            raise RuntimeError(f"{state.label} produced no measurement for {p.id}")
        out.append(make_row(p, m.values[p.id], m.row_seeds.get(p.id, m.seeds),
                            m.notes.get(p.id, ""), judged=judged))
    return out


def run_all(datasets, *, seeds=DEFAULT_SEEDS, extra_seeds=EXTRA_SEEDS, quick=False,
            out_dir="reports", figures_dir="figures", data_dir=None, quiet=False, command="",
            only=None, extra=None, workers=None, registration_dir="predictions",
            figures=True) -> dict:
    """Run the experiments on each dataset and write ``<out_dir>/<dataset>.md`` and ``.json``.

    ``figures=False`` skips the figures (tests).  Returns {dataset: {"report", "json", "rows",
    "wall_time", "workers", "quick", "run"}} (``run``: what the report was rendered from).
    """
    t0 = time.perf_counter()
    progress = Progress(quiet=quiet)
    workers = _workers(workers)
    load_start = _load()
    version = version_info()       # before anything is written
    progress(f"lossanalysis {version['lossanalysis']}, git {git_label(version)}, {workers} "
             f"worker process{'es' if workers > 1 else ''}")
    cfgs = _configs(datasets, seeds, extra_seeds, quick, data_dir, figures_dir, extra)
    labels = _labels(only)
    regs = {}
    for ds in cfgs:
        path = Path(registration_dir) / f"{ds}.json"
        regs[ds] = (None if quick or not path.exists()
                    else (str(path),) + registration.read(path))
    states = {(ds, lab): _State(ds, lab, cfgs[ds]) for ds in cfgs for lab in labels}
    per_ds = [s for s in states.values() if not getattr(s.mod, "AFTER_ALL", False)]
    after = [s for s in states.values() if getattr(s.mod, "AFTER_ALL", False)]

    with Runner(workers, progress) as runner:
        def start(state, seeds):
            state.seeds = tuple(seeds)
            tasks = state.mod.tasks(state.cfg, state.prep, state.seeds)
            state.pending = {t.key for t in tasks}
            runner.add(tasks)

        def finish(state):
            state.rows = _rows(state)
            if (not state.cfg.quick and not state.extended and state.cfg.extra_seeds
                    and _inconclusive_falsifiable(state.rows)):
                state.extended = True
                progress(f"{state.ds} {state.label}: a falsifiable row is inconclusive on "
                         f"seeds {list(state.seeds)}; the registered rule adds seeds "
                         f"{list(state.cfg.extra_seeds)}")
                start(state, state.seeds + state.cfg.extra_seeds)
                return check(state)
            state.pending = None
            if not figures:
                return
            runner.add([Task(("figure", state.ds, state.label), _figure,
                             (state.label, state.cfg, state.prep, state.measured, state.stem),
                             cost=3.0, label=f"{state.ds} {state.label}: figure")])

        def check(state):
            if state.pending is not None and state.pending <= runner.results.keys():
                state.measured = state.mod.measure(state.cfg, state.prep, state.seeds,
                                                   runner.results)
                finish(state)

        def on_done(task, result):
            if task.key[0] == "prepare":
                state = states[task.key[1], task.key[2]]
                state.prep = result
                start(state, state.seeds)
                check(state)
            elif task.key[0] == "figure":
                state = states[task.key[1], task.key[2]]
                state.figures, state.overlaps = result["paths"], result["overlaps"]
                for o in state.overlaps:
                    progress(f"{state.ds} {state.label}: a legend covers {o}")
            else:
                for state in per_ds:
                    if state.pending and task.key in state.pending:
                        check(state)

        runner.add([Task(("prepare", s.ds, s.label), _prepare, (s.label, s.cfg), cost=5.0,
                         label=f"{s.ds} {s.label}: predictions", priority=1) for s in per_ds])
        runner.run(on_done)
        for s in after:
            s.prep = s.mod.prepare(s.cfg, None)
        if after:
            context = _after_context(cfgs, per_ds, out_dir, labels)
            for s in after:
                s.measured = s.mod.measure(s.cfg, s.prep, s.seeds, runner.results, context)
                s.rows = _rows(s)
                s.seeds = s.measured.seeds
                if figures:
                    drawn = _figure(s.label, s.cfg, s.prep, s.measured, s.stem)
                    s.figures, s.overlaps = drawn["paths"], drawn["overlaps"]
    wall = time.perf_counter() - t0
    observations = {ds: _observations(ds, [states[ds, lab] for lab in labels],
                                      dataset(cfgs[ds].data)) for ds in cfgs}
    written = {}
    for ds, cfg in cfgs.items():
        data = dataset(cfg.data)
        mine = [states[ds, lab] for lab in labels]
        reg = regs[ds]
        revised = {i for r in revisions(labels) for i in r.ids}
        rows, missing = [], []
        for s in mine:
            not_reg = s.measured.extra.get("not_registrable")
            compared, miss = registration.compare(
                s.rows, None if reg is None else reg[1], {s.label: s.mod.settings(cfg)},
                quick=cfg.quick, unregistrable={r.id: not_reg for r in s.rows} if not_reg else {},
                revised=revised)
            s.rows = compared
            rows += compared
            missing += [i for i in miss if i.startswith(s.label + ".")]
        if reg is not None:
            produced = {r.id for r in rows}
            missing = sorted(i for i in reg[1]["predictions"] if i not in produced)
        obs = observations[ds]
        run = {"cfg": cfg, "states": mine, "rows": rows, "observations": obs, "data": data,
               "registration": None if reg is None else {"path": reg[0], "sha256": reg[2]},
               "missing": missing, "version": version, "wall_time": wall, "workers": workers,
               "load": {"start": load_start, "end": _load()}, "command": command,
               "task_seconds": _task_seconds(runner, ds), "labels": labels}
        run["claims"] = []
        run["claims"] = claims_module().evaluate_all(claim_evidence(json_doc(run)))
        md = render(run, out_dir=out_dir)
        doc = json_doc(run)
        md_path, js_path = Path(out_dir) / f"{ds}.md", Path(out_dir) / f"{ds}.json"
        atomic_write(md_path, md)
        atomic_write(js_path, json.dumps(doc, indent=1, sort_keys=True) + "\n")
        written[ds] = {"report": str(md_path), "json": str(js_path), "rows": rows,
                       "wall_time": wall, "workers": workers, "quick": cfg.quick, "run": run}
        progress(f"{ds}: wrote {md_path} and {js_path}")
    progress(f"done in {time.perf_counter() - t0:.0f} s")
    return written


def claims_module():
    from .. import claims
    return claims


def _load():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Unix
        return None


def _task_seconds(runner, ds) -> dict:
    """CPU seconds of the tasks of a dataset, per experiment (its prepare, measuring and figure
    tasks), for the shared networks, and in total."""
    out = {}
    for key, secs in runner.cpu.items():
        if ds in key:
            lab = key[0] if key[0] in dict(EXPERIMENTS) else key[2] if key[0] in (
                "prepare", "figure") else "networks"
            out[lab] = out.get(lab, 0.0) + secs
    out = {k: out[k] for k in sorted(out, key=lambda k: (k == "networks", k))}
    out["total"] = sum(out.values())
    return out


def _observations(ds, states, data) -> dict:
    """Every observation of a dataset's run, merged (an observation two experiments publish
    must agree), with the pixel statistics."""
    out = pixel_observations(data)
    for s in states:
        if s.measured is None:
            continue
        for name, o in s.measured.observations.items():
            if name in out and out[name] != o:
                raise RuntimeError(f"observation {name} differs between experiments: "
                                   f"{out[name]} vs {o}")
            out[name] = o
    return dict(sorted(out.items()))


def pixel_observations(data) -> dict:
    """The dataset's pixel statistics as observations (properties of the data: no seeds): the
    claims' own (:func:`lossanalysis.claims.pixel_observations`, claim 8) and the mid-grey
    shares of the intensity summary."""
    from .. import claims
    out = {k: Observation(tuple(v["values"]), tuple(v["seeds"]), v["unit"])
           for k, v in claims.pixel_observations(data.x_train).items()}
    s = data.summary
    for name, v in (("frac_between", s.frac_between), ("frac_mid", s.frac_mid),
                    ("frac_mid_of_nonzero", s.frac_mid_of_nonzero)):
        out[f"pixels.{name}"] = Observation((float(v),), (), "fraction")
    return out


def _after_context(cfgs, per_ds, out_dir, labels) -> dict:
    """What the experiments that need every dataset see: this run's observations, or a saved
    report's for a dataset not run now."""
    context = {"observations": {}, "summaries": {}, "sources": {}, "experiments": {}}
    for ds, cfg in cfgs.items():
        data = dataset(cfg.data)
        mine = [s for s in per_ds if s.ds == ds]
        context["observations"][ds] = _observations(ds, mine, data)
        context["summaries"][ds] = dataclasses.asdict(data.summary)
        context["sources"][ds] = "this run"
        context["experiments"][ds] = {s.label for s in mine}
    for ds in DATASET_TITLES:
        path = Path(out_dir) / f"{ds}.json"
        if ds in cfgs or not path.exists():
            continue
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            obs, summary = saved["observations"], saved["summary"]
        except (OSError, ValueError, KeyError, TypeError):
            continue                  # an older or foreign report: no comparison from it
        v = (saved.get("run") or {}).get("version") or {}
        quick = " (quick)" if saved.get("quick") else ""
        context["observations"][ds] = obs
        context["summaries"][ds] = summary
        context["sources"][ds] = f"{path.name}{quick}, git {git_label(v)}"
        context["experiments"][ds] = set((saved.get("run") or {}).get("seeds_by_experiment", {}))
    return context


# ----------------------------------------------------------------------------------------------
# Claims
# ----------------------------------------------------------------------------------------------
def claim_evidence(doc):
    """What the claims read from a run (:class:`lossanalysis.claims.Evidence`): the report
    document's rows and observations (:func:`json_doc` without the claims); a quick run judges
    no claim."""
    from .. import claims
    return claims.Evidence.from_documents([doc], [f"this run ({doc['dataset']})"])


# ----------------------------------------------------------------------------------------------
# Version
# ----------------------------------------------------------------------------------------------
def git_state(root=None) -> tuple[str | None, bool | None]:
    """(short commit hash, working tree modified?) of the checkout holding the package, or
    (None, None) without git.  "Modified" means a tracked file differs from the commit or an
    untracked, non-ignored file exists -- outside :data:`OUTPUT_DIRS`."""
    root = Path(root) if root is not None else Path(__file__).resolve().parents[2]

    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=20)
    try:
        head = git("rev-parse", "--short=12", "HEAD")
        if head.returncode != 0 or not head.stdout.strip():
            return None, None
        excludes = [f":(exclude){d}" for d in OUTPUT_DIRS]
        status = git("status", "--porcelain", "--", ".", *excludes)
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
        return head.stdout.strip(), dirty
    except (OSError, subprocess.SubprocessError):
        return None, None


def version_info() -> dict:
    """lossanalysis, numpy and Python versions, the git commit and whether the working tree was
    modified (if git is available), and the BLAS thread count of this process, read from the
    library where it can be (:func:`lossanalysis.nn.blas_threads`; each worker runs one)."""
    from .. import __version__
    from ..nn.parallel import blas_threads
    commit, dirty = git_state()
    threads = blas_threads()["threads"]
    return {"lossanalysis": __version__, "git": commit, "git_modified": dirty,
            "numpy": np.__version__, "python": platform.python_version(),
            "blas_threads": threads if threads is not None else "unknown"}


def git_label(v: dict) -> str:
    """"abc123", "abc123 (modified)", "abc123 (modification state unknown)" or "unavailable"."""
    if not v.get("git"):
        return "unavailable"
    state = {True: " (modified)", False: "", None: " (modification state unknown)"}
    return v["git"] + state[v.get("git_modified")]


# ----------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------
def counts(rows) -> dict:
    """Verdict counts of the falsifiable and the consistency rows apart, with how many rows
    are registered and blind."""
    out = {}
    for kind in (FALSIFIABLE, CONSISTENCY):
        rs = [r for r in rows if r.prediction.kind == kind]
        out[kind] = {v: sum(r.verdict == v for r in rs)
                     for v in (CONFIRMED, REFUTED, INCONCLUSIVE, NOT_JUDGED)}
        out[kind].update(total=len(rs), registered=sum(r.registered for r in rs),
                         blind=sum(r.blind for r in rs))
    return out


def count_line(c, quick) -> str:
    """One kind's counts (an entry of :func:`counts`) as the report and the script print them;
    rows that were not measured (E7 in a run of one dataset) are counted apart."""
    if quick:
        return f"{c['total']} not judged"
    unmeasured = f", {c[NOT_JUDGED]} not measured" if c[NOT_JUDGED] else ""
    return (f"{c[CONFIRMED]} confirmed, {c[REFUTED]} refuted, {c[INCONCLUSIVE]} inconclusive"
            f"{unmeasured} (of {c['total']}; {c['registered']} registered, {c['blind']} blind)")


def revisions(labels=None) -> list:
    """Every experiment's :class:`~.core.Revision` records (of ``labels``, default all)."""
    labels = [lab for lab, _ in EXPERIMENTS] if labels is None else labels
    return [r for lab in labels for r in getattr(module(lab), "REVISIONS", ())]


def _summary_table(rows) -> list:
    lines = ["| experiment | prediction | tolerance | measured mean ± sd (seeds) "
             "| 95% interval | verdict | registered |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        p = r.prediction
        pred = f"`{p.id}`: {cell(p.statement)} -- {cell(p.quantity)} {_OP[p.comparison]} {fmt(p.value)}"
        iv = "–" if r.interval is None else f"[{fmt(r.interval[0], 3)}, {fmt(r.interval[1], 3)}]"
        reg = ("blind" if r.blind else "yes") if r.registered else "no"
        lines.append(f"| {p.experiment} | {pred} | {fmt(p.tolerance)} | {fmt(r.mean)} ± "
                     f"{fmt(r.sd, 2)} ({len(r.measurements)}) | {iv} | {r.verdict} | {reg} |")
    return lines


def _disclosure(run) -> list:
    revs = revisions(run["labels"])
    if not revs:
        return []
    by = {r.id: r for r in run["rows"]}
    ds = run["cfg"].dataset
    lines = ["", "## Predictions revised after an earlier measurement", "",
             "These predictions (or their measurements) were changed -- or added -- after an "
             "earlier run had shown the numbers they concern, so they were not made blind.  For "
             "each: what changed and why, what the version before the change measured (the "
             "commit named), and what the current prediction measured on the seeds already used "
             f"(0, 1, 2 in the reports committed at {OLD_COMMIT}, judged then by the mean "
             "alone).  The verdicts in this report come from this run's seeds; a row is *blind* "
             "only when it was registered and measured on seeds no earlier run used.", ""]
    for rev in revs:
        ids = ", ".join(f"`{i}`" for i in rev.ids)
        lines.append(f"- {ids}: {rev.change}.  Why: {rev.reason}."
                     + (f"  Before the change ({rev.commit}): {rev.earlier}." if rev.earlier
                        else ""))
        for i in rev.ids:
            old = [t if d == "both" else f"{DATASET_TITLES.get(d, d)}: {t}"
                   for j, d, t in rev.old_seeds if j == i and d in (ds, "both")]
            r = by.get(i)
            now = ("not in this run" if r is None else
                   f"{fmt(r.mean)} ± {fmt(r.sd, 2)} on seeds {', '.join(map(str, r.seeds)) or '–'}"
                   f", {r.verdict}, {'blind' if r.blind else 'not blind'}")
            lines.append(f"  - `{i}`: seeds 0-2 at {OLD_COMMIT}: "
                         + ("; ".join(old) or "–") + f".  This run: {now}.")
    return lines


def render(run, *, out_dir="reports") -> str:
    """The Markdown report of one dataset's run."""
    from .. import claims
    cfg, data, rows = run["cfg"], run["data"], run["rows"]
    ds, s, v = cfg.dataset, data.summary, run["version"]
    title = DATASET_TITLES.get(ds, ds)
    c = counts(rows)
    quick = cfg.quick
    reg = run["registration"]
    extended = [st for st in run["states"] if st.extended]
    seeds = run_seeds(cfg)
    lines = [f"# Predictions and measurements: {title}", ""]
    if quick:
        lines += ["**Smoke test (quick mode): smaller networks, fewer seeds and images; nothing "
                  "is judged, every verdict reads 'not judged'.**", ""]
    lines += [f"**Falsifiable predictions: {count_line(c[FALSIFIABLE], quick)}.**  Consistency "
              f"checks (true by construction if the code is right): "
              f"{count_line(c[CONSISTENCY], quick)}.", "",
              f"- Command: `{run['command'] or 'lossanalysis.experiments.report.run_all'}`",
              f"- Seeds: {', '.join(map(str, seeds))}"
              + ("".join(f"; {st.label}: {', '.join(map(str, st.seeds))} (the registered rule "
                         "added seeds: a falsifiable row was inconclusive)" for st in extended)),
              "- Registration: " + ("none (quick run)" if quick else
                                    "none: no registration file, so no row counts as registered"
                                    if reg is None else
                                    f"`{reg['path']}`, SHA-256 {reg['sha256']}; "
                                    f"{sum(r.registered for r in rows)} of {len(rows)} rows "
                                    "registered"
                                    + (f"; registered but not produced: "
                                       f"{', '.join(run['missing'])}" if run["missing"] else "")),
              f"- Data: {ds}, {len(data.x_train):,} training images and {len(data.x_test):,} test "
              f"images (28 x 28, intensities v/255).  Training pixels: {100 * s.frac_zero:.1f}% "
              f"exactly 0, {100 * s.frac_one:.2f}% exactly 1, {100 * s.frac_between:.1f}% "
              f"strictly between, {100 * s.frac_mid:.1f}% mid-grey (0.2-0.8) = "
              f"{100 * s.frac_mid_of_nonzero:.1f}% of the non-zero pixels.",
              f"- Version: lossanalysis {v['lossanalysis']}, git {git_label(v)}, "
              f"numpy {v['numpy']}, Python {v['python']}, BLAS threads {v['blas_threads']} "
              "(1 in the worker processes).",
              f"- {TIMING_MARK}: {run['wall_time']:.0f} s wall clock, {run['workers']} worker "
              f"process{'es' if run['workers'] > 1 else ''}; load average "
              f"{_fmt_load(run['load']['start'])} at the start, {_fmt_load(run['load']['end'])} "
              f"at the end; {run['task_seconds'].get('total', 0):.0f} CPU seconds of work in "
              "the tasks (" + ", ".join(f"{k} {t:.0f} s" for k, t in run["task_seconds"].items()
                                      if k != "total") + ").",
              "",
              "Each prediction -- value, tolerance, comparison, kind -- is computed from the "
              "analysis and the data statistics before any network is trained (and registered, "
              "with its seeds, by `confirm_predictions.py --register`).  A verdict compares the "
              "95% Student-t interval of the seed mean (mean ± t(0.975, n − 1) sd/√n) with the "
              "tolerance band (`=`: value ± tolerance; `≥`: from value − tolerance up; `≤`: up to "
              "value + tolerance): confirmed inside, refuted entirely outside, inconclusive "
              "otherwise; one seed gives no interval unless the measurement does not depend on "
              "the seed.  Where a falsifiable row is inconclusive, the registered rule measures "
              "its experiment once more on the extra seeds.  Reasons for every tolerance and "
              "kind are in the JSON (`source`, `kind_reason`).", ""]
    for kind, head in ((FALSIFIABLE, "Falsifiable predictions"),
                       (CONSISTENCY, "Consistency checks")):
        rs = [r for r in rows if r.prediction.kind == kind]
        lines += [f"## {head}: {count_line(c[kind], quick)}", ""] + _summary_table(rs) + [""]
    lines += _disclosure(run)
    lines += ["", "## The thread's claims", "",
              "Verdicts from `lossanalysis.claims`: the analysis, combined with this run's "
              "rows and observations (a quick run judges no claim).", ""]
    lines.append(claims.to_markdown(run["claims"]).rstrip("\n"))
    lines += ["", "## Experiments", ""]
    report_dir = os.path.abspath(out_dir)
    for st in run["states"]:
        lines += [st.mod.text(cfg, st.prep, st.measured, st.rows).rstrip("\n"), ""]
        for fig in st.figures:
            if str(fig).endswith(".png"):
                rel = os.path.relpath(os.path.abspath(fig), report_dir)
                lines += [f"![{st.mod.NAME}]({Path(rel).as_posix()})", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _fmt_load(load) -> str:
    return "unknown" if load is None else "/".join(f"{x:.1f}" for x in load)


def json_doc(run) -> dict:
    """The report JSON of one dataset.

    Schema: ``dataset``; ``quick`` (bool); ``registration`` ({"path", "sha256"} or null);
    ``results``: one row per prediction (:meth:`.core.Row.to_dict`: id, experiment, kind,
    kind_reason, comparison, value, tolerance, deterministic, statement, quantity, source,
    measurements (one per seed; the string "nan" for an undefined statistic, as every
    non-finite number), seeds, mean, sd, interval ([lo, hi] or null), verdict ("confirmed" / "refuted" / "inconclusive" / "not judged"),
    registered, blind, registration_note, notes); ``observations``: name -> {"values": one per
    seed, "seeds", "unit"} (``seeds`` empty: a single value, a property of the data or of all
    seeds together), including the claims' pixel observations; ``counts``; ``missing_registered``; ``summary`` (the intensity summary of
    the training images); ``run`` (command, seeds, version, wall time, workers, load, seconds of
    work); ``claims`` (:meth:`lossanalysis.claims.ClaimResult.to_dict`).
    """
    from .._io import jsonable as _jsonable
    cfg = run["cfg"]
    return _jsonable({
        "dataset": cfg.dataset, "quick": cfg.quick, "registration": run["registration"],
        "results": [r.to_dict() for r in run["rows"]],
        "observations": {k: o.to_dict() for k, o in run["observations"].items()},
        "counts": counts(run["rows"]), "missing_registered": run["missing"],
        "summary": dataclasses.asdict(run["data"].summary),
        "run": {"command": run["command"], "seeds": list(run_seeds(cfg)),
                "extra_seeds": list(cfg.extra_seeds),
                "seeds_by_experiment": {st.label: list(st.seeds) for st in run["states"]},
                "version": run["version"], "wall_time_s": run["wall_time"],
                "workers": run["workers"], "load_average": run["load"],
                "cpu_seconds": run["task_seconds"]},
        "claims": [c.to_dict() for c in run["claims"]],
    })
