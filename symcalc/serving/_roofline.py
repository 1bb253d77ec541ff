"""The roofline of one forward step (a prefill or a decode step), per device, operation by operation.

Conventions are stated once, in :mod:`symcalc.serving`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Optional

from sympy import Expr, Integer

from .. import symbols as S
from .._routedpower import exact_max, exact_sign, power
from ..breakdown import Breakdown, as_substitutions
from ..comm import allreduce_bytes, seconds
from ..errors import SymcalcError
from ..display import quantity
from ..inputs import as_amount, as_bool, as_choice, as_expr, as_fraction, as_model, as_positive, as_size
from ..model import Model

__all__ = ["Roofline", "roofline", "Step", "decode_step", "prefill_step", "EXPERTS"]

#: How many routed experts' weights one step reads per MoE layer: the expected number of distinct
#: experts its tokens are routed to (uniform, independent routing), or all of them.
EXPERTS = ("expected", "all")
#: FLOPs parts of the attention core (one fused kernel: flash attention / flash decoding).
_CORE = ("attention/scores", "attention/softmax", "attention/values")


@dataclass(frozen=True)
class Roofline:
    """The figures a roofline needs, per device: peak FLOP/s, memory and scale-up bandwidth, the
    memory size, and the fraction of each peak reached (1 = the physical limit).

    Build one with :func:`roofline` (a catalogue entry, numbers, or symbols).
    """

    peak_flops: Expr = S.peak_flops
    mem_bandwidth: Expr = S.mem_bandwidth
    bandwidth_scaleup: Expr = S.bandwidth_scaleup
    memory: Expr = S.device_memory
    compute_efficiency: Expr = Integer(1)
    memory_efficiency: Expr = Integer(1)
    link_efficiency: Expr = Integer(1)
    name: Optional[str] = None

    def __post_init__(self) -> None:
        for key in ("peak_flops", "mem_bandwidth", "bandwidth_scaleup", "memory"):
            object.__setattr__(self, key, as_positive(f"Roofline.{key}", getattr(self, key)))
        for key in ("compute_efficiency", "memory_efficiency", "link_efficiency"):
            object.__setattr__(self, key, as_fraction(f"Roofline.{key}", getattr(self, key)))

    def subs(self, *args: Any, **kwargs: Any) -> "Roofline":
        """Substitute into every figure: ``r.subs(peak_flops=10**15)``."""
        mapping = as_substitutions(*args, **kwargs)
        return replace(self, **{k: getattr(self, k).subs(mapping) for k in
                                ("peak_flops", "mem_bandwidth", "bandwidth_scaleup", "memory",
                                 "compute_efficiency", "memory_efficiency", "link_efficiency")})


def roofline(hardware: Any = None, *, dtype: Optional[str] = None, peak_flops: Any = None, mem_bandwidth: Any = None,
             bandwidth_scaleup: Any = None, memory: Any = None, compute_efficiency: Any = None,
             memory_efficiency: Any = None, link_efficiency: Any = None) -> Roofline:
    """A :class:`Roofline`: each figure given wins, else the catalogue entry's, else its symbol.

    ``dtype`` (the peak's) and the efficiencies left at None take :mod:`symcalc.defaults` (bf16; 1,
    the physical limit).

    >>> r = roofline("h100")
    >>> r.peak_flops, r.mem_bandwidth, r.bandwidth_scaleup, r.name
    (989400000000000, 3350000000000, 450000000000, 'h100-sxm')
    >>> roofline(mem_bandwidth="2TB", memory_efficiency="80%").mem_bandwidth
    2000000000000
    """
    from ..cost import as_mfu
    from ..defaults import resolve
    from ..hardware import DTYPES, get

    dtype = as_choice("dtype", resolve("dtype", dtype), DTYPES)
    hw = None if hardware is None else get(hardware, "hardware")

    def pick(name: str, given: Any, figure: Optional[Expr], symbol: Expr) -> Expr:
        if given is not None:
            return as_positive(name, given, unit="" if name == "peak_flops" else "bytes")
        return symbol if figure is None else figure

    return Roofline(
        peak_flops=pick("peak_flops", peak_flops, None if hw is None else hw.peak(dtype), S.peak_flops),
        mem_bandwidth=pick("mem_bandwidth", mem_bandwidth, None if hw is None else hw.mem_bandwidth, S.mem_bandwidth),
        bandwidth_scaleup=pick("bandwidth_scaleup", bandwidth_scaleup, None if hw is None else hw.bandwidth_scaleup,
                               S.bandwidth_scaleup),
        memory=pick("memory", memory, None if hw is None else hw.memory, S.device_memory),
        compute_efficiency=as_mfu("compute_efficiency", _default("compute_efficiency", compute_efficiency)),
        memory_efficiency=as_mfu("memory_efficiency", _default("memory_efficiency", memory_efficiency)),
        link_efficiency=as_mfu("link_efficiency", _default("link_efficiency", link_efficiency)),
        name=None if hw is None else hw.name)


def _default(key: str, value: Any) -> Any:
    """``value``, or the active default for ``key`` when None (:mod:`symcalc.defaults`)."""
    from ..defaults import active

    return active()[key] if value is None else value


@dataclass(frozen=True)
class Step:
    """One forward step on one device: FLOPs and memory traffic by operation, TP all-reduce bytes.

    Every result is a property written once here: an operation takes
    ``max(F / (F_peak eta_c), B / (W_mem eta_m))``, the step the sum over operations plus the
    all-reduces at ``W_up eta_l``.
    """

    flops: Breakdown            #: FLOPs per device by operation
    traffic: Breakdown          #: bytes read or written in device memory, by operation
    comm: Expr                  #: bytes each device sends in the step's TP all-reduces
    device: Roofline
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in ("flops", "traffic"):
            if not isinstance(getattr(self, key), Breakdown):
                raise SymcalcError(f"Step.{key}={getattr(self, key)!r:.60} is not a Breakdown")
        object.__setattr__(self, "comm", as_amount("Step.comm", self.comm, unit="bytes"))
        if not isinstance(self.device, Roofline):
            raise SymcalcError(f"Step.device={self.device!r:.60} is not a Roofline; build one with roofline(...)")
        if not isinstance(self.info, Mapping):
            raise SymcalcError(f"Step.info={self.info!r:.60} is not a mapping")

    def _compute(self, flops: Expr) -> Expr:
        return flops / (self.device.peak_flops * self.device.compute_efficiency)

    def _memory(self, traffic: Expr) -> Expr:
        return traffic / (self.device.mem_bandwidth * self.device.memory_efficiency)

    @property
    def time(self) -> Breakdown:
        """Seconds by operation (each at its own roofline) and ``tp_comm``; ``.total`` is the step."""
        names = list(self.flops) + [k for k in self.traffic if k not in self.flops]
        parts = {k: exact_max(self._compute(self.flops.get(k, Integer(0))),
                              self._memory(self.traffic.get(k, Integer(0)))) for k in names}
        parts["tp_comm"] = seconds(self.comm, self.device.bandwidth_scaleup, self.device.link_efficiency)
        return Breakdown(parts, unit="", title=f"{self.info.get('phase', 'step')} time per device [s]")

    # Each result is a Quantity once it is a number (symcalc.display's rule), the expression before.
    @property
    def seconds(self) -> Expr:
        """The step's time: the sum over operations of each one's roofline, plus the all-reduces."""
        return quantity(self.time.total, "s")

    @property
    def compute_seconds(self) -> Expr:
        """All the step's FLOPs at the compute roof: F / (F_peak eta_c)."""
        return quantity(self._compute(self.flops.total), "s")

    @property
    def memory_seconds(self) -> Expr:
        """All the step's memory traffic at the bandwidth roof: B / (W_mem eta_m)."""
        return quantity(self._memory(self.traffic.total), "s")

    @property
    def comm_seconds(self) -> Expr:
        """The TP all-reduces at the scale-up link: bytes sent / (W_up eta_l)."""
        return quantity(seconds(self.comm, self.device.bandwidth_scaleup, self.device.link_efficiency), "s")

    @property
    def bound(self) -> Optional[str]:
        """``"memory"`` when the whole step's traffic takes longer than its FLOPs at the roofs,
        else ``"compute"``; None while symbols remain."""
        diff = as_expr("seconds", self.memory_seconds - self.compute_seconds)
        if diff.free_symbols:
            return None
        return "memory" if exact_sign(diff) >= 0 else "compute"

    def subs(self, *args: Any, **kwargs: Any) -> "Step":
        """Substitute into every quantity: ``step.subs(micro_batch=8)``."""
        mapping = as_substitutions(*args, **kwargs)
        return replace(self, flops=self.flops.subs(mapping), traffic=self.traffic.subs(mapping),
                       comm=self.comm.subs(mapping), device=self.device.subs(mapping))


