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


#: Issue 10's structures: MLA with MoE and EP, sliding windows (shorter and longer than s), sinks.
STRUCTURES = ("deepseek-v2-lite", "gemma-3-1b", "gpt-oss-20b")


def _structure_grid(name):
    m = Model.preset(name)
    axes = dict(tp=[1, 2, 4], dp=[2, 4], micro_batch=[1, 3], zero_stage=[0, 3], recompute=["none", "full"],
                seq_len=[256, 4096])
    if m.is_moe:
        axes["ep"] = [1, 2]
    return m, axes, memory_grid(m, **axes)


@pytest.mark.parametrize("name", STRUCTURES)
def test_structures_grid_equals_exact(name):
    """On MLA/MoE with EP, windowed and sink models, every grid entry equals the exact training-memory
    expression at those numbers, and sampled entries equal training_memory called with the numbers."""
    from symcalc.numeric import compile_expr

    m, axes, g = _structure_grid(name)
    ep = S.ep if m.is_moe else 1
    args = (S.tp, S.dp, S.ep, S.micro_batch, S.zero_stage, S.seq_len)
    fns = {r: compile_expr(training_memory(m, seq_len=S.seq_len, micro_batch=S.micro_batch, tp=S.tp, dp=S.dp, ep=ep,
                                           zero_stage=S.zero_stage, recompute=r).total, args, exact=True)
           for r in axes["recompute"]}
    indices = list(itertools.product(*(range(len(g.coords[d])) for d in g.dims)))
    for k, idx in enumerate(indices):
        cfg = dict(dict(ep=1), **g.sel(idx))
        if m.is_moe and cfg["dp"] % cfg["ep"]:
            assert np.isnan(g.total[idx])
            continue
        want = fns[cfg["recompute"]](cfg["tp"], cfg["dp"], cfg["ep"], cfg["micro_batch"], cfg["zero_stage"], cfg["seq_len"])
        assert abs(g.total[idx] - float(want)) <= 1e-12 * float(want)
        if k % 23 == 0:
            assert want == training_memory(m, **cfg).total


@pytest.mark.parametrize("name", STRUCTURES)
def test_points_and_blocks_equal_the_grid(name):
    """memory_points on the grid's configurations as flat arrays, and memory_blocks put together, equal memory_grid."""
    from symcalc.sweep import memory_blocks, memory_points

    m, axes, g = _structure_grid(name)
    idx = np.indices(g.total.shape).reshape(len(g.dims), -1)
    flat = {d: np.asarray(g.coords[d], dtype=object if d == "recompute" else np.int64)[idx[i]]
            for i, d in enumerate(g.dims)}
    got = memory_points(m, **flat, chunk=7)
    assert np.allclose(got, g.total.reshape(-1), rtol=1e-12, equal_nan=True)
    whole = np.full(g.total.shape, -1.0)
    for index, block in memory_blocks(m, **axes, block_bytes=8 * 5):
        whole[index] = block
    assert np.array_equal(whole, g.total, equal_nan=True)


def test_points_take_narrow_integer_arrays():
    """memory_points on int8/uint8 degree, stage and policy-index arrays equals the same points as int64."""
    from symcalc.sweep import memory_points

    m, axes, g = _structure_grid(STRUCTURES[0])
    idx = np.indices(g.total.shape).reshape(len(g.dims), -1)
    flat = {d: np.asarray(g.coords[d], dtype=object if d == "recompute" else np.int64)[idx[i]]
            for i, d in enumerate(g.dims)}
    want = memory_points(m, **flat)
    if "recompute" in flat:
        flat["recompute"] = np.asarray([("none", "selective", "full").index(r) for r in flat["recompute"]])
    for dtype in (np.int8, np.uint8):
        narrow = {d: (v.astype(dtype) if d != "seq_len" else v) for d, v in flat.items()}
        assert np.array_equal(memory_points(m, **narrow), want, equal_nan=True)


def test_points_mark_invalid_degrees():
    """memory_points gives NaN for t not dividing the heads, p not dividing the layers, e > 1 dense, float degrees."""
    from symcalc.sweep import memory_points

    m = Model(n_layers=4, d_model=64, n_heads=8, n_kv_heads=2, d_ff=96, vocab=50)
    got = memory_points(m, seq_len=16, tp=[1, 3, 2, 1, 1], pp=[1, 1, 3, 1, 1], ep=[1, 1, 1, 2, 1], zero_stage=1)
    assert np.isnan(got[1:4]).all() and not np.isnan(got[[0, 4]]).any()
    assert np.isnan(memory_points(m, seq_len=16, tp=np.asarray([1.5, 2.0]))[0])
    with pytest.raises(SymcalcError, match="one value per configuration"):
        memory_points(m, seq_len=16, tp=[[1, 2]])


def test_dask_inputs_give_the_same_sweep():
    """dask arrays in (or chunks=) give lazy dask results equal to the numpy sweep, grid and flat."""
    da = pytest.importorskip("dask.array")
    from symcalc.sweep import memory_points

    m, axes, g = _structure_grid("deepseek-v2-lite")
    lazy = memory_grid(m, **dict(axes, dp=da.from_array(np.asarray(axes["dp"]))), chunks=64)
    assert hasattr(lazy.total, "dask") and lazy.total.npartitions > 1
    assert np.array_equal(lazy.total.compute(), g.total, equal_nan=True)
    tp = da.from_array(np.asarray([1, 2, 4, 8] * 50), chunks=37)
    got = memory_points(m, seq_len=4096, tp=tp, dp=4, ep=2, zero_stage=[0, 1, 2, 3] * 50)
    assert hasattr(got, "dask")
    assert np.array_equal(got.compute(), memory_points(m, seq_len=4096, tp=tp.compute(), dp=4, ep=2,
                                                       zero_stage=[0, 1, 2, 3] * 50), equal_nan=True)
