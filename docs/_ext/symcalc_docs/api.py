"""The public API of symcalc as the site documents it: modules with ``__all__``, their names, where
each name is documented (its canonical module), the API pages and the missing-docstring check.

Imports nothing from Sphinx, so the test suite can call it where Sphinx is not installed.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]
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
