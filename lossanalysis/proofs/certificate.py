"""Statements over a whole domain, and the certificates that prove or disprove them.

A :class:`Statement` is a conjunction of :class:`Condition` objects, each either

* a **sign** condition: ``expr > 0`` (or ``< 0``) for every point of a box of variables, decided
  by branch and bound in rigorous ball arithmetic (:mod:`._bnb`), with the box's singular edges
  (lines where ``expr`` vanishes identically, corner points where it is 0) handled by Taylor
  forms with their remainder; or
* an **identity**: ``expr == 0`` identically, decided by SymPy's simplification (and refuted by
  a rigorous nonzero value at a point).

:func:`prove` turns a statement into a :class:`Certificate`: the verdict (proven, disproven with
a rigorous counterexample box, or undecided at the budget), the number of boxes, the depth, the
time and, per condition, how each box was decided.  Certificates print, render in Jupyter
(``_repr_latex_``) and serialize to JSON (:meth:`Certificate.to_dict`); a stored certificate
records :meth:`Statement.digest`, the hash of the statement it proves.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from fractions import Fraction

from . import _bnb
from . import _interval as I

__all__ = ["Variable", "Condition", "Statement", "Certificate", "prove", "VERDICTS"]

#: The verdicts of a certificate.
VERDICTS = ("proven", "disproven", "undecided")


def _frac(v) -> Fraction:
    return v if isinstance(v, Fraction) else Fraction(v)


def _show(v) -> str:
    f = _frac(v)
    if f.denominator == 1 or f.denominator <= 1024:
        return str(f)
    k = f.denominator.bit_length() - 1
    if f.denominator == 1 << k:
        if f.numerator == 1:
            return f"2^-{k}"
        if f.numerator == (1 << k) - 1:
            return f"1 - 2^-{k}"
    return repr(float(f))


@dataclass(frozen=True)
class Variable:
    """A variable of a condition and its closed range [lo, hi] (exact binary fractions).

    ``kind`` is "unit" for a probability-like variable in [0, 1] (boxes near an excluded end
    are split geometrically) and "param" for a loss parameter."""

    symbol: object
    lo: Fraction
    hi: Fraction
    kind: str = "unit"

    @property
    def name(self) -> str:
        return str(self.symbol)

    def show(self) -> str:
        return f"{_show(self.lo)} <= {self.name} <= {_show(self.hi)}"


@dataclass(frozen=True)
class Condition:
    """One condition of a statement: ``expr`` > 0, < 0 on a box, or == 0 identically.

    Parameters
    ----------
    words : str
        The condition in words.
    expr : sympy.Expr
        In the symbols of ``variables`` (internal, positive symbols).
    relation : {">", "<", "== 0"}
    variables : tuple of Variable
        The box (sign conditions) or the symbols the identity holds for.
    lines : tuple of (symbol, value)
        Box edges on which ``expr`` may vanish identically (the prover finds to which order,
        by SymPy, and divides it out with a Taylor form).
    corners : tuple of dict
        Box vertices (in some of the variables) where ``expr`` is 0; decided by the mean value
        theorem, so the condition holds on the box minus that corner set.
    """

    words: str
    expr: object
    relation: str
    variables: tuple = ()
    lines: tuple = ()
    corners: tuple = ()

    @property
    def kind(self) -> str:
        return "identity" if self.relation == "== 0" else "sign"

    def sympy(self):
        """The condition as one SymPy boolean: Implies(box, expr > 0) or Eq(expr, 0)."""
        import sympy as sp
        from .._symbols import to_public
        e = to_public(self.expr)
        if self.kind == "identity":
            return sp.Eq(e, 0, evaluate=False)
        box = sp.And(*[sp.And(sp.Le(sp.Rational(v.lo), to_public(v.symbol)),
                              sp.Le(to_public(v.symbol), sp.Rational(v.hi)))
                       for v in self.variables])
        rel = sp.StrictGreaterThan(e, 0) if self.relation == ">" else sp.StrictLessThan(e, 0)
        return sp.Implies(box, rel, evaluate=False)

    def domain(self) -> dict:
        return {v.name: [_show(v.lo), _show(v.hi)] for v in self.variables}

    def fingerprint(self) -> list:
        """The expression's values at three fixed interior points of the box (15 digits, Arb
        at 128 bits): a hash input that follows the mathematics, not SymPy's term order."""
        out = []
        syms = [v.symbol for v in self.variables]
        rest = sorted(self.expr.free_symbols - set(syms), key=str)
        with I.precision():
            fn = I.compile_expr(self.expr, syms + rest)
            for frac in (Fraction(3141, 10000), Fraction(5772, 10000), Fraction(7071, 10000)):
                pt = [v.lo + (v.hi - v.lo) * (frac if j % 2 == 0 else 1 - frac)
                      for j, v in enumerate(self.variables)]
                pt += [frac if j % 2 == 0 else 1 - frac for j in range(len(rest))]
                val = fn([I.ball(Fraction(x)) for x in pt])
                out.append(val.mid().str(15, radius=False) if val.is_finite() else "nan")
        return out

    def _key(self) -> dict:
        return {"words": self.words, "relation": self.relation,
                "variables": [[v.name, str(v.lo), str(v.hi), v.kind] for v in self.variables],
                "lines": [[str(s), str(_frac(c))] for s, c in self.lines],
                "corners": [{str(s): str(_frac(c)) for s, c in cr.items()}
                            for cr in self.corners],
                "fingerprint": self.fingerprint()}


