"""The planner's compiled cost model: every layout's memory and step time from a few pieces built once.

:func:`symcalc.steptime.layout_memory` and :func:`symcalc.steptime.step_time` are sympy expressions
in the layout's degrees (t, p, d, e, b, v, L_s). The planner needs them for every ZeRO stage z and
recompute policy r, but each depends on z or r through separate terms only:

- memory = rest(z) + act(r) · (1 + [v ≠ 1] · (p − 1)/(p·v)): the model states, ZeRO buffers and
  fixed overhead depend on the stage, the activations on the policy;
- time = S(r) · (1 + (p − 1)/(v·m)) + dp(z): compute, TP, EP and pipeline sends S(r) depend on the
  policy (with the bubble their fraction), the data-parallel traffic dp(z) on the stage.

So :class:`LayoutCosts` builds |z| + |r| − 1 memory expressions and |r| step times (instead of
|z|·|r| of each, and again per KV-head regime and schedule), with the degrees as symbols, and
compiles them twice: float64 (one function returning every piece, numpy arrays over all
candidates) for ranking, and exact for the re-check of the rows returned: per (z, r) that occurs
among them, the pieces summed back into layout_memory's and step_time's expressions (plain and
interleaved memory, every time part, the total) and compiled to int/Fraction code, so the
numbers are those of the sympy expressions exactly.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from fractions import Fraction
from typing import Any

from sympy import Integer

from . import _plancombine as combine, symbols as S
from ._intcode import SLOW, finish
from .breakdown import Breakdown
from .numeric import compile_breakdown

__all__ = ["ARGS", "LayoutCosts", "layout_costs", "float_pass", "exact_pass", "to_exact", "exact_quantity"]

#: The layout's degrees, in the order every compiled piece takes them.
ARGS = (S.tp, S.pp, S.dp, S.ep, S.micro_batch, S.virtual_stages, S.layers_per_stage)
#: training_memory's settings the planner passes through (each None: the active default).
MEMORY_SETTINGS = ("precision", "flash_attention", "sequence_parallel", "dropout", "allgather_bucket",
                   "max_live_params")
#: Step-time parts that depend on the recompute policy (in step_time's order; ep_comm for MoE only).
POLICY_PARTS = ("compute", "tp_comm", "ep_comm", "pp_comm")


def build_pieces(model, stages: tuple, policies: tuple, costs: dict, common: dict) -> tuple:
    """(pieces, part names): memory and step time of one model and setting as sympy expressions in :data:`ARGS`,
    in pieces that depend on the ZeRO stage or on the recompute policy only (:mod:`symcalc._plancombine` puts
    a (z, r) together); ``part_names`` are the policy's step-time parts the bubble stretches."""
    from .steptime import _memory_pieces, _step_pieces, interleaving

    z0, r0 = stages[0], policies[0]
    memory = dict(seq_len=common["seq_len"], micro_batch=S.micro_batch, tp=S.tp, dp=S.dp, ep=None, pp=S.pp,
                  layers_per_stage=S.layers_per_stage, **{k: common[k] for k in MEMORY_SETTINGS})
    rest, act = {}, {}
    for z in stages:
        rest[z], a = _memory_pieces(model, zero_stage=z, recompute=r0, **memory)
        act.setdefault(r0, a)
    for r in policies[1:]:
        act[r] = _memory_pieces(model, zero_stage=z0, recompute=r, **memory)[1]
    time = dict(seq_len=common["seq_len"], global_batch=common["global_batch"], micro_batch=S.micro_batch,
                tp=S.tp, pp=S.pp, dp=S.dp, ep=None, virtual_stages=S.virtual_stages,
                layers_per_stage=S.layers_per_stage, precision=common["precision"], causal=None,
                mfu=costs.get("mfu"), kernel_efficiency=costs.get("kernel_efficiency"),
                gemm_half_size=costs.get("gemm_half_size"), peak_flops=costs["peak_flops"],
                bandwidth_tp=costs["bandwidth_tp"], bandwidth_dp=costs["bandwidth_dp"],
                bandwidth_pp=costs["bandwidth_pp"], bandwidth_ep=costs["bandwidth_ep"])
    parts, dp = {}, {}
    for i, r in enumerate(policies):
        parts[r], bubble, dps = _step_pieces(model, zero_stages=stages if i == 0 else (), recompute=r, **time)
        dp.update(dps)
    part_names = tuple(k for k in POLICY_PARTS if k in parts[r0])
    pieces = {"interleaving": interleaving(S.pp, S.virtual_stages), "bubble": bubble}
    for z in stages:
        pieces.update({f"rest@{z}": rest[z], f"dp_comm@{z}": dp[z]})
    for r in policies:
        pieces.update({f"activations@{r}": act[r], **{f"{k}@{r}": v for k, v in parts[r].items()}})
    return pieces, part_names


