"""Inverse questions: the largest (or smallest) integer that fits a budget.

Because every quantity is an expression, "the largest x with f(x) ≤ budget" has a closed form
wherever sympy can solve f(x) = budget. The engine (:func:`max_integer`, :func:`min_integer`)

1. substitutes every other value, so the expression depends on ``x`` alone;
2. solves f(x) = budget exactly (``Poly.real_roots`` for polynomials and rational functions,
   ``sympy.solve`` otherwise), rounds each real root to the allowed values (multiples, divisors,
   a list of choices) and CHECKS the answer: it fits at x and not at the next allowed value;
3. only when that fails (no closed form, e.g. a ``ceiling`` or ``Piecewise`` in x, or a check
   that fails) falls back to a bracketed integer search: exponential bracketing, then bisection,
   assuming f is monotone, verified at the answer in the same way.

The :class:`Solution` says which method answered. An unsatisfiable budget is an answer too
(``feasible=False``, with the shortfall), not an exception.

Conventions: budgets and values are exact sympy numbers; byte budgets accept "80GiB", "80 GB",
"512MiB", "1e9" (:func:`parse_bytes`, a regex and ``fractions.Fraction``: never ``eval``);
GiB = 2^30 bytes, GB = 10^9 bytes.

>>> from symcalc.symbols import micro_batch as b
>>> sol = max_integer(10 * b**2 + 3 * b + 7, b, 1000)
>>> sol.value, sol.method, sol.quantity
(9, 'closed-form', 844)
>>> max_integer(10 * b**2, b, 5).feasible
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from math import gcd
from typing import Any, Callable, Optional, Sequence, Union

from sympy import (Dummy, Expr, Function, Integer, Piecewise, Poly, PolynomialError, Rational, Symbol,
                   ceiling, floor, im, limit, oo, solve, sympify, together)

from . import symbols as S
from .breakdown import Breakdown, as_substitutions
from .errors import SymcalcError
from .model import Model

__all__ = [
    "Solution", "max_integer", "min_integer", "parse_bytes", "parse_number",
    "model_family", "max_size", "max_d_model", "max_n_layers", "max_tokens",
]

_NUMBER = r"[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"
_BYTES_RE = re.compile(rf"^\s*({_NUMBER})\s*([kKmMgGtTpP]?i?)\s*[bB]?(?:ytes?)?\s*$")
_SCALE = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}


def parse_number(text: Any, what: str = "number") -> Expr:
    """An exact non-negative number from text such as ``"1e24"``, ``"5.76e23"``, ``"3/2"``.

    >>> parse_number("5.76e23")
    576000000000000000000000
    """
    if isinstance(text, (int, Fraction)) and not isinstance(text, bool):
        value = Fraction(text)
    elif isinstance(text, Expr) and text.is_Rational:
        return text
    else:
        try:
            value = Fraction(str(text).strip().replace("_", ""))
        except (ValueError, ZeroDivisionError):
            raise SymcalcError(f"{what} {text!r} is not a number; write e.g. 1e24 or 5.76e23") from None
    if value < 0:
        raise SymcalcError(f"{what} {text!r} is negative; it must be zero or more")
    return Rational(value.numerator, value.denominator)


def parse_bytes(text: Any) -> Expr:
    """Bytes from ``"80GiB"``, ``"80 GB"``, ``"512MiB"``, ``"1e9"`` (exact; GiB = 2^30, GB = 10^9).

    >>> parse_bytes("80GiB"), parse_bytes("80 GB"), parse_bytes("512 MiB"), parse_bytes("1e9")
    (85899345920, 80000000000, 536870912, 1000000000)
    >>> parse_bytes("eighty")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: memory size 'eighty' is not understood; write e.g. 80GiB, 80GB, 512MiB or 1e9 (bytes)
    """
    if not isinstance(text, str):
        return parse_number(text, "memory size")
    match = _BYTES_RE.match(text)
    if not match:
        raise SymcalcError(f"memory size {text!r} is not understood; write e.g. 80GiB, 80GB, 512MiB or 1e9 (bytes)")
    number, prefix = match.groups()
    value = Fraction(number.replace("_", "")) * _SCALE[prefix.lower()]
    return Rational(value.numerator, value.denominator)


@dataclass(frozen=True)
class Solution:
    """The answer to an inverse question.

    ``value`` is the integer answer (None when nothing fits); ``method`` is ``"closed-form"``
    or ``"search"``; ``quantity`` is the expression's exact value at the answer (at the best
    allowed value when nothing fits); ``headroom = budget - quantity`` (negative: the
    shortfall when nothing fits).
    """

    symbol: str
    value: Optional[int]
    method: str
    quantity: Expr
    budget: Expr
    feasible: bool
    kind: str = "max"
    root: Optional[Expr] = field(default=None, compare=False)
    unit: str = ""

    @property
    def headroom(self) -> Expr:
        """budget - quantity at the answer (negative when nothing fits)."""
        return self.budget - self.quantity

    @property
    def shortfall(self) -> Expr:
        """How much the budget is short by when nothing fits (0 when something fits)."""
        return Integer(0) if self.feasible else self.quantity - self.budget

    def __int__(self) -> int:
        if self.value is None:
            raise SymcalcError(f"no {self.symbol} fits the budget {self.budget}; short by {self.shortfall}")
        return self.value

    def _num(self, v: Expr) -> Any:
        return int(v) if v.is_integer else float(v)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: the answer, how it was found, and the margins."""
        out = {
            self.symbol: self.value,
            "feasible": self.feasible,
            "method": self.method,
            "quantity_at_answer": self._num(self.quantity),
            "budget": self._num(self.budget),
            "headroom": self._num(self.headroom),
        }
        if not self.feasible:
            out["shortfall"] = self._num(self.shortfall)
        if self.unit:
            out["unit"] = self.unit
        return out

    def __str__(self) -> str:
        if not self.feasible:
            return f"nothing fits: {self.symbol}={self.value} needs {self.quantity}, {self.shortfall} over the budget {self.budget}"
        return f"{self.symbol} = {self.value} ({self.method}); {self.quantity} of {self.budget}, headroom {self.headroom}"


