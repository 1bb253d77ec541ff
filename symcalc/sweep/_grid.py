"""Grid sweeps: every combination of the values given, from two small part-group arrays and one add."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from ..defaults import resolve
from ..errors import SymcalcError
from ..inputs import as_amount, as_choice, as_int, as_model
from ..numeric import require_numpy
from ._functions import RECOMPUTE, STATE_PARTS, check_settings, part_groups, resolved_settings

__all__ = ["DIMS", "CONTINUOUS", "Sweep", "memory_grid", "memory_blocks"]

#: Continuous (array) inputs, in axis order.
CONTINUOUS = ("tp", "pp", "dp", "ep", "cp", "micro_batch", "seq_len")
#: Axis order of a :class:`Sweep`: the discrete settings first, then the degrees and sizes.
DIMS = ("zero_stage", "recompute", "tp", "dp", "pp", "ep", "cp", "micro_batch", "seq_len")
_STATE_DIMS = ("zero_stage", "tp", "pp", "dp", "ep", "cp")
_ACT_DIMS = ("recompute", "tp", "pp", "cp", "micro_batch", "seq_len")


@dataclass
class Sweep:
    """The result of :func:`memory_grid`: one float64 array per memory part, indexed by ``dims``.

    ``parts`` maps each top-level part of :data:`symcalc.memory.PARTS` present (weights,
    gradients, optimizer, activations, communication, misc) to an array that broadcasts against
    ``total`` (size 1 along the axes the part does not depend on); ``total`` is their sum (a numpy
    array, or a lazy dask array when the inputs were dask arrays or ``chunks`` was given);
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


def is_dask(value: Any) -> bool:
    """True for a dask array (checked by module name: dask is optional and never imported here)."""
    return type(value).__module__.split(".")[0] == "dask"


def _listlike(value: Any) -> bool:
    return (isinstance(value, (list, tuple, range)) or is_dask(value)
            or hasattr(value, "__array__") and getattr(value, "ndim", 0) > 0)


def _values(value: Any) -> list:
    if is_dask(value):
        value = value.compute()  # an axis: a short list of values (the grid is what grows)
    if _listlike(value):
        return [v.item() if hasattr(v, "item") else v for v in value]
    return [value.item() if hasattr(value, "item") else value]


def _valid(model, coords: dict) -> dict:
    """Per axis, which values fit the model (the checks of ``Parallel.check_model``, one degree at a time)."""
    heads, kv, layers = model.n_heads, model.n_kv_heads, model.n_layers

    def divides(d, n):
        return d >= 1 and n % d == 0

    out = {name: [True] * len(coords[name]) for name in coords}
    out["tp"] = [divides(t, heads) and (divides(t, kv) or divides(kv, t)) for t in coords["tp"]]
    out["pp"] = [divides(p, layers) for p in coords["pp"]]
    out["ep"] = [divides(e, model.n_experts) if model.is_moe else e == 1 for e in coords["ep"]]
    return out


