"""Tests for lossanalysis.data: IDX parsing, file search, downloads, intensity summaries.

Unit tests build their own small IDX files and serve downloads from a local HTTP server
on 127.0.0.1; nothing here touches the internet.  The tests marked ``real`` read the
folder named by LOSSANALYSIS_DATA (CI sets it to ../shared/data).
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import socket
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lossanalysis.data as data
from lossanalysis.__main__ import main

# Captured before the sandbox fixture below removes it from the environment.

ALL_FILES = [base for split in data.SPLITS for base in data.FILES[split]]


# --------------------------------------------------------------------------- helpers


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Encode a uint8 array as IDX: magic, big-endian uint32 sizes, then the bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x00000800 | array.ndim
    header = magic.to_bytes(4, "big") + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


def write_idx(path: Path, payload: bytes, gz: bool) -> Path:
    """Write IDX bytes to ``path`` (with ``.gz`` appended and compressed when ``gz``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload, mtime=0))
    else:
        path.write_bytes(payload)
    return path


def make_images(n: int, seed: int = 0) -> np.ndarray:
    images = np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = 0
    images[:, 0, 1] = 255
    return images


def write_split(folder: Path, split: str, n: int = 5, label: int | None = None,
                gz: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Write a valid split to ``folder``; labels all equal ``label`` if given."""
    images = make_images(n, seed)
    labels = (np.arange(n) % 10 if label is None else np.full(n, label)).astype(np.uint8)
    img_base, lab_base = data.FILES[split]
    write_idx(folder / img_base, idx_bytes(images), gz)
    write_idx(folder / lab_base, idx_bytes(labels), gz)
    return images, labels


def write_dataset(folder: Path, label: int | None = None, gz: bool = True) -> None:
    for split in data.SPLITS:
        write_split(folder, split, n=6 if split == "train" else 4, label=label, gz=gz)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def sandbox(tmp_path, monkeypatch):
    """Keep every test away from the real home, cache, /usr/share and the network."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "CACHE_ROOT", tmp_path / "cache")
    monkeypatch.setattr(data, "SYSTEM_ROOT", tmp_path / "system")
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.delenv(data.MIRRORS_ENV, raising=False)
    monkeypatch.setenv("no_proxy", "*")  # the local test server must not go through a proxy
    # Any URL left pointing at the internet would fail loudly rather than be fetched.
    monkeypatch.setattr(data, "MIRRORS", {name: ("http://127.0.0.1:9/",) for name in data.DATASETS})
    return tmp_path


# --------------------------------------------------------------------------- loading


@pytest.mark.parametrize("gz", [True, False])
def test_load_round_trip(tmp_path, gz):
    images, labels = write_split(tmp_path / "d", "train", n=7, gz=gz)
    raw, raw_labels = data.load("mnist", "train", data_dir=tmp_path / "d", raw=True)
    assert raw.dtype == np.uint8 and raw.shape == (7, 28, 28)
    np.testing.assert_array_equal(raw, images)
    np.testing.assert_array_equal(raw_labels, labels)
    assert raw_labels.dtype == np.uint8
    raw[0, 0, 0] = 1  # the raw array is an ordinary writable array

    x, y = data.load("mnist", "train", data_dir=tmp_path / "d")
    assert x.dtype == np.float32 and x.shape == (7, 784)
    assert x.flags.c_contiguous
    np.testing.assert_array_equal(x, images.reshape(7, -1) / np.float32(255))
    np.testing.assert_array_equal(y, labels)
    assert x[:, 0].max() == 0.0 and x[:, 1].min() == 1.0  # exact ends of the range
    assert x.min() >= 0.0 and x.max() <= 1.0


def test_float_values_are_correctly_rounded(tmp_path):
    """v/255 in float32 equals the float64 quotient rounded once; 51 -> 0.2, 204 -> 0.8."""
    images = np.resize(np.arange(256, dtype=np.uint8), (1, 28, 28))
    write_split(tmp_path, "test", n=1)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(images), gz=True)
    x, _ = data.load("mnist", "test", data_dir=tmp_path)
    expected = (images.reshape(1, -1) / 255.0).astype(np.float32)
    np.testing.assert_array_equal(x, expected)
    assert x[0, 51] == np.float32(0.2) and x[0, 204] == np.float32(0.8)


