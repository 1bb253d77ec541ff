"""Parameter counts against the real transformers models, built on the meta device.

Truth is ``model.parameters()`` of ``AutoModelForCausalLM.from_config(cfg)`` (tied weights
counted once, as transformers does). Every parameter name is mapped to a symcalc part, and the
total *and* each part must agree exactly. symcalc reads ``cfg.to_dict()``, so the path is
config object -> dict -> symcalc, the same as a config.json written by transformers 5.
"""

from __future__ import annotations

import re
import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from hypothesis import given, settings, strategies as st  # noqa: E402

from symcalc import Model, params  # noqa: E402
from symcalc._validation import HF_AS_FAMILY, HF_WRAPPERS, hf_config, hf_model  # noqa: E402
from symcalc.presets import PRESETS  # noqa: E402

pytestmark = pytest.mark.conformance

transformers.logging.set_verbosity_error()

_LAYER = re.compile(r"\.(?:h|layers)\.\d+\.")
_QKV = {"c_attn", "query_key_value", "q_proj", "k_proj", "v_proj", "qkv_proj"}
_OUT = {"o_proj", "out_proj"}
_UP = {"c_fc", "dense_h_to_4h", "fc1", "gate_proj", "up_proj", "gate_up_proj"}
_DOWN = {"dense_4h_to_h", "fc2", "down_proj"}
_TOKEN = {"wte", "embed_in", "embed_tokens", "word_embeddings"}
_FINAL_NORM = {"ln_f", "final_layer_norm", "norm"}


_MLA = {"q_a_proj": "attention/q_a", "q_b_proj": "attention/q_b", "kv_a_proj_with_mqa": "attention/kv_a",
        "kv_b_proj": "attention/kv_b"}


def _part(name: str, mla: bool = False) -> str:
    """The symcalc part a transformers parameter name belongs to (``mla``: a latent-attention model)."""
    m = _LAYER.search(name)
    if m:
        rest = name[m.end():]
        ffn = rest.split(".")[0]  # "mlp" or Llama-4's "feed_forward"
        sub = rest[len(ffn) + 1:]
        if sub.startswith("experts."):
            return "moe/experts_bias" if rest.endswith("_bias") else "moe/experts"
        if sub.startswith("shared_expert_gate."):
            return "moe/shared_expert_gate"
        if sub.startswith(("shared_expert.", "shared_experts.")):
            return "moe/shared_experts"
        if sub.startswith(("gate.", "router.")):
            return "moe/router_bias" if rest.endswith(".bias") else "moe/router"
        if rest.startswith("self_attn."):
            module, kind = rest.split(".")[1], rest.split(".")[-1]
            if module in ("q_a_layernorm", "kv_a_layernorm"):
                return "attention/latent_norms"
            if module in ("q_norm", "k_norm"):
                return "attention/qk_norm"
            if module == "sinks":
                return "attention/sinks"
            if module in _MLA or (mla and module == "q_proj"):
                if kind == "bias":
                    return "attention/latent_bias"
                return _MLA.get(module, "attention/q")
        *path, kind = rest.split(".")
        module, parent = path[-1], (path[-2] if len(path) > 1 else "")
        suffix = "_bias" if kind == "bias" else ""
        if "norm" in module or module.startswith("ln_"):
            return "norms"
        if module in _QKV:
            return "attention/qkv" + suffix
        if module in _OUT or (module == "dense" and parent in ("attention", "self_attention")) or (
                module == "c_proj" and parent == "attn"):
            return "attention/out" + suffix
        if module in _UP:
            return "mlp/up" + suffix
        if module in _DOWN or (module == "c_proj" and parent == "mlp"):
            return "mlp/down" + suffix
        raise AssertionError(f"unmapped layer parameter {name}")
    *path, kind = name.split(".")
    module = path[-1]
    if module in _TOKEN:
        return "embedding/token"
    if module in ("wpe", "embed_positions"):
        return "embedding/position"
    if module in ("project_in", "project_out"):
        return "embedding/projection"
    if module == "word_embeddings_layernorm":
        return "embedding/norm"
    if module in _FINAL_NORM:
        return "final_norm"
    if module in ("lm_head", "embed_out"):
        return f"lm_head/{kind}"
    raise AssertionError(f"unmapped parameter {name}")


