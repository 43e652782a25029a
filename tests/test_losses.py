"""The loss catalogue against its own SymPy definitions, 50-digit mpmath, finite differences,
and at the extremes of its domain."""
import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from lossanalysis import LOSSES, Loss, get_loss
from lossanalysis import losses as L
from lossanalysis.losses import _internal_symbols, symbols

Y, P = _internal_symbols()
Z = sp.Symbol("z", real=True)
PROPER = ["mse", "mae", "huber", "bce", "kl", "reverse_kl", "logit_mse", "gaussian_nll"]
BCE_FAMILY = ["bce", "kl", "focal", "continuous_bernoulli", "beta_nll"]
# non-default parameters too, so that parameters are exercised and not only the defaults
VARIANTS = [(n, {}) for n in LOSSES] + [
    ("focal", {"gamma": 0.5}), ("focal", {"gamma": 0.0}), ("huber", {"delta": 0.3}),
    ("gaussian_nll", {"sigma": 0.3}), ("beta_nll", {"kappa": 3.5}),
]
IDS = [n + "".join(f"-{k}={v}" for k, v in kw.items()) for n, kw in VARIANTS]


def interior_points(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.01, 0.99, n)
    p = rng.uniform(0.01, 0.99, n)
    return y, p


def symbolic(loss, which):
    """The SymPy expression for a method, straight from the definition."""
    e = loss._internal_expr
    # off the kinks of mae and huber their second derivative is 0: drop the Dirac deltas
    lp, lpp = (sp.diff(e, P, n).replace(sp.DiracDelta, lambda *a: sp.S.Zero) for n in (1, 2))
    s = P * (1 - P)
    return {
        "value": e, "grad": lp, "curvature": lpp,
        "value_logit": e, "grad_logit": lp * s, "curvature_logit": lpp * s ** 2 + lp * s * (1 - 2 * P),
    }[which]


METHODS = ["value", "grad", "curvature", "value_logit", "grad_logit", "curvature_logit"]


def _off_kink(loss, y, p):
    """Points away from the kinks of the non-smooth losses (derivatives are a.e. there)."""
    d = np.abs(p - y)
    keep = d > 1e-3
    if loss.name == "huber":
        keep &= np.abs(d - loss.params["delta"]) > 1e-3
    return y[keep], p[keep]


@pytest.mark.parametrize("name,params", VARIANTS, ids=IDS)
@pytest.mark.parametrize("which", METHODS)
def test_numerics_match_lambdified_definition(name, params, which):
    loss = get_loss(name, **params)
    y, p = _off_kink(loss, *interior_points())
    f = sp.lambdify((Y, P), symbolic(loss, which), modules=["scipy", "numpy"])
    expected = np.broadcast_to(f(y, p), y.shape)
    arg = np.log(p / (1 - p)) if which.endswith("logit") else p
    got = getattr(loss, which)(y, arg)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,params", VARIANTS, ids=IDS)
def test_numerics_match_mpmath_at_50_digits(name, params):
    loss = get_loss(name, **params)
    y, p = _off_kink(loss, *interior_points(60, seed=1))
    mp.mp.dps = 50
    for which in METHODS:
        f = sp.lambdify((Y, P), symbolic(loss, which), modules="mpmath")
        for yi, pi in zip(y[:12], p[:12]):
            zi = math.log(pi / (1 - pi))
            if which.endswith("logit"):
                ref = f(mp.mpf(yi), 1 / (1 + mp.exp(-mp.mpf(zi))))
                got = getattr(loss, which)(yi, zi)
            else:
                ref = f(mp.mpf(yi), mp.mpf(pi))
                got = getattr(loss, which)(yi, pi)
            ref = float(mp.re(ref))
            assert abs(got - ref) <= 1e-9 * abs(ref) + 1e-300, (which, yi, pi, got, ref)


