"""The advice as Markdown (what the command prints and writes) and as one figure."""
from __future__ import annotations

import math

import numpy as np

from .. import _text
from ..data import DATASETS
from .core import Advice, _pct
from .reports import DISPLAY
from .stats import HIST_BINS

__all__ = ["to_markdown", "advice_figure", "FIGURE_STEM"]

#: File stem of the figure written next to the Markdown (``advice.pdf``, ``advice.png``).
FIGURE_STEM = "advice"

_KIND = {"equal": "=", "at_least": "≥", "at_most": "≤"}


def _g(v, digits=4) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:.{digits}g}"


def _ordered(by_dataset: dict):
    """(dataset, value) pairs in the package's dataset order (then any others by name)."""
    order = {ds: i for i, ds in enumerate(DATASETS)}
    return sorted(by_dataset.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))


def _measured(b: dict) -> str:
    """One backing measurement: 'MNIST `E5.blur.order`: 0.933 ± 0.058 (3 seeds; predicted ≥ 1,
    tolerance 0.1): confirmed'."""
    spread = f" ± {_g(b['sd'], 2)}" if b.get("sd") is not None else ""
    seeds = f"{b['n']} seeds" if b.get("n") else ""
    if b.get("interval"):
        lo, hi = b["interval"]
        seeds += (", " if seeds else "") + f"interval [{_g(lo, 3)}, {_g(hi, 3)}]"
    pred = ""
    if b.get("value") is not None:
        pred = f"predicted {_KIND.get(b.get('kind'), '=')} {_g(b['value'])}"
        if b.get("tolerance") is not None:
            pred += f", tolerance {_g(b['tolerance'], 3)}"
    inner = "; ".join(x for x in (seeds, pred) if x)
    role = " (a consistency check)" if b.get("role") == "consistency" else ""
    return (f"{DISPLAY.get(b['dataset'], b['dataset'])} `{b['id']}`: {_g(b['mean'])}{spread}"
            + (f" ({inner})" if inner else "") + f": {b['verdict']}{role}")


def to_markdown(advice: Advice, *, title: str = "data", figure: str | None = None,
                study: str | None = None) -> str:
    """The advice as a Markdown document: the recommendations first, then the evidence.

    ``title`` (the data's file name: a user's string, escaped here), ``figure`` (the file name of
    the figure to link), ``study`` (the command that measures the predictions on this data,
    shown in the recommendations; default ``python -m lossanalysis study DATA``).

    Examples
    --------
    >>> from lossanalysis.advise import advise
    >>> rng = np.random.default_rng(0)
    >>> text = to_markdown(advise(rng.random((50, 9)), latent=3), title="noise")
    >>> text.splitlines()[0]
    '# Which reconstruction loss for noise?'
    """
    lines = (_data_section(advice, title) + _recommendations_section(advice, study)
             + _profile_section(advice) + _likelihoods_section(advice)
             + _scale_section(advice) + _predictions_section(advice))
    if advice.notes:
        lines += ["## Notes", ""] + [f"- {_text.markdown(n)}" for n in advice.notes] + [""]
    if figure:
        lines += [f"![intensity histogram and covariance spectrum]({figure})", ""]
    return "\n".join(lines)


def _data_section(a: Advice, title: str) -> list:
    """The title and what was read: how many images of what size, how the values were scaled."""
    src = a.source
    lines = [f"# Which reconstruction loss for {_text.markdown(title)}?", ""]
    shape = src.get("image_shape")
    what = f"{src['n']:,} images" + (f" of {' × '.join(map(str, shape))}" if shape else "")
    if src.get("total") and src["total"] != src["n"]:
        what += f" (a random {src['n']:,} of {src['total']:,}, seed {src.get('seed', 0)})"
    read = ("8-bit levels read as v/255" if src.get("eight_bit_levels") and src["scale"] == 255
            else f"values divided by {_g(src['scale'])}" if src["scale"] != 1
            else "values as given")
    return lines + [f"Data: {what}, {src['d']:,} values each; {read}.  Analysis time "
                    f"{a.seconds:.1f} s.", ""]


