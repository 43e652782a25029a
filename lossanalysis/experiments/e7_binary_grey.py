"""E7 -- binary versus grey data: every loss-dependent effect on MNIST and on Fashion-MNIST.

MNIST is nearly binary (about a third of its non-zero pixels are mid-grey), Fashion-MNIST is
grey (more than half).  E7 sets each effect measured by E1-E6 on one dataset next to the same
effect on the other, with the ratio Fashion-MNIST / MNIST and its elasticity with respect to the
mid-grey share (ln effect ratio / ln grey-share ratio: 1 if the effect is proportional to the
share, 0 if independent of it).  Where the analysis says how an effect depends on the grey share
("grows", "flat", "falls"), that is a prediction on ln(Fashion / MNIST), per seed: "grows" is
ln ratio >= ln 1.1, "falls" is ln ratio <= -ln 1.1, "flat" is |ln ratio| <= ln 1.1.  Those
expectations were written after a report had shown the ratios (see :data:`REVISIONS`); they are
re-tested on fresh seeds.  Effects that are properties of the data alone (no seed enters) are
deterministic rows: fresh seeds cannot re-test them, so they are never blind.

E7 runs after the other experiments of both datasets (``AFTER_ALL``): its ``measure`` receives
every dataset's observations.  Its rows appear in each dataset's report; they count as
registered only when both datasets were measured in the same run.
"""
from __future__ import annotations

import math

import numpy as np

from .. import plotting
from .core import (DATASET_TITLES, FALSIFIABLE, Measured, Observation, Prediction, Revision,
                   cell, stated)
from .figures import legend_below, seeds_note, title

__all__ = ["LABEL", "NAME", "REVISIONS", "AFTER_ALL", "settings", "prepare", "tasks",
           "measure", "figure", "text", "EFFECTS", "SAME", "relation", "DATASETS"]

LABEL = "E7"
NAME = "E7 Binary versus grey data"
AFTER_ALL = True
DATASETS = tuple(DATASET_TITLES.items())
#: Ratios within this factor of 1 count as "about the same" ("flat").
SAME = 1.1


def _one(name):
    return lambda obs: _series(obs, name)


def _diff(a, b):
    def get(obs):
        va, sa = _series(obs, a)
        vb, sb = _series(obs, b)
        return _combine(va, sa, vb, sb, lambda x, y: x - y)
    return get


def _abs(name):
    def get(obs):
        v, s = _series(obs, name)
        return tuple(abs(x) for x in v), s
    return get


#: (short name, label, the effect per seed from a dataset's observations, the dependence on the
#: grey share the analysis states -- "grows", "flat", "falls" or None -- and why).
EFFECTS = (
    ("E1 mean-median gap", "E1 mean |mean - median| of a pixel location (what MAE vs MSE/BCE "
     "changes)", _one("E1.mean_minus_median"), "falls",
     "a location's mean and median part most when its targets are bimodal (0 or 1); grey "
     "targets between them bring the two together"),
    ("E1 focal pull", "E1 focal's pull toward 1/2 at the AE batch's grey pixels (predicted, |.|)",
     _one("E1.focal_pull_predicted"), "flat",
     "an average over grey pixels: set by where the grey levels lie, not by how many there are"),
    ("E2 SGD slowdown", "E2 SGD slowdown of MSE from saturation (x)", _one("E2.sgd_slowdown"),
     "flat", "set by the sigmoid at the starting logit (2p(1 - p) at z = -6), not by the data"),
    ("E2 Adam slowdown", "E2 Adam slowdown (x)", _one("E2.adam_slowdown"), "flat",
     "as the SGD slowdown"),
    ("E3 MSE calibration drift", "E3 MSE calibration error in the large, mean |.|",
     _one("E3.mse_mean_abs_error"), None,
     "unbalanced errors on confident outputs, binary targets as well as grey ones: no scaling "
     "with the grey share follows"),
    ("E4 BCE-MSE signed error", "E4 mean |BCE - MSE| signed error over the grey bins (per seed)",
     _one("E4.mean_abs_signed_diff"), None,
     "an average per grey pixel, set by the networks' noise there: no scaling with the grey "
     "share follows"),
    ("E4 AE blur BCE-MSE", "E4 AE blur ratio, BCE - MSE", _one("E4.blur_diff"), None,
     "the analysis predicts no point-target bias for either loss (claim 3)"),
    ("E5 Bernoulli VAE blur", "E5 VAE blur ratio, Bernoulli decoder",
     _one("blur_ratio[vae_bernoulli]"), "grows",
     "the Bernoulli decoder's effective sigma grows with the grey share, and a larger sigma "
     "weakens the data term against the KL"),
    ("E5 Bernoulli sigma_eff", "E5 Bernoulli decoder's effective sigma (zero-rate)",
     _one("E5.sigma_eff[bernoulli]"), "grows",
     "sigma_eff^2 = tr S / sum_j S_jj / (m_j(1 - m_j)) is the harmonic mean of the mean image's "
     "Bernoulli variances m(1 - m), weighted by the pixel variances: a greyer mean image raises "
     "it"),
    ("E6 CB lambda push", "E6 CB parameter image: extra distance from 1/2 over the data "
     "(mid-grey pixels)", _diff("E6.param_extremeness[continuous_bernoulli_param]",
                                "E6.param_extremeness[data]"), "flat",
     "an average over mid-grey pixels: set by where the grey levels lie"),
    ("E6 CB/Bernoulli MAE", "E6 MAE of the CB mean image / Bernoulli's", _one("E6.mae_ratio"),
     None, "no scaling derived"),
    ("E6 CB lambda push (control)", "E6 control (data clipped, no exact 0 or 1): CB parameter "
     "image's extra distance from 1/2 over the data (mid-grey pixels)",
     _diff("E6.clipped.param_extremeness[continuous_bernoulli_param]",
           "E6.clipped.param_extremeness[data]"), "flat",
     "as the raw push, without the exact 0s and 1s at which the CB has no minimizer (MNIST has "
     "more of them)"),
    ("E6 CB/Bernoulli MAE (control)", "E6 control: MAE of the CB mean image / Bernoulli's",
     _one("E6.clipped.mae_ratio"), None, "no scaling derived"),
)

