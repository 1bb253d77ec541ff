"""symcalc.memory against published numbers (ZeRO paper, DeepSpeed's estimator docs, Korthikanti Table 2)."""

import time

import pytest
from hypothesis import assume, given, strategies as st
from sympy import Rational, Symbol, expand

from symcalc import Model, SymcalcError, params
from symcalc import symbols as S
from symcalc.memory import (
    SYMBOLIC, Parallel, Precision, activations, communication_buffers, inference_memory, kv_cache,
    layer_activations, model_states, optimizer_bytes, training_memory, zero_model_states,
)

from strategies import attention_shapes

s, b, h, a, t = S.seq_len, S.micro_batch, S.d_model, S.n_heads, S.tp
#: The GPT architecture of Korthikanti et al.: MHA, f = 4h, LayerNorm, two norms per layer.
GPT = Model(n_kv_heads=S.n_heads, d_ff=4 * S.d_model)


# --- (a) published numbers -------------------------------------------------------------------
@pytest.mark.parametrize("stage,gb", [(0, "120"), (1, "31.4"), (2, "16.6"), (3, "1.9")])
def test_zero_paper_figure1(stage, gb):
    """Ψ=7.5B, N_d=64, 2+2+12 bytes: 120, 31.4, 16.6, 1.9 GB (10^9) per device at stages 0-3 (ZeRO Fig. 1)."""
    total = zero_model_states(7_500_000_000, dp=64, zero_stage=stage, precision="mixed", optimizer="adamw").total
    assert f"{float(total) / 1e9:.1f}".rstrip("0").rstrip(".") == gb


def test_zero_paper_closed_forms():
    """With K symbolic the stages are the paper's (2+2+K)Ψ, (2+2)Ψ+KΨ/N_d, 2Ψ+(2+K)Ψ/N_d, (2+2+K)Ψ/N_d."""
    K, psi, nd = Symbol("K", positive=True), S.n_params, S.dp
    printed = [(4 + K) * psi, 4 * psi + K * psi / nd, 2 * psi + (2 + K) * psi / nd, (4 + K) * psi / nd]
    for stage, expected in enumerate(printed):
        got = zero_model_states(psi, dp=nd, zero_stage=stage, precision=Precision(2, 2, 0), optimizer=K).total
        assert expand(got - expected) == 0


def test_deepspeed_zero2_estimator_example():
    """DeepSpeed docs: 2851M params, 8 GPUs, ZeRO-2 without offload needs 15.93 GB (GiB) per GPU.

    DeepSpeed's estimator charges 4·Ψ (fp16 weights and fp16 gradients, whole) + 16·Ψ/N (fp32
    master, fp32 gradient copy, two Adam moments, sharded): our ZeRO-1 sharding with 2-byte
    weights and gradients and 4 + 12 bytes of sharded states.
    """
    states = zero_model_states(2_851_000_000, dp=8, zero_stage=1, precision=Precision(2, 2, 4), optimizer=12)
    assert f"{float(states.total) / 2**30:.2f}" == "15.93"


def test_deepspeed_zero3_estimator_example():
    """DeepSpeed docs: 2851M params, 32M largest layer, 8 GPUs, ZeRO-3 without offload: 6.09 GB (GiB) per GPU.

    18·Ψ/N (2-byte weights, 4-byte gradients, 4-byte master, 8 bytes of Adam) plus the gathered
    largest layer at 4 bytes per parameter (fp16 weight and gradient): ZeRO-3's live-parameter buffer.
    """
    states = zero_model_states(2_851_000_000, dp=8, zero_stage=3, precision=Precision(2, 4, 4), optimizer="adamw")
    live = communication_buffers(zero_stage=3, dp=8, bytes_weight=4, max_live_params=32_000_000)
    assert f"{float(states.total + live.total) / 2**30:.2f}" == "6.09"


