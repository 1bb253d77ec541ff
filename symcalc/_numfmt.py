"""Numbers as text with their units, free of sympy: the numeric core of :func:`symcalc.display.readable`.

:mod:`symcalc.display` checks its input, keeps symbolic values as sympy prints them and hands
numbers here as a float (and the int when the value is a whole number); the CLI's sympy-free path
(:mod:`symcalc.cli._fast_time`, ...) calls the same functions with ints and Fractions, so both
print the same text.

>>> number_text(6738415616.0, 6738415616, "params"), number_text(2e23, 2 * 10**23, "FLOP")
('6,738,415,616 parameters', '2.00e23 FLOP')
"""

from __future__ import annotations

import math
import sys

__all__ = ["STYLES", "FULL_DIGITS", "significant_float", "number_text", "readable_exact", "exact_text"]

#: unit -> (style, the unit's name in text, in LaTeX)
STYLES = {
    "": ("plain", "", ""),
    "params": ("count", "parameters", r"\text{parameters}"),
    "tokens": ("count", "tokens", r"\text{tokens}"),
    "FLOP": ("count", "FLOP", r"\mathrm{FLOP}"),
    "FLOP/s": ("si", "FLOP/s", r"\mathrm{FLOP/s}"),
    "bytes": ("binary", "B", r"\mathrm{B}"),
    "B/s": ("si", "B/s", r"\mathrm{B/s}"),
    "s": ("time", "s", r"\mathrm{s}"),
    "%": ("percent", "%", r"\%"),
    "nats": ("plain", "nats/token", r"\text{nats/token}"),
    "tokens/param": ("plain", "tokens per parameter", r"\text{tokens per parameter}"),
    "tokens/s": ("si", "tokens/s", r"\text{tokens/s}"),
    "days": ("amount", "days", r"\text{days}"),
    "device-hours": ("amount", "device-hours", r"\text{device-hours}"),
    "kWh": ("amount", "kWh", r"\mathrm{kWh}"),
    "W": ("amount", "W", r"\mathrm{W}"),
    "currency": ("amount", "(currency)", r"\text{(currency)}"),
}
#: Whole numbers up to this many digits print in full (with separators); longer ones as decimals.
FULL_DIGITS = 15
_SI = ["", "K", "M", "G", "T", "P", "E", "Z", "Y"]
_BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]


def significant_float(x: float, digits: int = 3) -> str:
    """A float to ``digits`` significant digits, in scientific notation outside [1e-3, 1e6).

    >>> significant_float(41_312_345_678.0), significant_float(97.73), significant_float(0.000123)
    ('4.13e10', '97.7', '1.23e-4')
    """
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    if 1e-3 <= abs(x) < 1e6:
        decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
        return f"{x:.{decimals}f}"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def number_text(x: float, integer, unit: str = "", digits: int = 3) -> str:
    """A number with its unit: ``x`` its float, ``integer`` the int when it is a whole number (else None).

    >>> number_text(0.14, None, "%"), number_text(1536.0, 1536, "bytes"), number_text(576985.0, 576985, "s")
    ('14.0 %', '1.50 KiB', '6.68 days (576,985 s)')
    """
    style, name, _ = STYLES[unit]
    whole = integer is not None and len(str(abs(integer))) <= FULL_DIGITS
    if style == "percent":
        pct = 100 * x
        text = f"{pct:.1f}" if abs(pct) >= 1 or pct == 0 else significant_float(pct, 2)
        return f"{text} %"
    if style == "binary":
        i = 0
        while abs(x) >= 1024 and i < len(_BINARY) - 1:
            x /= 1024
            i += 1
        return f"{integer:,} B" if i == 0 and integer is not None else f"{x:.2f} {_BINARY[i]}"
    if style == "si":
        i = 0
        while abs(x) >= 1000 and i < len(_SI) - 1:
            x /= 1000
            i += 1
        return f"{x:.{digits + 1}g} {_SI[i]}{name}"  # 989.4 TFLOP/s, 156 TFLOP/s
    if style == "time":
        return _duration(x)
    if style == "amount" and not whole:
        text = f"{x:,.0f}" if abs(x) >= 1000 else significant_float(x, digits + 1)
    else:
        text = f"{integer:,}" if whole else significant_float(x, digits)
    return f"{text} {name}".strip()


def _duration(x: float) -> str:
    """Seconds: short ones in s, long ones in min/h/days with the seconds beside."""
    if abs(x) < 120:
        return f"{significant_float(x, 3)} s"
    seconds = f"{round(x):,} s"
    for size, name in ((86400, "days"), (3600, "h"), (60, "min")):
        if abs(x) >= 2 * size or size == 60:
            return f"{significant_float(x / size, 3)} {name} ({seconds})"
    return seconds  # pragma: no cover


def readable_exact(value, unit: str = "", digits: int = 3) -> str:
    """:func:`symcalc.display.readable` of an exact number given as an int or a ``fractions.Fraction``.

    >>> from fractions import Fraction
    >>> readable_exact(Fraction(2, 5), "%"), readable_exact(989 * 10**12, "FLOP/s")
    ('40.0 %', '989 TFLOP/s')
    """
    if type(value) is not int and value.denominator == 1:
        value = value.numerator
    try:
        x = float(value)
    except OverflowError:  # pragma: no cover - beyond 1e308
        x = math.inf if value > 0 else -math.inf
    return number_text(x, value if type(value) is int else None, unit, digits)


def exact_text(value) -> str:
    """``str(value)`` of an exact number (int, Fraction or sympy Rational), however many digits it has.

    Python refuses to write an int of more than 4300 digits as text (``sys.set_int_max_str_digits``);
    an exact serving time of a MoE model holds powers such as (47/48)^8192, with more. The limit is
    lifted for this conversion only.

    >>> len(exact_text(3**10000))
    4772
    """
    get = getattr(sys, "get_int_max_str_digits", None)
    if get is None:  # Python without the limit
        return str(value)
    limit = get()
    sys.set_int_max_str_digits(0)
    try:
        return str(value)
    finally:
        sys.set_int_max_str_digits(limit)
