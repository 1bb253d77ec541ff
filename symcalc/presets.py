"""Well-known models by name, each stored as the fields of its real ``config.json``.

A preset goes through :func:`symcalc.hf.model_from_hf_config` exactly as the downloaded file
would, so the family facts live in one place. Only the fields that describe the model are kept
(sizes and structure flags as the released files spell them, older files' ``torch_dtype`` and
``rope_theta`` included); ``tests/test_presets.py`` pins each total to its published count.

>>> from symcalc import params
>>> params(get_preset("llama-2-7b")).total
6738415616
>>> get_preset("llama-2-7")
Traceback (most recent call last):
...
symcalc.errors.SymcalcError: unknown preset 'llama-2-7'; did you mean llama-2-7b, llama-2-70b, llama-3-70b? known presets: llama-2-7b, ...
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .errors import SymcalcError
from .hf import model_from_hf_config
from .model import Model

__all__ = ["Preset", "PRESETS", "get_preset", "preset_names"]


@dataclass(frozen=True)
class Preset:
    """A named model: its family, a one-line description and its ``config.json`` fields."""

    name: str
    description: str
    config: dict

    def __post_init__(self) -> None:
        for field_name in ("name", "description"):
            if not isinstance(getattr(self, field_name), str):
                raise SymcalcError(f"Preset.{field_name} must be a string")
        if not isinstance(self.config, dict) or not isinstance(self.config.get("model_type"), str):
            raise SymcalcError(f"Preset.config={self.config!r:.60} is not a config.json dict with a model_type")

    @property
    def family(self) -> str:
        """The preset's ``model_type`` (its Hugging Face family)."""
        return self.config["model_type"]

    def model(self, *, mtp: bool = False) -> Model:
        """The :class:`~symcalc.model.Model` of this preset (``mtp=True`` adds its multi-token-prediction modules)."""
        return model_from_hf_config(self.config, name=self.name, mtp=mtp)


def _llama(h: int, f: int, L: int, a: int, g: int, v: int, **extra: Any) -> dict:
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
           "hidden_size": h, "intermediate_size": f, "num_hidden_layers": L, "num_attention_heads": a,
           "num_key_value_heads": g, "vocab_size": v, "rms_norm_eps": 1e-05, "tie_word_embeddings": False,
           "torch_dtype": "bfloat16"}
    cfg.update(extra)
    return cfg


def _pythia(L: int, h: int, a: int, v: int = 50304) -> dict:
    return {"architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "hidden_act": "gelu",
            "hidden_size": h, "intermediate_size": 4 * h, "num_hidden_layers": L, "num_attention_heads": a,
            "vocab_size": v, "max_position_embeddings": 2048, "rotary_pct": 0.25, "rotary_emb_base": 10000,
            "use_parallel_residual": True, "tie_word_embeddings": False, "layer_norm_eps": 1e-05,
            "torch_dtype": "float16"}


def _gpt2(L: int, h: int, a: int) -> dict:
    return {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
            "n_ctx": 1024, "n_embd": h, "n_head": a, "n_layer": L, "n_positions": 1024, "vocab_size": 50257}


def _opt(L: int, h: int, a: int, *, proj: int | None = None, pre_norm: bool = True) -> dict:
    return {"architectures": ["OPTForCausalLM"], "model_type": "opt", "activation_function": "relu",
            "hidden_size": h, "ffn_dim": 4 * h, "num_hidden_layers": L, "num_attention_heads": a,
            "max_position_embeddings": 2048, "vocab_size": 50272, "word_embed_proj_dim": proj or h,
            "do_layer_norm_before": pre_norm, "_remove_final_layer_norm": False, "torch_dtype": "float16"}


def _gemma(model_type: str, h: int, f: int, L: int, a: int, g: int, head_dim: int) -> dict:
    arch = "GemmaForCausalLM" if model_type == "gemma" else "Gemma2ForCausalLM"
    return {"architectures": [arch], "model_type": model_type, "hidden_act": "gelu_pytorch_tanh",
            "hidden_size": h, "intermediate_size": f, "num_hidden_layers": L, "num_attention_heads": a,
            "num_key_value_heads": g, "head_dim": head_dim, "vocab_size": 256000, "torch_dtype": "bfloat16"}


