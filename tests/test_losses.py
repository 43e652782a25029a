"""The loss catalogue against its own SymPy definitions, 50-digit mpmath, finite differences,
and at the extremes of its domain."""
import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from lossanalysis import LOSSES, Loss, get_loss
from lossanalysis import _stable
from lossanalysis import losses as L
from lossanalysis._symbols import internal_symbols
from lossanalysis.losses import symbols

Y, P = internal_symbols()
Z = sp.Symbol("z", real=True)
PROPER = ["mse", "mae", "huber", "bce", "kl", "reverse_kl", "logit_mse", "gaussian_nll"]
BCE_FAMILY = ["bce", "kl", "focal", "continuous_bernoulli", "beta_nll"]
# non-default parameters too, so that parameters are exercised and not only the defaults
VARIANTS = [(n, {}) for n in LOSSES] + [
    ("focal", {"gamma": 0.5}), ("focal", {"gamma": 0.0}), ("focal", {"gamma": 1.5}),
    ("huber", {"delta": 0.3}),
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


# Every method of every loss against mpmath at the extremes: p down to 1e-300 and up to
# 1 - 2^-53, logits at +-30 and +-1000, in float64 and float32 (inputs rounded to float32 first;
# the reference is computed at the rounded inputs).  The references are the SymPy definition
# evaluated at 400 digits (480 at |z| = 1000, where the CB's atanh(1 - 2p) needs p to 434
# digits); for z > 0 they are evaluated in q = 1 - p = 1/(1 + e^z), so that no digit of a
# saturated sigmoid is lost before the arithmetic starts.  Bounds: a result whose reference
# overflows the dtype must be inf of that sign, one that underflows must be below the
# smallest normal number; otherwise the relative error must be within the bound of its region
# (ULPS; measured maxima over these points in brackets):
#   float64, p <= 1e-8 or p = 0.3: 256 ulp [128: the Beta's ln Gamma terms, p = 1e-300]
#   float64, p >= 1 - 1e-8: 16 ulp [3.4]; |z| = 30: 32 ulp [13]; |z| = 1000: 16 ulp [3.4]
#   float32, everywhere: 64 ulp [17: focal excess at p = 0.3; 4.4 at p <= 1e-8, 1.5 in z].
#     The argument: a float32 method is at most ~16 rounded steps, each within 4 ulp (NumPy's
#     SIMD float32 exp/log kernels are not correctly rounded, and differ between CPUs), at a
#     condition number near 1; a form whose cancellation would multiply that (the Beta's
#     ln Gamma terms, the continuous Bernoulli's curvature, 8x at y = 0.2, p = 0.3) is evaluated
#     in float64 and rounded once, so 16 x 4 = 64 holds on every CPU.
# Points where the reference is undefined (0 ln 0 at y = 0 or 1) are left to the limit tests
# above; grad at p = y (a zero, the difference of two O(1) halves) is not a relative-error
# point.
EXTREME_Y = [0.0, 1e-300, 0.001, 0.2, 0.5, 0.999, 1 - 2 ** -53, 1.0]
EXTREME_P = [1e-300, 1e-30, 1e-8, 0.3, 1 - 1e-8, 1 - 2 ** -53]
EXTREME_ZY = [0.0, 1e-300, 0.3, 1 - 2 ** -53, 1.0]
EXTREME_Z = [-1000.0, -30.0, 30.0, 1000.0]
def _ulps(dtype, x, logit):
    """The bound of the region of the point (see above), in units of the dtype's epsilon."""
    if dtype == np.float32:
        return 64
    if logit:
        return 32 if abs(x) < 100 else 16
    return 16 if x >= 1 - 1e-8 else 256
Q = sp.Symbol("q", positive=True)


def _mp_references(loss):
    """method -> (f(y, p), g(y, q)): mpmath functions of the definition in p and in q = 1 - p."""
    out = {}
    for which in METHODS + ["excess"]:
        if which == "excess":
            e = loss._internal_expr - loss._internal_expr.subs(P, Y)
        else:
            e = symbolic(loss, which)
        out[which] = (sp.lambdify((Y, P), e, modules="mpmath"),
                      sp.lambdify((Y, Q), e.subs(P, 1 - Q), modules="mpmath"))
    return out


def _reference(fg, y, x, logit):
    with mp.workdps(480 if logit and abs(x) > 500 else 400):
        ym, xm = mp.mpf(float(y)), mp.mpf(float(x))
        try:
            if logit and x > 0:
                r = fg[1](ym, 1 / (1 + mp.exp(xm)))
            else:
                r = fg[0](ym, 1 / (1 + mp.exp(-xm)) if logit else xm)
        except (ZeroDivisionError, ValueError):
            return None
        if isinstance(r, mp.mpc):
            if abs(r.imag) > mp.mpf(10) ** -350 * (1 + abs(r.real)):
                return None
            r = r.real
        return None if mp.isnan(r) else r


def _agrees(got, ref, dtype, ulps):
    fi = np.finfo(dtype)
    if abs(ref) > fi.max:
        return got == (np.inf if ref > 0 else -np.inf)
    if not np.isfinite(got):
        return False
    if abs(ref) < fi.tiny:
        return abs(float(got) - float(ref)) <= fi.tiny
    return abs(mp.mpf(float(got)) - ref) <= ulps * fi.eps * abs(ref)


@pytest.mark.parametrize("name,params", VARIANTS, ids=IDS)
def test_every_method_matches_mpmath_at_the_extremes(name, params):
    loss = get_loss(name, **params)
    refs = _mp_references(loss)
    bad, checked = [], {}
    for dtype in (np.float64, np.float32):
        for which, fg in refs.items():
            logit = which.endswith("logit")
            points = ([(y, z) for y in EXTREME_ZY for z in EXTREME_Z] if logit
                      else [(y, p) for y in EXTREME_Y for p in EXTREME_P])
            for y, x in points:
                yd, xd = dtype(y), dtype(x)
                if loss.target_domain == "open" and not 0 < yd < 1:
                    continue
                if which == "grad" and yd == xd:
                    continue
                if name == "huber" and not logit and \
                        abs(abs(float(xd) - float(yd)) - loss.params["delta"]) < 1e-6:
                    continue                                  # on the kink
                ref = _reference(fg, yd, xd, logit)
                if ref is None:
                    continue
                got = getattr(loss, which)(yd, xd)
                assert got.dtype == dtype
                checked[which] = checked.get(which, 0) + 1
                if not _agrees(got, ref, dtype, _ulps(dtype, float(xd), logit)):
                    bad.append((dtype.__name__, which, float(yd), float(xd), float(got),
                                mp.nstr(ref, 10)))
    assert set(checked) == set(refs) and min(checked.values()) >= 10, checked
    assert not bad, bad


@pytest.mark.parametrize("loss,method,y,x,dtype", [
    # the points of issue 10, each wrong before (the values it gave in comments)
    (("logit_mse", {}), "value", 0.001, 1e-30, np.float64),                   # inf
    (("logit_mse", {}), "value", 0.2, 1 - 2 ** -53, np.float64),              # 2.5% off
    (("reverse_kl", {}), "grad", 0.001, 1e-30, np.float64),                   # -inf
    (("logit_mse", {}), "value", 0.5, 1e-8, np.float32),                      # inf
    (("continuous_bernoulli", {}), "value", 0.2, 1e-30, np.float64),          # -inf
    (("focal", {"gamma": 0.5}), "curvature", 0.0, 1e-300, np.float64),        # -inf
    (("focal", {"gamma": 1.5}), "curvature", 0.0, 1e-300, np.float64),
    (("focal", {"gamma": 0.5}), "curvature", 0.2, 1e-300, np.float64),        # NaN (true: inf)
    (("bce", {}), "grad_logit", 1.0, 30.0, np.float64),                       # 3 digits lost
    (("bce", {}), "grad_logit", 1.0, 30.0, np.float32),                       # 0 (all lost)
    (("bce", {}), "curvature", 1e-300, 1e-300, np.float64),                   # inf (true 1e300)
    (("continuous_bernoulli", {}), "grad_logit", 1.0, 1000.0, np.float32),    # 4 digits
    (("continuous_bernoulli", {}), "value_logit", 1.0, 1000.0, np.float64),   # 7 bits lost
])
def test_the_reported_extreme_points(loss, method, y, x, dtype):
    name, params = loss
    loss = get_loss(name, **params)
    yd, xd = dtype(y), dtype(x)
    ref = _reference(_mp_references(loss)[method], yd, xd, method.endswith("logit"))
    got = getattr(loss, method)(yd, xd)
    assert _agrees(got, ref, dtype, _ulps(dtype, float(xd), method.endswith("logit"))), \
        (got, mp.nstr(ref, 12))


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
    got = _stable.log1p_unit(u)
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


ALL_METHODS = METHODS + ["excess", "value_and_grad_logit"]


@pytest.mark.parametrize("name,params", VARIANTS, ids=IDS)
def test_dtypes_follow_numpys_promotion_with_python_numbers_as_weak_scalars(name, params):
    """float32 arrays stay float32 with Python numbers on the other side (NumPy 2's weak
    scalars), in every method of every loss; Python numbers and lists alone give float64; a
    float64 array or NumPy float64 scalar makes the result float64; scalars give scalars."""
    loss = get_loss(name, **params)
    y32 = np.array([0.2, 0.7], np.float32)
    x32 = np.array([0.3, 0.4], np.float32)
    for which in ALL_METHODS:
        f = getattr(loss, which)
        first = lambda out: out[0] if isinstance(out, tuple) else out   # noqa: E731
        assert first(f(y32, x32)).dtype == np.float32, which
        assert first(f(0.5, x32)).dtype == np.float32, which          # Python float: weak
        assert first(f(y32, 0.3)).dtype == np.float32, which
        assert first(f(y32, np.float32(0.3))).dtype == np.float32, which
        assert first(f(y32, np.float64(0.3))).dtype == np.float64, which   # NumPy scalar: strong
        assert first(f(y32, x32.astype(np.float64))).dtype == np.float64, which
        assert first(f([0.2, 0.7], [0.3, 0.4])).dtype == np.float64, which
        out = first(f(0.5, 0.3))
        assert isinstance(out, np.float64) and np.ndim(out) == 0, which   # Python alone: float64
        # the float32 results are the float64 ones rounded (up to float32 arithmetic)
        np.testing.assert_allclose(first(f(0.5, x32)), first(f(0.5, x32.astype(np.float64))),
                                   rtol=1e-5, atol=1e-6)


def test_python_scalars_give_float64_results():
    """Both arguments Python numbers: float64, not float32 (logit_mse(0.2, 1 - 2^-53) was
    computed in float32 and returned inf while this was being written)."""
    lm = get_loss("logit_mse")
    v = lm.value(0.2, 1 - 2 ** -53)
    assert v.dtype == np.float64 and np.isfinite(v)
    assert get_loss("bce").value(1, 0).dtype == np.float64


def test_parameters_the_dtype_cannot_hold_are_computed_in_float64():
    """NumPy converts a Python float parameter to float32 next to float32 data: a huber delta
    of 1e-40 would become a float32 subnormal and 1e-50 would become 0."""
    for loss in (get_loss("huber", delta=1e-40), get_loss("huber", delta=1e-50)):
        y = np.array([0.2, 0.3], np.float32)
        p = np.array([0.2 + 1e-30, 0.9], np.float32)
        for which in ("value", "grad", "curvature"):
            got = getattr(loss, which)(y, p)
            ref = getattr(loss, which)(y.astype(np.float64), p.astype(np.float64))
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, ref.astype(np.float32))


