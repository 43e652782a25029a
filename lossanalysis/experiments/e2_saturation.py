"""E2 -- saturated sigmoid outputs: how much slower sigmoid + MSE starts than sigmoid + BCE.

With p = sigmoid(z) the logit gradient of BCE is p - y (the canonical link), that of MSE
2 (p - y) p (1 - p) (:func:`lossanalysis.analysis.logit_gradient`): their ratio 1/(2p(1 - p))
does not depend on the target.  Measured with plain SGD (a step is the gradient times a
constant) on the seed's training subset, from logits started at :data:`Z0`:

* ``E2.free.slowdown``: free per-pixel logits (:class:`lossanalysis.nn.BiasOnly`) fitted to one
  image: MSE/BCE steps for the mean ink logit (targets >= :data:`INK`) to reach 0, predicted by
  the ratio of int dz/|dL/dz| from Z0 to 0 at y = 1 (:func:`integral_ratio`).
* ``E2.ae.first_step.sgd``: an AE whose last layer starts at W = 0, b = Z0: its first step
  changes only the last layer, linearly in output gradients that differ by the constant
  2p(1 - p), so the ink logits move 1/(2p(1 - p)) times less under MSE (on a float64 copy).
  ``E2.ae.first_step.adam``: Adam's first update lr g/(|g| + eps) (Kingma & Ba 2015, Alg. 1)
  does not depend on the gradient's scale: the ratio is 1.
* ``E2.ae.escape.sgd``: MSE's steps for the held-back images' mean ink logit to reach
  logit(0.1), over those of BCE's path with each step dilated by sum|dBCE/dz| / sum|dMSE/dz|
  over the ink pixels at its state (predicted 1).

The escape row is *falsifiable* (MSE need not follow BCE's path); the others are *consistency*
rows (the code follows the catalogue's gradient).  Step-count ratios: rule "ratio"; the first
steps: rule "numeric", float64 rounding (< 1e-12 relative) under the stated precision 1e-6
relative (SGD), eps = 1e-8 moving an update by < 1% for gradients >= 2e-4 (Adam, 0.01).  Not
applicable: the free row when under :data:`MIN_CANDIDATES` of the images have enough ink pixels,
the AE rows when the held-back images hold under :data:`.saturation.MIN_INK_PIXELS` ink pixels.
"""
import math

import numpy as np
from scipy.integrate import quad

from .. import analysis, plotting
from ..nn import AE, SGD, Adam, BiasOnly
from ..protocol import CONSISTENCY, FALSIFIABLE, Prediction
from .base import Finding, Network, rng
from .figures import legend_below, seeds_note, title
from .saturation import (AE_RUN, EVERY_SLOW, INK, LR, MAX_STEPS, Z0, Z_AE, ae_premise, ae_sizes,
                         crossing, dilation, escape_data, escape_path, first_step_ratio,
                         path_steps, saturated_ae)

LABEL, NAME = "E2", "Saturation"
#: Free outputs' escape threshold (p = 1/2; the AE's, logit(0.1), is saturation.Z_AE) and step.
Z_FREE, ETA_FREE = 0.0, 0.05
MIN_CANDIDATES = 0.02
COST = 0.3
OBSERVATIONS = {
    "E2.sgd_slowdown": "ratio", "E2.adam_slowdown": "ratio", "E2.free_slowdown": "ratio",
    "E2.first_step_ratio_predicted": "ratio", "E2.linear_path_ratio_predicted": "ratio",
    **{f"E2.steps[{k}]": "steps" for k in ("bce_sgd", "mse_sgd", "mse_sgd_predicted", "bce_adam",
                                            "mse_adam")}}
RUNS = (("bce", "sgd"), ("mse", "sgd"), ("bce", "adam"), ("mse", "adam"))
IDS = ("E2.free.slowdown", "E2.ae.first_step.sgd", "E2.ae.escape.sgd", "E2.ae.first_step.adam")


def integral_ratio(y=1.0, z0=Z0, z1=Z_FREE, slow="mse", fast="bce") -> float:
    """int_{z0}^{z1} dz/|dL_slow/dz| over the same for ``fast``: the ratio of gradient-flow
    times of one logit with target ``y`` (the catalogue's gradient, analysis.logit_gradient).

    >>> round(integral_ratio(), 1)
    30.3
    """
    def t(loss):
        return quad(lambda z: 1.0 / abs(float(analysis.logit_gradient(loss, y, z))), z0, z1,
                    limit=200)[0]
    return t(slow) / t(fast)


