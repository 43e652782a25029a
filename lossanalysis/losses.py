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
from typing import Callable

import numpy as np

from . import expressions
from ._inputs import check_range, finite_real, real_array
from ._stable import (  # noqa: F401  (the catalogue's building blocks; public ones re-exported)
    bernoulli_kl, cb_log_normalizer, cb_nll_logit, cb_residual, cb_variance,
    continuous_bernoulli_mean, continuous_bernoulli_mean_logit, log1p_unit, log_ratio_diff,
    log_sigmoid, log_sigmoid_unchecked, logit, logit_unchecked, residual, residual_logit,
    sigmoid, sigmoid_pair, sigmoid_unchecked, softplus, softplus_unchecked, where0,
)
from ._symbols import internal_symbols, symbols, to_public

__all__ = [
    "LOSSES", "Loss", "get_loss", "symbols", "sigmoid", "logit", "softplus", "log_sigmoid",
    "continuous_bernoulli_mean", "continuous_bernoulli_mean_logit",
]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# ----------------------------------------------------------------------------------------------
# The Loss type
# ----------------------------------------------------------------------------------------------
#: SymPy functions whose presence in an expression makes a loss non-smooth (a kink or a jump).
NONSMOOTH_FUNCTIONS = ("Abs", "sign", "Piecewise", "Heaviside", "Max", "Min", "DiracDelta",
                       "floor", "ceiling")


