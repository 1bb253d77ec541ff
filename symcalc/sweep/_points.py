"""Flat sweeps: a list of configurations (the i-th value of every array together), in cache-sized chunks."""

from __future__ import annotations

from typing import Any

from ..defaults import resolve
from ..errors import SymcalcError
from ..inputs import as_choice, as_int, as_model
from ..numeric import require_numpy
from ._functions import RECOMPUTE, check_settings, resolved_settings, total_function
from ._grid import is_dask

__all__ = ["memory_points"]

_NAMES = ("tp", "pp", "dp", "ep", "cp", "micro_batch", "seq_len")


def _flat(np, name: str, value: Any, kind=None):
    """A 0-d or 1-D array of ``value`` (list, tuple, range, numpy array or scalar), numbers through the one door.

    A numeric numpy array passes as it is; anything else (a scalar, a list of ints or of
    strings) goes element by element through :func:`symcalc.inputs.as_int` (the recompute policy,
    ``kind=object``, through ``as_choice``).
    """
    if kind is object:
        values = [value] if isinstance(value, str) or not hasattr(value, "__len__") else list(value)
        arr = np.asarray([as_choice(name, v, RECOMPUTE) for v in values], dtype=object)
        return arr.reshape(()) if isinstance(value, str) or not hasattr(value, "__len__") else arr
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        arr = value
    elif isinstance(value, (list, tuple, range)) or (hasattr(value, "__array__") and getattr(value, "ndim", 0) > 0):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf":
            arr = np.asarray([as_int(name, v.item() if hasattr(v, "item") else v) for v in arr.reshape(-1)],
                             dtype=np.int64).reshape(arr.shape)
    else:
        arr = np.asarray(as_int(name, value.item() if hasattr(value, "item") else value), dtype=np.int64)
    if arr.ndim > 1:
        raise SymcalcError(f"{name} has {arr.ndim} dimensions; memory_points takes one value per configuration "
                           "(a flat list or 1-D array); use memory_grid for every combination")
    return arr


def memory_points(model, *, seq_len: Any, micro_batch: Any = 1, tp: Any = 1, pp: Any = 1, dp: Any = 1, ep: Any = 1,
                  cp: Any = 1, zero_stage: Any = None, recompute: Any = None, chunk: int = 2**13, **settings: Any):
    """Training memory per device (float64 bytes) of a flat list of configurations.

    Every argument is a scalar or a 1-D array (list, numpy, or dask); configuration i takes the
    i-th value of each array (scalars are shared). The result is a 1-D float64 array, NaN where a
    degree does not fit the model (t not dividing the heads or the KV heads, p the layers, e the
    experts or d). Evaluated ``chunk`` configurations at a time, so the formula's intermediate
    arrays stay in the processor's cache, one compiled total per (ZeRO stage, recompute policy)
    present. Dask arrays in give a lazy dask array out, computed block by block (on a dask
    cluster if one is running) by the same code.

    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=2, d_ff=32, vocab=10)
    >>> memory_points(m, seq_len=4, dp=[1, 2, 2], tp=[1, 1, 3], zero_stage=1).tolist()
    [34368.0, 23712.0, nan]
    """
    np = require_numpy()
    model = as_model("model", model)
    if model.free_symbols:
        names = ", ".join(sorted(str(s) for s in model.free_symbols))
        raise SymcalcError(f"memory_points needs a numeric model; substitute {names} first (Model.subs)")
    check_settings(settings)
    settings = resolved_settings(model, settings)
    chunk = as_int("chunk", chunk, minimum=1)
    zero_stage, recompute = resolve("zero_stage", zero_stage), resolve("recompute", recompute)
    values = dict(tp=tp, pp=pp, dp=dp, ep=ep, cp=cp, micro_batch=micro_batch, seq_len=seq_len)

    def evaluate(t, p, d, e, c, b, s, z, r):
        return _evaluate(np, model, settings, chunk, (t, p, d, e, c, b, s), z, r)

    inputs = [values[n] for n in _NAMES] + [zero_stage, recompute]
    if any(is_dask(v) for v in inputs):
        from ._dask import map_points

        kinds = (None,) * 8 + (object,)
        return map_points(evaluate, [_flat(np, n, v, k) if not is_dask(v) else v
                                     for n, v, k in zip(_NAMES + ("zero_stage", "recompute"), inputs, kinds)])
    arrays = [_flat(np, n, v) for n, v in zip(_NAMES, inputs[:7])]
    return evaluate(*arrays, _flat(np, "zero_stage", zero_stage), _flat(np, "recompute", recompute, object))


