"""The analysis figures: asymmetry (the flagship), bias, gradients -- and the command line they
share.

Each figure function takes the losses and settings it draws, and ``columns`` (1: 3.4 in wide, 2:
7.0 in), and returns a :class:`matplotlib.figure.Figure` in the project style
(:mod:`lossanalysis.plotting`); every number it draws comes from :mod:`lossanalysis.analysis`
or :mod:`lossanalysis.losses`.  Legends sit outside the axes, and curves that coincide (BCE and
KL have the same gradient, say) are drawn once, labelled "BCE = KL", so no series hides
another.  The scripts in ``scripts/`` parse arguments with :func:`parser` and the argument types
below and hand the drawing to :func:`run`.
"""
from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

import numpy as np

from . import _io, plotting
from ._cli import numbers  # noqa: F401  (the figure scripts' number-list type)
from ._text import plain_label
from .losses import LOSSES, Loss, get_loss, logit

__all__ = ["asymmetry_figure", "bias_figure", "gradient_figure", "ASYMMETRY_LOSSES",
           "BIAS_LOSSES", "GRADIENT_LOSSES", "PROB_NOISE_NODES", "parser", "add_arguments",
           "loss_names", "loss_expr", "selected_losses", "numbers", "run"]

#: Default losses of each figure.
ASYMMETRY_LOSSES = ("mse", "bce")
BIAS_LOSSES = ("mse", "bce", "reverse_kl", "logit_mse", "focal")
GRADIENT_LOSSES = ("mse", "mae", "huber", "bce", "kl", "reverse_kl", "logit_mse", "focal",
                   "continuous_bernoulli")
#: The Gauss-Hermite size of the probability-space noise in the bias figure (passed to
#: :func:`lossanalysis.analysis.noise_bias` as ``nodes``).
PROB_NOISE_NODES = 10
#: Largest logit-space sigma the bias figure accepts: the analysis' composite rule is tested
#: against mpmath up to sigma = 3.
_LOGIT_SIGMA_MAX = 3.0


def _check_losses(losses, arg="losses"):
    """The losses to draw, as Loss objects: catalogue names or Loss objects (a user's own,
    ``Loss.from_expr``), duplicates dropped."""
    if isinstance(losses, (str, Loss)):
        losses = (losses,)
    try:
        losses = tuple(losses)
    except TypeError:
        raise ValueError(f"{arg} must be loss names or Loss objects, got {losses!r}") from None
    if not losses:
        raise ValueError(f"{arg} must name at least one loss")
    out = []
    for item in losses:
        if isinstance(item, Loss):
            out.append(item)
        elif isinstance(item, str) and item in LOSSES:
            out.append(get_loss(item))
        else:
            raise ValueError(f"{arg}: unknown loss {item!r}; choose from {', '.join(LOSSES)} or "
                             "pass a Loss (Loss.from_expr for your own)")
    return tuple(dict.fromkeys(out))


def _is_user(loss) -> bool:
    return loss.name not in LOSSES


#: Colours, dashes and markers of users' losses (in order), apart from the catalogue's styles.
_USER_COLOURS = ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#0072B2", "#D55E00")
_USER_DASH = (0, (6, 1.5, 1, 1.5, 1, 1.5))
_USER_MARKERS = ("D", "^", "v", "s", "P", "X")


class _Styles:
    """Colour, dash, marker and label of each loss of a figure: the catalogue's own
    (:mod:`plotting`), and for a user's loss one of its own (a dash-dot-dot line with markers)
    labelled with its name (escaped: no mathtext)."""

    def __init__(self, losses):
        self._user = {loss: k for k, loss in enumerate(lo for lo in losses if _is_user(lo))}

    def color(self, loss, index=0):
        if loss in self._user:
            return _USER_COLOURS[self._user[loss] % len(_USER_COLOURS)]
        return plotting.color(loss.name, index)

    def linestyle(self, loss):
        return _USER_DASH if loss in self._user else plotting.linestyle(loss.name)

    def marker(self, loss):
        if loss in self._user:
            return _USER_MARKERS[self._user[loss] % len(_USER_MARKERS)]
        return plotting.marker(loss.name)

    def label(self, loss):
        if loss in self._user:
            return plain_label(loss.name)
        return plotting.display_name(loss.name)

    def extra(self, loss):
        """Line keywords that tell a user's loss apart (markers along the line)."""
        if loss not in self._user:
            return {}
        return {"marker": self.marker(loss), "markevery": 0.1, "ms": 2.5, "mfc": "none",
                "mew": 0.6}


