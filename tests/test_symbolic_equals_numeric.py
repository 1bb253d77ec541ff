"""Symbolic equals numeric: every public quantity built fully symbolic, with numbers substituted, is
exactly what the numeric call gives — every part, every layout (t > g, d = 1, p = 1, MoE with EP),
every ZeRO stage, recompute policy and activation profile, and every preset.

The symbolic side has every size, degree, byte count and setting that can be a symbol as one
(``symbolic_twin`` in ``tests/strategies.py``; the ZeRO stage as the symbol z); the numeric side
is the same call with numbers. Nothing here re-derives a formula: the two calls of symcalc must
agree, which fails whenever a rule lives only in a numeric branch (``if t > g``, ``if d == 1``)
instead of in the expression.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from sympy import Integer, Symbol

from symcalc import Model
from symcalc import symbols as S
from symcalc.flops import decode_flops, forward_flops, generation_flops, prefill_flops, training_flops
from symcalc.memory import Precision, inference_memory, kv_cache, training_memory
from symcalc.params import active_params, params
from symcalc.presets import PRESETS

from strategies import byte_values, layouts, models, symbolic_twin

FEW = settings(max_examples=25)
#: Test-only symbols for the amounts that have none in symcalc.symbols.
BUCKET, LIVE, MISC, BATCH = (Symbol(n, integer=True, nonnegative=True) for n in ("bucket", "live", "misc", "batch"))
SYMBOLIC_DEGREES = dict(tp=S.tp, pp=S.pp, dp=S.dp, cp=S.cp)


def same(symbolic, numeric, values, what):
    """Every part and the total of ``symbolic`` with ``values`` substituted equal ``numeric`` exactly."""
    for name in set(symbolic) | set(numeric):
        got = symbolic.get(name, Integer(0)).xreplace(values)
        want = numeric.get(name, Integer(0))
        assert got == want, (what, name, got, want)
    assert symbolic.total.xreplace(values) == numeric.total, (what, "total")


def _degrees(layout, model):
    """The layout's degrees as symbols (ep only for MoE: a dense model takes e = 1) and their values."""
    sym = dict(SYMBOLIC_DEGREES, sequence_parallel=layout["sequence_parallel"])
    values = {S.tp: layout["tp"], S.pp: layout["pp"], S.dp: layout["dp"], S.cp: layout["cp"]}
    if model.is_moe:
        sym["ep"], values[S.ep] = S.ep, layout["ep"]
    return sym, values


@FEW
@given(st.data())
def test_params_and_flops(data):
    """params, active params and training/forward/prefill/decode/generation FLOPs: symbolic, substituted, = numeric."""
    model = data.draw(models())
    twin, values = symbolic_twin(model)
    seq, batch, ctx, gen = (data.draw(st.integers(1, 9)) for _ in range(4))
    values = {**values, S.seq_len: seq, BATCH: batch, S.context_len: ctx, S.n_generate: gen, S.tokens: seq * batch}
    causal, elementwise = data.draw(st.booleans()), data.draw(st.booleans())
    same(params(twin), params(model), values, "params")
    same(active_params(twin), active_params(model), values, "active params")
    kw = dict(causal=causal, elementwise=elementwise)
    for recompute in ("none", "selective", "full"):
        same(training_flops(twin, seq_len=S.seq_len, batch=BATCH, recompute=recompute, **kw),
             training_flops(model, seq_len=seq, batch=batch, recompute=recompute, **kw), values, recompute)
    same(training_flops(twin, seq_len=S.seq_len, tokens=S.tokens, **kw),
         training_flops(model, seq_len=seq, tokens=seq * batch, **kw), values, "per run")
    same(forward_flops(twin, seq_len=S.seq_len, batch=BATCH, **kw), forward_flops(model, seq_len=seq, batch=batch, **kw),
         values, "forward")
    same(prefill_flops(twin, prompt_len=S.seq_len, batch=BATCH, **kw),
         prefill_flops(model, prompt_len=seq, batch=batch, **kw), values, "prefill")
    same(decode_flops(twin, context_len=S.context_len, batch=BATCH, elementwise=elementwise),
         decode_flops(model, context_len=ctx, batch=batch, elementwise=elementwise), values, "decode")
    same(generation_flops(twin, prompt_len=S.seq_len, n_generate=S.n_generate, batch=BATCH, **kw),
         generation_flops(model, prompt_len=seq, n_generate=gen, batch=batch, **kw), values, "generation")


