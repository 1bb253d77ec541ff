"""Data-constrained scaling (Muennighoff et al. 2023, "Scaling Data-Constrained Language Models").

With U_D unique tokens repeated for R_D = D/U_D − 1 extra epochs, and parameters beyond U_N, the
compute-optimal size for U_D tokens, the loss is the parametric fit's at effective values

.. math::

    D' = U_D + U_D R_D^{*} \\left(1 - e^{-R_D/R_D^{*}}\\right),\\qquad
    N' = U_N + U_N R_N^{*} \\left(1 - e^{-R_N/R_N^{*}}\\right),\\quad R_N = N/U_N - 1

(eqs. 5-6), with the paper's R_D* = 15.387756 and R_N* = 5.309743 (fitted jointly with the C4
constants of the ``muennighoff`` fit). U_N = min(N, N_opt(U_D)) where N_opt(D) is the frontier's
parameter count for D tokens, derived from the frontier (G (D G)^{β/α}).

The optimum with U_D unique tokens at compute C has no closed form (the authors use a grid search):
the loss along C = κND is split into the four regimes (D ≶ U_D, N ≶ U_N), each a smooth function
whose derivative sympy takes; its roots are bisected, and the best of the roots and the regime
boundaries is the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
from sympy import Expr, Float, Piecewise, Symbol, diff, exp, lambdify
from sympy.core.parameters import evaluate

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_positive
from .derive import derived, solve_log_linear
from .fits import Fit, ParametricFit, get_fit
from .inference import bisect_increasing
from .optimum import ComputeOptimum, _k, _law, compute_optimal
from .result import Readable, check_fields, fmt

def _mp(x: Any) -> Any:
    """A sympy number as an mpmath float at 60 digits."""
    return mpmath.mpf(str(x.evalf(60))) if hasattr(x, "evalf") else mpmath.mpf(x)


__all__ = ["params_for_tokens", "effective_tokens", "effective_params", "data_constrained_loss",
           "DataConstrainedOptimum", "data_constrained_optimal"]

_MUENNIGHOFF = "muennighoff"


def _fit(fit: Any) -> ParametricFit:
    fit = get_fit(fit)
    if not isinstance(fit, ParametricFit) or fit.repeat_tokens is None:
        raise SymcalcError(f"fit {fit.name} has no repetition constants R_D*, R_N*; use --fit muennighoff "
                           "(Muennighoff et al. 2023 fitted them with their own loss constants)")
    return fit


_G, _A_EXP, _B_EXP = (Symbol(n, positive=True) for n in ("G", "a", "b"))


@derived
def _tokens_to_params() -> Expr:
    """N_opt as a function of D_opt on the frontier N = G (C/κ)^a, D = G^{-1} (C/κ)^b: C eliminated."""
    c_of_d = solve_log_linear(_G**-1 * (S.compute / S.flops_per_param_token) ** _B_EXP, S.tokens, S.compute)
    return (_G * (S.compute / S.flops_per_param_token) ** _A_EXP).subs(S.compute, c_of_d)


def params_for_tokens(tokens: Any = S.tokens, fit: Any = _MUENNIGHOFF) -> Expr:
    """The compute-optimal parameter count for D training tokens, G (D G)^{a/b} = G (D G)^{β/α}.

    Muennighoff et al.'s U_N for U_D unique tokens (their ``D_to_N``).

    >>> f"{float(params_for_tokens(25e9)):.4g}"
    '1.275e+09'
    """
    fit = get_fit(fit)
    if not isinstance(fit, ParametricFit):
        raise SymcalcError(f"fit {fit.name} has no frontier N_opt(D); use a parametric fit")
    law = _law(fit, 6)
    values = {_G: law["G"], _A_EXP: law["a"], _B_EXP: law["b"], S.tokens: as_positive("tokens", tokens),
              S.flops_per_param_token: 6}
    with evaluate(False):  # numbers stay unevaluated powers: no nth roots of huge integers
        return _tokens_to_params().xreplace(values)


def _numeric(*values: Expr) -> bool:
    return not any(v.free_symbols for v in values)


def effective_tokens(tokens: Any = S.tokens, unique_tokens: Any = S.unique_tokens, fit: Any = _MUENNIGHOFF) -> Expr:
    """D' = U + U R_D*(1 − e^{−(D/U − 1)/R_D*}) when D > U, else D (Muennighoff et al. 2023, eq. 5).

    >>> f"{float(effective_tokens(4 * 10**9, 10**9)):.4g}"    # 4 epochs are worth 3.73 unique epochs
    '3.726e+09'
    """
    fit = _fit(fit)
    D, U, R = as_positive("tokens", tokens), as_positive("unique_tokens", unique_tokens), fit.repeat_tokens
    with evaluate(False):
        repeated = U + U * R * (1 - exp(-(D / U - 1) / R))
    if _numeric(D, U):
        return D if D <= U else repeated
    return Piecewise((D, D <= U), (repeated, True))


def effective_params(n_params: Any = S.n_params, unique_tokens: Any = S.unique_tokens, fit: Any = _MUENNIGHOFF) -> Expr:
    """N' = U_N + U_N R_N*(1 − e^{−(N/U_N − 1)/R_N*}) with U_N = min(N, N_opt(U)) (eq. 6)."""
    fit = _fit(fit)
    N = as_positive("n_params", n_params)
    un = params_for_tokens(unique_tokens, fit)
    R = fit.repeat_params
    with evaluate(False):
        excess = un + un * R * (1 - exp(-(N / un - 1) / R))
    if _numeric(N, un):
        return N if (N - un).evalf(50) <= 0 else excess
    return Piecewise((N, N <= un), (excess, True))


