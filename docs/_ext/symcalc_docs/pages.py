"""Generated page content: Markdown tables (notation, defaults, hardware sources, validation, the
tests of a folder), CLI runs, and the KaTeX check of every formula.

Imports nothing from Sphinx.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .api import ROOT


# --------------------------------------------------------------------------------------------
# Generated text: tables (Markdown)
# --------------------------------------------------------------------------------------------

def notation_md() -> str:
    """The notation table: one row per symbol of ``symcalc.symbols.SYMBOL_INFO``."""
    from symcalc.symbols import SYMBOL_INFO

    rows = ["| name | letter | meaning | unit |", "|---|---|---|---|"]
    for sym, info in SYMBOL_INFO.items():
        rows.append(f"| [`{sym.name}`](#symcalc.symbols.{sym.name}) | ${info.latex}$ | {info.description} | {info.unit} |")
    return "\n".join(rows)


def defaults_md() -> str:
    """The defaults table, exactly as :func:`symcalc.defaults.table` prints it."""
    from symcalc import defaults

    return defaults.table()


def hardware_md() -> str:
    """The hardware catalogue: each device, its aliases and the sources of its figures (with the
    figures each source gives; ``?`` marks a figure the catalogue flags as uncertain)."""
    from symcalc import hardware

    rows = ["| name | device | aliases | figures and their sources |", "|---|---|---|---|"]
    for entry in hardware.catalogue():
        by_source: dict = {}
        for key, figure in entry.figures.items():
            source = figure.source
            by_source.setdefault((source.title, source.url, source.date), []).append(key + ("?" if figure.uncertain else ""))
        cells = []
        for (title, url, date), keys in by_source.items():
            label = f"[{title}]({url})" if url else title
            cells.append(f"{', '.join(f'`{k}`' for k in keys)}: {label}" + (f" ({date})" if date else ""))
        aliases = ", ".join(f"`{a}`" for a in entry.aliases)
        text = "<br>".join(cells).replace("|", "\\|")
        rows.append(f"| `{entry.name}` | {entry.label} | {aliases} | {text} |")
    return "\n".join(rows)


MARKDOWN = {
    "notation": notation_md,
    "defaults": defaults_md,
    "hardware": hardware_md,
}


def markdown(name: str) -> str:
    """The generated Markdown called ``name`` (``validation:TABLE`` for a validation table)."""
    if name.startswith("validation:"):
        from symcalc import _validation

        return _validation.markdown(name.split(":", 1)[1])
    if name.startswith("tests:"):
        return tests_md(name.split(":", 1)[1])
    return MARKDOWN[name]()


def run_cli(argv: list[str]) -> tuple[int, str]:
    """``symcalc ARGV`` run in-process: exit status and everything it printed."""
    from symcalc.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            status = main(argv)
        except SystemExit as exc:  # --help
            status = exc.code
    return status or 0, out.getvalue()


def tests_md(folder: str) -> str:
    """Every test of ``tests/FOLDER`` (or of ``tests/`` for ``.``) with the property its docstring states.

    Read with ``ast`` from the test files themselves, so the page lists exactly what runs.
    """
    import ast

    rows = ["| test | what it checks |", "|---|---|"]
    base = ROOT / "tests" / folder
    for path in sorted(base.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                doc = " ".join((ast.get_docstring(node) or "").split("\n\n")[0].split())
                rel = path.relative_to(ROOT).as_posix()
                cell = doc.replace("|", "\\|")
                rows.append(f"| `{rel}::{node.name}` | {cell} |")
    return "\n".join(rows)


# --------------------------------------------------------------------------------------------
# KaTeX check of every formula on the site
# --------------------------------------------------------------------------------------------

_KATEX_JS = r"""
const katex = require(process.argv[2]);
const items = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const bad = [];
for (const [where, tex, display] of items) {
  try { katex.renderToString(tex, {throwOnError: true, displayMode: display, strict: 'ignore'}); }
  catch (e) { bad.push([where, tex, String(e.message).split('\n')[0]]); }
}
process.stdout.write(JSON.stringify(bad));
"""


def katex_module() -> Path | None:
    """The katex npm package: ``$SYMCALC_KATEX``, else ``.cache/katex`` (where the tests put it)."""
    for candidate in (os.environ.get("SYMCALC_KATEX"), ROOT / ".cache" / "katex" / "node_modules" / "katex"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def katex_errors(items: list[tuple[str, str, bool]]) -> list[tuple[str, str, str]] | None:
    """``(where, tex, error)`` for each formula KaTeX refuses; None when KaTeX is not available."""
    module, node = katex_module(), shutil.which("node")
    if module is None or node is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "check.js"
        script.write_text(_KATEX_JS)
        proc = subprocess.run([node, str(script), str(module)], input=json.dumps(items),
                              capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return [("katex", "", proc.stderr.strip()[-500:])]
    return [tuple(b) for b in json.loads(proc.stdout)]
