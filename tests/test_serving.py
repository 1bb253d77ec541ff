"""The inference roofline: published measurements, the roofline's identities, MoE, TP, symbolic = numeric."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from sympy import Integer, Rational, Symbol, limit, oo, solve

from symcalc import Model, active_params, symbols as S
from symcalc.comm import allreduce_bytes
from symcalc.errors import SymcalcError
from symcalc.memory import inference_memory, kv_cache
from symcalc.serving import decode_step, prefill_step, roofline, serving
# published measurements (vLLM, TensorRT-LLM, NIM), shared with docs/validation.md
from symcalc._validation import NIM_70B, TRTLLM_TTFT, VLLM_H200

def _ratio(measured_ms, roofline_s) -> float:
    return measured_ms / (float(roofline_s) * 1000)


@pytest.mark.parametrize("name, tp, measured", VLLM_H200)
def test_vllm_h200_latency_is_1_to_2_5_times_the_roofline(name, tp, measured):
    """vLLM's batch-8 latency on an H200 (dense and MoE) is above the roofline (a lower bound) and within 2.5x of it."""
    est = serving(Model.preset(name), prompt_len=32, n_generate=128, batch=8, tp=tp, hardware="h200")
    assert est.decode.bound == "memory"
    assert 1 <= _ratio(measured, est.latency) <= 2.5


def test_moe_expected_experts_matter_for_mixtral():
    """Counting only the top-2 experts' weights per decode step (the active parameters) at batch 8 would put
    vLLM's Mixtral latency far outside the band; the expected distinct experts, 8(1 - (3/4)^8) = 7.2, keep it in."""
    from symcalc import params

    m = Model.preset("mixtral-8x7b")
    est = serving(m, prompt_len=32, n_generate=128, batch=8, tp=2, hardware="h200")
    experts = 2 * params(m)["moe/experts"] / 2  # bf16 bytes per device under TP 2
    saved = 127 * experts * (1 - Rational(3, 4) ** 8 - Rational(2, 8)) / roofline("h200").mem_bandwidth
    assert _ratio(1921.1, est.latency - saved) > 2.5 >= _ratio(1921.1, est.latency)


@pytest.mark.parametrize("hw, dtype, weights, kv, name, tp, prompt, measured", TRTLLM_TTFT)
def test_tensorrt_llm_first_token_latency(hw, dtype, weights, kv, name, tp, prompt, measured):
    """TensorRT-LLM's batch-1 first-token latency is above the prefill roofline; within 2.7x for 2048-token prompts."""
    step = prefill_step(Model.preset(name), prompt_len=prompt, batch=1, tp=tp, hardware=hw, dtype=dtype,
                        weights=weights, bytes_kv=kv)
    r = _ratio(measured, step.seconds)
    assert r >= 1
    if prompt >= 2048:  # compute-bound: 37-68% of the peak; 128-token prompts (2-20 ms) carry fixed overheads
        assert step.bound == "compute" and r <= 2.7


@pytest.mark.parametrize("prompt, out, ttft, itl", NIM_70B)
def test_nim_llama_70b_fp8_tp2(prompt, out, ttft, itl):
    """NIM's Llama-3.3-70B on 2 H100 (fp8, TP2, one request): TTFT and ITL are 1-2.5x the roofline."""
    est = serving(Model.preset("llama-3.1-70b"), prompt_len=prompt, n_generate=out, batch=1, tp=2, hardware="h100",
                  dtype="fp8", weights="fp8", bytes_kv="fp8")
    assert 1 <= _ratio(itl, est.tpot) <= 2.5
    assert 1 <= _ratio(ttft, est.ttft) <= 2.5


# --- identities ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, hw", [("llama-2-7b", "h100"), ("mixtral-8x7b", "h200"), ("qwen2.5-7b", "a100"),
                                      ("gemma-2b", "mi300x"), ("gpt2", "l40s")])
def test_memory_bound_decode_takes_bytes_over_bandwidth_exactly(name, hw):
    """A batch-1 decode step is memory-bound in every operation: its time is its traffic / bandwidth, exactly."""
    step = decode_step(Model.preset(name), context_len=1000, batch=1, hardware=hw)
    r = roofline(hw)
    assert step.bound == "memory" and step.seconds == step.traffic.total / r.mem_bandwidth
    assert step.memory_seconds > step.compute_seconds


def test_compute_bound_prefill_matmuls_take_flops_over_peak_exactly():
    """In a long prefill every weight matmul is compute-bound: its time is its FLOPs / peak, exactly."""
    step = prefill_step(Model.preset("llama-2-7b"), prompt_len=8192, batch=4, hardware="h100")
    peak = roofline("h100").peak_flops
    for op in ("attention/qkv", "attention/out", "mlp/up", "mlp/down", "attention/core"):
        assert step.time[op] == step.flops[op] / peak


