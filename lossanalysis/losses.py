"""The loss catalogue: every reconstruction loss defined once.

A loss is a function L(y, p) of a target intensity ``y`` in [0, 1] and a prediction ``p`` in
[0, 1] (the output of a sigmoid, ``p = sigmoid(z)``).  Each catalogue entry carries

* its definition as a SymPy expression in ``y`` and ``p`` (:attr:`Loss.expr`, built lazily so
  that importing this module does not import SymPy), and
* numerically stable NumPy forms of the value, its first and second derivatives in ``p``, and
  the value and derivatives in the logit ``z``.

The NumPy forms are written by hand for accuracy at the extremes (softplus / log-sigmoid forms
for the cross-entropy family, a series for the continuous Bernoulli normalizer near 1/2); the
test suite checks each of them against the lambdified derivatives of :attr:`Loss.expr` and against
50-digit mpmath evaluation.  A user's own loss (:meth:`Loss.from_expr`) gets the same interface
through lambdified SymPy derivatives.

References: Gneiting & Raftery (2007) for the Brier and log scores; Loaiza-Ganem & Cunningham
(2019, arXiv 1907.06845) for the continuous Bernoulli; Lin et al. (2017) and Mukhoti et al.
(2020) for the focal loss; Rybkin et al. (2021, arXiv 2006.13202) for the Gaussian likelihood.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable

import numpy as np

from ._inputs import check_range, real_array

__all__ = [
    "LOSSES", "Loss", "get_loss", "symbols", "sigmoid", "logit", "softplus", "log_sigmoid",
    "continuous_bernoulli_mean", "continuous_bernoulli_mean_logit",
]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# ----------------------------------------------------------------------------------------------
# Stable elementary functions (dtype-preserving: no float64 constants leak into float32 math)
# ----------------------------------------------------------------------------------------------
def _log1p_unit(u):
    """ln(1 + u) for u in [0, 1] from a single ln, to within about an ulp.

    With w = fl(1 + u), w - 1 is exact (Sterbenz) and ln(1 + u) = ln w + ln(1 + d/w),
    d = u - (w - 1), |d/w| <= eps/2; the first-order term d/w restores what rounding 1 + u lost
    (and gives u itself when w rounds to 1).  NumPy's ln is vectorized where its log1p is not:
    in float32 this is about 5x faster than ``np.log1p``, which the training step feels.
    """
    w = 1 + u
    return np.log(w) - ((w - 1) - u) / w


def softplus(z):
    """ln(1 + e^z) = max(z, 0) + ln(1 + e^-|z|), finite for every finite z."""
    z = np.asarray(z)
    return np.maximum(z, 0) + _log1p_unit(np.exp(-np.abs(z)))


def log_sigmoid(z):
    """ln sigmoid(z) = -softplus(-z)."""
    return -softplus(-np.asarray(z))


def _sigmoid_from(z, e):
    """sigmoid(z) given e = exp(-|z|) (no overflow: e <= 1): 1/(1 + e) for z >= 0 and
    e/(1 + e) below, selected arithmetically (m in {0, 1}: r (m + (1 - m) e) is r or e r, bit for
    bit), which is about 3x faster than ``np.where`` on the training step's arrays."""
    r = 1 / (1 + e)
    m = (z >= 0).astype(e.dtype)
    return r * (m + (1 - m) * e)


def sigmoid(z):
    """The logistic function, without overflow for large |z|."""
    z = np.asarray(z)
    return _sigmoid_from(z, np.exp(-np.abs(z)))


def logit(p):
    """ln(p / (1 - p)); -inf at 0 and +inf at 1."""
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-np.asarray(p))


def _where0(w, x):
    """w * x, taking 0 * anything = 0 (the xlogy convention)."""
    with np.errstate(invalid="ignore"):
        return np.where(w == 0, 0, w * x)


def _kl_term(a, b, d):
    """a g(d/a) with g(u) = u - ln(1 + u) >= 0 and d = b - a: one term of a Bernoulli KL.

    Written directly as d - a ln(b/a) it cancels when |d| << a (relative error about
    2 eps a/|d|), so for |d/a| < 1/8 the alternating series a sum_{k>=2} (-1)^k u^k / k is
    summed by Horner's rule (22 terms reach 1e-17 relative accuracy there).  Elsewhere
    d - a (ln b - ln a) is used, which neither overflows for tiny a nor loses digits when b is
    tiny.  At a = 0 the term is its limit, b.
    """
    small = np.abs(d) < 0.125 * a
    u = np.where(small, d / np.where(small, a, 1), 0)
    acc = np.zeros_like(u)
    for k in range(22, 1, -1):
        acc = acc * u + (1.0 if k % 2 == 0 else -1.0) / k
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = d - a * (np.log(b) - np.log(a))
    return np.where(small, d * u * acc, np.where(a == 0, b, direct))


def _bernoulli_kl(a, b, a_bar, b_bar):
    """KL(Bern(a) || Bern(b)) without cancellation, given the complements a_bar = 1 - a and
    b_bar = 1 - b (passed separately so that callers can supply accurate complements).

    With d = b - a, u = d/a and v = -d/a_bar, a u + a_bar v = 0 and therefore
    KL = a g(u) + a_bar g(v) with g(x) = x - ln(1 + x) >= 0: two non-negative terms, no
    cancellation.  (v is formed from d, not from b_bar - a_bar, whose rounded complements would
    lose the digits of a small d.)
    """
    d = b - a
    return _kl_term(a, b, d) + _kl_term(a_bar, b_bar, -d)