# --- what a step reads and computes ------------------------------------------------------------
def _weight_op(part: str, model: Model) -> Optional[str]:
    """The operation whose kernel reads parameter part ``part`` (None: not read in full)."""
    if part == "embedding/token":
        return "lm_head" if model.tied_embeddings else None  # an untied table: b rows gathered
    if part == "embedding/position":
        return None
    if part.startswith("lm_head/"):
        return "lm_head"
    if part in ("norms", "final_norm", "embedding/norm"):
        return "norms"
    return part[:-5] if part.endswith("_bias") else part


def _weights(model: Model, tp: Expr, weights: Any, storage: Any, bytes_act: Expr,
             expert_fraction: Expr) -> dict[str, Expr]:
    """Bytes of weights each operation reads on one device: the stored bytes of each part, as
    :func:`symcalc.memory.inference.stored_weights` gives them to :func:`~symcalc.memory.inference_memory`
    (TP-sharded; quantized linears with their scales, the rest 16-bit), read once."""
    from ..memory.inference import stored_weights
    from ..memory.parallel import Parallel

    out: dict[str, Expr] = {}
    stored = stored_weights(model, Parallel(tp=tp), weights=weights, storage=storage, bytes_act=bytes_act)
    for part, value in stored.items():
        if part == "dequantized":  # a transient 16-bit copy, not a stored weight: kernels read the stored bytes
            continue
        op = _weight_op(part, model)
        if op is None:
            continue
        if part == "moe/experts":
            value = value * expert_fraction
        out[op] = out.get(op, Integer(0)) + value
    return out


