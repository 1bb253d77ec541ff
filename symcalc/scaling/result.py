"""Readable results: decimals with units on top, the exact sympy values underneath.

Every result prints as decimals with units (``N_opt ≈ 4.13e10 parameters (41.3 B)``), renders as
an HTML table in Jupyter (``_repr_html_``) and as LaTeX (``_repr_latex_``); ``.exact`` maps each
quantity to its exact sympy value (a closed form, or a 30-digit Float where the optimum is the
root of an equation without one) and ``to_json()`` gives floats.
"""

from __future__ import annotations

import html
from typing import Any, Optional

from sympy import Expr

__all__ = ["fmt", "Readable", "check_fields"]


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

_SUFFIXES = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


def fmt(value: Any, unit: str = "", *, digits: int = 3) -> str:
    """A number as ``4.13e10 parameters (41.3 B)``: 3 significant digits, a 1000-based suffix for counts.

    >>> fmt(41_300_000_000, "parameters"), fmt(1.9713, "nats/token"), fmt(1e24, "FLOP")
    ('4.13e10 parameters (41.3 B)', '1.97 nats/token', '1e24 FLOP')
    """
    if value is None:
        return "n/a"
    x = float(value)
    if abs(x) < 1e4 and x.is_integer():
        text = str(int(x))
    elif x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-3):
        mant, exp = f"{x:.{digits - 1}e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        text = f"{mant}e{int(exp)}"
    else:
        text = f"{x:.{digits}g}"
    suffix = ""
    if unit in ("parameters", "tokens") and abs(x) >= 1e3:
        for scale, letter in _SUFFIXES:
            if abs(x) >= scale:
                suffix = f" ({x / scale:.{digits}g} {letter})"
                break
    return f"{text} {unit}".rstrip() + suffix


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
        rows = [(label, fmt(value, unit)) for _, label, value, unit in self._rows()]
        width = max(len(label) for label, _ in rows)
        return "\n".join([self.title] + [f"  {label:<{width}}  ≈ {text}" for label, text in rows])

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
        return {key: (None if value is None else float(value)) for key, _, value, _ in self._rows()}