def _log_ratio_diff(y, p):
    """logit(p) - logit(y) = ln(p/y) - ln((1-p)/(1-y)), as a sum of same-sign log1p terms."""
    d = p - y
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log1p(d / y) - np.log1p(-d / (1 - y))


def _bernoulli_numbers(n):
    """B_0 .. B_n as exact fractions (B_1 = -1/2), from the standard recurrence."""
    b = [Fraction(1)]
    for m in range(1, n + 1):
        b.append(-sum(math.comb(m + 1, k) * b[k] for k in range(m)) / (m + 1))
    return b


# Continuous Bernoulli in the natural parameter z = logit(lambda): the log-partition function is
# A(z) = ln((e^z - 1)/z), the mean is mu(z) = A'(z) = 1/(1 - e^-z) - 1/z and the variance A''(z).
# The closed forms cancel catastrophically near z = 0 (lambda = 1/2); there the Maclaurin series
# A(z) = z/2 + sum_k B_2k z^2k / (2k (2k)!) is used (radius 2 pi; at |z| < 1/2 eight terms give
# full double precision).  The coefficients are exact Bernoulli-number fractions.
_CB_WINDOW = 0.5
_B = _bernoulli_numbers(16)
_CB_A = [float(_B[2 * k] / (2 * k * math.factorial(2 * k))) for k in range(1, 9)]
_CB_MU = [float(_B[2 * k] / math.factorial(2 * k)) for k in range(1, 9)]
_CB_VAR = [float(_B[2 * k] * (2 * k - 1) / math.factorial(2 * k)) for k in range(1, 9)]


def _poly(coeffs, t):
    """sum_k coeffs[k] t^k by Horner's rule."""
    acc = np.zeros_like(t)
    for c in reversed(coeffs):
        acc = acc * t + c
    return acc


def _cb_log_partition(z):
    """A(z) = ln((e^z - 1)/z), A(0) = 0."""
    small = np.abs(z) < _CB_WINDOW
    zs = np.where(small, z, 0)
    series = 0.5 * zs + zs * zs * _poly(_CB_A, zs * zs)
    az = np.abs(np.where(small, 1, z))
    with np.errstate(over="ignore", divide="ignore"):
        closed = np.maximum(z, 0) + np.log(-np.expm1(-az) / az)
    return np.where(small, series, closed)


def _cb_mean(z):
    """mu(z) = 1/(1 - e^-z) - 1/z, the mean of the continuous Bernoulli; mu(0) = 1/2."""
    small = np.abs(z) < _CB_WINDOW
    zs = np.where(small, z, 0)
    series = 0.5 + zs * _poly(_CB_MU, zs * zs)
    zc = np.where(small, 1, z)
    with np.errstate(over="ignore", divide="ignore"):
        closed = -1 / np.expm1(-zc) - 1 / zc
    return np.where(small, series, closed)


def _cb_variance(z):
    """A''(z) = 1/z^2 - 1/(4 sinh^2(z/2)); 1/12 at z = 0."""
    small = np.abs(z) < _CB_WINDOW
    zs = np.where(small, z, 0)
    series = _poly(_CB_VAR, zs * zs)
    zc = np.where(small, 1, z)
    with np.errstate(over="ignore"):
        closed = 1 / (zc * zc) - 0.25 / np.sinh(0.5 * zc) ** 2
    return np.where(small, series, closed)


def _cb_log_normalizer(p):
    """ln C(p), C(p) = 2 artanh(1 - 2p)/(1 - 2p); ln 2 at p = 1/2 and +inf at p = 0 or 1.

    x = 1 - 2p is exact in floating point for p >= 1/4, and artanh(x)/x has no cancellation,
    so only the removable point x = 0 needs care here.
    """
    x = 1 - 2 * p
    xs = np.where(x == 0, 1, x)
    with np.errstate(divide="ignore"):
        ratio = np.where(x == 0, 1, np.arctanh(xs) / xs)
        return math.log(2.0) + np.log(ratio)


def continuous_bernoulli_mean_logit(z):
    """Mean of the continuous Bernoulli with natural parameter z = logit(lambda)."""
    return _cb_mean(np.asarray(z))


def continuous_bernoulli_mean(lam):
    """Mean of the continuous Bernoulli with parameter lambda in [0, 1]:
    mu = lambda/(2 lambda - 1) + 1/(2 artanh(1 - 2 lambda)) (Loaiza-Ganem & Cunningham 2019)."""
    lam = np.asarray(lam)
    return _cb_mean(logit(lam))


# ----------------------------------------------------------------------------------------------
# Input handling
# ----------------------------------------------------------------------------------------------
_SYMBOLS = None
_INTERNAL = None


def symbols():
    """The SymPy symbols (y, p) in which every :attr:`Loss.expr` is written.

    They are plain ``sympy.Symbol("y")`` and ``sympy.Symbol("p")``, with no assumptions, so
    that a user's own ``sympy.symbols("y p")`` are the same symbols (also ``lossanalysis.y``,
    ``lossanalysis.p``)::

        >>> import sympy as sp
        >>> from lossanalysis import get_loss
        >>> sp.diff(get_loss("mse").expr, sp.Symbol("p"))
        2*p - 2*y
    """
    global _SYMBOLS
    if _SYMBOLS is None:
        import sympy as sp
        _SYMBOLS = (sp.Symbol("y"), sp.Symbol("p"))
    return _SYMBOLS


