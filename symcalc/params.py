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

from typing import Optional

from sympy import Expr, Integer, Ne, Piecewise, true

from .breakdown import Breakdown
from .inputs import as_bool, as_choice, as_model
from .model import Model

__all__ = ["params", "active_params", "non_embedding_params", "norm_params", "EMBEDDING_PARTS",
           "MATMUL_PARTS", "ACTIVE_CONVENTIONS"]

#: Parts that :func:`non_embedding_params` leaves out.
EMBEDDING_PARTS = ("embedding/token", "embedding/position", "lm_head/weight", "lm_head/bias", "mtp/embedding",
                   "mtp/head")
#: Parts that are matrices each token multiplies (2 FLOPs per weight per token); biases, norms and
#: sinks are parts of their own. MTP modules' parts carry the prefix ``mtp/``.
MATMUL_PARTS = (
    "embedding/projection", "attention/qkv", "attention/q", "attention/q_a", "attention/q_b", "attention/kv_a",
    "attention/kv_b", "attention/out", "mlp/up", "mlp/down", "moe/router", "moe/experts", "moe/shared_experts",
    "moe/shared_expert_gate", "mtp/projection",
)
#: Conventions for active parameters (model cards differ): every parameter a token touches
#: (``"all"``), without the input embedding (``"no-input-embedding"``: gpt-oss's card), without
#: the embedding and the LM head (``"no-embeddings"``).
ACTIVE_CONVENTIONS = ("all", "no-input-embedding", "no-embeddings")


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


def _dense_mlp(m: Model, n: Expr) -> dict[str, Expr]:
    """``n`` dense MLPs of width f."""
    up, up_b, down, down_b = _mlp(m.d_model, m.d_ff, m.mlp_up_matrices, m.mlp_bias)
    parts = {"mlp/up": n * up}
    if m.mlp_bias:
        parts["mlp/up_bias"] = n * up_b
    parts["mlp/down"] = n * down
    if m.mlp_bias:
        parts["mlp/down_bias"] = n * down_b
    return parts


def _moe(m: Model, n: Expr, active: bool) -> dict[str, Expr]:
    """``n`` MoE layers: router, routed experts (``top_k`` of them when ``active``), shared experts."""
    h, E = m.d_model, m.n_experts
    parts = {"moe/router": n * h * E}
    if m.router_bias:
        parts["moe/router_bias"] = n * E
    used = m.top_k if active else E
    up, up_b, down, down_b = _mlp(h, m.d_ff_expert, m.mlp_up_matrices, m.mlp_bias)
    parts["moe/experts"] = n * used * (up + down)
    if m.mlp_bias:
        parts["moe/experts_bias"] = n * used * (up_b + down_b)
    if m.n_shared_experts != 0:
        up, up_b, down, down_b = _mlp(h, m.d_ff_shared, m.mlp_up_matrices, m.mlp_bias)
        parts["moe/shared_experts"] = n * m.n_shared_experts * (up + down)
        if m.mlp_bias:
            parts["moe/shared_experts_bias"] = n * m.n_shared_experts * (up_b + down_b)
        if m.shared_expert_gate:  # one gate per MoE layer, present with at least one shared expert
            some = m.n_shared_experts > 0
            parts["moe/shared_expert_gate"] = n * h if some is true else Piecewise((n * h, some), (0, True))
    return parts


def layer_parts(model: Model, *, n_layers: Expr, n_moe: Expr, active: bool = False) -> dict[str, Expr]:
    """Parameters of ``n_layers`` layers of which ``n_moe`` are MoE: attention, MLP, norms, by part."""
    m = model
    parts = {k: n_layers * v for k, v in m.attention._param_parts(m).items()}
    n_dense = n_layers - n_moe
    if n_dense != 0:
        parts.update(_dense_mlp(m, n_dense))
    if m.is_moe and n_moe != 0:
        parts.update(_moe(m, n_moe, active))
    parts["norms"] = n_layers * m.norms_per_layer * norm_params(m)
    return parts


def _mtp(m: Model, active: bool) -> dict[str, Expr]:
    """The multi-token-prediction modules (see :class:`~symcalc.structure.MTP`), parts ``mtp/...``."""
    n = Integer(m.mtp.n_modules)
    parts: dict[str, Expr] = {}
    if not m.mtp.shared_embeddings:
        parts["mtp/embedding"] = n * m.padded_vocab * m.d_embed
    parts["mtp/projection"] = n * 2 * m.d_model * m.d_model
    layer = layer_parts(m, n_layers=n, n_moe=n if m.is_moe else Integer(0), active=active)
    parts.update({f"mtp/{k}": v for k, v in layer.items() if k != "norms"})
    # enorm, hnorm, the layer's own norms and the head's norm
    parts["mtp/norms"] = layer["norms"] + n * 3 * norm_params(m)
    if not m.mtp.shared_embeddings:
        parts["mtp/head"] = n * m.padded_vocab * m.d_embed
    return parts


