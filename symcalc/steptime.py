"""The planner's cost model: seconds per training step of one layout, by part, as one sympy expression
(:func:`step_time`), and the memory of its fullest pipeline stage (:func:`layout_memory`).

A step runs m = B/(b·d) micro-batches through p pipeline stages (each rank holding v model chunks
under interleaved 1F1B). The fullest stage (L_s layers, and — an upper bound, as the memory
model's — the embedding and LM head) sets the pace:

.. math::

    t_{mb} = \\frac{F_{mb}}{t\\,F_{\\mathrm{peak}}\\,\\eta} + T_{\\mathrm{TP}} + T_{\\mathrm{EP}} + T_{\\mathrm{PP}}
    \\qquad
    T = \\Big(m + \\frac{p - 1}{v}\\Big)\\,t_{mb} + T_{\\mathrm{DP}}

- **compute**: hardware FLOPs of one micro-batch on the fullest stage,
  ``F_mb = F_layers(b) · L_s/L + F_head(b)`` (:func:`symcalc.training_flops` with the recompute
  policy), split over t, at the peak times an efficiency η: the **efficiency model** of
  :mod:`symcalc.efficiency` (η_max · bs/(bs + 128) · N/(N + 128), N the narrowest TP-sharded
  width), or a fixed ``mfu`` when one is given;
- **bubble**: interleaved 1F1B takes ``(m + (p − 1)/v)`` micro-batch times, a fraction
  ``(p − 1)/(v·m)`` on top (Narayanan et al. 2021 §2.2.2; v = 1 is plain 1F1B);
- **TP**: 4 all-reduces per layer and micro-batch (2 forward, 2 backward; 6 with full recompute;
  half for a parallel block), each of β_a·b·s·h bytes, ring volume 2(t − 1)/t
  (:mod:`symcalc.comm`; sequence parallelism's reduce-scatter + all-gather move the same), at the
  scale-up bandwidth W_t (Shoeybi et al. 2019 §3; Korthikanti et al. 2022 §4.2.2);
- **PP**: per micro-batch each rank sends its activations forward and receives gradients back, v
  times with interleaving, β_a·b·s·h/t bytes each (Megatron's scatter-gather over the TP group,
  Narayanan et al. 2021 §4.1), at W_p (the scale-out NIC when the job spans nodes); none when p = 1;
- **EP** (MoE): dispatch and combine all-to-alls per MoE layer, forward and backward (and
  recompute), (e − 1)/e of the k·b·s·h·β_a routed activations, at W_e;
- **DP** (Rajbhandari et al. 2020 §7), per parameter element on the device, over its group g
  (d, or d/e for experts), at W_d: ZeRO 0 all-reduces the accumulated gradients once per step
  (2β_g·(g−1)/g); ZeRO 1 (Megatron's distributed optimizer) reduce-scatters them and all-gathers
  the updated weights once ((β_g + β_w)·(g−1)/g); ZeRO 2 partitions gradients, so every
  micro-batch's backward reduce-scatters (m·β_g + β_w); ZeRO 3 also gathers the weights for every
  micro-batch's forward and backward (m·β_g + 2m·β_w).

Not overlapped: communication and compute add up (Megatron and FSDP overlap much of DP and some
of TP; the estimate is then pessimistic for those parts). Not modelled: context parallelism,
stragglers, the optimizer step's own time.
"""

from __future__ import annotations

from typing import Any, Optional

from sympy import Add, Expr, Integer, Min

from . import symbols as S
from .breakdown import Breakdown
from .comm import allreduce_bytes
from .errors import SymcalcError
from .inputs import as_bool, as_choice, as_fraction, as_model, as_positive, as_size

__all__ = ["step_time", "layout_memory", "ZERO_STAGES", "RECOMPUTE", "HEAD_PARTS"]

#: The ZeRO stages the cost model knows (0-3).
ZERO_STAGES = (0, 1, 2, 3)
#: The recompute policies the cost model knows.
RECOMPUTE = ("none", "selective", "full")
#: FLOPs parts outside the transformer layers (on the first or last stage only).
HEAD_PARTS = ("lm_head", "embedding/projection")


