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
docstring (:func:`missing_docstrings`, also run by the test suite without Sphinx), and, when node and the katex npm package are found, a formula KaTeX
cannot render (``throwOnError``).

The functions that enumerate the public API import nothing from Sphinx, so ``tests/test_docs.py``
can call them where Sphinx is not installed.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import json
import os
import pkgutil
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


# --------------------------------------------------------------------------------------------
# The public API: modules with __all__, names, where each name is documented
# --------------------------------------------------------------------------------------------

def public_modules() -> list[str]:
    """Every public module of symcalc that declares ``__all__`` (no ``_``-prefixed component)."""
    import symcalc

    names = ["symcalc"]
    for info in pkgutil.walk_packages(symcalc.__path__, "symcalc."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        module = importlib.import_module(info.name)
        if hasattr(module, "__all__"):
            names.append(info.name)
    return names


def exported(module_name: str) -> list[tuple[str, object]]:
    """``(name, object)`` for each name of a module's ``__all__``, in its order."""
    module = importlib.import_module(module_name)
    if module_name == "symcalc":
        return [(n, getattr(module, n)) for n in module.__all__]
    return [(n, getattr(module, n)) for n in module.__all__]


def _key(name: str, obj: object) -> tuple:
    return (name, id(obj))


def canonical_modules() -> dict[tuple, str]:
    """For each exported object, the module whose page documents it in full.

    That is the module the object was defined in when it is public and exports it, else the
    deepest public module exporting it (``symcalc.flops`` for what ``symcalc.flops._count``
    defines). A module object exported by name (``symcalc.scaling``) is documented on its own page.
    """
    where: dict[tuple, list[str]] = {}
    for module_name in public_modules():
        for name, obj in exported(module_name):
            where.setdefault(_key(name, obj), []).append(module_name)
    canonical = {}
    for key, modules in where.items():
        name = key[0]
        obj = next(o for n, o in exported(modules[0]) if n == name)
        home = getattr(obj, "__module__", None)
        if isinstance(obj, ModuleType):
            canonical[key] = obj.__name__
        elif home in modules:
            canonical[key] = home
        else:
            canonical[key] = max(modules, key=lambda m: (m.count("."), m))
    return canonical


def _is_symbol(obj: object) -> bool:
    from sympy import Symbol

    return isinstance(obj, Symbol)


def _attribute_docs(module_name: str) -> dict[str, str]:
    """``#:`` comments and string literals after assignments (what autodoc shows for data)."""
    try:
        from sphinx.pycode import ModuleAnalyzer
    except ImportError:  # the test suite without Sphinx: read the comments with ast ourselves
        return _attribute_docs_ast(module_name)
    try:
        analyzer = ModuleAnalyzer.for_module(module_name)
        return {name: "\n".join(lines) for (cls, name), lines in analyzer.find_attr_docs().items() if not cls}
    except Exception:  # noqa: BLE001 - a module without source
        return {}


def _attribute_docs_ast(module_name: str) -> dict[str, str]:
    import ast

    module = importlib.import_module(module_name)
    source = Path(inspect.getsourcefile(module)).read_text()
    lines = source.splitlines()
    docs = {}
    tree = ast.parse(source)
    body = tree.body
    for i, node in enumerate(body):
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        if not targets:
            continue
        comment = []
        j = node.lineno - 2
        while j >= 0 and lines[j].lstrip().startswith("#:"):
            comment.insert(0, lines[j].lstrip()[2:].strip())
            j -= 1
        after = body[i + 1] if i + 1 < len(body) else None
        if (not comment and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            comment = [after.value.value]
        if comment:
            for t in targets:
                docs[t] = "\n".join(comment)
    return docs


def data_doc(module_name: str, name: str) -> str:
    """The documentation of a data name: its ``#:`` comment in a module that binds the same object."""
    import symcalc

    obj = getattr(importlib.import_module(module_name), name)
    candidates = [module_name] + [info.name for info in pkgutil.walk_packages(symcalc.__path__, "symcalc.")
                                  if not info.name.endswith("__main__")]
    for candidate in candidates:
        module = importlib.import_module(candidate)
        if getattr(module, name, None) is obj:
            docs = _attribute_docs(candidate).get(name)
            if docs:
                return docs
    return ""


def _own_doc(obj: object) -> str:
    """A function's, class's or module's own docstring ('' for generated ones)."""
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    doc = inspect.cleandoc(doc) if isinstance(doc, str) else ""
    if isinstance(obj, type) and doc.startswith(obj.__name__ + "("):   # dataclass / namedtuple default
        return ""
    return doc


def kind(obj: object) -> str:
    """How a public object is documented: module, class, function, symbol or data."""
    if isinstance(obj, ModuleType):
        return "module"
    if _is_symbol(obj):
        return "symbol"
    if inspect.isclass(obj):
        return "class"
    if callable(obj) and (inspect.isfunction(obj) or inspect.isbuiltin(obj) or hasattr(obj, "__wrapped__")):
        return "function"
    if callable(obj) and inspect.isroutine(obj):
        return "function"
    return "data"


def public_methods(cls: type) -> list[tuple[str, object]]:
    """Public methods and properties a class defines itself (not inherited), in source order."""
    out = []
    for name, member in cls.__dict__.items():
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) or isinstance(member, property):
            out.append((name, member))
    return out


def missing_docstrings() -> list[str]:
    """Every public name (each ``__all__``), public module and public method without a docstring."""
    from symcalc.symbols import SYMBOL_INFO

    missing = []
    seen = set()
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        if not _own_doc(module):
            missing.append(f"{module_name} (module)")
        for name, obj in exported(module_name):
            if _key(name, obj) in seen:
                continue
            seen.add(_key(name, obj))
            what = kind(obj)
            if what == "module":
                continue
            if what == "symbol":
                if obj not in SYMBOL_INFO:
                    missing.append(f"{module_name}.{name} (symbol without SYMBOL_INFO)")
                continue
            if what == "data":
                if not data_doc(module_name, name):
                    missing.append(f"{module_name}.{name} (data: add a #: comment)")
                continue
            if not _own_doc(obj):
                missing.append(f"{module_name}.{name}")
            if what == "class":
                for method_name, member in public_methods(obj):
                    doc = member.__doc__ if not isinstance(member, property) else (member.fget.__doc__ if member.fget else None)
                    if not (doc and doc.strip()):
                        missing.append(f"{module_name}.{name}.{method_name}")
    return missing


def module_page(module_name: str) -> Path:
    """Where a module's API page lives."""
    return DOCS / "api" / f"{module_name}.rst"


def write_api_pages() -> list[str]:
    """Write ``docs/api/MODULE.rst`` (a title and the ``symcalc-api`` directive) for every public
    module, remove pages of modules that are gone; the names of the modules written.

    The pages are build products (ignored by git): a new public module gets its page without
    anyone writing one.
    """
    modules = public_modules()
    wanted = {module_page(m): f"``{m}``\n{'=' * (len(m) + 4)}\n\n.. symcalc-api:: {m}\n" for m in modules}
    for stale in (DOCS / "api").glob("symcalc*.rst"):
        if stale not in wanted:
            stale.unlink()
    for path, text in wanted.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return modules


# --------------------------------------------------------------------------------------------
# Cross-references: a name exported in several places resolves to where it is documented
# --------------------------------------------------------------------------------------------

def _import_path(path: str):
    """The object a dotted path names (module, then attributes), or None."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = obj.__dict__[attr] if isinstance(obj, type) and attr in obj.__dict__ else getattr(obj, attr)
        except (AttributeError, KeyError):
            return None
        return obj
    return None


_CANONICAL_BY_ID: dict[int, str] = {}


def documented_name(path: str) -> str | None:
    """Where the object a dotted path names is documented (``symcalc.training_memory`` ->
    ``symcalc.memory.training.training_memory``); a method keeps its class's canonical path."""
    if not _CANONICAL_BY_ID:
        for (name, ident), home in canonical_modules().items():
            _CANONICAL_BY_ID[ident] = home if home.endswith("." + name) or home == name else f"{home}.{name}"
            obj = _import_path(f"{home}.{name}")
            if isinstance(obj, ModuleType):
                _CANONICAL_BY_ID[ident] = obj.__name__
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        obj = _import_path(".".join(parts[:i]))
        if obj is not None and id(obj) in _CANONICAL_BY_ID:
            return ".".join([_CANONICAL_BY_ID[id(obj)], *parts[i:]])
    return None


# --------------------------------------------------------------------------------------------
# Generated text: API pages (reStructuredText)
# --------------------------------------------------------------------------------------------

def _first_line(text: str) -> str:
    """The first paragraph on one line, roles made literals (the summary has no module context)."""
    import re

    para = text.strip().split("\n\n")[0]
    line = " ".join(line.strip() for line in para.splitlines())
    return re.sub(r":[a-z]+:`~?([^`]+)`", r"``\1``", line)


def api_rst(module_name: str) -> str:
    """The body of a module's API page: its docstring, a summary of ``__all__``, each entry."""
    from symcalc.symbols import SYMBOL_INFO

    canonical = canonical_modules()
    rows, bodies = [], []
    for name, obj in exported(module_name):
        home = canonical[_key(name, obj)]
        what = kind(obj)
        target = home if what == "module" else f"{home}.{name}"
        role = {"module": "mod", "class": "class", "function": "func"}.get(what, "data")
        if what == "symbol":
            info = SYMBOL_INFO[obj]
            unit = f" [{info.unit}]" if info.unit else ""
            summary = f":math:`{info.latex}` -- {info.description}{unit}"
        elif what == "data":
            summary = _first_line(data_doc(module_name, name))
        else:
            summary = _first_line(_own_doc(obj))
        elsewhere = "" if home == module_name or what == "module" else f" (documented in :mod:`{home}`)"
        rows.append((f":{'py'}:{role}:`~{target}`", summary + elsewhere))
        if home != module_name or what == "module":
            continue
        full = f"{module_name}.{name}"
        if what == "class":
            bodies.append(f".. autoclass:: {full}\n   :members:\n")
        elif what == "function":
            bodies.append(f".. autofunction:: {full}\n")
        elif what == "symbol":
            info = SYMBOL_INFO[obj]
            unit = f" Unit: {info.unit}." if info.unit else ""
            assumptions = "integer, positive" if obj.is_integer else "positive real"
            bodies.append(f".. py:data:: {name}\n   :module: {module_name}\n\n   :math:`{info.latex}` -- {info.description} "
                          f"({assumptions}).{unit}\n")
        else:
            bodies.append(f".. autodata:: {full}\n   :no-value:\n")
    lines = [f".. automodule:: {module_name}\n   :no-members:\n", ".. rubric:: Contents\n",
             ".. list-table::\n   :widths: 30 70\n   :header-rows: 0\n"]
    for left, right in rows:
        lines.append(f"   * - {left}\n     - {right}")
    lines.append("")
    if bodies:
        lines.append(".. rubric:: Reference\n")
        lines.extend(bodies)
    return "\n".join(lines) + "\n"


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


# --------------------------------------------------------------------------------------------
# Sphinx glue
# --------------------------------------------------------------------------------------------

def setup(app):  # noqa: C901 - the directives are small and local
    """Register the directives and checks with Sphinx."""
    import argparse

    from docutils import nodes
    from docutils.parsers.rst import Directive, directives
    from docutils.statemachine import StringList
    from sphinx.util import logging
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.parsing import nested_parse_to_nodes

    logger = logging.getLogger("symcalc_docs")

    class MarkdownTable(SphinxDirective):
        """``{symcalc-md} NAME``: generated Markdown, parsed as part of the page."""

        required_arguments = 1

        def run(self):
            text = markdown(self.arguments[0])
            container = nodes.container()
            self.state.nested_parse(StringList(text.splitlines(), source=f"<symcalc {self.arguments[0]}>"),
                                    self.content_offset, container)
            return container.children

    class ApiPage(SphinxDirective):
        """``.. symcalc-api:: MODULE``: the module's docstring and every name of its ``__all__``."""

        required_arguments = 1

        def run(self):
            text = api_rst(self.arguments[0])
            return nested_parse_to_nodes(self.state, text, source=f"<api {self.arguments[0]}>",
                                         allow_section_headings=False)

    class RunCli(SphinxDirective):
        """``.. symcalc-run:: ARGS``: a console block with what ``symcalc ARGS`` prints."""

        required_arguments = 1
        final_argument_whitespace = True
        option_spec = {"status": directives.nonnegative_int}

        def run(self):
            argv = shlex.split(self.arguments[0])
            status, printed = run_cli(argv)
            expected = self.options.get("status", 0)
            if status != expected:
                logger.warning(f"symcalc {self.arguments[0]} exited {status}, not {expected}: {printed[-300:]}",
                               location=self.get_location())
            block = nodes.literal_block("", f"$ symcalc {self.arguments[0]}\n{printed.rstrip()}")
            block["language"] = "text"
            return [block]

    class CliReference(SphinxDirective):
        """``.. symcalc-cli::``: every (sub)command and flag, walked from ``build_parser()``."""

        def run(self):
            from symcalc.cli import build_parser

            parser = build_parser()
            return self._commands(parser, "symcalc", level_ids=[])

        def _section(self, title: str, ident: str):
            section = nodes.section(ids=[ident], names=[ident])
            section += nodes.title("", title)
            self.state.document.note_explicit_target(section)
            return section

        def _text(self, text: str):
            return nodes.paragraph("", text)

        def _commands(self, parser, prog, level_ids):
            out = []
            for action in parser._actions:
                if not isinstance(action, argparse._SubParsersAction):
                    continue
                helps = {a.dest: a.help for a in action._choices_actions}
                for name, sub in action.choices.items():
                    full = f"{prog} {name}"
                    ident = "cli-" + "-".join(full.split()[1:])
                    section = self._section(full, ident)
                    if helps.get(name):
                        section += self._text(helps[name][0].upper() + helps[name][1:] + ".")
                    if sub.description and sub.description != helps.get(name):
                        section += self._text(sub.description)
                    usage = sub.format_usage().strip()
                    section += nodes.literal_block("", usage)
                    section += self._options(sub)
                    if sub.epilog:
                        section += self._text(sub.epilog)
                    section.extend(self._commands(sub, full, level_ids))
                    out.append(section)
            return out

        def _options(self, parser):
            formatter = parser._get_formatter()
            items = nodes.definition_list()
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
                    continue
                if action.option_strings:
                    names = ", ".join(action.option_strings)
                    if action.nargs != 0:
                        names += " " + formatter._format_args(action, formatter._get_default_metavar_for_optional(action))
                else:
                    names = formatter._format_args(action, formatter._get_default_metavar_for_positional(action))
                term = nodes.term("", "")
                term += nodes.literal("", names)
                body = nodes.definition()
                help_text = formatter._expand_help(action) if action.help else ""
                if action.choices and not isinstance(action.choices, dict) and "{" not in names:
                    help_text += f" Choices: {', '.join(map(str, action.choices))}."
                body += nodes.paragraph("", help_text)
                item = nodes.definition_list_item("", term, body)
                items += item
            return items

    app.add_directive("symcalc-md", MarkdownTable)
    app.add_directive("symcalc-api", ApiPage)
    app.add_directive("symcalc-run", RunCli)
    app.add_directive("symcalc-cli", CliReference)

    def check_api(app_):
        for line in missing_docstrings():
            logger.warning(f"public name without a docstring: {line}", type="symcalc", subtype="docstring")

    formulas: list[tuple[str, str, bool]] = []

    def collect_math(app_, doctree, docname):
        for node in doctree.findall(lambda n: isinstance(n, (nodes.math, nodes.math_block))):
            formulas.append((f"{docname}:{node.line or 0}", node.astext(), isinstance(node, nodes.math_block)))

    def check_math(app_, env):
        if not formulas:
            return
        errors = katex_errors(formulas)
        if errors is None:
            logger.info("symcalc_docs: KaTeX not found (node and .cache/katex); formulas not checked")
            return
        for where, tex, error in errors:
            logger.warning(f"{where}: KaTeX cannot render {tex[:120]!r}: {error}", type="symcalc", subtype="math")

    def resolve_reexport(app_, env, node, contnode):
        """A py reference to a re-exported name resolves to where the name is documented."""
        if node.get("refdomain") != "py":
            return None
        target = node["reftarget"]
        if " " in target or not target.replace(".", "").replace("_", "").isalnum():
            return None                      # free text in a numpydoc type ("bytes per device")
        module, cls = node.get("py:module"), node.get("py:class")
        candidates = [target]
        if module:
            candidates[:0] = [f"{module}.{cls}.{target}"] if cls else []
            candidates.append(f"{module}.{target}")
        domain = env.get_domain("py")
        for candidate in candidates:
            home = documented_name(candidate)
            if home is None:
                continue
            for typ in (node["reftype"], "obj"):
                found = domain.resolve_xref(env, node["refdoc"], app_.builder, typ, home, node, contnode)
                if found is not None:
                    return found
        if any(_import_path(c) is not None for c in candidates if c.startswith("symcalc")):
            return contnode                  # an internal helper that exists: shown, not linked
        return None                          # nitpicky: "reference target not found"

    app.connect("missing-reference", resolve_reexport)

    # Data, attribute and property docstrings here are prose ("Bytes in a GiB (2^30): ..."), not
    # napoleon's "type: description" attribute form: keep napoleon off them.
    from sphinx.ext import napoleon

    def prose_attributes(app_, what, name, obj, options, lines):
        if what not in ("attribute", "data", "property"):
            napoleon._process_docstring(app_, what, name, obj, options, lines)

    listeners = app.events.listeners.get("autodoc-process-docstring", [])
    for listener in listeners:
        if listener.handler is napoleon._process_docstring:
            app.disconnect(listener.id)
            app.connect("autodoc-process-docstring", prose_attributes, priority=listener.priority)
    app.connect("builder-inited", lambda app_: write_api_pages())
    app.connect("builder-inited", check_api)
    app.connect("doctree-read", lambda app_, doctree: collect_math(app_, doctree, app_.env.docname))
    app.connect("env-check-consistency", check_math)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": False}
