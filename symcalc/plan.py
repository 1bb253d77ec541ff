"""The planner: every parallel configuration that fits in memory, ranked by estimated step time.

A configuration is (t, p, d, e, z, r, b): tensor-, pipeline-, data- and expert-parallel degrees
with ``t·p·d = n`` devices, ZeRO stage, recompute policy and micro-batch. It *fits* when
:func:`symcalc.training_memory` per device is at most the memory budget; it is *ranked* by
:func:`step_time`, a simple cost model written once, here, as a sympy expression:

.. math::

    T = \\underbrace{\\frac{B\\,F_{\\mathrm{seq}}}{n\\,F_{\\mathrm{peak}}\\,\\mathrm{MFU}}}_{\\text{compute}}
      + T_{\\mathrm{TP}} + T_{\\mathrm{EP}}
      + \\underbrace{\\frac{p-1}{m}\\,(\\text{compute} + T_{\\mathrm{TP}} + T_{\\mathrm{EP}})}_{\\text{pipeline bubble}}
      + T_{\\mathrm{DP}}

- compute: hardware FLOPs of the step (:func:`symcalc.training_flops` with the recompute policy,
  B sequences of s tokens) over all n devices at the stated MFU (default 0.4, :mod:`symcalc.defaults`);
- pipeline bubble: 1F1B/GPipe with m = B/(b·d) micro-batches takes (m + p − 1) micro-batch
  times, i.e. a fraction (p − 1)/m on top (Narayanan et al. 2021, §2.2);
- TP all-reduces (Megatron, Shoeybi et al. 2019 §3): 2 per layer in the forward, 2 in the
  backward, 2 more when full recompute reruns the forward; each of β_a·b·s·h bytes, a ring
  all-reduce moving 2(t − 1)/t of it per device at bandwidth W_t; L/p layers per stage, m
  micro-batches;
- EP all-to-alls (MoE): dispatch and combine per MoE layer, forward and backward (and recompute),
  each moving (e − 1)/e of the k·b·s·h·β_a routed activations at W_e;
- DP gradient reduction and ZeRO gathers (Rajbhandari et al. 2020, §7): per parameter element on
  the device, (g − 1)/g times 2β_g (ZeRO 0: all-reduce), β_g + β_w (ZeRO 1-2: reduce-scatter,
  then all-gather of the updated weights) or β_g + 2β_w (ZeRO 3: weights gathered for forward and
  backward), at W_d, with g the group the part is sharded over (d, or d/e for experts); not
  overlapped with compute.

Not modelled: overlap of communication with compute, pipeline point-to-point sends, the
imbalance of the first/last pipeline stage, context parallelism. Defaults (:mod:`symcalc.defaults`):
MFU 0.4, W_t = 300 GB/s (NVLink-class, TP kept inside a node of ``max_tp`` = 8 devices), W_d = W_e
= 25 GB/s (one 200 Gb/s NIC per device); memory as :func:`symcalc.training_memory` with the
active defaults (today: sequence parallelism whenever t > 1, flash attention, fp32 gradients).

Candidates are evaluated vectorized: one compiled float64 function (memory and time together)
per ZeRO stage, recompute policy and KV-head regime that occurs among the candidates, arrays over
the degrees and micro-batches.
The best rows are then re-checked and re-ranked with the exact path, so a tie or a budget met to
the byte is decided exactly.

>>> from symcalc import Model
>>> res = plan(Model.preset("llama-2-7b"), n_devices=8, memory=80 * 2**30, peak_flops=989 * 10**12,
...            seq_len=4096, global_batch=64, top=3)
>>> [(r.tp, r.pp, r.dp, r.zero_stage, r.recompute, r.micro_batch) for r in res.rows]
[(1, 8, 1, 0, 'none', 1), (2, 4, 1, 0, 'none', 1), (2, 2, 2, 2, 'none', 1)]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Optional

from sympy import Expr, Integer, divisors

from . import defaults as _defaults
from . import symbols as S
from .breakdown import Breakdown
from .display import html_table, latex_number, quantity, readable
from .errors import SymcalcError
from .inputs import as_bool, as_choice, as_expr, as_fraction, as_int, as_model, as_positive, as_size
from .numeric import compile_breakdown, compile_expr, to_sympy

__all__ = ["step_time", "candidates", "plan", "PlanRow", "PlanResult", "DEFAULTS"]

#: The cost model's constants come from :mod:`symcalc.defaults` (``mfu``, ``bandwidth_tp``,
#: ``bandwidth_dp``, ``bandwidth_ep``, ``max_tp``, ``max_micro_batch``); this view of today's set is
#: kept for readers of the old name.
DEFAULTS = {k: _defaults.TODAY[k] for k in ("mfu", "bandwidth_tp", "bandwidth_dp", "bandwidth_ep", "max_tp",
                                             "max_micro_batch")}
ZERO_STAGES = (0, 1, 2, 3)
RECOMPUTE = ("none", "selective", "full")


def precision_recipe_check(precision: Any) -> None:
    """A recipe name or Precision (one-line error otherwise)."""
    from .memory import precision_recipe

    precision_recipe(precision)


def step_time(model, *, seq_len: Any, global_batch: Any, micro_batch: Any = S.micro_batch, tp: Any = S.tp,
              pp: Any = S.pp, dp: Any = S.dp, ep: Any = None, zero_stage: int = 0, recompute: str = "none",
              peak_flops: Any = S.peak_flops, mfu: Any = S.mfu, bandwidth_tp: Any = S.bandwidth_tp,
              bandwidth_dp: Any = S.bandwidth_dp, bandwidth_ep: Any = S.bandwidth_ep,
              precision: Any = None, causal: Optional[bool] = None) -> Breakdown:
    """Estimated seconds per training step, by part (the cost model of :mod:`symcalc.plan`).

    Parameters
    ----------
    model : Model
    seq_len : s [tokens]; global_batch : B [sequences per step]; micro_batch : b [sequences]
    tp, pp, dp, ep : degrees (``ep`` defaults to the symbol e for MoE, 1 for dense models)
    zero_stage : 0-3; recompute : "none", "selective" or "full"
    peak_flops : F_peak [FLOP/s per device]; mfu : fraction of peak achieved on the FLOPs
    bandwidth_tp, bandwidth_dp, bandwidth_ep : W_t, W_d, W_e [bytes/s per device]
    precision : recipe name or Precision (β_a for activations, β_g and β_w for DP traffic; None: the
        active default of :mod:`symcalc.defaults`)

    Examples
    --------
    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=2, d_ff=32, vocab=10)
    >>> bd = step_time(m, seq_len=4, global_batch=8, micro_batch=1, tp=2, pp=1, dp=2,
    ...                peak_flops=10**6, mfu=1, bandwidth_tp=1000, bandwidth_dp=1000)
    >>> bd.total, bd["tp_comm"]   # TP: m=4 micro-batches x 2 layers x 4 all-reduces x 64 B / 1000 B/s
    (91308/15625, 256/125)

    References
    ----------
    Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters Using
    Megatron-LM", §2.2 (bubble (p-1)/m) and §3 (communication); Rajbhandari et al. 2020, "ZeRO",
    §7 (communication volume 2Ψ for stages 1-2, 3Ψ for stage 3).
    """
    from .flops import training_flops
    from .memory import Parallel, precision_recipe
    from .memory.parallel import parallel_param_parts

    model = as_model("model", model)
    if isinstance(zero_stage, bool) or zero_stage not in ZERO_STAGES:
        raise SymcalcError(f"zero_stage={zero_stage!r:.60} must be 0, 1, 2 or 3 (substitute the stage before costing)")
    zero_stage = int(zero_stage)
    as_choice("recompute", recompute, RECOMPUTE)
    causal = as_bool("causal", _defaults.resolve("causal", causal))
    prec = precision_recipe(precision)
    ep = (S.ep if model.is_moe else Integer(1)) if ep is None else as_size("ep", ep)
    s, B, b = as_size("seq_len", seq_len), as_size("global_batch", global_batch), as_size("micro_batch", micro_batch)
    t, p, d = as_size("tp", tp), as_size("pp", pp), as_size("dp", dp)
    peak_flops, mfu = as_positive("peak_flops", peak_flops), as_fraction("mfu", mfu)
    bandwidth_tp, bandwidth_dp = as_positive("bandwidth_tp", bandwidth_tp), as_positive("bandwidth_dp", bandwidth_dp)
    bandwidth_ep = as_positive("bandwidth_ep", bandwidth_ep)
    n = t * p * d
    m = B / (b * d)  # micro-batches per step
    passes = 3 if recompute == "full" else 2  # forward, backward (+ the recompute forward)
    tokens_mb = b * s
    compute = B * training_flops(model, seq_len=s, batch=1, recompute=recompute, causal=causal).total / (
        n * peak_flops * mfu)
    tp_comm = m * model.n_layers / p * 2 * passes * 2 * (t - 1) / t * prec.act * tokens_mb * model.d_model / bandwidth_tp
    parts = {"compute": compute, "tp_comm": tp_comm}
    if model.is_moe:
        routed = model.top_k * tokens_mb * model.d_model * prec.act
        parts["ep_comm"] = m * model.n_moe_layers / p * 2 * passes * (ep - 1) / ep * routed / bandwidth_ep
    parts["pipeline_bubble"] = (p - 1) / m * sum(parts.values(), Integer(0))
    per_element = {0: 2 * prec.grad, 1: prec.grad + prec.weight, 2: prec.grad + prec.weight,
                   3: prec.grad + 2 * prec.weight}[zero_stage]
    par = Parallel(tp=t, pp=p, dp=d, ep=ep)
    volume = sum(((g - 1) / g * count for count, g in parallel_param_parts(model, par).values()), Integer(0))
    parts["dp_comm"] = per_element * volume / bandwidth_dp
    return Breakdown(parts, unit="", title="step time [s]")


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


def _divisors(n: int) -> list[int]:
    """The divisors of n, ascending (from its factorisation: a global batch can be in the millions)."""
    return [int(k) for k in divisors(n)]


def candidates(model, *, n_devices: int, global_batch: int, max_tp: Optional[int] = None,
               max_micro_batch: Optional[int] = None, zero_stages=ZERO_STAGES,
               recompute=("none", "selective", "full")) -> list[dict]:
    """Every configuration the planner considers, as dicts (t·p·d = n; the degrees fit the model).

    t divides the heads and n (and t | g or g | t), at most ``max_tp``; p divides the layers;
    e (MoE only) divides the experts and d; b·d divides B, b at most ``max_micro_batch``.

    >>> from symcalc import Model
    >>> len(candidates(Model.preset("llama-2-7b"), n_devices=8, global_batch=64))
    456
    """
    model = as_model("model", model)
    n_devices, global_batch = as_int("n_devices", n_devices), as_int("global_batch", global_batch)
    max_tp = as_int("max_tp", _defaults.resolve("max_tp", max_tp))
    max_micro_batch = as_int("max_micro_batch", _defaults.resolve("max_micro_batch", max_micro_batch))
    zero_stages, recompute = _stages(zero_stages), _policies(recompute)
    if model.free_symbols:
        raise SymcalcError("candidates needs a numeric model; substitute " + ", ".join(sorted(map(str, model.free_symbols))))
    out = []
    for fixed in _degree_blocks(model, n_devices, global_batch, max_tp, max_micro_batch):
        t, p, d, e, bs = fixed
        for z, r, b in itertools.product(zero_stages, recompute, bs):
            if d == 1 and z != min(zero_stages):
                continue  # ZeRO shards nothing over one data-parallel rank
            out.append(dict(tp=t, pp=p, dp=d, ep=e, zero_stage=z, recompute=r, micro_batch=b))
    return out


def _degree_blocks(model, n: int, B: int, max_tp: int, max_b: int):
    """(t, p, d, e, micro-batches) for every valid combination of degrees."""
    heads, kv, layers = int(model.n_heads), int(model.n_kv_heads), int(model.n_layers)
    experts = int(model.n_experts)
    for t in _divisors(n):
        if t > max_tp or heads % t or (kv % t and t % kv):
            continue
        for p in _divisors(n // t):
            if layers % p:
                continue
            d = n // (t * p)
            if B % d:
                continue
            bs = [b for b in _divisors(B // d) if b <= max_b]
            eps = [e for e in _divisors(d) if experts % e == 0] if model.is_moe else [1]
            for e in eps:
                yield t, p, d, e, bs


@dataclass
class PlanRow:
    """One configuration that fits: degrees, settings, exact memory [bytes] and step time [s]."""

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

    def __post_init__(self) -> None:
        for name in ("tp", "pp", "dp", "ep", "micro_batch", "n_microbatches"):
            setattr(self, name, as_int(f"PlanRow.{name}", getattr(self, name)))
        self.zero_stage = _stages(self.zero_stage)[0]
        as_choice("PlanRow.recompute", self.recompute, RECOMPUTE)
        # Quantities once numbers (symcalc.display): exact underneath, GiB and seconds when printed.
        self.memory = quantity(as_expr("PlanRow.memory", self.memory), "bytes")
        self.step_time = quantity(as_expr("PlanRow.step_time", self.step_time), "s")
        if not isinstance(self.time_parts, dict):
            raise SymcalcError(f"PlanRow.time_parts={self.time_parts!r:.60} is not a dict of part -> seconds")
        self.time_parts = {k: quantity(as_expr(f"PlanRow.time_parts[{k!r}]", v), "s") for k, v in self.time_parts.items()}

    def as_dict(self) -> dict:
        """JSON-ready: memory rounded up to whole bytes, times as float seconds."""
        out = {k: getattr(self, k) for k in ("tp", "pp", "dp", "ep", "zero_stage", "recompute",
                                              "micro_batch", "n_microbatches")}
        memory = as_expr("memory", self.memory)
        out["memory_bytes"] = int(-(-memory.p // memory.q))
        out["step_time_s"] = float(self.step_time)
        out["time_parts_s"] = {k: float(v) for k, v in self.time_parts.items()}
        return out


@dataclass
class PlanResult:
    """What :func:`plan` found: the best rows, and how many candidates there were and fit."""

    rows: list
    n_candidates: int
    n_fit: int
    settings: dict
    #: Bytes per device of the candidate needing the least memory (float64; None without candidates),
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

    _HEADER = ("tp", "pp", "dp", "ep", "ZeRO", "recompute", "b", "m", "memory", "step time", "compute", "bubble", "comm")

    def _table(self) -> list[tuple]:
        """One row per configuration, readable (memory in GiB, times in s)."""
        out = []
        for r in self.rows:
            parts = {k: float(v) for k, v in r.time_parts.items()}
            comm = sum(v for k, v in parts.items() if k.endswith("_comm"))
            out.append((r.tp, r.pp, r.dp, r.ep, r.zero_stage, r.recompute, r.micro_batch, r.n_microbatches,
                        readable(r.memory, "bytes"), readable(r.step_time, "s"), readable(parts["compute"], "s"),
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
                          note="memory per device (GiB = 2^30 bytes); seconds per step; comm = TP + EP + DP")

    def _repr_latex_(self) -> str:
        if not self.rows:
            return r"$\text{nothing fits}$"
        r = self.rows[0]
        return (rf"$\text{{fastest: }} t={r.tp},\ p={r.pp},\ d={r.dp},\ z={r.zero_stage},\ "
                rf"\text{{{r.recompute}}},\ b={r.micro_batch}:\ {latex_number(r.memory, 'bytes')},\ "
                rf"{latex_number(r.step_time, 's')}\text{{ per step}}$")


def _functions(model, z: int, r: str, t_key: Any, costs: dict, common: dict):
    """Compiled (memory, time) for one ZeRO stage, recompute policy and KV-head regime; plus exact ones."""
    from .memory import training_memory

    ep = S.ep if model.is_moe else Integer(1)
    mem = training_memory(model, micro_batch=S.micro_batch, tp=t_key, pp=S.pp, dp=S.dp, ep=ep, zero_stage=z,
                          recompute=r, sequence_parallel=common["sequence_parallel"], seq_len=common["seq_len"],
                          precision=common["precision"], flash_attention=common["flash_attention"],
                          dropout=common["dropout"], allgather_bucket=common["allgather_bucket"],
                          max_live_params=common["max_live_params"]).total
    time = step_time(model, tp=t_key, ep=ep, zero_stage=z, recompute=r, seq_len=common["seq_len"],
                     global_batch=common["global_batch"], precision=common["precision"], **costs)
    args = (S.tp, S.pp, S.dp, S.ep, S.micro_batch)
    both = compile_breakdown(Breakdown({"memory": mem, "time": time.total}), args, total=False)
    return both, mem, time, args


def plan(model, *, n_devices: int, memory: Any, peak_flops: Any, seq_len: Any = None, global_batch: Any = None,
         mfu: Any = None, bandwidth_tp: Any = None, bandwidth_dp: Any = None, bandwidth_ep: Any = None,
         max_tp: Optional[int] = None, max_micro_batch: Optional[int] = None,
         zero_stages=ZERO_STAGES, recompute=("none", "selective", "full"), precision: Any = None,
         flash_attention: Optional[bool] = None, sequence_parallel: Optional[bool] = None,
         dropout: Optional[bool] = None, allgather_bucket: Any = None, max_live_params: Any = None,
         top: Optional[int] = 10) -> PlanResult:
    """The configurations that fit in ``memory`` bytes per device, fastest first (see the module).

    Parameters
    ----------
    model : Model (numeric sizes)
    n_devices : n; memory : bytes per device; peak_flops : FLOP/s per device
    seq_len : s [tokens]; global_batch : B [sequences per step]
    mfu, bandwidth_tp, bandwidth_dp, bandwidth_ep : the cost model's constants (:data:`DEFAULTS`)
    max_tp, max_micro_batch, zero_stages, recompute : which candidates to consider
    precision, flash_attention, sequence_parallel, dropout, allgather_bucket, max_live_params : as
        :func:`symcalc.training_memory` (sequence parallelism applies to rows with t > 1)
    top : how many rows to return (None: all that fit)

    Every ``None`` takes the active default of :mod:`symcalc.defaults` (so a row's memory is what
    :func:`symcalc.training_memory` and ``symcalc mem`` give for the same layout).
    """
    d = _defaults.active()
    seq_len, global_batch = _defaults.resolve("seq_len", seq_len), _defaults.resolve("global_batch", global_batch)
    mfu, max_tp = _defaults.resolve("mfu", mfu), _defaults.resolve("max_tp", max_tp)
    bandwidth_tp, bandwidth_dp = _defaults.resolve("bandwidth_tp", bandwidth_tp), _defaults.resolve("bandwidth_dp", bandwidth_dp)
    bandwidth_ep = _defaults.resolve("bandwidth_ep", bandwidth_ep)
    max_micro_batch = _defaults.resolve("max_micro_batch", max_micro_batch)
    precision = d.precision if precision is None else precision
    np = None
    try:
        import numpy as np
    except ImportError:
        pass
    model = as_model("model", model)
    if model.free_symbols:
        raise SymcalcError("plan needs a numeric model; substitute " + ", ".join(sorted(map(str, model.free_symbols))))
    n, B = as_int("n_devices", n_devices), as_int("global_batch", global_batch)
    max_tp, max_micro_batch = as_int("max_tp", max_tp), as_int("max_micro_batch", max_micro_batch)
    zero_stages, recompute = _stages(zero_stages), _policies(recompute)
    top = None if top is None else as_int("top", top)
    flash_attention = as_bool("flash_attention", _defaults.resolve("flash_attention", flash_attention))
    budget = as_positive("memory", memory, unit="bytes")
    costs = dict(peak_flops=as_positive("peak_flops", peak_flops), mfu=as_fraction("mfu", mfu),
                 bandwidth_tp=as_positive("bandwidth_tp", bandwidth_tp), bandwidth_dp=as_positive("bandwidth_dp", bandwidth_dp),
                 bandwidth_ep=as_positive("bandwidth_ep", bandwidth_ep))
    for name in ("memory", *costs):
        value = budget if name == "memory" else costs[name]
        if not value.is_number:
            raise SymcalcError(f"{name}={value} is symbolic; plan needs numbers")
    precision_recipe_check(precision)
    common = dict(seq_len=as_size("seq_len", seq_len), global_batch=Integer(B), precision=precision,
                  flash_attention=flash_attention, sequence_parallel=as_bool("sequence_parallel", _defaults.resolve(
                      "sequence_parallel", sequence_parallel)),
                  dropout=_defaults.dropout_for(model, dropout),
                  allgather_bucket=_defaults.resolve("allgather_bucket", allgather_bucket),
                  max_live_params=_defaults.resolve("max_live_params", max_live_params))
    if not common["seq_len"].is_number:
        raise SymcalcError(f"seq_len={common['seq_len']} is symbolic; plan needs numbers")
    blocks = list(_degree_blocks(model, n, B, max_tp, max_micro_batch))
    kv = int(model.n_kv_heads)
    by_regime: dict[Any, list] = {}
    for blk in blocks:
        by_regime.setdefault(S.tp if kv % blk[0] == 0 else Integer(blk[0]), []).append(blk)

    # Vectorized pass: float64 memory and time for every candidate.
    found = []  # (time, memory, t, p, d, e, b, z, r, regime)
    least = None  # least memory of any counted candidate (float64 bytes)
    z_min = min(zero_stages)  # with d = 1 ZeRO shards nothing: keep one stage
    n_candidates = 0
    for t_key, blks in by_regime.items():
        cols = [[], [], [], [], []]
        for t, p, d, e, bs in blks:
            for b in bs:
                for c, v in zip(cols, (t, p, d, e, b)):
                    c.append(v)
        if np is not None:
            arrays = [np.asarray(c, dtype=np.float64) for c in cols]
        sharded = any(d != 1 for d in cols[2])
        for z, r in itertools.product(zero_stages, recompute):
            if z != z_min and not sharded:
                continue  # every candidate here has d = 1: only z_min is considered, compile nothing
            fn = _functions(model, z, r, t_key, costs, common)[0]
            n_candidates += sum(1 for d in cols[2] if d != 1 or z == z_min)
            if np is not None:
                mem, time = fn(*arrays)
                counted = (np.asarray(cols[2]) != 1) | (z == z_min)
                leanest = np.where(counted & np.isfinite(mem), mem, np.inf).min(initial=np.inf)
                least = leanest if least is None else min(least, leanest)
                ok = np.nonzero(mem <= float(budget) * (1 + 1e-12))[0]
                found.extend((time[i], mem[i], cols[0][i], cols[1][i], cols[2][i], cols[3][i], cols[4][i], z, r, t_key)
                             for i in ok.tolist() if cols[2][i] != 1 or z == z_min)
            else:
                for row in zip(*cols):
                    mem, time = fn(*row)
                    if (row[2] != 1 or z == z_min) and mem == mem:
                        least = mem if least is None else min(least, mem)
                    if mem <= float(budget) * (1 + 1e-12) and (row[2] != 1 or z == z_min):
                        found.append((time, mem, *row, z, r, t_key))
    found.sort(key=lambda x: x[0])
    settings = dict(n_devices=n, memory=budget, peak_flops=costs["peak_flops"], seq_len=common["seq_len"],
                    global_batch=B, mfu=costs["mfu"], bandwidth_tp=costs["bandwidth_tp"],
                    bandwidth_dp=costs["bandwidth_dp"], bandwidth_ep=costs["bandwidth_ep"],
                    max_tp=max_tp, max_micro_batch=max_micro_batch, precision=str(precision),
                    flash_attention=flash_attention, dropout=common["dropout"],
                    sequence_parallel="when tp > 1" if common["sequence_parallel"] else "off",
                    defaults=_defaults.active().name)
    least = None if least is None or least == float("inf") else float(least)
    if not found:
        return PlanResult([], n_candidates, 0, settings, least)

    # Exact pass over every row that could be among the best: re-check the fit, rank exactly.
    want = len(found) if top is None else top
    cutoff = found[min(want, len(found)) - 1][0] * (1 + 1e-9)
    exact_rows = []
    for time, mem, t, p, d, e, b, z, r, t_key in found:
        if time > cutoff and len(exact_rows) >= want:
            break
        _, mem_expr, time_bd, args = _functions(model, z, r, t_key, costs, common)
        values = (t, p, d, e, b)
        mem_exact = to_sympy(compile_expr(mem_expr, args, exact=True)(*values))
        if mem_exact > budget:
            continue
        parts = compile_breakdown(time_bd, args, exact=True)(*values)
        named = dict(zip(tuple(time_bd.keys()) + ("total",), (to_sympy(v) for v in parts)))
        total = named.pop("total")
        exact_rows.append(PlanRow(t, p, d, e, z, r, b, B // (b * d), mem_exact, total, named))
    exact_rows.sort(key=lambda row: (row.step_time, row.memory, row.tp, row.pp, row.ep, row.zero_stage,
                                     row.recompute, row.micro_batch))
    return PlanResult(exact_rows[:want], n_candidates, len(found), settings, least)
