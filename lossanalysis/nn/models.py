"""Autoencoders with hand-written backward passes: :class:`AE`, :class:`VAE`, :class:`BiasOnly`.

Common interface
----------------
* ``model.params`` / ``model.grads``: dicts name -> array with the same keys.  Both live in
  one flat buffer each; change parameters in place (``model.params[k][...] = v`` or
  :meth:`set_params`), never by rebinding a dict entry.
* ``model.loss_and_grads(x, eps=None, rng=None, *, reuse=False) -> (loss, grads)``: the batch
  mean of the per-example loss summed over pixels (for the VAE the negative ELBO in nats, every
  normalizing constant included) and its gradients.  ``grads`` belongs to the caller (a fresh
  copy); with ``reuse=True`` it is ``model.grads`` itself, overwritten by the next call (the
  training loop's choice: no copy per step).  ``model.last_terms`` holds
  ``{"loss", "rec", "kl"}`` of the last call (``kl`` is 0 for the AE).
* ``model.evaluate(x, ...)``: the same terms without gradients, over any number of examples.
* ``encode``, ``decode``, ``logits``, ``reconstruct``; VAE also ``sample`` and ``kl_per_dim``.

The decoder output is a logit ``z`` (``p = sigmoid(z)``) except for the VAE's linear decoder,
whose output is the Gaussian mean itself.  Inputs are cast to the model's ``dtype`` (float32 by
default; float64 for gradient checks).
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import math

import numpy as np

from .layers import layer_sizes as _layer_sizes
from .likelihoods import Catalogue, Term, make_likelihood, term_from_config
from .mlp import MLP, flat_view, pack

__all__ = ["AE", "VAE", "BiasOnly", "model_from_config", "default_layers", "DEFAULT_LAYERS"]


#: The layer sizes of the MNIST-sized networks (784 values): the VAE of the PyTorch examples'
#: vae/main.py, and the AE used throughout.
DEFAULT_LAYERS = {"ae": (784, 512, 128, 32), "vae": (784, 400, 20)}


def default_layers(model: str, n_values: int) -> tuple:
    """Default layer sizes for images of ``n_values`` values: :data:`DEFAULT_LAYERS` with the
    input size ``D`` for ``D >= 784``; for smaller images each hidden size scaled by D / 784
    (rounded up to a multiple of 8; at least 16 and 8) and the code at most D / 8 (at least 4
    for the AE, 2 for the VAE), so that an 8 x 8 image does not meet 512 hidden units.

    >>> default_layers("ae", 784), default_layers("vae", 784)
    ((784, 512, 128, 32), (784, 400, 20))
    >>> default_layers("ae", 64), default_layers("vae", 64), default_layers("vae", 625)
    ((64, 48, 16, 8), (64, 40, 8), (625, 320, 20))
    """
    if model not in DEFAULT_LAYERS:
        raise ValueError(f"model must be 'ae' or 'vae', got {model!r}")
    d = int(n_values)
    if d < 1:
        raise ValueError(f"n_values must be >= 1, got {n_values!r}")
    base = DEFAULT_LAYERS[model]
    if d >= base[0]:
        return (d,) + base[1:]
    ratio = d / base[0]
    *hidden, code = base[1:]
    hidden = [max(16 if j == 0 else 8, 8 * math.ceil(h * ratio / 8))
              for j, h in enumerate(hidden)]
    code = max(4 if model == "ae" else 2, min(code, d // 8))
    return (d, *hidden, code)


class _Model:
    """Shared plumbing: dtype handling, parameter access, batched evaluation."""

    term: Term
    latent_dim = 0

    def _init_common(self, dtype, seed, rng):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.rng = rng if rng is not None else np.random.default_rng(seed)
        self.last_terms = {}

    def _input(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_pixels:
            raise ValueError(f"x must have shape (batch, {self.n_pixels}), got {x.shape}")
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return x

    def check_data(self, x, name: str = "x") -> np.ndarray:
        """Validate a data set for this model and return it as a C-contiguous array of the
        model's dtype.

        Raises :class:`ValueError` with a plain message (naming ``name``) unless ``x`` is a
        2-D numeric array with :attr:`n_pixels` columns and finite values, inside ``[0, 1]``
        when the output term is a sigmoid-output loss (every catalogue loss and likelihood
        except the linear decoder's Gaussian, whose mean is unconstrained).  Training calls it
        once per data set, so the per-step hot path can skip the catalogue's own range checks.
        """
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} is not an array of numbers: {err}") from None
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                       or arr.dtype == np.bool_):
            raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")
        if np.issubdtype(arr.dtype, np.complexfloating):
            raise ValueError(f"{name} must be real, got dtype {arr.dtype}")
        if arr.ndim != 2 or arr.shape[1] != self.n_pixels:
            raise ValueError(f"{name} must have shape (examples, {self.n_pixels}) to match the "
                             f"model's input size, got shape {arr.shape}")
        arr = np.ascontiguousarray(arr, dtype=self.dtype)
        if arr.size:
            if not np.isfinite(arr).all():
                raise ValueError(f"{name} holds NaN or infinite values")
            if self.term.output == "logit":
                lo, hi = float(arr.min()), float(arr.max())
                if lo < 0 or hi > 1:
                    raise ValueError(f"{name} must lie in [0, 1] (pixel intensities), got values "
                                     f"from {lo:g} to {hi:g}; scale the images, e.g. divide "
                                     "uint8 data by 255")
        return arr

    def _term_kw(self) -> dict:
        """``{"reuse": True}`` if the output term can hand back its own buffers (a user's
        subclass may not accept the argument: then nothing)."""
        kw = getattr(self, "_term_kw_cache", None)
        if kw is None or kw[0] is not self.term:
            try:
                ok = "reuse" in inspect.signature(self.term.value_and_grad).parameters
            except (TypeError, ValueError):
                ok = False
            kw = self._term_kw_cache = (self.term, {"reuse": True} if ok else {})
        return kw[1]

    def _grads_out(self, reuse: bool) -> dict:
        """``self.grads`` itself (``reuse``) or a copy the caller owns: views of one fresh flat
        buffer, so that optimizers still update everything in a few vectorized passes."""
        if reuse:
            return self.grads
        flat = flat_view(self.grads.values())
        if flat is None:
            return {k: v.copy() for k, v in self.grads.items()}
        copy = flat.copy()
        out, start = {}, 0
        for k, v in self.grads.items():
            out[k] = copy[start:start + v.size].reshape(v.shape)
            start += v.size
        return out

    def set_params(self, values: dict) -> None:
        """Copy ``values`` (name -> array, a subset of :attr:`params` is allowed) in place."""
        for k, v in values.items():
            if k not in self.params:
                raise KeyError(f"unknown parameter {k!r}")
            v = np.asarray(v)
            if v.shape != self.params[k].shape:
                raise ValueError(f"parameter {k!r}: shape {v.shape}, expected {self.params[k].shape}")
            self.params[k][...] = v

    def get_params(self) -> dict:
        """A copy of the parameters."""
        return {k: v.copy() for k, v in self.params.items()}

    def n_params(self) -> int:
        return sum(v.size for v in self.params.values())

    def evaluate(self, x, *, rng=None, eps=None, batch_size: int = 1000, per_example: bool = False):
        """Loss terms on ``x`` without gradients, in batches.

        Returns ``{"loss", "rec", "kl"}``: means over the examples (floats), or with
        ``per_example=True`` arrays of shape ``(n,)``.  For the VAE each example gets one latent
        sample, drawn from ``rng`` (default: the model's generator) unless ``eps`` (shape
        ``(n, latent_dim)``) is given.
        """
        x = np.asarray(x)
        n = x.shape[0]
        parts = {"loss": [], "rec": [], "kl": []}
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            e = None if eps is None else eps[start:stop]
            rec, kl = self._terms(self._input(x[start:stop]), e, rng)
            parts["rec"].append(rec.astype(np.float64))
            parts["kl"].append(kl.astype(np.float64))
        out = {k: np.concatenate(parts[k]) if parts[k] else np.zeros(0) for k in ("rec", "kl")}
        out["loss"] = out["rec"] + out["kl"]
        if per_example:
            return out
        return {k: float(v.mean()) if v.size else float("nan") for k, v in out.items()}

    def describe(self) -> dict:
        """A JSON-friendly description of the architecture (for metrics files)."""
        return {"class": type(self).__name__, "dtype": self.dtype.name, "term": self.term.describe()}

    @property
    def unit(self) -> str:
        """What the loss counts per pixel, e.g. ``"nats"`` or ``"squared error"``; the loss of
        an image is in "<unit> per image"."""
        return self.term.unit

    def config(self) -> dict:
        """The constructor arguments, as plain data, that rebuild this model (architecture and
        output term; not the parameter values): see :func:`model_from_config`."""
        return {"class": type(self).__name__, "dtype": self.dtype.name,
                "term": self.term.config(), **self._arch}

    def architecture(self) -> str:
        """A one-line human description.

        >>> AE((784, 512, 128, 32), loss="mse").architecture()
        'AE 784-512-128-32, mse (intensity²), 944,176 parameters'
        """
        return (f"{type(self).__name__} {'-'.join(map(str, self._sizes_shown()))}, "
                f"{self.term.name} ({self.unit}), {self.n_params():,} parameters")

    def _sizes_shown(self):
        return self.layer_sizes


class AE(_Model):
    """Deterministic autoencoder with a symmetric MLP encoder and decoder.

    ``layer_sizes=(784, 512, 128, 32)`` gives the encoder 784-512-128-32 and the decoder
    32-128-512-784; hidden layers use ``activation``, the code layer ``code_activation``
    (identity by default) and the output is a logit ``z`` with ``p = sigmoid(z)``.

    ``loss``: a catalogue name, a :class:`~lossanalysis.losses.Loss` (including
    ``Loss.from_expr`` user losses; parameters via ``loss_params``), or a ready-made
    :class:`~lossanalysis.nn.likelihoods.Term`.  The loss per example is summed over pixels;
    :meth:`loss_and_grads` reports the batch mean.

    Initialization: He before ReLU-like units, Glorot otherwise; ``init`` (``"he"``,
    ``"glorot"`` or ``"uniform_fan_in"``, the frameworks' default) applies one scheme to every
    layer.  Drawn from ``rng`` or ``np.random.default_rng(seed)``.
    """

    def __init__(self, layer_sizes, loss="bce", *, loss_params: dict | None = None,
                 activation: str = "relu", code_activation: str = "identity", init: str | None = None,
                 dtype=np.float32, seed: int = 0, rng: np.random.Generator | None = None):
        self._init_common(dtype, seed, rng)
        sizes = _layer_sizes(layer_sizes)
        self.layer_sizes = sizes
        self.n_pixels = sizes[0]
        self.latent_dim = sizes[-1]
        self.encoder = MLP(sizes, rng=self.rng, activation=activation, out_activation=code_activation,
                           init=init, out_init=init, dtype=self.dtype)
        self.decoder = MLP(sizes[::-1], rng=self.rng, activation=activation, out_activation="identity",
                           init=init, out_init=init, dtype=self.dtype)
        self.term = loss if isinstance(loss, Term) else Catalogue(loss, **(loss_params or {}))
        self.term.setup(self.n_pixels, self.dtype)
        owners = self.encoder.owners("enc") + self.decoder.owners("dec")
        if self.term.params:
            owners.append(("lik", self.term))
        self.params, self.grads = pack(owners, self.dtype)
        self._arch = {"layer_sizes": list(sizes), "activation": activation,
                      "code_activation": code_activation, "init": init}

    @property
    def loss(self):
        """The catalogue loss (``None`` for a custom term)."""
        return getattr(self.term, "loss", None)

    def loss_and_grads(self, x, eps=None, rng=None, *, reuse: bool = False):
        """Batch mean of the per-example loss and its gradients.

        Parameters
        ----------
        x : array, shape (batch, n_pixels)
            Targets (and inputs).
        eps, rng
            Ignored (the AE is deterministic); accepted for a uniform interface.
        reuse : bool
            Return :attr:`grads` itself, overwritten by the next call, instead of a copy.

        Returns
        -------
        (float, dict)
            The loss and its gradients (name -> array, the keys of :attr:`params`).

        Examples
        --------
        >>> import numpy as np
        >>> ae = AE((6, 4, 2), loss="mse", seed=0)
        >>> x = np.random.default_rng(0).random((3, 6))
        >>> loss, g = ae.loss_and_grads(x)
        >>> g2 = ae.loss_and_grads(x[:2])[1]
        >>> bool(np.shares_memory(g["dec.1.b"], g2["dec.1.b"]))
        False
        """
        x = self._input(x)
        inv_b = 1.0 / x.shape[0]
        code = self.encoder.forward(x, train=True)
        z = self.decoder.forward(code, train=True)
        values, dz = self.term.value_and_grad(self.term.prepare(x), z, grad_scale=inv_b,
                                              **self._term_kw())
        loss = _mean(values)
        dcode = self.decoder.backward(dz)
        self.encoder.backward(dcode, need_dx=False)
        self.last_terms = {"loss": loss, "rec": loss, "kl": 0.0}
        return loss, self._grads_out(reuse)

    def _terms(self, x, eps, rng):
        z = self.decoder.forward(self.encoder.forward(x))
        values, _ = self.term.value_and_grad(self.term.prepare(x), z)
        return values, np.zeros_like(values)

    def encode(self, x) -> np.ndarray:
        """The code (bottleneck activations)."""
        return self.encoder.forward(self._input(x))

    def decode(self, code, kind: str = "mean") -> np.ndarray:
        """Image from codes: ``kind="mean"`` (mean of the output distribution: the CB mean for
        the continuous Bernoulli loss, else ``sigmoid(z)``), ``"param"`` (``sigmoid(z)``) or
        ``"logit"`` (``z``)."""
        z = self.decoder.forward(np.asarray(code, dtype=self.dtype))
        return _output(self.term, z, kind)

    def logits(self, x) -> np.ndarray:
        """The decoder output ``z`` for inputs ``x``."""
        return self.decode(self.encode(x), kind="logit")

    def reconstruct(self, x, kind: str = "mean") -> np.ndarray:
        """``decode(encode(x), kind)``."""
        return self.decode(self.encode(x), kind=kind)

    def describe(self):
        return {**super().describe(), "layer_sizes": list(self.layer_sizes)}


class VAE(_Model):
    """Variational autoencoder with a Gaussian encoder and a prior N(0, I).

    ``layer_sizes=(784, 400, 20)``: encoder 784-400 then a linear head giving the mean and
    log-variance of q(h|x) (20 each; one matrix 400 x 40 whose first 20 columns are the mean,
    parameters ``enc.<last>.W/b``), decoder 20-400-784.  The latent sample is
    ``h = mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` (reparameterization; ``eps`` can
    be injected), the KL to the prior is exact:
    ``KL = 1/2 sum_j (mu_j^2 + exp(logvar_j) - 1 - logvar_j)``.

    ``likelihood``: ``"bernoulli"``, ``"gaussian"`` (``sigma`` fixed number, ``"shared"`` or
    ``"per_pixel"``), ``"continuous_bernoulli"``, ``"beta"`` (``kappa``, ``clip``) or a
    :class:`~lossanalysis.nn.likelihoods.Term`; see :func:`make_likelihood`.

    ``decoder="linear"``: a single affine map ``mu = W h + b`` with identity output and a
    Gaussian likelihood (fixed or learned sigma), for comparison with probabilistic PCA
    (Tipping & Bishop 1999; Lucas et al. 2019, arXiv 1911.02469).

    Initialization as for :class:`AE`: He before ReLU-like units, Glorot otherwise, or one
    ``init`` scheme for every layer.
    """

    def __init__(self, layer_sizes, likelihood="bernoulli", *, sigma=1.0, kappa=None, clip=1e-3,
                 init_sigma=1.0, decoder: str = "mlp", activation: str = "relu",
                 init: str | None = None, dtype=np.float32, seed: int = 0,
                 rng: np.random.Generator | None = None):
        self._init_common(dtype, seed, rng)
        sizes = _layer_sizes(layer_sizes)
        if decoder not in ("mlp", "linear"):
            raise ValueError(f"decoder must be 'mlp' or 'linear', got {decoder!r}")
        self.layer_sizes = sizes
        self.n_pixels = sizes[0]
        k = self.latent_dim = sizes[-1]
        self.decoder_kind = decoder
        self.encoder = MLP(sizes[:-1] + (2 * k,), rng=self.rng, activation=activation,
                           out_activation="identity", init=init, out_init=init, dtype=self.dtype)
        if decoder == "linear":
            if likelihood not in ("gaussian",) and not isinstance(likelihood, Term):
                raise ValueError("the linear decoder needs the gaussian likelihood")
            dec_sizes = (k, self.n_pixels)
            output = "identity"
        else:
            dec_sizes = sizes[::-1]
            output = "logit"
        self.decoder = MLP(dec_sizes, rng=self.rng, activation=activation, out_activation="identity",
                           init=init, out_init=init, dtype=self.dtype)
        self.term = make_likelihood(likelihood, sigma=sigma, kappa=kappa, clip=clip, output=output,
                                    init_sigma=init_sigma)
        if self.term.output != output:
            raise ValueError(f"the {decoder} decoder needs a likelihood with output={output!r}")
        self.term.setup(self.n_pixels, self.dtype)
        owners = self.encoder.owners("enc") + self.decoder.owners("dec")
        if self.term.params:
            owners.append(("lik", self.term))
        self.params, self.grads = pack(owners, self.dtype)
        self._arch = {"layer_sizes": list(sizes), "decoder": decoder, "activation": activation,
                      "init": init}
        self._ws_batch = None
        #: (mu, logvar, eps, h) of the last loss_and_grads call (views of work arrays).
        self.last_latent = None

    # -- the objective ---------------------------------------------------------------------
    def _noise(self, shape, eps, rng, out=None):
        if eps is not None:
            eps = np.asarray(eps, dtype=self.dtype)
            if eps.shape != shape:
                raise ValueError(f"eps must have shape {shape}, got {eps.shape}")
            return eps
        gen = rng if rng is not None else self.rng
        return gen.standard_normal(shape, dtype=self.dtype, out=out)

    def _workspace(self, batch):
        if self._ws_batch != batch:
            k = self.latent_dim
            self._eps = np.empty((batch, k), self.dtype)
            self._std = np.empty((batch, k), self.dtype)
            self._h = np.empty((batch, k), self.dtype)
            self._dhead = np.empty((batch, 2 * k), self.dtype)
            self._ws_batch = batch

    def loss_and_grads(self, x, eps=None, rng=None, *, reuse: bool = False):
        """Negative ELBO (nats per example, batch mean) and its gradients.

        ``eps`` (shape ``(batch, latent_dim)``) fixes the reparameterization noise; otherwise it
        is drawn from ``rng`` (default: the model's generator).  The gradients are a copy the
        caller owns, or with ``reuse=True`` :attr:`grads` itself, overwritten by the next call.

        Examples
        --------
        >>> import numpy as np
        >>> vae = VAE((6, 4, 2), seed=0)
        >>> x = np.random.default_rng(0).random((3, 6))
        >>> loss, g = vae.loss_and_grads(x, eps=np.zeros((3, 2)))
        >>> loss > 0 and set(g) == set(vae.params)
        True
        """
        x = self._input(x)
        batch, k = x.shape[0], self.latent_dim
        inv_b = 1.0 / batch
        self._workspace(batch)
        head = self.encoder.forward(x, train=True)
        mu, logvar = head[:, :k], head[:, k:]
        eps = self._noise((batch, k), eps, rng, out=self._eps)
        std, h = self._std, self._h
        np.multiply(logvar, 0.5, out=std)
        np.exp(std, out=std)
        np.multiply(std, eps, out=h)
        h += mu
        out = self.decoder.forward(h, train=True)
        rec, d_out = self.term.value_and_grad(self.term.prepare(x), out, grad_scale=inv_b,
                                              **self._term_kw())
        em1 = np.expm1(logvar)                      # exp(logvar) - 1, accurate near 0
        kl = _kl_elements(mu, logvar, em1).sum(axis=1)
        dh = self.decoder.backward(d_out)
        d_mu, d_lv = self._dhead[:, :k], self._dhead[:, k:]
        # KL gradients: d/dmu = mu, d/dlogvar = (exp(logvar) - 1)/2 (per example, then / batch)
        np.multiply(mu, inv_b, out=d_mu)
        d_mu += dh
        # through h = mu + exp(logvar/2) eps: dh/dlogvar = eps * exp(logvar/2) / 2
        np.multiply(dh, eps, out=d_lv)
        d_lv *= std
        em1 *= inv_b
        d_lv += em1
        d_lv *= 0.5
        self.encoder.backward(self._dhead, need_dx=False)
        rec_m, kl_m = _mean(rec), _mean(kl)
        loss = _mean(rec + kl)
        self.last_terms = {"loss": loss, "rec": rec_m, "kl": kl_m}
        self.last_latent = (mu, logvar, eps, h)
        return loss, self._grads_out(reuse)

    def _terms(self, x, eps, rng):
        mu, logvar = self.encode(x)
        eps = self._noise(mu.shape, eps, rng)
        h = mu + np.exp(0.5 * logvar) * eps
        rec, _ = self.term.value_and_grad(self.term.prepare(x), self.decoder.forward(h))
        kl = _kl_elements(mu, logvar, np.expm1(logvar)).sum(axis=1)
        return rec, kl

    # -- inference -------------------------------------------------------------------------
    def encode(self, x):
        """``(mu, logvar)`` of q(h | x), each of shape ``(n, latent_dim)``."""
        head = self.encoder.forward(self._input(x))
        k = self.latent_dim
        return np.ascontiguousarray(head[:, :k]), np.ascontiguousarray(head[:, k:])

    def decode(self, h, kind: str = "mean") -> np.ndarray:
        """Image from latent codes: ``kind="mean"`` (the likelihood's mean image: ``sigmoid(z)``,
        the CB mean for the continuous Bernoulli, the output itself for the linear decoder),
        ``"param"`` (``sigmoid(z)``: the CB's lambda, the Beta's mean) or ``"logit"`` (the raw
        decoder output)."""
        out = self.decoder.forward(np.asarray(h, dtype=self.dtype))
        return _output(self.term, out, kind)

    def logits(self, x) -> np.ndarray:
        """Decoder output at the posterior mean (the logit z; the mean for the linear decoder)."""
        return self.decode(self.encode(x)[0], kind="logit")

    def reconstruct(self, x, kind: str = "mean") -> np.ndarray:
        """The decoder at the posterior mean, ``decode(mu(x), kind)``."""
        return self.decode(self.encode(x)[0], kind=kind)

    def sample(self, n: int, rng: np.random.Generator | None = None, kind: str = "mean") -> np.ndarray:
        """Decode ``n`` draws from the prior N(0, I) (mean images unless ``kind`` says otherwise)."""
        gen = rng if rng is not None else self.rng
        return self.decode(gen.standard_normal((n, self.latent_dim), dtype=self.dtype), kind=kind)

    def kl_per_dim(self, x, batch_size: int = 1000) -> np.ndarray:
        """KL(q(h_j | x) || N(0, 1)) per latent dimension j, averaged over the examples ``x``
        (float64, shape ``(latent_dim,)``; used to count active dimensions)."""
        x = np.asarray(x)
        total = np.zeros(self.latent_dim)
        for start in range(0, x.shape[0], batch_size):
            mu, logvar = self.encode(x[start:start + batch_size])
            total += _kl_elements(mu, logvar, np.expm1(logvar)).sum(axis=0, dtype=np.float64)
        return total / max(x.shape[0], 1)

    def describe(self):
        return {**super().describe(), "layer_sizes": list(self.layer_sizes), "decoder": self.decoder_kind}


class BiasOnly(_Model):
    """The smallest model: one logit per pixel, ``z = b`` for every example (no input).

    Fitting it with a loss finds the loss's best constant image, e.g. the per-pixel mean for
    proper scores such as bce and mse.  Same interface as :class:`AE` (``encode`` is absent).
    ``init`` is the initial logit (0 gives p = 1/2).
    """

    def __init__(self, n_pixels: int = 784, loss="bce", *, loss_params: dict | None = None,
                 init: float = 0.0, dtype=np.float32, seed: int = 0, rng=None):
        self._init_common(dtype, seed, rng)
        self.n_pixels = int(n_pixels)
        self.term = loss if isinstance(loss, Term) else Catalogue(loss, **(loss_params or {}))
        self.term.setup(self.n_pixels, self.dtype)
        bias = SimpleNamespace(params={"b": np.full(self.n_pixels, init, dtype=self.dtype)},
                               grads={"b": np.zeros(self.n_pixels, dtype=self.dtype)})
        owners = [("out", bias)]
        if self.term.params:
            owners.append(("lik", self.term))
        self.params, self.grads = pack(owners, self.dtype)
        self._arch = {"n_pixels": self.n_pixels}

    def _z(self, n):
        return np.broadcast_to(self.params["out.b"], (n, self.n_pixels))

    def loss_and_grads(self, x, eps=None, rng=None, *, reuse: bool = False):
        """Batch mean of the per-example loss and its gradient in the bias (a copy, or with
        ``reuse=True`` :attr:`grads` itself)."""
        x = self._input(x)
        values, dz = self.term.value_and_grad(self.term.prepare(x), self._z(x.shape[0]),
                                              grad_scale=1.0 / x.shape[0], **self._term_kw())
        np.sum(dz, axis=0, out=self.grads["out.b"])
        loss = _mean(values)
        self.last_terms = {"loss": loss, "rec": loss, "kl": 0.0}
        return loss, self._grads_out(reuse)

    def _terms(self, x, eps, rng):
        values, _ = self.term.value_and_grad(self.term.prepare(x), self._z(x.shape[0]))
        return values, np.zeros_like(values)

    def logits(self, x) -> np.ndarray:
        return np.array(self._z(np.asarray(x).shape[0]))

    def reconstruct(self, x, kind: str = "mean") -> np.ndarray:
        return _output(self.term, self.logits(x), kind)

    def _sizes_shown(self):
        return (self.n_pixels,)


def model_from_config(config: dict):
    """A new model (fresh parameters) built from :meth:`config` of another.

    Raises ``ValueError`` if ``config`` is not a model configuration or names an output term
    that cannot be rebuilt from plain data (a user's ``Term`` subclass or user loss).

    Examples
    --------
    >>> vae = VAE((6, 4, 2), likelihood="gaussian", sigma="shared", seed=0)
    >>> twin = model_from_config(vae.config())
    >>> twin.config() == vae.config() and set(twin.params) == set(vae.params)
    True
    """
    if not isinstance(config, dict) or config.get("class") not in ("AE", "VAE", "BiasOnly"):
        raise ValueError(f"not a model configuration: {config!r}")
    cfg = dict(config)
    cls = cfg.pop("class")
    term = term_from_config(cfg.pop("term", None))
    dtype = cfg.pop("dtype", "float32")
    try:
        if cls == "AE":
            return AE(cfg.pop("layer_sizes"), loss=term, dtype=dtype, **cfg)
        if cls == "VAE":
            return VAE(cfg.pop("layer_sizes"), likelihood=term, dtype=dtype, **cfg)
        return BiasOnly(cfg.pop("n_pixels"), loss=term, dtype=dtype, **cfg)
    except (KeyError, TypeError) as err:
        raise ValueError(f"incomplete or unknown model configuration {config!r}: {err}") from None


def _mean(values) -> float:
    """``float(values.mean())`` for a 1-D array, the same number (NumPy's mean is the sum,
    in the array's dtype, divided by the count) without :func:`numpy.mean`'s Python layer."""
    return float(values.sum() / values.shape[0])


def _kl_elements(mu, logvar, em1):
    """Per-dimension KL(N(mu, exp(logvar)) || N(0, 1)) = (mu^2 + (exp(logvar) - 1) - logvar)/2,
    given ``em1 = expm1(logvar)``."""
    kl = np.square(mu)
    kl += em1
    kl -= logvar
    kl *= 0.5
    return kl


def _output(term: Term, out, kind: str):
    if kind == "mean":
        return term.mean(out)
    if kind == "param":
        return term.param_image(out)
    if kind == "logit":
        return out
    raise ValueError(f"kind must be 'mean', 'param' or 'logit', got {kind!r}")
