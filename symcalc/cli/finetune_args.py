"""Fine-tuning, quantized storage, offload and sharding flags, shared by ``params``, ``mem`` and ``solve``.

Each flag builds one of the library's small objects (:class:`~symcalc.finetune.LoRA`,
:class:`~symcalc.finetune.Freeze`, :class:`~symcalc.memory.Storage`, :class:`~symcalc.memory.Offload`,
:class:`~symcalc.memory.Sharding`) through :func:`symcalc.finetune.recipe`; nothing here computes.
"""

from __future__ import annotations

import argparse
import re
from typing import Any, Optional

from ..errors import SymcalcError
from ..finetune import DEFAULT_RANK, DEFAULT_TARGETS, FREEZE_PARTS, METHODS, Freeze, recipe
from ..memory.offload import OFFLOAD_DEVICES
from ..memory.storage import QUANTIZE
from .common import positive_int

__all__ = ["add_finetune_arguments", "finetune_options", "memory_options", "parse_freeze", "add_quantize_arguments",
           "inference_storage"]

_LAYERS = re.compile(r"^layers\s*=\s*(\d+)(?:\s*-\s*(\d+))?$")


def add_finetune_arguments(parser: argparse.ArgumentParser, *, memory: bool) -> None:
    """The fine-tuning flags; with ``memory`` also storage, offload and sharding."""
    g = parser.add_argument_group("fine-tuning (LoRA, QLoRA, DoRA, frozen parts)")
    g.add_argument("--finetune", choices=METHODS,
                   help="full (default: every parameter trains, less --freeze), lora, qlora (LoRA on an NF4 base, "
                        "with gradient checkpointing, --recompute full, unless --recompute is given) or dora; an "
                        "adapter freezes the whole base")
    g.add_argument("--lora-rank", type=positive_int,
                   help=f"LoRA rank r (default {DEFAULT_RANK}, peft's; implies --finetune lora)")
    g.add_argument("--lora-targets", metavar="LIST",
                   help=f"comma-separated linears to adapt (default {','.join(DEFAULT_TARGETS)}, peft's for Llama): "
                        "q,k,v,o,gate,up,down,router,expert_gate,expert_up,expert_down,shared_expert_gate,embed_proj,"
                        "lm_head, or attention, mlp, experts, all-linear (every linear but the LM head); "
                        "implies --finetune lora")
    g.add_argument("--freeze", metavar="PARTS",
                   help=f"comma-separated parts that get no gradient nor optimizer state ({', '.join(FREEZE_PARTS)}), "
                        "and layers=K (the first K layers) or layers=A-B (layers A to B, 0-based); --finetune full only")
    if not memory:
        return
    add_quantize_arguments(g, "store the frozen linears quantized", "Training: with an adapter (qlora defaults to "
                           "nf4); --infer: the served weights")
    o = parser.add_argument_group("offload and sharding (DeepSpeed ZeRO-Offload/Infinity, FSDP hybrid sharding)")
    o.add_argument("--offload-optimizer", choices=OFFLOAD_DEVICES,
                   help="master copy and optimizer states (and the gradients) on the CPU or NVMe (ZeRO >= 1)")
    o.add_argument("--offload-params", choices=OFFLOAD_DEVICES,
                   help="the 16-bit weights too (ZeRO-Infinity; ZeRO 3 and --offload-optimizer)")
    o.add_argument("--offload-activations", choices=("none", "cpu"),
                   help="saved activations to CPU memory, one layer's kept on the GPU (CPU checkpointing)")
    o.add_argument("--hsdp-shard-size", type=positive_int, metavar="G",
                   help="hybrid sharding: ZeRO shards within groups of G devices, replicated across groups")
    o.add_argument("--zero-hpz-partition-size", type=positive_int, metavar="G",
                   help="ZeRO++ hpZ: a secondary copy of the 16-bit weights sharded over G devices (ZeRO 3)")
    o.add_argument("--gpus-per-node", type=positive_int, metavar="N",
                   help="devices per node for cpu_per_node/nvme_per_node (default min(--num-gpus, 8))")


def parse_freeze(text: Optional[str]) -> Optional[Freeze]:
    """A :class:`Freeze` from ``--freeze`` (``embedding,lm_head,layers=0-7``); a one-line error otherwise.

    >>> parse_freeze("embedding,layers=4").describe()
    'embedding, layers 0-3'
    """
    if text is None:
        return None
    parts, layers = [], None
    for word in (w.strip() for w in text.split(",")):
        if not word:
            continue
        match = _LAYERS.match(word)
        if match:
            if layers is not None:
                raise SymcalcError("--freeze: give one layers=K or layers=A-B")
            a, b = match.groups()
            layers = int(a) if b is None else (int(a), int(b) + 1)
            if b is not None and int(b) < int(a):
                raise SymcalcError(f"--freeze {word}: the range runs from the lower layer to the higher (A-B, A <= B)")
            continue
        if word.startswith("layers"):
            raise SymcalcError(f"--freeze {word!r:.40}: write layers=K (the first K layers) or layers=A-B (0-based)")
        parts.append(word)
    try:
        return Freeze(parts=tuple(parts), layers=layers)
    except SymcalcError as exc:
        raise SymcalcError(str(exc).replace("freeze:", "--freeze:", 1)) from None


