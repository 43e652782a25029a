#!/usr/bin/env python3
"""Timings of ``python -m lossanalysis advise`` (the goal: <= 20 s for 60,000 28 x 28 images on
one core) and its peak memory.

Times, best of --repeat runs after a warm-up run, each as "wall/cpu" seconds (on a shared machine the wall time
includes waiting for a core; the process CPU time does not):

* the analysis, ``lossanalysis.advise.advise``, on the Fashion-MNIST training images (60,000)
  as stored (uint8) and as a float32 array in [0, 1] (the float path);
* the whole command with ``--out`` (reading the IDX file, the Markdown and the figure), run
  in-process.

Run it with one BLAS thread for the one-core figure: ``OPENBLAS_NUM_THREADS=1 python
scripts/bench_advise.py``.  The peak memory of the analysis (Python's tracemalloc, which NumPy
reports its buffers to) is measured in a separate, untimed run.
"""
import argparse
import contextlib
import io
import os
import tempfile
import tracemalloc

from bench_analysis import best, cell  # scripts/: best of n runs as (wall, cpu) seconds

from lossanalysis import data
from lossanalysis.__main__ import main as cli
from lossanalysis.advise import advise


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="fashion-mnist", choices=data.DATASETS)
    ap.add_argument("--data-dir", default=None, help="folder searched first for the IDX files")
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing (default: 3)")
    args = ap.parse_args(argv)

    images_path, _ = data.find_files(args.dataset, "train", args.data_dir)
    x, _ = data.load(args.dataset, "train", data_dir=args.data_dir, raw=True)
    xf = x.astype("float32") / 255
    print(f"{args.dataset} training images: {x.shape[0]} x {x.shape[1]} x {x.shape[2]}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print("timings: wall/cpu seconds, best of", args.repeat)
    print(f"  advise, uint8 images:   {cell(best(lambda: advise(x), args.repeat))}")
    print(f"  advise, float32 images: {cell(best(lambda: advise(xf), args.repeat))}")
    with tempfile.TemporaryDirectory() as out:
        def command():
            with contextlib.redirect_stdout(io.StringIO()):
                cli(["advise", str(images_path), "--out", out])
        print(f"  command with --out:     {cell(best(command, args.repeat))}")
    del xf
    tracemalloc.start()
    advise(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory of advise beyond the loaded uint8 images ({x.nbytes / 1e6:.0f} MB): "
          f"{peak / 1e6:.0f} MB (a float64 copy would be {x.size * 8 / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
