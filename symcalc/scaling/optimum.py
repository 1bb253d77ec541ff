"""Compute-optimal allocations, the loss on the frontier and its inverse, for every fit.

For a :class:`~symcalc.scaling.fits.ParametricFit` the closed forms come from
:func:`symcalc.scaling.derive.frontier` (derived once, cached) with the fit's numbers substituted:

.. math::

    N_{\\mathrm{opt}}(C) = G \\left(\\frac{C}{\\kappa}\\right)^{a},\\quad
    D_{\\mathrm{opt}}(C) = G^{-1} \\left(\\frac{C}{\\kappa}\\right)^{b},\\quad
    G = \\left(\\frac{\\alpha A}{\\beta B}\\right)^{\\frac{1}{\\alpha+\\beta}},\\
    a = \\frac{\\beta}{\\alpha+\\beta},\\ b = \\frac{\\alpha}{\\alpha+\\beta},

    L^{*}(C) = E + K \\left(\\frac{C}{\\kappa}\\right)^{-\\gamma},\\quad \\gamma = \\frac{\\alpha\\beta}{\\alpha+\\beta},
    \\quad C(\\mathcal{L}) = \\kappa \\left(\\frac{K}{\\mathcal{L} - E}\\right)^{1/\\gamma}

(Hoffmann et al. 2022, eq. 4). An :class:`~symcalc.scaling.fits.AllocationFit` is its published
power law. κ = 6 FLOPs per parameter per token (Kaplan et al. 2020, §2.1) unless the fit says
otherwise (DeepSeek: C = M·D).

>>> from symcalc.scaling import compute_optimal
>>> compute_optimal(10**24)
ComputeOptimum(chinchilla at C = 1e24 FLOP: N_opt ≈ 4.13e10 parameters (41.3 B), D_opt ≈ 4.04e12 tokens (4.04 T), D/N ≈ 97.7, loss ≈ 1.91 nats/token)
>>> compute_optimal(5.76e23, "chinchilla-1").n_params.evalf(3)
6.86e+10
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from sympy import Expr, Integer
from sympy.core.parameters import evaluate

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_expr, as_positive
from .derive import frontier, inverse_frontier
from .fits import CHINCHILLA, PF_DAY, AllocationFit, Fit, KaplanFit, ParametricFit, get_fit
from .._scalefmt import optimum_rows
from .result import Readable, check_fields, fmt, nearest_float

__all__ = ["ComputeOptimum", "compute_optimal", "loss_at_compute", "compute_for_loss", "frontier_exponents",
           "symbolic_frontier", "tokens_per_param", "chinchilla_loss", "kaplan_flops_per_token",
           "kaplan_compute", "KAPLAN_FLOPS_PER_PARAM_TOKEN", "law_latex", "compute_cost"]

#: Kaplan et al. 2020 §2.1: C ≈ 6N FLOPs per training token (2N forward, 4N backward).
KAPLAN_FLOPS_PER_PARAM_TOKEN = Integer(6)


def _k(fit: Fit, flops_per_param_token: Any) -> Expr:
    if flops_per_param_token is None:
        return fit.flops_per_param_token if isinstance(fit, AllocationFit) else KAPLAN_FLOPS_PER_PARAM_TOKEN
    return as_positive("flops_per_param_token", flops_per_param_token)


@lru_cache(maxsize=64)
def _law(fit: ParametricFit, k: Expr) -> dict[str, Expr]:
    """The frontier's constants for one fit and κ: G, a, b, γ, K (exact numbers)."""
    values = {**fit.values(), S.flops_per_param_token: k}
    f = frontier()
    return {name: f[name].xreplace(values) for name in ("G", "a", "b", "gamma", "K")}


