"""``python -m lossanalysis advise``: the streamed statistics against the analysis, synthetic data
with known answers, the report readers, the loaders for user images, the command line and its
errors, and agreement with the committed reports on the real datasets."""
import gzip
import json
import math
import re
from pathlib import Path

import mpmath
import numpy as np
import pytest

from lossanalysis import analysis
from lossanalysis.__main__ import main
from lossanalysis.advise import DataError, advise, reports, scan, select_images
from lossanalysis.advise.core import CALIBRATION_EDGE
from lossanalysis.advise.render import advice_figure, to_markdown
from lossanalysis.advise.stats import (learned_sigma, linear_reconstruction_mse,
                                       sigma_zero_rate_from_moments, spectrum_from_moments,
                                       whitened_spectrum_from_moments)
from lossanalysis.data import DatasetError, load, open_images

REPO = Path(__file__).resolve().parents[1]
TAU = analysis.KL_THRESHOLD


def _rule(eigenvalues, sigma):
    """The linear-VAE rule written out: directions with lambda > sigma^2 e^(2 tau)."""
    return sum(1 for v in eigenvalues if v > sigma ** 2 * math.exp(2 * TAU))


# ----------------------------------------------------------------------------------------------
# The streamed moments against the analysis functions on the data matrix
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(1)
    base = rng.random((300, 1, 20)) ** 3
    return np.rint(255 * np.clip(base + 0.3 * rng.random((300, 6, 20)), 0, 1)).astype(
        np.uint8).reshape(300, 120)


def test_moments_match_the_analysis_on_the_data_matrix(small):
    x = small / 255.0
    s = scan(small, block_rows=37)           # blocks that do not divide the 300 images
    np.testing.assert_allclose(s.mean, x.mean(axis=0), rtol=1e-13, atol=1e-15)
    lam = spectrum_from_moments(s.cov)
    ref = analysis.spectrum(x)
    # same float64 values, different summation order: agreement to rounding of the largest
    np.testing.assert_allclose(lam, ref, rtol=0, atol=1e-12 * ref[0])
    white = whitened_spectrum_from_moments(s.mean, s.cov)
    ref_w = analysis.whitened_spectrum(x)
    np.testing.assert_allclose(white, ref_w, rtol=0, atol=1e-12 * ref_w[0])
    assert sigma_zero_rate_from_moments(s.mean, s.cov) == pytest.approx(
        analysis.bernoulli_sigma_zero_rate(x), rel=1e-12)
    np.testing.assert_allclose(s.mad, np.abs(x - x.mean(axis=0)).sum(axis=0), rtol=1e-12)


def test_block_size_does_not_change_the_scan(small):
    a, b = scan(small, block_rows=1), scan(small, block_rows=4096)
    np.testing.assert_allclose(a.cov, b.cov, rtol=0, atol=1e-15)
    assert (a.zero, a.one, a.mid, a.near, a.interior) == (b.zero, b.one, b.mid, b.near, b.interior)
    np.testing.assert_array_equal(a.hist_counts, b.hist_counts)


def test_float_path_equals_level_path(small):
    """uint8 levels and the same values as float64 v/255 give the same statistics."""
    a = scan(small)
    b = scan(small / 255.0)
    assert a.levels is not None and b.levels is None
    assert (a.zero, a.one, a.mid, a.near, a.interior) == (b.zero, b.one, b.mid, b.near, b.interior)
    np.testing.assert_array_equal(a.hist_counts, b.hist_counts)
    assert a.ln_c_sum == pytest.approx(b.ln_c_sum, rel=1e-13)
    assert a.cb_extreme_sum == pytest.approx(b.cb_extreme_sum, rel=1e-13)
    np.testing.assert_allclose(a.cov, b.cov, rtol=0, atol=1e-15)


def test_profile_counts_against_direct_counts(small):
    x = small / 255.0
    s = scan(small)
    assert s.zero == np.count_nonzero(x == 0) and s.one == np.count_nonzero(x == 1)
    assert s.near == np.count_nonzero((x <= 0.1) | (x >= 0.9))
    assert s.mid == np.count_nonzero((x > 0.2) & (x < 0.8))
    assert s.hist_counts.sum() == s.interior == np.count_nonzero((x > 0) & (x < 1))


