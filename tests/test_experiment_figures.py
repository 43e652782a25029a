"""The experiments' figures, drawn once each from the shared session run (``experiment_run``
in conftest.py: the real MNIST, tiny networks): exact paper widths (in the figure and in the
saved PDF's MediaBox), no legend over data, no text over other text or off the page, the one
vocabulary (display names, units, seeds), and identical bytes when regenerated.

E7 compares two datasets; the session run measures one, so E7's figure is drawn from a
comparison of that run with itself (every ratio 1): a test of the drawing, not of the data.
"""
import re
import struct
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from lossanalysis import plotting
from lossanalysis.experiments import EXPERIMENTS, figures, module
from lossanalysis.experiments.core import file_stem

#: Experiments whose figures this module checks.
CHECKED = ("E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8")
WIDTHS = tuple(plotting.COLUMN_WIDTH.values())


def _states(run):
    return {s.label: s for s in run["run"]["states"]}


def _e7_measured(run):
    """E7's measurement of the session run against itself: both datasets' slots hold MNIST."""
    state = _states(run)["E7"]
    doc = run["json"]
    ran = set(doc["run"]["seeds_by_experiment"])
    context = {"observations": {ds: doc["observations"] for ds in ("mnist", "fashion-mnist")},
               "summaries": {ds: doc["summary"] for ds in ("mnist", "fashion-mnist")},
               "sources": {"mnist": "this run", "fashion-mnist": "this run"},
               "experiments": {"mnist": ran, "fashion-mnist": ran}}
    return state.mod.measure(state.cfg, state.prep, state.seeds, {}, context)


@pytest.fixture(scope="module")
def drawn(experiment_run):
    """{label: figure}, each drawn once."""
    out = {}
    for label in CHECKED:
        st = _states(experiment_run)[label]
        measured = _e7_measured(experiment_run) if label == "E7" else st.measured
        out[label] = st.mod.figure(st.cfg, st.prep, measured)
    return out


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


def test_text_collisions_finds_overlapping_and_clipped_text():
    fig, ax = plotting.figure()
    with plotting.style():
        ax.set_title("a title")
        ax.text(0.5, 1.02, "over the title", transform=ax.transAxes, ha="center")
        ax.set_xlabel("a label much wider than the narrow axes of a one-column figure [intensity]")
    found = text_collisions(fig)
    assert ("'a title'", "'over the title'") in found or ("'over the title'", "'a title'") in found
    assert any(other == "page edge" and "much wider" in name for name, other in found)
    fig, ax = plotting.figure()
    with plotting.style():
        ax.set_title("a title")
        ax.set_xlabel(plotting.axis_label("x", "intensity"))
    assert text_collisions(fig) == []


# ----------------------------------------------------------------------------------- the tests
def test_every_experiment_with_a_figure_is_checked_or_owned_elsewhere(experiment_run):
    labels = {label for label, _ in EXPERIMENTS}
    assert set(CHECKED) == labels


@pytest.mark.parametrize("label", CHECKED)
def test_figure_is_a_paper_width(drawn, label):
    assert float(drawn[label].get_size_inches()[0]) in WIDTHS


@pytest.mark.parametrize("label", CHECKED)
def test_no_legend_covers_data(drawn, label):
    assert plotting.legend_overlaps(drawn[label]) == []


@pytest.mark.parametrize("label", CHECKED)
def test_no_text_covers_text_or_leaves_the_page(drawn, label):
    assert text_collisions(drawn[label]) == []


_NUMERIC = re.compile(r"^[−\-+]?[\d.]+([eE][−\-+]?\d+)?$|^\$.*10\^")


def _numeric_axis(axis):
    labels = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
    return bool(labels) and all(_NUMERIC.search(s) for s in labels)


@pytest.mark.parametrize("label", CHECKED)
def test_one_vocabulary(drawn, label):
    """Display names, units from plotting.UNITS on every numeric axis, no Python lists."""
    fig = drawn[label]
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_visible()]
    joined = "\n".join(texts)
    assert "mnist" not in joined.replace("MNIST", ""), "dataset keys instead of titles"
    assert not re.search(r"\[\d+(, \d+)+\]", joined), "a Python list in a text"
    for word in ("dimensionless", "0 to 1", "bernoulli", "gaussian", "_"):
        assert not any(word in t and "$" not in t for t in texts), word
    sup = getattr(fig, "_suptitle", None)
    assert sup is not None and sup.get_text().startswith(label + " ")
    with plotting.style():
        fig.draw_without_rendering()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_visible() and _numeric_axis(axis):
                unit = re.search(r"\[([^\[\]]+)\]$", axis.label.get_text())
                assert unit and unit.group(1) in plotting.UNITS, (ax.get_title(),
                                                                  axis.label.get_text())


@pytest.mark.parametrize("label", [lb for lb in CHECKED if lb != "E7"])
def test_saved_pdf_and_png_are_a_paper_width(experiment_run, label):
    """The files the session run wrote: MediaBox in points, PNG pixels at plotting.DPI."""
    stem = experiment_run["figures"] / f"mnist_{module(label).__name__.rsplit('.', 1)[1]}"
    pdf = Path(f"{stem}.pdf").read_bytes()
    box = re.search(rb"/MediaBox \[ 0 0 ([0-9.]+) ([0-9.]+) \]", pdf)
    assert round(float(box.group(1)) / 72, 6) in WIDTHS
    png = Path(f"{stem}.png").read_bytes()
    width = struct.unpack(">I", png[16:20])[0]
    assert width in tuple(round(w * plotting.DPI) for w in WIDTHS)


def test_regenerated_figure_has_the_same_bytes(experiment_run, tmp_path):
    """E3's figure, drawn afresh and saved once, is byte for byte the file the run wrote."""
    st = _states(experiment_run)["E3"]
    name = f"{file_stem('mnist')}_{st.mod.__name__.rsplit('.', 1)[1]}"
    paths = plotting.save(st.mod.figure(st.cfg, st.prep, st.measured), tmp_path / name)
    for path in paths:
        same = path.read_bytes() == (experiment_run["figures"] / path.name).read_bytes()
        assert same, path.name


def test_e7_draws_nothing_without_both_datasets(experiment_run):
    st = _states(experiment_run)["E7"]
    assert st.mod.figure(st.cfg, st.prep, st.measured) is None
    assert not list(experiment_run["figures"].glob("mnist_e7_*"))


# ------------------------------------------------------------------------ the shared helpers
def test_title_uses_display_names_and_wraps_a_long_note():
    fig, _ = plotting.figure(columns=1)
    sup = figures.title(fig, "E9", "fashion-mnist", "a long description of the figure",
                        figures.seeds_note(range(3, 9)))
    assert sup.get_text() == "E9 Fashion-MNIST: a long description of the figure\n(seeds 3–8)"
    assert text_collisions(fig) == []


def test_bad_helper_input_is_a_one_line_error():
    with pytest.raises(ValueError, match="seeds"):
        figures.seeds_note([])
    fig, ax = plotting.figure()
    with pytest.raises(ValueError, match="labels"):
        figures.image_rows(ax, [np.zeros((1, 4))], ["a", "b"], side=2)
