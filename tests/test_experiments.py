"""Tests for the experiments (lossanalysis.experiments) and their report.

One quick run of ``scripts/confirm_predictions.py`` on MNIST (module-scoped fixture, in a
subprocess so that its BLAS setting applies and its figures go to a temporary folder) is shared
by the report tests; it needs the real data through LOSSANALYSIS_DATA (skipped locally when the
variable is unset, a failure when CI is set).  The machinery tests run single experiments on a
few hundred images with tiny budgets, in-process.  No test hard-codes a measured value: verdicts
are checked against the predictions and measurements they come from.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lossanalysis
from lossanalysis.data import intensity_summary
from lossanalysis.experiments import report
from lossanalysis.experiments.core import (CONFIRMED, INCONCLUSIVE, REFUTED, ExperimentData,
                                           Prediction, Progress, RunConfig, judge)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "confirm_predictions.py"
VERDICTS = {CONFIRMED, REFUTED, INCONCLUSIVE}


# ----------------------------------------------------------------------------------------------
# The quick run (one invocation shared by the report tests)
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, real_data):
    out = tmp_path_factory.mktemp("quick_report")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(SCRIPT), "--dataset", "mnist", "--quick",
                           "--out", str(out)], capture_output=True, text=True, env=env,
                          timeout=900, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-4000:]
    md = (out / "mnist.md").read_text(encoding="utf-8")
    doc = json.loads((out / "mnist.json").read_text(encoding="utf-8"))
    return {"out": out, "md": md, "json": doc, "stderr": proc.stderr, "stdout": proc.stdout}


def _summary_rows(md):
    """The rows of the summary table (split into cells)."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| experiment |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows.append(cells)
    return rows


def test_quick_run_writes_report_json_and_own_figures(quick_run):
    out = quick_run["out"]
    assert (out / "mnist.md").is_file() and (out / "mnist.json").is_file()
    figs = sorted(p.name for p in (out / "figures").glob("*.png"))
    for label, mod in report.EXPERIMENTS:
        assert any(mod.split("_")[0] in f for f in figs), (label, figs)
    # every figure the report embeds exists, relative to the report
    for rel in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", quick_run["md"]):
        assert (out / rel).is_file(), rel
        assert (out / rel).resolve().parent == (out / "figures").resolve(), rel


def test_header_has_command_seeds_data_and_version(quick_run):
    md = quick_run["md"]
    head = md.split("## Summary")[0]
    assert "- Command: `python scripts/confirm_predictions.py --dataset mnist --quick" in head
    assert re.search(r"- Seeds: 0, 1\b", head)
    assert "- Data: mnist, " in head and "training images" in head and "test images" in head
    assert "mid-grey" in head
    assert f"lossanalysis {lossanalysis.__version__}" in head
    assert f"numpy {np.__version__}" in head
    # the commit, and whether the working tree differed from it when the run started
    commit, dirty = report.git_state()
    version = re.search(r"- Version: .*, git ([^,]+), numpy", head)
    assert version, head
    if commit is None:
        assert version.group(1) == "unavailable"
    else:
        assert version.group(1) == commit + (" (modified)" if dirty else "")
    assert report.TIMING_MARK in head
    # the summary heading counts the verdicts of the table
    rows = _summary_rows(md)
    counts = {v: sum(r[-1] == v for r in rows) for v in VERDICTS}
    assert (f"## Summary: {counts[CONFIRMED]} confirmed, {counts[REFUTED]} refuted, "
            f"{counts[INCONCLUSIVE]} inconclusive") in md


def test_spread_is_the_sample_sd_over_seeds(quick_run):
    results = [r for e in quick_run["json"]["experiments"].values() for r in e["results"]]
    for r in results:
        meas = [float(v) for v in r["measurements"]]
        if len(meas) > 1 and all(math.isfinite(v) for v in meas):
            assert r["spread"] == pytest.approx(float(np.std(meas, ddof=1)), abs=1e-15)


def test_every_experiment_has_a_section_and_a_figure(quick_run):
    md = quick_run["md"]
    import importlib
    for label, mod_name in report.EXPERIMENTS:
        mod = importlib.import_module(f"lossanalysis.experiments.{mod_name}")
        assert f"### {mod.NAME} (mnist)" in md, mod.NAME
        assert f"![{mod.NAME}](" in md, mod.NAME
    assert "## E7 Binary versus grey data" in md
    assert "## The thread's claims" in md


