"""Where a training step's time goes: matrix products, Adam, the output loss, the rest.

:func:`step_breakdown` times one model's training step (forward, backward, Adam update) and
its parts on the same batch: the step's matrix products run as bare ``numpy.matmul`` calls on
the same shapes and layouts (the BLAS limit for this step), the Adam update, the output term's
value and gradient, and the remainder (activations, biases, the VAE's reparameterization and
KL, Python glue) as the difference.  ``scripts/bench.py`` prints it beside PyTorch.

FLOP count of a step: every dense layer (``n_in -> n_out``) at batch ``B`` does ``2 B n_in
n_out`` flops in the forward product, as many for the weight gradient and, except for the
first encoder layer, as many for the input gradient.
"""

from __future__ import annotations

import linecache
import os
import platform
import sys
import time

import numpy as np

from .memory import flat_buffer
from .mlp import pack
from .optim import Adam

__all__ = ["matmul_shapes", "step_flops", "bare_matmuls", "median_time", "step_breakdown",
           "cpu_model", "kernel_costs", "KERNEL_OPS", "kernel_targets", "step_lines"]


def matmul_shapes(model, batch: int) -> list:
    """The ``(m, k, n, kind)`` of every matrix product of one training step of an AE or VAE
    (``kind``: ``"fwd"`` x @ W, ``"dW"`` x.T @ dy, ``"dx"`` dy @ W.T).

    Examples
    --------
    >>> from lossanalysis.nn import AE
    >>> matmul_shapes(AE((6, 4, 2), seed=0), 3)[:3]
    [(3, 6, 4, 'fwd'), (6, 3, 4, 'dW'), (3, 4, 2, 'fwd')]
    """
    shapes = []
    first = True
    for mlp in (model.encoder, model.decoder):
        for d in mlp.dense:
            shapes.append((batch, d.n_in, d.n_out, "fwd"))
            shapes.append((d.n_in, batch, d.n_out, "dW"))
            if not first:
                shapes.append((batch, d.n_out, d.n_in, "dx"))
            first = False
    return shapes


def step_flops(model, batch: int) -> int:
    """Floating-point operations of the matrix products of one training step.

    >>> from lossanalysis.nn import VAE
    >>> step_flops(VAE((784, 400, 20), seed=0), 128) / 1e6
    419.84
    """
    return sum(2 * m * k * n for m, k, n, _ in matmul_shapes(model, batch))


def bare_matmuls(shapes, dtype=np.float32):
    """A function running ``shapes`` as bare ``np.matmul(..., out=)`` calls with the layouts of
    the step (transposed views where the step uses them) and its memory: the weight operands
    and the weight-gradient outputs lie in flat buffers from
    :func:`lossanalysis.nn.mlp.flat_buffer` (huge pages where the system offers them), as a
    model's parameters and gradients do; activations are ordinary arrays.

    >>> run = bare_matmuls([(2, 3, 4, "fwd"), (3, 2, 4, "dW"), (2, 4, 3, "dx")])
    >>> run()
    """
    rng = np.random.default_rng(0)
    dtype = np.dtype(dtype)
    weights = flat_buffer(sum(k * n for _, k, n, kind in shapes if kind != "dW"), dtype)
    grads = flat_buffer(sum(m * n for m, _, n, kind in shapes if kind == "dW"), dtype)
    used = {"w": 0, "g": 0}

    def carve(buf, key, shape):
        size = shape[0] * shape[1]
        view = buf[used[key]:used[key] + size].reshape(shape)
        used[key] += size
        return view

    ops = []
    for m, k, n, kind in shapes:
        if kind == "fwd":
            a = rng.standard_normal((m, k), dtype=dtype)
            b = carve(weights, "w", (k, n))
            b[...] = rng.standard_normal((k, n), dtype=dtype)
            out = np.empty((m, n), dtype)
        elif kind == "dW":
            a = rng.standard_normal((k, m), dtype=dtype).T
            b = rng.standard_normal((k, n), dtype=dtype)
            out = carve(grads, "g", (m, n))
        else:
            a = rng.standard_normal((m, k), dtype=dtype)
            w = carve(weights, "w", (n, k))
            w[...] = rng.standard_normal((n, k), dtype=dtype)
            b = w.T
            out = np.empty((m, n), dtype)
        ops.append((a, b, out))

    def run():
        for a, b, o in ops:
            np.matmul(a, b, out=o)

    return run