def _check_values(values, arg, lo, hi, *, count=None, what="", open_lo=True, open_hi=True):
    try:
        values = tuple(float(v) for v in np.atleast_1d(values))
    except (TypeError, ValueError):
        raise ValueError(f"{arg} must be numbers, got {values!r}") from None
    if count is not None and len(values) != count:
        raise ValueError(f"{arg} takes {count} values, got {len(values)}")
    if not values:
        raise ValueError(f"{arg} must not be empty")
    for v in values:
        above = v > lo if open_lo else v >= lo
        below = v < hi if open_hi else v <= hi
        if not (math.isfinite(v) and above and below):
            left, right = "(" if open_lo else "[", ")" if open_hi else "]"
            raise ValueError(f"{arg}{' (' + what + ')' if what else ''} must lie in "
                             f"{left}{lo:g}, {hi:g}{right}; got {v!r}")
    return values


def _merge_identical(curves):
    """[(losses, x, y)] with curves that coincide (to 1e-9 relative, on the same x) joined:
    their losses are collected in the first one's entry, so each is drawn once."""
    out = []
    for name, x, y in curves:
        for entry in out:
            ox, oy = entry[1], entry[2]
            if ox.shape == x.shape and np.array_equal(ox, x) and np.allclose(
                    y, oy, rtol=1e-9, atol=1e-12 * max(1.0, float(np.nanmax(np.abs(oy)))),
                    equal_nan=True):
                entry[0].append(name)
                break
        else:
            out.append(([name], x, y))
    return out


def _loss_line(ax, styles, group, x, y, **kw):
    first = group[0]
    return ax.plot(x, y, color=styles.color(first), ls=styles.linestyle(first),
                   label=" = ".join(styles.label(lo) for lo in group),
                   **{**styles.extra(first), **kw})


# ----------------------------------------------------------------------------------------------
# The flagship: asymmetry
# ----------------------------------------------------------------------------------------------
_DELTA_DASHES = ("-", (0, (4, 1.5)), (0, (1, 1.2)), (0, (4, 1.5, 1, 1.5)))
_RATIO_TICKS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
_SIGNED_TICKS = (-1000, -300, -100, -30, -10, -3, -1, 0, 1, 3, 10, 30, 100, 300, 1000)


def _thin(ticks, most=6):
    ticks = list(ticks)
    step = 1
    while len(ticks[::step]) > most:
        step += 1
    keep = ticks[::step]
    if 1 in ticks and 1 not in keep:            # R = 1 (symmetric) is the reference
        keep = sorted(set(keep) | {1})
    return keep


