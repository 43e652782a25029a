"""Property-based fuzzing of the public API with good and bad input.

Every public function is called with arguments drawn from a valid strategy or, per argument,
from a class of bad input (NaN, inf, out of the domain, strings, None, complex, ragged lists,
wrong shapes, objects).  The outcome must be a correct value -- no NaN outside the documented
cases -- or a one-line ``ValueError``/``TypeError`` whose message names a bad argument; any
other exception, a warning (the suite turns RuntimeWarning into an error), or an error on
valid input fails.

Cases the fuzzing once found failing are kept below as regression tests (``REGRESSIONS``),
each with the failure it had; all are fixed.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from lossanalysis import LOSSES, Loss, analysis, data, figures, get_loss, nn, plotting
from lossanalysis import losses as L

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# ---------------------------------------------------------------- strategies
NAN, INF = float("nan"), float("inf")
unit = st.floats(0, 1)
inner = st.floats(0.01, 0.99)
logits = st.floats(-1000, 1000)
positive = st.floats(1e-3, 10.0)


def vector(elements, min_size=0, max_size=4):
    """A Python number, a list, a 0-d array, or a 1-d array (float64 or float32) of elements."""
    scalar = elements
    lst = st.lists(elements, min_size=min_size, max_size=max_size)
    return st.one_of(
        scalar, lst,
        lst.map(lambda v: np.array(v, dtype=np.float64)),
        lst.map(lambda v: np.array(v, dtype=np.float32)),
        elements.map(lambda v: np.array(v)),
    )


# the classes of bad input shared by numeric arguments
_OBJ = object()
BAD_NUMBERS = st.sampled_from([NAN, INF, -INF, "a", "0.5", None, 1 + 1j, _OBJ, {}, b"x",
                               [[0.2], [0.3, 0.1]], [0.5, "x"], np.array([1j]),
                               np.array(["a"])])


def out_of(lo, hi):
    """Finite numbers outside [lo, hi]."""
    return st.one_of(st.floats(hi, 1e300, exclude_min=True),
                     st.floats(-1e300, lo, exclude_max=True))


def bad_unit():
    return st.one_of(BAD_NUMBERS, out_of(0, 1), st.just([0.5, 1.5]),
                     st.just(np.array([[0.5], [NAN]])))


BAD_NAMES = st.one_of(st.text(max_size=8).filter(lambda s: s not in LOSSES),
                      st.sampled_from([None, 3, ["bce"], ("bce",), {"bce": 1}, b"bce", 1.5]))


# ---------------------------------------------------------------- the checks
#: words a message may use for an argument instead of its name
ALIASES = {"name": ("dataset", "loss"), "images": ("pixel",), "m": ("mean",),
           "lr": ("learning rate",), "expr": ("expression",)}


def _names(msg: str, names) -> bool:
    words = [w for n in names for w in (n, *ALIASES.get(n, ()))]
    return any(re.search(rf"(?<![A-Za-z_]){re.escape(w)}(?![A-Za-z_])", msg) for w in words)


def call(fn, *args, bad=(), nan_ok=False, errors_ok=None, **kwargs):
    """Call ``fn``; a ValueError/TypeError must name one of ``bad`` (the argument names drawn
    from a bad class) -- with no bad argument, only an error ``errors_ok(msg)`` accepts may
    occur.  Returns the result, or None after an accepted error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # every warning is a failure here
        try:
            out = fn(*args, **kwargs)
        except (ValueError, TypeError) as err:
            msg = str(err)
            assert msg and "\n" not in msg.strip(), f"not a one-line message: {msg!r}"
            if bad:
                assert _names(msg, bad), f"the message does not name {bad}: {msg!r}"
            else:
                assert errors_ok is not None and errors_ok(msg), f"error on valid input: {msg!r}"
            return None
    if not nan_ok:
        _no_nan(out)
    return out


def _no_nan(out):
    if isinstance(out, tuple):
        for o in out:
            _no_nan(o)
        return
    if isinstance(out, (float, np.floating, np.ndarray)) and np.asarray(out).dtype.kind == "f":
        assert not np.isnan(out).any(), f"silent NaN: {out!r}"


