"""Flat sweeps: a list of configurations (the i-th value of every array together), in cache-sized chunks."""

from __future__ import annotations

from typing import Any, Optional

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
                  cp: Any = 1, zero_stage: Any = None, recompute: Any = None, chunk: int = 2**13, threads: Optional[int] = None,
                  **settings: Any):
    """Training memory per device (float64 bytes) of a flat list of configurations.

    Every argument is a scalar or a 1-D array (list, numpy, or dask); configuration i takes the
    i-th value of each array (scalars are shared). ``recompute`` holds policy names or their
    index in ``("none", "selective", "full")`` (integer codes are faster on millions of rows). The result is a 1-D float64 array, NaN where a
    degree does not fit the model (t not dividing the heads or the KV heads, p the layers, e the
    experts or d). Evaluated ``chunk`` configurations at a time, so the intermediate arrays stay
    in the processor's cache, from small tables of the formula's coefficients over the values of
    z, the policy, t and p (:mod:`symcalc.sweep._tables`); where no table fits, one compiled total
    per (ZeRO stage, policy). Dask arrays in give a lazy dask array out, computed block by block (on a dask
    cluster if one is running) by the same code. Lists of at least 2^18 configurations are split
    between ``threads`` threads (default: the processors this process may use; numpy releases the
    GIL in its loops); ``threads=1`` keeps everything on the calling thread. Dask blocks are
    evaluated one thread each (dask runs blocks side by side).

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
    threads = default_threads() if threads is None else as_int("threads", threads, minimum=1)
    zero_stage, recompute = resolve("zero_stage", zero_stage), resolve("recompute", recompute)
    values = dict(tp=tp, pp=pp, dp=dp, ep=ep, cp=cp, micro_batch=micro_batch, seq_len=seq_len)

    def evaluate(t, p, d, e, c, b, s, z, r, threads=1):
        return _evaluate(np, model, settings, chunk, (t, p, d, e, c, b, s), z, r, threads)

    inputs = [values[n] for n in _NAMES] + [zero_stage, recompute]
    if any(is_dask(v) for v in inputs):
        from ._dask import map_points

        return map_points(evaluate, [v if is_dask(v) else _flat(np, n, v) if n != "recompute" else _policies(np, v)
                                     for n, v in zip(_NAMES + ("zero_stage", "recompute"), inputs)])
    arrays = [_flat(np, n, v) for n, v in zip(_NAMES, inputs[:7])]
    return evaluate(*arrays, _flat(np, "zero_stage", zero_stage), _policies(np, recompute), threads)


def _policies(np, value: Any):
    """The recompute policy (a name, an index in RECOMPUTE, or a 1-D array of either) as an array."""
    arr = np.asarray(list(value) if isinstance(value, (list, tuple, range)) else value)
    if arr.ndim > 1:
        raise SymcalcError(f"recompute has {arr.ndim} dimensions; memory_points takes one value per configuration")
    return arr


def _codes(np, z, r, check: bool = True) -> tuple:
    """(zs, z codes, rs, r codes): the ZeRO stages and policies, each configuration's position in them.

    A scalar is its own one-element tuple (codes None); an array ranges over every stage (0-3)
    or policy: stages 0-3, policies by name or by index in RECOMPUTE. Integer codes are checked
    over the whole array unless ``check`` is false (the table path checks them chunk by chunk).
    """
    if z.ndim == 0:
        zs, zc = (as_int("zero_stage", z.item(), minimum=0, maximum=3),), None
    else:
        if z.dtype.kind not in "iu" and not (z.dtype.kind == "f" and np.array_equal(z, np.floor(z))):
            raise SymcalcError("zero_stage holds values that are not whole numbers; give stages 0-3")
        zs, zc = (0, 1, 2, 3), z if z.dtype.kind in "iu" else z.astype(np.int64)
        if (check or z.dtype.kind not in "iu") and zc.size and (int(zc.min()) < 0 or int(zc.max()) > 3):
            as_int("zero_stage", int(zc.max()) if int(zc.max()) > 3 else int(zc.min()), minimum=0, maximum=3)
    if r.ndim == 0:
        value = r.item()
        value = RECOMPUTE[as_int("recompute", value, minimum=0, maximum=2)] if isinstance(value, int) else value
        return zs, zc, (as_choice("recompute", value, RECOMPUTE),), None
    if r.dtype.kind in "iu":
        if check and r.size and (int(r.min()) < 0 or int(r.max()) > 2):
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


def _evaluate(np, model, settings: dict, chunk: int, arrays: tuple, z, r, threads: int = 1):
    from ._tables import Regrow

    z, r = np.asarray(z), np.asarray(r)
    shape = np.broadcast_shapes(*(a.shape for a in (*arrays, z, r)))
    named = dict(zip(_NAMES, arrays))
    full = {k: np.broadcast_to(v, shape).reshape(-1) for k, v in named.items() if v.ndim}
    scalars = {k: v.item() for k, v in named.items() if not v.ndim}
    whole = all(float(v).is_integer() for v in scalars.values())
    scalars = {k: int(v) for k, v in scalars.items()} if whole else scalars
    zs, zc, rs, rc = _codes(np, z, r, check=False)
    zc = None if zc is None else np.broadcast_to(zc, shape).reshape(-1)
    rc = None if rc is None else np.broadcast_to(rc, shape).reshape(-1)
    n = max(1, int(np.prod(shape)))
    if not full:
        full = {"tp": np.full(n, scalars.pop("tp"))} if whole else {}
    out = np.empty(n, dtype=np.float64)
    for exact in (False, True):  # table ranges from a sample; exactly when a chunk holds more
        try:
            return _fill(np, model, settings, chunk, threads, out, shape, full, scalars, whole, zs, zc, rs, rc, z, r,
                         exact)
        except Regrow:
            continue
    raise AssertionError("an exact plan never regrows")  # pragma: no cover


def _fill(np, model, settings, chunk, threads, out, shape, full, scalars, whole, zs, zc, rs, rc, z, r, exact):
    """``out`` filled with the totals (see :func:`_evaluate`); the table's ranges sampled unless ``exact``."""
    from ._tables import BadCodes, table_plan

    n = out.size
    checks = _checks(model)
    plan = table_plan(np, model, settings, full, scalars, zs, rs, zc, rc,
                      lambda name, v: checks[name](v) if name in checks else True, exact) if whole and full else None
    if plan is None:
        _codes(np, z, r)  # the codes checked whole (the table path checks them chunk by chunk)
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
    marks = [(full[name], mark) for name, mark in marks.items() if callable(mark)]
    moe = (full.get("ep", scalars.get("ep")), full.get("dp", scalars.get("dp"))) if model.is_moe else None

    def span(lo: int, hi: int) -> None:
        """Configurations lo..hi, a chunk at a time (a thread's share)."""
        for i in range(lo, hi, chunk):
            j = min(i + chunk, hi)
            block = out[i:j]
            if plan:
                plan[0](i, j, block)
            bad = False
            for values, mark in marks:
                bad = bad | mark(values[i:j])
            if moe is not None:
                e, d = (v[i:j] if getattr(v, "ndim", 0) else v for v in moe)
                bad = bad | (np.fmod(d, e) != 0)
            if bad is not False and bad.any():
                block[bad] = np.nan

    try:
        spans = _spans(n, chunk, threads)
        if len(spans) == 1:
            span(0, n)
        else:
            futures = [_pool(len(spans)).submit(span, lo, hi) for lo, hi in spans]
            errors = [f.exception() for f in futures]  # every thread done before anything is raised
            for error in errors:
                if error is not None:
                    raise error
    except BadCodes:
        _codes(np, z, r)  # raises the one-line error naming the value
        raise SymcalcError("zero_stage or recompute holds a code out of range; give stages 0-3 and policies 0-2") from None
    return out.reshape(shape)


#: Fewest configurations a thread takes (smaller lists run on the calling thread alone).
MIN_SPAN = 2**17
_POOL: list = []


def _spans(n: int, chunk: int, threads: int) -> list:
    """``threads`` contiguous ranges of whole chunks covering 0..n (fewer when each would be under MIN_SPAN)."""
    parts = max(1, min(threads, n // MIN_SPAN))
    step = -(-n // parts)
    step = -(-step // chunk) * chunk
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def _pool(workers: int):
    """A shared thread pool (numpy releases the GIL in its loops, so chunks run side by side)."""
    from concurrent.futures import ThreadPoolExecutor

    if not _POOL or _POOL[0]._max_workers < workers:
        _POOL[:] = [ThreadPoolExecutor(max_workers=workers, thread_name_prefix="symcalc-sweep")]
    return _POOL[0]


def default_threads() -> int:
    """The processors this process may run on (``os.sched_getaffinity`` where it exists)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
