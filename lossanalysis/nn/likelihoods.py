"""Reconstruction terms: per-pixel losses summed over pixels, with their output gradients.

A *term* turns the decoder output ``out`` (shape ``(batch, pixels)``) and the targets ``x`` into
a per-example value (summed over pixels) and the gradient with respect to ``out``.  The AE uses
it as its reconstruction loss, the VAE as its negative log-likelihood.

Every term with a sigmoid output (decoder output = logit ``z``, ``p = sigmoid(z)``) takes its
values and logit gradients from the loss catalogue (:mod:`lossanalysis.losses`) -- the networks
train with exactly the losses that the rest of the package analyses:

============================  ===================================================  =========
term                          per-pixel value                                      catalogue
============================  ===================================================  =========
``Catalogue(loss)``           any catalogue or user loss                           ``loss``
``bernoulli``                 binary cross-entropy                                 ``bce``
``gaussian`` (fixed sigma)    (p-y)^2/(2 sigma^2) + ln sigma + ln(2 pi)/2          ``gaussian_nll``
``gaussian`` (learned sigma)  mse/(2 sigma^2) + ln sigma + ln(2 pi)/2              ``mse``
``continuous_bernoulli``      bce - ln C(p), normalizer included                   ``continuous_bernoulli``
``beta``                      -ln Beta(y; kappa p, kappa (1-p)), y clipped         ``beta_nll``
============================  ===================================================  =========

For the catalogue's own ``bce`` and ``mse`` the value and gradient come from
:mod:`lossanalysis.nn.kernels`: the catalogue's operations performed in place on scratch
arrays kept from call to call -- the same bits, without the catalogue's temporaries.

The learned-sigma Gaussian parameterizes ``log sigma`` (one shared scalar or one per pixel); its
squared error comes from the catalogue's ``mse`` and only the scaling by ``1/(2 sigma^2)``, the
normalizer ``ln sigma + ln(2 pi)/2`` and the gradient in ``log sigma`` are written here.

The identity-output Gaussian (:class:`Gaussian` with ``output="identity"``) serves the linear
decoder, whose mean ``W z + b`` is unconstrained: the catalogue's losses live on [0, 1] and
cannot take it, so the squared error ``(mu - y)^2`` and its gradient ``2 (mu - y)`` are written
here, and fed to the same scaling/normalizer code as the learned-sigma case.  Both the fixed
and the learned sigma are available there.
"""

from __future__ import annotations

import math

import numpy as np

from ..losses import Loss, continuous_bernoulli_mean_logit, get_loss, sigmoid
from . import parallel
from .kernels import N_SCRATCH, kernel_for
from .layers import positive_finite
from .memory import work_arrays

__all__ = ["Term", "Catalogue", "Gaussian", "make_likelihood", "term_from_config", "LIKELIHOODS"]

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


#: The catalogue is called on blocks of rows of about this many elements.  Whole-batch
#: temporaries (128 x 784 float32 = 400 kB each) are returned to the OS by malloc after every
#: call and page-faulted back in on the next (measured: 360 faults and 1.7 ms per BCE call,
#: against none and 0.9 ms in blocks); blocks also stay in cache.  Every element's value is the
#: same either way, and the row sums are taken row by row.
BLOCK_ELEMENTS = 1 << 15
#: The in-place kernels (:mod:`lossanalysis.nn.kernels`) allocate nothing and take blocks of
#: about this many elements (fewer NumPy calls per batch).
KERNEL_BLOCK_ELEMENTS = 1 << 16
#: Batches of at least this many elements are shared out over the elementwise threads
#: (:mod:`lossanalysis.nn.parallel`) by rows.
SPLIT_ELEMENTS = 1 << 15


