"""``symcalc flops``: the cookbook's calc_transformer_flops.py, exact and with every flag used.

``--tokens T`` are T tokens in sequences of ``--sequence-length`` tokens (T/s sequences);
``--batch-size`` sequences make one step. Today's default counts model FLOPs (no recomputation);
``--cookbook`` counts one full recompute of every layer, as the cookbook's script does;
``-ca/--no-checkpoint-activations`` (that script's spelling) turns recomputation off and
``--recompute`` sets it.
"""

from __future__ import annotations

import argparse
from typing import Any

from sympy import Expr, Integer

from ..breakdown import Breakdown
from ..errors import SymcalcError
from ..flops import RECOMPUTE, six_n, training_flops
from ..flops import forward_flops
from ..structure import WINDOW_FLOPS
from ..defaults import active, resolve
from .common import (
    choice, listable,
    add_model_arguments, default_help, model_from_args, positive_int, print_json, recompute_policy, seq_len_type,
)
from ._texts import FLOPS_CA_MEANING, FLOPS_CA_SAYS, flops_conventions

PASSES = ("forward", "backward", "recompute")
#: What ``-ca`` means here (the cookbook's calc_transformer_flops.py), said in --help and in the output.
CA_MEANING = FLOPS_CA_MEANING


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "flops",
        help="training or inference FLOPs by part",
        description=(
            "Exact FLOPs by part for --tokens tokens in sequences of --sequence-length. Conventions: "
            "2*m*n*k per matmul, matmuls only; full attention square unless --causal; embedding "
            "lookups free; backward = 2x forward; the LM head is not recomputed. By default no "
            "recomputation is counted (model FLOPs, as MFU counts them); --cookbook counts one full "
            "recompute like the cookbook's script, -ca turns it off, --recompute sets it. Numbers are "
            "FLOPs (operations, not FLOP/s), exact; --json gives \"forward\", \"backward\", \"recompute\" "
            "and \"total\" as integers for --tokens tokens, plus per_step, per_token and the breakdown."
        ),
        epilog="Examples: symcalc flops -l 96 -hs 12288 | symcalc flops --preset llama-2-7b --tokens 2e12 -ca --json",
    )
    add_model_arguments(p)
    add_flops_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run, compare=run_comparison)


def add_flops_arguments(p: argparse.ArgumentParser, *, symbolic: bool = False) -> None:
    """The workload and convention flags of ``symcalc flops`` (also ``symcalc latex flops``'s)."""
    w = p.add_argument_group("workload")
    w.add_argument("--sequence-length", "-s", type=listable(seq_len_type),
                   help="tokens per sequence; 4k = 4096 (" + ("a symbol" if symbolic else default_help("seq_len", "flops"))
                        + ")")
    if not symbolic:
        w.add_argument("--batch-size", "-b", type=listable(positive_int),
                       help="sequences per step, the global batch (default 1; the cookbook flops script's -b; "
                            "`symcalc mem`'s -b is the micro-batch per GPU)")
        w.add_argument("--tokens", type=listable(positive_int),
                       help="tokens trained (or prefilled) on: 2T, 3e11, 300_000_000_000 (default 300e9)")
    w.add_argument("--no-checkpoint-activations", "-ca", dest="no_checkpoint_activations", action="store_true",
                   default=None, help=CA_MEANING)
    w.add_argument("--recompute", type=listable(choice(*RECOMPUTE)), metavar="{none,selective,full}",
                   help="recomputation policy (selective: attention core only; "
                        + default_help("flops_recompute", "flops") + ")")
    if not symbolic:
        w.add_argument("--infer", "-i", action="store_true",
                       help="inference prefill: one forward pass over the tokens, no backward")
    w.add_argument("--causal", action="store_true", default=None,
                   help="count half of the attention square (Megatron) instead of all of it")
    w.add_argument("--elementwise", action="store_true", default=None,
                   help="add softmax, norm, activation and residual FLOPs (conventions: docs/concepts.md)")
    if not symbolic:
        w.add_argument("--window-flops", choices=WINDOW_FLOPS,
                       help="sliding/chunked layers: the full square eager attention computes (square, as "
                            "FlopCounterMode) or only the band inside the window (what a windowed kernel computes); "
                            + default_help("window_flops", "flops"))


def recompute_from_args(args: argparse.Namespace) -> tuple[str, str]:
    """The recompute policy and why: --recompute, -ca (no recompute), or the active default."""
    return recompute_policy(args, ca_flag="--no-checkpoint-activations", ca_policy="none", default_key="flops_recompute",
                            ca_says=FLOPS_CA_SAYS)


def _number(value: Expr) -> Any:
    """An int for a whole number, else the exact fraction as a string (JSON keeps it exact)."""
    return int(value) if value.is_integer else str(value)


def _by_component(bd: Breakdown) -> Breakdown:
    """``forward/attention/qkv`` + ``backward/attention/qkv`` + ... -> ``attention/qkv``."""
    parts: dict[str, Expr] = {}
    for name, value in bd.items():
        key = name.split("/", 1)[1]
        parts[key] = parts.get(key, Integer(0)) + value
    return Breakdown(parts, unit="FLOP", title=bd.title)


