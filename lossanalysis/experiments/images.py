"""Blur and grey-level measures of images, shared by every experiment that looks at images.

* :func:`mean_gradient` -- the mean image-gradient magnitude sqrt(dx^2 + dy^2) (forward
  differences); :func:`blur_stats` compares a reconstruction's with the data's: the blur ratio
  |grad data| / |grad reconstruction| is 1 for a reconstruction as sharp as the data and > 1
  for a blurrier one.
* :func:`contrast` -- how far apart an image keeps the data's bright and dark pixels.
* :func:`midgrey_mask`, :func:`midgrey_fraction` -- pixels strictly between 0.2 and 0.8.
* :func:`mosaic` -- rows of images as one greyscale array, for the figures.
"""
from __future__ import annotations

import math

import numpy as np

from ..nn.compare import sharpness

__all__ = ["MIDGREY", "mean_gradient", "contrast", "midgrey_mask", "midgrey_fraction",
           "blur_stats", "mosaic"]

#: The mid-grey range (exclusive), in intensity.
MIDGREY = (0.2, 0.8)


def _as_images(x, shape=None):
    x = np.asarray(x, dtype=np.float64)
    if shape is None:
        side = int(round(math.sqrt(x.shape[-1])))
        shape = (side, side)
    return x.reshape(-1, *shape[:2]) if len(shape) == 2 else x.reshape(-1, *shape)[..., 0]


def mean_gradient(x, shape=None) -> float:
    """Mean image-gradient magnitude of images ``x`` (n, H W) of ``shape`` (H, W) (square
    when not given; of colour images the first channel).

    :func:`lossanalysis.nn.compare.sharpness` of that channel: sqrt(dx^2 + dy^2) with forward
    differences on the (side - 1)^2 positions where both exist (intensity units per pixel).

    Examples
    --------
    >>> step = np.zeros((1, 4, 4)); step[:, :, 2:] = 1.0
    >>> mean_gradient(step.reshape(1, -1)) == 3 / 9    # one column of unit steps of 3 x 3
    True
    """
    im = _as_images(x, shape)
    return sharpness(im.reshape(len(im), -1), im.shape[1:])     # one definition, in nn.compare


def contrast(image, x, split: float = 0.5) -> float:
    """Mean of ``image`` over the pixels where the data ``x`` >= ``split`` minus its mean where
    ``x`` < ``split`` (intensity; NaN when either side is empty).

    An image that keeps the data's levels has the data's contrast; one that is the data scaled
    toward a grey by a factor c has c times it, and then (forward differences being linear)
    c times its mean gradient as well.

    >>> x = np.array([[0.0, 0.2, 0.8, 1.0]])
    >>> contrast(x, x), round(contrast(0.5 * x + 0.25, x), 12)
    (0.8, 0.4)
    """
    im, x = np.asarray(image, dtype=np.float64), np.asarray(x, dtype=np.float64)
    if im.shape != x.shape:
        raise ValueError(f"image and x must have one shape, got {im.shape} and {x.shape}")
    hi = x >= split
    if hi.all() or not hi.any():
        return math.nan
    return float(im[hi].mean() - im[~hi].mean())


def midgrey_mask(x, lo: float = MIDGREY[0], hi: float = MIDGREY[1]) -> np.ndarray:
    """Pixels strictly between ``lo`` and ``hi``.

    Compared in float32 -- the precision of the loader and the networks -- so that a data value
    of 51/255 is 0.2 exactly (as in :func:`lossanalysis.data.intensity_summary`) whatever dtype
    the caller passes.

    >>> midgrey_mask(np.array([51 / 255, 0.5, 204 / 255])).tolist()
    [False, True, False]
    """
    x = np.asarray(x, dtype=np.float32)
    return (x > np.float32(lo)) & (x < np.float32(hi))


def midgrey_fraction(x, lo: float = MIDGREY[0], hi: float = MIDGREY[1]) -> float:
    """Fraction of pixels strictly between ``lo`` and ``hi`` (see :func:`midgrey_mask`).

    >>> midgrey_fraction(np.array([0.0, 0.2, 0.5, 0.8, 1.0]))
    0.2
    """
    return float(np.mean(midgrey_mask(x, lo, hi)))


def blur_stats(recon, data, shape=None) -> dict:
    """Blur of reconstructions ``recon`` of the images ``data``.

    Returns the gradient magnitudes (``gradient``, ``gradient_data``), their ratio
    ``blur_ratio`` = data / recon (> 1: blurrier), the mid-grey fractions (``midgrey``,
    ``midgrey_data``) and their ratio ``midgrey_ratio`` = recon / data, and the per-pixel
    ``mse`` and ``mae``.

    Examples
    --------
    >>> x = np.random.default_rng(1).random((3, 16))
    >>> s = blur_stats(0.5 * x + 0.25, x)       # contrast halved: twice as blurry
    >>> round(s["blur_ratio"], 12)
    2.0
    >>> blur_stats(np.full((1, 16), 0.5), x[:1])["blur_ratio"]     # a flat reconstruction
    inf
    """
    g_data, g_rec = mean_gradient(data, shape), mean_gradient(recon, shape)
    f_data, f_rec = midgrey_fraction(data), midgrey_fraction(recon)
    diff = np.asarray(recon, dtype=np.float64) - np.asarray(data, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):    # a flat image: inf or nan, no error
        blur, mid = np.float64(g_data) / g_rec, np.float64(f_rec) / f_data
    return {"gradient": g_rec, "gradient_data": g_data, "blur_ratio": float(blur),
            "midgrey": f_rec, "midgrey_data": f_data, "midgrey_ratio": float(mid),
            "mse": float(np.mean(diff * diff)), "mae": float(np.mean(np.abs(diff)))}


def mosaic(rows, side: int = 28, gap: int = 2, shape=None) -> np.ndarray:
    """One greyscale array from a list of image rows (each (n, H W)), white gaps; images of
    ``shape`` (H, W), or side x side.

    >>> mosaic([np.zeros((2, 4)), np.zeros((1, 4))], side=2, gap=1).shape
    (5, 5)
    >>> mosaic([np.zeros((2, 6))], shape=(2, 3), gap=1).shape
    (2, 7)
    """
    h, w = (side, side) if shape is None else shape[:2]
    n = max(len(r) for r in rows)
    out = np.ones((len(rows) * (h + gap) - gap, n * (w + gap) - gap))
    for i, r in enumerate(rows):
        for j, im in enumerate(r):
            out[i * (h + gap):i * (h + gap) + h,
                j * (w + gap):j * (w + gap) + w] = _as_images(im, (h, w))[0]
    return out
