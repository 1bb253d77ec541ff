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


def _flat(np, name: str, value: Any):
    """A 0-d or 1-D array of ``value`` (list, tuple, range, numpy array or scalar), numbers through the one door.

    A numeric numpy array passes as it is; anything else (a scalar, a list of ints or of
    strings) goes element by element through :func:`symcalc.inputs.as_int`.
    """
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
    i-th value of each array (scalars are shared). ``recompute`` holds policy names or their
    index in ``("none", "selective", "full")`` (integer codes are faster on millions of rows). The result is a 1-D float64 array, NaN where a
    degree does not fit the model (t not dividing the heads or the KV heads, p the layers, e the
    experts or d). Evaluated ``chunk`` configurations at a time, so the intermediate arrays stay
    in the processor's cache, from small tables of the formula's coefficients over the values of
    z, the policy, t and p (:mod:`symcalc.sweep._tables`); where no table fits, one compiled total
    per (ZeRO stage, policy). Dask arrays in give a lazy dask array out, computed block by block (on a dask
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

        return map_points(evaluate, [v if is_dask(v) else _flat(np, n, v) if n != "recompute" else _policies(np, v)
                                     for n, v in zip(_NAMES + ("zero_stage", "recompute"), inputs)])
    arrays = [_flat(np, n, v) for n, v in zip(_NAMES, inputs[:7])]
    return evaluate(*arrays, _flat(np, "zero_stage", zero_stage), _policies(np, recompute))


def _policies(np, value: Any):
    """The recompute policy (a name, an index in RECOMPUTE, or a 1-D array of either) as an array."""
    arr = np.asarray(list(value) if isinstance(value, (list, tuple, range)) else value)
    if arr.ndim > 1:
        raise SymcalcError(f"recompute has {arr.ndim} dimensions; memory_points takes one value per configuration")
    return arr


def _codes(np, z, r) -> tuple:
    """(zs, z codes, rs, r codes): the ZeRO stages and policies, each configuration's position in them.

    A scalar is its own one-element tuple (codes None); an array ranges over every stage (0-3)
    or policy, its codes checked once: stages 0-3, policies by name or by index in RECOMPUTE.
    """
    if z.ndim == 0:
        zs, zc = (as_int("zero_stage", z.item(), minimum=0, maximum=3),), None
    else:
        if z.dtype.kind not in "iu" and not (z.dtype.kind == "f" and np.array_equal(z, np.floor(z))):
            raise SymcalcError("zero_stage holds values that are not whole numbers; give stages 0-3")
        zs, zc = (0, 1, 2, 3), z if z.dtype.kind in "iu" else z.astype(np.int64)
        if z.size and (int(z.min()) < 0 or int(z.max()) > 3):
            as_int("zero_stage", int(z.max()) if int(z.max()) > 3 else int(z.min()), minimum=0, maximum=3)
    if r.ndim == 0:
        value = r.item()
        value = RECOMPUTE[as_int("recompute", value, minimum=0, maximum=2)] if isinstance(value, int) else value
        return zs, zc, (as_choice("recompute", value, RECOMPUTE),), None
    if r.dtype.kind in "iu":
        if r.size and (int(r.min()) < 0 or int(r.max()) > 2):
            raise SymcalcError(f"recompute holds {int(r.max()) if int(r.max()) > 2 else int(r.min())}; give "
                               "'none', 'selective', 'full' or their index 0-2")
        return zs, zc, RECOMPUTE, r
    rc = np.full(r.shape, -1, dtype=np.int8)
    for k, name in enumerate(RECOMPUTE):
        rc[r == name] = k
    if (rc < 0).any():
        as_choice("recompute", r.reshape(-1)[int(np.argmin(rc.reshape(-1)))], RECOMPUTE)
    return zs, zc, RECOMPUTE, rc


def _checks(model) -> dict:
    """Per degree, whether a value fits the model (the checks of ``Parallel.check_model``)."""
    heads, kv, layers = model.n_heads, model.n_kv_heads, model.n_layers
    experts = model.n_experts if model.is_moe else None
    return {"tp": lambda v: v >= 1 and heads % v == 0 and (kv % v == 0 or v % kv == 0),
            "pp": lambda v: v >= 1 and layers % v == 0,
            "ep": lambda v: (v >= 1 and experts % v == 0) if experts is not None else v == 1}


def _bad_of(np, checks: dict, name: str, values):
    """For degree ``name``: True/False (a scalar), None (no value in the array can fail), or a function of a chunk."""
    ok = checks[name]
    if values.ndim == 0:
        v = float(values.item())
        return not (v.is_integer() and ok(int(v)))
    if values.dtype.kind in "iu" and values.size and 0 <= int(values.min()) and int(values.max()) < 2**20:
        lo, hi = int(values.min()), int(values.max())
        table = np.asarray([not ok(v) for v in range(hi + 1)])
        return (lambda chunk: table[chunk]) if table[lo:].any() else None
    return lambda chunk: ~np.vectorize(lambda v: float(v).is_integer() and ok(int(v)), otypes=[bool])(chunk)


def _evaluate(np, model, settings: dict, chunk: int, arrays: tuple, z, r):
    from ._tables import table_plan

    z, r = np.asarray(z), np.asarray(r)
    shape = np.broadcast_shapes(*(a.shape for a in (*arrays, z, r)))
    named = dict(zip(_NAMES, arrays))
    full = {k: np.broadcast_to(v, shape).reshape(-1) for k, v in named.items() if v.ndim}
    scalars = {k: v.item() for k, v in named.items() if not v.ndim}
    whole = all(float(v).is_integer() for v in scalars.values())
    scalars = {k: int(v) for k, v in scalars.items()} if whole else scalars
    zs, zc, rs, rc = _codes(np, z, r)
    zc = None if zc is None else np.broadcast_to(zc, shape).reshape(-1)
    rc = None if rc is None else np.broadcast_to(rc, shape).reshape(-1)
    n = max(1, int(np.prod(shape)))
    if not full:
        full = {"tp": np.full(n, scalars.pop("tp"))} if whole else {}
    out = np.empty(n, dtype=np.float64)
    checks = _checks(model)
    plan = table_plan(np, model, settings, full, scalars, zs, rs, zc, rc,
                      lambda name, v: checks[name](v) if name in checks else True) if whole and full else None
    covered = plan[1] if plan else set()
    marks = {name: _bad_of(np, checks, name, full[name] if name in full else np.asarray(scalars[name]))
             for name in ("tp", "pp", "ep") if name not in covered}
    if any(m is True for m in marks.values()):  # a scalar degree that does not fit: every row NaN
        out[...] = np.nan
        return out.reshape(shape)
    if plan is None:  # no table: one compiled total per (z, policy), rows grouped by setting
        setting = (zc.astype(np.intp) if zc is not None else 0) * len(rs) + (rc.astype(np.intp) if rc is not None else 0)
        for k, (zv, rv) in enumerate((zv, rv) for zv in zs for rv in rs):
            fn = total_function(model, zv, rv, settings)._fn
            rows = None if zc is None and rc is None else np.flatnonzero(setting == k)
            if rows is not None and not rows.size:
                continue
            cols = {key: (v if rows is None else v[rows]) for key, v in full.items()}
            res = np.empty(len(rows) if rows is not None else n)
            for i in range(0, res.size, chunk):
                values = [cols[key][i:i + chunk].astype(np.float64, copy=False) if key in cols else float(scalars[key])
                          for key in _NAMES]
                res[i:i + chunk] = fn(*values)
            out[rows if rows is not None else slice(None)] = res
    for i in range(0, n, chunk):
        block = out[i:i + chunk]
        if plan:
            plan[0](i, i + block.size, block)
        bad = False
        for name, mark in marks.items():
            if callable(mark):
                bad = bad | mark(full[name][i:i + chunk])
        if model.is_moe:
            e = full["ep"][i:i + chunk] if "ep" in full else scalars["ep"]
            d = full["dp"][i:i + chunk] if "dp" in full else scalars["dp"]
            bad = bad | (np.fmod(d, e) != 0)
        if np.any(bad):
            block[bad] = np.nan
    return out.reshape(shape)
