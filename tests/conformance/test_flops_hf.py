"""symcalc's FLOPs equal torch's FlopCounterMode on real transformers models, exactly.

Tiny configs run on CPU with real tensors and eager attention (SDPA on CPU reports 0 FLOPs);
full-size configs (the released models' config.json values) run on the meta device, where the
counter sees every shape and nothing is allocated. MoE experts use
``experts_implementation="batched_mm"`` (transformers-5's default ``grouped_mm`` reports 0) or
``"eager"``. No labels are passed (no loss); the backward runs on ``logits.sum()``, which adds
no matmul. Every model is read through ``Model.from_hf_config(cfg.to_dict())``.
"""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from symcalc import Model  # noqa: E402
from symcalc.flops import (  # noqa: E402
    backward_flops, forward_flops, generation_flops, training_flops,
)

pytestmark = pytest.mark.conformance

T = transformers
MOE = {"batched_mm", "eager"}

# Tiny models: every family, MHA / GQA / MQA, dense and MoE.
TINY = {
    "gpt2": lambda: T.GPT2Config(n_layer=2, n_embd=32, n_head=4, vocab_size=101, n_positions=64),
    "gpt_neox": lambda: T.GPTNeoXConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                                        intermediate_size=80, vocab_size=101, rotary_pct=0.25),
    "opt-projected": lambda: T.OPTConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4, ffn_dim=80,
                                         vocab_size=101, max_position_embeddings=64, word_embed_proj_dim=16),
    "bloom": lambda: T.BloomConfig(n_layer=2, hidden_size=32, n_head=4, vocab_size=101),
    "falcon-mqa": lambda: T.FalconConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                                         vocab_size=101, multi_query=True, alibi=False, parallel_attn=True),
    "falcon-new-arch-gqa": lambda: T.FalconConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                                                  num_kv_heads=2, new_decoder_architecture=True, vocab_size=101),
    "llama-gqa": lambda: T.LlamaConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                                       num_key_value_heads=2, intermediate_size=56, vocab_size=101),
    "mistral-mqa": lambda: T.MistralConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                                           num_key_value_heads=1, intermediate_size=56, vocab_size=101),
    "qwen2": lambda: T.Qwen2Config(num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                                   num_key_value_heads=2, intermediate_size=56, vocab_size=101),
    "gemma-head-dim": lambda: T.GemmaConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                                            num_key_value_heads=1, head_dim=16, intermediate_size=56, vocab_size=101),
    "phi3": lambda: T.Phi3Config(num_hidden_layers=2, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                                 intermediate_size=56, vocab_size=101, pad_token_id=0),
    "mixtral": lambda: T.MixtralConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                                       num_key_value_heads=2, intermediate_size=56, vocab_size=101,
                                       num_local_experts=4, num_experts_per_tok=2),
    "qwen2_moe-shared-interval": lambda: T.Qwen2MoeConfig(
        num_hidden_layers=3, hidden_size=32, num_attention_heads=4, num_key_value_heads=2, intermediate_size=56,
        moe_intermediate_size=24, shared_expert_intermediate_size=40, vocab_size=101, num_experts=4,
        num_experts_per_tok=2, decoder_sparse_step=2),
    # --- issue 10: qk-norm, sinks, sliding/chunked windows (eager computes the full square), MLA,
    # dense-first / interleaved / scattered MoE layouts, shared experts, router and expert biases
    "qwen3-sliding": lambda: _cfg("qwen3", num_hidden_layers=3, hidden_size=32, num_attention_heads=4,
                                  num_key_value_heads=2, head_dim=12, intermediate_size=56, vocab_size=101,
                                  use_sliding_window=True, sliding_window=3, max_window_layers=1),
    "qwen3_moe-scattered": lambda: _cfg("qwen3_moe", num_hidden_layers=4, hidden_size=32, num_attention_heads=4,
                                        num_key_value_heads=2, head_dim=8, intermediate_size=56,
                                        moe_intermediate_size=24, num_experts=4, num_experts_per_tok=2,
                                        mlp_only_layers=[1], vocab_size=101),
    "gemma3_text": lambda: _cfg("gemma3_text", num_hidden_layers=7, hidden_size=32, num_attention_heads=4,
                                num_key_value_heads=1, head_dim=16, intermediate_size=56, vocab_size=101,
                                sliding_window=3),
    "gpt_oss": lambda: _cfg("gpt_oss", num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                            num_key_value_heads=2, head_dim=8, intermediate_size=24, num_local_experts=4,
                            num_experts_per_tok=2, vocab_size=101, sliding_window=3),
    "olmo2": lambda: _cfg("olmo2", num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                          num_key_value_heads=2, intermediate_size=56, vocab_size=101),
    "phimoe": lambda: _cfg("phimoe", num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                           num_key_value_heads=2, intermediate_size=24, num_local_experts=4, num_experts_per_tok=2,
                           vocab_size=101, attention_bias=True, lm_head_bias=True, sliding_window=3),
    "deepseek_v2-plain-q": lambda: _cfg("deepseek_v2", num_hidden_layers=3, hidden_size=32, num_attention_heads=4,
                                        intermediate_size=56, moe_intermediate_size=16, n_routed_experts=4,
                                        n_shared_experts=2, num_experts_per_tok=2, first_k_dense_replace=1,
                                        q_lora_rank=None, kv_lora_rank=12, qk_nope_head_dim=8, qk_rope_head_dim=4,
                                        v_head_dim=6, vocab_size=101),
    "deepseek_v3-mla": lambda: _cfg("deepseek_v3", num_hidden_layers=3, hidden_size=32, num_attention_heads=4,
                                    num_key_value_heads=4, intermediate_size=56, moe_intermediate_size=16, n_routed_experts=4,
                                    n_shared_experts=1, num_experts_per_tok=2, n_group=2, topk_group=1,
                                    first_k_dense_replace=1, q_lora_rank=20, kv_lora_rank=12, qk_nope_head_dim=8,
                                    qk_rope_head_dim=4, v_head_dim=6, vocab_size=101, attention_bias=True),
    "glm4_moe": lambda: _cfg("glm4_moe", num_hidden_layers=3, hidden_size=32, num_attention_heads=6,
                             num_key_value_heads=2, head_dim=8, intermediate_size=56, moe_intermediate_size=16,
                             n_routed_experts=4, n_shared_experts=1, num_experts_per_tok=2,
                             first_k_dense_replace=1, attention_bias=True, use_qk_norm=True, vocab_size=101),
    "smollm3": lambda: _cfg("smollm3", num_hidden_layers=4, hidden_size=32, num_attention_heads=4,
                            num_key_value_heads=2, intermediate_size=56, vocab_size=101, pad_token_id=0),
    "granite": lambda: _cfg("granite", num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
                            num_key_value_heads=2, intermediate_size=56, vocab_size=101),
    "cohere2": lambda: _cfg("cohere2", num_hidden_layers=4, hidden_size=32, num_attention_heads=4,
                            num_key_value_heads=2, intermediate_size=56, vocab_size=101, sliding_window=3),
}


