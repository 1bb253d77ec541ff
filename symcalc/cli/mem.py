"""``symcalc mem``: the cookbook's calc_transformer_mem.py, exact and corrected (see README)."""

from __future__ import annotations

import argparse
from typing import Any

from sympy import Integer, ceiling

from ..errors import SymcalcError
from ..memory import PARTS, Parallel, Precision, inference_memory, training_memory
from ..structure import MLA_CACHE, WINDOW_CACHE
from ..memory.activations import PROFILES, RECOMPUTE
from ..memory.states import OPTIMIZERS, WEIGHT_DTYPES
from ..inputs import parse_number
from .common import add_model_arguments, amount_type, model_from_args, nonnegative_int, positive_int, print_json

#: calc_transformer_mem.py's defaults where they differ from the shared model defaults.
DEFAULTS = {"num_experts": 0, "sequence_length": 2048}
#: Optimizer moments kept at high precision (the rest come from the library's table).
_MOMENTS = {"adamw": 2, "adam": 2, "sgd": 1, "muon": 1}
GIB = 2**30
#: Training-only flags and their defaults (the cookbook's); with --infer giving one is an error.
TRAINING_DEFAULTS: dict[str, Any] = {
    "zero_stage": 1, "zero_allgather_bucket_size": Integer(500_000_000), "zero3_max_live_params": Integer(1_000_000_000),
    "recompute": None, "checkpoint_activations": False, "optimizer": "adamw", "bytes_per_grad_ele": Integer(4),
    "activation_profile": "korthikanti",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mem",
        help="memory per device for training or inference",
        description=(
            "Bytes per device by part (weights, gradients, optimizer, activations, KV cache, "
            "communication buffers, misc), printed in GiB (2^30). Flags keep calc_transformer_mem.py's "
            "names and defaults; its errors are fixed (see README, section Memory)."
        ),
        epilog="Examples: symcalc mem --preset llama-2-7b -z 1 --num-gpus 8 -tp 2 -ca | "
               "symcalc mem --preset llama-2-7b --infer -s 4096 -o 256 -b 8 --json",
    )
    add_model_arguments(p)
    d = p.add_argument_group("distributed")
    d.add_argument("--num-gpus", type=positive_int, default=Integer(1), help="devices n (default 1)")
    d.add_argument("--tensor-parallel-size", "-tp", type=positive_int, default=Integer(1), help="TP degree t (default 1)")
    d.add_argument("--pipeline-parallel-size", "-pp", type=positive_int, default=Integer(1), help="PP degree p (default 1)")
    d.add_argument("--context-parallel-size", type=positive_int, default=Integer(1), help="CP degree c (default 1)")
    d.add_argument("--expert-parallelism", "-ep", type=positive_int, default=Integer(1), help="EP degree e (default 1)")
    d.add_argument("--partition-activations", "-pa", action="store_true",
                   help="shard the remaining activations over TP (ZeRO-R; the same as --sequence-parallel)")
    d.add_argument("--sequence-parallel", action="store_true", help="Megatron sequence parallelism")
    d.add_argument("--zero-stage", "-z", type=int, help="ZeRO stage 0-3 (default 1; training only)")
    d.add_argument("--zero-allgather-bucket-size", "-zbs", type=nonnegative_int,
                   help="DeepSpeed all-gather bucket, elements (default 5e8; training only)")
    d.add_argument("--zero3-max-live-params", "-zmlp", type=nonnegative_int,
                   help="ZeRO-3 live parameters, elements (default 1e9; training only)")
    t = p.add_argument_group("training")
    t.add_argument("--checkpoint-activations", "-ca", action="store_true",
                   help="activation checkpointing as the cookbook counts it: Korthikanti's selective recompute")
    t.add_argument("--recompute", choices=RECOMPUTE, help="none (default), selective, or full (layer inputs only)")
    t.add_argument("--batch-size-per-gpu", "-b", type=positive_int, default=Integer(1), help="micro-batch b (default 1)")
    t.add_argument("--sequence-length", "-s", type=positive_int, default=Integer(2048), help="sequence length s (default 2048)")
    t.add_argument("--activation-profile", choices=PROFILES,
                   help="korthikanti (default: Table 2, generalised) or hf-eager (what HF eager PyTorch saves)")
    t.add_argument("--flash-attention", action="store_true", help="no s^2 attention scores are kept")
    t.add_argument("--optimizer", "-opt", choices=sorted(set(OPTIMIZERS) | {"adafactor"}),
                   help="optimizer states (default adamw: two high-precision moments)")
    i = p.add_argument_group("inference")
    i.add_argument("--infer", action="store_true", help="inference: weights, KV cache, one layer's activations")
    i.add_argument("--output-tokens", "-o", type=positive_int, default=Integer(1), help="tokens generated (default 1)")
    i.add_argument("--weight-dtype", choices=list(WEIGHT_DTYPES),
                   help="stored weights (default: --low-prec-bytes-per-val); int8 is 1 byte, int4 1/2 byte "
                        "(quantization scales ignored)")
    i.add_argument("--window-cache", choices=WINDOW_CACHE,
                   help="KV cache of sliding/chunked layers: W tokens (default; static caches, serving engines) or "
                        "W-1 (transformers' DynamicCache after a forward)")
    i.add_argument("--mla-cache", choices=MLA_CACHE,
                   help="KV cache of MLA layers: the compressed latent (default; transformers, vLLM) or "
                        "decompressed per-head K and V")
    i.add_argument("--kv-cache-dtype", choices=list(WEIGHT_DTYPES),
                   help="KV-cache values (default: --low-prec-bytes-per-val), e.g. fp8 for a quantized cache")
    pr = p.add_argument_group("precision")
    pr.add_argument("--disable-mixed-precision", action="store_false", dest="is_mixed_precision",
                    help="everything at high precision, no master copy")
    pr.add_argument("--high-prec-bytes-per-val", type=positive_int, default=Integer(4), help="default 4")
    pr.add_argument("--low-prec-bytes-per-val", type=positive_int, default=Integer(2), help="default 2")
    pr.add_argument("--bytes-per-grad-ele", type=positive_int, help="gradient bytes (default 4; training only)")
    p.add_argument("--misc-mem-gib", type=amount_type("--misc-mem-gib", parse_number, positive=False), default=Integer(0),
                   help="constant overhead per device, GiB (default 0; at most 1e30)")
    p.add_argument("--json", action="store_true", help="print one JSON object (bytes as integers)")
    p.set_defaults(func=run)


