"""E9 -- why the noisy autoencoders of E8 lean: one shared affine map against per-pixel optima.

E8 trains the AE pair's net with noise inside its loss and finds leans toward 1/2 far from the
per-pixel noisy optimum (BCE with probability noise: about 9x at sigma 0.02).  Two rivals, both
computed from the noise-free twin (same initialization and data order, trained without noise:
known before the noisy network is measured), on the twin's training images:

* **per pixel** (:func:`~lossanalysis.analysis.pixelwise_noisy_mean`): each output at the noisy
  optimum of its own conditional mean m (the twin's prediction): E_e[p] = m + noise_bias(m).
* **shared map** (:func:`~lossanalysis.analysis.affine_logit_map`): the network keeps the twin's
  features and changes one affine map z -> a + k z of every logit, the one minimizing the noisy
  loss over all its training pixels; measured from the twin's own best affine map without noise
  (so finite training of the twin is not counted as the noise's effect).

Rows (rule "intensity"; a lean is the mean over the judged bin pairs of E8's measure, E[q - y |
q] against the twin's, q = E_e[p]): ``E9.<rival>[setup]`` = measured lean - the rival's lean,
predicted 0.  The decisive test is an intervention: the noise is applied only where the twin's
prediction lies in :data:`BAND` (``masked``).  Per pixel, the judged (mid-grey) pixels keep their
noise, so their lean does not change; the shared map loses the pull of the faint pixels.
``E9.mask_drop.<rival>[sigma]`` = (full - masked lean) - the rival's (full - masked), predicted 0.
Not applicable: bins expecting fewer than :data:`MIN_PIXELS` training pixels (as E8).
"""
from __future__ import annotations

import numpy as np

from .. import analysis, plotting
from ..losses import sigmoid
from ..nn import AE, train
from ..nn.noise import NoisyOutput
from ..protocol import Prediction
from . import networks as shared
from .base import Finding, Network, entropy, rival_findings, rival_verdicts
from .figures import legend_below, seeds_note, title
from .leans import PAIRS, by_prediction, pair_lean, pairs_from, sparse_bins

LABEL, NAME = "E9", "Why noisy autoencoders lean: a shared affine map or per-pixel optima"
STAGE = "mechanisms"              #: measured apart from the main study (``study --mechanisms``)
#: The main study's rows (id prefixes) whose departure from the analysis this explains.
EXPLAINS = ("E8.ae.",)
#: (loss, space, sigma, masked): E8's AE settings, and BCE's probability noise masked.
SETUPS = (("bce", "prob", 0.02, False), ("bce", "prob", 0.05, False),
          ("bce", "prob", 0.02, True), ("bce", "prob", 0.05, True),
          ("bce", "logit", 1.0, False), ("bce", "logit", 2.0, False),
          ("mse", "logit", 1.0, False), ("mse", "logit", 2.0, False),
          ("mse", "prob", 0.05, False))
RIVALS = ("per_pixel", "shared_map")
BAND = (0.1, 0.9)                 #: masked: noise only where the twin predicts inside BAND
CLIP_SIGMAS, P_MIN = 5.0, 1e-4    #: as E8: probability bins judged 5 sigma inside; the clip
MIN_PIXELS, COST = 1000, 20.0
MASKED_SIGMAS = tuple(s for _, _, s, m in SETUPS if m)


def name(loss, space, sigma, masked) -> str:
    """``bce.prob[sigma=0.02]``, ``bce.prob.masked[sigma=0.02]``."""
    return f"{loss}.{space}{'.masked' if masked else ''}[sigma={sigma:g}]"


def judged(space, sigma) -> tuple:
    return PAIRS if space == "logit" else pairs_from(CLIP_SIGMAS * sigma)


OBSERVATIONS = {f"E9.{q}[{name(*s)}]": u for s in SETUPS for q, u in (
    ("lean", "intensity"), ("lean_per_pixel", "intensity"), ("lean_shared_map", "intensity"),
    ("k_shared_map", "ratio"), ("k_measured", "ratio"))}
OBSERVATIONS.update({f"E9.k_twin[{loss}]": "ratio" for loss in ("bce", "mse")})


