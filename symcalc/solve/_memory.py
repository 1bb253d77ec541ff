"""Inverse questions about training memory per device.

The largest micro-batch, sequence, hidden size or depth; the smallest ZeRO stage, TP degree,
PP degree or device count. Each is one call of the engine on
:func:`symcalc.memory.training_memory` with the unknown left as its symbol; ``options`` are
training_memory's keywords (``seq_len``, ``micro_batch``, ``zero_stage``, ``recompute``,
``precision``, ``allgather_bucket``, degrees such as ``tp=2, n_devices=8``, ...). The degree
solvers take the other degrees as plain keywords (not ``parallel=``).

Allowed values (Megatron-LM's layout, :mod:`symcalc.memory.parallel`):

- TP degree t divides the KV-head count g (hence the head count a);
- PP degree p divides the layer count L;
- with a fixed device count n, ``t·p·c·e`` divides n (``d = n/(t·p·c)`` is whole and a multiple of e);
- the device count n is a multiple of ``t·p·c·e``.

Where the unknown makes the data-parallel degree d = 1, DeepSpeed's ZeRO buffers vanish
(``communication_buffers``): the expression says so itself (a ``Piecewise`` in ``d > 1``), and the
engine splits it at that breakpoint, so no value is treated apart.
"""

from __future__ import annotations

from dataclasses import replace
from math import gcd
from typing import Any, Optional, Sequence, Union

from sympy import Expr, Symbol

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_int, as_model
from ..model import Model
from ._engine import Solution, _lcm, divisors, max_integer, min_integer
from ._models import _auto_multiple, max_d_model, max_n_layers, model_family
from ._units import parse_bytes

__all__ = ["max_micro_batch", "max_seq_len", "min_zero_stage", "min_tp", "min_pp", "min_devices",
           "max_d_model_in_memory", "max_n_layers_in_memory"]

_DEGREES = ("tp", "pp", "cp", "ep")


def _memory(model: Model, **options: Any):
    from ..memory import training_memory

    return training_memory(model, **options)


def _int(value: Any, what: str) -> int:
    return as_int(what, value)


def _degrees(options: dict[str, Any], unknown: str) -> dict[str, int]:
    """The fixed degrees t, p, c, e (1 when not given) and n; the unknown must not be among them."""
    if "parallel" in options:
        raise SymcalcError("give the parallel degrees as keywords (tp=, pp=, n_devices=, ...), not parallel=")
    if unknown in options:
        raise SymcalcError(f"{unknown}= is the unknown; leave it out")
    out = {k: _int(options.get(k, 1), k) for k in _DEGREES if k != unknown}
    if options.get("n_devices") is not None:
        out["n_devices"] = _int(options["n_devices"], "n_devices")
        if options.get("dp") is not None:
            raise SymcalcError("give one of dp= and n_devices=, not both")
    return out


def _model_int(model: Model, field: str) -> int:
    value = getattr(model, field)
    if not (isinstance(value, Expr) and value.is_Integer):
        raise SymcalcError(f"{field} is {value}; give it a number to solve for a parallel degree")
    return int(value)


def _min_degree(budget: Any, model: Model, unknown: Symbol, options: dict[str, Any], allowed: Sequence[int]) -> Solution:
    """The smallest value in ``allowed`` whose memory fits."""
    if not allowed:
        raise SymcalcError(f"no allowed {unknown.name}: nothing satisfies the divisibility constraints")
    return min_integer(_memory(model, **{unknown.name: unknown}, **options), unknown, parse_bytes(budget),
                       choices=list(allowed), unit="bytes")


def max_micro_batch(budget: Any, model: Model, **options: Any) -> Solution:
    """The largest micro-batch b whose training memory per device fits ``budget`` ("80GiB", bytes).

    >>> from symcalc import Model
    >>> m = Model.preset("llama-2-7b")
    >>> sol = max_micro_batch("80GiB", m, seq_len=4096, n_devices=8, zero_stage=3, recompute="full")
    >>> sol.value, sol.method
    (42, 'closed-form')
    """
    model = as_model("model", model)
    return max_integer(_memory(model, micro_batch=S.micro_batch, **options), S.micro_batch, parse_bytes(budget),
                       unit="bytes")