def test_crossover_batch_is_peak_over_bandwidth():
    """A decode matmul turns compute-bound at b* = F_peak/W_mem * beta_w/2 (= F/W in bf16) as activations vanish next to weights."""
    m = Model(gated_mlp=True, norm="rmsnorm")
    step = decode_step(m, context_len=0, batch=S.micro_batch, weights=S.bytes_weight, bytes_act=S.bytes_act)
    f, b = step.flops["mlp/up"], step.traffic["mlp/up"]
    (crossover,) = solve(f / S.peak_flops - b / S.mem_bandwidth, S.micro_batch)
    at_scale = limit(limit(crossover, S.d_ff, oo), S.d_model, oo)
    assert (at_scale - S.bytes_weight * S.peak_flops / (2 * S.mem_bandwidth)).simplify() == 0
    without_io = solve(f / S.peak_flops - b.subs(S.bytes_act, 0) / S.mem_bandwidth, S.micro_batch)[0]
    assert without_io == S.bytes_weight * S.peak_flops / (2 * S.mem_bandwidth)


def test_crossover_on_an_h100_numerically():
    """Llama-2-7B's MLP up projection on an H100 is memory-bound below its crossover batch and compute-bound above."""
    m, h100 = Model.preset("llama-2-7b"), roofline("h100")
    step = decode_step(m, context_len=0, batch=S.micro_batch, hardware="h100")
    f, b = step.flops["mlp/up"], step.traffic["mlp/up"]
    x = Symbol("x", positive=True)  # the batch as a real number (micro_batch is an integer symbol)
    (bstar,) = solve((f / h100.peak_flops - b / h100.mem_bandwidth).subs(S.micro_batch, x), x)
    ratio = h100.peak_flops / h100.mem_bandwidth  # 295 FLOP/byte
    assert ratio < bstar < Rational(11, 10) * ratio  # activation traffic moves it up by under 10 %
    low, high = int(bstar), int(bstar) + 1
    assert f.subs(S.micro_batch, low) / h100.peak_flops < b.subs(S.micro_batch, low) / h100.mem_bandwidth
    assert f.subs(S.micro_batch, high) / h100.peak_flops > b.subs(S.micro_batch, high) / h100.mem_bandwidth


def test_efficiency_scales_the_bound_time():
    """At memory efficiency 1/2 a memory-bound step takes exactly twice as long."""
    m = Model.preset("llama-2-7b")
    one = decode_step(m, context_len=100, batch=1, hardware="h100")
    half = decode_step(m, context_len=100, batch=1, hardware="h100", memory_efficiency="50%")
    assert half.seconds == 2 * one.seconds


def test_dense_decode_reads_the_inference_weights():
    """A decode step reads every weight of inference_memory once, except the untied token table (rows gathered)."""
    m = Model.preset("llama-2-7b")
    step = decode_step(m, context_len=0, batch=1, bytes_act=S.bytes_act)
    weights = inference_memory(m, seq_len=1, micro_batch=1).select("weights")
    table = 2 * m.vocab * m.d_model
    assert step.traffic.total.subs(S.bytes_act, 0) - kv_cache(m, tokens=1, batch=1) == weights - table


def test_moe_decode_of_one_token_reads_its_top_k_experts():
    """At batch 1 a decode step reads exactly the weights of the top_k routed experts (active_params); 'all' reads E."""
    m = Model.preset("mixtral-8x7b")
    one = decode_step(m, context_len=0, batch=1, bytes_act=S.bytes_act).traffic["moe/experts"].subs(S.bytes_act, 0)
    assert one == 2 * active_params(m)["moe/experts"]
    every = decode_step(m, context_len=0, batch=1, bytes_act=S.bytes_act, experts="all").traffic["moe/experts"]
    assert every.subs(S.bytes_act, 0) == 2 * 4 * active_params(m)["moe/experts"]  # E/k = 4 times more


def test_moe_expected_experts_grow_to_all():
    """The expected distinct experts read per layer rise with the batch from k toward E (uniform routing)."""
    m = Model.preset("mixtral-8x7b")
    read = [decode_step(m, context_len=0, batch=b, bytes_act=S.bytes_act).traffic["moe/experts"].subs(S.bytes_act, 0)
            for b in (1, 2, 8, 64)]
    every = 2 * m.n_moe_layers * 3 * m.d_model * m.d_ff_expert * 8
    assert read == sorted(read) and read[0] == every / 4 and every - read[-1] < every * Rational(1, 10**7)


