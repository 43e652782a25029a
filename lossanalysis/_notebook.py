"""A Jupyter notebook (nbformat 4) from a Markdown lesson whose Python blocks are doctests, and
a runner of a notebook's code cells without Jupyter.

:func:`notebook_from_markdown` turns ``docs/lesson.md`` into ``docs/lesson.ipynb``
(``scripts/lesson_notebook.py``): prose becomes Markdown cells, each ```` ```python ```` block
becomes code cells (prompts removed; one cell per run of statements that ends with one that
prints, so that the cell shows what the doctest expects, stored as the cell's output), other
fenced blocks (shell commands) stay in the prose.  A solution between ``<details>`` and
``</details>`` keeps its prose in a collapsed ``<details>`` Markdown cell, and its code cells
are marked hidden (``jupyter.source_hidden`` and ``outputs_hidden``, JupyterLab's collapsed
input and output), tagged ``solution`` and announced by a one-line Markdown cell.  The output is a pure function of the text: the same
Markdown gives the same bytes.

:func:`run_notebook` executes the code cells in order in one namespace, as a kernel would
(the value of a final expression is shown with ``repr``), and compares what each shows with
its stored output (``doctest``'s ELLIPSIS and NORMALIZE_WHITESPACE rules).  Only the standard
library is used: no Jupyter, no new dependency.

Examples
--------
>>> md = "# T\\n\\nSome prose.\\n\\n```python\\n>>> x = 2\\n>>> x + 1\\n3\\n\\n```\\n"
>>> nb = notebook_from_markdown(md)
>>> [c["cell_type"] for c in nb["cells"]], nb["cells"][1]["source"]
(['markdown', 'code'], ['x = 2\\n', 'x + 1'])
>>> nb["cells"][1]["outputs"][0]["data"]["text/plain"]
['3']
>>> run_notebook(nb)
[]
"""
from __future__ import annotations

import ast
import contextlib
import doctest
import io
import json
import re
import traceback
from typing import NamedTuple

__all__ = ["notebook_from_markdown", "notebook_json", "run_notebook", "Mismatch"]

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*\n?", re.S | re.M)
_DETAILS_OPEN = re.compile(r"^<details>\s*\n<summary>(.*?)</summary>\s*\n", re.M)
_DETAILS_CLOSE = "</details>"
_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def _lines(text: str) -> list:
    """nbformat's multi-line string: a list of lines, each but the last ending in a newline."""
    return text.splitlines(keepends=True) if text else []


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": _lines(text.strip("\n"))}


def _output(source: str, want: str) -> list:
    """The stored output of a cell whose last statement is ``source``'s last: a final
    expression other than a ``print(...)`` call shows its value (``execute_result``);
    anything else prints (``stream``)."""
    if not want:
        return []
    text = want.rstrip("\n")
    try:
        last = ast.parse(source).body[-1]
    except (SyntaxError, IndexError):
        last = None
    printed = not isinstance(last, ast.Expr) or (
        isinstance(last.value, ast.Call) and isinstance(last.value.func, ast.Name)
        and last.value.func.id == "print")
    if printed:
        return [{"name": "stdout", "output_type": "stream", "text": _lines(text + "\n")}]
    return [{"data": {"text/plain": _lines(text)}, "execution_count": None, "metadata": {},
             "output_type": "execute_result"}]


def _code_cells(block: str, hidden: bool) -> list:
    """Code cells of one doctest block: statements grouped up to the next one with output."""
    examples = doctest.DocTestParser().get_examples(block)
    cells, sources = [], []
    metadata = ({"jupyter": {"outputs_hidden": True, "source_hidden": True},
                 "tags": ["solution"]} if hidden else {})
    for i, ex in enumerate(examples):
        sources.append(ex.source)
        if ex.want or i == len(examples) - 1:
            source = "".join(sources).rstrip("\n")
            cells.append({"cell_type": "code", "execution_count": None,
                          "metadata": json.loads(json.dumps(metadata)),
                          "outputs": _output(source, ex.want), "source": _lines(source)})
            sources = []
    return cells


