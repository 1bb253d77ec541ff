"""Inverse questions about memory per device: largest micro-batch or sequence, smallest ZeRO stage or TP degree.

Each is one call of the engine on :func:`symcalc.memory.training_memory` with the unknown left
as its symbol; ``options`` are training_memory's keywords (``seq_len``, ``zero_stage``,
``recompute``, ``precision``, degrees such as ``tp=2, n_devices=8``, ...).
"""

from __future__ import annotations

from typing import Any

from .. import symbols as S
from ..model import Model
from ._engine import Solution, max_integer, min_integer
from ._units import parse_bytes

__all__ = ["max_micro_batch", "max_seq_len", "min_zero_stage", "min_tp"]


def _memory(model: Model, **options: Any):
    from ..memory import training_memory

    return training_memory(model, **options)


def max_micro_batch(budget: Any, model: Model, **options: Any) -> Solution:
    """The largest micro-batch b whose training memory per device fits ``budget`` ("80GiB", bytes).

    >>> from symcalc import Model
    >>> m = Model.preset("llama-2-7b")
    >>> sol = max_micro_batch("80GiB", m, seq_len=4096, n_devices=8, zero_stage=3, recompute="full")
    >>> sol.value, sol.method
    (43, 'closed-form')
    """
    return max_integer(_memory(model, micro_batch=S.micro_batch, **options), S.micro_batch, parse_bytes(budget), unit="bytes")


def max_seq_len(budget: Any, model: Model, *, multiple_of: int = 1, **options: Any) -> Solution:
    """The longest sequence s whose training memory per device fits ``budget``."""
    return max_integer(_memory(model, seq_len=S.seq_len, **options), S.seq_len, parse_bytes(budget),
                       multiple_of=multiple_of, unit="bytes")


def min_zero_stage(budget: Any, model: Model, **options: Any) -> Solution:
    """The smallest ZeRO stage (0-3) whose training memory per device fits ``budget``."""
    return min_integer(_memory(model, zero_stage=S.zero_stage, **options), S.zero_stage, parse_bytes(budget),
                       lo=0, choices=[0, 1, 2, 3], unit="bytes")


def min_tp(budget: Any, model: Model, **options: Any) -> Solution:
    """The smallest TP degree (dividing the KV-head count) whose memory per device fits ``budget``."""
    heads = model.n_kv_heads
    return min_integer(_memory(model, tp=S.tp, **options), S.tp, parse_bytes(budget),
                       divisor_of=int(heads) if heads.is_Integer else None, unit="bytes")
