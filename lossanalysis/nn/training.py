"""Mini-batch training with metrics, atomic checkpoints, exact resume and divergence checks.

:func:`train` runs ``epochs`` passes over ``x_train``.  One generator, seeded by ``seed``, draws
the data order of each epoch and the VAE's reparameterization noise of each step, so a run is
a deterministic function of its arguments (on one machine with one BLAS thread count).  Test
losses use a separate generator per epoch (one latent sample per test example).

Files
-----
With ``out_dir`` each epoch ends by writing ``checkpoint.npz`` (parameters, optimizer state,
epoch, generator state, history and the model's configuration) and then ``metrics.json``, both
through :func:`lossanalysis._io.atomic_write`.  ``resume=True`` continues from that checkpoint
exactly: 2 epochs straight and 1 epoch + resume for 1 more give bitwise-identical parameters and
metrics, also after a ``SIGKILL`` at any moment.  Resuming first removes temporary files that a
kill during a write left behind and rewrites ``metrics.json`` from the checkpoint (a kill
between the two writes of an epoch leaves it one epoch behind).  :func:`load_model` rebuilds the
trained model from the checkpoint alone (the files' format: :mod:`.checkpoint`).

Divergence
----------
Training stops with :class:`TrainingDiverged` (naming the epoch and step, the term that blew
up -- reconstruction or KL -- and the parameter with the largest or a non-finite gradient) when

* the loss or a gradient is NaN or infinite;
* the loss exceeds ``max(start, baseline) + divergence_factor * max(|start|, |baseline|, 1)``
  per image, where ``start`` is the loss of the run's first step and ``baseline`` that of the
  trivial model predicting the training set's mean image (finite but absurd: an lr of 1e3
  sends an AE to 1e31 nats per image);
* the test loss at the end of an epoch is NaN, infinite or above that limit.

The update of the failing step is not applied and no checkpoint is written for the failing
epoch: the one on disk, if any, is the last good one.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import os
import sys
import time

import numpy as np

from ..losses import logit
from . import parallel
from .checkpoint import (CHECKPOINT, METRICS, clean_temporaries, load_checkpoint, load_model,
                         restore, save_checkpoint, write_metrics)
from .layers import positive_finite
from .memory import work_arrays
from .mlp import flat_view
from .optim import make_optimizer

__all__ = ["train", "TrainingDiverged", "load_checkpoint", "load_model", "summarize",
           "format_summary", "CHECKPOINT", "METRICS"]     # the checkpoint's names re-exported

#: Seconds between progress lines inside an epoch: rewritten in place on a terminal, plain
#: lines (to a file or a pipe) at a low rate.
PROGRESS_TTY_SECONDS = 1.0
PROGRESS_PLAIN_SECONDS = 30.0


class TrainingDiverged(RuntimeError):
    """The loss or a gradient became NaN, infinite or absurdly large.

    Attributes: ``epoch``, ``step`` (an int, or ``"test"`` for the end-of-epoch test loss),
    ``what`` (the diagnosis) and ``checkpoint`` (path of the last good checkpoint, or None).
    """

    def __init__(self, epoch: int, step, what: str, checkpoint: str | None = None,
                 checkpoint_epoch: int | None = None):
        self.epoch, self.step, self.what, self.checkpoint = epoch, step, what, checkpoint
        if checkpoint:
            where = f"; the last good checkpoint is {checkpoint}"
            if checkpoint_epoch is not None:
                where += f" (after epoch {checkpoint_epoch})"
        else:
            where = "; no checkpoint was written"
        at = "the test set" if step == "test" else f"step {step}"
        super().__init__(f"training diverged at epoch {epoch}, {at}: {what}{where}")


# ---------------------------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _untouched(term):
    """Evaluate ``term`` without side effects: a term that draws noise (e.g.
    :class:`lossanalysis.nn.noise.NoisyOutput`) gets its generators' states back afterwards,
    so that looking at it does not change the training run."""
    saved = [(g, g.bit_generator.state) for g in vars(term).values()
             if isinstance(g, np.random.Generator)]
    try:
        yield term
    finally:
        for g, state in saved:
            g.bit_generator.state = state


def _baseline(model, x, max_examples: int = 1000):
    """Loss per image of the trivial model that predicts the mean image of ``x`` (KL 0 for a
    VAE whose posterior is the prior), on at most ``max_examples`` examples; None if it cannot
    be computed or is not finite."""
    term = getattr(model, "term", None)
    if term is None or not len(x):
        return None
    sample = x[:max_examples]
    mean = sample.mean(axis=0, dtype=np.float64)
    try:
        with np.errstate(all="ignore"), _untouched(term):
            if term.output == "logit":
                out = logit(np.clip(mean, 1e-6, 1 - 1e-6))
            else:
                out = mean
            out = np.broadcast_to(out.astype(model.dtype), sample.shape)
            values, _ = term.value_and_grad(term.prepare(sample), np.ascontiguousarray(out))
            b = float(np.mean(values, dtype=np.float64))
    except Exception:  # noqa: BLE001 - a custom term may not support this: no baseline then
        return None
    return b if math.isfinite(b) else None


def _limit(start, baseline, factor):
    refs = [v for v in (start, baseline) if v is not None and math.isfinite(v)]
    if not refs or factor is None:
        return None
    return max(refs) + factor * max(max(abs(v) for v in refs), 1.0)


def _terms_text(terms, unit):
    rec, kl = terms.get("rec"), terms.get("kl")
    if rec is None:
        return ""
    if kl:
        bad = [name for name, v in (("the reconstruction term", rec), ("the KL term", kl))
               if not math.isfinite(v)]
        if bad:
            src = f"{' and '.join(bad)} {'is' if len(bad) == 1 else 'are'} not finite"
        else:
            src = "mostly the " + ("KL term" if abs(kl) > abs(rec) else "reconstruction term")
        return f" ({src}: reconstruction {rec:.4g}, KL {kl:.4g} {unit} per image)"
    return ""


def _grad_text(grads) -> str:
    """Which parameters have non-finite gradients, else which has the largest gradient."""
    bad = [k for k, g in grads.items() if not np.isfinite(g).all()]
    if bad:
        return "non-finite gradient in " + ", ".join(bad)
    with np.errstate(all="ignore"):
        norms = {k: float(np.linalg.norm(g.astype(np.float64).ravel())) for k, g in grads.items()}
    if not norms:
        return ""
    k = max(norms, key=norms.get)
    return f"largest gradient in {k} (norm {norms[k]:.3g})"


def _infinite_at_extremes(model) -> bool:
    """Whether the output term is infinite at targets 0 or 1 (reverse_kl, logit_mse, ...)."""
    term = model.term
    if term.output != "logit":
        return False
    try:
        with np.errstate(all="ignore"), _untouched(term):
            y = term.prepare(np.array([[0.0, 1.0]], dtype=model.dtype))
            v, _ = term.value_and_grad(y, np.zeros((1, 2), dtype=model.dtype))
        return not np.isfinite(v).all()
    except Exception:  # noqa: BLE001
        return False


def _diagnose(model, loss, grads, limit, unit, refs) -> str | None:
    """None if the step is healthy, else a description of what went wrong and where."""
    terms = getattr(model, "last_terms", {}) or {}
    if not math.isfinite(loss):
        text = f"the loss is {loss}" + _terms_text(terms, unit)
        if not math.isfinite(terms.get("rec", 0.0)) and _infinite_at_extremes(model):
            text += ("; this loss is infinite at targets 0 and 1, which the data hold (e.g. "
                     "reverse_kl, logit_mse)")
        g = _grad_text(grads)
        return text + (f"; {g}" if g else "")
    if limit is not None and loss > limit:
        start, baseline = refs
        ref = f"the first step's {start:.4g}" + (
            f" and the mean-image baseline's {baseline:.4g}" if baseline is not None else "")
        text = (f"the loss is {loss:.4g} {unit} per image, absurdly far above {ref} "
                f"(limit {limit:.4g})") + _terms_text(terms, unit)
        return text + "; " + _grad_text(grads)
    return None


def _nonfinite_grads(flat, grads) -> bool:
    """Whether a gradient is NaN or infinite -- or, for a flat buffer, so large that its squared
    norm overflows (beyond 1e19 in float32: diverged anyway).  The flat check is one BLAS dot
    product: no pass writing a mask, no allocation."""
    if flat is not None:
        return not math.isfinite(float(np.dot(flat, flat)))
    return not all(np.isfinite(g).all() for g in grads.values())


# ---------------------------------------------------------------------------------------------
# Progress and summary
# ---------------------------------------------------------------------------------------------
def _fmt_seconds(s):
    if not math.isfinite(s):
        return "?"
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class _Progress:
    """Progress inside an epoch: a line rewritten in place about every
    :data:`PROGRESS_TTY_SECONDS` on a terminal, a plain line about every
    :data:`PROGRESS_PLAIN_SECONDS` otherwise."""

    def __init__(self, log, enabled: bool, epochs: int, n_steps: int, unit: str):
        self.log, self.epochs, self.n_steps, self.unit = log, epochs, n_steps, unit
        try:
            self.tty = bool(log.isatty())
        except (AttributeError, ValueError):
            self.tty = False
        self.enabled = enabled
        self.every = PROGRESS_TTY_SECONDS if self.tty else PROGRESS_PLAIN_SECONDS
        self.width = 0
        self.steps_done = 0          # steps of this run, for the rate
        self.train_before = 0.0      # training seconds of the finished epochs of this run
        self.evals = []              # seconds of each test evaluation

    def start_epoch(self, epoch):
        self.epoch = epoch
        self.t_epoch = self.t_last = time.perf_counter()

    def step(self, step, seen, loss_sum):
        self.steps_done += 1
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.t_last < self.every:
            return
        self.t_last = now
        in_epoch = now - self.t_epoch
        rate = self.steps_done / max(self.train_before + in_epoch, 1e-9)     # steps per second
        left = (self.n_steps - step) + (self.epochs - self.epoch) * self.n_steps
        evals_left = (self.epochs - self.epoch + 1) if self.evals else 0
        eta = left / rate + (float(np.mean(self.evals)) * evals_left if self.evals else 0.0)
        text = (f"epoch {self.epoch}/{self.epochs}  batch {step}/{self.n_steps}  "
                f"loss {loss_sum / seen:.4g} {self.unit} per image  "
                f"{seen / max(in_epoch, 1e-9):,.0f} images/s  ETA {_fmt_seconds(eta)}")
        if self.tty:
            print("\r" + text.ljust(self.width), end="", file=self.log, flush=True)
            self.width = len(text)
        else:
            print(text, file=self.log, flush=True)

    def end_training_part(self):
        """The epoch's steps are done (its test evaluation follows)."""
        self.train_before += time.perf_counter() - self.t_epoch

    def clear(self):
        if self.tty and self.width:
            print("\r" + " " * self.width + "\r", end="", file=self.log, flush=True)
            self.width = 0


