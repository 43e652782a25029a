#!/usr/bin/env python3
"""Timings of ``python -m lossanalysis advise`` (the goal: <= 20 s for 60,000 28 x 28 images on
one core) and its peak memory.

Times, best of --repeat runs after a warm-up run, each as "wall/cpu" seconds (on a shared machine the wall time
includes waiting for a core; the process CPU time does not):

* the analysis, ``lossanalysis.advise.advise``, on the Fashion-MNIST training images (60,000)
  as stored (uint8) and as a float32 array in [0, 1] (the float path);
* the whole command with ``--out`` (reading the IDX file, the Markdown and the figure), run
  in-process;
* images of many values (issue 20: 3 images of 20,000 values took 6.2 GB and a minute, 100,000
  values a 74.5 GiB MemoryError; the goal: seconds, and 10 s / 500 MB for 100,000): 3 random
  8-bit images of 20,000 and of 100,000 values (the Gram route) and 1,000 of 20,000 values (the
  randomized route), each with its peak memory.

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

    import numpy as np
    rng = np.random.default_rng(0)
    print("images of many values (random 8-bit levels):")
    for n, d in ((3, 20_000), (3, 100_000), (1_000, 20_000)):
        big = rng.integers(0, 256, (n, d), dtype=np.uint8)
        advise(big)                                   # warm-up (and the method used)
        timing = best(lambda: advise(big), args.repeat)
        tracemalloc.start()
        method = advise(big).scale["spectrum_method"]
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  {n:>5} x {d:>7}: {cell(timing)}  peak {peak / 1e6:.0f} MB  ({method})")


if __name__ == "__main__":
    main()
