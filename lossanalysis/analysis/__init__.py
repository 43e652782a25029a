"""What each reconstruction loss does to the prediction, derived and computed.

Every quantity is a function of the target intensity ``y`` in [0, 1] (vectorized over ``y``) and
is computed from the loss catalogue (:mod:`lossanalysis.losses`): the SymPy definition
``loss.expr`` for the symbolic results, the stable NumPy methods ``loss.excess``, ``loss.grad``,
``loss.curvature``, ``loss.grad_logit``, ... for the numbers.  No loss formula is written here.

Quantities
----------
* :func:`asymmetry_ratio` -- R(y, delta): the excess cost of moving a prediction a distance
  ``delta`` away from 1/2 over the cost of moving it toward 1/2.  > 1 for BCE at every y != 1/2,
  exactly 1 for MSE.
* :func:`series`, :func:`asymmetry_coefficient` -- the Taylor expansion of L(y, y + d) - L(y, y)
  in d and the leading odd term of L(y, y + d) - L(y, y - d), with its sign over (0, 1).
* :func:`argmin`, :func:`bias`, :func:`argmin_expr`, :func:`is_proper` -- the prediction that
  minimizes the loss for a point target (the global minimum on [0, 1], also for a user's own
  loss) and whether it equals the target.
* :func:`optimal_prediction` (and the ``_beta`` / ``_two_point`` helpers) -- the single
  prediction minimizing the mean loss over a distribution of targets (mean, median, ...).
* :func:`noise_bias`, :func:`noise_bias_series`, :func:`noise_bias_coefficient` -- the bias of
  the mean prediction when the prediction carries irreducible zero-mean noise, in probability
  space or in logit space; :func:`max_prob_noise` -- the largest noise the probability-space
  model accepts at a target.
* :func:`gradient_profile`, :func:`logit_gradient`, :func:`logit_gradient_expr`,
  :func:`curvature_at_optimum`, :func:`effective_weight` -- gradients, the canonical-link
  identity and the curvature relative to MSE.
* :func:`derivations`, :func:`derivations_latex` -- all symbolic results of one loss, and a
  standalone LaTeX document of them.
* :func:`symbolic_limits`, :class:`SymbolicBudgetError` -- the budget (time, expression size)
  of the symbolic work on a user's loss (:mod:`lossanalysis._budget`), and its error.

* :func:`affine_logit_map`, :func:`pixelwise_noisy_mean`, :func:`expected_noisy_loss`,
  :func:`cb_expansion`, :func:`power_law_extrapolation` (:mod:`.mechanisms`) -- rival
  explanations of a trained network's departures from the per-pixel analysis, computed before
  the outcome from a reference network and the targets: one shared affine map of the logits
  against each output at its own noisy optimum, the continuous Bernoulli's parameter image of a
  conditional mean, a power-law transient of finite training.
* :mod:`~lossanalysis.analysis.linear_vae` -- the linear VAE's active latent directions from the
  data spectrum and the Gaussian sigma of a Bernoulli or continuous Bernoulli decoder
  (:func:`spectrum`, :func:`predicted_active_dims`, :func:`bernoulli_sigma_zero_rate`,
  :func:`cb_sigma_eff`, ...).

Modules: :mod:`.asymmetry`, :mod:`.minimizers`, :mod:`.noise`, :mod:`.gradients`,
:mod:`.derivations`, :mod:`.linear_vae`; private helpers: ``_solve`` (the one root finder,
SciPy's vectorized Chandrupatla), ``_quadrature``, ``_symbolic`` (lazy SymPy, readable forms),
``_common``.  Every public name is re-exported here (and lazily as ``lossanalysis.<name>``).
SymPy and SciPy are imported only inside the functions that need them (importing this package
stays cheap); symbolic results are cached per loss.  Work on arrays runs in blocks of bounded
memory, each distinct value solved once.  Result objects print one field per line and render
as LaTeX tables in Jupyter.

References: Gneiting & Raftery (2007) for proper scoring rules; Loaiza-Ganem & Cunningham
(2019, arXiv 1907.06845) for the continuous Bernoulli; Charoenphakdee et al. (2021,
arXiv 2011.09172) and Mukhoti et al. (2020) for the focal loss's pull toward 1/2.
"""
from __future__ import annotations

from .._budget import SymbolicBudgetError
from .._budget import limits as symbolic_limits
from .asymmetry import Asymmetry, asymmetry_coefficient, asymmetry_ratio, series, series_symbol
from .derivations import derivations, derivations_latex
from .gradients import (curvature_at_optimum, effective_weight, effective_weight_expr,
                        gradient_profile, logit_gradient, logit_gradient_expr)
from .linear_vae import (KL_THRESHOLD, MARGIN_NATS, bernoulli_sigma_eff,
                         bernoulli_sigma_zero_rate, cb_natural_parameter, cb_sigma_eff,
                         cb_variance, linear_optimum_kl, linear_optimum_nll, marginal_count,
                         predicted_active_dims, spectrum, whitened_spectrum)
from .minimizers import (Properness, argmin, argmin_expr, bias, is_proper, optimal_prediction,
                         optimal_prediction_beta, optimal_prediction_two_point)
from ._solve import find_root
from .mechanisms import (affine_logit_map, cb_expansion, expected_noisy_loss,
                         pixelwise_noisy_mean, power_law_extrapolation)
from .noise import (NOISE_SPACES, max_prob_noise, noise_bias, noise_bias_coefficient,
                    noise_bias_series, noise_offset)

__all__ = [
    # asymmetry
    "asymmetry_ratio", "series", "series_symbol", "asymmetry_coefficient", "Asymmetry",
    # point-target bias
    "argmin", "bias", "argmin_expr", "is_proper", "Properness",
    # distributions of targets
    "optimal_prediction", "optimal_prediction_beta", "optimal_prediction_two_point",
    # prediction noise
    "noise_bias", "noise_offset", "noise_bias_series", "noise_bias_coefficient",
    "max_prob_noise", "NOISE_SPACES",
    # gradients and curvature
    "gradient_profile", "logit_gradient", "logit_gradient_expr", "curvature_at_optimum",
    "effective_weight", "effective_weight_expr",
    # derivations
    "derivations", "derivations_latex",
    # the budget of symbolic work on a user's loss
    "symbolic_limits", "SymbolicBudgetError",
    # linear VAE and likelihood scale
    "spectrum", "whitened_spectrum", "predicted_active_dims", "marginal_count",
    "linear_optimum_kl", "linear_optimum_nll", "bernoulli_sigma_eff",
    "bernoulli_sigma_zero_rate", "cb_natural_parameter", "cb_variance", "cb_sigma_eff",
    "KL_THRESHOLD", "MARGIN_NATS",
    # mechanisms: rival explanations of a trained network's departures
    "affine_logit_map", "pixelwise_noisy_mean", "expected_noisy_loss", "cb_expansion",
    "power_law_extrapolation",
    # the one bracketing root finder (vectorized), for code outside the analysis that needs it
    "find_root",
]


def __getattr__(name):
    # ``analysis.d`` is the series symbol, created on first access (no SymPy import at load)
    if name == "d":
        return series_symbol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
