"""Reading Hugging Face config.json files: key spellings old and new, family facts, errors."""

from __future__ import annotations

import json

import pytest

from symcalc import Model, SymcalcError, params
from symcalc.hf import SUPPORTED_MODEL_TYPES, load_hf_config, model_from_hf_config
from symcalc.presets import PRESETS

LLAMA_OLD = {  # meta-llama/Llama-2-7b-hf config.json as released (transformers 4.31)
    "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
    "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 11008, "max_position_embeddings": 4096,
    "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
    "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": None, "tie_word_embeddings": False,
    "torch_dtype": "float16", "transformers_version": "4.31.0.dev0", "use_cache": True, "vocab_size": 32000,
}


def test_old_and_transformers5_spellings_give_the_same_model():
    """torch_dtype/rope_theta (old) and dtype/rope_parameters/head_dim (transformers 5) load alike."""
    new = {k: v for k, v in LLAMA_OLD.items() if k not in ("torch_dtype", "rope_scaling")}
    new.update(dtype="float16", rope_parameters={"rope_theta": 10000.0, "rope_type": "default"}, head_dim=128,
               attention_bias=False, mlp_bias=False, transformers_version="5.24.0")
    assert model_from_hf_config(LLAMA_OLD) == model_from_hf_config(new)
    assert params(model_from_hf_config(new)).total == 6738415616


def test_reads_file_and_folder(tmp_path):
    """A path to config.json and a path to its folder give the same model, named after the folder."""
    folder = tmp_path / "Llama-2-7b-hf"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(LLAMA_OLD))
    by_file = Model.from_hf_config(folder / "config.json")
    assert by_file == Model.from_hf_config(str(folder))
    assert by_file.name == "Llama-2-7b-hf"


def test_name_from_name_or_path():
    """Model.name comes from the config's _name_or_path when it has one."""
    assert model_from_hf_config({**LLAMA_OLD, "_name_or_path": "meta-llama/Llama-2-7b-hf"}).name == \
        "meta-llama/Llama-2-7b-hf"


def test_llama_1_without_kv_heads_is_mha():
    """Llama-1 files lack num_key_value_heads: every head has its own K and V."""
    old = {k: v for k, v in LLAMA_OLD.items() if k != "num_key_value_heads"}
    assert model_from_hf_config(old).n_kv_heads == 32


def test_gpt2_null_n_inner_is_four_h():
    """GPT-2's n_inner null means an MLP of 4h."""
    cfg = dict(PRESETS["gpt2"].config, n_inner=None)
    assert model_from_hf_config(cfg).d_ff == 4 * 768


def test_falcon_legacy_names_and_types():
    """Falcon's pre-port keys (n_head, n_layer, n_head_kv) and model_type RefinedWeb read as the new ones."""
    new = PRESETS["falcon-40b"].config
    legacy = {k: v for k, v in new.items() if k not in ("num_attention_heads", "num_hidden_layers", "num_kv_heads",
                                                        "new_decoder_architecture")}
    legacy.update(model_type="RefinedWeb", n_head=128, n_layer=60, n_head_kv=8)
    assert model_from_hf_config(legacy) == model_from_hf_config(new)


def test_gemma_head_dim_defaults_to_256():
    """A Gemma file without head_dim gets 256 (GemmaConfig's default), not h/a."""
    cfg = {k: v for k, v in PRESETS["gemma-7b"].config.items() if k != "head_dim"}
    assert model_from_hf_config(cfg).d_head == 256


def test_tied_embeddings_default_per_family():
    """Without tie_word_embeddings, GPT-2/OPT/BLOOM/Falcon/Gemma tie and Llama/NeoX/Qwen2/Phi-3 do not."""
    tied = {name: model_from_hf_config(p.config).tied_embeddings
            for name, p in PRESETS.items() if "tie_word_embeddings" not in p.config}
    assert tied["gpt2"] and tied["opt-125m"] and tied["bloom-560m"] and tied["falcon-7b"] and tied["gemma-7b"]
    llama = {k: v for k, v in LLAMA_OLD.items() if k != "tie_word_embeddings"}
    assert not model_from_hf_config(llama).tied_embeddings


