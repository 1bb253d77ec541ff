"""Inverse questions about models: the largest hidden size, the most layers, the most tokens."""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

from sympy import Expr, Poly, PolynomialError, Symbol

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_amount, as_callable, as_choice, as_model, as_size, as_symbol
from ..model import Model
from ._engine import Solution, _lcm, _total, max_integer

__all__ = ["model_family", "max_size", "max_d_model", "max_n_layers", "max_tokens"]


def _auto_multiple(model: Model, symbol: Symbol) -> int:
    """The smallest m such that every size of ``model`` is whole when ``symbol`` is a multiple of m."""
    m = 1
    for fname in ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_head", "d_ff", "vocab", "d_ff_expert"):
        value = getattr(model, fname, None)
        if not isinstance(value, Expr) or symbol not in value.free_symbols:
            continue
        try:
            coeffs = Poly(value, symbol).all_coeffs()
        except PolynomialError:
            continue
        for c in coeffs:
            if c.is_Rational:
                m = _lcm([m, int(c.q)])
    return m


def model_family(model: Model, vary: str = "d_model", *, aspect_ratio: Any = None, d_head: Any = None) -> tuple[Model, Symbol]:
    """``model`` with one size made the unknown, keeping its proportions.

    ``vary="d_model"``: h becomes the symbol h; the MLP keeps its ratio f/h; the head count stays
    and the head size keeps its ratio d_h/h (so the family at the model's own width is the model,
    also where d_h ≠ h/a, as Gemma's and Qwen3's heads are); with ``d_head=`` the head size is
    fixed instead and the heads grow as h/d_h, the KV heads in proportion; with
    ``aspect_ratio=r`` the depth follows L = h/r (Kaplan et al. 2020 §3.2's h/L). ``vary="n_layers"``:
    L becomes the symbol, everything else stays.

    >>> from symcalc import Model
    >>> fam, h = model_family(Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, d_ff=14336, vocab=128256))
    >>> fam.d_ff, fam.d_head
    (7*d_model/2, d_model/32)
    """
    model = as_model("model", model)
    as_choice("vary", vary, ("d_model", "n_layers"))
    if vary == "n_layers":
        return model.replace(n_layers=S.n_layers), S.n_layers
    h = S.d_model
    changes: dict[str, Any] = {"d_model": h, "d_ff": model.d_ff / model.d_model * h}
    if model.is_moe:
        changes["d_ff_expert"] = model.d_ff_expert / model.d_model * h
    if model.is_mla:
        # MLA's head sizes and latent ranks are its own (d_nope, d_rope, d_v, r_q, r_kv): they stay fixed.
        if d_head is not None:
            raise SymcalcError("d_head= with MLA: the head sizes are the attention's own (qk_nope/qk_rope/v_head_dim)")
    elif d_head is not None:
        d_head = as_size("d_head", d_head)
        heads = h / d_head
        changes.update(n_heads=heads, n_kv_heads=model.n_kv_heads / model.n_heads * heads, d_head=d_head)
    elif model.d_head != model.d_model / model.n_heads:
        changes["d_head"] = model.d_head / model.d_model * h
    if aspect_ratio is not None:
        changes["n_layers"] = h / as_size("aspect_ratio", aspect_ratio)
    return model.replace(**changes), h


def max_size(quantity: Callable[[Model], Any], family: Model, symbol: Symbol, budget: Any, *,
             multiple_of: Union[int, Sequence[int]] = 1, lo: int = 1, hi: Optional[int] = None, unit: str = "") -> Solution:
    """The largest value of ``symbol`` with ``quantity(family)`` ≤ budget, every size whole.

    The multiple needed to keep every size whole (h a multiple of the head count when d_h = h/a,
    of 2 when f = 7h/2, of r when L = h/r) is added to ``multiple_of`` automatically.
    """
    quantity, family, symbol = as_callable("quantity", quantity), as_model("family", family), as_symbol("symbol", symbol)
    m = list(multiple_of) if isinstance(multiple_of, (list, tuple)) else [multiple_of]
    m.append(_auto_multiple(family, symbol))
    return max_integer(_total(quantity(family)), symbol, budget, multiple_of=m, lo=lo, hi=hi, unit=unit)


