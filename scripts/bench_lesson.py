#!/usr/bin/env python3
"""How long the lesson (docs/lesson.md) makes a student wait: the numbers of its Timings table.

Measures, on this machine:

* its code, as the notebook docs/lesson.ipynb runs it (lossanalysis._notebook.run_notebook, in
  a fresh process), twice: with the BLAS threads the machine gives (what a student gets) and
  with one BLAS thread (OPENBLAS_NUM_THREADS=1 and the like; on a busy machine threads that
  wait for a core cost more than they give): the wall time of every part and of the slowest
  cell;
* each command it gives, in a fresh process (``python -m lossanalysis``, the same code as the
  ``lossanalysis`` command), writing into a temporary folder: the three figure commands,
  ``advise`` on the MNIST training images and the ``compare`` run of part 6;
* with ``--study-quick``, ``lossanalysis study DATA --quick`` on MNIST (registered into a
  temporary folder first): its wall time, when its first progress line appeared with which
  ETA, and when its last task finished (the rest is the report and its figures).

Prints the CPU model, the 1-minute load average before and after (other work on the machine
lengthens every wall time), each measurement, and the rows of the lesson's table.  The MNIST
files are found through --data-dir or $LOSSANALYSIS_DATA (a folder holding mnist/).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lossanalysis.nn.profile import cpu_model

ROOT = Path(__file__).resolve().parents[1]
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
COMPARE = ["compare", "--losses", "mse,bce", "--n-train", "5000", "--epochs", "3"]


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def _part_of_cells(notebook) -> dict:
    """cell index -> the lesson part ("0" ... "7") it belongs to."""
    part, out = "0", {}
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "markdown":
            m = re.search(r"^## (\d+)\.", "".join(cell["source"]), re.M)
            part = m.group(1) if m else part
        out[i] = part
    return out


def bench_code(notebook_path: Path):
    from lossanalysis._notebook import run_notebook

    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    parts = _part_of_cells(notebook)
    times = {}
    start = time.perf_counter()
    failures = run_notebook(notebook, timer=lambda i, s: times.__setitem__(i, s))
    total = time.perf_counter() - start
    per_part = {}
    for i, s in times.items():
        per_part[parts[i]] = per_part.get(parts[i], 0.0) + s
    slowest = max(times, key=times.get)
    return total, per_part, (parts[slowest], times[slowest]), failures


def run(argv, env, cwd) -> tuple:
    """Wall seconds of ``python -m lossanalysis ARGV`` in a fresh process, its stderr."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lossanalysis", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"bench_lesson.py: error: lossanalysis {' '.join(argv)} failed: "
                         f"{done.stderr.strip().splitlines()[-1:]}")
    return seconds, done.stderr


def bench_study_quick(mnist: Path, env, tmp: Path):
    folder = tmp / "study"
    run(["study", str(mnist), "--out", str(folder), "--register"], env, tmp)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "lossanalysis", "study", str(mnist),
                             "--out", str(folder), "--quick"], cwd=tmp, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    first = last = None
    for line in proc.stderr:
        m = re.match(r"(\d+)/(\d+) tasks, ETA (.+?):", line)
        if m:
            now = time.perf_counter() - start
            if first is None:
                first = (now, m.group(3), int(m.group(2)))
            last = now
    if proc.wait() != 0:
        raise SystemExit("bench_lesson.py: error: the quick study failed")
    return time.perf_counter() - start, first, last


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None,
                    help="folder holding mnist/ (default: $LOSSANALYSIS_DATA)")
    ap.add_argument("--study-quick", action="store_true",
                    help="also time `lossanalysis study MNIST --quick` (minutes)")
    ap.add_argument("--code-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.code_only:             # the child process of the code measurement: JSON on stdout
        total, per_part, slowest, failures = bench_code(ROOT / "docs" / "lesson.ipynb")
        print(json.dumps([total, per_part, slowest, len(failures)]))
        return 0
    root = args.data_dir or os.environ.get("LOSSANALYSIS_DATA")
    if not root:
        ap.error("give --data-dir or set LOSSANALYSIS_DATA (a folder holding mnist/)")
    os.environ["LOSSANALYSIS_DATA"] = str(Path(root).resolve())
    env = {**os.environ, "MPLBACKEND": "Agg"}
    mnist = Path(os.environ["LOSSANALYSIS_DATA"]) / "mnist"
    print(f"{cpu_model()}, {os.cpu_count()} CPUs; 1-minute load average {_load()} before")

    code = {}
    for label, extra in (("default BLAS threads", {}),
                         ("1 BLAS thread", {v: "1" for v in BLAS_VARIABLES})):
        done = subprocess.run([sys.executable, __file__, "--code-only"], env={**env, **extra},
                              capture_output=True, text=True, check=True)
        total, per_part, (slow_part, slow_s), failures = json.loads(done.stdout)
        code[label] = (total, slow_part, slow_s)
        print(f"code, every cell of the notebook in order, {label}: {total:.1f} s "
              f"({'; '.join(f'part {k} {v:.1f} s' for k, v in sorted(per_part.items()))}); "
              f"slowest cell {slow_s:.1f} s (part {slow_part})")
        if failures:
            print(f"warning: {failures} cells showed other output than the lesson's")
    (t1, part1, s1), (t2, part2, s2) = code.values()
    rows = [("every code block of parts 0-7, one after the other (default threads / 1 thread)",
             f"{t1:.0f} s / {t2:.0f} s"),
            (f"the slowest block (part {part1}; default threads / 1 thread)",
             f"{s1:.0f} s / {s2:.0f} s")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        figures = {kind: run(["figure", kind, "--out", str(tmp / "fig")], env, tmp)[0]
                   for kind in ("asymmetry", "bias", "gradients")}
        print("figure commands: " + ", ".join(f"{k} {v:.1f} s" for k, v in figures.items()))
        rows.append(("`lossanalysis figure asymmetry` (and `bias`, `gradients`)",
                     " / ".join(f"{v:.0f} s" for v in figures.values())))
        advise = run(["advise", str(mnist / "train-images-idx3-ubyte.gz"), "--out",
                      str(tmp / "advice")], env, tmp)[0]
        print(f"advise on the MNIST training images: {advise:.1f} s")
        rows.append(("`lossanalysis advise` on the MNIST training images", f"{advise:.0f} s"))
        compare = run([*COMPARE, "--out", str(tmp / "cmp")], env, tmp)[0]
        print(f"lossanalysis {' '.join(COMPARE)}: {compare:.1f} s")
        rows.append((f"`lossanalysis {' '.join(COMPARE)}`", f"{compare:.0f} s"))
        if args.study_quick:
            wall, first, last = bench_study_quick(mnist, env, tmp)
            at, eta, tasks = first
            print(f"study --quick: {wall:.1f} s; first progress line at {at:.1f} s (ETA {eta}, "
                  f"{tasks} tasks); last task done at {last:.1f} s")
            rows.append(("`lossanalysis study ... --quick` on MNIST", f"{wall:.0f} s"))
    print(f"1-minute load average {_load()} after")
    print("\n| what | wall time |\n| --- | --- |")
    for what, value in rows:
        print(f"| {what} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
