"""The catalogue of published scaling-law fits: constants exact, each with its source.

Two kinds of fit:

- :class:`ParametricFit`: a loss L(N, D) = E + A/N^α + B/D^β (Hoffmann et al. 2022's eq. 2). The
  compute-optimal allocation, the frontier's loss and its inverse are *derived* from it
  (:mod:`symcalc.scaling.derive`); Chinchilla's approach 3 (as printed, and at the precision of the
  paper's TeX source), Besiroglu et al. 2024's refit and Muennighoff et al. 2023's C4 fit.
- :class:`AllocationFit`: a published power law N_opt = G·(C/C_0)^{a_N} (with D_opt = C/(κ N_opt));
  Chinchilla's approaches 1 and 2, Kaplan et al. 2020 (with its L(N, D)), DeepSeek LLM 2024 (model
  scale M in FLOPs per token, with its batch-size and learning-rate laws).

Constants are exact Rationals of the printed decimals (``Rational("406.4")``); Muennighoff et al.'s
are ``exp`` of the printed logarithms, as their code defines them.

>>> from symcalc.scaling.fits import FITS, get_fit
>>> sorted(FITS)
['besiroglu', 'chinchilla', 'chinchilla-1', 'chinchilla-2', 'chinchilla-3-tex', 'deepseek', 'kaplan', 'muennighoff']
>>> get_fit("chinchilla").alpha
17/50
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Optional

from sympy import Expr, Integer, Rational, exp
from sympy.core.parameters import evaluate

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_choice, as_expr, as_positive, as_text

__all__ = ["Fit", "ParametricFit", "AllocationFit", "KaplanFit", "DeepSeekFit", "FITS", "get_fit",
           "DEFAULT_FIT", "CHINCHILLA", "PF_DAY"]

#: One petaflop/s-day in FLOP (Kaplan et al. 2020, §1.3: 10^15 × 24 × 3600).
PF_DAY = Integer(10) ** 15 * 24 * 3600


def _numbers_unevaluated(*values: Expr):
    """``evaluate(False)`` when any of ``values`` is a number, else no change: a number to a published
    exponent such as 0.3526596 = 881649/2500000 stays an unevaluated power, as elsewhere in
    :mod:`symcalc.scaling` (evaluated, sympy raises the number to the numerator and takes the
    2500000th root exactly: minutes). Its value (``float``, ``evalf``) is the same."""
    return evaluate(False) if any(not v.free_symbols for v in values) else nullcontext()


def _coerce(obj: Any, names: tuple[str, ...], where: str) -> None:
    for text in ("name", "title", "source", "example"):
        object.__setattr__(obj, text, as_text(f"fit {text}", getattr(obj, text)))
    for name in names:
        value = getattr(obj, name)
        if value is None:
            continue
        object.__setattr__(obj, name, as_positive(f"{where} {name}", value))


@dataclass(frozen=True)
class Fit:
    """What every fit carries: a name, a title, its source and the paper's worked example."""

    name: str = "custom"
    title: str = "custom fit"
    source: str = ""
    example: str = ""

    @property
    def kind(self) -> str:
        """``parametric`` (a loss L(N, D)) or ``allocation`` (N_opt and D_opt as powers of C)."""
        return "parametric" if isinstance(self, ParametricFit) else "allocation"

    def describe(self) -> dict[str, Any]:
        """The fit as plain data (floats, each the double nearest the constant) for ``--json`` and ``--list-fits``."""
        from .result import nearest_float

        return {"name": self.name, "title": self.title, "kind": self.kind, "source": self.source,
                "constants": {k: nearest_float(v) for k, v in self.constants().items()}}

    def constants(self) -> dict[str, Expr]:  # pragma: no cover - overridden
        """The fit's constants by their names in the paper (exact numbers)."""
        return {}


