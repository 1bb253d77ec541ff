"""Stand-in for the EleutherAI cookbook's ``calc/calc_transformer_mem.py``: the baseline process of bench/cli.py.

Why a stand-in: the issue compares ``symcalc mem --preset NAME`` with the cookbook's whole script
run as a process. That script (https://github.com/EleutherAI/cookbook, calc/calc_transformer_mem.py,
by Quentin Anthony, Hailey Schoelkopf and Bhavnick Minhas, Apache-2.0) is not vendored here: the
public-code source this project reads it from keeps such code out of our commits. This file is our
own, written to do the same work in the same way, so the process costs the same: Python's startup,
``import argparse, math`` (the script's only imports), the script's flags
(/work/shared/seed/cookbook-calc-README.md lists them) with its defaults, its parameter count and
memory terms (weights, gradients, optimizer, ZeRO buffers, activations, KV cache for --infer) and
its report of ~20 printed lines. To time the original instead, point ``SYMCALC_COOKBOOK_MEM`` at a
copy of it; bench/cli.py says in its table which one ran.

``calc_mem(args)`` is also the per-configuration function of the exact-path baseline (bench/exact.py).
Run: python bench/cookbook_mem.py --num-layers=32 --hidden-size=4096 ...
"""

import argparse
import math

DEFAULTS = dict(num_gpus=1, tensor_parallel_size=1, pipeline_parallel_size=1, partition_activations=False,
                zero_stage=1, zero_allgather_bucket_size=5e8, zero3_max_live_params=1e9,
                checkpoint_activations=False, batch_size_per_gpu=1, sequence_length=2048, vocab_size=51200,
                hidden_size=6144, num_attention_heads=64, num_layers=44, ffn_expansion_factor=4.0,
                num_mlp_linears=2, infer=False, kv_size_ratio=1.0, output_tokens=1, is_mixed_precision=True,
                high_prec_bytes_per_val=4, low_prec_bytes_per_val=2, bytes_per_grad_ele=4, num_experts=0,
                expert_parallelism=1, misc_mem_gib=0)

FLAGS = [  # (long flag, short flag, type, help)
    ("--num-gpus", None, int, "Number of GPUs used for training"),
    ("--tensor-parallel-size", "-tp", int, "Tensor parallel degree (1 if not used)"),
    ("--pipeline-parallel-size", "-pp", int, "Pipeline parallel degree (1 if not used)"),
    ("--zero-stage", "-z", int, "Stage of the ZeRO optimizer"),
    ("--zero-allgather-bucket-size", "-zbs", int, "Size of allgather buckets used by ZeRO"),
    ("--zero3-max-live-params", "-zmlp", int, "Maximum number of parameters ZeRO3 keeps in GPU memory"),
    ("--batch-size-per-gpu", "-b", int, "Batch size per GPU"),
    ("--sequence-length", "-s", int, "Sequence length used for training"),
    ("--vocab-size", "-v", int, "How many tokens are in the embedding layer"),
    ("--hidden-size", "-hs", int, "Dimension of the model's hidden size"),
    ("--num-attention-heads", "-a", int, "Number of attention heads used in model"),
    ("--num-layers", "-l", int, "Number of transformer layers used in model"),
    ("--ffn-expansion-factor", "-ff", float, "How much the MLP hidden size expands"),
    ("--num-mlp-linears", "-nl", int, "How many linear layers per MLP block"),
    ("--kv-size-ratio", "-kv", float, "Ratio of total query heads to key/value heads"),
    ("--output-tokens", "-o", int, "Number of tokens to autoregressively generate"),
    ("--high-prec-bytes-per-val", None, int, "The high-precision bytes per value in mixed precision"),
    ("--low-prec-bytes-per-val", None, int, "The low-precision bytes per value in mixed precision"),
    ("--bytes-per-grad-ele", None, int, "The precision of gradient elements as bytes per value"),
    ("--num-experts", None, int, "Number of experts"),
    ("--expert-parallelism", "-ep", int, "How many ways are the experts sharded across ranks"),
    ("--misc-mem-gib", None, int, "Miscellaneous memory overhead per GPU"),
]