def _params_total(model: Model) -> Expr:
    from ..params import params

    return params(model).total


def max_d_model(budget: Any, model: Model, *, quantity: Optional[Callable[[Model], Any]] = None,
                multiple_of: Union[int, Sequence[int]] = 1, aspect_ratio: Any = None, d_head: Any = None,
                lo: int = 1, hi: Optional[int] = None, unit: Optional[str] = None) -> Solution:
    """The largest hidden size h with ``quantity`` (default: parameters) within budget.

    Depth is fixed (or L = h/aspect_ratio), proportions kept as :func:`model_family` says.
    ``unit`` labels the budget (default "params", or none with a custom ``quantity``).

    >>> from symcalc import Model
    >>> m = Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, d_ff=14336, vocab=128256,
    ...           gated_mlp=True, norm="rmsnorm")
    >>> sol = max_d_model(7 * 10**9, m, multiple_of=128)
    >>> sol.value, sol.method, int(sol.quantity)
    (3712, 'closed-form', 6684454528)
    """
    family, h = model_family(model, "d_model", aspect_ratio=aspect_ratio, d_head=d_head)
    quantity = None if quantity is None else as_callable("quantity", quantity)
    return max_size(quantity or _params_total, family, h, budget, multiple_of=multiple_of, lo=lo, hi=hi,
                    unit=unit if unit is not None else "params" if quantity is None else "")


def max_n_layers(budget: Any, model: Model, *, quantity: Optional[Callable[[Model], Any]] = None,
                 multiple_of: Union[int, Sequence[int]] = 1, lo: int = 1, hi: Optional[int] = None,
                 unit: Optional[str] = None) -> Solution:
    """The most layers L at fixed width with ``quantity`` (default: parameters) within budget.

    >>> from symcalc import Model
    >>> m = Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=32, d_ff=16384, vocab=50304)
    >>> max_n_layers(10**10, m).value
    47
    """
    family, L = model_family(model, "n_layers")
    quantity = None if quantity is None else as_callable("quantity", quantity)
    return max_size(quantity or _params_total, family, L, budget, multiple_of=multiple_of, lo=lo, hi=hi,
                    unit=unit if unit is not None else "params" if quantity is None else "")


def max_tokens(compute_budget: Any, model: Model, *, seq_len: Any = None,
               flops_per_token: Optional[Callable[[Model], Any]] = None, recompute: str = "none") -> Solution:
    """The most training tokens D with F·D ≤ C for a model (F: training FLOPs per token).

    F is symcalc's exact training FLOPs per token (:func:`symcalc.flops.training_flops` with
    ``tokens=1``) when ``seq_len`` is given, else ``flops_per_token(model)`` when given, else
    Kaplan's 6N with N the active parameters (:func:`symcalc.flops.six_n`, as ``symcalc flops``'
    rule of thumb: every parameter of a dense model, the routed experts a token uses of an MoE).

    >>> from symcalc import Model
    >>> m = Model(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=32, d_ff=16384, vocab=50304)
    >>> max_tokens("1e23", m).value                  # C = 6ND
    2431289169507
    >>> max_tokens("1e23", m, seq_len=4096).value    # exact FLOPs per token at s = 4096
    2158268985009
    """
    from ..flops import six_n, training_flops

    model = as_model("model", model)
    if flops_per_token is not None:
        as_callable("flops_per_token", flops_per_token)
    if seq_len is not None:
        F = training_flops(model, seq_len=seq_len, tokens=1, recompute=recompute).total
    elif flops_per_token is not None:
        F = _total(as_callable("flops_per_token", flops_per_token)(model))
    else:
        as_choice("recompute", recompute, ("none", "selective", "full"))
        F = six_n(model)
    C = as_amount("compute_budget", compute_budget)
    return max_integer(F * S.tokens, S.tokens, C, unit="FLOP")