def max_seq_len(budget: Any, model: Model, *, multiple_of: Union[int, Sequence[int]] = 1, **options: Any) -> Solution:
    """The longest sequence s whose training memory per device fits ``budget``.

    s is also a multiple of the context-parallel degree c, and of t under sequence parallelism.

    >>> from symcalc import Model
    >>> max_seq_len("80GiB", Model.preset("llama-2-7b"), micro_batch=1, n_devices=8, zero_stage=3,
    ...             recompute="full", multiple_of=128).value
    173952
    """
    model = as_model("model", model)
    m = list(multiple_of) if isinstance(multiple_of, (list, tuple)) else [multiple_of]
    m.append(_int(options.get("cp", 1), "cp"))
    from ..defaults import resolve

    if resolve("sequence_parallel", options.get("sequence_parallel")) and _int(options.get("tp", 1), "tp") > 1:
        m.append(_int(options.get("tp", 1), "tp"))
    return max_integer(_memory(model, seq_len=S.seq_len, **options), S.seq_len, parse_bytes(budget),
                       multiple_of=m, unit="bytes")


def min_zero_stage(budget: Any, model: Model, **options: Any) -> Solution:
    """The smallest ZeRO stage (0-3) whose training memory per device fits ``budget``.

    The memory is one Piecewise in z (:attr:`symcalc.Breakdown.total`); the engine splits it at
    its breakpoints, so the answer is closed-form and checked at the stages next to them.
    """
    model = as_model("model", model)
    return min_integer(_memory(model, zero_stage=S.zero_stage, **options), S.zero_stage, parse_bytes(budget),
                       lo=0, choices=[0, 1, 2, 3], unit="bytes")


