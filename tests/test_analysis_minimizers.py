"""Tests of lossanalysis.analysis.minimizers: the global minimizer of user losses, the single
stationary point of the catalogue losses, properness that agrees with argmin, blocks.

References: the loss value on a dense grid refined by bounded Brent (scipy.optimize on the
value, not on the gradient the library solves) and 50-digit mpmath roots.
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import optimize

from lossanalysis import LOSSES, Loss, analysis as A, get_loss
from lossanalysis.analysis import minimizers as M
from lossanalysis._symbols import internal_symbols

YI, PI = internal_symbols()


def brute_argmin(loss, y, n=200_001):
    """Global minimizer of the loss VALUE on [0, 1]: a dense grid (endpoints included), refined
    by bounded Brent around the best grid point; independent of the library's search."""
    p = np.linspace(0.0, 1.0, n)
    with np.errstate(all="ignore"):
        v = np.asarray(loss.value(y, p, check=False), dtype=float)
    v = np.where(np.isnan(v), np.inf, v)
    i = int(np.argmin(v))
    if i in (0, n - 1):
        return p[i], v[i]
    res = optimize.minimize_scalar(lambda q: float(loss.value(y, q, check=False)),
                                   bounds=(p[i - 1], p[i + 1]), method="bounded",
                                   options={"xatol": 1e-13})
    return (res.x, res.fun) if res.fun <= v[i] else (p[i], v[i])


# ---------------------------------------------------------------------------------------------
# user losses: the global minimum, never a maximum
# ---------------------------------------------------------------------------------------------
def test_concave_loss_gives_the_far_end_not_the_maximum():
    loss = Loss.from_expr("-(p - y)**2")
    y = np.array([0.1, 0.3, 0.7, 0.9])
    p = A.argmin(loss, y)
    np.testing.assert_array_equal(p, [1.0, 1.0, 0.0, 0.0])
    assert np.all(loss.value(y, p) < loss.value(y, y))          # y itself is the maximum
    assert not A.is_proper(loss).proper
    assert "stationary but not the global minimum" in A.is_proper(loss).evidence[
        "not proper because"]


def test_oscillating_proper_loss_is_found_at_its_global_minimum():
    loss = Loss.from_expr("sin(20*(p - y))**2 + (p - y)**2")
    assert A.argmin(loss, 0.3) == pytest.approx(0.3, abs=1e-12)
    y = np.linspace(0.0, 1.0, 41)
    np.testing.assert_allclose(A.argmin(loss, y), y, atol=1e-12)
    r = A.is_proper(loss)
    assert r.proper and r.direction == "none" and r.max_abs_bias <= 1e-9


@pytest.mark.parametrize("expr", [
    "(p - y)**2 * ((p - 1 + y)**2 + 1/100) + (p - 1/5)**2 / 10",       # two wells
    "cos(9*p) * (p - y)**2 + (p - y)**4",                               # wells of varying depth
    "-p*y*log(p) + p**3",                                               # interior, not at y
    "Abs(p - y) + (p - 1/2)**2",                                        # a kink
])
def test_user_argmin_is_the_global_minimum_of_the_value(expr):
    loss = Loss.from_expr(expr)
    for y in (0.05, 0.2, 0.45, 0.6, 0.85):
        p = float(A.argmin(loss, y))
        pb, vb = brute_argmin(loss, y)
        v = float(loss.value(y, max(p, 1e-300), check=False))
        assert v <= vb + 1e-12 * (1 + abs(vb)), (y, p, pb)
        assert p == pytest.approx(pb, abs=1e-6), (y, p, pb)


def test_structure_finer_than_the_grid_raises_rather_than_lies():
    """The search grid has spacing 1e-3 in the middle: a period of 6e-4 cannot be resolved;
    the answer must be either right or a 'cannot certify' error, never a wrong number."""
    loss = Loss.from_expr("sin(5000*(p - y))**2 + (p - y)**2 / 1000 - (p - 3/10)**2 / 100")
    for y in (0.3, 0.62):
        try:
            p = float(A.argmin(loss, y))
        except ValueError as err:
            assert "cannot certify" in str(err) and "loss" in str(err)
            continue
        pb, vb = brute_argmin(loss, y, n=2_000_001)
        assert float(loss.value(y, p)) <= vb + 1e-9