class _Evaluator:
    """Evaluates a catalogue loss on ``(batch, pixels)`` arrays: in blocks of rows, shared out
    over the elementwise threads, optionally into buffers reused from call to call.  The
    catalogue's ``bce`` and ``mse`` run as :mod:`lossanalysis.nn.kernels` (the same operations
    in place, into scratch arrays kept from call to call); every other loss calls the
    catalogue block by block."""

    def __init__(self, loss: Loss):
        self.loss = loss
        self._buffers = {}
        self._kernel = kernel_for(loss)
        self._scratch = {}

    def _work(self, part, rows, d, dtype):
        """The kernel's scratch arrays of thread ``part`` for blocks of ``rows`` x ``d``."""
        key = (part, rows, d, dtype)
        work = self._scratch.get(key)
        if work is None:
            if len(self._scratch) > 8:          # a few shapes at a time (training, testing)
                self._scratch.clear()
            work = self._scratch[key] = work_arrays([(rows, d)] * N_SCRATCH, dtype)
        return work

    def __call__(self, x, out, grad_scale, summed: bool = True, reuse: bool = False):
        """The catalogue's value of the loss at targets ``x`` and logits ``out`` (summed over
        pixels if ``summed``) and, unless ``grad_scale`` is None, ``grad_scale`` times its
        logit gradient (else None).  With ``reuse`` the arrays are this evaluator's buffers,
        overwritten by the next call; otherwise fresh."""
        n, d = out.shape
        want_grad = grad_scale is not None
        vshape = (n,) if summed else out.shape
        if reuse:
            key = (vshape, want_grad, out.shape, out.dtype)
            if key not in self._buffers:
                arrays = work_arrays([vshape] + ([out.shape] if want_grad else []), out.dtype)
                self._buffers = {key: (arrays[0], arrays[1] if want_grad else None)}
            values, grad = self._buffers[key]
        else:
            values = np.empty(vshape, dtype=out.dtype)
            grad = np.empty_like(out) if want_grad else None
        loss = self.loss
        kernel = self._kernel
        if kernel is not None and not (x.dtype == out.dtype and out.dtype.kind == "f"):
            kernel = None
        block = KERNEL_BLOCK_ELEMENTS if kernel is not None else BLOCK_ELEMENTS
        rows = max(1, block // max(1, d))

        def run(lo, hi, part):
            work = None
            for a in range(lo, hi, rows):
                b = slice(a, min(a + rows, hi))
                if kernel is not None:
                    if work is None:
                        work = self._work(part, min(rows, hi - lo), d, out.dtype)
                    r = b.stop - a
                    kernel(x[b], out[b], values[b], grad[b] if want_grad else None, grad_scale,
                           summed, [w[:r] for w in work])
                    continue
                if want_grad:
                    v, g = loss.value_and_grad_logit(x[b], out[b], check=False)
                    if grad_scale != 1:
                        np.multiply(g, grad_scale, out=grad[b])
                    else:
                        grad[b] = g
                else:
                    v = loss.value_logit(x[b], out[b], check=False)
                if summed:
                    np.sum(v, axis=1, out=values[b])
                else:
                    values[b] = v

        parallel.split(run, n, min_size=max(2, -(-SPLIT_ELEMENTS // max(1, d))), align=1)
        return values, grad


class Term:
    """Base class.  Learnable parameters (if any) live in ``params``/``grads`` dicts."""

    name = "term"
    #: "logit": decoder output is z with p = sigmoid(z); "identity": the output is the mean.
    output = "logit"

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def setup(self, n_pixels: int, dtype) -> None:
        """Create the learnable parameters for ``n_pixels`` outputs (default: none)."""

    def prepare(self, x: np.ndarray) -> np.ndarray:
        """Targets as the term needs them (identity unless documented otherwise)."""
        return x

    def value_and_grad(self, x, out, grad_scale=None, *, reuse=False):
        """Per-example values ``(batch,)`` summed over pixels, and -- when ``grad_scale`` is
        given -- the gradient of ``grad_scale * sum(values)`` with respect to ``out`` while
        storing that of the term's own parameters in ``self.grads``.

        The arrays returned are fresh unless ``reuse=True``, which may hand back the term's
        own buffers, overwritten by its next call (the training step asks for that).  A
        subclass may leave ``reuse`` out of its signature: models then never pass it."""
        raise NotImplementedError

    def mean(self, out):
        """The mean image of the output distribution (the image to show)."""
        return sigmoid(out) if self.output == "logit" else np.array(out, copy=True)

    def param_image(self, out):
        """The distribution's parameter image: ``sigmoid(z)`` (or the mean for identity)."""
        return sigmoid(out) if self.output == "logit" else np.array(out, copy=True)

    #: What the term's value counts, per pixel (summed over pixels: "... per image").
    unit = "loss"

    def describe(self) -> dict:
        """A JSON-friendly description (for metrics files)."""
        return {"name": self.name}

    def config(self) -> dict:
        """Everything needed to rebuild the term (see :func:`term_from_config`); a term that
        cannot be rebuilt from plain data (a user's subclass or user loss) says so with
        ``{"kind": "custom", ...}``."""
        return {"kind": "custom", "class": type(self).__name__}


class Catalogue(Term):
    """A catalogue loss (or user loss) in the logit domain, summed over pixels.

    ``clip``: for losses whose targets must lie in the open interval (``beta_nll``), targets are
    clipped into ``[clip, 1 - clip]`` by :meth:`prepare` (ignored otherwise).
    """

    def __init__(self, loss: Loss | str, name: str | None = None, clip: float = 1e-3, **loss_params):
        super().__init__()
        self.loss = get_loss(loss, **loss_params)
        self.name = name or self.loss.name
        if not 0.0 < clip < 0.5:
            raise ValueError(f"clip must lie in (0, 0.5), got {clip}")
        self.clip = float(clip)
        self._eval = _Evaluator(self.loss)

    def prepare(self, x):
        if self.loss.target_domain == "open":
            return np.clip(x, self.clip, 1.0 - self.clip)
        return x

    def value_and_grad(self, x, out, grad_scale=None, *, reuse=False):
        return self._eval(x, out, grad_scale, reuse=reuse)

    def mean(self, out):
        if self.loss.name == "continuous_bernoulli":
            return continuous_bernoulli_mean_logit(out)
        return sigmoid(out)

    def describe(self):
        d = {"name": self.name, "loss": self.loss.name, "loss_params": dict(self.loss.params)}
        if self.loss.target_domain == "open":
            d["clip"] = self.clip
        return d

    def _from_catalogue(self) -> bool:
        """Whether the loss is the catalogue's own (not a user loss that could share a name)."""
        try:
            return type(self) is Catalogue and get_loss(self.loss.name, **self.loss.params) == self.loss
        except ValueError:
            return False

    @property
    def unit(self):
        try:
            own = get_loss(self.loss.name, **self.loss.params) == self.loss
        except ValueError:      # a user loss under a name the catalogue does not know
            own = False
        return self.loss.unit if own else "loss"

    def config(self):
        if not self._from_catalogue():
            return {"kind": "custom", "class": type(self).__name__, "loss": str(self.loss)}
        return {"kind": "catalogue", "loss": self.loss.name, "params": dict(self.loss.params),
                "name": self.name, "clip": self.clip}


class Gaussian(Term):
    """Gaussian likelihood N(y; mu, sigma^2) per pixel, summed over pixels.

    ``sigma``: a positive number (fixed), ``"shared"`` (one learned sigma) or ``"per_pixel"``
    (one learned sigma per pixel); learned sigmas are parameterized by ``log_sigma``
    (initialized at ``ln(init_sigma)``).

    ``output="logit"``: mu = sigmoid(z); the fixed-sigma case is the catalogue's
    ``gaussian_nll``, the learned case the catalogue's ``mse`` scaled here.
    ``output="identity"``: mu = the decoder output itself (linear decoder), squared error here.
    """

    def __init__(self, sigma: float | str = 1.0, output: str = "logit", init_sigma: float = 1.0):
        super().__init__()
        if output not in ("logit", "identity"):
            raise ValueError(f"output must be 'logit' or 'identity', got {output!r}")
        self.output = output
        if isinstance(sigma, str):
            if sigma not in ("shared", "per_pixel"):
                raise ValueError(f"sigma must be a positive number, 'shared' or 'per_pixel', got {sigma!r}")
            if not init_sigma > 0:
                raise ValueError(f"init_sigma must be positive, got {init_sigma}")
            self.learned = sigma
            self.sigma = None
        else:
            try:
                self.sigma = positive_finite(sigma, "sigma")
            except TypeError:
                raise TypeError(f"sigma must be a positive number, 'shared' or 'per_pixel', "
                                f"got {sigma!r}") from None
            self.learned = None
        self.init_sigma = float(init_sigma)
        self.name = "gaussian"
        if output == "logit":
            self._fixed = get_loss("gaussian_nll", sigma=self.sigma) if self.sigma else None
            self._mse = get_loss("mse")
            self._eval_fixed = _Evaluator(self._fixed) if self._fixed else None
            self._eval_mse = _Evaluator(self._mse)

    def setup(self, n_pixels, dtype):
        if self.learned:
            shape = (1,) if self.learned == "shared" else (n_pixels,)
            self.params = {"log_sigma": np.full(shape, math.log(self.init_sigma), dtype=dtype)}
            self.grads = {"log_sigma": np.zeros(shape, dtype=dtype)}

    def _squared_error(self, x, out, want_grad, reuse=False):
        """(mu - y)^2 and its gradient in ``out``: from the catalogue's mse for the logit
        output, written here for the identity output."""
        if self.output == "logit":
            se, dse = self._eval_mse(x, out, 1 if want_grad else None, summed=False, reuse=reuse)
        else:
            diff = out - x
            se = np.square(diff)
            dse = None
            if want_grad:
                diff *= 2
                dse = diff
        return se, dse

    def value_and_grad(self, x, out, grad_scale=None, *, reuse=False):
        want_grad = grad_scale is not None
        if self.output == "logit" and self.learned is None:
            # Fixed sigma: the catalogue's gaussian_nll as is.
            return self._eval_fixed(x, out, grad_scale, reuse=reuse)
        se, dse = self._squared_error(x, out, want_grad, reuse=reuse)
        n_pix = x.shape[1]
        if self.learned is None:  # identity output, fixed sigma
            log_s = math.log(self.sigma)
            half_prec = 0.5 / self.sigma ** 2
            values = se.sum(axis=1) * half_prec + n_pix * (log_s + HALF_LOG_2PI)
            if want_grad:
                dse *= half_prec * grad_scale
            return values, dse
        log_s = self.params["log_sigma"]
        half_prec = np.exp(-2 * log_s)          # 1/sigma^2, shape (1,) or (pixels,)
        half_prec *= 0.5                        # 1/(2 sigma^2)
        scaled = se * half_prec                 # (mu - y)^2 / (2 sigma^2)
        if self.learned == "shared":
            norm = n_pix * (float(log_s[0]) + HALF_LOG_2PI)
        else:
            norm = float(log_s.sum(dtype=np.float64)) + n_pix * HALF_LOG_2PI
        values = scaled.sum(axis=1) + norm
        if want_grad:
            # d/d(log sigma) of the per-pixel value: -(mu - y)^2 / sigma^2 + 1
            batch = x.shape[0]
            if self.learned == "shared":
                g_ls = -2 * float(scaled.sum(dtype=np.float64)) + batch * n_pix
            else:
                g_ls = -2 * scaled.sum(axis=0) + batch
            self.grads["log_sigma"][...] = np.multiply(g_ls, grad_scale)
            dse *= half_prec
            dse *= grad_scale
        return values, dse

    def sigma_values(self) -> np.ndarray:
        """Current sigma (array for learned sigmas, 1-element array for a fixed one)."""
        if self.learned:
            return np.exp(self.params["log_sigma"])
        return np.array([self.sigma])

    unit = "nats"

    def describe(self):
        return {"name": "gaussian", "sigma": self.learned or self.sigma, "output": self.output}

    def config(self):
        if type(self) is not Gaussian:
            return super().config()
        return {"kind": "gaussian", "sigma": self.learned or self.sigma, "output": self.output,
                "init_sigma": self.init_sigma}


LIKELIHOODS = ("bernoulli", "gaussian", "continuous_bernoulli", "beta")


def term_from_config(config: dict) -> Term:
    """Rebuild a term from :meth:`Term.config`.

    Raises ``ValueError`` for a term that cannot be rebuilt from plain data (a user's ``Term``
    subclass or a user loss: nothing read from a file is evaluated).

    Examples
    --------
    >>> t = term_from_config(make_likelihood("beta", kappa=4.0).config())
    >>> t.name, t.loss.params["kappa"]
    ('beta', 4.0)
    """
    kind = config.get("kind") if isinstance(config, dict) else None
    if kind == "catalogue":
        return Catalogue(config["loss"], name=config.get("name"), clip=config.get("clip", 1e-3),
                         **config.get("params", {}))
    if kind == "gaussian":
        return Gaussian(sigma=config["sigma"], output=config.get("output", "logit"),
                        init_sigma=config.get("init_sigma", 1.0))
    if kind == "custom":
        raise ValueError(f"the output term ({config.get('class')}"
                         + (f", loss {config['loss']}" if "loss" in config else "")
                         + ") is not a catalogue loss or likelihood and cannot be rebuilt from a "
                         "file; build the model yourself and load the parameters with "
                         "set_params(load_checkpoint(path)['params'])")
    raise ValueError(f"not a term configuration: {config!r}")


def make_likelihood(name, *, sigma=1.0, kappa=None, clip=1e-3, output="logit", init_sigma=1.0) -> Term:
    """A VAE likelihood from its name (or a :class:`Term`, returned as is).

    * ``"bernoulli"``: summed BCE (catalogue ``bce``).
    * ``"gaussian"``: ``sigma`` a number (fixed), ``"shared"`` or ``"per_pixel"`` (learned);
      ``output="identity"`` for a linear decoder.
    * ``"continuous_bernoulli"``: catalogue ``continuous_bernoulli`` (normalizer included); the
      mean image is the CB mean, not ``sigmoid(z)``.
    * ``"beta"``: catalogue ``beta_nll`` with fixed concentration ``kappa`` (catalogue default
      when ``None``).  Its density needs targets in the open interval (0, 1), so the data are
      clipped into ``[clip, 1 - clip]``: the model describes the clipped data and its NLL depends
      on ``clip`` (on MNIST most pixels sit at exactly 0 and land on the clip boundary).
    """
    if isinstance(name, Term):
        return name
    if output != "logit" and name != "gaussian":
        raise ValueError(f"only the gaussian likelihood supports output={output!r}")
    if name == "bernoulli":
        return Catalogue("bce", name="bernoulli")
    if name == "gaussian":
        return Gaussian(sigma=sigma, output=output, init_sigma=init_sigma)
    if name == "continuous_bernoulli":
        return Catalogue("continuous_bernoulli")
    if name == "beta":
        params = {} if kappa is None else {"kappa": kappa}
        return Catalogue("beta_nll", name="beta", clip=clip, **params)
    raise ValueError(f"unknown likelihood {name!r}; choose from {LIKELIHOODS}")
