"""How the planner's pieces make a layout's memory and step time (no sympy: one place for every number system).

:class:`symcalc._plancost.LayoutCosts` builds memory and step time in pieces, each depending on the
ZeRO stage z or on the recompute policy r only (named ``"rest@1"``, ``"activations@full"``, ...,
and the shared ``"interleaving"`` and ``"bubble"``). These functions put a (z, r) together from a
dict of pieces, whatever the pieces are: sympy expressions (the exact re-check's compiled code),
float64 arrays (the ranking of every candidate) or ints and Fractions (the sympy-free
``symcalc plan`` path, :mod:`symcalc.cli._fast_plan`).

>>> pieces = {"rest@1": 10, "activations@none": 4, "interleaving": 0.5, "compute@none": 3, "pp_comm@none": 1,
...           "bubble": 0.25, "dp_comm@1": 2}
>>> memory(pieces, 1, "none", 0), memory(pieces, 1, "none", pieces["interleaving"])
(14, 16.0)
>>> time(pieces, ("compute", "pp_comm"), 1, "none"), parts(pieces, ("compute", "pp_comm"), 1, "none")
(7.0, {'compute': 3, 'pp_comm': 1, 'pipeline_bubble': 1.0, 'dp_comm': 2})
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["memory", "busy", "time", "parts", "settings"]


def memory(pieces: dict, z: int, r: str, interleaved: Any) -> Any:
    """Memory per device: the stage's model states and buffers plus the activations, times 1 + the interleaving
    share (``pieces["interleaving"]`` where v > 1, else 0)."""
    return pieces[f"rest@{z}"] + pieces[f"activations@{r}"] * (1 + interleaved)


def busy(pieces: dict, names: tuple, r: str) -> Any:
    """The time parts the pipeline bubble stretches: compute, TP, EP and pipeline sends (``names``)."""
    return sum(pieces[f"{k}@{r}"] for k in names)


def time(pieces: dict, names: tuple, z: int, r: str) -> Any:
    """Step time: the busy parts stretched by the bubble, plus the data-parallel traffic."""
    return busy(pieces, names, r) * (1 + pieces["bubble"]) + pieces[f"dp_comm@{z}"]


def parts(pieces: dict, names: tuple, z: int, r: str) -> dict:
    """Step time by part, in :func:`symcalc.steptime.step_time`'s order (they add up to :func:`time`)."""
    out = {k: pieces[f"{k}@{r}"] for k in names}
    out["pipeline_bubble"] = pieces["bubble"] * busy(pieces, names, r)
    out["dp_comm"] = pieces[f"dp_comm@{z}"]
    return out


def settings(*, n: int, global_batch: int, budget: Any, costs: dict, common: dict, framework: str, node: int, cross: bool, w_tp: Any,
             max_tp: int, max_b: int, max_v: int, precision: Any, flash_attention: bool, defaults: str) -> dict:
    """A plan's ``settings`` (:attr:`symcalc.plan.PlanResult.settings`): what it was asked and assumed."""
    if "mfu" in costs:
        compute = "fixed MFU " + str(costs["mfu"])
    else:
        compute = f"efficiency model (kernel {float(costs['kernel_efficiency']):g}, half size {costs['gemm_half_size']})"
    return dict(n_devices=n, memory=budget, peak_flops=costs["peak_flops"], seq_len=common["seq_len"],
                global_batch=global_batch, framework=framework, node_size=node, compute=compute,
                mfu=costs.get("mfu"), kernel_efficiency=costs.get("kernel_efficiency"),
                gemm_half_size=costs.get("gemm_half_size"), bandwidth_tp=w_tp, bandwidth_dp=costs["bandwidth_dp"],
                bandwidth_pp=costs["bandwidth_pp"], bandwidth_ep=costs["bandwidth_ep"], crosses_nodes=cross,
                max_tp=max_tp, max_micro_batch=max_b, max_virtual_stages=max_v, precision=str(precision),
                flash_attention=flash_attention, dropout=common["dropout"],
                sequence_parallel="when tp > 1" if common["sequence_parallel"] else "off", defaults=defaults)
