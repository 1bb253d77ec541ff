"""LoRA and DoRA adapters: rank r on a set of target linears, the base frozen.

A LoRA adapter on a matrix ``W: d_in -> d_out`` adds ``A: d_in -> r`` and ``B: r -> d_out``
(Hu et al. 2021), ``r·(d_in + d_out)`` trainable parameters; DoRA (Liu et al. 2024) adds a
magnitude vector of ``d_out``. The matrices come from :func:`symcalc.linears.linears`, the
model's own inventory, so the same targets work on any family; a matrix the implementation
fuses (GPT-NeoX's ``query_key_value``) is adapted as one matrix, so its members are targeted
together.

Counted as peft counts them (``get_peft_model(model, LoraConfig(...))``; the conformance tests
compare every family exactly):

- adapter weights are kept in fp32 (peft's ``autocast_adapter_dtype=True``), so they need no
  separate master copy: ``bytes_adapter = 4`` (:data:`ADAPTER_BYTES`);
- **routed experts** (``expert_layout="fused"``, transformers 5): each MoE layer stores its experts
  as 3-D tensors and its router as a bare parameter; peft wraps them (``ParamWrapper``) with one
  ``r·E``-wide adapter per tensor, i.e. one rank-r pair per expert, and turns targeting gate and up
  into one adapter of rank 2r on the fused ``gate_up_proj`` (``B`` is dense, ``2f × 2r``), the
  layout of adapters trained on separate matrices; DoRA is refused there, as peft refuses it.
  ``expert_layout="linear"`` counts each expert matrix and the router as a plain linear
  (transformers 4), rank r each, DoRA allowed.

>>> from symcalc import Model
>>> lora = LoRA(rank=8, targets="q,v")
>>> adapter_params(Model.preset("llama-2-7b"), lora).total
4194304
>>> adapter_params(Model.preset("llama-3-8b"), LoRA(16, "all-linear")).total
41943040
>>> adapter_params(Model(n_kv_heads=1), LoRA(targets="q,v")).total.factor()
d_model*lora_rank*n_layers*(3*n_heads + 1)/n_heads
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sympy import Expr, Integer

from .. import symbols as S
from ..breakdown import Breakdown
from ..errors import SymcalcError
from ..inputs import as_bool, as_choice, as_model, as_positive, as_size
from ..linears import Linear, linears, resolve_targets

__all__ = ["LoRA", "adapter_params", "adapted_matrices", "DEFAULT_RANK", "DEFAULT_TARGETS", "ADAPTER_BYTES",
           "EXPERT_LAYOUTS"]

#: peft's ``LoraConfig(r=8)`` default rank (the CLI's ``--lora-rank`` default).
DEFAULT_RANK = 8
#: peft's default targets for Llama-family models (``q_proj``, ``v_proj``), the CLI's default.
DEFAULT_TARGETS = ("q", "v")
#: Bytes per adapter weight (and gradient): fp32, as peft's ``autocast_adapter_dtype=True`` keeps them.
ADAPTER_BYTES = 4
#: How routed experts are stored: transformers 5's fused 3-D tensors, or one linear each.
EXPERT_LAYOUTS = ("fused", "linear")


@dataclass(frozen=True)
class Adapted:
    """One adapted kind of matrix: ``count`` adapters of rank ``rank`` on ``d_in -> d_out``."""

    name: str
    linear: Linear
    d_in: Expr
    d_out: Expr
    count: Expr
    rank: Expr

    @property
    def params(self) -> Expr:
        """LoRA parameters: ``count · rank · (d_in + d_out)``."""
        return self.count * self.rank * (self.d_in + self.d_out)


@dataclass(frozen=True)
class LoRA:
    """A LoRA (or DoRA) adapter: ``rank`` r on the ``targets`` (words of :data:`symcalc.linears.TARGETS`).

    Parameters
    ----------
    rank : expression
        r, a positive integer or the symbol ``lora_rank`` (the default).
    targets : str or sequence
        Target words or aliases (``"q,v"``, ``"all-linear"``, ``["attention", "mlp"]``).
    dora : bool
        DoRA: a magnitude vector of ``d_out`` per adapted matrix besides A and B.
    expert_layout : "fused" or "linear"
        How routed experts and the router are stored (see the module docstring).
    bytes_adapter : expression
        Bytes per adapter weight and per adapter gradient (4: fp32, peft's default; then no master
        copy is kept; 2 for adapters in the compute dtype, which then get the precision's master).
    """

    rank: Any = S.lora_rank
    targets: Any = DEFAULT_TARGETS
    dora: bool = False
    expert_layout: str = "fused"
    bytes_adapter: Any = ADAPTER_BYTES

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        set_("rank", as_size("rank", self.rank))
        set_("targets", resolve_targets(self.targets))
        set_("dora", as_bool("dora", self.dora))
        set_("expert_layout", as_choice("expert_layout", self.expert_layout, EXPERT_LAYOUTS))
        set_("bytes_adapter", as_positive("bytes_adapter", self.bytes_adapter))

    @property
    def kind(self) -> str:
        """``"dora"`` or ``"lora"``."""
        return "dora" if self.dora else "lora"

    @property
    def has_master(self) -> bool:
        """Whether the optimizer keeps a separate master copy: not for fp32 (4-byte) adapters."""
        return self.bytes_adapter != 4

    def describe(self) -> str:
        """One line for tables: the kind, the rank and the targets (``LORA r=16 on all-linear``)."""
        from ..linears import ALIASES

        words = "all-linear" if set(self.targets) == set(ALIASES["all-linear"]) else ",".join(self.targets)
        return f"{self.kind.upper()} r={self.rank} on {words}"


def adapted_matrices(model, adapter: LoRA) -> tuple[Adapted, ...]:
    """The matrices ``adapter`` adapts in ``model``, with their ranks (a one-line error for a split fused matrix)."""
    m = as_model("model", model)
    if not isinstance(adapter, LoRA):
        raise SymcalcError(f"adapter={adapter!r:.60} is not a LoRA; use symcalc.finetune.LoRA(rank, targets)")
    wanted = set(adapter.targets)
    out: list[Adapted] = []
    found: set[str] = set()
    fused_experts = adapter.expert_layout == "fused"
    pending_gate_up: list[Linear] = []
    for lin in linears(m):
        hit = wanted & set(lin.members)
        if not hit:
            continue
        found |= hit
        if hit != set(lin.members):
            missing = ", ".join(w for w in lin.members if w not in hit)
            raise SymcalcError(
                f"LoRA targets {', '.join(sorted(hit))} without {missing}: this model stores "
                f"{'+'.join(lin.members)} as one matrix ({lin.name}); target all of them or none")
        if fused_experts and (lin.expert or lin.name == "router") and adapter.dora:
            raise SymcalcError("dora=True on routed experts or the router: peft's DoRA does not support their "
                               "fused parameters (transformers 5); drop them from the targets or use "
                               "expert_layout='linear'")
        if fused_experts and lin.expert and lin.name in ("experts/gate", "experts/up"):
            pending_gate_up.append(lin)
            continue
        out.append(Adapted(lin.name, lin, lin.d_in, lin.d_out, lin.count, adapter.rank))
    if pending_gate_up:
        if len(pending_gate_up) == 1 and m.gated_mlp:
            raise SymcalcError(
                f"LoRA targets {pending_gate_up[0].members[0]} without "
                f"{'expert_up' if pending_gate_up[0].name.endswith('gate') else 'expert_gate'}: transformers 5 "
                "stores each expert's gate and up as one tensor (gate_up_proj); target both or neither")
        first = pending_gate_up[0]
        width = sum((lin.d_out for lin in pending_gate_up), Integer(0))
        k = len(pending_gate_up)
        name = "experts/gate_up" if k == 2 else first.name
        out.insert(_index_of_down(out), Adapted(name, first, first.d_in, width, first.count, k * adapter.rank))
    unused = [w for w in adapter.targets if w not in found]
    if unused and len(unused) == len(adapter.targets):
        raise SymcalcError(f"LoRA targets {', '.join(adapter.targets)}: this model has no such linear; "
                           f"its targets are {', '.join(_words(m))}")
    return tuple(out)


def _index_of_down(out: list[Adapted]) -> int:
    for i, a in enumerate(out):
        if a.name == "experts/down":
            return i
    return len(out)


def _words(m) -> list[str]:
    have = {w for lin in linears(m) for w in lin.members}
    from ..linears import TARGETS

    return [t for t in TARGETS if t in have]


def adapter_params(model, adapter: LoRA) -> Breakdown:
    """Trainable parameters the adapter adds, by matrix: ``lora/<name>`` (A and B), ``dora/<name>`` (magnitude).

    .. math::

        N_{\\mathrm{LoRA}} = \\sum_{\\text{targets}} n_i\\, r\\, (d_{\\mathrm{in},i} + d_{\\mathrm{out},i})
        \\;+\\; [\\mathrm{DoRA}] \\sum_{\\text{targets}} n_i\\, d_{\\mathrm{out},i}

    References
    ----------
    Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", Section 4.1.
    Liu et al. 2024, "DoRA: Weight-Decomposed Low-Rank Adaptation", Section 4.1 (eq. 5).
    """
    parts: dict[str, Expr] = {}
    for a in adapted_matrices(model, adapter):
        parts[f"lora/{a.name}"] = a.params
    if adapter.dora:
        for a in adapted_matrices(model, adapter):
            parts[f"dora/{a.name}"] = a.count * a.d_out
    return Breakdown({k: v.expand() for k, v in parts.items()}, unit="params",
                     title=f"{adapter.kind} parameters" + (f" - {model.name}" if model.name else ""))
