"""Counterexamples before the branch and bound, and why a search stayed undecided, private.

:func:`seek` evaluates g at a fixed set of points of the box before any box is split: an even
grid of each variable's interior, and points geometrically close (2^-3 .. 2^-34 of its range)
to each end of its range and to each singular line, where a violation that shrinks with the
distance lives (an improper loss fails "argmin = y" only for p within a few per cent of y).
Each value is an Arb ball at the working precision, so "g <= 0 at this point" is already
rigorous; the violation is then certified on a box: a box centred on the point, halved until
the enclosure of g on the whole box is <= 0 (:meth:`_bnb._Compiled.enclose`, the same
enclosures the proof uses).  A point value alone is never a disproof.  The grid is
deterministic (a product of the per-axis points, thinned by a seeded shuffle to at most
:data:`MAX_POINTS`), and the search stops after its share of the budget.

:func:`explain` describes the boxes a search left open: how many, their hull, how many lie
near each end of a range and each singular line (within 1/64 of the range), and the widest
enclosure among them -- what a certificate records when it is undecided.
"""
from __future__ import annotations

import random
import time

from . import _interval as I

#: At most this many points are evaluated by :func:`seek`.
MAX_POINTS = 20000
#: Share of the budget :func:`seek` may take (and at most :data:`MAX_SECONDS`).
SHARE = 0.1
MAX_SECONDS = 5.0
#: Violating points whose box :func:`seek` tries to certify.
MAX_CANDIDATES = 12
#: "near" a landmark: within this share of the variable's range.
NEAR = 1 / 64


def _axis(lo, hi, landmarks, kind):
    """The coordinates tried along one variable (floats strictly inside [lo, hi] where the
    range is not a point)."""
    w = hi - lo
    if w <= 0:
        return [lo]
    n = 8 if kind == "param" else 12
    pts = {lo + w * (k + 0.5) / n for k in range(n)}
    if kind == "param":
        pts.update((lo, hi))          # a parameter's range is closed and its ends are typical
    steps = (3, 6, 10) if kind == "param" else (3, 5, 7, 10, 14, 20, 27, 34)
    for c in landmarks:
        for j in steps:
            s = w * 2.0 ** -j
            for v in (c - s, c + s):
                if lo < v < hi:
                    pts.add(v)
    return sorted(pts)


def _points(pb):
    kinds = pb.kinds or ("unit",) * len(pb.lo)
    axes = []
    for i, (lo, hi) in enumerate(zip(pb.lo, pb.hi)):
        marks = [lo, hi] + [c for j, c, k in pb.lines if j == i]
        axes.append(_axis(lo, hi, marks, kinds[i]))
    total = 1
    for a in axes:
        total *= len(a)
    rng = random.Random(0)
    if total <= MAX_POINTS:
        idx = range(total)
    else:
        idx = rng.sample(range(total), MAX_POINTS)
    out = []
    for k in idx:
        pt = []
        for a in axes:
            k, r = divmod(k, len(a))
            pt.append(a[r])
        out.append(pt)
    return out, total


def seek(comp, pb, max_seconds):
    """(counterexample dict or None, points evaluated): a box on which g <= 0 is proven,
    around a grid point where g's ball is <= 0 (see the module docstring)."""
    start = time.perf_counter()
    pts, total = _points(pb)
    bad = []
    n = 0
    for pt in pts:
        if time.perf_counter() - start > max_seconds:
            break
        n += 1
        v = comp.point_value(pt)
        if v.is_finite() and v <= 0:
            bad.append((I.upper(v), pt))
    if not bad:
        return None, n
    # the most violating points first, then the others in grid order
    bad.sort(key=lambda b: b[0])
    for _, pt in bad[:MAX_CANDIDATES]:
        cex = certify(comp, pb, pt)
        if cex is not None:
            cex["found by"] = f"point search ({n} of {total} grid points evaluated)"
            return cex, n
        if time.perf_counter() - start > 2 * max_seconds:
            break
    return None, n


def certify(comp, pb, pt):
    """The largest box around ``pt`` (half-widths 2^-j of the ranges) on which the enclosure
    of g is <= 0, or None."""
    full = [h - l for l, h in zip(pb.lo, pb.hi)]
    for j in range(2, 62):
        blo = [max(l0, m - w * 2.0 ** -j) for l0, m, w in zip(pb.lo, pt, full)]
        bhi = [min(h0, m + w * 2.0 ** -j) for h0, m, w in zip(pb.hi, pt, full)]
        enc, method = comp.enclose(blo, bhi)
        if enc.is_finite() and enc <= 0:
            return {"box": _box(pb, blo, bhi), "g_upper": I.upper(enc), "method": method}
    return None


def _box(pb, lo, hi):
    return {str(v): [float(a), float(b)] for v, a, b in zip(pb.variables, lo, hi)}


