"""Every solver's answer against brute-force evaluation; safe budget parsing; the solve CLI."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st
from sympy import Integer, ceiling

from symcalc import Model, SymcalcError, params
from symcalc.cli import main
from symcalc.solve import (
    max_d_model, max_integer, max_micro_batch, max_n_layers, max_tokens, min_integer, min_zero_stage, model_family,
    parse_bytes, parse_count, parse_number,
)
from symcalc.presets import PRESETS
from symcalc.symbols import micro_batch as b, tp

from strategies import attention_shapes


def brute_max(f, budget, allowed):
    fits = [x for x in allowed if f(x) <= budget]
    return max(fits) if fits else None


@given(st.integers(0, 50), st.integers(0, 1000), st.integers(0, 10**4), st.integers(1, 10**5),
       st.sampled_from([1, 2, 8, 64, 128]))
def test_max_integer_polynomial_matches_brute_force(c2, c1, c0, budget, m):
    """The closed-form largest x with c2 x² + c1 x + c0 ≤ B is the brute-force one."""
    if c2 == c1 == 0:
        c1 = 1
    sol = max_integer(c2 * b**2 + c1 * b + c0, b, budget, multiple_of=m)
    expected = brute_max(lambda x: c2 * x * x + c1 * x + c0, budget, range(m, budget + 2 * m, m))
    assert sol.value == expected
    assert sol.method == "closed-form"
    if expected is None:
        assert not sol.feasible and sol.shortfall == c2 * m * m + c1 * m + c0 - budget


@given(st.integers(1, 300), st.integers(2, 7), st.integers(0, 500), st.integers(1, 10**4))
def test_search_fallback_matches_brute_force(k, q, c0, budget):
    """With a ceiling in x (no closed form) the bracketed search finds the brute-force answer."""
    sol = max_integer(k * ceiling(b / q) * q + c0, b, budget)
    f = lambda x: k * (-(-x // q)) * q + c0  # noqa: E731
    assert sol.value == brute_max(f, budget, range(1, budget + 2))
    assert sol.method == "search"


@given(st.integers(1, 1000), st.integers(1, 10**6), st.integers(1, 10**4), st.sampled_from([64, 96, 128, 360]))
def test_min_integer_divisors_matches_brute_force(c0, c1, budget, n):
    """The smallest divisor t of n with c0 + c1/t ≤ B is the brute-force one (None when none fits)."""
    sol = min_integer(c0 + Integer(c1) / tp, tp, budget, divisor_of=n)
    fits = [t for t in range(1, n + 1) if n % t == 0 and c0 * t + c1 <= budget * t]
    assert sol.value == (min(fits) if fits else None)
    assert sol.feasible == bool(fits)


@given(attention_shapes(max_heads=8, max_head_dim=32), st.integers(1, 8), st.sampled_from([2, 3]),
       st.integers(10**5, 10**8), st.sampled_from([1, 8, 64]))
def test_max_d_model_matches_real_models(shape, n_layers, mlp_ratio, budget, mult):
    """The largest h for a parameter budget equals a scan over real numeric models, every size whole."""
    _, a, g, _ = shape
    template = Model(n_layers=n_layers, d_model=a * 16, n_heads=a, n_kv_heads=g, d_ff=mlp_ratio * a * 16, vocab=1000)
    sol = max_d_model(budget, template, multiple_of=mult)

    def count(h):
        return params(Model(n_layers=n_layers, d_model=h, n_heads=a, n_kv_heads=g, d_ff=mlp_ratio * h, vocab=1000)).total

    step = mult * a // __import__("math").gcd(mult, a)
    expected = None
    h = step
    while count(h) <= budget:
        expected, h = h, h + step
    assert sol.value == expected


@pytest.mark.parametrize("name", PRESETS)
def test_family_at_its_own_size_is_the_preset(name):
    """Every preset's family holds the preset: its own parameter count gives back its own width and depth."""
    m = Model.preset(name)
    family, h = model_family(m)
    assert params(family).total.subs(h, m.d_model) == params(m).total  # also where d_h != h/a (Gemma, Qwen3)
    assert max_d_model(params(m).total, m).value == m.d_model
    assert max_n_layers(params(m).total, m).value == m.n_layers


