"""Vectorized sweeps: training memory per device over a grid of configurations, in float64.

:func:`memory_grid` evaluates :func:`symcalc.training_memory` for every combination of the values
it is given, at once. Each argument is a scalar or a list; every list becomes an axis of the
result, in the order of :data:`DIMS`. Discrete settings (ZeRO stage, recompute policy) select
the *expression*: one compiled function per combination (see :mod:`symcalc.numeric`), built with
the discrete settings substituted, so no ``Piecewise`` is evaluated. Sizes and degrees
(micro-batch, sequence length, t, p, d, e, c) are arrays broadcast through that function. Each
part is evaluated at its own broadcast shape (weights vary with t, p, d; activations with t, p, b;
...), so the one array of the full grid's size is ``total``, written once as the sum of the parts.

Two places where the formula's *shape* depends on a degree's value get their own function too:
a tensor-parallel degree that does not divide the KV heads (each KV head then replicated, see
:func:`~symcalc.memory.parallel.local_kv_heads`) is compiled per value, and with ZeRO buffers
(``allgather_bucket``, ``max_live_params``) ``dp = 1`` is compiled apart (no buffer is charged).
Configurations that are not valid (t not dividing the heads, p not dividing the layers, e not
dividing the experts or d, e > 1 for a dense model) come back as NaN in ``total`` (and in every
part that depends on that degree).

Numbers are float64 bytes (relative error ~1e-15; never int64, which overflows silently at
2^63). numpy is an optional dependency (``pip install 'symcalc[numpy]'``), imported only here.

>>> from symcalc import Model
>>> g = memory_grid(Model.preset("llama-2-7b"), seq_len=4096, micro_batch=[1, 2, 4],
...                 tp=[1, 2, 4, 8], dp=4, zero_stage=[0, 1, 2, 3], recompute="selective",
...                 sequence_parallel=True)
>>> g.dims, g.total.shape
(('zero_stage', 'tp', 'micro_batch'), (4, 4, 3))
>>> round(float(g.total[1, 1, 0]) / 2**30, 2)       # tp=2, b=1, ZeRO-1: as symcalc.memory
37.89
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Optional

from sympy import Integer

from . import symbols as S
from .defaults import active, dropout_for, resolve
from .errors import SymcalcError
from .inputs import as_amount, as_choice, as_int, as_model, as_size
from .numeric import CompiledExpr, compile_breakdown, require_numpy

__all__ = ["DIMS", "CONTINUOUS", "Sweep", "memory_grid", "memory_function"]

#: Continuous (array) inputs, in axis order, and the symbol each stands for.
CONTINUOUS = {"tp": S.tp, "pp": S.pp, "dp": S.dp, "ep": S.ep, "cp": S.cp,
              "micro_batch": S.micro_batch, "seq_len": S.seq_len}
#: Axis order of a :class:`Sweep`: the discrete settings first (each a contiguous block of the
#: result), then the degrees and sizes.
DIMS = ("zero_stage", "recompute", "tp", "dp", "pp", "ep", "cp", "micro_batch", "seq_len")
_ARGS = tuple(CONTINUOUS.values())
_FUNCTIONS: dict[tuple, CompiledExpr] = {}


@dataclass
class Sweep:
    """The result of :func:`memory_grid`: one float64 array per memory part, indexed by ``dims``.

    ``parts`` maps each top-level part of :data:`symcalc.memory.PARTS` present (weights,
    gradients, optimizer, activations, communication, misc) to an array that broadcasts against
    ``total`` (size 1 along the axes the part does not depend on); ``total`` is their sum;
    ``coords`` holds the values along each axis. NaN marks an invalid configuration.
    """

    dims: tuple
    coords: dict
    parts: dict = field(default_factory=dict)
    total: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.dims, tuple) or not all(d in DIMS for d in self.dims):
            raise SymcalcError(f"Sweep.dims={self.dims!r:.60} is not a tuple of axis names from {', '.join(DIMS)}")
        for name in ("coords", "parts"):
            if not isinstance(getattr(self, name), dict):
                raise SymcalcError(f"Sweep.{name} is not a dict")
        if self.total is not None and not hasattr(self.total, "shape"):
            raise SymcalcError(f"Sweep.total={self.total!r:.60} is not an array")

    def fits(self, budget: Any):
        """Boolean array: the configuration fits in ``budget`` bytes per device (NaN never fits)."""
        np = require_numpy()
        return np.less_equal(self.total, float(as_amount("budget", budget, unit="bytes")))

    def sel(self, index: tuple) -> dict:
        """The configuration at ``index`` (a tuple of axis positions) as ``{name: value}``."""
        if not isinstance(index, tuple) or len(index) != len(self.dims):
            raise SymcalcError(f"index={index!r:.60} is not a tuple of {len(self.dims)} axis positions")
        index = tuple(as_int("index", i, minimum=0) for i in index)
        return {d: self.coords[d][i] for d, i in zip(self.dims, index)}


def memory_function(model, *, zero_stage: Optional[int] = None, recompute: Optional[str] = None, tp: Any = S.tp,
                    dp: Any = S.dp, **settings: Any) -> CompiledExpr:
    """The compiled float64 function of one discrete setting: grouped training-memory parts.

    Arguments of the returned function are ``tp, pp, dp, ep, cp, micro_batch, seq_len`` (all of
    :data:`CONTINUOUS`, unused ones ignored); it returns the parts of
    ``training_memory(...).grouped()`` and the total. ``tp``/``dp`` given as numbers fix that
    degree (the KV-replicated and single-replica regimes). Cached per model and settings.
    """
    model = as_model("model", model)
    _check_settings(settings)
    settings = resolved_settings(model, settings)
    zero_stage = as_int("zero_stage", resolve("zero_stage", zero_stage), minimum=0, maximum=3)
    recompute = resolve("recompute", recompute)
    as_choice("recompute", recompute, ("none", "selective", "full"))
    return compile_breakdown(_parts_function(model, zero_stage, recompute, as_size("tp", tp), as_size("dp", dp), settings)[0],
                             _ARGS)


#: Keywords memory_grid/memory_function set themselves (an axis or a discrete setting), not ``settings``.
_RESERVED = ("seq_len", "micro_batch", "tp", "pp", "dp", "ep", "cp", "zero_stage", "recompute", "parallel")


def resolved_settings(model, settings: dict) -> dict:
    """``settings`` with every training_memory setting not given filled from :mod:`symcalc.defaults`.

    The compiled functions are cached by their settings, so a switch of the defaults set
    (``--cookbook``) gets functions of its own.
    """
    out = dict(settings)
    d = active()
    for key, name in (("precision", "precision"), ("optimizer", "optimizer"), ("profile", "activation_profile"),
                      ("flash_attention", "flash_attention"), ("sequence_parallel", "sequence_parallel"),
                      ("allgather_bucket", "allgather_bucket"), ("max_live_params", "max_live_params"),
                      ("misc_bytes", "misc_bytes")):
        if out.get(key) is None:
            out[key] = d[name]
    if out.get("dropout") is None:
        out["dropout"] = dropout_for(model)
    return out


def _check_settings(settings: dict) -> None:
    given = sorted(set(settings) & set(_RESERVED))
    if given:
        raise SymcalcError(f"{', '.join(given)} among the settings; give them as memory_grid's own arguments "
                           "(a value or a list of values)")


def _parts_function(model, zero_stage, recompute, tp, dp, settings: dict) -> tuple:
    """(grouped breakdown, its parts compiled without the total, each part's free symbols); cached."""
    from .memory import training_memory

    key = (model, zero_stage, recompute, tp, dp, tuple(sorted(settings.items())))
    hit = _FUNCTIONS.get(key)
    if hit is not None:
        return hit
    ep = S.ep if model.is_moe else Integer(1)
    bd = training_memory(model, seq_len=S.seq_len, micro_batch=S.micro_batch, tp=tp, pp=S.pp, dp=dp,
                         ep=ep, cp=S.cp, zero_stage=zero_stage, recompute=recompute, **settings).grouped().expand()
    fn = compile_breakdown(bd, _ARGS, total=False)
    hit = _FUNCTIONS[key] = (bd, fn, tuple(frozenset(e.free_symbols) for e in fn.expr))
    return hit


def _sum_into(np, arrays: list, out) -> None:
    """Write the broadcast sum of ``arrays`` into ``out``, adding the smallest shapes first.

    Each part depends on a few axes only (weights on t, p, d; activations on t, p, b; ...), so
    the parts are added at their own (small) shapes and only the last addition, written straight
    into ``out``, runs over the full grid: one full-size pass instead of one per term.
    """
    items: list = []
    for a in arrays:
        for i, b in enumerate(items):
            if b.shape == a.shape:
                items[i] = b + a
                break
        else:
            items.append(a)

    def size(x, y):
        return math.prod(np.broadcast_shapes(x.shape, y.shape))

    while len(items) > 2:
        i, j = min(itertools.combinations(range(len(items)), 2), key=lambda ij: size(items[ij[0]], items[ij[1]]))
        merged = items[i] + items[j]
        items = [x for k, x in enumerate(items) if k not in (i, j)] + [merged]
    if len(items) == 2:
        np.add(items[0], items[1], out=out)
    else:
        out[...] = items[0] if items else 0.0


def _listlike(value: Any) -> bool:
    return isinstance(value, (list, tuple, range)) or hasattr(value, "__array__") and getattr(value, "ndim", 0) > 0


def _valid_values(model, coords: dict) -> dict:
    """Per axis, which values fit the model (the checks of ``Parallel.check_model``, one degree at a time)."""
    heads, kv, layers = model.n_heads, model.n_kv_heads, model.n_layers

    def divides(d, n):
        return d >= 1 and n % d == 0

    out = {name: [True] * len(coords[name]) for name in coords}
    out["tp"] = [divides(t, heads) and (divides(t, kv) or divides(kv, t)) for t in coords["tp"]]
    out["pp"] = [divides(p, layers) for p in coords["pp"]]
    out["ep"] = [divides(e, model.n_experts) if model.is_moe else e == 1 for e in coords["ep"]]
    return out


def memory_grid(model, *, seq_len: Any, micro_batch: Any = 1, tp: Any = 1, pp: Any = 1, dp: Any = 1,
                ep: Any = 1, cp: Any = 1, zero_stage: Any = None, recompute: Any = None, **settings: Any) -> Sweep:
    """Training memory per device for every combination of the values given (float64 bytes).

    .. math::

        M(t, p, d, e, c, b, s;\\, z, r) \\quad \\text{for all combinations}

    with one compiled function per discrete (z, r) and arrays for the rest.

    Parameters
    ----------
    model : Model
        Sizes must be numbers (substitute first).
    seq_len, micro_batch, tp, pp, dp, ep, cp : int or list of int
        A list makes an axis. d is the data-parallel degree (devices n = t·p·d·c).
    zero_stage : int or list of 0-3
    recompute : str or list of "none", "selective", "full"
    settings
        Other keywords of :func:`symcalc.training_memory` (``precision``, ``optimizer``,
        ``sequence_parallel``, ``flash_attention``, ``profile``, ``allgather_bucket``, ...),
        the same for every configuration. What is not given (``zero_stage``, ``recompute`` and the
        settings alike) takes the active default of :mod:`symcalc.defaults`.

    Examples
    --------
    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=2, d_ff=32, vocab=10)
    >>> g = memory_grid(m, seq_len=4, dp=[1, 2], zero_stage=1)
    >>> g.total.tolist()   # the doctest of training_memory: 23712 bytes at dp=2
    [34368.0, 23712.0]
    """
    np = require_numpy()
    model = as_model("model", model)
    _check_settings(settings)
    settings = resolved_settings(model, settings)
    zero_stage, recompute = resolve("zero_stage", zero_stage), resolve("recompute", recompute)
    if model.free_symbols:
        names = ", ".join(sorted(str(s) for s in model.free_symbols))
        raise SymcalcError(f"memory_grid needs a numeric model; substitute {names} first (Model.subs)")
    given = dict(tp=tp, pp=pp, dp=dp, ep=ep, cp=cp, micro_batch=micro_batch, seq_len=seq_len,
                 zero_stage=zero_stage, recompute=recompute)
    dims = tuple(d for d in DIMS if _listlike(given[d]))
    coords = {d: (list(given[d]) if _listlike(given[d]) else [given[d]]) for d in DIMS}
    for d in ("zero_stage", "recompute"):
        coords[d] = [v.item() if hasattr(v, "item") else v for v in coords[d]]
    for d in CONTINUOUS:
        coords[d] = [as_int(d, v.item() if hasattr(v, "item") else v) for v in coords[d]]
    coords["zero_stage"] = [as_int("zero_stage", z, minimum=0, maximum=3) for z in coords["zero_stage"]]
    coords["recompute"] = [as_choice("recompute", r, ("none", "selective", "full")) for r in coords["recompute"]]
    for d in DIMS:
        if not coords[d]:
            raise SymcalcError(f"{d} is an empty list; give at least one value")
    shape = tuple(len(coords[d]) for d in dims)
    axis_of = {d: i for i, d in enumerate(dims)}
    buffers = bool(settings.get("allgather_bucket", 0)) or bool(settings.get("max_live_params", 0))
    kv = model.n_kv_heads

    # Invalid degrees (per axis) become NaN inputs, so their results are NaN at no extra cost.
    ok_axis = _valid_values(model, coords)

    columns: dict = {}

    def column(name, positions):
        key = (name, tuple(positions))
        if key not in columns:
            columns[key] = _column(name, positions)
        return columns[key]

    def _column(name, positions):
        values = np.asarray([coords[name][i] if ok_axis[name][i] else np.nan for i in positions], dtype=np.float64)
        if name not in axis_of:
            return values.reshape(())
        sh = [1] * len(shape)
        sh[axis_of[name]] = values.size
        return values.reshape(sh)

    # Regimes along tp (KV heads replicated when t does not divide g) and dp (no buffers at d = 1).
    tp_groups: dict[Any, list[int]] = {}
    for i, t in enumerate(coords["tp"]):
        tp_groups.setdefault(S.tp if (kv / t).is_integer or not ok_axis["tp"][i] else int(t), []).append(i)
    dp_groups: dict[Any, list[int]] = {}
    for i, d in enumerate(coords["dp"]):
        dp_groups.setdefault(Integer(1) if buffers and d == 1 else S.dp, []).append(i)

    index_all = {d: list(range(len(coords[d]))) for d in DIMS}
    groups = []
    for z_i, r_i in itertools.product(index_all["zero_stage"], index_all["recompute"]):
        z, r = int(coords["zero_stage"][z_i]), coords["recompute"][r_i]
        for (t_key, t_idx), (d_key, d_idx) in itertools.product(tp_groups.items(), dp_groups.items()):
            _, fn, free = _parts_function(model, z, r, t_key, d_key, settings)
            groups.append((dict(index_all, tp=t_idx, dp=d_idx, zero_stage=[z_i], recompute=[r_i]), fn, free))

    # Each part is stored at full size only along the axes it depends on (size 1 elsewhere), so
    # it broadcasts against ``total`` without writing the same number millions of times. The
    # total, the one full-size array, is their sum, formed once at the end (see _sum_into).
    symbol_of = dict(CONTINUOUS)
    depends: dict[str, set] = {}
    for _, fn, free in groups:
        for name, symbols in zip(fn.names, free):
            dep = depends.setdefault(name, {"zero_stage", "recompute"})
            dep.update(d for d in dims if d in symbol_of and symbol_of[d] in symbols)
            dep.update(d for d, n_groups in (("tp", len(tp_groups)), ("dp", len(dp_groups))) if n_groups > 1)
    parts: dict[str, Any] = {
        name: np.empty(tuple(len(coords[d]) if d in dep else 1 for d in dims), dtype=np.float64)
        for name, dep in depends.items()
    }

    def run(positions):
        """Positions along an axis as a slice when they are a run, else the list."""
        first = positions[0]
        return slice(first, first + len(positions)) if positions == list(range(first, first + len(positions))) else positions

    for sub, fn, _ in groups:
        sel = {d: run(sub[d]) for d in dims}
        values = fn.natural(*(column(name, sub[name]) for name in CONTINUOUS))
        for name, value in zip(fn.names, values):
            dep = depends[name]
            idx = tuple(sel[d] if d in dep else slice(0, 1) for d in dims)
            if all(isinstance(i, slice) for i in idx):
                parts[name][idx] = value
            else:
                idx = [range(i.start, i.stop) if isinstance(i, slice) else i for i in idx]
                parts[name][np.ix_(*idx)] = np.broadcast_to(value, tuple(len(i) for i in idx))
    parts["total"] = np.empty(shape, dtype=np.float64)
    _sum_into(np, [parts[name] for name in depends], parts["total"])
    for name, ok in ok_axis.items():
        if name in axis_of and not all(ok):
            # A degree that does not fit the model: NaN whether or not the formula uses it.
            bad = [i for i, good in enumerate(ok) if not good]
            for arr in [*parts.values()]:
                if arr.shape[axis_of[name]] == len(ok):
                    arr[(slice(None),) * axis_of[name] + (bad,)] = np.nan
    if model.is_moe and len(coords["ep"]) * len(coords["dp"]) > 1:
        # e must divide d: the one check that couples two axes.
        ep_col = np.asarray(coords["ep"], dtype=np.float64)[:, None]
        dp_col = np.asarray(coords["dp"], dtype=np.float64)[None, :]
        bad = np.fmod(dp_col, ep_col) != 0
        if bad.any():
            sh = [1] * len(shape)
            for name, size in (("ep", len(coords["ep"])), ("dp", len(coords["dp"]))):
                if name in axis_of:
                    sh[axis_of[name]] = size
            order = sorted((n for n in ("ep", "dp") if n in axis_of), key=lambda n: axis_of[n])
            mask = bad if order == ["ep", "dp"] else bad.T if order == ["dp", "ep"] else bad.reshape(-1)
            mask = np.broadcast_to(mask.reshape(sh), shape)
            for name in list(parts):
                parts[name] = np.where(mask, np.nan, parts[name])
    total = parts.pop("total")
    return Sweep(dims=dims, coords={d: coords[d] for d in dims}, parts=parts, total=total)
