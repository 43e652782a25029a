"""The networks several experiments share, declared once (:class:`.base.Network`), sized from
the data, and trained once per seed by the runner.

* :func:`ae_pair` (E3, E4): two autoencoders of one architecture, initialization and data
  order, one trained with BCE and one with MSE (Adam), then each one's output bias brought to
  its exact stationary point over its training images (:func:`polish_bias`, Newton's method per
  pixel location).  Trained: {"bce": AE, "mse": AE, "adam": {loss: parameters before the
  polish}, "columns": the locations polished, "gmax": {loss: final |bias gradient|}, "n": the
  number of training images (``SeedData.train(n)`` gives them again)}.
* :func:`ae_pair_path` (E11, E13): the AE pair trained on to longer lengths, with each
  network kept at the requested epochs as it was and with its output bias polished as the
  pair's: {"stages": {epoch: {loss: (AE, polished AE)}}, "columns", "n"}.
* :func:`vae` (E5, E6, E8): an MLP VAE D-hidden-latent (ReLU, sigmoid output) with a given
  likelihood, on raw or clipped images; trained: {"epochs": {epoch: VAE}} at the requested
  snapshots (one run of E epochs passes through exactly the states of shorter runs).
* :func:`linear_vae` (E5): the linear VAE D-:data:`LINEAR_LATENT` with fixed sigma, annealed
  toward the probabilistic-PCA optimum.

Sizes follow the image size D (so 8x8 and 64x64 images get networks of their own size) and the
mode (quick: smaller, fewer epochs; a smoke test).  Every random draw of a network comes from the
seed and the network's name (:func:`.base.entropy`): the BCE and MSE AEs of a pair share theirs.
"""
from __future__ import annotations

import copy

import numpy as np

from ..analysis import find_root
from ..losses import get_loss
from ..nn import AE, VAE, train
from .base import Network, entropy

__all__ = ["ae_pair", "ae_pair_path", "vae", "linear_vae", "ae_sizes", "vae_sizes",
           "stationary_offsets", "polish_bias", "last_layer", "GRAD_TOL", "LINEAR_LATENT",
           "train_ae_pair", "train_ae_pair_path", "train_vae", "train_linear_vae"]

#: Newton's method on the output bias stops when max_j |mean_i dL/dz_ij| is below this.
GRAD_TOL = 1e-9
#: Latent size of the linear VAE.
LINEAR_LATENT = 20


