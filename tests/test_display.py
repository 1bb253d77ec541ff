"""The readable-number layer: exact underneath, decimals with units on the surface, one rule everywhere."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given, settings, strategies as st
from sympy import Integer, Rational, sympify

from symcalc import Model, SymcalcError, params, training_memory
from symcalc import symbols as S
from symcalc.cost import training_cost
from symcalc.display import Quantity, quantity, readable, significant
from symcalc.flops import hfu, mfu, training_time
from symcalc.plan import plan
from symcalc.scaling import compute_optimal
from symcalc.solve import max_integer, max_micro_batch

LLAMA = Model.preset("llama-2-7b")


def test_issue_examples_print_readably():
    """The issue's two unreadable answers: N_opt prints as 4.13e10 parameters, an MFU as a percentage."""
    opt = compute_optimal(10**24)
    assert str(opt.n_params) == "4.13e10 parameters" and str(opt.tokens) == "4.04e12 tokens"
    assert "**(1/31)" in str(opt.n_params.exact)  # the exact closed form is still underneath
    u = mfu(LLAMA, seq_len=4096, tokens_per_second=3000, peak_flops=989 * 10**12)
    assert re.fullmatch(r"\d+\.\d %", str(u)) and "/" not in str(u)
    assert f"{u}" == str(u) and f"{u:.4f}" == f"{float(u):.4f}"


def test_quantity_is_exact_underneath():
    """Arithmetic, comparison, float/int, sympify and symcalc's inputs all see the exact value."""
    q = Quantity(Rational(1, 3), "%")
    assert q * 3 == 1 and 3 * q == 1 and q + q == Rational(2, 3) and 1 - q == Rational(2, 3)
    assert q / 2 == Rational(1, 6) and 2 / q == 6 and q**2 == Rational(1, 9)
    assert sympify(q) == Rational(1, 3) and Integer(3) * q == 1
    assert q == Rational(1, 3) and q < Rational(1, 2) and q > 0 and hash(q) == hash(Rational(1, 3))
    assert float(q) == 1 / 3 and q.free_symbols == set() and q.q == 3
    assert pickle.loads(pickle.dumps(q)) == q and str(q) == "33.3 %"
    # passed back into symcalc: the exact value, not its text
    run = training_cost(LLAMA, tokens=10**9, seq_len=4096, n_devices=8, peak_flops=10**15, mfu=Quantity(Rational(2, 5)))
    assert run.mfu == Rational(2, 5)


def test_a_symbolic_answer_stays_an_expression():
    """While symbols remain the value is the sympy expression (mfu, training time, the optimum's fields)."""
    from sympy import Expr

    assert isinstance(mfu(LLAMA, seq_len=4096), Expr)
    assert isinstance(training_time(Model()), Expr)
    assert isinstance(compute_optimal().n_params, Expr)
    assert quantity(S.mfu, "%") is S.mfu
    with pytest.raises(SymcalcError, match="symbolic"):
        Quantity(S.mfu)


@settings(max_examples=25)
@given(tau=st.integers(1, 10**7), peak=st.integers(10**12, 10**16), n=st.integers(1, 64), s=st.sampled_from([128, 4096]))
def test_symbolic_mfu_substituted_equals_the_numeric_quantity(tau, peak, n, s):
    """Symbolic equals numeric: mfu/hfu left symbolic and substituted give exactly the numeric Quantity's value."""
    sym = mfu(LLAMA, seq_len=S.seq_len, n_devices=S.n_devices)
    num = mfu(LLAMA, seq_len=s, tokens_per_second=tau, peak_flops=peak, n_devices=n)
    assert isinstance(num, Quantity)
    assert sym.subs({S.seq_len: s, S.tokens_per_second: tau, S.peak_flops: peak, S.n_devices: n}) == num.exact
    h = hfu(LLAMA, seq_len=S.seq_len, recompute="selective")
    assert h.subs({S.seq_len: s, S.tokens_per_second: tau, S.peak_flops: peak}) == \
        hfu(LLAMA, seq_len=s, recompute="selective", tokens_per_second=tau, peak_flops=peak).exact


