"""Models from Hugging Face ``config.json`` files: no network, no transformers import.

A ``config.json`` gives the sizes; each family's *structure* (which linears have biases, the
norm kind, extra position rows, MQA, parallel blocks, tied embeddings by default) lives in the
model code, so this module encodes it per ``model_type``. Both older files (``torch_dtype``,
``rope_theta``, ``n_head``/``n_layer`` spellings) and files written by transformers 5
(``dtype``, ``rope_parameters``, always-written ``head_dim``) load: keys that do not change a
parameter count are ignored, and every renamed size key is accepted under each of its names.

Family facts applied (checked against the transformers models in the conformance tests):

- **gpt2**: learned positions (``n_positions`` rows), LayerNorm, biases on every linear,
  ``n_inner`` null means 4h, tied by default.
- **gpt_neox** (Pythia): LayerNorm, biases on the MLP always and on attention unless
  ``attention_bias`` is false, untied by default, rotary.
- **opt**: learned positions with ``max_position_embeddings + 2`` rows, ``word_embed_proj_dim``
  projected to h (OPT-350m: 512 -> 1024), biases unless ``enable_bias`` is false, no final norm
  when ``do_layer_norm_before`` is false (OPT-350m), tied by default.
- **bloom**: ALiBi, a LayerNorm on the embedding, MLP 4h, biases everywhere, tied by default.
- **falcon**: MQA when ``multi_query`` (one KV head), ``num_kv_heads`` only with
  ``new_decoder_architecture`` (40B), parallel blocks with one shared norm (7B) or two (40B),
  LayerNorm, linear biases only when ``bias``, tied by default.
- **llama**, **mistral**, **mixtral**, **qwen2**, **qwen2_moe**, **gemma**, **gemma2**,
  **phi3**: RMSNorm, gated MLP, rotary, untied by default except Gemma; no biases except
  Llama's ``attention_bias``/``mlp_bias`` and Qwen2's q/k/v biases; Gemma's head_dim defaults
  to 256; Gemma-2 has four norms per layer; Qwen2-MoE has a gated shared expert.
- **fused linears** (``Model.fused_linears``; counts unchanged, LoRA targets see one matrix):
  GPT-2's ``c_attn``, GPT-NeoX's, BLOOM's and Falcon's ``query_key_value`` and Phi-3's
  ``qkv_proj`` hold Q, K and V; Phi-3's ``gate_up_proj`` holds the MLP's gate and up.

>>> from symcalc import params
>>> m = model_from_hf_config({"model_type": "gpt2", "n_layer": 12, "n_embd": 768, "n_head": 12,
...                           "vocab_size": 50257, "n_positions": 1024})
>>> params(m).total
124439808
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, Callable, Optional

from .dropout import Dropout
from .errors import SymcalcError
from .inputs import as_expr
from .model import Model

__all__ = ["model_from_hf_config", "load_hf_config", "SUPPORTED_MODEL_TYPES"]

_MISSING = object()
#: Largest size a config field may hold (as the CLI's size flags): beyond any real model, and
#: it keeps the float64 paths (sweeps, solvers, the planner) finite.
MAX_CONFIG_SIZE = 10**18


def _shown(path: str) -> str:
    """A path as printed in a one-line error: as it is, or its repr when it holds a newline or other control character."""
    return path if path.isprintable() else repr(path)

# Hugging Face activation names -> Model.activation (only FLOPs of elementwise work care).
_ACTIVATIONS = {
    "gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_fast": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh",
    "gelu_python": "gelu", "silu": "silu", "swish": "silu", "relu": "relu",
}


def load_hf_config(config: Any) -> tuple[dict, str]:
    """The parsed config and a label naming its source (the file, or "config dict").

    ``config`` is a path to ``config.json``, a folder holding one, or an already parsed mapping.
    """
    if isinstance(config, Mapping):
        return dict(config), "config dict"
    if not isinstance(config, (str, os.PathLike)):
        raise SymcalcError(f"config {config!r:.60} is neither a path to config.json nor a dict")
    path = os.fspath(config)
    if not isinstance(path, str):
        raise SymcalcError(f"config {config!r:.60} is not a text path; give the path to a config.json as a str")
    shown = _shown(path)
    if "\0" in path:
        raise SymcalcError(f"{shown}: no such file (a path cannot hold a NUL character)")
    if os.path.isdir(path):
        path = os.path.join(path, "config.json")
        shown = _shown(path)
    if not os.path.isfile(path):
        raise SymcalcError(f"{shown}: no such file; give the path to a Hugging Face config.json or its folder")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(_MAX_CONFIG_BYTES + 1)
        if len(text) > _MAX_CONFIG_BYTES:
            raise SymcalcError(f"{shown}: larger than {_MAX_CONFIG_BYTES // 2**20} MiB; a config.json is a few KiB")
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SymcalcError(f"{shown}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                           "a config.json is one JSON object") from None
    except RecursionError:
        raise SymcalcError(f"{shown}: JSON nested too deeply; a config.json is one flat object") from None
    except ValueError as exc:  # an integer of more than 4300 digits (Python's int-from-text limit)
        reason = ("an integer has more than 4300 digits; sizes are at most 1e18" if "digits" in str(exc)
                  else " ".join(str(exc).split())[:80])
        raise SymcalcError(f"{shown}: not a usable config.json ({reason})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SymcalcError(f"{shown}: cannot read it ({exc.__class__.__name__}); give a readable config.json") from None
    if not isinstance(data, dict):
        raise SymcalcError(f"{shown}: holds a JSON {type(data).__name__}, not an object; a config.json is one JSON object")
    return data, path


#: A config.json larger than this is refused before parsing (real ones are a few KiB).
_MAX_CONFIG_BYTES = 16 * 2**20


def _short(value: Any) -> str:
    """A field's value for an error message: its repr, on one line, at most 60 characters."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**50:
        return f"an integer of about {int(abs(value).bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


