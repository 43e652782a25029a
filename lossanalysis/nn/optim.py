"""Optimizers, kept separate from the models.

An optimizer is built on a dict of parameter arrays and updates them in place from a dict of
gradients with the same keys::

    opt = Adam(model.params, lr=1e-3)
    loss, grads = model.loss_and_grads(x)
    opt.step(grads)

When the parameters (and the gradients) lie back to back in one flat buffer, as the models of
this package arrange them, the update runs on that single flat view: a handful of large
vectorized operations instead of a Python loop over arrays.  Otherwise it loops over the keys.
All arithmetic stays in the parameters' dtype (scalars are Python floats, which NumPy does not
let promote a float32 array).
"""

from __future__ import annotations

import math

import numpy as np

from . import parallel
from .layers import positive_finite
from .memory import flat_buffer
from .mlp import flat_view

__all__ = ["Optimizer", "SGD", "Adam", "make_optimizer"]


class Optimizer:
    """Common plumbing: parameter grouping, state dicts, learning rate."""

    def __init__(self, params: dict, lr: float):
        lr = positive_finite(lr, "lr")
        self.params = params
        self.keys = list(params)
        self.lr = float(lr)
        self.t = 0
        flat = flat_view(params[k] for k in self.keys)
        self._flat_p = flat
        self._grad_cache = None
        # One state buffer per state variable, with per-key views (like the parameters).
        self._state_names = ()
        self._state_flat = {}
        self._state = {}

    def _new_state(self, name: str):
        size = sum(self.params[k].size for k in self.keys)
        dtype = self.params[self.keys[0]].dtype
        flat = flat_buffer(size, dtype)
        views, start = {}, 0
        for k in self.keys:
            p = self.params[k]
            views[k] = flat[start:start + p.size].reshape(p.shape)
            start += p.size
        self._state_flat[name] = flat
        self._state[name] = views

    def _flat_grads(self, grads: dict):
        """The flat view of ``grads`` (cached: models hand back the same arrays every step)."""
        arrays = [grads[k] for k in self.keys]
        cached = self._grad_cache
        if cached is not None and all(a is b for a, b in zip(arrays, cached[0])):
            return cached[1]
        g = flat_view(arrays)
        self._grad_cache = (arrays, g)
        return g

    def _groups(self, grads: dict):
        """Yield ``(param, grad, {state: array})`` triples: one flat triple when possible."""
        if self._flat_p is not None:
            g = self._flat_grads(grads)
            if g is not None:
                yield self._flat_p, g, self._state_flat
                return
        for k in self.keys:
            yield self.params[k], grads[k], {n: self._state[n][k] for n in self._state_names}

    def step(self, grads: dict) -> None:
        """Update the parameters in place from ``grads`` (same keys as the parameters)."""
        self.t += 1
        for p, g, state in self._groups(grads):
            self._update(p, g, state)

    def _update(self, p, g, state):  # pragma: no cover - abstract
        raise NotImplementedError

    def state_dict(self) -> dict:
        """The optimizer state as ``{"t": int, "<state>": {key: array}}`` (arrays are copies)."""
        out = {"t": self.t}
        for n in self._state_names:
            out[n] = {k: v.copy() for k, v in self._state[n].items()}
        return out

    def load_state_dict(self, state: dict) -> None:
        """Restore a state produced by :meth:`state_dict` (copied into the existing buffers)."""
        self.t = int(state["t"])
        for n in self._state_names:
            for k in self.keys:
                src = np.asarray(state[n][k])
                if src.shape != self._state[n][k].shape:
                    raise ValueError(f"optimizer state {n}/{k}: shape {src.shape}, "
                                     f"expected {self._state[n][k].shape}")
                self._state[n][k][...] = src


