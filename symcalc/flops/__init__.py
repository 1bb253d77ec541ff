"""FLOPs of training, prefill and decode, as exact sympy expressions.

Every public function returns a :class:`~symcalc.breakdown.Breakdown` (unit ``"FLOP"``) of
named parts summing to its total, or (for the well-known approximations and the throughput
helpers) a single expression.

Conventions
-----------
- **A matmul** of an ``m×k`` by a ``k×n`` matrix costs ``2·m·n·k`` FLOPs (a multiply and an
  add per term), so a linear layer costs 2 FLOPs per weight per token; bias additions are
  elementwise work. This is what :class:`torch.utils.flop_counter.FlopCounterMode` counts.
- **Matmul-only** by default; ``elementwise=True`` adds softmax, norms, activations, residual
  adds and MoE routing arithmetic at fixed per-element costs (below). These costs are a
  convention, not a measurement: kernels differ.
- **Attention square**: ``causal=False`` (the default) counts the full ``s×s`` score matrix, as
  FlopCounterMode, PaLM's MFU (appendix B) and the cookbook do; ``causal=True`` counts half of
  it, ``s²/2`` query-key pairs per head, as Megatron-LM does. Decode is always exact: one new
  token at context position ``c`` attends to the ``c`` cached tokens and itself.
- **Embedding lookups cost nothing**; the LM head is a matmul (``2·v·h`` per token whose logits
  are computed), tied or not. OPT-350m's embedding projections are matmuls.
- **Backward** costs twice the forward for every part (gradients of the inputs and of the
  weights), elementwise parts included.
- **Recomputation** (activation checkpointing) is reported separately: ``"full"`` reruns the
  forward of every transformer layer (not the LM head or the embedding projections), as
  Megatron-LM and the cookbook do; ``"selective"`` reruns only the attention core (scores,
  softmax, attention over values), as Korthikanti et al. 2022 §4. Model FLOPs (for MFU)
  exclude it; hardware FLOPs (for HFU) include it.
- **MoE**: each token passes through ``top_k`` routed experts and every shared expert of each
  MoE layer, plus the router matmul ``h×E``; which layers are MoE is ``Model.n_moe_layers``.

Elementwise costs (``elementwise=True``), per element of the tensor named:

======================  ================================================================
part                    FLOPs
======================  ================================================================
``attention/softmax``   3 per query-key pair per head (Chinchilla, Hoffmann et al. 2022,
                        appendix F)
``norms``               LayerNorm 7 per element (mean, centre, square, sum, normalise,
                        weight, bias; 6 without bias); RMSNorm 4 (square, sum, normalise,
                        weight)
``mlp/activation``,     1 per inner element (dense MLP; routed and shared experts), plus 1
``moe/activation``      for the product of a gated MLP
``residual``            1 per element of each of the two residual adds per layer
``moe/routing``         3 per router logit (softmax) and 2 per routed-expert output element
                        (weight and sum)
======================  ================================================================

>>> from symcalc import Model
>>> from symcalc.flops import forward_flops, training_flops
>>> m = Model(n_layers=2, d_model=64, n_heads=4, n_kv_heads=2, d_ff=96, vocab=100, gated_mlp=True)
>>> forward_flops(m, seq_len=8, batch=2).total   # what FlopCounterMode reports for HF Llama
2236416
>>> training_flops(m, seq_len=8, batch=2).total   # forward + backward
6709248

References
----------
Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters Using
Megatron-LM", eq. 3. Chowdhery et al. 2022, "PaLM", appendix B. Korthikanti et al. 2022,
"Reducing Activation Recomputation in Large Transformer Models", §4. Hoffmann et al. 2022,
"Training Compute-Optimal Large Language Models", appendix F.
"""

from ._count import (
    RECOMPUTE, backward_flops, forward_flops, recompute_flops, training_flops,
)
from ._inference import decode_flops, generation_flops, prefill_flops
from ._approx import (
    hfu, mfu, narayanan_flops, palm_flops_per_token, six_n, training_time,
)

__all__ = [
    "RECOMPUTE", "forward_flops", "backward_flops", "recompute_flops", "training_flops",
    "prefill_flops", "decode_flops", "generation_flops",
    "six_n", "palm_flops_per_token", "narayanan_flops", "mfu", "hfu", "training_time",
]
