"""Gradient checks against central finite differences.

:func:`check_gradients` compares a model's analytic gradients with central finite differences
of the loss (fourth-order stencil by default) for every parameter element (or a random subset
of each parameter), with the reparameterization noise held fixed.  Use a float64 model:
in float32 finite differences cannot reach useful accuracy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_gradients", "relative_error"]


def relative_error(analytic, numeric, floor: float = 1e-8) -> np.ndarray:
    """Elementwise ``|a - n| / max(|a|, |n|, floor)``.

    The floor keeps gradients that are zero (or nearly so) from turning round-off into a huge
    relative error: below it the error is effectively absolute.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


def check_gradients(model, x, *, eps=None, h: float = 3e-3, order: int = 4,
                    max_per_param: int | None = None, rng: np.random.Generator | None = None,
                    floor: float = 1e-8) -> dict:
    """Maximum relative error per parameter between analytic and finite-difference gradients.

    ``eps`` fixes the VAE noise (drawn once from ``rng`` when not given, so that every loss
    evaluation uses the same sample).  ``max_per_param`` limits the number of checked elements
    of each parameter (a random subset from ``rng``); ``None`` checks all of them.
    Returns ``{name: max_relative_error}``.

    ``order=4`` (default) uses the fourth-order central stencil
    ``(8 (L(+h) - L(-h)) - (L(+2h) - L(-2h))) / (12 h)``, whose truncation error is O(h^4):
    with ``h = 3e-3`` both truncation and round-off stay near 1e-12 in absolute terms, so even
    gradient elements a million times smaller than the loss are checked to a relative 1e-6,
    which the second-order stencil (``order=2``, error O(h^2) + round-off/h) cannot do.
    """
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order}")
    if model.dtype != np.float64:
        raise ValueError("gradient checks need a float64 model (dtype=np.float64)")
    rng = rng if rng is not None else np.random.default_rng(0)
    x = np.asarray(x, dtype=np.float64)
    if eps is None and getattr(model, "latent_dim", 0) and hasattr(model, "kl_per_dim"):
        eps = rng.standard_normal((x.shape[0], model.latent_dim))

    def loss():
        return model.loss_and_grads(x, eps=eps)[0]

    _, grads = model.loss_and_grads(x, eps=eps)
    analytic = {k: g.copy() for k, g in grads.items()}
    errors = {}
    for name, p in model.params.items():
        flat = p.reshape(-1)
        idx = np.arange(flat.size)
        if max_per_param is not None and flat.size > max_per_param:
            idx = rng.choice(flat.size, size=max_per_param, replace=False)
        numeric = np.empty(idx.size)
        for j, i in enumerate(idx):
            keep = flat[i]
            f = {}
            for step in ((-2, -1, 1, 2) if order == 4 else (-1, 1)):
                flat[i] = keep + step * h
                f[step] = loss()
            flat[i] = keep
            if order == 4:
                numeric[j] = (8 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12 * h)
            else:
                numeric[j] = (f[1] - f[-1]) / (2 * h)
        errors[name] = float(relative_error(analytic[name].reshape(-1)[idx], numeric, floor).max())
    return errors
