"""The memory solvers (PP degree, devices, TP degree, sequence, hidden size, depth) against brute force.

Truth is training_memory evaluated at each allowed value with every size a number (no symbol
for the unknown), scanned in increasing order; the engine's closed form is checked on
non-monotone functions the same way.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd

import pytest
from hypothesis import given, settings, strategies as st
from sympy import Integer, Rational

from symcalc import Model, SymcalcError
from symcalc.memory import training_memory
from symcalc.solve import (
    divisors, max_d_model_in_memory, max_integer, max_n_layers_in_memory, max_seq_len, min_devices, min_integer,
    min_pp, min_tp,
)
from symcalc.symbols import pp as p_sym

FEW = settings(max_examples=25)


def between(lo, hi, u: Fraction):
    """An exact budget a fraction u of the way from lo to hi."""
    return lo + (hi - lo) * Rational(u.numerator, u.denominator)


fractions = st.fractions(0, 1, max_denominator=97)


@st.composite
def small_models(draw):
    """Tiny GQA models with a layer count that has several divisors."""
    g = draw(st.sampled_from([1, 2, 4]))
    a = g * draw(st.sampled_from([1, 2]))
    d_h = draw(st.sampled_from([8, 16]))
    L = draw(st.sampled_from([4, 6, 8, 12, 16]))
    return Model(n_layers=L, d_model=a * d_h, n_heads=a, n_kv_heads=g, d_ff=4 * a * d_h,
                 vocab=draw(st.integers(50, 500)), gated_mlp=draw(st.booleans()))


training_settings = st.fixed_dictionaries({
    "seq_len": st.sampled_from([16, 64, 256]),
    "micro_batch": st.integers(1, 4),
    "zero_stage": st.integers(0, 3),
    "recompute": st.sampled_from(["none", "selective", "full"]),
    "allgather_bucket": st.sampled_from([0, 5000]),
    "max_live_params": st.sampled_from([0, 20000]),
})


def brute_min(mem, allowed, budget):
    """The smallest allowed value whose memory fits, and the best memory over all allowed values."""
    values = {v: mem(v) for v in allowed}
    fits = [v for v in allowed if values[v] <= budget]
    return (min(fits) if fits else None), min(values.values())


# --- the engine without monotonicity -------------------------------------------------------------
@given(st.integers(0, 10**4), st.integers(1, 10**6), st.integers(1, 500), st.integers(1, 2 * 10**4),
       st.sampled_from([None, 360, 720, 1024]))
def test_min_integer_u_shaped_matches_brute_force(c0, c1, c2, budget, n):
    """For f = c0 + c1/x + c2·x (falls, then rises) the closed form finds the smallest fitting x exactly."""
    f = lambda x: c0 + Rational(c1, x) + c2 * x  # noqa: E731
    sol = min_integer(c0 + Integer(c1) / p_sym + c2 * p_sym, p_sym, budget, divisor_of=n, hi=None if n else 3000)
    allowed = divisors(n) if n else range(1, 3001)
    expected, best = brute_min(f, allowed, budget)
    assert sol.value == expected and sol.method == "closed-form"
    if expected is None and n:
        assert sol.shortfall == best - budget
    if expected is not None:
        assert f(sol.value) <= budget


@given(st.integers(0, 10**4), st.integers(1, 10**6), st.integers(1, 500), st.integers(1, 2 * 10**4))
def test_max_integer_u_shaped_matches_brute_force(c0, c1, c2, budget):
    """The largest x with c0 + c1/x + c2·x ≤ B is the brute-force one, even where small x do not fit."""
    f = lambda x: c0 + Rational(c1, x) + c2 * x  # noqa: E731
    sol = max_integer(c0 + Integer(c1) / p_sym + c2 * p_sym, p_sym, budget)
    fits = [x for x in range(1, budget // c2 + 2) if f(x) <= budget]
    assert sol.value == (max(fits) if fits else None)
    if fits:
        assert f(sol.value + 1) > budget


# --- degrees ---------------------------------------------------------------------------------------
@FEW
@given(small_models(), training_settings, st.sampled_from([1, 2]), st.sampled_from([None, 8, 12, 24, 48]),
       fractions, st.booleans())
def test_min_pp_matches_brute_force(model, opts, tp, n, u, short):
    """The smallest PP degree that fits (p | L, and t·p | n) is the brute-force one; nothing fits below it."""
    if n is not None and n % tp:
        n = None
    if model.n_kv_heads % tp:
        tp = 1
    degrees = dict(tp=tp, n_devices=n)
    L = int(model.n_layers)
    allowed = [p for p in divisors(L) if n is None or (n // tp) % p == 0]
    mem = lambda p: training_memory(model, pp=p, **degrees, **opts).total  # noqa: E731
    values = [mem(p) for p in allowed]
    budget = min(values) - 1 if short else between(min(values), max(values), u)
    sol = min_pp(budget, model, **degrees, **opts)
    expected, best = brute_min(mem, allowed, budget)
    assert sol.value == expected
    if expected is None:
        assert not sol.feasible and sol.shortfall == best - budget
    else:
        assert mem(sol.value) <= budget and sol.quantity == mem(sol.value)
        assert all(mem(p) > budget for p in allowed if p < sol.value)


@FEW
@given(small_models(), training_settings, st.sampled_from([2, 4, 8, 48]), fractions, st.booleans())
def test_min_tp_with_devices_matches_brute_force(model, opts, n, u, short):
    """The smallest TP degree (t | g, t | n) that fits is the brute-force one, d = n/t = 1 included."""
    g = int(model.n_kv_heads)
    allowed = [t for t in divisors(gcd(g, n))]
    mem = lambda t: training_memory(model, tp=t, n_devices=n, **opts).total  # noqa: E731
    values = [mem(t) for t in allowed]
    budget = min(values) - 1 if short else between(min(values), max(values), u)
    sol = min_tp(budget, model, n_devices=n, **opts)
    assert sol.value == brute_min(mem, allowed, budget)[0]


@FEW
@given(small_models(), training_settings, st.sampled_from([(1, 1), (2, 1), (1, 2), (2, 2)]), fractions)
def test_min_devices_matches_brute_force(model, opts, degrees, u):
    """The fewest devices (multiples of t·p) that fit is the brute-force one over the first 40 multiples."""
    tp, pp = degrees
    if model.n_kv_heads % tp or model.n_layers % pp:
        tp = pp = 1
    step = tp * pp
    allowed = [step * k for k in range(1, 41)]
    mem = lambda n: training_memory(model, tp=tp, pp=pp, n_devices=n, **opts).total  # noqa: E731
    values = [mem(n) for n in allowed]
    budget = between(min(values), max(values), u)
    sol = min_devices(budget, model, tp=tp, pp=pp, **opts)
    assert sol.value == brute_min(mem, allowed, budget)[0]
    assert sol.value % step == 0 and sol.quantity == mem(sol.value)


@FEW
@given(small_models(), training_settings)
def test_min_devices_nothing_fits(model, opts):
    """Below what infinitely many devices need, nothing fits; the shortfall is at most the best seen."""
    opts["zero_stage"] = 3
    floor_ = min(training_memory(model, n_devices=n, **opts).total for n in (1, 2, 10**6))
    sol = min_devices(floor_ / 2, model, **opts)
    assert not sol.feasible and sol.value is None and 0 < sol.shortfall <= floor_ / 2


def test_degree_solver_errors():
    """The unknown given as well, or parallel=, is a one-line SymcalcError."""
    m = Model.preset("llama-2-7b")
    with pytest.raises(SymcalcError, match="unknown"):
        min_pp("80GiB", m, pp=2, seq_len=2048, micro_batch=1)
    with pytest.raises(SymcalcError, match="unknown"):
        min_devices("80GiB", m, n_devices=8, seq_len=2048, micro_batch=1)
    with pytest.raises(SymcalcError, match="does not divide"):
        min_pp("80GiB", m, tp=3, n_devices=8, seq_len=2048, micro_batch=1)


# --- sizes -----------------------------------------------------------------------------------------
@FEW
@given(small_models(), training_settings, st.sampled_from([1, 2]), st.sampled_from([1, 8, 64]),
       st.integers(1, 3000), fractions)
def test_max_seq_len_matches_brute_force(model, opts, cp, mult, target, u):
    """The longest sequence (a multiple of m and c) fits at s and not at the next multiple, none beyond."""
    opts.pop("seq_len")
    step = mult * cp // gcd(mult, cp)
    s0 = step * max(1, target // step)
    mem = lambda s: training_memory(model, seq_len=s, cp=cp, **opts).total  # noqa: E731
    budget = between(mem(s0), mem(s0 + step), u) if u < 1 else mem(s0)
    sol = max_seq_len(budget, model, cp=cp, multiple_of=mult, **opts)
    assert sol.value == s0 and mem(s0) <= budget
    assert all(mem(s) > budget for s in range(s0 + step, s0 + 20 * step, step))


@FEW
@given(small_models(), training_settings, st.sampled_from([1, 2]), st.sampled_from([1, 64]),
       st.sampled_from([None, 8]), st.integers(1, 30), fractions)
def test_max_d_model_in_memory_matches_real_models(model, opts, tp, mult, d_head, k, u):
    """The largest h in a memory budget equals a scan over numeric models with every size whole."""
    if model.n_kv_heads % tp:
        tp = 1
    a, g, f_ratio = int(model.n_heads), int(model.n_kv_heads), model.d_ff / model.d_model

    def build(h):
        if d_head is None:
            return model.replace(d_model=h, d_ff=f_ratio * h)
        heads = h // d_head
        return model.replace(d_model=h, d_ff=f_ratio * h, n_heads=heads, n_kv_heads=heads * g // a, d_head=d_head)

    def whole(h):
        if h % mult:
            return False
        if d_head is None:
            return h % a == 0
        heads = h // d_head
        return h % d_head == 0 and (heads * g) % a == 0 and heads % tp == 0 and (heads * g // a) % tp == 0

    mem = lambda h: training_memory(build(h), tp=tp, **opts).total  # noqa: E731
    allowed = [h for h in range(1, 64 * 80 + 1) if whole(h)][: k + 8]
    budget = between(mem(allowed[k - 1]), mem(allowed[k]), u) if u < 1 else mem(allowed[k - 1])
    sol = max_d_model_in_memory(budget, model, tp=tp, multiple_of=mult, d_head=d_head, **opts)
    assert sol.value == allowed[k - 1] and mem(sol.value) <= budget
    assert all(mem(h) > budget for h in allowed[k:])


@FEW
@given(small_models(), training_settings, st.sampled_from([1, 2, 4]), st.integers(1, 40), fractions)
def test_max_n_layers_in_memory_matches_brute_force(model, opts, pp, k, u):
    """The most layers (a multiple of p) in a memory budget fits at L and at no larger multiple tried."""
    mem = lambda L: training_memory(model.replace(n_layers=L), pp=pp, **opts).total  # noqa: E731
    L0 = pp * k
    budget = between(mem(L0), mem(L0 + pp), u) if u < 1 else mem(L0)
    sol = max_n_layers_in_memory(budget, model, pp=pp, **opts)
    assert sol.value == L0 and sol.unit == "bytes"
    assert all(mem(L) > budget for L in range(L0 + pp, L0 + 20 * pp, pp))


def test_max_d_model_in_memory_with_tp_above_the_kv_heads():
    """TP 16 over 8 KV heads (replicated) is a valid layout: the largest h (a multiple of the 64 heads) fits and
    the next one does not, on the numeric model built at each h."""
    model = Model.preset("llama-2-70b")
    opts = dict(tp=16, n_devices=64, seq_len=4096, micro_batch=1, zero_stage=1, recompute="full")
    ratio = model.d_ff / model.d_model

    def mem(h):
        return training_memory(model.replace(d_model=h, d_ff=ratio * h), **opts).total

    sol = max_d_model_in_memory("80GiB", model, **opts)
    assert sol.value % 64 == 0 and (ratio * sol.value).is_integer
    assert mem(sol.value) <= 80 * 2**30 < mem(sol.value + 64)