class _Config:
    """A config dict plus its source label, with one-line errors naming the field."""

    def __init__(self, data: dict, source: str, family: str) -> None:
        self.data, self.source, self.family = data, source, family

    def raw(self, *keys: str, default: Any = _MISSING) -> Any:
        """The first of ``keys`` present with a non-null value, else ``default``."""
        for key in keys:
            if self.data.get(key) is not None:
                return self.data[key]
        if default is _MISSING:
            names = " or ".join(repr(k) for k in keys)
            raise SymcalcError(f"{self.source}: missing field {names}; a {self.family} config.json needs it")
        return default

    def size(self, *keys: str, default: Any = _MISSING, minimum: int = 1) -> Any:
        """An integer field in ``[minimum, 1e18]``; ``default`` when absent or null.

        A float counts when its decimal text is whole (``4096.0``; ``1e23`` is 10^23 exactly, and out
        of range); strings, booleans and lists are refused.
        """
        key = next((k for k in keys if self.data.get(k) is not None), None)
        if key is None:
            return self.raw(*keys, default=default)
        return self.integer(key, self.data[key], minimum)

    def integer(self, key: str, value: Any, minimum: int = 1) -> int:
        """``value`` of field ``key`` as a whole number in ``[minimum, 1e18]``."""
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SymcalcError(f"{self.source}: field {key!r}={_short(value)} must be {kind}")
        given = value
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise SymcalcError(f"{self.source}: field {key!r}={value!r} must be {kind}")
            exact = as_expr(key, value)
            if not exact.is_Integer:
                raise SymcalcError(f"{self.source}: field {key!r}={value!r} must be {kind}")
            value = int(exact)
        if value < minimum:
            raise SymcalcError(f"{self.source}: field {key!r}={_short(given)} must be {kind}")
        if value > MAX_CONFIG_SIZE:
            raise SymcalcError(f"{self.source}: field {key!r}={_short(given)} is out of range; "
                               f"it must be {kind} of at most 1e18")
        return value

    def rate(self, *keys: str, default: float) -> float:
        """A dropout rate in [0, 1) (the first of ``keys`` present); ``default`` (the family's) when absent."""
        key = next((k for k in keys if self.data.get(k) is not None), None)
        if key is None:
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise SymcalcError(f"{self.source}: field {key!r}={_short(value)} must be a dropout rate in [0, 1)")
        return value

    def flag(self, *keys: str, default: bool) -> bool:
        """A boolean field; ``default`` when absent or null."""
        value = self.raw(*keys, default=default)
        if not isinstance(value, bool):
            raise SymcalcError(f"{self.source}: field {keys[0]!r}={_short(value)} must be true or false")
        return value

    def activation(self, *keys: str, default: str) -> str:
        value = self.raw(*keys, default=None)
        return _ACTIVATIONS.get(value, default) if isinstance(value, str) else default