def _qwen2(h: int, f: int, L: int, a: int, g: int, v: int, tied: bool) -> dict:
    return {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
            "hidden_size": h, "intermediate_size": f, "num_hidden_layers": L, "num_attention_heads": a,
            "num_key_value_heads": g, "vocab_size": v, "tie_word_embeddings": tied, "rope_theta": 1000000.0,
            "torch_dtype": "bfloat16"}


_LLAMA3_ROPE = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                "original_max_position_embeddings": 8192, "rope_type": "llama3"}

def _qwen3(h: int, f: int, L: int, a: int, g: int, tied: bool, **moe: Any) -> dict:
    cfg = {"architectures": ["Qwen3MoeForCausalLM" if moe else "Qwen3ForCausalLM"],
           "model_type": "qwen3_moe" if moe else "qwen3", "hidden_act": "silu", "hidden_size": h, "intermediate_size": f,
           "num_hidden_layers": L, "num_attention_heads": a, "num_key_value_heads": g, "head_dim": 128,
           "vocab_size": 151936, "attention_bias": False, "use_sliding_window": False, "sliding_window": None,
           "max_window_layers": L, "tie_word_embeddings": tied, "rope_theta": 1000000, "torch_dtype": "bfloat16"}
    if moe:
        cfg.update(num_experts_per_tok=8, decoder_sparse_step=1, mlp_only_layers=[], norm_topk_prob=True, **moe)
    return cfg


def _deepseek(model_type: str, arch: str, h: int, f: int, L: int, a: int, v: int, *, q_lora: int | None,
              experts: int, shared: int, top_k: int, moe_f: int, first_dense: int, mtp: int, **extra: Any) -> dict:
    cfg = {"architectures": [arch], "model_type": model_type, "hidden_act": "silu", "hidden_size": h,
           "intermediate_size": f, "moe_intermediate_size": moe_f, "num_hidden_layers": L, "num_attention_heads": a,
           "num_key_value_heads": a, "n_shared_experts": shared, "n_routed_experts": experts,
           "num_experts_per_tok": top_k, "first_k_dense_replace": first_dense, "moe_layer_freq": 1,
           "q_lora_rank": q_lora, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
           "v_head_dim": 128, "attention_bias": False, "vocab_size": v, "tie_word_embeddings": False,
           "num_nextn_predict_layers": mtp, "torch_dtype": "bfloat16"}
    cfg.update(extra)
    return cfg


def _llama4(experts: int, step: int, qk_norm: bool) -> dict:
    rope = [int((i + 1) % 4 != 0) for i in range(48)]
    return {"architectures": ["Llama4ForConditionalGeneration"], "model_type": "llama4", "tie_word_embeddings": False,
            "text_config": {"model_type": "llama4_text", "hidden_act": "silu", "hidden_size": 5120,
                            "intermediate_size": 8192, "intermediate_size_mlp": 16384, "num_hidden_layers": 48,
                            "num_attention_heads": 40, "num_key_value_heads": 8, "head_dim": 128,
                            "vocab_size": 202048, "num_local_experts": experts, "num_experts_per_tok": 1,
                            "interleave_moe_layer_step": step, "no_rope_layers": rope, "use_qk_norm": qk_norm,
                            "attention_chunk_size": 8192, "attention_bias": False, "rope_theta": 500000.0},
            "torch_dtype": "bfloat16"}


def _gpt_oss(L: int, experts: int) -> dict:
    return {"architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss", "hidden_act": "silu", "hidden_size": 2880,
            "intermediate_size": 2880, "num_hidden_layers": L, "num_attention_heads": 64, "num_key_value_heads": 8,
            "head_dim": 64, "num_local_experts": experts, "num_experts_per_tok": 4, "vocab_size": 201088,
            "sliding_window": 128, "layer_types": ["sliding_attention" if i % 2 == 0 else "full_attention"
                                                   for i in range(L)],
            "attention_bias": True, "tie_word_embeddings": False, "rope_theta": 150000, "torch_dtype": "bfloat16"}