class Loss:
    """A reconstruction loss L(y, p): its SymPy definition and its NumPy numerics.

    Losses are made by :func:`get_loss` (the catalogue) or :meth:`Loss.from_expr` (your own);
    ``Loss(...)`` itself raises ``TypeError``.

    Every numeric method is vectorized and broadcasts, and a scalar input gives a NumPy scalar.
    The output dtype follows NumPy's promotion rules with a floor of float32: float32 arrays
    stay float32 also when the other argument is a Python number (a "weak" scalar: it is
    converted to float32), Python numbers and lists alone give float64, and a float64 array
    or NumPy float64 scalar makes the result float64.  With ``check=True`` (the default) bad
    input raises ``ValueError`` naming the argument; pass ``check=False`` in hot loops whose
    inputs are known to be valid.

    >>> import numpy as np
    >>> get_loss("bce").value(0.5, np.array([0.25], np.float32)).dtype
    dtype('float32')
    """

    #: False where the loss has a kink (mae at p = y, huber at |p - y| = delta); for a user
    #: loss, False when its expression contains one of :data:`NONSMOOTH_FUNCTIONS`.
    smooth = True
    #: "closed" when targets may be 0 or 1, "open" when they must lie strictly inside.
    target_domain = "closed"
    #: The unit of the value: "nats" for the log-likelihoods and Bernoulli divergences (and
    #: focal, a weighted log-loss), the distance's unit for the distances ("intensity²",
    #: "intensity", "logit²"), and "loss" for a user's expression, whose unit is unknown.
    unit = "nats"
    #: parameter name -> (default, validity test, description of the valid range)
    _param_spec: dict = {}

    def __new__(cls, *args, **kwargs):
        if cls is Loss:
            raise TypeError("a Loss is not constructed directly: use get_loss(name, **params) "
                            "for a catalogue loss (lossanalysis.LOSSES) or "
                            "Loss.from_expr(expr, name=..., params=...) for your own")
        return super().__new__(cls)

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
            value = finite_real(given.get(key, default), f"parameter {key} of loss {self.name!r}")
            if not ok(value):
                raise ValueError(f"parameter {key} of loss {self.name!r} must be {rule}; "
                                 f"got {value!r}")
            out[key] = value
        return out

    @classmethod
    def from_expr(cls, expr, name: str | None = None, params: dict | None = None) -> "Loss":
        """A loss of your own, from a string or a SymPy expression in ``y`` and ``p``.

        Parameters
        ----------
        expr : str or sympy.Expr
            The loss L(y, p).  A string is read by the safe parser
            (:func:`lossanalysis.expressions.parse`: numbers, y, p, the parameters, ``+ - * /
            **``, ``log``, ``exp``, ``sqrt``, ``Abs``, ``Min``, ``Max``, ``sigmoid``,
            ``softplus``, ``Piecewise``, ...); nothing in it is executed.  A SymPy expression
            may use plain symbols named y and p (``lossanalysis.y``, ``lossanalysis.p``) or
            ones with assumptions that hold on (0, 1).
        name : str, optional
            A name for reprs and reports (default ``"custom"``); not a catalogue name.
        params : dict, optional
            Values of the other symbols: identifiers (not y or p) -> finite real numbers.

        Returns
        -------
        Loss
            Its numerics are the lambdified expression and its derivatives (no stable
            hand-written forms exist for it).

        Raises
        ------
        ValueError
            A disallowed construct, an undefined function, a symbol without a value, an
            expression not real on the domain (checked on a grid of interior points), or one
            that does not depend on p.
        TypeError
            ``expr`` is neither a string nor a SymPy expression; ``params`` is not a dict.

        Examples
        --------
        >>> quartic = Loss.from_expr("(p - y)**4", name="quartic")
        >>> round(float(quartic.grad(0.2, 0.5)), 12)
        0.108
        >>> Loss.from_expr("a*(p - y)**2", name="scaled", params={"a": 3})
        Loss.from_expr('a*(p - y)**2', name='scaled', params={'a': 3.0})
        """
        return _ExprLoss(expr, name=name, params=params)

    # -- symbolic -------------------------------------------------------------------------------
    @property
    def expr(self):
        """The definition, a SymPy expression in :func:`symbols` (parameters substituted)."""
        return to_public(self._internal_expr)

    @property
    def _internal_expr(self):
        """The definition in the analysis' positive symbols
        (:func:`~lossanalysis._symbols.internal_symbols`)."""
        if self._expr is None:
            import sympy as sp
            y, p = internal_symbols()
            prm = {k: expressions.exact_number(v) for k, v in self.params.items()}
            self._expr = self._build_expr(sp, y, p, prm)
        return self._expr

    def _build_expr(self, sp, y, p, prm):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def expr_in(self, y=None, p=None):
        """The definition in symbols of your own, e.g. with assumptions.

        :attr:`expr` is written in plain symbols (``lossanalysis.y``, ``lossanalysis.p``, with
        no assumptions), so that ``sympy.Symbol("p")`` typed in a REPL is the same symbol.  A
        symbol with assumptions, ``sympy.Symbol("p", positive=True)``, is a *different* symbol
        to SymPy: ``sympy.diff(loss.expr, P)`` is then 0.  This returns the expression in your
        symbols, after checking that their assumptions hold on the domain [0, 1] (a symbol
        declared negative, integer, ... is refused: SymPy would simplify with a false premise).

        Parameters
        ----------
        y, p : sympy.Symbol, optional
            Your symbols for the target and the prediction (default: the plain ones).

        Returns
        -------
        sympy.Expr

        Raises
        ------
        ValueError
            A symbol whose assumptions do not hold for every value in [0, 1] (``positive=True``
            is accepted: the endpoints are limits).
        TypeError
            ``y`` or ``p`` is not a SymPy symbol.

        Examples
        --------
        >>> import sympy as sp
        >>> P = sp.Symbol("p", positive=True)
        >>> sp.diff(get_loss("mse").expr, P)              # P is not the symbol of expr
        0
        >>> sp.diff(get_loss("mse").expr_in(p=P), P)
        2*p - 2*y
        >>> get_loss("mse").expr_in(p=sp.Symbol("p", negative=True))
        Traceback (most recent call last):
        ...
        ValueError: p: the symbol p is declared negative=True, which does not hold on (0, 1)
        """
        import sympy as sp
        plain_y, plain_p = symbols()
        inner_y, inner_p = internal_symbols()
        swap = {}
        for arg, given, plain, inner in (("y", y, plain_y, inner_y), ("p", p, plain_p, inner_p)):
            if given is None:
                continue
            if not isinstance(given, sp.Symbol):
                raise TypeError(f"{arg} must be a SymPy symbol, got {type(given).__name__}")
            declared = getattr(given, "_assumptions_orig", None) or given.assumptions0
            for key, val in sorted(declared.items()):
                if key != "commutative" and getattr(inner, "is_" + key) is not val:
                    raise ValueError(f"{arg}: the symbol {given} is declared {key}={val}, which "
                                     "does not hold on (0, 1)")
            swap[plain] = given
        return self.expr.xreplace(swap)

    def latex(self) -> str:
        r"""The formula in LaTeX.

        >>> print(get_loss("mse").latex())
        \left(p - y\right)^{2}
        """
        import sympy as sp
        return sp.latex(self.expr)

    def _repr_latex_(self):
        r"""The formula as Jupyter displays it, ``$L_{\mathrm{name}}(y, p) = ...$``.

        >>> print(get_loss("kl")._repr_latex_()[:40])
        $\displaystyle L_{\mathrm{kl}}(y, p) = y
        """
        special = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}",
                   "^": r"\textasciicircum{}", **{c: "\\" + c for c in "_&%$#{}"}}
        name = "".join(special.get(c, c) for c in self.name)
        return rf"$\displaystyle L_{{\mathrm{{{name}}}}}(y, p) = {self.latex()}$"

    def _lambdify(self, which: str):
        """NumPy/SciPy function of (y, p) for 'value', 'grad' or 'curvature' of :attr:`expr`."""
        if which not in self._lambdified:
            import sympy as sp
            y, p = internal_symbols()
            from . import _calculus
            e = _calculus.derivative(self._internal_expr, p,
                                     {"value": 0, "grad": 1, "curvature": 2}[which])
            # Abs, sign and Heaviside differentiate into DiracDelta, which NumPy cannot
            # evaluate; off the kink it is 0, and at the kink the derivative is undefined anyway
            self._lambdified[which] = sp.lambdify((y, p), _calculus.numeric_form(e),
                                                  modules=["scipy", "numpy"])
        return self._lambdified[which]

    # -- public numerics ------------------------------------------------------------------------
    def _call(self, impl, y_in, x_in, arg, check):
        y = real_array(y_in, "y")
        x = real_array(x_in, arg)
        try:
            np.broadcast_shapes(y.shape, x.shape)
        except ValueError:
            raise ValueError(f"y with shape {y.shape} and {arg} with shape {x.shape} do not "
                             "broadcast together") from None
        # NumPy's promotion with Python numbers as weak scalars (a float32 array with 0.5 stays
        # float32), never below float32; Python numbers alone give float64
        weak = [type(v) in (int, float, bool) for v in (y_in, x_in)]
        dtype = np.dtype(np.float64) if all(weak) else np.result_type(
            *(v if w else a for v, w, a in zip((y_in, x_in), weak, (y, x))), np.float32)
        if check:   # on the values as given, before any cast
            check_range(y, "y", "target", 0, 1, open_=self.target_domain == "open")
            if arg == "p":
                check_range(x, "p", "prediction", 0, 1)
            elif not np.all(np.isfinite(x)):
                raise ValueError("z (logit) must be finite, got NaN or inf")
        with np.errstate(over="ignore"):
            y = y.astype(dtype, copy=False)
            x = x.astype(dtype, copy=False)
        if check and arg == "z" and not np.all(np.isfinite(x)):
            raise ValueError(f"z (logit) overflows {dtype} (|z| > {np.finfo(dtype).max:g}); "
                             "pass it as a float64 array")
        with np.errstate(all="ignore"):
            if self._params_fit(dtype):
                outs = impl(y, x)
            else:   # a parameter the dtype cannot hold (float32, sigma = 1e-40): use float64
                outs = impl(y.astype(np.float64), x.astype(np.float64))
        single = not isinstance(outs, tuple)
        shape = np.broadcast_shapes(y.shape, x.shape)
        results = []
        for out in ((outs,) if single else outs):
            out = self._real(out, dtype, y, x, arg)
            if out.shape != shape:
                out = np.broadcast_to(out, shape).copy()
            if check and np.isnan(out).any():
                i = np.flatnonzero(np.isnan(out).ravel())[0]
                yb, xb = np.broadcast_arrays(y, x)
                raise ValueError(f"loss {self.name!r} is undefined (NaN) at "
                                 f"y={float(yb.ravel()[i])!r}, {arg}={float(xb.ravel()[i])!r}")
            results.append(out[()] if out.ndim == 0 else out)
        return results[0] if single else tuple(results)

    def _real(self, out, dtype, y, x, arg):
        """``out`` as a real array of ``dtype``; a complex value (only a user loss can give
        one, outside the grid its construction checked) is an error, never silently dropped."""
        out = np.asarray(out)
        if out.dtype.kind == "c":
            yb, xb, ob = (a.ravel() for a in np.broadcast_arrays(y, x, out))
            bad = np.flatnonzero(ob.imag != 0)
            if bad.size:
                raise ValueError(f"loss {self.name!r} is not real at y={float(yb[bad[0]])!r}, "
                                 f"{arg}={float(xb[bad[0]])!r}")
            out = out.real
        try:
            with np.errstate(over="ignore"):     # beyond float32's range is inf, correctly
                return np.asarray(out, dtype=dtype)
        except (TypeError, ValueError):
            raise ValueError(f"loss {self.name!r} did not evaluate to real numbers") from None

    def _params_fit(self, dtype):
        """Whether every parameter is 0 or a normal number of ``dtype``: NumPy converts a
        Python float to the array's dtype, and a parameter that underflows there (gamma = 1e-40
        in float32 becomes 0) would silently change the loss."""
        fi = np.finfo(dtype)
        return all(v == 0 or fi.tiny <= abs(v) <= fi.max for v in self.params.values())

    def value(self, y, p, *, check=True):
        """L(y, p).

        Parameters
        ----------
        y : array_like
            Targets in [0, 1] (in (0, 1) for ``beta_nll``).
        p : array_like
            Predictions in [0, 1]; broadcasts with ``y``.
        check : bool
            Validate the inputs and refuse a NaN result (``ValueError`` naming the argument).

        Returns
        -------
        ndarray or NumPy scalar
            The dtype follows the inputs (see :class:`Loss`).

        >>> float(get_loss("bce").value(1.0, 0.5)) == math.log(2)
        True
        """
        return self._call(self._value, y, p, "p", check)

    def excess(self, y, p, *, check=True):
        """L(y, p) - L(y, y), without cancellation where a stable form is known (the Bernoulli
        KL for the cross-entropy family); 0 at p = y, also where L(y, y) is infinite.

        >>> float(get_loss("mse").excess(0.2, 0.5))
        0.09
        """
        return self._call(self._excess, y, p, "p", check)

    def grad(self, y, p, *, check=True):
        """dL/dp.

        >>> float(get_loss("bce").grad(0.25, 0.5))     # (p - y)/(p (1 - p))
        1.0
        """
        return self._call(self._grad, y, p, "p", check)

    def curvature(self, y, p, *, check=True):
        """d2L/dp2.

        >>> float(get_loss("mse").curvature(0.2, 0.9))
        2.0
        """
        return self._call(self._curvature, y, p, "p", check)

    def value_logit(self, y, z, *, check=True):
        """L(y, sigmoid(z)) for a finite logit ``z`` (stable at |z| = 1000).

        >>> float(get_loss("bce").value_logit(0.0, -1000.0))
        0.0
        """
        return self._call(self._value_logit, y, z, "z", check)

    def grad_logit(self, y, z, *, check=True):
        """dL/dz with p = sigmoid(z): dL/dp p (1 - p).

        >>> float(get_loss("bce").grad_logit(0.25, 0.0))   # p - y
        0.25
        """
        return self._call(self._grad_logit, y, z, "z", check)

    def curvature_logit(self, y, z, *, check=True):
        """d2L/dz2 with p = sigmoid(z): L_pp (p q)^2 + L_p p q (q - p), q = 1 - p.

        >>> float(get_loss("bce").curvature_logit(0.3, 0.0))  # p (1 - p)
        0.25
        """
        return self._call(self._curvature_logit, y, z, "z", check)

    def value_and_grad_logit(self, y, z, *, check=True):
        """``(value_logit(y, z), grad_logit(y, z))``, the same numbers, in one pass where the
        two share work (the cross-entropy family computes exp(-|z|) once): what a training
        step needs.

        >>> v, g = get_loss("bce").value_and_grad_logit(1.0, 0.0)
        >>> float(v) == math.log(2), float(g)
        (True, -0.5)
        """
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
        return self._value(y, sigmoid_unchecked(z))

    def _grad_logit(self, y, z):
        p, q = sigmoid_unchecked(z), sigmoid_unchecked(-z)
        return self._grad(y, p) * (p * q)

    def _value_and_grad_logit(self, y, z):
        return self._value_logit(y, z), self._grad_logit(y, z)

    def _curvature_logit(self, y, z):
        # d2L/dz2 = L_pp (pq)^2 + L_p pq (1 - 2p), with 1 - 2p = q - p
        p, q = sigmoid_unchecked(z), sigmoid_unchecked(-z)
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
    """A loss given by the user as an expression; numerics are lambdified.

    The expression is checked once, at construction, by
    :func:`lossanalysis.expressions.loss_expression` (the safe parser for strings, the same
    rules for SymPy input, and a numeric check on a grid of interior points).
    """
    unit = "loss"

    def __init__(self, expr, name=None, params=None):
        import sympy as sp
        name = _user_name(name)
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of parameter values, got "
                            f"{type(params).__name__}")
        expressions.check_param_names(params)
        values = {k: finite_real(v, f"params[{k!r}]") for k, v in params.items()}
        source, internal, funcs = expressions.loss_expression(expr, values)
        self._param_spec = {k: (v, math.isfinite, "finite") for k, v in values.items()}
        super().__init__(name, values)
        self._source = source
        self._expr = internal
        self._lambdified = dict(funcs)
        self.smooth = not self._expr.has(*(getattr(sp, f) for f in NONSMOOTH_FUNCTIONS))

    def __getstate__(self):
        # lambdified functions do not pickle; they are rebuilt on first use
        state = self.__dict__.copy()
        state["_lambdified"] = {}
        return state

    def __repr__(self):
        params = f", params={self.params!r}" if self.params else ""
        return f"Loss.from_expr({str(self._source)!r}, name={self.name!r}{params})"


