"""The exact path's fast variant: an expression as Python code on integer numerators and denominators.

:class:`~symcalc.numeric.CompiledExpr` (``exact=True``) evaluates with :class:`fractions.Fraction`,
exact but about a microsecond per operation: every ``+`` normalises by a gcd. When every argument
is a Python ``int`` (the usual case: sizes, degrees, token counts), the same value comes out of
integer arithmetic alone. Each subexpression is kept as a pair ``numerator / denominator`` in the
generated code, where the denominator is a product of *known positive* factors (the argument
symbols declared positive, temporaries whose sign sympy's assumptions prove, positive constants)
held as a multiset at compile time:

- a sum brings its terms over the least multiset of their denominators (``a/t + b/(t·p)`` is
  ``(a·p + b)/(t·p)``), so no division ever runs;
- ``Max``/``Min`` compare numerators over the common (positive) denominator, a relation compares
  cross products, ``floor``/``ceiling`` are Python's floor division, a ``Piecewise`` is a
  conditional expression over a common denominator (branches evaluated lazily);
- the result is one ``divmod``: an ``int`` when the denominator divides, else a ``Fraction``.

Denominators are products of positive integers, so none is ever zero. The generated function
first checks that every argument is an ``int`` meeting its symbol's sign assumption (positive or
nonnegative) and otherwise returns :data:`SLOW`, telling the caller to take the ``Fraction`` path.
Expressions with anything else (floats, non-integer powers, functions other than the above)
raise :class:`Unsupported` at compile time and keep the ``Fraction`` path only. Results are
identical to the ``Fraction`` path: same value, same type (``int`` when whole).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Optional

from sympy import (
    Add, And, Eq, Integer, Max, Min, Mul, Ne, Not, Or, Piecewise, Pow, Rational, cse, ceiling, floor,
)
from sympy.core.relational import Relational
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

__all__ = ["SLOW", "Unsupported", "int_function", "finish"]


class Unsupported(Exception):
    """The expression has a construct the integer code does not handle (the Fraction path does)."""


#: Returned by a generated function when an argument is not a plain ``int`` within its symbol's sign.
SLOW = object()


class _Val:
    """A value in generated code: ``num / (c · Π f**k for f, k in den)``, den factors positive names."""

    __slots__ = ("num", "den", "c")

    def __init__(self, num: str, den: dict | None = None, c: int = 1) -> None:
        self.num, self.den, self.c = num, den or {}, c


def _product(factors: dict, c: int = 1) -> str:
    """Code for ``c · Π f**k``."""
    items = [str(c)] if c != 1 else []
    for name, k in sorted(factors.items()):
        items.append(name if k == 1 else f"{name}**{k}")
    return "*".join(items) or "1"


def _common(vals: list) -> tuple[list, dict, int]:
    """The numerators of ``vals`` over their least common denominator, and that denominator."""
    den: dict = {}
    for v in vals:
        for f, k in v.den.items():
            den[f] = max(den.get(f, 0), k)
    c = math.lcm(*(v.c for v in vals)) if vals else 1
    nums = []
    for v in vals:
        extra = {f: k - v.den.get(f, 0) for f, k in den.items() if k > v.den.get(f, 0)}
        scale = _product(extra, c // v.c)
        nums.append(v.num if scale == "1" else scale if v.num == "1" else f"({v.num})*{scale}")
    return nums, den, c


class _Generator:
    def __init__(self, args: tuple) -> None:
        self.lines: list[str] = []
        self.env: dict = {}
        self.count = 0
        for i, a in enumerate(args):
            self.env[a] = _Val(f"a{i}")

    def temp(self, code: str) -> str:
        if code.isidentifier() or code.lstrip("-").isdigit():
            return code
        name = f"t{self.count}"
        self.count += 1
        self.lines.append(f"{name} = {code}")
        return name

    def gen(self, e: Any) -> _Val:
        if e in self.env:
            return self.env[e]
        if isinstance(e, Integer):
            return _Val(f"({e.p})" if e.p < 0 else str(e.p))
        if isinstance(e, Rational):
            return _Val(f"({e.p})" if e.p < 0 else str(e.p), c=int(e.q))
        if isinstance(e, Add):
            return self.add([self.gen(a) for a in e.args])
        if isinstance(e, Mul):
            return self.mul(e)
        if isinstance(e, Pow):
            return self.pow(e)
        if isinstance(e, (Max, Min)):
            nums, den, c = _common([self.gen(a) for a in e.args])
            fn = "max" if isinstance(e, Max) else "min"
            return _Val(f"{fn}({', '.join(nums)})", den, c)
        if isinstance(e, (floor, ceiling)):
            v = self.gen(e.args[0])
            d = _product(v.den, v.c)
            if d == "1":
                return v
            code = f"({v.num})//({d})" if isinstance(e, floor) else f"-((-({v.num}))//({d}))"
            return _Val(f"({code})")
        if isinstance(e, Piecewise):
            if not isinstance(e.args[-1].cond, BooleanTrue):
                raise Unsupported("a Piecewise without a default branch")
            vals = [self.gen(branch.expr) for branch in e.args]
            conds = [self.cond(branch.cond) for branch in e.args]
            nums, den, c = _common(vals)
            code = nums[-1]
            for num, cond in zip(reversed(nums[:-1]), reversed(conds[:-1])):
                code = f"({num} if {cond} else {code})"
            return _Val(code, den, c)
        raise Unsupported(f"{type(e).__name__} has no integer code")

    def add(self, vals: list) -> _Val:
        groups: dict = {}
        for v in vals:
            groups.setdefault((tuple(sorted(v.den.items())), v.c), []).append(v.num)
        merged = [_Val(" + ".join(nums) if len(nums) > 1 else nums[0], dict(den), c) for (den, c), nums in groups.items()]
        if len(merged) == 1:
            v = merged[0]
            return _Val(f"({v.num})" if len(groups[next(iter(groups))]) > 1 else v.num, v.den, v.c)
        nums, den, c = _common(merged)
        return _Val("(" + " + ".join(nums) + ")", den, c)

    def mul(self, e: Mul) -> _Val:
        coeff, rest = e.as_coeff_Mul()
        if not coeff.is_Rational:
            raise Unsupported(f"the number {coeff} is not exact")
        p, q = int(coeff.p), int(coeff.q)
        nums, den = [], {}
        for factor in Mul.make_args(rest):
            v = self.gen(factor)
            if v.num != "1":
                nums.append(v.num)
            for f, k in v.den.items():
                den[f] = den.get(f, 0) + k
            q *= v.c
        g = math.gcd(p, q)
        p, q = p // g, q // g
        if p != 1 or not nums:
            nums.insert(0, f"({p})" if p < 0 else str(p))
        return _Val("*".join(nums), den, q)

    def pow(self, e: Pow) -> _Val:
        base, exp = e.args
        if not isinstance(exp, Integer):
            raise Unsupported("non-integer power")
        k = int(exp)
        if k < 0:
            if not base.is_positive:
                raise Unsupported(f"1/({base}) with a base not known to be positive")
            v = self.gen(base)
            name = self.temp(v.num)
            inv = _Val(_product(v.den, v.c), {name: 1})
            k = -k
        else:
            inv = self.gen(base)
        if k == 1:
            return inv
        num = inv.num if inv.num == "1" else f"({inv.num})**{k}"
        return _Val(num, {f: m * k for f, m in inv.den.items()}, inv.c**k)

    def cond(self, c: Any) -> str:
        if c in self.env:
            return self.env[c].num
        if isinstance(c, BooleanTrue):
            return "True"
        if isinstance(c, BooleanFalse):
            return "False"
        if isinstance(c, And):
            return "(" + " and ".join(self.cond(a) for a in c.args) + ")"
        if isinstance(c, Or):
            return "(" + " or ".join(self.cond(a) for a in c.args) + ")"
        if isinstance(c, Not):
            return f"(not {self.cond(c.args[0])})"
        if isinstance(c, Relational):
            (lhs, rhs), _, _ = _common([self.gen(c.lhs), self.gen(c.rhs)])
            op = "==" if isinstance(c, Eq) else "!=" if isinstance(c, Ne) else c.rel_op
            return f"({lhs} {op} {rhs})"
        raise Unsupported(f"condition {type(c).__name__}")


def _coprime_fraction(n: int, d: int) -> Fraction:
    """``Fraction(n, d)`` for ints with ``d > 0``, without Fraction's argument checks (a third of the cost)."""
    g = math.gcd(n, d)
    f = _new(Fraction)
    f._numerator, f._denominator = n // g, d // g
    return f