class SGD(Optimizer):
    """Stochastic gradient descent with (optionally Nesterov) momentum.

    ``v <- momentum * v + g``;  ``theta <- theta - lr * v`` (or ``- lr * (g + momentum * v)``
    with ``nesterov=True``).  ``momentum=0`` gives plain SGD.
    """

    def __init__(self, params: dict, lr: float = 1e-2, momentum: float = 0.9, nesterov: bool = False):
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self._state_names = ("velocity",)
        self._new_state("velocity")
        self._tmp = None

    def _update(self, p, g, state):
        v = state["velocity"]
        if self.momentum == 0.0:
            tmp = _tmp(self, g)
            np.multiply(g, self.lr, out=tmp)
            p -= tmp
            return
        v *= self.momentum
        v += g
        if self.nesterov:
            tmp = _tmp(self, g)
            np.multiply(v, self.momentum, out=tmp)
            tmp += g
            tmp *= self.lr
            p -= tmp
        else:
            tmp = _tmp(self, g)
            np.multiply(v, self.lr, out=tmp)
            p -= tmp


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba 2015, "Adam: a method for stochastic
    optimization", arXiv 1412.6980, Algorithm 1).

    The textbook update is ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1^t)`` and
    ``v_hat = v / (1 - b2^t)`` (``eps`` is added to ``sqrt(v_hat)`` as in the paper and in
    common frameworks).  Equal in exact arithmetic, it runs here in seven passes over the
    parameters instead of the textbook's dozen:

    * The moments are stored rescaled, ``m = (1 - b1) cM M`` and ``v = (1 - b2) cV V``, with
      scalars ``cM = b1^t`` and ``cV = b2^t`` (renormalized into the arrays, one extra pass,
      whenever they fall below ``2**-10``: every 66 steps for ``b1 = 0.9``).  The decay then
      lives in the scalars and each moment update is one BLAS ``axpy`` (``y <- a x + y``, from
      NumPy's own BLAS): ``M <- M + g / cM`` and ``V <- V + g^2 / cV``.
    * With ``s = sqrt((1 - b2) cV / (1 - b2^t))`` the step is
      ``theta <- theta - a M / (sqrt(V) + eps / s)``, ``a = lr (1 - b1) cM / ((1 - b1^t) s)``:
      bias correction and rescaling are folded into two scalars, and the last pass is again
      an ``axpy``.

    Passes: ``g^2``, two moment ``axpy``, ``sqrt``, ``+ eps``, division, ``axpy``.  When the
    parameters and gradients are flat buffers (as the models lay them out) all seven passes
    run on one block of about :attr:`block` elements before the next block, so that ``p``,
    ``g``, ``M`` and ``V`` are each read from memory once per step and the scratch array is
    one block, not one more parameter-sized array; the blocks are shared out over the
    elementwise threads after :func:`lossanalysis.nn.set_threads`, and ``axpy`` is called on
    the blocks' addresses (no per-call checks).  Otherwise the passes run array by array.
    Every element goes through the same operations whatever the path, block size or thread
    count (block sizes are multiples of 64, so a BLAS vector loop never ends inside a block),
    so the results are the same bits.  They agree with the textbook to float rounding
    (``axpy`` uses fused multiply-adds), are deterministic for a given BLAS thread count, and
    are restored bitwise by :meth:`load_state_dict`.

    :meth:`state_dict` reports the stored ``M`` and ``V`` with their scales
    ``{"scale": {"M": cM, "V": cV}}``; the first moment estimate is
    ``m = (1 - b1) * scale["M"] * M`` (and likewise ``v``).  A state without scales (written
    before they existed) is read with scales 1.
    """

    #: Renormalize a moment's scale into its array once the scale falls below this.
    renorm = 2.0 ** -10

    def __init__(self, params: dict, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        b1, b2 = (float(b) for b in betas)
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        eps = positive_finite(eps, "eps")
        self.b1, self.b2, self.eps = b1, b2, float(eps)
        self._state_names = ("M", "V")
        self._new_state("M")
        self._new_state("V")
        self.scale = {"M": 1.0, "V": 1.0}
        self._tmp = None
        self._axpy = {}
        self._blocks = None
        self._scratch = None

    #: Elements per block (at most about; see :meth:`_block_views`).  Blocks of a few
    #: megabytes measured fastest on the 2-core AMD EPYC this was tuned on (1 MB per array:
    #: long enough streams for the hardware prefetchers, and the five block arrays still fit
    #: the last-level cache); blocks of 128 kB that fit the core's own cache were 40% slower.
    block = 1 << 18

    def step(self, grads: dict) -> None:
        """Update the parameters in place from ``grads`` (same keys as the parameters)."""
        self.t += 1
        t, b1, b2 = self.t, self.b1, self.b2
        # Each moment: decay its scale, or (when the scale gets small) fold the scale and
        # this step's decay into the array and restart at scale 1.
        plan = {}
        for name, beta in (("M", b1), ("V", b2)):
            c = self.scale[name] * beta
            if c < self.renorm:
                plan[name] = c          # array *= c, then array += x
                self.scale[name] = 1.0
            else:
                plan[name] = None       # array += x / c
                self.scale[name] = c
        cm, cv = self.scale["M"], self.scale["V"]
        s = math.sqrt((1.0 - b2) * cv / (1.0 - b2 ** t))
        coef = (-self.lr * (1.0 - b1) * cm / ((1.0 - b1 ** t) * s), self.eps / s, cm, cv)
        for p, g, state in self._groups(grads):
            self._update(p, g, state["M"], state["V"], plan, coef)

    def _update(self, p, g, M, V, plan, coef):
        a, eps, cm, cv = coef
        # flat views (the state arrays are contiguous; ``p`` may not be, then the update goes
        # through NumPy on its own shape)
        g1, M1, V1 = (x.reshape(-1) for x in (g, M, V))
        p1 = p.reshape(-1) if p.flags.c_contiguous else p
        axpy = self._axpy.get(p1.dtype)
        if axpy is None:
            axpy = self._axpy[p1.dtype] = _axpy(p1)
        raw = getattr(parallel.blas_axpy(p1.dtype), "raw", None)
        if p1.size == 0:
            return
        if (raw is not None and p1.ndim == 1 and g1.flags.c_contiguous
                and p1.dtype == g1.dtype == M1.dtype == V1.dtype):
            self._update_blocks(raw, (p, g, M, V), (p1, g1, M1, V1), plan, coef)
            return
        tmp = _tmp(self, g)
        tmp1 = tmp.reshape(-1)
        n = p1.size
        _split_blocks(lambda lo, hi: np.square(g1[lo:hi], out=tmp1[lo:hi]), n, self.block)
        _accumulate(axpy, V1, tmp1, plan["V"], cv)
        _accumulate(axpy, M1, g1, plan["M"], cm)

        def ratio(lo, hi):
            r = tmp1[lo:hi]
            np.sqrt(V1[lo:hi], out=r)
            r += eps
            np.divide(M1[lo:hi], r, out=r)

        _split_blocks(ratio, n, self.block)
        axpy(tmp1 if p1.ndim == 1 else tmp, p1, a)

    def _update_blocks(self, raw, key, arrays, plan, coef):
        """The seven passes, all of them on one block before the next block: ``p``, ``g``,
        ``M`` and ``V`` are each read from memory once per step (later passes find the block
        in cache) and the scratch array is one block per thread, not one more parameter-sized
        array.  The BLAS ``axpy`` is called on the blocks' addresses directly (no per-call
        checks); the blocks are shared out over the elementwise threads."""
        a, eps, cm, cv = coef
        fold_v, fold_m = plan["V"], plan["M"]
        alpha_v = 1.0 if fold_v is not None else 1.0 / cv
        alpha_m = 1.0 if fold_m is not None else 1.0 / cm
        threads = parallel.threads()
        blocks = self._block_views(key, arrays, threads)
        scratch = self._scratch_blocks(threads, blocks[0][0], arrays[0].dtype)

        def run(lo, hi, part):
            tmp, at = scratch[part]
            for n, p, g, M, V, ap, ag, aM, aV in blocks[lo:hi]:
                t = tmp[:n]
                np.square(g, out=t)
                if fold_v is not None:
                    np.multiply(V, fold_v, out=V)
                raw(n, alpha_v, at, 1, aV, 1)               # V <- V + g^2 / cV
                if fold_m is not None:
                    np.multiply(M, fold_m, out=M)
                raw(n, alpha_m, ag, 1, aM, 1)               # M <- M + g / cM
                np.sqrt(V, out=t)
                np.add(t, eps, out=t)
                np.divide(M, t, out=t)
                raw(n, a, at, 1, ap, 1)                     # p <- p + a M / (sqrt(V) + eps)

        parallel.split(run, len(blocks), min_size=2, align=1)

    def _block_views(self, key, arrays, threads):
        """The flat ``arrays`` ``(p, g, M, V)`` cut into blocks of at most about
        :attr:`block` elements (a multiple of the thread count of them, of equal sizes that
        are multiples of 64, so that the BLAS kernels' vector loops never end inside a
        block): per block its size, the four views and their addresses.  Cached while the same
        arrays, ``key``, come back, as they do step after step."""
        cached = self._blocks
        if (cached is not None and cached[0] == (self.block, threads)
                and all(a is b for a, b in zip(key, cached[1]))):
            return cached[2]
        size = arrays[0].size
        count = -(-size // max(1, self.block))
        count = -(-count // threads) * threads
        per_block = -(-size // count)
        step = max(64, -(-per_block // 64) * 64)
        item = arrays[0].dtype.itemsize
        base = [x.ctypes.data for x in arrays]
        blocks = []
        for lo in range(0, size, step):
            hi = min(lo + step, size)
            blocks.append((hi - lo, *(x[lo:hi] for x in arrays), *(b + lo * item for b in base)))
        self._blocks = ((self.block, threads), key, blocks)
        return blocks

    def _scratch_blocks(self, parts, size, dtype):
        """One scratch array of ``size`` elements (and its address) per thread."""
        s = self._scratch
        if s is None or len(s) < parts or s[0][0].size < size or s[0][0].dtype != dtype:
            arrays = [np.empty(size, dtype) for _ in range(parts)]
            s = self._scratch = [(x, x.ctypes.data) for x in arrays]
        return s

    def state_dict(self) -> dict:
        """``{"t", "M", "V", "scale"}``: the stored moments (copies) and their scales."""
        out = super().state_dict()
        out["scale"] = dict(self.scale)
        return out

    def load_state_dict(self, state: dict) -> None:
        """Restore a state produced by :meth:`state_dict` (scales default to 1)."""
        super().load_state_dict(state)
        scale = state.get("scale", {})
        self.scale = {k: float(np.asarray(scale.get(k, 1.0))) for k in ("M", "V")}


def _axpy(like):
    """``axpy(x, y, a)``: ``y <- a x + y`` in place, by the BLAS ``axpy`` of NumPy's own BLAS
    (:func:`lossanalysis.nn.parallel.blas_axpy`, one pass) for contiguous float vectors, else by
    NumPy."""
    fn = parallel.blas_axpy(like.dtype)

    def axpy(x, y, a):
        if (fn is not None and y.ndim == 1 and y.flags.c_contiguous and x.flags.c_contiguous
                and x.dtype == y.dtype == like.dtype and x.size == y.size):
            fn(x, y, a)
        elif a == 1.0:
            y += x
        else:
            y += a * x

    return axpy


def _accumulate(axpy, S, x, fold, c):
    """``S <- S + x / c``, or with ``fold`` given ``S <- fold S + x`` (renormalization)."""
    if fold is None:
        axpy(x, S, 1.0 / c)
    else:
        S *= fold
        axpy(x, S, 1.0)


def _split_blocks(fn, n, block):
    """``fn(lo, hi)`` over ``range(n)`` in blocks of ``block``, the blocks shared out over the
    elementwise threads."""
    def run(lo, hi, part):
        for b in range(lo, hi, block):
            fn(b, min(b + block, hi))

    parallel.split(run, n, min_size=4 * block, align=block)


def _tmp(opt, like):
    """A scratch array shaped like ``like`` (reused between steps)."""
    buf = opt._tmp
    if buf is None or buf.size < like.size or buf.dtype != like.dtype:
        buf = opt._tmp = np.empty(like.size, like.dtype)
    return buf[:like.size].reshape(like.shape)


def make_optimizer(name: str, params: dict, lr: float, **kwargs) -> Optimizer:
    """``"adam"`` or ``"sgd"`` (momentum 0.9 unless given) on ``params``."""
    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be 'adam' or 'sgd', got {name!r}")
    name = name.lower()
    if name == "adam":
        return Adam(params, lr=lr, **kwargs)
    if name == "sgd":
        return SGD(params, lr=lr, **kwargs)
    raise ValueError(f"unknown optimizer {name!r}; use 'adam' or 'sgd'")
