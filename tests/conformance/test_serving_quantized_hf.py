"""The serving roofline's weight traffic under quantized weights against transformers' own quantization rule.

transformers replaces modules for bitsandbytes (``replace_with_bnb_linear``, and the other weight-only
integrations the same way): every ``nn.Linear`` (or GPT-2's ``Conv1D``) whose name
``should_convert_module`` accepts, the names skipped being ``get_keys_to_not_convert(model)`` (the output
embedding, tied weights, the last parameter). Here that rule runs on tiny real models built on CPU
(``named_modules()``, ``numel()``); each replaced module's weight is charged at the format's bytes (scales
from the module's own shape), its bias and every other parameter at 2 bytes; an ``nn.Embedding`` not tied to
the output is gathered by rows, not read in full. symcalc's decode step (tp 1, every expert read) must read
exactly those bytes.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from sympy import Integer  # noqa: E402

from symcalc import Model  # noqa: E402
from symcalc.memory import Storage  # noqa: E402
from symcalc.serving import decode_step  # noqa: E402

pytestmark = pytest.mark.conformance
transformers.logging.set_verbosity_error()

LLAMA = dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
             intermediate_size=176, vocab_size=128, max_position_embeddings=64)
CONFIGS = {
    "llama": lambda: transformers.LlamaConfig(**LLAMA),
    "llama-tied": lambda: transformers.LlamaConfig(**LLAMA, tie_word_embeddings=True),
    "qwen2": lambda: transformers.Qwen2Config(**LLAMA),                       # q/k/v biases
    "gpt2": lambda: transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=128, n_positions=64),
}


def _weight_bytes(numel: int, d_in: int, d_out: int, fmt: str) -> Fraction:
    """Bytes of one replaced matrix in ``fmt``, from its shape (the formats' published layouts)."""
    if fmt == "bf16":                               # nothing quantized
        return Fraction(2 * numel)
    if fmt == "int4":
        return Fraction(numel, 2)
    if fmt in ("int8", "fp8"):                      # plain values, scales not counted
        return Fraction(numel)
    if fmt == "nf4":                                # 4-bit values, one fp32 absmax per block of 64 (QLoRA)
        return Fraction(numel, 2) + Fraction(4 * numel, 64)
    if fmt == "llm.int8":                           # int8 values, one fp32 scale per output row
        return Fraction(numel) + 4 * d_out
    if fmt == "fp8-tensor":                         # fp8 values, one fp32 scale per matrix
        return Fraction(numel) + 4
    raise ValueError(fmt)


def _engine_bytes(model, fmt: str) -> Fraction:
    """The bytes a weight-only quantized engine reads per decode step, by transformers' replacement rule."""
    from torch import nn
    from transformers.pytorch_utils import Conv1D
    from transformers.quantizers.base import get_keys_to_not_convert
    from transformers.quantizers.quantizers_utils import should_convert_module

    skip = get_keys_to_not_convert(model)
    out_emb = model.get_output_embeddings().weight
    replaced, gathered = {}, set()
    for name, module in model.named_modules():
        if (type(module) is nn.Linear or isinstance(module, Conv1D)) and should_convert_module(name, skip):
            d_in, d_out = (module.weight.shape if isinstance(module, Conv1D) else
                           (module.in_features, module.out_features))
            replaced[id(module.weight)] = _weight_bytes(module.weight.numel(), d_in, d_out, fmt)
        if isinstance(module, nn.Embedding) and module.weight is not out_emb:
            gathered.add(id(module.weight))
    total = Fraction(0)
    for _, p in model.named_parameters():           # each shared tensor once
        if id(p) in gathered:
            continue
        total += replaced.get(id(p), Fraction(2 * p.numel()))
    assert replaced, "nothing replaced"
    return total


def _decode_weight_bytes(model: Model, **kw) -> Integer:
    """symcalc's decode step weight reads: traffic outside the attention kernel, affine in the activation bytes."""
    at = lambda a: decode_step(model, context_len=0, batch=1, bytes_act=a, experts="all", **kw).traffic  # noqa: E731
    one, two = at(1), at(2)
    return sum((2 * one[op] - two[op] for op in one if op != "attention/core"), Integer(0))


SYMCALC = {"int4": dict(weights="int4"), "int8": dict(weights="int8"), "fp8": dict(weights="fp8"),
           "nf4": dict(storage=Storage("nf4")), "llm.int8": dict(storage=Storage("int8")),
           "fp8-tensor": dict(storage=Storage("fp8"))}


@pytest.mark.parametrize("arch", list(CONFIGS))
@pytest.mark.parametrize("fmt", list(SYMCALC))
def test_decode_reads_what_transformers_quantization_leaves(arch, fmt):
    """A decode step's weight bytes equal a tiny real model's under transformers' module-replacement rule:
    replaced linears at the format's bytes (scales from their shapes), the LM head, norms, biases at 2 bytes,
    an untied embedding table gathered (Llama untied and tied, Qwen2 with biases, GPT-2's Conv1D and tied head)."""
    cfg = CONFIGS[arch]()
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = transformers.AutoModelForCausalLM.from_config(cfg)
    model = Model.from_hf_config(cfg.to_dict())
    read = _decode_weight_bytes(model, **SYMCALC[fmt])
    assert read == _engine_bytes(real, fmt)
    assert _decode_weight_bytes(model, weights="bf16") == _engine_bytes(real, "bf16") != read
