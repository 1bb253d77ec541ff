"""Vectorized sweeps: training memory per device over grids or lists of configurations, in float64.

:func:`memory_grid` evaluates :func:`symcalc.training_memory` for every combination of the values
it is given. Each argument is a scalar or a list; every list becomes an axis of the result, in the
order of :data:`DIMS`. Two compiled functions do all the work, one per part group (see
:mod:`symcalc.sweep._functions`): the model states (weights, gradients, optimizer, ZeRO buffers,
misc) of ``(z, t, p, d, e, c)`` and the activations of ``(recompute, t, p, c, b, s)``, each
evaluated once at its own small shape with the ZeRO stage and the recompute policy as arguments.
The grid's total is then one broadcast add of those two arrays, the only full-size pass. A small
grid of plain arguments (a few layouts) takes :mod:`symcalc.sweep._small` instead: the same two
groups as Python float code, the same floats, a few microseconds a call.
Configurations that are not valid (t not dividing the heads or the KV heads, p not dividing the
layers, e not dividing the experts or d, e > 1 for a dense model) are NaN.

Larger than memory: :func:`memory_blocks` yields the same grid block by block (one reused
buffer), and with dask installed (``pip install 'symcalc[dask]'``) ``memory_grid(...,
chunks=...)`` or dask arrays as inputs give ``total`` as a lazy dask array, reduced block by block
on whatever cluster dask runs on. :func:`memory_points` takes a flat list of configurations (the
i-th value of every array together), numpy or dask.

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

from typing import Any, Optional

from .. import symbols as S
from ..defaults import resolve
from ..inputs import as_choice, as_int, as_model, as_size
from ..numeric import CompiledExpr
from ._functions import RECOMPUTE, breakdown_function, check_settings, resolved_settings
from ._grid import CONTINUOUS, DIMS, Sweep, memory_blocks, memory_grid
from ._points import memory_points

__all__ = ["DIMS", "CONTINUOUS", "Sweep", "memory_grid", "memory_blocks", "memory_points", "memory_function"]


def memory_function(model, *, zero_stage: Optional[int] = None, recompute: Optional[str] = None, tp: Any = S.tp,
                    dp: Any = S.dp, **settings: Any) -> CompiledExpr:
    """The compiled float64 function of one discrete setting: grouped training-memory parts and the total.

    Arguments of the returned function are ``tp, pp, dp, ep, cp, micro_batch, seq_len`` (unused
    ones ignored); it returns the parts of ``training_memory(...).grouped()`` and the total.
    ``tp``/``dp`` given as numbers are substituted (the arguments stay, ignored). Cached per
    model and settings.

    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=2, d_ff=32, vocab=10)
    >>> f = memory_function(m, zero_stage=1, recompute="none")
    >>> f.names[-1], float(f(1, 1, 2, 1, 1, 1, 4)[-1])
    ('total', 23712.0)
    """
    model = as_model("model", model)
    check_settings(settings)
    settings = resolved_settings(model, settings)
    zero_stage = as_int("zero_stage", resolve("zero_stage", zero_stage), minimum=0, maximum=3)
    recompute = as_choice("recompute", resolve("recompute", recompute), RECOMPUTE)
    return breakdown_function(model, zero_stage, recompute, as_size("tp", tp), as_size("dp", dp), settings)
