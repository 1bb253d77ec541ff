"""``config.json`` readers for the families of 2024-26: windows, qk-norm, sinks, MLA, modern MoE layouts.

Imported by :mod:`symcalc.hf`, which registers :data:`MODERN_FAMILIES` beside the older ones.
Each reader maps a config to :class:`~symcalc.model.Model` fields and structure objects
(:mod:`symcalc.structure`), with the facts transformers 5.24 applies when a field is absent
(its config classes' defaults, the ``layer_types`` each family derives). Checked part by part
against the transformers models in ``tests/conformance``.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from .errors import SymcalcError
from .hf import _Config, _gemma, _llama_like
from .structure import FULL, GQA, MLA, MTP, LayerSet, Window

__all__ = ["MODERN_FAMILIES", "windows_from_layer_types", "qwen_windows", "simple_window"]

_LAYER_TYPES = ("full_attention", "sliding_attention", "chunked_attention")


def _layer_types(c: _Config, n_layers: int, default: Callable[[int], list]) -> list:
    """``layer_types`` from the config (checked), or the family's default list."""
    value = c.raw("layer_types", default=None)
    if value is None:
        return default(n_layers)
    if not isinstance(value, list) or len(value) != n_layers or not all(isinstance(t, str) for t in value):
        raise SymcalcError(f"{c.source}: field 'layer_types' must be a list of {n_layers} strings "
                           f"(one per layer: {', '.join(_LAYER_TYPES)})")
    unknown = sorted({t for t in value if t not in _LAYER_TYPES})
    if unknown:
        raise SymcalcError(f"{c.source}: layer_types {', '.join(map(repr, unknown))} are not modelled "
                           f"(symcalc has {', '.join(_LAYER_TYPES)}); linear-attention and state-space layers are missing structures")
    return value


def windows_from_layer_types(c: _Config, types: list, *, sliding: Optional[int], chunk: Optional[int] = None) -> Window:
    """The :class:`~symcalc.structure.Window` a list of layer types describes.

    Layers typed sliding (chunked) are windowed when the window (chunk) size is set; transformers
    treats a sliding layer without ``sliding_window`` as full attention.
    """
    L = len(types)
    slid = [i for i, t in enumerate(types) if t == "sliding_attention"]
    chunked = [i for i, t in enumerate(types) if t == "chunked_attention"]
    if slid and chunked and sliding is not None and chunk is not None:
        raise SymcalcError(f"{c.source}: sliding and chunked layers in one model are not modelled; use one window kind")
    if slid and sliding is not None:
        return Window.sliding(sliding, LayerSet.from_indices(slid, L))
    if chunked and chunk is not None:
        return Window.chunked(chunk, LayerSet.from_indices(chunked, L))
    return FULL


def simple_window(c: _Config) -> Window:
    """Mistral, Mixtral, Phi-3, Phi-MoE: ``sliding_window`` on every layer when set."""
    W = c.size("sliding_window", default=None)
    return FULL if W is None else Window.sliding(W)


def qwen_windows(c: _Config, n_layers: int, *, moe: bool = False) -> Window:
    """Qwen2/Qwen3 (and their MoE): a window only with ``use_sliding_window``; layers from
    ``max_window_layers`` on (Qwen2-MoE: odd-numbered layers below it), unless ``layer_types`` says."""
    use = c.flag("use_sliding_window", default=False)
    W = c.size("sliding_window", default=None) if use else None
    mwl = c.size("max_window_layers", default=28, minimum=0)

    def default(L: int) -> list:
        if moe:
            return ["sliding_attention" if use and (i + 1) % 2 and i < mwl else "full_attention" for i in range(L)]
        return ["sliding_attention" if W is not None and i >= mwl else "full_attention" for i in range(L)]

    return windows_from_layer_types(c, _layer_types(c, n_layers, default), sliding=W)


def _every_kth_global(c: _Config, n_layers: int, pattern_key: str, default_pattern: int) -> Window:
    """Gemma-2/3, gpt-oss, Cohere-2: local layers except every k-th (``sliding_window_pattern``)."""
    k = c.size(pattern_key, default=default_pattern)

    def default(L: int) -> list:
        return ["sliding_attention" if (i + 1) % k else "full_attention" for i in range(L)]

    return windows_from_layer_types(c, _layer_types(c, n_layers, default), sliding=c.size("sliding_window", default=None))


def _indices(c: _Config, field: str, value: Any) -> list:
    """A list of layer indices (each a whole number >= 0), or a one-line error naming the field."""
    if not isinstance(value, list):
        raise SymcalcError(f"{c.source}: field {field!r} must be a list of layer indices")
    return [c.integer(field, i, minimum=0) for i in value]


