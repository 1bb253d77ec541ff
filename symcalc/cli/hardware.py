"""``symcalc hardware``: the catalogue of devices (peaks, memory, bandwidths, power), with sources."""

from __future__ import annotations

import argparse

from .common import print_json

GIB = 2**30
CONVENTIONS = {
    "peak_flops": "dense FLOP/s per device (2:4-sparse datasheet peaks halved)",
    "memory": "bytes the device reports (CUDA totalGlobalMem / torch total_memory; rocm-smi), else the datasheet's "
              "GB as 10^9 bytes (see each note)",
    "bandwidths": "bytes/s per device; links per direction (NVLink's 900 GB/s total is 450 GB/s here)",
    "bandwidth_scaleout": "the NIC per device of the vendor's reference system; null where none is fixed",
    "power": "board power (TDP/TBP) in W; null where the vendor publishes none",
}


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


def _num(value, scale: float, fmt: str = ".4g", unknown: str = "-") -> str:
    return unknown if value is None else format(float(value) / scale, fmt)


def _mark(hw, key: str) -> str:
    fig = hw.figures.get(key)
    return "?" if fig is not None and fig.uncertain else ""


def run(args: argparse.Namespace) -> int:
    from ..hardware import aliases, catalogue, get

    if args.name is not None:
        return _show(get(args.name, "hardware NAME"), args.json)
    entries = catalogue()
    if args.json:
        print_json({"hardware": [hw.as_dict() for hw in entries], "aliases": aliases(), "conventions": CONVENTIONS})
        return 0
    head = (f"{'name':<10} {'bf16 TFLOP/s':>12} {'fp8':>7} {'fp4':>6} {'memory GiB':>11} {'mem TB/s':>9} "
            f"{'up GB/s':>8} {'out GB/s':>9} {'W':>5}  label")
    print(head)
    print("-" * len(head))
    for hw in entries:
        peaks = {d: hw.peak(d) if d in hw.dtypes else None for d in ("bf16", "fp8", "fp4")}
        print(f"{hw.name:<10} {_num(peaks['bf16'], 1e12, '.1f') + _mark(hw, 'peak_flops/bf16'):>12} "
              f"{_num(peaks['fp8'], 1e12, '.0f') + _mark(hw, 'peak_flops/fp8'):>7} "
              f"{_num(peaks['fp4'], 1e12, '.0f'):>6} {_num(hw.memory, GIB, '.2f') + _mark(hw, 'memory'):>11} "
              f"{_num(hw.mem_bandwidth, 1e12, '.3g'):>9} "
              f"{_num(hw.bandwidth_scaleup, 1e9, '.0f') + _mark(hw, 'bandwidth_scaleup'):>8} "
              f"{_num(hw.bandwidth_scaleout, 1e9, '.4g') + _mark(hw, 'bandwidth_scaleout'):>9} "
              f"{_num(hw.power, 1, '.0f'):>5}  {hw.label}")
    print("peaks dense (sparse datasheet peaks halved); memory as reported, GiB = 2^30; links per direction; "
          "? = uncertain (see `symcalc hardware NAME`); aliases: "
          + ", ".join(f"{a} -> {n}" for a, n in aliases().items() if a in ("h100", "a100", "h200-sxm", "v5e", "4090")))
    return 0


def _show(hw, as_json: bool) -> int:
    from ..hardware._entry import UNITS

    if as_json:
        print_json(hw.as_dict())
        return 0
    print(f"{hw.name}: {hw.label} ({hw.vendor}; {hw.summary})")
    if hw.aliases:
        print(f"aliases: {', '.join(hw.aliases)}")
    for key, fig in hw.figures.items():
        unit = UNITS[key.split("/")[0]]
        value = fig.value
        pretty = {"FLOP/s": f"{float(value) / 1e12:,.6g} TFLOP/s", "B": f"{float(value) / GIB:,.2f} GiB",
                  "B/s": f"{float(value) / 1e9:,.6g} GB/s", "W": f"{float(value):g} W",
                  "devices": f"{int(value):,} devices"}[unit]
        exact = f"{int(value):,} {unit}" if value.is_integer else f"{value} {unit}"
        flag = " [uncertain]" if fig.uncertain else ""
        print(f"\n{key}: {pretty} = {exact}{flag}")
        if fig.note:
            print(f"  note: {fig.note}")
        print(f"  source: {fig.source.title} ({fig.source.date})")
        print(f"          {fig.source.url}")
    missing = [k for k in ("bandwidth_scaleout", "power", "scaleup_domain") if k not in hw.figures]
    if missing:
        print(f"\nnot in the catalogue: {', '.join(missing)} (give them with the command's flags)")
    return 0