def test_ln_c_and_cb_minimizer_against_mpmath():
    """Mean ln C(x) over the values inside (0, 1) and mean |lambda*(x) - 1/2| over the mid-grey
    ones, each value evaluated independently at 30 digits."""
    rng = np.random.default_rng(2)
    x = rng.random((20, 10))
    x[0, :3] = [0.0, 1.0, 0.5]
    s = scan(x)
    mpmath.mp.dps = 30

    def ln_c(v):
        v = mpmath.mpf(v)
        return mpmath.log(2) if v == 0.5 else mpmath.log(2 * mpmath.atanh(1 - 2 * v) / (1 - 2 * v))

    def cb_mean(lam):      # the CB mean (Loaiza-Ganem & Cunningham 2019)
        return lam / (2 * lam - 1) + 1 / (2 * mpmath.atanh(1 - 2 * lam))

    inside = [float(v) for v in x.ravel() if 0 < v < 1]
    want = sum(ln_c(v) for v in inside) / len(inside)
    assert s.ln_c_sum / s.interior == pytest.approx(float(want), rel=1e-13)
    mid = [float(v) for v in x.ravel() if 0.2 < v < 0.8]
    ext = []
    for v in mid:
        if v == 0.5:
            ext.append(mpmath.mpf(0))
            continue
        lam = mpmath.findroot(lambda t: cb_mean(t) - v, (mpmath.mpf("1e-12"),
                                                          1 - mpmath.mpf("1e-12")),
                              solver="anderson")
        ext.append(abs(lam - mpmath.mpf(0.5)))
    assert s.cb_extreme_sum / s.mid == pytest.approx(float(sum(ext) / len(ext)), rel=1e-9)


# ----------------------------------------------------------------------------------------------
# The linear-VAE quantities
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma,latent", [(1.0, 3), (0.3, 5), (2.5, 1), (0.05, 8)])
def test_reconstruction_mse_is_the_tight_elbo(sigma, latent):
    """At the optimum the ELBO equals the pPCA likelihood (analysis.linear_optimum_nll), so the
    expected squared error is 2 sigma^2 [NLL - D/2 ln(2 pi sigma^2) - KL]."""
    lam = np.sort(np.random.default_rng(3).gamma(0.7, 0.4, size=12))[::-1]
    d = lam.size
    nll = analysis.linear_optimum_nll(lam, sigma, latent)
    kl = analysis.linear_optimum_kl(lam, sigma, latent).sum()
    sq = 2 * sigma ** 2 * (nll - 0.5 * d * math.log(2 * math.pi * sigma ** 2) - kl)
    assert linear_reconstruction_mse(lam, sigma, latent) == pytest.approx(sq / d, rel=1e-10)


def test_learned_sigma_is_the_fixed_point():
    lam = np.sort(np.random.default_rng(4).gamma(0.5, 1.0, size=30))[::-1]
    for k in (1, 5, 29):
        s = learned_sigma(lam, k)
        assert linear_reconstruction_mse(lam, s, k) == pytest.approx(s ** 2, rel=1e-12)
        assert s ** 2 <= lam[k - 1]          # every retained direction open
    assert learned_sigma(lam, 30) == 0.0


# ----------------------------------------------------------------------------------------------
# Synthetic data with known answers
# ----------------------------------------------------------------------------------------------
def test_pure_binary_images():
    rng = np.random.default_rng(5)
    q = np.linspace(0.05, 0.6, 24)
    x = (rng.random((2000, 24)) < q).astype(np.uint8) * 255
    x[:, 0] = 0                                              # one constant location
    a = advise(x, latent=4)
    assert a.profile["binary"] and a.profile["inside_0_1"] == 0
    assert a.profile["exactly_0_or_1"] == 1.0
    s = scan(x)
    m = s.mean
    keep = m * (1 - m) > 0
    # binary pixels: S_jj = m (1 - m), so sigma_eff^2 is the mean Bernoulli variance over the
    # locations that vary, and the whitened spectrum is a correlation matrix's (trace = count)
    assert a.scale["sigma_eff_bernoulli"] ** 2 == pytest.approx(np.mean((m * (1 - m))[keep]),
                                                                rel=1e-12)
    assert a.whitened.sum() == pytest.approx(keep.sum(), rel=1e-12)
    rec = {r["goal"]: r["use"] for r in a.recommendations}
    assert rec["a meaningful ELBO in nats"] == "Bernoulli (BCE)"
    assert "no maximum" in a.likelihoods[1]["this_data"]
    assert a.likelihoods[0]["this_data"].startswith("holds")


