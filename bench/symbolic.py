"""Public symbolic operations on the fully symbolic model: each at most 1 s (issue 14).

The model is ``Model()`` (every size a symbol) and the training-memory total has every degree,
the micro-batch and the sequence length symbolic, the ZeRO stage the symbol z (one Piecewise over
z), and today's defaults for the rest. Each operation runs in a fresh process (sympy's caches
empty, as for a user) after the expression is built; the time is the operation's alone. Baseline:
a bare ``python -c "import sympy"`` timed in the same run. symcalc's own closed forms
(:func:`symcalc.solve.closed_form`: the same roots per branch, without ``sympy.solve``) are timed
the same way. Run: python bench/symbolic.py [timeout_s]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _util import ISSUE_IMPORT_SYMPY_S, ROOT, Target, _env, table, wall  # noqa: E402

LIMIT = 1.0

SETUP = """
import time, sympy
from sympy import Eq, Symbol, factor, simplify, solve
from symcalc import Model, training_memory
from symcalc import symbols as S
from symcalc.relax import relax
from symcalc.solve import closed_form
total = training_memory(Model(), seq_len=S.seq_len, micro_batch=S.micro_batch, tp=S.tp, pp=S.pp, dp=S.dp,
                        zero_stage=S.zero_stage).total
z1 = training_memory(Model(), seq_len=S.seq_len, micro_batch=S.micro_batch, tp=S.tp, pp=S.pp, dp=S.dp,
                     zero_stage=1).total
M = Symbol("M", positive=True)
t0 = time.perf_counter()
"""

OPS = [
    ("simplify(total), z symbolic", "simplify(total)"),
    ("factor(total), z symbolic", "factor(total)"),
    ("sympy.solve(total = M, micro_batch), z symbolic", "solve(relax(Eq(total, M)), relax(S.micro_batch))"),
    ("sympy.solve(total = M, d_model), ZeRO-1", "solve(relax(Eq(z1, M)), relax(S.d_model))"),
    ("sympy.solve(total = M, d_model), z symbolic", "solve(relax(Eq(total, M)), relax(S.d_model))"),
    ("symcalc.solve.closed_form(total, micro_batch, M), z symbolic", "closed_form(total, S.micro_batch, M)"),
    ("symcalc.solve.closed_form(total, d_model, M), ZeRO-1", "closed_form(z1, S.d_model, M)"),
    ("symcalc.solve.closed_form(total, d_model, M), z symbolic", "closed_form(total, S.d_model, M)"),
]
_AGAIN = ("roots = {}\nfrom sympy.core.cache import clear_cache\nclear_cache()\nt0 = time.perf_counter()\n"
          "[simplify(r) for r in roots]")
#: For reference (not targets): the same solves without sympy's simplification of the roots,
#: which is where sympy.solve spends most of its time on these expressions, and simplify alone on
#: the roots it returns (already simplified: what no shape of the input can make smaller).
REFERENCE = [
    ("sympy.solve(..., micro_batch, simplify=False), z symbolic",
     "solve(relax(Eq(total, M)), relax(S.micro_batch), simplify=False)"),
    ("sympy.solve(..., d_model, simplify=False), ZeRO-1", "solve(relax(Eq(z1, M)), relax(S.d_model), simplify=False)"),
    ("sympy.solve(..., d_model, simplify=False), z symbolic",
     "solve(relax(Eq(total, M)), relax(S.d_model), simplify=False)"),
    # the floor whatever the input's shape: simplify of the roots sympy.solve returns, already in their
    # simplest form (sympy's caches cleared first)
    ("simplify of solve's own (simplified) roots, micro_batch, z symbolic", _AGAIN.format(
        "solve(relax(Eq(total, M)), relax(S.micro_batch))")),
    ("simplify of solve's own (simplified) roots, d_model, ZeRO-1", _AGAIN.format(
        "solve(relax(Eq(z1, M)), relax(S.d_model))")),
]


def main(timeout: float = 120.0) -> list:
    sympy_import = wall([sys.executable, "-c", "import sympy"], 3)[1]
    rows, out = [], []
    for name, op in OPS + REFERENCE:
        code = SETUP + op + "\nprint(time.perf_counter() - t0)\n"
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                                  cwd=ROOT, env=_env())
            seconds = float(proc.stdout.split()[-1]) if proc.returncode == 0 else None
            shown = f"{seconds:.3f} s" if seconds is not None else f"failed: {proc.stderr.strip()[-120:]}"
        except subprocess.TimeoutExpired:
            seconds, shown = None, f"> {timeout:.0f} s (stopped)"
        rows.append((name, shown, f"{time.perf_counter() - t0:.1f} s"))
        if (name, op) in REFERENCE:
            continue
        ratio = None if seconds is None else seconds / sympy_import
        limit = LIMIT / ISSUE_IMPORT_SYMPY_S
        out.append(Target("symbolic", f"{name} <= {LIMIT:g} s", shown, f"{sympy_import:.3f} s (import sympy)", ratio,
                          ratio is not None and ratio <= limit, limit=f"<= {limit:.1f}x",
                          absolute=seconds is not None and seconds <= LIMIT))
    table(f"symbolic operations on the fully symbolic training memory (fresh process each; import sympy "
          f"{sympy_import:.3f} s)", ("operation", "operation alone", "whole process"), rows)
    for t in out:
        print(f"{t.verdict}: {t.target} ({t.measured})")
    return out


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 120.0)
