"""The training run's files: ``checkpoint.npz`` (parameters, optimizer state, epoch, generator
state, history and the model's configuration) and ``metrics.json``, written atomically after
every epoch by :func:`lossanalysis.nn.train`; read back, within size limits, by
:func:`load_checkpoint` and :func:`load_model`, and into a resuming run by :func:`restore`
(which refuses a checkpoint of other data, settings or model).
"""
from __future__ import annotations

import glob
import json
import os

import numpy as np

from .._io import atomic_write

__all__ = ["load_checkpoint", "load_model", "save_checkpoint", "write_metrics",
           "clean_temporaries", "restore", "CHECKPOINT", "METRICS"]

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.json"
_FORMAT = 2          # 2 adds the model configuration; format 1 files are still read
# Settings that must agree between a checkpoint and the run resuming it.
_RESUME_KEYS = ("batch_size", "lr", "optimizer", "optimizer_kwargs", "seed", "shuffle", "n_train",
                "n_test", "drop_last")


def save_checkpoint(path, model, opt, epoch, rng, history):
    """Write ``checkpoint.npz`` at ``path`` atomically: the model's parameters, the optimizer's
    state, ``epoch``, the generator's state, ``history`` and the model's configuration."""
    arrays = {f"param/{k}": v for k, v in model.params.items()}
    state = opt.state_dict()
    for name, per_key in state.items():
        if name != "t":
            arrays.update({f"opt/{name}/{k}": np.asarray(v) for k, v in per_key.items()})
    arrays["opt_t"] = np.array(state["t"])
    arrays["epoch"] = np.array(epoch)
    arrays["format"] = np.array(_FORMAT)
    arrays["rng_state"] = np.array(json.dumps(rng.bit_generator.state))
    arrays["history"] = np.array(json.dumps(history))
    config = model.config() if hasattr(model, "config") else None
    arrays["model_config"] = np.array(json.dumps(config))
    atomic_write(path, lambda f: np.savez(f, **arrays))


_SCALARS = ("format", "epoch", "opt_t")
_TEXTS = ("rng_state", "history", "model_config")


def _text_entry(value: np.ndarray, key: str, where: str, lim):
    """A JSON entry of a checkpoint (a 0-d string array), its size and depth bounded."""
    from .._limits import json_depth

    if value.shape != () or value.dtype.kind != "U":
        raise ValueError(f"entry {key!r} is {value.dtype} of shape {value.shape}, not a "
                         "JSON string")
    text = str(value[()])
    data = text.encode("utf-8")
    lim.check("json_bytes", len(data), f"{where}: entry {key!r}")
    lim.check("json_depth", json_depth(data), f"{where}: entry {key!r}")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"entry {key!r} is not valid JSON ({str(exc).splitlines()[0]})") \
            from None


