"""The planner: every parallel layout that fits in memory, ranked by estimated step time.

A layout is (t, p, d, e, v, z, r, b): tensor-, pipeline-, data- and expert-parallel degrees with
``t·p·d = n`` devices, model chunks per pipeline rank (interleaved 1F1B), ZeRO stage, recompute
policy and micro-batch, **as a framework allows** (:mod:`symcalc.frameworks`: Megatron by default;
DeepSpeed's pipelines take ZeRO ≤ 1, FSDP2's ZeRO 2 with pipelines, interleaving where the
framework has it). It *fits* when :func:`symcalc.training_memory` of its fullest stage is at most
the memory budget (interleaving adds Korthikanti et al. 2022 §4.2.3's (p − 1)/(p·v) of the
activations); it is *ranked* by :func:`step_time` (:mod:`symcalc.steptime`): compute at an
**efficiency model** (:mod:`symcalc.efficiency`) instead of one MFU, TP all-reduces on the
scale-up link, pipeline sends and DP/ZeRO traffic on the scale-out NIC once the job spans nodes
(``node_size`` devices, from the hardware entry), the interleaved bubble (p − 1)/(v·m).

Candidates are evaluated vectorized (:mod:`symcalc._plancost`): memory and time are built once per
model and setting as sympy expressions in the degrees, in pieces that depend on the ZeRO stage or on
the recompute policy only, compiled to one float64 function over arrays of every candidate. The
best rows are then re-checked and re-ranked with the exact path (the same expressions compiled to
int/Fraction code), so a tie or a budget met to the byte is decided exactly.

>>> from symcalc import Model
>>> res = plan(Model.preset("llama-2-7b"), n_devices=8, memory=80 * 2**30, peak_flops=989 * 10**12,
...            seq_len=4096, global_batch=64, top=3)
>>> [(r.tp, r.pp, r.dp, r.zero_stage, r.recompute, r.micro_batch, r.virtual_stages) for r in res.rows]
[(1, 2, 4, 1, 'none', 2, 8), (1, 1, 8, 1, 'none', 1, 1), (1, 2, 4, 1, 'none', 1, 8)]
"""

from __future__ import annotations

import gc
import itertools
from dataclasses import dataclass, field
from typing import Any, Optional

from sympy import Expr, Integer

from . import defaults as _defaults
from .display import html_table, latex_number, quantity, readable
from .errors import SymcalcError
from .inputs import as_bool, as_choice, as_expr, as_fraction, as_int, as_model, as_positive, as_size
from . import _plancombine as combine
from ._plancost import exact_pass, exact_quantity as _q, float_pass, to_exact

from .steptime import RECOMPUTE, ZERO_STAGES, layout_memory, step_time

__all__ = ["step_time", "layout_memory", "candidates", "plan", "PlanRow", "PlanResult", "DEFAULTS"]

#: The cost model's constants come from :mod:`symcalc.defaults` (``bandwidth_tp``, ``bandwidth_dp``,
#: ``bandwidth_ep``, ``max_tp``, ``max_micro_batch``; ``mfu`` only when a fixed MFU is asked for); this
#: view of today's set is kept for readers of the old name.
DEFAULTS = {k: _defaults.TODAY[k] for k in ("mfu", "bandwidth_tp", "bandwidth_dp", "bandwidth_ep", "max_tp",
                                             "max_micro_batch")}


def precision_recipe_check(precision: Any) -> None:
    """A recipe name or Precision (one-line error otherwise)."""
    from .memory import precision_recipe

    precision_recipe(precision)


