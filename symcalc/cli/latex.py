"""``symcalc latex``: a total as LaTeX in the papers' notation; the formula sheets.

Model flags that are not given stay symbols here (``symcalc latex params`` is the general
closed form; ``symcalc latex params -l 32`` substitutes L = 32 only). A ``--preset`` or
``--hf-config`` gives every size.
"""

from __future__ import annotations

import argparse

from .. import symbols as S
from ..errors import SymcalcError
from ..model import Model
from ..render import latex
from ..typeset import aligned
from .common import add_model_arguments, model_from_args, positive_int, shown_path

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

    f = what.add_parser("flops", help="training FLOPs per token")
    add_model_arguments(f, defaults=HELP_DEFAULTS)
    f.add_argument("--sequence-length", "-s", type=positive_int, help="tokens per sequence (default: the symbol s)")
    f.add_argument("--recompute", choices=("none", "selective", "full"), default="none", help="recomputation policy")
    f.add_argument("--causal", action="store_true", help="half the attention square (Megatron)")
    f.add_argument("--breakdown", action="store_true", help="forward/backward/recompute parts, then the total")
    f.set_defaults(func=run_flops)

    mm = what.add_parser("mem", help="training memory per device (degrees symbolic unless given)")
    add_model_arguments(mm, defaults=HELP_DEFAULTS)
    mm.add_argument("--sequence-length", "-s", type=positive_int, help="sequence length (default: the symbol s)")
    mm.add_argument("--batch-size-per-gpu", "-b", type=positive_int, help="micro-batch (default: the symbol b)")
    mm.add_argument("--zero-stage", "-z", type=int, choices=(0, 1, 2, 3), default=1, help="ZeRO stage (default 1)")
    mm.add_argument("--recompute", choices=("none", "selective", "full"), default="none", help="recomputation policy")
    for flag, name in (("--tensor-parallel-size", "tp"), ("--pipeline-parallel-size", "pp"), ("--data-parallel-size", "dp")):
        mm.add_argument(flag, dest=name, type=positive_int, help=f"{name.upper()} degree (default: a symbol)")
    mm.add_argument("--breakdown", action="store_true",
                    help="by part (the default here too: the total is the sum of the parts written below it)")
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


def run_flops(args: argparse.Namespace) -> int:
    from ..flops import training_flops

    seq = args.sequence_length if args.sequence_length is not None else S.seq_len
    bd = training_flops(symbolic_model(args), seq_len=seq, tokens=1, recompute=args.recompute, causal=args.causal)
    print(latex(bd.grouped()) if args.breakdown else aligned([(r"F_{\text{token}}", bd.total)]))
    return 0


def run_mem(args: argparse.Namespace) -> int:
    from ..memory import SYMBOLIC, training_memory

    degrees = dict(SYMBOLIC)
    for name in ("tp", "pp", "dp"):
        if getattr(args, name) is not None:
            degrees[name] = getattr(args, name)
    bd = training_memory(
        symbolic_model(args),
        seq_len=args.sequence_length if args.sequence_length is not None else S.seq_len,
        micro_batch=args.batch_size_per_gpu if args.batch_size_per_gpu is not None else S.micro_batch,
        zero_stage=args.zero_stage, recompute=args.recompute, **degrees,
    )
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
