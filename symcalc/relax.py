"""The route for sympy's own solvers: ``relax`` an expression to positive reals, solve, round, check.

symcalc's sizes and degrees are declared ``integer=True, positive=True`` (:mod:`symcalc.symbols`),
which is what they are. sympy's ``solve`` takes the assumption literally: the memory equation
``M(b) = budget`` has a real root, not an integer one, so ``solve(Eq(M, budget), micro_batch)``
returns ``[]``. And a ``floor`` or ``ceiling`` (a padded vocabulary, the MoE layers of an
interval layout) in the unknown makes ``solve`` raise ``NotImplementedError``.

:func:`relax` gives the form to solve: every integer symbol replaced by its *positive real twin*
(the same name, ``positive=True`` only, so it prints the same), and ``floor(u)``/``ceiling(u)``
replaced by ``u``, the smooth form, which equals the exact one wherever ``u`` is whole (the
vocabulary a multiple of its padding, the layers a multiple of the MoE interval). Solve the
relaxed equation for the relaxed unknown, then take the allowed integer next to the root and
check it on the exact expression; :func:`restore` maps a result back to symcalc's symbols.
symcalc's own solvers (:mod:`symcalc.solve`) do exactly this, and split a ``Piecewise`` in the
unknown at its breakpoints.

>>> from sympy import Eq, solve
>>> from symcalc import Model, training_memory
>>> from symcalc.symbols import micro_batch
>>> mem = training_memory(Model.preset("llama-2-7b"), seq_len=4096, n_devices=8, zero_stage=3, recompute="full")
>>> solve(Eq(mem.total, 80 * 2**30), micro_batch)            # integer micro_batch: no integer root
[]
>>> b = relax(micro_batch)
>>> root, = solve(relax(Eq(mem.total, 80 * 2**30)), b)
>>> root                                                      # the exact real root
69079991/1626112
>>> import math
>>> best = math.floor(root)                                   # round, then check on the exact form
>>> best, bool(mem.total.subs(micro_batch, best) <= 80 * 2**30 < mem.total.subs(micro_batch, best + 1))
(42, True)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sympy import Basic, Symbol, ceiling, floor

from .breakdown import Breakdown
from .errors import SymcalcError

__all__ = ["relax", "restore", "real_twin"]


@lru_cache(maxsize=None)
def real_twin(sym: Symbol) -> Symbol:
    """The positive real symbol of the same name as an integer symbol (itself otherwise).

    >>> from symcalc.symbols import micro_batch
    >>> twin = real_twin(micro_batch)
    >>> twin, twin.is_integer, twin.is_positive
    (micro_batch, None, True)
    """
    if not isinstance(sym, Symbol):
        raise SymcalcError(f"{sym!r:.60} is not a symbol")
    if not sym.is_integer:
        return sym
    if sym.is_positive:
        return Symbol(sym.name, positive=True)
    return Symbol(sym.name, nonnegative=True) if sym.is_nonnegative else Symbol(sym.name, real=True)


def relax(obj: Any) -> Any:
    """``obj`` over positive reals: integer symbols replaced by their real twins, floor/ceiling by their argument.

    ``obj`` is an expression, an equation, a symbol (its twin) or a
    :class:`~symcalc.breakdown.Breakdown` (each part relaxed). The ZeRO stage, which only ever
    appears in conditions, keeps a ``Piecewise`` with one branch per stage (see
    :attr:`Breakdown.total <symcalc.breakdown.Breakdown.total>`): substitute it first, or solve each branch.

    >>> from symcalc.symbols import vocab
    >>> from sympy import ceiling
    >>> relax(ceiling(vocab / 128) * 128)
    vocab
    """
    if isinstance(obj, Breakdown):
        return obj.map(relax)
    if isinstance(obj, str) or not isinstance(obj, Basic):
        raise SymcalcError(f"{obj!r:.60} is not a sympy expression, equation or Breakdown; relax takes those")
    smooth = obj.replace(lambda e: isinstance(e, (floor, ceiling)), lambda e: e.args[0])
    return smooth.xreplace({s: real_twin(s) for s in smooth.free_symbols if isinstance(s, Symbol)})


def restore(obj: Any) -> Any:
    """Undo :func:`relax`'s renaming: real twins back to symcalc's integer symbols (floor/ceiling stay dropped).

    >>> from symcalc.symbols import micro_batch
    >>> restore(relax(2 * micro_batch)).free_symbols == {micro_batch}
    True
    """
    from .symbols import _BY_NAME

    if isinstance(obj, Breakdown):
        return obj.map(restore)
    if isinstance(obj, str) or not isinstance(obj, Basic):
        raise SymcalcError(f"{obj!r:.60} is not a sympy expression, equation or Breakdown")
    back = {s: _BY_NAME[s.name] for s in obj.free_symbols
            if isinstance(s, Symbol) and s.name in _BY_NAME and real_twin(_BY_NAME[s.name]) == s}
    return obj.xreplace(back)