def _moe_layers_from_indices(c: _Config, n_layers: int, indices: list, field: str) -> LayerSet:
    if not indices:
        raise SymcalcError(f"{c.source}: field {field!r} leaves no MoE layer; a MoE config needs at least one")
    return LayerSet.from_indices(indices, n_layers)


# --- families -------------------------------------------------------------------------------
def _qwen3(c: _Config, *, moe: bool = False) -> dict:
    bias = c.flag("attention_bias", default=False)
    base = _llama_like(c, qkv_bias=bias, out_bias=bias, head_dim=128)
    base["attention"] = GQA(qk_norm="head")
    base["window"] = qwen_windows(c, base["n_layers"])
    if moe:
        base.update(_qwen_moe_layout(c, base["n_layers"], experts_keys=("num_experts", "num_local_experts")))
    return base


def _qwen_moe_layout(c: _Config, L: int, *, experts_keys: tuple) -> dict:
    """Experts, top-k, expert size and the layers that are MoE: ``(i+1) % decoder_sparse_step == 0``
    and ``i`` not in ``mlp_only_layers`` (any list)."""
    n = c.size(*experts_keys, minimum=0)
    if n == 0:
        return {}
    step = c.size("decoder_sparse_step", default=1)
    dense = _indices(c, "mlp_only_layers", c.raw("mlp_only_layers", default=[]))
    moe = [i for i in range(L) if i not in dense and (i + 1) % step == 0]
    return dict(n_experts=n, top_k=c.size("num_experts_per_tok"), d_ff_expert=c.size("moe_intermediate_size"),
                moe_layers=_moe_layers_from_indices(c, L, moe, "mlp_only_layers"))


def _llama4_text(c: _Config) -> dict:
    base = _llama_like(c, head_dim=128)
    bias = c.flag("attention_bias", default=False)
    base.update(qkv_bias=bias, attn_out_bias=bias, d_ff=c.size("intermediate_size_mlp", default=16384))
    L = base["n_layers"]
    # no_rope_layers[i] = 1: layer i uses RoPE, and (with attention_chunk_size) chunked attention.
    interval = c.size("no_rope_layer_interval", default=4)
    rope = c.raw("no_rope_layers", default=None) or [int((i + 1) % interval != 0) for i in range(L)]
    if not isinstance(rope, list) or len(rope) != L:
        raise SymcalcError(f"{c.source}: field 'no_rope_layers' must be a list of {L} flags (1: the layer uses RoPE)")
    chunk = c.size("attention_chunk_size", default=None)
    types = _layer_types(c, L, lambda n: ["chunked_attention" if r and chunk is not None else "full_attention"
                                          for r in rope])
    base["window"] = windows_from_layer_types(c, types, sliding=None, chunk=chunk)
    # Llama-4's qk-norm is an L2 norm without weights (on the RoPE layers): no parameters.
    base["attention"] = GQA(qk_norm="weightless" if c.flag("use_qk_norm", default=True) else "none")
    n = c.size("num_local_experts", default=16, minimum=0)
    if n:
        step = c.size("interleave_moe_layer_step", default=1)
        layers = c.raw("moe_layers", default=None)
        if layers is None:
            layers = list(range(step - 1, L, step))
        layers = _indices(c, "moe_layers", layers)
        d_expert = c.size("intermediate_size", default=8192)
        base.update(n_experts=n, top_k=c.size("num_experts_per_tok", default=1), d_ff_expert=d_expert,
                    n_shared_experts=1, d_ff_shared=d_expert,
                    moe_layers=_moe_layers_from_indices(c, L, [i for i in layers if i < L], "moe_layers"))
    return base


def _gemma3_text(c: _Config) -> dict:
    base = _gemma(c, norms=4)
    base["attention"] = GQA(qk_norm="head")
    base["window"] = _every_kth_global(c, base["n_layers"], "sliding_window_pattern", 6)
    return base


def _gpt_oss(c: _Config) -> dict:
    bias = c.flag("attention_bias", default=True)
    base = _llama_like(c, qkv_bias=bias, out_bias=bias, head_dim=64)
    base["attention"] = GQA(sinks=True)
    base["window"] = _every_kth_global(c, base["n_layers"], "sliding_window_pattern", 2)
    base.update(n_experts=c.size("num_local_experts", default=128), top_k=c.size("num_experts_per_tok",
                "experts_per_token", default=4), d_ff_expert=base["d_ff"], router_bias=True, mlp_bias=True)
    return base


