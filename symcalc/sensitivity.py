"""Sensitivities of any quantity: derivatives, elasticities, leading-order terms.

Every function takes a sympy expression or a :class:`~symcalc.breakdown.Breakdown` (whose
``.total`` is used) and a symbol, given as the symbol itself or by its Python name
(``"n_layers"``). Results are exact sympy expressions; with ``at=`` values they are exact
numbers. Sizes are discrete, but the expressions are smooth in them, so the derivative is the
marginal cost per unit of a size: ``derivative(memory, "n_layers")`` is the bytes one more layer
adds when memory is linear in L.

>>> from symcalc import Model, params
>>> from symcalc.sensitivity import derivative, elasticity, leading_terms
>>> from symcalc.symbols import n_heads
>>> P = params(Model(n_kv_heads=n_heads))          # multi-head attention
>>> derivative(P, "n_layers")
2*d_ff*d_model + 4*d_model**2 + 4*d_model
>>> elasticity(P, "d_model", at=dict(n_layers=32, d_model=4096, n_heads=32, d_ff=16384, vocab=50304))
1098945/836801
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Optional, Union

from sympy import Add, Expr, Integer, Mul, Pow, Symbol, diff

from .breakdown import Breakdown, as_substitutions
from .errors import SymcalcError
from .inputs import as_expr, as_int, as_symbol, as_symbols

__all__ = ["derivative", "elasticity", "leading_terms", "degree_in"]

Quantity = Union[Expr, Breakdown, int]


def _expr(quantity: Any) -> Expr:
    if isinstance(quantity, Breakdown):
        return quantity.total
    if isinstance(quantity, str):
        raise SymcalcError(f"quantity={quantity!r:.60} is a string; pass a sympy expression or a Breakdown (never parsed)")
    return as_expr("quantity", quantity)


def _symbol(symbol: Union[str, Symbol]) -> Symbol:
    return as_symbol("symbol", symbol)


def derivative(quantity: Quantity, symbol: Union[str, Symbol], n: int = 1, *, at: Optional[Mapping] = None) -> Expr:
    """The ``n``-th derivative of a quantity with respect to ``symbol``.

    .. math::

        \\frac{\\partial^n f}{\\partial x^n}

    Examples
    ========

    >>> from symcalc import Model, params
    >>> from symcalc.symbols import d_model
    >>> derivative(params(Model()), d_model, 2)
    4*n_layers + 4*n_kv_heads*n_layers/n_heads
    >>> derivative(params(Model()), "vocab", at={"d_model": 4096})
    8192

    Parameters
    ==========

    quantity : an expression or a Breakdown (its total)
    symbol : the symbol, or its Python name
    n : order of the derivative
    at : values to substitute afterwards (exact)
    """
    result = diff(_expr(quantity), _symbol(symbol), as_int("n", n)).expand()
    if at:
        result = result.subs(as_substitutions(at))
    return result


def elasticity(quantity: Quantity, symbol: Union[str, Symbol], *, at: Optional[Mapping] = None) -> Expr:
    """The elasticity d ln f / d ln x = (x / f)·∂f/∂x: the % change of f per 1 % change of x.

    .. math::

        \\varepsilon_x(f) = \\frac{x}{f}\\frac{\\partial f}{\\partial x}

    A monomial c·x^k has elasticity k everywhere; a sum of terms has the weighted mean of their
    exponents, so "FLOPs grow like s^ε at this s".

    Examples
    ========

    >>> from symcalc.symbols import seq_len as s, d_model as h
    >>> elasticity(24 * h**2 * s + 4 * h * s**2, s)
    (24*d_model**2*seq_len + 8*d_model*seq_len**2)/(24*d_model**2*seq_len + 4*d_model*seq_len**2)
    >>> elasticity(24 * h**2 * s + 4 * h * s**2, s, at={"d_model": 4096, "seq_len": 4096})
    8/7

    Parameters
    ==========

    quantity : an expression or a Breakdown (its total)
    symbol : the symbol, or its Python name
    at : values to substitute (exact); without them the result is an expression
    """
    f = _expr(quantity)
    x = _symbol(symbol)
    result = (x * diff(f, x)).expand() / f
    if at:
        result = result.subs(as_substitutions(at))
    return result


def _term_degree(term: Expr, symbols: frozenset) -> Expr:
    """Total degree of a product term in ``symbols`` (exponents may be negative or rational)."""
    degree = Integer(0)
    for factor in Mul.make_args(term):
        base, exp = factor.as_base_exp() if isinstance(factor, Pow) else (factor, Integer(1))
        if base in symbols:
            if exp.free_symbols & symbols:
                raise SymcalcError(f"term {term} has a symbolic exponent in {', '.join(map(str, sorted(symbols, key=str)))}")
            degree += exp
        elif factor.free_symbols & symbols:
            raise SymcalcError(
                f"term {term} is not a power product in {', '.join(map(str, sorted(symbols, key=str)))} "
                f"({factor} is not); leading terms need a polynomial-like expression"
            )
    return degree


def degree_in(quantity: Quantity, symbols: Union[str, Symbol, Iterable[Union[str, Symbol]]]) -> dict[Expr, Expr]:
    """The expanded quantity grouped by total degree in ``symbols``: ``{degree: terms}``.

    ``symbols`` is one symbol or name, or a list of them.

    >>> from symcalc.symbols import d_model as h, seq_len as s
    >>> degree_in(24 * h**2 * s + 4 * h * s**2 + 2 * h, [h, s])
    {3: 24*d_model**2*seq_len + 4*d_model*seq_len**2, 1: 2*d_model}
    >>> degree_in(24 * h**2 * s + 2 * h, "d_model")
    {2: 24*d_model**2*seq_len, 1: 2*d_model}
    """
    syms = frozenset(as_symbols("symbols", symbols))
    groups: dict[Expr, Expr] = {}
    for term in Add.make_args(_expr(quantity).expand()):
        deg = _term_degree(term, syms)
        groups[deg] = groups.get(deg, Integer(0)) + term
    return dict(sorted(groups.items(), key=lambda kv: kv[0], reverse=True))


def leading_terms(quantity: Quantity, symbols: Union[str, Symbol, Iterable[Union[str, Symbol]]], n: int = 1) -> Expr:
    """The terms of the ``n`` highest total degrees in ``symbols`` (leading order as they grow).

    The quantity is expanded and each term's total degree in ``symbols`` is the sum of their
    exponents (other symbols are coefficients). ``n=1`` keeps only the dominant order.

    Examples
    ========

    >>> from symcalc import Model, params
    >>> from symcalc.symbols import d_model as h
    >>> leading_terms(params(Model(n_kv_heads=Model().n_heads)), [h])
    4*d_model**2*n_layers
    >>> leading_terms(params(Model(n_kv_heads=Model().n_heads)), "d_model")   # one name is one symbol
    4*d_model**2*n_layers
    >>> leading_terms(params(Model(n_kv_heads=Model().n_heads)), ["d_model"], n=2)
    2*d_ff*d_model*n_layers + 4*d_model**2*n_layers + 4*d_model*n_layers + 2*d_model*vocab + 2*d_model

    Parameters
    ==========

    quantity : an expression or a Breakdown (its total)
    symbols : the symbol (or name) that grows, or several, e.g. ``"d_model"`` or ``["d_model", "seq_len"]``
    n : how many orders to keep
    """
    n = as_int("n", n)
    groups = list(degree_in(quantity, symbols).values())
    return Add(*groups[:n])
