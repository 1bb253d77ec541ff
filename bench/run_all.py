"""Run every benchmark and print its table: python bench/run_all.py (about a minute on 2 cores)."""

from __future__ import annotations

import os
import platform
import sys

sys.path.insert(0, os.path.dirname(__file__))

import plan  # noqa: E402
import solve  # noqa: E402
import startup  # noqa: E402
import sweep  # noqa: E402
import sympy_solve  # noqa: E402


def main() -> None:
    import sympy

    try:
        import numpy
        np_version = numpy.__version__
    except ImportError:
        np_version = "absent"
    print(f"# symcalc benchmarks: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, sympy {sympy.__version__}, numpy {np_version}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min) at the start")
    startup.main()
    sweep.main()
    solve.main()
    sympy_solve.main()
    plan.main()


if __name__ == "__main__":
    main()