@dataclass(frozen=True, repr=False)
class ComputeOptimum(Readable):
    """A compute-optimal allocation: exact expressions (numbers when C is a number), printed as decimals."""

    compute: Expr
    n_params: Expr
    tokens: Expr
    loss: Optional[Expr]
    flops_per_param_token: Expr
    fit: Fit = CHINCHILLA

    def __post_init__(self) -> None:
        from ..display import quantity

        check_fields(self, ("compute", "n_params", "tokens", "flops_per_param_token"), ("loss",))
        units = {"compute": "FLOP", "n_params": "" if getattr(self.fit, "scale", "params") != "params" else "params",
                 "tokens": "tokens", "loss": "nats", "flops_per_param_token": ""}
        for name, unit in units.items():  # readable when printed (symcalc.display), exact underneath (.exact)
            if getattr(self, name) is not None:
                object.__setattr__(self, name, quantity(getattr(self, name), unit))

    def frontier(self) -> tuple[Expr, Expr, Expr]:
        """(G, a, b) with N_opt = G·(C/κ)^a and D_opt = G^-1·(C/κ)^b (Hoffmann et al. eq. 4), exact.

        >>> G, a, b = compute_optimal().frontier()
        >>> round(float(G), 4), a, b
        (1.3447, 14/31, 17/31)
        """
        k = as_expr("k", self.flops_per_param_token)
        if isinstance(self.fit, ParametricFit):
            law = _law(self.fit, k)
            return law["G"], law["a"], law["b"]
        a = self.fit.exponent
        return self.fit.coef * (k / self.fit.unit) ** a, a, 1 - a

    def __str__(self) -> str:
        if not as_expr("compute", self.compute).free_symbols:
            return super().__str__()
        from ..display import readable, significant

        k = as_expr("k", self.flops_per_param_token)
        G, a, b = self.frontier()
        return "\n".join([f"compute-optimal allocation of C = {readable(self.compute, 'FLOP')} (C = {k}·N·D)",
                          f"  N_opt  = G·(C/{k})^a  with G ≈ {significant(G, 4)}, a = {a} ≈ {significant(a, 4)}",
                          f"  D_opt  = (C/{k})^b / G  with b = {b} ≈ {significant(b, 4)}",
                          "  (exact forms: .n_params, .tokens, .loss)"])

    @property
    def title(self) -> str:
        """The heading its table prints under."""
        c = as_expr("compute", self.compute)
        return f"{self.fit.name} at C = {fmt(c, 'FLOP')}" if not c.free_symbols else f"{self.fit.name} at C"

    @property
    def tokens_per_param(self) -> Expr:
        """D_opt / N_opt (unevaluated for a numeric C: no factoring of C's powers)."""
        from ..display import quantity

        with evaluate(bool(as_expr("compute", self.compute).free_symbols)):
            ratio = as_expr("tokens", self.tokens) / as_expr("n_params", self.n_params)
        return quantity(ratio, "tokens/param")

    def _rows(self):
        scale = getattr(self.fit, "scale", "params")
        return optimum_rows(scale, self.n_params, self.tokens, self.tokens_per_param if scale == "params" else None,
                            self.loss)

    def __repr__(self) -> str:
        if as_expr("compute", self.compute).free_symbols:
            from ..display import readable, significant

            G, a, b = self.frontier()
            k = readable(self.flops_per_param_token)
            return (f"ComputeOptimum({self.fit.name}: N_opt = G·(C/{k})^a, D_opt = (C/{k})^b / G; "
                    f"G ≈ {significant(G, 4)}, a = {a}, b = {b}; exact forms: .n_params, .tokens)")
        return super().__repr__()

    def _repr_html_(self) -> str:
        if as_expr("compute", self.compute).free_symbols:
            import html

            return "<pre>" + html.escape(str(self)) + "</pre>"
        return super()._repr_html_()

    def _repr_latex_(self) -> str:
        if as_expr("compute", self.compute).free_symbols:
            return "$" + r",\quad ".join(law_latex(self.fit, self.flops_per_param_token).splitlines()[:2]) + "$"
        return super()._repr_latex_()

    def to_json(self) -> dict[str, Any]:
        """Plain floats for ``--json``."""
        out = {"compute": nearest_float(self.compute), **super().to_json(),
               "flops_per_param_token": nearest_float(self.flops_per_param_token)}
        out.setdefault("tokens_per_param", nearest_float(self.tokens_per_param))
        if getattr(self.fit, "scale", "params") == "flops_per_token":
            out["flops_per_token"] = out["params"]
            out["params"] = nearest_float(self.n_params / 6)  # DeepSeek's M as 6N-equivalent parameters
        out["fit"] = {"name": self.fit.name, "source": self.fit.source}
        return out

    def latex(self) -> str:
        """The law this optimum evaluates, in the paper's notation (see :func:`law_latex`)."""
        return law_latex(self.fit, self.flops_per_param_token)