def _cfg(model_type, **fields):
    return T.AutoConfig.for_model(model_type, **fields)


def _llama4_tiny(**extra):
    """A tiny Llama-4 text model: chunks of 3 on its RoPE layers, 3 experts top-1 and a shared expert."""
    return _cfg("llama4_text", num_hidden_layers=4, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                head_dim=8, intermediate_size=16, intermediate_size_mlp=48, num_local_experts=3,
                num_experts_per_tok=1, vocab_size=101, attention_chunk_size=3, **extra)

# Full-size configs: the released models' config.json values (no hub access).
FULL = {
    "gpt2-124m": lambda: T.GPT2Config(n_layer=12, n_embd=768, n_head=12, vocab_size=50257, n_positions=1024),
    "pythia-1b": lambda: T.GPTNeoXConfig(num_hidden_layers=16, hidden_size=2048, num_attention_heads=8,
                                         intermediate_size=8192, vocab_size=50304, rotary_pct=0.25),
    "opt-350m": lambda: T.OPTConfig(num_hidden_layers=24, hidden_size=1024, num_attention_heads=16, ffn_dim=4096,
                                    vocab_size=50272, max_position_embeddings=2048, word_embed_proj_dim=512,
                                    do_layer_norm_before=False),
    "bloom-560m": lambda: T.BloomConfig(n_layer=24, hidden_size=1024, n_head=16, vocab_size=250880),
    "falcon-7b": lambda: T.FalconConfig(num_hidden_layers=32, hidden_size=4544, num_attention_heads=71,
                                        vocab_size=65024, multi_query=True, parallel_attn=True, alibi=False,
                                        new_decoder_architecture=False, bias=False),
    "llama-2-7b": lambda: T.LlamaConfig(num_hidden_layers=32, hidden_size=4096, num_attention_heads=32,
                                        num_key_value_heads=32, intermediate_size=11008, vocab_size=32000),
    "mistral-7b": lambda: T.MistralConfig(num_hidden_layers=32, hidden_size=4096, num_attention_heads=32,
                                          num_key_value_heads=8, intermediate_size=14336, vocab_size=32000),
    "mixtral-8x7b": lambda: T.MixtralConfig(num_hidden_layers=32, hidden_size=4096, num_attention_heads=32,
                                            num_key_value_heads=8, intermediate_size=14336, vocab_size=32000,
                                            num_local_experts=8, num_experts_per_tok=2),
    "qwen2-7b": lambda: T.Qwen2Config(num_hidden_layers=28, hidden_size=3584, num_attention_heads=28,
                                      num_key_value_heads=4, intermediate_size=18944, vocab_size=152064),
    "gemma-7b": lambda: T.GemmaConfig(num_hidden_layers=28, hidden_size=3072, num_attention_heads=16,
                                      num_key_value_heads=16, head_dim=256, intermediate_size=24576,
                                      vocab_size=256000),
    "phi-3-mini": lambda: T.Phi3Config(num_hidden_layers=32, hidden_size=3072, num_attention_heads=32,
                                       num_key_value_heads=32, intermediate_size=8192, vocab_size=32064,
                                       pad_token_id=0),
}
# (batch, sequence length) per full-size model: several shapes across the suite, cheap on meta.
FULL_SHAPES = [(1, 2048), (2, 1024), (4, 512), (1, 4096)]


