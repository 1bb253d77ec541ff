"""`symcalc scaling`'s sympy-free path (symcalc.cli._fast_scaling) equals the sympy closed forms and prints the full path's bytes."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Float, Rational

from test_fast_cli import _full, _quick
from symcalc._generated import scaling as G
from symcalc.cli._fast_scaling import PRECISION, amount
from symcalc.inputs import parse_count, parse_number
from symcalc.scaling import FITS, compute_for_loss, compute_optimal, inference_optimal
from symcalc.scaling.fits import ParametricFit
from symcalc.scaling.result import nearest_float

ROOT = Path(__file__).resolve().parent.parent
#: Relative error bound of the generated decimal code against the exact closed forms (60-digit evaluation).
BOUND = Rational(1, 10**45)


def _same(argv):
    fast = _quick(["scaling", *argv])
    assert fast[0] == 0, f"the fast path does not cover scaling {' '.join(argv)}"
    assert fast == _full(["scaling", *argv]), " ".join(argv)


def _consts(fit):
    return G.FITS[fit.name]["functions"]["constants"]() if isinstance(fit, ParametricFit) else ()


def _close(decimal_value, exact, bound=BOUND):
    """|decimal - exact| <= bound * |exact|, judged at 80 digits."""
    x = exact.evalf(80) if hasattr(exact, "evalf") else Float(exact, 80)
    return abs(Float(str(decimal_value), 80) - x) <= bound * abs(x)


def test_generated_scaling_code_is_current():
    """Regenerating symcalc/_generated/scaling.py from today's fits and derivations gives the checked-in file
    (else: python -m symcalc._fastgen --write)."""
    from symcalc._fastgen import OUT
    from symcalc._fastgen_scaling import generate_scaling

    assert (OUT / "scaling.py").read_text() == generate_scaling()


@pytest.mark.parametrize("name", list(FITS))
def test_generated_forms_equal_the_sympy_closed_forms(name):
    """For every fit, the generated N_opt, D_opt, loss (and C for a target loss) agree with compute_optimal's and
    compute_for_loss's exact expressions to 1e-45 relative, budgets 1e18 to 1e30 and kappa 6 or 8."""
    fit = FITS[name]
    funcs = G.FITS[name]["functions"]
    with localcontext() as ctx:
        ctx.prec = PRECISION
        for c, k in [(Rational(10) ** 18, 6), (Rational("5.76e23"), 6), (Rational("3.7e27"), 8), (Rational(10) ** 30, 6)]:
            opt = compute_optimal(c, fit, flops_per_param_token=k if fit.kind == "parametric" else None)
            kk = opt.flops_per_param_token.exact
            dc, dk = Decimal(int(c)), Decimal(int(kk.p)) / Decimal(int(kk.q))
            got = G.parametric_optimum(dc, dk, *_consts(fit)) if "constants" in funcs else funcs["optimum"](dc, dk)
            for value, exact in zip(got, (opt.n_params, opt.tokens, opt.loss)):
                assert (value is None) == (exact is None)
                if exact is not None:
                    assert _close(value, exact.exact), (name, c, value, exact)
        for ell in ("2.0", "2.3", "3"):
            if "constants" not in funcs and "for_loss" not in funcs:
                continue
            opt = compute_for_loss(ell, fit)
            kk = opt.flops_per_param_token.exact
            dk = Decimal(int(kk.p)) / Decimal(int(kk.q))
            got = (G.parametric_for_loss(Decimal(ell), dk, *_consts(fit)) if "constants" in funcs
                   else funcs["for_loss"](Decimal(ell), dk))
            for value, exact in zip(got, (opt.compute, opt.n_params, opt.tokens, opt.loss)):
                assert _close(value, exact.exact), (name, ell, value, exact)


@pytest.mark.parametrize("name", [n for n, f in FITS.items() if isinstance(f, ParametricFit)])
def test_inference_root_equals_the_library(name):
    """The fast path's inference-aware D (Newton's steps, checked by a sign change) and N equal inference_optimal's
    30-digit bisection root to 1e-28 relative."""
    from symcalc.cli._fast_scaling import _root

    fit = FITS[name]
    for compute, d_inf in (("1e23", "1e13"), ("1e20", "1e6"), ("1e26", "1e15")):
        lib = inference_optimal(d_inf, compute=compute, fit=fit)
        with localcontext() as ctx:
            ctx.prec = PRECISION
            consts = _consts(fit)
            ell = G.parametric_optimum(Decimal(compute), Decimal(6), *consts)[2]
            args = (Decimal(6), Decimal(2), Decimal(d_inf))
            lowest = G.parametric_lowest_tokens(ell, *consts)[0] * (1 + Decimal(10) ** -40)
            d = _root(lambda t: G.parametric_inference(t, ell, *args, *consts)[0],
                      lambda t: G.parametric_inference_slope(t, ell, *args, *consts)[0], lowest)
            n = G.parametric_params_of_tokens(d, ell, *consts)[0]
        assert _close(d, lib.tokens, Rational(1, 10**28)) and _close(n, lib.n_params, Rational(1, 10**28))


