"""Fixed texts of the numeric reports, shared by the full path and the sympy-free fast path (:mod:`._fast`).

This module imports nothing: ``symcalc mem|flops|params --preset NAME`` reads it without sympy.
"""

#: What ``-ca`` means in ``symcalc mem`` (the cookbook's calc_transformer_mem.py), said in --help and in the output.
MEM_CA_MEANING = ("-ca is the cookbook memory script's --checkpoint-activations: Korthikanti's selective recompute "
                  "(= --recompute selective; in `symcalc flops`, -ca is the flops script's --no-checkpoint-activations, "
                  "= --recompute none)")
#: Where ``symcalc mem``'s recompute policy came from with -ca.
MEM_CA_SAYS = "-ca (the cookbook memory script's checkpointing: selective recompute)"
#: Added to "today's default" where ``symcalc mem``'s recompute policy is the quantized base's (--finetune qlora).
KBIT_RECOMPUTE_SAYS = (" for a quantized base (kbit_recompute: gradient checkpointing, as peft's "
                       "prepare_model_for_kbit_training turns it on)")
#: What ``-ca`` means in ``symcalc flops`` (the cookbook's calc_transformer_flops.py).
FLOPS_CA_MEANING = ("-ca is the cookbook flops script's --no-checkpoint-activations: no recomputation (= --recompute none; "
                    "in `symcalc mem`, -ca is the memory script's --checkpoint-activations, = --recompute selective)")
#: Where ``symcalc flops``' recompute policy came from with -ca.
FLOPS_CA_SAYS = "-ca (the cookbook flops script's --no-checkpoint-activations)"
#: The last lines of ``symcalc mem``'s and ``symcalc params``' text reports.
MEM_FOOTER = "GiB = 2^30 bytes; pipeline: worst-case stage with both embedding and LM head (exact for pp 1)"
PARAMS_FOOTER = "counts are exact; suffixes are 1000-based (M = 10^6, B = 10^9)"
MEM_UNITS = "bytes (rounded up); GiB = 2^30 bytes"


def flops_conventions(*, elementwise: bool, causal: bool, infer: bool, policy: str, why: str, defaults: str,
                      window_full: bool, window_flops: str) -> dict:
    """The ``conventions`` of ``symcalc flops`` (its last text line and its JSON)."""
    out = {
        "matmul": "2*m*n*k FLOPs per matmul; elementwise work " + ("included" if elementwise else "not counted"),
        "attention": "causal: half of the s*s square (Megatron)" if causal else "full s*s square (FlopCounterMode, PaLM, cookbook)",
        "embedding": "lookups cost nothing; the LM head is a matmul, never recomputed",
        "backward": "2x forward" if not infer else "none (inference prefill)",
        "recompute": policy if infer else f"{policy} ({why})",
        "defaults": defaults,
    }
    if not window_full:
        out["windowed layers"] = ("full s*s square (eager attention, FlopCounterMode)" if window_flops == "square"
                                  else "the band inside the window or chunk")
    return out


def params_conventions(active_convention: str) -> dict:
    """The ``conventions`` of ``symcalc params --json``."""
    return {
        "non_embedding_excludes": ["token embedding", "learned position table", "untied LM head"],
        "active": "top_k routed experts per MoE layer; everything else in full"
                  + ("" if active_convention == "all" else f" ({active_convention})"),
        "total": "the model's parameters plus an adapter's (peft's get_nb_trainable_parameters)",
        "trainable": "an adapter's parameters (the base frozen), else all but --freeze",
    }