def add_quantize_arguments(group, what: str, more: str) -> None:
    """``--quantize`` and ``--double-quant`` (:class:`~symcalc.memory.Storage`), for ``mem`` and ``serve``."""
    group.add_argument("--quantize", choices=QUANTIZE,
                       help=f"{what}: nf4/fp4 (block 64, fp32 absmax: 4.5 bits), int8 (LLM.int8, a scale per row), "
                            f"fp8 (a scale per tensor); embeddings, LM head and norms stay 16-bit. {more}")
    group.add_argument("--double-quant", action="store_true",
                       help="nf4/fp4: 8-bit scales with an fp32 scale per 256 (about 4.127 bits per weight)")


def inference_storage(args: argparse.Namespace):
    """The :class:`~symcalc.memory.Storage` of ``--quantize`` (with ``--double-quant``) for served weights, or None;
    ``--weight-dtype`` below 16 bits beside it is refused (both would quantize the linears)."""
    from ..memory import Storage
    from ..memory.states import WEIGHT_DTYPES

    if args.quantize is None:
        if args.double_quant:
            raise SymcalcError("--double-quant needs --quantize nf4 or fp4")
        return None
    if args.weight_dtype is not None and WEIGHT_DTYPES[args.weight_dtype] < 2:
        raise SymcalcError(f"--weight-dtype {args.weight_dtype} with --quantize {args.quantize}: both quantize the "
                           "linears; give one (--weight-dtype is then the dtype of the rest: bf16, fp16, fp32)")
    return Storage(args.quantize, double_quant=args.double_quant)


def finetune_options(args: argparse.Namespace) -> dict[str, Any]:
    """``{"adapter", "freeze", "storage"}`` of the flags (None where they do not apply)."""
    method = getattr(args, "finetune", None)
    rank, targets = getattr(args, "lora_rank", None), getattr(args, "lora_targets", None)
    if method is None:
        method = "lora" if (rank is not None or targets is not None) else "full"
    if method == "full" and (rank is not None or targets is not None):
        flag = "--lora-rank" if rank is not None else "--lora-targets"
        raise SymcalcError(f"{flag} with --finetune full: adapters are for --finetune lora, qlora or dora")
    infer = getattr(args, "infer", False)
    quantize = getattr(args, "quantize", None)
    double_quant = bool(getattr(args, "double_quant", False))
    if infer:
        if method != "full" or getattr(args, "freeze", None) is not None:
            raise SymcalcError("--finetune/--lora-*/--freeze apply to training only; drop them with --infer")
        quantize, double_quant = None, False  # inference storage is read by the mem command itself
    try:
        objs = recipe(method, rank=DEFAULT_RANK if rank is None else rank,
                      targets=DEFAULT_TARGETS if targets is None else targets, quantize=quantize,
                      double_quant=double_quant, freeze=parse_freeze(getattr(args, "freeze", None)))
    except SymcalcError as exc:
        raise SymcalcError(str(exc).replace("targets:", "--lora-targets:", 1).replace("targets ", "--lora-targets ", 1)
                           ) from None
    if method == "full" and objs["freeze"] is not None and not objs["freeze"].parts and objs["freeze"].layers is None:
        objs["freeze"] = None
    return objs


def memory_options(args: argparse.Namespace) -> dict[str, Any]:
    """``{"offload", "sharding"}`` of the flags (None where not given)."""
    from ..memory import Offload, Sharding

    names = ("offload_optimizer", "offload_params", "offload_activations", "hsdp_shard_size", "zero_hpz_partition_size")
    if getattr(args, "infer", False):
        for name in names:
            if getattr(args, name, None) not in (None, "none"):
                raise SymcalcError(f"--{name.replace('_', '-')} applies to training only; drop it with --infer")
        return {"offload": None, "sharding": None}
    off = Offload(optimizer=getattr(args, "offload_optimizer", None) or "none",
                  params=getattr(args, "offload_params", None) or "none",
                  activations=getattr(args, "offload_activations", None) or "none")
    shard = Sharding(group=getattr(args, "hsdp_shard_size", None), secondary=getattr(args, "zero_hpz_partition_size", None))
    return {"offload": off if off.any else None, "sharding": None if shard.is_default else shard}
