"""Every input has a bounded cost and a clear answer (issue 20's table, the input rows), and a
user's own images load for training (issue 21).

Each hostile input must end in the right answer or one line naming the input and the bound,
within 500 MB: the memory is measured with tracemalloc (NumPy reports its buffers to it), the
time is not asserted (a benchmark's job), but every input here is refused before any large
allocation, so each test takes milliseconds.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import re
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lossanalysis import _text, data
from lossanalysis.__main__ import main
from lossanalysis._limits import InputError, LimitError, Limits, json_depth, load_json
from lossanalysis.data import DataWarning, DatasetError, load_images, open_images

MB = 2 ** 20
#: The issue's memory bound for every row.
BOUND = 500 * MB


class Peak:
    """Peak memory traced inside a ``with`` block (bytes)."""

    def __enter__(self):
        tracemalloc.start()
        return self

    def __exit__(self, *exc):
        self.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return False


def _one_line(err) -> str:
    msg = str(err)
    assert "\n" not in msg and "\r" not in msg and "\x1b" not in msg, msg
    return msg


def _refused(call, match, error=ValueError):
    with Peak() as mem:
        with pytest.raises(error) as info:
            call()
    assert mem.peak < BOUND, mem.peak
    msg = _one_line(info.value)
    assert match in msg, msg
    return msg


def _npy_bytes(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _npy_header(shape, descr="|u1") -> bytes:
    """A .npy header declaring ``shape`` (no data after it)."""
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


def _idx(shape, payload=b"") -> bytes:
    head = (0x803).to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in shape)
    return head + payload


# ------------------------------------------------------------------------- advise, large D
@pytest.mark.parametrize("d", [20_000, 100_000])
def test_advise_on_three_images_of_many_values_is_bounded(d):
    """Row 1: 3 images of 20,000 (100,000) values took 6.2 GB (a 74.5 GiB MemoryError): the
    spectrum now comes from the 3 x 3 Gram matrix, exactly."""
    from lossanalysis.advise import advise

    # binary images: no mid-grey value, so no continuous-Bernoulli minimizer is set up here
    x = np.random.default_rng(0).integers(0, 2, (3, d), dtype=np.uint8) * np.uint8(255)
    with Peak() as mem:
        a = advise(x, latent=2)
    assert mem.peak < 50 * MB                     # the data is 0.3 MB at most; blocks ~13 MB
    assert a.scale["spectrum_method"] == "gram"
    xc = x / 255.0 - (x / 255.0).mean(axis=0)
    exact = np.linalg.eigvalsh(xc @ xc.T / 3)[::-1]
    # both sum d products per entry: rounding below d eps lambda_max (the zero one included)
    np.testing.assert_allclose(a.spectrum[:3], exact, rtol=1e-9,
                               atol=d * np.finfo(float).eps * exact[0])
    assert np.all(a.spectrum[3:] == 0) and a.spectrum.size == d


def test_randomized_spectrum_matches_the_exact_one(monkeypatch):
    """Above EXACT_D values and GRAM_N images the top eigenvalues are estimated: compared with
    the exact covariance spectrum on a problem small enough to diagonalize."""
    from lossanalysis.advise import stats

    rng = np.random.default_rng(1)
    n, d, k = 400, 300, 5
    basis = np.linalg.qr(rng.standard_normal((d, k)))[0]
    x = 0.5 + (rng.standard_normal((n, k)) * [0.12, 0.09, 0.07, 0.05, 0.04]) @ basis.T
    x = np.clip(x + 0.005 * rng.standard_normal((n, d)), 0, 1)
    x = np.rint(x * 255).astype(np.uint8)         # 8-bit levels: the profile is cheap
    exact = stats.scan(x)
    monkeypatch.setattr(stats, "EXACT_D", 10)
    monkeypatch.setattr(stats, "GRAM_N", 10)
    est = stats.scan(x, top=20)
    assert est.method == "randomized" and est.known == (20, 20)
    # one power iteration, 16 extra columns: the separated leading eigenvalues to 1e-3
    np.testing.assert_allclose(est.spectrum[:k], exact.spectrum[:k], rtol=1e-3)
    np.testing.assert_allclose(est.whitened[:k], exact.whitened[:k], rtol=1e-3)
    # the tail shares the exact trace: every sum the linear-VAE rule takes is exact
    assert est.spectrum.sum() == pytest.approx(exact.spectrum.sum(), rel=1e-9)
    monkeypatch.setattr(stats, "GRAM_N", 1000)
    gram = stats.scan(x)
    assert gram.method == "gram"
    np.testing.assert_allclose(gram.spectrum, exact.spectrum, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(gram.whitened, exact.whitened, rtol=1e-8, atol=1e-14)


def test_advise_refuses_more_values_than_its_bound(tmp_path, capsys):
    np.save(tmp_path / "big.npy", np.zeros((40, 1000), np.uint8))
    with pytest.raises(SystemExit):
        main(["advise", str(tmp_path / "big.npy"), "--limit", "analysis_values=10000"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert ("40 images of 1,000 values (analyse fewer with --max-images 10) has 40,000 values, "
            "above the bound analysis_values = 10,000") in err


# ------------------------------------------------------------------------- image files
def _png_header(w, h, colour=2) -> bytes:
    ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, colour, 0, 0, 0])
    import zlib
    crc = zlib.crc32(b"IHDR" + ihdr).to_bytes(4, "big")
    return b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + b"IHDR" + ihdr + crc


def test_png_of_50000_by_50000_pixels_is_refused_from_its_header(tmp_path):
    """Row 2: matplotlib decoded it (7.2 GB); the header is read first now."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "bomb.png").write_bytes(_png_header(50_000, 50_000) + b"\0" * 2_000_000)
    msg = _refused(lambda: open_images(folder), "bomb.png: its header (50000x50000, 3 "
                   "channels) has 7,500,000,000 values, above the bound image_values")
    assert "--limit image_values=N" in msg


