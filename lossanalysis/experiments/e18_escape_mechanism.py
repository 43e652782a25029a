"""E18 -- why MSE escapes saturation faster than E2's ink dilation predicts: per-pixel or
shared-weight dilation?

E2 starts an AE with its last layer at W = 0, b = Z0 = -6 and trains it with plain SGD under BCE
and under MSE until the held-back images' mean ink logit (targets >= :data:`INK`) reaches
logit(0.1) (:data:`Z_AE`).  Its row ``E2.ae.escape.sgd`` predicts MSE's steps from BCE's path,
each BCE step dilated by the ink pixels' gradient ratio; MSE escapes 10-19% sooner than that on
every data set.  Two rivals turn quantities measured along BCE's SGD path (before MSE's outcome
is read) into a predicted MSE step count, the path summed as E2 sums it (BCE's steps to its
crossing, the last one interpolated: :func:`.saturation.path_steps`):

* **per pixel** (E2's own argument, :func:`.saturation.dilation`): each ink logit is moved by
  its own gradient, so one BCE step is worth sum_ink |dBCE/dz| / sum_ink |dMSE/dz| MSE steps.
* **shared weights** (:func:`shared_dilation`): the hidden layers serve every pixel, so every
  pixel's output gradient (ink, background, mid-grey) moves the ink logits.  At each state of
  BCE's path a float64 copy of the network takes ONE plain-SGD step (E2's lr, BCE's minibatch
  at that state) with the BCE gradient and, separately, with the MSE gradient; one BCE step is
  worth delta_BCE / delta_MSE MSE steps (delta: the change of the held-back images' mean ink
  logit), the first-order velocity ratio of the quantity E2 thresholds.  Float64, because
  MSE's change is about 200 times smaller than BCE's near saturation.

Rows (falsifiable, rule "ratio"): ``E18.per_pixel`` and ``E18.shared`` = MSE's measured steps
/ the rival's predicted steps, predicted 1.  E18's networks are E2's (its sizes, settings and
random streams, :func:`.saturation.saturated_ae`, on the same training subset), so its BCE and MSE
trajectories are E2's and ``E18.per_pixel`` repeats ``E2.ae.escape.sgd`` seed by seed: the two
rivals are judged on the same runs.

**The intervention** (``masked``): BCE and MSE are trained again from the same initialization
and minibatches with the output gradient of every non-ink pixel of each training image set to
zero (:class:`InkOnly`: targets < :data:`INK` contribute nothing), so only the ink pixels drive
the shared weights.  Write R_rival = MSE's steps / the rival's predicted steps, on the plain
(u) and the masked (m) runs.  The rivals differ in what masking does to the per-pixel ratio:

* per pixel: the other pixels never moved the ink logits, so whatever sets R_per_pixel (the
  departure E2 measured) is untouched by removing them: R_per_pixel(m) / R_per_pixel(u) = 1.
  Row ``E18.masked.per_pixel`` = that measured change / 1.
* shared weights: MSE follows the one-step velocity ratio, so R_per_pixel = T_shared /
  T_per_pixel in each condition and the change is (T_shared / T_per_pixel)(m) /
  (T_shared / T_per_pixel)(u), computed from the two BCE paths alone (the shared dilation of
  the masked run uses the masked gradients).  Row ``E18.masked.shared`` = the measured change
  / that prediction (= R_shared(m) / R_shared(u)), predicted 1.

The change form is used (not the level on the masked runs, which each rival predicts to be 1
only if it is right on the plain runs too): it asks whether the other pixels carried the
departure even when the level is off for a reason neither rival names (MSE leaving BCE's
path).  If the shared rival attributes the departure to the other pixels, its predicted change
is far from 1 (about 1/R_per_pixel(u)) and the two mask rows cannot both be confirmed; if its
predicted change is within the tolerance of 1 on these data, the intervention does not
separate them and the findings say so.

Premise: E2's AE premise (:func:`.saturation.ae_premise`);
quick mode: E2's (:data:`.saturation.AE_RUN`).
"""
from __future__ import annotations

import math

import numpy as np

