"""The planner (issue 14's targets; they belong to the planner rework, measured here against baselines).

Targets: first call at most 0.25 s; exact re-check at most 0.05 ms a row; ``plan(top=None)`` over
every candidate at most 2 s; flat in the device count up to 32,768 GPUs (here: a plan on 32,768
GPUs within 1.5x the same plan on 64). Problem: mixtral-8x7b, s = 4096, 80 GiB per GPU, 989
TFLOP/s, global batch 2^13·3^2·5·7 sequences (many divisors), micro-batch up to 2048, TP up to 32.
The first call is also timed for llama-2-7b and llama-2-70b. Each measurement runs in a fresh
process (the modules plan() uses imported before timing, numpy and ``sympy.tensor.tensor`` — which
sympy imports on the first evaluated ``Add`` of any process — included, so the first call is building
and compiling), with a time limit. Baselines in the same run: a bare
``import sympy`` process, and the cookbook's calc_mem per configuration (for the per-row cost).
Run: python bench/plan.py [timeout_s]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _util import ISSUE_COOKBOOK_RATE, ISSUE_IMPORT_SYMPY_S, ROOT, Target, _env, best_of, table, wall  # noqa: E402

PROBLEM = dict(global_batch=2**13 * 3**2 * 5 * 7, max_micro_batch=2048, max_tp=32, memory=80 * 2**30,
               peak_flops=989 * 10**12, seq_len=4096)

CODE = """
import json, sys, time
import numpy, symcalc.flops, symcalc.memory
import sympy.tensor.tensor  # sympy's own lazy import on the first evaluated Add (~50 ms), not the planner's work
from symcalc import Model
from symcalc.plan import plan
m = Model.preset(sys.argv[3])
kw = json.loads(sys.argv[1]); what = sys.argv[2]; n = kw.pop("n"); kw.pop("n_devices")
t0 = time.perf_counter(); res = plan(m, n_devices=n, top=10, **kw); first = time.perf_counter() - t0
out = dict(first=first, candidates=res.n_candidates, fit=res.n_fit)
def best(fn, k=3):
    b = float("inf")
    for _ in range(k):
        t0 = time.perf_counter(); fn(); b = min(b, time.perf_counter() - t0)
    return b
if what == "rows":
    out["k"] = min(1000, res.n_fit)
    # once unmeasured: the first run compiles the exact functions of the (z, r) the extra rows need, a fixed
    # cost per (z, r), not a per-row one; then both warm, interleaved, best of 7 each (a scheduling hiccup on
    # a shared machine is as long as the difference)
    plan(m, n_devices=n, top=out["k"], **kw)
    top1, topk = float("inf"), float("inf")
    for _ in range(7):
        top1 = min(top1, best(lambda: plan(m, n_devices=n, top=1, **kw), 1))
        topk = min(topk, best(lambda: plan(m, n_devices=n, top=out["k"], **kw), 1))
    out["top1"], out["topk"] = top1, topk
elif what == "first":
    pass
elif what == "all":
    out["all"] = best(lambda: plan(m, n_devices=n, top=None, **kw), 1)
else:  # ~20 ms a call: best of 9, as one scheduling hiccup on a shared machine is as long as the call
    out["top10"] = best(lambda: plan(m, n_devices=n, top=10, **kw), 9)
