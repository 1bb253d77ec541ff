"""The exact path (int/Fraction) against the cookbook's own per-configuration function, in the same run.

Target (issue 14): at least 2e5 configurations/s on the exact path, identical results. A
configuration is (t, p, d, b, s, z) for llama-2-70b; the exact path evaluates the training-memory
total (one Piecewise over the ZeRO stage) compiled once by ``symcalc.numeric.compile_expr(...,
exact=True)`` over a list of int rows (``CompiledExpr.many``). The baseline is the cookbook's
``calc_mem(args)`` (bench/cookbook_mem.py) called per configuration on an args namespace, float
arithmetic, no printing. Also shown: the whole breakdown per configuration, and the Fraction
function alone (the path before issue 14, still taken for non-int inputs).
Run: python bench/exact.py
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from fractions import Fraction
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(__file__))
from _util import ISSUE_COOKBOOK_RATE, Target, best_of, table  # noqa: E402

TARGET = 2e5
AXES = dict(tp=[1, 2, 4, 8, 16], pp=[1, 2, 4, 5, 8, 10], dp=list(range(1, 33)), micro_batch=[1, 2, 3, 4, 8],
            seq_len=[2048, 4096], zero_stage=[0, 1, 2, 3])


def rows() -> list:
    return list(itertools.product(*AXES.values()))


def cookbook_calls(configs) -> list:
    """The baseline: the cookbook's calc_mem per configuration (llama-2-70b sizes, cookbook argument names)."""
    from cookbook_mem import calc_mem

    base = dict(num_layers=80, hidden_size=8192, num_attention_heads=64, vocab_size=32000, ffn_expansion_factor=3.5,
                num_mlp_linears=3, kv_size_ratio=0.125, partition_activations=True, checkpoint_activations=False)
    out = []
    for t, p, d, b, s, z in configs:
        args = SimpleNamespace(**base, tensor_parallel_size=t, pipeline_parallel_size=p, num_gpus=t * p * d,
                               batch_size_per_gpu=b, sequence_length=s, zero_stage=z)
        out.append(calc_mem(args))
    return out


def main() -> list:
    from symcalc import Model, training_memory
    from symcalc import symbols as S
    from symcalc.numeric import compile_breakdown, compile_expr

    m = Model.preset("llama-2-70b")
    args = (S.tp, S.pp, S.dp, S.micro_batch, S.seq_len, S.zero_stage)
    bd = training_memory(m, seq_len=S.seq_len, micro_batch=S.micro_batch, tp=S.tp, pp=S.pp, dp=S.dp,
                         zero_stage=S.zero_stage, recompute="selective", sequence_parallel=True)
    t0 = time.perf_counter()
    total = compile_expr(bd.total, args, exact=True)
    parts = compile_breakdown(bd.grouped(), args, exact=True)
    compile_s = time.perf_counter() - t0
    configs = rows()
    fractions = [tuple(Fraction(v) for v in r) for r in configs[:3000]]
    exact = best_of(lambda: total.many(configs), 3)
    breakdown = best_of(lambda: parts.many(configs), 3)
    slow = best_of(lambda: total.many(fractions), 2) * len(configs) / len(fractions)
    cookbook = best_of(lambda: cookbook_calls(configs), 3)
    same = total.many(configs[:2000]) == total.many(fractions[:2000])
    n = len(configs)
    rate, cb_rate = n / exact, n / cookbook
    table(f"exact path over {n:,} configurations of llama-2-70b (compiled in {compile_s:.2f} s)",
          ("method", "configs/s", "vs cookbook calc_mem"),
          [("cookbook calc_mem per configuration (baseline, floats)", f"{cb_rate:.3g}", "1x"),
           ("exact total, int rows (integer code)", f"{rate:.3g}", f"{rate / cb_rate:.2f}x"),
           ("exact breakdown (6 parts + total), int rows", f"{n / breakdown:.3g}", f"{n / breakdown / cb_rate:.2f}x"),
           ("exact total, Fraction rows (the Fraction function)", f"{n / slow:.3g}", f"{n / slow / cb_rate:.2f}x")])
    limit = TARGET / ISSUE_COOKBOOK_RATE
    met = rate / cb_rate >= limit and same
    print(f"exact path: {'MET' if met else 'MISSED'} ({rate / cb_rate:.2f}x the cookbook function vs {limit:.2f}x; "
          f"{rate:.3g}/s vs {TARGET:.0e}/s; integer code {'equals' if same else 'DIFFERS FROM'} the Fraction path)")
    return [Target("exact path", "exact total >= 2e5 configs/s, identical results", f"{rate:.3g}/s",
                   f"{cb_rate:.3g}/s (cookbook calc_mem per call)", rate / cb_rate, met, limit=f">= {limit:.2f}x",
                   absolute=rate >= TARGET and same, note=f"identical to the Fraction path: {same}")]


if __name__ == "__main__":
    main()
