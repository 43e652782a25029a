"""The advice: what a set of images implies for the choice of reconstruction loss.

:func:`advise` scans the images once (:func:`~lossanalysis.advise.stats.scan`), applies the
analysis to their statistics, quotes the experiments' measurements that back each prediction
(:mod:`~lossanalysis.advise.reports`) and picks a decoder/loss per goal by the rules documented
in :mod:`lossanalysis.advise`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .. import analysis
from .._inputs import real_array
from .._io import jsonable as _jsonable  # the one conversion to JSON
from .._limits import as_limits
from ..data import DATASETS, DatasetError, infer_scale, value_range
from ..losses import logit
from . import reports as rep
from .stats import (MIDGREY, NEAR, TOP, DataError, DataStats, learned_sigma,
                    linear_reconstruction_mse, scan, sigma_zero_rate_from_moments)

__all__ = ["SIGMAS", "LATENT", "CALIBRATION_EDGE", "SATURATION_RULE", "SATURATED_LOGIT",
           "Advice", "advise"]

#: Fixed Gaussian sigmas of the likelihood-scale table: the union of E5's linear-VAE grid
#: (2, 1, 0.7, 0.5) and its MLP grid (1, 0.5, 0.3, 0.1), intensity units.
SIGMAS = (2.0, 1.0, 0.7, 0.5, 0.3, 0.1)
#: Default latent size of the linear-VAE rule (E5's linear VAE).
LATENT = 20
#: Calibration rule: a location whose mean lies within this of 0 or 1 is where sigmoid + MSE's
#: weight p(1 - p) (below 0.05 * 0.95 = 0.0475 there) lets the mean drift (E3's strata).
CALIBRATION_EDGE = 0.05
#: Training-speed rule: BCE is recommended when, at the mean image m, sigmoid + MSE's logit
#: gradient is on average more than this many times smaller than BCE's -- per location the
#: slowdown 1/(2 m (1 - m)), averaged with the weights sum_i |x_i - m| (BCE's gradient there:
#: what there is to learn) -- i.e. more than twice the uniform factor 2 that MSE's scale alone
#: gives at p = 1/2 (and that a learning rate absorbs).
SATURATION_RULE = 4.0
#: The saturated start of E2's experiments (output logit -6).
SATURATED_LOGIT = -6.0


@dataclass
class Advice:
    """Everything :func:`advise` found; :meth:`to_dict` is its JSON form.

    ``source``: what was analysed; ``profile``: the intensity profile (fractions of the values);
    ``likelihoods``: per candidate likelihood what it assumes and how far the data is from it;
    ``scale``: the likelihood scale (Bernoulli sigma_eff, the linear-VAE rule's table);
    ``predictions``: the tested predictions with the measurements behind them;
    ``recommendations``: one choice per goal with its reason and rule; ``reports``: which
    reports were read; ``notes``: caveats; ``seconds``: time of the analysis.
    ``spectrum``, ``whitened``, ``hist_counts``: arrays for the figure; ``spectrum_known``: how
    many leading eigenvalues are individually computed (all but for a randomized spectrum).
    """
    source: dict
    profile: dict
    likelihoods: list
    scale: dict
    predictions: list
    recommendations: list
    reports: dict
    notes: list
    seconds: float
    spectrum: np.ndarray = field(repr=False)
    whitened: np.ndarray = field(repr=False)
    hist_counts: np.ndarray = field(repr=False)
    spectrum_known: int | None = None

    def to_dict(self) -> dict:
        """The advice as JSON-ready Python objects (the spectra truncated to 100 values;
        non-finite numbers as the strings "nan", "inf")."""
        return _jsonable({
            "source": self.source, "profile": self.profile, "likelihoods": self.likelihoods,
            "scale": self.scale, "predictions": self.predictions,
            "recommendations": self.recommendations, "reports": self.reports,
            "notes": self.notes, "seconds": self.seconds,
            "spectrum_top": self.spectrum[:min(100, self.spectrum_known or 100)],
            "whitened_top": self.whitened[:min(100, self.spectrum_known or 100)],
            "hist_counts": self.hist_counts})


# ----------------------------------------------------------------------------------------------
# The pieces
# ----------------------------------------------------------------------------------------------
def _profile(s: DataStats) -> dict:
    f = s.fraction
    nonzero = s.n_values - s.zero
    return {"values": s.n_values, "exactly_0": f(s.zero), "exactly_1": f(s.one),
            "exactly_0_or_1": f(s.zero + s.one), "near_binary": f(s.near),
            "near_binary_tol": NEAR, "mid_grey": f(s.mid), "mid_grey_range": list(MIDGREY),
            "inside_0_1": f(s.interior),
            "mid_grey_of_nonzero": s.mid / nonzero if nonzero else None,
            "binary": s.interior == 0,
            "eight_bit_levels": s.levels is not None}


def _gradient_ratio(m) -> np.ndarray:
    """MSE's logit gradient over BCE's at outputs p = m (0 < m < 1), from the analysis: the
    weight 2 m (1 - m) (independent of the target)."""
    z = logit(np.asarray(m, dtype=np.float64))
    y = np.zeros_like(z)
    return (np.abs(analysis.logit_gradient("mse", y, z))
            / np.abs(analysis.logit_gradient("bce", y, z)))


def _open_count(eig, ref, tau, known):
    """Directions above the threshold sigma^2 e^(2 tau): (count, at_least).  Only the ``known``
    leading eigenvalues are individual; when all of them are above, the count is a lower
    bound."""
    count = analysis.predicted_active_dims(eig[:known], ref, known, tau)
    if known < eig.size and count == known:
        return count, True
    return (analysis.predicted_active_dims(eig, ref, eig.size, tau) if known == eig.size
            else count), False


def _scale_table(lam, white, s_b, latent, sigmas, tau, known=None):
    known = known or (lam.size, white.size)

    def row(label, sigma, eig=lam, what="gaussian"):
        if not (sigma > 0 and math.isfinite(sigma)):
            return {"label": label, "kind": what, "sigma": sigma, "active": None,
                    "directions_open": None, "rate": None, "mse": None}
        ref = sigma if what == "gaussian" else 1.0
        n_open, at_least = _open_count(eig, ref, tau, known[1] if what == "bernoulli"
                                       else known[0])
        return {"label": label, "kind": what, "sigma": sigma,
                "active": analysis.predicted_active_dims(eig, ref, latent, tau),
                "directions_open": n_open, "directions_open_at_least": at_least,
                "rate": float(analysis.linear_optimum_kl(eig, ref, latent).sum()),
                "mse": (linear_reconstruction_mse(eig, sigma, latent) if what == "gaussian"
                        else None)}

    s_l = learned_sigma(lam, latent)
    rows = [row(f"Gaussian, σ = {s:g}", s) for s in sigmas]
    rows.append(row("Gaussian, learned σ", s_l, what="gaussian"))
    rows[-1]["kind"] = "learned"
    rows.append(row("Bernoulli (BCE), σ_eff", s_b, eig=white, what="bernoulli"))
    return rows, s_l


def _backing(reports: dict, ids, labels=None) -> list:
    out = []
    for ds, report in reports.items():
        for i, pid in enumerate(ids):
            r = rep.result(report, pid, ds)
            if r is not None:
                d = r.to_dict()
                d["label"] = (labels or {}).get(pid, "")
                out.append(d)
    return out


def _report_measure(reports: dict, *keys: str) -> dict:
    """{study: value} of the first of ``keys`` each report has."""
    return {ds: v for ds, report in reports.items()
            if (v := rep.measurement(report, *keys)) is not None}


# ----------------------------------------------------------------------------------------------
# The predictions
# ----------------------------------------------------------------------------------------------
def _predictions(s, prof, rows, s_b, latent, tau, reports, grad):
    """The predictions the experiments tested, evaluated on this data, each with the reports'
    measurements that back it."""
    fixed = [r for r in rows if r["kind"] == "gaussian"]
    return [_active_prediction(fixed, latent, tau, reports),
            _blur_prediction(fixed, s_b, latent, reports),
            _calibration_prediction(s, reports),
            _saturation_prediction(grad, reports),
            _cb_prediction(s, prof, reports)]


def _active_prediction(fixed, latent, tau, reports):
    counts = ", ".join(f"σ = {r['sigma']:g}: {r['active']}" for r in fixed)
    return {
        "key": "active", "experiment": "E5",
        "title": "Active latent dimensions of a linear VAE, by σ",
        "analysis": (f"Direction i opens iff λᵢ > σ² e^(2τ) (τ = {tau:g} nats; Tipping & Bishop "
                     f"1999, Lucas et al. 2019): on this data {counts} (of {latent})."),
        "numbers": {"latent": latent,
                    "active": {f"{r['sigma']:g}": r["active"] for r in fixed}},
        "backing": _backing(reports, [f"E5.linear.active[sigma={v:g}]" for v in (2, 1, 0.7, 0.5)]
                            + ["E5.mlp.active[gaussian_sigma1]"]),
    }


def _blur_prediction(fixed, s_b, latent, reports):
    rates = ", ".join(f"σ = {r['sigma']:g}: {r['rate']:.1f}" for r in fixed)
    if math.isfinite(s_b):
        above = [f"{r['sigma']:g}" for r in fixed if r["sigma"] > s_b]
        below = [f"{r['sigma']:g}" for r in fixed if r["sigma"] < s_b]
        place = (f"The Bernoulli decoder sits at σ_eff = {s_b:.3f} (zero-rate operating point): "
                 f"predicted blurrier than the Gaussian decoders with σ < {s_b:.3f} "
                 f"({', '.join(below) or 'none'}) and sharper than those with σ > {s_b:.3f} "
                 f"({', '.join(above) or 'none'}).")
    else:
        place = "The Bernoulli decoder's σ_eff is undefined here (no location varies)."
    return {
        "key": "blur", "experiment": "E5",
        "title": "A VAE's blur rises with its likelihood's scale σ",
        "analysis": (f"The scale σ prices a nat of reconstruction against a nat of KL (Rybkin et al. 2021): "
                     f"the code's information falls with σ (linear rule, latent {latent}: "
                     f"{rates} nats), and the images blur.  {place}"),
        "numbers": {"sigma_eff_bernoulli": s_b,
                    "rate": {f"{r['sigma']:g}": r["rate"] for r in fixed}},
        "backing": _backing(reports, ["E5.mlp.rate_order", "E5.blur.order",
                                      "E5.bernoulli.blur_rank"]),
        "report_sigma_eff": _report_measure(reports, "E5.sigma_eff[bernoulli]"),
    }


def _calibration_prediction(s, reports):
    m = s.mean
    inside = (m > 0) & (m < 1)
    edge = inside & ((m < CALIBRATION_EDGE) | (m > 1 - CALIBRATION_EDGE))
    n_in, n_edge = int(inside.sum()), int(edge.sum())
    return {
        "key": "calibration", "experiment": "E3",
        "title": "Calibration in the large: sigmoid + BCE exact, sigmoid + MSE not",
        "analysis": (f"With a sigmoid output BCE's logit gradient is p − y (canonical link), so "
                     f"at a stationary output bias the mean reconstruction equals the data mean "
                     f"at each of this data's {n_in} locations whose mean lies inside (0, 1); "
                     f"MSE's is 2p(1 − p)(p − y), which hides errors where p(1 − p) is small: "
                     f"{n_edge} of them ({_pct(n_edge / n_in) if n_in else '0%'}) have a mean "
                     f"within {CALIBRATION_EDGE:g} of 0 or 1."),
        "numbers": {"locations_inside": n_in, "locations_near_edge": n_edge},
        "backing": _backing(reports, ["E3.bce.calibration", "E3.mse_vs_bce",
                                      "E3.mse.calibration"]),
    }


def _saturation_prediction(grad, reports):
    z0 = np.array([SATURATED_LOGIT])
    start = float(1.0 / _gradient_ratio(1.0 / (1.0 + np.exp(-z0)))[0])
    return {
        "key": "saturation", "experiment": "E2",
        "title": "Saturation slows sigmoid + MSE under plain SGD",
        "analysis": (f"MSE's logit gradient is 2p(1 − p) times BCE's: from a saturated output "
                     f"(z = {SATURATED_LOGIT:g}) {start:.1f}x smaller; at this data's mean image "
                     f"(the zero-rate solution training passes through) "
                     + (f"{grad:.1f}x smaller on average over what there is to learn (each "
                        "location's slowdown weighted by BCE's gradient there; 2x at p = ½)."
                        if math.isfinite(grad) else "undefined (no value varies).")
                     + "  Adam rescales each parameter's step by its gradient history and "
                     "removes most of the difference."),
        "numbers": {"ratio_saturated_start": start, "ratio_mean_image": grad},
        "backing": _backing(reports, ["E2.free.slowdown", "E2.ae.first_step.sgd",
                                      "E2.ae.first_step.adam"]),
    }


def _cb_prediction(s, prof, reports):
    f01 = prof["exactly_0_or_1"]
    if s.mid:
        lam_ext = s.cb_extreme_sum / s.mid
        x_ext = s.data_extreme_sum / s.mid
        cb_text = (f"The loss minimizer λ*(x) = μ⁻¹(x) (analysis.argmin) is farther from ½ than "
                   f"x: over this data's mid-grey values mean |λ* − ½| = {lam_ext:.3f} against "
                   f"mean |x − ½| = {x_ext:.3f} (+{lam_ext - x_ext:.3f}); the mean image μ(λ) "
                   "is the one to show (canonical link: its average is the data's).")
    else:
        lam_ext = x_ext = None
        cb_text = "This data has no mid-grey values, where the difference would show."
    cb_text += (f"  {_pct(f01)} of the values are exactly 0 or 1, where the CB has no "
                "minimizer (its likelihood grows without bound as λ → 0 or 1): training keeps "
                "pushing those logits and λ overshoots; clipping the data into (0, 1) restores "
                "the prediction." if f01 > 0 else
                "  No value is exactly 0 or 1: every value has a finite minimizer.")
    return {
        "key": "cb", "experiment": "E6",
        "title": "The continuous Bernoulli's λ image is more extreme than its mean image",
        "analysis": cb_text,
        "numbers": {"lambda_extremeness": lam_ext, "data_extremeness": x_ext,
                    "exactly_0_or_1": f01},
        "backing": _backing(reports, ["E6.cb.param_expansion", "E6.clipped.cb.param_expansion",
                                      "E6.cb.mean_intensity"]),
    }


# ----------------------------------------------------------------------------------------------
# What each likelihood assumes
# ----------------------------------------------------------------------------------------------
def _likelihoods(s, prof, s_l):
    d = s.d
    f_in, f01 = prof["inside_0_1"], prof["exactly_0_or_1"]
    ln_c_mean = s.ln_c_sum / s.interior if s.interior else None
    rows = []
    if s.interior == 0:
        bern = "holds: every value is 0 or 1, and BCE is the exact negative log-likelihood."
    else:
        bern = (f"{_pct(f_in)} of the values lie strictly inside (0, 1), where exp(−BCE) is "
                f"not a normalized density: BCE drops the continuous Bernoulli's ln C(λ) ≥ ln 2 "
                f"nats per value (≥ {d * math.log(2):.0f} nats per image of {d} values); at λ = "
                f"the data it averages {ln_c_mean:.3f} nats over those values (unbounded at an "
                "exact 0 or 1).")
    rows.append({"likelihood": "Bernoulli", "loss": "bce",
                 "assumes": "every value is 0 or 1", "this_data": bern,
                 "numbers": {"inside_0_1": f_in, "mean_ln_c_inside": ln_c_mean,
                             "min_missing_nats_per_image": d * math.log(2)}})
    cb = (f"{_pct(f01)} of the values are exactly 0 or 1: there the likelihood has no maximum "
          "(it grows without bound as λ → 0 or 1)." if f01 > 0 else
          "holds: no value is exactly 0 or 1, so every value has a finite minimizer.")
    rows.append({"likelihood": "continuous Bernoulli", "loss": "continuous_bernoulli",
                 "assumes": "a density on [0, 1]; a maximum exists only for 0 < x < 1",
                 "this_data": cb, "numbers": {"exactly_0_or_1": f01}})
    beta = (f"{_pct(f01)} of the values are exactly 0 or 1, where its density is 0 or "
            "infinite: move them inside (clip or dequantize) first." if f01 > 0 else
            "holds: every value lies strictly inside (0, 1).")
    rows.append({"likelihood": "Beta", "loss": "beta_nll",
                 "assumes": "every value strictly inside (0, 1)", "this_data": beta,
                 "numbers": {"exactly_0_or_1": f01}})
    gauss = ("puts probability outside [0, 1] (half of it at a value of exactly 0 or 1: "
             f"{_pct(f01)} of these values); its σ sets the blur (below)"
             + (f"; a learned σ settles near {s_l:.3f} (linear rule)." if s_l > 0 else "."))
    rows.append({"likelihood": "Gaussian", "loss": "mse",
                 "assumes": "real values with one variance σ²", "this_data": gauss,
                 "numbers": {"exactly_0_or_1": f01, "learned_sigma": s_l}})
    return rows


# ----------------------------------------------------------------------------------------------
# The recommendations (rules: see the package docstring)
# ----------------------------------------------------------------------------------------------
def _recommendations(s, prof, rows, s_l, latent, grad, preds, reports):
    recs = []
    learned = next(r for r in rows if r["kind"] == "learned")
    bern = next(r for r in rows if r["kind"] == "bernoulli")
    r_g = learned["rate"] if learned["rate"] is not None else math.inf
    r_b = bern["rate"] if bern["rate"] is not None else 0.0
    blur_l = _report_measure(reports, "blur_ratio[vae_gaussian_learned]")
    blur_b = _report_measure(reports, "blur_ratio[vae_bernoulli]")
    measured = "; ".join(f"{rep.DISPLAY.get(ds, ds)} blur ratio learned σ {blur_l[ds]:.3f}, "
                         f"Bernoulli {blur_b[ds]:.3f}" for ds in blur_l if ds in blur_b)
    use = ("Gaussian decoder with a learned shared σ" if r_g >= r_b
           else "Bernoulli decoder (sigmoid + BCE)")
    recs.append({
        "goal": "sharp reconstructions (VAE)", "use": use,
        "why": (f"more information in the code: predicted rate {_nats(r_g)} (Gaussian, learned "
                f"σ {s_l:.3f}) vs {_nats(r_b)} (Bernoulli), linear rule, latent {latent}"
                + (f" (E5: {measured})" if measured else "")),
        "rule": "the likelihood with the larger linear-rule code rate: the Gaussian at the "
                "learned σ on the covariance spectrum vs the Bernoulli on the whitened "
                "spectrum at σ = 1"})

    n_in = preds["calibration"]["numbers"]["locations_inside"]
    n_edge = preds["calibration"]["numbers"]["locations_near_edge"]
    if n_edge > 0:
        use, why = ("sigmoid + BCE",
                    f"exact calibration in the large at stationarity (E3); sigmoid + MSE's weight "
                    f"p(1 − p) < {CALIBRATION_EDGE * (1 - CALIBRATION_EDGE):.4f} at the {n_edge} "
                    f"of {n_in} locations whose mean is within {CALIBRATION_EDGE:g} of 0 or 1 "
                    "lets their mean drift")
    else:
        use, why = ("sigmoid + BCE, or an identity output with MSE",
                    f"both are canonical links, calibrated at stationarity; no location mean is "
                    f"within {CALIBRATION_EDGE:g} of 0 or 1, so sigmoid + MSE drifts little too")
    recs.append({"goal": "calibrated intensities", "use": use, "why": why,
                 "rule": f"sigmoid + BCE when any location's mean lies within "
                         f"{CALIBRATION_EDGE:g} of 0 or 1, else either canonical pair"})

    f01 = prof["exactly_0_or_1"]
    if prof["binary"]:
        use, why = ("Bernoulli (BCE)", "every value is 0 or 1: BCE is the exact negative "
                                       "log-likelihood of the data, in nats")
    elif f01 == 0:
        ln_c = s.ln_c_sum / s.interior
        use, why = ("continuous Bernoulli",
                    f"a normalized density on [0, 1] with a maximum at every value; BCE would "
                    f"leave out {ln_c:.3f} nats per value (ln C at the data)")
    else:
        use, why = ("Gaussian with a learned σ (or dequantize, then the continuous Bernoulli)",
                    f"{_pct(f01)} of the values are exactly 0 or 1: the continuous Bernoulli's "
                    f"likelihood is unbounded there and the Beta's undefined; BCE is no density "
                    f"on [0, 1] (≥ {s.d * math.log(2):.0f} nats per image missing)")
    recs.append({"goal": "a meaningful ELBO in nats", "use": use, "why": why,
                 "rule": "binary data: Bernoulli; no value exactly 0 or 1: continuous "
                         "Bernoulli; otherwise a Gaussian with learned σ (bounded density)"})

    if math.isfinite(grad) and grad > SATURATION_RULE:
        use, why = ("sigmoid + BCE (or Adam)",
                    f"at this data's mean image sigmoid + MSE's gradient is {grad:.1f}x smaller "
                    f"than BCE's on average over what there is to learn (2x at p = ½): plain SGD "
                    f"is that much slower where outputs saturate (E2); Adam removes most of it")
    else:
        use, why = ("either", "at the mean image sigmoid + MSE's gradient is on average only "
                    + (f"{grad:.1f}x" if math.isfinite(grad) else "uniformly")
                    + " smaller than BCE's, close to the constant 2x a learning rate absorbs")
    recs.append({"goal": "fast early training", "use": use, "why": why,
                 "rule": f"sigmoid + BCE when MSE's logit gradient at the mean image is on "
                         f"average more than {SATURATION_RULE:g}x smaller than BCE's (per "
                         "location 1/(2m(1 − m)), weighted by BCE's gradient Σ|x − m| there)"})
    return recs


def _pct(f) -> str:
    if f is None:
        return "–"
    if f == 0 or f == 1:
        return f"{100 * f:.0f}%"
    return f"{100 * f:.3g}%" if f < 0.001 else f"{100 * f:.1f}%"


def _nats(v) -> str:
    return "unbounded" if v is None or not math.isfinite(v) else f"{v:.1f} nats"


# ----------------------------------------------------------------------------------------------
# The entry point
# ----------------------------------------------------------------------------------------------
def advise(images, *, indices=None, scale: float | None = None, latent: int = LATENT,
           sigmas=SIGMAS, reports=None, name: str = "data", source: dict | None = None,
           limits=None, progress=None) -> Advice:
    """Advice on the reconstruction loss for ``images``.

    Parameters
    ----------
    images : array_like
        N images (``N x D``, ``N x H x W`` or ``N x H x W x C``; uint8 read as v/255, floats as
        given; possibly memory-mapped).
    indices : sorted array of int, optional
        Analyse only these images (:func:`~lossanalysis.advise.stats.select_images`).
    scale : float, optional
        Divide the values by this.  Default: :func:`lossanalysis.data.infer_scale` (integers
        up to 255: v/255, but far below 255 v/max with a note; floats as given), which refuses
        what it cannot decide (integers above 255, floats above 1) and constant images.
    latent : int
        Latent size of the linear-VAE rule (default 20, E5's linear VAE).
    sigmas : sequence of float
        The fixed Gaussian sigmas of the likelihood-scale table.
    reports : None, str, os.PathLike or dict
        The experiment reports that back the predictions: a folder of ``<dataset>.json``, a
        ready ``{dataset: report}`` mapping, or None (the analysis' predictions only).
    name : str
        How error messages name the data.
    source : dict, optional
        Description of where the images came from (path, kind), copied into the advice.
    limits : Limits, dict or None
        The bound ``analysis_values`` on N x D (see :mod:`lossanalysis._limits`).
    progress : callable, optional
        ``progress(stage, done, total)`` as the scan goes (see
        :func:`~lossanalysis.advise.stats.scan`).

    Returns
    -------
    Advice

    Raises
    ------
    DataError
        (a ValueError) for values outside [0, 1] after scaling, NaN, constant images, fewer
        than 2 images; :class:`~lossanalysis._limits.LimitError` for more values than
        ``analysis_values``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> binary = (rng.random((200, 16)) < 0.3).astype(np.uint8) * 255
    >>> a = advise(binary, latent=4)
    >>> a.profile["binary"], a.recommendations[2]["use"]
    (True, 'Bernoulli (BCE)')
    """
    t0 = time.perf_counter()
    if isinstance(latent, bool) or not isinstance(latent, (int, np.integer)) or latent < 1:
        raise ValueError(f"latent must be an integer >= 1, got {latent!r}")
    sigmas = tuple(float(v) for v in sigmas)
    if not sigmas or not all(math.isfinite(v) and v > 0 for v in sigmas):
        raise ValueError(f"sigmas must be finite numbers > 0, got {sigmas!r}")
    if reports is None:
        loaded = {}
    elif isinstance(reports, dict):
        loaded = reports
    else:
        loaded = rep.load_reports(reports)

    arr, scale, scale_notes, clip = _checked_images(images, indices, scale, name, limits)
    s = scan(arr, indices=indices, scale=scale, name=name, clip=clip, top=max(TOP, latent),
             progress=progress)
    tau = analysis.KL_THRESHOLD
    lam, white = s.spectrum, s.whitened
    s_b = sigma_zero_rate_from_moments(s.mean, s.var)
    rows, s_l = _scale_table(lam, white, s_b, latent, sigmas, tau, s.known)
    prof = _profile(s)
    grad = _mean_gradient_ratio(s)
    preds = _predictions(s, prof, rows, s_b, latent, tau, loaded, grad)
    recs = _recommendations(s, prof, rows, s_l, latent, grad, {p["key"]: p for p in preds},
                            loaded)

    scale_info = {"sigma_eff_bernoulli": s_b, "learned_sigma": s_l, "latent": latent,
                  "kl_threshold": tau, "total_variance": float(lam.sum()),
                  "top_eigenvalues": lam[:6], "top_whitened": white[:6], "rows": rows}
    src = dict(source or {})
    scale_info["spectrum_method"] = s.method
    src.update(n=s.n, d=s.d, scale=s.scale, eight_bit_levels=s.levels is not None)
    return Advice(source=src, profile=prof, likelihoods=_likelihoods(s, prof, s_l),
                  scale=scale_info, predictions=preds, recommendations=recs,
                  reports=_reports_summary(loaded),
                  notes=_notes(s, prof, scale_notes, loaded),
                  seconds=time.perf_counter() - t0, spectrum=lam, whitened=white,
                  hist_counts=s.hist_counts, spectrum_known=s.known[0])


def _checked_images(images, indices, scale, name, limits):
    """The images as an array, checked (shape, dtype, the bound on N x D), with the divisor
    of their values (:func:`lossanalysis.data.infer_scale`): ``(array, scale, notes, clip)``."""
    arr = images if hasattr(images, "dtype") else real_array(images, name)
    if arr.ndim < 2:
        raise DataError(f"{name}: expected images (N x D, N x H x W or N x H x W x C), got "
                        f"shape {arr.shape}")
    n = len(arr) if indices is None else len(indices)
    d = math.prod(arr.shape[1:])
    bounds = as_limits(limits)
    bounds.check("analysis_values", n * d,
                 f"{name}: {n:,} images of {d:,} values (analyse fewer with "
                 f"--max-images {max(2, bounds.analysis_values // max(d, 1))})")
    if np.dtype(arr.dtype).kind not in "biuf":
        raise DataError(f"{name} must be numbers (bool, integer or float), got dtype {arr.dtype}")
    sample = arr if indices is None else arr[indices]
    try:
        lo, hi = value_range(sample, name=name)
        scale, scale_notes, clip = infer_scale(lo, hi, np.dtype(arr.dtype).kind, scale,
                                               name=name)
    except DatasetError as exc:
        raise DataError(str(exc)) from None
    return arr, scale, scale_notes, clip


def _mean_gradient_ratio(s) -> float:
    """The slowdown of sigmoid + MSE against BCE at the mean image, averaged over what there is
    to learn: per location 1/(2 m (1 - m)), weighted by BCE's gradient mass sum_i |x - m|
    (NaN when nothing varies)."""
    inside = (s.mean > 0) & (s.mean < 1)
    weight = s.mad[inside]
    return (float(np.dot(1.0 / _gradient_ratio(s.mean[inside]), weight) / weight.sum())
            if weight.sum() > 0 else math.nan)


def _notes(s, prof, scale_notes, loaded) -> list:
    """The advice's notes: how the values were scaled, how the spectrum was computed and what
    it can show, the 8-bit levels, and what the likelihood's scale does to a plain AE."""
    notes = list(scale_notes)
    if s.method != "covariance":
        notes.append(
            f"The covariance spectrum of these {s.d:,}-value images was computed "
            + ("exactly from the images' Gram matrix (no D x D covariance)." if s.method == "gram"
               else f"by a randomized estimate of its top {s.known[0]} eigenvalues (seeded; the "
               "total variance exact, the rest of the spectrum known only by its sum)."))
    if s.n - 1 < s.d:
        notes.append(f"{s.n} images span at most {s.n - 1} directions of the {s.d}-value space: "
                     "the spectrum beyond that is zero by construction, not a property of the "
                     "images.")
    if s.levels is not None and not prof["binary"]:
        notes.append("The values are 8-bit levels: a continuous density's nats on them compare "
                     "across models only after dequantization (Theis, van den Oord & Bethge "
                     "2016).")
    blur_ae = {k: _report_measure(loaded, f"blur_ratio[ae_{k}]") for k in ("bce", "mse")}
    ae_text = "; ".join(f"{rep.DISPLAY.get(ds, ds)} BCE {blur_ae['bce'][ds]:.3f}, MSE "
                        f"{blur_ae['mse'][ds]:.3f}" for ds in blur_ae["bce"]
                        if ds in blur_ae["mse"])
    notes.append("For a plain autoencoder (no KL) the likelihood's scale does not set the blur; "
                 "BCE and MSE give similar images"
                 + (f" (E4 blur ratios: {ae_text})." if ae_text else "."))
    return notes


def _reports_summary(loaded) -> dict:
    """Which reports back the advice (the catalogue's datasets first) and each one's fraction
    of mid-grey among the non-zero values."""
    summary = {ds: (r["data"].get("summary") or {}).get("frac_mid_of_nonzero")
               for ds, r in loaded.items() if isinstance(r.get("data"), dict)}
    summary = {ds: v for ds, v in summary.items() if v is not None}
    return {"datasets": [ds for ds in DATASETS if ds in loaded]
            + sorted(ds for ds in loaded if ds not in DATASETS),
            "mid_grey_of_nonzero": summary}