@plotting.style()
def asymmetry_figure(losses=ASYMMETRY_LOSSES, targets=(0.1, 0.3, 0.5, 0.7, 0.9),
                     deltas=(0.05, 0.1, 0.2), *, columns: int = 2, n_points: int = 801):
    """The thread's central claim at a glance: the excess loss and the asymmetry ratio.

    One panel per loss shows the excess loss L(y, p) - L(y, y) against p for each target y;
    the last panel shows the asymmetry ratio (:func:`lossanalysis.analysis.asymmetry_ratio`)

        R(y, delta) = [L(y, y + s delta) - L(y, y)] / [L(y, y - s delta) - L(y, y)],
        s = sign(y - 1/2),

    the excess cost of moving a distance delta away from 1/2 over that of moving toward 1/2,
    on a log axis.  R >= 0 by the analysis' rule (each excess is measured from the loss's own
    minimum); an asinh axis is kept for a user loss whose ratio reaches 0.

    Parameters
    ----------
    losses : sequence of str or Loss
        Catalogue names or Loss objects (a user's own from ``Loss.from_expr``, titled and
        labelled with its name); colour and marker tell them apart in the ratio panel.
    targets : sequence of float
        Target intensities in (0, 1) of the excess panels.
    deltas : sequence of float
        Step sizes in (0, 0.5) of the ratio panel (one dash pattern each, at most 4).
    columns : {1, 2}
        Paper width.
    n_points : int
        Points per curve.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = asymmetry_figure(("bce",), targets=(0.3,), deltas=(0.1,), columns=1)
    >>> float(fig.get_size_inches()[0]), len(fig.axes)
    (3.4, 2)
    """
    losses = list(_check_losses(losses))
    styles = _Styles(losses)
    targets = _check_values(targets, "targets", 0, 1, what="target intensities")
    deltas = _check_values(deltas, "deltas", 0, 0.5, what="step sizes")
    if len(deltas) > len(_DELTA_DASHES):
        raise ValueError(f"deltas takes at most {len(_DELTA_DASHES)} values, got {len(deltas)}")
    plotting.check_columns(columns)
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) \
            or n_points < 11:
        raise ValueError(f"n_points must be an integer >= 11, got {n_points!r}")

    fig, axes = _asymmetry_layout(len(losses), columns)
    import matplotlib
    cmap = matplotlib.colormaps["viridis"]
    tcolors = [cmap(0.9 * i / max(len(targets) - 1, 1)) for i in range(len(targets))]
    p = np.linspace(0, 1, n_points)[1:-1]
    for ax, loss in zip(axes, losses):
        _excess_panel(ax, loss, styles.label(loss), targets, tcolors, p)
    colours, marks = _ratio_panel(axes[len(losses)], losses, styles, deltas, n_points)
    _asymmetry_legends(fig, axes[0].get_lines()[::2], losses, styles, colours, marks, targets,
                       deltas, columns)
    return fig


