"""Collective communication volumes: bytes each device sends, written once for serving and planning.

Conventions: ring algorithms (NCCL's default for large messages), bandwidth term only (no
per-message latency), ``group`` devices; ``message`` is the full tensor each device holds before
(all-reduce) or after (all-gather) the collective, in bytes. Each device sends (and receives)

- all-reduce: :math:`2 \\frac{g-1}{g} M` (a reduce-scatter then an all-gather);
- all-gather or reduce-scatter: :math:`\\frac{g-1}{g} M`;
- point-to-point (a pipeline send): :math:`M`.

Time is volume over the link bandwidth per device and direction times an efficiency
(:func:`seconds`). A group of one sends nothing.

>>> from symcalc.symbols import tp as t
>>> allreduce_bytes(1000, t)
1000*(2*tp - 2)/tp
>>> allreduce_bytes(1000, 1), allgather_bytes(1000, 4)
(0, 750)

References
----------
Patarasuk and Yuan 2009, "Bandwidth optimal all-reduce algorithms for clusters of
workstations"; Rajbhandari et al. 2020, "ZeRO", §7 (2Ψ per all-reduce).
"""

from __future__ import annotations

from typing import Any

from sympy import Expr

from .inputs import as_amount, as_fraction, as_positive, as_size

__all__ = ["allreduce_bytes", "allgather_bytes", "reduce_scatter_bytes", "p2p_bytes", "seconds"]


def allreduce_bytes(message: Any, group: Any) -> Expr:
    """Bytes each device sends in a ring all-reduce of ``message`` bytes over ``group`` devices."""
    m, g = as_amount("message", message, unit="bytes"), as_size("group", group)
    return 2 * (g - 1) / g * m


def allgather_bytes(message: Any, group: Any) -> Expr:
    """Bytes each device sends in a ring all-gather whose result is ``message`` bytes."""
    m, g = as_amount("message", message, unit="bytes"), as_size("group", group)
    return (g - 1) / g * m


def reduce_scatter_bytes(message: Any, group: Any) -> Expr:
    """Bytes each device sends in a ring reduce-scatter of ``message`` bytes (as an all-gather)."""
    return allgather_bytes(message, group)


def p2p_bytes(message: Any) -> Expr:
    """Bytes a device sends to its pipeline neighbour: the message itself."""
    return as_amount("message", message, unit="bytes")


def seconds(volume: Any, bandwidth: Any, efficiency: Any = 1) -> Expr:
    """Seconds to send ``volume`` bytes at ``bandwidth`` B/s per direction times ``efficiency``.

    >>> seconds(900, 450, "1/2")
    4
    """
    return as_amount("volume", volume, unit="bytes") / (as_positive("bandwidth", bandwidth)
                                                        * as_fraction("efficiency", efficiency))