def _min_model_degree(budget: Any, model: Model, unknown: Symbol, options: dict[str, Any], deg: dict[str, int],
                      bound: int, others: tuple[str, str]) -> Solution:
    """The smallest divisor of ``bound`` that fits; with ``n_devices``, also a divisor of n/(others·ep).

    ``others`` are the two fixed model-parallel degrees besides ``unknown`` (d = n/(t·p·c)).
    """
    if "n_devices" in deg:
        first, second = others
        rest = deg[first] * deg[second] * deg["ep"]
        if deg["n_devices"] % rest:
            raise SymcalcError(f"{first}*{second}*ep = {rest} does not divide n_devices={deg['n_devices']}")
        bound = gcd(bound, deg["n_devices"] // rest)
    return _min_degree(budget, model, unknown, options, divisors(bound))


def min_tp(budget: Any, model: Model, **options: Any) -> Solution:
    """The smallest TP degree t whose training memory per device fits ``budget``.

    t divides the KV-head count g (Megatron's ``g % t == 0``) and the head count; with
    ``n_devices`` given, ``t·p·c·e`` divides it (the data-parallel degree shrinks as t grows).

    >>> from symcalc import Model
    >>> m = Model.preset("llama-2-7b")
    >>> min_tp("24GiB", m, seq_len=4096, micro_batch=1, zero_stage=1, recompute="full").value
    8
    """
    model = as_model("model", model)
    deg = _degrees(options, "tp")
    bound = gcd(_model_int(model, "n_heads"), _model_int(model, "n_kv_heads"))
    return _min_model_degree(budget, model, S.tp, options, deg, bound, ("pp", "cp"))


def min_pp(budget: Any, model: Model, **options: Any) -> Solution:
    """The smallest pipeline degree p whose training memory per device fits ``budget``.

    p divides the layer count L; with ``n_devices`` given, ``t·p·c·e`` divides it, so d falls
    as p grows (and ZeRO shards over fewer devices); otherwise d (``dp=``, default 1) is fixed.
    The stage reported is the worst case of :mod:`symcalc.memory.parallel` (L/p layers and both
    ends). No monotonicity is assumed: the roots of the memory equation decide.

    >>> from symcalc import Model
    >>> m = Model.preset("llama-2-7b")
    >>> sol = min_pp("40GiB", m, seq_len=4096, micro_batch=1, tp=2, recompute="full")
    >>> sol.value, sol.method
    (2, 'closed-form')
    """
    model = as_model("model", model)
    deg = _degrees(options, "pp")
    bound = _model_int(model, "n_layers")
    return _min_model_degree(budget, model, S.pp, options, deg, bound, ("tp", "cp"))


def min_devices(budget: Any, model: Model, *, hi: Optional[int] = None, multiple_of: int = 1,
                **options: Any) -> Solution:
    """The smallest device count n whose training memory per device fits ``budget``.

    With the degrees t, p, c, e fixed (keywords, default 1), n is a multiple of ``t·p·c·e``: the
    data-parallel degree d = n/(t·p·c) grows, and under ZeRO the sharded states fall as 1/d.
    Without ZeRO (or when the unsharded memory alone is too much) more devices never help:
    the answer is then the smallest n, or nothing fits, short by the limit n → ∞.
    ``multiple_of`` asks for whole nodes (8: n a multiple of 8 as well).

    >>> from symcalc import Model
    >>> m = Model.preset("llama-2-7b")
    >>> opts = dict(seq_len=4096, micro_batch=1, recompute="full")
    >>> min_devices("40GiB", m, zero_stage=3, **opts).value
    3
    >>> min_devices("40GiB", m, zero_stage=3, multiple_of=8, **opts).value
    8
    >>> sol = min_devices("40GiB", m, zero_stage=0, **opts)
    >>> sol.feasible, round(float(sol.shortfall) / 2**30, 1)
    (False, 74.5)
    """
    model = as_model("model", model)
    hi = None if hi is None else as_int("hi", hi)
    multiple_of = as_int("multiple_of", multiple_of)
    if options.get("dp") is not None or options.get("n_devices") is not None:
        raise SymcalcError("n_devices is the unknown; give the other degrees (tp=, pp=, cp=, ep=), not dp= or n_devices=")
    deg = _degrees(options, "n_devices")
    mp = deg["tp"] * deg["pp"] * deg["cp"]
    step = _lcm([mp * deg["ep"], multiple_of])
    limit = parse_bytes(budget)
    n = S.n_devices
    sol = min_integer(_memory(model, n_devices=n, **options), n, limit, multiple_of=step, lo=step, hi=hi, unit="bytes")
    if not sol.feasible:  # report the shortfall of the leanest count seen: the first, or the limit n -> oo
        first = _memory(model, n_devices=step, **options).total
        if bool(first < sol.quantity):
            return replace(sol, quantity=first)
    return sol


def _tp_multiple(family: Model, symbol: Symbol, options: dict[str, Any]) -> int:
    """The multiple of ``symbol`` that keeps the (KV) head counts divisible by the TP degree."""
    t = _int(options.get("tp", 1), "tp")

    def split(count: Any) -> Any:  # a count fixed in h stays (the layout's own check, KV heads replicated when t > g)
        return count / t if symbol in getattr(count, "free_symbols", ()) else count

    probe = family.replace(n_heads=split(family.n_heads), n_kv_heads=split(family.n_kv_heads))
    return _auto_multiple(probe, symbol)


def max_d_model_in_memory(budget: Any, model: Model, *, multiple_of: Union[int, Sequence[int]] = 1,
                          aspect_ratio: Any = None, d_head: Any = None, hi: Optional[int] = None,
                          **options: Any) -> Solution:
    """The largest hidden size h whose training memory per device fits ``budget``.

    The family is :func:`~symcalc.solve.model_family`'s (depth fixed or L = h/aspect_ratio; the
    MLP keeps f/h; heads fixed, or h/d_h with ``d_head``). h is a multiple of ``multiple_of``
    (e.g. 64 or 128), of whatever keeps every size whole (the head count when d_h = h/a), and of
    what keeps the heads divisible by ``tp``.

    >>> from symcalc import Model
    >>> m = Model.preset("llama-2-7b")
    >>> sol = max_d_model_in_memory("80GB", m, seq_len=2048, micro_batch=1, n_devices=8, zero_stage=3,
    ...                             recompute="full", multiple_of=128)
    >>> sol.value, sol.method
    (9344, 'closed-form')
    """
    model = as_model("model", model)
    family, h = model_family(model, "d_model", aspect_ratio=aspect_ratio, d_head=d_head)
    m = list(multiple_of) if isinstance(multiple_of, (list, tuple)) else [multiple_of]
    m.append(_tp_multiple(family, h, options))
    return max_d_model(parse_bytes(budget), model, quantity=lambda mm: _memory(mm, **options), multiple_of=m,
                       aspect_ratio=aspect_ratio, d_head=d_head, hi=hi, unit="bytes")


def max_n_layers_in_memory(budget: Any, model: Model, *, multiple_of: Union[int, Sequence[int]] = 1,
                           hi: Optional[int] = None, **options: Any) -> Solution:
    """The most layers L at fixed width whose training memory per device fits ``budget``.

    L is a multiple of ``multiple_of`` and of the pipeline degree ``pp`` (each stage L/p layers).

    >>> from symcalc import Model
    >>> m = Model.preset("llama-2-7b")
    >>> max_n_layers_in_memory("80GB", m, seq_len=4096, micro_batch=1, n_devices=8, zero_stage=1,
    ...                        recompute="full").value
    49
    """
    model = as_model("model", model)
    m = list(multiple_of) if isinstance(multiple_of, (list, tuple)) else [multiple_of]
    m.append(_int(options.get("pp", 1), "pp"))
    return max_n_layers(parse_bytes(budget), model, quantity=lambda mm: _memory(mm, **options), multiple_of=m,
                        hi=hi, unit="bytes")

