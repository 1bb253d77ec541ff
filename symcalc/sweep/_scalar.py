"""The two part groups as plain Python float code, every ZeRO stage (or policy) in one call: small grids.

A grid of a few configurations spends its time in numpy's cost per call (about a microsecond for
each of the dozens of array operations of a compiled part group), not in arithmetic. For such
grids :mod:`symcalc.sweep._small` calls the functions built here instead: the same expressions,
with the same common subexpressions (``sympy.cse`` exactly as ``lambdify`` runs it), printed as
Python float arithmetic. The discrete argument (the ZeRO stage of the model states, the policy
index of the activations) is resolved while printing: one call returns the group's total for
every stage (or policy), the subexpressions that do not depend on it computed once.

The floats are those of the numpy function, operation by operation: the same sums and products in
the same order, ``x**-1`` as ``1/x`` (numpy's ``x**(-1.0)`` is its correctly rounded reciprocal),
``x**2`` as ``x*x`` (numpy's ``square``), ``Max``/``Min`` of floats, ``floor``/``ceiling`` as floats.
An expression with anything else (another power, an unknown function) gets no scalar function
(:class:`Unsupported`), and its grids take the numpy path.
"""

from __future__ import annotations

import math

from sympy import S as SS, cse
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["Unsupported", "scalar_group"]


class Unsupported(Exception):
    """The expressions hold something the scalar printer does not reproduce bit for bit."""


class _Printer(PythonCodePrinter):
    """Python float code that rounds as the numpy printer's code does."""

    def __init__(self, discrete, value) -> None:
        super().__init__({"fully_qualified_modules": False, "inline": True, "order": "none", "strict": True})
        self.discrete, self.value = discrete, value

    def _print_Pow(self, expr, rational=False):
        base = self.parenthesize(expr.base, 1000, strict=False)  # atom-tight: x, (a + b)
        if expr.exp == -1:
            return f"1/{base}"
        if expr.exp == 2:
            return f"({base}*{base})"
        if expr.exp == SS.Half:
            return f"math.sqrt({self._print(expr.base)})"
        raise Unsupported(f"power {expr.exp}")

    def _minmax(self, name, expr):
        args = [repr(float(a)) if a.is_Number else self._print(a) for a in expr.args]
        return f"{name}({', '.join(args)})" if len(args) > 1 else args[0]

    def _print_Max(self, expr):
        return self._minmax("max", expr)

    def _print_Min(self, expr):
        return self._minmax("min", expr)

    def _print_floor(self, expr):
        return f"float(math.floor({self._print(expr.args[0])}))"

    def _print_ceiling(self, expr):
        return f"float(math.ceil({self._print(expr.args[0])}))"

    def _print_Piecewise(self, expr):
        if not any(self.discrete in c.free_symbols for _, c in expr.args):
            return super()._print_Piecewise(expr)
        for e, c in expr.args:
            hit = c.subs(self.discrete, self.value)
            if hit == True:  # noqa: E712 - sympy's true
                return f"({self._print(e)})"
            if hit != False:  # noqa: E712 - a condition on something else as well
                raise Unsupported("a condition on the discrete argument and another")
        raise Unsupported("no branch holds")

    def _print_Symbol(self, expr):
        if expr == self.discrete:
            raise Unsupported("the discrete argument outside a Piecewise condition")
        return super()._print_Symbol(expr)

    def _print_Float(self, expr):
        raise Unsupported("a float in the formula")

    def _print_Function(self, expr):
        raise Unsupported(f"function {expr.func}")


def scalar_group(exprs: tuple, args: tuple, discrete, values: tuple, summed: bool):
    """A Python function of ``args`` (floats) returning, per value of ``discrete``, the group's total.

    ``exprs`` are the group's parts (the expressions its numpy function computes, Piecewise over
    ``discrete``); the total is their sum left to right, as the grid sums the parts' arrays
    (``summed``; else the one part). Raises :class:`Unsupported`.
    """
    cses, reduced = cse(list(exprs), list=False)
    lines, seen = [], {}
    for sym, e in cses:
        if discrete in e.free_symbols:
            raise Unsupported("a common subexpression depends on the discrete argument")
        lines.append(f"    {sym} = {_Printer(discrete, None).doprint(e)}")
    totals = []
    for value in values:
        printer = _Printer(discrete, value)
        names = []
        for e in reduced:
            code = printer.doprint(e)
            if code not in seen:  # a branch shared by several values is computed once
                seen[code] = f"_p{len(seen)}"
                lines.append(f"    {seen[code]} = {code}")
            names.append(seen[code])
        # Adding a part that is the constant 0 changes no float (the parts are never -0.0): left out.
        kept = [n for n, e in zip(names, reduced) if not e.is_zero] or names[:1]
        totals.append(" + ".join(kept) if summed else names[0])
    params = ", ".join(str(a) for a in args)
    source = f"def _scalar({params}):\n" + "\n".join(lines) + f"\n    return ({', '.join(totals)},)\n"
    namespace = {"math": math}
    exec(compile(source, "<symcalc.sweep scalar>", "exec"), namespace)  # noqa: S102 - our own generated code
    fn = namespace["_scalar"]
    fn.source = source
    return fn

