"""Rigorous interval evaluation of SymPy expressions with Arb balls (python-flint), private.

:func:`compile_expr` turns a SymPy expression into a function of Arb balls whose result is
guaranteed to contain every value the expression takes when its variables range over the given
balls (Arb's ball arithmetic rounds outward at every step).  A value that cannot be bounded (a
logarithm of a ball reaching 0, a division by a ball containing 0) comes back as a non-finite
ball, which the branch and bound treats as "undecided here".

Besides Arb's elementary and special functions, one function is added: ``atanhc_d(n, x)``,
the n-th derivative of atanh(x)/x, which the continuous Bernoulli's normalizer needs at
p = 1/2 (x = 1 - 2p = 0), a removable singularity no interval evaluation of atanh(x)/x can
cross.  Within |x| <= 1/2 it is the power series sum_k x^(2k)/(2k + 1), differentiated term by
term, with a rigorous bound on the tail; beyond, the closed-form derivative.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from fractions import Fraction

#: Bits of precision of every proof: the domains reach within 2^-40 of 0 and 1, where
#: 1 - p = 1 - y - t (1 - y) must still resolve 2^-80 (tested at the edges).
PREC = 128


def flint():
    """The python-flint module, or ImportError with the one-line remedy."""
    try:
        import flint as _flint
    except ImportError:
        raise ImportError("proving needs python-flint (pip install 'lossanalysis[proofs]'); "
                          "the stored certificates are readable without it") from None
    return _flint


def available() -> bool:
    """Whether python-flint can be imported (proofs can be run, not only read)."""
    try:
        flint()
    except ImportError:
        return False
    return True


@contextmanager
def precision(bits=PREC):
    """Arb's working precision set to ``bits`` inside the block, restored afterwards."""
    ctx = flint().ctx
    old = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = old


def ball(lo, hi=None):
    """The Arb ball containing [lo, hi] (floats or Fractions; one value: that point)."""
    arb = flint().arb
    a = _exact(lo)
    if hi is None or hi == lo:
        return a
    return a.union(_exact(hi))


def _exact(v):
    arb = flint().arb
    if isinstance(v, Fraction):
        return arb(v.numerator) / v.denominator if v.denominator != 1 else arb(v.numerator)
    return arb(v)


def lower(x) -> float:
    """A float <= every point of the ball x (-inf if x is not finite)."""
    if not x.is_finite():
        return float("-inf")
    return _down(x.lower())


def upper(x) -> float:
    """A float >= every point of the ball x (inf if x is not finite)."""
    if not x.is_finite():
        return float("inf")
    return -_down(-x.upper())


def _down(a) -> float:
    """The largest float <= the exact value of the Arb number a (a point ball)."""
    import math
    f = float(a.mid())
    arb = flint().arb
    while arb(f) > a:                 # round toward -inf by hand (float() rounds to nearest)
        f = math.nextafter(f, -math.inf)
    return f


# ----------------------------------------------------------------------------------------------
# atanh(x)/x and its derivatives
# ----------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def atanhc_class():
    """The SymPy function ``atanhc_d(n, x)``: the n-th derivative of atanh(x)/x."""
    import sympy as sp

    class atanhc_d(sp.Function):
        """n-th derivative of atanh(x)/x (even, analytic on (-1, 1); = 1 at x = 0 for n = 0)."""
        nargs = 2
        is_real = True

        @classmethod
        def eval(cls, n, x):
            if n.is_Integer and x.is_zero:
                k = int(n)
                return sp.Integer(0) if k % 2 else sp.factorial(k) / (k + 1)
            if n.is_Integer and x.could_extract_minus_sign():
                return (-1) ** int(n) * cls(n, -x)
            return None

        def fdiff(self, argindex=2):
            if argindex != 2:
                raise sp.ArgumentIndexError(self, argindex)
            n, x = self.args
            return atanhc_d(n + 1, x)

        def _eval_rewrite_as_atanh(self, n, x, **kwargs):
            z = sp.Dummy("z")
            return sp.diff(sp.atanh(z) / z, z, int(n)).subs(z, x)

    return atanhc_d


