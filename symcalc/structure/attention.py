"""Attention kinds: what one layer's attention contributes to parameters, FLOPs, KV cache and activations.

Each kind is a small frozen object (users build it; the library calls its ``_`` methods); the model's sizes (``a`` heads, ``g`` KV heads, ``d_h``, ``h``,
its bias flags) come from the :class:`~symcalc.model.Model` it belongs to, the kind's own sizes
from its fields. Everything a kind contributes is written here, once:

- :meth:`_param_parts` — parameters of one layer by part (weights, biases, norms, sinks);
- :meth:`_matmul_parts` — weights each token multiplies (2 FLOPs per weight per token); parts named
  in ``per_key_parts`` are applied to every cached key instead (MLA's ``kv_b`` in transformers'
  decode, which re-expands the whole latent cache each step);
- ``_score_width`` / ``_value_width`` — summed over heads, the width of ``q·kᵀ`` and of
  ``p·v`` per query-key pair (2 FLOPs each per pair and unit of width);
- :meth:`_kv_values` — values one layer caches per token on one device;
- :meth:`_activation_widths` — per-token widths of the tensors one layer saves for backward.

Kinds:

:class:`GQA` (default)
    Q, K, V and output projections with ``g`` KV heads (MHA when g = a, MQA when g = 1), with
    optional **qk-norm** (``"head"``: one ``d_h``-wide norm for all query heads and one for all key
    heads, Qwen3, Gemma-3, GLM-4.5; ``"full"``: norms over all of Q (``a·d_h``) and K (``g·d_h``),
    OLMo-2; ``"weightless"``: an L2 norm without parameters, Llama-4) and **attention sinks** (one
    learned logit per head, gpt-oss).

:class:`MLA`
    Multi-head latent attention (DeepSeek-V2/V3, Kimi-K2): a query LoRA ``h → r_q → a·(d_n+d_r)``
    (or a plain ``h → a·(d_n+d_r)`` when ``q_lora_rank`` is None), one joint KV projection
    ``h → r_kv + d_r`` (``kv_a_proj_with_mqa``), its up-projection ``r_kv → a·(d_n + d_v)``
    (``kv_b_proj``), the output ``a·d_v → h`` and RMSNorms over the two latents. Scores use
    ``d_n + d_r`` per head, values ``d_v``.

References
----------
Ainslie et al. 2023, "GQA", §2. DeepSeek-AI 2024, "DeepSeek-V2", §2.1 (MLA, eq. 9-19).
Dehghani et al. 2023, "Scaling Vision Transformers to 22B", §3.1 (qk-norm). Xiao et al. 2024,
"Efficient Streaming Language Models with Attention Sinks".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sympy import Expr, Integer

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_size

__all__ = ["GQA", "MLA", "QK_NORMS", "MLA_CACHE"]

#: qk-norm kinds: none, one d_h-wide norm per Q and K (shared by heads), full width, weightless.
QK_NORMS = ("none", "head", "full", "weightless")
#: What an MLA layer caches: the compressed latent (transformers, vLLM, SGLang) or per-head K and V.
MLA_CACHE = ("latent", "decompressed")


def _local_kv(model, tp: Any) -> Expr:
    from ..memory.parallel import local_kv_heads

    return local_kv_heads(model, tp)


@dataclass(frozen=True)
class GQA:
    """Grouped-query attention with optional qk-norm and sinks (see the module docstring)."""

    qk_norm: str = "none"
    sinks: bool = False

    kind: ClassVar[str] = "gqa"
    per_key_parts: ClassVar[tuple] = ()

    def __post_init__(self) -> None:
        if self.qk_norm not in QK_NORMS:
            raise SymcalcError(f"qk_norm={self.qk_norm!r} is unknown; use one of {', '.join(QK_NORMS)}")
        if not isinstance(self.sinks, bool):
            raise SymcalcError(f"sinks={self.sinks!r} must be True or False")

    def _check(self, model) -> None:
        """Nothing beyond the model's own checks (heads divide, KV heads divide heads)."""

    def _subs(self, subs: dict) -> GQA:
        return self

    def describe(self) -> str:
        """One line for tables: ``GQA`` with its qk-norm and sinks."""
        extra = [f"qk-norm {self.qk_norm}"] if self.qk_norm != "none" else []
        if self.sinks:
            extra.append("sinks")
        return "GQA" + (f" ({', '.join(extra)})" if extra else "")

    # --- parameters and matmuls -----------------------------------------------------------
    def _qk_norm_width(self, m) -> Expr:
        """Elements one token's qk-norms normalise: (a + g)·d_h (0 without qk-norm)."""
        return Integer(0) if self.qk_norm == "none" else (m.n_heads + m.n_kv_heads) * m.d_head

    def _param_parts(self, m) -> dict[str, Expr]:
        """Parameters of one layer's attention, by part."""
        h, q, kv = m.d_model, m.q_size, m.kv_size
        parts = {"attention/qkv": h * (q + 2 * kv)}
        if m.qkv_bias:
            parts["attention/qkv_bias"] = q + 2 * kv
        parts["attention/out"] = q * h
        if m.attn_out_bias:
            parts["attention/out_bias"] = h
        if self.qk_norm == "head":
            parts["attention/qk_norm"] = 2 * m.d_head
        elif self.qk_norm == "full":
            parts["attention/qk_norm"] = q + kv
        if self.sinks:
            parts["attention/sinks"] = m.n_heads
        return parts

    def _matmul_parts(self, m) -> dict[str, Expr]:
        """Weights one token multiplies in one layer's attention, by part."""
        h, q, kv = m.d_model, m.q_size, m.kv_size
        return {"attention/qkv": h * (q + 2 * kv), "attention/out": q * h}

    def _linears(self, m) -> list[tuple]:
        """One layer's weight matrices: (name, target words, part, d_in, d_out, TP split).

        Q, K and V separate (transformers' Llama), or one ``qkv`` matrix where the implementation
        fuses them (``Model.fused_linears``: GPT-NeoX's ``query_key_value``).
        """
        h, q, kv = m.d_model, m.q_size, m.kv_size
        if "qkv" in m.fused_linears:
            out = [("qkv", ("q", "k", "v"), "attention/qkv", h, q + 2 * kv, "column")]
        else:
            out = [("q", ("q",), "attention/qkv", h, q, "column"), ("k", ("k",), "attention/qkv", h, kv, "column"),
                   ("v", ("v",), "attention/qkv", h, kv, "column")]
        return out + [("o", ("o",), "attention/out", q, h, "row")]

    def _matrices(self, m) -> list[tuple[Expr, Expr, Expr]]:
        """(count, rows, columns) of one layer's weight matrices (:meth:`_linears`)."""
        return [(Integer(1), d_in, d_out) for _, _, _, d_in, d_out, _ in self._linears(m)]

    def _score_width(self, m) -> Expr:
        """a·d_h: FLOPs of q·kᵀ per query-key pair are twice this."""
        return m.q_size

    def _value_width(self, m) -> Expr:
        """a·d_h: FLOPs of p·v per query-key pair are twice this."""
        return m.q_size

    # --- KV cache and activations ---------------------------------------------------------
    def _kv_values(self, m, tp: Any = 1, convention: str = "latent") -> Expr:
        """Values one layer caches per token on one device: K and V of its ``g/t`` KV heads."""
        return 2 * _local_kv(m, tp) * m.d_head

    def _activation_widths(self, m, tp: Any, kv_heads_saved: Any) -> dict[str, Expr]:
        """Per-token widths (values) of what one layer's attention saves, on one device.

        ``kv_heads_saved`` is the number of K/V heads saved (``g/t``, or ``a/t`` where transformers'
        ``repeat_kv`` copies K and V to every query head).
        """
        a_l = m.n_heads / tp
        out = {"attention/q": a_l * m.d_head, "attention/k": kv_heads_saved * m.d_head,
               "attention/v": kv_heads_saved * m.d_head, "attention/out_input": a_l * m.d_head}
        if self.qk_norm != "none":
            out["attention/qk_norm_inputs"] = (a_l + _local_kv(m, tp)) * m.d_head
        return out


