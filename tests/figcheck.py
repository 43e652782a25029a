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

import matplotlib
import numpy as np

from lossanalysis import plotting

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


# ------------------------------------------------------------------------------- the text check
def _in_view(axis, ax, loc):
    lo, hi = sorted(ax.get_xlim() if axis is ax.xaxis else ax.get_ylim())
    return loc is not None and lo - 1e-9 * (hi - lo) <= loc <= hi + 1e-9 * (hi - lo)


def _axes_texts(ax):
    """The texts an axes draws: title, axis labels, tick labels in view, offset texts, texts."""
    out = [ax.title, ax.xaxis.label, ax.yaxis.label, ax.xaxis.offsetText, ax.yaxis.offsetText]
    out += list(ax.texts)
    for axis in (ax.xaxis, ax.yaxis):
        if not axis.get_visible():
            continue
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            if _in_view(axis, ax, tick.get_loc()):
                out += [tick.label1, tick.label2]
    for child in ax.child_axes:                      # secondary axes
        out += _axes_texts(child)
    return out


def _figures(fig):
    out = [fig]
    for sub in getattr(fig, "subfigs", ()):
        out += _figures(sub)
    return out


def text_collisions(fig) -> list:
    """Every pair of texts (legends count as one box each) that overlap, and every text that
    leaves the page: [(what, what)] -- empty for a clean figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    with plotting.style():
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        items = []
        for f in _figures(fig):
            sup = getattr(f, "_suptitle", None)
            texts = ([sup] if sup is not None else []) + list(f.texts)
            for ax in f.axes:
                texts += _axes_texts(ax)
                if ax.get_legend() is not None:
                    items.append(("legend of " + repr(ax.get_title()),
                                  ax.get_legend().get_window_extent(renderer)))
            for i, leg in enumerate(f.legends):
                items.append((f"figure legend {i}", leg.get_window_extent(renderer)))
            for t in texts:
                if t.get_visible() and t.get_text().strip():
                    items.append((repr(t.get_text()), t.get_window_extent(renderer)))
    seen, unique = set(), []
    for name, box in items:                          # an axes may be listed by two figures
        key = (name, tuple(np.round(box.bounds, 3)))
        if key not in seen:
            seen.add(key)
            unique.append((name, box))
    page = fig.bbox
    found = [(name, "page edge") for name, b in unique
             if b.x0 < page.x0 - 0.5 or b.y0 < page.y0 - 0.5 or b.x1 > page.x1 + 0.5
             or b.y1 > page.y1 + 0.5]
    for i, (name, a) in enumerate(unique):
        for other, b in unique[i + 1:]:
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5:
                found.append((name, other))
    return found


_NUMERIC = re.compile(r"^[−\-+]?[\d.]+([eE][−\-+]?\d+)?$|^\$.*10\^")


def _numeric_axis(axis):
    labels = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
    return bool(labels) and all(_NUMERIC.search(s) for s in labels)


def vocabulary_problems(fig, label: str) -> list:
    """Display names, units from plotting.UNITS on every numeric axis, no Python lists, a title
    that starts with the experiment's label: the problems found (empty for a clean figure)."""
    found = []
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_visible()]
    joined = "\n".join(texts)
    if "mnist" in joined.replace("MNIST", ""):
        found.append("dataset keys instead of titles")
    if re.search(r"\[\d+(, \d+)+\]", joined):
        found.append("a Python list in a text")
    for word in ("dimensionless", "0 to 1", "bernoulli", "gaussian", "_"):
        if any(word in t and "$" not in t for t in texts):
            found.append(f"the word {word!r}")
    sup = getattr(fig, "_suptitle", None)
    if sup is None or not sup.get_text().startswith(label + " "):
        found.append("no title starting with the label")
    with plotting.style():
        fig.draw_without_rendering()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_visible() and _numeric_axis(axis):
                unit = re.search(r"\[([^\[\]]+)\]$", axis.label.get_text())
                if not (unit and unit.group(1) in plotting.UNITS):
                    found.append(f"no unit on {axis.label.get_text()!r} ({ax.get_title()!r})")
    return found


def figure_problems(fig, label: str) -> list:
    """Everything that keeps an experiment's figure out of a paper: not a column width, a
    legend over data, text over text or off the page, another vocabulary (empty: none)."""
    found = []
    if float(fig.get_size_inches()[0]) not in tuple(plotting.COLUMN_WIDTH.values()):
        found.append(f"width {fig.get_size_inches()[0]} in")
    found += [f"legend over {o}" for o in plotting.legend_overlaps(fig)]
    found += [f"{a} over {b}" for a, b in text_collisions(fig)]
    return found + vocabulary_problems(fig, label)