@pytest.mark.parametrize("name", [n for n, f in FITS.items() if isinstance(f, ParametricFit)])
def test_generated_loss_equals_the_fits_loss(name):
    """The generated L(N, D) equals the fit's exact L(N, D) to 1e-45 relative."""
    fit = FITS[name]
    with localcontext() as ctx:
        ctx.prec = PRECISION
        for n, d in ((7 * 10**10, 14 * 10**11), (10**6, 10**15), (10**12, 10**9)):
            (got,) = G.parametric_loss(Decimal(n), Decimal(d), *_consts(fit))
            exact = fit.loss(n, d)
            assert _close(got, exact)


CASES = [
    ["--compute", "1e24"], ["--loss", "2.0"], ["--compute", "1e24", "--params", "7e10"],
    ["--compute", "1e24", "--inference-tokens", "2e12"],
    *[["--compute", c, "--fit", f, *j] for f in FITS for c, j in (("5.76e23", []), ("1e21", ["--json"]))],
    *[["--loss", ell, "--fit", f, "--json"] for f in ("chinchilla-3-tex", "besiroglu", "muennighoff", "kaplan")
      for ell in ("2.1",)],
    ["--loss", "2.5", "--fit", "kaplan"], ["-C", "3e25", "--fit", "hoffmann", "--json"], ["--compute=1e22", "--fit=Epoch"],
    ["--compute", "1e24", "--flops-per-param-token", "8", "--json"], ["--loss", "1.95", "--flops-per-param-token", "7.5"],
    ["--compute", "1e23", "--inference-tokens", "10T", "--json"],
    ["--loss", "2.2", "--inference-tokens", "500B", "--inference-flops-per-param-token", "3", "--fit", "besiroglu"],
    ["--compute", "2e24", "--params", "70B", "--inference-tokens", "1e13", "--json"],
    ["--loss", "2.0", "--params", "1e10", "--json"], ["--compute", "1e24", "--fit", "muennighoff", "--params", "7e10"], ["--compute", "1e-3", "--json"], ["--compute", "1e30"],
    ["--list-fits"], ["--list-fits", "--json"],
    ["--loss", "2.0", "--hardware", "h100", "--mfu", "40%"], ["--compute", "1e24", "--hardware", "a100", "--json"],
    ["--compute", "3e23", "--hardware", "tpu-v5p", "--mfu", "0.55", "--dtype", "bf16", "--params", "2e10",
     "--inference-tokens", "1T", "--json"],
    ["--compute", "5e22", "--fit", "deepseek", "--hardware", "mi300x", "--dtype", "fp16", "--mfu", "100%"],
]


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(a) for a in CASES])
def test_fast_path_prints_the_full_paths_bytes(argv):
    """Text and --json of the fast path are byte-identical to the full path's (every fit, loss targets, --params,
    inference-aware optima, kappa flags, aliases, --list-fits)."""
    _same(argv)


@settings(max_examples=12, deadline=None)
@given(mantissa=st.integers(1, 9999), exponent=st.integers(15, 28), fit=st.sampled_from(sorted(FITS)),
       loss=st.booleans())
def test_random_budgets_and_targets_print_the_full_paths_json(mantissa, exponent, fit, loss):
    """Random budgets (and loss targets) under random fits: the fast path's --json equals the full path's, or it
    leaves the case to the full path (an error there)."""
    value = f"{mantissa}e{exponent - 3}" if not loss else f"{1.7 + mantissa / 5000:.4f}"
    argv = ["scaling", "--loss" if loss else "--compute", value, "--fit", fit, "--json"]
    fast = _quick(argv)
    full = _full(argv)
    if fast[0] is None:
        assert fast[1] == "" and full[0] == 2
    else:
        assert fast == full


