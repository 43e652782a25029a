"""Claim 5: MSE is not immune to blur but is at least unbiased.

Two parts.  5a (not immune to blur) holds: the optimum for an uncertain edge pixel is grey, and
a trained MSE autoencoder is measured against the data.  5b ("at least" unbiased, i.e. unlike
BCE) draws a contrast the analysis refutes: MSE's optimum is unbiased, and so is BCE's.  The
contrast holds only where the loss averages over noise in probability space (5b.prob); with the
noise in the logit, as at a sigmoid output, it is reversed (5b.logit).  Trained autoencoders
(E4.null) decide it in practice.
"""
from __future__ import annotations

import numpy as np

from .. import analysis as A
from ._common import (LEAN_WORDS, Y_GRID, certified, checked, edge_profile, fmt, name_of,
                      noise_lean, short)
from .claim import Claim
from .evidence import AE_LEAN, LOGIT_NOISE_LEAN, PROB_NOISE_LEAN, Exceeds
from .verdicts import CONFIRMED, QUALIFIED, REFUTED, Finding


def check_blur(*, loss="mse") -> Finding:
    """5a: ``loss`` is not immune to blur: the optimal prediction for an edge pixel that is
    white with probability w (black otherwise) lies strictly inside (0, 1) for 0 < w < 1.

    Confirmed when it does at every grid point, refuted when it does not (a loss whose optimum
    is 0 or 1, such as MAE's median, is immune to this blur).

    Examples
    --------
    >>> check_blur().verdict, check_blur(loss="mae").verdict
    ('confirmed', 'refuted')
    """
    w, prof = edge_profile(loss)
    inner = (w > 0) & (w < 1)
    grey = bool(np.all((prof[inner] > 0) & (prof[inner] < 1)))
    at = {q: float(prof[i]) for q, i in ((0.25, 50), (0.5, 100), (0.75, 150))}
    ev = {"edge profile p*(w) at w = 0.25, 0.5, 0.75": list(at.values()),
          "grey for every 0 < w < 1": grey}
    shown = ", ".join(fmt(v) for v in at.values())
    if grey:
        return Finding(CONFIRMED, (
            f"{name_of(loss)}'s optimum for an edge pixel white with probability w is grey "
            f"(p* = {shown} at w = 0.25, 0.5, 0.75): the minimizer of an expected loss averages "
            "over the targets' uncertainty."), ev)
    return Finding(REFUTED, f"{name_of(loss)}'s optimum for an uncertain edge reaches 0 or 1 "
                            f"(p* = {shown} at w = 0.25, 0.5, 0.75): immune to this blur.", ev)


def check_unbiased(*, loss="mse", contrast="bce") -> Finding:
    """5b at the optimum: ``loss`` is unbiased where ``contrast`` is not.

    Confirmed when ``loss``'s minimizer is the target for point targets and ``contrast``'s is
    not; refuted when ``loss`` is biased, or when ``contrast`` is exactly as unbiased (the
    contrast the claim draws does not exist at the optimum).

    Examples
    --------
    >>> check_unbiased().verdict, check_unbiased(contrast="focal").verdict
    ('refuted', 'confirmed')
    """
    pl, pc = A.is_proper(loss), A.is_proper(contrast)
    nl, nc = name_of(loss), name_of(contrast)
    ev = {nl: {"proper": pl.proper, "direction": pl.direction, "max |argmin - y|":
               pl.max_abs_bias},
          nc: {"proper": pc.proper, "direction": pc.direction, "max |argmin - y|":
               pc.max_abs_bias}}
    cl, tl, ev["certificate " + nl] = certified("proper", loss)
    cc, tc, ev["certificate " + nc] = certified("proper", contrast)
    if not pl.proper:
        return Finding(REFUTED, f"{nl} is itself biased: {pl.direction}, up to "
                                f"{fmt(pl.max_abs_bias)}.", ev)
    if pc.proper:
        return Finding(REFUTED, (
            f"{nl} is unbiased (argmin_p L(y, p) = y, {checked(tl, 103)}), but so is {nc} "
            f"({checked(tc, 103)}; max |argmin - y| {fmt(pc.max_abs_bias)}; for uncertain "
            "targets both optima are the mean): the contrast the claim draws does not exist "
            "at the optimum."), ev)
    return Finding(CONFIRMED, f"{nl} is unbiased while {nc}'s minimizer is biased "
                              f"{pc.direction} (up to {fmt(pc.max_abs_bias)}).", ev)


