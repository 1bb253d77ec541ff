"""sympy's own tools can use symcalc's expressions: solve the relaxed memory equation, round, check.

Every answer here is checked on the exact expression (the integer next to the root fits, the next
one does not) and against symcalc's own solver; nothing is timed (``bench/solve.py`` measures).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st
from sympy import Eq, Max, Piecewise, floor, solve

from symcalc import Model, params, training_memory
from symcalc import symbols as S
from symcalc.relax import relax, restore
from symcalc.sensitivity import leading_terms
from symcalc.solve import max_integer, max_micro_batch, min_integer

LLAMA = Model.preset("llama-2-7b")
BUDGET = 80 * 2**30
OPTS = dict(seq_len=4096, recompute="full", allgather_bucket=5 * 10**8, max_live_params=10**9, tp=2, pp=2)


def _largest(expr, symbol, budget):
    """The integer next to the relaxed root, checked on the exact expression: fits, and the next one does not."""
    roots = [r for r in solve(relax(Eq(expr, budget)), relax(symbol)) if r.is_real and r > 0]
    assert len(roots) == 1, roots
    best = math.floor(roots[0])
    assert expr.subs(symbol, best) <= budget < expr.subs(symbol, best + 1)
    return best


def test_total_is_one_piecewise_over_the_zero_stage():
    """With z symbolic the total is one Piecewise, one branch per stage; the parts keep their own Piecewise."""
    mem = training_memory(LLAMA, micro_batch=S.micro_batch, zero_stage=S.zero_stage, n_devices=16, **OPTS)
    total = mem.total
    assert isinstance(total, Piecewise) and len(total.args) == 4
    assert sum(isinstance(v, Piecewise) for v in mem.values()) > 10
    for z in range(4):
        fixed = training_memory(LLAMA, micro_batch=3, zero_stage=z, n_devices=16, **OPTS)
        assert total.subs({S.zero_stage: z, S.micro_batch: 3}) == fixed.total


def test_sympy_solve_with_symbolic_zero_stage_gives_every_stage():
    """solve(Eq(total, M), b) with z symbolic returns one root per stage; each rounds to symcalc's own answer."""
    mem = training_memory(LLAMA, micro_batch=S.micro_batch, zero_stage=S.zero_stage, n_devices=16, **OPTS)
    solutions = solve(relax(Eq(mem.total, BUDGET)), relax(S.micro_batch))
    assert len(solutions) == 4
    for z in range(4):
        (root,) = [r for r in (restore(s).subs(S.zero_stage, z) for s in solutions) if r.is_finite]
        expected = max_micro_batch(BUDGET, LLAMA, n_devices=16, zero_stage=z, **OPTS).value
        assert math.floor(root) == expected


def test_integer_symbols_need_the_relaxed_route():
    """Integer-declared b makes solve return []; relax(...) gives the real root, whose floor is the answer."""
    mem = training_memory(LLAMA, micro_batch=S.micro_batch, zero_stage=3, n_devices=16, **OPTS)
    assert solve(Eq(mem.total, BUDGET), S.micro_batch) == []
    assert _largest(mem.total, S.micro_batch, BUDGET) == max_micro_batch(BUDGET, LLAMA, n_devices=16, zero_stage=3,
                                                                         **OPTS).value


@pytest.mark.parametrize("d", [1, 2, 8])
def test_closed_form_in_dp_is_right_at_dp_1(d):
    """b*(d) derived once with d symbolic, then d substituted, is symcalc's answer at that d (d = 1: no ZeRO buffers)."""
    mem = training_memory(LLAMA, micro_batch=S.micro_batch, zero_stage=1, dp=S.dp, **OPTS)
    (root,) = solve(relax(Eq(mem.total, BUDGET)), relax(S.micro_batch))
    b_star = math.floor(restore(root).subs(S.dp, d))
    assert b_star == max_micro_batch(BUDGET, LLAMA, dp=d, zero_stage=1, **OPTS).value
    assert b_star == _largest(mem.total.subs(S.dp, d), S.micro_batch, BUDGET)


