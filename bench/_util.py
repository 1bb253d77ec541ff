"""Shared helpers for the benchmarks: timing, the run's header, targets with their baselines, tables."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def wall(cmd: list[str], repeat: int) -> tuple[float, float]:
    """(min, median) wall seconds of running ``cmd`` as a fresh process ``repeat`` times."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def interleaved(cmds: dict, repeat: int) -> dict:
    """{name: (min, median)} wall seconds of each command as a fresh process, run in turn ``repeat`` rounds.

    Interleaving puts each command and its baseline under the same load (the machine is shared),
    which a block of runs per command would not.
    """
    times: dict = {name: [] for name in cmds}
    for cmd in cmds.values():  # untimed: writes the bytecode an installed package would have (see _env)
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=_env())
    for _ in range(repeat):
        for name, cmd in cmds.items():
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=_env())
            times[name].append(time.perf_counter() - t0)
            if proc.returncode not in (0, 1):
                raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-300:]}")
    return {name: (min(v), statistics.median(v)) for name, v in times.items()}


def _env() -> dict:
    """The environment of every timed process: this checkout first on the path, bytecode cached.

    An installed package runs from bytecode (pip compiles it at install, as it compiled sympy's), so
    ``PYTHONDONTWRITEBYTECODE`` (set on some machines, this one included) is dropped: with it, every
    process would compile symcalc's modules from source (the generated ones are ~90 KB each) while
    sympy's are read compiled, timing Python's compiler instead of the command.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def best_of(fn, repeat: int = 5) -> float:
    """The fastest of ``repeat`` calls of ``fn()``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def table(title: str, header: tuple, rows: list) -> None:
    """Print an aligned text table."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n## {title}")
    for i, r in enumerate(cells):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def header() -> str:
    """Machine, versions and load: the line every run starts with."""
    import sympy

    versions = [f"Python {platform.python_version()}", f"sympy {sympy.__version__}"]
    for name in ("numpy", "dask", "distributed"):
        try:
            versions.append(f"{name} {__import__(name).__version__}")
        except ImportError:
            versions.append(f"{name} absent")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return (f"# symcalc benchmarks ({commit or 'no git'}): {platform.machine()} {platform.processor() or ''}, "
            f"{os.cpu_count()} CPUs, {', '.join(versions)}, {time.strftime('%Y-%m-%d %H:%M')}; "
            f"load average {load()} (1, 5, 15 min) at the start")


#: The issue's own machine, from its text and the runs it cites (2026-11-28, same 2-core container):
#: ``import sympy`` took 0.31 s (bench/README then: 0.31-0.32 s; the issue: commands at 1.1-1.3x it);
#: the cookbook's calc_mem ran 4.8e4 configurations/s (the issue: the exact path's 1.2e4/s was
#: "4x slower than the cookbook's own Python function"); a full-size numpy add of the 3.44M grid
#: took 2.0 ms (the issue: the 9 ms sweep was 4.4-4.8x one add). An absolute target becomes a
#: ratio to the same baseline in this run: e.g. 1 s = 3.2x import sympy. On a machine as loaded as
#: the issue's, both verdicts agree; under heavier load the ratio is the fair one, and the table
#: gives both.
ISSUE_IMPORT_SYMPY_S = 0.31
ISSUE_COOKBOOK_RATE = 4.8e4
ISSUE_ADD_RATE = 3_440_640 / 2.0e-3


@dataclass
class Target:
    """One target of issue 14 (or an earlier issue): what was measured, against which baseline, and the verdicts.

    ``ratio`` is measured / baseline (both timed in the same run); ``limit`` the target as such a
    ratio (text); ``met`` the verdict on the ratio; ``absolute`` the verdict on the absolute number
    (None where the target is a ratio already). ``met`` None: not measured (``note`` says why).
    """

    area: str
    target: str
    measured: str
    baseline: str
    ratio: Optional[float]
    met: Optional[bool]
    note: str = ""
    limit: str = ""
    absolute: Optional[bool] = None

    @property
    def verdict(self) -> str:
        return "not measured" if self.met is None else "MET" if self.met else "MISSED"


def ratio_text(x: Optional[float]) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}x" if x < 100 else f"{x:,.0f}x"


def summary(targets: list) -> None:
    """The one table of every target: measured, baseline, ratio against its limit, verdicts."""
    table("targets (each measured against a baseline timed in the same run)",
          ("area", "target", "measured", "baseline (same run)", "ratio", "limit", "verdict", "absolute", "note"),
          [(t.area, t.target, t.measured, t.baseline, ratio_text(t.ratio), t.limit or "-", t.verdict,
            "-" if t.absolute is None else "met" if t.absolute else "missed", t.note) for t in targets])


def python() -> str:
    return sys.executable
