"""``symcalc latex``: a total as LaTeX in the papers' notation; the formula sheets.

Model flags that are not given stay symbols here (``symcalc latex params`` is the general
closed form; ``symcalc latex params -l 32`` substitutes L = 32 only). A ``--preset`` or
``--hf-config`` gives every size. ``latex flops`` takes ``symcalc flops``'s convention flags and
``latex mem`` every model, layout, training and precision flag of ``symcalc mem`` (sizes and
degrees not given stay symbols; settings not given take the same defaults as ``symcalc mem``),
so a question with every number given prints the number the other subcommands print.
"""

from __future__ import annotations

import argparse

from .. import symbols as S
from ..errors import SymcalcError
from ..model import Model
from ..render import latex
from ..typeset import aligned
from .common import add_model_arguments, model_from_args, positive_int, shown_path
from .flops import add_flops_arguments
from .mem import add_memory_arguments

#: Defaults that keep unspecified sizes symbolic (structure keeps the cookbook's defaults).
SYMBOLIC_DEFAULTS = {
    "hidden_size": S.d_model, "num_layers": S.n_layers, "vocab_size": S.vocab,
    "num_attention_heads": S.n_heads, "num_experts": S.n_experts, "topk": S.top_k,
    "sequence_length": S.n_positions,
}

#: What ``--help`` says a size defaults to here: its symbol, not the cookbook's number (help text only).
HELP_DEFAULTS = {
    "vocab_size": "v, a symbol", "hidden_size": "h, a symbol", "num_layers": "L, a symbol",
    "num_attention_heads": "a, a symbol", "ffn_expansion_factor": "f/h with f a symbol",
    "num_experts": "E, a symbol", "topk": "k, a symbol",
}


def symbolic_model(args: argparse.Namespace) -> Model:
    """The model the flags describe, with every size not given left as its symbol."""
    model = model_from_args(args, SYMBOLIC_DEFAULTS)
    if args.preset or args.hf_config:
        return model
    changes = {}
    if args.num_kv_heads is None and args.kv_size_ratio is None:
        changes["n_kv_heads"] = S.n_kv_heads
    if args.ffn_hidden_size is None and args.ffn_expansion_factor is None:
        changes["d_ff"] = S.d_ff
    return model.replace(**changes) if changes else model


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "latex",
        help="LaTeX of parameters, FLOPs and memory in paper notation; formula sheets",
        description=(
            "Print the LaTeX of a total (or, with --breakdown, an aligned block by part) in the notation "
            "of Korthikanti et al. 2022: L, h, a, g, d_h, f, v, s, b. Sizes whose flags are not given "
            "stay symbolic."
        ),
        epilog="Examples: symcalc latex params | symcalc latex flops -l 32 --breakdown | symcalc latex sheets --check formulas/",
    )
    what = p.add_subparsers(dest="quantity", metavar="QUANTITY", parser_class=type(p))
    what.required = True

    q = what.add_parser("params", help="parameter count")
    add_model_arguments(q, defaults=HELP_DEFAULTS)
    q.add_argument("--breakdown", action="store_true", help="an aligned block by part, then the total")
    q.set_defaults(func=run_params)

    f = what.add_parser("flops", help="training FLOPs per token (the flags of symcalc flops)")
    add_model_arguments(f, defaults=HELP_DEFAULTS)
    add_flops_arguments(f, symbolic=True)
    f.add_argument("--breakdown", action="store_true", help="forward/backward/recompute parts, then the total")
    f.set_defaults(func=run_flops)

    mm = what.add_parser("mem", help="training memory per device (the flags of symcalc mem; degrees symbolic "
                                     "unless given)")
    add_model_arguments(mm, defaults=HELP_DEFAULTS)
    add_memory_arguments(mm, symbolic=True)
    mm.add_argument("--data-parallel-size", "-dp", dest="dp", type=positive_int,
                    help="DP degree d (default: a symbol, or --num-gpus / (t p c))")
    mm.add_argument("--breakdown", action="store_true", help="by part (the default here too: the total is the sum of the parts written below it)")
    mm.set_defaults(func=run_mem)

    s = what.add_parser("sheets", help="write or check the formula sheets in formulas/")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", metavar="DIR", help="write the sheets into DIR")
    g.add_argument("--check", metavar="DIR", help="exit 1 if the sheets in DIR are out of date")
    s.set_defaults(func=run_sheets)


def run_params(args: argparse.Namespace) -> int:
    from ..params import params

    bd = params(symbolic_model(args))
    print(latex(bd.grouped()) if args.breakdown else aligned([("N", bd.total)]))
    return 0


def flops_breakdown(args: argparse.Namespace):
    """Training FLOPs per token for ``latex flops``: what ``symcalc flops`` counts, sizes not given symbolic."""
    from ..flops import training_flops
    from .flops import recompute_from_args

    seq = args.sequence_length if args.sequence_length is not None else S.seq_len
    policy, _ = recompute_from_args(args)
    return training_flops(symbolic_model(args), seq_len=seq, tokens=1, recompute=policy, causal=args.causal,
                          elementwise=args.elementwise)


def run_flops(args: argparse.Namespace) -> int:
    bd = flops_breakdown(args)
    print(latex(bd.grouped()) if args.breakdown else aligned([(r"F_{\text{token}}", bd.total)]))
    return 0


def memory_breakdown(args: argparse.Namespace):
    """Training memory per device for ``latex mem``: ``symcalc mem``'s settings, sizes and degrees not given symbolic."""
    from ..memory import SYMBOLIC, training_memory
    from .mem import training_options

    if getattr(args, "infer", False):
        raise SymcalcError("--infer: symcalc latex mem typesets training memory; drop --infer")
    opts = training_options(args)
    given = {"tp": args.tensor_parallel_size, "pp": args.pipeline_parallel_size, "cp": args.context_parallel_size,
             "ep": args.expert_parallelism}
    for name, value in given.items():
        opts[name] = SYMBOLIC[name] if value is None else value
    if args.num_gpus is None:
        opts.pop("n_devices")
        opts["dp"] = SYMBOLIC["dp"] if args.dp is None else args.dp
    elif args.dp is not None:
        raise SymcalcError("--data-parallel-size with --num-gpus; give one of them (d = n / (t p c))")
    if args.sequence_length is None:
        opts["seq_len"] = S.seq_len
    if args.batch_size_per_gpu is None:
        opts["micro_batch"] = S.micro_batch
    return training_memory(symbolic_model(args), **opts)


def run_mem(args: argparse.Namespace) -> int:
    bd = memory_breakdown(args)
    # by part (weights, gradients and optimizer share Ψ), with or without --breakdown
    print(latex(bd.grouped()))
    return 0


def run_sheets(args: argparse.Namespace) -> int:
    from ..render import main as sheets_main

    try:
        return sheets_main(["--write", args.write] if args.write else ["--check", args.check])
    except OSError as exc:
        reason = exc.strerror or " ".join(str(exc).split())
        raise SymcalcError(f"{shown_path(args.write or args.check)}: {reason}; give a writable folder") from None