def _build(cfg, device, experts="batched_mm"):
    kwargs = {"attn_implementation": "eager"}
    if getattr(cfg, "num_local_experts", None) or getattr(cfg, "num_experts", None) or getattr(cfg, "n_routed_experts", None):
        kwargs["experts_implementation"] = experts
    with torch.device(device):
        return T.AutoModelForCausalLM.from_config(cfg, **kwargs)


def _counted(cfg, batch, seq_len, device="cpu", experts="batched_mm"):
    """(forward FLOPs, backward FLOPs, forward counts by module) as FlopCounterMode reports them."""
    torch.manual_seed(0)
    net = _build(cfg, device, experts)
    ids = torch.randint(0, cfg.vocab_size, (batch, seq_len), device=device)
    with FlopCounterMode(display=False) as fwd:
        logits = net(input_ids=ids).logits
    with FlopCounterMode(display=False) as bwd:
        logits.sum().backward()
    by_module = {k: sum(v.values()) for k, v in fwd.get_flop_counts().items()}
    return fwd.get_total_flops(), bwd.get_total_flops(), by_module


@pytest.mark.parametrize("shape", [(1, 5), (3, 8)], ids=lambda s: f"b{s[0]}s{s[1]}")
@pytest.mark.parametrize("family", sorted(TINY))
def test_tiny_forward_backward_exact(family, shape):
    """Forward, backward and their sum equal FlopCounterMode on a tiny real model (CPU, eager)."""
    cfg = TINY[family]()
    b, s = shape
    fwd, bwd, by_module = _counted(cfg, b, s)
    model = Model.from_hf_config(cfg.to_dict())
    ours = forward_flops(model, seq_len=s, batch=b)
    assert ours.total == fwd
    assert backward_flops(model, seq_len=s, batch=b).total == bwd
    assert training_flops(model, seq_len=s, batch=b).total == fwd + bwd
    lm_head = [v for k, v in by_module.items() if k.endswith(".lm_head")]
    assert lm_head == [ours["lm_head"]]


def test_moe_eager_experts_exact_in_aggregate():
    """Mixtral's eager expert loop (experts hit by tokens only) still sums to top-k per token."""
    cfg = TINY["mixtral"]()
    fwd, bwd, _ = _counted(cfg, 2, 9, experts="eager")
    model = Model.from_hf_config(cfg.to_dict())
    assert training_flops(model, seq_len=9, batch=2).total == fwd + bwd


@pytest.mark.parametrize("i, name", list(enumerate(sorted(FULL))), ids=sorted(FULL))
def test_full_size_meta_exact(i, name):
    """Forward and forward+backward of a full-size model on the meta device equal the counter."""
    cfg = FULL[name]()
    b, s = FULL_SHAPES[i % len(FULL_SHAPES)]
    fwd, bwd, _ = _counted(cfg, b, s, device="meta")
    model = Model.from_hf_config(cfg.to_dict())
    assert forward_flops(model, seq_len=s, batch=b).total == fwd
    assert training_flops(model, seq_len=s, batch=b).total == fwd + bwd


@pytest.mark.parametrize("family", ["llama-gqa", "mixtral", "gpt2"])
@pytest.mark.parametrize("batch, prompt, new", [(1, 5, 1), (1, 4, 6), (2, 7, 5)])
def test_generate_exact(family, batch, prompt, new):
    """generation_flops' closed form equals FlopCounterMode over HF generate (prefill + KV-cache decode)."""
    cfg = TINY[family]()
    model = Model.from_hf_config(cfg.to_dict())
    assert generation_flops(model, prompt_len=prompt, n_generate=new, batch=batch).total == _generated(cfg, batch, prompt, new)