def _gpt2(c: _Config) -> dict:
    if c.flag("add_cross_attention", default=False):
        raise SymcalcError(f"{c.source}: add_cross_attention=true is an encoder-decoder; symcalc counts decoder-only models")
    h, a = c.size("n_embd", "hidden_size"), c.size("n_head", "num_attention_heads")
    return dict(
        # GPT2Config's defaults: 0.1 everywhere; the softmax runs in the activation dtype
        dropout=Dropout.from_rates(attention=c.rate("attn_pdrop", default=0.1), residual=c.rate("resid_pdrop", default=0.1),
                                   embedding=c.rate("embd_pdrop", default=0.1)),
        softmax_fp32=False,
        n_layers=c.size("n_layer", "num_hidden_layers"), d_model=h, n_heads=a, n_kv_heads=a,
        d_ff=c.size("n_inner", default=4 * h), vocab=c.size("vocab_size"),
        position="learned", n_positions=c.size("n_positions", "max_position_embeddings", "n_ctx"),
        qkv_bias=True, attn_out_bias=True, mlp_bias=True, norm="layernorm",
        tied_embeddings=c.flag("tie_word_embeddings", default=True),
        activation=c.activation("activation_function", default="gelu_tanh"), fused_linears=("qkv",),
    )


def _gpt_neox(c: _Config) -> dict:
    attn_bias = c.flag("attention_bias", default=True)
    a = c.size("num_attention_heads")
    hidden = c.rate("hidden_dropout", default=0.0)  # post-attention, post-MLP and embedding dropout
    return dict(
        dropout=Dropout.from_rates(attention=c.rate("attention_dropout", default=0.0), residual=hidden, embedding=hidden),
        softmax_fp32=True,
        n_layers=c.size("num_hidden_layers"), d_model=c.size("hidden_size"), n_heads=a, n_kv_heads=a,
        d_ff=c.size("intermediate_size"), vocab=c.size("vocab_size"), position="rope",
        qkv_bias=attn_bias, attn_out_bias=attn_bias, mlp_bias=True, norm="layernorm",
        parallel_block=c.flag("use_parallel_residual", default=True),
        tied_embeddings=c.flag("tie_word_embeddings", default=False),
        activation=c.activation("hidden_act", default="gelu"), fused_linears=("qkv",),
    )


def _opt(c: _Config) -> dict:
    if not c.flag("layer_norm_elementwise_affine", default=True):
        raise SymcalcError(f"{c.source}: layer_norm_elementwise_affine=false (parameter-free norms) is not supported; "
                           "symcalc's LayerNorm has a weight and bias")
    h = c.size("hidden_size")
    bias = c.flag("enable_bias", default=True)
    pre_norm = c.flag("do_layer_norm_before", default=True)
    a = c.size("num_attention_heads")
    return dict(
        # OPTConfig: dropout 0.1 after attention and after fc2, attention_dropout 0.0, none on embeddings
        dropout=Dropout.from_rates(attention=c.rate("attention_dropout", default=0.0), residual=c.rate("dropout", default=0.1)),
        softmax_fp32=True,
        n_layers=c.size("num_hidden_layers"), d_model=h, n_heads=a, n_kv_heads=a,
        d_ff=c.size("ffn_dim"), vocab=c.size("vocab_size"),
        # OPTLearnedPositionalEmbedding keeps 2 extra rows (the padding offset).
        position="learned", n_positions=c.size("max_position_embeddings") + 2,
        d_embed=c.size("word_embed_proj_dim", default=h),
        qkv_bias=bias, attn_out_bias=bias, mlp_bias=bias, norm="layernorm",
        final_norm=pre_norm and not c.flag("_remove_final_layer_norm", default=False),
        tied_embeddings=c.flag("tie_word_embeddings", default=True),
        activation=c.activation("activation_function", default="relu"),
    )


