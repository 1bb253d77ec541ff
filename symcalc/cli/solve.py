"""``symcalc solve``: inverse questions, answered in closed form where the expression allows.

Each answer says how it was found (``closed-form`` or ``search``), the quantity at the answer,
the budget and the headroom; a budget nothing fits is an answer too (``feasible: false``).
"""

from __future__ import annotations

import argparse

from ..solve import max_d_model, max_n_layers, max_tokens, parse_count, parse_number
from .common import add_model_arguments, model_from_args, positive_int, print_json

#: Inverse questions: name -> one-line help (``symcalc solve --help`` lists them).
QUESTIONS = {
    "hidden-size": "largest hidden size h at fixed depth (or aspect ratio) for a parameter budget",
    "layers": "most layers L at fixed width for a parameter budget",
    "tokens": "most training tokens D for a compute budget (6N, or exact FLOPs with -s)",
    "micro-batch": "largest micro-batch per device whose training memory fits --budget (the mem flags)",
}


def _mem_parent() -> argparse.ArgumentParser:
    """``symcalc mem``'s parser, so the memory questions take exactly its flags."""
    from . import mem

    tmp = argparse.ArgumentParser(add_help=False)
    mem.register(tmp.add_subparsers())
    return tmp._subparsers._group_actions[0].choices["mem"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "solve",
        help="inverse questions: largest model, most layers, tokens for a budget",
        description="Inverse questions: " + "; ".join(f"{k}: {v}" for k, v in QUESTIONS.items()) + ".",
        epilog="Examples: symcalc solve hidden-size -l 32 --budget 7B --multiple-of 128 | symcalc solve tokens --preset llama-2-7b --compute 1e23 --json",
    )
    qs = p.add_subparsers(dest="question", metavar="QUESTION", parser_class=type(p))
    qs.required = True

    h = qs.add_parser("hidden-size", help=QUESTIONS["hidden-size"], description=QUESTIONS["hidden-size"] +
                      ". The MLP keeps its ratio f/h, the head count stays (or grows as h/d_h with --head-dim).")
    add_model_arguments(h)
    h.add_argument("--budget", required=True, help="parameters, e.g. 7e9 or 7B")
    h.add_argument("--multiple-of", type=positive_int, default=1, help="h must be a multiple of this (e.g. 128)")
    h.add_argument("--aspect-ratio", type=positive_int, help="depth follows L = h / ratio instead of -l")
    h.add_argument("--fixed-head-dim", type=positive_int, help="heads grow as h / this (KV heads in proportion)")
    h.add_argument("--json", action="store_true", help="print one JSON object")
    h.set_defaults(func=run_hidden)

    layers = qs.add_parser("layers", help=QUESTIONS["layers"], description=QUESTIONS["layers"])
    add_model_arguments(layers)
    layers.add_argument("--budget", required=True, help="parameters, e.g. 7e9 or 7B")
    layers.add_argument("--multiple-of", type=positive_int, default=1, help="L must be a multiple of this (e.g. PP degree)")
    layers.add_argument("--json", action="store_true", help="print one JSON object")
    layers.set_defaults(func=run_layers)

    t = qs.add_parser("tokens", help=QUESTIONS["tokens"], description=QUESTIONS["tokens"])
    add_model_arguments(t)
    t.add_argument("--compute", required=True, help="training FLOP, e.g. 1e24")
    t.add_argument("--sequence-length", "-s", type=positive_int,
                   help="use symcalc's exact training FLOPs per token at this sequence length (default: 6N)")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.set_defaults(func=run_tokens)

    mb = qs.add_parser("micro-batch", help=QUESTIONS["micro-batch"], description=QUESTIONS["micro-batch"] +
                       ". -b/--batch-size-per-gpu is the unknown and is ignored.",
                       parents=[_mem_parent()], conflict_handler="resolve")
    mb.add_argument("--budget", required=True, help="memory per device: 80GiB, 80GB, 512MiB or bytes")
    mb.set_defaults(func=run_micro_batch)


def _report(args: argparse.Namespace, key: str, sol, what: str) -> int:
    out = sol.to_json()
    out = {key: out.pop(sol.symbol), **out}
    if args.json:
        print_json(out)
        return 0
    if not sol.feasible:
        print(f"nothing fits ({what}): the smallest allowed value needs {out['quantity_at_answer']}, "
              f"{out['shortfall']} over the budget {out['budget']}")
        return 0
    print(f"{what}: {sol.value}  ({sol.method}); {out['quantity_at_answer']} of {out['budget']}, headroom {out['headroom']}")
    return 0


def run_hidden(args: argparse.Namespace) -> int:
    model = model_from_args(args)
    sol = max_d_model(parse_count(args.budget, "--budget"), model, multiple_of=int(args.multiple_of),
                      aspect_ratio=args.aspect_ratio, d_head=args.fixed_head_dim)
    return _report(args, "hidden_size", sol, "largest hidden size")


def run_layers(args: argparse.Namespace) -> int:
    model = model_from_args(args)
    sol = max_n_layers(parse_count(args.budget, "--budget"), model, multiple_of=int(args.multiple_of))
    return _report(args, "num_layers", sol, "most layers")


def run_tokens(args: argparse.Namespace) -> int:
    model = model_from_args(args)
    sol = max_tokens(parse_number(args.compute, "--compute"), model, seq_len=args.sequence_length)
    return _report(args, "tokens", sol, "most tokens")


def run_micro_batch(args: argparse.Namespace) -> int:
    from sympy import Integer

    from .. import symbols as S
    from ..solve import max_integer, parse_bytes
    from . import mem

    if args.infer:
        from ..errors import SymcalcError

        raise SymcalcError("--infer: micro-batch solving covers training memory; drop --infer")
    model = model_from_args(args, mem.DEFAULTS)
    st = mem._settings(args)
    args.batch_size_per_gpu = S.micro_batch
    bd = mem._memory(model, args, st, st["par"], zero=args.zero_stage, buffers=True, misc=args.misc_mem_gib * Integer(2**30))
    sol = max_integer(bd, S.micro_batch, parse_bytes(args.budget), unit="bytes")
    return _report(args, "micro_batch", sol, "largest micro-batch")