def _premises(data) -> dict:
    """Why each part is not applicable to ``data`` (no key where its premise holds)."""
    x, why, k = data.train, {}, max(1, min(20, data.D // 10))      # ink pixels of a target
    if np.mean((x >= INK).sum(axis=1) >= k) < MIN_CANDIDATES:
        why["free"] = f"fewer than {MIN_CANDIDATES:.0%} of the images have {k} ink pixels"
    if ae_premise(data):
        why["ae"] = ae_premise(data)
    return why


# -- Networks: free logits and saturated AEs, each returning its escape trajectory --------------
def train_free(x, s, seed) -> dict:
    """Plain SGD on per-pixel logits from Z0 toward one image with enough ink pixels, per loss:
    the mean ink logit at every step until it reaches Z_FREE."""
    cand = np.flatnonzero((x >= INK).sum(axis=1) >= s["min_ink"])
    if cand.size == 0:                      # this seed's subset holds no such image
        return {}
    img = x[cand[rng(seed, LABEL, "image").integers(cand.size)]][None, :].astype(np.float64)
    ink, out = img[0] >= INK, {}
    for loss in ("mse", "bce"):
        model = BiasOnly(img.shape[1], loss=loss, init=Z0, dtype=np.float64)
        opt, traj = SGD(model.params, lr=s["eta"], momentum=0.0), [Z0]
        while traj[-1] < Z_FREE and len(traj) <= MAX_STEPS:
            opt.step(model.loss_and_grads(img)[1])
            traj.append(float(model.params["out.b"][ink].mean()))
        out[loss] = np.array(traj)
    return out


def train_saturated(x, s, seed) -> dict:
    """One saturated AE (loss, optimizer of ``s``) trained on minibatches (the seed's order) until
    the mean ink logit of the held-back images reaches Z_AE: its trajectory, the first step's
    change of that mean on a float64 copy, and (BCE with SGD) the dilation at every step."""
    d = escape_data(x, s, seed)
    xe, ink, b = d["xe"], d["ink"], d["b"]
    model = saturated_ae(s["sizes"], s["loss"], seed)
    make = (lambda m: SGD(m.params, lr=LR, momentum=0.0)) if s["opt"] == "sgd" else (
        lambda m: Adam(m.params, lr=LR))
    twin = AE(s["sizes"], loss=s["loss"], dtype=np.float64)
    twin.set_params(model.get_params())
    z0 = twin.logits(xe)[ink].mean()
    make(twin).step(twin.loss_and_grads(d["xt"][d["order"][:b]])[1])
    first = np.float64(twin.logits(xe)[ink].mean() - z0)
    y_ink = xe[ink].astype(np.float64)
    record = (lambda z, batch: {"dilation": dilation(z, y_ink)}) \
        if (s["loss"], s["opt"]) == ("bce", "sgd") else None
    return {"first": first, "dilation": np.array([]),
            **escape_path(model, make(model), d, s["every"], record)}


def networks(data, quick) -> dict:
    run, na = AE_RUN[quick], _premises(data)
    sizes = ae_sizes(data.D)
    out = {} if "free" in na else {"free": Network(
        "e2_free", train_free, {"eta": ETA_FREE, "min_ink": max(1, min(20, data.D // 10))}, 1000,
        cost=0.5)}
    for loss, opt in (() if "ae" in na else RUNS):
        slow = loss == "mse" and opt == "sgd"
        out[f"{loss}_{opt}"] = Network(
            f"e2_saturated[{loss},{opt}]", train_saturated, {
                "loss": loss, "opt": opt, "sizes": sizes, "batch": run["batch"],
                "n_eval": run["n_eval"], "every": EVERY_SLOW if slow else 1},
            run["n_train"] + run["n_eval"], cost=(2.0 if quick else 4.0) if slow else 0.1)
    return out


def predictions(data) -> list:
    na, first, ae = _premises(data), first_step_ratio(), _premises(data).get("ae", "")
    step = "mean ink-logit change of the first step, BCE / MSE"
    return [
        Prediction(IDS[0], f"free outputs started at z = {Z0:g} on ink pixels: MSE needs the "
                   "gradient-flow ratio of BCE's SGD steps to reach p = 1/2", "steps_MSE / "
                   "steps_BCE for the mean ink logit to reach 0", integral_ratio(), "ratio",
                   kind=CONSISTENCY, reason="free logits under SGD follow the catalogue gradient "
                   "up to Euler steps and the targets' spread", source="int dz/|dL/dz| from -6 "
                   "to 0 at y = 1 (analysis.logit_gradient, quad)", applicable=na.get("free", "")),
        Prediction(IDS[1], "AE, plain SGD: the first step moves the ink logits 1/(2p(1 - p)) "
                   "times less under MSE", step, first, "numeric", kind=CONSISTENCY,
                   reason="with W = 0 the step is linear in output gradients that differ by the "
                   "constant 2p(1 - p)", source="1/(2p(1 - p)) at p = sigmoid(-6) (analysis."
                   "logit_gradient); precision 1e-6 relative", precision=1e-6 * first,
                   applicable=ae),
        Prediction(IDS[2], "AE, plain SGD: MSE needs as many steps to bring the mean ink logit "
                   "to logit(0.1) as BCE's path takes, each step dilated by the gradient ratio "
                   "at its state", "steps_MSE measured / steps_MSE predicted", 1.0, "ratio",
                   kind=FALSIFIABLE, reason="MSE need not follow BCE's path: its gradient weights "
                   "pixels differently", source="sum over BCE's steps of sum|dBCE/dz| / "
                   "sum|dMSE/dz| on the ink pixels (catalogue grad_logit)", applicable=ae),
        Prediction(IDS[3], "AE, Adam: the first step moves the ink logits equally for both "
                   "losses", step, 1.0, "numeric", kind=CONSISTENCY, reason="Adam's first update "
                   "lr g/(|g| + eps) does not depend on the gradient's scale", source="Kingma & "
                   "Ba 2015, Alg. 1 at t = 1; precision 0.01 (eps)", precision=0.01,
                   applicable=ae)]


def measure(nets, data) -> dict:
    out = dict.fromkeys(IDS + tuple(OBSERVATIONS), math.nan)
    out["E2.first_step_ratio_predicted"] = first_step_ratio()
    out["E2.linear_path_ratio_predicted"] = integral_ratio(1.0, Z0, Z_AE)
    tr, run = nets.get("free"), {k: v for k, v in nets.items() if k != "free"}
    with np.errstate(divide="ignore", invalid="ignore"):     # an escape never reached: NaN
        if tr:
            t = {n: np.float64(crossing(np.arange(tr[n].size), tr[n], Z_FREE)) for n in tr}
            out.update({f"_free[{n}]": tr[n] for n in tr})
            out["E2.free.slowdown"] = out["E2.free_slowdown"] = t["mse"] / t["bce"]
        if not run:
            return out
        t = {k: np.float64(crossing(r["steps"], r["means"], Z_AE)) for k, r in run.items()}
        dil = run["bce_sgd"]["dilation"]
        t_pred = path_steps(dil, t["bce_sgd"])
        out.update({f"E2.steps[{k}]": v for k, v in t.items()})
        out.update({"E2.steps[mse_sgd_predicted]": t_pred, "E2.sgd_slowdown": t["mse_sgd"]
                    / t["bce_sgd"], "E2.ae.escape.sgd": t["mse_sgd"] / t_pred,
                    "E2.adam_slowdown": t["mse_adam"] / t["bce_adam"],
                    "E2.ae.first_step.sgd": run["bce_sgd"]["first"] / run["mse_sgd"]["first"],
                    "E2.ae.first_step.adam": run["bce_adam"]["first"] / run["mse_adam"]["first"],
                    "_predicted_path": np.cumsum(np.concatenate([[0.0], dil]))})
    out.update({f"_traj[{k}]": np.stack([r["steps"], r["means"]]) for k, r in run.items()})
    return out


@plotting.style()
def figure(result):
    """(a) free outputs with the predicted gradient flow; (b) the AE with SGD, with MSE's path
    predicted from BCE's; (c) with Adam.  Steps on a log axis from step 1; one legend below."""
    from matplotlib.ticker import FuncFormatter
    first = result.per_seed[0]
    fig, (ax_f, ax_s, ax_a) = plotting.figure(1, 3, columns=2, height=2.8)
    predicted, zs = dict(color="black", lw=0.8, ls=(0, (1, 1.2)), zorder=3), np.linspace(Z0, 0, 200)
    for loss in ("mse", "bce"):
        style = dict(color=plotting.color(loss), ls=plotting.linestyle(loss))
        if f"_free[{loss}]" in first:
            tr = first[f"_free[{loss}]"]
            ax_f.plot(np.arange(1, tr.size), tr[1:], **style)
            g = 1 / np.abs(np.asarray(analysis.logit_gradient(loss, 1.0, zs), dtype=float))
            t = np.concatenate([[0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(zs))]) / ETA_FREE
            ax_f.plot(t[t >= 1], zs[t >= 1], **predicted)
        for ax, opt in ((ax_s, "sgd"), (ax_a, "adam")):
            if f"_traj[{loss}_{opt}]" in first:
                st, m = first[f"_traj[{loss}_{opt}]"]
                ax.plot(st[st >= 1], m[st >= 1], **style)
    if "_predicted_path" in first:           # BCE's path, its steps dilated
        tp, m_b = first["_predicted_path"][:-1], first["_traj[bce_sgd]"][1]
        ax_s.plot(tp[tp >= 1], m_b[tp >= 1], **predicted)
    for ax, z, head in ((ax_f, Z_FREE, f"(a) free outputs, SGD η = {ETA_FREE:g}"),
                        (ax_s, Z_AE, f"(b) AE, plain SGD, lr {LR:g}"),
                        (ax_a, Z_AE, f"(c) AE, Adam, lr {LR:g}")):
        plotting.guides(ax, y=[z])
        ax.set_xscale("log")                # from step 1, labelled with plain numbers
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.tick_params(which="minor", labelbottom=False)
        ax.set(xlim=(1, None), title=head, xlabel=plotting.axis_label("training step", "step"),
               ylabel=plotting.axis_label("mean ink logit z", "logit"))
    legend_below(fig, [(plotting.display_name(n), dict(color=plotting.color(n),
                                                       ls=plotting.linestyle(n)))
                       for n in ("mse", "bce")]
                 + [("predicted: (a) gradient flow at y = 1; (b) MSE from BCE's path, dilated",
                     predicted), ("escape threshold: (a) z = 0 (p = ½); (b, c) z = logit(0.1) "
                                  f"= {Z_AE:.1f}".replace("-", "−"), dict(color="0.6", lw=0.5))])
    title(fig, LABEL, result.data.name, "outputs started saturated and wrong",
          f"z = {Z0:g} at step 0; {seeds_note(result.seeds[:1])}".replace("-", "−"))
    return fig


FINDINGS = (
    Finding("Free outputs: MSE needs {row:E2.free.slowdown} times BCE's SGD steps to reach "
            "p = ½ from saturation."),
    Finding("AE, plain SGD: MSE needs {obs:E2.sgd_slowdown:.0f}x BCE's steps to bring the ink "
            "pixels out of saturation; the first step alone is "
            "{obs:E2.first_step_ratio_predicted:.0f}x slower, and one logit moving at BCE's "
            "pace would see {obs:E2.linear_path_ratio_predicted:.0f}x on the way to logit(0.1).  "
            "MSE's steps over those BCE's dilated path predicts: {row:E2.ae.escape.sgd}."),
    Finding("MSE does not follow BCE's path: its gradient weights each pixel by 2p(1 − p), so "
            "the pixels that leave saturation first dominate its updates and the network "
            "learns other features on the way; the dilation argument holds only while the ink "
            "logits move together.", when=(("E2.ae.escape.sgd", "refuted"),)),
    Finding("Adam: MSE needs {obs:E2.adam_slowdown:.2f}x BCE's steps.  Adam divides each "
            "parameter's step by the root mean square of its past gradients, so the factor "
            "2p(1 − p) cancels wherever it is the same for every output a parameter feeds: "
            "exactly at the first step ({row:E2.ae.first_step.adam}); later it differs between "
            "pixels, and the update's direction still weights them by it."),
)
