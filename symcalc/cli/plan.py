"""``symcalc plan``: parallel configurations that fit, fastest first (see :mod:`symcalc.plan`)."""

from __future__ import annotations

import argparse
from typing import Any

from sympy import Integer

from ..defaults import active
from ..errors import SymcalcError
from .common import (
    add_attention_arguments,
    add_model_arguments, default_help, model_from_args, parse_amount, positive_int, positive_rational, print_json,
    seq_len_type,
)


def _dec(value) -> str:
    return f"{float(value):g}"
from .hwargs import add_hardware_arguments, figure_or_flag, hardware_from_args, peak_from_args
from .plotargs import add_plot_argument, write_plot

GIB = 2**30


def register(sub: argparse._SubParsersAction) -> None:
    from ..frameworks import NAMES as FRAMEWORK_NAMES

    p = sub.add_parser(
        "plan",
        help="parallel layouts a framework allows (tp, pp, dp, ep, chunks, ZeRO, recompute, micro-batch) that fit, "
             "fastest first",
        description=(
            "Every layout of tensor/pipeline/data/expert parallelism, interleaved pipeline chunks, ZeRO stage, "
            "recompute policy and micro-batch that the framework allows (--framework: megatron, deepspeed, fsdp, "
            "any) and whose training memory fits per device, ranked by an estimated step time: compute at an "
            "efficiency model (large matmuls at --kernel-efficiency of the peak, less as the micro-batch or the "
            "TP shard shrinks; or one fixed --mfu), TP all-reduces on the scale-up link, pipeline sends and "
            "DP/ZeRO traffic on the scale-out NIC once the job spans nodes (--node-size, from --hardware), EP "
            "all-to-alls, and the interleaved bubble (p-1)/(v m). Memory per device is what `symcalc mem` gives "
            "for the fullest stage of the same layout (the same defaults: today's, or --cookbook). See "
            "docs/guides/planning.md. Exit status: 0 when something fits, 1 when nothing does (as symcalc solve), 2 on "
            "bad input."
        ),
        epilog="Example: symcalc plan --preset llama-2-7b --num-gpus 64 --gpu-memory 80GiB --peak-flops 989e12 --top 5",
    )
    add_model_arguments(p)
    g = p.add_argument_group("cluster (a flag given wins over --hardware)")
    add_hardware_arguments(g, fills="--gpu-memory, --peak-flops (at --dtype), --tp-bandwidth (its scale-up link) "
                                    "and --dp-/--ep-bandwidth (its scale-out NIC)")
    g.add_argument("--num-gpus", type=positive_int, required=True, help="devices n")
    g.add_argument("--gpu-memory", help="memory per device: 80GiB, 80GB, 81920MiB or bytes (GiB = 2^30, GB = 10^9); "
                                        "needed unless --hardware")
    g.add_argument("--peak-flops", help="peak FLOP/s per device: 989e12, 989.4T or a catalogue name (h100: its "
                                        "dense peak at --dtype); needed unless --hardware")
    g.add_argument("--mfu", type=positive_rational,
                   help="one fixed fraction of the peak for every layout, instead of the efficiency model")
    g.add_argument("--kernel-efficiency", type=positive_rational,
                   help=f"efficiency model: fraction of the peak very large matmuls reach "
                        f"({default_help('kernel_efficiency', 'plan', _dec)})")
    g.add_argument("--gemm-half-size", type=positive_int,
                   help=f"efficiency model: the matmul dimension reaching half of it "
                        f"({default_help('gemm_half_size', 'plan')})")
    g.add_argument("--node-size", type=positive_int,
                   help="devices per scale-up domain: TP stays inside, DP/PP cross the NIC beyond (default: "
                        "--hardware's, else --max-tp)")
    g.add_argument("--tp-bandwidth", help="TP all-reduce bandwidth per device, bytes/s (default: --hardware's "
                                          "scale-up link, else 300GB)")
    g.add_argument("--dp-bandwidth", help="DP/ZeRO bandwidth per device, bytes/s (default: --hardware's scale-out "
                                          "NIC, else 25GB)")
    g.add_argument("--ep-bandwidth", help="EP all-to-all bandwidth per device, bytes/s (default: as --dp-bandwidth)")
    t = p.add_argument_group("training")
    t.add_argument("--sequence-length", "-s", type=seq_len_type,
                   help=f"tokens per sequence; 4k = 4096 ({default_help('seq_len', 'plan')})")
    t.add_argument("--global-batch-size", "-gbs", type=positive_int,
                   help=f"sequences per step B ({default_help('global_batch', 'plan')}); micro-batch times dp must divide it")
    t.add_argument("--max-tp", type=positive_int, help=f"largest TP degree ({default_help('max_tp', 'plan')}: TP inside a node)")
    t.add_argument("--max-micro-batch", type=positive_int, help=f"largest micro-batch ({default_help('max_micro_batch', 'plan')})")
    t.add_argument("--framework", choices=FRAMEWORK_NAMES,
                   help=f"the rules of a framework ({default_help('framework', 'plan')}): megatron (ZeRO 0-1, "
                        "interleaving), deepspeed (ZeRO 0-3, <= 1 with pipelines, no interleaving), fsdp (ZeRO 0/2/3, "
                        "2 with pipelines), any")
    t.add_argument("--max-virtual-stages", type=positive_int,
                   help=f"most model chunks per pipeline rank for interleaved 1F1B "
                        f"({default_help('max_virtual_stages', 'plan')})")
    t.add_argument("--zero-stages", help="ZeRO stages to consider, comma-separated (default: all the framework has)")
    t.add_argument("--recompute", default="none,selective,full",
                   help="recompute policies to consider (default none,selective,full)")
    add_attention_arguments(t, "plan")
    t.add_argument("--sequence-parallel", action=argparse.BooleanOptionalAction, default=None,
                   help="sequence parallelism on rows with t > 1 (" + default_help(
                       "sequence_parallel", "plan", lambda v: "on" if v else "off") + ")")
    p.add_argument("--top", type=positive_int, default=Integer(10), help="rows to print (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_plot_argument(p, "memory per device against step time of the rows printed, with the budget line")
    p.set_defaults(func=run)


def _choices(text: str, flag: str, allowed: tuple) -> tuple:
    """A comma-separated list of allowed values, each once (``0,1,3``; ``none,full``)."""
    items = tuple(x.strip() for x in text.split(",") if x.strip())
    names = {str(a): a for a in allowed}
    out = []
    for item in items:
        if item not in names:  # exact text only: '²' or '٣' is not the digit it looks like
            raise SymcalcError(f"{flag} {text!r:.60}: {item!r:.20} is not one of {', '.join(names)}")
        if names[item] in out:
            raise SymcalcError(f"{flag} {text!r:.60}: {item!r} is given twice; list each value once")
        out.append(names[item])
    if not out:
        raise SymcalcError(f"{flag} is empty; give at least one of {', '.join(names)}")
    return tuple(out)


def run(args: argparse.Namespace) -> int:
    from ..memory.activations import RECOMPUTE
    from ..plan import ZERO_STAGES, plan

    for flag in ("mfu", "kernel_efficiency"):
        value = getattr(args, flag)
        if value is not None and value > 1:
            raise SymcalcError(f"--{flag.replace('_', '-')} {value} is above 1; it is a fraction of the peak (0.5 = 50%)")
    if args.mfu is not None and (args.kernel_efficiency is not None or args.gemm_half_size is not None):
        raise SymcalcError("--mfu replaces the efficiency model; drop --kernel-efficiency/--gemm-half-size or --mfu")
    model = model_from_args(args)
    zero = None if args.zero_stages is None else _choices(args.zero_stages, "--zero-stages", ZERO_STAGES)
    recompute = _choices(args.recompute, "--recompute", RECOMPUTE)
    cluster = _cluster(args)
    kw = dict(n_devices=int(args.num_gpus), memory=cluster["memory"], peak_flops=cluster["peak_flops"],
              seq_len=args.sequence_length, global_batch=args.global_batch_size, mfu=args.mfu,
              kernel_efficiency=args.kernel_efficiency, gemm_half_size=args.gemm_half_size,
              bandwidth_tp=cluster["bandwidth_tp"], bandwidth_dp=cluster["bandwidth_dp"],
              bandwidth_ep=cluster["bandwidth_ep"], node_size=cluster["node_size"], framework=args.framework,
              max_tp=args.max_tp, max_micro_batch=args.max_micro_batch, max_virtual_stages=args.max_virtual_stages,
              zero_stages=zero, recompute=recompute,
              flash_attention=None if args.attention is None else args.attention == "flash",
              dropout=args.dropout, sequence_parallel=args.sequence_parallel)
    res = plan(model, top=int(args.top), **kw)
    fixes = [] if res.rows else plan_fixes(model, kw, args)

    def figure():
        from ..plot import plan_figure

        return plan_figure(res)

    plotted = write_plot(args, figure) if res.rows else None
    if args.json:
        from ._plan_output import json_object

        hardware = hardware_from_args(args)
        obj = json_object(model.name or "custom", res.n_candidates, res.n_fit, res.settings,
                          None if hardware is None else hardware.name, cluster["sources"], res.rows)
        obj["least_memory_bytes"] = None if res.least_memory is None else int(-(-res.least_memory // 1))
        obj["fixes"] = [{"flag": flag, "fits": n} for flag, n in fixes]
        print_json({**({"plot": plotted} if plotted else {}), **obj})
        return 0 if res.rows else 1
    from ._plan_output import text_head, text_rows

    st = res.settings
    print("\n".join(text_head(model.name or "custom model", st, args.hardware, cluster["sources"])))
    print(f"{res.n_fit} of {res.n_candidates} layouts fit" + (f"; fastest {len(res.rows)}:" if res.rows else ""))
    if not res.rows:
        if res.least_memory is not None:
            need, have = res.least_memory, float(st["memory"])
            print(f"nothing fits on {int(args.num_gpus):,} devices: the leanest layout needs {need / GIB:.2f} GiB "
                  f"per device, {(need - have) / GIB:.2f} GiB over the {have / GIB:.2f} GiB budget")
        else:
            print("nothing fits: no candidate layout (check --max-tp, --max-micro-batch, -gbs, --framework)")
        if fixes:
            print("it would fit with one change: " + _joined([f"{flag} ({n:,} layouts fit)" for flag, n in fixes]))
        else:
            print("no single change of devices, --max-tp, --zero-stages, --recompute or --attention fits; "
                  "add memory (--gpu-memory) or change two")
        return 1
    print("\n".join(text_rows(res.rows)))
    if plotted:
        print(f"figure written to {plotted}")
    return 0


def _joined(items: list) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def plan_fixes(model, kw: dict, args: argparse.Namespace) -> list[tuple[str, int]]:
    """The smallest single changes that make something fit, each checked by running the planner again:
    every ZeRO stage or recompute policy when some were left out, flash attention, a larger --max-tp,
    more devices (the next counts up to 8x)."""
    from ..memory.activations import RECOMPUTE
    from ..plan import ZERO_STAGES, plan

    out: list[tuple[str, int]] = []

    def fit(**change: Any) -> int:
        try:
            return plan(model, top=1, **{**kw, **change}).n_fit
        except SymcalcError:
            return 0

    if kw["zero_stages"] is not None and tuple(kw["zero_stages"]) != ZERO_STAGES and fit(zero_stages=ZERO_STAGES):
        out.append(("--zero-stages 0,1,2,3", fit(zero_stages=ZERO_STAGES)))
    if tuple(kw["recompute"]) != RECOMPUTE and fit(recompute=RECOMPUTE):
        out.append(("--recompute none,selective,full", fit(recompute=RECOMPUTE)))
    if kw["flash_attention"] is False or (kw["flash_attention"] is None and not active().flash_attention):
        n = fit(flash_attention=True)
        if n:
            out.append(("--attention flash", n))
    max_tp = int(kw["max_tp"] if kw["max_tp"] is not None else active().max_tp)
    heads = int(model.n_heads)
    for t in (2 * max_tp, 4 * max_tp):
        if t <= heads:
            n = fit(max_tp=t)
            if n:
                out.append((f"--max-tp {t}", n))
                break
    n_dev = int(kw["n_devices"])
    for more in sorted({n_dev + k for k in range(1, 9)} | {n_dev * k for k in (2, 3, 4, 6, 8)}):
        n = fit(n_devices=more)
        if n:
            out.append((f"--num-gpus {more} ({more - n_dev:,} more)", n))
            break
    return out


def _cluster(args: argparse.Namespace) -> dict[str, Any]:
    """Memory, peak and bandwidths: each flag given, else --hardware's figure, else the planner's default."""
    from ..solve import parse_bytes

    COST = active()

    def size(flag: str):
        return lambda text: parse_amount(text, flag, parse_bytes)

    peak = peak_from_args(args)
    if peak is None:
        raise SymcalcError("plan needs --peak-flops (e.g. 989e12 or h100) or --hardware NAME")
    memory, mem_from = figure_or_flag(args, "gpu_memory", "--gpu-memory", "memory", size("--gpu-memory"))
    if memory is None:
        raise SymcalcError("plan needs --gpu-memory (e.g. 80GiB) or --hardware NAME")
    out: dict[str, Any] = {"memory": memory, "peak_flops": peak,
                           "sources": {"memory": mem_from, "peak_flops": "--peak-flops" if args.peak_flops else
                                       f"{args.hardware} ({args.dtype or active().dtype})"}}
    dp, dp_from = figure_or_flag(args, "dp_bandwidth", "--dp-bandwidth", "bandwidth_scaleout", size("--dp-bandwidth"),
                                 default=COST["bandwidth_dp"])
    tp, tp_from = figure_or_flag(args, "tp_bandwidth", "--tp-bandwidth", "bandwidth_scaleup", size("--tp-bandwidth"),
                                 default=COST["bandwidth_tp"])
    ep, ep_from = (size("--ep-bandwidth")(args.ep_bandwidth), "--ep-bandwidth") if args.ep_bandwidth else (dp, dp_from)
    max_tp = int(COST.max_tp if args.max_tp is None else args.max_tp)
    node, node_from = figure_or_flag(args, "node_size", "--node-size", "scaleup_domain", int, default=max_tp)
    if node_from == "default":
        node_from = "default: --max-tp"
    out.update(bandwidth_tp=tp, bandwidth_dp=dp, bandwidth_ep=ep, node_size=int(node))
    out["sources"].update(bandwidth_tp=tp_from, bandwidth_dp=dp_from, bandwidth_ep=ep_from, node_size=node_from)
    return out