def test_bad_name_or_split_lists_choices(tmp_path):
    with pytest.raises(ValueError, match="mnist, fashion-mnist") as info:
        data.load("cifar", data_dir=tmp_path)
    assert not isinstance(info.value, data.DatasetError)
    with pytest.raises(ValueError, match="train, test"):
        data.load("mnist", "validation", data_dir=tmp_path)
    with pytest.raises(ValueError, match="train, test"):
        data.find_files("mnist", "val")


def test_dataset_error_is_value_error():
    assert issubclass(data.DatasetError, ValueError)


def _wrong_image_magic(folder):
    write_idx(folder / "train-images-idx3-ubyte", idx_bytes(make_images(3), magic=0x801), True)


def _wrong_label_magic(folder):
    write_idx(folder / "train-labels-idx1-ubyte",
              idx_bytes(np.zeros((3, 1), np.uint8), magic=0x803), True)


def _wrong_dims(folder):
    write_idx(folder / "train-images-idx3-ubyte", idx_bytes(np.zeros((3, 27, 28), np.uint8)), True)


def _short_payload(folder):
    write_idx(folder / "train-images-idx3-ubyte", idx_bytes(make_images(3))[:-10], True)


def _short_payload_plain(folder):
    (folder / "train-images-idx3-ubyte.gz").unlink()
    write_idx(folder / "train-images-idx3-ubyte", idx_bytes(make_images(3))[:-10], False)


def _long_payload(folder):
    write_idx(folder / "train-images-idx3-ubyte", idx_bytes(make_images(3)) + b"\0", True)


def _long_payload_plain(folder):
    (folder / "train-images-idx3-ubyte.gz").unlink()
    write_idx(folder / "train-images-idx3-ubyte", idx_bytes(make_images(3)) + b"\0", False)


def _header_only(folder):
    write_idx(folder / "train-images-idx3-ubyte", b"\0\0\x08", True)


def _truncated_gzip(folder):
    path = folder / "train-images-idx3-ubyte.gz"
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])


def _garbage_gzip(folder):
    path = folder / "train-images-idx3-ubyte.gz"
    blob = bytearray(path.read_bytes())
    middle = len(blob) // 2
    blob[middle : middle + 20] = bytes(b ^ 0xFF for b in blob[middle : middle + 20])
    path.write_bytes(bytes(blob))


def _not_gzip(folder):
    (folder / "train-images-idx3-ubyte.gz").write_bytes(idx_bytes(make_images(3)))


def _count_mismatch(folder):
    write_idx(folder / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)), True)


def _label_out_of_range(folder):
    write_idx(folder / "train-labels-idx1-ubyte", idx_bytes(np.array([0, 10, 3], np.uint8)), True)


def _missing_labels(folder):
    (folder / "train-labels-idx1-ubyte.gz").unlink()


@pytest.mark.parametrize(
    "damage, file, words",
    [
        (_wrong_image_magic, "train-images", "magic"),
        (_wrong_label_magic, "train-labels", "magic"),
        (_wrong_dims, "train-images", "27x28"),
        (_short_payload, "train-images", "payload"),
        (_short_payload_plain, "train-images", "payload"),
        (_long_payload, "train-images", "payload"),
        (_long_payload_plain, "train-images", "payload"),
        (_header_only, "train-images", "too short"),
        (_truncated_gzip, "train-images", "gzip"),
        (_garbage_gzip, "train-images", "gzip"),
        (_not_gzip, "train-images", "gzip"),
        (_count_mismatch, "train-labels", "4 labels"),
        (_label_out_of_range, "train-labels", "out of range"),
        (_missing_labels, "train-labels", "labels"),
    ],
)
def test_malformed_files_raise_dataset_error(tmp_path, damage, file, words):
    write_split(tmp_path, "train", n=3)
    damage(tmp_path)
    with pytest.raises(data.DatasetError) as info:
        data.load("mnist", "train", data_dir=tmp_path)
    message = str(info.value)
    assert file in message
    assert words in message


# --------------------------------------------------------------------------- search order


def _label_of(name="mnist", split="train", **kw) -> int:
    _, labels = data.load(name, split, **kw)
    return int(labels[0])


def test_search_order(sandbox, monkeypatch):
    explicit, env, cache, system = (sandbox / d for d in ("explicit", "env", "cache", "system"))
    write_dataset(system / "mnist", label=4)
    assert _label_of() == 4
    write_dataset(cache / "mnist", label=3)
    assert _label_of() == 3
    write_dataset(env / "mnist", label=2)
    monkeypatch.setenv(data.DATA_ENV, str(env))
    assert _label_of() == 2
    write_dataset(explicit, label=1)
    assert _label_of(data_dir=explicit) == 1