def _segments(text: str):
    """(kind, text) in order: "prose", "python" (a doctest block), "details" (the summary)
    and "end" (the end of a details block)."""
    pos = 0
    events = []
    for m in _FENCE.finditer(text):
        events.append((m.start(), m.end(), "python" if m.group(1) == "python" else None, m))
    for m in _DETAILS_OPEN.finditer(text):
        if not any(s <= m.start() < e for s, e, _, _ in events):
            events.append((m.start(), m.end(), "details", m))
    for m in re.finditer(r"^</details>[ \t]*\n?", text, re.M):
        if not any(s <= m.start() < e for s, e, _, _ in events):
            events.append((m.start(), m.end(), "end", m))
    for start, end, kind, m in sorted(events, key=lambda e: e[0]):
        if kind is None:                 # a shell block: part of the prose
            continue
        yield "prose", text[pos:start]
        yield kind, (m.group(2) if kind == "python" else
                     m.group(1) if kind == "details" else "")
        pos = end
    yield "prose", text[pos:]


def notebook_from_markdown(text: str) -> dict:
    """The nbformat-4 notebook of a Markdown lesson (see the module's description).

    Parameters
    ----------
    text : str
        Markdown whose ```` ```python ```` blocks are doctests (``>>>`` statements, expected
        output below them).

    Returns
    -------
    dict
        The notebook, ready for :func:`notebook_json`.

    Raises
    ------
    ValueError
        A ``<details>`` block that is not closed, or closed without being opened.
    """
    cells, prose, summary = [], [], None

    def flush():
        body = "".join(prose).strip("\n")
        prose.clear()
        if not body.strip():
            return
        if summary is not None:
            body = (f"<details>\n<summary>{summary}, explained</summary>\n\n{body}\n\n"
                    "</details>")
        cells.append(_markdown(body))

    for kind, part in _segments(text):
        if kind == "prose":
            prose.append(part)
        elif kind == "python":
            flush()
            if summary is not None and cells[-1]["cell_type"] != "code":
                cells.append(_markdown(f"*{summary}: the code cells below are collapsed "
                                       "(click the bar beside a cell to open it).*"))
            cells.extend(_code_cells(part, hidden=summary is not None))
        elif kind == "details":
            if summary is not None:
                raise ValueError("lesson: a <details> block inside another")
            flush()
            summary = part
        else:
            if summary is None:
                raise ValueError("lesson: </details> without <details>")
            flush()
            summary = None
    if summary is not None:
        raise ValueError("lesson: a <details> block is not closed")
    flush()
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:03d}"
    return {"cells": cells, "metadata": _METADATA, "nbformat": 4, "nbformat_minor": 5}


def notebook_json(notebook: dict) -> str:
    """The notebook as the text of an ``.ipynb`` file (stable key order, one space indent)."""
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


class Mismatch(NamedTuple):
    """A code cell that showed something else than its stored output."""

    index: int
    source: str
    expected: str
    got: str

    def __str__(self):
        return (f"cell {self.index}:\n{self.source}\nexpected:\n{self.expected}\n"
                f"got:\n{self.got}")


def _expected(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            out.append("".join(o["text"]))
        elif o["output_type"] in ("execute_result", "display_data"):
            out.append("".join(o["data"].get("text/plain", [])) + "\n")
    return "".join(out)


def _execute(source: str, namespace: dict) -> str:
    """Run ``source`` as a kernel would; return what it prints and shows."""
    tree = ast.parse(source, "<cell>", "exec")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        # safe: the project's own lesson notebook (docs/lesson.ipynb), run to check it, as a
        # kernel runs it; never a string from a command line
        exec(compile(tree, "<cell>", "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), "<cell>", "eval"),  # safe: as above
                         namespace)
            if value is not None:
                print(repr(value))
    return buffer.getvalue()


def run_notebook(notebook: dict, namespace: dict | None = None, *, timer=None) -> list:
    """Execute the code cells of ``notebook`` in order in one namespace; return the
    :class:`Mismatch` of every cell whose output differs from the stored one ([] if none).

    An exception in a cell is a mismatch (its last traceback line is what the cell "got"), and
    the run goes on.  ``timer(index, seconds)``, when given, is called after each code cell.
    """
    import time

    namespace = {"__name__": "__main__"} if namespace is None else namespace
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    found = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        start = time.perf_counter()
        try:
            got = _execute(source, namespace)
        except Exception:                              # noqa: BLE001 - reported, not hidden
            got = traceback.format_exc().strip().splitlines()[-1] + "\n"
        if timer is not None:
            timer(index, time.perf_counter() - start)
        expected = _expected(cell)
        if not checker.check_output(expected, got, flags):
            found.append(Mismatch(index, source, expected, got))
    return found
