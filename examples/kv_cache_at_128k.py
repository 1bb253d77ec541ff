"""How much KV cache does one 128K-token request take on today's models, and what does each structure save?

Llama-3.1-70B caches K and V of 8 KV heads on every layer; Gemma-3-27B keeps only a 1024-token
window on 5 of every 6 layers; DeepSeek-V3 caches MLA's 576-value latent per layer; gpt-oss-120b
keeps 128 tokens on every other layer. bf16 cache, one sequence, 131,072 tokens, no parallelism;
windowed layers keep W tokens (what serving engines reserve; transformers' DynamicCache keeps W-1).
"""

from symcalc import Model
from symcalc.memory import kv_cache

TOKENS = 131_072
rows = []
for name in ("llama-3.1-70b", "gemma-3-27b", "deepseek-v3", "gpt-oss-120b"):
    m = Model.preset(name)
    default = kv_cache(m, tokens=TOKENS, batch=1, bytes_kv=2)
    full_attention = kv_cache(m.replace(window=None), tokens=TOKENS, batch=1, bytes_kv=2) if not m.is_mla else None
    decompressed = kv_cache(m, tokens=TOKENS, batch=1, bytes_kv=2, mla_cache="decompressed") if m.is_mla else None
    rows.append((name, default, full_attention, decompressed))
    print(f"{name:15} {float(default) / 2**30:8.2f} GiB  ({m.describe().split(' (')[0]})")
    if full_attention is not None and full_attention != default:
        print(f"{'':15} {float(full_attention) / 2**30:8.2f} GiB  if every layer attended to all {TOKENS:,} tokens")
    if decompressed is not None:
        print(f"{'':15} {float(decompressed) / 2**30:8.2f} GiB  with per-head K and V instead of the latent")

by_name = {r[0]: r for r in rows}
# MLA's latent: 61 layers x (512 + 64) values x 2 bytes per token, whatever the 128 heads
assert by_name["deepseek-v3"][1] == 61 * 576 * 2 * TOKENS
assert by_name["gemma-3-27b"][1] < by_name["gemma-3-27b"][2] / 5