def draw_args(draw, spec):
    """{name: value}, and the names drawn from a bad class (each argument bad with p = 1/4)."""
    args, bad = {}, []
    for name, (good, wrong) in spec.items():
        if wrong is not None and draw.draw(st.integers(0, 3), label=f"{name} bad?") == 0:
            args[name] = draw.draw(wrong, label=name)
            bad.append(name)
        else:
            args[name] = draw.draw(good, label=name)
    return args, tuple(bad)


# ---------------------------------------------------------------- the loss catalogue
METHODS_P = ["value", "excess", "grad", "curvature"]
METHODS_Z = ["value_logit", "grad_logit", "curvature_logit", "value_and_grad_logit"]


@FAST
@given(draw=st.data(), name=st.sampled_from(LOSSES), method=st.sampled_from(METHODS_P + METHODS_Z))
def test_loss_methods(draw, name, method):
    loss = get_loss(name)
    open_ = loss.target_domain == "open"
    targets = st.floats(1e-9, 1 - 1e-9) if open_ else unit
    bad_y = bad_unit() if not open_ else st.one_of(bad_unit(), st.sampled_from([0.0, 1.0]))
    x = ("z", (vector(logits), st.one_of(BAD_NUMBERS, st.just([0.0, INF])))) \
        if method in METHODS_Z else ("p", (vector(unit), bad_unit()))
    args, bad = draw_args(draw, {"y": (vector(targets), bad_y), x[0]: x[1]})
    try:
        np.broadcast_shapes(np.shape(args["y"]), np.shape(args[x[0]]))
    except ValueError:
        bad = bad or ("y", x[0])          # unbroadcastable shapes: the message names both
    except TypeError:
        pass
    call(getattr(loss, method), args["y"], args[x[0]], bad=bad)


@FAST
@given(draw=st.data())
def test_get_loss_and_parameters(draw):
    name = draw.draw(st.one_of(st.sampled_from(LOSSES), BAD_NAMES))
    value = draw.draw(st.one_of(st.floats(allow_nan=True, allow_infinity=True), BAD_NUMBERS,
                                st.booleans()))
    key = draw.draw(st.sampled_from(["delta", "sigma", "kappa", "gamma", "nope"]))
    loss = call(get_loss, name, bad=("name", "loss", key), **{key: value})
    if loss is not None:
        assert isinstance(loss, Loss) and loss.name == name
        assert math.isfinite(loss.params[key])


@settings(max_examples=40, deadline=None)
@given(tokens=st.lists(st.sampled_from(
    ["p", "y", "a", "1", "0.5", "2", "+", "-", "*", "/", "**", "(", ")", ",", "log", "exp",
     "sqrt", "Abs", "sigmoid", "Max", "I", "j", "'", ".", "[", "]", "__import__", "lambda",
     ":", "os", "=", " "]), min_size=1, max_size=12),
    a=st.one_of(st.floats(-3, 3), BAD_NUMBERS))
def test_user_losses_from_generated_strings(tokens, a):
    text = "".join(tokens)
    loss = call(Loss.from_expr, text, params={"a": a} if "a" in text else None,
                bad=("expr", "params", "params['a']", "a"))
    if loss is not None:
        for method in ("value", "grad", "value_logit"):
            call(getattr(loss, method), [0.1, 0.5, 0.9], [0.3, 0.5, 0.7], bad=("y", "p", "z"))


# ---------------------------------------------------------------- the public helpers of losses
@FAST
@given(draw=st.data(), fn=st.sampled_from(["sigmoid", "logit", "softplus", "log_sigmoid",
                                           "continuous_bernoulli_mean",
                                           "continuous_bernoulli_mean_logit"]))
