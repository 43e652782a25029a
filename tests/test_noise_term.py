"""Tests of lossanalysis.nn.noise: noise inside the training loss (E8's injection).

Gradients against finite differences in float64 (the term alone and through a whole AE),
the chain rule through the clipping, stable extremes in float32 and float64, the mean of the
noisy prediction against mpmath quadrature, the bad-input messages, and a free-output fit that
lands where the analysis puts it.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from lossanalysis import analysis
from lossanalysis.losses import get_loss, sigmoid
from lossanalysis.nn import AE, check_gradients
from lossanalysis.nn.noise import GH_NODES, NoisyOutput

LOSSES = ("bce", "mse", "focal", "logit_mse")


def _case(seed=0, n=6, d=9):
    rng = np.random.default_rng(seed)
    y = rng.random((n, d))
    y[0, :3] = (0.0, 1.0, 0.0)
    z = rng.uniform(-3, 3, (n, d))
    e = rng.standard_normal((n, d))
    return y, z, e


def _per_element_value(term, y, z, e):
    """Per-element loss values at the noise ``e`` (the term sums over the last axis)."""
    out = []
    for j in range(z.shape[1]):
        term.eps = e[:, j:j + 1]
        out.append(term.value_and_grad(y[:, j:j + 1], z[:, j:j + 1])[0])
    term.eps = e
    return np.stack(out, axis=1)


@pytest.mark.parametrize("space,sigma", [("logit", 0.7), ("logit", 2.0), ("prob", 0.05),
                                         ("prob", 0.2)])
@pytest.mark.parametrize("loss", LOSSES)
def test_term_gradient_matches_finite_differences(loss, space, sigma):
    y, z, e = _case()
    if not np.all(np.isfinite(get_loss(loss).value(y, 0.5))):    # logit MSE: y in (0, 1)
        y = np.clip(y, 0.01, 0.99)
    term = NoisyOutput(loss, space, sigma)
    term.eps = e
    v, g = term.value_and_grad(y, z, grad_scale=1.0)
    h = 1e-6
    num = (_per_element_value(term, y, z + h, e) - _per_element_value(term, y, z - h, e)) / (2 * h)
    ok = np.ones(z.shape, bool)
    if space == "prob":
        # keep away from the clipping's kinks, where the difference quotient straddles them
        u = sigmoid(z) + sigma * e
        for edge in (term.p_min, 1 - term.p_min):
            ok &= np.abs(u - edge) > 1e-4
        assert (~ok).sum() < ok.sum()
    err = np.abs(g - num) / np.maximum(np.maximum(np.abs(g), np.abs(num)), 1e-8)
    assert float(err[ok].max()) < 1e-6
    assert v.shape == (y.shape[0],)
    np.testing.assert_allclose(v, _per_element_value(term, y, z, e).sum(axis=1), rtol=1e-14)


def test_clipped_draws_pass_no_gradient_and_cost_the_clipped_value():
    term = NoisyOutput("bce", "prob", 0.1)
    y = np.array([[0.3, 0.3, 0.3]])
    z = np.array([[-4.0, 0.0, 4.0]])
    term.eps = np.array([[-5.0, 0.0, 5.0]])       # u = 0.018 - 0.5 < 0, 0.5, 0.982 + 0.5 > 1
    v, g = term.value_and_grad(y, z, grad_scale=1.0)
    assert g[0, 0] == 0.0 and g[0, 2] == 0.0 and g[0, 1] != 0.0
    bce = get_loss("bce")
    a = term.p_min
    expect = bce.value(0.3, a) + bce.value(0.3, 0.5) + bce.value(0.3, 1 - a)
    assert v[0] == pytest.approx(float(expect), rel=1e-14)


def test_chain_rule_in_probability_space_is_the_catalogue_gradient_times_the_sigmoid_slope():
    y, z, e = _case(1)
    term = NoisyOutput("mse", "prob", 0.01)
    term.eps = e
    _, g = term.value_and_grad(y, z, grad_scale=0.5)
    s = sigmoid(z)
    p = s + 0.01 * e
    inside = (p > term.p_min) & (p < 1 - term.p_min)
    expect = np.where(inside, 0.5 * 2 * (p - y) * s * (1 - s), 0.0)
    np.testing.assert_allclose(g, expect, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("space,sigma", [("logit", 1.0), ("prob", 0.05)])
def test_whole_ae_gradients_with_fixed_noise(space, sigma):
    rng = np.random.default_rng(2)
    x = rng.random((4, 10))
    x[x < 0.3] = 0.0
    term = NoisyOutput("bce", space, sigma)
    term.eps = rng.standard_normal((4, 10))
    model = AE((10, 7, 3), loss=term, activation="tanh", dtype=np.float64, seed=3)
    errors = check_gradients(model, x)
    assert max(errors.values()) < 1e-6, errors


def test_fresh_noise_at_every_call_and_reproducible_streams():
    y, z, _ = _case(4)
    a = NoisyOutput("bce", "logit", 1.0, seed=7)
    b = NoisyOutput("bce", "logit", 1.0, seed=7)
    v1, _ = a.value_and_grad(y, z, grad_scale=1.0)
    v2, _ = a.value_and_grad(y, z, grad_scale=1.0)
    assert not np.array_equal(v1, v2)
    np.testing.assert_array_equal(v1, b.value_and_grad(y, z, grad_scale=1.0)[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("space", ["logit", "prob"])
def test_stable_at_saturated_logits(space, dtype):
    term = NoisyOutput("bce", space, 0.5 if space == "logit" else 0.05, seed=0)
    y = np.array([[0.0, 1.0, 0.0, 1.0, 0.3]], dtype=dtype)
    z = np.array([[-1000.0, 1000.0, 1000.0, -1000.0, 0.0]], dtype=dtype)
    v, g = term.value_and_grad(y, z, grad_scale=1.0)
    assert v.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
    if space == "logit":     # 1000 logits off: BCE costs about 1000
        assert 1900 < float(v[0]) < 2100
    q = term.expected_prediction(z)
    assert np.all((q >= 0) & (q <= 1))


def _mp_logit_mean(z, s):
    f = lambda t: mpmath.exp(-t * t / 2) / (1 + mpmath.exp(-(z + s * t)))  # noqa: E731
    return mpmath.quad(f, [-mpmath.inf, -5, 0, 5, mpmath.inf]) / mpmath.sqrt(2 * mpmath.pi)


def _mp_clipped_mean(mu, s, a):
    b = 1 - a
    def phi(t):
        return mpmath.exp(-t * t / 2) / mpmath.sqrt(2 * mpmath.pi)
    lo, hi = (a - mu) / s, (b - mu) / s
    mid = mpmath.quad(lambda t: (mu + s * t) * phi(t), [lo, hi])
    return a * mpmath.ncdf(lo) + b * (1 - mpmath.ncdf(hi)) + mid


def test_expected_prediction_against_mpmath():
    mpmath.mp.dps = 30
    for z, s in ((0.3, 0.5), (-2.0, 1.0), (4.0, 2.0), (-7.0, 1.5)):
        term = NoisyOutput("bce", "logit", s)
        got = float(term.expected_prediction(np.array([z]))[0])
        # the rule's error bound of GH_NODES' docstring, exp(-pi sqrt(2 n)/sigma)
        rel = max(1e-13, math.exp(-math.pi * math.sqrt(2 * GH_NODES) / s))
        assert got == pytest.approx(float(_mp_logit_mean(z, s)), rel=rel, abs=1e-15)
    for z, s in ((0.0, 0.05), (-2.2, 0.1), (-8.0, 0.2), (6.0, 0.3)):
        term = NoisyOutput("bce", "prob", s, p_min=1e-4)
        mu = float(sigmoid(z))
        got = float(term.expected_prediction(np.array([z]))[0])
        assert got == pytest.approx(float(_mp_clipped_mean(mu, s, 1e-4)), rel=1e-12)
        pc = float(term.clip_probability(np.array([z]))[0])
        assert pc == pytest.approx(float(mpmath.ncdf((1e-4 - mu) / s)
                                         + mpmath.ncdf((mu - 1 + 1e-4) / s)), rel=1e-10)
    assert GH_NODES >= 32


def test_the_interpolated_mean_of_large_arrays_matches_the_rule():
    from lossanalysis.nn import noise
    rng = np.random.default_rng(6)
    z = np.concatenate([rng.uniform(-12, 12, noise.TABLE_MIN), [-60.0, 45.0, 1000.0]])
    for sigma in (0.5, 2.0):
        term = NoisyOutput("bce", "logit", sigma)
        big = term.expected_prediction(z)
        direct = term._logit_mean(z, GH_NODES)
        bound = noise.TABLE_STEP ** 2 / (8 * 6 * math.sqrt(3))
        assert np.max(np.abs(big - direct)) <= bound
        assert big[-1] == direct[-1] and big[-3] == direct[-3]


def test_mean_image_is_the_expected_prediction():
    term = NoisyOutput("mse", "logit", 1.0)
    z = np.array([[-1.0, 2.0]])
    np.testing.assert_array_equal(term.mean(z), term.expected_prediction(z))
    assert term.describe()["space"] == "logit" and "p_min" in NoisyOutput(
        "mse", "prob", 0.1).describe()


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"space": "probability"}, ValueError, "space"),
    ({"sigma": 0.0}, ValueError, "sigma"),
    ({"sigma": float("nan")}, ValueError, "sigma"),
    ({"sigma": True}, TypeError, "sigma"),
    ({"sigma": "1"}, TypeError, "sigma"),
    ({"p_min": 0.5}, ValueError, "p_min"),
    ({"p_min": "x"}, TypeError, "p_min"),
    ({"loss": "continuous_bernoulli"}, ValueError, "loss"),
])
def test_bad_arguments_are_named(kwargs, exc, match):
    args = {"loss": "bce", "space": "logit", "sigma": 1.0, **kwargs}
    loss, space, sigma = args.pop("loss"), args.pop("space"), args.pop("sigma")
    with pytest.raises(exc, match=match):
        NoisyOutput(loss, space, sigma, **args)


def test_bad_logits_are_named():
    term = NoisyOutput("bce", "prob", 0.1)
    for bad in (np.array([np.nan]), [np.inf], "a", [1j]):
        for fn in (term.expected_prediction, term.clip_probability):
            with pytest.raises(ValueError, match="z"):
                fn(bad)
    for nodes in (1, 2.5, True, 500):
        with pytest.raises(ValueError, match="nodes"):
            term.expected_prediction([0.0], nodes=nodes)


@pytest.mark.parametrize("loss,space,sigma", [("mse", "logit", 1.0), ("bce", "prob", 0.02)])
def test_free_outputs_trained_with_the_noise_land_on_noise_bias(loss, space, sigma):
    from lossanalysis.nn.noise import fit_free_logits
    y = np.array([0.15, 0.3, 0.8])
    z, term = fit_free_logits(loss, space, sigma, y, np.zeros(3), draws=4096, steps=1500,
                              lr0=0.1, lr_end=1e-4, seed=5)
    measured = term.expected_prediction(z) - y
    predicted = np.asarray(analysis.noise_bias(loss, y, sigma, space))
    scale = max(float(np.max(np.abs(predicted))), 1e-12)
    assert np.max(np.abs(measured - predicted)) < 0.05 * scale
    assert math.copysign(1, float(predicted[0])) == math.copysign(1, float(measured[0]))
