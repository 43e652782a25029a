"""Claim 3: cross-entropy is biased toward 0.5 for non-binary targets, so images are blurrier.

Two parts.  3a, the bias, is checked where a bias could come from: the loss's optimum for point
targets, for uncertain targets (an edge pixel that is black or white), and with the noise a
sigmoid output carries (in the logit).  For BCE all three are exactly unbiased, so 3a is refuted
by the analysis; it would hold only if the loss averaged over noise in probability space (the
condition 3a.prob), and the trained networks' rows decide whether it holds in practice.  3b, the
blur, is measured: the same autoencoder trained with BCE and with MSE, and the Bernoulli VAE
against each Gaussian VAE of E5 (sigma = 0.1, 0.3, 0.5, 1 -- whose NLL is MSE/2 + const -- and a
learned sigma): the verdict names each comparison.
"""
from __future__ import annotations

import numpy as np

from .. import analysis as A
from ._common import (LEAN_WORDS, Y_GRID, ZERO, certified, checked, edge_profile, fmt, lean,
                      loss_of, name_of, noise_lean, short)
from .claim import Claim
from .evidence import AE_LEAN, LOGIT_NOISE_LEAN, PROB_NOISE_LEAN, VAE_LEAN, Exceeds
from .verdicts import CONFIRMED, QUALIFIED, REFUTED, Finding

TEXT_A = "Cross-entropy loss is biased towards 0.5 whenever the ground truth is not binary"
#: The Gaussian VAEs the Bernoulli one is compared with in 3b (E5's decoders).
GAUSSIANS = ("sigma0.1", "sigma0.3", "sigma0.5", "sigma1", "learned")
TEXT_B = "... so the network is trained to generate blurrier images."


def check_bias(*, loss="bce", sigma_logit=0.5) -> Finding:
    """3a at the optimum: does ``loss`` pull the prediction of a non-binary target toward 1/2?

    Three settings: point targets (argmin_p L(y, p) against y), uncertain targets (an edge pixel
    white with probability w: the optimum p*(w) against the mean w) and prediction noise in the
    logit with standard deviation ``sigma_logit`` (a sigmoid output: the mean E[p] against y).
    Confirmed when the point-target minimizer itself leans toward 1/2 at every grid target;
    qualified when it is unbiased but one of the other two settings leans toward 1/2; refuted
    otherwise (no setting leans toward 1/2, or the loss is biased away from it).

    Examples
    --------
    >>> check_bias().verdict, check_bias(loss="focal").verdict
    ('refuted', 'confirmed')
    """
    L = loss_of(loss)
    n = name_of(L)
    prop = A.is_proper(L)
    w, pw = edge_profile(L, n=101)
    inner = (w > 0) & (w < 1)
    edge = lean(pw[inner] - w[inner], w[inner])
    edge_dev = float(np.max(np.abs(pw - w)))
    off_l, logit, coef_l = noise_lean(L, "logit", sigma_logit)
    i8 = int(np.flatnonzero(Y_GRID == 0.8)[0])
    ev = {"point targets": {"proper": prop.proper, "direction": prop.direction,
                            "max |argmin - y|": prop.max_abs_bias},
          "uncertain targets (edge pixel, weight w of 1)": {"max |p*(w) - w|": edge_dev,
                                                           "lean": edge},
          "noise in the logit": {"sigma": sigma_logit, "y": Y_GRID.tolist(),
                                 "E[p] - y (noise part)": off_l.tolist(), "lean": logit,
                                 "sigma^2 coefficient": str(coef_l)}}
    settings = (f"point targets: {prop.direction} (max |argmin - y| "
                f"{fmt(prop.max_abs_bias)}); uncertain targets: {edge} (max |p*(w) - w| "
                f"{fmt(edge_dev)}); noise in the logit (sigma = {sigma_logit}): {logit} "
                f"(E[p] - y = {fmt(off_l[i8])} at y = 0.8; sigma^2 coefficient {short(coef_l)})")
    cites = {fam: certified(fam, L) for fam in ("proper", "mean", "canonical")}
    ev["certificates"] = {fam: c[2] for fam, c in cites.items() if c[0] is not None}
    proofs = "; ".join(f"{what} {checked(cites[fam][1], n_pts)}" for fam, what, n_pts in (
        ("proper", "argmin = y", 103), ("mean", "the optimum of a mixture is its mean's", 101),
        ("canonical", "E[p] = y under logit noise of any size", 8)) if cites[fam][0] is not None)
    if proofs:
        settings += f" ({proofs})"
    if prop.direction == "toward 1/2":
        return Finding(CONFIRMED, f"{n}'s optimum itself leans toward 1/2: {settings}.", ev)
    if prop.direction == "none" and "toward 1/2" in (edge, logit):
        return Finding(QUALIFIED, f"{n}'s point-target optimum is not pulled toward 1/2, but "
                                  f"another setting is: {settings}.", ev)
    exact = (prop.max_abs_bias <= ZERO and edge_dev <= ZERO
             and float(np.max(np.abs(off_l))) <= ZERO)
    return Finding(REFUTED, (
        f"{n} is not biased toward 1/2 at its optimum: {settings}."
        + (" The optimum is the target for point targets and their mean for uncertain "
           "targets, and a sigmoid output's logit noise leaves the mean exactly on target "
           "(E[dL/dz] = E[p] - y = 0). The cost asymmetry (claims 1, 2) is real but moves no "
           "optimum. It would hold only if the loss averaged over noise in probability space "
           "(3a.prob)." if exact else "")), ev)