def test_elementary_helpers(draw, fn):
    arg = {"logit": "p", "continuous_bernoulli_mean": "lam"}.get(fn, "z")
    good = vector(unit) if arg in ("p", "lam") else vector(logits)
    wrong = bad_unit() if arg in ("p", "lam") else BAD_NUMBERS
    args, bad = draw_args(draw, {arg: (good, wrong)})
    try:
        a = np.asarray(args[arg])
        has_nan = a.dtype.kind == "f" and bool(np.isnan(a).any())
    except (TypeError, ValueError):
        has_nan = False
    call(getattr(L, fn), args[arg], bad=bad, nan_ok=has_nan)   # NaN in, NaN out: documented


# ---------------------------------------------------------------- the analysis
LOSS_ARG = (st.sampled_from(["mse", "bce", "kl", "focal", "huber", "logit_mse"]), BAD_NAMES)
ANALYSIS_NUMERIC = {
    # function: ({argument: (good, bad)}, NaN documented?, errors accepted on valid input)
    "asymmetry_ratio": ({"loss": LOSS_ARG, "y": (vector(unit), bad_unit()),
                         "delta": (vector(st.floats(1e-3, 0.5)), BAD_NUMBERS)},
                        True, None),     # NaN where y +- delta leaves (0, 1): documented
    "argmin": ({"loss": LOSS_ARG, "y": (vector(unit), bad_unit())}, False, None),
    "bias": ({"loss": LOSS_ARG, "y": (vector(unit), bad_unit())}, False, None),
    "gradient_profile": ({"loss": LOSS_ARG, "y": (vector(unit), bad_unit()),
                          "p": (vector(unit), bad_unit())}, False, None),
    "logit_gradient": ({"loss": LOSS_ARG, "y": (vector(unit), bad_unit()),
                        "z": (vector(logits), BAD_NUMBERS)}, False, None),
    "curvature_at_optimum": ({"loss": LOSS_ARG, "y": (vector(inner), bad_unit())}, False,
                             None),
    "effective_weight": ({"loss": LOSS_ARG, "y": (vector(inner), bad_unit())}, False, None),
    "noise_bias": ({"loss": LOSS_ARG, "y": (vector(inner, min_size=1, max_size=2), bad_unit()),
                    "sigma": (st.floats(0, 0.05), st.one_of(BAD_NUMBERS, st.floats(-1, -1e-9))),
                    "space": (st.sampled_from(analysis.NOISE_SPACES),
                              st.one_of(st.text(max_size=5), st.just(None)))},
                   False, lambda m: "too large" in m),
    "optimal_prediction_two_point": ({"loss": LOSS_ARG, "y0": (unit, bad_unit()),
                                      "y1": (unit, bad_unit()), "w1": (unit, bad_unit())},
                                     False, None),
    "optimal_prediction_beta": ({"loss": LOSS_ARG, "a": (positive, BAD_NUMBERS),
                                 "b": (positive, BAD_NUMBERS)}, False, None),
}


@pytest.mark.parametrize("fn", sorted(ANALYSIS_NUMERIC))
def test_analysis_functions(fn):
    spec, nan_ok, errors_ok = ANALYSIS_NUMERIC[fn]

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(draw=st.data())
    def run(draw):
        args, bad = draw_args(draw, spec)
        arrays = [k for k, v in args.items() if k != "loss" and isinstance(v, (list, np.ndarray))]
        try:
            np.broadcast_shapes(*(np.shape(args[k]) for k in arrays))
        except ValueError:
            bad = bad or tuple(arrays)       # the message must name the arrays' arguments
        except TypeError:
            pass
        call(getattr(analysis, fn), **args, bad=bad, nan_ok=nan_ok, errors_ok=errors_ok)

    run()


@FAST
@given(draw=st.data())
def test_optimal_prediction(draw):
    args, bad = draw_args(draw, {
        "loss": LOSS_ARG,
        "targets": (st.lists(unit, min_size=1, max_size=5), st.one_of(bad_unit(), st.just([]))),
    })
    n = len(args["targets"]) if isinstance(args["targets"], list) else 1
    w = draw.draw(st.one_of(st.none(), st.lists(st.floats(0.1, 2), min_size=n, max_size=n),
                            st.just([-1.0] * n), st.just([1.0] * (n + 1))))
    if isinstance(w, list) and (len(w) != n or (w and min(w) < 0)):
        bad = bad + ("weights",)
    call(analysis.optimal_prediction, args["loss"], args["targets"], w, bad=bad)


