"""The largest micro-batch per GPU for a 7B model (Llama-2-7B) on 80 GB, under each ZeRO stage.

8 GPUs of 80 GB (10^9 bytes, as GPU vendors count), data parallel, sequence 4096, mixed
precision with AdamW, full activation recomputation.
"""

from symcalc import Model
from symcalc.solve import max_micro_batch

model = Model.preset("llama-2-7b")
for stage in range(4):
    sol = max_micro_batch("80GB", model, seq_len=4096, n_devices=8, zero_stage=stage, recompute="full")
    if sol.feasible:
        print(f"ZeRO-{stage}: micro-batch {sol.value:>3} ({sol.method}), {float(sol.quantity) / 1e9:.1f} GB used")
    else:
        print(f"ZeRO-{stage}: nothing fits; even micro-batch 1 is {float(sol.shortfall) / 1e9:.1f} GB over")
