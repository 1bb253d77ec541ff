"""Model states: weights, gradients, optimizer states, and how ZeRO shards them.

Bytes per value are explicit (:class:`Precision`); optimizer states are bytes per parameter
*besides* the master copy (:func:`optimizer_bytes`). ZeRO (Rajbhandari et al. 2020) shards over
the data-parallel group ``d`` only: stage 1 the optimizer states (master copy included), stage 2
also the gradients, stage 3 also the weights. Left as the symbol ``zero_stage`` the result is a
``Piecewise`` in z that collapses when z is substituted.

>>> from sympy import Symbol
>>> from symcalc.symbols import n_params, dp, zero_stage
>>> K = Symbol("K", positive=True)
>>> zero_model_states(n_params, dp=dp, zero_stage=3, precision=Precision(2, 2, 0), optimizer=K).total.factor()
n_params*(K + 4)/dp
>>> zero_model_states(n_params, dp=dp, zero_stage=zero_stage, precision=Precision(2, 2, 0), optimizer=K)["optimizer"]
Piecewise((K*n_params/dp, zero_stage >= 1), (K*n_params, True))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from sympy import Expr, Integer, Piecewise, Rational

from .. import symbols as S
from ..breakdown import Breakdown
from ..errors import SymcalcError
from ..inputs import as_amount, as_count, as_expr, as_int, as_model, as_size

__all__ = [
    "Precision", "RECIPES", "OPTIMIZERS", "WEIGHT_DTYPES", "precision_recipe", "optimizer_bytes",
    "adafactor_state_elements", "zero_shard", "check_zero_stage", "zero_model_states", "master_bytes",
]


@dataclass(frozen=True)
class Precision:
    """Bytes per value: stored weight, gradient, master copy (0: none), activation, KV cache.

    A recipe names the usual combinations (:data:`RECIPES`); any field may be a symbol or a
    Rational (a 4-bit weight is ``Rational(1, 2)``).
    """

    weight: Any = S.bytes_weight
    grad: Any = S.bytes_grad
    master: Any = S.bytes_master
    act: Any = S.bytes_act
    kv: Any = None

    def __post_init__(self) -> None:
        for name in ("weight", "grad", "master", "act", "kv"):
            value = getattr(self, name)
            if value is None:
                continue
            object.__setattr__(self, name, as_amount(f"Precision.{name}", value))
        if self.kv is None:
            object.__setattr__(self, "kv", self.act)


#: Named precision recipes (bytes: weight, gradient, master copy, activation).
#: ``mixed`` is the ZeRO paper's 2+2 (fp16/bf16 weights and gradients, fp32 master);
#: ``mixed-fp32-grads`` is Megatron-core's bf16 recipe with fp32 ``main_grad`` (the default, see
#: :mod:`symcalc.defaults`) and the cookbook's;
#: ``fp8`` stores fp8 weights with bf16 gradients and an fp32 master (Transformer Engine style).
RECIPES: dict[str, Precision] = {
    "mixed": Precision(2, 2, 4, 2),
    "mixed-fp32-grads": Precision(2, 4, 4, 2),
    "bf16": Precision(2, 2, 0, 2),
    "fp32": Precision(4, 4, 0, 4),
    "fp8": Precision(1, 2, 4, 2),
    "symbolic": Precision(),
}

#: Bytes per stored weight by dtype name (inference quantization; group scales are ignored).
WEIGHT_DTYPES: dict[str, Expr] = {
    "fp32": Integer(4), "bf16": Integer(2), "fp16": Integer(2), "fp8": Integer(1),
    "int8": Integer(1), "int4": Rational(1, 2),
}

#: Optimizer-state bytes per parameter besides the master copy, fp32 states.
#: AdamW: two moments; SGD: one momentum buffer; Muon: one momentum buffer (its AdamW
#: fallback for embeddings and vectors is not modelled); adam8bit: two 8-bit moments
#: (bitsandbytes' per-block absmax, 8 bytes per 2048 values, ignored); none: no optimizer step at
#: all (gradients only: no states and no master copy, :func:`master_bytes`).
#: Adafactor depends on the matrix shapes: see :func:`adafactor_state_elements`.
OPTIMIZERS: dict[str, Expr] = {
    "adamw": Integer(8), "adam": Integer(8), "sgd": Integer(4), "muon": Integer(4),
    "adam8bit": Integer(2), "none": Integer(0),
}


def activation_bytes(value: Any = None) -> Any:
    """Bytes per activation value: ``value``, or the active precision recipe's (bf16: 2) when None; what
    inference memory and serving charge for activations unless told.

    >>> activation_bytes(), activation_bytes(4)
    (2, 4)
    """
    return precision_recipe(None).act if value is None else value


def precision_recipe(precision: Union[str, Precision, None]) -> Precision:
    """A :class:`Precision` from a recipe name (or itself); ``None`` is the active default recipe.

    The default (:mod:`symcalc.defaults`) is ``mixed-fp32-grads``: bf16 weights and activations,
    fp32 gradients and master copy (Megatron-core's bf16 recipe); ``"symbolic"`` leaves every
    byte count a symbol.

    >>> precision_recipe(None)
    Precision(weight=2, grad=4, master=4, act=2, kv=2)
    """
    if precision is None:
        from ..defaults import active

        precision = active().precision
    if isinstance(precision, Precision):
        return precision
    try:
        if not isinstance(precision, str):
            raise KeyError(precision)
        return RECIPES[precision]
    except KeyError:
        raise SymcalcError(f"precision={precision!r} is unknown; use one of {', '.join(RECIPES)} or a Precision") from None


def adafactor_state_elements(model) -> Expr:
    """Adafactor's second-moment elements: rows + columns per weight matrix, full size for vectors.

    .. math::

        \\sum_{\\text{matrices}} (r + c) + \\Big(N - \\sum_{\\text{matrices}} r c\\Big)

    Matrices are the token embedding, an untied LM head, per layer the attention kind's matrices
    (Q, K, V separate, as in Hugging Face Llama, a fused QKV matrix such as GPT-2's having one
    factor pair instead of three, ``Model.fused_linears``; MLA's five projections), the MLP
    matrices and each expert's.
    MTP modules' matrices are not factored (counted as vectors). No first moment (``beta1=None``,
    the default of Shazeer & Stern 2018 and of transformers' ``Adafactor``).

    References
    ----------
    Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost", Alg. 4.
    """
    from ..params import params

    m = as_model("model", model)
    h, L = m.d_model, m.n_layers
    mats: list[tuple[Expr, Expr, Expr]] = [(Integer(1), m.padded_vocab, m.d_embed)]
    if not m.tied_embeddings:
        mats.append((Integer(1), m.padded_vocab, m.d_embed))
    mats += [(L * k, r, c) for k, r, c in m.attention._matrices(m)]
    up = m.mlp_up_matrices
    if m.n_dense_layers != 0:
        mats += [(up * m.n_dense_layers, h, m.d_ff), (m.n_dense_layers, m.d_ff, h)]
    if m.is_moe:
        n = m.n_moe_layers * m.n_experts
        mats += [(up * n, h, m.d_ff_expert), (n, m.d_ff_expert, h)]
        if m.n_shared_experts != 0:
            n_s = m.n_moe_layers * m.n_shared_experts
            mats += [(up * n_s, h, m.d_ff_shared), (n_s, m.d_ff_shared, h)]
    factored = sum((k * (r + c) for k, r, c in mats), Integer(0))
    full = sum((k * r * c for k, r, c in mats), Integer(0))
    return factored + params(m).total - full


def optimizer_bytes(optimizer: Any = None, model=None) -> Expr:
    """Optimizer-state bytes per parameter, besides the master copy.

    ``optimizer`` is a name of :data:`OPTIMIZERS`, ``"adafactor"`` (needs ``model``: 4 bytes per
    factored element, averaged over the model's parameters), a number, or a symbol;
    ``"symbolic"`` is the symbol ``bytes_optim``; ``None`` the active default (AdamW, see
    :mod:`symcalc.defaults`).

    >>> optimizer_bytes("adamw"), optimizer_bytes("muon"), optimizer_bytes("symbolic"), optimizer_bytes()
    (8, 4, bytes_optim, 8)
    """
    if model is not None:
        model = as_model("model", model)
    if optimizer is None:
        from ..defaults import active

        optimizer = active().optimizer
    if isinstance(optimizer, str) and optimizer == "symbolic":
        return S.bytes_optim
    if isinstance(optimizer, str):
        name = optimizer.lower()
        if name == "adafactor":
            if model is None:
                raise SymcalcError("optimizer='adafactor' needs the model's matrix shapes; pass a Model, not a bare parameter count")
            model = as_model("model", model)
            from ..params import params

            return 4 * adafactor_state_elements(model) / params(model).total
        try:
            return OPTIMIZERS[name]
        except KeyError:
            raise SymcalcError(
                f"optimizer={optimizer!r} is unknown; use one of {', '.join(OPTIMIZERS)}, adafactor, or bytes per parameter"
            ) from None
    return as_amount("optimizer", optimizer)


def master_bytes(precision: Precision, optimizer: Any) -> Expr:
    """The master copy per trainable parameter: the precision's, or 0 without an optimizer (``"none"``).

    >>> master_bytes(RECIPES["mixed"], "adamw"), master_bytes(RECIPES["mixed"], "none")
    (4, 0)
    """
    prec = precision_recipe(precision)
    optimizer_bytes(optimizer) if not (isinstance(optimizer, str) and optimizer.lower() == "adafactor") else None
    if isinstance(optimizer, str) and optimizer.lower() == "none":
        return Integer(0)
    return prec.master


def check_zero_stage(zero_stage: Any) -> Expr:
    """The ZeRO stage as an expression: 0-3, or the symbol ``zero_stage``; else a one-line error."""
    if isinstance(zero_stage, str):
        raise SymcalcError(f"zero_stage={zero_stage!r:.60} is a string; use 0, 1, 2 or 3 (an int) or the symbol zero_stage")
    z = as_count("zero_stage", zero_stage)
    if z.is_number and z not in (0, 1, 2, 3):
        raise SymcalcError(f"zero_stage={z} is not a ZeRO stage; use 0, 1, 2 or 3")
    return z


def zero_shard(expr: Expr, group: Expr, from_stage: int, zero_stage: Any) -> Expr:
    """``expr / group`` when ZeRO stage >= ``from_stage``, else ``expr``; Piecewise for symbolic z.

    >>> from symcalc.symbols import zero_stage, dp
    >>> zero_shard(12, dp, 1, zero_stage)
    Piecewise((12/dp, zero_stage >= 1), (12, True))
    >>> zero_shard(12, 4, 1, 2)
    3
    """
    z = check_zero_stage(zero_stage)
    expr, group = as_expr("expr", expr), as_size("group", group)
    return _zero_shard(expr, group, as_int("from_stage", from_stage, minimum=0, maximum=3), z)


def _zero_shard(expr: Expr, group: Expr, from_stage: int, z: Expr) -> Expr:
    """:func:`zero_shard` of checked values (the inner loop of the model states)."""
    if z.is_number:
        return expr / group if z >= from_stage else expr
    return Piecewise((expr / group, z >= from_stage), (expr, True))


def zero_model_states(
    n_params: Any,
    *,
    dp: Any = 1,
    zero_stage: Any = 0,
    precision: Union[str, Precision, None] = "mixed",
    optimizer: Any = "adamw",
    tp: Any = 1,
    pp: Any = 1,
) -> Breakdown:
    """Model-state bytes per device from a bare parameter count, the ZeRO paper's closed forms.

    .. math::

        \\text{stage 0: } (\\beta_w + \\beta_g + K)\\Psi, \\quad
        \\text{1: } (\\beta_w + \\beta_g)\\Psi + \\frac{K\\Psi}{N_d}, \\quad
        \\text{2: } \\beta_w\\Psi + \\frac{(\\beta_g + K)\\Psi}{N_d}, \\quad
        \\text{3: } \\frac{(\\beta_w + \\beta_g + K)\\Psi}{N_d}

    with :math:`K = \\beta_m + \\beta_o` (master copy plus optimizer states; 12 for mixed-precision
    Adam) and :math:`\\Psi` the parameters each model-parallel rank holds (``n_params / (tp·pp)``,
    an even split). For per-part sharding of a real model use :func:`symcalc.memory.model_states`.

    Parameters
    ----------
    n_params : expression
        Parameters Ψ (the symbol ``n_params`` if you like).
    dp : expression
        Data-parallel degree N_d, the group ZeRO shards over.
    zero_stage : 0-3 or the symbol ``zero_stage``
    precision, optimizer
        See :class:`Precision` and :func:`optimizer_bytes`.

    Examples
    --------
    The ZeRO paper's Figure 1 (Ψ = 7.5B, N_d = 64, K = 12), in GB:

    >>> [float(zero_model_states(7_500_000_000, dp=64, zero_stage=z).total) / 1e9 for z in range(4)]
    [120.0, 31.40625, 16.640625, 1.875]

    References
    ----------
    Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion Parameter
    Models", Section 5 and Figure 1.
    """
    prec = precision_recipe(precision)
    z = check_zero_stage(zero_stage)
    psi = as_size("n_params", n_params) / (as_size("tp", tp) * as_size("pp", pp))
    dp = as_size("dp", dp)
    k = master_bytes(prec, optimizer) + optimizer_bytes(optimizer)
    return Breakdown({
        "weights": _zero_shard(prec.weight * psi, dp, 3, z),
        "gradients": _zero_shard(prec.grad * psi, dp, 2, z),
        "optimizer": _zero_shard(k * psi, dp, 1, z),
    }, unit="bytes", title="model states per device")