def without_atanh(expr):
    """``expr`` with every atanh(u) written u * atanhc_d(0, u) and the products that then hold
    u/u cancelled, so that atanh(1 - 2p)/(1 - 2p) is evaluated without its 0/0 at p = 1/2."""
    import sympy as sp
    F = atanhc_class()
    if not expr.has(sp.atanh):
        return expr
    e = expr.replace(sp.atanh, lambda u: u * F(0, u))
    return e.replace(lambda n: n.is_Mul and n.has(F), lambda n: sp.cancel(n))


def _series_point(n, x, terms):
    """sum_k (2k)!/(2k - n)!/(2k + 1) x^(2k - n) over 2k >= n, k < terms, at the point ball x,
    plus a ball bounding the rest (|x| <= 1/2)."""
    arb = flint().arb
    s = arb(0)
    k0 = (n + 1) // 2
    for k in range(k0, terms):
        j = 2 * k
        c = 1
        for i in range(j - n + 1, j + 1):
            c *= i
        s += arb(c) / (j + 1) * x ** (j - n)
    # tail: terms with j = 2k >= J are at most j^n r^(j - n); the ratio of consecutive ones
    # is at most q = ((J + 2)/J)^n r^2 < 1, so the tail is at most J^n r^(J - n)/(1 - q)
    r = abs(x).upper()
    J = 2 * terms
    q = (arb(J + 2) / J) ** n * r * r
    tail = arb(J) ** n * r ** (J - n) / (1 - q)
    return s + _pm(tail)


def _pm(t):
    arb = flint().arb
    return (-t).union(t) if t != 0 else arb(0)


_SERIES_TERMS = 70
_SERIES_R = Fraction(1, 2)


@functools.lru_cache(maxsize=None)
def _atanhc_closed(n):
    """The closed-form n-th derivative of atanh(x)/x, compiled (for |x| >= 1/4)."""
    import sympy as sp
    x = sp.Symbol("x", real=True)
    return compile_expr(sp.diff(sp.atanh(x) / x, x, n), (x,), rewrite_atanh=False)


def atanhc_eval(n, X):
    """A ball containing every n-th derivative of atanh(x)/x for x in the ball X (|X| < 1)."""
    if not X.is_finite():
        return _nan()
    return _atanhc_range(n, X.lower(), X.upper())


def _atanhc_range(n, lo, hi):
    """The same for x in [lo, hi] (exact point balls)."""
    arb = flint().arb
    big = abs(lo).max(abs(hi))
    if big <= arb(0.5):
        # every coefficient of the series is >= 0: the n-th derivative is increasing in x for
        # odd n and even, increasing in |x|, for even n: its range is taken at the ends
        def at(v):
            return _series_point(n, v, _SERIES_TERMS)
        if n % 2:
            return at(lo).union(at(hi))
        small = arb(0) if (lo <= 0 and hi >= 0) else abs(lo).min(abs(hi))
        return at(small).union(at(big))
    if lo < 0 and hi > 0:
        return _atanhc_range(n, lo, arb(0)).union(_atanhc_range(n, arb(0), hi))
    q = arb(0.25) if hi > 0 else arb(-0.25)
    if abs(lo).min(abs(hi)) >= arb(0.25):
        if hi - lo > arb(1) / 64:         # ball arithmetic is loose on wide balls: narrow them
            mid = (lo + hi) / 2
            mid = flint().arb(mid.mid())
            return _atanhc_range(n, lo, mid).union(_atanhc_range(n, mid, hi))
        return _atanhc_closed(n)((lo.union(hi),))
    # one end inside |x| < 1/4, the other beyond 1/2: the two pieces
    a, b = (lo, q) if hi > 0 else (q, hi)
    c, d = (q, hi) if hi > 0 else (lo, q)
    return _atanhc_range(n, a, b).union(_atanhc_range(n, c, d))


# ----------------------------------------------------------------------------------------------
# The compiler
# ----------------------------------------------------------------------------------------------
class Unsupported(ValueError):
    """An expression node that has no rigorous interval evaluation here."""


