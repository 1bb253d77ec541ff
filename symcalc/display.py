"""Readable numbers: exact underneath, decimals with units when printed.

Every result symcalc prints goes through this one layer: :func:`readable` (text),
:func:`latex_number` (LaTeX) and :func:`html_table` (Jupyter). The rule, stated once:

- **A measure is a Quantity when it is a number.** Functions and fields that answer with one
  measure — ``mfu``, ``hfu``, ``training_time``, ``tokens_per_param``, the fields of a
  compute-optimal allocation, a solver's quantity, budget and headroom, a plan row's memory and
  step time, a training cost's results — return a :class:`Quantity` when the value is a number.
  Its ``.exact`` is the sympy value (Integer, Rational or an exact irrational), and arithmetic,
  comparisons, ``float()``, ``int()``, ``sympify()`` and symcalc's own inputs all use that exact
  value; ``str()``, ``repr()`` and Jupyter show a decimal with its unit (``14.0 %``,
  ``4.13e10 parameters``). Sympy attributes (``.free_symbols``, ``.evalf()``, ``.p``)
  pass through to ``.exact``.
- **While symbols remain, the value is the sympy expression itself**, so a symbolic ``mfu``
  is an expression to substitute, differentiate or typeset.
- **Breakdowns** keep sympy values in their parts and total (counts are whole numbers, exact
  and printable); the Breakdown itself is the readable object (a table, an HTML table by part).

Units (``UNITS``): ``""`` (a plain number), ``"params"``, ``"tokens"``, ``"FLOP"``, ``"FLOP/s"``,
``"bytes"`` (binary prefixes: GiB = 2^30), ``"B/s"`` (decimal: GB/s = 10^9), ``"s"``, ``"%"`` (a
fraction printed as a percentage), ``"nats"`` (loss per token), ``"tokens/param"``, ``"tokens/s"``,
and amounts rounded to whole units from 1000 up: ``"days"``, ``"device-hours"``, ``"kWh"``, ``"W"``,
``"currency"``.

>>> from sympy import Rational
>>> q = Quantity(Rational(10801152, 77265625), "%")
>>> print(q)
14.0 %
>>> q
14.0 %; exact 10801152/77265625
>>> q * 2, float(q) == 10801152 / 77265625
(21602304/77265625, True)
>>> readable(41_300_000_000.5, "params"), readable(85899345920, "bytes"), readable(576985, "s")
('4.13e10 parameters', '80.00 GiB', '6.68 days (576,985 s)')
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from sympy import Expr, Integer  # noqa: F401 (the doctests use it)

from ._countfmt import scaled_count
from ._numfmt import STYLES, number_text, significant_float
from .errors import SymcalcError
from .inputs import _short, as_choice, as_expr, as_int

__all__ = ["UNITS", "Quantity", "quantity", "readable", "latex_number", "html_table", "format_count",
           "format_bytes", "significant"]

#: unit -> (style, the unit's name in text, in LaTeX)
_STYLES = STYLES
#: The units a :class:`Quantity` prints with.
UNITS = tuple(_STYLES)


def significant(x: Any, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits, in scientific notation outside [1e-3, 1e6).

    >>> significant(41_312_345_678.0), significant(97.73), significant(0.000123), significant(0.0)
    ('4.13e10', '97.7', '1.23e-4', '0')
    """
    digits = as_int("digits", digits)
    if not isinstance(x, float):
        value = as_expr("x", x)
        if value.free_symbols:
            raise SymcalcError(f"x={_short(value)} is symbolic; significant digits need a number")
        x = _float(value)
    return significant_float(x, digits)


def _float(value: Expr) -> float:
    """A float of an exact number (big integers through their digits: no overflow to inf), correctly rounded
    also when it holds a huge power kept as a power (:mod:`symcalc._routedpower`)."""
    try:
        if isinstance(value, Expr) and not value.is_Atom:
            from ._routedpower import exact_float

            return exact_float(value)
        return float(value)
    except OverflowError:  # pragma: no cover - beyond 1e308
        return math.inf if value.is_positive else -math.inf


