"""Gradients and curvature: dL/dp, the logit gradient (canonical link), the curvature at the
optimum and relative to MSE."""
from __future__ import annotations

import functools

import numpy as np

from .._inputs import real_array
from ..losses import Loss, get_loss
from ..losses import _internal_symbols as symbols  # the analysis works in positive y, p
from ..losses import _to_public
from ._common import _as_loss, _out, _targets
from ._symbolic import _dp, _dp_at_target, _expr, _regular, _sp, _tidy
from .minimizers import argmin

__all__ = ["gradient_profile", "logit_gradient", "logit_gradient_expr", "curvature_at_optimum",
           "effective_weight", "effective_weight_expr"]

def _third(loss: Loss, y, p):
    """d^3 L/dp^3 at (y, p) from the catalogue's stable curvature: a Richardson-extrapolated
    central difference with h = 1e-3 min(p, 1 - p) (truncation error O(h^4), rounding about
    eps L_pp / h).  Inside Huber's quadratic zone it is 0; at p = 0 or 1 it is NaN."""
    y, p = np.broadcast_arrays(np.asarray(y, dtype=float), np.asarray(p, dtype=float))
    h = 1e-3 * np.minimum(p, 1 - p)
    with np.errstate(all="ignore"):
        def central(hh):
            up = loss.curvature(y, p + hh, check=False)
            down = loss.curvature(y, p - hh, check=False)
            return (np.asarray(up, dtype=float) - np.asarray(down, dtype=float)) / (2 * hh)
        out = (4 * central(h / 2) - central(h)) / 3
    return np.where(h > 0, out, np.nan)


def gradient_profile(loss, y, p):
    """dL/dp at targets ``y`` and predictions ``p`` (broadcast), from the catalogue."""
    loss = _as_loss(loss)
    y = _targets(y, loss=loss)
    p = _targets(p, "p")
    return loss.grad(y, p)


def logit_gradient(loss, y, z):
    """dL/dz with p = sigmoid(z), the gradient a network with a sigmoid output receives.

    Canonical link: for BCE it is sigmoid(z) - y, which stays of order 1 when the sigmoid
    saturates on the wrong side; for MSE it is 2 (p - y) p (1 - p), which vanishes there.
    """
    loss = _as_loss(loss)
    y = _targets(y, loss=loss)
    z = real_array(z, "z", np.float64)
    if not np.all(np.isfinite(z)):
        raise ValueError("z must be finite")
    return loss.grad_logit(y, z)


@functools.lru_cache(maxsize=None)
def _logit_gradient_expr(loss: Loss):
    sp = _sp()
    y, p = symbols()
    z = sp.Symbol("z", real=True)
    ell = _expr(loss).subs(p, 1 / (1 + sp.exp(-z)))
    return _tidy(sp.diff(ell, z).subs(z, sp.log(p / (1 - p))))


def logit_gradient_expr(loss):
    """dL/dz of L(y, sigmoid(z)) differentiated in z and written in p = sigmoid(z) (SymPy).

    BCE gives p - y (the canonical link), MSE 2 p (1 - p)(p - y) (up to SymPy's arrangement).
    """
    return _to_public(_logit_gradient_expr(_as_loss(loss)))


def curvature_at_optimum(loss, y):
    """d2L/dp2 at the point-target minimizer, L_pp(y, argmin(loss, y))."""
    loss = _as_loss(loss)
    y = _targets(y, loss=loss)
    return loss.curvature(y, argmin(loss, y), check=False)


def effective_weight(loss, y):
    """L_pp(y, y) relative to MSE's curvature 2: how much harder the loss pulls near the target.

    BCE: (1/(y(1 - y)))/2 = 1/(2 y (1 - y)), which is 2 at y = 1/2 -- BCE near a target of 1/2
    behaves like 2*MSE to leading order -- and grows without bound toward 0 and 1.  Both
    curvatures come from the catalogue (MSE's ``curvature`` is not hard-coded).  MAE's is 0 (its
    curvature is concentrated in the kink).
    """
    loss = _as_loss(loss)
    y = _targets(y, loss=loss)
    mse = get_loss("mse")
    return _out(np.asarray(loss.curvature(y, y, check=False), dtype=float)
                / np.asarray(mse.curvature(y, y, check=False), dtype=float))


@functools.lru_cache(maxsize=None)
def _effective_weight_expr(loss: Loss):
    y, p = symbols()
    mse = get_loss("mse")
    lpp = _regular(_dp_at_target(loss, 2))
    return None if lpp is None else _tidy(lpp / _dp(mse, 2).subs(p, y))


def effective_weight_expr(loss):
    """L_pp(y, y) / L_pp^MSE(y, y) as a SymPy expression (BCE: 1/(2y(1 - y))); None for MAE,
    whose curvature at p = y is a Dirac delta."""
    return _to_public(_effective_weight_expr(_as_loss(loss)))