def compile_expr(expr, variables, rewrite_atanh=True):
    """A function ``f(values) -> arb`` enclosing ``expr`` for its variables in the given balls.

    Parameters
    ----------
    expr : sympy.Expr
    variables : sequence of sympy.Symbol
        The order of ``values``.

    Raises
    ------
    Unsupported
        A function with no interval evaluation here (its name in the message).

    Compile and evaluate at the same precision (:func:`precision`): constants are rounded
    once, when compiled.
    """
    import sympy as sp
    expr = sp.sympify(expr)  # safe: a SymPy expression, never text
    if rewrite_atanh:
        expr = without_atanh(expr)
    if expr.has(sp.Piecewise):
        reps, reduced = [], [expr]      # cse would lift the branches' conditions out of them
    else:
        reps, reduced = sp.cse(expr, symbols=sp.numbered_symbols("_cse"))
    index = {v: i for i, v in enumerate(variables)}
    steps = []
    for sym, sub in reps:
        steps.append(_node(sub, index))
        index[sym] = len(index)
    final = _node(reduced[0], index)
    nvars = len(variables)

    def f(values):
        env = list(values[:nvars])
        for step in steps:
            env.append(step(env))
        return final(env)

    return f


def _const(e):
    import sympy as sp
    arb = flint().arb
    if e.is_Integer:
        return arb(int(e))
    if e.is_Rational:
        return arb(int(e.p)) / int(e.q)
    if e.is_Float:
        q = sp.Rational(e)
        return arb(int(q.p)) / int(q.q)
    if e is sp.pi:
        return arb.pi()
    if e is sp.E:
        return arb(1).exp()
    if e is sp.EulerGamma:
        return arb.const_euler()
    raise Unsupported(f"the constant {e} has no interval evaluation")


def _pow(x, n):
    """x^n for an integer n >= 1 from the ends of the ball (monotone on each side of 0):
    Arb's power of a wide ball is loose (its square of [1e-4, 7e-4] reaches below 0)."""
    arb = flint().arb
    if not x.is_finite():
        return x ** n
    lo, hi = x.lower(), x.upper()
    if lo >= 0 or (n % 2 == 1):
        return (lo ** n).union(hi ** n)
    if hi <= 0:
        return (lo ** n).union(hi ** n)
    return arb(0).union(abs(lo).max(abs(hi)) ** n)


def _abs(x):
    arb = flint().arb
    if x.lower() >= 0:
        return x
    if x.upper() <= 0:
        return -x
    return arb(0).union(abs(x).upper())


def _sign(x):
    arb = flint().arb
    if x > 0:
        return arb(1)
    if x < 0:
        return arb(-1)
    if x == 0:
        return arb(0)
    lo = -1 if x.lower() < 0 else 0
    hi = 1 if x.upper() > 0 else 0
    return arb(lo).union(arb(hi))


def _nan():
    arb = flint().arb
    return arb("nan")


def _wide(x) -> bool:
    """A ball whose radius is not small against its midpoint: Arb's midpoint-radius formulas
    lose the relative precision of its smaller end (the product of [1e-7, 1e-3] and
    [-1, -0.999] reached 0), so the interval is taken from its ends instead."""
    return x.is_finite() and x.rad() > x.mid().abs_lower() * _WIDE


_WIDE = 2.0 ** -8


def _ends(x):
    return x.lower(), x.upper()


def _mul(x, y):
    """x * y, from the four products of the ends where a ball is wide."""
    if not (_wide(x) or _wide(y)):
        return x * y
    a, b = _ends(x)
    c, d = _ends(y)
    out = a * c
    for v in (a * d, b * c, b * d):
        out = out.union(v)
    return out


def _inv(x):
    """1/x, from the ends where the ball is wide and excludes 0 (unbounded otherwise)."""
    if not _wide(x):
        return 1 / x
    if not (x > 0 or x < 0):
        return _nan()
    a, b = _ends(x)
    return (1 / a).union(1 / b)


def _mono(method, increasing=True, domain=None):
    """A monotone function of a ball, from its ends where the ball is wide; ``domain`` a test
    every point must pass (else no bound)."""
    def f(x):
        if domain is not None and not domain(x):
            return _nan()
        if not _wide(x):
            return getattr(x, method)()
        a, b = _ends(x)
        return getattr(a, method)().union(getattr(b, method)())
    return f


