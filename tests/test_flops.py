"""Properties of symcalc.flops: two formulas for the same quantity agree, symbolically and exactly.

Exactness against the real framework is tests/conformance/test_flops_hf.py; here the detailed
count is checked against published shortcuts (PaLM appendix B, Narayanan et al. 2021 eq. 3),
decode steps against the closed-form generation, derivatives against finite differences.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sympy import Integer, Rational, diff, expand, symbols

from symcalc import Model, SymcalcError
from symcalc.flops import (
    backward_flops, decode_flops, forward_flops, generation_flops, hfu, mfu, narayanan_flops,
    palm_flops_per_token, prefill_flops, recompute_flops, six_n, training_flops, training_time,
)
from symcalc.params import params
from symcalc.symbols import (
    context_len, d_ff, d_model, global_batch, micro_batch, n_generate, n_heads, n_layers, seq_len, tokens, vocab,
)

from strategies import attention_shapes


@st.composite
def models(draw, moe=None):
    """Small numeric models: any attention shape, gated or not, dense or MoE."""
    h, a, g, dh = draw(attention_shapes(max_heads=8, max_head_dim=16))
    kw = dict(n_layers=draw(st.integers(1, 6)), d_model=h, n_heads=a, n_kv_heads=g, d_head=dh,
              d_ff=draw(st.integers(1, 64)), vocab=draw(st.integers(1, 300)),
              gated_mlp=draw(st.booleans()), tied_embeddings=draw(st.booleans()))
    if moe if moe is not None else draw(st.booleans()):
        e = draw(st.integers(1, 8))
        kw.update(n_experts=e, top_k=draw(st.integers(1, e)), moe_interval=draw(st.integers(1, 2)),
                  n_shared_experts=draw(st.integers(0, 2)))
        if kw["n_layers"] < kw["moe_interval"]:
            kw["moe_interval"] = 1
    return Model(**kw)


def test_detailed_minus_palm_is_the_non_matmul_parameters():
    """Per token, detailed training FLOPs minus PaLM's 6N + 12·L·h·s is -6 × (embedding + norms) exactly."""
    m = Model(n_kv_heads=n_heads)
    detailed = training_flops(m, tokens=1).total
    p = params(m)
    leftover = -6 * (p["embedding/token"] + p["norms"] + p["final_norm"])
    assert expand(detailed - palm_flops_per_token(m) - leftover) == 0
    # ... and the difference is free of the sequence length: PaLM's attention term is exact.
    assert diff(detailed - palm_flops_per_token(m), seq_len) == 0


def test_tied_embeddings_make_palm_exact_up_to_norms():
    """With tied embeddings the LM head matmul is the embedding's N, so only norms are left over."""
    m = Model(n_kv_heads=n_heads, tied_embeddings=True, norm="rmsnorm")
    gap = expand(training_flops(m, tokens=1).total - palm_flops_per_token(m))
    assert gap == expand(-6 * (n_layers * 2 + 1) * d_model)


def test_narayanan_eq3_equals_full_recompute():
    """Narayanan et al. 2021 eq. 3 is training FLOPs with full recomputation for an MHA, f = 4h model."""
    m = Model(n_kv_heads=n_heads, d_ff=4 * d_model)
    ours = training_flops(m, batch=global_batch, recompute="full").total
    assert expand(ours - narayanan_flops(m)) == 0


def test_six_n_counts_parameters_not_attention():
    """6N minus the detailed count, for a bias-free untied model, is 6×(embedding + norms) - 12·L·h·s."""
    m = Model(n_kv_heads=n_heads)
    p = params(m)
    gap = expand(six_n(m) - training_flops(m, tokens=1).total)
    assert gap == expand(6 * (p["embedding/token"] + p["norms"] + p["final_norm"]) - 12 * n_layers * d_model * seq_len)


@given(models(), st.integers(1, 9), st.integers(1, 7))
def test_generation_is_prefill_plus_decode_steps(model, prompt, new):
    """generation_flops' closed form equals the prefill plus an explicit sum of decode steps at p..p+n-2."""
    steps = sum((decode_flops(model, context_len=prompt + i).total for i in range(new - 1)), Integer(0))
    explicit = prefill_flops(model, prompt_len=prompt).total + steps
    assert generation_flops(model, prompt_len=prompt, n_generate=new).total == explicit


def test_generation_closed_form_is_symbolic_sum():
    """The symbolic closed form equals sympy's own summation of decode steps over the positions."""
    from sympy import summation

    m = Model()
    i = symbols("i", integer=True, nonnegative=True)
    step = decode_flops(m, context_len=context_len).total.subs(context_len, seq_len + i)
    summed = summation(step, (i, 0, n_generate - 2))
    closed = generation_flops(m).total - prefill_flops(m).total
    assert expand(closed - summed) == 0