@FEW
@given(st.data())
def test_training_memory_every_part(data):
    """Training memory by part with z, t, p, d, e, c, s, b, bytes and buffers symbolic, substituted, = numeric."""
    model = data.draw(models())
    seq = data.draw(st.sampled_from([4, 8, 12]))
    layout = data.draw(layouts(model, seq_len=seq))
    twin, values = symbolic_twin(model)
    degrees, degree_values = _degrees(layout, model)
    b = {k: data.draw(v) for k, v in byte_values.items()}
    settings_ = dict(recompute=data.draw(st.sampled_from(["none", "selective", "full"])),
                     profile=data.draw(st.sampled_from(["korthikanti", "hf-eager"])),
                     flash_attention=data.draw(st.booleans()), dropout=data.draw(st.booleans()))
    stage = data.draw(st.sampled_from([0, 1, 2, 3]))
    micro, bucket, live, misc = data.draw(st.integers(1, 3)), *(data.draw(st.integers(0, 50)) for _ in range(3))
    symbolic = training_memory(twin, seq_len=S.seq_len, micro_batch=S.micro_batch, zero_stage=S.zero_stage,
                               precision="symbolic", optimizer="symbolic", allgather_bucket=BUCKET, max_live_params=LIVE,
                               misc_bytes=MISC, **degrees, **settings_)
    numeric = training_memory(model, seq_len=seq, micro_batch=micro, zero_stage=stage,
                              precision=Precision(b["weight"], b["grad"], b["master"], b["act"]), optimizer=b["optim"],
                              allgather_bucket=bucket, max_live_params=live, misc_bytes=misc, **layout, **settings_)
    values = {**values, **degree_values, S.seq_len: seq, S.micro_batch: micro, S.zero_stage: stage,
              S.bytes_weight: b["weight"], S.bytes_grad: b["grad"], S.bytes_master: b["master"],
              S.bytes_act: b["act"], S.bytes_optim: b["optim"], BUCKET: bucket, LIVE: live, MISC: misc}
    same(symbolic, numeric, values, "training memory")


@FEW
@given(st.data())
def test_inference_memory_and_kv_cache(data):
    """Inference memory by part and the KV cache (t > g replicating heads included): symbolic, substituted, = numeric."""
    model = data.draw(models())
    seq = data.draw(st.integers(1, 9))
    layout = data.draw(layouts(model, seq_len=seq))
    twin, values = symbolic_twin(model)
    gen, micro = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 3))
    w, kv, act = (data.draw(byte_values["weight"]) for _ in range(3))
    flash = data.draw(st.booleans())
    tp, pp, sp = layout["tp"], layout["pp"], layout["sequence_parallel"] and seq % layout["tp"] == 0
    symbolic = inference_memory(twin, seq_len=S.seq_len, n_generate=S.n_generate, micro_batch=S.micro_batch,
                                weights=S.bytes_weight, bytes_kv=S.bytes_kv, bytes_act=S.bytes_act, tp=S.tp, pp=S.pp,
                                sequence_parallel=sp, flash_attention=flash, misc_bytes=MISC)
    numeric = inference_memory(model, seq_len=seq, n_generate=gen, micro_batch=micro, weights=w, bytes_kv=kv,
                               bytes_act=act, tp=tp, pp=pp, sequence_parallel=sp, flash_attention=flash, misc_bytes=7)
    values = {**values, S.seq_len: seq, S.n_generate: gen, S.micro_batch: micro, S.bytes_weight: w, S.bytes_kv: kv,
              S.bytes_act: act, S.tp: tp, S.pp: pp, MISC: 7}
    same(symbolic, numeric, values, "inference memory")
    cache = kv_cache(twin, tokens=S.context_len, batch=S.micro_batch, bytes_kv=S.bytes_kv, tp=S.tp, pp=S.pp)
    assert cache.xreplace({**values, S.context_len: seq}) == kv_cache(model, tokens=seq, batch=micro, bytes_kv=kv,
                                                                       tp=tp, pp=pp)