def _epoch_line(history, epochs, epoch_times) -> str:
    e = history["epoch"][-1]
    parts = [f"epoch {e}/{epochs}", f"train {history['train_loss'][-1]:.4f}"]
    if history["test_loss"]:
        parts.append(f"test {history['test_loss'][-1]:.4f}")
    if any(history["train_kl"]):
        parts.append(f"(rec {history['train_rec'][-1]:.3f}, kl {history['train_kl'][-1]:.3f})")
    parts.append(f"{history.get('unit', 'loss units')} per image")
    eta = (epochs - e) * float(np.mean(epoch_times))
    parts.append(f"{epoch_times[-1]:.2f}s")
    parts.append(f"ETA {_fmt_seconds(eta)}")
    return "  ".join(parts)


def summarize(model, x_test, history=None, *, batch_size: int = 1000, seed: int = 0) -> dict:
    """Final numbers of a trained model on ``x_test``.

    Returns
    -------
    dict
        ``loss``, ``rec`` and ``kl`` (means per image, one latent sample per example for a
        VAE: drawn as :func:`train` draws them for the last epoch of ``history``, so that the
        numbers are that epoch's test losses, else from ``seed``), ``unit`` (what the loss counts), ``pixel_mse`` (mean over
        images and pixels of ``(reconstruct(x) - x)**2``, in intensity², the reconstruction
        being the mean image at the posterior mean), ``wall_time`` (seconds of training
        recorded in ``history``, or None) and ``epochs``.

    Examples
    --------
    >>> import numpy as np
    >>> from lossanalysis.nn import AE
    >>> x = np.random.default_rng(0).random((6, 8))
    >>> s = summarize(AE((8, 4, 2), loss="mse", seed=0), x)
    >>> s["unit"], abs(s["pixel_mse"] * 8 - s["loss"]) < 1e-5   # mse: the same number
    ('intensity²', True)
    """
    x_test = model.check_data(x_test, "x_test")
    last = history["epoch"][-1] if history and history.get("epoch") else None
    rng = np.random.default_rng(seed if last is None else [seed, 1, last])
    with np.errstate(all="ignore"):
        ev = model.evaluate(x_test, rng=rng, batch_size=batch_size)
        se = 0.0
        for lo in range(0, len(x_test), batch_size):
            xb = x_test[lo:lo + batch_size]
            d = model.reconstruct(xb).astype(np.float64) - xb
            se += float(np.einsum("ij,ij->", d, d))
    n = x_test.size
    out = {**ev, "unit": model.unit, "pixel_mse": se / n if n else float("nan"),
           "wall_time": None, "epochs": None}
    if history:
        out["wall_time"] = float(sum(history.get("epoch_time", []))) or None
        out["epochs"] = history["epoch"][-1] if history.get("epoch") else 0
    return out


