"""Serving solvers: every answer against brute-force evaluation of inference_memory (fits; the next allowed value does not)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from symcalc import Model
from symcalc.errors import SymcalcError
from symcalc.memory import inference_memory
from symcalc.solve import (max_serving_batch, max_serving_context, min_serving_devices, serving_tp_degrees)


def _model(L, g, group, dh, f, moe):
    extra = dict(n_experts=4, top_k=2) if moe else {}
    return Model(n_layers=L, d_model=g * group * dh, n_heads=g * group, n_kv_heads=g, d_head=dh, d_ff=f, vocab=97,
                 gated_mlp=True, norm="rmsnorm", **extra)


def _mem(model, **kw):
    return inference_memory(model, flash_attention=True, **kw).total


shapes = dict(L=st.sampled_from([2, 4, 6, 12]), g=st.sampled_from([1, 2, 4]), group=st.sampled_from([1, 2, 4]),
              dh=st.sampled_from([8, 16]), f=st.integers(8, 200), moe=st.booleans())


@given(**shapes, s=st.integers(1, 500), n=st.integers(1, 50), budget=st.integers(10**5, 10**8))
def test_max_serving_batch_against_brute_force(L, g, group, dh, f, moe, s, n, budget):
    """The largest batch fits the budget and one more sequence does not (or nothing fits and batch 1 is over)."""
    m = _model(L, g, group, dh, f, moe)
    sol = max_serving_batch(budget, m, seq_len=s, n_generate=n, flash_attention=True)
    if sol.feasible:
        b = sol.value
        assert _mem(m, seq_len=s, n_generate=n, micro_batch=b) <= budget < _mem(m, seq_len=s, n_generate=n,
                                                                                micro_batch=b + 1)
        assert sol.quantity == _mem(m, seq_len=s, n_generate=n, micro_batch=b)
    else:
        assert _mem(m, seq_len=s, n_generate=n, micro_batch=1) > budget


@given(**shapes, b=st.integers(1, 8), n=st.integers(1, 50), mult=st.sampled_from([1, 16, 128]),
       budget=st.integers(10**5, 10**8))
def test_max_serving_context_against_brute_force(L, g, group, dh, f, moe, b, n, mult, budget):
    """The longest prompt (a multiple of mult) fits and the next multiple does not."""
    m = _model(L, g, group, dh, f, moe)
    sol = max_serving_context(budget, m, micro_batch=b, n_generate=n, flash_attention=True, multiple_of=mult)
    if sol.feasible:
        s = sol.value
        assert s % mult == 0
        assert _mem(m, seq_len=s, n_generate=n, micro_batch=b) <= budget < _mem(m, seq_len=s + mult, n_generate=n,
                                                                                micro_batch=b)
    else:
        assert _mem(m, seq_len=mult, n_generate=n, micro_batch=b) > budget


@given(**shapes, b=st.integers(1, 8), s=st.integers(1, 300), budget=st.integers(10**4, 10**7))
def test_min_serving_devices_against_brute_force(L, g, group, dh, f, moe, b, s, budget):
    """The fewest devices t*p equal the minimum over every allowed (t, p) that fits, fewer stages first on ties."""
    m = _model(L, g, group, dh, f, moe)
    sol = min_serving_devices(budget, m, seq_len=s, micro_batch=b, flash_attention=True)
    fits = [(t * p, p, t) for t in serving_tp_degrees(m) for p in range(1, L + 1)
            if L % p == 0 and _mem(m, seq_len=s, micro_batch=b, tp=t, pp=p) <= budget]
    if not fits:
        assert not sol.feasible
        return
    n, p, t = min(fits)
    assert (sol.value, sol.pp, sol.tp) == (n, p, t)


def test_405b_at_32k_context_on_h100():
    """Llama 3.1 405B, 8 sequences of 32K tokens, bf16, prompts admitted one at a time: 14 H100 (TP 2 x PP 7)."""
    from symcalc.hardware import get

    sol = min_serving_devices(get("h100").memory, Model.preset("llama-3.1-405b"), seq_len=32768, micro_batch=8,
                              flash_attention=True, prefill_batch=1)
    assert (sol.value, sol.tp, sol.pp) == (14, 2, 7) and sol.method == "closed-form"
    tp_only = min_serving_devices(get("h100").memory, Model.preset("llama-3.1-405b"), seq_len=32768,
                                  micro_batch=8, flash_attention=True, prefill_batch=1, pp=1)
    assert not tp_only.feasible  # 810 GB of weights do not fit one 8-GPU TP group


def test_refuses_the_unknown_and_data_parallel_keywords():
    """The unknown given as a keyword, or dp/n_devices for one replica, is a one-line error."""
    m = Model.preset("llama-2-7b")
    for call in (lambda: max_serving_batch("80GB", m, micro_batch=2, seq_len=4),
                 lambda: max_serving_context("80GB", m, seq_len=4),
                 lambda: min_serving_devices("80GB", m, seq_len=4, micro_batch=1, n_devices=8)):
        with pytest.raises(SymcalcError) as err:
            call()
        assert "\n" not in str(err.value)
