"""The one exception type users see.

Every error symcalc raises for bad input is a :class:`SymcalcError` whose message is one line:
what is wrong, which field or flag, and what would be right. The CLI prints it and exits 2.
"""

from __future__ import annotations

__all__ = ["SymcalcError"]


class SymcalcError(ValueError):
    """Bad input: one line naming the field or flag and what would be right."""