def test_user_optimal_predictions_never_return_a_maximum():
    loss = Loss.from_expr("-(p - y)**2")
    assert A.optimal_prediction(loss, [0.1, 0.2]) == 1.0
    np.testing.assert_array_equal(A.optimal_prediction_two_point(loss, 0.1, 0.8, [0.1, 0.9]),
                                  [1.0, 0.0])
    assert A.optimal_prediction_beta(loss, 2.0, 5.0) == 1.0       # mean 2/7: the far end is 1


def test_user_loss_agrees_with_the_catalogue_route():
    """A user copy of BCE goes through the global search; it must agree with the catalogue's
    single-root route to the last digits."""
    user = Loss.from_expr("-y*log(p) - (1 - y)*log(1 - p)", name="bce_copy")
    y = np.array([0.0, 1e-3, 0.2, 0.5, 0.77, 1.0])
    np.testing.assert_allclose(A.argmin(user, y), A.argmin("bce", y), rtol=1e-14, atol=0)
    focal = Loss.from_expr(get_loss("focal").expr, name="focal_copy")
    y = np.array([0.01, 0.2, 0.5, 0.9])
    np.testing.assert_allclose(A.argmin(focal, y), A.argmin("focal", y), rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# catalogue losses: a single stationary point (the fast route is exact)
# ---------------------------------------------------------------------------------------------
CATALOGUE_PARAMS = [("mse", {}), ("mae", {}), ("huber", {"delta": 0.01}), ("huber", {"delta": 2.0}),
                    ("bce", {}), ("kl", {}), ("reverse_kl", {}), ("logit_mse", {}),
                    ("gaussian_nll", {"sigma": 0.05}), ("continuous_bernoulli", {}),
                    ("beta_nll", {"kappa": 1.0}), ("beta_nll", {"kappa": 200.0}),
                    ("focal", {"gamma": 0.0}), ("focal", {"gamma": 0.5}),
                    ("focal", {"gamma": 5.0}), ("focal", {"gamma": 20.0})]


@pytest.mark.parametrize("name,params", CATALOGUE_PARAMS)
def test_catalogue_single_root_route_equals_the_global_search(name, params):
    """The catalogue route assumes dL/dp rises through zero once; the global search of a user
    loss assumes nothing.  They must give the same minimizer."""
    loss = get_loss(name, **params)
    y = np.array([0.003, 0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95, 0.997])

    def value(p, idx):
        if name == "continuous_bernoulli":
            # the catalogue's CB value in p is -inf below p = 1e-17 (1 - 2p rounds to 1 in
            # its normalizer); its value in the natural parameter is stable
            with np.errstate(divide="ignore"):
                return loss.value_logit(y[idx], np.log(p) - np.log1p(-p), check=False)
        return loss.value(y[idx], p, check=False)

    def grad(p, idx):
        return loss.grad(y[idx], p, check=False)

    glob = M._global_min(value, grad, y.size, lambda i: f"y={y[i]}", name)
    fast = A.argmin(loss, y)
    np.testing.assert_allclose(fast, glob, rtol=1e-12, atol=1e-300)


def test_cb_argmin_at_one_half_is_one_half():
    # symmetry (the mean mu(lambda) = 1/2 only at lambda = 1/2); the 50-digit route below is
    # 0/0 there
    assert float(A.argmin("continuous_bernoulli", 0.5)) == 0.5


@pytest.mark.parametrize("name,y", [(n, y) for n in ("focal", "continuous_bernoulli", "beta_nll")
                                    for y in (1e-3, 2e-3, 0.01, 0.5, 0.99, 0.999)
                                    if (n, y) != ("continuous_bernoulli", 0.5)])
def test_improper_argmin_in_the_extremes_at_50_digits(name, y):
    """Targets near 0 and 1: the CB minimizer falls to 1e-290 at y = 0.0015; the root must be
    right to the last digits (an earlier hand-written solver gave 2e-226 for 2.6e-152)."""
    loss = get_loss(name)
    p_num = float(A.argmin(loss, y))
    with mpmath.workdps(50):
        if name == "continuous_bernoulli":
            # the CB's own identity: its mean 1/(1 - e^-z) - 1/z equals y at the optimum
            def f(z):
                return 1 / (1 - mpmath.exp(-z)) - 1 / z - mpmath.mpf(y)
            z0 = -1 / mpmath.mpf(y) if y < 0.5 else 1 / (1 - mpmath.mpf(y))
        else:
            g = sp.lambdify((YI, PI), sp.diff(loss._internal_expr, PI), modules=["mpmath"])

            def f(z):
                return g(mpmath.mpf(y), 1 / (1 + mpmath.exp(-z)))
            z0 = mpmath.log(mpmath.mpf(p_num) / (1 - mpmath.mpf(p_num)))
        root = mpmath.findroot(f, z0)
        p_mp = 1 / (1 + mpmath.exp(-root))
    if p_mp < 1e-300:
        assert p_num == 0.0
    elif 1 - p_mp < 2.0 ** -53:
        assert p_num >= 1 - 2.0 ** -52
    else:
        assert p_num == pytest.approx(float(p_mp), rel=4e-15)


def test_table_and_fallback_routes_agree():
    """Targets inside the cached table range use its brackets, targets beyond logit 36 the
    full-interval search; both give the minimizer to the last bits."""
    for name in ("focal", "continuous_bernoulli", "beta_nll"):
        loss = get_loss(name)
        y = np.array([1e-17, 1e-16, 0.3, 1 - 1e-15])
        table = A.argmin(loss, y)

        def grad(p, idx):
            return loss.grad(y[idx], p, check=False)

        full = M.minimize_unit(grad, y.size, y)
        np.testing.assert_allclose(table, full, rtol=1e-14, atol=0)


# ---------------------------------------------------------------------------------------------
# properness agrees with argmin
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", [*LOSSES, "(p - y)**4", "-(p - y)**2",
                                  "sin(20*(p - y))**2 + (p - y)**2", "(p - y)**2 + p/10"])