class LayoutCosts:
    """Memory and step time of every layout of one model and setting, built and compiled once.

    ``stages`` and ``policies`` are the ZeRO stages and recompute policies that can occur; ``costs``
    and ``common`` the planner's cost and memory settings (numbers).
    """

    def __init__(self, model, stages: tuple, policies: tuple, costs: dict, common: dict) -> None:
        self.stages, self.policies = tuple(stages), tuple(policies)
        self.pieces, self.part_names = build_pieces(model, self.stages, self.policies, costs, common)
        self.time_names = self.part_names + ("pipeline_bubble", "dp_comm")
        self._float = compile_breakdown(Breakdown(self.pieces), ARGS, total=False)
        # exact functions compiled on first use, one per (z, r): a re-check of the best rows needs only a few
        self._exact: dict = {}
        self._model_flops = None

    def _exact_function(self, z: int, r: str) -> "_ExactFunction":
        fn = self._exact.get((z, r))
        if fn is None:
            pieces = self.pieces
            # what every re-checked row needs first (its fit and rank), then the time parts, raw until asked for
            exprs = {"memory": combine.memory(pieces, z, r, 0),
                     "memory_interleaved": combine.memory(pieces, z, r, pieces["interleaving"]),
                     "step_time": combine.time(pieces, self.part_names, z, r),
                     **combine.parts(pieces, self.part_names, z, r)}
            fn = self._exact[(z, r)] = _ExactFunction(exprs, 3)
        return fn

    def model_flops(self, model, common: dict) -> Any:
        """The model FLOPs of one step (no recompute), exact: the numerator of every row's MFU (built once)."""
        if self._model_flops is None:
            from .flops import training_flops

            self._model_flops = to_exact(training_flops(model, seq_len=common["seq_len"],
                                                        batch=common["global_batch"]).total)
        return self._model_flops

    def floats(self, columns: list) -> "FloatCosts":
        """Every piece in float64 over candidate columns (t, p, d, e, b, v, L_s: arrays or numbers)."""
        return FloatCosts(self, dict(zip(self._float.names, self._float(*columns))), columns)

    def exact(self, values: tuple, z: int, r: str) -> tuple:
        """(memory [bytes], {part: seconds}, total seconds) of one layout (a tuple of ints), exact (int or Fraction).

        :func:`~symcalc.steptime.layout_memory` and :func:`~symcalc.steptime.step_time` assembled from the
        pieces as sympy expressions, compiled once per (z, r) on the exact path.
        """
        memory, interleaved, total, *parts = self._exact_function(z, r)(*values)
        return (interleaved if values[5] != 1 else memory), dict(zip(self.time_names, parts)), total


class _ExactFunction:
    """The exact path of a tuple of expressions: integer code (:mod:`symcalc._intcode`) for int arguments,
    as :class:`~symcalc.numeric.CompiledExpr` runs it, without compiling its Fraction function unless an
    argument needs it (the planner's degrees are ints; the integer code alone compiles in about a third of
    the time). The outputs from ``raw_from`` on are finished (reduced to an int or Fraction) only by
    :meth:`__call__`; :meth:`raw` leaves them as (numerator, denominator) pairs for :func:`~symcalc._intcode.finish`.
    """

    def __init__(self, exprs: dict, raw_from: int) -> None:
        from ._intcode import Unsupported, int_function

        self.exprs, self.raw_from = exprs, raw_from
        try:
            self._int = int_function(ARGS, tuple(exprs.values()), raw_from)[0]
        except Unsupported:
            self._int = None
        self._fraction = None

    def raw(self, *values: Any) -> tuple:
        """The outputs before ``raw_from`` as int/Fraction, the others as (numerator, denominator) pairs."""
        if self._int is not None:
            out = self._int(*values)
            if out is not SLOW:
                return out
        if self._fraction is None:
            self._fraction = compile_breakdown(Breakdown(self.exprs), ARGS, exact=True, total=False)
        out = tuple(Fraction(x) for x in self._fraction(*values))
        k = self.raw_from
        return tuple(x.numerator if x.denominator == 1 else x for x in out[:k]) + tuple(
            (x.numerator, x.denominator) for x in out[k:])

    def __call__(self, *values: Any) -> tuple:
        out, k = self.raw(*values), self.raw_from
        return out[:k] + tuple(finish(n, d) for n, d in out[k:])


