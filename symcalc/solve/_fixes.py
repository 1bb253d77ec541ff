"""When nothing fits: the smallest single changes that would make a training layout fit a budget.

:func:`single_changes` takes the training layout that was tried (``training_memory``'s keywords,
every value given) and tries one setting at a time: a higher ZeRO stage, more recomputation,
flash attention, sequence parallelism, a larger TP or PP degree, more devices (ZeRO shards over
more data-parallel ranks), a smaller micro-batch or a shorter sequence. For each setting it keeps
the smallest change that fits, evaluated exactly with :func:`symcalc.memory.training_memory` —
nothing is guessed.

>>> from symcalc import Model
>>> m = Model.preset("llama-2-7b")
>>> tried = dict(seq_len=32768, micro_batch=1, n_devices=8, zero_stage=1)     # 155 GiB of activations
>>> [(f.setting, f.value) for f in single_changes("80GiB", m, **tried)]
[('recompute', 'full'), ('tp', 4), ('seq_len', 6983)]
>>> [(f.setting, f.value) for f in single_changes("40GiB", m, seq_len=4096, micro_batch=1, n_devices=8)]
[('zero_stage', 3), ('tp', 2), ('pp', 8)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from sympy import Expr

from ..errors import SymcalcError
from ..inputs import as_amount, as_bool, as_choice, as_int, as_model
from ._units import parse_bytes

__all__ = ["Change", "single_changes"]

RECOMPUTE_ORDER = ("none", "selective", "full")
#: The settings a change may touch, in the order they are tried.
SETTINGS = ("zero_stage", "recompute", "flash_attention", "sequence_parallel", "tp", "pp", "n_devices", "micro_batch",
            "seq_len")


@dataclass(frozen=True)
class Change:
    """One setting changed from the layout tried: its name, the new value, and the memory then [bytes]."""

    setting: str
    value: Any
    memory: Expr
    was: Any = None

    def __post_init__(self) -> None:
        as_choice("Change.setting", self.setting, SETTINGS)
        object.__setattr__(self, "memory", as_amount("Change.memory", self.memory, unit="bytes"))
        for name in ("value", "was"):
            value = getattr(self, name)
            if value is None and name == "was":
                continue
            if self.setting == "recompute":
                as_choice(f"Change.{name}", value, RECOMPUTE_ORDER)
            elif self.setting in ("flash_attention", "sequence_parallel"):
                as_bool(f"Change.{name}", value)
            else:
                object.__setattr__(self, name, as_int(f"Change.{name}", value, minimum=0))


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def single_changes(budget: Any, model, *, max_devices: int = 4096, **options: Any) -> list[Change]:
    """The smallest change of each setting that makes ``training_memory(model, **options)`` fit ``budget``.

    ``options`` are :func:`symcalc.memory.training_memory`'s keywords of the layout tried (numbers;
    ``n_devices`` or ``dp`` for the data-parallel degree). Returns one :class:`Change` per setting
    that can make it fit on its own, in the order: ZeRO stage, recompute, flash attention, sequence
    parallelism, TP, PP, devices, micro-batch, sequence length. Empty when no single change fits.
    """
    from .. import defaults
    from ..memory import training_memory
    from ._memory import max_micro_batch, max_seq_len, min_devices

    model = as_model("model", model)
    limit = parse_bytes(budget)
    options = dict(options)
    max_devices = as_int("max_devices", max_devices)
    out: list[Change] = []

    def fits(**change: Any) -> Optional[Expr]:
        try:
            total = training_memory(model, **{**options, **change}).total
        except SymcalcError:
            return None
        return total if bool(total <= limit) else None

    tried = training_memory(model, **options).total
    if tried.free_symbols:
        names = ", ".join(sorted(map(str, tried.free_symbols)))
        raise SymcalcError(f"single_changes needs every value of the layout tried; give {names}")

    def first(setting: str, values, was: Any) -> None:
        for v in values:
            total = fits(**{setting: v})
            if total is not None:
                out.append(Change(setting, v, total, was))
                return

    zero = defaults.resolve("zero_stage", options.get("zero_stage"))
    first("zero_stage", range(int(zero) + 1, 4), zero)
    recompute = defaults.recompute_for(options.get("recompute"), storage=options.get("storage"))
    first("recompute", RECOMPUTE_ORDER[RECOMPUTE_ORDER.index(recompute) + 1:], recompute)
    if not defaults.resolve("flash_attention", options.get("flash_attention")):
        first("flash_attention", [True], False)
    tp = int(options.get("tp", 1))
    if tp > 1 and not defaults.resolve("sequence_parallel", options.get("sequence_parallel")):
        first("sequence_parallel", [True], False)
    first("tp", [t for t in _divisors(int(model.n_heads)) if t > tp], tp)
    pp = int(options.get("pp", 1))
    first("pp", [p for p in _divisors(int(model.n_layers)) if p > pp], pp)
    if options.get("n_devices") is not None and options.get("dp") is None:
        rest = {k: v for k, v in options.items() if k != "n_devices"}
        try:
            sol = min_devices(limit, model, hi=max_devices, **rest)
        except SymcalcError:
            sol = None
        if sol is not None and sol.feasible and sol.value > int(options["n_devices"]):
            out.append(Change("n_devices", sol.value, sol.quantity, options["n_devices"]))
    b = int(options.get("micro_batch", 1))
    if b > 1:
        rest = {k: v for k, v in options.items() if k != "micro_batch"}
        sol = max_micro_batch(limit, model, **rest)
        if sol.feasible:
            out.append(Change("micro_batch", sol.value, sol.quantity, b))
    if options.get("seq_len") is not None:
        rest = {k: v for k, v in options.items() if k != "seq_len"}
        try:
            sol = max_seq_len(limit, model, **rest)
        except SymcalcError:
            sol = None
        if sol is not None and sol.feasible:
            out.append(Change("seq_len", sol.value, sol.quantity, options["seq_len"]))
    return out