def test_korthikanti_table2_exact():
    """The five per-layer formulas of Korthikanti et al. 2022 Table 2 hold as exact symbolic identities."""
    table2 = {
        ("none", 1, False): s * b * h * (34 + 5 * a * s / h),
        ("none", t, False): s * b * h * (10 + 24 / t + 5 * a * s / (h * t)),
        ("none", t, True): s * b * h / t * (34 + 5 * a * s / h),
        ("selective", t, True): s * b * h * 34 / t,
        ("full", 1, False): 2 * s * b * h,
    }
    for (recompute, tp, sp), formula in table2.items():
        got = layer_activations(GPT, tp=tp, sequence_parallel=sp, recompute=recompute, flash_attention=False,
                                dropout=True).total
        assert expand(got - formula) == 0, (recompute, tp, sp)


# --- properties --------------------------------------------------------------------------------
@given(attention_shapes(), st.integers(2, 8), st.sampled_from([1, 2, 4]))
def test_sequence_parallel_divides_every_activation(shape, tp_max, seq_mult):
    """With TP + SP every per-layer activation is divided by t (exact, any GQA shape that t divides)."""
    d_model, n_heads, n_kv, d_head = shape
    # the largest t ≤ tp_max dividing the KV heads; t = 1 would make the check trivially true
    tp = max(x for x in range(1, tp_max + 1) if n_kv % x == 0)
    assume(tp > 1)
    m = Model(n_layers=2, d_model=d_model, n_heads=n_heads, n_kv_heads=n_kv, d_ff=4 * d_model, vocab=64)
    seq = 16 * seq_mult * tp  # Megatron's SP needs t | s
    one = layer_activations(m, seq_len=seq, micro_batch=2).total
    sharded = layer_activations(m, seq_len=seq, micro_batch=2, tp=tp, sequence_parallel=True).total
    assert sharded * tp == one


def test_flash_attention_has_no_quadratic_term():
    """Flash attention (today's default) removes every s² term; selective recompute removes them from eager too."""
    for kw in ({"flash_attention": True}, {}, {"recompute": "selective", "flash_attention": False}):
        total = layer_activations(GPT, **kw).total
        assert expand(total).coeff(s, 2) == 0
    assert expand(layer_activations(GPT, flash_attention=False).total).coeff(s, 2) != 0


def test_symbolic_zero_stage_collapses():
    """training_memory with z symbolic equals the build with each stage once z is substituted."""
    m = Model.preset("llama-2-7b")
    kw = dict(seq_len=2048, micro_batch=1, n_devices=16, tp=2, allgather_bucket=10**6, max_live_params=10**7)
    sym = training_memory(m, zero_stage=S.zero_stage, **kw).total
    for stage in range(4):
        assert sym.subs(S.zero_stage, stage) == training_memory(m, zero_stage=stage, **kw).total


def test_zero_shards_over_data_parallel_group_only():
    """ZeRO-3 divides model states by d = n/(t·p·c), never by n."""
    m = Model.preset("llama-2-7b")
    base = model_states(m, zero_stage=0, tp=2, pp=2)
    z3 = model_states(m, zero_stage=3, tp=2, pp=2, n_devices=32)
    assert z3.total * 8 == base.total


def test_tensor_parallel_shards_only_what_megatron_shards():
    """t divides the QKV/out/MLP matrices, embedding and LM head, and replicates norms."""
    m = Model.preset("llama-2-7b")
    one, two = model_states(m), model_states(m, tp=2)
    for part in ("weights/attention/qkv", "weights/mlp/down", "weights/embedding/token", "weights/lm_head/weight"):
        assert two[part] * 2 == one[part]
    assert two["weights/norms"] == one["weights/norms"]
    assert one.select("weights") == 2 * params(m).total


def test_kv_heads_replicated_when_tp_exceeds_them():
    """With t > g each device keeps one KV head; the K/V share of QKV stops shrinking."""
    m = Model(n_layers=2, d_model=64, n_heads=8, n_kv_heads=2, d_ff=128, vocab=32)
    assert kv_cache(m, tokens=10, batch=1, tp=8) == kv_cache(m, tokens=10, batch=1, tp=2)
    q_share = Rational(8, 12)
    full = model_states(m)["weights/attention/qkv"]
    assert model_states(m, tp=8)["weights/attention/qkv"] == full * (q_share / 8 + (1 - q_share) / 2)


