"""The one figure style of the project: palette, loss styles, names, units, sizes, saving, and a
check that no legend covers data.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot, so no GUI backend
and a cheaper import), exactly one column (3.4 in) or two columns (7.0 in) of a two-column paper
wide, drawn with the Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008) plus a dash pattern
and a marker per loss so that they survive greyscale printing, and saved as vector PDF with
embedded TrueType fonts and as PNG at 300 dpi, never cropped.

The style is a set of matplotlib settings (:data:`STYLE`) applied only inside :func:`style` --
:func:`figure` and :func:`save` enter it themselves, and code that adds artists to a figure
draws inside it too (``with plotting.style(): ...`` or ``@plotting.style()`` on the drawing
function), because matplotlib reads most settings when an artist is made.  The user's global
``matplotlib.rcParams`` are never changed.

One vocabulary: a loss is shown by its :func:`display_name`; an axis says what it shows and its
unit in brackets (:func:`axis_label`, units from :data:`UNITS`); :func:`listing` writes a list
of values for a title ("seeds 0, 1, 2"), never Python's ``[0, 1, 2]``.

Saving fixes the metadata (no dates; the versions of the numerical stack instead), so
regenerating a figure on the same machine gives the same bytes, and writes through
:func:`lossanalysis._io.atomic_write`, so a crash never leaves a half-written figure.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ._io import atomic_write

__all__ = ["PALETTE", "STYLE", "COLUMN_WIDTH", "DPI", "FORMATS", "DISPLAY_NAMES", "UNITS",
           "style", "figure", "panels", "panel_legend", "save", "color", "linestyle", "marker", "display_name",
           "loss_unit", "axis_label", "listing", "guides", "mark_reference", "legend_overlaps",
           "Overlap", "check_columns"]

#: The Okabe-Ito palette: black, orange, sky blue, bluish green, yellow, blue, vermillion,
#: reddish purple.
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
           "#CC79A7")

_DASHED = (0, (4, 1.5))
_DASH_DOT = (0, (4, 1.5, 1, 1.5))
_DOTTED = (0, (1, 1.2))
# name -> (colour, dash pattern, marker).  Seven colours serve eleven losses (yellow is too pale
# for a thin line), so losses that share a colour differ both in dashes and in markers: in a
# panel whose dashes encode something else, colour and marker still tell every loss apart.
_LOSS_STYLE = {
    "mse": ("#0072B2", "-", "o"),
    "bce": ("#D55E00", "-", "o"),
    "kl": ("#D55E00", _DASHED, "x"),
    "mae": ("#009E73", "-", "o"),
    "huber": ("#009E73", _DASHED, "x"),
    "reverse_kl": ("#CC79A7", "-", "o"),
    "continuous_bernoulli": ("#CC79A7", _DASHED, "x"),
    "logit_mse": ("#000000", _DOTTED, "o"),
    "beta_nll": ("#000000", _DASH_DOT, "x"),
    "gaussian_nll": ("#56B4E9", _DASH_DOT, "o"),
    "focal": ("#E69F00", "-", "o"),
}

#: The display name of every catalogue loss and every decoder likelihood: the one table that
#: legends, titles and tick labels use.
DISPLAY_NAMES = {
    "mse": "MSE",
    "mae": "MAE",
    "huber": "Huber",
    "bce": "BCE",
    "kl": "KL",
    "reverse_kl": "reverse KL",
    "logit_mse": "logit MSE",
    "gaussian_nll": "Gaussian NLL",
    "continuous_bernoulli": "continuous Bernoulli",
    "beta_nll": "Beta NLL",
    "focal": "focal",
    # decoder likelihoods
    "bernoulli": "Bernoulli",
    "gaussian": "Gaussian",
    "beta": "Beta",
}

#: The units an axis may carry.  "intensity" is the [0, 1] pixel scale of targets y and
#: predictions p (and of their differences); "logit" the log-odds z = ln(p/(1 - p)); "nats" the
#: value of a negative log-likelihood; "loss" the value of whichever loss a curve shows (each in
#: its own unit: see :func:`loss_unit`); "ratio" a quotient of two like quantities.
UNITS = ("intensity", "intensity²", "1/intensity", "logit", "logit²", "intensity/logit²",
         "nats", "nats/pixel", "loss", "loss/intensity", "loss/logit", "ratio", "epoch",
         "step", "count", "s")

#: Paper widths in inches: one column and two columns.
COLUMN_WIDTH = {1: 3.4, 2: 7.0}
#: Resolution of the PNG files.
DPI = 300
#: The formats :func:`save` writes.
FORMATS = ("pdf", "png", "svg")

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=[PALETTE[i] for i in (5, 6, 3, 1, 7, 2, 0)]),
    "legend.frameon": False,
    "legend.handlelength": 2.2,
    "mathtext.fontset": "dejavusans",
    "pdf.fonttype": 42,          # embed TrueType, not Type 3
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "lossanalysis",
    "savefig.dpi": DPI,
    "savefig.bbox": "standard",  # never cropped: the width stays the column width
    "path.simplify": False,
    "figure.constrained_layout.h_pad": 0.02,
    "figure.constrained_layout.w_pad": 0.02,
}


def style():
    """The project style as a context manager (and decorator): ``with plotting.style(): ...``.

    Returns
    -------
    contextlib.AbstractContextManager
        :func:`matplotlib.rc_context` with :data:`STYLE`: the settings apply inside the block
        and the caller's own ``matplotlib.rcParams`` are restored after it.

    Examples
    --------
    >>> import matplotlib
    >>> before = matplotlib.rcParams["font.size"]
    >>> with style():
    ...     matplotlib.rcParams["font.size"]
    8.0
    >>> matplotlib.rcParams["font.size"] == before
    True
    """
    return matplotlib.rc_context(STYLE)


def color(name: str, index: int = 0) -> str:
    """The colour of a loss; other names get the palette colour number ``index``.

    Examples
    --------
    >>> color("mse")
    '#0072B2'
    >>> color("my-series", 1) in PALETTE
    True
    """
    _name_arg(name)
    if name in _LOSS_STYLE:
        return _LOSS_STYLE[name][0]
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"index must be an integer, got {index!r}")
    cycle = STYLE["axes.prop_cycle"].by_key()["color"]
    return cycle[index % len(cycle)]


def linestyle(name: str):
    """The dash pattern of a loss (solid for names outside the catalogue).

    Examples
    --------
    >>> linestyle("bce"), linestyle("kl")
    ('-', (0, (4, 1.5)))
    """
    return _LOSS_STYLE.get(name, (None, "-", None))[1]


def marker(name: str) -> str:
    """The marker of a loss: losses of one colour have different markers ("o" otherwise).

    Examples
    --------
    >>> marker("bce"), marker("kl")
    ('o', 'x')
    """
    return _LOSS_STYLE.get(name, (None, None, "o"))[2]


def _name_arg(name):
    if not isinstance(name, str):
        raise TypeError(f"name must be a string (a loss or series name), got {name!r}")
    return name


def display_name(name: str) -> str:
    """How a loss or a likelihood is written in a figure (:data:`DISPLAY_NAMES`; other names
    unchanged).

    Examples
    --------
    >>> display_name("reverse_kl"), display_name("bernoulli"), display_name("my_loss")
    ('reverse KL', 'Bernoulli', 'my_loss')
    """
    return DISPLAY_NAMES.get(_name_arg(name), name)


def loss_unit(name: str) -> str:
    """The unit of a loss's value (the catalogue's :attr:`Loss.unit`): a squared or plain
    distance, nats for a likelihood, "loss" for a name outside the catalogue.

    Examples
    --------
    >>> loss_unit("mse"), loss_unit("logit_mse"), loss_unit("bce"), loss_unit("quartic")
    ('intensity²', 'logit²', 'nats', 'loss')
    """
    from .losses import LOSSES, get_loss
    return get_loss(name).unit if _name_arg(name) in LOSSES else "loss"


def axis_label(quantity: str, unit: str) -> str:
    """``"quantity [unit]"`` with a unit from :data:`UNITS` (ValueError for any other).

    Examples
    --------
    >>> axis_label("target y", "intensity")
    'target y [intensity]'
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}; got {unit!r}")
    return f"{quantity} [{unit}]"


