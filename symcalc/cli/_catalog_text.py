"""The texts of ``symcalc presets`` and ``symcalc hardware``, from plain data (ints, strings, dicts).

Shared by the full path (:mod:`symcalc.cli.presets`, :mod:`symcalc.cli.hardware`, which build the
data from the library) and the sympy-free path (:mod:`symcalc.cli._fast_catalog`, which reads the
same data generated into :mod:`symcalc._generated.catalog`), so both print the same bytes. Imports
no sympy.

>>> print(presets_text([("tiny", "llama", 1_234_567, None, "a model"), ("moe", "mixtral", 46_702_792_704,
...                      12_879_925_248, "experts")]).splitlines()[1])
tiny  llama             1.23 M  a model
"""

from __future__ import annotations

from .._countfmt import scaled_count

GIB = 2**30
#: What ``symcalc hardware --json`` says its numbers mean.
CONVENTIONS = {
    "peak_flops": "dense FLOP/s per device (2:4-sparse datasheet peaks halved)",
    "memory": "bytes the device reports (CUDA totalGlobalMem / torch total_memory; rocm-smi), else the datasheet's "
              "GB as 10^9 bytes (see each note)",
    "bandwidths": "bytes/s per device; links per direction (NVLink's 900 GB/s total is 450 GB/s here)",
    "bandwidth_scaleout": "the NIC per device of the vendor's reference system; null where none is fixed",
    "power": "board power (TDP/TBP) in W; null where the vendor publishes none",
}


def _count(total: int) -> str:
    """:func:`symcalc.display.format_count` of a whole count."""
    text = scaled_count(float(total), "")
    return f"{total}" if text is None else text


def presets_json(rows: list) -> dict:
    """``symcalc presets --json``: name -> family, total (and active for MoE), description."""
    return {name: {"family": family, "total": total, **({"active": active} if active is not None else {}),
                   "description": desc}
            for name, family, total, active, desc in rows}


def presets_text(rows: list) -> str:
    """``symcalc presets``: one row per (name, family, total, active or None, description), then a footer."""
    header = ("name", "family", "params", "description")
    cells = [(name, family, _count(total) + (f" ({_count(active)} active)" if active else ""), desc)
             for name, family, total, active, desc in rows]
    widths = [max(len(str(r[i])) for r in [header, *cells]) for i in range(3)]
    lines = [f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}" for row in [header, *cells]]
    lines.append("params are exact counts shown with 1000-based suffixes (M = 10^6, B = 10^9); "
                 "`symcalc params --preset NAME` gives the breakdown")
    return "\n".join(lines)


def _exact(value):
    """A figure's exact value: an int, or a Fraction from its text ``"p/q"``."""
    if isinstance(value, int):
        return value
    from fractions import Fraction

    return Fraction(value)


def _float(value) -> float:
    """A figure's exact value as the nearest float (as ``float()`` of the sympy number)."""
    return float(_exact(value))


def _num(fig, scale: float, fmt: str) -> str:
    return "-" if fig is None else format(_float(fig["value"]) / scale, fmt)


def _mark(fig) -> str:
    return "?" if fig is not None and fig["uncertain"] else ""


def hardware_list(entries: list, aliases: dict) -> str:
    """``symcalc hardware``: one row per entry (``Hardware.as_dict()``), then a footer naming a few aliases."""
    head = (f"{'name':<10} {'bf16 TFLOP/s':>12} {'fp8':>7} {'fp4':>6} {'memory GiB':>11} {'mem TB/s':>9} "
            f"{'up GB/s':>8} {'out GB/s':>9} {'W':>5}  label")
    lines = [head, "-" * len(head)]
    for hw in entries:
        figs = hw["figures"]
        bf16, fp8, fp4 = (figs.get(f"peak_flops/{d}") for d in ("bf16", "fp8", "fp4"))
        memory, up, out = figs.get("memory"), figs.get("bandwidth_scaleup"), figs.get("bandwidth_scaleout")
        lines.append(f"{hw['name']:<10} {_num(bf16, 1e12, '.1f') + _mark(bf16):>12} "
                     f"{_num(fp8, 1e12, '.0f') + _mark(fp8):>7} "
                     f"{_num(fp4, 1e12, '.0f'):>6} {_num(memory, GIB, '.2f') + _mark(memory):>11} "
                     f"{_num(figs.get('mem_bandwidth'), 1e12, '.3g'):>9} "
                     f"{_num(up, 1e9, '.0f') + _mark(up):>8} "
                     f"{_num(out, 1e9, '.4g') + _mark(out):>9} "
                     f"{_num(figs.get('power'), 1, '.0f'):>5}  {hw['label']}")
    lines.append("peaks dense (sparse datasheet peaks halved); memory as reported, GiB = 2^30; links per direction; "
                 "? = uncertain (see `symcalc hardware NAME`); aliases: "
                 + ", ".join(f"{a} -> {n}" for a, n in aliases.items() if a in ("h100", "a100", "h200-sxm", "v5e", "4090")))
    return "\n".join(lines)


def hardware_show(hw: dict, summary: str, units: dict) -> str:
    """``symcalc hardware NAME``: every figure of one entry (``Hardware.as_dict()``) with its note and source.

    ``units`` maps a figure's kind (``peak_flops``, ``memory``, ...) to its unit.
    """
    lines = [f"{hw['name']}: {hw['label']} ({hw['vendor']}; {summary})"]
    if hw["aliases"]:
        lines.append(f"aliases: {', '.join(hw['aliases'])}")
    for key, fig in hw["figures"].items():
        unit = units[key.split("/")[0]]
        value, x = fig["value"], _float(fig["value"])
        pretty = {"FLOP/s": f"{x / 1e12:,.6g} TFLOP/s", "B": f"{x / GIB:,.2f} GiB",
                  "B/s": f"{x / 1e9:,.6g} GB/s", "W": f"{x:g} W", "devices": f"{int(_exact(value)):,} devices"}[unit]
        exact = f"{value:,} {unit}" if isinstance(value, int) else f"{value} {unit}"
        flag = " [uncertain]" if fig["uncertain"] else ""
        lines.append(f"\n{key}: {pretty} = {exact}{flag}")
        if fig["note"]:
            lines.append(f"  note: {fig['note']}")
        lines.append(f"  source: {fig['source']} ({fig['date']})")
        lines.append(f"          {fig['url']}")
    missing = [k for k in ("bandwidth_scaleout", "power", "scaleup_domain") if k not in hw["figures"]]
    if missing:
        lines.append(f"\nnot in the catalogue: {', '.join(missing)} (give them with the command's flags)")
    return "\n".join(lines)