def test_expert_weights_shard_over_ep_and_expert_data_parallel():
    """Experts divide by e (and t); ZeRO shards them over d/e, dense weights over d."""
    m = Model.preset("mixtral-8x7b")
    base = model_states(m, zero_stage=0)
    ep = model_states(m, zero_stage=3, ep=4, n_devices=8)
    assert ep["weights/moe/experts"] * 4 * 2 == base["weights/moe/experts"]
    assert ep["weights/attention/out"] * 8 == base["weights/attention/out"]


def test_kv_cache_per_token_of_opt_13b_is_vllms_800_kb():
    """vLLM paper §3: one OPT-13B token's fp16 KV cache is 2 x 5120 x 40 x 2 = 819,200 bytes ("800 KB")."""
    opt_13b = Model(n_layers=40, d_model=5120, n_heads=40, n_kv_heads=40, d_ff=20480, vocab=50272)
    assert kv_cache(opt_13b, tokens=1, batch=1, bytes_kv=2) == 819_200


def test_inference_int4_weights_are_half_a_byte_on_the_linears_only():
    """int4 linears take exactly N/2 bytes (a Rational, not 4 // 8 = 0); embedding, LM head and norms stay 16-bit."""
    m = Model.preset("llama-2-7b")
    mem = inference_memory(m, seq_len=128, micro_batch=1, weights="int4")
    linear = ("attention/qkv", "attention/out", "mlp/up", "mlp/down")
    for part, n in params(m).items():
        assert mem[f"weights/{part}"] == (Rational(1, 2) if part in linear else 2) * n, part
    assert kv_cache(m, tokens=4096, batch=1, bytes_kv="fp8") * 2 == kv_cache(m, tokens=4096, batch=1, bytes_kv=2)


def test_optimizers_bytes_per_parameter():
    """AdamW keeps two fp32 moments, SGD/Muon one, 8-bit Adam two bytes; Adafactor far less than AdamW."""
    assert [optimizer_bytes(o) for o in ("adamw", "sgd", "muon", "adam8bit")] == [8, 4, 4, 2]
    ada = optimizer_bytes("adafactor", Model.preset("llama-2-7b"))
    assert 0 < ada < Rational(1, 10)
    with pytest.raises(SymcalcError):
        zero_model_states(10**9, optimizer="adafactor")


def test_communication_buffers_only_where_they_apply():
    """No DeepSpeed buffers at ZeRO 0 or with one data-parallel rank; the live-parameter buffer only at ZeRO 3."""
    kw = dict(bytes_weight=2, allgather_bucket=5 * 10**8, max_live_params=10**9)
    assert communication_buffers(zero_stage=0, dp=8, **kw).total == 0
    assert communication_buffers(zero_stage=2, dp=1, **kw).total == 0
    assert communication_buffers(zero_stage=2, dp=8, **kw).total == 10**9
    assert communication_buffers(zero_stage=3, dp=8, **kw).total == 3 * 10**9


@pytest.mark.parametrize("bad,kw", [
    ("does not divide n_devices", dict(tp=3, n_devices=16)),
    ("does not divide n_heads", dict(tp=16, n_devices=16)),
    ("neither divides n_kv_heads", dict(tp=3, n_devices=3)),
    ("not a ZeRO stage", dict(zero_stage=4)),
])
def test_bad_input_is_one_line(bad, kw):
    """Bad degrees or stages raise a one-line SymcalcError naming the problem."""
    m = Model(n_layers=2, d_model=96, n_heads=12, n_kv_heads=4, d_ff=128, vocab=32)
    with pytest.raises(SymcalcError, match=bad) as info:
        training_memory(m, seq_len=8, micro_batch=1, **kw)
    assert "\n" not in str(info.value)


def test_ep_must_divide_experts():
    """EP not dividing the experts is a one-line error."""
    m = Model(n_layers=2, d_model=64, n_heads=8, n_kv_heads=8, d_ff=128, vocab=32, n_experts=6, top_k=2)
    with pytest.raises(SymcalcError, match="does not divide n_experts"):
        model_states(m, ep=4, n_devices=4)