def _olmo2(c: _Config) -> dict:
    bias = c.flag("attention_bias", default=False)
    base = _llama_like(c, qkv_bias=bias, out_bias=bias)
    # q_norm over all a·d_h query features and k_norm over g·d_h; two post-norms per layer
    base["attention"] = GQA(qk_norm="full")
    return base


def _phimoe(c: _Config) -> dict:
    bias = c.flag("attention_bias", default=False)
    base = _llama_like(c, qkv_bias=bias, out_bias=bias)
    base.update(norm="layernorm", norm_bias=True, lm_head_bias=c.flag("lm_head_bias", default=False),
                window=simple_window(c), n_experts=c.size("num_local_experts", default=16),
                top_k=c.size("num_experts_per_tok", default=2), d_ff_expert=base["d_ff"])
    return base


def _deepseek_layout(c: _Config, L: int) -> dict:
    """Routed and shared experts, dense-first layers and ``moe_layer_freq`` (DeepSeek-V2/V3, GLM-4.5)."""
    n = c.size("n_routed_experts", "num_local_experts", minimum=0, default=0)
    if n == 0:
        return {}
    first = c.size("first_k_dense_replace", default=0, minimum=0)
    freq = c.size("moe_layer_freq", default=1)
    if first >= L:
        return {}  # every layer dense (transformers builds no MoE block)
    out: dict[str, Any] = dict(n_experts=n, top_k=c.size("num_experts_per_tok"),
                               d_ff_expert=c.size("moe_intermediate_size"),
                               moe_layers=LayerSet(every=freq, offset=0, first=min(first, L)))
    shared = c.size("n_shared_experts", default=0, minimum=0)
    if shared:
        out.update(n_shared_experts=shared, d_ff_shared=out["d_ff_expert"])
    return out


def _mtp(c: _Config, mtp: bool) -> Optional[MTP]:
    n = c.size("num_nextn_predict_layers", "num_mtp_layers", default=0, minimum=0)
    if mtp and not n:
        raise SymcalcError(f"{c.source}: mtp requested but num_nextn_predict_layers is 0 or absent; "
                           "this checkpoint has no multi-token-prediction modules")
    return MTP(n) if mtp else None


def _deepseek(c: _Config, *, mtp: bool = False) -> dict:
    a = c.size("num_attention_heads")
    bias = c.flag("attention_bias", default=False)
    q_lora = c.size("q_lora_rank", default=None)
    base = dict(
        n_layers=c.size("num_hidden_layers"), d_model=c.size("hidden_size"), n_heads=a, n_kv_heads=a,
        d_ff=c.size("intermediate_size"), vocab=c.size("vocab_size"), position="rope", gated_mlp=True,
        norm="rmsnorm", qkv_bias=bias, attn_out_bias=bias,
        tied_embeddings=c.flag("tie_word_embeddings", default=False),
        activation=c.activation("hidden_act", default="silu"),
        # transformers overwrites head_dim with qk_rope_head_dim for these configs: read the MLA fields.
        attention=MLA(q_lora_rank=q_lora, kv_lora_rank=c.size("kv_lora_rank"),
                      d_nope=c.size("qk_nope_head_dim"), d_rope=c.size("qk_rope_head_dim"),
                      d_v=c.size("v_head_dim")),
        mtp=_mtp(c, mtp),
    )
    base.update(_deepseek_layout(c, base["n_layers"]))
    return base


