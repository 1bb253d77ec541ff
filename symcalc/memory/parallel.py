"""Parallel degrees, their checks, and which parameters each degree shards.

Layout (Megatron-LM's): ``n = t · p · d · c`` devices. Tensor parallelism (t) shards the
column-parallel Q/K/V and MLP-up matrices with their biases, the row-parallel attention-output
and MLP-down matrices, the vocab-parallel embedding and LM head, and (expert tensor parallelism
equal to t, Megatron-core's default) each expert; it replicates norms, the row-parallel output
biases, the router, position tables and embedding projections. When ``t > g`` each device keeps
one KV head (each head replicated ``t/g`` times, as vLLM and TensorRT-LLM do; Megatron-core
instead requires ``g % t == 0``). Expert parallelism (e) divides the experts; it lives inside
the data-parallel group (DeepSpeed-MoE's and Megatron's folding: ``e | d``, and expert weights
are ZeRO-sharded over the expert-data-parallel group ``d/e``). Context parallelism (c) splits the
sequence and replicates the weights. Sequence parallelism shards the norm/dropout activations
over t (see :mod:`symcalc.memory.activations`).

Pipeline parallelism (p): the device reported is a worst-case stage that holds ``L/p`` layers
*and* both ends (embedding, final norm, LM head). This is exact for ``p = 1``; for ``p > 1``
Megatron puts the embedding on the first stage and the head on the last, so the real maximum is
below this by the smaller end (one ``v·h/t`` matrix). It keeps the expression free of
``Piecewise`` in p, so solvers can treat p as a number.

>>> from symcalc import Model
>>> par = Parallel(tp=2, pp=1, n_devices=16)
>>> par.dp
8
>>> Parallel(tp=3, n_devices=16)
Traceback (most recent call last):
...
symcalc.errors.SymcalcError: tp*pp*cp = 3 does not divide n_devices=16; choose degrees whose product divides the device count
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from sympy import Expr, Integer, Max, cancel

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_amount, as_bool, as_count, as_model, as_size
from ..inputs import as_size as _degree  # one check for sizes and degrees: a positive integer or a symbol

__all__ = ["Parallel", "SYMBOLIC", "shard_divisors", "local_kv_heads", "as_parallel", "check_amounts"]


@dataclass(frozen=True)
class Parallel:
    """Parallel degrees t, p, d, e, c and sequence parallelism; ``n_devices`` checks them.

    Give ``dp`` or ``n_devices`` (then ``dp = n / (t·p·c)``), or neither (``dp = 1``). Degrees may
    be symbols (:data:`SYMBOLIC`). ``sequence_parallel=None`` (not stated) takes the active default
    where it matters (:mod:`symcalc.defaults`: on for training when t > 1; inference keeps it off).
    """

    tp: Any = 1
    pp: Any = 1
    dp: Any = None
    ep: Any = 1
    cp: Any = 1
    sequence_parallel: Optional[bool] = None
    n_devices: Any = None

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        for name in ("tp", "pp", "ep", "cp"):
            set_(name, _degree(name, getattr(self, name)))
        if self.sequence_parallel is not None:
            set_("sequence_parallel", as_bool("sequence_parallel", self.sequence_parallel))
        model_parallel = self.tp * self.pp * self.cp
        if self.n_devices is not None:
            n = _degree("n_devices", self.n_devices)
            set_("n_devices", n)
            dp = n / model_parallel
            if dp.is_integer is False:
                raise SymcalcError(
                    f"tp*pp*cp = {model_parallel} does not divide n_devices={n}; "
                    "choose degrees whose product divides the device count"
                )
            if self.dp is not None and _degree("dp", self.dp) != dp:
                raise SymcalcError(f"dp={self.dp} but n_devices/(tp*pp*cp) = {dp}; give one of dp and n_devices")
            set_("dp", dp)
        else:
            set_("dp", _degree("dp", 1 if self.dp is None else self.dp))
            set_("n_devices", model_parallel * self.dp)
        if (self.dp / self.ep).is_integer is False:
            raise SymcalcError(
                f"ep={self.ep} does not divide the data-parallel degree dp={self.dp}; "
                "expert parallelism is carved out of the data-parallel group"
            )

    @property
    def expert_dp(self) -> Expr:
        """The expert-data-parallel group, d/e: what ZeRO shards expert weights over."""
        return self.dp / self.ep

    def check_model(self, model) -> None:
        """One-line errors when t does not fit the heads, e the experts, p the layers."""
        model = as_model("model", model)
        t = self.tp
        if (model.n_heads / t).is_integer is False:
            raise SymcalcError(f"tp={t} does not divide n_heads={model.n_heads}; pick a tensor-parallel size dividing the heads")
        local_kv_heads(model, t)
        if model.is_moe and (model.n_experts / self.ep).is_integer is False:
            raise SymcalcError(f"ep={self.ep} does not divide n_experts={model.n_experts}; pick an expert-parallel size dividing the experts")
        if not model.is_moe and self.ep.is_number and self.ep != 1:
            raise SymcalcError(f"ep={self.ep} for a dense model; expert parallelism needs experts (set n_experts)")
        if (model.n_layers / self.pp).is_integer is False:
            raise SymcalcError(f"pp={self.pp} does not divide n_layers={model.n_layers}; pick a pipeline size dividing the layers")


def as_parallel(parallel: Optional[Parallel], degrees: dict) -> Parallel:
    """``parallel`` itself, or a :class:`Parallel` from keyword degrees; giving both is an error."""
    if parallel is not None:
        if not isinstance(parallel, Parallel):
            raise SymcalcError(f"parallel={parallel!r:.60} is not a Parallel; pass Parallel(tp=..., ...) or the degrees as keywords")
        if degrees:
            raise SymcalcError(f"give either parallel= or {', '.join(degrees)}, not both")
        return parallel
    unknown = sorted(set(degrees) - {"tp", "pp", "dp", "ep", "cp", "sequence_parallel", "n_devices"})
    if unknown:
        raise SymcalcError(f"unknown keyword(s) {', '.join(unknown)}; the parallel degrees are tp, pp, dp, ep, cp, "
                           "sequence_parallel, n_devices")
    return Parallel(**degrees)


def check_amounts(**amounts: Any) -> dict[str, Expr]:
    """Token/sequence counts (positive) and byte/element counts (``*_bytes``, buffers: >= 0), exact.

    Through the one door (:mod:`symcalc.inputs`): one-line :class:`SymcalcError` for bools,
    non-numeric strings, negative or non-integer counts; symbols pass; a float or a numeric
    string is its exact decimal value. Byte amounts may be Rationals (``misc_bytes``).

    >>> check_amounts(seq_len=4096, misc_bytes=0)
    {'seq_len': 4096, 'misc_bytes': 0}
    """
    out: dict[str, Expr] = {}
    for name, value in amounts.items():
        if name == "misc_bytes":
            out[name] = as_amount(name, value, unit="bytes")
        elif name in ("allgather_bucket", "max_live_params"):
            out[name] = as_count(name, value)
        else:
            out[name] = as_size(name, value)
    return out


#: Every degree left symbolic (t, p, d, e, c), for closed forms and solvers.
SYMBOLIC = dict(tp=S.tp, pp=S.pp, dp=S.dp, ep=S.ep, cp=S.cp)


def local_kv_heads(model, tp: Any) -> Expr:
    """KV heads per device: g/t, or 1 when t is a multiple of g (each head replicated t/g times).

    .. math:: g_{\\text{local}} = \\max(1, g/t)

    The rule is in the expression: with t or g left symbolic the result is ``Max(1, g/t)``, so
    substituting t > g gives 1 head, as the numeric call does (and a closed form derived from it
    stays right there). For multi-head attention (g = a) it is g/t, since t divides a.

    >>> from symcalc import Model
    >>> local_kv_heads(Model(n_heads=32, n_kv_heads=8, d_model=4096), 16)
    1
    >>> from symcalc.symbols import n_kv_heads, tp
    >>> local_kv_heads(Model(), tp)
    Max(1, n_kv_heads/tp)
    >>> _.subs({n_kv_heads: 8, tp: 16}), local_kv_heads(Model(), 1)
    (1, n_kv_heads)
    """
    model = as_model("model", model)
    g, t = model.n_kv_heads, as_size("tp", tp)
    ratio = g / t
    if ratio.is_integer or g == model.n_heads:  # t divides a = g: one head or more each
        return ratio
    if ratio.is_integer is False:
        if (t / g).is_integer:
            return Integer(1)
        if (t / g).is_integer is False:
            raise SymcalcError(
                f"tp={t} neither divides n_kv_heads={g} nor is a multiple of it; Megatron needs g % t == 0, "
                "inference engines replicate each KV head t/g times when g divides t"
            )
    if g == 1:  # one KV head (MQA): max(1, 1/t) = 1 for every t >= 1
        return Integer(1)
    return _at_least_one(ratio)


@lru_cache(maxsize=256)
def _at_least_one(ratio: Expr) -> Expr:
    """``Max(1, ratio)``, built once per ratio and left unevaluated: sympy's Max would ask the assumptions
    whether the ratio is >= 1, which they cannot decide (~10 ms a call); the expression is the same."""
    return Max(1, ratio, evaluate=False)


#: Parameter parts (names of :func:`symcalc.params`) that tensor parallelism shards: per-head
#: projections (MLA's up-projections ``q_b``/``kv_b`` and its plain ``q``, not its latent
#: down-projections ``q_a``/``kv_a``, which are replicated as in vLLM), sinks (one per head), the
#: column-parallel MLP matrices, experts, shared experts, the vocab-parallel embedding and head.
#: An MTP module's parts (``mtp/...``) shard like their namesakes; its embedding and head as the
#: main ones, its ``eh_proj`` column-parallel.
TP_SHARDED = (
    "embedding/token", "attention/qkv", "attention/qkv_bias", "attention/out", "attention/q", "attention/q_b",
    "attention/kv_b", "attention/sinks", "mlp/up", "mlp/up_bias", "mlp/down", "moe/experts",
    "moe/shared_experts", "lm_head/weight", "lm_head/bias", "embedding", "head", "projection",
)
#: Parts that live in the transformer layers (divided by p); MTP modules sit with the LM head.
LAYER_PARTS_PREFIXES = ("attention/", "mlp/", "moe/", "norms")
#: Routed-expert parts: divided over the expert-parallel ranks, ZeRO-sharded over d/e. Shared
#: experts are replicated on every expert-parallel rank. Expert biases (gpt-oss) are not TP-sharded.
EXPERT_PARTS = ("moe/experts", "moe/experts_bias")


def shard_divisors(part: str, par: Parallel, model) -> tuple[Expr, Expr, bool]:
    """(model-parallel divisor, ZeRO group, is_expert) for one parameter part on one device."""
    div = Integer(1)
    inner = part[4:] if part.startswith("mtp/") else part
    if inner in TP_SHARDED:
        div = div * par.tp
    if part.startswith(LAYER_PARTS_PREFIXES):
        div = div * par.pp
    expert = inner in EXPERT_PARTS
    if expert:
        div = div * par.ep
    return div, (par.expert_dp if expert else par.dp), expert


def parallel_param_parts(model, par: Parallel) -> dict[str, tuple[Expr, Expr]]:
    """``{part: (parameters on this device, ZeRO group)}`` for every part of ``params(model)``."""
    from ..params import params

    out: dict[str, tuple[Expr, Expr]] = {}
    for part, count in params(model).items():
        div, group, _ = shard_divisors(part, par, model)
        g_local = local_kv_heads(model, par.tp)
        if part in ("attention/qkv", "attention/qkv_bias", "mtp/attention/qkv") and g_local != model.n_kv_heads / par.tp:
            # Q shards over t; K and V only down to one head per device (each replicated when t > g).
            per_column = cancel(count / (model.q_size + 2 * model.kv_size))  # L·h (weights) or L (biases)
            stage = par.pp if part.startswith(LAYER_PARTS_PREFIXES) else 1  # MTP modules sit on the last stage
            local = (per_column * (model.q_size / par.tp + 2 * g_local * model.d_head) / stage).expand()
            out[part] = (local, group)
            continue
        out[part] = (count / div, group)
    return out