def median_time(fn, repeat: int = 50, warmup: int = 5, *, cpu: bool = False):
    """Median wall time of ``fn()`` in seconds over ``repeat`` calls after ``warmup`` untimed
    ones; with ``cpu=True`` the pair (wall, CPU) where CPU is the median process CPU time per
    call -- on a busy machine the CPU time of a single-threaded call is what it cost, the wall
    time also counts the waits for a free core.

    >>> median_time(lambda: None, repeat=3, warmup=0) >= 0
    True
    """
    for _ in range(warmup):
        fn()
    wall, used = _times(fn, repeat)
    if cpu:
        return wall, used
    return wall


def _times(fn, repeat: int):
    """Median wall and process CPU time per call of ``fn()`` over ``repeat`` calls."""
    wall = np.empty(repeat)
    used = np.empty(repeat)
    for i in range(repeat):
        c = time.process_time()
        t = time.perf_counter()
        fn()
        wall[i] = time.perf_counter() - t
        used[i] = time.process_time() - c
    return float(np.median(wall)), float(np.median(used))


PARTS = ("step", "matmul", "adam", "loss")


def step_breakdown(model, x, *, rounds: int = 10, calls: int = 5, warmup: int = 5,
                   lr: float = 1e-3, seed: int = 0) -> dict:
    """Times of a training step of ``model`` on the batch ``x`` and of its parts, measured
    interleaved.

    Four functions are timed: the ``step`` (forward, backward, Adam update), its ``matmul``
    products run as bare ``numpy.matmul`` calls on the same shapes and layouts (the BLAS
    floor of the step), the ``adam`` update alone (on a copy of the parameters) and the
    output term's ``loss`` value and gradient alone.  Each round times ``calls`` consecutive
    calls of each of the four in turn, so that a change of load on a shared machine touches
    all four alike; per round the median call is kept.

    Returns
    -------
    dict
        ``step``, ``matmul``, ``adam``, ``loss``: medians over the rounds of the wall time per
        call (seconds); ``rest`` = ``step - matmul - adam - loss`` (activations, biases, the
        VAE's reparameterization and KL, Python glue, and whatever the products inside the
        step cost beyond bare ones); ``ratio``, ``ratio_q1``, ``ratio_q3``: step / matmul per
        round (``ratios``), its median and quartiles over the rounds; ``cpu``: the same keys from process
        CPU time (on a busy machine what a single-threaded call cost, without the waits for a
        core); ``rounds`` and ``flops`` (of the products, per step).  The model's parameters
        change (the steps are real ones).

    Examples
    --------
    >>> from lossanalysis.nn import AE
    >>> t = step_breakdown(AE((16, 8, 4), seed=0), np.full((4, 16), 0.5, np.float32), rounds=2,
    ...                    calls=2, warmup=1)
    >>> sorted(t)   # doctest: +NORMALIZE_WHITESPACE
    ['adam', 'cpu', 'flops', 'loss', 'matmul', 'ratio', 'ratio_q1', 'ratio_q3', 'ratios',
     'rest', 'rounds', 'step']
    >>> t["rest"] == t["step"] - t["matmul"] - t["adam"] - t["loss"]
    True
    """
    x = model.check_data(x)
    batch = x.shape[0]
    opt = Adam(model.params, lr=lr)
    rng = np.random.default_rng(seed)

    def step():
        _, grads = model.loss_and_grads(x, rng=rng, reuse=True)
        opt.step(grads)

    with np.errstate(under="ignore"):
        step()                                  # the gradients the Adam part reuses
        shadow = {k: v.copy() for k, v in model.params.items()}
        owner = type("Shadow", (), {})()
        owner.params, owner.grads = shadow, {k: np.zeros_like(v) for k, v in shadow.items()}
        shadow_params, shadow_grads = pack([("s", owner)], model.dtype)
        for k, v in model.grads.items():
            shadow_grads[f"s.{k}"][...] = v
        shadow_opt = Adam(shadow_params, lr=lr)
        code = model.encoder.forward(x)[:, :model.decoder.sizes[0]]
        z = model.decoder.forward(np.ascontiguousarray(code))
        y = model.term.prepare(x)
        kw = model._term_kw()
        fns = {"step": step,
               "matmul": bare_matmuls(matmul_shapes(model, batch), model.dtype),
               "adam": lambda: shadow_opt.step(shadow_grads),
               "loss": lambda: model.term.value_and_grad(y, z, grad_scale=1.0 / batch, **kw)}
        for _ in range(warmup):
            for fn in fns.values():
                fn()
        wall = {k: [] for k in PARTS}
        used = {k: [] for k in PARTS}
        for _ in range(rounds):
            for k, fn in fns.items():
                w, c = _times(fn, calls)
                wall[k].append(w)
                used[k].append(c)
    out = _summary(wall)
    out["cpu"] = _summary(used)
    out["rounds"] = rounds
    out["flops"] = step_flops(model, batch)
    return out


