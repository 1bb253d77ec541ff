"""What backward saves when parts are frozen or adapted: the activation terms of adapters and frozen weights.

Autograd saves a tensor only for a gradient someone needs. A linear ``y = x Wᵀ`` keeps ``x`` only
to form ``∂W``; with ``W`` frozen its input is not saved (unless another trainable consumer of the
same tensor needs it), while the gradient still flows to ``x`` through ``W``. The same holds for a
norm's weight (hf-eager's cast normalised tensor). Layers before the first trainable parameter,
when nothing before them trains either, save nothing at all. A LoRA adapter on a linear keeps its
own: ``A``'s input (peft casts it to the adapter's dtype, so one copy per adapted matrix when that
differs from the activation dtype; the shared input otherwise) and ``A``'s ``r``-wide output, in
the adapter's dtype; DoRA also keeps the base output and the LoRA output for its magnitude, and
while it recomputes each magnitude's weight norm holds an identity, ``BA`` and the weight for one
matrix at a time (:meth:`GradFlow.dora_transient`, part ``dora/weight_norm``).

:class:`GradFlow` carries this from :class:`~symcalc.finetune.LoRA` and
:class:`~symcalc.finetune.Freeze` to :mod:`symcalc.memory.activations`; the conformance tests
measure it on peft models (``saved_tensors_hooks``).

>>> from symcalc import Model
>>> from symcalc.finetune import LoRA
>>> from symcalc.memory import layer_activations
>>> m = Model.preset("llama-2-7b")
>>> full = layer_activations(m, seq_len=4096, micro_batch=1, dropout=False).total
>>> lora = layer_activations(m, seq_len=4096, micro_batch=1, dropout=False, flow=grad_flow(m, adapter=LoRA(8, "q,v"))).total
>>> int(full - lora)  # the four linear inputs no longer saved, less the fp32 copies of x and r-wide outputs for q, v
56360960
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from sympy import Expr, Integer, Max, Piecewise

from ..errors import SymcalcError
from ..inputs import as_model
from .adapters import LoRA, adapted_matrices

__all__ = ["GradFlow", "grad_flow"]

#: Freeze words -> the target words whose weights they freeze.
_FROZEN_WORDS = {
    "attention": {"q", "k", "v", "q_a", "q_b", "kv_a", "kv_b", "o"},
    "mlp": {"gate", "up", "down"},
    "moe": {"router", "expert_gate", "expert_up", "expert_down", "gate", "up", "down", "shared_expert_gate"},
    "router": {"router"},
    "experts": {"expert_gate", "expert_up", "expert_down"},
    "shared_experts": {"gate", "up", "down", "shared_expert_gate"},
    "lm_head": {"lm_head"},
    "embedding": {"embed_proj"},
}
_ALL_WORDS = {"q", "k", "v", "q_a", "q_b", "kv_a", "kv_b", "o", "gate", "up", "down", "router", "expert_gate",
              "expert_up", "expert_down", "shared_expert_gate", "embed_proj", "lm_head"}


@dataclass(frozen=True)
class GradFlow:
    """Which weights train, the adapter, and how many leading layers see no gradient (see the module docstring).

    ``train`` are the target words whose base weights train in the trainable layers;
    ``norms_train`` whether norm weights do; ``frozen_layers`` (dense, MoE) layers inside a frozen
    layer range that still pass the gradient through; ``dead_layers`` (dense, MoE) leading layers
    that save nothing.
    """

    train: frozenset
    norms_train: bool
    adapter: Optional[LoRA]
    frozen_layers: tuple
    dead_layers: tuple
    lm_head_trains: bool
    embedding_trains: bool

    def adjust(self, parts: dict, model, *, x: Expr, beta: Expr, t: Expr, moe_layer: bool, hf: bool,
               layer_frozen: bool = False, first_layer: bool = False, sp: Expr = Integer(1)) -> dict:
        """One layer's saved tensors with what frozen weights drop and what the adapter adds.

        ``first_layer``: the first layer a gradient reaches, its input carrying none (the embedding
        frozen): its input norm saves nothing, and ``q·kᵀ`` keeps ``q`` only for ``k``'s gradient and
        ``k`` only for ``q``'s.
        """
        m = model
        train = set() if layer_frozen else set(self.train)
        adapted = self._adapted(m, moe_layer)
        cast = self.adapter is not None and self.adapter.bytes_adapter != beta
        lora_words = set() if cast else {w for a in adapted for w in a.linear.members}
        if moe_layer:
            up = {"router", "expert_gate", "expert_up", "gate", "up", "shared_expert_gate"}
            down = {"expert_down", "down"}
        else:
            up, down = {"gate", "up"}, {"down"}
        # the tensors kept for a weight's gradient only, and the matrices that read them (MLA's latent
        # is the input of its up-projections)
        consumers = {"attention/qkv_input": {"q", "k", "v", "q_a", "kv_a"}, "attention/latent": {"q_b", "kv_b"},
                     "attention/out_input": {"o"}, "mlp/input": up, "mlp/down_input": down}
        if "mlp/input" not in parts:  # a parallel block with one norm: Q/K/V and the MLP read one tensor
            consumers["attention/qkv_input"] = consumers["attention/qkv_input"] | up
        out = dict(parts)
        for name, words in consumers.items():
            if name in out and not (words & (train | lora_words)):
                del out[name]
        if hf and (layer_frozen or not self.norms_train):
            out.pop("norm/normalized", None)
        if first_layer and not m.is_mla:
            self._first_layer(out, m, x=x, beta=beta, sp=sp, hf=hf, adapted=adapted, train=train)
        out.update(self._adapter_tensors(m, adapted, x=x, beta=beta, t=t, cast=cast, moe_layer=moe_layer))
        return out

    def dora_transient(self, model, t: Expr) -> Expr:
        """Bytes DoRA holds for a moment while it recomputes a magnitude's norm ‖W + s·BA‖ (0 without DoRA).

        peft forms ``B·A`` as ``B(A(I))`` from an identity of ``d_in²`` (and ``A(I)``, ``d_in·r``), then the
        base weight in the adapter's dtype, ``s·BA`` and the sum: ``4·d_in·d_out`` with ``BA``, all in the
        adapter's dtype, for one adapted matrix at a time; the largest counts (peft 0.21, ``lora/dora.py``;
        the peak of a peft layer's forward, measured, agrees within 1%). A 4-bit base's dequantized copy
        (QDoRA) is not added.
        """
        if self.adapter is None or not self.adapter.dora:
            return Integer(0)
        sizes = []
        for a in self._all_adapted(model):
            d_in = a.d_in / t if a.linear.tp == "row" else a.d_in
            d_out = a.d_out / t if a.linear.tp == "column" else a.d_out
            size = d_in * d_in + d_in * a.rank + 4 * d_in * d_out
            present = a.count.is_positive
            if present is not False:
                sizes.append(size if present else Piecewise((size, a.count > 0), (0, True)))
        if not sizes:
            return Integer(0)
        return self.adapter.bytes_adapter * (Max(*sizes) if len(sizes) > 1 else sizes[0])

    def adjust_output(self, parts: dict, model, *, x: Expr, beta: Expr, t: Expr, sp: Expr, hf: bool) -> dict:
        """The output layer's saved tensors: the LM head's input only when the head (or its adapter) trains."""
        m = model
        out = dict(parts)
        adapted = [a for a in self._all_adapted(m) if a.name == "lm_head"]
        cast = self.adapter is not None and self.adapter.bytes_adapter != beta
        if not self.lm_head_trains and not (adapted and not cast):
            out.pop("output/head_input", None)
        if hf and not self.norms_train and "output/final_norm" in out and m.norm == "rmsnorm":
            out["output/final_norm"] = out["output/final_norm"] - beta * x * m.d_model / sp
        if not self.embedding_trains:
            out.pop("embedding/token_ids", None)  # the embedding's backward needs the ids for its weight only
            out.pop("embedding/dropout_mask", None)  # nothing before the dropout takes a gradient
        out.update(self._adapter_tensors(m, adapted, x=x, beta=beta, t=t, cast=cast, moe_layer=False))
        transient = self.dora_transient(m, t)
        if transient != 0:
            out["dora/weight_norm"] = transient
        return out

    # --- the adapter's own tensors ------------------------------------------------------------
    def _all_adapted(self, m) -> list:
        return list(adapted_matrices(m, self.adapter)) if self.adapter is not None else []

    def _adapted(self, m, moe_layer: bool) -> list:
        """The adapted matrices of one layer of this kind (dense or MoE)."""
        out = []
        for a in self._all_adapted(m):
            layers = a.linear.layers
            if layers == "all" or (layers == "moe") == moe_layer and layers != "ends":
                out.append(a)
        return out

    def _adapter_tensors(self, m, adapted: list, *, x: Expr, beta: Expr, t: Expr, cast: bool,
                         moe_layer: bool) -> dict:
        if not adapted:
            return {}
        b, r_kind = self.adapter.bytes_adapter, self.adapter.kind
        out: dict[str, Expr] = {}
        for a in adapted:
            lin = a.linear
            per_matrix = a.count / _count_per_layer(m, lin)  # matrices of this kind in one layer
            d_in = a.d_in / t if lin.tp == "row" else a.d_in
            d_out = a.d_out / t if lin.tp == "column" else a.d_out
            tokens = x * (m.top_k / m.n_experts if lin.expert else 1)  # routed tokens per expert
            n = per_matrix * tokens
            if cast:
                out[f"{r_kind}/{a.name}/input"] = b * n * d_in
            out[f"{r_kind}/{a.name}/hidden"] = b * n * a.rank
            if self.adapter.dora:
                out[f"dora/{a.name}/base_output"] = beta * n * d_out
                out[f"dora/{a.name}/lora_output"] = b * n * d_out
                # magnitude / norm and the two products by it keep three d_out vectors
                out[f"dora/{a.name}/scale"] = 3 * b * per_matrix * d_out
        return out

    def _first_layer(self, out: dict, m, *, x: Expr, beta: Expr, sp: Expr, hf: bool, adapted: list,
                     train: set) -> None:
        """Drop what the first layer keeps only for a gradient its input does not take (in place)."""
        norms = m.norms_per_layer if not (m.parallel_block and m.norms_per_layer == 1) else 1
        share = Integer(1) / norms  # one of the layer's norms reads the layer input
        if hf and "norm/input_fp32" in out:
            out["norm/input_fp32"] = out["norm/input_fp32"] * (1 - share)
            out["norm/rstd"] = out["norm/rstd"] * (1 - share)
        elif hf and "norm/stats" in out:
            out["norm/inputs"] = out["norm/inputs"] * (1 - share)
            out["norm/stats"] = out["norm/stats"] * (1 - share)
        elif "norm/inputs" in out:
            out["norm/inputs"] = out["norm/inputs"] - beta * x * m.d_model / sp
        grad = train | {w for a in adapted for w in a.linear.members}
        if "k" not in grad:
            out.pop("attention/q", None)
        if "q" not in grad:
            out.pop("attention/k", None)


def first_live_layer(m, flow: GradFlow) -> tuple[Optional[bool], Expr]:
    """(whether the first layer a gradient reaches is an MoE layer, 1 if it exists else 0); (None, 0) when none.

    That layer is the first after the dead ones, when the embedding does not train; with a symbolic
    layer count its existence is a Piecewise.
    """
    if flow.embedding_trains:
        return None, Integer(0)
    i = flow.dead_layers[0] + flow.dead_layers[1]
    if not i.is_number:
        return None, Integer(0)
    exists = (m.n_layers - i).is_positive
    if exists is False:
        return None, Integer(0)
    one = Integer(1) if exists else Piecewise((1, m.n_layers > i), (0, True))
    i = int(i)
    return bool(m.is_moe and i in m.moe_layers), one


def _count_per_layer(m, lin) -> Expr:
    """Layers holding matrices of this kind: all L, the dense or MoE layers, or 1 (the ends)."""
    return {"all": m.n_layers, "dense": m.n_dense_layers, "moe": m.n_moe_layers, "ends": Integer(1)}[lin.layers]


def grad_flow(model, *, adapter: Any = None, freeze: Any = None) -> Optional[GradFlow]:
    """The :class:`GradFlow` of a run: None when everything trains (nothing to adjust)."""
    from . import as_adapter, as_freeze

    m = as_model("model", model)
    adapter = as_adapter(adapter)
    fr = as_freeze(freeze, adapter)
    if adapter is None and not fr.parts and fr.layers is None:
        return None
    if fr.is_all:
        train, norms = set(), False
    else:
        frozen_words = set().union(*(_FROZEN_WORDS.get(w, set()) for w in fr.parts))
        train, norms = _ALL_WORDS - frozen_words, "norms" not in fr.parts
    dense_range, moe_range = fr.layer_counts(m)
    dead = fr.frozen_layers_before_grad(m, adapter_layers=_adapter_in_layers(m, adapter))
    if dead == m.n_layers:
        dead_dense, dead_moe = m.n_dense_layers, m.n_moe_layers
    elif dead == 0:
        dead_dense, dead_moe = Integer(0), Integer(0)
    else:
        dead_dense, dead_moe = dense_range, moe_range  # the frozen range starts at layer 0
    frozen_layers = (dense_range - dead_dense, moe_range - dead_moe) if not fr.is_all else (Integer(0), Integer(0))
    lm_head = "lm_head" in train and not (m.tied_embeddings and "embedding" in fr.parts)
    if fr.is_all and adapter is not None and not _adapter_in_layers(m, adapter) and not _adapted_ends(m, adapter):
        raise SymcalcError("the adapter adapts nothing in this model")
    embedding = not fr.is_all and "embedding" not in fr.parts
    return GradFlow(frozenset(train), norms, adapter, frozen_layers, (dead_dense, dead_moe), lm_head, embedding)


def _adapter_in_layers(m, adapter: Optional[LoRA]) -> bool:
    return adapter is not None and any(a.linear.layers != "ends" for a in adapted_matrices(m, adapter))


def _adapted_ends(m, adapter: Optional[LoRA]) -> bool:
    return adapter is not None and any(a.linear.layers == "ends" for a in adapted_matrices(m, adapter))

