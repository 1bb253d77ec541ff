"""Flash attention's saved tensors against torch: what SDPA's flash kernel keeps for backward.

Today's default activation profile (:mod:`symcalc.defaults`) is flash attention: instead of the
s² scores, the attention core keeps Q, K, V, its output and the fp32 logsumexp per head and row
(FlashAttention-2, Alg. 1-2). torch's CPU SDPA runs the flash kernel
(``ScaledDotProductFlashAttentionForCpuBackward0``); the bytes of the unique storages it saves
(``saved_tensors_hooks``) must equal symcalc's ``attention/q``, ``k``, ``v``, ``out_input`` and
``softmax_stats`` parts exactly, for MHA and GQA, in fp32 and bf16.
"""

import pytest

torch = pytest.importorskip("torch")

from symcalc import Model  # noqa: E402
from symcalc.memory import layer_activations  # noqa: E402

pytestmark = pytest.mark.conformance

CORE = ("attention/q", "attention/k", "attention/v", "attention/out_input", "attention/softmax_stats")


def _sdpa_saved_bytes(batch, heads, kv_heads, seq, d_head, dtype) -> tuple[int, str]:
    q = torch.randn(batch, heads, seq, d_head, dtype=dtype, requires_grad=True)
    k = torch.randn(batch, kv_heads, seq, d_head, dtype=dtype, requires_grad=True)
    v = torch.randn(batch, kv_heads, seq, d_head, dtype=dtype, requires_grad=True)
    seen: dict[int, int] = {}

    def pack(t):
        seen.setdefault(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                               enable_gqa=kv_heads != heads)
    return sum(seen.values()), type(out.grad_fn).__name__


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("heads,kv_heads", [(4, 4), (8, 2)])
def test_flash_profile_equals_what_sdpa_flash_saves(dtype, heads, kv_heads):
    """The flash profile's attention-core bytes equal the storages torch's flash SDPA saves (Q, K, V, O, fp32 LSE)."""
    torch_dtype = getattr(torch, dtype)
    batch, seq, d_head = 2, 32, 16
    measured, kernel = _sdpa_saved_bytes(batch, heads, kv_heads, seq, d_head, torch_dtype)
    assert "FlashAttention" in kernel
    model = Model(n_layers=1, d_model=heads * d_head, n_heads=heads, n_kv_heads=kv_heads, d_ff=64, vocab=10)
    layer = layer_activations(model, seq_len=seq, micro_batch=batch, bytes_act=torch_dtype.itemsize,
                              flash_attention=True)
    assert sum(layer[k] for k in CORE) == measured
    assert "attention/scores" not in layer
