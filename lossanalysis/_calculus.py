"""Differentiation of a loss expression that stays small (imports SymPy; loaded on first use).

SymPy differentiates ``Max(a_1, ..., a_n)`` into Heaviside functions of ``a_i - Max(others)``,
which nest one level deeper with every derivative (n! terms by the second), and prints them for
NumPy through a chain of rewrites that takes seconds and can emit a condition NumPy refuses.
:func:`calculus_form` writes ``Max``/``Min`` as the branch that attains them instead -- a
:class:`Select`, a ``Piecewise`` with conditions a_i >= a_j (j > i) -- whose derivatives are the
branches' derivatives (O(n^2) in size for every order; the distributional terms at the crossings,
where the derivative does not exist, are dropped, as for every kink).  :class:`Select` is a
``Piecewise`` that SymPy does not re-simplify after each derivative (its automatic collapse of
equal branches turns the conditions into conjunctive normal form, exponential in n).
:func:`public_form` turns it back into an ordinary ``Piecewise`` for results shown to users.

>>> import sympy as sp
>>> p = sp.Symbol("p")
>>> derivative(sp.Max(p**2, 1 - p), p)
Piecewise((2*p, p**2 >= 1 - p), (-1, True))
"""
from __future__ import annotations

import sympy as sp

from . import _budget

__all__ = ["Select", "Max", "Min", "calculus_form", "public_form", "derivative", "numeric_form"]


class Piecewise(sp.Piecewise):
    """A Piecewise that is not re-simplified when rebuilt (by ``diff``, ``subs``, ...).  Named
    Piecewise so that every SymPy printer (str, LaTeX, NumPy) prints it as one."""

    @classmethod
    def eval(cls, *args):
        return None


#: The branch-selecting Piecewise of :func:`calculus_form`.
Select = Piecewise


class _QuickMinMax:
    """Max/Min that keep their arguments as given (duplicates and nested Max flattened, numbers
    compared): SymPy's own constructor compares every pair of arguments symbolically, 0.6 s for
    eight quadratics, and runs again on every rebuild (substitution, differentiation)."""

    @classmethod
    def _collapse_arguments(cls, args, **assumptions):
        return args

    @classmethod
    def _find_localzeros(cls, values, **options):
        values = set(values)
        numbers = [v for v in values if v.is_comparable]
        if len(numbers) > 1:
            keep = cls._best_number(numbers)
            values = {v for v in values if not v.is_comparable} | {keep}
        return values


class Max(_QuickMinMax, sp.Max):
    """``sympy.Max`` without the pairwise symbolic comparison (named Max: prints as one)."""

    @staticmethod
    def _best_number(numbers):
        return max(numbers, key=lambda v: float(v))


class Min(_QuickMinMax, sp.Min):
    """``sympy.Min`` without the pairwise symbolic comparison (named Min: prints as one)."""

    @staticmethod
    def _best_number(numbers):
        return min(numbers, key=lambda v: float(v))


def _as_select(node, ge):
    args = list(node.args)
    pairs = [(a, sp.And(*[ge(a, b) for b in args[i + 1:]])) for i, a in enumerate(args[:-1])]
    pairs.append((args[-1], sp.true))
    return Select(*pairs)


def calculus_form(expr):
    """``expr`` with every Max/Min written as a :class:`Select` (the branch attaining it)."""
    if not expr.has(sp.Max, sp.Min):
        return expr

    def rebuild(node):
        if not node.args:
            return node
        new = [rebuild(a) for a in node.args]
        if isinstance(node, sp.Max):
            return _as_select(node.func(*new, evaluate=False), sp.Ge)
        if isinstance(node, sp.Min):
            return _as_select(node.func(*new, evaluate=False), sp.Le)
        if all(n is o for n, o in zip(new, node.args)):
            return node
        return node.func(*new)
    return rebuild(expr)


def public_form(expr):
    """``expr`` with every :class:`Select` as an ordinary (unevaluated) ``Piecewise``."""
    if not hasattr(expr, "atoms") or not expr.atoms(Select):
        return expr
    return expr.replace(lambda n: isinstance(n, Select),
                        lambda n: sp.Piecewise(*n.args, evaluate=False))


def derivative(expr, x, k: int = 1, step: str = "differentiating"):
    """The k-th derivative of the calculus form of ``expr`` in ``x``, each step within the
    symbolic budget (:func:`lossanalysis._budget.checked`)."""
    out = calculus_form(expr)
    for _ in range(k):
        out = _budget.checked(sp.diff(out, x), step)
    return out


def numeric_form(expr):
    """``expr`` for NumPy: exact integers and fractions beyond 2^53 as floats (NumPy would
    otherwise compute with Python objects: ``2*10**300*p`` gives an array of dtype object), and
    the Dirac deltas of differentiated kinks as 0 (the derivative off the kink)."""
    big = {n: sp.Float(n, 17) for n in expr.atoms(sp.Rational)
           if abs(int(n.p)) > 2 ** 53 or int(n.q) > 2 ** 53}
    out = expr.xreplace(big) if big else expr
    if out.has(sp.DiracDelta):
        out = out.replace(sp.DiracDelta, lambda *a: sp.Integer(0))
    return out
