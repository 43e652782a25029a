#!/usr/bin/env python3
"""Benchmark: the flagship script's wall time against the bare import of numpy, scipy and
matplotlib (the goal is at most 2.5 times that import time), each the median of fresh
interpreter runs."""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wall(cmd, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5, help="runs per measurement (default 5)")
    args = ap.parse_args(argv)
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
        ]
        results = {name: wall(cmd, args.repeat) for name, cmd in rows}
    for name, t in results.items():
        print(f"{name:34s} {t:7.3f} s")
    base = results["import numpy, scipy, matplotlib"]
    ratio = results["scripts/asymmetry_plot.py"] / base
    print(f"flagship / bare imports: {ratio:.2f} (goal <= 2.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
