"""User loss expressions: a safe parser and the checks a user's SymPy expression must pass.

Nothing a user types is evaluated.  :func:`parse` reads a string with Python's :mod:`ast`
(``mode="eval"``, which only builds a syntax tree) and builds the SymPy expression from that tree
itself, node by node, against a whitelist:

* numbers: integer and decimal literals (a decimal is read as the exact fraction it spells,
  ``0.1`` = 1/10); no complex literals;
* names: ``y`` (the target), ``p`` (the prediction), the declared parameters and the constants
  ``pi`` and ``E``;
* the operators ``+ - * / **`` (unary ``+`` and ``-`` too);
* calls of the functions in :data:`FUNCTIONS` with positional arguments, including the helpers
  ``sigmoid(x) = 1/(1 + exp(-x))``, ``softplus(x) = log(1 + exp(x))``,
  ``logit(x) = log(x/(1 - x))`` and ``log1p(x) = log(1 + x)``;
* ``Piecewise((value, condition), ...)``, whose conditions may compare with ``< <= > >=``,
  combine with ``&``, ``|``, ``~`` (or ``and``, ``or``, ``not``) and be ``True``.

Everything else -- attributes, subscripts, unknown names or functions, keyword arguments,
lambdas, comprehensions, strings, conditional expressions, other operators -- is refused with a
``ValueError`` that names the construct and its column.  The input is bounded (length, number of
syntax-tree nodes, nesting depth) and so are the constants SymPy would otherwise compute exactly
(``9**9**9``, ``gamma(10**6)``), so that no string makes the parser run out of stack, memory or
time.

:func:`loss_expression` is the one gate for both kinds of input to
:meth:`lossanalysis.Loss.from_expr`: a string goes through :func:`parse`; a SymPy expression is
checked for the same properties (no undefined functions or unevaluated operators, no imaginary
unit or infinite constant, free symbols among y, p and the parameters, symbol assumptions that
hold on the domain), and both are evaluated on a small grid of interior points (y, p), where
a value that is complex or undefined, or that NumPy computes differently from 30-digit mpmath,
is refused.

>>> parse("-(y*log(p) + (1 - y)*log(1 - p))")
-y*log(p) - (1 - y)*log(1 - p)
>>> parse("a*(p - y)**2", params=["a"])
a*(p - y)**2
>>> parse("__import__('os').system('echo hi')")
Traceback (most recent call last):
...
ValueError: expr: attribute access is not allowed (column 1)
>>> parse("exp(p) + __import__('os')")
Traceback (most recent call last):
...
ValueError: expr: calling __import__ is not allowed (column 10); allowed functions: log, ...
"""
from __future__ import annotations

import ast
import keyword
import math
import warnings
from typing import Iterable

__all__ = ["parse", "loss_expression", "exact_number", "check_param_names", "FUNCTIONS",
           "CONSTANTS", "MAX_LENGTH", "MAX_NODES", "MAX_DEPTH"]

#: The longest accepted expression string, in characters.
MAX_LENGTH = 2000
#: The most syntax-tree nodes an expression may have.
MAX_NODES = 600
#: The deepest nesting of the syntax tree.
MAX_DEPTH = 60
#: The largest constant, in decimal digits, that an exact power may produce.
_MAX_DIGITS = 5000
#: Numeric arguments of the gamma family are bounded (SymPy evaluates them exactly).
_MAX_GAMMA_ARG = 10_000

#: Function name -> (least, most number of arguments; None = any); ``Piecewise`` is special.
FUNCTIONS = {
    "log": (1, 2), "exp": (1, 1), "sqrt": (1, 1), "Abs": (1, 1), "abs": (1, 1),
    "sign": (1, 1), "Min": (1, None), "Max": (1, None), "Heaviside": (1, 1),
    "sin": (1, 1), "cos": (1, 1), "tan": (1, 1), "asin": (1, 1), "acos": (1, 1),
    "atan": (1, 1), "sinh": (1, 1), "cosh": (1, 1), "tanh": (1, 1), "asinh": (1, 1),
    "acosh": (1, 1), "atanh": (1, 1), "erf": (1, 1), "erfc": (1, 1), "gamma": (1, 1),
    "loggamma": (1, 1), "digamma": (1, 1),
    "sigmoid": (1, 1), "softplus": (1, 1), "logit": (1, 1), "log1p": (1, 1),
    "Piecewise": (1, None),
}
#: Named constants.
CONSTANTS = ("pi", "E")
_RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS) | {"y", "p", "True", "False", "None"}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_OPERATOR_NAMES = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.Invert: "~", ast.Not: "not",
    ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
    ast.NotIn: "not in",
}
_CONSTRUCTS = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripting", ast.Lambda: "lambda",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator expression",
    ast.IfExp: "a conditional expression", ast.JoinedStr: "an f-string",
    ast.List: "a list", ast.Dict: "a dict", ast.Set: "a set", ast.Tuple: "a tuple",
    ast.Starred: "unpacking", ast.NamedExpr: "assignment", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "a slice",
    ast.Compare: "a comparison", ast.BoolOp: "and/or",
}


