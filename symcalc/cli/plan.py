"""``symcalc plan``: parallel configurations that fit, fastest first (see :mod:`symcalc.plan`)."""

from __future__ import annotations

import argparse
from typing import Any

from sympy import Integer

from ..errors import SymcalcError
from .common import add_model_arguments, model_from_args, parse_amount, positive_int, positive_rational, print_json

#: calc_transformer_mem.py's model defaults where they differ from the shared ones.
DEFAULTS = {"num_experts": 0, "sequence_length": 2048}
GIB = 2**30


def _parsed(kind: str):
    """An argparse type over the solver's safe parsers (regex + Fraction, never eval)."""

    def parse(text: str):
        from ..solve import parse_bytes, parse_number

        try:
            return parse_amount(text, "value", parse_bytes if kind == "bytes" else parse_number)
        except SymcalcError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = "a size such as 80GiB" if kind == "bytes" else "a number such as 989e12"
    return parse


def register(sub: argparse._SubParsersAction) -> None:
    from ..plan import DEFAULTS as COST

    p = sub.add_parser(
        "plan",
        help="parallel configurations (tp, pp, dp, ep, ZeRO, recompute, micro-batch) that fit, fastest first",
        description=(
            "Every configuration of tensor/pipeline/data/expert parallelism, ZeRO stage, recompute policy and "
            "micro-batch whose training memory fits per device, ranked by an estimated step time: compute at the "
            "stated MFU plus TP all-reduces, EP all-to-alls, DP gradient reduction and ZeRO-3 gathers at the "
            "stated bandwidths, plus the pipeline bubble (p-1)/m. See README, section Performance. "
            "Exit status: 0 when something fits, 1 when nothing does (as symcalc solve), 2 on bad input."
        ),
        epilog="Example: symcalc plan --preset llama-2-7b --num-gpus 64 --gpu-memory 80GiB --peak-flops 989e12 --top 5",
    )
    add_model_arguments(p, defaults=DEFAULTS)
    g = p.add_argument_group("cluster")
    g.add_argument("--num-gpus", type=positive_int, required=True, help="devices n")
    g.add_argument("--gpu-memory", type=_parsed("bytes"), required=True,
                   help="memory per device: 80GiB, 80GB, 81920MiB or bytes (GiB = 2^30, GB = 10^9)")
    g.add_argument("--peak-flops", type=_parsed("number"), required=True, help="peak FLOP/s per device, e.g. 989e12")
    g.add_argument("--mfu", type=positive_rational, default=COST["mfu"], help="fraction of peak achieved (default 0.5)")
    g.add_argument("--tp-bandwidth", type=_parsed("bytes"), default=COST["bandwidth_tp"],
                   help="TP all-reduce bandwidth per device, bytes/s (default 300GB)")
    g.add_argument("--dp-bandwidth", type=_parsed("bytes"), default=COST["bandwidth_dp"],
                   help="DP/ZeRO bandwidth per device, bytes/s (default 25GB)")
    g.add_argument("--ep-bandwidth", type=_parsed("bytes"), default=COST["bandwidth_ep"],
                   help="EP all-to-all bandwidth per device, bytes/s (default 25GB)")
    t = p.add_argument_group("training")
    t.add_argument("--sequence-length", "-s", type=positive_int, default=Integer(2048), help="tokens per sequence (default 2048)")
    t.add_argument("--global-batch-size", "-gbs", type=positive_int, default=Integer(512),
                   help="sequences per step B (default 512); micro-batch times dp must divide it")
    t.add_argument("--max-tp", type=positive_int, default=Integer(COST["max_tp"]),
                   help="largest TP degree (default 8: TP inside a node)")
    t.add_argument("--max-micro-batch", type=positive_int, default=Integer(COST["max_micro_batch"]),
                   help="largest micro-batch (default 32)")
    t.add_argument("--zero-stages", default="0,1,2,3", help="ZeRO stages to consider, comma-separated (default 0,1,2,3)")
    t.add_argument("--recompute", default="none,selective,full",
                   help="recompute policies to consider (default none,selective,full)")
    t.add_argument("--flash-attention", action="store_true", help="no s^2 attention scores are kept")
    p.add_argument("--top", type=positive_int, default=Integer(10), help="rows to print (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _choices(text: str, flag: str, allowed: tuple, convert=str) -> tuple:
    items = tuple(x.strip() for x in text.split(",") if x.strip())
    out = []
    for item in items:
        value = convert(item) if item.lstrip("-").isdigit() or convert is str else None
        if value not in allowed:
            raise SymcalcError(f"{flag} {text!r}: {item!r} is not one of {', '.join(map(str, allowed))}")
        out.append(value)
    if not out:
        raise SymcalcError(f"{flag} is empty; give at least one of {', '.join(map(str, allowed))}")
    return tuple(out)


def run(args: argparse.Namespace) -> int:
    from ..memory.activations import RECOMPUTE
    from ..plan import ZERO_STAGES, plan

    if args.mfu > 1:
        raise SymcalcError(f"--mfu {args.mfu} is above 1; it is the fraction of peak achieved (0.5 = 50%)")
    model = model_from_args(args, DEFAULTS)
    zero = _choices(args.zero_stages, "--zero-stages", ZERO_STAGES, int)
    recompute = _choices(args.recompute, "--recompute", RECOMPUTE)
    res = plan(model, n_devices=int(args.num_gpus), memory=args.gpu_memory, peak_flops=args.peak_flops,
               seq_len=args.sequence_length, global_batch=int(args.global_batch_size), mfu=args.mfu,
               bandwidth_tp=args.tp_bandwidth, bandwidth_dp=args.dp_bandwidth, bandwidth_ep=args.ep_bandwidth,
               max_tp=int(args.max_tp), max_micro_batch=int(args.max_micro_batch), zero_stages=zero,
               recompute=recompute, flash_attention=args.flash_attention, top=int(args.top))
    if args.json:
        print_json({
            "model": model.name or "custom",
            "n_candidates": res.n_candidates,
            "n_fit": res.n_fit,
            "settings": {k: _jsonable(v) for k, v in res.settings.items()},
            "rows": [r.as_dict() for r in res.rows],
            "least_memory_bytes": None if res.least_memory is None else int(-(-res.least_memory // 1)),
            "units": "memory in bytes (rounded up), times in seconds",
        })
        return 0 if res.rows else 1
    print(f"symcalc plan: {model.name or 'custom model'} on {res.settings['n_devices']} devices x "
          f"{float(res.settings['memory']) / GIB:.2f} GiB, peak {float(res.settings['peak_flops']):.3g} FLOP/s, "
          f"MFU {float(res.settings['mfu']):g}; s={res.settings['seq_len']}, B={res.settings['global_batch']}")
    print(f"{res.n_fit} of {res.n_candidates} configurations fit" + (f"; fastest {len(res.rows)}:" if res.rows else ""))
    if not res.rows:
        if res.least_memory is not None:
            need, have = res.least_memory, float(res.settings["memory"])
            print(f"nothing fits: the leanest configuration needs {need / GIB:.2f} GiB per device, "
                  f"{(need - have) / GIB:.2f} GiB over the {have / GIB:.2f} GiB budget; "
                  "add devices or memory, or allow more recompute/ZeRO (see --help)")
        else:
            print("nothing fits: no candidate configuration (check --max-tp, --max-micro-batch, -gbs)")
        return 1
    head = f"{'tp':>3} {'pp':>3} {'dp':>5} {'ep':>3} {'zero':>4} {'recompute':>9} {'b':>3} {'m':>5}  {'mem GiB':>8}  {'step s':>9}  {'compute':>8} {'bubble':>8} {'comm':>8}"
    print(head)
    print("-" * len(head))
    for r in res.rows:
        parts = {k: float(v) for k, v in r.time_parts.items()}
        comm = sum(v for k, v in parts.items() if k.endswith("_comm"))
        print(f"{r.tp:>3} {r.pp:>3} {r.dp:>5} {r.ep:>3} {r.zero_stage:>4} {r.recompute:>9} {r.micro_batch:>3} "
              f"{r.n_microbatches:>5}  {float(r.memory) / GIB:>8.2f}  {float(r.step_time):>9.4f}  "
              f"{parts['compute']:>8.4f} {parts['pipeline_bubble']:>8.4f} {comm:>8.4f}")
    print("GiB = 2^30 bytes; times in seconds per step; comm = TP + EP + DP (not overlapped); cost model: README, Performance")
    return 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return int(value) if getattr(value, "is_integer", False) else float(value)
