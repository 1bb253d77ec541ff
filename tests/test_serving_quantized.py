"""The roofline's weight traffic under quantized weights: the bytes inference_memory stores, read once per step."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from sympy import Integer

from symcalc import Model, symbols as S
from symcalc.errors import SymcalcError
from symcalc.memory import Storage, inference_memory
from symcalc.presets import PRESETS
from symcalc.serving import decode_step, prefill_step, serving

#: The plain names below 16 bits (``--weight-dtype``) and storage formats with scales (``--quantize``).
PLAIN = ("int4", "int8", "fp8")
STORAGES = (Storage("nf4"), Storage("nf4", double_quant=True), Storage("fp4"), Storage("int8"), Storage("fp8"),
            Storage("fp8", scale="block"))


def _weight_traffic(step_at) -> Integer:
    """The weight bytes a step reads: its traffic outside the attention kernel, less the activation I/O (the
    traffic is affine in the bytes per activation a, so the weights are 2 T(1) - T(2))."""
    one, two = step_at(1).traffic, step_at(2).traffic
    return sum((2 * one[op] - two[op] for op in one if op != "attention/core"), Integer(0))


def _stored(model: Model, **kw) -> Integer:
    """inference_memory's weights/* bytes, less what a step does not read in full: the untied token table and a
    learned position table (rows gathered) and the transient dequantized copy of a 4-bit format."""
    mem = inference_memory(model, seq_len=1, n_generate=1, micro_batch=1, **kw)
    skip = {"weights/dequantized", "weights/embedding/position"}
    if not model.tied_embeddings:
        skip.add("weights/embedding/token")
    return sum((v for k, v in mem.items() if k.startswith("weights/") and k not in skip), Integer(0))


@pytest.mark.parametrize("name", list(PRESETS))
def test_decode_reads_the_stored_weights_of_inference_memory(name):
    """For every preset and plain quantized dtype (and bf16), a decode step (tp 1, every expert read) reads exactly
    inference_memory's weights/* bytes less the untied token table: the linears quantized, the rest 16-bit."""
    m = Model.preset(name)
    for weights in ("bf16",) + PLAIN:
        read = _weight_traffic(lambda a: decode_step(m, context_len=0, batch=1, weights=weights, bytes_act=a,
                                                     experts="all"))
        assert read == _stored(m, weights=weights), (name, weights)


@pytest.mark.parametrize("name", ["llama-2-7b", "mixtral-8x7b", "deepseek-v2-lite", "gpt2", "qwen2.5-7b",
                                  "gemma-2-9b", "falcon-7b"])
def test_decode_reads_storage_formats_with_their_scales(name):
    """With a storage format (nf4, double-quantized nf4, fp4, LLM.int8's row scales, fp8 per tensor and per block)
    a decode step reads inference_memory's weight bytes, scales included, less the tables it gathers rows of."""
    m = Model.preset(name)
    for storage in STORAGES:
        read = _weight_traffic(lambda a: decode_step(m, context_len=0, batch=1, storage=storage, bytes_act=a,
                                                     experts="all"))
        assert read == _stored(m, weights="bf16", storage=storage), (name, storage)


def test_llama_2_7b_int4_reads_its_lm_head_at_16_bits():
    """Llama-2-7B in int4 reads its 32000 x 4096 LM head (131M weights) at 2 bytes and its 32 layers' linears
    (6.48B weights, from the released config's sizes) at 1/2 byte per decode step."""
    m = Model.preset("llama-2-7b")
    at = lambda a: decode_step(m, context_len=0, batch=1, weights="int4", bytes_act=a)  # noqa: E731
    one, two = at(1).traffic, at(2).traffic
    assert 2 * one["lm_head"] - two["lm_head"] == 2 * 32000 * 4096
    linears = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008)
    norms = (2 * 32 + 1) * 4096
    assert _weight_traffic(at) == linears // 2 + 2 * 32000 * 4096 + 2 * norms  # 3.50 GB (was 3.30 GB: all at 1/2 byte)


