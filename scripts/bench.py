"""Benchmark the training step of lossanalysis.nn, and compare the VAE's quality with PyTorch.

Speed (default)::

    python scripts/bench.py [--threads N] [--repeat 200]

For the AE 784-512-128-32 (bce) and the VAE 784-400-20 (bernoulli) at batch 128 in float32 it
prints the median training step time (forward, backward, Adam update), the GFLOP/s achieved by
the step's matrix products (counted below), and the GFLOP/s of bare ``numpy.matmul`` calls on
the same shapes (the physical limit on this machine), plus a breakdown of the non-matmul work.
If ``torch`` is importable the same models are timed in PyTorch with the same thread count
(torch is never a dependency of the package: run this script with an interpreter that has it).
``--threads N`` sets the BLAS threads and torch's intra-op threads alike.  The machine's load
average is printed with the numbers: on a shared machine, rerun when it is low.

Quality::

    python scripts/bench.py quality --data-dir ../shared/data [--epochs 10] [--seeds 0 1 2]

trains the VAE 784-400-20 (Bernoulli, Adam 1e-3, batch 128), the configuration of the PyTorch
examples' vae/main.py, on the MNIST training images found by ``lossanalysis.data.load`` and
reports the test negative ELBO (nats per image, one latent sample per example), once with the
package's default initialization (He/Glorot) and once with the frameworks' default
(``init="uniform_fan_in"``).  With torch importable a PyTorch twin (same layers, same loss, same
data order) is trained beside each: from the very same initial weights, and from torch's own
default initialization.  A summary gives the mean and sample standard deviation over the seeds.

FLOP count of a step: every dense layer (n_in -> n_out) at batch B does 2 B n_in n_out flops
in the forward product, as many for the weight gradient and, except for the first encoder
layer, as many for the input gradient.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def _args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", nargs="?", default="speed", choices=("speed", "quality"))
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS and torch threads; default: OPENBLAS_NUM_THREADS "
                         "or all cores")
    ap.add_argument("--repeat", type=int, default=200, help="timed steps per measurement")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    return ap.parse_args()


ARGS = _args()
THREADS = ARGS.threads or int(os.environ.get("OPENBLAS_NUM_THREADS") or os.cpu_count() or 1)
# Must be set before NumPy (and its BLAS) is imported.
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(THREADS)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossanalysis.nn import AE, VAE, Adam, train  # noqa: E402


try:
    if ARGS.no_torch:
        raise ImportError
    import torch
    torch.set_num_threads(THREADS)
except ImportError:
    torch = None


# ---------------------------------------------------------------------------------------------
# FLOPs and the bare-matmul limit
# ---------------------------------------------------------------------------------------------
def matmul_shapes(model, batch):
    """The (m, k, n, kind) of every matrix product of one training step."""
    shapes = []
    first = True
    for mlp in (model.encoder, model.decoder):
        for d in mlp.dense:
            shapes.append((batch, d.n_in, d.n_out, "fwd"))       # x @ W
            shapes.append((d.n_in, batch, d.n_out, "dW"))        # x.T @ dy
            if not first:
                shapes.append((batch, d.n_out, d.n_in, "dx"))    # dy @ W.T
            first = False
    return shapes


def flops(shapes):
    return sum(2 * m * k * n for m, k, n, _ in shapes)


def bare_matmul_ops(shapes, dtype=np.float32):
    """A function running the step's products as bare ``np.matmul(..., out=)`` calls, with the
    same operand layouts (transposed views where the step uses them)."""
    rng = np.random.default_rng(0)
    ops = []
    for m, k, n, kind in shapes:
        if kind == "fwd":
            a, b = rng.standard_normal((m, k), dtype=dtype), rng.standard_normal((k, n), dtype=dtype)
        elif kind == "dW":
            a, b = rng.standard_normal((k, m), dtype=dtype).T, rng.standard_normal((k, n), dtype=dtype)
        else:
            a, b = rng.standard_normal((m, k), dtype=dtype), rng.standard_normal((n, k), dtype=dtype).T
        ops.append((a, b, np.empty((m, n), dtype)))

    def run():
        for a, b, o in ops:
            np.matmul(a, b, out=o)

    return run


def median_time(fn, repeat, warmup=10):
    times = []
    for i in range(repeat + warmup):
        t = time.perf_counter()
        fn()
        if i >= warmup:
            times.append(time.perf_counter() - t)
    return float(np.median(times))


def batch_data(batch, n_pixels=784):
    """MNIST digits if the loader finds them, else synthetic binary-ish images."""
    try:
        from lossanalysis.data import load
        x, _ = load("mnist", "test", data_dir=ARGS.data_dir)
        return np.ascontiguousarray(x[:batch])
    except Exception:  # noqa: BLE001 - any failure: fall back to synthetic data
        rng = np.random.default_rng(1)
        x = rng.random((batch, n_pixels), dtype=np.float32)
        return np.where(x < 0.7, 0, np.where(x > 0.9, 1, x)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# PyTorch twins
# ---------------------------------------------------------------------------------------------
def torch_twin(model):
    """A PyTorch module computing the same loss as ``model`` (AE with bce, or VAE with the
    Bernoulli likelihood), initialized with ``model``'s current parameters."""
    nn = torch.nn
    F = torch.nn.functional

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

    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.dec = mlp(model.encoder), mlp(model.decoder)

        def forward(self, x):
            if not is_vae:
                z = self.dec(self.enc(x))
                return F.binary_cross_entropy_with_logits(z, x, reduction="sum") / x.shape[0], None
            head = self.enc(x)
            mu, logvar = head[:, :k], head[:, k:]
            h = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            z = self.dec(h)
            rec = F.binary_cross_entropy_with_logits(z, x, reduction="sum") / x.shape[0]
            kl = 0.5 * torch.sum(mu * mu + torch.exp(logvar) - 1 - logvar) / x.shape[0]
            return rec + kl, (rec, kl)

    return Twin()


