"""Proven, not sampled: certificates for the analysis' statements over the whole domain.

The analysis computes its verdicts on grids ("R > 1 at every sampled y"); this package proves
them for every point of a stated domain, or disproves them with a counterexample box, by branch
and bound in rigorous ball arithmetic (Arb, through python-flint, at 128 bits), with Taylor
forms and their remainder at the statements' singular edges (y = 1/2, delta -> 0) and a
mean-value test at corner points; a point search before the boxes are split finds a false
statement's counterexample (certified on a box in Arb, never a point value alone), and an
undecided certificate says why (:attr:`Certificate.explanation`: where the open boxes lie).
See :mod:`.catalogue` for the statements, :mod:`.certificate` for what a certificate records
and :mod:`.store` for the stored ones (read without SymPy or python-flint; proving needs
``pip install 'lossanalysis[proofs]'``, which :func:`require_flint` checks with a one-line
remedy).  The interval compiler the proofs use is public too: :func:`compile_expr` encloses a
SymPy expression over Arb balls (:func:`ball`) at the working precision :func:`precision` sets.

>>> from lossanalysis import proofs
>>> c = proofs.certificate("proper/bce")
>>> c.verdict, c.family
('proven', 'proper')
"""
from __future__ import annotations

from . import store
from ._interval import ball, compile_expr, precision
from ._interval import flint as require_flint
from .catalogue import EPS, FAMILIES, RANGES, catalogue, get_statement, statements
from .certificate import VERDICTS, Certificate, Condition, Statement, Variable, prove
from .store import certificate, stored, table

__all__ = ["prove", "statements", "catalogue", "get_statement", "Statement", "Condition",
           "Variable", "Certificate", "VERDICTS", "EPS", "RANGES", "FAMILIES", "certificate",
           "stored", "table", "store", "require_flint", "compile_expr", "ball", "precision"]