def _internal_symbols():
    """The positive (y, p) in which the analysis works: the assumptions let SymPy simplify
    logarithms and powers on the domain.  Never returned to users (see :func:`_to_public`)."""
    global _INTERNAL
    if _INTERNAL is None:
        import sympy as sp
        _INTERNAL = sp.symbols("y p", positive=True)
    return _INTERNAL


def _to_public(obj):
    """``obj`` with the internal (positive) y and p replaced by the public plain symbols;
    SymPy objects, and lists, tuples and dicts of them, are converted; anything else is kept."""
    if isinstance(obj, dict):
        return {k: _to_public(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_public(v) for v in obj)
    if hasattr(obj, "xreplace"):
        yi, pi = _internal_symbols()
        y, p = symbols()
        return obj.xreplace({yi: y, pi: p})
    return obj


def _to_internal(obj):
    """The inverse of :func:`_to_public` for one SymPy expression."""
    yi, pi = _internal_symbols()
    y, p = symbols()
    return obj.xreplace({y: yi, p: pi})


def _sympy_number(v):
    import sympy as sp
    v = float(v)
    return sp.Integer(int(v)) if v.is_integer() else sp.Rational(repr(v))


# ----------------------------------------------------------------------------------------------
# The Loss type
# ----------------------------------------------------------------------------------------------
#: SymPy functions whose presence in an expression makes a loss non-smooth (a kink or a jump).
NONSMOOTH_FUNCTIONS = ("Abs", "sign", "Piecewise", "Heaviside", "Max", "Min", "DiracDelta",
                       "floor", "ceiling")


class Loss:
    """A reconstruction loss L(y, p): its SymPy definition and its NumPy numerics.

    Every numeric method is vectorized and broadcasts; the output dtype follows the inputs
    (float32 in, float32 out; Python numbers give float64) and a scalar input gives a NumPy scalar.
    With ``check=True`` (the default) bad input raises ``ValueError`` naming the argument; pass
    ``check=False`` in hot loops whose inputs are known to be valid.
    """

    #: False where the loss has a kink (mae at p = y, huber at |p - y| = delta); for a user
    #: loss, False when its expression contains one of :data:`NONSMOOTH_FUNCTIONS`.
    smooth = True
    #: "closed" when targets may be 0 or 1, "open" when they must lie strictly inside.
    target_domain = "closed"
    #: parameter name -> (default, validity test, description of the valid range)
    _param_spec: dict = {}

    def __init__(self, name: str, params: dict | None = None):
        self.name = name
        self.params = self._resolve_params(params or {})
        self._expr = None
        self._lambdified: dict[str, Callable] = {}

    # -- construction ---------------------------------------------------------------------------
    def _resolve_params(self, given):
        unknown = set(given) - set(self._param_spec)
        if unknown:
            valid = ", ".join(self._param_spec) or "none"
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} for loss {self.name!r}; "
                             f"valid: {valid}")
        out = {}
        for key, (default, ok, rule) in self._param_spec.items():
            value = given.get(key, default)
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"parameter {key} of loss {self.name!r} must be a number, "
                                 f"got {value!r}") from None
            if not (math.isfinite(value) and ok(value)):
                raise ValueError(f"parameter {key} of loss {self.name!r} must be {rule}; "
                                 f"got {value!r}")
            out[key] = value
        return out

    @classmethod
    def from_expr(cls, expr, name: str | None = None, params: dict | None = None) -> "Loss":
        """A user loss from a SymPy expression or a string in ``y`` and ``p``.

        Other symbols must be given values in ``params``.  The numerics are the lambdified
        expression and its derivatives; no stable hand-written forms exist for it.

        >>> round(float(Loss.from_expr("(p - y)**4", name="quartic").grad(0.2, 0.5)), 12)
        0.108
        """
        return _ExprLoss(expr, name=name, params=params)

    # -- symbolic -------------------------------------------------------------------------------
    @property
    def expr(self):
        """The definition, a SymPy expression in :func:`symbols` (parameters substituted)."""
        return _to_public(self._internal_expr)

    @property
    def _internal_expr(self):
        """The definition in the analysis' positive symbols (:func:`_internal_symbols`)."""
        if self._expr is None:
            import sympy as sp
            y, p = _internal_symbols()
            prm = {k: _sympy_number(v) for k, v in self.params.items()}
            self._expr = self._build_expr(sp, y, p, prm)
        return self._expr

    def _build_expr(self, sp, y, p, prm):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def latex(self) -> str:
        """The formula in LaTeX."""
        import sympy as sp
        return sp.latex(self.expr)

    def _lambdify(self, which: str):
        """NumPy/SciPy function of (y, p) for 'value', 'grad' or 'curvature' of :attr:`expr`."""
        if which not in self._lambdified:
            import sympy as sp
            y, p = _internal_symbols()
            e = self._internal_expr
            if which in ("grad", "curvature"):
                e = sp.diff(e, p)
            if which == "curvature":
                e = sp.diff(e, p)
            # Abs, sign and Heaviside differentiate into DiracDelta, which NumPy cannot
            # evaluate; off the kink it is 0, and at the kink the derivative is undefined anyway
            e = e.replace(sp.DiracDelta, lambda *args: sp.Integer(0))
            self._lambdified[which] = sp.lambdify((y, p), e, modules=["scipy", "numpy"])
        return self._lambdified[which]

    # -- public numerics ------------------------------------------------------------------------
    def _call(self, impl, y, x, arg, check):
        y = real_array(y, "y")
        x = real_array(x, arg)
        try:
            np.broadcast_shapes(y.shape, x.shape)
        except ValueError:
            raise ValueError(f"y with shape {y.shape} and {arg} with shape {x.shape} do not "
                             "broadcast together") from None
        dtype = np.result_type(y, x, np.float32)
        y = y.astype(dtype, copy=False)
        x = x.astype(dtype, copy=False)
        if check:
            check_range(y, "y", "target", 0, 1, open_=self.target_domain == "open")
            if arg == "p":
                check_range(x, "p", "prediction", 0, 1)
            elif not np.all(np.isfinite(x)):
                raise ValueError("z (logit) must be finite, got NaN or inf")
        with np.errstate(all="ignore"):
            outs = impl(y, x)
        single = not isinstance(outs, tuple)
        shape = np.broadcast_shapes(y.shape, x.shape)
        results = []
        for out in ((outs,) if single else outs):
            out = np.asarray(out, dtype=dtype)
            if out.shape != shape:
                out = np.broadcast_to(out, shape).copy()
            if check and np.isnan(out).any():
                i = np.flatnonzero(np.isnan(out).ravel())[0]
                yb, xb = np.broadcast_arrays(y, x)
                raise ValueError(f"loss {self.name!r} is undefined (NaN) at "
                                 f"y={yb.ravel()[i]!r}, {arg}={xb.ravel()[i]!r}")
            results.append(out[()] if out.ndim == 0 else out)
        return results[0] if single else tuple(results)

    def value(self, y, p, *, check=True):
        """L(y, p)."""
        return self._call(self._value, y, p, "p", check)

    def excess(self, y, p, *, check=True):
        """L(y, p) - L(y, y), without cancellation where a stable form is known."""
        return self._call(self._excess, y, p, "p", check)

    def grad(self, y, p, *, check=True):
        """dL/dp."""
        return self._call(self._grad, y, p, "p", check)

    def curvature(self, y, p, *, check=True):
        """d2L/dp2."""
        return self._call(self._curvature, y, p, "p", check)

    def value_logit(self, y, z, *, check=True):
        """L(y, sigmoid(z))."""
        return self._call(self._value_logit, y, z, "z", check)

    def grad_logit(self, y, z, *, check=True):
        """dL/dz with p = sigmoid(z)."""
        return self._call(self._grad_logit, y, z, "z", check)

    def curvature_logit(self, y, z, *, check=True):
        """d2L/dz2 with p = sigmoid(z)."""
        return self._call(self._curvature_logit, y, z, "z", check)

    def value_and_grad_logit(self, y, z, *, check=True):
        """``(value_logit(y, z), grad_logit(y, z))``, the same numbers, in one pass where the
        two share work (the cross-entropy family computes exp(-|z|) once): what a training
        step needs."""
        return self._call(self._value_and_grad_logit, y, z, "z", check)

    # -- generic implementations (overridden by stable hand-written forms) -----------------------
    def _value(self, y, p):
        return self._lambdify("value")(y, p)

    def _grad(self, y, p):
        return self._lambdify("grad")(y, p)

    def _curvature(self, y, p):
        return self._lambdify("curvature")(y, p)

    def _excess(self, y, p):
        # 0 at p = y by definition, also where L(y, y) is infinite (e.g. the CB at y = 0)
        return np.where(p == y, 0, self._value(y, p) - self._value(y, y))

    def _value_logit(self, y, z):
        return self._value(y, sigmoid(z))

    def _grad_logit(self, y, z):
        p, q = sigmoid(z), sigmoid(-z)
        return self._grad(y, p) * (p * q)

    def _value_and_grad_logit(self, y, z):
        return self._value_logit(y, z), self._grad_logit(y, z)

    def _curvature_logit(self, y, z):
        # d2L/dz2 = L_pp (pq)^2 + L_p pq (1 - 2p), with 1 - 2p = q - p
        p, q = sigmoid(z), sigmoid(-z)
        s = p * q
        return self._curvature(y, p) * s * s + self._grad(y, p) * s * (q - p)

    # -- REPL -----------------------------------------------------------------------------------
    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"get_loss({self.name!r}{args})"

    def __str__(self):
        return f"{self.name}: {self.expr}"

    def __eq__(self, other):
        return (isinstance(other, Loss) and type(other) is type(self)
                and (self.name, self.params) == (other.name, other.params)
                and (type(self) is not _ExprLoss or self._expr == other._expr))

    def __hash__(self):
        return hash((type(self).__name__, self.name, tuple(sorted(self.params.items()))))