def _generated(cfg, batch, prompt, new) -> int:
    """FlopCounterMode's total over HF generate of ``new`` tokens after ``prompt`` (greedy, no early stop)."""
    cfg.eos_token_id = None
    torch.manual_seed(0)
    net = _build(cfg, "cpu").eval()
    ids = torch.randint(1, cfg.vocab_size, (batch, prompt))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = net.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False, pad_token_id=0)
    assert out.shape == (batch, prompt + new)
    return counter.get_total_flops()


def test_llama4_runs_every_expert():
    """transformers' Llama-4 MoE multiplies every token by every routed expert (router scores zero the
    others), so FlopCounterMode equals symcalc's count with top_k = E; symcalc's default counts top_k,
    what a routing kernel computes. Chunked layers compute the full square under eager attention."""
    cfg = _llama4_tiny(interleave_moe_layer_step=2)
    fwd, bwd, _ = _counted(cfg, 2, 7)
    model = Model.from_hf_config(cfg.to_dict())
    every = model.replace(top_k=model.n_experts)
    assert forward_flops(every, seq_len=7, batch=2).total == fwd
    assert training_flops(every, seq_len=7, batch=2).total == fwd + bwd
    assert forward_flops(model, seq_len=7, batch=2).total < fwd


# Full-size presets of issue 10 on the meta device: the released config.json values.
# (Every family is exact at tiny size above; these are the released shapes of one model per structure.)
MODERN_FULL = ["qwen3-30b-a3b", "gemma-3-1b", "gpt-oss-20b", "deepseek-v2-lite", "olmo-2-7b", "deepseek-v3"]


@pytest.mark.parametrize("i, name", list(enumerate(MODERN_FULL)), ids=MODERN_FULL)
def test_modern_presets_full_size_meta(i, name):
    """Forward and forward+backward of the issue-10 presets at full size (meta) equal the counter."""
    from symcalc.presets import PRESETS

    preset = PRESETS[name]
    cfg = _cfg(preset.family, **{k: v for k, v in preset.config.items() if k != "model_type"})
    b, s = FULL_SHAPES[i % len(FULL_SHAPES)]
    fwd, bwd, _ = _counted(cfg, b, s, device="meta")
    model = preset.model()
    assert forward_flops(model, seq_len=s, batch=b).total == fwd
    assert training_flops(model, seq_len=s, batch=b).total == fwd + bwd


@pytest.mark.parametrize("family", ["gemma3_text", "gpt_oss", "deepseek_v3-mla", "cohere2", "llama4-chunked"])
@pytest.mark.parametrize("batch, prompt, new", [(1, 2, 4), (2, 7, 5)])
def test_generate_windowed_and_latent_exact(family, batch, prompt, new):
    """generation_flops equals FlopCounterMode over HF generate for windowed layers (decode meets the keys the
    dynamic cache hands back, min(c+1, W), also for chunked layers) and MLA (kv_b re-expands the whole latent
    cache each step); prompts shorter and longer than the window."""
    cfg = _llama4_tiny() if family == "llama4-chunked" else TINY[family]()
    model = Model.from_hf_config(cfg.to_dict())
    if family == "llama4-chunked":
        model = model.replace(top_k=model.n_experts)  # transformers runs every expert
    assert generation_flops(model, prompt_len=prompt, n_generate=new, batch=batch).total == _generated(cfg, batch, prompt, new)


@pytest.mark.parametrize("kind", ["sliding", "chunked"])
@pytest.mark.parametrize("W", [1, 3, 8])
@pytest.mark.parametrize("s", [1, 5, 17])
def test_band_counts_the_pairs_transformers_masks_allow(kind, W, s):
    """window_flops="band" counts exactly the query-key pairs transformers' own mask functions allow
    (sliding_window_causal_mask_function, chunked_causal_mask_function), and decode keys the allowed keys of the
    new token's row; windows longer than the sequence included."""
    from transformers import masking_utils as mu

    from symcalc.structure import Window

    if kind == "sliding":
        allow = mu.sliding_window_causal_mask_function(W)
    else:
        allow = mu.chunked_causal_mask_function(W, torch.zeros(1, dtype=torch.long))
    q = torch.arange(s).view(-1, 1)
    k = torch.arange(s).view(1, -1)
    mask = allow(torch.zeros(1, dtype=torch.long), 0, q, k)
    assert int(mask.sum()) == Window(kind, W).cumulative_pairs(s, "band")
    assert int(mask[-1].sum()) == Window(kind, W).keys_at(s - 1, "band")
