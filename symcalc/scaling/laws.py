"""Single laws around the fits: Kaplan et al.'s L(N), L(D), L(C_min) and overfitting bound; DeepSeek
LLM's model scale M and its batch-size and learning-rate laws.

>>> round(float(kaplan_loss_params(2 * 10**9) / kaplan_loss_params(10**9)), 2)   # Kaplan §1.2: 2^-α_N
0.95
>>> deepseek_flops_per_token(30, 4096, 4096)
42278584320
"""

from __future__ import annotations

from typing import Any

from sympy import Eq, Expr, Symbol, limit, oo, solve

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_fraction, as_positive, as_size
from .derive import derived
from .fits import PF_DAY, DeepSeekFit, KaplanFit, get_fit

__all__ = ["kaplan_loss_params", "kaplan_loss_tokens", "kaplan_loss_compute", "kaplan_data_requirement",
           "deepseek_flops_per_token", "deepseek_batch_size", "deepseek_learning_rate"]


def _kaplan(fit: Any) -> KaplanFit:
    fit = get_fit(fit)
    if not isinstance(fit, KaplanFit):
        raise SymcalcError(f"fit {fit.name} is not Kaplan et al.'s; use fit=\"kaplan\"")
    return fit


def kaplan_loss_params(n_params: Any = S.n_params, fit: Any = "kaplan") -> Expr:
    """L(N) = (N_c/N)^{α_N}, N_c = 8.8e13 non-embedding parameters, α_N = 0.076 (Kaplan et al. 2020, eq. 1.1)."""
    f = _kaplan(fit)
    return (f.n_c_alone / as_positive("n_params", n_params)) ** f.alpha_n_alone


def kaplan_loss_tokens(tokens: Any = S.tokens, fit: Any = "kaplan") -> Expr:
    """L(D) = (D_c/D)^{α_D}, D_c = 5.4e13 tokens, α_D = 0.095 (Kaplan et al. 2020, eq. 1.2)."""
    f = _kaplan(fit)
    return (f.d_c_alone / as_positive("tokens", tokens)) ** f.alpha_d_alone


def kaplan_loss_compute(compute: Any = S.compute, fit: Any = "kaplan") -> Expr:
    """L(C_min) = (C_c/C_min)^{α_C}, C_c = 3.1e8 PF-days, α_C = 0.050, with C_min = C/2 (Kaplan eqs. 1.3, 6.7).

    >>> round(float(kaplan_loss_compute(2 * 8.64e19)), 3)   # C_min = 1 PF-day
    2.658
    """
    f = _kaplan(fit)
    return (f.c_c / (as_positive("compute", compute) / (2 * PF_DAY))) ** f.alpha_c


@derived
def _overfit_bound() -> Expr:
    """D_min(N, δ) from δL = L(N, D)/L(N, ∞) − 1 = δ with Kaplan's L(N, D) (eq. 4.3), solved once."""
    delta = Symbol("delta", positive=True)
    L = ((S.kaplan_n_c / S.n_params) ** (S.kaplan_alpha_n / S.kaplan_alpha_d) + S.kaplan_d_c / S.tokens) ** S.kaplan_alpha_d
    (root,) = solve(Eq(L / limit(L, S.tokens, oo), 1 + delta), S.tokens)
    return root, delta


def kaplan_data_requirement(n_params: Any = S.n_params, overfit: Any = "0.02", fit: Any = "kaplan") -> Expr:
    """The fewest tokens keeping overfitting δL below ``overfit`` (Kaplan et al. 2020, eqs. 4.3-4.4).

    Derived from L(N, D) (Table 2): D ≥ D_c (N/N_c)^{α_N/α_D} / ((1 + δ)^{1/α_D} − 1); with δ = 0.02
    (the seed-to-seed variation) Kaplan et al. round it to D ≳ 5·10^3 N^0.74.

    >>> d = kaplan_data_requirement(10**9)
    >>> f"{float(d):.3g}"
    '2.41e+10'
    """
    f = _kaplan(fit)
    root, delta = _overfit_bound()
    values = {S.kaplan_n_c: f.n_c, S.kaplan_d_c: f.d_c, S.kaplan_alpha_n: f.alpha_n, S.kaplan_alpha_d: f.alpha_d,
              delta: as_fraction("overfit", overfit), S.n_params: as_positive("n_params", n_params)}
    return root.xreplace(values)


def deepseek_flops_per_token(n_layers: Any = S.n_layers, d_model: Any = S.d_model, seq_len: Any = S.seq_len) -> Expr:
    """M = 72 L h² + 12 L h s: non-embedding training FLOPs per token (DeepSeek LLM 2024, eq. 2).

    It equals symcalc's exact training FLOPs per token of an MHA model with f = 4h, full attention
    square and no recomputation, less the LM head (tested against :func:`symcalc.flops.training_flops`).
    """
    L, h, s = as_size("n_layers", n_layers), as_size("d_model", d_model), as_size("seq_len", seq_len)
    return 72 * L * h**2 + 12 * L * h * s


def _deepseek(fit: Any) -> DeepSeekFit:
    fit = get_fit(fit)
    if not isinstance(fit, DeepSeekFit):
        raise SymcalcError(f"fit {fit.name} has no batch-size or learning-rate law; use fit=\"deepseek\"")
    return fit


def deepseek_batch_size(compute: Any = S.compute, fit: Any = "deepseek") -> Expr:
    """B_opt = 0.2920 · C^0.3271 tokens per step (DeepSeek LLM 2024, eq. 1).

    >>> f"{float(deepseek_batch_size(1e22)):.3g}"
    '4.59e+06'
    """
    f = _deepseek(fit)
    return f.batch_coef * as_positive("compute", compute) ** f.batch_exp


def deepseek_learning_rate(compute: Any = S.compute, fit: Any = "deepseek") -> Expr:
    """η_opt = 0.3118 · C^-0.1250 (DeepSeek LLM 2024, eq. 1).

    >>> f"{float(deepseek_learning_rate(1e22)):.3g}"
    '0.000554'
    """
    f = _deepseek(fit)
    return f.lr_coef * as_positive("compute", compute) ** -f.lr_exp