@dataclass(frozen=True)
class Statement:
    """A statement about a loss over a whole domain: a conjunction of conditions.

    Attributes
    ----------
    id : str
        e.g. "proper/bce", "location/focal[gamma=1/2..5]".
    family : str
        "asymmetry", "proper", "location", "noise/prob", "noise/logit", "canonical",
        "mean", "second-order".
    loss : str
        The loss's name.
    parameters : str
        The parameters it covers in words ("default", "gamma in [1/2, 5]", ...).
    words : str
        The statement in words.
    conditions : tuple of Condition
    exclusions : tuple of str
        What the domain leaves out, and why.
    """

    id: str
    family: str
    loss: str
    parameters: str
    words: str
    conditions: tuple
    exclusions: tuple = ()

    def digest(self) -> str:
        """SHA-256 of the statement: its words, exclusions and every condition's relation,
        box, singular edges and the values of its expression at fixed points."""
        key = {"id": self.id, "family": self.family, "loss": self.loss,
               "parameters": self.parameters, "words": self.words,
               "exclusions": list(self.exclusions),
               "conditions": [c._key() for c in self.conditions]}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


@dataclass
class Certificate:
    """The outcome of :func:`prove` (or a stored one, :func:`~lossanalysis.proofs.certificate`).

    Attributes
    ----------
    id, family, loss, parameters, words, exclusions
        As in the statement.
    verdict : str
        "proven" (every condition holds on its whole box), "disproven" (a condition fails: its
        counterexample is a box on which the violation is proven in ball arithmetic, or the
        expression is identically zero where it must be nonzero) or "undecided" (the budget
        ran out, or an expression has no interval evaluation).
    boxes, depth, seconds
        Totals over the conditions: boxes evaluated, deepest subdivision, wall time.
    conditions : list of dict
        Per condition: words, SymPy form, domain, verdict, method, boxes, depth, seconds, the
        vanishing orders found on singular edges, how many boxes each enclosure decided, the
        counterexample and any note.
    digest : str
        :meth:`Statement.digest` of the statement proven.
    versions : dict
        python-flint, SymPy and Arb precision used.
    explanation : str
        Why an undecided certificate is undecided, computed by the prover ("" otherwise): for
        each undecided condition, how many boxes were left open, where they lie (their hull;
        how many near each end of a range and each singular line), the widest enclosure among
        them and the box being split when the budget ran out -- or why the condition could
        not be searched at all (an identity SymPy could not decide, an expression with no
        interval evaluation).
    """

    id: str
    family: str
    loss: str
    parameters: str
    words: str
    exclusions: list
    verdict: str
    boxes: int
    depth: int
    seconds: float
    conditions: list
    digest: str
    versions: dict = field(default_factory=dict)
    explanation: str = ""

    # -- views ----------------------------------------------------------------------------------
    @property
    def counterexample(self):
        """The first failing condition's counterexample (None unless disproven)."""
        for c in self.conditions:
            if c.get("counterexample"):
                return c["counterexample"]
        return None

    def cite(self) -> str:
        """One phrase for a claim's text: "proven on <domain>, certificate <id>"."""
        if self.verdict == "proven":
            return f"proven on the whole domain ({self.domain_words()}), certificate {self.id}"
        return f"certificate {self.id}: {self.verdict}"

    def domain_words(self) -> str:
        parts = []
        for c in self.conditions:
            if c["kind"] == "sign":
                parts.append(", ".join(f"{_show(Fraction(lo))} <= {k} <= {_show(Fraction(hi))}"
                                       if False else f"{k} in [{lo}, {hi}]"
                                       for k, (lo, hi) in c["domain"].items()))
        return "; ".join(dict.fromkeys(parts)) or "identically"

    def __str__(self):
        lines = [f"Certificate {self.id}: {self.verdict.upper()}",
                 f"  loss: {self.loss} ({self.parameters})",
                 f"  statement: {self.words}"]
        for ex in self.exclusions:
            lines.append(f"  excluded: {ex}")
        lines.append(f"  {self.boxes} boxes, depth {self.depth}, {self.seconds:.2f} s")
        if self.explanation:
            lines.append(f"  why undecided: {self.explanation}")
        for k, c in enumerate(self.conditions, 1):
            lines.append(f"  [{k}] {c['words']}: {c['verdict']} ({c['method']})")
            lines.append(f"      {c['sympy']}")
            if c.get("orders"):
                lines.append("      vanishing orders: " + ", ".join(
                    f"{k2} -> {v}" for k2, v in c["orders"].items()))
            if c.get("counterexample"):
                lines.append(f"      counterexample: {c['counterexample']}")
            if c.get("note"):
                lines.append(f"      note: {c['note']}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_latex_(self):
        import sympy as sp
        rows = [r"\text{certificate} & \texttt{" + self.id.replace("_", r"\_") + "}",
                r"\text{verdict} & \text{" + self.verdict + "}",
                r"\text{boxes, depth, time} & " + f"{self.boxes},\\ {self.depth},\\ "
                f"{self.seconds:.2f}" + r"\,\mathrm{s}"]
        for c in self.conditions:
            try:
                tex = sp.latex(sp.sympify(c["sympy"]))  # safe: the certificate's own SymPy text
            except (sp.SympifyError, TypeError, SyntaxError):
                tex = r"\text{" + c["sympy"].replace("_", r"\_") + "}"
            rows.append(r"\text{" + c["verdict"] + "} & " + tex)
        if self.explanation:
            rows.append(r"\text{why undecided} & \text{" + _latex_text(self.explanation)
                        + "}")
        return r"$\begin{array}{ll}" + r" \\ ".join(rows) + r"\end{array}$"

    # -- JSON -----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"id": self.id, "family": self.family, "loss": self.loss,
                "parameters": self.parameters, "words": self.words,
                "exclusions": list(self.exclusions), "verdict": self.verdict,
                "boxes": self.boxes, "depth": self.depth, "seconds": round(self.seconds, 3),
                "conditions": self.conditions, "digest": self.digest,
                "versions": self.versions, "explanation": self.explanation}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict) -> "Certificate":
        try:
            return cls(d["id"], d["family"], d["loss"], d["parameters"], d["words"],
                       list(d["exclusions"]), d["verdict"], int(d["boxes"]), int(d["depth"]),
                       float(d["seconds"]), list(d["conditions"]), d["digest"],
                       dict(d.get("versions", {})), str(d.get("explanation", "")))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"not a certificate: {err}") from None