def _bloom(c: _Config) -> dict:
    h, a = c.size("hidden_size", "n_embed"), c.size("n_head", "num_attention_heads")
    return dict(
        dropout=Dropout.from_rates(attention=c.rate("attention_dropout", default=0.0),
                                   residual=c.rate("hidden_dropout", default=0.0)),
        softmax_fp32=True,
        n_layers=c.size("n_layer", "num_hidden_layers"), d_model=h, n_heads=a, n_kv_heads=a,
        d_ff=4 * h, vocab=c.size("vocab_size"), position="alibi",
        qkv_bias=True, attn_out_bias=True, mlp_bias=True, norm="layernorm", embed_norm=True,
        tied_embeddings=c.flag("tie_word_embeddings", default=True), activation="gelu_tanh",
        fused_linears=("qkv",),
    )


def _falcon(c: _Config) -> dict:
    h = c.size("hidden_size", "n_embed")
    a = c.size("num_attention_heads", "n_head")
    # "RefinedWeb" is the pre-port name of the 40B architecture, "RefinedWebModel" of 7B.
    new_arch = c.flag("new_decoder_architecture", default=c.data.get("model_type") == "RefinedWeb")
    parallel = c.flag("parallel_attn", default=True)
    if new_arch:
        g = c.size("num_kv_heads", "n_head_kv", default=a)
    elif c.flag("multi_query", default=True):
        g = 1
    else:
        g = a  # query_key_value is 3h wide whatever num_kv_heads says
    n_ln = c.size("num_ln_in_parallel_attn", default=2 if new_arch else 1)
    bias = c.flag("bias", default=False)
    attention, hidden = c.rate("attention_dropout", default=0.0), c.rate("hidden_dropout", default=0.0)
    return dict(
        # FalconDecoderLayer: a parallel block drops attention + MLP once (hidden_dropout); a sequential
        # one drops the attention output with attention_dropout and the MLP output with hidden_dropout.
        dropout=Dropout.from_rates(attention=attention, residual=hidden,
                                   attention_residual=0 if parallel else attention),
        softmax_fp32=False,
        n_layers=c.size("num_hidden_layers", "n_layer"), d_model=h, n_heads=a, n_kv_heads=g,
        d_ff=c.size("ffn_hidden_size", default=4 * h), vocab=c.size("vocab_size"),
        position="alibi" if c.flag("alibi", default=False) else "rope",
        qkv_bias=bias, attn_out_bias=bias, mlp_bias=bias, norm="layernorm",
        parallel_block=parallel, norms_per_layer=(2 if n_ln == 2 else 1) if parallel else 2,
        tied_embeddings=c.flag("tie_word_embeddings", default=True),
        activation=c.activation("activation", default="gelu"), fused_linears=("qkv",),
    )


def _llama_like(c: _Config, *, tied: bool = False, qkv_bias: bool = False, out_bias: bool = False,
                mlp_bias: bool = False, head_dim: Optional[int] = None, norms: int = 2) -> dict:
    a = c.size("num_attention_heads")
    return dict(
        # attention_dropout (0.0 by default) on the probabilities only; Phi-3 also drops both residuals
        dropout=Dropout.from_rates(attention=c.rate("attention_dropout", default=0.0),
                                   residual=c.rate("resid_pdrop", default=0.0) if c.family == "phi3" else 0),
        softmax_fp32=True,
        n_layers=c.size("num_hidden_layers"), d_model=c.size("hidden_size"), n_heads=a,
        n_kv_heads=c.size("num_key_value_heads", default=a), d_head=c.size("head_dim", default=head_dim),
        d_ff=c.size("intermediate_size"), vocab=c.size("vocab_size"), position="rope",
        gated_mlp=True, norm="rmsnorm", norms_per_layer=norms,
        qkv_bias=qkv_bias, attn_out_bias=out_bias, mlp_bias=mlp_bias,
        tied_embeddings=c.flag("tie_word_embeddings", default=tied),
        activation=c.activation("hidden_activation", "hidden_act", default="silu"),
    )


def _llama(c: _Config) -> dict:
    attn = c.flag("attention_bias", default=False)
    return _llama_like(c, qkv_bias=attn, out_bias=attn, mlp_bias=c.flag("mlp_bias", default=False))


def _gemma(c: _Config, norms: int = 2) -> dict:
    attn = c.flag("attention_bias", default=False)
    return _llama_like(c, tied=True, qkv_bias=attn, out_bias=attn, head_dim=256, norms=norms)


