"""Parameter counts.

Every count is exact: with numeric sizes the parts are sympy Integers equal to
``sum(p.numel() for p in model.parameters())`` of the real transformers model (the
conformance tests check this per family and per part). Left symbolic, they are closed forms.

Conventions
-----------
- A linear layer ``n -> m`` has ``n·m`` weights and, with a bias, ``m`` more.
- LayerNorm has a weight and (by default) a bias of width h; RMSNorm has a weight only.
- A tied LM head shares the token-embedding matrix, so it adds nothing.
- **Non-embedding** parameters exclude the token embedding, a learned position table and the
  untied LM head (weight and bias); they keep the embedding projection and norm, every layer
  and the final norm (Kaplan et al. 2020's N, and Pythia's "non-embedding" column).
- **Active** parameters per token count only ``top_k`` of the routed experts of each MoE
  layer (shared experts always count); everything else, embeddings included, counts in full
  (Mixtral 8x7B: 46.7 B total, 12.9 B active).

>>> from symcalc import Model, params
>>> from symcalc.symbols import n_heads
>>> params(Model()).total          # fully symbolic, GQA: the general closed form
2*d_ff*d_model*n_layers + 2*d_model**2*n_layers + 2*d_model**2*n_kv_heads*n_layers/n_heads + 4*d_model*n_layers + 2*d_model*vocab + 2*d_model
>>> params(Model(n_kv_heads=n_heads)).total   # MHA: 4h² per layer of attention
2*d_ff*d_model*n_layers + 4*d_model**2*n_layers + 4*d_model*n_layers + 2*d_model*vocab + 2*d_model
>>> params(Model.preset("llama-2-7b")).total
6738415616
"""

from __future__ import annotations

from sympy import Expr, Integer, Ne, Piecewise, true

from .breakdown import Breakdown
from .inputs import as_bool, as_model
from .model import Model

__all__ = ["params", "active_params", "non_embedding_params", "norm_params", "EMBEDDING_PARTS"]

#: Parts that :func:`non_embedding_params` leaves out.
EMBEDDING_PARTS = ("embedding/token", "embedding/position", "lm_head/weight", "lm_head/bias")


def norm_params(model: Model) -> Expr:
    """Parameters of one norm over the hidden size: h (RMSNorm) or 2h (LayerNorm with bias)."""
    model = as_model("model", model)
    return model.d_model * (2 if model.norm_bias else 1)


def _mlp(d_model: Expr, inner: Expr, up_matrices: int, bias: bool) -> tuple[Expr, Expr, Expr, Expr]:
    """(up weights, up biases, down weights, down bias) of one MLP h -> inner -> h."""
    up = up_matrices * d_model * inner
    down = inner * d_model
    if bias:
        return up, up_matrices * inner, down, d_model
    return up, Integer(0), down, Integer(0)


