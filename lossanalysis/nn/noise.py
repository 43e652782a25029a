"""Noise inside the training loss: a catalogue loss evaluated at a noisy prediction.

:class:`NoisyOutput` is a reconstruction term (:class:`~lossanalysis.nn.likelihoods.Term`) that
adds zero-mean Gaussian noise to the network's prediction before the catalogue loss sees it,
with a fresh draw e ~ N(0, 1) per output element at every call, so that training minimizes the
loss averaged over the noise -- the setting of :func:`lossanalysis.analysis.noise_bias`:

* ``space="logit"``: the loss sees p = sigmoid(z + sigma e).  Value L(y, p), gradient
  dL/dz = (dL/dz)(y, z + sigma e): the catalogue's ``value_and_grad_logit`` at the shifted
  logit (d(z + sigma e)/dz = 1).
* ``space="prob"``: the loss sees p = clip(u, a, 1 - a) with u = sigmoid(z) + sigma e and
  a = ``p_min`` (default 1e-4): a Gaussian leaves (0, 1) with positive probability, where a
  loss such as BCE is infinite.  Value L(y, p) (catalogue ``value``); gradient by the chain
  rule through the clipping,

      dL/dz = L_p(y, p) * 1[a < u < 1 - a] * s(1 - s),     s = sigmoid(z),

  (catalogue ``grad``; the clipping passes no gradient where it acts; s(1 - s) is formed as
  sigmoid(z) sigmoid(-z), exact for saturated z).  Keep sigma small enough that clipping is
  rare at the targets of interest (:meth:`NoisyOutput.clip_probability`): the analysis' noise
  model has no clipping.

:meth:`NoisyOutput.expected_prediction` gives E_e[p] for given logits, the quantity that the
analysis predicts: in logit space by Gauss-Hermite quadrature, in probability space by the
closed form of a clipped normal's mean.  :func:`fit_free_logits` fits one free logit per target
under such a term (Adam, fresh noise at every step): where it lands is what the analysis
predicts for the noisy loss.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from .._inputs import real_array
from ..losses import Loss, sigmoid
from .likelihoods import Catalogue
from .models import BiasOnly
from .optim import Adam

__all__ = ["NoisyOutput", "NOISE_SPACES", "fit_free_logits"]

#: Where the noise is added: to the logit z or to the probability p = sigmoid(z).
NOISE_SPACES = ("logit", "prob")
#: Gauss-Hermite size of :meth:`NoisyOutput.expected_prediction` in logit space.  The
#: integrand sigmoid(z + sigma e) has poles pi/sigma from the real axis; the rule's relative
#: error behaves like exp(-pi sqrt(2n)/sigma): about 1e-15 at sigma = 1 and 2e-8 at sigma = 2
#: for n = 64.
GH_NODES = 64
#: For more than TABLE_MIN elements, the logit-space mean is interpolated linearly in a table of
#: the rule at steps of TABLE_STEP logits over the elements' range within +-TABLE_RANGE (the
#: elements outside it are computed directly).  The mean g(z) = E[sigmoid(z + sigma e)] has
#: |g''| <= max |sigmoid''| = 1/(6 sqrt 3), so the interpolation adds at most
#: TABLE_STEP^2 / (8 * 6 sqrt 3) = 1.8e-7.
TABLE_MIN, TABLE_STEP, TABLE_RANGE = 1 << 16, 1.0 / 256, 40.0


@functools.lru_cache(maxsize=None)
def _gauss_hermite(n):
    x, w = hermegauss(n)
    return x, w / w.sum()


def _normal_cdf(x):
    from scipy.special import ndtr
    return ndtr(x)


def _logits(z) -> np.ndarray:
    """``z`` as a float64 array of finite logits (ValueError naming z otherwise)."""
    z = real_array(z, "z", np.float64)
    if not np.all(np.isfinite(z)):
        raise ValueError("z (logit) must be finite, got NaN or inf")
    return z


class NoisyOutput(Catalogue):
    """A catalogue loss at a prediction with Gaussian noise inside the loss (module docstring).

    Parameters
    ----------
    loss : str or Loss
        The catalogue loss (any whose prediction p is the mean; not the continuous Bernoulli).
    space : {"logit", "prob"}
        Where the noise is added.
    sigma : float
        Its standard deviation (> 0), in logits or in probability.
    p_min : float
        Probability space only: the noisy prediction is clipped into [p_min, 1 - p_min];
        0 < p_min < 0.5.
    seed : int or None
        Seed of the term's generator (``numpy.random.default_rng``), unless ``rng`` is given.
    rng : numpy.random.Generator, optional
        The generator the noise is drawn from.
    **loss_params
        Parameters of the catalogue loss.

    Attributes
    ----------
    eps : ndarray or None
        When set, this noise (broadcast to the output's shape) is used at every call instead
        of fresh draws: for gradient checks and tests.

    Examples
    --------
    >>> term = NoisyOutput("bce", "logit", 0.5, seed=0)
    >>> term.eps = np.array([[1.0]])
    >>> v, g = term.value_and_grad(np.array([[0.3]]), np.array([[0.0]]), grad_scale=1.0)
    >>> print(f"{g[0, 0]:.6f}")              # sigmoid(0 + 0.5) - 0.3
    0.322459
    >>> float(term.expected_prediction(np.array([0.0]))[0])   # symmetric noise around z = 0
    0.5
    """

    def __init__(self, loss: Loss | str, space: str, sigma: float, *, p_min: float = 1e-4,
                 seed: int | None = 0, rng: np.random.Generator | None = None, **loss_params):
        super().__init__(loss, **loss_params)
        if self.loss.name == "continuous_bernoulli":
            raise ValueError("loss: the continuous Bernoulli's mean is not its prediction p; "
                             "NoisyOutput needs a loss whose p is the mean")
        if space not in NOISE_SPACES:
            raise ValueError(f"space must be one of {NOISE_SPACES}, got {space!r}")
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.floating,
                                                             np.integer)):
            raise TypeError(f"sigma must be a number, got {type(sigma).__name__}")
        if not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
        if isinstance(p_min, bool) or not isinstance(p_min, (int, float, np.floating)):
            raise TypeError(f"p_min must be a number, got {type(p_min).__name__}")
        if not 0 < p_min < 0.5:
            raise ValueError(f"p_min must lie in (0, 0.5), got {p_min!r}")
        self.space = space
        self.sigma = float(sigma)
        self.p_min = float(p_min)
        self.rng = rng if rng is not None else np.random.default_rng(seed)
        self.eps = None
        self.name = f"{self.loss.name} + {space} noise"

    def _noise(self, shape, dtype) -> np.ndarray:
        if self.eps is not None:
            return np.broadcast_to(np.asarray(self.eps, dtype=dtype), shape)
        return self.rng.standard_normal(shape, dtype=dtype)

    def value_and_grad(self, x, out, grad_scale=None):
        """Per-example values summed over pixels at one noise draw, and -- when ``grad_scale``
        is given -- ``grad_scale`` times their gradient in ``out`` (the logits)."""
        out = np.asarray(out)
        e = self._noise(out.shape, out.dtype)
        sig = out.dtype.type(self.sigma)
        want_grad = grad_scale is not None
        with np.errstate(over="ignore", under="ignore"):
            if self.space == "logit":
                zn = out + sig * e
                if want_grad:
                    v, g = self.loss.value_and_grad_logit(x, zn, check=False)
                else:
                    v, g = self.loss.value_logit(x, zn, check=False), None
            else:
                s = sigmoid(out)
                u = s + sig * e
                a = out.dtype.type(self.p_min)
                p = np.clip(u, a, 1 - a)
                v = self.loss.value(x, p, check=False)
                g = None
                if want_grad:
                    inside = (u > a) & (u < 1 - a)
                    g = self.loss.grad(x, p, check=False) * (s * sigmoid(-out))
                    g = np.where(inside, g, out.dtype.type(0))
        values = np.asarray(v).sum(axis=-1)
        if not want_grad:
            return values, None
        g = np.asarray(g, dtype=out.dtype)
        if grad_scale != 1:
            g = g * out.dtype.type(grad_scale)
        return values, np.ascontiguousarray(g)

    def expected_prediction(self, z, *, nodes: int = GH_NODES) -> np.ndarray:
        """E_e[p] of the noisy prediction at logits ``z`` (float64).

        Logit space: E[sigmoid(z + sigma e)] by ``nodes``-point Gauss-Hermite quadrature
        (see :data:`GH_NODES`; for large arrays interpolated in a table of it, error below
        2e-7: :data:`TABLE_STEP`).  Probability space, with mu = sigmoid(z), a = p_min,
        b = 1 - a, alpha = (a - mu)/sigma, beta = (b - mu)/sigma and Phi, phi the standard
        normal cdf and density:

            E[clip(mu + sigma e, a, b)] = a Phi(alpha) + b (1 - Phi(beta))
                                          + mu (Phi(beta) - Phi(alpha))
                                          + sigma (phi(alpha) - phi(beta)).

        Examples
        --------
        >>> t = NoisyOutput("mse", "prob", 0.01)
        >>> print(f"{float(t.expected_prediction(np.array([0.0]))[0]):.12f}")   # no clipping
        0.500000000000
        """
        z = _logits(z)
        if isinstance(nodes, bool) or not isinstance(nodes, (int, np.integer)) \
                or not 2 <= nodes <= 300:
            raise ValueError(f"nodes must be an integer from 2 to 300, got {nodes!r}")
        if self.space == "logit":
            flat = z.reshape(-1)
            if flat.size <= TABLE_MIN:
                return self._logit_mean(flat, nodes).reshape(z.shape)
            out = np.empty(flat.shape)
            inside = np.abs(flat) <= TABLE_RANGE
            if inside.any():
                lo = math.floor(float(flat[inside].min()) / TABLE_STEP) * TABLE_STEP
                hi = math.ceil(float(flat[inside].max()) / TABLE_STEP) * TABLE_STEP
                grid = lo + TABLE_STEP * np.arange(int(round((hi - lo) / TABLE_STEP)) + 1)
                out[inside] = np.interp(flat[inside], grid, self._logit_mean(grid, nodes))
            out[~inside] = self._logit_mean(flat[~inside], nodes)
            return out.reshape(z.shape)
        mu = sigmoid(z)
        a, b, s = self.p_min, 1 - self.p_min, self.sigma
        alpha, beta = (a - mu) / s, (b - mu) / s
        lo, hi = _normal_cdf(alpha), _normal_cdf(beta)

        def phi(t):
            return np.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)
        return a * lo + b * (1 - hi) + mu * (hi - lo) + s * (phi(alpha) - phi(beta))

    def _logit_mean(self, flat, nodes) -> np.ndarray:
        """E[sigmoid(z + sigma e)] by the Gauss-Hermite rule, for a flat float64 array."""
        x, w = _gauss_hermite(int(nodes))
        out = np.empty(flat.shape)
        rows = max(1, (1 << 15) // x.size)
        for lo in range(0, flat.size, rows):
            b = slice(lo, lo + rows)
            out[b] = sigmoid(flat[b, None] + self.sigma * x) @ w
        return out

    def clip_probability(self, z) -> np.ndarray:
        """Probability space: P(u < a or u > 1 - a), u = sigmoid(z) + sigma e, per element
        (float64); zeros in logit space.

        Examples
        --------
        >>> t = NoisyOutput("bce", "prob", 0.02)
        >>> print(f"{float(t.clip_probability(np.array([-2.1972245773]))[0]):.2e}")  # p = 0.1
        2.94e-07
        """
        z = _logits(z)
        if self.space == "logit":
            return np.zeros(z.shape)
        mu = sigmoid(z)
        a, s = self.p_min, self.sigma
        return _normal_cdf((a - mu) / s) + _normal_cdf((mu - (1 - a)) / s)

    def mean(self, out):
        """The mean image of the noisy prediction, E_e[p] (:meth:`expected_prediction`)."""
        return self.expected_prediction(out)

    def describe(self):
        d = super().describe()
        d.update(space=self.space, sigma=self.sigma)
        if self.space == "prob":
            d["p_min"] = self.p_min
        return d


def fit_free_logits(loss, space: str, sigma: float, targets, z0, *, draws: int, steps: int,
                    lr0: float = 0.1, lr_end: float = 1e-4, p_min: float = 1e-4, seed=0):
    """Free logits z_j, one per target ``targets[j]``, fitted by Adam (betas 0.9, 0.99) to the
    loss at the noisy prediction (:class:`NoisyOutput`): ``draws`` fresh noise draws per target
    and step, ``steps`` steps from ``z0`` with the learning rate decaying exponentially from
    ``lr0`` to ``lr_end`` (float64).  Returns (z, the term): ``term.expected_prediction(z)``
    is the fitted mean prediction, which the noisy loss's minimizer puts at
    ``targets + analysis.noise_bias(loss, targets, sigma, space)``.

    Examples
    --------
    >>> z, term = fit_free_logits("bce", "logit", 1.0, [0.3], [0.0], draws=256, steps=600,
    ...                           lr_end=1e-3)
    >>> abs(float(term.expected_prediction(z)[0]) - 0.3) < 5e-3     # no bias in the logit
    True
    """
    targets = real_array(targets, "targets", np.float64).ravel()
    for name, v in (("draws", draws), ("steps", steps)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not (0 < lr_end <= lr0 and math.isfinite(lr0)):
        raise ValueError(f"lr0 and lr_end must satisfy 0 < lr_end <= lr0, got {lr0!r}, {lr_end!r}")
    term = NoisyOutput(loss, space, sigma, p_min=p_min, seed=seed)
    model = BiasOnly(targets.size, loss=term, dtype=np.float64)
    model.params["out.b"][...] = z0
    opt = Adam(model.params, lr=lr0, betas=(0.9, 0.99))
    decay = (lr_end / lr0) ** (1.0 / max(steps - 1, 1))
    x = np.ascontiguousarray(np.broadcast_to(targets, (int(draws), targets.size)))
    for t in range(int(steps)):
        opt.lr = lr0 * decay ** t
        opt.step(model.loss_and_grads(x)[1])
    return model.params["out.b"].copy(), term
