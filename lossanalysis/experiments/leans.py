"""Leans toward 1/2 measured on bins of intensity: what E4 and E8 measure.

The sign convention is that of :data:`lossanalysis.claims.evidence.CONTRACT`: a lean is
positive where the prediction lies on the side of the target nearer 1/2 (above the target below
1/2, below it above 1/2).

* Bins: :data:`EDGES` cuts [0.05, 0.95] into nine bins of width 0.1 centred on 0.1, ..., 0.9
  (:data:`CENTRES`); the pixels below 0.05 and above 0.95 carry no lean.  :data:`PAIRS` pairs
  each bin below 1/2 with its mirror image, (0.1, 0.9), ..., (0.4, 0.6).
* :func:`pair_lean` turns per-bin mean signed errors d (prediction minus target) into the lean
  of each pair, 1/2 [d(y) - d(1 - y)]: the part of d that is antisymmetric about 1/2.  A uniform
  offset -- the same error in every bin, e.g. a network's calibration in the large -- carries no
  direction toward 1/2 and cancels.
* :func:`by_target` bins the errors by the target, :func:`by_prediction` by the prediction.  A
  predictor of the conditional mean, p = E[y | what it sees], is calibrated: E[y - p | p] = 0,
  so its errors binned by the prediction vanish, while binned by the target they regress toward
  the middle (:func:`conditional_mean_gap`).
* :data:`RESOLUTION` is one 8-bit grey level, the resolution of the data: a lean below it is
  below what the images can express.
"""
from __future__ import annotations

import math

import numpy as np

from ..losses import sigmoid

__all__ = ["EDGES", "CENTRES", "PAIRS", "RESOLUTION", "bin_by_target", "pair_lean",
           "pair_names", "by_target", "by_prediction", "calibration_lean",
           "conditional_mean_gap", "pairs_from", "finite_mean", "sparse_bins",
           "sampled_decoder"]

EDGES = np.round(np.arange(0.05, 0.951, 0.1), 10)
CENTRES = np.round(0.5 * (EDGES[:-1] + EDGES[1:]), 10)
PAIRS = ((0, 8), (1, 7), (2, 6), (3, 5))
#: One grey level of the 8-bit images.
RESOLUTION = 1.0 / 255.0


