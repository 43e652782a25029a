"""The HTML documentation's sources (docs/conf.py, docs/*.md, docs/api/*.rst): every public
module has a reference page, every committed figure is in the gallery with the command that
makes it, every page is in a table of contents.  The build itself is scripts/build_docs.sh
(warnings are errors; Sphinx comes with `pip install -e ".[docs]"`), run by hand: no test here
imports Sphinx."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _public_modules():
    """lossanalysis.X for every public top-level module or package (and the analysis, nn
    and proofs modules a researcher calls)."""
    pkg = ROOT / "lossanalysis"
    top = {f"lossanalysis.{p.stem}" for p in pkg.glob("[!_]*.py")}
    top |= {f"lossanalysis.{p.parent.name}" for p in pkg.glob("[!_]*/__init__.py")}
    return top


def _documented():
    text = "\n".join(p.read_text() for p in (DOCS / "api").glob("*.rst"))
    return set(re.findall(r"^\.\. automodule:: (\S+)", text, re.M))


def test_every_public_module_has_a_reference_page():
    missing = _public_modules() - _documented()
    assert not missing, f"no page of docs/api documents {sorted(missing)}"
    for name in ("lossanalysis.analysis.asymmetry", "lossanalysis.nn.models",
                 "lossanalysis.commands"):
        assert name in _documented()


def test_every_committed_figure_is_in_the_gallery_with_its_command():
    gallery = (DOCS / "gallery.md").read_text()
    for png in sorted((ROOT / "figures").glob("*.png")):
        marker = f"](../figures/{png.name})"
        assert marker in gallery, f"figures/{png.name} is not in docs/gallery.md"
        after = gallery.split(marker, 1)[1]
        block = re.search(r"```\n(lossanalysis [^\n]+)\n```", after)
        assert block and after.index(block.group(0)) < 80, png.name


def test_every_page_is_in_a_table_of_contents():
    index = (DOCS / "index.md").read_text()
    listed = set(re.findall(r"^([\w/]+)$", "\n".join(re.findall(r"```\{toctree\}(.*?)```", index,
                                                                 re.S)), re.M))
    pages = {p.relative_to(DOCS).with_suffix("").as_posix() for p in DOCS.glob("*.md")}
    pages |= {"api/index"}
    assert pages - {"index"} <= listed, sorted(pages - {"index"} - listed)
    api = (DOCS / "api" / "index.rst").read_text()
    for page in (DOCS / "api").glob("*.rst"):
        assert page.stem == "index" or f"   {page.stem}\n" in api, page.name
