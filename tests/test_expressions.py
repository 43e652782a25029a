"""The safe parser of user loss expressions and the checks on user losses.

Nothing in a string may run: every hostile string below would create a marker file if any part
of it were executed (a control test shows that Python's own eval does create it), and after
parsing it must not exist.
"""

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings, strategies as st

from lossanalysis import LOSSES, Loss, get_loss
from lossanalysis import expressions as E
from lossanalysis import _calculus
from lossanalysis._symbols import internal_symbols
from lossanalysis.losses import symbols

Y, P = symbols()


# ---------------------------------------------------------------- what the parser accepts
@pytest.mark.parametrize("name", LOSSES)
def test_every_catalogue_definition_round_trips_through_the_parser(name):
    """str() of each catalogue expression parses back to the same SymPy expression: the
    whitelist covers what the catalogue itself is written with (Piecewise, loggamma, atanh,
    pi, exact fractions)."""
    expr = get_loss(name).expr
    parsed = E.parse(str(expr))
    # equal as trees, or (where the printer distributed a sign) as functions
    assert parsed == expr or sp.expand(parsed - expr) == 0


@pytest.mark.parametrize("text,expected", [
    ("(p - y)**2", (P - Y) ** 2),
    ("-y*log(p) - (1 - y)*log(1 - p)", -Y * sp.log(P) - (1 - Y) * sp.log(1 - P)),
    ("0.1*p", sp.Rational(1, 10) * P),                   # decimals are exact fractions
    ("1e-3*p + 2", P / 1000 + 2),
    ("+p - -y", P + Y),
    ("sigmoid(p)", 1 / (1 + sp.exp(-P))),
    ("softplus(p - y)", sp.log(1 + sp.exp(P - Y))),
    ("logit(p)", sp.log(P / (1 - P))),
    ("log1p(p)", sp.log(1 + P)),
    ("abs(p - y)", sp.Abs(P - Y)),
    # Max/Min: SymPy's, without its pairwise symbolic comparison of the arguments
    ("Max(p, y, 1/2)", _calculus.Max(P, Y, sp.Rational(1, 2))),
    ("log(p, 2)", sp.log(P, 2)),
    ("pi*p + E", sp.pi * P + sp.E),
    ("Heaviside(p - y)*p", sp.Heaviside(P - Y) * P),
    ("Piecewise((p, (p < y) & (y <= 1)), (y, True))",
     sp.Piecewise((P, (P < Y) & (Y <= 1)), (Y, True))),
    ("Piecewise((p, 0 < p < 1/2), (y, not p < 1/2 or y > 0))",
     sp.Piecewise((P, (0 < P) & (P < sp.Rational(1, 2))), (Y, ~(P < sp.Rational(1, 2)) | (Y > 0)))),
    ("Piecewise((p, ~(p >= y) | (p > 1)), (y, True))",
     sp.Piecewise((P, ~(P >= Y) | (P > 1)), (Y, True))),
])
def test_the_whitelist(text, expected):
    assert E.parse(text) == expected


def test_parameters_are_plain_symbols_and_reserved_names_are_refused():
    assert E.parse("a*(p - y)**2", params=["a"]) == sp.Symbol("a") * (P - Y) ** 2
    for bad, match in [("y", "the target"), ("p", "the prediction"), ("log", "function"),
                       ("pi", "constant"), ("2a", "identifier"), ("lambda", "identifier"),
                       ("a b", "identifier")]:
        with pytest.raises(ValueError, match=match):
            E.parse("p", params=[bad])
    with pytest.raises(TypeError, match="names must be strings"):
        E.parse("p", params=[3])


