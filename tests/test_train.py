"""Tests of lossanalysis.nn.train: determinism, exact resume, divergence, files, the script."""

import io
import json
import os
import re
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
             ({"lr": -1.0}, "lr must be a positive finite number"),
             ({"lr": float("inf")}, "lr must be a positive finite number"),
             ({"lr": float("nan")}, "lr must be a positive finite number"),
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
    with pytest.raises(ValueError, match="cannot resume: .* is not a lossanalysis checkpoint "
                                         r"\(not an .npz archive\)"):
        _run(AE((12, 6, 3), loss="bce", seed=0), epochs=2, out_dir=str(tmp_path), resume=True)


def _script(name="train"):
    """A script of scripts/ as a module (its main() runs in-process: fast)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _exit_code(main, argv):
    """main(argv)'s exit status, whether returned or raised (argparse errors raise)."""
    try:
        return main(argv)
    except SystemExit as done:
        return done.code


@pytest.mark.parametrize("argv,match", [
    (["--model", "ae", "--loss", "nope"], "unknown loss 'nope'"),
    (["--model", "ae", "--loss", "focal", "--loss-param", "gamma"], "NAME=NUMBER"),
    (["--model", "ae", "--layers", "784,abc"], "comma-separated"),
    (["--model", "ae", "--layers", "784"], "two or more sizes"),
    (["--model", "vae", "--likelihood", "poisson"], "unknown likelihood"),
    (["--model", "vae", "--likelihood", "gaussian", "--sigma", "wide"], "sigma must be"),
    (["--model", "ae", "--n-train", "0"], "argument --n-train: must be a positive integer"),
    (["--model", "ae", "--data-dir", "{damaged}"], "train-images-idx3-ubyte"),
    (["--model", "ae", "--data-dir", "/nonexistent/folder"],
     "argument --data-dir: no such folder: '/nonexistent/folder'"),
    (["--model", "ae", "--data-dir", "{empty}"], "holds no mnist train files"),
    (["--model", "ae", "--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
    (["--model", "ae", "--seed", "-5"], "argument --seed: must be a non-negative integer"),
    (["--model", "ae", "--lr", "inf"], "argument --lr: must be a positive finite number"),
    (["--model", "ae", "--lr", "nan"], "argument --lr: must be a positive finite number"),
    (["--model", "ae", "--lr", "0"], "argument --lr: must be a positive finite number"),
    (["--model", "ae", "--batch-size", "-1"], "argument --batch-size"),
    (["--model", "ae", "--resume"], "--resume needs --out"),
])
def test_train_script_reports_bad_input_in_one_line(argv, match, capsys, tmp_path, real_data,
                                                    monkeypatch):
    monkeypatch.setenv("LOSSANALYSIS_DATA", real_data)   # a fallback the script must not take
    damaged = tmp_path / "mnist"          # files that are there but are no IDX files
    damaged.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (damaged / name).write_bytes(b"not an idx file")
    (tmp_path / "empty").mkdir()
    argv = [a.replace("{damaged}", str(damaged)).replace("{empty}", str(tmp_path / "empty"))
            for a in argv]
    code = _exit_code(_script().main, argv + ["--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and ": error: " in err.split("\n")[0] and match in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


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
    # the first size must match the images (--force: the folder holds a run; see test_inputs)
    done = run("--epochs", "1", "--layers", "100,4", "--force")
    assert done.returncode == 2 and "error: --layers must start with 784" in done.stderr.split("\n")[0]


# ---------------------------------------------------------------------------------------------
# Divergence: absurd finite losses, the term and the layer named, only good checkpoints kept
# ---------------------------------------------------------------------------------------------
def test_an_absurd_finite_loss_stops_training():
    with pytest.raises(TrainingDiverged, match=r"epoch 1, step \d+: the loss is \S+ nats per "
                                               r"image, absurdly far above the first step's") as err:
        _run(AE((12, 6, 3), loss="bce", seed=0), lr=1e3, epochs=5)
    assert "largest gradient in" in str(err.value) and "no checkpoint was written" in str(err.value)


def test_an_infinite_kl_is_named_as_the_source():
    model = _vae()
    model.params["enc.1.b"][3:] = 95.0     # log-variances whose exp overflows float32
    with pytest.raises(TrainingDiverged, match=r"step 1: the loss is inf \(the KL term is not "
                                               r"finite: reconstruction [0-9.e+]+, KL inf"):
        _run(model, epochs=1)


def test_an_absurd_vae_loss_names_the_dominant_term():
    with pytest.raises(TrainingDiverged, match=r"\(mostly the KL term: reconstruction"):
        _run(_vae(), lr=3.0, epochs=5)


class _BlowsUpAt(AE):
    """An AE whose reported loss becomes absurd (finite) at one call, or whose test loss does
    from one epoch on."""

    def __init__(self, at_call=None, test_from_epoch=None, **kw):
        super().__init__((12, 6, 3), **kw)
        self.calls, self.at_call, self.test_from = 0, at_call, test_from_epoch
        self.evals = 0

    def loss_and_grads(self, x, eps=None, rng=None, *, reuse=False):
        loss, grads = super().loss_and_grads(x, eps, rng, reuse=reuse)
        self.calls += 1
        if self.calls == self.at_call:
            loss *= 1e30
            self.last_terms = {"loss": loss, "rec": loss, "kl": 0.0}
        return loss, grads

    def evaluate(self, x, **kw):
        self.evals += 1
        out = super().evaluate(x, **kw)
        if self.test_from is not None and self.evals >= self.test_from:
            out = {k: float("inf") for k in out}
        return out


@pytest.mark.parametrize("kw,where", [({"at_call": 4 + 2}, "epoch 2, step 2"),
                                      ({"test_from_epoch": 2}, "epoch 2, the test set")])
def test_only_genuinely_good_epochs_are_checkpointed(tmp_path, kw, where):
    model = _BlowsUpAt(seed=0, **kw)
    with pytest.raises(TrainingDiverged, match=where) as err:
        _run(model, epochs=3, out_dir=str(tmp_path))
    assert f"the last good checkpoint is {tmp_path / 'checkpoint.npz'} (after epoch 1)" \
        in str(err.value)
    assert load_checkpoint(str(tmp_path / "checkpoint.npz"))["epoch"] == 1
    assert json.loads((tmp_path / "metrics.json").read_text())["epoch"] == [1]


def test_the_divergence_limit_can_be_switched_off():
    hist = _run(_BlowsUpAt(at_call=2, seed=0), epochs=1, divergence_factor=None)
    assert hist["train_loss"][0] > 1e25
    with pytest.raises(ValueError, match="divergence_factor must be a positive finite number"):
        _run(_vae(), divergence_factor=0)


# ---------------------------------------------------------------------------------------------
# Files after kills: resume repairs metrics and removes temporaries; SIGKILL resume is exact
# ---------------------------------------------------------------------------------------------
_KILLER = r"""
import os, signal, sys
import numpy as np
sys.path.insert(0, {root!r})
from lossanalysis._io import atomic_write
from lossanalysis.nn import VAE, train, training

def data(n, seed):
    x = np.random.default_rng(seed).random((n, 12), dtype=np.float32)
    x[x < 0.4] = 0
    x[x > 0.9] = 1
    return x

mode, out = sys.argv[1], sys.argv[2]
kill = lambda: os.kill(os.getpid(), signal.SIGKILL)
if mode == "after_epoch":
    callback = lambda epoch, h, m: kill() if epoch == 1 else None
else:
    callback = None
if mode == "between_writes":          # the final epoch's checkpoint is written, metrics not
    real = training.write_metrics
    training.write_metrics = lambda path, h: kill() if h["epoch"][-1] == 2 else real(path, h)
if mode == "during_checkpoint":       # killed half-way through writing the epoch-2 checkpoint
    real_savez = np.savez
    def savez(f, **arrays):
        if int(arrays["epoch"]) == 2:
            f.write(b"PK\x03\x04 partial")
            f.flush()
            kill()
        real_savez(f, **arrays)
    training.np.savez = savez
train(VAE((12, 8, 3), likelihood="bernoulli", seed=0), data(50, 0), data(20, 1), epochs=2,
      batch_size=16, quiet=True, out_dir=out, callback=callback)
"""


@pytest.mark.parametrize("mode", ["after_epoch", "between_writes", "during_checkpoint"])
def test_resume_after_sigkill_is_exact_and_repairs_the_files(tmp_path, mode):
    out = tmp_path / "killed"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", _KILLER.format(root=str(ROOT)), mode, str(out)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == -9, done.stderr
    files = sorted(os.listdir(out))
    if mode == "during_checkpoint":
        assert any(f.startswith(".checkpoint.npz.") and f.endswith(".tmp") for f in files)
    if mode == "between_writes":
        assert load_checkpoint(str(out / "checkpoint.npz"))["epoch"] == 2
        assert json.loads((out / "metrics.json").read_text())["epoch"] == [1]   # one behind
    straight = _vae()
    h_straight = _run(straight, epochs=2, out_dir=str(tmp_path / "straight"))
    resumed = _vae(seed=9)
    h_resumed = _run(resumed, epochs=2, out_dir=str(out), resume=True)
    for k in LOSS_KEYS:
        assert h_straight[k] == h_resumed[k], k
    for k in straight.params:
        np.testing.assert_array_equal(straight.params[k], resumed.params[k])
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["epoch"] == [1, 2] and on_disk["train_loss"] == h_straight["train_loss"]
    assert sorted(os.listdir(out)) == ["checkpoint.npz", "metrics.json"]   # no temporaries


# ---------------------------------------------------------------------------------------------
# Metrics: BLAS threads, units; progress and summary
# ---------------------------------------------------------------------------------------------
def test_metrics_record_the_real_blas_thread_count_and_units():
    from lossanalysis.nn import blas_threads

    hist = _run(AE((12, 6, 3), loss="mse", seed=0), epochs=1)
    info = blas_threads()
    assert hist["config"]["blas_threads"] == info["threads"] and info["threads"] >= 1
    assert hist["config"]["blas"]["source"] == "openblas_get_num_threads"
    assert hist["unit"] == "intensity²"
    assert _run(_vae(), epochs=1)["unit"] == "nats"


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("tty", [True, False])
def test_progress_inside_epochs(monkeypatch, tty):
    from lossanalysis.nn import training

    monkeypatch.setattr(training, "PROGRESS_TTY_SECONDS", 0.0)
    monkeypatch.setattr(training, "PROGRESS_PLAIN_SECONDS", 0.0)
    log = _Terminal() if tty else io.StringIO()
    _run(AE((12, 6, 3), loss="mse", seed=0), epochs=2, quiet=False, log=log)
    text = log.getvalue()
    assert re.search(r"epoch 1/2  batch 1/4  loss [0-9.]+ intensity² per image  [0-9,]+ "
                     r"images/s  ETA \d+:\d\d", text)
    if tty:
        assert "\r" in text and "\n" not in text.split("epoch 1/2  train")[0]
    else:
        assert "\r" not in text
        assert len([line for line in text.splitlines() if " batch " in line]) == 8
    epoch_lines = [line for line in text.replace("\r", "\n").splitlines() if "  train " in line]
    assert [line.split()[1] for line in epoch_lines] == ["1/2", "2/2"]
    assert "intensity² per image" in epoch_lines[0]


def test_summary_matches_the_last_epoch_and_a_direct_computation():
    from lossanalysis.nn import format_summary, summarize

    model = _vae()
    hist = _run(model, epochs=2)
    s = summarize(model, X_TEST, hist)
    assert (s["loss"], s["rec"], s["kl"]) == (hist["test_loss"][-1], hist["test_rec"][-1],
                                              hist["test_kl"][-1])
    direct = np.mean((model.reconstruct(X_TEST).astype(np.float64) - X_TEST) ** 2)
    assert s["pixel_mse"] == pytest.approx(direct, rel=1e-12)
    assert s["wall_time"] == pytest.approx(sum(hist["epoch_time"])) and s["epochs"] == 2
    text = format_summary(s)
    assert "nats per image (reconstruction" in text and "per-pixel MSE" in text


# ---------------------------------------------------------------------------------------------
# Models from checkpoints
# ---------------------------------------------------------------------------------------------
def test_load_model_rebuilds_the_trained_model(tmp_path):
    from lossanalysis.nn import load_model

    model = VAE((12, 8, 3), likelihood="gaussian", sigma="per_pixel", seed=0)
    _run(model, epochs=1, out_dir=str(tmp_path))
    twin = load_model(tmp_path / "checkpoint.npz")
    assert type(twin) is VAE and twin.config() == model.config()
    for k in model.params:
        np.testing.assert_array_equal(twin.params[k], model.params[k])
    np.testing.assert_array_equal(twin.reconstruct(X_TEST), model.reconstruct(X_TEST))


def test_load_model_refuses_foreign_corrupt_and_unrebuildable_files(tmp_path):
    from lossanalysis.losses import Loss
    from lossanalysis.nn import load_model

    _run(AE((12, 6, 3), loss="bce", seed=0), epochs=1, out_dir=str(tmp_path / "good"))
    good = (tmp_path / "good" / "checkpoint.npz").read_bytes()
    cases = {"garbage.npz": (b"not a checkpoint", r"garbage\.npz is not a lossanalysis "
                                                   r"checkpoint \(not an \.npz archive\)"),
             "truncated.npz": (good[:len(good) // 2], r"truncated\.npz is not a lossanalysis "
                                                       r"checkpoint")}
    for name, (content, match) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=match):
            load_model(tmp_path / name)
    np.savez(tmp_path / "foreign.npz", weights=np.zeros(3))
    with pytest.raises(ValueError, match=r"foreign\.npz is not a lossanalysis checkpoint \(no "
                                         r"format entry"):
        load_model(tmp_path / "foreign.npz")
    with pytest.raises(ValueError, match="no such checkpoint file"):
        load_model(tmp_path / "missing.npz")
    user = AE((12, 6, 3), loss=Loss.from_expr("(p - y)**4", name="quartic"), seed=0)
    _run(user, epochs=1, out_dir=str(tmp_path / "user"))
    with pytest.raises(ValueError, match="cannot rebuild the model of .*: the output term "
                                         r"\(Catalogue, loss quartic"):
        load_model(tmp_path / "user" / "checkpoint.npz")


# ---------------------------------------------------------------------------------------------
# The scripts on the real data, in-process
# ---------------------------------------------------------------------------------------------
def test_train_script_defaults_summary_figure_and_checkpoint(tmp_path, real_data, capsys):
    from lossanalysis.nn import load_model

    out = tmp_path / "vae"
    code = _script().main(["--model", "vae", "--data-dir", real_data, "--n-train", "256",
                           "--n-test", "64", "--epochs", "1", "--out", str(out),
                           "--save-recon", "--columns", "1"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.startswith("VAE 784-400-20, bernoulli (nats), 652,824 parameters; mnist: 256 "
                          "training, 64 test images")
    hist = json.loads((out / "metrics.json").read_text())
    assert f"test loss      {hist['test_loss'][-1]:.4f} nats per image (reconstruction" in err
    assert "per-pixel MSE" in err and "wall time" in err
    model = load_model(out / "checkpoint.npz")
    assert model.layer_sizes == (784, 400, 20)
    from matplotlib.image import imread
    png = imread(out / "reconstructions.png")
    assert png.shape[1] == round(3.4 * 300)              # one column, 300 dpi
    assert (out / "reconstructions.pdf").read_bytes().startswith(b"%PDF")


def test_compare_losses_script(tmp_path, real_data, capsys):
    script = _script("compare_losses")
    stem = tmp_path / "cmp"
    code = script.main(["--losses", "mse,bce", "--data-dir", real_data, "--n-train", "256",
                        "--n-test", "64", "--epochs", "1", "--layers", "784,32,8", "--out",
                        str(tmp_path), "--name", "cmp", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("AE 784-32-8 on mnist: 256 training and 64 test images, 1 epochs")
    assert lines[1].split()[:2] == ["loss", "test"]
    assert lines[2].startswith("mse ") and "(intensity²)" in lines[2]
    assert lines[3].startswith("bce ") and "(nats)" in lines[3]
    assert stem.with_suffix(".pdf").exists() and stem.with_suffix(".png").exists()
    assert _exit_code(script.main, ["--losses", "mse"]) == 2
    assert "two or more different losses" in capsys.readouterr().err


def test_training_checks_leave_a_noisy_term_s_generator_alone():
    """The divergence baseline evaluates the output term; a term that draws noise must not
    see its stream moved by that (the run must equal one without the check)."""
    from lossanalysis.nn.noise import NoisyOutput

    def run(factor):
        model = AE((12, 6, 3), loss=NoisyOutput("bce", "logit", 0.5, seed=4), seed=0)
        hist = _run(model, epochs=1, divergence_factor=factor)
        return hist["train_loss"], model.get_params()

    (loss_a, params_a), (loss_b, params_b) = run(100.0), run(None)
    assert loss_a == loss_b
    for k in params_a:
        np.testing.assert_array_equal(params_a[k], params_b[k])
    assert NoisyOutput("bce", "logit", 0.5).unit == "nats"
