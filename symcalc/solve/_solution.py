"""The answer to an inverse question: the value, how it was found, and the margins."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from sympy import Expr, Integer

from ..display import html_table, latex_number, quantity, readable
from ..errors import SymcalcError
from ..inputs import as_bool, as_choice, as_expr, as_int, as_symbol, as_text

__all__ = ["Solution"]

#: Labels a budget may carry.
UNITS = ("", "bytes", "params", "FLOP")


@dataclass(frozen=True)
class Solution:
    """The answer to an inverse question.

    ``value`` is the integer answer (None when nothing fits); ``method`` is ``"closed-form"``
    or ``"search"``; ``quantity`` is the expression's exact value at the answer (at the best
    allowed value when nothing fits); ``headroom = budget - quantity`` (negative: the
    shortfall when nothing fits).
    """

    symbol: str
    value: Optional[int]
    method: str
    quantity: Expr
    budget: Expr
    feasible: bool
    kind: str = "max"
    root: Optional[Expr] = field(default=None, compare=False)
    unit: str = ""

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        as_text("symbol", self.symbol)
        if self.value is not None:
            set_("value", as_int("value", self.value, minimum=-(2**63)))
        as_choice("method", self.method, ("closed-form", "search"))
        as_choice("unit", self.unit, UNITS)
        set_("quantity", quantity(as_expr("quantity", self.quantity), self.unit))
        set_("budget", quantity(as_expr("budget", self.budget), self.unit))
        set_("feasible", as_bool("feasible", self.feasible))
        as_choice("kind", self.kind, ("max", "min"))
        if self.root is not None:
            set_("root", as_expr("root", self.root))

    @property
    def headroom(self) -> Expr:
        """budget - quantity at the answer (negative when nothing fits)."""
        return quantity(self.budget - self.quantity, self.unit)

    @property
    def shortfall(self) -> Expr:
        """How much the budget is short by when nothing fits (0 when something fits)."""
        return quantity(Integer(0) if self.feasible else self.quantity - self.budget, self.unit)

    def __int__(self) -> int:
        if self.value is None:
            raise SymcalcError(f"no {self.symbol} fits the budget {self.budget}; short by {self.shortfall}")
        return self.value

    def _num(self, v: Expr) -> Any:
        return int(v) if v.is_integer else float(v)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: the answer, how it was found, and the margins."""
        out = {
            self.symbol: self.value,
            "feasible": self.feasible,
            "method": self.method,
            "quantity_at_answer": self._num(self.quantity),
            "budget": self._num(self.budget),
            "headroom": self._num(self.headroom),
        }
        if not self.feasible:
            out["shortfall"] = self._num(self.shortfall)
        if self.unit:
            out["unit"] = self.unit
        return out

    def __str__(self) -> str:
        q, b = readable(self.quantity, self.unit), readable(self.budget, self.unit)
        if not self.feasible:
            return f"nothing fits: the best allowed {self.symbol} needs {q}, {readable(self.shortfall, self.unit)} over the budget {b}"
        return f"{self.symbol} = {self.value:,} ({self.method}); {q} of {b}, headroom {readable(self.headroom, self.unit)}"

    def _rows(self) -> list[tuple[str, str, str]]:
        rows = [(self.symbol, "—" if self.value is None else f"{self.value:,}", f"{self.kind}imum, {self.method}"),
                ("at the answer", _exact_text(self.quantity), readable(self.quantity, self.unit)),
                ("budget", _exact_text(self.budget), readable(self.budget, self.unit))]
        rows.append(("headroom", _exact_text(self.headroom), readable(self.headroom, self.unit)) if self.feasible
                    else ("short by", _exact_text(self.shortfall), readable(self.shortfall, self.unit)))
        return rows

    def _repr_html_(self) -> str:
        title = f"{self.kind}imum {self.symbol}" + ("" if self.feasible else ": nothing fits")
        return html_table(self._rows(), header=("", "exact", "readable"), title=title)

    def _repr_latex_(self) -> str:
        from ..render import latex

        lhs = latex(as_symbol("symbol", self.symbol)) if _is_symbol_name(self.symbol) else rf"\text{{{self.symbol}}}"
        if not self.feasible:
            return (rf"$\text{{nothing fits: short by }} {latex_number(self.shortfall, self.unit)}"
                    rf"\text{{ of }} {latex_number(self.budget, self.unit)}$")
        return (rf"${lhs} = {self.value}\quad({latex_number(self.quantity, self.unit)}"
                rf"\text{{ of }} {latex_number(self.budget, self.unit)})$")


def _exact_text(value: Any) -> str:
    """The exact value with thousands separators (whole numbers) or as sympy prints it."""
    value = as_expr("value", value)
    return f"{int(value):,}" if value.is_Integer else str(value)


def _is_symbol_name(name: str) -> bool:
    from ..symbols import _BY_NAME

    return name in _BY_NAME