def test_uniform_grey_images():
    """iid Uniform(0, 1) values: no exact 0 or 1, mid-grey share 0.6, isotropic spectrum 1/12
    (Marchenko-Pastur band (1 +- sqrt(d/n))^2 / 12), location means near 1/2."""
    rng = np.random.default_rng(6)
    n, d = 4000, 16
    x = rng.random((n, d))
    a = advise(x, latent=8)
    assert a.profile["exactly_0_or_1"] == 0
    assert abs(a.profile["mid_grey"] - 0.6) <= 4 * math.sqrt(0.24 / (n * d))
    band = (1 + math.sqrt(d / n)) ** 2 / 12
    assert a.spectrum[0] < band and a.spectrum[-1] > (1 - math.sqrt(d / n)) ** 2 / 12
    rows = {r["sigma"]: r for r in a.scale["rows"] if r["kind"] == "gaussian"}
    assert rows[0.5]["active"] == 0 and rows[0.1]["active"] == 8      # thresholds off the band
    # sigma_eff^2 is a harmonic mean of m (1 - m) weighted by the variances: inside their range
    s = scan(x)
    v = s.mean * (1 - s.mean)
    assert v.min() <= a.scale["sigma_eff_bernoulli"] ** 2 <= v.max()
    # the mean of ln C over Uniform(0, 1), by quadrature, within 4 standard errors
    mpmath.mp.dps = 20
    lnc = lambda t: mpmath.log(2 * mpmath.atanh(1 - 2 * t) / (1 - 2 * t))  # noqa: E731
    mean = float(mpmath.quad(lnc, [0, 0.5, 1]))
    sd = math.sqrt(float(mpmath.quad(lambda t: lnc(t) ** 2, [0, 0.5, 1])) - mean ** 2)
    got = a.likelihoods[0]["numbers"]["mean_ln_c_inside"]
    assert abs(got - mean) <= 4 * sd / math.sqrt(n * d)
    rec = {r["goal"]: r["use"] for r in a.recommendations}
    assert rec["a meaningful ELBO in nats"] == "continuous Bernoulli"
    assert rec["calibrated intensities"].startswith("sigmoid + BCE, or")
    assert rec["fast early training"] == "either"
    sat = next(p for p in a.predictions if p["key"] == "saturation")
    assert sat["numbers"]["ratio_mean_image"] == pytest.approx(2.0, rel=1e-3)


def test_low_rank_data_with_an_exactly_known_spectrum():
    """x = 1/2 + Z diag(sqrt(lambda)) U^T with Z the +-1 columns of a Hadamard matrix (mean 0,
    Z^T Z / n = I): the sample covariance is U diag(lambda) U^T exactly."""
    from scipy.linalg import hadamard
    lam = np.array([0.16, 0.04, 0.01, 0.0025])
    d = 32
    u, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(d, lam.size)))
    z = hadamard(64)[:, 1:lam.size + 1].astype(float)
    x = 0.5 + (z * np.sqrt(lam)) @ u.T
    assert x.min() > 0 and x.max() < 1
    a = advise(np.tile(x, (3, 1)), latent=10, sigmas=(0.5, 0.3, 0.15, 0.07, 0.03, 0.01))
    np.testing.assert_allclose(a.spectrum[:4], lam, rtol=1e-12)
    assert np.all(np.abs(a.spectrum[4:]) < 1e-15)
    for r in a.scale["rows"]:
        if r["kind"] == "gaussian":
            assert r["active"] == _rule(lam, r["sigma"]), r
            assert r["rate"] == pytest.approx(
                sum(0.5 * math.log(v / r["sigma"] ** 2) for v in lam if v > r["sigma"] ** 2),
                rel=1e-10, abs=1e-12)
    assert [r["active"] for r in a.scale["rows"][:6]] == [0, 1, 2, 3, 4, 4]
    assert learned_sigma(a.spectrum, 2) ** 2 == pytest.approx((0.01 + 0.0025) / (d - 2),
                                                             rel=1e-10)


