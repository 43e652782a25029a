"""E1 -- the minimizers of the catalogue losses, found by training and compared with the analysis.

What the analysis says (:func:`lossanalysis.analysis.argmin`, :func:`~lossanalysis.analysis.
optimal_prediction`), before anything is trained:

* For a point target y the prediction that minimizes L(y, p) is y itself for the proper losses
  (mse, bce, kl, logit_mse, and also mae, huber, reverse_kl, gaussian_nll); the focal loss's
  minimizer is pulled toward 1/2 (Charoenphakdee et al. 2021, arXiv 2011.09172; Mukhoti et al.
  2020); the continuous Bernoulli's parameter lambda is pushed away from 1/2 while its mean
  mu(lambda) equals y (Loaiza-Ganem & Cunningham 2019, arXiv 1907.06845); beta_nll's mean
  parameter is pulled toward 1/2.
* For one output fitted to many targets (a pixel location across the training images) the
  minimizer of the mean loss is the mean of the targets for mse and bce (their gradients are
  affine in y) and the median for mae.
* An autoencoder that overfits a small batch should land, pixel by pixel, where the point-target
  minimizer is: on the target for mse/bce, toward 1/2 for focal, away from 1/2 for the continuous
  Bernoulli's parameter.  This needs a minimizer to exist at every pixel of the batch: at an
  exact 0 or 1 target the continuous Bernoulli's loss is unbounded below (at y = 0 it is
  -ln|z| + O(1) as z -> -inf, its logit gradient mu(z) ~ 1/|z| never vanishes), so a network
  fitted to raw images never converges.  The AE therefore fits the batch clipped into
  :data:`~.core.INTERIOR`, the range of (A) and (B), where every catalogue minimizer is finite.

Measurement
-----------
(A) One free logit per grey level of the dataset (the 8-bit levels k/255 in INTERIOR that
occur in the training images), trained with Adam on the catalogue's ``grad_logit`` with an
exponentially decaying learning rate, from a random start (stream ``e1.start``).  (B) One free
logit per pixel location, fitted to the histogram of that location's training targets
(locations whose mean and median lie in INTERIOR; locations whose median is not unique are
skipped, their MAE optimum being an interval).  (C) An AE trained with Adam on a fixed batch of
training images (stream ``e1.batch``), clipped into INTERIOR, until it overfits, one per loss,
all from the same initialization.  Its convergence is checked, not assumed: for every grey
pixel the Newton step p(1 - p) |g| / h estimates how far a free output would still move; their
mean over the grey pixels estimates, to first order, how much the measured directional bias
could still change, and is reported next to the resolution of the predictions.

Rows (A) and (B) are consistency checks: the fit runs the catalogue's own gradient to the
minimizer the same catalogue defines.  Rows (C) are falsifiable: an AE's outputs share
weights, and nothing forces each of them onto its free-output minimizer.
"""
from __future__ import annotations

import textwrap

import numpy as np

from .. import analysis, plotting
from ..losses import LOSSES, continuous_bernoulli_mean_logit, get_loss, sigmoid
from ..nn import AE, Adam
from .core import (CONFIRMED, CONSISTENCY, FALSIFIABLE, INCONCLUSIVE, INTERIOR, REFUTED,
                   Measured, Observation, Prediction, Revision, Task,
                   experiment_settings, fmt_dec, frozen, prediction_table, sd, stated, stream,
                   stream_entropy)
from .figures import seeds_note, title

__all__ = ["LABEL", "NAME", "REVISIONS", "settings", "prepare", "tasks", "measure", "figure",
           "text", "fit_free_logits", "grey_levels", "location_histograms", "directional_bias",
           "newton_distance", "SPEC_LOSSES", "OTHER_LOSSES", "AE_LOSSES"]

LABEL = "E1"
NAME = "E1 Minimizers"
#: Predictions changed after an earlier run had measured them (listed in the report).
REVISIONS = (
    Revision(("E1.ae.continuous_bernoulli",),
             "the overfitting AE fits its batch clipped into [0.05, 0.95]; the prediction is "
             "judged 'equal' at the same resolution as the other AE rows, and each AE's "
             "convergence is checked (Newton distance) instead of assumed",
             "at an exact 0 or 1 target the continuous Bernoulli's loss is unbounded below "
             "(-ln|z| + O(1) as z -> -inf), so a network fitted to raw images has no minimum "
             "to converge to",
             "raw images, direction only (>= 0.1826 - 0.148): 0.0324 ± 0.013, refuted",
             old_seeds=(("E1.ae.continuous_bernoulli", "mnist",
                         "0.1826, 0.1826, 0.1826; mean 0.1826, confirmed by the mean"),
                        ("E1.ae.continuous_bernoulli", "fashion-mnist",
                         "0.1817, 0.1819, 0.1817; mean 0.1818, confirmed by the mean"))),
)
#: The losses with a row of their own in the summary table.
SPEC_LOSSES = ("mse", "bce", "kl", "logit_mse", "focal", "continuous_bernoulli")
#: The other catalogue losses: fitted and shown, judged together in one row.
OTHER_LOSSES = tuple(n for n in LOSSES if n not in SPEC_LOSSES)
#: The losses of the overfitting autoencoder.
AE_LOSSES = ("mse", "bce", "focal", "continuous_bernoulli")
#: The noisy-target losses and what their optimum is (by the analysis).
NOISY_LOSSES = (("mse", "mean"), ("bce", "mean"), ("mae", "median"))
LO, HI = INTERIOR
#: The AE's directional bias is taken over target pixels in [0.1, 0.9] at least 0.05 from 1/2.
AE_GREY = (0.1, 0.9, 0.05)
_FIT_KIND = ("the fit runs the catalogue's own grad_logit to the minimizer the same catalogue "
             "defines: a check of the fitting code, not of the data")