def test_readable_units():
    """Each unit prints as people write it: separators for whole numbers, binary bytes, SI rates, durations."""
    assert readable(6738415616, "params") == "6,738,415,616 parameters"
    assert readable(10**24, "FLOP") == "1.00e24 FLOP"
    assert readable(Rational(19789, 20) * 10**12, "FLOP/s") == "989.5 TFLOP/s"
    assert readable(80 * 2**30, "bytes") == "80.00 GiB" and readable(512, "bytes") == "512 B"
    assert readable(Rational(7, 2), "s") == "3.50 s" and readable(7200, "s") == "2.00 h (7,200 s)"
    assert readable(Rational(1, 8), "%") == "12.5 %" and readable(Rational(1, 1000), "%") == "0.10 %"
    assert significant(123456789) == "1.23e8" and significant(Rational(1, 3), 2) == "0.33"
    assert readable(S.tp * 2, "bytes") == "2*tp B"


def test_solver_answers_print_with_units_and_separators():
    """A Solution prints GiB for a byte budget and keeps the exact bytes on the object."""
    sol = max_micro_batch("80GB", LLAMA, seq_len=4096, n_devices=8, zero_stage=1, recompute="full")
    assert str(sol) == "micro_batch = 17 (closed-form); 73.43 GiB of 74.51 GiB, headroom 1.08 GiB"
    assert sol.budget == 80 * 10**9 and isinstance(sol.headroom, Quantity)
    assert "<table" in sol._repr_html_() and "78,845,474,816" in sol._repr_html_()
    assert sol._repr_latex_().startswith("$b = 17")
    none = max_integer(10 * S.micro_batch**2, S.micro_batch, 5)
    assert "nothing fits" in str(none) and "nothing fits" in none._repr_latex_()


def test_plan_prints_a_table_in_gib_and_seconds():
    """A plan's rows print memory in GiB and times in seconds; the exact memory stays on the row."""
    res = plan(LLAMA, n_devices=8, memory=80 * 2**30, peak_flops=989 * 10**12, seq_len=4096, global_batch=64, top=2)
    text = str(res)
    assert "GiB" in text and " s " in text + " " and len(text.splitlines()) == 5
    row = res.rows[0]
    assert isinstance(row.memory, Quantity) and row.memory.exact == row.memory and row.memory <= 80 * 2**30
    assert str(row.memory) in text and res._repr_html_().count("<tr>") == 3


def test_breakdown_html_is_grouped_by_part():
    """In Jupyter a training-memory breakdown is one row per part plus the total, every part in a collapsed list."""
    mem = training_memory(LLAMA, seq_len=4096, micro_batch=1, n_devices=8, zero_stage=1, recompute="full")
    page = mem._repr_html_()
    main_table = page.split("<details>")[0]
    groups = [k for k, v in mem.grouped().items() if v != 0]
    assert main_table.count("<tr>") == 1 + len(groups) + 1  # header, groups, total
    assert "13,476,831,232" in main_table and "12.55 GiB" in main_table
    assert "weights/embedding/token" not in main_table and "<details>" in page
    tex = mem._repr_latex_()
    assert tex.count("&=") == len(groups) + 1 and r"\mathrm{GiB}" in tex and "= 0" not in tex
    sym = params(Model())._repr_latex_()
    assert sym.count("&=") == len(params(Model()).grouped()) + 1


def test_compute_optimum_prints_the_frontier():
    """A symbolic optimum prints G·(C/6)^a with G and a as numbers; a numeric one its values with ≈."""
    text = str(compute_optimal())
    assert "G·(C/6)^a" in text and "a = 14/31" in text and "**(1/31)" not in text
    G, a, b = compute_optimal().frontier()
    opt = compute_optimal(10**24)
    assert a + b == 1 and abs(float(G) * (10**24 / 6) ** float(a) / float(opt.n_params) - 1) < 1e-12
    assert "N_opt  ≈ 4.13e10 parameters" in str(opt) and r"\approx 4.13 \times 10^{10}" in opt._repr_latex_()