def torch_stepper(model, x):
    """A function doing one training step of the PyTorch twin (forward, backward, Adam)."""
    twin = torch_twin(model)
    opt = torch.optim.Adam(twin.parameters(), lr=1e-3)
    xt = torch.from_numpy(x)

    def step():
        opt.zero_grad(set_to_none=False)
        loss, _ = twin(xt)
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    return step


# ---------------------------------------------------------------------------------------------
# Modes
# ---------------------------------------------------------------------------------------------
def speed():
    batch = ARGS.batch_size
    data = batch_data(batch * 8)
    batches = [np.ascontiguousarray(data[i * batch:(i + 1) * batch]) for i in range(len(data) // batch)]
    print(f"BLAS threads: {THREADS}; "
          f"batch {batch}; float32; {ARGS.repeat} timed steps, "
          "interleaved with the bare-matmul (and torch) timings so that machine noise hits all alike"
          + (f"; torch {torch.__version__}" if torch else "; torch not importable")
          + f"; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    configs = [("AE 784-512-128-32, bce", AE((784, 512, 128, 32), loss="bce", seed=0)),
               ("VAE 784-400-20, bernoulli", VAE((784, 400, 20), likelihood="bernoulli", seed=0))]
    for label, model in configs:
        opt = Adam(model.params, lr=1e-3)
        rng = np.random.default_rng(0)
        count = [0]

        def step():
            x = batches[count[0] % len(batches)]
            count[0] += 1
            _, grads = model.loss_and_grads(x, rng=rng)
            opt.step(grads)

        with np.errstate(all="raise"):
            for _ in range(20):
                step()   # warm up, and no float warnings in the hot path
        shapes = matmul_shapes(model, batch)
        bare = bare_matmul_ops(shapes)
        twin_step = torch_stepper(model, batches[0]) if torch is not None else None
        times = {"ours": [], "stub": [], "bare": [], "torch": []}
        chunk = 5
        real_term = model.term
        for _ in range(max(1, ARGS.repeat // chunk)):
            for _ in range(chunk):
                times["ours"].append(timed(step))
            model.term = _NoOpTerm()
            for _ in range(chunk):
                times["stub"].append(timed(step))
            model.term = real_term
            for _ in range(chunk):
                times["bare"].append(timed(bare))
            if twin_step is not None:
                for _ in range(chunk):
                    times["torch"].append(timed(twin_step))
        t_step, t_bare = np.median(times["ours"]), np.median(times["bare"])
        t_stub = np.median(times["stub"])
        fl = flops(shapes)
        # Breakdown of the non-matmul work (on copies: the model is not disturbed).
        x = batches[0]
        z = model.decoder.forward(model.encoder.forward(x)[:, :model.decoder.sizes[0]])
        t_loss = median_time(lambda: model.term.value_and_grad(x, z, grad_scale=1.0 / batch), 30)
        t_value = median_time(lambda: model.term.value_and_grad(x, z), 30)
        shadow = {k: v.copy() for k, v in model.params.items()}
        shadow_opt = Adam(shadow, lr=1e-9)
        t_adam = median_time(lambda: shadow_opt.step(model.grads), 30)
        print(f"\n{label}: {model.n_params():,} parameters, {fl / 1e6:.1f} MFLOP of matmul per step")
        print(f"  training step       {t_step * 1e3:8.2f} ms   {fl / t_step / 1e9:6.1f} GFLOP/s "
              f"({t_bare / t_step:.0%} of the bare matmul rate)")
        print(f"  bare numpy matmuls  {t_bare * 1e3:8.2f} ms   {fl / t_bare / 1e9:6.1f} GFLOP/s")
        print(f"  step, no-op loss    {t_stub * 1e3:8.2f} ms   {fl / t_stub / 1e9:6.1f} GFLOP/s "
              f"({t_bare / t_stub:.0%} of the bare rate: the package's own overhead, the "
              "catalogue's loss evaluation replaced by a no-op)")
        print(f"  non-matmul work: catalogue loss value+grad {t_loss * 1e3:.2f} ms (value_logit "
              f"alone {t_value * 1e3:.2f} ms), Adam update {t_adam * 1e3:.2f} ms")
        if times["torch"]:
            t_torch = np.median(times["torch"])
            print(f"  torch twin step     {t_torch * 1e3:8.2f} ms   {fl / t_torch / 1e9:6.1f} GFLOP/s "
                  f"(ours / torch time = {t_step / t_torch:.2f})")


class _NoOpTerm:
    """Timing aid only: an output term doing no loss arithmetic (zero values, the logits as
    gradient), to separate the cost of the catalogue's loss evaluation from the rest."""

    def prepare(self, x):
        return x

    def value_and_grad(self, x, out, grad_scale=None):
        return np.zeros(out.shape[0], out.dtype), out.copy()


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def quality():
    from lossanalysis.data import load
    x_train, _ = load(ARGS.dataset, "train", data_dir=ARGS.data_dir)
    x_test, _ = load(ARGS.dataset, "test", data_dir=ARGS.data_dir)
    print(f"{ARGS.dataset}: {len(x_train)} train, {len(x_test)} test images; VAE 784-400-20, "
          f"Bernoulli, Adam 1e-3, batch {ARGS.batch_size}, {ARGS.epochs} epochs; "
          "test = negative ELBO in nats per image, one latent sample per example; "
          f"{THREADS} thread(s); load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    results = {}

    def report(seed, label, test, rec, kl, tr, step_ms, seconds, note=""):
        results.setdefault(label, []).append(test)
        print(f"seed {seed}: {label:<28} test {test:7.2f} (rec {rec:6.2f}, kl {kl:5.2f}), "
              f"train {tr:7.2f}, median step {step_ms:5.2f} ms, {seconds:5.1f} s{note}", flush=True)

    for seed in ARGS.seeds:
        for init in (None, "uniform_fan_in"):
            model = VAE((784, 400, 20), likelihood="bernoulli", init=init, seed=seed)
            start = model.get_params()
            t = time.perf_counter()
            hist = train(model, x_train, x_test, epochs=ARGS.epochs, batch_size=ARGS.batch_size,
                         lr=1e-3, seed=seed, quiet=True)
            label = "numpy" + (", framework init" if init else ", He/Glorot init")
            report(seed, label, hist["test_loss"][-1], hist["test_rec"][-1], hist["test_kl"][-1],
                   hist["train_loss"][-1], 1e3 * float(np.median(hist["step_time_median"])),
                   time.perf_counter() - t, " (test loss after every epoch included)")
            if torch is None:
                continue
            # the twin: same layers and loss; with the He/Glorot model it starts from the very
            # same weights, otherwise from torch's own default initialization
            model.set_params(start)
            torch.manual_seed(seed)
            twin = torch_twin(model)
            if init:
                for m in twin.modules():
                    if isinstance(m, torch.nn.Linear):
                        m.reset_parameters()
            t = time.perf_counter()
            test, rec, kl, tr, step = torch_train(twin, x_train, x_test, seed)
            label = "torch" + (", framework init" if init else ", same init as numpy")
            report(seed, label, test, rec, kl, tr, 1e3 * step, time.perf_counter() - t)
    print("\nsummary (test negative ELBO, mean +- sample sd over seeds "
          f"{' '.join(map(str, ARGS.seeds))}):")
    for label, values in results.items():
        v = np.array(values)
        sd = f"{v.std(ddof=1):.2f}" if v.size > 1 else "n/a"
        print(f"  {label:<28} {v.mean():7.2f} +- {sd}   ({', '.join(f'{x:.2f}' for x in v)})")


def torch_train(twin, x_train, x_test, seed):
    """Train the twin with the data order our trainer uses (same generator calls)."""
    opt = torch.optim.Adam(twin.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    n, b = len(x_train), ARGS.batch_size
    xt = torch.from_numpy(np.ascontiguousarray(x_train))
    step_times = []
    for _ in range(ARGS.epochs):
        order = rng.permutation(n)
        # our trainer also draws the VAE noise from this generator; here torch draws it
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
        xs = torch.from_numpy(x_test)
        loss, (rec, kl) = twin(xs)
    return float(loss), float(rec), float(kl), total / n, float(np.median(step_times))


if __name__ == "__main__":
    speed() if ARGS.mode == "speed" else quality()