def _stages(zero_stages: Any) -> tuple:
    """ZeRO stages to consider: one stage or a list of them, each 0-3, each once."""
    items = [zero_stages] if not isinstance(zero_stages, (list, tuple, set, frozenset, range)) else list(zero_stages)
    out = []
    for z in items:
        if isinstance(z, bool) or z not in ZERO_STAGES:
            raise SymcalcError(f"zero_stages: {z!r:.60} is not a ZeRO stage; use 0, 1, 2 or 3")
        if int(z) in out:
            raise SymcalcError(f"zero_stages: stage {int(z)} is given twice; list each stage once")
        out.append(int(z))
    if not out:
        raise SymcalcError("zero_stages is empty; give at least one of 0, 1, 2, 3")
    return tuple(out)


def _policies(recompute: Any) -> tuple:
    """Recompute policies to consider: one name or a list of them, each once."""
    items = [recompute] if isinstance(recompute, str) or not isinstance(recompute, (list, tuple, set, frozenset)) \
        else list(recompute)
    out = []
    for r in items:
        as_choice("recompute", r, RECOMPUTE)
        if r in out:
            raise SymcalcError(f"recompute: {r!r} is given twice; list each policy once")
        out.append(r)
    if not out:
        raise SymcalcError("recompute is empty; give at least one of " + ", ".join(RECOMPUTE))
    return tuple(out)


def candidates(model, *, n_devices: int, global_batch: int, max_tp: Optional[int] = None,
               max_micro_batch: Optional[int] = None, zero_stages=None, recompute=("none", "selective", "full"),
               framework: Optional[str] = None, max_virtual_stages: Optional[int] = None) -> list[dict]:
    """Every layout the planner considers, as dicts (t·p·d = n; the degrees fit the model and the framework).

    Degrees as :func:`symcalc.frameworks.layouts`; ZeRO stages those the framework offers (with or
    without pipelines; with d = 1 only the lowest, as ZeRO then shards nothing); chunks per rank v
    as :func:`symcalc.frameworks.virtual_stages`.

    >>> from symcalc import Model
    >>> len(candidates(Model.preset("llama-2-7b"), n_devices=8, global_batch=64))
    621
    """
    model = as_model("model", model)
    if model.free_symbols:
        raise SymcalcError("candidates needs a numeric model; substitute " + ", ".join(sorted(map(str, model.free_symbols))))
    n_devices, global_batch = as_int("n_devices", n_devices), as_int("global_batch", global_batch)
    fw, max_tp, max_b, max_v = _limits(framework, max_tp, max_micro_batch, max_virtual_stages)
    stages = None if zero_stages is None else _stages(zero_stages)
    recompute = _policies(recompute)
    out = []
    for t, p, d, e, b, v, zs, layers in _layouts(model, n_devices, global_batch, fw, max_tp, max_b, max_v, stages):
        for z, r in itertools.product(zs, recompute):
            out.append(dict(tp=t, pp=p, dp=d, ep=e, virtual_stages=v, zero_stage=z, recompute=r, micro_batch=b))
    return out


def _limits(framework: Any, max_tp: Any, max_micro_batch: Any, max_virtual_stages: Any) -> tuple:
    from .defaults import resolve
    from .frameworks import get_framework

    return (get_framework(framework), as_int("max_tp", resolve("max_tp", max_tp)),
            as_int("max_micro_batch", resolve("max_micro_batch", max_micro_batch)),
            as_int("max_virtual_stages", resolve("max_virtual_stages", max_virtual_stages)))


def _layouts(model, n: int, B: int, fw, max_tp: int, max_b: int, max_v: int, stages: Optional[tuple]):
    """(t, p, d, e, b, v, ZeRO stages, layers of the fullest stage) of every candidate layout."""
    from .frameworks import _candidate_layouts

    return _candidate_layouts(int(model.n_layers), int(model.n_heads), int(model.n_kv_heads), int(model.n_experts), n,
                             B, fw, max_tp, max_b, max_v, stages)


def _get_time_parts(row: "PlanRow") -> dict:
    """Step time by part [s]: compute, TP/EP/PP traffic, the pipeline bubble, DP traffic."""
    parts = row.__dict__["_time_parts"]
    if isinstance(parts, tuple):  # from the planner's exact pass: (names, raw pairs), reduced on first read
        from ._intcode import finish

        names, pairs = parts
        parts = row.__dict__["_time_parts"] = {k: _q(finish(n, d), "s") for k, (n, d) in zip(names, pairs)}
    return parts


