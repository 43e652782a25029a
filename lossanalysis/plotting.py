"""One figure style for every figure of the project, and the flagship asymmetry figure.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot, so no GUI backend
and a cheaper import), sized for a two-column paper (3.4 in for one column, 7.0 in for both),
drawn with the Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008) plus a dash pattern per
loss so that they survive greyscale printing, and saved as vector PDF with embedded TrueType
fonts and as PNG.  Saving fixes the metadata (no dates), so regenerating a figure gives the same
bytes, and writes through a temporary file, so a crash never leaves a half-written figure.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ._io import atomic_write

__all__ = ["PALETTE", "STYLE", "color", "linestyle", "figure", "save", "asymmetry_figure"]

#: The Okabe-Ito palette: black, orange, sky blue, bluish green, yellow, blue, vermillion,
#: reddish purple.
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
           "#CC79A7")

_LOSS_STYLE = {  # name -> (colour, dash pattern); pairs that share a colour differ in dashes
    "mse": ("#0072B2", "-"),
    "bce": ("#D55E00", "-"),
    "kl": ("#D55E00", (0, (4, 1.5))),
    "mae": ("#009E73", "-"),
    "huber": ("#009E73", (0, (4, 1.5))),
    "reverse_kl": ("#CC79A7", "-"),
    "continuous_bernoulli": ("#CC79A7", (0, (4, 1.5))),
    "logit_mse": ("#000000", (0, (1, 1.2))),
    "beta_nll": ("#000000", (0, (4, 1.5, 1, 1.5))),
    "gaussian_nll": ("#56B4E9", (0, (4, 1.5, 1, 1.5))),
    "focal": ("#E69F00", "-"),
}

COLUMN_WIDTH = {1: 3.4, 2: 7.0}   # inches

# the unit of each loss's value: squared or plain intensity for the distances, nats for the
# negative log-likelihoods
_UNITS = {"mse": "intensity²", "mae": "intensity", "huber": "intensity²", "logit_mse": "logit²"}

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
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=[PALETTE[i] for i in (5, 6, 3, 1, 7, 2, 0, 4)]),
    "legend.frameon": False,
    "pdf.fonttype": 42,          # embed TrueType, not Type 3
    "ps.fonttype": 42,
    "savefig.dpi": 300,
    "savefig.bbox": "standard",  # crop only when save(tight=True) asks
    "savefig.pad_inches": 0.02,
    "path.simplify": False,
}


def color(name: str, index: int = 0) -> str:
    """The colour of a loss; unknown names get palette colours by ``index``."""
    if name in _LOSS_STYLE:
        return _LOSS_STYLE[name][0]
    return STYLE["axes.prop_cycle"].by_key()["color"][index % 8]


def linestyle(name: str):
    """The dash pattern of a loss (solid for names outside the catalogue)."""
    return _LOSS_STYLE.get(name, (None, "-"))[1]


def figure(nrows: int = 1, ncols: int = 1, *, columns: int = 1, height: float = 2.4,
           layout="constrained", **subplot_kw):
    """A new figure in the project style: ``(fig, axes)`` like ``pyplot.subplots``.

    ``columns`` is the paper width it spans (1 or 2); ``height`` is in inches.  The style is
    applied to matplotlib's global settings, so artists added afterwards share it.  Pass
    ``layout=None`` and place the axes with ``fig.subplots_adjust`` where drawing speed matters
    (constrained layout costs a few extra draws at save time).
    """
    if columns not in COLUMN_WIDTH:
        raise ValueError(f"columns must be 1 or 2, got {columns!r}")
    matplotlib.rcParams.update(STYLE)
    fig = Figure(figsize=(COLUMN_WIDTH[columns], height), layout=layout)
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return fig, axes


_METADATA = {
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "lossanalysis"},
    "png": {"Software": "lossanalysis"},
    "svg": {"Date": None, "Creator": "lossanalysis"},
}


def save(fig, stem, formats=("pdf", "png"), *, tight=True) -> list[Path]:
    """Write ``stem.<fmt>`` for each format, atomically and byte-stably; return the paths.

    ``tight`` crops the canvas to the drawn artists (one extra draw per format); pass False for
    figures laid out by hand, which then keep their exact size (e.g. the column width).
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    with matplotlib.rc_context({"svg.hashsalt": "lossanalysis"}):
        for fmt in formats:
            if fmt not in _METADATA:
                raise ValueError(f"unsupported figure format {fmt!r}; use one of "
                                 f"{', '.join(_METADATA)}")
            path = stem.with_suffix("." + fmt)
            atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, metadata=_METADATA[fmt],
                                                      bbox_inches="tight" if tight else None))
            paths.append(path)
    return paths