class _Prepared:
    """A grid's coordinates and its two part-group arrays, each at its own small shape."""

    def __init__(self, model, given: dict, settings: dict) -> None:
        np = require_numpy()
        model = as_model("model", model)
        check_settings(settings)
        settings = resolved_settings(model, settings)
        if model.free_symbols:
            names = ", ".join(sorted(str(s) for s in model.free_symbols))
            raise SymcalcError(f"memory_grid needs a numeric model; substitute {names} first (Model.subs)")
        given = dict(given, zero_stage=resolve("zero_stage", given["zero_stage"]),
                     recompute=resolve("recompute", given["recompute"]))
        self.dims = tuple(d for d in DIMS if _listlike(given[d]))
        coords = {d: _values(given[d]) for d in DIMS}
        for d in CONTINUOUS:  # plain ints (not bools) need no conversion
            coords[d] = [v if type(v) is int else as_int(d, v) for v in coords[d]]
        coords["zero_stage"] = [z if type(z) is int and 0 <= z <= 3 else as_int("zero_stage", z, minimum=0, maximum=3)
                                for z in coords["zero_stage"]]
        coords["recompute"] = [as_choice("recompute", r, RECOMPUTE) for r in coords["recompute"]]
        for d in DIMS:
            if not coords[d]:
                raise SymcalcError(f"{d} is an empty list; give at least one value")
        self.coords = coords
        self.shape = tuple(len(coords[d]) for d in self.dims)
        ok = _valid(model, coords)
        groups = part_groups(model, settings)

        def column(name, dims):
            """The values along ``name`` (NaN where invalid) shaped to broadcast over ``dims``."""
            if name == "recompute":
                values = [float(RECOMPUTE.index(r)) for r in coords[name]]
            else:
                values = [float(v) if ok.get(name, [True] * len(coords[name]))[i] else math.nan
                          for i, v in enumerate(coords[name])]
            arr = np.asarray(values, dtype=np.float64)
            shape = [len(coords[d]) if d == name else 1 for d in dims]
            return arr.reshape(shape)

        # Each group at its own small shape, laid out along the grid's dims (size 1 elsewhere).
        state_in = [column(d, DIMS) for d in _STATE_DIMS]
        act_in = [column(d, DIMS) for d in _ACT_DIMS]
        parts = dict(zip(groups.states.names, groups.states.natural(*state_in)))
        parts.update(zip(groups.activations.names, groups.activations.natural(*act_in)))
        if model.is_moe and len(coords["ep"]) * len(coords["dp"]) > 1:
            # e must divide d: the one check that couples two axes (only the states use both).
            e = column("ep", DIMS)
            d = column("dp", DIMS)
            bad = np.fmod(d, e) != 0
            for name in STATE_PARTS:
                if {"dp", "ep"} & groups.depends[name]:
                    parts[name] = np.where(bad, np.nan, parts[name])
        keep = [DIMS.index(d) for d in self.dims]
        drop = tuple(i for i in range(len(DIMS)) if i not in keep)
        self.parts = {name: a.squeeze(axis=drop) if a.ndim else a for name, a in parts.items()}
        # Model states + buffers + misc (summed at their small shape) and the activations: the total
        # is one broadcast add of these two.
        states = None
        for name in STATE_PARTS:
            states = self.parts[name] if states is None else states + self.parts[name]
        # An invalid degree no formula uses (e > 1 on a dense model) still makes the total NaN.
        for name in ("tp", "pp", "ep"):
            if name in self.dims and not all(ok[name]):
                flags = np.asarray([0.0 if good else math.nan for good in ok[name]])
                states = states + flags.reshape([len(flags) if d == name else 1 for d in self.dims])
        self.states, self.acts = np.asarray(states), np.asarray(self.parts["activations"])


def _given(seq_len, micro_batch, tp, pp, dp, ep, cp, zero_stage, recompute) -> dict:
    return dict(tp=tp, pp=pp, dp=dp, ep=ep, cp=cp, micro_batch=micro_batch, seq_len=seq_len,
                zero_stage=zero_stage, recompute=recompute)


def memory_grid(model, *, seq_len: Any, micro_batch: Any = 1, tp: Any = 1, pp: Any = 1, dp: Any = 1,
                ep: Any = 1, cp: Any = 1, zero_stage: Any = None, recompute: Any = None,
                chunks: Optional[int] = None, **settings: Any) -> Sweep:
    """Training memory per device for every combination of the values given (float64 bytes).

    .. math::

        M(z, r, t, d, p, e, c, b, s) = S(z, t, p, d, e, c) + A(r, t, p, c, b, s)

    The model states S (weights, gradients, optimizer, buffers, misc) and the activations A are
    each one compiled function evaluated at its own small shape; the grid is one broadcast add.

    Parameters
    ----------
    model : Model
        Sizes must be numbers (substitute first).
    seq_len, micro_batch, tp, pp, dp, ep, cp : int or list of int (or a 1-D numpy/dask array)
        A list makes an axis. d is the data-parallel degree (devices n = t·p·d·c).
    zero_stage : int or list of 0-3
    recompute : str or list of "none", "selective", "full"
    chunks : int, optional
        Return ``total`` as a lazy dask array in blocks of at most this many bytes (also the
        default, 128 MiB blocks, when any input is a dask array): a grid larger than memory
        is then reduced block by block, on a dask cluster if one is running
        (``pip install 'symcalc[dask]'``). For blocks without dask see :func:`memory_blocks`.
    settings
        Other keywords of :func:`symcalc.training_memory` (``precision``, ``optimizer``,
        ``sequence_parallel``, ``flash_attention``, ``profile``, ``allgather_bucket``, ...),
        the same for every configuration. What is not given takes the active default of
        :mod:`symcalc.defaults`.

    Examples
    --------
    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=2, d_ff=32, vocab=10)
    >>> g = memory_grid(m, seq_len=4, dp=[1, 2], zero_stage=1)
    >>> g.total.tolist()   # the doctest of training_memory: 23712 bytes at dp=2
    [34368.0, 23712.0]
    """
    if chunks is None:
        small = (_SMALL[0] if _SMALL else _small())(model, seq_len, micro_batch, tp, pp, dp, ep, cp, zero_stage, recompute, settings)
        if small is not None:  # the fields are ours, already checked: no __post_init__
            sweep = Sweep.__new__(Sweep)
            sweep.dims, sweep.coords, sweep.total = small
            sweep.parts = parts = _SMALL[1]()
            parts._build = lambda: _Prepared(model, _given(seq_len, micro_batch, tp, pp, dp, ep, cp, zero_stage,
                                                           recompute), settings).parts
            return sweep
    given = _given(seq_len, micro_batch, tp, pp, dp, ep, cp, zero_stage, recompute)
    np = require_numpy()
    lazy = chunks is not None or any(is_dask(v) for v in given.values())
    prep = _Prepared(model, given, settings)
    if lazy:
        from ._dask import lazy_total

        total = lazy_total(prep.states, prep.acts, prep.shape, 2**27 if chunks is None else as_int("chunks", chunks, minimum=8))
    else:
        total = np.empty(prep.shape, dtype=np.float64)
        np.add(prep.states, prep.acts, out=total)
    return Sweep(dims=prep.dims, coords={d: prep.coords[d] for d in prep.dims}, parts=prep.parts, total=total)