from .. import plotting
from ..nn import AE, SGD, Catalogue
from ..protocol import FALSIFIABLE, INCONCLUSIVE, Prediction
from .base import Finding, Network, rival_findings, rival_verdicts
from .figures import legend_below, seeds_note, title
from .saturation import (AE_RUN, EVERY_SLOW, INK, LR, MAX_STEPS, Z0, Z_AE, ae_premise, ae_sizes,
                         crossing, dilation, escape_data, escape_path, first_step_ratio,
                         path_steps, saturated_ae)

LABEL = "E18"
NAME = "Why MSE escapes saturation sooner than the ink dilation predicts: per pixel or shared"
STAGE = "mechanisms"              #: measured apart from the main study (``study --mechanisms``)
#: The main study's rows (id prefixes) whose departure from the analysis this explains.
EXPLAINS = ("E2.ae.escape.sgd",)
COST = 0.3
RIVALS = ("per_pixel", "shared")
CONDITIONS = ("", "masked")       #: the plain runs (E2's) and the ink-only intervention
IDS = ("E18.per_pixel", "E18.shared", "E18.masked.per_pixel", "E18.masked.shared")


def _tag(cond: str) -> str:
    return f",{cond}" if cond else ""


OBSERVATIONS = {
    "E18.first_step_ratio_predicted": "ratio", "E18.first_dilation[shared]": "ratio",
    **{f"E18.steps[{loss}{_tag(c)}]": "steps" for c in CONDITIONS for loss in ("bce", "mse")},
    **{f"E18.predicted[{r}{_tag(c)}]": "steps" for c in CONDITIONS for r in RIVALS},
    **{f"E18.mean_dilation[{r}{_tag(c)}]": "ratio" for c in CONDITIONS for r in RIVALS},
    **{f"E18.ratio[{r},masked]": "ratio" for r in RIVALS},
    "E18.mask_change": "ratio", "E18.mask_change_predicted[shared]": "ratio"}


# -- The rivals' dilations ----------------------------------------------------------------------
def shared_dilation(twins: dict, params: dict, batch, xe, ink) -> float:
    """The shared-weight rival: delta_BCE / delta_MSE, the changes of the mean logit of the
    pixels ``ink`` of the images ``xe`` made by one plain-SGD step (lr
    :data:`.saturation.LR`) on ``batch``
    from the parameters ``params``, with each loss's gradient.

    ``twins``: {"bce": AE, "mse": AE} of the network's sizes in float64 (their terms: the
    losses as trained, e.g. :class:`InkOnly`); each is set to ``params`` (the network is not
    touched) and stepped once.
    """
    delta = {}
    for loss in ("bce", "mse"):
        twin = twins[loss]
        twin.set_params(params)
        z0 = twin.logits(xe)[ink].mean()
        SGD(twin.params, lr=LR, momentum=0.0).step(twin.loss_and_grads(batch)[1])
        delta[loss] = twin.logits(xe)[ink].mean() - z0
    return float(delta["bce"] / delta["mse"])


# -- The networks -------------------------------------------------------------------------------
class InkOnly(Catalogue):
    """A catalogue loss counted on the ink pixels only: value and logit gradient 0 wherever the
    target is under :data:`INK` (compared in float32, as E2 picks its ink pixels), the
    catalogue's elsewhere.

    >>> from lossanalysis.losses import get_loss
    >>> t = InkOnly("bce")
    >>> x, z = np.array([[0.0, 0.5, 1.0]]), np.array([[-6.0, -6.0, -6.0]])
    >>> v, g = t.value_and_grad(x, z, grad_scale=1.0)
    >>> bool(v[0] == get_loss("bce").value_logit(1.0, -6.0)), bool((g[0, :2] == 0).all())
    (True, True)
    """

    def value_and_grad(self, x, out, grad_scale=None, *, reuse=False):
        out = np.asarray(out)
        keep = np.asarray(x, dtype=np.float32) >= np.float32(INK)
        v, g = self.loss.value_and_grad_logit(x, out, check=False)
        values = np.where(keep, v, 0).sum(axis=-1).astype(out.dtype)
        if grad_scale is None:
            return values, None
        g = np.where(keep, g * out.dtype.type(grad_scale), 0)
        return values, np.ascontiguousarray(g, dtype=out.dtype)


