"""All symbolic results of a loss in one place, and a standalone LaTeX document of them."""
from __future__ import annotations

import functools

from .._budget import SymbolicBudgetError
from .._text import latex as latex_text
from .._symbols import to_public
from ..losses import LOSSES, Loss, as_loss
from ._symbolic import _dp, _dp_at_target, _expr, _regular, _sp, _task, _tidy
from .asymmetry import _asymmetry
from .gradients import _effective_weight_expr, _logit_gradient_expr
from .minimizers import _argmin_expr
from .noise import _logit_noise_formula, _noise_coefficient

__all__ = ["derivations", "derivations_latex"]

#: The rows of :func:`derivations`, each a function of the loss.
_ROWS = {
    "loss": _expr,
    "dL/dp": lambda loss: _tidy(_dp(loss, 1)),
    "dL/dz": _logit_gradient_expr,
    "curvature": lambda loss: _regular(_dp_at_target(loss, 2)),
    "effective weight": _effective_weight_expr,
    "asymmetry": lambda loss: _asymmetry(loss).leading_term(),
    "minimizer": _argmin_expr,
    "noise bias prob": lambda loss: _noise_coefficient(loss, "prob"),
    "noise bias logit": lambda loss: _noise_coefficient(loss, "logit"),
}


@functools.lru_cache(maxsize=None)
def _derivations(loss: Loss):
    """The rows; for a user's loss all of them share one symbolic budget, and a row that
    exceeds it is None, its reason under the key "beyond budget"."""
    out, skipped = {}, {}
    try:
        with _task(loss, "the derivations"):
            for key, row in _ROWS.items():
                try:
                    with _task(loss, f"the derivations ({key})"):
                        out[key] = row(loss)
                except SymbolicBudgetError as err:
                    out[key] = None
                    skipped[key] = str(err)
    except SymbolicBudgetError as err:        # the budget ran out between rows
        for key in _ROWS:
            if key not in out or (out[key] is None and key not in skipped):
                out[key] = None
                skipped[key] = str(err)
    out = {key: out.get(key) for key in _ROWS}
    if skipped:
        out["beyond budget"] = skipped
    return out


def derivations(loss) -> dict:
    """Every symbolic result for one loss.

    Parameters
    ----------
    loss : str or Loss
        A catalogue name or a :class:`~lossanalysis.losses.Loss`.

    Returns
    -------
    dict
        SymPy expressions in y, p (and d), None where none exists.  Keys: "loss" L(y, p);
        "dL/dp"; "dL/dz" (in p = sigmoid(z), :func:`logit_gradient_expr`); "curvature"
        L_pp(y, y); "effective weight" L_pp(y, y)/2 (:func:`effective_weight_expr`);
        "asymmetry" the leading odd term of L(y, y + d) - L(y, y - d) (in the symbol d; see
        :func:`asymmetry_coefficient`); "minimizer" :func:`argmin_expr`; "noise bias prob" /
        "noise bias logit" the sigma^2 coefficients of :func:`noise_bias_series` (in y and
        p = p*(y) when the minimizer has no closed form).  Cached per loss.

        For a user's loss every row is computed within one symbolic budget
        (:func:`lossanalysis.symbolic_limits`); a row that would exceed it is None, and the
        extra key "beyond budget" maps it to the reason (a string).

    Examples
    --------
    >>> d = derivations("bce")
    >>> d["dL/dz"], d["curvature"], d["noise bias logit"]
    (p - y, 1/(y*(1 - y)), 0)
    """
    der = dict(_derivations(as_loss(loss)))
    if "beyond budget" in der:
        der["beyond budget"] = dict(der["beyond budget"])
    return to_public(der)


def _latex(e):
    """LaTeX of a SymPy expression, with Piecewise written without the cases environment (so
    that the formula also parses with matplotlib's mathtext)."""
    sp = _sp()
    from sympy.printing.latex import LatexPrinter

    class _Printer(LatexPrinter):
        def _print_Piecewise(self, expr):
            parts = []
            for value, cond in expr.args:
                if cond == sp.true:
                    parts.append(rf"{self._print(value)} \ \mathrm{{otherwise}}")
                else:
                    parts.append(rf"{self._print(value)} \ \mathrm{{if}}\ {self._print(cond)}")
            return r"\left\{ " + r";\quad ".join(parts) + r" \right."

    return _Printer({"ln_notation": True}).doprint(e)


