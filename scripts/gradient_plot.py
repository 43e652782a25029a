#!/usr/bin/env python3
"""What the network is told to do: gradients of each loss in the prediction and in the logit,
and the curvature at the target relative to MSE.

(a) dL/dp against the prediction p for one target y;
(b) dL/dz against the logit z (a sigmoid output p = sigmoid(z)) for the same target: BCE's
    p - y (canonical link) keeps pulling a saturated wrong output, MSE's 2 (p - y) p (1 - p)
    vanishes there;
(c) the effective weight L_pp(y, y) / L_pp^MSE against y (BCE: 1/(2 y (1 - y)), 2 at y = 1/2).
All numbers come from lossanalysis.analysis.  Writes figures/gradients.pdf and .png.
"""
import argparse
import sys

import numpy as np

from lossanalysis import LOSSES, analysis, plotting

P_LOSSES = ("mse", "mae", "huber", "bce", "reverse_kl", "logit_mse", "focal")
Z_LOSSES = ("mse", "mae", "bce", "focal", "continuous_bernoulli", "logit_mse")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="figures", help="output folder (default: figures)")
    ap.add_argument("--name", default="gradients", help="file name stem (default: gradients)")
    ap.add_argument("--target", type=float, default=0.9,
                    help="target intensity y of panels (a) and (b), in (0, 1) (default: 0.9)")
    args = ap.parse_args(argv)
    if not 0 < args.target < 1:
        ap.error("--target must lie strictly between 0 and 1")
    y0 = args.target

    fig, axes = plotting.figure(1, 3, columns=2, height=2.6)

    ax = axes[0]
    p = np.linspace(0.002, 0.998, 997)
    for name in P_LOSSES:
        g = analysis.gradient_profile(name, y0, p)
        ax.plot(p, g, color=plotting.color(name), ls=plotting.linestyle(name), label=name)
    ax.axhline(0, color="0.6", lw=0.5, zorder=0)
    ax.axvline(y0, color="0.6", lw=0.5, zorder=0)
    ax.set_ylim(-6, 6)
    ax.set_xlim(0, 1)
    ax.set_xlabel("prediction p (dimensionless, [0, 1])")
    ax.set_ylabel("∂L/∂p (loss units per unit p)")
    ax.set_title(f"(a) gradient in p, target y = {y0:g}")
    ax.legend(loc="upper left", fontsize=6, handlelength=1.8, ncols=2, columnspacing=0.8)

    ax = axes[1]
    z = np.linspace(-10, 10, 801)
    for name in Z_LOSSES:
        g = analysis.logit_gradient(name, y0, z)
        ax.plot(z, g, color=plotting.color(name), ls=plotting.linestyle(name), label=name)
    ax.axhline(0, color="0.6", lw=0.5, zorder=0)
    ax.axvline(float(np.log(y0 / (1 - y0))), color="0.6", lw=0.5, zorder=0)
    ax.set_ylim(-1.6, 1.6)
    ax.set_xlim(z[0], z[-1])
    ax.set_xlabel("output logit z, p = σ(z) (log-odds)")
    ax.set_ylabel("∂L/∂z (loss units per log-odds)")
    ax.set_title(f"(b) gradient in the logit, y = {y0:g}")
    ax.annotate("saturated and wrong:\nMSE's gradient vanishes", xy=(-7, -0.02),
                xytext=(-9.6, -1.5), fontsize=6, color="0.3",
                arrowprops=dict(arrowstyle="-", color="0.5", lw=0.5))
    ax.legend(loc="upper left", fontsize=6, handlelength=1.8, ncols=2, columnspacing=0.8)

    ax = axes[2]
    y = np.linspace(0.01, 0.99, 393)
    for name in LOSSES:
        # proper losses only: an improper loss's curvature at p = y is not taken at its optimum
        # (the continuous Bernoulli's is negative there for y < 1/4 or y > 3/4); MAE's
        # curvature is concentrated in its kink
        if analysis.effective_weight_expr(name) is None or not analysis.is_proper(name).proper:
            continue
        w = analysis.effective_weight(name, y)
        ax.plot(y, w, color=plotting.color(name), ls=plotting.linestyle(name), label=name)
    half = float(analysis.effective_weight("bce", 0.5))
    ax.plot([0.5], [half], "o", ms=3, color=plotting.color("bce"))
    ax.annotate(f"BCE: {half:g} × MSE at y = ½", xy=(0.5, half), xytext=(0.3, 0.12),
                fontsize=6, color="0.3", arrowprops=dict(arrowstyle="-", color="0.5", lw=0.5))
    ax.text(0.5, 3.2, "bce = kl = reverse_kl", ha="center", fontsize=6, color="0.3")
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.set_ylim(0.08, 3e6)                   # headroom for the legend
    ax.set_xlabel("target intensity y (dimensionless, [0, 1])")
    ax.set_ylabel("L_pp(y, y) / L_pp of MSE (dimensionless)")
    ax.set_title("(c) curvature at the target vs MSE")
    ax.legend(loc="upper center", fontsize=6, handlelength=1.8, ncols=2, columnspacing=0.8)
    for path in plotting.save(fig, f"{args.out}/{args.name}"):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
