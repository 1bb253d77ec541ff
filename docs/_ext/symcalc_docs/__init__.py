"""The generated parts of symcalc's documentation site (a local Sphinx extension).

Nothing that describes the code is copied by hand into the site; it is made here, from the code,
at build time:

- ``{symcalc-md} NAME`` (Markdown pages): the defaults table (:func:`symcalc.defaults.table`),
  the notation table (``symcalc.symbols.SYMBOL_INFO``), the hardware list, the validation
  tables (``validation:TABLE``: the published numbers the tests use, ``symcalc._validation``, with
  symcalc's answers computed at build time) and the list of tests of a folder with the property
  each states (``tests:FOLDER``, read from the test files);
- ``.. symcalc-api:: MODULE`` (``api/MODULE.rst``, one page per public module, written at build
  time by :func:`write_api_pages`): every name of the module's ``__all__``, documented
  once (at its *canonical* module, the public module closest to where it is defined) and listed in
  a summary table on every page that exports it;
- ``.. symcalc-cli::`` (``cli.rst``): every subcommand, nested subcommand and flag of
  ``symcalc.cli.build_parser()``, walked from the argparse parsers;
- ``.. symcalc-run:: ARGS``: what ``symcalc ARGS`` prints, run in-process at build time.

Checks that turn into build errors under ``-W``: a public name (any ``__all__``) without a
docstring (:func:`missing_docstrings`, also run by the test suite without Sphinx), and, when
node and the katex npm package are found, a formula KaTeX cannot render (``throwOnError``).

Modules: ``api`` (the public API, the API pages, the docstring check) and ``pages`` (tables, CLI
runs, KaTeX) import nothing from Sphinx, so ``tests/test_docs.py`` can call them where Sphinx is not
installed; ``sphinx_ext`` holds the directives and event handlers.
"""

from .api import (DOCS, ROOT, api_rst, canonical_modules, data_doc, documented_name, exported, kind,
                  missing_docstrings, module_page, public_methods, public_modules, write_api_pages)
from .pages import defaults_md, hardware_md, katex_errors, katex_module, markdown, notation_md, run_cli, tests_md
from .sphinx_ext import setup

__all__ = ["DOCS", "ROOT", "api_rst", "canonical_modules", "data_doc", "documented_name", "exported", "kind",
           "missing_docstrings", "module_page", "public_methods", "public_modules", "write_api_pages",
           "defaults_md", "hardware_md", "katex_errors", "katex_module", "markdown", "notation_md", "run_cli",
           "tests_md", "setup"]
