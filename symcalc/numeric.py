"""Numeric evaluation: each expression compiled once (``sympy.lambdify``), exact or float64 on purpose.

symcalc's formulas are exact sympy expressions; ``expr.subs(...)`` is exact but slow (tens of
microseconds to milliseconds per call). This module turns an expression into a Python function
once, caches it under the expression and its argument list, and evaluates it in one of two
deliberately chosen number systems:

``exact=True`` (the exact path)
    Python ``int`` and :class:`fractions.Fraction`: rationals print as ``Fraction(p, q)``,
    ``ceiling``/``floor`` as ``math.ceil``/``math.floor`` (exact on fractions), and every input is
    converted to a ``Fraction`` first, so ``/`` never produces a float. Whole results come back as
    ``int``, others as ``Fraction``; both equal ``expr.subs(...)`` exactly, at any size. Inputs go
    through the one door (:mod:`symcalc.inputs`): a Python float is the exact value of its decimal
    text (``0.4`` is ``Fraction(2, 5)``, never the binary float), a numeric string is parsed, never
    evaluated. When every argument is a Python ``int`` within its symbol's sign (the usual case),
    a second compiled function runs instead: integer numerators over products of positive
    denominators, one ``divmod`` at the end (:mod:`symcalc._intcode`), the same values about 50x
    faster (a training-memory total in ~1 µs); other inputs take the ``Fraction`` function.

``exact=False`` (the float path)
    IEEE float64 through numpy (``modules="numpy"``) when numpy is installed, otherwise Python
    floats through :mod:`math`. Inputs are converted to float64 arrays, never to int64: int64
    overflows silently above 2^63 ≈ 9.2e18, which training FLOPs (6·N·D ≈ 8e22 for a 7B model on
    2T tokens) exceed by four orders of magnitude, while float64 keeps a relative error of about
    1e-16 per operation up to 1.8e308. This is the path for sweeps over millions of
    configurations (:mod:`symcalc.sweep`).

Both paths use common-subexpression elimination (``cse=True``) and no ``simplify``. A ``Piecewise``
(the ZeRO stage left as the symbol z) compiles to a conditional expression (exact path) or
``numpy.select`` (float path); substituting the discrete settings first gives a smaller function,
which is what :mod:`symcalc.sweep` does.

>>> from symcalc.symbols import tokens, n_params
>>> flops = 6 * n_params * tokens
>>> f = compile_expr(flops, (n_params, tokens), exact=True)
>>> f(6_738_415_616, 2 * 10**12)          # 8.1e22 > 2**63: still exact
80860987392000000000000
>>> compile_expr(flops, (n_params, tokens)) is compile_expr(flops, (n_params, tokens))
True
"""

from __future__ import annotations

import math
from collections import OrderedDict
from fractions import Fraction
from numbers import Integral
from typing import Any, Callable, Iterable, Mapping, Sequence

from sympy import ITE, Basic, Expr, Integer, Rational, Symbol, lambdify
from sympy.printing.pycode import PythonCodePrinter

from ._intcode import SLOW, Unsupported, int_function
from .errors import SymcalcError
from .inputs import as_bool, as_expr, as_symbol, as_text

__all__ = [
    "CompiledExpr", "compile_expr", "compile_breakdown", "evaluate", "to_sympy", "has_numpy",
    "require_numpy", "clear_cache", "cache_size",
]

_CACHE_SIZE = 2048
_CACHE: "OrderedDict[tuple, CompiledExpr]" = OrderedDict()