def _split_flops(model, seq_len: Expr, batch: Expr, recompute: str, causal: bool) -> tuple[Expr, Expr]:
    """Training FLOPs of ``batch`` sequences: (transformer layers, head and embedding projections)."""
    from .flops import training_flops

    bd = training_flops(model, seq_len=seq_len, batch=batch, recompute=recompute, causal=causal)
    head = sum((v for k, v in bd.items() if k.split("/", 1)[1] in HEAD_PARTS), Integer(0))
    return bd.total - head, head


def step_time(model, *, seq_len: Any, global_batch: Any, micro_batch: Any = S.micro_batch, tp: Any = S.tp,
              pp: Any = S.pp, dp: Any = S.dp, ep: Any = None, virtual_stages: Any = 1,
              layers_per_stage: Any = None, zero_stage: int = 0, recompute: str = "none",
              peak_flops: Any = S.peak_flops, mfu: Any = None, kernel_efficiency: Any = None,
              gemm_half_size: Any = None, bandwidth_tp: Any = S.bandwidth_tp, bandwidth_dp: Any = S.bandwidth_dp,
              bandwidth_pp: Any = None, bandwidth_ep: Any = S.bandwidth_ep, precision: Any = None,
              causal: Optional[bool] = None) -> Breakdown:
    """Estimated seconds per training step, by part: ``compute``, ``tp_comm``, ``ep_comm`` (MoE),
    ``pp_comm``, ``pipeline_bubble``, ``dp_comm`` (the model of :mod:`symcalc.steptime`).

    Parameters
    ----------
    model : Model
    seq_len : s [tokens]; global_batch : B [sequences per step]; micro_batch : b [sequences]
    tp, pp, dp, ep : degrees (``ep`` defaults to the symbol e for MoE, 1 for dense models)
    virtual_stages : v, model chunks per pipeline rank (1: plain 1F1B)
    layers_per_stage : L_s, layers of the fullest stage (default L/p)
    zero_stage : 0-3; recompute : "none", "selective" or "full"
    peak_flops : F_peak [FLOP/s per device]
    mfu : a fixed fraction of the peak for the compute; None (default) uses the efficiency model
        (:func:`symcalc.efficiency.matmul_efficiency`, ``kernel_efficiency`` and ``gemm_half_size``)
    bandwidth_tp, bandwidth_dp, bandwidth_pp, bandwidth_ep : W_t, W_d, W_p (default W_d), W_e [B/s per device]
    precision : recipe name or Precision (β_a, β_g, β_w); causal : half the attention square

    Examples
    --------
    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=2, d_ff=32, vocab=10)
    >>> bd = step_time(m, seq_len=4, global_batch=8, micro_batch=1, tp=2, pp=1, dp=2, mfu=1,
    ...                peak_flops=10**6, bandwidth_tp=1000, bandwidth_dp=1000, precision="mixed")
    >>> bd["tp_comm"]    # m=4 micro-batches x 2 layers x 4 all-reduces x 2(1/2) x 64 B / 1000 B/s
    256/125
    >>> bd["pp_comm"], bd["pipeline_bubble"]                     # one stage: no sends, no bubble
    (0, 0)

    References
    ----------
    Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters Using
    Megatron-LM", §2.2 (bubble (p-1)/(v m)), §3 and §4.1 (communication); Rajbhandari et al. 2020,
    "ZeRO", §7; Korthikanti et al. 2022, §4.2.2 (sequence parallelism's communication).
    """
    parts, bubble, dp = _step_pieces(
        model, seq_len=seq_len, global_batch=global_batch, micro_batch=micro_batch, tp=tp, pp=pp, dp=dp, ep=ep,
        virtual_stages=virtual_stages, layers_per_stage=layers_per_stage, zero_stages=(zero_stage,),
        recompute=recompute, peak_flops=peak_flops, mfu=mfu, kernel_efficiency=kernel_efficiency,
        gemm_half_size=gemm_half_size, bandwidth_tp=bandwidth_tp, bandwidth_dp=bandwidth_dp, bandwidth_pp=bandwidth_pp,
        bandwidth_ep=bandwidth_ep, precision=precision, causal=causal)
    parts["pipeline_bubble"] = bubble * sum(parts.values(), Integer(0))
    parts["dp_comm"] = dp[int(zero_stage)]
    return Breakdown(parts, unit="", title="step time [s]")


