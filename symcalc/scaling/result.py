"""Readable results: decimals with units on top, the exact sympy values underneath.

Every result prints as decimals with units (``N_opt ≈ 4.13e10 parameters (41.3 B)``), renders as
an HTML table in Jupyter (``_repr_html_``) and as LaTeX (``_repr_latex_``); ``.exact`` maps each
quantity to its exact sympy value (a closed form, or a 30-digit Float where the optimum is the
root of an equation without one) and ``to_json()`` gives floats, each the double nearest the exact value (:func:`nearest_float`).
"""

from __future__ import annotations

import html
from typing import Any, Optional

from sympy import Expr

from .._scalefmt import fmt_float, table

__all__ = ["fmt", "nearest_float", "Readable", "check_fields"]


def check_fields(obj: Any, exprs: tuple = (), optional: tuple = (), types: Optional[dict] = None) -> None:
    """Coerce a result's fields through :mod:`symcalc.inputs` (a one-line error for anything else).

    ``exprs`` become sympy expressions, ``optional`` too unless None, ``fit`` is looked up by
    :func:`~symcalc.scaling.fits.get_fit`, and ``types`` maps a field to the class it must be.
    """
    from ..errors import SymcalcError
    from ..inputs import as_expr
    from .fits import get_fit

    where = type(obj).__name__
    for name in exprs + optional:
        value = getattr(obj, name)
        if value is None and name in optional:
            continue
        object.__setattr__(obj, name, as_expr(f"{where}.{name}", value))
    if hasattr(obj, "fit"):
        object.__setattr__(obj, "fit", get_fit(obj.fit))
    for name, cls in (types or {}).items():
        if not isinstance(getattr(obj, name), cls):
            raise SymcalcError(f"{where}.{name} must be a {cls.__name__}, not {type(getattr(obj, name)).__name__}")

def nearest_float(value: Any) -> float:
    """The double nearest an exact number: a rational rounded once, anything else evaluated to 40
    digits first, then rounded once to nearest (``float(expr)`` evaluates to 15 digits and misses
    the nearest double in a few percent of cases; ``symcalc scaling``'s sympy-free path computes
    the nearest one too, so both print the same digits).

    >>> from sympy import Rational, sqrt
    >>> nearest_float(Rational(1, 3)), nearest_float(sqrt(2)), nearest_float(None) is None
    (0.3333333333333333, 1.4142135623730951, True)
    """
    from sympy import Float

    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    from ..inputs import as_expr

    v = as_expr("value", value)
    if v.is_Rational:
        return float(v)
    f = v.evalf(40)
    if not isinstance(f, Float):
        return float(v)  # not a real number: float's own error
    from mpmath.libmp import round_nearest, to_float

    return to_float(f._mpf_, rnd=round_nearest)


def fmt(value: Any, unit: str = "", *, digits: int = 3) -> str:
    """A number as ``4.13e10 parameters (41.3 B)``: 3 significant digits, a 1000-based suffix for counts.

    >>> fmt(41_300_000_000, "parameters"), fmt(1.9713, "nats/token"), fmt(1e24, "FLOP")
    ('4.13e10 parameters (41.3 B)', '1.97 nats/token', '1e24 FLOP')
    """
    return fmt_float(nearest_float(value), unit, digits)


class Readable:
    """Mixin: ``_rows()`` gives (key, label, value, unit); the rest is printing."""

    title = "result"

    def _rows(self) -> list[tuple[str, str, Any, str]]:  # pragma: no cover - overridden
        return []

    @property
    def exact(self) -> dict[str, Expr]:
        """Each quantity's exact sympy value."""
        return {key: value for key, _, value, _ in self._rows() if value is not None}

    def __repr__(self) -> str:
        body = ", ".join(f"{label} ≈ {fmt(value, unit)}" for _, label, value, unit in self._rows() if value is not None)
        return f"{type(self).__name__}({self.title}: {body})"

    def __str__(self) -> str:
        return table(self.title, [(label, fmt(value, unit)) for _, label, value, unit in self._rows()])

    def _repr_html_(self) -> str:
        cells = "".join(f"<tr><td>{html.escape(label)}</td><td style='text-align:right'>{html.escape(fmt(value, unit))}</td></tr>"
                        for _, label, value, unit in self._rows())
        return f"<table><caption>{html.escape(self.title)}</caption>{cells}</table>"

    def _repr_latex_(self) -> str:
        from ..display import latex_number

        keys = {"parameters": "params", "tokens": "tokens", "FLOP": "FLOP", "nats/token": "nats", "": ""}
        lines = []
        for _, label, value, unit in self._rows():
            if value is None:
                continue
            text = latex_number(value, keys[unit]) if unit in keys else rf"\text{{{fmt(value, unit)}}}"
            lines.append(rf"\text{{{label}}} &\approx {text}")
        return "$$\\begin{aligned}" + " \\\\ ".join(lines) + "\\end{aligned}$$"

    def to_json(self) -> dict[str, Any]:
        """Floats (and None where a quantity does not apply)."""
        return {key: nearest_float(value) for key, _, value, _ in self._rows()}