def test_qwen2_moe_scattered_dense_layers():
    """mlp_only_layers anywhere (not only a leading run) leave exactly those layers dense; a list that
    leaves no MoE layer, or is not a list of indices, is refused with the field named."""
    m = model_from_hf_config(dict(PRESETS["qwen1.5-moe-a2.7b"].config, mlp_only_layers=[3, 7]))
    assert (m.n_moe_layers, m.n_dense_layers) == (22, 2)
    assert 3 not in m.moe_layers and 7 not in m.moe_layers and 4 in m.moe_layers
    for bad in (list(range(24)), [1.5], "0"):
        with pytest.raises(SymcalcError, match="mlp_only_layers"):
            model_from_hf_config(dict(PRESETS["qwen1.5-moe-a2.7b"].config, mlp_only_layers=bad))


def test_unknown_model_type_lists_supported():
    """An unsupported model_type names itself and lists every supported one."""
    with pytest.raises(SymcalcError) as info:
        model_from_hf_config({"model_type": "mamba"})
    assert "'mamba'" in str(info.value)
    assert all(t in str(info.value) for t in SUPPORTED_MODEL_TYPES)


@pytest.mark.parametrize("config,field", [
    ({"hidden_size": 64}, "model_type"),
    ({**LLAMA_OLD, "model_type": ["llama"]}, "model_type"),
    ({**LLAMA_OLD, "model_type": 7}, "model_type"),
    ({"model_type": "llama", "hidden_size": 64}, "num_attention_heads"),
    ({**LLAMA_OLD, "hidden_size": "4096"}, "hidden_size"),
    ({**LLAMA_OLD, "num_hidden_layers": 0}, "num_hidden_layers"),
    ({**LLAMA_OLD, "intermediate_size": 11008.5}, "intermediate_size"),
    ({**LLAMA_OLD, "tie_word_embeddings": "yes"}, "tie_word_embeddings"),
    ({**LLAMA_OLD, "num_key_value_heads": 5}, "n_kv_heads"),
    ({**LLAMA_OLD, "num_attention_heads": 48}, "n_heads"),
])
def test_bad_fields_are_one_line_errors_naming_the_field(config, field):
    """A missing or invalid field is a one-line SymcalcError naming it."""
    with pytest.raises(SymcalcError) as info:
        model_from_hf_config(config)
    assert field in str(info.value) and "\n" not in str(info.value)


def test_file_errors(tmp_path):
    """Missing file, malformed JSON and a non-object are one-line errors naming the file."""
    missing = tmp_path / "nope" / "config.json"
    with pytest.raises(SymcalcError, match="no such file"):
        load_hf_config(missing)
    bad = tmp_path / "config.json"
    bad.write_text('{"model_type": "llama",')
    with pytest.raises(SymcalcError, match="not valid JSON") as info:
        load_hf_config(bad)
    assert str(bad) in str(info.value)
    bad.write_text("[]")
    with pytest.raises(SymcalcError, match="not an object"):
        load_hf_config(bad)
    with pytest.raises(SymcalcError, match="neither a path"):
        load_hf_config(42)


def test_every_preset_is_a_supported_family():
    """Each preset's model_type is one hf.py reads, and it round-trips through a file unchanged."""
    for preset in PRESETS.values():
        assert preset.family in SUPPORTED_MODEL_TYPES
        assert model_from_hf_config(json.loads(json.dumps(preset.config))) == preset.model()


def test_shipped_example_config_is_llama_3_8b():
    """examples/configs/llama-3-8b (the README's --hf-config example) loads to Llama-3-8B's published 8,030,261,248."""
    from pathlib import Path

    from symcalc import params

    folder = Path(__file__).resolve().parent.parent / "examples" / "configs" / "llama-3-8b"
    assert params(model_from_hf_config(folder)).total == 8_030_261_248


def test_deepseek_all_dense_layers_is_a_dense_model():
    """first_k_dense_replace at or beyond the layer count leaves no MoE layer: a dense model, as transformers builds it."""
    cfg = {"model_type": "deepseek_v2", "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
           "num_attention_heads": 4, "vocab_size": 100, "kv_lora_rank": 16, "q_lora_rank": None,
           "qk_nope_head_dim": 8, "qk_rope_head_dim": 4, "v_head_dim": 8, "n_routed_experts": 4,
           "num_experts_per_tok": 2, "moe_intermediate_size": 16, "first_k_dense_replace": 5}
    m = model_from_hf_config(cfg)
    assert not m.is_moe and m.is_mla and m.n_dense_layers == 2