def _step_pieces(model, *, seq_len: Any, global_batch: Any, micro_batch: Any, tp: Any, pp: Any, dp: Any, ep: Any,
                 virtual_stages: Any, layers_per_stage: Any, zero_stages: tuple, recompute: str, peak_flops: Any,
                 mfu: Any, kernel_efficiency: Any, gemm_half_size: Any, bandwidth_tp: Any, bandwidth_dp: Any,
                 bandwidth_pp: Any, bandwidth_ep: Any, precision: Any, causal: Optional[bool]) -> tuple:
    """:func:`step_time` in pieces: ({compute, tp_comm, [ep_comm], pp_comm}, the bubble's fraction (p − 1)/(v·m)
    of their sum, {z: dp_comm for each ZeRO stage z}). The planner builds these once per recompute policy
    and once per ZeRO stage (the parts that depend on either) and adds them up numerically."""
    from .defaults import resolve
    from .efficiency import matmul_efficiency
    from .memory import Parallel, precision_recipe
    from .memory.parallel import LAYER_PARTS_PREFIXES, parallel_param_parts

    model = as_model("model", model)
    for zero_stage in zero_stages:
        if isinstance(zero_stage, bool) or zero_stage not in ZERO_STAGES:
            raise SymcalcError(f"zero_stage={zero_stage!r:.60} must be 0, 1, 2 or 3 (substitute the stage before costing)")
    as_choice("recompute", recompute, RECOMPUTE)
    causal = as_bool("causal", resolve("causal", causal))
    prec = precision_recipe(resolve("precision", precision))
    ep = (S.ep if model.is_moe else Integer(1)) if ep is None else as_size("ep", ep)
    s, B, b = as_size("seq_len", seq_len), as_size("global_batch", global_batch), as_size("micro_batch", micro_batch)
    t, p, d, v = as_size("tp", tp), as_size("pp", pp), as_size("dp", dp), as_size("virtual_stages", virtual_stages)
    L = model.n_layers
    Ls = L / p if layers_per_stage is None else as_size("layers_per_stage", layers_per_stage)
    peak = as_positive("peak_flops", peak_flops)
    w_tp, w_dp = as_positive("bandwidth_tp", bandwidth_tp), as_positive("bandwidth_dp", bandwidth_dp)
    w_pp = w_dp if bandwidth_pp is None else as_positive("bandwidth_pp", bandwidth_pp)
    w_ep = as_positive("bandwidth_ep", bandwidth_ep)
    if mfu is None:
        eta = matmul_efficiency(model, micro_batch=b, seq_len=s, tp=t, kernel_efficiency=kernel_efficiency,
                                gemm_half_size=gemm_half_size)
    else:
        eta = as_fraction("mfu", mfu)
    m = B / (b * d)  # micro-batches per step
    passes = 3 if recompute == "full" else 2  # forward, backward (+ the recomputed forward)
    layers_f, head_f = _split_flops(model, s, b, recompute, causal)
    message = prec.act * b * s * model.d_model  # one layer's activations of a micro-batch, bytes
    per_layer = 1 if model.parallel_block else 2  # all-reduces per layer and pass
    parts: dict[str, Expr] = {
        "compute": m * (layers_f * Ls / L + head_f) / (t * peak * eta),
        "tp_comm": m * Ls * per_layer * passes * allreduce_bytes(message, t) / w_tp,
    }
    if model.is_moe:
        routed = model.top_k * message
        parts["ep_comm"] = m * model.n_moe_layers * Ls / L * 2 * passes * (ep - 1) / ep * routed / w_ep
    # p - 1 >= 0 is 0 for one stage and at least 1 otherwise: Min(1, p - 1) switches the sends off at p = 1
    # (built unevaluated while p is a symbol: sympy's Min simplification is slow and gains nothing here).
    pipelined = Min(1, p - 1) if p.is_number else Min(1, p - 1, evaluate=False)
    parts["pp_comm"] = m * pipelined * 2 * v * message / t / w_pp
    volume = Integer(0)  # parameter elements on the fullest stage's device, times (g - 1)/g of their group
    for part, (count, g) in parallel_param_parts(model, Parallel(tp=t, dp=d, ep=ep)).items():
        volume += (g - 1) / g * count * (Ls / L if part.startswith(LAYER_PARTS_PREFIXES) else 1)
    per_element = {0: 2 * prec.grad, 1: prec.grad + prec.weight, 2: m * prec.grad + prec.weight,
                   3: m * prec.grad + 2 * m * prec.weight}
    return parts, (p - 1) / (v * m), {int(z): per_element[int(z)] * volume / w_dp for z in zero_stages}


