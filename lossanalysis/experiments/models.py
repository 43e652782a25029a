"""The networks that several experiments share, trained once per run.

* **The AE pair** (E3, E4): two autoencoders of identical architecture, initialization and data
  order, one trained with BCE and one with MSE (Adam), then each one's output bias brought to
  its exact stationary point over the training images by Newton's method per pixel location
  (:func:`polish_bias`).  :func:`ae_pair_task` returns the parameters after Adam and after the
  polish.
* **The MLP VAEs** (E5, E6): 784-hidden-latent (ReLU, sigmoid output) with a given likelihood,
  on the raw training images or on the images clipped into :data:`~.core.INTERIOR`;
  :func:`vae_task` returns the parameters at the requested epochs (one run of E epochs passes
  through exactly the states of shorter runs of the same seed).
* **The linear VAE** (E5): :func:`train_linear_vae`, an annealed run toward the probabilistic-PCA
  optimum.

A network's task key holds its whole configuration (dataset, data variant, settings, likelihood,
seed, epochs), so a change of any setting retrains it and two experiments asking for the same
network get one training.  The task runs in a worker process and returns parameters; the
experiments rebuild the network from them (:func:`ae`, :func:`vae`), which reproduces it exactly.
"""
from __future__ import annotations

import time

import numpy as np

from ..analysis._solve import _arith_mid, _solve_increasing
from ..losses import get_loss
from ..nn import AE, VAE, train
from .core import (INTERIOR, Task, dataset, eval_subset, experiment_settings, frozen,
                   stream_entropy, training_subset)

__all__ = ["ae_settings", "vae_settings", "lin_phases", "describe_vae", "ae_training_images",
           "vae_training_images", "vae_eval_images", "ae_pair_task", "train_ae_pair", "ae",
           "vae_task", "train_vae", "vae", "train_linear_vae", "LINEAR_LATENT",
           "stationary_offsets", "polish_bias", "last_layer", "GRAD_TOL", "VARIANTS"]

#: Newton's method on the output bias stops when max_j |mean_i dL/dz_ij| is below this.
GRAD_TOL = 1e-9
#: Latent size of the linear VAE.
LINEAR_LATENT = 20
#: Data variants of the VAEs: the raw images, or the images clipped into INTERIOR.
VARIANTS = ("raw", "clipped")


# ----------------------------------------------------------------------------------------------
# Settings
# ----------------------------------------------------------------------------------------------
def ae_settings(cfg) -> dict:
    """Sizes of the AE pair: full or quick, overridden by ``cfg.extra["settings"]["ae"]``."""
    return experiment_settings(
        cfg, "ae", dict(sizes=(784, 128, 16), n_train=6000, n_eval=5000, epochs=10, batch=128,
                        lr=2e-3),
        dict(n_train=2000, n_eval=1000, epochs=3))


def vae_settings(cfg) -> dict:
    """Sizes of the VAEs: full or quick, overridden by ``cfg.extra["settings"]["vae"]``.

    Full mode: 10,000 training images, 8 epochs (~1 s each on 2 cores); quick mode: 2,500
    images, 3 epochs (networks far from converged: for smoke tests only).

    The active counts of E5 are predicted for the optimum, so the networks they are measured on
    must be near it:

    * Linear VAE: ``lin_epochs`` = 30 epochs at ``lin_lr`` 3e-3, then ``lin_anneal`` = 5 at
      3e-4 and 5 at 3e-5.  Adam at a constant step hovers around the optimum with a spread set
      by its step; in the nearly flat directions (lambda_i just below sigma^2: the Hessian of
      the loss in a direction's decoder and encoder weights has determinant
      lambda (sigma^2 - lambda) / sigma^4 at the collapsed point, vanishing as
      lambda -> sigma^2) that spread alone carries ~0.01 nats per latent dimension -- the
      threshold.  Pilot (MNIST sigma = 2, 1, 0.5 and Fashion-MNIST sigma = 1, 0.7; seeds 0-2;
      judged by the convergence diagnostic -ELBO minus the analytic optimum, not by the
      counts): 20 constant epochs end 0.06-1.8 nats above the optimum, the annealed schedule
      0.00-0.39 (MNIST sigma = 1: 0.38-0.43 -> 0.05-0.07).
    * MLP decoders whose predicted count lies below the latent size: ``count_epochs`` = 24
      epochs for the count; everything else about them is read at the common ``epochs`` of the
      same run.  Pilot with seeds 10 and 11, sigma = 1, counts every 4 epochs to epoch 32-40:
      the count falls over the first 16-24 epochs and then changes little (MNIST 16 at epoch
      8, 12-13 at 16-20, 10-12 at 24-40; Fashion-MNIST 15 at 8, 10 at 20, 6 from 24 to 40).
    """
    s = experiment_settings(
        cfg, "vae", dict(n_train=10000, n_eval=2000, epochs=8, lin_epochs=30, lin_anneal=(5, 5),
                         count_epochs=24, batch_size=128, lr=2e-3, lin_lr=3e-3, hidden=256,
                         latent=16, n_calib=2000),
        dict(n_train=2500, n_eval=500, epochs=3, lin_epochs=4, lin_anneal=(1, 1),
             count_epochs=6, n_calib=500))
    s["count_epochs"] = max(s["epochs"], s["count_epochs"])
    return s


