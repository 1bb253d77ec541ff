"""What is the compute-optimal model for 1e24 FLOPs (Chinchilla's approach-3 fit, C = 6ND)?"""

from sympy import Rational

from symcalc import Model, latex
from symcalc.scaling import compute_optimal, compute_optimal_shape, symbolic_frontier
from symcalc.symbols import d_model as h

opt = compute_optimal(Rational(10) ** 24)
print(f"parameters N_opt = {float(opt.n_params):.3e}")
print(f"tokens     D_opt = {float(opt.tokens):.3e}  ({float(opt.tokens_per_param):.0f} tokens per parameter)")
print(f"loss             = {float(opt.loss):.4f} nats/token")
print("closed form: N_opt(C) =", latex(symbolic_frontier()["n_params"]))

# The same question for a real shape: Llama-like, head dim 128, aspect ratio h/L = 128,
# with symcalc's exact training FLOPs per token at s = 4096 instead of 6N.
family = Model(n_layers=h / 128, d_model=h, n_heads=h / 128, n_kv_heads=h / 512,
               d_ff=Rational(7, 2) * h, vocab=128256, gated_mlp=True, norm="rmsnorm")
shape = compute_optimal_shape(Rational(10) ** 24, family, h, seq_len=4096, multiple_of=512)
print(f"as a Llama-like shape: h = {shape.size}, L = {shape.size // 128}, N = {float(shape.n_params):.3e}, "
      f"D = {float(shape.tokens):.3e}")
