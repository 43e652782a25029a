"""Claim 10: even for non-binary targets, BCE is minimized by setting the output to the
target."""
from __future__ import annotations

from .. import analysis as A
from ._common import certified, checked, fmt, loss_of, name_of
from .claim import Claim
from .verdicts import CONFIRMED, REFUTED, Finding


def check(*, loss="bce") -> Finding:
    """``loss`` is minimized by predicting the target: argmin_p L(y, p) = y for every y in
    [0, 1] (confirmed), or not (refuted).

    Examples
    --------
    >>> check().verdict, check(loss="focal").verdict
    ('confirmed', 'refuted')
    """
    L = loss_of(loss)
    prop = A.is_proper(L)
    closed = A.argmin_expr(L)
    ev = {"argmin closed form": str(closed), "L_p(y, y)": str(prop.stationarity),
          "max |argmin - y| over 103 targets": prop.max_abs_bias, "direction": prop.direction}
    cert, cite, ev["certificate"] = certified("proper", L)
    if prop.proper and not (cert is not None and cert.verdict == "disproven"):
        return Finding(CONFIRMED, (
            f"dL/dp at p = y is {prop.stationarity} and the minimizer is "
            f"{closed if closed is not None else 'y (numerically)'} for every y in [0, 1]: "
            f"argmin = y {checked(cite, 103)} (max |bias| on 103 targets "
            f"{fmt(prop.max_abs_bias)}); the minimum value is the entropy-like L(y, y), "
            "which is why the zero-normalized form subtracts it."), ev)
    return Finding(REFUTED, f"{name_of(L)}'s minimizer is not the target: bias "
                            f"{prop.direction}, up to {fmt(prop.max_abs_bias)}"
                            + (f"; argmin = y {cite}" if cite else "") + ".", ev)


CLAIM = Claim(
    "10", "Even for non-binary targets, BCE is minimized by setting the output equal to the "
          "target.",
    "argmin_p BCE(y, p) = y for every y in [0, 1].",
    check=check, verdicts=(CONFIRMED, REFUTED))