def _user_name(name):
    if name is None:
        return "custom"
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if not name.strip():
        raise ValueError("name must not be empty")
    if name in _CATALOGUE:
        raise ValueError(f"name {name!r} is a catalogue loss (get_loss({name!r})); choose "
                         "another name for your own loss")
    return name


# ----------------------------------------------------------------------------------------------
# The catalogue
# ----------------------------------------------------------------------------------------------
def _positive(v):
    return v > 0


class _Difference(Loss):
    """A loss f(d) + c of the residual d = p - y: every method from f, f', f'' and c.

    In the logit domain d = p (1 - y) - q y (:func:`residual`), so that the residual keeps its
    digits where sigmoid(z) rounds toward 1.
    """

    def _f(self, d):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _f1(self, d):  # pragma: no cover
        raise NotImplementedError

    def _f2(self, d):  # pragma: no cover
        raise NotImplementedError

    def _const(self):
        """The constant c (the value at d = 0)."""
        return 0.0

    def _value(self, y, p):
        return self._f(p - y) + self._const()

    def _excess(self, y, p):
        return self._f(p - y)

    def _grad(self, y, p):
        return self._f1(p - y)

    def _curvature(self, y, p):
        return self._f2(p - y)

    def _value_logit(self, y, z):
        return self._f(residual_logit(y, z, np.exp(-np.abs(z)))) + self._const()

    def _grad_logit(self, y, z):
        d, pq = residual_logit(y, z, np.exp(-np.abs(z)), want_pq=True)
        return self._f1(d) * pq

    def _value_and_grad_logit(self, y, z):
        d, pq = residual_logit(y, z, np.exp(-np.abs(z)), want_pq=True)
        return self._f(d) + self._const(), self._f1(d) * pq

    def _curvature_logit(self, y, z):
        # d2L/dz2 = f''(d) (pq)^2 + f'(d) pq (q - p)
        p, q = sigmoid_pair(z, np.exp(-np.abs(z)))
        d, s = residual(y, p, q), p * q
        return self._f2(d) * s * s + self._f1(d) * s * (q - p)


