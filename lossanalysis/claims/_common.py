"""Small helpers shared by the claims' analytic checks (not public)."""
from __future__ import annotations

import numpy as np

from .. import analysis as A
from ..losses import Loss, get_loss

#: Non-binary targets at which bias and noise are examined (1/2, where every lean vanishes by
#: symmetry, is left out).
Y_GRID = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
#: Deviations below this are numerical zeros of the solvers (they converge to ~1e-12).
ZERO = 1e-9


def loss_of(loss) -> Loss:
    return loss if isinstance(loss, Loss) else get_loss(loss)


def name_of(loss) -> str:
    return loss.name if isinstance(loss, Loss) else str(loss)


def fmt(v, digits=4) -> str:
    return f"{float(v):.{digits}g}"


def short(expr, limit=80) -> str:
    """``str(expr)``, or a pointer to the evidence where it would be longer than ``limit``."""
    text = str(expr)
    return text if len(text) <= limit else "a long expression, in the evidence"


def edge_profile(loss, n=201):
    """w on a grid of n points in [0, 1] and p*(w), the optimal prediction for an edge pixel
    that is white (1) with probability w and black (0) otherwise."""
    w = np.linspace(0.0, 1.0, n)
    return w, np.asarray(A.optimal_prediction_two_point(loss, 0.0, 1.0, w))


def lean(dev, y) -> str:
    """How deviations ``dev`` of a prediction from targets ``y`` point: "toward 1/2" or "away
    from 1/2" (all of them, beyond :data:`ZERO`), "none" (all within it) or "mixed"."""
    dev, y = np.asarray(dev, dtype=float), np.asarray(y, dtype=float)
    keep = y != 0.5
    dev, y = dev[keep], y[keep]
    toward = -np.sign(dev) * np.sign(y - 0.5)
    big = np.abs(dev) > ZERO
    if not big.any():
        return "none"
    if big.all() and np.all(toward > 0):
        return "toward 1/2"
    if big.all() and np.all(toward < 0):
        return "away from 1/2"
    return "mixed"


#: How each lean reads in a sentence about a mean prediction.
LEAN_WORDS = {"toward 1/2": "leans toward 1/2", "away from 1/2": "leans away from 1/2",
              "none": "stays on target", "mixed": "leans toward 1/2 at some targets and away at "
              "others"}


def noise_lean(loss, space: str, sigma: float, y=Y_GRID):
    """The part of the mean prediction's offset from the target caused by prediction noise of
    size ``sigma`` in ``space`` ("prob" or "logit"), at targets ``y``: (offset, lean, sigma^2
    coefficient).  In probability space sigma is capped at a tenth of the optimum's distance from
    0 and 1, so the noisy prediction stays inside (0, 1)."""
    L = loss_of(loss)
    b0 = np.asarray(A.bias(L, y))
    s = sigma
    if space == "prob":
        p_opt = np.asarray(y) + b0
        s = np.minimum(sigma, 0.1 * np.minimum(p_opt, 1 - p_opt))
    off = np.asarray(A.noise_bias(L, y, s, space)) - b0
    return off, lean(off, y), A.noise_bias_coefficient(L, space)


def certified(family: str, loss):
    """The stored certificate of ``family`` for ``loss`` (a catalogue loss at its default
    parameters; None for other parameters, a user loss, or no stored certificate), with a
    phrase for a claim's text and the fields for its evidence.

    Returns
    -------
    (Certificate or None, str, dict)
        The phrase: "proven on <domain> (certificate <id>)", "disproven: ... (certificate
        <id>)" or "undecided at the budget (certificate <id>)"; "" without a certificate.
    """
    from ..proofs.store import certificate
    L = loss_of(loss)
    try:
        default = get_loss(L.name) == L
    except ValueError:
        default = False
    c = certificate(f"{family}/{L.name}") if default else None
    if c is None:
        return None, "", {}
    ev = {"certificate": c.id, "verdict": c.verdict, "digest": c.digest[:16],
          "boxes": c.boxes, "seconds": c.seconds}
    if c.verdict == "proven":
        text = f"proven on {c.domain_words()} (certificate {c.id})"
    elif c.verdict == "disproven":
        cex = c.counterexample or {}
        where = cex.get("box") or cex.get("point")
        text = f"disproven, counterexample {where} (certificate {c.id})"
    else:
        text = f"undecided at the proof's budget (certificate {c.id})"
    return c, text, ev


def checked(cert_text: str, points: int) -> str:
    """The phrase saying how a statement was established: the certificate's, or "checked on a
    grid of N points"."""
    return cert_text or f"checked on a grid of {points} points"
