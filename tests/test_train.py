"""Tests of lossanalysis.nn.train: determinism, exact resume, divergence, files, the script."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossanalysis.nn import AE, VAE, TrainingDiverged, load_checkpoint, train

ROOT = Path(__file__).resolve().parents[1]
LOSS_KEYS = ("train_loss", "train_rec", "train_kl", "test_loss", "test_rec", "test_kl")


def _data(n, d=12, seed=0):
    x = np.random.default_rng(seed).random((n, d), dtype=np.float32)
    x[x < 0.4] = 0
    x[x > 0.9] = 1
    return x


X_TRAIN, X_TEST = _data(50), _data(20, seed=1)


def _vae(seed=0):
    return VAE((12, 8, 3), likelihood="bernoulli", seed=seed)


def _run(model, **kw):
    kw.setdefault("epochs", 2)
    kw.setdefault("batch_size", 16)
    kw.setdefault("quiet", True)
    return train(model, X_TRAIN, X_TEST, **kw)


def test_history_contents_and_learning():
    model = _vae()
    hist = _run(model, epochs=4, lr=1e-2)
    assert hist["epoch"] == [1, 2, 3, 4]
    for k in LOSS_KEYS + ("step_time_median", "step_time_mean", "epoch_time"):
        assert len(hist[k]) == 4 and all(np.isfinite(hist[k]))
    for split in ("train", "test"):
        np.testing.assert_allclose(hist[f"{split}_loss"],
                                   np.add(hist[f"{split}_rec"], hist[f"{split}_kl"]), rtol=1e-6)
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    assert hist["config"]["batch_size"] == 16 and hist["model"]["class"] == "VAE"


def test_same_seed_gives_bitwise_identical_runs():
    a, b = _vae(), _vae()
    ha, hb = _run(a, seed=3), _run(b, seed=3)
    for k in LOSS_KEYS:
        assert ha[k] == hb[k]
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    hc = _run(_vae(), seed=4)
    assert hc["train_loss"] != ha["train_loss"]


def test_fixed_data_order_without_shuffling():
    a, b = AE((12, 6, 3), seed=0), AE((12, 6, 3), seed=0)
    _run(a, shuffle=False, seed=1)
    _run(b, shuffle=False, seed=2)        # the seed only drives shuffling (and VAE noise)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_is_exact(tmp_path, optimizer):
    straight = _vae()
    h_straight = _run(straight, epochs=2, optimizer=optimizer, out_dir=str(tmp_path / "a"))
    resumed = _vae()
    _run(resumed, epochs=1, optimizer=optimizer, out_dir=str(tmp_path / "b"))
    fresh = _vae(seed=9)                  # different initial weights: all state must come from disk
    h_resumed = _run(fresh, epochs=2, optimizer=optimizer, out_dir=str(tmp_path / "b"), resume=True)
    for k in LOSS_KEYS:
        assert h_straight[k] == h_resumed[k]
    for k in straight.params:
        np.testing.assert_array_equal(straight.params[k], fresh.params[k])
    on_disk = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert on_disk["train_loss"] == h_resumed["train_loss"]
    assert load_checkpoint(str(tmp_path / "b" / "checkpoint.npz"))["epoch"] == 2
    assert sorted(os.listdir(tmp_path / "b")) == ["checkpoint.npz", "metrics.json"]  # no temp files


def test_resume_refuses_other_settings(tmp_path):
    _run(_vae(), epochs=1, out_dir=str(tmp_path))
    with pytest.raises(ValueError, match="batch_size"):
        _run(_vae(), epochs=2, batch_size=8, out_dir=str(tmp_path), resume=True)


class _NaNAfter(AE):
    """An AE whose gradients turn NaN at one call, to simulate divergence."""

    def __init__(self, at_call, **kw):
        super().__init__((12, 6, 3), **kw)
        self.calls, self.at_call = 0, at_call

    def loss_and_grads(self, x, eps=None, rng=None):
        loss, grads = super().loss_and_grads(x, eps, rng)
        self.calls += 1
        if self.calls == self.at_call:
            grads["dec.0.W"][0, 0] = np.nan
        return loss, grads


def test_nan_stops_training_and_keeps_last_checkpoint(tmp_path):
    steps_per_epoch = 4   # 50 examples, batch 16
    model = _NaNAfter(at_call=steps_per_epoch + 3, seed=0)
    with pytest.raises(TrainingDiverged, match=r"epoch 2, step 3: non-finite gradient in dec\.0\.W") as err:
        _run(model, epochs=3, out_dir=str(tmp_path))
    assert (err.value.epoch, err.value.step) == (2, 3)
    saved = load_checkpoint(str(tmp_path / "checkpoint.npz"))
    assert saved["epoch"] == 1
    reference = AE((12, 6, 3), seed=0)
    _run(reference, epochs=1)
    for k in reference.params:
        np.testing.assert_array_equal(saved["params"][k], reference.params[k])
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz", "metrics.json"]


def test_huge_learning_rate_diverges_with_a_clear_error():
    with pytest.raises(TrainingDiverged, match=r"training diverged at epoch 1, step \d+"):
        _run(AE((12, 6, 3), loss="mse", seed=0), optimizer="sgd", lr=1e30, epochs=3)


def test_progress_lines_and_quiet(capsys):
    _run(_vae(), epochs=2, quiet=False)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("epoch 1/2") and "test" in err[0] and "ETA" in err[0]
    _run(_vae(), epochs=1, quiet=True)
    assert capsys.readouterr().err == ""


def test_train_rejects_bad_data_and_settings():
    model = _vae()
    cases = [({"x_train": X_TRAIN * 255}, r"x_train must lie in \[0, 1\]"),
             ({"x_train": X_TRAIN[:, :10]}, r"x_train must have shape \(examples, 12\)"),
             ({"x_test": np.full((3, 12), np.nan, np.float32)}, "x_test holds NaN"),
             ({"epochs": 1.5}, "epochs must be an integer"),
             ({"batch_size": 0}, "batch_size must be >= 1"),
             ({"lr": -1.0}, "learning rate must be positive"),
             ({"resume": True}, "needs out_dir")]
    for kw, match in cases:
        args = {"x_train": X_TRAIN, "x_test": X_TEST, "epochs": 1, "quiet": True, **kw}
        with pytest.raises(ValueError, match=match):
            train(model, args.pop("x_train"), args.pop("x_test"), **args)


def test_resume_refuses_another_model_or_a_damaged_file(tmp_path):
    _run(AE((12, 6, 3), loss="bce", seed=0), epochs=1, out_dir=str(tmp_path))
    with pytest.raises(ValueError, match="different model"):
        _run(AE((12, 6, 3), loss="mse", seed=0), epochs=2, out_dir=str(tmp_path), resume=True)
    (tmp_path / "checkpoint.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        _run(AE((12, 6, 3), loss="bce", seed=0), epochs=2, out_dir=str(tmp_path), resume=True)


def _script():
    """scripts/train.py as a module (its main() runs in-process: fast)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("train_script", ROOT / "scripts" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv,match", [
    (["--model", "ae", "--loss", "nope"], "unknown loss 'nope'"),
    (["--model", "ae", "--loss", "focal", "--loss-param", "gamma"], "NAME=NUMBER"),
    (["--model", "ae", "--layers", "784,abc"], "comma-separated"),
    (["--model", "ae", "--layers", "784"], "two or more sizes"),
    (["--model", "vae", "--likelihood", "poisson"], "unknown likelihood"),
    (["--model", "vae", "--likelihood", "gaussian", "--sigma", "wide"], "sigma must be"),
    (["--model", "ae", "--n-train", "0"], "--n-train"),
    (["--model", "ae", "--data-dir", "{damaged}"], "train-images-idx3-ubyte"),
])
def test_train_script_reports_bad_input_in_one_line(argv, match, capsys, tmp_path):
    damaged = tmp_path / "mnist"          # files that are there but are no IDX files
    damaged.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (damaged / name).write_bytes(b"not an idx file")
    argv = [a.replace("{damaged}", str(damaged)) for a in argv]
    code = _script().main(argv + ["--epochs", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and match in err, err
    assert "Traceback" not in err


def test_train_script_end_to_end(tmp_path, real_data):
    out = tmp_path / "run"

    def run(*extra, folder=out):
        cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), "--model", "vae", "--likelihood",
               "gaussian", "--sigma", "per_pixel", "--layers", "784,16,4", "--dataset", "mnist",
               "--data-dir", real_data, "--n-train", "256", "--batch-size", "64", "--out", str(folder),
               *extra]
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)

    done = run("--epochs", "1")
    assert done.returncode == 0, done.stderr
    assert "epoch 1/1" in done.stderr
    hist = json.loads((out / "metrics.json").read_text())
    assert hist["epoch"] == [1] and hist["model"]["term"]["sigma"] == "per_pixel"
    done = run("--epochs", "2", "--resume", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    resumed = json.loads((out / "metrics.json").read_text())
    assert resumed["epoch"] == [1, 2]
    # a second process, two epochs straight: bitwise the same losses as 1 + resume 1
    done = run("--epochs", "2", "--quiet", folder=tmp_path / "straight")
    assert done.returncode == 0, done.stderr
    straight = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    for k in LOSS_KEYS:
        assert straight[k] == resumed[k], k
    # the first size must match the images
    done = run("--epochs", "1", "--layers", "100,4")
    assert done.returncode == 2 and done.stderr.startswith("error: --layers must start with 784")
