"""Typeset the training memory per GPU for a paper: an aligned block by part, paper notation.

A Llama-style model (symbolic sizes), ZeRO-1, with every degree and size left symbolic.
"""

from symcalc import Model, latex
from symcalc.memory import training_memory

mem = training_memory(Model(gated_mlp=True, norm="rmsnorm"), zero_stage=1, recompute="selective")
print("% bytes per GPU for training, by part")
print(latex(mem.grouped()))