OUTSIDE = [
    ["--compute", "1e24", "--hardware", "H100"], ["--compute", "1e24", "--hardware", "h300"],
    ["--compute", "1e24", "--hardware", "h100", "--mfu", "140%"], ["--compute", "1e24", "--hardware", "tpu-v5p",
                                                                     "--dtype", "fp32"],
    ["--compute", "1e24", "--mfu", "0.5"],
    ["--compute", "1e22", "--exact-flops"], ["--compute", "1e24", "--latex"], ["--compute", "1e24", "--plot", "f.png"],
    ["--compute", "3/2"], ["--comp", "1e24"], ["--compute", "1e24", "--compute", "1e23"], ["--help"],
    ["--loss", "1.69"], ["--loss", "1.5"], ["--loss", "2", "--fit", "chinchilla-1"], ["--compute", "1e24", "--loss", "2"],
    [], ["--compute", "1e24", "--params", "7e10", "--fit", "kaplan"], ["--compute", "1e24", "--fit", "gpt-5"],
    ["--compute", "1e24", "--inference-tokens", "1e12", "--fit", "deepseek"], ["--compute", "1e31"],
    ["--compute", "1e24", "--inference-tokens", "0"], ["--compute", "1e24", "--cookbook"], ["--compute", "1_000"],
    ["--list-fits", "--compute", "1e24"],
]


@pytest.mark.parametrize("argv", OUTSIDE, ids=[" ".join(a) or "(none)" for a in OUTSIDE])
def test_uncovered_input_goes_to_the_full_path(argv):
    """Flags outside the covered set, and every case the full path refuses, print nothing on the fast path (None)."""
    assert _quick(["scaling", *argv]) == (None, "")


@settings(max_examples=60, deadline=None)
@given(whole=st.integers(0, 10**6), frac=st.one_of(st.none(), st.integers(0, 10**4)),
       exponent=st.one_of(st.none(), st.integers(-40, 40)), suffix=st.sampled_from(["", "k", "M", "B", "t"]))
def test_amounts_are_read_as_the_safe_parser_reads_them(whole, frac, exponent, suffix):
    """The fast path reads a value exactly as symcalc.inputs.parse_number (parse_count with a suffix) does,
    or leaves it to the full path (outside 1e-30..1e30)."""
    text = str(whole) + ("" if frac is None else f".{frac}") + ("" if exponent is None else f"e{exponent}") + suffix
    for count in (False, True):
        got = amount(text, count)
        if not count and suffix:
            assert got is None
            continue
        exact = (parse_count if count else parse_number)(text)
        if 0 < exact and Rational(1, 10**30) <= exact <= 10**30:
            assert got == Fraction(int(exact.p), int(exact.q))
        else:
            assert got is None


@settings(max_examples=40, deadline=None)
@given(p=st.integers(1, 10**12), q=st.integers(1, 10**12), power=st.sampled_from([Rational(14, 31), Rational(1, 3),
                                                                                   Rational(-17, 50)]))
def test_nearest_float_is_the_nearest_double(p, q, power):
    """nearest_float(x) is a double nearest the exact x: no neighbouring double is closer (judged at 60 digits)."""
    x = (Rational(p, q) * 10**20) ** power
    got = nearest_float(x)
    exact = x.evalf(60)
    for other in (math.nextafter(got, math.inf), math.nextafter(got, -math.inf)):
        assert abs(Float(got, 60) - exact) <= abs(Float(other, 60) - exact)


def _process(args, **env):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env}, timeout=300)


def test_fast_scaling_process_never_imports_sympy():
    """`symcalc scaling` (bench/cli.py's four invocations, and kaplan --json) answers as a process with sympy never
    imported, and prints what the full path prints."""
    code = ("import sys; from symcalc.cli import main; sys.argv = ['symcalc'] + sys.argv[1:]; status = main(); "
            "assert 'sympy' not in sys.modules and 'mpmath' not in sys.modules, 'sympy imported'; sys.exit(status)")
    for argv in (["--compute", "1e24"], ["--loss", "2.0"], ["--compute", "1e24", "--params", "7e10"],
                 ["--compute", "1e24", "--inference-tokens", "2e12"], ["--loss", "2.5", "--fit", "kaplan", "--json"]):
        fast = _process(["-c", code, "scaling", *argv])
        assert fast.returncode == 0, fast.stderr
        full = _process(["-m", "symcalc", "scaling", *argv], SYMCALC_FULL_PATH="1")
        assert fast.stdout == full.stdout and full.returncode == 0
