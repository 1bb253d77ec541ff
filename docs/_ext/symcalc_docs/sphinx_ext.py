"""The Sphinx side: directives, the docstring and math checks, re-exported names' references."""

from __future__ import annotations

import shlex

from .api import _import_path, documented_name, missing_docstrings, write_api_pages, api_rst
from .pages import katex_errors, markdown, run_cli


# --------------------------------------------------------------------------------------------
# Sphinx glue
# --------------------------------------------------------------------------------------------

def setup(app):  # noqa: C901 - the directives are small and local
    """Register the directives and checks with Sphinx."""
    import argparse

    from docutils import nodes
    from docutils.parsers.rst import directives
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
