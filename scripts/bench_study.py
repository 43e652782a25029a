#!/usr/bin/env python3
"""Wall time of a full and a quick study (``python -m lossanalysis study``) on 10,000 images.

The images: MNIST's 10,000 training images and its 10,000 test images (the folder in the IDX
layout, from $LOSSANALYSIS_DATA or --data-dir), registered into a temporary folder and
measured there, in this process's worker pool (--workers, default the CPUs available).  The
goals (issue 17): a full study within 5 minutes and a quick one within 60 s on the project's
2-core machine.  Prints, per mode: the wall time, the CPU seconds of the tasks, the workers,
the 1-minute load average before and after (a busy machine lengthens the wall time), and the
CPU model.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from lossanalysis.experiments import runner, study
from lossanalysis.experiments.base import Source
from lossanalysis.experiments.parallel import default_workers
from lossanalysis.nn.profile import cpu_model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None,
                    help="folder holding mnist/ (default: $LOSSANALYSIS_DATA)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--modes", default="quick,full", help="comma-separated: quick, full")
    args = ap.parse_args(argv)
    root = args.data_dir or os.environ.get("LOSSANALYSIS_DATA")
    if not root:
        ap.error("give --data-dir or set LOSSANALYSIS_DATA (a folder holding mnist/)")
    source = Source(str(Path(root) / "mnist"))
    data = source.load()
    workers = args.workers or default_workers()
    exps = runner.discover()
    print(f"{len(data.train)} training and {len(data.test)} test images of "
          f"{'x'.join(map(str, data.shape))}; experiments {', '.join(m.LABEL for m in exps)}; "
          f"{workers} workers; {cpu_model()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "mnist"
        t0 = time.perf_counter()
        study.register(data, folder, exps)
        print(f"registration: {time.perf_counter() - t0:.1f} s")
        for mode in args.modes.split(","):
            load0 = os.getloadavg()[0]
            t0 = time.perf_counter()
            out = study.run(data, folder, exps, quick=mode == "quick", workers=workers,
                            source=source, force=True,
                            progress=lambda m: print("  " + m, file=sys.stderr, flush=True))
            wall = time.perf_counter() - t0
            cpu = sum(out["run"].cpu.values())
            print(f"{mode}: {wall:.0f} s wall, {cpu:.0f} CPU-s in tasks, load "
                  f"{load0:.2f} -> {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