def test_closed_form_in_tp_is_right_beyond_the_kv_heads():
    """For Mistral-7B (g = 8) the KV heads per device are Max(1, g/t): b*(t) at t = 16 is symcalc's answer there."""
    m = Model.preset("mistral-7b")
    mem = training_memory(m, micro_batch=S.micro_batch, tp=S.tp, dp=1, seq_len=4096, recompute="full")
    assert any(isinstance(a, Max) for a in mem.total.atoms(Max))
    at16 = mem.total.subs(S.tp, 16)
    assert _largest(at16, S.micro_batch, 40 * 2**30) == max_micro_batch(40 * 2**30, m, tp=16, seq_len=4096,
                                                                        recompute="full").value


def test_vocab_padding_has_a_smooth_form():
    """ceiling(v/128)·128 blocks solve; relax gives the smooth form, exact wherever 128 divides v."""
    m = Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, d_ff=11008, vocab_multiple=128,
              gated_mlp=True, norm="rmsnorm")
    total = params(m).total
    with pytest.raises(NotImplementedError):
        solve(Eq(total, 7 * 10**9), S.vocab)
    (root,) = solve(relax(Eq(total, 7 * 10**9)), relax(S.vocab))
    v = math.floor(root) // 128 * 128  # the largest padded vocabulary within the budget
    assert total.subs(S.vocab, v) <= 7 * 10**9 < total.subs(S.vocab, v + 128)
    assert relax(total).subs(relax(S.vocab), v) == total.subs(S.vocab, v)


def test_moe_interval_layers_have_a_smooth_form():
    """floor(L/2) MoE layers block solve; the smooth form's root, rounded to the interval and checked, is the deepest model."""
    m = Model(d_model=1024, n_heads=16, n_kv_heads=4, d_ff=2816, vocab=32000, n_experts=8, top_k=2, moe_interval=2,
              gated_mlp=True, norm="rmsnorm")
    total = params(m).total
    assert total.has(floor)
    with pytest.raises(NotImplementedError):
        solve(Eq(total, 10**10), S.n_layers)
    (root,) = solve(relax(Eq(total, 10**10)), relax(S.n_layers))
    L = math.floor(root) // 2 * 2
    assert total.subs(S.n_layers, L) <= 10**10 < total.subs(S.n_layers, L + 2)


def test_leading_terms_take_a_name():
    """leading_terms(q, "d_model") is the d_model² terms (a name, not its characters)."""
    P = params(Model(n_kv_heads=S.n_heads))
    assert leading_terms(P, "d_model") == leading_terms(P, [S.d_model]) == leading_terms(P, S.d_model)


@settings(max_examples=30)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(-50, 50), st.integers(-50, 50), st.integers(1, 60),
       st.integers(0, 400), st.sampled_from(["max", "min"]))
def test_piecewise_in_the_unknown_matches_brute_force(a, b, c1, c2, k, budget, kind):
    """A Piecewise with a jump at k (and Max) in the unknown: the closed form equals brute force over 1..100."""
    x = S.micro_batch
    if kind == "max":
        f = Piecewise((a * x + c1, x > k), (b * x + c2, True)) + Max(1, 12 / x)
        sol = max_integer(f, x, budget, hi=100)
        fits = [v for v in range(1, 101) if f.subs(x, v) <= budget]
        assert sol.value == (max(fits) if fits else None)
    else:
        f = Piecewise((c1 + 500 / x, x > k), (c2 + 900 / x, True)) + Max(1, 12 / x)
        sol = min_integer(f, x, budget, hi=100)
        fits = [v for v in range(1, 101) if f.subs(x, v) <= budget]
        assert sol.value == (min(fits) if fits else None)
    assert sol.method == "closed-form"
