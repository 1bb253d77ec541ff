"""The planner (symcalc.plan): its best choice against brute force, and the cost model's published ratios."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings, strategies as st
from sympy import Integer, Rational

from symcalc import Model, SymcalcError, training_memory
from symcalc.memory import Parallel
from symcalc.plan import candidates, plan, step_time

COSTS = dict(peak_flops=Integer(10**9), mfu=Rational(1, 2), bandwidth_tp=Integer(10**7),
             bandwidth_dp=Integer(10**6), bandwidth_ep=Integer(10**6))


@st.composite
def problems(draw):
    g = draw(st.sampled_from([1, 2, 4]))
    a = g * draw(st.sampled_from([1, 2]))
    moe = draw(st.booleans())
    extra = dict(n_experts=4, top_k=draw(st.sampled_from([1, 2]))) if moe else {}
    model = Model(n_layers=draw(st.sampled_from([1, 2, 4])), d_model=a * 4, n_heads=a, n_kv_heads=g,
                  d_ff=draw(st.integers(4, 48)), vocab=draw(st.integers(10, 200)), **extra)
    n = draw(st.sampled_from([1, 2, 4, 8]))
    batch = draw(st.sampled_from([8, 12, 16]))
    return model, n, batch, draw(st.integers(0, 10**6))


def brute_force(model, n, batch, seq_len, budget, max_tp, max_b):
    """Every candidate evaluated by substitution into the symbolic expressions; the fastest that fits."""
    best = None
    for c in candidates(model, n_devices=n, global_batch=batch, max_tp=max_tp, max_micro_batch=max_b):
        mem = training_memory(model, seq_len=seq_len, sequence_parallel=True, **c).total
        if mem > budget:
            continue
        time = step_time(model, seq_len=seq_len, global_batch=batch, **c, **COSTS).total
        if best is None or time < best[0]:
            best = (time, c)
    return best


@settings(max_examples=15)
@given(problems())
def test_top_choice_matches_brute_force(problem):
    """The planner's first row has the brute-force minimum step time, and it fits."""
    model, n, batch, slack = problem
    seq_len = 8
    cands = candidates(model, n_devices=n, global_batch=batch, max_tp=4, max_micro_batch=4)
    assume(cands)  # e.g. 8 devices cannot split a batch of 12
    mems = sorted(training_memory(model, seq_len=seq_len, sequence_parallel=True, **c).total for c in cands)
    budget = mems[len(mems) // 3] + slack  # about a third of the candidates fit, sometimes more
    res = plan(model, n_devices=n, memory=budget, seq_len=seq_len, global_batch=batch, max_tp=4,
               max_micro_batch=4, top=3, **COSTS)
    want = brute_force(model, n, batch, seq_len, budget, 4, 4)
    assert res.rows and want is not None
    top = res.rows[0]
    assert top.step_time == want[0]
    cfg = dict(tp=top.tp, pp=top.pp, dp=top.dp, ep=top.ep, zero_stage=top.zero_stage, recompute=top.recompute,
               micro_batch=top.micro_batch)
    assert training_memory(model, seq_len=seq_len, sequence_parallel=True, **cfg).total == top.memory <= budget
    assert [r.step_time for r in res.rows] == sorted(r.step_time for r in res.rows)
    assert res.n_candidates == len(cands)
    assert res.least_memory == pytest.approx(float(mems[0]), rel=1e-12)  # the leanest candidate, by brute force


@settings(max_examples=10)
@given(problems())
def test_nothing_fits_reports_the_leanest_candidate(problem):
    """With a budget below every candidate, no row fits and least_memory is the brute-force minimum over candidates."""
    model, n, batch, _ = problem
    cands = candidates(model, n_devices=n, global_batch=batch, max_tp=4, max_micro_batch=4)
    assume(cands)
    least = min(training_memory(model, seq_len=8, sequence_parallel=True, **c).total for c in cands)
    res = plan(model, n_devices=n, memory=least - 1, seq_len=8, global_batch=batch, max_tp=4, max_micro_batch=4,
               **COSTS)
    assert res.rows == [] and res.n_fit == 0
    assert res.least_memory == pytest.approx(float(least), rel=1e-12)


def test_candidates_are_valid_layouts():
    """Every candidate is a layout Parallel accepts for the model, with t·p·d = n and b·d | B."""
    m = Model.preset("mixtral-8x7b")
    for c in candidates(m, n_devices=16, global_batch=32):
        par = Parallel(tp=c["tp"], pp=c["pp"], ep=c["ep"], n_devices=16)
        par.check_model(m)
        assert par.dp == c["dp"] and 32 % (c["micro_batch"] * c["dp"]) == 0


def test_zero_communication_volume_ratio():
    """ZeRO-3 moves 3Ψ per step against 2Ψ for DP, ZeRO-1 and ZeRO-2 (Rajbhandari et al. 2020, §7)."""
    m = Model.preset("llama-2-7b")
    kw = dict(seq_len=4096, global_batch=64, micro_batch=1, tp=1, pp=1, dp=8, precision="bf16", **COSTS)
    dp = [step_time(m, zero_stage=z, **kw)["dp_comm"] for z in range(4)]
    assert dp[0] == dp[1] == dp[2]
    assert dp[3] / dp[0] == Rational(3, 2)


def test_bubble_and_single_device():
    """The bubble is (p-1)/m of the pipelined time; one device has no communication at all."""
    m = Model.preset("gpt2")
    bd = step_time(m, seq_len=1024, global_batch=16, micro_batch=2, tp=1, pp=4, dp=1, **COSTS)
    assert bd["pipeline_bubble"] == Rational(3, 8) * (bd["compute"] + bd["tp_comm"])
    one = step_time(m, seq_len=1024, global_batch=16, micro_batch=2, tp=1, pp=1, dp=1, **COSTS)
    assert one["tp_comm"] == one["dp_comm"] == one["pipeline_bubble"] == 0


def test_nothing_fits_and_errors():
    """A budget below every candidate gives no rows; a symbolic model is a one-line error."""
    res = plan(Model.preset("gpt2"), n_devices=2, memory=1000, peak_flops=10**12, seq_len=1024, global_batch=8)
    assert res.rows == [] and res.n_fit == 0 and res.n_candidates > 0
    with pytest.raises(SymcalcError, match="numeric model"):
        plan(Model(), n_devices=2, memory=10**9, peak_flops=10**12)


@given(st.integers(1, 5000))
def test_divisors_match_the_definition(n):
    """The planner's divisor list (from the factorisation) is every k in 1..n with n % k == 0, ascending."""
    from symcalc.plan import _divisors

    assert _divisors(n) == [k for k in range(1, n + 1) if n % k == 0]
    assert all(type(k) is int for k in _divisors(n))