class _ExprLoss(Loss):
    """A loss given by the user as an expression; numerics are lambdified."""

    def __init__(self, expr, name=None, params=None):
        import sympy as sp
        y, p = _internal_symbols()
        params = dict(params or {})
        if isinstance(expr, str):
            local = {"y": y, "p": p, **{k: sp.Symbol(k) for k in params}}
            try:
                expr = sp.sympify(expr, locals=local)
            except (sp.SympifyError, SyntaxError, TypeError) as err:
                raise ValueError(f"cannot parse the loss expression {expr!r}: {err}") from None
        if not isinstance(expr, sp.Expr):
            raise ValueError(f"expr must be a SymPy expression or a string, got {type(expr)}")
        # accept plain symbols named y and p from the user's own sympy.symbols("y p")
        expr = expr.subs({s: {"y": y, "p": p}[s.name] for s in expr.free_symbols
                          if s.name in ("y", "p") and s not in (y, p)})
        by_name = {s.name: s for s in expr.free_symbols}
        missing = set(by_name) - {"y", "p"} - set(params)
        if missing:
            raise ValueError(f"the loss expression has free symbols {sorted(missing)} besides "
                             "y and p: give their values in params")
        if p not in expr.free_symbols:
            raise ValueError("the loss expression does not depend on the prediction p")
        unknown = set(params) - set(by_name)
        if unknown:
            raise ValueError(f"params {sorted(unknown)} do not occur in the expression")
        self._param_spec = {k: (v, lambda v: True, "finite") for k, v in params.items()}
        super().__init__(name or "custom", params)
        self._expr = expr.subs({by_name[k]: _sympy_number(v) for k, v in self.params.items()})
        self.smooth = not self._expr.has(*(getattr(sp, f) for f in NONSMOOTH_FUNCTIONS))

    def __repr__(self):
        return f"Loss.from_expr({str(self._expr)!r}, name={self.name!r})"


