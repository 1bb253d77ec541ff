"""Serving speed: the roofline of prefill and decode, as exact expressions over the hardware symbols.

One forward step (the prefill of a batch of prompts, or one decode step adding a token to each
sequence) runs on every device of a tensor-parallel replica. Each *operation* of the step — every
weight matmul (``attention/qkv``, ``attention/out``, ``mlp/up``, ``mlp/down``, ``moe/router``,
``moe/experts``, ``moe/shared_experts``, ``lm_head``, ...), the attention kernel
(``attention/core``: scores, softmax and values fused, as flash attention / flash decoding run
them) and the norm weights — takes the time of its roofline:

.. math::

    t_{op} = \\max\\left(\\frac{F_{op}}{F_{\\mathrm{peak}}\\,\\eta_c},\\ \\frac{B_{op}}{W_{\\mathrm{mem}}\\,\\eta_m}\\right),
    \\qquad T = \\sum_{op} t_{op} + \\frac{V_{\\mathrm{TP}}}{W_{\\mathrm{up}}\\,\\eta_l}

Conventions (stated once here):

- **F** per device: :func:`symcalc.flops.prefill_flops` / :func:`~symcalc.flops.decode_flops` by
  part (matmuls, 2 FLOPs per weight per token), divided by the TP degree t (the router is replicated).
  The prefill's attention counts the causal half of the square (what flash attention computes;
  ``causal=False`` for the full square); decode is exact (c + 1 keys).
- **B** per device: every weight the operation uses, read once (TP-sharded as
  :mod:`symcalc.memory.parallel`; an untied token embedding is not read in full, only gathered);
  the KV cache the attention reads, :func:`symcalc.memory.kv_cache` (so GQA, MQA, KV-head
  replication when t > g, and any cache layout it knows follow automatically); each matmul's input
  and output activations, read and written once. Norms, activation functions, residual adds and
  rotary embeddings are taken as fused into the neighbouring kernels (no traffic of their own).
- **MLA and windows** follow the FLOPs and KV-cache functions: the attention kernel reads the
  latent cache (``kv_cache``'s ``mla_cache="latent"``) and a windowed layer ``min(c + 1, W)``
  tokens; MLA's decode FLOPs are ``decode_flops``' (transformers decompresses the whole latent
  cache through ``kv_b`` every step; engines that absorb the up-projections compute far less),
  and the activation I/O of MLA's four projections is not counted (a lower bound still).
- **MoE**: all experts are resident (memory). A step reads the weights of the routed experts its
  tokens reach: by default the expected number of distinct experts per MoE layer,
  :math:`E\\,(1 - (1 - k/E)^T)` for T tokens routed independently and uniformly (k for one token,
  all E as T grows); ``experts="all"`` reads every expert. FLOPs are the ``top_k`` experts per token.
  Past 2^16 bits written out, (1 - k/E)^T stays a power (:mod:`symcalc._routedpower`): still exact.
- **TP all-reduces**: 2 per layer (after attention and after the MLP; 1 for a parallel block), each
  of ``tokens x h x bytes_act``, ring volume :math:`2 (t-1)/t` per device (:mod:`symcalc.comm`),
  on the scale-up link, **not overlapped** with compute; no per-message latency.
- **Efficiencies** :math:`\\eta_c, \\eta_m, \\eta_l` default to **1: the physical limit**, so every
  time is a **lower bound** on what a real engine achieves (kernel launch, scheduling, sampling and
  collective latency are not modelled); give a fraction to model a measured efficiency.
- A step is **memory-bound** when all its traffic at the bandwidth roof takes longer than all its
  FLOPs at the compute roof (``Step.bound``); each operation is bound on its own in ``Step.time``.
- **TTFT** is the prefill of the batch's prompts; **TPOT** a decode step at the generation's mean
  context :math:`s + (n-2)/2` (the time is linear in the context while no operation changes bound,
  so this is the mean step; a lower bound otherwise); **throughput** ``batch / TPOT``.

>>> from symcalc import Model
>>> step = decode_step(Model.preset("llama-2-7b"), context_len=4095, batch=1, hardware="h100")
>>> step.bound, step.seconds == step.traffic.total / 3350000000000     # memory-bound: bytes / bandwidth
('memory', True)
>>> print(decode_step(Model(), batch=1).time["attention/core"])          # symbolic: every size a symbol
Max((4*d_model*n_layers + 4*d_model*n_kv_heads*n_layers*(context_len + 1)/n_heads)/mem_bandwidth, (4*context_len*d_model*n_layers + 4*d_model*n_layers)/peak_flops)

References
----------
Williams, Waterman and Patterson 2009, "Roofline: an insightful visual performance model";
Yuan et al. 2024, "LLM Inference Unveiled: Survey and Roofline Model Insights" (operation by
operation, as its LLM-Viewer); Pope et al. 2022, "Efficiently Scaling Transformer Inference".
"""

from ._estimate import ServingEstimate, mean_context, serving
from ._roofline import EXPERTS, Roofline, Step, decode_step, prefill_step, roofline

__all__ = ["serving", "ServingEstimate", "decode_step", "prefill_step", "Step", "Roofline", "roofline",
           "mean_context", "EXPERTS"]
