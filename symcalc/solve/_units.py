"""Budgets are parsed by the one safe parser, :mod:`symcalc.inputs` (kept here for old imports)."""

from ..inputs import MAX_EXPONENT, parse_bytes, parse_count, parse_number

__all__ = ["parse_number", "parse_bytes", "parse_count", "MAX_EXPONENT"]