@FAST
@given(draw=st.data(), fn=st.sampled_from(["series", "asymmetry_coefficient", "argmin_expr",
                                           "is_proper", "noise_bias_coefficient",
                                           "logit_gradient_expr", "effective_weight_expr",
                                           "derivations"]))
def test_symbolic_analysis_refuses_bad_losses(draw, fn):
    """The symbolic functions on bad loss arguments (their valid outputs, slow to compute,
    are the analysis' own tests)."""
    loss = draw.draw(BAD_NAMES)
    call(getattr(analysis, fn), loss, bad=("loss",))


# ---------------------------------------------------------------- the linear VAE helpers
# (valid input only)
spectra = st.lists(st.floats(1e-6, 10), min_size=1, max_size=6).map(
    lambda v: np.sort(np.array(v))[::-1])
images = st.integers(2, 4).flatmap(
    lambda n: st.lists(st.lists(unit, min_size=4, max_size=4), min_size=n, max_size=n)
).map(np.array)


@FAST
@given(eig=spectra, sigma=positive, k=st.integers(1, 6),
       fn=st.sampled_from(["predicted_active_dims", "marginal_count", "linear_optimum_kl",
                           "linear_optimum_nll"]))
def test_linear_vae_predictions_on_valid_input(eig, sigma, k, fn):
    out = call(getattr(analysis, fn), eig, sigma, k)
    if fn in ("predicted_active_dims", "marginal_count"):
        assert isinstance(out, (int, np.integer)) and 0 <= out <= k
    else:
        assert np.all(np.isfinite(out))


@FAST
@given(x=images, fn=st.sampled_from(["spectrum", "whitened_spectrum", "bernoulli_sigma_eff",
                                     "bernoulli_sigma_zero_rate", "cb_sigma_eff"]))
def test_linear_vae_data_summaries_on_valid_input(x, fn):
    assume(np.ptp(x, axis=0).max() > 0)     # identical images: a ValueError (0/0)
    call(getattr(analysis, fn), x, nan_ok=False)


@FAST
@given(m=vector(st.floats(0.001, 0.999)), fn=st.sampled_from(["cb_natural_parameter",
                                                              "cb_variance"]))
def test_cb_helpers_on_valid_input(m, fn):
    call(getattr(analysis, fn), m)


# ---------------------------------------------------------------- data
@FAST
@given(draw=st.data())
def test_intensity_summary(draw):
    args, bad = draw_args(draw, {
        "images": (st.one_of(images, images.map(lambda a: (a * 255).astype(np.uint8)),
                             images.map(lambda a: a.astype(np.float32))),
                   st.one_of(BAD_NUMBERS, st.just(np.full(3, 2.0)),
                             st.just(np.array([-1, 300])), st.just(np.array([0.5, NAN])))),
        "bins": (st.integers(1, 30), st.integers(-3, 0))})
    out = call(data.intensity_summary, args["images"], args["bins"], bad=bad)
    if out is not None:
        assert sum(out.hist_counts) == np.asarray(args["images"]).size
        assert abs(out.frac_zero + out.frac_one + out.frac_between - 1) < 1e-12


@FAST
@given(name=st.one_of(st.sampled_from(data.DATASETS), BAD_NAMES),
       split=st.one_of(st.sampled_from(data.SPLITS), st.text(max_size=5), st.just(None)))
def test_data_load_refuses_bad_names_and_splits(name, split):
    """Bad names and splits only (loading the real files is the data tests' business)."""
    assume(name not in data.DATASETS or split not in data.SPLITS)
    call(data.load, name, split, data_dir="/nonexistent/lossanalysis-fuzz",
         bad=("name", "split"))


# ---------------------------------------------------------------- plotting (valid names)
@FAST
@given(name=st.one_of(st.text(max_size=6), st.sampled_from(list(LOSSES))),
       fn=st.sampled_from(["color", "linestyle", "marker", "display_name", "loss_unit"]))
