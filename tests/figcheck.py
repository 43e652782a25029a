"""Comparing two renderings of a figure by what they draw, not by their bytes.

Bytes are reproducible only within one machine: another CPU changes the last digits of a
computed coordinate, another fontTools subsets the embedded font differently.  So a figure
is compared with a committed one by

* its PDF drawing: the operators and strings of every page content stream and form XObject
  (font programs, their maps and the metadata are left out), numbers within
  :data:`PDF_TOL_PT` points of each other;
* its PNG pixels: the RMS difference on the 0-255 scale, as
  ``matplotlib.testing.compare.calculate_rms`` computes it, at most :data:`PNG_RMS`.

Tolerances (written from what a reader can see, not from any measured difference):
``PDF_TOL_PT = 0.01`` pt is 1/7200 inch, a thirtieth of a 300-dpi pixel; ``PNG_RMS = 1.0`` grey
level lets about 1 pixel in 65,000 differ completely (antialiasing at a curve's edge), while a
curve moved by one pixel across a 2100-pixel-wide figure changes thousands
(``test_figures.test_the_comparison_sees_a_moved_curve`` shows that it fails).
"""
from __future__ import annotations

import io
import re
import zlib

import numpy as np

PDF_TOL_PT = 0.01
PNG_RMS = 1.0

_OBJ = re.compile(rb"(\d+) 0 obj\s*(<<.*?>>)\s*(?:stream\r?\n(.*?)\r?\nendstream)?\s*endobj", re.S)
_NUMBER = re.compile(rb"^[+-]?(\d+\.?\d*|\.\d+)$")
_TOKEN = re.compile(rb"<[0-9A-Fa-f\s]*>|\((?:\\.|[^\\)])*\)|[^\s\[\]<>()]+|[\[\]]")


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    out = {}
    for m in _OBJ.finditer(pdf):
        head, body = m.group(2), m.group(3)
        if body is not None and b"/FlateDecode" in head:
            body = zlib.decompress(body)
        out[int(m.group(1))] = (head, body)
    return out


def pdf_drawing(pdf: bytes) -> list[tuple[str, list[bytes]]]:
    """The drawn content of a PDF: (kind, tokens) for each page content stream and form
    XObject, in object order; an image XObject contributes its size only."""
    objs = _objects(pdf)
    contents = {int(n) for head, _ in objs.values()
                for n in re.findall(rb"/Contents (\d+) 0 R", head)}
    drawn = []
    for num in sorted(objs):
        head, body = objs[num]
        if body is None:
            continue
        if b"/Subtype /Image" in head:
            size = re.findall(rb"/(Width|Height) (\d+)", head)
            drawn.append(("image", [b"%s=%s" % kv for kv in sorted(size)]))
        elif num in contents or b"/Subtype /Form" in head:
            drawn.append(("content" if num in contents else "form", _TOKEN.findall(body)))
    return drawn


def pdf_difference(a: bytes, b: bytes, tol: float = PDF_TOL_PT) -> str | None:
    """None if the two PDFs draw the same thing (numbers within ``tol``), else the first
    difference in a short sentence (never a dump of the files)."""
    da, db = pdf_drawing(a), pdf_drawing(b)
    if [k for k, _ in da] != [k for k, _ in db]:
        return f"different objects: {[k for k, _ in da]} vs {[k for k, _ in db]}"
    if not da:
        return "no drawing found"
    for i, ((kind, ta), (_, tb)) in enumerate(zip(da, db)):
        if len(ta) != len(tb):
            return f"{kind} stream {i}: {len(ta)} tokens vs {len(tb)}"
        for j, (x, y) in enumerate(zip(ta, tb)):
            if x == y:
                continue
            if _NUMBER.match(x) and _NUMBER.match(y) and abs(float(x) - float(y)) <= tol:
                continue
            return f"{kind} stream {i}, token {j}: {x[:40]!r} vs {y[:40]!r}"
    return None


def _pixels(png: bytes) -> np.ndarray:
    import matplotlib.image as mpimg
    return np.round(mpimg.imread(io.BytesIO(png), format="png") * 255).astype(np.int16)


def png_rms(a: bytes, b: bytes) -> float:
    """RMS difference of two PNGs on the 0-255 scale (inf when their sizes differ)."""
    from matplotlib.testing.compare import calculate_rms
    pa, pb = _pixels(a), _pixels(b)
    if pa.shape != pb.shape:
        return float("inf")
    return float(calculate_rms(pa, pb))


def figure_difference(files: dict[str, bytes], committed: dict[str, bytes]) -> str | None:
    """None if ``files`` and ``committed`` (format -> bytes) draw the same figure."""
    for fmt in sorted(set(files) | set(committed)):
        if fmt not in files or fmt not in committed:
            return f"{fmt}: missing on one side"
        if files[fmt] == committed[fmt]:
            continue
        if fmt == "pdf":
            diff = pdf_difference(files[fmt], committed[fmt])
            if diff:
                return f"pdf: {diff}"
        elif fmt == "png":
            rms = png_rms(files[fmt], committed[fmt])
            if not rms <= PNG_RMS:
                return f"png: RMS {rms:.3g} > {PNG_RMS}"
        else:
            return f"{fmt}: bytes differ and no content comparison is defined"
    return None
