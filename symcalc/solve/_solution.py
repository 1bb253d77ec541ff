"""The answer to an inverse question: the value, how it was found, and the margins."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from sympy import Expr, Integer

from ..errors import SymcalcError
from ..inputs import as_bool, as_choice, as_expr, as_int, as_text

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
        set_("quantity", as_expr("quantity", self.quantity))
        set_("budget", as_expr("budget", self.budget))
        set_("feasible", as_bool("feasible", self.feasible))
        as_choice("kind", self.kind, ("max", "min"))
        if self.root is not None:
            set_("root", as_expr("root", self.root))
        as_choice("unit", self.unit, UNITS)

    @property
    def headroom(self) -> Expr:
        """budget - quantity at the answer (negative when nothing fits)."""
        return self.budget - self.quantity

    @property
    def shortfall(self) -> Expr:
        """How much the budget is short by when nothing fits (0 when something fits)."""
        return Integer(0) if self.feasible else self.quantity - self.budget

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
        if not self.feasible:
            return f"nothing fits: the best allowed {self.symbol} needs {self.quantity}, {self.shortfall} over the budget {self.budget}"
        return f"{self.symbol} = {self.value} ({self.method}); {self.quantity} of {self.budget}, headroom {self.headroom}"