def _asymmetry_layout(n_losses, columns):
    """The figure and its axes: the excess panels fill rows of ``ncols``; the ratio panel (the
    last axes) joins them when all fit in one row, and otherwise spans a row of its own."""
    ncols = 3 if columns == 2 else 2
    own_row = n_losses + 1 > ncols
    rows = -(-n_losses // ncols) if own_row else 1
    row = 1.8 if columns == 2 else 1.7
    fig, _ = plotting.figure(0, 0, columns=columns,
                             height=row * rows + (2.2 if own_row else 0) + 0.8)
    grid = fig.add_gridspec(rows + own_row, ncols,
                            height_ratios=[row] * rows + ([2.2] if own_row else []))
    axes = [fig.add_subplot(grid[i // ncols, i % ncols]) for i in range(n_losses)]
    axes.append(fig.add_subplot(grid[rows, :] if own_row else grid[0, n_losses]))
    return fig, axes


def _excess_panel(ax, loss, title, targets, tcolors, p):
    """The excess loss L(y, p) - L(y, y) of ``loss`` against p, one curve per target, each
    with its minimum marked; the y range covers the curves within 0.5 of their targets."""
    top = 0.0
    for y, c in zip(targets, tcolors):
        excess = np.asarray(loss.excess(np.full_like(p, y), p), dtype=float)
        ax.plot(p, excess, color=c, label=f"y = {y:g}")
        ax.plot([y], [0], "o", color=c, ms=3, zorder=3)
        near = excess[np.abs(p - y) <= 0.5]
        top = max(top, float(np.nanmax(near[np.isfinite(near)], initial=0.0)))
    ax.set_ylim(0, (min(top, 1.0) or 1.0) * 1.05)
    ax.set_xlim(0, 1)
    ax.set_title(title)
    ax.set_xlabel(plotting.axis_label("prediction p", "intensity"))
    ax.set_ylabel(plotting.axis_label("excess", plotting.loss_unit(loss.name)))


def _ratio_panel(ax, losses, styles, deltas, n_points):
    """The asymmetry ratio R(y, delta) of every loss against y, one dash pattern per delta;
    returns each loss's colour and marker (None: the colour alone tells it apart)."""
    from .analysis import asymmetry_ratio

    y = np.linspace(0, 1, n_points)
    ratios = [[np.asarray(asymmetry_ratio(loss, y, d), dtype=float) for d in deltas]
              for loss in losses]
    finite = np.concatenate([r[np.isfinite(r)] for rs in ratios for r in rs] + [np.ones(1)])
    # dashes show delta here, so a loss that shares its colour with another shown loss gets
    # its marker as well
    colours = [styles.color(loss, i) for i, loss in enumerate(losses)]
    marks = [styles.marker(loss) if colours.count(c) > 1 or _is_user(loss) else None
             for loss, c in zip(losses, colours)]
    for i, (c, m, rs) in enumerate(zip(colours, marks, ratios)):
        for j, r in enumerate(rs):
            ax.plot(y, r, color=c, ls=_DELTA_DASHES[j], marker=m, mfc="none", ms=3, mew=0.7,
                    markevery=(int((i * 23 + j * 37) % 60) + 20, 100))
    plotting.guides(ax, x=[0.5], y=[1])
    _ratio_axis(ax, float(finite.min()), float(finite.max()))
    ax.set_xlim(0, 1)
    ax.set_xlabel(plotting.axis_label("target y", "intensity"))
    ax.set_ylabel(plotting.axis_label("R(y, δ)", "ratio"))
    ax.set_title("away from ½ / toward ½")
    return colours, marks


def _ratio_axis(ax, lo, hi):
    """The ratio axis for values in [lo, hi] (1 always shown): logarithmic when every ratio
    is positive, asinh when one reaches 0 (a user's loss); a few round ticks."""
    import matplotlib
    if lo > 0:
        ax.set_yscale("log")
        ticks = [t for t in _RATIO_TICKS if lo / 1.5 <= t <= hi * 1.5]
        ax.set_ylim(min(lo, 1) / 1.3, max(hi, 1) * 1.3)
    else:
        ax.set_yscale("asinh", linear_width=1.0)
        ticks = [t for t in _SIGNED_TICKS if lo * 1.5 - 0.5 <= t <= hi * 1.5 + 0.5]
        ax.set_ylim(lo - 0.3 * (1 + abs(lo)), hi + 0.3 * (1 + abs(hi)))
    ax.set_yticks(_thin(ticks), [f"{t:g}" for t in _thin(ticks)])
    ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def _asymmetry_legends(fig, target_lines, losses, styles, colours, marks, targets, deltas,
                       columns):
    """The two legends outside the panels: the targets' colours above (``target_lines``, one
    curve per target), the ratio panel's losses and deltas below."""
    from matplotlib.lines import Line2D
    per_row = 6 if columns == 2 else 3
    fig.legend(handles=target_lines, loc="outside upper center",
               ncols=min(len(targets), per_row), handlelength=1.5, columnspacing=1.2,
               title="excess loss L(y, p) − L(y, y) for target:", title_fontsize=7,
               alignment="left")
    by_loss = [Line2D([], [], color=c, marker=m, mfc="none", ms=3, mew=0.7,
                      label=styles.label(loss))
               for loss, c, m in zip(losses, colours, marks)]
    by_delta = [Line2D([], [], color="0.3", ls=_DELTA_DASHES[j], label=f"δ = {d:g}")
                for j, d in enumerate(deltas)]
    handles = by_loss + by_delta
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), per_row),
               handlelength=2.2, columnspacing=1.2, title="asymmetry ratio R:", title_fontsize=7,
               alignment="left")


# ----------------------------------------------------------------------------------------------
# Bias
# ----------------------------------------------------------------------------------------------
def _noise_panel(ax, styles, losses, sigmas, space):
    from .analysis import bias, max_prob_noise, noise_bias

    curves, marks = [], {}
    base = np.linspace(0.005, 0.995, 199) if space == "prob" else np.linspace(0.01, 0.99, 161)
    for loss in losses:
        y = base
        if space == "prob":     # where the larger sigma keeps the noisy prediction in (0, 1)
            y = base[np.asarray(max_prob_noise(loss, base, nodes=PROB_NOISE_NODES)) > max(sigmas)]
            if y.size < 2:
                continue
        kw = {"nodes": PROB_NOISE_NODES} if space == "prob" else {}
        b0 = np.asarray(bias(loss, y), dtype=float)
        s0, s1 = sigmas
        curves.append((loss, y, (np.asarray(noise_bias(loss, y, s0, space, **kw)) - b0) / s0**2))
        ys = y[len(y) % 16 // 2::16] if y.size >= 16 else y
        marks[loss] = (ys, (np.asarray(noise_bias(loss, ys, s1, space, **kw))
                            - np.asarray(bias(loss, ys))) / s1**2)
    for group, y, v in _merge_identical(curves):
        line, = _loss_line(ax, styles, group, y, v)
        ys, vs = marks[group[0]]
        ax.plot(ys, vs, "o", ms=2.5, mfc="none", mew=0.7, color=line.get_color())
    plotting.guides(ax, x=[0.5], y=[0])


@plotting.style()
def bias_figure(losses=BIAS_LOSSES, sigma_prob=(0.01, 0.03), sigma_logit=(0.25, 1.0), *,
                columns: int = 2):
    """Where each loss puts its optimal prediction, against the target intensity y.

    (a) the point-target bias argmin_p L(y, p) - y of every catalogue loss (the proper ones,
        zero, as one band) and the mean of the continuous Bernoulli at its minimizer;
    (b) the bias from irreducible prediction noise, (E[p] - p*)/sigma^2, for noise in
        probability space, p = p* + c + sigma e (e: the 10-point Gauss-Hermite noise), at two
        sigmas (line: the first, circles: the second);
    (c) the same for noise in the logit, z = logit y + c + sigma e, p = sigmoid(z).

    Parameters
    ----------
    losses : sequence of str or Loss
        The losses of panels (b) and (c): catalogue names or Loss objects (a user's own is
        also drawn in panel (a) unless it is proper); panel (a) shows the whole catalogue.
    sigma_prob : pair of float
        Probability-space noise levels, each below
        :func:`lossanalysis.analysis.max_prob_noise` at y = 1/2 (0.1029), so that some targets
        keep the noisy prediction in (0, 1); each loss is drawn where ``max_prob_noise``
        exceeds the larger one.
    sigma_logit : pair of float
        Logit-space noise levels in (0, 3].
    columns : {1, 2}
        Paper width (panels side by side, or stacked).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = bias_figure(("mse", "bce"), columns=1)
    >>> float(fig.get_size_inches()[0])
    3.4
    """
    from .analysis import argmin, bias, is_proper, max_prob_noise
    from .losses import continuous_bernoulli_mean

    losses = _check_losses(losses)
    catalogue = [get_loss(n) for n in LOSSES]
    styles = _Styles(list(losses) + catalogue)
    widest = float(max_prob_noise("mse", 0.5, nodes=PROB_NOISE_NODES))
    sigma_prob = _check_values(sigma_prob, "sigma_prob", 0, widest, count=2,
                               what="probability-space noise")
    sigma_logit = _check_values(sigma_logit, "sigma_logit", 0, _LOGIT_SIGMA_MAX, count=2,
                                what="logit-space noise", open_hi=False)
    plotting.check_columns(columns)

    fig, subs, axes = plotting.panels(3, columns=columns, height=3.2 if columns == 2 else 2.5)

    ax = axes[0]
    y = np.linspace(0.002, 0.998, 499)
    proper = [n for n in LOSSES if is_proper(n).proper]
    ax.axhline(0, color="0.82", lw=3.5, zorder=1,
                      label=f"{len(proper)} proper losses (0)")
    drawn = [lo for lo in catalogue if lo.name not in proper]
    drawn += [lo for lo in losses if _is_user(lo) and not is_proper(lo).proper]
    for loss in drawn:
        _loss_line(ax, styles, [loss], y, np.asarray(bias(loss, y), dtype=float), zorder=2)
        if loss.name == "continuous_bernoulli":
            mean = continuous_bernoulli_mean(np.asarray(argmin(loss, y))) - y
            ax.plot(y, mean, color=styles.color(loss), ls=(0, (1, 1.5)), lw=1.3, zorder=3,
                    label="continuous Bernoulli: mean at p*")
    ax.set_xlim(0, 1)
    ax.set_xlabel(plotting.axis_label("target y", "intensity"))
    ax.set_ylabel(plotting.axis_label("bias p* − y", "intensity"))
    ax.set_title("(a) minimizer of L(y, p)")

    for ax, space, sigmas, title, unit in (
            (axes[1], "prob", sigma_prob, "(b) noise in p", "1/intensity"),
            (axes[2], "logit", sigma_logit, "(c) noise in the logit z", "intensity/logit²")):
        _noise_panel(ax, styles, losses, sigmas, space)
        ax.set_xlim(0, 1)
        ax.set_xlabel(plotting.axis_label("target y", "intensity"))
        ax.set_ylabel(plotting.axis_label("(E[p] − p*) / σ²", unit))
        ax.set_title(f"{title}\nσ = {sigmas[0]:g} (lines), {sigmas[1]:g} (○)")
    for sub in subs:
        plotting.panel_legend(sub)
    return fig


# ----------------------------------------------------------------------------------------------
# Gradients
# ----------------------------------------------------------------------------------------------
@plotting.style()
def gradient_figure(losses=GRADIENT_LOSSES, target: float = 0.9, *, columns: int = 2):
    """What the network is told to do: gradients in p and in the logit, curvature at the target.

    (a) dL/dp against the prediction p for the target y (:func:`~lossanalysis.analysis.
        gradient_profile`);
    (b) dL/dz against the logit z of a sigmoid output p = sigmoid(z) (:func:`~lossanalysis.
        analysis.logit_gradient`): BCE's p - y (canonical link) keeps pulling a saturated wrong
        output, MSE's 2 (p - y) p (1 - p) vanishes there;
    (c) the effective weight L_pp(y, y) / L_pp^MSE(y, y) against y for the proper losses among
        ``losses`` whose curvature at the target is positive
        (:func:`~lossanalysis.analysis.effective_weight`; BCE: 1/(2 y (1 - y)), 2 at y = 1/2).

    Parameters
    ----------
    losses : sequence of str or Loss
        Catalogue names or Loss objects (a user's own from ``Loss.from_expr``).
    target : float
        The target intensity y of panels (a) and (b), in (0, 1).
    columns : {1, 2}
        Paper width (panels side by side, or stacked).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = gradient_figure(("mse", "bce"), target=0.5, columns=1)
    >>> float(fig.get_size_inches()[0])
    3.4
    """
    from .analysis import effective_weight, gradient_profile, is_proper, logit_gradient

    losses = _check_losses(losses)
    styles = _Styles(losses)
    (y0,) = _check_values(target, "target", 0, 1, count=1, what="target intensity")
    plotting.check_columns(columns)
    fig, subs, axes = plotting.panels(3, columns=columns, height=3.0 if columns == 2 else 2.4)

    ax = axes[0]
    p = np.linspace(0.002, 0.998, 997)
    curves = [(lo, p, np.asarray(gradient_profile(lo, y0, p), dtype=float)) for lo in losses]
    for group, x, g in _merge_identical(curves):
        _loss_line(ax, styles, group, x, g)
    plotting.guides(ax, x=[y0], y=[0])
    ax.set_ylim(-6, 6)
    ax.set_xlim(0, 1)
    ax.set_xlabel(plotting.axis_label("prediction p", "intensity"))
    ax.set_ylabel(plotting.axis_label("∂L/∂p", "loss/intensity"))
    ax.set_title(f"(a) gradient in p, y = {y0:g}")

    ax = axes[1]
    z = np.linspace(-10, 10, 801)
    curves = [(lo, z, np.asarray(logit_gradient(lo, y0, z), dtype=float)) for lo in losses]
    for group, x, g in _merge_identical(curves):
        _loss_line(ax, styles, group, x, g)
    plotting.guides(ax, x=[float(logit(y0))], y=[0])
    ax.set_ylim(-1.6, 1.6)
    ax.set_xlim(z[0], z[-1])
    ax.set_xlabel(plotting.axis_label("output logit z, p = σ(z)", "logit"))
    ax.set_ylabel(plotting.axis_label("∂L/∂z", "loss/logit"))
    ax.set_title(f"(b) gradient in the logit, y = {y0:g}")
    if any(lo.name == "mse" for lo in losses):
        # the far side from the target: the sigmoid saturated on the wrong side
        side = -1 if y0 >= 0.5 else 1
        ax.annotate("saturated and wrong:\nMSE's gradient vanishes", xy=(7 * side, 0),
                    xytext=(9.6 * side, 1.45 * -side), fontsize=6, color="0.3",
                    ha="left" if side < 0 else "right", va="bottom" if side > 0 else "top",
                    arrowprops=dict(arrowstyle="-", color="0.5", lw=0.5))

    ax = axes[2]
    y = np.linspace(0.01, 0.99, 393)
    curves = []
    for loss in losses:
        if not is_proper(loss).proper:
            continue      # an improper loss's curvature at p = y is not taken at its optimum
        w = np.asarray(effective_weight(loss, y), dtype=float)
        if np.all(np.isfinite(w) & (w > 0)):       # MAE: 0, its curvature sits in the kink
            curves.append((loss, y, w))
    drawn = _merge_identical(curves)
    for group, x, w in drawn:
        _loss_line(ax, styles, group, x, w)
    if any(lo.name == "bce" for group, _, _ in drawn for lo in group):
        half = float(effective_weight("bce", 0.5))
        ax.plot([0.5], [half], "o", ms=3, color=plotting.color("bce"))
        ax.annotate(f"BCE: {half:g} × MSE at y = ½", xy=(0.5, half), xytext=(0.5, half * 2.2),
                    ha="center", va="bottom", fontsize=6, color="0.3",
                    arrowprops=dict(arrowstyle="-", color="0.5", lw=0.5))
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    if drawn:
        values = np.concatenate([w for _, _, w in drawn])
        ax.set_ylim(min(values.min(), 0.5) / 4, values.max() * 2)
    ax.set_xlabel(plotting.axis_label("target y", "intensity"))
    ax.set_ylabel(plotting.axis_label(r"$L_{pp}(y, y)\,/\,L_{pp}^{\mathrm{MSE}}$", "ratio"))
    ax.set_title("(c) curvature at the target vs MSE")
    for sub in subs:
        plotting.panel_legend(sub)
    return fig


# ----------------------------------------------------------------------------------------------
# The command line the figure scripts share
# ----------------------------------------------------------------------------------------------
def loss_names(text: str) -> tuple:
    """argparse type: comma-separated catalogue loss names.

    Examples
    --------
    >>> loss_names("mse, bce")
    ('mse', 'bce')
    """
    names = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
    try:
        _check_losses(names, "loss names")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return names


_NAMED = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_ .+-]{0,39}?)\s*=(?!=)(.*)", re.S)


