"""Input handling and constants shared by the analysis modules (private)."""
from __future__ import annotations

import numpy as np

from .._inputs import as_output, unit_interval
from .._symbols import to_public
from .._text import latex as latex_text
from ..losses import Loss

_EPS = np.finfo(np.float64).eps
# The search interval for a minimizer in p: [P_LO, P_HI] are the extreme floats at which every
# catalogue gradient is finite; a minimizer below P_LO (above P_HI) is reported as 0 (1).
_P_LO = 1e-300
_P_HI = 1.0 - 2.0 ** -53


def _targets(y, arg="y", loss: Loss | None = None, open_=False):
    """float64 array of targets in [0, 1] (in (0, 1) for open-domain losses or ``open_``)."""
    by_loss = loss is not None and loss.target_domain == "open"
    why = f" for {loss.name} (its targets must lie strictly inside)" if by_loss else ""
    return unit_interval(y, arg, open_=open_ or by_loss, why=why)


_out = as_output


def _public_fields(result):
    """A frozen result dataclass with every SymPy field in the public symbols."""
    import dataclasses
    changes = {f.name: to_public(getattr(result, f.name)) for f in dataclasses.fields(result)}
    return dataclasses.replace(result, **changes)


def _show(v, indent=0):
    """repr of a field value; SymPy expressions as their (public) string; a non-empty dict with
    one entry per line, continued ``indent`` columns in."""
    if isinstance(v, dict) and v:
        sep = ",\n" + " " * (indent + 1)
        return "{" + sep.join(f"{k!r}: " + _show(x, indent + len(repr(k)) + 3)
                              for k, x in v.items()) + "}"
    if hasattr(v, "free_symbols"):
        return str(v)
    if isinstance(v, float):
        return repr(float(v))
    return repr(v)


def _result_repr(obj):
    """A multi-line repr of a frozen result dataclass: one field per line (a dict field with one
    entry per line), aligned after the opening parenthesis."""
    import dataclasses
    name = type(obj).__name__
    pad = len(name) + 1
    parts = [f"{f.name}=" + _show(getattr(obj, f.name), pad + len(f.name) + 1)
             for f in dataclasses.fields(obj)]
    return f"{name}(" + (",\n" + " " * pad).join(parts) + ")"


def _tex_text(s):
    """Plain text for LaTeX's \\text{...} (every special character escaped)."""
    return latex_text(s)


def _result_latex(obj, labels):
    """LaTeX (for Jupyter's ``_repr_latex_``) of a frozen result dataclass: a two-column array of
    its fields, SymPy fields as formulas (``labels`` maps a field to the LaTeX of its name),
    the rest as text; the ``evidence`` dict is left to the repr."""
    import dataclasses

    import sympy as sp
    rows = []
    for f in dataclasses.fields(obj):
        if f.name == "evidence":
            continue
        v = getattr(obj, f.name)
        label = labels.get(f.name, r"\text{" + _tex_text(f.name.replace("_", " ")) + "}")
        body = sp.latex(v) if isinstance(v, sp.Basic) else r"\text{" + _tex_text(str(v)) + "}"
        rows.append(label + " & " + body)
    return (r"$\displaystyle \begin{array}{ll}" + r" \\ ".join(rows) + r"\end{array}$")
