#!/usr/bin/env python3
"""Where each loss puts its optimal prediction: the point-target bias and the bias caused by
irreducible prediction noise, against the target intensity.

(a) argmin_p L(y, p) - y for every catalogue loss (the proper ones overlap at 0);
(b) the noise-induced bias of the mean prediction, (E[p] - p*)/sigma^2, for noise in
    probability space (p = y + c + sigma e) at two sigmas (line, markers);
(c) the same for noise in the logit (z = logit y + c + sigma e, p = sigmoid(z)).
All numbers come from lossanalysis.analysis.  Writes figures/bias.pdf and figures/bias.png.
"""
import argparse
import sys

import numpy as np

from lossanalysis import LOSSES, analysis, plotting
from lossanalysis.losses import continuous_bernoulli_mean

NOISE_LOSSES = ("bce", "reverse_kl", "logit_mse", "mse", "focal")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="figures", help="output folder (default: figures)")
    ap.add_argument("--name", default="bias", help="file name stem (default: bias)")
    ap.add_argument("--sigma-prob", default="0.01,0.03",
                    help="two noise levels in probability space (default: 0.01,0.03)")
    ap.add_argument("--sigma-logit", default="0.25,1.0",
                    help="two noise levels in the logit (default: 0.25,1.0)")
    args = ap.parse_args(argv)
    try:
        sp_prob = [float(v) for v in args.sigma_prob.split(",")]
        sp_logit = [float(v) for v in args.sigma_logit.split(",")]
    except ValueError:
        ap.error("sigmas must be comma-separated numbers")
    if len(sp_prob) != 2 or len(sp_logit) != 2 or min(sp_prob + sp_logit) <= 0:
        ap.error("give two positive sigmas per space")

    fig, axes = plotting.figure(1, 3, columns=2, height=2.7)

    # (a) point-target bias
    ax = axes[0]
    y = np.linspace(0.002, 0.998, 499)
    proper = [n for n in LOSSES if analysis.is_proper(n).proper]
    ax.axhline(0, color="0.55", lw=2.2, alpha=0.6,
               label=f"{len(proper)} proper losses\n(mse, bce, kl, mae, ...)")
    for name in LOSSES:
        if name in proper:
            continue
        b = analysis.bias(name, y)
        ax.plot(y, b, color=plotting.color(name), ls=plotting.linestyle(name), label=name)
        if name == "continuous_bernoulli":
            mean = continuous_bernoulli_mean(analysis.argmin(name, y)) - y
            ax.plot(y, mean, color=plotting.color(name), ls=(0, (1, 1.5)), lw=0.9,
                    label="CB mean of p*")
    ax.set_xlabel("target intensity y (dimensionless, [0, 1])")
    ax.set_ylabel("point-target bias p* − y (intensity)")
    ax.set_title("(a) minimizer of L(y, p)")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower left", fontsize=6, handlelength=1.8)

    # (b, c) noise-induced bias, normalized by sigma^2
    for ax, space, sigmas, title in ((axes[1], "prob", sp_prob, "(b) noise in p"),
                                     (axes[2], "logit", sp_logit, "(c) noise in the logit z")):
        for name in NOISE_LOSSES:
            if space == "prob":
                # the 10-point noise reaches 4.86 sigma: keep the largest sigma inside (0, 1)
                margin = 4.9 * max(sigmas) + 0.005
                yy = np.linspace(margin, 1 - margin, 161)
                if not analysis.is_proper(name).proper:
                    continue      # focal's optimum sits far from y; its noise term is tiny
            else:
                yy = np.linspace(0.01, 0.99, 161)
            b0 = analysis.bias(name, yy)
            style = dict(color=plotting.color(name), ls=plotting.linestyle(name))
            s0, s1 = sigmas
            ax.plot(yy, (analysis.noise_bias(name, yy, s0, space) - b0) / s0 ** 2, label=name,
                    **style)
            ys = yy[8::16]
            ax.plot(ys, (analysis.noise_bias(name, ys, s1, space) - analysis.bias(name, ys))
                    / s1 ** 2, "o", ms=2.5, mfc="none", mew=0.7, color=style["color"])
        ax.axhline(0, color="0.6", lw=0.5, zorder=0)
        ax.axvline(0.5, color="0.6", lw=0.5, zorder=0)
        ax.set_xlim(0, 1)
        ax.set_xlabel("target intensity y (dimensionless, [0, 1])")
        ax.set_ylabel("(E[p] − p*) / σ² (dimensionless)")
        ax.set_title(title)
        from matplotlib.lines import Line2D
        handles, _ = ax.get_legend_handles_labels()
        handles += [Line2D([], [], color="0.3", label=f"σ = {sigmas[0]:g}"),
                    Line2D([], [], color="0.3", ls="none", marker="o", ms=2.5, mfc="none",
                           mew=0.7, label=f"σ = {sigmas[1]:g}")]
        if space == "prob":
            ax.legend(handles=handles, loc="upper right", fontsize=6, handlelength=1.8)
        else:       # headroom above the curves for a two-column legend
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo, hi + 0.75 * (hi - lo))
            ax.legend(handles=handles, loc="upper center", fontsize=6, handlelength=1.8,
                      ncols=2, columnspacing=1.0)
    axes[1].text(0.03, 0.04, "positive for y < ½, negative above:\npulled toward ½",
                 transform=axes[1].transAxes, fontsize=6, color="0.3")
    for path in plotting.save(fig, f"{args.out}/{args.name}"):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
