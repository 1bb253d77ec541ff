"""Whole-process wall time of `symcalc mem --preset llama-2-7b`, next to `python -c pass` and `import sympy`.

Target (issue #6): at most 0.6 s. Run: python bench/startup.py [repeats]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _util import table, wall  # noqa: E402

TARGET = 0.6


def main(repeat: int = 9) -> dict:
    py = sys.executable
    cases = [
        ("python -c pass (baseline)", [py, "-c", "pass"]),
        ("python -c 'import sympy' (baseline)", [py, "-c", "import sympy"]),
        ("python -c 'import symcalc'", [py, "-c", "import symcalc"]),
        ("symcalc mem --preset llama-2-7b", [py, "-m", "symcalc", "mem", "--preset", "llama-2-7b"]),
    ]
    rows, out = [], {}
    for name, cmd in cases:
        lo, med = wall(cmd, repeat)
        out[name] = (lo, med)
        rows.append((name, f"{lo:.3f}", f"{med:.3f}"))
    lo, med = out["symcalc mem --preset llama-2-7b"]
    table(f"startup: whole process, {repeat} runs (target <= {TARGET} s)", ("command", "min s", "median s"), rows)
    sympy_lo, sympy_med = out["python -c 'import sympy' (baseline)"]
    print(f"symcalc mem: {'MET' if med <= TARGET else 'MISSED'} (median {med:.3f} s vs {TARGET} s); "
          f"import sympy alone is {sympy_lo:.3f} s (median {sympy_med:.3f} s), symcalc mem adds "
          f"{lo - sympy_lo:.3f} s (min) / {med - sympy_med:.3f} s (median) on top of it")
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
