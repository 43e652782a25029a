"""Run every experiment on one or both datasets and write the Markdown report and its JSON.

:func:`run_all` is what ``scripts/confirm_predictions.py`` calls.  For each dataset it loads the
data (:func:`~lossanalysis.experiments.core.load_data`), runs E1-E6 in order (each
``run(cfg, data, progress) -> ExperimentOutput``), evaluates the claims of
:mod:`lossanalysis.claims` on the run's rows and observations (:func:`claim_evidence`), relates
every loss-dependent effect to the dataset's fraction of mid-grey pixels
(E7, across datasets: both run together, or the other dataset's saved JSON), and writes

* ``<out>/<dataset>.md`` -- header (command, seeds, data, version: the git commit, marked
  "(modified)" when the working tree differed from it as the run started, outside the output
  folders), one table of all predictions (prediction, tolerance, measured mean and spread,
  computed verdict), the claims with their verdicts, a section per experiment with its figure,
  and E7 (each effect on both datasets, its elasticity with respect to the mid-grey share, and
  whether it depends on that share as the analysis says);
* ``<out>/<dataset>.json`` -- every result, measurement, the intensity summary and the claims.

The Markdown is byte-stable for a given code version, data and machine except for the lines
that contain "Run time" (wall-clock times).
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

from .._io import atomic_write
from ..claims import _jsonable  # the one conversion to JSON, shared with the claims
from .core import CONFIRMED, INCONCLUSIVE, REFUTED, Progress, RunConfig, load_data, run_seeds

__all__ = ["EXPERIMENTS", "run_all", "run_dataset", "render", "revisions", "revisions_section",
           "e7_rows", "e7_section", "e7_relation",
           "claim_evidence", "version_info", "git_state", "git_label", "TIMING_MARK",
           "DATASET_TITLES", "OUTPUT_DIRS"]

#: (label, module) of every experiment, in the order they run.
EXPERIMENTS = (
    ("E1", "e1_minimizers"),
    ("E2", "e2_saturation"),
    ("E3", "e3_calibration"),
    ("E4", "e4_asymmetry"),
    ("E5", "e5_vae_scale"),
    ("E6", "e6_continuous_bernoulli"),
)
#: Every line of the report that carries a wall-clock time contains this.
TIMING_MARK = "Run time"
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_VERDICTS = (CONFIRMED, REFUTED, INCONCLUSIVE)


# ----------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------
def _module(name):
    return importlib.import_module(f"{__package__}.{name}")


def run_dataset(cfg: RunConfig, progress, only=None) -> dict:
    """Run the experiments on ``cfg.dataset``; ``only`` (labels such as ("E1", "E3")) selects a
    subset (tests).  Returns {"data", "outputs": [(label, ExperimentOutput)], "timing"}."""
    t0 = time.perf_counter()
    progress(f"{cfg.dataset}: loading the data")
    data = load_data(cfg)
    progress(f"{cfg.dataset}: {len(data.x_train)} training and {len(data.x_test)} test images; "
             f"{100 * data.summary.frac_mid_of_nonzero:.1f}% of the non-zero training pixels "
             "are mid-grey")
    outputs, timing = [], {}
    for label, mod_name in EXPERIMENTS:
        if only is not None and label not in only:
            continue
        mod = _module(mod_name)
        t = time.perf_counter()
        progress(f"{cfg.dataset}: {label} ({mod.NAME}) starts")
        out = mod.run(cfg, data, progress)
        timing[label] = time.perf_counter() - t
        outputs.append((label, out))
        n_conf = sum(r.verdict == CONFIRMED for r in out.results)
        progress(f"{cfg.dataset}: {label} done in {timing[label]:.0f} s: {n_conf} of "
                 f"{len(out.results)} predictions confirmed")
    timing["total"] = time.perf_counter() - t0
    return {"data": data, "outputs": outputs, "timing": timing}


def run_all(datasets, *, n_seeds=3, quick=False, out_dir="reports", figures_dir="figures",
            data_dir=None, quiet=False, command="", only=None, extra=None) -> dict:
    """Run the experiments on each dataset and write ``<out_dir>/<dataset>.md`` and ``.json``.

    Returns {dataset: {"report": path, "json": path, "results": [...], "timing": {...}}}.
    """
    progress = Progress(quiet=quiet)
    # the version before anything is written (the run's own outputs never count as a change)
    version = version_info()
    progress(f"lossanalysis {version['lossanalysis']}, git {git_label(version)}")
    os.makedirs(out_dir, exist_ok=True)
    runs = {}
    for ds in datasets:
        cfg = RunConfig(dataset=ds, n_seeds=n_seeds, quick=quick, data_dir=data_dir,
                        figures_dir=figures_dir, quiet=quiet, extra=dict(extra or {}))
        runs[ds] = run_dataset(cfg, progress, only=only)
        runs[ds]["cfg"] = cfg
        runs[ds]["version"] = version
    # E7 needs every dataset: the ones run now, else the other dataset's saved JSON
    snapshots = {ds: _snapshot(r) for ds, r in runs.items()}
    for other in DATASET_TITLES:
        if other not in snapshots:
            path = os.path.join(out_dir, f"{other}.json")
            if os.path.exists(path):
                with open(path) as f:
                    saved = json.load(f)
                snapshots[other] = {"summary": saved.get("summary", {}),
                                    "measurements": saved.get("measurements", {}),
                                    "source": _saved_source(path, saved)}
    written = {}
    for ds, r in runs.items():
        progress(f"{ds}: claims and report")
        claim_results = _claims(ds, r)
        md = render(ds, r, snapshots, claim_results, command=command, out_dir=out_dir)
        doc = _json_doc(ds, r, snapshots[ds], claim_results, command)
        md_path = os.path.join(out_dir, f"{ds}.md")
        js_path = os.path.join(out_dir, f"{ds}.json")
        atomic_write(md_path, md)
        atomic_write(js_path, json.dumps(doc, indent=1, sort_keys=True) + "\n")
        written[ds] = {"report": md_path, "json": js_path, "timing": r["timing"],
                       "results": [res for _, o in r["outputs"] for res in o.results]}
        progress(f"{ds}: wrote {md_path} and {js_path} (total {r['timing']['total']:.0f} s)")
    return written




def _snapshot(run) -> dict:
    meas = {}
    for label, out in run["outputs"]:
        for k, v in out.measurements.items():
            meas[f"{label}.{k}"] = v
    return {"summary": dataclasses.asdict(run["data"].summary), "measurements": meas,
            "source": "this run"}


# ----------------------------------------------------------------------------------------------
# Claims
# ----------------------------------------------------------------------------------------------
def claim_evidence(ds, run, pixels=None):
    """What the claims read from this run (:class:`lossanalysis.claims.Evidence`): its rows and
    observations, as in the report JSON, and the observations of the dataset's ``pixels``
    (claim 8).  A quick run judges no claim."""
    from .. import claims
    rows, observations = [], {}
    for _, out in run["outputs"]:
        for r in out.results:
            d = r.to_dict()
            if "comparison" not in d:      # a row of the schema before falsifiable/consistency
                d = dict(d, comparison=d["kind"], kind="falsifiable")
            rows.append(d)
        observations.update(getattr(out, "observations", None) or {})
    if pixels is not None:
        observations.update(claims.pixel_observations(pixels))
    doc = {"dataset": ds, "quick": bool(run["cfg"].quick), "results": rows,
           "observations": observations}
    return claims.Evidence.from_documents([doc], [f"this run ({ds})"])


def _claims(ds, run):
    from .. import claims
    return claims.evaluate_all(claim_evidence(ds, run, run["data"].x_train))


# ----------------------------------------------------------------------------------------------
# E7: binary versus grey data
# ----------------------------------------------------------------------------------------------
#: (short name, label, key in the snapshot's measurements or a function of them, how the analysis
#: says the effect depends on the share of grey pixels -- "grows", "flat", "falls" or None when
#: it gives no scaling -- and why).  Fixed here, before any run.
_E7 = (
    ("E1 mean-median gap", "E1 mean |mean - median| of a pixel location (what MAE vs MSE/BCE "
     "changes)", "E1.mean_minus_median", "falls",
     "a location's mean and median part most when its targets are bimodal (0 or 1); grey "
     "targets between them bring the two together"),
    ("E1 focal pull", "E1 focal's pull toward 1/2 at the AE batch's grey pixels (predicted, |.|)",
     lambda m: abs(m["E1.ae_directional_bias_predicted[focal]"]), "flat",
     "an average over grey pixels: set by where the grey levels lie, not by how many there are"),
    ("E2 SGD slowdown", "E2 SGD slowdown of MSE from saturation (x)", "E2.sgd_slowdown", "flat",
     "set by the sigmoid at the starting logit (2p(1 - p) at z = -6), not by the data"),
    ("E2 Adam slowdown", "E2 Adam slowdown (x)", "E2.adam_slowdown", "flat",
     "as the SGD slowdown"),
    ("E3 MSE calibration drift", "E3 MSE calibration error in the large, mean |.|",
     "E3.mse_mean_abs_error", None,
     "unbalanced errors on confident outputs, binary targets as well as grey ones: no scaling "
     "with the grey share follows"),
    ("E4 BCE-MSE signed error", "E4 mean |BCE - MSE| signed error over the grey bins",
     "E4.mean_abs_signed_diff", None,
     "an average per grey pixel, set by the networks' noise there: no scaling with the grey "
     "share follows"),
    ("E4 AE blur BCE-MSE", "E4 AE blur ratio, BCE - MSE",
     lambda m: m["E4.blur_ratio[ae_bce]"] - m["E4.blur_ratio[ae_mse]"], None,
     "the analysis predicts no point-target bias for either loss (claim 3)"),
    ("E5 Bernoulli VAE blur", "E5 VAE blur ratio, Bernoulli decoder", "E5.blur_ratio[bernoulli]",
     "grows", "the Bernoulli decoder's effective sigma grows with the grey share, and a larger "
     "sigma weakens the data term against the KL"),
    ("E5 Bernoulli sigma_eff", "E5 Bernoulli decoder's effective sigma",
     "E5.sigma_eff[bernoulli]", "grows",
     "sqrt(mean y(1 - y)) over the pixels: only non-binary pixels contribute"),
    ("E6 CB lambda push", "E6 CB parameter image: extra distance from 1/2 over the data "
     "(mid-grey pixels)", lambda m: m["E6.param_extremeness[continuous_bernoulli_param]"]
     - m["E6.param_extremeness[data]"], "flat",
     "an average over mid-grey pixels: set by where the grey levels lie"),
    ("E6 CB/Bernoulli MAE", "E6 MAE of the CB mean image / Bernoulli's",
     "E6.mae_ratio[continuous_bernoulli]", None, "no scaling derived"),
    ("E6 CB lambda push (control)", "E6 control (data clipped, no exact 0 or 1): CB parameter "
     "image's extra distance from 1/2 over the data (mid-grey pixels)",
     lambda m: m["E6.clipped.param_extremeness[continuous_bernoulli_param]"]
     - m["E6.clipped.param_extremeness[data]"], "flat",
     "as the raw push, without the exact 0s and 1s at which the CB has no minimizer (MNIST has "
     "more of them)"),
    ("E6 CB/Bernoulli MAE (control)", "E6 control: MAE of the CB mean image / Bernoulli's",
     "E6.clipped.mae_ratio[continuous_bernoulli]", None, "no scaling derived"),
)
#: Ratios within this factor of 1 count as "about the same" ("flat").
E7_SAME = 1.1


def _e7_value(meas, key):
    try:
        v = key(meas) if callable(key) else meas[key]
        v = float(v)
        return v if math.isfinite(v) else None
    except (KeyError, TypeError, ValueError):
        return None


def e7_relation(ratio) -> str | None:
    """How an effect changed from MNIST to Fashion-MNIST: "grows", "falls", "flat" (within
    :data:`E7_SAME`), "changes sign", or None when it was not measured on both."""
    if ratio is None:
        return None
    if ratio < 0:
        return "changes sign"
    if ratio > E7_SAME:
        return "grows"
    if ratio < 1 / E7_SAME:
        return "falls"
    return "flat"


def e7_rows(snapshots) -> list[dict]:
    """One row per loss-dependent effect: its value on each dataset, the Fashion/MNIST ratio,
    its elasticity with respect to the mid-grey share (ln ratio / ln grey-share ratio: 1 =
    proportional to the share, 0 = independent of it), what the analysis expects and what was
    measured."""
    grey = {ds: s.get("summary", {}).get("frac_mid_of_nonzero") for ds, s in snapshots.items()}
    g_ratio = (grey["fashion-mnist"] / grey["mnist"]
               if grey.get("mnist") and grey.get("fashion-mnist") else None)
    rows = []
    for short, label, key, expected, why in _E7:
        vals = {ds: _e7_value(s.get("measurements", {}), key) for ds, s in snapshots.items()}
        a, b = vals.get("mnist"), vals.get("fashion-mnist")
        ratio = (b / a) if (a is not None and b is not None and a != 0) else None
        elasticity = (math.log(ratio) / math.log(g_ratio)
                      if ratio is not None and ratio > 0 and g_ratio and g_ratio != 1 else None)
        rows.append({"short": short, "effect": label, "values": vals, "ratio": ratio,
                     "elasticity": elasticity, "expected": expected, "why": why,
                     "measured": e7_relation(ratio)})
    return rows


def _saved_source(path, saved) -> str:
    """How a dataset's saved JSON is named as a source in E7: file, command, version."""
    v = saved.get("version", {}) or {}
    quick = " (quick)" if saved.get("quick") else ""
    return (f"{os.path.basename(path)}{quick}, git {git_label(v)}"
            if v else f"{os.path.basename(path)}{quick}")


