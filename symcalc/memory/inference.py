"""Inference memory per device: weights, KV cache, one layer's transient activations.

Weights may be quantized by the storage rules of :mod:`symcalc.memory.storage`: the linears in a
quantized format (NF4, int8, fp8 with their scales; or the plain ``int8``/``int4``/``fp8`` names
of :data:`~symcalc.memory.states.WEIGHT_DTYPES`, scales not counted), the embedding, the LM head,
norms and biases in 16 bits; the KV cache has its own bytes per value.
The KV cache keeps K and V (the factor 2) for every layer on the device, every KV head on the
device (``g/t``, or one head when ``t > g``: each head is then replicated), every cached token
of every sequence; a windowed layer keeps at most its window (``W`` tokens by default, ``W − 1``
as transformers' dynamic cache: ``window_cache``), an MLA layer its compressed latent
``r_kv + d_r`` per token, the same on every TP rank (or per-head K and V: ``mla_cache``). Transient activations are one layer's forward tensors for the whole prompt
(no dropout, nothing kept across layers): an upper bound on the live working set of a
prefill, which is what the cookbook charges too.
"""

from __future__ import annotations

from typing import Any, Optional

from sympy import Expr, Integer

from .. import symbols as S
from ..breakdown import Breakdown
from ..errors import SymcalcError
from ..inputs import as_bool, as_choice, as_model, as_positive, as_size
from ..structure import MLA_CACHE, WINDOW_CACHE
from .activations import layer_activations
from .parallel import Parallel, as_parallel, check_amounts
from .placement import state_terms
from .states import WEIGHT_DTYPES, Precision

__all__ = ["kv_cache", "weight_bytes", "inference_memory", "stored_weights"]


def weight_bytes(dtype: Any) -> Expr:
    """Bytes per weight: a dtype name (``"int4"`` -> 1/2) or a number/symbol.

    >>> weight_bytes("int4"), weight_bytes("bf16"), weight_bytes(3)
    (1/2, 2, 3)
    """
    if isinstance(dtype, str):
        if dtype.lower() in WEIGHT_DTYPES:
            return WEIGHT_DTYPES[dtype.lower()]
        try:
            return as_positive("bytes per weight", dtype)
        except SymcalcError:
            raise SymcalcError(f"weight dtype {dtype!r:.60} is unknown; use one of {', '.join(WEIGHT_DTYPES)} "
                               "or bytes per value") from None
    return as_positive("bytes per weight", dtype)


def _weights(weights: Any, storage: Any) -> tuple:
    """(bytes of the 16-bit weights, the Storage of the linears or None) from ``weights`` and ``storage``."""
    from .placement import as_storage
    from .storage import Storage

    storage = as_storage(storage)
    name = weights.lower() if isinstance(weights, str) else None
    if name in _QUANTIZED_NAMES:
        if storage is not None:
            raise SymcalcError(f"weights={weights!r} and storage={storage.format!r} both quantize the linears; give one")
        return Integer(2), Storage(_QUANTIZED_NAMES[name])
    bw = weight_bytes(weights)
    if storage is not None and not (bw - 2).is_nonnegative:
        raise SymcalcError(f"weights={weights!r} below 16 bits with storage={storage.format!r}: the storage quantizes "
                           "the linears; weights is the dtype of the rest (bf16, fp16 or fp32)")
    return bw, storage


def stored_weights(model, par: Parallel, *, weights: Any, storage: Any = None, bytes_act: Any = 2) -> dict[str, Expr]:
    """Bytes of the stored weights of each parameter part on one device, ``{part: bytes}``, for inference.

    The one place serving reads weight bytes from: :func:`inference_memory`'s ``weights/<part>`` and
    the roofline's weight traffic (:mod:`symcalc.serving`). ``weights`` and ``storage`` as for
    :func:`inference_memory` (a quantized name or a :class:`~symcalc.memory.storage.Storage` stores
    the linears, scales included for a storage format, the rest in 16 bits); the parts are
    :func:`~symcalc.memory.placement.state_terms`' weights, every part frozen, no optimizer, in the
    order of :func:`~symcalc.memory.parallel.parallel_param_parts`, plus ``dequantized`` (the one
    matrix a 4-bit format dequantizes at a time, ``bytes_act`` per value) where the storage has one.

    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=1, d_ff=32, vocab=10)
    >>> w = stored_weights(m, Parallel(), weights="int4")
    >>> w["lm_head/weight"], w["mlp/up"]             # the LM head stays 16-bit, the linears take 1/2 byte
    (160, 256)
    """
    from ..finetune import ALL

    bw, storage = _weights(weights, storage)
    terms = state_terms(model, par, precision=Precision(weight=bw, grad=0, master=0, act=bytes_act),
                        optimizer="none", freeze=ALL, storage=storage)
    return {term.part: term.bytes for term in terms if term.kind == "weights"}


