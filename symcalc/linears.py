"""The linear layers of a model: what an adapter can target and what a storage format quantizes.

One inventory, read from the model's structure (its attention sizes, its MLP kind, its experts,
its embeddings and which linears its implementation fuses), so LoRA targets and quantized
storage never rely on a hard-coded layer list. Each :class:`Linear` is one kind of weight matrix
``d_in -> d_out`` and how many of them the model has; biases, norms and embeddings tables are
not linears (an LM head is one, even when tied to the embedding).

Target words (:data:`TARGETS`) name the matrices the way LoRA recipes do:

======================  ==================================================================
``q k v o``             attention projections (``qkv`` when the model fuses them: GPT-NeoX); MLA's
                        ``q_a q_b kv_a kv_b o`` (or ``q`` without a query LoRA: DeepSeek-V2-Lite)
``gate up down``        every plain MLP: the dense layers' and the shared experts' (a plain
                        two-matrix MLP has ``up`` and ``down`` only; ``gate_up`` when fused: Phi-3)
``expert_gate``         the routed experts' matrices, one per expert (transformers 5 stores each
``expert_up``           layer's experts as one 3-D tensor: ``gate_up_proj`` ``[E, 2f, h]`` and
``expert_down``         ``down_proj`` ``[E, h, f]``)
``router``              the MoE router (``h -> E``)
``shared_expert_gate``  Qwen2-MoE's one-output gate on the shared expert
``embed_proj``          OPT-350m's ``project_in``/``project_out``
``lm_head``             the output projection
======================  ==================================================================

Aliases (:data:`ALIASES`): ``attention`` (q, k, v, o), ``mlp`` (gate, up, down), ``experts``
(the three expert words), ``all-linear`` (every word but ``lm_head``: peft's ``"all-linear"``).

>>> from symcalc import Model
>>> [(l.name, l.d_in, l.d_out, l.count) for l in linears(Model.preset("llama-2-7b"))][:3]
[('q', 4096, 4096, 32), ('k', 4096, 4096, 32), ('v', 4096, 4096, 32)]
>>> [l.name for l in linears(Model.preset("pythia-160m"))]
['qkv', 'o', 'up', 'down', 'lm_head']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from sympy import Expr, Integer, Ne, Piecewise
from sympy.logic.boolalg import false, true

from .errors import SymcalcError
from .inputs import as_model

__all__ = ["TARGETS", "ALIASES", "linears", "resolve_targets"]

#: Target words, in the order an inventory lists them.
TARGETS = ("q", "k", "v", "q_a", "q_b", "kv_a", "kv_b", "o", "gate", "up", "down", "router", "expert_gate",
           "expert_up", "expert_down", "shared_expert_gate", "embed_proj", "lm_head")
#: Words that stand for several targets.
ALIASES = {
    "attention": ("q", "k", "v", "q_a", "q_b", "kv_a", "kv_b", "o"),
    "mlp": ("gate", "up", "down"),
    "experts": ("expert_gate", "expert_up", "expert_down"),
    "all-linear": tuple(t for t in TARGETS if t != "lm_head"),
}


@dataclass(frozen=True)
class Linear:
    """One kind of weight matrix: ``count`` matrices ``d_in -> d_out`` in parameter part ``part``.

    ``members`` are the target words it holds (``("q", "k", "v")`` for a fused QKV matrix);
    ``tp`` is how tensor parallelism splits it: ``"column"`` (``d_out``), ``"row"`` (``d_in``)
    or ``"replicated"``; ``expert`` marks routed experts (divided over expert parallelism);
    ``layers`` says where it lives: ``"all"`` layers, ``"dense"`` or ``"moe"`` layers, or
    ``"ends"`` (embedding projections, LM head).
    """

    name: str
    members: tuple
    part: str
    d_in: Expr
    d_out: Expr
    count: Expr
    tp: str = "column"
    layers: str = "all"
    expert: bool = False

    @property
    def weights(self) -> Expr:
        """Weights of all matrices of this kind: ``count · d_in · d_out``."""
        return self.count * self.d_in * self.d_out


def _attention(m) -> list[Linear]:
    """The attention kind's matrices (:mod:`symcalc.structure.attention`), one of each per layer."""
    return [Linear(name, members, part, d_in, d_out, m.n_layers, tp=tp)
            for name, members, part, d_in, d_out, tp in m.attention._linears(m)]