def test_kv_read_is_the_kv_cache_function():
    """The attention kernel of a decode step reads kv_cache(c + 1 tokens): GQA, TP replication, MLA's latent cache
    (DeepSeek-V3) and sliding windows (Mistral 7B, Gemma 3, gpt-oss) follow it."""
    for name, tp in (("llama-3-8b", 1), ("llama-3-8b", 16 // 2), ("gemma-2b", 1), ("mixtral-8x7b", 2),
                     ("deepseek-v3", 8), ("mistral-7b", 1), ("gemma-3-27b", 2), ("gpt-oss-20b", 1)):
        m = Model.preset(name)
        step = decode_step(m, context_len=S.context_len, batch=S.micro_batch, tp=tp, bytes_act=S.bytes_act)
        assert (step.traffic["attention/core"].subs(S.bytes_act, 0)
                - kv_cache(m, tokens=S.context_len + 1, batch=S.micro_batch, tp=tp)).expand() == 0


def test_windows_and_mla_shrink_the_kv_read():
    """At a 32K context a sliding window reads less cache than full attention would, and MLA's latent cache
    (576 values per token per layer) far less than DeepSeek-V3's 128 heads' K and V."""
    from symcalc.memory import kv_cache

    mistral = Model.preset("mistral-7b")  # every layer slides over 4,096 tokens
    windowed = decode_step(mistral, context_len=32767, batch=1, bytes_act=S.bytes_act).traffic["attention/core"]
    full = kv_cache(mistral.replace(window=None), tokens=32768, batch=1)
    assert windowed.subs(S.bytes_act, 0) * 8 == full  # 4,096 of 32,768 cached tokens read
    ds = Model.preset("deepseek-v3")
    latent = decode_step(ds, context_len=32767, batch=1, bytes_act=S.bytes_act).traffic["attention/core"]
    heads = 2 * 61 * 128 * (128 + 64 + 128) // 2 * 2 * 32768  # K (nope + rope) and V per head, bf16
    assert latent.subs(S.bytes_act, 0) < heads / 10


def test_tp_all_reduces_two_per_layer_on_the_scale_up_link():
    """TP all-reduces: 2 per layer (Megatron; 1 for a parallel block, Falcon-7B), each b*s*h*2 bytes, at W_up."""
    for name, per_layer in (("llama-2-70b", 2), ("falcon-7b", 1)):
        m = Model.preset(name)
        step = prefill_step(m, prompt_len=2048, batch=1, tp=S.tp, hardware="h100")
        assert (step.comm / allreduce_bytes(2 * 2048 * m.d_model, S.tp)).simplify() == per_layer * m.n_layers
        t1 = prefill_step(m, prompt_len=2048, batch=1, tp=1, hardware="h100")
        assert t1.comm == 0 and t1.time["tp_comm"] == 0
    step = prefill_step(Model.preset("llama-2-70b"), prompt_len=2048, batch=1, tp=4, hardware="h100")
    assert step.comm_seconds == step.comm / 450_000_000_000


def test_tp_splits_flops_and_weights():
    """With TP 2 each device does half the matmul FLOPs and reads half the (MHA) projection weights."""
    m = Model.preset("llama-2-7b")
    one, two = (decode_step(m, context_len=0, batch=1, tp=t, bytes_act=S.bytes_act) for t in (1, 2))
    for op in ("attention/qkv", "mlp/up", "mlp/down", "lm_head"):
        assert two.flops[op] == one.flops[op] / 2
        assert two.traffic[op].subs(S.bytes_act, 0) == one.traffic[op].subs(S.bytes_act, 0) / 2


def test_mean_context_tpot_is_the_mean_decode_step_when_memory_bound():
    """TPOT at s + (n-2)/2 equals the mean of the n-1 decode steps' times while every step is memory-bound."""
    m = Model.preset("llama-2-7b")
    s, n = 100, 9
    est = serving(m, prompt_len=s, n_generate=n, batch=2, hardware="h100")
    steps = [decode_step(m, context_len=s + j - 1, batch=2, hardware="h100").seconds for j in range(1, n)]
    assert est.tpot == sum(steps) / (n - 1)


def test_max_batch_fits_and_the_next_does_not():
    """The reported largest batch fits the device (weights + KV + prefill activations) and one more does not."""
    m = Model.preset("llama-3-8b")
    est = serving(m, prompt_len=4096, n_generate=256, batch=1, hardware="h100")
    b = est.max_batch.value
    mem = lambda k: inference_memory(m, seq_len=4096, n_generate=256, micro_batch=k, flash_attention=True).total  # noqa: E731
    budget = roofline("h100").memory
    assert mem(b) <= budget < mem(b + 1)


def test_bad_input_is_one_line():
    """An efficiency above 1, an unknown experts convention, pp > 1 and TP not dividing the heads are refused."""
    m = Model.preset("llama-2-7b")
    for call in (lambda: decode_step(m, batch=1, hardware="h100", compute_efficiency=2),
                 lambda: decode_step(m, batch=1, hardware="h100", experts="some"),
                 lambda: serving(m, prompt_len=4, n_generate=2, batch=1, pp=2, hardware="h100"),
                 lambda: decode_step(m, batch=1, tp=3, hardware="h100"),
                 lambda: roofline("h300")):
        with pytest.raises(SymcalcError) as err:
            call()
        assert "\n" not in str(err.value)


# --- symbolic = numeric --------------------------------------------------------------------------
SIZES = (S.n_layers, S.d_model, S.n_heads, S.n_kv_heads, S.d_ff, S.vocab)


@given(L=st.integers(1, 6), group=st.integers(1, 4), g=st.integers(1, 4), dh=st.sampled_from([4, 8, 16]),
       f=st.integers(1, 64), v=st.integers(2, 100), b=st.integers(1, 9), c=st.integers(0, 50),
       tp_div=st.sampled_from([1, 2, 4]), moe=st.booleans(), experts=st.sampled_from(["expected", "all"]),
       phase=st.sampled_from(["decode", "prefill"]))
def test_symbolic_equals_numeric(L, group, g, dh, f, v, b, c, tp_div, moe, experts, phase):
    """Every quantity of a step built symbolic (sizes, batch, context, t | g) and substituted equals the numeric call."""
    t = tp_div if g % tp_div == 0 and (g * group) % tp_div == 0 else 1
    a, h = g * group, g * group * dh
    extra = dict(n_experts=4, top_k=2, d_ff_expert=S.d_ff) if moe else {}
    sym = Model(gated_mlp=True, norm="rmsnorm", **extra)
    values = {S.n_layers: L, S.d_model: h, S.n_heads: a, S.n_kv_heads: g, S.d_ff: f, S.vocab: v}
    num = sym.subs(values)
    kw = dict(tp=S.tp, experts=experts, hardware="h100")
    if phase == "decode":
        symbolic = decode_step(sym, context_len=S.context_len, batch=S.micro_batch, **kw)
        numeric = decode_step(num, context_len=c, batch=b, **{**kw, "tp": t})
        point = {**values, S.context_len: c, S.micro_batch: b, S.tp: t}
    else:
        symbolic = prefill_step(sym, prompt_len=S.seq_len, batch=S.micro_batch, **kw)
        numeric = prefill_step(num, prompt_len=c + 1, batch=b, **{**kw, "tp": t})
        point = {**values, S.seq_len: c + 1, S.micro_batch: b, S.tp: t}
    at = symbolic.subs(point)
    assert at.seconds == numeric.seconds and at.flops.total == numeric.flops.total
    assert at.traffic.total == numeric.traffic.total and at.comm == numeric.comm and at.bound == numeric.bound


@given(g=st.sampled_from([1, 2]), mult=st.sampled_from([2, 4]), b=st.integers(1, 5), c=st.integers(0, 30))
def test_symbolic_equals_numeric_when_tp_exceeds_kv_heads(g, mult, b, c):
    """With t > g (each KV head replicated) a step symbolic in L, h, f, v, b, c substitutes to the numeric call."""
    t = g * mult
    sym = Model(n_heads=8, n_kv_heads=g, d_head=4, gated_mlp=True)
    values = {S.n_layers: 3, S.d_model: 32, S.d_ff: 24, S.vocab: 50}
    at = decode_step(sym, context_len=S.context_len, batch=S.micro_batch, tp=t, hardware="h100").subs(
        {**values, S.context_len: c, S.micro_batch: b})
    numeric = decode_step(sym.subs(values), context_len=c, batch=b, tp=t, hardware="h100")
    assert at.seconds == numeric.seconds and at.traffic.total == numeric.traffic.total


@given(s=st.integers(1, 300), n=st.integers(1, 50), b=st.integers(1, 8))
def test_serving_symbolic_equals_numeric(s, n, b):
    """TTFT, TPOT, throughput, latency and KV bytes of serving() symbolic in s, n, b substitute to the numeric call."""
    m = Model.preset("llama-3-8b")
    sym = serving(m, prompt_len=S.seq_len, n_generate=S.n_generate, batch=S.micro_batch, hardware="h100")
    num = serving(m, prompt_len=s, n_generate=n, batch=b, hardware="h100")
    if n >= 2:  # the symbolic mean context is s + (n - 2)/2, valid from two generated tokens on
        at = sym.subs({S.seq_len: s, S.n_generate: n, S.micro_batch: b})
        assert at.results() == num.results()
    assert num.tpot > 0 and num.max_batch.feasible and Integer(num.max_batch.value) >= 1
