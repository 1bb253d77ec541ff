"""How much memory per GPU does one more layer cost? (the derivative of memory in L)

Llama-2-7B's shape with L left symbolic; 8 GPUs, ZeRO-1, TP 2, s = 4096, b = 1, selective recompute.
"""

from symcalc import Model
from symcalc.memory import training_memory
from symcalc.sensitivity import derivative, elasticity
from symcalc.symbols import n_layers

model = Model.preset("llama-2-7b").replace(n_layers=n_layers)
mem = training_memory(model, seq_len=4096, micro_batch=1, n_devices=8, tp=2, zero_stage=1, recompute="selective")
per_layer = derivative(mem, n_layers)
print(f"marginal memory per layer: {float(per_layer) / 2**30:.3f} GiB per GPU (exact: {per_layer} bytes)")
print(f"elasticity in L at L = 32: {float(elasticity(mem, n_layers, at={n_layers: 32})):.3f}")
