"""``symcalc presets``: the built-in models, their families and parameter counts."""

from __future__ import annotations

import argparse

from ..breakdown import format_count
from ..params import active_params, params
from ..presets import PRESETS
from .common import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "presets",
        help="list the built-in models (--preset NAME)",
        description="The built-in models: name, family (config.json model_type), total parameters "
                    "(1000-based suffixes) and a description. Each is the fields of its real config.json.",
        epilog="Example: symcalc presets --json | symcalc params --preset mixtral-8x7b",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object: name -> details")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rows = []
    for name, preset in PRESETS.items():
        model = preset.model()
        total = int(params(model).total)
        active = int(active_params(model).total) if model.is_moe else None
        rows.append((name, preset.family, total, active, preset.description))
    if args.json:
        print_json({
            name: {"family": family, "total": total, **({"active": active} if active is not None else {}),
                   "description": desc}
            for name, family, total, active, desc in rows
        })
        return 0
    header = ("name", "family", "params", "description")
    cells = [(name, family, format_count(total) + (f" ({format_count(active)} active)" if active else ""), desc)
             for name, family, total, active, desc in rows]
    widths = [max(len(str(r[i])) for r in [header, *cells]) for i in range(3)]
    for row in [header, *cells]:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}")
    print("params are exact counts shown with 1000-based suffixes (M = 10^6, B = 10^9); "
          "`symcalc params --preset NAME` gives the breakdown")
    return 0