def format_summary(summary: dict) -> str:
    """A few lines for a person, from :func:`summarize`.

    >>> print(format_summary({"loss": 100.0, "rec": 90.0, "kl": 10.0, "unit": "nats",
    ...                       "pixel_mse": 0.0123, "wall_time": 65.0, "epochs": 3}))
    test loss      100.0000 nats per image (reconstruction 90.0000, KL 10.0000)
    per-pixel MSE  0.012300 (intensity², reconstructions at the posterior mean)
    wall time      1:05 for 3 epochs
    """
    unit = summary["unit"]
    line = f"test loss      {summary['loss']:.4f} {unit} per image"
    if summary.get("kl"):
        line += f" (reconstruction {summary['rec']:.4f}, KL {summary['kl']:.4f})"
    lines = [line, f"per-pixel MSE  {summary['pixel_mse']:.6f} (intensity², reconstructions"
                   f"{' at the posterior mean' if summary.get('kl') else ''})"]
    if summary.get("wall_time"):
        lines.append(f"wall time      {_fmt_seconds(summary['wall_time'])} for "
                     f"{summary['epochs']} epochs")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------------
def _new_history(config, model):
    keys = ("epoch", "train_loss", "train_rec", "train_kl", "test_loss", "test_rec", "test_kl",
            "step_time_median", "step_time_mean", "epoch_time")
    h = {k: [] for k in keys}
    h["config"] = config
    h["model"] = model.describe() if hasattr(model, "describe") else {}
    h["unit"] = getattr(model, "unit", "loss")
    h["start_loss"] = None
    h["baseline_loss"] = None
    return h