def listing(values, fmt: str = "g") -> str:
    """Values for a title or label: ``"0, 1, 2"``, never a Python list.

    Examples
    --------
    >>> "seeds " + listing([0, 1, 2])
    'seeds 0, 1, 2'
    >>> listing((0.05, 0.1))
    '0.05, 0.1'
    """
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be a format specification string, got {fmt!r}")
    try:
        return ", ".join(format(v, fmt) if not isinstance(v, str) else v for v in values)
    except (ValueError, TypeError) as err:
        raise ValueError(f"fmt {fmt!r} cannot format these values: {err}") from None


def check_columns(columns):
    """``columns`` (1 or 2, a key of :data:`COLUMN_WIDTH`); ValueError naming it otherwise.

    >>> check_columns(2)
    2
    """
    if isinstance(columns, bool) or columns not in COLUMN_WIDTH:
        raise ValueError(f"columns must be 1 or 2, got {columns!r}")
    return columns


def figure(nrows: int = 1, ncols: int = 1, *, columns: int = 1, height: float = 2.4,
           layout="constrained", **subplot_kw):
    """A new figure in the project style: ``(fig, axes)`` like ``pyplot.subplots``.

    Parameters
    ----------
    nrows, ncols : int
        The grid of axes; 0 makes none (add them inside :func:`style`, e.g. on
        ``fig.add_gridspec``).
    columns : {1, 2}
        The paper width the figure spans: 3.4 in or 7.0 in (:data:`COLUMN_WIDTH`).
    height : float
        The height in inches (> 0).
    layout : {"constrained", None}
        Constrained layout fits labels and outside legends within the fixed size; ``None``
        leaves the placement to the caller (``fig.subplots_adjust``), which is cheaper to draw.
    **subplot_kw
        Passed to :meth:`matplotlib.figure.Figure.subplots` (``sharex``, ``gridspec_kw``, ...).

    Returns
    -------
    (Figure, Axes or array of Axes)
        The axes are made inside :func:`style`; draw on them inside it too.

    Examples
    --------
    >>> fig, ax = figure(columns=2, height=2.0)
    >>> [float(v) for v in fig.get_size_inches()]
    [7.0, 2.0]
    """
    check_columns(columns)
    if not (isinstance(height, (int, float)) and np.isfinite(height) and height > 0):
        raise ValueError(f"height must be a positive number of inches, got {height!r}")
    with style():
        fig = Figure(figsize=(COLUMN_WIDTH[columns], height), layout=layout)
        if nrows == 0 or ncols == 0:
            return fig, []
        axes = fig.subplots(nrows, ncols, **{"squeeze": True, **subplot_kw})
    return fig, axes


