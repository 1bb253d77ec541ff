"""``symcalc presets``: the built-in models, their families and parameter counts."""

from __future__ import annotations

import argparse

from ._catalog_text import presets_json, presets_text


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


def rows() -> list:
    """``(name, family, total, active or None, description)`` of every preset (ints: exact counts)."""
    from ..params import active_params, params
    from ..presets import PRESETS

    out = []
    for name, preset in PRESETS.items():
        model = preset.model()
        total = int(params(model).total)
        active = int(active_params(model).total) if model.is_moe else None
        out.append((name, preset.family, total, active, preset.description))
    return out


def run(args: argparse.Namespace) -> int:
    from .common import print_json

    if args.json:
        print_json(presets_json(rows()))
        return 0
    print(presets_text(rows()))
    return 0
