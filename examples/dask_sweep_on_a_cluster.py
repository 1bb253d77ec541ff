"""Which (ZeRO, recompute, TP, PP, DP, micro-batch) layouts of Llama-3-70B at s = 8192 fit 80 GiB per GPU,
over a grid too big to hold at once, computed block by block on a dask cluster?

The sweep is the same as on one machine (symcalc.sweep.memory_grid); `chunks=` makes its total a
lazy dask array whose blocks each worker computes from two small part-group arrays, so no process
ever holds the whole grid. Here the cluster is a LocalCluster on this machine; pointing Client at
a real scheduler runs the same code on many machines. `python examples/dask_sweep_on_a_cluster.py
--big` sweeps 805 million layouts (6.4 GB of float64) in 128 MiB blocks; the default is small.
Needs dask: pip install 'symcalc[dask]'.
"""

import sys

import numpy as np
from dask.distributed import Client, LocalCluster

from symcalc import Model
from symcalc.sweep import memory_grid

big = "--big" in sys.argv
axes = dict(zero_stage=[0, 1, 2, 3], recompute=["none", "selective", "full"], tp=[1, 2, 4, 8],
            pp=[1, 2, 4, 5, 8, 10, 16, 20], dp=list(range(1, 4097 if big else 129)),
            micro_batch=list(range(1, 513 if big else 33)))
budget = 80 * 2**30

if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster):
        g = memory_grid(Model.preset("llama-3-70b"), seq_len=8192, chunks=2**27 if big else 2**20, **axes)
        fits = g.total <= budget
        count, least = int(fits.sum().compute()), float(np.nanmin(g.total).compute())
        print(f"{g.total.size:,} layouts in {g.total.npartitions} blocks of at most "
              f"{8 * int(np.prod(g.total.chunksize)) / 2**20:.0f} MiB")
        print(f"{count:,} fit in 80 GiB per GPU; the leanest needs {least / 2**30:.2f} GiB")
        # Per ZeRO stage: how many fit (a reduction over every other axis, still block by block).
        per_stage = fits.sum(axis=tuple(range(1, fits.ndim))).compute()
        for z, n in zip(g.coords["zero_stage"], per_stage):
            print(f"  ZeRO-{z}: {int(n):,} layouts fit")