def _summary(times: dict) -> dict:
    """Medians over rounds, the rest, and the per-round step / matmul ratio's quartiles."""
    out = {k: float(np.median(v)) for k, v in times.items()}
    out["rest"] = out["step"] - out["matmul"] - out["adam"] - out["loss"]
    ratio = np.array(times["step"]) / np.array(times["matmul"])
    q1, med, q3 = np.percentile(ratio, [25, 50, 75])
    out.update(ratio=float(med), ratio_q1=float(q1), ratio_q3=float(q3),
               ratios=[float(r) for r in ratio])
    return out


def cpu_model() -> str:
    """The processor's model name as the operating system reports it (Linux:
    ``/proc/cpuinfo``, with the family and model numbers when the name is as terse as a
    virtual machine's "AMD EPYC"), else :func:`platform.processor`; "unknown" if neither says.

    >>> isinstance(cpu_model(), str)
    True
    """
    fields = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    break                          # the first processor is enough
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine()
    if not name:
        return "unknown"
    if "family" not in name.lower() and "cpu family" in fields and len(name.split()) <= 3:
        name += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    return name


#: The elementwise operations :func:`kernel_costs` times: what a training step is made of,
#: and the alternatives that were weighed for it.
KERNEL_OPS = ("exp", "log", "log1p", "sqrt", "divide", "reciprocal", "multiply",
              "maximum(x, 0)", "maximum(x, zeros)", "multiply by bool", "greater_equal to float",
              "sum over rows", "scipy expit", "scipy log_expit")


def kernel_costs(n: int = 1 << 15, dtype=np.float32, repeat: int = 200) -> dict:
    """Nanoseconds per element of elementwise operations on ``n`` values of ``dtype``
    (in cache, after warm-up; median call): which kernels are fast or slow on this CPU.

    >>> costs = kernel_costs(1024, repeat=3)
    >>> sorted(costs) == sorted(KERNEL_OPS) and all(v > 0 for v in costs.values())
    True
    """
    import scipy.special as sc

    rng = np.random.default_rng(0)
    a = (rng.standard_normal(n) * 4).astype(dtype)
    pos = rng.random(n).astype(dtype) + dtype(0.5)
    out = np.empty(n, dtype)
    zeros = np.zeros(n, dtype)
    mask = a > 0
    rows = a.reshape(-1, 256) if n % 256 == 0 else a.reshape(1, -1)
    sums = np.empty(rows.shape[0], dtype)
    ops = {
        "exp": lambda: np.exp(a, out=out),
        "log": lambda: np.log(pos, out=out),
        "log1p": lambda: np.log1p(pos, out=out),
        "sqrt": lambda: np.sqrt(pos, out=out),
        "divide": lambda: np.divide(a, pos, out=out),
        "reciprocal": lambda: np.reciprocal(pos, out=out),
        "multiply": lambda: np.multiply(a, pos, out=out),
        "maximum(x, 0)": lambda: np.maximum(a, 0, out=out),
        "maximum(x, zeros)": lambda: np.maximum(a, zeros, out=out),
        "multiply by bool": lambda: np.multiply(a, mask, out=out),
        "greater_equal to float": lambda: np.greater_equal(a, 0, out=out),
        "sum over rows": lambda: np.sum(rows, axis=1, out=sums),
        "scipy expit": lambda: sc.expit(a, out=out),
        "scipy log_expit": lambda: sc.log_expit(a, out=out),
    }
    costs = {}
    with np.errstate(all="ignore"):
        for name, fn in ops.items():
            costs[name] = 1e9 * median_time(fn, repeat, warmup=min(repeat, 10)) / n
    return costs


#: The float32 NumPy functions of a training step whose SIMD target :func:`kernel_targets`
#: reports.
STEP_UFUNCS = ("sqrt", "square", "absolute", "divide", "multiply", "add", "exp", "log",
               "maximum", "greater", "greater_equal")


