"""User strings (a loss's name, a file name) made safe for the formats they are written into.

Each function maps any string to text that the target format shows literally: nothing a user
names a loss can start a LaTeX command (``x}\\input{/etc/hostname}``), switch matplotlib into
mathtext (``$``) or reach a terminal as a control sequence.
"""
from __future__ import annotations

__all__ = ["latex_text", "plain_label"]

_LATEX = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
          "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
          "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


def _printable(s: str) -> str:
    """Control characters (C0, DEL, C1; newlines and tabs too) as ``?``."""
    return "".join("?" if (ord(c) < 32 or 127 <= ord(c) < 160) else c for c in s)


def latex_text(s: str) -> str:
    r"""``s`` for LaTeX text mode (also inside ``\text{...}``): every special character
    escaped, control characters shown as ``?``.

    >>> print(latex_text(r"x}\input{/etc/hostname}"))
    x\}\textbackslash{}input\{/etc/hostname\}
    >>> print(latex_text("a_b 50% $5"))
    a\_b 50\% \$5
    """
    return "".join(_LATEX.get(c, c) for c in _printable(str(s)))


def plain_label(s: str) -> str:
    r"""``s`` for a matplotlib text label: ``$`` escaped (no mathtext), control characters as
    ``?``.

    >>> plain_label("cost $x$")
    'cost \\$x\\$'
    """
    return _printable(str(s)).replace("$", r"\$")
