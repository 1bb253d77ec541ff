"""Offload policy: which model states (and activations) live in CPU memory or on NVMe instead of the GPU.

:class:`Offload` places each kind of state; :func:`~symcalc.memory.training_memory` keeps what stays
on the GPU and :func:`~symcalc.memory.host_memory` adds up the rest per node. The terms themselves
are the same expressions as on the GPU (:mod:`symcalc.memory.placement`), sharded by ZeRO the same
way: offloading moves bytes, it does not change them.

- ``optimizer="cpu"`` (ZeRO-Offload, Ren et al. 2021): the master copy and the optimizer states on
  the CPU, which runs the optimizer step; the gradients go there too (DeepSpeed keeps the fp32
  gradient partitions in host memory), so the GPU keeps the 16-bit weights only.
  ``optimizer="nvme"`` (ZeRO-Infinity): master copy and optimizer states on NVMe, the gradient
  partitions in CPU memory. Needs ZeRO stage >= 1.
- ``params="cpu"`` / ``"nvme"`` (ZeRO-Infinity, Rajbhandari et al. 2021): the 16-bit weights too;
  each layer's are fetched when used (the ZeRO-3 gather buffer stays on the GPU). Needs ZeRO-3.
- ``activations="cpu"``: the activations saved for backward go to host memory as each layer
  finishes its forward and come back for its backward (DeepSpeed's ``cpu_checkpointing``,
  Megatron-core's activation offloading): the GPU keeps one layer's worth.

>>> Offload(optimizer="cpu").device("optimizer"), Offload(optimizer="nvme").device("gradients")
('cpu', 'cpu')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sympy import Expr, Integer, Min

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_choice, as_size

__all__ = ["Offload", "OFFLOAD_DEVICES", "NO_OFFLOAD", "DEVICES_PER_NODE", "devices_per_node_default"]

#: Where a state can live besides the GPU.
OFFLOAD_DEVICES = ("none", "cpu", "nvme")
#: Devices per node when neither given nor implied (an 8-GPU server: DGX, HGX).
DEVICES_PER_NODE = 8


@dataclass(frozen=True)
class Offload:
    """Where the optimizer states, the weights and the saved activations live (see the module docstring)."""

    optimizer: str = "none"
    params: str = "none"
    activations: str = "none"

    def __post_init__(self) -> None:
        as_choice("optimizer", self.optimizer, OFFLOAD_DEVICES)
        as_choice("params", self.params, OFFLOAD_DEVICES)
        as_choice("activations", self.activations, ("none", "cpu"))

    @property
    def any(self) -> bool:
        """True when anything (optimizer states, parameters or activations) is offloaded."""
        return (self.optimizer, self.params, self.activations) != ("none", "none", "none")

    def device(self, kind: str) -> str:
        """``"gpu"``, ``"cpu"`` or ``"nvme"`` for a state kind: weights, gradients, optimizer, activations."""
        if kind == "weights":
            return "gpu" if self.params == "none" else self.params
        if kind == "gradients":
            return "gpu" if self.optimizer == "none" else "cpu"
        if kind == "optimizer":
            return "gpu" if self.optimizer == "none" else self.optimizer
        if kind == "activations":
            return "gpu" if self.activations == "none" else "cpu"
        raise SymcalcError(f"state kind {kind!r} is unknown; use weights, gradients, optimizer or activations")

    def check(self, zero_stage: Expr) -> None:
        """One-line errors for offload that the ZeRO stage does not allow."""
        from .states import check_zero_stage

        zero_stage = check_zero_stage(zero_stage)
        if self.optimizer != "none":
            if not zero_stage.is_number:
                raise SymcalcError("--offload-optimizer needs a numeric ZeRO stage (1, 2 or 3), not the symbol z")
            if zero_stage < 1:
                raise SymcalcError("--offload-optimizer needs ZeRO stage 1, 2 or 3 (ZeRO-Offload partitions the "
                                   "optimizer states it moves); add -z 2")
        if self.params != "none":
            if not zero_stage.is_number or zero_stage != 3:
                raise SymcalcError("--offload-params needs ZeRO stage 3 (ZeRO-Infinity fetches each layer's weights "
                                   "as it is used); add -z 3")
            if self.optimizer == "none":
                raise SymcalcError("--offload-params without --offload-optimizer: DeepSpeed offloads the optimizer "
                                   "states first; add --offload-optimizer cpu (or nvme)")

    def describe(self) -> str:
        """One line for tables: what goes where (``optimizer -> cpu``), or ``none``."""
        words = [f"{k} -> {v}" for k, v in (("optimizer", self.optimizer), ("params", self.params),
                                            ("activations", self.activations)) if v != "none"]
        return ", ".join(words) if words else "none"


#: Everything on the GPU.
NO_OFFLOAD = Offload()


def devices_per_node_default(n_devices: Any, devices_per_node: Any = None) -> Expr:
    """Devices per node: the one given, else ``min(n, 8)`` (the symbol ``devices_per_node`` for a symbolic n)."""
    if devices_per_node is not None:
        return as_size("devices_per_node", devices_per_node)
    n = as_size("n_devices", n_devices)
    if n.is_number:
        return Min(n, Integer(DEVICES_PER_NODE))
    return S.devices_per_node