def readable(value: Any, unit: str = "", *, digits: int = 3) -> str:
    """A number as text with its unit: exact whole numbers in full, the rest as decimals.

    An expression with symbols is returned as sympy prints it, with the unit.

    >>> readable(6738415616, "params"), readable(2 * 10**23, "FLOP"), readable(989 * 10**12, "FLOP/s")
    ('6,738,415,616 parameters', '2.00e23 FLOP', '989 TFLOP/s')
    >>> readable(0.14, "%"), readable(4.2, "s"), readable(1536, "bytes"), readable(3, "")
    ('14.0 %', '4.20 s', '1.50 KiB', '3')
    """
    as_choice("unit", unit, UNITS)
    digits = as_int("digits", digits)
    value = as_expr("value", value)
    if value.free_symbols:
        return f"{value} {_STYLES[unit][1]}".strip()
    return number_text(_float(value), int(value) if value.is_Integer else None, unit, digits)


def latex_number(value: Any, unit: str = "", *, digits: int = 3) -> str:
    r"""A number in LaTeX with its unit: ``4.13 \times 10^{10}\ \text{parameters}``.

    >>> latex_number(0.14, "%"), latex_number(41_312_345_678.2, "params"), latex_number(2**31, "bytes")
    ('14.0\\,\\%', '4.13 \\times 10^{10}\\ \\text{parameters}', '2.00\\,\\mathrm{GiB}')
    """
    text = readable(value, unit, digits=digits)
    style, name, tex_name = _STYLES[unit]
    number, _, rest = text.partition(" ")
    if "e" in number and not as_expr("value", value).free_symbols:
        mantissa, exponent = number.split("e")
        number = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    number = number.replace(",", "{,}")
    if as_expr("value", value).free_symbols:
        from .render import latex

        number = latex(as_expr("value", value))
    if style == "percent":
        return number + r"\,\%"
    if style in ("binary", "si"):
        return number + rf"\,\mathrm{{{rest}}}" if rest else number
    if style == "time":
        return number + rf"\,\mathrm{{{rest.split(' (')[0]}}}"
    return number + (rf"\ {tex_name}" if tex_name else "")


class Quantity:
    """An exact number with a unit: exact underneath (``.exact``), readable when printed.

    Parameters
    ----------
    exact : a number (any input :mod:`symcalc.inputs` takes); kept as the exact sympy value
    unit : one of :data:`UNITS`
    """

    __slots__ = ("exact", "unit")

    def __init__(self, exact: Any, unit: str = "") -> None:
        value = as_expr("exact", exact)
        if value.free_symbols:
            raise SymcalcError(f"Quantity({_short(value)}): still symbolic; a Quantity is a number "
                               "(use quantity(...) to keep expressions as they are)")
        object.__setattr__(self, "exact", value)
        object.__setattr__(self, "unit", as_choice("unit", unit, UNITS))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Quantity is immutable")

    # --- exact underneath ---------------------------------------------------------------
    def _sympy_(self) -> Expr:
        return self.exact

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("exact", "unit"):
            raise AttributeError(name)
        return getattr(self.exact, name)

    def __float__(self) -> float:
        return _float(self.exact)

    def __int__(self) -> int:
        return int(self.exact)

    def __bool__(self) -> bool:
        return bool(self.exact != 0)

    def __round__(self, ndigits: Any = None) -> Any:
        return round(float(self), ndigits)

    def __hash__(self) -> int:
        return hash(self.exact)

    def __eq__(self, other: Any) -> bool:
        return bool(self.exact == _exact(other))

    def __ne__(self, other: Any) -> bool:
        return not self == other

    def __lt__(self, other: Any) -> Any:
        return self.exact < _exact(other)

    def __le__(self, other: Any) -> Any:
        return self.exact <= _exact(other)

    def __gt__(self, other: Any) -> Any:
        return self.exact > _exact(other)

    def __ge__(self, other: Any) -> Any:
        return self.exact >= _exact(other)

    def __neg__(self) -> Expr:
        return -self.exact

    def __abs__(self) -> Expr:
        return abs(self.exact)

    def __add__(self, other: Any) -> Expr:
        return self.exact + _exact(other)

    def __radd__(self, other: Any) -> Expr:
        return _exact(other) + self.exact

    def __sub__(self, other: Any) -> Expr:
        return self.exact - _exact(other)

    def __rsub__(self, other: Any) -> Expr:
        return _exact(other) - self.exact

    def __mul__(self, other: Any) -> Expr:
        return self.exact * _exact(other)

    def __rmul__(self, other: Any) -> Expr:
        return _exact(other) * self.exact

    def __truediv__(self, other: Any) -> Expr:
        return self.exact / _exact(other)

    def __rtruediv__(self, other: Any) -> Expr:
        return _exact(other) / self.exact

    def __pow__(self, other: Any) -> Expr:
        return self.exact ** _exact(other)

    def __rpow__(self, other: Any) -> Expr:
        return _exact(other) ** self.exact

    # --- readable when printed ----------------------------------------------------------
    def __str__(self) -> str:
        return readable(self.exact, self.unit)

    def __format__(self, spec: str) -> str:
        return format(float(self), spec) if spec else str(self)

    def __repr__(self) -> str:
        exact = str(self.exact)
        if len(exact) > 40:
            exact = f"{len(exact)} characters, see .exact"
        return f"{self}; exact {exact}" if exact != str(self) else exact

    def __reduce__(self):
        return (Quantity, (self.exact, self.unit))

    def latex(self) -> str:
        """The readable value in LaTeX (``14.0\\,\\%``)."""
        return latex_number(self.exact, self.unit)

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def _repr_html_(self) -> str:
        return (f"<span title='exact: {html.escape(_short(self.exact))}'>{html.escape(str(self))}</span>")

    def to_json(self) -> Any:
        """An int for a whole number, else a float."""
        return int(self.exact) if self.exact.is_integer else _float(self.exact)


