"""Tests of the analysis' conventions: the one rule of asymmetry_ratio for improper losses,
readable result objects (repr, LaTeX), readable symbolic coefficients, the gradients at the
extremes against mpmath, and the linear-VAE helpers' input checks.

References: 50-digit mpmath from the SymPy definitions, SymPy's own simplification.
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from lossanalysis import LOSSES, Loss, analysis as A, get_loss
from lossanalysis.analysis import _symbolic as S
from lossanalysis._symbols import internal_symbols
from lossanalysis.losses import symbols

Y, P = symbols()
YI, PI = internal_symbols()
Z = sp.Symbol("z", real=True)


# ---------------------------------------------------------------------------------------------
# asymmetry_ratio: the excess over the loss's own minimum
# ---------------------------------------------------------------------------------------------
def mp_ratio(name, y, delta, dps=50):
    """R from the SymPy definition at 50 digits: (L(away) - L(p*)) / (L(toward) - L(p*)), p*
    the root of dL/dp found by mpmath from the library's minimizer."""
    e = get_loss(name)._internal_expr
    L = sp.lambdify((YI, PI), e, modules=["mpmath"])
    g = sp.lambdify((YI, PI), sp.diff(e, PI), modules=["mpmath"])
    with mpmath.workdps(dps):
        y, d = mpmath.mpf(y), mpmath.mpf(delta)
        ps = mpmath.mpf(float(A.argmin(name, float(y))))
        if ps != 0.5:                    # the CB's expression is 0/0 at 1/2 (its minimizer)
            ps = mpmath.findroot(lambda q: g(y, q), ps)
        else:
            ps += mpmath.mpf(10) ** -40
        s = 1 if y >= 0.5 else -1
        return float(mpmath.re((L(y, y + s * d) - L(y, ps)) / (L(y, y - s * d) - L(y, ps))))


@pytest.mark.parametrize("name", ["focal", "continuous_bernoulli", "beta_nll"])
@pytest.mark.parametrize("y,delta", [(0.3, 0.05), (0.1, 0.05), (0.75, 0.2), (0.5, 0.25)])
def test_improper_ratio_is_measured_from_the_loss_minimum(name, y, delta):
    r = float(A.asymmetry_ratio(name, y, delta))
    assert r >= 0 and np.isfinite(r)
    assert r == pytest.approx(mp_ratio(name, y, delta), rel=1e-8)


def test_ratio_is_nonnegative_and_nan_only_outside_the_interval():
    y = np.linspace(0.01, 0.99, 99)
    for name in LOSSES:
        r = np.asarray(A.asymmetry_ratio(name, y, 0.005))
        assert np.all(r[np.isfinite(r)] >= 0), name
        assert not np.isnan(r).any(), name
    assert np.isnan(A.asymmetry_ratio("focal", 0.02, 0.05))        # y - delta < 0


def test_ratio_is_infinite_where_only_the_toward_point_is_free():
    """A user loss with its minimum at p = 1/4 for every target: from y = 3/16 the toward
    point y + 1/16 is the minimum (cost 0), the away point costs > 0."""
    loss = Loss.from_expr("(p - 1/4)**2 + y")
    assert A.asymmetry_ratio(loss, 0.1875, 0.0625) == np.inf
    assert A.asymmetry_ratio(loss, 0.3125, 0.0625) == 0.0           # the away point is free


def test_ratio_blocks_and_bad_delta():
    y = np.linspace(0.05, 0.95, A.asymmetry._BLOCK + 7)
    r = np.asarray(A.asymmetry_ratio("focal", y, 0.01))
    pick = [0, A.asymmetry._BLOCK - 1, A.asymmetry._BLOCK, y.size - 1]
    np.testing.assert_array_equal(r[pick], [A.asymmetry_ratio("focal", y[i], 0.01) for i in pick])
    with pytest.raises(ValueError, match="delta must be finite and > 0; got -0.5"):
        A.asymmetry_ratio("bce", [0.3, 0.4], [0.1, -0.5])
    with pytest.raises(ValueError, match="broadcast"):
        A.asymmetry_ratio("bce", [0.3, 0.4], [0.1, 0.2, 0.3])


