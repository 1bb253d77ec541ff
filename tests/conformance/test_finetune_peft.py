"""LoRA and DoRA parameter counts against peft's own, on transformers models built from configs.

Truth is ``get_peft_model(model, LoraConfig(...)).get_nb_trainable_parameters()`` (trainable,
total) on the meta device (real sizes) or tiny CPU models: the adapters peft actually creates.
The test names each symcalc target word by the module names of its family (q -> ``q_proj``,
GPT-NeoX's fused Q/K/V -> ``query_key_value``, ...): that is what a peft user types.

What is compared for MoE: Mixtral's routed experts in transformers 5 are 3-D tensors; peft
(0.21) adapts them through ``target_parameters`` (one rank-r pair per expert) and turns
``all-linear`` into the router plus ``gate_up_proj`` at rank 2r and ``down_proj`` at rank r,
which symcalc's ``expert_layout="fused"`` (the default) counts. For Qwen2-MoE peft's
``all-linear`` leaves the router and the routed experts out (they are no longer ``nn.Linear``
and no conversion names them); symcalc's ``all-linear`` keeps them, so that case is compared
with the targets peft actually adapts.
"""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

from symcalc._validation import HF_AS_FAMILY, HF_WRAPPERS  # noqa: E402
from symcalc import Model  # noqa: E402
from symcalc.finetune import LoRA, finetune_params  # noqa: E402
from symcalc.presets import PRESETS  # noqa: E402

pytestmark = pytest.mark.conformance
transformers.logging.set_verbosity_error()

#: symcalc target word -> module names in the family's transformers code.
HF_NAMES = {
    "llama": {"q": ["q_proj"], "k": ["k_proj"], "v": ["v_proj"], "o": ["o_proj"], "gate": ["gate_proj"],
              "up": ["up_proj"], "down": ["down_proj"], "lm_head": ["lm_head"],
              "shared_expert_gate": ["shared_expert_gate"]},
    "gpt_neox": {"qkv": ["query_key_value"], "o": ["attention.dense"], "up": ["dense_h_to_4h"],
                 "down": ["dense_4h_to_h"], "lm_head": ["lm_head"]},
    "phi3": {"qkv": ["qkv_proj"], "o": ["o_proj"], "gate_up": ["gate_up_proj"], "down": ["down_proj"]},
    "opt": {"q": ["q_proj"], "k": ["k_proj"], "v": ["v_proj"], "o": ["out_proj"], "up": ["fc1"], "down": ["fc2"],
            "embed_proj": ["project_in", "project_out"]},
    "gpt2": {"qkv": ["c_attn"], "o": ["attn.c_proj"], "up": ["c_fc"], "down": ["mlp.c_proj"]},
}