def test_summary_verdicts_are_computed_from_predictions_and_measurements(quick_run):
    rows = _summary_rows(quick_run["md"])
    results = [r for e in quick_run["json"]["experiments"].values() for r in e["results"]]
    assert len(rows) == len(results) > 0
    for cells, r in zip(rows, results):
        assert cells[-1] in VERDICTS
        assert cells[-1] == r["verdict"]
        assert f"`{r['id']}`" in cells[1]
        pred = Prediction(**{k: r[k] for k in ("id", "experiment", "statement", "quantity",
                                               "value", "tolerance", "kind", "source")})
        meas = [float(v) for v in r["measurements"]]
        assert judge(pred, meas) == r["verdict"]
        # quick mode: at most 2 seeds, at least 1
        assert 1 <= len(meas) <= 2
        if all(math.isfinite(v) for v in meas):
            assert r["mean"] == pytest.approx(float(np.mean(meas)))


def test_revised_predictions_are_listed_and_exist(quick_run):
    """Every revision names predictions the run really makes, and the report lists them all."""
    ids = {r["id"] for e in quick_run["json"]["experiments"].values() for r in e["results"]}
    revs = report.revisions()
    assert revs
    section = quick_run["md"].split("## Predictions revised after an earlier run")[1]
    for rev in revs:
        for pid in rev.ids:
            assert pid in ids, pid
            assert f"`{pid}`" in section


def test_judge_boundaries():
    """The edges of each kind, and no verdict hanging on the last bit of a float sum."""
    p = Prediction("X.t", "X", "s", "q", 1.0, 0.2, "equal")
    assert judge(p, [1.2]) == CONFIRMED and judge(p, [1.2000001]) == REFUTED
    assert judge(p, [0.1 + 0.7]) == CONFIRMED            # 0.7999999999999999, on the edge
    assert judge(Prediction("X.t", "X", "s", "q", 1.0, 0.2, "at_least"), [0.8]) == CONFIRMED
    assert judge(Prediction("X.t", "X", "s", "q", 1.0, 0.2, "at_least"), [0.79]) == REFUTED
    assert judge(Prediction("X.t", "X", "s", "q", 1.0, 0.2, "at_most"), [5.0]) == REFUTED
    assert judge(p, [np.nan, 1.0]) == INCONCLUSIVE and judge(p, []) == INCONCLUSIVE


def test_claims_take_their_data_verdicts_from_the_run(quick_run):
    """A quick run is a smoke test: the claims that read data are "not judged" (not "awaiting
    data": the run's rows were read), the purely analytic ones keep their verdicts."""
    from lossanalysis.claims import CLAIMS, DECIDED
    claims = {c["id"]: c for c in quick_run["json"]["claims"]}
    for c in CLAIMS:
        assert claims[c.id]["verdict"] == ("not judged" if c.has_data else
                                           claims[c.id]["analysis"]["verdict"]), c.id
        assert c.has_data or claims[c.id]["verdict"] in DECIDED
    assert "quick run" in claims["7"]["data"]["text"]
    assert "awaiting data" not in quick_run["md"].split("## The thread's claims")[1].split(
        "## Experiments")[0]


def test_progress_lines_on_stderr(quick_run):
    lines = [ln for ln in quick_run["stderr"].splitlines() if ln.strip()]
    timed = [ln for ln in lines if re.match(r"^\[\s*\d+\.\d s\] ", ln)]
    assert len(timed) >= 12
    for label, _ in report.EXPERIMENTS:
        assert any(f"{label} (" in ln and "starts" in ln for ln in timed), label


def test_no_timestamps_outside_timing_lines(quick_run):
    """The report carries no dates; wall-clock times only on lines with the timing mark."""
    md = quick_run["md"]
    stamp = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
    for line in md.splitlines():
        if report.TIMING_MARK not in line:
            assert not stamp.search(line), line


# ----------------------------------------------------------------------------------------------
# The machinery, in-process on small budgets
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_data(real_data):
    from lossanalysis.data import load
    x_train, _ = load("mnist", "train")
    x_test, _ = load("mnist", "test")
    x_train, x_test = x_train[:400], x_test[:200]
    return ExperimentData("mnist", x_train, x_test, intensity_summary(x_train))