# ---------------------------------------------------------------------------------------------
# result objects
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: A.is_proper("focal"),
                                  lambda: A.asymmetry_coefficient("bce"),
                                  lambda: A.asymmetry_coefficient("focal")])
def test_result_repr_is_one_field_per_line(make):
    r = make()
    text = repr(r)
    lines = text.splitlines()
    name = type(r).__name__
    assert lines[0].startswith(f"{name}(loss=")
    fields = [f.name for f in r.__dataclass_fields__.values()]
    starts = [ln[len(name) + 1:].split("=")[0] for ln in lines
              if ln.startswith(" " * (len(name) + 1)) and not ln[len(name) + 1] == " "]
    assert starts == fields[1:]
    assert text.endswith("})") or text.endswith(")")


def test_result_latex_typesets_the_formulas():
    tex = A.asymmetry_coefficient("bce")._repr_latex_()
    assert tex.startswith("$") and tex.endswith("$")
    assert sp.latex(A.asymmetry_coefficient("bce").coefficient) in tex
    tex = A.is_proper("mse")._repr_latex_()
    assert r"L_p(y, y) & 0" in tex and r"\text{True}" in tex


# ---------------------------------------------------------------------------------------------
# readable coefficients
# ---------------------------------------------------------------------------------------------
def test_readable_forms_are_equal_and_factored():
    y = S.symbols()[0]
    raw = 2 * (2 * y - 1) / (3 * y ** 2 * (y ** 2 - 2 * y + 1))
    nice = S._readable(raw)
    assert sp.simplify(nice - raw) == 0
    assert "(1 - y)**2" in str(nice) and "y**2 - 2*y + 1" not in str(nice)
    p = S.symbols()[1]
    assert str(S._readable((p - y) / (p * (p - 1)))) == "-(p - y)/(p*(1 - p))"


@pytest.mark.parametrize("name", ["mse", "bce", "kl", "reverse_kl", "logit_mse", "gaussian_nll"])
def test_rational_derivations_have_no_v_minus_one_factors(name):
    for key, e in A.derivations(name).items():
        if e is None:
            continue
        text = str(e)
        assert "(y - 1)" not in text and "(p - 1)" not in text, (key, text)
        assert "y**2 - 2*y + 1" not in text, (key, text)


