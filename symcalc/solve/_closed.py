"""Symbolic closed forms: where a quantity meets its budget, on a model left symbolic.

:func:`closed_form` answers "up to which x does the quantity fit?" as an expression in the other
symbols, without ``sympy.solve``: memory is linear in the micro-batch b and quadratic in the
hidden size h, so per branch of the ZeRO stage's ``Piecewise`` the boundary is the root of a
polynomial of degree 1 or 2 whose coefficients are read off the expanded branch. With
nonnegative coefficients the quantity only grows with x >= 0, so x fits exactly when
x <= the root, and the largest whole x that fits is ``floor(root)`` (what
:func:`~symcalc.solve.max_micro_batch` finds once numbers are given).

``sympy.solve`` of the same equation returns the same roots (:mod:`symcalc.relax`'s route) but
spends most of its time simplifying them (``bench/symbolic.py`` measures both).
"""

from __future__ import annotations

from typing import Any

from sympy import Add, Expr, Function, Piecewise, Pow, Symbol, sqrt

from ..breakdown import Breakdown
from ..errors import SymcalcError
from ..inputs import as_expr, as_symbol
from ._units import parse_bytes

__all__ = ["closed_form"]


def _budget(budget: Any) -> Expr:
    value = parse_bytes(budget) if isinstance(budget, str) else as_expr("budget", budget)
    if value.is_extended_real is False or value.is_negative:
        raise SymcalcError(f"budget={budget!r:.60} is not a nonnegative real; give bytes (\"80GiB\", 8e10) or a symbol")
    return value


def _branches(expr: Expr, x: Symbol) -> list[tuple[Expr, Any]]:
    """The (branch, condition) pairs of a top-level Piecewise whose conditions do not involve x."""
    if isinstance(expr, Piecewise) and not any(x in c.free_symbols for _, c in expr.args):
        return [(e, c) for e, c in expr.args]
    return [(expr, True)]


def _coefficients(expr: Expr, x: Symbol) -> list[Expr]:
    """[c0, c1, c2] with expr = c0 + c1*x + c2*x**2 (one-line error for any other form in x)."""
    hidden = [a for a in expr.atoms(Function, Piecewise) if x in a.free_symbols]
    if hidden:
        raise SymcalcError(f"{x} appears inside {hidden[0].func.__name__}(...); closed_form needs a polynomial "
                           f"of degree 1 or 2 in {x}: use symcalc.solve.max_integer with numbers instead")
    terms: list[list[Expr]] = [[], [], []]
    for term in Add.make_args(expr.expand()):
        rest, part = term.as_independent(x, as_Add=False)
        if part == 1:
            k = 0
        elif part == x:
            k = 1
        elif isinstance(part, Pow) and part.base == x and part.exp == 2:
            k = 2
        else:
            raise SymcalcError(f"the quantity has a term in {part} (not 1, {x} or {x}**2); closed_form needs a "
                               f"polynomial of degree 1 or 2 in {x}: use symcalc.solve.max_integer with numbers")
        terms[k].append(rest)
    return [Add(*t) for t in terms]


def _root(expr: Expr, x: Symbol, budget: Expr) -> Expr:
    c0, c1, c2 = _coefficients(expr, x)
    if c2 != 0:
        if c2.is_positive is not True or c1.is_nonnegative is not True:
            raise SymcalcError(f"cannot tell that the quantity grows with {x} (its {x}**2 and {x} coefficients "
                               f"are not known to be positive and nonnegative); use max_integer with numbers")
        return (sqrt(c1**2 - 4 * c2 * (c0 - budget)) - c1) / (2 * c2)
    if c1 == 0:
        raise SymcalcError(f"the quantity does not depend on {x} (in some branch); nothing to solve for")
    if c1.is_positive is not True:
        raise SymcalcError(f"cannot tell that the quantity grows with {x} (its coefficient is not known to be "
                           f"positive); use max_integer with numbers")
    return (budget - c0) / c1


def closed_form(quantity: Any, symbol: Any, budget: Any) -> Expr:
    """The x >= 0 up to which ``quantity`` fits ``budget``, in closed form: quantity(x) <= budget iff x <= it.

    ``quantity`` (an expression or a :class:`~symcalc.breakdown.Breakdown`, its total) must be,
    in each branch of a top-level ``Piecewise`` whose conditions do not involve x (the ZeRO stage
    left symbolic), a polynomial of degree 1 or 2 in x with coefficients sympy can tell are
    nonnegative (positive leading one): memory in the micro-batch (linear), the sequence length
    without attention scores, the hidden size (quadratic). The answer has the same branches:
    ``(budget - c0)/c1`` or ``(sqrt(c1**2 - 4*c2*(c0 - budget)) - c1)/(2*c2)``. The largest whole x
    that fits is ``floor`` of it (when that is at least 1); where even x = 0 does not fit, the root
    is negative or, for a quadratic, not real (the square root of a negative number). Anything else in x (a ``Max``, a
    ``ceiling``, x in a denominator) is a one-line error pointing to
    :func:`~symcalc.solve.max_integer`.

    Parameters
    ----------
    quantity : expression or Breakdown
    symbol : Symbol or str
        x, e.g. ``symcalc.symbols.micro_batch`` or ``"d_model"``.
    budget : number, byte string ("80GiB") or expression (a symbol M)

    Examples
    --------
    >>> from sympy import Symbol, floor
    >>> from symcalc import Model, training_memory
    >>> from symcalc import symbols as S
    >>> mem = training_memory(Model(), seq_len=S.seq_len, micro_batch=S.micro_batch, tp=S.tp, pp=S.pp, dp=S.dp,
    ...                       zero_stage=S.zero_stage)
    >>> M = Symbol("M", positive=True)
    >>> b_max = closed_form(mem, S.micro_batch, M)          # a Piecewise over the ZeRO stage
    >>> len(b_max.args)
    4
    >>> llama = {S.n_layers: 32, S.d_model: 4096, S.n_heads: 32, S.n_kv_heads: 32, S.d_ff: 11008, S.vocab: 32000,
    ...          S.seq_len: 4096, S.tp: 2, S.pp: 1, S.dp: 4, S.zero_stage: 1, M: 80 * 2**30}
    >>> floor(b_max.subs(llama))
    8
    >>> h_max = closed_form(mem, "d_model", M)               # quadratic in h
    >>> floor(h_max.subs(llama).subs(S.micro_batch, 1))
    8689
    """
    x = as_symbol("symbol", symbol)
    if isinstance(quantity, str):
        raise SymcalcError(f"quantity={quantity!r:.60} is a string; pass a sympy expression or a Breakdown")
    expr = quantity.total if isinstance(quantity, Breakdown) else as_expr("quantity", quantity)
    if x not in expr.free_symbols:
        raise SymcalcError(f"the quantity does not depend on {x}; nothing to solve for")
    limit = _budget(budget)
    branches = _branches(expr, x)
    roots = [(_root(e, x, limit), c) for e, c in branches]
    if len(roots) == 1 and roots[0][1] is True:
        return roots[0][0]
    return Piecewise(*roots)
