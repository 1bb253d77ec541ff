"""Structures of issue 10 (layer sets, windows, MLA, qk-norm, sinks, MoE layouts, MTP): symbolic equals numeric.

Every quantity a structure adds is built fully symbolic (its sizes, the layer count, the sequence
and context lengths and the parallel degrees left as symbols), then the numbers are substituted;
the result must be exactly what the numeric call gives, in every regime (windows longer and
shorter than the sequence, t above and below the KV heads, p = 1, d = 1).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from symcalc import Model, SymcalcError, active_params, params
from symcalc import symbols as S
from symcalc.flops import decode_flops, forward_flops, generation_flops, prefill_flops, training_flops
from symcalc.memory import inference_memory, kv_cache, training_memory
from symcalc.params import ACTIVE_CONVENTIONS
from symcalc.structure import GQA, MLA, MTP, LayerSet, Window

# --- layer sets ---------------------------------------------------------------------------------
layer_sets = st.builds(
    lambda every, off, first, invert: LayerSet(every=every, offset=off % every, first=first, invert=invert),
    st.integers(1, 7), st.integers(0, 6), st.integers(0, 9), st.booleans())


@settings(max_examples=60)
@given(rule=layer_sets, extra=st.integers(0, 40))
def test_layer_set_count_symbolic_equals_members(rule, extra):
    """count(L) left symbolic, then L substituted, is the number of member layers (brute force)."""
    L = rule.first + extra
    assert rule.count(S.n_layers).subs(S.n_layers, L) == len(rule.members(L)) == rule.count(L)


@settings(max_examples=60)
@given(L=st.integers(1, 30), data=st.data())
def test_layer_set_from_indices_round_trips(L, data):
    """from_indices finds a rule (or keeps the list) whose members are exactly the indices given."""
    chosen = data.draw(st.lists(st.integers(0, L - 1), unique=True))
    assert LayerSet.from_indices(chosen, L).members(L) == tuple(sorted(chosen))


def test_layer_set_rules_found_for_real_patterns():
    """Gemma-3's 5:1, gpt-oss's alternation, Llama-4's 3:1 and DeepSeek's dense-first are rules, valid for any L."""
    assert LayerSet.from_indices([i for i in range(62) if (i + 1) % 6], 62) == LayerSet(every=6, invert=True)
    assert LayerSet.from_indices(range(0, 36, 2), 36) == LayerSet(every=2, offset=0)
    assert LayerSet.from_indices(range(3, 61), 61) == LayerSet(first=3)
    assert LayerSet.from_indices([1, 4, 6], 8).indices == (1, 4, 6)
    with pytest.raises(SymcalcError, match="numeric"):
        Model(n_experts=4, moe_layers=LayerSet(indices=(1, 4)))


# --- windows: pairs, keys, cached tokens ----------------------------------------------------------
def _pairs(kind: str, W: int, N: int) -> int:
    """Brute force: query-key pairs a causal windowed mask allows among N queries (transformers' rule)."""
    if kind == "sliding":
        return sum(1 for q in range(N) for k in range(q + 1) if k > q - W)
    return sum(1 for q in range(N) for k in range(q + 1) if k // W == q // W)


@settings(max_examples=60)
@given(kind=st.sampled_from(["sliding", "chunked"]), W=st.integers(1, 20), N=st.integers(0, 45))
def test_window_pairs_symbolic_equals_brute_force(kind, W, N):
    """The band's closed form in symbols (s, W), substituted, counts the mask's pairs; windows longer than s included."""
    sym = Window(kind, S.window).cumulative_pairs(S.seq_len, "band").subs({S.window: W, S.seq_len: N})
    assert sym == _pairs(kind, W, N) == Window(kind, W).cumulative_pairs(N, "band")
    square = Window(kind, S.window).cumulative_pairs(S.seq_len, "square").subs({S.window: W, S.seq_len: N})
    assert square == _pairs("sliding", W, N)  # what the dynamic cache hands back: min(j+1, W) keys


@settings(max_examples=60)
@given(kind=st.sampled_from(["sliding", "chunked"]), W=st.integers(1, 20), c=st.integers(0, 45),
       conv=st.sampled_from(["square", "band"]))
def test_window_keys_at_is_the_difference_of_cumulative_pairs(kind, W, c, conv):
    """keys_at(c) (symbolic, then substituted) is P(c+1) - P(c): one decode step of the cumulative count."""
    win = Window(kind, S.window)
    at = {S.window: W, S.context_len: c}
    assert win.keys_at(S.context_len, conv).subs(at) == (
        Window(kind, W).cumulative_pairs(c + 1, conv) - Window(kind, W).cumulative_pairs(c, conv))


@settings(max_examples=40)
@given(W=st.integers(1, 50), T=st.integers(0, 120), conv=st.sampled_from(["window", "window-1"]))
def test_cached_tokens_symbolic_equals_numeric(W, T, conv):
    """min(T, W) or min(T, W-1) symbolic, substituted, equals the numeric value for T above and below W."""
    sym = Window.sliding(S.window).cached_tokens(S.context_len, conv).subs({S.window: W, S.context_len: T})
    assert sym == Window.sliding(W).cached_tokens(T, conv) == min(T, W if conv == "window" else W - 1)


# --- models with every structure: symbolic = numeric for params, FLOPs, memory, KV cache ---------
def _mla_pair(q_lora: bool):
    """(fully symbolic MLA MoE model, values, the same model numeric)."""
    att = MLA(q_lora_rank=S.q_lora_rank if q_lora else None)
    sym = Model(attention=att, gated_mlp=True, norm="rmsnorm", n_experts=S.n_experts, top_k=S.top_k,
                d_ff_expert=S.d_ff_expert, n_shared_experts=S.n_shared_experts, first_dense_layers=1,
                mtp=MTP(1))
    values = {S.n_layers: 4, S.d_model: 48, S.n_heads: 4, S.d_ff: 96, S.vocab: 101, S.n_experts: 8, S.top_k: 2,
              S.d_ff_expert: 16, S.n_shared_experts: 2, S.q_lora_rank: 20, S.kv_lora_rank: 12, S.d_head_nope: 8,
              S.d_head_rope: 4, S.d_head_v: 6}
    num = Model(n_layers=4, d_model=48, n_heads=4, d_ff=96, vocab=101, gated_mlp=True, norm="rmsnorm",
                attention=MLA(q_lora_rank=20 if q_lora else None, kv_lora_rank=12, d_nope=8, d_rope=4, d_v=6),
                n_experts=8, top_k=2, d_ff_expert=16, n_shared_experts=2, first_dense_layers=1, mtp=MTP(1))
    return sym, values, num


def _windowed_pair(kind: str, qk_norm: str, sinks: bool, rule: LayerSet):
    """(fully symbolic windowed GQA model with qk-norm and sinks, values, numeric twin)."""
    att = GQA(qk_norm=qk_norm, sinks=sinks)
    sym = Model(attention=att, window=Window(kind, S.window if kind == "sliding" else S.chunk, rule),
                gated_mlp=True, norm="rmsnorm", n_experts=S.n_experts, top_k=S.top_k, d_ff_expert=S.d_ff_expert,
                moe_interval=2, router_bias=True, mlp_bias=True)
    values = {S.n_layers: 6, S.d_model: 32, S.n_heads: 4, S.n_kv_heads: 2, S.d_ff: 48, S.vocab: 97, S.n_experts: 4,
              S.top_k: 2, S.d_ff_expert: 12, S.window: 5, S.chunk: 5}
    num = Model(n_layers=6, d_model=32, n_heads=4, n_kv_heads=2, d_ff=48, vocab=97, attention=att,
                window=Window(kind, 5, rule), gated_mlp=True, norm="rmsnorm", n_experts=4, top_k=2,
                d_ff_expert=12, moe_interval=2, router_bias=True, mlp_bias=True)
    return sym, values, num


def _pairs_of_models():
    yield _mla_pair(True)
    yield _mla_pair(False)
    yield _windowed_pair("sliding", "head", True, LayerSet(every=3, invert=True))
    yield _windowed_pair("chunked", "weightless", False, LayerSet(every=2, offset=0))
    yield _windowed_pair("sliding", "full", False, LayerSet())


MODELS = list(_pairs_of_models())
IDS = ["mla-q-lora-mtp", "mla-plain-q-mtp", "sliding-qknorm-sinks", "chunked-l2", "sliding-all-fullnorm"]


@pytest.mark.parametrize("i", range(len(MODELS)), ids=IDS)
def test_params_and_active_symbolic_equal_numeric(i):
    """Parameters by part, and active parameters under every convention, symbolic then substituted = numeric."""
    sym, values, num = MODELS[i]
    assert params(sym).subs(values).as_ints() == params(num).as_ints()
    for convention in ACTIVE_CONVENTIONS:
        assert active_params(sym, convention=convention).subs(values).total == active_params(num, convention=convention).total


@pytest.mark.parametrize("i", range(len(MODELS)), ids=IDS)
@settings(max_examples=5)
@given(s=st.integers(1, 12), b=st.integers(1, 3), c=st.integers(0, 12), n=st.integers(1, 6),
       conv=st.sampled_from(["square", "band"]), causal=st.booleans(), elementwise=st.booleans())
def test_flops_symbolic_equal_numeric(i, s, b, c, n, conv, causal, elementwise):
    """Training, prefill, decode and generation FLOPs in symbols equal the numeric calls (windows above and below s)."""
    sym, values, num = MODELS[i]
    at = {**values, S.seq_len: s, S.micro_batch: b, S.context_len: c, S.n_generate: n}
    kw = dict(causal=causal, elementwise=elementwise, window_flops=conv)
    assert training_flops(sym, seq_len=S.seq_len, batch=S.micro_batch, **kw).subs(at).as_ints() == \
        training_flops(num, seq_len=s, batch=b, **kw).as_ints()
    assert prefill_flops(sym, prompt_len=S.seq_len, batch=S.micro_batch, **kw).subs(at).total == \
        prefill_flops(num, prompt_len=s, batch=b, **kw).total
    kw.pop("causal")
    assert decode_flops(sym, context_len=S.context_len, batch=S.micro_batch, **kw).subs(at).total == \
        decode_flops(num, context_len=c, batch=b, **kw).total
    assert generation_flops(sym, prompt_len=S.seq_len, n_generate=S.n_generate, batch=S.micro_batch,
                            **kw).subs(at).total == generation_flops(num, prompt_len=s, n_generate=n, batch=b, **kw).total


@pytest.mark.parametrize("i", range(len(MODELS)), ids=IDS)
@settings(max_examples=8)
@given(T=st.integers(1, 14), b=st.integers(1, 3), tp=st.sampled_from([1, 2, 4]), pp=st.sampled_from([1, 2]),
       wc=st.sampled_from(["window", "window-1"]), mc=st.sampled_from(["latent", "decompressed"]))
def test_kv_cache_symbolic_equal_numeric(i, T, b, tp, pp, wc, mc):
    """KV-cache bytes with t, p, tokens and batch symbolic equal the numeric call (t above and below g, W above and below T)."""
    sym, values, num = MODELS[i]
    at = {**values, S.context_len: T, S.micro_batch: b, S.tp: tp, S.pp: pp, S.bytes_kv: 2}
    kw = dict(window_cache=wc, mla_cache=mc)
    value = kv_cache(sym, tokens=S.context_len, batch=S.micro_batch, bytes_kv=S.bytes_kv, tp=S.tp, pp=S.pp,
                     **kw).subs(at)
    assert value == kv_cache(num, tokens=T, batch=b, bytes_kv=2, tp=tp, pp=pp, **kw)


@pytest.mark.parametrize("i", range(len(MODELS)), ids=IDS)
@pytest.mark.parametrize("zero, recompute, dp", [(0, "none", 1), (1, "selective", 2), (3, "full", 2)])
def test_training_and_inference_memory_symbolic_equal_numeric(i, zero, recompute, dp):
    """Training memory (ZeRO, recompute, t/p/d/e) and inference memory of every structure: symbolic = numeric."""
    sym, values, num = MODELS[i]
    degrees = dict(tp=2, pp=2, dp=dp, ep=2 if dp == 2 else 1)
    at = {**values, S.seq_len: 8, S.micro_batch: 2}
    train = training_memory(sym, seq_len=S.seq_len, micro_batch=S.micro_batch, zero_stage=zero, recompute=recompute,
                            **degrees).subs(at).as_ints()
    assert train == training_memory(num, seq_len=8, micro_batch=2, zero_stage=zero, recompute=recompute,
                                    **degrees).as_ints()
    infer = inference_memory(sym, seq_len=S.seq_len, micro_batch=S.micro_batch, n_generate=3, tp=2).subs(at).total
    assert infer == inference_memory(num, seq_len=8, micro_batch=2, n_generate=3, tp=2).total


def test_window_cache_and_flops_conventions_are_refused_by_name():
    """An unknown convention is a one-line error naming the option and the choices."""
    m = Model.preset("gemma-3-1b")
    with pytest.raises(SymcalcError, match="window_cache='W'.*window, window-1"):
        kv_cache(m, tokens=10, batch=1, window_cache="W")
    with pytest.raises(SymcalcError, match="window_flops='banded'"):
        forward_flops(m, seq_len=10, window_flops="banded")
    with pytest.raises(SymcalcError, match="mla_cache"):
        kv_cache(Model.preset("deepseek-v2-lite"), tokens=10, batch=1, mla_cache="full")
    with pytest.raises(SymcalcError, match="convention='total'"):
        active_params(m, convention="total")


def test_structure_errors_are_one_line():
    """Bad structure options name the field and what would be right."""
    for bad, needle in [(lambda: GQA(qk_norm="rms"), "qk_norm='rms'"), (lambda: Model(attention="mla"), "attention"),
                        (lambda: Model(window=4096), "window"), (lambda: Model(mtp=1), "mtp"),
                        (lambda: MTP(0), "n_modules"), (lambda: LayerSet(every=0), "every"),
                        (lambda: Window.sliding(0), "sliding_window"),
                        (lambda: Model(attention=MLA(), window=Window.sliding(8)), "MLA with a sliding"),
                        (lambda: Model(attention=MLA(), n_kv_heads=4, n_heads=8, d_model=64), "n_kv_heads"),
                        (lambda: Model(n_layers=4, window=Window.sliding(8, LayerSet(first=5))), "n_layers >= 5")]:
        with pytest.raises(SymcalcError, match=needle) as info:
            bad()
        assert "\n" not in str(info.value)


def test_band_is_never_more_than_the_square():
    """A windowed layer's band is below the square once the window is shorter than the sequence, and the
    full layers of the model are untouched by the convention."""
    m = Model.preset("gemma-3-1b")
    square, band = forward_flops(m, seq_len=4096), forward_flops(m, seq_len=4096, window_flops="band")
    assert band.total < square.total
    assert {k: v for k, v in band.items() if not k.startswith("attention/")} == \
        {k: v for k, v in square.items() if not k.startswith("attention/")}
