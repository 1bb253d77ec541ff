"""The hf-eager activation profile, the KV cache, optimizer states and weights against real torch/transformers.

Activations: a training-mode forward of tiny models on CPU (eager attention) under
``torch.autograd.graph.saved_tensors_hooks``; the bytes of unique saved storages (deduplicated by
``untyped_storage().data_ptr()``, parameters excluded). An L=2 model minus an L=1 model is one
layer's worth; the L=2 model whole is the whole model. GPT-2, GPT-NeoX and Llama run in fp32 and
bf16 with their dropouts off and on (rate 0.1 in every dropout field the config has: GPT-2
attention, residual and embedding; GPT-NeoX attention and hidden; Llama attention only). Dropout
runs as CUDA runs it: ``torch.nn.functional.dropout`` is replaced, for the measurement, by the fused
``torch.native_dropout`` that CUDA's ``dropout`` calls (a 1-byte mask), because CPU's ``dropout``
keeps a full-width mask instead. The profile must predict the bytes within 2% with the library's
and the CLI's *defaults*: dropout and the softmax precision come from the model's config.
"""

import functools
import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from symcalc import Model  # noqa: E402
from symcalc.memory import activations, kv_cache, layer_activations  # noqa: E402

pytestmark = pytest.mark.conformance

BATCH, SEQ = 2, 16


def _config(family: str, n_layers: int, dropout: bool = False):
    p = 0.1 if dropout else 0.0
    if family == "gpt2":
        return transformers.GPT2Config(n_layer=n_layers, n_embd=64, n_head=4, vocab_size=128, n_positions=64,
                                       resid_pdrop=p, embd_pdrop=p, attn_pdrop=p)
    if family == "gpt_neox":
        return transformers.GPTNeoXConfig(num_hidden_layers=n_layers, hidden_size=64, num_attention_heads=4,
                                          intermediate_size=256, vocab_size=128, max_position_embeddings=64,
                                          hidden_dropout=p, attention_dropout=p)
    if family in MODERN:
        model_type, fields = MODERN[family]
        return transformers.AutoConfig.for_model(model_type, num_hidden_layers=n_layers, **fields)
    return transformers.LlamaConfig(num_hidden_layers=n_layers, hidden_size=64, num_attention_heads=4,
                                    num_key_value_heads=2, intermediate_size=176, vocab_size=128,
                                    max_position_embeddings=64, attention_dropout=p)


#: Issue-10 structures: per-head qk-norm (Qwen3), full-width qk-norm and post-norms (OLMo-2), sandwich
#: norms, qk-norm and a sliding window (Gemma-3), MLA with its latent norms (a dense DeepSeek-V2 layer).
MODERN = {
    "qwen3": ("qwen3", dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                            intermediate_size=176, vocab_size=128)),
    "olmo2": ("olmo2", dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, intermediate_size=176,
                            vocab_size=128)),
    "gemma3": ("gemma3_text", dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                                   intermediate_size=176, vocab_size=128, sliding_window=4, hidden_activation="silu")),
    "deepseek_v2-mla": ("deepseek_v2", dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=4,
                                            intermediate_size=176, vocab_size=128, q_lora_rank=24, kv_lora_rank=16,
                                            qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=8,
                                            first_k_dense_replace=99, n_routed_experts=4, num_experts_per_tok=2,
                                            moe_intermediate_size=16)),
}


def _fused_dropout(input, p=0.5, training=True, inplace=False):
    """What CUDA's ``F.dropout`` runs (``native_dropout``: output and a bool mask), run on CPU."""
    if not training or p == 0:
        return input
    return torch.native_dropout(input, p, True)[0]


@functools.lru_cache(maxsize=None)
def _saved_bytes(family: str, n_layers: int, dtype, dropout: bool = False) -> int:
    torch.manual_seed(0)
    cfg = _config(family, n_layers, dropout)
    model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
    model = model.to(dtype).train()
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in weights:
            seen.setdefault(storage.data_ptr(), storage.nbytes())
        return t

    ids = torch.randint(0, 128, (BATCH, SEQ))
    original = torch.nn.functional.dropout
    torch.nn.functional.dropout = _fused_dropout
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            model(input_ids=ids, labels=ids)
    finally:
        torch.nn.functional.dropout = original
    return sum(seen.values())