def _latex_text(s: str) -> str:
    """Plain text for a LaTeX \\text{...}: its special characters escaped."""
    esc = {"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#",
           "$": r"\$", "{": r"\{", "}": r"\}", "^": r"\^{}", "~": r"\~{}"}
    return "".join(esc.get(ch, ch) for ch in s)


# ----------------------------------------------------------------------------------------------
# Proving
# ----------------------------------------------------------------------------------------------
_MAX_ORDER = 6


def _is_zero(e) -> bool:
    """Whether SymPy proves e == 0 identically (a rigorous nonzero value at a point first
    rules it out cheaply)."""
    import sympy as sp
    if e == 0:
        return True
    free = sorted(e.free_symbols, key=str)
    try:
        with I.precision():
            fn = I.compile_expr(e, free)
            for k in range(3):
                val = fn([I.ball(Fraction(3 + 2 * k + j, 11 + 3 * k + j)) for j in
                          range(len(free))])
                if val.is_finite() and (val > 0 or val < 0):
                    return False
    except I.Unsupported:
        pass
    try:
        s = sp.simplify(e)
        if s == 0:
            return True
        return sp.simplify(sp.expand_log(sp.expand(s), force=False)) == 0
    except (TypeError, ValueError, NotImplementedError, RecursionError):
        return False