def test_cache_follows_home(sandbox, monkeypatch):
    monkeypatch.setattr(data, "CACHE_ROOT", Path("~/.cache/lossanalysis"))
    write_dataset(sandbox / "home" / ".cache" / "lossanalysis" / "fashion-mnist", label=5)
    assert _label_of("fashion-mnist") == 5


def test_data_dir_may_be_a_parent(sandbox):
    write_dataset(sandbox / "parent" / "fashion-mnist", label=7)
    write_dataset(sandbox / "parent" / "mnist", label=8)
    assert _label_of("fashion-mnist", data_dir=sandbox / "parent") == 7
    assert _label_of("mnist", data_dir=sandbox / "parent") == 8


def test_env_folder_may_hold_the_files_itself(sandbox, monkeypatch):
    write_dataset(sandbox / "flat", label=6)
    monkeypatch.setenv(data.DATA_ENV, str(sandbox / "flat"))
    assert _label_of() == 6


def test_a_hit_is_per_split(sandbox, monkeypatch):
    """A folder holding only the test files does not hide a later folder's train files."""
    write_split(sandbox / "env" / "mnist", "test", label=2)
    write_dataset(sandbox / "cache" / "mnist", label=3)
    monkeypatch.setenv(data.DATA_ENV, str(sandbox / "env"))
    assert _label_of(split="test") == 2
    assert _label_of(split="train") == 3


def test_uncompressed_and_gz_both_found(sandbox):
    write_split(sandbox / "a", "train", label=1, gz=False)
    write_split(sandbox / "a", "test", label=2, gz=True)
    assert _label_of(data_dir=sandbox / "a") == 1
    assert _label_of(split="test", data_dir=sandbox / "a") == 2
    images, labels = data.find_files("mnist", "train", sandbox / "a")
    assert images.name == "train-images-idx3-ubyte" and labels.parent == sandbox / "a"


def test_not_found_lists_every_place_and_how_to_get_files(sandbox, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(sandbox / "env"))
    with pytest.raises(data.DatasetError) as info:
        data.load("fashion-mnist", "test", data_dir=sandbox / "mine")
    message = str(info.value)
    for place in (
        sandbox / "mine",
        sandbox / "mine" / "fashion-mnist",
        sandbox / "env" / "fashion-mnist",
        sandbox / "env",
        sandbox / "cache" / "fashion-mnist",
        sandbox / "system" / "fashion-mnist",
    ):
        assert f"- {place}\n" in message + "\n"
    assert "t10k-images-idx3-ubyte" in message
    assert "python -m lossanalysis download fashion-mnist" in message
    assert "LOSSANALYSIS_DATA" in message


# --------------------------------------------------------------------------- intensity summary


def test_intensity_summary_known_values():
    values = np.array([0, 0, 0, 0, 255, 51, 52, 203, 204, 128], dtype=np.uint8)
    s = data.intensity_summary(values)
    assert s.n_pixels == 10
    assert s.frac_zero == 0.4
    assert s.frac_one == 0.1
    assert s.frac_between == 0.5
    assert s.frac_mid == 0.3  # 52, 203 and 128; 51 (=0.2) and 204 (=0.8) are not inside
    assert s.frac_mid_of_nonzero == 0.5
    assert len(s.hist_counts) == 20 and len(s.hist_edges) == 21
    assert s.hist_edges[0] == 0.0 and s.hist_edges[-1] == 1.0
    assert sum(s.hist_counts) == 10
    assert s.hist_counts[0] == 4 and s.hist_counts[-1] == 1  # 1.0 falls in the last bin
    assert s.hist_counts[4] == 2  # 51/255 = 0.2 and 52/255 share the bin [0.2, 0.25)
    assert data.intensity_summary(values / 255.0) == s
    assert data.intensity_summary(values.astype(np.int64)) == s
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.frac_zero = 0.0  # type: ignore[misc]


def test_intensity_summary_all_zero_has_nan_ratio():
    s = data.intensity_summary(np.zeros((2, 28, 28), np.float32))
    assert s.frac_zero == 1.0 and np.isnan(s.frac_mid_of_nonzero)