def test_jpeg_header_is_read_before_decoding(tmp_path):
    folder = tmp_path / "j"
    folder.mkdir()
    sof = b"\xff\xc0" + (17).to_bytes(2, "big") + b"\x08" + (40000).to_bytes(2, "big") \
        + (40000).to_bytes(2, "big") + b"\x03" + b"\0" * 9
    (folder / "bomb.jpg").write_bytes(b"\xff\xd8" + b"\xff\xe0\x00\x04ab" + sof + b"\xff\xd9")
    _refused(lambda: open_images(folder), "bomb.jpg: its header (40000x40000, 3 channels) has "
             "4,800,000,000 values")


def test_folder_with_too_many_images_is_refused(tmp_path):
    for i in range(4):
        (tmp_path / f"{i}.png").write_bytes(b"")
    _refused(lambda: open_images(tmp_path, limits={"files": 3}), "has 4 files, above the "
             "bound files = 3")


# ------------------------------------------------------------------------- archives
def _zip(path, members: dict, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)


def test_npz_zip_bomb_is_refused_from_the_directory(tmp_path):
    """Row 3: a 5.8 MB .npz inflating to 5.8 GB ran out of memory; the uncompressed size is in
    the zip's directory.  (A 64 MB member, 64 KB on disk, against a bound of 16 MB.)"""
    path = tmp_path / "bomb.npz"
    _zip(path, {"images.npy": _npy_bytes(np.zeros((64, 1024, 1024), np.uint8))})
    assert path.stat().st_size < MB
    _refused(lambda: open_images(path, limits={"array_bytes": 16 * MB}),
             "member 'images' has 67,108,992 bytes, above the bound array_bytes = 16,777,216")


def test_npz_whose_directory_lies_about_the_size_is_refused(tmp_path):
    """A member whose directory entry declares fewer bytes than it inflates to: zipfile stops at
    the declared size, the .npy header then disagrees with it."""
    path = tmp_path / "liar.npz"
    _zip(path, {"images.npy": _npy_bytes(np.zeros((100, 8, 8), np.uint8))})
    blob = bytearray(path.read_bytes())
    true = (100 * 64 + 128).to_bytes(4, "little")
    for start in range(len(blob) - 4):            # every size field holding the true size
        if blob[start:start + 4] == true:
            blob[start:start + 4] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(blob))
    _refused(lambda: open_images(path), "liar.npz")


