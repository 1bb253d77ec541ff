"""Sharding groups: what ZeRO (and FSDP) shard over, as expressions beside the ZeRO stage.

By default ZeRO shards over the whole data-parallel group d (expert weights over d/e). A
:class:`Sharding` changes that:

- ``group=g_s`` — **hybrid sharding** (PyTorch FSDP's ``HYBRID_SHARD``, DeepSpeed's MiCS): the
  states are sharded within groups of ``g_s`` devices (usually a node) and replicated across the
  ``d/g_s`` groups, so every ZeRO term divides by g_s instead of d. With ZeRO-3 this is HSDP;
  with ZeRO-2, FSDP's ``_HYBRID_SHARD_ZERO2``. g_s divides d (and e divides g_s).
- ``secondary=g_hp`` — **ZeRO++ hierarchical partitioning** (hpZ, Wang et al. 2023): under ZeRO-3
  each device also keeps a secondary copy of the 16-bit weights sharded over g_hp devices (a
  node), so the backward all-gather stays inside the node: ``β_w N / g_hp`` more per device.

>>> from symcalc.symbols import dp, shard_group
>>> Sharding(group=shard_group).zero_group(dp)
shard_group
>>> Sharding().zero_group(dp)
dp

References
----------
Zhao et al. 2023, "PyTorch FSDP: Experiences on Scaling Fully Sharded Data Parallel", Section 3.2.2
(hybrid sharding). Wang et al. 2023, "ZeRO++: Extremely Efficient Collective Communication for Giant
Model Training", Section 3.2 (hpZ).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sympy import Expr

from ..errors import SymcalcError
from ..inputs import as_size

__all__ = ["Sharding", "FULL_SHARDING"]


@dataclass(frozen=True)
class Sharding:
    """The ZeRO group (``group``: g_s, default the whole d) and ZeRO++'s secondary partition (``secondary``: g_hp)."""

    group: Any = None
    secondary: Any = None

    def __post_init__(self) -> None:
        if self.group is not None:
            object.__setattr__(self, "group", as_size("shard_group", self.group))
        if self.secondary is not None:
            object.__setattr__(self, "secondary", as_size("secondary_group", self.secondary))

    @property
    def is_default(self) -> bool:
        """True for plain ZeRO over the whole data-parallel group (no hybrid group, no secondary partition)."""
        return self.group is None and self.secondary is None

    def zero_group(self, dp: Expr, ep: Any = 1) -> Expr:
        """What ZeRO divides by: ``g_s/e`` (hybrid) or ``d/e`` (default); e for expert weights."""
        dp, ep = as_size("dp", dp), as_size("ep", ep)
        group = dp if self.group is None else self.group
        return group / ep

    def check(self, dp: Expr, ep: Expr, zero_stage: Expr) -> None:
        """One-line errors: g_s must divide d (and e divide g_s); hpZ needs ZeRO-3."""
        from .states import check_zero_stage

        dp, ep, zero_stage = as_size("dp", dp), as_size("ep", ep), check_zero_stage(zero_stage)
        if self.group is not None:
            if (dp / self.group).is_integer is False:
                raise SymcalcError(f"--hsdp-shard-size {self.group} does not divide the data-parallel degree {dp}; "
                                   "the shard groups tile the data-parallel group")
            if (self.group / ep).is_integer is False:
                raise SymcalcError(f"ep={ep} does not divide --hsdp-shard-size {self.group}; expert weights are "
                                   "sharded over g_s/e")
        if self.secondary is not None:
            if not zero_stage.is_number or zero_stage != 3:
                raise SymcalcError("a ZeRO++ secondary partition (hpZ) applies to ZeRO-3 only; use zero_stage=3")
            group = dp if self.group is None else self.group
            if (group / self.secondary).is_integer is False:
                raise SymcalcError(f"secondary={self.secondary} does not divide the shard group {group}; "
                                   "hpZ partitions within each node of the group")

    def describe(self) -> str:
        """One line for tables: the hybrid shard group and the ZeRO++ secondary partition, if any."""
        words = []
        if self.group is not None:
            words.append(f"hybrid shard group {self.group}")
        if self.secondary is not None:
            words.append(f"ZeRO++ secondary partition over {self.secondary}")
        return ", ".join(words) if words else "ZeRO over the data-parallel group"


#: ZeRO over the whole data-parallel group.
FULL_SHARDING = Sharding()