def loss_expr(text: str):
    """argparse type: a loss of your own, ``EXPR`` or ``NAME=EXPR``, read by the safe parser
    (:func:`lossanalysis.expressions.parse`: nothing is evaluated) into a
    :meth:`~lossanalysis.Loss.from_expr` loss named NAME (default: the expression itself).

    Examples
    --------
    >>> loss_expr("quartic=(p - y)**4")
    Loss.from_expr('(p - y)**4', name='quartic')
    >>> loss_expr("__import__('os')")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expr: calling __import__ is not allowed (column 1); allowed ...
    """
    m = _NAMED.fullmatch(text)
    name, expr = (m.group(1).strip(), m.group(2)) if m else (None, text)
    if name is None:
        name = " ".join(expr.split())[:60] or "custom"
    try:
        return Loss.from_expr(expr, name=name)
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def selected_losses(args) -> tuple:
    """The losses a figure script draws: ``--losses`` and then every ``--loss-expr``."""
    return tuple(args.losses) + tuple(getattr(args, "loss_expr", None) or ())


def _formats(text: str) -> tuple:
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    if not formats or any(f not in plotting.FORMATS for f in formats):
        raise argparse.ArgumentTypeError(
            f"takes one or more of {', '.join(plotting.FORMATS)} (comma-separated), "
            f"got {text!r}")
    return formats