def train(model, x_train, x_test=None, *, epochs: int, batch_size: int = 128, lr: float = 1e-3,
          optimizer: str = "adam", optimizer_kwargs: dict | None = None, seed: int = 0,
          shuffle: bool = True, drop_last: bool = False, out_dir: str | None = None,
          resume: bool = False, quiet: bool = False, eval_batch_size: int = 1000,
          callback=None, log=None, progress: bool | None = None,
          divergence_factor: float | None = 100.0, data: dict | None = None) -> dict:
    """Train ``model`` in place and return its history.

    Parameters
    ----------
    model : AE, VAE or BiasOnly (or any object with the same interface)
    x_train, x_test : arrays ``(n, pixels)`` in [0, 1]
        Each epoch visits ``x_train`` in an order drawn from the run's generator
        (``shuffle=False``: the given order) in batches of ``batch_size`` (the last one smaller
        unless ``drop_last``); ``x_test`` (optional) is evaluated after every epoch.
    epochs : int
        Total epochs of the run (a resumed run continues up to it).
    lr : float
        Learning rate, positive and finite.
    optimizer, optimizer_kwargs
        ``"adam"`` or ``"sgd"`` and their options (e.g. ``{"momentum": 0.9}``).
    out_dir, resume
        Where to write ``checkpoint.npz`` and ``metrics.json`` after every epoch; continue
        from the checkpoint there (see the module documentation).
    quiet, log, progress
        Unless ``quiet``, a line per epoch goes to ``log`` (default stderr) and, unless
        ``progress=False``, progress inside the epoch: a line rewritten about every second
        when ``log`` is a terminal, a plain line about every 30 s otherwise.
    callback : callable, optional
        ``callback(epoch, history, model)`` after each epoch.
    divergence_factor : float or None
        How far above the start and the mean-image baseline a loss counts as diverged (see the
        module documentation); None checks only for NaN and infinity.
    data : dict, optional
        What the images are (plain JSON data, e.g. name, source, split): kept in the history
        as ``data``; a resumed run must name the same ``name`` and ``source``.

    Returns
    -------
    dict
        Per epoch: ``train_loss`` (mean over the epoch's steps, weighted by batch size) and its
        ``train_rec`` and ``train_kl`` terms, the same on ``x_test``, the median and mean step
        time (forward, backward, update) and the epoch time; also ``config``, ``model``,
        ``unit``, ``start_loss`` and ``baseline_loss``.

    Examples
    --------
    >>> import numpy as np
    >>> from lossanalysis.nn import AE
    >>> x = np.random.default_rng(0).random((32, 8))
    >>> h = train(AE((8, 4, 2), loss="mse", seed=0), x, epochs=2, batch_size=8, quiet=True)
    >>> h["epoch"], h["unit"]
    ([1, 2], 'intensity²')
    """
    epochs = _count(epochs, "epochs", 0)
    batch_size = _count(batch_size, "batch_size", 1)
    eval_batch_size = _count(eval_batch_size, "eval_batch_size", 1)
    lr = positive_finite(lr, "lr")
    if divergence_factor is not None:
        divergence_factor = positive_finite(divergence_factor, "divergence_factor")
    log = log if log is not None else sys.stderr
    dtype = model.dtype
    check = getattr(model, "check_data", None) or (lambda x, _: np.ascontiguousarray(x, dtype=dtype))
    x_train = check(x_train, "x_train")
    if x_test is not None:
        x_test = check(x_test, "x_test")
    n = x_train.shape[0]
    if n == 0 or (drop_last and n < batch_size):
        raise ValueError(f"not enough training examples ({n}) for batch_size {batch_size}")
    blas = parallel.blas_threads()
    config = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "optimizer": optimizer,
              "optimizer_kwargs": optimizer_kwargs or {}, "seed": seed, "shuffle": shuffle,
              "drop_last": drop_last, "n_train": int(n),
              "n_test": None if x_test is None else int(len(x_test)),
              "dtype": np.dtype(dtype).name,
              "blas_threads": blas["threads"], "blas": blas,
              "elementwise_threads": parallel.threads()}
    opt = make_optimizer(optimizer, model.params, lr, **(optimizer_kwargs or {}))
    rng = np.random.default_rng(seed)
    history = _new_history(config, model)
    if data is not None:
        history["data"] = json.loads(json.dumps(data))
    ckpt, metrics, last_good, history = _open_output(
        out_dir, resume, history, (model, opt, rng, config, data), log=None if quiet else log)
    start_epoch = 1 if last_good is None else last_good + 1

    n_steps = n // batch_size if drop_last else -(-n // batch_size)
    step_kw = {"reuse": True} if _accepts(model.loss_and_grads, "reuse") else {}
    flat_grads = None
    unit = history.get("unit", "loss")
    if (start_epoch <= epochs and divergence_factor is not None
            and history.get("baseline_loss") is None):
        history["baseline_loss"] = _baseline(model, x_train)
    limit = _limit(history.get("start_loss"), history.get("baseline_loss"), divergence_factor)
    show = _Progress(log, not quiet and progress is not False, epochs, n_steps, unit)
    batch_buf = {}
    epoch_times = []

    def diverged(epoch, step, what):
        good = ckpt if (ckpt and last_good is not None and os.path.exists(ckpt)) else None
        show.clear()
        return TrainingDiverged(epoch, step, what, good, last_good if good else None)

    for epoch in range(start_epoch, epochs + 1):
        t_epoch = time.perf_counter()
        show.start_epoch(epoch)
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
                    (batch_buf[b],) = work_arrays([(b, x_train.shape[1])], dtype)
                xb = np.take(x_train, idx, axis=0, out=batch_buf[b])
                t0 = time.perf_counter()
                loss, grads = model.loss_and_grads(xb, rng=rng, **step_kw)
                if history["start_loss"] is None and math.isfinite(loss):
                    history["start_loss"] = loss
                    limit = _limit(loss, history["baseline_loss"], divergence_factor)
                if grads is model.grads and flat_grads is None:
                    flat_grads = flat_view(model.grads.values())
                flat = flat_grads if grads is model.grads else None
                if (not math.isfinite(loss) or (limit is not None and loss > limit)
                        or _nonfinite_grads(flat, grads)):
                    what = _diagnose(model, loss, grads, limit, unit,
                                     (history["start_loss"], history["baseline_loss"]))
                    raise diverged(epoch, step + 1, what or _grad_text(grads))
                opt.step(grads)
                step_times[step] = time.perf_counter() - t0
                terms = model.last_terms
                sums += (b * terms["loss"], b * terms["rec"], b * terms["kl"])
                seen += b
                show.step(step + 1, seen, sums[0])
        train_means = sums / seen
        show.end_training_part()
        t_eval = time.perf_counter()
        if x_test is not None:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                ev = model.evaluate(x_test, rng=np.random.default_rng([seed, 1, epoch]),
                                    batch_size=eval_batch_size)
            if not math.isfinite(ev["loss"]) or (limit is not None and ev["loss"] > limit):
                what = (f"the test loss is {ev['loss']:.4g} {unit} per image"
                        + (f" (limit {limit:.4g})" if limit is not None else "")
                        + _terms_text(ev, unit))
                raise diverged(epoch, "test", what)
            show.evals.append(time.perf_counter() - t_eval)
        show.clear()
        epoch_times.append(time.perf_counter() - t_epoch)
        _record(history, epoch, train_means, ev if x_test is not None else None, step_times,
                epoch_times[-1])
        if ckpt:
            save_checkpoint(ckpt, model, opt, epoch, rng, history)
            last_good = epoch
            write_metrics(metrics, history)
        if callback is not None:
            callback(epoch, history, model)
        if not quiet:
            print(_epoch_line(history, epochs, epoch_times), file=log, flush=True)
    return history