class FloatCosts:
    """The float64 pieces of one set of candidates; memory and time per ZeRO stage and recompute policy."""

    def __init__(self, costs: LayoutCosts, pieces: dict, columns: list) -> None:
        self.costs, self.pieces = costs, pieces
        v = columns[5]
        self._interleaved = pieces["interleaving"] * (v != 1)

    def memory(self, z: int, r: str):
        return combine.memory(self.pieces, z, r, self._interleaved)

    def time(self, z: int, r: str):
        return combine.time(self.pieces, self.costs.part_names, z, r)


def float_pass(model, layouts: list, recompute: tuple, costs: dict, common: dict, budget: Any, np: Any) -> tuple:
    """The planner's float64 pass over every candidate (layouts as :func:`symcalc.plan._layouts` yields them).

    Returns (cost model or None, rows (t, p, d, e, b, v, L_s), the (z, r) list, the candidates that fit
    fastest first as (times, row indices, (z, r) indices), how many candidates, the least memory of any
    (exact: the float64 leanest candidates re-checked with the exact path; None without candidates).
    """
    from .steptime import ZERO_STAGES

    costs_model = None
    in_use = tuple(z for z in ZERO_STAGES if any(z in row[6] for row in layouts))
    found_time, found_index, found_setting = [], [], []  # per (z, r) block: what fits
    settings_zr = [(z, r) for z in ZERO_STAGES for r in recompute]
    least = None  # least memory of any candidate (float64 bytes)
    lean = []  # per (z, r) block: (its least memory, [(row index, (z, r) index) within 1e-9 of it])
    n_candidates = 0
    rows = [(t, p, d, e, b, v, layers) for t, p, d, e, b, v, zs, layers in layouts]
    if layouts:
        costs_model = layout_costs(model, in_use, recompute, costs, common)
        ceiling = float(budget) * (1 + 1e-12)
        if np is not None:
            pieces = costs_model.floats([np.asarray(c, dtype=np.float64) for c in zip(*rows)])
            for z in in_use:
                allowed = np.fromiter((z in row[6] for row in layouts), dtype=bool, count=len(layouts))
                index = np.nonzero(allowed)[0]
                for r in recompute:
                    n_candidates += len(index)
                    mem = pieces.memory(z, r)[index]
                    leanest = np.where(np.isfinite(mem), mem, np.inf).min(initial=np.inf)
                    least = leanest if least is None else min(least, leanest)
                    k = settings_zr.index((z, r))
                    lean.append((leanest, [(i, k) for i in index[np.nonzero(mem <= leanest * (1 + 1e-9))[0]].tolist()]))
                    ok = np.nonzero(mem <= ceiling)[0]
                    found_time.append(pieces.time(z, r)[index][ok])
                    found_index.append(index[ok])
                    found_setting.append(np.full(len(ok), settings_zr.index((z, r))))
        else:
            for i, (row, layout) in enumerate(zip(rows, layouts)):
                pieces = costs_model.floats(list(row))
                for z, r in itertools.product(layout[6], recompute):
                    n_candidates += 1
                    mem, time = pieces.memory(z, r), pieces.time(z, r)
                    if mem == mem:
                        least = mem if least is None else min(least, mem)
                        lean.append((mem, [(i, settings_zr.index((z, r)))]))
                    if mem <= ceiling:
                        found_time.append([time])
                        found_index.append([i])
                        found_setting.append([settings_zr.index((z, r))])
    # candidates that fit, fastest first (float64): time, row index, (z, r) index
    if np is not None and found_time:
        times = np.concatenate(found_time)
        order = np.argsort(times, kind="stable")
        found = (times[order].tolist(), np.concatenate(found_index)[order].tolist(),
                 np.concatenate(found_setting)[order].tolist())
    else:
        flat = sorted(zip(itertools.chain(*found_time), itertools.chain(*found_index),
                          itertools.chain(*found_setting)), key=lambda x: x[0])
        found = tuple(map(list, zip(*flat))) if flat else ([], [], [])
    if least is not None and least != float("inf"):
        near = [ik for value, block in lean if value <= least * (1 + 1e-9) for ik in block]
        least = min(_exact_memory(costs_model, rows[i], *settings_zr[k]) for i, k in near)
    else:
        least = None
    return costs_model, rows, settings_zr, found, n_candidates, least


def _exact_memory(costs_model: LayoutCosts, values: tuple, z: int, r: str) -> Any:
    """A layout's memory, exact: with the (z, r)'s compiled function when there is one, else with memory alone
    (the leanest candidate's (z, r) is seldom among the fastest: a third of the compile time)."""
    fn = costs_model._exact.get((z, r))
    if fn is None:
        fn = costs_model._exact.get(("memory", z, r))
        if fn is None:
            pieces = costs_model.pieces
            fn = costs_model._exact[("memory", z, r)] = _ExactFunction(
                {"memory": combine.memory(pieces, z, r, 0),
                 "memory_interleaved": combine.memory(pieces, z, r, pieces["interleaving"])}, 2)
    memory, interleaved = fn.raw(*values)[:2]
    return interleaved if values[5] != 1 else memory