def compute_optimal(compute: Any = S.compute, fit: Any = CHINCHILLA, *,
                    flops_per_param_token: Any = None) -> ComputeOptimum:
    """Compute-optimal N and D for a training budget C under ``fit`` (default Chinchilla approach 3).

    For a parametric fit this evaluates the derived closed form (no equation is solved per call);
    for an allocation fit, its published power law. A symbolic C gives expressions in C.

    Examples
    ========

    >>> from sympy import Rational
    >>> opt = compute_optimal()             # symbolic in C
    >>> opt.n_params.free_symbols, opt.n_params.as_powers_dict()[S.compute]
    ({compute}, 14/31)
    >>> gopher = compute_optimal("5.76e23")
    >>> f"{float(gopher.n_params):.3e} {float(gopher.tokens):.3e}"
    '3.219e+10 2.982e+12'
    >>> print(compute_optimal(5.76e23, "besiroglu"))
    besiroglu at C = 5.76e23 FLOP
      N_opt  ≈ 7.22e10 parameters (72.2 B)
      D_opt  ≈ 1.33e12 tokens (1.33 T)
      D/N    ≈ 18.4
      loss   ≈ 1.97 nats/token

    Parameters
    ==========

    compute : training FLOP C (a number, numeric string such as ``"5.76e23"``, or an expression)
    fit : a fit or its name (:data:`symcalc.scaling.fits.FITS`)
    flops_per_param_token : κ in C = κ·N·D (default 6; DeepSeek's fit uses C = M·D)

    References
    ==========

    Hoffmann et al. 2022, eq. (4) and Table 2; Kaplan et al. 2020 §2.1 (C ≈ 6ND) and Table 6.
    """
    fit = get_fit(fit)
    return _optimum(as_positive("compute", compute), fit, _k(fit, flops_per_param_token))


def _optimum(C: Expr, fit: Fit, k: Expr) -> ComputeOptimum:
    """The allocation at a checked compute C (no assumption queries: C may be a large unevaluated form)."""
    symbolic = bool(C.free_symbols)
    law = _law(fit, k) if isinstance(fit, ParametricFit) else None  # derived (cached) before evaluate(False)
    with evaluate(symbolic):  # a numeric C stays an unevaluated power (no factoring of C)
        if law is not None:
            n_opt = law["G"] * (C / k) ** law["a"]
            d_opt = C / (k * n_opt)
            loss = fit.E + law["K"] * (C / k) ** -law["gamma"]
        else:
            n_opt = fit.coef * (C / fit.unit) ** fit.exponent
            d_opt = C / (k * n_opt)
            loss = fit.loss(n_opt, d_opt)
    return ComputeOptimum(C, n_opt, d_opt, loss, k, fit)


def loss_at_compute(compute: Any = S.compute, fit: Any = CHINCHILLA, *, flops_per_param_token: Any = None) -> Expr:
    """The loss reachable with compute C: on the frontier of a parametric fit, L*(C) = E + K (C/κ)^{-γ};
    for Kaplan et al., L(C_min) = (C_c/C_min)^{α_C} with C_min = C/2 in PF-days (eq. 1.3).

    >>> round(float(loss_at_compute(10**24)), 4)
    1.9112
    """
    fit = get_fit(fit)
    C = as_positive("compute", compute)
    if isinstance(fit, KaplanFit):
        return (fit.c_c / (C / (2 * PF_DAY))) ** fit.alpha_c
    if not isinstance(fit, ParametricFit):
        raise SymcalcError(f"fit {fit.name} is an allocation law without a loss; use a parametric fit "
                           "(chinchilla, chinchilla-3-tex, besiroglu, muennighoff) or kaplan")
    return compute_optimal(C, fit, flops_per_param_token=flops_per_param_token).loss


