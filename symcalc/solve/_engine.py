"""The integer solver: closed form first (with a check), bracketed search otherwise."""

from __future__ import annotations

from math import gcd, isqrt
from typing import Any, Optional, Sequence, Union

from sympy import (Dummy, Expr, Function, Integer, Max, Min, Piecewise, Poly, PolynomialError, Rational, Symbol,
                   ceiling, false, floor, im, limit, oo, solve, together, true)
from sympy.core.relational import Relational

from ..breakdown import Breakdown, as_substitutions
from ..errors import SymcalcError
from ..inputs import as_amount, as_expr, as_int, as_symbol
from ._solution import UNITS, Solution

__all__ = ["Solution", "max_integer", "min_integer", "divisors"]


# --- allowed values ------------------------------------------------------------------------------
def _lcm(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        v = as_int("multiple_of", v)
        out = out * v // gcd(out, v)
    return out


def divisors(n: Any) -> list[int]:
    """The positive divisors of n, in increasing order (the allowed TP or PP degrees).

    >>> divisors(12)
    [1, 2, 3, 4, 6, 12]
    """
    n = as_int("divisor_of", n)
    small = [d for d in range(1, isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _choices(choices: Any) -> list[int]:
    """A list of allowed whole numbers (one-line error otherwise)."""
    if isinstance(choices, (str, bytes)) or not isinstance(choices, (list, tuple, set, frozenset, range)):
        raise SymcalcError(f"choices={choices!r:.60} is not a list of whole numbers")
    return [as_int("choices", c, minimum=-(2**63)) for c in choices]


class _Grid:
    """The allowed integers, in order: multiples of m in [lo, hi], or a finite list."""

    def __init__(self, lo: int, hi: Optional[int], multiple: int, choices: Optional[Sequence[int]]):
        self.m = multiple
        if choices is not None:
            vals = sorted({c for c in _choices(choices) if c % multiple == 0 and c >= lo and (hi is None or c <= hi)})
            if not vals:
                raise SymcalcError(f"no allowed value (multiple of {multiple}, in [{lo}, {hi}]) among the choices")
            self.values: Optional[list[int]] = vals
            self.k_lo, self.k_hi = 0, len(vals) - 1
        else:
            self.values = None
            self.k_lo = -(-lo // multiple)
            self.k_hi = None if hi is None else hi // multiple
            if self.k_hi is not None and self.k_hi < self.k_lo:
                raise SymcalcError(f"no multiple of {multiple} lies in [{lo}, {hi}]")

    def value(self, k: int) -> int:
        return self.values[k] if self.values is not None else k * self.m

    def index_at_or_below(self, r: Expr) -> Optional[int]:
        """Index of the largest allowed value ≤ r (None if none)."""
        if self.values is not None:
            ks = [k for k, v in enumerate(self.values) if v <= r]
            return ks[-1] if ks else None
        k = int(floor(r / self.m))
        if self.k_hi is not None:
            k = min(k, self.k_hi)
        return k if k >= self.k_lo else None

    def index_at_or_above(self, r: Expr) -> Optional[int]:
        if self.values is not None:
            ks = [k for k, v in enumerate(self.values) if v >= r]
            return ks[0] if ks else None
        k = max(int(ceiling(r / self.m)), self.k_lo)
        return k if self.k_hi is None or k <= self.k_hi else None


# --- the engine ----------------------------------------------------------------------------------
def _total(quantity: Any) -> Expr:
    if isinstance(quantity, Breakdown):
        return quantity.total
    if isinstance(quantity, str):
        raise SymcalcError(f"quantity={quantity!r:.60} is a string; pass a sympy expression or a Breakdown (never parsed)")
    return as_expr("quantity", quantity)


def _prepare(quantity: Any, symbol: Symbol, budget: Any, subs: Any) -> tuple[Expr, Expr]:
    symbol = as_symbol("symbol", symbol)
    expr = _total(quantity)
    if subs is not None:
        expr = expr.subs(as_substitutions(subs))
    extra = expr.free_symbols - {symbol}
    if extra:
        raise SymcalcError(
            f"the quantity still depends on {', '.join(sorted(map(str, extra)))} besides {symbol}; give their values"
        )
    budget = as_amount("budget", budget)
    if budget.free_symbols:
        raise SymcalcError(f"budget {budget} is symbolic; give a number")
    return expr, budget


def _le(value: Expr, budget: Expr) -> bool:
    try:
        return bool(value <= budget)
    except TypeError:
        return bool((value - budget).evalf(60) <= 0)


def _real_roots(expr: Expr, symbol: Symbol, budget: Expr) -> Optional[tuple[list[Expr], list[Expr]]]:
    """Exact real roots of expr = budget in the symbol, and the points where expr may jump (its real
    poles and the breakpoints of a ``Piecewise``/``Max``/``Min`` in the symbol); None when there is
    no closed form.

    The symbol is relaxed to a real variable (:func:`symcalc.relax.relax`'s route: the integer
    answer is then chosen among the allowed values next to these points and checked exactly). A
    ``Piecewise`` in the symbol (the ZeRO buffers' ``d > 1``, ``Max(1, g/t)`` KV heads per device)
    is split at its breakpoints: between two of them every condition keeps its truth value, so
    each piece is a smooth expression solved in closed form.
    """
    x = Dummy("x", real=True)
    g = (expr - budget).xreplace({symbol: x})
    if any(x in a.free_symbols for a in g.atoms(floor, ceiling)):
        return None
    g = g.replace(lambda e: isinstance(e, (Max, Min)) and x in e.free_symbols, lambda e: e.rewrite(Piecewise))
    pieces = [pw for pw in g.atoms(Piecewise) if x in pw.free_symbols]
    if not pieces:
        return _smooth_roots(g, x)
    breaks: set = set()
    for pw in pieces:
        for _, cond in pw.args:
            for rel in (cond.atoms(Relational) if cond is not true else ()):
                if x in rel.free_symbols:
                    found = _smooth_roots(rel.lhs - rel.rhs, x)
                    if found is None:
                        return None
                    breaks |= set(found[0]) | set(found[1])
    ordered = sorted(breaks, key=_key)
    points = [r.evalf(50) for r in ordered]
    samples = ([Rational(points[0] - 1)] + [Rational((a + b) / 2) for a, b in zip(points, points[1:])]
               + [Rational(points[-1] + 1)]) if points else [Integer(0)]
    roots: set = set()
    poles: set = set(ordered)
    for sample in samples:
        piece = _resolved(g, x, sample)
        if piece is None:
            return None
        found = _smooth_roots(piece, x)
        if found is None:
            return None
        roots |= set(found[0])
        poles |= set(found[1])
    return sorted(roots - poles, key=_key), sorted(poles, key=_key)


def _key(r: Expr) -> Expr:
    return r.evalf(30)


class _Undecided(Exception):
    pass


def _resolved(g: Expr, x: Dummy, sample: Expr) -> Optional[Expr]:
    """``g`` with every Piecewise in ``x`` replaced by the branch that holds at ``x = sample``."""

    def pick(*pairs):
        for pair in pairs:
            value, cond = pair.args
            held = cond.xreplace({x: sample}) if x in cond.free_symbols else cond
            if held is true:
                return value
            if held is not false:
                raise _Undecided
        raise _Undecided

    try:
        return g.replace(lambda e: isinstance(e, Piecewise) and x in e.free_symbols, lambda e: pick(*e.args))
    except _Undecided:
        return None


def _smooth_roots(g: Expr, x: Dummy) -> Optional[tuple[list[Expr], list[Expr]]]:
    """Exact real roots and poles of ``g`` (no Piecewise, floor or ceiling in ``x``); None when sympy has no closed form."""
    if any(x in a.free_symbols for a in g.atoms(Piecewise, Function)):
        return None
    try:
        numer, denom = together(g).as_numer_denom()
        poly = Poly(numer, x)
        if poly.domain.is_QQ or poly.domain.is_ZZ:
            poles: list[Expr] = []
            if x in denom.free_symbols:
                dpoly = Poly(denom, x)
                if not (dpoly.domain.is_QQ or dpoly.domain.is_ZZ):
                    raise NotImplementedError
                poles = sorted(set(dpoly.real_roots()), key=_key)
            roots = [r for r in poly.real_roots() if r not in poles]
            return sorted(set(roots), key=_key), poles
    except (PolynomialError, NotImplementedError, ValueError):
        pass
    try:
        sols = solve(g, x, rational=True)
    except (NotImplementedError, ValueError, TypeError):
        return None
    roots = []
    for r in sols:
        if r.free_symbols:
            return None
        if r.is_real is False or abs(im(r.evalf(30))) > 1e-20:
            continue
        roots.append(r)
    return sorted(roots, key=_key), []


#: A finite set of allowed values up to this size is scanned whole when there is no closed form.
_SCAN = 256


def _solve(expr: Expr, symbol: Symbol, budget: Expr, kind: str, *, lo: int, hi: Optional[int],
           multiple_of: Union[int, Sequence[int]], divisor_of: Optional[int], choices: Optional[Sequence[int]],
           unit: str) -> Solution:
    if not isinstance(multiple_of, (list, tuple)):
        multiple_of = [multiple_of]
    m = _lcm(multiple_of)
    lo = as_int("lo", lo, minimum=0)
    hi = None if hi is None else as_int("hi", hi, minimum=0)
    if unit not in UNITS:
        raise SymcalcError(f"unit={unit!r:.60} is unknown; use one of {', '.join(map(repr, UNITS))}")
    if choices is not None:
        choices = _choices(choices)
    if divisor_of is not None:
        divs = divisors(divisor_of)
        choices = divs if choices is None else [c for c in choices if c in set(divs)]
    grid = _Grid(lo, hi, m, choices)
    name = symbol.name

    cache: dict[int, Expr] = {}

    def q(k: int) -> Expr:
        if k not in cache:
            cache[k] = expr.xreplace({symbol: Integer(grid.value(k))})
        return cache[k]

    def fits(k: int) -> bool:
        return _le(q(k), budget)

    def done(k: Optional[int], method: str, root: Optional[Expr] = None) -> Solution:
        if k is None:  # nothing fits: report the best allowed value
            if grid.values is not None and len(grid.values) <= _SCAN:
                best = min(range(len(grid.values)), key=lambda j: q(j).evalf(30))
                return Solution(name, None, method, q(best), budget, False, kind, root, unit)
            k = grid.k_lo if kind == "max" else grid.k_hi  # the lowest for max, the last for min
            if k is None:
                return Solution(name, None, method, _limit_quantity(expr, symbol), budget, False, kind, root, unit)
            return Solution(name, None, method, q(k), budget, False, kind, root, unit)
        return Solution(name, grid.value(k), method, q(k), budget, True, kind, root, unit)

    def answer_ok(k: int) -> bool:
        if not fits(k):
            return False
        if kind == "max":
            return (grid.k_hi is not None and k == grid.k_hi) or not fits(k + 1)
        return k == grid.k_lo or not fits(k - 1)

    found = _real_roots(expr, symbol, budget)
    if found is not None:
        return _closed_form(kind, grid, found, fits, done, name, lo)
    if grid.values is not None and len(grid.values) <= _SCAN:
        order = range(len(grid.values)) if kind == "min" else range(len(grid.values) - 1, -1, -1)
        return done(next((k for k in order if fits(k)), None), "search")
    return _search(kind, grid, fits, done, answer_ok, name, lo)


def _closed_form(kind: str, grid: _Grid, found: tuple[list[Expr], list[Expr]], fits, done, name: str,
                 lo: int) -> Solution:
    """The answer from the exact roots of f = budget and the poles of f, with no monotonicity assumed.

    f - budget keeps its sign between consecutive roots and poles. So the smallest allowed value
    that fits is the lowest allowed value, or the first allowed value at or above some root or
    pole; the largest is the highest allowed value, or the last at or below some root or pole.
    Checking those few candidates in order answers exactly (and proves that nothing fits when
    none does).
    """
    roots, poles = found
    crit = sorted(set(roots) | set(poles), key=lambda r: r.evalf(30))
    root_of = {}
    if kind == "min":
        cands = {grid.k_lo}
        for r in crit:
            k = grid.index_at_or_above(r)
            if k is not None:
                cands.add(k)
                root_of.setdefault(k, r)
                if grid.value(k) == r and (grid.k_hi is None or k < grid.k_hi):
                    cands.add(k + 1)  # f may jump at r itself (a pole, a Piecewise breakpoint)
        k = next((k for k in sorted(cands) if fits(k)), None)
        return done(k, "closed-form", root_of.get(k) if k is not None and k in root_of else None)
    cands = set() if grid.k_hi is None else {grid.k_hi}
    for r in crit:
        k = grid.index_at_or_below(r)
        if k is not None:
            cands.add(k)
            root_of.setdefault(k, r)
            if grid.value(k) == r and k > grid.k_lo:
                cands.add(k - 1)  # f may jump at r itself (a pole, a Piecewise breakpoint)
    if grid.k_hi is None:
        # Beyond the last root or pole the sign of f - budget no longer changes.
        beyond = grid.k_lo
        if crit:
            beyond = grid.index_at_or_above(crit[-1])
            if grid.value(beyond) == crit[-1]:
                beyond += 1
        if fits(beyond):
            raise SymcalcError(f"every {name} ≥ {grid.value(beyond)} fits the budget; give an upper bound (hi=)")
    k = next((k for k in sorted(cands, reverse=True) if fits(k)), None)
    return done(k, "closed-form", root_of.get(k) if k is not None else None)


def _limit_quantity(expr: Expr, symbol: Symbol) -> Expr:
    """The quantity as the unknown grows without bound (a Piecewise resolved at a huge value first)."""
    x = Dummy("x", positive=True)
    g = expr.xreplace({symbol: x})
    g = g.replace(lambda e: isinstance(e, (Max, Min)) and x in e.free_symbols, lambda e: e.rewrite(Piecewise))
    far = _resolved(g, x, Integer(10**40))
    try:
        if far is None:
            raise NotImplementedError
        return limit(far, x, oo)
    except (NotImplementedError, ValueError, TypeError):  # pragma: no cover - sympy could not take the limit
        return expr.xreplace({symbol: Integer(2**64)})


def _search(kind: str, grid: _Grid, fits, done, answer_ok, name: str, lo: int) -> Solution:
    """Exponential bracketing then bisection over the allowed values (monotone f assumed)."""
    cap = 2**64
    if kind == "max":
        k = grid.k_lo
        if not fits(k):
            return done(None, "search")
        step = 1
        while True:
            j = k + step
            if grid.k_hi is not None and j > grid.k_hi:
                j = grid.k_hi
                if j == k or fits(j):
                    return _checked(j, answer_ok, done, name)
            elif step > cap:
                raise SymcalcError(f"every {name} ≥ {lo} fits the budget; give an upper bound (hi=)")
            if not fits(j):
                good, bad = k, j
                break
            k, step = j, step * 2
    else:
        if fits(grid.k_lo):
            return _checked(grid.k_lo, answer_ok, done, name)
        bad, step = grid.k_lo, 1
        while True:
            j = bad + step
            if grid.k_hi is not None and j >= grid.k_hi:
                j = grid.k_hi
                if not fits(j):
                    return done(None, "search")
                good = j
                break
            if step > cap:
                return done(None, "search")
            if fits(j):
                good = j
                break
            bad, step = j, step * 2
    while abs(good - bad) > 1:
        mid = (good + bad) // 2
        if fits(mid):
            good = mid
        else:
            bad = mid
    return _checked(good, answer_ok, done, name)


def _checked(k: int, answer_ok, done, name: str) -> Solution:
    if not answer_ok(k):  # pragma: no cover - only a non-monotone quantity gets here
        raise SymcalcError(f"the quantity is not monotone in {name} near {k}; the answer cannot be trusted")
    return done(k, "search")


def max_integer(quantity: Any, symbol: Union[Symbol, str], budget: Any, *, lo: int = 1, hi: Optional[int] = None,
                multiple_of: Union[int, Sequence[int]] = 1, divisor_of: Optional[int] = None,
                choices: Optional[Sequence[int]] = None, subs: Any = None, unit: str = "") -> Solution:
    """The largest allowed integer x with quantity(x) ≤ budget (quantity increasing in x).

    .. math::

        x^* = \\max\\{x \\in X : f(x) \\le B\\},\\quad X = \\{x \\in [lo, hi] : m \\mid x,\\ x \\mid n\\}

    Examples
    ========

    >>> from symcalc.symbols import d_model as h
    >>> max_integer(12 * 32 * h**2, h, 7 * 10**9, multiple_of=128).value
    4224
    >>> sol = max_integer(12 * 32 * h**2, h, 10**6, lo=64)
    >>> sol.feasible, int(sol.shortfall)
    (False, 572864)

    Parameters
    ==========

    quantity : expression or Breakdown (its total), increasing in ``symbol``
    symbol : the unknown (a symbol or its name)
    budget : the bound (a number; a string such as "1e24" is parsed exactly)
    lo, hi : the range of x (hi=None: unbounded)
    multiple_of : x must be a multiple of this (or of each of a list: 64 and the head count)
    divisor_of : x must divide this (e.g. the TP degree divides the head count)
    choices : x must be one of these (e.g. ZeRO stages 0-3, powers of two)
    subs : values for the quantity's other symbols
    unit : a label for the budget, e.g. "bytes"
    """
    sym = as_symbol("symbol", symbol)
    expr, b = _prepare(quantity, sym, budget, subs)
    return _solve(expr, sym, b, "max", lo=lo, hi=hi, multiple_of=multiple_of, divisor_of=divisor_of,
                  choices=choices, unit=unit)


def min_integer(quantity: Any, symbol: Union[Symbol, str], budget: Any, *, lo: int = 1, hi: Optional[int] = None,
                multiple_of: Union[int, Sequence[int]] = 1, divisor_of: Optional[int] = None,
                choices: Optional[Sequence[int]] = None, subs: Any = None, unit: str = "") -> Solution:
    """The smallest allowed integer x with quantity(x) ≤ budget (quantity decreasing in x).

    The TP degree, PP degree, ZeRO stage or device count that fits: memory per device falls as
    they grow. Same options as :func:`max_integer`.

    >>> from symcalc.symbols import tp
    >>> min_integer(80 + 640 / tp, tp, 100, divisor_of=64).value
    32
    >>> min_integer(80 + 640 / tp, tp, 50).shortfall     # never fits: 80 is the floor
    30
    """
    sym = as_symbol("symbol", symbol)
    expr, b = _prepare(quantity, sym, budget, subs)
    return _solve(expr, sym, b, "min", lo=lo, hi=hi, multiple_of=multiple_of, divisor_of=divisor_of,
                  choices=choices, unit=unit)
