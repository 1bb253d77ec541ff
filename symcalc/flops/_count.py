"""The count itself: one pass over some tokens, and training (forward, backward, recompute).

Conventions are stated once, in :mod:`symcalc.flops`.
"""

from __future__ import annotations

from typing import Any

from sympy import Expr, Integer, Rational

from .. import symbols as S
from ..breakdown import Breakdown
from ..errors import SymcalcError
from ..inputs import as_bool, as_choice, as_model, as_size
from ..model import Model
from ..params import params

__all__ = ["RECOMPUTE", "forward_flops", "backward_flops", "recompute_flops", "training_flops"]

#: Activation-recomputation policies: none, the attention core only (Korthikanti et al. 2022
#: §4), or every transformer layer's forward.
RECOMPUTE = ("none", "selective", "full")

#: Matmul weights -> the FLOPs part they feed (the LM head is handled apart: its tokens differ).
_LINEAR_PARTS = (
    "embedding/projection", "attention/qkv", "attention/out", "mlp/up", "mlp/down",
    "moe/router", "moe/experts", "moe/shared_experts", "moe/shared_expert_gate",
)
#: Parts that belong to the transformer layers (what full recomputation reruns).
_OUTSIDE_LAYERS = ("embedding/projection", "lm_head")
#: Parts of the attention core (what selective recomputation reruns).
_ATTENTION_CORE = ("attention/scores", "attention/softmax", "attention/values")

_ORDER = (
    "embedding/projection", "attention/qkv", "attention/scores", "attention/softmax",
    "attention/values", "attention/out", "mlp/up", "mlp/activation", "mlp/down", "moe/router",
    "moe/routing", "moe/experts", "moe/activation", "moe/shared_experts", "moe/shared_expert_gate",
    "norms", "residual", "lm_head",
)


def _count(name: str, value: Any) -> Expr:
    """A positive size or count (tokens, sequences), through the one door (:func:`symcalc.inputs.as_size`)."""
    return as_size(name, value)


#: The keywords :func:`forward_flops` takes besides the model (``backward_flops``/``recompute_flops`` pass them on).
_PASS_KEYWORDS = ("seq_len", "batch", "tokens", "causal", "elementwise")


def _check_keywords(kwargs: dict) -> None:
    unknown = sorted(set(kwargs) - set(_PASS_KEYWORDS))
    if unknown:
        raise SymcalcError(f"unknown keyword(s) {', '.join(unknown)}; forward_flops takes {', '.join(_PASS_KEYWORDS)}")


def matmul_weights(model: Model) -> Breakdown:
    """Weights that multiply each token's activations, by part: ``params`` of the active model,
    biases and norms left out (a linear layer costs 2 FLOPs per weight per token).

    >>> from symcalc import Model
    >>> matmul_weights(Model(n_kv_heads=1))["attention/qkv"]
    d_model**2*n_layers + 2*d_model**2*n_layers/n_heads
    """
    bias_free = model.replace(qkv_bias=False, attn_out_bias=False, mlp_bias=False,
                              router_bias=False, lm_head_bias=False)
    bd = params(bias_free, active=True)
    parts = {k: bd[k] for k in _LINEAR_PARTS if k in bd}
    # The LM head is a v×h_e matmul whether or not it is tied to the token embedding.
    parts["lm_head"] = bd["embedding/token"]
    return Breakdown(parts, unit="params", title="matmul weights")


def _elementwise(model: Model, tokens: Expr, pairs: Expr) -> dict[str, Expr]:
    """Elementwise work of one pass (the costs table of :mod:`symcalc.flops`)."""
    m = model
    L, h = m.n_layers, m.d_model
    gate = 1 if m.gated_mlp else 0
    out: dict[str, Expr] = {"attention/softmax": 3 * L * m.n_heads * pairs}
    if m.n_dense_layers != 0:
        out["mlp/activation"] = tokens * m.n_dense_layers * m.d_ff * (1 + gate)
    if m.is_moe:
        n_moe = m.n_moe_layers
        inner = m.top_k * m.d_ff_expert + m.n_shared_experts * m.d_ff_shared
        out["moe/routing"] = tokens * n_moe * (3 * m.n_experts + 2 * m.top_k * h)
        out["moe/activation"] = tokens * n_moe * inner * (1 + gate)
    per_element = (7 if m.norm_bias else 6) if m.norm == "layernorm" else 4
    n_norms = L * m.norms_per_layer + int(m.final_norm) + int(m.embed_norm)
    out["norms"] = tokens * n_norms * per_element * h
    out["residual"] = tokens * 2 * L * h
    return out


def pass_parts(model: Model, *, tokens: Expr, pairs: Expr, logits: Expr,
               elementwise: bool = False) -> Breakdown:
    """Forward FLOPs of one pass, from what it processes.

    Parameters
    ----------
    tokens : expression
        Tokens that go through the layers.
    pairs : expression
        Query-key pairs per attention head, summed over the sequences (``b·s²`` for a full
        square, ``b·(c+1)`` for one decoded token per sequence at context ``c``).
    logits : expression
        Tokens whose logits the LM head computes.
    """
    model = as_model("model", model)
    elementwise = as_bool("elementwise", elementwise)
    w = matmul_weights(model)
    parts: dict[str, Expr] = {k: 2 * tokens * v for k, v in w.items() if k != "lm_head"}
    core = 2 * model.n_layers * model.q_size * pairs
    parts["attention/scores"] = core
    parts["attention/values"] = core
    parts["lm_head"] = 2 * logits * w["lm_head"]
    if elementwise:
        parts.update(_elementwise(model, tokens, pairs))
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
    causal = as_bool("causal", causal)
    return seq_len**2 / 2 if causal else seq_len**2


def forward_flops(model: Model, *, seq_len: Any = S.seq_len, batch: Any = 1, tokens: Any = None,
                  causal: bool = False, elementwise: bool = False) -> Breakdown:
    """Forward FLOPs of ``batch`` sequences of ``seq_len`` tokens (logits at every position).

    .. math::

        F_{\\mathrm{fwd}} = 2 b s \\, N_{\\mathrm{matmul}} + 4 L b s^2 a d_h + 2 b s v h

    where :math:`N_{\\mathrm{matmul}}` are the layers' matmul weights one token uses (see
    :func:`matmul_weights`). With ``tokens=D`` the count is for a run of D tokens in sequences
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
    """
    s, n = _sequences(seq_len, batch, tokens)
    return pass_parts(model, tokens=n * s, pairs=n * _square(s, causal), logits=n * s,
                      elementwise=elementwise)


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
                   recompute: str = "none", causal: bool = False,
                   elementwise: bool = False) -> Breakdown:
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

    recompute : ``"none"``, ``"selective"`` or ``"full"`` (see :func:`recompute_flops`)
    others : as :func:`forward_flops`
    """
    as_choice("recompute", recompute, RECOMPUTE)
    kw = dict(seq_len=seq_len, batch=batch, tokens=tokens, causal=causal, elementwise=elementwise)
    fwd = forward_flops(model, **kw)
    rec = recompute_flops(model, recompute=recompute, **kw)
    parts = dict(fwd.prefixed("forward"))
    parts.update(_backward_of(fwd).prefixed("backward"))
    parts.update(rec.prefixed("recompute"))
    title = f"training FLOPs (recompute {recompute})" + (f" - {model.name}" if model.name else "")
    return Breakdown(parts, unit="FLOP", title=title)
