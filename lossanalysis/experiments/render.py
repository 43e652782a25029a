"""A study's report: the JSON document (what claims, ``advise`` and tests read) and its Markdown
rendering.  Nothing here measures or judges; every sentence about the data is filled from the
run (:class:`.base.Finding`, the rows' own fields).

The JSON document (``report.json``)
-----------------------------------
``study``, ``status`` ("prospective" or "development"), ``prospective`` (the status is
prospective *and* the registration was committed before the run), ``quick``, ``data``
(shape, sizes, split, fingerprint, profile), ``registration`` (file, SHA-256, commit and date),
``protocol`` (seeds, confidence, rules), ``counts`` (:func:`counts`), ``rows`` (each
:meth:`lossanalysis.protocol.Row.to_dict` with its ``experiment``), ``observations``,
``experiments`` ({label: name, findings, figure files}), ``revisions`` (those whose data
include this study's), ``run`` (seeds, workers, wall and CPU seconds, versions, command).
Paths are relative to the folder the report is in.
"""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np

from .. import __version__, plotting
from ..protocol import (CONFIRMED, CONSISTENCY, DERIVED, FALSIFIABLE, INCONCLUSIVE,
                        NOT_APPLICABLE, NOT_JUDGED, REFUTED, RULES)
from .base import fmt, render_findings, revisions

__all__ = ["counts", "count_line", "figure_stem", "save_figures", "json_doc", "pair_doc",
           "markdown", "readme_section", "mechanisms_summary", "KEY_ROWS", "TIMING_MARK"]

#: Every line of the Markdown that carries a wall-clock time contains this.
TIMING_MARK = "Run time"
_OP = {"equal": "=", "at_least": "≥", "at_most": "≤"}
_VERDICTS = (CONFIRMED, REFUTED, INCONCLUSIVE, NOT_JUDGED)


def counts(rows) -> dict:
    """{kind: {verdict: n, "total": n}} for the falsifiable, consistency and derived rows (each
    apart), and {"not applicable": n} for the rows whose premise does not hold."""
    out = {}
    for kind in (FALSIFIABLE, CONSISTENCY, DERIVED):
        rs = [r for r in rows if r["kind"] == kind and r["verdict"] != NOT_APPLICABLE]
        out[kind] = {v: sum(r["verdict"] == v for r in rs) for v in _VERDICTS}
        out[kind]["total"] = len(rs)
    out[NOT_APPLICABLE] = sum(r["verdict"] == NOT_APPLICABLE for r in rows)
    return out


def count_line(c: dict) -> str:
    """One kind's counts in words, e.g. "3 confirmed, 1 refuted, 0 inconclusive (of 4)".

    >>> count_line({"confirmed": 3, "refuted": 1, "inconclusive": 0, "not judged": 0,
    ...             "total": 4})
    '3 confirmed, 1 refuted, 0 inconclusive (of 4)'
    """
    if c[NOT_JUDGED] == c["total"] and c["total"]:
        return f"{c['total']} not judged"
    return (f"{c[CONFIRMED]} confirmed, {c[REFUTED]} refuted, {c[INCONCLUSIVE]} inconclusive "
            f"(of {c['total']})")


def figure_stem(mod) -> str:
    """The file stem of an experiment's figure: its module name (``e4_asymmetry``)."""
    return mod.__name__.rsplit(".", 1)[1]


def save_figures(measured, experiments, folder: Path, progress=None) -> dict:
    """Each experiment's figure as PDF and PNG in ``folder`` ({label: {"files": names relative
    to folder's parent, "overlaps": legends that cover something}})."""
    out = {}
    for mod in experiments:
        fig = mod.figure(measured.results[mod.LABEL])
        if fig is None:
            out[mod.LABEL] = {"files": [], "overlaps": []}
            continue
        paths = plotting.save(fig, Path(folder) / figure_stem(mod))
        overlaps = [" / ".join(o) for o in plotting.legend_overlaps(fig)]
        for o in overlaps:
            if progress:
                progress(f"{mod.LABEL}: a legend covers {o}")
        out[mod.LABEL] = {"files": [f"{Path(folder).name}/{p.name}" for p in paths],
                          "overlaps": overlaps}
    return out