def e7_section(ds, snapshots) -> str:
    lines = ["## E7 Binary versus grey data", ""]
    have = [d for d in DATASET_TITLES if d in snapshots]
    if len(have) < 2:
        missing = [DATASET_TITLES[d] for d in DATASET_TITLES if d not in snapshots]
        lines += [f"Only {DATASET_TITLES.get(ds, ds)} has results so far; run "
                  f"`--dataset both` (or the other dataset into the same folder) to compare "
                  f"with {', '.join(missing)}.", ""]
        return "\n".join(lines) + "\n"
    mn, fm = snapshots["mnist"], snapshots["fashion-mnist"]
    gm = mn["summary"]["frac_mid_of_nonzero"]
    gf = fm["summary"]["frac_mid_of_nonzero"]
    src = {d: snapshots[d].get("source", "") for d in have}
    lines += [
        "Every loss-dependent effect on both datasets, next to each dataset's share of mid-grey "
        "pixels (0.2 < y < 0.8) among its non-zero pixels "
        f"(MNIST {100 * gm:.1f}%, Fashion-MNIST {100 * gf:.1f}%: ratio {gf / gm:.2f}).  "
        "Elasticity: ln(effect ratio) / ln(grey-share ratio) -- 1 if the effect is proportional "
        "to the grey share, 0 if independent of it, negative if it falls as the share rises.  "
        f"'Expected' is what the analysis says about the dependence (fixed in the code before the "
        f"runs; – where it gives none); 'measured' classifies the ratio (within {E7_SAME:g}x of "
        f"1: flat).  Sources: MNIST {src['mnist']}, Fashion-MNIST {src['fashion-mnist']}.", "",
        "| effect | MNIST | Fashion-MNIST | Fashion / MNIST | elasticity | expected | measured |",
        "|---|---|---|---|---|---|---|",
        f"| mid-grey share of the non-zero pixels | {gm:.3f} | {gf:.3f} | {gf / gm:.2f} | 1 | – "
        "| – |",
        f"| pixels strictly between 0 and 1 | {mn['summary']['frac_between']:.3f} | "
        f"{fm['summary']['frac_between']:.3f} | "
        f"{fm['summary']['frac_between'] / mn['summary']['frac_between']:.2f} | – | – | – |"]
    rows = e7_rows({"mnist": mn, "fashion-mnist": fm})
    for row in rows:
        a, b = row["values"]["mnist"], row["values"]["fashion-mnist"]
        fa = "–" if a is None else f"{a:.4g}"
        fb = "–" if b is None else f"{b:.4g}"
        fr = "–" if row["ratio"] is None else f"{row['ratio']:.2f}"
        fe = "–" if row["elasticity"] is None else f"{row['elasticity']:+.2f}"
        lines.append(f"| {_cell(row['effect'])} | {fa} | {fb} | {fr} | {fe} | "
                     f"{row['expected'] or '–'} | {row['measured'] or '–'} |")
    measured = [r for r in rows if r["measured"] is not None]
    judged = [r for r in measured if r["expected"] is not None]
    agree = [r for r in judged if r["measured"] == r["expected"]]
    disagree = [r for r in judged if r["measured"] != r["expected"]]

    def names(rs):
        return ", ".join(f"{r['short']} ({r['ratio']:.2f}x)" for r in rs) or "none"
    by = {k: [r for r in measured if r["measured"] == k]
          for k in ("grows", "falls", "flat", "changes sign")}
    lines += ["", f"Of the {len(measured)} effects measured on both datasets, "
              f"{len(by['grows'])} are larger on the greyer Fashion-MNIST by more than "
              f"{E7_SAME:g}x ({names(by['grows'])}), {len(by['falls'])} are smaller "
              f"({names(by['falls'])}), {len(by['flat'])} about the same "
              f"({names(by['flat'])})"
              + (f" and {len(by['changes sign'])} change sign ({names(by['changes sign'])})"
                 if by["changes sign"] else "") + ".  "
              f"Of the {len(judged)} whose dependence the analysis states, {len(agree)} behave "
              f"as it says ({names(agree)}) and {len(disagree)} "
              f"{'does' if len(disagree) == 1 else 'do'} not"
              + (": " + "; ".join(f"{r['short']} expected {r['expected']}, measured "
                                  f"{r['measured']} ({r['ratio']:.2f}x)" for r in disagree)
                 if disagree else "") + ".", "",
              "Why each dependence is expected:", ""]
    for row in rows:
        lines.append(f"* {row['short']}: {row['expected'] or 'no expectation'} -- {row['why']}.")
    lines.append("")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------