print(json.dumps(out))
"""


def _run(n: int, what: str, timeout: float, model: str = "mixtral-8x7b"):
    kw = dict(PROBLEM, n_devices=n, n=n)
    try:
        proc = subprocess.run([sys.executable, "-c", CODE, json.dumps(kw), what, model], capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT, env=_env())
    except subprocess.TimeoutExpired:
        return None
    return json.loads(proc.stdout.splitlines()[-1]) if proc.returncode == 0 else None


def main(timeout: float = 120.0) -> list:
    from exact import cookbook_calls

    sympy_import = wall([sys.executable, "-c", "import sympy"], 3)[1]
    configs = [(8, 2, d, 1, 4096, 1) for d in range(1, 2001)]
    per_call = best_of(lambda: cookbook_calls(configs), 3) / len(configs)
    base, every = _run(4096, "rows", timeout), _run(4096, "all", timeout)
    small, large = _run(64, "flat", timeout), _run(32768, "flat", timeout)
    others = {name: _run(4096, "first", timeout, name) for name in ("llama-2-7b", "llama-2-70b")}
    out, rows = [], []
    sp = f"{sympy_import:.3f} s (import sympy)"
    if base is None:
        out += [Target("planner", t, f"> {timeout:.0f} s or failed", sp, None, False)
                for t in ("first call <= 0.25 s", "exact re-check <= 0.05 ms a row")]
    else:
        rows += [("4096 GPUs: candidates / fit", f"{base['candidates']:,} / {base['fit']:,}"),
                 ("first call (top 10)", f"{base['first']:.3f} s"), ("top=1, compiled", f"{base['top1']:.3f} s"),
                 (f"top={base['k']}, compiled", f"{base['topk']:.3f} s")]
        out.append(Target("planner", "first call <= 0.25 s (mixtral-8x7b)", f"{base['first']:.3f} s", sp, base["first"] / sympy_import,
                          base["first"] / sympy_import <= 0.25 / ISSUE_IMPORT_SYMPY_S,
                          limit=f"<= {0.25 / ISSUE_IMPORT_SYMPY_S:.2f}x", absolute=base["first"] <= 0.25))
        for name, got in others.items():
            if got is None:
                out.append(Target("planner", f"first call <= 0.25 s ({name})", "failed or timed out", sp, None, False))
                continue
            rows.append((f"{name}, 4096 GPUs: first call (top 10)", f"{got['first']:.3f} s ({got['candidates']:,} candidates)"))
            out.append(Target("planner", f"first call <= 0.25 s ({name})", f"{got['first']:.3f} s", sp,
                              got["first"] / sympy_import, got["first"] / sympy_import <= 0.25 / ISSUE_IMPORT_SYMPY_S,
                              limit=f"<= {0.25 / ISSUE_IMPORT_SYMPY_S:.2f}x", absolute=got["first"] <= 0.25))
        row = (base["topk"] - base["top1"]) / max(1, base["k"] - 1)
        row_limit = 5e-5 * ISSUE_COOKBOOK_RATE
        out.append(Target("planner", "exact re-check <= 0.05 ms a row", f"{row * 1e3:.3f} ms",
                          f"{per_call * 1e3:.4f} ms (cookbook calc_mem per call)", row / per_call,
                          row / per_call <= row_limit, f"(top={base['k']} minus top=1) / {base['k'] - 1} rows",
                          limit=f"<= {row_limit:.1f}x", absolute=row <= 5e-5))
    if every is None:
        out.append(Target("planner", "plan(top=None) over every candidate <= 2 s", f"> {timeout:.0f} s or failed", sp,
                          None, False))
    else:
        rows.append(("top=None, compiled", f"{every['all']:.3f} s ({every['fit']:,} rows)"))
        out.append(Target("planner", "plan(top=None) over every candidate <= 2 s", f"{every['all']:.3f} s", sp,
                          every["all"] / sympy_import, every["all"] / sympy_import <= 2 / ISSUE_IMPORT_SYMPY_S,
                          limit=f"<= {2 / ISSUE_IMPORT_SYMPY_S:.1f}x", absolute=every["all"] <= 2))
    if small is None or large is None:
        out.append(Target("planner", "flat in devices: 32,768 GPUs <= 1.5x 64 GPUs", "failed or timed out", "-", None, False))
    else:
        rows += [("64 GPUs, top 10, compiled", f"{small['top10']:.3f} s ({small['candidates']:,} candidates)"),
                 ("32,768 GPUs, top 10, compiled", f"{large['top10']:.3f} s ({large['candidates']:,} candidates)")]
        ratio = large["top10"] / small["top10"]
        out.append(Target("planner", "flat in devices: 32,768 GPUs <= 1.5x 64 GPUs", f"{large['top10']:.3f} s",
                          f"{small['top10']:.3f} s (64 GPUs)", ratio, ratio <= 1.5, limit="<= 1.5x"))
    table("planner: mixtral-8x7b (fresh process per measurement)", ("measure", "value"), rows)
    for t in out:
        print(f"{t.verdict}: {t.target} ({t.measured})")
    return out


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 120.0)