def compute_for_loss(loss: Any, fit: Any = CHINCHILLA, *, flops_per_param_token: Any = None) -> ComputeOptimum:
    """The least compute that reaches a target loss, and the allocation there (the frontier inverted).

    >>> opt = compute_for_loss(2)
    >>> print(f"{float(opt.compute):.3e}")
    1.110e+23
    >>> compute_for_loss(1.6)
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: loss=1.6 is not above the fit's irreducible loss E = 1.69 (chinchilla); no compute reaches it
    """
    fit = get_fit(fit)
    ell = as_positive("loss", loss)
    if isinstance(fit, KaplanFit):  # L(C_min) = (C_c/C_min)^α_C inverted, C = 2 C_min
        c = 2 * PF_DAY * fit.c_c * ell ** (-1 / fit.alpha_c)
        return compute_optimal(c, fit, flops_per_param_token=flops_per_param_token)
    if not isinstance(fit, ParametricFit):
        raise SymcalcError(f"fit {fit.name} is an allocation law without a loss; use a parametric fit "
                           "(chinchilla, chinchilla-3-tex, besiroglu, muennighoff) or kaplan")
    if not ell.free_symbols and not (ell - fit.E).evalf(50) > 0:
        raise SymcalcError(f"loss={fmt(ell)} is not above the fit's irreducible loss E = {fmt(fit.E)} ({fit.name}); "
                           "no compute reaches it")
    k = _k(fit, flops_per_param_token)
    law = _law(fit, k)
    with evaluate(bool(ell.free_symbols)):
        c = k * (law["K"] / (ell - fit.E)) ** (1 / law["gamma"])
    opt = _optimum(c, fit, k)
    return ComputeOptimum(opt.compute, opt.n_params, opt.tokens, ell, k, fit)


def frontier_exponents(fit: Any = CHINCHILLA) -> tuple[Expr, Expr]:
    """(a, b) with N_opt ∝ C^a and D_opt ∝ C^b: a = β/(α+β), b = α/(α+β) for a parametric fit.

    >>> frontier_exponents()
    (14/31, 17/31)
    >>> frontier_exponents("kaplan")
    (73/100, 27/100)
    """
    fit = get_fit(fit)
    if isinstance(fit, ParametricFit):
        law = _law(fit, KAPLAN_FLOPS_PER_PARAM_TOKEN)
        return law["a"], law["b"]
    return fit.exponent, 1 - fit.exponent


def symbolic_frontier(flops_per_param_token: Any = KAPLAN_FLOPS_PER_PARAM_TOKEN) -> dict[str, Expr]:
    """The loss, N_opt(C), D_opt(C), G, a, b in the symbols E, A, B, α, β (derived, κ substituted).

    >>> sym = symbolic_frontier()
    >>> sym["G"]
    (exp_params*loss_coef_params/(exp_tokens*loss_coef_tokens))**(1/(exp_params + exp_tokens))
    >>> sym["n_params"]
    (compute/6)**(exp_tokens/(exp_params + exp_tokens))*(exp_params*loss_coef_params/(exp_tokens*loss_coef_tokens))**(1/(exp_params + exp_tokens))
    """
    k = as_positive("flops_per_param_token", flops_per_param_token)
    f = frontier()
    sub = {S.flops_per_param_token: k}
    return {"loss": f["parametric_loss"], "n_params": f["n_params"].xreplace(sub), "tokens": f["tokens"].xreplace(sub),
            "G": f["G"], "a": f["a"], "b": f["b"], "frontier_loss": f["loss"].xreplace(sub),
            "compute_for_loss": inverse_frontier().xreplace(sub)}