def test_gaussian_sigma_range_and_small_sigma_numerics():
    """sigma = 1e-170 divided by an underflowed sigma^2 (ZeroDivisionError); the range now
    starts at 1e-8, and at its end the logit forms are finite where p q underflows."""
    with pytest.raises(ValueError, match=r"sigma of loss 'gaussian_nll' must be >= 1e-8; "
                                         r"got 1e-170"):
        get_loss("gaussian_nll", sigma=1e-170)
    g = get_loss("gaussian_nll", sigma=1e-8)
    mp.mp.dps = 40
    ref = (mp.mpf(0.4) - mp.mpf(0.1)) ** 2 / (2 * mp.mpf(1e-8) ** 2) + mp.log(mp.mpf(1e-8)) \
        + mp.log(2 * mp.pi) / 2
    assert g.value(0.1, 0.4) == pytest.approx(float(ref), rel=1e-15)
    for dtype in (np.float32, np.float64):
        z = np.array([-1000, -30, 0, 30, 1000], dtype)
        for which in ("value_logit", "grad_logit", "curvature_logit"):
            assert np.all(np.isfinite(getattr(g, which)(dtype(0.3), z))), (which, dtype)


@pytest.mark.parametrize("name,params", VARIANTS, ids=IDS)
def test_every_method_broadcasts(name, params):
    loss = get_loss(name, **params)
    y = np.linspace(0.1, 0.9, 5)[:, None]
    p = np.linspace(0.2, 0.8, 3)[None, :]
    for which in ALL_METHODS:
        x = np.log(p / (1 - p)) if "logit" in which else p
        out = getattr(loss, which)(y, x)
        for o in (out if isinstance(out, tuple) else (out,)):
            assert o.shape == (5, 3) and o.flags.writeable, which
        single = getattr(loss, which)(y[2, 0], x[0, 1])
        first = out[0] if isinstance(out, tuple) else out
        assert (single[0] if isinstance(single, tuple) else single) == first[2, 1], which


