"""Every derivative against a finite difference: exact (Richardson) on polynomials, float elsewhere."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, strategies as st
from sympy import Rational

from symcalc import Model, params, training_flops
from symcalc.scaling import chinchilla_loss
from symcalc.sensitivity import degree_in, derivative, elasticity, leading_terms
from symcalc.symbols import d_ff, d_model, n_heads, n_kv_heads, n_layers, n_params, seq_len, tokens, vocab

from strategies import attention_shapes

POLY_SYMBOLS = [n_layers, d_model, d_ff, vocab, n_kv_heads, seq_len]


def exact_derivative_by_differences(f, x0, degree):
    """p'(x0) of a polynomial of the given degree from values only: central differences
    D(δ) = p'(x0) + c1 δ² + ... are a polynomial in δ² of degree ⌊(degree-1)/2⌋, so Lagrange
    extrapolation to δ = 0 from enough step sizes is exact in rationals."""
    k = max(0, (degree - 1) // 2)
    steps = [Fraction(j) for j in range(1, k + 2)]
    ds = [(f(x0 + d) - f(x0 - d)) / (2 * d) for d in steps]
    total = Fraction(0)
    for i, (di, hi) in enumerate(zip(ds, steps)):
        w = Fraction(1)
        for j, hj in enumerate(steps):
            if j != i:
                w *= (0 - hj * hj) / (hi * hi - hj * hj)
        total += w * di
    return total


@given(attention_shapes(max_heads=8), st.integers(1, 64), st.integers(1, 5000), st.integers(1, 4096),
       st.sampled_from(POLY_SYMBOLS), st.booleans())
def test_derivative_of_counts_matches_exact_differences(shape, L, v, s, sym, gated):
    """d/dx of parameters + training FLOPs per token equals its exact finite difference in x."""
    h, a, g, _ = shape
    m = Model(gated_mlp=gated)
    q = params(m).total + training_flops(m, seq_len=seq_len, tokens=1).total
    point = {n_layers: L, d_model: h, n_heads: a, n_kv_heads: g, d_ff: 4 * h, vocab: v, seq_len: s}
    deg = int(q.as_poly(sym).degree()) if sym in q.free_symbols else 0
    others = {k: val for k, val in point.items() if k != sym}
    f = lambda x: Fraction(str(q.subs(others).subs(sym, int(x) if x.denominator == 1 else Rational(x.numerator, x.denominator))))  # noqa: E731
    expected = exact_derivative_by_differences(f, Fraction(point[sym]), deg)
    assert derivative(q, sym, at=point) == Rational(expected.numerator, expected.denominator)


@given(st.floats(1e7, 1e12), st.floats(1e9, 1e13))
def test_derivative_and_elasticity_of_loss_match_central_differences(n, d):
    """∂L/∂N and the elasticity of Chinchilla's loss match float central differences."""
    loss = chinchilla_loss()
    at = {n_params: Rational(n), tokens: Rational(d)}
    f = lambda x: float(loss.subs({n_params: Rational(x), tokens: Rational(d)}))  # noqa: E731
    step = n * 1e-5
    fd = (f(n + step) - f(n - step)) / (2 * step)
    assert float(derivative(loss, n_params, at=at)) == pytest.approx(fd, rel=1e-6)
    el = float(elasticity(loss, n_params, at=at))
    import math
    fd_el = (math.log(f(n * (1 + 1e-6))) - math.log(f(n * (1 - 1e-6)))) / (math.log1p(1e-6) - math.log1p(-1e-6))
    assert el == pytest.approx(fd_el, rel=1e-5)


def test_elasticity_of_a_monomial_is_its_exponent():
    """c·s²·h has elasticity 2 in s everywhere."""
    assert elasticity(7 * seq_len**2 * d_model, "seq_len") == 2


def test_leading_term_is_kaplans_12_L_h_squared():
    """Non-embedding parameters of an MHA model with f = 4h lead with 12·L·h² (Kaplan et al. 2020, Table 1)."""
    from symcalc.params import non_embedding_params

    q = non_embedding_params(Model(n_kv_heads=n_heads, d_ff=4 * d_model))
    assert leading_terms(q, [d_model]) == 12 * n_layers * d_model**2


def test_leading_terms_in_h_and_s():
    """FLOPs per token to leading order in (h, s) keep the h² and h·s terms and drop h·v."""
    q = training_flops(Model(n_kv_heads=n_heads, d_ff=4 * d_model), seq_len=seq_len, tokens=1).total
    lead = leading_terms(q, [d_model, seq_len])
    assert lead.free_symbols <= {n_layers, d_model, seq_len}
    assert set(degree_in(q, [d_model, seq_len])) == {2, 1}


def test_leading_terms_refuses_non_polynomials():
    """A ceiling in the growing symbol is refused with a one-line error."""
    from sympy import ceiling

    from symcalc import SymcalcError

    with pytest.raises(SymcalcError):
        leading_terms(ceiling(d_model / 128) * 128, [d_model])
