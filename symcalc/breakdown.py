"""Breakdown: an ordered mapping of named parts whose sum is ``.total``.

Every public quantity in symcalc (parameters, FLOPs, bytes) is a :class:`Breakdown`. Part names
are hierarchical, ``"attention/qkv"``, as in nanoGPT's sizing notebook; :meth:`Breakdown.grouped`
sums them by their first component. The parts always sum exactly to the total because the total
*is* their sum.

>>> from symcalc.symbols import d_model as h
>>> bd = Breakdown({"a/one": 2 * h, "a/two": 3, "b": h**2}, unit="params")
>>> bd.total
d_model**2 + 2*d_model + 3
>>> bd.evaluate(d_model=10).total
123
>>> bd.grouped().evaluate({h: 10}).as_ints()
{'a': 23, 'b': 100}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sympy import Add, Expr, Integer, Rational, Symbol

from .display import format_bytes, format_count, html_table, latex_number, readable
from .errors import SymcalcError
from .inputs import _short, as_callable, as_choice, as_expr, as_int, as_symbol, as_text

__all__ = ["Breakdown", "as_substitutions", "evaluate_expr", "format_count", "format_bytes"]

UNITS = ("params", "FLOP", "bytes", "")


def as_substitutions(values: Mapping[Any, Any] | None = None, **kwargs: Any) -> dict[Symbol, Expr]:
    """Turn ``{"n_layers": 32}`` / ``{n_layers: 32}`` / ``n_layers=32`` into a sympy subs dict.

    Keys are symbols or their names; values go through the one door (:mod:`symcalc.inputs`):
    numbers and expressions stay exact, a float becomes the Rational of its decimal text
    (``0.5`` is ``1/2``), a string is parsed as a number (``"2e12"``, ``"7B"``), never evaluated.

    >>> as_substitutions({"n_layers": 32}, d_model=4096.0, tokens="2T")
    {n_layers: 32, d_model: 4096, tokens: 2000000000000}
    """
    if values is not None and not isinstance(values, Mapping):
        raise SymcalcError(f"values={_short(values)} is not a mapping; pass e.g. {{'n_layers': 32}} or n_layers=32")
    out: dict[Symbol, Expr] = {}
    items = list((values or {}).items()) + list(kwargs.items())
    for key, value in items:
        sym = as_symbol("symbol", key)
        out[sym] = as_expr(sym.name, value)
    return out


def evaluate_expr(expr: Expr, values: Mapping[Any, Any] | None = None, **kwargs: Any) -> Expr:
    """Substitute ``values`` into ``expr`` and insist the result is a number (exact).

    >>> from symcalc.symbols import d_model
    >>> evaluate_expr(2 * d_model, d_model=3)
    6
    """
    result = as_expr("expr", expr).subs(as_substitutions(values, **kwargs))
    free = sorted(str(s) for s in result.free_symbols)
    if free:
        raise SymcalcError(f"cannot evaluate: no value given for {', '.join(free)}")
    return result


def _fold_stages(total: Expr) -> Expr:
    """``total`` as one Piecewise over the ZeRO stage when z enters only through ``z >= k`` conditions."""
    from sympy import GreaterThan, Piecewise

    from .symbols import zero_stage as z

    if z not in total.free_symbols or not total.has(Piecewise):
        return total
    conditions = [c for c in total.atoms(GreaterThan) if c.lhs == z and c.rhs.is_Integer]
    marks = {c: Symbol(f"_stage_{i}") for i, c in enumerate(conditions)}
    if not conditions or z in total.xreplace(marks).free_symbols:
        return total  # z enters some other way: the plain sum is the honest form
    stages = sorted({int(c.rhs) for c in conditions}, reverse=True)
    branches = [(total.xreplace({z: Integer(k)}), z >= k) for k in stages if k > 0]
    branches.append((total.xreplace({z: Integer(0)}), True))
    return Piecewise(*branches)


class Breakdown(Mapping[str, Expr]):
    """Named parts (sympy expressions) in order; ``.total`` is their exact sum.

    Parameters
    ----------
    parts : mapping of str to expression
        The parts, in display order. Hierarchical names use ``/``.
    unit : str
        ``"params"``, ``"FLOP"`` or ``"bytes"``: how :meth:`table` formats numbers.
    title : str
        A heading for tables and LaTeX.
    """

    __slots__ = ("_parts", "unit", "title", "_total")

    def __init__(self, parts: Mapping[str, Any] | None = None, *, unit: str = "", title: str = "") -> None:
        if parts is not None and not isinstance(parts, Mapping):
            raise SymcalcError(f"parts={_short(parts)} is not a mapping; pass {{name: expression}}")
        self._parts: dict[str, Expr] = {as_text("part name", k): as_expr(f"part {k!r}", v) for k, v in (parts or {}).items()}
        self._total: Expr | None = None
        self.unit = as_choice("unit", unit, UNITS)
        self.title = as_text("title", title)

    # --- mapping ---------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Expr:
        return self._parts[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v}" for k, v in self._parts.items())
        return f"Breakdown({{{inner}}}, unit={self.unit!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Breakdown):
            return NotImplemented
        return self._parts == other._parts and self.unit == other.unit

    __hash__ = None  # type: ignore[assignment]

    # --- the total -------------------------------------------------------------------------
    @property
    def total(self) -> Expr:
        """The exact sum of the parts; one ``Piecewise`` over the ZeRO stage when the parts depend on it.

        Left symbolic, the ZeRO stage z enters the parts only through conditions ``z >= 1``,
        ``z >= 2``, ``z >= 3`` (each sharded part, each buffer). Their plain sum would hold one
        ``Piecewise`` per part; the total instead is a single ``Piecewise`` with one branch per
        stage, each branch the sum at that stage, equal to the sum of the parts for every
        integer z >= 0. ``sympy.solve`` then solves four smooth equations, not a sum of ~20
        conditionals. The parts keep their own view.

        >>> from symcalc import Model
        >>> from symcalc.memory import zero_model_states
        >>> from symcalc.symbols import dp, zero_stage
        >>> zero_model_states(100, dp=dp, zero_stage=zero_stage).total
        Piecewise((1600/dp, zero_stage >= 3), (200 + 1400/dp, zero_stage >= 2), (400 + 1200/dp, zero_stage >= 1), (1600, True))
        """
        if self._total is None:
            self._total = _fold_stages(Add(*self._parts.values()))
        return self._total

    # --- transformations -------------------------------------------------------------------
    def _new(self, parts: Mapping[str, Any]) -> Breakdown:
        return Breakdown(parts, unit=self.unit, title=self.title)

    def map(self, fn) -> Breakdown:
        """Apply ``fn`` to every part."""
        as_callable("fn", fn)
        return self._new({k: fn(v) for k, v in self._parts.items()})

    def subs(self, values: Mapping[Any, Any] | None = None, **kwargs: Any) -> Breakdown:
        """Substitute values (by symbol or by Python name) into every part."""
        subs = as_substitutions(values, **kwargs)
        return self.map(lambda e: e.subs(subs))

    def evaluate(self, values: Mapping[Any, Any] | None = None, **kwargs: Any) -> Breakdown:
        """Substitute and insist every part is an exact number (Integer or Rational)."""
        return self._new({k: evaluate_expr(v, values, **kwargs) for k, v in self._parts.items()})

    def expand(self) -> Breakdown:
        """``sympy.expand`` every part (library code avoids ``simplify``)."""
        return self.map(lambda e: e.expand())

    def scale(self, factor: Any) -> Breakdown:
        """Multiply every part by ``factor``."""
        f = as_expr("factor", factor)
        return self.map(lambda e: f * e)

    def __mul__(self, factor: Any) -> Breakdown:
        return self.scale(factor)

    __rmul__ = __mul__

    def __add__(self, other: Breakdown) -> Breakdown:
        """Part-wise sum; parts present in only one side are kept."""
        if not isinstance(other, Breakdown):
            return NotImplemented
        parts = dict(self._parts)
        for k, v in other.items():
            parts[k] = parts.get(k, Integer(0)) + v
        return self._new(parts)

    def prefixed(self, prefix: str) -> Breakdown:
        """Every part renamed ``prefix/name``."""
        as_text("prefix", prefix)
        return self._new({f"{prefix}/{k}": v for k, v in self._parts.items()})

    def grouped(self, depth: int = 1) -> Breakdown:
        """Parts summed by the first ``depth`` components of their names."""
        depth = as_int("depth", depth)
        parts: dict[str, Expr] = {}
        for k, v in self._parts.items():
            key = "/".join(k.split("/")[:depth])
            parts[key] = parts.get(key, Integer(0)) + v
        return self._new(parts)

    def select(self, prefix: str) -> Expr:
        """The sum of the parts named ``prefix`` or ``prefix/...``."""
        as_text("prefix", prefix)
        return Add(*(v for k, v in self._parts.items() if k == prefix or k.startswith(prefix + "/")))

    def nonzero(self) -> Breakdown:
        """The parts that are not identically zero."""
        return self._new({k: v for k, v in self._parts.items() if v != 0})

    # --- output ----------------------------------------------------------------------------
    def as_ints(self) -> dict[str, int]:
        """``{name: int}`` for a numeric breakdown (raises if a part is symbolic or fractional)."""
        out = {}
        for k, v in self._parts.items():
            if v.free_symbols:
                raise SymcalcError(f"part {k!r} is still symbolic: {v}")
            if not v.is_integer:
                raise SymcalcError(f"part {k!r} is not a whole number: {v}")
            out[k] = int(v)
        return out

    def _format(self, value: Expr) -> str:
        if self.unit == "bytes":
            return format_bytes(value)
        return format_count(value, self.unit)

    def table(self, *, total_label: str = "total", extra: Sequence[tuple[str, Any]] = ()) -> str:
        """An aligned text table: exact value and a human-readable one, per part and total.

        ``extra`` rows (name, value) are printed after the total, e.g. non-embedding counts.
        """
        rows = list(self._parts.items()) + [(as_text("total_label", total_label), self.total)]
        n_main = len(rows)
        if isinstance(extra, (str, bytes)) or not isinstance(extra, Sequence):
            raise SymcalcError(f"extra={_short(extra)} is not a list of (label, value) rows")
        for row in extra:
            if not isinstance(row, (tuple, list)) or len(row) != 2:
                raise SymcalcError(f"extra row {_short(row)} is not a (label, value) pair")
        rows += [(as_text("extra label", k), as_expr(f"extra {k!r}", v)) for k, v in extra]
        numeric = all(not v.free_symbols for _, v in rows)
        width = max(len(k) for k, _ in rows)
        exacts = [(f"{int(v):,}" if v.is_integer else str(v)) if numeric else "" for _, v in rows]
        wide = max([26] + [len(e) for e in exacts])  # numbers past 26 characters stay right-aligned
        lines = [self.title] if self.title else []
        for (k, v), exact in zip(rows, exacts):
            if numeric:
                lines.append(f"{k:<{width}}  {exact:>{wide}}  {self._format(v):>12}")
            else:
                lines.append(f"{k:<{width}}  {v}")
        total_line = bool(self.title) + n_main - 1
        lines.insert(total_line, "-" * len(lines[total_line]))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def latex(self, **kwargs: Any) -> str:
        """An ``aligned`` LaTeX block, one part per line, then the total, in paper notation."""
        from .render import latex

        return latex(self, **kwargs)

    # --- notebooks (symcalc.display's layer) ------------------------------------------------
    def _human(self, value: Expr) -> str:
        if value.free_symbols:
            return {"bytes": "bytes", "params": "parameters", "FLOP": "FLOP"}.get(self.unit, "")
        return readable(value, "bytes") if self.unit == "bytes" else self._format(value)

    def _html_rows(self, parts: Mapping[str, Expr]) -> list[tuple[str, str, str]]:
        def exact(v: Expr) -> str:
            text = f"{int(v):,}" if v.is_Integer else str(v)
            return text if len(text) <= 90 else text[:87] + "..."

        return [(k, exact(v), self._human(v)) for k, v in parts.items()]

    def _repr_html_(self) -> str:
        """A table by part (the first component of each name) with the exact value and a human unit;
        every part in a collapsed list below it."""
        groups = self.grouped()
        shown = groups.nonzero() if len(groups.nonzero()) else groups
        rows = self._html_rows(dict(shown.items())) + self._html_rows({"total": self.total})
        omitted = len(groups) - len(shown)
        note = f"{omitted} part{'s' if omitted > 1 else ''} equal to 0 not shown" if omitted else ""
        human = "readable"
        out = html_table(rows, header=("part", "exact", human), title=self.title, total_rows=1, note=note)
        if len(self) > len(groups):
            detail = html_table(self._html_rows(dict(self.nonzero().items())), header=("part", "exact", human))
            out += f"<details><summary>all {len(self.nonzero())} parts</summary>{detail}</details>"
        return out

    def _repr_latex_(self) -> str:
        """Compact: one line per group (zero groups left out), then the total; numbers with units."""
        from .render import _label, latex

        shown = self.grouped().nonzero()
        if all(not v.free_symbols for v in self.values()):
            def fmt(v: Expr) -> str:
                if self.unit == "bytes":
                    return latex_number(v, "bytes")
                return latex_number(v, {"params": "params", "FLOP": "FLOP"}.get(self.unit, ""))

            lines = [rf"{_label(k)} &= {fmt(v)}" for k, v in shown.items()] + [rf"{_label('total')} &= {fmt(self.total)}"]
            return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$"
        return "$$" + latex(shown) + "$$"


def is_exact_number(value: Any) -> bool:
    """True for sympy Integers and Rationals."""
    return isinstance(value, (Integer, Rational))
