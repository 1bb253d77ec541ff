"""Sphinx configuration of symcalc's documentation site.

Build (offline; warnings are errors): ``python -m sphinx -W -b html docs docs/_build/html``.
Pages are Markdown (MyST) except the generated references (``api/``, ``cli.rst``). Every table
that describes the code (defaults, notation, CLI flags, API, validation) is generated from the code
at build time by the local extension ``_ext/symcalc_docs/``; nothing there is hand-copied.
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))          # this checkout's symcalc, not an installed copy
sys.path.insert(0, str(DOCS / "_ext"))

import symcalc  # noqa: E402

project = "symcalc"
author = "the symcalc authors"
copyright = "the symcalc authors, Apache-2.0"
release = version = symcalc.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
    "symcalc_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = []

# MyST: $...$ and $$...$$ math (the formula sheets use GitHub's dollar math), ::: fences,
# heading anchors for links into a page's sections.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

# Docstrings are numpydoc-style; napoleon reads them.
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_param = False   # types as text: free-form types ("bytes per device") are no cross-references
napoleon_custom_sections = ["Conventions", "Parts"]
autodoc_typehints = "none"          # signatures as written; types are in the Parameters sections
autodoc_member_order = "bysource"
autodoc_default_options = {}
autosummary_generate = False        # the API pages are written by symcalc_docs, not stub files
add_module_names = False
# Broken references are errors. Names outside symcalc cannot be resolved offline (no
# intersphinx inventories are fetched), so references into other libraries are let through.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(sympy|torch|numpy|matplotlib|fractions|math|argparse|dataclasses|typing|collections|enum|pathlib|dask|transformers|peft|bitsandbytes|deepspeed)(\..*)?"),
    (r"py:.*", r"(.*\.)?_[A-Za-z].*"),       # a docstring naming a private helper: shown, not linked
]

# Math: rendered in the browser by MathJax 3 from its CDN (Sphinx's default); the build itself
# needs no network. symcalc_docs checks every formula with KaTeX at build time when node and
# the katex npm package are present (the test suite installs it into .cache/katex).
mathjax3_config = {"tex": {"macros": {}}}

# Flags are written with two hyphens everywhere (help texts, prose): no typographic dashes or quotes.
smartquotes = False

html_theme = "furo"
html_title = f"symcalc {release}"
html_static_path = []
html_show_sourcelink = False

suppress_warnings = []