def _recommendations_section(a: Advice, study: str | None) -> list:
    """The recommendation per goal with its rule, and the command that measures them here."""
    lines = ["## Recommendations", "", "| goal | use | why |", "|---|---|---|"]
    lines += [f"| {r['goal']} | {r['use']} | {r['why']} |" for r in a.recommendations]
    lines += ["", "Rules: " + "; ".join(f"*{r['goal']}*: {r['rule']}"
                                        for r in a.recommendations) + ".", ""]
    command = study or "python -m lossanalysis study DATA"
    return lines + ["These follow from the analysis of this data's statistics; the measurements "
                    "quoted below were made on the reports' datasets, not on it.  To train the "
                    "candidates on these images and measure the predictions here, run "
                    f"`{_text.terminal(command).replace('`', chr(39))}`.", ""]


def _profile_section(a: Advice) -> list:
    """The intensity profile, and the mid-grey share against the reports' data."""
    p = a.profile
    lines = ["## Intensity profile", "",
             "| exactly 0 | exactly 1 | near-binary (within 0.1 of 0 or 1) | mid-grey "
             "(0.2–0.8) | strictly inside (0, 1) |", "|---|---|---|---|---|",
             f"| {_pct(p['exactly_0'])} | {_pct(p['exactly_1'])} | {_pct(p['near_binary'])} | "
             f"{_pct(p['mid_grey'])} | {_pct(p['inside_0_1'])} |", ""]
    ref = a.reports.get("mid_grey_of_nonzero", {})
    share = (f"Mid-grey share of the non-zero values: {_pct(p['mid_grey_of_nonzero'])}"
             if p["mid_grey_of_nonzero"] is not None else "Every value is 0")
    if ref:
        share += " (the reports' training data: " + ", ".join(
            f"{DISPLAY.get(ds, ds)} {_pct(v)}" for ds, v in _ordered(ref)) + ")"
    return lines + [share + ".", ""]


def _likelihoods_section(a: Advice) -> list:
    lines = ["## What each likelihood assumes, and how far this data is from it", "",
             "| likelihood (loss) | assumes | on this data |", "|---|---|---|"]
    lines += [f"| {r['likelihood']} (`{r['loss']}`) | {r['assumes']} | {r['this_data']} |"
              for r in a.likelihoods]
    return lines + [""]


def _scale_section(a: Advice) -> list:
    """The Bernoulli decoder's effective sigma, the spectrum and the linear-VAE rule's table."""
    sc = a.scale
    lines = ["## Likelihood scale", "",
             f"Bernoulli decoder's effective σ at its zero-rate operating point "
             f"(σ² = tr S / tr(D^−½ S D^−½), D = diag(m(1 − m))): **{_g(sc['sigma_eff_bernoulli'], 3)}**.  "
             f"Covariance spectrum: total variance {_g(sc['total_variance'])}, largest "
             "eigenvalues " + ", ".join(_g(v, 3) for v in sc["top_eigenvalues"]) + ".", "",
             f"Linear-VAE rule (latent {sc['latent']}; a direction is active when its optimal "
             f"KL ½ ln(λ/σ²) exceeds {sc['kl_threshold']:g} nats; the Bernoulli row uses the "
             "whitened spectrum against 1):", "",
             f"| decoder | σ | active (of {sc['latent']}) | directions above threshold | "
             "code rate (nats) | per-value MSE (posterior samples) |",
             "|---|---|---|---|---|---|"]
    for r in sc["rows"]:
        n_open = ("≥ " if r.get("directions_open_at_least") else "") + _g(r["directions_open"])
        lines.append(f"| {r['label']} | {_g(r['sigma'], 3)} | {_g(r['active'])} | "
                     f"{n_open} | {_g(r['rate'], 3)} | {_g(r['mse'], 3)} |")
    return lines + [""]


def _predictions_section(a: Advice) -> list:
    """Each prediction computed for this data, with the reports' measurements of it."""
    lines = ["## Predictions for this data, and how they fared on the reports' datasets", ""]
    if not a.reports.get("datasets"):
        lines += ["No study report was found (`studies/<name>/report.json` next to the package "
                  "in a source checkout, or `--reports DIR`): the analysis' predictions only.",
                  ""]
    else:
        shown = ", ".join(DISPLAY.get(ds, ds) for ds in a.reports["datasets"])
        lines += ["Each prediction below is computed for this data.  The bullets under it are "
                  f"not measurements on this data: they are the committed reports' ({shown}) "
                  "own prediction for their dataset, the measurement over seeds and the "
                  "computed verdict, which show how the same rule fared there.", ""]
    for i, pr in enumerate(a.predictions, 1):
        lines += [f"{i}. **{pr['title']}** ({pr['experiment']}).  {pr['analysis']}"]
        sig = pr.get("report_sigma_eff") or {}
        if sig:
            lines.append("   The reports' σ_eff for their data: " + ", ".join(
                f"{DISPLAY.get(ds, ds)} {_g(v, 3)}" for ds, v in _ordered(sig)) + ".")
        for b in pr["backing"]:
            lines.append(f"   - measured on {_measured(b)}")
    return lines + [""]


