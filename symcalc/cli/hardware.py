"""``symcalc hardware``: the catalogue of devices (peaks, memory, bandwidths, power), with sources."""

from __future__ import annotations

import argparse

from ._catalog_text import CONVENTIONS, hardware_list, hardware_show
from .common import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hardware",
        help="the hardware catalogue: dense peak FLOP/s per dtype, memory, bandwidths, power, with sources",
        description=(
            "Lists the catalogue, or shows one device with every figure's source, date and note. Peaks are dense "
            "(datasheets' 2:4-sparse peaks are halved); memory is what the device reports in bytes; link bandwidths "
            "are per device and per direction; a '?' marks a figure whose note says it is uncertain. Any command "
            "taking --hardware NAME accepts the names and aliases shown here, in any case."
        ),
        epilog="Examples: symcalc hardware | symcalc hardware h100 | symcalc hardware --json",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="one device (name or alias, e.g. h100, a100, mi300x, v5p)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def view(hw) -> tuple:
    """What the texts need of an entry: ``(hw.as_dict(), its summary, unit per figure kind)`` (plain data)."""
    from ..hardware._entry import UNITS

    return hw.as_dict(), hw.summary, dict(UNITS)


def run(args: argparse.Namespace) -> int:
    from ..hardware import aliases, catalogue, get

    if args.name is not None:
        entry, summary, units = view(get(args.name, "hardware NAME"))
        if args.json:
            print_json(entry)
        else:
            print(hardware_show(entry, summary, units))
        return 0
    entries = [hw.as_dict() for hw in catalogue()]
    if args.json:
        print_json({"hardware": entries, "aliases": aliases(), "conventions": CONVENTIONS})
        return 0
    print(hardware_list(entries, aliases()))
    return 0