def _matmul_io(model: Model, tp: Expr, tokens: Expr, logits: Expr) -> dict[str, Expr]:
    """Activation values each matmul reads (its input) and writes (its output), per device.

    Elementwise work (norms, activation functions, residual adds, rotary) is taken as fused into
    the neighbouring kernels, as serving engines do; their traffic is not added.
    """
    from ..memory.parallel import local_kv_heads

    m, t = model, tp
    h, L, mats = m.d_model, m.n_layers, m.mlp_up_matrices
    q, kv = m.q_size / t, 2 * local_kv_heads(m, t) * m.d_head
    out = {"attention/qkv": L * tokens * (h + q + kv), "attention/out": L * tokens * (q + h)}
    if m.n_dense_layers != 0:
        out["mlp/up"] = m.n_dense_layers * tokens * (h + mats * m.d_ff / t)
        out["mlp/down"] = m.n_dense_layers * tokens * (m.d_ff / t + h)
    if m.is_moe:
        n_moe = m.n_moe_layers
        out["moe/router"] = n_moe * tokens * (h + m.n_experts)
        out["moe/experts"] = n_moe * tokens * m.top_k * (2 * h + (mats + 1) * m.d_ff_expert / t)
        if m.n_shared_experts != 0:
            out["moe/shared_experts"] = n_moe * tokens * m.n_shared_experts * (2 * h + (mats + 1) * m.d_ff_shared / t)
        if m.shared_expert_gate:
            out["moe/shared_expert_gate"] = n_moe * tokens * (h + 1)
    out["lm_head"] = logits * (h + m.padded_vocab / t)
    return out


