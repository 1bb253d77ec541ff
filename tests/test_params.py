"""Parameter counts: the closed form once, Kaplan's 12·L·h², and the breakdown's invariants."""

from __future__ import annotations

from hypothesis import given, strategies as st
from sympy import expand

from symcalc import Model, active_params, non_embedding_params, params
from symcalc import symbols as S
from symcalc.params import EMBEDDING_PARTS, norm_params

from strategies import attention_shapes

L, h, a, g, f, v = S.n_layers, S.d_model, S.n_heads, S.n_kv_heads, S.d_ff, S.vocab


def test_general_closed_form():
    """params(Model()).total is 2vh + L(2h² + 2gh²/a + 2hf + 4h) + 2h: untied LayerNorm GQA, no biases."""
    # per layer: q and o are h·(a·d_h) each, k and v are h·(g·d_h) each with d_h = h/a; the MLP's
    # two matrices are h·f each; two LayerNorms of 2h; then a final LayerNorm and an untied head.
    expected = v * h + L * (2 * h * h + 2 * h * g * h / a + 2 * h * f + 2 * 2 * h) + 2 * h + v * h
    assert expand(params(Model()).total - expected) == 0


def test_kaplan_twelve_l_h_squared():
    """With MHA and f = 4h the weight matrices are 12·L·h² (Kaplan et al. 2020, Table 1)."""
    m = Model(n_kv_heads=a, d_ff=4 * h, norm="rmsnorm", final_norm=False, norms_per_layer=0)
    assert expand(non_embedding_params(m) - 12 * L * h**2) == 0


@given(shape=attention_shapes(), layers=st.integers(1, 8), ff=st.integers(1, 300), vocab=st.integers(1, 999),
       gated=st.booleans(), tied=st.booleans(), bias=st.booleans(), norm=st.sampled_from(["layernorm", "rmsnorm"]))
def test_symbolic_form_evaluates_to_numeric_count(shape, layers, ff, vocab, gated, tied, bias, norm):
    """The symbolic breakdown with numbers substituted equals the breakdown of the numeric model, part by part."""
    dm, heads, kv, _ = shape
    structure = dict(gated_mlp=gated, tied_embeddings=tied, qkv_bias=bias, attn_out_bias=bias, mlp_bias=bias, norm=norm)
    values = {L: layers, h: dm, a: heads, g: kv, f: ff, v: vocab}
    symbolic = params(Model(**structure)).subs(values)
    numeric = params(Model(n_layers=layers, d_model=dm, n_heads=heads, n_kv_heads=kv, d_ff=ff, vocab=vocab, **structure))
    assert symbolic.as_ints() == numeric.as_ints()


@given(experts=st.integers(1, 16), data=st.data())
def test_active_counts_top_k_of_the_experts(experts, data):
    """Active parameters replace E experts by k, all else equal."""
    k = data.draw(st.integers(1, experts))
    m = Model(n_layers=4, d_model=64, n_heads=4, n_kv_heads=2, d_ff=96, vocab=100, n_experts=experts, top_k=k,
              gated_mlp=True, n_shared_experts=1, d_ff_shared=32, shared_expert_gate=True)
    full, act = params(m), active_params(m)
    assert act["moe/experts"] * experts == full["moe/experts"] * k
    assert {n: x for n, x in act.items() if n != "moe/experts"} == {n: x for n, x in full.items() if n != "moe/experts"}


def test_dense_active_equals_total():
    """A dense model's active count is its total."""
    m = Model.preset("llama-2-7b")
    assert active_params(m).total == params(m).total


def test_non_embedding_excludes_exactly_the_embedding_parts():
    """GPT-2 small untied (learned positions) has Pythia-160M's published 85,056,000 non-embedding parameters."""
    # Same blocks (12 x 768, f = 3072, biased linears, two LayerNorms, final LayerNorm): the Pythia
    # README's non-embedding column. Token table, position table and LM head must all be excluded.
    m = Model.preset("gpt2").replace(tied_embeddings=False)
    bd = params(m)
    assert "embedding/position" in bd and "lm_head/weight" in bd
    assert non_embedding_params(m) == 85_056_000
    assert set(EMBEDDING_PARTS) >= {"embedding/token", "embedding/position", "lm_head/weight"}
    assert non_embedding_params(m) == non_embedding_params(m.replace(tied_embeddings=True))


def test_tying_removes_the_lm_head():
    """Tied embeddings drop exactly v·h from the total."""
    untied, tied = Model(), Model(tied_embeddings=True)
    assert expand(params(untied).total - params(tied).total - v * h) == 0


def test_vocab_padding_counts_padded_rows():
    """A vocab of 50277 padded to a multiple of 128 counts as 50304 rows (Pythia)."""
    m = Model.preset("pythia-160m")
    assert params(m.replace(vocab=50277, vocab_multiple=128)).total == params(m).total


def test_norm_params():
    """LayerNorm has weight and bias (2h), RMSNorm a weight only (h)."""
    assert norm_params(Model()) == 2 * h and norm_params(Model(norm="rmsnorm")) == h


def test_counts_are_exact_integers():
    """Numeric models give sympy Integers, even at 405B."""
    total = params(Model.preset("llama-3.1-405b")).total
    assert total.is_Integer and int(total) == total
