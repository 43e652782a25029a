"""E2 -- saturated sigmoid outputs: how much slower sigmoid + MSE starts than sigmoid + BCE.

The analysis (:func:`lossanalysis.analysis.logit_gradient`): with p = sigmoid(z) the logit
gradient of BCE is p - y (the canonical link) and that of MSE is 2 (p - y) p (1 - p).  Their
ratio, 1 / (2 p (1 - p)), does not depend on the target: an output that starts saturated and
wrong (z = -6 on a pixel whose target is 1) receives 202 times less gradient under MSE.  Over a
whole escape the slowdown is an integral of that ratio along the path.

Measurement, with plain SGD (no momentum) so that the step is the gradient times a constant:

(A) Free per-pixel outputs (:class:`lossanalysis.nn.BiasOnly`, initial logit -6) fitted to one
    training image (stream ``e2.image``).  Predicted: the number of steps for the mean logit of
    the ink pixels (target >= 0.9) to reach 0 is T = (1/eta) int_{-6}^{0} dz / |dL/dz| per
    loss, so the MSE/BCE ratio of step counts is the ratio of the two integrals at y = 1
    (``scipy.integrate.quad`` on the catalogue's ``grad_logit``).
(B) An autoencoder whose last layer starts at W = 0 and b = -6 (every output exactly
    sigmoid(-6)), trained on minibatches of the training set with the same data order for both
    losses (stream ``e2.order``).  (B1) After the first step every output logit has moved by the
    same linear map of the output gradients for both losses, and those gradients differ by the
    constant factor 2 p (1 - p), so the first-step change of the ink logits is 202.4 times
    smaller for MSE.  (B2) The network's feature learning accelerates the escape for both
    losses; the prediction for the whole escape assumes that MSE follows BCE's path with time
    dilated by the gradient ratio: T_MSE = sum over BCE's steps of
    sum_ink |dBCE/dz| / sum_ink |dMSE/dz| evaluated on BCE's outputs at that step.  (B3) With
    Adam the first update of each parameter is lr * g/|g| (Kingma & Ba 2015, Algorithm 1, at
    t = 1), the same for both losses: the initial slowdown is predicted to vanish.

(A), (B1) and (B3) are consistency checks (the gradient arithmetic and Adam's scale invariance
hold by construction); (B2) is falsifiable.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad

from .. import analysis, plotting
from ..losses import get_loss
from ..nn import AE, SGD, Adam, BiasOnly
from .core import (CONSISTENCY, FALSIFIABLE, REFUTED, Measured, Observation, Prediction, Task,
                   experiment_settings, frozen, prediction_table, stated, stream, stream_entropy)
from .figures import legend_below, seeds_note, title

__all__ = ["LABEL", "NAME", "REVISIONS", "settings", "prepare", "tasks", "measure", "figure",
           "text", "integral_ratio", "first_step_ratio", "Z0", "INK"]

LABEL = "E2"
NAME = "E2 Saturation"
REVISIONS = ()
#: The initial output logit (saturated: sigmoid(-6) = 0.0025).
Z0 = -6.0
#: Ink pixels: targets at least this bright ("pixels whose target is 1", up to 8-bit levels).
INK = 0.9
#: Thresholds: the free outputs must reach p = 1/2; the AE's mean ink logit must reach
#: logit(0.1) (reached by both losses in the escape phase, before the AE's reconstruction
#: plateaus).
Z_FREE = 0.0
Z_AE = math.log(0.1 / 0.9)


def settings(cfg) -> dict:
    """Sizes of a run: full or quick, overridden by ``cfg.extra["settings"]["E2"]``.

    ``lr_sgd`` = 1e-3 is the usual rate at which BCE is stable from this start (plain SGD at 1e-2
    diverges in BCE's first steps, where its gradients are large); both losses use it."""
    return experiment_settings(
        cfg, LABEL, dict(eta_free=0.05, ae_sizes=(784, 64, 16), batch=32, lr_sgd=1e-3,
                         lr_adam=1e-3, n_eval=128, n_train=10000, max_steps=20000,
                         eval_every_slow=10),
        dict(n_eval=64, n_train=2000, batch=16))


def integral_ratio(y=1.0, z0=Z0, z1=Z_FREE, slow="mse", fast="bce") -> float:
    """int_{z0}^{z1} dz/|dL_slow/dz| over the same for ``fast``: the ratio of gradient-flow
    times of one logit with target ``y`` (from the catalogue via analysis.logit_gradient).

    >>> round(integral_ratio(), 1)
    30.3
    """
    def t(loss):
        return quad(lambda z: 1.0 / abs(float(analysis.logit_gradient(loss, y, z))), z0, z1,
                    limit=200)[0]
    return t(slow) / t(fast)


def first_step_ratio(z0=Z0) -> float:
    """|dBCE/dz| / |dMSE/dz| at the initial logit: 1/(2 p (1 - p)), any target.

    >>> round(first_step_ratio(), 1)
    202.7
    """
    return float(abs(analysis.logit_gradient("bce", 1.0, z0))
                 / abs(analysis.logit_gradient("mse", 1.0, z0)))


def _crossing(steps, values, threshold):
    """First (linearly interpolated) step at which ``values`` reaches ``threshold``; NaN if
    never."""
    v = np.asarray(values)
    i = np.flatnonzero(v >= threshold)
    if i.size == 0:
        return math.nan
    i = int(i[0])
    if i == 0:
        return float(steps[0])
    s0, s1, v0, v1 = steps[i - 1], steps[i], v[i - 1], v[i]
    return float(s0 + (threshold - v0) / (v1 - v0) * (s1 - s0))


# ----------------------------------------------------------------------------------------------
# Predictions
# ----------------------------------------------------------------------------------------------
def prepare(cfg, data) -> dict:
    """E2's predictions (from the logit gradients alone) and the evaluation images."""
    s = settings(cfg)
    ratio_free = integral_ratio(1.0, Z0, Z_FREE)
    spread = abs(integral_ratio(INK, Z0, Z_FREE) / ratio_free - 1)
    first = first_step_ratio(Z0)
    P = {
        "free": Prediction(
            "E2.free.slowdown", LABEL,
            "free sigmoid outputs started at z = -6 on ink pixels: MSE needs "
            f"{ratio_free:.1f}x the SGD steps of BCE to reach p = 1/2",
            "log10(steps_MSE / steps_BCE) for the mean ink logit to reach 0",
            math.log10(ratio_free), math.log10(1.05), "equal", CONSISTENCY,
            "free logits under SGD follow the catalogue gradient exactly; the integral of the "
            "same gradient predicts the step count up to Euler steps and the targets' spread",
            "ratio of int dz/|dL/dz| from -6 to 0 at y = 1 (analysis.logit_gradient, quad); "
            f"tolerance log10(1.05): the targets' spread over [{INK}, 1] moves the ratio by "
            f"{100 * spread:.1f}%, Euler steps of eta = {s['eta_free']} and integer step "
            "counts add < 1%"),
        "first_sgd": Prediction(
            "E2.ae.first_step.sgd", LABEL,
            f"AE, plain SGD: the first step moves the ink logits {first:.1f}x less under MSE",
            "mean ink-logit change of the first step, BCE / MSE", first, 0.01 * first, "equal",
            CONSISTENCY,
            "gradient arithmetic: at the common start every output gradient differs by the "
            "constant factor 2p(1 - p), and an SGD step is linear in them",
            "1/(2 p (1 - p)) at p = sigmoid(-6) (analysis.logit_gradient); tolerance 1%: "
            "float32 rounding of logits near -6 (ulp 4.8e-7) against changes >= 1e-5"),
        "escape": Prediction(
            "E2.ae.escape.sgd", LABEL,
            "AE, plain SGD: MSE needs as many steps to bring the mean ink logit to logit(0.1) "
            "as BCE's path takes, each BCE step dilated by the gradient ratio at its state",
            "log10(steps_MSE measured / steps_MSE predicted)", 0.0, math.log10(2.0), "equal",
            FALSIFIABLE,
            "MSE need not follow BCE's path: its gradient weights pixels differently and the "
            "network may learn other features on the way",
            "sum over BCE's steps of sum|dBCE/dz| / sum|dMSE/dz| on the ink pixels (catalogue "
            "grad_logit on the BCE run's logits); tolerance a factor 2: the path argument "
            "treats the ink logits as one, and a spread of about one logit unit among them "
            "changes the mean dilation by e^(s^2/2) ~ 1.6-2"),
        "first_adam": Prediction(
            "E2.ae.first_step.adam", LABEL,
            "AE, Adam: the first step moves the ink logits equally for both losses",
            "mean ink-logit change of the first step, BCE / MSE", 1.0, 0.01, "equal",
            CONSISTENCY,
            "Adam's scale invariance: its first update lr g/(|g| + eps) does not depend on the "
            "gradient's scale, by construction",
            "Adam's first update is lr g/(|g| + eps) per parameter; tolerance 1%: eps = 1e-8 "
            "against gradients >= 1e-6"),
    }
    P = {k: stated(cfg, v) for k, v in P.items()}
    return {"settings": s, "P": P, "predictions": list(P.values()),
            "first_step_ratio": first, "linear_path_ratio": integral_ratio(1.0, Z0, Z_AE)}


# ----------------------------------------------------------------------------------------------
# Measure
# ----------------------------------------------------------------------------------------------
def _free_run(loss, x_img, eta, max_steps):
    """Plain SGD on per-pixel logits (BiasOnly) from Z0 toward one image; returns the step at
    which the mean ink logit reaches Z_FREE (interpolated) and the trajectory."""
    model = BiasOnly(x_img.shape[1], loss=loss, init=Z0, dtype=np.float64)
    opt = SGD(model.params, lr=eta, momentum=0.0)
    ink = x_img[0] >= INK
    traj = [float(model.params["out.b"][ink].mean())]
    for _ in range(max_steps):
        _, g = model.loss_and_grads(x_img)
        opt.step(g)
        traj.append(float(model.params["out.b"][ink].mean()))
        if traj[-1] >= Z_FREE:
            break
    return _crossing(np.arange(len(traj)), traj, Z_FREE), np.array(traj)


def _ae(loss, seed, s):
    model = AE(s["ae_sizes"], loss=loss, seed=stream_entropy("net.init", seed))
    last = len(model.decoder.dense) - 1
    model.params[f"dec.{last}.W"][...] = 0.0
    model.params[f"dec.{last}.b"][...] = Z0
    return model


def _ae_run(loss, opt_name, x, x_eval, ink, seed, s, *, stop_at=None, every=1):
    """Train until the mean ink logit of ``x_eval`` reaches Z_AE (or max_steps).  Returns
    (crossing step, steps, mean ink logits, ink logits per step (only while every == 1))."""
    model = _ae(loss, seed, s)
    lr = s["lr_sgd"] if opt_name == "sgd" else s["lr_adam"]
    opt = SGD(model.params, lr=lr, momentum=0.0) if opt_name == "sgd" else Adam(model.params, lr=lr)
    order = stream("e2.order", seed).permutation(len(x))
    b = s["batch"]
    steps, means, full = [], [], []
    limit = s["max_steps"] if stop_at is None else stop_at
    with np.errstate(over="ignore", under="ignore"):
        for t in range(limit + 1):
            if t % every == 0 or t == limit:
                z = model.logits(x_eval)[ink].astype(np.float64)
                steps.append(t)
                means.append(float(z.mean()))
                if every == 1:
                    full.append(z)
                if stop_at is None and means[-1] >= Z_AE:
                    break
            if t == limit:
                break
            i = (t * b) % (len(x) - b + 1)
            _, g = model.loss_and_grads(x[order[i:i + b]])
            opt.step(g)
    return _crossing(steps, means, Z_AE), np.array(steps), np.array(means), full


def _dilation(z_ink, y_ink):
    """sum_ink |dBCE/dz| / sum_ink |dMSE/dz| at the logits ``z_ink`` (the catalogue's
    grad_logit): how many MSE steps one BCE step is worth at this state."""
    gb = np.abs(get_loss("bce").grad_logit(y_ink, z_ink, check=False)).sum()
    gm = np.abs(get_loss("mse").grad_logit(y_ink, z_ink, check=False)).sum()
    return float(gb / gm)


def _measure_seed(ref, s, seed, *, deps=None) -> dict:
    """Everything E2 measures for one seed (task function)."""
    from .core import dataset
    data = dataset(ref)
    x = np.ascontiguousarray(data.x_train[:s["n_train"]])
    x_eval = np.ascontiguousarray(data.x_train[-s["n_eval"]:])
    ink = x_eval >= INK
    y_ink = x_eval[ink].astype(np.float64)
    candidates = np.flatnonzero((data.x_train >= INK).sum(axis=1) >= 20)
    img = data.x_train[candidates[stream("e2.image", seed).integers(candidates.size)]]
    x_img = img[None, :].astype(np.float64)
    t_free, traj_free = {}, {}
    for loss in ("mse", "bce"):
        t_free[loss], traj_free[loss] = _free_run(loss, x_img, s["eta_free"], s["max_steps"])
    first = {}
    for opt_name in ("sgd", "adam"):
        d = {}
        for loss in ("mse", "bce"):
            _, _, m, _ = _ae_run(loss, opt_name, x, x_eval, ink, seed, s, stop_at=1)
            d[loss] = m[1] - m[0]
        first[opt_name] = d["bce"] / d["mse"]
    tb, st_b, m_b, full_b = _ae_run("bce", "sgd", x, x_eval, ink, seed, s)
    if math.isfinite(tb):
        n_full = int(math.floor(tb))
        dil = [_dilation(full_b[k], y_ink) for k in range(n_full + 1)]
        t_pred = float(sum(dil[:n_full]) + (tb - n_full) * dil[n_full])
    else:                                   # BCE never reached the threshold
        dil, t_pred = [_dilation(full_b[0], y_ink)], math.nan
    tm, st_m, m_m, _ = _ae_run("mse", "sgd", x, x_eval, ink, seed, s, every=s["eval_every_slow"])
    ta, st_a, m_a, _ = _ae_run("bce", "adam", x, x_eval, ink, seed, s)
    tam, st_am, m_am, _ = _ae_run("mse", "adam", x, x_eval, ink, seed, s)
    return {"free_ratio": math.log10(t_free["mse"] / t_free["bce"]),
            "first_sgd": first["sgd"], "first_adam": first["adam"],
            "escape": math.log10(tm / t_pred) if math.isfinite(tm / t_pred) else math.nan,
            "sgd_ratio": tm / tb, "adam_ratio": tam / ta, "ink_pixels": int(ink.sum()),
            "crossings": {"bce_sgd": tb, "mse_sgd": tm, "mse_sgd_predicted": t_pred,
                          "bce_adam": ta, "mse_adam": tam, "free_bce": t_free["bce"],
                          "free_mse": t_free["mse"]},
            "traj_free": traj_free,
            "traj_ae": {"bce_sgd": (st_b, m_b), "mse_sgd": (st_m, m_m), "bce_adam": (st_a, m_a),
                        "mse_adam": (st_am, m_am), "predicted": np.cumsum([0.0] + dil)}}


def tasks(cfg, prep, seeds) -> list:
    s = prep["settings"]
    return [Task(("E2", cfg.dataset, frozen(s), int(seed)), _measure_seed, (cfg.data, s, seed),
                 cost=s["n_train"] / 770.0, label=f"{cfg.dataset} E2 seed {seed}")
            for seed in seeds]


def measure(cfg, prep, seeds, done) -> Measured:
    s = prep["settings"]
    per = [done[("E2", cfg.dataset, frozen(s), int(seed))] for seed in seeds]
    seeds = tuple(seeds)
    values = {"E2.free.slowdown": [d["free_ratio"] for d in per],
              "E2.ae.first_step.sgd": [d["first_sgd"] for d in per],
              "E2.ae.escape.sgd": [d["escape"] for d in per],
              "E2.ae.first_step.adam": [d["first_adam"] for d in per]}
    notes = {"E2.free.slowdown": "ratio " + ", ".join(f"{10 ** d['free_ratio']:.2f}" for d in per),
             "E2.ae.escape.sgd": "MSE/BCE step ratio " + ", ".join(f"{d['sgd_ratio']:.0f}"
                                                                  for d in per)}
    obs = {"E2.sgd_slowdown": Observation(tuple(d["sgd_ratio"] for d in per), seeds, "ratio"),
           "E2.adam_slowdown": Observation(tuple(d["adam_ratio"] for d in per), seeds, "ratio"),
           "E2.free_slowdown": Observation(tuple(10 ** d["free_ratio"] for d in per), seeds,
                                           "ratio"),
           "E2.first_step_ratio_predicted": Observation((prep["first_step_ratio"],), (), "ratio"),
           "E2.linear_path_ratio_predicted": Observation((prep["linear_path_ratio"],), (),
                                                         "ratio")}
    for k in ("bce_sgd", "mse_sgd", "mse_sgd_predicted", "bce_adam", "mse_adam"):
        obs[f"E2.steps[{k}]"] = Observation(tuple(d["crossings"][k] for d in per), seeds,
                                            "steps")
    extra = {"crossings": [d["crossings"] for d in per], "traj_free": per[0]["traj_free"],
             "traj_ae": per[0]["traj_ae"], "ink_pixels": per[0]["ink_pixels"]}
    return Measured(values, seeds, notes, obs, extra)


# ----------------------------------------------------------------------------------------------
# Figure
# ----------------------------------------------------------------------------------------------
@plotting.style()
def figure(cfg, prep, measured):
    """(a) free outputs with the gradient flow; (b) the AE with SGD; (c) with Adam.

    Steps on a log axis from step 1 (every run starts at z = Z0 at step 0); one legend below
    the three panels."""
    s = prep["settings"]
    traj_free, traj_ae = measured.extra["traj_free"], measured.extra["traj_ae"]
    fig, (ax_f, ax_s, ax_a) = plotting.figure(1, 3, columns=2, height=2.8)
    predicted = dict(color="black", lw=0.8, ls=(0, (1, 1.2)), zorder=3)
    eta = s["eta_free"]
    for loss in ("mse", "bce"):
        tr = traj_free[loss]
        ax_f.plot(np.arange(1, tr.size), tr[1:], color=plotting.color(loss),
                  ls=plotting.linestyle(loss))
        # the predicted gradient flow of one logit at y = 1
        zs = np.linspace(Z0, Z_FREE, 200)
        g = np.array([1 / abs(float(analysis.logit_gradient(loss, 1.0, z))) for z in zs])
        t = np.concatenate([[0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(zs))]) / eta
        ax_f.plot(t[t >= 1], zs[t >= 1], **predicted)
    plotting.guides(ax_f, y=[Z_FREE])
    ax_f.set_xlabel(plotting.axis_label("SGD step", "step"))
    ax_f.set_title(f"(a) free outputs, SGD η = {eta:g}")
    for ax, opt_name, title_ in ((ax_s, "sgd", "(b) AE, plain SGD"),
                                 (ax_a, "adam", "(c) AE, Adam")):
        for loss in ("mse", "bce"):
            st, m = traj_ae[f"{loss}_{opt_name}"]
            ax.plot(st[st >= 1], m[st >= 1], color=plotting.color(loss),
                    ls=plotting.linestyle(loss))
        if opt_name == "sgd":
            _, m_b = traj_ae["bce_sgd"]
            tp = traj_ae["predicted"][:m_b.size]
            ax.plot(tp[tp >= 1], m_b[:tp.size][tp >= 1], **predicted)
        plotting.guides(ax, y=[Z_AE])
        ax.set_xlabel(plotting.axis_label("training step", "step"))
        ax.set_title(title_ + f", lr {s['lr_' + opt_name]:g}")
    for ax in (ax_f, ax_s, ax_a):
        _step_axis(ax)
        ax.set_ylabel(plotting.axis_label("mean ink logit z", "logit"))
    legend_below(fig, [(plotting.display_name(n), dict(color=plotting.color(n),
                                                       ls=plotting.linestyle(n)))
                       for n in ("mse", "bce")]
                 + [("predicted: (a) gradient flow at y = 1; (b) MSE from BCE's path, dilated",
                     predicted),
                    ("escape threshold: (a) z = 0 (p = ½); (b, c) z = logit(0.1) = "
                     f"{Z_AE:.1f}".replace("-", "−"), dict(color="0.6", lw=0.5))])
    title(fig, LABEL, cfg.dataset, "outputs started saturated and wrong",
          f"z = {Z0:g} at step 0; {seeds_note(measured.seeds[:1])}".replace("-", "−"))
    return fig


def _step_axis(ax):
    """A log step axis from step 1, labelled with plain numbers (1, 2, 5, 10, ... when it
    spans less than two decades, else 1, 10, 100, ...)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter
    ax.set_xscale("log")
    ax.set_xlim(left=1)
    hi = ax.get_xlim()[1]
    steps = (1, 2, 5) if hi < 100 else (1,)
    ticks = [m * 10 ** k for k in range(int(math.log10(hi)) + 1) for m in steps
             if m * 10 ** k <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


# ----------------------------------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------------------------------
def text(cfg, prep, measured, rows) -> str:
    s, obs = prep["settings"], measured.observations
    by = {r.id: r for r in rows}
    sgd, adam = obs["E2.sgd_slowdown"].mean, obs["E2.adam_slowdown"].mean
    free = obs["E2.free_slowdown"].mean
    first, path = prep["first_step_ratio"], prep["linear_path_ratio"]
    lines = [
        f"### {NAME} ({cfg.dataset})", "",
        f"Setup: (A) one free logit per pixel (nn.BiasOnly) started at z = {Z0:g}, fitted by "
        f"plain SGD (η = {s['eta_free']:g}) to one training image per seed; ink pixels are those "
        f"with target ≥ {INK}.  (B) AE {'-'.join(map(str, s['ae_sizes']))}-...-784 (ReLU) with "
        f"its last layer started at W = 0, b = {Z0:g}, trained on the first {s['n_train']} "
        f"training images in batches of {s['batch']} (same order for both losses) with plain "
        f"SGD (lr {s['lr_sgd']:g}) and with Adam (lr {s['lr_adam']:g}); the threshold is the "
        f"mean logit of the ink pixels of {s['n_eval']} held-back training images reaching "
        f"logit(0.1) = {Z_AE:.2f}.  Seeds {', '.join(map(str, measured.seeds))}.", ""]
    lines += prediction_table(rows)
    lines += ["", "| seed | AE SGD steps: BCE | MSE | MSE predicted | Adam steps: BCE | MSE |",
              "|---|---|---|---|---|---|"]
    for seed, c in zip(measured.seeds, measured.extra["crossings"]):
        lines.append(f"| {seed} | {c['bce_sgd']:.1f} | {c['mse_sgd']:.0f} | "
                     f"{c['mse_sgd_predicted']:.0f} | {c['bce_adam']:.1f} | {c['mse_adam']:.1f} |")
    lo, hi = sorted((first, path))
    if lo < sgd < hi:
        where = (f"The AE's slowdown lies between the two because its BCE escape is not "
                 f"uniform: the logits sit near {Z0:g} while the features form, then rise "
                 "quickly.")
    elif sgd >= hi:
        where = "The AE's slowdown exceeds both: its escape is slower than either bound."
    else:
        where = "The AE's slowdown is below both: its features shorten the escape further."
    speed = (f"MSE is {sgd:.0f}x slower than BCE" if sgd > 1 else
             f"MSE is not slower than BCE ({sgd:.2f}x the steps)")
    lines += ["", "Findings:", "",
              f"* Plain SGD: {speed} to bring the AE's ink pixels out of saturation (free "
              f"outputs: {free:.1f}x the steps to p = 1/2).  The analysis: the first step alone "
              f"is {first:.0f}x slower; a single logit moving at constant BCE speed would see "
              f"{path:.0f}x on the way to logit(0.1).  " + where]
    if adam <= 1:
        lines.append(f"* Adam: MSE is not slower ({adam:.2f}x): Adam divides each parameter's "
                     "step by the root mean square of its own past gradients, so the factor "
                     "2p(1 − p) cancels.")
    elif adam < sgd:
        lines.append(
            f"* Adam: MSE is {adam:.2f}x slower, against {sgd:.0f}x with SGD.  Adam divides each "
            "parameter's step by the root mean square of its own past gradients, so a loss "
            "whose gradients are uniformly smaller gets the same steps: the factor 2p(1 − p) "
            "cancels as long as it is the same for every output a parameter feeds (exactly so "
            "at the first step).  It hides the effect only partly, because the factor differs "
            "between pixels and changes during training, and because the direction of the "
            "update still weights pixels by 2p(1 − p).")
    else:
        lines.append(f"* Adam: MSE is {adam:.2f}x slower, no less than with SGD ({sgd:.0f}x): "
                     "Adam's rescaling does not hide the effect here.")
    for key in ("E2.free.slowdown", "E2.ae.first_step.sgd", "E2.ae.first_step.adam"):
        r = by[key]
        if r.verdict == REFUTED:
            lines.append(f"* `{key}` is refuted (measured {r.mean:.4g}, predicted "
                         f"{r.prediction.value:.4g}).  What the analysis missed: the step is no "
                         "longer a fixed multiple of the catalogue gradient (e.g. float32 "
                         "rounding or a changed optimizer setting).")
    r = by["E2.ae.escape.sgd"]
    if r.verdict == REFUTED:
        lines.append(f"* `E2.ae.escape.sgd` is refuted: MSE's measured escape differs from the "
                     f"dilated BCE path by a factor {10 ** r.mean:.2f}.  What the analysis "
                     "missed: MSE does not follow BCE's path -- its gradient weights each pixel "
                     "by 2p(1 - p), so the pixels that leave saturation first dominate its "
                     "updates and the network learns different features on the way; the "
                     "dilation argument holds only while all ink logits move together.")
    elif math.isfinite(r.mean):
        lines.append(f"* `E2.ae.escape.sgd` ({r.verdict}): the measured MSE escape is within a "
                     f"factor {10 ** abs(r.mean):.2f} of BCE's path dilated by the gradient "
                     "ratio (mean over the seeds), against the factor 2 the prediction allows.")
    return "\n".join(lines) + "\n"
