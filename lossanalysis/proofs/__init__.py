"""Proven, not sampled: certificates for the analysis' statements over the whole domain."""
from __future__ import annotations

from .catalogue import EPS, FAMILIES, RANGES, catalogue, get_statement, statements
from .certificate import VERDICTS, Certificate, Condition, Statement, Variable, prove

__all__ = ["prove", "statements", "catalogue", "get_statement", "Statement", "Condition",
           "Variable", "Certificate", "VERDICTS", "EPS", "RANGES", "FAMILIES"]