def has_numpy() -> bool:
    """True when numpy can be imported (it is an optional dependency: ``symcalc[numpy]``)."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def require_numpy():
    """The numpy module, or a one-line ``SymcalcError`` saying how to install it."""
    try:
        import numpy
    except ImportError:
        raise SymcalcError("vectorized sweeps need numpy; install it with: pip install 'symcalc[numpy]'") from None
    return numpy


class _ExactPrinter(PythonCodePrinter):
    """Python code that stays exact on ``Fraction`` inputs: rationals as ``Fraction(p, q)``."""

    def _print_Rational(self, expr):
        return f"Fraction({expr.p}, {expr.q})"

    def _print_Half(self, expr):
        return "Fraction(1, 2)"

    def _print_Integer(self, expr):
        return str(expr.p)

    def _print_Float(self, expr):
        raise SymcalcError(f"the exact path cannot compile the float {expr}; keep formulas exact (Rational)")


def _as_exact(name: str, value: Any) -> Any:
    """An exact input: int and Fraction kept; anything else through the one door, which must give a rational."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, Integral) and not isinstance(value, bool):  # int, numpy integer types
        return Fraction(int(value))
    expr = as_expr(name, value)
    if not expr.is_Rational:
        raise SymcalcError(f"{name}={' '.join(str(expr).split())[:60]} is not a rational number; the exact path "
                           "takes ints, Fractions, floats (their decimal text) or numeric strings")
    return Fraction(int(expr.p), int(expr.q))


def _as_float(name: str, value: Any, np: Any = None) -> Any:
    """A float64 input (numpy arrays pass as they are); strings and sympy numbers through the one door."""
    if isinstance(value, (str, Basic, bool)):
        expr = as_expr(name, value)
        if not expr.is_number:
            raise SymcalcError(f"{name}={' '.join(str(expr).split())[:60]} is symbolic; give a number")
        value = float(expr)
    try:
        return float(value) if np is None else np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise SymcalcError(f"{name}={' '.join(repr(value).split())[:60]} is not a number or an array of numbers") from None