def kernel_targets(names=STEP_UFUNCS) -> dict:
    """The instruction-set target each float32 NumPy function runs on this CPU, as NumPy's
    dispatcher chose it (:func:`numpy.lib.introspect.opt_func_info`, NumPy 2.1 and later):
    e.g. ``"X86_V4"`` (AVX-512), ``"X86_V3"`` (AVX2), ``"baseline(X86_V2)"`` (SSE, four
    float32 lanes), or None where NumPy does not say.  A function that stays on the baseline
    on a CPU with wider vectors runs at a fraction of its speed: on the AMD EPYC the step was
    tuned on, NumPy 2.4's float32 ``sqrt`` (the costliest pass of Adam) is one of them.

    >>> targets = kernel_targets(("sqrt", "exp"))
    >>> sorted(targets)
    ['exp', 'sqrt']
    """
    try:
        from numpy.lib.introspect import opt_func_info
    except ImportError:                           # NumPy before 2.1
        return dict.fromkeys(names)
    out = {}
    for name in names:
        target = None
        try:
            info = opt_func_info(func_name=f"^{name}$").get(name, {})
            loops = [v for k, v in info.items() if set(k) <= {"f", "?"} and "f" in k]
            if loops:
                target = loops[0].get("current")
        except Exception:  # noqa: BLE001 - an introspection detail changed: unknown
            target = None
        out[name] = target
    return out


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def step_lines(model, x, *, steps: int = 100, warmup: int = 10, lr: float = 1e-3,
               seed: int = 0) -> dict:
    """Where a training step's time goes, line by line: each source line of the package run
    by the step (forward, backward, Adam update) with the time spent on it per step.

    Lines of this package are traced with :func:`sys.settrace` (frames outside it are not:
    their time, a NumPy function's or the BLAS library's, counts for the package line that
    called them); almost every line of the hot path is one NumPy call, so this is a profile
    per operation.  The time of a line runs from its trace event to the next one, with the
    tracer's own bookkeeping left out; what tracing still adds (about a microsecond per line
    on the machine it was written on) shows as ``traced - untraced``.  Single-threaded only:
    work that :func:`lossanalysis.nn.set_threads` sends to other threads is not seen.

    Returns
    -------
    dict
        ``lines``: a list of ``{"file", "line", "function", "source", "us", "calls"}``
        (``us``: median over the traced steps of the microseconds per step; ``calls``: times
        the line ran per step), the costliest first; ``traced_ms`` (median traced step) and
        ``untraced_ms`` (median step without tracing, interleaved with the traced ones); the
        model's parameters change (the steps are real ones).

    Examples
    --------
    >>> from lossanalysis.nn import AE
    >>> out = step_lines(AE((16, 8, 4), seed=0), np.full((4, 16), 0.5, np.float32), steps=2,
    ...                  warmup=1)
    >>> any("matmul" in r["source"] for r in out["lines"]) and out["untraced_ms"] > 0
    True
    """
    x = model.check_data(x)
    opt = Adam(model.params, lr=lr)
    rng = np.random.default_rng(seed)

    def step():
        _, grads = model.loss_and_grads(x, rng=rng, reuse=True)
        opt.step(grads)

    clock = time.perf_counter
    per_line: dict = {}
    state = [None, 0.0, 0]          # the line being timed, since when, 1 if it just began

    def local(frame, event, arg):
        now = clock()
        key = state[0]
        if key is not None:
            slot = per_line.get(key)
            if slot is None:
                slot = per_line[key] = [0.0, 0]
            slot[0] += now - state[1]
            slot[1] += state[2]
        if event == "return":               # back in the caller's line, if traced
            frame = frame.f_back
            if frame is not None and not frame.f_code.co_filename.startswith(_PACKAGE):
                frame = None
        state[0] = (None if frame is None or event == "call"
                    else (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        state[2] = event == "line"
        state[1] = clock()
        return local

    def enter(frame, event, arg):
        if frame.f_code.co_filename.startswith(_PACKAGE):
            return local(frame, event, arg)
        return None

    samples, traced, untraced = [], [], []
    with np.errstate(under="ignore"):
        for _ in range(warmup):
            step()
        for _ in range(steps):
            t = clock()
            step()
            untraced.append(clock() - t)
            per_line.clear()
            state[0] = None
            previous = sys.gettrace()           # a debugger's or coverage's tracer
            t = clock()
            sys.settrace(enter)
            try:
                step()
            finally:
                sys.settrace(previous)
            traced.append(clock() - t)
            samples.append({k: tuple(v) for k, v in per_line.items()})
    keys = set().union(*samples)
    lines = []
    for key in keys:
        filename, line, function = key
        times = [s.get(key, (0.0, 0))[0] for s in samples]
        calls = [s.get(key, (0.0, 0))[1] for s in samples]
        lines.append({"file": os.path.relpath(filename, os.path.dirname(_PACKAGE)),
                      "line": line, "function": function,
                      "source": linecache.getline(filename, line).strip(),
                      "us": 1e6 * float(np.median(times)), "calls": int(np.median(calls))})
    lines.sort(key=lambda r: -r["us"])
    return {"lines": lines, "traced_ms": 1e3 * float(np.median(traced)),
            "untraced_ms": 1e3 * float(np.median(untraced))}