def _windowed(read: Callable[[_Config], dict], window: Callable[..., Any]) -> Callable[[_Config], dict]:
    """A reader plus the family's attention window (see :mod:`symcalc._hf_modern`)."""
    def reader(c: _Config) -> dict:
        fields = read(c)
        fields["window"] = window(c, fields["n_layers"])
        return fields
    return reader


def _moe(c: _Config, base: dict, *, experts_key: str, d_ff_expert: int) -> dict:
    n_experts = c.size(experts_key, default=0, minimum=0)
    if n_experts == 0:
        return base
    base.update(n_experts=n_experts, top_k=c.size("num_experts_per_tok"), d_ff_expert=d_ff_expert)
    return base


def _mixtral(c: _Config) -> dict:
    base = _llama_like(c)
    base = _moe(c, base, experts_key="num_local_experts", d_ff_expert=base["d_ff"])
    if not base.get("n_experts"):
        raise SymcalcError(f"{c.source}: num_local_experts=0; a Mixtral model needs at least one expert")
    return base


def _qwen2_moe(c: _Config) -> dict:
    base = _llama_like(c, qkv_bias=c.flag("qkv_bias", default=True))
    base = _moe(c, base, experts_key="num_experts", d_ff_expert=c.size("moe_intermediate_size", default=None))
    if not base.get("n_experts"):
        return base
    if base["d_ff_expert"] is None:
        raise SymcalcError(f"{c.source}: missing field 'moe_intermediate_size'; a qwen2_moe config.json needs it")
    shared = c.size("shared_expert_intermediate_size", default=0, minimum=0)
    if shared:
        base.update(n_shared_experts=1, d_ff_shared=shared, shared_expert_gate=True)
    from ._hf_modern import _qwen_moe_layout

    base.update(_qwen_moe_layout(c, base["n_layers"], experts_keys=("num_experts",)))
    return base


def _family_table() -> dict[str, Callable[..., dict]]:
    from ._hf_modern import MODERN_FAMILIES, qwen_windows, simple_window, windows_from_layer_types

    def gemma2_window(c: _Config, L: int) -> Any:
        types = c.raw("layer_types", default=None) or ["sliding_attention" if (i + 1) % 2 else "full_attention"
                                                       for i in range(L)]
        from ._hf_modern import _layer_types

        return windows_from_layer_types(c, _layer_types(c, L, lambda n: types), sliding=c.size("sliding_window", default=None))

    plain = lambda c, L: simple_window(c)  # noqa: E731
    table: dict[str, Callable[..., dict]] = {
        "gpt2": _gpt2,
        "gpt_neox": _gpt_neox,
        "opt": _opt,
        "bloom": _bloom,
        "falcon": _falcon,
        "RefinedWeb": _falcon,
        "RefinedWebModel": _falcon,
        "llama": _llama,
        "mistral": _windowed(lambda c: _llama_like(c), plain),
        "mixtral": _windowed(_mixtral, plain),
        "qwen2": _windowed(lambda c: _llama_like(c, qkv_bias=True), qwen_windows),
        "qwen2_moe": _windowed(_qwen2_moe, lambda c, L: qwen_windows(c, L, moe=True)),
        "gemma": _gemma,
        "gemma2": _windowed(lambda c: _gemma(c, norms=4), gemma2_window),
        "phi3": _windowed(lambda c: {**_llama_like(c), "fused_linears": ("qkv", "gate_up")}, plain),
    }
    table.update(MODERN_FAMILIES)
    return table


_FAMILIES: dict[str, Callable[..., dict]] = {}

#: The ``model_type`` values :func:`model_from_hf_config` reads (multimodal wrappers with a
#: ``text_config``: ``llama4``, ``gemma3``).
SUPPORTED_MODEL_TYPES = (
    "gpt2", "gpt_neox", "opt", "bloom", "falcon", "RefinedWeb", "RefinedWebModel", "llama", "mistral", "mixtral",
    "qwen2", "qwen2_moe", "gemma", "gemma2", "phi3", "qwen3", "qwen3_moe", "llama4", "llama4_text", "gemma3",
    "gemma3_text", "gpt_oss", "olmo2", "phimoe", "deepseek_v2", "deepseek_v3", "kimi_k2", "glm4_moe", "smollm3",
    "granite", "cohere2",
)


