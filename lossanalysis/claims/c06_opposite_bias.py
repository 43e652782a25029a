"""Claim 6: a loss with the opposite bias (away from 1/2) would give hard, pixellized edges.

The catalogue has such a loss, the continuous Bernoulli: its minimizer is pushed away from 1/2.
Its optimum for an uncertain edge pixel is steeper than the mean but continuous: sharpened, not
hard.  The trained VAEs (E6) measure whether its images are sharper than the Bernoulli ones, and
whether its parameter image is pushed away from 1/2 as derived (the premise, a condition).
"""
from __future__ import annotations

import numpy as np

from .. import analysis as A
from ._common import edge_profile, fmt, loss_of, name_of
from .claim import Claim
from .evidence import Rows
from .verdicts import CONFIRMED, QUALIFIED, REFUTED, Finding

#: A change of p* by more than this within 0.01 of w is a jump (a hard edge).
JUMP = 0.5
#: Slopes within this of 1 are the mean's (the solvers' precision, not a sharpening).
SLOPE_PRECISION = 1e-6


def check(*, loss="continuous_bernoulli", hard="mae") -> Finding:
    """The edge profile p*(w) -- the optimal prediction for a pixel white with probability w --
    of ``loss``, a loss biased away from 1/2.

    Confirmed when it jumps (p* changes by more than :data:`JUMP` within 0.01 of w on a
    201-point grid: a hard edge); qualified when it is continuous but steeper than the mean at
    the mid-edge (slope dp*/dw at w = 1/2 above 1 + :data:`SLOPE_PRECISION`: sharpened, not
    hard); refuted when it is not steeper.  ``hard`` is shown for contrast.

    Raises
    ------
    ValueError
        If ``loss``'s point-target minimizer is not biased away from 1/2 (the claim is about
        such a loss).

    Examples
    --------
    >>> check().verdict
    'qualified'
    >>> check(loss="focal")
    Traceback (most recent call last):
    ...
    ValueError: loss: claim 6 is about a loss biased away from 1/2; focal's point-target bias \
is 'toward 1/2'
    """
    L = loss_of(loss)
    prop = A.is_proper(L)
    if prop.direction != "away from 1/2":
        raise ValueError(f"loss: claim 6 is about a loss biased away from 1/2; {name_of(L)}'s "
                         f"point-target bias is {prop.direction!r}")
    w, prof = edge_profile(L)
    jump = float(np.max(np.abs(prof[2:] - prof[:-2])))          # change over 0.01 of w
    h = 1e-4
    pm = np.asarray(A.optimal_prediction_two_point(L, 0.0, 1.0, np.array([0.5 - h, 0.5 + h])))
    slope = float((pm[1] - pm[0]) / (2 * h))
    _, prof_h = edge_profile(hard)
    n, nh = name_of(L), name_of(hard)
    ev = {"bias direction": prop.direction,
          "edge profile p*(w) at w = 0.1, 0.25, 0.5, 0.75, 0.9":
          [float(prof[i]) for i in (20, 50, 100, 150, 180)],
          "largest change of p* within 0.01 of w": jump,
          "slope dp*/dw at w = 1/2 (mean: 1)": slope,
          f"{nh} edge profile at w = 0.25, 0.5 - 0.005, 0.5 + 0.005, 0.75":
          [float(prof_h[50]), float(prof_h[99]), float(prof_h[101]), float(prof_h[150])]}
    if jump > JUMP:
        return Finding(CONFIRMED, f"{n} turns the uncertain edge into a step (p* jumps by "
                                  f"{fmt(jump)} within 0.01 of w).", ev)
    if slope > 1 + SLOPE_PRECISION:
        return Finding(QUALIFIED, (
            f"{n}'s optimum sharpens an uncertain edge (slope {fmt(slope)} at the mid-edge "
            f"instead of 1) and saturates toward 0 and 1, but stays continuous (largest change "
            f"{fmt(jump)} within 0.01 of w): contrast-stretched, not hard or pixellized. Hard "
            f"edges come from the median ({nh}: p* jumps from 0 to 1 at w = 1/2), which has no "
            "bias at all."), ev)
    return Finding(REFUTED, f"{n}'s edge is no sharper than the mean (slope {fmt(slope)} at "
                            "w = 1/2) although its point-target minimizer is biased away from "
                            "1/2.", ev)


CLAIM = Claim(
    "6", "A loss with the opposite bias would give hard, pixellized edges.",
    "The edge profile argmin_p [(1 - w) L(0, p) + w L(1, p)] of a loss biased away from 1/2 (the "
    "continuous Bernoulli) jumps (hard) or is only steeper than w (sharpened) (analysis); the "
    "continuous-Bernoulli VAE's images are at least as sharp as the Bernoulli VAE's (E6 rows).",
    check=check,
    reads=(Rows("E6.*sharper", confirmed=CONFIRMED, above=REFUTED, below=CONFIRMED),),
    conditions=(
        Claim("6.premise", "(the continuous Bernoulli has the opposite bias in practice)",
              "The trained continuous-Bernoulli decoder's parameter image lies at least as far "
              "from 1/2 as derived (E6 param_expansion rows).",
              reads=(Rows("E6.*param_expansion", confirmed=CONFIRMED, above=CONFIRMED,
                          below=REFUTED),)),))