class _MSE(_Difference):
    """Mean squared error (p - y)^2, the Brier score of one pixel."""
    unit = "intensity²"

    def _build_expr(self, sp, y, p, prm):
        return (p - y) ** 2

    def _f(self, d):
        return d * d

    def _f1(self, d):
        return 2 * d

    def _f2(self, d):
        return np.full_like(d, 2)


class _MAE(_Difference):
    """Mean absolute error |p - y|: minimized by the median, not the mean."""
    unit = "intensity"
    smooth = False

    def _build_expr(self, sp, y, p, prm):
        return sp.Abs(p - y)

    def _f(self, d):
        return np.abs(d)

    def _f1(self, d):
        return np.sign(d)

    def _f2(self, d):
        return np.zeros_like(d)


class _Huber(_Difference):
    """Huber (1964): d^2/2 for |d| <= delta, delta (|d| - delta/2) beyond, d = p - y.

    The default delta = 0.1 is chosen for intensities in [0, 1]: PyTorch's default delta = 1
    would make the loss quadratic (MSE/2) everywhere on this domain.
    """
    unit = "intensity²"
    smooth = False
    _param_spec = {"delta": (0.1, _positive, "> 0")}

    def _build_expr(self, sp, y, p, prm):
        d, delta = p - y, prm["delta"]
        return sp.Piecewise((d ** 2 / 2, sp.Abs(d) <= delta), (delta * (sp.Abs(d) - delta / 2),
                                                                 True))

    def _f(self, d):
        delta = self.params["delta"]
        a = np.abs(d)
        return np.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta))

    def _f1(self, d):
        delta = self.params["delta"]
        return np.clip(d, -delta, delta)

    def _f2(self, d):
        return (np.abs(d) <= self.params["delta"]).astype(d.dtype)


def _bce_logit(y, z):
    """BCE at p = sigmoid(z) and its logit gradient p - y, sharing exp(-|z|).

    y softplus(-z) + (1 - y) softplus(z) = (1 - y) max(z, 0) + y max(-z, 0) + ln(1 + e^-|z|):
    a sum of non-negative terms, so no cancellation.  The gradient is :func:`residual`.
    """
    e = np.exp(-np.abs(z))
    value = (1 - y) * np.maximum(z, 0) + y * np.maximum(-z, 0) + log1p_unit(e)
    return value, residual_logit(y, z, e)