def _loss(loss: str, masked: bool):
    return InkOnly(loss) if masked else loss


def train_escape(x, s, seed) -> dict:
    """E2's saturated AE under plain SGD (``s``: loss, masked, sizes, batch, n_eval, every),
    trained on minibatches in E2's order until the held-back images' mean ink logit reaches
    :data:`.saturation.Z_AE`: its trajectory (``steps``, ``means``) and, for BCE, both rivals'
    dilations at every state of its path (``per_pixel``, ``shared``)."""
    d = escape_data(x, s, seed)
    model = saturated_ae(s["sizes"], _loss(s["loss"], s["masked"]), seed)
    twins = {loss: AE(s["sizes"], loss=_loss(loss, s["masked"]), dtype=np.float64)
             for loss in ("bce", "mse")}
    y_ink = d["xe"][d["ink"]].astype(np.float64)

    def rivals(z, batch):                           # BCE's path: both rivals' dilations
        return {"per_pixel": dilation(z, y_ink),
                "shared": shared_dilation(twins, model.params, batch, d["xe"], d["ink"])}
    out = escape_path(model, SGD(model.params, lr=LR, momentum=0.0), d, s["every"],
                      rivals if s["loss"] == "bce" else None)
    return {"per_pixel": np.array([]), "shared": np.array([]), **out}


def networks(data, quick) -> dict:
    if ae_premise(data):
        return {}
    run = AE_RUN[quick]
    sizes = ae_sizes(data.D)
    out = {}
    for cond in CONDITIONS:
        for loss in ("bce", "mse"):
            slow = loss == "mse"       # seconds (E2's for its runs): the ink-only MSE run
            cost = ((2.5 if quick else 6.0) if cond else (2.0 if quick else 4.0)) if slow else (
                0.2 if quick else 0.5)  # takes 2-5x its steps; BCE steps two twins a state
            out[f"{loss}{_tag(cond)}"] = Network(
                f"e18_escape[{loss}{_tag(cond)}]", train_escape, {
                    "loss": loss, "masked": bool(cond), "sizes": sizes, "batch": run["batch"],
                    "n_eval": run["n_eval"], "every": EVERY_SLOW if slow else 1},
                run["n_train"] + run["n_eval"], cost=cost)
    return out


def predictions(data) -> list:
    na, out = ae_premise(data), []
    reason = {"per_pixel": "the shared-weight rival predicts another count wherever the "
                           "non-ink pixels move the ink logits",
              "shared": "the per-pixel rival predicts another count wherever the ink pixels' "
                        "own gradients are not the ink mean's velocity"}
    source = {"per_pixel": "sum over BCE's steps of sum|dBCE/dz| / sum|dMSE/dz| on the held-back "
                           "ink pixels (catalogue grad_logit; E2's prediction)",
              "shared": "sum over BCE's steps of delta_BCE / delta_MSE of the held-back mean ink "
                        "logit after one float64 SGD step from BCE's state, BCE's minibatch"}
    what = {"per_pixel": "each BCE step dilated by the ink pixels' gradient ratio",
            "shared": "each BCE step dilated by the one-step change ratio of the mean ink logit"}
    for r in RIVALS:
        out.append(Prediction(
            f"E18.{r}", f"AE, plain SGD: MSE needs as many steps to bring the mean ink logit to "
            f"logit(0.1) as BCE's path takes, {what[r]}", "steps_MSE measured / steps_MSE "
            "predicted", 1.0, "ratio", kind=FALSIFIABLE, reason=reason[r], source=source[r],
            applicable=na))
    change = ("(steps_MSE / ink-dilation steps) on the ink-only runs over the same on the plain "
              "runs")
    out.append(Prediction(
        "E18.masked.per_pixel", "with the non-ink pixels' output gradients set to 0, MSE's steps "
        "over the ink-dilation prediction stay as on the plain runs (the other pixels never "
        "moved the ink logits)", change, 1.0, "ratio", kind=FALSIFIABLE,
        reason="the shared-weight rival predicts the change its one-step dilations give",
        source="the per-pixel rival: each ink logit moves by its own gradient", applicable=na))
    out.append(Prediction(
        "E18.masked.shared", "with the non-ink pixels' output gradients set to 0, MSE's steps "
        "over the ink-dilation prediction change as the one-step dilations of the two BCE paths "
        "predict", change + " / (T_shared / T_ink on the ink-only BCE path over the same on "
        "the plain one)", 1.0, "ratio", kind=FALSIFIABLE,
        reason="the per-pixel rival predicts no change", source="the shared-weight rival's "
        "dilations along the plain and the ink-only BCE paths (float64 one-step changes)",
        applicable=na))
    return out