def test_fully_symbolic_and_fast():
    """The symbolic total is one expression in sizes, s, b and t, p, d, e, c; a numeric preset builds in well under a second."""
    total = training_memory(Model(), zero_stage=2, recompute="selective", **SYMBOLIC).total
    assert {S.tp, S.pp, S.dp, S.seq_len, S.micro_batch} <= total.free_symbols
    start = time.perf_counter()
    mem = training_memory(Model.preset("llama-2-7b"), seq_len=4096, micro_batch=2, n_devices=64, tp=4, pp=2, zero_stage=1)
    assert mem.total.is_number
    assert time.perf_counter() - start < 0.5


def test_activations_linear_in_micro_batch():
    """The derivative in b equals a finite difference (activations are linear in the micro-batch)."""
    m = Model.preset("llama-2-7b")
    sym = activations(m, seq_len=1024).total
    diff = sym.diff(S.micro_batch).subs(S.micro_batch, 3)
    assert diff == sym.subs(S.micro_batch, 4) - sym.subs(S.micro_batch, 3)


def test_parallel_dp_from_devices():
    """d = n/(t·p·c)."""
    assert Parallel(tp=2, pp=2, cp=2, n_devices=64).dp == 8


@pytest.mark.parametrize("kw,needle", [
    (dict(seq_len="4096 tokens"), "not a number"),
    (dict(micro_batch="1+1"), "not a number"),
    (dict(seq_len=4.5), "whole number"),
    (dict(seq_len=-4), "not positive"),
    (dict(micro_batch=0), "not positive"),
    (dict(zero_stage="3"), "zero_stage"),
    (dict(misc_bytes=-3), "negative"),
    (dict(misc_bytes="1e9 + 1"), "misc_bytes"),
    (dict(allgather_bucket=-5), "negative"),
    (dict(optimizer=True), "bool"),
    (dict(cp=3, n_devices=3), "does not divide seq_len"),
    (dict(tp=2, n_devices=2, sequence_parallel=True, seq_len=15), "sequence parallelism"),
    (dict(tp=2, parallel=Parallel()), "not both"),
])
def test_library_refuses_bad_amounts_in_one_line(kw, needle):
    """training_memory never sympifies a string and refuses negative, fractional or bool amounts with one line."""
    m = Model(n_layers=2, d_model=64, n_heads=8, n_kv_heads=8, d_ff=128, vocab=32)
    kw = {"seq_len": 16, "micro_batch": 1, **kw}
    with pytest.raises(SymcalcError, match=needle) as info:
        training_memory(m, **kw)
    assert "\n" not in str(info.value)


def test_inference_refuses_context_parallelism():
    """inference_memory models cp = 1 only (its KV cache is not split over c): cp > 1 is an error, not a wrong number."""
    m = Model(n_layers=2, d_model=64, n_heads=8, n_kv_heads=8, d_ff=128, vocab=32)
    with pytest.raises(SymcalcError, match="for inference"):
        inference_memory(m, seq_len=16, micro_batch=1, cp=2, n_devices=2)


def test_library_reads_numbers_as_their_decimal_text():
    """A numeric string or a float is its exact decimal value (never evaluated, never a binary float)."""
    m = Model(n_layers=2, d_model=64, n_heads=8, n_kv_heads=8, d_ff=128, vocab=32)
    exact = training_memory(m, seq_len=16, micro_batch=1, misc_bytes=10**9)
    assert training_memory(m, seq_len="16", micro_batch=1.0, misc_bytes="1e9") == exact
    assert Precision(weight=2.0, grad="2", master=4, act=0.5).act == Rational(1, 2)


def test_precision_refuses_non_numbers():
    """Precision never sympifies a string: anything but a number is one line naming the field."""
    for bad in ("2+2", "__import__('os')", True, [2]):
        with pytest.raises(SymcalcError, match="Precision.weight"):
            Precision(weight=bad)
