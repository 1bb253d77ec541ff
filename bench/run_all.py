"""Run every benchmark and print one table of issue 14's targets (and earlier ones): python bench/run_all.py

Each target is measured against a baseline timed in the same run (the cookbook's script or
function, a bare ``import sympy``, a full-size numpy add, ...); the header states the machine,
the versions and the load average, at the start and at the end. ``--quick`` runs one round of
the process timings instead of three. About a minute on 2 quiet cores, several under load (the planner's
``top=None`` and the symbolic solves are stopped at their time limits).
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import cli  # noqa: E402
import exact  # noqa: E402
import plan  # noqa: E402
import solve  # noqa: E402
import sweep  # noqa: E402
import symbolic  # noqa: E402
import sympy_solve  # noqa: E402
from _util import ISSUE_IMPORT_SYMPY_S, Target, header, load, summary, wall  # noqa: E402


def main(quick: bool = False) -> list:
    print(header())
    t0 = time.perf_counter()
    targets = []
    targets += cli.main(1 if quick else 3)
    targets += exact.main()
    targets += sweep.main()
    targets += symbolic.main(60.0 if quick else 120.0)
    targets += plan.main(60.0 if quick else 120.0)
    targets += solve.main()
    worst = sympy_solve.main()["worst"]
    sp = wall([sys.executable, "-c", "import sympy"], 3)[1]
    targets.append(Target("symbolic (issue 9)", "sympy.solve, llama-2-7b with one more symbol (z, d, t or v) < 1 s",
                          f"{worst:.3f} s", f"{sp:.3f} s (import sympy)", worst / sp, worst / sp < 1 / ISSUE_IMPORT_SYMPY_S,
                          "slowest of 4 cases; bench/sympy_solve.py", limit=f"< {1 / ISSUE_IMPORT_SYMPY_S:.1f}x",
                          absolute=worst < 1))
    summary(targets)
    met = sum(t.met is True for t in targets)
    absolute = sum(t.met is True if t.absolute is None else t.absolute for t in targets)
    print(f"\n{met} of {len(targets)} targets met by their same-run ratio ({absolute} on absolute numbers); load average {load()} (1, 5, 15 min) at the end; "
          f"{time.perf_counter() - t0:.0f} s")
    return targets


if __name__ == "__main__":
    main("--quick" in sys.argv)