# ---------------------------------------------------------------- what it refuses, and where
@pytest.mark.parametrize("text,match", [
    ("p.real", r"attribute access is not allowed \(column 1\)"),
    ("p[0]", "subscripting"),
    ("(lambda: p)()", "calling an expression"),
    ("lambda: p", "lambda"),
    ("[p for p in y]", "comprehension"),
    ("(p for p in y)", "generator"),
    ("p if y else 1", "conditional expression"),
    ("'p'", "a string"),
    ("b'p'", "a string"),
    ("f'{p}'", "f-string"),
    ("1j*p", "a complex number"),
    ("p*True", "the constant True"),
    ("p + None", "the constant None"),
    ("p + ...", "the constant Ellipsis"),
    ("p // y", r"the operator // is not allowed \(column 1\)"),
    ("p % y", "operator %"),
    ("p @ y", "operator @"),
    ("p ^ 2", r"operator \^"),
    ("p & y", "operator &"),
    ("~p", "operator ~"),
    ("not p", "operator not"),
    ("p < y", "a comparison"),
    ("p and y", "and/or"),
    ("[p, y]", "a list"),
    ("(p, y)", "a tuple"),
    ("{p: y}", "a dict"),
    ("{p}", "a set"),
    ("exp(x=p)", "keyword argument"),
    ("exp(*p)", "unpacking"),
    ("foo(p)", r"calling foo is not allowed \(column 1\); allowed functions: log, exp"),
    ("Symbol('p')", "calling Symbol"),
    ("log", "the function log without a call"),
    ("q*p", r"unknown name 'q' \(column 1\)"),
    ("I*p", "unknown name 'I'"),
    ("oo + p", "unknown name 'oo'"),
    ("log(p, y, 2)", "log takes 1 to 2 argument"),
    ("exp()", "exp takes 1 argument"),
    ("Piecewise(p)", "not a \\(value, condition\\) pair"),
    ("Piecewise((p, p + y))", "this Piecewise condition"),
    ("Piecewise((p, p == y))", "the comparison =="),
    ("(p - y", "cannot parse"),
    ("p = 1", "cannot parse"),
    ("x := p", "cannot parse"),
    ("", "empty"),
    ("p\x00", "cannot parse"),
    ("1e400*p", "non-finite number inf"),
])
def test_disallowed_constructs_are_named_with_their_column(text, match):
    with pytest.raises(ValueError, match=match):
        E.parse(text)


def test_non_strings_are_a_type_error():
    for bad in (b"p", 3, None, ["p"]):
        with pytest.raises(TypeError, match="expr must be a string"):
            E.parse(bad)


# ---------------------------------------------------------------- bounded input
def test_long_and_deep_inputs_are_value_errors_not_crashes():
    with pytest.raises(ValueError, match=f"more than {E.MAX_LENGTH}"):
        E.parse("+".join(["p"] * 20000))                 # used to die in RecursionError
    with pytest.raises(ValueError, match="syntax-tree nodes"):
        E.parse("Max(" + ",".join(["p"] * 700) + ")")
    with pytest.raises(ValueError):
        E.parse("(" * 300 + "p" + ")" * 300)             # Python's own nesting limit
    with pytest.raises(ValueError, match="nested more than"):
        E.parse("-" * 100 + "p")
    # a long sum or product is one level, however many terms it has
    assert E.parse("+".join(["p"] * 150)) == 150 * P
    assert E.parse("-".join(["p"] * 150)) == -148 * P
    assert E.parse("*".join(["p"] * 140) + "/y/y") == P ** 140 / Y ** 2


@pytest.mark.parametrize("text", ["9**9**9", "2**(10**6)*p", "(1/3)**-100000*p",
                                  "gamma(10**6)*p", "loggamma(-10**5)*p", "digamma(10**7)+p"])
def test_constants_sympy_would_compute_exactly_are_bounded(text):
    with pytest.raises(ValueError, match="not allowed"):
        E.parse(text)


def test_huge_but_harmless_constants_are_kept_symbolic():
    assert E.parse("p**(10**10)") == P ** (10 ** 10)
    assert E.parse("exp(exp(exp(10)))*p").has(sp.exp)


# ---------------------------------------------------------------- nothing runs
HOSTILE = [
    "__import__('os').system('touch {m}')",
    "p + __import__('os').getpid()*0 + open('{m}', 'w').close()",
    "open('{m}', 'w').write('x')",
    "eval(\"open('{m}', 'w')\")",
    "exec(\"open('{m}', 'w')\")",
    "().__class__.__bases__[0].__subclasses__()",
    "getattr(__builtins__, 'open')('{m}', 'w')",
    "[open('{m}', 'w') for _ in (1,)]",
    "(lambda: open('{m}', 'w'))()",
    "Piecewise((p, __import__('os').system('touch {m}')), (1, True))",
    "log(open('{m}', 'w'))",
    "p if open('{m}', 'w') else y",
    "Function('f')(p)",
    "sympify(\"open('{m}', 'w')\")",
    "S(\"open('{m}', 'w')\")",
    "p.__class__.__init__.__globals__['os'].system('touch {m}')",
    "f\"{{open('{m}', 'w')}}\"",
    "breakpoint()",
    "globals()['open']('{m}', 'w')",
    "exp(p)\n__import__('os').system('touch {m}')",
    "exp(p); open('{m}', 'w')",
]