def load_checkpoint(path, *, limits=None) -> dict:
    """Read a checkpoint written by :func:`train`.

    Every entry is checked from the archive's directory and its ``.npy`` header before anything
    is inflated (sizes within ``limits``: ``array_bytes`` per entry and in all, ``json_bytes``
    and ``json_depth`` for the stored JSON; see :mod:`lossanalysis._limits`): the known entries
    only, each of the type it must have.

    Returns
    -------
    dict
        ``params`` (name -> array), ``opt`` (optimizer state), ``epoch``, ``rng_state``,
        ``history`` and ``model_config`` (None in files written before it was stored).

    Raises ``ValueError`` (one line naming the file) for a file that is not such a checkpoint:
    missing, truncated, corrupt, foreign, too large, with missing, extra or mistyped entries.

    Examples
    --------
    >>> import tempfile, os
    >>> bad = os.path.join(tempfile.mkdtemp(), "x.npz")
    >>> _ = open(bad, "wb").write(b"not a checkpoint")
    >>> load_checkpoint(bad)
    Traceback (most recent call last):
    ...
    ValueError: ...x.npz is not a lossanalysis checkpoint (not an .npz archive)
    """
    import zipfile

    from .._limits import InputError, LimitError, as_limits, npz_members, read_member

    lim = as_limits(limits)
    where = str(path)
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":
                raise ValueError("not an .npz archive")
        with zipfile.ZipFile(path) as zf:
            members = npz_members(zf, where, lim)
            lim.check("array_bytes", sum(h.nbytes for _, h in members.values()),
                      f"{where}: its entries")
            if "format" not in members:
                raise ValueError("no format entry: not written by lossanalysis.nn.train")
            unknown = sorted(k for k in members if k not in _SCALARS + _TEXTS
                             and not k.startswith(("param/", "opt/")))
            if unknown:
                raise ValueError(f"unexpected entry {unknown[0]!r}")
            missing = [k for k in _SCALARS + _TEXTS[:2] if k not in members]
            if missing:
                raise ValueError(f"missing entry {missing[0]!r}")
            for k, (_, h) in members.items():
                kinds = "iu" if k in _SCALARS else "U" if k in _TEXTS else "f"
                if h.dtype.kind not in kinds or (k in _SCALARS + _TEXTS and h.shape != ()):
                    want = ("an integer" if k in _SCALARS else "a JSON string" if k in _TEXTS
                            else "an array of floats")
                    raise ValueError(f"entry {k!r} is {h.dtype} of shape {h.shape}, not {want}")
                if k.startswith("opt/") and k.count("/") < 2:
                    raise ValueError(f"entry {k!r} is not opt/<state>/<parameter>")
            read = {k: read_member(zf, info, h, where) for k, (info, h) in members.items()}
        fmt = int(read["format"])
        if fmt not in (1, _FORMAT):
            raise ValueError(f"unsupported checkpoint format {fmt}")
        epoch, t = int(read["epoch"]), int(read["opt_t"])
        if epoch < 0 or t < 0:
            raise ValueError(f"negative epoch {epoch} or step count {t}")
        params = {k[len("param/"):]: v for k, v in read.items() if k.startswith("param/")}
        opt = {"t": t}
        for k, v in read.items():
            if k.startswith("opt/"):
                _, name, key = k.split("/", 2)
                opt.setdefault(name, {})[key] = v
        rng_state = _text_entry(read["rng_state"], "rng_state", where, lim)
        history = _text_entry(read["history"], "history", where, lim)
        config = (_text_entry(read["model_config"], "model_config", where, lim)
                  if "model_config" in read else None)
        if not isinstance(rng_state, dict):
            raise ValueError("entry 'rng_state' is not a generator state")
        _check_history(history, epoch)
        if config is not None and not isinstance(config, dict):
            raise ValueError("entry 'model_config' is not a model configuration")
        return {"params": params, "opt": opt, "epoch": epoch, "rng_state": rng_state,
                "history": history, "model_config": config}
    except FileNotFoundError:
        raise ValueError(f"{path}: no such checkpoint file") from None
    except LimitError:
        raise
    except (InputError, ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError,
            TypeError, OverflowError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if reason.startswith(where + ": "):
            reason = reason[len(where) + 2:]
        raise ValueError(f"{path} is not a lossanalysis checkpoint ({reason})") from None


#: The per-epoch series of a history: lists of numbers, one per epoch trained.
_SERIES = ("epoch", "train_loss", "train_rec", "train_kl", "test_loss", "test_rec", "test_kl",
           "step_time_median", "step_time_mean", "epoch_time")


def _check_history(history, epoch: int) -> None:
    """A checkpoint's history: a dict whose per-epoch series are lists of numbers (``epoch``
    of them, or none for an untested run's test series) and whose ``config`` is a dict."""
    if not isinstance(history, dict):
        raise ValueError(f"entry 'history' is {type(history).__name__}, not an object")
    if not isinstance(history.get("config", {}), dict):
        raise ValueError("entry 'history': 'config' is not an object")
    if not isinstance(history.get("model", {}), dict):
        raise ValueError("entry 'history': 'model' is not an object")
    for key in _SERIES:
        series = history.get(key)
        if series is None:
            continue
        if (not isinstance(series, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in series)):
            raise ValueError(f"entry 'history': {key!r} is not a list of numbers")
        if len(series) not in ((epoch, 0) if key.startswith("test_") else (epoch,)):
            raise ValueError(f"entry 'history': {key!r} has {len(series)} values for "
                             f"{epoch} epochs")
    for key in ("start_loss", "baseline_loss"):
        v = history.get(key)
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            raise ValueError(f"entry 'history': {key!r} is not a number")


def load_model(path, *, limits=None):
    """Rebuild a trained model from its checkpoint alone (architecture, output term and
    parameters; the training history is in ``load_checkpoint(path)["history"]``).

    The stored configuration is checked before the model is built: its parameter count within
    ``limits.parameters`` (see :mod:`lossanalysis._limits`), and the stored parameters' shapes
    against the model's.

    Raises ``ValueError`` naming the file if it is not a checkpoint (see
    :func:`load_checkpoint`), was written before models were stored in checkpoints, holds a
    model too large or parameters that do not fit it, or a model whose output term cannot be
    rebuilt from plain data (a user loss or ``Term`` subclass: build that model yourself and
    call ``set_params(load_checkpoint(path)["params"])``).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from lossanalysis.nn import AE, train
    >>> folder = tempfile.mkdtemp()
    >>> ae = AE((6, 4, 2), loss="mse", seed=0)
    >>> x = np.random.default_rng(0).random((8, 6))
    >>> _ = train(ae, x, epochs=1, batch_size=4, out_dir=folder, quiet=True)
    >>> twin = load_model(folder + "/checkpoint.npz")
    >>> bool(np.array_equal(twin.reconstruct(x), ae.reconstruct(x)))
    True
    """
    from .._limits import as_limits
    from .models import model_from_config

    lim = as_limits(limits)
    state = load_checkpoint(path, limits=lim)
    config = state["model_config"]
    if config is None:
        raise ValueError(f"{path} was written before checkpoints stored the model; build the "
                         "model yourself and call set_params(load_checkpoint(path)['params'])")
    stored = sum(int(v.size) for v in state["params"].values())
    lim.check("parameters", stored, f"{path}: its stored parameters")
    lim.check("parameters", _declared_parameters(config, path),
              f"{path}: the model its configuration describes")
    try:
        model = model_from_config(config)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as err:
        raise ValueError(f"cannot rebuild the model of {path}: "
                         f"{str(err).splitlines()[0] if str(err) else type(err).__name__}") \
            from None
    if set(state["params"]) != set(model.params):
        extra = sorted(set(state["params"]) - set(model.params))
        missing = sorted(set(model.params) - set(state["params"]))
        detail = (f"unexpected {extra[0]!r}" if extra else f"missing {missing[0]!r}")
        raise ValueError(f"{path}: the parameter names do not match the stored model "
                         f"({detail})")
    try:
        model.set_params(state["params"])
    except (KeyError, ValueError) as err:
        raise ValueError(f"{path}: {err}") from None
    return model


def _declared_parameters(config, path) -> int:
    """An upper bound of the parameter count of the model ``config`` describes, computed from
    its sizes without building anything (``ValueError`` for sizes that are not positive
    integers)."""
    if not isinstance(config, dict):
        raise ValueError(f"{path}: the model configuration is not an object")
    sizes = config.get("layer_sizes", [config.get("n_pixels", 1)])
    if (not isinstance(sizes, list) or not sizes
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                       for v in sizes)):
        raise ValueError(f"{path}: the model's layer sizes {str(sizes)[:60]} are not positive "
                         "integers")
    pairs = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    # encoder + decoder (+ a VAE's second head and a learned per-pixel sigma)
    return 3 * pairs + 2 * sizes[0]