def _set_time_parts(row: "PlanRow", value: Any) -> None:
    """Set the parts (a dict of part -> seconds)."""
    row.__dict__["_time_parts"] = value


@dataclass
class PlanRow:
    """One layout that fits: degrees, settings, exact memory [bytes], step time [s] by part, and the
    MFU it implies (the model FLOPs of a step over n · peak · step time)."""

    tp: int
    pp: int
    dp: int
    ep: int
    zero_stage: int
    recompute: str
    micro_batch: int
    n_microbatches: int
    memory: Expr
    step_time: Expr
    time_parts: dict = field(default_factory=dict)
    virtual_stages: int = 1
    layers_per_stage: Optional[int] = None
    mfu: Optional[Expr] = None

    def __post_init__(self) -> None:
        for name in ("tp", "pp", "dp", "ep", "micro_batch", "n_microbatches", "virtual_stages"):
            setattr(self, name, as_int(f"PlanRow.{name}", getattr(self, name)))
        if self.layers_per_stage is not None:
            self.layers_per_stage = as_int("PlanRow.layers_per_stage", self.layers_per_stage)
        self.zero_stage = _stages(self.zero_stage)[0]
        as_choice("PlanRow.recompute", self.recompute, RECOMPUTE)
        # Quantities once numbers (symcalc.display): exact underneath, GiB and seconds when printed.
        self.memory = quantity(as_expr("PlanRow.memory", self.memory), "bytes")
        self.step_time = quantity(as_expr("PlanRow.step_time", self.step_time), "s")
        if self.mfu is not None:
            self.mfu = quantity(as_fraction("PlanRow.mfu", self.mfu), "%")
        if not isinstance(self.time_parts, dict):
            raise SymcalcError(f"PlanRow.time_parts={self.time_parts!r:.60} is not a dict of part -> seconds")
        self.time_parts = {k: quantity(as_expr(f"PlanRow.time_parts[{k!r}]", v), "s") for k, v in self.time_parts.items()}

    @classmethod
    def _exact(cls, tp: int, pp: int, dp: int, ep: int, zero_stage: int, recompute: str, micro_batch: int,
               n_microbatches: int, memory: Any, step_time: Any, time_parts: dict, virtual_stages: int,
               layers_per_stage: int, mfu: Any) -> "PlanRow":
        """A row from the planner's own checked numbers (ints and exact-path int/Fraction): no re-validation.

        ``time_parts`` may be (names, (numerator, denominator) pairs), reduced when first read."""
        row = object.__new__(cls)
        row.__dict__.update(tp=tp, pp=pp, dp=dp, ep=ep, zero_stage=zero_stage, recompute=recompute,
                            micro_batch=micro_batch, n_microbatches=n_microbatches,
                            memory=_q(memory, "bytes"), step_time=_q(step_time, "s"), _time_parts=time_parts,
                            virtual_stages=virtual_stages, layers_per_stage=layers_per_stage,
                            mfu=_q(mfu, "%"))
        return row

    def as_dict(self) -> dict:
        """JSON-ready: memory rounded up to whole bytes, times as float seconds, MFU as a fraction."""
        from .cli._plan_output import row_dict

        return row_dict(self)


# time parts behind a property (a dataclass field all the same): the planner's rows reduce them when first read
PlanRow.time_parts = property(_get_time_parts, _set_time_parts, doc="Step time by part [s].")