def test_the_marker_would_be_created_by_evaluating_the_string(tmp_path):
    """Control: Python's eval does run these strings (so the tests below can fail)."""
    marker = tmp_path / "pwned"
    eval(HOSTILE[2].format(m=marker))   # noqa: S307 - the point of the control
    assert marker.exists()


@pytest.mark.parametrize("template", HOSTILE)
def test_no_hostile_string_runs(template, tmp_path):
    marker = tmp_path / "pwned"
    text = template.format(m=marker)
    for build in (E.parse, Loss.from_expr, lambda s: Loss.from_expr(s, params={"a": 1.0})):
        with pytest.raises((ValueError, TypeError)):
            build(text)
    assert not marker.exists()


_ALLOWED = ["p", "y", "a", "1", "0.5", "2", "+", "-", "*", "/", "**", "(", ")", ",", "log",
            "exp", "sqrt", "Abs", "Min", "Max", "sigmoid", "Piecewise", "<", "&", "True", " "]
_HOSTILE_TOKENS = ["__import__", "'os'", ".", "system", "[", "]", "lambda", ":", "open",
                   "'{m}'", "'w'", "eval", "exec", "__class__", "for", "in", "if", "else",
                   "=", ";", "\n", "getattr", "__builtins__", "{", "}", "f'", "j", "@", "%"]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tokens=st.lists(st.sampled_from(_ALLOWED + _HOSTILE_TOKENS), max_size=25),
       noise=st.text(max_size=8))
def test_generated_strings_never_run_and_fail_cleanly(tokens, noise, tmp_path):
    """Random mixtures of allowed and hostile tokens: either a SymPy expression or a
    ValueError/TypeError, and never an executed side effect."""
    marker = tmp_path / "pwned"
    text = ("".join(tokens) + noise).replace("{m}", str(marker))
    try:
        out = E.parse(text, params=["a"])
    except (ValueError, TypeError):
        pass
    else:
        assert isinstance(out, sp.Expr)
        assert out.free_symbols <= {Y, P, sp.Symbol("a")}
    assert not marker.exists()


# ---------------------------------------------------------------- the gate for user losses
def test_losses_that_are_not_real_on_the_domain_are_refused():
    with pytest.raises(ValueError, match="imaginary unit"):
        Loss.from_expr("sqrt(-1)*p")                 # evaluated to 0.0 with a ComplexWarning
    with pytest.raises(ValueError, match="imaginary unit"):
        Loss.from_expr(P ** sp.I)                     # evaluated to 0.769
    with pytest.raises(ValueError, match="not real at"):
        Loss.from_expr("(p - y)**(1/3)")               # complex where p < y
    with pytest.raises(ValueError, match="not real at"):
        Loss.from_expr("atanh(2*p)")
    # SciPy's gammaln returns ln|Gamma|, a real number where the value is complex
    with pytest.raises(ValueError, match="not real at"):
        Loss.from_expr("loggamma(p - y)")
    with pytest.raises(ValueError, match="infinite or undefined"):
        Loss.from_expr(P + sp.oo)
    with pytest.raises(ValueError, match=r"undefined \(NaN\) at y=0.001, p=0.6"):
        Loss.from_expr("Piecewise((p, p < 1/2))")      # no value for p >= 1/2
    # outside the grid, an undefined value is still an error when it is evaluated
    loss = Loss.from_expr("sqrt(p - 1/2000)")
    with pytest.raises(ValueError, match=r"undefined \(NaN\) at y=0.3, p=0.0001"):
        loss.value(0.3, 0.0001)


def test_sympy_input_gets_the_same_checks():
    f = sp.Function("f")
    with pytest.raises(ValueError, match=r"undefined function\(s\) \['f\(p\)'\]"):
        Loss.from_expr(f(P) + (P - Y) ** 2)          # used to fail only when evaluated
    with pytest.raises(ValueError, match="unevaluated Derivative"):
        Loss.from_expr(sp.Derivative(P ** 3, P))
    with pytest.raises(ValueError, match="unevaluated Integral"):
        Loss.from_expr(sp.Integral(P * Y, Y))
    with pytest.raises(TypeError, match="scalar SymPy expression"):
        Loss.from_expr(sp.Eq(P, Y))
    with pytest.raises(TypeError, match="SymPy expression, got MutableDenseMatrix"):
        Loss.from_expr(sp.Matrix([P]))
    with pytest.raises(TypeError, match="string or a SymPy expression"):
        Loss.from_expr(lambda y, p: (p - y) ** 2)
    with pytest.raises(TypeError, match="string or a SymPy expression"):
        Loss.from_expr(2.0)