def _sp():
    import sympy
    return sympy


def _where(node) -> str:
    col = getattr(node, "col_offset", None)
    return f" (column {col + 1})" if col is not None else ""


def _refuse(node, what: str, hint: str = ""):
    raise ValueError(f"expr: {what} is not allowed{_where(node)}{hint}")


def exact_number(v):
    """A real number as an exact SymPy number: an integer, or the fraction its shortest decimal
    representation spells (``0.1`` -> 1/10), so that symbolic work sees what the user wrote.

    >>> exact_number(0.1), exact_number(3.0), exact_number(2)
    (1/10, 3, 2)
    """
    sp = _sp()
    if isinstance(v, int):
        return sp.Integer(v)
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"expr: the number {v!r} is not finite")
    return sp.Integer(int(v)) if v.is_integer() else sp.Rational(repr(v))


# ----------------------------------------------------------------------------------------------
# The parser
# ----------------------------------------------------------------------------------------------
def _chain_group(node):
    """0 for + and -, 1 for * and /, None otherwise: a left-nested run of one group (a sum of
    many terms, ``a + b - c + ...``) is read as one level, and built iteratively."""
    if isinstance(node, ast.BinOp):
        return {ast.Add: 0, ast.Sub: 0, ast.Mult: 1, ast.Div: 1}.get(type(node.op))
    return None


def _check_size(tree):
    """Count the nodes and measure the depth without recursion (the tree may be deep)."""
    count, deepest = 0, 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        if count > MAX_NODES:
            raise ValueError(f"expr: the expression has more than {MAX_NODES} syntax-tree nodes; "
                             "pass a SymPy expression for larger losses")
        if deepest > MAX_DEPTH:
            raise ValueError(f"expr: the expression is nested more than {MAX_DEPTH} levels deep")
        group = _chain_group(node)
        for child in ast.iter_child_nodes(node):
            same = group is not None and child is node.left and _chain_group(child) == group
            stack.append((child, depth if same else depth + 1))


def _function_table(sp):
    from . import _calculus
    return {
        "log": sp.log, "exp": sp.exp, "sqrt": sp.sqrt, "Abs": sp.Abs, "abs": sp.Abs,
        "sign": sp.sign, "Min": _calculus.Min, "Max": _calculus.Max, "Heaviside": sp.Heaviside,
        "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin, "acos": sp.acos,
        "atan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
        "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh, "erf": sp.erf,
        "erfc": sp.erfc, "gamma": sp.gamma, "loggamma": sp.loggamma, "digamma": sp.digamma,
        "sigmoid": lambda x: 1 / (1 + sp.exp(-x)),
        "softplus": lambda x: sp.log(1 + sp.exp(x)),
        "logit": lambda x: sp.log(x / (1 - x)),
        "log1p": lambda x: sp.log(1 + x),
    }