# ---------------------------------------------------------------------------------------------
# gradients at the extremes against mpmath (p down to 1e-300, logits to +-1000, float32)
# ---------------------------------------------------------------------------------------------
def _mp(expr, y, x, dps=60):
    """expr at (y, x) in mpmath, x the logit z or the prediction p; p = sigmoid(1000) differs
    from 1 by e^-1000, so the precision grows with |z| (and stays above 1 - y's digits)."""
    f = sp.lambdify((YI, Z if expr.has(Z) else PI), expr, modules=["mpmath"])
    with mpmath.workdps(dps + int(abs(x) / 2.3) if expr.has(Z) else dps):
        try:
            return mpmath.re(f(mpmath.mpf(y), mpmath.mpf(x)))
        except ZeroDivisionError:          # a removable 0/0 (the CB at p = 1/2): step off it
            return mpmath.re(f(mpmath.mpf(y), mpmath.mpf(x) + mpmath.mpf(10) ** (-dps // 2)))


SMOOTH = [n for n in LOSSES if get_loss(n).smooth]
#: Losses finite at y = 0 and y = 1 (reverse KL and logit MSE are infinite there for p != y).
FINITE_AT_ENDS = ["mse", "bce", "kl", "gaussian_nll", "focal"]
Z_EXTREMES = (-1000.0, -300.0, -30.0, 30.0, 300.0, 1000.0)
P_EXTREMES = (1e-300, 1e-150, 1e-20, 0.5, 1 - 1e-12)

LOGIT_GRID = [(n, y, z) for n in SMOOTH
              for y in [0.3, 1e-6, 1 - 1e-6] + ([0.0, 1.0] if n in FINITE_AT_ENDS else [])
              for z in Z_EXTREMES]


@pytest.mark.parametrize("name,y,z", LOGIT_GRID)
def test_logit_gradient_at_extreme_logits_against_mpmath(name, y, z):
    loss = get_loss(name)
    e = sp.diff(loss._internal_expr.subs(PI, 1 / (1 + sp.exp(-Z))), Z)
    got = float(A.logit_gradient(loss, y, z))
    assert got == pytest.approx(float(_mp(e, y, z)), rel=1e-9, abs=1e-300)


P_GRID = [(n, y, p) for n in SMOOTH if get_loss(n).target_domain == "closed"
          for y in (1e-3, 0.4, 0.999) for p in P_EXTREMES]


@pytest.mark.parametrize("name,y,p", P_GRID)
def test_gradient_profile_down_to_1e300_against_mpmath(name, y, p):
    e = sp.diff(get_loss(name)._internal_expr, PI)
    got = float(A.gradient_profile(name, y, p))
    assert got == pytest.approx(float(_mp(e, y, p, dps=400)), rel=1e-9)


W_GRID = [(n, y) for n in ("bce", "kl", "reverse_kl", "logit_mse", "focal", "gaussian_nll")
          for y in (1e-300, 1e-12, 0.5, 1 - 1e-12)]


@pytest.mark.parametrize("name,y", W_GRID)
def test_effective_weight_near_the_ends_against_mpmath(name, y):
    e = sp.diff(get_loss(name)._internal_expr, PI, 2).subs(PI, YI) / 2
    got = float(A.effective_weight(name, y))
    assert got == pytest.approx(float(_mp(e, y, 0.5, dps=400)), rel=1e-9)


def test_float32_inputs_are_read_as_their_float64_values():
    y32 = np.array([1e-3, 0.3, 0.999], dtype=np.float32)
    z32 = np.array([-1000, 0.5, 1000], dtype=np.float32)
    for fn, args in ((A.logit_gradient, (y32, z32)), (A.effective_weight, (y32,)),
                     (A.asymmetry_ratio, (y32, np.float32(1e-4))),
                     (A.curvature_at_optimum, (y32,))):
        out = fn("bce", *args)
        ref = fn("bce", *(np.asarray(a, dtype=np.float64) for a in args))
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, ref)


# ---------------------------------------------------------------------------------------------
# linear VAE helpers: bad input is a one-line ValueError naming the argument
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call,arg", [
    (lambda: A.spectrum([1.0, 2.0]), "x"),
    (lambda: A.whitened_spectrum([[0.5, 2.0]]), "x"),
    (lambda: A.predicted_active_dims([1.0], 0.0, 3), "sigma"),
    (lambda: A.predicted_active_dims([1.0], 1.0, -1), "cap"),
    (lambda: A.linear_optimum_kl([[1.0]], 1.0, 1), "eigenvalues"),
    (lambda: A.cb_natural_parameter([0.0, 0.5]), "m"),
    (lambda: A.bernoulli_sigma_eff([1.5]), "x"),
])
def test_linear_vae_bad_input(call, arg):
    with pytest.raises(ValueError, match=arg):
        call()


def test_cb_natural_parameter_against_mpmath():
    """To the conditioning of the problem: near m = 1 the mean 1 - 1/eta is computed to an
    absolute eps, which moves eta by eps eta^2, a relative eps |eta| (3e-11 at m = 1 - 3e-6)."""
    m = np.array([1e-7, 1e-4 * 1.5, 0.01, 0.3, 0.5, 0.8, 0.999, 1 - 3e-6])
    eta = A.cb_natural_parameter(m)
    with mpmath.workdps(40):
        for mi, ei in zip(m, eta):
            if mi == 0.5:
                assert ei == 0.0
                continue
            ref = mpmath.findroot(lambda z: 1 / (1 - mpmath.exp(-z)) - 1 / z - mpmath.mpf(mi),
                                  float(ei))
            tol = max(1e-13, 4 * np.finfo(float).eps * abs(ei) * (mi > 0.5))
            assert ei == pytest.approx(float(ref), rel=tol)
