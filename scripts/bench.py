"""Benchmark the training step of lossanalysis.nn against PyTorch, and compare the VAE's quality.

Speed (default)::

    python scripts/bench.py [--threads 1 2] [--rounds 5] [--steps 60] [--models vae,ae-bce,ae-mse]

Models at batch 128, float32, Adam: the VAE 784-400-20 with a Bernoulli likelihood (the
architecture of the PyTorch examples' vae/main.py) and the AE 784-512-128-32 with bce and with
mse.  Each library runs in its own process, so that neither's thread pool disturbs the other's
timings (a BLAS thread pool keeps spinning for a while after its last call); every process
takes untimed warm-up steps before timing.  A round runs one NumPy and one PyTorch process per
thread count, alternating which goes first; the ratio NumPy time / PyTorch time is taken per
round (both medians over the round's steps) and summarized by its median and interquartile
range over the rounds.  With two or more threads a third process per round times NumPy with
its elementwise work split over the threads as well (``lossanalysis.nn.set_threads``, off by
default), to show whether that would pay.

Per NumPy process it measures the step against the floor NumPy itself sets
(``lossanalysis.nn.profile.step_breakdown``): the step, its matrix products run as bare
``numpy.matmul`` calls on the same shapes, layouts and memory, the Adam update alone and the
loss value and gradient alone, timed interleaved (a few calls of each in turn, round after
round) so that a change of load touches all four alike.  The table gives step / matmul per
round (median and interquartile range over all rounds, from wall time and from process CPU
time), the step's split into matmul, Adam, loss and the rest, the achieved GFLOP/s, and the
1-minute load average during the rounds; the CPU model heads it, and the cost per element of
the elementwise kernels a step is made of (``profile.kernel_costs``) and the instruction set
NumPy runs each on (``profile.kernel_targets``) are printed first.  The
load average and CPU count are also printed at the start and after every round: on a shared
machine, compare rounds run under similar load.  PyTorch is never a dependency of the
package; without it the NumPy numbers alone are printed.

Profile::

    python scripts/bench.py profile [--models vae,ae-bce] [--steps 100] [--top 40]

times every line of the package that a training step runs (``lossanalysis.nn.profile.
step_lines``: one NumPy call per line on the hot path, so a profile per operation), at the
first ``--threads`` count, and prints the costliest lines with their microseconds per step and
calls per step, and the subtotals: the floor's matrix products, the bias gradients' ``1ᵀ dy``
products, Adam, the output loss and the rest, beside the step without tracing and the bare
matrix products.

Quality::

    python scripts/bench.py quality --data-dir ../shared/data [--epochs 10] [--seeds 0 1 2]

trains the VAE 784-400-20 (Bernoulli, Adam 1e-3, batch 128) on the MNIST training images and
reports the test negative ELBO (nats per image, one latent sample per example), once with the
package's default initialization (He/Glorot) and once with the frameworks' default
(``init="uniform_fan_in"``).  With torch importable a PyTorch twin (same layers, same loss, same
data order) is trained beside each: from the very same initial weights, and from torch's own
default initialization.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"vae": "VAE 784-400-20, bernoulli", "ae-bce": "AE 784-512-128-32, bce",
          "ae-mse": "AE 784-512-128-32, mse"}
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", nargs="?", default="speed",
                    choices=("speed", "profile", "quality", "worker"))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                    help="thread counts to compare (BLAS and torch alike); default 1 2")
    ap.add_argument("--rounds", type=int, default=5, help="alternated rounds per thread count")
    ap.add_argument("--steps", type=int, default=60,
                    help="timed steps per model and process (NumPy: in timing rounds of 5, "
                         "each also timing the bare matmuls, Adam and the loss 5 times)")
    ap.add_argument("--warmup", type=int, default=20, help="untimed steps before timing")
    ap.add_argument("--models", default="vae,ae-bce,ae-mse",
                    help=f"comma-separated, from {', '.join(MODELS)}")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--no-torch", action="store_true", help="NumPy only")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--top", type=int, default=40, help="profile: lines shown per model")
    # worker-only
    ap.add_argument("--lib", choices=("numpy", "torch"), help=argparse.SUPPRESS)
    ap.add_argument("--split", choices=("on", "off"), default="off", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if any(t < 1 for t in args.threads):
        ap.error(f"--threads must be positive integers, got {args.threads}")
    for name in ("rounds", "steps", "batch_size", "epochs", "top"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.warmup < 0:
        ap.error(f"--warmup must be >= 0, got {args.warmup}")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        ap.error(f"--models: unknown {bad or args.models!r}; choose from {', '.join(MODELS)}")
    args.model_list = models
    return args


def _load():
    one, five, fifteen = os.getloadavg()
    return {"1min": round(one, 2), "5min": round(five, 2), "15min": round(fifteen, 2),
            "cpus": os.cpu_count()}


# ---------------------------------------------------------------------------------------------
# Worker: one library, one thread count, every model; prints one JSON line
# ---------------------------------------------------------------------------------------------
def _build(name, seed=0):
    from lossanalysis.nn import AE, VAE

    if name == "vae":
        return VAE((784, 400, 20), likelihood="bernoulli", seed=seed)
    return AE((784, 512, 128, 32), loss=name.split("-")[1], seed=seed)


def _batch(args, np):
    """MNIST test digits if the loader finds them, else synthetic binary-ish images."""
    try:
        from lossanalysis.data import load
        x, _ = load(args.dataset, "test", data_dir=args.data_dir)
        return np.ascontiguousarray(x[:args.batch_size]), "mnist"
    except Exception:  # noqa: BLE001 - any failure: synthetic data of the same shape
        rng = np.random.default_rng(1)
        x = rng.random((args.batch_size, 784), dtype=np.float32)
        return np.where(x < 0.7, 0, np.where(x > 0.9, 1, x)).astype(np.float32), "synthetic"


def worker(args):
    threads = args.threads[0]
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from lossanalysis.nn import parallel
    from lossanalysis.nn.profile import cpu_model, median_time, step_breakdown

    x, source = _batch(args, np)
    out = {"lib": args.lib, "threads": threads, "split": args.split, "data": source,
           "load": _load(), "cpu": cpu_model(), "models": {}}
    if args.lib == "numpy":
        if args.split == "on":
            parallel.set_threads(threads)
        out["blas"] = parallel.blas_threads()
        out["elementwise_threads"] = parallel.threads()
        calls = min(5, args.steps)
        for name in args.model_list:
            parts = step_breakdown(_build(name), x, rounds=max(3, args.steps // calls),
                                   calls=calls, warmup=args.warmup)
            out["models"][name] = {"step": parts["step"], "step_cpu": parts["cpu"]["step"],
                                   "bare_matmul": parts["matmul"], "flops": parts["flops"],
                                   "parts": parts}
        out["load_end"] = _load()
    else:
        import torch

        torch.set_num_threads(threads)
        out["torch"] = torch.__version__
        for name in args.model_list:
            twin = torch_twin(_build(name), torch)
            opt = torch.optim.Adam(twin.parameters(), lr=1e-3)
            xt = torch.from_numpy(x)

            def step():
                opt.zero_grad(set_to_none=False)
                loss, _ = twin(xt)
                loss.backward()
                opt.step()

            t, t_cpu = median_time(step, args.steps, args.warmup, cpu=True)
            out["models"][name] = {"step": t, "step_cpu": t_cpu}
    print(json.dumps(out))


# ---------------------------------------------------------------------------------------------
# PyTorch twins
# ---------------------------------------------------------------------------------------------
def torch_twin(model, torch):
    """A PyTorch module computing the same loss as ``model`` (AE with bce or mse, or VAE with
    the Bernoulli likelihood), initialized with ``model``'s current parameters."""
    nn = torch.nn
    F = torch.nn.functional
    from lossanalysis.nn import VAE

    def linear(d):
        lin = nn.Linear(d.n_in, d.n_out)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(d.params["W"].T.copy()))
            lin.bias.copy_(torch.from_numpy(d.params["b"].copy()))
        return lin

    def mlp(m):
        layers = []
        for i, d in enumerate(m.dense):
            layers.append(linear(d))
            if i < len(m.dense) - 1:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    is_vae = isinstance(model, VAE)
    k = model.latent_dim
    mse = getattr(model.term, "name", "") == "mse"

    def rec_loss(z, x):
        if mse:
            return torch.sum((torch.sigmoid(z) - x) ** 2) / x.shape[0]
        return F.binary_cross_entropy_with_logits(z, x, reduction="sum") / x.shape[0]

    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.dec = mlp(model.encoder), mlp(model.decoder)

        def forward(self, x):
            if not is_vae:
                return rec_loss(self.dec(self.enc(x)), x), None
            head = self.enc(x)
            mu, logvar = head[:, :k], head[:, k:]
            h = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            rec = rec_loss(self.dec(h), x)
            kl = 0.5 * torch.sum(mu * mu + torch.exp(logvar) - 1 - logvar) / x.shape[0]
            return rec + kl, (rec, kl)

    return Twin()


