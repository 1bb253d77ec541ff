"""Flat sweeps (memory_points) on long lists: threads, chunk-wise code checks, the table path against the per-setting path."""

from __future__ import annotations

import pytest

from symcalc import Model, SymcalcError, training_memory

np = pytest.importorskip("numpy")

M = Model(n_layers=8, d_model=256, n_heads=8, n_kv_heads=2, d_ff=512, vocab=1000)


def _long(n: int = 2**18 + 12_345, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return dict(tp=rng.choice([1, 2, 3, 4, 8], n), pp=rng.choice([1, 2, 3, 4, 8], n), dp=rng.integers(1, 65, n),
                micro_batch=rng.integers(1, 17, n), zero_stage=rng.integers(0, 4, n), recompute=rng.integers(0, 3, n))


def test_threads_give_the_same_array():
    """Split between threads or on one thread, a list of 2^18+ configurations gives the same floats bit for bit."""
    from symcalc.sweep import memory_points

    cols = _long()
    one = memory_points(M, seq_len=512, **cols, threads=1)
    two = memory_points(M, seq_len=512, **cols, threads=2)
    four = memory_points(M, seq_len=512, **cols, threads=4, chunk=1000)
    assert np.array_equal(one, two, equal_nan=True) and np.array_equal(one, four, equal_nan=True)
    assert np.isnan(one[cols["tp"] == 3]).all() and not np.isnan(one[(cols["tp"] != 3) & (cols["pp"] != 3)]).any()


def test_sampled_rows_equal_training_memory():
    """Rows of a long threaded list equal training_memory with those numbers, to 1e-12."""
    from symcalc.sweep import memory_points

    cols = _long(seed=1)
    got = memory_points(M, seq_len=512, **cols, threads=2)
    for i in range(0, got.size, 20_011):
        cfg = {k: int(v[i]) for k, v in cols.items()}
        if cfg["tp"] == 3 or cfg["pp"] == 3:
            assert np.isnan(got[i])
            continue
        cfg["recompute"] = ("none", "selective", "full")[cfg["recompute"]]
        want = float(training_memory(M, seq_len=512, **cfg).total)
        assert abs(got[i] - want) <= 1e-12 * want


@pytest.mark.parametrize("name, bad, message", [("zero_stage", 5, "zero_stage"), ("zero_stage", -1, "zero_stage"),
                                                ("recompute", 3, "recompute holds 3")])
def test_code_out_of_range_far_into_the_list(name, bad, message):
    """A ZeRO stage or policy code out of range deep inside a long list is a one-line error naming it (no NaN, no wrap)."""
    from symcalc.sweep import memory_points

    cols = _long()
    cols[name] = cols[name].copy()
    cols[name][-7] = bad
    for threads in (1, 2):
        with pytest.raises(SymcalcError, match=message):
            memory_points(M, seq_len=512, **cols, threads=threads)


def test_table_path_equals_the_per_setting_path(monkeypatch):
    """The coefficient tables give the totals of the compiled per-(z, policy) functions, to 1e-12."""
    from symcalc.sweep import _tables, memory_points

    cols = {k: v[:5000] for k, v in _long(seed=2).items()}
    cols["micro_batch"] = cols["micro_batch"].astype(np.float64) / 2  # a float column: a monomial, not a table
    fast = memory_points(M, seq_len=512, **cols)
    monkeypatch.setattr(_tables, "TABLE_LIMIT", 0)
    slow = memory_points(M, seq_len=512, **cols)
    assert np.allclose(fast, slow, rtol=1e-12, equal_nan=True)


def test_threads_refused_below_one():
    """threads=0 is a one-line error naming the argument."""
    from symcalc.sweep import memory_points

    with pytest.raises(SymcalcError, match="threads"):
        memory_points(M, seq_len=512, tp=[1, 2], threads=0)


@pytest.mark.parametrize("late", [8, 5, -2])
def test_a_value_outside_the_sample_is_still_exact(late):
    """A degree larger (or negative) than every sampled one, deep inside the list, is planned again: the rows stay exact."""
    from symcalc.sweep import memory_points

    cols = _long(seed=3)
    cols["tp"] = np.ones_like(cols["tp"])
    cols["tp"][100_003] = late  # not a sampled position (every n/4096-th and the last)
    for threads in (1, 2):
        got = memory_points(M, seq_len=512, **cols, threads=threads)
        cfg = {k: int(v[100_003]) for k, v in cols.items()}
        cfg["recompute"] = ("none", "selective", "full")[cfg["recompute"]]
        if late in (5, -2) or cfg["pp"] == 3:
            assert np.isnan(got[100_003])
        else:
            want = float(training_memory(M, seq_len=512, **cfg).total)
            assert abs(got[100_003] - want) <= 1e-12 * want
        head = memory_points(M, seq_len=512, **{k: v[:100_003] for k, v in cols.items()})
        assert np.allclose(got[:100_003], head, rtol=1e-12, equal_nan=True)  # a negative t: tables over other degrees