# ----------------------------------------------------------------------------------------------
# The catalogue
# ----------------------------------------------------------------------------------------------
def _positive(v):
    return v > 0


def _nonnegative(v):
    return v >= 0


class _MSE(Loss):
    def _build_expr(self, sp, y, p, prm):
        return (p - y) ** 2

    def _value(self, y, p):
        return (p - y) ** 2

    _excess = _value

    def _grad(self, y, p):
        return 2 * (p - y)

    def _curvature(self, y, p):
        return np.full(np.broadcast_shapes(y.shape, p.shape), 2, dtype=p.dtype)

    def _value_logit(self, y, z):
        return (sigmoid(z) - y) ** 2


class _MAE(Loss):
    smooth = False

    def _build_expr(self, sp, y, p, prm):
        return sp.Abs(p - y)

    def _value(self, y, p):
        return np.abs(p - y)

    _excess = _value

    def _grad(self, y, p):
        return np.sign(p - y)

    def _curvature(self, y, p):
        return np.zeros(np.broadcast_shapes(y.shape, p.shape), dtype=p.dtype)


class _Huber(Loss):
    """Huber (1964): d^2/2 for |d| <= delta, delta (|d| - delta/2) beyond, d = p - y.

    The default delta = 0.1 is chosen for intensities in [0, 1]: PyTorch's default delta = 1
    would make the loss quadratic (MSE/2) everywhere on this domain.
    """
    smooth = False
    _param_spec = {"delta": (0.1, _positive, "> 0")}

    def _build_expr(self, sp, y, p, prm):
        d, delta = p - y, prm["delta"]
        return sp.Piecewise((d ** 2 / 2, sp.Abs(d) <= delta), (delta * (sp.Abs(d) - delta / 2),
                                                                 True))

    def _value(self, y, p):
        delta = self.params["delta"]
        a = np.abs(p - y)
        return np.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta))

    _excess = _value

    def _grad(self, y, p):
        delta = self.params["delta"]
        return np.clip(p - y, -delta, delta)

    def _curvature(self, y, p):
        return (np.abs(p - y) <= self.params["delta"]).astype(p.dtype)


def _bce_logit(y, z):
    """BCE at p = sigmoid(z) and its logit gradient p - y, sharing exp(-|z|).

    y softplus(-z) + (1 - y) softplus(z) = (1 - y) max(z, 0) + y max(-z, 0) + ln(1 + e^-|z|):
    a sum of non-negative terms, so no cancellation.
    """
    e = np.exp(-np.abs(z))
    value = (1 - y) * np.maximum(z, 0) + y * np.maximum(-z, 0) + _log1p_unit(e)
    return value, _sigmoid_from(z, e) - y


class _BCE(Loss):
    """Binary cross-entropy, the log score of Bern(p) at a soft target y."""

    def _build_expr(self, sp, y, p, prm):
        return -(y * sp.log(p) + (1 - y) * sp.log(1 - p))

    def _value(self, y, p):
        with np.errstate(divide="ignore"):
            return 0.0 - (_where0(y, np.log(p)) + _where0(1 - y, np.log1p(-p)))

    def _excess(self, y, p):
        return _bernoulli_kl(y, p, 1 - y, 1 - p)

    def _grad(self, y, p):
        # (p - y)/(p(1 - p)) inside; at p = 0 or 1 the limits of -y/p + (1-y)/(1-p)
        pq = p * (1 - p)
        inner = (p - y) / np.where(pq == 0, 1, pq)
        at0 = np.where(y == 0, 1, -np.inf)
        at1 = np.where(y == 1, -1, np.inf)
        return np.where(p == 0, at0, np.where(p == 1, at1, inner))

    def _curvature(self, y, p):
        q = 1 - p
        return _where0(y, 1 / (p * p)) + _where0(1 - y, 1 / (q * q))

    def _value_and_grad_logit(self, y, z):
        return _bce_logit(y, z)

    def _value_logit(self, y, z):
        return _bce_logit(y, z)[0]

    def _grad_logit(self, y, z):
        return sigmoid(z) - y

    def _curvature_logit(self, y, z):
        return sigmoid(z) * sigmoid(-z)