@dataclass(frozen=True)
class ParametricFit(Fit):
    """L(N, D) = E + A/N^α + B/D^β, exact; defaults are Hoffmann et al. 2022's approach 3 as printed.

    ``repeat_tokens``/``repeat_params`` are Muennighoff et al. 2023's R_D*, R_N* where the fit has them.

    >>> ParametricFit().alpha, ParametricFit(alpha=0.3392).alpha
    (17/50, 212/625)
    """

    E: Any = Rational("1.69")
    A: Any = Rational("406.4")
    B: Any = Rational("410.7")
    alpha: Any = Rational("0.34")
    beta: Any = Rational("0.28")
    repeat_tokens: Any = None
    repeat_params: Any = None

    def __post_init__(self) -> None:
        _coerce(self, ("E", "A", "B", "alpha", "beta", "repeat_tokens", "repeat_params"), f"fit {self.name}")

    def values(self) -> dict:
        """``{symbol: value}`` for the fit's named constants (E, A, B, α, β)."""
        return {S.loss_irreducible: self.E, S.loss_coef_params: self.A, S.loss_coef_tokens: self.B,
                S.exp_params: self.alpha, S.exp_tokens: self.beta}

    def constants(self) -> dict[str, Expr]:
        """The fit\'s constants by their names in the paper (exact numbers)."""
        out = {"E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta}
        if self.repeat_tokens is not None:
            out.update(R_D_star=self.repeat_tokens, R_N_star=self.repeat_params)
        return out

    def loss(self, n_params: Any = S.n_params, tokens: Any = S.tokens) -> Expr:
        """L(N, D) in nats per token (numbers stay unevaluated powers: see :func:`_numbers_unevaluated`).

        >>> from symcalc.scaling import get_fit
        >>> round(float(get_fit("muennighoff").loss(6.34e9, 242e9)), 4)  # 242B unique tokens (Figure 1: 2.2256 on 25B)
        2.1949
        """
        N, D = as_expr("n_params", n_params), as_expr("tokens", tokens)
        with _numbers_unevaluated(N, D):
            return self.E + self.A / N**self.alpha + self.B / D**self.beta


@dataclass(frozen=True)
class AllocationFit(Fit):
    """A published allocation N_opt = G·(C/C_0)^{a_N}, D_opt = C/(κ·N_opt).

    ``anchor``: when the paper gives the exponent and a point of the law rather than G, the point
    (compute, parameters) fixes G = N_0 / (C_anchor/C_0)^{a_N}. ``scale`` is ``"params"``, or
    ``"flops_per_token"`` when N is DeepSeek's M (non-embedding FLOPs per token, C = M·D, κ = 1).
    """

    coef: Any = None
    exponent: Any = Rational(1, 2)
    unit: Any = 6
    flops_per_param_token: Any = 6
    anchor: Optional[tuple] = None
    scale: str = "params"

    def __post_init__(self) -> None:
        _coerce(self, ("exponent", "unit", "flops_per_param_token"), f"fit {self.name}")
        object.__setattr__(self, "scale", as_choice(f"fit {self.name} scale", self.scale, ("params", "flops_per_token")))
        if self.anchor is not None and (not isinstance(self.anchor, tuple) or len(self.anchor) != 2):
            raise SymcalcError(f"fit {self.name} anchor={self.anchor!r:.60} must be a pair (compute, parameters)")
        if self.anchor is not None and self.coef is not None:
            raise SymcalcError(f"fit {self.name}: give coef or anchor=(compute, params), not both")
        if self.anchor is not None:
            c0 = as_positive(f"fit {self.name} anchor compute", self.anchor[0])
            n0 = as_positive(f"fit {self.name} anchor parameters", self.anchor[1])
            object.__setattr__(self, "anchor", (c0, n0))
            object.__setattr__(self, "coef", n0 / (c0 / self.unit) ** self.exponent)
        if self.coef is None:
            raise SymcalcError(f"fit {self.name}: give coef or anchor=(compute, params)")
        _coerce(self, ("coef",), f"fit {self.name}")

    def values(self) -> dict:
        """``{symbol: value}`` for the fit's named constants (G, a, C_0, κ)."""
        return {S.alloc_coef: self.coef, S.alloc_exp: self.exponent, S.alloc_unit: self.unit,
                S.flops_per_param_token: self.flops_per_param_token}

    def constants(self) -> dict[str, Expr]:
        """The fit\'s constants by their names in the paper (exact numbers)."""
        return {"G": self.coef, "a_N": self.exponent, "C_0": self.unit, "kappa": self.flops_per_param_token}

    def law(self) -> Expr:
        """N_opt(C) = G (C/C_0)^{a_N} in the named symbols."""
        return S.alloc_coef * (S.compute / S.alloc_unit) ** S.alloc_exp

    def loss(self, n_params: Any = S.n_params, tokens: Any = S.tokens) -> Optional[Expr]:
        """An allocation law predicts no loss (Kaplan et al. add their L(N, D))."""
        as_expr("n_params", n_params), as_expr("tokens", tokens)
        return None


@dataclass(frozen=True)
class KaplanFit(AllocationFit):
    """Kaplan et al. 2020: the allocation of Table 6 (N_opt = N_e C_min^{p_N}) and L(N, D) of Table 2.

    C_min is in PF-days and is half the compute at the critical batch size (Kaplan eq. 6.7:
    C = 2 C_min), so C_0 = 2 PF-days. N counts non-embedding parameters; losses are WebText2 nats.
    """

    n_c: Any = Rational("6.4e13")
    d_c: Any = Rational("1.8e13")
    alpha_n: Any = Rational("0.076")
    alpha_d: Any = Rational("0.103")
    # single-variable laws, eqs. (1.1)-(1.3)
    n_c_alone: Any = Rational("8.8e13")
    alpha_n_alone: Any = Rational("0.076")
    d_c_alone: Any = Rational("5.4e13")
    alpha_d_alone: Any = Rational("0.095")
    c_c: Any = Rational("3.1e8")
    alpha_c: Any = Rational("0.050")

    def __post_init__(self) -> None:
        super().__post_init__()
        _coerce(self, ("n_c", "d_c", "alpha_n", "alpha_d", "n_c_alone", "alpha_n_alone", "d_c_alone",
                       "alpha_d_alone", "c_c", "alpha_c"), f"fit {self.name}")

    def constants(self) -> dict[str, Expr]:
        """The fit\'s constants by their names in the paper (exact numbers)."""
        return {**super().constants(), "N_c": self.n_c, "D_c": self.d_c, "alpha_N": self.alpha_n, "alpha_D": self.alpha_d}

    def loss(self, n_params: Any = S.n_params, tokens: Any = S.tokens) -> Expr:
        """L(N, D) = [(N_c/N)^{α_N/α_D} + D_c/D]^{α_D} (Kaplan et al. 2020, eq. 1.5, Table 2)."""
        N, D = as_expr("n_params", n_params), as_expr("tokens", tokens)
        with _numbers_unevaluated(N, D):
            return ((self.n_c / N) ** (self.alpha_n / self.alpha_d) + self.d_c / D) ** self.alpha_d


@dataclass(frozen=True)
class DeepSeekFit(AllocationFit):
    """DeepSeek LLM 2024: M_opt = M_base C^a, D_opt = D_base C^b (M: non-embedding FLOPs/token),
    with the batch-size and learning-rate laws B_opt = 0.2920 C^0.3271, η_opt = 0.3118 C^-0.1250."""

    tokens_coef: Any = Rational("5.8316")
    tokens_exponent: Any = Rational("0.4757")
    lr_coef: Any = Rational("0.3118")
    lr_exp: Any = Rational("0.1250")
    batch_coef: Any = Rational("0.2920")
    batch_exp: Any = Rational("0.3271")

    def __post_init__(self) -> None:
        super().__post_init__()
        _coerce(self, ("tokens_coef", "tokens_exponent", "lr_coef", "lr_exp", "batch_coef", "batch_exp"),
                f"fit {self.name}")

    def constants(self) -> dict[str, Expr]:
        """The fit\'s constants by their names in the paper (exact numbers)."""
        return {**super().constants(), "D_base": self.tokens_coef, "b": self.tokens_exponent,
                "eta_0": self.lr_coef, "p_eta": self.lr_exp, "B_0": self.batch_coef, "p_B": self.batch_exp}


_HOFFMANN = "Hoffmann et al. 2022, \"Training Compute-Optimal Large Language Models\" (arXiv:2203.15556)"

#: Hoffmann et al. 2022, approach 3, as printed (§3.3, Appendix D.2 eq. 10): the default.
CHINCHILLA = ParametricFit(
    name="chinchilla", title="Chinchilla approach 3 (parametric loss, as printed)",
    source=f"{_HOFFMANN}, eq. (10) in Appendix D.2: E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28",
    example="Table 2: a = 0.46, b = 0.54 (from the unrounded fit; the printed constants give 14/31 ≈ 0.45)",
)

#: The catalogue of published fits by name (``symcalc scaling --list-fits``).
FITS: dict[str, Fit] = {fit.name: fit for fit in (
    CHINCHILLA,
    ParametricFit(
        name="chinchilla-3-tex", title="Chinchilla approach 3 at the precision of the paper's TeX source",
        E=Rational("1.6934"), A=Rational("406.4"), B=Rational("410.7"), alpha=Rational("0.3392"), beta=Rational("0.2849"),
        source=f"{_HOFFMANN}, approach 3 with α = 0.3392, β = 0.2849, E = 1.6934 from the TeX source, as "
               "reported by Besiroglu et al. 2024 (arXiv:2404.10102)",
        example="Figure 4: 40B parameters optimal at Gopher's 5.76e23 FLOPs; Table A3's approach-3 column",
    ),
    AllocationFit(
        name="chinchilla-1", title="Chinchilla approach 1 (minimum over training curves)",
        exponent=Rational("0.50"), unit=6, anchor=(Integer(10) ** 21, Rational("2.86e9")),
        source=f"{_HOFFMANN}, Table 2 (a = 0.50) and §D.4 (2.86B parameters optimal at 1e21 FLOPs)",
        example="Table 3: the parameters and FLOPs of compute-optimal models from 400M to 10T parameters",
    ),
    AllocationFit(
        name="chinchilla-2", title="Chinchilla approach 2 (IsoFLOP profiles)",
        exponent=Rational("0.49"), unit=6, anchor=(Rational("6.88e23"), Rational("67e9")),
        source=f"{_HOFFMANN}, Table 2 (a = 0.49) and Table A3 (67B parameters at 6.88e23 FLOPs)",
        example="Table A3's approach-2 column, 400M to 10T parameters",
    ),
    ParametricFit(
        name="besiroglu", title="Besiroglu et al. 2024's refit of Chinchilla approach 3",
        E=Rational("1.8172"), A=Rational("482.01"), B=Rational("2085.43"), alpha=Rational("0.3478"), beta=Rational("0.3658"),
        source="Besiroglu, Erdil, Barnett, You 2024, \"Chinchilla Scaling: A replication attempt\" "
               "(arXiv:2404.10102), Table 1: E = 1.8172, A = 482.01, B = 2085.43, α = 0.3478, β = 0.3658",
        example="a = β/(α+β) ≈ 0.51, within approaches 1-2's intervals; about 20 tokens per parameter",
    ),
    ParametricFit(
        name="muennighoff", title="Muennighoff et al. 2023's data-constrained fit (C4)",
        E=exp(Rational("0.6254804")), A=exp(Rational("6.255414")), B=exp(Rational("7.3049974")),
        alpha=Rational("0.3526596"), beta=Rational("0.3526596"),
        repeat_tokens=Rational("15.387756"), repeat_params=Rational("5.309743"),
        source="Muennighoff et al. 2023, \"Scaling Data-Constrained Language Models\" (arXiv:2305.16264), "
               "eq. (5)-(6); constants from the authors' repository (huggingface/datablations, README "
               "'Parametric Fit'): log A = 6.255414, log B = 7.3049974, log E = 0.6254804, "
               "α = β = 0.3526596, R_D* = 15.387756, R_N* = 5.309743",
        example="Figure 1 (right): 6.34B params on 242B tokens (25B unique) reach 2.2256, 8.67B on 178B 2.2270",
    ),
    KaplanFit(
        name="kaplan", title="Kaplan et al. 2020 (compute-efficient allocation and L(N, D))",
        coef=Rational("1.3e9"), exponent=Rational("0.73"), unit=2 * PF_DAY,
        source="Kaplan et al. 2020, \"Scaling Laws for Neural Language Models\" (arXiv:2001.08361): "
               "Table 6 (N_opt = 1.3e9 · C_min^0.73, C_min in PF-days, C = 2 C_min at the critical batch, "
               "eq. 6.7), Table 2 (L(N, D): α_N = 0.076, α_D = 0.103, N_c = 6.4e13, D_c = 1.8e13)",
        example="eq. (4.4): D ≳ 5e3 · N^0.74 to keep overfitting under 0.02; Hoffmann et al. §D.4: 4.68B at 1e21 FLOPs",
    ),
    DeepSeekFit(
        name="deepseek", title="DeepSeek LLM 2024 (model scale M = non-embedding FLOPs per token)",
        coef=Rational("0.1715"), exponent=Rational("0.5243"), unit=1, flops_per_param_token=1,
        scale="flops_per_token",
        source="DeepSeek-AI 2024, \"DeepSeek LLM: Scaling Open-Source Language Models with Longtermism\" "
               "(arXiv:2401.02954), eq. (1) (η_opt = 0.3118 C^-0.1250, B_opt = 0.2920 C^0.3271), eq. (2) "
               "(M = 72 L h^2 + 12 L h s), eq. (4) (M_opt = 0.1715 C^0.5243, D_opt = 5.8316 C^0.4757)",
        example="Table 2: the 7B and 67B models' batch sizes and learning rates from eq. (1)",
    ),
)}

#: Other names accepted by :func:`get_fit`.
ALIASES = {"chinchilla-3": "chinchilla", "hoffmann": "chinchilla", "hoffmann-3": "chinchilla",
           "epoch": "besiroglu", "datablations": "muennighoff", "deepseek-llm": "deepseek"}
#: The fit used when none is named: Chinchilla approach 3 as printed.
DEFAULT_FIT = "chinchilla"


def get_fit(name: Any) -> Fit:
    """A fit by name (or the fit itself); a one-line error listing the names otherwise.

    >>> get_fit("hoffmann").name
    'chinchilla'
    >>> get_fit("gpt-5")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: unknown fit 'gpt-5'; known fits: besiroglu, chinchilla, chinchilla-1, chinchilla-2, chinchilla-3-tex, deepseek, kaplan, muennighoff
    """
    if isinstance(name, Fit):
        return name
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in FITS:
        raise SymcalcError(f"unknown fit {name!r}; known fits: {', '.join(sorted(FITS))}")
    return FITS[key]