def layout_memory(model, *, seq_len: Any, micro_batch: Any = S.micro_batch, tp: Any = S.tp, pp: Any = S.pp,
                  dp: Any = S.dp, ep: Any = None, virtual_stages: Any = 1, layers_per_stage: Any = None,
                  zero_stage: Any = 0, recompute: str = "none", precision: Any = None,
                  flash_attention: Optional[bool] = None, sequence_parallel: Optional[bool] = None,
                  dropout: Optional[bool] = None, allgather_bucket: Any = None, max_live_params: Any = None) -> Expr:
    """Bytes per device of a layout's fullest pipeline stage: what the planner checks against the budget.

    :func:`symcalc.training_memory` (its settings; each None the active default of
    :mod:`symcalc.defaults`: sequence parallelism with t > 1, flash attention, ...) with the stage's
    ``layers_per_stage`` L_s layers (the memory model's p taken as L/L_s: exact for p | L), plus,
    under interleaved 1F1B (v > 1), (p − 1)/(p·v) more of the activations (Korthikanti et al. 2022
    §4.2.3: the first rank holds more in-flight micro-batches).

    >>> from symcalc import Model
    >>> m = Model.preset("llama-2-7b")
    >>> plain = layout_memory(m, seq_len=4096, micro_batch=1, tp=1, pp=4, dp=2, zero_stage=1)
    >>> (layout_memory(m, seq_len=4096, micro_batch=1, tp=1, pp=4, dp=2, zero_stage=1, virtual_stages=2) > plain)
    True
    """
    rest, act = _memory_pieces(model, seq_len=seq_len, micro_batch=micro_batch, tp=tp, dp=dp, ep=ep, pp=pp,
                               layers_per_stage=layers_per_stage, zero_stage=zero_stage, recompute=recompute,
                               precision=precision, flash_attention=flash_attention,
                               sequence_parallel=sequence_parallel, dropout=dropout, allgather_bucket=allgather_bucket,
                               max_live_params=max_live_params)
    p, v = as_size("pp", pp), as_size("virtual_stages", virtual_stages)
    return rest + act + (interleaving(p, v) * act if v != 1 else Integer(0))


def interleaving(p: Expr, v: Expr) -> Expr:
    """The activations' extra fraction under interleaved 1F1B with v > 1 chunks: (p − 1)/(p·v)."""
    return (p - 1) / (p * v)


def _memory_pieces(model, *, seq_len: Any, micro_batch: Any, tp: Any, dp: Any, ep: Any, pp: Any,
                   layers_per_stage: Any, zero_stage: Any, recompute: str, precision: Any,
                   flash_attention: Optional[bool], sequence_parallel: Optional[bool], dropout: Optional[bool],
                   allgather_bucket: Any, max_live_params: Any) -> tuple[Expr, Expr]:
    """:func:`layout_memory` of plain 1F1B in two pieces: (everything but the activations, which depends on the
    ZeRO stage only; the activations, which depend on the recompute policy only), each with the stage's layers."""
    from .defaults import resolve
    from .memory import training_memory

    model = as_model("model", model)
    p = as_size("pp", pp)
    Ls = model.n_layers / p if layers_per_stage is None else as_size("layers_per_stage", layers_per_stage)
    ep = (S.ep if model.is_moe else Integer(1)) if ep is None else ep
    sequence_parallel = as_bool("sequence_parallel", resolve("sequence_parallel", sequence_parallel))
    bd = training_memory(model, seq_len=seq_len, micro_batch=micro_batch, tp=tp, pp=S.pp, dp=dp, ep=ep,
                         zero_stage=zero_stage, recompute=recompute, sequence_parallel=sequence_parallel,
                         precision=precision, flash_attention=flash_attention, dropout=dropout,
                         allgather_bucket=allgather_bucket, max_live_params=max_live_params)
    stage = {S.pp: model.n_layers / Ls}
    rest = Add(*(v for k, v in bd.items() if not (k == "activations" or k.startswith("activations/"))))
    return rest.subs(stage), bd.select("activations").subs(stage)
