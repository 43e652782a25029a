"""Benchmark of lossanalysis.proofs: the time of every certificate of the catalogue (the goal:
each within 60 s on the project's 2-core machine), and the interval arithmetic that decided
the choice of library (python-flint's Arb balls against mpmath.iv, on the same function).

    python scripts/bench_proofs.py                 # every statement, then the arithmetic
    python scripts/bench_proofs.py --only asymmetry/ --arithmetic-only

The machine is shared: the 1-minute load average is printed before and after each part (and
after each statement); "decided by" says whether the verdict came from the point search that
precedes the branch and bound, the boxes, or SymPy alone (identities).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossanalysis import _cli  # noqa: E402
from lossanalysis.nn.profile import cpu_model  # noqa: E402


def _load() -> str:
    try:
        return "%.2f" % os.getloadavg()[0]
    except OSError:
        return "n/a"


def arithmetic(repeats: int) -> list:
    """Per-evaluation time (microseconds) of BCE's asymmetry function and its enclosure width
    on one box, with Arb (through the proofs' compiler) and with mpmath.iv (same formula)."""
    import mpmath
    import sympy as sp

    from lossanalysis import proofs
    y, p = sp.symbols("y p", positive=True)  # the proofs' (positive) symbols
    t = sp.Symbol("t", positive=True)
    bce = -(y * sp.log(p) + (1 - y) * sp.log(1 - p))
    f = bce.subs(p, y * (1 - t)) - bce.subs(p, y * (1 + t))
    rows = []
    with proofs.precision():
        fn = proofs.compile_expr(f, (y, t))
        box = [proofs.ball(0.3, 0.3 + 2 ** -10), proofs.ball(0.25, 0.25 + 2 ** -10)]
        fn(box)
        start = time.perf_counter()
        for _ in range(repeats):
            v = fn(box)
        arb_us = (time.perf_counter() - start) / repeats * 1e6
        rows.append(("python-flint arb (128 bits)", arb_us, float(v.rad()) * 2))
    iv = mpmath.iv
    iv.prec = 128
    g = sp.lambdify((y, t), f, modules=[{"log": iv.log}, "mpmath"])
    ybox, tbox = iv.mpf([0.3, 0.3 + 2 ** -10]), iv.mpf([0.25, 0.25 + 2 ** -10])
    g(ybox, tbox)
    n = max(1, repeats // 10)
    start = time.perf_counter()
    for _ in range(n):
        w = g(ybox, tbox)
    iv_us = (time.perf_counter() - start) / n * 1e6
    rows.append(("mpmath.iv (128 bits)", iv_us, float(w.delta)))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="bench_proofs.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], metavar="PREFIX",
                    help="statements whose id starts with PREFIX (repeatable; default: all)")
    ap.add_argument("--max-seconds", type=_cli.positive_float, default=60.0,
                    help="budget per statement (default 60)")
    ap.add_argument("--repeats", type=_cli.positive_int, default=2000,
                    help="evaluations timed in the arithmetic comparison (default 2000)")
    ap.add_argument("--arithmetic-only", action="store_true",
                    help="only the arithmetic comparison")
    args = ap.parse_args(argv)
    try:
        from lossanalysis import proofs
        proofs.require_flint()
    except ImportError as err:
        ap.error(str(err))
    import flint
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
          f"python-flint {flint.__version__}")
    if not args.arithmetic_only:
        statements = [s for s in proofs.catalogue()
                      if not args.only or any(s.id.startswith(o) for o in args.only)]
        if not statements:
            ap.error(f"--only: no statement id starts with {', '.join(args.only)}")
        print(f"\ncertificates (budget {args.max_seconds:g} s each); load before: {_load()}")
        print(f"{'statement':46s} {'verdict':10s} {'boxes':>8s} {'depth':>5s} {'seconds':>8s}"
              f" {'load':>5s}  decided by")
        worst = 0.0
        for s in statements:
            c = proofs.prove(s, max_seconds=args.max_seconds)
            worst = max(worst, c.seconds)
            cex = c.counterexample or {}
            how = ("point search" if "point search" in cex.get("found by", "") else
                   "-" if c.verdict == "undecided" else
                   "branch and bound" if c.boxes else "SymPy")
            print(f"{s.id:46s} {c.verdict:10s} {c.boxes:8d} {c.depth:5d} {c.seconds:8.2f}"
                  f" {_load():>5s}  {how}", flush=True)
        print(f"slowest: {worst:.2f} s; load after: {_load()}")
    print(f"\ninterval arithmetic, one evaluation of BCE's asymmetry function on a box of "
          f"side 2^-10 (load {_load()}):")
    rows = arithmetic(args.repeats)
    for name, us, width in rows:
        print(f"  {name:28s} {us:9.1f} us   enclosure width {width:.3g}")
    print(f"  ratio mpmath.iv / arb: {rows[1][1] / rows[0][1]:.1f}x; mpmath.iv has no "
          "digamma, polygamma or atanh (beta_nll, the continuous Bernoulli)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