def compute(args: argparse.Namespace) -> dict[str, Any]:
    """One configuration of ``symcalc flops``: the model, the run/step/token breakdowns and the conventions."""
    if args.infer and args.recompute not in (None, "none"):
        raise SymcalcError(f"--recompute {args.recompute} with --infer: inference has no backward pass to "
                           "recompute for; drop --recompute (or --infer for training)")
    d = active()
    model = model_from_args(args)
    s = args.sequence_length if args.sequence_length is not None else d.seq_len
    b = args.batch_size if args.batch_size is not None else d.batch
    tokens = args.tokens if args.tokens is not None else d.tokens
    policy, why = recompute_from_args(args)
    causal = d.causal if args.causal is None else args.causal
    elementwise = d.elementwise if args.elementwise is None else args.elementwise
    kw = dict(seq_len=s, causal=causal, elementwise=elementwise, window_flops=args.window_flops)
    if args.infer:
        policy = "none"
        run_bd = forward_flops(model, tokens=tokens, **kw).prefixed("forward")
        step_bd = forward_flops(model, batch=b, **kw).prefixed("forward")
        token_bd = forward_flops(model, tokens=1, **kw).prefixed("forward")
    else:
        run_bd = training_flops(model, tokens=tokens, recompute=policy, **kw)
        step_bd = training_flops(model, batch=b, recompute=policy, **kw)
        token_bd = training_flops(model, tokens=1, recompute=policy, **kw)
    passes = {k: run_bd.select(k) for k in PASSES}
    approx = six_n(model) * tokens
    conventions = flops_conventions(elementwise=elementwise, causal=causal, infer=args.infer, policy=policy, why=why,
                                    defaults=d.name, window_full=model.window.is_full,
                                    window_flops=resolve("window_flops", args.window_flops))
    return dict(model=model, s=s, b=b, tokens=tokens, policy=policy, run=run_bd, step=step_bd, token=token_bd,
                passes=passes, approx=approx, conventions=conventions)


def result_json(args: argparse.Namespace, r: dict) -> dict:
    """The ``--json`` object of one configuration (also one row of a comparison)."""
    model, s, b, tokens, approx = r["model"], r["s"], r["b"], r["tokens"], r["approx"]
    run_bd, step_bd, token_bd = r["run"], r["step"], r["token"]
    return {
        "model": model.name or "custom",
        "tokens": int(tokens), "sequence_length": int(s), "batch_size": int(b),
        "mode": "inference" if args.infer else "training",
        **{k: _number(v) for k, v in r["passes"].items()},
        "total": _number(run_bd.total),
        "per_step": {"sequences": int(b), **{k: _number(step_bd.select(k)) for k in PASSES},
                     "total": _number(step_bd.total)},
        "per_token": {**{k: _number(token_bd.select(k)) for k in PASSES}, "total": _number(token_bd.total)},
        "six_n": _number(approx if not args.infer else approx / 3),
        "breakdown": {k: _number(v) for k, v in _by_component(run_bd).items()},
        "breakdown_by_pass": {k: _number(v) for k, v in run_bd.items()},
        "conventions": r["conventions"],
    }


def comparison(args: argparse.Namespace, order=()):
    """Rows ``(configuration, FLOPs of the run by pass)`` for ``symcalc flops``' comma-separated flags."""
    from .compare import detailed

    return detailed(args, order, compute, lambda r: r["run"].grouped(), result_json,
                    lambda details: f"symcalc flops: {details[0]['model']}; FLOPs for --tokens tokens, by pass; "
                                    f"defaults {active().name}")


def run_comparison(args: argparse.Namespace, order=()) -> int:
    from .compare import show

    return show(args, comparison(args, order), footer="FLOPs (operations); per token and per step in --json")


def run(args: argparse.Namespace) -> int:
    r = compute(args)
    if args.json:
        print_json(result_json(args, r))
        return 0
    model, s, b, tokens, policy, approx = r["model"], r["s"], r["b"], r["tokens"], r["policy"], r["approx"]
    run_bd, step_bd, token_bd, passes, conventions = r["run"], r["step"], r["token"], r["passes"], r["conventions"]
    mode = "inference prefill (forward only)" if args.infer else f"training, recompute {policy}"
    print(f"symcalc flops: {model.name or 'custom model'} - {model.describe()}")
    print(f"{int(tokens):,} tokens in sequences of {int(s)}; {mode}")
    comp = _by_component(run_bd)
    comp.title = ""
    extra = [(k, v) for k, v in passes.items()]
    extra += [(f"per step ({int(b)} sequence{'' if b == 1 else 's'})", step_bd.total), ("per token", token_bd.total),
              ("2N*D (forward-only rule)" if args.infer else "6N*D (rule of thumb)", approx / 3 if args.infer else approx)]
    print(comp.table(extra=extra))
    print("conventions: " + "; ".join(f"{k}: {v}" for k, v in conventions.items()))
    return 0