def parser():
    p = argparse.ArgumentParser(description="Memory per GPU for training or inference (cookbook stand-in)")
    p.add_argument("--hf_model_name_or_path", type=str, default=None, help="HF model (not read by the stand-in)")
    for long, short, kind, text in FLAGS:
        names = [long] + ([short] if short else [])
        p.add_argument(*names, type=kind, default=None, help=text)
    p.add_argument("--partition-activations", "-pa", action="store_true", default=None,
                   help="ZeRO-R partitions activations across the tensor-parallel degree")
    p.add_argument("--checkpoint-activations", "-ca", action="store_true", default=None,
                   help="Megatron-style activation checkpointing")
    p.add_argument("--infer", action="store_true", default=None, help="inference instead of training")
    p.add_argument("--disable-mixed-precision", action="store_false", dest="is_mixed_precision", default=None,
                   help="Disables mixed precision training")
    return p


def readable(n):
    """1000-based suffixes, two decimals (the cookbook's convert_params)."""
    if n == 0:
        return "0"
    i = int(math.floor(math.log(n, 1000)))
    return "%s %s" % (round(n / math.pow(1000, i), 2), ("", "K", "M", "B", "T", "P", "E", "Z", "Y")[i])


def calc_mem(args):
    """Bytes per GPU by term: parameter count from the sizes, then each term with the cookbook's branches."""
    for key, value in DEFAULTS.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    h, L, v, s = args.hidden_size, args.num_layers, args.vocab_size, args.sequence_length
    embed = 2 * v * h
    dense = embed + h * s + 8 * h * L + 2 * h + int(2 * (1 + args.kv_size_ratio) * L * h * h)
    mlp = args.num_mlp_linears * L * h * args.ffn_expansion_factor * h
    params = dense + mlp
    local = dense + (args.num_experts / args.expert_parallelism * mlp if args.num_experts > 0 else mlp)
    per_param = args.low_prec_bytes_per_val if args.is_mixed_precision else args.high_prec_bytes_per_val
    n = args.num_gpus
    out = {"model": local * per_param / (args.tensor_parallel_size * args.pipeline_parallel_size)}
    if args.zero_stage == 3:
        out["model"] /= n
    out["gradient"] = local * args.bytes_per_grad_ele / (n if args.zero_stage >= 2 else 1)
    out["optimizer"] = local * 12 / (n if args.zero_stage >= 1 else 1)
    comm = 0
    if args.zero_stage >= 1 and n > 1:
        comm += args.zero_allgather_bucket_size * per_param
    if args.zero_stage == 3 and n > 1:
        comm += args.zero3_max_live_params * per_param
    out["communication"] = comm
    per_token = 16 * args.low_prec_bytes_per_val + 2
    if args.infer:
        act = s * args.batch_size_per_gpu * h * per_token
    elif args.checkpoint_activations:
        act = s * args.batch_size_per_gpu * h * L * per_token
    else:
        act = s * args.batch_size_per_gpu * h * L * (
            per_token + (2 * args.low_prec_bytes_per_val + 1) * args.num_attention_heads * s / h)
    out["activation"] = act / args.tensor_parallel_size if args.partition_activations else act
    if args.infer:
        out["kv_cache"] = args.low_prec_bytes_per_val * h * L * (s + args.output_tokens) * args.batch_size_per_gpu
        for key in ("gradient", "optimizer", "communication"):
            out.pop(key)
    out["misc"] = args.misc_mem_gib * 2**30
    return params, out


def main(argv=None):
    args = parser().parse_args(argv)
    params, mem = calc_mem(args)
    print(f"Calculating memory with training configuration: {vars(args)}\n")
    print(f"Number of Parameters: {readable(params)}\n")
    print("*** Per-GPU Memory")
    for name, value in mem.items():
        print(f"Per-GPU {name.replace('_', ' ').title()} Memory: {value / 2**30:.2f} GiB")
    kind = "Inference" if args.infer else "Training"
    print(f"\nPer-GPU Memory Required for {kind}: {sum(mem.values()) / 2**30:.2f} GiB\n")
    print("*** Total GPU Memory for a Single Model Replica")
    for name, value in mem.items():
        scale = 1 if name in ("communication", "misc") else args.tensor_parallel_size * args.pipeline_parallel_size
        print(f"Total {name.replace('_', ' ').title()} Memory: {value * scale / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