def parser(description: str, name: str, *, losses=None) -> argparse.ArgumentParser:
    """The argument parser of a figure script: ``--out``, ``--name``, ``--format``,
    ``--columns`` and, when the figure draws losses (``losses``: their default), ``--losses``
    (:func:`add_arguments`); its errors are one line.

    Examples
    --------
    >>> ap = parser("demo", "demo", losses=("mse",))
    >>> args = ap.parse_args(["--columns", "1", "--format", "png,svg"])
    >>> args.columns, args.format, args.losses, args.out
    (1, ('png', 'svg'), ('mse',), 'out')
    """
    from ._cli import OneLineParser

    ap = OneLineParser(description=description,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap, name, losses=losses)
    return ap


def add_arguments(ap, name: str, *, losses=None) -> None:
    """Add the options every figure command shares to ``ap`` (see :func:`parser`)."""
    from ._cli import add_columns_argument

    ap.add_argument("--out", default="out",
                    help="output folder (default: out; the committed figures/ is written only "
                         "with --force)")
    ap.add_argument("--force", action="store_true",
                    help="overwrite a committed figure (in the checkout's figures/)")
    ap.add_argument("--name", default=name, help=f"file name stem (default: {name})")
    ap.add_argument("--format", type=_formats, default=("pdf", "png"),
                    help="comma-separated formats: pdf, png, svg (default: pdf,png)")
    add_columns_argument(ap)
    if losses is not None:
        ap.add_argument("--losses", type=loss_names, default=tuple(losses),
                        help=f"comma-separated catalogue losses (default: {','.join(losses)}; "
                             f"choose from {', '.join(LOSSES)})")
        ap.add_argument("--loss-expr", type=loss_expr, action="append", default=[],
                        metavar="[NAME=]EXPR",
                        help="a loss of your own, drawn after --losses (repeatable): an "
                             "expression in y and p such as 'quartic=(p - y)**4', read by the "
                             "safe parser (numbers, y, p, + - * / **, log, exp, sqrt, Abs, Min, "
                             "Max, sigmoid, softplus, Piecewise, ...; nothing is evaluated)")


