"""Flat sweeps with small tables: the total as Σ m(x)·C_m(z, r, t, p), each C_m looked up, each m a few passes.

A flat list of configurations repeats a few values of the ZeRO stage, the recompute policy and
the degrees millions of times. The total at each (z, policy), with the scalar inputs substituted
and its terms expanded, is grouped by the part that does not depend on the *table variables*
(z and r when they vary, and one or two integer degrees with few values, typically t and p):

.. math:: M = \\sum_m m(d, b, \\ldots)\\, C_m(z, r, t, p)

Each coefficient C_m is evaluated once on every combination of the table variables' values (a
table of at most 2^17 floats, which stays in the processor's cache, NaN where t or p does not fit
the model) and costs one lookup per configuration; each m is a short product (``b``, ``1/d``).
So a chunk of configurations costs about a dozen array passes whatever the number of ZeRO
stages and policies in it, with no grouping by setting, and it is the same expanded formula,
evaluated in float64.
"""

from __future__ import annotations

from functools import lru_cache

from sympy import Add, Integer

from ..numeric import compile_breakdown
from ._functions import POINT_ARGS, total_function

__all__ = ["table_plan", "TABLE_LIMIT", "BadCodes", "Regrow"]

#: Largest table (entries): 2^17 float64 = 1 MiB.
TABLE_LIMIT = 2**17
_NAMES = ("tp", "pp", "dp", "ep", "cp", "micro_batch", "seq_len")


@lru_cache(maxsize=256)
def _plan(model, settings_key, zs: tuple, rs: tuple, scalars: tuple, table_vars: tuple):
    """Per (z, policy): {monomial: coefficient expression of the table variables}; and the compiled parts."""
    from ..breakdown import Breakdown

    settings = dict(settings_key)
    symbol = dict(zip(_NAMES, POINT_ARGS))
    tsyms = tuple(symbol[n] for n in table_vars)
    fixed = {symbol[n]: Integer(v) for n, v in scalars}
    per_setting, monos = [], []
    for z in zs:
        for r in rs:
            expr = total_function(model, z, r, settings).expr.subs(fixed).expand()
            groups: dict = {}
            for term in Add.make_args(expr):
                free, dep = term.as_independent(*tsyms, as_Add=False)
                coeff, mono = free.as_coeff_Mul()
                groups[mono] = groups.get(mono, Integer(0)) + coeff * dep
                if mono not in monos:
                    monos.append(mono)
            per_setting.append(groups)
    others = tuple(symbol[n] for n in _NAMES if n not in table_vars and n not in dict(scalars))
    coefs = [compile_breakdown(Breakdown({f"c{i}": g.get(m, Integer(0)) for i, m in enumerate(monos)}), tsyms,
                               total=False) for g in per_setting]
    mono_fn = compile_breakdown(Breakdown({f"m{i}": m for i, m in enumerate(monos)}), others, total=False)
    return coefs, mono_fn, tuple(str(s) for s in others), tuple(_kind(m, others) for m in monos)


def _kind(mono, others: tuple) -> tuple:
    """How a chunk gets monomial ``mono``: ``("one",)``, ``("sym", i)`` (input i as it is), ``("inv", i)`` (1/input i), or ``("fn",)``.

    An input and its reciprocal are applied directly to the integer chunk (a float64 product with
    an integer array casts each value exactly; ``1/x`` is numpy's correctly rounded reciprocal);
    other monomials come from the compiled monomial function.
    """
    if mono == 1:
        return ("one",)
    if mono in others:
        return ("sym", others.index(mono))
    if mono.is_Pow and mono.exp == -1 and mono.base in others:
        return ("inv", others.index(mono.base))
    return ("fn",)