def premises(data) -> dict:
    n = data.n_train(6000) * data.D
    return {s: sparse_bins(data.train, judged(s[1], s[2]), n, MIN_PIXELS) for s in SETUPS}


class MaskedNoise(NoisyOutput):
    """:class:`NoisyOutput` where a reference network predicts inside :data:`BAND`; the plain
    loss elsewhere (``twin``: that network; its prediction of the batch sets the mask)."""

    def __init__(self, *args, twin=None, **kw):
        super().__init__(*args, **kw)
        self.twin = twin

    def mask(self, x) -> np.ndarray:
        q = sigmoid(self.twin.logits(x))
        return (q >= BAND[0]) & (q <= BAND[1])

    def value_and_grad(self, x, out, grad_scale=None, *, reuse=False):
        out, want = np.asarray(out), grad_scale is not None
        m = self.mask(x)
        e = self._noise(out.shape, out.dtype) * m
        a = out.dtype.type(self.p_min)
        with np.errstate(over="ignore", under="ignore"):
            s = sigmoid(out)
            u = s + out.dtype.type(self.sigma) * e
            p = np.clip(u, a, 1 - a)
            v0, g0 = (self.loss.value_and_grad_logit(x, out, check=False) if want else
                      (self.loss.value_logit(x, out, check=False), None))
            v = np.where(m, self.loss.value(x, p, check=False), v0)
            if not want:
                return np.asarray(v).sum(axis=-1), None
            g = np.where((u > a) & (u < 1 - a), self.loss.grad(x, p, check=False)
                         * (s * sigmoid(-out)), 0)
            g = np.where(m, g, g0) * out.dtype.type(grad_scale)
        return np.asarray(v).sum(axis=-1), np.ascontiguousarray(g, dtype=out.dtype)


def _fit(x, s, seed, loss):
    model = AE(s["sizes"], loss=loss, seed=entropy(seed, "ae_pair", "init"))
    train(model, x, None, epochs=s["epochs"], batch_size=s["batch"], lr=s["lr"],
          seed=entropy(seed, "ae_pair", "train"), quiet=True)
    return model


def train_twins(x, s, seed) -> dict:
    """The noise-free BCE and MSE twins (the AE pair's nets before its bias polish)."""
    return {"n": len(x), **{loss: _fit(x, s, seed, loss) for loss in ("bce", "mse")}}


def train_noisy(x, s, seed) -> AE:
    """The AE with noise in its loss (E8's streams); masked: the BCE twin is trained first."""
    key = (s["loss"], s["space"], s["sigma"])
    if not s["masked"]:
        return _fit(x, s, seed, NoisyOutput(*key, p_min=P_MIN, seed=entropy(
            seed, "E8", "noise", *key)))
    twin = _fit(x, s, seed, s["loss"])
    model = _fit(x, s, seed, MaskedNoise(*key, p_min=P_MIN, twin=twin, seed=entropy(
        seed, LABEL, "noise", *key, "masked")))
    model.term.twin = None                      # not kept: the measure rebuilds the mask
    return model


def networks(data, quick):
    pair, ok = shared.ae_pair(data, quick), premises(data)
    out = {"twins": Network("e9_twins", train_twins, pair.settings, pair.n, cost=pair.cost)}
    for s in SETUPS:
        if not ok[s]:
            loss, space, sigma, masked = s
            out[name(*s)] = Network(f"e9_{name(*s)}", train_noisy, {
                **pair.settings, "loss": loss, "space": space, "sigma": sigma,
                "masked": masked}, pair.n, cost=pair.cost * (0.8 if masked else 0.4))
    return out


