"""The count itself: one pass over some tokens, and training (forward, backward, recompute).

Conventions are stated once, in :mod:`symcalc.flops`.
"""

from __future__ import annotations

from typing import Any, Optional

from sympy import Expr, Integer

from .. import symbols as S
from ..breakdown import Breakdown
from ..errors import SymcalcError
from ..inputs import as_bool, as_choice, as_model, as_size
from ..model import Model
from ..params import MATMUL_PARTS, params
from ..structure import WINDOW_FLOPS

__all__ = ["RECOMPUTE", "forward_flops", "backward_flops", "recompute_flops", "training_flops"]

#: Activation-recomputation policies: none, the attention core only (Korthikanti et al. 2022
#: §4), or every transformer layer's forward.
RECOMPUTE = ("none", "selective", "full")

#: Parts that belong to the transformer layers (what full recomputation reruns).
_OUTSIDE_LAYERS = ("embedding/projection", "lm_head", "mtp/projection", "mtp/head")
#: Parts of the attention core (what selective recomputation reruns).
_ATTENTION_CORE = ("attention/scores", "attention/softmax", "attention/values",
                   "mtp/attention/scores", "mtp/attention/softmax", "mtp/attention/values")

_LAYER_ORDER = (
    "attention/qkv", "attention/q", "attention/q_a", "attention/q_b", "attention/kv_a", "attention/kv_b",
    "attention/scores", "attention/softmax", "attention/values", "attention/out", "attention/norms",
    "mlp/up", "mlp/activation", "mlp/down", "moe/router", "moe/routing", "moe/experts", "moe/activation",
    "moe/shared_experts", "moe/shared_expert_gate", "norms", "residual",
)
_ORDER = ("embedding/projection",) + _LAYER_ORDER + ("lm_head", "mtp/projection") + tuple(
    f"mtp/{k}" for k in _LAYER_ORDER) + ("mtp/head",)


def _count(name: str, value: Any) -> Expr:
    """A positive size or count (tokens, sequences), through the one door (:func:`symcalc.inputs.as_size`)."""
    return as_size(name, value)


#: The keywords :func:`forward_flops` takes besides the model (``backward_flops``/``recompute_flops`` pass them on).
_PASS_KEYWORDS = ("seq_len", "batch", "tokens", "causal", "elementwise", "window_flops")


def _check_keywords(kwargs: dict) -> None:
    unknown = sorted(set(kwargs) - set(_PASS_KEYWORDS))
    if unknown:
        raise SymcalcError(f"unknown keyword(s) {', '.join(unknown)}; forward_flops takes {', '.join(_PASS_KEYWORDS)}")


def matmul_weights(model: Model) -> Breakdown:
    """Weights that multiply each token's activations, by part: the matrices of ``params`` of the
    active model (:data:`~symcalc.params.MATMUL_PARTS`; biases, norms and sinks left out; a
    linear layer costs 2 FLOPs per weight per token), and the LM head.

    >>> from symcalc import Model
    >>> matmul_weights(Model(n_kv_heads=1))["attention/qkv"]
    d_model**2*n_layers + 2*d_model**2*n_layers/n_heads
    """
    bd = params(model, active=True)
    names = set(MATMUL_PARTS) | {f"mtp/{k}" for k in MATMUL_PARTS}
    parts = {k: v for k, v in bd.items() if k in names}
    # The LM head is a v×h_e matmul whether or not it is tied to the token embedding; so is an
    # MTP module's head, stored or shared.
    parts["lm_head"] = bd["embedding/token"]
    if model.mtp is not None:
        parts["mtp/head"] = model.mtp.n_modules * bd["embedding/token"]
    return Breakdown(parts, unit="params", title="matmul weights")


