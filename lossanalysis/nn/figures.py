"""Image grids of a trained model: test images, their reconstructions, samples from the prior.

Drawn in the project style (:func:`lossanalysis.plotting.figure`) and saved with
:func:`lossanalysis.plotting.save` (PDF and PNG, byte-stable)::

    from lossanalysis import plotting
    fig = reconstruction_figure(model, x_test[:8])
    plotting.save(fig, "runs/vae/recon")
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["image_side", "image_shape", "image_strip", "reconstruction_figure", "draw_rows"]


def image_side(n_pixels: int) -> int:
    """The side of a square image of ``n_pixels`` pixels (ValueError if not a square).

    >>> image_side(784)
    28
    """
    side = math.isqrt(int(n_pixels))
    if side * side != n_pixels:
        raise ValueError(f"images of {n_pixels} pixels are not square; cannot draw them")
    return side


def image_shape(n_values: int, shape=None) -> tuple:
    """The shape one image of ``n_values`` values is drawn in: ``shape`` ((H, W), (H, W, C) or
    (D,), checked against ``n_values``), else a square (ValueError if it is none).

    >>> image_shape(784), image_shape(12, (2, 2, 3)), image_shape(10, (10,))
    ((28, 28), (2, 2, 3), (1, 10))
    """
    if shape is None:
        side = image_side(n_values)
        return (side, side)
    shape = tuple(int(s) for s in shape)
    if math.prod(shape) != n_values or len(shape) not in (1, 2, 3):
        raise ValueError(f"images of {n_values} values cannot be drawn as {shape}")
    return (1, shape[0]) if len(shape) == 1 else shape


def image_strip(images, gap: int = 1, shape=None) -> np.ndarray:
    """Images ``(n, D)`` side by side in one array, ``gap`` pixels apart: grey images as
    ``(H, n W + gaps)`` with NaN gaps (drawn as background), colour images (``shape`` (H, W, 3))
    as RGBA with transparent gaps.  ``shape``: see :func:`image_shape` (default: square).

    >>> image_strip(np.zeros((2, 4))).shape
    (2, 5)
    >>> image_strip(np.zeros((2, 12)), shape=(2, 2, 3)).shape
    (2, 5, 4)
    """
    images = np.asarray(images, dtype=np.float64)
    n, p = images.shape
    h, w, *c = image_shape(p, shape)
    colour = bool(c) and c[0] >= 3
    if colour:
        strip = np.zeros((h, n * w + (n - 1) * gap, 4))
    else:
        strip = np.full((h, n * w + (n - 1) * gap), np.nan)
    for i, img in enumerate(images):
        col = i * (w + gap)
        if colour:
            strip[:, col:col + w, :3] = np.clip(img.reshape(h, w, c[0])[..., :3], 0, 1)
            strip[:, col:col + w, 3] = 1.0
        else:
            # grey, or the mean of two channels
            strip[:, col:col + w] = img.reshape(h, w, -1).mean(axis=2)
    return strip


def draw_rows(rows, *, columns: int = 2, row_height: float | None = None, extra_bottom=0.0,
              shape=None):
    """A figure with one strip of images per row: ``rows`` is a list of ``(label, images)``;
    ``shape``: one image's shape (see :func:`image_shape`; default square).

    Returns ``(fig, axes)``; the axes of the strips come first, from the top.  Pixel values are
    intensities in [0, 1] drawn in grey (0 black, 1 white); a colour bar says so.
    ``extra_bottom`` (inches) leaves room below for further panels (draw them inside
    :func:`lossanalysis.plotting.style`).
    """
    from .. import plotting

    n = max(len(images) for _, images in rows)
    width = plotting.COLUMN_WIDTH[columns]
    label_w, bar_w = 0.95, 0.55
    strip_w = width - label_w - bar_w
    h, w, *_ = image_shape(np.asarray(rows[0][1]).shape[1], shape)
    row_h = row_height or strip_w * h / (n * w + (n - 1))
    gap_h = 0.06
    top, bottom = 0.05, 0.05 + extra_bottom
    height = top + bottom + len(rows) * row_h + (len(rows) - 1) * gap_h
    fig, _ = plotting.figure(0, 0, columns=columns, height=height, layout=None)
    axes = []
    image = None
    with plotting.style():
        for i, (label, images) in enumerate(rows):
            y0 = height - top - (i + 1) * row_h - i * gap_h
            ax = fig.add_axes((label_w / width, y0 / height, strip_w / width, row_h / height))
            strip = image_strip(images, shape=shape)
            shown = ax.imshow(strip, cmap="gray", vmin=0.0, vmax=1.0,
                              interpolation="nearest", aspect="equal")
            if strip.ndim == 2 or image is None:
                image = shown
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
            axes.append(ax)
        strips_h = len(rows) * row_h + (len(rows) - 1) * gap_h
        cax = fig.add_axes(((width - bar_w + 0.08) / width, (height - top - strips_h) / height,
                            0.08 / width, strips_h / height))
        bar = fig.colorbar(image, cax=cax)
        bar.set_label(plotting.axis_label("pixel value", "intensity"), fontsize=7)
        bar.ax.tick_params(labelsize=6)
    return fig, axes


def reconstruction_figure(model, x, *, n: int = 8, samples: bool = True, seed: int = 0,
                          columns: int = 2, shape=None):
    """Test images (top row), their reconstructions (the mean image at the posterior mean for
    a VAE) and, for a VAE with ``samples``, mean images decoded from ``n`` draws of the prior.

    Parameters
    ----------
    model : AE or VAE
    x : array ``(m, pixels)``
        The first ``n`` rows are shown.
    n : int
        Images per row.
    samples : bool
        Add a row of prior samples (VAE only).
    seed : int
        Seed of the prior draws.
    columns : int
        Figure width: 1 (3.4 in) or 2 (7.0 in) paper columns.
    shape : tuple, optional
        One image's shape, (H, W), (H, W, C) or (D,) (default: square).

    Examples
    --------
    >>> from lossanalysis.nn import VAE
    >>> vae = VAE((16, 8, 2), seed=0)
    >>> fig = reconstruction_figure(vae, np.zeros((3, 16)), n=3)
    >>> [ax.get_ylabel() for ax in fig.axes[:3]]
    ['test images', 'reconstructions', 'prior samples']
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    x = model.check_data(x, "x")[:n]
    rows = [("test images", x), ("reconstructions", model.reconstruct(x))]
    if samples and hasattr(model, "sample"):
        rows.append(("prior samples", model.sample(n, rng=np.random.default_rng(seed))))
    fig, _ = draw_rows(rows, columns=columns, shape=shape)
    return fig