@pytest.mark.parametrize(
    "bad, error",
    [
        (np.array([], np.uint8), ValueError),
        (np.array([0.5, 1.5]), ValueError),
        (np.array([-0.1, 0.5]), ValueError),
        (np.array([np.nan, 0.5]), ValueError),
        (np.array([0, 256]), ValueError),
        (np.array([True, False]), TypeError),
    ],
)
def test_intensity_summary_rejects_bad_input(bad, error):
    with pytest.raises(error):
        data.intensity_summary(bad)


def test_ragged_images_are_refused_by_name():
    # found by tests/test_fuzz.py in a fresh clone: NumPy's own message named no argument
    with pytest.raises(ValueError, match="^images must be a regular array"):
        data.intensity_summary([[0.2], [0.3, 0.1]])


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=3, max_side=30)),
    st.integers(1, 64),
)
def test_intensity_summary_same_for_uint8_and_floats(values, bins):
    def fields(summary):  # NaN (all pixels zero) compares equal to itself here
        return [None if v != v else v for v in dataclasses.astuple(summary)]

    s = data.intensity_summary(values, bins=bins)
    assert fields(data.intensity_summary(values / np.float32(255), bins=bins)) == fields(s)
    assert fields(data.intensity_summary(values / 255.0, bins=bins)) == fields(s)
    assert sum(s.hist_counts) == s.n_pixels == values.size
    assert s.frac_zero + s.frac_one + s.frac_between == pytest.approx(1.0)
    assert 0.0 <= s.frac_mid <= s.frac_between
    if s.frac_zero < 1:
        assert s.frac_mid_of_nonzero == pytest.approx(s.frac_mid / (1 - s.frac_zero))
    expected = np.histogram(values.astype(np.int64) * bins, bins=bins, range=(0, 255 * bins))[0]
    assert s.hist_counts == tuple(int(c) for c in expected)


