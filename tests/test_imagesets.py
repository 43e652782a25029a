"""The image sets made by seeded procedures (lossanalysis.imagesets) for prospective studies."""
import numpy as np
import pytest

from lossanalysis import imagesets


def test_glyphs_are_seeded_near_binary_strokes_with_grey_edges():
    a, b = imagesets.glyphs(40, seed=3), imagesets.glyphs(40, seed=3)
    same = np.array_equal(a, b)
    assert same and a.shape == (40, 28, 28) and a.dtype == np.uint8
    assert not np.array_equal(a, imagesets.glyphs(40, seed=4))
    v = a / 255.0
    assert 0.5 < np.mean(v == 0) < 0.95                     # a dark background
    ink = v[v > 0]
    assert 0.05 < np.mean((ink > 0.2) & (ink < 0.8)) < 0.6  # antialiased edges
    assert all(im.max() >= 200 for im in a)                  # every image holds a glyph
    with pytest.raises(ValueError, match="size"):
        imagesets.glyphs(2, size=4)


def test_soft_has_no_exact_zeros_or_ones_and_moves_greys_up():
    x = np.arange(256, dtype=np.uint8)
    y = imagesets.soft(x)
    assert y.min() == round(0.1 * 255) and y.max() == round(0.9 * 255)
    assert np.all(np.diff(y.astype(int)) >= 0)
    assert y[64] > 0.5 * 255                                 # 0.1 + 0.8 * 0.25^0.5 = 0.5
    with pytest.raises(ValueError):
        imagesets.soft(x, low=0.5, high=0.4)