def _contrast_under_noise(loss, contrast, space, sigma) -> Finding:
    ol, dl, cl = noise_lean(loss, space, sigma)
    oc, dc, cc = noise_lean(contrast, space, sigma)
    nl, nc = name_of(loss), name_of(contrast)
    i8 = int(np.flatnonzero(Y_GRID == 0.8)[0])
    where = {"prob": "in probability space", "logit": "in the logit"}[space]
    ev = {"sigma": sigma, "y": Y_GRID.tolist(),
          nl: {"E[p] - y (noise part)": ol.tolist(), "lean": dl, "sigma^2 coefficient": str(cl)},
          nc: {"E[p] - y (noise part)": oc.tolist(), "lean": dc, "sigma^2 coefficient": str(cc)}}
    text = (f"with noise of sd {sigma} {where} inside the loss, {nl}'s mean prediction "
            f"{LEAN_WORDS[dl]} (({short(cl)}) sigma^2; {fmt(ol[i8])} at y = 0.8) and {nc}'s "
            f"{LEAN_WORDS[dc]} "
            f"(({short(cc)}) sigma^2; {fmt(oc[i8])} at y = 0.8)")
    if dl == "none" and dc == "toward 1/2":
        return Finding(CONFIRMED, f"The contrast holds in this setting: {text}.", ev)
    if dl == "none" and dc != "none":
        return Finding(QUALIFIED, f"{nl} stays unbiased and {nc} does not, but not toward 1/2 "
                                  f"everywhere: {text}.", ev)
    return Finding(REFUTED, f"The contrast fails{' (reversed)' if dc == 'none' else ''}: "
                            f"{text}.", ev)


def check_prob_noise(*, loss="mse", contrast="bce", sigma_prob=0.01) -> Finding:
    """5b.prob: with prediction noise in probability space inside the loss, ``loss``'s mean
    stays on target while ``contrast``'s leans toward 1/2.

    Confirmed when ``loss``'s noise offset is zero and ``contrast``'s points toward 1/2 at every
    grid target; qualified when ``loss``'s is zero and ``contrast``'s is not but leans otherwise;
    refuted when ``loss``'s is not zero or ``contrast``'s is.

    Examples
    --------
    >>> check_prob_noise().verdict
    'confirmed'
    """
    return _contrast_under_noise(loss, contrast, "prob", sigma_prob)


def check_logit_noise(*, loss="mse", contrast="bce", sigma_logit=0.5) -> Finding:
    """5b.logit: the same with the noise in the logit (a sigmoid output).

    Examples
    --------
    >>> check_logit_noise().verdict                # MSE leans away from 1/2, BCE stays exact
    'refuted'
    """
    return _contrast_under_noise(loss, contrast, "logit", sigma_logit)


CLAIM = Claim(
    "5", "MSE is not immune to blur but is at least unbiased.",
    "5a (not immune to blur) and 5b (unbiased where BCE is not).",
    parts=(
        Claim("5a", "MSE is not immune to blur ...",
              "MSE's optimum for an uncertain edge pixel is grey (analysis); the MSE-trained "
              "autoencoder's blur ratio exceeds 1 (paired seeds, 95% interval).",
              check=check_blur, reads=(Exceeds("blur_ratio[ae_mse]", 1.0),)),
        Claim("5b", "... but is at least unbiased.",
              "argmin_p MSE(y, p) = y while BCE's minimizer is biased (analysis); trained with "
              "BCE the same deterministic autoencoder leans toward 1/2 where the MSE one does "
              "not (E4.null rows).",
              check=check_unbiased,
              reads=(AE_LEAN,),
              conditions=(
                  Claim("5b.prob", "... if the loss averages over noise in probability space.",
                        "MSE's noisy mean stays on target while BCE's leans toward 1/2 "
                        "(analysis; E8.*.prob rows measure BCE's lean).",
                        check=check_prob_noise,
                        reads=(PROB_NOISE_LEAN,)),
                  Claim("5b.logit", "... if the noise is in the logit (a sigmoid output).",
                        "MSE's noisy mean stays on target while BCE's leans toward 1/2 "
                        "(analysis; E8.*.logit rows measure BCE's lean).",
                        check=check_logit_noise,
                        reads=(LOGIT_NOISE_LEAN,)))),
    ))

