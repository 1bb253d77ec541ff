"""How many parameters does Llama-3-8B have, and where are they?

Llama-3-8B (Meta, 2024; config.json of meta-llama/Meta-Llama-3-8B): 32 layers, hidden 4096,
32 query heads, 8 KV heads, SwiGLU MLP of 14336, vocabulary 128256, RMSNorm, untied embeddings.
"""

from symcalc import Model, latex, params
from symcalc.sensitivity import derivative

llama3_8b = Model(
    n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, d_ff=14336, vocab=128256,
    gated_mlp=True, activation="silu", norm="rmsnorm", name="llama-3-8b",
)
bd = params(llama3_8b)
print(bd.grouped())
assert bd.total == 8030261248, bd.total  # the published 8.03 B
print()
print("per extra layer:", derivative(params(llama3_8b.replace(n_layers=Model().n_layers)), "n_layers"), "parameters")
print(latex(params(Model(gated_mlp=True, norm="rmsnorm")).total))  # the same count, symbolic
