"""How many 80 GB GPUs does training Llama-3-70B take, and how deep a pipeline?

Sequence 8192, micro-batch 1, mixed precision with AdamW, full activation recomputation, TP 8
inside a node. First the fewest GPUs under each ZeRO stage (data parallelism grows with the
count; ZeRO shards over it), then, on 16, 32 or 64 GPUs without ZeRO, the smallest pipeline degree
that fits (p divides the 80 layers and the GPUs over TP; each stage holds L/p layers' states).
"""

from symcalc import Model
from symcalc.solve import min_devices, min_pp

model = Model.preset("llama-3-70b")
options = dict(seq_len=8192, micro_batch=1, recompute="full", tp=8)
for stage in range(4):
    sol = min_devices("80GB", model, zero_stage=stage, **options)
    if sol.feasible:
        print(f"ZeRO-{stage}: {sol.value} GPUs ({sol.method}), {float(sol.quantity) / 1e9:.1f} GB per GPU")
    else:
        print(f"ZeRO-{stage}: no GPU count fits with TP 8 alone; even infinitely many need "
              f"{float(sol.quantity) / 1e9:.1f} GB, {float(sol.shortfall) / 1e9:.1f} GB over")
for gpus in (16, 32, 64):
    sol = min_pp("80GB", model, n_devices=gpus, zero_stage=0, **options)
    if sol.feasible:
        print(f"on {gpus} GPUs, no ZeRO: pipeline degree {sol.value} ({sol.method}), "
              f"data parallel {gpus // (8 * sol.value)}, {float(sol.quantity) / 1e9:.1f} GB per GPU")
    else:
        print(f"on {gpus} GPUs, no ZeRO: no pipeline degree fits; the best needs {float(sol.quantity) / 1e9:.1f} GB")