def _build(cfg):
    return hf_model(cfg)


def torch_counts(cfg) -> dict[str, int]:
    """Parameter counts by symcalc part, from the real model (tied weights once)."""
    out: dict[str, int] = {}
    mla = getattr(cfg, "kv_lora_rank", None) is not None
    for name, p in _build(cfg).named_parameters():
        part = _part(name, mla)
        out[part] = out.get(part, 0) + p.numel()
    return out


def assert_conforms(cfg, wrapper=None) -> Model:
    """symcalc's total and every part equal the transformers model's, via cfg.to_dict().

    ``wrapper``: a multimodal config holding ``cfg`` as its ``text_config``; symcalc reads the
    wrapper's dict, transformers builds the text model.
    """
    model = Model.from_hf_config((wrapper or cfg).to_dict())
    ours = {k: v for k, v in params(model).as_ints().items() if v != 0}
    theirs = torch_counts(cfg)
    assert ours == theirs, f"{cfg.model_type}: symcalc {ours} != transformers {theirs}"
    assert int(params(model).total) == sum(theirs.values())
    return model


def config(model_type: str, **fields):
    """A transformers config object of ``model_type`` (as AutoConfig builds it from a config.json)."""
    return transformers.AutoConfig.for_model(model_type, **fields)


# --- every preset: its config.json fields -> config object -> model ----------------------------
#: Multimodal wrappers whose text model symcalc reads; model_types transformers builds under another name
#: (Kimi-K2's config.json says kimi_k2 and loads DeepseekV3ForCausalLM through remote code). Shared with
#: the documentation's validation page (symcalc._validation), which builds the same models.
WRAPPERS, AS_FAMILY = HF_WRAPPERS, HF_AS_FAMILY
preset_config = hf_config


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_matches_transformers(name):
    """Each preset's parts equal its real-size transformers model's, and the preset equals the round trip."""
    preset = PRESETS[name]
    cfg = preset_config(preset)
    model = assert_conforms(cfg.text_config, wrapper=cfg) if preset.family in WRAPPERS else assert_conforms(cfg)
    assert params(preset.model()).total == params(model).total


def test_llama4_scout_multimodal_total_is_published():
    """Llama-4 Scout's text model (symcalc) plus transformers' vision tower and projector, with the
    checkpoint's vision_config, is the model card's 109B total (3 digits: 108.64B)."""
    vision = dict(hidden_act="gelu", hidden_size=1408, image_size=336, intermediate_size=5632,
                  multi_modal_projector_bias=False, num_attention_heads=16, num_hidden_layers=34, patch_size=14,
                  pixel_shuffle_ratio=0.5, projector_input_dim=4096, projector_output_dim=4096, vision_output_dim=4096)
    fields = {k: v for k, v in PRESETS["llama-4-scout"].config.items() if k != "model_type"}
    cfg = config("llama4", vision_config=vision, **fields)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.device("meta"):
            full = transformers.Llama4ForConditionalGeneration(cfg)
    rest = sum(p.numel() for n, p in full.named_parameters() if not n.startswith("language_model."))
    total = int(params(PRESETS["llama-4-scout"].model()).total) + rest
    assert round(total / 1e9) == 109


