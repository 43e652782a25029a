"""Every script in scripts/ loads and answers --help (exit 0, a usage line, its description):
a script that no longer imports, or whose parser breaks, fails here rather than for a user."""
import importlib.util
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture
def scripts_on_path(monkeypatch):
    # as `python scripts/x.py` does: the script's folder is first on sys.path
    monkeypatch.syspath_prepend(str(SCRIPTS))


@pytest.mark.parametrize("path", sorted(SCRIPTS.glob("*.py")), ids=lambda p: p.name)
def test_script_answers_help(path, scripts_on_path, capsys):
    spec = importlib.util.spec_from_file_location(f"_script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as stop:
        module.main(["--help"])
    out = capsys.readouterr().out
    assert stop.value.code == 0
    assert out.startswith("usage: ") and len(out.splitlines()) > 3
