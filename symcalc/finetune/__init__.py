"""Fine-tuning: adapters (LoRA, DoRA), frozen parts, and the recipes that combine them with storage.

The pieces are small frozen objects, each contributing its own terms:

- :class:`LoRA` (:mod:`symcalc.finetune.adapters`): rank r on target linears; its parameters;
- :class:`Freeze` (:mod:`symcalc.finetune.freeze`): parts and layers that get no gradient;
- :class:`~symcalc.memory.storage.Storage`: how frozen weights are stored (NF4, int8, fp8, ...).

:func:`trainable_params` counts what trains; :func:`finetune_params` gives trainable and total
(peft's ``get_nb_trainable_parameters()``); :func:`recipe` builds the objects of a named
fine-tuning method (``full``, ``lora``, ``qlora``, ``dora``) for :func:`symcalc.memory.training_memory`.

>>> from symcalc import Model
>>> m = Model.preset("llama-2-7b")
>>> finetune_params(m, adapter=LoRA(8, "q,v"))
{'trainable': 4194304, 'total': 6742609920}
>>> finetune_params(m, freeze=Freeze(parts=("embedding", "lm_head")))
{'trainable': 6476271616, 'total': 6738415616}
"""

from __future__ import annotations

from typing import Any, Optional

from sympy import Expr, Integer

from ..breakdown import Breakdown
from ..errors import SymcalcError
from ..inputs import as_choice, as_model
from .adapters import (
    ADAPTER_BYTES, DEFAULT_RANK, DEFAULT_TARGETS, EXPERT_LAYOUTS, LoRA, adapted_matrices, adapter_params,
)
from .freeze import ALL, FREEZE_PARTS, Freeze

__all__ = [
    "LoRA", "Freeze", "ALL", "FREEZE_PARTS", "adapter_params", "adapted_matrices", "trainable_params",
    "finetune_params", "recipe", "METHODS", "DEFAULT_RANK", "DEFAULT_TARGETS", "ADAPTER_BYTES",
    "EXPERT_LAYOUTS", "as_adapter", "as_freeze",
]

#: Named fine-tuning methods (``--finetune``).
METHODS = ("full", "lora", "qlora", "dora")


def as_adapter(adapter: Any) -> Optional[LoRA]:
    """``None`` or a :class:`LoRA`; anything else is a one-line error."""
    if adapter is None or isinstance(adapter, LoRA):
        return adapter
    raise SymcalcError(f"adapter={adapter!r:.60} is not a LoRA; use symcalc.finetune.LoRA(rank, targets) or None")


def as_freeze(freeze: Any, adapter: Optional[LoRA] = None) -> Freeze:
    """The :class:`Freeze` in effect: ``freeze``, or everything frozen under an adapter, or nothing."""
    adapter = as_adapter(adapter)
    if freeze is None:
        return ALL if adapter is not None else Freeze()
    if isinstance(freeze, (str, tuple, list)):
        freeze = Freeze(parts=freeze)
    if not isinstance(freeze, Freeze):
        raise SymcalcError(f"freeze={freeze!r:.60} is not a Freeze; use symcalc.finetune.Freeze(parts=..., layers=...)")
    if adapter is not None and not freeze.is_all:
        # An adapter trains only itself: the base is frozen whatever else is named.
        return ALL
    return freeze


def trainable_params(model, *, adapter: Any = None, freeze: Any = None) -> Breakdown:
    """Trainable parameters by part: the unfrozen base parts, then the adapter's (``lora/...``, ``dora/...``).

    With an adapter the base is frozen (as peft freezes it).
    """
    m = as_model("model", model)
    adapter = as_adapter(adapter)
    fr = as_freeze(freeze, adapter)
    from ..params import params

    frozen = fr.frozen(m)
    parts: dict[str, Expr] = {}
    for part, count in params(m).items():
        left = (count - frozen.get(part, Integer(0))).expand()
        if left != 0:
            parts[part] = left
    if adapter is not None:
        parts.update(adapter_params(m, adapter).items())
    return Breakdown(parts, unit="params", title="trainable parameters" + (f" - {m.name}" if m.name else ""))


def finetune_params(model, *, adapter: Any = None, freeze: Any = None) -> dict[str, Expr]:
    """``{"trainable": ..., "total": ...}`` as peft's ``get_nb_trainable_parameters()`` reports them.

    The total is the model's parameters plus the adapter's.
    """
    from ..params import params

    m = as_model("model", model)
    adapter = as_adapter(adapter)
    extra = adapter_params(m, adapter).total if adapter is not None else Integer(0)
    return {"trainable": trainable_params(m, adapter=adapter, freeze=freeze).total,
            "total": (params(m).total + extra).expand()}


def recipe(method: str, *, rank: Any = DEFAULT_RANK, targets: Any = DEFAULT_TARGETS, quantize: Any = None,
           double_quant: bool = False, freeze: Any = None, expert_layout: str = "fused") -> dict[str, Any]:
    """The objects of a named fine-tuning method: ``{"adapter", "freeze", "storage"}`` for training_memory.

    - ``full``: every parameter trains (less ``freeze``); no quantized storage;
    - ``lora``: a :class:`LoRA` of ``rank`` on ``targets``, the base frozen in 16 bits (or ``quantize``);
    - ``qlora``: LoRA on a base stored in NF4 (``quantize`` may name another 4- or 8-bit format;
      ``double_quant`` as QLoRA's paper uses it, off by default as in bitsandbytes); training_memory
      then defaults to ``recompute="full"`` (gradient checkpointing on a quantized base, the defaults'
      ``kbit_recompute``: :func:`symcalc.defaults.recompute_for`), as any ``quantize`` with an adapter;
    - ``dora``: LoRA with DoRA's magnitude vectors.

    >>> r = recipe("qlora", rank=16, targets="all-linear", double_quant=True)
    >>> r["adapter"].describe(), r["storage"].describe()
    ('LORA r=16 on all-linear', 'nf4 block 64, double quant (256)')
    """
    from ..memory.storage import Storage

    method = as_choice("finetune", method, METHODS)
    if method == "full":
        if quantize is not None:
            raise SymcalcError("--quantize with --finetune full: quantized weights cannot be trained; "
                               "use --finetune qlora (or lora) to train adapters on a quantized base")
        if double_quant:
            raise SymcalcError("--double-quant applies to a 4-bit base (--finetune qlora or --quantize nf4/fp4)")
        return {"adapter": None, "freeze": as_freeze(freeze), "storage": None}
    if freeze is not None:
        raise SymcalcError(f"--freeze with --finetune {method}: an adapter already freezes the whole base; "
                           "use --finetune full --freeze PARTS to freeze parts of a full fine-tune")
    adapter = LoRA(rank=rank, targets=targets, dora=method == "dora", expert_layout=expert_layout)
    fmt = quantize if quantize is not None else ("nf4" if method == "qlora" else None)
    if double_quant and fmt not in ("nf4", "fp4"):
        raise SymcalcError("--double-quant applies to a 4-bit base (--finetune qlora or --quantize nf4/fp4)")
    storage = None if fmt is None else Storage(fmt, double_quant=double_quant)
    return {"adapter": adapter, "freeze": ALL, "storage": storage}
