#!/usr/bin/env python3
"""Benchmark: the flagship script's cost against the bare import of numpy, scipy and matplotlib
(the goal is at most 2.5 times that import), each the median of fresh interpreter runs, as wall
time and as CPU time (user + system of the child: less sensitive to other work on shared
cores).  The other analysis figures are timed for reference."""
import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(cmd, repeat):
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5, help="runs per measurement (default 5)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    py = sys.executable
    with tempfile.TemporaryDirectory() as out:
        rows = [
            ("python -c pass", [py, "-c", "pass"]),
            ("import numpy, scipy, matplotlib", [py, "-c", "import numpy, scipy, matplotlib"]),
            ("  + matplotlib.pyplot", [py, "-c", "import numpy, scipy, matplotlib.pyplot"]),
            ("import lossanalysis", [py, "-c", "import lossanalysis"]),
            ("scripts/asymmetry_plot.py", [py, "scripts/asymmetry_plot.py", "--out", out]),
            ("  --format pdf only", [py, "scripts/asymmetry_plot.py", "--out", out,
                                     "--format", "pdf"]),
            ("scripts/bias_plot.py", [py, "scripts/bias_plot.py", "--out", out]),
            ("scripts/gradient_plot.py", [py, "scripts/gradient_plot.py", "--out", out]),
        ]
        results = {name: measure(cmd, args.repeat) for name, cmd in rows}
    print(f"{'':34s} {'wall':>8s} {'cpu':>8s}")
    for name, (wall, cpu) in results.items():
        print(f"{name:34s} {wall:7.3f}s {cpu:7.3f}s")
    base = results["import numpy, scipy, matplotlib"]
    flagship = results["scripts/asymmetry_plot.py"]
    print(f"flagship / bare imports: {flagship[0] / base[0]:.2f} wall, "
          f"{flagship[1] / base[1]:.2f} cpu (goal <= 2.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