def _nonzero_point(e, variables):
    """A point (dict) where e is rigorously nonzero, or None."""
    syms = [v.symbol for v in variables] or sorted(e.free_symbols, key=str)
    try:
        with I.precision():
            fn = I.compile_expr(e, syms)
            for frac in (Fraction(1, 3), Fraction(1, 5), Fraction(3, 7), Fraction(2, 9)):
                pt = []
                for j, v in enumerate(variables or [None] * len(syms)):
                    f = frac if j % 2 == 0 else 1 - frac
                    pt.append(v.lo + (v.hi - v.lo) * f if v is not None else f)
                val = fn([I.ball(Fraction(x)) for x in pt])
                if val.is_finite() and (val > 0 or val < 0):
                    return {str(s): float(x) for s, x in zip(syms, pt)} | {
                        "value": float(val.mid())}
    except I.Unsupported:
        return None
    return None


def _smooth(e) -> bool:
    import sympy as sp
    from ..losses import NONSMOOTH_FUNCTIONS
    return not e.has(*(getattr(sp, f) for f in NONSMOOTH_FUNCTIONS))


def _vanishing_order(f, x, c, smooth, sub=None) -> int:
    """The k such that f and its first k - 1 derivatives in x vanish at x = c identically
    (SymPy; where it cannot tell, again after the substitution ``sub`` of the other unit
    variables, :func:`_open_unit_substitution`), at most :data:`_MAX_ORDER`; for a non-smooth
    f at most 1 (it is then divided symbolically, never through derivatives)."""
    import sympy as sp
    k = 0
    e = f
    top = _MAX_ORDER if smooth else 1
    while k < top:
        at = e.subs(x, c)
        if isinstance(at, sp.Expr) and at.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            break
        if not _is_zero(at) and not (sub and _is_zero(at.subs(sub, simultaneous=True))):
            break
        k += 1
        e = sp.diff(e, x)
    return k


def _condition_result(cond: Condition, **kw) -> dict:
    base = {"words": cond.words, "kind": cond.kind, "sympy": str(cond.sympy()),
            "domain": cond.domain(), "verdict": "undecided", "method": "", "boxes": 0,
            "depth": 0, "seconds": 0.0}
    base.update(kw)
    return base


