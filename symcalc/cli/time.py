"""``symcalc time``: wall-clock time, GPU-hours, energy and cost of a training run (see :mod:`symcalc.cost`)."""

from __future__ import annotations

import argparse
from typing import Any


from ..errors import SymcalcError
from ..inputs import as_size, parse_count, parse_number
from ..defaults import active
from .common import add_model_arguments, default_help, model_from_args, parse_amount, positive_int, print_json, seq_len_type
from .hwargs import add_hardware_arguments, hardware_from_args, peak_from_args



def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "time",
        help="training time, GPU-hours, energy and cost for a model, token count, devices and hardware",
        description=(
            "Wall-clock time t = F / (n x peak x MFU) for F training FLOPs on n devices, GPU-hours n t / 3600, "
            "energy board power x n x t x PUE, and cost = price per GPU-hour x GPU-hours. F follows --flops: "
            "exact (default: symcalc's training FLOPs, matmuls, full attention square, no recompute - the model "
            "FLOPs MFU is defined on), 6N (Kaplan) or 8N (Narayanan et al. 2021 eq. 4, one full recompute). "
            "--json keys: flops, seconds, days, gpu_hours, energy_kwh (null without a board power), cost (with "
            "--price-per-gpu-hour), seconds_per_step (with -gbs), mfu, peak_flops, and the exact values as strings."
        ),
        epilog="Examples: symcalc time --preset llama-3.1-405b --tokens 15.6T -s 8192 --num-gpus 16384 --hardware h100 "
               "--mfu 40% | symcalc time -l 96 -hs 12288 -a 96 --tokens 300e9 --num-gpus 1024 --hardware a100 "
               "--achieved-flops 140T --flops 8N",
    )
    add_model_arguments(p)
    w = p.add_argument_group("run")
    w.add_argument("--tokens", required=True, help="tokens trained on: 2T, 2e12, 300_000_000_000 (whole)")
    w.add_argument("--sequence-length", "-s", type=seq_len_type,
                   help=f"tokens per sequence, for the exact FLOPs; 4k = 4096 ({default_help('seq_len', 'time')})")
    w.add_argument("--global-batch-size", "-gbs", type=positive_int,
                   help="sequences per optimizer step: also report seconds per step")
    w.add_argument("--flops", choices=("exact", "6N", "8N"),
                   help="FLOPs convention (default exact; 6N: Kaplan; 8N: Narayanan eq. 4 with one recompute)")
    w.add_argument("--recompute", choices=("none", "selective", "full"),
                   help="recomputation counted by --flops exact (default none: model FLOPs, as MFU counts)")
    w.add_argument("--causal", action="store_true", default=None, help="count half of the attention square (Megatron)")
    c = p.add_argument_group("cluster (a flag given wins over --hardware)")
    c.add_argument("--num-gpus", type=positive_int, required=True, help="devices n")
    add_hardware_arguments(c, fills="--peak-flops (at --dtype) and --power")
    c.add_argument("--peak-flops", help="peak FLOP/s per device: 989e12, 989.4T or a catalogue name (h100)")
    c.add_argument("--mfu", help="fraction of the peak sustained: 0.4 or 40%% (" + default_help(
        "mfu", "time", lambda v: f"{float(v):g}") + "), or 'plan': the planner's estimate for its fastest layout "
        "(needs --hardware and -gbs)")
    c.add_argument("--achieved-flops", help="instead of --mfu: the FLOP/s each device sustains, e.g. 140T "
                                            "(then MFU = achieved / peak)")
    e = p.add_argument_group("energy and cost")
    e.add_argument("--power", help="board power per device in W (default: --hardware's)")
    e.add_argument("--pue", help="power usage effectiveness, facility / IT energy (default 1)")
    e.add_argument("--price-per-gpu-hour", help="price per device-hour (any currency): adds \"cost\"")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _number(flag: str):
    return lambda text: parse_amount(text, flag, lambda t: parse_number(t, flag))


