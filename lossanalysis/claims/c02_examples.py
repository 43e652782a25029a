"""Claim 2: for a target of 0.8, predicting 0.9 costs more than 0.7 (moving toward 1/2 is
cheaper)."""
from __future__ import annotations

import numpy as np

from .. import analysis as A
from ._common import certified, checked, fmt, loss_of, name_of
from .claim import Claim
from .verdicts import CONFIRMED, QUALIFIED, REFUTED, Finding


def check(*, loss="bce") -> Finding:
    """The thread's two examples, and the asymmetry ratio R(y, delta) > 1 on a grid.

    Confirmed when L(0.8, 0.9) > L(0.8, 0.7), L(0.3, 0.4) < L(0.3, 0.2) (excess losses) and
    R(y, delta) > 1 for y = 0.05 ... 0.95 (not 1/2), delta = 0.01, 0.05; qualified when only the
    examples hold; refuted when they do not.

    Examples
    --------
    >>> check().verdict, check(loss="mse").verdict
    ('confirmed', 'refuted')
    """
    L = loss_of(loss)
    e = {k: float(L.excess(y, p)) for k, (y, p) in
         {"L(0.8,0.9)": (0.8, 0.9), "L(0.8,0.7)": (0.8, 0.7),
          "L(0.3,0.4)": (0.3, 0.4), "L(0.3,0.2)": (0.3, 0.2)}.items()}
    yg = np.array([k / 40 for k in range(2, 39) if k != 20])
    R = np.concatenate([np.atleast_1d(A.asymmetry_ratio(L, yg, dl)) for dl in (0.01, 0.05)])
    R = R[np.isfinite(R)]
    ev = {"excess losses (nats)": e, "R(y, delta) over y = 0.05..0.95, delta = 0.01, 0.05":
          {"min": float(R.min()), "max": float(R.max()), "points": int(R.size)}}
    cert, cite, ev["certificate"] = certified("asymmetry", L)
    examples = e["L(0.8,0.9)"] > e["L(0.8,0.7)"] and e["L(0.3,0.4)"] < e["L(0.3,0.2)"]
    if not examples:
        return Finding(REFUTED, f"The examples do not hold for {name_of(L)}: {e}.", ev)
    if not np.all(R > 1):
        return Finding(QUALIFIED, "The two examples hold, but R(y, delta) <= 1 somewhere on the "
                                  f"grid (min {fmt(R.min())}).", ev)
    if cert is not None and cert.verdict == "disproven":
        return Finding(QUALIFIED, f"The two examples hold and R(y, delta) > 1 on the grid, but "
                                  f"not everywhere: {cite}.", ev)
    over = (f"R(y, delta) > 1 {cite}" if cert is not None and cert.verdict == "proven" and
            "> 1" in cert.words else
            f"R(y, delta) > 1 at every grid point, {checked('', int(R.size))}")
    return Finding(CONFIRMED, (
        f"{name_of(L)} excess: L(0.8, 0.9) = {fmt(e['L(0.8,0.9)'])} > L(0.8, 0.7) = "
        f"{fmt(e['L(0.8,0.7)'])}; L(0.3, 0.4) = {fmt(e['L(0.3,0.4)'])} < L(0.3, 0.2) = "
        f"{fmt(e['L(0.3,0.2)'])}; {over} (grid min {fmt(R.min())}): moving toward 0.5 is "
        "cheaper at every target y != 1/2."), ev)


CLAIM = Claim(
    "2", "For a true intensity of 0.8, predicting 0.9 costs more than 0.7; for 0.3, predicting "
         "0.4 costs less than 0.2 (moving toward 0.5 is cheaper).",
    "KL(0.8 || 0.9) > KL(0.8 || 0.7), KL(0.3 || 0.4) < KL(0.3 || 0.2), and the asymmetry ratio "
    "R(y, delta) > 1 for all y != 1/2.",
    check=check)
