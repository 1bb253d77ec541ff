"""The planner's compute-efficiency model: the fraction of peak FLOP/s a layer's matmuls reach.

One fixed MFU treats every layout alike; real matmuls run less efficiently as they shrink. Here
a micro-batch's matmuls (and the attention kernel with them) reach

.. math::

    \\eta = \\eta_{\\max} \\cdot \\frac{M}{M + M_{1/2}} \\cdot \\frac{N}{N + N_{1/2}},
    \\qquad M = b\\,s, \\quad N = \\frac{\\min(a\\,d_h,\\ f)}{t}

of the peak: M is the rows every GEMM of the layer multiplies (the micro-batch's tokens; with
sequence parallelism the all-gathered sequence), N the narrowest per-device feature width under
tensor parallelism (the query heads' a·d_h or the MLP's f, an expert's f_E for MoE layers, split t
ways), and a dimension d fills the tensor cores to d/(d + 128). Conventions (:mod:`symcalc.defaults`):

- ``kernel_efficiency`` η_max = **0.8**: large bf16 GEMMs reach about 80 % of the dense peak. An
  8192^3 bf16 matmul ran at 788 TFLOP/s (79.6 % of 989.4) on this workplace's H200 (the device
  records cited in ``tests/test_hardware.py``); the model gives 77.5 % for it.
- ``gemm_half_size`` M_½ = N_½ = **128**: the tile edge of cuBLAS/CUTLASS tensor-core kernels; a
  dimension of 128 runs at half the efficiency of a very large one. A modelling choice, not a fit.

So TP 8 on a 12288-wide model (N = 1536) costs 8 % against TP 1, and a micro-batch of 2048 tokens
6 %; the planner trades that against memory, communication and the pipeline bubble. The model
leaves out wave quantization, kernel fusion and the attention kernel's own efficiency.

>>> from symcalc import Model
>>> gpt3 = Model(n_layers=96, d_model=12288, n_heads=96, n_kv_heads=96, d_ff=4 * 12288, vocab=51200)
>>> round(float(matmul_efficiency(gpt3, micro_batch=1, seq_len=2048, tp=8)), 4)
0.695
>>> from symcalc.symbols import micro_batch, seq_len, tp
>>> matmul_efficiency(Model(), micro_batch=micro_batch, seq_len=seq_len, tp=tp)
4*micro_batch*seq_len*Min(d_ff, d_model)/(5*tp*(128 + Min(d_ff, d_model)/tp)*(micro_batch*seq_len + 128))
"""

from __future__ import annotations

from typing import Any

from sympy import Expr, Min

from .inputs import as_fraction, as_model, as_positive, as_size

__all__ = ["matmul_efficiency", "narrowest_width"]


def narrowest_width(model) -> Expr:
    """The narrowest feature width a layer's matmuls shard under TP: min(a·d_h, f) (f_E for MoE layers).

    >>> from symcalc import Model
    >>> narrowest_width(Model.preset("mixtral-8x7b"))
    4096
    """
    m = as_model("model", model)
    widths = [m.q_size]
    if m.n_dense_layers != 0:
        widths.append(m.d_ff)
    if m.is_moe:
        widths.append(m.d_ff_expert)
    return Min(*widths)


def matmul_efficiency(model, *, micro_batch: Any, seq_len: Any, tp: Any = 1, kernel_efficiency: Any = None,
                      gemm_half_size: Any = None) -> Expr:
    """η: the fraction of peak FLOP/s a micro-batch's matmuls reach (the module's model).

    Parameters
    ----------
    model : Model
    micro_batch : b [sequences]; seq_len : s [tokens]; tp : t
    kernel_efficiency : η_max, the efficiency of very large matmuls (default :mod:`symcalc.defaults`: 0.8)
    gemm_half_size : the dimension at which a matmul reaches half of η_max along it (default 128)
    """
    from .defaults import resolve

    b, s, t = as_size("micro_batch", micro_batch), as_size("seq_len", seq_len), as_size("tp", tp)
    eta = as_fraction("kernel_efficiency", resolve("kernel_efficiency", kernel_efficiency))
    half = as_positive("gemm_half_size", resolve("gemm_half_size", gemm_half_size))
    rows, width = b * s, narrowest_width(model) / t
    return eta * rows / (rows + half) * width / (width + half)

