"""Claim 4: for a ground truth of 0.5 the zero-normalized loss equals 2 MSE."""
from __future__ import annotations

from .. import analysis as A
from ..losses import symbols
from ._common import certified, loss_of, name_of
from .claim import Claim
from .verdicts import CONFIRMED, QUALIFIED, REFUTED, Finding


def check(*, zero_normalized="kl", reference="mse", y=0.5, factor=2) -> Finding:
    """At target ``y`` the zero-normalized loss equals ``factor`` * ``reference``.

    Confirmed if the two are identical in d = p - y, qualified if they agree to leading order in
    d only, refuted if the leading terms differ.  Where exp(-2 Lz) is a polynomial in d^2 (KL at
    y = 1/2: 1 - 4 d^2) the exact relation to the reference loss is given as well.

    Examples
    --------
    >>> check().verdict, check(zero_normalized="mse", factor=1).verdict
    ('qualified', 'confirmed')
    """
    import sympy as sp
    Lz, Lr = loss_of(zero_normalized), loss_of(reference)
    nz, nr = name_of(Lz), name_of(Lr)
    yv = sp.Rational(y).limit_denominator(10 ** 6)
    ys, ps = symbols()
    d = A.series_symbol()
    sz = sp.expand(A.series(Lz, order=6).subs(ys, yv))
    sr = sp.expand(factor * A.series(Lr, order=6).subs(ys, yv))
    diff = sp.expand(sz - sr)
    ez = sp.simplify(sp.expand_log((Lz.expr - Lz.expr.subs(ps, ys)).subs(ys, yv).subs(ps, yv + d),
                                   force=True))
    er = sp.simplify(factor * (Lr.expr - Lr.expr.subs(ps, ys)).subs(ys, yv).subs(ps, yv + d))
    identical = sp.simplify(ez - er) == 0
    relation = None
    q = sp.expand(sp.simplify(sp.exp(-2 * ez)))
    if q.is_polynomial(d) and sp.expand(er / factor) == d ** 2:
        m = sp.Symbol(nr.upper(), positive=True)
        qm = q.subs(d ** 2, m)
        if not qm.has(d):
            rel = -sp.log(qm) / 2
            relation = (f"{nz} = {sp.sstr(rel)} = "
                        f"{sp.sstr(sp.series(rel, m, 0, 4).removeO())} + O({m}^4)")
    pz, pr = sp.Poly(sz, d), sp.Poly(sr, d)
    lead = min(mo[0] for mo in (pz.monoms() + pr.monoms())) if (pz.monoms() or pr.monoms()) else 0
    same_lead = pz.coeff_monomial(d ** lead) == pr.coeff_monomial(d ** lead)
    yf = float(yv)
    ratio = {str(p): float(Lz.excess(yf, p) / (factor * Lr.excess(yf, p)))
             for p in (0.55, 0.6, 0.75, 0.9)}
    ev = {f"{nz}(y={yv}, y + d) series": str(sz), f"{factor} * {nr} series": str(sr),
          "exact zero-normalized loss at y": str(ez), f"exact {factor} * {nr}": str(er),
          "relation": relation, f"ratio {nz} / ({factor} {nr}) at p": ratio}
    cite = ""
    if (nz, nr, yv, factor) == ("kl", "mse", sp.Rational(1, 2), 2):
        cert, cite, ev["certificate"] = certified("second-order", Lz)
        cite = f" The bound 3 d^4 < {nz} - 2 d^2 (< 5 d^4 for |d| <= 1/4) is {cite}." \
            if cite else ""
    if identical:
        return Finding(CONFIRMED, f"{nz} = {factor} {nr} exactly at y = {yv}.", ev)
    if same_lead and lead > 0:
        nxt = sp.Poly(diff, d).terms()[-1] if diff != 0 else None
        return Finding(QUALIFIED, (
            f"Only to leading order in d = p - {yv}: {nz}(y = {yv}) = {sz} + ..., while "
            f"{factor} {nr} = {sr}; the first difference is "
            + (f"{nxt[1]} d^{nxt[0][0]}" if nxt else "beyond d^6")
            + f". Exactly, {relation if relation else nz + ' = ' + str(ez)}. The ratio {nz} / "
            f"({factor} {nr}) grows with |d|: "
            + ", ".join(f"{v:.4f} at p = {k}" for k, v in ratio.items()) + "." + cite), ev)
    return Finding(REFUTED, f"The leading terms differ: {nz} = {sz} + ..., {factor} {nr} = "
                            f"{sr} + ...", ev)


CLAIM = Claim(
    "4", "For a ground truth of 0.5, the per-pixel zero-normalized loss is equal to 2*MSE.",
    "KL(1/2 || p) == 2 (p - 1/2)^2 identically, or only to leading order in p - 1/2.",
    check=check)