@pytest.mark.parametrize("name,params", VARIANTS, ids=IDS)
def test_derivatives_match_central_finite_differences(name, params):
    loss = get_loss(name, **params)
    y, p = _off_kink(loss, *interior_points(200, seed=2))
    y, p = y[(p > 0.02) & (p < 0.98)], p[(p > 0.02) & (p < 0.98)]
    h = 1e-6
    fd = (loss.value(y, p + h) - loss.value(y, p - h)) / (2 * h)
    np.testing.assert_allclose(loss.grad(y, p), fd, rtol=1e-6, atol=1e-7)
    z = np.log(p / (1 - p))
    fdz = (loss.value_logit(y, z + h) - loss.value_logit(y, z - h)) / (2 * h)
    np.testing.assert_allclose(loss.grad_logit(y, z), fdz, rtol=1e-6, atol=1e-7)
    if loss.smooth:
        fd2 = (loss.grad(y, p + h) - loss.grad(y, p - h)) / (2 * h)
        np.testing.assert_allclose(loss.curvature(y, p), fd2, rtol=1e-5, atol=1e-6)
        fd2z = (loss.grad_logit(y, z + h) - loss.grad_logit(y, z - h)) / (2 * h)
        np.testing.assert_allclose(loss.curvature_logit(y, z), fd2z, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,params", VARIANTS, ids=IDS)
def test_excess_is_value_minus_value_at_target(name, params):
    loss = get_loss(name, **params)
    y, p = interior_points(200, seed=3)
    np.testing.assert_allclose(loss.excess(y, p), loss.value(y, p) - loss.value(y, y),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["bce", "kl", "reverse_kl", "logit_mse"])
def test_excess_keeps_full_precision_next_to_the_target(name):
    # the naive difference L(y, y+d) - L(y, y) loses every digit for d = 1e-9; the stable
    # excess must agree with 50-digit arithmetic
    loss = get_loss(name)
    mp.mp.dps = 50
    f = sp.lambdify((Y, P), loss._internal_expr - loss._internal_expr.subs(P, Y), modules="mpmath")
    for y, d in [(0.3, 1e-9), (0.9, -3e-7), (0.02, 1e-12), (0.5, 2e-5)]:
        p = y + d   # the prediction actually passed, as a double
        got = loss.excess(y, p)
        ref = float(f(mp.mpf(y), mp.mpf(p)))
        assert abs(got - ref) <= 1e-12 * ref, (y, d, got, ref)


# ---------------------------------------------------------------- extremes and float32
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", BCE_FAMILY)
def test_logit_forms_are_finite_at_plus_minus_1000(name, dtype):
    loss = get_loss(name)
    ys = [0.0, 0.3, 1.0] if loss.target_domain == "closed" else [0.01, 0.3, 0.99]
    y, z = np.meshgrid(np.array(ys, dtype), np.array([-1000, -40, 0, 40, 1000], dtype))
    for which in ("value_logit", "grad_logit", "curvature_logit"):
        v = getattr(loss, which)(y, z)
        assert v.dtype == dtype
        assert np.all(np.isfinite(v)), (which, v)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_logit_forms_are_correct_at_plus_minus_1000(dtype):
    bce = get_loss("bce")
    y = np.array([0.0, 0.25, 1.0], dtype)
    for z in (1000.0, -1000.0):
        zz = np.full(3, z, dtype)
        # softplus(z) = max(z, 0) exactly at |z| = 1000: value = y*max(-z,0) + (1-y)*max(z,0)
        expect = y * max(-z, 0) + (1 - y) * max(z, 0)
        np.testing.assert_allclose(bce.value_logit(y, zz), expect, rtol=1e-6)
        np.testing.assert_allclose(bce.grad_logit(y, zz), (z > 0) - y, rtol=1e-6)
        assert np.all(bce.curvature_logit(y, zz) == 0)
    kl = get_loss("kl")
    np.testing.assert_allclose(kl.value_logit(y, np.full(3, 1000, dtype)),
                               bce.value_logit(y, np.full(3, 1000, dtype))
                               - np.array([0, -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)), 0]),
                               rtol=1e-6)