def _layer_elementwise(model: Model, n: Expr, n_moe: Expr, tokens: Expr, pairs: Expr) -> dict[str, Expr]:
    """Elementwise work of ``n`` layers (``n_moe`` of them MoE) over ``tokens`` tokens; ``pairs``
    are the query-key pairs per head summed over those layers (the costs table of :mod:`symcalc.flops`)."""
    m = model
    h = m.d_model
    gate = 1 if m.gated_mlp else 0
    out: dict[str, Expr] = {"attention/softmax": 3 * m.n_heads * pairs}
    if m.attention.sinks:
        out["attention/softmax"] += 3 * m.n_heads * tokens * n  # one sink logit per query row and head
    rms = 4
    qk = m.attention._qk_norm_width(m)
    if m.attention.qk_norm in ("head", "full"):
        out["attention/norms"] = tokens * n * rms * qk
    elif m.attention.qk_norm == "weightless":
        out["attention/norms"] = tokens * n * (rms - 1) * qk
    if m.is_mla:
        out["attention/norms"] = tokens * n * rms * m.attention._latent_width()
    n_dense = n - n_moe
    if n_dense != 0:
        out["mlp/activation"] = tokens * n_dense * m.d_ff * (1 + gate)
    if m.is_moe and n_moe != 0:
        inner = m.top_k * m.d_ff_expert + m.n_shared_experts * m.d_ff_shared
        out["moe/routing"] = tokens * n_moe * (3 * m.n_experts + 2 * m.top_k * h)
        out["moe/activation"] = tokens * n_moe * inner * (1 + gate)
    out["norms"] = tokens * n * m.norms_per_layer * _norm_cost(m) * h
    out["residual"] = tokens * 2 * n * h
    return out


def _norm_cost(m: Model) -> int:
    """FLOPs per element of one norm: LayerNorm 7 (6 without bias), RMSNorm 4."""
    return (7 if m.norm_bias else 6) if m.norm == "layernorm" else 4


def _attention_core(model: Model, pairs: Expr) -> dict[str, Expr]:
    """q·kᵀ and p·v over ``pairs`` query-key pairs per head (summed over layers and sequences)."""
    att = model.attention
    return {"attention/scores": 2 * att._score_width(model) * pairs,
            "attention/values": 2 * att._value_width(model) * pairs}


def pass_parts(model: Model, *, tokens: Expr, pairs: Expr, logits: Expr, elementwise: Optional[bool] = None,
               window_pairs: Any = None, keys: Any = None, mtp: bool = False) -> Breakdown:
    """Forward FLOPs of one pass, from what it processes.

    Parameters
    ----------
    tokens : expression
        Tokens that go through the layers.
    pairs : expression
        Query-key pairs per attention head of one full-attention layer, summed over the sequences
        (``b·s²`` for a full square, ``b·(c+1)`` for one decoded token per sequence at context ``c``).
    logits : expression
        Tokens whose logits the LM head computes.
    window_pairs : expression, optional
        The same for one windowed layer (default ``pairs``: the square eager attention computes).
    keys : expression, optional
        Cached keys that per-key weights run over (MLA's ``kv_b`` as transformers decodes: the
        whole latent cache re-expanded each step); default ``tokens``.
    mtp : bool
        Add the model's MTP modules (training forward: every position, full attention).
    """
    m = as_model("model", model)
    from ..defaults import resolve

    elementwise = as_bool("elementwise", resolve("elementwise", elementwise))
    mtp = as_bool("mtp", mtp)
    w = matmul_weights(m)
    keys = tokens if keys is None else keys
    per_key = m.attention.per_key_parts
    parts: dict[str, Expr] = {}
    for k, v in w.items():
        if k in ("lm_head", "mtp/head") or k.startswith("mtp/") and not mtp:
            continue
        parts[k] = 2 * (keys if k in per_key else tokens) * v
    n_win = m.n_windowed_layers
    all_pairs = (m.n_layers - n_win) * pairs + n_win * (pairs if window_pairs is None else window_pairs)
    parts.update(_attention_core(m, all_pairs))
    parts["lm_head"] = 2 * logits * w["lm_head"]
    if elementwise:
        parts.update(_layer_elementwise(m, m.n_layers, m.n_moe_layers, tokens, all_pairs))
        n_norms = int(m.final_norm) + int(m.embed_norm)
        parts["norms"] += tokens * n_norms * _norm_cost(m) * m.d_model
    if mtp and m.mtp is not None:
        n = Integer(m.mtp.n_modules)
        parts.update({f"mtp/{k}": v for k, v in _attention_core(m, n * pairs).items()})
        parts["mtp/head"] = 2 * tokens * w["mtp/head"]
        if elementwise:
            layer = _layer_elementwise(m, n, n if m.is_moe else Integer(0), tokens, n * pairs)
            layer["norms"] += tokens * n * 3 * _norm_cost(m) * m.d_model  # enorm, hnorm, head norm
            parts.update({f"mtp/{k}": v for k, v in layer.items()})
    ordered = {k: parts[k].expand() for k in _ORDER if k in parts}
    return Breakdown(ordered, unit="FLOP", title="forward FLOPs")