class _Builder:
    """Builds a SymPy expression from a checked syntax tree (whitelisted nodes only)."""

    def __init__(self, sp, names):
        self.sp = sp
        self.names = names
        self.functions = _function_table(sp)

    # -- expressions ----------------------------------------------------------------------------
    def expr(self, node):
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            if node.id in FUNCTIONS:
                _refuse(node, f"the function {node.id} without a call")
            raise ValueError(f"expr: unknown name {node.id!r}{_where(node)}; give the "
                             "values of parameters in params (known names: "
                             f"{', '.join(self.names)})")
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.expr(node.operand)
            if isinstance(node.op, ast.UAdd):
                return self.expr(node.operand)
            _refuse(node, f"the operator {_OPERATOR_NAMES.get(type(node.op), '?')}")
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op not in _BINOPS:
                _refuse(node, f"the operator {_OPERATOR_NAMES.get(op, op.__name__)}",
                        "; allowed: + - * / **")
            if op is ast.Pow:
                a, b = self.expr(node.left), self.expr(node.right)
                self._check_power(node, a, b)
                return a ** b
            # a run such as a + b - c + ... iteratively: its length is bounded by MAX_NODES,
            # not by the recursion limit
            group, run = _chain_group(node), []
            while _chain_group(node) == group:
                run.append((type(node.op), node.right))
                node = node.left
            acc = self.expr(node)
            for op, right in reversed(run):
                b = self.expr(right)
                acc = (acc + b if op is ast.Add else acc - b if op is ast.Sub
                       else acc * b if op is ast.Mult else acc / b)
            return acc
        if isinstance(node, ast.Call):
            return self.call(node)
        _refuse(node, _CONSTRUCTS.get(type(node), type(node).__name__))

    def number(self, node):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            what = {complex: "a complex number", str: "a string", bytes: "a string"}.get(
                type(v), f"the constant {v!r}")
            _refuse(node, what)
        if isinstance(v, float) and not math.isfinite(v):
            _refuse(node, f"the non-finite number {v!r}")
        return exact_number(v)

    def _check_power(self, node, base, exponent):
        """Refuse exact powers whose value would have more than _MAX_DIGITS digits."""
        if base.is_Rational and exponent.is_Rational and base not in (0, 1, -1):
            digits = abs(float(exponent)) * max(math.log10(abs(base.p)), math.log10(base.q))
            if digits > _MAX_DIGITS:
                _refuse(node, f"a constant power with about {digits:.3g} digits")

    # -- calls ----------------------------------------------------------------------------------
    def call(self, node):
        if not isinstance(node.func, ast.Name):
            what = "attribute access" if isinstance(node.func, ast.Attribute) else \
                "calling an expression"
            _refuse(node, what)
        name = node.func.id
        if name not in FUNCTIONS:
            _refuse(node, f"calling {name}", f"; allowed functions: {', '.join(FUNCTIONS)}")
        if node.keywords:
            _refuse(node, f"a keyword argument to {name}")
        if any(isinstance(a, ast.Starred) for a in node.args):
            _refuse(node, f"unpacking arguments to {name}")
        lo, hi = FUNCTIONS[name]
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            want = str(lo) if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"
            raise ValueError(f"expr: {name} takes {want} argument(s), got {n}{_where(node)}")
        if name == "Piecewise":
            return self.piecewise(node)
        args = [self.expr(a) for a in node.args]
        if name in ("gamma", "loggamma", "digamma") and args[0].is_Number \
                and abs(args[0]) > _MAX_GAMMA_ARG:
            _refuse(node, f"{name} of a constant larger than {_MAX_GAMMA_ARG}")
        return self.functions[name](*args)

    def piecewise(self, node):
        sp = self.sp
        pieces = []
        for arg in node.args:
            if not (isinstance(arg, ast.Tuple) and len(arg.elts) == 2):
                _refuse(arg, "a Piecewise argument that is not a (value, condition) pair")
            pieces.append((self.expr(arg.elts[0]), self.condition(arg.elts[1])))
        try:
            return sp.Piecewise(*pieces)
        except (TypeError, ValueError) as err:
            raise ValueError(f"expr: invalid Piecewise{_where(node)}: {err}") from None

    def condition(self, node):
        sp = self.sp
        if isinstance(node, ast.Constant) and node.value is True:
            return sp.true
        if isinstance(node, ast.Compare):
            ops = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge}
            terms = [self.expr(node.left)] + [self.expr(c) for c in node.comparators]
            parts = []
            for op, a, b in zip(node.ops, terms, terms[1:]):
                if type(op) not in ops:
                    _refuse(node, f"the comparison {_OPERATOR_NAMES.get(type(op), '?')}",
                            "; allowed: < <= > >=")
                parts.append(ops[type(op)](a, b))
            return sp.And(*parts)
        if isinstance(node, ast.BoolOp):
            f = sp.And if isinstance(node.op, ast.And) else sp.Or
            return f(*(self.condition(v) for v in node.values))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            f = sp.And if isinstance(node.op, ast.BitAnd) else sp.Or
            return f(self.condition(node.left), self.condition(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Invert, ast.Not)):
            return sp.Not(self.condition(node.operand))
        _refuse(node, "this Piecewise condition",
                "; use comparisons (< <= > >=), &, |, ~ and True")