def test_serving_uses_one_storage_for_memory_and_traffic():
    """serving(storage=...) stores the linears as inference_memory does and reads those bytes every decode step;
    a weight dtype below 16 bits beside a storage is refused."""
    m = Model.preset("llama-3-8b")
    est = serving(m, prompt_len=128, n_generate=2, batch=1, storage="nf4", hardware="h100")
    mem = inference_memory(m, seq_len=128, n_generate=2, micro_batch=1, storage=Storage("nf4"))
    assert est.memory.total == mem.total
    plain = serving(m, prompt_len=128, n_generate=2, batch=1, weights="int4", hardware="h100")
    assert plain.decode.traffic["lm_head"] == est.decode.traffic["lm_head"]
    assert plain.decode.traffic["mlp/up"] < est.decode.traffic["mlp/up"]  # nf4's absmax scales: 4.5 bits
    with pytest.raises(SymcalcError, match="both quantize the linears"):
        decode_step(m, batch=1, weights="int4", storage="nf4")


def test_sixteen_bit_traffic_did_not_change_with_an_explicit_bf16_rest():
    """storage=None and weights='bf16' read every weight at 2 bytes, as weights=2 (a number) does."""
    m = Model.preset("mixtral-8x7b")
    a = decode_step(m, context_len=10, batch=4, weights="bf16", tp=2)
    b = decode_step(m, context_len=10, batch=4, weights=2, tp=2)
    assert a.traffic == b.traffic


@settings(max_examples=25, deadline=None)
@given(L=st.integers(1, 4), group=st.integers(1, 3), g=st.integers(1, 4), dh=st.sampled_from([4, 8, 16]),
       f=st.integers(1, 48), v=st.integers(2, 80), b=st.integers(1, 9), c=st.integers(0, 40),
       tp_div=st.sampled_from([1, 2, 4]), moe=st.booleans(), tied=st.booleans(),
       quant=st.sampled_from(list(PLAIN) + ["nf4", "nf4-dq", "int8-rows", "fp8-tensor", "fp8-block"]),
       phase=st.sampled_from(["decode", "prefill"]))
def test_quantized_traffic_symbolic_equals_numeric(L, group, g, dh, f, v, b, c, tp_div, moe, tied, quant, phase):
    """A step's traffic with quantized weights built with every size symbolic (L, h, a, g, f, v, b, c, t) and
    substituted equals the numeric call exactly, operation by operation, t > g and t = 1 included."""
    t = tp_div if (g * group) % tp_div == 0 and (g % tp_div == 0 or tp_div % g == 0) else 1
    a, h = g * group, g * group * dh
    extra = dict(n_experts=4, top_k=2, d_ff_expert=S.d_ff) if moe else {}
    sym = Model(gated_mlp=True, norm="rmsnorm", tied_embeddings=tied, **extra)
    values = {S.n_layers: L, S.d_model: h, S.n_heads: a, S.n_kv_heads: g, S.d_ff: f, S.vocab: v}
    num = sym.subs(values)
    storage = {"nf4": Storage("nf4"), "nf4-dq": Storage("nf4", double_quant=True), "int8-rows": Storage("int8"),
               "fp8-tensor": Storage("fp8"), "fp8-block": Storage("fp8", scale="block")}.get(quant)
    kw = dict(weights="bf16" if storage else quant, storage=storage, hardware="h100")
    if phase == "decode":
        symbolic = decode_step(sym, context_len=S.context_len, batch=S.micro_batch, tp=S.tp, **kw)
        numeric = decode_step(num, context_len=c, batch=b, tp=t, **kw)
        point = {**values, S.context_len: c, S.micro_batch: b, S.tp: t}
    else:
        symbolic = prefill_step(sym, prompt_len=S.seq_len, batch=S.micro_batch, tp=S.tp, **kw)
        numeric = prefill_step(num, prompt_len=c + 1, batch=b, tp=t, **kw)
        point = {**values, S.seq_len: c + 1, S.micro_batch: b, S.tp: t}
    at = symbolic.subs(point)
    assert {k: at.traffic[k] for k in numeric.traffic} == dict(numeric.traffic.items())
    assert at.traffic.total == numeric.traffic.total and at.seconds == numeric.seconds
