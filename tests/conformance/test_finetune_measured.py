"""Fine-tuning memory measured on real peft / torch models on CPU (tiny Llama, eager attention, dropout off).

- model states: after one ``torch.optim.AdamW`` step over the trainable parameters only, the bytes
  of the parameters, of their ``.grad`` and of the optimizer's moments (``exp_avg``,
  ``exp_avg_sq``; the scalar ``step`` counters, 4 bytes per tensor and on the CPU even in GPU runs,
  are left out) equal symcalc's weights, gradients and optimizer states exactly;
- activations: the unique storages a training forward saves for backward
  (``saved_tensors_hooks``, those still alive when the forward returns, i.e. what backward will
  use; parameters excluded): one layer's worth (an L = 2 model minus an L = 1 model) equals the
  hf-eager profile with the same adapter or frozen parts exactly, and the whole model within 1%
  (the causal mask is not modelled);
- gradient checkpointing: peft's ``prepare_model_for_kbit_training`` with its defaults turns it on for a
  k-bit base only, and a layer then keeps exactly what symcalc's default policy for that base counts
  (``kbit_recompute`` full: the layer input; a 16-bit base: ``recompute`` none).
"""

from __future__ import annotations

import warnings
import weakref

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

from symcalc import Model  # noqa: E402
from symcalc.finetune import Freeze, LoRA  # noqa: E402
from symcalc.finetune.flow import grad_flow  # noqa: E402
from symcalc.memory import Parallel, Precision, activations, layer_activations, placed_states  # noqa: E402

pytestmark = pytest.mark.conformance
transformers.logging.set_verbosity_error()

BATCH, SEQ = 2, 16
HF = {"q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj", "gate": "gate_proj", "up": "up_proj",
      "down": "down_proj", "lm_head": "lm_head"}
#: symcalc freeze word -> substrings of the transformers parameter names it freezes
FREEZE_NAMES = {"attention": ["self_attn"], "mlp": ["mlp"], "norms": ["layernorm", "model.norm"],
                "embedding": ["embed_tokens"], "lm_head": ["lm_head"]}


def _config(n_layers: int):
    return transformers.LlamaConfig(num_hidden_layers=n_layers, hidden_size=64, num_attention_heads=4,
                                    num_key_value_heads=2, intermediate_size=176, vocab_size=128,
                                    max_position_embeddings=64)


def _build(n_layers: int, dtype, lora=None, freeze=None):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.AutoModelForCausalLM.from_config(_config(n_layers), attn_implementation="eager")
        model = model.to(dtype).train()
        if lora is not None:
            targets = [HF[w] for w in lora.targets if w in HF]
            model = peft.get_peft_model(model, peft.LoraConfig(r=int(lora.rank), target_modules=targets,
                                                               lora_dropout=0.0, use_dora=lora.dora))
    if freeze is not None:
        for name, p in model.named_parameters():
            if any(s in name for w in freeze.parts for s in FREEZE_NAMES[w]):
                p.requires_grad_(False)
    return model


