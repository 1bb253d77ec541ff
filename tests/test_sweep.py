"""Vectorized sweeps (symcalc.sweep) against training_memory evaluated exactly, one configuration at a time."""

from __future__ import annotations

import itertools
import sys

import pytest
from hypothesis import given, settings, strategies as st

from symcalc import Model, SymcalcError, training_memory
from symcalc import symbols as S
from symcalc.sweep import memory_function, memory_grid

np = pytest.importorskip("numpy")


@st.composite
def gqa_models(draw):
    g = draw(st.sampled_from([1, 2, 4]))
    a = g * draw(st.sampled_from([1, 2, 4]))
    return Model(n_layers=draw(st.sampled_from([2, 4, 6])), d_model=a * 8, n_heads=a, n_kv_heads=g,
                 d_ff=draw(st.integers(8, 64)), vocab=draw(st.integers(10, 300)), gated_mlp=draw(st.booleans()))


@settings(max_examples=8)
@given(gqa_models(), st.booleans(), st.booleans())
def test_grid_equals_exact_per_configuration(model, buffers, flash):
    """Every entry of the grid equals training_memory with those numbers, to 1e-12 (NaN where invalid)."""
    settings = dict(sequence_parallel=True, flash_attention=flash,
                    allgather_bucket=1000 if buffers else 0, max_live_params=500 if buffers else 0)
    axes = dict(tp=[1, 2, 4, 8, 3], pp=[1, 2, 3], dp=[1, 2, 4], micro_batch=[1, 3], zero_stage=[0, 1, 2, 3],
                recompute=["none", "selective", "full"])
    g = memory_grid(model, seq_len=16, **axes, **settings)
    assert g.dims == ("zero_stage", "recompute", "tp", "dp", "pp", "micro_batch")
    for idx in itertools.product(*(range(len(g.coords[d])) for d in g.dims)):
        cfg = g.sel(idx)
        got = g.total[idx]
        valid = model.n_heads % cfg["tp"] == 0 and model.n_layers % cfg["pp"] == 0 and (
            model.n_kv_heads % cfg["tp"] == 0 or cfg["tp"] % model.n_kv_heads == 0)
        if not valid:
            assert np.isnan(got)
            continue
        want = float(training_memory(model, seq_len=16, **cfg, **settings).total)
        assert abs(got - want) <= 1e-12 * want
        parts = sum(float(np.broadcast_to(p, g.total.shape)[idx]) for p in g.parts.values())
        assert abs(parts - got) <= 1e-12 * want


def test_moe_expert_parallel_validity():
    """For MoE, e must divide the experts and d; elsewhere the grid equals the exact memory."""
    m = Model(n_layers=2, d_model=32, n_heads=4, n_kv_heads=4, d_ff=64, vocab=100, n_experts=4, top_k=2)
    g = memory_grid(m, seq_len=8, dp=[1, 2, 4], ep=[1, 2, 3, 4], zero_stage=1)
    for (i, d), (j, e) in itertools.product(enumerate(g.coords["dp"]), enumerate(g.coords["ep"])):
        if d % e or 4 % e:
            assert np.isnan(g.total[i, j])
        else:
            want = float(training_memory(m, seq_len=8, micro_batch=1, dp=d, ep=e, zero_stage=1).total)
            assert abs(g.total[i, j] - want) <= 1e-12 * want


def test_dense_model_with_ep_is_invalid():
    """ep > 1 on a dense model is NaN, not a number."""
    g = memory_grid(Model.preset("gpt2"), seq_len=128, ep=[1, 2])
    assert not np.isnan(g.total[0]) and np.isnan(g.total[1])


def test_symbolic_model_refused():
    """A model with free sizes is a one-line error naming them."""
    with pytest.raises(SymcalcError, match="d_model"):
        memory_grid(Model(), seq_len=8)


def test_without_numpy(monkeypatch):
    """Without numpy, a sweep is a one-line error saying how to install it."""
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(SymcalcError, match=r"pip install 'symcalc\[numpy\]'"):
        memory_grid(Model.preset("gpt2"), seq_len=128)


def test_regimes_out_of_order_and_memory_function():
    """With dp = 1 between other degrees (its own compiled regime) and tp that replicates KV heads, every
    entry and every part still equals training_memory; memory_function's total is the sum of its parts."""
    m = Model(n_layers=4, d_model=64, n_heads=8, n_kv_heads=2, d_ff=96, vocab=50)
    settings = dict(sequence_parallel=True, allgather_bucket=1000, max_live_params=500)
    g = memory_grid(m, seq_len=16, dp=[2, 1, 4], tp=[4, 1, 8, 2], micro_batch=[2, 1], zero_stage=[3, 1], **settings)
    for idx in itertools.product(*(range(len(g.coords[d])) for d in g.dims)):
        cfg = g.sel(idx)
        bd = training_memory(m, seq_len=16, **cfg, **settings).grouped()
        assert abs(g.total[idx] - float(bd.total)) <= 1e-12 * float(bd.total)
        for name, arr in g.parts.items():
            assert abs(np.broadcast_to(arr, g.total.shape)[idx] - float(bd[name])) <= 1e-12 * float(bd.total)
    fn = memory_function(m, zero_stage=3, tp=S.tp, dp=S.dp, **settings)
    *parts, total = fn(2, 1, 4, 1, 1, 2, 16)
    assert fn.names[-1] == "total" and abs(sum(parts) - total) <= 1e-12 * total