def test_plotting_name_helpers(name, fn):
    out = call(getattr(plotting, fn), name, bad=("name",))
    if out is not None:
        assert isinstance(out, (str, tuple))


@FAST
@given(values=st.lists(st.floats(-1e3, 1e3), max_size=4), fmt=st.sampled_from(["g", ".2f", "e"]))
def test_plotting_listing(values, fmt):
    out = call(plotting.listing, values, fmt)
    assert out.count(",") == max(len(values) - 1, 0)


# ---------------------------------------------------------------- nn constructors (valid input)
@FAST
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=3),
       loss=st.sampled_from(["bce", "mse", "focal", "continuous_bernoulli"]),
       likelihood=st.sampled_from(list(nn.LIKELIHOODS)), sigma=positive,
       lr=st.floats(1e-5, 1.0), optimizer=st.sampled_from(["adam", "sgd"]))
def test_nn_constructors_on_valid_input(sizes, loss, likelihood, sigma, lr, optimizer):
    model = call(nn.AE, sizes, loss=loss)
    assert model.n_params() == sum(v.size for v in model.params.values())
    vae = call(nn.VAE, [4, 3, 2], likelihood=likelihood, sigma=sigma)
    assert vae.n_params() > 0
    call(nn.make_optimizer, optimizer, model.params, lr)


@FAST
@given(loss=BAD_NAMES)
def test_nn_refuses_bad_losses(loss):
    call(nn.AE, [4, 2], loss=loss, bad=("loss",))


# ---------------------------------------------------------------- figures' argument types
@FAST
@given(text=st.text(max_size=12))
def test_figure_argument_types(text):
    import argparse
    for fn in (figures.loss_names, figures.numbers):
        try:
            fn(text)
        except argparse.ArgumentTypeError as err:   # argparse's own error class
            assert str(err) and "\n" not in str(err)


# ---------------------------------------------------------------- regressions
def _fixed(thunk, arg, reason, id_):
    """A case the fuzzing once found failing (``reason``: how), fixed since."""
    return pytest.param(thunk, arg, id=id_)


