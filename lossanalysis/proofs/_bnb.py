"""Branch and bound: certify g(x) > 0 on a box with rigorous interval (ball) arithmetic, private.

The function is g = f / prod_i |x_i - c_i|^k_i, where each singular line x_i = c_i is an edge
of the box on which f vanishes to order k_i (f and its first k_i - 1 derivatives in x_i are 0
there, identically in the other variables: checked by SymPy before the search).  On a box away
from every line g is evaluated directly.  On a box that touches (or nearly touches) a set S of
lines, Taylor's theorem with the Lagrange remainder gives, for every point of the box,

    g(x) = prod_{i in S} s_i^k_i / k_i!  *  d^(k_S) f / prod_{i in S} dx_i^k_i (xi)
           / prod_{j not in S} |x_j - c_j|^k_j

for some xi in the box stretched to reach the lines (s_i = +1 when the box lies above c_i, -1
below), so the derivative's enclosure on that stretched box encloses g (the series with its
remainder: the leading coefficient and the remainder are bounded together).  Where both forms
apply their intersection is used.

A corner point c where f(c) = 0 (a vertex of the box; in the coordinates ``dims``, any value of
the others) is decided by the mean value theorem: f(x) = sum_{i in dims} df/dx_i(xi) (x_i - c_i)
with xi in the box, so f > 0 on the box minus the corner set when every s_i df/dx_i > 0 on it.

Boxes are split in halves (geometric halves near 0 and 1 for the unit variables, so that a
domain reaching 2^-40 costs a few dozen levels); a box on which g <= 0 everywhere is a rigorous
counterexample.  Before any box is split, :func:`._seek.seek` evaluates g at a fixed grid of
points (dense near the ends and the singular lines) and certifies a box around a violating
one; during the search, undecided boxes past a depth are probed at their midpoint, and a
violation there is grown into the largest box around it on which g <= 0 is proven.  A search
that ends undecided describes the boxes it left open (:func:`._seek.explain`).
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

from . import _interval as I
from . import _seek

#: Depth from which an undecided box is probed at its midpoint for a counterexample.
_PROBE_DEPTH = 4
#: A box unbounded both ways is split along the variable that touches a singular line while
#: that variable's (relative) width is at least 1/_TOUCH_RATIO of the widest one.  Without the
#: bound logit MSE's proofs halved t toward t = 0 down to 2^-1060 with y spanning the domain
#: (undecided at 60 s); with 16 the asymmetry of KL took 52 s instead of 5 s; with 1024 both
#: logit MSE statements are proven (35 s and 28 s) and KL's asymmetry takes 4 s.
_TOUCH_RATIO = 1024


@dataclass
class Problem:
    """g = f / prod |x_i - c_i|^k_i > 0 on the box [lo, hi] (floats, exact binary values)."""

    variables: tuple            # SymPy symbols
    lo: list
    hi: list
    f: object                   # SymPy expression
    lines: list = field(default_factory=list)     # (var index, c, k)
    corners: list = field(default_factory=list)   # (dims tuple, point tuple)
    kinds: tuple = ()           # per variable: "unit" (a probability-like variable) or "param"
    smooth: bool = True


@dataclass
class Outcome:
    verdict: str                # "proven", "disproven", "undecided"
    boxes: int = 0
    depth: int = 0
    seconds: float = 0.0
    by_method: dict = field(default_factory=dict)
    counterexample: dict | None = None
    open_boxes: int = 0
    example_open: dict | None = None
    note: str = ""
    points: int = 0                     # evaluated by the point search before the boxes
    undecided: dict | None = None       # why, when undecided (_seek.explain)


def _side(lo, hi, c):
    return 1 if c <= lo else -1


class _Compiled:
    """The compiled enclosures of one problem."""

    def __init__(self, pb: Problem):
        import sympy as sp
        self.pb = pb
        xs = pb.variables
        n = len(xs)
        self.n = n
        dom_lo, dom_hi = pb.lo, pb.hi
        self.sides = [_side(dom_lo[i], dom_hi[i], c) for i, c, k in pb.lines]

        def divide(expr, skip):
            out = expr
            for j, (i, c, k) in enumerate(pb.lines):
                if j in skip or k == 0:
                    continue
                out = out / (self.sides[j] * (xs[i] - _exact_sym(c))) ** k
            return out

        self.forms = {}
        if not pb.smooth:
            g = sp.piecewise_fold(divide(pb.f, ()))
            if isinstance(g, sp.Piecewise):
                g = sp.Piecewise(*[(sp.cancel(a), c) for a, c in g.args])
            else:
                g = sp.cancel(g)
            self.forms[frozenset()] = (I.compile_expr(g, xs), None)
        else:
            active = [j for j, (_, _, k) in enumerate(pb.lines) if k > 0]
            for r in range(0, len(active) + 1):
                for S in itertools.combinations(active, r):
                    h = pb.f
                    scale = 1
                    for j in S:
                        i, c, k = pb.lines[j]
                        h = sp.diff(h, xs[i], k)
                        scale = scale * sp.Integer(self.sides[j]) ** k / sp.factorial(k)
                    h = divide(h * scale, S)
                    # with the gradient, the mean value (centred) form h(m) + grad h(box).(box
                    # - m), whose excess width shrinks quadratically with the box
                    self.forms[frozenset(S)] = (
                        I.compile_expr(h, xs), [I.compile_expr(sp.diff(h, x), xs) for x in xs])
        self.grads = []
        for dims, point in pb.corners:
            self.grads.append((dims, point, [I.compile_expr(sp.diff(pb.f, xs[d]), xs)
                                             for d in dims]))

    # -- enclosures --------------------------------------------------------------------------
    def enclose(self, lo, hi):
        """(enclosure of g on the box, method name) -- the enclosure may be non-finite."""
        pb = self.pb
        touching, near = [], []
        for j, (i, c, k) in enumerate(pb.lines):
            if k == 0:
                continue
            if lo[i] <= c <= hi[i]:
                touching.append(j)
            elif min(abs(lo[i] - c), abs(hi[i] - c)) <= 4 * (hi[i] - lo[i]):
                near.append(j)
        encs = []
        method = "direct"
        smears = []
        if not touching or not pb.smooth:
            e, sm = self._form(frozenset(), lo, hi)
            encs.append(e)
            smears.append((e, sm))
        if pb.smooth and (touching or near):
            S = frozenset(touching + near)
            hl, hh = list(lo), list(hi)
            for j in S:
                i, c, k = pb.lines[j]
                hl[i], hh[i] = min(hl[i], c), max(hh[i], c)
            e, sm = self._form(S, hl, hh)
            encs.append(e)
            smears.append((e, sm))
            method = "series at " + ", ".join(
                f"{pb.variables[pb.lines[j][0]]} = {_show(pb.lines[j][1])}" for j in sorted(S))
        self.smear = None
        ranked = [(I.upper(e.rad()) if e.is_finite() else float("inf"), k)
                  for k, (e, sm) in enumerate(smears) if sm is not None]
        if ranked:
            self.smear = smears[min(ranked)[1]][1]
        finite = [e for e in encs if e.is_finite()]
        if not finite:
            return encs[-1], method
        out = finite[0]
        for e in finite[1:]:
            try:
                out = out.intersection(e)
            except ValueError:     # disjoint enclosures cannot both hold: a bug, not a proof
                raise AssertionError("disjoint enclosures of one function") from None
        if len(finite) > 1:
            method = method if touching else "direct and series"
        return out, method

    def _form(self, S, lo, hi):
        """(enclosure, smear) of form S on the box: the natural enclosure intersected with the
        centred form, and per variable |d form/dx_i| * width_i (inf where unbounded), which
        says along which variable the box should be split."""
        fn, grads = self.forms[S]
        box = [I.ball(a, b) for a, b in zip(lo, hi)]
        d = fn(box)
        inf = float("inf")
        if grads is None:
            return d, None
        if d.is_finite() and (d > 0 or d <= 0):
            return d, None
        mid = [I.ball(0.5 * (a + b)) for a, b in zip(lo, hi)]   # any point of the box
        c = fn(mid)
        smear = []
        for gi, x, m, a, b in zip(grads, box, mid, lo, hi):
            if b > a:
                gv = gi(box)
                c = c + gv * (x - m)
                smear.append(I.upper(abs(gv)) * (b - a) if gv.is_finite() else inf)
            else:
                smear.append(0.0)
        if not c.is_finite():
            return d, smear
        if not d.is_finite():
            return c, smear
        try:
            return d.intersection(c), smear
        except ValueError:
            raise AssertionError("disjoint enclosures of one function") from None

    def corner_ok(self, lo, hi):
        """The name of a corner whose gradient test proves g > 0 on the box, else None."""
        for dims, point, grads in self.grads:
            if not all(lo[d] <= c <= hi[d] for d, c in zip(dims, point)):
                continue
            box = [I.ball(a, b) for a, b in zip(lo, hi)]
            ok = True
            for d, c, gfun in zip(dims, point, grads):
                s = 1 if lo[d] >= c else -1
                if hi[d] > c and lo[d] < c:
                    ok = False      # the corner inside the box, not at a vertex: split first
                    break
                v = gfun(box) * s
                if not v > 0:
                    ok = False
                    break
            if ok:
                return "corner " + ", ".join(f"{self.pb.variables[d]} = {_show(c)}"
                                             for d, c in zip(dims, point))
        return None

    def point_value(self, x):
        return self.forms[frozenset()][0]([I.ball(v) for v in x])


def _exact_sym(c):
    import sympy as sp
    return sp.Rational(c) if isinstance(c, float) else sp.sympify(c)  # safe: a number


def _show(c):
    from fractions import Fraction
    f = Fraction(c)
    return str(f) if f.denominator <= 1024 else repr(float(c))


def _geometric(pb: Problem):
    """Per variable, whether its lower and upper domain ends are excluded edges near 0 or 1
    (not singular lines): there the functions grow like log, and boxes are halved
    geometrically so that 2^-40 is reached in a few dozen levels."""
    kinds = pb.kinds or ("unit",) * len(pb.lo)
    line_at = {(i, c) for i, c, k in pb.lines}
    out = []
    for i, (lo, hi) in enumerate(zip(pb.lo, pb.hi)):
        unit = kinds[i] == "unit"
        out.append((unit and 0 < lo < 1e-3 and (i, lo) not in line_at,
                    unit and 0 < 1 - hi < 1e-3 and (i, hi) not in line_at))
    return out


def _split_point(lo, hi, geo):
    if geo[0] and hi <= 0.5 and hi > 8 * lo:
        m = math.sqrt(lo * hi)
        if lo < m < hi:
            return m
    if geo[1] and lo >= 0.5 and (1 - lo) > 8 * (1 - hi):
        m = 1 - math.sqrt((1 - lo) * (1 - hi))
        if lo < m < hi:
            return m
    m = 0.5 * (lo + hi)
    return m if lo < m < hi else None


def _width(lo, hi, geo, full):
    if geo[0] and hi <= 0.5:
        return (hi - lo) / hi
    if geo[1] and lo >= 0.5:
        return (hi - lo) / (1 - lo)
    return (hi - lo) / full


def search(pb: Problem, *, max_boxes=2_000_000, max_seconds=60.0, progress=None) -> Outcome:
    """Certify g > 0 on the box of ``pb`` by branch and bound (see the module docstring)."""
    start = time.perf_counter()
    with I.precision():
        comp = _Compiled(pb)
        full = [h - l for l, h in zip(pb.lo, pb.hi)]
        geo = _geometric(pb)
        out = Outcome("undecided")
        cex, out.points = _seek.seek(comp, pb, min(_seek.MAX_SECONDS,
                                                   _seek.SHARE * max_seconds))
        if cex is not None:
            out.verdict = "disproven"
            out.counterexample = cex
            out.note = "counterexample found by the point search, before any box was split"
            out.seconds = time.perf_counter() - start
            return out
        # leave a little of the budget for describing the open boxes if it runs out
        max_seconds = max_seconds - min(1.0, 0.02 * max_seconds)
        stack = [(list(pb.lo), list(pb.hi), 0, None)]
        boxes = 0
        stuck = 0
        stuck_boxes = []
        next_report = 5.0
        while stack:
            lo, hi, depth, known = stack.pop()
            boxes += 1
            out.depth = max(out.depth, depth)
            enc, method, smear = known if known is not None else _evaluate(comp, lo, hi)
            settled = _settle(comp, pb, out, lo, hi, depth, enc, method)
            if settled == "disproven":
                break
            if settled:
                continue
            elapsed = time.perf_counter() - start
            if boxes >= max_boxes or elapsed > max_seconds:
                stack.append((lo, hi, depth, None))
                out.note = (f"budget reached ({boxes} boxes, {elapsed:.1f} s) with "
                            f"{len(stack)} boxes undecided")
                out.open_boxes = len(stack)
                out.example_open = _box_dict(pb, lo, hi)
                out.undecided = _seek.explain(
                    comp, pb, [(b[0], b[1], b[3]) for b in stack] + stuck_boxes,
                    f"the {elapsed:.0f} s budget reached after {boxes} boxes",
                    current=(lo, hi, depth))
                break
            if progress is not None and elapsed > next_report:
                progress(boxes, len(stack), elapsed)
                next_report += 5.0
            cands = [(i, _split_point(lo[i], hi[i], geo[i])) for i in range(len(lo))]
            cands = [(i, m) for i, m in cands if m is not None]
            if not cands:
                # left undecided; the search goes on (a counterexample may lie elsewhere)
                stuck += 1
                stuck_boxes.append((lo, hi, (enc, method, smear)))
                out.note = f"{stuck} box(es) at float resolution left undecided"
                out.example_open = _box_dict(pb, lo, hi)
                continue
            for klo, khi, kn in reversed(_split(comp, pb, lo, hi, smear, cands, geo, full)):
                stack.append((klo, khi, depth + 1, kn))
        else:
            out.verdict = "proven" if stuck == 0 else "undecided"
            out.open_boxes = stuck
            if stuck:
                out.undecided = _seek.explain(comp, pb, stuck_boxes,
                                              "boxes at float resolution, not decided")
        out.boxes = boxes
    out.seconds = time.perf_counter() - start
    return out


def _evaluate(comp, lo, hi):
    """The enclosure of g on the box, the method that gave it and the smear it left."""
    enc, method = comp.enclose(lo, hi)
    return enc, method, comp.smear


def _settle(comp, pb, out, lo, hi, depth, enc, method):
    """Decide one box if it can be decided without splitting it: "proven" (g > 0 on it, by
    its enclosure or the corner test; counted in ``out.by_method``), "disproven" (a
    counterexample, recorded in ``out``) or None (split it)."""
    if enc.is_finite() and enc > 0:
        out.by_method[method] = out.by_method.get(method, 0) + 1
        return "proven"
    if enc.is_finite() and enc <= 0:
        out.verdict = "disproven"
        out.counterexample = _cex(pb, lo, hi, enc)
        return "disproven"
    name = comp.corner_ok(lo, hi)
    if name is not None:
        out.by_method[name] = out.by_method.get(name, 0) + 1
        return "proven"
    if depth >= _PROBE_DEPTH:
        cex = _probe(comp, pb, lo, hi)
        if cex is not None:
            out.verdict = "disproven"
            out.counterexample = cex
            return "disproven"
    return None


def _split(comp, pb, lo, hi, smear, cands, geo, full):
    """The two halves of the box, ``[(lo, hi, known enclosure or None)]``: split where the
    function varies most across the box (the smear |dg/dx_i| w_i); where that is unbounded or
    unknown, try every split ``cands`` and keep the one whose halves are decided or tightest
    (their enclosures are kept for when they are popped)."""
    if smear is not None and all(v < float("inf") for v in smear) and any(smear):
        i, m = max(cands, key=lambda c: smear[c[0]])
    elif len(cands) == 1:
        i, m = cands[0]
    else:
        tried = []
        for i_, m_ in cands:
            kids = [(klo, khi, _evaluate(comp, klo, khi)) for klo, khi in _halves(lo, hi, i_, m_)]
            tried.append((max(_score(k[2][0]) for k in kids),
                          _width(lo[i_], hi[i_], geo[i_], full[i_] or 1.0), i_, m_, kids))
        # unbounded both ways: a box stretched to a singular line is what fails there
        touch = {i for i, c, k in pb.lines if k and lo[i] <= c <= hi[i]}
        # (but not once it is far narrower than the others, _TOUCH_RATIO: a box that stays
        # undecided at the line however thin is then split the other way)
        top = max(c[1] for c in tried)
        widest = max(tried, key=lambda c: (c[2] in touch and c[1] >= top / _TOUCH_RATIO, c[1]))
        tightest = min(tried, key=lambda c: c[0])
        # a split counts as better only if it makes the halves clearly tighter
        pick = tightest if tightest[0] < 0.5 * widest[0] else widest
        return pick[4]
    return [(klo, khi, None) for klo, khi in _halves(lo, hi, i, m)]


def _halves(lo, hi, i, m):
    a_hi = list(hi)
    a_hi[i] = m
    b_lo = list(lo)
    b_lo[i] = m
    return [(list(lo), a_hi), (b_lo, list(hi))]


def _score(enc):
    """0 for a decided enclosure, its radius otherwise (inf when unbounded)."""
    if not enc.is_finite():
        return float("inf")
    if enc > 0 or enc <= 0:
        return 0.0
    return I.upper(enc.rad())


def _box_dict(pb, lo, hi):
    return {str(v): [float(a), float(b)] for v, a, b in zip(pb.variables, lo, hi)}


def _cex(pb, lo, hi, enc):
    d = _box_dict(pb, lo, hi)
    return {"box": d, "g_upper": I.upper(enc)}


def _probe(comp, pb, lo, hi):
    """A counterexample box grown around the box's midpoint, if g <= 0 is proven there."""
    mid = [0.5 * (a + b) for a, b in zip(lo, hi)]
    v = comp.point_value(mid)
    if not (v.is_finite() and v <= 0):
        return None
    for j in range(1, 60):
        blo = [max(l0, m - (b - a) * 2.0 ** -j) for l0, m, a, b in zip(pb.lo, mid, lo, hi)]
        bhi = [min(h0, m + (b - a) * 2.0 ** -j) for h0, m, a, b in zip(pb.hi, mid, lo, hi)]
        enc, _ = comp.enclose(blo, bhi)
        if enc.is_finite() and enc <= 0:
            return {"box": _box_dict(pb, blo, bhi), "g_upper": I.upper(enc)}
    return {"box": _box_dict(pb, mid, mid), "g_upper": I.upper(v)}