def test_is_proper_agrees_with_argmin(loss):
    loss = get_loss(loss) if loss in LOSSES else Loss.from_expr(loss)
    y = np.linspace(0.01, 0.99, 37)
    bias = np.abs(np.asarray(A.argmin(loss, y)) - y)
    assert A.is_proper(loss).proper == bool(np.max(bias) <= 1e-9)


def test_direction_is_measured_by_the_distance_to_one_half():
    assert A.is_proper("focal").direction == "toward 1/2"
    assert A.is_proper("continuous_bernoulli").direction == "away from 1/2"
    assert A.is_proper(Loss.from_expr("-(p - y)**2")).direction == "away from 1/2"


# ---------------------------------------------------------------------------------------------
# blocks and repeated values
# ---------------------------------------------------------------------------------------------
def test_argmin_blocks_and_duplicates_give_the_same_numbers():
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.random(M._BLOCK + 1000), rng.integers(0, 256, 5000) / 255])
    for name in ("focal", "continuous_bernoulli"):
        whole = np.asarray(A.argmin(name, y))
        pick = np.array([0, 1, M._BLOCK - 1, M._BLOCK, M._BLOCK + 999, y.size - 1])
        np.testing.assert_array_equal(whole[pick], [A.argmin(name, y[i]) for i in pick])
        np.testing.assert_array_equal(A.argmin(name, y.reshape(-1, 2)), whole.reshape(-1, 2))


def test_float32_targets_give_the_float64_answer_of_the_same_values():
    y32 = np.array([1e-3, 0.2, 0.5, 0.8, 0.999], dtype=np.float32)
    for name in ("bce", "focal", "continuous_bernoulli"):
        out = A.argmin(name, y32)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, A.argmin(name, y32.astype(np.float64)))