def lin_phases(s: dict) -> list:
    """(epochs, learning rate) of the linear VAE's training phases: constant, then each
    annealing phase at a tenth of the previous rate.

    >>> lin_phases({"lin_epochs": 30, "lin_lr": 1e-3, "lin_anneal": (5, 0)})
    [(30, 0.001), (5, 0.0001)]
    """
    return [(s["lin_epochs"], s["lin_lr"])] + [
        (e, s["lin_lr"] * 10.0 ** -(i + 1)) for i, e in enumerate(s["lin_anneal"]) if e > 0]


def describe_vae(s: dict) -> str:
    """The VAE settings in words, for the report."""
    phases = lin_phases(s)
    return (f"{s['n_train']} training images, MLP VAE 784-{s['hidden']}-{s['latent']} (ReLU, "
            f"sigmoid output), Adam lr {s['lr']:g}, batch {s['batch_size']}, {s['epochs']} "
            f"epochs (the decoders whose active count is predicted below {s['latent']}: "
            f"{s['count_epochs']} epochs for that count); linear VAE 784-{LINEAR_LATENT}, Adam "
            f"lr {s['lin_lr']:g} for {s['lin_epochs']} epochs"
            + "".join(f", then {e} at lr {lr:g}" for e, lr in phases[1:])
            + f"; image statistics on {s['n_eval']} test images")


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------
def ae_training_images(ref, s: dict) -> np.ndarray:
    """The AE pair's training images (the fixed subset of stream ``subset.ae``)."""
    return training_subset(dataset(ref).x_train, s["n_train"], "subset.ae")


def _variant(x, variant: str) -> np.ndarray:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if variant == "raw":
        return x
    return np.clip(x, np.float32(INTERIOR[0]), np.float32(INTERIOR[1]))


def vae_training_images(ref, s: dict, variant: str = "raw") -> np.ndarray:
    """The VAEs' training images (the fixed subset of stream ``subset.vae``), raw or clipped."""
    return _variant(training_subset(dataset(ref).x_train, s["n_train"], "subset.vae"), variant)


def vae_eval_images(ref, s: dict, variant: str = "raw") -> np.ndarray:
    """The first ``n_eval`` test images, raw or clipped."""
    return _variant(eval_subset(dataset(ref).x_test, s["n_eval"]), variant)


# ----------------------------------------------------------------------------------------------
# The AE pair
# ----------------------------------------------------------------------------------------------
def last_layer(model) -> str:
    """The parameter prefix of a model's output layer, e.g. ``dec.2``."""
    return f"dec.{len(model.decoder.dense) - 1}"


