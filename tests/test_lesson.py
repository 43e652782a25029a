"""docs/lesson.md and its notebook: the notebook is the lesson (regenerated, the same cells) and
runs (every code cell shows what the lesson says, in one namespace, without Jupyter); every
block pastes into a Python prompt; every exercise has a hidden solution; every figure it shows
is committed and made by a command it gives; its timings come from the benchmark."""
import code
import json
import re
from pathlib import Path

import pytest

from lossanalysis._notebook import notebook_from_markdown, run_notebook

REPO = Path(__file__).resolve().parents[1]
LESSON = REPO / "docs" / "lesson.md"
NOTEBOOK = REPO / "docs" / "lesson.ipynb"

#: Which command makes each committed figure the lesson shows.
MAKERS = {
    "figures/asymmetry.png": "lossanalysis figure asymmetry",
    "figures/bias.png": "lossanalysis figure bias",
    "figures/gradients.png": "lossanalysis figure gradients",
    "figures/compare_mnist.png": "lossanalysis compare --losses mse,bce --n-train 5000 --epochs 3",
}


def _text():
    return LESSON.read_text(encoding="utf-8")


def _blocks(text):
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)


def test_the_notebook_is_the_lesson():
    committed = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    regenerated = notebook_from_markdown(_text())
    assert committed["cells"] == regenerated["cells"], \
        "docs/lesson.ipynb is stale: run python scripts/lesson_notebook.py"
    assert committed["nbformat"] == 4 and committed["metadata"]["kernelspec"]["language"] == \
        "python"
    solutions = [c for c in committed["cells"] if "solution" in c["metadata"].get("tags", ())]
    assert solutions and all(c["metadata"]["jupyter"]["source_hidden"] for c in solutions)


def test_the_notebook_runs(real_data, monkeypatch):
    """Every code cell, in order, in one namespace: what it shows is the lesson's output (the
    lesson's doctests, as a kernel would run them)."""
    monkeypatch.setenv("LOSSANALYSIS_DATA", real_data)
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert len(cells) >= 25
    failures = run_notebook(notebook)
    assert failures == [], "\n\n".join(map(str, failures))


def test_the_runner_sees_a_wrong_output():
    notebook = notebook_from_markdown("```python\n>>> 1 + 1\n3\n\n```\n")
    [found] = run_notebook(notebook)
    assert (found.expected, found.got) == ("3\n", "2\n")


class _Paste(code.InteractiveConsole):
    """A Python prompt that compiles what is pasted and runs nothing."""

    def __init__(self):
        super().__init__()
        self.errors = []

    def runcode(self, compiled):
        pass

    def showsyntaxerror(self, filename=None, **kwargs):
        self.errors.append(self.buffer[:])


def _pasted(body):
    """The lines a reader pastes: the statements with their prompts removed."""
    return [line[4:] if len(line) > 3 else "" for line in body.splitlines()
            if line.startswith((">>>", "..."))]


def _paste_errors(body):
    console = _Paste()
    more = False
    for line in _pasted(body):
        more = console.push(line)
    return console.errors, more


def test_every_block_pastes_into_a_python_prompt():
    blocks = [b for lang, b in _blocks(_text()) if lang == "python"]
    for body in blocks:
        errors, waiting = _paste_errors(body)
        assert not errors and not waiting, body


def test_the_paste_check_sees_a_missing_blank_line():
    errors, _ = _paste_errors(">>> def f():\n...     return 1\n>>> f()\n1\n")
    assert errors
    assert _paste_errors(">>> for i in range(2):\n...     print(i)\n0\n1\n")[1]   # still waiting


def test_every_python_block_is_a_doctest_and_shell_blocks_are_commands():
    blocks = _blocks(_text())
    python = [b for lang, b in blocks if lang == "python"]
    assert len(python) >= 12
    for body in python:
        assert body.lstrip().startswith(">>>"), body[:80]
    for lang, body in blocks:
        if lang != "python":
            assert lang == "" and all(line.startswith(("lossanalysis ", "pip ", "python "))
                                      or not line.strip() for line in body.splitlines()), body


def test_every_exercise_has_a_hidden_solution():
    text = _text()
    parts = re.split(r"^\*\*Exercise (\d+\.\d+)\.\*\*", text, flags=re.M)
    exercises = parts[1::2]
    assert len(exercises) >= 7
    for number, body in zip(parts[1::2], parts[2::2]):
        own = re.split(r"^## ", body, flags=re.M)[0]
        assert re.search(r"^<details>\n<summary>Solution</summary>\n\n.+?^</details>$", own,
                         flags=re.S | re.M), f"exercise {number} has no hidden solution"


def test_every_figure_has_its_command():
    from lossanalysis.commands import COMMANDS

    text = _text()
    shown = re.findall(r"!\[[^\]]*\]\(\.\./([^)]+)\)", text)
    assert set(shown) == set(MAKERS), shown
    for path in shown:
        assert (REPO / path).is_file(), path
        after = text.split(f"](../{path})", 1)[1][:200]    # given right after the figure
        assert MAKERS[path] in after, path
        assert MAKERS[path].split()[1] in COMMANDS


def test_timings_are_filled_from_the_benchmark():
    text = _text()
    assert "scripts/bench_lesson.py" in text and (REPO / "scripts" / "bench_lesson.py").is_file()
    assert "TIMING_" not in text, "fill the table with python scripts/bench_lesson.py"
