"""The exact path's integer code (symcalc._intcode) against the Fraction path and sympy's substitution."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import pytest
from hypothesis import given, settings, strategies as st
from sympy import Max, Min, Piecewise, ceiling, floor

from symcalc import Model, inference_memory, training_flops, training_memory
from symcalc import symbols as S
from symcalc._intcode import SLOW, Unsupported, int_function
from symcalc.numeric import compile_breakdown, compile_expr

ARGS = (S.tp, S.pp, S.dp, S.ep, S.micro_batch, S.seq_len, S.zero_stage)
#: The structures of issue 10 (MLA + MoE with EP, windows, sinks, chunked attention, dense GQA).
PRESETS = ("llama-2-70b", "deepseek-v2-lite", "gemma-3-1b", "gpt-oss-20b", "llama-4-scout", "pythia-70m")


@lru_cache(maxsize=None)
def _compiled(name: str, what: str):
    m = Model.preset(name)
    ep = S.ep if m.is_moe else 1
    if what == "training":
        bd = training_memory(m, seq_len=S.seq_len, micro_batch=S.micro_batch, tp=S.tp, pp=S.pp, dp=S.dp, ep=ep,
                             zero_stage=S.zero_stage, recompute="selective")
    elif what == "inference":
        bd = inference_memory(m, seq_len=S.seq_len, micro_batch=S.micro_batch, tp=S.tp, pp=S.pp)
    else:
        bd = training_flops(m, seq_len=S.seq_len, batch=S.micro_batch, recompute="full")
    return bd, compile_breakdown(bd, ARGS, exact=True)


configs = st.tuples(st.sampled_from([1, 2, 4, 8, 16]), st.sampled_from([1, 2, 3, 4]), st.integers(1, 64),
                    st.sampled_from([1, 2, 4]), st.integers(1, 16), st.sampled_from([1, 100, 512, 4096, 131072]),
                    st.integers(0, 3))


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(PRESETS), st.sampled_from(["training", "inference", "flops"]), configs)
def test_int_path_equals_fraction_path(name, what, values):
    """On every structure, the integer code gives the Fraction path's result, value and type, part by part."""
    _, fn = _compiled(name, what)
    assert fn._int is not None, fn.expr
    fast = fn._int(*values)
    assert fast is not SLOW
    slow = fn(*(Fraction(v) for v in values))      # Fraction inputs take the Fraction function
    assert fast == slow
    assert [type(x) for x in fast] == [type(x) for x in slow]


@pytest.mark.parametrize("name", ["deepseek-v2-lite", "gemma-3-1b"])
def test_int_path_equals_subs(name):
    """The integer code equals sympy's exact substitution of the training-memory breakdown."""
    bd, fn = _compiled(name, "training")
    values = (2, 2, 8, 2 if Model.preset(name).is_moe else 1, 3, 4096, 3)
    subs = dict(zip(ARGS, values))
    assert [fn(*values)[i] for i in range(len(bd) + 1)] == [e.subs(subs) for e in (*bd.values(), bd.total)]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10**6), st.integers(1, 10**6), st.integers(-50, 50))
def test_functions_and_branches(b, t, k):
    """Max, Min, floor, ceiling, Piecewise and negative terms: integer code equals sympy on ints."""
    B, T, z = S.micro_batch, S.tp, S.zero_stage
    expr = (floor(B / (3 * T)) * Max(1, 7 * B / T, T / 5) - ceiling((B + k) / 4) * Min(B, 2 * T)
            + Piecewise((B / T, (B > T) & (z < 2)), (k * T / 9, z > 2), (B + k * T, True)) + k / (B * T * (z + 1)))
    f = compile_expr(expr, (B, T, z), exact=True)
    assert f._int is not None
    for zv in range(4):
        got = f(b, t, zv)
        want = expr.subs({B: b, T: t, z: zv})
        assert got == want and (type(got) is int) == want.is_Integer


def test_other_inputs_take_the_fraction_path():
    """Floats, Fractions, numpy ints, strings and values outside a symbol's sign go to the Fraction function."""
    np = pytest.importorskip("numpy")
    f = compile_expr(3 * S.micro_batch / (2 * S.tp), (S.micro_batch, S.tp), exact=True)
    assert f._int(5, 4) == Fraction(15, 8)
    for args in ((5.0, 4), (Fraction(5), 4), (np.int64(5), 4), ("5", 4), (True, 4), (5, -4)):
        assert f._int(*args) is SLOW
    assert f(0.5, 4) == Fraction(3, 16) and f("10", 3) == 5 and f(5, -4) == Fraction(-15, 8)


def test_unsupported_keeps_the_fraction_path():
    """A float coefficient or a symbolic power is not compiled to integer code; the Fraction path still runs."""
    with pytest.raises(Unsupported):
        int_function((S.tp,), S.tp ** S.tp)
    f = compile_expr(S.tp ** S.tp, (S.tp,), exact=True)
    assert f._int is None and f(3) == 27