_new = object.__new__
try:  # Fraction's slots are private; use them only where they behave as the public constructor
    _ok = _coprime_fraction(-6, 4) == Fraction(-3, 2) and hash(_coprime_fraction(6, 4)) == hash(Fraction(3, 2))
except (AttributeError, TypeError):
    _ok = False
_FRACTION = _coprime_fraction if _ok else Fraction


def finish(num: int, den: int) -> Any:
    """The value of a pair returned raw by :func:`int_function`: an ``int`` when whole, else a ``Fraction``.

    >>> finish(6, 3), finish(-3, 6)
    (2, Fraction(-1, 2))
    """
    q, m = divmod(num, den)
    return q if not m else _FRACTION(num, den)


def int_function(args: tuple, exprs: Any, raw_from: Optional[int] = None) -> tuple:
    """``(function, source)``: ``exprs`` (one expression or a tuple) on int arguments; raises :class:`Unsupported`.

    With ``raw_from`` (a tuple of expressions), the outputs from that index on come back as pairs
    ``(numerator, denominator)`` (the denominator positive, the pair not reduced) for :func:`finish`, for
    callers that need those values only for some of the calls.

    >>> from symcalc.symbols import tp, micro_batch as b
    >>> from sympy import Max
    >>> f, src = int_function((b, tp), 3 * b * Max(1, 8 / tp) + 5 * b / (2 * tp))
    >>> f(4, 2), f(2, 4), f(1, 16)                 # 48 + 5, 12 + 5/4, 3 + 5/32
    (53, Fraction(53, 4), Fraction(101, 32))
    >>> f(2.0, 4) is SLOW, f(0, 4) is SLOW
    (True, True)
    >>> g, _ = int_function((b, tp), (b + 1, b / tp), raw_from=1)
    >>> g(3, 2)
    (4, (3, 2))
    """
    many = isinstance(exprs, tuple)
    gen = _Generator(tuple(args))
    replacements, reduced = cse(list(exprs) if many else [exprs], order="none")
    for sym, sub in replacements:
        if isinstance(sub, Boolean):
            gen.env[sym] = _Val(gen.temp(gen.cond(sub)))
            continue
        v = gen.gen(sub)
        name = gen.temp(v.num)
        gen.env[sym] = _Val(name, v.den, v.c)
    outputs = []
    for i, e in enumerate(reduced):
        v = gen.gen(e)
        d = _product(v.den, v.c)
        if raw_from is not None and many and i >= raw_from:
            gen.lines.append(f"r{i} = ({v.num}, {d})")
        elif d == "1":
            gen.lines.append(f"r{i} = {v.num}")
        else:
            gen.lines.append(f"n{i} = {v.num}")
            gen.lines.append(f"d{i} = {d}")
            gen.lines.append(f"q{i}, m{i} = divmod(n{i}, d{i})")
            gen.lines.append(f"r{i} = q{i} if not m{i} else Fraction(n{i}, d{i})")
        outputs.append(f"r{i}")
    checks = []
    for i, a in enumerate(args):
        sign = " and a{0} > 0" if a.is_positive else " and a{0} >= 0" if a.is_nonnegative else ""
        checks.append(f"type(a{i}) is int" + sign.format(i))
    params = ", ".join(f"a{i}" for i in range(len(args)))
    body = [f"def _int_path({params}):"]
    if checks:
        body.append(f"    if not ({' and '.join(checks)}):")
        body.append("        return SLOW")
    body += [f"    {line}" for line in gen.lines]
    body.append(f"    return ({', '.join(outputs)},)" if many else f"    return {outputs[0]}")
    source = "\n".join(body) + "\n"
    namespace = {"Fraction": _FRACTION, "SLOW": SLOW}
    exec(compile(source, "<symcalc int path>", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace["_int_path"], source