@given(models(), st.integers(1, 12), st.integers(1, 4))
def test_causal_is_full_minus_half_the_square(model, s, b):
    """Causal counts half the attention square: full minus causal is half the full scores + values."""
    full = forward_flops(model, seq_len=s, batch=b)
    causal = forward_flops(model, seq_len=s, batch=b, causal=True)
    square = full["attention/scores"] + full["attention/values"]
    assert full.total - causal.total == square / 2
    assert {k: v for k, v in full.items() if not k.startswith("attention/s") and k != "attention/values"} == \
        {k: v for k, v in causal.items() if not k.startswith("attention/s") and k != "attention/values"}


@given(models(), st.integers(1, 3))
def test_decode_at_empty_cache_is_a_one_token_prefill(model, b):
    """Decoding with nothing cached costs exactly a prefill of a one-token prompt."""
    assert dict(decode_flops(model, context_len=0, batch=b)) == dict(prefill_flops(model, prompt_len=1, batch=b))


@given(models())
def test_backward_is_twice_forward_part_by_part(model):
    """backward_flops and training_flops' backward parts agree, each twice the forward part (LM head included)."""
    # backward_flops is forward.scale(2) by construction; the check that can fail is that the
    # training count (what MFU, solve and plan use) applies the same rule to every part. The rule
    # itself is checked against torch's measured backward in tests/conformance/test_flops_hf.py.
    f = forward_flops(model, seq_len=7, batch=2)
    bwd = backward_flops(model, seq_len=7, batch=2)
    train = training_flops(model, seq_len=7, batch=2)
    in_training = {k[len("backward/"):]: v for k, v in train.items() if k.startswith("backward/")}
    assert dict(bwd) == in_training == {k: 2 * v for k, v in f.items()}
    assert "lm_head" in in_training


@given(models())
def test_recompute_policies(model):
    """Full reruns all but the LM head (and projections); selective only the attention core; none nothing."""
    kw = dict(seq_len=6, batch=3)
    f = forward_flops(model, **kw)
    full = recompute_flops(model, recompute="full", **kw)
    sel = recompute_flops(model, recompute="selective", **kw)
    assert full.total == f.total - f["lm_head"] - f.get("embedding/projection", 0)
    assert sel.total == f["attention/scores"] + f["attention/values"]
    assert recompute_flops(model, recompute="none", **kw).total == 0
    bd = training_flops(model, recompute="selective", **kw)
    assert bd.select("recompute") == sel.total
    assert bd.select("forward") + bd.select("backward") == 3 * f.total


@given(models(moe=True))
def test_moe_experts_scale_with_top_k(model):
    """Routed-expert FLOPs are top_k times those of one expert per token; the router is 2·T·h·E per MoE layer."""
    one = model.replace(top_k=1)
    f, f1 = forward_flops(model, seq_len=5), forward_flops(one, seq_len=5)
    assert f["moe/experts"] == model.top_k * f1["moe/experts"]
    assert f["moe/router"] == 2 * 5 * model.d_model * model.n_experts * model.n_moe_layers


def test_moe_with_one_expert_is_dense_plus_router():
    """A one-expert top-1 MoE model costs the dense model plus the router."""
    dense = Model(n_layers=4, d_model=16, n_heads=2, n_kv_heads=2, d_ff=40, vocab=30)
    moe = dense.replace(n_experts=1, top_k=1)
    fd, fm = forward_flops(dense, seq_len=8), forward_flops(moe, seq_len=8)
    assert fm.total - fd.total == fm["moe/router"] == 2 * 8 * 16 * 1 * 4


def test_per_token_per_sequence_per_run():
    """tokens=1 is the per-token count, tokens=s one sequence, tokens=D a run of D/s sequences."""
    m = Model()
    per_seq = training_flops(m).total
    assert expand(training_flops(m, tokens=1).total * seq_len - per_seq) == 0
    assert expand(training_flops(m, tokens=tokens).total - per_seq * tokens / seq_len) == 0
    assert expand(training_flops(m, batch=micro_batch).total - per_seq * micro_batch) == 0


def test_derivatives_match_finite_differences():
    """d/ds and d/db of the symbolic count equal exact finite differences (it is quadratic in s, linear in b)."""
    m = Model(n_layers=4, d_model=64, n_heads=8, n_kv_heads=2, d_ff=176, vocab=1000, gated_mlp=True)
    total = training_flops(m, seq_len=seq_len, batch=micro_batch).total
    at = {seq_len: 100, micro_batch: 3}
    ds = diff(total, seq_len).subs(at)
    central = (total.subs({seq_len: 101, micro_batch: 3}) - total.subs({seq_len: 99, micro_batch: 3})) / 2
    assert ds == central
    assert diff(total, micro_batch).subs(at) == total.subs({seq_len: 100, micro_batch: 4}) - total.subs(at)