def _sequences(seq_len: Any, batch: Any, tokens: Any) -> tuple[Expr, Expr]:
    s = _count("seq_len", seq_len)
    if tokens is not None:
        if _count("batch", batch) != 1:
            raise SymcalcError("batch and tokens both given; give tokens (a run) or batch (a step), not both")
        return s, _count("tokens", tokens) / s
    return s, _count("batch", batch)


def _square(seq_len: Expr, causal: bool) -> Expr:
    """Query-key pairs per head of one sequence: s² (full) or s²/2 (causal, as Megatron)."""
    from ..defaults import resolve

    causal = as_bool("causal", resolve("causal", causal))
    return seq_len**2 / 2 if causal else seq_len**2


def window_pairs(model: Model, seq_len: Expr, causal: bool, window_flops: Optional[str] = None) -> Any:
    """Query-key pairs per head of one sequence on a windowed layer: None (the same square as the
    full layers, ``"square"``) or the pairs inside the window or chunk (``"band"``)."""
    from ..defaults import resolve

    window_flops = as_choice("window_flops", resolve("window_flops", window_flops), WINDOW_FLOPS)
    model = as_model("model", model)
    if model.window.is_full or window_flops == "square":
        return None
    return model.window.cumulative_pairs(seq_len, "band")


def forward_flops(model: Model, *, seq_len: Any = S.seq_len, batch: Any = 1, tokens: Any = None,
                  causal: Optional[bool] = None, elementwise: Optional[bool] = None, window_flops: Optional[str] = None) -> Breakdown:
    """Forward FLOPs of ``batch`` sequences of ``seq_len`` tokens (logits at every position).

    .. math::

        F_{\\mathrm{fwd}} = 2 b s \\, N_{\\mathrm{matmul}} + 4 L b s^2 a d_h + 2 b s v h

    where :math:`N_{\\mathrm{matmul}}` are the layers' matmul weights one token uses (see
    :func:`~symcalc.flops._count.matmul_weights`). With ``tokens=D`` the count is for a run of D tokens in sequences
    of ``seq_len`` (``D/s`` sequences); ``tokens=1`` gives the count per token.

    Examples
    ========

    >>> from symcalc import Model
    >>> from symcalc.symbols import d_model, n_heads, n_layers, seq_len, vocab
    >>> m = Model(n_kv_heads=n_heads, d_ff=4 * d_model)
    >>> forward_flops(m, tokens=1).total.factor()
    2*d_model*(12*d_model*n_layers + 2*n_layers*seq_len + vocab)

    Parameters
    ==========

    model : Model
    seq_len : tokens per sequence (default the symbol s)
    batch : sequences (default 1)
    tokens : tokens of a run, instead of ``batch``
    causal : count half of the attention square (Megatron) instead of all of it
    elementwise : add softmax, norms, activations, residual adds
    window_flops : windowed layers count the full square (``"square"``, today's default: eager
        attention, FlopCounterMode; None: the active default) or only the pairs inside the window or chunk (``"band"``)

    The model's MTP modules (if any) are part of a training forward: each adds its projection,
    one layer and its head at every position.
    """
    s, n = _sequences(seq_len, batch, tokens)
    band = window_pairs(model, s, causal, window_flops)
    return pass_parts(model, tokens=n * s, pairs=n * _square(s, causal), logits=n * s, elementwise=elementwise,
                      window_pairs=None if band is None else n * band, mtp=True)


