"""The largest dense model trainable on 8×80 GB GPUs (ZeRO-3, full recomputation, s = 2048, b = 1).

Llama-like proportions: head dim 128, GQA with 4 query heads per KV head, SwiGLU MLP of 3.5h,
aspect ratio h/L = 128. The hidden size h is solved for, a multiple of 512 (so every size is whole).
"""

from symcalc import Model, params
from symcalc.memory import training_memory
from symcalc.solve import max_d_model, model_family

template = Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, d_ff=14336, vocab=32000,
                 gated_mlp=True, norm="rmsnorm")
options = dict(seq_len=2048, micro_batch=1, n_devices=8, zero_stage=3, recompute="full")
sol = max_d_model(80 * 10**9, template, quantity=lambda m: training_memory(m, **options),
                  aspect_ratio=128, d_head=128, multiple_of=512)
family, h = model_family(template, aspect_ratio=128, d_head=128)
best = family.subs({h: sol.value})
print(f"h = {sol.value}, L = {best.n_layers}, f = {best.d_ff} ({sol.method}): "
      f"{float(params(best).total) / 1e9:.1f} B parameters, {float(sol.quantity) / 1e9:.1f} GB of 80 GB per GPU")
print(f"one step larger (h = {sol.value + 512}) needs "
      f"{float(training_memory(family.subs({h: sol.value + 512}), **options).total) / 1e9:.1f} GB")