def law_latex(fit: Any = CHINCHILLA, flops_per_param_token: Any = None) -> str:
    """The derived (or published) allocation law in the paper's notation, one formula per line.

    >>> print(law_latex())
    N_{\\mathrm{opt}}(C) = G \\left(\\frac{C}{6}\\right)^{a}
    D_{\\mathrm{opt}}(C) = G^{-1} \\left(\\frac{C}{6}\\right)^{b}
    G = \\left(\\frac{A \\alpha}{B \\beta}\\right)^{\\frac{1}{\\alpha + \\beta}} \\approx 1.345
    a = \\frac{\\beta}{\\alpha + \\beta} = \\frac{14}{31},\\quad b = \\frac{\\alpha}{\\alpha + \\beta} = \\frac{17}{31}
    """
    from ..render import latex

    fit = get_fit(fit)
    k = _k(fit, flops_per_param_token)
    kk = latex(k)
    if isinstance(fit, ParametricFit):
        f, law = frontier(), _law(fit, k)
        lines = [rf"N_{{\mathrm{{opt}}}}(C) = G \left(\frac{{C}}{{{kk}}}\right)^{{a}}",
                 rf"D_{{\mathrm{{opt}}}}(C) = G^{{-1}} \left(\frac{{C}}{{{kk}}}\right)^{{b}}",
                 rf"G = {latex(f['G'])} \approx {float(law['G']):.4g}",
                 rf"a = {latex(f['a'])} = {latex(law['a'])},\quad b = {latex(f['b'])} = {latex(law['b'])}"]
    else:
        n = "M" if fit.scale == "flops_per_token" else "N"
        lines = [rf"{n}_{{\mathrm{{opt}}}}(C) = G \left(\frac{{C}}{{C_{{0}}}}\right)^{{a_{{N}}}}",
                 rf"D_{{\mathrm{{opt}}}} = \frac{{C}}{{{kk} {n}_{{\mathrm{{opt}}}}}}",
                 rf"G \approx {float(fit.coef):.4g},\quad a_{{N}} = {latex(fit.exponent)},\quad C_{{0}} \approx {float(fit.unit):.4g}"]
    return "\n".join(lines)


def tokens_per_param(compute: Any = S.compute, fit: Any = CHINCHILLA) -> Expr:
    """Compute-optimal tokens per parameter, D_opt/N_opt.

    >>> round(float(tokens_per_param(10**24)), 1)
    97.7
    """
    return compute_optimal(compute, fit).tokens_per_param


def chinchilla_loss(n_params: Any = S.n_params, tokens: Any = S.tokens, fit: Any = CHINCHILLA) -> Expr:
    """A parametric fit's loss L(N, D) = E + A/N^α + B/D^β in nats per token.

    >>> chinchilla_loss()
    169/100 + 4107/(10*tokens**(7/25)) + 2032/(5*n_params**(17/50))
    >>> round(float(chinchilla_loss(70 * 10**9, 1400 * 10**9)), 3)
    1.937
    """
    fit = get_fit(fit)
    if not isinstance(fit, ParametricFit):
        raise SymcalcError(f"fit {fit.name} has no parametric loss E + A/N^alpha + B/D^beta")
    return fit.loss(n_params, tokens)


def kaplan_flops_per_token(n_params: Any = S.n_params) -> Expr:
    """Training FLOPs per token, Kaplan's C ≈ 6N (Kaplan et al. 2020, §2.1, Table 1).

    >>> kaplan_flops_per_token()
    6*n_params
    """
    return KAPLAN_FLOPS_PER_PARAM_TOKEN * as_expr("n_params", n_params)


def kaplan_compute(n_params: Any = S.n_params, tokens: Any = S.tokens) -> Expr:
    """Training compute C ≈ 6·N·D (Kaplan et al. 2020, §2.1).

    >>> kaplan_compute(70 * 10**9, 1400 * 10**9)
    588000000000000000000000
    """
    return kaplan_flops_per_token(n_params) * as_expr("tokens", tokens)


def compute_cost(compute: Any, hardware: Any, *, mfu: Any = None, dtype: Optional[str] = None, n_devices: Any = 1) -> Any:
    """GPU-hours (time, energy) of C training FLOPs on a catalogue device at an MFU.

    ``mfu`` and ``dtype`` left at None are the active defaults (:mod:`symcalc.defaults`: 40 %, bf16).

    >>> round(float(compute_cost(10**24, "h100", mfu="40%").gpu_hours))
    701884
    """
    from ..cost import TrainingCost, as_mfu
    from ..defaults import resolve
    from ..hardware import DTYPES, Hardware, get
    from ..inputs import as_choice, as_size

    mfu = resolve("mfu") if mfu is None else mfu  # a given "40%" is as_mfu's to read
    dtype = resolve("dtype", dtype)
    hw = hardware if isinstance(hardware, Hardware) else get(hardware, "hardware")
    u = as_mfu("mfu", mfu)
    peak = hw.peak(as_choice("dtype", dtype, DTYPES))
    power = hw.power if hw.power is not None else S.device_power
    return TrainingCost(flops=as_positive("compute", compute), n_devices=as_size("n_devices", n_devices), rate=peak * u,
                        peak_flops=peak, mfu=u, power=power, info={"hardware": hw.name, "dtype": dtype})