def test_elementwise_adds_parts_without_changing_matmuls():
    """elementwise=True keeps every matmul part and adds softmax, norms, activation and residual parts."""
    m = Model(n_layers=2, d_model=16, n_heads=2, n_kv_heads=1, d_ff=32, vocab=20, n_experts=4, top_k=2)
    plain = forward_flops(m, seq_len=6)
    more = forward_flops(m, seq_len=6, elementwise=True)
    assert all(more[k] == v for k, v in plain.items())
    added = set(more) - set(plain)
    assert added == {"attention/softmax", "moe/routing", "moe/activation", "norms", "residual"}
    causal = forward_flops(m, seq_len=6, elementwise=True, causal=True)
    assert causal["attention/softmax"] * 2 == more["attention/softmax"]


def test_mfu_hfu_and_training_time_agree():
    """Training for training_time(D, n, F, u) seconds at D/t tokens/s gives MFU u back; HFU ≥ MFU."""
    m = Model(n_layers=2, d_model=64, n_heads=4, n_kv_heads=4, d_ff=256, vocab=100)
    u = Rational(2, 5)
    t = training_time(m, tokens=10**9, n_devices=8, peak_flops=10**12, mfu=u, seq_len=16)
    assert mfu(m, tokens_per_second=Integer(10**9) / t, peak_flops=10**12, n_devices=8, seq_len=16) == u
    assert hfu(m, tokens_per_second=Integer(10**9) / t, peak_flops=10**12, n_devices=8, seq_len=16) > u
    # PaLM appendix B: model FLOPs per token are 6N + 12·L·h·s with N the matmul weights (here
    # L(4h² + 2hf) + hv = 104,704); at 10^6 tokens/s on a 10^12 FLOP/s device that is the MFU.
    palm = 6 * (2 * (4 * 64**2 + 2 * 64 * 256) + 64 * 100) + 12 * 2 * 64 * 16
    assert mfu(m, tokens_per_second=10**6, peak_flops=10**12, seq_len=16) == Rational(palm * 10**6, 10**12)
    assert hfu(m, recompute="none", tokens_per_second=10**6, peak_flops=10**12, seq_len=16) == \
        Rational(palm * 10**6, 10**12)


def test_symbolic_forward_closed_form():
    """Per token, the MHA plain-MLP forward is 2·(matmul weights) + 4·L·h·s (PaLM appendix B's 12·L·h·s over 3)."""
    m = Model(n_kv_heads=n_heads)
    per_token = forward_flops(m, tokens=1).total
    assert expand(per_token - (2 * (4 * d_model**2 + 2 * d_model * d_ff) * n_layers
                               + 4 * n_layers * d_model * seq_len + 2 * d_model * vocab)) == 0


@pytest.mark.parametrize("call, message", [
    (lambda: training_flops(Model(), recompute="some"), "recompute"),
    (lambda: training_flops(Model(), batch=2, tokens=10), "batch and tokens"),
    (lambda: forward_flops(Model(), seq_len=0), "seq_len"),
    (lambda: forward_flops(Model(), seq_len=-3), "seq_len"),
    (lambda: forward_flops(Model(), batch=Rational(-1, 2)), "batch"),
    (lambda: decode_flops(Model(), context_len=-1), "context_len"),
    (lambda: generation_flops(Model(), n_generate=0), "n_generate"),
    (lambda: mfu(Model(), peak_flops=0), "peak_flops"),
    (lambda: mfu(Model(), peak_flops="1.5e12 FLOP/s"), "peak_flops"),
    (lambda: training_time(Model(), mfu=1.5), "mfu"),
    (lambda: training_flops(Model(), causal="yes"), "causal"),
])
def test_bad_input_is_one_line_symcalc_error(call, message):
    """Bad arguments raise a one-line SymcalcError naming the argument."""
    with pytest.raises(SymcalcError) as err:
        call()
    assert message in str(err.value) and "\n" not in str(err.value)


def test_floats_are_their_decimal_text():
    """mfu=0.4 and peak_flops=1.5e12 are what users type: exactly 2/5 and 1500000000000, never binary floats."""
    m = Model(n_layers=2, d_model=64, n_heads=4, n_kv_heads=4, d_ff=256, vocab=100)
    exact = training_time(m, tokens=10**9, n_devices=8, peak_flops=1500 * 10**9, mfu=Rational(2, 5), seq_len=16)
    assert training_time(m, tokens=1e9, n_devices=8, peak_flops=1.5e12, mfu=0.4, seq_len=16) == exact
    assert training_time(m, tokens="1e9", n_devices="8", peak_flops="1.5e12", mfu="0.4", seq_len=16) == exact


def test_vocab_symbol_appears_only_in_lm_head():
    """The vocabulary enters only through the LM head (lookups cost nothing)."""
    f = forward_flops(Model())
    assert [k for k, v in f.items() if vocab in v.free_symbols] == ["lm_head"]