def bin_by_target(y, values, edges):
    """Mean of ``values`` per bin of the target intensity ``y``; returns (centres, means, counts).

    Bins are half-open [e_i, e_{i+1}) except the last, which is closed; empty bins give NaN.

    Examples
    --------
    >>> c, m, n = bin_by_target([0.1, 0.2, 0.9], [1.0, 3.0, 5.0], [0.0, 0.5, 1.0])
    >>> m.tolist(), n.tolist()
    ([2.0, 5.0], [2, 1])
    """
    y = np.asarray(y).ravel()
    values = np.asarray(values).ravel()
    edges = np.asarray(edges, dtype=float)
    idx = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, len(edges) - 2)
    inside = (y >= edges[0]) & (y <= edges[-1])
    counts = np.bincount(idx[inside], minlength=len(edges) - 1)
    sums = np.bincount(idx[inside], weights=values[inside], minlength=len(edges) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return 0.5 * (edges[:-1] + edges[1:]), means, counts


def pairs_from(lowest: float) -> tuple:
    """The pairs of :data:`PAIRS` whose bins lie inside [lowest, 1 - lowest].

    >>> pairs_from(0.1)
    ((1, 7), (2, 6), (3, 5))
    """
    return tuple((a, b) for a, b in PAIRS if EDGES[a] >= lowest - 1e-12)


def finite_mean(a, axis=0) -> np.ndarray:
    """Mean of the finite entries along ``axis`` (e.g. over seeds); NaN where there is none
    (an empty bin in every seed), without numpy's warning.

    >>> finite_mean(np.array([[1.0, np.nan], [3.0, np.nan]])).tolist()
    [2.0, nan]
    """
    a = np.asarray(a, dtype=float)
    ok = np.isfinite(a)
    n = ok.sum(axis=axis)
    total = np.where(ok, a, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def sparse_bins(x, pairs, n_pixels: float, min_pixels: int) -> str:
    """Why the bin pairs ``pairs`` cannot be judged on ``n_pixels`` pixels distributed as the
    intensities ``x``: the bins expected to hold fewer than ``min_pixels`` of them ("" if none;
    a premise decided on the data alone).

    >>> sparse_bins(np.full(100, 0.12), ((0, 8),), 1000, 10)
    'fewer than 10 pixels expected in the bins 0.9'
    """
    frac = np.histogram(x, bins=EDGES)[0] / np.size(x)
    low = [f"{CENTRES[i]:g}" for pr in pairs for i in pr if frac[i] * n_pixels < min_pixels]
    return f"fewer than {min_pixels} pixels expected in the bins {', '.join(low)}" if low else ""


def pair_names(pairs=PAIRS) -> list:
    """'0.1,0.9', ... for the bin centres of ``pairs``.

    >>> pair_names(((0, 8),))
    ['0.1,0.9']
    """
    return [f"{CENTRES[a]:g},{CENTRES[b]:g}" for a, b in pairs]


def pair_lean(d, pairs=PAIRS) -> np.ndarray:
    """The lean toward 1/2 of each bin pair (y, 1 - y) from per-bin mean signed errors ``d``
    (prediction minus target, one per bin of :data:`EDGES`): 1/2 [d(y) - d(1 - y)].

    Examples
    --------
    >>> toward = 0.02 * np.sign(0.5 - CENTRES)           # 0.02 toward 1/2 in every bin
    >>> pair_lean(toward + 0.01).tolist()                 # a uniform offset cancels
    [0.02, 0.02, 0.02, 0.02]
    """
    d = np.asarray(d, dtype=float)
    if d.shape[-1] != len(CENTRES):
        raise ValueError(f"d must hold one value per bin ({len(CENTRES)}), got {d.shape[-1]}")
    lo = d[..., [a for a, _ in pairs]]
    hi = d[..., [b for _, b in pairs]]
    return 0.5 * (lo - hi)


def by_target(p, y) -> tuple:
    """Per bin of the target y: (mean of p - y, pixel counts).

    >>> m, n = by_target([0.2, 0.8], [0.1, 0.9])
    >>> np.round(m[[0, 8]], 10).tolist(), n[[0, 8]].tolist()
    ([0.1, -0.1], [1, 1])
    """
    p = np.asarray(p, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    _, m, n = bin_by_target(y, p - y, EDGES)
    return m, n


def by_prediction(p, y) -> tuple:
    """Per bin of the prediction p: (mean of p - y, pixel counts).

    >>> m, n = by_prediction([0.1, 0.1], [0.0, 0.2])     # calibrated at 0.1
    >>> float(m[0]), int(n[0])
    (0.0, 2)
    """
    p = np.asarray(p, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    _, m, n = bin_by_target(p, p - y, EDGES)
    return m, n


def calibration_lean(p, y, pairs=PAIRS) -> float:
    """Mean over ``pairs`` of the lean toward 1/2 of the errors binned by the prediction
    (:func:`by_prediction`, :func:`pair_lean`); 0 for a calibrated predictor, > 0 when the
    predictions lie nearer 1/2 than the mean targets they stand for (underconfident), < 0 when
    farther (overconfident).  NaN when a bin of ``pairs`` is empty.

    >>> y = np.repeat([0.0, 1.0], 50)
    >>> calibration_lean(np.full(100, 0.5), y)           # every prediction 1/2: no pair
    nan
    """
    m, n = by_prediction(p, y)
    idx = [i for pr in pairs for i in pr]
    if np.any(n[idx] == 0):
        return math.nan
    return float(np.mean(pair_lean(m, pairs)))


def conditional_mean_gap(p, y) -> dict:
    """The regression of the signed error on the target against a conditional mean's.

    For p = E[y | c] (c what the predictor sees), cov(p, y) = var(p), so the least-squares slope
    of (p - y) on y, pooled over the pixels given, is R^2 - 1 with R^2 = var(p)/var(y).
    Returns {"slope", "r2", "gap"}: gap = slope - (R^2 - 1) = (cov(p, y) - var(p))/var(y),
    0 for a conditional mean; a predictor shrunk toward a constant by a factor 1 - k gives
    k (1 - k) R^2 > 0 (a lean toward the middle), noise uncorrelated with y gives
    -var(noise)/var(y) < 0.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> m = rng.random(100000); y = (rng.random(m.size) < m).astype(float)  # E[y | m] = m
    >>> g = conditional_mean_gap(m, y)
    >>> abs(g["gap"]) < 0.01, round(g["slope"] - (g["r2"] - 1), 12) == round(g["gap"], 12)
    (True, True)
    """
    p = np.asarray(p, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    pc, yc = p - p.mean(), y - y.mean()
    vy = float(yc @ yc)
    if not vy > 0:
        return {"slope": math.nan, "r2": math.nan, "gap": math.nan}
    vp, cpy = float(pc @ pc), float(pc @ yc)
    return {"slope": (cpy - vy) / vy, "r2": vp / vy, "gap": (cpy - vp) / vy}


def sampled_decoder(model, x, gen, k: int) -> dict:
    """A VAE decoder's calibration over ``k`` latent samples h ~ q(h | x) of each image of ``x``
    (drawn from ``gen`` in order): ``per_sample`` -- E[p(h) - x | p(h)] per bin of the
    prediction, pooled over the samples (a decoder at its optimum E[x | h] gives 0); ``q`` --
    each pixel's prediction averaged over the samples; ``spread`` -- the sample standard
    deviation of its logit.  The lean toward 1/2 of ``per_sample`` is what E8's VAE rows judge."""
    y = np.asarray(x, dtype=np.float64)
    mu, logvar = model.encode(x)
    sums, counts, z1, z2, p1 = 0.0, 0.0, 0.0, 0.0, 0.0
    for _ in range(k):
        z = model.decode(mu + np.exp(0.5 * logvar) * gen.standard_normal(
            mu.shape, dtype=mu.dtype), kind="logit").astype(np.float64)
        m, n = by_prediction(p := sigmoid(z), y)
        sums, counts = sums + np.nan_to_num(m) * n, counts + n
        z1, z2, p1 = z1 + z, z2 + z * z, p1 + p
    return {"per_sample": sums / np.where(counts > 0, counts, np.nan), "q": p1 / k,
            "spread": np.sqrt(np.maximum(z2 / k - (z1 / k) ** 2, 0) * k / (k - 1))}