#: ``weights`` names below 16 bits: they quantize the linears only (plain, scales not counted).
_QUANTIZED_NAMES = {"fp8": "fp8-plain", "int8": "int8-plain", "int4": "int4"}


def kv_cache(
    model,
    *,
    tokens: Any = S.context_len,
    batch: Any = S.micro_batch,
    bytes_kv: Any = 2,
    tp: Any = 1,
    pp: Any = 1,
    window_cache: Optional[str] = None,
    mla_cache: Optional[str] = None,
) -> Expr:
    """KV-cache bytes per device.

    .. math::

        2 \\cdot \\frac{L}{p} \\cdot \\frac{g}{t} \\cdot d_h \\cdot \\beta_{kv} \\cdot s_{\\mathrm{ctx}} \\cdot b

    for full attention; ``L_w`` windowed layers keep ``min(s_ctx, W)`` tokens instead of ``s_ctx``,
    and MLA layers cache ``r_kv + d_r`` values per token instead of ``2 g d_h``.

    Parameters
    ----------
    tokens : expression
        Cached tokens per sequence (prompt plus generated) [tokens].
    batch : expression
        Sequences [sequences].
    bytes_kv : expression
        Bytes per cached value (a dtype name works too: ``"fp8"``).
    tp, pp : expression
        Tensor- and pipeline-parallel degrees. With p > 1 the windowed and full layers are taken
        spread evenly over the stages (exact when p = 1).
    window_cache : ``"window"`` (today's default) or ``"window-1"``; None: the active default
        A windowed layer keeps ``min(T, W)`` tokens (static caches, serving engines) or
        ``min(T, W − 1)`` (transformers' DynamicCache after a forward).
    mla_cache : ``"latent"`` (today's default) or ``"decompressed"``; None: the active default
        MLA caches the latent ``r_kv + d_r`` per token (transformers, vLLM), or per-head K and V,
        ``(a/t)(d_n + d_r + d_v)``, as a naive implementation would.

    >>> from symcalc import Model
    >>> kv_cache(Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8), tokens=4096, batch=1)
    536870912

    References
    ----------
    Pope et al. 2022, "Efficiently Scaling Transformer Inference", Section 2 (KV cache size).
    """
    from ..defaults import resolve

    m = as_model("model", model)
    tokens, batch, pp, tp = as_size("tokens", tokens), as_size("batch", batch), as_size("pp", pp), as_size("tp", tp)
    window_cache = as_choice("window_cache", resolve("window_cache", window_cache), WINDOW_CACHE)
    mla_cache = as_choice("mla_cache", resolve("mla_cache", mla_cache), MLA_CACHE)
    n_win = m.n_windowed_layers
    cached = (m.n_layers - n_win) * tokens + n_win * m.window.cached_tokens(tokens, window_cache)
    return cached / pp * m.attention._kv_values(m, tp, mla_cache) * weight_bytes(bytes_kv) * batch


