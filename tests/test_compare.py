"""Tests of lossanalysis.nn.compare and lossanalysis.nn.figures: the measures against direct
computations, one initialization for every loss, the figures' sizes, legends and bytes."""

import numpy as np
import pytest

from lossanalysis import plotting
from lossanalysis.nn import AE, VAE
from lossanalysis.nn.compare import (compare_losses, comparison_figure, format_comparison,
                                     intensity_errors, sharpness)
from lossanalysis.nn.figures import image_strip, reconstruction_figure


def _images(n, side=4, seed=0):
    x = np.random.default_rng(seed).random((n, side * side), dtype=np.float32)
    x[x < 0.5] = 0
    x[x > 0.9] = 1
    return x


@pytest.fixture(scope="module")
def result():
    x = _images(96)
    return compare_losses(["mse", "bce", "mae"], x[:64], x[64:], layers=(16, 8, 4), epochs=2,
                          batch_size=16, quiet=True, bins=4, n_show=5)


def test_intensity_errors_match_a_direct_loop():
    rng = np.random.default_rng(1)
    y = np.concatenate([np.zeros(50), np.ones(30), rng.random(200)])
    p = np.clip(y + rng.normal(0, 0.2, y.size), 0, 1)
    e = intensity_errors(y, p, bins=5)
    for b in range(5):
        lo, hi = b / 5, (b + 1) / 5
        inside = (y >= lo) & ((y < hi) if b < 4 else (y <= hi))
        assert e["count"][b] == inside.sum()
        assert e["signed"][b] == pytest.approx(np.mean(p[inside] - y[inside]), rel=1e-12)
        assert e["absolute"][b] == pytest.approx(np.mean(np.abs(p[inside] - y[inside])), rel=1e-12)
    assert np.isnan(intensity_errors([0.0], [0.5], bins=2)["signed"][1])   # an empty bin
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        intensity_errors(y, p, bins=0)
    with pytest.raises(ValueError, match="same size"):
        intensity_errors(y, p[:-1])


def test_sharpness_is_the_mean_gradient_magnitude():
    flat = np.full((2, 9), 0.3)
    assert sharpness(flat) == 0.0
    ramp = np.tile(np.arange(3.0) / 2, 3)[None, :]       # 3x3, rises by 1/2 to the right
    assert sharpness(ramp) == pytest.approx(0.5)
    checker = np.array([[0.0, 1.0, 1.0, 0.0]])           # 2x2: dx = 1, dy = 1 at the corner
    assert sharpness(checker) == pytest.approx(np.sqrt(2))
    with pytest.raises(ValueError, match="not square"):
        sharpness(np.zeros((1, 10)))


def test_every_loss_starts_from_the_same_weights_and_data_order(monkeypatch):
    from lossanalysis.nn import compare, train

    x = _images(48, seed=2)
    built = {}
    real = compare._build

    def build(model, layers, name, seed):
        built[name] = real(model, layers, name, seed)
        return built[name]

    monkeypatch.setattr(compare, "_build", build)
    r = compare_losses(["mse", "bce"], x[:32], x[32:], layers=(16, 6, 3), epochs=1,
                       batch_size=8, quiet=True)
    # each net ends where a fresh AE from the seed, trained alone the same way, ends
    for name in ("mse", "bce"):
        fresh = AE((16, 6, 3), loss=name, seed=0)
        train(fresh, x[:32], x[32:], epochs=1, batch_size=8, quiet=True)
        for k in fresh.params:
            np.testing.assert_array_equal(fresh.params[k], built[name].params[k])
        assert r["results"][name]["test_loss"] == pytest.approx(
            fresh.evaluate(x[32:], rng=np.random.default_rng([0, 1, 1]))["loss"], rel=1e-12)


def test_result_contents_and_table(result):
    assert result["losses"] == ["mse", "bce", "mae"] and result["model"] == "AE 16-8-4"
    x_test = result["x_show"]
    assert x_test.shape == (5, 16)
    for name in result["losses"]:
        r = result["results"][name]
        assert r["recon"].shape == (5, 16) and r["errors"]["count"].sum() == 32 * 16
        assert r["blur_ratio"] > 0 and r["pixel_mse"] > 0
    lines = format_comparison(result).splitlines()
    assert lines[0].split()[0] == "loss" and [ln.split()[0] for ln in lines[1:]] == \
        ["mse", "bce", "mae"]
    assert "(intensity)" in lines[3]
    with pytest.raises(ValueError, match="two or more different losses"):
        compare_losses(["mse", "mse"], _images(8), _images(8), layers=(16, 4), quiet=True)
    with pytest.raises(ValueError, match="model must be"):
        compare_losses(["mse", "bce"], _images(8), _images(8), model="gan", quiet=True)


@pytest.mark.parametrize("kind,columns", [("comparison", 2), ("reconstruction", 1)])
def test_figures_have_exact_widths_free_legends_and_stable_bytes(result, kind, columns, tmp_path):
    vae = VAE((16, 8, 2), seed=0)
    if kind == "comparison":
        def draw():
            return comparison_figure(result, columns=columns)
    else:
        def draw():
            return reconstruction_figure(vae, _images(6), n=6, columns=columns)
    fig = draw()
    assert float(fig.get_size_inches()[0]) == plotting.COLUMN_WIDTH[columns]
    assert plotting.legend_overlaps(fig) == []
    first = [p.read_bytes() for p in plotting.save(draw(), tmp_path / "a")]
    second = [p.read_bytes() for p in plotting.save(draw(), tmp_path / "b")]
    same = first == second                         # (no byte diff: same process)
    assert same


def test_image_strip_and_reconstruction_rows():
    strip = image_strip(np.arange(8.0).reshape(2, 4))
    np.testing.assert_array_equal(strip[:, :2], [[0, 1], [2, 3]])
    assert np.isnan(strip[:, 2]).all()
    fig = reconstruction_figure(AE((16, 4), seed=0), _images(3), n=3)
    assert [ax.get_ylabel() for ax in fig.axes[:2]] == ["test images", "reconstructions"]
    assert len(fig.axes) == 3                  # two rows and the colour bar: no prior for an AE
    with pytest.raises(ValueError, match="n must be a positive integer"):
        reconstruction_figure(AE((16, 4), seed=0), _images(3), n=0)