class _BCE(Loss):
    """Binary cross-entropy, the log score of Bern(p) at a soft target y."""

    def _build_expr(self, sp, y, p, prm):
        return -(y * sp.log(p) + (1 - y) * sp.log(1 - p))

    def _value(self, y, p):
        with np.errstate(divide="ignore"):
            return 0.0 - (where0(y, np.log(p)) + where0(1 - y, np.log1p(-p)))

    def _excess(self, y, p):
        return bernoulli_kl(y, p, 1 - y, 1 - p)

    def _grad(self, y, p):
        # (p - y)/(p(1 - p)) inside; at p = 0 or 1 the limits of -y/p + (1-y)/(1-p)
        pq = p * (1 - p)
        inner = (p - y) / np.where(pq == 0, 1, pq)
        at0 = np.where(y == 0, 1, -np.inf)
        at1 = np.where(y == 1, -1, np.inf)
        return np.where(p == 0, at0, np.where(p == 1, at1, inner))

    def _curvature(self, y, p):
        # y/p^2 + (1-y)/q^2, dividing twice: p^2 underflows for p < 1e-154 where y/p/p does not
        q, w = 1 - p, 1 - y
        return np.where(y == 0, 0, y / p / p) + np.where(w == 0, 0, w / q / q)

    def _value_and_grad_logit(self, y, z):
        return _bce_logit(y, z)

    def _value_logit(self, y, z):
        return _bce_logit(y, z)[0]

    def _grad_logit(self, y, z):
        return _bce_logit(y, z)[1]

    def _curvature_logit(self, y, z):
        return sigmoid_unchecked(z) * sigmoid_unchecked(-z)


def _entropy(y):
    """Shannon entropy of Bern(y) in nats."""
    with np.errstate(divide="ignore"):
        return -(where0(y, np.log(y)) + where0(1 - y, np.log1p(-y)))


class _KL(_BCE):
    """KL(Bern(y) || Bern(p)) = bce - H(y): the zero-normalized BCE (0 at p = y)."""

    def _build_expr(self, sp, y, p, prm):
        return y * sp.log(y / p) + (1 - y) * sp.log((1 - y) / (1 - p))

    def _value(self, y, p):
        return bernoulli_kl(y, p, 1 - y, 1 - p)

    _excess = _value

    def _value_logit(self, y, z):
        p, q = sigmoid_pair(z, np.exp(-np.abs(z)))
        stable = bernoulli_kl(y, p, 1 - y, q, residual(y, p, q))
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
        return bernoulli_kl(p, y, 1 - p, 1 - y)

    _excess = _value

    def _grad(self, y, p):
        inner = log_ratio_diff(y, p)
        # at the edges: +inf when moving up from the boundary value, -inf when moving down
        edge = np.where(p == y, np.where(y == 0, np.inf, -np.inf),
                        np.where(p > y, np.inf, -np.inf))
        return np.where((y == 0) | (y == 1) | (p == 0) | (p == 1), edge, inner)

    def _curvature(self, y, p):
        return 1 / (p * (1 - p))

    def _value_logit(self, y, z):
        p, q = sigmoid_pair(z, np.exp(-np.abs(z)))
        v = bernoulli_kl(p, y, q, 1 - y, -residual(y, p, q))
        return np.where((y == 0) | (y == 1), np.inf, v)

    def _grad_logit(self, y, z):
        v = (z - logit_unchecked(y)) * (sigmoid_unchecked(z) * sigmoid_unchecked(-z))
        return np.where(y == 0, np.inf, np.where(y == 1, -np.inf, v))

    def _curvature_logit(self, y, z):
        # d/dz [(z - logit y) p q] = p q [1 + (z - logit y)(q - p)]
        p, q = sigmoid_unchecked(z), sigmoid_unchecked(-z)
        v = p * q * (1 + (z - logit_unchecked(y)) * (q - p))
        return np.where((y == 0) | (y == 1), np.inf, v)


class _LogitMSE(Loss):
    """Squared error between logits: (logit p - logit y)^2."""
    unit = "logit²"

    def _build_expr(self, sp, y, p, prm):
        return (sp.log(p / (1 - p)) - sp.log(y / (1 - y))) ** 2

    def _diff(self, y, p):
        edge = np.where(p == y, 0, np.where(p > y, np.inf, -np.inf))
        return np.where((y == 0) | (y == 1) | (p == 0) | (p == 1), edge, log_ratio_diff(y, p))

    def _value(self, y, p):
        return self._diff(y, p) ** 2

    _excess = _value

    def _grad(self, y, p):
        pq = p * (1 - p)
        inner = 2 * self._diff(y, p) / pq
        return np.where((pq == 0) & (p == y), np.where(y == 0, np.inf, -np.inf), inner)

    def _curvature(self, y, p):
        # dividing by pq twice: (pq)^2 is subnormal (inaccurate) for p < 1e-154
        pq = p * (1 - p)
        return np.where(pq == 0, np.inf, 2 * (1 - self._diff(y, p) * (1 - 2 * p)) / pq / pq)

    def _value_logit(self, y, z):
        return (z - logit_unchecked(y)) ** 2

    def _grad_logit(self, y, z):
        return 2 * (z - logit_unchecked(y))

    def _curvature_logit(self, y, z):
        return np.full(np.broadcast_shapes(y.shape, z.shape), 2, dtype=z.dtype)