def _open_unit_substitution(cond: Condition):
    """{v: 1/(1 + a_v)} with a_v > 0 for the unit variables of a condition in [0, 1] (None if
    it has none): a bijection of (0, infinity) onto (0, 1), under which every factor y, 1 - y, p,
    1 - p is a quotient of positive symbols, so SymPy may split the logarithms of products
    (log(p/(1 - p)) = log p - log(1 - p)) that it must leave whole for a bare y or p."""
    import sympy as sp
    units = [v for v in cond.variables if v.kind == "unit" and 0 <= v.lo and v.hi <= 1]
    if not units:
        return None
    return {v.symbol: 1 / (1 + sp.Symbol(f"a_{v.name}", positive=True)) for v in units}


def _prove_identity(cond: Condition) -> dict:
    start = time.perf_counter()
    if _is_zero(cond.expr):
        return _condition_result(cond, verdict="proven", method="SymPy: simplifies to 0",
                                 seconds=round(time.perf_counter() - start, 3))
    sub = _open_unit_substitution(cond)
    if sub is not None and _is_zero(cond.expr.subs(sub, simultaneous=True)):
        return _condition_result(
            cond, verdict="proven", method="SymPy: simplifies to 0 with each unit variable "
            "v = 1/(1 + a_v), a_v > 0 (every v in the open interval (0, 1))",
            seconds=round(time.perf_counter() - start, 3))
    pt = _nonzero_point(cond.expr, cond.variables)
    if pt is not None:
        return _condition_result(cond, verdict="disproven",
                                 method="rigorous nonzero value at a point",
                                 counterexample={"point": pt},
                                 seconds=round(time.perf_counter() - start, 3))
    return _condition_result(cond, verdict="undecided",
                             method="SymPy could not simplify it to 0",
                             seconds=round(time.perf_counter() - start, 3))


def _prove_sign(cond: Condition, max_seconds, progress) -> dict:
    import sympy as sp
    start = time.perf_counter()
    f = cond.expr if cond.relation == ">" else -cond.expr
    syms = [v.symbol for v in cond.variables]
    smooth = _smooth(f)
    if not smooth:   # sign(y (1 - t) - y) -> sign(-y t) -> -1 on the positive symbols
        f = f.replace(lambda n: isinstance(n, (sp.sign, sp.Abs, sp.Heaviside)),
                      lambda n: n.func(sp.factor(n.args[0])))
        smooth = _smooth(f)
    if _is_zero(f):
        box = {v.name: [float(v.lo), float(v.hi)] for v in cond.variables}
        return _condition_result(
            cond, verdict="disproven", method="SymPy: the expression is identically 0",
            counterexample={"box": box, "g_upper": 0.0},
            seconds=round(time.perf_counter() - start, 3))
    lines, orders = [], {}
    unit_sub = _open_unit_substitution(cond) or {}
    for sym, c in cond.lines:
        k = _vanishing_order(f, sym, sp.Rational(_frac(c)), smooth,
                             {s: v for s, v in unit_sub.items() if s != sym})
        orders[f"{sym} = {_show(c)}"] = k
        lines.append((syms.index(sym), float(_frac(c)), k))
    if smooth and lines and f.is_rational_function(*syms):
        # a rational function: divide the vanishing factors out exactly, so that no Taylor
        # form (and no cancellation near the line) is needed
        g = f
        for (i, c, k), (sym, cv) in zip(lines, cond.lines):
            side = 1 if float(_frac(cv)) <= float(cond.variables[i].lo) else -1
            g = g / (side * (sym - sp.Rational(_frac(cv)))) ** k
        g = sp.factor(sp.cancel(g))
        if all(not g.subs(sym, sp.Rational(_frac(cv))).has(sp.zoo, sp.nan, sp.oo)
               for sym, cv in cond.lines):
            f, lines = g, []
            orders = {k2: f"{v} (divided out exactly)" for k2, v in orders.items()}
    corners = []
    for cr in cond.corners:
        at = f.subs({s: sp.Rational(_frac(c)) for s, c in cr.items()})
        if _is_zero(at):
            corners.append((tuple(syms.index(s) for s in cr),
                            tuple(float(_frac(c)) for c in cr.values())))
    pb = _bnb.Problem(tuple(syms), [float(v.lo) for v in cond.variables],
                      [float(v.hi) for v in cond.variables], f, lines=lines, corners=corners,
                      kinds=tuple(v.kind for v in cond.variables), smooth=smooth)
    for v in cond.variables:
        if float(v.lo) != v.lo or float(v.hi) != v.hi:
            raise ValueError(f"the range of {v.name} must be exact binary fractions")
    remaining = max(0.5, max_seconds - (time.perf_counter() - start))
    try:
        out = _bnb.search(pb, max_seconds=remaining, progress=progress)
    except I.Unsupported as err:
        return _condition_result(cond, verdict="undecided", method=f"not evaluable: {err}",
                                 orders=orders,
                                 seconds=round(time.perf_counter() - start, 3))
    method = "branch and bound, Arb balls at 128 bits"
    return _condition_result(
        cond, verdict=out.verdict, method=method, boxes=out.boxes, depth=out.depth,
        seconds=round(time.perf_counter() - start, 3), orders=orders,
        by_method=dict(sorted(out.by_method.items())),
        corners=[{str(syms[d]): _show(c) for d, c in zip(dims, pt)} for dims, pt in corners],
        counterexample=out.counterexample, note=out.note, points=out.points,
        undecided=out.undecided)


