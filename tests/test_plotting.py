"""The figure style: no leak into the user's settings, exact sizes, safe saving, one vocabulary,
and the legend-overlap checker on figures built to overlap (and not to)."""
import matplotlib
import numpy as np
import pytest

from lossanalysis import LOSSES, plotting


def test_style_does_not_touch_the_global_settings(tmp_path):
    before = dict(matplotlib.rcParams)
    fig, ax = plotting.figure(columns=2)
    with plotting.style():
        ax.plot([0, 1], [0, 1], label="a")
        ax.legend()
    plotting.save(fig, tmp_path / "f")
    plotting.legend_overlaps(fig)
    after = dict(matplotlib.rcParams)
    assert {k for k in before if before[k] != after[k]} == set()


def test_artists_drawn_inside_the_style_get_it():
    fig, ax = plotting.figure()
    with plotting.style():
        line, = ax.plot([0, 1], [0, 1])
        label = ax.set_xlabel("x")
    assert line.get_linewidth() == plotting.STYLE["lines.linewidth"]
    assert label.get_fontsize() == plotting.STYLE["axes.labelsize"]
    assert not ax.spines["top"].get_visible()


def test_figure_checks_its_arguments():
    with pytest.raises(ValueError, match="columns must be 1 or 2"):
        plotting.figure(columns=3)
    with pytest.raises(ValueError, match="columns must be 1 or 2"):
        plotting.figure(columns=True)
    with pytest.raises(ValueError, match="height"):
        plotting.figure(height=-1)
    with pytest.raises(ValueError, match="n must be"):
        plotting.panels(0)


def test_save_keeps_dots_in_the_stem_and_checks_formats_first(tmp_path):
    fig, _ = plotting.figure()
    paths = plotting.save(fig, tmp_path / "comparison.v2", ("pdf", "png"))
    assert [p.name for p in paths] == ["comparison.v2.pdf", "comparison.v2.png"]
    with pytest.raises(ValueError, match="formats: unsupported figure format 'bmp'"):
        plotting.save(fig, tmp_path / "g", ("pdf", "bmp"))
    with pytest.raises(ValueError, match="formats"):
        plotting.save(fig, tmp_path / "g", ())
    # nothing written for a bad request, and no temporary file left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comparison.v2.pdf",
                                                           "comparison.v2.png"]


def test_saved_files_get_umask_permissions(tmp_path):
    import os
    fig, _ = plotting.figure()
    mask = os.umask(0o022)
    os.umask(mask)
    (path,) = plotting.save(fig, tmp_path / "f", "pdf")
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_pdf_embeds_truetype_fonts_no_dates_and_the_numerical_stack(tmp_path):
    fig, ax = plotting.figure()
    with plotting.style():
        ax.set_title("text")
    (pdf,) = plotting.save(fig, tmp_path / "f", "pdf")
    data = pdf.read_bytes()
    assert b"/FontFile2" in data and b"/Type3" not in data
    assert b"/CreationDate" not in data
    assert f"numpy {np.__version__}".encode() in data


def test_every_loss_has_a_distinct_look_and_a_display_name():
    assert len({(plotting.color(n), str(plotting.linestyle(n))) for n in LOSSES}) == len(LOSSES)
    assert len({(plotting.color(n), plotting.marker(n)) for n in LOSSES}) == len(LOSSES)
    assert set(LOSSES) <= set(plotting.DISPLAY_NAMES)
    assert len(set(plotting.DISPLAY_NAMES.values())) == len(plotting.DISPLAY_NAMES)
    assert all(c in plotting.PALETTE for c in map(plotting.color, LOSSES))
    assert plotting.color("user-loss", 3) in plotting.PALETTE


def test_axis_labels_use_the_one_vocabulary():
    assert plotting.axis_label("R", "ratio") == "R [ratio]"
    with pytest.raises(ValueError, match="unit must be one of"):
        plotting.axis_label("y", "dimensionless")
    assert plotting.loss_unit("huber") in plotting.UNITS
    assert plotting.listing([0, 1, 2]) == "0, 1, 2"


# ----------------------------------------------------------------------------------------------
# The legend checker
# ----------------------------------------------------------------------------------------------
def _axes(**legend):
    fig, ax = plotting.figure(columns=1, height=2.4)
    return fig, ax


def _kinds(fig):
    return sorted({o.kind for o in plotting.legend_overlaps(fig)})


@pytest.mark.parametrize("draw,kind", [
    (lambda ax: ax.plot([0, 1], [0.97, 0.97]), "line"),
    # a segment crossing the legend box with both ends outside it
    (lambda ax: ax.plot([-1, 0.6], [1.5, 0.6]), "line"),
    (lambda ax: ax.plot([0.1], [0.95], "o", ls="none"), "marker"),
    (lambda ax: ax.scatter([0.1], [0.95]), "marker"),
    (lambda ax: ax.bar([0.1], [0.95], width=0.1), "patch"),
    (lambda ax: ax.fill_between([0, 1], [0.5, 0.5], [1.2, 1.2]), "collection"),
    (lambda ax: ax.imshow(np.zeros((2, 2)), extent=(0, 1, 0, 1), aspect="auto"), "image"),
    (lambda ax: ax.text(0.02, 0.95, "note", va="top"), "text"),
])
def test_checker_finds_what_a_legend_covers(draw, kind):
    fig, ax = _axes()
    with plotting.style():
        ax.plot([0.5, 1], [0, 0.1], label="a long legend entry")
        draw(ax)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(loc="upper left")
    assert kind in _kinds(fig)


def test_checker_passes_clear_legends_references_and_clipped_data():
    fig, ax = _axes()
    with plotting.style():
        ax.plot([0, 1], [0, 0.2], label="low line")
        ax.plot([0.5, 0.6], [5, 5])                 # outside the view: clipped away
        plotting.guides(ax, y=[0.95], x=[0.1])      # references may cross a legend
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(loc="upper left")
    assert plotting.legend_overlaps(fig) == []


def test_checker_finds_legends_over_legends_labels_and_the_edge():
    fig, subs, axes = plotting.panels(3, columns=2, height=1.8)
    with plotting.style():
        for sub, ax in zip(subs, axes):
            for k in range(5):
                ax.plot([0, 1], [k, k + 1], label=f"a rather long entry {k}")
            sub.legend(loc="outside lower center", ncols=2)
    kinds = _kinds(fig)
    assert "legend" in kinds and "figure edge" in kinds
    # and panel_legend picks the columns so that they fit
    fig, subs, axes = plotting.panels(3, columns=2, height=1.8)
    with plotting.style():
        for sub, ax in zip(subs, axes):
            for k in range(5):
                ax.plot([0, 1], [k, k + 1], label=f"a rather long entry {k}")
            plotting.panel_legend(sub)
    assert plotting.legend_overlaps(fig) == []
