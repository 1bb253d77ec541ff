"""What ``symcalc plan`` prints for a plan with rows (text and ``--json``), without sympy.

Shared by the full path (:mod:`symcalc.cli.plan`, rows of :class:`symcalc.plan.PlanRow` with exact
Quantities) and the sympy-free path (:mod:`symcalc.cli._fast_plan`, rows of ints and Fractions),
so both print the same bytes: every number goes through ``float()`` or an exact ceiling.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

GIB = 2**30
UNITS = "memory in bytes (rounded up), times in seconds, mfu a fraction of the peak"


def exact_ceil(value: Any) -> int:
    """The least int at or above an exact number (an int, a Fraction, a sympy Rational or a Quantity of one)."""
    value = getattr(value, "exact", value)
    p, q = (value.p, value.q) if hasattr(value, "q") else (value.numerator, value.denominator)
    return int(-(-int(p) // int(q)))


def row_dict(row: Any) -> dict:
    """JSON-ready: memory rounded up to whole bytes, times as float seconds, MFU as a fraction."""
    out = {k: getattr(row, k) for k in ("tp", "pp", "dp", "ep", "virtual_stages", "zero_stage", "recompute",
                                         "micro_batch", "n_microbatches", "layers_per_stage")}
    out["memory_bytes"] = exact_ceil(row.memory)
    out["step_time_s"] = float(row.step_time)
    out["mfu"] = None if row.mfu is None else float(row.mfu)
    out["time_parts_s"] = {k: float(v) for k, v in row.time_parts.items()}
    return out


def jsonable(value: Any) -> Any:
    """A setting as JSON: bools, strings, dicts and None as they are, whole numbers as ints, others as floats."""
    from fractions import Fraction

    if isinstance(value, (bool, int, float, str, dict)) or value is None:
        return value
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value):
        return asdict(value)
    return int(value) if getattr(value, "is_integer", False) else float(value)


def json_object(name: str, n_candidates: int, n_fit: int, settings: dict, hardware: Any, sources: dict,
                rows: list) -> dict:
    """The ``--json`` object of a plan with rows (the full path adds ``plot`` first when it wrote one)."""
    return {
        "model": name,
        "n_candidates": n_candidates,
        "n_fit": n_fit,
        "settings": {k: jsonable(v) for k, v in settings.items()},
        "hardware": hardware,
        "sources": sources,
        "rows": [row_dict(r) for r in rows],
        "least_memory_bytes": None,
        "fixes": [],
        "units": UNITS,
    }


def text_head(name: str, st: dict, hardware: Any, sources: dict) -> list:
    """The first two lines: the problem, and the nodes and links."""
    on = f" ({hardware})" if hardware else ""
    where = "scale-out NIC" if st["crosses_nodes"] else "scale-up link (one node)"
    return [f"symcalc plan: {name} on {st['n_devices']} devices{on} x "
            f"{float(st['memory']) / GIB:.2f} GiB, peak {float(st['peak_flops']):.3g} FLOP/s; s={st['seq_len']}, "
            f"B={st['global_batch']}; framework {st['framework']}; compute: {st['compute']}",
            f"nodes of {st['node_size']} devices ({sources['node_size']}): TP {float(st['bandwidth_tp']) / 1e9:g} GB/s "
            f"({sources['bandwidth_tp']}); DP/PP {float(st['bandwidth_dp']) / 1e9:g} GB/s, EP "
            f"{float(st['bandwidth_ep']) / 1e9:g} GB/s on the {where}"]


def text_rows(rows: list) -> list:
    """The table of rows and its note."""
    head = (f"{'tp':>3} {'pp':>3} {'dp':>5} {'ep':>3} {'v':>2} {'zero':>4} {'recompute':>9} {'b':>3} {'m':>5}  "
            f"{'mem GiB':>8}  {'step s':>9}  {'MFU':>5}  {'compute':>8} {'bubble':>8} {'comm':>8}")
    out = [head, "-" * len(head)]
    for r in rows:
        parts = {k: float(v) for k, v in r.time_parts.items()}
        comm = sum(v for k, v in parts.items() if k.endswith("_comm"))
        out.append(f"{r.tp:>3} {r.pp:>3} {r.dp:>5} {r.ep:>3} {r.virtual_stages:>2} {r.zero_stage:>4} {r.recompute:>9} "
                   f"{r.micro_batch:>3} {r.n_microbatches:>5}  {float(r.memory) / GIB:>8.2f}  {float(r.step_time):>9.4f}  "
                   f"{100 * float(r.mfu):>4.1f}%  {parts['compute']:>8.4f} {parts['pipeline_bubble']:>8.4f} {comm:>8.4f}")
    out.append("GiB = 2^30 bytes; times in seconds per step; v = model chunks per pipeline rank (interleaved 1F1B); "
               "MFU = model FLOPs / (n x peak x step time); comm = TP + EP + PP + DP (not overlapped); docs/guides/planning.md")
    return out