# OLMo-2 and Gemma-3 multiply the norm weight in fp32, so in bf16 they keep fp32 normalised tensors the
# profile counts at 2 bytes (measured 10% and 14% more): only their fp32 runs are held to 2%.
CASES = [(f, d, False) for f in ("qwen3", "deepseek_v2-mla") for d in ("float32", "bfloat16")]
CASES += [("olmo2", "float32", False), ("gemma3", "float32", False)]
#: The three families of issue 9, dropout off and on.
DROPOUT_CASES = [(f, d, drop) for f in ("gpt2", "gpt_neox", "llama") for d in ("float32", "bfloat16")
                 for drop in (False, True)]


def _within(predicted, measured, pct=2):
    assert abs(float(predicted) - measured) <= pct / 100 * measured, (int(predicted), measured)


@pytest.mark.parametrize("family,dtype,dropout", DROPOUT_CASES + CASES)
def test_hf_eager_profile_predicts_measured_bytes_per_layer(family, dtype, dropout):
    """hf-eager per-layer bytes with the library's defaults (dropout and softmax dtype from the config) are within 2% of a real eager layer."""
    torch_dtype = getattr(torch, dtype)
    measured = _saved_bytes(family, 2, torch_dtype, dropout) - _saved_bytes(family, 1, torch_dtype, dropout)
    model = Model.from_hf_config(_config(family, 2, dropout).to_dict())
    _within(layer_activations(model, seq_len=SEQ, micro_batch=BATCH, bytes_act=torch_dtype.itemsize,
                              profile="hf-eager").total, measured)


@pytest.mark.parametrize("family,dtype,dropout", DROPOUT_CASES)
def test_hf_eager_profile_predicts_measured_whole_model(family, dtype, dropout):
    """hf-eager whole-model activations (layers, ids, embedding dropout, final norm, logits, labels) are within 2% of a measured L=2 forward."""
    torch_dtype = getattr(torch, dtype)
    measured = _saved_bytes(family, 2, torch_dtype, dropout)
    model = Model.from_hf_config(_config(family, 2, dropout).to_dict())
    _within(activations(model, seq_len=SEQ, micro_batch=BATCH, bytes_act=torch_dtype.itemsize,
                        profile="hf-eager").total, measured)