# --- several sizes and structures per family ----------------------------------------------------
FAMILY_CASES = [
    ("gpt2", dict(n_layer=3, n_embd=96, n_head=4, vocab_size=1000, n_positions=64)),
    ("gpt2", dict(n_layer=2, n_embd=64, n_head=2, n_inner=100, vocab_size=999, n_positions=30, tie_word_embeddings=False)),
    ("gpt_neox", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=200, vocab_size=512)),
    ("gpt_neox", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=256,
                      vocab_size=512, attention_bias=False, tie_word_embeddings=True)),
    ("opt", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, ffn_dim=128, vocab_size=300,
                 max_position_embeddings=100)),
    ("opt", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, ffn_dim=128, vocab_size=300,
                 word_embed_proj_dim=32, do_layer_norm_before=False, enable_bias=False)),
    ("opt", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, ffn_dim=128, vocab_size=300,
                 _remove_final_layer_norm=True, tie_word_embeddings=False)),
    ("bloom", dict(n_layer=3, hidden_size=64, n_head=8, vocab_size=777)),
    ("falcon", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, vocab_size=300)),
    ("falcon", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=8, num_kv_heads=2, vocab_size=300,
                    new_decoder_architecture=True, bias=True)),
    ("falcon", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, vocab_size=300, multi_query=False,
                    parallel_attn=False, alibi=True, bias=True, ffn_hidden_size=100, tie_word_embeddings=False)),
    ("falcon", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=8, num_kv_heads=4, vocab_size=300,
                    new_decoder_architecture=True, num_ln_in_parallel_attn=1)),
    ("llama", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=100, vocab_size=300, attention_bias=True, mlp_bias=True)),
    ("llama", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=1,
                   head_dim=32, intermediate_size=100, vocab_size=300, tie_word_embeddings=True)),
    ("mistral", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=8, num_key_value_heads=2,
                     intermediate_size=96, vocab_size=300, head_dim=16)),
    ("mixtral", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                     intermediate_size=96, vocab_size=300, num_local_experts=4, num_experts_per_tok=2)),
    ("qwen2", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=96, vocab_size=300, tie_word_embeddings=True)),
    ("qwen2_moe", dict(num_hidden_layers=4, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                       intermediate_size=96, vocab_size=300, num_experts=6, num_experts_per_tok=2,
                       moe_intermediate_size=32, shared_expert_intermediate_size=48, decoder_sparse_step=2,
                       mlp_only_layers=[0], qkv_bias=False)),
    ("gemma", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=1,
                   head_dim=32, intermediate_size=96, vocab_size=300, attention_bias=True)),
    ("gemma2", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                    head_dim=16, intermediate_size=96, vocab_size=300)),
    ("phi3", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                  intermediate_size=96, vocab_size=300, pad_token_id=0, bos_token_id=0, eos_token_id=0)),
    # --- the families of 2024-26 (issue 10): qk-norm, sinks, windows, MLA, modern MoE layouts
    ("qwen3", dict(num_hidden_layers=3, hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=24,
                   intermediate_size=96, vocab_size=300, tie_word_embeddings=True, use_sliding_window=True,
                   sliding_window=8, max_window_layers=1)),
    ("qwen3", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=4, head_dim=16,
                   intermediate_size=96, vocab_size=300, attention_bias=True)),
    ("qwen3_moe", dict(num_hidden_layers=5, hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                       intermediate_size=96, moe_intermediate_size=24, num_experts=6, num_experts_per_tok=2,
                       decoder_sparse_step=2, mlp_only_layers=[3], vocab_size=300)),
    ("qwen3_moe", dict(num_hidden_layers=4, hidden_size=64, num_attention_heads=4, num_key_value_heads=1, head_dim=32,
                       intermediate_size=96, moe_intermediate_size=24, num_experts=4, num_experts_per_tok=1,
                       mlp_only_layers=[0, 2], vocab_size=300, tie_word_embeddings=True)),
    ("llama4_text", dict(num_hidden_layers=4, hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                         intermediate_size=32, intermediate_size_mlp=96, num_local_experts=4, num_experts_per_tok=1,
                         interleave_moe_layer_step=2, vocab_size=300, attention_chunk_size=8)),
    ("llama4_text", dict(num_hidden_layers=3, hidden_size=64, num_attention_heads=8, num_key_value_heads=2, head_dim=8,
                         intermediate_size=40, intermediate_size_mlp=96, num_local_experts=3, num_experts_per_tok=2,
                         vocab_size=300, use_qk_norm=False, attention_bias=True)),
    ("gemma3_text", dict(num_hidden_layers=7, hidden_size=64, num_attention_heads=4, num_key_value_heads=1, head_dim=32,
                         intermediate_size=96, vocab_size=300, sliding_window=16)),
    ("gpt_oss", dict(num_hidden_layers=3, hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                     intermediate_size=48, num_local_experts=4, num_experts_per_tok=2, vocab_size=300, sliding_window=8)),
    ("olmo2", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=96, vocab_size=300)),
    ("phimoe", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                    intermediate_size=48, num_local_experts=4, num_experts_per_tok=2, vocab_size=300,
                    attention_bias=True, lm_head_bias=True, sliding_window=16)),
    ("deepseek_v2", dict(num_hidden_layers=3, hidden_size=64, num_attention_heads=4, intermediate_size=96,
                         moe_intermediate_size=24, n_routed_experts=4, n_shared_experts=2, num_experts_per_tok=2,
                         first_k_dense_replace=1, q_lora_rank=None, kv_lora_rank=16, qk_nope_head_dim=8,
                         qk_rope_head_dim=4, v_head_dim=12, vocab_size=300)),
    ("deepseek_v3", dict(num_hidden_layers=3, hidden_size=64, num_attention_heads=4, intermediate_size=96,
                         moe_intermediate_size=24, n_routed_experts=8, n_shared_experts=1, num_experts_per_tok=2,
                         n_group=2, topk_group=1, first_k_dense_replace=2, q_lora_rank=24, kv_lora_rank=16,
                         qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=12, vocab_size=300, attention_bias=True)),
    ("deepseek_v3", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=2, intermediate_size=96,
                         moe_intermediate_size=24, n_routed_experts=4, n_shared_experts=1, num_experts_per_tok=2,
                         n_group=1, topk_group=1, first_k_dense_replace=0, q_lora_rank=None, kv_lora_rank=16,
                         qk_nope_head_dim=8, qk_rope_head_dim=8, v_head_dim=8, vocab_size=300, attention_bias=True,
                         tie_word_embeddings=True)),
    ("glm4_moe", dict(num_hidden_layers=3, hidden_size=64, num_attention_heads=6, num_key_value_heads=2, head_dim=16,
                      intermediate_size=96, moe_intermediate_size=24, n_routed_experts=4, n_shared_experts=1,
                      num_experts_per_tok=2, first_k_dense_replace=1, attention_bias=True, use_qk_norm=True,
                      vocab_size=300)),
    ("glm4_moe", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=6, num_key_value_heads=2,
                      intermediate_size=96, moe_intermediate_size=24, n_routed_experts=4, n_shared_experts=2,
                      num_experts_per_tok=1, first_k_dense_replace=0, vocab_size=300)),
    ("smollm3", dict(num_hidden_layers=4, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                     intermediate_size=96, vocab_size=300, use_sliding_window=True, sliding_window=8, pad_token_id=0)),
    ("granite", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                     intermediate_size=96, vocab_size=300, attention_bias=True, tie_word_embeddings=True)),
    ("cohere2", dict(num_hidden_layers=5, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                     intermediate_size=96, vocab_size=300, sliding_window=8, attention_bias=True)),
]


