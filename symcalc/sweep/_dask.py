"""dask arrays in and out of sweeps (optional: ``pip install 'symcalc[dask]'``); imported only when used."""

from __future__ import annotations

import math

from ..errors import SymcalcError

__all__ = ["require_dask", "lazy_total", "map_points"]


def require_dask():
    """``dask.array``, or a one-line error saying how to install it."""
    try:
        import dask.array as da
    except ImportError:
        raise SymcalcError("dask arrays need dask; install it with: pip install 'symcalc[dask]'") from None
    return da


def _chunks(shape: tuple, block_bytes: int) -> tuple:
    """Chunk sizes per axis: trailing axes whole, the first one that does not fit split, leading ones 1."""
    out, inner = [], 1
    for n in reversed(shape):
        if inner * n * 8 <= block_bytes:
            out.append(n)
            inner *= n
        else:
            step = max(1, block_bytes // (8 * inner))
            out.append(step)
            inner = math.inf
    return tuple(reversed([c if c != 0 else 1 for c in out]))


def lazy_total(states, acts, shape: tuple, block_bytes: int):
    """The grid total ``states + acts`` (two small broadcastable numpy arrays) as a lazy dask array.

    Each block is computed where the scheduler runs it (a worker of a dask cluster) from the two
    small arrays, so no machine ever holds the whole grid.
    """
    da = require_dask()
    import numpy as np

    from ._grid import take

    def block(_, block_info=None):
        where = block_info[None]["array-location"]
        index = tuple(slice(a, b) for a, b in where)
        return np.add(take(states, index), take(acts, index))

    if not shape:
        return da.from_array(np.add(states, acts))
    template = da.empty(shape, chunks=_chunks(shape, block_bytes), dtype=np.float64)
    return template.map_blocks(block, dtype=np.float64)


def map_points(evaluate, arrays: list):
    """``evaluate(*numpy blocks)`` over broadcast dask inputs, block by block; a lazy dask array."""
    da = require_dask()
    import numpy as np

    arrays = da.broadcast_arrays(*(a if hasattr(a, "dask") else da.asarray(a) for a in arrays))
    return da.map_blocks(evaluate, *arrays, dtype=np.float64)
