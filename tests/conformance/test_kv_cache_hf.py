"""KV-cache bytes equal the cache objects transformers' real forwards return, exactly.

Tiny float32 models on CPU. transformers' ``DynamicCache`` keeps the last ``W − 1`` tokens of a
sliding or chunked layer after a forward (symcalc's ``window_cache="window-1"``), its
``StaticCache`` reserves ``min(W, max_cache_len)`` (the default ``"window"``); full layers keep
every token. MLA layers cache the compressed latent (``kv_lora_rank`` + ``qk_rope_head_dim`` per
token: ``mla_cache="latent"``, the default); the decompressed convention is what the layer's own
``expand_kv`` makes of that cache (per-head K and V).
"""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from symcalc import Model  # noqa: E402
from symcalc.memory import kv_cache  # noqa: E402

pytestmark = pytest.mark.conformance
transformers.logging.set_verbosity_error()


def _cfg(model_type, **fields):
    return transformers.AutoConfig.for_model(model_type, **fields)


CASES = {
    "mistral-uniform-sliding": lambda: _cfg("mistral", num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                                            num_key_value_heads=2, intermediate_size=48, vocab_size=101,
                                            sliding_window=4),
    "gemma3-5-local-1-global": lambda: _cfg("gemma3_text", num_hidden_layers=7, hidden_size=32, num_attention_heads=4,
                                            num_key_value_heads=1, head_dim=16, intermediate_size=56, vocab_size=101,
                                            sliding_window=3),
    "gpt_oss-alternating": lambda: _cfg("gpt_oss", num_hidden_layers=3, hidden_size=32, num_attention_heads=4,
                                        num_key_value_heads=2, head_dim=8, intermediate_size=24, num_local_experts=4,
                                        num_experts_per_tok=2, vocab_size=101, sliding_window=4),
    "llama4-chunked": lambda: _cfg("llama4_text", num_hidden_layers=4, hidden_size=32, num_attention_heads=4,
                                   num_key_value_heads=2, head_dim=8, intermediate_size=16, intermediate_size_mlp=48,
                                   num_local_experts=3, num_experts_per_tok=1, vocab_size=101, attention_chunk_size=3),
    "qwen3-full": lambda: _cfg("qwen3", num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                               num_key_value_heads=2, head_dim=8, intermediate_size=48, vocab_size=101),
    "deepseek_v3-mla": lambda: _cfg("deepseek_v3", num_hidden_layers=3, hidden_size=32, num_attention_heads=4,
                                    num_key_value_heads=4, intermediate_size=56, moe_intermediate_size=16,
                                    n_routed_experts=4, n_shared_experts=1, num_experts_per_tok=2, n_group=2,
                                    topk_group=1, first_k_dense_replace=1, q_lora_rank=20, kv_lora_rank=12,
                                    qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=6, vocab_size=101),
    "deepseek_v2-mla-plain-q": lambda: _cfg("deepseek_v2", num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                                            num_key_value_heads=4, intermediate_size=56, moe_intermediate_size=16,
                                            n_routed_experts=4, n_shared_experts=2, num_experts_per_tok=2,
                                            first_k_dense_replace=1, q_lora_rank=None, kv_lora_rank=10,
                                            qk_nope_head_dim=6, qk_rope_head_dim=4, v_head_dim=8, vocab_size=101),
}


def _net(cfg):
    torch.manual_seed(0)
    kwargs = {"attn_implementation": "eager"}
    if getattr(cfg, "num_local_experts", None) or getattr(cfg, "n_routed_experts", None):
        kwargs["experts_implementation"] = "eager"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.AutoModelForCausalLM.from_config(cfg, **kwargs).eval()


def _bytes(cache) -> int:
    return sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("batch, prompt", [(1, 2), (2, 7), (3, 11)])
def test_dynamic_cache_after_prefill_and_decode(name, batch, prompt):
    """After a prefill of s tokens and one decode step, DynamicCache holds window-1 bytes of s and s+1 tokens
    (prompts shorter and longer than the window)."""
    cfg = CASES[name]()
    net, model = _net(cfg), Model.from_hf_config(cfg.to_dict())
    ids = torch.randint(0, cfg.vocab_size, (batch, prompt))
    with torch.no_grad():
        cache = net(input_ids=ids, use_cache=True).cache
        assert _bytes(cache) == kv_cache(model, tokens=prompt, batch=batch, bytes_kv=4, window_cache="window-1")
        cache = net(input_ids=ids[:, :1], cache=cache, use_cache=True).cache
    assert _bytes(cache) == kv_cache(model, tokens=prompt + 1, batch=batch, bytes_kv=4, window_cache="window-1")


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("max_len", [2, 9])
def test_static_cache_reserves_the_window(name, max_len):
    """StaticCache(max_cache_len=M) allocates the default convention's bytes for M tokens: min(M, W) on windowed layers."""
    cfg = CASES[name]()
    net, model = _net(cfg), Model.from_hf_config(cfg.to_dict())
    cache = transformers.StaticCache(config=cfg, max_cache_len=max_len)
    with torch.no_grad():
        net(input_ids=torch.randint(0, cfg.vocab_size, (2, min(max_len, 2))), cache=cache, use_cache=True)
    assert _bytes(cache) == kv_cache(model, tokens=max_len, batch=2, bytes_kv=4)


@pytest.mark.parametrize("name", ["deepseek_v3-mla", "deepseek_v2-mla-plain-q"])
def test_mla_decompressed_convention_is_what_expand_kv_makes(name):
    """mla_cache="decompressed" is the bytes of the per-head K and V each layer's expand_kv builds from its latent cache."""
    cfg = CASES[name]()
    net, model = _net(cfg), Model.from_hf_config(cfg.to_dict())
    with torch.no_grad():
        cache = net(input_ids=torch.randint(0, cfg.vocab_size, (2, 5)), use_cache=True).cache
        total = 0
        for layer, block in zip(cache.layers, net.model.layers):
            k, v = block.self_attn.expand_kv(layer.keys, layer.values)
            total += k.numel() * k.element_size() + v.numel() * v.element_size()
    assert total == kv_cache(model, tokens=5, batch=2, bytes_kv=4, mla_cache="decompressed")
    assert total > kv_cache(model, tokens=5, batch=2, bytes_kv=4)