# ---------------------------------------------------------------------------------------------
# Speed: the orchestrator
# ---------------------------------------------------------------------------------------------
def _spawn(args, lib, threads, split="off"):
    env = {**os.environ, **{v: str(threads) for v in THREAD_VARS}}
    cmd = [sys.executable, str(Path(__file__).resolve()), "worker", "--lib", lib,
           "--threads", str(threads), "--split", split, "--models", ",".join(args.model_list),
           "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--batch-size", str(args.batch_size), "--dataset", args.dataset]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"the {lib} worker failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _have_torch():
    done = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                          capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def _quantiles(values):
    import numpy as np

    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return float(med), float(q1), float(q3)


def speed(args):
    import numpy as np

    from lossanalysis.nn.profile import KERNEL_OPS, cpu_model, kernel_costs, kernel_targets

    torch_version = None if args.no_torch else _have_torch()
    print(f"lossanalysis.nn training step: batch {args.batch_size}, float32, Adam; "
          f"{args.rounds} rounds (one process per library and thread count each) x "
          f"{args.steps} timed steps (after {args.warmup} untimed) per model; numpy "
          f"{np.__version__}; torch " + (torch_version or "not importable: NumPy numbers only"))
    print(f"CPU: {cpu_model()}")
    print(f"load at start: {_load()}")
    costs = kernel_costs()
    print("elementwise kernels on this CPU, ns per float32 element (in cache): "
          + ", ".join(f"{k} {costs[k]:.2f}" for k in KERNEL_OPS))
    targets = kernel_targets()
    print("NumPy's SIMD target per float32 function (baseline: the narrowest vectors): "
          + ", ".join(f"{k} {v or '?'}" for k, v in targets.items()))
    runs = []
    for r in range(args.rounds):
        for threads in args.threads:
            libs = [("numpy", "off")]
            if threads > 1:
                libs.append(("numpy", "on"))
            if torch_version:
                libs.append(("torch", "off"))
            if r % 2:
                libs.reverse()
            for lib, split in libs:
                res = _spawn(args, lib, threads, split)
                res["round"] = r
                runs.append(res)
        print(f"round {r + 1}/{args.rounds} done; load {_load()}", flush=True)
    print(f"load at end: {_load()}")
    blas = next((x["blas"] for x in runs if "blas" in x), {})
    print(f"BLAS: {blas.get('library')}, threads read via {blas.get('source')}")
    summary = _summarize(args, runs)
    if args.json:
        from lossanalysis._io import atomic_write
        atomic_write(args.json, json.dumps({"cpu": cpu_model(), "kernels_ns": costs,
                                            "kernel_targets": targets, "runs": runs,
                                            "summary": summary}, indent=1) + "\n")
    return summary


