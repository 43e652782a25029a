"""Tests of lossanalysis.analysis.noise: large sigma and extreme targets against mpmath, the one
domain rule of noise_bias and noise_bias_series, max_prob_noise, blocks and float32 input.

References are computed here with mpmath from the SymPy definitions (independent of the
library's quadrature rules, its root finder and its NumPy numerics).
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from numpy.polynomial.hermite_e import hermegauss

from lossanalysis import LOSSES, analysis as A, get_loss
from lossanalysis.analysis import noise as N
from lossanalysis._symbols import internal_symbols

YI, PI = internal_symbols()
Z = sp.Symbol("z", real=True)


def mp_grad_logit(name):
    """dL/dz of L(y, sigmoid(z)) as an mpmath function of (y, z), from the SymPy definition
    (logarithms of the sigmoid expanded, so that log(p/(1 - p)) is z at any z)."""
    e = sp.diff(get_loss(name)._internal_expr.subs(PI, 1 / (1 + sp.exp(-Z))), Z)
    e2 = sp.simplify(sp.expand_log(e, force=True))
    return sp.lambdify((YI, Z), e2 if sp.count_ops(e2) <= sp.count_ops(e) else e,
                       modules=["mpmath"])


def mp_check_logit_noise(name, y, sigma, kinks_p=(), dps=20):
    """Check the library's logit-noise answer against the untruncated Gaussian in mpmath.

    With mu = logit(y) + c the library's optimal logit, the expected gradient
    int f(z) N(z; mu', sigma^2) dz must change sign between mu' = mu -+ delta (delta =
    1e-9 (1 + |mu|)), and E[p] = int sigmoid(z) N(z; mu, sigma^2) dz must equal y + bias.
    Integrals in z by mpmath quadrature split at the sigmoid's transition, the Gaussian's
    centre and the kinks (independent of the library's rules and of its root finder).
    Returns (sign below, sign above, E[p] - y)."""
    f = mp_grad_logit(name)
    c = float(A.noise_offset(name, y, sigma, "logit"))
    with mpmath.workdps(dps):
        yy, s = mpmath.mpf(y), mpmath.mpf(sigma)
        mu = mpmath.log(yy / (1 - yy)) + mpmath.mpf(c)
        zk = {mpmath.log(mpmath.mpf(k) / (1 - mpmath.mpf(k))) for k in kinks_p if 0 < k < 1}

        def pts(m):
            cuts = {mpmath.mpf(v) for v in (-40, -5, 0, 5, 40)} | zk | {m - 12 * s, m + 12 * s}
            return [-mpmath.inf] + sorted(cuts) + [mpmath.inf]

        def expected(g, m):
            return mpmath.quad(lambda z: g(z) * mpmath.exp(-(z - m) ** 2 / (2 * s * s)), pts(m))

        delta = mpmath.mpf("1e-9") * (1 + abs(mu))
        below = mpmath.sign(expected(lambda z: f(yy, z), mu - delta))
        above = mpmath.sign(expected(lambda z: f(yy, z), mu + delta))
        mean = expected(lambda z: 1 / (1 + mpmath.exp(-z)), mu) / (s * mpmath.sqrt(2 * mpmath.pi))
        return int(below), int(above), float(mean - yy)


# ---------------------------------------------------------------------------------------------
# large sigma: bounded cost (the windowed rule), right answer
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,y,sigma", [
    ("mse", 0.3, 8.0), ("logit_mse", 0.3, 1e3), ("logit_mse", 0.9, 1e5), ("huber", 0.3, 20.0),
    ("mae", 0.7, 6.0), ("focal", 0.2, 30.0)])
def test_large_sigma_logit_noise_against_mpmath(name, y, sigma):
    """Beyond sigma = 5 the windowed rule (a bounded number of nodes) is used."""
    loss = get_loss(name)
    delta = loss.params.get("delta", 0.0)
    kinks = {"mae": [y], "huber": [y - delta, y, y + delta]}.get(name, [])
    below, above, bias = mp_check_logit_noise(name, y, sigma, kinks)
    assert (below, above) == (-1, 1)
    assert A.noise_bias(name, y, sigma, "logit") == pytest.approx(bias, rel=1e-12, abs=1e-15)


def test_very_large_sigma_mse_goes_to_the_cheaper_end():
    """At sigma = 1e5 the MSE optimum puts the sigmoid's transition far in the Gaussian tail:
    E[p] = Phi(kappa sigma), kappa the root of int f(z) e^(kappa z) dz = 0 (the sigma -> inf
    limit of the scaled expected gradient), i.e. p = 0 for y < 1/2 to every digit."""
    f = mp_grad_logit("mse")
    for y in (0.3, 0.8):
        with mpmath.workdps(30):
            yy = mpmath.mpf(y)
            kappa = mpmath.findroot(lambda k: mpmath.quad(lambda z: f(yy, z) * mpmath.exp(k * z),
                                                          [-mpmath.inf, -20, 0, 20, mpmath.inf]),
                                    (-0.9, 0.9), solver="illinois")
            ref = float(mpmath.ncdf(kappa * mpmath.mpf(1e5)) - yy)
        assert A.noise_bias("mse", y, 1e5, "logit") == pytest.approx(ref, abs=1e-15)


def test_logit_noise_cost_does_not_grow_with_sigma():
    """The windowed rule has a fixed number of nodes beyond sigma = 5 (counted, not timed)."""
    sizes = [N._composite_size(s, 0) for s in (6.0, 60.0, 6e3, 6e5)]
    assert len(set(sizes)) == 1 and sizes[0] <= 50 * 16
    assert N._composite_size(5.0, 0) <= sizes[0]


def test_bce_logit_noise_is_unbiased_at_any_sigma():
    y = np.array([0.01, 0.3, 0.7, 0.99])
    for s in (3.0, 30.0, 3e3, 3e5):
        assert np.max(np.abs(A.noise_bias("bce", y, s, "logit"))) <= 1e-13


# ---------------------------------------------------------------------------------------------
# extreme targets against mpmath
# ---------------------------------------------------------------------------------------------
def mp_prob_noise_bias(name, y, sigma, nodes=10, dps=40):
    """The optimal offset c of the nodes-point Gauss-Hermite noise in probability space,
    sum_k w_k L_p(y, y + c + sigma x_k) = 0, by mpmath from the SymPy derivative."""
    g = sp.lambdify((YI, PI), sp.diff(get_loss(name)._internal_expr, PI), modules=["mpmath"])
    x, w = hermegauss(nodes)
    with mpmath.workdps(dps):
        y, s = mpmath.mpf(y), mpmath.mpf(sigma)
        xs, ws = [mpmath.mpf(v) for v in x], [mpmath.mpf(v) for v in w]
        reach = s * max(xs)
        lo, hi = reach - y + mpmath.mpf(10) ** -30, 1 - y - reach - mpmath.mpf(10) ** -30
        c = mpmath.findroot(lambda c: sum(wk * g(y, y + c + s * xk) for xk, wk in zip(xs, ws)),
                            (lo, hi), solver="anderson")
        return float(c)


@pytest.mark.parametrize("name,y", [("bce", 1e-3), ("bce", 1 - 1e-3), ("reverse_kl", 1e-4),
                                    ("logit_mse", 0.999), ("kl", 1e-6)])
def test_prob_noise_near_the_ends_against_mpmath(name, y):
    sigma = 0.5 * float(A.max_prob_noise(name, y))
    ref = mp_prob_noise_bias(name, y, sigma)
    assert A.noise_bias(name, y, sigma, "prob") == pytest.approx(ref, rel=1e-9, abs=1e-18)


@pytest.mark.parametrize("name,y", [("mse", 1e-6), ("mse", 1 - 1e-6), ("reverse_kl", 1e-5),
                                    ("focal", 1e-3), ("logit_mse", 1e-8)])
def test_logit_noise_near_the_ends_against_mpmath(name, y):
    below, above, bias = mp_check_logit_noise(name, y, 0.5)
    assert (below, above) == (-1, 1)
    assert A.noise_bias(name, y, 0.5, "logit") == pytest.approx(bias, rel=1e-10, abs=1e-18)


# ---------------------------------------------------------------------------------------------
# one domain rule for the exact bias and its series; max_prob_noise
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [A.noise_bias, A.noise_bias_series])
def test_exact_and_series_share_the_boundary_rule(fn):
    for y in (0.0, 1.0):
        assert fn("bce", y, 0.0) == 0.0                  # no noise: the point bias
        with pytest.raises(ValueError, match="y="):
            fn("bce", y, 0.01)                          # noise always leaves (0, 1)
        with pytest.raises(ValueError, match="y="):
            fn("mse", y, 0.1, "logit")
    assert fn("bce", 0.3, np.array([0.0, 0.01])).shape == (2,)


def test_series_is_an_expansion_beyond_the_finite_model():
    """Inside (0, 1) the series exists for any sigma; the finite 10-point model stops at
    max_prob_noise."""
    s = 2 * float(A.max_prob_noise("bce", 0.05))
    assert np.isfinite(A.noise_bias_series("bce", 0.05, s))
    with pytest.raises(ValueError, match="max_prob_noise"):
        A.noise_bias("bce", 0.05, s)


@pytest.mark.parametrize("name", LOSSES)
def test_max_prob_noise_is_the_edge_of_the_probability_model(name):
    loss = get_loss(name)
    y = np.array([0.05, 0.3, 0.5, 0.9])
    s = np.asarray(A.max_prob_noise(loss, y))
    pstar = np.asarray(A.argmin(loss, y))
    x = hermegauss(10)[0]
    np.testing.assert_allclose(s * x.max(), np.minimum(pstar, 1 - pstar), rtol=1e-15)
    ok = s > 0
    assert np.all(np.isfinite(A.noise_bias(loss, y[ok], s[ok] * (1 - 1e-6))))
    for yi, si in zip(y[ok], s[ok]):
        with pytest.raises(ValueError, match="sigma"):
            A.noise_bias(loss, yi, si * (1 + 1e-9))


# ---------------------------------------------------------------------------------------------
# blocks, duplicates and float32
# ---------------------------------------------------------------------------------------------
def test_noise_blocks_of_pairs_match_single_pairs():
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.integers(26, 230, N._PAIR_BLOCK + 100) / 255, [0.3, 0.7]])
    sigma = np.where(np.arange(y.size) % 2 == 0, 0.01, 0.015)
    out = np.asarray(A.noise_bias("bce", y, sigma))
    pick = np.array([0, 1, N._PAIR_BLOCK - 1, N._PAIR_BLOCK, y.size - 1])
    # the root is resolved to the rounding of the expected gradient (a matrix product whose
    # last bits depend on the block's shape): about 1e-14 relative
    np.testing.assert_allclose(out[pick], [A.noise_bias("bce", y[i], sigma[i]) for i in pick],
                               rtol=1e-12)


def test_float32_inputs_give_the_float64_answer_of_the_same_values():
    y32 = np.array([0.05, 0.3, 0.8], dtype=np.float32)
    s32 = np.float32(0.01)
    for space in ("prob", "logit"):
        out = A.noise_bias("bce", y32, s32, space)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, A.noise_bias("bce", y32.astype(float), float(s32),
                                                        space))


def test_continuous_bernoulli_logit_noise_at_extreme_targets():
    """Near y = 1 the CB's optimal logit is about 1/(1 - y) (3e5 at y = 1 - 3e-6; its parameter
    rounds to 1): the offset bracket must reach it.  Logit noise of sigma = 0.5 moves that
    optimum by a relative O(sigma^2 (1 - y)), so the offset is the noiseless one."""
    y = np.array([1 - 3e-6, 1 - 1e-9, 0.01])
    c = np.asarray(A.noise_offset("continuous_bernoulli", y, 0.5, "logit"))
    eta = A.cb_natural_parameter(y)
    np.testing.assert_allclose(c, eta - np.log(y / (1 - y)), rtol=1e-4)


@pytest.mark.parametrize("name", ["mae", "huber", "mse"])
def test_no_noise_anywhere_is_the_point_bias_in_both_spaces(name):
    for space in ("prob", "logit"):
        np.testing.assert_array_equal(A.noise_bias(name, [0.2, 0.5], 0.0, space),
                                      A.bias(name, [0.2, 0.5]))
        assert A.noise_bias(name, [], 0.02, space).shape == (0,)
