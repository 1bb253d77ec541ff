"""Small grids (symcalc.sweep._small): the scalar part groups give the numpy path's floats bit for bit; parts on first use."""

from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given, settings, strategies as st

from symcalc import Model, SymcalcError
from symcalc.presets import preset_names
from symcalc.sweep import memory_grid

np = pytest.importorskip("numpy")

STAGES, POLICIES = [0, 1, 2, 3], ["none", "selective", "full"]


def _general(model, **kw):
    """The same grid through the general path: numpy integers are not plain ints, so the small path passes."""
    out = {}
    for k, v in kw.items():
        if k in ("tp", "pp", "dp", "ep", "cp", "micro_batch", "seq_len"):
            v = np.int64(v) if type(v) is int else np.asarray(v, dtype=np.int64)
        out[k] = v
    return memory_grid(model, **out)


def _same(a, b) -> None:
    assert a.dims == b.dims and a.coords == b.coords
    assert a.total.shape == b.total.shape and a.total.dtype == b.total.dtype
    assert np.array_equal(a.total, b.total, equal_nan=True)
    assert a.total.tobytes() == b.total.tobytes() or np.isnan(b.total).any()


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_small_grid_equals_the_numpy_path(name):
    """For every preset, all ZeRO stages x policies at one layout (and a few layouts) equal the numpy path bit for bit."""
    from symcalc.sweep._small import _context

    m = Model.preset(name)
    ep = 2 if m.is_moe and int(m.n_experts) % 2 == 0 else 1
    for kw in (dict(seq_len=4096, tp=1, pp=1, dp=8, ep=ep, zero_stage=STAGES, recompute=POLICIES),
               dict(seq_len=2048, tp=[1, 2], dp=[ep, 4 * ep], ep=ep, micro_batch=[1, 3], zero_stage=STAGES,
                    recompute="selective", sequence_parallel=True)):
        _same(memory_grid(m, **kw), _general(m, **kw))
    assert _context(m, {}).states is not None  # the scalar groups cover the preset (no fallback)


@st.composite
def small_grids(draw):
    g = draw(st.sampled_from([1, 2, 4]))
    a = g * draw(st.sampled_from([1, 2, 4]))
    m = Model(n_layers=draw(st.sampled_from([2, 4, 6])), d_model=a * 8, n_heads=a, n_kv_heads=g,
              d_ff=draw(st.integers(8, 64)), vocab=draw(st.integers(10, 300)), gated_mlp=draw(st.booleans()))
    axis = lambda values: st.one_of(st.sampled_from(values), st.lists(st.sampled_from(values), min_size=1, max_size=3))  # noqa: E731
    kw = dict(seq_len=draw(axis([1, 64, 4096])), micro_batch=draw(axis([1, 2, 7])), tp=draw(axis([1, 2, 4])),
              pp=draw(axis([1, 2])), dp=draw(axis([1, 2, 5])), zero_stage=draw(axis(STAGES)),
              recompute=draw(axis(POLICIES)), sequence_parallel=draw(st.booleans()), flash_attention=draw(st.booleans()))
    return m, kw


@settings(max_examples=40, deadline=None)
@given(small_grids())
def test_small_grids_equal_the_numpy_path(case):
    """Random small grids (axes or scalars, t above the KV heads included) equal the numpy path bit for bit, parts too."""
    m, kw = case
    small, general = memory_grid(m, **kw), _general(m, **kw)
    _same(small, general)
    assert list(small.parts) == list(general.parts)
    for name, arr in general.parts.items():
        assert np.array_equal(small.parts[name], arr, equal_nan=True)


def test_parts_are_a_dict_filled_on_first_use():
    """Sweep.parts of a small grid is a dict: keys, items, membership, equality, JSON and pickle see the parts."""
    m = Model.preset("llama-2-7b")
    g = memory_grid(m, seq_len=4096, dp=8, zero_stage=STAGES, recompute=POLICIES)
    assert isinstance(g.parts, dict) and "weights" in g.parts and len(g.parts) == 6
    want = _general(m, seq_len=4096, dp=8, zero_stage=STAGES, recompute=POLICIES).parts
    assert g.parts.keys() == want.keys()
    again = pickle.loads(pickle.dumps(memory_grid(m, seq_len=4096, dp=8, zero_stage=1).parts))
    assert type(again) is dict and set(again) == set(want)
    assert json.loads(json.dumps({k: v.tolist() for k, v in g.parts.items()}))["weights"]
    total = sum(np.broadcast_to(v, g.total.shape) for v in g.parts.values())
    assert np.allclose(total, g.total, rtol=1e-12)


def test_small_path_errors_are_the_general_paths():
    """Bad input on a small grid gives the general path's one-line errors; zero or invalid degrees its inf/NaN."""
    m = Model.preset("llama-2-7b")
    with pytest.raises(SymcalcError, match="zero_stage"):
        memory_grid(m, seq_len=4096, zero_stage=[1, 4])
    with pytest.raises(SymcalcError, match="recompute"):
        memory_grid(m, seq_len=4096, recompute=["none", "some"])
    with pytest.raises(SymcalcError, match="is a str, not a Model"):
        memory_grid("llama-2-7b", seq_len=4096)
    with pytest.raises(SymcalcError, match="tp"):
        memory_grid(m, seq_len=4096, precision="bf16", tp=[])
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero degree: numpy's inf or NaN, as on the general path
        _same(memory_grid(m, seq_len=4096, dp=[0, 1]), _general(m, seq_len=4096, dp=[0, 1]))
    _same(memory_grid(m, seq_len=4096, tp=[1, 3], pp=[1, 3]), _general(m, seq_len=4096, tp=[1, 3], pp=[1, 3]))