@dataclass
class PlanResult:
    """What :func:`plan` found: the best rows, and how many candidates there were and fit."""

    rows: list
    n_candidates: int
    n_fit: int
    settings: dict
    #: Bytes per device of the candidate needing the least memory (its exact value as a float; None without
    #: candidates),
    #: so "nothing fits" can say by how much.
    least_memory: Optional[float] = None

    def __post_init__(self) -> None:
        if not isinstance(self.rows, list) or not all(isinstance(r, PlanRow) for r in self.rows):
            raise SymcalcError(f"PlanResult.rows={self.rows!r:.60} is not a list of PlanRow")
        self.n_candidates = as_int("PlanResult.n_candidates", self.n_candidates, minimum=0)
        self.n_fit = as_int("PlanResult.n_fit", self.n_fit, minimum=0)
        if not isinstance(self.settings, dict):
            raise SymcalcError(f"PlanResult.settings={self.settings!r:.60} is not a dict")
        if self.least_memory is not None:
            self.least_memory = float(as_expr("PlanResult.least_memory", self.least_memory))

    _HEADER = ("tp", "pp", "dp", "ep", "v", "ZeRO", "recompute", "b", "m", "memory", "step time", "MFU", "compute",
               "bubble", "comm")

    def _table(self) -> list[tuple]:
        """One row per configuration, readable (memory in GiB, times in s)."""
        out = []
        for r in self.rows:
            parts = {k: float(v) for k, v in r.time_parts.items()}
            comm = sum(v for k, v in parts.items() if k.endswith("_comm"))
            out.append((r.tp, r.pp, r.dp, r.ep, r.virtual_stages, r.zero_stage, r.recompute, r.micro_batch,
                        r.n_microbatches, readable(r.memory, "bytes"), readable(r.step_time, "s"),
                        "-" if r.mfu is None else readable(r.mfu, "%"), readable(parts["compute"], "s"),
                        readable(parts["pipeline_bubble"], "s"), readable(comm, "s")))
        return out

    def _title(self) -> str:
        st = self.settings
        mem = readable(st["memory"], "bytes") if "memory" in st else "?"
        return (f"{self.n_fit} of {self.n_candidates} configurations fit on {st.get('n_devices', '?')} devices x "
                f"{mem}" + (f"; fastest {len(self.rows)}" if self.rows else ""))

    def __str__(self) -> str:
        if not self.rows:
            least = "" if self.least_memory is None else f"; the leanest needs {readable(self.least_memory, 'bytes')}"
            return self._title() + ": nothing fits" + least
        rows = [tuple(map(str, self._HEADER))] + [tuple(map(str, r)) for r in self._table()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self._HEADER))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join([self._title()] + lines)

    def _repr_html_(self) -> str:
        return html_table(self._table(), header=self._HEADER, title=self._title(),
                          note="memory per device (GiB = 2^30 bytes); seconds per step; comm = TP + EP + PP + DP")

    def _repr_latex_(self) -> str:
        if not self.rows:
            return r"$\text{nothing fits}$"
        r = self.rows[0]
        return (rf"$\text{{fastest: }} t={r.tp},\ p={r.pp},\ d={r.dp},\ v={r.virtual_stages},\ z={r.zero_stage},\ "
                rf"\text{{{r.recompute}}},\ b={r.micro_batch}:\ {latex_number(r.memory, 'bytes')},\ "
                rf"{latex_number(r.step_time, 's')}\text{{ per step}}$")