# --- allowed values ------------------------------------------------------------------------------
def _lcm(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        v = int(v)
        if v < 1:
            raise SymcalcError(f"multiple_of={v} must be a positive integer")
        out = out * v // gcd(out, v)
    return out


class _Grid:
    """The allowed integers, in order: multiples of m in [lo, hi], or a finite list."""

    def __init__(self, lo: int, hi: Optional[int], multiple: int, choices: Optional[Sequence[int]]):
        self.m = multiple
        if choices is not None:
            vals = sorted({int(c) for c in choices if int(c) % multiple == 0 and int(c) >= lo and (hi is None or int(c) <= hi)})
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
    return sympify(quantity, strict=True)


def _prepare(quantity: Any, symbol: Symbol, budget: Any, subs: Any) -> tuple[Expr, Expr]:
    if isinstance(symbol, str):
        symbol = S.by_name(symbol)
    expr = _total(quantity)
    if subs:
        expr = expr.subs(as_substitutions(subs))
    extra = expr.free_symbols - {symbol}
    if extra:
        raise SymcalcError(
            f"the quantity still depends on {', '.join(sorted(map(str, extra)))} besides {symbol}; give their values"
        )
    budget = parse_number(budget, "budget") if isinstance(budget, str) else sympify(budget, strict=True)
    if budget.free_symbols:
        raise SymcalcError(f"budget {budget} is symbolic; give a number")
    return expr, budget


def _le(value: Expr, budget: Expr) -> bool:
    try:
        return bool(value <= budget)
    except TypeError:
        return bool((value - budget).evalf(60) <= 0)


def _real_roots(expr: Expr, symbol: Symbol, budget: Expr) -> Optional[list[Expr]]:
    """Exact real roots of expr = budget in the symbol; None when there is no closed form."""
    x = Dummy("x", real=True)
    g = (expr - budget).xreplace({symbol: x})
    if any(x in a.free_symbols for a in g.atoms(floor, ceiling, Piecewise, Function)):
        return None
    try:
        numer, denom = together(g).as_numer_denom()
        poly = Poly(numer, x)
        if poly.domain.is_QQ or poly.domain.is_ZZ:
            roots = [r for r in poly.real_roots() if not (denom.free_symbols and denom.xreplace({x: r}) == 0)]
            return sorted(set(roots), key=lambda r: r.evalf(30))
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
    return sorted(roots, key=lambda r: r.evalf(30))


def _solve(expr: Expr, symbol: Symbol, budget: Expr, kind: str, *, lo: int, hi: Optional[int],
           multiple_of: Union[int, Sequence[int]], divisor_of: Optional[int], choices: Optional[Sequence[int]],
           unit: str) -> Solution:
    if isinstance(multiple_of, int):
        multiple_of = [multiple_of]
    m = _lcm(multiple_of)
    if divisor_of is not None:
        n = int(divisor_of)
        divs = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
        divs = sorted(set(divs + [n // d for d in divs]))
        choices = divs if choices is None else [c for c in choices if c in set(divs)]
    grid = _Grid(int(lo), None if hi is None else int(hi), m, choices)
    name = symbol.name

    cache: dict[int, Expr] = {}

    def q(k: int) -> Expr:
        if k not in cache:
            cache[k] = expr.xreplace({symbol: Integer(grid.value(k))})
        return cache[k]

    def fits(k: int) -> bool:
        return _le(q(k), budget)

    def done(k: Optional[int], method: str, root: Optional[Expr] = None) -> Solution:
        if k is None:  # nothing fits: report the best allowed value (lo for max, the last for min)
            k = grid.k_lo if kind == "max" else grid.k_hi
            if k is None:
                return Solution(name, None, method, _limit_quantity(expr, symbol), budget, False, kind, root, unit)
            return Solution(name, None, method, q(k), budget, False, kind, root, unit)
        return Solution(name, grid.value(k), method, q(k), budget, True, kind, root, unit)

    def last() -> Optional[int]:
        return grid.k_hi

    def answer_ok(k: int) -> bool:
        if not fits(k):
            return False
        if kind == "max":
            return (grid.k_hi is not None and k == grid.k_hi) or not fits(k + 1)
        return k == grid.k_lo or not fits(k - 1)

    roots = _real_roots(expr, symbol, budget)
    if roots is not None:
        method = "closed-form"
        if kind == "max":
            if not fits(grid.k_lo):
                return done(None, method)
            cands = [grid.index_at_or_below(r) for r in reversed(roots) if r >= grid.value(grid.k_lo)]
            if not cands and last() is not None:
                cands = [last()]
        else:
            if grid.k_hi is not None and not fits(grid.k_hi):
                return done(None, method)
            if fits(grid.k_lo):
                return done(grid.k_lo, method)
            cands = [grid.index_at_or_above(r) for r in roots if grid.k_hi is None or r <= grid.value(grid.k_hi)]
        for k, r in zip(cands, roots[::-1] if kind == "max" else roots):
            if k is not None and answer_ok(k):
                return done(k, method, r)
        if kind == "min" and not cands and grid.k_hi is None:
            return done(None, method)
        if kind == "max" and not cands:
            raise SymcalcError(f"every {name} ≥ {lo} fits the budget; give an upper bound (hi=)")
    return _search(kind, grid, fits, done, answer_ok, name, lo)


def _limit_quantity(expr: Expr, symbol: Symbol) -> Expr:
    try:
        return limit(expr, symbol, oo)
    except (NotImplementedError, ValueError):  # pragma: no cover - sympy could not take the limit
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
    >>> sol.feasible, sol.shortfall
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
    expr, b = _prepare(quantity, symbol if not isinstance(symbol, str) else S.by_name(symbol), budget, subs)
    sym = symbol if not isinstance(symbol, str) else S.by_name(symbol)
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
    sym = symbol if not isinstance(symbol, str) else S.by_name(symbol)
    expr, b = _prepare(quantity, sym, budget, subs)
    return _solve(expr, sym, b, "min", lo=lo, hi=hi, multiple_of=multiple_of, divisor_of=divisor_of,
                  choices=choices, unit=unit)


# --- questions about models ----------------------------------------------------------------------
def _auto_multiple(model: Model, symbol: Symbol) -> int:
    """The smallest m such that every size of ``model`` is whole when ``symbol`` is a multiple of m."""
    m = 1
    for fname in ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_head", "d_ff", "vocab", "d_ff_expert"):
        value = getattr(model, fname, None)
        if not isinstance(value, Expr) or symbol not in value.free_symbols:
            continue
        try:
            coeffs = Poly(value, symbol).all_coeffs()
        except PolynomialError:
            continue
        for c in coeffs:
            if c.is_Rational:
                m = _lcm([m, int(c.q)])
    return m


def model_family(model: Model, vary: str = "d_model", *, aspect_ratio: Any = None, d_head: Any = None) -> tuple[Model, Symbol]:
    """``model`` with one size made the unknown, keeping its proportions.

    ``vary="d_model"``: h becomes the symbol h; the MLP keeps its ratio f/h; the head count stays
    (or, with ``d_head=``, grows as h/d_h with the KV heads in proportion); with
    ``aspect_ratio=r`` the depth follows L = h/r (Kaplan et al. 2020 §3.2's h/L). ``vary="n_layers"``:
    L becomes the symbol, everything else stays.

    >>> from symcalc import Model
    >>> fam, h = model_family(Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, d_ff=14336, vocab=128256))
    >>> fam.d_ff, fam.d_head
    (7*d_model/2, d_model/32)
    """
    if vary == "n_layers":
        return model.replace(n_layers=S.n_layers), S.n_layers
    if vary != "d_model":
        raise SymcalcError(f"vary={vary!r}: use 'd_model' or 'n_layers'")
    h = S.d_model
    changes: dict[str, Any] = {"d_model": h, "d_ff": model.d_ff / model.d_model * h}
    if model.is_moe:
        changes["d_ff_expert"] = model.d_ff_expert / model.d_model * h
    if d_head is not None:
        heads = h / sympify(d_head)
        changes.update(n_heads=heads, n_kv_heads=model.n_kv_heads / model.n_heads * heads, d_head=sympify(d_head))
    elif model.d_head != model.d_model / model.n_heads:
        changes["d_head"] = h / model.n_heads
    if aspect_ratio is not None:
        changes["n_layers"] = h / sympify(aspect_ratio)
    return model.replace(**changes), h


def max_size(quantity: Callable[[Model], Any], family: Model, symbol: Symbol, budget: Any, *,
             multiple_of: Union[int, Sequence[int]] = 1, lo: int = 1, hi: Optional[int] = None, unit: str = "") -> Solution:
    """The largest value of ``symbol`` with ``quantity(family)`` ≤ budget, every size whole.

    The multiple needed to keep every size whole (h a multiple of the head count when d_h = h/a,
    of 2 when f = 7h/2, of r when L = h/r) is added to ``multiple_of`` automatically.
    """
    m = [multiple_of] if isinstance(multiple_of, int) else list(multiple_of)
    m.append(_auto_multiple(family, symbol))
    return max_integer(_total(quantity(family)), symbol, budget, multiple_of=m, lo=lo, hi=hi, unit=unit)


def _params_total(model: Model) -> Expr:
    from .params import params

    return params(model).total


def max_d_model(budget: Any, model: Model, *, quantity: Optional[Callable[[Model], Any]] = None,
                multiple_of: Union[int, Sequence[int]] = 1, aspect_ratio: Any = None, d_head: Any = None,
                lo: int = 1, hi: Optional[int] = None) -> Solution:
    """The largest hidden size h with ``quantity`` (default: parameters) within budget.

    Depth is fixed (or L = h/aspect_ratio), proportions kept as :func:`model_family` says.

    >>> from symcalc import Model
    >>> m = Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, d_ff=14336, vocab=128256,
    ...           gated_mlp=True, norm="rmsnorm")
    >>> sol = max_d_model(7 * 10**9, m, multiple_of=128)
    >>> sol.value, sol.method, int(sol.quantity)
    (3712, 'closed-form', 6684454528)
    """
    family, h = model_family(model, "d_model", aspect_ratio=aspect_ratio, d_head=d_head)
    return max_size(quantity or _params_total, family, h, budget, multiple_of=multiple_of, lo=lo, hi=hi,
                    unit="params" if quantity is None else "")


def max_n_layers(budget: Any, model: Model, *, quantity: Optional[Callable[[Model], Any]] = None,
                 multiple_of: Union[int, Sequence[int]] = 1, lo: int = 1, hi: Optional[int] = None) -> Solution:
    """The most layers L at fixed width with ``quantity`` (default: parameters) within budget.

    >>> from symcalc import Model
    >>> m = Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=32, d_ff=16384, vocab=50304)
    >>> max_n_layers(10**10, m).value
    47
    """
    family, L = model_family(model, "n_layers")
    return max_size(quantity or _params_total, family, L, budget, multiple_of=multiple_of, lo=lo, hi=hi,
                    unit="params" if quantity is None else "")


def max_tokens(compute_budget: Any, model: Model, *, flops_per_token: Optional[Callable[[Model], Any]] = None) -> Solution:
    """The most training tokens D with F·D ≤ C for a model (F: training FLOPs per token).

    ``flops_per_token`` defaults to Kaplan's 6N (:func:`symcalc.scaling.kaplan_flops_per_token`).

    >>> from symcalc import Model
    >>> m = Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=32, d_ff=16384, vocab=50304)
    >>> max_tokens("1e23", m).value
    2431289169507
    """
    from .scaling import kaplan_flops_per_token

    F = _total(flops_per_token(model)) if flops_per_token else kaplan_flops_per_token(_params_total(model))
    C = parse_number(compute_budget, "compute budget")
    return max_integer(F * S.tokens, S.tokens, C, unit="FLOP")
