"""``symcalc mem``: the cookbook's calc_transformer_mem.py, exact and corrected (see docs/guides/memory.md)."""

from __future__ import annotations

import argparse
from typing import Any, Optional

from sympy import Integer, ceiling

from ..errors import SymcalcError
from ..memory import PARTS, Parallel, Precision, host_memory, inference_memory, training_memory
from ..structure import MLA_CACHE, WINDOW_CACHE
from ..memory.activations import PROFILES, RECOMPUTE
from ..memory.states import OPTIMIZERS, WEIGHT_DTYPES
from ..defaults import active
from ..inputs import parse_number
from ..memory.states import precision_recipe
from .plotargs import add_plot_argument, write_plot
from .common import (
    add_attention_arguments, choice, listable, recompute_policy,
    add_model_arguments, amount_type, default_help, model_from_args, nonnegative_int, positive_int, print_json,
    seq_len_type,
)
from .finetune_args import add_finetune_arguments, finetune_options, inference_storage, memory_options
from ._texts import KBIT_RECOMPUTE_SAYS, MEM_CA_MEANING, MEM_CA_SAYS, MEM_FOOTER, MEM_UNITS

GIB = 2**30
#: Optimizer moments kept at high precision (the rest come from the library's table).
_MOMENTS = {"adamw": 2, "adam": 2, "sgd": 1, "muon": 1}
#: Training-only flags -> the setting of :mod:`symcalc.defaults` they override; with --infer giving one is an error.
TRAINING_FLAGS: dict[str, str] = {
    "zero_stage": "zero_stage", "zero_allgather_bucket_size": "allgather_bucket",
    "zero3_max_live_params": "max_live_params", "recompute": "recompute", "checkpoint_activations": "",
    "optimizer": "optimizer", "bytes_per_grad_ele": "", "activation_profile": "activation_profile",
    "dropout": "dropout",
}
#: What ``-ca`` means here (the cookbook's calc_transformer_mem.py), said in --help and in the output.
CA_MEANING = MEM_CA_MEANING


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mem",
        help="memory per device for training or inference",
        description=(
            "Bytes per device by part (weights, gradients, optimizer, activations, KV cache, "
            "communication buffers, misc), printed in GiB (2^30). Flags keep calc_transformer_mem.py's "
            "names; settings not given take symcalc's defaults (today's stack; --cookbook: the cookbook's), "
            "docs/concepts.md, Defaults. The cookbook's errors are fixed (docs/guides/memory.md). Size and "
            "layout flags take comma-separated values (-z 0,1,2,3 -tp 1,2,4,8 -s 4k,8k): one row per "
            "combination in a comparison table."
        ),
        epilog="Examples: symcalc mem --preset llama-2-7b -z 1 --num-gpus 8 -tp 2 | "
               "symcalc mem --preset llama-2-7b --infer -s 4096 -o 256 -b 8 --json | "
               "symcalc mem --preset llama-2-7b --num-gpus 8 -z 0,1,2,3 | "
               "symcalc mem --preset llama-3-70b --finetune qlora --lora-targets all-linear --double-quant -s 2048 | "
               "symcalc mem --preset llama-2-7b -z 2 --offload-optimizer cpu --num-gpus 8 --json",
    )
    add_model_arguments(p)
    add_memory_arguments(p)
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (bytes as integers; cpu_per_node and nvme_per_node with offload); "
                        "with comma-separated values {\"varied\": [...], \"rows\": [...]}")
    add_plot_argument(p, "memory per device by part, stacked (one bar per configuration of comma-separated flags)")
    p.set_defaults(func=run, compare=run_comparison)