def check_param_names(params: Iterable[str]) -> list[str]:
    """The parameter names as a list, each checked: a string, an identifier, not a keyword,
    not y or p, not a function or constant name (ValueError or TypeError naming ``params``).

    >>> check_param_names(["a", "b2"])
    ['a', 'b2']
    >>> check_param_names(["log"])
    Traceback (most recent call last):
    ...
    ValueError: params: 'log' is a function or constant name, not a parameter
    """
    names = list(params)
    for k in names:
        if not isinstance(k, str):
            raise TypeError(f"params: parameter names must be strings, got {k!r}")
        if not k.isidentifier() or keyword.iskeyword(k):
            raise ValueError(f"params: {k!r} is not a valid parameter name (an identifier)")
        if k in ("y", "p"):
            role = "target" if k == "y" else "prediction"
            raise ValueError(f"params: {k!r} is the {role}, not a parameter")
        if k in _RESERVED:
            raise ValueError(f"params: {k!r} is a function or constant name, not a parameter")
    return names


def parse(text: str, params: Iterable[str] = ()):
    """The SymPy expression that ``text`` spells, in ``y``, ``p`` and the ``params``.

    Parameters
    ----------
    text : str
        The expression, in Python syntax restricted to the whitelist of this module's
        documentation; at most :data:`MAX_LENGTH` characters.
    params : iterable of str
        Names of parameters that may occur (each becomes a plain SymPy symbol).

    Returns
    -------
    sympy.Expr
        In the plain symbols ``y`` and ``p`` (``lossanalysis.y``, ``lossanalysis.p``).

    Raises
    ------
    TypeError
        ``text`` is not a string.
    ValueError
        Anything outside the whitelist, syntax errors, oversized input.

    Examples
    --------
    >>> parse("sigmoid(p)")
    1/(1 + exp(-p))
    >>> parse("Piecewise(((p - y)**2/2, Abs(p - y) <= 0.1), (Abs(p - y)/10 - 1/200, True))")
    Piecewise(((p - y)**2/2, Abs(p - y) <= 1/10), (Abs(p - y)/10 - 1/200, True))
    >>> parse("p.__class__")
    Traceback (most recent call last):
    ...
    ValueError: expr: attribute access is not allowed (column 1)
    """
    if not isinstance(text, str):
        raise TypeError(f"expr must be a string or a SymPy expression, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"expr: the expression has {len(text)} characters, more than "
                         f"{MAX_LENGTH}; pass a SymPy expression for larger losses")
    if not text.strip():
        raise ValueError("expr: the expression is empty")
    names = check_param_names(params)
    try:
        with warnings.catch_warnings():     # e.g. "invalid decimal literal" for "1and"
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        col = f" (column {err.offset})" if err.offset else ""
        raise ValueError(f"expr: cannot parse {_short(text)}: {err.msg}{col}") from None
    except (ValueError, RecursionError, MemoryError) as err:
        raise ValueError(f"expr: cannot parse {_short(text)}: {err}") from None
    _check_size(tree)
    sp = _sp()
    table = {"y": sp.Symbol("y"), "p": sp.Symbol("p"), "pi": sp.pi, "E": sp.E}
    table.update({k: sp.Symbol(k) for k in names})
    try:
        out = _Builder(sp, table).expr(tree.body)
    except RecursionError:
        raise ValueError("expr: the expression is nested too deeply") from None
    except (TypeError, ZeroDivisionError, OverflowError, MemoryError) as err:
        raise ValueError(f"expr: cannot build {_short(text)}: {err}") from None
    if not isinstance(out, sp.Expr):
        raise ValueError(f"expr: {_short(text)} is not a scalar expression")
    return out


def _short(text: str, n: int = 60) -> str:
    return repr(text if len(text) <= n else text[:n] + "...")


# ----------------------------------------------------------------------------------------------
# The gate for user losses
# ----------------------------------------------------------------------------------------------
# interior grid on which a user expression must be real and computed right by NumPy (no point
# with p == y, where a removable singularity may leave 0/0)
_GRID_Y = ("1/1000", "1/5", "1/2", "7/10", "999/1000")
_GRID_P = ("1/1000", "3/10", "3/5", "9/10", "999/1000")