def settings(cfg) -> dict:
    """Sizes of a run: full or quick, overridden by ``cfg.extra["settings"]["E1"]``."""
    return experiment_settings(
        cfg, LABEL, dict(steps=3000, lr0=0.3, lr_end=1e-4, ae_steps=1000, ae_images=16,
                         ae_sizes=(784, 128, 32), ae_lr=3e-3, n_locations=None),
        dict(ae_steps=400, ae_sizes=(784, 64, 16), ae_lr=5e-3, n_locations=60))


# ----------------------------------------------------------------------------------------------
# The fitting machinery
# ----------------------------------------------------------------------------------------------
def fit_free_logits(loss, targets, weights, z0, *, steps, lr0, lr_end, betas=(0.9, 0.99)):
    """Adam on free logits: z_j minimizing sum_k weights[j, k] L(targets[j, k], sigmoid(z_j)).

    ``targets`` and ``weights`` broadcast to shape (n, K); ``z0`` (n,) is the start.  The
    gradient is the catalogue's ``grad_logit``; the learning rate decays exponentially from
    ``lr0`` to ``lr_end``.  Returns (z, max |gradient| at the end).

    Examples
    --------
    >>> z, g = fit_free_logits("bce", np.array([[0.3]]), np.ones((1, 1)), np.zeros(1),
    ...                        steps=2000, lr0=0.3, lr_end=1e-5)
    >>> abs(float(sigmoid(z[0])) - 0.3) < 1e-5
    True
    """
    loss = get_loss(loss) if isinstance(loss, str) else loss
    z = np.array(z0, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    params = {"z": z}
    opt = Adam(params, lr=lr0, betas=betas)
    decay = (lr_end / lr0) ** (1.0 / max(steps - 1, 1))
    grad = np.zeros_like(z)
    with np.errstate(over="ignore", under="ignore"):
        for t in range(steps):
            opt.lr = lr0 * decay ** t
            g = loss.grad_logit(targets, z[:, None], check=False)
            np.sum(g * weights, axis=1, out=grad)
            opt.step({"z": grad})
        g = loss.grad_logit(targets, z[:, None], check=False)
    return z, float(np.max(np.abs(np.sum(g * weights, axis=1))))


def grey_levels(x) -> np.ndarray:
    """The 8-bit grey levels k/255 in INTERIOR that occur in the images ``x`` (float64).

    >>> grey_levels(np.array([0.0, 10 / 255, 128 / 255, 1.0])).tolist() == [128 / 255]
    True
    """
    k = np.unique(np.rint(np.asarray(x) * 255).astype(np.int64))
    y = k / 255.0
    return y[(y >= LO) & (y <= HI)]


def location_histograms(x):
    """Per pixel location: the histogram of the 8-bit targets (n_locations, 256) as weights
    summing to 1, with the locations' mean and (lower, upper) medians."""
    codes = np.rint(np.asarray(x) * 255).astype(np.int64)
    n, d = codes.shape
    hist = np.zeros((d, 256))
    for j in range(d):
        hist[j] = np.bincount(codes[:, j], minlength=256)
    w = hist / n
    levels = np.arange(256) / 255.0
    mean = w @ levels
    cum = np.cumsum(w, axis=1)
    lower = np.argmax(cum >= 0.5 - 1e-12, axis=1)       # first level reaching half the mass
    upper = np.argmax(cum > 0.5 + 1e-12, axis=1)         # first level exceeding it
    return w, mean, lower / 255.0, upper / 255.0


def directional_bias(y, p):
    """Mean of s (p - y), s = sign(y - 1/2): > 0 when the outputs lie farther from 1/2 than
    the targets, < 0 when they are pulled toward 1/2.

    >>> directional_bias([0.2, 0.8], [0.1, 0.9]) > 0
    True
    """
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean(np.sign(y - 0.5) * (np.asarray(p, dtype=np.float64) - y)))


def _ae_grey_mask(y):
    lo, hi, gap = AE_GREY
    return (y >= lo) & (y <= hi) & (np.abs(y - 0.5) >= gap)


