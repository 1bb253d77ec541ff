"""`symcalc scaling --unique-tokens` without sympy prints the full path's bytes (text, --json) or leaves the case to it."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal, localcontext
from pathlib import Path

import pytest

from test_fast_cli import _full, _quick
from symcalc._generated import scaling as G
from symcalc.cli._fast_scaling import PRECISION
from symcalc.scaling import FITS
from symcalc.scaling.data import params_for_tokens, regime_losses
from symcalc.scaling.fits import ParametricFit

ROOT = Path(__file__).resolve().parent.parent


def _same(argv):
    fast = _quick(["scaling", *argv])
    assert fast[0] == 0, f"the fast path does not cover scaling {' '.join(argv)}"
    assert fast == _full(["scaling", *argv]), " ".join(argv)


def test_generated_regimes_equal_the_librarys_forms():
    """The generated loss, slope and curvature of every regime, U_N and the float look equal the library's
    sympy forms (regime_losses, params_for_tokens; evaluated by mpmath at 80 digits, as the full path evaluates
    them at 40) at a sample point: decimals to 1e-45, floats to 1e-12."""
    import mpmath
    from sympy import Symbol, diff, lambdify

    fit = FITS["muennighoff"]
    funcs = G.FITS["muennighoff"]["functions"]
    N, C, U, UN = (Symbol(n, positive=True) for n in ("N", "C", "U", "U_N"))
    forms = regime_losses(fit, 6, N, C, U, UN)
    assert list(forms) == G.FITS["muennighoff"]["dc_regimes"]
    with mpmath.workdps(80):
        un = mpmath.mpf(str(params_for_tokens(25 * 10**9, fit).evalf(80)))
        point = (mpmath.mpf(7 * 10**9), mpmath.mpf(10**22), mpmath.mpf(25 * 10**9), un)
        args = [Decimal(mpmath.nstr(v, 75, strip_zeros=False)) for v in point] + [Decimal(6)]
        with localcontext() as ctx:
            ctx.prec = PRECISION
            (got,) = funcs["dc_unique_params"](args[2])
            assert abs(mpmath.mpf(str(got)) - un) <= mpmath.mpf(10) ** -45 * un
            for i, form in enumerate(forms.values()):
                for part, expr in (("loss", form), ("slope", diff(form, N)), ("curvature", diff(form, N, 2))):
                    exact = lambdify((N, C, U, UN), expr, "mpmath")(*point)
                    (value,) = funcs[f"dc_{i}_{part}"](*args)
                    assert abs(mpmath.mpf(str(value)) - exact) <= mpmath.mpf(10) ** -45 * abs(exact), (i, part)
                    if part != "curvature":
                        quick = funcs[f"dc_{i}_float"](*(float(a) for a in args))[part == "slope"]
                        assert abs(quick - float(exact)) <= 1e-12 * abs(float(exact)), (i, part)


CASES = [
    ["--compute", "1e22", "--unique-tokens", "25B"],
    ["--compute", "1e22", "--unique-tokens", "25B", "--json"],
    ["--compute", "5.2e22", "--unique-tokens", "25e9", "--fit", "datablations"],       # an alias
    ["--compute", "1e24", "--unique-tokens", "1T", "--json"],
    ["--compute", "1e24", "--unique-tokens", "100T"],                                  # data enough: no repetition
    ["--compute", "1e24", "--unique-tokens", "5e9", "--json"],                        # many epochs, excess params
    ["--compute", "1e20", "--unique-tokens", "4B", "--flops-per-param-token", "8"],
    ["-C", "3e23", "--unique-tokens", "50B", "--params", "7e9", "--hardware", "h100", "--mfu", "40%", "--json"],
    ["--compute", "1e23", "--unique-tokens", "10B", "--inference-tokens", "2T"],
    ["--compute=2e21", "--unique-tokens=123456789", "--fit=muennighoff", "--json"],
]


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(a) for a in CASES])
def test_unique_tokens_prints_the_full_paths_bytes(argv):
    """--unique-tokens (text and --json, with --params, --hardware, --inference-tokens, kappa, an alias, few and
    plenty of unique tokens) prints the full path's bytes."""
    _same(argv)