def params(model: Model, *, active: bool = False) -> Breakdown:
    """Parameters by part; ``.total`` is the model's parameter count.

    .. math::

        N = v h + L\\left[h(a + 2g)d_h + a d_h h + (1 + [\\mathrm{gated}]) h f + f h + n_{\\mathrm{norm}} \\cdot 2h\\right] + 2h + v h

    for an untied, bias-free LayerNorm model; the parts below add biases, learned positions,
    projections, experts, qk-norms, sinks, latent attention and MTP modules when the model has them.

    Parameters
    ----------
    model : Model
        Sizes and structure.
    active : bool
        Count only the parameters one token uses (``top_k`` routed experts per MoE layer).

    Parts
    -----
    Present only when the model has them: ``embedding/token``, ``embedding/position``, ``embedding/projection``, ``embedding/norm``;
    attention (:mod:`symcalc.structure.attention`): ``attention/qkv``, ``attention/qkv_bias``,
    ``attention/out``, ``attention/out_bias``, ``attention/qk_norm``, ``attention/sinks``, and for
    MLA ``attention/q_a``, ``attention/q_b`` (or ``attention/q``), ``attention/kv_a``,
    ``attention/kv_b``, ``attention/latent_bias``, ``attention/latent_norms``;
    ``mlp/up``, ``mlp/up_bias``, ``mlp/down``, ``mlp/down_bias`` (dense layers);
    ``moe/router``, ``moe/router_bias``, ``moe/experts``, ``moe/experts_bias``,
    ``moe/shared_experts``, ``moe/shared_experts_bias``, ``moe/shared_expert_gate``; ``norms`` (per layer, all layers),
    ``final_norm``, ``lm_head/weight``, ``lm_head/bias``; ``mtp/...`` (MTP modules, when the model
    has them: ``mtp/embedding``, ``mtp/projection``, the layer's parts, ``mtp/norms``, ``mtp/head``).

    References
    ----------
    Kaplan et al. 2020, "Scaling Laws for Neural Language Models", Table 1 (N ≈ 12 L h²).
    """
    m = as_model("model", model)
    active = as_bool("active", active)
    h, V, he = m.d_model, m.padded_vocab, m.d_embed
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

    parts.update(layer_parts(m, n_layers=m.n_layers, n_moe=m.n_moe_layers, active=active))
    if m.final_norm:
        parts["final_norm"] = norm_params(m)
    if not m.tied_embeddings:
        parts["lm_head/weight"] = V * he
    if m.lm_head_bias:
        parts["lm_head/bias"] = V
    if m.mtp is not None:
        parts.update(_mtp(m, active))

    title = f"parameters{' (active per token)' if active else ''}" + (f" - {m.name}" if m.name else "")
    return Breakdown({k: v.expand() for k, v in parts.items()}, unit="params", title=title)


def active_params(model: Model, *, convention: Optional[str] = None) -> Breakdown:
    """Parameters one token uses: ``params(model, active=True)`` (equal to params for dense models).

    ``convention`` says what model cards count (:data:`ACTIVE_CONVENTIONS`): ``"all"`` (today's
    default; None: the active default, :mod:`symcalc.defaults`) every parameter a token touches, its embedding row counted as the whole matrix, as for the
    total; ``"no-input-embedding"`` leaves out the token embedding and position table (an untied
    model's LM head stays; a tied one's matrix stays as the head); ``"no-embeddings"`` leaves out the
    embedding and the LM head (and an MTP module's copies of them).

    >>> from symcalc import Model
    >>> m = Model.preset("mixtral-8x7b")
    >>> [int(active_params(m, convention=c).total) for c in ACTIVE_CONVENTIONS]
    [12879925248, 12748853248, 12617781248]
    """
    from .defaults import resolve

    convention = as_choice("convention", resolve("active_convention", convention), ACTIVE_CONVENTIONS)
    bd = params(model, active=True)
    drop: set[str] = set()
    if convention != "all":
        drop |= {"embedding/position", "mtp/embedding"}
        if not model.tied_embeddings or convention == "no-embeddings":
            drop.add("embedding/token")
    if convention == "no-embeddings":
        drop |= {"lm_head/weight", "lm_head/bias", "mtp/head"}
    out = Breakdown({k: v for k, v in bd.items() if k not in drop}, unit="params", title=bd.title)
    if convention != "all":
        out.title += f" ({convention})"
    return out


def non_embedding_params(model: Model) -> Expr:
    """Parameters excluding the token embedding, learned positions and an untied LM head.

    See the module docstring for exactly what is kept.

    >>> from symcalc import Model
    >>> non_embedding_params(Model.preset("pythia-160m"))
    85056000
    """
    bd = params(as_model("model", model))
    return bd.total - sum((bd[k] for k in EMBEDDING_PARTS if k in bd), Integer(0))