def _step(model: Model, phase: str, *, flops: Breakdown, tokens: Expr, cached: Expr, logits: Expr, batch: Expr,
          tp: Any, weights: Any, storage: Any, bytes_kv: Any, bytes_act: Any, experts: str, device: Roofline,
          info: dict) -> Step:
    from ..memory.inference import kv_cache, weight_bytes
    from ..memory.parallel import Parallel
    from ..memory.states import activation_bytes

    t = as_size("tp", tp)
    Parallel(tp=t).check_model(model)
    bkv, ba = weight_bytes(_default("kv_cache_dtype", bytes_kv)), as_positive("bytes_act", activation_bytes(bytes_act))
    experts = as_choice("experts", _default("experts_read", experts), EXPERTS)
    fraction = Integer(1)
    if model.is_moe and experts == "expected":
        # each token picks top_k of E experts: P(an expert is not picked by any of T tokens) = (1 - k/E)^T
        # (a RoutedPower when written out it would be huge: symcalc._powers)
        fraction = 1 - power(1 - model.top_k / model.n_experts, tokens)
    per_device: dict[str, Expr] = {}
    for part, value in flops.items():
        op = "attention/core" if part in _CORE else part
        div = Integer(1) if part == "moe/router" else t  # the router is replicated; every other matmul is split
        per_device[op] = per_device.get(op, Integer(0)) + value / div
    traffic: dict[str, Expr] = {}
    for op, value in _weights(model, t, _default("weight_dtype", weights), storage, ba, fraction).items():
        traffic[op] = traffic.get(op, Integer(0)) + value
    for op, value in _matmul_io(model, t, tokens, logits).items():
        if op in per_device:  # a matmul this model has (MLA's q_a/q_b/kv_a/kv_b: I/O not counted, see the module)
            traffic[op] = traffic.get(op, Integer(0)) + ba * value
    core_io = model.n_layers * tokens * 2 * model.q_size / t  # queries in, attention output out
    traffic["attention/core"] = (kv_cache(model, tokens=cached, batch=batch, bytes_kv=bkv, tp=t)
                                 + ba * core_io)
    order = list(per_device) + [k for k in traffic if k not in per_device]
    traffic = {k: traffic.get(k, Integer(0)) for k in order}
    per_layer = 1 if model.parallel_block else 2  # Megatron: after attention and after the MLP
    comm = model.n_layers * per_layer * allreduce_bytes(ba * tokens * model.d_model, t)
    title = f"{phase} per device"
    return Step(Breakdown(per_device, unit="FLOP", title=f"{title} [FLOP]"),
                Breakdown(traffic, unit="bytes", title=f"{title}: memory traffic"), comm, device,
                {"phase": phase, "tp": t, "experts": experts, **info})


def _device(device: Optional[Roofline], hardware: Any, dtype: str, figures: dict) -> Roofline:
    if device is not None:
        if not isinstance(device, Roofline):
            raise SymcalcError(f"device={device!r:.60} is not a Roofline; build one with symcalc.serving.roofline(...)")
        if hardware is not None or any(v is not None for v in figures.values()):
            raise SymcalcError("give device= or hardware/figures, not both")
        return device
    return roofline(hardware, dtype=dtype, **figures)