_LATEX_ROWS = (
    ("loss", "Loss", r"L(y, p) = {}"),
    ("dL/dp", "Gradient in the prediction", r"\frac{{\partial L}}{{\partial p}} = {}"),
    ("dL/dz", r"Gradient in the logit ($p = \sigma(z)$)", r"\frac{{\partial L}}{{\partial z}} = {}"),
    ("curvature", "Curvature at the target", r"L_{{pp}}(y, y) = {}"),
    ("effective weight", "Curvature relative to MSE",
     r"\frac{{L_{{pp}}(y, y)}}{{L^{{\mathrm{{MSE}}}}_{{pp}}}} = {}"),
    ("asymmetry", "Leading odd term",
     r"L(y, y + d) - L(y, y - d) = {}"),
    ("minimizer", "Point-target minimizer", r"p^{{\star}}(y) = {}"),
    ("noise bias prob", r"Noise bias, probability space ($\sigma^2$ coefficient)",
     r"b_2^{{\mathrm{{prob}}}} = {}"),
    ("noise bias logit", r"Noise bias, logit space ($\sigma^2$ coefficient)",
     r"b_2^{{\mathrm{{logit}}}} = {}"),
)


def _latex_within_budget(loss, e):
    """LaTeX of a row; for a user's loss within the symbolic budget (printing a huge
    expression is itself costly), else a note."""
    try:
        with _task(loss, "the LaTeX"):
            return _latex(e)
    except SymbolicBudgetError:
        return r"\text{beyond the symbolic budget}"


def _general_noise_latex(space):
    formula, l2, l3 = _logit_noise_formula()
    if space == "prob":
        formula = -l3 / (2 * l2)
    return r"b_2^{\mathrm{" + space + "}} = " + _latex(formula)


_tex_escape = latex_text


def derivations_latex(losses=LOSSES) -> str:
    """A standalone LaTeX document (article + amsmath) with :func:`derivations` of each loss.

    Parameters
    ----------
    losses : str, Loss or iterable of them, optional
        The losses, one section each (default: the whole catalogue, ``LOSSES``).

    Returns
    -------
    str
        The document.  Each formula is a display ``\\[ ... \\]`` whose body also parses with
        matplotlib's mathtext.  Deterministic: the same SymPy version gives the same bytes.
        ``scripts/derive.py`` writes it to ``figures/derivations.tex``.

    Examples
    --------
    >>> tex = derivations_latex("mse")
    >>> tex.splitlines()[0], r"\\subsection*{mse}" in tex
    ('\\\\documentclass{article}', True)
    """
    names = [losses] if isinstance(losses, (str, Loss)) else list(losses)
    out = [
        r"\documentclass{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath}",
        r"\allowdisplaybreaks",
        r"\begin{document}",
        r"\section*{Reconstruction losses: derivations}",
        "Generated by \\texttt{scripts/derive.py} from the loss catalogue "
        "(\\texttt{lossanalysis.losses}) with SymPy. Targets $y \\in [0, 1]$, predictions "
        "$p = \\sigma(z) \\in (0, 1)$, $d = p - y$. Noise-bias coefficients: the bias of the "
        "mean prediction is $\\mathrm{E}[p] - y = (p^{\\star} - y) + b_2 \\sigma^2 + "
        "O(\\sigma^4)$; where $p^{\\star}$ has no closed form, $p$ stands for "
        "$p^{\\star}(y)$, the root of $\\partial L/\\partial p = 0$. With "
        "$L_k = \\partial^k L/\\partial p^k$ at $(y, p^{\\star})$, the general coefficients "
        "are, in probability space and in logit space:",
        r"\[ " + _general_noise_latex("prob") + r" \]",
        r"\[ " + _general_noise_latex("logit") + r" \]",
        "",
    ]
    for name in names:
        loss = as_loss(name)
        der = _derivations(loss)
        skipped = der.get("beyond budget", {})
        params = ", ".join(f"{k} = {v:g}" for k, v in loss.params.items())
        title = _tex_escape(loss.name) + (f" ({_tex_escape(params)})" if params else "")
        out.append(rf"\subsection*{{{title}}}")
        asym = None if "asymmetry" in skipped else _asymmetry(loss)
        for key, label, fmt in _LATEX_ROWS:
            val = der[key]
            if key in skipped:
                body = r"\text{beyond the symbolic budget}"
            elif val is None:
                body = r"\text{no closed form}" if key == "minimizer" else r"\text{none (kink)}"
            else:
                body = _latex_within_budget(loss, val)
            note = ""
            if key == "asymmetry" and asym is not None:
                tail = "" if asym.order is None else rf" + O(d^{{{asym.order + 2}}})"
                body = body + tail
                note = f" ({asym.sign}: {asym.classification})"
            out.append(f"{label}{_tex_escape(note)}:")
            display = r"\[ " + fmt.format(body) + r" \]"
            # long formulas in a smaller font (they may still run into the margin)
            out.append(display if len(body) < 300 else r"{\footnotesize " + display + "}")
        out.append("")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
