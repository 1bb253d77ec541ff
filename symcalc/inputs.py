"""The one door for numbers: every public function, library and CLI alike, coerces through here.

What passes, and what it becomes (never ``sympify``/``eval`` of caller text):

- ``int`` (and numpy integers), ``fractions.Fraction``, sympy ``Integer``/``Rational``, any
  sympy expression or symbol: kept exact, as a sympy expression;
- a Python ``float`` (or numpy float, ``decimal.Decimal``): the exact Rational of its *decimal
  text*, ``repr(x)`` — ``0.4`` is ``2/5``, ``2e12`` is ``2000000000000`` — because a float is how
  people type a decimal, and its binary value (``0.4000000000000000222...``) must never reach a
  formula; ``inf`` and ``nan`` are refused;
- a ``str``: parsed by the safe number parser below (a regex and ``fractions.Fraction``: digits,
  one decimal point, an exponent of at most 1000, a 1000-based count suffix ``K M B T`` or, for
  bytes, ``KB MB GB TB`` / ``KiB MiB GiB TiB``) — anything else is a one-line error;
- anything else (``bool``, ``None``, lists, sympy relations): a one-line :class:`SymcalcError`
  naming the argument.

Then the *kind* is checked, only where it is decidable (a symbol passes; sympy's assumptions
decide ``is_integer`` and ``is_positive``): :func:`as_size` (a positive integer: layers, heads,
tokens, degrees), :func:`as_count` (zero or more whole), :func:`as_amount` (a non-negative real:
bytes, FLOP/s, seconds), :func:`as_positive` (a positive real), :func:`as_fraction` (in (0, 1]:
MFU, efficiency), :func:`as_expr` (any expression, no check). :func:`as_symbol` takes a symbol
or its Python name.

>>> as_size("tokens", 2e12)
2000000000000
>>> as_amount("mfu", 0.4)
2/5
>>> as_size("tokens", "2T"), as_amount("budget", "80GiB", unit="bytes")
(2000000000000, 85899345920)
>>> as_size("micro_batch", "__import__('os').system('true')")
Traceback (most recent call last):
...
symcalc.errors.SymcalcError: micro_batch="__import__('os').system('true')" is not a number; write e.g. 4096, 2e12, 7B or 3/2
>>> as_size("n_layers", 2.5)
Traceback (most recent call last):
...
symcalc.errors.SymcalcError: n_layers=5/2 is not a whole number; it must be a positive integer
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from numbers import Integral, Real
from typing import Any

from sympy import Basic, Expr, Integer, Rational, Symbol

from .errors import SymcalcError

__all__ = [
    "as_expr", "as_size", "as_count", "as_amount", "as_positive", "as_fraction", "as_symbol",
    "as_symbols", "as_int", "as_bool", "as_choice", "as_model", "as_callable", "as_text",
    "parse_number", "parse_count", "parse_bytes", "MAX_EXPONENT",
]

#: Exponents beyond this are refused before parsing: ``Fraction("1e1000000000")`` would build a
#: billion-digit integer (a hang, not an answer).
MAX_EXPONENT = 1000
#: Digits beyond this in a string are refused (Python's own int-from-text limit is 4300).
MAX_DIGITS = 1000

_NUMBER = r"[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"
_EXPONENT_RE = re.compile(r"[eE]\s*([+-]?\d+)")
_PLAIN_RE = re.compile(rf"^\s*({_NUMBER})\s*(?:/\s*([0-9][0-9_]*))?\s*$")
_COUNT_RE = re.compile(rf"^\s*({_NUMBER})\s*([kKmMbBtT]?)\s*$")
_BYTES_RE = re.compile(rf"^\s*({_NUMBER})\s*([kKmMgGtTpP]?i?)\s*[bB]?(?:ytes?)?\s*$")
_COUNT_SCALE = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
_BYTES_SCALE = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15,
                "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}
_EXAMPLES = {"": "4096, 2e12, 7B or 3/2", "bytes": "80GiB, 80GB, 512MiB or 1e9 (bytes)"}


# --- the safe parser --------------------------------------------------------------------------
def _fraction(text: str, name: str) -> Fraction:
    """``Fraction(text)`` with the exponent and the length bounded."""
    if len(text) > MAX_DIGITS:
        raise SymcalcError(f"{name}={_short(text)} is out of range: more than {MAX_DIGITS} characters")
    exponent = _EXPONENT_RE.search(text)
    if exponent and abs(int(exponent.group(1))) > MAX_EXPONENT:
        raise SymcalcError(f"{name}={_short(text)} is out of range: its exponent is beyond {MAX_EXPONENT}")
    return Fraction(text.replace("_", ""))


def _short(value: Any) -> str:
    """A string's ``repr``, anything else's ``str``, cut to 60 characters on one line.

    >>> _short(-10**5000)
    'a number of about 5001 digits'
    """
    try:
        r = repr(value) if isinstance(value, str) else " ".join(str(value).split())
    except ValueError:  # an integer past Python's 4300-digit limit for int -> str
        n = int(value) if isinstance(value, (int, Integer)) else 0
        return f"a number of about {int(abs(n).bit_length() * 0.30103) + 1} digits"
    return r if len(r) <= 60 else r[:57] + "..."


def _parse(text: str, name: str, unit: str) -> Rational:
    """A non-negative exact number from text: plain (``3/2``, ``5.76e23``) or with a suffix."""
    if len(text) > MAX_DIGITS:
        raise SymcalcError(f"{name}={_short(text)} is out of range: more than {MAX_DIGITS} characters")
    plain = _PLAIN_RE.match(text)
    if plain:
        value = _fraction(plain.group(1), name)
        if plain.group(2) is not None:
            den = _fraction(plain.group(2), name)
            if den == 0:
                raise SymcalcError(f"{name}={_short(text)} divides by zero")
            value /= den
        return Rational(value.numerator, value.denominator)
    pattern, scale = (_BYTES_RE, _BYTES_SCALE) if unit == "bytes" else (_COUNT_RE, _COUNT_SCALE)
    match = pattern.match(text)
    if not match:
        raise SymcalcError(f"{name}={_short(text)} is not a number; write e.g. {_EXAMPLES.get(unit, _EXAMPLES[''])}")
    number, suffix = match.groups()
    value = _fraction(number, name) * scale[suffix.lower()]
    return Rational(value.numerator, value.denominator)


def parse_number(text: Any, name: str = "number") -> Expr:
    """An exact non-negative number from text: ``"1e24"``, ``"5.76e23"``, ``"3/2"``, ``"0.4"``.

    >>> parse_number("5.76e23"), parse_number("3/2"), parse_number("0.4")
    (576000000000000000000000, 3/2, 2/5)
    >>> parse_number("1e1000000000", "compute")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: compute='1e1000000000' is out of range: its exponent is beyond 1000
    """
    if not isinstance(text, str):
        return as_amount(name, text)
    plain = _PLAIN_RE.match(text)
    if not plain:
        raise SymcalcError(f"{name}={_short(text)} is not a number; write e.g. 1e24, 5.76e23 or 3/2")
    return _parse(text, name, "")


def parse_count(text: Any, name: str = "count") -> Expr:
    """A count with an optional 1000-based suffix: ``"7B"``, ``"350M"``, ``"2T"``, ``"7e9"`` (exact).

    >>> parse_count("7B"), parse_count("350M"), parse_count("1.5e9"), parse_count("2T")
    (7000000000, 350000000, 1500000000, 2000000000000)
    """
    if not isinstance(text, str):
        return as_amount(name, text)
    return _parse(text, name, "count")


def parse_bytes(text: Any, name: str = "memory size") -> Expr:
    """Bytes from ``"80GiB"``, ``"80 GB"``, ``"512MiB"``, ``"1e9"`` (exact; GiB = 2^30, GB = 10^9).

    >>> parse_bytes("80GiB"), parse_bytes("80 GB"), parse_bytes("512 MiB"), parse_bytes("1e9")
    (85899345920, 80000000000, 536870912, 1000000000)
    >>> parse_bytes("eighty", "budget")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: budget='eighty' is not a number; write e.g. 80GiB, 80GB, 512MiB or 1e9 (bytes)
    """
    if not isinstance(text, str):
        return as_amount(name, text)
    return _parse(text, name, "bytes")


# --- the coercion -----------------------------------------------------------------------------
def as_expr(name: str, value: Any, *, unit: str = "") -> Expr:
    """``value`` as an exact sympy expression (see the module docstring); no range check.

    ``unit="bytes"`` lets strings carry byte suffixes (``"80GiB"``); otherwise count suffixes.
    Strings are non-negative (a sign is not part of the safe syntax).

    >>> as_expr("x", 3), as_expr("x", 0.1), as_expr("x", "3/2")
    (3, 1/10, 3/2)
    >>> as_expr("x", [1])
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: x=[1] is a list; pass a number (int, float, Fraction, numeric string) or a sympy expression
    """
    if unit not in _EXAMPLES:
        raise SymcalcError(f"unit={_short(unit)} is unknown; use '' (plain numbers and counts) or 'bytes'")
    if isinstance(value, bool):
        raise SymcalcError(f"{name}={value!r} is a bool; pass a number or a sympy expression")
    if isinstance(value, Basic):
        if not isinstance(value, Expr):
            raise SymcalcError(f"{name}={_short(value)} is not a number or an arithmetic sympy expression")
        return value
    if isinstance(value, Integral):  # int and numpy integers
        return Integer(int(value))
    if isinstance(value, Fraction):
        return Rational(value.numerator, value.denominator)
    if isinstance(value, (Real, Decimal)):  # float, numpy floats, Decimal: the decimal text
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise SymcalcError(f"{name}={value} is not finite; pass a finite number")
            fr = Fraction(value)
        else:
            x = float(value)
            if not math.isfinite(x):
                raise SymcalcError(f"{name}={x!r} is not finite; pass a finite number")
            fr = Fraction(repr(x))
        return Rational(fr.numerator, fr.denominator)
    if isinstance(value, str):
        return _parse(value, name, unit)
    from .display import Quantity  # a readable result passed back in: its exact value

    if isinstance(value, Quantity):
        return value.exact
    raise SymcalcError(
        f"{name}={_short(value)} is a {type(value).__name__}; "
        "pass a number (int, float, Fraction, numeric string) or a sympy expression"
    )


def as_size(name: str, value: Any) -> Expr:
    """A positive integer (or an expression that may be one): sizes, tokens, degrees.

    >>> as_size("n_layers", 32), as_size("tokens", 2e12)
    (32, 2000000000000)
    >>> as_size("n_heads", 0)
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: n_heads=0 is not positive; it must be a positive integer
    """
    expr = as_expr(name, value)
    if expr.is_integer is False:
        raise SymcalcError(f"{name}={_short(expr)} is not a whole number; it must be a positive integer")
    if expr.is_positive is False:
        raise SymcalcError(f"{name}={_short(expr)} is not positive; it must be a positive integer")
    return expr


def as_count(name: str, value: Any) -> Expr:
    """Zero or a positive integer (or an expression that may be one): experts, cached tokens.

    >>> as_count("n_shared_experts", 0)
    0
    """
    expr = as_expr(name, value)
    if expr.is_integer is False:
        raise SymcalcError(f"{name}={_short(expr)} is not a whole number; it must be zero or a positive integer")
    if expr.is_negative:
        raise SymcalcError(f"{name}={_short(expr)} is negative; it must be zero or a positive integer")
    return expr


def as_amount(name: str, value: Any, *, unit: str = "") -> Expr:
    """A non-negative real (bytes, FLOP, FLOP/s, seconds, prices), exact.

    >>> as_amount("misc_bytes", 0), as_amount("peak_flops", 989.4e12)
    (0, 989400000000000)
    """
    expr = as_expr(name, value, unit=unit)
    if expr.is_extended_real is False:
        raise SymcalcError(f"{name}={_short(expr)} is not a real number")
    if expr.is_negative:
        raise SymcalcError(f"{name}={_short(expr)} is negative; it must be zero or more")
    return expr


def as_positive(name: str, value: Any, *, unit: str = "") -> Expr:
    """A positive real (a budget, a bandwidth, bytes per value of a stored weight).

    >>> as_positive("bandwidth_tp", "450e9")
    450000000000
    """
    expr = as_amount(name, value, unit=unit)
    if expr.is_zero:
        raise SymcalcError(f"{name}=0 is not positive; it must be more than 0")
    return expr


def as_fraction(name: str, value: Any) -> Expr:
    """A fraction in (0, 1]: MFU, an efficiency (``0.4`` is ``2/5``).

    >>> as_fraction("mfu", 0.4)
    2/5
    >>> as_fraction("mfu", 40)
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: mfu=40 is above 1; give a fraction in (0, 1] (0.4 for 40 %)
    """
    expr = as_positive(name, value)
    if (expr - 1).is_positive:
        raise SymcalcError(f"{name}={_short(expr)} is above 1; give a fraction in (0, 1] (0.4 for 40 %)")
    return expr


def as_symbol(name: str, value: Any) -> Symbol:
    """A symbol of :mod:`symcalc.symbols`, given as the symbol or its Python name.

    >>> as_symbol("symbol", "d_model"), as_symbol("symbol", as_symbol("s", "tp"))
    (d_model, tp)
    """
    if isinstance(value, Symbol):
        return value
    if isinstance(value, str):
        from .symbols import by_name

        return by_name(value)
    raise SymcalcError(f"{name}={_short(value)} is not a symbol; pass a sympy Symbol or its name, e.g. 'd_model'")


def as_symbols(name: str, value: Any) -> tuple:
    """One symbol or several (names or symbols) as a tuple: ``"d_model"``, ``d_model``, ``["d_model", "seq_len"]``.

    A single name is one symbol, never the characters of the string.

    >>> as_symbols("symbols", "d_model"), as_symbols("symbols", ["d_model", "seq_len"])
    ((d_model,), (d_model, seq_len))
    """
    if isinstance(value, (str, Symbol)):
        return (as_symbol(name, value),)
    if isinstance(value, (list, tuple, set, frozenset)):
        if not value:
            raise SymcalcError(f"{name} is empty; give at least one symbol, e.g. 'd_model'")
        return tuple(as_symbol(name, v) for v in value)
    raise SymcalcError(f"{name}={_short(value)} is not a symbol or a list of symbols; e.g. 'd_model' or ['d_model', 'seq_len']")


def as_int(name: str, value: Any, *, minimum: int = 1, maximum: Any = None) -> int:
    """A whole number as a Python ``int`` in ``[minimum, maximum]`` (a number, never a symbol).

    For values that shape the computation itself (a search bound, the rows to return, a
    derivative's order), not for sizes inside a formula (use :func:`as_size`).

    >>> as_int("top", 10), as_int("lo", "0", minimum=0), as_int("n", 2.0)
    (10, 0, 2)
    >>> as_int("top", 0)
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: top=0 is below 1; give a whole number of at least 1
    """
    for bound, limit in (("minimum", minimum), ("maximum", maximum)):
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, Integral)):
            raise SymcalcError(f"{bound}={_short(limit)} is not a whole number")
    expr = as_expr(name, value)
    if not expr.is_number:
        raise SymcalcError(f"{name}={_short(expr)} is symbolic; give a whole number here")
    if not expr.is_Integer:
        raise SymcalcError(f"{name}={_short(expr)} is not a whole number; give a whole number of at least {minimum}")
    if expr < minimum:
        raise SymcalcError(f"{name}={_short(expr)} is below {minimum}; give a whole number of at least {minimum}")
    if maximum is not None and expr > maximum:
        raise SymcalcError(f"{name}={_short(expr)} is above {maximum}; give a whole number of at most {maximum}")
    return int(expr)


def as_bool(name: str, value: Any) -> bool:
    """``True`` or ``False`` (numpy booleans too); anything else, a string included, is refused.

    >>> as_bool("causal", True)
    True
    >>> as_bool("causal", "no")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: causal='no' must be True or False
    """
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise SymcalcError(f"{name}={_short(value)} must be True or False")


def as_choice(name: str, value: Any, choices: Any) -> str:
    """One of ``choices`` (strings), exactly.

    >>> as_choice("recompute", "full", ("none", "selective", "full"))
    'full'
    """
    if not isinstance(value, str) or value not in choices:
        raise SymcalcError(f"{name}={_short(value)} is unknown; use one of {', '.join(map(str, choices))}")
    return value


def as_text(name: str, value: Any) -> str:
    """A label (a name, a title): any ``str``, kept as text and never evaluated.

    >>> as_text("title", "memory")
    'memory'
    """
    if not isinstance(value, str):
        raise SymcalcError(f"{name}={_short(value)} is a {type(value).__name__}; give a string")
    return value


def as_model(name: str, value: Any) -> Any:
    """A :class:`~symcalc.model.Model` (``Model(...)``, ``Model.preset(name)``, ``Model.from_hf_config(path)``).

    >>> as_model("model", "llama-2-7b")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: model='llama-2-7b' is a str, not a Model; use Model(...), Model.preset(name) or Model.from_hf_config(path)
    """
    from .model import Model

    if not isinstance(value, Model):
        raise SymcalcError(f"{name}={_short(value)} is a {type(value).__name__}, not a Model; "
                           "use Model(...), Model.preset(name) or Model.from_hf_config(path)")
    return value


def as_callable(name: str, value: Any) -> Any:
    """A function (e.g. ``lambda model: params(model)``).

    >>> as_callable("quantity", len) is len
    True
    """
    if not callable(value):
        raise SymcalcError(f"{name}={_short(value)} is not a function; pass a callable such as lambda model: params(model)")
    return value
