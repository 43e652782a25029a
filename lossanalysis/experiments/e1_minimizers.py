"""E1 -- the minimizers of the catalogue losses, found by training and compared with the analysis.

For a point target y the proper losses are minimized at p = y (:func:`lossanalysis.analysis.
argmin`); focal's minimizer is pulled toward 1/2 (Mukhoti et al. 2020), the continuous
Bernoulli's lambda pushed away from it while its mean mu(lambda) = y (Loaiza-Ganem & Cunningham
2019, arXiv 1907.06845).  One output fitted to many targets lands on their mean under MSE and
BCE, on their median under MAE (:func:`~lossanalysis.analysis.optimal_prediction`).  Per seed:
(A) ``E1.point.*``: a free logit per 8-bit grey level in INTERIOR, fitted by Adam on the
catalogue's ``grad_logit``; (B) ``E1.noisy.*``: one per pixel location (mean and unique median
in INTERIOR; :data:`MAX_LOCATIONS`) fitted to its targets' histogram; (C) ``E1.ae.*``: an AE
per loss overfitting :data:`AE_IMAGES` images clipped into INTERIOR (at an exact 0 or 1 the
continuous Bernoulli has no minimizer): mean sign(y - 1/2)(p - argmin(y)) over their grey
pixels, predicted 0, beside the mean Newton step p(1 - p)|g|/h left (how far from converged).

(A), (B) are *consistency* rows (the fit runs the catalogue's gradient to the minimizer the same
catalogue defines), rule "numeric" at the fit's precision ``lr_end``: Adam's step is at most lr
(1 - b1)/sqrt(1 - b2) = lr for the betas used (Kingma & Ba 2015, sec. 2.1) and |dp/dz| <= 1/4,
so a fit ends within about lr_end/4, with a factor 4 for lag; the focal share's precision is half
of one level's share.  (C) is *falsifiable* (the outputs share weights; nothing forces each onto
its minimizer), rule "intensity".  Not applicable below :data:`MIN_LEVELS` grey levels (A),
:data:`MIN_LOCATIONS` locations (B), :data:`MIN_GREY` grey pixels expected in a batch (C).
"""
import textwrap

import numpy as np

from .. import analysis, plotting
from ..losses import LOSSES, continuous_bernoulli_mean_logit, get_loss, sigmoid
from ..nn import AE, Adam
from ..protocol import CONSISTENCY, FALSIFIABLE, Prediction
from .base import INTERIOR, Finding, Network, entropy, rng
from .figures import seeds_note, title

LABEL, NAME = "E1", "Minimizers"
SPEC_LOSSES = ("mse", "bce", "kl", "logit_mse", "focal", "continuous_bernoulli")
OTHER_LOSSES = tuple(n for n in LOSSES if n not in SPEC_LOSSES)
AE_LOSSES = ("mse", "bce", "focal", "continuous_bernoulli")
NOISY_LOSSES = (("mse", "mean"), ("bce", "mean"), ("mae", "median"))
LO, HI = INTERIOR
AE_GREY = (0.1, 0.9, 0.05)      # the AE's grey pixels: targets in [0.1, 0.9], >= 0.05 from 1/2
AE_IMAGES = 16
FIT = {"steps": 3000, "lr0": 0.3, "lr_end": 1e-4}
#: Locations fitted in (B), full and quick run (evenly spaced among the eligible ones).
MAX_LOCATIONS = {False: 60, True: 20}
MIN_LEVELS, MIN_LOCATIONS, MIN_GREY = 2, 5, 100
COST = 1.5
OBSERVATIONS = {
    "E1.grey_levels": "count", "E1.locations": "count", "E1.mean_minus_median": "intensity",
    "E1.focal_bias_mean_abs": "intensity", "E1.focal_pull_predicted": "intensity",
    "E1.final_gradient_max": "logit gradient",
    **{f"E1.ae_{q}[{n}]": "intensity" for q in ("directional_bias", "argmin_bias",
                                                "newton_distance") for n in AE_LOSSES}}
IDS = ([f"E1.point.{n}" for n in (*SPEC_LOSSES, "others", "cb_mean", "focal_direction")]
       + [f"E1.noisy.{n}" for n, _ in NOISY_LOSSES] + [f"E1.ae.{n}" for n in AE_LOSSES])