def _entropy(y):
    """Shannon entropy of Bern(y) in nats."""
    with np.errstate(divide="ignore"):
        return -(_where0(y, np.log(y)) + _where0(1 - y, np.log1p(-y)))


class _KL(_BCE):
    """KL(Bern(y) || Bern(p)) = bce - H(y): the zero-normalized BCE (0 at p = y)."""

    def _build_expr(self, sp, y, p, prm):
        return y * sp.log(y / p) + (1 - y) * sp.log((1 - y) / (1 - p))

    def _value(self, y, p):
        return _bernoulli_kl(y, p, 1 - y, 1 - p)

    _excess = _value

    def _value_logit(self, y, z):
        p, q = sigmoid(z), sigmoid(-z)
        stable = _bernoulli_kl(y, p, 1 - y, q)
        # where sigmoid under/overflows the complements are inexact: use bce - H(y) there
        fallback = super()._value_logit(y, z) - _entropy(y)
        return np.where((p > 0) & (q > 0), stable, fallback)

    # not the BCE's fused form: the value differs by the entropy
    _value_and_grad_logit = Loss._value_and_grad_logit


class _ReverseKL(Loss):
    """KL(Bern(p) || Bern(y)): infinite unless p = y when y is 0 or 1."""

    def _build_expr(self, sp, y, p, prm):
        return p * sp.log(p / y) + (1 - p) * sp.log((1 - p) / (1 - y))

    def _value(self, y, p):
        return _bernoulli_kl(p, y, 1 - p, 1 - y)

    _excess = _value

    def _grad(self, y, p):
        inner = _log_ratio_diff(y, p)
        # at the edges: +inf when moving up from the boundary value, -inf when moving down
        edge = np.where(p == y, np.where(y == 0, np.inf, -np.inf),
                        np.where(p > y, np.inf, -np.inf))
        return np.where((y == 0) | (y == 1) | (p == 0) | (p == 1), edge, inner)

    def _curvature(self, y, p):
        return 1 / (p * (1 - p))

    def _value_logit(self, y, z):
        p, q = sigmoid(z), sigmoid(-z)
        v = _bernoulli_kl(p, y, q, 1 - y)
        return np.where((y == 0) | (y == 1), np.inf, v)

    def _grad_logit(self, y, z):
        v = (z - logit(y)) * (sigmoid(z) * sigmoid(-z))
        return np.where(y == 0, np.inf, np.where(y == 1, -np.inf, v))

    def _curvature_logit(self, y, z):
        # d/dz [(z - logit y) p q] = p q [1 + (z - logit y)(q - p)]
        p, q = sigmoid(z), sigmoid(-z)
        v = p * q * (1 + (z - logit(y)) * (q - p))
        return np.where((y == 0) | (y == 1), np.inf, v)


class _LogitMSE(Loss):
    """Squared error between logits: (logit p - logit y)^2."""

    def _build_expr(self, sp, y, p, prm):
        return (sp.log(p / (1 - p)) - sp.log(y / (1 - y))) ** 2

    def _diff(self, y, p):
        edge = np.where(p == y, 0, np.where(p > y, np.inf, -np.inf))
        return np.where((y == 0) | (y == 1) | (p == 0) | (p == 1), edge, _log_ratio_diff(y, p))

    def _value(self, y, p):
        return self._diff(y, p) ** 2

    _excess = _value

    def _grad(self, y, p):
        pq = p * (1 - p)
        inner = 2 * self._diff(y, p) / pq
        return np.where((pq == 0) & (p == y), np.where(y == 0, np.inf, -np.inf), inner)

    def _curvature(self, y, p):
        pq = p * (1 - p)
        return np.where(pq == 0, np.inf, 2 * (1 - self._diff(y, p) * (1 - 2 * p)) / (pq * pq))

    def _value_logit(self, y, z):
        return (z - logit(y)) ** 2

    def _grad_logit(self, y, z):
        return 2 * (z - logit(y))

    def _curvature_logit(self, y, z):
        return np.full(np.broadcast_shapes(y.shape, z.shape), 2, dtype=z.dtype)


class _GaussianNLL(Loss):
    """Negative log-density of N(p, sigma^2) at y (Rybkin et al. 2021)."""
    _param_spec = {"sigma": (1.0, _positive, "> 0")}

    def _build_expr(self, sp, y, p, prm):
        s = prm["sigma"]
        return (p - y) ** 2 / (2 * s ** 2) + sp.log(s) + sp.log(2 * sp.pi) / 2

    def _value(self, y, p):
        s = self.params["sigma"]
        return (p - y) ** 2 * (0.5 / s ** 2) + (math.log(s) + _HALF_LOG_2PI)

    def _excess(self, y, p):
        return (p - y) ** 2 * (0.5 / self.params["sigma"] ** 2)

    def _grad(self, y, p):
        return (p - y) * (1 / self.params["sigma"] ** 2)

    def _curvature(self, y, p):
        return np.full(np.broadcast_shapes(y.shape, p.shape), 1 / self.params["sigma"] ** 2,
                       dtype=p.dtype)