def _summarize(args, runs):
    """Two tables from the rounds: NumPy against its own matrix products (step / matmul and
    the split of the step), and NumPy against PyTorch."""
    import numpy as np

    def pick(lib, threads, split, r):
        for x in runs:
            if (x["lib"], x["threads"], x["split"], x["round"]) == (lib, threads, split, r):
                return x
        return None

    def iqr(values, fmt="{:.2f}"):
        m, q1, q3 = _quantiles(values)
        return (m, q1, q3), f"{fmt.format(m)} [{fmt.format(q1)}-{fmt.format(q3)}]"

    med = lambda v: float(np.median(v))  # noqa: E731
    cpus = sorted({x.get("cpu", "?") for x in runs if x["lib"] == "numpy"})
    summary = []
    floor_rows, torch_rows = [], []
    for threads in args.threads:
        for name in args.model_list:
            mine = [pick("numpy", threads, "off", r) for r in range(args.rounds)]
            parts = [a["models"][name]["parts"] for a in mine]
            ratios = [r for p in parts for r in p["ratios"]]
            cpu_ratios = [r for p in parts for r in p["cpu"]["ratios"]]
            loads = [a["load"]["1min"] for a in mine]
            br = {k: med([p[k] for p in parts]) for k in ("step", "matmul", "adam", "loss", "rest")}
            brc = {k: med([p["cpu"][k] for p in parts])
                   for k in ("step", "matmul", "adam", "loss", "rest")}
            fl = parts[0]["flops"]
            (m, q1, q3), ratio_txt = iqr(ratios)
            (cm, cq1, cq3), cpu_txt = iqr(cpu_ratios)
            row = {"threads": threads, "model": name, "cpu": cpus[0] if len(cpus) == 1 else cpus,
                   "numpy_ms": 1e3 * br["step"], "matmul_ms": 1e3 * br["matmul"],
                   "step_over_matmul": m, "step_over_matmul_q1": q1, "step_over_matmul_q3": q3,
                   "step_over_matmul_cpu": cm, "step_over_matmul_cpu_q1": cq1,
                   "step_over_matmul_cpu_q3": cq3,
                   "breakdown_ms": {k: 1e3 * br[k] for k in ("matmul", "adam", "loss", "rest")},
                   "breakdown_cpu_ms": {k: 1e3 * brc[k]
                                        for k in ("step", "matmul", "adam", "loss", "rest")},
                   "gflops_step": fl / br["step"] / 1e9, "gflops_sgemm": fl / br["matmul"] / 1e9,
                   "load_1min": med(loads)}
            split = " ".join(f"{1e3 * b[k]:5.2f}" for b in (br, brc)
                             for k in ("step", "matmul", "adam", "loss", "rest"))
            floor_rows.append(f"{threads:>7}  {MODELS[name]:<26} {ratio_txt:<17} {cpu_txt:<17} "
                              f"{split}  {fl / br['step'] / 1e9:5.0f} / "
                              f"{fl / br['matmul'] / 1e9:4.0f}  {med(loads):4.2f} "
                              f"[{min(loads):.2f}-{max(loads):.2f}]")
            theirs, nt_ratios, nt_cpu, split = [], [], [], []
            for r, a in enumerate(mine):
                b, c = pick("torch", threads, "off", r), pick("numpy", threads, "on", r)
                if b is not None:
                    theirs.append(b["models"][name]["step"])
                    nt_ratios.append(a["models"][name]["step"] / theirs[-1])
                    nt_cpu.append(a["models"][name]["step_cpu"] / b["models"][name]["step_cpu"])
                if c is not None:
                    split.append(c["models"][name]["step"] / a["models"][name]["step"])
            if nt_ratios or split:
                ratio_txt = torch_txt = cpu_txt = split_txt = "-"
                if nt_ratios:
                    (m, q1, q3), ratio_txt = iqr(nt_ratios)
                    row.update(torch_ms=1e3 * med(theirs), ratio_median=m, ratio_q1=q1,
                               ratio_q3=q3)
                    torch_txt = f"{1e3 * med(theirs):8.2f}"
                if nt_cpu and threads == 1:
                    (m, q1, q3), cpu_txt = iqr(nt_cpu)
                    row.update(cpu_ratio_median=m, cpu_ratio_q1=q1, cpu_ratio_q3=q3)
                if split:
                    (m, _, _), split_txt = iqr(split)
                    row.update(split_over_nosplit=m)
                torch_rows.append(f"{threads:>7}  {MODELS[name]:<26} {1e3 * br['step']:8.2f} "
                                  f"{torch_txt:>8}  {ratio_txt:<26} {cpu_txt:>17} "
                                  f"{split_txt:>17}")
            summary.append(row)
    print(f"\nAgainst the floor NumPy sets (CPU: {', '.join(cpus)}): step / matmul per timing "
          "round, median [interquartile range] over all rounds, from wall time and from "
          "process CPU time; the step and its split in ms (medians), from wall time and from "
          "CPU time; 1-minute load average median [range] over the rounds")
    names = " ".join(f"{k:>5}" for k in ("step", "mm", "adam", "loss", "rest"))
    print(f"{'threads':>7}  {'model':<26} {'step/matmul wall':<17} {'step/matmul CPU':<17} "
          f"{names} {names}  GFLOP/s step / sgemm  load")
    print(f"{'':>7}  {'':<26} {'':<17} {'':<17} {'(wall ms)':^29} {'(CPU ms)':^29}")
    print("\n".join(floor_rows))
    if torch_rows:
        print(f"\nAgainst PyTorch (each library in its own process, rounds alternated):")
        print(f"{'threads':>7}  {'model':<26} {'numpy ms':>8} {'torch ms':>8}  "
              f"{'numpy/torch: median [IQR]':<26} {'CPU-time ratio':>17} {'split/no split':>17}")
        print("\n".join(torch_rows))
    print("\nstep/matmul: the step (forward, backward, Adam) over its matrix products run as "
          "bare numpy.matmul calls, timed interleaved in the same process; at 1 thread the "
          "CPU-time figures leave out the waits for a free core on a busy machine (at more "
          "threads they add up the threads' times).  rest = step - "
          "matmul - adam - loss (activations, biases, reparameterization, glue).  GFLOP/s: "
          "matmul flops per step time, and per bare-matmul time.  numpy/torch < 1: NumPy "
          "faster; CPU-time ratio (1 thread only): the same with process CPU time, which on a "
          "busy machine leaves out the waits for a free core.  split/no split < 1: splitting "
          "the elementwise work over threads (lossanalysis.nn.set_threads, off by default) "
          "would pay.")
    return summary


