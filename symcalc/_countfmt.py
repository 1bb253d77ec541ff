"""Counts with 1000-based suffixes, free of sympy (and of typing, as the fast path): shared by :mod:`symcalc.display` and the CLI's sympy-free path.

>>> scaled_count(6738415616.0, "params"), scaled_count(3.2e15, "FLOP"), scaled_count(999.0, "")
('6.74 B', '3.20 PFLOP', None)
"""

from __future__ import annotations

_COUNT = ["", " K", " M", " B", " T", " P", " E", " Z", " Y"]
_FLOP = [" ", " K", " M", " G", " T", " P", " E", " Z", " Y"]


def scaled_count(number: float, unit: str) -> str | None:
    """``number`` with its 1000-based suffix and two decimals (``"6.74 B"``, ``"3.20 PFLOP"``).

    None for a count below 1000 that is not FLOP: the caller prints that one exactly.
    """
    suffixes = _FLOP if unit == "FLOP" else _COUNT
    i = 0
    while abs(number) >= 1000 and i < len(suffixes) - 1:
        number /= 1000
        i += 1
    if unit == "FLOP":
        return f"{number:.2f}{suffixes[i]}FLOP"
    if i == 0:
        return None
    return f"{number:.2f}{suffixes[i]}"
