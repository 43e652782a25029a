"""What the saturation experiments (E2, E18) share: the saturated AE's settings, sizes and
premise, the escape's crossing, and E2's ink-pixel dilation.

E2 starts an AE with its last layer at W = 0, b = :data:`Z0` and trains it with plain SGD until
the held-back images' mean ink logit (targets >= :data:`INK`) reaches :data:`Z_AE`; E18 trains
the same networks (E2's random streams: :func:`saturated_ae`, :func:`escape_data`, the loop
:func:`escape_path`) to test why MSE escapes sooner than E2 predicts.
"""
from __future__ import annotations

import math

import numpy as np

from .. import analysis
from ..losses import get_loss
from ..nn import AE
from .base import entropy, rng

__all__ = ["Z0", "INK", "Z_AE", "AE_RUN", "LR", "MAX_STEPS", "EVERY_SLOW", "MIN_INK_PIXELS",
           "STREAM", "ae_sizes", "ae_premise", "saturated_ae", "escape_data", "escape_path",
           "first_step_ratio", "crossing", "dilation", "path_steps"]

#: The initial output logit (saturated: sigmoid(-6) = 0.0025), and the ink pixels' targets.
Z0, INK = -6.0, 0.9
#: The AE's escape threshold: the mean ink logit reaches logit(0.1).
Z_AE = math.log(0.1 / 0.9)
#: Full and quick settings of the AE runs (the slow MSE/SGD run is evaluated every 10 steps).
AE_RUN = {False: {"n_train": 10000, "n_eval": 128, "batch": 32},
          True: {"n_train": 2000, "n_eval": 64, "batch": 16}}
LR, MAX_STEPS, EVERY_SLOW, MIN_INK_PIXELS = 1e-3, 20000, 10, 50
STREAM = "E2"       #: the random streams' name: E18's networks are E2's


def ae_sizes(D: int) -> tuple:
    """The saturated AE's sizes: D-hidden-code, hidden in [32, 64], code in [2, 16].

    >>> ae_sizes(784)
    (784, 64, 16)
    """
    return (D, min(64, max(32, D // 12)), max(2, min(16, D // 4)))


def ae_premise(data) -> str:
    """"" or why the AE rows are not applicable: too few ink pixels expected in the held-back
    images."""
    n_eval = min(AE_RUN[False]["n_eval"], data.n_train(10 ** 9) // 4)
    if n_eval * data.D * np.mean(data.train >= INK) < MIN_INK_PIXELS:
        return f"fewer than {MIN_INK_PIXELS} ink pixels (>= {INK}) expected in {n_eval} images"
    return ""


def saturated_ae(sizes, loss, seed: int, dtype=np.float32) -> AE:
    """The AE of ``sizes`` and ``loss`` (a catalogue name or term), initialized from E2's stream
    for ``seed``, its last layer set to W = 0, b = :data:`Z0`: every output saturated."""
    model = AE(sizes, loss=loss, seed=entropy(seed, STREAM, "init"), dtype=dtype)
    last = f"dec.{len(model.decoder.dense) - 1}"
    model.params[f"{last}.W"][...], model.params[f"{last}.b"][...] = 0.0, Z0
    return model


def escape_data(x, s: dict, seed: int) -> dict:
    """E2's split of the seed's images ``x`` (``s``: n_eval, batch): training images ``xt``,
    held-back images ``xe``, their ink pixels ``ink``, the batch size ``b`` and E2's order of
    the training images."""
    n_eval = min(s["n_eval"], len(x) // 4)
    xt, xe = x[:-n_eval], x[-n_eval:]
    return {"xt": xt, "xe": xe, "ink": xe >= INK, "b": min(s["batch"], len(xt)),
            "order": rng(seed, STREAM, "order").permutation(len(xt))}


def escape_path(model, opt, d: dict, every: int, on_state=None) -> dict:
    """Train ``model`` with ``opt`` on minibatches of ``d`` (:func:`escape_data`, in its order)
    until the held-back images' mean ink logit reaches :data:`Z_AE` (at most
    :data:`MAX_STEPS` steps), evaluated at steps 0, 1 and every ``every``-th: ``steps`` and
    ``means``, and what ``on_state(z_ink, batch)`` returns ({name: value}) at each evaluated
    state (``batch``: the minibatch of the step taken from it), as arrays."""
    xt, xe, ink, b, order = (d[k] for k in ("xt", "xe", "ink", "b", "order"))
    out = {"steps": [], "means": []}
    with np.errstate(over="ignore", under="ignore"):
        for t in range(MAX_STEPS + 1):
            i = (t * b) % (len(xt) - b + 1)
            batch = xt[order[i:i + b]]
            if t % every == 0 or t == 1:
                z = model.logits(xe)[ink].astype(np.float64)
                out["steps"].append(t)
                out["means"].append(float(z.mean()))
                for k, v in (on_state(z, batch) if on_state else {}).items():
                    out.setdefault(k, []).append(v)
                if out["means"][-1] >= Z_AE:
                    break
            opt.step(model.loss_and_grads(batch)[1])
    return {k: np.asarray(v) for k, v in out.items()}


def first_step_ratio(z0=Z0) -> float:
    """|dBCE/dz| / |dMSE/dz| at the logit ``z0``: 1/(2 p (1 - p)), for any target.

    >>> round(first_step_ratio(), 1)
    202.7
    """
    return float(abs(analysis.logit_gradient("bce", 1.0, z0))
                 / abs(analysis.logit_gradient("mse", 1.0, z0)))


def crossing(steps, values, threshold) -> float:
    """The first step (linearly interpolated) at which ``values`` reaches ``threshold``; NaN if
    never.

    >>> crossing([0, 1, 2], [-2.0, -1.0, 1.0], 0.0)
    1.5
    """
    v = np.asarray(values, dtype=float)
    k = int(np.argmax(v >= threshold)) if v.size else 0
    if not (v.size and v[k] >= threshold):
        return math.nan
    return float(np.interp(threshold, v[max(k - 1, 0):k + 1], steps[max(k - 1, 0):k + 1]))


def dilation(z_ink, y_ink) -> float:
    """sum_ink |dBCE/dz| / sum_ink |dMSE/dz| at the logits ``z_ink`` (the catalogue's
    grad_logit): how many MSE steps one BCE step is worth at this state, if each ink logit
    moves by its own gradient.

    >>> dilation(np.full(3, Z0), np.array([0.9, 0.95, 1.0])) == first_step_ratio()
    True
    """
    g = {n: np.abs(get_loss(n).grad_logit(y_ink, z_ink, check=False)).sum() for n in ("bce", "mse")}
    return float(g["bce"] / g["mse"])


def path_steps(dilations, t_cross) -> float:
    """MSE's steps predicted from BCE's path: the dilations of BCE's states 0, 1, ... summed up
    to its crossing ``t_cross`` (the last, partial step weighted by its fraction); NaN when
    BCE never crossed.

    >>> path_steps(np.array([10.0, 20.0, 30.0]), 1.5)
    20.0
    """
    d = np.asarray(dilations, dtype=float)
    n = int(t_cross) if math.isfinite(t_cross) else -1
    return float(d[:n].sum() + (t_cross - n) * d[n]) if 0 <= n < d.size else math.nan
