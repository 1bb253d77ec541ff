"""symcalc.solve.closed_form on the fully symbolic model equals the numeric solver once numbers are given.

The closed forms are built once from ``Model()`` with every size, degree, the micro-batch, the
sequence length and the ZeRO stage symbolic; each example substitutes numbers (t > g, dp = 1,
pp = 1 included) and compares ``floor`` of the closed form with symcalc's numeric solver on the
model built from those numbers (``max_micro_batch``; ``max_integer`` on the memory in h).
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import given, settings, strategies as st
from sympy import Eq, Piecewise, Rational, Symbol, floor, solve

from symcalc import Model, training_memory
from symcalc import symbols as S
from symcalc.errors import SymcalcError
from symcalc.relax import relax, restore
from symcalc.solve import closed_form, max_integer, max_micro_batch

M = Symbol("M", positive=True)
#: Where the budget lies between the memory at the answer and at the next value: [0, 1).
FRACTIONS = st.fractions(0, 1, max_denominator=1000).filter(lambda f: f < 1)
DEGREES = dict(seq_len=S.seq_len, micro_batch=S.micro_batch, tp=S.tp, pp=S.pp, dp=S.dp)


@lru_cache(maxsize=None)
def _forms():
    """The closed forms for b and h on the fully symbolic training memory, z symbolic."""
    mem = training_memory(Model(), zero_stage=S.zero_stage, **DEGREES)
    return closed_form(mem, S.micro_batch, M), closed_form(mem, S.d_model, M)


@st.composite
def configurations(draw):
    """Sizes and a layout Megatron allows: t | a with t | g or g | t (t > g included), p | L; any z, d."""
    g = draw(st.sampled_from([1, 2, 4, 8]))
    a = g * draw(st.sampled_from([1, 2, 4]))
    L = draw(st.sampled_from([1, 2, 3, 4, 8, 12]))
    t = draw(st.sampled_from([t for t in (1, 2, 4, 8) if a % t == 0 and (g % t == 0 or t % g == 0)]))
    p = draw(st.sampled_from([p for p in (1, 2, 3, 4) if L % p == 0]))
    return {S.n_layers: L, S.n_heads: a, S.n_kv_heads: g, S.d_model: a * draw(st.sampled_from([8, 64, 128])),
            S.d_ff: draw(st.integers(16, 4096)), S.vocab: draw(st.integers(100, 50000)),
            S.seq_len: draw(st.sampled_from([128, 2048, 4096])), S.micro_batch: draw(st.integers(1, 16)),
            S.tp: t, S.pp: p, S.dp: draw(st.sampled_from([1, 1, 2, 8])), S.zero_stage: draw(st.integers(0, 3))}


def _budget(total, x, at, frac):
    """A budget whose answer is ``at`` (0: below the memory at x = 1, nothing fits)."""
    if at == 0:
        return total.subs(x, 1) - 1
    low, high = total.subs(x, at), total.subs(x, at + 1)
    return low + (high - low) * Rational(frac.numerator, frac.denominator)


def _model(values, **sizes):
    keys = {"n_layers": S.n_layers, "d_model": S.d_model, "n_heads": S.n_heads, "n_kv_heads": S.n_kv_heads,
            "d_ff": S.d_ff, "vocab": S.vocab}
    return Model(**{k: values[v] for k, v in keys.items()}).replace(**sizes)


def _floor_or_none(root):
    if root.is_real is False:
        return None
    k = int(floor(root))
    return k if k >= 1 else None


@settings(max_examples=30)
@given(configurations(), st.integers(0, 40), FRACTIONS)
def test_micro_batch_closed_form_equals_max_micro_batch(values, at, frac):
    """floor(closed form for b) with numbers equals max_micro_batch on the numeric model (every z, t > g, d = p = 1)."""
    b_form, _ = _forms()
    model = _model(values)
    layout = {k: values[getattr(S, k)] for k in ("seq_len", "tp", "pp", "dp", "zero_stage")}
    total = training_memory(model, micro_batch=S.micro_batch, **layout).total
    budget = _budget(total, S.micro_batch, at, frac)
    numeric = max_micro_batch(budget, model, **layout).value
    assert numeric == (at or None)
    point = {k: v for k, v in values.items() if k is not S.micro_batch}
    assert _floor_or_none(b_form.subs({**point, M: budget})) == numeric


@settings(max_examples=30)
@given(configurations(), st.integers(0, 3000), FRACTIONS)
def test_hidden_size_closed_form_equals_numeric_solver(values, at, frac):
    """floor(closed form for h) with numbers equals max_integer on the numeric memory in h (every z, t > g, d = p = 1)."""
    _, h_form = _forms()
    model = _model(values, d_model=S.d_model)
    layout = {k: values[getattr(S, k)] for k in ("seq_len", "micro_batch", "tp", "pp", "dp", "zero_stage")}
    total = training_memory(model, **layout).total
    budget = _budget(total, S.d_model, at, frac)
    numeric = max_integer(total, S.d_model, budget).value
    assert numeric == (at or None)
    point = {k: v for k, v in values.items() if k is not S.d_model}
    assert _floor_or_none(h_form.subs({**point, M: budget})) == numeric


def test_closed_form_has_one_branch_per_zero_stage_and_matches_sympy_solve():
    """With z symbolic the closed form is a Piecewise of 4 branches; each is sympy.solve's root of that branch."""
    mem = training_memory(Model.preset("llama-2-7b"), seq_len=4096, micro_batch=S.micro_batch, tp=2, dp=S.dp,
                          zero_stage=S.zero_stage)
    form = closed_form(mem, S.micro_batch, M)
    assert isinstance(form, Piecewise) and len(form.args) == 4
    for z in range(4):
        fixed = training_memory(Model.preset("llama-2-7b"), seq_len=4096, micro_batch=S.micro_batch, tp=2, dp=S.dp,
                                zero_stage=z).total
        (root,) = solve(relax(Eq(fixed, M)), relax(S.micro_batch))
        assert (form.subs(S.zero_stage, z) - restore(root)).subs({S.dp: 3, M: 10**11}) == 0