#: Folders that a run writes into (they do not change the results): a modified or untracked
#: file there does not make the working tree count as modified.
OUTPUT_DIRS = ("reports", "figures", "runs")


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
    modified (if git is available), and the BLAS thread setting."""
    from .. import __version__
    commit, dirty = git_state()
    return {"lossanalysis": __version__, "git": commit, "git_modified": dirty,
            "numpy": np.__version__, "python": platform.python_version(),
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")
            or os.environ.get("OMP_NUM_THREADS") or "default"}


def git_label(v: dict) -> str:
    """"abc123", "abc123 (modified)", "abc123 (modification state unknown)" or "unavailable"."""
    if not v.get("git"):
        return "unavailable"
    state = {True: " (modified)", False: "", None: " (modification state unknown)"}
    return v["git"] + state[v.get("git_modified")]


def _g(v, digits=4) -> str:
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}"


_OP = {"equal": "=", "at_least": "≥", "at_most": "≤"}


def _cell(text) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def summary_table(outputs) -> list[str]:
    lines = ["| experiment | prediction | tolerance | measured mean ± sd (seeds) | verdict |",
             "|---|---|---|---|---|"]
    for label, out in outputs:
        for r in out.results:
            p = r.prediction
            pred = (f"`{p.id}`: {_cell(p.statement)} -- {_cell(p.quantity)} "
                    f"{_OP[p.kind]} {_g(p.value)}")
            lines.append(f"| {label} | {pred} | {_g(p.tolerance)} | {_g(r.mean)} ± "
                         f"{_g(r.spread, 2)} ({len(r.measurements)}) | {r.verdict} |")
    return lines


def revisions() -> list:
    """Every experiment's :class:`~lossanalysis.experiments.core.Revision` records."""
    return [r for _, name in EXPERIMENTS for r in getattr(_module(name), "REVISIONS", ())]