def inference_memory(
    model,
    *,
    seq_len: Any = S.seq_len,
    n_generate: Any = 1,
    micro_batch: Any = S.micro_batch,
    weights: Any = None,
    bytes_kv: Any = None,
    bytes_act: Any = None,
    flash_attention: Optional[bool] = None,
    misc_bytes: Any = None,
    prefill_batch: Any = None,
    parallel: Optional[Parallel] = None,
    window_cache: Optional[str] = None,
    mla_cache: Optional[str] = None,
    storage: Any = None,
    **degrees: Any,
) -> Breakdown:
    """Bytes per device for inference: ``weights/<part>``, ``kv_cache``, ``activations/<tensor>``, ``misc``.

    .. math::

        M = \\beta_w \\sum_i N_i + 2 \\frac{L}{p}\\frac{g}{t} d_h \\beta_{kv} (s + n_{\\mathrm{gen}}) b
        + A_{\\text{one layer}}(s, b) + M_{\\text{misc}}

    Parameters
    ----------
    seq_len : prompt length s [tokens]
    n_generate : tokens generated [tokens]; the cache holds ``s + n_generate`` tokens
    micro_batch : sequences b
    weights : a dtype name or bytes per weight
        A 16- or 32-bit name (``"bf16"``, ``"fp32"``) or a number applies to every weight; a quantized
        name (``"fp8"``, ``"int8"``, ``"int4"``: 1, 1, 1/2 byte, scales not counted) applies to the
        linears only, as :class:`~symcalc.memory.storage.Storage` does: the embedding, the LM head,
        norms and biases stay in 16 bits.
    storage : :class:`~symcalc.memory.storage.Storage` or a format name, optional
        Quantized linears with their scales (``"nf4"``, ``"int8"``, ``Storage("nf4", double_quant=True)``);
        the rest stays at ``weights`` (then a 16- or 32-bit dtype).
    bytes_kv, bytes_act : bytes per KV-cache value and per activation
    prefill_batch : sequences whose prompts are prefilled at once, for the transient activations
        (default ``micro_batch``: the whole batch together; 1: one prompt at a time, as a
        continuous-batching engine admits requests)
    window_cache, mla_cache : KV-cache conventions of windowed and MLA layers (see :func:`kv_cache`)
    flash_attention : no s² scores (the default, :mod:`symcalc.defaults`), or eager attention
    parallel / degrees : as for :func:`~symcalc.memory.training_memory` (tp and pp matter)

    Notes
    -----
    Settings left at ``None`` take the active defaults (:mod:`symcalc.defaults`): bf16 weights and
    KV cache, the recipe's activation bytes, flash attention, no sequence parallelism.

    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=1, d_ff=32, vocab=10)
    >>> inference_memory(m, seq_len=3, n_generate=1, micro_batch=1, weights="int4").grouped().as_ints()
    {'weights': 1184, 'kv_cache': 128, 'activations': 744, 'misc': 0}
    """
    from ..defaults import active, resolve
    from .states import activation_bytes

    model = as_model("model", model)
    flash_attention = as_bool("flash_attention", resolve("flash_attention", flash_attention))
    weights = resolve("weight_dtype", weights)
    bytes_kv = WEIGHT_DTYPES[active().kv_cache_dtype] if bytes_kv is None else bytes_kv
    bytes_act = activation_bytes(bytes_act)
    misc_bytes = resolve("misc_bytes", misc_bytes)
    par = as_parallel(parallel, degrees)
    n = check_amounts(seq_len=seq_len, n_generate=n_generate, micro_batch=micro_batch, misc_bytes=misc_bytes)
    seq_len, n_generate, micro_batch, misc_bytes = n["seq_len"], n["n_generate"], n["micro_batch"], n["misc_bytes"]
    if par.cp != 1:
        raise SymcalcError(f"cp={par.cp} for inference; context parallelism is modelled for training only "
                           "(a decode step cannot split its one new token), use cp=1")
    par.check_model(model)
    parts = {f"weights/{part}": value for part, value in
             stored_weights(model, par, weights=weights, storage=storage, bytes_act=bytes_act).items()}
    parts["kv_cache"] = kv_cache(model, tokens=seq_len + n_generate, batch=micro_batch,
                                 bytes_kv=bytes_kv, tp=par.tp, pp=par.pp, window_cache=window_cache,
                                 mla_cache=mla_cache)
    prefill = micro_batch if prefill_batch is None else as_size("prefill_batch", prefill_batch)
    layer = layer_activations(model, seq_len=seq_len, micro_batch=prefill, bytes_act=bytes_act, tp=par.tp,
                              cp=par.cp, sequence_parallel=bool(par.sequence_parallel), flash_attention=flash_attention,
                              dropout=False)
    parts.update(layer.prefixed("activations").items())
    parts["misc"] = misc_bytes
    title = "inference memory per device" + (f" - {model.name}" if model.name else "")
    return Breakdown(parts, unit="bytes", title=title)