_OLD = {
    "E1 mean-median gap": "MNIST 0.1488, Fashion-MNIST 0.07467: ratio 0.50",
    "E1 focal pull": "MNIST 0.1386, Fashion-MNIST 0.1355: ratio 0.98",
    "E2 SGD slowdown": "MNIST 147.7, Fashion-MNIST 136.4: ratio 0.92",
    "E2 Adam slowdown": "MNIST 1.067, Fashion-MNIST 1.076: ratio 1.01",
    "E5 Bernoulli VAE blur": "MNIST 1.284, Fashion-MNIST 1.485: ratio 1.16",
    "E5 Bernoulli sigma_eff": "MNIST 0.3295, Fashion-MNIST 0.4074: ratio 1.24",
    "E6 CB lambda push": "MNIST 0.2891, Fashion-MNIST 0.2274: ratio 0.79",
    "E6 CB lambda push (control)": "MNIST 0.2275, Fashion-MNIST 0.21: ratio 0.92",
}


def _slug(short: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in short.lower()).strip("_").replace("__", "_")


def _pid(short: str) -> str:
    return f"E7.{_slug(short)}"


#: Predictions changed after an earlier run had measured them (listed in the report).
REVISIONS = (
    Revision(tuple(_pid(e[0]) for e in EFFECTS if e[3] is not None),
             "the expected dependence on the grey share ('grows', 'flat', 'falls') became "
             "predictions on ln(Fashion-MNIST / MNIST) per seed, judged like every other row",
             "the 'expected' column of the earlier E7 table was written after the ratios had "
             "been shown, while the report said it was fixed before the runs",
             "", old_seeds=tuple((_pid(short), "both", text) for short, text in _OLD.items())),
)


def settings(cfg) -> dict:
    return {"same": SAME}


# ----------------------------------------------------------------------------------------------
# Predictions
# ----------------------------------------------------------------------------------------------
def prepare(cfg, data) -> dict:
    """E7's predictions: fixed without data (the stated dependences)."""
    t = math.log(SAME)
    spec = {"grows": (t, 0.0, "at_least"), "falls": (-t, 0.0, "at_most"),
            "flat": (0.0, t, "equal")}
    P = {}
    for short, label, _, expected, why in EFFECTS:
        if expected is None:
            continue
        value, tol, comparison = spec[expected]
        P[short] = stated(cfg, Prediction(
            _pid(short), LABEL, f"{label}: {expected} with the grey share ({why})",
            "ln(Fashion-MNIST value / MNIST value), per seed", value, tol, comparison,
            FALSIFIABLE, "the two datasets could show another dependence than the analysis "
            "states", f"the analysis' reasoning (see the E7 section); '{expected}' = ln ratio "
            f"{'>=' if expected == 'grows' else '<=' if expected == 'falls' else 'within +-'} "
            f"ln {SAME:g}", deterministic=short in ("E1 mean-median gap", "E1 focal pull",
                                                    "E5 Bernoulli sigma_eff")))
    return {"settings": settings(cfg), "P": P, "predictions": list(P.values())}