@given(st.integers(1, 200), st.integers(10**6, 10**10))
def test_max_n_layers_matches_brute_force(depth_hint, budget):
    """The most layers for a parameter budget equals a scan over real models."""
    base = Model(n_layers=depth_hint, d_model=256, n_heads=4, n_kv_heads=4, d_ff=1024, vocab=5000)
    sol = max_n_layers(budget, base)
    count = lambda L: params(base.replace(n_layers=L)).total  # noqa: E731
    expected = None
    lo, hi = 1, 1
    while count(hi) <= budget:
        lo, hi = hi, hi * 2
    if count(1) <= budget:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if count(mid) <= budget else (lo, mid)
        expected = lo
    assert sol.value == expected
    if expected is not None:
        assert count(expected) <= budget < count(expected + 1)


def test_max_tokens_is_floor_of_c_over_6n():
    """Tokens in a compute budget: the largest D with 6·N·D ≤ C."""
    m = Model.preset("llama-2-7b")
    n = int(params(m).total)
    assert max_tokens(10**23, m).value == 10**23 // (6 * n)


@pytest.mark.parametrize("zero", [0, 1, 2, 3])
def test_max_micro_batch_matches_brute_force(zero):
    """The largest micro-batch fits at b and not at b+1 (evaluated by training_memory directly)."""
    from symcalc.memory import training_memory

    m = Model.preset("llama-2-7b")
    opts = dict(seq_len=2048, n_devices=8, zero_stage=zero, recompute="full")
    sol = max_micro_batch("80GiB", m, **opts)
    mem = lambda bb: training_memory(m, micro_batch=bb, **opts).total  # noqa: E731
    budget = 80 * 2**30
    if sol.value is None:
        assert mem(1) > budget
    else:
        assert mem(sol.value) <= budget < mem(sol.value + 1)


def test_min_zero_stage_matches_brute_force():
    """The smallest ZeRO stage that fits is the first of 0..3 whose memory fits (the Piecewise in z split at its breakpoints)."""
    from symcalc.memory import training_memory

    m = Model.preset("llama-2-7b")
    opts = dict(seq_len=4096, micro_batch=1, n_devices=8, recompute="full")
    sol = min_zero_stage("40GiB", m, **opts)
    fits = [z for z in range(4) if training_memory(m, zero_stage=z, **opts).total <= 40 * 2**30]
    assert sol.value == fits[0] and sol.method == "closed-form"


@pytest.mark.parametrize("text,value", [
    ("80GiB", 80 * 2**30), ("80 GB", 80 * 10**9), ("512MiB", 512 * 2**20), ("1e9", 10**9),
    ("1.5 GiB", 3 * 2**29), ("2TB", 2 * 10**12), ("100", 100), ("64 KiB", 65536),
])
def test_parse_bytes(text, value):
    """Memory sizes parse exactly: GiB = 2^30, GB = 10^9."""
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["__import__('os')", "80 GiBs", "-1GB", "1e9*2", ""])
def test_parse_bytes_rejects(text):
    """Anything but a number and a unit is refused with a SymcalcError (never evaluated)."""
    from symcalc import SymcalcError

    with pytest.raises(SymcalcError):
        parse_bytes(text)


def test_parse_count():
    """Parameter budgets take 1000-based suffixes."""
    assert (parse_count("7B"), parse_count("350M"), parse_count("2e3")) == (7 * 10**9, 350 * 10**6, 2000)


def test_cli_micro_batch_json(capsys):
    """`symcalc solve micro-batch --budget 80GiB --json` prints an int micro_batch that fits."""
    argv = ["solve", "micro-batch", "--preset", "llama-2-7b", "-s", "4096", "--num-gpus", "8", "-z", "3",
            "--recompute", "full", "--budget", "80GiB", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out["micro_batch"], int) and out["headroom"] >= 0 and out["method"] == "closed-form"


def test_cli_hidden_size_and_errors(capsys):
    """`symcalc solve hidden-size` answers in JSON; a bad budget exits 2 with one line."""
    assert main(["solve", "hidden-size", "-l", "32", "-a", "32", "--budget", "7B", "--multiple-of", "128", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["hidden_size"] % 128 == 0 and out["quantity_at_answer"] <= 7 * 10**9
    assert main(["solve", "layers", "-hs", "4096", "--budget", "seven"]) == 2
    assert "is not a number" in capsys.readouterr().err


@pytest.mark.parametrize("parse", [parse_bytes, parse_count, parse_number])
def test_huge_exponent_is_refused_without_building_the_number(parse):
    """A budget like 1e1000000000 is a one-line error at once, not a billion-digit integer (a hang)."""
    with pytest.raises(SymcalcError, match="exponent is beyond"):
        parse("1e1000000000")