def table_plan(np, model, settings: dict, arrays: dict, scalars: dict, zs: tuple, rs: tuple, z_codes, r_codes, valid,
               exact: bool = True):
    """``(chunk, covered)``: ``chunk(i, j, out)`` writes the totals of configurations i..j; None when no table fits.

    ``arrays`` maps input names to 1-D integer arrays, ``scalars`` to ints; ``zs``/``rs`` are the
    ZeRO stages and policies, ``z_codes``/``r_codes`` each configuration's position in them (integer
    arrays, not yet checked: ``chunk`` raises :class:`BadCodes` when a chunk holds one out of range;
    None when there is one); ``valid(name, v)`` says whether degree value v fits the model (NaN in
    the table otherwise; it depends on the model alone). ``covered`` names the degrees the table checked.

    The codes are checked chunk by chunk, where the chunk is in the processor's cache anyway. The
    table variables' largest values size the table: with ``exact`` each array is scanned whole;
    otherwise from a sample (every ``n/4096``-th value and the last), each chunk then checked
    against it, raising :class:`Regrow` when one holds a larger value (the caller plans again,
    exactly): a whole pass over each table variable saved, a third of the memory a list reads.
    """
    size = len(zs) * len(rs)
    table_vars, ranges = [], {}
    for name in ("tp", "pp", "ep", "cp", "dp", "micro_batch", "seq_len"):
        arr = arrays.get(name)
        if arr is None or arr.dtype.kind not in "iu" or not arr.size or len(table_vars) == 2:
            continue
        view = _unsigned(np, arr)  # a negative value reads as >= 2^63
        top = int(view.max()) if exact else max(int(view[::max(1, arr.size // 4096)].max()), int(view[-1]))
        if top < TABLE_LIMIT and size * (top + 1) <= TABLE_LIMIT:
            table_vars.append(name)
            ranges[name] = top + 1
            size *= top + 1
    if not table_vars:
        return None
    plan_key = (model, tuple(sorted(settings.items())), tuple(zs), tuple(rs), tuple(sorted(scalars.items())),
                tuple(table_vars))
    tables, mono_fn, others, kinds = _built(np, plan_key, tuple(ranges[n] for n in table_vars), valid)
    generic = any(kind[0] == "fn" for kind in kinds)
    # The table index in mixed radix (z code, policy code, first variable, second), by Horner's rule.
    steps = ([(z_codes, len(zs), BadCodes)] if z_codes is not None else []) + (
        [(r_codes, len(rs), BadCodes)] if r_codes is not None else []) + [
        (arrays[n], ranges[n], None if exact else Regrow) for n in table_vars]
    steps = [(a, _unsigned(np, a) if error else None, radix, error) for a, radix, error in steps]
    other_arrays = [arrays[n] for n in others]
    intp = np.intp
    direct = len(steps) == 1 and steps[0][0].dtype == intp

    def chunk(i, j, out):
        """Totals of configurations i..j written into ``out`` (a float64 block of j - i)."""
        for _, view, radix, error in steps:
            if view is not None and view[i:j].max() >= radix:
                raise error
        if direct:
            idx = steps[0][0][i:j]
        else:
            idx = np.empty(j - i, dtype=intp)
            np.multiply(steps[0][0][i:j], steps[1][2], out=idx, dtype=intp, casting="unsafe") if len(steps) > 1 else \
                np.copyto(idx, steps[0][0][i:j], casting="unsafe")
            for k in range(1, len(steps)):
                np.add(idx, steps[k][0][i:j], out=idx, dtype=intp, casting="unsafe")
                if k + 1 < len(steps):
                    np.multiply(idx, steps[k + 1][2], out=idx)
        ms = mono_fn.natural(*(a[i:j] for a in other_arrays)) if generic else None
        looked = np.empty(j - i) if len(tables) > 1 else None
        for k, kind in enumerate(kinds):
            into = out if k == 0 else looked
            tables[k].take(idx, out=into, mode="clip")  # every index is in range (checked above)
            if kind[0] == "sym":
                np.multiply(into, other_arrays[kind[1]][i:j], out=into)
            elif kind[0] == "inv":
                np.multiply(into, np.reciprocal(other_arrays[kind[1]][i:j], dtype=np.float64), out=into)
            elif kind[0] == "fn":
                into *= ms[k]
            if k:
                out += looked
        return out

    return chunk, set(table_vars)


class BadCodes(Exception):
    """A chunk holds a ZeRO stage or policy code out of range (the caller reports which, with the whole array)."""


class Regrow(Exception):
    """A chunk holds a table variable's value beyond the sampled range (the caller plans again, exactly)."""


def _unsigned(np, arr):
    """``arr`` viewed as unsigned integers of its width: one ``max`` then checks 0 <= v < bound."""
    return arr if arr.dtype.kind == "u" else arr.view(f"u{arr.dtype.itemsize}")


_BUILT: dict = {}


def _built(np, plan_key: tuple, ranges: tuple, valid) -> tuple:
    """The coefficient tables of a plan over ``ranges`` (NaN in the first where a degree does not fit); cached."""
    key = (plan_key, ranges)
    hit = _BUILT.get(key)
    if hit is not None:
        return hit
    model, settings_key, zs, rs, scalars, table_vars = plan_key
    coefs, mono_fn, others, kinds = _plan(model, settings_key, zs, rs, scalars, table_vars)
    grids = np.meshgrid(*(np.arange(n, dtype=np.float64) for n in ranges), indexing="ij")
    inner = grids[0].size
    tables = [np.empty(len(coefs) * inner) for _ in kinds]
    with np.errstate(divide="ignore", invalid="ignore"):
        for s, fn in enumerate(coefs):
            for k, c in enumerate(fn.natural(*grids)):
                tables[k][s * inner:(s + 1) * inner] = np.broadcast_to(c, grids[0].shape).reshape(-1)
    bad = np.zeros(grids[0].shape, dtype=bool)
    for k, name in enumerate(table_vars):
        flags = np.asarray([not valid(name, v) for v in range(ranges[k])])
        bad |= flags.reshape([-1 if j == k else 1 for j in range(len(table_vars))])
    tables[0][np.tile(bad.reshape(-1), len(coefs))] = np.nan
    for t in tables:
        t.flags.writeable = False
    if len(_BUILT) >= 64:
        _BUILT.clear()
    hit = _BUILT[key] = (tables, mono_fn, others, kinds)
    return hit