# ----------------------------------------------------------------------------------------------
# Measure
# ----------------------------------------------------------------------------------------------
def _series(obs, name):
    """(values, seeds) of observation ``name`` (an Observation or its JSON dict)."""
    o = obs[name]
    if isinstance(o, dict):
        return tuple(math.nan if v is None else float(v) for v in o["values"]), tuple(o["seeds"])
    return tuple(float(v) for v in o.values), tuple(o.seeds)


def _combine(va, sa, vb, sb, op):
    """Per-seed ``op`` of two series; a series without seeds (a property of the data) is the
    same for every seed.  Paired by seed where both have seeds (the common seeds), by position
    when they share none."""
    if not sa and not sb:
        return (op(va[0], vb[0]),), ()
    if not sa:
        return tuple(op(va[0], y) for y in vb), sb
    if not sb:
        return tuple(op(x, vb[0]) for x in va), sa
    common = [s for s in sa if s in sb]
    if common:
        return tuple(op(va[sa.index(s)], vb[sb.index(s)]) for s in common), tuple(common)
    n = min(len(va), len(vb))
    return tuple(op(x, y) for x, y in zip(va[:n], vb[:n])), tuple(sa[:n])


def _log_ratio(a, b):
    return math.log(b / a) if a > 0 and b > 0 else math.nan


def relation(ratio) -> str | None:
    """How an effect changed from MNIST to Fashion-MNIST: "grows", "falls", "flat" (within
    :data:`SAME`), "changes sign", or None when it was not measured on both.

    >>> relation(1.05), relation(0.5), relation(-2.0), relation(None)
    ('flat', 'falls', 'changes sign', None)
    """
    if ratio is None or not math.isfinite(ratio):
        return None
    if ratio < 0:
        return "changes sign"
    if ratio > SAME:
        return "grows"
    if ratio < 1 / SAME:
        return "falls"
    return "flat"


def tasks(cfg, prep, seeds) -> list:
    return []


def measure(cfg, prep, seeds, done, context) -> Measured:
    """Each effect on both datasets from ``context``: {"observations": {dataset: {name:
    Observation or dict}}, "summaries": {dataset: dict}, "sources": {dataset: text},
    "experiments": {dataset: labels of the experiments that ran}}.  An effect whose experiment
    ran but did not publish the observation it needs is an error, not a blank."""
    obs_by = context["observations"]
    have = [ds for ds, _ in DATASETS if ds in obs_by]
    effects, values, notes, row_seeds = [], {}, {}, {}
    for short, label, get, expected, why in EFFECTS:
        per = {}
        source = short.split()[0]          # the experiment behind the effect, e.g. "E2"
        for ds in have:
            ran = context.get("experiments", {}).get(ds)
            if ran is not None and source not in ran:
                per[ds] = None             # that experiment did not run: nothing to compare
                continue
            try:
                per[ds] = get(obs_by[ds])
            except KeyError as err:        # it ran, so a missing observation is a bug
                raise KeyError(f"E7: {source} ran on {ds} but published no observation "
                               f"{err.args[0]!r}") from None
        a, b = per.get("mnist"), per.get("fashion-mnist")
        ratio = lr = None
        if a is not None and b is not None:
            lr, lr_seeds = _combine(a[0], a[1], b[0], b[1], _log_ratio)
            ma, mb = float(np.mean(a[0])), float(np.mean(b[0]))
            ratio = mb / ma if ma != 0 else None
            if expected is not None:
                values[_pid(short)] = list(lr)
                row_seeds[_pid(short)] = lr_seeds
                notes[_pid(short)] = ("ratio per seed " + ", ".join(
                    f"{math.exp(v):.3f}" if math.isfinite(v) else "undefined" for v in lr))
        effects.append({"short": short, "label": label, "expected": expected, "why": why,
                        "values": {ds: (None if p is None else float(np.mean(p[0])))
                                   for ds, p in per.items()},
                        "ratio": ratio, "measured": relation(ratio)})
    grey = {ds: context["summaries"][ds]["frac_mid_of_nonzero"] for ds in have}
    g_ratio = grey["fashion-mnist"] / grey["mnist"] if len(have) == 2 else None
    for e in effects:
        r = e["ratio"]
        e["elasticity"] = (math.log(r) / math.log(g_ratio)
                           if r is not None and r > 0 and g_ratio and g_ratio != 1 else None)
    extra = {"effects": effects, "grey": grey, "have": have,
             "sources": context.get("sources", {}),
             "between": {ds: context["summaries"][ds]["frac_between"] for ds in have}}
    # rows of a comparison that uses another run's numbers cannot count as registered
    saved = [ds for ds in have if context.get("sources", {}).get(ds, "this run") != "this run"]
    if saved:
        extra["not_registrable"] = ("uses the saved measurements of "
                                    + ", ".join(saved) + " (another run)")
    if len(have) < 2:
        extra["not_registrable"] = "needs both datasets; only " + ", ".join(have) + " measured"
        for p in prep["P"].values():
            values[p.id], notes[p.id], row_seeds[p.id] = [], "not measured: needs both datasets", ()
    obs = {f"E7.grey_share[{ds}]": Observation((grey[ds],), (), "fraction") for ds in have}
    longest = max(row_seeds.values(), key=len, default=())
    return Measured(values, tuple(longest), notes, obs, extra, row_seeds)