def _check_symbols(sp, expr, y, p, values):
    """Free symbols among y, p and the parameters; their assumptions must hold on the domain."""
    allowed = {"y": y, "p": p}
    for s in sorted(expr.free_symbols, key=lambda s: s.name):
        if not isinstance(s, sp.Symbol):
            raise ValueError(f"expr: {s} is not a plain symbol")
        if s.name in allowed:
            stand_in = allowed[s.name]
            where = "the domain (0, 1)"
        elif s.name in values:
            stand_in = values[s.name]
            where = f"its value {values[s.name]}"
        else:
            extra = sorted({t.name for t in expr.free_symbols} - {"y", "p"} - set(values))
            raise ValueError(f"expr: the loss expression has free symbols {extra} besides y and "
                             "p: give their values in params")
        # the assumptions the user declared (those SymPy derives from them follow)
        declared = getattr(s, "_assumptions_orig", None) or s.assumptions0
        for key, val in sorted(declared.items()):
            if getattr(stand_in, "is_" + key) is not val and key != "commutative":
                raise ValueError(f"expr: the symbol {s.name} is declared {key}={val}, which "
                                 f"does not hold for {where}")


def _check_nodes(sp, expr):
    from sympy.core.function import AppliedUndef
    bad = expr.atoms(AppliedUndef)
    if bad:
        raise ValueError(f"expr: undefined function(s) {sorted(map(str, bad))}: a loss must be "
                         "built from known functions")
    unevaluated = (sp.Derivative, sp.Integral, sp.Sum, sp.Product, sp.Limit, sp.Subs,
                   sp.Order)
    for cls in unevaluated:
        if expr.has(cls):
            raise ValueError(f"expr: an unevaluated {cls.__name__} cannot be computed "
                             "numerically; evaluate it (e.g. .doit()) first")
    if expr.has(sp.I):
        raise ValueError("expr: the expression contains the imaginary unit I; a loss must be "
                         "real")
    if expr.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        raise ValueError("expr: the expression contains an infinite or undefined constant "
                         "(oo, zoo or nan)")


def _numeric_check(sp, expr, y, p):
    """On an interior grid, the value must be real (30-digit mpmath) and NumPy's lambdified
    value, gradient and curvature must evaluate; NumPy's value must agree with mpmath."""
    import mpmath
    import numpy as np
    from . import _budget, _calculus
    funcs = {}
    grad = _calculus.derivative(expr, p, 1, "the derivative")
    curv = _budget.checked(sp.diff(grad, p), "the second derivative")
    for which, e in (("value", expr), ("grad", grad), ("curvature", curv)):
        funcs[which] = sp.lambdify((y, p), _calculus.numeric_form(e), modules=["scipy", "numpy"])
        _budget.tick()
    ref = sp.lambdify((y, p), expr, modules="mpmath")
    ys = np.array([float(sp.Rational(v)) for v in _GRID_Y])
    ps = np.array([float(sp.Rational(v)) for v in _GRID_P])
    yy, pp = (a.ravel() for a in np.meshgrid(ys, ps))
    for which, f in funcs.items():
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out = np.broadcast_to(np.asarray(f(yy, pp)), yy.shape)
            except Exception as err:  # noqa: BLE001 - any failure of the lambdified code
                raise ValueError(f"expr: the {which} cannot be evaluated with NumPy/SciPy "
                                 f"({type(err).__name__}: {err})") from None
        if out.dtype.kind not in "biuf":
            raise ValueError(f"expr: the {which} is not real on the domain (NumPy gives "
                             f"dtype {out.dtype})")
        if which == "value":
            values = out.astype(float)
    for i, (yi, pi) in enumerate(zip(yy, pp)):
        # mpmath only where every NumPy intermediate stayed in range: there its 30-digit
        # arithmetic sees moderate magnitudes and finishes quickly
        with np.errstate(over="raise", invalid="ignore", divide="ignore", under="ignore"):
            try:
                funcs["value"](yi, pi)
            except (FloatingPointError, OverflowError):
                continue
        with mpmath.workdps(30):
            try:
                r = ref(mpmath.mpf(yi), mpmath.mpf(pi))
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                continue
            if isinstance(r, mpmath.mpc):
                if r.imag != 0 and abs(r.imag) > 1e-25 * max(abs(r.real), 1):
                    raise ValueError(f"expr: the expression is not real at y={yi:g}, "
                                     f"p={pi:g} (value {mpmath.nstr(r, 6)}); a loss must be "
                                     "real on 0 <= y, p <= 1")
                r = r.real
            if not isinstance(r, mpmath.mpf) or not mpmath.isfinite(r) or abs(r) > 1e300:
                continue
            r = float(r)
        v = values[i]
        if np.isnan(v):
            continue                                # reported below
        if not abs(v - r) <= 1e-6 * abs(r) + 1e-12:
            raise ValueError(f"expr: NumPy computes the expression as {v!r} at y={yi:g}, "
                             f"p={pi:g}, but its value is {r!r}; it cannot be evaluated "
                             "reliably")
    if not np.isfinite(values).any():
        raise ValueError("expr: the expression is not finite at any point of the check grid "
                         "(it overflows float64 there); a loss must be computable in float64")
    if np.isnan(values).any():     # (complex values were reported above)
        i = int(np.flatnonzero(np.isnan(values))[0])
        raise ValueError(f"expr: the expression is undefined (NaN) at y={yy[i]:g}, "
                         f"p={pp[i]:g}; a loss must be defined on 0 < y, p < 1")
    return funcs