def _show(c) -> str:
    """An exact binary value as a fraction, 2^-k or 1 - 2^-k where that is short."""
    from fractions import Fraction
    f = Fraction(c)
    if f.denominator <= 1024:
        return str(f)
    k = f.denominator.bit_length() - 1
    if f.denominator == 1 << k and f.numerator in (1, (1 << k) - 1):
        return f"2^-{k}" if f.numerator == 1 else f"1 - 2^-{k}"
    return f"{float(f):.6g}"


def _landmarks(pb):
    """(variable index, value, description) of each range end and singular line."""
    kinds = pb.kinds or ("unit",) * len(pb.lo)
    out = []
    for i, (lo, hi) in enumerate(zip(pb.lo, pb.hi)):
        what = "the parameter range's end" if kinds[i] == "param" else "the domain's end"
        if hi > lo:
            out.append((i, lo, f"{pb.variables[i]} = {_show(lo)} ({what})"))
            out.append((i, hi, f"{pb.variables[i]} = {_show(hi)} ({what})"))
    for i, c, k in pb.lines:
        desc = f"{pb.variables[i]} = {_show(c)} (a singular line)"
        out = [m for m in out if not (m[0] == i and m[1] == c)]
        out.append((i, c, desc))
    return out


def explain(comp, pb, boxes, reason, current=None, sample=400):
    """What the open ``boxes`` ([(lo, hi, known enclosure or None)]) are: a dict with their
    number, hull, counts near each landmark, the widest enclosure among (at most ``sample``
    evenly chosen of) them, the box the search was splitting when it stopped (``current``,
    (lo, hi, depth)) and a one-paragraph summary."""
    n = len(boxes)
    if n == 0:
        return None
    names = [str(v) for v in pb.variables]
    hull = {names[i]: [min(b[0][i] for b in boxes), max(b[1][i] for b in boxes)]
            for i in range(len(names))}
    near = {}
    interior = 0
    for lo, hi, _ in boxes:
        hit = False
        for i, c, desc in _landmarks(pb):
            tol = NEAR * (pb.hi[i] - pb.lo[i])
            if lo[i] - tol <= c <= hi[i] + tol:
                near[desc] = near.get(desc, 0) + 1
                hit = True
        interior += not hit
    step = max(1, n // sample)
    widest, unbounded, seen = None, 0, 0
    for lo, hi, known in boxes[::step]:
        seen += 1
        if known is not None:
            enc, method = known[0], known[1]
        else:
            enc, method = comp.enclose(lo, hi)
        r = I.upper(enc.rad()) if enc.is_finite() else float("inf")
        unbounded += r == float("inf")
        if widest is None or r > widest[0]:
            widest = (r, lo, hi, enc, method)
    r, lo, hi, enc, method = widest
    wide = {"box": _box(pb, lo, hi), "method": method,
            "enclosure": [I.lower(enc), I.upper(enc)] if enc.is_finite() else None}
    where = ", ".join(f"{k} in {_iv(a, b)}" for k, (a, b) in hull.items())
    parts = [f"{k}: {v}" for k, v in sorted(near.items(), key=lambda kv: -kv[1])]
    if interior:
        parts.append(f"away from all of these: {interior}")
    encw = ("unbounded (no finite enclosure)" if wide["enclosure"] is None else
            f"[{_g(wide['enclosure'][0])}, {_g(wide['enclosure'][1])}]")
    summary = (f"{n} box(es) left open ({reason}), within {where}; near "
               + "; ".join(parts)
               + f". Widest enclosure of g among {seen} of them: {encw} ({method}) on "
               + ", ".join(f"{k} in {_iv(a, b)}" for k, (a, b) in wide['box'].items())
               + (f"; {unbounded} of the {seen} have no finite enclosure" if unbounded else ""))
    out = {"reason": reason, "open_boxes": n, "hull": hull, "near": near,
           "interior": interior, "widest": wide, "sampled": seen, "unbounded": unbounded}
    if current is not None:
        lo, hi, depth = current
        enc, method = comp.enclose(lo, hi)
        out["current"] = {"box": _box(pb, lo, hi), "depth": depth, "method": method,
                          "enclosure": [I.lower(enc), I.upper(enc)] if enc.is_finite()
                          else None}
        ce = out["current"]["enclosure"]
        summary += (". When it stopped, the search was splitting a box at depth "
                    f"{depth}: " + ", ".join(f"{k} in {_iv(a, b)}"
                                             for k, (a, b) in out["current"]["box"].items())
                    + ", enclosure " + ("unbounded" if ce is None else
                                        f"[{_g(ce[0])}, {_g(ce[1])}]") + f" ({method})")
    out["summary"] = summary
    return out


def _g(v) -> str:
    return f"{v:.4g}"


def _iv(a, b) -> str:
    """[a, b] to 4 significant digits, or as many more as tell a from b."""
    for d in (4, 6, 8, 10, 12, 17):
        sa, sb = f"{a:.{d}g}", f"{b:.{d}g}"
        if sa != sb or a == b:
            return f"[{sa}, {sb}]"
    return f"[{a!r}, {b!r}]"