@pytest.mark.parametrize("name, content, match", [
    ("shape.npy", _npy_header((-1, 784)), "declares the shape (-1, 784)"),
    ("huge.npy", _npy_header((10 ** 12, 784)), "above the bound array_bytes"),
    ("short.npy", _npy_header((10, 784)) + b"\0" * 100, "the data is 100 bytes but the "
     "header's shape (10, 784) and dtype uint8 need 7,840"),
    ("text.npy", b"hello world\n1 2 3\n", "not a NumPy .npy array (written by numpy.save): it "
     "is a text file"),
    ("pickle.npy", _npy_bytes(np.array([{"a": 1}], dtype=object)), "Python objects"),
    ("garbage.npz", b"PK\x03\x04garbage", "not a readable .npz archive"),
    ("empty.npy", b"", "is an empty file"),
    ("four.idx", _idx((4 * 10 ** 9 // 784, 28, 28)), "above the bound total_values"),
])
def test_hostile_arrays_get_one_line(tmp_path, name, content, match):
    """Rows 3, 4 and 7: OverflowError, BadZipFile, _ArrayMemoryError tracebacks before."""
    path = tmp_path / name
    path.write_bytes(content)
    _refused(lambda: open_images(path), match)


def test_npz_declaring_a_trillion_images_is_refused(tmp_path):
    path = tmp_path / "many.npz"
    _zip(path, {"images.npy": _npy_header((10 ** 12, 784))})
    _refused(lambda: open_images(path), "member 'images'")


def test_idx_gz_declaring_4_gb_is_refused_before_inflating(tmp_path):
    """Row 4: a 3.9 MB .idx.gz declaring 4 GB reached 7.7 GB."""
    path = tmp_path / "big-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(_idx((5_000_000, 28, 28), b"\0" * MB))
    _refused(lambda: open_images(path), "above the bound total_values")
    # within the bounds but short of what the header promises: the data is read in chunks
    path2 = tmp_path / "short-idx3-ubyte.gz"
    with gzip.open(path2, "wb") as f:
        f.write(_idx((100_000, 28, 28), b"\0" * MB))
    with Peak() as mem:
        with pytest.raises(DatasetError, match="payload is 1048576 bytes but the header"):
            open_images(path2)
    assert mem.peak < 2 * 100_000 * 784           # the array once, no second copy
    # a whole one (it peaked at twice the array): inflated into the array in bounded chunks
    path3 = tmp_path / "whole-idx3-ubyte.gz"
    with gzip.open(path3, "wb", compresslevel=1) as f:
        f.write(_idx((25_000, 28, 28), b"\7" * (25_000 * 784)))
    with Peak() as mem:
        assert open_images(path3).n == 25_000
    assert mem.peak < 1.2 * 25_000 * 784


# ------------------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from lossanalysis.nn import AE, train

    folder = tmp_path_factory.mktemp("ckpt")
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    train(AE((6, 4, 2), loss="mse", seed=0), x, epochs=1, batch_size=8, out_dir=str(folder),
          quiet=True)
    with np.load(folder / "checkpoint.npz", allow_pickle=False) as z:
        return folder, {k: z[k] for k in z.files}


def _edited(tmp_path, entries, **changes):
    out = dict(entries)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    path = tmp_path / "edited.npz"
    np.savez(path, **out)
    return path


def _config_with(entries, **edit):
    config = json.loads(str(entries["model_config"]))
    config.update(edit)
    return np.array(json.dumps(config))


@pytest.mark.parametrize("change, match", [
    (lambda e: {"model_config": _config_with(e, layer_sizes=[40000, 20000])},
     "has 2,400,140,000 parameters, above the bound parameters"),
    (lambda e: {"model_config": _config_with(e, term={"kind": "catalogue"})},
     "cannot rebuild the model"),                                   # missing 'loss'
    (lambda e: {"model_config": _config_with(e, term={"kind": "catalogue", "loss": "mse",
                                                      "params": [1, 2]})},
     "cannot rebuild the model"),                                   # params as a list
    (lambda e: {"model_config": _config_with(e, surprise=1)}, "cannot rebuild the model"),
    (lambda e: {"model_config": _config_with(e, layer_sizes="abc")}, "are not positive"),
    (lambda e: {"extra": np.zeros(3)}, "unexpected entry 'extra'"),
    (lambda e: {"epoch": None}, "missing entry 'epoch'"),
    (lambda e: {"history": np.array("[1, 2]")}, "entry 'history' is list, not an object"),
    (lambda e: {"history": np.zeros(3)}, "entry 'history' is float64 of shape (3,)"),
    (lambda e: {"param/enc.0.W": np.zeros((5, 5), np.float32)}, "shape (5, 5)"),
    (lambda e: {"param/enc.0.W": np.array("x")}, "not an array of floats"),
    (lambda e: {"param/nope": np.zeros(2, np.float32)}, "unexpected 'nope'"),
])
def test_damaged_checkpoints_get_one_line(tmp_path, checkpoint, change, match):
    """Rows 5 and 8: KeyError, TypeError, AttributeError and MemoryError before."""
    from lossanalysis.nn import load_model

    path = _edited(tmp_path, checkpoint[1], **change(checkpoint[1]))
    _refused(lambda: load_model(path), match)


def test_checkpoint_zip_bomb_member_is_refused(tmp_path, checkpoint):
    path = tmp_path / "bomb.npz"
    members = {f"{k}.npy": _npy_bytes(v) for k, v in checkpoint[1].items()}
    members["param/enc.0.W.npy"] = _npy_bytes(np.zeros((64 * MB // 4,), np.float32))
    _zip(path, members)
    from lossanalysis.nn import load_model
    _refused(lambda: load_model(path, limits={"array_bytes": 16 * MB}),
             "member 'param/enc.0.W' has 67,108,992 bytes")


def test_resume_with_a_bad_history_is_refused(tmp_path, checkpoint):
    from lossanalysis.nn import AE, train

    folder = tmp_path / "run"
    folder.mkdir()
    _edited(folder, checkpoint[1], history=np.array(json.dumps([1, 2])))
    (folder / "edited.npz").rename(folder / "checkpoint.npz")
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    _refused(lambda: train(AE((6, 4, 2), loss="mse", seed=0), x, epochs=2, batch_size=8,
                           out_dir=str(folder), resume=True, quiet=True),
             "cannot resume: ")


# ------------------------------------------------------------------------- JSON, --out, names
def test_deep_and_endless_json_reports(tmp_path, capsys):
    """Row: claims --report on a deeply nested JSON / on /dev/zero (RecursionError,
    MemoryError before)."""
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 50_000 + "]" * 50_000)
    for report, limit, words in (
            (deep, "json_depth=64", "50,000 levels of nesting, above the bound json_depth = 64"),
            ("/dev/zero", "json_bytes=1000", "more than 1,000 bytes, above the bound json_bytes")):
        with Peak() as mem:
            with pytest.raises(SystemExit) as stop:
                main(["claims", "--report", str(report), "--limit", limit])
        assert stop.value.code == 2 and mem.peak < BOUND
        err = capsys.readouterr().err.strip().splitlines()
        assert words in err[-1], err
    assert json_depth(b'{"a": "[[[[", "b": [[1]]}') == 3


def test_json_loader_answers_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe not text")
    with pytest.raises(InputError, match="bad.json: not UTF-8 text"):
        load_json(bad)
    bad.write_text("{1: 2}")
    with pytest.raises(InputError, match="bad.json: not valid JSON"):
        load_json(bad)


def _unwritable(tmp_path):
    """A folder no one can write into: below a file (root ignores permission bits)."""
    (tmp_path / "file").write_text("x")
    return tmp_path / "file" / "out"


def test_unwritable_out_is_refused_before_work(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((5, 4)))
    with pytest.raises(SystemExit) as stop:
        main(["advise", str(tmp_path / "x.npy"), "--out", str(_unwritable(tmp_path))])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert stop.value.code == 2 and "--out: cannot write into" in err, err


def test_hostile_file_names_are_escaped(tmp_path, capsys):
    """Row: a PNG named $'\\e[2J\\nerror: fake\\r.png' reached the terminal and advice.md raw."""
    from PIL import Image

    folder = tmp_path / "x\x1b[2J\nerror: *fake*"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (4, 4), dtype=np.uint8)).save(folder / "a.png")
    Image.fromarray(rng.integers(0, 256, (5, 4), dtype=np.uint8)).save(
        folder / "\x1b[2J\nerror: fake\r.png")
    with pytest.raises(SystemExit):
        main(["advise", str(folder)])
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\r" not in err and err.count("\n") == 1, err
    assert err.startswith("python -m lossanalysis advise: error: DATA: ")
    assert "\\x1b[2J\\nerror: fake\\r.png" in err
    (folder / "\x1b[2J\nerror: fake\r.png").unlink()
    Image.fromarray(rng.integers(0, 256, (4, 4), dtype=np.uint8)).save(folder / "b.png")
    assert main(["advise", str(folder), "--latent", "2"]) == 0
    md = capsys.readouterr().out
    # the terminal's escape \x1b shown literally: its backslash escaped for Markdown
    assert md.splitlines()[0] == \
        "# Which reconstruction loss for x\\\\x1b\\[2J\\\\nerror: \\*fake\\*?"
    assert "\x1b" not in md


def test_escaping_helpers():
    assert _text.terminal("a\u202eb\x00") == "a\\u202eb\\x00"
    assert _text.latex("x}\\input{/etc/hostname}") == "x\\}\\textbackslash{}input\\{/etc/hostname\\}"
    assert _text.markdown("a|b [c](d) <e> `f`") == "a\\|b \\[c\\](d) \\<e\\> \\`f\\`"


# ------------------------------------------------------------------------- load_images
def _digits(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 17, size=(60, 8, 8)).astype(np.int64)
    np.savez(tmp_path / "digits.npz", images=x)
    return x


def test_integers_0_to_16_are_read_as_v_over_16_with_a_warning(tmp_path):
    x = _digits(tmp_path)
    with pytest.warns(DataWarning, match=r"integer values 0\.\.16, far below 255: read as "
                                         r"v/16 .* pass --scale 255"):
        s = load_images(tmp_path / "digits.npz", seed=1)
    assert (s.name, s.shape, s.scale, s.train.shape, s.test.shape) == \
        ("digits", (8, 8), 16.0, (48, 64), (12, 64))
    assert s.train.dtype == np.float32 and not s.train.flags.writeable
    both = np.concatenate([s.train, s.test])
    assert sorted(map(bytes, both)) == sorted(map(bytes, (x.reshape(60, 64) / 16).astype(
        np.float32)))
    assert s.split == "drawn: 12 of 60 images for test (test_fraction 0.2, seed 1)"
    again = load_images(tmp_path / "digits.npz", seed=1, scale=16)
    np.testing.assert_array_equal(again.test, s.test)           # same seed, same split
    assert again.notes == ()                                    # a given scale: no warning
    with pytest.warns(DataWarning):
        other = load_images(tmp_path / "digits.npz", seed=2)
    assert not np.array_equal(other.test, s.test)


def test_images_of_25_by_25(tmp_path):
    x = np.random.default_rng(4).random((30, 25, 25)).astype(np.float32)
    np.save(tmp_path / "patches.npy", x)
    s = load_images(tmp_path / "patches.npy", test_fraction=0.1)
    assert s.shape == (25, 25) and s.train.shape == (27, 625) and s.test.shape == (3, 625)
    assert s.scale == 1.0 and s.notes == ()


def test_nested_folder_of_png_and_jpeg(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(5)
    imgs = rng.integers(0, 256, size=(6, 12, 10), dtype=np.uint8)
    for i, im in enumerate(imgs):
        sub = tmp_path / "glyphs" / ("a" if i < 3 else "b/c")
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(im).save(sub / f"{i}.png")
    (tmp_path / "glyphs" / ".hidden").mkdir()
    Image.fromarray(imgs[0]).save(tmp_path / "glyphs" / ".hidden" / "x.png")   # skipped
    src = open_images(tmp_path / "glyphs")
    np.testing.assert_array_equal(src.read(), imgs)            # path order: a/0..2, b/c/3..5
    s = load_images(tmp_path / "glyphs", test_fraction=0.5)
    assert s.name == "glyphs" and s.shape == (12, 10) and s.train.shape == (3, 120)
    # JPEG: lossy, so compared through the decoder itself
    Image.fromarray(imgs[0]).save(tmp_path / "glyphs" / "a" / "z.jpg", quality=95)
    src = open_images(tmp_path / "glyphs")
    assert src.n == 7 and src.read()[3].shape == (12, 10)
    assert np.abs(src.read()[3].astype(float) - imgs[0]).mean() < 8     # quality 95


def test_keras_and_plain_train_test_archives(tmp_path):
    rng = np.random.default_rng(6)
    train = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=train, y_train=np.zeros(20), x_test=test,
             y_test=np.zeros(5))
    np.savez(tmp_path / "plain.npz", train=train, test=test)
    for name in ("mnist.npz", "plain.npz"):
        s = load_images(tmp_path / name)
        np.testing.assert_array_equal(s.train, (train.reshape(20, -1) / np.float32(255)))
        np.testing.assert_array_equal(s.test, (test.reshape(5, -1) / np.float32(255)))
        assert s.split.startswith("given by the file: ")
    assert open_images(tmp_path / "mnist.npz").n == 20          # advise reads the training set
    np.savez(tmp_path / "odd.npz", x_train=train, x_test=test[..., :27])
    with pytest.raises(DatasetError, match="the test images .* do not match"):
        load_images(tmp_path / "odd.npz")


def test_idx_folder_is_read_as_train_and_test(tmp_path):
    rng = np.random.default_rng(7)
    train = rng.integers(0, 256, size=(12, 10, 10), dtype=np.uint8)
    test = rng.integers(0, 256, size=(4, 10, 10), dtype=np.uint8)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx(train.shape, train.tobytes()))
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(_idx(test.shape, test.tobytes()))
    s = load_images(tmp_path)
    assert s.train.shape == (12, 100) and s.test.shape == (4, 100) and s.shape == (10, 10)
    assert s.split == ("given by the file: train-images-idx3-ubyte / "
                       "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(s.test * 255, test.reshape(4, -1).astype(np.float32))


def test_real_mnist_folder(real_data):
    s = load_images(Path(real_data) / "mnist")
    assert s.name == "mnist" and s.shape == (28, 28) and s.test.shape == (10_000, 784)
    x, _ = data.load("mnist", "test", data_dir=real_data)
    np.testing.assert_array_equal(s.test, x)


@pytest.mark.parametrize("values, kind, words", [
    (np.array([[0.0, 0.5], [1.0000001, 0.2]]), "ok", "rounding only"),
    (np.array([[0.0, 0.5], [254.0, 3.0]]), DatasetError, "float values up to 254 lie outside [0, 1]; "
     "pass --scale 255"),
    (np.array([[0, 1000], [3, 4]], np.uint16), DatasetError, "integer values up to 1000 "
     "exceed 255; pass --scale N"),
    (np.array([[0, 100], [3, 4]], np.uint8), "ok", "the brightest value is 100 of 255"),
    (np.zeros((3, 4)), DatasetError, "every value is 0 (all black): the images are constant"),
    (np.full((3, 4), 7, np.uint8), DatasetError, "every value is 1: the images are constant"),
    (np.array([[0.1, np.nan], [0.2, 0.3]]), DatasetError, "holds NaN (image 0, value 1)"),
    (np.array([[-0.5, 0.1], [0.2, 0.3]]), DatasetError, "values down to -0.5 lie outside [0, 1]"),
])
def test_sense_checks_never_guess_silently(tmp_path, values, kind, words):
    path = tmp_path / "x.npy"
    np.save(path, values)
    if kind == "ok":
        with pytest.warns(DataWarning) as caught:
            s = load_images(path, test_fraction=0.5)
        assert any(words in str(w.message) for w in caught)
        assert s.train.max() <= 1 and s.test.max() <= 1
    else:
        with pytest.raises(kind, match=re.escape(words)):
            load_images(path)


def test_two_dimensional_arrays_need_one_image_to_be_one_image(tmp_path):
    img = np.random.default_rng(8).random((28, 28))
    np.save(tmp_path / "one.npy", img)
    with pytest.warns(DataWarning, match=r"a 2-D array of shape \(28, 28\), read as 28 images "
                                         "of 28 values; pass --one-image"):
        s = load_images(tmp_path / "one.npy")
    assert s.shape == (28,)
    src = open_images(tmp_path / "one.npy", one_image=True)
    assert (src.n, src.image_shape) == (1, (28, 28))
    with pytest.raises(DatasetError, match="holds one image; a training and a test set need"):
        load_images(tmp_path / "one.npy", one_image=True)


def test_limits_are_validated_and_parsed():
    assert Limits(files=5).files == 5
    with pytest.raises(ValueError, match="limits: files must be an integer >= 1"):
        Limits(files=0)
    with pytest.raises(ValueError, match="unknown bound 'nope'"):
        open_images(".", limits={"nope": 3})
    from lossanalysis._limits import parse_limit
    assert parse_limit("total_values=1e9") == ("total_values", 10 ** 9)
    with pytest.raises(ValueError, match="whole number"):
        parse_limit("files=1.5")
    with pytest.raises(LimitError):
        Limits().check("files", 10 ** 6, "x")


# ------------------------------------------------------------------------- the scripts
def test_train_and_compare_on_digits_end_to_end(tmp_path, capsys, monkeypatch):
    """Issue 21's done-when: train --data digits --model vae and compare --data train on 8 x 8
    integers 0-16, with the scale warning, layers that follow the data, labelled outputs."""
    import importlib.util
    root = Path(__file__).resolve().parents[1] / "scripts"
    monkeypatch.syspath_prepend(str(root))

    def script(name):
        spec = importlib.util.spec_from_file_location(f"_s_{name}", root / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    np.save(tmp_path / "digits.npy", np.random.default_rng(9).integers(0, 17, (80, 8, 8)))
    out = tmp_path / "run"
    assert script("train").main(["--model", "vae", "--data", str(tmp_path / "digits.npy"),
                                 "--epochs", "1", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: digits.npy: integer values 0..16, far below 255")
    assert "VAE 64-40-8, bernoulli (nats)" in err and "digits: 64 training, 16 test" in err
    hist = json.loads((out / "metrics.json").read_text())
    assert hist["data"]["name"] == "digits" and hist["data"]["scale"] == 16.0
    assert script("compare_losses").main(["--data", str(tmp_path / "digits.npy"), "--epochs",
                                          "1", "--quiet", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("AE 64-48-16-8 on digits: 64 training and 16 test")
    assert (tmp_path / "compare_digits.png").exists()
    with pytest.raises(SystemExit) as stop:
        script("train").main(["--model", "ae", "--data", str(tmp_path / "nothing.npy")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and "nothing.npy: no such file" in err


def _train_script():
    import importlib.util
    path = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
    spec = importlib.util.spec_from_file_location("_s_train_outputs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_keeps_an_existing_run_and_checks_its_outputs_first(tmp_path, capsys):
    """Row: train.py --out DIR into an existing run silently replaced its checkpoint; a
    read-only --save-recon failed after training with an OSError traceback."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"an earlier run")
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((10, 4)))
    cases = [(["--out", str(run)], "already holds a run (checkpoint.npz); pass --resume to "
                                   "continue it or --force to start over"),
             (["--out", str(_unwritable(tmp_path)), "--save-recon"], "--out: cannot write into"),
             (["--save-recon"], "--save-recon needs --out")]
    for extra, words in cases:
        with pytest.raises(SystemExit) as stop:
            _train_script().main(["--model", "ae", "--data", str(tmp_path / "x.npy"), *extra])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and err.count("\n") == 1 and words in err, err
    assert (run / "checkpoint.npz").read_bytes() == b"an earlier run"


def test_no_data_message_is_complete(tmp_path, capsys, monkeypatch):
    """The message was cut after 'looked for train-images-idx3-ubyte[.gz] in'."""
    import importlib.util
    monkeypatch.delenv("LOSSANALYSIS_DATA", raising=False)
    monkeypatch.setattr(data, "CACHE_ROOT", tmp_path / "cache")
    monkeypatch.setattr(data, "SYSTEM_ROOT", tmp_path / "system")
    path = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
    spec = importlib.util.spec_from_file_location("_s_train_nodata", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit):
        module.main(["--model", "ae"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"in {tmp_path / 'cache' / 'mnist'}, {tmp_path / 'system' / 'mnist'}. To get the " \
           "files, run `python -m lossanalysis download mnist`" in err, err


# ------------------------------------------------------------------------- fuzz
import matplotlib.image  # noqa: E402,F401  (imported once here, not inside a timed example)
from hypothesis import HealthCheck, given, reject, settings, strategies as st  # noqa: E402

_DIMS = st.integers(0, 2 ** 32 - 1) | st.integers(0, 70)
_SUFFIXES = st.sampled_from([".npy", ".npz", ".png", ".jpg", ".jpeg", ".gz", "-idx3-ubyte",
                             "-idx3-ubyte.gz", "", ".txt"])
_NAMES = st.text(st.characters(blacklist_characters="/\0", blacklist_categories=("Cs",)),
                 min_size=1, max_size=20).filter(lambda n: n not in (".", "..")
                                                 and len(n.encode("utf-8", "surrogatepass"))
                                                 < 200)


@st.composite
def hostile_files(draw):
    kind = draw(st.sampled_from(["png", "jpeg", "npy", "npz", "idx", "gz", "bytes"]))
    tail = draw(st.binary(max_size=300))
    if kind == "png":
        w, h = draw(_DIMS), draw(_DIMS)
        head = _png_header(w % 2 ** 31, h % 2 ** 31, draw(st.sampled_from([0, 2, 3, 4, 6, 7])))
        return head + tail
    if kind == "jpeg":
        h, w = draw(st.integers(0, 65535)), draw(st.integers(0, 65535))
        sof = (b"\xff\xc0\x00\x11\x08" + h.to_bytes(2, "big") + w.to_bytes(2, "big")
               + bytes([draw(st.integers(0, 255))]))
        return b"\xff\xd8" + draw(st.sampled_from([b"", b"\xff\xe0\x00\x02", b"\xff\xff\xff"])) \
            + sof + tail
    if kind == "npy":
        shape = tuple(draw(st.lists(st.integers(-2, 10 ** 13) | st.integers(0, 9), max_size=4)))
        descr = draw(st.sampled_from(["|u1", "<f4", "<f8", "|b1", "|O", "<c8", "<U3", "V8"]))
        return _npy_header(shape, descr) + tail
    if kind == "npz":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)       # duplicate names: wanted here
            for i in range(draw(st.integers(0, 3))):
                shape = tuple(draw(st.lists(st.integers(0, 10 ** 12) | st.integers(0, 9),
                                            max_size=3)))
                zf.writestr(draw(st.sampled_from(["images.npy", "x_train.npy", "x_test.npy",
                                                  f"m{i}.npy", "train.npy", "dir/"])),
                            _npy_header(shape) + draw(st.binary(max_size=100)))
        blob = buf.getvalue()
        cut = draw(st.integers(0, len(blob)))
        return blob if draw(st.booleans()) else blob[:cut]
    if kind == "idx":
        return _idx(tuple(draw(st.lists(_DIMS, min_size=3, max_size=3))), tail)
    if kind == "gz":
        inner = _idx(tuple(draw(st.lists(_DIMS, min_size=3, max_size=3))), tail)
        blob = gzip.compress(inner)
        return blob[:draw(st.integers(0, len(blob)))]
    return tail


_FUZZ_LIMITS = Limits(image_values=2 ** 16, total_values=2 ** 20, array_bytes=2 ** 23,
                      files=50)


#: Examples per run (a longer hunt: LOSSANALYSIS_FUZZ_EXAMPLES=2000; 1,500 passed when written).
FUZZ_EXAMPLES = int(os.environ.get("LOSSANALYSIS_FUZZ_EXAMPLES", "60"))


@settings(max_examples=FUZZ_EXAMPLES, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(content=hostile_files(), name=_NAMES, suffix=_SUFFIXES, in_folder=st.booleans(),
       one_image=st.booleans())
def test_fuzz_hostile_files(content, name, suffix, in_folder, one_image):
    """Generated bombs, broken headers and odd names: images or one ValueError line (the file
    name escaped), never another exception, within the deadline and a bounded memory."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "d"
        folder.mkdir()
        try:
            path = folder / (name + suffix)
            path.write_bytes(content)
        except (OSError, ValueError):
            reject()                            # a name this file system cannot hold
        target = folder if in_folder else path
        with Peak() as mem:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DataWarning)
                    s = load_images(target, one_image=one_image, limits=_FUZZ_LIMITS)
            except ValueError as err:
                shown = _text.terminal(str(err))
                assert "\n" not in shown and "\x1b" not in shown
                assert str(err).strip(), "an empty message"
            else:
                assert s.train.dtype == np.float32 and s.train.ndim == 2
                assert 0 <= s.train.min() and s.train.max() <= 1
        assert mem.peak < 64 * MB, mem.peak