def advice_figure(advice: Advice, *, columns: int = 1):
    """One figure: (a) the histogram of the values, exact 0s and 1s apart; (b) the covariance
    spectrum with the thresholds sigma^2 e^(2 tau) of the table's decoders.  ``columns``: 1
    (3.4 in, panels stacked) or 2 (7.0 in, side by side); each panel has its legend below it.
    Returns the matplotlib Figure (save it with :func:`lossanalysis.plotting.save`).

    Examples
    --------
    >>> from lossanalysis.advise import advise
    >>> rng = np.random.default_rng(0)
    >>> fig = advice_figure(advise(rng.random((50, 9)), latent=3), columns=2)
    >>> [round(float(v), 1) for v in fig.get_size_inches()]
    [7.0, 2.8]
    """
    from .. import plotting

    a = advice
    fig, subs, axes = plotting.panels(2, columns=columns, height=2.8)
    with plotting.style():
        ax = axes[0]
        edges = np.linspace(0, 1, HIST_BINS + 1)
        width = edges[1] - edges[0]
        frac = a.hist_counts / a.profile["values"]
        ax.bar(edges[:-1], frac, width=width, align="edge", color=plotting.PALETTE[5],
               linewidth=0, label="strictly inside (0, 1)")
        exact = [a.profile["exactly_0"], a.profile["exactly_1"]]
        ax.bar([-width, 1.0], exact, width=width, align="edge", color=plotting.PALETTE[6],
               linewidth=0, label="exactly 0 or 1")
        ax.set_yscale("log")
        positive = [v for v in list(frac) + exact if v > 0]
        if positive:
            ax.set_ylim(min(positive) / 2, max(positive) * 2)
        ax.set_xlim(-width, 1 + width)
        ax.set_xlabel(plotting.axis_label("value", "intensity"))
        ax.set_ylabel(plotting.axis_label("fraction of values", "ratio"))
        ax.set_title("(a) intensity profile")
        plotting.panel_legend(subs[0])

        ax = axes[1]
        lam = a.spectrum
        k = int(min(lam.size, 300, a.spectrum_known or lam.size))
        idx = np.arange(1, k + 1)
        pos = lam[:k] > 0
        ax.plot(idx[pos], lam[:k][pos], color="0.1", lw=1.0, label="eigenvalue λᵢ")
        tau = a.scale["kl_threshold"]
        styles = [(0, (1, 1.2)), (0, (4, 1.5)), (0, (4, 1.5, 1, 1.5)), "-", (0, (8, 2)),
                  (0, (4, 1.5, 1, 1.5, 1, 1.5))]
        fixed = [r for r in a.scale["rows"] if r["kind"] == "gaussian"]
        for j, r in enumerate(fixed):
            plotting.mark_reference(ax.axhline(
                r["sigma"] ** 2 * math.exp(2 * tau), color="0.55", lw=0.7,
                ls=styles[j % len(styles)], label=f"σ = {r['sigma']:g}"))
        learned = a.scale["learned_sigma"]
        if learned > 0:
            plotting.mark_reference(ax.axhline(learned ** 2 * math.exp(2 * tau),
                                               color=plotting.PALETTE[5], lw=1.0,
                                               label=f"learned σ = {learned:.3f}"))
        s_b = a.scale["sigma_eff_bernoulli"]
        if math.isfinite(s_b) and s_b > 0:
            plotting.mark_reference(ax.axhline(s_b ** 2 * math.exp(2 * tau),
                                               color=plotting.PALETTE[6], lw=1.0,
                                               label=f"Bernoulli σ_eff = {s_b:.3f}"))
        plotting.mark_reference(ax.axvline(a.scale["latent"], color="0.8", lw=0.6, zorder=0,
                                           label=f"latent size {a.scale['latent']}"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(plotting.axis_label("direction rank i", "count"))
        ax.set_ylabel(plotting.axis_label("λᵢ and σ² e^(2τ)", "intensity²"))
        ax.set_title("(b) covariance spectrum and thresholds")
        plotting.panel_legend(subs[1], max_columns=3)
    return fig
