"""A huge expected-experts power (p/q)^T kept as a power: the same exact number, decided and rounded exactly."""

from __future__ import annotations

import contextlib
import io
import json
from fractions import Fraction

from hypothesis import given, settings, strategies as st
from sympy import Pow, Rational

from symcalc import Model
from symcalc import _powers
from symcalc._routedpower import RoutedPower, power
from symcalc.cli import main
from symcalc.serving import serving


def _cli(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(list(argv))
    return status, out.getvalue()


def test_power_is_written_out_up_to_the_bound_and_kept_past_it():
    """(3/4)^T is a Rational while 4^T has at most 2^16 bits (T = 32768) and a RoutedPower equal to it past that."""
    assert power(Rational(3, 4), 32768) == Rational(3 ** 32768, 4 ** 32768)
    kept = power(Rational(3, 4), 32769)
    assert isinstance(kept, RoutedPower) and str(kept) == "(3/4)**32769"
    assert kept.doit() == Rational(3 ** 32769, 4 ** 32769) and Pow(*kept.args) == kept.doit()


@settings(max_examples=60, deadline=None)
@given(p=st.integers(1, 40), extra=st.integers(1, 40), tokens=st.integers(1, 400),
       r0=st.fractions(max_denominator=10**6), r1=st.fractions(max_denominator=10**6), tie=st.booleans())
def test_sign_and_float_equal_the_exact_fraction(p, extra, tokens, r0, r1, tie):
    """sign() and ratio_float() of r0 + r1 (p/q)^T (and of 7 over it) equal those of the exact Fraction, ties included."""
    q = p + extra
    x = Fraction(p ** tokens, q ** tokens)
    if tie:
        r0 = -r1 * x  # exactly zero: the bounds cannot decide, the exact power does
    poly, powers = [((0,), r0), ((1,), r1)], [(p, q, tokens)]
    exact = r0 + r1 * x
    assert _powers.sign(poly, powers) == (exact > 0) - (exact < 0)
    assert _powers.ratio_float(poly, [((0,), 1)], powers) == float(exact)
    if exact:
        assert _powers.ratio_float([((0,), 7)], poly, powers) == float(7 / exact)


def _estimate(monkeypatch, keep: bool):
    if not keep:
        monkeypatch.setattr(_powers, "KEEP_BITS", 10 ** 9)  # every power written out: the definition itself
    est = serving(Model.preset("mixtral-8x7b"), prompt_len=32769, n_generate=64, batch=1, tp=2, hardware="h100",
                  peak_flops=10 ** 20)  # a memory-bound prefill: the power is in the time to first token
    monkeypatch.undo()
    return est


def test_serving_with_a_kept_power_equals_the_definition(monkeypatch):
    """serving() routing 32,769 prefill tokens (the power kept) gives exactly the values, bounds, floats and JSON
    numbers of the same estimate with (3/4)^32769 written out; its exact texts hold the power."""
    kept, exact = _estimate(monkeypatch, True), _estimate(monkeypatch, False)
    rp = RoutedPower(Rational(3, 4), 32769)
    assert kept.ttft.exact.has(rp) and not exact.ttft.exact.has(RoutedPower)
    for key, value in kept.results().items():
        assert value.exact.xreplace({rp: rp.doit()}) == exact.results()[key].exact, key
    assert kept.prefill.time.total.xreplace({rp: rp.doit()}) == exact.prefill.time.total
    a, b = kept.as_dict(), exact.as_dict()
    texts = a.pop("exact")
    assert "(3/4)**32769" in texts["ttft"] and "(3/4)**32769" in texts["latency"]
    b.pop("exact")
    assert a == b


def test_mixtral_two_million_routed_tokens_answers():
    """`symcalc serve` of Mixtral with 64 x 32,768 prompt tokens (2,097,152 routed tokens) answers in text and
    --json: finite numbers, the exact texts short and holding the power where the time reads the experts."""
    argv = "serve --preset mixtral-8x7b --hardware h100 -tp 2 -s 32768 -b 64".split()
    status, text = _cli(argv)
    assert status == 0 and "time to first token" in text
    status, out = _cli([*argv, "--peak-flops", "1e20", "--json"])
    got = json.loads(out)
    assert status == 0 and 0 < got["ttft_s"] < got["latency_s"] and got["prefill_bound"] == "memory"
    assert "(3/4)**2097152" in got["exact"]["ttft"] and max(len(v) for v in got["exact"].values()) < 400


@settings(max_examples=60, deadline=None)
@given(c0=st.fractions(min_value=Fraction(1, 10**9), max_denominator=10**9), c1=st.fractions(max_denominator=10**9))
def test_fast_path_text_is_sympys(c0, c1):
    """The sympy-free path's text of c0 + c1 (3/4)^40000 and of 8192 over it is sympy's of the full path's value."""
    from symcalc.cli._fast_kept import Over, kept_or_number

    x = RoutedPower(Rational(3, 4), 40000)
    value = Rational(c0.numerator, c0.denominator) + Rational(c1.numerator, c1.denominator) * x
    fast = kept_or_number(c0, c1, (3, 4, 40000))
    assert str(fast) == str(value) or (c1 == 0 and str(value) == _numfmt_text(fast))
    if c1:
        assert str(Over(8192, fast)) == str(8192 / value)
        assert float(fast) == float(value.xreplace({x: x.doit()}))


def _numfmt_text(value):
    from symcalc._numfmt import exact_text

    return exact_text(value)
