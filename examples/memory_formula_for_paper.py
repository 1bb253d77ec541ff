"""Typeset the training memory per GPU for a paper: an aligned block by part, paper notation.

A Llama-style model (RMSNorm, SwiGLU; every size symbolic), mixed precision with AdamW, ZeRO-1,
selective recomputation, and every parallel degree symbolic (t, p, d, e, c): the optimizer
states carry 1/d, the weights and gradients do not.
"""

from symcalc import Model, latex
from symcalc.memory import SYMBOLIC, training_memory

mem = training_memory(Model(gated_mlp=True, norm="rmsnorm"), zero_stage=1, recompute="selective", **SYMBOLIC)
print("% bytes per GPU for training, by part (ZeRO-1: only the optimizer states are divided by d)")
print(latex(mem.grouped()))
