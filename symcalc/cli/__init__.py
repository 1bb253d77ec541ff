"""The ``symcalc`` command: a thin argparse front end over the library.

Each subcommand lives in its own module with ``register(subparsers)``; that function adds the
subparser and sets ``func`` to a handler ``(args) -> int``. Errors for users are
:class:`~symcalc.errors.SymcalcError`: printed as one line, exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from ..errors import SymcalcError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a fast run's whole budget is ~30 ms)
if TYPE_CHECKING:  # the annotations are strings
    from typing import Optional, Sequence

    from .common import SymcalcArgumentParser

__all__ = ["main", "build_parser"]

#: Subcommand modules, in the order ``symcalc --help`` lists them.
SUBCOMMANDS = ("params", "presets", "flops", "mem", "scaling", "latex", "solve", "plan", "hardware", "time", "serve",)


def _chosen(argv: Optional[Sequence[str]]) -> Sequence[str]:
    """The subcommands to register: only the one ``argv`` names, else all (help, errors, none)."""
    if argv is None:
        return SUBCOMMANDS
    # The top-level parser has no option taking a value, so the first word is the command.
    first = next((a for a in argv if not a.startswith("-")), None)
    return (first,) if first in SUBCOMMANDS else SUBCOMMANDS


def build_parser(argv: Optional[Sequence[str]] = None) -> "SymcalcArgumentParser":
    """The ``symcalc`` parser: every subcommand registered, or only the one ``argv`` names.

    Registering one subcommand imports only its module (and what it needs), which keeps
    ``symcalc mem ...`` from loading the planner, the solver, the renderer and so on. With no
    ``argv``, an unknown command or ``--help``, every subcommand is registered, so the help and
    argparse's ``invalid choice`` error list them all.
    """
    from .. import __version__
    from .common import SymcalcArgumentParser

    _check_argv(argv)
    parser = SymcalcArgumentParser(
        prog="symcalc",
        description=(
            "Parameters, FLOPs and memory of decoder-only transformers as exact sympy expressions. "
            "Flags keep the EleutherAI cookbook calculators' names."
        ),
        epilog="Run `symcalc COMMAND --help` for a command's flags. Example: symcalc params --preset llama-2-7b",
    )
    parser.add_argument("--version", action="version", version=f"symcalc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=SymcalcArgumentParser)
    for name in _chosen(argv):
        importlib.import_module(f"{__name__}.{name}").register(sub)
    for command in sub.choices.values():
        _add_cookbook(command)
    return parser


def _subparsers(parser: argparse.ArgumentParser) -> list:
    return [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]


def _add_cookbook(parser: argparse.ArgumentParser) -> None:
    """``--cookbook`` on a subcommand and on each of its own subcommands (solve's questions, latex's quantities)."""
    from .common import add_cookbook_argument

    nested = _subparsers(parser)
    if not nested:
        add_cookbook_argument(parser)
    for action in nested:
        for child in action.choices.values():
            _add_cookbook(child)


def _innermost(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser that parsed the flags: ``symcalc solve micro-batch``'s, not ``symcalc``'s."""
    for action in _subparsers(parser):
        chosen = getattr(args, action.dest, None)
        if chosen in action.choices:
            return _innermost(action.choices[chosen], args)
    return parser


def _unknown_flags(parser: argparse.ArgumentParser, args: argparse.Namespace, extra: list) -> None:
    """One line naming the subcommand, the unknown flag and the flag meant; exit 2."""
    from .common import suggest_flag

    inner = _innermost(parser, args)
    flags = [e for e in extra if e.startswith("-") and not e.lstrip("-").replace(".", "").isdigit()]
    if not flags:
        inner.error(f"unexpected argument(s): {' '.join(extra)}")
    meant = suggest_flag(inner, flags[0])
    hint = f"; did you mean {meant}?" if meant else f"; see `{inner.prog} --help`"
    inner.error(f"unknown flag {flags[0].split('=', 1)[0]}{hint}")


def _check_argv(argv: Optional[Sequence[str]]) -> None:
    """``argv`` is None or a list of strings (a bare string would be split into characters)."""
    if argv is not None and (not isinstance(argv, (list, tuple)) or not all(isinstance(a, str) for a in argv)):
        raise SymcalcError(f"argv={argv!r:.60} is not a list of strings; e.g. ['params', '--preset', 'llama-2-7b']")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input).

    Run as a process (``argv`` None: the ``symcalc`` command, ``python -m symcalc``), the commands
    :mod:`symcalc.cli._fast` covers (``params|flops|mem --preset NAME`` with the common flags) are
    answered from generated code without importing sympy, unless ``SYMCALC_FULL_PATH=1``; the
    answer is the same. A list ``argv`` always takes the full path.
    """
    _check_argv(argv)
    if argv is None and not os.environ.get("SYMCALC_FULL_PATH"):
        try:
            from ._fast import run

            status = run(sys.argv[1:])
        except Exception:  # noqa: BLE001 - a fault of the fast path must not cost the answer: the full path gives it
            status = None
        if status is not None:
            return status
    from .. import defaults as _defaults

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args, extra = parser.parse_known_args(argv)
    if extra:
        _unknown_flags(parser, args, extra)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .compare import _order, has_lists

    lists = has_lists(args)
    if lists and getattr(args, "compare", None) is None:
        inner = _innermost(parser, args)
        inner.error("comma-separated values compare configurations in symcalc mem, flops, params and solve; "
                    "give one value per flag here")
    try:
        with _defaults.using("cookbook" if getattr(args, "cookbook", False) else _defaults.active()):
            if lists:
                return int(args.compare(args, _order(argv, _innermost(parser, args))) or 0)
            return int(args.func(args) or 0)
    except SymcalcError as exc:
        sys.stderr.write(f"symcalc {args.command}: error: {exc}\n")
        return 2
    except BrokenPipeError:  # e.g. `symcalc presets | head`
        return 0