_BANDS = {"grows": (SAME, math.inf), "flat": (1 / SAME, SAME), "falls": (0.0, 1 / SAME)}


def _display(short: str) -> str:
    return (short.replace("sigma_eff", r"$\sigma_\mathrm{eff}$").replace("lambda", "λ")
            .replace("mean-median", "mean−median"))


@plotting.style()
def figure(cfg, prep, measured):
    """Each effect with a stated dependence on the grey share: Fashion-MNIST / MNIST per seed
    and its mean, against the band the statement allows; None unless both datasets were
    measured."""
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import FuncFormatter
    if len(measured.extra["have"]) < 2:
        return None
    rows = [e for e in measured.extra["effects"] if e["expected"] is not None][::-1]
    per_seed = [np.exp([v for v in measured.values[_pid(e["short"])] if math.isfinite(v)])
                for e in rows]
    grey = measured.extra["grey"]
    g_ratio = grey["fashion-mnist"] / grey["mnist"]
    fig, ax = plotting.figure(columns=1, height=1.1 + 0.24 * len(rows))
    shown = np.concatenate(per_seed + [[g_ratio, SAME, 1 / SAME]])
    lo, hi = float(np.min(shown)) / 1.15, float(np.max(shown)) * 1.15
    band = dict(color="0.88", lw=0)
    seed = dict(ls="none", marker="o", ms=3, mfc="none", mew=0.6, color=plotting.color("", 0))
    mean = dict(ls="none", marker="|", ms=8, mew=1.4, color="black")
    share = dict(color=plotting.color("", 1), lw=0.8, ls=(0, (3, 2)))
    for i, (e, vals) in enumerate(zip(rows, per_seed)):
        b0, b1 = _BANDS[e["expected"]]
        ax.add_patch(Rectangle((max(b0, lo), i - 0.35), min(b1, hi) - max(b0, lo), 0.7,
                               zorder=0, **band))
        ax.plot(vals, np.full(vals.size, i), zorder=2, **seed)
        if vals.size:
            ax.plot([np.exp(np.mean(np.log(vals)))], [i], zorder=3, **mean)
    plotting.guides(ax, x=[1.0])
    plotting.mark_reference(ax.axvline(g_ratio, zorder=1, **share))
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(
        lambda v, _: f"{v:g}" if round(v / 10 ** math.floor(math.log10(v)), 6) in (2, 5) else ""))
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks(range(len(rows)), [_display(e["short"]) for e in rows])
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(plotting.axis_label("Fashion-MNIST / MNIST", "ratio"))
    legend_below(fig, [Rectangle((0, 0), 1, 1, label="stated: grows / flat / falls", **band),
                       ("measured, each seed", seed), ("geometric mean", mean),
                       (f"grey-share ratio {g_ratio:.2f}", share)])
    seeds = sorted({s for e in rows for s in measured.row_seeds.get(_pid(e["short"]), ())})
    title(fig, LABEL, "grey vs binary data", "effect ratios",
          seeds_note(seeds) if seeds else "")
    return fig


# ----------------------------------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------------------------------
def _num(v, form: str) -> str:
    return "–" if v is None else form.format(v)


