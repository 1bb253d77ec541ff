"""Can one 80 GB GPU fine-tune Llama-3-70B with QLoRA, and with how large a micro-batch?

QLoRA as the paper runs it: the frozen base in NF4 with double quantization (4.127 bits per
weight), bf16 compute (each 4-bit matrix dequantized just before its matmul), LoRA of rank 16 on
every linear of the layers with fp32 adapters and AdamW, gradient checkpointing (peft's
``prepare_model_for_kbit_training`` turns it on), sequences of 2048 tokens, on one H100 80 GB (the
memory CUDA reports). For contrast: the same LoRA on a bf16 base, and full fine-tuning.
"""

from symcalc import Model
from symcalc.hardware import get
from symcalc.finetune import finetune_params, recipe
from symcalc.memory import training_memory
from symcalc.solve import max_micro_batch

GIB = 2**30
model = Model.preset("llama-3-70b")
qlora = recipe("qlora", rank=16, targets="all-linear", double_quant=True)
run = dict(seq_len=2048, recompute="full", dropout=False, precision="mixed", optimizer="adamw")

counts = finetune_params(model, adapter=qlora["adapter"])
print(f"Llama-3-70B + {qlora['adapter'].describe()}: {int(counts['trainable']):,} trainable of "
      f"{int(counts['total']):,} parameters")
mem = training_memory(model, micro_batch=1, **run, **qlora)
print(f"\nQLoRA ({qlora['storage'].describe()}), micro-batch 1, bytes per GPU:")
for part, value in mem.grouped().items():
    print(f"  {part:<14} {float(value) / GIB:8.2f} GiB")
print(f"  {'total':<14} {float(mem.total) / GIB:8.2f} GiB")

sol = max_micro_batch(get("h100").memory, model, **run, **qlora)
print(f"\nlargest micro-batch on one H100 80 GB: {sol.value} ({sol.method}; "
      f"{float(sol.quantity) / GIB:.2f} of {float(sol.budget) / GIB:.2f} GiB)")

lora = recipe("lora", rank=16, targets="all-linear")
for name, objs in (("LoRA on a bf16 base", lora), ("full fine-tuning", recipe("full"))):
    total = training_memory(model, micro_batch=1, **run, **objs).total
    print(f"{name}, micro-batch 1: {float(total) / GIB:.1f} GiB - does not fit one GPU")