# ---------------------------------------------------------------------------------------------
# Profile: the step line by line
# ---------------------------------------------------------------------------------------------
def _line_group(line):
    """The part of the step a profiled line belongs to."""
    src, name = line["source"], line["file"].replace("\\", "/")
    if "np.matmul(" in src:
        return "bias grad 1'dy" if "ones" in src else "matmul"
    if name.endswith("nn/optim.py"):
        return "adam"
    if name.endswith(("nn/kernels.py", "nn/likelihoods.py")):
        return "loss"
    return "rest"


def profile(args):
    threads = args.threads[0]
    for v in THREAD_VARS:
        os.environ[v] = str(threads)
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from lossanalysis.nn.profile import (bare_matmuls, cpu_model, kernel_targets, matmul_shapes,
                                         median_time, step_lines)

    x, source = _batch(args, np)
    print(f"lossanalysis.nn training step line by line: batch {args.batch_size} ({source}), "
          f"float32, Adam, {threads} BLAS thread(s); {args.steps} traced steps (after "
          f"{args.warmup} untimed), median microseconds per step; numpy {np.__version__}")
    print(f"CPU: {cpu_model()}; load {_load()}")
    print("NumPy's SIMD target per float32 function: "
          + ", ".join(f"{k} {v or '?'}" for k, v in kernel_targets().items()))
    groups = ("matmul", "bias grad 1'dy", "adam", "loss", "rest")
    for name in args.model_list:
        model = _build(name)
        out = step_lines(model, x, steps=args.steps, warmup=args.warmup)
        bare = median_time(bare_matmuls(matmul_shapes(model, args.batch_size), model.dtype),
                           args.steps, args.warmup)
        totals = dict.fromkeys(groups, 0.0)
        for line in out["lines"]:
            totals[_line_group(line)] += line["us"]
        print(f"\n{MODELS[name]}: step {out['untraced_ms']:.2f} ms untraced, "
              f"{out['traced_ms']:.2f} traced; bare matmuls {1e3 * bare:.2f} ms")
        print("  per part (sum of its lines' medians, us): "
              + ", ".join(f"{g} {totals[g]:.0f}" for g in groups))
        print(f"  {'us':>8} {'calls':>5}  {'part':<14} {'where':<24} source")
        for line in out["lines"][:args.top]:
            where = f"{line['file'].split('/')[-1]}:{line['line']}"
            print(f"  {line['us']:8.1f} {line['calls']:5d}  {_line_group(line):<14} "
                  f"{where:<24} {line['source'][:90]}")
    print("\nA line's time runs from its trace event to the next (NumPy and BLAS calls count "
          "for the line that made them); tracing adds about a microsecond per line, shown as "
          "traced - untraced.  matmul: the products of the floor bench.py speed compares with; "
          "bias grad 1'dy: the bias gradients' products with a ones vector, not in that floor.")