def params(model: Model, *, active: bool = False) -> Breakdown:
    """Parameters by part; ``.total`` is the model's parameter count.

    .. math::

        N = v h + L\\left[h(a + 2g)d_h + a d_h h + (1 + [\\mathrm{gated}]) h f + f h + n_{\\mathrm{norm}} \\cdot 2h\\right] + 2h + v h

    for an untied, bias-free LayerNorm model; the parts below add biases, learned positions,
    projections and experts when the model has them.

    Parameters
    ----------
    model : Model
        Sizes and structure.
    active : bool
        Count only the parameters one token uses (``top_k`` routed experts per MoE layer).

    Parts (present only when the model has them)
    --------------------------------------------
    ``embedding/token``, ``embedding/position``, ``embedding/projection``, ``embedding/norm``,
    ``attention/qkv``, ``attention/qkv_bias``, ``attention/out``, ``attention/out_bias``,
    ``mlp/up``, ``mlp/up_bias``, ``mlp/down``, ``mlp/down_bias`` (dense layers),
    ``moe/router``, ``moe/experts``, ``moe/shared_experts``, ``moe/shared_expert_gate``,
    ``norms`` (per layer, all layers), ``final_norm``, ``lm_head/weight``, ``lm_head/bias``.

    References
    ----------
    Kaplan et al. 2020, "Scaling Laws for Neural Language Models", Table 1 (N ≈ 12 L h²).
    """
    m = as_model("model", model)
    active = as_bool("active", active)
    L, h, V, he = m.n_layers, m.d_model, m.padded_vocab, m.d_embed
    parts: dict[str, Expr] = {}

    parts["embedding/token"] = V * he
    if m.position == "learned":
        # the position table is h wide even when the token embedding is projected (OPT-350m)
        parts["embedding/position"] = m.n_positions * h
    if he != h:
        # OPT-350m: project_in (he -> h) and project_out (h -> he), both without bias; they exist only
        # when the widths differ, which stays a condition while either is a symbol.
        differ = Ne(he, h)
        parts["embedding/projection"] = 2 * he * h if differ is true else Piecewise((2 * he * h, differ), (0, True))
    if m.embed_norm:
        parts["embedding/norm"] = norm_params(m)

    qkv = m.q_size + 2 * m.kv_size
    parts["attention/qkv"] = L * h * qkv
    if m.qkv_bias:
        parts["attention/qkv_bias"] = L * qkv
    parts["attention/out"] = L * m.q_size * h
    if m.attn_out_bias:
        parts["attention/out_bias"] = L * h

    n_dense = m.n_dense_layers
    if n_dense != 0:
        up, up_b, down, down_b = _mlp(h, m.d_ff, m.mlp_up_matrices, m.mlp_bias)
        parts["mlp/up"] = n_dense * up
        if m.mlp_bias:
            parts["mlp/up_bias"] = n_dense * up_b
        parts["mlp/down"] = n_dense * down
        if m.mlp_bias:
            parts["mlp/down_bias"] = n_dense * down_b

    if m.is_moe:
        n_moe = m.n_moe_layers
        parts["moe/router"] = n_moe * (h * m.n_experts + (m.n_experts if m.router_bias else 0))
        experts_used = m.top_k if active else m.n_experts
        one_expert = sum(_mlp(h, m.d_ff_expert, m.mlp_up_matrices, m.mlp_bias), Integer(0))
        parts["moe/experts"] = n_moe * experts_used * one_expert
        if m.n_shared_experts != 0:
            one_shared = sum(_mlp(h, m.d_ff_shared, m.mlp_up_matrices, m.mlp_bias), Integer(0))
            parts["moe/shared_experts"] = n_moe * m.n_shared_experts * one_shared
            if m.shared_expert_gate:  # one gate per MoE layer, present with at least one shared expert
                some = m.n_shared_experts > 0
                parts["moe/shared_expert_gate"] = n_moe * h if some is true else Piecewise((n_moe * h, some), (0, True))

    parts["norms"] = L * m.norms_per_layer * norm_params(m)
    if m.final_norm:
        parts["final_norm"] = norm_params(m)
    if not m.tied_embeddings:
        parts["lm_head/weight"] = V * he
    if m.lm_head_bias:
        parts["lm_head/bias"] = V

    title = f"parameters{' (active per token)' if active else ''}" + (f" - {m.name}" if m.name else "")
    return Breakdown({k: v.expand() for k, v in parts.items()}, unit="params", title=title)


def active_params(model: Model) -> Breakdown:
    """Parameters one token uses: ``params(model, active=True)`` (equal to params for dense models)."""
    return params(model, active=True)


def non_embedding_params(model: Model) -> Expr:
    """Parameters excluding the token embedding, learned positions and an untied LM head.

    See the module docstring for exactly what is kept.

    >>> from symcalc import Model
    >>> non_embedding_params(Model.preset("pythia-160m"))
    85056000
    """
    bd = params(as_model("model", model))
    return bd.total - sum((bd[k] for k in EMBEDDING_PARTS if k in bd), Integer(0))
