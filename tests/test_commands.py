"""The ``lossanalysis`` command: every subcommand is there and answers --help, the console
script is declared and runs, and the conventions hold across commands (--out a folder,
--columns one default, committed results overwritten only with --force, one-line errors)."""
import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from lossanalysis import _cli
from lossanalysis.commands import COMMANDS, SUMMARIES, main, parser

ROOT = Path(__file__).resolve().parents[1]


def _subparsers(ap, path=()):
    """(command path, parser) of every leaf subcommand under ``ap``."""
    subs = [a for a in ap._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, ap
        return
    for name, sub in subs[0].choices.items():
        yield from _subparsers(sub, path + (name,))


LEAVES = dict(_subparsers(parser()))


def test_every_command_is_listed_and_answers_help(capsys):
    assert {path[0] for path in LEAVES} == set(COMMANDS)
    assert {path[1] for path in LEAVES if path[0] == "figure"} == {"asymmetry", "bias",
                                                                   "gradients"}
    for path in LEAVES:
        with pytest.raises(SystemExit) as stop:
            main([*path, "--help"])
        out = capsys.readouterr().out
        assert stop.value.code == 0 and out.startswith(f"usage: lossanalysis {' '.join(path)}")


def test_one_convention_for_out_and_columns():
    with_out = with_columns = 0
    for path, ap in LEAVES.items():
        for action in ap._actions:
            if "--out" in action.option_strings:
                with_out += 1
                assert action.metavar in (None, "DIR") and "folder" in action.help, path
                assert action.default in (None, "out") or path == ("study",), path
            if "--columns" in action.option_strings:
                with_columns += 1
                assert action.default == _cli.COLUMNS and action.choices == (1, 2), path
    assert with_out >= 7 and with_columns >= 6


def test_the_console_script_is_declared_and_runs():
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"lossanalysis": "lossanalysis.commands:console"}
    # the installed script (pip install -e puts it beside the interpreter), else its target
    exe = Path(sys.executable).parent / "lossanalysis"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c",
                                           "from lossanalysis.commands import console; console()"]
    done = subprocess.run([*cmd, "derive", "--losses", "mse,nope"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "derive: error: --losses: unknown loss(es) nope" \
        in done.stderr


def test_derive_writes_elsewhere_by_default_and_keeps_the_committed_file(tmp_path, capsys,
                                                                          monkeypatch):
    from lossanalysis import analysis

    calls = []
    monkeypatch.setattr(analysis, "derivations_latex",      # the document itself: test_analysis
                        lambda names: calls.append(names) or "\\documentclass{article}\n")
    committed = ROOT / "figures" / "derivations.tex"
    before = committed.read_bytes()
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as stop:
        main(["derive", "--out", "figures", "--losses", "mse"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1
    assert "is a committed result; pass --force to overwrite it" in err
    assert committed.read_bytes() == before and calls == []     # refused before any work
    monkeypatch.chdir(tmp_path)
    assert main(["derive", "--losses", "mse, bce"]) == 0
    assert capsys.readouterr().out.strip() == str(Path("out") / "derivations.tex")
    assert (tmp_path / "out" / "derivations.tex").read_text().startswith("\\documentclass")
    assert calls == [["mse", "bce"]]


def test_figure_subcommand_and_script_run_the_same_code(tmp_path, capsys, monkeypatch):
    """``lossanalysis figure gradients`` and scripts/gradient_plot.py: the same options reach
    the same drawing function (drawn for real in test_figures)."""
    import importlib.util

    from lossanalysis import figures, plotting

    seen = []

    def draw(losses, target, *, columns):
        seen.append((tuple(getattr(v, "name", v) for v in losses), target, columns))
        return plotting.figure(columns=columns)[0]

    monkeypatch.setattr(figures, "gradient_figure", draw)
    argv = ["--format", "svg", "--losses", "mse,bce", "--target", "0.3"]
    assert main(["figure", "gradients", "--out", str(tmp_path / "a"), *argv]) == 0
    spec = importlib.util.spec_from_file_location("_gp", ROOT / "scripts" / "gradient_plot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path / "b"), *argv]) == 0
    capsys.readouterr()
    assert seen == [(("mse", "bce"), 0.3, 2)] * 2
    assert (tmp_path / "a" / "gradients.svg").exists() and (tmp_path / "b" / "gradients.svg").exists()


def test_the_top_level_help_imports_no_subcommand(capsys):
    """``lossanalysis --help`` lists every command from its summary without building (or
    importing) them; the summaries are the commands' own help lines."""
    full = dict(_subparsers(parser()))
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name, summary in SUMMARIES.items():
        assert summary.split()[0] in out
    sub = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)][0]
    helps = {c.dest: c.help for c in sub._choices_actions}
    assert helps == SUMMARIES and len(full) == len(LEAVES)