def test_symbols_named_y_and_p_with_assumptions_that_hold_are_accepted():
    yi, pi = internal_symbols()
    yr, pr = sp.symbols("y p", real=True)
    for y, p in [(Y, P), (yi, pi), (yr, pr)]:
        loss = Loss.from_expr((p - y) ** 2, name="sq")
        assert loss.expr == (P - Y) ** 2
        assert loss.value(0.2, 0.5) == pytest.approx(0.09)
    pn = sp.Symbol("p", integer=True)
    with pytest.raises(ValueError, match="declared integer=True"):
        Loss.from_expr((pn - Y) ** 2)
    a = sp.Symbol("a", positive=True)
    with pytest.raises(ValueError, match="declared positive=True, which does not hold for its "
                                         "value -1"):
        Loss.from_expr(a * (P - Y) ** 2, params={"a": -1})
    assert Loss.from_expr(a * (P - Y) ** 2, params={"a": 2}).value(0.2, 0.5) == pytest.approx(0.18)


def test_parameters_are_validated():
    with pytest.raises(ValueError, match="'y' is the target"):
        Loss.from_expr("a*(p - y)**2", params={"a": 1, "y": 0.3})   # silently replaced y
    with pytest.raises(ValueError, match="'p' is the prediction"):
        Loss.from_expr("(p - y)**2", params={"p": 0.3})
    with pytest.raises(ValueError, match=r"params\['a'\] must be a finite number"):
        Loss.from_expr("a*(p - y)**2", params={"a": float("nan")})
    with pytest.raises(ValueError, match=r"params\['a'\] must be a number"):
        Loss.from_expr("a*(p - y)**2", params={"a": "1"})
    with pytest.raises(ValueError, match=r"params\['a'\] must be a number"):
        Loss.from_expr("a*(p - y)**2", params={"a": True})
    with pytest.raises(ValueError, match="not a valid parameter name"):
        Loss.from_expr("(p - y)**2", params={"a-b": 1})
    with pytest.raises(TypeError, match="params must be a dict"):
        Loss.from_expr("a*(p - y)**2", params=[("a", 1)])
    with pytest.raises(ValueError, match=r"params: \['b'\] do not occur"):
        Loss.from_expr("a*(p - y)**2", params={"a": 1, "b": 2})
    with pytest.raises(ValueError, match="does not depend on the prediction p"):
        Loss.from_expr("a*p + y", params={"a": 0})


def test_names_of_user_losses():
    assert Loss.from_expr("(p - y)**2").name == "custom"
    with pytest.raises(ValueError, match="'mse' is a catalogue loss"):
        Loss.from_expr("(p - y)**2", name="mse")
    with pytest.raises(TypeError, match="name must be a string"):
        Loss.from_expr("(p - y)**2", name=3)
    with pytest.raises(ValueError, match="name must not be empty"):
        Loss.from_expr("(p - y)**2", name=" ")


def test_repr_round_trips_and_pickles():
    import pickle
    loss = Loss.from_expr("a*Abs(p - y)**3 + sigmoid(p)", name="mine", params={"a": 2.5})
    assert repr(loss) == ("Loss.from_expr('a*Abs(p - y)**3 + 1/(1 + exp(-p))', name='mine', "
                          "params={'a': 2.5})")
    again = eval(repr(loss), {"Loss": Loss})   # noqa: S307 - the repr of our own object
    assert again == loss
    copy = pickle.loads(pickle.dumps(loss))
    assert copy == loss and copy.grad(0.2, 0.4) == loss.grad(0.2, 0.4)


def test_pathological_constants_do_not_hang_the_numeric_check():
    """NumPy overflows inside; mpmath is then not asked (it would need 10^9566 digits)."""
    loss = Loss.from_expr("exp(-exp(exp(exp(10*p)))) + p")
    assert loss.value(0.5, 0.5) == 0.5