def test_closed_form_budget_as_bytes_text():
    """A byte string budget ("80GiB") is parsed, never evaluated; the root is the number for 80 * 2**30 bytes."""
    mem = training_memory(Model.preset("llama-2-7b"), seq_len=4096, micro_batch=S.micro_batch, n_devices=8,
                          zero_stage=3, recompute="full")
    assert closed_form(mem, "micro_batch", "80GiB") == closed_form(mem, S.micro_batch, 80 * 2**30)
    assert floor(closed_form(mem, S.micro_batch, "80GiB")) == 42


@pytest.mark.parametrize("options, symbol, message", [
    (dict(micro_batch=4, tp=S.tp), S.tp, "closed_form needs a polynomial"),   # Max(1, g/t) and 1/t
    (dict(micro_batch=4), S.micro_batch, "does not depend on micro_batch"),
    (dict(micro_batch=S.micro_batch), "no_such_symbol", "symbol"),
])
def test_closed_form_refuses_what_it_cannot_solve(options, symbol, message):
    """Anything but a growing polynomial of degree 1 or 2 in x per branch is a one-line SymcalcError."""
    mem = training_memory(Model.preset("mistral-7b"), seq_len=4096, zero_stage=1, **options)
    with pytest.raises(SymcalcError, match=message) as err:
        closed_form(mem, symbol, "80GiB")
    assert "\n" not in str(err.value)


def test_closed_form_refuses_a_string_quantity():
    """A string quantity is refused (never parsed)."""
    with pytest.raises(SymcalcError, match="string"):
        closed_form("micro_batch * 2", S.micro_batch, 10)