@pytest.mark.parametrize("model_type,fields", FAMILY_CASES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(FAMILY_CASES)])
def test_family_structures(model_type, fields):
    """Small models of every family and structure option: every part equals transformers'."""
    assert_conforms(config(model_type, **fields))


def test_every_supported_family_is_exercised():
    """Each supported model_type (except the pre-port Falcon names) has a conformance case."""
    from symcalc.hf import SUPPORTED_MODEL_TYPES

    covered = {t for t, _ in FAMILY_CASES} | {p.family for p in PRESETS.values()} | {w for w, _ in NESTED_CASES}
    assert set(SUPPORTED_MODEL_TYPES) - {"RefinedWeb", "RefinedWebModel"} <= covered


#: Multimodal configs: symcalc reads the wrapper (``text_config`` nested), transformers builds the text model.
NESTED_CASES = [
    ("llama4", dict(num_hidden_layers=4, hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                    intermediate_size=32, intermediate_size_mlp=96, num_local_experts=4, num_experts_per_tok=1,
                    interleave_moe_layer_step=2, vocab_size=300)),
    ("gemma3", dict(num_hidden_layers=7, hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                    intermediate_size=96, vocab_size=300, sliding_window=16)),
]


@pytest.mark.parametrize("wrapper_type,text", NESTED_CASES, ids=[w for w, _ in NESTED_CASES])
def test_nested_text_config(wrapper_type, text):
    """A multimodal config.json (text_config nested) gives exactly its text model's parameters, part by part."""
    wrapper = config(wrapper_type, text_config=text)
    assert_conforms(wrapper.text_config, wrapper=wrapper)


