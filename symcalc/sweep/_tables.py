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
from ._functions import POINT_ARGS, RECOMPUTE, total_function

__all__ = ["table_plan", "TABLE_LIMIT"]

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
    return coefs, mono_fn, tuple(str(s) for s in others), tuple(m == 1 for m in monos)


def table_plan(np, model, settings: dict, arrays: dict, scalars: dict, zs: tuple, rs: tuple, z_codes, r_codes, valid):
    """``(chunk, covered)``: ``chunk(i, j, out)`` writes the totals of configurations i..j; None when no table fits.

    ``arrays`` maps input names to 1-D integer arrays, ``scalars`` to ints; ``zs``/``rs`` are the
    ZeRO stages and policies, ``z_codes``/``r_codes`` each configuration's position in them (integer
    arrays; None when there is one); ``valid(name, v)`` says whether degree value v fits the model (NaN in the
    table otherwise). ``covered`` names the degrees the table checked.
    """
    ranges = {}
    for name, arr in arrays.items():
        if arr.dtype.kind in "iu" and arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            if lo >= 0 and hi < TABLE_LIMIT:
                ranges[name] = hi + 1
    size = len(zs) * len(rs)
    table_vars: list = []
    for name in ("tp", "pp", "ep", "cp", "dp", "micro_batch", "seq_len"):
        if name in ranges and len(table_vars) < 2 and size * ranges[name] <= TABLE_LIMIT:
            table_vars.append(name)
            size *= ranges[name]
    if not table_vars:
        return None
    coefs, mono_fn, others, ones = _plan(model, tuple(sorted(settings.items())), tuple(zs), tuple(rs),
                                         tuple(sorted(scalars.items())), tuple(table_vars))
    grids = np.meshgrid(*(np.arange(ranges[n], dtype=np.float64) for n in table_vars), indexing="ij")
    inner = grids[0].size
    tables = [np.empty(len(coefs) * inner) for _ in ones]
    with np.errstate(divide="ignore", invalid="ignore"):
        for s, fn in enumerate(coefs):
            for k, c in enumerate(fn.natural(*grids)):
                tables[k][s * inner:(s + 1) * inner] = np.broadcast_to(c, grids[0].shape).reshape(-1)
    bad = np.zeros(grids[0].shape, dtype=bool)
    for k, name in enumerate(table_vars):
        flags = np.asarray([not valid(name, v) for v in range(ranges[name])])
        bad |= flags.reshape([-1 if j == k else 1 for j in range(len(table_vars))])
    tables[0][np.tile(bad.reshape(-1), len(coefs))] = np.nan
    first = arrays[table_vars[0]]
    second = arrays[table_vars[1]] if len(table_vars) == 2 else None
    stride = ranges[table_vars[1]] if second is not None else 1
    rows = len(rs)
    other_arrays = [arrays[n] for n in others]

    def chunk(i, j, out):
        """Totals of configurations i..j written into ``out`` (a float64 block of j - i)."""
        idx = first[i:j].astype(np.intp)  # intp before any product: inputs may be narrow integers
        if second is not None:
            idx *= stride
            idx += second[i:j]
        if z_codes is not None or r_codes is not None:
            setting = z_codes[i:j].astype(np.intp) if z_codes is not None else r_codes[i:j].astype(np.intp)
            if z_codes is not None:
                setting *= rows
                if r_codes is not None:
                    setting += r_codes[i:j]
            setting *= inner
            idx += setting
        ms = mono_fn.natural(*(a[i:j] for a in other_arrays)) if not all(ones) else None
        np.take(tables[0], idx, out=out)
        if not ones[0]:
            out *= ms[0]
        for k in range(1, len(tables)):
            looked = np.take(tables[k], idx)
            if not ones[k]:
                looked *= ms[k]
            out += looked
        return out

    return chunk, set(table_vars)