def _mlp(m, inner: Expr, n: Expr, *, prefix: str, part: str, words: dict, layers: str, expert: bool = False,
         fuse: bool = True, down_part: str = "") -> list[Linear]:
    """A plain MLP's matrices (``n`` of each): gate and up (or up only), down."""
    h = m.d_model
    down_part = down_part or part
    up_words = ("gate", "up") if m.gated_mlp else ("up",)
    out = []
    if m.gated_mlp and fuse and "gate_up" in m.fused_linears:
        out.append(Linear(prefix + "gate_up", tuple(words[w] for w in up_words), part, h, 2 * inner, n,
                          layers=layers, expert=expert))
    else:
        out += [Linear(prefix + w, (words[w],), part, h, inner, n, layers=layers, expert=expert) for w in up_words]
    out.append(Linear(prefix + "down", (words["down"],), down_part, inner, h, n, tp="row", layers=layers,
                      expert=expert))
    return out


def linears(model) -> tuple[Linear, ...]:
    """Every kind of weight matrix of ``model``, in :data:`TARGETS` order (see the module docstring).

    The weights of the matrices of a part add up to that part of :func:`symcalc.params` (its
    weights; biases are parts of their own).

    >>> from symcalc import Model
    >>> [l.name for l in linears(Model.preset("mixtral-8x7b"))]
    ['q', 'k', 'v', 'o', 'router', 'experts/gate', 'experts/up', 'experts/down', 'lm_head']
    """
    m = as_model("model", model)
    h, V, he = m.d_model, m.padded_vocab, m.d_embed
    plain = {"gate": "gate", "up": "up", "down": "down"}
    out = _attention(m)
    if m.n_dense_layers != 0:
        out += _mlp(m, m.d_ff, m.n_dense_layers, prefix="", part="mlp/up", down_part="mlp/down", words=plain,
                    layers="dense")
    if m.is_moe:
        n_moe = m.n_moe_layers
        out.append(Linear("router", ("router",), "moe/router", h, m.n_experts, n_moe, tp="replicated", layers="moe"))
        words = {"gate": "expert_gate", "up": "expert_up", "down": "expert_down"}
        out += _mlp(m, m.d_ff_expert, n_moe * m.n_experts, prefix="experts/", part="moe/experts", words=words,
                    layers="moe", expert=True, fuse=False)
        if m.n_shared_experts != 0:
            out += _mlp(m, m.d_ff_shared, n_moe * m.n_shared_experts, prefix="shared/", part="moe/shared_experts",
                        words=plain, layers="moe")
            if m.shared_expert_gate:
                out.append(Linear("shared_expert_gate", ("shared_expert_gate",), "moe/shared_expert_gate", h,
                                  Integer(1), n_moe, tp="replicated", layers="moe"))
    differ = Ne(he, h)
    if differ is not false:  # OPT-350m; a Piecewise count when the widths are symbols (as in params)
        one = Integer(1) if differ is true else Piecewise((1, differ), (0, True))
        out += [Linear("embed_proj/in", ("embed_proj",), "embedding/projection", he, h, one,
                       tp="replicated", layers="ends"),
                Linear("embed_proj/out", ("embed_proj",), "embedding/projection", h, he, one,
                       tp="replicated", layers="ends")]
    head_part = "embedding/token" if m.tied_embeddings else "lm_head/weight"
    out.append(Linear("lm_head", ("lm_head",), head_part, he, V, Integer(1), layers="ends"))
    return tuple(out)


def resolve_targets(targets: Any, *, flag: str = "targets") -> tuple[str, ...]:
    """Target words from a comma-separated string or a sequence, aliases expanded, in :data:`TARGETS` order.

    >>> resolve_targets("q,v")
    ('q', 'v')
    >>> resolve_targets(["mlp", "o"])
    ('o', 'gate', 'up', 'down')
    >>> resolve_targets("q,query")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: targets: 'query' is not a target; use q, k, v, q_a, q_b, kv_a, kv_b, o, gate, up, down, router, expert_gate, expert_up, expert_down, shared_expert_gate, embed_proj, lm_head, or attention, mlp, experts, all-linear
    """
    if isinstance(targets, str):
        words: Iterable = targets.split(",")
    elif isinstance(targets, (tuple, list, frozenset, set)):
        words = targets
    else:
        raise SymcalcError(f"{flag}={targets!r:.60} must be a comma-separated string or a list of target words")
    chosen: set[str] = set()
    for word in words:
        if not isinstance(word, str):
            raise SymcalcError(f"{flag}: {word!r:.60} is not a target word")
        w = word.strip().lower().replace("-", "_") if word.strip().lower() != "all-linear" else "all-linear"
        if w in ("all_linear",):
            w = "all-linear"
        if w in ALIASES:
            chosen.update(ALIASES[w])
        elif w in TARGETS:
            chosen.add(w)
        elif w:
            raise SymcalcError(f"{flag}: {word.strip()!r:.60} is not a target; use {', '.join(TARGETS)}, "
                               f"or {', '.join(ALIASES)}")
    if not chosen:
        raise SymcalcError(f"{flag} is empty; name at least one target (e.g. q,v or all-linear)")
    return tuple(t for t in TARGETS if t in chosen)
