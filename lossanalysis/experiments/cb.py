"""What the continuous Bernoulli experiments (E6, E16, E17) share: E6's evaluation images, its
premises, its control's clipped images and the analysis's parameter push.

The CB has no minimizer at an exact 0 or 1, so E6 measures every row on the raw images and on a
control clipped into ``base.INTERIOR`` (:func:`clip`); :func:`premises` says from the data's
statistics which of the two apply; :func:`extremeness` is the analysis's parameter image
lambda = mu^-1(x) over the mid-grey pixels, against the data's.
"""
from __future__ import annotations

import math

import numpy as np

from .. import analysis
from .base import INTERIOR
from .images import midgrey_mask

__all__ = ["VARIANTS", "N_EVAL", "MIN_BOUNDARY", "MIN_IMAGES", "MIN_MIDGREY", "GRID", "clip",
           "extremeness", "premises"]

#: The raw images and the control's clipped ones.
VARIANTS = ("raw", "clipped")
N_EVAL = 2000                   #: test images measured (the first of the split)
#: raw rows: share of training pixels exactly 0 or 1 (fewer: raw data barely unlike the control)
MIN_BOUNDARY = 0.01
MIN_IMAGES = 1000  #: all rows: training images for the VAEs (8 epochs of 128: >= 64 Adam steps)
MIN_MIDGREY = 1000              #: param_expansion: mid-grey (0.2 < x < 0.8) evaluation pixels
#: mu^-1 from analysis.argmin on this grid, interpolated (error < 2e-6: tests/test_e6.py)
GRID = np.linspace(0.2, 0.8, 601)


def clip(x, variant: str = "clipped"):
    """``x`` as the ``variant`` sees it: clipped into ``base.INTERIOR`` (float32 bounds) for
    "clipped", unchanged for "raw"."""
    if variant != "clipped":
        return x
    return np.clip(x, np.float32(INTERIOR[0]), np.float32(INTERIOR[1]))


def extremeness(x) -> dict:
    """Over the mid-grey pixels of ``x`` (``n`` of them): the data's mean|x - 1/2| and the
    predicted mean|mu^-1(x) - 1/2|, mu^-1 interpolated in argmin on :data:`GRID` (NaN if n = 0)."""
    v = np.asarray(x, dtype=np.float64)[midgrey_mask(x)]
    lam = np.interp(v, GRID, np.asarray(analysis.argmin("continuous_bernoulli", GRID), float))
    with np.errstate(invalid="ignore"):
        return {"data": float(np.mean(np.abs(v - 0.5))) if v.size else math.nan, "n": v.size,
                "predicted": float(np.mean(np.abs(lam - 0.5))) if v.size else math.nan}


def raw_premise(frac_boundary: float) -> str:
    """"" or why the raw rows are not applicable, from the share of training pixels exactly 0
    or 1."""
    if frac_boundary >= MIN_BOUNDARY:
        return ""
    return (f"{100 * frac_boundary:.2g}% of the training pixels are exactly 0 or 1 (fewer than "
            f"{100 * MIN_BOUNDARY:g}%): no boundary where the CB lacks a minimizer; the control "
            "covers these data")


def premises(data) -> dict:
    """{variant: "" or why its rows are not applicable}, from the data's statistics."""
    if data.n_train(10000) < MIN_IMAGES:
        return {v: f"fewer than {MIN_IMAGES} training images for the VAEs" for v in VARIANTS}
    return {"raw": raw_premise(data.summary.frac_zero + data.summary.frac_one), "clipped": ""}
