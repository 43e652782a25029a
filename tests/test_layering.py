"""The package's structure, as ARCHITECTURE.md states it: imports go down the list of layers,
never up; no two modules import each other, directly or through others (imports inside
functions count); no experiment module imports another; and no module uses a private name
(one with a leading underscore) of another part of the package (each idea has one home)."""
import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lossanalysis"

#: ARCHITECTURE.md's layers, lowest first; a module may import its own layer or lower ones.
LAYERS = (
    {"_inputs", "_io", "_stable", "_symbols", "_cli", "_limits", "_text", "_budget",
     "_calculus", "_notebook", "__version__"},  # (the version string is metadata)
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

#: ARCHITECTURE.md's documented internal modules: their public names may be used anywhere
#: (the package, scripts/, tests/); their private names only inside themselves.
INTERNAL = LAYERS[0] - {"__version__"}

MODULES = sorted(PACKAGE.rglob("*.py"))
SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts), parts[-1] == "__init__"


#: every module of the package by its dotted name (a package by its own name)
NAMES = {_module_name(p)[0] for p in MODULES}


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def _part(dotted):
    """The part of the package ``dotted`` belongs to: a subpackage or a top-level module (the
    units of the layering and of privacy); the package's own ``__init__`` is ``__init__``."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


@functools.lru_cache(maxsize=None)
def _references(path, source=None):
    """``(target, line)`` for every lossanalysis name ``path`` refers to: each imported name
    (``lossanalysis.losses.get_loss``, at module level or inside functions) and each attribute
    chain read from an imported name (``plotting.save`` -> ``lossanalysis.plotting.save``)."""
    tree = ast.parse(path.read_text() if source is None else source)
    if path.is_relative_to(PACKAGE):
        name, is_package = _module_name(path)
        package = name if is_package else name.rpartition(".")[0]
    else:
        package = ""
    bound, found = {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "lossanalysis":
                    found.append((a.name, node.lineno))
                    bound[a.asname or "lossanalysis"] = a.name if a.asname else "lossanalysis"
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").split(".")[0] == "lossanalysis":
                module = node.module
            else:
                continue
            for a in node.names:
                found.append((f"{module}.{a.name}", node.lineno))
                bound[a.asname or a.name] = f"{module}.{a.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, base = [], node
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in bound:
                found.append((".".join([bound[base.id], *reversed(chain)]), node.lineno))
    return tuple(found)


def _module_of(target):
    """The module a referenced name lives in: the longest prefix of ``target`` that is one."""
    parts = target.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in NAMES:
            return ".".join(parts[:k])
    return parts[0]


def _imports(path, source=None):
    """The lossanalysis modules ``path`` imports (module level or inside functions); the
    version string counts as ``lossanalysis.__version__`` (metadata, the lowest layer)."""
    return {"lossanalysis.__version__" if t.endswith(".__version__") else _module_of(t)
            for t, _ in _references(path, source)}


def _violations(path, source=None):
    if path.parent == PACKAGE and path.stem in ("__init__", "__main__"):
        here = path.stem
    else:
        here = _part(_module_name(path)[0])
    return sorted(m for m in _imports(path, source) if _layer(_part(m)) > _layer(here))


def _layer(top):
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"lossanalysis.{top} is in no layer of ARCHITECTURE.md")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_the_layers(path):
    up = _violations(path)
    assert not up, f"{path.relative_to(PACKAGE)} imports a higher layer: {up}"


def test_no_experiment_imports_another():
    experiment = re.compile(r"lossanalysis\.experiments\.e\d+_\w+")
    for path in sorted((PACKAGE / "experiments").glob("e[0-9]*_*.py")):
        others = {m for m in _imports(path) if experiment.fullmatch(m)}
        assert not others, f"{path.name} imports {sorted(others)}"


def test_architecture_states_these_layers_and_internal_modules():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    para = text[text.index("Layering (imports go down"):text.index("No two modules")]
    stated = [set(re.findall(r"`(\w+)`", part)) for part in para.split("->")]
    assert stated == [names - {"__version__"} for names in LAYERS]
    internal = re.search(r"underscored modules\s*\((.*?)\)\s*are the package's documented "
                         r"internal modules", text, re.S).group(1)
    assert set(re.findall(r"`(\w+)`", internal)) == INTERNAL


def test_the_checker_sees_upward_imports():
    # the rule must be able to fail: the same files with an import that goes up
    assert _violations(PACKAGE / "losses.py", "def f():\n    from .nn import models\n") \
        == ["lossanalysis.nn.models"]
    assert _violations(PACKAGE / "analysis" / "noise.py", "from .. import claims\n") \
        == ["lossanalysis.claims"]
    assert _violations(PACKAGE / "nn" / "optim.py", "from . import parallel\n") == []


# ---------------------------------------------------------------------------- import cycles
def _graph(sources=None):
    """{module: modules it imports} over the whole package; ``sources`` replaces the text of
    some files ({path: source}), so that a test can add an import."""
    sources = sources or {}
    graph = {}
    for path in MODULES:
        name = _module_name(path)[0]
        graph[name] = {m for m in _imports(path, sources.get(path)) if m in NAMES} - {name}
    return graph


def _cycles(graph):
    """The strongly connected components of more than one module (Tarjan's algorithm,
    iterative): each is a set of modules that import one another, directly or not."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


