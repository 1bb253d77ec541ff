"""The text of a ``symcalc solve`` answer from its JSON object: shared by the full path and the sympy-free one.

Imports nothing (:mod:`symcalc.cli._fast_solve` answers ``symcalc solve micro-batch`` without sympy).

>>> answer_line("largest micro-batch", 42, {"method": "closed-form", "quantity_at_answer": 85097260032,
...             "budget": 85899345920, "headroom": 802085888, "unit": "bytes"})
'largest micro-batch: 42  (closed-form); 85,097,260,032 bytes (79.25 GiB) of 85,899,345,920 bytes (80.00 GiB), headroom 802,085,888 bytes (0.75 GiB)'
"""

from __future__ import annotations

GIB = 2**30


def number(v) -> str:
    """An int with separators, a float to 6 significant digits."""
    return f"{v:,}" if isinstance(v, int) else f"{v:,.6g}"


def amount(v, unit: str) -> str:
    """A JSON number with its unit (bytes also in GiB)."""
    if unit == "bytes":
        return f"{number(v)} bytes ({v / GIB:.2f} GiB)"
    return f"{number(v)} {unit}".rstrip()


def answer_line(what: str, value, out: dict) -> str:
    """The line of an answer that fits: the value, how it was found, the quantity there, the budget, the headroom."""
    unit = out.get("unit", "")
    return (f"{what}: {number(value)}  ({out['method']}); {amount(out['quantity_at_answer'], unit)} of "
            f"{amount(out['budget'], unit)}, headroom {amount(out['headroom'], unit)}")