def _training_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The training-only flags, defaults filled in; with --infer any of them given is an error."""
    given = {k: getattr(args, k, None) for k in TRAINING_DEFAULTS}
    given = {k: v for k, v in given.items() if v is not None and v is not False}
    if getattr(args, "infer", False) and given:
        flag = "--" + next(iter(given)).replace("_", "-")
        raise SymcalcError(f"{flag} applies to training only; drop it with --infer (inference memory here has no gradients, "
                           "optimizer states, ZeRO sharding or saved activations)")
    return {**TRAINING_DEFAULTS, **given}


def _settings(args: argparse.Namespace, parallel: bool = True) -> dict[str, Any]:
    tr = _training_flags(args)
    if not getattr(args, "infer", False):
        for flag in ("weight_dtype", "kv_cache_dtype", "window_cache", "mla_cache"):
            if getattr(args, flag, None) is not None:
                raise SymcalcError(f"--{flag.replace('_', '-')} applies to inference only; add --infer "
                                   "(training precision: --low-prec-bytes-per-val, --disable-mixed-precision)")
    if tr["zero_stage"] not in (0, 1, 2, 3):
        raise SymcalcError(f"--zero-stage {tr['zero_stage']} is not a ZeRO stage; use 0, 1, 2 or 3")
    recompute = tr["recompute"] or ("selective" if tr["checkpoint_activations"] else "none")
    if tr["checkpoint_activations"] and tr["recompute"] == "none":
        raise SymcalcError("--checkpoint-activations with --recompute none; give one of them")
    hi, lo = args.high_prec_bytes_per_val, args.low_prec_bytes_per_val
    if args.is_mixed_precision:
        prec = Precision(weight=lo, grad=tr["bytes_per_grad_ele"], master=hi, act=lo, kv=lo)
    else:
        prec = Precision(weight=hi, grad=tr["bytes_per_grad_ele"], master=0, act=hi, kv=hi)
    opt = tr["optimizer"]
    optimizer = _MOMENTS[opt] * hi if opt in _MOMENTS else opt
    par = Parallel(**_degrees(args)) if parallel else None
    return dict(prec=prec, optimizer=optimizer, recompute=recompute, par=par, training=tr)


def _degrees(args: argparse.Namespace) -> dict[str, Any]:
    return dict(tp=args.tensor_parallel_size, pp=args.pipeline_parallel_size, cp=args.context_parallel_size,
                ep=args.expert_parallelism, n_devices=args.num_gpus,
                sequence_parallel=args.partition_activations or args.sequence_parallel)


def training_options(args: argparse.Namespace) -> dict[str, Any]:
    """:func:`~symcalc.memory.training_memory`'s keywords from this command's flags (training).

    The degrees come as keywords (``tp``, ``pp``, ``cp``, ``ep``, ``n_devices``,
    ``sequence_parallel``), unchecked, so a caller may drop or replace one: ``symcalc solve``
    builds its memory questions on this, with the unknown left out.
    """
    st = _settings(args, parallel=False)
    tr = st["training"]
    return dict(
        seq_len=args.sequence_length, micro_batch=args.batch_size_per_gpu, zero_stage=tr["zero_stage"],
        precision=st["prec"], optimizer=st["optimizer"], recompute=st["recompute"],
        profile=tr["activation_profile"], flash_attention=args.flash_attention,
        allgather_bucket=tr["zero_allgather_bucket_size"], max_live_params=tr["zero3_max_live_params"],
        misc_bytes=args.misc_mem_gib * GIB, **_degrees(args))


def _memory(model, args, st, par: Parallel, *, zero: int, buffers: bool, misc: Any):
    if args.infer:
        weights = WEIGHT_DTYPES[args.weight_dtype] if args.weight_dtype else st["prec"].weight
        bytes_kv = WEIGHT_DTYPES[args.kv_cache_dtype] if args.kv_cache_dtype else st["prec"].kv
        return inference_memory(model, seq_len=args.sequence_length, n_generate=args.output_tokens,
                                micro_batch=args.batch_size_per_gpu, weights=weights,
                                bytes_kv=bytes_kv, bytes_act=st["prec"].act,
                                flash_attention=args.flash_attention, misc_bytes=misc, parallel=par,
                                window_cache=args.window_cache or "window", mla_cache=args.mla_cache or "latent")
    opts = {k: v for k, v in training_options(args).items() if k not in _degrees(args)}
    opts.update(zero_stage=zero, misc_bytes=misc)
    if not buffers:
        opts.update(allgather_bucket=0, max_live_params=0)
    return training_memory(model, parallel=par, **opts)


def _parts(bd) -> dict[str, int]:
    """The documented top-level parts as whole bytes (rounded up), 0 where a part does not apply."""
    grouped = bd.grouped()
    out = {name: int(ceiling(grouped[name])) if name in grouped else 0 for name in PARTS}
    out["total"] = int(ceiling(bd.total))
    return out


def model_from_mem_args(args: argparse.Namespace):
    """The Model of ``symcalc mem``'s flags.

    ``--sequence-length`` is the training (or prompt) length: it sizes a learned position table
    only for a flag-built model (the cookbook's ``h·s``); a preset's or config's table keeps its
    ``n_positions`` rows whatever s is.
    """
    from_source = getattr(args, "preset", None) is not None or getattr(args, "hf_config", None) is not None
    return model_from_args(args, DEFAULTS, learned_positions_from=None if from_source else "sequence_length")


def run(args: argparse.Namespace) -> int:
    model = model_from_mem_args(args)
    st = _settings(args)
    par: Parallel = st["par"]
    misc = args.misc_mem_gib * GIB
    zero = st["training"]["zero_stage"]
    per_device = _memory(model, args, st, par, zero=zero, buffers=True, misc=misc)
    # One replica's memory as if on one device: nothing sharded, the cookbook's "single replica".
    replica_devices = par.tp * par.pp * par.cp
    replica = _memory(model, args, st, Parallel(), zero=0, buffers=False, misc=misc * replica_devices)
    dev, rep = _parts(per_device), _parts(replica)
    mode = "inference" if args.infer else "training"
    if args.json:
        print_json({
            "model": model.name or "custom",
            "mode": mode,
            "per_device": dev,
            "per_replica": rep,
            "parallel": {"tp": int(par.tp), "pp": int(par.pp), "dp": int(par.dp), "ep": int(par.ep),
                         "cp": int(par.cp), "n_devices": int(par.n_devices)},
            "settings": {"zero_stage": None if args.infer else zero, "recompute": st["recompute"],
                         "activation_profile": st["training"]["activation_profile"],
                         "sequence_parallel": bool(par.sequence_parallel)},
            "units": "bytes (rounded up); GiB = 2^30 bytes",
        })
        return 0
    print(f"symcalc mem ({mode}): {model.name or 'custom model'} - {model.describe()}")
    print(f"devices {par.n_devices} = tp {par.tp} x pp {par.pp} x dp {par.dp} x cp {par.cp} (ep {par.ep} inside dp)"
          + ("" if args.infer else f"; ZeRO {zero}; recompute {st['recompute']}"))
    width = max(len(k) for k in dev)
    print("per device:")
    for k, v in dev.items():
        if k == "total":
            print("-" * (width + 18))
        print(f"  {k:<{width}}  {v / GIB:>10.2f} GiB")
    print(f"one model replica, unsharded (cookbook's 'single replica'): {rep['total'] / GIB:.2f} GiB")
    print("GiB = 2^30 bytes; pipeline: worst-case stage with both embedding and LM head (exact for pp 1)")
    return 0