_UNARY = {
    "exp": _mono("exp"), "log": _mono("log", domain=lambda x: x > 0),
    "atanh": _mono("atanh", domain=lambda x: x > -1 and x < 1),
    "tanh": _mono("tanh"), "sinh": _mono("sinh"),
    "asinh": _mono("asinh"), "erf": _mono("erf"), "erfc": _mono("erfc"),
    "sin": lambda x: x.sin(), "cos": lambda x: x.cos(), "tan": lambda x: x.tan(),
    "asin": lambda x: x.asin(), "acos": lambda x: x.acos(), "atan": lambda x: x.atan(),
    "cosh": lambda x: x.cosh(), "acosh": lambda x: x.acosh(),
    "gamma": lambda x: x.gamma(), "loggamma": lambda x: x.lgamma() if x > 0 else _nan(),
    "Abs": _abs, "sign": _sign,
}


def _polygamma(n, x):
    """psi_n(x) for x > 0: monotone (increasing for n = 0, alternating in n), so its range is
    taken at the ends of the ball (Arb's value on a wide ball is far wider)."""
    flint_ = flint()
    if not x > 0:
        return _nan()
    lo, hi = x.lower(), x.upper()

    def at(v):
        if n == 0:
            return v.digamma()
        return flint_.acb(v).polygamma(n).real

    return at(lo).union(at(hi))


def _heaviside(x):
    arb = flint().arb
    if x > 0:
        return arb(1)
    if x < 0:
        return arb(0)
    return arb(0).union(arb(1))


def _dirac(x):
    # 0 off the origin; no bound where the ball reaches it
    return flint().arb(0) if (x > 0 or x < 0) else _nan()


def _cmp(op, a, b):
    """True/False where decided for every point of the balls, None otherwise."""
    d = a - b
    if op in ("<", "<="):
        d = -d
        op = ">" if op == "<" else ">="
    if op == ">":
        return True if d > 0 else False if d <= 0 else None
    if op == ">=":
        return True if d >= 0 else False if d < 0 else None
    if op == "==":
        return True if d == 0 else False if (d > 0 or d < 0) else None
    if op == "!=":
        return False if d == 0 else True if (d > 0 or d < 0) else None
    raise Unsupported(f"the relation {op}")


def _cond(c, index):
    """A compiled condition: env -> True / False / None (undecided on the box)."""
    import sympy as sp
    if c is sp.true:
        return lambda env: True
    if c is sp.false:
        return lambda env: False
    if isinstance(c, sp.core.relational.Relational):
        a, b = _node(c.lhs, index), _node(c.rhs, index)
        op = c.rel_op
        return lambda env: _cmp(op, a(env), b(env))
    if isinstance(c, (sp.And, sp.Or)):
        parts = [_cond(a, index) for a in c.args]
        is_and = isinstance(c, sp.And)

        def f(env):
            vals = [p(env) for p in parts]
            if is_and:
                return False if False in vals else (True if all(v is True for v in vals)
                                                    else None)
            return True if True in vals else (False if all(v is False for v in vals)
                                              else None)
        return f
    if isinstance(c, sp.Not):
        inner = _cond(c.args[0], index)

        def g(env):
            v = inner(env)
            return None if v is None else not v
        return g
    raise Unsupported(f"the condition {c} has no interval evaluation")


def _node(e, index):
    """``e`` compiled: a function of ``env`` (the variables' balls, ``index`` maps each variable
    to its place) returning a ball that encloses ``e`` there."""
    import sympy as sp
    if e in index:
        i = index[e]
        return lambda env: env[i]
    if e is sp.nan or e is sp.zoo or e is sp.oo or e is -sp.oo:
        return lambda env: _nan()      # no bound: the box stays undecided
    if e.is_Symbol:
        raise Unsupported(f"the symbol {e} has no value (not a variable of the statement)")
    if e.is_number and not e.has(sp.Function):
        c = _const(e) if (e.is_Rational or e.is_Float or e in (sp.pi, sp.E, sp.EulerGamma)) \
            else None
        if c is not None:
            return lambda env: c
    if isinstance(e, sp.Add):
        return _sum_node(e, index)
    if isinstance(e, sp.Mul):
        return _product_node(e, index)
    if isinstance(e, sp.Pow):
        return _power_node(e, index)
    if isinstance(e, sp.Piecewise):
        return _piecewise_node(e, index)
    if isinstance(e, (sp.Min, sp.Max)):
        return _extremum_node(e, index)
    return _function_node(e, index)