def _exact(value: Any) -> Any:
    return value.exact if isinstance(value, Quantity) else value


def quantity(value: Any, unit: str = "") -> Any:
    """A :class:`Quantity` when ``value`` is a number, the sympy expression while symbols remain.

    >>> from symcalc.symbols import mfu
    >>> quantity(mfu / 2, "%"), quantity(Integer(1) / 8, "%")
    (mfu/2, 12.5 %; exact 1/8)
    """
    value = as_expr("value", value)
    as_choice("unit", unit, UNITS)
    return value if value.free_symbols else Quantity(value, unit)


def format_count(value: Any, unit: str = "") -> str:
    """An exact count with a 1000-based suffix: ``6738415616`` -> ``'6.74 B'`` (table columns).

    >>> format_count(6738415616)
    '6.74 B'
    >>> format_count(3.2e15, "FLOP")
    '3.20 PFLOP'
    """
    value = as_expr("value", value)
    as_choice("unit", unit, ("params", "FLOP", "bytes", ""))
    number = _float(value)
    text = scaled_count(number, unit)
    if text is None:
        return f"{value}" if value.is_Integer else significant(number)
    return text


def format_bytes(value: Any) -> str:
    """Bytes in GiB (2**30), labelled (table columns): ``format_bytes(2**31)`` -> ``'2.00 GiB'``.

    >>> format_bytes(3 * 2**30 // 2)
    '1.50 GiB'
    """
    return f"{_float(as_expr('value', value)) / 2**30:.2f} GiB"


def html_table(rows: Sequence[Sequence[Any]], *, header: Sequence[str] = (), title: str = "",
               total_rows: int = 0, note: str = "") -> str:
    """A small HTML table (escaped text cells); the last ``total_rows`` rows are bold.

    >>> page = html_table([("a", 1), ("total", 1)], header=("part", "value"), total_rows=1)
    >>> page.count("<tr>"), "<b>total</b>" in page
    (3, True)
    """
    from .inputs import as_text

    def rows_of(name: str, value: Any) -> list:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise SymcalcError(f"{name}={_short(value)} is not a list of rows; pass e.g. [('weights', '12.55 GiB')]")
        return list(value)

    rows = rows_of("rows", rows)
    for row in rows:
        rows_of("a row of rows", row)
    header = [as_text("header", h) for h in rows_of("header", header)] if header else []
    title, note = as_text("title", title), as_text("note", note)
    total_rows = as_int("total_rows", total_rows, minimum=0)

    def cell(tag: str, v: Any, bold: bool = False, align: str = "left") -> str:
        text = html.escape(str(v))
        if bold:
            text = f"<b>{text}</b>"
        return f'<{tag} style="text-align:{align}">{text}</{tag}>'

    head = ""
    if header:
        head = "<thead><tr>" + "".join(cell("th", h, align="left" if i == 0 else "right")
                                       for i, h in enumerate(header)) + "</tr></thead>"
    body = []
    for i, row in enumerate(rows):
        bold = i >= len(rows) - total_rows
        body.append("<tr>" + "".join(cell("td", v, bold, "left" if j == 0 else "right")
                                     for j, v in enumerate(row)) + "</tr>")
    caption = f"<caption style='text-align:left'><b>{html.escape(title)}</b></caption>" if title else ""
    foot = f"<div style='font-size:smaller'>{html.escape(note)}</div>" if note else ""
    return f'<table class="symcalc">{caption}{head}<tbody>{"".join(body)}</tbody></table>{foot}'
