"""What the experiments' figures share: their title, the seeds they show, image mosaics.

Each experiment draws its own figure (its ``figure`` function) in the one style of
:mod:`lossanalysis.plotting`; the pieces here keep the figures alike where they say the same
thing:

* :func:`title` -- the figure's title, ``"E3 MNIST: calibration in the large (seed 3)"``: the
  experiment, the dataset's display name (:data:`.base.DATASET_TITLES`), what it shows;
* :func:`seeds_note` -- ``"seed 3"`` or ``"seeds 3, 4, 5"`` (:func:`lossanalysis.plotting.
  listing`), never a Python list;
* :func:`seed_spread` -- mean and sd over the seeds of each column, NaN where no seed
  defines it (an error bar, or none for one seed);
* :func:`legend_below` -- one legend for all panels, below them, from (label, line style)
  pairs (panels that share their series share one legend, and their axes stay aligned);
* :func:`image_rows` -- rows of images (data, then each model's reconstructions of it) as one
  greyscale mosaic with a label per row.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import plotting
from .base import DATASET_TITLES
from .images import mosaic

__all__ = ["title", "seeds_note", "seed_spread", "legend_below", "image_rows"]


def seeds_note(seeds) -> str:
    """``"seed 3"`` for one seed, ``"seeds 3, 4"`` for several; three or more consecutive
    seeds as a range (``"seeds 3–8"``).

    Examples
    --------
    >>> seeds_note([3]), seeds_note((3, 4)), seeds_note((3, 4, 5, 6, 7, 8)), seeds_note((0, 2, 3, 4))
    ('seed 3', 'seeds 3, 4', 'seeds 3–8', 'seeds 0, 2–4')
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    runs = [[seeds[0]]]
    for s in seeds[1:]:
        if s == runs[-1][-1] + 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    parts = [f"{r[0]}–{r[-1]}" if len(r) >= 3 else plotting.listing(r) for r in runs]
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(parts)


def title(fig, label: str, dataset: str, what: str, note: str = ""):
    """Give ``fig`` its title ``"<label> <dataset title>: <what> (<note>)"``; return it.

    The note goes on a second line when one line would be wider than the figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    label : str
        The experiment, e.g. ``"E3"``.
    dataset : str
        The dataset's key (``"mnist"``, ``"fashion-mnist"``), written by its display name; a
        name outside :data:`.base.DATASET_TITLES` is written as it is.
    what : str
        What the figure shows.
    note : str
        Written in brackets after it (e.g. :func:`seeds_note`); nothing when empty.

    Returns
    -------
    matplotlib.text.Text

    Examples
    --------
    >>> fig, _ = plotting.figure()
    >>> title(fig, "E3", "fashion-mnist", "calibration", "seed 3").get_text()
    'E3 Fashion-MNIST: calibration (seed 3)'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    text = f"{label} {DATASET_TITLES.get(dataset, dataset)}: {what}"
    with plotting.style():
        sup = fig.suptitle(f"{text} ({note})" if note else text)
        if note:
            canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
            if sup.get_window_extent(canvas.get_renderer()).width > 0.9 * fig.bbox.width:
                sup.set_text(f"{text}\n({note})")
    return sup


def seed_spread(values):
    """(mean, sd) over the seeds (rows) of ``values`` for each column, ignoring NaN (a statistic
    a seed left undefined); NaN for a column no seed defines; sd None for a single seed.

    >>> seed_spread([[1.0, float("nan")], [3.0, float("nan")]])
    (array([ 2., nan]), array([1.41421356,        nan]))
    """
    v = np.asarray(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # an all-NaN column is NaN
        return np.nanmean(v, 0), (np.nanstd(v, 0, ddof=1) if len(v) > 1 else None)


def legend_below(fig, entries, ncols: int = 2, **kwargs):
    """One legend below all the panels of ``fig``, outside them; return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure with constrained layout (:func:`lossanalysis.plotting.figure`), which keeps the
        legend clear of the axes.
    entries : list of (str, dict) or Artist
        ``(label, style)`` makes a legend line with the keyword arguments ``style`` of
        :class:`matplotlib.lines.Line2D` (``color``, ``ls``, ``marker``, ...); an artist (e.g.
        a patch) is used as it is.
    ncols : int
        Columns of the legend at most: fewer when that many would be wider than the figure.
    **kwargs
        Passed to :meth:`matplotlib.figure.Figure.legend`.

    Examples
    --------
    >>> fig, ax = plotting.figure(columns=2)
    >>> leg = legend_below(fig, [("MSE", dict(color=plotting.color("mse"))),
    ...                          ("data", dict(ls="none", marker="o"))])
    >>> [t.get_text() for t in leg.get_texts()]
    ['MSE', 'data']
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], label=e[0], **e[1]) if type(e) is tuple else e  # not a container
               for e in entries]
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    with plotting.style():
        for n in range(max(1, ncols), 0, -1):
            leg = fig.legend(handles=handles, loc="outside lower center", ncols=n, **kwargs)
            if n == 1 or leg.get_window_extent(canvas.get_renderer()).width <= 0.98 * fig.bbox.width:
                return leg
            leg.remove()


def image_rows(ax, rows, labels, *, side: int = 28, gap: int = 2, shape=None):
    """Draw rows of images on ``ax``, one label per row on the left; return the image.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    rows : list of array (n_i, side²)
        Intensities in [0, 1], shown in grey from black (0) to white (1).
    labels : list of str
        One per row.
    side, gap : int
        Image side and the white gap between images, in pixels (:func:`.images.mosaic`).
    shape : (H, W), optional
        The images' shape, when they are not side x side.

    Examples
    --------
    >>> import numpy as np
    >>> fig, ax = plotting.figure()
    >>> im = image_rows(ax, [np.zeros((3, 4)), np.ones((3, 4))], ["data", "model"], side=2)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['data', 'model']
    """
    if len(rows) != len(labels):
        raise ValueError(f"labels: need one per row ({len(rows)}), got {len(labels)}")
    with plotting.style():
        h = side if shape is None else shape[0]
        im = ax.imshow(mosaic(rows, side=side, gap=gap, shape=shape), cmap="gray", vmin=0,
                       vmax=1, interpolation="nearest")
        ax.set_yticks([h / 2 - 0.5 + (h + gap) * i for i in range(len(rows))])
        ax.set_yticklabels(labels)
        ax.set_xticks([])
        ax.tick_params(axis="y", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
    return im