def predictions(data) -> list:
    ok, out = premises(data), []
    what = {"per_pixel": ("each output at the noisy optimum of its own conditional mean (the "
                          "twin's prediction m): E_e[p] = m + noise_bias(m)",
                          "analysis.pixelwise_noisy_mean on the twin's predictions"),
            "shared_map": ("the twin's logits through the one affine map a + k z that minimizes "
                           "the noisy loss over all training pixels, from the twin's own best map",
                           "analysis.affine_logit_map on the twin's logits and targets")}
    for s in SETUPS:
        pairs = ", ".join(f"{a}/{b}" for a, b in (n.split(",") for n in _pair_names(s)))
        for r in RIVALS:
            out.append(Prediction(
                f"E9.{r}[{name(*s)}]", f"{s[0].upper()} AE, {s[1]} noise of sd {s[2]:g}"
                f"{' where the twin predicts inside ' + str(BAND) if s[3] else ''}: its lean is "
                f"that of {what[r][0]}", f"measured lean - the rival's lean, both E[q - y | q] "
                f"against the twin's, mean over the bin pairs {pairs}", 0.0, "intensity",
                reason="a rival computed from the twin before the noisy net is measured; the "
                "other rival predicts another lean", source=what[r][1], applicable=ok[s]))
    for sg in MASKED_SIGMAS:
        na = ok["bce", "prob", sg, False] or ok["bce", "prob", sg, True]
        for r in RIVALS:
            out.append(Prediction(
                f"E9.mask_drop.{r}[sigma={sg:g}]", f"BCE, probability noise {sg:g}: masking the "
                f"noise outside {BAND} of the twin's prediction lowers the lean as the "
                f"{r.replace('_', ' ')} rival predicts", "(full - masked lean) - the rival's "
                "(full - masked)", 0.0, "intensity", applicable=na, source=what[r][1],
                reason="per pixel predicts no drop at the mid-grey pixels, which keep their "
                "noise; the shared map predicts the drop of the faint pixels' pull"))
    return out


def _pair_names(s):
    return [f"{(a + 1) / 10:g},{(b + 1) / 10:g}" for a, b in judged(s[1], s[2])]


def _lean(q, y, base, pairs) -> float:
    ok = np.isfinite(q)
    return float(np.mean(pair_lean(by_prediction(q[ok], y[ok])[0] - base, pairs)))


def measure(nets, data) -> dict:
    x = data.train(nets["twins"]["n"])
    y, out, ref = x.astype(np.float64), {}, {}
    for loss in ("bce", "mse"):
        z = nets["twins"][loss].logits(x).astype(np.float64)
        a0, k0 = analysis.affine_logit_map(loss, z, y)
        ref[loss] = z, sigmoid(z), by_prediction(sigmoid(z), y)[0], sigmoid(a0 + k0 * z)
        out[f"E9.k_twin[{loss}]"] = k0
    for s in SETUPS:
        if name(*s) not in nets:
            continue
        loss, space, sigma, masked = s
        z, m, base, q0 = ref[loss]
        pairs, term = judged(space, sigma), NoisyOutput(loss, space, sigma, p_min=P_MIN)
        mask = (m >= BAND[0]) & (m <= BAND[1]) if masked else np.ones(m.shape, bool)

        def mean_pred(logits):
            return np.where(mask, term.expected_prediction(logits), sigmoid(logits))
        zn = nets[name(*s)].logits(x).astype(np.float64)
        a, k = analysis.affine_logit_map(loss, z, y, sigma, space, noisy=mask, p_min=P_MIN)
        lean = {"": _lean(mean_pred(zn), y, base, pairs),
                "per_pixel": _lean(np.where(mask, analysis.pixelwise_noisy_mean(
                    loss, m, sigma, space), m), y, base, pairs),
                "shared_map": _lean(mean_pred(a + k * z), y, base, pairs)
                - _lean(q0, y, base, pairs)}
        inner = (m > 0.05) & (m < 0.95)
        slope = np.polyfit(z[inner], zn[inner], 1)[0] if inner.sum() > 2 else np.nan
        tag = name(*s)
        out.update({f"E9.lean[{tag}]": lean[""], f"E9.k_shared_map[{tag}]": k,
                    f"E9.k_measured[{tag}]": float(slope)})
        for r in RIVALS:
            out[f"E9.lean_{r}[{tag}]"] = lean[r]
            out[f"E9.{r}[{tag}]"] = lean[""] - lean[r]
    for sg in MASKED_SIGMAS:
        full, part = name("bce", "prob", sg, False), name("bce", "prob", sg, True)
        if full in nets and part in nets:
            for r in RIVALS:
                drop = out[f"E9.lean[{full}]"] - out[f"E9.lean[{part}]"]
                out[f"E9.mask_drop.{r}[sigma={sg:g}]"] = drop - (
                    out[f"E9.lean_{r}[{full}]"] - out[f"E9.lean_{r}[{part}]"])
    return {**dict.fromkeys(OBSERVATIONS, np.nan), **out}    # undefined where not applicable