# --------------------------------------------------------------------------- downloads


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; paths under /short/ promise the whole file but send half of it."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/short/"):
            blob = (Path(self.directory) / "good" / self.path.rsplit("/", 1)[1]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(blob)))
            self.end_headers()
            self.wfile.write(blob[: len(blob) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """A local HTTP server with mirrors good/, corrupt/ (wrong checksum), truncated/,
    short/ (connection closed early) and missing/ (404); yields (base URL, checksums)."""
    root = tmp_path / "www"
    good = root / "good"
    write_dataset(good)
    checksums = {path.name: md5(path) for path in good.iterdir()}
    (root / "corrupt").mkdir()
    (root / "truncated").mkdir()
    for path in good.iterdir():
        blob = path.read_bytes()
        (root / "corrupt" / path.name).write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
        (root / "truncated" / path.name).write_bytes(blob[: len(blob) // 2])
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", checksums
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def refused_url():
    """A URL on a local port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_download_then_load(server, sandbox, capsys):
    base, checksums = server
    folder = data.download("mnist", sandbox / "dl", mirrors=[base + "/good/"], checksums=checksums)
    assert folder == sandbox / "dl" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(checksums)
    assert all(md5(folder / name) == digest for name, digest in checksums.items())
    x, y = data.load("mnist", "test", data_dir=sandbox / "dl")
    assert x.shape == (4, 784) and y.shape == (4,)
    err = capsys.readouterr().err
    assert "t10k-images-idx3-ubyte.gz" in err and "bytes" in err


def test_download_quiet_prints_nothing(server, sandbox, capsys):
    base, checksums = server
    data.download("mnist", sandbox / "dl", mirrors=[base + "/good"], checksums=checksums,
                  quiet=True)
    assert capsys.readouterr() == ("", "")


def test_failing_mirrors_are_skipped(server, sandbox, refused_url):
    base, checksums = server
    mirrors = [refused_url] + [f"{base}/{m}/" for m in ("missing", "corrupt", "short", "good")]
    folder = data.download("fashion-mnist", sandbox / "dl", mirrors=mirrors,
                           checksums=checksums, quiet=True)
    assert all(md5(folder / name) == digest for name, digest in checksums.items())


@pytest.mark.parametrize("mirror", ["corrupt", "truncated", "short", "missing"])
def test_bad_download_leaves_nothing(server, sandbox, mirror):
    base, checksums = server
    target = sandbox / "dl"
    target.mkdir()
    with pytest.raises(data.DatasetError) as info:
        data.download("mnist", target, mirrors=[f"{base}/{mirror}/"], checksums=checksums,
                      quiet=True)
    assert f"{base}/{mirror}/train-images-idx3-ubyte.gz" in str(info.value)
    assert list(target.rglob("*")) == []  # no file, no temp file, no empty mnist/ folder
    with pytest.raises(data.DatasetError, match="no mnist train data found"):
        data.load("mnist", data_dir=target)


@pytest.mark.parametrize("mirror", ["corrupt", "truncated"])
def test_bad_download_reason_is_checksum(server, sandbox, mirror):
    base, checksums = server
    with pytest.raises(data.DatasetError, match="checksum mismatch"):
        data.download("mnist", sandbox / "dl", mirrors=[f"{base}/{mirror}/"],
                      checksums=checksums, quiet=True)


def test_short_read_is_reported(server, sandbox):
    base, checksums = server
    with pytest.raises(data.DatasetError, match="incomplete"):
        data.download("mnist", sandbox / "dl", mirrors=[f"{base}/short/"],
                      checksums=checksums, quiet=True)


def test_offline_download_is_a_clear_error(sandbox, refused_url):
    with pytest.raises(data.DatasetError) as info:
        data.download("mnist", sandbox / "dl", mirrors=[refused_url], quiet=True)
    message = str(info.value)
    assert "could not download train-images-idx3-ubyte.gz" in message
    assert refused_url in message
    assert not (sandbox / "dl").exists()


def test_failure_midway_keeps_verified_files_only(server, sandbox):
    """A file that fails does not disturb the files verified before it."""
    base, checksums = server
    sums = dict(checksums, **{"t10k-images-idx3-ubyte.gz": "0" * 32})
    with pytest.raises(data.DatasetError, match="t10k-images"):
        data.download("mnist", sandbox / "dl", mirrors=[base + "/good/"], checksums=sums,
                      quiet=True)
    folder = sandbox / "dl" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    assert data.load("mnist", data_dir=folder)[0].shape == (6, 784)


def test_interrupted_download_leaves_no_temp_file(server, sandbox, monkeypatch):
    base, checksums = server

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(data.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        data.download("mnist", sandbox / "dl", mirrors=[base + "/good/"], checksums=checksums,
                      quiet=True)
    assert list((sandbox / "dl").rglob("*")) == []


def test_missing_checksum_refuses_download(server, sandbox):
    base, checksums = server
    with pytest.raises(data.DatasetError, match="no checksum"):
        data.download("mnist", sandbox / "dl", mirrors=[base + "/good/"], checksums={}, quiet=True)


def test_existing_files_are_kept_and_not_checksummed(server, sandbox):
    base, checksums = server
    folder = sandbox / "dl" / "mnist"
    write_split(folder, "train", n=3, label=9)  # a user's subset, not the "canonical" files
    before = md5(folder / "train-images-idx3-ubyte.gz")
    data.download("mnist", sandbox / "dl", mirrors=[base + "/good/"], checksums=checksums,
                  quiet=True)
    assert md5(folder / "train-images-idx3-ubyte.gz") == before
    assert md5(folder / "t10k-images-idx3-ubyte.gz") == checksums["t10k-images-idx3-ubyte.gz"]
    assert data.load("mnist", data_dir=folder)[1].tolist() == [9, 9, 9]
    data.download("mnist", sandbox / "dl", mirrors=[base + "/good/"], checksums=checksums,
                  quiet=True, force=True)
    assert md5(folder / "train-images-idx3-ubyte.gz") == checksums["train-images-idx3-ubyte.gz"]


def test_load_with_download_uses_module_tables(server, sandbox, monkeypatch):
    base, checksums = server
    monkeypatch.setattr(data, "MIRRORS", {"mnist": (base + "/missing/", base + "/{name}/")})
    (sandbox / "www" / "good").rename(sandbox / "www" / "mnist")
    monkeypatch.setattr(data, "CHECKSUMS", {"mnist": checksums})
    with pytest.raises(data.DatasetError):
        data.load("mnist")
    x, y = data.load("mnist", "train", download=True, quiet=True)
    assert x.shape == (6, 784)
    assert sorted(p.name for p in (sandbox / "cache" / "mnist").iterdir()) == sorted(checksums)


def test_mirrors_from_environment(server, sandbox, monkeypatch, refused_url):
    base, checksums = server
    monkeypatch.setenv(data.MIRRORS_ENV, f"{refused_url}, {base}/good/")
    folder = data.download("mnist", sandbox / "dl", checksums=checksums, quiet=True)
    assert len(list(folder.iterdir())) == 4


def test_cli_download(server, sandbox, monkeypatch, capsys, refused_url):
    base, checksums = server
    monkeypatch.setitem(data.CHECKSUMS, "mnist", checksums)
    status = main(["download", "mnist", "--dir", str(sandbox / "dl"), "-q",
                   "--mirror", refused_url, "--mirror", base + "/good/"])
    assert status == 0
    assert capsys.readouterr().out.strip() == str(sandbox / "dl" / "mnist")
    assert len(list((sandbox / "dl" / "mnist").iterdir())) == 4

    status = main(["download", "mnist", "--dir", str(sandbox / "dl2"), "-q",
                   "--mirror", refused_url])
    assert status == 1
    assert "could not download" in capsys.readouterr().err
    assert not (sandbox / "dl2").exists()


def test_cli_rejects_unknown_dataset(capsys):
    with pytest.raises(SystemExit):
        main(["download", "cifar"])
    assert "fashion-mnist" in capsys.readouterr().err


# --------------------------------------------------------------------------- real data


@pytest.fixture
def real(real_data, monkeypatch):
    """Loader for the real datasets (see conftest.real_data)."""
    monkeypatch.setenv(data.DATA_ENV, real_data)
    return _load_real


@functools.lru_cache(maxsize=None)
def _load_real(name, split, raw=False):
    images, labels = data.load(name, split, raw=raw)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


@pytest.mark.parametrize(
    "name, split, sizes",
    [
        # The shared MNIST train files are a 10,000-image subset; full MNIST also passes.
        ("mnist", "train", (10_000, 60_000)),
        ("mnist", "test", (10_000,)),
        ("fashion-mnist", "train", (60_000,)),
        ("fashion-mnist", "test", (10_000,)),
    ],
)
def test_real_shapes_and_labels(real, name, split, sizes):
    x, y = real(name, split)
    n = len(x)
    assert n in sizes
    assert x.shape == (n, 784) and x.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.uint8
    assert x.min() == 0.0 and x.max() == 1.0
    raw, raw_y = real(name, split, raw=True)
    assert raw.shape == (n, 28, 28) and raw.dtype == np.uint8
    np.testing.assert_array_equal(raw_y, y)
    np.testing.assert_array_equal(x, raw.reshape(n, -1) / np.float32(255))
    share = np.bincount(y, minlength=10) / n
    assert len(share) == 10
    assert share.min() > 0.05 and share.max() < 0.15


def _ratio_and_se(raw: np.ndarray) -> tuple[float, float]:
    """Share of non-zero pixels strictly inside (0.2, 0.8), pooled over images, with its
    standard error from the image-to-image variation (ratio estimator)."""
    flat = raw.reshape(len(raw), -1)
    mid = ((flat > 51) & (flat < 204)).sum(axis=1).astype(np.float64)
    nonzero = (flat > 0).sum(axis=1).astype(np.float64)
    ratio = mid.sum() / nonzero.sum()
    se = np.sqrt(np.sum((mid - ratio * nonzero) ** 2)) / nonzero.sum()
    return float(ratio), float(se)


@pytest.mark.parametrize("split", data.SPLITS)
def test_real_fashion_is_far_less_binary_than_mnist(real, split):
    mnist = data.intensity_summary(real("mnist", split)[0])
    fashion = data.intensity_summary(real("fashion-mnist", split)[0])
    assert mnist == data.intensity_summary(real("mnist", split, raw=True)[0])
    ratio_m, se_m = _ratio_and_se(real("mnist", split, raw=True)[0])
    ratio_f, se_f = _ratio_and_se(real("fashion-mnist", split, raw=True)[0])
    assert mnist.frac_mid_of_nonzero == pytest.approx(ratio_m)
    assert fashion.frac_mid_of_nonzero == pytest.approx(ratio_f)
    gap = fashion.frac_mid_of_nonzero - mnist.frac_mid_of_nonzero
    assert gap > 0
    assert gap > 20 * np.hypot(se_m, se_f)  # a clear gap, not sampling noise
    assert mnist.frac_zero > fashion.frac_zero  # MNIST digits cover less of the frame