def test_low_rank_gaussian_counts_match_the_spectrum():
    """Gaussian factors on a rank-4 subspace plus isotropic noise of variance 1e-5: the sample
    eigenvalues lie within a few sqrt(2/n) of the population ones, and sigmas whose thresholds
    sit midway (in log) between them must count exactly the directions above."""
    rng = np.random.default_rng(16)
    lam = np.array([0.04, 0.01, 0.0025, 0.000625])
    d, n = 32, 4000
    u, _ = np.linalg.qr(rng.normal(size=(d, lam.size)))
    x = 0.5 + (rng.normal(size=(n, lam.size)) * np.sqrt(lam)) @ u.T
    x += rng.normal(scale=math.sqrt(1e-5), size=(n, d))
    assert x.min() > 0 and x.max() < 1
    mids = np.sqrt(np.append(lam[:-1] * lam[1:], lam[-1] * 1e-5))      # between neighbours
    sigmas = tuple(np.sqrt(mids / math.exp(2 * TAU)))
    a = advise(x, latent=10, sigmas=sigmas)
    np.testing.assert_allclose(a.spectrum[:4], lam, rtol=6 * math.sqrt(2 / n))
    assert [r["active"] for r in a.scale["rows"] if r["kind"] == "gaussian"] == [1, 2, 3, 4]


def test_constant_images_are_refused_with_a_clear_message():
    for value, words in ((0.5, "every value is 0.5"), (0.0, "every value is 0 (all black)")):
        with pytest.raises(DataError, match=f"DATA: {re.escape(words)}: the images are constant"):
            advise(np.full((10, 9), value), latent=3, name="DATA")


def test_identical_images_are_degenerate_not_broken():
    x = np.tile(np.linspace(0.1, 0.9, 9), (10, 1))     # ten copies of one image: nothing varies
    a = advise(x, latent=3)
    assert math.isnan(a.scale["sigma_eff_bernoulli"])
    assert all(r["active"] in (0, None) for r in a.scale["rows"])
    assert "undefined" in next(p for p in a.predictions if p["key"] == "blur")["analysis"]
    assert {r["goal"]: r["use"] for r in a.recommendations}["fast early training"] == "either"
    to_markdown(a)


def test_calibration_rule_counts_edge_locations():
    rng = np.random.default_rng(8)
    x = rng.random((500, 6)) * 0.5 + 0.25
    x[:, 0] = rng.random(500) < 0.02                 # a location with mean near 0
    a = advise(x, latent=2)
    cal = next(p for p in a.predictions if p["key"] == "calibration")["numbers"]
    m = x.mean(axis=0)
    assert cal["locations_near_edge"] == np.count_nonzero((m > 0) & (m < CALIBRATION_EDGE))
    assert {r["goal"]: r["use"] for r in a.recommendations}["calibrated intensities"] == \
        "sigmoid + BCE"


def test_select_images_is_a_seeded_draw_without_replacement():
    idx = select_images(300, 50, seed=7)
    assert len(np.unique(idx)) == 50 and np.all(np.diff(idx) > 0)
    same = np.array_equal(idx, select_images(300, 50, seed=7))
    assert same and select_images(300, 300) is None


# ----------------------------------------------------------------------------------------------
# Reports: the studies' measurements, read by id and labelled with their study
# ----------------------------------------------------------------------------------------------
def _study_report(name, mean):
    row = {"id": "E5.blur.order", "comparison": "at_least", "kind": "falsifiable",
           "value": 1.0, "tolerance": 0.2, "mean": mean, "sd": 0.01,
           "measurements": [mean] * 5, "interval": [mean - 0.01, mean + 0.01],
           "verdict": "confirmed"}
    return {"study": name, "quick": False, "data": {"summary": {"frac_mid_of_nonzero": 0.3}},
            "rows": [row], "observations": {"E5.sigma_eff[bernoulli]": {
                "values": [0.3] * 5, "seeds": [0, 1, 2, 3, 4], "unit": "intensity"}}}


