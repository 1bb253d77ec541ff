"""Safe parsing of budgets: exact numbers and byte sizes (a regex and ``fractions.Fraction``)."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from sympy import Expr, Rational

from ..errors import SymcalcError

__all__ = ["parse_number", "parse_bytes", "parse_count"]

_NUMBER = r"[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"
_BYTES_RE = re.compile(rf"^\s*({_NUMBER})\s*([kKmMgGtTpP]?i?)\s*[bB]?(?:ytes?)?\s*$")
_SCALE = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}


#: Exponents beyond this are refused before parsing: ``Fraction("1e1000000000")`` would build a
#: billion-digit integer (a hang, not an answer).
MAX_EXPONENT = 1000
_EXPONENT_RE = re.compile(r"[eE]\s*([+-]?\d+)")


def _fraction(text: str, what: str) -> Fraction:
    """``Fraction(text)`` with the exponent bounded (see :data:`MAX_EXPONENT`)."""
    exponent = _EXPONENT_RE.search(text)
    if exponent and abs(int(exponent.group(1))) > MAX_EXPONENT:
        raise SymcalcError(f"{what} {text!r} is out of range: its exponent is beyond {MAX_EXPONENT}")
    return Fraction(text)


def parse_number(text: Any, what: str = "number") -> Expr:
    """An exact non-negative number from text such as ``"1e24"``, ``"5.76e23"``, ``"3/2"``.

    >>> parse_number("5.76e23")
    576000000000000000000000
    >>> parse_number("1e1000000000")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: number '1e1000000000' is out of range: its exponent is beyond 1000
    """
    if isinstance(text, (int, Fraction)) and not isinstance(text, bool):
        value = Fraction(text)
    elif isinstance(text, Expr) and text.is_Rational:
        return text
    else:
        try:
            value = _fraction(str(text).strip().replace("_", ""), what)
        except SymcalcError:
            raise
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
    return _parse_scaled(text, "memory size", _BYTES_RE, _SCALE, "80GiB, 80GB, 512MiB or 1e9 (bytes)")


_COUNT_RE = re.compile(rf"^\s*({_NUMBER})\s*([kKmMbBtT]?)\s*$")
_COUNT_SCALE = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}


def parse_count(text: Any, what: str = "count") -> Expr:
    """A count with an optional 1000-based suffix: ``"7B"``, ``"350M"``, ``"7e9"`` (exact).

    >>> parse_count("7B"), parse_count("350M"), parse_count("1.5e9")
    (7000000000, 350000000, 1500000000)
    """
    return _parse_scaled(text, what, _COUNT_RE, _COUNT_SCALE, "7e9, 7B or 350M")


def _parse_scaled(text: Any, what: str, pattern: re.Pattern, scale: dict[str, int], examples: str) -> Expr:
    """A number matched by ``pattern`` (groups: number, unit) times ``scale[unit]``, exactly."""
    if not isinstance(text, str):
        return parse_number(text, what)
    match = pattern.match(text)
    if not match:
        raise SymcalcError(f"{what} {text!r} is not understood; write e.g. {examples}")
    number, unit = match.groups()
    value = _fraction(number.replace("_", ""), what) * scale[unit.lower()]
    return Rational(value.numerator, value.denominator)