# --- hypothesis: random valid configurations ------------------------------------------------------
@st.composite
def _attention(draw):
    g = draw(st.integers(1, 4))
    a = g * draw(st.integers(1, 3))
    d_head = draw(st.sampled_from([4, 8, 16]))
    return a * d_head, a, g, d_head


_common = dict(layers=st.integers(1, 3), vocab=st.integers(16, 400), ff=st.integers(1, 96), tied=st.booleans())


@settings(max_examples=12)
@given(shape=_attention(), bias=st.booleans(), mlp_bias=st.booleans(), explicit_head=st.booleans(), **_common)
def test_random_llama(shape, layers, vocab, ff, tied, bias, mlp_bias, explicit_head):
    """Random Llama shapes (GQA, head_dim, biases, tying) match transformers exactly."""
    h, a, g, d_head = shape
    extra = {"head_dim": d_head * 2} if explicit_head else {}
    assert_conforms(config("llama", num_hidden_layers=layers, hidden_size=h, num_attention_heads=a,
                           num_key_value_heads=g, intermediate_size=ff, vocab_size=vocab,
                           tie_word_embeddings=tied, attention_bias=bias, mlp_bias=mlp_bias, **extra))


@settings(max_examples=10)
@given(shape=_attention(), bias=st.booleans(), **_common)
def test_random_gpt_neox(shape, layers, vocab, ff, tied, bias):
    """Random GPT-NeoX shapes (MHA, attention biases, tying) match transformers exactly."""
    h, a, _, _ = shape
    assert_conforms(config("gpt_neox", num_hidden_layers=layers, hidden_size=h, num_attention_heads=a,
                           intermediate_size=ff, vocab_size=vocab, tie_word_embeddings=tied, attention_bias=bias))


@settings(max_examples=10)
@given(shape=_attention(), experts=st.integers(1, 6), data=st.data(), **_common)
def test_random_mixtral(shape, layers, vocab, ff, tied, experts, data):
    """Random Mixtral MoE shapes (experts, top-k) match transformers exactly."""
    h, a, g, _ = shape
    k = data.draw(st.integers(1, experts))
    assert_conforms(config("mixtral", num_hidden_layers=layers, hidden_size=h, num_attention_heads=a,
                           num_key_value_heads=g, intermediate_size=ff, vocab_size=vocab, tie_word_embeddings=tied,
                           num_local_experts=experts, num_experts_per_tok=k))


@settings(max_examples=10)
@given(shape=_attention(), experts=st.integers(1, 6), shared=st.integers(1, 64), step=st.integers(1, 3),
       n_dense=st.integers(0, 2), qkv_bias=st.booleans(), data=st.data(), **_common)
