"""Model: exact sizes, structure options, and one-line validation errors."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, strategies as st
from sympy import Integer, Rational, Symbol

from symcalc import Model, SymcalcError
from symcalc import symbols as S

from strategies import attention_shapes


def test_default_model_is_fully_symbolic():
    """Model() keeps every size a symbol, d_head = h/a, and is dense."""
    m = Model()
    assert {S.n_layers, S.d_model, S.n_heads, S.n_kv_heads, S.d_ff, S.vocab} <= m.free_symbols
    assert m.d_head == S.d_model / S.n_heads
    assert not m.is_moe and m.top_k == 0


def test_model_is_immutable():
    """Fields cannot be assigned; replace() returns a validated copy."""
    m = Model(n_layers=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.n_layers = 3  # type: ignore[misc]
    assert m.replace(n_layers=3).n_layers == 3 and m.n_layers == 2


def test_sizes_become_exact_sympy_integers():
    """Python ints, integral floats and numeric strings (parsed, never evaluated) become sympy Integers."""
    m = Model(n_layers=32, d_model=4096.0, n_heads="32", n_kv_heads=8)
    assert m.d_model == Integer(4096) and isinstance(m.d_model, Integer) and m.d_head == 128 and m.n_heads == 32


@pytest.mark.parametrize("field,value", [
    ("n_layers", 0), ("n_layers", -4), ("d_model", 2.5), ("d_ff", Rational(1, 2)), ("vocab", True),
    ("n_heads", "thirty-two"), ("n_heads", "4*8"), ("d_ff", [1]), ("vocab_multiple", 0), ("n_experts", -1),
    ("d_head", 0), ("qkv_bias", "no"), ("gated_mlp", 1), ("name", 7),
])
def test_bad_sizes_are_refused(field, value):
    """Non-positive, non-integer, bool and non-numeric string sizes, and non-bool flags, raise one line naming the field."""
    with pytest.raises(SymcalcError) as info:
        Model(**{field: value})
    assert field in str(info.value) and "\n" not in str(info.value)


def test_heads_must_divide_hidden_unless_head_dim_given():
    """a ∤ h is refused without head_dim and accepted with it (Gemma: h=3072, a=16, d_h=256)."""
    with pytest.raises(SymcalcError, match="n_heads=48 does not divide d_model=4096"):
        Model(d_model=4096, n_heads=48)
    assert Model(d_model=3072, n_heads=16, d_head=256).q_size == 4096
    assert Model(d_model=4000, n_heads=48, d_head=64).d_head == 64


def test_kv_heads_must_divide_heads():
    """g ∤ a is refused: each KV head serves a whole group."""
    with pytest.raises(SymcalcError, match="n_kv_heads=3 does not divide n_heads=32"):
        Model(d_model=4096, n_heads=32, n_kv_heads=3)
    assert Model(d_model=4096, n_heads=32, n_kv_heads=8).kv_size == 1024


def test_undecidable_symbolic_divisibility_is_allowed():
    """With symbolic sizes nothing is decidably wrong, so nothing is refused."""
    x = Symbol("x", integer=True, positive=True)
    assert Model(d_model=x, n_heads=7).d_head == x / 7


def test_top_k_at_most_experts():
    """top_k above n_experts is refused; top_k == n_experts is fine."""
    with pytest.raises(SymcalcError, match="top_k=3 is more than n_experts=2"):
        Model(n_experts=2, top_k=3)
    assert Model(n_experts=2, top_k=2).top_k == 2


@pytest.mark.parametrize("kwargs,needle", [
    (dict(norm="batchnorm"), "norm="),
    (dict(position="sinusoidal"), "position="),
    (dict(activation="tanh"), "activation="),
    (dict(norm="rmsnorm", norm_bias=True), "norm_bias"),
    (dict(norms_per_layer=-1), "norms_per_layer"),
    (dict(norms_per_layer=True), "norms_per_layer"),
    (dict(n_experts=4, moe_interval=0), "moe_interval"),
    (dict(n_positions=2048), "n_positions"),
    (dict(top_k=2), "top_k"),
    (dict(d_ff_expert=100), "d_ff_expert"),
    (dict(n_shared_experts=1), "n_shared_experts"),
    (dict(moe_interval=2), "moe_interval"),
    (dict(n_layers=2, n_experts=4, moe_interval=4), "no layer is MoE"),
    (dict(n_layers=4, n_experts=4, first_dense_layers=4), "no layer is MoE"),
])
def test_bad_structure_options_are_refused(kwargs, needle):
    """Unknown option values and inconsistent structure raise one-line errors naming the option."""
    with pytest.raises(SymcalcError) as info:
        Model(**kwargs)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_replace_rejects_unknown_fields_and_recomputes_derived():
    """replace() names unknown fields and re-derives d_head when h or a changes."""
    with pytest.raises(SymcalcError, match="unknown Model field"):
        Model().replace(hidden=3)
    m = Model(d_model=4096, n_heads=32)
    assert m.replace(n_heads=64).d_head == 64


def test_subs_substitutes_every_size():
    """subs() puts numbers into the symbolic sizes and keeps the structure."""
    m = Model(gated_mlp=True).subs(n_layers=2, d_model=64, n_heads=4, n_kv_heads=2, d_ff=100, vocab=10)
    assert not m.free_symbols and m.gated_mlp and m.d_head == 16 and m.kv_size == 32


def test_vocab_padding_to_a_multiple():
    """Pythia's 50277-token vocab padded to a multiple of 128 is 50304 (its config.json vocab_size)."""
    assert Model(vocab=50277, vocab_multiple=128).padded_vocab == 50304
    assert Model(vocab=50304, vocab_multiple=128).padded_vocab == 50304


@given(layers=st.integers(1, 40), step=st.integers(1, 5), dense=st.integers(0, 6))
def test_moe_layer_count_follows_transformers_rule(layers, step, dense):
    """n_moe_layers counts layers i >= first_dense with (i+1) % interval == 0 (Qwen2-MoE's decoder_sparse_step rule)."""
    expected = sum(1 for i in range(layers) if i >= dense and (i + 1) % step == 0)
    if expected == 0:
        with pytest.raises(SymcalcError):
            Model(n_layers=layers, n_experts=4, moe_interval=step, first_dense_layers=dense)
        return
    m = Model(n_layers=layers, n_experts=4, moe_interval=step, first_dense_layers=dense)
    assert m.n_moe_layers == expected and m.n_dense_layers == layers - expected


@given(shape=attention_shapes())
def test_attention_widths(shape):
    """q_size = a·d_h = h and kv_size = g·d_h for heads dividing h."""
    h, a, g, d_head = shape
    m = Model(d_model=h, n_heads=a, n_kv_heads=g)
    assert m.q_size == h and m.kv_size == g * d_head


def test_describe_is_one_line():
    """describe() summarises sizes and structure on one line."""
    text = Model.preset("mixtral-8x7b").describe()
    assert "\n" not in text and "E=8 k=2" in text and "rmsnorm" in text