def exact_pass(found: tuple, rows: list, settings_zr: list, costs_model: LayoutCosts, budget: Any, cutoff: float,
               want: int, make_row: Any, *, B: int, n: int, model_flops: Any, peak: Any) -> list:
    """Re-check the rows fastest first (float64) with the exact path until ``want`` fit and the rest are slower;
    the rows (``make_row``) sorted exactly by (step time, memory, t, p, e, v, z, r, b).

    Per row only the memory and the step time are finished to an int or Fraction; the time parts stay
    (numerator, denominator) pairs for the row to reduce when they are read, the MFU a function of the
    step time (most rows of a long plan are never printed)."""
    out = []
    functions: dict = {}
    names = costs_model.time_names
    for time, i, k in zip(*found):
        if time > cutoff and len(out) >= want:
            break
        fn = functions.get(k)
        if fn is None:  # the integer code itself where there is one (the planner's degrees are ints), else raw
            exact = costs_model._exact_function(*settings_zr[k])
            fn = functions[k] = (exact._int, exact.raw) if exact._int is not None else (exact.raw, exact.raw)
        values = rows[i]
        out_row = fn[0](*values)
        if out_row is SLOW:
            out_row = fn[1](*values)
        memory, interleaved, total, *parts = out_row
        t, p, d, e, b, v, layers = values
        if v != 1:
            memory = interleaved
        if memory > budget:
            continue
        z, r = settings_zr[k]
        out.append(((total, memory, t, p, e, v, z, r, b),
                    make_row(t, p, d, e, z, r, b, B // (b * d), memory, total, (names, parts), v, layers,
                             _mfu(model_flops, peak, n, total))))
    out.sort(key=_first)
    return [row for _, row in out]


def _first(item: tuple) -> Any:
    return item[0]


def _mfu(model_flops: Any, peak: Any, n: int, total: Any):
    """model FLOPs / (n · peak · step time), computed when first asked for (most rows' MFU is never printed)."""
    return lambda: model_flops / (peak * n * total)


def to_exact(value: Any) -> Any:
    """A sympy rational (or Quantity) as an int or Fraction (the exact path's numbers)."""
    value = getattr(value, "exact", value)
    return value.p if value.q == 1 else Fraction(int(value.p), int(value.q))


def _deferred_class():
    from sympy import Rational

    from .display import Quantity

    slot = Quantity.__dict__["exact"]  # the base class's slot

    class Deferred(Quantity):
        """A :class:`~symcalc.display.Quantity` of the planner's rows: an int or Fraction until its sympy
        value is asked for (most of a long plan's rows are never printed)."""

        __slots__ = ("_number",)

        def __init__(self, number: Any, unit: str) -> None:
            object.__setattr__(self, "_number", number)
            object.__setattr__(self, "unit", unit)

        @property
        def exact(self):
            try:
                return slot.__get__(self, Quantity)
            except AttributeError:
                n = self.number
                value = Integer(n) if isinstance(n, int) else Rational(n.numerator, n.denominator)
                slot.__set__(self, value)
                return value

        @property
        def number(self) -> Any:
            """The exact value as an int or Fraction (a deferred one, such as a row's MFU, computed now)."""
            n = self._number
            if callable(n):
                n = n()
                object.__setattr__(self, "_number", n)
            return n

        def __float__(self) -> float:
            return float(self.number)

    return Deferred


_CACHE: "OrderedDict[tuple, tuple]" = OrderedDict()
_Deferred = _deferred_class()
#: An exact-path number (int or Fraction, or a function computing one) as a display Quantity whose sympy value
#: is made on first use: ``exact_quantity(value, unit)``.
exact_quantity = _Deferred


def layout_costs(model, stages: tuple, policies: tuple, costs: dict, common: dict) -> LayoutCosts:
    """:class:`LayoutCosts`, cached for the same model, settings and active defaults (a few entries)."""
    from .defaults import active

    defaults = active()
    key = (model, tuple(stages), tuple(policies), tuple(sorted(costs.items())), tuple(sorted(
        (k, repr(v)) for k, v in common.items())), id(defaults))
    try:
        hit = _CACHE.get(key)
    except TypeError:  # something unhashable in the settings: build without caching
        return LayoutCosts(model, stages, policies, costs, common)
    if hit is not None and hit[0] is defaults:
        _CACHE.move_to_end(key)
        return hit[1]
    built = LayoutCosts(model, stages, policies, costs, common)
    _CACHE[key] = (defaults, built)
    if len(_CACHE) > 16:
        _CACHE.popitem(last=False)
    return built