def _tick(s) -> str:
    loss, space, sigma, masked = s
    return f"{space} {sigma:g}" + ("\nmasked" if masked else "")


@plotting.style()
def figure(result):
    """Measured leans (mean ± sd over the seeds) and each rival's, per setup: (a) BCE, (b) MSE."""
    done = [s for s in SETUPS if result.row(f"E9.per_pixel[{name(*s)}]").verdict
            != "not applicable"]
    if not done:
        return None
    fig, axes = plotting.figure(1, 2, columns=2, height=3.0,
                                gridspec_kw={"width_ratios": [2.2, 1.0]})
    for ax, loss, head in zip(axes, ("bce", "mse"), ("(a) BCE", "(b) MSE")):
        part = [s for s in done if s[0] == loss]
        xs = np.arange(len(part))
        for j, (key, label) in enumerate((("lean", "measured"), ("lean_per_pixel", "per pixel"),
                                          ("lean_shared_map", "shared map"))):
            v = np.array([[m[f"E9.{key}[{name(*s)}]"] for s in part] for m in result.per_seed])
            ax.errorbar(xs + 0.2 * (j - 1), v.mean(0) if part else [],
                        v.std(0, ddof=1) if len(v) > 1 and part else None, ls="none",
                        marker="os^"[j], ms=3.5, color=plotting.color("", j), label=label)
        ax.set_xticks(xs, [_tick(s) for s in part], fontsize=6)
        ax.set(xlim=(-0.6, max(len(part), 1) - 0.4), title=f"{head}: noise space and sd",
               ylabel=plotting.axis_label("lean toward ½ against the twin", "intensity"))
        plotting.guides(ax, y=[0])
    legend_below(fig, axes[0].get_legend_handles_labels()[0], ncols=3)
    title(fig, LABEL, result.data.name, "noisy AEs: measured leans and the two rivals",
          "mean ± sd over " + seeds_note(result.seeds))
    return fig


#: The conclusion for each pair of verdicts (per pixel, shared map).
VERDICTS = rival_verdicts("the per-pixel optimum", "the shared map", "decisive rows", {
    ("confirmed", "confirmed"): "both rivals lie within the tolerance: this setting does not "
                                "separate them.",
    ("refuted", "inconclusive"): "the per-pixel optimum is refuted; the shared map is not "
                                 "refuted but not confirmed either (its interval leaves the "
                                 "tolerance band).",
    ("inconclusive", "refuted"): "the shared map is refuted; the per-pixel optimum is not "
                                 "refuted but not confirmed either."})


def _findings():
    out = []
    for s in SETUPS:
        t = name(*s)
        pp, sm = f"E9.per_pixel[{t}]", f"E9.shared_map[{t}]"
        head = (f"{t}: lean {{obs:E9.lean[{t}]:+.4f}}; per pixel predicts "
                f"{{obs:E9.lean_per_pixel[{t}]:+.4f}}, the shared map {{obs:E9.lean_shared_map"
                f"[{t}]:+.4f}} (k = {{obs:E9.k_shared_map[{t}]:.3f}}; the noisy net's logits "
                f"against the twin's: slope {{obs:E9.k_measured[{t}]:.3f}}); ")
        out.append(Finding(head + f"per pixel {{row:{pp}}}; shared map {{row:{sm}}}."))
        out += rival_findings(t, pp, sm, VERDICTS)
    for sg in MASKED_SIGMAS:
        pp, sm = (f"E9.mask_drop.{r}[sigma={sg:g}]" for r in RIVALS)
        out.append(Finding(f"Masking the noise outside {BAND} (σ = {sg:g}): the drop of the "
                           f"lean against the per-pixel rival's {{row:{pp}}}; against the shared "
                           f"map's {{row:{sm}}}."))
        out += rival_findings(f"The masking test at σ = {sg:g}", pp, sm, VERDICTS)
    return tuple(out)


FINDINGS = _findings()
