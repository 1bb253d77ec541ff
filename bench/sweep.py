"""Vectorized training-memory breakdown vs a per-configuration Python loop (cookbook-style arithmetic).

Targets (issue #6): >= 1e7 configurations/s and >= 200x "a per-configuration Python loop doing the
cookbook-style arithmetic". Two loops are timed, in the same run:

- ``cookbook_per_call``: the baseline the 200x target is judged against. Like the cookbook's
  ``calc_mem(args)`` (calc/calc_transformer_mem.py), each call reads an args namespace and computes
  the parameter count (embeddings, positions, norms, attention, MLP) and then every memory term
  (weights, gradients, optimizer, ZeRO buffers, activations) with the same branches; argument
  parsing, HF config loading and printing are left out. This is what "a per-configuration loop
  doing the cookbook-style arithmetic" is: the cookbook does exactly this work per configuration.
- ``minimal_loop``: a stripped-down inline loop with the parameter count precomputed outside it,
  a few float operations per configuration, the fastest plain-Python loop we could write. Shown
  as a stricter reference; the ratio against it is printed too.

Also: time to build every breakdown (params, FLOPs, training and inference memory) of a numeric
model, in a fresh process. Run: python bench/sweep.py
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(__file__))
from _util import best_of, table  # noqa: E402

from symcalc import Model  # noqa: E402
from symcalc.sweep import memory_grid  # noqa: E402

AXES = dict(tp=[1, 2, 4, 8, 16, 32, 64], pp=[1, 2, 4, 5, 8, 10, 16, 20, 40, 80], dp=list(range(1, 65)),
            micro_batch=list(range(1, 65)), zero_stage=[0, 1, 2, 3], recompute=["none", "selective", "full"])
SEQ = 4096


#: llama-2-70b in the cookbook's argument names (MLP width 28672 = 3.5 h, 3 linears; GQA 8 of 64 heads).
LLAMA_70B_ARGS = dict(num_layers=80, hidden_size=8192, num_attention_heads=64, vocab_size=32000,
                      sequence_length=SEQ, ffn_expansion_factor=3.5, num_mlp_linears=3, kv_size_ratio=0.125,
                      num_experts=0, expert_parallelism=1, is_mixed_precision=True, low_prec_bytes_per_val=2,
                      high_prec_bytes_per_val=4, bytes_per_grad_ele=4, zero_allgather_bucket_size=5e8,
                      zero3_max_live_params=1e9, partition_activations=True, infer=False)


def cookbook_per_call(args):
    """Training memory per device, cookbook-style: everything recomputed from ``args`` on each call.

    Same work per configuration as calc_mem() (parameter count from the sizes, then each memory
    term with its ZeRO/checkpointing/partitioning branches), written for this benchmark.
    """
    h, L, v, s = args.hidden_size, args.num_layers, args.vocab_size, args.sequence_length
    n = args.num_gpus
    embedding = 2 * v * h
    positions = h * s
    norms = 8 * h * L + 2 * h
    attention = int(2 * (1 + args.kv_size_ratio) * L * h * h)
    mlp = args.num_mlp_linears * L * h * args.ffn_expansion_factor * h
    if args.num_experts > 0:
        local = embedding + positions + norms + attention + args.num_experts / args.expert_parallelism * mlp
    else:
        local = embedding + positions + norms + attention + mlp
    per_param = args.low_prec_bytes_per_val if args.is_mixed_precision else args.high_prec_bytes_per_val
    weights = local * per_param / (args.tensor_parallel_size * args.pipeline_parallel_size)
    if args.zero_stage == 3:
        weights /= n
    grads = local * args.bytes_per_grad_ele
    if args.zero_stage >= 2:
        grads /= n
    optimizer = local * 12
    if args.zero_stage >= 1:
        optimizer /= n
    comm = 0
    if args.zero_stage >= 1 and n > 1:
        comm += args.zero_allgather_bucket_size * per_param
    if args.zero_stage == 3 and n > 1:
        comm += args.zero3_max_live_params * per_param
    per_token = 16 * args.low_prec_bytes_per_val + 2
    if not args.checkpoint_activations:
        per_token += (2 * args.low_prec_bytes_per_val + 1) * args.num_attention_heads * s / h
    activations = s * args.batch_size_per_gpu * h * L * per_token
    if args.partition_activations:
        activations /= args.tensor_parallel_size
    return weights + grads + optimizer + comm + activations


def cookbook_calls(configs):
    """The per-call baseline over ``configs``: set the six varying fields, call, keep the result."""
    args = SimpleNamespace(**LLAMA_70B_ARGS)
    out = []
    for tp, pp, dp, b, z, r in configs:
        args.tensor_parallel_size, args.pipeline_parallel_size, args.num_gpus = tp, pp, tp * pp * dp
        args.batch_size_per_gpu, args.zero_stage, args.checkpoint_activations = b, z, r == "full"
        out.append(cookbook_per_call(args))
    return out


def minimal_loop(configs, L=80, h=8192, a=64, v=32000, s=SEQ, n_params=68_976_648_192):
    """The stricter reference: inline float arithmetic, parameter count precomputed (plain floats)."""
    out = []
    for tp, pp, dp, b, z, r in configs:
        # model states (ZeRO, mixed precision Adam: 2 + 2 + 12 bytes per parameter)
        psi = n_params / (tp * pp)
        w, g, o = 2 * psi, 2 * psi, 12 * psi
        if z >= 1:
            o /= dp
        if z >= 2:
            g /= dp
        if z >= 3:
            w /= dp
        # Korthikanti activations per layer, with sequence parallelism
        if r == "full":
            act = 2 * s * b * h / tp
        elif r == "selective":
            act = s * b * h * 34 / tp
        else:
            act = s * b * h * (34 + 5 * a * s / h) / tp
        out.append(w + g + o + act * L + 4 * s * b * v / tp)
    return out


def main() -> dict:
    m = Model.preset("llama-2-70b")
    kw = dict(seq_len=SEQ, sequence_parallel=True, **AXES)
    t0 = time.perf_counter()
    g = memory_grid(m, **kw)
    cold = time.perf_counter() - t0
    n = g.total.size
    warm = best_of(lambda: memory_grid(m, **kw), 5)
    configs = list(itertools.islice(itertools.product(AXES["tp"], AXES["pp"], AXES["dp"], AXES["micro_batch"],
                                                      AXES["zero_stage"], AXES["recompute"]), 200_000))
    per_call = best_of(lambda: cookbook_calls(configs), 3)
    loop = best_of(lambda: minimal_loop(configs), 3)
    rate, call_rate, loop_rate = n / warm, len(configs) / per_call, len(configs) / loop
    table(f"training-memory breakdown over {n:,} configurations (llama-2-70b, s={SEQ})",
          ("method", "configs", "seconds", "configs/s", "vs per-call", "vs minimal"),
          [("cookbook-style per-call function (baseline)", f"{len(configs):,}", f"{per_call:.3f}", f"{call_rate:.3g}",
            "1x", f"{call_rate / loop_rate:.2f}x"),
           ("minimal inline loop (stricter reference)", f"{len(configs):,}", f"{loop:.3f}", f"{loop_rate:.3g}",
            f"{loop_rate / call_rate:.1f}x", "1x"),
           ("memory_grid, first call (compiles)", f"{n:,}", f"{cold:.3f}", f"{n / cold:.3g}",
            f"{n / cold / call_rate:.0f}x", f"{n / cold / loop_rate:.0f}x"),
           ("memory_grid, compiled (best of 5)", f"{n:,}", f"{warm:.3f}", f"{rate:.3g}",
            f"{rate / call_rate:.0f}x", f"{rate / loop_rate:.0f}x")])
    met = rate >= 1e7 and rate / call_rate >= 200
    print(f"sweep: {'MET' if met else 'MISSED'} ({rate:.3g}/s vs 1e7/s; {rate / call_rate:.0f}x the cookbook-style "
          f"per-call loop vs 200x); against the minimal inline loop: {rate / loop_rate:.0f}x "
          f"({'also' if rate / loop_rate >= 200 else 'not'} >= 200x)")
    build = subprocess.run([sys.executable, "-c", BUILD], capture_output=True, text=True, check=True).stdout.split()
    table("building every breakdown of a numeric model (fresh process, after import)", ("model", "seconds"),
          [(name, sec) for name, sec in zip(build[::2], build[1::2])])
    return {"rate": rate, "per_call_rate": call_rate, "loop_rate": loop_rate}


BUILD = """
import time
from symcalc import Model, params, training_flops, training_memory, inference_memory
for name in ("llama-2-7b", "mixtral-8x7b", "gpt2"):
    m = Model.preset(name)
    t0 = time.perf_counter()
    params(m); training_flops(m, seq_len=4096, batch=1, recompute="full")
    training_memory(m, seq_len=4096, micro_batch=1, tp=2, dp=8, zero_stage=1, recompute="selective")
    inference_memory(m, seq_len=4096, micro_batch=1)
    print(name, f"{time.perf_counter() - t0:.3f}")
"""

if __name__ == "__main__":
    main()