def panels(n: int, *, columns: int = 2, height: float = 1.9):
    """A figure of ``n`` panels, each with room for its own legend below it.

    Two columns put the panels side by side, one column stacks them.  Each panel is a
    subfigure holding one axes, so that :func:`panel_legend` can place a legend outside the
    axes, below it, and constrained layout keeps it clear of the data and of the next panel.

    Parameters
    ----------
    n : int
        Number of panels (>= 1).
    columns : {1, 2}
        Paper width (:data:`COLUMN_WIDTH`).
    height : float
        Height in inches of one row of panels, legend included.

    Returns
    -------
    (Figure, list of SubFigure, list of Axes)

    Examples
    --------
    >>> fig, subs, axes = panels(3, columns=1, height=1.5)
    >>> [float(v) for v in fig.get_size_inches()], len(axes)
    ([3.4, 4.5], 3)
    """
    check_columns(columns)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    rows, cols = (1, n) if columns == 2 else (n, 1)
    with style():
        fig = Figure(figsize=(COLUMN_WIDTH[columns], height * rows), layout="constrained")
        subs = list(np.ravel(fig.subfigures(rows, cols, squeeze=False)))
        axes = [sub.subplots() for sub in subs]
    return fig, subs, axes


def panel_legend(sub, handles=None, *, max_columns: int = 2):
    """A legend below the axes of a :func:`panels` panel, in as many columns (up to
    ``max_columns``) as fit in the panel's width; return it.

    ``handles`` default to the labelled artists of the panel's axes.  Draw inside
    :func:`style`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = sub.figure
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    if handles is None:
        handles = [h for ax in sub.axes for h in ax.get_legend_handles_labels()[0]]
    renderer = fig.canvas.get_renderer()
    width = sub.bbox.width if sub.bbox.width > 0 else fig.bbox.width
    for ncols in range(max(1, max_columns), 0, -1):
        leg = sub.legend(handles=handles, loc="outside lower center", ncols=ncols,
                         handlelength=2.0, columnspacing=1.0, borderaxespad=0.2)
        if ncols == 1 or leg.get_window_extent(renderer).width <= 0.98 * width:
            return leg
        leg.remove()
    return leg


def _metadata():
    # no dates; the numerical stack instead, so that a committed figure says what drew it
    import scipy
    made_by = (f"lossanalysis; matplotlib {matplotlib.__version__}; numpy {np.__version__}; "
               f"scipy {scipy.__version__}")
    return {
        "pdf": {"CreationDate": None, "ModDate": None, "Creator": made_by},
        "png": {"Software": made_by},
        "svg": {"Date": None, "Creator": made_by},
    }


def save(fig, stem, formats=("pdf", "png")) -> list[Path]:
    """Write ``<stem>.<format>`` for each format, atomically and byte-stably; return the paths.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Saved at its own size (never cropped), PNG at :data:`DPI` dots per inch.
    stem : str or os.PathLike
        The path without the format suffix; dots in it are kept (``"comparison.v2"`` gives
        ``comparison.v2.pdf``).  Missing folders are made.
    formats : iterable of str
        Any of :data:`FORMATS`; all are checked before anything is written.

    Returns
    -------
    list of pathlib.Path

    Notes
    -----
    Byte-stable means: the same figure code, drawn afresh and saved once, on the same numerical
    stack (recorded in the metadata) gives the same bytes.  matplotlib writes PDF coordinates
    rounded to 6 decimals, and display coordinates are often binary fractions that sit exactly
    on a rounding tie, so a 1-ulp change anywhere (another numpy build; a figure drawn or
    checked with :func:`legend_overlaps` before saving, whose cached transforms then differ in
    the last bit) can change the last printed digit of some coordinates.

    Examples
    --------
    >>> import tempfile
    >>> fig, ax = figure()
    >>> with style():
    ...     _ = ax.plot([0, 1], [0, 1])
    >>> [p.name for p in save(fig, f"{tempfile.mkdtemp()}/line.v2", ["pdf", "svg"])]
    ['line.v2.pdf', 'line.v2.svg']
    """
    if isinstance(formats, str):
        formats = (formats,)
    formats = tuple(formats)
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"formats: unsupported figure format {bad[0] if bad else 'none'!r}; "
                         f"use one or more of {', '.join(FORMATS)}")
    stem = Path(stem)
    metadata = _metadata()
    paths = []
    engine = fig.get_layout_engine()
    with style():
        # lay the figure out once, with its own renderer, and keep that layout for every
        # format: the files agree with each other whatever the order of ``formats``, and the
        # layout (the costliest step of a constrained figure) is not redone per format
        frozen = engine is not None and type(engine).__name__ != "PlaceHolderLayoutEngine"
        if frozen:
            engine.execute(fig)
            fig.set_layout_engine("none")
        try:
            for fmt in formats:
                path = stem.parent / f"{stem.name}.{fmt}"
                atomic_write(path, lambda fh: fig.savefig(fh, format=fmt,
                                                          metadata=metadata[fmt]))
                paths.append(path)
        finally:
            if frozen:
                fig.set_layout_engine(engine)
    return paths


# ----------------------------------------------------------------------------------------------
# Guides and the legend check
# ----------------------------------------------------------------------------------------------
_REFERENCE = "lossanalysis-reference"


def mark_reference(artist):
    """Mark an artist as a reference (a guide line or band, not data); return it.

    :func:`legend_overlaps` lets a legend cross a reference; :func:`guides` marks its lines.
    """
    artist.set_gid(_REFERENCE)
    return artist


def guides(ax, *, x=(), y=()):
    """Thin grey reference lines at the given x (vertical) and y (horizontal) positions.

    Examples
    --------
    >>> fig, ax = figure()
    >>> with style():
    ...     lines = guides(ax, x=[0.5], y=[0, 1])
    >>> len(lines)
    3
    """
    lines = [ax.axvline(v, color="0.6", lw=0.5, zorder=0) for v in np.atleast_1d(x)]
    lines += [ax.axhline(v, color="0.6", lw=0.5, zorder=0) for v in np.atleast_1d(y)]
    return [mark_reference(line) for line in lines]


class Overlap(NamedTuple):
    """One place where a legend covers something: which legend, what, and of what kind."""
    legend: str
    artist: str
    kind: str   # line, marker, patch, collection, image, text, legend, figure edge


def _segments_hit(xy, box):
    """Whether any segment of the polyline ``xy`` (n x 2, display units; NaN breaks it)
    meets the box (x0, y0, x1, y1): Liang-Barsky clipping of every segment at once."""
    if len(xy) == 0:
        return False
    if len(xy) == 1:
        xy = np.vstack([xy, xy])
    p0, p1 = xy[:-1], xy[1:]
    ok = np.all(np.isfinite(p0), axis=1) & np.all(np.isfinite(p1), axis=1)
    p0, d = p0[ok], (p1 - p0)[ok]
    if len(p0) == 0:
        return False
    t0 = np.zeros(len(p0))
    t1 = np.ones(len(p0))
    for k, (lo, hi) in enumerate(((box[0], box[2]), (box[1], box[3]))):
        dk, pk = d[:, k], p0[:, k]
        still = dk == 0
        inside = (pk >= lo) & (pk <= hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            ta, tb = (lo - pk) / dk, (hi - pk) / dk
        t0 = np.where(still, np.where(inside, t0, 2.0), np.maximum(t0, np.minimum(ta, tb)))
        t1 = np.where(still, np.where(inside, t1, -1.0), np.minimum(t1, np.maximum(ta, tb)))
    return bool(np.any(t0 <= t1))


def _points_hit(xy, box):
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    return bool(np.any((xy[:, 0] >= box[0]) & (xy[:, 0] <= box[2])
                       & (xy[:, 1] >= box[1]) & (xy[:, 1] <= box[3])))


def _grow(bbox, pad):
    return (bbox.x0 - pad, bbox.y0 - pad, bbox.x1 + pad, bbox.y1 + pad)


def _area(bbox):
    return 0.0 if bbox is None else max(bbox.width, 0) * max(bbox.height, 0)


def _name(artist):
    label = artist.get_label() if hasattr(artist, "get_label") else ""
    if label and not label.startswith("_"):
        return label
    if isinstance(artist, matplotlib.text.Text):
        return repr(artist.get_text())
    return type(artist).__name__


def _artist_hit(artist, region, renderer, px):
    """The kind of overlap between a data artist and a display-space Bbox, or None."""
    from matplotlib.collections import Collection
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    if isinstance(artist, Line2D):
        xy = artist.get_transform().transform(np.asarray(artist.get_xydata(), dtype=float))
        if artist.get_linestyle() not in ("None", "", " ", "none") and \
                _segments_hit(xy, _grow(region, artist.get_linewidth() * px / 2)):
            return "line"
        if artist.get_marker() not in (None, "None", "none", "", " ") and \
                _points_hit(xy, _grow(region, artist.get_markersize() * px / 2)):
            return "marker"
        return None
    if isinstance(artist, Collection):
        offsets = np.asarray(artist.get_offsets(), dtype=float)
        transform = artist.get_transform()
        if len(offsets) and artist.get_offset_transform() is not None and \
                not np.all(offsets == 0):
            pts = artist.get_offset_transform().transform(offsets)
            sizes = artist.get_sizes() if hasattr(artist, "get_sizes") else []
            pad = np.sqrt(np.max(sizes)) * px / 2 if len(sizes) else 0.0
            return "marker" if _points_hit(pts, _grow(region, pad)) else None
        filled = len(artist.get_facecolor()) and np.any(np.asarray(artist.get_facecolor())[:, 3] > 0)
        box = (region.x0, region.y0, region.x1, region.y1)
        for path in artist.get_paths():
            xy = transform.transform(path.vertices)
            if _segments_hit(xy, box):
                return "collection"
            if filled and len(xy) > 2 and matplotlib.path.Path(xy).contains_point(
                    (0.5 * (region.x0 + region.x1), 0.5 * (region.y0 + region.y1))):
                return "collection"
        return None
    if isinstance(artist, Patch):
        path = artist.get_transform().transform_path(artist.get_path())
        return "patch" if path.intersects_bbox(region, filled=artist.get_fill()) else None
    if isinstance(artist, (AxesImage, Text)):
        if isinstance(artist, Text) and not artist.get_text().strip():
            return None
        other = artist.get_window_extent(renderer)
        hit = _area(matplotlib.transforms.Bbox.intersection(region, other)) > 0
        return ("image" if isinstance(artist, AxesImage) else "text") if hit else None
    return None


def _data_artists(ax):
    """What a legend must not cover in an axes: its lines, markers, bars, filled regions,
    images and texts (titles, labels and tick labels included), without references."""
    from matplotlib.axis import Axis
    from matplotlib.legend import Legend
    from matplotlib.spines import Spine

    out = []
    for a in ax.get_children():
        if (isinstance(a, (Legend, Axis, Spine)) or a is ax.patch or not a.get_visible()
                or a.get_gid() == _REFERENCE):
            continue
        out.append(a)
    # tick labels of ticks outside the view are kept by matplotlib but not drawn
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    for axis, lo, hi in ((ax.xaxis, x0, x1), (ax.yaxis, y0, y1)):
        if axis.get_visible():
            out.append(axis.label)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if loc is not None and lo - 1e-9 * (hi - lo) <= loc <= hi + 1e-9 * (hi - lo):
                    out.extend(t for t in (tick.label1, tick.label2) if t.get_visible())
    return out


def _subfigures(fig):
    """The figure and all its subfigures, depth first."""
    out = [fig]
    for sub in getattr(fig, "subfigs", ()):
        out += _subfigures(sub)
    return out


def legend_overlaps(fig) -> list:
    """Every place where a legend of ``fig`` covers data, text, another legend or the edge.

    The figure is laid out and drawn without rendering (inside :func:`style`); each legend's
    window extent is then compared in display coordinates with the line segments (widened by
    half the line width), markers (by half their size), bars and patches, filled regions
    (polygon edges and interior), images and texts of *every* axes -- a legend placed beside
    its own axes must not cover the next one either -- each restricted to its clip box.  Lines
    and bands marked with :func:`mark_reference` (e.g. by :func:`guides`) are not data.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    list of Overlap
        Empty when no legend covers anything.

    Examples
    --------
    >>> fig, ax = figure()
    >>> with style():
    ...     _ = ax.plot([0, 1], [1, 0], label="falling line")
    ...     _ = ax.legend(loc="upper left")
    >>> [o.kind for o in legend_overlaps(fig)]
    ['line']
    >>> with style():
    ...     _ = ax.legend(loc="lower left")
    >>> legend_overlaps(fig)
    []
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.legend import Legend

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    with style():
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        px = fig.dpi / 72.0
        figs = _subfigures(fig)
        all_axes = [ax for f in figs for ax in f.axes]
        all_axes = [ax for i, ax in enumerate(all_axes) if ax not in all_axes[:i]]
        legends = [(f"figure legend {i}", leg) for i, leg in
                   enumerate(leg for f in figs for leg in f.legends)]
        for i, ax in enumerate(all_axes):
            title = ax.get_title() or f"axes {i}"
            legends += [(f"legend of {title!r}", a) for a in ax.get_children()
                        if isinstance(a, Legend) and a.get_visible()]
        boxes = [(name, leg.get_window_extent(renderer)) for name, leg in legends]
        found = []
        for k, (name, box) in enumerate(boxes):
            edge = fig.bbox
            if not (box.x0 >= edge.x0 - 0.5 and box.y0 >= edge.y0 - 0.5
                    and box.x1 <= edge.x1 + 0.5 and box.y1 <= edge.y1 + 0.5):
                found.append(Overlap(name, "figure", "figure edge"))
            for other_name, other in boxes[k + 1:]:
                if _area(matplotlib.transforms.Bbox.intersection(box, other)) > 0:
                    found.append(Overlap(name, other_name, "legend"))
            for ax in all_axes:
                if not ax.get_visible():
                    continue
                for artist in _data_artists(ax):
                    region = box
                    clip = artist.get_clip_box() if artist.get_clip_on() else None
                    if clip is not None:
                        region = matplotlib.transforms.Bbox.intersection(box, clip)
                        if _area(region) <= 0:
                            continue
                    kind = _artist_hit(artist, region, renderer, px)
                    if kind is not None:
                        found.append(Overlap(name, _name(artist), kind))
    return found