def measure(nets, data) -> dict:
    out = dict.fromkeys(IDS + tuple(OBSERVATIONS), math.nan)
    out["E18.first_step_ratio_predicted"] = first_step_ratio()
    if not nets:                                # the premise fails: nothing was trained
        return out
    ratio = {}
    with np.errstate(divide="ignore", invalid="ignore"):     # an escape never reached: NaN
        for cond in CONDITIONS:
            tag = _tag(cond)
            bce = nets[f"bce{tag}"]
            t = {loss: crossing(nets[f"{loss}{tag}"]["steps"], nets[f"{loss}{tag}"]["means"],
                                Z_AE) for loss in ("bce", "mse")}
            for loss in t:
                out[f"E18.steps[{loss}{tag}]"] = t[loss]
                out[f"_traj[{loss}{tag}]"] = np.stack([nets[f"{loss}{tag}"]["steps"],
                                                       nets[f"{loss}{tag}"]["means"]])
            for r in RIVALS:
                pred = path_steps(bce[r], t["bce"])
                ratio[r, cond] = np.float64(t["mse"]) / pred
                out[f"E18.predicted[{r}{tag}]"] = pred
                out[f"E18.mean_dilation[{r}{tag}]"] = np.float64(pred) / t["bce"]
                out[f"_path[{r}{tag}]"] = np.cumsum(np.concatenate([[0.0], bce[r]]))
        out["E18.first_dilation[shared]"] = float(nets["bce"]["shared"][0])
        for r in RIVALS:
            out[f"E18.{r}"] = ratio[r, ""]
            out[f"E18.ratio[{r},masked]"] = ratio[r, "masked"]
        change = ratio["per_pixel", "masked"] / ratio["per_pixel", ""]
        predicted = ((out["E18.predicted[shared,masked]"] / out["E18.predicted[per_pixel,masked]"])
                     / (out["E18.predicted[shared]"] / out["E18.predicted[per_pixel]"]))
        out.update({"E18.mask_change": change, "E18.mask_change_predicted[shared]": predicted,
                    "E18.masked.per_pixel": change, "E18.masked.shared": change / predicted})
    return out


# -- The figure and the findings ----------------------------------------------------------------
@plotting.style()
def figure(result):
    """The mean ink logit against the steps (log axis from step 1) of BCE, MSE and MSE's path
    as each rival predicts it from BCE's (BCE's means at the summed dilations): (a) the plain
    runs (E2's), (b) the ink-only runs.  First seed; one legend below."""
    if result.row("E18.per_pixel").verdict == "not applicable":
        return None
    from matplotlib.ticker import FuncFormatter
    first = result.per_seed[0]
    fig, axes = plotting.figure(1, 2, columns=2, height=2.8, sharey=True)
    rival = {"per_pixel": dict(color="black", lw=0.8, ls=(0, (1, 1.2)), zorder=3),
             "shared": dict(color=plotting.color("", 2), lw=0.9, ls=(0, (4, 1.5)), zorder=3)}
    for ax, cond, head in zip(axes, CONDITIONS, ("(a) every pixel's gradient (E2's runs)",
                                                 "(b) the ink pixels' gradients only")):
        tag = _tag(cond)
        for loss in ("mse", "bce"):
            st, m = first[f"_traj[{loss}{tag}]"]
            ax.plot(st[st >= 1], m[st >= 1], color=plotting.color(loss),
                    ls=plotting.linestyle(loss))
        m_b = first[f"_traj[bce{tag}]"][1]
        for r in RIVALS:
            tp = first[f"_path[{r}{tag}]"][:-1]
            ax.plot(tp[tp >= 1], m_b[tp >= 1], **rival[r])
        plotting.guides(ax, y=[Z_AE])
        ax.set_xscale("log")                # from step 1, labelled with plain numbers
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.tick_params(which="minor", labelbottom=False)
        ax.set(xlim=(1, None), title=head, xlabel=plotting.axis_label("training step", "step"))
    axes[0].set_ylabel(plotting.axis_label("mean ink logit z", "logit"))
    legend_below(fig, [(plotting.display_name(n), dict(color=plotting.color(n),
                                                       ls=plotting.linestyle(n)))
                       for n in ("mse", "bce")]
                 + [("MSE predicted: BCE's path, ink-pixel dilation", rival["per_pixel"]),
                    ("MSE predicted: BCE's path, one-step (shared-weight) dilation",
                     rival["shared"]),
                    (f"escape threshold z = logit(0.1) = {Z_AE:.1f}".replace("-", "−"),
                     dict(color="0.6", lw=0.5))])
    title(fig, LABEL, result.data.name, "escaping saturation, MSE against two dilations",
          f"plain SGD, z = {Z0:g} at step 0; {seeds_note(result.seeds[:1])}".replace("-", "−"))
    return fig


