"""Model states term by term, and where each lives: the one place weights, gradients and optimizer states are built.

Every parameter part contributes (bytes per device, before ZeRO):

- **weights**: its stored weights — the trainable share in the precision's weight dtype, the frozen
  share in its storage format (:class:`~symcalc.memory.storage.Storage`: NF4, int8, ...; 16-bit by
  default); ZeRO-3 shards them;
- **gradients**: the trainable share only, ``β_g`` each; ZeRO-2 shards them;
- **optimizer**: the trainable share only, the master copy ``β_m`` plus the optimizer's states
  ``β_o``; ZeRO-1 shards them. A run without an optimizer (``optimizer="none"``) keeps neither.

An adapter (:class:`~symcalc.finetune.LoRA`) contributes the same three for its own parameters
(parts ``lora/<matrix>``, ``dora/<matrix>``), in its own dtype (fp32 by default: no master copy).
Frozen parts (:class:`~symcalc.finetune.Freeze`) contribute weights only. A quantized base adds
the one matrix dequantized at a time (``weights/dequantized``). Each term is then sharded over its
ZeRO group (:class:`~symcalc.memory.sharding.Sharding`) and placed on the GPU, the CPU or NVMe
(:class:`~symcalc.memory.offload.Offload`); :func:`placed_states` returns the three.

>>> from symcalc import Model
>>> from symcalc.finetune import LoRA
>>> from symcalc.memory import Parallel
>>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=2, d_ff=32, vocab=10)
>>> gpu = placed_states(m, Parallel(), zero_stage=0, precision="mixed", optimizer="adamw", adapter=LoRA(2, "q,v"))["gpu"]
>>> gpu.grouped().as_ints()
{'weights': 4064, 'gradients': 512, 'optimizer': 1024}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

from sympy import Expr, Integer, Max, Piecewise, Rational, piecewise_fold

from ..breakdown import Breakdown
from ..errors import SymcalcError
from ..inputs import as_amount, as_bool, as_int, as_model, as_size
from .offload import NO_OFFLOAD, Offload, devices_per_node_default
from .parallel import Parallel, local_kv_heads, parallel_param_parts, shard_divisors
from .sharding import FULL_SHARDING, Sharding
from .states import (
    Precision, _zero_shard, check_zero_stage, master_bytes, optimizer_bytes, precision_recipe, zero_model_states,
)

__all__ = ["placed_states", "state_terms", "largest_module_params", "deepspeed_estimate",
           "as_offload", "as_sharding", "as_storage", "DEVICES", "DEEPSPEED_BUFFER_FACTOR"]

#: Where a state can be.
DEVICES = ("gpu", "cpu", "nvme")
#: DeepSpeed's estimators multiply host memory by this (``additional_buffer_factor=1.5``).
DEEPSPEED_BUFFER_FACTOR = Rational(3, 2)
#: A stage no ZeRO stage reaches: the term is never sharded.
_NEVER = 4


@dataclass(frozen=True)
class Term:
    """One state of one part: ``bytes`` per device before ZeRO, sharded over ``group`` from stage ``stage``."""

    kind: str
    part: str
    bytes: Expr
    stage: int
    group: Expr


def as_offload(offload: Any) -> Offload:
    """An :class:`~symcalc.memory.Offload` from ``None`` (nothing offloaded) or an ``Offload``; else a one-line error."""
    if offload is None:
        return NO_OFFLOAD
    if not isinstance(offload, Offload):
        raise SymcalcError(f"offload={offload!r:.60} is not an Offload; use symcalc.memory.Offload(optimizer='cpu', ...)")
    return offload


def as_sharding(sharding: Any) -> Sharding:
    """A :class:`~symcalc.memory.Sharding` from ``None`` (the whole data-parallel group) or a ``Sharding``; else a one-line error."""
    if sharding is None:
        return FULL_SHARDING
    if not isinstance(sharding, Sharding):
        raise SymcalcError(f"sharding={sharding!r:.60} is not a Sharding; use symcalc.memory.Sharding(group=g_s)")
    return sharding


def as_storage(storage: Any):
    """A :class:`~symcalc.memory.Storage`, or ``None`` (the precision's weights), from a ``Storage`` or a format name."""
    from .storage import Storage

    if storage is None or isinstance(storage, Storage):
        return storage
    if isinstance(storage, str):
        return Storage(storage)
    raise SymcalcError(f"storage={storage!r:.60} is not a Storage; use symcalc.memory.Storage('nf4') or a format name")


def _adapter_terms(model, par: Parallel, adapter, prec: Precision, optimizer: Any, k_opt: Expr,
                   sharding: Sharding) -> list[Term]:
    """The adapter's weights, gradients and optimizer states, each matrix split as its base matrix is."""
    from ..finetune import adapted_matrices

    m, t = model, par.tp
    out: list[Term] = []
    b = adapter.bytes_adapter
    master = master_bytes(prec, optimizer) if adapter.has_master else Integer(0)
    for a in adapted_matrices(m, adapter):
        lin = a.linear
        d_in, d_out = a.d_in, a.d_out
        if lin.tp == "column":
            if lin.name in ("k", "v"):
                d_out = local_kv_heads(m, t) * m.d_head
            elif lin.name == "qkv":
                d_out = m.q_size / t + 2 * local_kv_heads(m, t) * m.d_head
            else:
                d_out = d_out / t
        elif lin.tp == "row":
            d_in = d_in / t
        count = a.count
        if lin.layers != "ends":
            count = count / par.pp
        if lin.expert:
            count = count / par.ep
        n = count * a.rank * (d_in + d_out)
        if adapter.dora:
            n = n + count * d_out
        group = sharding.zero_group(par.dp, par.ep if lin.expert else 1)
        part = f"{adapter.kind}/{a.name}"
        out += [Term("weights", part, b * n, 3, group), Term("gradients", part, b * n, 2, group),
                Term("optimizer", part, (master + k_opt) * n, 1, group)]
    return out


def state_terms(model, par: Parallel, *, precision: Union[str, Precision, None] = None, optimizer: Any = None,
                adapter: Any = None, freeze: Any = None, storage: Any = None, sharding: Any = None) -> list[Term]:
    """Every state term of ``model`` on one device (see the module docstring), before ZeRO and placement."""
    from ..finetune import as_adapter, as_freeze
    from ..params import params

    m = as_model("model", model)
    prec = precision_recipe(precision)
    adapter = as_adapter(adapter)
    fr = as_freeze(freeze, adapter)
    storage = as_storage(storage)
    sharding = as_sharding(sharding)
    k_opt = optimizer_bytes(optimizer, m)
    master = master_bytes(prec, optimizer)
    totals = params(m)
    frozen = fr.frozen(m)
    quantized = storage.part_rates(m) if storage is not None else {}
    for part in quantized:
        if (totals[part] - frozen.get(part, Integer(0))).expand() != 0:
            raise SymcalcError(f"{storage.format} storage of {part} with part of it trainable: quantized weights do not "
                               "train; freeze them (an adapter freezes the base: --finetune qlora) or drop --quantize")
    terms: list[Term] = []
    for part, (count, group) in parallel_param_parts(m, par).items():
        total = totals[part]
        frozen_n = _local(frozen.get(part, Integer(0)), total, count)
        trainable = count - frozen_n
        weight_bytes = prec.weight * count
        if part in quantized:
            q_n, rate = quantized[part]
            q_local = _local(q_n, total, count)
            weight_bytes = prec.weight * (count - q_local) + rate * q_local
        _, _, expert = shard_divisors(part, par, m)
        zgroup = sharding.zero_group(par.dp, par.ep if expert else 1)
        del group  # the sharding decides the ZeRO group
        terms.append(Term("weights", part, weight_bytes, 3, zgroup))
        if trainable != 0:
            terms.append(Term("gradients", part, prec.grad * trainable, 2, zgroup))
            terms.append(Term("optimizer", part, (master + k_opt) * trainable, 1, zgroup))
    if adapter is not None:
        terms += _adapter_terms(m, par, adapter, prec, optimizer, k_opt, sharding)
    if storage is not None:
        transient = storage.transient(m, prec.act)
        if transient != 0:
            terms.append(Term("weights", "dequantized", transient / par.tp, _NEVER, Integer(1)))
    return terms


def _local(amount: Expr, total: Expr, count: Expr) -> Expr:
    """The share on this device of ``amount`` parameters among a part's ``total``, ``count`` of which are here.

    All of a part, or none, needs no ratio (a part that exists only under a condition is a
    Piecewise, and a ratio of two would not simplify).
    """
    if amount == 0:
        return Integer(0)
    diff = (amount - total).expand()
    if diff == 0 or (diff.has(Piecewise) and piecewise_fold(diff) == 0):
        return count
    return amount * count / total


def placed_states(
    model,
    parallel: Optional[Parallel] = None,
    *,
    zero_stage: Any = None,
    precision: Union[str, Precision, None] = None,
    optimizer: Any = None,
    adapter: Any = None,
    freeze: Any = None,
    storage: Any = None,
    offload: Any = None,
    sharding: Any = None,
) -> dict[str, Breakdown]:
    """Model-state bytes per device on each of ``"gpu"``, ``"cpu"`` and ``"nvme"``, by part.

    Parts are ``weights/<part>``, ``gradients/<part>``, ``optimizer/<part>`` (master copy and
    optimizer states), with ``<part>`` a part of :func:`symcalc.params` or an adapter's
    ``lora/<matrix>``; ``weights/dequantized`` for a quantized base; ``weights/secondary/<part>``
    for a ZeRO++ secondary partition. Settings left at ``None`` take the active defaults
    (:mod:`symcalc.defaults`).
    """
    from ..defaults import resolve

    m = as_model("model", model)
    zero_stage = resolve("zero_stage", zero_stage)
    par = parallel if parallel is not None else Parallel()
    if not isinstance(par, Parallel):
        raise SymcalcError(f"parallel={par!r:.60} is not a Parallel")
    par.check_model(m)
    z = check_zero_stage(zero_stage)
    offload, sharding = as_offload(offload), as_sharding(sharding)
    offload.check(z)
    sharding.check(par.dp, par.ep, z)
    terms = state_terms(m, par, precision=precision, optimizer=optimizer, adapter=adapter, freeze=freeze,
                        storage=storage, sharding=sharding)
    parts: dict[str, dict[str, Expr]] = {d: {} for d in DEVICES}
    for term in terms:
        value = term.bytes if term.stage == _NEVER else _zero_shard(term.bytes, term.group, term.stage, z)
        parts[offload.device(term.kind)][f"{term.kind}/{term.part}"] = value
        if term.kind == "weights" and sharding.secondary is not None and term.stage != _NEVER:
            parts["gpu"][f"weights/secondary/{term.part}"] = term.bytes / sharding.secondary
    title = " per device" + (f" - {m.name}" if m.name else "")
    return {d: Breakdown(p, unit="bytes", title=f"model states on {d}{title}") for d, p in parts.items()}


def largest_module_params(model) -> Expr:
    """Parameters of the largest single module (a linear with its bias, or the embedding table).

    DeepSpeed's ZeRO-3 gathers one module's parameters at a time; its estimators call this
    ``largest_layer_params`` (``max(sum(p.numel() for p in m.parameters(recurse=False)))``).

    >>> from symcalc import Model
    >>> largest_module_params(Model.preset("llama-3-8b"))
    525336576
    """
    from ..linears import linears

    m = as_model("model", model)
    sizes = [m.padded_vocab * m.d_embed]
    if m.position == "learned":
        sizes.append(m.n_positions * m.d_model)
    bias = {"attention/qkv": m.qkv_bias, "attention/out": m.attn_out_bias, "mlp/up": m.mlp_bias,
            "mlp/down": m.mlp_bias, "lm_head/weight": m.lm_head_bias, "moe/router": m.router_bias}
    for lin in linears(m):
        if lin.expert:  # transformers 5 stacks a layer's experts: one module holds all E
            sizes.append(m.n_experts * lin.d_in * lin.d_out)
        else:
            sizes.append(lin.d_in * lin.d_out + (lin.d_out if bias.get(lin.part, False) else 0))
    return Max(*sizes)


def deepspeed_estimate(
    n_params: Any,
    largest_layer_params: Any,
    *,
    zero_stage: Any = 3,
    devices_per_node: Any = 1,
    n_nodes: Any = 1,
    offload_optimizer: bool = True,
    offload_params: bool = True,
    zero_init: bool = True,
    buffer_factor: Any = DEEPSPEED_BUFFER_FACTOR,
) -> dict[str, Expr]:
    """DeepSpeed's model-state estimate: ``{"gpu_per_device", "cpu_per_node"}`` bytes, from symcalc's terms.

    The states are :func:`placed_states`' for a bare parameter count Ψ under DeepSpeed's mixed
    precision (fp16 weights, fp32 gradients, fp32 master, Adam: 2 + 4 + 4 + 8 bytes) on
    ``n = devices_per_node · n_nodes`` devices, plus the conventions of its estimators
    (``estimate_zero2_model_states_mem_needs``, ``estimate_zero3_model_states_mem_needs``):

    - ZeRO-3 gathers one module at a time on the GPU: its 16-bit weights and gradients,
      ``4 · largest_layer_params``;
    - host memory per node is the larger of the steady states and the initial load, times
      ``buffer_factor`` (1.5): without ``zero.Init`` every process of the node builds the full fp32
      model on the CPU (``4 Ψ`` each); with it (ZeRO-3 only), one module at a time.

    Where the estimators' conventions differ from symcalc's (the numbers then differ, and the tests
    say by how much): DeepSpeed's ZeRO-2 estimate without offload charges a full 16-bit gradient
    copy (``2 Ψ``) besides the sharded fp32 one, where symcalc shards stage-2 gradients as the
    ZeRO paper does; its ZeRO-2 host memory does not divide by the number of nodes.

    >>> est = deepspeed_estimate(2851e6, 32e6, zero_stage=3, devices_per_node=8)
    >>> round(float(est["cpu_per_node"]) / 2**30, 2), round(float(est["gpu_per_device"]) / 2**30, 2)
    (71.69, 0.12)

    References
    ----------
    DeepSpeed documentation, "Memory Requirements" (``docs/code-docs/source/memory.rst``): the
    estimators' tables for a 2851M-parameter model on one node of 8 GPUs.
    """
    z = check_zero_stage(zero_stage)
    psi = as_size("n_params", n_params)
    largest = as_size("largest_layer_params", largest_layer_params)
    per_node, nodes = as_size("devices_per_node", devices_per_node), as_size("n_nodes", n_nodes)
    offload_optimizer, offload_params = as_bool("offload_optimizer", offload_optimizer), as_bool(
        "offload_params", offload_params)
    zero_init, buffer = as_bool("zero_init", zero_init), as_amount("buffer_factor", buffer_factor)
    as_int("zero_stage", z, minimum=1, maximum=3)
    n = per_node * nodes
    offload = Offload(optimizer="cpu" if offload_optimizer else "none", params="cpu" if offload_params else "none")
    states = _bare_states(psi, n, z, offload)
    gpu = states["gpu"]
    if z == 3:
        gpu += 2 * 2 * largest  # one module's fp16 weights and fp16 gradients
    steady = (states["cpu"] + states["nvme"]) * per_node
    if z == 3 and zero_init:
        init = 4 * largest * per_node
    else:
        init = 4 * psi * per_node
    cpu = Max(init, steady) * buffer
    return {"gpu_per_device": gpu, "cpu_per_node": cpu}


def _bare_states(psi: Expr, n: Expr, z: Expr, offload: Offload) -> dict[str, Expr]:
    """Per-device totals on gpu/cpu/nvme for Ψ parameters: DeepSpeed's precision, Adam, ZeRO over n."""
    states = zero_model_states(psi, dp=n, zero_stage=z, precision=Precision(weight=2, grad=4, master=4, act=2),
                               optimizer="adamw")
    out = {d: Integer(0) for d in DEVICES}
    for kind, value in states.items():
        out[offload.device(kind)] += value
    return out


def host_per_node(states: dict[str, Breakdown], n_devices: Any, devices_per_node: Any = None) -> Breakdown:
    """CPU and NVMe bytes per node: each device's offloaded states times the devices on a node."""
    k = devices_per_node_default(n_devices, devices_per_node)
    parts = {f"{d}/{name}": value * k for d in ("cpu", "nvme") for name, value in states[d].items()}
    return Breakdown(parts, unit="bytes", title="host memory per node")