class _GaussianNLL(_Difference):
    """Negative log-density of N(p, sigma^2) at y (Rybkin et al. 2021).

    The residual is divided by sigma before squaring, (d/sigma)^2/2, so that a small sigma
    overflows to the true inf instead of dividing by an underflowed sigma^2 (sigma = 1e-170
    was a ZeroDivisionError).  sigma >= 1e-8 keeps the derivative d/sigma^2 below 1e16, so
    that the logit gradient d/sigma^2 p q, where p q underflows (|z| > 745), is 0 to within
    the smallest normal number instead of inf * 0.
    """
    _param_spec = {"sigma": (1.0, lambda v: v >= 1e-8, ">= 1e-8")}

    def _build_expr(self, sp, y, p, prm):
        s = prm["sigma"]
        return (p - y) ** 2 / (2 * s ** 2) + sp.log(s) + sp.log(2 * sp.pi) / 2

    def _over_sigma(self, d):
        return d / self.params["sigma"]

    def _const(self):
        return math.log(self.params["sigma"]) + _HALF_LOG_2PI

    def _f(self, d):
        r = self._over_sigma(d)
        return 0.5 * (r * r)

    def _f1(self, d):
        return self._over_sigma(self._over_sigma(d))

    def _f2(self, d):
        return self._over_sigma(self._over_sigma(np.ones_like(d)))


class _ContinuousBernoulli(Loss):
    """NLL of the continuous Bernoulli with parameter lambda = p: bce - ln C(p).

    In the natural parameter z = logit p the NLL is A(z) - y z with A(z) = ln((e^z - 1)/z), so
    dL/dz = mu(z) - y (mu the CB mean) and d2L/dz2 = A''(z) (Loaiza-Ganem & Cunningham 2019).
    """

    def _build_expr(self, sp, y, p, prm):
        bce = -(y * sp.log(p) + (1 - y) * sp.log(1 - p))
        return bce - sp.log(2 * sp.atanh(1 - 2 * p) / (1 - 2 * p))

    def _value(self, y, p):
        v = _BCE._value(self, y, p) - cb_log_normalizer(p)
        # at p = 0 (1) the density concentrates at 0 (1): -inf where y equals it, +inf elsewhere
        at0 = np.where(y == 0, -np.inf, np.inf)
        at1 = np.where(y == 1, -np.inf, np.inf)
        return np.where(p == 0, at0, np.where(p == 1, at1, v))

    def _grad(self, y, p):
        pq = p * (1 - p)
        inner = cb_residual(logit_unchecked(p), y) / np.where(pq == 0, 1, pq)
        at0 = np.where(y == 0, np.inf, -np.inf)
        at1 = np.where(y == 1, -np.inf, np.inf)
        return np.where(p == 0, at0, np.where(p == 1, at1, inner))

    def _curvature(self, y, p):
        # A''(z) - (1 - 2p)(mu(z) - y) cancels by up to a factor 8 near the minimum (at
        # y = 0.2, p = 0.3: 0.080 - 0.092), which in float32 costs ~3 bits of the few-ulp
        # errors of both terms (190 ulps seen on one CPU).  Evaluated in float64, it is rounded
        # once to the caller's dtype (the networks train in the logit, never with this form).
        y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
        pq = p * (1 - p)
        z = logit_unchecked(p)
        pq1 = np.where(pq == 0, 1, pq)
        inner = (cb_variance(z) - (1 - 2 * p) * cb_residual(z, y)) / pq1 / pq1
        edge = np.where(((p == 0) & (y == 0)) | ((p == 1) & (y == 1)), -np.inf, np.inf)
        return np.where(pq == 0, edge, inner)

    def _value_logit(self, y, z):
        return cb_nll_logit(z, y)

    def _grad_logit(self, y, z):
        return cb_residual(z, y)

    def _curvature_logit(self, y, z):
        return cb_variance(z)