# ---------------------------------------------------------------------------------------------
# Quality
# ---------------------------------------------------------------------------------------------
def quality(args):
    threads = args.threads[0]
    for v in THREAD_VARS:
        os.environ[v] = str(threads)
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from lossanalysis.data import load
    from lossanalysis.nn import VAE, train

    try:
        if args.no_torch:
            raise ImportError
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    x_train, _ = load(args.dataset, "train", data_dir=args.data_dir)
    x_test, _ = load(args.dataset, "test", data_dir=args.data_dir)
    print(f"{args.dataset}: {len(x_train)} train, {len(x_test)} test images; VAE 784-400-20, "
          f"Bernoulli, Adam 1e-3, batch {args.batch_size}, {args.epochs} epochs; "
          "test = negative ELBO in nats per image, one latent sample per example; "
          f"{threads} thread(s); load {_load()}")
    results = {}

    def report(seed, label, test, rec, kl, tr, step_ms, seconds, note=""):
        results.setdefault(label, []).append(test)
        print(f"seed {seed}: {label:<28} test {test:7.2f} (rec {rec:6.2f}, kl {kl:5.2f}), "
              f"train {tr:7.2f}, median step {step_ms:5.2f} ms, {seconds:5.1f} s{note}", flush=True)

    for seed in args.seeds:
        for init in (None, "uniform_fan_in"):
            model = VAE((784, 400, 20), likelihood="bernoulli", init=init, seed=seed)
            start = model.get_params()
            t = time.perf_counter()
            hist = train(model, x_train, x_test, epochs=args.epochs, batch_size=args.batch_size,
                         lr=1e-3, seed=seed, quiet=True)
            label = "numpy" + (", framework init" if init else ", He/Glorot init")
            report(seed, label, hist["test_loss"][-1], hist["test_rec"][-1], hist["test_kl"][-1],
                   hist["train_loss"][-1], 1e3 * float(np.median(hist["step_time_median"])),
                   time.perf_counter() - t, " (test loss after every epoch included)")
            if torch is None:
                continue
            model.set_params(start)
            torch.manual_seed(seed)
            twin = torch_twin(model, torch)
            if init:
                for m in twin.modules():
                    if isinstance(m, torch.nn.Linear):
                        m.reset_parameters()
            t = time.perf_counter()
            test, rec, kl, tr, step = _torch_train(twin, x_train, x_test, seed, args, torch, np)
            label = "torch" + (", framework init" if init else ", same init as numpy")
            report(seed, label, test, rec, kl, tr, 1e3 * step, time.perf_counter() - t)
    print("\nsummary (test negative ELBO, mean +- sample sd over seeds "
          f"{' '.join(map(str, args.seeds))}):")
    for label, values in results.items():
        v = np.array(values)
        sd = f"{v.std(ddof=1):.2f}" if v.size > 1 else "n/a"
        print(f"  {label:<28} {v.mean():7.2f} +- {sd}   ({', '.join(f'{x:.2f}' for x in v)})")


def _torch_train(twin, x_train, x_test, seed, args, torch, np):
    """Train the twin with the data order our trainer uses (same generator calls)."""
    opt = torch.optim.Adam(twin.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    n, b = len(x_train), args.batch_size
    xt = torch.from_numpy(np.ascontiguousarray(x_train))
    step_times = []
    total = 0.0
    for _ in range(args.epochs):
        order = rng.permutation(n)
        total = 0.0
        for s in range(0, n, b):
            xb = xt[torch.from_numpy(order[s:s + b])]
            t = time.perf_counter()
            opt.zero_grad()
            loss, _ = twin(xb)
            loss.backward()
            opt.step()
            step_times.append(time.perf_counter() - t)
            total += float(loss.detach()) * xb.shape[0]
    with torch.no_grad():
        loss, (rec, kl) = twin(torch.from_numpy(x_test))
    return float(loss), float(rec), float(kl), total / n, float(np.median(step_times))


def main(argv=None):
    args = _args(argv)
    if args.mode == "worker":
        worker(args)
    elif args.mode == "quality":
        quality(args)
    elif args.mode == "profile":
        profile(args)
    else:
        sys.path.insert(0, str(ROOT))
        speed(args)


if __name__ == "__main__":
    main()
