"""Claim 1: MSE penalizes over- and under-shooting equally; cross-entropy does not."""
from __future__ import annotations

import numpy as np

from .. import analysis as A
from ._common import certified, checked, name_of
from .claim import Claim
from .verdicts import CONFIRMED, REFUTED, Finding


def check(*, symmetric="mse", asymmetric="bce") -> Finding:
    """``symmetric`` penalizes over- and under-shooting equally, ``asymmetric`` does not.

    Confirmed when L(y, y + d) == L(y, y - d) identically for ``symmetric`` and the leading odd
    term of L(y, y + d) - L(y, y - d) is non-zero with a definite sign on (0, 1) for
    ``asymmetric``; refuted otherwise.

    Examples
    --------
    >>> check().verdict, check(asymmetric="mse").verdict
    ('confirmed', 'refuted')
    """
    s, a = A.asymmetry_coefficient(symmetric), A.asymmetry_coefficient(asymmetric)
    ys = np.array([0.2, 0.5, 0.8])
    sn, an = name_of(symmetric), name_of(asymmetric)
    ev = {f"{sn}: L(y,y+d) - L(y,y-d)": s.evidence.get("formula", s.evidence),
          f"{an}: L(y,y+d) - L(y,y-d)": a.evidence.get("formula", a.evidence),
          f"{an} sign": a.sign,
          "R(y, 0.1) at y = 0.2, 0.5, 0.8": {
              sn: A.asymmetry_ratio(symmetric, ys, 0.1).tolist(),
              an: A.asymmetry_ratio(asymmetric, ys, 0.1).tolist()}}
    sym_ok = s.order is None
    asym_ok = a.order is not None and a.sign in ("away", "toward")
    cs, ts, evs = certified("asymmetry", symmetric)
    ca, ta, eva = certified("asymmetry", asymmetric)
    ev["certificates"] = {sn: evs, an: eva}
    for c in (cs, ca):
        if c is not None and c.verdict == "disproven":
            sym_ok = sym_ok and c is not cs
            asym_ok = asym_ok and c is not ca
    method = a.evidence.get("method", "")
    how_a = ta or (checked("", 398) if method.startswith("40-digit") else method)
    how_s = ts or s.evidence.get("method", "")
    if sym_ok and asym_ok:
        return Finding(CONFIRMED, (
            f"{sn} is exactly symmetric in d = p - y ({how_s}). {an}'s asymmetry is "
            f"of order d^{a.order} (leading odd term {a.coefficient} d^{a.order}): "
            f"{a.classification} ({how_a}); it vanishes at y = 1/2, where the "
            "loss is symmetric."), ev)
    return Finding(REFUTED, f"{sn} symmetric: {sym_ok}; {an} asymmetric with a definite sign: "
                            f"{asym_ok} ({a.sign}).", ev)


CLAIM = Claim(
    "1", "MSE penalizes over- and under-shooting equally; cross-entropy is asymmetric.",
    "L(y, y + d) == L(y, y - d) identically for MSE; the leading odd term of "
    "L(y, y + d) - L(y, y - d) is non-zero with a definite sign on (0, 1) for BCE.",
    check=check, verdicts=(CONFIRMED, REFUTED))