def _sum_node(e, index):
    parts = [_node(a, index) for a in e.args]

    def add(env):
        s = parts[0](env)
        for p in parts[1:]:
            s = s + p(env)
        return s
    return add


def _product_node(e, index):
    """A product, its factors with negative integer powers divided (one inversion each)."""
    import sympy as sp
    num, den = [], []
    for a in e.args:
        if isinstance(a, sp.Pow) and a.exp.is_Integer and a.exp < 0:
            den.append(_node(a.base ** -a.exp, index))
        else:
            num.append(_node(a, index))
    if not num:
        num = [lambda env: flint().arb(1)]

    def mul(env):
        s = num[0](env)
        for p in num[1:]:
            s = _mul(s, p(env))
        for p in den:
            s = _mul(s, _inv(p(env)))
        return s
    return mul


def _power_node(e, index):
    """A power: integer exponents by repeated products, square roots, and otherwise
    exp(x log b) for a positive base."""
    import sympy as sp
    b = _node(e.base, index)
    x = e.exp
    if x.is_Integer:
        n = int(x)
        if n == 0:
            return lambda env: flint().arb(1)
        if n == 1:
            return b
        if n > 0:
            return lambda env: _pow(b(env), n)
        m = -n
        return lambda env: _inv(_pow(b(env), m))
    if x == sp.Rational(1, 2):
        return lambda env: (lambda v: v.sqrt() if v >= 0 else _nan())(b(env))
    if x == sp.Rational(-1, 2):
        return lambda env: (lambda v: v.rsqrt() if v > 0 else _nan())(b(env))
    ex = _node(x, index)

    def power(env):
        v = b(env)
        if not v > 0:
            return _nan()
        return _UNARY["exp"](_mul(ex(env), _UNARY["log"](v)))
    return power


def _piecewise_node(e, index):
    """A Piecewise: the union of the branches whose condition may hold on the box, up to the
    first that holds for all of it."""
    branches = [(_node(a, index), _cond(c, index)) for a, c in e.args]

    def piecewise(env):
        out = None
        for val, cond in branches:
            c = cond(env)
            if c is False:
                continue
            v = val(env)
            out = v if out is None else out.union(v)
            if c is True:
                return out
        return out if out is not None else _nan()
    return piecewise


def _extremum_node(e, index):
    import sympy as sp
    parts = [_node(a, index) for a in e.args]
    pick = "min" if isinstance(e, sp.Min) else "max"

    def mm(env):
        s = parts[0](env)
        for p in parts[1:]:
            s = getattr(s, pick)(p(env))
        return s
    return mm


def _function_node(e, index):
    """A function of one argument (atanhc_d, polygamma, Heaviside, DiracDelta and
    :data:`_UNARY`'s); anything else is :class:`Unsupported`."""
    import sympy as sp
    F = atanhc_class()
    if isinstance(e, F):
        n = int(e.args[0])
        x = _node(e.args[1], index)
        return lambda env: atanhc_eval(n, x(env))
    if isinstance(e, sp.polygamma):
        n = int(e.args[0])
        x = _node(e.args[1], index)
        return lambda env: _polygamma(n, x(env))
    if isinstance(e, sp.Heaviside):
        x = _node(e.args[0], index)
        return lambda env: _heaviside(x(env))
    if isinstance(e, sp.DiracDelta):
        if len(e.args) > 1:
            raise Unsupported("derivatives of DiracDelta")
        x = _node(e.args[0], index)
        return lambda env: _dirac(x(env))
    if isinstance(e, sp.Function) and len(e.args) == 1:
        name = type(e).__name__
        if name in _UNARY:
            x = _node(e.args[0], index)
            fn = _UNARY[name]
            return lambda env: fn(x(env))
    raise Unsupported(f"{type(e).__name__} has no interval evaluation here")