def _backward_of(forward: Breakdown) -> Breakdown:
    """The backward pass of a forward breakdown: every matmul twice (input and weight gradients)."""
    bd = forward.scale(2)
    bd.title = "backward FLOPs"
    return bd


def backward_flops(model: Model, **kwargs: Any) -> Breakdown:
    """Backward FLOPs: twice the forward, part by part (input and weight gradients).

    Takes the same keywords as :func:`forward_flops`.
    """
    _check_keywords(kwargs)
    return _backward_of(forward_flops(model, **kwargs))


def recompute_flops(model: Model, *, recompute: str = "none", **kwargs: Any) -> Breakdown:
    """FLOPs spent recomputing activations in the backward pass.

    ``"none"``: nothing; ``"selective"``: the attention core (scores, softmax, values),
    Korthikanti et al. 2022 §4; ``"full"``: the forward of every transformer layer (the LM head
    and embedding projections are not rerun). Other keywords as :func:`forward_flops`.

    >>> from symcalc import Model
    >>> recompute_flops(Model(), recompute="selective", seq_len=4).total
    64*d_model*n_layers
    """
    as_choice("recompute", recompute, RECOMPUTE)
    _check_keywords(kwargs)
    fwd = forward_flops(model, **kwargs)
    if recompute == "none":
        keep: tuple[str, ...] = ()
    elif recompute == "selective":
        keep = tuple(k for k in fwd if k in _ATTENTION_CORE)
    else:
        keep = tuple(k for k in fwd if k not in _OUTSIDE_LAYERS)
    return Breakdown({k: fwd[k] for k in keep}, unit="FLOP", title="recompute FLOPs")


def training_flops(model: Model, *, seq_len: Any = S.seq_len, batch: Any = 1, tokens: Any = None,
                   recompute: Optional[str] = None, causal: Optional[bool] = None,
                   elementwise: Optional[bool] = None, window_flops: Optional[str] = None) -> Breakdown:
    """Training FLOPs: ``forward/...``, ``backward/...`` and ``recompute/...`` parts.

    ``bd.select("forward") + bd.select("backward")`` are the model FLOPs (for MFU); the total,
    with recomputation, the hardware FLOPs (for HFU). ``batch`` sequences make a step;
    ``tokens=D`` a run of D tokens; ``tokens=1`` the count per token.

    .. math::

        F = 3 F_{\\mathrm{fwd}} + F_{\\mathrm{recompute}}

    Examples
    ========

    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=64, n_heads=4, n_kv_heads=4, d_ff=256, vocab=100)
    >>> bd = training_flops(m, seq_len=16, batch=2, recompute="full")
    >>> bd.grouped().as_ints()
    {'forward': 6963200, 'backward': 13926400, 'recompute': 6553600}

    Parameters
    ==========

    recompute : ``"none"``, ``"selective"`` or ``"full"`` (see :func:`recompute_flops`); ``None``:
        the active default (:mod:`symcalc.defaults`: none today, model FLOPs; ``"full"`` in the cookbook's set)
    others : as :func:`forward_flops` (``causal``/``elementwise`` ``None``: the active default, off)
    """
    from ..defaults import resolve

    recompute = resolve("flops_recompute", recompute)
    as_choice("recompute", recompute, RECOMPUTE)
    kw = dict(seq_len=seq_len, batch=batch, tokens=tokens, causal=causal, elementwise=elementwise,
              window_flops=window_flops)
    fwd = forward_flops(model, **kw)
    rec = recompute_flops(model, recompute=recompute, **kw)
    parts = dict(fwd.prefixed("forward"))
    parts.update(_backward_of(fwd).prefixed("backward"))
    parts.update(rec.prefixed("recompute"))
    title = f"training FLOPs (recompute {recompute})" + (f" - {model.name}" if model.name else "")
    return Breakdown(parts, unit="FLOP", title=title)