def _glm4_moe(c: _Config, *, mtp: bool = False) -> dict:
    h, a = c.size("hidden_size"), c.size("num_attention_heads")
    # q/k/v biases only (o_proj has none); head_dim defaults to h // a as transformers does
    base = _llama_like(c, qkv_bias=c.flag("attention_bias", default=False), head_dim=h // a)
    base["attention"] = GQA(qk_norm="head" if c.flag("use_qk_norm", default=False) else "none")
    base["mtp"] = _mtp(c, mtp)
    base.update(_deepseek_layout(c, base["n_layers"]))
    return base


def _smollm3(c: _Config) -> dict:
    bias = c.flag("attention_bias", default=False)
    base = _llama_like(c, tied=True, qkv_bias=bias, out_bias=bias, mlp_bias=c.flag("mlp_bias", default=False))
    use = c.flag("use_sliding_window", default=False)
    W = c.size("sliding_window", default=None) if use else None
    interval = c.size("no_rope_layer_interval", default=4)
    rope = c.raw("no_rope_layers", default=None) or [int((i + 1) % interval != 0) for i in range(base["n_layers"])]
    types = _layer_types(c, base["n_layers"], lambda L: [
        "sliding_attention" if W is not None and not rope[i] else "full_attention" for i in range(L)])
    base["window"] = windows_from_layer_types(c, types, sliding=W)
    return base


def _granite(c: _Config) -> dict:
    # embedding/residual/attention multipliers and logits scaling change no parameter or matmul
    bias = c.flag("attention_bias", default=False)
    return _llama_like(c, qkv_bias=bias, out_bias=bias, mlp_bias=c.flag("mlp_bias", default=False))


def _cohere2(c: _Config) -> dict:
    bias = c.flag("attention_bias", default=False)
    h, a = c.size("hidden_size"), c.size("num_attention_heads")
    base = _llama_like(c, tied=True, qkv_bias=bias, out_bias=bias)
    # one LayerNorm without bias feeds attention and MLP in parallel; head_dim is always h // a
    base.update(norm="layernorm", norm_bias=False, parallel_block=True, norms_per_layer=1, d_head=h // a)
    base["window"] = _every_kth_global(c, base["n_layers"], "sliding_window_pattern", 4)
    return base


#: model_type -> reader (``mtp`` readers take the keyword).
MODERN_FAMILIES: dict[str, Callable[..., dict]] = {
    "qwen3": _qwen3,
    "qwen3_moe": lambda c: _qwen3(c, moe=True),
    "llama4_text": _llama4_text,
    "gemma3_text": _gemma3_text,
    "gpt_oss": _gpt_oss,
    "olmo2": _olmo2,
    "phimoe": _phimoe,
    "deepseek_v2": _deepseek,
    "deepseek_v3": _deepseek,
    "kimi_k2": _deepseek,
    "glm4_moe": _glm4_moe,
    "smollm3": _smollm3,
    "granite": _granite,
    "cohere2": _cohere2,
}
#: Families whose config may hold multi-token-prediction modules.
MTP_FAMILIES = ("deepseek_v2", "deepseek_v3", "kimi_k2", "glm4_moe")
#: Multimodal wrappers: the text model lives in ``text_config`` (its model_type, or this default).
NESTED_TEXT = {"llama4": "llama4_text", "gemma3": "gemma3_text"}
#: Config-class defaults transformers fills in when a nested text_config leaves them out
#: (Gemma-3's 4B-27B files give only what differs from Gemma3TextConfig()).
TEXT_DEFAULTS = {
    "gemma3_text": dict(vocab_size=262208, hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
                        num_attention_heads=8, num_key_value_heads=4, head_dim=256, sliding_window=4096),
    "llama4_text": dict(vocab_size=202048, hidden_size=5120, intermediate_size=8192, intermediate_size_mlp=16384,
                        num_hidden_layers=48, num_attention_heads=40, num_key_value_heads=8, head_dim=128,
                        attention_chunk_size=8192, num_local_experts=16, num_experts_per_tok=1),
}
#: model_types symcalc does not read, and the structure each needs that symcalc does not have.
MISSING_STRUCTURE = {
    "qwen3_next": "gated DeltaNet linear-attention layers", "qwen3_5": "gated DeltaNet linear-attention layers",
    "qwen3_5_moe": "gated DeltaNet linear-attention layers", "kimi_linear": "linear (KDA) attention layers",
    "minimax": "lightning (linear) attention layers", "deepseek_v32": "DeepSeek sparse attention (its lightning indexer)",
    "deepseek_v4": "compressed sparse attention and hyper-connections", "glm_moe_dsa": "DeepSeek sparse attention (its indexer)",
    "jamba": "state-space (Mamba) layers", "mamba": "state-space (Mamba) layers", "mamba2": "state-space (Mamba) layers",
    "falcon_h1": "state-space (Mamba) layers", "falcon_mamba": "state-space (Mamba) layers",
    "zamba": "state-space (Mamba) layers", "zamba2": "state-space (Mamba) layers", "bamba": "state-space (Mamba) layers",
    "nemotron_h": "state-space (Mamba) layers", "granitemoehybrid": "state-space (Mamba) layers",
    "lfm2": "short-convolution layers", "rwkv": "recurrent (RWKV) layers", "recurrent_gemma": "recurrent (RG-LRU) layers",
    "gemma3n": "per-layer embeddings, AltUp and shared KV layers", "t5": "an encoder and cross-attention",
    "bart": "an encoder and cross-attention", "whisper": "an encoder and cross-attention",
}