def ae_sizes(D: int) -> tuple:
    """The AE's layer sizes for images of D pixels: D-h-code with h = min(128, max(32, D/6))
    and a code of min(16, D/4) numbers.

    >>> ae_sizes(784), ae_sizes(64), ae_sizes(4096)
    ((784, 128, 16), (64, 32, 16), (4096, 128, 16))
    """
    return (int(D), min(128, max(32, D // 6)), max(2, min(16, D // 4)))


def vae_sizes(D: int) -> tuple:
    """The MLP VAE's sizes: D-hidden-latent with hidden = min(256, max(32, D/3)), latent 16.

    >>> vae_sizes(784), vae_sizes(64)
    ((784, 256, 16), (64, 32, 16))
    """
    return (int(D), min(256, max(32, D // 3)), 16)


# ----------------------------------------------------------------------------------------------
# The AE pair
# ----------------------------------------------------------------------------------------------
def last_layer(model) -> str:
    """The parameter prefix of a model's output layer, e.g. ``dec.2``."""
    return f"dec.{len(model.decoder.dense) - 1}"


def stationary_offsets(loss, y, u, c0, *, tol=GRAD_TOL, max_iter=100):
    """Per column j, the offset c_j with F_j(c) = mean_i dL/dz(y_ij, u_ij + c) = 0.

    F rises through zero (a minimum of the mean loss in c): a bracket with F(lo) < 0 < F(hi) is
    found by doubling steps from ``c0``, then the analysis's bracketing root finder runs on the
    catalogue's grad_logit (float64).  Returns (c, max |F| over the bracketed columns).

    >>> y = np.array([[0.0], [1.0], [1.0]]); u = np.zeros((3, 1))
    >>> c, g = stationary_offsets("bce", y, u, np.zeros(1))     # mean sigmoid(c) = 2/3
    >>> round(float(c[0]), 9), g < 1e-9
    (0.693147181, True)
    """
    loss = get_loss(loss) if isinstance(loss, str) else loss
    y, u = np.asarray(y, dtype=np.float64), np.asarray(u, dtype=np.float64)
    c = np.array(c0, dtype=np.float64)
    n, m = y.shape

    def F(cc, cols):
        return loss.grad_logit(y[:, cols], u[:, cols] + cc, check=False).sum(axis=0) / n

    every = np.arange(m)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        f = F(c, every)
        lo, hi = np.where(f < 0, c, -np.inf), np.where(f > 0, c, np.inf)
        done = np.abs(f) <= tol
        delta = 0.25
        for _ in range(14):                      # probes up to +-0.25 * 2^13 = 2048
            need = np.flatnonzero(~done & ~(np.isfinite(lo) & np.isfinite(hi)))
            if need.size == 0:
                break
            probe = np.where(~np.isfinite(lo[need]), c[need] - delta, c[need] + delta)
            fp = F(probe, need)
            lo[need] = np.where(fp < 0, np.maximum(lo[need], probe), lo[need])
            hi[need] = np.where(fp > 0, np.minimum(hi[need], probe), hi[need])
            delta *= 2
        bracketed = np.isfinite(lo) & np.isfinite(hi)
        active = np.flatnonzero(bracketed & ~done)
        if active.size:
            c[active], _ = find_root(lambda cc, idx: F(cc, active[idx]), lo[active], hi[active],
                                     fatol=tol, maxiter=max_iter)
        fin = F(c, every)
    return c, float(np.max(np.abs(fin[bracketed | done]), initial=0.0))


def polish_bias(model, x, columns) -> float:
    """Bring the output bias of ``columns`` to its stationary point over ``x`` (the model's own
    loss); returns the max |bias gradient| reached."""
    name = last_layer(model) + ".b"
    b = model.params[name].astype(np.float64)
    u = model.logits(x).astype(np.float64)[:, columns] - b[columns]
    c, gmax = stationary_offsets(model.loss, x[:, columns], u, b[columns])
    b[columns] = c
    model.params[name][...] = b.astype(model.dtype)
    return gmax


def train_ae_pair(x, s: dict, seed: int) -> dict:
    """Train the pair of one seed (see the module docstring)."""
    mean = x.astype(np.float64).mean(axis=0)
    cols = np.flatnonzero((mean > 0) & (mean < 1))
    out = {"columns": cols, "adam": {}, "gmax": {}, "n": len(x)}
    for loss in ("bce", "mse"):
        model = AE(s["sizes"], loss=loss, seed=entropy(seed, "ae_pair", "init"))
        train(model, x, None, epochs=s["epochs"], batch_size=s["batch"], lr=s["lr"],
              seed=entropy(seed, "ae_pair", "train"), quiet=True)
        out["adam"][loss] = model.get_params()
        out["gmax"][loss] = polish_bias(model, x, cols)
        out[loss] = model
    return out


def ae_pair(data, quick: bool = False) -> Network:
    """The AE pair for ``data`` (a :class:`.base.StudyData`): 6,000 training images (2,000
    quick), 10 epochs (3 quick), batch 128, Adam lr 2e-3."""
    n, epochs = (2000, 3) if quick else (6000, 10)
    s = {"sizes": ae_sizes(data.D), "epochs": epochs, "batch": 128, "lr": 2e-3}
    return Network("ae_pair", train_ae_pair, s, n, cost=epochs * data.n_train(n) / 10000)


def train_ae_pair_path(x, s: dict, seed: int) -> dict:
    """The AE pair of one seed (same streams as :func:`train_ae_pair`) trained to the last of
    ``s["stages"]``: at each stage {loss: (the network before its bias polish, the polished
    one)}, the polished columns and n (see the module docstring)."""
    mean = x.astype(np.float64).mean(axis=0)
    cols = np.flatnonzero((mean > 0) & (mean < 1))
    out = {"n": len(x), "columns": cols, "stages": {t: {} for t in s["stages"]}}
    for loss in ("bce", "mse"):
        model = AE(s["sizes"], loss=loss, seed=entropy(seed, "ae_pair", "init"))

        def keep(epoch, history, m, loss=loss):
            if epoch in s["stages"]:
                polished = copy.deepcopy(m)
                polish_bias(polished, x, cols)
                out["stages"][epoch][loss] = (copy.deepcopy(m), polished)
        train(model, x, None, epochs=max(s["stages"]), batch_size=s["batch"], lr=s["lr"],
              seed=entropy(seed, "ae_pair", "train"), quiet=True, callback=keep)
    return out


def ae_pair_path(data, quick: bool = False, stages: tuple = (5, 10, 30)) -> Network:
    """The AE pair (:func:`ae_pair`'s data, sizes and streams) trained to ``max(stages)``
    epochs and kept at each of ``stages``; one network for every experiment that asks for the
    same stages (the runner trains it once per seed)."""
    pair = ae_pair(data, quick)
    return Network("ae_pair_path", train_ae_pair_path, {**pair.settings, "stages": tuple(stages)},
                   pair.n, cost=pair.cost * max(stages) / pair.settings["epochs"])


# ----------------------------------------------------------------------------------------------
# The VAEs
# ----------------------------------------------------------------------------------------------
def train_vae(x, s: dict, seed: int) -> dict:
    """Train an MLP VAE (see :func:`vae`); returns {"epochs": {epoch: VAE}, "history", "n": the
    number of training images (``SeedData.train(n)`` gives them again)}."""
    name = f"vae:{s['likelihood']}:{s['sigma']}"
    model = VAE(s["sizes"], likelihood=s["likelihood"], sigma=s["sigma"],
                init_sigma=s["init_sigma"], seed=entropy(seed, name, "init"))
    kept = {}

    def keep(epoch, history, m):
        if epoch in s["snapshots"]:
            kept[epoch] = _clone(m)
    hist = train(model, x, None, epochs=s["epochs"], batch_size=s["batch"], lr=s["lr"],
                 seed=entropy(seed, name, "train"), quiet=True, callback=keep)
    return {"epochs": kept, "n": len(x),
            "history": {k: hist[k][-1] for k in ("train_loss", "train_rec", "train_kl")}}


def _clone(model):
    import pickle
    return pickle.loads(pickle.dumps(model))


def vae(data, quick: bool = False, *, likelihood: str, sigma=1.0, init_sigma: float = 1.0,
        variant: str = "raw", epochs: int | None = None, snapshots=()) -> Network:
    """An MLP VAE for ``data``: 10,000 training images (2,500 quick), 8 epochs (3 quick) unless
    ``epochs`` is given, batch 128, Adam lr 2e-3; parameters kept at ``snapshots`` (and at the
    last epoch)."""
    n = 2500 if quick else 10000
    e = int(epochs if epochs is not None else 8)
    if quick:
        e = min(e, 3)
    snaps = tuple(sorted({min(int(k), e) for k in snapshots} | {e}))
    s = {"sizes": vae_sizes(data.D), "likelihood": likelihood, "sigma": sigma,
         "init_sigma": float(init_sigma), "epochs": e, "snapshots": snaps, "batch": 128,
         "lr": 2e-3}
    return Network(f"vae[{likelihood},{sigma}]", train_vae, s, n, variant,
                   cost=e * data.n_train(n) / 27000)


def lin_phases(s: dict) -> list:
    """(epochs, learning rate) of the linear VAE's phases: constant, then each annealing phase
    at a tenth of the previous rate.

    >>> lin_phases({"epochs": 30, "lr": 1e-3, "anneal": (5, 0)})
    [(30, 0.001), (5, 0.0001)]
    """
    return [(s["epochs"], s["lr"])] + [
        (e, s["lr"] * 10.0 ** -(i + 1)) for i, e in enumerate(s["anneal"]) if e > 0]


def train_linear_vae(x, s: dict, seed: int) -> VAE:
    """The linear VAE with fixed sigma, trained in the phases of :func:`lin_phases` (each a
    fresh Adam with its own data-order stream)."""
    name = f"linear_vae:{s['sigma']}"
    model = VAE((x.shape[1], s["latent"]), likelihood="gaussian", sigma=s["sigma"],
                decoder="linear", seed=entropy(seed, name, "init"))
    for i, (epochs, lr) in enumerate(lin_phases(s)):
        train(model, x, None, epochs=epochs, batch_size=s["batch"], lr=lr,
              seed=entropy(seed, name, "train", i), quiet=True)
    return model


def linear_vae(data, quick: bool = False, *, sigma: float) -> Network:
    """The linear VAE D-20 at ``sigma``: 30 epochs at lr 3e-3, then 5 at 3e-4 and 5 at 3e-5
    (quick: 4, 1, 1), 10,000 training images (2,500 quick)."""
    n = 2500 if quick else 10000
    epochs, anneal = (4, (1, 1)) if quick else (30, (5, 5))
    s = {"sigma": float(sigma), "latent": LINEAR_LATENT, "epochs": epochs, "anneal": anneal,
         "lr": 3e-3, "batch": 128}
    return Network(f"linear_vae[{sigma:g}]", train_linear_vae, s, n,
                   cost=(epochs + sum(anneal)) * data.n_train(n) / 60000)