def check_prob_noise(*, loss="bce", sigma_prob=0.01) -> Finding:
    """3a.prob: with prediction noise in probability space inside the loss, the mean leans
    toward 1/2.

    The noise part of the mean prediction's offset, E[p] - y - bias(loss, y), at the grid
    targets (sigma capped at a tenth of the optimum's distance from 0 and 1).  Confirmed when it
    points toward 1/2 at every target, qualified when only at some, refuted otherwise.

    Examples
    --------
    >>> check_prob_noise().verdict, check_prob_noise(loss="mse").verdict
    ('confirmed', 'refuted')
    """
    n = name_of(loss)
    off, direction, coef = noise_lean(loss, "prob", sigma_prob)
    i8 = int(np.flatnonzero(Y_GRID == 0.8)[0])
    ev = {"sigma": sigma_prob, "y": Y_GRID.tolist(), "E[p] - y (noise part)": off.tolist(),
          "lean": direction, "sigma^2 coefficient": str(coef)}
    text = (f"with noise of sd {sigma_prob} in p inside the loss, {n}'s mean prediction "
            f"{LEAN_WORDS[direction]}: E[p] - y = ({short(coef)}) sigma^2 + O(sigma^4) "
            f"({fmt(off[i8])} at y = 0.8)")
    if direction == "toward 1/2":
        return Finding(CONFIRMED, f"It holds in this setting: {text}.", ev)
    if direction == "mixed":
        return Finding(QUALIFIED, f"Only at some targets: {text}.", ev)
    return Finding(REFUTED, f"Not even in this setting: {text}.", ev)


CLAIM = Claim(
    "3", TEXT_A + ", so the network is trained to generate blurrier images.",
    "3a (bias toward 1/2) and 3b (blurrier images).",
    parts=(
        Claim("3a", TEXT_A + ".",
              "argmin_p BCE(y, p) leans toward 1/2 for point targets, for uncertain targets or "
              "under logit-space noise (analysis); trained networks' mean predictions lean "
              "toward 1/2 (E4.null: deterministic AEs, E8.vae: the VAE's sampled latent, "
              "E8.*.logit: logit noise inside the loss).",
              check=check_bias,
              reads=(AE_LEAN, VAE_LEAN, LOGIT_NOISE_LEAN),
              conditions=(
                  Claim("3a.prob", "... if the loss averages over noise in probability space.",
                        "E[p] - y of the noisy prediction leans toward 1/2 by "
                        "noise_bias(bce, y, sigma, 'prob') (analysis; E8.*.prob rows).",
                        check=check_prob_noise,
                        reads=(PROB_NOISE_LEAN,)),)),
        Claim("3b", TEXT_B,
              "The same autoencoder reconstructs blurrier images when trained with BCE than "
              "with MSE, and the Bernoulli VAE blurrier than each Gaussian VAE it is compared "
              "with (sigma = 0.1, 0.3, 0.5, 1 and a learned sigma; blur ratio, paired seeds, "
              "95% interval of the difference; each comparison is named in the findings).",
              reads=(Exceeds("blur_ratio[ae_bce]", "blur_ratio[ae_mse]"),
                     *(Exceeds("blur_ratio[vae_bernoulli]", f"blur_ratio[vae_gaussian_{k}]")
                       for k in GAUSSIANS))),
    ))