def clean_temporaries(folder) -> list[str]:
    """Remove the temporary files that a kill during :func:`atomic_write` of the checkpoint or
    the metrics left in ``folder``; return their names."""
    removed = []
    for name in (CHECKPOINT, METRICS):
        for path in glob.glob(os.path.join(glob.escape(str(folder)), f".{name}.*.tmp")):
            try:
                os.unlink(path)
                removed.append(os.path.basename(path))
            except FileNotFoundError:
                pass
    return removed


def write_metrics(path, history):
    """Write ``history`` as ``metrics.json`` at ``path`` atomically."""
    atomic_write(path, json.dumps(history, indent=1))


def restore(path, model, opt, rng, config, data=None):
    """Load the checkpoint at ``path`` into ``model``, ``opt`` and ``rng``; return the epoch it
    was written after and its history."""
    try:
        state = load_checkpoint(path)
    except ValueError as err:
        raise ValueError(f"cannot resume: {err}") from None
    saved_data = state["history"].get("data")
    if data is not None and isinstance(saved_data, dict):
        now = json.loads(json.dumps(data))
        diff = [k for k in ("name", "source") if saved_data.get(k) != now.get(k)]
        if diff:
            raise ValueError(f"cannot resume from {path}: it was trained on other data "
                             f"({diff[0]}: checkpoint {saved_data.get(diff[0])!r} vs now "
                             f"{now.get(diff[0])!r})")
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
    try:
        model.set_params(state["params"])
        opt.load_state_dict(state["opt"])
        rng.bit_generator.state = state["rng_state"]
    except (KeyError, ValueError, TypeError) as err:
        what = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        raise ValueError(f"cannot resume from {path}: its parameters, optimizer or generator "
                         f"state do not fit this run ({str(what).splitlines()[0]})") from None
    history = state["history"]
    for key in _SERIES:
        history.setdefault(key, [])
    for key, default in (("unit", getattr(model, "unit", "loss")), ("start_loss", None),
                         ("baseline_loss", None)):
        history.setdefault(key, default)
    return state["epoch"], history