#: The conclusion for each pair of verdicts (per-pixel row, shared-weight row).
VERDICTS = rival_verdicts("the per-pixel dilation", "the shared-weight dilation", "runs")


def _findings():
    plain = Finding(
        "E2's runs: BCE reaches logit(0.1) in {obs:E18.steps[bce]:.1f} steps, MSE in "
        "{obs:E18.steps[mse]:.0f}.  The ink pixels' gradient ratio dilates BCE's path to "
        "{obs:E18.predicted[per_pixel]:.0f} steps (a mean dilation of "
        "{obs:E18.mean_dilation[per_pixel]:.1f}), the one-step change ratio to "
        "{obs:E18.predicted[shared]:.0f} (mean {obs:E18.mean_dilation[shared]:.1f}; at the "
        "first state {obs:E18.first_dilation[shared]:.1f}, the analysis' 1/(2p(1 − p)) "
        "{obs:E18.first_step_ratio_predicted:.1f}).  MSE's steps over each: per pixel "
        "{row:E18.per_pixel}; shared weights {row:E18.shared}.")
    limit = Finding(
        "With the non-ink pixels' output gradients set to 0, MSE does not bring the mean ink "
        f"logit to logit(0.1) within E2's {MAX_STEPS:,} steps on at least one seed (BCE needs "
        "{obs:E18.steps[bce,masked]:.1f} steps; the ink dilation predicts MSE's steps at "
        "{obs:E18.predicted[per_pixel,masked]:.0f} along the ink-only path): the intervention's "
        "ratios are undefined.", (("obs:E18.steps[mse,masked]", "undefined"),
                                  ("E18.masked.per_pixel", INCONCLUSIVE)))
    masked = Finding(
        "With the non-ink pixels' output gradients set to 0, BCE needs "
        "{obs:E18.steps[bce,masked]:.1f} steps and MSE {obs:E18.steps[mse,masked]:.0f}; MSE's "
        "steps over the ink dilation's prediction are {obs:E18.ratio[per_pixel,masked]:.3f} "
        "(over the one-step dilation's {obs:E18.ratio[shared,masked]:.3f}), "
        "{obs:E18.mask_change:.3f} times their value on the plain runs, where the one-step "
        "dilations predict {obs:E18.mask_change_predicted[shared]:.3f}.  Against the per-pixel "
        "rival's no change {row:E18.masked.per_pixel}; against the shared-weight rival's "
        "change {row:E18.masked.shared}.", (("obs:E18.steps[mse,masked]", "finite"),))
    out = [plain]
    out += rival_findings("Which dilation MSE follows on E2's runs", "E18.per_pixel",
                          "E18.shared", VERDICTS)
    out += [masked, limit]
    out += rival_findings("The ink-only intervention", "E18.masked.per_pixel",
                          "E18.masked.shared", VERDICTS)
    return tuple(out)


FINDINGS = _findings()
