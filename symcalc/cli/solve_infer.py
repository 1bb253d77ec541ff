"""``symcalc solve QUESTION --infer``: the serving questions (see :mod:`symcalc.solve._serving`).

``micro-batch --infer``: the most sequences served at once; ``seq-len --infer``: the longest
prompt (the cache holds it plus ``-o`` tokens); ``tp --infer`` / ``pp --infer`` / ``devices --infer``:
the smallest TP degree (at ``-pp``), PP degree (at ``-tp``), or fewest devices ``tp x pp`` of one
replica — each under ``--budget`` (or ``--hardware``'s memory) per device, with the inference flags
of ``symcalc mem --infer`` (``-s``, ``-o``, ``-b``, ``--weight-dtype``, ``--kv-cache-dtype``,
``--flash-attention``, ``-tp``, ``-pp``).
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from ..errors import SymcalcError

#: The questions that have a serving form, and the text answer of each.
ANSWERS = {"micro-batch": "largest serving batch", "seq-len": "longest prompt", "tp": "smallest TP degree",
           "pp": "smallest PP degree", "devices": "fewest devices"}


def add_arguments(q: argparse.ArgumentParser, name: str) -> None:
    """The flags a question needs only with ``--infer``."""
    if name in ANSWERS:
        q.add_argument("--prefill-batch", type=int,
                       help="with --infer: prompts prefilled at once, for the transient activations (default: the "
                            "whole batch -b; 1: one at a time, as continuous batching admits requests)")
    if name in ("devices", "tp"):
        q.add_argument("--max-tp", type=int, help="with --infer: the largest TP degree (default 8: one node)")


def flags_given(args: argparse.Namespace) -> bool:
    """Whether a flag that only ``--infer`` takes was given."""
    return any(getattr(args, f, None) is not None for f in ("prefill_batch", "max_tp"))


def inference_options(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The model and :func:`symcalc.memory.inference_memory`'s keywords from ``symcalc mem --infer``'s flags."""
    from . import mem
    from ..memory.states import WEIGHT_DTYPES

    model = mem.model_from_mem_args(args)
    st = mem._settings(args, parallel=False)  # refuses training-only flags with --infer
    for flag in ("prefill_batch", "max_tp"):
        value = getattr(args, flag, None)
        if value is not None and value < 1:
            raise SymcalcError(f"--{flag.replace('_', '-')} {value} is not positive; give a whole number of at least 1")
    if args.context_parallel_size not in (None, 1) or args.expert_parallelism not in (None, 1):
        raise SymcalcError("--infer: a serving replica here uses tensor and pipeline parallelism only; "
                           "drop --context-parallel-size/-ep")
    from ..defaults import active

    prec = st["prec"]
    one = 1
    return model, dict(
        seq_len=mem.seq_len_of(args), n_generate=active().output_tokens if args.output_tokens is None else args.output_tokens,
        micro_batch=mem.micro_batch_of(args),
        weights=WEIGHT_DTYPES[args.weight_dtype] if args.weight_dtype else prec.weight,
        bytes_kv=WEIGHT_DTYPES[args.kv_cache_dtype] if args.kv_cache_dtype else prec.kv, bytes_act=prec.act,
        flash_attention=st["flash_attention"], misc_bytes=mem.misc_bytes_of(args),
        prefill_batch=args.prefill_batch, tp=args.tensor_parallel_size or one, pp=args.pipeline_parallel_size or one)


def run(args: argparse.Namespace, budget: Any, report: Callable[..., int]) -> int:
    """Answer ``args.question`` for serving; ``report`` prints a Solution as the training questions do."""
    from ..solve import max_serving_batch, max_serving_context, min_serving_devices

    if not args.infer:
        flag = "--prefill-batch" if getattr(args, "prefill_batch", None) is not None else "--max-tp"
        raise SymcalcError(f"{flag} applies to the serving questions only; add --infer")

    if args.question not in ANSWERS:
        raise SymcalcError(f"solve {args.question} --infer: inference has no ZeRO stage; ask micro-batch, seq-len, "
                           "tp, pp or devices with --infer")
    if budget is None:
        raise SymcalcError(f"solve {args.question} --infer needs --budget (memory per device, e.g. 80GiB) or "
                           "--hardware NAME")
    model, opts = inference_options(args)
    q = args.question
    if q == "micro-batch":
        opts.pop("micro_batch")
        return report(args, max_serving_batch(budget, model, **opts), ANSWERS[q])
    if q == "seq-len":
        opts.pop("seq_len")
        return report(args, max_serving_context(budget, model, multiple_of=int(args.multiple_of), **opts), ANSWERS[q])
    tp, pp = opts.pop("tp"), opts.pop("pp")
    max_tp = getattr(args, "max_tp", None) or 8
    fixed = {"tp": dict(pp=pp), "pp": dict(tp=tp), "devices": {}}[q]
    sol = min_serving_devices(budget, model, max_tp=max_tp, **fixed, **opts)
    if q in ("tp", "pp") and sol.feasible:
        from dataclasses import replace

        sol = replace(sol, symbol=q, value=sol.tp if q == "tp" else sol.pp)
    elif q in ("tp", "pp"):
        from dataclasses import replace

        sol = replace(sol, symbol=q)
    status = report(args, sol, ANSWERS[q])
    if not args.json and sol.feasible:
        print(f"replica: tp {sol.tp} x pp {sol.pp} = {sol.tp * sol.pp} devices")
    return status
