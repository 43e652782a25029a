#!/usr/bin/env python3
"""Time and peak memory of the hostile and odd user losses of issues 20 and 21, with the
default symbolic budget: each row must end in a one-line error or an answer within 10 s and
500 MB.

Every row runs in a fresh interpreter (``python -c``; no cache shared between rows), which
reports the outcome (the answer, or the error's one line), its wall and CPU seconds (the
imports excluded) and its peak resident memory (Linux VmHWM, the whole process: Python,
NumPy, SciPy and SymPy included, about 150 MB of it).  ``--cap-gb`` sets an address-space
limit on each child (``resource.setrlimit``), so that a row that blows up dies instead of the
machine.
"""
import argparse
import json
import os
import subprocess
import sys
import textwrap

#: (row, code run in the child: it defines ``result``)
ROWS = [
    ("Max of 8 quadratics: from_expr, argmin",
     "L = la.Loss.from_expr('Max(' + ','.join(f'(p - {k}/10)**2' for k in range(1, 9))"
     " + ') + (p - y)**2'); result = float(la.argmin(L, 0.3))"),
    ("Max of 8 quadratics: derivations_latex",
     "L = la.Loss.from_expr('Max(' + ','.join(f'(p - {k}/10)**2' for k in range(1, 9))"
     " + ') + (p - y)**2'); result = len(la.derivations_latex(L))"),
    ("Max of 5 quadratics: from_expr, grad",
     "L = la.Loss.from_expr('Max(' + ','.join(f'(p - {k}/10)**2' for k in range(1, 6)) + ')');"
     " result = float(L.grad(0.5, 0.9))"),
    ("exp^6(p): from_expr", "result = la.Loss.from_expr('exp(exp(exp(exp(exp(exp(p))))))')"),
    ("exp^4(p - y): asymmetry_coefficient",
     "result = la.asymmetry_coefficient(la.Loss.from_expr('exp(exp(exp(exp(p - y))))')).order"),
    ("exp^4(p - y): derivations",
     "d = la.derivations(la.Loss.from_expr('exp(exp(exp(exp(p - y))))'));"
     " result = sorted(d.get('beyond budget', {}))"),
    ("exp^4(p - y): derivations_latex",
     "result = len(la.derivations_latex(la.Loss.from_expr('exp(exp(exp(exp(p - y))))')))"),
    ("p**(10**100): from_expr", "result = la.Loss.from_expr('p**(10**100)')"),
    ("2**16000*p: from_expr", "result = la.Loss.from_expr('2**16000*p')"),
    ("sin(1e6*(p-y))**2 + (p-y)**2: argmin at 0.3",
     "result = float(la.argmin(la.Loss.from_expr('sin(1e6*(p-y))**2+(p-y)**2'), 0.3))"),
    ("sin(1e6*(p-y))**2 + (p-y)**2: is_proper",
     "result = la.is_proper(la.Loss.from_expr('sin(1e6*(p-y))**2+(p-y)**2')).proper"),
    ("Min((p-y)**2, 0.01): noise_bias y=0.5, 0.8, sigma=0.02",
     "result = la.noise_bias(la.Loss.from_expr('Min((p - y)**2, 0.01)'), [0.5, 0.8],"
     " 0.02).tolist()"),
    ("Min((p-y)**2, 0.01): noise_bias logit, 161 targets, sigma=1",
     "import numpy as np; r = la.noise_bias(la.Loss.from_expr('Min((p - y)**2, 0.01)'),"
     " np.linspace(0.01, 0.99, 161), 1.0, 'logit'); result = float(abs(r).max())"),
    ("(1 - p**q)/q, q=0.5: asymmetry_coefficient",
     "result = la.asymmetry_coefficient(la.Loss.from_expr('(1 - p**q)/q',"
     " params={'q': 0.5})).order"),
    ("derivations_latex of a loss named x}\\input{...}",
     "t = la.derivations_latex(la.Loss.from_expr('(p-y)**2', name='x}\\\\input{/etc/hostname}'));"
     " result = '\\\\input{' in t"),
    ("a deeper well hidden in 1e9-fast oscillation: is_proper (cannot certify)",
     "result = la.is_proper(la.Loss.from_expr('(p - y)**2 + sin(1e9*(p - 0.6))**2/1000"
     " - (p - 0.6)**2/100')).proper"),
    ("bias figure with Min((p-y)**2, 0.01)",
     "from lossanalysis import figures; figures.bias_figure(['mse', la.Loss.from_expr("
     "'Min((p - y)**2, 0.01)', name='tukey')]); result = 'drawn'"),
]

_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    cap = float(sys.argv[1])
    if cap > 0:
        resource.setrlimit(resource.RLIMIT_AS, (int(cap * 2**30),) * 2)
    import numpy, scipy, sympy, mpmath, matplotlib
    matplotlib.use("Agg")
    import lossanalysis as la
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        exec(sys.argv[2])
        outcome = "ok: " + repr(result)[:70]
    except (ValueError, TypeError) as err:
        msg = str(err)
        outcome = ("error: " if "\\n" not in msg else "MULTI-LINE error: ") + msg[:70]
    except MemoryError:
        outcome = "MemoryError (the cap)"
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    try:
        with open("/proc/self/status") as f:
            peak = int(f.read().split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"outcome": outcome, "wall": wall, "cpu": cpu, "peak_mb": peak}))
""")


def run_row(code, cap_gb, timeout):
    """The child's report for one row, or a timeout/crash report."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    try:
        out = subprocess.run([sys.executable, "-c", _CHILD, str(cap_gb), code],
                             capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"outcome": f"TIMEOUT after {timeout} s", "wall": float("nan"),
                "cpu": float("nan"), "peak_mb": float("nan")}
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        tail = (out.stderr.strip().splitlines() or ["?"])[-1]
        return {"outcome": f"CRASH ({out.returncode}): {tail[:60]}", "wall": float("nan"),
                "cpu": float("nan"), "peak_mb": float("nan")}
    return json.loads(lines[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cap-gb", type=float, default=2.0,
                    help="address-space limit of each child in GB (0: none; default 2)")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds before a row is reported as a timeout (default 60)")
    ap.add_argument("--rows", default="",
                    help="comma-separated row numbers (1-based) to run (default: all)")
    args = ap.parse_args(argv)
    if not args.cap_gb >= 0 or not args.timeout > 0:
        ap.error("--cap-gb must be >= 0 and --timeout > 0")
    try:
        picked = [int(v) for v in args.rows.split(",") if v.strip()] or range(1, len(ROWS) + 1)
    except ValueError:
        ap.error(f"--rows must be comma-separated numbers, got {args.rows!r}")
    if any(not 1 <= k <= len(ROWS) for k in picked):
        ap.error(f"--rows: numbers from 1 to {len(ROWS)}")
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"# {len(list(picked))} rows, one fresh interpreter each; 1-minute load {load:.1f} "
          f"on {os.cpu_count()} CPUs; wall/cpu seconds without the imports; peak RSS of the "
          "whole process")
    print("| # | row | outcome | wall s | cpu s | peak MB |")
    print("| --- | --- | --- | --- | --- | --- |")
    for k in picked:
        name, code = ROWS[k - 1]
        r = run_row(code, args.cap_gb, args.timeout)
        print(f"| {k} | {name} | {r['outcome']} | {r['wall']:.2f} | {r['cpu']:.2f} | "
              f"{r['peak_mb']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