def test_random_qwen2_moe(shape, layers, vocab, ff, tied, experts, shared, step, n_dense, qkv_bias, data):
    """Random Qwen2-MoE layouts (sparse step, leading dense layers, shared expert) match transformers."""
    h, a, g, _ = shape
    layers = layers + 3
    if (layers // step) - (n_dense // step) < 1:
        n_dense = 0
    k = data.draw(st.integers(1, experts))
    assert_conforms(config("qwen2_moe", num_hidden_layers=layers, hidden_size=h, num_attention_heads=a,
                           num_key_value_heads=g, intermediate_size=ff, vocab_size=vocab, tie_word_embeddings=tied,
                           num_experts=experts, num_experts_per_tok=k, moe_intermediate_size=data.draw(st.integers(1, 48)),
                           shared_expert_intermediate_size=shared, decoder_sparse_step=step,
                           mlp_only_layers=list(range(n_dense)), qkv_bias=qkv_bias))


@settings(max_examples=10)
@given(shape=_attention(), proj=st.booleans(), pre_norm=st.booleans(), bias=st.booleans(),
       positions=st.integers(1, 64), **_common)
def test_random_opt(shape, layers, vocab, ff, tied, proj, pre_norm, bias, positions):
    """Random OPT shapes (projection, post-norm, biases, +2 position rows) match transformers."""
    h, a, _, _ = shape
    assert_conforms(config("opt", num_hidden_layers=layers, hidden_size=h, num_attention_heads=a, ffn_dim=ff,
                           vocab_size=vocab, tie_word_embeddings=tied, word_embed_proj_dim=h // 2 if proj else h,
                           do_layer_norm_before=pre_norm, enable_bias=bias, max_position_embeddings=positions))


@settings(max_examples=10)
@given(shape=_attention(), new_arch=st.booleans(), multi_query=st.booleans(), parallel=st.booleans(),
       bias=st.booleans(), alibi=st.booleans(), **_common)
def test_random_falcon(shape, layers, vocab, ff, tied, new_arch, multi_query, parallel, bias, alibi):
    """Random Falcon layouts (MQA, new decoder architecture, parallel blocks, biases) match transformers."""
    h, a, g, _ = shape
    assert_conforms(config("falcon", num_hidden_layers=layers, hidden_size=h, num_attention_heads=a, num_kv_heads=g,
                           ffn_hidden_size=ff, vocab_size=vocab, tie_word_embeddings=tied,
                           new_decoder_architecture=new_arch, multi_query=multi_query,
                           parallel_attn=parallel or new_arch, bias=bias, alibi=alibi and not new_arch))


# --- files on disk and flag-built models ---------------------------------------------------------
@pytest.mark.parametrize("name", ["llama-3.1-8b", "falcon-7b", "opt-350m", "bloom-560m", "gemma-2-2b"])
def test_config_json_written_by_transformers(tmp_path, name):
    """A config.json written by transformers 5 (to_json_file) loads to the model's exact count."""
    preset = PRESETS[name]
    cfg = config(preset.family, **{k: v for k, v in preset.config.items() if k != "model_type"})
    cfg.to_json_file(str(tmp_path / "config.json"))
    model = Model.from_hf_config(tmp_path)
    assert params(model).total == sum(torch_counts(cfg).values()) == params(preset.model()).total


def test_flag_built_model_is_gpt_neox(capsys):
    """`symcalc params` without a preset counts a GPT-NeoX model (LayerNorm, biases, untied, rotary)."""
    import json

    from symcalc.cli import main

    assert main(["params", "-l", "3", "-hs", "96", "-a", "4", "-v", "1000", "-ff", "3", "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)["breakdown"]
    cfg = config("gpt_neox", num_hidden_layers=3, hidden_size=96, num_attention_heads=4, intermediate_size=288,
                 vocab_size=1000)
    assert {k: v for k, v in ours.items() if v} == torch_counts(cfg)


@pytest.mark.parametrize("name", ["deepseek-v3", "qwen3-30b-a3b", "gpt-oss-20b", "gemma-3-27b", "llama-4-scout",
                                  "glm-4.5-air", "phi-3.5-moe"])
def test_modern_config_json_files_load(tmp_path, name):
    """config.json files written by transformers 5 (nested text_config for Gemma-3/Llama-4) load to the exact
    count of the model transformers builds from them."""
    preset = PRESETS[name]
    cfg = preset_config(preset)
    cfg.to_json_file(str(tmp_path / "config.json"))
    text = cfg.text_config if preset.family in WRAPPERS else cfg
    assert params(Model.from_hf_config(tmp_path)).total == sum(torch_counts(text).values()) == params(preset.model()).total
