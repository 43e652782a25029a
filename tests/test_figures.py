"""The analysis figures and their scripts: exact sizes, no legend over data, identical bytes
when regenerated, data from the library, and one-line command-line errors.

The scripts are run in-process (``main(argv)``); one end-to-end subprocess run of the flagship,
as the CI and the README run it, checks the whole path and the bytes in a fresh interpreter.
"""
import importlib.util
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import figcheck

from lossanalysis import LOSSES, analysis, figures, plotting
from lossanalysis.experiments import figures as experiment_figures

ROOT = Path(__file__).resolve().parents[1]
FIGURES = {"asymmetry": figures.asymmetry_figure, "bias": figures.bias_figure,
           "gradients": figures.gradient_figure}
SCRIPTS = {"asymmetry": "asymmetry_plot", "bias": "bias_plot", "gradients": "gradient_plot"}


def _script(name):
    spec = importlib.util.spec_from_file_location(f"_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _saved(fig, folder, stem):
    return {p.suffix[1:]: p.read_bytes() for p in plotting.save(fig, folder / stem)}


def _pdf_width_in(data):
    """The page width in inches, from the MediaBox (written in points to 0.001 pt)."""
    box = re.search(rb"/MediaBox \[ 0 0 ([0-9.]+) ([0-9.]+) \]", data)
    return round(float(box.group(1)) / 72, 6)


def _png_size(data):
    width, height = struct.unpack(">II", data[16:24])
    phys = data.index(b"pHYs")
    ppm_x, ppm_y, unit = struct.unpack(">IIB", data[phys + 4:phys + 13])
    return width, height, ppm_x, unit


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """Each analysis figure drawn twice with its defaults, in this process: {name: (files of
    the first drawing, files of the second, the first figure)}."""
    out, result = tmp_path_factory.mktemp("defaults"), {}
    for name, draw in FIGURES.items():
        figs = [draw() for _ in range(2)]
        result[name] = (*(_saved(f, out / str(k), name) for k, f in enumerate(figs)), figs[0])
    return result


@pytest.fixture(scope="module")
def defaults(drawn):
    """{name: [files of the first drawing, files of the second]}."""
    return {name: [first, second] for name, (first, second, _) in drawn.items()}


@pytest.mark.parametrize("name", FIGURES)
def test_regenerating_in_one_process_gives_identical_bytes(defaults, name):
    first, second = defaults[name]
    for fmt in ("pdf", "png"):
        same = first[fmt] == second[fmt]         # never let pytest diff two figures' bytes
        assert same, f"{name}.{fmt}"


VARIANTS = [
    ("asymmetry", dict(columns=1)),
    ("asymmetry", dict(losses=LOSSES)),
    ("asymmetry", dict(losses=LOSSES, columns=1)),
    ("asymmetry", dict(losses=("continuous_bernoulli", "focal"), deltas=(0.05, 0.1, 0.2, 0.3))),
    ("bias", dict(columns=1)),
    ("bias", dict(losses=LOSSES, sigma_prob=(0.002, 0.09), sigma_logit=(0.5, 3.0))),
    ("gradients", dict(target=0.5)),
    ("gradients", dict(target=0.5, columns=1)),
    ("gradients", dict(losses=LOSSES, target=0.05)),
]


@pytest.fixture(scope="module")
def variants():
    return [(name, kw, FIGURES[name](**kw)) for name, kw in VARIANTS]


def test_no_legend_covers_anything(drawn, variants):
    for name, (_, _, fig) in drawn.items():
        assert plotting.legend_overlaps(fig) == [], name
    for name, kw, fig in variants:
        assert plotting.legend_overlaps(fig) == [], (name, kw)


def test_exact_column_widths_in_pdf_and_png(defaults, variants, tmp_path):
    for name, (files, _) in defaults.items():
        assert _pdf_width_in(files["pdf"]) == 7.0, name
        width, height, ppm, unit = _png_size(files["png"])
        assert (width, unit) == (2100, 1) and round(ppm * 0.0254) == plotting.DPI, name
    # a saved PDF and PNG once per figure kind and column width (the files are the figure's
    # own size: plotting.save never crops); every other variant by the size it is drawn at
    saved = set()
    for i, (name, kw, fig) in enumerate(variants):
        inches = plotting.COLUMN_WIDTH[kw.get("columns", 2)]
        assert float(fig.get_size_inches()[0]) == inches, (name, kw)
        if (name, inches) in saved:
            continue
        saved.add((name, inches))
        files = _saved(fig, tmp_path, f"v{i}")
        assert _pdf_width_in(files["pdf"]) == inches, (name, kw)
        assert _png_size(files["png"])[0] == round(inches * plotting.DPI), (name, kw)
    assert len(saved) == 6              # each figure at 1 and at 2 columns


def test_committed_figures_are_what_the_code_draws(defaults):
    """By what they draw (figcheck): bytes differ between CPUs and font subsetters."""
    for name, (files, _) in defaults.items():
        committed = {fmt: (ROOT / "figures" / f"{name}.{fmt}").read_bytes() for fmt in files}
        diff = figcheck.figure_difference(files, committed)
        assert diff is None, \
            f"figures/{name}: {diff}; regenerate it (python scripts/{SCRIPTS[name]}.py " \
            "--out figures --force)"


def test_the_comparison_sees_a_moved_curve(defaults, tmp_path):
    """The content comparison fails for a real change: one target moved from 0.1 to 0.11."""
    moved = _saved(figures.asymmetry_figure(targets=(0.11, 0.3, 0.5, 0.7, 0.9)), tmp_path, "m")
    original = defaults["asymmetry"][0]
    assert figcheck.pdf_difference(moved["pdf"], original["pdf"]) is not None
    assert figcheck.png_rms(moved["png"], original["png"]) > figcheck.PNG_RMS
    assert figcheck.figure_difference(original, dict(original)) is None


def test_flagship_end_to_end_in_a_fresh_interpreter(defaults, tmp_path):
    """What the CI runs; on one machine the bytes equal those drawn in this process."""
    res = subprocess.run([sys.executable, "scripts/asymmetry_plot.py", "--out", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["asymmetry.pdf", "asymmetry.png"]
    for fmt in ("pdf", "png"):
        same = (tmp_path / f"asymmetry.{fmt}").read_bytes() == defaults["asymmetry"][0][fmt]
        assert same, fmt


def test_the_default_output_is_not_a_committed_folder(tmp_path, monkeypatch, capsys):
    """The quick start leaves a clone clean; the committed figures are rewritten on request."""
    monkeypatch.chdir(tmp_path)
    assert _script("gradient_plot").main(["--format", "svg", "--columns", "1"]) == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["gradients.svg"]
    with pytest.raises(SystemExit) as stop:
        _script("asymmetry_plot").main(["--out", str(ROOT / "figures")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "committed result; pass --force" in err


# ----------------------------------------------------------------------------------------------
# What is drawn
# ----------------------------------------------------------------------------------------------
def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()
            if not line.get_label().startswith("_")}


def test_asymmetry_ratio_panel_draws_the_library_ratio():
    fig = figures.asymmetry_figure(losses=("bce", "continuous_bernoulli"), targets=(0.3,),
                                   deltas=(0.1,))
    ratio_ax = fig.axes[-1]
    data = [line.get_data() for line in ratio_ax.get_lines() if line.get_gid() is None]
    np.testing.assert_array_equal(data[0][1], analysis.asymmetry_ratio("bce", data[0][0], 0.1))
    r = analysis.asymmetry_ratio("continuous_bernoulli", data[1][0], 0.1)
    np.testing.assert_array_equal(data[1][1], r)
    # the ratio is measured from the loss's own minimum (analysis.asymmetry_ratio): >= 0, on a
    # log axis while > 0, and every value stays on the axis
    assert np.nanmin(r) >= 0
    assert ratio_ax.get_yscale() == ("log" if np.nanmin(r) > 0 else "asinh")
    assert ratio_ax.get_ylim()[0] <= np.nanmin(r)


def test_bias_panels_draw_the_library_numbers():
    fig = figures.bias_figure(losses=("bce", "mse"))
    lines_b = _lines(fig.axes[1])
    y, v = lines_b["BCE"].get_data()
    expected = (np.asarray(analysis.noise_bias("bce", y, 0.01, "prob", nodes=10))
                - np.asarray(analysis.bias("bce", y))) / 0.01 ** 2
    np.testing.assert_array_equal(v, expected)
    # the larger sigma keeps every node inside (0, 1) at every drawn target
    assert np.all(np.asarray(analysis.max_prob_noise("bce", y, nodes=10)) > 0.03)
    cb = _lines(fig.axes[0])["continuous Bernoulli: mean at p*"]
    assert cb.get_zorder() > 1                        # above the band of the proper losses


def test_gradient_figure_merges_identical_curves_and_draws_library_numbers():
    fig = figures.gradient_figure(target=0.5)
    panel_c = _lines(fig.axes[2])
    assert "BCE = KL = reverse KL" in panel_c
    y, w = panel_c["BCE = KL = reverse KL"].get_data()
    for name in ("bce", "kl", "reverse_kl"):
        np.testing.assert_allclose(analysis.effective_weight(name, y), w, rtol=1e-9)
    top = max(float(np.max(line.get_ydata())) for line in panel_c.values())
    assert fig.axes[2].get_ylim()[1] <= 3 * top       # no empty decades above the data
    z, g = _lines(fig.axes[1])["MSE"].get_data()
    np.testing.assert_array_equal(g, analysis.logit_gradient("mse", 0.5, z))


def test_figure_functions_reject_bad_arguments():
    with pytest.raises(ValueError, match="losses: unknown loss 'nope'"):
        figures.asymmetry_figure(losses=("mse", "nope"))
    with pytest.raises(ValueError, match=r"sigma_prob \(probability-space noise\) must lie"):
        figures.bias_figure(sigma_prob=(0.001, 0.2))
    with pytest.raises(ValueError, match="sigma_logit takes 2 values"):
        figures.bias_figure(sigma_logit=(0.5,))
    with pytest.raises(ValueError, match="target"):
        figures.gradient_figure(target=1.0)
    with pytest.raises(ValueError, match="columns"):
        figures.gradient_figure(columns=3)


# ----------------------------------------------------------------------------------------------
# The scripts, in-process
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("script,args,message", [
    ("asymmetry_plot", ["--out", "/proc/forbidden"], "--out: cannot make the folder"),
    ("asymmetry_plot", ["--losses", "mse,nope"], "unknown loss 'nope'"),
    ("asymmetry_plot", ["--targets", "0.5,1.5"], "--targets (target intensities) must lie in"),
    ("asymmetry_plot", ["--targets", "a,b"], "comma-separated numbers"),
    ("asymmetry_plot", ["--deltas", "0.7"], "--deltas (step sizes) must lie in (0, 0.5)"),
    ("asymmetry_plot", ["--format", "jpeg"], "argument --format"),
    ("asymmetry_plot", ["--columns", "3"], "argument --columns"),
    ("asymmetry_plot", ["--name", "a/b"], "--name"),
    ("bias_plot", ["--sigma-prob", "0.001,0.2"], "--sigma-prob (probability-space noise)"),
    ("bias_plot", ["--sigma-logit", "0.5"], "--sigma-logit takes 2 values"),
    ("bias_plot", ["--sigma-logit", "nan,1"], "finite numbers"),
    ("gradient_plot", ["--target", "1.2"], "--target (target intensity) must lie in (0, 1)"),
    ("gradient_plot", ["--losses", ","], "at least one loss"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, script, args, message):
    argv = args if "--out" in args else ["--out", str(tmp_path / "out"), *args]
    with pytest.raises(SystemExit) as stop:
        _script(script).main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err, err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and ": error: " in lines[-1]
    assert sum(": error: " in line for line in lines) == 1   # the usage, then one line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("script", SCRIPTS.values())
def test_help_names_the_shared_options(capsys, script):
    with pytest.raises(SystemExit) as stop:
        _script(script).main(["--help"])
    out = capsys.readouterr().out
    assert stop.value.code == 0
    assert all(opt in out for opt in ("--out", "--format", "--columns", "--losses"))


def test_scripts_write_what_they_are_asked_for(tmp_path, capsys):
    assert _script("gradient_plot").main(
        ["--out", str(tmp_path), "--name", "g.v2", "--format", "svg,png", "--columns", "1",
         "--losses", "mse,bce", "--target", "0.3"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.v2.png", "g.v2.svg"]
    assert _png_size((tmp_path / "g.v2.png").read_bytes())[0] == 1020
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "g.v2.svg"), str(tmp_path / "g.v2.png")]


# ----------------------------------------------------------------------------------------------
# The checkers of a paper figure, and the helpers experiment figures share
# ----------------------------------------------------------------------------------------------
def test_text_collisions_finds_overlapping_and_clipped_text():
    fig, ax = plotting.figure()
    with plotting.style():
        ax.set_title("a title")
        ax.text(0.5, 1.02, "over the title", transform=ax.transAxes, ha="center")
        ax.set_xlabel("a label much wider than the narrow axes of a one-column figure [intensity]")
    found = figcheck.text_collisions(fig)
    assert ("'a title'", "'over the title'") in found or ("'over the title'", "'a title'") in found
    assert any(other == "page edge" and "much wider" in name for name, other in found)
    fig, ax = plotting.figure()
    with plotting.style():
        ax.set_title("a title")
        ax.set_xlabel(plotting.axis_label("x", "intensity"))
    assert figcheck.text_collisions(fig) == []


def test_the_vocabulary_check_finds_keys_lists_and_missing_units():
    fig, ax = plotting.figure(columns=1)
    with plotting.style():
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("mnist bernoulli [0, 1]")
        ax.set_ylabel("value")
    found = figcheck.vocabulary_problems(fig, "E9")
    assert "dataset keys instead of titles" in found and "the word 'bernoulli'" in found
    assert "no title starting with the label" in found
    assert any(p.startswith("no unit on") for p in found)


def test_title_uses_display_names_and_wraps_a_long_note():
    fig, _ = plotting.figure(columns=1)
    sup = experiment_figures.title(fig, "E9", "fashion-mnist",
                                   "a long description of the figure",
                                   experiment_figures.seeds_note(range(3, 9)))
    assert sup.get_text() == "E9 Fashion-MNIST: a long description of the figure\n(seeds 3–8)"
    assert figcheck.text_collisions(fig) == []


def test_bad_helper_input_is_a_one_line_error():
    with pytest.raises(ValueError, match="seeds"):
        experiment_figures.seeds_note([])
    fig, ax = plotting.figure()
    with pytest.raises(ValueError, match="labels"):
        experiment_figures.image_rows(ax, [np.zeros((1, 4))], ["a", "b"], side=2)
