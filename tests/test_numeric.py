"""Compiled numeric evaluation (symcalc.numeric) against exact symbolic evaluation (sympy subs)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, strategies as st
from sympy import Integer, Rational

from symcalc import Model, SymcalcError, params, training_flops, training_memory
from symcalc import symbols as S
from symcalc.numeric import compile_breakdown, compile_expr, evaluate, to_sympy

from strategies import attention_shapes

DEGREES = (S.tp, S.pp, S.dp, S.micro_batch, S.seq_len)


@st.composite
def small_models(draw):
    h, a, g, d_h = draw(attention_shapes(max_heads=8, max_head_dim=16))
    return Model(n_layers=draw(st.integers(1, 6)), d_model=h, n_heads=a, n_kv_heads=g, d_head=d_h,
                 d_ff=draw(st.integers(1, 96)), vocab=draw(st.integers(2, 500)), gated_mlp=draw(st.booleans()))


@given(small_models(), st.integers(0, 3), st.sampled_from(["none", "selective", "full"]),
       st.tuples(*(st.integers(1, 64) for _ in DEGREES)))
def test_exact_path_equals_subs(model, zero, recompute, values):
    """The exact compiled training-memory breakdown equals sympy's exact substitution, part by part."""
    bd = training_memory(model, tp=1, pp=S.pp, dp=S.dp, micro_batch=S.micro_batch, seq_len=S.seq_len,
                         zero_stage=zero, recompute=recompute)
    subs = dict(zip(DEGREES, values))
    fn = compile_breakdown(bd, DEGREES, exact=True)
    got = fn(*values)
    want = [v.subs(subs) for v in bd.values()] + [bd.total.subs(subs)]
    assert [to_sympy(x) for x in got] == want


@given(small_models(), st.tuples(*(st.integers(1, 2**20) for _ in DEGREES)))
def test_float_path_relative_error(model, values):
    """The float64 path agrees with the exact value to a relative 1e-12."""
    expr = training_memory(model, tp=1, pp=S.pp, dp=S.dp, micro_batch=S.micro_batch, seq_len=S.seq_len,
                           zero_stage=3).total
    exact = expr.subs(dict(zip(DEGREES, values)))
    got = float(compile_expr(expr, DEGREES)(*values))
    assert abs(got - float(exact)) <= 1e-12 * float(exact)


def test_int64_boundary_is_exact():
    """6·N·D above 2^63 comes out exact on the exact path, even from numpy int64 inputs."""
    np = pytest.importorskip("numpy")
    flops = training_flops(Model.preset("llama-2-7b"), seq_len=4096, tokens=S.tokens).total
    n_tokens = 2 * 10**12
    fn = compile_expr(flops, (S.tokens,), exact=True)
    exact = flops.subs(S.tokens, n_tokens)
    assert exact > 2**63
    assert fn(n_tokens) == exact
    assert fn(np.int64(n_tokens)) == exact
    # int64 arithmetic on the same numbers would wrap; the exact path does not use it.
    with np.errstate(over="ignore"):
        wrapped = np.int64(6) * np.int64(params(Model.preset("llama-2-7b")).total) * np.int64(n_tokens)
    assert int(wrapped) != 6 * int(params(Model.preset("llama-2-7b")).total) * n_tokens
    assert evaluate(6 * S.n_params * S.tokens, n_params=2**40, tokens=2**40) == 6 * 2**80


def test_float_path_never_int64():
    """Integer arrays are computed in float64: no silent wrap-around above 2^63."""
    np = pytest.importorskip("numpy")
    fn = compile_expr(6 * S.n_params * S.tokens, (S.n_params, S.tokens))
    out = fn(np.array([7 * 10**9], dtype=np.int64), np.array([2 * 10**12], dtype=np.int64))
    assert out.dtype == np.float64
    assert abs(out[0] - 8.4e22) <= 1e-12 * 8.4e22


