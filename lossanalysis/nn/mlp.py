"""A chain of dense layers, and flat parameter storage shared by the models.

:class:`MLP` strings :class:`~lossanalysis.nn.layers.Dense` layers and activations together
and owns the preallocated work arrays of the training hot path.  :func:`pack` moves the
parameters and gradients of several parameter owners into two flat buffers and rebinds each
owner's dict entries to views of them, so an optimizer can update all parameters with a few
large vectorized operations (see :func:`flat_view`).
"""

from __future__ import annotations

import numpy as np

from .layers import Dense, default_init, layer_sizes, make_activation
from .memory import flat_buffer, work_arrays

__all__ = ["MLP", "pack", "flat_view"]


class MLP:
    """Dense layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    ``activation`` follows every hidden layer, ``out_activation`` the last one.
    ``init`` picks the weight initialization of the hidden layers (default: He before ReLU-like
    units, Glorot otherwise); the last layer uses ``out_init`` (default from ``out_activation``).
    """

    def __init__(self, sizes, *, rng: np.random.Generator, activation: str = "relu",
                 out_activation: str = "identity", init: str | None = None,
                 out_init: str | None = None, dtype=np.float32):
        sizes = list(layer_sizes(sizes, "sizes"))
        self.sizes = sizes
        n = len(sizes) - 1
        self.dense = []
        self.acts = []
        for i in range(n):
            last = i == n - 1
            act = out_activation if last else activation
            scheme = (out_init if last else init) or default_init(act)
            self.dense.append(Dense(sizes[i], sizes[i + 1], rng=rng, init=scheme, dtype=dtype))
            self.acts.append(make_activation(act))
        self._ws_batch = None
        self._out = []
        self._dx = []

    def owners(self, prefix: str):
        """``(name, layer)`` pairs, e.g. ``("enc.0", Dense)``, for :func:`pack`."""
        return [(f"{prefix}.{i}", d) for i, d in enumerate(self.dense)]

    def _workspace(self, batch: int, dtype):
        if self._ws_batch != (batch, dtype):
            arrays = work_arrays([(batch, d.n_out) for d in self.dense]
                                 + [(batch, d.n_in) for d in self.dense], dtype)
            n = len(self.dense)
            self._out, self._dx = arrays[:n], arrays[n:]
            self._ws_batch = (batch, dtype)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Run the chain.  ``train=True`` writes into reused work arrays (and so overwrites the
        previous result); ``train=False`` returns a fresh array."""
        if train:
            self._workspace(x.shape[0], x.dtype)
        h = x
        for i, (dense, act) in enumerate(zip(self.dense, self.acts)):
            h = act.forward(dense.forward(h, out=self._out[i] if train else None))
        return h

    def backward(self, dy: np.ndarray, need_dx: bool = True):
        """Back-propagate ``dy`` (gradient at the output, may be overwritten) after a
        ``forward(..., train=True)``; returns the input gradient, or ``None`` if not needed."""
        n = len(self.dense)
        for i in range(n - 1, -1, -1):
            dy = self.acts[i].backward(dy)
            dy = self.dense[i].backward(dy, out=self._dx[i], need_dx=need_dx or i > 0)
        return dy


def pack(owners, dtype):
    """Move the parameters of ``owners`` into one flat buffer and their gradients into another.

    ``owners`` is a list of ``(prefix, obj)`` where ``obj.params`` and ``obj.grads`` are dicts
    with the same keys.  Each entry is replaced by a view of the flat buffers, so later in-place
    updates through either the owner or the returned dicts are seen by both.  Returns
    ``(params, grads)``: dicts keyed ``"<prefix>.<key>"`` in a stable order.
    """
    dtype = np.dtype(dtype)
    entries = [(f"{prefix}.{k}", obj, k) for prefix, obj in owners for k in obj.params]
    total = sum(obj.params[k].size for _, obj, k in entries)
    flat_p = flat_buffer(total, dtype)
    flat_g = flat_buffer(total, dtype)
    params, grads = {}, {}
    start = 0
    for name, obj, k in entries:
        if name in params:
            raise ValueError(f"duplicate parameter name {name!r}")
        arr = obj.params[k]
        stop = start + arr.size
        p = flat_p[start:stop].reshape(arr.shape)
        g = flat_g[start:stop].reshape(arr.shape)
        p[...] = arr
        obj.params[k], obj.grads[k] = p, g
        params[name], grads[name] = p, g
        start = stop
    return params, grads


def flat_view(arrays) -> np.ndarray | None:
    """A 1-D view covering ``arrays`` if they lie back to back, in order, in one contiguous
    buffer of a single dtype (as :func:`pack` lays them out); otherwise ``None``."""
    arrays = list(arrays)
    if not arrays:
        return None
    base = arrays[0].base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    dtype = arrays[0].dtype
    addr = arrays[0].ctypes.data
    for a in arrays:
        if a.base is not base or a.dtype != dtype or not a.flags.c_contiguous or a.ctypes.data != addr:
            return None
        addr += a.nbytes
    offset, rem = divmod(arrays[0].ctypes.data - base.ctypes.data, dtype.itemsize)
    if rem or base.dtype != dtype:
        return None
    size = sum(a.size for a in arrays)
    return base[offset:offset + size]