def run(args: argparse.Namespace) -> int:
    from ..cost import MFU_RECOMPUTE, as_mfu, training_cost

    if args.mfu is not None and args.achieved_flops is not None:
        raise SymcalcError("--mfu and --achieved-flops both given; give one (MFU = achieved / peak)")
    model = model_from_args(args)
    hw = hardware_from_args(args)
    if args.mfu == "plan" and (hw is None or args.global_batch_size is None):
        raise SymcalcError("--mfu plan needs --hardware NAME (memory, links, node size) and -gbs (sequences per step)")
    peak = peak_from_args(args)
    if peak is None and args.achieved_flops is None:
        raise SymcalcError("time needs --hardware NAME, --peak-flops (e.g. 989e12 or h100) or --achieved-flops")
    tokens = as_size("--tokens", parse_amount(args.tokens, "--tokens", lambda t: parse_count(t, "--tokens")))
    achieved = None if args.achieved_flops is None else parse_amount(
        args.achieved_flops, "--achieved-flops", lambda t: parse_count(t, "--achieved-flops"))
    d = active()
    seq_len = args.sequence_length if args.sequence_length is not None else d.seq_len
    flops = args.flops or d.flops_convention
    recompute = args.recompute or MFU_RECOMPUTE
    run_ = training_cost(
        model, tokens=tokens, n_devices=args.num_gpus, hardware=hw, dtype=args.dtype, peak_flops=peak,
        **({"mfu": "plan" if args.mfu == "plan" else as_mfu("--mfu", args.mfu) if args.mfu is not None else d.mfu}
           if achieved is None else {"achieved_flops": achieved}),
        seq_len=seq_len, flops=flops, recompute=recompute, causal=args.causal,
        power=None if args.power is None else _number("--power")(args.power),
        pue=None if args.pue is None else _number("--pue")(args.pue),
        price_per_device_hour=None if args.price_per_gpu_hour is None else
        parse_amount(args.price_per_gpu_hour, "--price-per-gpu-hour", lambda t: parse_number(t, "--price-per-gpu-hour"),
                     positive=False),
        global_batch=args.global_batch_size)
    notes = _notes(args, hw, run_)
    if args.json:
        out: dict[str, Any] = run_.as_dict()
        out = {"model": out.pop("model"), "hardware": out.pop("hardware"), "n_devices": int(args.num_gpus),
               "tokens": int(tokens), "sequence_length": int(seq_len), **out,
               "units": {"flops": "FLOP", "seconds": "s", "gpu_hours": "device-hours", "energy_kwh": "kWh",
                         "cost": "currency of --price-per-gpu-hour", "peak_flops": "FLOP/s per device"},
               "notes": notes}
        print_json(out)
        return 0
    on = f"{hw.name} ({args.dtype or d.dtype})" if hw is not None else "devices"
    print(f"symcalc time: {model.name or 'custom model'} - {int(tokens):,} tokens in sequences of "
          f"{int(seq_len)} on {int(args.num_gpus):,} x {on}")
    conv = run_.info["conventions"]
    print(f"FLOPs {conv['flops']} (recompute {conv['recompute']}, attention {conv['attention']}); rate {conv['rate']}")
    print(run_)
    for note in notes:
        print(f"note: {note}")
    return 0


def _notes(args: argparse.Namespace, hw: Any, run_: Any) -> list[str]:
    notes = []
    if args.mfu is None and args.achieved_flops is None:
        notes.append(f"MFU {float(active().mfu):g} is {active().label}; set --mfu (or --achieved-flops, or --mfu plan)")
    if args.mfu == "plan":
        notes.append("MFU from symcalc plan's fastest layout for one step of -gbs sequences (docs/guides/planning.md)")
    if run_.power.free_symbols:
        where = f"the catalogue has none for {hw.name}" if hw is not None else "no --hardware"
        notes.append(f"energy needs the board power ({where}); give --power W")
    conv = run_.info["conventions"]
    if conv["flops"] == "exact" and conv["recompute"] == "none" and args.achieved_flops is not None:
        notes.append("--achieved-flops with model FLOPs (no recompute): a measured rate that counts recomputation "
                     "(hardware FLOPs) pairs with --recompute full or --flops 8N")
    return notes