def plan(model, *, n_devices: int, memory: Any, peak_flops: Any, seq_len: Any = None, global_batch: Any = None,
         mfu: Any = None, kernel_efficiency: Any = None, gemm_half_size: Any = None, bandwidth_tp: Any = None,
         bandwidth_dp: Any = None, bandwidth_ep: Any = None, node_size: Optional[int] = None,
         framework: Optional[str] = None, max_tp: Optional[int] = None, max_micro_batch: Optional[int] = None,
         max_virtual_stages: Optional[int] = None, zero_stages=None, recompute=("none", "selective", "full"),
         precision: Any = None, flash_attention: Optional[bool] = None, sequence_parallel: Optional[bool] = None,
         dropout: Optional[bool] = None, allgather_bucket: Any = None, max_live_params: Any = None,
         top: Optional[int] = 10) -> PlanResult:
    """The layouts that fit in ``memory`` bytes per device, fastest first (see the module).

    Parameters
    ----------
    model : Model
        Numeric sizes.
    n_devices : int
        Devices n.
    memory : bytes
        Memory per device.
    peak_flops : FLOP/s
        Peak per device.
    seq_len, global_batch : int
        s [tokens] and B [sequences per step] (defaults: :mod:`symcalc.defaults`).
    mfu : fraction, optional
        A fixed fraction of the peak for every layout; None (default): the efficiency model
        (``kernel_efficiency``, ``gemm_half_size``: :mod:`symcalc.efficiency`).
    bandwidth_tp, bandwidth_dp, bandwidth_ep : bytes/s
        The scale-up link W_t; the scale-out NIC per device for DP and EP.
    node_size : int, optional
        Devices per scale-up domain (default ``max_tp``): TP stays inside it; pipeline sends and
        DP/EP traffic use the scale-out bandwidth when n exceeds it, the scale-up link otherwise.
    framework : str
        ``"megatron"`` (default), ``"deepspeed"``, ``"fsdp"`` or ``"any"`` (:mod:`symcalc.frameworks`).
    max_tp, max_micro_batch, max_virtual_stages, zero_stages, recompute
        Which candidates to consider.
    precision, flash_attention, sequence_parallel, dropout, allgather_bucket, max_live_params
        As :func:`symcalc.training_memory` (sequence parallelism applies to rows with t > 1).
    top : int, optional
        How many rows to return (None: all that fit).

    Notes
    -----
    Every ``None`` takes the active default of :mod:`symcalc.defaults`.
    """
    from .defaults import resolve

    np = None
    try:
        import numpy as np
    except ImportError:
        pass
    model = as_model("model", model)
    if model.free_symbols:
        raise SymcalcError("plan needs a numeric model; substitute " + ", ".join(sorted(map(str, model.free_symbols))))
    n = as_int("n_devices", n_devices)
    B = as_int("global_batch", resolve("global_batch", global_batch))
    fw, max_tp, max_b, max_v = _limits(framework, max_tp, max_micro_batch, max_virtual_stages)
    node = max_tp if node_size is None else as_int("node_size", node_size)
    max_tp = min(max_tp, node)
    stages = None if zero_stages is None else _stages(zero_stages)
    if stages is not None and not set(stages) & set(fw.zero_stages):
        raise SymcalcError(f"zero_stages={list(stages)}: {fw.name} offers ZeRO {', '.join(map(str, fw.zero_stages))}; "
                           "pick those or another --framework")
    recompute = _policies(recompute)
    top = None if top is None else as_int("top", top)
    flash_attention = as_bool("flash_attention", resolve("flash_attention", flash_attention))
    precision = resolve("precision", precision)
    budget = as_positive("memory", memory, unit="bytes")
    w_tp = as_positive("bandwidth_tp", resolve("bandwidth_tp", bandwidth_tp))
    w_out = as_positive("bandwidth_dp", resolve("bandwidth_dp", bandwidth_dp))
    w_ep = as_positive("bandwidth_ep", resolve("bandwidth_ep", bandwidth_ep))
    cross = n > node  # the job spans scale-up domains: DP, PP and EP traffic crosses the NIC
    costs = dict(peak_flops=as_positive("peak_flops", peak_flops), bandwidth_tp=w_tp,
                 bandwidth_dp=w_out if cross else w_tp, bandwidth_pp=w_out if cross else w_tp,
                 bandwidth_ep=w_ep if cross else w_tp)
    if mfu is not None:
        costs["mfu"] = as_fraction("mfu", mfu)
    else:
        costs["kernel_efficiency"] = as_fraction("kernel_efficiency", resolve("kernel_efficiency", kernel_efficiency))
        costs["gemm_half_size"] = as_positive("gemm_half_size", resolve("gemm_half_size", gemm_half_size))
    for name, value in (("memory", budget), *costs.items()):
        if not value.is_number:
            raise SymcalcError(f"{name}={value} is symbolic; plan needs numbers")
    precision_recipe_check(precision)
    common = memory_settings(model, seq_len=seq_len, global_batch=Integer(B), precision=precision,
                             flash_attention=flash_attention, sequence_parallel=sequence_parallel, dropout=dropout,
                             allgather_bucket=allgather_bucket, max_live_params=max_live_params)
    if not common["seq_len"].is_number:
        raise SymcalcError(f"seq_len={common['seq_len']} is symbolic; plan needs numbers")
    # Lists of many small objects, none cyclic: the cyclic collector's passes over every live sympy object
    # (triggered by the allocations) would cost more than the work.
    collect = gc.isenabled()
    gc.disable()
    try:
        return _plan(model, n, B, fw, max_tp, max_b, max_v, stages, recompute, top, budget, costs, common, node,
                     cross, w_tp, precision, flash_attention, np)
    finally:
        if collect:
            gc.enable()


