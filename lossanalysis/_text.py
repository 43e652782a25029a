r"""The one place where a user's string is made safe for where it is shown.

A file name, a dataset name or a loss name comes from a user and may hold anything a file
system allows: escape sequences that repaint a terminal (``\x1b[2J``), a newline that forges
an ``error:`` line, Markdown that turns into a link or a heading, LaTeX that runs ``\input``.
Each function here returns text that shows the string as it is, literally, in one medium:

* :func:`terminal`: control characters (C0, DEL, C1, and the Unicode line and paragraph
  separators and bidirectional overrides) as visible ``\xNN``/``\uNNNN`` escapes, so the string
  stays on one line and cannot move the cursor;
* :func:`markdown`: :func:`terminal`, then the characters that open Markdown markup inside a
  line backslash-escaped (CommonMark allows escaping any ASCII punctuation): emphasis ``* _ ~``,
  code `````, links and images ``[ ] !``, HTML ``< >``, headings ``#``, table cells ``|``, math
  ``$``, the escape ``\`` itself, and ``&`` where it could start an entity -- so the string is
  plain text inside a paragraph, a heading or a table cell, and still reads well as text;
* :func:`latex`: :func:`terminal`, then the ten LaTeX specials (``\ { } $ & # ^ _ % ~``) as
  text-mode commands, so the string is typeset as text and never read as a command.

Examples
--------
>>> print(terminal("\x1b[2J\nerror: fake\r.png"))
\x1b[2J\nerror: fake\r.png
>>> markdown("*not bold* [x](y)")
'\\*not bold\\* \\[x\\](y)'
>>> latex(r"x}\input{/etc/hostname}")
'x\\}\\textbackslash{}input\\{/etc/hostname\\}'
"""
from __future__ import annotations

import re

__all__ = ["terminal", "markdown", "latex", "plain_label", "one_line"]

_NAMED = {"\n": r"\n", "\r": r"\r", "\t": r"\t"}
# C0 controls, DEL, C1 controls, line/paragraph separators, bidirectional marks and overrides
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_~\[\]!<>#|$]|&(?=[A-Za-z#]))")
_TEX = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
        "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
        **{c: "\\" + c for c in "{}$&#_%"}}


def _visible(match: re.Match) -> str:
    c = match.group()
    if c in _NAMED:
        return _NAMED[c]
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def terminal(text) -> str:
    r"""``text`` (any object, through ``str``) with its control characters shown as escapes.

    >>> terminal("a\tb\u202ec")
    'a\\tb\\u202ec'
    """
    return _CONTROL.sub(_visible, str(text))


def markdown(text) -> str:
    r"""``text`` as literal Markdown text: :func:`terminal`, then the markup characters escaped.

    >>> markdown("# x | y_1 (a & b)")
    '\\# x \\| y\\_1 (a & b)'
    """
    return _MD_SPECIAL.sub(r"\\\1", terminal(text))


def latex(text) -> str:
    r"""``text`` as literal LaTeX text: :func:`terminal`, then the specials as text commands.

    >>> latex("50% of a_b & c")
    '50\\% of a\\_b \\& c'
    """
    return "".join(_TEX.get(c, c) for c in terminal(text))


def plain_label(text) -> str:
    r"""``text`` for a matplotlib label: :func:`terminal`, and ``$`` escaped, so a user's name
    never switches the label into mathtext.

    >>> plain_label("cost $x$")
    'cost \\$x\\$'
    """
    return terminal(text).replace("$", r"\$")


def one_line(message: str) -> str:
    r"""A multi-line message on one line: list items (``  - x``) joined by commas.

    >>> one_line("looked for f in\n  - /a\n  - /b\nTo get the files, ...")
    'looked for f in /a, /b. To get the files, ...'
    """
    out, items = [], []
    for line in str(message).splitlines():
        if line.lstrip().startswith("- "):
            items.append(line.lstrip()[2:])
            continue
        if items:
            out.append(", ".join(items) + ".")
            items = []
        out.append(line.strip())
    if items:
        out.append(", ".join(items))
    return " ".join(part for part in out if part)