def test_study_reports_back_the_predictions_by_id(tmp_path):
    for name, mean in (("glyphs", 0.9), ("mnist", 1.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.json").write_text(json.dumps(_study_report(name, mean)))
    (tmp_path / "quick-one").mkdir()
    (tmp_path / "quick-one" / "report.json").write_text(json.dumps(
        {**_study_report("quick-one", 1.0), "quick": True}))
    loaded = reports.load_reports(tmp_path)
    assert sorted(loaded) == ["glyphs", "mnist"]                 # a quick run backs nothing
    r = reports.result(loaded["glyphs"], "E5.blur.order")
    assert (r.dataset, r.mean, r.n, r.role) == ("glyphs", 0.9, 5, "falsifiable")
    assert reports.measurement(loaded["mnist"], "E5.sigma_eff[bernoulli]") == 0.3
    a = advise(np.random.default_rng(9).random((40, 8)), latent=2, reports=tmp_path)
    backing = [b for p in a.predictions for b in p["backing"]]
    assert {b["dataset"] for b in backing} == {"glyphs", "mnist"}


def test_no_report_is_said(tmp_path):
    a = advise(np.random.default_rng(10).random((30, 4)), latent=2, reports=tmp_path)
    assert all(p["backing"] == [] for p in a.predictions)
    assert "No study report was found" in to_markdown(a)


def test_malformed_report_names_the_file(tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "report.json").write_text("{not json")
    with pytest.raises(ValueError, match="report.json"):
        reports.load_reports(tmp_path)


# ----------------------------------------------------------------------------------------------
# Loaders for user images
# ----------------------------------------------------------------------------------------------
def _png(path, array, mode=None):
    from PIL import Image
    Image.fromarray(array, mode=mode).save(path)


def test_png_folder_grey_rgb_and_16_bit(tmp_path):
    rng = np.random.default_rng(11)
    grey = rng.integers(0, 256, size=(3, 5, 4), dtype=np.uint8)
    (tmp_path / "g").mkdir()
    for i, im in enumerate(grey):
        _png(tmp_path / "g" / f"{i}.png", im)
    src = open_images(tmp_path / "g")
    assert (src.kind, src.n, src.image_shape, src.dtype) == ("images", 3, (5, 4), np.uint8)
    np.testing.assert_array_equal(src.read(), grey)
    # grey saved as RGBA: alpha dropped, equal channels read as grey
    (tmp_path / "rgba").mkdir()
    for i, im in enumerate(grey):
        _png(tmp_path / "rgba" / f"{i}.png",
             np.stack([im, im, im, np.full_like(im, 255)], axis=-1))
    np.testing.assert_array_equal(open_images(tmp_path / "rgba").read(), grey)
    (tmp_path / "rgb").mkdir()
    for i, im in enumerate(grey):
        _png(tmp_path / "rgb" / f"{i}.png", np.stack([im, im[::-1], im], axis=-1))
    assert open_images(tmp_path / "rgb").image_shape == (5, 4, 3)
    (tmp_path / "16").mkdir()
    deep = (grey.astype(np.uint16) * 257)
    deep[0, 0, 0] = 1
    for i, im in enumerate(deep):
        _png(tmp_path / "16" / f"{i}.png", im)
    src = open_images(tmp_path / "16")
    assert src.dtype == np.float32
    np.testing.assert_allclose(src.read(), deep / 65535.0, rtol=0, atol=1e-7)


def test_png_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="no .png or .jpg files"):
        open_images(tmp_path)
    _png(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    _png(tmp_path / "b.png", np.zeros((5, 4), np.uint8))
    with pytest.raises(DatasetError, match="b.png: image of 4x5 pixels, but a.png has 4x4"):
        open_images(tmp_path)


def test_array_and_idx_files(tmp_path):
    x = np.random.default_rng(12).integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    src = open_images(tmp_path / "x.npy")
    assert isinstance(src.read(), np.memmap)
    np.testing.assert_array_equal(src.read([1, 4]), x[[1, 4]])
    np.savez(tmp_path / "one.npz", anything=x)
    np.testing.assert_array_equal(open_images(tmp_path / "one.npz").read(), x)
    np.savez(tmp_path / "two.npz", images=x, labels=np.zeros(6))
    np.testing.assert_array_equal(open_images(tmp_path / "two.npz").read(), x)
    header = (0x00000803).to_bytes(4, "big") + b"".join(
        int(v).to_bytes(4, "big") for v in x.shape)
    (tmp_path / "im-idx3-ubyte").write_bytes(header + x.tobytes())
    with gzip.open(tmp_path / "im-idx3-ubyte.gz", "wb") as f:
        f.write(header + x.tobytes())
    for name in ("im-idx3-ubyte", "im-idx3-ubyte.gz"):
        src = open_images(tmp_path / name)
        assert src.kind == "idx"
        np.testing.assert_array_equal(src.read(), x)


# ----------------------------------------------------------------------------------------------
# The command line (in-process)
# ----------------------------------------------------------------------------------------------
def _error(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(["advise", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("python -m lossanalysis advise: error:")
    return err


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(13)
    good = rng.random((20, 6, 6)).astype(np.float32)
    np.save(tmp_path / "good.npy", good)
    nan = good.copy()
    nan[3, 2, 1] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    np.save(tmp_path / "grey255.npy", good * 255)
    np.save(tmp_path / "one.npy", good[:1])
    np.save(tmp_path / "flat.npy", good.ravel())
    np.save(tmp_path / "text.npy", np.array([["a", "b"], ["c", "d"]]))
    np.savez(tmp_path / "many.npz", a=good, b=good)
    (tmp_path / "notes.txt").write_text("hello")
    labels = (0x00000801).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes([1, 2, 3])
    (tmp_path / "labels-idx1-ubyte").write_bytes(labels)
    (tmp_path / "afile").write_text("x")
    return tmp_path


@pytest.mark.parametrize("argv,needle", [
    (["missing.npy"], "DATA: .*missing.npy: no such file or folder"),
    (["notes.txt"], "not a .npy/.npz array, an IDX images file"),
    (["labels-idx1-ubyte"], "an IDX labels file, not images"),
    (["nan.npy"], "DATA holds NaN \\(image 3, value 13\\)"),
    (["grey255.npy"], "DATA: float values up to 254.8.. lie outside \\[0, 1\\]; pass --scale 255"),
    (["good.npy", "--scale", "0.5"], "DATA: values divided by 0.5 must lie in \\[0, 1\\]"),
    (["one.npy"], "DATA holds 1 image; at least 2"),
    (["flat.npy"], "expected an array of images"),
    (["text.npy"], "must be numbers"),
    (["many.npz"], "holds 2 arrays \\(a, b\\)"),
    (["good.npy", "--max-images", "0"], "--max-images: .*positive integer"),
    (["good.npy", "--scale", "-1"], "--scale: must be a positive finite number, got .-1."),
    (["good.npy", "--scale", "nan"], "--scale: must be a positive finite number"),
    (["good.npy", "--seed", "-1"], "--seed: must be a non-negative integer"),
    (["good.npy", "--columns", "3"], "--columns: invalid choice"),
    (["good.npy", "--latent", "37"], "--latent: 37 exceeds the 36 values"),
    (["good.npy", "--reports", "nowhere"], "--reports: 'nowhere' is not a folder"),
    (["good.npy", "--out", "afile"], "--out: 'afile' exists and is not a folder"),
])
def test_cli_errors(capsys, files, monkeypatch, argv, needle):
    import re
    monkeypatch.chdir(files)
    err = _error(capsys, argv)
    assert re.search(needle, err), err


def test_cli_markdown_json_and_byte_stable_figure(capsys, files, tmp_path):
    out = tmp_path / "out"
    argv = ["advise", str(files / "good.npy"), "--out", str(out), "--reports", str(files),
            "--max-images", "15", "--seed", "3"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Which reconstruction loss for good.npy?")
    assert "a random 15 of 20, seed 3" in text
    md = (out / "advice.md").read_text()
    assert "![intensity histogram and covariance spectrum](advice.png)" in md
    first = {ext: (out / f"advice.{ext}").read_bytes() for ext in ("pdf", "png")}
    assert main(argv) == 0
    same = {ext: (out / f"advice.{ext}").read_bytes() for ext in ("pdf", "png")} == first
    assert same                                   # (no byte diff: same process, same machine)
    from PIL import Image
    assert Image.open(out / "advice.png").size[0] == round(7.0 * 300)   # the default, 2
    capsys.readouterr()
    assert main(["advise", str(files / "good.npy"), "--json", "--columns", "1",
                 "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["source"]["n"] == 20 and len(doc["recommendations"]) == 4
    assert Image.open(out / "advice.png").size[0] == round(3.4 * 300)


def test_float_0_255_with_scale(capsys, files):
    assert main(["advise", str(files / "grey255.npy"), "--scale", "255", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["source"]["scale"] == 255.0 and doc["profile"]["exactly_0_or_1"] == 0


def test_binary_uint8_is_read_as_binary_with_a_warning():
    a = advise(np.random.default_rng(14).integers(0, 2, size=(30, 5), dtype=np.uint8))
    assert a.profile["binary"] and a.source["scale"] == 1
    assert any("read as v/1" in n and "--scale 255" in n for n in a.notes)


def test_figure_has_no_legend_over_data():
    from lossanalysis import plotting
    a = advise(np.random.default_rng(15).random((60, 16)), latent=4)
    for columns in (1, 2):
        assert plotting.legend_overlaps(advice_figure(a, columns=columns)) == []


# ----------------------------------------------------------------------------------------------
# The real datasets: advise computes what the studies registered
# ----------------------------------------------------------------------------------------------
STUDIES = REPO / "studies"


@pytest.fixture(scope="module")
def real(real_data):
    out = {}
    for name in ("mnist", "fashion-mnist"):
        x, _ = load(name, "train", data_dir=real_data, raw=True)
        out[name] = {"train": advise(x, latent=16, reports=STUDIES)}
    return out


def _registered(name):
    doc = json.loads((STUDIES / name / "predictions.json").read_text(encoding="utf-8"))
    preds = {p["id"]: p for e in doc["experiments"].values() for p in e["predictions"]}
    return doc, preds


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_real_data_agrees_with_the_registered_study(real, name):
    """advise's scale analysis on a dataset's whole training split gives the counts that
    study registered (the same analysis on the same images), and its profile is the
    registration's summary."""
    a = real[name]["train"]
    doc, preds = _registered(name)
    for s in (2.0, 1.0, 0.7, 0.5):
        assert analysis.predicted_active_dims(a.spectrum, s, 20) == \
            preds[f"E5.linear.active[sigma={s:g}]"]["value"]
    rows = {r["label"]: r for r in a.scale["rows"]}
    assert rows["Gaussian, σ = 1"]["active"] == preds["E5.mlp.active[gaussian_sigma1]"]["value"]
    summary = doc["data"]["summary"]
    for key, mine in (("frac_zero", "exactly_0"), ("frac_one", "exactly_1"),
                      ("frac_mid", "mid_grey"), ("frac_between", "inside_0_1"),
                      ("frac_mid_of_nonzero", "mid_grey_of_nonzero")):
        assert a.profile[mine] == pytest.approx(summary[key], rel=1e-12), key


def test_real_data_recommendations(real):
    for name in ("mnist", "fashion-mnist"):
        rec = {r["goal"]: r["use"] for r in real[name]["train"].recommendations}
        # both have exact 0s and grey values, locations near 0, saturating backgrounds
        assert rec["a meaningful ELBO in nats"].startswith("Gaussian with a learned σ")
        assert rec["calibrated intensities"] == "sigmoid + BCE"
        assert rec["sharp reconstructions (VAE)"] == "Gaussian decoder with a learned shared σ"


def test_progress_on_a_terminal_and_in_a_log():
    import io

    from lossanalysis.advise.cli import _Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, log = Tty(), io.StringIO()
    for stream in (tty, log):
        p = _Progress(stream, tty_seconds=0.0, plain_seconds=0.0)
        p("profile", 5, 10)
        p("covariance", 10, 10)
        p.clear()
    assert tty.getvalue().startswith("\radvise: profile 50%") and tty.getvalue().endswith("\r")
    assert log.getvalue() == "advise: profile 50%\nadvise: covariance 100%\n"
    quiet = io.StringIO()
    _Progress(quiet)("profile", 1, 2)              # within its first second: nothing shown
    assert quiet.getvalue() == ""