def prove(statement: Statement, *, max_seconds: float = 60.0, progress=None) -> Certificate:
    """Prove or disprove ``statement``; the budget is shared by its conditions.

    Parameters
    ----------
    statement : Statement
    max_seconds : float
        Wall-time budget (default 60 s); past it the verdict is "undecided".
    progress : callable, optional
        Called as ``progress(boxes, open_boxes, seconds)`` every 5 s of a long search.

    Returns
    -------
    Certificate

    Raises
    ------
    ImportError
        python-flint is not installed (``pip install 'lossanalysis[proofs]'``).
    """
    I.flint()
    import sympy as sp
    for cond in statement.conditions:
        e = sp.sympify(cond.expr)  # safe: a SymPy expression (or a number), never text
        if e.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise ValueError(f"statement: the condition {cond.words!r} of {statement.id} is "
                             f"undefined (its expression is {e}, not a function to bound)")
    start = time.perf_counter()
    results = []
    for cond in statement.conditions:
        left = max_seconds - (time.perf_counter() - start)
        if cond.kind == "identity":
            r = _prove_identity(cond)
        else:
            r = _prove_sign(cond, left, progress)
        results.append(r)
        if r["verdict"] == "disproven":
            break
    verdicts = [r["verdict"] for r in results]
    verdict = ("disproven" if "disproven" in verdicts else
               "proven" if len(results) == len(statement.conditions)
               and all(v == "proven" for v in verdicts) else "undecided")
    import flint
    why = _explanation(results, len(statement.conditions)) if verdict == "undecided" else ""
    return Certificate(
        statement.id, statement.family, statement.loss, statement.parameters, statement.words,
        list(statement.exclusions), verdict, sum(r["boxes"] for r in results),
        max([r["depth"] for r in results] or [0]), time.perf_counter() - start, results,
        statement.digest(), {"python-flint": flint.__version__, "sympy": sp.__version__,
                             "bits": I.PREC}, why)


def _explanation(results, total) -> str:
    """Why a statement is undecided: each undecided condition's reason, computed by the
    prover (the open boxes' description, or why none could be evaluated)."""
    parts = []
    for k, r in enumerate(results, 1):
        if r["verdict"] != "undecided":
            continue
        head = f"condition [{k}] ({r['words']}): "
        if r.get("undecided"):
            parts.append(head + r["undecided"]["summary"])
        elif r["kind"] == "identity":
            parts.append(head + r["method"] + " (nor is it nonzero at a sampled point)")
        else:
            parts.append(head + (r.get("note") or r["method"] or "no verdict"))
    if len(results) < total:
        parts.append(f"conditions [{len(results) + 1}]..[{total}] not attempted")
    return " | ".join(parts) or "no verdict"
