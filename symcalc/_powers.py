"""Exact numbers holding a huge power (p/q)^T, free of sympy: which powers stay powers, their signs and floats.

An MoE step reads the expected distinct experts E (1 - (p/q)^T) of the T tokens it routes
(:mod:`symcalc.serving`). Written out, (p/q)^T is a fraction of about T log2(q) bits: 2 million
routed tokens (a 32k prompt, 64 sequences) make it a number of 1.3 million digits, and exact
arithmetic on it costs seconds per operation (``gcd`` and ``str`` are quadratic in the digits).
So while its denominator q^T has at most :data:`KEEP_BITS` bits the power is evaluated, and past
that it stays the power (p/q)^T inside the exact value (:class:`symcalc._routedpower.RoutedPower`
in sympy, printed ``(3/4)**2097152``): the value is still exact, a polynomial in the powers with
rational coefficients (or a ratio of two), and what the report needs from it is decided here
exactly, without writing the power out:

- :func:`sign` of a polynomial in the powers, and :func:`ratio_float`, the float nearest to a ratio
  of two (correctly rounded, as ``float(Fraction)`` and sympy's ``float(Rational)`` are), from
  rigorous bounds lo <= (p/q)^T <= hi of a few hundred bits (:func:`bounds`), tightened until they
  decide, and from the exact power only when nothing else does (a tie to ~2000 bits).

The same functions serve the full path (:mod:`symcalc._routedpower`) and the sympy-free one
(:mod:`symcalc.cli._fast_serve`), so both print the same numbers.

A polynomial is a sequence of ``(exponents, coefficient)``: one exponent per power, a Fraction (or int).

>>> kept(3, 4, 32768), kept(3, 4, 32769)
(False, True)
>>> lo, hi = bounds(3, 4, 10, 64)
>>> lo <= Fraction(3, 4) ** 10 <= hi, float(hi - lo) < 1e-19
(True, True)
>>> powers = [(3, 4, 2097152)]                       # 1 - (3/4)^2097152, and 5 / that
>>> one_minus = [((0,), 1), ((1,), -1)]
>>> sign(one_minus, powers), ratio_float([((0,), 5)], one_minus, powers)
(1, 5.0)
"""

from __future__ import annotations

import math
from fractions import Fraction

__all__ = ["KEEP_BITS", "kept", "bounds", "sign", "ratio_float", "value"]

#: A power (p/q)^T is evaluated while q^T has at most this many bits (~19,700 digits); past it, it stays a power.
KEEP_BITS = 1 << 16
#: The precisions (significant bits) of the bounds tried before the exact power.
_BITS = (64, 256, 2048)


def kept(p: int, q: int, tokens: int) -> bool:
    """Whether (p/q)^tokens stays a power: T log2(q) > :data:`KEEP_BITS` (0 < p < q)."""
    return tokens * math.log2(q) > KEEP_BITS


def bounds(p: int, q: int, tokens: int, bits: int) -> tuple:
    """Fractions ``lo <= (p/q)^tokens <= hi`` (0 < p < q), each within about 2^-bits of it relatively.

    Binary powering on ``bits + log2(tokens)``-bit mantissas, rounded down for ``lo`` and up for
    ``hi`` at every step: rigorous bounds at any exponent, in microseconds.
    """
    k = bits + tokens.bit_length() + 8

    def power(up: bool) -> Fraction:
        def mul(a: tuple, b: tuple) -> tuple:
            m, e = a[0] * b[0], a[1] + b[1]
            shift = m.bit_length() - k
            if shift > 0:
                m, e = (-((-m) >> shift) if up else m >> shift), e + shift
            return m, e

        base = (-((-(p << k)) // q) if up else (p << k) // q, -k)
        result, n = (1, 0), tokens
        while n:
            if n & 1:
                result = mul(result, base)
            n >>= 1
            if n:
                base = mul(base, base)
        m, e = result
        return Fraction(m << e) if e >= 0 else Fraction(m, 1 << -e)

    return power(False), power(True)


def _interval(poly, boxes: list) -> tuple:
    """Bounds of a polynomial whose variables lie in ``boxes`` (positive intervals)."""
    lo = hi = Fraction(0)
    for exps, c in poly:
        mlo = mhi = Fraction(1)
        for (low, high), a in zip(boxes, exps):
            if a:
                mlo, mhi = mlo * low ** a, mhi * high ** a
        if c >= 0:
            lo, hi = lo + c * mlo, hi + c * mhi
        else:
            lo, hi = lo + c * mhi, hi + c * mlo
    return lo, hi


def value(poly, xs: list) -> Fraction:
    """The polynomial at the exact values ``xs`` of its variables."""
    total = Fraction(0)
    for exps, c in poly:
        term = Fraction(c)
        for x, a in zip(xs, exps):
            term *= x ** a
        total += term
    return total


def _exact(powers) -> list:
    return [Fraction(p ** t, q ** t) for p, q, t in powers]  # slow at large t: only a tie to ~2000 bits needs it


def sign(poly, powers) -> int:
    """The sign (-1, 0, 1) of a polynomial in the powers ``[(p, q, T), ...]``, exactly."""
    for bits in _BITS:
        lo, hi = _interval(poly, [bounds(p, q, t, bits) for p, q, t in powers])
        if lo > 0:
            return 1
        if hi < 0:
            return -1
        if lo == hi == 0:
            return 0
    v = value(poly, _exact(powers))
    return (v > 0) - (v < 0)


def ratio_float(num, den, powers) -> float:
    """The float nearest to ``num / den`` (polynomials in the powers, ``den`` nonzero), correctly rounded."""
    for bits in _BITS:
        boxes = [bounds(p, q, t, bits) for p, q, t in powers]
        (nlo, nhi), (dlo, dhi) = _interval(num, boxes), _interval(den, boxes)
        if dlo > 0 or dhi < 0:  # rounding is monotone: the floats of the corners bound the float of the value
            corners = [float(a / b) for a in (nlo, nhi) for b in (dlo, dhi)]
            if min(corners) == max(corners):
                return corners[0]
    xs = _exact(powers)
    return float(value(num, xs) / value(den, xs))