_TINY_E1 = {"steps": 200, "ae_steps": 5, "ae_images": 4, "ae_sizes": (784, 16, 4),
            "n_locations": 8}


def _run_e1(data, tmp_path, **cfg_kw):
    from lossanalysis.experiments import e1_minimizers
    extra = {"e1": dict(_TINY_E1)}
    extra.update(cfg_kw.pop("extra", {}))
    cfg = RunConfig(dataset="mnist", n_seeds=1, quick=True, figures_dir=str(tmp_path),
                    quiet=True, extra=extra, **cfg_kw)
    return e1_minimizers.run(cfg, data, Progress(quiet=True))


def test_injected_wrong_prediction_is_refuted(small_data, tmp_path):
    honest = _run_e1(small_data, tmp_path)
    by_id = {r.prediction.id: r for r in honest.results}
    target = by_id["E1.point.bce"]
    # a value far outside the tolerance of what was measured: the same machinery must refute it
    wrong = target.mean + 100 * target.prediction.tolerance + 0.5
    injected = _run_e1(small_data, tmp_path, extra={"override": {"E1.point.bce": wrong}})
    r = {x.prediction.id: x for x in injected.results}["E1.point.bce"]
    assert r.prediction.value == wrong
    assert r.prediction.tolerance == target.prediction.tolerance
    assert r.measurements == target.measurements          # same seed, same measurement
    assert r.verdict == REFUTED
    # the other predictions are untouched
    for x in injected.results:
        if x.prediction.id != "E1.point.bce":
            assert x.prediction == by_id[x.prediction.id].prediction


def test_changing_the_seed_changes_the_measurements(small_data, tmp_path):
    a = _run_e1(small_data, tmp_path, base_seed=0)
    b = _run_e1(small_data, tmp_path, base_seed=7)
    ma = {r.prediction.id: r.measurements for r in a.results}
    mb = {r.prediction.id: r.measurements for r in b.results}
    assert ma.keys() == mb.keys()
    changed = [k for k in ma if ma[k] != mb[k]]
    assert len(changed) >= len(ma) // 2, changed
    # predictions come from the analysis, not from the seed
    assert [r.prediction for r in a.results] == [r.prediction for r in b.results]


def test_same_seed_same_report_section(small_data, tmp_path):
    """Byte-stable output: the same seed gives the same measurements and the same Markdown."""
    a = _run_e1(small_data, tmp_path)
    b = _run_e1(small_data, tmp_path)
    assert [r.measurements for r in a.results] == [r.measurements for r in b.results]
    assert a.markdown == b.markdown
    assert report.TIMING_MARK not in a.markdown


def test_e1_autoencoder_convergence_is_checked(small_data, tmp_path):
    from lossanalysis.experiments import e1_minimizers as e1
    from lossanalysis.losses import logit
    out = _run_e1(small_data, tmp_path)
    by_id = {r.prediction.id: r for r in out.results}
    for name in e1.AE_LOSSES:
        assert f"ae_newton_distance[{name}]" in out.measurements
        assert "converged" in by_id[f"E1.ae.{name}"].notes
        # every AE prediction is judged at the same resolution, as an equality
        p = by_id[f"E1.ae.{name}"].prediction
        assert p.kind == "equal"
        assert p.tolerance == by_id["E1.ae.mse"].prediction.tolerance
    assert "still to move" in out.markdown
    # the Newton distance vanishes at the minimizer and grows away from it
    y = np.array([0.1, 0.3, 0.7, 0.9])
    for name in e1.AE_LOSSES:
        from lossanalysis import analysis
        z_star = logit(np.asarray(analysis.argmin(name, y), dtype=float))
        assert np.all(e1.newton_distance(name, y, z_star) < 1e-6)
        # a small displacement delta in the logit: the Newton step recovers the distance in p
        from lossanalysis.losses import sigmoid
        delta = 0.05
        d = e1.newton_distance(name, y, z_star + delta)
        np.testing.assert_allclose(d, np.abs(sigmoid(z_star + delta) - sigmoid(z_star)),
                                   rtol=0.2)
    # capped at max(p, 1 - p), also where the curvature is negative (saturated MSE output)
    d = e1.newton_distance("mse", np.array([0.9]), np.array([-12.0]))
    assert 0 < d[0] <= 1.0


