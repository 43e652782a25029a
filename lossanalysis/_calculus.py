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

__all__ = ["Select", "calculus_form", "public_form", "derivative"]


class Piecewise(sp.Piecewise):
    """A Piecewise that is not re-simplified when rebuilt (by ``diff``, ``subs``, ...).  Named
    Piecewise so that every SymPy printer (str, LaTeX, NumPy) prints it as one."""

    @classmethod
    def eval(cls, *args):
        return None


#: The branch-selecting Piecewise of :func:`calculus_form`.
Select = Piecewise


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