def revisions_section() -> list[str]:
    """The report's list of predictions revised after an earlier run had measured them."""
    revs = revisions()
    if not revs:
        return []
    lines = ["", "## Predictions revised after an earlier run", "",
             "These predictions (or their measurements) were changed after an earlier run had "
             "measured them, so they were not made blind; the earlier numbers are those of the "
             "MNIST report in the commit named.  Their verdicts above are this run's.", ""]
    for r in revs:
        ids = ", ".join(f"`{i}`" for i in r.ids)
        lines.append(f"- {ids}: {r.change}.  Why: {r.reason}.  Earlier ({r.commit}): "
                     f"{r.earlier}.")
    return lines


def render(ds, run, snapshots, claim_results, *, command="", out_dir="reports") -> str:
    """The Markdown report of one dataset."""
    from .. import claims
    data, cfg, outputs, timing = run["data"], run["cfg"], run["outputs"], run["timing"]
    s = data.summary
    v = run.get("version") or version_info()
    seeds = run_seeds(cfg)
    title = DATASET_TITLES.get(ds, ds)
    results = [r for _, o in outputs for r in o.results]
    counts = {k: sum(r.verdict == k for r in results) for k in _VERDICTS}
    lines = [
        f"# Predictions and measurements: {title}", "",
        f"- Command: `{command or 'lossanalysis.experiments.report.run_all'}`",
        f"- Seeds: {', '.join(map(str, seeds))}"
        + (" (quick mode: fewer seeds, epochs and images; a smoke test, not evidence)"
           if cfg.quick else ""),
        f"- Data: {ds}, {len(data.x_train):,} training images and {len(data.x_test):,} test "
        f"images (28 x 28, intensities v/255).  Training pixels: {100 * s.frac_zero:.1f}% "
        f"exactly 0, {100 * s.frac_one:.2f}% exactly 1, {100 * s.frac_between:.1f}% strictly "
        f"between, {100 * s.frac_mid:.1f}% mid-grey (0.2-0.8) = "
        f"{100 * s.frac_mid_of_nonzero:.1f}% of the non-zero pixels.",
        f"- Version: lossanalysis {v['lossanalysis']}, git {git_label(v)}, "
        f"numpy {v['numpy']}, Python {v['python']}, BLAS threads {v['blas_threads']}.",
        f"- {TIMING_MARK}: {timing['total']:.0f} s in total ("
        + ", ".join(f"{k} {t:.0f} s" for k, t in timing.items() if k != "total") + ").",
        "",
        "Each prediction was fixed -- value, tolerance and kind -- from the analysis before the "
        "networks it concerns were trained; the verdict is computed from the mean over seeds "
        "(`equal`: |mean − value| ≤ tolerance, `≥`: mean ≥ value − tolerance, `≤`: mean ≤ "
        "value + tolerance).  The reasons for each tolerance are in the JSON (`source`) and in "
        "the experiment modules.",
        "",
        f"## Summary: {counts[CONFIRMED]} confirmed, {counts[REFUTED]} refuted, "
        f"{counts[INCONCLUSIVE]} inconclusive", ""]
    lines += summary_table(outputs)
    lines += revisions_section()
    lines += ["", "## The thread's claims", "",
              "Verdicts from `lossanalysis.claims`: the analysis, combined with this run's "
              "rows and observations (a quick run judges no claim).", ""]
    lines.append(claims.to_markdown(claim_results).rstrip("\n"))
    lines += ["", "## Experiments", ""]
    report_dir = os.path.abspath(out_dir)
    for label, out in outputs:
        md = out.markdown.rstrip("\n")
        lines += [md, ""]
        for fig in out.figures:
            if str(fig).endswith(".png"):
                rel = os.path.relpath(os.path.abspath(fig), report_dir)
                lines += [f"![{out.name}]({Path(rel).as_posix()})", ""]
    lines.append(e7_section(ds, snapshots).rstrip("\n"))
    return "\n".join(lines) + "\n"


def _json_doc(ds, run, snapshot, claim_results, command) -> dict:
    cfg = run["cfg"]
    return _jsonable({
        "dataset": ds, "command": command, "quick": cfg.quick,
        "seeds": run_seeds(cfg),
        "version": run.get("version") or version_info(), "summary": snapshot["summary"],
        "experiments": {label: {"name": out.name,
                                "results": [r.to_dict() for r in out.results],
                                "measurements": out.measurements,
                                "figures": [Path(f).name for f in out.figures]}
                        for label, out in run["outputs"]},
        "measurements": snapshot["measurements"],
        "claims": [c.to_dict() for c in claim_results],
        "timing": run["timing"],
    })