def test_e3_wrong_prediction_is_refuted_and_strata_cover_the_locations(small_data, tmp_path):
    from lossanalysis.experiments import e3_calibration as e3
    tiny = {"sizes": (784, 16, 4), "n_train": 200, "n_eval": 50, "epochs": 1, "batch": 50}
    cfg = RunConfig(dataset="mnist", n_seeds=1, quick=True, figures_dir=str(tmp_path),
                    quiet=True, extra={"e34": tiny, "override": {"E3.bce.calibration": 0.5}})
    out = e3.run(cfg, small_data, Progress(quiet=True))
    r = {x.prediction.id: x for x in out.results}
    assert r["E3.bce.calibration"].prediction.value == 0.5
    assert r["E3.bce.calibration"].verdict == REFUTED
    n_loc = sum(out.measurements[k] for k in out.measurements
                if k.startswith("stratum[") and k.endswith(".locations"))
    assert n_loc == out.measurements["locations"]
    assert "By the locations' data mean" in out.markdown


def test_e2_wrong_first_step_prediction_is_refuted(small_data, tmp_path):
    from lossanalysis.experiments import e2_saturation
    extra = {"e2": {"n_train": 200, "n_eval": 16, "batch": 8, "max_steps": 3},
             "override": {"E2.ae.first_step.sgd": 1.0}}
    cfg = RunConfig(dataset="mnist", n_seeds=1, quick=True, figures_dir=str(tmp_path),
                    quiet=True, extra=extra)
    out = e2_saturation.run(cfg, small_data, Progress(quiet=True))
    r = {x.prediction.id: x for x in out.results}
    assert r["E2.ae.first_step.sgd"].prediction.value == 1.0
    assert r["E2.ae.first_step.sgd"].verdict == REFUTED
    # the measured ratio is the analysis's, computed independently of the injected value
    assert r["E2.ae.first_step.sgd"].mean == pytest.approx(e2_saturation.first_step_ratio(),
                                                           rel=0.02)


# ----------------------------------------------------------------------------------------------
# Report pieces without data
# ----------------------------------------------------------------------------------------------
def _snap(frac_mid, **meas):
    return {"summary": {"frac_mid_of_nonzero": frac_mid, "frac_between": 2 * frac_mid},
            "measurements": meas, "source": "test"}


def test_e7_relates_effects_to_the_grey_fraction():
    snaps = {"mnist": _snap(0.3, **{"E3.mse_mean_abs_error": 0.002, "E2.sgd_slowdown": 100.0,
                                    "E5.sigma_eff[bernoulli]": 0.2}),
             "fashion-mnist": _snap(0.6, **{"E3.mse_mean_abs_error": 0.006,
                                             "E2.sgd_slowdown": 95.0,
                                             "E5.sigma_eff[bernoulli]": 0.1})}
    text = report.e7_section("mnist", snaps)
    assert "| mid-grey share of the non-zero pixels | 0.300 | 0.600 | 2.00 | 1 |" in text
    # ratio 3 against a grey-share ratio of 2: elasticity ln 3 / ln 2
    assert (f"| E3 MSE calibration error in the large, mean \\|.\\| | 0.002 | 0.006 | 3.00 | "
            f"{math.log(3) / math.log(2):+.2f} | – | grows |") in text
    assert (f"| E2 SGD slowdown of MSE from saturation (x) | 100 | 95 | 0.95 | "
            f"{math.log(0.95) / math.log(2):+.2f} | flat | flat |") in text
    assert "| E5 Bernoulli decoder's effective sigma | 0.2 | 0.1 | 0.50 | -1.00 | grows | falls |" \
        in text
    assert ("1 are larger on the greyer Fashion-MNIST by more than 1.1x (E3 MSE calibration "
            "drift (3.00x)), 1 are smaller (E5 Bernoulli sigma_eff (0.50x)), 1 about the same "
            "(E2 SGD slowdown (0.95x))") in text
    # the effects with a stated dependence are compared with it
    assert "Of the 2 whose dependence the analysis states, 1 behave as it says" in text
    assert "E5 Bernoulli sigma_eff expected grows, measured falls (0.50x)" in text
    rows = {r["short"]: r for r in report.e7_rows(snaps)}
    assert rows["E3 MSE calibration drift"]["elasticity"] == pytest.approx(math.log(3)
                                                                           / math.log(2))
    assert rows["E4 AE blur BCE-MSE"]["measured"] is None          # not measured here
    assert report.e7_relation(-0.5) == "changes sign"
    assert report.e7_relation(1.05) == "flat"
    single = report.e7_section("mnist", {"mnist": snaps["mnist"]})
    assert "Only MNIST has results" in single


