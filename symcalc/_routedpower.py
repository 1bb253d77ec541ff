"""A huge power (p/q)^T kept as a power inside exact sympy values (the MoE expected-experts term).

:func:`power` is ``base ** exponent``, except when the exponent is a number large enough that the
power written out would have more than :data:`symcalc._powers.KEEP_BITS` bits in its denominator:
then it is a :class:`RoutedPower`, the same exact number left unevaluated (printed
``(3/4)**2097152``; ``.doit()`` or ``sympy.Pow`` of its arguments writes it out). Values holding
one are still exact: :func:`exact_float`, :func:`exact_sign` and :func:`exact_max` decide them
exactly through :mod:`symcalc._powers` (which the sympy-free CLI path shares), and
:func:`symcalc.display._float` rounds them correctly.

>>> from sympy import Rational
>>> x = power(Rational(3, 4), 2097152)
>>> expr = 5 / (1 - x)
>>> print(x, expr)
(3/4)**2097152 5/(1 - (3/4)**2097152)
>>> exact_float(expr), exact_sign(1 - 2 * x)
(5.0, 1)
>>> power(Rational(3, 4), 4)
81/256
"""

from __future__ import annotations

from typing import Any

from sympy import Dummy, Expr, Function, Integer, Max, Poly, Pow, Rational, fraction, together

__all__ = ["RoutedPower", "power", "exact_float", "exact_sign", "exact_max"]


class RoutedPower(Function):
    """``RoutedPower(p/q, T)``: the number (p/q)^T (0 < p/q < 1, T a positive integer), not written out."""

    is_extended_real = True
    is_finite = True
    is_positive = True
    is_integer = False

    @classmethod
    def eval(cls, base: Expr, exponent: Expr) -> Any:
        return None

    def _eval_evalf(self, prec: int) -> Expr:
        from mpmath.libmp import from_rational, mpf_pow_int
        from sympy import Float

        base, exponent = self.args
        work = prec + int(exponent).bit_length() + 10
        return Float._new(mpf_pow_int(from_rational(int(base.p), int(base.q), work), int(exponent), work), prec)

    def doit(self, **hints: Any) -> Expr:
        return Pow(*self.args)

    def _sympystr(self, printer: Any) -> str:
        base, exponent = self.args
        return f"({base})**{exponent}"

    def _latex(self, printer: Any) -> str:
        base, exponent = self.args
        return rf"\left(\frac{{{base.p}}}{{{base.q}}}\right)^{{{exponent}}}"


def power(base: Expr, exponent: Expr) -> Expr:
    """``base ** exponent``; a :class:`RoutedPower` when both are numbers and the power would be huge."""
    from ._powers import kept

    if isinstance(exponent, int):
        exponent = Integer(exponent)
    if (isinstance(base, Rational) and not isinstance(base, Integer) and 0 < base < 1
            and isinstance(exponent, Integer) and exponent > 0 and kept(int(base.p), int(base.q), int(exponent))):
        return RoutedPower(base, exponent)
    return base ** exponent


def _split(expr: Expr) -> tuple:
    """``(numerator, denominator, powers)``: ``expr`` as a ratio of polynomials in its routed powers."""
    atoms = sorted(expr.atoms(RoutedPower), key=str)
    dummies = [Dummy() for _ in atoms]
    num, den = fraction(together(expr.xreplace(dict(zip(atoms, dummies)))))

    def poly(e: Expr) -> list:
        from fractions import Fraction

        return [(exps, Fraction(int(c.p), int(c.q))) for exps, c in Poly(e, *dummies).terms()]

    powers = [(int(a.args[0].p), int(a.args[0].q), int(a.args[1])) for a in atoms]
    return poly(num), poly(den), powers


def _has(expr: Any) -> bool:
    return isinstance(expr, Expr) and not expr.is_Atom and expr.has(RoutedPower)


def exact_float(expr: Expr) -> float:
    """The float nearest to a number that may hold routed powers (correctly rounded)."""
    if not _has(expr):
        return float(expr)
    from ._powers import ratio_float

    return ratio_float(*_split(expr))


def exact_sign(expr: Expr) -> int:
    """The sign (-1, 0, 1) of a number that may hold routed powers, exactly."""
    if not _has(expr):
        return bool(expr > 0) - bool(expr < 0)
    from ._powers import sign

    num, den, powers = _split(expr)
    return sign(num, powers) * sign(den, powers)


def exact_max(a: Expr, b: Expr) -> Expr:
    """``Max(a, b)``, decided exactly when a number holds routed powers (sympy's comparison is numeric)."""
    if (_has(a) or _has(b)) and not (a.free_symbols or b.free_symbols):
        return a if exact_sign(a - b) >= 0 else b
    return Max(a, b)