def test_random_budgets_and_unique_tokens_print_the_full_paths_bytes():
    """Random budgets with 1/30 to 30 times the compute-optimal data as unique tokens: where the fast path answers
    (nearly always), it prints the full path's bytes."""
    import random

    rng = random.Random(16)
    covered = 0
    for _ in range(12):
        exponent = rng.randint(19, 26)
        argv = ["scaling", "--compute", f"{rng.randint(1, 999)}e{exponent - 2}",
                "--unique-tokens", f"{rng.randint(1, 999)}e{exponent // 2 + rng.randint(-1, 2) - 2}"]
        argv += ["--json"] if rng.random() < 0.5 else []
        fast = _quick(argv)
        full = _full(argv)
        assert full[0] == 0, " ".join(argv)
        if fast[0] is not None:
            covered += 1
            assert fast == full, " ".join(argv)
    assert covered >= 9


OUTSIDE = [
    ["--compute", "1e25", "--unique-tokens", "1e9"],   # 9,730 epochs: N' and D' saturate, the loss is flat to ~1e-40
    ["--loss", "2.2", "--unique-tokens", "25B"], ["--compute", "1e22", "--unique-tokens", "25B", "--fit", "chinchilla"],
    ["--compute", "1e22", "--unique-tokens", "25B", "--fit", "kaplan"], ["--compute", "1e22", "--unique-tokens", "0"],
    ["--compute", "1e22", "--unique-tokens", "2.5"], ["--compute", "1e22", "--unique-tokens", "-1"],
    ["--compute", "1e22", "--unique-tokens", "3/2"], ["--compute", "1e22", "--unique-tokens", "25B", "--unique-tokens",
                                                      "30B"],
    ["--compute", "1e22", "--unique-tokens", "25B", "--latex"], ["--compute", "1e22", "--unique-tokens"],
]


@pytest.mark.parametrize("argv", OUTSIDE, ids=[" ".join(a) for a in OUTSIDE])
def test_unique_tokens_uncovered_input_goes_to_the_full_path(argv):
    """--unique-tokens beside --loss, with a fit without R_D*/R_N*, a value not a positive whole count, given twice
    or beside --latex: nothing on the fast path (None)."""
    assert _quick(["scaling", *argv]) == (None, "")


def _process(args, **env):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env}, timeout=300)


@pytest.mark.parametrize("extra,words", [(["--loss", "2.2"], "--unique-tokens"),
                                         (["--compute", "1e22", "--fit", "chinchilla"], "R_D*"),
                                         (["--compute", "1e22", "--unique-tokens", "0"], "--unique-tokens")])
def test_unique_tokens_bad_input_gets_the_full_paths_error(extra, words):
    """A refused --unique-tokens question falls back: the process prints the full path's one-line error, exit 2."""
    argv = ["scaling", "--unique-tokens", "25B", *extra] if "--unique-tokens" not in extra else ["scaling", *extra]
    got = _process(["-m", "symcalc", *argv])
    assert got.returncode == 2 and got.stdout == "" and words in got.stderr and len(got.stderr.splitlines()) == 1


def test_unique_tokens_process_never_imports_sympy():
    """`scaling --unique-tokens` answers as a process with sympy (and mpmath) never imported, as the full path."""
    code = ("import sys; from symcalc.cli import main; sys.argv = ['symcalc'] + sys.argv[1:]; status = main(); "
            "assert 'sympy' not in sys.modules and 'mpmath' not in sys.modules, 'sympy imported'; sys.exit(status)")
    for argv in (["--compute", "1e22", "--unique-tokens", "25B"], ["--compute", "1e24", "--unique-tokens", "1T", "--json"]):
        fast = _process(["-c", code, "scaling", *argv])
        assert fast.returncode == 0, fast.stderr
        full = _process(["-m", "symcalc", "scaling", *argv], SYMCALC_FULL_PATH="1")
        assert fast.stdout == full.stdout and full.returncode == 0


def test_no_other_fit_has_repetition_constants():
    """Only fits with R_D*, R_N* get the data-constrained functions (the others are the full path's error)."""
    for name, fit in FITS.items():
        has = isinstance(fit, ParametricFit) and fit.repeat_tokens is not None
        assert ("dc_regimes" in G.FITS[name]) == has, name
