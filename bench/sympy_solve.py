"""sympy's own solve on symcalc's memory equations, by the route of symcalc.relax (target: well under 1 s).

Run: python bench/sympy_solve.py. Each case is ``sympy.solve(relax(Eq(total, 80 GiB)), relax(b))``
on Llama-2-7B's training memory with one more thing left symbolic: the ZeRO stage (the total is one
Piecewise over z), the data-parallel degree (ZeRO buffers conditional on d > 1), the TP degree of
GQA Mistral-7B (KV heads Max(1, g/t)), and the vocabulary of a padded model solved for itself
(ceiling relaxed to its smooth form). Times include relax(); the expression is built beforehand.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402

from sympy import Eq, solve  # noqa: E402

from symcalc import Model, params, training_memory  # noqa: E402
from symcalc import symbols as S  # noqa: E402
from symcalc.relax import relax  # noqa: E402

TARGET = 1.0


def main() -> dict:
    llama, mistral = Model.preset("llama-2-7b"), Model.preset("mistral-7b")
    budget = 80 * 2**30
    opts = dict(seq_len=4096, micro_batch=S.micro_batch, recompute="full", allgather_bucket=5 * 10**8)
    padded = Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, d_ff=11008, vocab_multiple=128,
                   gated_mlp=True, norm="rmsnorm")
    cases = [
        ("z symbolic (one Piecewise over z), b", training_memory(llama, zero_stage=S.zero_stage, n_devices=16, tp=2,
                                                                   **opts).total, budget, S.micro_batch),
        ("d symbolic (buffers when d > 1), b", training_memory(llama, zero_stage=1, dp=S.dp, tp=2, pp=2,
                                                                **opts).total, budget, S.micro_batch),
        ("t symbolic, Mistral-7B KV heads Max(1, g/t), b", training_memory(mistral, zero_stage=1, tp=S.tp, dp=1,
                                                                            **opts).total, budget, S.micro_batch),
        ("padded vocabulary v (ceiling relaxed)", params(padded).total, 7 * 10**9, S.vocab),
    ]
    rows, worst = [], 0.0
    for name, total, limit, unknown in cases:
        t0 = time.perf_counter()
        roots = solve(relax(Eq(total, limit)), relax(unknown))
        took = time.perf_counter() - t0
        worst = max(worst, took)
        rows.append((name, f"{took * 1e3:.0f}", len(roots)))
    table(f"sympy.solve on relaxed symcalc equations (target < {TARGET:.0f} s)", ("question", "ms", "roots"), rows)
    print(f"sympy_solve: {'MET' if worst < TARGET else 'MISSED'} (slowest {worst * 1e3:.0f} ms)")
    return {"worst": worst}


if __name__ == "__main__":
    main()
