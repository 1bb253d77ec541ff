"""Shared hypothesis strategies for model shapes (valid ranges only)."""

from __future__ import annotations

from hypothesis import strategies as st


@st.composite
def attention_shapes(draw, max_heads: int = 16, max_head_dim: int = 64):
    """(d_model, n_heads, n_kv_heads, d_head) with g | a and h = a * d_h."""
    n_kv_heads = draw(st.integers(1, max_heads))
    group = draw(st.integers(1, max(1, max_heads // n_kv_heads)))
    n_heads = n_kv_heads * group
    d_head = draw(st.sampled_from([d for d in (2, 4, 8, 16, 32, 64) if d <= max_head_dim]))
    return n_heads * d_head, n_heads, n_kv_heads, d_head


# --- whole models, layouts and settings, for "symbolic equals numeric" ---------------------------
from sympy import Rational, Symbol  # noqa: E402

from symcalc import Model  # noqa: E402
from symcalc import symbols as S  # noqa: E402

#: Sizes without a symbol of their own in symcalc.symbols (test-only symbols, same assumptions).
D_FF_SHARED = Symbol("d_ff_shared", integer=True, positive=True)
VOCAB_MULTIPLE = Symbol("vocab_multiple", integer=True, positive=True)
#: Size field -> the symbol that stands for it in a model's symbolic twin.
SIZE_SYMBOLS = {
    "n_layers": S.n_layers, "d_model": S.d_model, "n_heads": S.n_heads, "n_kv_heads": S.n_kv_heads,
    "d_head": S.d_head, "d_ff": S.d_ff, "vocab": S.vocab, "vocab_multiple": VOCAB_MULTIPLE,
    "n_positions": S.n_positions, "d_embed": S.d_embed, "n_experts": S.n_experts, "top_k": S.top_k,
    "d_ff_expert": S.d_ff_expert, "n_shared_experts": S.n_shared_experts, "d_ff_shared": D_FF_SHARED,
}


def symbolic_twin(model: Model) -> tuple[Model, dict]:
    """``model`` with every size a symbol, and the values that turn the twin back into ``model``.

    Every size is given explicitly (d_head, d_embed, d_ff_expert, ... too), so conditions such as
    "d_embed differs from d_model" are exercised. Zero counts (a dense model's experts, no shared
    expert) stay 0: their symbols are positive.
    """
    changes, values = {}, {}
    for field, sym in SIZE_SYMBOLS.items():
        value = getattr(model, field)
        if value is None or (field in ("n_experts", "n_shared_experts", "top_k") and value == 0):
            continue
        if field in ("top_k", "d_ff_expert", "d_ff_shared") and not model.is_moe:
            continue
        if field in ("d_head", "n_kv_heads") and model.is_mla:
            continue  # MLA derives them: g = a, d_h = d_n + d_r
        changes[field] = sym
        values[sym] = value
    changes.update(_structure_twins(model, values))
    return model.replace(**changes), values


def _structure_twins(model: Model, values: dict) -> dict:
    """The model's structures with their own sizes as symbols (MLA ranks and head sizes, the window)."""
    from symcalc.structure import MLA, Window

    out = {}
    if model.is_mla:
        att = model.attention
        sizes = {"kv_lora_rank": S.kv_lora_rank, "d_nope": S.d_head_nope, "d_rope": S.d_head_rope, "d_v": S.d_head_v}
        if att.q_lora_rank is not None:
            sizes["q_lora_rank"] = S.q_lora_rank
        values.update({sym: getattr(att, f) for f, sym in sizes.items()})
        out["attention"] = MLA(**{**sizes, "q_lora_rank": sizes.get("q_lora_rank")})
    if not model.window.is_full:
        sym = S.window if model.window.kind == "sliding" else S.chunk
        values[sym] = model.window.size
        out["window"] = Window(model.window.kind, sym, model.window.layers)
    return out


@st.composite
def models(draw, *, moe=None, max_layers: int = 6):
    """A small valid Model of any structure: norms, biases, gating, positions, parallel blocks, MoE layouts."""
    d_model, n_heads, n_kv_heads, d_head = draw(attention_shapes(max_heads=8, max_head_dim=8))
    is_moe = draw(st.booleans()) if moe is None else moe
    kw = dict(
        d_model=d_model, n_heads=n_heads, n_kv_heads=n_kv_heads,
        d_ff=draw(st.integers(1, 24)), vocab=draw(st.integers(1, 40)),
        norm=draw(st.sampled_from(["layernorm", "rmsnorm"])), gated_mlp=draw(st.booleans()),
        qkv_bias=draw(st.booleans()), attn_out_bias=draw(st.booleans()), mlp_bias=draw(st.booleans()),
        tied_embeddings=draw(st.booleans()), lm_head_bias=draw(st.booleans()),
        activation=draw(st.sampled_from(["gelu", "silu", "relu", "gelu_tanh"])),
        final_norm=draw(st.booleans()), embed_norm=draw(st.booleans()),
        position=draw(st.sampled_from(["rope", "alibi", "learned"])),
    )
    if draw(st.booleans()):
        kw["d_head"] = draw(st.integers(1, 8))
    if draw(st.booleans()):
        kw["d_embed"] = draw(st.sampled_from([d_model, draw(st.integers(1, 16))]))
    if draw(st.booleans()):
        kw["vocab_multiple"] = draw(st.integers(1, 8))
    if kw["position"] == "learned":
        kw["n_positions"] = draw(st.integers(1, 64))
    if draw(st.booleans()):
        kw.update(parallel_block=True, norms_per_layer=draw(st.sampled_from([1, 2])))
    else:
        kw["norms_per_layer"] = draw(st.sampled_from([2, 4]))
    if kw["norm"] == "rmsnorm":
        kw["norm_bias"] = False
    first_dense = interval = 0
    if is_moe:
        n_experts = draw(st.integers(1, 8))
        interval, first_dense = draw(st.integers(1, 3)), draw(st.integers(0, 2))
        kw.update(n_experts=n_experts, top_k=draw(st.integers(1, n_experts)), d_ff_expert=draw(st.integers(1, 16)),
                  moe_interval=interval, first_dense_layers=first_dense, router_bias=draw(st.booleans()))
        if draw(st.booleans()):
            kw.update(n_shared_experts=draw(st.integers(1, 2)), d_ff_shared=draw(st.integers(1, 16)),
                      shared_expert_gate=draw(st.booleans()))
    lowest = max(1, first_dense + interval)  # at least one MoE layer
    kw["n_layers"] = draw(st.integers(lowest, max(lowest, max_layers)))
    return Model(**kw)


@st.composite
def layouts(draw, model: Model, *, seq_len: int):
    """Degrees that fit ``model``: t | a with t | g or g | t (t > g included), p | L, e | E and e | d, c | s."""
    a, g, L = int(model.n_heads), int(model.n_kv_heads), int(model.n_layers)
    tps = [t for t in range(1, a + 1) if a % t == 0 and (g % t == 0 or t % g == 0)]
    tp = draw(st.sampled_from(tps))
    pp = draw(st.sampled_from([p for p in range(1, L + 1) if L % p == 0]))
    dp = draw(st.sampled_from([1, 1, 2, 3, 4]))
    ep = 1
    if model.is_moe:
        ep = draw(st.sampled_from([e for e in range(1, dp + 1) if dp % e == 0 and int(model.n_experts) % e == 0]))
    cp = draw(st.sampled_from([c for c in (1, 2, 4) if seq_len % c == 0]))
    sp = tp > 1 and (seq_len // cp) % tp == 0 and draw(st.booleans())
    return dict(tp=tp, pp=pp, dp=dp, ep=ep, cp=cp, sequence_parallel=sp)


#: Bytes per value drawn for precision recipes (a 4-bit weight is 1/2 byte; 0: no master copy).
byte_values = dict(weight=st.sampled_from([Rational(1, 2), 1, 2, 4]), grad=st.sampled_from([2, 4]),
                   master=st.sampled_from([0, 4]), act=st.sampled_from([2, 4]), optim=st.sampled_from([0, 2, 8]))
