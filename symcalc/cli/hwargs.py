"""``--hardware NAME`` and ``--dtype`` for every subcommand that takes a peak, a memory size or a bandwidth.

A flag given explicitly wins over the catalogue (``--hardware h100 --gpu-memory 70GiB``); a figure
the flag does not give comes from ``--hardware``. ``--peak-flops`` takes a number (``989e12``,
``989.4T``: count suffixes K M B T) or a catalogue name (``h100``: its dense peak at ``--dtype``).
"""

from __future__ import annotations

import argparse
from typing import Any, Optional

from ..errors import SymcalcError
from ..hardware import DTYPES, Hardware, find, get
from ..inputs import parse_count
from .common import parse_amount

__all__ = ["add_hardware_arguments", "hardware_from_args", "parse_peak", "peak_from_args", "figure_or_flag"]


def add_hardware_arguments(group: Any, *, fills: str) -> None:
    """Add ``--hardware`` and ``--dtype``; ``fills`` says which flags the entry fills in (for --help)."""
    group.add_argument("--hardware", metavar="NAME",
                       help=f"a device of the catalogue (`symcalc hardware`; h100 = h100-sxm, a100 = a100-80gb): "
                            f"fills {fills} unless given")
    group.add_argument("--dtype", choices=DTYPES,
                       help="which dense peak of --hardware (or of --peak-flops NAME) to use (default bf16)")


def hardware_from_args(args: argparse.Namespace) -> Optional[Hardware]:
    """The ``--hardware`` entry, or None when the flag is not given."""
    name = getattr(args, "hardware", None)
    return None if name is None else get(name)


def parse_peak(text: Any, dtype: str = "bf16", flag: str = "--peak-flops") -> Any:
    """FLOP/s from ``989e12``, ``989.4T`` or a catalogue name (its dense peak at ``dtype``), exact.

    >>> parse_peak("989.4T"), parse_peak("989e12"), parse_peak("h100"), parse_peak("a100", "tf32")
    (989400000000000, 989000000000000, 989400000000000, 156000000000000)
    >>> parse_peak("fast")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: --peak-flops='fast' is not a number; write e.g. 4096, 2e12, 7B or 3/2
    """
    hw = find(text) if isinstance(text, str) else None
    if hw is not None:
        return hw.peak(dtype)
    return parse_amount(text, flag, lambda t: parse_count(t, flag))


def peak_from_args(args: argparse.Namespace, flag: str = "--peak-flops") -> Optional[Any]:
    """``--peak-flops`` if given, else the ``--hardware`` peak at ``--dtype``, else None."""
    from ..defaults import active

    dtype = getattr(args, "dtype", None) or active().dtype
    text = getattr(args, flag.lstrip("-").replace("-", "_"), None)
    if text is not None:
        return parse_peak(text, dtype, flag)
    hw = hardware_from_args(args)
    return None if hw is None else hw.peak(dtype)


def figure_or_flag(args: argparse.Namespace, attr: str, flag: str, figure: str, parse: Any,
                   default: Any = None) -> tuple[Any, str]:
    """A value from its flag, else the ``--hardware`` figure, else ``default``; and where it came from.

    ``parse`` turns the flag's text into a number (the flag's name goes into its errors). Returns
    ``(value, origin)`` with origin ``flag``, the entry's name, or ``default`` (value None when none).
    """
    hw = hardware_from_args(args)  # a misspelt --hardware is an error even where every figure is given
    text = getattr(args, attr, None)
    if text is not None:
        return parse(text), flag
    if hw is not None and hw.figures.get(figure) is not None:
        return hw.figures[figure].value, hw.name
    if default is None and hw is not None:
        raise SymcalcError(f"the catalogue has no {figure.replace('_', ' ')} for {hw.name}; give it with {flag}")
    return default, "default"
