"""``symcalc presets`` and ``symcalc hardware [NAME]`` without sympy, from :mod:`symcalc._generated.catalog`.

The generated module holds the data the full path builds from the library (each preset's exact
parameter counts, each hardware entry's ``as_dict()``); :mod:`symcalc.cli._catalog_text` formats
it for both paths. Covered: ``symcalc presets [--json]``, ``symcalc hardware [--json]`` and
``symcalc hardware NAME [--json]`` with NAME a catalogue name or alias as listed (lower case);
anything else (another spelling of a name, an unknown name: the full path's error) returns None.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["answer", "hardware_entry"]


def _json(obj) -> str:
    """:func:`symcalc.cli.common.print_json`'s text."""
    import json

    return json.dumps(obj, indent=2)


def hardware_entry(index: int) -> dict:
    """``Hardware.as_dict()`` of the catalogue's ``index``-th entry, rebuilt from the generated data."""
    from .._generated.catalog import HARDWARE, SOURCES

    entry = HARDWARE[index]
    figures = {key: {"value": value, **SOURCES[source], "note": note, "uncertain": uncertain}
               for key, (value, source, note, uncertain) in entry["figures"].items()}
    return {**entry, "figures": figures}


def answer(argv: Sequence[str]) -> Optional[str]:
    """The text ``symcalc presets|hardware ...`` prints, or None when the full path must answer."""
    from .._generated import catalog as c
    from ._catalog_text import CONVENTIONS, hardware_list, hardware_show, presets_json, presets_text

    words = list(argv[1:])
    as_json = words.count("--json")
    if as_json > 1:
        return None
    if as_json:
        words.remove("--json")
    if argv[0] == "presets":
        if words:
            return None
        return _json(presets_json(c.PRESETS)) if as_json else presets_text(c.PRESETS)
    if not words:
        entries = [hardware_entry(i) for i in range(len(c.HARDWARE))]
        if as_json:
            return _json({"hardware": entries, "aliases": c.ALIASES, "conventions": CONVENTIONS})
        return hardware_list(entries, c.ALIASES)
    if len(words) > 1 or words[0] not in c.ALIASES:
        return None  # flags, other spellings, unknown names (the full path's error)
    name = c.ALIASES[words[0]]
    entry = hardware_entry(next(i for i, hw in enumerate(c.HARDWARE) if hw["name"] == name))
    return _json(entry) if as_json else hardware_show(entry, c.SUMMARIES[name], c.UNITS)
