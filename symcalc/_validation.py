"""Published reference numbers symcalc is checked against, shared by the tests and the documentation.

The tests (``tests/test_presets.py``, ``tests/test_serving.py``, ``tests/test_scaling.py``, ``tests/test_cost.py``) import these tables and assert
agreement; the documentation's "How we know it is right" page (``docs/validation.md``) prints them
with symcalc's answer and the agreement, computed at build time by :func:`markdown`. One copy of the
data, so the page shows exactly what the tests check.

Private: the data are sources, not API.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

__all__: list[str] = []

# name -> (published total, significant digits or None for exact, where it is published)
PUBLISHED_TOTAL = {
    # Hugging Face model pages (safetensors parameter count) print 6.74B / 13B / 69B; the exact
    # 6,738,415,616 is the transformers model's count the README promises.
    "llama-2-7b": (6_738_415_616, None, "meta-llama/Llama-2-7b-hf model page: 6.74B; symcalc README"),
    "llama-2-13b": (13.0e9, 3, "meta-llama/Llama-2-13b-hf model page: 13B"),
    "llama-2-70b": (69.0e9, 3, "meta-llama/Llama-2-70b-hf model page: 69B"),
    "llama-3-8b": (8.03e9, 3, "meta-llama/Meta-Llama-3-8B model page: 8.03B"),
    "llama-3-70b": (70.6e9, 3, "meta-llama/Meta-Llama-3-70B model page: 70.6B"),
    "llama-3.1-8b": (8.03e9, 3, "meta-llama/Llama-3.1-8B model page: 8.03B"),
    "llama-3.1-70b": (70.6e9, 3, "meta-llama/Llama-3.1-70B model page: 70.6B"),
    "llama-3.1-405b": (406e9, 3, "meta-llama/Llama-3.1-405B model page: 406B"),
    "llama-3.2-1b": (1.24e9, 3, "meta-llama/Llama-3.2-1B model page: 1.24B"),
    "mistral-7b": (7.24e9, 3, "mistralai/Mistral-7B-v0.1 model page: 7.24B"),
    # Mistral AI, "Mixtral of experts" announcement: 46.7B total, 12.9B used per token.
    "mixtral-8x7b": (46.7e9, 3, "Mixtral of experts (mistral.ai, Dec 2023): 46.7B total"),
    # Qwen2.5 model cards: "Number of Parameters: 0.49B / 7.61B / 72.7B".
    "qwen2.5-0.5b": (0.49e9, 2, "Qwen/Qwen2.5-0.5B model card: 0.49B"),
    "qwen2.5-7b": (7.61e9, 3, "Qwen/Qwen2.5-7B model card: 7.61B"),
    "qwen2.5-72b": (72.7e9, 3, "Qwen/Qwen2.5-72B model card: 72.7B"),
    "qwen1.5-moe-a2.7b": (14.3e9, 3, "Qwen/Qwen1.5-MoE-A2.7B model card: 14.3B total"),
    "gemma-2b": (2.51e9, 3, "google/gemma-2b model page: 2.51B"),
    "gemma-7b": (8.54e9, 3, "google/gemma-7b model page: 8.54B"),
    "gemma-2-2b": (2.61e9, 3, "google/gemma-2-2b model page: 2.61B"),
    "gemma-2-9b": (9.24e9, 3, "google/gemma-2-9b model page: 9.24B"),
    "gemma-2-27b": (27.2e9, 3, "google/gemma-2-27b model page: 27.2B"),
    "phi-3-mini": (3.8e9, 2, "Abdin et al. 2024, Phi-3 Technical Report, section 2: 3.8B"),
    # The Falcon cards say 7B / 40B; their safetensors also store the tied LM head, so the
    # model pages print 7.22B / 41.8B while the model itself has one shared matrix.
    "falcon-7b": (7e9, 1, "tiiuae/falcon-7b model card: 7B"),
    "falcon-40b": (40e9, 1, "tiiuae/falcon-40b model card: 40B"),
    "gpt2": (124e6, 3, "openai-community/gpt2 model page: 124M"),
    "gpt2-medium": (355e6, 3, "openai-community/gpt2-medium model page: 355M"),
    "gpt2-large": (774e6, 3, "openai-community/gpt2-large model page: 774M"),
    "gpt2-xl": (1.56e9, 3, "openai-community/gpt2-xl model page: 1.56B"),
    # EleutherAI/pythia README, model table: total and non-embedding parameters, exact.
    "pythia-70m": (70_426_624, None, "Pythia README table"),
    "pythia-160m": (162_322_944, None, "Pythia README table"),
    "pythia-410m": (405_334_016, None, "Pythia README table"),
    "pythia-1b": (1_011_781_632, None, "Pythia README table"),
    "pythia-1.4b": (1_414_647_808, None, "Pythia README table"),
    "pythia-2.8b": (2_775_208_960, None, "Pythia README table"),
    "pythia-6.9b": (6_857_302_016, None, "Pythia README table"),
    "pythia-12b": (11_846_072_320, None, "Pythia README table"),
    "opt-125m": (125e6, 3, "facebook/opt-125m model page: 125M"),
    "opt-350m": (331e6, 3, "facebook/opt-350m model page: 331M (the paper's 350M is nominal)"),
    "opt-1.3b": (1.32e9, 3, "facebook/opt-1.3b model page: 1.32B"),
    # BigScience model cards, "Model Architecture and Objective": exact counts.
    "bloom-560m": (559_214_592, None, "bigscience/bloom-560m model card"),
    "bloom-7b1": (7_069_016_064, None, "bigscience/bloom-7b1 model card"),
    # --- models of 2024-26 (issue 10). config.json values: the HF files as copied in public
    # repositories (citsjtu2020/LLM-Prof sglang/Model_Config.md for Qwen3-8B/32B/30B-A3B; THUDM/slime
    # scripts/models/qwen3-235B-A22B.sh; DeepSeek-R1's config.json for the V3 architecture; a
    # DeepSeek-V2-Lite-Chat checkpoint report; Llama-4, Gemma-3, gpt-oss files quoted in test suites).
    "deepseek-v3": (671e9, 3, "deepseek-ai/DeepSeek-V3 README: 671B total (main model)"),
    # The checkpoint's tensors summed (a DeepSeek-V2-Lite-Chat model report): 15,706,484,224; card 16B.
    "deepseek-v2-lite": (15_706_484_224, None, "DeepSeek-V2-Lite checkpoint, parameters of all tensors"),
    "kimi-k2": (1e12, 1, "moonshotai/Kimi-K2-Instruct card: 1T total"),
    "qwen3-0.6b": (0.6e9, 1, "Qwen/Qwen3-0.6B card: 0.6B"),
    "qwen3-8b": (8.2e9, 2, "Qwen/Qwen3-8B card: 8.2B"),
    "qwen3-32b": (32.8e9, 3, "Qwen/Qwen3-32B card: 32.8B"),
    "qwen3-30b-a3b": (30.5e9, 3, "Qwen/Qwen3-30B-A3B card: 30.5B total"),
    "qwen3-235b-a22b": (235e9, 3, "Qwen/Qwen3-235B-A22B card: 235B total"),
    # Llama 4 cards count the vision encoder too: Scout 109B (the conformance test adds transformers'
    # vision tower, 108.64B -> 109B at 3 digits); Maverick 400B.
    "llama-4-scout": (110e9, 2, "meta-llama/Llama-4-Scout-17B-16E card: 109B total with vision"),
    "llama-4-maverick": (400e9, 2, "meta-llama/Llama-4-Maverick-17B-128E card: 400B total"),
    "gemma-3-1b": (1e9, 1, "google/gemma-3-1b-pt card: 1B"),
    "gemma-3-27b": (27e9, 2, "google/gemma-3-27b-pt card: 27B (with its 0.4B vision encoder)"),
    # OpenAI, gpt-oss-120b & gpt-oss-20b model card, Table 1: 116.83B / 20.91B total.
    "gpt-oss-20b": (20.91e9, 4, "gpt-oss model card Table 1: 20.91B"),
    "gpt-oss-120b": (116.83e9, 5, "gpt-oss model card Table 1: 116.83B"),
    "olmo-2-7b": (7.30e9, 3, "allenai/OLMo-2-1124-7B model page: 7.3B"),
    "phi-4": (14.7e9, 3, "microsoft/phi-4 model page: 14.7B"),
    "phi-3.5-moe": (41.9e9, 3, "microsoft/Phi-3.5-MoE-instruct model page: 41.9B (card: 42B, 6.6B active)"),
    "mistral-small-24b": (23.6e9, 3, "mistralai/Mistral-Small-24B-Base-2501 model page: 23.6B"),
    "glm-4.5-air": (106e9, 3, "zai-org/GLM-4.5-Air card: 106B total, 12B active"),
}

# Active parameters per token, with the convention each publisher uses (symcalc.params.ACTIVE_CONVENTIONS):
# name -> (published, significant digits, convention, source)
PUBLISHED_ACTIVE = {
    "mixtral-8x7b": (12.9e9, 3, "all", "Mixtral of experts (mistral.ai): 12.9B per token"),
    "qwen1.5-moe-a2.7b": (2.7e9, 2, "all", "Qwen/Qwen1.5-MoE-A2.7B card: 2.7B"),
    # DeepSeek's README_WEIGHTS.md: 36.6B activated "including 0.9B for the output head" (so no input
    # embedding); the card's 37B is that rounded. V2-Lite's card: 2.4B; Kimi-K2's card: 32B.
    "deepseek-v3": (36.6e9, 3, "no-input-embedding", "DeepSeek-V3 README_WEIGHTS.md: 36.6B"),
    "deepseek-v2-lite": (2.4e9, 2, "no-input-embedding", "deepseek-ai/DeepSeek-V2-Lite card: 2.4B"),
    "kimi-k2": (32e9, 2, "no-input-embedding", "moonshotai/Kimi-K2-Instruct card: 32B"),
    "qwen3-30b-a3b": (3.3e9, 2, "all", "Qwen/Qwen3-30B-A3B card: 3.3B activated"),
    "qwen3-235b-a22b": (22e9, 2, "all", "Qwen/Qwen3-235B-A22B card: 22B activated"),
    "llama-4-scout": (17e9, 2, "all", "Llama 4 card: 17B active"),
    "llama-4-maverick": (17e9, 2, "all", "Llama 4 card: 17B active"),
    # OpenAI's Table 1 counts the unembedding but not the embedding in the active 3.61B / 5.13B.
    "gpt-oss-20b": (3.61e9, 3, "no-input-embedding", "gpt-oss model card Table 1: 3.61B"),
    "gpt-oss-120b": (5.13e9, 3, "no-input-embedding", "gpt-oss model card Table 1: 5.13B"),
    "phi-3.5-moe": (6.6e9, 2, "all", "microsoft/Phi-3.5-MoE-instruct card: 6.6B active"),
    # GLM counts without the embedding and LM head: 12.18B -> 12B (and 105.6B total -> 106B).
    "glm-4.5-air": (12e9, 2, "no-embeddings", "zai-org/GLM-4.5-Air card: 12B active"),
}

# Pythia README table, non-embedding column; Gemma report Table 2 and Gemma 2 report Table 1
# (non-embedding; their embedding column counts a 256,128-row table, the released files 256,000).
PUBLISHED_NON_EMBEDDING = {
    "pythia-70m": 18_915_328, "pythia-160m": 85_056_000, "pythia-410m": 302_311_424,
    "pythia-1b": 805_736_448, "pythia-1.4b": 1_208_602_624, "pythia-2.8b": 2_517_652_480,
    "pythia-6.9b": 6_444_163_072, "pythia-12b": 11_327_027_200,
    "gemma-2b": 1_981_884_416, "gemma-7b": 7_751_248_896,
    "gemma-2-2b": 2_024_517_888, "gemma-2-9b": 8_324_201_984, "gemma-2-27b": 26_047_480_320,
}
# Qwen3 cards, "Number of Parameters (Non-Embedding)": (value, significant digits).
PUBLISHED_NON_EMBEDDING_ROUNDED = {
    "qwen3-0.6b": (0.44e9, 2), "qwen3-8b": (6.95e9, 3), "qwen3-32b": (31.2e9, 3),
    "qwen3-30b-a3b": (29.9e9, 3), "qwen3-235b-a22b": (234e9, 3),
}

#: vLLM's nightly performance benchmark (Buildkite pipeline vllm/performance-benchmark, build 9513,
#: https://buildkite.com/vllm/performance-benchmark/builds/9513), "Latency tests": input 32 tokens,
#: output 128 tokens, batch 8, one H200, bf16 checkpoints, mean end-to-end latency in ms.
VLLM_H200 = [("llama-3.1-8b", 1, 834.059), ("llama-3-70b", 4, 2075.08), ("mixtral-8x7b", 2, 1921.1)]
#: TensorRT-LLM docs/source/performance.md (NVIDIA/TensorRT-LLM, commit 138f96d), "Low Latency" tables
#: (v0.5): batch 1, first-token latency in ms; A100 FP16, H100 FP8 (--enable_fp8 --fp8_kv_cache).
#: "LLaMA 7B/70B" are the Llama 2 checkpoints of its build scripts.
TRTLLM_TTFT = [("a100", "fp16", "fp16", 2, "llama-2-7b", 1, 128, 16), ("a100", "fp16", "fp16", 2, "llama-2-7b", 1, 2048, 133),
               ("a100", "fp16", "fp16", 2, "llama-2-70b", 4, 128, 47), ("a100", "fp16", "fp16", 2, "llama-2-70b", 4, 2048, 377),
               ("h100", "fp8", "fp8", 1, "llama-2-7b", 1, 128, 7), ("h100", "fp8", "fp8", 1, "llama-2-7b", 1, 2048, 36),
               ("h100", "fp8", "fp8", 1, "llama-2-70b", 4, 128, 26), ("h100", "fp8", "fp8", 1, "llama-2-70b", 4, 2048, 109)]
#: NVIDIA NIM LLM benchmarking guide, "Performance" (docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance):
#: Llama-3.3-70B-Instruct (the Llama 3.1 70B shape), NIM 1.8.0, 2 x H100 80GB, fp8, TP2, concurrency 1:
#: (input, output, TTFT ms, ITL ms).
NIM_70B = [(5000, 500, 406.77, 18.58), (500, 2000, 47.77, 18.91)]

# --- Hoffmann et al. 2022 (Chinchilla) ---------------------------------------------------------------
#: Table 3 (approach 1): parameters -> compute-optimal FLOPs.
HOFFMANN_TABLE_3 = [(400e6, 1.92e19), (1e9, 1.21e20), (10e9, 1.23e22), (67e9, 5.76e23), (175e9, 3.85e24),
                    (280e9, 9.90e24), (520e9, 3.43e25), (1e12, 1.27e26), (10e12, 1.30e28)]
#: Table A3: approach 2 and approach 3 FLOPs for the same parameter counts (175B's approach-3 entry is
#: printed as 1.26e+24, inconsistent with its 12.0T tokens: 6 * 175e9 * 12.0e12 = 1.26e25).
HOFFMANN_TABLE_A3 = [(400e6, 1.84e19, 2.21e19), (1e9, 1.20e20, 1.62e20), (10e9, 1.32e22, 2.46e22),
                     (67e9, 6.88e23, 1.71e24), (175e9, 4.54e24, 1.26e25), (280e9, 1.18e25, 3.52e25),
                     (520e9, 4.19e25, 1.36e26), (1e12, 1.59e26, 5.65e26), (10e12, 1.75e28, 8.55e28)]
#: The tolerances the tests allow: approaches 1 and 2 within 4 %; approach 3 at the TeX source's
#: precision within 10 % (Table A3 was computed from unrounded estimates).
HOFFMANN_TOLERANCE = {"chinchilla-1": 0.04, "chinchilla-2": 0.04, "chinchilla-3-tex": 0.10}

# --- training time ----------------------------------------------------------------------------------
#: Llama 3.1 model card: 30.84M H100-80GB GPU-hours for the 405B model.
LLAMA_CARD_HOURS = 30_840_000


def round_sig(value: int, digits: int) -> Decimal:
    """``value`` rounded to ``digits`` significant digits.

    >>> round_sig(7_615_616_512, 3)
    Decimal('7.62E+9')
    """
    d = Decimal(value)
    return round(d, digits - d.adjusted() - 1)


def agrees(total: int, published: float, digits: int | None) -> bool:
    """``total`` printed with ``digits`` significant digits, rounded or truncated, is ``published``.

    Publishers differ (Qwen's cards truncate 7,615,616,512 to 7.61B), so anything within one unit
    of the last published digit agrees; ``digits=None``: exactly.

    >>> agrees(7_615_616_512, 7.61e9, 3), agrees(7_615_616_512, 7.63e9, 3)
    (True, False)
    """
    if digits is None:
        return int(total) == int(published)
    unit = Decimal(10) ** (Decimal(int(published)).adjusted() - digits + 1)
    return abs(Decimal(int(total)) - Decimal(int(published))) < unit


# --- rows of the documentation's tables: (model, quantity, symcalc, reference, agreement) -----------

def _count(n) -> str:
    return f"{int(n):,}"


def _published(value: float, digits: int | None) -> str:
    """A published figure at its published precision (``7.61B``, ``0.49B``, ``1T``)."""
    if digits is None:
        return f"{int(value):,}"
    base, unit = next((b, u) for b, u in ((10**12, "T"), (10**9, "B"), (10**6, "M")) if value >= b)
    scaled = Decimal(int(value)) / base
    decimals = max(0, digits - 1 - scaled.adjusted())
    return f"{scaled:.{decimals}f}{unit}"


def _agreement(total, published, digits) -> str:
    if digits is None:
        return "exact" if int(total) == int(published) else "**differs**"
    return f"to {digits} digit{'s' if digits > 1 else ''}" if agrees(total, published, digits) else "**differs**"


def parameter_rows() -> list[tuple[str, ...]]:
    """Total, active and non-embedding parameters of the presets against their publishers' figures."""
    from .params import active_params, non_embedding_params, params
    from .presets import get_preset

    rows = []
    for name, (published, digits, source) in PUBLISHED_TOTAL.items():
        total = params(get_preset(name)).total
        rows.append((name, "parameters", _count(total), f"{_published(published, digits)} ({source})",
                     _agreement(total, published, digits)))
    for name, (published, digits, convention, source) in PUBLISHED_ACTIVE.items():
        active = active_params(get_preset(name), convention=convention).total
        rows.append((name, f"active parameters ({convention})", _count(active),
                     f"{_published(published, digits)} ({source})", _agreement(active, published, digits)))
    for name, published in PUBLISHED_NON_EMBEDDING.items():
        value = non_embedding_params(get_preset(name))
        source = "Pythia README table" if name.startswith("pythia") else "Gemma / Gemma 2 report"
        rows.append((name, "non-embedding parameters", _count(value), f"{published:,} ({source})",
                     _agreement(value, published, None)))
    for name, (published, digits) in PUBLISHED_NON_EMBEDDING_ROUNDED.items():
        value = non_embedding_params(get_preset(name))
        rows.append((name, "non-embedding parameters", _count(value), f"{_published(published, digits)} (Qwen3 card)",
                     _agreement(value, published, digits)))
    return rows


def serving_rows() -> list[tuple[str, ...]]:
    """Published serving latencies against symcalc's roofline (a lower bound): measured / roofline."""
    from .model import Model
    from .serving import prefill_step, serving

    rows = []
    for name, tp, measured in VLLM_H200:
        est = serving(Model.preset(name), prompt_len=32, n_generate=128, batch=8, tp=tp, hardware="h200")
        ms = float(est.latency) * 1000
        rows.append((name, f"latency, batch 8, 32 in + 128 out, H200 TP{tp} bf16", f"{ms:.1f} ms",
                     f"{measured} ms (vLLM nightly benchmark)", f"{measured / ms:.2f}x the roofline"))
    for hw, dtype, weights, kv, name, tp, prompt, measured in TRTLLM_TTFT:
        step = prefill_step(Model.preset(name), prompt_len=prompt, batch=1, tp=tp, hardware=hw, dtype=dtype,
                            weights=weights, bytes_kv=kv)
        ms = float(step.seconds) * 1000
        rows.append((name, f"first token, {prompt}-token prompt, {hw.upper()} TP{tp} {dtype}", f"{ms:.1f} ms",
                     f"{measured} ms (TensorRT-LLM performance tables)", f"{measured / ms:.2f}x the roofline"))
    for prompt, out, ttft, itl in NIM_70B:
        est = serving(Model.preset("llama-3.1-70b"), prompt_len=prompt, n_generate=out, batch=1, tp=2, hardware="h100",
                      dtype="fp8", weights="fp8", bytes_kv="fp8")
        for label, measured, ours in (("time to first token", ttft, est.ttft), ("time per output token", itl, est.tpot)):
            ms = float(ours) * 1000
            rows.append(("llama-3.1-70b", f"{label}, {prompt} in + {out} out, 2 x H100 fp8", f"{ms:.2f} ms",
                         f"{measured} ms (NVIDIA NIM benchmarking guide)", f"{measured / ms:.2f}x the roofline"))
    return rows


def scaling_rows() -> list[tuple[str, ...]]:
    """Compute-optimal parameters of Hoffmann et al.'s Tables 3 and A3 against symcalc's fits."""
    from .scaling import compute_optimal

    rows = []
    cases = [("chinchilla-1", "Table 3", n, c) for n, c in HOFFMANN_TABLE_3]
    cases += [("chinchilla-2", "Table A3", n, c2) for n, c2, _ in HOFFMANN_TABLE_A3]
    cases += [("chinchilla-3-tex", "Table A3", n, c3) for n, _, c3 in HOFFMANN_TABLE_A3]
    for fit, table, published, compute in cases:
        ours = float(compute_optimal(compute, fit).n_params)
        off = ours / published - 1
        ok = abs(off) <= HOFFMANN_TOLERANCE[fit]
        rows.append((f"fit {fit}", f"N_opt at C = {compute:.3g} FLOP", f"{ours / 1e9:,.3g}B",
                     f"{published / 1e9:,.3g}B (Hoffmann et al. 2022, {table})",
                     f"{off:+.1%} (within {HOFFMANN_TOLERANCE[fit]:.0%})" if ok else "**differs**"))
    return rows


def training_rows() -> list[tuple[str, ...]]:
    """Published training runs against ``training_cost`` (the cases of ``tests/test_cost.py``)."""
    from fractions import Fraction

    from .cost import run_flops, training_cost
    from .model import Model

    gpt3 = Model(n_layers=96, d_model=12288, n_heads=96, n_kv_heads=96, d_ff=4 * 12288, vocab=51200)
    run = training_cost(gpt3, tokens=300e9, n_devices=1024, hardware="a100", achieved_flops="140T", flops="8N",
                        seq_len=2048)
    days = float(run.days)
    rows = [("GPT-3 175B", "days on 1,024 A100 at 140 TFLOP/s, 300B tokens, 8TP/nX", f"{days:.2f} days",
             "about 34 days (Narayanan et al. 2021, with their eq. 4)",
             "within 33.5-34.5" if 33.5 <= days < 34.5 else "**differs**")]
    llama = Model.preset("llama-3.1-405b")

    def hours(tokens, seq_len, mfu):
        return training_cost(llama, tokens=tokens, seq_len=seq_len, n_devices=16384, hardware="h100", mfu=mfu).gpu_hours

    low = hours("15.6T", 8192, Fraction(435, 1000)) + hours("0.8T", 8192, Fraction(385, 1000))
    high = hours("15.6T", 8192, Fraction(405, 1000)) + hours("0.8T", 131072, Fraction(375, 1000))
    rows.append(("llama-3.1-405b", "H100 GPU-hours: 15.6T tokens at 8K, 41-43 % MFU, then 0.8T long-context at 38 %",
                 f"{float(low) / 1e6:.2f}M-{float(high) / 1e6:.2f}M",
                 f"{LLAMA_CARD_HOURS / 1e6:.2f}M (Llama 3.1 model card; MFU from the Llama 3 paper, Table 4)",
                 "inside the band" if low < LLAMA_CARD_HOURS < high else "**differs**"))
    flops = float(run_flops(llama, tokens="15.6T", flops="6N"))
    rows.append(("llama-3.1-405b", "training FLOPs, 6ND on 15.6T tokens", f"{flops:.3g} FLOP",
                 "3.8e25 FLOP (Llama Team 2024, The Llama 3 Herd of Models)", "to 2 digits" if 3.75e25 <= flops < 3.85e25 else "**differs**"))
    return rows


#: Multimodal wrappers whose text model transformers builds (symcalc reads the wrapper's config.json).
HF_WRAPPERS = ("llama4", "gemma3")
#: model_types transformers builds under another family (Kimi-K2 loads DeepseekV3ForCausalLM by remote code).
HF_AS_FAMILY = {"kimi_k2": "deepseek_v3"}


def hf_config(preset):
    """The transformers config object of a preset's config.json fields (needs transformers)."""
    import transformers

    fields = {k: v for k, v in preset.config.items() if k != "model_type"}
    return transformers.AutoConfig.for_model(HF_AS_FAMILY.get(preset.family, preset.family), **fields)


def hf_model(cfg):
    """``AutoModelForCausalLM.from_config(cfg)`` on the meta device (no weights allocated or downloaded)."""
    import warnings

    import torch
    import transformers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.device("meta"):
            return transformers.AutoModelForCausalLM.from_config(cfg)


def transformers_rows() -> list[tuple[str, ...]]:
    """Every preset's total against ``sum(p.numel())`` of the transformers model its config builds.

    The same configs and the same build as ``tests/conformance/test_params_hf.py`` (which also
    checks every part); needs torch and transformers (the ``conformance`` extra).
    """
    from . import params
    from .presets import PRESETS

    rows = []
    for name, preset in PRESETS.items():
        cfg = hf_config(preset)
        built = hf_model(cfg.text_config if preset.family in HF_WRAPPERS else cfg)
        theirs = sum(p.numel() for p in built.parameters())
        ours = int(params(preset.model()).total)
        rows.append((name, "parameters", _count(ours), f"{_count(theirs)} (transformers {preset.family}, meta device)",
                     "exact" if ours == theirs else "**differs**"))
    return rows


TABLES: dict[str, Callable[[], list[tuple[str, ...]]]] = {
    "parameters": parameter_rows,
    "transformers": transformers_rows,
    "serving": serving_rows,
    "scaling": scaling_rows,
    "training": training_rows,
}


def markdown(table: str) -> str:
    """One of :data:`TABLES` as a Markdown table (model, quantity, symcalc, reference, agreement)."""
    if table == "transformers":
        try:
            import torch  # noqa: F401
            import transformers
        except ImportError:
            return "*This table is built where torch and transformers are installed (the `conformance` extra).*"
        transformers.logging.set_verbosity_error()
    rows = ["| model | quantity | symcalc | reference | agreement |", "|---|---|---|---|---|"]
    rows += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in TABLES[table]()]
    return "\n".join(rows)