def add_memory_arguments(p: argparse.ArgumentParser, *, symbolic: bool = False) -> None:
    """The layout, training, inference and precision flags of ``symcalc mem`` (also solve's and latex's).

    Every flag defaults to None ("not given"): the run resolves it from :mod:`symcalc.defaults`, or
    (``symcalc latex``, ``symbolic=True``) leaves the quantity a symbol.
    """
    def dflt(key: str, show: Any = str) -> str:
        return "a symbol" if symbolic else default_help(key, "mem", show)

    d = p.add_argument_group("distributed")
    d.add_argument("--num-gpus", type=listable(positive_int), help=f"devices n ({'a symbol' if symbolic else 'default 1'})")
    d.add_argument("--tensor-parallel-size", "-tp", type=listable(positive_int), help=f"TP degree t ({dflt('n_devices')})")
    d.add_argument("--pipeline-parallel-size", "-pp", type=listable(positive_int), help=f"PP degree p ({dflt('n_devices')})")
    d.add_argument("--context-parallel-size", type=listable(positive_int), help=f"CP degree c ({dflt('n_devices')})")
    d.add_argument("--expert-parallelism", "-ep", type=listable(positive_int), help=f"EP degree e ({dflt('n_devices')})")
    d.add_argument("--sequence-parallel", "--partition-activations", "-pa", dest="sequence_parallel",
                   action=argparse.BooleanOptionalAction, default=None,
                   help="Megatron sequence parallelism over TP (the cookbook's -pa/--partition-activations; "
                        f"{default_help('sequence_parallel', 'mem', lambda v: 'on with t > 1' if v else 'off')})")
    d.add_argument("--zero-stage", "-z", type=listable(zero_stage_type), help=f"ZeRO stage 0-3 ({default_help('zero_stage', 'mem')}; "
                                                                   "training only)")
    d.add_argument("--zero-allgather-bucket-size", "-zbs", type=listable(nonnegative_int),
                   help=f"DeepSpeed all-gather bucket, elements ({default_help('allgather_bucket', 'mem')}; training only)")
    d.add_argument("--zero3-max-live-params", "-zmlp", type=listable(nonnegative_int),
                   help=f"ZeRO-3 live parameters, elements ({default_help('max_live_params', 'mem')}; training only)")
    t = p.add_argument_group("training")
    t.add_argument("--checkpoint-activations", "-ca", action="store_true", default=None, help=CA_MEANING)
    t.add_argument("--recompute", type=listable(choice(*RECOMPUTE)), metavar="{none,selective,full}",
                   help=f"none, selective, or full (layer inputs only) ({default_help('recompute', 'mem')}; on a "
                        f"quantized base, --finetune qlora or --quantize: {default_help('kbit_recompute', 'mem')}, "
                        "the gradient checkpointing peft's prepare_model_for_kbit_training turns on)")
    t.add_argument("--batch-size-per-gpu", "-b", type=listable(positive_int), help=f"micro-batch b ({dflt('micro_batch')})")
    t.add_argument("--sequence-length", "-s", type=listable(seq_len_type),
                   help=f"sequence length s; 4k = 4096 ({dflt('seq_len')})")
    t.add_argument("--activation-profile", choices=PROFILES,
                   help="korthikanti (Table 2, generalised) or hf-eager (what HF eager PyTorch saves) "
                        f"({default_help('activation_profile', 'mem')})")
    add_attention_arguments(t, "mem")
    t.add_argument("--optimizer", "-opt", choices=sorted(set(OPTIMIZERS) | {"adafactor"}),
                   help="optimizer states (default adamw: two high-precision moments)")
    i = p.add_argument_group("inference")
    i.add_argument("--infer", action="store_true", help="inference: weights, KV cache, one layer's activations")
    i.add_argument("--output-tokens", "-o", type=listable(positive_int), help="tokens generated (default 1)")
    i.add_argument("--weight-dtype", choices=list(WEIGHT_DTYPES),
                   help="stored weights (default: --low-prec-bytes-per-val, bf16); fp8, int8 (1 byte) and int4 "
                        "(1/2 byte) quantize the linears only, scales not counted (embeddings, LM head, norms stay "
                        "16-bit); --quantize counts the scales")
    i.add_argument("--kv-cache-dtype", choices=list(WEIGHT_DTYPES),
                   help="KV-cache values (default: --low-prec-bytes-per-val, bf16), e.g. fp8 for a quantized cache")
    i.add_argument("--window-cache", choices=WINDOW_CACHE,
                   help="KV cache of sliding/chunked layers: W tokens (window: static caches, serving engines) or "
                        "W-1 (transformers' DynamicCache after a forward); " + default_help("window_cache", "mem"))
    i.add_argument("--mla-cache", choices=MLA_CACHE,
                   help="KV cache of MLA layers: the compressed latent (transformers, vLLM) or "
                        "decompressed per-head K and V; " + default_help("mla_cache", "mem"))
    pr = p.add_argument_group("precision (default: bf16 weights and activations, fp32 gradients, fp32 master "
                              "copy and moments; Megatron-core's recipe)")
    pr.add_argument("--disable-mixed-precision", action="store_false", dest="is_mixed_precision",
                    help="everything at high precision, no master copy")
    pr.add_argument("--high-prec-bytes-per-val", type=positive_int, help="master copy and optimizer moments (default 4)")
    pr.add_argument("--low-prec-bytes-per-val", type=positive_int, help="weights and activations (default 2)")
    pr.add_argument("--bytes-per-grad-ele", type=positive_int,
                    help="gradient bytes (default 4: fp32 main gradients, Megatron-core and the cookbook; training only)")
    p.add_argument("--misc-mem-gib", type=amount_type("--misc-mem-gib", parse_number, positive=False),
                   help="constant overhead per device, GiB (default 0; at most 1e30)")
    add_finetune_arguments(p, memory=True)