def newton_distance(loss, y, z) -> np.ndarray:
    """Per output, how far sigmoid(z) would still move if that output were free.

    The Newton step |g| / h in the logit (g, h the loss's logit gradient and curvature at
    (y, z)) times dp/dz = p(1 - p), capped at max(p, 1 - p) -- no output in [0, 1] can move
    farther.  Where h <= 0 (no local quadratic model, e.g. a saturated MSE output) the cap
    itself is returned.

    >>> float(newton_distance("bce", np.array([0.3]), np.log(np.array([0.3 / 0.7])))[0]) < 1e-12
    True
    """
    loss = get_loss(loss) if isinstance(loss, str) else loss
    y = np.asarray(y, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        g = loss.grad_logit(y, z, check=False)
        h = loss.curvature_logit(y, z, check=False)
        p = sigmoid(z)
        cap = np.maximum(p, 1 - p)
        d = np.where(h > 0, p * (1 - p) * np.abs(g) / np.where(h > 0, h, 1.0), cap)
    return np.where(g == 0, 0.0, np.minimum(d, cap))


# ----------------------------------------------------------------------------------------------
# Predictions
# ----------------------------------------------------------------------------------------------
def _predictions(cfg, levels, ae_targets, s) -> dict:
    tol = s["lr_end"]
    # Tolerance of the free-logit fits: Adam's step is bounded by lr (1 - b1)/sqrt(1 - b2)
    # (Kingma & Ba 2015, sec. 2.1), = lr for the betas (0.9, 0.99) used here; at the end of the
    # decay the iterate sits within about one step of the optimum, and |dp/dz| <= 1/4
    # (|dmu/dz| <= 1/12 for the continuous Bernoulli mean), so |p - p*| <= lr_end / 4.  We
    # allow lr_end, a factor 4 for the iterate lagging a few steps behind the decaying rate.
    why = (f"Adam's final step (<= lr_end = {tol:.0e} in the logit) times max dp/dz = 1/4, "
           "with a factor 4 of slack")
    P = {}
    for name in SPEC_LOSSES:
        what = ("lambda = sigmoid(z)" if name == "continuous_bernoulli" else "p = sigmoid(z)")
        P[f"point.{name}"] = Prediction(
            f"E1.point.{name}", LABEL,
            f"free outputs trained with {name} converge to argmin({name}, y) at every grey level",
            f"max over {len(levels)} grey levels of |{what} - argmin({name}, y)|",
            0.0, tol, "equal", CONSISTENCY, _FIT_KIND, f"analysis.argmin; tolerance: {why}")
    P["point.others"] = Prediction(
        "E1.point.others", LABEL, "the same for " + ", ".join(OTHER_LOSSES),
        "max over those losses and the grey levels of |p - argmin(loss, y)|",
        0.0, tol, "equal", CONSISTENCY, _FIT_KIND, f"analysis.argmin; tolerance: {why}")
    P["point.cb_mean"] = Prediction(
        "E1.point.cb_mean", LABEL,
        "the continuous Bernoulli's mean mu(lambda) of the fitted output equals the target",
        "max over grey levels of |mu(lambda) - y|", 0.0, tol, "equal", CONSISTENCY, _FIT_KIND,
        f"analysis.is_proper (CB mean = target); tolerance: {why}")
    off = np.abs(levels - 0.5) > 1e-9
    a_focal = np.asarray(analysis.argmin("focal", levels), dtype=float)
    focal_dir = float(np.mean(np.abs(a_focal - 0.5)[off] < np.abs(levels - 0.5)[off]))
    P["point.focal_dir"] = Prediction(
        "E1.point.focal_direction", LABEL,
        "focal's fitted outputs lie strictly closer to 1/2 than their targets",
        "fraction of grey levels (y != 1/2) where |p - 1/2| < |y - 1/2|", focal_dir, 0.0,
        "equal", CONSISTENCY, _FIT_KIND,
        "sign of analysis.bias('focal', y); tolerance 0: the predicted bias at the levels "
        "nearest 1/2 (y = 0.498) is far above the fit's error lr_end")
    for name, kind in NOISY_LOSSES:
        P[f"noisy.{name}"] = Prediction(
            f"E1.noisy.{name}", LABEL,
            f"one output fitted to all training targets of a pixel location with {name} "
            f"converges to their {kind}",
            f"max over locations of |p - optimal_prediction({name}, targets)|", 0.0, tol,
            "equal", CONSISTENCY,
            "the optimum of each location's histogram is computed by the analysis from the same "
            "histogram the fit sees: a check of the fitting code",
            f"analysis.optimal_prediction; tolerance: {why}")
    # The overfitting AE: the directional bias s (p - y), s = sign(y - 1/2), over the batch's
    # grey pixels, predicted from the point-target minimizer at each pixel's target.
    mask = _ae_grey_mask(ae_targets)
    yg = ae_targets[mask]
    pred_dir = {name: directional_bias(yg, analysis.argmin(name, yg)) for name in AE_LOSSES}
    # Resolution: a quarter of the smallest non-zero predicted effect, so that a direction
    # counts as established at 4x the resolution, and a proper loss's residual bias below it
    # counts as "none".  The same for every loss: each AE is judged at convergence.
    res = 0.25 * min(abs(pred_dir["focal"]), abs(pred_dir["continuous_bernoulli"]))
    quantity = (f"mean of sign(y - 1/2)(p - y) over the batch's {int(mask.sum())} grey pixels "
                "(p = sigmoid(z); lambda for continuous_bernoulli)")
    src = ("analysis.argmin at each pixel's target; tolerance: a quarter of the smallest "
           f"predicted effect ({res:.3f})")
    for name in AE_LOSSES:
        direction = ("none" if abs(pred_dir[name]) < 1e-9 else
                     "toward 1/2" if pred_dir[name] < 0 else "away from 1/2")
        P[f"ae.{name}"] = Prediction(
            f"E1.ae.{name}", LABEL,
            f"an AE overfitting {s['ae_images']} images (clipped into [{LO}, {HI}]) with {name} "
            f"is biased like argmin({name}, y) ({direction})", quantity, pred_dir[name], res,
            "equal", FALSIFIABLE,
            "the AE's outputs share weights; nothing forces each pixel onto its free-output "
            "minimizer, so a residual bias would contradict the prediction", src)
    return {k: stated(cfg, v) for k, v in P.items()}


def prepare(cfg, data) -> dict:
    """E1's predictions and the data they are computed from (no training)."""
    s = settings(cfg)
    x = data.x_train
    levels = grey_levels(x)
    w_loc, mean_loc, med_lo, med_hi = location_histograms(x)
    sel = np.flatnonzero((mean_loc >= LO) & (mean_loc <= HI) & (med_lo >= LO) & (med_lo <= HI)
                         & (med_lo == med_hi))
    if s["n_locations"] is not None and sel.size > s["n_locations"]:
        sel = sel[np.linspace(0, sel.size - 1, s["n_locations"]).round().astype(int)]
    w_sel = w_loc[sel]
    all_levels = np.arange(256) / 255.0
    ae_idx = np.sort(stream("e1.batch").choice(len(x), s["ae_images"], replace=False))
    # clipped into INTERIOR: at exact 0 or 1 the continuous Bernoulli has no minimizer (module
    # docstring); the AE's inputs are its targets
    x_ae = np.ascontiguousarray(np.clip(x[ae_idx], np.float32(LO), np.float32(HI)))
    y_ae = x_ae.astype(np.float64)
    P = _predictions(cfg, levels, y_ae, s)
    argmins = {name: np.asarray(analysis.argmin(name, levels), dtype=float) for name in LOSSES}
    optimal = {name: np.array([analysis.optimal_prediction(name, all_levels, w_sel[i])
                               for i in range(sel.size)]) for name, _ in NOISY_LOSSES}
    return {"settings": s, "P": P, "predictions": list(P.values()), "levels": levels,
            "sel": sel, "w_sel": w_sel, "x_ae": x_ae, "y_ae": y_ae, "grey": _ae_grey_mask(y_ae),
            "argmins": argmins, "optimal": optimal,
            "mean_minus_median": float(np.mean(np.abs(optimal["mse"] - optimal["mae"]))),
            "focal_bias_mean_abs": float(np.mean(np.abs(argmins["focal"] - levels)))}


# ----------------------------------------------------------------------------------------------
# Measure
# ----------------------------------------------------------------------------------------------
def _fit_points(prep, seed, *, deps=None) -> dict:
    """(A) for one seed: every catalogue loss's free logits at the grey levels."""
    s, levels = prep["settings"], prep["levels"]
    z0 = stream("e1.start", seed).normal(0.0, 2.0, levels.size)
    out = {"err": {}, "fit": {}, "worst_grad": 0.0}
    off = np.abs(levels - 0.5) > 1e-9
    for name in LOSSES:
        z, gmax = fit_free_logits(name, levels[:, None], np.ones((levels.size, 1)), z0,
                                  steps=s["steps"], lr0=s["lr0"], lr_end=s["lr_end"])
        if get_loss(name).smooth:           # mae/huber: the gradient jumps at the kink
            out["worst_grad"] = max(out["worst_grad"], gmax)
        p = sigmoid(z)
        out["err"][name] = float(np.max(np.abs(p - prep["argmins"][name])))
        out["fit"][name] = p
        if name == "continuous_bernoulli":
            mu = continuous_bernoulli_mean_logit(z)
            out["cb_mean_err"] = float(np.max(np.abs(mu - levels)))
            out["fit"]["cb_mean"] = mu
        if name == "focal":
            out["focal_dir"] = float(np.mean(np.abs(p - 0.5)[off] < np.abs(levels - 0.5)[off]))
    return out


def _fit_locations(prep, seed, *, deps=None) -> dict:
    """(B) for one seed: one free logit per location for each noisy-target loss."""
    s, sel = prep["settings"], prep["sel"]
    rng = stream("e1.start", seed)
    rng.normal(0.0, 2.0, prep["levels"].size)    # (A)'s start comes first in this stream
    z0 = rng.normal(0.0, 2.0, sel.size)
    all_levels = np.arange(256) / 255.0
    out = {"err": {}, "fit": {}}
    for name, _ in NOISY_LOSSES:
        z, _ = fit_free_logits(name, all_levels[None, :], prep["w_sel"], z0, steps=s["steps"],
                               lr0=s["lr0"], lr_end=s["lr_end"])
        p = sigmoid(z)
        out["err"][name] = float(np.max(np.abs(p - prep["optimal"][name])))
        out["fit"][name] = p
        if name == "mae":
            out["worst_mae"] = int(np.argmax(np.abs(p - prep["optimal"][name])))
    return out


def _fit_autoencoders(prep, seed, *, deps=None) -> dict:
    """(C) for one seed: the overfitting AE of every loss of AE_LOSSES, same initialization."""
    s, x_ae, y_ae, grey = prep["settings"], prep["x_ae"], prep["y_ae"], prep["grey"]
    out = {"bias": {}, "newton": {}, "fit": {}}
    for name in AE_LOSSES:
        model = AE(s["ae_sizes"], loss=name, seed=stream_entropy("net.init", seed))
        opt = Adam(model.params, lr=s["ae_lr"])
        with np.errstate(over="ignore", under="ignore"):
            for _ in range(s["ae_steps"]):
                _, g = model.loss_and_grads(x_ae)
                opt.step(g)
        z = model.logits(x_ae).astype(np.float64)
        p = sigmoid(z)
        out["bias"][name] = directional_bias(y_ae[grey], p[grey])
        out["newton"][name] = float(np.mean(newton_distance(name, y_ae[grey], z[grey])))
        out["fit"][name] = p
    return out


_PARTS = (("points", _fit_points, "grey levels, 11 losses", 1.0),
          ("locations", _fit_locations, "pixel locations, 3 losses", 0.7),
          ("ae", _fit_autoencoders, "overfitting AEs, 4 losses", 2.2))


def tasks(cfg, prep, seeds) -> list:
    s = prep["settings"]
    out = []
    for seed in seeds:
        for part, fn, what, weight in _PARTS:
            size = (s["steps"] * prep["levels"].size / 2e5 if part != "ae"
                    else s["ae_steps"] * s["ae_sizes"][1] / 3e4)
            out.append(Task(("E1", part, cfg.dataset, frozen(s), int(seed)), fn, (prep, seed),
                            cost=weight * size,
                            label=f"{cfg.dataset} E1 seed {seed}: {what}"))
    return out


def measure(cfg, prep, seeds, done) -> Measured:
    s, P = prep["settings"], prep["P"]
    got = {part: [done[("E1", part, cfg.dataset, frozen(s), int(seed))] for seed in seeds]
           for part, *_ in _PARTS}
    pts, locs, aes = got["points"], got["locations"], got["ae"]
    values, notes = {}, {}
    for n in SPEC_LOSSES:
        values[f"E1.point.{n}"] = [r["err"][n] for r in pts]
    values["E1.point.others"] = [max(r["err"][n] for n in OTHER_LOSSES) for r in pts]
    worst = max(OTHER_LOSSES, key=lambda n: np.mean([r["err"][n] for r in pts]))
    notes["E1.point.others"] = (f"largest for {worst} "
                                f"({np.mean([r['err'][worst] for r in pts]):.1e})")
    values["E1.point.cb_mean"] = [r["cb_mean_err"] for r in pts]
    values["E1.point.focal_direction"] = [r["focal_dir"] for r in pts]
    for name, _ in NOISY_LOSSES:
        values[f"E1.noisy.{name}"] = [r["err"][name] for r in locs]
    notes["E1.noisy.mae"] = ("mean |mean - median| over the locations: "
                             f"{prep['mean_minus_median']:.3f}")
    res = P["ae.mse"].tolerance
    for name in AE_LOSSES:
        values[f"E1.ae.{name}"] = [r["bias"][name] for r in aes]
        worst_n = max(r["newton"][name] for r in aes)
        notes[f"E1.ae.{name}"] = (
            f"mean Newton distance of the grey outputs at the end {worst_n:.1e} (largest over "
            f"seeds) {'<' if worst_n < res else '>='} the resolution {res:.3f}: "
            + ("converged" if worst_n < res else "NOT converged"))
    # how flat the MAE objective is on the gentler side of the first seed's worst location's
    # median: the one-sided slopes in p are 2 |F - 1/2|, F the share of targets below / up to
    # the median
    wm = locs[0]["worst_mae"]
    k = int(round(prep["optimal"]["mae"][wm] * 255))
    cum = np.cumsum(prep["w_sel"][wm])
    flat = float(min(abs(0.5 - (cum[k - 1] if k > 0 else 0.0)), abs(cum[k] - 0.5)))
    seeds = tuple(seeds)
    obs = {
        "E1.grey_levels": Observation((float(prep["levels"].size),), (), "count"),
        "E1.locations": Observation((float(prep["sel"].size),), (), "count"),
        "E1.mean_minus_median": Observation((prep["mean_minus_median"],), (), "intensity"),
        "E1.focal_bias_mean_abs": Observation((prep["focal_bias_mean_abs"],), (), "intensity"),
        "E1.focal_pull_predicted": Observation((abs(P["ae.focal"].value),), (), "intensity"),
        "E1.final_gradient_max": Observation(tuple(r["worst_grad"] for r in pts), seeds,
                                             "logit gradient"),
        "E1.mae_worst_location_flat_side": Observation((flat,), seeds[:1], "probability"),
    }
    for name in AE_LOSSES:
        obs[f"E1.ae_directional_bias[{name}]"] = Observation(
            tuple(r["bias"][name] for r in aes), seeds, "intensity")
        obs[f"E1.ae_newton_distance[{name}]"] = Observation(
            tuple(r["newton"][name] for r in aes), seeds, "intensity")
    extra = {"point_fit": pts[0]["fit"], "noisy_fit": locs[0]["fit"], "ae_fit": aes[0]["fit"],
             "ae_bias": {n: [r["bias"][n] for r in aes] for n in AE_LOSSES},
             "ae_newton": {n: [r["newton"][n] for r in aes] for n in AE_LOSSES}}
    return Measured(values, seeds, notes, obs, extra)


# ----------------------------------------------------------------------------------------------
# Figure
# ----------------------------------------------------------------------------------------------
@plotting.style()
def figure(cfg, prep, measured):
    """(a) point targets: argmin and the fits; (b) one output per location; (c) the AE."""
    levels, argmins, optimal, P = prep["levels"], prep["argmins"], prep["optimal"], prep["P"]
    point_fit, noisy_fit = measured.extra["point_fit"], measured.extra["noisy_fit"]
    fig, subs, (ax, ax_n, ax_ae) = plotting.panels(3, columns=2, height=3.2)
    _point_panel(ax, levels, argmins, point_fit)
    plotting.panel_legend(subs[0], max_columns=1)
    _location_panel(ax_n, optimal, noisy_fit)
    plotting.panel_legend(subs[1], max_columns=1)
    _ae_panel(ax_ae, P, measured.extra["ae_bias"])
    plotting.panel_legend(subs[2], max_columns=1)
    first = seeds_note(measured.seeds[:1])
    title(fig, LABEL, cfg.dataset, "minimizers found by training vs the analysis",
          f"a, b: {first}; c: {seeds_note(measured.seeds)}" if len(measured.seeds) > 1
          else first)
    return fig


def _point_panel(ax, levels, argmins, point_fit):
    """(a): argmin - y of every loss at the grey levels (lines) and the fitted outputs
    (markers); the losses whose argmin is y share one line."""
    every = max(1, levels.size // 24)
    on = [n for n in LOSSES if np.max(np.abs(argmins[n] - levels)) < 1e-6]
    for name in on:                        # their fits: one marker series each, all on 0
        ax.plot(levels[::every], (point_fit[name] - levels)[::every], "+", ms=3.5, mew=0.6,
                color="black", zorder=3)
    ax.plot(levels, np.zeros_like(levels), color="black", lw=0.8, marker="+", ms=3.5, mew=0.6,
            markevery=[], label=textwrap.fill("argmin = y: " + ", ".join(
                plotting.display_name(n).replace(" ", "\xa0") for n in on), 40))
    # the CB mean is on the target too: its markers between those of the group
    ax.plot(levels[every // 2::every], (point_fit["cb_mean"] - levels)[every // 2::every], "x",
            ms=4, mew=0.9, color=plotting.color("continuous_bernoulli"), zorder=4,
            label=f"{plotting.display_name('continuous_bernoulli')} mean μ(λ)")
    for name in (n for n in LOSSES if n not in on):
        c = plotting.color(name)
        ax.plot(levels, argmins[name] - levels, color=c, ls=plotting.linestyle(name), lw=1.0)
        ax.plot(levels[::every], (point_fit[name] - levels)[::every], "o", ms=2.6, mfc="none",
                mew=0.6, color=c, zorder=3)
        ax.plot([], [], color=c, ls=plotting.linestyle(name), lw=1.0, marker="o", ms=2.6,
                mfc="none", mew=0.6, label=plotting.display_name(name)
                + (" parameter λ" if name == "continuous_bernoulli" else ""))
    ax.set_xlabel(plotting.axis_label("target y", "intensity"))
    ax.set_ylabel(plotting.axis_label("minimizer − y", "intensity"))
    ax.set_title("(a) point targets: lines argmin, markers fitted")


def _location_panel(ax, optimal, noisy_fit):
    """(b): each location's fitted output against its mean: MSE and BCE on the diagonal (their
    optimum is the mean), MAE at the median."""
    mean = optimal["mse"]
    lo, hi = float(mean.min()), float(mean.max())
    plotting.mark_reference(ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.6, zorder=0,
                                    label="p = mean")[0])
    style = {"mse": dict(marker="o", ms=4.0, mfc="none", mew=0.6),
             "bce": dict(marker="+", ms=3.0, mew=0.7),
             "mae": dict(marker="^", ms=2.8, mfc="none", mew=0.6)}
    for name, kind in NOISY_LOSSES:
        ax.plot(mean, noisy_fit[name], ls="none", color=plotting.color(name), **style[name],
                label=f"{plotting.display_name(name)} fitted (optimum: the {kind})")
    ax.set_xlabel(plotting.axis_label("mean of the location's targets", "intensity"))
    ax.set_ylabel(plotting.axis_label("fitted output p", "intensity"))
    ax.set_title("(b) one output per pixel location")


def _ae_panel(ax, P, ae_bias):
    """(c): the overfitting AEs' directional bias, per seed and mean ± sd, against the
    predicted value ± tolerance."""
    from matplotlib.patches import Rectangle
    for i, name in enumerate(AE_LOSSES):
        pred, tol = P[f"ae.{name}"].value, P[f"ae.{name}"].tolerance
        ax.add_patch(Rectangle((i - 0.32, pred - tol), 0.64, 2 * tol, color="0.85", lw=0,
                               zorder=0, label="predicted ± tolerance" if i == 0 else None))
        ax.plot([i - 0.32, i + 0.32], [pred, pred], color="0.45", lw=0.8, zorder=1,
                label="predicted" if i == 0 else None)
        vals = np.asarray(ae_bias[name], dtype=float)
        ax.plot(np.full(vals.size, i + 0.14), vals, "o", ms=2.2, mfc="none", mew=0.5,
                color=plotting.color(name), zorder=2)
        ax.errorbar([i], [vals.mean()], yerr=[sd(vals)], fmt="s", ms=3.2, capsize=2,
                    elinewidth=0.7, color=plotting.color(name), zorder=3)
    ax.errorbar([], [], yerr=[], fmt="s", ms=3.2, capsize=2, elinewidth=0.7, color="0.3",
                label="measured: mean ± sd over seeds")
    ax.plot([], [], "o", ms=2.2, mfc="none", mew=0.5, color="0.3", label="measured: each seed")
    plotting.guides(ax, y=[0])
    ax.set_xlim(-0.6, len(AE_LOSSES) - 0.4)
    ax.set_xticks(np.arange(len(AE_LOSSES)))
    ax.set_xticklabels(["CB λ" if n == "continuous_bernoulli" else plotting.display_name(n)
                        for n in AE_LOSSES])
    ax.set_ylabel(plotting.axis_label("mean sign(y − ½)(p − y)", "intensity"))
    for y, va, text in ((0.98, "top", "↑ away from ½"), (0.02, "bottom", "↓ toward ½")):
        ax.text(0.03, y, text, transform=ax.transAxes, ha="left", va=va, fontsize=7,
                color="0.35")
    ax.set_title("(c) overfitting AE")


# ----------------------------------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------------------------------
def _classification(prep) -> str:
    """Which losses the analysis puts on the target, toward 1/2 or away from it (from argmin
    at the grey levels), for the findings."""
    levels, argmins = prep["levels"], prep["argmins"]
    off = np.abs(levels - 0.5) > 1e-9
    on, toward, away = [], [], []
    for name in LOSSES:
        d = np.sign(levels[off] - 0.5) * (argmins[name][off] - levels[off])
        if np.max(np.abs(argmins[name] - levels)) < 1e-6:
            on.append(name)
        elif np.all(d < 0):
            toward.append(name)
        elif np.all(d > 0):
            away.append(name)
    return (f"the target itself for {', '.join(on) or 'none'}; pulled toward 1/2 for "
            f"{', '.join(toward) or 'none'} (focal's mean |bias| "
            f"{prep['focal_bias_mean_abs']:.3f} over the grey levels); pushed away from 1/2 for "
            f"{', '.join(away) or 'none'}")


def text(cfg, prep, measured, rows) -> str:
    s, P, levels, sel = prep["settings"], prep["P"], prep["levels"], prep["sel"]
    by_id = {r.id: r for r in rows}
    obs = measured.observations
    lines = [
        f"### {NAME} ({cfg.dataset})", "",
        f"Setup: (A) {levels.size} free logits, one per 8-bit grey level in [{LO}, {HI}] of the "
        f"training images; (B) {sel.size} free logits, one per pixel location whose mean and "
        f"(unique) median lie in [{LO}, {HI}], each fitted to the histogram of that location's "
        f"training targets; both trained with Adam on the catalogue's grad_logit for "
        f"{s['steps']} steps, learning rate decaying from {s['lr0']:g} to {s['lr_end']:g}, "
        f"random start N(0, 2²) in the logit.  (C) AE "
        f"{'-'.join(map(str, s['ae_sizes']))}-...-784 (ReLU, sigmoid output) trained full-batch "
        f"with Adam (lr {s['ae_lr']:g}, {s['ae_steps']} steps) on a fixed batch of "
        f"{s['ae_images']} training images clipped into [{LO}, {HI}] (at an exact 0 or 1 the "
        f"continuous Bernoulli's loss is unbounded below, so no network could converge there), "
        f"one network per loss from the same initialization.  Seeds "
        f"{', '.join(map(str, measured.seeds))}.", ""]
    lines += prediction_table(rows)
    lines += ["", "Findings:", ""]
    point = [by_id[f"E1.point.{n}"] for n in SPEC_LOSSES] + [by_id["E1.point.others"]]
    worst = max(r.mean for r in point)
    grad = max(obs["E1.final_gradient_max"].values)
    if all(r.verdict == CONFIRMED for r in point):
        lines.append(f"* Every catalogue loss, trained from random starts, converges to the "
                     f"minimizer the analysis computes, to within {fmt_dec(worst)} (largest "
                     f"final |gradient| of a smooth loss {grad:.1e}).  The fits reproduce the "
                     f"classification: {_classification(prep)}.")
    else:
        lines.append(f"* Largest distance of a fitted output from its argmin: {fmt_dec(worst)} "
                     f"(tolerance {fmt_dec(point[0].prediction.tolerance)}; largest final "
                     f"|gradient| of a smooth loss {grad:.1e}).")
        for r in point:
            if r.verdict == REFUTED:
                lines.append(
                    f"  `{r.id}` is refuted: the fitted outputs stay {fmt_dec(r.mean)} from "
                    "argmin.  What the analysis missed: nothing about the minimizer -- the fit "
                    "had not converged within the step budget (the minimizer's logit lies far "
                    "out, where the gradient is tiny), so the tolerance derived from Adam's "
                    "final step does not bound the distance to the optimum.")
            elif r.verdict == INCONCLUSIVE:
                lines.append(f"  `{r.id}` is inconclusive: its interval over the seeds "
                             "straddles the tolerance.")
    noisy = [by_id[f"E1.noisy.{n}"] for n, _ in NOISY_LOSSES]
    dev = ", ".join(fmt_dec(r.mean) for r in noisy)
    mm = prep["mean_minus_median"]
    if all(r.verdict == CONFIRMED for r in noisy):
        lines.append(f"* One output fitted to many targets: mse and bce land on the mean and mae "
                     f"on the median (max deviations {dev}); the mean and the median of a "
                     f"location differ by {mm:.3f} on average, so this is what separates a "
                     "blurry average from a hard median edge.")
    else:
        lines.append(f"* One output fitted to many targets: max deviations from the optimum "
                     f"{dev} (mse, bce from the mean, mae from the median); the mean and the "
                     f"median of a location differ by {mm:.3f} on average.")
    for r in noisy:
        if r.verdict != REFUTED:
            continue
        if r.id.endswith("mae"):
            lines.append(
                f"  `{r.id}` is refuted: the fitted outputs stay up to {fmt_dec(r.mean)} from "
                f"the median.  What the analysis missed: nothing about the optimum, which is the "
                f"median -- the tolerance was wrong.  At the first seed's worst location the "
                f"share of targets on one side of the median differs from ½ by only "
                f"{obs['E1.mae_worst_location_flat_side'].values[0]:.1e}, so the MAE objective "
                "is almost flat on that side (its slope in p is 2|F − ½|); Adam's steps, scaled "
                "by the much larger gradient of the other side, creep there, and a bound built "
                "on Adam's step size does not bound the distance to the kink.")
        else:
            lines.append(f"  `{r.id}` is refuted ({fmt_dec(r.mean)}): the fit did not reach the "
                         "mean within the step budget.")
    res = P["ae.mse"].tolerance
    newton = measured.extra["ae_newton"]
    txt = "; ".join(f"{n} {fmt_dec(by_id[f'E1.ae.{n}'].mean)} (predicted "
                    f"{fmt_dec(P[f'ae.{n}'].value)}, {by_id[f'E1.ae.{n}'].verdict}; still to "
                    f"move {max(newton[n]):.1e})" for n in AE_LOSSES)
    unconverged = [n for n in AE_LOSSES if max(newton[n]) >= res]
    lines.append(f"* The overfitting AE, mean sign(y − ½)(p − y) over grey pixels: {txt}.  "
                 "'Still to move' is the mean over the grey pixels of the Newton step "
                 "p(1 − p)|g|/h each output would take if it were free (at most max(p, 1 − p); "
                 "largest over the seeds): to first order, how much the measured bias could "
                 "still change; it is "
                 + (f"below the resolution {res:.3f} for every loss, so the networks are judged "
                    "converged." if not unconverged else
                    f"at or above the resolution {res:.3f} for {', '.join(unconverged)}: those "
                    "networks had not converged, and their verdicts concern an unfinished fit."))
    lines.append("  The batch is clipped into "
                 f"[{LO}, {HI}]: on raw images, with exact 0s and 1s, the continuous Bernoulli's "
                 "loss has no minimum (at y = 0 it is −ln|z| + O(1) as z → −∞, its logit gradient "
                 "~1/|z| never vanishes), so an AE trained on them cannot converge.")
    for r in (by_id[f"E1.ae.{n}"] for n in AE_LOSSES):
        n = r.id.split(".")[-1]
        if r.verdict == REFUTED and n in unconverged:
            lines.append(
                f"  `{r.id}` is refuted on an unconverged fit ({fmt_dec(r.mean)} against "
                f"{fmt_dec(r.prediction.value)}): the step budget, not the analysis, decides it.")
        elif r.verdict == REFUTED:
            lines.append(
                f"  `{r.id}` is refuted: the converged network's outputs do not sit where the "
                f"point-target minimizer of {n} is ({fmt_dec(r.mean)} against "
                f"{fmt_dec(r.prediction.value)}).  What the analysis missed: argmin treats every "
                "output as free; the AE's outputs share weights, and where the batch cannot be "
                "interpolated their residual errors add a bias the analysis does not describe.")
    return "\n".join(lines) + "\n"