class _BetaNLL(Loss):
    """-ln Beta(y; kappa p, kappa (1 - p)): a Beta likelihood with mean p and concentration kappa.

    ln B(a, b) is evaluated as lgamma(a+1) + lgamma(b+1) - lgamma(kappa+1) - ln kappa - ln p -
    ln(1-p) (using Gamma(a) = Gamma(a+1)/a and a + b = kappa), which stays finite in the logit
    form at z = +-1000; likewise psi(a) = psi(a+1) - 1/a in the gradient.  Its terms are
    several times the value near the minimum, so every method works in float64 (in float32
    the value at y = 0.5, p = 0.3 kept only four digits) and rounds the result once.

    kappa is limited to [1e-6, 1e3]: the ln Gamma terms grow as kappa ln kappa and cancel, so
    the relative error grows with kappa (measured against mpmath: 3e-14 at kappa = 100, 1e-12
    at 1e3, 1e-7 at 1e10), and below 1e-6 kappa^2 underflows in the curvature at p = 0.
    """
    target_domain = "open"
    _param_spec = {"kappa": (10.0, lambda v: 1e-6 <= v <= 1e3, "in [1e-6, 1e3]")}

    def _call(self, impl, y, x, arg, check):
        def in_float64(yy, xx):
            return impl(yy.astype(np.float64), xx.astype(np.float64))
        return super()._call(in_float64, y, x, arg, check)

    def _build_expr(self, sp, y, p, prm):
        k = prm["kappa"]
        a, b = k * p, k * (1 - p)
        # ln Gamma(kappa) is a constant; SymPy would evaluate it exactly as ln((kappa-1)!),
        # an integer of thousands of digits for a large integer kappa: keep it symbolic there
        log_gamma_k = sp.loggamma(k, evaluate=bool(k.is_Number and k <= 100))
        return (sp.loggamma(a) + sp.loggamma(b) - log_gamma_k
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
        return self._nll(y, sigmoid_unchecked(z), sigmoid_unchecked(-z),
                         log_sigmoid_unchecked(z), log_sigmoid_unchecked(-z))

    def _grad(self, y, p):
        from scipy.special import digamma
        k = self.params["kappa"]
        a, b = k * p, k * (1 - p)
        return k * (digamma(a + 1) - 1 / a - digamma(b + 1) + 1 / b - logit_unchecked(y))

    def _curvature(self, y, p):
        from scipy.special import polygamma
        k = self.params["kappa"]
        a, b = k * p, k * (1 - p)
        return k * k * (polygamma(1, a + 1) + 1 / (a * a) + polygamma(1, b + 1) + 1 / (b * b))

    def _grad_logit(self, y, z):
        # kappa p q [psi(a) - psi(b) - logit y] with psi(a) = psi(a+1) - 1/a and a = kappa p
        from scipy.special import digamma
        k = self.params["kappa"]
        p, q = sigmoid_unchecked(z), sigmoid_unchecked(-z)
        return k * p * q * (digamma(k * p + 1) - digamma(k * q + 1) - logit_unchecked(y)) + (p - q)

    def _curvature_logit(self, y, z):
        # differentiating the gradient above: with G = kappa p q [psi(a+1) - psi(b+1) - logit y],
        # L_zz = (q - p) G + (kappa p q)^2 [psi'(a+1) + psi'(b+1)] + 2 p q, finite at z = +-1000
        from scipy.special import digamma, polygamma
        k = self.params["kappa"]
        p, q = sigmoid_unchecked(z), sigmoid_unchecked(-z)
        kpq = k * p * q
        G = kpq * (digamma(k * p + 1) - digamma(k * q + 1) - logit_unchecked(y))
        return (q - p) * G + kpq * kpq * (polygamma(1, k * p + 1) + polygamma(1, k * q + 1)) \
            + 2 * p * q


class _Focal(Loss):
    """Binary focal loss with a soft target (Lin et al. 2017); gamma = 0 gives BCE.

    Not strictly proper for gamma > 0: its minimizer is pulled toward 1/2 (Charoenphakdee et al.
    2021; Mukhoti et al. 2020).
    """
    # gamma <= 100: beyond, p^gamma and q^gamma underflow against infinite logarithms (NaN at
    # gamma = 1e300); focal losses in use take gamma <= 5
    _param_spec = {"gamma": (2.0, lambda v: 0 <= v <= 100, "in [0, 100]")}

    def _build_expr(self, sp, y, p, prm):
        g = prm["gamma"]
        return -(y * (1 - p) ** g * sp.log(p) + (1 - y) * p ** g * sp.log(1 - p))

    def _value(self, y, p):
        g = self.params["gamma"]
        q = 1 - p
        with np.errstate(divide="ignore"):
            return 0.0 - (where0(y, where0(q ** g, np.log(p)))
                          + where0(1 - y, where0(p ** g, np.log1p(-p))))

    @staticmethod
    def _log_ratio_u(u, log_v):
        """ln(v)/u with v = 1 - u: bounded (-> -1 as u -> 0), unlike u^(g-1) or u^(g-2) alone,
        which overflow for tiny u when g < 1 (g < 2) and then meet ln v ~ -u as inf * 0."""
        return log_v / np.where(u == 0, 1, u)

    @classmethod
    def _half_grad(cls, w, u, v, log_v, g):
        """w [g u^(g-1) ln v - u^g / v] (one half of dL/dp, in the variables u = 1 - v, v),
        computed as -u^g [w/v - g w ln(v)/u]: two terms of one sign, and w/v in one division
        (w (1/v) rounds twice: the BCE's gradient at y = p = 1e-300 was 1e-16, not 0).

        For the y-half u = q, v = p; the (1-y)-half enters with the opposite sign and u = p, v = q.
        At u = 0 the half is 0 for g > 0 (ln v ~ -u); a term whose coefficient g is 0 is dropped.
        """
        out = w / v
        if g != 0:
            out = out - g * (w * cls._log_ratio_u(u, log_v))
        return np.where(w == 0, 0, -(u ** g) * out)

    def _grad(self, y, p):
        g = self.params["gamma"]
        q = 1 - p
        lp, lq = np.log(p), np.log1p(-p)
        return self._half_grad(y, q, p, lp, g) - self._half_grad(1 - y, p, q, lq, g)

    @classmethod
    def _half_curv(cls, w, u, v, log_v, g):
        """w [-g(g-1) u^(g-2) ln v + 2 g u^(g-1)/v + u^g/v^2], with its limits at u = 0
        (g (g+1) u^(g-1) to leading order: 0, 2, inf, and 1 for g = 0) and at v = 0 (+inf).

        Computed as w [u^g/v^2 + u^(g-1) (2g/v - g(g-1) ln(v)/u)]: the bracket is positive for
        every g >= 0 (ln(v)/u <= -1 and -ln v <= (1 - v)/v), so nothing cancels, and
        u^(g-2) ln v -- inf times a tiny number for u = 1e-300 and g < 2 -- is never formed.
        """
        wv = w / v                       # w/v^2 = (w/v)/v: no overflow of 1/v^2 for w << 1
        inner = u ** g * wv / v
        if g != 0:
            bracket = 2 * g * wv
            if g != 1:
                bracket = bracket - g * (g - 1) * (w * cls._log_ratio_u(u, log_v))
            inner = inner + u ** (g - 1) * bracket
        lim = 0.0 if g > 1 else 2.0 if g == 1 else 1.0 if g == 0 else np.inf
        return np.where(w == 0, 0, np.where(u == 0, w * lim, np.where(v == 0, np.inf, inner)))

    def _curvature(self, y, p):
        g = self.params["gamma"]
        q = 1 - p
        lp, lq = np.log(p), np.log1p(-p)
        return self._half_curv(y, q, p, lp, g) + self._half_curv(1 - y, p, q, lq, g)

    def _value_logit(self, y, z):
        g = self.params["gamma"]
        sp_pos, sp_neg = softplus_unchecked(z), softplus_unchecked(-z)        # -ln(1-p), -ln p
        return y * np.exp(-g * sp_pos) * sp_neg + (1 - y) * np.exp(-g * sp_neg) * sp_pos

    def _grad_logit(self, y, z):
        g = self.params["gamma"]
        p, q = sigmoid_unchecked(z), sigmoid_unchecked(-z)
        sp_pos, sp_neg = softplus_unchecked(z), softplus_unchecked(-z)
        pg, qg = np.exp(-g * sp_neg), np.exp(-g * sp_pos)  # p^g, q^g
        return (y * (-g * p * qg * sp_neg - qg * q)
                + (1 - y) * (pg * p + g * pg * q * sp_pos))

    def _curvature_logit(self, y, z):
        # y p q^g [(2g+1) q - g q s_ + g^2 p s_] + (1-y) q p^g [(2g+1) p - g p s+ + g^2 q s+],
        # s_ = -ln p = softplus(-z), s+ = -ln q = softplus(z): every factor is bounded
        g = self.params["gamma"]
        p, q = sigmoid_unchecked(z), sigmoid_unchecked(-z)
        sp_pos, sp_neg = softplus_unchecked(z), softplus_unchecked(-z)
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

    Parameters
    ----------
    name : str or Loss
        A catalogue name (below; also ``lossanalysis.LOSSES``).  A :class:`Loss` is returned
        as is (``params`` must then be empty).
    **params : float
        The loss's parameters, each a finite number in its valid range (below).

    Returns
    -------
    Loss

    Raises
    ------
    ValueError
        An unknown name or parameter, or a parameter outside its range.
    TypeError
        ``name`` is neither a string nor a Loss.

    The catalogue
    -------------
{catalogue}

    Examples
    --------
    >>> get_loss("focal", gamma=1).params
    {{'gamma': 1.0}}
    >>> get_loss("huber")
    get_loss('huber', delta=0.1)
    """
    if isinstance(name, Loss):
        if params:
            raise ValueError("parameters cannot be given together with a Loss instance")
        return name
    if not isinstance(name, str):
        raise TypeError(f"name must be a catalogue loss name (a str: {', '.join(LOSSES)}) or a "
                        f"Loss, got {type(name).__name__}")
    if name not in _CATALOGUE:
        raise ValueError(f"unknown loss {name!r}; the catalogue has: {', '.join(LOSSES)}")
    return _CATALOGUE[name](name, params)



# ----------------------------------------------------------------------------------------------
# For the analysis and the proofs (public to the package, not re-exported to users)
# ----------------------------------------------------------------------------------------------
def as_loss(loss) -> Loss:
    """A catalogue loss from a name, or the Loss itself; ValueError naming ``loss`` otherwise.

    >>> as_loss("mse") == get_loss("mse")
    True
    >>> as_loss("nope")
    Traceback (most recent call last):
    ...
    ValueError: loss: unknown loss 'nope'; the catalogue has: mse, mae, ...
    """
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        try:
            return get_loss(loss)
        except ValueError as err:
            raise ValueError(f"loss: {err}") from None
    raise ValueError(f"loss must be a catalogue name or a Loss, got {type(loss).__name__}")


def is_catalogue(loss: Loss) -> bool:
    """True for the catalogue's own losses (any parameters), False for a user's loss.

    The analysis trusts the catalogue: its losses need no symbolic budget, and their dL/dp
    changes sign exactly once on (0, 1), from - to + (a single stationary point, the minimum;
    checked against the global search for every catalogue loss over its parameter range in the
    tests).  A user loss (``Loss.from_expr``) carries no such guarantee.

    >>> is_catalogue(get_loss("focal", gamma=3)), is_catalogue(Loss.from_expr("(p - y)**4"))
    (True, False)
    """
    return type(loss) is _CATALOGUE.get(loss.name)


def internal_expr(loss: Loss, free=None):
    """The definition of ``loss`` in the analysis' positive symbols
    (:func:`~lossanalysis._symbols.internal_symbols`), its parameters substituted.

    Parameters
    ----------
    loss : Loss
    free : sympy.Symbol, optional
        A symbol named as one of a catalogue loss's parameters: that parameter is left as this
        symbol (the expression over the parameter's range, which the proofs read).

    Raises
    ------
    ValueError
        ``free`` names no parameter of a catalogue loss.

    >>> internal_expr(get_loss("mse"))
    (p - y)**2
    >>> import sympy as sp
    >>> delta = sp.Symbol("delta", positive=True)
    >>> internal_expr(get_loss("huber"), delta).has(delta)
    True
    """
    if free is None:
        return loss._internal_expr
    if not is_catalogue(loss) or str(free) not in loss.params:
        raise ValueError(f"free: {free} is not a parameter of the catalogue loss {loss.name}")
    import sympy as sp
    y, p = internal_symbols()
    prm = {k: expressions.exact_number(v) for k, v in loss.params.items()}
    prm[str(free)] = free
    return loss._build_expr(sp, y, p, prm)


def _catalogue_doc() -> str:
    """One entry per catalogue loss, from the classes themselves: name, parameters with
    defaults and valid ranges, and the first line of the class's documentation."""
    lines = []
    for key, cls in _CATALOGUE.items():
        spec = ", ".join(f"{k} = {d:g} ({rule})" for k, (d, _, rule) in cls._param_spec.items())
        summary = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())
        if cls.target_domain == "open":
            summary += " Targets y strictly inside (0, 1)."
        lines.append(f"    {key}" + (f" : {spec}" if spec else ""))
        lines.append(f"        {summary}")
    return "\n".join(lines)


if get_loss.__doc__:  # None under python -OO
    get_loss.__doc__ = get_loss.__doc__.format(catalogue=_catalogue_doc())
