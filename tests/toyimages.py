"""Small synthetic image sets for the experiment tests, quantized to 8 bits: soft blobs and
inked strokes.

One maker per kind, shared by the tests: blobs give mid-grey pixels, exact 0s (or none, with a
floor) and, with peaks above 1, saturated cores; strokes give ink pixels (>= 0.9) on black.
"""
import numpy as np


def blobs(n, side=8, seed=0, floor=0.0, contrast=(0.4, 1.0)):
    """``n`` images of ``side`` x ``side`` (flattened, float32): a Gaussian blob of random
    centre, radius and peak U(``contrast``) each, clipped at 1, values under 0.05 set to 0,
    then mapped to ``floor + (1 - 2 floor) x`` (``floor`` > 0: no exact 0s) and rounded to
    8 bits.

    >>> x = blobs(3, side=6)
    >>> x.shape, x.dtype.name, bool((x == 0).any()), bool((x * 255 % 1 == 0).all())
    ((3, 36), 'float32', True, True)
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side]
    c = rng.uniform(2, side - 2, (n, 2, 1, 1))
    r = rng.uniform(1.5, 3, (n, 1, 1))
    im = rng.uniform(*contrast, (n, 1, 1)) * np.exp(-((xx - c[:, 0]) ** 2 + (yy - c[:, 1]) ** 2)
                                                    / (2 * r * r))
    im = floor + (1 - 2 * floor) * np.where(im < 0.05, 0, np.minimum(im, 1))
    return (np.round(im * 255) / 255).reshape(n, -1).astype(np.float32)


def strokes(n, side=8, seed=0):
    """``n`` images of ``side`` x ``side`` (flattened, float32, 8-bit values): a bright bar of
    3 x 2 pixels (ink, 0.93 or 1) with a mid-grey edge (0.4) below it, on exact 0s -- ink
    pixels (>= 0.9) for E2's and E18's saturated AEs.

    >>> x = strokes(2, seed=3)
    >>> x.shape, int((x >= 0.9).sum()), int(np.isclose(x, 0.4, atol=0.002).sum())
    ((2, 64), 12, 4)
    """
    rng = np.random.default_rng(seed)
    x = np.zeros((n, side, side))
    rows, cols = rng.integers(1, side - 3, n), rng.integers(1, side - 3, n)
    for k in range(n):
        x[k, rows[k]:rows[k] + 3, cols[k]:cols[k] + 2] = rng.choice([0.93, 1.0])
        x[k, rows[k] + 3, cols[k]:cols[k] + 2] = 0.4
    return (np.round(x * 255) / 255).reshape(n, -1).astype(np.float32)