def git_state() -> dict:
    """The commit of the checkout the package runs from and whether tracked files differ from
    it (outside studies/, which a run writes into), or {} without git."""
    import subprocess

    from .._io import checkout
    root = checkout()
    if root is None:
        return {}
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root,
                              capture_output=True, text=True, timeout=20)
        if head.returncode != 0:
            return {}
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                 ".", ":(exclude)studies"], cwd=root, capture_output=True,
                                text=True, timeout=20)
        return {"commit": head.stdout.strip(), "modified": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {}


def _load():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


def json_doc(data, experiments, measured, reg, figures, out, command="", code=None, *,
             data_doc) -> dict:
    """The report document (see the module docstring); ``data_doc`` describes the data (the
    study's ``study._data_doc``, passed in so that this module does not import the study),
    ``code`` the git state of the code that measured (read now when not given)."""
    from ..claims import pixel_observations
    rows, obs, exps = [], dict(pixel_observations(data.train)), {}
    for mod in experiments:
        res = measured.results[mod.LABEL]
        rows += [{**r.to_dict(), "experiment": mod.LABEL} for r in res.rows]
        for name, o in res.observations.items():
            obs[name] = o.to_dict()
        exps[mod.LABEL] = {"name": mod.NAME, "findings": render_findings(mod.FINDINGS, res),
                           "figures": figures[mod.LABEL]["files"],
                           "legend_overlaps": figures[mod.LABEL]["overlaps"]}
    doc_reg = reg["doc"] or {}
    status = doc_reg.get("status", "not registered")
    git = reg["git"] or {}
    prospective = bool(status == "prospective" and git.get("tracked")
                       and git.get("same_as_commit"))
    labels = [m.LABEL for m in experiments]
    revs = [dict(r, experiment=lab) for lab in labels for r in revisions(lab)
            if data.name in r.get("data", ())]
    return {
        "study": data.name, "status": status, "prospective": prospective,
        "quick": measured.quick, "data": data_doc,
        "registration": None if reg["doc"] is None else {
            "file": "predictions.json" if Path(out).name != "quick" else "../predictions.json",
            "sha256": reg["sha256"], "commit": git.get("commit"), "date": git.get("date"),
            "committed": bool(git.get("tracked") and git.get("same_as_commit"))},
        "protocol": {"seeds": list(measured.seeds), "confidence": 0.95,
                     "rules": {r.name: r.formula for r in RULES.values()}},
        "counts": counts(rows), "rows": rows, "observations": dict(sorted(obs.items())),
        "experiments": exps, "revisions": revs,
        "run": {"command": command, "seeds": list(measured.seeds), "workers": measured.workers,
                "wall_time_s": round(measured.wall, 1),
                "cpu_seconds": round(sum(measured.cpu.values()), 1),
                "load_average": _load(), "lossanalysis": __version__,
                "git": git_state() if code is None else code,
                "numpy": np.__version__, "python": platform.python_version(),
                "finished": time.strftime("%Y-%m-%d", time.gmtime())},
    }


def pair_doc(reg: dict, sha: str, git: dict, experiments, measured, figures,
             command: str = "") -> dict:
    """The report document of a pair study (E7): as :func:`json_doc`, with ``pair`` (the two
    studies) in place of ``data``; ``command`` the command line that ran it ("" for a library
    call)."""
    rows, exps = [], {}
    for mod in experiments:
        res = measured.results[mod.LABEL]
        rows += [{**r.to_dict(), "experiment": mod.LABEL} for r in res.rows]
        exps[mod.LABEL] = {"name": mod.NAME, "findings": render_findings(mod.FINDINGS, res),
                           "figures": figures[mod.LABEL]["files"],
                           "legend_overlaps": figures[mod.LABEL]["overlaps"]}
    committed = bool(git.get("tracked") and git.get("same_as_commit"))
    return {"study": reg["study"], "status": reg["status"],
            "prospective": reg["status"] == "prospective" and committed, "quick": False,
            "pair": reg["pair"], "data": None,
            "registration": {"file": "predictions.json", "sha256": sha,
                             "commit": git.get("commit"), "date": git.get("date"),
                             "committed": committed},
            "protocol": reg["protocol"], "counts": counts(rows), "rows": rows,
            "observations": {}, "experiments": exps, "revisions": [],
            "run": {"command": command, "seeds": list(measured.seeds), "workers": 1,
                    "wall_time_s": round(measured.wall, 1), "cpu_seconds": 0.0,
                    "load_average": _load(), "lossanalysis": __version__,
                    "numpy": np.__version__, "python": platform.python_version(),
                    "finished": time.strftime("%Y-%m-%d", time.gmtime())}}


def _row_line(r) -> str:
    p_tol = "–" if r["verdict"] == NOT_APPLICABLE else (
        f"{fmt(r['tolerance'])} ({r['rule']})")
    if r["verdict"] == NOT_APPLICABLE:
        measured, effect = "–", "–"
    else:
        iv = r["interval"]
        measured = fmt(r["mean"]) + ("" if iv is None else
                                     f" [{fmt(iv[0])}, {fmt(iv[1])}]")
        effect = "detected" if r["detected"] else "–"
    verdict = (f"not applicable: {r['applicable']}" if r["verdict"] == NOT_APPLICABLE
               else f"**{r['verdict']}**")
    cell = " ".join(r["statement"].split()).replace("|", "\\|")
    return (f"| `{r['id']}` | {cell} | {r['kind']} | {_OP[r['comparison']]} "
            f"{fmt(r['value'])} | {p_tol} | {measured} | {effect} | {verdict} |")


def markdown(doc: dict, notes: dict | None = None) -> str:
    """The report's Markdown, from its JSON document alone, and ``notes`` ({experiment label:
    [lines]}, :func:`mechanism_notes`): what the mechanism stage found about its departures."""
    title = doc["study"]
    c = doc["counts"]
    kind_word = ("prospective" if doc["prospective"] else
                 "development data" if doc["status"] == "development" else doc["status"])
    lines = [f"# Study: {title} ({'quick run, not judged' if doc['quick'] else kind_word})", ""]
    for kind in (FALSIFIABLE, CONSISTENCY, DERIVED):
        lines.append(f"* {kind} rows: {count_line(c[kind])}")
    lines += [f"* not applicable: {c[NOT_APPLICABLE]}", ""]
    d, run = doc["data"], doc["run"]
    lines += ["## The study", ""]
    if d is None:
        pair = doc["pair"]
        lines.append(f"* A pair study of `{pair['a']['study']}` and `{pair['b']['study']}`: it "
                     "reads their reports, each registered as its registration's SHA-256 says "
                     f"(`{pair['a']['registration_sha256'][:16]}`, "
                     f"`{pair['b']['registration_sha256'][:16]}`).")
    else:
        split = f" ({d['split']})" if d["split"] else ""
        lines.append(f"* Data: `{d['name']}`, images of {'x'.join(map(str, d['shape']))}, "
                     f"{d['n_train']} training and {d['n_test']} test images{split}; "
                     f"quantization step {fmt(d['profile']['step'])}; fingerprint "
                     f"`{d['fingerprint'][:16]}`.")
    reg = doc["registration"]
    if reg is None:
        lines.append("* Registration: none (a quick run is a smoke test).")
    else:
        where = (f"committed in `{reg['commit']}` ({reg['date']}), before this run"
                 if reg["committed"] else "not committed: the report cannot show that it "
                 "preceded the run")
        lines.append(f"* Registration: `{reg['file']}` (SHA-256 `{reg['sha256'][:16]}`), {where}.")
    status = {"prospective": "prospective: registered before anyone measured these data with "
                             "this code" if doc["prospective"] else
                             "registered as prospective, but not committed before the run",
              "development": "development data: predictions were revised with measurements "
                             "on these data in view (see the revisions below); the verdicts "
                             "are a replication on fresh seeds and subsets, not a test on "
                             "unseen data"}.get(doc["status"], doc["status"])
    lines += [f"* Status: {status}.",
              f"* Protocol (docs/protocol.md): seeds {', '.join(map(str, run['seeds']))}, each "
              "with its own training subset and initialization; 95% Student-t interval of the "
              "seed mean against the tolerance band; tolerance rules: "
              + "; ".join(f"{k}: {v}" for k, v in doc["protocol"]["rules"].items()) + ".",
              f"* {TIMING_MARK}: {run['wall_time_s']:.0f} s wall on {run['workers']} worker "
              f"process{'es' if run['workers'] > 1 else ''} ({run['cpu_seconds']:.0f} CPU-s); "
              f"lossanalysis {run['lossanalysis']}"
              + (f" (git {run['git']['commit']}{', modified' if run['git']['modified'] else ''})"
                 if run.get("git") else "")
              + f", numpy {run['numpy']}, Python {run['python']}; command: "
              f"`{run['command'] or 'library call'}`.", ""]
    if doc["revisions"]:
        lines += ["## Revisions made with these data in view", ""]
        for r in doc["revisions"]:
            lines.append(f"* {', '.join(f'`{i}`' for i in r['ids'])}: {r['change']}. Why: "
                         f"{r['reason']}. Seen before: {r.get('seen') or '—'}.")
        lines.append("")
    for label, e in doc["experiments"].items():
        lines += [f"## {label} {e['name']}", "",
                  "| row | prediction | kind | predicted | tolerance (rule) | measured: mean "
                  "[95% interval] | effect | verdict |", "|---|---|---|---|---|---|---|---|"]
        lines += [_row_line(r) for r in doc["rows"] if r["experiment"] == label]
        lines.append("")
        if e["findings"]:
            lines += ["Findings:", ""] + [f"* {s}" for s in e["findings"]] + [""]
        if (notes or {}).get(label):
            lines += [f"Why it departs, from the mechanism stage ({MECHANISMS_LINK}):", ""]
            lines += [f"* {n}" for n in notes[label]] + [""]
        for f in e["figures"]:
            if f.endswith(".png"):
                lines += [f"![{label}]({f})", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# The README's section: computed from the committed studies
# ----------------------------------------------------------------------------------------------
#: The rows the README quotes for every study: those the thread's claims turn on.
KEY_ROWS = ("E1.ae.focal", "E2.ae.escape.sgd", "E3.mse.calibration", "E4.null.lean[0.2,0.8]",
            "E5.blur.order", "E5.mlp.rate_order", "E5.bernoulli.blur_rank", "E6.cb.mae_ratio",
            "E6.clipped.cb.mae_ratio", "E6.clipped.cb.sharper", "E8.ae.logit.bce[sigma=1]",
            "E8.ae.mse_logit[sigma=1]", "E8.ae.prob.bce[sigma=0.02]")


def _cell(row) -> str:
    if row is None:
        return "–"
    if row["verdict"] == NOT_APPLICABLE:
        return "not applicable"
    mark = ", effect detected" if row.get("detected") and row["verdict"] == CONFIRMED else ""
    return f"{row['verdict']}{mark}"


def _pooled(kind_counts) -> dict:
    out = {v: 0 for v in _VERDICTS}
    out["total"] = 0
    for c in kind_counts:
        for k in out:
            out[k] += c[k]
    return out


def readme_section(reports: dict, claims: list) -> str:
    """The README's "What the measurements say", every fact from ``reports`` ({study: report
    document}, development studies then prospective ones) and ``claims`` (the claims evaluated
    on all of them pooled)."""
    names = list(reports)
    dev = [n for n in names if reports[n]["status"] == "development"]
    pro = [n for n in names if reports[n].get("prospective")]
    lines = ["## What the measurements say", "",
             "Every experiment (E1-E8) runs as a study of an image set under "
             "[docs/protocol.md](docs/protocol.md): its predictions are computed from the images "
             "alone and committed (`studies/<name>/predictions.json`) before anything is "
             "trained, each tolerance comes from one rule per kind of quantity, five fixed "
             "seeds each train on their own subset of the training images, and each row "
             "reports its effect beside its verdict. MNIST and Fashion-MNIST, on which the "
             "predictions were revised, are *development* data (a replication on fresh seeds "
             "and subsets); image sets registered before anyone measured them are "
             "*prospective*. The numbers below are read from `studies/*/report.json` by "
             "`lossanalysis.experiments.render.readme_section`; a test keeps this section equal "
             "to its output.", "",
             "| study | status | falsifiable rows | consistency rows | derived | not applicable |",
             "|---|---|---|---|---|---|"]
    for n in names:
        d, c = reports[n], reports[n]["counts"]
        status = "prospective" if d.get("prospective") else d["status"]
        lines.append(f"| `{n}` | {status} | {count_line(c[FALSIFIABLE])} | "
                     f"{count_line(c[CONSISTENCY])} | {c[DERIVED]['total']} | "
                     f"{c[NOT_APPLICABLE]} |")
    for label, group in (("development", dev), ("prospective", pro)):
        if group:
            pooled = _pooled(reports[n]["counts"][FALSIFIABLE] for n in group)
            lines += ["", f"Pooled over the {label} studies ({', '.join(group)}), the "
                          f"falsifiable rows: {count_line(pooled)}."]
    lines += ["", "The rows the thread's claims turn on (\"effect detected\": the 95% interval "
                  "excludes the predicted value although the row is confirmed within its "
                  "tolerance):", "",
              f"| row | prediction (worded for `{names[0]}`) | "
              + " | ".join(f"`{n}`" for n in names) + " |",
              "|---|---|" + "---|" * len(names)]
    for rid in KEY_ROWS:
        rows = {n: next((r for r in reports[n]["rows"] if r["id"] == rid), None) for n in names}
        first = next((r for r in rows.values() if r is not None), None)
        if first is None:
            continue
        statement = " ".join(first["statement"].split()).replace("|", "\\|")
        lines.append(f"| `{rid}` | {statement} | "
                     + " | ".join(_cell(rows[n]) for n in names) + " |")
    lines += ["", "The thread's claims, judged by the analysis and all the studies above pooled "
                  "(`python -m lossanalysis claims`):", "", "| claim | verdict |", "|---|---|"]

    def walk(result, depth=0):
        words = " ".join(result.claim.split()).replace("|", "\\|")
        lead = "... " if depth and not words.startswith("...") else ""
        lines.append(f"| {result.id}. {lead}{words} | {result.verdict} |")
        for sub in (*(result.parts or ()), *(result.conditions or ())):
            walk(sub, depth + 1)
    for result in claims:
        walk(result)
    return "\n".join(lines) + "\n"


def _brief(row) -> str:
    """A row's verdict with its effect: ``refuted: +0.0073 [0.0053, 0.0093]``."""
    if row is None:
        return "–"
    if row["verdict"] in (NOT_APPLICABLE, NOT_JUDGED) or row.get("mean") is None:
        return row["verdict"]
    lo, hi = row["interval"] if row.get("interval") else (None, None)
    span = f" [{fmt(lo)}, {fmt(hi)}]" if lo is not None else ""
    return f"{row['verdict']}: {fmt(row['mean'])}{span}"


def _table(ids, docs: dict, describe=None) -> list:
    """A Markdown table of the rows ``ids`` (one line each) over the studies ``docs``."""
    names = list(docs)
    lines = ["| row | " + " | ".join(f"`{n}` ({_status(docs[n])})" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for rid in ids:
        cells = [_brief(next((r for r in docs[n]["rows"] if r["id"] == rid), None))
                 for n in names]
        lines.append(f"| `{rid}` | " + " | ".join(cells) + " |")
    return lines


def _status(doc) -> str:
    return "prospective" if doc.get("prospective") else doc["status"]


#: Where a study's report (studies/<name>/report.md) finds the mechanism stage's summary.
MECHANISMS_LINK = "[MECHANISMS.md](../mechanisms/MECHANISMS.md)"


def mechanism_notes(doc: dict, stage: dict | None, modules) -> dict:
    """{experiment label: [lines]}: for each mechanism experiment of ``modules`` that studies
    (``EXPLAINS``) falsifiable rows of the study ``doc`` departing from their predictions
    (refuted or inconclusive), one line naming those rows and the experiment's rivals' rows on
    the same data (pair) in ``stage``, the stage's merged report of it (None: not measured
    there).  Read from the reports alone.

    >>> from types import SimpleNamespace as NS
    >>> doc = {"rows": [{"id": "E2.x", "experiment": "E2", "kind": "falsifiable",
    ...                  "verdict": "refuted"}]}
    >>> mod = NS(LABEL="E18", NAME="why", EXPLAINS=("E2.x",))
    >>> mechanism_notes(doc, None, [mod])
    {'E2': ['E18 (why) studies `E2.x` (refuted); not measured on these data.']}
    """
    notes = {}
    for mod in modules:
        studied = {}
        for r in doc["rows"]:
            if (r["kind"] == FALSIFIABLE and r["verdict"] in (REFUTED, INCONCLUSIVE)
                    and r["id"].startswith(tuple(mod.EXPLAINS))):
                studied.setdefault(r["experiment"], []).append(f"`{r['id']}` ({r['verdict']})")
        rivals = [x for x in (stage or {}).get("rows", ()) if x["experiment"] == mod.LABEL]
        found = ("its rivals on these data: " + "; ".join(
            f"`{x['id']}` {_brief(x)}" for x in rivals)) if rivals else \
            "not measured on these data"
        for label, rows in studied.items():
            notes.setdefault(label, []).append(
                f"{mod.LABEL} ({mod.NAME}) studies {', '.join(rows)}; {found}.")
    return notes


def mechanisms_summary(studies: dict, stage: dict, modules, pairs: dict | None = None) -> str:
    """The mechanism stage's summary (``studies/mechanisms/MECHANISMS.md``).

    ``studies`` are the main studies' reports ({study: report}); ``stage`` the mechanism
    stage's ({study: report}, one report per data, the rows and experiments of its folders
    merged); ``modules`` the mechanism experiments (:func:`.runner.discover` with stage
    "mechanisms", single and pair scope), each naming the rows it explains by id prefix
    (``EXPLAINS``), and ``stage`` also holds the stage's pair studies.  For each experiment: the
    departures (the explained rows in every main study, or pair study for a pair experiment),
    the rivals' rows on every data (pair) the stage measured, and the stage's findings; then
    the refuted falsifiable rows
    of the main studies and of the pair studies ``pairs`` ({study: report}) that no experiment
    explains.  Every verdict and number is read from the
    reports.
    """
    def explained(rid, mod):
        return rid.startswith(tuple(mod.EXPLAINS))
    lines = ["# Why the networks depart from the analysis: the mechanism stage", "",
             "Generated from `studies/*/report.json` (the main studies) and "
             "`studies/mechanisms/*/report.json` (the mechanism stage, `study --mechanisms`) by "
             "`scripts/mechanisms_summary.py`; a test keeps this file equal to its output. Each "
             "mechanism experiment writes its rival explanations as predictions, registered "
             "before the run that measures them (docs/protocol.md). A cell is a row's verdict "
             "with the seed mean and its 95% interval."]
    for mod in modules:
        pair = getattr(mod, "SCOPE", "single") == "pair"
        main = (pairs or {}) if pair else studies
        ids = sorted({r["id"] for d in main.values() for r in d["rows"]
                      if explained(r["id"], mod)})
        measured = {n: d for n, d in stage.items() if mod.LABEL in d["experiments"]}
        lines += ["", f"## {mod.LABEL}: {mod.NAME}", "",
                  f"The departures it studies ({'pair' if pair else 'main'} studies):", ""
                  ] + _table(ids, main)
        if not measured:
            lines += ["", "Not measured yet on any data."]
            continue
        own = [r["id"] for r in next(iter(measured.values()))["rows"]
               if r["experiment"] == mod.LABEL]
        lines += ["", "The rivals' rows (mechanism stage):", ""] + _table(own, measured)
        for n, d in measured.items():
            lines += ["", f"Findings on `{n}` ({_status(d)}):", ""]
            lines += [f"* {f}" for f in d["experiments"][mod.LABEL]["findings"]]
    lines += ["", "## Refuted rows no mechanism experiment studies", ""]
    for n, d in {**studies, **(pairs or {})}.items():
        left = [r["id"] for r in d["rows"] if r["verdict"] == REFUTED
                and r["kind"] == FALSIFIABLE and not any(explained(r["id"], m) for m in modules)]
        lines.append(f"* `{n}`: " + (", ".join(f"`{i}`" for i in left) if left else "none"))
    return "\n".join(lines) + "\n"