# ----------------------------------------------------------------------------------------------
# The flagship figure
# ----------------------------------------------------------------------------------------------
def asymmetry_figure(losses=("mse", "bce"), targets=(0.1, 0.3, 0.5, 0.7, 0.9),
                     deltas=(0.05, 0.1, 0.2), n_points: int = 801):
    """The thread's central claim at a glance.

    One panel per loss shows the excess loss L(y, p) - L(y, y) against p for each target y; the
    last panel shows the asymmetry ratio R(y, delta) (:func:`lossanalysis.asymmetry_ratio`): the
    excess cost of moving a distance delta away from 1/2 over that of moving toward 1/2.
    """
    from .analysis import asymmetry_ratio
    from .losses import get_loss

    losses = [get_loss(name) for name in losses]
    n = len(losses) + 1
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = figure(nrows, ncols, columns=2, height=2.3 * nrows, layout=None)
    # laid out by hand (margins in inches) rather than by constrained layout: this figure is
    # the quick-start job and should cost little beyond the imports
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=0.5 / width, right=1 - 0.14 / width, bottom=0.42 / height,
                        top=1 - 0.22 / height, wspace=0.42, hspace=0.55)
    axes = np.atleast_1d(axes).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)

    cmap = matplotlib.colormaps["viridis"]
    tcolors = [cmap(0.9 * i / max(len(targets) - 1, 1)) for i in range(len(targets))]
    p = np.linspace(0, 1, n_points)[1:-1]
    ymax = 0.0
    for ax, loss in zip(axes, losses):
        for y, c in zip(targets, tcolors):
            excess = loss.excess(np.full_like(p, y), p)
            ax.plot(p, excess, color=c, label=f"y = {y:g}")
            ax.plot([y], [0], "o", color=c, ms=3, zorder=3)
            ymax = max(ymax, float(np.nanmax(np.where(np.abs(p - y) <= 0.5, excess, np.nan))))
        title = loss.name.upper() if len(loss.name) <= 4 else loss.name
        ax.set_title(f"{title}: excess loss [{_UNITS.get(loss.name, 'nats')}]")
        ax.set_xlabel("prediction p (intensity, 0 to 1)")
        ax.set_ylabel("L(y, p) − L(y, y)")
        ax.set_xlim(0, 1)
    for ax in axes[:len(losses)]:
        ax.set_ylim(0, min(ymax, 1.0) * 1.05)
    axes[0].legend(loc="upper center", ncols=2, handlelength=1.2, columnspacing=0.8)

    ax = axes[len(losses)]
    y = np.linspace(0, 1, n_points)
    dashes = ["-", (0, (4, 1.5)), (0, (1, 1.2)), (0, (4, 1.5, 1, 1.5))]
    for i, loss in enumerate(losses):
        for j, delta in enumerate(deltas):
            ax.plot(y, asymmetry_ratio(loss, y, delta), color=color(loss.name, i),
                    ls=dashes[j % len(dashes)])
    ax.axhline(1, color="0.6", lw=0.5, zorder=0)
    ax.axvline(0.5, color="0.6", lw=0.5, zorder=0)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(lo, 0.8), max(hi, 12) * 3)     # headroom for the legends
    ax.set_yticks([t for t in (0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo <= t <= hi * 3])
    ax.set_xlim(0, 1)
    ax.set_xlabel("target intensity y (0 to 1)")
    ax.set_ylabel("R(y, δ) (dimensionless)")
    ax.set_title("cost away from ½ / toward ½")
    from matplotlib.lines import Line2D
    by_loss = [Line2D([], [], color=color(loss.name, i), label=loss.name)
               for i, loss in enumerate(losses)]
    by_delta = [Line2D([], [], color="0.3", ls=dashes[j % len(dashes)], label=f"δ = {d:g}")
                for j, d in enumerate(deltas)]
    first = ax.legend(handles=by_loss, loc="upper left", handlelength=1.5)
    ax.add_artist(first)
    ax.legend(handles=by_delta, loc="upper right", handlelength=2.2)
    return fig
