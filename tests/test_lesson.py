"""docs/lesson.md: every Python block runs as a doctest, every figure it shows is made by a
command it gives (and is committed), every other code block is a shell command."""
import doctest
import io
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LESSON = REPO / "docs" / "lesson.md"

#: Which command makes each committed figure the lesson shows.
MAKERS = {
    "figures/asymmetry.png": "python scripts/asymmetry_plot.py",
    "figures/bias.png": "python scripts/bias_plot.py",
    "figures/gradients.png": "python scripts/gradient_plot.py",
}


def _blocks(text):
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)


def test_lesson_doctests_pass(real_data, monkeypatch):
    monkeypatch.setenv("LOSSANALYSIS_DATA", real_data)
    text = LESSON.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, "lesson", str(LESSON), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = io.StringIO()
    runner.run(test, out=out.write)
    assert runner.failures == 0, out.getvalue()
    assert runner.tries >= 25


def test_every_python_block_is_a_doctest_and_shell_blocks_are_commands():
    blocks = _blocks(LESSON.read_text(encoding="utf-8"))
    python = [b for lang, b in blocks if lang == "python"]
    assert len(python) >= 12
    for body in python:
        assert body.lstrip().startswith(">>>"), body[:80]
    for lang, body in blocks:
        if lang != "python":
            assert lang == "" and all(line.startswith(("python ", "pip ")) or not line.strip()
                                      for line in body.splitlines()), body


def test_every_figure_has_its_command():
    text = LESSON.read_text(encoding="utf-8")
    shown = re.findall(r"!\[[^\]]*\]\(\.\./([^)]+)\)", text)
    assert shown and set(shown) <= set(MAKERS), shown
    for path in shown:
        assert (REPO / path).is_file(), path
        # the command is given right after the figure
        after = text.split(f"](../{path})", 1)[1][:200]
        assert MAKERS[path] in after, path
        script = MAKERS[path].split()[1]
        assert (REPO / script).is_file(), script