def _normalise(value: Any) -> Any:
    """``Fraction(6, 1)`` -> ``6``; other values unchanged."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def _lambdify(args: tuple, target: Any, modules: Any, printer: type, names: tuple = ()) -> Callable:
    """``lambdify`` with common subexpressions, terms printed in stored order, no docstring.

    Compiling costs more than evaluating once: sympy's default printer sorts the terms of every
    sum, and lambdify prints the whole expression again for the function's docstring. Neither
    changes the function (the sum's order changes float rounding only, ~1e-16 relative).
    """
    settings = {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
                "user_functions": {n: n for n in names}, "order": "none"}
    extra = {"docstring_limit": 0} if "docstring_limit" in _lambdify_parameters() else {}
    return lambdify(args, target, modules=modules, printer=printer(settings), cse=True, **extra)


def _lambdify_parameters() -> frozenset:
    global _LAMBDIFY_PARAMETERS
    if _LAMBDIFY_PARAMETERS is None:
        import inspect

        _LAMBDIFY_PARAMETERS = frozenset(inspect.signature(lambdify).parameters)
    return _LAMBDIFY_PARAMETERS


_LAMBDIFY_PARAMETERS = None
_NUMPY_NAMESPACE: dict = {}
_WHERE_PRINTER: list = []


def _where_printer() -> type:
    """sympy's NumPyPrinter with a ``Piecewise`` as nested ``numpy.where`` (one C call per condition).

    sympy prints ``numpy.select(conditions, values, default=nan)``, whose Python-level
    broadcasting costs ~20 µs a call on small arrays: most of a sweep's fixed cost. ``where``
    evaluates the same branches and picks the same one (the first true condition); NaN where
    none holds, as ``select``'s default.
    """
    if not _WHERE_PRINTER:
        from sympy.printing.numpy import NumPyPrinter

        class WherePrinter(NumPyPrinter):
            def _print_Piecewise(self, expr):
                if any(arg.cond.has(ITE) for arg in expr.args):
                    return super()._print_Piecewise(expr)
                args = list(expr.args)
                last = args.pop()
                code = self._print(last.expr) if last.cond == True else (  # noqa: E712 - sympy's true
                    f"where({self._print(last.cond)}, {self._print(last.expr)}, nan)")
                for arg in reversed(args):
                    code = f"where({self._print(arg.cond)}, {self._print(arg.expr)}, {code})"
                return code

        _WHERE_PRINTER.append(WherePrinter)
    return _WHERE_PRINTER[0]


def _numpy_namespace(np) -> dict:
    """numpy's loaded top-level names: lambdify's ``"numpy"`` would run ``from numpy import *``,
    which also loads numpy's lazy submodules (~0.2 s on a first compile) that generated code never uses."""
    if not _NUMPY_NAMESPACE:
        _NUMPY_NAMESPACE.update((k, v) for k, v in vars(np).items() if not k.startswith("__"))
        _NUMPY_NAMESPACE["I"] = 1j
    return _NUMPY_NAMESPACE


class CompiledExpr:
    """An expression compiled once: call it with the values of ``args``, positionally or by name.

    Built by :func:`compile_expr` (expressions) or :func:`compile_breakdown` (all parts of a
    :class:`~symcalc.breakdown.Breakdown`, returned as a tuple in part order). ``source`` is the
    generated Python code.
    """

    __slots__ = ("expr", "args", "exact", "names", "source", "int_source", "_fn", "_np", "_many", "_int", "_n",
                 "_arg_names")

    def __init__(self, expr: Any, args: tuple, exact: bool, names: tuple = ()) -> None:
        if isinstance(expr, tuple):
            expr = tuple(as_expr("expr", e) for e in expr)
        else:
            expr = as_expr("expr", expr)
        self.expr = expr
        self.args = _key_args(args)
        self.exact = as_bool("exact", exact)
        if isinstance(names, str) or not isinstance(names, tuple):
            raise SymcalcError(f"names={names!r:.60} is not a tuple of part names")
        self.names = tuple(as_text("names", n) for n in names)
        args = self.args
        self._many = isinstance(expr, tuple)
        self._np = None
        self._int, self.int_source, self._n = None, None, len(args)
        self._arg_names = tuple(str(a) for a in args)
        target = list(expr) if self._many else expr
        if exact:
            namespace = {"Fraction": Fraction, "math": math}
            self._fn = _lambdify(args, target, [namespace, "math"], _ExactPrinter, ("Fraction", "math"))
            try:
                self._int, self.int_source = int_function(args, expr)
            except Unsupported:
                pass
        else:
            try:
                import numpy as np
            except ImportError:
                self._fn = _lambdify(args, target, "math", PythonCodePrinter)
            else:
                self._np = np
                self._fn = _lambdify(args, target, [_numpy_namespace(np)], _where_printer())
        import inspect

        self.source = inspect.getsource(self._fn)

    def __repr__(self) -> str:
        kind = "exact" if self.exact else "float64"
        return f"CompiledExpr({kind}, args=({', '.join(str(a) for a in self.args)}))"

    def _arguments(self, values: tuple, kwargs: Mapping[str, Any]) -> list:
        if kwargs:
            by_name = {str(a): i for i, a in enumerate(self.args)}
            out = list(values) + [None] * (len(self.args) - len(values))
            for key, value in kwargs.items():
                if key not in by_name:
                    raise SymcalcError(f"{key} is not an argument of this compiled expression; it takes {', '.join(by_name)}")
                out[by_name[key]] = value
            values = tuple(out)
        if len(values) != len(self.args) or any(v is None for v in values):
            missing = [str(a) for a, v in zip(self.args, list(values) + [None] * len(self.args)) if v is None]
            raise SymcalcError(f"compiled expression needs values for {', '.join(missing) or 'its arguments'}")
        return list(values)

    def __call__(self, *values: Any, **kwargs: Any) -> Any:
        if self._int is not None and not kwargs and len(values) == self._n:
            out = self._int(*values)
            if out is not SLOW:
                return out
        vals = self._arguments(values, kwargs)
        if self.exact:
            vals = [_as_exact(str(a), v) for a, v in zip(self.args, vals)]
            out = self._fn(*vals)
            return tuple(_normalise(v) for v in out) if self._many else _normalise(out)
        np = self._np
        if np is None:
            vals = [_as_float(str(a), v) for a, v in zip(self.args, vals)]
            out = self._fn(*vals)
            return tuple(float(v) for v in out) if self._many else float(out)
        vals = [_as_float(str(a), v, np) for a, v in zip(self.args, vals)]
        out = self._fn(*vals)
        if not self._many:
            return np.asarray(out, dtype=np.float64)
        shape = np.broadcast_shapes(*(v.shape for v in vals)) if vals else ()
        return tuple(_full(np, v, shape) for v in out)

    def natural(self, *arrays: Any) -> tuple:
        """Float path, numpy arrays in: each output at its *own* broadcast shape (a tuple of arrays).

        ``__call__`` broadcasts every output to the common shape of all inputs; here an output
        that uses only some inputs keeps their (smaller) shape and a constant is a 0-d array,
        which is what a sweep needs to store each part without repeating it.
        """
        np = require_numpy()
        if self.exact or self._np is None:
            raise SymcalcError("natural() is the numpy float path; compile with exact=False and numpy installed")
        if len(arrays) != len(self.args):
            raise SymcalcError(f"natural() needs {len(self.args)} arrays ({', '.join(map(str, self.args))}), got {len(arrays)}")
        ndarray, f64 = np.ndarray, np.float64
        if not all(type(v) is ndarray and v.dtype == f64 for v in arrays):
            arrays = tuple(_as_float(a, v, np) for a, v in zip(self._arg_names, arrays))
        out = self._fn(*arrays)
        return tuple(v if type(v) is ndarray and v.dtype == f64 else np.asarray(v, dtype=f64)
                     for v in (out if self._many else (out,)))

    def many(self, rows: Iterable[Sequence[Any]]) -> list:
        """Evaluate row by row (the exact path over a list of configurations)."""
        if isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
            raise SymcalcError(f"rows={rows!r:.60} is not a list of rows (one value per argument)")
        rows = list(rows)
        if self._int is not None:
            fast = self._int
            try:
                out = [fast(*row) for row in rows]
            except TypeError:  # a row of the wrong length or not a sequence: the checks below say which
                pass
            else:
                for i, value in enumerate(out):
                    if value is SLOW:
                        out[i] = self(*rows[i])
                return out
        out = []
        for row in rows:
            if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
                raise SymcalcError(f"row {row!r:.60} is not a sequence of values (one per argument)")
            out.append(self(*row))
        return out


def _full(np, value: Any, shape: tuple):
    """A float64 array of ``shape`` (constant parts, such as a zero, come back as scalars)."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != shape:
        arr = np.broadcast_to(arr, shape)
    return arr


def _key_args(args: Any) -> tuple:
    if isinstance(args, (Symbol, str)):
        args = (args,)
    if not isinstance(args, (list, tuple)):
        raise SymcalcError(f"args={args!r:.60} is not a list of symbols (or their names)")
    return tuple(as_symbol("args", a) for a in args)


def _cached(key: tuple, build: Callable[[], CompiledExpr]) -> CompiledExpr:
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    compiled = build()
    _CACHE[key] = compiled
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled


def compile_expr(expr: Any, args: Any, *, exact: bool = False) -> CompiledExpr:
    """``expr`` as a Python function of ``args`` (symbols or their names), compiled once and cached.

    The cache key is the expression, the argument tuple and the path, so a second call with the
    same (structurally equal) expression costs a dictionary lookup. Symbols of ``expr`` not in
    ``args`` are an error (they would be undefined names at call time).

    Parameters
    ----------
    expr : sympy expression
    args : symbols (or their Python names), in call order
    exact : bool
        ``True``: Python int/Fraction, exact (see the module docstring); ``False``: float64.

    Examples
    --------
    >>> from symcalc.symbols import micro_batch as b, tp
    >>> f = compile_expr(3 * b / (2 * tp), (b, tp), exact=True)
    >>> f(5, 4), f(micro_batch=4, tp=3)
    (Fraction(15, 8), 2)
    >>> g = compile_expr(3 * b / (2 * tp), (b, tp))
    >>> float(g(5, 4))
    1.875
    """
    expr = as_expr("expr", expr)
    args = _key_args(args)
    exact = as_bool("exact", exact)
    missing = sorted(str(s) for s in expr.free_symbols - set(args))
    if missing:
        raise SymcalcError(f"cannot compile: {', '.join(missing)} not among the arguments; add them or substitute values first")
    return _cached((expr, args, bool(exact)), lambda: CompiledExpr(expr, args, bool(exact)))


def compile_breakdown(breakdown: Any, args: Any, *, exact: bool = False, total: bool = True) -> CompiledExpr:
    """All parts of a Breakdown (and its total, last) as one compiled function returning a tuple.

    One function with common subexpressions shared across parts; ``.names`` lists the parts in
    the order they are returned (``"total"`` last when ``total=True``).

    >>> from symcalc.breakdown import Breakdown
    >>> from symcalc.symbols import tp
    >>> f = compile_breakdown(Breakdown({"a": 12 / tp, "b": 4}), (tp,), exact=True)
    >>> f.names, f(3)
    (('a', 'b', 'total'), (4, 4, 8))
    """
    from .breakdown import Breakdown

    if not isinstance(breakdown, Breakdown):
        raise SymcalcError(f"breakdown={breakdown!r:.60} is not a Breakdown; use compile_expr for one expression")
    total, exact = as_bool("total", total), as_bool("exact", exact)
    names = tuple(breakdown.keys()) + (("total",) if total else ())
    exprs = tuple(breakdown.values()) + ((breakdown.total,) if total else ())
    args = _key_args(args)
    free = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
    missing = sorted(str(s) for s in free - set(args))
    if missing:
        raise SymcalcError(f"cannot compile: {', '.join(missing)} not among the arguments; add them or substitute values first")
    return _cached((exprs, args, bool(exact), names), lambda: CompiledExpr(exprs, args, bool(exact), names))


def evaluate(expr: Any, values: Mapping[Any, Any] | None = None, *, exact: bool = True, **kwargs: Any) -> Any:
    """Evaluate ``expr`` at ``values`` through its compiled function (exact by default).

    >>> from symcalc.symbols import n_params, tokens
    >>> evaluate(6 * n_params * tokens, n_params=7 * 10**9, tokens=2 * 10**12)
    84000000000000000000000
    """
    if values is not None and not isinstance(values, Mapping):
        raise SymcalcError(f"values={values!r:.60} is not a mapping; pass e.g. {{'tp': 2}} or tp=2")
    items = dict(values or {})
    items.update(kwargs)
    subs = {as_symbol("symbol", k): v for k, v in items.items()}
    expr = as_expr("expr", expr)
    exact = as_bool("exact", exact)
    args = tuple(sorted(expr.free_symbols, key=str))
    fn = compile_expr(expr, args, exact=exact)
    missing = [str(a) for a in args if a not in subs]
    if missing:
        raise SymcalcError(f"cannot evaluate: no value given for {', '.join(missing)}")
    return fn(*(subs[a] for a in args))


def to_sympy(value: Any) -> Expr:
    """An exact-path result as a sympy number (``Fraction(3, 2)`` -> ``3/2``)."""
    if isinstance(value, Fraction):
        return Rational(value.numerator, value.denominator)
    if isinstance(value, Integral):
        return Integer(int(value))
    raise SymcalcError(f"{value!r} is not an exact-path result (int or Fraction)")


def clear_cache() -> None:
    """Forget every compiled function."""
    _CACHE.clear()


def cache_size() -> int:
    """How many compiled functions the cache holds."""
    return len(_CACHE)
