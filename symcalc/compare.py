"""Comparisons: one question asked for several configurations, as rows of (configuration, result).

:func:`compare` calls a function of symcalc once per combination of the values given in
``vary`` (the cartesian product, in the order given) and keeps each configuration with its
result, a :class:`~symcalc.breakdown.Breakdown` or a solver's
:class:`~symcalc.solve.Solution`. The rows are plain data, ``[(config, result), ...]``: print
them (:meth:`Comparison.table`), send them as JSON (:meth:`Comparison.as_json`) or plot them.
The CLI's comma-separated flags (``symcalc mem -z 0,1,2,3 -tp 1,2``) build the same rows.

>>> from symcalc import Model, training_memory
>>> rows = compare(training_memory, vary={"zero_stage": [0, 3]}, model=Model.preset("llama-2-7b"),
...                seq_len=4096, micro_batch=1, n_devices=8)
>>> [(config["zero_stage"], round(float(result.total) / 2**30, 2)) for config, result in rows]
[(0, 132.28), (3, 33.44)]
>>> print(rows.table())
training_memory
zero_stage  weights GiB  gradients GiB  optimizer GiB  activations GiB  communication GiB  misc GiB  total GiB
--------------------------------------------------------------------------------------------------------------
         0        12.55          25.10          75.31            19.32               0.00      0.00     132.28
         3         1.57           3.14           9.41            19.32               0.00      0.00      33.44
>>> rows.as_json()[1]["config"], rows.as_json()[1]["total"]
({'zero_stage': 3}, 35902268416)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from .errors import SymcalcError
from .inputs import as_callable, as_text

__all__ = ["Comparison", "compare", "GIB"]

#: Bytes in a GiB (2^30), the unit comparison tables print memory in.
GIB = 2**30


@dataclass
class Comparison:
    """Rows of ``(configuration, result)``: the configuration is a dict of the varied values only.

    ``varied`` names the varied settings in order; ``title`` says what was asked; ``details`` may
    hold, per row, the CLI's ``--json`` object of that configuration. Iterating gives the rows;
    ``len()`` their number.
    """

    rows: list
    varied: tuple = ()
    title: str = ""
    fixed: Mapping[str, Any] = field(default_factory=dict)
    details: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.rows, list) or not all(
                isinstance(r, tuple) and len(r) == 2 and isinstance(r[0], Mapping) for r in self.rows):
            raise SymcalcError(f"Comparison.rows={self.rows!r:.60} is not a list of (configuration dict, result)")
        if isinstance(self.varied, str) or not isinstance(self.varied, (list, tuple)) or not all(
                isinstance(v, str) and v.isidentifier() for v in self.varied):
            raise SymcalcError(f"Comparison.varied={self.varied!r:.60} is not a list of setting names")
        self.varied = tuple(self.varied)
        self.title = as_text("Comparison.title", self.title)
        if not isinstance(self.fixed, Mapping):
            raise SymcalcError(f"Comparison.fixed={self.fixed!r:.60} is not a mapping of the settings every row shares")
        if not isinstance(self.details, list):
            raise SymcalcError(f"Comparison.details={self.details!r:.60} is not a list (one JSON object per row)")

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def configs(self) -> list[dict]:
        """The configurations, in row order."""
        return [dict(c) for c, _ in self.rows]

    def results(self) -> list:
        """The results, in row order."""
        return [r for _, r in self.rows]

    def columns(self) -> list[str]:
        """The result columns of :meth:`table`: the parts of a breakdown (grouped), and ``total``."""
        names: list[str] = []
        for _, result in self.rows:
            for name in _summary(result):
                if name not in names:
                    names.append(name)
        return names

    def table(self) -> str:
        """One line per configuration: the varied values, then each part (bytes in GiB) and the total."""
        cols = self.columns()
        unit = _unit(self.rows[0][1]) if self.rows else ""
        plain = {"feasible", "method"} | {getattr(r, "symbol", None) for _, r in self.rows}
        heads = list(self.varied) + [f"{c} {unit}".strip() if c not in plain else c for c in cols]
        body = []
        for config, result in self.rows:
            summary = _summary(result)
            cells = [_cell(config.get(v)) for v in self.varied]
            cells += [_number(summary.get(c), "" if c in plain else unit) for c in cols]
            body.append(cells)
        widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(heads)]
        lines = ([self.title] if self.title else []) + ["  ".join(h.rjust(w) for h, w in zip(heads, widths))]
        lines.append("-" * len(lines[-1]))
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in body]
        return "\n".join(lines)

    def as_json(self) -> list[dict]:
        """JSON-ready rows: ``{"config": {...}, <each part>: int or str, "total": ...}`` (exact values)."""
        out = []
        for config, result in self.rows:
            row = {"config": {k: _jsonable(v) for k, v in config.items()}}
            row.update({k: _jsonable(v) for k, v in _summary(result).items()})
            out.append(row)
        return out

    def __str__(self) -> str:
        return self.table()


def _summary(result: Any) -> dict:
    """The columns of one result: a breakdown's grouped parts and total; a Solution's answer."""
    from .breakdown import Breakdown

    if isinstance(result, Breakdown):
        grouped = result.grouped() if any("/" in k for k in result) else result
        return {**dict(grouped.items()), "total": result.total}
    if hasattr(result, "feasible") and hasattr(result, "symbol"):
        return {result.symbol: result.value, "quantity": result.quantity, "budget": result.budget,
                "feasible": result.feasible}
    if isinstance(result, Mapping):
        return dict(result)
    return {"value": result}


def _unit(result: Any) -> str:
    unit = getattr(result, "unit", "")
    return {"bytes": "GiB"}.get(unit, unit)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    try:
        if int(value) == value and not isinstance(value, str):
            return f"{int(value):,}"
    except (TypeError, ValueError):
        pass
    return str(value)


def _number(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if unit == "GiB":
        return f"{x / GIB:.2f}"
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:.4g}"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value
    if getattr(value, "is_Integer", False):
        return int(value)
    if getattr(value, "is_Rational", False):
        return str(value)
    return str(value)


def _check_keywords(fn: Callable[..., Any], keywords: Sequence[str]) -> None:
    """A keyword the function does not take is a one-line error naming it (not a TypeError mid-way)."""
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    unknown = [k for k in keywords if k not in params]
    if unknown:
        name = getattr(fn, "__name__", "the function")
        raise SymcalcError(f"{name} takes no keyword {unknown[0]!r:.40}; it takes {', '.join(params)}")


def compare(function: Callable[..., Any], vary: Mapping[str, Sequence[Any]], *,
            title: Optional[str] = None, **fixed: Any) -> Comparison:
    """``function(**fixed, **config)`` for every combination ``config`` of the ``vary`` values.

    Parameters
    ----------
    function : a symcalc function (``training_memory``, ``training_flops``, ``params``, a solver, ...)
    fixed : the keyword arguments every call shares (the model too: ``model=...``)
    vary : keyword -> the values to try (a list, tuple or range; at least one value each)
    title : the table's first line (default: the function's name)

    Returns
    -------
    Comparison : rows ``(config, result)``, configurations in the order of the cartesian product
    (the first keyword varies slowest).
    """
    fn = as_callable("function", function)
    if not isinstance(vary, Mapping) or not vary:
        raise SymcalcError(f"vary={vary!r:.60} is not a mapping of keyword -> values; e.g. vary={{'tp': [1, 2, 4]}}")
    names, choices = [], []
    for name, values in vary.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise SymcalcError(f"vary key {name!r:.60} is not a keyword name")
        if name in fixed:
            raise SymcalcError(f"{name} is both varied and fixed; give it once")
        if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, range)):
            raise SymcalcError(f"vary[{name!r}]={values!r:.60} is not a list of values; e.g. [1, 2, 4]")
        if len(values) == 0:
            raise SymcalcError(f"vary[{name!r}] is empty; give at least one value")
        names.append(name)
        choices.append(list(values))
    _check_keywords(fn, [*names, *fixed])
    rows = []
    for combo in itertools.product(*choices):
        config = dict(zip(names, combo))
        rows.append((config, fn(**fixed, **config)))
    return Comparison(rows, tuple(names), title if title is not None else getattr(fn, "__name__", ""), dict(fixed))
