#!/usr/bin/env python3
"""Timings of the vectorized analysis on many targets (the spec: about a second for 10^4).

Prints, per loss, the time of argmin, noise_bias in probability space and in logit space, and
asymmetry_ratio for N targets (best of --repeat runs), plus optimal_prediction on a 10^6-pixel
8-bit image.  Each entry is "wall/cpu" seconds of the fastest run: on a shared machine the wall
time includes waiting for a core, the process CPU time does not.  The symbolic results are not
timed (they are cached per loss; a warm-up call builds them first).
"""
import argparse
import sys
import time

import numpy as np

from lossanalysis import LOSSES, analysis


def best(fn, repeat):
    """(wall, cpu) seconds of the fastest of ``repeat`` runs of fn(), after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return min(times)


def cell(t):
    return f"{t[0]:.3f}/{t[1]:.3f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10_000, help="number of targets (default: 10000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing (default: 3)")
    ap.add_argument("--losses", default=",".join(LOSSES),
                    help="comma-separated catalogue losses (default: all)")
    ap.add_argument("--sigma-prob", type=float, default=0.01)
    ap.add_argument("--sigma-logit", type=float, default=0.5)
    args = ap.parse_args(argv)
    names = [n for n in args.losses.split(",") if n]
    if any(n not in LOSSES for n in names):
        ap.error(f"losses must be among {', '.join(LOSSES)}")
    y = np.linspace(0.0, 1.0, args.n + 2)[1:-1]
    margin = 4.9 * args.sigma_prob + 1e-3
    y_prob = np.linspace(margin, 1 - margin, args.n)
    print(f"{args.n} targets, best of {args.repeat}; wall/cpu seconds; noise p: sigma = "
          f"{args.sigma_prob:g}, noise z: sigma = {args.sigma_logit:g}")
    print(f"{'loss':22s} {'argmin':>12s} {'noise p':>12s} {'noise z':>12s} {'ratio':>12s}")
    for name in names:
        t_arg = best(lambda: analysis.argmin(name, y), args.repeat)
        try:
            t_p = cell(best(lambda: analysis.noise_bias(name, y_prob, args.sigma_prob, "prob"),
                            args.repeat))
        except ValueError:                     # e.g. the CB's optimum near 0 leaves no room
            t_p = "n/a"
        t_z = best(lambda: analysis.noise_bias(name, y, args.sigma_logit, "logit"), args.repeat)
        t_r = best(lambda: analysis.asymmetry_ratio(name, y, 0.05), args.repeat)
        print(f"{name:22s} {cell(t_arg):>12s} {t_p:>12s} {cell(t_z):>12s} {cell(t_r):>12s}")
    img = np.random.default_rng(0).integers(0, 256, 10 ** 6) / 255
    t_opt = best(lambda: analysis.optimal_prediction("bce", img), args.repeat)
    print(f"optimal_prediction(bce) on 10^6 8-bit pixels: {cell(t_opt)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
