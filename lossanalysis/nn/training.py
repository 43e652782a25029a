"""Mini-batch training with metrics, atomic checkpoints, exact resume and divergence checks.

:func:`train` runs ``epochs`` passes over ``x_train``.  One generator, seeded by ``seed``, draws
the data order of each epoch and the VAE's reparameterization noise of each step, so a run is
a deterministic function of its arguments (on one machine with one BLAS thread count).  Test
losses use a separate generator per epoch (one latent sample per test example).

With ``out_dir`` each epoch ends by writing ``checkpoint.npz`` (parameters, optimizer state,
epoch, generator state and history) and ``metrics.json``, both atomically (temporary file, then
``os.replace``).  ``resume=True`` continues from that checkpoint exactly: 2 epochs straight and
1 epoch + resume for 1 more give bitwise-identical parameters and metrics.

A NaN or infinite loss or gradient raises :class:`TrainingDiverged` naming the epoch and step;
the optimizer update of that step is not applied and the checkpoint on disk, written at the end
of the last complete epoch, is left untouched.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import sys
import time

import numpy as np

from .._io import atomic_write
from .mlp import flat_view
from .optim import make_optimizer

__all__ = ["train", "TrainingDiverged", "load_checkpoint", "CHECKPOINT", "METRICS"]

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.json"
_FORMAT = 1
# Settings that must agree between a checkpoint and the run resuming it.
_RESUME_KEYS = ("batch_size", "lr", "optimizer", "optimizer_kwargs", "seed", "shuffle", "n_train",
                "n_test", "drop_last")


class TrainingDiverged(RuntimeError):
    """The loss or a gradient became NaN or infinite."""

    def __init__(self, epoch: int, step: int, what: str, checkpoint: str | None = None):
        self.epoch, self.step, self.what, self.checkpoint = epoch, step, what, checkpoint
        where = f"; the last good checkpoint is {checkpoint}" if checkpoint else ""
        super().__init__(f"training diverged at epoch {epoch}, step {step}: {what}{where}")


def _save_checkpoint(path, model, opt, epoch, rng, history):
    arrays = {f"param/{k}": v for k, v in model.params.items()}
    state = opt.state_dict()
    for name, per_key in state.items():
        if name != "t":
            arrays.update({f"opt/{name}/{k}": v for k, v in per_key.items()})
    arrays["opt_t"] = np.array(state["t"])
    arrays["epoch"] = np.array(epoch)
    arrays["format"] = np.array(_FORMAT)
    arrays["rng_state"] = np.array(json.dumps(rng.bit_generator.state))
    arrays["history"] = np.array(json.dumps(history))
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_checkpoint(path: str) -> dict:
    """Read a checkpoint: ``{"params", "opt", "epoch", "rng_state", "history"}``."""
    with np.load(path, allow_pickle=False) as z:
        if int(z["format"]) != _FORMAT:
            raise ValueError(f"{path}: unsupported checkpoint format {int(z['format'])}")
        params = {k[len("param/"):]: z[k] for k in z.files if k.startswith("param/")}
        opt = {"t": int(z["opt_t"])}
        for k in z.files:
            if k.startswith("opt/"):
                _, name, key = k.split("/", 2)
                opt.setdefault(name, {})[key] = z[k]
        return {"params": params, "opt": opt, "epoch": int(z["epoch"]),
                "rng_state": json.loads(str(z["rng_state"])), "history": json.loads(str(z["history"]))}


def _new_history(config, model):
    keys = ("epoch", "train_loss", "train_rec", "train_kl", "test_loss", "test_rec", "test_kl",
            "step_time_median", "step_time_mean", "epoch_time")
    h = {k: [] for k in keys}
    h["config"] = config
    h["model"] = model.describe() if hasattr(model, "describe") else {}
    return h


def _fmt_seconds(s):
    return f"{s:.0f}s" if s < 120 else f"{s / 60:.1f}min"


def train(model, x_train, x_test=None, *, epochs: int, batch_size: int = 128, lr: float = 1e-3,
          optimizer: str = "adam", optimizer_kwargs: dict | None = None, seed: int = 0,
          shuffle: bool = True, drop_last: bool = False, out_dir: str | None = None,
          resume: bool = False, quiet: bool = False, eval_batch_size: int = 1000,
          callback=None, log=None) -> dict:
    """Train ``model`` in place and return its history.

    ``x_train`` / ``x_test``: arrays ``(n, pixels)`` in [0, 1].  Each epoch visits ``x_train``
    in an order drawn from the run's generator (``shuffle=False``: the given order) in batches of
    ``batch_size`` (the last one smaller unless ``drop_last``).  ``optimizer``: ``"adam"`` or
    ``"sgd"`` with ``optimizer_kwargs`` (e.g. ``{"momentum": 0.9}``).

    The history holds per epoch the train loss (mean over the epoch's steps, weighted by batch
    size) and its reconstruction and KL terms, the same on ``x_test`` (if given), the median and
    mean step time (forward, backward, update) and the epoch time.  ``callback(epoch, history,
    model)`` runs after each epoch.  A progress line per epoch goes to ``log`` (default stderr)
    unless ``quiet``.
    """
    epochs = _count(epochs, "epochs", 0)
    batch_size = _count(batch_size, "batch_size", 1)
    eval_batch_size = _count(eval_batch_size, "eval_batch_size", 1)
    log = log if log is not None else sys.stderr
    dtype = model.dtype
    check = getattr(model, "check_data", None) or (lambda x, _: np.ascontiguousarray(x, dtype=dtype))
    x_train = check(x_train, "x_train")
    if x_test is not None:
        x_test = check(x_test, "x_test")
    n = x_train.shape[0]
    if n == 0 or (drop_last and n < batch_size):
        raise ValueError(f"not enough training examples ({n}) for batch_size {batch_size}")
    config = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "optimizer": optimizer,
              "optimizer_kwargs": optimizer_kwargs or {}, "seed": seed, "shuffle": shuffle,
              "drop_last": drop_last, "n_train": int(n),
              "n_test": None if x_test is None else int(len(x_test)),
              "dtype": np.dtype(dtype).name,
              "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")}
    opt = make_optimizer(optimizer, model.params, lr, **(optimizer_kwargs or {}))
    rng = np.random.default_rng(seed)
    history = _new_history(config, model)
    start_epoch = 1
    ckpt = metrics = None
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        ckpt = os.path.join(out_dir, CHECKPOINT)
        metrics = os.path.join(out_dir, METRICS)
        if resume and os.path.exists(ckpt):
            start_epoch = _restore(ckpt, model, opt, rng, config) + 1
            history = load_checkpoint(ckpt)["history"]
            history["config"]["epochs"] = epochs
            if not quiet:
                print(f"resuming from {ckpt} after epoch {start_epoch - 1}", file=log)
    elif resume:
        raise ValueError("resume=True needs out_dir")

    n_steps = n // batch_size if drop_last else -(-n // batch_size)
    step_kw = {"reuse": True} if _accepts(model.loss_and_grads, "reuse") else {}
    flat_grads = flat_view(model.grads.values())
    batch_buf = {}
    epoch_times = []
    for epoch in range(start_epoch, epochs + 1):
        t_epoch = time.perf_counter()
        order = rng.permutation(n) if shuffle else np.arange(n)
        sums = np.zeros(3)            # loss, rec, kl, weighted by batch size
        seen = 0
        step_times = np.empty(n_steps)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            # Overflow here means divergence; it is detected below and reported as such.
            for step in range(n_steps):
                idx = order[step * batch_size:(step + 1) * batch_size]
                b = idx.size
                if b not in batch_buf:
                    batch_buf[b] = np.empty((b, x_train.shape[1]), dtype)
                xb = np.take(x_train, idx, axis=0, out=batch_buf[b])
                t0 = time.perf_counter()
                loss, grads = model.loss_and_grads(xb, rng=rng, **step_kw)
                what = _nonfinite(loss, grads, flat_grads if grads is model.grads else None)
                if what:
                    raise TrainingDiverged(epoch, step + 1, what,
                                           ckpt if ckpt and os.path.exists(ckpt) else None)
                opt.step(grads)
                step_times[step] = time.perf_counter() - t0
                terms = model.last_terms
                sums += (b * terms["loss"], b * terms["rec"], b * terms["kl"])
                seen += b
        train_means = sums / seen
        history["epoch"].append(epoch)
        for key, v in zip(("train_loss", "train_rec", "train_kl"), train_means):
            history[key].append(float(v))
        if x_test is not None:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                # an overflowing test loss is recorded as inf/nan, not raised
                ev = model.evaluate(x_test, rng=np.random.default_rng([seed, 1, epoch]),
                                    batch_size=eval_batch_size)
            for key in ("loss", "rec", "kl"):
                history["test_" + key].append(ev[key])
        history["step_time_median"].append(float(np.median(step_times)))
        history["step_time_mean"].append(float(step_times.mean()))
        epoch_time = time.perf_counter() - t_epoch
        history["epoch_time"].append(epoch_time)
        epoch_times.append(epoch_time)
        if ckpt:
            _save_checkpoint(ckpt, model, opt, epoch, rng, history)
            atomic_write(metrics, json.dumps(history, indent=1))
        if callback is not None:
            callback(epoch, history, model)
        if not quiet:
            print(_progress(history, epochs, epoch_times), file=log, flush=True)
    return history


def _count(value, name: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum``, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _accepts(fn, name: str) -> bool:
    """Whether ``fn`` takes a keyword argument ``name`` (a user's model may not)."""
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _nonfinite(loss, grads, flat=None) -> str | None:
    """A description of the first NaN/inf found in the loss or the gradients, else None.
    ``flat``: a flat view covering all of ``grads`` (one vectorized check instead of many)."""
    if not math.isfinite(loss):
        hint = (" (losses such as reverse_kl and logit_mse are infinite at targets 0 and 1)"
                if loss == math.inf else "")
        return f"the loss is {loss}{hint}"
    arrays = [flat] if flat is not None else list(grads.values())
    if all(np.isfinite(a).all() for a in arrays):
        return None
    bad = [k for k, g in grads.items() if not np.isfinite(g).all()]
    return "non-finite gradient in " + ", ".join(bad)


def _restore(path, model, opt, rng, config) -> int:
    try:
        state = load_checkpoint(path)
    except Exception as err:  # noqa: BLE001 - a damaged or foreign file: say so plainly
        raise ValueError(f"cannot resume: {path} is not a readable checkpoint ({err})") from None
    saved = state["history"].get("config", {})
    config = json.loads(json.dumps(config))     # compare as stored (tuples become lists)
    diff = [k for k in _RESUME_KEYS if k in saved and saved[k] != config[k]]
    if diff:
        detail = ", ".join(f"{k}: checkpoint {saved[k]!r} vs now {config[k]!r}" for k in diff)
        raise ValueError(f"cannot resume from {path}: settings differ ({detail})")
    saved_model = state["history"].get("model")
    if hasattr(model, "describe") and saved_model is not None:
        now = json.loads(json.dumps(model.describe()))
        if saved_model != now:
            raise ValueError(f"cannot resume from {path}: it was written by a different model "
                             f"(checkpoint {saved_model} vs now {now})")
    if set(state["params"]) != set(model.params):
        raise ValueError(f"cannot resume from {path}: parameter names differ from the model's")
    model.set_params(state["params"])
    opt.load_state_dict(state["opt"])
    rng.bit_generator.state = state["rng_state"]
    return state["epoch"]


def _progress(history, epochs, epoch_times) -> str:
    e = history["epoch"][-1]
    parts = [f"epoch {e}/{epochs}", f"train {history['train_loss'][-1]:.4f}"]
    if history["test_loss"]:
        parts.append(f"test {history['test_loss'][-1]:.4f}")
    if any(history["train_kl"]):
        parts.append(f"(rec {history['train_rec'][-1]:.3f}, kl {history['train_kl'][-1]:.3f})")
    eta = (epochs - e) * float(np.mean(epoch_times))
    parts.append(f"{epoch_times[-1]:.2f}s")
    parts.append(f"ETA {_fmt_seconds(eta)}")
    return "  ".join(parts)