def test_git_state_reports_a_modified_tree(tmp_path):
    import shutil
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                       env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
                                GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t"))
    git("init", "-q")
    (repo / "code.py").write_text("x = 1\n")
    (repo / "reports").mkdir()
    (repo / "reports" / "mnist.md").write_text("old\n")
    git("add", ".")
    git("commit", "-q", "-m", "init")
    commit, dirty = report.git_state(repo)
    assert commit and dirty is False
    v = {"git": commit, "git_modified": dirty}
    assert report.git_label(v) == commit
    # the run's own outputs do not count as a modification ...
    (repo / "reports" / "mnist.md").write_text("new\n")
    (repo / "figures").mkdir()
    (repo / "figures" / "f.png").write_bytes(b"png")
    assert report.git_state(repo) == (commit, False)
    # ... a changed or a new source file does
    (repo / "code.py").write_text("x = 2\n")
    assert report.git_state(repo) == (commit, True)
    assert report.git_label({"git": commit, "git_modified": True}) == f"{commit} (modified)"
    git("checkout", "code.py")
    (repo / "extra.py").write_text("y = 1\n")
    assert report.git_state(repo) == (commit, True)
    assert report.git_state(tmp_path / "nowhere") == (None, None)
    assert report.git_label({"git": None}) == "unavailable"


def test_claim_evidence_reads_the_run():
    """The claims read the run's rows (in the report's schema) and the pixels' observations."""
    from lossanalysis import claims
    from lossanalysis.experiments.core import ExperimentOutput, Prediction, Result, RunConfig
    lean = Prediction("E4.null.lean", "E4", "s", "q", 0.0, 0.01, "equal")
    adam = Prediction("E2.ae.first_step.adam", "E2", "s", "q", 1.0, 0.01, "equal")
    run = {"outputs": [("E4", ExperimentOutput("E4", [Result(lean, [0.05, 0.06], "mnist")])),
                       ("E2", ExperimentOutput("E2", [Result(adam, [1.0, 1.0], "mnist")]))],
           "cfg": RunConfig(quick=False)}
    pixels = np.concatenate([np.zeros(90), np.ones(6), np.full(4, 0.5)])
    evidence = report.claim_evidence("mnist", run, pixels)
    [rep] = evidence.reports
    assert [r.id for r in rep.rows] == ["E4.null.lean", "E2.ae.first_step.adam"]
    assert [r.kind for r in rep.rows] == ["falsifiable"] * 2
    assert rep.rows[0].side() == "above"
    assert rep.observations["binary_pixel_fraction"].values == (pytest.approx(0.96),)
    assert claims.evaluate("3a", evidence).data.verdict == "confirmed"    # leans toward 1/2
    assert claims.evaluate("7", evidence).data.verdict == "refuted"       # Adam: no speed-up
    assert claims.evaluate("8", evidence).verdict == "confirmed"
    quick = report.claim_evidence("mnist", dict(run, cfg=RunConfig(quick=True)))
    assert claims.evaluate("3a", quick).verdict == "not judged"


def test_script_command_line_is_canonical():
    import importlib.util
    spec = importlib.util.spec_from_file_location("confirm_predictions", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ns = dataclasses.make_dataclass("NS", ["dataset", "seeds", "quick", "out", "data_dir"])
    cmd = mod.command_line(ns("both", 3, False, None, None), explicit_seeds=False)
    assert cmd == "python scripts/confirm_predictions.py --dataset both"
    cmd = mod.command_line(ns("mnist", 2, True, "x", "d"), explicit_seeds=True)
    assert cmd == ("python scripts/confirm_predictions.py --dataset mnist --seeds 2 --quick "
                   "--out x --data-dir d")
    with pytest.raises(SystemExit):
        mod.main(["--seeds", "0"])
