"""The package's layering, as ARCHITECTURE.md states it: imports go down the list of layers,
never up, and no experiment module imports another (each idea has one home)."""
import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lossanalysis"

#: ARCHITECTURE.md's layers, lowest first; a module may import its own layer or lower ones.
LAYERS = (
    {"_inputs", "_io", "_stable", "_cli", "_limits", "_text", "_budget", "_calculus",
     "_notebook", "__version__"},  # (the version string is metadata)
    {"losses", "expressions"},
    {"analysis"},
    {"proofs"},
    {"plotting", "data", "protocol", "imagesets"},
    {"figures", "nn"},
    {"claims"},
    {"experiments"},
    {"advise"},
    {"commands"},
    {"__init__", "__main__"},
)


def _layer(top):
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"lossanalysis.{top} is in no layer of ARCHITECTURE.md")


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts), parts[-1] == "__init__"


def _imports(path, source=None):
    """Every lossanalysis module ``path`` imports (module level or inside functions)."""
    name, is_package = _module_name(path)
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("lossanalysis")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("lossanalysis"):
                target = node.module
            else:
                continue
            if node.module is None or target.count(".") == 0:
                found |= {f"{target}.{a.name}" for a in node.names}
            else:
                found.add(target)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def _top(dotted):
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _violations(path, source=None):
    if path.parent == PACKAGE and path.stem in ("__init__", "__main__"):
        here = path.stem
    else:
        here = _top(_module_name(path)[0])
    return sorted(m for m in _imports(path, source) if _layer(_top(m)) > _layer(here))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_the_layers(path):
    up = _violations(path)
    assert not up, f"{path.relative_to(PACKAGE)} imports a higher layer: {up}"


def test_no_experiment_imports_another():
    experiment = re.compile(r"lossanalysis\.experiments\.e\d+_\w+")
    for path in sorted((PACKAGE / "experiments").glob("e[0-9]*_*.py")):
        others = {m for m in _imports(path) if experiment.fullmatch(m)}
        assert not others, f"{path.name} imports {sorted(others)}"


def test_the_checker_sees_upward_imports():
    # the rule must be able to fail: the same files with an import that goes up
    assert _violations(PACKAGE / "losses.py", "def f():\n    from .nn import models\n") \
        == ["lossanalysis.nn"]
    assert _violations(PACKAGE / "analysis" / "noise.py", "from .. import claims\n") \
        == ["lossanalysis.claims"]
    assert _violations(PACKAGE / "nn" / "optim.py", "from . import parallel\n") == []