@pytest.mark.parametrize("name", ["focal", "continuous_bernoulli", "beta_nll"])
def test_logit_forms_match_float64_mpmath_at_large_logits(name):
    # no special case is needed for |z| = 30 in float64, so mpmath is the reference there
    loss = get_loss(name)
    mp.mp.dps = 50
    for which in ("value_logit", "grad_logit"):
        f = sp.lambdify((Y, P), symbolic(loss, which), modules="mpmath")
        for y in (0.05, 0.5, 0.95):
            for z in (-30.0, 30.0):
                ref = float(mp.re(f(mp.mpf(y), 1 / (1 + mp.exp(-mp.mpf(z))))))
                got = getattr(loss, which)(y, z)
                assert abs(got - ref) <= 1e-9 * abs(ref) + 1e-12, (which, y, z, got, ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,params", VARIANTS, ids=IDS)
def test_value_and_grad_logit_is_value_logit_and_grad_logit(name, params, dtype):
    """The fused form the networks train with gives the very numbers of the two methods."""
    loss = get_loss(name, **params)
    y, p = interior_points(300, seed=5)
    z = np.concatenate([np.log(p / (1 - p)), [-1000.0, -30.0, 0.0, 30.0, 1000.0]])
    y = np.concatenate([y, [0.0, 0.3, 0.5, 0.7, 1.0]]) if loss.target_domain == "closed" \
        else np.concatenate([y, [0.2, 0.3, 0.5, 0.7, 0.8]])
    y, z = y.astype(dtype), z.astype(dtype)
    value, grad = loss.value_and_grad_logit(y, z)
    assert value.dtype == grad.dtype == dtype
    np.testing.assert_array_equal(value, loss.value_logit(y, z))
    np.testing.assert_array_equal(grad, loss.grad_logit(y, z))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log1p_from_one_log_is_as_accurate_as_numpys_log(dtype):
    """softplus and the BCE use ln(1 + u) = ln w - ((w - 1) - u)/w on u in [0, 1], w = 1 + u:
    the correction is exact to first order, so the error is that of np.log plus the final
    rounding.  NumPy's SIMD float32 log is accurate to 3.83 ulp (numpy/numpy PR 13134), glibc's
    float64 log to under 1 ulp."""
    u = np.concatenate([np.geomspace(1e-40 if dtype == np.float32 else 1e-300, 1, 3000),
                        np.linspace(0, 1, 1001)]).astype(dtype)
    u = u[u >= 0]
    got = L._log1p_unit(u)
    assert got.dtype == dtype
    ref = np.array([float(mp.log1p(mp.mpf(float(v)))) for v in u])
    ulp = np.spacing(np.maximum(np.abs(ref), np.finfo(dtype).tiny).astype(dtype)).astype(float)
    assert np.max(np.abs(got.astype(float) - ref) / ulp) <= (4.5 if dtype == np.float32 else 1.5)


@pytest.mark.parametrize("name", BCE_FAMILY)
def test_float32_agrees_with_float64(name):
    loss = get_loss(name)
    y, p = interior_points(300, seed=4)
    z = np.log(p / (1 - p))
    for which in ("value_logit", "grad_logit", "curvature_logit"):
        v64 = getattr(loss, which)(y, z)
        v32 = getattr(loss, which)(y.astype(np.float32), z.astype(np.float32))
        assert v32.dtype == np.float32
        scale = np.maximum(np.abs(v64), 1)
        assert np.max(np.abs(v32 - v64) / scale) < 1e-4, which


@pytest.mark.parametrize("name", ["mse", "mae", "huber", "bce", "kl", "reverse_kl", "logit_mse",
                                  "focal"])
def test_value_at_binary_targets_is_the_limit_not_nan(name):
    loss = get_loss(name)
    for t in (0.0, 1.0):
        assert loss.value(t, t) == 0 and not math.copysign(1, loss.value(t, t)) < 0
        assert loss.excess(t, t) == 0


def test_bce_infinite_where_the_true_value_is():
    bce = get_loss("bce")
    assert bce.value(0.5, 0.0) == np.inf and bce.value(0.5, 1.0) == np.inf
    assert bce.grad(0.0, 0.0) == 1 and bce.grad(1.0, 1.0) == -1
    assert bce.grad(0.5, 0.0) == -np.inf


def test_continuous_bernoulli_limits_at_the_boundary():
    cb = get_loss("continuous_bernoulli")
    assert cb.value(0.0, 0.0) == -np.inf      # the density concentrates at 0
    assert cb.value(0.3, 0.0) == np.inf
    assert cb.excess(0.0, 0.0) == 0 and cb.excess(0.0, 0.2) == np.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_dtype_follows_input_and_scalars_stay_scalars(dtype):
    loss = get_loss("bce")
    y = np.array([0.2, 0.7], dtype)
    for which in METHODS:
        arg = np.array([0.3, 0.4], dtype)
        assert getattr(loss, which)(y, arg).dtype == dtype
    out = loss.value(0.2, 0.3)
    assert np.ndim(out) == 0 and isinstance(out, np.floating)
    assert loss.value(np.float32(0.2), np.float32(0.3)).dtype == np.float32


def test_broadcasting():
    loss = get_loss("kl")
    y = np.linspace(0.1, 0.9, 5)[:, None]
    p = np.linspace(0.2, 0.8, 3)[None, :]
    out = loss.value(y, p)
    assert out.shape == (5, 3)
    np.testing.assert_allclose(out[2, 1], loss.value(y[2, 0], p[0, 1]))


# ---------------------------------------------------------------- the continuous Bernoulli
def test_cb_series_coefficients_are_those_of_sympy():
    z = sp.Symbol("z")
    A = sp.log((sp.exp(z) - 1) / z)
    ser = sp.series(A, z, 0, 18).removeO()
    for k, c in enumerate(L._CB_A, start=1):
        assert c == pytest.approx(float(ser.coeff(z, 2 * k)), rel=1e-15)
    assert ser.coeff(z, 1) == sp.Rational(1, 2)


def test_cb_mean_matches_mpmath_across_the_series_window():
    mp.mp.dps = 50
    for lam in [0.5, 0.5 + 1e-12, 0.5 - 1e-7, 0.51, 0.5622, 0.5623, 0.6, 0.9, 1e-6]:
        lm = mp.mpf(lam)
        if lam == 0.5:
            ref = mp.mpf(0.5)
        else:
            ref = lm / (2 * lm - 1) + 1 / (2 * mp.atanh(1 - 2 * lm))
        assert abs(L.continuous_bernoulli_mean(lam) - float(ref)) <= 1e-13 * float(ref)


def test_cb_value_is_continuous_at_one_half():
    cb = get_loss("continuous_bernoulli")
    v = cb.value(0.3, np.array([0.5 - 1e-9, 0.5, 0.5 + 1e-9]))
    assert np.ptp(v) < 1e-8
    g = cb.grad(0.3, np.array([0.5 - 1e-9, 0.5, 0.5 + 1e-9]))
    assert np.ptp(g) < 1e-7


# ---------------------------------------------------------------- user losses
def test_user_loss_from_string_gets_every_method():
    quartic = Loss.from_expr("(p - y)**4", name="quartic")
    assert quartic.name == "quartic"
    assert quartic.grad(0.2, 0.5) == pytest.approx(4 * 0.3 ** 3)
    assert quartic.curvature(0.2, 0.5) == pytest.approx(12 * 0.3 ** 2)
    assert quartic.grad_logit(0.2, 0.0) == pytest.approx(4 * 0.3 ** 3 * 0.25)
    assert quartic.excess(0.2, 0.2) == 0


def test_user_loss_from_sympy_expression_with_parameters():
    y, p, a = sp.symbols("y p a")
    loss = Loss.from_expr(a * (p - y) ** 2, name="scaled", params={"a": 3})
    assert loss.params == {"a": 3.0}
    assert loss.value(0.1, 0.4) == pytest.approx(3 * 0.09)


def test_user_loss_with_a_kink_is_non_smooth_and_differentiates():
    """|p - y|^3 has a kink in its third derivative, |p - y| in its first: both are flagged
    non-smooth, and their derivatives evaluate (SymPy's DiracDelta is 0 off the kink)."""
    cubic = Loss.from_expr("Abs(p - y)**3", name="abs_cubic")
    absolute = Loss.from_expr("Abs(p - y)")
    assert not cubic.smooth and not absolute.smooth
    assert Loss.from_expr("(p - y)**2").smooth
    assert cubic.curvature(0.2, 0.5) == pytest.approx(6 * 0.3)
    assert cubic.curvature(0.5, 0.2) == pytest.approx(6 * 0.3)
    assert absolute.grad(0.2, [0.1, 0.5]).tolist() == [-1.0, 1.0]
    assert absolute.curvature(0.2, 0.5) == 0
    # the same numbers as the catalogue's mae, which has hand-written forms
    mae = get_loss("mae")
    np.testing.assert_array_equal(absolute.grad_logit(0.3, [-2.0, 2.0]),
                                  mae.grad_logit(0.3, [-2.0, 2.0]))


def test_user_loss_errors():
    with pytest.raises(ValueError, match="unknown name 'b'.*params"):
        Loss.from_expr("b * (p - y)**2")
    b = sp.Symbol("b")
    with pytest.raises(ValueError, match=r"free symbols \['b'\] besides y and p"):
        Loss.from_expr(b * (symbols()[1] - symbols()[0]) ** 2)
    with pytest.raises(ValueError, match="does not depend on the prediction"):
        Loss.from_expr("y**2")
    with pytest.raises(ValueError, match="cannot parse"):
        Loss.from_expr("(p - y")
    # complex for p < y: refused when it is made, not when it is first evaluated
    with pytest.raises(ValueError, match="not real at y="):
        Loss.from_expr("log(p - y)")


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("call,match", [
    (lambda l: l.value(1.5, 0.5), r"^y \(target\)"),
    (lambda l: l.value(np.nan, 0.5), r"^y \(target\)"),
    (lambda l: l.value(0.5, -0.1), r"^p \(prediction\)"),
    (lambda l: l.value(0.5, np.array([0.2, np.nan])), r"^p \(prediction\).*index 1"),
    (lambda l: l.value(np.ones(3) / 2, np.ones(4) / 2), "do not broadcast"),
    (lambda l: l.grad_logit(0.5, np.nan), r"^z \(logit\)"),
    (lambda l: l.value("a", 0.5), "real numbers"),
])
def test_bad_input_is_a_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(get_loss("bce"))


def test_open_domain_targets_for_the_beta_likelihood():
    with pytest.raises(ValueError, match=r"y \(target\) must lie in \(0, 1\)"):
        get_loss("beta_nll").value(0.0, 0.5)


@pytest.mark.parametrize("name,params,match", [
    ("nope", {}, "unknown loss 'nope'; the catalogue has: mse"),
    ("gaussian_nll", {"sigma": 0}, r"sigma .* must be >= 1e-8"),
    ("focal", {"gamma": -1}, r"gamma .* must be in \[0, 100\]"),
    ("beta_nll", {"kappa": -2}, r"kappa .* must be in \[1e-6, 1e3\]"),
    ("huber", {"delta": float("nan")}, "delta"),
    ("mse", {"sigma": 1}, "unknown parameter"),
    ("focal", {"gamma": "x"}, "must be a number"),
])
def test_bad_loss_names_and_parameters(name, params, match):
    with pytest.raises(ValueError, match=match):
        get_loss(name, **params)


def test_repr_and_symbolic_interface():
    loss = get_loss("focal", gamma=2)
    assert repr(loss) == "get_loss('focal', gamma=2.0)"
    assert eval(repr(loss), {"get_loss": get_loss}) == loss
    assert isinstance(loss.expr, sp.Expr) and "log" in loss.latex()
    assert str(get_loss("mse")) == "mse: (p - y)**2"


# ---------------------------------------------------------------- properties
finite01 = st.floats(0, 1, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(PROPER), y=finite01, p=finite01)
def test_excess_of_proper_losses_is_nonnegative_and_zero_at_the_target(name, y, p):
    loss = get_loss(name)
    e = loss.excess(y, p)
    assert e >= 0
    assert loss.excess(y, y) == 0
    if p != y and 0 < y < 1:
        assert e > 0 or abs(p - y) < 1e-150


def test_public_expressions_use_the_users_own_symbols():
    """A user deriving in a REPL types plain sympy symbols; they must be the library's."""
    y, p = sp.symbols("y p")
    assert symbols() == (y, p)
    bce = get_loss("bce")
    assert sp.simplify(sp.diff(bce.expr, p) - (p - y) / (p * (1 - p))) == 0
    assert bce.expr.free_symbols == {y, p}
    user = Loss.from_expr((p - y) ** 2, name="sq")
    assert user.expr == (p - y) ** 2 and user.expr.free_symbols == {y, p}
