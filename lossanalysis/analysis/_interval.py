"""Interval enclosures of a SymPy expression (private): the certificate of the global search.

:class:`Enclosure` compiles a SymPy expression once into a flat program and evaluates it on
arrays of boxes (one interval per variable and row): for every row it returns bounds lo <= f(x)
<= hi valid for *every* point x of the box, and a flag marking rows where the box may contain a
kink or jump of the expression (an ``Abs``, ``sign``, ``Heaviside``, ``Max``/``Min`` crossing, an
undecided ``Piecewise`` condition, a pole, the edge of a function's domain).

Rigor.  Each operation computes its result from the endpoints in float64 and rounds it
outward: a sum by exactly the float it was rounded past (its rounding error recovered without
error, Knuth's TwoSum: a relative widening would be wrong after cancellation), a product or
quotient by 1 ulp (IEEE rounding is within half an ulp; none for a factor +-2^k), an
elementary function by 4 ulp plus the smallest normal number (glibc's exp, log, sin, ... are
within 1 ulp) and SciPy's special functions (erf, gamma, polygamma) by a relative 1e-13.  Monotone
functions are evaluated at the endpoints; sin and cos, cosh, gamma and loggamma (minimum at
1.4616...) add their interior extrema.  A point outside a function's real domain (log of a
negative number, sqrt of one) is one where NumPy gives NaN and the global search counts the loss
as +inf, so the enclosure covers the defined part only; a box entirely outside is *empty*
(lo = +inf > hi = -inf) and excluded by the search.  Anything the program does not know (an
unknown function, inf - inf, 0 * inf) becomes [-inf, +inf]: never a wrong bound, only a looser
one.

The evaluation is vectorized over rows (NumPy), about 10 array operations per node.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ._symbolic import _sp

__all__ = ["Enclosure"]

_EPS = np.finfo(np.float64).eps
_TINY = np.finfo(np.float64).tiny
_INF = np.inf
#: where gamma and loggamma have their minimum on (0, inf)
_GAMMA_MIN_X = 1.4616321449683622
_GAMMA_MIN = 0.8856031944108887
_LOGGAMMA_MIN = -0.12148629053584961


def _down(x, ulps):
    """x lowered by ``ulps`` ulp (relative) and the smallest normal number; infinities kept."""
    with np.errstate(invalid="ignore", over="ignore"):
        out = x - (np.abs(x) * (ulps * _EPS) + _TINY)
    return np.where(np.isfinite(x), out, x)


def _up(x, ulps):
    with np.errstate(invalid="ignore", over="ignore"):
        out = x + (np.abs(x) * (ulps * _EPS) + _TINY)
    return np.where(np.isfinite(x), out, x)


def _widen(lo, hi, ulps):
    return _down(lo, ulps), _up(hi, ulps)


def _add_bounds(lo1, hi1, lo2, hi2):
    """[lo1 + lo2, hi1 + hi2] rounded outward exactly: the rounding error of each sum is
    recovered without error (Knuth's TwoSum) and the sum moved one float only when it was
    rounded the wrong way.  A relative widening would be wrong after cancellation (the error of
    1e16 + 1 - 1e16 is 1, not a fraction of the result)."""
    out = []
    for a, b, toward in ((lo1, lo2, -_INF), (hi1, hi2, _INF)):
        s = a + b
        bb = s - a
        err = (a - (s - bb)) + (b - bb)
        wrong = (err < 0) if toward < 0 else (err > 0)
        out.append(np.where(np.isfinite(s) & wrong, np.nextafter(s, toward), s))
    return out[0], out[1]


def _pow2(x):
    """True where x is +-2^k (multiplying by it is exact)."""
    m, _ = np.frexp(x)
    return np.abs(m) == 0.5


def _full(shape):
    return np.full(shape, -_INF), np.full(shape, _INF)


def _unknown(lo, hi):
    """NaN endpoints (inf - inf, 0 * inf) become -inf / +inf."""
    return np.where(np.isnan(lo), -_INF, lo), np.where(np.isnan(hi), _INF, hi)


def _contains0(lo, hi):
    return (lo <= 0) & (hi >= 0)


class Enclosure:
    """The interval extension of a SymPy expression in the given symbols.

    Parameters
    ----------
    expr : sympy.Expr
        The expression (its free symbols among ``symbols``).
    symbols : sequence of sympy.Symbol
        The variables, in the order of the boxes passed to :meth:`__call__`.

    Calling it with ``(lo_1, hi_1, lo_2, hi_2, ...)`` (arrays that broadcast) returns
    ``(lo, hi, kink)``.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> f = Enclosure(sp.sin(x)**2 + x, [x])
    >>> lo, hi, kink = f(np.array([0.0]), np.array([0.1]))
    >>> bool(lo[0] <= 0.0 and hi[0] >= np.sin(0.1)**2 + 0.1), bool(kink[0])
    (True, False)
    """

    def __init__(self, expr, symbols):
        self._symbols = list(symbols)
        self._program = []            # (op, argument slots, data)
        self._slots = {}
        self._result = self._compile(expr)

    # -- compilation ---------------------------------------------------------------------------
    def _compile(self, root):
        """Post-order, iterative (no recursion limit), shared subexpressions compiled once."""
        sp = _sp()
        stack = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if node in self._slots:
                continue
            children = self._children(sp, node)
            if not ready:
                stack.append((node, True))
                stack.extend((c, False) for c in children if c not in self._slots)
                continue
            op, data = self._op(sp, node)
            self._slots[node] = len(self._program)
            self._program.append((op, [self._slots[c] for c in children], data))
        return self._slots[root]

    def _children(self, sp, node):
        if isinstance(node, sp.Piecewise):
            return [x for pair in node.args for x in pair]
        if node in self._symbols or getattr(node, "is_Atom", False) \
                or isinstance(node, (bool, sp.logic.boolalg.BooleanAtom)):
            return []
        if isinstance(node, sp.Pow):
            ex = node.exp
            if ex.is_Rational or ex.is_Float:
                return [node.base]
            return [node.base, ex]
        if isinstance(node, (sp.polygamma, sp.Heaviside, sp.DiracDelta)):
            return [node.args[0] if not isinstance(node, sp.polygamma) else node.args[1]]
        return list(node.args)

    def _op(self, sp, node):
        if node in self._symbols:
            return "var", self._symbols.index(node)
        if node is sp.true or node is True:
            return "true", None
        if node is sp.false or node is False:
            return "false", None
        if getattr(node, "is_Atom", False):
            return "const", self._constant(sp, node)
        if isinstance(node, sp.Add):
            return "add", None
        if isinstance(node, sp.Mul):
            return "mul", None
        if isinstance(node, sp.Pow):
            ex = node.exp
            if ex.is_Integer:
                return "ipow", int(ex)
            if ex.is_Rational or ex.is_Float:
                e = float(ex)
                if e == int(e) and abs(e) < 2 ** 53:
                    return "ipow", int(e)
                return "rpow", e
            return "gpow", None
        if isinstance(node, sp.polygamma):
            n = node.args[0]
            if not (n.is_Integer and n >= 0):
                return "unknown", None
            return "polygamma", int(n)
        if isinstance(node, sp.Heaviside):
            h0 = node.args[1] if len(node.args) > 1 else sp.Rational(1, 2)
            if not h0.is_number:
                return "unknown", None
            return "heaviside", float(h0)
        if isinstance(node, sp.DiracDelta):
            k = node.args[1] if len(node.args) > 1 else 0
            return "dirac", int(k)
        rel = {sp.StrictLessThan: "lt", sp.LessThan: "le", sp.StrictGreaterThan: "gt",
               sp.GreaterThan: "ge", sp.Equality: "eq", sp.Unequality: "ne"}
        for cls, name in rel.items():
            if isinstance(node, cls):
                return name, None
        for cls, name in ((sp.And, "and"), (sp.Or, "or"), (sp.Not, "not"),
                          (sp.Piecewise, "piecewise"), (sp.Max, "max"), (sp.Min, "min")):
            if isinstance(node, cls):
                return name, None
        name = type(node).__name__
        if name in _UNARY and len(node.args) == 1:
            return name, None
        return "unknown", None

    @staticmethod
    def _constant(sp, node):
        """An exact float interval around a numeric atom."""
        if node.is_Integer or node.is_Rational:
            pn, qn = int(node.p), int(node.q)
            try:
                v = pn / qn                    # correctly rounded
            except OverflowError:
                v = math.copysign(math.inf, pn)
            exact = math.isfinite(v) and Fraction(v) == Fraction(pn, qn)
            return (v, v) if exact else (float(np.nextafter(v, -_INF)),
                                         float(np.nextafter(v, _INF)))
        if node is sp.oo:
            return (_INF, _INF)
        if node is sp.S.NegativeInfinity:
            return (-_INF, -_INF)
        if node.is_Float or node.is_NumberSymbol:
            try:
                v = float(node.evalf(20))
            except (TypeError, ValueError, OverflowError):
                return (-_INF, _INF)
            return (float(np.nextafter(v, -_INF)), float(np.nextafter(v, _INF)))
        return (-_INF, _INF)           # I, zoo, nan, other atoms

    # -- evaluation ----------------------------------------------------------------------------
    def __call__(self, *bounds):
        if len(bounds) != 2 * len(self._symbols):
            raise TypeError(f"expected {2 * len(self._symbols)} bound arrays")
        arrays = [np.asarray(b, dtype=np.float64) for b in bounds]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        vals = []
        kink = np.zeros(shape, dtype=bool)
        with np.errstate(all="ignore"):
            for op, args, data in self._program:
                out, k = self._eval(op, [vals[i] for i in args], data, arrays, shape)
                vals.append(out)
                if k is not None:
                    kink |= k
        lo, hi, _ = vals[self._result]
        return (np.broadcast_to(lo, shape).astype(np.float64, copy=True),
                np.broadcast_to(hi, shape).astype(np.float64, copy=True), kink)

    def _eval(self, op, a, data, arrays, shape):
        """One node: numeric values are (lo, hi, undef) -- undef marks rows where some point
        of the box may be undefined (NaN in NumPy), None when none is -- and conditions are
        (may be true, may be false)."""
        if op == "var":
            return (arrays[2 * data], arrays[2 * data + 1], None), None
        if op == "const":
            return (np.float64(data[0]), np.float64(data[1]), None), None
        if op in ("true", "false"):
            t = op == "true"
            return (np.bool_(t), np.bool_(not t)), None
        if op in _REL:
            (l1, h1, u1), (l2, h2, u2) = a
            t, f = _REL[op](l1, h1, l2, h2)
            undef = _or(u1, u2, _empty(l1, h1), _empty(l2, h2))
            if undef is not None:         # NumPy compares NaN as False
                t, f = t & ~_empty(l1, h1) & ~_empty(l2, h2), f | undef
            return (t, f), None
        if op in ("and", "or"):
            ts = [np.asarray(x[0]) for x in a]
            fs = [np.asarray(x[1]) for x in a]
            if op == "and":
                return (np.logical_and.reduce(ts), np.logical_or.reduce(fs)), None
            return (np.logical_or.reduce(ts), np.logical_and.reduce(fs)), None
        if op == "not":
            return (a[0][1], a[0][0]), None
        if op == "piecewise":
            return _piecewise(a, shape)
        undef = _or(*(x[2] for x in a))
        if op == "add":
            lo, hi = a[0][0], a[0][1]
            for x in a[1:]:
                lo, hi = _add_bounds(lo, hi, x[0], x[1])
            lo, hi = _unknown(lo, hi)
            return (lo, hi, undef), None
        if op == "mul":
            lo, hi = a[0][0], a[0][1]
            for x in a[1:]:
                lo, hi = _mul(lo, hi, x[0], x[1])
            return (lo, hi, undef), None
        if op in ("max", "min"):
            (lo, hi), k = _maxmin(a, op == "max")
            return (lo, hi, undef), k
        if op == "gpow":
            (bl, bh, _), (el, eh, _) = a
            cl, ch = _clip_domain(bl, bh, 0.0, _INF)
            ll, lh, _ = _mono(np.log, cl, ch, 4)
            lo, hi = _mul(ll, lh, el, eh)
            lo, hi, _ = _mono(np.exp, lo, hi, 4)
            part = _partial(bl, bh, 0.0, _INF)
            return (lo, hi, _or(undef, part)), part
        if op == "unknown":
            lo, hi = _full(shape)
            return (lo, hi, np.ones(shape, dtype=bool)), np.ones(shape, dtype=bool)
        lo, hi = a[0][0], a[0][1]
        if op == "ipow":
            (rl, rh), k = _ipow(lo, hi, data)
            part = None
        elif op == "rpow":
            (rl, rh), part = _rpow(lo, hi, data)
            k = part
        elif op == "polygamma":
            (rl, rh), part = _polygamma(lo, hi, data)
            k = part
        elif op == "heaviside":
            (rl, rh), k = _heaviside(lo, hi, data)
            part = None
        elif op == "dirac":
            at0 = _contains0(lo, hi)
            if data == 0:
                rl, rh = np.zeros(shape), np.where(at0, _INF, 0.0)
            else:
                rl, rh = np.where(at0, -_INF, 0.0), np.where(at0, _INF, 0.0)
            k, part = at0, None
        else:
            (rl, rh), k, part = _UNARY[op](lo, hi)
        # a 1/x pole or a domain edge: the box may hold points where NumPy gives inf or NaN
        return (rl, rh, _or(undef, part)), k


def _empty(lo, hi):
    return lo > hi


def _heaviside(lo, hi, h0):
    """Heaviside(x, h0): 0 for x < 0, h0 at 0, 1 for x > 0."""
    neg = lo < 0
    pos = hi > 0
    zero = _contains0(lo, hi)
    vals_lo = np.minimum(np.where(neg, 0.0, _INF),
                         np.minimum(np.where(zero, h0, _INF), np.where(pos, 1.0, _INF)))
    vals_hi = np.maximum(np.where(neg, 0.0, -_INF),
                         np.maximum(np.where(zero, h0, -_INF), np.where(pos, 1.0, -_INF)))
    return (vals_lo, vals_hi), vals_lo != vals_hi


def _or(*ks):
    out = None
    for k in ks:
        if k is None:
            continue
        out = k if out is None else (out | k)
    return out


def _mul(l1, h1, l2, h2):
    c = (l1 * l2, l1 * h2, h1 * l2, h1 * h2)
    # fmin/fmax skip a NaN from 0 * inf: another product of the same endpoints bounds that side
    lo = np.fmin(np.fmin(c[0], c[1]), np.fmin(c[2], c[3]))
    hi = np.fmax(np.fmax(c[0], c[1]), np.fmax(c[2], c[3]))
    # one ulp outward (IEEE products are correctly rounded), none where a factor is a point
    # +-2^k (negation, halving: exact)
    exact = ((l1 == h1) & _pow2(l1)) | ((l2 == h2) & _pow2(l2))
    lo = np.where(exact, lo, np.nextafter(lo, -_INF))
    hi = np.where(exact, hi, np.nextafter(hi, _INF))
    lo, hi = _unknown(lo, hi)
    # a factor exactly [0, 0] makes the product 0 (the other factor is finite where defined)
    z = ((l1 == 0) & (h1 == 0)) | ((l2 == 0) & (h2 == 0))
    return np.where(z, 0.0, lo), np.where(z, 0.0, hi)


def _recip(lo, hi):
    """1/x; x touching or containing 0 gives a half line or the whole line."""
    rl, rh = np.nextafter(1.0 / hi, -_INF), np.nextafter(1.0 / lo, _INF)
    pos_edge = (lo == 0) & (hi > 0)
    neg_edge = (hi == 0) & (lo < 0)
    across = (lo < 0) & (hi > 0)
    zero = (lo == 0) & (hi == 0)
    rl = np.where(across | neg_edge | zero, -_INF, rl)
    rh = np.where(across | pos_edge | zero, _INF, rh)
    return rl, rh, across | zero | pos_edge | neg_edge


def _ipow(lo, hi, n):
    if n == 0:
        one = np.ones(np.broadcast_shapes(np.shape(lo), np.shape(hi)))
        return (one, one), None
    if n < 0:
        (pl, ph), _ = _ipow(lo, hi, -n)
        rl, rh, pole = _recip(pl, ph)
        return (rl, rh), pole
    if n == 1:
        return (lo, hi), None
    ulps = 2 * math.log2(n) + 2
    if n % 2 == 0:
        alo, ahi = np.abs(lo), np.abs(hi)
        m = np.maximum(alo, ahi) ** n
        mn = np.where(_contains0(lo, hi), 0.0, np.minimum(alo, ahi) ** n)
        lo2, hi2 = _widen(mn, m, ulps)
        return (np.maximum(lo2, 0.0), hi2), None
    return _widen(lo ** n, hi ** n, ulps), None


def _clip_domain(lo, hi, a, b):
    """The part of [lo, hi] inside [a, b]; empty (lo > hi) when they do not meet."""
    return np.maximum(lo, a), np.minimum(hi, b)


def _partial(lo, hi, a, b):
    """Rows where [lo, hi] leaves [a, b] (undefined points, a domain edge inside)."""
    return (lo < a) | (hi > b)


def _rpow(lo, hi, e):
    """x**e for a non-integer exponent: real for x >= 0 (x = 0 gives inf for e < 0)."""
    cl, ch = _clip_domain(lo, hi, 0.0, _INF)
    rl, rh, _ = _mono(lambda x: x ** e, cl, ch, 4, e > 0)
    return (rl, rh), _or(_partial(lo, hi, 0.0, _INF), (cl <= 0) if e < 0 else None)


def _mono(f, lo, hi, ulps, increasing=True):
    """A monotone function on [lo, hi] (inside its domain); empty stays empty."""
    empty = lo > hi
    rl, rh = (f(lo), f(hi)) if increasing else (f(hi), f(lo))
    if ulps is None:          # a SciPy special function: relative 1e-13
        rl = np.where(np.isfinite(rl), rl - np.abs(rl) * 1e-13 - _TINY, rl)
        rh = np.where(np.isfinite(rh), rh + np.abs(rh) * 1e-13 + _TINY, rh)
    else:
        rl, rh = _widen(rl, rh, ulps)
    rl, rh = _unknown(rl, rh)
    return np.where(empty, _INF, rl), np.where(empty, -_INF, rh), empty


def _increasing(f, ulps=4, increasing=True, a=-_INF, b=_INF):
    """A function monotone on its domain [a, b] (closed; values at an edge may be infinite)."""
    def g(lo, hi):
        cl, ch = _clip_domain(lo, hi, a, b) if (a > -_INF or b < _INF) else (lo, hi)
        rl, rh, _ = _mono(f, cl, ch, ulps, increasing)
        part = _partial(lo, hi, a, b) if (a > -_INF or b < _INF) else None
        return (rl, rh), part, part
    return g


def _special(name):
    def f(x):
        import scipy.special as sc
        return getattr(sc, name)(x)
    return f


def _sin_cos(shift):
    """sin (shift 0) or cos (shift pi/2) with the interior extrema."""
    def g(lo, hi):
        f = np.sin if shift == 0 else np.cos
        vl, vh = f(lo), f(hi)
        rl, rh = _widen(np.minimum(vl, vh), np.maximum(vl, vh), 4)
        # sin(x + shift) peaks at x = pi/2 - shift + 2k pi and dips at -pi/2 - shift + 2k pi;
        # a margin (relative 1e-9 of |x|) counts near misses of the rounded k pi grid as hits
        two_pi = 2 * math.pi
        big = np.maximum(np.abs(lo), np.abs(hi))
        margin = 1e-9 * np.maximum(1.0, big)
        wide = ~((hi - lo) < two_pi - 2 * margin) | ~(big < 1e15)

        def hits(center):
            k = np.ceil((lo - margin - center) / two_pi)
            return center + k * two_pi <= hi + margin

        rl = np.where(hits(-math.pi / 2 - shift) | wide, -1.0, np.maximum(rl, -1.0))
        rh = np.where(hits(math.pi / 2 - shift) | wide, 1.0, np.minimum(rh, 1.0))
        return (rl, rh), None, None
    return g


def _tan(lo, hi):
    big = np.maximum(np.abs(lo), np.abs(hi))
    margin = 1e-9 * np.maximum(1.0, big)
    k = np.ceil((lo - margin - math.pi / 2) / math.pi)
    pole = (math.pi / 2 + k * math.pi <= hi + margin) | ~((hi - lo) < math.pi) | ~(big < 1e15)
    rl, rh = _widen(np.tan(lo), np.tan(hi), 4)
    return (np.where(pole, -_INF, rl), np.where(pole, _INF, rh)), pole, pole


def _cosh(lo, hi):
    vl, vh = np.cosh(lo), np.cosh(hi)
    rl, rh = _widen(np.minimum(vl, vh), np.maximum(vl, vh), 4)
    return (np.where(_contains0(lo, hi), 1.0, np.maximum(rl, 1.0)), rh), None, None


def _abs(lo, hi):
    al, ah = np.abs(lo), np.abs(hi)
    c = _contains0(lo, hi)
    return (np.where(c, 0.0, np.minimum(al, ah)), np.maximum(al, ah)), (lo < 0) & (hi > 0), None


def _sign(lo, hi):
    rl = np.where(lo > 0, 1.0, np.where(lo == 0, 0.0, -1.0))
    rh = np.where(hi < 0, -1.0, np.where(hi == 0, 0.0, 1.0))
    return (rl, rh), rl != rh, None


def _gamma_like(fname, fmin):
    """gamma or loggamma: real, with one minimum, on (0, inf); elsewhere unknown."""
    def g(lo, hi):
        f = _special(fname)
        bad = ~(lo > 0)
        cl = np.where(bad, _GAMMA_MIN_X, lo)
        ch = np.where(bad, _GAMMA_MIN_X, hi)
        vl, vh = f(cl), f(ch)
        rl, rh = np.minimum(vl, vh), np.maximum(vl, vh)
        rl = np.where((cl <= _GAMMA_MIN_X) & (ch >= _GAMMA_MIN_X), fmin, rl)
        rl = np.where(np.isfinite(rl), rl - np.abs(rl) * 1e-13 - _TINY, rl)
        rh = np.where(np.isfinite(rh), rh + np.abs(rh) * 1e-13 + _TINY, rh)
        rl, rh = _unknown(rl, rh)
        return (np.where(bad, -_INF, rl), np.where(bad, _INF, rh)), bad, bad
    return g


def _polygamma(lo, hi, n):
    """polygamma(n, x) on (0, inf): increasing for even n, decreasing for odd n."""
    import scipy.special as sc
    bad = ~(lo > 0)
    cl, ch = np.where(bad, 1.0, lo), np.where(bad, 1.0, hi)
    rl, rh, _ = _mono(lambda x: sc.polygamma(n, x), cl, ch, None, n % 2 == 0)
    return (np.where(bad, -_INF, rl), np.where(bad, _INF, rh)), bad


def _maxmin(a, is_max):
    f = np.maximum if is_max else np.minimum
    lo, hi = a[0][0], a[0][1]
    for x in a[1:]:
        lo, hi = f(lo, x[0]), f(hi, x[1])
    # a crossing may lie inside unless one argument dominates all the others
    if is_max:
        dominated = [x[1] < lo for x in a]
    else:
        dominated = [x[0] > hi for x in a]
    alive = np.sum([~np.asarray(d) for d in dominated], axis=0)
    return (lo, hi), alive > 1


def _piecewise(a, shape):
    """a: [value_0, cond_0, value_1, cond_1, ...]; values (lo, hi, undef), conditions (may be
    true, may be false).  The union of every branch that may be taken; rows where no
    condition certainly holds may also be undefined (SymPy's Piecewise is NaN there)."""
    lo = np.full(shape, _INF)
    hi = np.full(shape, -_INF)
    undef = np.zeros(shape, dtype=bool)
    open_ = np.ones(shape, dtype=bool)          # no earlier branch certainly taken
    count = np.zeros(shape, dtype=np.int64)
    for i in range(0, len(a), 2):
        (vl, vh, vu), (t, f) = a[i], a[i + 1]
        take = open_ & np.broadcast_to(t, shape)
        lo = np.where(take, np.fmin(lo, vl), lo)
        hi = np.where(take, np.fmax(hi, vh), hi)
        if vu is not None:
            undef |= take & vu
        count += take
        open_ = open_ & np.broadcast_to(f, shape)
    undef |= open_
    return (lo, hi, undef), (count > 1) | (open_ & (count > 0))


_REL = {
    "lt": lambda l1, h1, l2, h2: (l1 < h2, h1 >= l2),
    "le": lambda l1, h1, l2, h2: (l1 <= h2, h1 > l2),
    "gt": lambda l1, h1, l2, h2: (h1 > l2, l1 <= h2),
    "ge": lambda l1, h1, l2, h2: (h1 >= l2, l1 < h2),
    "eq": lambda l1, h1, l2, h2: ((l1 <= h2) & (l2 <= h1),
                                  ~((l1 == h1) & (l2 == h2) & (l1 == l2))),
    "ne": lambda l1, h1, l2, h2: (~((l1 == h1) & (l2 == h2) & (l1 == l2)),
                                  (l1 <= h2) & (l2 <= h1)),
}


def _floor_like(f):
    def g(lo, hi):
        rl, rh = f(lo), f(hi)
        return (rl, rh), rl != rh, None
    return g


_UNARY = {
    "exp": _increasing(np.exp),
    "log": _increasing(np.log, a=0.0),
    "sin": _sin_cos(0.0),
    "cos": _sin_cos(math.pi / 2),
    "tan": _tan,
    "asin": _increasing(np.arcsin, a=-1.0, b=1.0),
    "acos": _increasing(np.arccos, increasing=False, a=-1.0, b=1.0),
    "atan": _increasing(np.arctan),
    "sinh": _increasing(np.sinh),
    "cosh": _cosh,
    "tanh": _increasing(np.tanh),
    "asinh": _increasing(np.arcsinh),
    "acosh": _increasing(np.arccosh, a=1.0),
    "atanh": _increasing(np.arctanh, a=-1.0, b=1.0),
    "erf": _increasing(_special("erf"), None),
    "erfc": _increasing(_special("erfc"), None, increasing=False),
    "gamma": _gamma_like("gamma", _GAMMA_MIN),
    "loggamma": _gamma_like("gammaln", _LOGGAMMA_MIN),
    "Abs": _abs,
    "sign": _sign,
    "floor": _floor_like(np.floor),
    "ceiling": _floor_like(np.ceil),
}
