"""The checks and defaults a :class:`~symcalc.model.Model` applies to its structure objects.

Called from ``Model.__post_init__`` (``self`` is the model being built, ``set_`` sets a field of
the frozen dataclass).
"""

from __future__ import annotations

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_size
from .attention import GQA, MLA
from .layers import FULL, LayerSet, Window
from .mtp import MTP

__all__ = ["defaults", "mla_sizes", "moe_layout"]


def defaults(self, set_) -> None:
    """Default and check the structure objects (attention kind, window, MTP)."""
    if self.attention is None:
        set_("attention", GQA())
    elif not isinstance(self.attention, (GQA, MLA)):
        raise SymcalcError(f"attention={self.attention!r} is not an attention kind; use symcalc.structure.GQA(...) or MLA(...)")
    if self.window is None:
        set_("window", FULL)
    elif not isinstance(self.window, Window):
        raise SymcalcError(f"window={self.window!r} is not a Window; use symcalc.structure.Window.sliding(W) or .chunked(C)")
    if self.mtp is not None and not isinstance(self.mtp, MTP):
        raise SymcalcError(f"mtp={self.mtp!r} is not an MTP; use symcalc.structure.MTP(n_modules) or None")
    if self.moe_layers is not None and not isinstance(self.moe_layers, LayerSet):
        raise SymcalcError(f"moe_layers={self.moe_layers!r} is not a LayerSet; use symcalc.structure.LayerSet(...)")

def mla_sizes(self, set_) -> None:
    """MLA: every head has its own K and V (g = a); d_h is the query-key width d_n + d_r."""
    if self.n_kv_heads in (S.n_kv_heads, self.n_heads):
        set_("n_kv_heads", self.n_heads)
    d_qk = self.attention.d_qk
    if self.d_head is not None and as_size("d_head", self.d_head) != d_qk:
        raise SymcalcError(f"d_head={self.d_head} with MLA: the head width is d_nope + d_rope = {d_qk}; leave d_head out")
    set_("d_head", d_qk)
    if not self.window.is_full:
        raise SymcalcError("MLA with a sliding or chunked window is not modelled (no released model has both); "
                           "use full attention with MLA")

def moe_layout(self, set_) -> None:
    """``moe_layers`` from ``moe_interval``/``first_dense_layers``, or those from a given rule."""
    rule = LayerSet(every=self.moe_interval, first=self.first_dense_layers)
    if self.moe_layers is None:
        set_("moe_layers", rule)
    elif self.moe_layers != rule:
        if (self.moe_interval, self.first_dense_layers) != (1, 0):
            raise SymcalcError("moe_layers and moe_interval/first_dense_layers both given; give one layout")
        given = self.moe_layers
        if given.indices is None and not given.invert and given.offset == given.every - 1:
            set_("moe_interval", given.every)
            set_("first_dense_layers", given.first)
    if self.moe_layers.indices is not None and not self.n_layers.is_number:
        raise SymcalcError(f"moe_layers given as indices need a numeric n_layers, not {self.n_layers}")