def _settings_of(np, z, r) -> list:
    """The distinct (z, policy) pairs present, with the mask of each (None: every configuration)."""
    if z.ndim == 0 and r.ndim == 0:
        return [(as_int("zero_stage", z.item(), minimum=0, maximum=3), as_choice("recompute", r.item(), RECOMPUTE), None)]
    z, r = np.broadcast_arrays(z, r)
    out = []
    zs = [as_int("zero_stage", v, minimum=0, maximum=3) for v in np.unique(z).tolist()]
    rs = [as_choice("recompute", v, RECOMPUTE) for v in set(r.tolist())]
    for zv in zs:
        for rv in rs:
            mask = (z == zv) & (r == rv)
            if mask.any():
                out.append((zv, rv, mask))
    return out


def _invalid(np, model):
    """A function marking, in a chunk of (t, p, d, e), the degrees that do not fit the model (Parallel.check_model)."""
    heads, kv, layers = model.n_heads, model.n_kv_heads, model.n_layers
    experts = model.n_experts if model.is_moe else None

    def table(ok, values):
        """Lookup of ``ok(v)`` for integer v in 0..max(values) (invalid outside), or None when not integers."""
        if values.dtype.kind not in "iu" or values.size == 0:
            return None
        top = int(values.max())
        if top > 2**20 or int(values.min()) < 0:
            return None
        return np.asarray([not ok(v) for v in range(top + 1)])

    def mark(t, p, d, e, tables):
        bad = None
        for arr, tab, ok in zip((t, p, e), tables, (
                lambda v: v >= 1 and heads % v == 0 and (kv % v == 0 or v % kv == 0),
                lambda v: v >= 1 and layers % v == 0,
                lambda v: (v >= 1 and experts % v == 0) if experts is not None else v == 1)):
            if tab is not None:
                hit = tab[arr]
            elif arr.ndim == 0:
                hit = not ok(arr.item()) if float(arr.item()).is_integer() else True
            else:
                hit = ~np.vectorize(lambda v: float(v).is_integer() and ok(int(v)), otypes=[bool])(arr)
            bad = hit if bad is None else bad | hit
        if experts is not None:
            bad = bad | (np.fmod(d, e) != 0)
        return bad

    return table, mark


def _evaluate(np, model, settings: dict, chunk: int, arrays: tuple, z, r):
    z, r = np.asarray(z), np.asarray(r, dtype=object)
    arrays = np.broadcast_arrays(*arrays, *(a for a in (z, r) if a.ndim))[:7]
    out = np.empty(arrays[0].shape, dtype=np.float64)
    table, mark = _invalid(np, model)
    t_ok = (lambda v: v >= 1 and model.n_heads % v == 0 and (model.n_kv_heads % v == 0 or v % model.n_kv_heads == 0),
            lambda v: v >= 1 and model.n_layers % v == 0,
            lambda v: (v >= 1 and model.n_experts % v == 0) if model.is_moe else v == 1)
    tables = [table(ok, arrays[i]) for ok, i in zip(t_ok, (0, 1, 3))]
    for zv, rv, mask in _settings_of(np, z, r):
        fn = total_function(model, zv, rv, settings)._fn
        cols = arrays if mask is None else [a[mask] for a in arrays]
        res = out if mask is None else np.empty(cols[0].shape, dtype=np.float64)
        for i in range(0, cols[0].size, chunk):
            part = [a[i:i + chunk] for a in cols]
            t, p, d, e, c, b, s = (a.astype(np.float64, copy=False) for a in part)
            block = res[i:i + chunk]
            block[...] = fn(t, p, d, e, c, b, s)
            bad = mark(part[0], part[1], d, part[3], tables)
            if np.any(bad):
                block[bad] = np.nan
        if mask is not None:
            out[mask] = res
    return out