_SMALL: list = []


def _small():
    """:func:`symcalc.sweep._small.small_grid`, imported once (the small path counts microseconds)."""
    from ._small import LazyParts, small_grid

    _SMALL[:] = [small_grid, LazyParts]
    return small_grid


def block_slices(shape: tuple, block_bytes: int) -> Iterator[tuple]:
    """Index tuples covering an array of ``shape`` in C order, each block at most ``block_bytes`` of float64."""
    if not shape:
        yield ()
        return
    inner = 1
    split = len(shape)
    while split > 0 and inner * shape[split - 1] * 8 <= block_bytes:
        split -= 1
        inner *= shape[split]
    if split == 0:
        yield tuple(slice(0, n) for n in shape)
        return
    axis = split - 1
    step = max(1, block_bytes // (8 * inner))
    for lead in itertools.product(*(range(n) for n in shape[:axis])):
        for start in range(0, shape[axis], step):
            yield (tuple(slice(i, i + 1) for i in lead) + (slice(start, min(start + step, shape[axis])),)
                   + tuple(slice(0, n) for n in shape[axis + 1:]))


def take(small, index: tuple):
    """``small`` (broadcastable to the grid) cut to a block ``index`` of the grid: size-1 axes stay whole."""
    return small[tuple(slice(0, 1) if n == 1 else i for n, i in zip(small.shape, index))] if small.ndim else small


def memory_blocks(model, *, seq_len: Any, micro_batch: Any = 1, tp: Any = 1, pp: Any = 1, dp: Any = 1,
                  ep: Any = 1, cp: Any = 1, zero_stage: Any = None, recompute: Any = None,
                  block_bytes: int = 2**26, **settings: Any) -> Iterator[tuple]:
    """The grid of :func:`memory_grid` in blocks of at most ``block_bytes``, for grids larger than memory.

    Yields ``(index, total)``: ``index`` a tuple of slices into the full grid (axes as
    ``memory_grid(...).dims``), ``total`` the float64 block. One buffer is reused, so memory stays
    at one block plus the two small part-group arrays, whatever the grid's size; copy a block to
    keep it.

    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=2, d_ff=32, vocab=10)
    >>> [(i, b.tolist()) for i, b in memory_blocks(m, seq_len=4, dp=[1, 2, 3], zero_stage=1, block_bytes=16)]
    [((slice(0, 2, None),), [34368.0, 23712.0]), ((slice(2, 3, None),), [20160.0])]
    """
    np = require_numpy()
    block_bytes = as_int("block_bytes", block_bytes, minimum=8)
    prep = _Prepared(model, _given(seq_len, micro_batch, tp, pp, dp, ep, cp, zero_stage, recompute), settings)
    return _blocks(np, prep, block_bytes)


def _blocks(np, prep: _Prepared, block_bytes: int) -> Iterator[tuple]:
    buffer = np.empty(max(1, min(math.prod(prep.shape), block_bytes // 8)), dtype=np.float64)
    for index in block_slices(prep.shape, block_bytes):
        size = tuple(s.stop - s.start for s in index)
        out = buffer[:math.prod(size)].reshape(size)
        np.add(take(prep.states, index), take(prep.acts, index), out=out)
        yield index, out
