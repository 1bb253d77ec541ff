"""``symcalc serve``: time to first token, time per output token, throughput and the largest batch (see
:mod:`symcalc.serving`)."""

from __future__ import annotations

import argparse
from typing import Any

from sympy import Integer

from ..errors import SymcalcError
from ..memory.states import WEIGHT_DTYPES
from .common import add_model_arguments, model_from_args, parse_amount, positive_int, print_json
from .finetune_args import add_quantize_arguments, inference_storage
from .hwargs import add_hardware_arguments, figure_or_flag, hardware_from_args, peak_from_args


def register(sub: argparse._SubParsersAction) -> None:
    from ..defaults import active
    from ..memory.states import precision_recipe
    from ..serving import EXPERTS

    d = active()
    p = sub.add_parser(
        "serve",
        help="inference roofline: time to first token, time per output token, tokens/s, KV cache, largest batch",
        description=(
            "The roofline of serving one replica (tensor parallel over -tp devices): every operation of a prefill "
            "or decode step takes max(FLOPs / (peak x compute efficiency), bytes / (memory bandwidth x memory "
            "efficiency)); the step is their sum plus the TP all-reduces over the scale-up link. Efficiencies "
            "default to 1, the physical limit: every time is a lower bound. TTFT = the prefill of the batch's "
            "prompts; TPOT = a decode step at the mean context s + (n-2)/2; tokens/s = batch / TPOT; max batch = "
            "the most sequences whose weights + KV cache + prefill activations fit the device. "
            "--json keys: ttft_s, tpot_s, tokens_per_s, bound (of a decode step: memory or compute), "
            "prefill_bound, kv_cache_bytes, memory_bytes, max_batch, latency_s, e2e_tokens_per_s, the times by "
            "operation, and the exact values. See docs/guides/hardware-time-serving.md."
        ),
        epilog="Examples: symcalc serve --preset llama-3-8b --hardware h100 -s 2048 -o 128 -b 8 | "
               "symcalc serve --preset llama-3-70b --hardware h100 -tp 4 --dtype fp8 --json | "
               "symcalc serve --preset mixtral-8x7b --hardware h200 -tp 2 -s 32 -o 128 -b 8",
    )
    add_model_arguments(p)
    w = p.add_argument_group("workload")
    w.add_argument("--sequence-length", "-s", type=positive_int,
                   help=f"prompt tokens per sequence (default {d.seq_len}: symcalc.defaults)")
    w.add_argument("--output-tokens", "-o", type=positive_int,
                   help=f"tokens generated per sequence (default {d.serve_output_tokens})")
    w.add_argument("--batch-size", "-b", type=positive_int,
                   help=f"sequences served together (default {d.micro_batch})")
    w.add_argument("--prefill-batch", type=positive_int,
                   help="prompts prefilled at once, for the transient memory (default: the whole batch; 1: one "
                        "at a time, as continuous batching admits requests)")
    w.add_argument("--tensor-parallel-size", "-tp", type=positive_int, default=Integer(1),
                   help="TP degree of the replica (default 1)")
    w.add_argument("--experts", choices=EXPERTS,
                   help=f"routed experts read per MoE layer: expected (E(1-(1-k/E)^tokens), uniform routing) or all "
                        f"(default {d.experts_read})")
    w.add_argument("--full-attention-square", action="store_true",
                   help="the prefill computes the full s^2 attention square (default: the causal half, as flash "
                        "attention)")
    w.add_argument("--no-flash-attention", action="store_true",
                   help="the prefill's transient memory keeps the s^2 attention scores (default: flash attention)")
    pr = p.add_argument_group("precision")
    pr.add_argument("--weight-dtype", choices=list(WEIGHT_DTYPES),
                    help=f"stored weights (default: --dtype when it is a storage type, else {d.weight_dtype}); "
                         "fp8, int8 (1 byte) and int4 (1/2 byte) quantize the linears only, scales not counted "
                         "(embeddings, LM head, norms stay 16-bit: in the memory and in the weights each step reads)")
    add_quantize_arguments(pr, "store the linears quantized with their scales, as symcalc mem --infer --quantize: the "
                           "memory and every step's weight reads", "--weight-dtype is then the rest's (bf16, fp16, fp32)")
    pr.add_argument("--kv-cache-dtype", choices=list(WEIGHT_DTYPES),
                    help=f"KV-cache values (default {d.kv_cache_dtype})")
    pr.add_argument("--activation-bytes", type=positive_int,
                    help="bytes per activation value (default: the precision recipe's, "
                         f"{precision_recipe(d.precision).act})")
    c = p.add_argument_group("device (a flag given wins over --hardware)")
    add_hardware_arguments(c, fills="--peak-flops (at --dtype), --mem-bandwidth, --scaleup-bandwidth and --gpu-memory")
    c.add_argument("--peak-flops", help="peak FLOP/s per device: 989e12, 989.4T or a catalogue name")
    c.add_argument("--mem-bandwidth", help="memory bandwidth per device, bytes/s: 3.35TB, 3.35e12")
    c.add_argument("--scaleup-bandwidth", help="scale-up link bandwidth per device and direction, bytes/s: 450GB")
    c.add_argument("--gpu-memory", help="memory per device: 80GiB, 80GB or bytes (for the largest batch)")
    for name, what in (("compute", "peak FLOP/s"), ("memory", "memory bandwidth"), ("link", "link bandwidth")):
        c.add_argument(f"--{name}-efficiency",
                       help=f"fraction of the {what} reached: 0.7 or 70%% (default {d[name + '_efficiency']}: "
                            "the physical limit)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _rate(flag: str):
    from ..solve import parse_bytes

    return lambda text: parse_amount(text, flag, lambda t: parse_bytes(t, flag))


def device_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The roofline figures from the flags and ``--hardware`` (each flag given wins)."""
    from ..cost import as_mfu

    peak = peak_from_args(args)
    bw, _ = figure_or_flag(args, "mem_bandwidth", "--mem-bandwidth", "mem_bandwidth", _rate("--mem-bandwidth"))
    up, _ = figure_or_flag(args, "scaleup_bandwidth", "--scaleup-bandwidth", "bandwidth_scaleup",
                           _rate("--scaleup-bandwidth"))
    mem, _ = figure_or_flag(args, "gpu_memory", "--gpu-memory", "memory", _rate("--gpu-memory"))
    missing = [flag for flag, v in (("--peak-flops", peak), ("--mem-bandwidth", bw)) if v is None]
    if missing:
        raise SymcalcError(f"serve needs {' and '.join(missing)} (e.g. 989e12, 3.35TB) or --hardware NAME")
    if up is None and args.tensor_parallel_size != 1:
        raise SymcalcError("serve with -tp > 1 needs --scaleup-bandwidth (e.g. 450GB) or --hardware NAME")
    return dict(peak_flops=peak, mem_bandwidth=bw, bandwidth_scaleup=up, memory=mem,
                **{f"{k}_efficiency": None if getattr(args, f"{k}_efficiency") is None else
                   as_mfu(f"--{k}-efficiency", getattr(args, f"{k}_efficiency")) for k in ("compute", "memory", "link")})


def run(args: argparse.Namespace) -> int:
    from ..memory.states import WEIGHT_DTYPES as STORAGE
    from ..serving import serving

    from ..defaults import resolve

    model = model_from_args(args, learned_positions_from=None)
    hw = hardware_from_args(args)
    dev = device_from_args(args)
    storage = inference_storage(args)
    # --dtype names the weights' storage type too, unless --quantize stores the linears (the rest then 16-bit or more)
    by_dtype = args.dtype in STORAGE and (storage is None or STORAGE[args.dtype] >= 2)
    weights = args.weight_dtype or (args.dtype if by_dtype else resolve("weight_dtype"))
    kv = resolve("kv_cache_dtype", args.kv_cache_dtype)
    args.sequence_length = resolve("seq_len", args.sequence_length)
    args.output_tokens = resolve("serve_output_tokens", args.output_tokens)
    args.batch_size = resolve("micro_batch", args.batch_size)
    est = serving(model, prompt_len=args.sequence_length, n_generate=args.output_tokens, batch=args.batch_size,
                  tp=args.tensor_parallel_size, prefill_batch=args.prefill_batch, weights=weights, storage=storage,
                  bytes_kv=kv, bytes_act=args.activation_bytes, experts=args.experts,
                  causal=not args.full_attention_square, flash_attention=not args.no_flash_attention,
                  hardware=hw, dtype=args.dtype, **dev)
    if args.json:
        out = est.as_dict()
        if storage is not None:
            out["storage"] = storage.describe()
        out.update(weight_dtype=weights, kv_cache_dtype=kv,
                   units={"ttft_s": "s", "tpot_s": "s", "tokens_per_s": "output tokens/s of the replica",
                          "kv_cache_bytes": "bytes per device", "memory_bytes": "bytes per device",
                          "max_batch": "sequences"})
        print_json(out)
        return 0
    on = f"{hw.name} ({args.dtype or resolve('dtype')})" if hw is not None else "devices"
    stored = f"{weights}, linears {storage.describe()}" if storage is not None else weights
    print(f"symcalc serve: {model.name or 'custom model'} on {int(args.tensor_parallel_size)} x {on}; weights "
          f"{stored}, KV cache {kv}; {int(args.batch_size)} x ({int(args.sequence_length)} prompt + "
          f"{int(args.output_tokens)} generated) tokens")
    print(est)
    d = est.decode
    effs = ", ".join(f"{k} {float(getattr(d.device, k + '_efficiency')):g}" for k in ("compute", "memory", "link"))
    print(f"roofline per operation, efficiencies {effs} (1 = the physical limit: times are lower bounds); "
          "docs/guides/hardware-time-serving.md")
    return 0