def test_piecewise_zero_stage():
    """A Piecewise in the symbolic ZeRO stage compiles and equals the per-stage expressions."""
    m = Model.preset("llama-2-7b")
    sym = training_memory(m, seq_len=4096, micro_batch=1, dp=S.dp, zero_stage=S.zero_stage).total
    for exact in (True, False):
        fn = compile_expr(sym, (S.dp, S.zero_stage), exact=exact)
        for z in range(4):
            want = training_memory(m, seq_len=4096, micro_batch=1, dp=8, zero_stage=z).total
            got = fn(8, z)
            assert (to_sympy(got) == want) if exact else abs(float(got) - float(want)) <= 1e-12 * float(want)


def test_cache_and_results():
    """The same expression compiles once; exact results are int when whole, Fraction otherwise."""
    e = 3 * S.micro_batch / (2 * S.tp)
    f = compile_expr(e, (S.micro_batch, S.tp), exact=True)
    assert compile_expr(e, ("micro_batch", "tp"), exact=True) is f
    assert compile_expr(e, (S.micro_batch, S.tp), exact=False) is not f
    assert f(4, 3) == 2 and isinstance(f(4, 3), int)
    assert f(5, 4) == Fraction(15, 8)
    assert f(Integer(5), Rational(1, 2)) == 15


def test_errors_are_one_line():
    """Non-numbers on either path, missing values and unknown arguments are one-line SymcalcErrors; a float is its decimal text."""
    f = compile_expr(2 * S.tp, (S.tp,), exact=True)
    assert f(1.5) == 3 and f(0.1) == Fraction(1, 5) and f("0.1") == Fraction(1, 5)
    for path in (f, compile_expr(2 * S.tp, (S.tp,))):
        with pytest.raises(SymcalcError, match="tp="):
            path("__import__('os').system('true')")
    with pytest.raises(SymcalcError, match="not among the arguments"):
        compile_expr(S.tp * S.pp, (S.tp,))
    with pytest.raises(SymcalcError, match="no value given for pp"):
        evaluate(S.tp * S.pp, tp=2)


def test_import_is_lazy_and_complete():
    """A fresh `import symcalc` loads no sympy, numpy or symcalc module but its errors; every name of __all__ still resolves."""
    import subprocess
    import sys

    code = ("import sys, symcalc; print(*sorted(m for m in sys.modules if m.startswith('symcalc') or m in ('numpy', 'sympy'))); "
            "print(all(getattr(symcalc, n) is not None for n in symcalc.__all__)); print(set(symcalc.__all__) <= set(dir(symcalc)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].split() == ["symcalc", "symcalc.errors"]
    assert out[1:] == ["True", "True"]


def test_lazy_names_are_the_real_objects():
    """symcalc.X is the object of the module that defines it; symcalc.plan and symcalc.params stay the functions after
    `import symcalc.plan` and `import symcalc.params`."""
    import importlib

    import symcalc
    import symcalc.params  # noqa: F401  (would rebind the name to the module without symcalc's guard)
    import symcalc.plan  # noqa: F401
    from symcalc.memory import training_memory as tm
    from symcalc.render import latex

    assert symcalc.training_memory is tm and symcalc.latex is latex
    assert symcalc.plan is importlib.import_module("symcalc.plan").plan and callable(symcalc.plan)
    assert symcalc.solve is importlib.import_module("symcalc.solve")
    assert symcalc.params is importlib.import_module("symcalc.params").params and callable(symcalc.params)
    with pytest.raises(AttributeError):
        symcalc.no_such_name


def test_cli_registers_only_the_named_subcommand(capsys):
    """`symcalc mem ...` builds a parser with only mem; help and unknown commands list every subcommand (exit 2)."""
    from symcalc.cli import SUBCOMMANDS, build_parser, main

    def commands(parser):
        return list(parser._subparsers._group_actions[0].choices)

    assert commands(build_parser(["mem", "--preset", "llama-2-7b"])) == ["mem"]
    assert commands(build_parser(["--help"])) == list(SUBCOMMANDS)
    assert commands(build_parser()) == list(SUBCOMMANDS)
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "invalid choice: 'no-such-command'" in err and all(repr(c) in err for c in SUBCOMMANDS)
