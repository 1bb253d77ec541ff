"""The frontier on exact FLOPs of a model shape, as an alternative to C = 6ND.

A family of models with one free size x (e.g. ``d_model``, the others tied to it) has an exact
parameter count N(x) and exact training FLOPs per token F(x) (attention included, from
:func:`symcalc.flops.training_flops`). With D = C/F(x) the loss L(N(x), D) is minimised over the
allowed integers x; :func:`shape_frontier` puts that optimum beside the 6N one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from sympy import Expr, Symbol

from ..breakdown import Breakdown
from ..errors import SymcalcError
from ..inputs import as_callable, as_choice, as_expr, as_int, as_model, as_positive, as_size, as_symbol
from .fits import CHINCHILLA, ParametricFit, get_fit
from .optimum import ComputeOptimum, compute_optimal, kaplan_flops_per_token
from .result import Readable, check_fields

__all__ = ["ShapeOptimum", "compute_optimal_shape", "ShapeFrontier", "shape_frontier"]


@dataclass(frozen=True, repr=False)
class ShapeOptimum(Readable):
    """The compute-optimal member of a one-size family of models."""

    size: int
    n_params: Expr
    tokens: Expr
    flops_per_token: Expr
    loss: Expr
    convention: str = "exact"

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", as_int("ShapeOptimum.size", self.size))
        object.__setattr__(self, "convention", as_choice("ShapeOptimum.convention", self.convention, ("exact", "6N")))
        check_fields(self, ("n_params", "tokens", "flops_per_token", "loss"))

    @property
    def title(self) -> str:
        """The heading its table prints under."""
        return f"optimal shape ({self.convention} FLOPs per token): size {self.size}"

    def _rows(self):
        return [("params", "N", self.n_params, "parameters"), ("tokens", "D", self.tokens, "tokens"),
                ("flops_per_token", "F per token", self.flops_per_token, "FLOP"), ("loss", "loss", self.loss, "nats/token")]

    def to_json(self) -> dict[str, Any]:
        """Plain floats for ``--json``."""
        return {"size": self.size, **super().to_json(), "params": int(self.n_params)}


@dataclass(frozen=True, repr=False)
class ShapeFrontier(Readable):
    """The optimum of a model family on 6N and on exact FLOPs per token, side by side."""

    six_n: ShapeOptimum
    exact_flops: ShapeOptimum
    closed_form: Any

    title = "frontier on exact FLOPs vs 6N"

    def __post_init__(self) -> None:
        check_fields(self, types={"six_n": ShapeOptimum, "exact_flops": ShapeOptimum, "closed_form": ComputeOptimum})

    def _rows(self):
        e, s = self.exact_flops, self.six_n
        return [("size_6n", "size (6N)", s.size, ""), ("size_exact", "size (exact)", e.size, ""),
                ("params_6n", "N (6N)", s.n_params, "parameters"), ("params_exact", "N (exact)", e.n_params, "parameters"),
                ("tokens_6n", "D (6N)", s.tokens, "tokens"), ("tokens_exact", "D (exact)", e.tokens, "tokens"),
                ("flops_ratio", "F exact / 6N", e.flops_per_token / (6 * e.n_params), ""),
                ("loss_6n", "loss (6N)", s.loss, "nats/token"), ("loss_exact", "loss (exact)", e.loss, "nats/token")]

    def to_json(self) -> dict[str, Any]:
        """Plain floats for ``--json``."""
        return {"six_n": self.six_n.to_json(), "exact": self.exact_flops.to_json(), "closed_form": self.closed_form.to_json(),
                "difference": {"params": float(self.exact_flops.n_params / self.six_n.n_params - 1),
                               "tokens": float(self.exact_flops.tokens / self.six_n.tokens - 1),
                               "loss": float(self.exact_flops.loss - self.six_n.loss)}}


def _total(value: Any) -> Expr:
    return value.total if isinstance(value, Breakdown) else as_expr("flops_per_token", value)


def compute_optimal_shape(
    compute: Any,
    model: Any,
    size: Symbol,
    flops_per_token: Optional[Callable[[Any], Any]] = None,
    *,
    fit: Any = CHINCHILLA,
    seq_len: Any = None,
    multiple_of: int = 1,
    lo: int = 1,
    hi: int = 2**20,
) -> ShapeOptimum:
    """The compute-optimal size ``x`` of a model family, with C = F(x)·D exactly.

    ``model`` is a :class:`~symcalc.model.Model` whose sizes depend on the one symbol ``size``
    (e.g. ``d_model`` with ``n_layers = d_model/128``); N(x) is its exact parameter count and
    F(x) its training FLOPs per token: ``flops_per_token(model)`` when given, else symcalc's exact
    :func:`~symcalc.flops.training_flops` per token at ``seq_len`` when given, else Kaplan's 6·N(x).
    With D = C/F(x), L(N(x), D) is minimised over allowed integers x (multiples of
    ``multiple_of`` in [lo, hi]) by a ternary search on the exact loss (evaluated to 30 digits);
    this is a search, not a closed form (the optimum solves a polynomial equation of high degree).

    >>> from symcalc import Model
    >>> from symcalc.symbols import d_model as h
    >>> fam = Model(n_layers=h / 128, d_model=h, n_heads=h / 128, n_kv_heads=h / 128, d_ff=4 * h, vocab=32000)
    >>> opt = compute_optimal_shape(10**22, fam, h, multiple_of=128)
    >>> opt.size, f"{float(opt.n_params):.2e}"
    (3712, '5.03e+09')
    >>> opt = compute_optimal_shape(10**22, fam, h, multiple_of=128, seq_len=2048)  # exact FLOPs
    >>> opt.size, f"{float(opt.n_params):.2e}"
    (3712, '5.03e+09')

    References
    ==========

    Hoffmann et al. 2022, eq. (2); Kaplan et al. 2020 §2.1.
    """
    from ..params import params

    model, size, fit = as_model("model", model), as_symbol("size", size), get_fit(fit)
    if not isinstance(fit, ParametricFit):
        raise SymcalcError(f"fit {fit.name} has no loss L(N, D) to minimise over a model family; use a parametric fit")
    step, lo, hi = as_int("multiple_of", multiple_of), as_int("lo", lo), as_int("hi", hi)
    N_x = _total(params(model))
    if flops_per_token is not None:
        F_x = _total(as_callable("flops_per_token", flops_per_token)(model))
    elif seq_len is not None:
        from ..flops import training_flops

        F_x = training_flops(model, seq_len=as_size("seq_len", seq_len), tokens=1).total
    else:
        F_x = kaplan_flops_per_token(N_x)
    extra = (N_x.free_symbols | F_x.free_symbols) - {size}
    if extra:
        raise SymcalcError(f"the model family has free sizes {', '.join(sorted(map(str, extra)))} besides {size}; give them values")
    C = as_positive("compute", compute)
    loss_x = fit.loss(N_x, C / F_x)
    k_lo, k_hi = -(-lo // step), hi // step
    if k_lo > k_hi:
        raise SymcalcError(f"no multiple of {step} lies in [{lo}, {hi}]")

    def loss_at(k: int) -> Expr:
        return loss_x.subs(size, k * step).evalf(30)

    # ternary search over the integer index k (x = k·step) on the exact loss, unimodal in x:
    # A/N(x)^α falls and B·(F(x)/C)^β rises
    a, b = k_lo, k_hi
    while b - a > 2:
        third = (b - a) // 3
        if loss_at(a + third) < loss_at(b - third):
            b = b - third - 1
        else:
            a = a + third + 1
    best = min(range(a, b + 1), key=loss_at)
    x = best * step
    n = N_x.subs(size, x)
    F = F_x.subs(size, x)
    return ShapeOptimum(x, n, C / F, F, loss_x.subs(size, x), "exact" if F_x != kaplan_flops_per_token(N_x) else "6N")


def shape_frontier(compute: Any, model: Any, size: Symbol, *, seq_len: Any, fit: Any = CHINCHILLA,
                   multiple_of: int = 1, lo: int = 1, hi: int = 2**20) -> ShapeFrontier:
    """The family's optimum with C = 6N·D and with C = F_exact·D (attention included), and the 6N closed form.

    >>> from symcalc import Model
    >>> from symcalc.symbols import d_model as h
    >>> fam = Model(n_layers=h / 128, d_model=h, n_heads=h / 128, n_kv_heads=h / 128, d_ff=4 * h, vocab=32000)
    >>> sf = shape_frontier(10**22, fam, h, seq_len=32768, multiple_of=128)
    >>> sf.six_n.size, sf.exact_flops.size
    (3712, 3584)
    """
    six = compute_optimal_shape(compute, model, size, fit=fit, multiple_of=multiple_of, lo=lo, hi=hi)
    exact = compute_optimal_shape(compute, model, size, fit=fit, seq_len=seq_len, multiple_of=multiple_of, lo=lo, hi=hi)
    return ShapeFrontier(six, exact, compute_optimal(compute, fit))
