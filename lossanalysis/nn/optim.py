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
        flat = np.zeros(size, dtype)
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

    Passes: ``g^2``, two moment ``axpy``, ``sqrt``, ``+ eps``, division, ``axpy``.  The four
    NumPy passes run in cache-sized blocks (split over threads after
    :func:`lossanalysis.nn.set_threads`); the BLAS calls use the BLAS library's threads.  Results agree with the textbook to float rounding (``axpy`` uses fused
    multiply-adds), are deterministic for a given BLAS thread count, and are restored
    bitwise by :meth:`load_state_dict`.

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

    #: Elements per block of the NumPy passes (the operands of consecutive passes stay in
    #: cache; a block is split further over threads only as a whole).
    block = 1 << 15

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
        tmp = _tmp(self, g)
        # flat views (the state and scratch arrays are contiguous; ``p`` may not be, then the
        # update goes through NumPy on its own shape)
        g1, M1, V1, tmp1 = (x.reshape(-1) for x in (g, M, V, tmp))
        p1 = p.reshape(-1) if p.flags.c_contiguous else p
        axpy = self._axpy.get(p1.dtype)
        if axpy is None:
            axpy = self._axpy[p1.dtype] = _axpy(p1)
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
