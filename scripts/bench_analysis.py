#!/usr/bin/env python3
"""Time and peak memory of the vectorized analysis on many targets.

Per loss: argmin, noise_bias in probability space (on the targets where sigma is inside the
model's domain, analysis.max_prob_noise) and in logit space, and asymmetry_ratio on N distinct
targets (uniform random); then the same on N 8-bit pixel values (254 distinct levels), the
cost of the logit-space noise bias as sigma grows (one target), and optimal_prediction on
10^6 8-bit pixels.  The goals: for 10^7 targets at most 500 MB, argmin within 10 s and the
noise bias within 30 s on one core, a cost independent of sigma.

Each time is "wall/cpu" seconds of the fastest of --repeat runs after one warm-up call (the
symbolic results are cached per loss and not timed): on a shared machine the wall time includes
waiting for a core, the process CPU time does not.  The peak memory is measured in a separate
run under ``tracemalloc`` (NumPy reports its array buffers to it): the largest traced size
during the call, in MB, above what was allocated before it.
"""
import argparse
import sys
import time
import tracemalloc

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


def cell(times):
    """'wall/cpu' seconds of a (wall, cpu) pair, as the tables print them."""
    wall, cpu = times
    return f"{wall:.3f}/{cpu:.3f}"


def peak_mb(fn):
    """Peak traced memory of one call of fn(), in MB above the memory held before it."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return (tracemalloc.get_traced_memory()[1] - base) / 1e6
    finally:
        tracemalloc.stop()


def measure(fn, repeat, memory):
    """'wall/cpu[/MB]' for fn, or 'n/a (reason)' when it raises ValueError."""
    try:
        text = cell(best(fn, repeat))
    except ValueError as err:
        return "n/a", str(err).split(":")[0]
    if memory:
        text += f"/{peak_mb(fn):.0f}"
    return text, None


def table(title, names, y, args):
    """One row per loss; the probability-space noise runs on the targets where sigma_prob is
    below analysis.max_prob_noise (the model's domain)."""
    print(title)
    unit = "wall/cpu s" + ("/MB" if args.memory else "")
    print(f"{'loss':14s} {'argmin':>18s} {'noise p':>18s} {'noise z':>18s} {'ratio':>18s}"
          f"   ({unit})")
    for name in names:
        y_prob = y[np.asarray(analysis.max_prob_noise(name, y)) > args.sigma_prob]
        cells = [
            measure(lambda: analysis.argmin(name, y), args.repeat, args.memory),
            measure(lambda: analysis.noise_bias(name, y_prob, args.sigma_prob, "prob"),
                    args.repeat, args.memory),
            measure(lambda: analysis.noise_bias(name, y, args.sigma_logit, "logit"),
                    args.repeat, args.memory),
            measure(lambda: analysis.asymmetry_ratio(name, y, 0.05), args.repeat, args.memory),
        ]
        print(f"{name:14s} " + " ".join(f"{c:>18s}" for c, _ in cells))
    sys.stdout.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10_000, help="number of targets (default: 10000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing (default: 3)")
    ap.add_argument("--losses", default=",".join(LOSSES),
                    help="comma-separated catalogue losses (default: all)")
    ap.add_argument("--sigma-prob", type=float, default=0.01)
    ap.add_argument("--sigma-logit", type=float, default=0.5)
    ap.add_argument("--sigmas", default="1,10,100,1e3,1e5",
                    help="logit-space sigmas for the large-sigma timing (default: 1,...,1e5)")
    ap.add_argument("--no-memory", dest="memory", action="store_false",
                    help="skip the tracemalloc peak-memory runs")
    ap.add_argument("--only", choices=("distinct", "levels", "sigma", "optimal"), action="append",
                    help="run only these sections (repeatable; default: all)")
    args = ap.parse_args(argv)
    names = [n for n in args.losses.split(",") if n]
    if any(n not in LOSSES for n in names):
        ap.error(f"losses must be among {', '.join(LOSSES)}")
    if args.n < 1 or args.repeat < 1:
        ap.error("-n and --repeat must be >= 1")
    try:
        sigmas = [float(s) for s in args.sigmas.split(",") if s]
    except ValueError:
        ap.error(f"--sigmas must be comma-separated numbers, got {args.sigmas!r}")
    sections = set(args.only or ("distinct", "levels", "sigma", "optimal"))
    print(f"N = {args.n} targets, best of {args.repeat}; noise p: sigma = {args.sigma_prob:g}, "
          f"noise z: sigma = {args.sigma_logit:g}")
    if "distinct" in sections:
        y = np.random.default_rng(0).random(args.n)
        table("-- distinct targets (uniform random in (0, 1))", names, y, args)
    if "levels" in sections:
        y = np.random.default_rng(0).integers(1, 255, args.n) / 255
        table("-- 8-bit levels 1/255 .. 254/255 (254 distinct values)", names, y, args)
    if "sigma" in sections:
        print("-- noise_bias(loss, 0.3, sigma, 'logit'), one target")
        for name in ("mse", "bce", "mae"):
            cells = [measure(lambda: analysis.noise_bias(name, 0.3, s, "logit"), args.repeat,
                             False)[0] for s in sigmas]
            print(f"{name:14s} " + " ".join(f"sigma={s:g}: {c}" for s, c in zip(sigmas, cells)))
    if "optimal" in sections:
        img = np.random.default_rng(0).integers(0, 256, 10 ** 6) / 255
        cell, _ = measure(lambda: analysis.optimal_prediction("bce", img), args.repeat,
                          args.memory)
        print(f"optimal_prediction(bce) on 10^6 8-bit pixels: {cell}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
