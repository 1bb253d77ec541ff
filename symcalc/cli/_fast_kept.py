"""Exact values c0 + c1 (p/q)^T holding one power kept as a power, for ``symcalc serve``'s sympy-free path.

The full path keeps an expected-experts power (p/q)^T unevaluated when written out it would be huge
(:mod:`symcalc._routedpower`, :func:`symcalc._powers.kept`); a generated ``serve`` function is
affine in it (the expected experts E (1 - x) enter each count linearly), so :class:`Kept` holds
each number as c0 + c1 x with Fractions, decides comparisons and rounds floats with
:mod:`symcalc._powers` (as the full path does) and prints the exact value as sympy prints the
full path's expression (``7/3 - 4*(3/4)**40000/9``; :class:`Over` for ``8192/(...)``).

>>> x = Kept(5, -1, (3, 4, 40000))
>>> str(x), str(Over(8192, x)), float(x), x.sign()
('5 - (3/4)**40000', '8192/(5 - (3/4)**40000)', 5.0, 1)
"""

from __future__ import annotations

from fractions import Fraction

from .._powers import ratio_float, sign

__all__ = ["Kept", "Over", "kept_or_number"]


def kept_or_number(c0, c1, power: tuple):
    """``c0 + c1 x``: the number c0 when c1 is 0 (an int when whole, as the rest of the fast path)."""
    if c1 == 0:
        c0 = Fraction(c0)
        return c0.numerator if c0.denominator == 1 else c0
    return Kept(c0, c1, power)


class Kept:
    """c0 + c1 (p/q)^T, exactly (``power`` = (p, q, T))."""

    __slots__ = ("c0", "c1", "power")

    def __init__(self, c0, c1, power: tuple) -> None:
        self.c0, self.c1, self.power = Fraction(c0), Fraction(c1), power

    def _parts(self, other) -> tuple:
        if isinstance(other, Kept):
            if other.power != self.power:
                raise ValueError("two different kept powers")
            return other.c0, other.c1
        return Fraction(other), Fraction(0)

    def __add__(self, other):
        c0, c1 = self._parts(other)
        return kept_or_number(self.c0 + c0, self.c1 + c1, self.power)

    __radd__ = __add__

    def __sub__(self, other):
        c0, c1 = self._parts(other)
        return kept_or_number(self.c0 - c0, self.c1 - c1, self.power)

    def __rsub__(self, other):
        c0, c1 = self._parts(other)
        return kept_or_number(c0 - self.c0, c1 - self.c1, self.power)

    def __mul__(self, k):
        return kept_or_number(self.c0 * k, self.c1 * k, self.power)

    __rmul__ = __mul__

    def __truediv__(self, k):
        return kept_or_number(self.c0 / k, self.c1 / k, self.power)

    def __rtruediv__(self, k):
        return Over(k, self)

    def __eq__(self, other) -> bool:
        return isinstance(other, Kept) and (self.c0, self.c1, self.power) == (other.c0, other.c1, other.power)

    __hash__ = None

    def poly(self) -> list:
        return [((0,), self.c0), ((1,), self.c1)]

    def sign(self) -> int:
        """-1, 0 or 1, exactly."""
        return sign(self.poly(), [self.power])

    def __float__(self) -> float:
        return ratio_float(self.poly(), [((0,), 1)], [self.power])

    def __str__(self) -> str:
        """As sympy prints c0 + c1*(p/q)**T for c0 > 0 (the only case a time or a byte count takes)."""
        p, q, t = self.power
        a = abs(self.c1)
        term = f"({p}/{q})**{t}"
        term = term if a.numerator == 1 else f"{a.numerator}*{term}"
        term = term if a.denominator == 1 else f"{term}/{a.denominator}"
        if self.c0 <= 0:
            raise ValueError("a kept value's text is written for c0 > 0")
        return f"{term} + {self.c0}" if self.c1 > 0 else f"{self.c0} - {term}"


class Over:
    """``k / value`` of a whole number k and a :class:`Kept` value, exactly."""

    __slots__ = ("k", "den")

    def __init__(self, k, den: Kept) -> None:
        if Fraction(k).denominator != 1 or k <= 0:
            raise ValueError("Over takes a positive whole numerator")
        self.k, self.den = int(k), den

    def __float__(self) -> float:
        return ratio_float([((0,), self.k)], self.den.poly(), [self.den.power])

    def __str__(self) -> str:
        return f"{self.k}/({self.den})"
