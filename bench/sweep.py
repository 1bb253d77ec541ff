"""Vectorized sweeps against plain numpy and the cookbook-style loop, timed in the same run.

Targets (issue 14): fixed cost at most 5 µs per compiled function (one function per part group),
a full grid within 2x one full-size numpy add, flat lists of configurations at least 1e8/s, grids
larger than memory in bounded-memory blocks, dask arrays accepted (the same sweep, lazily, block by
block). Issue 6's targets (>= 1e7 configs/s, >= 200x a cookbook-style per-call loop) are kept.

- fixed cost: ``memory_grid`` over one configuration per (ZeRO stage, recompute policy), i.e.
  every compiled function on the smallest arrays, divided by the number of compiled functions it
  evaluates (two, one per part group; such a small grid calls their Python float versions,
  ``symcalc.sweep._small``); baseline: one numpy ufunc call on one-element arrays.
- full grid: llama-2-70b over 3.44M configurations (axes below); baseline: ``x + y`` of two
  float64 arrays of the grid's size (a new result array, as the sweep makes).
- flat: ``memory_points`` over the same 3.44M configurations given as flat int64 arrays (every
  degree, the micro-batch, the ZeRO stage and the policy, as its index), on the default threads
  (one per processor; the note gives one thread too); baseline: the same numpy add, per element.
- blocks: ``memory_blocks`` over a grid 64x the block size, counting configurations that fit;
  peak memory (tracemalloc, which sees numpy's buffers) against the full grid's bytes.
- dask: the same grid as a lazy dask array (``chunks=``), reduced by dask's scheduler; equal
  to the numpy grid, time against it.
Run: python bench/sweep.py
"""

from __future__ import annotations

import itertools
import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(__file__))
from _util import ISSUE_ADD_RATE, ISSUE_COOKBOOK_RATE, Target, best_of, table  # noqa: E402

AXES = dict(tp=[1, 2, 4, 8, 16, 32, 64], pp=[1, 2, 4, 5, 8, 10, 16, 20, 40, 80], dp=list(range(1, 65)),
            micro_batch=list(range(1, 65)), zero_stage=[0, 1, 2, 3], recompute=["none", "selective", "full"])
SEQ = 4096
GIB80 = 80 * 2**30


def _cookbook_rate(n: int = 100_000) -> float:
    """Configurations/s of the cookbook's calc_mem called per configuration (issue 6's baseline)."""
    from exact import cookbook_calls

    configs = list(itertools.islice(itertools.product(AXES["tp"], AXES["pp"], AXES["dp"], AXES["micro_batch"],
                                                      [SEQ], AXES["zero_stage"]), n))
    return n / best_of(lambda: cookbook_calls(configs), 2)