def memory_settings(model, *, seq_len: Any, global_batch: Any, precision: Any = None, flash_attention: Any = None,
                    sequence_parallel: Any = None, dropout: Any = None, allgather_bucket: Any = None,
                    max_live_params: Any = None) -> dict:
    """The settings :func:`plan` builds its cost model with (each None: the active default); also what the
    sympy-free ``symcalc plan`` path's code is generated from (``symcalc._fastgen_plan``)."""
    from .defaults import dropout_for, resolve

    return dict(seq_len=as_size("seq_len", resolve("seq_len", seq_len)), global_batch=global_batch,
                precision=resolve("precision", precision),
                flash_attention=as_bool("flash_attention", resolve("flash_attention", flash_attention)),
                sequence_parallel=as_bool("sequence_parallel", resolve("sequence_parallel", sequence_parallel)),
                dropout=dropout_for(model, dropout), allgather_bucket=resolve("allgather_bucket", allgather_bucket),
                max_live_params=resolve("max_live_params", max_live_params))


def _plan(model, n: int, B: int, fw, max_tp: int, max_b: int, max_v: int, stages, recompute: tuple, top, budget,
          costs: dict, common: dict, node: int, cross: bool, w_tp, precision, flash_attention, np) -> PlanResult:
    """:func:`plan` once its inputs are checked: the float64 pass over every candidate, the exact pass."""
    from .defaults import active

    layouts = list(_layouts(model, n, B, fw, max_tp, max_b, max_v, stages))
    costs_model, rows, settings_zr, found, n_candidates, least = float_pass(model, layouts, recompute, costs, common,
                                                                            budget, np)
    n_fit = len(found[0])
    model_flops = costs_model.model_flops(model, common) if layouts else None  # per step, no recompute
    peak_total = to_exact(costs["peak_flops"])
    settings = combine.settings(n=n, global_batch=B, budget=budget, costs=costs, common=common, framework=fw.name, node=node,
                                cross=cross, w_tp=w_tp, max_tp=max_tp, max_b=max_b, max_v=max_v, precision=precision,
                                flash_attention=flash_attention, defaults=active().name)
    least = None if least is None else float(least)
    if not n_fit:
        return PlanResult([], n_candidates, 0, settings, least)
    budget_exact = to_exact(budget)

    # Exact pass over every row that could be among the best: re-check the fit, rank exactly.
    want = n_fit if top is None else top
    cutoff = found[0][min(want, n_fit) - 1] * (1 + 1e-9)
    exact_rows = exact_pass(found, rows, settings_zr, costs_model, budget_exact, cutoff, want, PlanRow._exact,
                            B=B, n=n, model_flops=model_flops, peak=peak_total)
    return PlanResult(exact_rows[:want], n_candidates, n_fit, settings, least)

