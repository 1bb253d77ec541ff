"""The model description: sizes as sympy expressions, structure as options.

A :class:`Model` is immutable. Its *sizes* (layers, hidden size, heads, ...) are sympy
expressions: the symbols of :mod:`symcalc.symbols` by default, numbers when known, or any mix.
Its *structure* (gated MLP, norm kind, which linears have biases, tied embeddings, position
kind, MoE layout) is plain Python, because structure changes the shape of an expression.

>>> from symcalc import Model
>>> m = Model()                      # fully symbolic: every size is a symbol
>>> m.n_layers, m.d_model, m.d_head
(n_layers, d_model, d_model/n_heads)
>>> Model(n_layers=32, d_model=4096, n_heads=32).d_head
128
>>> Model(d_model=4096, n_heads=48)
Traceback (most recent call last):
...
symcalc.errors.SymcalcError: n_heads=48 does not divide d_model=4096; give d_head explicitly or pick n_heads dividing d_model
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional

from sympy import Expr, Integer, ceiling

from . import symbols as S
from .structure import _model as _structure
from .dropout import Dropout
from .errors import SymcalcError
from .inputs import as_bool, as_count, as_size, as_text

__all__ = ["Model", "NORMS", "POSITIONS", "ACTIVATIONS", "FUSED_LINEARS"]

#: Norm kinds a :class:`Model` takes (``norm=``).
NORMS = ("layernorm", "rmsnorm")
#: Positional-encoding kinds (``position=``); only ``learned`` has parameters.
POSITIONS = ("rope", "alibi", "none", "learned")
#: MLP activation functions (``activation=``).
ACTIVATIONS = ("gelu", "silu", "relu", "gelu_tanh")
#: Linears an implementation may store as one matrix: Q, K and V (``qkv``: GPT-2's ``c_attn``,
#: GPT-NeoX's ``query_key_value``, Phi-3's ``qkv_proj``) and a gated MLP's gate and up (``gate_up``:
#: Phi-3's ``gate_up_proj``). Counts do not change; what an adapter or a row-wise scale sees does.
FUSED_LINEARS = ("qkv", "gate_up")

#: Structure options that are True or False.
_FLAG_FIELDS = (
    "qkv_bias", "attn_out_bias", "gated_mlp", "mlp_bias", "final_norm", "embed_norm", "parallel_block",
    "tied_embeddings", "lm_head_bias", "router_bias", "shared_expert_gate",
)
# Size fields: name -> default (a symbol, or None for a default derived from other fields).
_SIZE_FIELDS = (
    "n_layers", "d_model", "n_heads", "n_kv_heads", "d_head", "d_ff", "vocab",
    "n_positions", "d_embed", "n_experts", "top_k", "d_ff_expert", "n_shared_experts",
    "d_ff_shared", "vocab_multiple",
)


def _as_size(name: str, value: Any, *, allow_zero: bool = False) -> Expr:
    """A size through the one door (:mod:`symcalc.inputs`): a positive integer, or zero or more."""
    return as_count(name, value) if allow_zero else as_size(name, value)


def _divides(d: Expr, n: Expr) -> Optional[bool]:
    """Whether ``d`` divides ``n``; None when undecidable (symbolic)."""
    q = n / d
    return q.is_integer


@dataclass(frozen=True)
class Model:
    """A decoder-only transformer: sizes (sympy expressions) and structure (options).

    Sizes (all default to their symbol in :mod:`symcalc.symbols`, except where noted):

    - ``n_layers`` (L), ``d_model`` (h), ``n_heads`` (a), ``n_kv_heads`` (g: a for MHA,
      1 for MQA), ``d_head`` (default h/a), ``d_ff`` (f, inner size of a dense MLP), ``vocab`` (v).
    - ``vocab_multiple``: pad the vocabulary up to a multiple of this (Megatron and GPT-NeoX pad
      to 128 times the TP degree); default 1, no padding.
    - ``n_positions``: rows of the learned position table (``position="learned"`` only; OPT's
      table has ``max_position_embeddings + 2`` rows).
    - ``d_embed``: embedding width when it differs from h (OPT-350m: 512 projected to 1024);
      default h, no projection.
    - MoE: ``n_experts`` (0 = dense, the default), ``top_k`` (default the symbol k),
      ``d_ff_expert`` (default f), ``n_shared_experts`` (default 0), ``d_ff_shared`` (default
      ``d_ff_expert``).

    Structure:

    - attention: ``qkv_bias``, ``attn_out_bias``;
    - MLP: ``gated_mlp`` (three matrices: SwiGLU, GeGLU) or two; ``mlp_bias``; ``activation``;
    - norms: ``norm`` ("layernorm" weight+bias, "rmsnorm" weight only), ``norm_bias`` (default:
      True for LayerNorm), ``norms_per_layer`` (2; 1 for a parallel block sharing one norm, as
      GPT-J and Falcon-7B; 4 for Gemma-2), ``final_norm``, ``embed_norm`` (BLOOM);
      ``parallel_block`` (attention and MLP read the same input; no parameter change);
    - embeddings: ``tied_embeddings``, ``position`` ("rope", "alibi", "none", "learned"),
      ``lm_head_bias``;
    - MoE layers: ``moe_interval`` (every k-th layer, counting from 1, is MoE), ``first_dense_layers``
      (the first n layers stay dense), or ``moe_layers`` (a :class:`~symcalc.structure.LayerSet`
      for any other layout); ``router_bias``, ``shared_expert_gate`` (Qwen2-MoE's one-output gate
      on the shared expert); ``mlp_bias`` puts biases on every expert too (gpt-oss).

    Structures (:mod:`symcalc.structure`), each with its own sizes:

    - ``attention``: :class:`~symcalc.structure.GQA` (default; ``qk_norm``, ``sinks``) or
      :class:`~symcalc.structure.MLA` (multi-head latent attention; then ``n_kv_heads`` is
      ``n_heads`` and ``d_head`` is ``d_nope + d_rope``);
    - ``window``: :class:`~symcalc.structure.Window` (default full attention; sliding or chunked
      on some layers);
    - ``mtp``: :class:`~symcalc.structure.MTP` multi-token-prediction modules (default none).
    - ``fused_linears``: which linears the implementation stores fused, a tuple of
      :data:`FUSED_LINEARS` (``("qkv",)`` for GPT-NeoX; parameter counts are the same, LoRA
      adapters see one matrix; :func:`symcalc.linears.linears`).

    Training behaviour (what activation memory needs; a config says it, a hand-built model may not):

    - ``dropout``: a :class:`~symcalc.dropout.Dropout` (where dropout is applied with a rate above
      0), or None: not known (today's defaults then charge no dropout, the cookbook's everywhere:
      :func:`symcalc.defaults.dropout_for`);
    - ``softmax_fp32``: the eager attention computes its softmax in fp32 (Llama, GPT-NeoX, OPT,
      BLOOM, ...) or, False, in the activation dtype (GPT-2, Falcon); None: not known (fp32).
    """

    n_layers: Any = S.n_layers
    d_model: Any = S.d_model
    n_heads: Any = S.n_heads
    n_kv_heads: Any = S.n_kv_heads
    d_head: Any = None
    d_ff: Any = S.d_ff
    vocab: Any = S.vocab
    vocab_multiple: Any = 1
    # attention
    qkv_bias: bool = False
    attn_out_bias: bool = False
    # MLP
    gated_mlp: bool = False
    mlp_bias: bool = False
    activation: str = "gelu"
    # norms
    norm: str = "layernorm"
    norm_bias: Optional[bool] = None
    norms_per_layer: int = 2
    final_norm: bool = True
    embed_norm: bool = False
    parallel_block: bool = False
    # embeddings
    tied_embeddings: bool = False
    position: str = "rope"
    n_positions: Any = None
    d_embed: Any = None
    lm_head_bias: bool = False
    # MoE
    n_experts: Any = 0
    top_k: Any = None
    d_ff_expert: Any = None
    n_shared_experts: Any = 0
    d_ff_shared: Any = None
    moe_interval: int = 1
    first_dense_layers: int = 0
    router_bias: bool = False
    shared_expert_gate: bool = False
    moe_layers: Any = None
    # structures (symcalc.structure)
    attention: Any = None
    window: Any = None
    mtp: Any = None
    # how the implementation stores its linears (adapters see it, counts do not)
    fused_linears: tuple = ()
    # training behaviour of the implementation (read from a config; None: not known)
    dropout: Optional[Dropout] = None
    softmax_fp32: Optional[bool] = None
    # bookkeeping
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        _structure.defaults(self, set_)
        for fname in ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_ff", "vocab", "vocab_multiple"):
            set_(fname, _as_size(fname, getattr(self, fname)))
        set_("n_experts", _as_size("n_experts", self.n_experts, allow_zero=True))
        set_("n_shared_experts", _as_size("n_shared_experts", self.n_shared_experts, allow_zero=True))

        # structure options
        for fname in _FLAG_FIELDS:
            set_(fname, as_bool(fname, getattr(self, fname)))
        as_text("name", self.name)
        if self.dropout is not None and not isinstance(self.dropout, Dropout):
            raise SymcalcError(f"dropout={self.dropout!r:.60} is not a Dropout; use Dropout(...), "
                               "Dropout.everywhere(), Dropout.nowhere() or None (not known)")
        if self.softmax_fp32 is not None:
            set_("softmax_fp32", as_bool("softmax_fp32", self.softmax_fp32))
        if self.norm not in NORMS:
            raise SymcalcError(f"norm={self.norm!r} is not supported; use one of {', '.join(NORMS)}")
        if self.position not in POSITIONS:
            raise SymcalcError(f"position={self.position!r} is not supported; use one of {', '.join(POSITIONS)}")
        if self.activation not in ACTIVATIONS:
            raise SymcalcError(f"activation={self.activation!r} is not supported; use one of {', '.join(ACTIVATIONS)}")
        if self.norm_bias is None:
            set_("norm_bias", self.norm == "layernorm")
        elif as_bool("norm_bias", self.norm_bias) and self.norm == "rmsnorm":
            raise SymcalcError("norm_bias=True with norm='rmsnorm': RMSNorm has no bias; use norm='layernorm'")
        for fname in ("norms_per_layer", "moe_interval", "first_dense_layers"):
            value = getattr(self, fname)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SymcalcError(f"{fname}={value!r} must be a non-negative Python int")
        if self.moe_interval < 1:
            raise SymcalcError(f"moe_interval={self.moe_interval} must be at least 1 (1: every layer is MoE)")
        fused = self.fused_linears
        if not isinstance(fused, (tuple, list)) or any(not isinstance(f, str) or f not in FUSED_LINEARS for f in fused):
            raise SymcalcError(f"fused_linears={fused!r:.60} must be a tuple of {', '.join(FUSED_LINEARS)}")
        set_("fused_linears", tuple(f for f in FUSED_LINEARS if f in fused))
        if "gate_up" in self.fused_linears and not self.gated_mlp:
            raise SymcalcError("fused_linears has 'gate_up' but the MLP is not gated; a plain MLP has no gate to fuse")

        # derived sizes
        if self.is_mla:
            _structure.mla_sizes(self, set_)
        elif self.d_head is None:
            ok = _divides(self.n_heads, self.d_model)
            if ok is False:
                raise SymcalcError(
                    f"n_heads={self.n_heads} does not divide d_model={self.d_model}; "
                    "give d_head explicitly or pick n_heads dividing d_model"
                )
            set_("d_head", self.d_model / self.n_heads)
        else:
            set_("d_head", _as_size("d_head", self.d_head))
        if _divides(self.n_kv_heads, self.n_heads) is False:
            raise SymcalcError(
                f"n_kv_heads={self.n_kv_heads} does not divide n_heads={self.n_heads}; "
                "each KV head must serve a whole group of query heads"
            )
        if self.position == "learned":
            set_("n_positions", _as_size("n_positions", S.n_positions if self.n_positions is None else self.n_positions))
        elif self.n_positions is not None:
            raise SymcalcError(
                f"n_positions={self.n_positions} is set but position={self.position!r}; use position='learned'"
            )
        set_("d_embed", self.d_model if self.d_embed is None else _as_size("d_embed", self.d_embed))

        self.attention._check(self)
        if self.window.layers.indices is not None and not self.n_layers.is_number:
            raise SymcalcError(f"window layers given as indices need a numeric n_layers, not {self.n_layers}")
        self.window.n_windowed(self.n_layers)  # a layer set beyond the layers is an error now
        _structure.moe_layout(self, set_)
        if self.is_moe:
            set_("top_k", _as_size("top_k", S.top_k if self.top_k is None else self.top_k))
            if (self.n_experts - self.top_k).is_negative:
                raise SymcalcError(
                    f"top_k={self.top_k} is more than n_experts={self.n_experts}; a token can be routed to at most n_experts experts"
                )
            set_("d_ff_expert", self.d_ff if self.d_ff_expert is None else _as_size("d_ff_expert", self.d_ff_expert))
            set_("d_ff_shared", self.d_ff_expert if self.d_ff_shared is None else _as_size("d_ff_shared", self.d_ff_shared))
            moe = self.n_moe_layers
            if moe.is_positive is False:
                raise SymcalcError(
                    f"no layer is MoE with n_layers={self.n_layers}, moe_interval={self.moe_interval}, "
                    f"first_dense_layers={self.first_dense_layers}; lower moe_interval or first_dense_layers"
                )
        else:
            for fname in ("top_k", "d_ff_expert", "d_ff_shared"):
                if getattr(self, fname) is not None:
                    raise SymcalcError(f"{fname} is set but n_experts=0 (a dense model); set n_experts for MoE")
            if self.n_shared_experts != 0:
                raise SymcalcError("n_shared_experts is set but n_experts=0 (a dense model); set n_experts for MoE")
            set_("top_k", Integer(0))
        if not self.is_moe and (self.moe_interval != 1 or self.first_dense_layers != 0 or not self.moe_layers.is_all):
            raise SymcalcError("moe_interval/first_dense_layers/moe_layers are set but n_experts=0; set n_experts for MoE")

    # --- derived quantities ------------------------------------------------------------------
    @property
    def is_mla(self) -> bool:
        """True for multi-head latent attention."""
        return getattr(self.attention, "kind", "") == "mla"

    @property
    def is_moe(self) -> bool:
        """True when the model has experts (``n_experts`` is not zero)."""
        return self.n_experts != 0

    @property
    def padded_vocab(self) -> Expr:
        """The vocabulary rounded up to a multiple of ``vocab_multiple``."""
        if self.vocab_multiple == 1:
            return self.vocab
        return ceiling(self.vocab / self.vocab_multiple) * self.vocab_multiple

    @property
    def n_moe_layers(self) -> Expr:
        """Layers whose MLP is a mixture of experts.

        By default layer ``i`` (0-based) is MoE when ``i >= first_dense_layers`` and ``(i + 1) %
        moe_interval == 0`` (transformers' ``decoder_sparse_step`` convention), so the count is
        ``floor(L / interval) - floor(first_dense / interval)``; ``moe_layers`` gives any other rule.
        """
        if not self.is_moe:
            return Integer(0)
        return self.moe_layers.count(self.n_layers)

    @property
    def n_windowed_layers(self) -> Expr:
        """Layers with windowed (sliding or chunked) attention; the others attend to every token."""
        return self.window.n_windowed(self.n_layers)

    @property
    def n_dense_layers(self) -> Expr:
        """Layers with a dense MLP."""
        return self.n_layers - self.n_moe_layers

    @property
    def mlp_up_matrices(self) -> int:
        """Matrices from h to f: 2 for a gated MLP (gate and up), 1 otherwise."""
        return 2 if self.gated_mlp else 1

    @property
    def q_size(self) -> Expr:
        """Width of all query heads together, a·d_h."""
        return self.n_heads * self.d_head

    @property
    def kv_size(self) -> Expr:
        """Width of all key (or value) heads together, g·d_h."""
        return self.n_kv_heads * self.d_head

    @property
    def free_symbols(self) -> set:
        """Symbols still free in the model's sizes."""
        out: set = set()
        for value in [getattr(self, f) for f in _SIZE_FIELDS] + self._structure_sizes():
            if isinstance(value, Expr):
                out |= value.free_symbols
        return out

    def _structure_sizes(self) -> list:
        sizes = [self.window.size]
        if self.is_mla:
            a = self.attention
            sizes += [a.q_lora_rank, a.kv_lora_rank, a.d_nope, a.d_rope, a.d_v]
        return sizes

    # --- construction --------------------------------------------------------------------------
    def replace(self, **changes: Any) -> Model:
        """A copy with some fields changed (validated again).

        >>> Model(n_layers=2).replace(n_layers=4).n_layers
        4
        """
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise SymcalcError(f"unknown Model field(s) {', '.join(unknown)}; fields are {', '.join(sorted(names))}")
        # derived defaults are recomputed unless given
        current = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for derived, source in (("d_head", ("d_model", "n_heads")), ("d_embed", ("d_model",))):
            if any(s in changes for s in source) and derived not in changes and current[derived] == self._default_of(derived):
                current[derived] = None
        if "moe_interval" in changes or "first_dense_layers" in changes:
            current.setdefault("moe_layers", None)
            if "moe_layers" not in changes:
                current["moe_layers"] = None
        mla = getattr(changes.get("attention", self.attention), "kind", "") == "mla"
        if (self.is_mla or mla) and "attention" in changes or self.is_mla and "n_heads" in changes:
            for derived, default in (("d_head", None), ("n_kv_heads", S.n_kv_heads)):
                if derived not in changes:
                    current[derived] = default
        if not self.is_moe or "n_experts" in changes and changes["n_experts"] == 0:
            for derived in ("top_k", "d_ff_expert", "d_ff_shared"):
                if derived not in changes:
                    current[derived] = None
        elif "d_ff" in changes and "d_ff_expert" not in changes and current["d_ff_expert"] == self.d_ff:
            current["d_ff_expert"] = None
        current.update(changes)
        return Model(**current)

    def _default_of(self, fname: str) -> Expr:
        if fname == "d_head":
            return self.d_model / self.n_heads
        if fname == "d_embed":
            return self.d_model
        raise KeyError(fname)

    def subs(self, values: Any = None, **kwargs: Any) -> Model:
        """A copy with values substituted into every size."""
        from .breakdown import as_substitutions

        subs = as_substitutions(values, **kwargs)
        changes = {}
        for fname in _SIZE_FIELDS:
            value = getattr(self, fname)
            if isinstance(value, Expr):
                changes[fname] = value.subs(subs)
        if not self.is_moe:
            changes["top_k"] = None  # a dense model's top_k is derived (0), not given
        changes["attention"] = self.attention._subs(subs)
        changes["window"] = self.window._subs(subs)
        if self.is_mla:
            changes["d_head"] = None
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_hf_config(cls, config: Any, *, name: Optional[str] = None, mtp: bool = False) -> Model:
        """A model from a Hugging Face ``config.json`` (a path, or the parsed dict).

        Reads the file only: no network, no transformers import. ``mtp=True`` adds the
        multi-token-prediction modules the config declares. See :mod:`symcalc.hf`.
        """
        from .hf import model_from_hf_config

        return model_from_hf_config(config, name=name, mtp=mtp)

    @classmethod
    def preset(cls, name: str, *, mtp: bool = False) -> Model:
        """A well-known model by name, e.g. ``Model.preset("llama-2-7b")``; see :mod:`symcalc.presets`.

        ``mtp=True`` adds the multi-token-prediction modules of DeepSeek-V3 and GLM-4.5 presets.
        """
        from .presets import get_preset

        return get_preset(name, mtp=mtp)

    def describe(self) -> str:
        """A short one-line summary of sizes and structure."""
        parts = [
            f"L={self.n_layers}", f"h={self.d_model}", f"a={self.n_heads}", f"g={self.n_kv_heads}",
            f"d_h={self.d_head}", f"f={self.d_ff}", f"v={self.padded_vocab}",
        ]
        if self.is_moe:
            parts.append(f"E={self.n_experts} k={self.top_k}")
        if self.is_mla or self.attention.qk_norm != "none" or self.attention.sinks:
            parts.append(self.attention.describe())
        if not self.window.is_full:
            parts.append(f"window: {self.window.describe()}")
        if self.mtp is not None:
            parts.append(f"MTP x{self.mtp.n_modules}")
        flags = [
            "gated" if self.gated_mlp else "plain-mlp", self.norm, self.position,
            "tied" if self.tied_embeddings else "untied",
        ]
        return " ".join(parts) + " (" + ", ".join(flags) + ")"