def main() -> list:
    import numpy as np

    from symcalc import Model
    from symcalc.sweep import memory_blocks, memory_grid, memory_points
    from symcalc.sweep._functions import RECOMPUTE, part_groups, resolved_settings
    from symcalc.sweep._points import default_threads
    from symcalc.sweep._small import _context

    m = Model.preset("llama-2-70b")
    kw = dict(seq_len=SEQ, sequence_parallel=True)
    out = []

    # Fixed cost: every compiled function on one configuration per discrete setting.
    tiny = dict(kw, tp=8, pp=4, dp=8, micro_batch=1, zero_stage=AXES["zero_stage"], recompute=AXES["recompute"])
    memory_grid(m, **tiny)
    n_functions = 2  # one per part group: model states, activations
    fixed = best_of(lambda: memory_grid(m, **tiny), 200)
    groups = part_groups(m, resolved_settings(m, dict(sequence_parallel=True)))
    one = [np.ones((1,)) for _ in range(6)]
    call = best_of(lambda: (groups.states.natural(*one), groups.activations.natural(*one)), 200) / 2
    small = _context(m, dict(sequence_parallel=True))  # what a small grid calls instead (symcalc.sweep._small)
    scalar = best_of(lambda: (small.states(8.0, 4.0, 8.0, 1.0, 1.0), small.acts(8.0, 4.0, 1.0, 1.0, 4096.0)), 200) / 2
    a1, b1 = np.ones(1), np.ones(1)
    ufunc = best_of(lambda: np.add(a1, b1), 2000)
    per_fn = fixed / n_functions
    out.append(Target("sweeps", "fixed cost <= 5 µs per compiled function", f"{per_fn * 1e6:.1f} µs",
                      f"{ufunc * 1e6:.2f} µs (one numpy ufunc call)", per_fn / ufunc, per_fn <= 5e-6,
                      f"whole call {fixed * 1e6:.1f} µs / {n_functions} functions; one part group's scalar function "
                      f"{scalar * 1e6:.1f} µs (its numpy function on 1-element arrays {call * 1e6:.0f} µs); "
                      "no issue figure for a ufunc call: judged on the absolute", limit="-", absolute=per_fn <= 5e-6))

    # Full grid against one full-size numpy add.
    grid_kw = dict(kw, **AXES)
    t0 = time.perf_counter()
    g = memory_grid(m, **grid_kw)
    cold = time.perf_counter() - t0
    n = g.total.size
    warm = best_of(lambda: memory_grid(m, **grid_kw), 7)
    x, y = np.random.rand(n), np.random.rand(n)
    add = best_of(lambda: x + y, 7)
    out.append(Target("sweeps", "full grid within 2x a full-size numpy add", f"{warm * 1e3:.1f} ms ({n:,} configs)",
                      f"{add * 1e3:.1f} ms (x + y, {n:,} float64)", warm / add, warm <= 2 * add, limit="<= 2x"))
    cb = _cookbook_rate()
    out.append(Target("sweeps (issue 6)", "grid >= 1e7 configs/s and >= 200x the cookbook per call",
                      f"{n / warm:.3g}/s", f"{cb:.3g}/s (cookbook calc_mem per call)", n / warm / cb,
                      n / warm / cb >= max(200, 1e7 / ISSUE_COOKBOOK_RATE), limit=f">= {max(200, 1e7 / ISSUE_COOKBOOK_RATE):.0f}x",
                      absolute=n / warm >= 1e7))

    # Flat lists: the same configurations, one array per input.
    idx = np.indices(g.total.shape).reshape(len(g.dims), -1)
    codes = {d: [RECOMPUTE.index(v) for v in g.coords[d]] if d == "recompute" else g.coords[d] for d in g.dims}
    flat = {d: np.asarray(codes[d], dtype=np.int64)[idx[i]] for i, d in enumerate(g.dims)}  # policies by index
    memory_points(m, **kw, **{d: v[:1000] for d, v in flat.items()})
    pts = best_of(lambda: memory_points(m, **kw, **flat), 3)
    pts_one = best_of(lambda: memory_points(m, **kw, **flat, threads=1), 3)
    same = np.allclose(memory_points(m, **kw, **{d: v[::997] for d, v in flat.items()}), g.total.reshape(-1)[::997],
                       rtol=1e-12, equal_nan=True)
    fixed_zr = {d: v for d, v in flat.items() if d not in ("zero_stage", "recompute")}
    sel = (flat["zero_stage"] == 1) & (flat["recompute"] == 1)
    one_setting = {d: v[sel] for d, v in fixed_zr.items()}
    pts1 = best_of(lambda: memory_points(m, **kw, **one_setting, zero_stage=1, recompute="selective"), 5)
    n1 = int(sel.sum())
    flat_limit = 1e8 / ISSUE_ADD_RATE
    out.append(Target("sweeps", "flat lists >= 1e8 configs/s", f"{n / pts:.3g}/s (every input an array)",
                      f"{n / add:.3g}/s (numpy add, elements)", (n / pts) / (n / add),
                      (n / pts) / (n / add) >= flat_limit and same,
                      f"one ZeRO stage and policy: {n1 / pts1:.3g}/s; equals the grid: {same}; "
                      f"{default_threads()} threads (threads=1: {n / pts_one:.3g}/s)",
                      limit=f">= {flat_limit:.3f}x", absolute=n / pts >= 1e8 and same))

    # Blocks: a grid 64x the block size, reduced block by block.
    block = 2**22
    big = dict(kw, tp=AXES["tp"], pp=AXES["pp"], dp=list(range(1, 257)), micro_batch=list(range(1, 129)),
               zero_stage=[0, 1, 2, 3], recompute=AXES["recompute"])
    full_bytes = 8 * 7 * 10 * 256 * 128 * 4 * 3
    tracemalloc.start()
    t0 = time.perf_counter()
    fit = sum(int(np.count_nonzero(b <= GIB80)) for _, b in memory_blocks(m, **big, block_bytes=block))
    blocks_s = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out.append(Target("sweeps", "grid larger than memory in bounded blocks", f"peak {peak / 2**20:.1f} MiB",
                      f"{full_bytes / 2**20:.0f} MiB (the whole grid)", peak / full_bytes, peak <= 2 * block + 2**21,
                      f"blocks of {block / 2**20:.0f} MiB; {fit:,} configurations fit 80 GiB; {blocks_s:.2f} s",
                      limit=f"<= {(2 * block + 2**21) / full_bytes:.3f}x"))

    # dask: the same grid lazily, reduced by dask's scheduler.
    try:
        import dask  # noqa: F401
    except ImportError:
        out.append(Target("sweeps", "dask arrays accepted", "-", "-", None, None, "dask not installed"))
    else:
        lazy = memory_grid(m, **grid_kw, chunks=2**24)
        t0 = time.perf_counter()
        count = int((lazy.total <= GIB80).sum().compute())
        dask_s = time.perf_counter() - t0
        want = int(np.count_nonzero(g.total <= GIB80))
        out.append(Target("sweeps", "dask: same grid, lazy, block by block", f"{dask_s * 1e3:.0f} ms ({count:,} fit)",
                          f"{warm * 1e3:.1f} ms (numpy grid)", dask_s / warm, count == want,
                          f"equals numpy: {count == want}; {lazy.total.npartitions} blocks", limit="equal"))

    table(f"sweeps: llama-2-70b, s={SEQ}", ("measure", "value"),
          [("grid: configurations", f"{n:,}"), ("grid: first call (builds, compiles)", f"{cold:.3f} s"),
           ("grid: compiled, best of 7", f"{warm * 1e3:.2f} ms"), ("numpy x + y, same size", f"{add * 1e3:.2f} ms"),
           ("flat: every input an array", f"{pts * 1e3:.1f} ms"),
           (f"flat: one (z, policy), {n1:,} configs", f"{pts1 * 1e3:.1f} ms"),
           ("tiny grid (12 settings x 1 config)", f"{fixed * 1e6:.1f} µs"), ("numpy ufunc, 1 element", f"{ufunc * 1e6:.2f} µs")])
    for t in out:
        print(f"{t.verdict}: {t.target}: {t.measured} vs {t.baseline}" + (f" ({t.note})" if t.note else ""))
    return out


if __name__ == "__main__":
    main()
