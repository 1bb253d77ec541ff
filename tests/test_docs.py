"""The documentation site: it builds with warnings as errors, its examples run, nothing is hand-copied."""

from __future__ import annotations

import doctest
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import symcalc_docs  # noqa: E402  (imports nothing from Sphinx)

PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)
HAS_SPHINX = all(importlib.util.find_spec(m) for m in ("sphinx", "furo", "myst_parser"))


def test_every_public_name_has_a_docstring():
    """Every name of symcalc.__all__ and of each public module's __all__ (and each public method) is documented."""
    assert symcalc_docs.missing_docstrings() == []


def test_every_public_module_gets_an_api_page(tmp_path, monkeypatch):
    """The API pages are written for exactly the public modules with __all__, stale pages removed."""
    api = tmp_path / "api"
    api.mkdir()
    (api / "symcalc.gone.rst").write_text("stale")
    monkeypatch.setattr(symcalc_docs.api, "DOCS", tmp_path)
    modules = symcalc_docs.write_api_pages()
    assert "symcalc" in modules and "symcalc.scaling" in modules and "symcalc.memory" in modules
    assert sorted(p.stem for p in api.glob("symcalc*.rst")) == sorted(modules)
    assert (api / "symcalc.memory.rst").read_text().endswith(".. symcalc-api:: symcalc.memory\n")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_doctests_pass(page):
    """Every `>>>` example on a documentation page gives the output printed there."""
    result = doctest.testfile(str(page), module_relative=False, verbose=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def _python_blocks(page: Path) -> list[str]:
    """The ```python blocks of a page that are not doctests (those run in test_page_doctests_pass)."""
    blocks = re.findall(r"^```python\n(.*?)^```$", page.read_text(), flags=re.M | re.S)
    return [b for b in blocks if not b.lstrip().startswith(">>>")]


@pytest.mark.parametrize("page", [p for p in PAGES if _python_blocks(p)], ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_python_blocks_run(page, monkeypatch):
    """Every ```python block of a page runs (one namespace per page, from the repository root); a statement
    commented `SymcalcError` raises it, an expression commented with an integer evaluates to that integer."""
    import ast

    from symcalc import SymcalcError

    monkeypatch.chdir(ROOT)
    namespace: dict = {"__name__": "__docs__"}
    for code in _python_blocks(page):
        lines = code.splitlines()
        for node in ast.parse(code).body:
            line = lines[node.end_lineno - 1]
            comment = line.split("#", 1)[1] if "#" in line else ""
            if "SymcalcError" in comment:
                with pytest.raises(SymcalcError):
                    exec(compile(ast.Module(body=[node], type_ignores=[]), str(page), "exec"), namespace)
            elif isinstance(node, ast.Expr):
                value = eval(compile(ast.Expression(node.value), str(page), "eval"), namespace)
                number = re.match(r"\s*(-?\d+)(?=\s|$|\s*\()", comment)
                if number and not isinstance(value, (tuple, str)):
                    assert str(value) == number.group(1), ast.get_source_segment(code, node)
            else:
                exec(compile(ast.Module(body=[node], type_ignores=[]), str(page), "exec"), namespace)


def test_validation_tables_agree():
    """Each generated validation row agrees with its published reference (exactly, to its digits, or as a ratio)."""
    from symcalc import _validation

    import importlib.util

    have_torch = importlib.util.find_spec("torch") and importlib.util.find_spec("transformers")
    for name in _validation.TABLES:
        if name == "transformers" and not have_torch:
            continue  # the page says the conformance extra builds it
        table = _validation.markdown(name)
        assert table.count("\n") >= 4
        assert "differs" not in table
    for row in _validation.serving_rows():
        ratio = float(row[-1].split("x")[0])
        assert ratio >= 1                     # the roofline is a lower bound


def test_conformance_list_is_read_from_the_tests():
    """The validation page's list of framework checks names every conformance test with its docstring."""
    table = symcalc_docs.tests_md("conformance")
    for path in (ROOT / "tests" / "conformance").glob("test_*.py"):
        for name in re.findall(r"^def (test_\w+)", path.read_text(), flags=re.M):
            assert f"{path.name}::{name}`" in table


def test_readme_links_into_the_site_resolve():
    """Every relative link of the README names a file or folder of this repository."""
    text = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)#:]+)\)", text)
    assert len(links) >= 10
    assert [link for link in links if not (ROOT / link).exists()] == []


def test_ci_runs_exactly_the_readme_test_command():
    """.ci/run ends with the README's test command, which installs the docs extra too."""
    readme = (ROOT / "README.md").read_text()
    command = "python -m pip install -q -e '.[test,conformance,docs]' && python -m pytest"
    assert f"```bash\n{command}\n```" in readme
    assert (ROOT / ".ci" / "run").read_text().strip().endswith(command)


def test_readme_gives_the_docs_build_command():
    """The README names the one command that builds the site (the one this suite runs)."""
    assert "python -m sphinx -W -b html docs docs/_build/html" in (ROOT / "README.md").read_text()


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SPHINX, reason="the docs extra (sphinx, furo, myst-parser) is not installed")
def test_site_builds_with_warnings_as_errors(tmp_path):
    """`sphinx-build -W` builds the whole site from scratch: no broken reference, missing docstring, or
    formula KaTeX cannot render (KaTeX installed into .cache/katex as the LaTeX tests do)."""
    import os
    import shutil

    katex = ROOT / ".cache" / "katex"
    if not (katex / "node_modules" / "katex").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is not installed; KaTeX checks the site's formulas (see README, Set-up)")
        subprocess.run([npm, "install", "--prefix", str(katex), "katex", "--no-audit", "--no-fund"],
                       capture_output=True, text=True, timeout=300)
    assert symcalc_docs.katex_module() is not None and shutil.which("node")
    env = {**os.environ, "SYMCALC_KATEX": str(symcalc_docs.katex_module())}
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-E", "-b", "html",
                           "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    cli = (tmp_path / "html" / "cli.html").read_text()
    from symcalc.cli import build_parser

    import argparse

    subcommands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert all(f'id="cli-{name}"' in cli for name in subcommands.choices)
    assert "--preset" in cli and "\u2013preset" not in cli           # flags keep their two hyphens
    concepts = (tmp_path / "html" / "concepts.html").read_text()
    assert "kernel_efficiency" in concepts and "n_layers" in concepts