@pytest.mark.parametrize("family,dtype,dropout", DROPOUT_CASES)
def test_cli_hf_eager_activations_match_measured(family, dtype, dropout, tmp_path, capsys):
    """`symcalc mem --hf-config ... --activation-profile hf-eager` (no dropout flag) charges the measured activation bytes within 2%."""
    from symcalc.cli import main

    path = tmp_path / "config.json"
    path.write_text(json.dumps(_config(family, 2, dropout).to_dict()))
    precision = ["--disable-mixed-precision"] if dtype == "float32" else []
    assert main(["mem", "--hf-config", str(path), "-s", str(SEQ), "-b", str(BATCH), "--activation-profile", "hf-eager",
                 *precision, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert any(out["settings"]["dropout"].values()) is dropout
    _within(out["per_device"]["activations"], _saved_bytes(family, 2, getattr(torch, dtype), dropout))


@pytest.mark.parametrize("family", ["gpt2", "gpt_neox", "llama"])
def test_the_profile_needs_the_models_own_dropout_and_softmax(family):
    """Charging dropout everywhere and an fp32 softmax (the old defaults) misses a bf16 layer by more than 2% for every family."""
    measured = _saved_bytes(family, 2, torch.bfloat16) - _saved_bytes(family, 1, torch.bfloat16)
    model = Model.from_hf_config(_config(family, 2).to_dict())
    wrong = layer_activations(model, seq_len=SEQ, micro_batch=BATCH, bytes_act=2, profile="hf-eager", dropout=True,
                              softmax_fp32=True).total
    assert abs(float(wrong) - measured) > 0.02 * measured


def test_korthikanti_profile_differs_from_measured_eager():
    """The paper's profile is not a fit to HF eager: for Llama in bf16 it undercounts the fp32 norm and softmax copies."""
    measured = _saved_bytes("llama", 2, torch.bfloat16) - _saved_bytes("llama", 1, torch.bfloat16)
    model = Model.from_hf_config(_config("llama", 2).to_dict())
    paper = layer_activations(model, seq_len=SEQ, micro_batch=BATCH, bytes_act=2, dropout=False).total
    assert float(paper) < 0.9 * measured


def test_kv_cache_matches_transformers_cache_bytes():
    """kv_cache() equals the bytes of the K and V tensors transformers keeps after a GQA forward with use_cache."""
    cfg = _config("llama", 2)
    model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").eval()
    ids = torch.randint(0, 128, (BATCH, SEQ))
    with torch.no_grad():
        cache = model(input_ids=ids, use_cache=True).past_key_values
    measured = 0
    for layer in cache.layers:
        measured += layer.keys.numel() * layer.keys.element_size() + layer.values.numel() * layer.values.element_size()
    predicted = kv_cache(Model.from_hf_config(cfg.to_dict()), tokens=SEQ, batch=BATCH, bytes_kv=4)
    assert predicted == measured


# --- model states against real torch optimizers and real parameter counts ----------------------
def _state_bytes_after_one_step(family: str, make_optimizer) -> tuple[int, object]:
    """Bytes of the tensors a real optimizer keeps per parameter after one step (scalar step counters excluded)."""
    torch.manual_seed(0)
    cfg = _config(family, 2)
    model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").float().train()
    opt = make_optimizer(model.parameters())
    ids = torch.randint(0, 128, (BATCH, SEQ))
    model(input_ids=ids, labels=ids).loss.backward()
    opt.step()
    total = 0
    for state in opt.state.values():
        for key, value in state.items():
            if torch.is_tensor(value) and key != "step" and value.dim() > 0:
                total += value.numel() * value.element_size()
    return total, cfg


@pytest.mark.parametrize("name,make", [
    ("adamw", lambda p: torch.optim.AdamW(p, lr=1e-3)),
    ("sgd", lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9)),
])
def test_optimizer_bytes_match_torch_optimizer_state(name, make):
    """optimizer_bytes(name) × N equals the fp32 state a real torch optimizer keeps (AdamW: 2 moments, SGD: momentum)."""
    from symcalc import params
    from symcalc.memory import optimizer_bytes

    measured, cfg = _state_bytes_after_one_step("llama", make)
    assert optimizer_bytes(name) * params(Model.from_hf_config(cfg.to_dict())).total == measured


@pytest.mark.parametrize("make", [
    lambda p: transformers.optimization.Adafactor(p, lr=1e-3, relative_step=False, scale_parameter=False),
    lambda p: torch.optim.Adafactor(p, lr=1e-3),
], ids=["transformers", "torch"])
def test_adafactor_state_matches_real_adafactor(make):
    """4 bytes × adafactor_state_elements(model) equals the factored (row + column) and vector state of real Adafactor."""
    from symcalc.memory import adafactor_state_elements

    measured, cfg = _state_bytes_after_one_step("llama", make)
    assert 4 * adafactor_state_elements(Model.from_hf_config(cfg.to_dict())) == measured


@pytest.mark.parametrize("family", ["gpt2", "gpt_neox", "llama"])
def test_cli_weights_are_two_bytes_per_real_parameter(family, tmp_path, capsys):
    """`symcalc mem --hf-config` charges 2 bytes per parameter the real transformers model has (one device, no sharding)."""
    import json

    from symcalc.cli import main

    cfg = _config(family, 2)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg.to_dict()))
    n = sum(p.numel() for p in transformers.AutoModelForCausalLM.from_config(cfg).parameters())
    assert main(["mem", "--hf-config", str(path), "-s", str(SEQ), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["per_device"]
    assert out["weights"] == 2 * n and out["gradients"] == 4 * n
