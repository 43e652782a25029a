"""Claim 7: BCE is used in the VAE mainly for its better optimization behaviour."""
from __future__ import annotations

import math

import numpy as np

from .. import analysis as A
from ..losses import symbols
from ._common import fmt, loss_of, name_of
from .claim import Claim
from .evidence import Rows
from .verdicts import CONFIRMED, INCONCLUSIVE, QUALIFIED, REFUTED, Finding

#: A saturated logit gradient this many times larger counts as an optimization advantage.
ADVANTAGE = 10


def check(*, loss="bce", reference="mse", z_saturated=-8.0) -> Finding:
    """The logit gradient of a saturated wrong prediction (y = 1, z = ``z_saturated``) for
    ``loss`` over ``reference``.

    Qualified when ``loss`` keeps a gradient at least :data:`ADVANTAGE` times larger (the
    advantage is real; "mainly", a motive, cannot be derived, so the analysis never confirms);
    refuted when it does not.

    Examples
    --------
    >>> check().verdict, check(loss="mse", reference="bce").verdict
    ('qualified', 'refuted')
    """
    import sympy as sp
    L, R = loss_of(loss), loss_of(reference)
    nl, nr = name_of(L), name_of(R)
    ys, ps = symbols()
    gl = float(abs(A.logit_gradient(L, 1.0, z_saturated)))
    gr = float(abs(A.logit_gradient(R, 1.0, z_saturated)))
    ratio = gl / gr if gr > 0 else math.inf
    expr_l, expr_r = A.logit_gradient_expr(L), A.logit_gradient_expr(R)
    canonical = sp.simplify(expr_l - (ps - ys)) == 0
    yw = np.array([0.01, 0.1, 0.5, 0.9, 0.99])
    ev = {"dL/dz": {nl: str(expr_l), nr: str(expr_r)},
          f"|dL/dz| at y = 1, z = {z_saturated}": {nl: gl, nr: gr}, "ratio": ratio,
          f"{nl} is the canonical link (dL/dz = p - y)": canonical,
          f"curvature relative to MSE, y = {yw.tolist()}":
          np.asarray(A.effective_weight(L, yw)).tolist()}
    if ratio > ADVANTAGE:
        return Finding(QUALIFIED, (
            f"The optimization advantage is real: with a sigmoid output {nl}'s logit gradient "
            f"is {expr_l}" + (" (the canonical link)" if canonical else "")
            + f", which stays {fmt(gl)} for a saturated wrong pixel (y = 1, z = {z_saturated}), "
            f"while {nr}'s {expr_r} has vanished to {fmt(gr)} ({fmt(ratio)}x smaller). Whether "
            "this is the *main* reason is a motive that cannot be computed; BCE is also the "
            "Bernoulli log-likelihood (claim 9)."), ev)
    return Finding(REFUTED, f"{nl} has no gradient advantage at saturation over {nr} (ratio "
                            f"{fmt(ratio)}).", ev)


CLAIM = Claim(
    "7", "BCE is used in the VAE mainly for better optimization behaviour.",
    "|dBCE/dz| >> |dMSE/dz| for a saturated wrong sigmoid output (y = 1, z = -8) (analysis); "
    "from saturated outputs BCE trains faster than MSE with plain SGD and with Adam (E2 rows).",
    check=check, verdicts=(QUALIFIED, REFUTED),
    reads=(Rows("E2.*", exclude="E2.*adam*", confirmed=CONFIRMED, above=CONFIRMED,
                below=INCONCLUSIVE),
           Rows("E2.*adam*", confirmed=REFUTED, above=CONFIRMED, below=REFUTED)))
