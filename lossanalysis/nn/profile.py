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

import time

import numpy as np

from .mlp import pack
from .optim import Adam

__all__ = ["matmul_shapes", "step_flops", "bare_matmuls", "median_time", "step_breakdown"]


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
    the step (transposed views where the step uses them).

    >>> run = bare_matmuls([(2, 3, 4, "fwd"), (3, 2, 4, "dW"), (2, 4, 3, "dx")])
    >>> run()
    """
    rng = np.random.default_rng(0)
    ops = []
    for m, k, n, kind in shapes:
        if kind == "fwd":
            a, b = rng.standard_normal((m, k), dtype=dtype), rng.standard_normal((k, n), dtype=dtype)
        elif kind == "dW":
            a = rng.standard_normal((k, m), dtype=dtype).T
            b = rng.standard_normal((k, n), dtype=dtype)
        else:
            a = rng.standard_normal((m, k), dtype=dtype)
            b = rng.standard_normal((n, k), dtype=dtype).T
        ops.append((a, b, np.empty((m, n), dtype)))

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
    wall = np.empty(repeat)
    used = np.empty(repeat)
    for i in range(repeat):
        c = time.process_time()
        t = time.perf_counter()
        fn()
        wall[i] = time.perf_counter() - t
        used[i] = time.process_time() - c
    if cpu:
        return float(np.median(wall)), float(np.median(used))
    return float(np.median(wall))


def step_breakdown(model, x, *, repeat: int = 30, warmup: int = 5, lr: float = 1e-3,
                   seed: int = 0) -> dict:
    """Median times (seconds) of a training step of ``model`` on the batch ``x`` and its parts.

    Returns
    -------
    dict
        ``step`` (forward, backward, Adam), ``matmul`` (the step's products as bare matmuls),
        ``adam`` (the update alone), ``loss`` (the output term's value and gradient), ``rest``
        (``step`` minus the three: activations, biases, reparameterization, glue; it also takes
        the difference between the products inside the step and bare ones) and ``flops``.
        The model's parameters change (the steps are real ones).

    Examples
    --------
    >>> from lossanalysis.nn import AE
    >>> t = step_breakdown(AE((16, 8, 4), seed=0), np.full((4, 16), 0.5, np.float32), repeat=3)
    >>> sorted(t)
    ['adam', 'flops', 'loss', 'matmul', 'rest', 'step']
    """
    x = model.check_data(x)
    batch = x.shape[0]
    opt = Adam(model.params, lr=lr)
    rng = np.random.default_rng(seed)

    def step():
        _, grads = model.loss_and_grads(x, rng=rng, reuse=True)
        opt.step(grads)

    with np.errstate(under="ignore"):
        t_step = median_time(step, repeat, warmup)
        shapes = matmul_shapes(model, batch)
        t_mm = median_time(bare_matmuls(shapes, model.dtype), repeat, warmup)
        shadow = {k: v.copy() for k, v in model.params.items()}
        owner = type("Shadow", (), {})()
        owner.params, owner.grads = shadow, {k: np.zeros_like(v) for k, v in shadow.items()}
        shadow_params, _ = pack([("s", owner)], model.dtype)
        shadow_opt = Adam(shadow_params, lr=lr)
        flat_grads = {f"s.{k}": v for k, v in model.grads.items()}
        t_adam = median_time(lambda: shadow_opt.step(flat_grads), repeat, warmup)
        code = model.encoder.forward(x)[:, :model.decoder.sizes[0]]
        z = model.decoder.forward(np.ascontiguousarray(code))
        y = model.term.prepare(x)
        kw = model._term_kw()
        t_loss = median_time(lambda: model.term.value_and_grad(y, z, grad_scale=1.0 / batch, **kw),
                             repeat, warmup)
    return {"step": t_step, "matmul": t_mm, "adam": t_adam, "loss": t_loss,
            "rest": t_step - t_mm - t_adam - t_loss, "flops": step_flops(model, batch)}