def decode_step(model: Model, *, context_len: Any = S.context_len, batch: Any = S.micro_batch, tp: Any = 1,
                weights: Any = None, storage: Any = None, bytes_kv: Any = None, bytes_act: Any = None,
                experts: Optional[str] = None, device: Optional[Roofline] = None, hardware: Any = None, dtype: Optional[str] = None,
                peak_flops: Any = None, mem_bandwidth: Any = None, bandwidth_scaleup: Any = None,
                compute_efficiency: Any = None, memory_efficiency: Any = None,
                link_efficiency: Any = None) -> Step:
    """One decode step: ``batch`` sequences each add one token to a cache of ``context_len`` tokens.

    FLOPs are :func:`symcalc.flops.decode_flops` (the new token meets c + 1 keys); the attention
    kernel reads the cache of c + 1 tokens, :func:`symcalc.memory.kv_cache` (so GQA, MQA and any
    cache layout it knows follow); every weight matrix is read once (routed experts: see
    ``experts``).

    Parameters
    ----------
    model : Model
    context_len : tokens already cached per sequence, c; batch : sequences b; tp : TP degree t
    weights, bytes_kv, bytes_act : bytes per weight (or a dtype name), per KV value, per activation
        (weights and KV cache default to :mod:`symcalc.defaults`: bf16). A name below 16 bits
        (``"fp8"``, ``"int8"``, ``"int4"``) stores the linears only, as
        :func:`~symcalc.memory.inference_memory` does: the embedding, LM head, norms, biases and router
        stay 16-bit and are read at 2 bytes
    storage : a :class:`~symcalc.memory.Storage` or a format name (``"nf4"``, ``"int8"``...), optional
        the linears stored with their scales, read at their bytes per weight scales included (the rest at ``weights``)
    experts : ``"expected"`` (the default: E(1 - (1 - k/E)^b) distinct experts read per MoE layer) or ``"all"``
    device : a :class:`Roofline`, or ``hardware`` (a catalogue name) with ``dtype`` and any figure:
        peak_flops [FLOP/s], mem_bandwidth [B/s], bandwidth_scaleup [B/s per direction], and the
        efficiencies (fractions in (0, 1], default 1: the physical limit)

    Examples
    --------
    >>> from symcalc import Model
    >>> step = decode_step(Model.preset("llama-2-7b"), context_len=0, batch=1, hardware="h100")
    >>> step.bound, round(float(step.seconds) * 1e3, 3)          # ms per token: memory-bound
    ('memory', 3.946)
    >>> step.seconds == step.traffic.total / 3350000000000       # = bytes / bandwidth, exactly
    True
    >>> int4 = decode_step(Model.preset("llama-2-7b"), context_len=0, batch=1, weights="int4", hardware="h100")
    >>> int4.traffic["lm_head"] == step.traffic["lm_head"]       # the LM head stays 16-bit
    True
    """
    from ..flops import decode_flops
    from ..inputs import as_count

    model = as_model("model", model)
    c, b = as_count("context_len", context_len), as_size("batch", batch)
    dev = _device(device, hardware, dtype, dict(
        peak_flops=peak_flops, mem_bandwidth=mem_bandwidth, bandwidth_scaleup=bandwidth_scaleup,
        compute_efficiency=compute_efficiency, memory_efficiency=memory_efficiency, link_efficiency=link_efficiency))
    return _step(model, "decode", flops=decode_flops(model, context_len=c, batch=b), tokens=b, cached=c + 1,
                 logits=b, batch=b, tp=tp, weights=weights, storage=storage, bytes_kv=bytes_kv, bytes_act=bytes_act,
                 experts=experts, device=dev, info={"context_len": c, "batch": b})


def prefill_step(model: Model, *, prompt_len: Any = S.seq_len, batch: Any = S.micro_batch, tp: Any = 1,
                 causal: Optional[bool] = None, weights: Any = None, storage: Any = None, bytes_kv: Any = None,
                 bytes_act: Any = None,
                 experts: Optional[str] = None, device: Optional[Roofline] = None, hardware: Any = None,
                 dtype: Optional[str] = None, peak_flops: Any = None, mem_bandwidth: Any = None,
                 bandwidth_scaleup: Any = None, compute_efficiency: Any = None, memory_efficiency: Any = None,
                 link_efficiency: Any = None) -> Step:
    """The prefill of ``batch`` prompts of ``prompt_len`` tokens: the step that yields the first token.

    FLOPs are :func:`symcalc.flops.prefill_flops` (logits at the last position only) with the
    causal half of the attention square by default (what flash attention computes; ``causal=False``
    counts the full square); the attention kernel reads the prompt's K and V once. Parameters as
    :func:`decode_step`'s.

    >>> from symcalc import Model
    >>> step = prefill_step(Model.preset("llama-2-7b"), prompt_len=2048, batch=1, hardware="a100")
    >>> step.bound, round(float(step.seconds) * 1e3, 1)          # ms to the first token
    ('compute', 88.7)
    """
    from ..flops import prefill_flops

    model = as_model("model", model)
    s, b = as_size("prompt_len", prompt_len), as_size("batch", batch)
    causal = as_bool("causal", _default("prefill_causal", causal))
    dev = _device(device, hardware, dtype, dict(
        peak_flops=peak_flops, mem_bandwidth=mem_bandwidth, bandwidth_scaleup=bandwidth_scaleup,
        compute_efficiency=compute_efficiency, memory_efficiency=memory_efficiency, link_efficiency=link_efficiency))
    return _step(model, "prefill", flops=prefill_flops(model, prompt_len=s, batch=b, causal=causal), tokens=b * s,
                 cached=s, logits=b, batch=b, tp=tp, weights=weights, storage=storage, bytes_kv=bytes_kv,
                 bytes_act=bytes_act,
                 experts=experts, device=dev, info={"prompt_len": s, "batch": b, "causal": causal})

