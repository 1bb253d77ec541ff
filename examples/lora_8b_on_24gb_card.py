"""LoRA or QLoRA of Llama-3-8B on one 24 GB card (an RTX 4090): what fits, and how large a batch?

LoRA of rank 16 on every linear of the layers (41.9 M trainable parameters, fp32 adapters, AdamW),
sequences of 2048 tokens, flash attention, no dropout. The bf16 base alone is 15 GiB, so the
activations decide: without recomputation the largest micro-batch, then with gradient checkpointing;
then the same with the base in NF4 (QLoRA). peft casts each adapter's input to fp32 (one copy per
adapted matrix, kept for backward), which is most of the activations without recomputation. Memory
is what the card reports (23.99 GiB).
"""

from symcalc import Model
from symcalc.hardware import get
from symcalc.finetune import recipe
from symcalc.memory import training_memory
from symcalc.solve import max_micro_batch, max_seq_len

GIB = 2**30
model = Model.preset("llama-3-8b")
card = get("rtx-4090").memory
print(f"{'method':<8} {'recompute':<10} {'weights GiB':>11} {'b = 1 GiB':>10}  largest micro-batch at s = 2048")
for method in ("lora", "qlora"):
    objs = recipe(method, rank=16, targets="all-linear")
    for recompute in ("none", "full"):
        run = dict(seq_len=2048, recompute=recompute, flash_attention=True, dropout=False, precision="mixed",
                   optimizer="adamw")
        one = training_memory(model, micro_batch=1, **run, **objs)
        sol = max_micro_batch(card, model, **run, **objs)
        answer = sol.value if sol.feasible else f"none ({float(sol.shortfall) / GIB:.2f} GiB over)"
        print(f"{method:<8} {recompute:<10} {float(one.grouped()['weights']) / GIB:11.2f} "
              f"{float(one.total) / GIB:10.2f}  {answer}")

objs = recipe("lora", rank=16, targets="all-linear")
longest = max_seq_len(card, model, micro_batch=1, recompute="full", flash_attention=True, dropout=False,
                      precision="mixed", optimizer="adamw", multiple_of=256, **objs)
print(f"\nLoRA, gradient checkpointing, micro-batch 1: the longest sequence that fits is {longest.value} tokens")