# ---------------------------------------------------------------- the continuous Bernoulli
def test_cb_series_coefficients_are_those_of_sympy():
    z = sp.Symbol("z")
    A = sp.log((sp.exp(z) - 1) / z)
    ser = sp.series(A, z, 0, 18).removeO()
    for k, c in enumerate(_stable._CB_A, start=1):
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
    np.testing.assert_allclose(absolute.grad_logit(0.3, [-2.0, 2.0]),
                               mae.grad_logit(0.3, [-2.0, 2.0]), rtol=4e-16)


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


# ---------------------------------------------------------------- construction and the REPL
def test_the_base_class_is_not_constructed_directly():
    with pytest.raises(TypeError, match=r"use get_loss\(name, \*\*params\) .* or "
                                        r"Loss.from_expr"):
        Loss("bce")
    with pytest.raises(TypeError, match="not constructed directly"):
        Loss()


@pytest.mark.parametrize("bad", [["bce"], None, 3, ("bce",), {"bce": 1}])
def test_get_loss_names_its_argument_for_non_strings(bad):
    with pytest.raises(TypeError, match=r"^name must be a catalogue loss name \(a str: mse, "):
        get_loss(bad)


def test_get_loss_returns_a_loss_as_is_and_refuses_parameters_with_it():
    bce = get_loss("bce")
    assert get_loss(bce) is bce
    with pytest.raises(ValueError, match="parameters cannot be given together"):
        get_loss(bce, gamma=1)