def stationary_offsets(loss, y, u, c0, *, tol=GRAD_TOL, max_iter=100):
    """Per column j, the offset c_j with F_j(c) = mean_i dL/dz(y_ij, u_ij + c) = 0.

    F rises through zero (a minimum of the mean loss in c): a bracket [lo, hi] with
    F(lo) < 0 < F(hi) is found by doubling steps from ``c0``, then the analysis's safeguarded
    Newton iteration on the catalogue's grad_logit and curvature_logit, with bisection whenever
    the Newton point leaves the bracket (float64; only the columns not yet converged are
    evaluated).  Returns (c, max |F| at the end).

    Examples
    --------
    >>> y = np.array([[0.0], [1.0], [1.0]]); u = np.zeros((3, 1))
    >>> c, g = stationary_offsets("bce", y, u, np.zeros(1))     # mean sigmoid(c) = 2/3
    >>> round(float(c[0]), 9), g < 1e-9
    (0.693147181, True)
    """
    loss = get_loss(loss) if isinstance(loss, str) else loss
    y = np.asarray(y, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    c = np.array(c0, dtype=np.float64)
    n, m = y.shape

    def F(cc, cols):
        return loss.grad_logit(y[:, cols], u[:, cols] + cc, check=False).sum(axis=0) / n

    def H(cc, cols):
        return loss.curvature_logit(y[:, cols], u[:, cols] + cc, check=False).sum(axis=0) / n

    every = np.arange(m)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        f = F(c, every)
        lo = np.where(f < 0, c, -np.inf)
        hi = np.where(f > 0, c, np.inf)
        done = np.abs(f) <= tol
        delta = 0.25
        for _ in range(14):                      # probes up to +-0.25 * 2^13 = 2048
            need = np.flatnonzero(~done & ~(np.isfinite(lo) & np.isfinite(hi)))
            if need.size == 0:
                break
            down = ~np.isfinite(lo[need])        # F > 0 at c: look below
            probe = np.where(down, c[need] - delta, c[need] + delta)
            fp = F(probe, need)
            lo[need] = np.where(fp < 0, np.maximum(lo[need], probe), lo[need])
            hi[need] = np.where(fp > 0, np.minimum(hi[need], probe), hi[need])
            delta *= 2
        bracketed = np.isfinite(lo) & np.isfinite(hi)
        active = np.flatnonzero(bracketed & ~done)
        if active.size:
            def FH(cc, idx):
                return F(cc, active[idx]), H(cc, active[idx])
            start = 0.5 * (lo[active] + hi[active])
            c[active] = _solve_increasing(FH, lo[active], hi[active], start, _arith_mid,
                                          ftol=tol, maxiter=max_iter)
        fin = F(c, every)
    return c, float(np.max(np.abs(fin[bracketed | done])))


def polish_bias(model, x, columns):
    """Bring the output bias of ``columns`` to its stationary point over ``x`` (the model's own
    loss); returns the max |bias gradient| reached (per-example loss, batch mean)."""
    name = last_layer(model) + ".b"
    b = model.params[name].astype(np.float64)
    u = model.logits(x).astype(np.float64)[:, columns] - b[columns]
    c, gmax = stationary_offsets(model.loss, x[:, columns], u, b[columns])
    b[columns] = c
    model.params[name][...] = b.astype(model.dtype)
    return gmax


def ae(s: dict, loss: str, params: dict, seed: int) -> AE:
    """The AE of the pair rebuilt from its parameters."""
    model = AE(s["sizes"], loss=loss, seed=stream_entropy("net.init", seed))
    model.set_params(params)
    return model


def train_ae_pair(ref, s: dict, seed: int, *, deps=None) -> dict:
    """Train the pair of one seed (task function; see the module docstring).

    Returns {"columns": locations with a finite stationary bias, loss: {"adam": parameters
    after Adam, "polished": after the bias polish, "train_loss": final training loss,
    "gmax": final |bias gradient|, "seconds": training time}} for loss in ("bce", "mse").
    """
    x = ae_training_images(ref, s)
    mean = x.astype(np.float64).mean(axis=0)
    cols = np.flatnonzero((mean > 0) & (mean < 1))
    out = {"columns": cols}
    models = {}
    for loss in ("bce", "mse"):
        t0 = time.perf_counter()
        model = AE(s["sizes"], loss=loss, seed=stream_entropy("net.init", seed))
        hist = train(model, x, None, epochs=s["epochs"], batch_size=s["batch"], lr=s["lr"],
                     seed=stream_entropy("net.train", seed), quiet=True)
        models[loss] = model
        out[loss] = {"adam": model.get_params(), "train_loss": hist["train_loss"][-1],
                     "seconds": time.perf_counter() - t0}
    for loss in ("bce", "mse"):
        out[loss]["gmax"] = polish_bias(models[loss], x, cols)
        out[loss]["polished"] = models[loss].get_params()
    return out


def ae_pair_task(ref, s: dict, seed: int) -> Task:
    """The task that trains the AE pair of ``seed`` on dataset ``ref`` with settings ``s``."""
    work = s["epochs"] * s["n_train"] * 2
    return Task(("ae_pair", ref.name, frozen(s), int(seed)), train_ae_pair, (ref, s, int(seed)),
                cost=work / 4000.0, label=f"{ref.name} AE pair (BCE, MSE) seed {seed}")


# ----------------------------------------------------------------------------------------------
# The VAEs
# ----------------------------------------------------------------------------------------------
def vae(s: dict, likelihood: str, params: dict, *, sigma=1.0, init_sigma=1.0, seed: int = 0):
    """The MLP VAE rebuilt from its parameters."""
    model = VAE((784, s["hidden"], s["latent"]), likelihood=likelihood, sigma=sigma,
                init_sigma=init_sigma, seed=stream_entropy("net.init", seed))
    model.set_params(params)
    return model


def train_vae(ref, s: dict, likelihood: str, sigma, init_sigma: float, seed: int, epochs: int,
              snapshots: tuple, variant: str = "raw", *, deps=None) -> dict:
    """Train the MLP VAE (task function); returns {"params": {epoch: parameters} for the
    epochs in ``snapshots``, "history": the final -ELBO, reconstruction and KL, "seconds"}."""
    x = vae_training_images(ref, s, variant)
    model = VAE((x.shape[1], s["hidden"], s["latent"]), likelihood=likelihood, sigma=sigma,
                init_sigma=init_sigma, seed=stream_entropy("net.init", seed))
    kept = {}

    def keep(epoch, history, m):
        if epoch in snapshots:
            kept[epoch] = m.get_params()
    t0 = time.perf_counter()
    hist = train(model, x, None, epochs=epochs, batch_size=s["batch_size"], lr=s["lr"],
                 seed=stream_entropy("net.train", seed), quiet=True, callback=keep)
    return {"params": kept, "seconds": time.perf_counter() - t0,
            "history": {k: hist[k][-1] for k in ("train_loss", "train_rec", "train_kl")}}


def vae_task(ref, s: dict, likelihood: str, seed: int, *, sigma=1.0, init_sigma=1.0,
             epochs=None, snapshots=None, variant: str = "raw") -> Task:
    """The task that trains one MLP VAE; its key is its whole configuration."""
    epochs = int(s["epochs"] if epochs is None else epochs)
    snapshots = tuple(sorted(set(snapshots or (epochs,))))
    if any(e < 1 or e > epochs for e in snapshots):
        raise ValueError(f"snapshots must lie in 1..{epochs}, got {snapshots}")
    key = ("vae", ref.name, variant, frozen(s), likelihood, repr(sigma), repr(float(init_sigma)),
           int(seed), epochs, snapshots)
    name = likelihood if likelihood != "gaussian" else (
        "gaussian learned sigma" if isinstance(sigma, str) else f"gaussian sigma={sigma:g}")
    return Task(key, train_vae, (ref, s, likelihood, sigma, float(init_sigma), int(seed), epochs,
                                 snapshots, variant),
                cost=epochs * s["n_train"] / 3600.0,
                label=f"{ref.name} {variant} VAE {name} seed {seed} ({epochs} epochs)")


def train_linear_vae(x, sigma: float, seed: int, s: dict) -> VAE:
    """The linear VAE 784-:data:`LINEAR_LATENT` with fixed ``sigma``, trained in the phases of
    :func:`lin_phases` (constant lr, then annealed); each phase a fresh Adam with its own
    data-order stream (``net.train``, phase i)."""
    model = VAE((x.shape[1], LINEAR_LATENT), likelihood="gaussian", sigma=sigma,
                decoder="linear", seed=stream_entropy("net.init", seed))
    for i, (epochs, lr) in enumerate(lin_phases(s)):
        train(model, x, None, epochs=epochs, batch_size=s["batch_size"], lr=lr,
              seed=stream_entropy("net.train", seed, i), quiet=True)
    return model
