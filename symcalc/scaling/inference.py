"""The inference-aware optimum (Sardana et al. 2023, "Beyond Chinchilla-Optimal").

Train and serve a model of a target quality 𝓛 with the least lifetime compute

.. math::

    T = \\kappa N D + \\kappa_{\\mathrm{inf}} N D_{\\mathrm{inf}}
    \\quad\\text{subject to}\\quad E + \\frac{A}{N^{\\alpha}} + \\frac{B}{D^{\\beta}} = \\mathcal{L}

(κ = 6 training and κ_inf = 2 inference FLOPs per parameter per token; D_inf the tokens served).
Substituting N(D) from the constraint and setting d log T/dD = 0 gives (derived by sympy,
:func:`symcalc.scaling.derive.inference_condition`)

.. math::

    F(D) = \\alpha\\kappa(\\mathcal{L} - E) D^{1+\\beta} - \\kappa B (\\alpha + \\beta) D
           - \\beta B \\kappa_{\\mathrm{inf}} D_{\\mathrm{inf}} = 0,

which has one positive root (F < 0 where A/N^α → 0, F → +∞): found by bisection to 30 digits. With
D_inf = 0 it is Chinchilla's optimum at that loss, D = (B(α+β)/(α(𝓛−E)))^{1/β}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
from sympy import Expr, Float, lambdify
from sympy.core.parameters import evaluate

from .. import symbols as S
from ..defaults import resolve
from ..errors import SymcalcError
from ..inputs import as_amount, as_positive
from .derive import inference_condition
from .fits import CHINCHILLA, Fit, ParametricFit, get_fit
from .optimum import ComputeOptimum, _k, compute_for_loss, compute_optimal
from .._scalefmt import inference_rows, inference_title
from .result import Readable, check_fields, nearest_float

def _mp(x: Any) -> Any:
    """A sympy number as an mpmath float at 60 digits."""
    return mpmath.mpf(str(x.evalf(60))) if hasattr(x, "evalf") else mpmath.mpf(x)


__all__ = ["InferenceOptimum", "inference_optimal", "bisect_increasing"]


def bisect_increasing(f, lo: Any, hi: Any, *, digits: int = 30) -> Any:
    """The root of an increasing function between lo (f < 0) and hi (f > 0), bisected in log space."""
    with mpmath.workdps(digits + 20):
        a, b = mpmath.log(mpmath.mpf(lo)), mpmath.log(mpmath.mpf(hi))
        for _ in range(400):
            m = (a + b) / 2
            if f(mpmath.exp(m)) > 0:
                b = m
            else:
                a = m
            if b - a < mpmath.mpf(10) ** -(digits + 5):
                break
        return mpmath.exp((a + b) / 2)


@dataclass(frozen=True, repr=False)
class InferenceOptimum(Readable):
    """Train-and-serve optimum at a target loss, beside the Chinchilla-optimal model of that loss."""

    loss: Expr
    inference_tokens: Expr
    n_params: Expr
    tokens: Expr
    flops_per_param_token: Expr
    inference_flops_per_param_token: Expr
    reference: ComputeOptimum
    condition: Expr
    fit: Fit = CHINCHILLA

    def __post_init__(self) -> None:
        check_fields(self, ("loss", "inference_tokens", "n_params", "tokens", "flops_per_param_token",
                            "inference_flops_per_param_token", "condition"), types={"reference": ComputeOptimum})

    @property
    def title(self) -> str:
        """The heading its table prints under."""
        return inference_title(self.fit.name, nearest_float(self.loss), nearest_float(self.inference_tokens))

    @property
    def training_compute(self) -> Expr:
        """FLOPs of training: κ N D."""
        return self.flops_per_param_token * self.n_params * self.tokens

    @property
    def inference_compute(self) -> Expr:
        """FLOPs of serving the inference tokens: κ_inf N D_inf."""
        return self.inference_flops_per_param_token * self.n_params * self.inference_tokens

    @property
    def total_compute(self) -> Expr:
        """Lifetime FLOPs: training plus inference."""
        return self.training_compute + self.inference_compute

    @property
    def reference_total_compute(self) -> Expr:
        """Lifetime FLOPs of the Chinchilla-optimal model of the same loss serving the same tokens."""
        ref = self.reference
        with evaluate(False):  # the reference's exact powers stay unevaluated (no factoring of C)
            return ref.compute + self.inference_flops_per_param_token * ref.n_params * self.inference_tokens

    def _rows(self):
        return inference_rows(self.n_params, self.tokens, self.tokens / self.n_params, self.training_compute,
                              self.inference_compute, self.total_compute, self.reference.n_params,
                              self.reference_total_compute,
                              1 - self.total_compute / Float(self.reference_total_compute.evalf(30), 30))

    def to_json(self) -> dict[str, Any]:
        """Plain floats for ``--json``."""
        return {"loss": nearest_float(self.loss), "inference_tokens": nearest_float(self.inference_tokens), **super().to_json(),
                "fit": {"name": self.fit.name, "source": self.fit.source}}


def inference_optimal(inference_tokens: Any, loss: Any = None, fit: Any = CHINCHILLA, *, compute: Any = None,
                      flops_per_param_token: Any = None, inference_flops_per_param_token: Any = None) -> InferenceOptimum:
    """The N and D minimising training plus inference compute at a target loss (Sardana et al. 2023).

    Give the target as ``loss`` or as ``compute`` (the loss of the compute-optimal model at C:
    "a model as good as the Chinchilla-optimal one, cheaper to serve").

    >>> opt = inference_optimal("1e13", compute="1e23")     # serve 10T tokens
    >>> print(f"{float(opt.n_params):.3g} {float(opt.tokens):.3g} {float(opt.reference.n_params):.3g}")
    6.09e+09 3.78e+12 1.46e+10

    References
    ==========

    Sardana, Portes, Doubov, Frankle 2023, "Beyond Chinchilla-Optimal: Accounting for Inference in
    Language Model Scaling Laws" (arXiv:2401.00448), §2 (the compute objective).
    """
    fit = get_fit(fit)
    if not isinstance(fit, ParametricFit):
        raise SymcalcError(f"fit {fit.name} has no loss L(N, D); the inference-aware optimum needs a parametric fit")
    d_inf = as_amount("inference_tokens", inference_tokens)
    k = _k(fit, flops_per_param_token)
    k_inf = as_positive("inference_flops_per_param_token", resolve("inference_flops_per_param_token",
                                                                   inference_flops_per_param_token))
    if (loss is None) == (compute is None):
        raise SymcalcError("give exactly one target: loss= (nats per token) or compute= (the Chinchilla-optimal loss at C)")
    if compute is not None:
        ref = compute_optimal(compute, fit, flops_per_param_token=k)
        ell = ref.loss
        ref = ComputeOptimum(ref.compute, ref.n_params, ref.tokens, ell, k, fit)
    else:
        ref = compute_for_loss(loss, fit, flops_per_param_token=k)
        ell = ref.loss
    cond = inference_condition()
    ell_f = Float(ell.evalf(50), 50)  # the root is numeric: the loss enters as 50 digits
    values = {**fit.values(), S.flops_per_param_token: k, S.inference_flops_per_param_token: k_inf,
              S.inference_tokens: d_inf, S.loss: ell_f}
    F = cond["F"].xreplace(values)
    n_of_d = cond["params_of_tokens"].xreplace(values)
    f = lambdify(S.tokens, F, "mpmath")
    with mpmath.workdps(50):
        lo = (_mp(fit.B) / (_mp(ell_f) - _mp(fit.E))) ** (1 / _mp(fit.beta)) * (1 + mpmath.mpf(10) ** -40)
        hi = max(2 * lo, 2 * _mp(ref.tokens))
        while f(hi) <= 0:
            hi *= 2
        root = bisect_increasing(f, lo, hi)
    d = Float(root, 30)
    n = Float(n_of_d.subs(S.tokens, d).evalf(30), 30)
    return InferenceOptimum(ell, d_inf, n, d, k, k_inf, ref, F, fit)