def _open_output(out_dir, resume, history, state, *, log=None):
    """The run's files in ``out_dir`` (None: no files): ``(checkpoint, metrics, last_good,
    history)``, restored from the checkpoint (``state``: model, optimizer, generator, config,
    data) when ``resume`` finds one; temporaries of an interrupted write are removed (said on
    ``log`` unless it is None)."""
    if out_dir is None:
        if resume:
            raise ValueError("resume=True needs out_dir")
        return None, None, None, history
    os.makedirs(out_dir, exist_ok=True)
    ckpt, metrics = os.path.join(out_dir, CHECKPOINT), os.path.join(out_dir, METRICS)
    removed = clean_temporaries(out_dir)
    if removed and log is not None:
        print(f"removed {len(removed)} temporary file(s) left by an interrupted write in "
              f"{out_dir}", file=log)
    if not (resume and os.path.exists(ckpt)):
        return ckpt, metrics, None, history
    model, opt, rng, config, data = state
    done, history = restore(ckpt, model, opt, rng, config, data)
    history["config"]["epochs"] = config["epochs"]
    # a kill between the checkpoint and the metrics write leaves metrics.json behind
    write_metrics(metrics, history)
    if log is not None:
        print(f"resuming from {ckpt} after epoch {done}", file=log)
    return ckpt, metrics, done, history


def _record(history, epoch, train_means, ev, step_times, epoch_time) -> None:
    """Append one epoch to ``history``: the training means (loss, rec, kl), the test
    evaluation ``ev`` (None: no test set), the step times and the epoch's time."""
    history["epoch"].append(epoch)
    for key, v in zip(("train_loss", "train_rec", "train_kl"), train_means):
        history[key].append(float(v))
    if ev is not None:
        for key in ("loss", "rec", "kl"):
            history["test_" + key].append(ev[key])
    history["step_time_median"].append(float(np.median(step_times)))
    history["step_time_mean"].append(float(step_times.mean()))
    history["epoch_time"].append(epoch_time)


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

