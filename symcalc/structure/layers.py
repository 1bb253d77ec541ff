"""Which layers have a property (:class:`LayerSet`), and attention windows (:class:`Window`).

A :class:`LayerSet` names a subset of the ``L`` layers (0-based) by a rule that stays valid when
``L`` is a symbol: every ``k``-th layer from a residue, from a first layer on, or the complement
of such a set; an explicit tuple of indices is kept only when no rule fits. Its
:meth:`~LayerSet.count` is an exact expression in ``L``, so per-layer sums are explicit
(``n_windowed · (window term) + (L − n_windowed) · (full term)``) instead of multiplying by L.

A :class:`Window` says how far back a windowed layer attends and which layers are windowed:

- **sliding** (Mistral, Gemma-2/3 local layers, gpt-oss even layers): query ``i`` sees keys
  ``i−W+1 .. i``;
- **chunked** (Llama-4 local layers): query ``i`` sees the keys of its own chunk of ``C`` tokens
  up to itself, ``C·⌊i/C⌋ .. i``.

Conventions (stated in the documentation's Concepts page):

- **KV cache of a windowed layer** (:meth:`Window.cached_tokens`): ``"window"`` (default) keeps
  ``min(T, W)`` tokens, what static caches (transformers' ``StaticSlidingWindowLayer``) and
  serving engines reserve; ``"window-1"`` keeps ``min(T, W−1)``, what transformers'
  ``DynamicCache`` holds after a forward (``DynamicSlidingWindowLayer`` keeps the last ``W−1``;
  for chunked layers it uses the same layer with ``W = C``).
- **Attention FLOPs of a windowed layer** (:meth:`Window.cumulative_pairs`): ``"square"`` (default) counts
  every query-key pair of the ``s × s`` square, as eager attention computes it before the mask
  (what ``FlopCounterMode`` reports), and at decode the keys the cache hands back
  (``min(c+1, W)``, also ``min(c+1, C)`` for chunked layers); ``"band"`` counts only the pairs
  inside the window or chunk, what a windowed kernel (FlashAttention's ``window_size``, a
  chunked-attention kernel) computes.

>>> from symcalc.symbols import n_layers
>>> LayerSet(every=6, invert=True).count(n_layers)      # Gemma-3: 5 local layers in every 6
n_layers - floor(n_layers/6)
>>> LayerSet.from_indices([0, 2, 4, 6], 8)               # gpt-oss: the even layers
LayerSet(every=2, offset=0)
>>> Window.sliding(4096).cached_tokens(10000), Window.sliding(4096).cached_tokens(100)
(4096, 100)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from sympy import Expr, Integer, Min, Rational, floor

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_bool, as_choice, as_expr, as_size

__all__ = ["LayerSet", "ALL_LAYERS", "NO_LAYERS", "Window", "FULL", "WINDOW_CACHE", "WINDOW_FLOPS"]

#: KV-cache conventions for windowed layers: W tokens (static caches, serving engines) or W−1
#: (transformers' DynamicCache after a forward).
WINDOW_CACHE = ("window", "window-1")
#: FLOPs conventions for windowed layers: the full square eager attention computes, or the band.
WINDOW_FLOPS = ("square", "band")


def _int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SymcalcError(f"LayerSet {name}={value!r} must be a Python int >= {minimum}")
    return value


@dataclass(frozen=True)
class LayerSet:
    """Layers ``i`` (0-based) with ``i >= first`` and ``i % every == offset``, or the complement.

    ``offset`` defaults to ``every − 1`` (the last layer of each block of ``every``: transformers'
    ``(i + 1) % k == 0``, Qwen-MoE's ``decoder_sparse_step``, Llama-4's ``interleave_moe_layer_step``).
    ``invert=True`` takes the other layers (Gemma-3's local layers: all but every 6th).
    ``indices`` lists the layers explicitly instead (only for patterns no rule describes; the
    layer count must then be a number).
    """

    every: int = 1
    offset: Optional[int] = None
    first: int = 0
    invert: bool = False
    indices: Optional[tuple] = None

    def __post_init__(self) -> None:
        _int("every", self.every, 1)
        _int("first", self.first, 0)
        object.__setattr__(self, "invert", as_bool("invert", self.invert))
        if self.offset is None:
            object.__setattr__(self, "offset", self.every - 1)
        off = _int("offset", self.offset, 0)
        if off >= self.every:
            raise SymcalcError(f"LayerSet offset={off} must be below every={self.every}")
        if self.indices is not None:
            if isinstance(self.indices, (str, bytes)) or not hasattr(self.indices, "__iter__"):
                raise SymcalcError(f"LayerSet indices={self.indices!r:.60} must be a tuple of layer indices")
            idx = tuple(sorted({_int("index", i, 0) for i in self.indices}))
            object.__setattr__(self, "indices", idx)

    def __repr__(self) -> str:
        if self.indices is not None:
            return f"LayerSet(indices={self.indices})"
        args = []
        if self.every != 1:
            args.append(f"every={self.every}")
        if self.offset != self.every - 1:
            args.append(f"offset={self.offset}")
        if self.first:
            args.append(f"first={self.first}")
        if self.invert:
            args.append("invert=True")
        return f"LayerSet({', '.join(args)})"

    # --- membership and counts ------------------------------------------------------------
    def __contains__(self, i: int) -> bool:
        if self.indices is not None:
            return i in self.indices
        inside = i >= self.first and i % self.every == self.offset
        return inside != self.invert

    def count(self, n_layers: Any) -> Expr:
        """Layers of the set among ``n_layers`` (an exact expression; L may be a symbol).

        The rule's count is ``⌊(L + k − 1 − o)/k⌋ − ⌊(first + k − 1 − o)/k⌋`` layers (``L − first``
        for k = 1, ``⌊L/k⌋ − ⌊first/k⌋`` for the default offset), assuming ``L ≥ first``.
        """
        L = as_expr("n_layers", n_layers)
        if self.indices is not None:
            if not L.is_number:
                raise SymcalcError(f"a layer set given as indices {self.indices} needs a numeric layer count, not {L}")
            if self.indices and self.indices[-1] >= L:
                raise SymcalcError(f"layer index {self.indices[-1]} is beyond n_layers={L}")
            return Integer(len(self.indices))
        k, o = self.every, self.offset
        if L.is_number and L < self.first:
            raise SymcalcError(f"a layer set from layer {self.first} needs n_layers >= {self.first}, not {L}")
        if k == 1:
            n = L - self.first
        else:
            n = floor((L + k - 1 - o) / k) - floor(Rational(self.first + k - 1 - o, k))
        return L - n if self.invert else n

    def members(self, n_layers: int) -> tuple:
        """The indices of the set among ``n_layers`` layers (numeric)."""
        return tuple(i for i in range(_int("n_layers", n_layers, 0)) if i in self)

    @property
    def is_all(self) -> bool:
        """True for the set of every layer."""
        if self.indices is not None:
            return False
        if self.invert:
            return False
        return self.every == 1 and self.first == 0

    @property
    def is_empty_rule(self) -> bool:
        """True for the empty set (the complement of every layer, or no indices)."""
        if self.indices is not None:
            return len(self.indices) == 0
        return self.invert and self.every == 1 and self.first == 0

    @classmethod
    def from_indices(cls, indices: Sequence[int], n_layers: int) -> LayerSet:
        """The simplest rule whose members among ``n_layers`` are ``indices``; explicit when none fits.

        Rules tried: every layer, none, from a first layer on, every k-th layer from a residue
        (from its first member), and the complements of those.

        >>> LayerSet.from_indices([3, 4, 5], 6), LayerSet.from_indices([5, 11], 12)
        (LayerSet(first=3), LayerSet(every=6))
        >>> LayerSet.from_indices([0, 1, 2, 4, 5, 6], 8)      # all but every 4th
        LayerSet(every=4, invert=True)
        """
        L = _int("n_layers", n_layers, 0)
        if isinstance(indices, (str, bytes)) or not hasattr(indices, "__iter__"):
            raise SymcalcError(f"indices={indices!r:.60} must be a list of layer indices")
        want = tuple(sorted({_int("index", i, 0) for i in indices}))
        if want and (want[0] < 0 or want[-1] >= L):
            raise SymcalcError(f"layer indices {list(want)} are not all in 0..{L - 1}")
        for inverted, members in ((False, want), (True, tuple(i for i in range(L) if i not in want))):
            rule = cls._rule_for(members, L, inverted)
            if rule is not None:
                return rule
        return cls(indices=want)

    @classmethod
    def _rule_for(cls, members: tuple, L: int, invert: bool) -> Optional[LayerSet]:
        if not members:
            return cls(invert=not invert) if L else None
        k = members[1] - members[0] if len(members) > 1 else max(L - members[0], 1)
        first, o = members[0], members[0] % k
        if first < k:
            first = 0
        rule = cls(every=k, offset=o, first=first, invert=invert)
        probe = cls(every=k, offset=o, first=first)
        if probe.members(L) == members:
            return rule
        return None

    def describe(self) -> str:
        """A short phrase: ``"every 6th layer"``, ``"layers 3.."``, ``"all but every 4th layer"``."""
        if self.indices is not None:
            return f"layers {list(self.indices)}"
        if self.every == 1:
            core = "every layer" if not self.first else f"layers {self.first}.."
        else:
            nth = {2: "2nd", 3: "3rd"}.get(self.every, f"{self.every}th")
            core = f"every {nth} layer" + ("" if self.offset == self.every - 1 else f" (index ≡ {self.offset} mod {self.every})")
            if self.first:
                core += f" from layer {self.first}"
        return ("all but " + core) if self.invert else core


#: Every layer.
ALL_LAYERS = LayerSet()
#: No layer.
NO_LAYERS = LayerSet(invert=True)

_KINDS = ("full", "sliding", "chunked")


@dataclass(frozen=True)
class Window:
    """How far back windowed layers attend (``kind``, ``size``) and which layers are windowed.

    ``Window()`` (:data:`FULL`) is full causal attention everywhere. ``Window.sliding(W)``,
    ``Window.chunked(C)`` window every layer unless ``layers`` says which (the others are full).
    ``size`` is a size (the symbol ``window`` or ``chunk`` by default).
    """

    kind: str = "full"
    size: Any = None
    layers: LayerSet = ALL_LAYERS

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise SymcalcError(f"window kind {self.kind!r} is unknown; use one of {', '.join(_KINDS)}")
        if not isinstance(self.layers, LayerSet):
            raise SymcalcError(f"Window layers={self.layers!r} must be a LayerSet")
        if self.kind == "full":
            if self.size is not None:
                raise SymcalcError("a full-attention window has no size; use Window.sliding(W) or Window.chunked(C)")
            object.__setattr__(self, "layers", NO_LAYERS)
            return
        default = S.window if self.kind == "sliding" else S.chunk
        object.__setattr__(self, "size", as_size("sliding_window" if self.kind == "sliding" else "attention_chunk_size",
                                                 default if self.size is None else self.size))

    @classmethod
    def sliding(cls, size: Any = S.window, layers: LayerSet = ALL_LAYERS) -> Window:
        """Sliding-window attention of ``size`` tokens on ``layers`` (default all)."""
        return cls("sliding", size, layers)

    @classmethod
    def chunked(cls, size: Any = S.chunk, layers: LayerSet = ALL_LAYERS) -> Window:
        """Chunked attention (chunks of ``size`` tokens) on ``layers`` (default all)."""
        return cls("chunked", size, layers)

    @property
    def is_full(self) -> bool:
        """True when no layer is windowed."""
        return self.kind == "full" or self.layers.is_empty_rule

    def n_windowed(self, n_layers: Any) -> Expr:
        """Windowed layers among ``n_layers``."""
        return Integer(0) if self.is_full else self.layers.count(n_layers)

    def _subs(self, subs: dict) -> Window:
        """The window with values substituted into its size (``Model.subs`` calls it)."""
        if self.is_full or not isinstance(self.size, Expr):
            return self
        return Window(self.kind, self.size.subs(subs), self.layers)

    # --- per windowed layer -----------------------------------------------------------------
    def cached_tokens(self, tokens: Any, convention: str = "window") -> Expr:
        """Tokens one windowed layer keeps in its KV cache after ``tokens`` tokens (see the module).

        >>> Window.chunked(8192).cached_tokens(10**5, "window-1")
        8191
        """
        as_choice("window_cache", convention, WINDOW_CACHE)
        T = as_expr("tokens", tokens)
        if self.is_full:
            return T
        return Min(T, self.size if convention == "window" else self.size - 1)

    def cumulative_pairs(self, n_queries: Any, convention: str = "band") -> Expr:
        """Query-key pairs of queries ``0 .. N−1`` of one windowed layer (one head, one sequence).

        ``"band"``: the pairs inside the window or chunk. ``"square"`` (decode only: what the
        cache hands back) counts ``min(j+1, W)`` keys for query ``j``, for chunked layers too.

        .. math::

            \\text{sliding: } \\tfrac{m(m+1)}{2} + (N - m) W,\\ m = \\min(N, W); \\qquad
            \\text{chunked: } \\lfloor N/C \\rfloor \\tfrac{C(C+1)}{2} + \\tfrac{r(r+1)}{2},\\ r = N - C\\lfloor N/C \\rfloor

        >>> Window.sliding(3).cumulative_pairs(5), Window.chunked(3).cumulative_pairs(5)
        (12, 9)
        """
        as_choice("window_flops", convention, WINDOW_FLOPS)
        N = as_expr("n_queries", n_queries)
        if self.is_full:
            return N * (N + 1) / 2
        W = self.size
        if self.kind == "chunked" and convention == "band":
            q = floor(N / W)
            r = N - W * q
            return q * W * (W + 1) / 2 + r * (r + 1) / 2
        m = Min(N, W)
        return m * (m + 1) / 2 + (N - m) * W

    def keys_at(self, position: Any, convention: str = "square") -> Expr:
        """Keys a new token at ``position`` (``c`` tokens already cached) meets on one windowed layer.

        ``"square"``: the keys the cache hands back, ``min(c+1, W)`` (transformers caches chunked
        layers as sliding ones of ``C``); ``"band"``: those inside the window or the token's chunk,
        ``c − C⌊c/C⌋ + 1`` for chunked layers. Equal to ``cumulative_pairs(c+1) − cumulative_pairs(c)``.

        >>> Window.chunked(4).keys_at(9, "square"), Window.chunked(4).keys_at(9, "band")
        (4, 2)
        """
        as_choice("window_flops", convention, WINDOW_FLOPS)
        c = as_expr("context_len", position)
        if self.is_full:
            return c + 1
        if self.kind == "chunked" and convention == "band":
            return c - self.size * floor(c / self.size) + 1
        return Min(c + 1, self.size)

    def describe(self) -> str:
        """``"sliding 4096 on all but every 6th layer"``, or ``"full"``."""
        if self.is_full:
            return "full"
        return f"{self.kind} {self.size} on {self.layers.describe()}"


#: Full causal attention on every layer.
FULL = Window()


