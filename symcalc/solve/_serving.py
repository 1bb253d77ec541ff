"""Inverse questions about inference memory: how many sequences, how long a context, how many devices.

Each is the engine (:mod:`symcalc.solve`) on :func:`symcalc.memory.inference_memory` per device
(weights, KV cache of ``seq_len + n_generate`` tokens per sequence, the transient activations of
a prefill) with the unknown left as its symbol; ``options`` are inference_memory's keywords
(``seq_len``, ``n_generate``, ``micro_batch``, ``weights``, ``bytes_kv``, ``bytes_act``,
``flash_attention``, ``prefill_batch``, ``misc_bytes``, ``tp``, ``pp``). Serving is modelled with
tensor and pipeline parallelism (no data or context parallelism inside one replica).

Allowed layouts: the TP degree t divides the heads and either divides the KV heads or is a
multiple of them (each KV head then replicated, as vLLM and TensorRT-LLM do), at most ``max_tp``
(the scale-up domain: 8 GPUs of an HGX/DGX node); the PP degree divides the layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_int, as_model
from ..model import Model
from ._engine import Solution, divisors, max_integer, min_integer
from ._units import parse_bytes

__all__ = ["max_serving_batch", "max_serving_context", "min_serving_devices", "LayoutSolution", "serving_tp_degrees"]

#: The largest TP degree considered by default: one scale-up domain (an 8-GPU node).
MAX_TP = 8


def _memory(model: Model, **options: Any):
    from ..memory import inference_memory

    return inference_memory(model, **options)


def max_serving_batch(budget: Any, model: Model, **options: Any) -> Solution:
    """The most sequences served at once (``micro_batch``) whose inference memory per device fits.

    >>> from symcalc import Model
    >>> sol = max_serving_batch("80GB", Model.preset("llama-3-8b"), seq_len=4096, n_generate=512,
    ...                         flash_attention=True, prefill_batch=1)
    >>> sol.value, sol.method
    (104, 'closed-form')
    """
    model = as_model("model", model)
    if "micro_batch" in options:
        raise SymcalcError("micro_batch= is the unknown; leave it out")
    return max_integer(_memory(model, micro_batch=S.micro_batch, **options), S.micro_batch, parse_bytes(budget),
                       unit="bytes")


def max_serving_context(budget: Any, model: Model, *, multiple_of: Union[int, Sequence[int]] = 1,
                        **options: Any) -> Solution:
    """The longest prompt ``seq_len`` whose inference memory per device fits (the cache then holds
    ``seq_len + n_generate`` tokens per sequence).

    >>> from symcalc import Model
    >>> max_serving_context("80GB", Model.preset("llama-3-8b"), micro_batch=8, n_generate=1,
    ...                     flash_attention=True, prefill_batch=1, multiple_of=1024).value
    52224
    """
    model = as_model("model", model)
    if "seq_len" in options:
        raise SymcalcError("seq_len= is the unknown; leave it out")
    return max_integer(_memory(model, seq_len=S.seq_len, **options), S.seq_len, parse_bytes(budget),
                       multiple_of=multiple_of, unit="bytes")


def serving_tp_degrees(model: Model, max_tp: int = MAX_TP) -> list[int]:
    """TP degrees a serving replica may use: t | a, and t | g or g | t, t ≤ ``max_tp``.

    >>> from symcalc import Model
    >>> serving_tp_degrees(Model.preset("llama-3-8b")), serving_tp_degrees(Model.preset("qwen2.5-7b"))
    ([1, 2, 4, 8], [1, 2, 4])
    """
    model = as_model("model", model)
    max_tp = as_int("max_tp", max_tp)
    heads, kv = model.n_heads, model.n_kv_heads
    if not (heads.is_Integer and kv.is_Integer):
        raise SymcalcError("n_heads and n_kv_heads need numbers to list the TP degrees")
    heads, kv = int(heads), int(kv)
    return [t for t in divisors(heads) if t <= max_tp and (kv % t == 0 or t % kv == 0)]


@dataclass(frozen=True)
class LayoutSolution(Solution):
    """A fewest-devices answer with its layout: ``value = tp * pp`` devices."""

    tp: Optional[int] = None
    pp: Optional[int] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("tp", "pp"):
            if getattr(self, key) is not None:
                object.__setattr__(self, key, as_int(f"LayoutSolution.{key}", getattr(self, key)))

    def to_json(self) -> dict[str, Any]:
        """The solution for ``--json``, with the layout's ``tp`` and ``pp``."""
        out = super().to_json()
        out["tp"], out["pp"] = self.tp, self.pp
        return out

    def __str__(self) -> str:
        base = super().__str__()
        return base if self.value is None else f"{base}; tp = {self.tp}, pp = {self.pp}"


def min_serving_devices(budget: Any, model: Model, *, max_tp: int = MAX_TP, tp: Optional[int] = None,
                        pp: Optional[int] = None, **options: Any) -> LayoutSolution:
    """The fewest devices ``tp * pp`` of one serving replica whose inference memory per device fits.

    For each allowed TP degree (:func:`serving_tp_degrees`, or ``tp`` fixed) the smallest PP degree
    dividing the layers is solved for (closed form on the memory in p, checked), or ``pp`` is
    fixed; the layout with the fewest devices wins, ties going to fewer pipeline stages (a
    pipeline adds latency; TP stays inside the scale-up domain). The reported stage holds both
    ends of the model (an upper bound for p > 1, see :mod:`symcalc.memory.parallel`).

    >>> from symcalc import Model
    >>> sol = min_serving_devices("80GB", Model.preset("llama-3-70b"), seq_len=4096, n_generate=512,
    ...                           micro_batch=16, flash_attention=True, prefill_batch=1)
    >>> sol.value, sol.tp, sol.pp
    (4, 4, 1)
    """
    model = as_model("model", model)
    for key in ("n_devices", "dp", "cp", "ep"):
        if key in options:
            raise SymcalcError(f"{key}= is not part of a serving replica; give tp= and/or pp= (or neither)")
    limit = parse_bytes(budget)
    degrees = serving_tp_degrees(model, max_tp) if tp is None else [as_int("tp", tp)]
    if not degrees:
        raise SymcalcError(f"no TP degree up to max_tp={max_tp} divides the heads of this model")
    layers = model.n_layers
    if not layers.is_Integer:
        raise SymcalcError("n_layers needs a number to solve for the pipeline degree")
    best: Optional[tuple] = None   # (devices, pp, tp, solution)
    closest: Optional[Solution] = None
    for t in degrees:
        if pp is not None:
            p = as_int("pp", pp)
            sol = min_integer(_memory(model, tp=t, pp=S.pp, **options), S.pp, limit, choices=[p], unit="bytes")
        else:
            sol = min_integer(_memory(model, tp=t, pp=S.pp, **options), S.pp, limit,
                              divisor_of=int(layers), unit="bytes")
        if sol.feasible:
            key = (t * sol.value, sol.value, t)
            if best is None or key < best[:3]:
                best = (*key, sol)
        elif closest is None or bool(sol.quantity < closest.quantity):
            closest = sol
    if best is None:
        return LayoutSolution("n_devices", None, closest.method, closest.quantity, limit, False, "min", unit="bytes")
    n, p, t, sol = best
    return LayoutSolution("n_devices", n, sol.method, sol.quantity, limit, True, "min", unit="bytes", tp=t, pp=p)
