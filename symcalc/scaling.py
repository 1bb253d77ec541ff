"""Scaling laws: Chinchilla's parametric loss and its compute-optimal frontier; Kaplan's 6N.

Conventions
-----------
- ``N`` is the parameter count, ``D`` the tokens trained on, ``C`` the training compute in
  FLOP (the symbols :data:`~symcalc.symbols.n_params`, :data:`~symcalc.symbols.tokens`,
  :data:`~symcalc.symbols.compute`). Loss is in nats per token.
- The published constants are kept exact: ``Rational("406.4")``, never the float 406.4, so the
  closed forms stay exact until you ask for digits (``.evalf()``).
- "Compute-optimal" means the (N, D) minimising L(N, D) on the curve C = k·N·D. With k = 6
  (Kaplan et al. 2020, §2.1: 6 FLOPs per parameter per token for a forward and backward pass)
  this is Chinchilla's eq. (4). With the FLOPs per token of a real model shape
  (:func:`compute_optimal_shape`), C = F(x)·D and N = N(x) for one free size x.

>>> from symcalc.scaling import compute_optimal
>>> opt = compute_optimal(10**24)
>>> round(float(opt.n_params) / 1e9, 1), round(float(opt.tokens) / 1e12, 2)
(41.3, 4.04)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional

from sympy.core.parameters import evaluate
from sympy import Expr, Integer, Rational, Symbol, diff, solve

from . import symbols as S
from .breakdown import Breakdown
from .display import html_table, latex_number, quantity, readable, significant
from .errors import SymcalcError
from .inputs import as_callable, as_expr, as_int, as_model, as_positive, as_size, as_symbol

__all__ = [
    "ChinchillaFit", "CHINCHILLA", "chinchilla_loss", "compute_optimal", "ComputeOptimum",
    "compute_optimal_shape", "kaplan_flops_per_token", "kaplan_compute", "tokens_per_param",
    "frontier_exponents", "symbolic_frontier", "FIT_SYMBOLS",
]

#: Kaplan et al. 2020 §2.1: C ≈ 6N FLOPs per training token (2N forward, 4N backward).
KAPLAN_FLOPS_PER_PARAM_TOKEN = Integer(6)


@dataclass(frozen=True)
class ChinchillaFit:
    """The constants of L(N, D) = E + A/N^α + B/D^β, exact.

    The default values are Hoffmann et al. 2022's approach-3 fit (§3.3 and Appendix D.2):
    E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28.
    """

    E: Expr = Rational("1.69")
    A: Expr = Rational("406.4")
    B: Expr = Rational("410.7")
    alpha: Expr = Rational("0.34")
    beta: Expr = Rational("0.28")

    def __post_init__(self) -> None:
        for name in ("E", "A", "B", "alpha", "beta"):
            object.__setattr__(self, name, as_positive(f"ChinchillaFit.{name}", getattr(self, name)))


#: Hoffmann et al. 2022 ("Chinchilla"), approach 3.
CHINCHILLA = ChinchillaFit()


def chinchilla_loss(n_params: Any = S.n_params, tokens: Any = S.tokens, fit: ChinchillaFit = CHINCHILLA) -> Expr:
    """Chinchilla's parametric loss in nats per token.

    .. math::

        L(N, D) = E + \\frac{A}{N^{\\alpha}} + \\frac{B}{D^{\\beta}}

    Examples
    ========

    >>> from symcalc.scaling import chinchilla_loss
    >>> chinchilla_loss()
    169/100 + 4107/(10*tokens**(7/25)) + 2032/(5*n_params**(17/50))
    >>> round(float(chinchilla_loss(70 * 10**9, 1400 * 10**9)), 3)
    1.937

    Parameters
    ==========

    n_params : parameters N (a count)
    tokens : training tokens D
    fit : the constants (default :data:`CHINCHILLA`)

    References
    ==========

    Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models", eq. (2) and §3.3.
    """
    return _loss(as_positive("n_params", n_params), as_positive("tokens", tokens), _fit(fit))


def _loss(N: Expr, D: Expr, fit: "ChinchillaFit") -> Expr:
    """The loss of checked inputs (no assumption queries: safe under ``evaluate(False)``)."""
    return fit.E + fit.A / N**fit.alpha + fit.B / D**fit.beta


#: Symbols of the constants, for the closed forms (the fit's numbers replace them).
FIT_SYMBOLS = {name: Symbol(name, positive=True) for name in ("E", "A", "B", "alpha", "beta")}
_K = Symbol("k", positive=True)


@lru_cache(maxsize=None)
def _frontier() -> Expr:
    """Solve dL/dN = 0 on C = k·N·D once, symbolically in all the constants: N_opt(C)."""
    E, A, B, al, be = (FIT_SYMBOLS[n] for n in ("E", "A", "B", "alpha", "beta"))
    N = Symbol("N", positive=True)
    loss = E + A / N**al + B / (S.compute / (_K * N))**be
    roots = solve(diff(loss, N), N)
    if len(roots) != 1:  # pragma: no cover - sympy's answer is one positive root
        raise RuntimeError(f"unexpected stationary points {roots}")
    return roots[0]


def symbolic_frontier(flops_per_param_token: Any = KAPLAN_FLOPS_PER_PARAM_TOKEN) -> dict[str, Expr]:
    """The loss, N_opt(C), D_opt(C) and G in the symbols E, A, B, α, β (solved by sympy).

    >>> sym = symbolic_frontier()
    >>> sym["G"]
    (A*alpha/(B*beta))**(1/(alpha + beta))
    """
    E, A, B, al, be = (FIT_SYMBOLS[n] for n in ("E", "A", "B", "alpha", "beta"))
    k = as_positive("flops_per_param_token", flops_per_param_token)
    n_opt = _frontier().subs(_K, k)
    return {
        "loss": E + A / S.n_params**al + B / S.tokens**be,
        "n_params": n_opt,
        "tokens": S.compute / (k * n_opt),
        "G": (al * A / (be * B))**(1 / (al + be)),
    }


#: Units of a compute-optimal allocation's fields (symcalc.display).
_OPTIMUM_UNITS = {"compute": "FLOP", "n_params": "params", "tokens": "tokens", "loss": "nats",
                  "flops_per_param_token": ""}


@dataclass(frozen=True, repr=False)
class ComputeOptimum:
    """A compute-optimal allocation: exact values, readable when printed.

    Each field is a :class:`~symcalc.display.Quantity` when C is a number (``.exact`` is the
    closed form: roots of large integers), the sympy expression while C is a symbol.
    """

    compute: Expr
    n_params: Expr
    tokens: Expr
    loss: Expr
    flops_per_param_token: Expr

    def __post_init__(self) -> None:
        for name, unit in _OPTIMUM_UNITS.items():
            object.__setattr__(self, name, quantity(as_expr(f"ComputeOptimum.{name}", getattr(self, name)), unit))

    @property
    def tokens_per_param(self) -> Expr:
        """D_opt / N_opt."""
        return quantity(self.tokens / self.n_params, "tokens/param")

    def frontier(self) -> tuple[Expr, Expr, Expr]:
        """(G, a, b) with N_opt = G·(C/k)^a and D_opt = G^-1·(C/k)^b (Chinchilla eq. 4), exact.

        >>> G, a, b = compute_optimal().frontier()
        >>> round(float(G), 4), a, b
        (1.3447, 14/31, 17/31)
        """
        C, k = as_expr("compute", self.compute), as_expr("k", self.flops_per_param_token)
        n = as_expr("n_params", self.n_params)
        if C != S.compute:
            n = compute_optimal(S.compute, flops_per_param_token=k).n_params if not C.free_symbols else n.subs(C, S.compute)
        coeff, a = n.as_coeff_exponent(S.compute)
        return coeff * k**a, a, 1 - a

    def _rows(self) -> list[tuple[str, str, Any]]:
        return [("N_opt", "parameters", self.n_params), ("D_opt", "tokens", self.tokens),
                ("D/N", "tokens per parameter", self.tokens_per_param), ("loss", "nats per token", self.loss)]

    def __str__(self) -> str:
        k = readable(self.flops_per_param_token)
        head = f"compute-optimal allocation of C = {readable(self.compute, 'FLOP')} (C = {k}·N·D)"
        if as_expr("compute", self.compute).free_symbols:
            G, a, b = self.frontier()
            return "\n".join([head, f"  N_opt  = G·(C/{k})^a  with G ≈ {significant(G, 4)}, a = {a} ≈ {significant(a, 4)}",
                              f"  D_opt  = (C/{k})^b / G  with b = {b} ≈ {significant(b, 4)}",
                              "  (exact forms: .n_params, .tokens, .loss)"])
        return "\n".join([head] + [f"  {name:<6} ≈ {v}" for name, _, v in self._rows()])

    def __repr__(self) -> str:
        if as_expr("compute", self.compute).free_symbols:
            G, a, b = self.frontier()
            k = readable(self.flops_per_param_token)
            return (f"ComputeOptimum(N_opt = G·(C/{k})^a, D_opt = (C/{k})^b / G; G ≈ {significant(G, 4)}, "
                    f"a = {a}, b = {b}; exact forms: .n_params, .tokens)")
        return f"ComputeOptimum(C={self.compute}: N_opt ≈ {self.n_params}, D_opt ≈ {self.tokens}, loss ≈ {self.loss})"

    def _repr_html_(self) -> str:
        rows = [(name, readable(v, ""), unit) if as_expr(name, v).free_symbols else
                (name, significant(v), unit) for name, unit, v in self._rows()]
        return html_table(rows, header=("", "value", "unit"),
                          title=f"compute-optimal allocation of C = {readable(self.compute, 'FLOP')}")

    def _repr_latex_(self) -> str:
        from .render import latex

        names = {"N_opt": r"N_{\mathrm{opt}}", "D_opt": r"D_{\mathrm{opt}}", "D/N": r"D/N", "loss": r"L"}
        if as_expr("compute", self.compute).free_symbols:
            from .render import frontier_latex

            return "$" + r",\quad ".join(frontier_latex(self)[:2]) + "$"
        return "$" + r",\quad ".join(f"{names[n]} \\approx {latex_number(v, u)}" for n, u, v in
                                      zip(names, ("params", "tokens", "", "nats"), (r[2] for r in self._rows()))) + "$"

    def to_json(self) -> dict[str, Any]:
        """Floats for printing (the exact forms stay on the object)."""
        return {
            "compute": float(self.compute),
            "params": float(self.n_params),
            "tokens": float(self.tokens),
            "tokens_per_param": float(self.tokens_per_param),
            "loss": float(self.loss),
            "flops_per_param_token": float(self.flops_per_param_token),
        }


def compute_optimal(compute: Any = S.compute, fit: ChinchillaFit = CHINCHILLA, *,
                    flops_per_param_token: Any = KAPLAN_FLOPS_PER_PARAM_TOKEN) -> ComputeOptimum:
    """Compute-optimal N and D minimising :func:`chinchilla_loss` on C = k·N·D (k = 6).

    Substituting D = C/(kN) and solving dL/dN = 0 (done by sympy, once) gives

    .. math::

        N_{\\mathrm{opt}}(C) = G \\left(\\frac{C}{6}\\right)^{\\frac{\\beta}{\\alpha+\\beta}},\\quad
        D_{\\mathrm{opt}}(C) = G^{-1} \\left(\\frac{C}{6}\\right)^{\\frac{\\alpha}{\\alpha+\\beta}},\\quad
        G = \\left(\\frac{\\alpha A}{\\beta B}\\right)^{\\frac{1}{\\alpha+\\beta}}

    Examples
    ========

    >>> from symcalc.scaling import compute_optimal
    >>> opt = compute_optimal()             # symbolic in C
    >>> opt.n_params.free_symbols, opt.n_params.as_powers_dict()[S.compute]
    ({compute}, 14/31)
    >>> gopher = compute_optimal(Rational("5.76e23"))
    >>> f"{float(gopher.n_params):.3e} {float(gopher.tokens):.3e}"
    '3.219e+10 2.982e+12'

    Parameters
    ==========

    compute : training FLOP C (a number or an expression)
    fit : the loss constants
    flops_per_param_token : k in C = k·N·D (default 6)

    References
    ==========

    Hoffmann et al. 2022, eq. (4) (the efficient frontier of the parametric fit) and Table 2
    (approach 3: N_opt ∝ C^0.46, D_opt ∝ C^0.54); Kaplan et al. 2020 §2.1 for C ≈ 6ND.
    """
    kk = as_positive("flops_per_param_token", flops_per_param_token)
    Cv = as_positive("compute", compute)
    fit = _fit(fit)
    values = {FIT_SYMBOLS[n]: getattr(fit, n) for n in ("A", "B", "alpha", "beta")}
    values[_K] = kk
    n_of_c = _frontier().subs(values)  # c0 * C**(β/(α+β)), exact
    if Cv.free_symbols:
        n_opt = n_of_c.subs(S.compute, Cv)
        d_opt = Cv / (kk * n_opt)
        return ComputeOptimum(Cv, n_opt, d_opt, chinchilla_loss(n_opt, d_opt, fit), kk)
    # A numeric C stays an unevaluated power: sympy would otherwise factor C to simplify C**(14/31).
    with evaluate(False):
        n_opt = n_of_c.xreplace({S.compute: Cv})
        d_opt = Cv / (kk * n_opt)
        loss = _loss(n_opt, d_opt, fit)
    return ComputeOptimum(Cv, n_opt, d_opt, loss, kk)


def frontier_exponents(fit: ChinchillaFit = CHINCHILLA) -> tuple[Expr, Expr]:
    """(a, b) with N_opt ∝ C^a and D_opt ∝ C^b: a = β/(α+β), b = α/(α+β).

    >>> frontier_exponents()
    (14/31, 17/31)
    """
    fit = _fit(fit)
    s = fit.alpha + fit.beta
    return fit.beta / s, fit.alpha / s


def kaplan_flops_per_token(n_params: Any = S.n_params) -> Expr:
    """Training FLOPs per token, Kaplan's C ≈ 6N (Kaplan et al. 2020, §2.1, Table 1).

    >>> kaplan_flops_per_token()
    6*n_params
    """
    return KAPLAN_FLOPS_PER_PARAM_TOKEN * as_positive("n_params", n_params)


def kaplan_compute(n_params: Any = S.n_params, tokens: Any = S.tokens) -> Expr:
    """Training compute C ≈ 6·N·D (Kaplan et al. 2020, §2.1).

    >>> kaplan_compute(70 * 10**9, 1400 * 10**9)
    588000000000000000000000
    """
    return kaplan_flops_per_token(n_params) * as_positive("tokens", tokens)


def tokens_per_param(compute: Any = S.compute, fit: ChinchillaFit = CHINCHILLA) -> Expr:
    """Compute-optimal tokens per parameter, D_opt/N_opt, under C = 6ND.

    >>> round(float(tokens_per_param(10**24)), 1)
    97.7
    """
    return compute_optimal(compute, fit).tokens_per_param


@dataclass(frozen=True)
class ShapeOptimum:
    """The compute-optimal member of a one-size family of models."""

    size: int
    n_params: Expr
    tokens: Expr
    flops_per_token: Expr
    loss: Expr

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", as_int("ShapeOptimum.size", self.size))
        for name in ("n_params", "tokens", "flops_per_token", "loss"):
            object.__setattr__(self, name, as_expr(f"ShapeOptimum.{name}", getattr(self, name)))

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "params": int(self.n_params), "tokens": float(self.tokens),
                "flops_per_token": float(self.flops_per_token), "loss": float(self.loss)}


def _total(value: Any) -> Expr:
    return value.total if isinstance(value, Breakdown) else as_expr("quantity", value)


def _fit(fit: Any) -> "ChinchillaFit":
    if not isinstance(fit, ChinchillaFit):
        raise SymcalcError(f"fit={fit!r:.60} is not a ChinchillaFit; pass ChinchillaFit(E=..., A=..., ...) or CHINCHILLA")
    return fit


def compute_optimal_shape(
    compute: Any,
    model: Any,
    size: Symbol,
    flops_per_token: Optional[Callable[[Any], Any]] = None,
    *,
    fit: ChinchillaFit = CHINCHILLA,
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
    from .params import params

    model, size, fit = as_model("model", model), as_symbol("size", size), _fit(fit)
    step, lo, hi = as_int("multiple_of", multiple_of), as_int("lo", lo), as_int("hi", hi)
    N_x = _total(params(model))
    if flops_per_token is not None:
        F_x = _total(as_callable("flops_per_token", flops_per_token)(model))
    elif seq_len is not None:
        from .flops import training_flops

        F_x = training_flops(model, seq_len=as_size("seq_len", seq_len), tokens=1).total
    else:
        F_x = kaplan_flops_per_token(N_x)
    extra = (N_x.free_symbols | F_x.free_symbols) - {size}
    if extra:
        raise SymcalcError(f"the model family has free sizes {', '.join(sorted(map(str, extra)))} besides {size}; give them values")
    C = as_positive("compute", compute)
    loss_x = chinchilla_loss(N_x, C / F_x, fit)
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
    return ShapeOptimum(x, n, C / F, F, loss_x.subs(size, x))