def _unwrap_text_config(data: dict, source: str) -> tuple[dict, str]:
    """A multimodal config's ``text_config`` (with the family's config-class defaults), else the config."""
    from ._hf_modern import NESTED_TEXT, TEXT_DEFAULTS

    model_type = data.get("model_type")
    text = data.get("text_config")
    if not isinstance(model_type, str) or model_type not in NESTED_TEXT:
        return data, model_type
    if text is None:
        raise SymcalcError(f"{source}: model_type {model_type!r} needs a 'text_config' object (the language model)")
    if not isinstance(text, Mapping):
        raise SymcalcError(f"{source}: field 'text_config' must be a JSON object (the language model's config)")
    text_type = text.get("model_type") or NESTED_TEXT[model_type]
    if text_type != NESTED_TEXT[model_type]:
        raise SymcalcError(f"{source}: text_config model_type {text_type!r} is not {NESTED_TEXT[model_type]!r}, "
                           f"the text model of {model_type!r}")
    merged = dict(TEXT_DEFAULTS.get(text_type, {}))
    if "tie_word_embeddings" in data:  # the wrapper decides whether the LM head is tied
        merged["tie_word_embeddings"] = data["tie_word_embeddings"]
    merged.update({k: v for k, v in text.items() if v is not None or k not in merged})
    merged["model_type"] = text_type
    return merged, text_type


def model_from_hf_config(config: Any, *, name: Optional[str] = None, mtp: bool = False) -> Model:
    """A :class:`~symcalc.model.Model` from a Hugging Face ``config.json``.

    Parameters
    ----------
    config : str, os.PathLike or Mapping
        Path to ``config.json`` (or its folder), or the parsed dict (e.g. ``cfg.to_dict()``).
        A multimodal config (``llama4``, ``gemma3``) gives its ``text_config``'s language model.
    name : str, optional
        The model's name; default ``_name_or_path`` from the config, else the folder name.
    mtp : bool
        Add the multi-token-prediction modules the config declares (``num_nextn_predict_layers``:
        DeepSeek-V3, GLM-4.5). transformers does not build them, so the default leaves them out
        and the count equals transformers'; with ``mtp=True`` it is what the checkpoint stores.

    Examples
    --------
    >>> from symcalc import params
    >>> m = model_from_hf_config({"model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008,
    ...                           "num_hidden_layers": 32, "num_attention_heads": 32, "vocab_size": 32000})
    >>> params(m).total
    6738415616
    >>> model_from_hf_config({"model_type": "t5"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: config dict: model_type 't5' is not supported (t5 has an encoder and cross-attention, which symcalc does not model); supported: gpt2, gpt_neox, ...
    """
    if name is not None and not isinstance(name, str):
        raise SymcalcError(f"name={_short(name)} is a {type(name).__name__}; give the model's name as a string")
    data, source = load_hf_config(config)
    if not _FAMILIES:
        _FAMILIES.update(_family_table())
    model_type = data.get("model_type")
    supported = ", ".join(SUPPORTED_MODEL_TYPES)
    if model_type is None:
        raise SymcalcError(f"{_shown(source)}: missing field 'model_type'; give one of {supported}")
    text, text_type = _unwrap_text_config(data, _shown(source))
    if not isinstance(text_type, str) or text_type not in _FAMILIES:
        from ._hf_modern import MISSING_STRUCTURE

        missing = MISSING_STRUCTURE.get(text_type) if isinstance(text_type, str) else None
        why = f" ({text_type} has {missing}, which symcalc does not model)" if missing else ""
        raise SymcalcError(f"{_shown(source)}: model_type {_short(model_type)} is not supported{why}; supported: {supported}")
    from ._hf_modern import MTP_FAMILIES

    reader = _FAMILIES[text_type]
    cfg = _Config(text, _shown(source), text_type)
    fields = reader(cfg, mtp=mtp) if text_type in MTP_FAMILIES else reader(cfg)
    if mtp and text_type not in MTP_FAMILIES:
        raise SymcalcError(f"{_shown(source)}: mtp=True but a {text_type} config declares no multi-token-prediction modules")
    if name is None:
        name = data.get("_name_or_path") or ""
        if not name and source != "config dict":
            name = os.path.basename(os.path.dirname(os.path.abspath(source)))
    try:
        return Model(**fields, name=str(name))
    except SymcalcError as exc:
        raise SymcalcError(f"{_shown(source)}: {exc}") from None