def _check_out(ap, args):
    if not args.name or args.name in (".", "..") or "/" in args.name or os.sep in args.name:
        ap.error(f"--name must be a file name stem without folders, got {args.name!r}")
    try:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        ap.error(f"--out: cannot make the folder {str(args.out)!r}: {err.strerror or err}")


def _name_option(message: str, args) -> str:
    """A library message starts with the parameter it is about; name the option instead."""
    for dest in sorted(vars(args), key=len, reverse=True):
        if message.startswith(dest) and not message[len(dest):len(dest) + 1].isalnum():
            return "--" + dest.replace("_", "-") + message[len(dest):]
    return message


def run(ap: argparse.ArgumentParser, args, draw) -> int:
    """Check ``--out``, draw (``draw()`` returns the figure), save; print the paths.

    A bad value found while drawing (ValueError) or an unwritable output folder (OSError) ends
    in ``ap.error`` -- one line naming the argument, exit status 2 -- not a traceback.

    Returns
    -------
    int
        0 on success.
    """
    _check_out(ap, args)
    try:
        _io.refuse_overwrite([Path(args.out) / f"{args.name}.{fmt}" for fmt in args.format],
                             force=args.force)
    except FileExistsError as err:
        ap.error(str(err))
    try:
        fig = draw()
    except ValueError as err:
        ap.error(_name_option(str(err), args))
    try:
        paths = plotting.save(fig, Path(args.out) / args.name, args.format)
    except OSError as err:
        ap.error(f"--out: cannot write the figure to {str(args.out)!r}: "
                 f"{err.strerror or err}")
    for path in paths:
        print(path)
    return 0