def data_constrained_loss(n_params: Any, tokens: Any, unique_tokens: Any, fit: Any = _MUENNIGHOFF) -> Expr:
    """L(N', D') = E + A/N'^α + B/D'^β.

    >>> print(f"{float(data_constrained_loss(6.34e9, 242e9, 25e9)):.10f}")   # Muennighoff et al., Figure 1
    2.2256440890
    """
    fit = _fit(fit)
    n_eff, d_eff = effective_params(n_params, unique_tokens, fit), effective_tokens(tokens, unique_tokens, fit)
    with evaluate(False):
        return fit.E + fit.A / n_eff**fit.alpha + fit.B / d_eff**fit.beta


@dataclass(frozen=True, repr=False)
class DataConstrainedOptimum(Readable):
    """The compute-optimal allocation when only U unique tokens exist."""

    compute: Expr
    unique_tokens: Expr
    n_params: Expr
    tokens: Expr
    loss: Expr
    reference: ComputeOptimum
    fit: Fit

    def __post_init__(self) -> None:
        check_fields(self, ("compute", "unique_tokens", "n_params", "tokens", "loss"), types={"reference": ComputeOptimum})

    @property
    def title(self) -> str:
        """The heading its table prints under."""
        return f"{self.fit.name} at C = {fmt(self.compute, 'FLOP')} with {fmt(self.unique_tokens, 'tokens')} unique"

    @property
    def epochs(self) -> Expr:
        """Passes over the unique data: D / U_D."""
        return self.tokens / self.unique_tokens

    def _rows(self):
        return [("params", "N", self.n_params, "parameters"), ("tokens", "D", self.tokens, "tokens"),
                ("epochs", "epochs", self.epochs, ""),
                ("effective_params", "N'", effective_params(self.n_params, self.unique_tokens, self.fit), "parameters"),
                ("effective_tokens", "D'", effective_tokens(self.tokens, self.unique_tokens, self.fit), "tokens"),
                ("loss", "loss", self.loss, "nats/token"),
                ("unconstrained_params", "N (unlimited data)", self.reference.n_params, "parameters"),
                ("unconstrained_tokens", "D (unlimited data)", self.reference.tokens, "tokens"),
                ("unconstrained_loss", "loss (unlimited data)", self.reference.loss, "nats/token")]

    def to_json(self) -> dict[str, Any]:
        """Plain floats for ``--json``."""
        return {"compute": float(self.compute), "unique_tokens": float(self.unique_tokens), **super().to_json(),
                "fit": {"name": self.fit.name, "source": self.fit.source}}


