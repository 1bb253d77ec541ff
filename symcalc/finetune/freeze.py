"""Frozen parts: parameters that keep their weights but get no gradient and no optimizer state.

A :class:`Freeze` names parts (words of :data:`FREEZE_PARTS`) and a range of layers; what it
freezes is counted from :func:`symcalc.params`, so the same freeze works on any model. Freezing
removes a part's gradients, master copy and optimizer states, never its weights; backward still
needs the activations that carry the gradient to earlier trainable parts (see
:mod:`symcalc.memory.activations`): only layers before the first trainable parameter save nothing.

>>> from symcalc import Model
>>> m = Model.preset("llama-2-7b")
>>> fr = Freeze(parts=("embedding", "lm_head"))
>>> int(sum(fr.frozen(m).values()))
262144000
>>> int(sum(Freeze(layers=(0, 8)).frozen(m).values())) == 8 * 202383360
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sympy import Expr, Integer

from ..errors import SymcalcError
from ..inputs import as_bool, as_int, as_model

__all__ = ["Freeze", "FREEZE_PARTS", "ALL"]

#: Freeze words -> the parameter parts (prefixes of :func:`symcalc.params` names) they cover.
FREEZE_PARTS: dict[str, tuple[str, ...]] = {
    "all": ("",),
    "embedding": ("embedding/",),
    "lm_head": ("lm_head/",),
    "norms": ("norms", "final_norm", "embedding/norm"),
    "attention": ("attention/",),
    "mlp": ("mlp/",),
    "moe": ("moe/",),
    "router": ("moe/router",),
    "experts": ("moe/experts",),
    "shared_experts": ("moe/shared_expert",),
}
#: Parameter parts inside the transformer layers (what a layer range freezes).
_LAYER_PREFIXES = ("attention/", "mlp/", "moe/", "norms")


@dataclass(frozen=True)
class Freeze:
    """Parts frozen by name (:data:`FREEZE_PARTS`) and a layer range ``[start, stop)`` frozen whole.

    ``layers=k`` freezes the first k layers; ``layers=(a, b)`` layers a to b-1 (0-based). Layer
    ranges need numbers (the model's layer count may stay symbolic).
    """

    parts: Any = ()
    layers: Any = None

    def __post_init__(self) -> None:
        parts = self.parts
        if isinstance(parts, str):
            parts = tuple(p for p in parts.split(",") if p.strip())
        if not isinstance(parts, (tuple, list)):
            raise SymcalcError(f"parts={parts!r:.60} must be a tuple of {', '.join(FREEZE_PARTS)}")
        clean = []
        for p in parts:
            word = p.strip().lower().replace("-", "_") if isinstance(p, str) else p
            if word not in FREEZE_PARTS:
                raise SymcalcError(f"freeze: {p!r:.60} is not a part; use {', '.join(FREEZE_PARTS)} "
                                   "or layers=N / layers=A-B")
            clean.append(word)
        object.__setattr__(self, "parts", tuple(dict.fromkeys(clean)))
        layers = self.layers
        if layers is not None:
            if isinstance(layers, (tuple, list)):
                if len(layers) != 2:
                    raise SymcalcError(f"layers={layers!r:.60} must be a count k or a range (start, stop)")
                start = as_int("layers start", layers[0], minimum=0)
                stop = as_int("layers stop", layers[1], minimum=start + 1)
            else:
                start, stop = 0, as_int("layers", layers, minimum=0)
            object.__setattr__(self, "layers", None if stop == start else (start, stop))

    @classmethod
    def everything(cls) -> Freeze:
        """Every base parameter frozen (LoRA, QLoRA, DoRA)."""
        return cls(parts=("all",))

    @property
    def is_all(self) -> bool:
        """True when every parameter is frozen (``parts`` includes ``all``)."""
        return "all" in self.parts

    def describe(self) -> str:
        """One line for tables: the frozen parts and layer range, or ``nothing``."""
        words = list(self.parts)
        if self.layers is not None:
            words.append(f"layers {self.layers[0]}-{self.layers[1] - 1}")
        return ", ".join(words) if words else "nothing"

    def _check(self, m) -> None:
        if "lm_head" in self.parts and m.tied_embeddings and "embedding" not in self.parts and not self.is_all:
            raise SymcalcError("freeze: lm_head is tied to the embedding (one matrix); freeze embedding to freeze both")
        if self.layers is not None:
            stop = self.layers[1]
            if (m.n_layers - stop).is_negative:
                raise SymcalcError(f"freeze: layers up to {stop - 1} but the model has {m.n_layers} layers (0-based "
                                   f"indices 0-{m.n_layers - 1})")

    def layer_counts(self, model) -> tuple[Expr, Expr]:
        """(frozen dense layers, frozen MoE layers) of the layer range."""
        m = as_model("model", model)
        if self.layers is None:
            return Integer(0), Integer(0)
        start, stop = self.layers
        moe = _moe_below(m, stop) - _moe_below(m, start)
        return Integer(stop - start) - moe, moe

    def frozen(self, model) -> dict[str, Expr]:
        """Frozen parameters by part of :func:`symcalc.params` (parts with nothing frozen are left out)."""
        from ..params import params

        m = as_model("model", model)
        self._check(m)
        counts = params(m)
        dense, moe = self.layer_counts(m)
        out: dict[str, Expr] = {}
        for part, count in counts.items():
            if any(part.startswith(prefix) for w in self.parts for prefix in FREEZE_PARTS[w]):
                out[part] = count
            elif self.layers is not None and part.startswith(_LAYER_PREFIXES):
                if part.startswith("mlp/"):
                    share = dense / m.n_dense_layers
                elif part.startswith("moe/"):
                    share = moe / m.n_moe_layers
                else:
                    share = (dense + moe) / m.n_layers
                if share != 0:
                    out[part] = count * share
        return out

    def frozen_layers_before_grad(self, model, adapter_layers: bool = False) -> Expr:
        """Leading layers through which no gradient flows (they save no activations for backward).

        Those are the frozen layers from layer 0 up, when nothing before them (the embedding, its
        norm, its position table) is trainable and no adapter sits in them.
        """
        m = as_model("model", model)
        if as_bool("adapter_layers", adapter_layers):
            return Integer(0)
        if self.is_all:
            return m.n_layers
        emb_frozen = "embedding" in self.parts
        if not emb_frozen or self.layers is None or self.layers[0] != 0:
            return Integer(0)
        return Integer(self.layers[1])


#: Everything frozen: the base of a LoRA, QLoRA or DoRA run.
ALL = Freeze(parts=("all",))


def _moe_below(m, k: int) -> Expr:
    """MoE layers among the first ``k`` (the model's MoE layer set, :attr:`Model.moe_layers`)."""
    if not m.is_moe:
        return Integer(0)
    return Integer(sum(1 for i in range(k) if i in m.moe_layers))