EIG = np.array([2.0, 1.0, 0.5])
REGRESSIONS = [
    _fixed(lambda: analysis.noise_bias("bce", 0.3, 0.02, space=np.array(["prob", "logit"])),
           "space", "analysis.noise_bias: an array as space gives NumPy's 'truth value of an "
           "array is ambiguous'", "noise_bias-space-array"),
    _fixed(lambda: analysis.asymmetry_ratio("bce", [0.2, 0.3], [0.1, 0.1, 0.1]), "y",
           "analysis.asymmetry_ratio: shapes that do not broadcast give NumPy's 'shape "
           "mismatch' message", "asymmetry_ratio-shapes"),
    _fixed(lambda: analysis.noise_bias("huber", [], 0.02, "logit"), "y",
           "analysis.noise_bias (huber, logit space): an empty y gives NumPy's 'zero-size array to reduction "
           "operation maximum' (the other analysis functions return an empty array)",
           "noise_bias-empty"),
    _fixed(lambda: analysis.spectrum(0.5), "x", "analysis.spectrum: a scalar gives 'axis 0 "
           "is out of bounds'", "spectrum-scalar"),
    _fixed(lambda: analysis.spectrum(np.zeros((0, 4))), "x", "analysis.spectrum: no images "
           "gives RuntimeWarning 'Mean of empty slice'", "spectrum-empty"),
    _fixed(lambda: analysis.whitened_spectrum("a"), "x", "analysis.whitened_spectrum: a "
           "string gives 'could not convert string to float'", "whitened_spectrum-string"),
    _fixed(lambda: analysis.bernoulli_sigma_eff(np.full((3, 4), NAN)), "x",
           "analysis.bernoulli_sigma_eff: NaN images give RuntimeWarning 'invalid value "
           "encountered in cast'", "bernoulli_sigma_eff-nan"),
    _fixed(lambda: analysis.bernoulli_sigma_eff(np.full((3, 4), 1.5)), "x",
           "analysis.bernoulli_sigma_eff: intensities above 1 give a broadcasting error",
           "bernoulli_sigma_eff-above-1"),
    _fixed(lambda: analysis.bernoulli_sigma_zero_rate(np.zeros((0, 4))), "x",
           "analysis.bernoulli_sigma_zero_rate: no images gives RuntimeWarning",
           "bernoulli_sigma_zero_rate-empty"),
    _fixed(lambda: analysis.bernoulli_sigma_zero_rate(np.array([[1.0, 0, 0], [1.0, 0, 0]])),
           "x", "analysis.bernoulli_sigma_zero_rate: identical images (valid input, no "
           "variance) give RuntimeWarning 'invalid value encountered in scalar divide'",
           "bernoulli_sigma_zero_rate-identical"),
    _fixed(lambda: analysis.cb_sigma_eff(np.full((3, 4), INF)), "x",
           "analysis.cb_sigma_eff: inf images give RuntimeWarning", "cb_sigma_eff-inf"),
    _fixed(lambda: analysis.predicted_active_dims(EIG, "a", 2), "sigma",
           "analysis.predicted_active_dims: a string sigma gives 'unsupported operand "
           "type(s) for **'", "predicted_active_dims-sigma-string"),
    _fixed(lambda: analysis.predicted_active_dims(EIG, 1e300, 2), "sigma",
           "analysis.predicted_active_dims: sigma = 1e300 gives OverflowError",
           "predicted_active_dims-sigma-huge"),
    _fixed(lambda: analysis.predicted_active_dims(EIG, 1.0, None), "cap",
           "analysis.predicted_active_dims: cap=None gives a comparison TypeError",
           "predicted_active_dims-cap-none"),
    _fixed(lambda: analysis.marginal_count(0.5, 1.0, 2), "eigenvalues",
           "analysis.marginal_count: a scalar spectrum gives IndexError",
           "marginal_count-scalar"),
    _fixed(lambda: analysis.linear_optimum_kl(EIG, NAN, 2), "sigma",
           "analysis.linear_optimum_kl: sigma = NaN gives a silent NaN", "linear_optimum_kl-nan"),
    _fixed(lambda: analysis.linear_optimum_kl(EIG, 0.0, 2), "sigma",
           "analysis.linear_optimum_kl: sigma = 0 gives RuntimeWarning 'divide by zero'",
           "linear_optimum_kl-zero"),
    _fixed(lambda: analysis.linear_optimum_nll(EIG, 1.0, 2.5), "latent",
           "analysis.linear_optimum_nll: latent = 2.5 gives 'slice indices must be integers'",
           "linear_optimum_nll-latent-float"),
    _fixed(lambda: analysis.cb_natural_parameter("a"), "m",
           "analysis.cb_natural_parameter: a string gives 'could not convert string to float'",
           "cb_natural_parameter-string"),
    _fixed(lambda: analysis.cb_variance({}), "m",
           "analysis.cb_variance: a dict gives 'float() argument must be...'",
           "cb_variance-dict"),
    _fixed(lambda: plotting.color(["bce"]), "name",
           "plotting.color: a list gives \"unhashable type: 'list'\"", "color-list"),
    _fixed(lambda: plotting.display_name(NAN), "name",
           "plotting.display_name: NaN is returned as the name (a silent NaN)",
           "display_name-nan"),
    _fixed(lambda: plotting.listing([0.0], "d"), "fmt",
           "plotting.listing: fmt 'd' with floats gives Python's 'Unknown format code'",
           "listing-fmt"),
    _fixed(lambda: data.intensity_summary(np.full((2, 2), 0.5), "4"), "bins",
           "data.intensity_summary: bins = '4' gives a comparison TypeError",
           "intensity_summary-bins-string"),
]


@pytest.mark.parametrize("thunk,arg", REGRESSIONS)
def test_fixed_failures_stay_fixed(thunk, arg):
    """Each must raise a ValueError/TypeError naming ``arg`` (and no warning)."""
    call(thunk, bad=(arg,))