#: The models of 2024-26 (issue 10). Sources of the config.json values and published counts are in
#: tests/test_presets.py (MODERN_PUBLISHED).
_MODERN: list[tuple[str, str, dict]] = [
    ("deepseek-v3", "DeepSeek-V3 (MLA, 256 routed + 1 shared expert top-8, 3 dense layers; MTP modules with mtp=True)",
     _deepseek("deepseek_v3", "DeepseekV3ForCausalLM", 7168, 18432, 61, 128, 129280, q_lora=1536, experts=256,
               shared=1, top_k=8, moe_f=2048, first_dense=3, mtp=1, n_group=8, topk_group=4,
               routed_scaling_factor=2.5)),
    ("deepseek-v2-lite", "DeepSeek-V2-Lite (MLA without q LoRA, 64 routed + 2 shared experts top-6)",
     _deepseek("deepseek_v2", "DeepseekV2ForCausalLM", 2048, 10944, 27, 16, 102400, q_lora=None, experts=64,
               shared=2, top_k=6, moe_f=1408, first_dense=1, mtp=0)),
    ("kimi-k2", "Moonshot Kimi-K2 (DeepSeek-V3 layout: MLA, 384 routed + 1 shared expert top-8, 64 heads)",
     _deepseek("kimi_k2", "DeepseekV3ForCausalLM", 7168, 18432, 61, 64, 163840, q_lora=1536, experts=384, shared=1,
               top_k=8, moe_f=2048, first_dense=1, mtp=0, n_group=1, topk_group=1, routed_scaling_factor=2.827)),
    ("qwen3-0.6b", "Qwen3 0.6B (qk-norm, head_dim 128, tied)", _qwen3(1024, 3072, 28, 16, 8, True)),
    ("qwen3-8b", "Qwen3 8B (qk-norm, GQA 32/8)", _qwen3(4096, 12288, 36, 32, 8, False)),
    ("qwen3-32b", "Qwen3 32B", _qwen3(5120, 25600, 64, 64, 8, False)),
    ("qwen3-30b-a3b", "Qwen3-30B-A3B (128 experts top-8, no shared expert)",
     _qwen3(2048, 6144, 48, 32, 4, False, num_experts=128, moe_intermediate_size=768)),
    ("qwen3-235b-a22b", "Qwen3-235B-A22B (128 experts top-8)",
     _qwen3(4096, 12288, 94, 64, 4, False, num_experts=128, moe_intermediate_size=1536)),
    ("llama-4-scout", "Meta Llama 4 Scout 17B-16E, text model (chunked attention 3 of 4 layers, shared expert)",
     _llama4(16, 1, True)),
    ("llama-4-maverick", "Meta Llama 4 Maverick 17B-128E, text model (MoE every 2nd layer, dense 16384)",
     _llama4(128, 2, False)),
    ("gemma-3-1b", "Google Gemma 3 1B (sliding 512 on 5 of 6 layers, qk-norm, tied)",
     {"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "hidden_activation": "gelu_pytorch_tanh",
      "hidden_size": 1152, "intermediate_size": 6912, "num_hidden_layers": 26, "num_attention_heads": 4,
      "num_key_value_heads": 1, "head_dim": 256, "sliding_window": 512, "sliding_window_pattern": 6,
      "query_pre_attn_scalar": 256, "vocab_size": 262144, "torch_dtype": "bfloat16"}),
    ("gemma-3-27b", "Google Gemma 3 27B, text model (sliding 1024 on 5 of 6 layers)",
     {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
      "text_config": {"model_type": "gemma3_text", "head_dim": 128, "hidden_size": 5376, "intermediate_size": 21504,
                      "num_attention_heads": 32, "num_hidden_layers": 62, "num_key_value_heads": 16,
                      "query_pre_attn_scalar": 168, "sliding_window": 1024, "sliding_window_pattern": 6,
                      "rope_scaling": {"factor": 8.0, "rope_type": "linear"}},
      "torch_dtype": "bfloat16"}),
    ("gpt-oss-20b", "OpenAI gpt-oss-20b (32 experts top-4, sinks, sliding 128 on even layers, biases)",
     _gpt_oss(24, 32)),
    ("gpt-oss-120b", "OpenAI gpt-oss-120b (128 experts top-4)", _gpt_oss(36, 128)),
    ("olmo-2-7b", "AI2 OLMo 2 7B (full-width qk-norm, post-norms)",
     {"architectures": ["Olmo2ForCausalLM"], "model_type": "olmo2", "hidden_act": "silu", "hidden_size": 4096,
      "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
      "vocab_size": 100352, "attention_bias": False, "tie_word_embeddings": False, "torch_dtype": "float32"}),
    ("phi-4", "Microsoft Phi-4 14B (Phi-3 architecture, GQA 40/10)",
     {"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "hidden_act": "silu", "hidden_size": 5120,
      "intermediate_size": 17920, "num_hidden_layers": 40, "num_attention_heads": 40, "num_key_value_heads": 10,
      "vocab_size": 100352, "sliding_window": None, "tie_word_embeddings": False, "torch_dtype": "bfloat16"}),
    ("phi-3.5-moe", "Microsoft Phi-3.5-MoE (16 experts top-2, LayerNorm, attention and LM-head biases)",
     {"architectures": ["PhiMoEForCausalLM"], "model_type": "phimoe", "hidden_act": "silu", "hidden_size": 4096,
      "intermediate_size": 6400, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
      "num_local_experts": 16, "num_experts_per_tok": 2, "vocab_size": 32064, "attention_bias": True,
      "lm_head_bias": True, "sliding_window": 131072, "tie_word_embeddings": False, "torch_dtype": "bfloat16"}),
    ("mistral-small-24b", "Mistral Small 3 24B (2501; head_dim 128, no sliding window)",
     {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_act": "silu", "hidden_size": 5120,
      "intermediate_size": 32768, "num_hidden_layers": 40, "num_attention_heads": 32, "num_key_value_heads": 8,
      "head_dim": 128, "vocab_size": 131072, "sliding_window": None, "tie_word_embeddings": False,
      "rope_theta": 100000000.0, "torch_dtype": "bfloat16"}),
    ("glm-4.5-air", "Zhipu GLM-4.5-Air (128 routed + 1 shared expert top-8, 1 dense layer; MTP with mtp=True)",
     {"architectures": ["Glm4MoeForCausalLM"], "model_type": "glm4_moe", "hidden_act": "silu", "hidden_size": 4096,
      "intermediate_size": 10944, "num_hidden_layers": 46, "num_attention_heads": 96, "num_key_value_heads": 8,
      "head_dim": 128, "vocab_size": 151552, "n_routed_experts": 128, "num_experts_per_tok": 8,
      "moe_intermediate_size": 1408, "n_shared_experts": 1, "first_k_dense_replace": 1, "attention_bias": True,
      "use_qk_norm": False, "partial_rotary_factor": 0.5, "num_nextn_predict_layers": 1, "n_group": 1, "topk_group": 1,
      "tie_word_embeddings": False, "torch_dtype": "bfloat16"}),
]