@functools.lru_cache(maxsize=None)
def _package_graph():
    return _graph()


def test_no_import_cycles_between_modules():
    assert _cycles(_package_graph()) == []


def test_the_cycle_checker_sees_a_cycle():
    # the rule must be able to fail: the cycle this test was written for (losses imports
    # expressions, expressions imported a name of losses inside a function), put back
    expressions = PACKAGE / "expressions.py"
    source = expressions.read_text() + "\n\ndef _f():\n    from .losses import get_loss\n"
    assert _cycles(_graph({expressions: source})) == [["lossanalysis.expressions",
                                                        "lossanalysis.losses"]]
    # and a longer one, on a synthetic graph
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# ---------------------------------------------------------------------------- private names
def _private_uses(path, source=None):
    """The private names of other parts of the package that ``path`` uses: a name with one
    leading underscore belongs to its part (subpackage or top-level module); only the
    documented internal modules (:data:`INTERNAL`) lend their public names to every part."""
    if path.is_relative_to(PACKAGE):
        here = (path.stem if path.parent == PACKAGE and path.stem in ("__init__", "__main__")
                else _part(_module_name(path)[0]))
    else:
        here = None  # scripts/: every part of the package is another
    bad = set()
    for target, line in _references(path, source):
        parts = target.split(".")
        for k in range(1, len(parts)):
            if not _private(parts[k]):
                continue
            owner = "__init__" if k == 1 and ".".join(parts[:2]) not in NAMES else _part(
                ".".join(parts[:k + 1]))
            if owner == here:
                break
            if k == 1 and parts[1] in INTERNAL:
                continue  # a documented internal module: its public names are for everyone
            bad.add(f"line {line}: {target}")
            break
    return sorted(bad)


@pytest.mark.parametrize("path", MODULES + SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_of_another_part(path):
    bad = _private_uses(path)
    assert not bad, (f"{path.relative_to(ROOT)} uses private names of another part of the "
                     f"package (give the helper a public name): {bad}")


def test_the_private_name_checker_sees_them():
    figures, noise = PACKAGE / "figures.py", PACKAGE / "analysis" / "noise.py"
    script = ROOT / "scripts" / "derive.py"
    assert _private_uses(figures, "from . import plotting\nplotting._check_columns(1)\n") \
        == ["line 2: lossanalysis.plotting._check_columns"]
    assert _private_uses(noise, "def f():\n    from ..losses import _internal_symbols\n") \
        == ["line 2: lossanalysis.losses._internal_symbols"]
    assert _private_uses(noise, "from .._io import _tmp_name\n") \
        == ["line 1: lossanalysis._io._tmp_name"]
    assert _private_uses(script, "from lossanalysis.proofs import _interval\n") \
        == ["line 1: lossanalysis.proofs._interval"]
    # allowed: a part's own private names, and the internal modules' public ones
    assert _private_uses(noise, "from ._common import _out\nfrom .. import _budget\n"
                                "from .._io import atomic_write\n_budget.budget\n") == []
    assert _private_uses(script, "import lossanalysis._io as io\nio.atomic_write\n") == []
