"""Vectorized training-memory breakdown vs a per-configuration Python loop (cookbook-style arithmetic).

Targets (issue #6): >= 1e7 configurations/s and >= 200x the loop. Also: time to build every
breakdown (params, FLOPs, training and inference memory) of a numeric model, in a fresh process.
Run: python bench/sweep.py
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _util import best_of, table  # noqa: E402

from symcalc import Model  # noqa: E402
from symcalc.sweep import memory_grid  # noqa: E402

AXES = dict(tp=[1, 2, 4, 8, 16, 32, 64], pp=[1, 2, 4, 5, 8, 10, 16, 20, 40, 80], dp=list(range(1, 65)),
            micro_batch=list(range(1, 65)), zero_stage=[0, 1, 2, 3], recompute=["none", "selective", "full"])
SEQ = 4096


def cookbook_loop(configs, L=80, h=8192, a=64, v=32000, s=SEQ, n_params=68_976_648_192):
    """The cookbook's calc_transformer_mem.py arithmetic, one configuration at a time (plain floats)."""
    out = []
    for tp, pp, dp, b, z, r in configs:
        # model states (ZeRO, mixed precision Adam: 2 + 2 + 12 bytes per parameter)
        psi = n_params / (tp * pp)
        w, g, o = 2 * psi, 2 * psi, 12 * psi
        if z >= 1:
            o /= dp
        if z >= 2:
            g /= dp
        if z >= 3:
            w /= dp
        # Korthikanti activations per layer, with sequence parallelism
        if r == "full":
            act = 2 * s * b * h / tp
        elif r == "selective":
            act = s * b * h * 34 / tp
        else:
            act = s * b * h * (34 + 5 * a * s / h) / tp
        out.append(w + g + o + act * L + 4 * s * b * v / tp)
    return out


def main() -> dict:
    m = Model.preset("llama-2-70b")
    kw = dict(seq_len=SEQ, sequence_parallel=True, **AXES)
    t0 = time.perf_counter()
    g = memory_grid(m, **kw)
    cold = time.perf_counter() - t0
    n = g.total.size
    warm = best_of(lambda: memory_grid(m, **kw), 5)
    configs = list(itertools.islice(itertools.product(AXES["tp"], AXES["pp"], AXES["dp"], AXES["micro_batch"],
                                                      AXES["zero_stage"], AXES["recompute"]), 200_000))
    loop = best_of(lambda: cookbook_loop(configs), 3)
    rate, loop_rate = n / warm, len(configs) / loop
    table(f"training-memory breakdown over {n:,} configurations (llama-2-70b, s={SEQ})",
          ("method", "configs", "seconds", "configs/s", "vs loop"),
          [("python loop, cookbook arithmetic (baseline)", f"{len(configs):,}", f"{loop:.3f}", f"{loop_rate:.3g}", "1x"),
           ("memory_grid, first call (compiles)", f"{n:,}", f"{cold:.3f}", f"{n / cold:.3g}", f"{n / cold / loop_rate:.0f}x"),
           ("memory_grid, compiled (best of 5)", f"{n:,}", f"{warm:.3f}", f"{rate:.3g}", f"{rate / loop_rate:.0f}x")])
    print(f"sweep: {'MET' if rate >= 1e7 and rate / loop_rate >= 200 else 'MISSED'} "
          f"({rate:.3g}/s vs 1e7/s; {rate / loop_rate:.0f}x vs 200x)")
    build = subprocess.run([sys.executable, "-c", BUILD], capture_output=True, text=True, check=True).stdout.split()
    table("building every breakdown of a numeric model (fresh process, after import)", ("model", "seconds"),
          [(name, sec) for name, sec in zip(build[::2], build[1::2])])
    return {"rate": rate, "loop_rate": loop_rate}


BUILD = """
import time
from symcalc import Model, params, training_flops, training_memory, inference_memory
for name in ("llama-2-7b", "mixtral-8x7b", "gpt2"):
    m = Model.preset(name)
    t0 = time.perf_counter()
    params(m); training_flops(m, seq_len=4096, batch=1, recompute="full")
    training_memory(m, seq_len=4096, micro_batch=1, tp=2, dp=8, zero_stage=1, recompute="selective")
    inference_memory(m, seq_len=4096, micro_batch=1)
    print(name, f"{time.perf_counter() - t0:.3f}")
"""

if __name__ == "__main__":
    main()