_TABLE: list[tuple[str, str, dict]] = [
    ("llama-2-7b", "Meta Llama 2 7B (MHA, SwiGLU, RMSNorm, untied)", _llama(4096, 11008, 32, 32, 32, 32000)),
    ("llama-2-13b", "Meta Llama 2 13B", _llama(5120, 13824, 40, 40, 40, 32000)),
    ("llama-2-70b", "Meta Llama 2 70B (GQA, 8 KV heads)", _llama(8192, 28672, 80, 64, 8, 32000)),
    ("llama-3-8b", "Meta Llama 3 8B (GQA, 128K vocab)", _llama(4096, 14336, 32, 32, 8, 128256, rope_theta=500000.0)),
    ("llama-3-70b", "Meta Llama 3 70B", _llama(8192, 28672, 80, 64, 8, 128256, rope_theta=500000.0)),
    ("llama-3.1-8b", "Meta Llama 3.1 8B (128K context)",
     _llama(4096, 14336, 32, 32, 8, 128256, rope_theta=500000.0, rope_scaling=_LLAMA3_ROPE)),
    ("llama-3.1-70b", "Meta Llama 3.1 70B",
     _llama(8192, 28672, 80, 64, 8, 128256, rope_theta=500000.0, rope_scaling=_LLAMA3_ROPE)),
    ("llama-3.1-405b", "Meta Llama 3.1 405B",
     _llama(16384, 53248, 126, 128, 8, 128256, rope_theta=500000.0, rope_scaling=_LLAMA3_ROPE)),
    ("llama-3.2-1b", "Meta Llama 3.2 1B (tied embeddings, head_dim 64)",
     _llama(2048, 8192, 16, 32, 8, 128256, head_dim=64, tie_word_embeddings=True, rope_theta=500000.0)),
    ("mistral-7b", "Mistral 7B v0.1 (GQA, sliding window)",
     {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_act": "silu", "hidden_size": 4096,
      "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
      "vocab_size": 32000, "sliding_window": 4096, "rope_theta": 10000.0, "tie_word_embeddings": False,
      "torch_dtype": "bfloat16"}),
    ("mixtral-8x7b", "Mixtral 8x7B v0.1 (8 experts, top-2)",
     {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_act": "silu", "hidden_size": 4096,
      "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
      "num_local_experts": 8, "num_experts_per_tok": 2, "vocab_size": 32000, "rope_theta": 1000000.0,
      "tie_word_embeddings": False, "torch_dtype": "bfloat16"}),
    ("qwen2.5-0.5b", "Qwen2.5 0.5B (q/k/v biases, tied embeddings)", _qwen2(896, 4864, 24, 14, 2, 151936, True)),
    ("qwen2.5-7b", "Qwen2.5 7B (q/k/v biases, untied)", _qwen2(3584, 18944, 28, 28, 4, 152064, False)),
    ("qwen2.5-72b", "Qwen2.5 72B", _qwen2(8192, 29568, 80, 64, 8, 152064, False)),
    ("qwen1.5-moe-a2.7b", "Qwen1.5-MoE-A2.7B (60 experts top-4, gated shared expert)",
     {"architectures": ["Qwen2MoeForCausalLM"], "model_type": "qwen2_moe", "hidden_act": "silu", "hidden_size": 2048,
      "intermediate_size": 5632, "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 16,
      "num_experts": 60, "num_experts_per_tok": 4, "moe_intermediate_size": 1408,
      "shared_expert_intermediate_size": 5632, "decoder_sparse_step": 1, "vocab_size": 151936,
      "tie_word_embeddings": False, "torch_dtype": "bfloat16"}),
    ("gemma-2b", "Google Gemma 2B (MQA, head_dim 256, tied)", _gemma("gemma", 2048, 16384, 18, 8, 1, 256)),
    ("gemma-7b", "Google Gemma 7B (head_dim 256 != h/a, tied)", _gemma("gemma", 3072, 24576, 28, 16, 16, 256)),
    ("gemma-2-2b", "Google Gemma 2 2B (4 norms per layer)", _gemma("gemma2", 2304, 9216, 26, 8, 4, 256)),
    ("gemma-2-9b", "Google Gemma 2 9B", _gemma("gemma2", 3584, 14336, 42, 16, 8, 256)),
    ("gemma-2-27b", "Google Gemma 2 27B (head_dim 128)", _gemma("gemma2", 4608, 36864, 46, 32, 16, 128)),
    ("phi-3-mini", "Microsoft Phi-3-mini 4K (fused qkv and gate_up)",
     {"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "hidden_act": "silu", "hidden_size": 3072,
      "intermediate_size": 8192, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
      "vocab_size": 32064, "max_position_embeddings": 4096, "tie_word_embeddings": False, "torch_dtype": "bfloat16"}),
    ("falcon-7b", "TII Falcon 7B (MQA, parallel attention, one shared LayerNorm)",
     {"architectures": ["FalconForCausalLM"], "model_type": "falcon", "alibi": False, "bias": False,
      "hidden_size": 4544, "num_attention_heads": 71, "num_hidden_layers": 32, "multi_query": True,
      "new_decoder_architecture": False, "parallel_attn": True, "vocab_size": 65024, "torch_dtype": "bfloat16"}),
    ("falcon-40b", "TII Falcon 40B (new decoder architecture: 8 KV heads, two LayerNorms)",
     {"architectures": ["FalconForCausalLM"], "model_type": "falcon", "alibi": False, "bias": False,
      "hidden_size": 8192, "num_attention_heads": 128, "num_kv_heads": 8, "num_hidden_layers": 60,
      "multi_query": True, "new_decoder_architecture": True, "parallel_attn": True, "vocab_size": 65024,
      "torch_dtype": "bfloat16"}),
    ("gpt2", "OpenAI GPT-2 small (learned positions, biases, tied)", _gpt2(12, 768, 12)),
    ("gpt2-medium", "OpenAI GPT-2 medium", _gpt2(24, 1024, 16)),
    ("gpt2-large", "OpenAI GPT-2 large", _gpt2(36, 1280, 20)),
    ("gpt2-xl", "OpenAI GPT-2 XL", _gpt2(48, 1600, 25)),
    ("pythia-70m", "EleutherAI Pythia 70M (GPT-NeoX, vocab padded to 50304)", _pythia(6, 512, 8)),
    ("pythia-160m", "EleutherAI Pythia 160M", _pythia(12, 768, 12)),
    ("pythia-410m", "EleutherAI Pythia 410M", _pythia(24, 1024, 16)),
    ("pythia-1b", "EleutherAI Pythia 1B", _pythia(16, 2048, 8)),
    ("pythia-1.4b", "EleutherAI Pythia 1.4B", _pythia(24, 2048, 16)),
    ("pythia-2.8b", "EleutherAI Pythia 2.8B", _pythia(32, 2560, 32)),
    ("pythia-6.9b", "EleutherAI Pythia 6.9B (vocab padded to 50432)", _pythia(32, 4096, 32, 50432)),
    ("pythia-12b", "EleutherAI Pythia 12B (vocab padded to 50688)", _pythia(36, 5120, 40, 50688)),
    ("opt-125m", "Meta OPT 125M (positions +2 rows, tied)", _opt(12, 768, 12)),
    ("opt-350m", "Meta OPT 350M (512 -> 1024 projection, post-norm: no final norm)",
     _opt(24, 1024, 16, proj=512, pre_norm=False)),
    ("opt-1.3b", "Meta OPT 1.3B", _opt(24, 2048, 32)),
    ("bloom-560m", "BigScience BLOOM 560M (ALiBi, embedding LayerNorm, tied)",
     {"architectures": ["BloomForCausalLM"], "model_type": "bloom", "n_embed": 1024, "n_layer": 24,
      "num_attention_heads": 16, "vocab_size": 250880, "apply_residual_connection_post_layernorm": False}),
    ("bloom-7b1", "BigScience BLOOM 7B1",
     {"architectures": ["BloomForCausalLM"], "model_type": "bloom", "hidden_size": 4096, "n_layer": 30,
      "num_attention_heads": 32, "vocab_size": 250880, "apply_residual_connection_post_layernorm": False}),
]

#: Every preset by name, in the order ``symcalc presets`` lists them.
PRESETS: dict[str, Preset] = {name: Preset(name, desc, cfg) for name, desc, cfg in _TABLE + _MODERN}


def preset_names() -> list[str]:
    """The names :func:`get_preset` accepts, in catalogue order."""
    return list(PRESETS)


def get_preset(name: str, *, mtp: bool = False) -> Model:
    """The :class:`~symcalc.model.Model` of a well-known model, e.g. ``"llama-2-7b"``.

    ``mtp=True`` adds the multi-token-prediction modules the config declares (DeepSeek-V3, GLM-4.5).
    """
    if not isinstance(name, str):
        raise SymcalcError(f"preset name {name!r:.60} is a {type(name).__name__}; give a name such as 'llama-2-7b'")
    key = name.strip().lower()
    if key in PRESETS:
        return PRESETS[key].model(mtp=mtp)
    close = difflib.get_close_matches(key, PRESETS, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise SymcalcError(f"unknown preset {name!r:.60}; {hint}known presets: {', '.join(PRESETS)}")
