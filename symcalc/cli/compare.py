"""Comma-separated flag values: one configuration per combination, one comparison table (or JSON rows).

``symcalc mem -z 0,1,2,3 -tp 1,2`` asks ``mem`` eight times; :func:`configurations` expands the
flags into (configuration, namespace) pairs (the cartesian product, the first list on the command
line varying slowest) and :func:`comparison` runs a subcommand's one-configuration function on
each, giving a :class:`symcalc.compare.Comparison` (rows of configuration and result: the
per-device memory breakdown, the FLOPs breakdown, the parameter breakdown, a solver's answer).
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any, Callable, Sequence

from ..compare import Comparison
from ..errors import SymcalcError
from .common import MAX_CONFIGS, Values, print_json

__all__ = ["configurations", "comparison", "detailed", "show", "run", "has_lists", "KEYS"]

#: Flag destination -> the library's name for it (the configuration's key).
KEYS = {
    "tensor_parallel_size": "tp", "pipeline_parallel_size": "pp", "context_parallel_size": "cp",
    "expert_parallelism": "ep", "num_gpus": "n_devices", "sequence_length": "seq_len",
    "batch_size_per_gpu": "micro_batch", "batch_size": "batch", "zero_stage": "zero_stage",
    "zero_allgather_bucket_size": "allgather_bucket", "zero3_max_live_params": "max_live_params",
    "output_tokens": "n_generate", "num_layers": "n_layers", "hidden_size": "d_model",
    "num_attention_heads": "n_heads", "num_kv_heads": "n_kv_heads", "kv_size_ratio": "kv_size_ratio",
    "head_dim": "d_head", "ffn_expansion_factor": "ffn_expansion_factor", "ffn_hidden_size": "d_ff",
    "vocab_size": "vocab", "num_experts": "n_experts", "expert_interval": "moe_interval", "topk": "top_k",
    "recompute": "recompute", "attention": "attention", "tokens": "tokens",
}


def has_lists(args: argparse.Namespace) -> bool:
    """Whether any flag was given comma-separated values."""
    return any(isinstance(v, Values) for v in vars(args).values())


def configurations(args: argparse.Namespace, order: Sequence[str] = ()) -> list[tuple[dict, argparse.Namespace]]:
    """Every combination of the comma-separated flags: ``(configuration, namespace with single values)``.

    ``order`` is the command line (flag destinations in the order given), so the first list varies slowest.
    """
    lists = {k: v for k, v in vars(args).items() if isinstance(v, Values)}
    names = sorted(lists, key=lambda k: order.index(k) if k in order else len(order))
    count = 1
    for k in names:
        count *= len(lists[k])
    if count > MAX_CONFIGS:
        raise SymcalcError(f"the comma-separated flags ask for {count} configurations; at most {MAX_CONFIGS}: "
                           "give fewer values")
    out = []
    for combo in itertools.product(*(lists[k] for k in names)):
        ns = argparse.Namespace(**vars(args))
        for k, v in zip(names, combo):
            setattr(ns, k, v)
        out.append(({KEYS.get(k, k): v for k, v in zip(names, combo)}, ns))
    return out


def _order(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """Flag destinations in command-line order."""
    by_flag = {o: a.dest for a in parser._actions for o in a.option_strings}
    return [by_flag[a.split("=", 1)[0]] for a in argv if a.split("=", 1)[0] in by_flag]


def comparison(args: argparse.Namespace, compute: Callable[[argparse.Namespace], Any], *, title: str = "",
               order: Sequence[str] = ()) -> Comparison:
    """``compute`` (one configuration's result) for every configuration of the comma-separated flags.

    A configuration the flags make invalid (TP not dividing the heads, ...) stops the comparison with
    that configuration named in the one-line error.
    """
    rows = []
    for config, ns in configurations(args, order):
        try:
            rows.append((config, compute(ns)))
        except SymcalcError as exc:
            where = ", ".join(f"{k}={v}" for k, v in config.items())
            raise SymcalcError(f"at {where}: {exc}") from None
    varied = tuple(rows[0][0]) if rows else ()
    return Comparison(rows, varied, title)


def detailed(args: argparse.Namespace, order: Sequence[str], compute: Callable[[argparse.Namespace], Any],
             result: Callable[[Any], Any], json_of: Callable[[argparse.Namespace, Any], dict],
             title: Callable[[list], str]) -> Comparison:
    """A comparison whose rows are ``(configuration, result(compute(ns)))`` and whose ``details`` are each
    configuration's ``--json`` object ``json_of(ns, computed)``; ``title(details)`` names it."""
    rows, details = [], []
    for config, ns in configurations(args, order):
        try:
            computed = compute(ns)
        except SymcalcError as exc:
            where = ", ".join(f"{k}={v}" for k, v in config.items())
            raise SymcalcError(f"at {where}: {exc}" if where else str(exc)) from None
        rows.append((config, result(computed)))
        details.append(json_of(ns, computed))
    return Comparison(rows, tuple(rows[0][0]) if rows else (), title(details), details=details)


def show(args: argparse.Namespace, comp: Comparison, *, footer: str = "",
         status: Callable[[Any], int] = lambda result: 0) -> int:
    """Print a detailed comparison: its table, or with ``--json`` ``{"varied": [...], "rows": [...]}``
    whose rows are each configuration's ``--json`` object with its ``config``."""
    details = iter(comp.details)
    return run(args, comp, json_row=lambda config, result: next(details), footer=footer, status=status)


def run(args: argparse.Namespace, comp: Comparison, *, json_row: Callable[[dict, Any], dict],
        footer: str = "", status: Callable[[Any], int] = lambda result: 0) -> int:
    """Print a comparison: the table (or ``{"rows": [...]}`` with ``--json``); exit status the worst row's."""
    code = max((status(result) for _, result in comp), default=0)
    if getattr(args, "json", False):
        print_json({"varied": list(comp.varied), "rows": [{"config": {k: _plain(v) for k, v in c.items()},
                                                           **json_row(c, r)} for c, r in comp]})
        return code
    print(comp.table())
    if footer:
        print(footer)
    return code


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        return value
    if getattr(value, "is_Integer", False) or isinstance(value, int):
        return int(value)
    return str(value)