def regime_losses(fit: ParametricFit, k: Any, N: Expr, C: Expr, U: Expr, UN: Expr) -> dict:
    """The loss along the budget line C = κND in each regime, ``(repeated data?, excess parameters?) -> L(N)``,
    symbolic in N, C, U and U_N (numbers enter at evaluation; ``symcalc._fastgen_scaling`` prints the same forms).
    """
    D = C / (k * N)
    Rd, Rn = fit.repeat_tokens, fit.repeat_params
    d_rep = U + U * Rd * (1 - exp(-(D / U - 1) / Rd))
    n_exc = UN + UN * Rn * (1 - exp(-(N / UN - 1) / Rn))
    return {(False, False): fit.loss(N, D), (True, False): fit.loss(N, d_rep),
            (True, True): fit.loss(n_exc, d_rep), (False, True): fit.loss(n_exc, D)}


def data_constrained_optimal(compute: Any, unique_tokens: Any, fit: Any = _MUENNIGHOFF, *,
                             flops_per_param_token: Any = None) -> DataConstrainedOptimum:
    """N and D minimising the data-constrained loss on C = κ·N·D with U unique tokens.

    >>> opt = data_constrained_optimal(6 * 8.67e9 * 178e9, 25e9)    # the authors' README example
    >>> print(f"{float(opt.tokens):.3g} tokens, {float(opt.epochs):.2g} epochs, {float(opt.n_params):.2g} parameters")
    2.27e+11 tokens, 9.1 epochs, 6.8e+09 parameters
    """
    fit = _fit(fit)
    C = as_positive("compute", compute)
    U = as_positive("unique_tokens", unique_tokens)
    k = _k(fit, flops_per_param_token)
    if C.free_symbols or U.free_symbols:
        raise SymcalcError("the data-constrained optimum is numeric: give compute and unique_tokens as numbers")
    reference = compute_optimal(C, fit, flops_per_param_token=k)
    N, Cs, Us, UN = (Symbol(n, positive=True) for n in ("N", "C", "U", "U_N"))
    loss_of = regime_losses(fit, k, N, Cs, Us, UN)
    with mpmath.workdps(40):
        c_mp, u_mp, un_mp = _mp(C), _mp(U), _mp(params_for_tokens(U, fit))
        nu = c_mp / (_mp(k) * u_mp)  # N at which D = U
        n_ref = _mp(reference.n_params)
        lo_all, hi_all = n_ref / 10**4, n_ref * 10**4
        candidates = []
        for (repeated, excess), expr in loss_of.items():
            lo, hi = lo_all, hi_all
            lo, hi = (lo, min(hi, nu)) if repeated else (max(lo, nu), hi)
            lo, hi = (max(lo, un_mp), hi) if excess else (lo, min(hi, un_mp))
            if not lo < hi:
                continue
            args = (N, Cs, Us, UN)
            loss_f = lambdify(args, expr, "mpmath")
            slope_f = lambdify(args, diff(expr, N), "mpmath")
            at = lambda f, x: f(x, c_mp, u_mp, un_mp)  # noqa: E731
            candidates += [(at(loss_f, lo), lo), (at(loss_f, hi), hi)]
            grid = [lo * (hi / lo) ** (mpmath.mpf(i) / 64) for i in range(65)]
            for a, b in zip(grid, grid[1:]):  # a root on a grid point (slope 0 there) is found once
                if at(slope_f, a) < 0 <= at(slope_f, b):
                    root = bisect_increasing(lambda x: at(slope_f, x), a, b)
                    candidates.append((at(loss_f, root), root))
    best_loss, best_n = min(candidates, key=lambda t: t[0])
    n = Float(best_n, 30)
    d = Float((C / (k * n)).evalf(30), 30)
    return DataConstrainedOptimum(C, U, n, d, Float(best_loss, 30), reference, fit)