class _ContinuousBernoulli(Loss):
    """NLL of the continuous Bernoulli with parameter lambda = p: bce - ln C(p).

    In the natural parameter z = logit p the NLL is A(z) - y z with A(z) = ln((e^z - 1)/z), so
    dL/dz = mu(z) - y (mu the CB mean) and d2L/dz2 = A''(z) (Loaiza-Ganem & Cunningham 2019).
    """

    def _build_expr(self, sp, y, p, prm):
        bce = -(y * sp.log(p) + (1 - y) * sp.log(1 - p))
        return bce - sp.log(2 * sp.atanh(1 - 2 * p) / (1 - 2 * p))

    def _value(self, y, p):
        v = _BCE._value(self, y, p) - _cb_log_normalizer(p)
        # at p = 0 (1) the density concentrates at 0 (1): -inf where y equals it, +inf elsewhere
        at0 = np.where(y == 0, -np.inf, np.inf)
        at1 = np.where(y == 1, -np.inf, np.inf)
        return np.where(p == 0, at0, np.where(p == 1, at1, v))

    def _grad(self, y, p):
        pq = p * (1 - p)
        inner = (_cb_mean(logit(p)) - y) / np.where(pq == 0, 1, pq)
        at0 = np.where(y == 0, np.inf, -np.inf)
        at1 = np.where(y == 1, -np.inf, np.inf)
        return np.where(p == 0, at0, np.where(p == 1, at1, inner))

    def _curvature(self, y, p):
        pq = p * (1 - p)
        z = logit(p)
        inner = (_cb_variance(z) - (1 - 2 * p) * (_cb_mean(z) - y)) / np.where(pq == 0, 1,
                                                                                 pq * pq)
        edge = np.where(((p == 0) & (y == 0)) | ((p == 1) & (y == 1)), -np.inf, np.inf)
        return np.where(pq == 0, edge, inner)

    def _value_logit(self, y, z):
        return _cb_log_partition(z) - y * z

    def _grad_logit(self, y, z):
        return _cb_mean(z) - y

    def _curvature_logit(self, y, z):
        return _cb_variance(z)


class _BetaNLL(Loss):
    """-ln Beta(y; kappa p, kappa (1 - p)): a Beta likelihood with mean p and concentration kappa.

    ln B(a, b) is evaluated as lgamma(a+1) + lgamma(b+1) - lgamma(kappa+1) - ln kappa - ln p -
    ln(1-p) (using Gamma(a) = Gamma(a+1)/a and a + b = kappa), which stays finite in the logit
    form at z = +-1000; likewise psi(a) = psi(a+1) - 1/a in the gradient.
    """
    target_domain = "open"
    _param_spec = {"kappa": (10.0, _positive, "> 0")}

    def _build_expr(self, sp, y, p, prm):
        k = prm["kappa"]
        a, b = k * p, k * (1 - p)
        return (sp.loggamma(a) + sp.loggamma(b) - sp.loggamma(k)
                - (a - 1) * sp.log(y) - (b - 1) * sp.log(1 - y))

    def _nll(self, y, p, q, log_p, log_q):
        from scipy.special import gammaln
        k = self.params["kappa"]
        a, b = k * p, k * q
        log_beta = (gammaln(a + 1) + gammaln(b + 1) - (gammaln(k + 1) + math.log(k))
                    - log_p - log_q)
        return log_beta - (a - 1) * np.log(y) - (b - 1) * np.log1p(-y)

    def _value(self, y, p):
        return self._nll(y, p, 1 - p, np.log(p), np.log1p(-p))

    def _value_logit(self, y, z):
        return self._nll(y, sigmoid(z), sigmoid(-z), log_sigmoid(z), log_sigmoid(-z))

    def _grad(self, y, p):
        from scipy.special import digamma
        k = self.params["kappa"]
        a, b = k * p, k * (1 - p)
        return k * (digamma(a + 1) - 1 / a - digamma(b + 1) + 1 / b - logit(y))

    def _curvature(self, y, p):
        from scipy.special import polygamma
        k = self.params["kappa"]
        a, b = k * p, k * (1 - p)
        return k * k * (polygamma(1, a + 1) + 1 / (a * a) + polygamma(1, b + 1) + 1 / (b * b))

    def _grad_logit(self, y, z):
        # kappa p q [psi(a) - psi(b) - logit y] with psi(a) = psi(a+1) - 1/a and a = kappa p
        from scipy.special import digamma
        k = self.params["kappa"]
        p, q = sigmoid(z), sigmoid(-z)
        return k * p * q * (digamma(k * p + 1) - digamma(k * q + 1) - logit(y)) + (p - q)

    def _curvature_logit(self, y, z):
        # differentiating the gradient above: with G = kappa p q [psi(a+1) - psi(b+1) - logit y],
        # L_zz = (q - p) G + (kappa p q)^2 [psi'(a+1) + psi'(b+1)] + 2 p q, finite at z = +-1000
        from scipy.special import digamma, polygamma
        k = self.params["kappa"]
        p, q = sigmoid(z), sigmoid(-z)
        kpq = k * p * q
        G = kpq * (digamma(k * p + 1) - digamma(k * q + 1) - logit(y))
        return (q - p) * G + kpq * kpq * (polygamma(1, k * p + 1) + polygamma(1, k * q + 1)) \
            + 2 * p * q