@dataclass(frozen=True)
class MLA:
    """Multi-head latent attention (DeepSeek-V2/V3); sizes default to their symbols.

    ``q_lora_rank=None`` is a plain query projection (DeepSeek-V2-Lite). The model's
    ``n_kv_heads`` is its ``n_heads`` (every head gets its own K and V from the latent) and its
    ``d_head`` is ``d_nope + d_rope``, the query-key width per head.
    """

    q_lora_rank: Any = S.q_lora_rank
    kv_lora_rank: Any = S.kv_lora_rank
    d_nope: Any = S.d_head_nope
    d_rope: Any = S.d_head_rope
    d_v: Any = S.d_head_v

    kind: ClassVar[str] = "mla"
    per_key_parts: ClassVar[tuple] = ("attention/kv_b",)
    qk_norm: ClassVar[str] = "none"
    sinks: ClassVar[bool] = False

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        if self.q_lora_rank is not None:
            set_("q_lora_rank", as_size("q_lora_rank", self.q_lora_rank))
        set_("kv_lora_rank", as_size("kv_lora_rank", self.kv_lora_rank))
        set_("d_nope", as_size("qk_nope_head_dim", self.d_nope))
        set_("d_rope", as_size("qk_rope_head_dim", self.d_rope))
        set_("d_v", as_size("v_head_dim", self.d_v))

    def _check(self, model) -> None:
        if model.n_kv_heads != model.n_heads:
            raise SymcalcError(f"MLA gives every head its own key and value: n_kv_heads={model.n_kv_heads} "
                               f"must equal n_heads={model.n_heads}")

    def _subs(self, subs: dict) -> MLA:
        vals = {k: (v._subs(subs) if isinstance(v, Expr) else v) for k, v in self.__dict__.items()}
        return MLA(**vals)

    @property
    def d_qk(self) -> Expr:
        """Query-key width per head, d_n + d_r."""
        return self.d_nope + self.d_rope

    def describe(self) -> str:
        """One line for tables: ``MLA`` with its ranks and head sizes."""
        q = f"r_q={self.q_lora_rank}" if self.q_lora_rank is not None else "plain q"
        return f"MLA ({q}, r_kv={self.kv_lora_rank}, d_n={self.d_nope}, d_r={self.d_rope}, d_v={self.d_v})"

    # --- parameters and matmuls -----------------------------------------------------------
    def _qk_norm_width(self, m) -> Expr:
        return Integer(0)

    def _latent_width(self) -> Expr:
        """Elements the two latent RMSNorms normalise per token: r_q (if any) + r_kv."""
        return (self.q_lora_rank or Integer(0)) + self.kv_lora_rank

    def _param_parts(self, m) -> dict[str, Expr]:
        """Parameters of one layer's attention, by part (transformers' DeepseekV3Attention)."""
        parts = dict(self._matmul_parts(m))
        # attention_bias: q_a_proj and kv_a_proj_with_mqa (the latent projections) and o_proj;
        # transformers' plain q_proj (no q LoRA) never has a bias.
        if m.qkv_bias:
            parts["attention/latent_bias"] = (self.q_lora_rank or Integer(0)) + self.kv_lora_rank + self.d_rope
        if m.attn_out_bias:
            parts["attention/out_bias"] = m.d_model
        parts["attention/latent_norms"] = self._latent_width()
        return parts

    def _matmul_parts(self, m) -> dict[str, Expr]:
        h, a = m.d_model, m.n_heads
        parts: dict[str, Expr] = {}
        if self.q_lora_rank is None:
            parts["attention/q"] = h * a * self.d_qk
        else:
            parts["attention/q_a"] = h * self.q_lora_rank
            parts["attention/q_b"] = self.q_lora_rank * a * self.d_qk
        parts["attention/kv_a"] = h * (self.kv_lora_rank + self.d_rope)
        parts["attention/kv_b"] = self.kv_lora_rank * a * (self.d_nope + self.d_v)
        parts["attention/out"] = a * self.d_v * h
        return parts

    def _linears(self, m) -> list[tuple]:
        """One layer's weight matrices (name, target words, part, d_in, d_out, TP split), transformers' names:
        ``q_a_proj``, ``q_b_proj`` (or ``q_proj``), ``kv_a_proj_with_mqa``, ``kv_b_proj``, ``o_proj``; the
        latent down-projections are replicated under TP (as in vLLM)."""
        h, a = m.d_model, m.n_heads
        q = [("q", ("q",), "attention/q", h, a * self.d_qk, "column")] if self.q_lora_rank is None else [
            ("q_a", ("q_a",), "attention/q_a", h, self.q_lora_rank, "replicated"),
            ("q_b", ("q_b",), "attention/q_b", self.q_lora_rank, a * self.d_qk, "column")]
        return q + [("kv_a", ("kv_a",), "attention/kv_a", h, self.kv_lora_rank + self.d_rope, "replicated"),
                    ("kv_b", ("kv_b",), "attention/kv_b", self.kv_lora_rank, a * (self.d_nope + self.d_v), "column"),
                    ("o", ("o",), "attention/out", a * self.d_v, h, "row")]

    def _matrices(self, m) -> list[tuple[Expr, Expr, Expr]]:
        return [(Integer(1), d_in, d_out) for _, _, _, d_in, d_out, _ in self._linears(m)]

    def _score_width(self, m) -> Expr:
        return m.n_heads * self.d_qk

    def _value_width(self, m) -> Expr:
        return m.n_heads * self.d_v

    # --- KV cache and activations ---------------------------------------------------------
    def _kv_values(self, m, tp: Any = 1, convention: str = "latent") -> Expr:
        """Per token: the latent ``r_kv + d_r`` (replicated on every TP rank), or, decompressed,
        K and V of the ``a/t`` local heads, ``(a/t)·(d_n + d_r + d_v)``."""
        if convention not in MLA_CACHE:
            raise SymcalcError(f"mla_cache={convention!r} is unknown; use one of {', '.join(MLA_CACHE)}")
        if convention == "latent":
            return self.kv_lora_rank + self.d_rope
        return m.n_heads / tp * (self.d_qk + self.d_v)

    def _activation_widths(self, m, tp: Any, kv_heads_saved: Any) -> dict[str, Expr]:
        a_l = m.n_heads / tp
        rq = self.q_lora_rank or Integer(0)
        return {"attention/q": a_l * self.d_qk, "attention/k": a_l * self.d_qk, "attention/v": a_l * self.d_v,
                "attention/out_input": a_l * self.d_v,
                # inputs of q_b and kv_b, and of the two latent RMSNorms (replicated under TP)
                "attention/latent": rq + self.kv_lora_rank,
                "attention/latent_norm_inputs": rq + self.kv_lora_rank}
