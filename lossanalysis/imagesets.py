"""Image sets made by documented, seeded procedures: data this project had never measured,
for prospective studies (their registration is committed before any network sees them).

* :func:`glyphs` -- letters and digits rendered from the fonts that ship with matplotlib
  (DejaVu Sans, Sans Mono and Serif, STIX General; each in its regular, bold, italic or
  oblique and bold-italic cut), antialiased, at a random size, rotation and position:
  near-binary strokes with grey edges, like handwritten digits but of other shapes.
* :func:`soft` -- images under a contrast-and-gamma transform x -> a + (b - a) x^gamma,
  rounded to 8 bits: no exact 0s or 1s, greys moved toward the middle.
* :func:`write` -- an image set as an ``.npz`` with ``x_train`` and ``x_test`` (uint8), the
  layout ``python -m lossanalysis study`` reads.

``scripts/make_imageset.py`` writes the two sets of the committed prospective studies; the
procedure (and its seed) is all there is to them, so they are not committed as files.  Font
rendering is matplotlib's FreeType at a fixed size: the same matplotlib gives the same images.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["GLYPHS", "FONTS", "glyphs", "soft", "write"]

#: The characters drawn: digits, then upper- and lower-case Latin letters.
GLYPHS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: The font files of matplotlib's ``mpl-data/fonts/ttf`` used.
FONTS = tuple(f"{family}{cut}.ttf" for family, cuts in (
    ("DejaVuSans", ("", "-Bold", "-Oblique", "-BoldOblique")),
    ("DejaVuSansMono", ("", "-Bold", "-Oblique", "-BoldOblique")),
    ("DejaVuSerif", ("", "-Bold", "-Italic", "-BoldItalic")),
    ("STIXGeneral", ("", "Bol", "Italic", "BolIta"))) for cut in cuts)
_BASE = 112                 # the glyphs are drawn on a 112 x 112 canvas, then reduced 4x


def _font_dir() -> Path:
    import matplotlib
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _base_glyph(font_file: str, char: str) -> np.ndarray:
    """``char`` in ``font_file`` as an antialiased float image (0-1) centred on the canvas,
    its ink box scaled to fill 3/4 of it."""
    from matplotlib.ft2font import FT2Font
    from scipy.ndimage import zoom
    font = FT2Font(str(_font_dir() / font_file))
    font.set_size(72, 72)
    font.set_text(char, 0.0)
    font.draw_glyphs_to_bitmap(antialiased=True)
    img = np.asarray(font.get_image(), dtype=np.float64) / 255.0
    rows, cols = np.flatnonzero(img.max(axis=1) > 0), np.flatnonzero(img.max(axis=0) > 0)
    img = img[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    f = 0.75 * _BASE / max(img.shape)
    img = np.clip(zoom(img, f, order=1), 0, 1)
    out = np.zeros((_BASE, _BASE))
    r0, c0 = (_BASE - img.shape[0]) // 2, (_BASE - img.shape[1]) // 2
    out[r0:r0 + img.shape[0], c0:c0 + img.shape[1]] = img
    return out


def glyphs(n: int, *, size: int = 28, seed: int = 0, progress=None) -> np.ndarray:
    """``n`` glyph images (uint8, n x size x size): for each, a character of :data:`GLYPHS` and
    a font of :data:`FONTS` drawn uniformly, scaled by s ~ U(0.6, 1.0), rotated by
    U(-15, 15) degrees and shifted by U(-0.08, 0.08) of the side, all from
    ``numpy.random.default_rng(seed)``; drawn at 4x and averaged down to ``size``.

    >>> x = glyphs(3, size=16, seed=1)
    >>> x.shape, x.dtype.name, int(x.max()) > 200
    ((3, 16, 16), 'uint8', True)
    """
    from scipy.ndimage import affine_transform
    if n < 1 or size < 8:
        raise ValueError(f"n must be >= 1 and size >= 8, got {n}, {size}")
    rng = np.random.default_rng(seed)
    char = rng.integers(0, len(GLYPHS), n)
    font = rng.integers(0, len(FONTS), n)
    scale = rng.uniform(0.6, 1.0, n)
    angle = np.deg2rad(rng.uniform(-15, 15, n))
    shift = rng.uniform(-0.08, 0.08, (n, 2)) * _BASE
    cache, out = {}, np.empty((n, size, size), dtype=np.uint8)
    big = 4 * size
    for i in range(n):
        key = (int(font[i]), int(char[i]))
        if key not in cache:
            cache[key] = _base_glyph(FONTS[key[0]], GLYPHS[key[1]])
        c, s = math.cos(angle[i]), math.sin(angle[i])
        k = _BASE / big / scale[i]
        m = k * np.array([[c, -s], [s, c]])
        centre = np.array([big / 2, big / 2])
        offset = _BASE / 2 - m @ centre - shift[i]
        img = affine_transform(cache[key], m, offset=offset, output_shape=(big, big), order=1)
        small = np.clip(img, 0, 1).reshape(size, 4, size, 4).mean(axis=(1, 3))
        out[i] = np.rint(small * 255).astype(np.uint8)
        if progress is not None and (i + 1) % 2000 == 0:
            progress(f"{i + 1}/{n} glyphs")
    return out


def soft(images, *, low: float = 0.1, high: float = 0.9, gamma: float = 0.5) -> np.ndarray:
    """``images`` (uint8 or floats in [0, 1]) under x -> low + (high - low) x^gamma, rounded to
    8 bits (uint8).

    >>> soft(np.array([0, 64, 255], dtype=np.uint8)).tolist()
    [26, 128, 230]
    """
    x = np.asarray(images)
    x = x.astype(np.float64) / 255.0 if x.dtype.kind in "iu" else x.astype(np.float64)
    if not (0 < low < high < 1 and gamma > 0):
        raise ValueError(f"need 0 < low < high < 1 and gamma > 0, got {low}, {high}, {gamma}")
    return np.rint(255 * (low + (high - low) * x ** gamma)).astype(np.uint8)


def write(path, x_train, x_test) -> Path:
    """Write an image set as ``.npz`` (``x_train``, ``x_test``) atomically."""
    from ._io import atomic_write
    return atomic_write(path, lambda f: np.savez_compressed(f, x_train=x_train, x_test=x_test))