def fit_free_logits(loss, targets, weights, z0, *, steps, lr0, lr_end):
    """Adam (betas 0.9, 0.99, rate decaying from ``lr0`` to ``lr_end``) on free logits z_j
    minimizing sum_k w[j, k] L(t[j, k], sigmoid(z_j)) by ``grad_logit``: (z, final max |grad|)."""
    loss, z = get_loss(loss), np.array(z0, dtype=np.float64)
    t, w = np.asarray(targets, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    opt, grad = Adam({"z": z}, lr=lr0, betas=(0.9, 0.99)), np.zeros_like(z)
    decay = (lr_end / lr0) ** (1.0 / max(steps - 1, 1))
    with np.errstate(over="ignore", under="ignore"):
        for k in range(steps):
            opt.lr = lr0 * decay ** k
            np.sum(loss.grad_logit(t, z[:, None], check=False) * w, axis=1, out=grad)
            opt.step({"z": grad})
        g = np.sum(loss.grad_logit(t, z[:, None], check=False) * w, axis=1)
    return z, float(np.max(np.abs(g), initial=0.0))


def grey_levels(x) -> np.ndarray:
    """The 8-bit levels k/255 in INTERIOR that occur in ``x``."""
    y = np.unique(np.rint(np.asarray(x) * 255).astype(np.int64)) / 255.0
    return y[(y >= LO) & (y <= HI)]


def locations(x, cap=None) -> np.ndarray:
    """The 8-bit histograms (n, 256), as weights, of the locations of ``x`` whose mean and
    (unique) median lie in INTERIOR, at most ``cap`` of them evenly spaced."""
    codes = np.rint(np.asarray(x) * 255).astype(np.int64)
    w = np.stack([np.bincount(c, minlength=256) for c in codes.T]) / len(codes)
    mean, cum = w @ (np.arange(256) / 255.0), np.cumsum(w, axis=1)
    lower = np.argmax(cum >= 0.5 - 1e-12, axis=1) / 255.0
    upper = np.argmax(cum > 0.5 + 1e-12, axis=1) / 255.0
    sel = np.flatnonzero((mean >= LO) & (mean <= HI) & (lower >= LO) & (lower <= HI)
                         & (lower == upper))
    return w[sel[np.linspace(0, sel.size - 1, min(cap or sel.size, sel.size)).round()
                 .astype(int)]]


def directional_bias(y, p, ref=None) -> float:
    """Mean sign(y - 1/2)(p - ref), ref = y by default: > 0 away from 1/2 (NaN for no pixels)."""
    y = np.asarray(y, dtype=np.float64)
    d = np.sign(y - 0.5) * (np.asarray(p, dtype=np.float64) - (y if ref is None else ref))
    return float(d.mean()) if d.size else float("nan")


def grey_mask(y) -> np.ndarray:
    return (y >= AE_GREY[0]) & (y <= AE_GREY[1]) & (np.abs(y - 0.5) >= AE_GREY[2])


def newton_distance(loss, y, z) -> np.ndarray:
    """How far each sigmoid(z) would still move if free: the Newton step |g|/h in the logit
    times p(1 - p), capped at max(p, 1 - p) (also where h <= 0)."""
    loss, p = get_loss(loss), sigmoid(np.asarray(z, dtype=np.float64))
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        g, h = loss.grad_logit(y, z, check=False), loss.curvature_logit(y, z, check=False)
        d = np.where(h > 0, p * (1 - p) * np.abs(g) / np.where(h > 0, h, 1.0), 1.0)
    return np.where(g == 0, 0.0, np.minimum(d, np.maximum(p, 1 - p)))


def _premises(data) -> dict:
    """Why each part is not applicable to ``data`` (no key where its premise holds)."""
    x, why = data.train, {}
    if grey_levels(x).size < MIN_LEVELS:
        why["points"] = f"fewer than {MIN_LEVELS} grey levels in [{LO}, {HI}]"
    if len(locations(x)) < MIN_LOCATIONS:
        why["locations"] = (f"fewer than {MIN_LOCATIONS} locations with mean and median in "
                            f"[{LO}, {HI}]")
    if AE_IMAGES * data.D * np.mean(grey_mask(x)) < MIN_GREY:
        why["overfit"] = f"fewer than {MIN_GREY} grey pixels expected in {AE_IMAGES} images"
    return why


def train_free(x, s, seed) -> dict:
    """(A) at the grey levels of ``x``, every loss; with ``s["cap"]`` (B) at its locations."""
    cap, s = s.get("cap"), {k: s[k] for k in FIT}
    t = np.arange(256)[None, :] / 255.0 if cap else grey_levels(x)[:, None]
    w = locations(x, cap) if cap else np.ones_like(t)
    z0 = rng(seed, LABEL, "start", "locations" if cap else "levels").normal(0.0, 2.0, len(w))
    fits = {n: fit_free_logits(n, t, w, z0, **s) for n in
            ([n for n, _ in NOISY_LOSSES] if cap else LOSSES)}
    return {"t": t, "w": w, "z": {n: f[0] for n, f in fits.items()},
            "gmax": max(f[1] for n, f in fits.items() if get_loss(n).smooth)}


def train_overfit(x, s, seed) -> dict:
    out = {n: AE(s["sizes"], loss=n, seed=entropy(seed, LABEL, "overfit")) for n in AE_LOSSES}
    for model in out.values():
        opt = Adam(model.params, lr=s["lr"])
        with np.errstate(over="ignore", under="ignore"):
            for _ in range(s["steps"]):
                opt.step(model.loss_and_grads(x)[1])
    return out


def networks(data, quick) -> dict:
    h, fit = min(128, max(32, data.D // 6)) // (2 if quick else 1), dict(FIT)
    ae = {"sizes": (data.D, h, 16 if quick else 32), "steps": 400 if quick else 1000,
          "lr": 5e-3 if quick else 3e-3}
    fit["steps"] //= 3 if quick else 1        # a quick run is a smoke test: not judged
    nets = {"points": Network("e1_points", train_free, fit, 60000, cost=fit["steps"] / 1000),
            "locations": Network("e1_locations", train_free, {**fit, "cap": MAX_LOCATIONS[
                quick]}, 60000, cost=MAX_LOCATIONS[quick] / 40),
            "overfit": Network("e1_overfit", train_overfit, ae, AE_IMAGES, "clipped",
                               cost=ae["steps"] * h / 30000)}
    return {k: net for k, net in nets.items() if k not in _premises(data)}


def predictions(data) -> list:
    na, off = _premises(data), grey_levels(data.train)     # 8-bit levels: none is 1/2
    near = np.abs(np.asarray(analysis.argmin("focal", off), dtype=float) - 0.5) < np.abs(off - .5)
    fits = [(f"E1.point.{n}", f"free outputs fitted with {n} converge to argmin({n}, y) at every "
             "grey level", f"max over the grey levels of |sigmoid(z) - argmin({n}, y)|",
             "analysis.argmin", "points") for n in SPEC_LOSSES]
    fits += [("E1.point.others", "the same for " + ", ".join(OTHER_LOSSES), "max over those "
              "losses and the grey levels of |p - argmin(loss, y)|", "analysis.argmin", "points"),
             ("E1.point.cb_mean", "the continuous Bernoulli's mean mu(lambda) of the fitted "
              "output equals the target", "max over the grey levels of |mu(lambda) - y|",
              "analysis.is_proper (CB mean = target)", "points")]
    fits += [(f"E1.noisy.{n}", f"one output fitted to all training targets of a pixel location "
              f"with {n} converges to their {kind}", "max over locations of "
              f"|p - optimal_prediction({n}, targets)|", "analysis.optimal_prediction", "locations")
             for n, kind in NOISY_LOSSES]
    why = "the fit runs the catalogue's grad_logit to the minimizer the same catalogue defines"
    out = [Prediction(pid, st, q, 0.0, "numeric", kind=CONSISTENCY, reason=why, source=src +
                      "; precision: Adam's final step lr_end times |dp/dz| (docstring)",
                      precision=FIT["lr_end"], applicable=na.get(part, ""))
           for pid, st, q, src, part in fits]
    out.insert(8, Prediction(
        "E1.point.focal_direction", "focal's fitted outputs lie nearer 1/2 than their targets",
        "share of grey levels y != 1/2 with |p - 1/2| < |y - 1/2|", float(near.mean()) if
        off.size else 0.0, "numeric", kind=CONSISTENCY, reason=why, source="sign of analysis."
        "bias('focal', y); precision: half of one level's share", precision=0.5 / max(off.size, 1),
        applicable=na.get("points", "")))
    return out + [Prediction(
        f"E1.ae.{n}", f"an AE overfitting {AE_IMAGES} images (clipped into [{LO}, {HI}]) with {n} "
        f"sits where argmin({n}, y) is", "mean over the batch's grey pixels of sign(y - 1/2)"
        "(p - argmin(y)) (p = sigmoid(z); lambda for CB)", 0.0, "intensity", kind=FALSIFIABLE,
        reason="the AE's outputs share weights: nothing forces each pixel onto its free-output "
        "minimizer", source="analysis.argmin at each pixel's target",
        applicable=na.get("overfit", "")) for n in AE_LOSSES]


def measure(nets, data) -> dict:
    out = dict.fromkeys([*IDS, *OBSERVATIONS], float("nan"))
    for name, part in (("points", _points), ("locations", _locations), ("overfit", _overfit)):
        if name in nets and len(nets[name].get("w", "any")):     # a subset may lack them all
            out.update(part(nets[name], data))
    return out


def _points(fit, data) -> dict:
    y, out, err = fit["t"][:, 0], {}, {}
    for n in LOSSES:
        p, a = sigmoid(fit["z"][n]), np.asarray(analysis.argmin(n, y), dtype=float)
        err[n], out[f"_point_fit[{n}]"], out[f"_argmin[{n}]"] = float(np.max(np.abs(p - a))), p, a
    mu, off = continuous_bernoulli_mean_logit(fit["z"]["continuous_bernoulli"]), y != 0.5
    near = np.abs(sigmoid(fit["z"]["focal"])[off] - 0.5) < np.abs(y[off] - 0.5)
    return {**out, **{f"E1.point.{n}": err[n] for n in SPEC_LOSSES}, "_levels": y,
            "E1.point.others": max(err[n] for n in OTHER_LOSSES),
            "E1.point.cb_mean": float(np.max(np.abs(mu - y))),
            "E1.point.focal_direction": float(np.mean(near)),
            "E1.grey_levels": float(y.size), "E1.final_gradient_max": fit["gmax"],
            "E1.focal_bias_mean_abs": float(np.mean(np.abs(out["_argmin[focal]"] - y)))}


def _locations(fit, data) -> dict:
    grid, w, out = np.arange(256) / 255.0, fit["w"], {"E1.locations": float(len(fit["w"]))}
    for n, _ in NOISY_LOSSES:
        best = np.array([analysis.optimal_prediction(n, grid, wj) for wj in w])
        p = out[f"_loc_fit[{n}]"] = sigmoid(fit["z"][n])
        out[f"E1.noisy.{n}"], out[f"_optimal[{n}]"] = float(np.max(np.abs(p - best))), best
    gap = np.abs(out["_optimal[mae]"] - out["_optimal[mse]"])
    return {**out, "E1.mean_minus_median": float(np.mean(gap))}


def _overfit(models, data) -> dict:
    x, out = data.train(AE_IMAGES, "clipped"), {}
    y, grey = x.astype(np.float64), grey_mask(x)
    for n in AE_LOSSES:
        z = models[n].logits(x).astype(np.float64)[grey]
        p, a = sigmoid(z), np.asarray(analysis.argmin(n, y[grey]), dtype=float)
        out[f"E1.ae.{n}"] = directional_bias(y[grey], p, a)
        out[f"E1.ae_directional_bias[{n}]"] = directional_bias(y[grey], p)
        out[f"E1.ae_argmin_bias[{n}]"] = directional_bias(y[grey], a)
        out[f"E1.ae_newton_distance[{n}]"] = float(np.mean(newton_distance(n, y[grey], z))
                                                   if z.size else np.nan)
    return {**out, "E1.focal_pull_predicted": abs(out["E1.ae_argmin_bias[focal]"])}


@plotting.style()
def figure(result):
    """(a) argmin - y and the fits at the grey levels; (b) one output per location against its
    mean; (c) the AEs' directional bias, one marker per seed, against argmin's +- tolerance."""
    fig, subs, (ax_a, ax_b, ax_c) = plotting.panels(3, columns=2, height=3.2)
    first, dot = result.per_seed[0], dict(ms=2.6, mfc="none", mew=0.6, ls="none")
    y, m = first.get("_levels", np.zeros(0)), first.get("_optimal[mse]", np.zeros(0))
    on = [n for n in LOSSES if y.size and np.allclose(first[f"_argmin[{n}]"], y, atol=1e-9)]
    group = textwrap.fill("argmin = y: " + ", ".join(plotting.display_name(n) for n in on), 34)
    for n in LOSSES if y.size else ():
        c, k = "black" if n in on else plotting.color(n), max(1, y.size // 24)
        ax_a.plot(y, first[f"_argmin[{n}]"] - y, color=c, ls=plotting.linestyle(n), label=(
            plotting.display_name(n) if n not in on else group if n == on[0] else None))
        ax_a.plot(y[::k], (first[f"_point_fit[{n}]"] - y)[::k], "o", color=c, **dot)
    plotting.mark_reference(ax_b.plot(m, m, color="0.6", lw=0.6, label="p = mean")[0])
    for (n, kind), mk in zip(NOISY_LOSSES if m.size else (), ("o", "+", "^")):
        ax_b.plot(m, first[f"_loc_fit[{n}]"], mk, color=plotting.color(n),
                  label=f"{plotting.display_name(n)} (the {kind})", **dot)
    for i, n in enumerate(AE_LOSSES):
        ref = result.observations[f"E1.ae_argmin_bias[{n}]"].mean
        tol = np.nan_to_num(result.row(f"E1.ae.{n}").prediction.tolerance)
        ax_c.fill_between([i - 0.3, i + 0.3], ref - tol, ref + tol, color="0.8", lw=0,
                          label="argmin's ± tolerance" if i == 0 else None)
        v = result.observations[f"E1.ae_directional_bias[{n}]"].values
        ax_c.plot(np.full(len(v), i), v, "o", color=plotting.color(n),
                  label="AE, one per seed" if i == 0 else None, **dot)
    plotting.guides(ax_c, y=[0])
    ax_c.set_xticks(range(4), [plotting.display_name(n) for n in AE_LOSSES[:3]] + ["CB λ"])
    ax_c.set_xlim(-0.6, len(AE_LOSSES) - 0.4)
    for ax, x_q, y_q, head in (
            (ax_a, "target y", "minimizer − y", "(a) point targets: lines argmin, markers fit"),
            (ax_b, "location's mean target", "fitted output p", "(b) one output per "
             "pixel location"), (ax_c, "", "sign(y − ½)(p − y), mean", "(c) overfitting AE")):
        ax.set(xlabel=x_q and plotting.axis_label(x_q, "intensity"), title=head,
               ylabel=plotting.axis_label(y_q, "intensity"))
    for sub in subs:
        plotting.panel_legend(sub, max_columns=1)
    title(fig, LABEL, result.data.name, "minimizers found by training vs the analysis",
          f"a, b: {seeds_note(result.seeds[:1])}; c: {seeds_note(result.seeds)}")
    return fig


FINDINGS = (
    Finding("One output per pixel location ends {row:E1.noisy.mse} from its targets' mean "
            "under MSE and {row:E1.noisy.mae} from their median under MAE; mean and median "
            "differ by {obs:E1.mean_minus_median:.3f} on average: what separates a blurry "
            "average from a hard median edge."),
    Finding("The overfitting AEs' mean sign(y − ½)(p − y), argmin's in brackets: focal "
            "{obs:E1.ae_directional_bias[focal]:+.4f} ({obs:E1.ae_argmin_bias[focal]:+.4f}; "
            "{verdict:E1.ae.focal}), CB λ {obs:E1.ae_directional_bias[continuous_bernoulli]:"
            "+.4f} ({obs:E1.ae_argmin_bias[continuous_bernoulli]:+.4f}; "
            "{verdict:E1.ae.continuous_bernoulli}).  Their outputs' mean Newton step still to "
            "go, {obs:E1.ae_newton_distance[focal]:.1e} and "
            "{obs:E1.ae_newton_distance[continuous_bernoulli]:.1e}, tells an unfinished fit "
            "(a step above the tolerance) from a wrong minimizer."),
)