def loss_expression(expr, params: dict):
    """Check a user loss expression and return it with its lambdified numerics.

    Parameters
    ----------
    expr : str or sympy.Expr
        A string (parsed by :func:`parse`) or a SymPy expression in ``y``, ``p`` and the
        parameters; symbols named y and p may be plain or carry assumptions that hold on
        (0, 1) (e.g. ``positive=True``).
    params : dict
        Parameter name -> finite real value (already validated).

    Returns
    -------
    (source, internal, funcs)
        ``source``: the expression in the public symbols (parameters kept symbolic);
        ``internal``: in the analysis' positive symbols with the parameter values substituted;
        ``funcs``: NumPy functions of (y, p) for "value", "grad" and "curvature".

    Examples
    --------
    >>> src, internal, funcs = loss_expression("a*(p - y)**2", {"a": 2.0})
    >>> src, round(float(funcs["grad"](0.1, 0.4)), 12)
    (a*(p - y)**2, 1.2)
    >>> loss_expression("sqrt(-1)*p", {})
    Traceback (most recent call last):
    ...
    ValueError: expr: the expression contains the imaginary unit I; a loss must be real
    """
    from . import _budget
    with _budget.budget("expr"):
        return _loss_expression(expr, params)


def _loss_expression(expr, params):
    from . import _budget
    sp = _sp()
    from ._symbols import internal_symbols, symbols
    y, p = symbols()
    check_param_names(params)
    if isinstance(expr, str):
        expr = parse(expr, params)
    elif isinstance(expr, sp.Basic):
        if not isinstance(expr, sp.Expr) or getattr(expr, "is_Matrix", False):
            raise TypeError(f"expr must be a scalar SymPy expression, got "
                            f"{type(expr).__name__}")
    else:
        raise TypeError(f"expr must be a string or a SymPy expression, got "
                        f"{type(expr).__name__}")
    values = {k: exact_number(v) for k, v in params.items()}
    yi, pi = internal_symbols()
    _check_symbols(sp, expr, yi, pi, values)
    _check_nodes(sp, expr)
    _budget.checked(expr, "the expression")
    by_name = {s.name: s for s in expr.free_symbols}
    if "p" not in by_name:
        raise ValueError("expr: the loss expression does not depend on the prediction p")
    unknown = set(params) - set(by_name)
    if unknown:
        raise ValueError(f"params: {sorted(unknown)} do not occur in the expression")
    # the public form: y, p plain; parameters as plain symbols
    source = expr.xreplace({s: {"y": y, "p": p}.get(s.name, sp.Symbol(s.name))
                            for s in expr.free_symbols})
    internal = source.xreplace({y: yi, p: pi, **{sp.Symbol(k): v for k, v in values.items()}})
    if pi not in internal.free_symbols:
        raise ValueError("expr: with the parameter values substituted, the loss expression "
                         "does not depend on the prediction p")
    _check_nodes(sp, internal)
    _budget.checked(internal, "the expression with its parameters")
    funcs = _numeric_check(sp, internal, yi, pi)
    return source, internal, funcs
