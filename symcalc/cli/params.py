"""``symcalc params``: the cookbook's calc_transformer_params.py, exact."""

from __future__ import annotations

import argparse

from ..breakdown import Breakdown
from ..finetune import adapter_params, trainable_params
from ..params import ACTIVE_CONVENTIONS, active_params, non_embedding_params, params
from .common import add_model_arguments, default_help, model_from_args, positive_int, print_json
from .finetune_args import add_finetune_arguments, finetune_options
from ._texts import PARAMS_FOOTER, params_conventions


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "params",
        help="parameter count by part",
        description=(
            "Exact parameter count by part. Without --preset/--hf-config the model is built from "
            "the cookbook flags with GPT-NeoX structure (LayerNorm, biases on every linear, untied "
            "embeddings, rotary positions). Non-embedding parameters exclude the token embedding, a "
            "learned position table and an untied LM head. Counts are exact integers (parameters, "
            "not bytes); the table adds 1000-based suffixes (M = 10^6, B = 10^9); --json gives "
            "\"total\", \"trainable\", \"non_embedding\", \"active\" and \"breakdown\" as integers. With an "
            "adapter (--lora-rank, --lora-targets, --finetune lora/dora) the total and the breakdown include it "
            "(as peft's get_nb_trainable_parameters counts); --freeze leaves parts out of \"trainable\"."
        ),
        epilog="Examples: symcalc params --preset llama-2-7b | symcalc params -l 96 -hs 12288 --json | "
               "symcalc params --preset llama-2-7b --lora-rank 8 --lora-targets q,v --json",
    )
    add_model_arguments(p)
    p.add_argument("--sequence-length", "-s", type=positive_int,
                   help="rows of the learned position table; has no effect on the count unless "
                        "--position learned (RoPE/ALiBi have no position parameters)")
    p.add_argument("--active-convention", choices=ACTIVE_CONVENTIONS,
                   help="what active parameters count: all parameters a token touches, without the input "
                        "embedding (DeepSeek, gpt-oss cards), or without embedding and LM head (GLM cards); "
                        + default_help("active_convention", "params"))
    add_finetune_arguments(p, memory=False)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run, compare=compare)


def compute(args: argparse.Namespace) -> dict:
    """One model of ``symcalc params``: the breakdown (with an adapter's parameters), trainable, active."""
    model = model_from_args(args)
    tune = finetune_options(args)
    adapter, freeze = tune["adapter"], tune["freeze"]
    bd = params(model)
    if adapter is not None:
        bd = Breakdown({**dict(bd.items()), **dict(adapter_params(model, adapter).items())}, unit="params",
                       title=bd.title + f" + {adapter.describe()}")
    return dict(model=model, bd=bd, adapter=adapter, freeze=freeze,
                trainable=trainable_params(model, adapter=adapter, freeze=freeze).total,
                non_emb=non_embedding_params(model),
                active=active_params(model, convention=_convention(args)).total)


def _convention(args: argparse.Namespace) -> str:
    """What active parameters count: ``--active-convention``, else the active default."""
    from ..defaults import resolve

    return resolve("active_convention", getattr(args, "active_convention", None))


def result_json(args: argparse.Namespace, r: dict) -> dict:
    """The ``--json`` object of one model (also a row of a comparison)."""
    return {
        "model": r["model"].name or "custom",
        "total": int(r["bd"].total),
        "trainable": int(r["trainable"]),
        "non_embedding": int(r["non_emb"]),
        "active": int(r["active"]),
        "breakdown": r["bd"].as_ints(),
        "conventions": params_conventions(_convention(args)),
    }


def compare(args: argparse.Namespace, order=()) -> int:
    """Comma-separated size flags: one row per model (parameters by part)."""
    from .compare import detailed, show

    comp = detailed(args, order, compute, lambda r: r["bd"], result_json,
                    lambda details: f"symcalc params: {details[0]['model']}; parameters by part")
    return show(args, comp, footer="counts are exact; 1000-based suffixes in the single-model table")


def run(args: argparse.Namespace) -> int:
    r = compute(args)
    model, bd, non_emb, active = r["model"], r["bd"], r["non_emb"], r["active"]
    adapter, freeze, trainable = r["adapter"], r["freeze"], r["trainable"]
    if args.json:
        print_json(result_json(args, r))
        return 0
    print(f"symcalc params: {model.name or 'custom model'} - {model.describe()}")
    label = "active per token" + ("" if _convention(args) == "all" else f" ({_convention(args)})")
    extra = [("non-embedding", non_emb)] + ([(label, active)] if model.is_moe or _convention(args) != "all" else [])
    if adapter is not None or freeze is not None:
        extra.append(("trainable", trainable))
    print(bd.table(extra=extra))
    print(PARAMS_FOOTER)
    return 0
