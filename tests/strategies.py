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