def _saved(model) -> int:
    """Bytes of the unique storages saved for backward and still alive after the forward."""
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    kept = []

    def pack(t):
        if t.untyped_storage().data_ptr() not in weights:
            kept.append(weakref.ref(t))
        return t

    ids = torch.randint(0, 128, (BATCH, SEQ))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(input_ids=ids, labels=ids)
    seen: dict[int, int] = {}
    for ref in kept:
        t = ref()
        if t is not None:
            seen.setdefault(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
    del out
    return sum(seen.values())


CASES = [
    (LoRA(8, "q,v"), None), (LoRA(8, "all-linear"), None), (LoRA(4, "q,v", dora=True), None),
    (LoRA(8, "q,v,lm_head"), None), (None, Freeze(parts=("attention", "mlp", "norms"))), (None, Freeze(parts=("mlp",))),
]
IDS = ["lora-qv", "lora-all", "dora-qv", "lora-head", "frozen-layers", "frozen-mlp"]


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("lora,freeze", CASES, ids=IDS)
def test_saved_activations_with_adapters_and_frozen_parts(lora, freeze, dtype):
    """Per layer exactly, whole model within 1%: what a peft/frozen model saves equals the hf-eager profile with that flow."""
    torch_dtype = getattr(torch, dtype)
    one, two = _saved(_build(1, torch_dtype, lora, freeze)), _saved(_build(2, torch_dtype, lora, freeze))
    model = Model.from_hf_config(_config(2).to_dict())
    kw = dict(seq_len=SEQ, micro_batch=BATCH, bytes_act=torch_dtype.itemsize, dropout=False, profile="hf-eager",
              flow=grad_flow(model, adapter=lora, freeze=freeze))
    assert layer_activations(model, **kw).total == two - one
    whole = activations(model, **kw)
    saved = whole.total - whole.get("dora/weight_norm", 0)  # a transient, not a saved tensor
    assert abs(float(saved) - two) <= 0.01 * two, (saved, two)


def test_frozen_weights_keep_less_than_full_training():
    """Freezing attention, MLP and norms drops 12 of the 34 (paper) values per token: the inputs kept only for weight gradients."""
    model = Model.from_hf_config(_config(2).to_dict())
    kw = dict(seq_len=SEQ, micro_batch=BATCH, bytes_act=2, dropout=False, profile="hf-eager")
    full, frozen = (_saved(_build(2, torch.bfloat16, None, f)) - _saved(_build(1, torch.bfloat16, None, f))
                    for f in (None, Freeze(parts=("attention", "mlp", "norms"))))
    assert layer_activations(model, **kw).total == full
    assert frozen < full


def _states_after_one_step(model) -> dict[str, int]:
    """Bytes of parameters, their gradients and AdamW's moments after one step over the trainable ones."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-3)
    ids = torch.randint(0, 128, (BATCH, SEQ))
    model(input_ids=ids, labels=ids).loss.backward()
    opt.step()
    moments = sum(v.numel() * v.element_size() for state in opt.state.values() for k, v in state.items()
                  if k != "step" and torch.is_tensor(v))
    return {"weights": sum(p.numel() * p.element_size() for p in model.parameters()),
            "gradients": sum(p.grad.numel() * p.grad.element_size() for p in model.parameters() if p.grad is not None),
            "optimizer": moments}


@pytest.mark.parametrize("lora", [LoRA(8, "q,v"), LoRA(4, "all-linear", dora=True)], ids=["lora", "dora"])
def test_lora_states_match_adamw_over_trainable_parameters(lora):
    """bf16 base + fp32 adapters (peft's default): weights, gradients (adapters only) and AdamW moments (adapters only) exactly."""
    measured = _states_after_one_step(_build(2, torch.bfloat16, lora))
    model = Model.from_hf_config(_config(2).to_dict())
    ours = placed_states(model, Parallel(), precision=Precision(weight=2, grad=2, master=4, act=2), optimizer="adamw",
                         adapter=lora)["gpu"].grouped().as_ints()
    assert ours == measured


def test_frozen_parts_get_no_gradient_and_no_optimizer_state():
    """fp32 full fine-tuning with the embedding and LM head frozen: gradients and moments of the rest only."""
    freeze = Freeze(parts=("embedding", "lm_head"))
    measured = _states_after_one_step(_build(2, torch.float32, None, freeze))
    model = Model.from_hf_config(_config(2).to_dict())
    ours = placed_states(model, Parallel(), precision="fp32", optimizer="adamw", freeze=freeze)["gpu"]
    assert ours.grouped().as_ints() == measured


def _peak_extra_bytes(dora: bool, d_in: int, d_out: int, rank: int) -> tuple[int, int]:
    """(peak live bytes during one peft layer's forward, bytes still live after it), tensors made by the forward."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class Peak(TorchDispatchMode):
        def __init__(self, params):
            super().__init__()
            self.live, self.now, self.peak = {}, 0, 0
            self.params = {p.untyped_storage().data_ptr() for p in params}  # views of weights are not new memory

        def _drop(self, key, ref):
            entry = self.live.get(key)
            if entry is not None:
                entry[1].discard(ref)
                if not entry[1]:
                    self.now -= entry[0]
                    del self.live[key]

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor) and t.untyped_storage().data_ptr() not in self.params | {0}:
                    key = t.untyped_storage().data_ptr()
                    if key not in self.live:
                        self.live[key] = [t.untyped_storage().nbytes(), set()]
                        self.now += self.live[key][0]
                        self.peak = max(self.peak, self.now)
                    self.live[key][1].add(weakref.ref(t, lambda ref, key=key: self._drop(key, ref)))
            return out

    class One(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(d_in, d_out, bias=False)

        def forward(self, x):
            return self.lin(x)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = peft.get_peft_model(One().to(torch.bfloat16),
                                      peft.LoraConfig(r=rank, target_modules=["lin"], use_dora=dora))
    x = torch.randn(1, 1, d_in, dtype=torch.bfloat16)  # one token: what depends on tokens is negligible
    mode = Peak(wrapped.parameters())
    with mode:
        y = wrapped(x)
    del y
    return mode.peak, mode.now


def test_dora_weight_norm_transient_matches_a_measured_peak():
    """DoRA's forward peaks above LoRA's by the identity, B·A and weight copies of one matrix (within 1%)."""
    d_in, d_out, rank = 256, 128, 8
    (dora_peak, _), (lora_peak, _) = (_peak_extra_bytes(dora, d_in, d_out, rank) for dora in (True, False))
    model = Model(n_layers=1, d_model=d_in, n_heads=4, n_kv_heads=4, d_ff=d_out, vocab=8, gated_mlp=False)
    ours = grad_flow(model, adapter=LoRA(rank, "up", dora=True)).dora_transient(model, 1)  # up: h -> f
    measured = dora_peak - lora_peak
    assert abs(float(ours) - measured) <= 0.01 * measured, (ours, measured)


def _prepared(n_layers: int, kbit: bool):
    """A tiny bf16 Llama through peft's prepare_model_for_kbit_training (defaults), then LoRA q,v.

    ``kbit`` sets ``is_loaded_in_4bit`` as transformers does for a bitsandbytes 4-bit load (bitsandbytes
    itself needs CUDA); the 16-bit weights stay, which changes nothing peft decides here.
    """
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.AutoModelForCausalLM.from_config(_config(n_layers), attn_implementation="eager")
        model = model.to(torch.bfloat16)
        if kbit:
            model.is_loaded_in_4bit = True
        model = peft.prepare_model_for_kbit_training(model)
        checkpointing = bool(model.is_gradient_checkpointing)
        model = peft.get_peft_model(model, peft.LoraConfig(r=8, target_modules=["q_proj", "v_proj"], lora_dropout=0.0))
    return model.train(), checkpointing


@pytest.mark.filterwarnings("ignore:torch.utils.checkpoint.*use_reentrant")  # peft's call, with torch's default
@pytest.mark.parametrize("kbit", [True, False], ids=["4-bit-base", "16-bit-base"])
def test_kbit_preparation_keeps_what_the_default_recompute_policy_counts(kbit):
    """peft's prepare_model_for_kbit_training with its defaults turns gradient checkpointing on for a k-bit base only;
    a layer then keeps exactly what symcalc's default policy for that base (kbit_recompute / recompute) counts."""
    from symcalc.defaults import recompute_for

    (one, ck1), (two, ck2) = _prepared(1, kbit), _prepared(2, kbit)
    assert ck1 == ck2 == kbit
    policy = recompute_for(storage="nf4" if kbit else None)
    assert policy == ("full" if kbit else "none")
    model = Model.from_hf_config(_config(2).to_dict())
    # prepare_model_for_kbit_training upcasts the 16-bit parameters to fp32: activations are 4 bytes
    kw = dict(seq_len=SEQ, micro_batch=BATCH, bytes_act=4, dropout=False, profile="hf-eager", recompute=policy,
              flow=grad_flow(model, adapter=LoRA(8, "q,v")))
    assert layer_activations(model, **kw).total == _saved(two) - _saved(one)


def test_trainer_leaves_gradient_checkpointing_off():
    """The sources the table cites: peft's prepare_model_for_kbit_training defaults to use_gradient_checkpointing=True
    (kbit_recompute full); transformers' TrainingArguments leaves checkpointing off (recompute none)."""
    import inspect

    from symcalc import defaults

    signature = inspect.signature(peft.prepare_model_for_kbit_training)
    assert signature.parameters["use_gradient_checkpointing"].default is True
    assert defaults.TODAY.kbit_recompute == "full"
    args = transformers.TrainingArguments(output_dir="unused-output-dir")
    assert not (getattr(args, "activation_checkpointing", False) or getattr(args, "gradient_checkpointing", False))
    assert defaults.TODAY.recompute == "none"