def _build(cfg, meta: bool = True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if meta:
            with torch.device("meta"):
                return transformers.AutoModelForCausalLM.from_config(cfg)
        torch.manual_seed(0)
        return transformers.AutoModelForCausalLM.from_config(cfg)


#: Multimodal wrappers (their text model is built) and model_types transformers knows under another name.
WRAPPERS, AS_FAMILY = HF_WRAPPERS, HF_AS_FAMILY


def _cut(fields: dict, n_layers: int) -> dict:
    """The same structure with fewer layers (the counts scale per layer): layer count and per-layer lists."""
    out = dict(fields)
    for key in ("num_hidden_layers", "n_layer"):
        if key in out:
            out[key] = n_layers
    for key in ("layer_types", "mlp_only_layers"):
        if isinstance(out.get(key), list) and key == "layer_types":
            out[key] = out[key][:n_layers]
    if isinstance(out.get("text_config"), dict):
        out["text_config"] = _cut(out["text_config"], n_layers)
    return out


def _preset_config(name: str, n_layers=None):
    preset = PRESETS[name]
    fields = {k: v for k, v in preset.config.items() if k != "model_type"}
    if n_layers is not None:
        fields = _cut(fields, n_layers)
    return transformers.AutoConfig.for_model(AS_FAMILY.get(preset.family, preset.family), **fields)


def peft_counts(cfg, *, meta: bool = True, **lora) -> dict[str, int]:
    """peft's (trainable, total) for ``LoraConfig(**lora)`` on the model of ``cfg`` (a wrapper's text model)."""
    model = _build(cfg.text_config if cfg.model_type in WRAPPERS else cfg, meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = peft.get_peft_model(model, peft.LoraConfig(**lora))
    trainable, total = wrapped.get_nb_trainable_parameters()
    return {"trainable": trainable, "total": total}


def ours(cfg, **lora) -> dict[str, int]:
    model = Model.from_hf_config(cfg.to_dict())
    return {k: int(v) for k, v in finetune_params(model, adapter=LoRA(**lora)).items()}


def modules(family: str, *words: str) -> list[str]:
    return [name for w in words for name in HF_NAMES[family][w]]


def test_llama_2_7b_q_v_rank_8():
    """Llama-2-7B, r = 8 on q and v: 4,194,304 trainable, as peft counts (and its total)."""
    cfg = _preset_config("llama-2-7b")
    theirs = peft_counts(cfg, r=8, target_modules=modules("llama", "q", "v"))
    assert theirs["trainable"] == 4_194_304
    assert ours(cfg, rank=8, targets="q,v") == theirs


def test_llama_3_8b_all_seven_linears_rank_16():
    """Llama-3-8B, r = 16 on all seven linears: 41,943,040 trainable; 'all-linear' is the same set."""
    cfg = _preset_config("llama-3-8b")
    theirs = peft_counts(cfg, r=16, target_modules=modules("llama", "q", "k", "v", "o", "gate", "up", "down"))
    assert theirs["trainable"] == 41_943_040
    assert ours(cfg, rank=16, targets="q,k,v,o,gate,up,down") == theirs
    assert ours(cfg, rank=16, targets="all-linear") == peft_counts(cfg, r=16, target_modules="all-linear")


def test_dora_adds_a_magnitude_per_output_feature():
    """DoRA on Llama-3-8B's seven linears: peft's count (LoRA plus one magnitude per output feature)."""
    cfg = _preset_config("llama-3-8b")
    theirs = peft_counts(cfg, r=16, target_modules="all-linear", use_dora=True)
    assert ours(cfg, rank=16, targets="all-linear", dora=True) == theirs


@pytest.mark.parametrize("name, family, words, targets", [
    ("mistral-7b", "llama", ("q", "k", "v", "o"), "attention"),
    ("qwen2.5-7b", "llama", ("q", "v", "down"), "q,v,down"),
    ("gemma-2b", "llama", ("q", "v", "lm_head"), "q,v,lm_head"),
    ("pythia-1b", "gpt_neox", ("qkv", "o", "up", "down"), "all-linear"),
    ("pythia-160m", "gpt_neox", ("qkv", "lm_head"), "q,k,v,lm_head"),
    ("phi-3-mini", "phi3", ("qkv", "gate_up", "down"), "q,k,v,gate,up,down"),
    ("opt-350m", "opt", ("q", "k", "v", "o", "up", "down", "embed_proj"), "all-linear"),
    ("gpt2", "gpt2", ("qkv", "o", "up", "down"), "all-linear"),
])
def test_families_match_peft(name, family, words, targets):
    """Each family (fused QKV, fused gate_up, tied heads, projections, Conv1D) at rank 4: peft's counts exactly."""
    if name not in PRESETS:
        pytest.skip(f"no preset {name}")
    cfg = _preset_config(name)
    assert ours(cfg, rank=4, targets=targets) == peft_counts(cfg, r=4, target_modules=modules(family, *words))


def test_all_linear_matches_peft_on_every_dense_preset():
    """'all-linear' at rank 8 equals peft's 'all-linear' on every dense preset, cut to 2 layers (the output layer left out)."""
    for name, preset in PRESETS.items():
        if Model.preset(name).is_moe or preset.family in ("deepseek_v3", "kimi_k2"):
            continue  # MoE: compared below
        cfg = _preset_config(name, n_layers=2)
        assert ours(cfg, rank=8, targets="all-linear") == peft_counts(cfg, r=8, target_modules="all-linear"), name


def _mixtral():
    return transformers.AutoConfig.for_model(
        "mixtral", hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=100, num_local_experts=4, num_experts_per_tok=2)


def test_mixtral_all_linear_router_and_fused_experts():
    """Mixtral, 'all-linear': attention, router, gate_up at rank 2r and down at r per expert, as peft converts them."""
    cfg = _mixtral()
    assert ours(cfg, rank=8, targets="all-linear") == peft_counts(cfg, r=8, target_modules="all-linear")


def test_mixtral_per_expert_down_projection():
    """Per-expert LoRA on Mixtral's expert down projections (peft target_parameters): one rank-r pair per expert."""
    cfg = _mixtral()
    theirs = peft_counts(cfg, r=8, target_modules=[], target_parameters=["mlp.experts.down_proj"])
    assert ours(cfg, rank=8, targets="expert_down") == theirs
    theirs = peft_counts(cfg, r=8, target_modules=["q_proj"], target_parameters=["mlp.experts.gate_up_proj"])
    # the fused gate_up tensor targeted directly at rank r is symcalc's gate and up at half the rank
    assert ours(cfg, rank=4, targets="q,expert_gate,expert_up")["trainable"] - ours(cfg, rank=4, targets="q")[
        "trainable"] == theirs["trainable"] - ours(cfg, rank=8, targets="q")["trainable"]


def test_qwen2_moe_shared_experts_and_gate():
    """Qwen2-MoE: attention, the shared expert's MLP and its gate (what peft's 'all-linear' adapts there)."""
    cfg = transformers.AutoConfig.for_model(
        "qwen2_moe", hidden_size=64, intermediate_size=96, moe_intermediate_size=32,
        shared_expert_intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        vocab_size=100, num_experts=4, num_experts_per_tok=2)
    theirs = peft_counts(cfg, r=8, target_modules="all-linear")
    assert ours(cfg, rank=8, targets="attention,mlp,shared_expert_gate") == theirs


def test_dora_on_experts_is_refused_as_peft_refuses_it():
    """DoRA on transformers-5 experts: peft raises, and symcalc says so in one line."""
    from symcalc import SymcalcError
    from symcalc.finetune import adapter_params

    cfg = _mixtral()
    with pytest.raises(ValueError):
        peft_counts(cfg, r=8, target_modules=[], target_parameters=["mlp.experts.down_proj"], use_dora=True)
    with pytest.raises(SymcalcError, match="DoRA"):
        adapter_params(Model.from_hf_config(cfg.to_dict()), LoRA(8, "expert_down", dora=True))


def test_mla_projections_of_deepseek():
    """DeepSeek-V3-style MLA: LoRA on q_a, q_b, kv_a (with MQA rope), kv_b and o, as peft adapts them."""
    cfg = transformers.AutoConfig.for_model(
        "deepseek_v3", hidden_size=64, intermediate_size=96, moe_intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, q_lora_rank=24, kv_lora_rank=16, qk_nope_head_dim=8,
        qk_rope_head_dim=4, v_head_dim=8, n_routed_experts=4, num_experts_per_tok=2, n_shared_experts=1,
        first_k_dense_replace=1, vocab_size=100, n_group=1, topk_group=1)
    names = ["q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj"]
    assert ours(cfg, rank=4, targets="attention") == peft_counts(cfg, r=4, target_modules=names)