def text(cfg, prep, measured, rows) -> str:
    ex = measured.extra
    lines = [f"## {NAME}", ""]
    if len(ex["have"]) < 2:
        missing = [t for d, t in DATASETS if d not in ex["have"]]
        lines += [f"Only {', '.join(t for d, t in DATASETS if d in ex['have'])} has results so "
                  f"far; run `--dataset both` (or the other dataset into the same folder) to "
                  f"compare with {', '.join(missing)}.", ""]
        return "\n".join(lines) + "\n"
    gm, gf = ex["grey"]["mnist"], ex["grey"]["fashion-mnist"]
    src = ex["sources"]
    by = {r.id: r for r in rows}
    lines += [
        "Every loss-dependent effect on both datasets, next to each dataset's share of mid-grey "
        "pixels (0.2 < y < 0.8) among its non-zero pixels "
        f"(MNIST {100 * gm:.1f}%, Fashion-MNIST {100 * gf:.1f}%: ratio {gf / gm:.2f}).  "
        "Elasticity: ln(effect ratio) / ln(grey-share ratio) -- 1 if the effect is proportional "
        "to the grey share, 0 if independent of it, negative if it falls as the share rises.  "
        "'Expected' is the dependence the analysis states; it was written after an earlier "
        "report had shown the ratios (see the disclosure section), and each is judged here as a "
        f"prediction on ln(ratio) per seed ('flat': within ln {SAME:g}).  'Measured' classifies "
        f"the ratio of the means.  Sources: MNIST {src.get('mnist', 'this run')}, "
        f"Fashion-MNIST {src.get('fashion-mnist', 'this run')}.", "",
        "| effect | MNIST | Fashion-MNIST | Fashion / MNIST | elasticity | expected | measured "
        "| verdict |", "|---|---|---|---|---|---|---|---|",
        f"| mid-grey share of the non-zero pixels | {gm:.3f} | {gf:.3f} | {gf / gm:.2f} | 1 | – "
        "| – | – |",
        f"| pixels strictly between 0 and 1 | {ex['between']['mnist']:.3f} | "
        f"{ex['between']['fashion-mnist']:.3f} | "
        f"{ex['between']['fashion-mnist'] / ex['between']['mnist']:.2f} | – | – | – | – |"]
    for e in ex["effects"]:
        a, b = e["values"].get("mnist"), e["values"].get("fashion-mnist")
        row = by.get(_pid(e["short"]))
        lines.append(
            f"| {cell(e['label'])} | {_num(a, '{:.4g}')} | {_num(b, '{:.4g}')} | "
            f"{_num(e['ratio'], '{:.2f}')} | {_num(e['elasticity'], '{:+.2f}')} | "
            f"{e['expected'] or '–'} | {e['measured'] or '–'} | "
            f"{row.verdict if row is not None else '–'} |")
    measured_ = [e for e in ex["effects"] if e["measured"] is not None]
    judged = [e for e in measured_ if e["expected"] is not None]
    agree = [e for e in judged if e["measured"] == e["expected"]]
    disagree = [e for e in judged if e["measured"] != e["expected"]]

    def names(es):
        return ", ".join(f"{e['short']} ({e['ratio']:.2f}x)" for e in es) or "none"
    groups = {k: [e for e in measured_ if e["measured"] == k]
              for k in ("grows", "falls", "flat", "changes sign")}
    lines += ["", f"Of the {len(measured_)} effects measured on both datasets, "
              f"{len(groups['grows'])} are larger on the greyer Fashion-MNIST by more than "
              f"{SAME:g}x ({names(groups['grows'])}), {len(groups['falls'])} are smaller "
              f"({names(groups['falls'])}), {len(groups['flat'])} about the same "
              f"({names(groups['flat'])})"
              + (f" and {len(groups['changes sign'])} change sign "
                 f"({names(groups['changes sign'])})" if groups["changes sign"] else "") + ".  "
              f"Of the {len(judged)} whose dependence the analysis states, by the ratio of the "
              f"means {len(agree)} behave as it says ({names(agree)}) and {len(disagree)} "
              f"{'does' if len(disagree) == 1 else 'do'} not"
              + (": " + "; ".join(f"{e['short']} expected {e['expected']}, measured "
                                  f"{e['measured']} ({e['ratio']:.2f}x)" for e in disagree)
                 if disagree else "") + "; the verdicts judge the per-seed ratios.", "",
              "Why each dependence is expected:", ""]
    for e in ex["effects"]:
        lines.append(f"* {e['short']}: {e['expected'] or 'no expectation'} -- {e['why']}.")
    return "\n".join(lines) + "\n"