class _Focal(Loss):
    """Binary focal loss with a soft target (Lin et al. 2017); gamma = 0 gives BCE.

    Not strictly proper for gamma > 0: its minimizer is pulled toward 1/2 (Charoenphakdee et al.
    2021; Mukhoti et al. 2020).
    """
    _param_spec = {"gamma": (2.0, _nonnegative, ">= 0")}

    def _build_expr(self, sp, y, p, prm):
        g = prm["gamma"]
        return -(y * (1 - p) ** g * sp.log(p) + (1 - y) * p ** g * sp.log(1 - p))

    def _value(self, y, p):
        g = self.params["gamma"]
        q = 1 - p
        with np.errstate(divide="ignore"):
            return 0.0 - (_where0(y, _where0(q ** g, np.log(p)))
                          + _where0(1 - y, _where0(p ** g, np.log1p(-p))))

    @staticmethod
    def _half_grad(w, u, v, log_v, g):
        """w [g u^(g-1) ln v - u^g / v] (one half of dL/dp, in the variables u = 1 - v, v).

        For the y-half u = q, v = p; the (1-y)-half enters with the opposite sign and u = p, v = q.
        At u = 0, u^(g-1) ln v -> 0 (ln v ~ -u); a term whose coefficient g is 0 is dropped.
        """
        out = -(u ** g) / v
        if g != 0:
            out = out + g * np.where(u == 0, 0, u ** (g - 1) * log_v)
        return _where0(w, out)

    def _grad(self, y, p):
        g = self.params["gamma"]
        q = 1 - p
        lp, lq = np.log(p), np.log1p(-p)
        return self._half_grad(y, q, p, lp, g) - self._half_grad(1 - y, p, q, lq, g)

    @staticmethod
    def _half_curv(w, u, v, log_v, g):
        """w [-g(g-1) u^(g-2) ln v + 2 g u^(g-1)/v + u^g/v^2], with its limits at u = 0
        (g (g+1) u^(g-1) to leading order: 0, 2, inf, and 1 for g = 0) and at v = 0 (+inf)."""
        inner = u ** g / (v * v)
        if g != 0:
            inner = inner + 2 * g * u ** (g - 1) / v
        if g not in (0, 1):
            inner = inner - g * (g - 1) * u ** (g - 2) * log_v
        lim = 0.0 if g > 1 else 2.0 if g == 1 else 1.0 if g == 0 else np.inf
        return _where0(w, np.where(u == 0, lim, np.where(v == 0, np.inf, inner)))

    def _curvature(self, y, p):
        g = self.params["gamma"]
        q = 1 - p
        lp, lq = np.log(p), np.log1p(-p)
        return self._half_curv(y, q, p, lp, g) + self._half_curv(1 - y, p, q, lq, g)

    def _value_logit(self, y, z):
        g = self.params["gamma"]
        sp_pos, sp_neg = softplus(z), softplus(-z)        # -ln(1-p), -ln p
        return y * np.exp(-g * sp_pos) * sp_neg + (1 - y) * np.exp(-g * sp_neg) * sp_pos

    def _grad_logit(self, y, z):
        g = self.params["gamma"]
        p, q = sigmoid(z), sigmoid(-z)
        sp_pos, sp_neg = softplus(z), softplus(-z)
        pg, qg = np.exp(-g * sp_neg), np.exp(-g * sp_pos)  # p^g, q^g
        return (y * (-g * p * qg * sp_neg - qg * q)
                + (1 - y) * (pg * p + g * pg * q * sp_pos))

    def _curvature_logit(self, y, z):
        # y p q^g [(2g+1) q - g q s_ + g^2 p s_] + (1-y) q p^g [(2g+1) p - g p s+ + g^2 q s+],
        # s_ = -ln p = softplus(-z), s+ = -ln q = softplus(z): every factor is bounded
        g = self.params["gamma"]
        p, q = sigmoid(z), sigmoid(-z)
        sp_pos, sp_neg = softplus(z), softplus(-z)
        pg, qg = np.exp(-g * sp_neg), np.exp(-g * sp_pos)
        return (y * p * qg * ((2 * g + 1) * q - g * q * sp_neg + g * g * p * sp_neg)
                + (1 - y) * q * pg * ((2 * g + 1) * p - g * p * sp_pos + g * g * q * sp_pos))


_CATALOGUE: dict[str, type[Loss]] = {
    "mse": _MSE,
    "mae": _MAE,
    "huber": _Huber,
    "bce": _BCE,
    "kl": _KL,
    "reverse_kl": _ReverseKL,
    "logit_mse": _LogitMSE,
    "gaussian_nll": _GaussianNLL,
    "continuous_bernoulli": _ContinuousBernoulli,
    "beta_nll": _BetaNLL,
    "focal": _Focal,
}

#: The catalogue's loss names.
LOSSES: tuple[str, ...] = tuple(_CATALOGUE)


def get_loss(name, **params) -> Loss:
    """The catalogue loss ``name`` with the given parameters (defaults for the others).

    A :class:`Loss` passed as ``name`` is returned as is (``params`` must then be empty).

    >>> get_loss("focal", gamma=1).params
    {'gamma': 1.0}
    """
    if isinstance(name, Loss):
        if params:
            raise ValueError("parameters cannot be given together with a Loss instance")
        return name
    if name not in _CATALOGUE:
        raise ValueError(f"unknown loss {name!r}; the catalogue has: {', '.join(LOSSES)}")
    return _CATALOGUE[name](name, params)
