"""Gradients and curvature: dL/dp, the logit gradient (canonical link), the curvature at the
optimum and relative to MSE."""
from __future__ import annotations

import functools

import numpy as np

from .._inputs import real_array
from .._symbols import internal_symbols as symbols  # the analysis works in positive y, p
from .._symbols import to_public
from ..losses import Loss, as_loss, get_loss
from ._common import _out, _targets
from ._symbolic import _dp, _dp_at_target, _expr, _regular, _sp, _task, _tidy
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
    """The gradient in the prediction, dL/dp, from the catalogue's stable numerics.

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    y : array_like
        Targets in [0, 1].
    p : array_like
        Predictions in [0, 1]; broadcasts with ``y``.

    Returns
    -------
    numpy.ndarray or numpy.float64
        dL/dp(y, p) (``loss.grad``), float64.

    Examples
    --------
    >>> float(gradient_profile("mse", 0.2, 0.5))     # 2 (p - y)
    0.6
    >>> round(float(gradient_profile("bce", 0.2, 0.5)), 12)   # (p - y)/(p (1 - p))
    1.2
    """
    loss = as_loss(loss)
    y = _targets(y, loss=loss)
    p = _targets(p, "p")
    return loss.grad(y, p)


def logit_gradient(loss, y, z):
    """The gradient in the logit, dL/dz with p = sigmoid(z): what a sigmoid output receives.

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    y : array_like
        Targets in [0, 1].
    z : array_like
        Finite logits (any magnitude: the catalogue's forms are stable at +-1000); broadcasts
        with ``y``.

    Returns
    -------
    numpy.ndarray or numpy.float64
        dL/dz = L_p(y, p) p (1 - p) (``loss.grad_logit``), float64.

    Notes
    -----
    Canonical link: for BCE it is sigmoid(z) - y, which stays of order 1 when the sigmoid
    saturates on the wrong side; for MSE it is 2 (p - y) p (1 - p), which vanishes there.

    Examples
    --------
    >>> logit_gradient("bce", 1.0, [-1000.0, 0.0])    # sigmoid(z) - y
    array([-1. , -0.5])
    >>> logit_gradient("mse", 1.0, -1000.0)           # saturated: no signal
    np.float64(-0.0)
    """
    loss = as_loss(loss)
    y = _targets(y, loss=loss)
    z = real_array(z, "z", np.float64)
    if not np.all(np.isfinite(z)):
        raise ValueError("z must be finite")
    return loss.grad_logit(y, z)


@functools.lru_cache(maxsize=None)
def _logit_gradient_expr(loss: Loss):
    from .. import _budget, _calculus
    sp = _sp()
    y, p = symbols()
    z = sp.Symbol("z", real=True)
    with _task(loss, "the logit gradient"):
        ell = _calculus.calculus_form(_expr(loss)).subs(p, 1 / (1 + sp.exp(-z)))
        dz = _budget.checked(sp.diff(ell, z), "the derivative in z")
        return _tidy(_budget.checked(dz.subs(z, sp.log(p / (1 - p))), "the logit gradient"))


def logit_gradient_expr(loss):
    """The logit gradient as a formula: d/dz L(y, sigmoid(z)), written in p = sigmoid(z).

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.

    Returns
    -------
    sympy.Expr
        In y and p: L_p(y, p) p (1 - p), simplified.  Cached per loss.

    Examples
    --------
    >>> logit_gradient_expr("bce")          # the canonical link
    p - y
    >>> logit_gradient_expr("mse")
    2*p*(1 - p)*(p - y)
    """
    return to_public(_logit_gradient_expr(as_loss(loss)))


def curvature_at_optimum(loss, y):
    """The curvature at the point-target minimizer, L_pp(y, p*) with p* = argmin(loss, y).

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    y : array_like
        Targets in [0, 1].

    Returns
    -------
    numpy.ndarray or numpy.float64
        d2L/dp2 at (y, p*) (``loss.curvature``); for a proper loss L_pp(y, y).

    Examples
    --------
    >>> round(float(curvature_at_optimum("bce", 0.5)), 12)     # 1/(y (1 - y))
    4.0
    >>> bool(curvature_at_optimum("focal", 0.2) > 0)
    True
    """
    loss = as_loss(loss)
    y = _targets(y, loss=loss)
    return loss.curvature(y, argmin(loss, y), check=False)


def effective_weight(loss, y):
    """The curvature at the target relative to MSE's: how much harder the loss pulls near y.

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.
    y : array_like
        Targets in [0, 1].

    Returns
    -------
    numpy.ndarray or numpy.float64
        w(y) = L_pp(y, y) / L_pp^MSE(y, y), with L_pp^MSE = 2.

    Notes
    -----
    BCE: (1/(y(1 - y)))/2 = 1/(2 y (1 - y)), which is 2 at y = 1/2 -- BCE near a target of 1/2
    behaves like 2*MSE to leading order -- and grows without bound toward 0 and 1.  Both
    curvatures come from the catalogue (MSE's ``curvature`` is not hard-coded).  MAE's is 0 (its
    curvature is concentrated in the kink).

    Examples
    --------
    >>> float(effective_weight("bce", 0.5))
    2.0
    >>> float(effective_weight("mse", 0.9))
    1.0
    """
    loss = as_loss(loss)
    y = _targets(y, loss=loss)
    mse = get_loss("mse")
    return _out(np.asarray(loss.curvature(y, y, check=False), dtype=float)
                / np.asarray(mse.curvature(y, y, check=False), dtype=float))


@functools.lru_cache(maxsize=None)
def _effective_weight_expr(loss: Loss):
    y, p = symbols()
    mse = get_loss("mse")
    with _task(loss, "the effective weight"):
        lpp = _regular(_dp_at_target(loss, 2))
        return None if lpp is None else _tidy(lpp / _dp(mse, 2).subs(p, y))


def effective_weight_expr(loss):
    """:func:`effective_weight` as a formula: L_pp(y, y) / L_pp^MSE(y, y).

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.

    Returns
    -------
    sympy.Expr or None
        In y; None for MAE, whose curvature at p = y is a Dirac delta.  Cached per loss.

    Examples
    --------
    >>> effective_weight_expr("bce")
    1/(2*y*(1 - y))
    >>> effective_weight_expr("mae") is None
    True
    """
    return to_public(_effective_weight_expr(as_loss(loss)))
