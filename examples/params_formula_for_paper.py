"""Typeset the parameter and training-FLOPs formulas of a Llama-style model for a paper.

Prints LaTeX (paper notation: L layers, h hidden, a heads, g KV heads, f MLP, v vocab, s
sequence) ready to paste into an ``align``/``equation`` environment.
"""

from symcalc import Model, latex, params, training_flops
from symcalc.symbols import seq_len

llama_style = Model(gated_mlp=True, norm="rmsnorm")
print("% parameters by part")
print(latex(params(llama_style).grouped()))
print("% training FLOPs per token")
print(latex(training_flops(llama_style, seq_len=seq_len, tokens=1).total))