def _preset_layouts(model):
    """A few layouts per preset: one device; t > g (one KV head each) with d = 1; p > 1 with EP and ZeRO buffers."""
    a, g, L = int(model.n_heads), int(model.n_kv_heads), int(model.n_layers)
    big_t = max(t for t in (1, 2, 4, 8, 16, 32, 64) if a % t == 0 and (g % t == 0 or t % g == 0))
    ep = 2 if model.is_moe and int(model.n_experts) % 2 == 0 else 1
    return [dict(tp=1, pp=1, dp=1), dict(tp=big_t, pp=1, dp=1), dict(tp=2 if a % 2 == 0 and (g % 2 == 0 or g == 1) else 1,
                                                                          pp=2 if L % 2 == 0 else 1, dp=4, ep=ep)]


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset(name):
    """For every preset and layout (t > g, d = 1, p > 1, EP): params, FLOPs and training memory of the symbolic twin, substituted, = numeric."""
    model = Model.preset(name)
    twin, values = symbolic_twin(model)
    values = {**values, S.seq_len: 4096, S.micro_batch: 2, S.tokens: 4096}
    same(params(twin), params(model), values, "params")
    same(training_flops(twin, seq_len=S.seq_len, tokens=S.tokens, recompute="full"),
         training_flops(model, seq_len=4096, tokens=4096, recompute="full"), values, "flops")
    settings_ = dict(recompute="selective", allgather_bucket=5 * 10**8, max_live_params=10**9)
    symbolic = training_memory(twin, seq_len=S.seq_len, micro_batch=S.micro_batch, zero_stage=S.zero_stage,
                               **SYMBOLIC_DEGREES, **({"ep": S.ep} if model.is_moe else {}), **settings_)
    for layout in _preset_layouts(model):
        layout = dict(layout, sequence_parallel=layout["tp"] > 1)
        sub = {**values, **{getattr(S, k): v for k, v in layout.items() if k != "sequence_parallel"}}
        sub.setdefault(S.cp, 1)
        sub.setdefault(S.ep, 1)
        symbolic_sp = symbolic if not layout["sequence_parallel"] else training_memory(
            twin, seq_len=S.seq_len, micro_batch=S.micro_batch, zero_stage=S.zero_stage, sequence_parallel=True,
            **SYMBOLIC_DEGREES, **({"ep": S.ep} if model.is_moe else {}), **settings_)
        for stage in (0, 1, 3):
            numeric = training_memory(model, seq_len=4096, micro_batch=2, zero_stage=stage, **layout, **settings_)
            same(symbolic_sp, numeric, {**sub, S.zero_stage: stage}, (name, layout, stage))


def test_mistral_kv_heads_when_t_exceeds_g():
    """Mistral-7B (g = 8) at t = 16 (dropout on, as when the issue was filed): the symbolic total substituted is the numeric 19,509,084,160 bytes (was 19,207,094,272)."""
    m = Model.preset("mistral-7b")
    old = dict(precision="mixed", zero_stage=0, flash_attention=False, dropout=True, sequence_parallel=False)  # as pinned
    numeric = training_memory(m, seq_len=4096, micro_batch=1, tp=16, n_devices=16, **old)
    symbolic = training_memory(m, seq_len=4096, micro_batch=1, tp=S.tp, dp=1, **old)
    assert numeric.total == 19_509_084_160 == symbolic.total.subs(S.tp, 16)


@pytest.mark.parametrize("structure", [
    dict(norm="rmsnorm", parallel_block=True, norms_per_layer=2),
    dict(norm="rmsnorm", parallel_block=True, norms_per_layer=1),
    dict(norm="layernorm", parallel_block=True, norms_per_layer=2),
    dict(norm="rmsnorm", gated_mlp=True),
])
@pytest.mark.parametrize("dropout", [False, True])
def test_activation_bytes_symbolic_in_the_activation_precision(structure, dropout):
    """hf-eager's fp32 copies depend on β_a = 4 (no cast copy, shared norm input): left symbolic, β_a = 2 and 4 give the numeric bytes."""
    from symcalc.memory import activations

    model = Model(n_layers=2, d_model=16, n_heads=4, n_kv_heads=2, d_ff=24, vocab=10, **structure)
    kw = dict(seq_len=8, micro_batch=2, profile="hf-eager", dropout=dropout, tp=2)
    symbolic = activations(model, bytes_act=S.bytes_act, **kw)
    for beta in (2, 4):
        same(symbolic, activations(model, bytes_act=beta, **kw), {S.bytes_act: beta}, beta)