def test_help_of_get_loss_lists_the_catalogue_from_the_classes():
    doc = get_loss.__doc__
    for name in LOSSES:
        assert f"\n    {name}" in doc, name
        cls = L._CATALOGUE[name]
        for key, (default, _, rule) in cls._param_spec.items():
            assert f"{key} = {default:g} ({rule})" in doc
    assert "gamma = 2 (in [0, 100])" in doc and "Targets y strictly inside (0, 1)" in doc


def test_reprs_and_latex():
    assert repr(get_loss("huber")) == "get_loss('huber', delta=0.1)"
    assert str(get_loss("mae")) == "mae: Abs(p - y)"
    assert get_loss("mse")._repr_latex_() == \
        r"$\displaystyle L_{\mathrm{mse}}(y, p) = \left(p - y\right)^{2}$"
    odd = Loss.from_expr("(p - y)**2", name="a_b{c}\\")
    assert r"L_{\mathrm{a\_b\{c\}\textbackslash{}}}" in odd._repr_latex_()


def test_complex_results_are_errors_never_dropped():
    """Defensive: a user loss cannot produce a complex value after its construction checks,
    but if an implementation ever returned one, the call raises rather than dropping the
    imaginary part (what NumPy's cast does, with a ComplexWarning)."""
    loss = Loss.from_expr("(p - y)**2")
    with pytest.raises(ValueError, match="is not real at y=.*p=0.25"):
        loss._call(lambda y, p: p + 1j * (p < 0.3), 0.5, np.array([0.5, 0.25]), "p", True)
    out = loss._call(lambda y, p: p + 0j, 0.5, np.array([0.5, 0.25]), "p", True)
    assert out.dtype == np.float64 and out.tolist() == [0.5, 0.25]


def test_importing_the_package_is_cheap_and_the_api_is_lazy():
    import subprocess
    import sys
    code = ("import sys, lossanalysis as la\n"
            "heavy = [m for m in ('sympy', 'scipy', 'matplotlib') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "assert 'lossanalysis.analysis' not in sys.modules\n"
            "print(la.y, la.p, type(la.plotting).__name__, la.nn.__name__, la.data.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["y", "p", "module", "lossanalysis.nn", "lossanalysis.data"]


def test_the_public_api_is_listed():
    import pydoc

    import lossanalysis as la
    from lossanalysis import analysis
    assert set(analysis.__all__) <= set(la.__all__)
    assert {"LOSSES", "Loss", "get_loss", "y", "p"} <= set(la.__all__)
    for name in la.__all__:
        assert getattr(la, name) is not None
    assert (la.y, la.p) == symbols()
    import pkgutil
    public = sorted(m.name for m in pkgutil.iter_modules(la.__path__) if not m.name.startswith("_"))
    assert public == sorted(la._SUBMODULES)
    for sub in public:
        assert getattr(la, sub).__name__ == f"lossanalysis.{sub}"
        assert sub in dir(la)
    text = pydoc.render_doc(la, renderer=pydoc.plaintext)
    missing = [n for n in la.__all__ if n not in text and n != "__version__"]
    assert not missing
    namespace = {}
    exec("from lossanalysis import *", namespace)   # noqa: S102 - a star-import of our package
    assert set(la.__all__) <= set(namespace)
