"""Sphinx configuration of the lossanalysis documentation (built by scripts/build_docs.sh).

Offline: no intersphinx, no MathJax, no theme from the network; the one extension outside
Sphinx itself is MyST (the Markdown pages: the README, the lesson, the protocol).
"""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
os.environ.setdefault("MPLBACKEND", "Agg")

project = "lossanalysis"
author = "the lossanalysis authors"
copyright = "the lossanalysis authors"
from lossanalysis import __version__ as release  # noqa: E402

version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "lesson.ipynb", "**/.ipynb_checkpoints"]

# MyST: anchors for the README's and the lesson's section links, <details> passed through
myst_heading_anchors = 3
myst_enable_extensions = ["html_image"]

# autodoc + napoleon: the NumPy-style docstrings
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_custom_sections = [("The catalogue", "params_style")]     # get_loss's list
# each object documented once, where it is defined (a package's re-exports are not repeated)
autodoc_default_options = {"members": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"        # the docstrings state the types

html_theme = "alabaster"
html_theme_options = {
    "description": "MSE or BCE? Reconstruction losses derived and measured",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_title = "lossanalysis"
html_show_sourcelink = False
html_static_path = []


# The docstrings are plain text for help() as well: |x| is an absolute value there, not a
# reStructuredText substitution.  Escape it outside literals and doctest lines.
_BARS = re.compile(r"(?<![\\`|])\|(?=[^|\s`])([^|`\n]*?[^|\s`\\])\|(?![|`_])")


_ROLE_SUFFIX = re.compile(r"(:\w+:`[^`]+`)(?=\w)")


def _escape_bars(app, what, name, obj, options, lines):
    literal = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith((">>>", "...")):
            continue
        if literal and line and not line[0].isspace():
            literal = False
        if not literal:
            parts = line.split("``")
            parts[::2] = [_BARS.sub(r"\\|\1\\|", p) for p in parts[::2]]
            # a role glued to a plural "s" (":class:`Statement`s") needs an escaped space
            lines[i] = _ROLE_SUFFIX.sub(r"\1\\ ", "``".join(parts))
        if stripped.endswith("::"):
            literal = True


# The README is written for its own folder: its links to docs/*.md, ARCHITECTURE.md,
# studies/mechanisms/MECHANISMS.md and figures/ are rewritten for the page that includes it
# (docs/overview.md); the notebook is a file to download.
_README_LINKS = ((re.compile(r"\[([^\]]+)\]\(docs/([\w-]+\.ipynb)\)"), r"{download}`\1 <\2>`"),
                 (re.compile(r"\]\(docs/([\w-]+\.md)"), r"](\1"),
                 (re.compile(r"\]\(ARCHITECTURE\.md"), r"](architecture.md"),
                 (re.compile(r"\]\(studies/mechanisms/MECHANISMS\.md"), r"](mechanisms.md"),
                 (re.compile(r"\]\(figures/"), r"](../figures/"))


def _readme_links(app, relative_path, parent_docname, content):
    if relative_path.name in ("README.md", "ARCHITECTURE.md"):
        for pattern, replacement in _README_LINKS:
            content[0] = pattern.sub(replacement, content[0])


def setup(app):
    app.connect("autodoc-process-docstring", _escape_bars)
    app.connect("include-read", _readme_links)