def zero_stage_type(text: str):
    """A ZeRO stage flag value: 0, 1, 2 or 3 (else "is not a ZeRO stage")."""
    if isinstance(text, str) and text.strip() in ("0", "1", "2", "3"):
        return int(text.strip())
    raise argparse.ArgumentTypeError(f"{text!r:.60} is not a ZeRO stage; use 0, 1, 2 or 3")


zero_stage_type.__name__ = "a ZeRO stage"


def _training_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The training-only flags given; with --infer any of them given is an error."""
    given = {k: getattr(args, k, None) for k in TRAINING_FLAGS}
    given = {k: v for k, v in given.items() if v is not None}
    if getattr(args, "infer", False) and given:
        flag = "--" + next(iter(given)).replace("_", "-")
        raise SymcalcError(f"{flag} applies to training only; drop it with --infer (inference memory here has no gradients, "
                           "optimizer states, ZeRO sharding or saved activations)")
    return given


def recompute_from_args(args: argparse.Namespace) -> tuple[str, str]:
    """The recompute policy and why: --recompute, -ca (the cookbook mem script's: selective), or the default
    (on a quantized base, --finetune qlora or --quantize: ``kbit_recompute``, full; see
    :func:`symcalc.defaults.recompute_for`)."""
    from ..defaults import recompute_key

    storage = None if getattr(args, "infer", False) else finetune_options(args)["storage"]
    key = recompute_key(storage)
    policy, why = recompute_policy(args, ca_flag="--checkpoint-activations", ca_policy="selective", default_key=key,
                                   ca_says=MEM_CA_SAYS)
    if key != "recompute" and why == active().label:
        why += KBIT_RECOMPUTE_SAYS
    return policy, why


def kbit_recompute_note(args: argparse.Namespace, why: Optional[str] = None) -> str:
    """What a text report adds when the recompute policy is the quantized base's default (``""`` otherwise).

    ``why`` is :func:`recompute_from_args`' second value when the caller has it.
    """
    if why is None:
        if getattr(args, "infer", False) or (getattr(args, "finetune", None) is None
                                              and getattr(args, "quantize", None) is None):
            return ""
        why = recompute_from_args(args)[1]
    if not why.endswith(KBIT_RECOMPUTE_SAYS):
        return ""
    return f"recompute {active().kbit_recompute} (gradient checkpointing: the default on a quantized base, kbit_recompute)"


def precision_from_args(args: argparse.Namespace) -> Precision:
    """The precision the flags give: the active recipe, with each byte flag given replacing its part."""
    rec = precision_recipe(None)
    hi = args.high_prec_bytes_per_val if args.high_prec_bytes_per_val is not None else rec.master
    lo = args.low_prec_bytes_per_val if args.low_prec_bytes_per_val is not None else rec.weight
    grad = args.bytes_per_grad_ele if args.bytes_per_grad_ele is not None else rec.grad
    if args.is_mixed_precision:
        act = args.low_prec_bytes_per_val if args.low_prec_bytes_per_val is not None else rec.act
        return Precision(weight=lo, grad=grad, master=hi, act=act, kv=act)
    return Precision(weight=hi, grad=grad, master=0, act=hi, kv=hi)


def _settings(args: argparse.Namespace, parallel: bool = True) -> dict[str, Any]:
    d = active()
    tr = _training_flags(args)
    if not getattr(args, "infer", False):
        for flag in ("weight_dtype", "kv_cache_dtype", "window_cache", "mla_cache"):
            if getattr(args, flag, None) is not None:
                raise SymcalcError(f"--{flag.replace('_', '-')} applies to inference only; add --infer "
                                   "(training precision: --low-prec-bytes-per-val, --disable-mixed-precision)")
    zero = tr.get("zero_stage", d.zero_stage)
    if zero not in (0, 1, 2, 3):
        raise SymcalcError(f"--zero-stage {zero} is not a ZeRO stage; use 0, 1, 2 or 3")
    recompute, why = recompute_from_args(args)
    prec = precision_from_args(args)
    opt = tr.get("optimizer", d.optimizer)
    hi = args.high_prec_bytes_per_val if args.high_prec_bytes_per_val is not None else precision_recipe(None).master
    optimizer = _MOMENTS[opt] * hi if opt in _MOMENTS else opt
    attention = getattr(args, "attention", None)
    training = dict(zero_stage=int(zero), allgather_bucket=tr.get("zero_allgather_bucket_size", d.allgather_bucket),
                    max_live_params=tr.get("zero3_max_live_params", d.max_live_params),
                    activation_profile=tr.get("activation_profile", d.activation_profile), dropout=tr.get("dropout"))
    par = Parallel(**_degrees(args)) if parallel else None
    return dict(prec=prec, optimizer=optimizer, recompute=recompute, recompute_why=why, par=par, training=training,
                flash_attention=None if attention is None else attention == "flash")


def _degrees(args: argparse.Namespace) -> dict[str, Any]:
    one = Integer(1)

    def get(name: str) -> Any:
        value = getattr(args, name, None)
        return one if value is None else value

    # without --num-gpus the devices are tp*pp*cp (data-parallel degree 1), as Parallel() in the library
    return dict(tp=get("tensor_parallel_size"), pp=get("pipeline_parallel_size"), cp=get("context_parallel_size"),
                ep=get("expert_parallelism"), n_devices=getattr(args, "num_gpus", None),
                sequence_parallel=getattr(args, "sequence_parallel", None))


def seq_len_of(args: argparse.Namespace) -> Any:
    return args.sequence_length if args.sequence_length is not None else active().seq_len


def micro_batch_of(args: argparse.Namespace) -> Any:
    return args.batch_size_per_gpu if args.batch_size_per_gpu is not None else active().micro_batch


def misc_bytes_of(args: argparse.Namespace) -> Any:
    return args.misc_mem_gib * GIB if args.misc_mem_gib is not None else active().misc_bytes


def training_options(args: argparse.Namespace) -> dict[str, Any]:
    """:func:`~symcalc.memory.training_memory`'s keywords from this command's flags (training).

    The degrees come as keywords (``tp``, ``pp``, ``cp``, ``ep``, ``n_devices``,
    ``sequence_parallel``), unchecked, so a caller may drop or replace one: ``symcalc solve``
    builds its memory questions on this, with the unknown left out. Every setting is resolved from
    :mod:`symcalc.defaults` here, so the library gets exactly what this command computes.
    """
    st = _settings(args, parallel=False)
    tr = st["training"]
    return dict(
        seq_len=seq_len_of(args), micro_batch=micro_batch_of(args), zero_stage=tr["zero_stage"],
        precision=st["prec"], optimizer=st["optimizer"], recompute=st["recompute"],
        profile=tr["activation_profile"], flash_attention=st["flash_attention"], dropout=tr["dropout"],
        allgather_bucket=tr["allgather_bucket"], max_live_params=tr["max_live_params"],
        misc_bytes=misc_bytes_of(args), **finetune_options(args), **memory_options(args), **_degrees(args))


def _memory(model, args, st, par: Parallel, *, zero: int, buffers: bool, misc: Any):
    if args.infer:
        storage = _inference_storage(args)
        lo_given = args.low_prec_bytes_per_val is not None or not args.is_mixed_precision
        weights = args.weight_dtype if args.weight_dtype else (st["prec"].weight if lo_given else None)
        bytes_kv = WEIGHT_DTYPES[args.kv_cache_dtype] if args.kv_cache_dtype else (st["prec"].kv if lo_given else None)
        n_gen = args.output_tokens if args.output_tokens is not None else active().output_tokens
        return inference_memory(model, seq_len=seq_len_of(args), n_generate=n_gen,
                                micro_batch=micro_batch_of(args), weights=weights, storage=storage,
                                bytes_kv=bytes_kv, bytes_act=st["prec"].act,
                                flash_attention=st["flash_attention"], misc_bytes=misc, parallel=par,
                                window_cache=args.window_cache, mla_cache=args.mla_cache)
    opts = {k: v for k, v in training_options(args).items() if k not in _degrees(args)}
    opts.update(zero_stage=zero, misc_bytes=misc)
    if not buffers:  # one replica, unsharded: no ZeRO buffers, nothing offloaded or sharded
        opts.update(allgather_bucket=0, max_live_params=0, offload=None, sharding=None)
    return training_memory(model, parallel=par, **opts)


def _inference_storage(args: argparse.Namespace):
    """--quantize for inference (with --double-quant); the training-only fine-tuning flags are refused."""
    finetune_options(args)
    memory_options(args)
    return inference_storage(args)


def _host(model, args, par: Parallel, zero: int) -> dict[str, int]:
    """CPU and NVMe bytes per node that offload uses (training with --offload-*), rounded up; {} without."""
    if args.infer:
        return {}
    opts = {k: v for k, v in training_options(args).items() if k not in _degrees(args)}
    if opts.get("offload") is None:
        return {}
    for key in ("allgather_bucket", "max_live_params", "misc_bytes"):
        opts.pop(key)
    opts["zero_stage"] = zero
    host = host_memory(model, parallel=par, devices_per_node=args.gpus_per_node, **opts).grouped()
    return {f"{d}_per_node": int(ceiling(host.get(d, 0))) for d in ("cpu", "nvme")}


def _finetune_settings(model, args: argparse.Namespace) -> dict[str, Any]:
    """The fine-tuning, storage and offload settings in force, for the JSON and the text report."""
    from ..finetune import finetune_params
    from ..memory.offload import devices_per_node_default

    if args.infer:
        storage = _inference_storage(args)
        return {"storage": storage.describe() if storage else None}
    opts = finetune_options(args)
    mem = memory_options(args)
    counts = finetune_params(model, adapter=opts["adapter"], freeze=opts["freeze"])
    method = args.finetune or ("lora" if opts["adapter"] is not None else "full")
    d = _degrees(args)
    n = d["n_devices"] if d["n_devices"] is not None else d["tp"] * d["pp"] * d["cp"]
    return {
        "finetune": method,
        "adapter": opts["adapter"].describe() if opts["adapter"] is not None else None,
        "freeze": opts["freeze"].describe() if opts["freeze"] is not None and not opts["freeze"].is_all else None,
        "storage": opts["storage"].describe() if opts["storage"] is not None else None,
        "offload": mem["offload"].describe() if mem["offload"] is not None else "none",
        "sharding": mem["sharding"].describe() if mem["sharding"] is not None else None,
        "trainable_params": int(counts["trainable"]),
        "gpus_per_node": int(devices_per_node_default(n, args.gpus_per_node)),
    }


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
    return model_from_args(args, learned_positions_from=None if from_source else "sequence_length")


def _dropout_places(model, dropout: Any) -> dict[str, bool]:
    """Where dropout masks are charged: the flag, else the active default (today: the model's config)."""
    from dataclasses import asdict

    from ..defaults import dropout_for

    return asdict(dropout_for(model, dropout))


def settings_line(args: argparse.Namespace, st: dict, model) -> str:
    """What the numbers assume, in one line (the defaults set, attention, dropout, SP, precision)."""
    from ..defaults import dropout_for

    if args.infer:
        flash = st["flash_attention"] if st["flash_attention"] is not None else active().flash_attention
        return f"defaults {active().name}; attention {'flash' if flash else 'eager'}"
    prec = st["prec"]
    flash = st["flash_attention"] if st["flash_attention"] is not None else active().flash_attention
    sp = st["par"].sequence_parallel if st["par"] is not None and st["par"].sequence_parallel is not None \
        else active().sequence_parallel
    dropout = dropout_for(model, st["training"]["dropout"])
    return (f"defaults {active().name}; attention {'flash' if flash else 'eager'}; dropout {'on' if dropout else 'off'}; "
            f"sequence parallel {'on' if sp else 'off'}; bytes per value: weight {prec.weight}, grad {prec.grad}, "
            f"master {prec.master}, act {prec.act}")


def compute(args: argparse.Namespace) -> dict[str, Any]:
    """One configuration of ``symcalc mem``: the model, settings, per-device and per-replica breakdowns."""
    model = model_from_mem_args(args)
    st = _settings(args)
    par: Parallel = st["par"]
    misc = misc_bytes_of(args)
    zero = st["training"]["zero_stage"]
    per_device = _memory(model, args, st, par, zero=zero, buffers=True, misc=misc)
    # One replica's memory as if on one device: nothing sharded, the cookbook's "single replica".
    replica_devices = par.tp * par.pp * par.cp
    replica = _memory(model, args, st, Parallel(), zero=0, buffers=False, misc=misc * replica_devices)
    return dict(model=model, settings=st, parallel=par, zero=zero, per_device=per_device, replica=replica,
                host=_host(model, args, par, zero), tune=_finetune_settings(model, args))


def result_json(args: argparse.Namespace, r: dict) -> dict:
    """The ``--json`` object of one configuration (also one row of a comparison)."""
    model, st, par, zero = r["model"], r["settings"], r["parallel"], r["zero"]
    sp = par.sequence_parallel if par.sequence_parallel is not None else active().sequence_parallel
    return {
        "model": model.name or "custom",
        "mode": "inference" if args.infer else "training",
        "per_device": _parts(r["per_device"]),
        **r["host"],
        "per_replica": _parts(r["replica"]),
        "parallel": {"tp": int(par.tp), "pp": int(par.pp), "dp": int(par.dp), "ep": int(par.ep),
                     "cp": int(par.cp), "n_devices": int(par.n_devices)},
        "settings": {"zero_stage": None if args.infer else zero, "recompute": None if args.infer else st["recompute"],
                     "recompute_from": None if args.infer else st["recompute_why"],
                     "activation_profile": st["training"]["activation_profile"],
                     "sequence_parallel": bool(sp and par.tp != 1), "defaults": active().name,
                     "dropout": None if args.infer else _dropout_places(model, st["training"]["dropout"]),
                     "line": settings_line(args, st, model), **r["tune"]},
        "units": MEM_UNITS,
    }


def comparison(args: argparse.Namespace, order=()):
    """The rows ``(configuration, per-device memory Breakdown)`` of ``symcalc mem``'s flags (comma-separated
    values vary; one row when none do), as :class:`symcalc.compare.Comparison`; ``details`` holds each
    row's ``--json`` object."""
    from .compare import detailed

    mode = "inference" if args.infer else "training"
    return detailed(args, order, compute, lambda r: r["per_device"], result_json,
                    lambda details: f"symcalc mem ({mode}): {details[0]['model']}; per device; defaults {active().name}")


def run_comparison(args: argparse.Namespace, order=()) -> int:
    from .compare import show

    comp = comparison(args, order)

    def figure():
        from ..plot import memory_figure

        labels = [", ".join(f"{k} {v}" for k, v in config.items()) for config, _ in comp]
        return memory_figure([(label, bd) for label, (_, bd) in zip(labels, comp)], title=comp.title)

    plotted = write_plot(args, figure)
    status = show(args, comp, footer="GiB = 2^30 bytes per device; settings of each row as `symcalc mem` with that "
                                     "row's flags" + (f"; figure written to {plotted}" if plotted else ""))
    return status


def run(args: argparse.Namespace) -> int:
    r = compute(args)
    model, st, par, zero = r["model"], r["settings"], r["parallel"], r["zero"]
    dev, rep = _parts(r["per_device"]), _parts(r["replica"])
    mode = "inference" if args.infer else "training"
    plotted = write_plot(args, lambda: _figure(r, mode))
    if args.json:
        print_json({**result_json(args, r), **({"plot": plotted} if plotted else {})})
        return 0
    print(f"symcalc mem ({mode}): {model.name or 'custom model'} - {model.describe()}")
    print(f"devices {par.n_devices} = tp {par.tp} x pp {par.pp} x dp {par.dp} x cp {par.cp} (ep {par.ep} inside dp)"
          + ("" if args.infer else f"; ZeRO {zero}; recompute {st['recompute']}")
          + f"; s {seq_len_of(args)}, b {micro_batch_of(args)}")
    print(settings_line(args, st, model))
    if getattr(args, "checkpoint_activations", None):
        print("note: " + CA_MEANING)
    width = max(len(k) for k in dev)
    print("per device:")
    for k, v in dev.items():
        if k == "total":
            print("-" * (width + 18))
        print(f"  {k:<{width}}  {v / GIB:>10.2f} GiB")
    tune = r["tune"]
    for key, value in r["host"].items():
        print(f"{key.replace('_per_node', '')} per node ({tune['gpus_per_node']} devices): {value / GIB:.2f} GiB")
    if tune.get("finetune") not in (None, "full") or tune.get("freeze") or tune.get("storage"):
        words = [f"{k} {v}" for k, v in tune.items() if k in ("finetune", "adapter", "freeze", "storage") and v]
        line = "; ".join(words)
        note = kbit_recompute_note(args, st["recompute_why"])
        if note:
            line += "; " + note
        if "trainable_params" in tune:
            line += f"; trainable parameters {tune['trainable_params']:,}"
        print("fine-tuning: " + line)
    print(f"one model replica, unsharded (cookbook's 'single replica'): {rep['total'] / GIB:.2f} GiB")
    print(MEM_FOOTER)
    if plotted:
        print(f"figure written to {plotted}")
    return 0


def _figure(r: dict[str, Any], mode: str) -> Any:
    """``--plot``: the configuration's memory per device by part, one stacked bar."""
    from ..plot import memory_figure

    par = r["parallel"]
    label = f"tp {par.tp} pp {par.pp} dp {par.dp}" + ("" if mode == "inference" else f" ZeRO {r['zero']}")
    return memory_figure([(label, r["per_device"])],
                         title=f"{mode} memory per device: {r['model'].name or 'custom model'}")
