"""Scaling laws as a symbolic toolkit: published fits, derived optima, inference and data limits.

- :mod:`~symcalc.scaling.fits`: the catalogue (Kaplan et al. 2020; Hoffmann et al. 2022's approaches
  1, 2 and 3; Besiroglu et al. 2024; Muennighoff et al. 2023; DeepSeek LLM 2024), constants exact,
  each with its source. The default is Chinchilla approach 3 as printed (``"chinchilla"``).
- :mod:`~symcalc.scaling.derive`: the closed forms, derived by sympy from the Lagrangian once.
- :mod:`~symcalc.scaling.optimum`: compute-optimal N and D, the loss on the frontier, the compute a
  target loss needs.
- :mod:`~symcalc.scaling.inference`: the inference-aware optimum (Sardana et al. 2023).
- :mod:`~symcalc.scaling.data`: data-constrained scaling (Muennighoff et al. 2023).
- :mod:`~symcalc.scaling.laws`: Kaplan et al.'s single-variable laws and overfitting bound; DeepSeek
  LLM's batch-size and learning-rate laws and model scale M.
- :mod:`~symcalc.scaling.shape`: the frontier on exact FLOPs per token of a model shape.

Conventions: ``N`` parameters, ``D`` training tokens, ``C`` training FLOP (C = κ·N·D, κ = 6 unless a
fit says otherwise), losses in nats per token; every number enters through :mod:`symcalc.inputs`.

>>> from symcalc.scaling import compute_optimal
>>> opt = compute_optimal(10**24)
>>> round(float(opt.n_params) / 1e9, 1), round(float(opt.tokens) / 1e12, 2)
(41.3, 4.04)
"""

from __future__ import annotations

from .. import symbols as _S
from .fits import (CHINCHILLA, DEFAULT_FIT, FITS, AllocationFit, DeepSeekFit, Fit, KaplanFit, ParametricFit,
                   get_fit)
from .optimum import (KAPLAN_FLOPS_PER_PARAM_TOKEN, ComputeOptimum, chinchilla_loss, compute_for_loss,
                      compute_optimal, frontier_exponents, kaplan_compute, kaplan_flops_per_token, law_latex,
                      loss_at_compute, symbolic_frontier, tokens_per_param, compute_cost)
from .shape import ShapeFrontier, ShapeOptimum, compute_optimal_shape, shape_frontier
from .inference import InferenceOptimum, inference_optimal
from .data import (DataConstrainedOptimum, data_constrained_loss, data_constrained_optimal, effective_params,
                   effective_tokens, params_for_tokens)
from .laws import (deepseek_batch_size, deepseek_flops_per_token, deepseek_learning_rate, kaplan_data_requirement,
                   kaplan_loss_compute, kaplan_loss_params, kaplan_loss_tokens)

#: The historical name of :class:`ParametricFit` (its defaults are Chinchilla approach 3).
ChinchillaFit = ParametricFit

#: Symbols of a parametric fit's constants, by their letters in Hoffmann et al. 2022.
FIT_SYMBOLS = {"E": _S.loss_irreducible, "A": _S.loss_coef_params, "B": _S.loss_coef_tokens,
               "alpha": _S.exp_params, "beta": _S.exp_tokens}

__all__ = [
    "Fit", "ParametricFit", "AllocationFit", "KaplanFit", "DeepSeekFit", "ChinchillaFit", "FITS", "get_fit",
    "DEFAULT_FIT", "CHINCHILLA", "FIT_SYMBOLS",
    "ComputeOptimum", "compute_optimal", "loss_at_compute", "compute_for_loss", "frontier_exponents",
    "symbolic_frontier", "law_latex", "compute_cost", "tokens_per_param", "chinchilla_loss", "kaplan_flops_per_token", "kaplan_compute",
    "KAPLAN_FLOPS_PER_PARAM_TOKEN",
    "ShapeOptimum", "ShapeFrontier", "compute_optimal_shape", "shape_frontier",
    "InferenceOptimum", "inference_optimal",
    "DataConstrainedOptimum", "data_constrained_loss", "data_constrained_optimal", "effective_params",
    "effective_tokens", "params_for_tokens",
    "kaplan_loss_params", "kaplan_loss_tokens", "kaplan_loss_compute", "kaplan_data_requirement",
    "deepseek_flops_per_token", "deepseek_batch_size", "deepseek_learning_rate",
]
