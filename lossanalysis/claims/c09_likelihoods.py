"""Claim 9: MSE is a Gaussian likelihood p(x|z), BCE a Bernoulli one (both cross-entropies)."""
from __future__ import annotations

import math

from ..losses import symbols
from ._common import loss_of, name_of
from .claim import Claim
from .verdicts import CONFIRMED, QUALIFIED, REFUTED, Finding


def check(*, gaussian="gaussian_nll", squared="mse", bernoulli="bce",
          normalized="continuous_bernoulli") -> Finding:
    """MSE is a Gaussian NLL, BCE a Bernoulli NLL.

    Gaussian: ``gaussian`` - k * ``squared`` is constant in y and p for a constant k.  Bernoulli:
    ``bernoulli`` at y = 1 and y = 0 is -ln p and -ln(1 - p) (the Bernoulli pmf); for targets in
    [0, 1] its density exp(-L) integrates to 1/C(p) != 1, which ``normalized`` (the continuous
    Bernoulli) fixes.  Qualified when both correspondences hold but BCE is unnormalized on
    [0, 1]; confirmed if it were normalized; refuted if a correspondence fails.

    Examples
    --------
    >>> check().verdict, check(gaussian="bce").verdict
    ('qualified', 'refuted')
    """
    import sympy as sp
    from scipy.integrate import quad
    ys, ps = symbols()
    G, S, B, N = (loss_of(x) for x in (gaussian, squared, bernoulli, normalized))
    ng, ns, nb, nn = (name_of(x) for x in (G, S, B, N))
    k = sp.simplify(sp.diff(G.expr, ps, 2) / sp.diff(S.expr, ps, 2))
    rest = sp.simplify(G.expr - k * S.expr)
    gauss_ok = bool(k.is_number and k != 0 and not rest.has(ps) and not rest.has(ys))
    pmf_ok = bool(sp.simplify(B.expr.subs(ys, 1) + sp.log(ps)) == 0
                  and sp.simplify(B.expr.subs(ys, 0) + sp.log(1 - ps)) == 0)
    pts = [0.1, 0.3, 0.5, 0.9]
    mass_b = {str(p): quad(lambda t: math.exp(-float(B.value(t, p))), 0, 1)[0] for p in pts}
    mass_n = {str(p): quad(lambda t: math.exp(-float(N.value(t, p))), 0, 1)[0] for p in pts}
    ev = {f"{ng} = k * {ns} + const": {"k": str(k), "const": str(rest), "holds": gauss_ok},
          f"{nb} at y = 1, 0": [str(B.expr.subs(ys, 1)), str(B.expr.subs(ys, 0))],
          f"integral over y in [0, 1] of exp(-{nb})": mass_b,
          f"integral over y in [0, 1] of exp(-{nn})": mass_n}
    if not (gauss_ok and pmf_ok):
        return Finding(REFUTED, f"{ng} = k {ns} + const: {gauss_ok}; {nb} is the Bernoulli NLL "
                                f"at binary targets: {pmf_ok}.", ev)
    if all(abs(v - 1) < 1e-8 for v in mass_b.values()):
        return Finding(CONFIRMED, "Both are normalized negative log-likelihoods.", ev)
    return Finding(QUALIFIED, (
        f"{ns} is the Gaussian NLL up to scale and a constant ({ng} = {k} {ns} + {rest}); {nb} "
        f"is exactly the Bernoulli NLL for binary targets. For grey targets in [0, 1] "
        f"exp(-{nb}) is not a normalized density: its integral over y is "
        + ", ".join(f"{v:.4f} at p = {q}" for q, v in mass_b.items())
        + " (= 1/C(p)); the continuous Bernoulli adds ln C(p) and integrates to 1. Both are "
        "cross-entropies between the data and the model in Goodfellow et al.'s sense (any NLL "
        "is)."), ev)


CLAIM = Claim(
    "9", "MSE corresponds to a Gaussian likelihood p(x|z), BCE to a Bernoulli one (both are "
         "cross-entropies).",
    "Gaussian NLL = MSE/(2 sigma^2) + const; BCE = -ln Bern(y; p) at y in {0, 1}; integral of "
    "exp(-BCE) over y in [0, 1] equals 1 or not.",
    check=check)
