"""Whole-process wall time of every subcommand, each against its baseline process in the same rounds.

Targets (issue 14):
- ``symcalc params|flops|mem --preset NAME`` (and the same from flags or a config.json): at most
  1.5x the cookbook's calc_transformer_mem.py run as a process (bench/cookbook_mem.py, or the
  original when ``SYMCALC_COOKBOOK_MEM`` points at a copy);
- every other subcommand: at most 1.15x a bare ``python -c "import sympy"``;
- ``symcalc scaling``: at most 1.15x ``import sympy``.
Commands and baselines run interleaved, round after round, so they share the machine's load;
the ratio is of medians. Run: python bench/cli.py [rounds]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _util import Target, interleaved, python, table  # noqa: E402

PY = python()
HERE = os.path.dirname(os.path.abspath(__file__))
LLAMA_7B_FLAGS = "-l 32 -hs 4096 -a 32 -s 4096 -v 32000 --swiglu".split()

#: (name, symcalc arguments, baseline key, limit)
NUMERIC = [
    ("params --preset llama-2-7b", ["params", "--preset", "llama-2-7b"]),
    ("flops --preset llama-2-7b", ["flops", "--preset", "llama-2-7b"]),
    ("mem --preset llama-2-7b", ["mem", "--preset", "llama-2-7b"]),
    ("mem with flags (llama-2-7b sizes)", ["mem", *LLAMA_7B_FLAGS]),
    ("mem --hf-config (llama-3-8b config.json)", ["mem", "--hf-config", "examples/configs/llama-3-8b/config.json"]),
]
OTHER = [
    ("presets", ["presets"]),
    ("hardware h100", ["hardware", "h100"]),
    ("latex params", ["latex", "params"]),
    ("solve micro-batch (llama-2-7b, ZeRO-3)", "solve micro-batch --preset llama-2-7b -s 4096 --num-gpus 8 -z 3 "
     "--recompute full --budget 80GiB".split()),
    ("solve seq-len (llama-2-7b, 8 GPUs, ZeRO-3)", "solve seq-len --preset llama-2-7b --budget 80GiB --num-gpus 8 "
     "-z 3".split()),
    ("solve tp (llama-3-70b, 64 GPUs, ZeRO-3)", "solve tp --preset llama-3-70b --budget 80GiB --num-gpus 64 -z 3".split()),
    ("solve pp (llama-2-70b, 64 GPUs, TP 8)", "solve pp --preset llama-2-70b --budget 80GiB --num-gpus 64 -tp 8".split()),
    ("solve zero-stage (llama-2-7b, 8 GPUs)", "solve zero-stage --preset llama-2-7b --budget 40GiB --num-gpus 8 "
     "--recompute full".split()),
    ("solve devices (llama-2-7b, ZeRO-3, TP 2)", "solve devices --preset llama-2-7b -z 3 -tp 2 --budget 40GiB".split()),
    ("solve micro-batch, nothing fits (llama-2-70b, 24GiB; exit 1)",
     "solve micro-batch --preset llama-2-70b --budget 24GiB -s 4096".split()),
    ("solve tokens (llama-2-7b, 1e24 FLOP, 6N)", "solve tokens --preset llama-2-7b --budget 1e24".split()),
    ("solve tokens (mixtral-8x7b, 1e24 FLOP, -s 4096)", "solve tokens --preset mixtral-8x7b --budget 1e24 -s 4096".split()),
    ("solve layers (llama-2-7b, 10B params)", "solve layers --preset llama-2-7b --budget 10B".split()),
    ("solve hidden-size (llama-3-8b, 7B params)", "solve hidden-size --preset llama-3-8b --budget 7B "
     "--multiple-of 128".split()),
    ("solve hidden-size (mixtral-8x7b, aspect ratio)", "solve hidden-size --preset mixtral-8x7b --budget 47B "
     "--aspect-ratio 128".split()),
    ("solve layers (llama-2-7b, 80GiB, 8 GPUs, ZeRO-3)", "solve layers --preset llama-2-7b --memory-budget 80GiB "
     "--num-gpus 8 -z 3".split()),
    ("solve hidden-size (llama-2-7b, 80GB, 8 GPUs, ZeRO-3)", "solve hidden-size --preset llama-2-7b --memory-budget "
     "80GB -s 2048 --num-gpus 8 -z 3 --recompute full --multiple-of 128".split()),
    ("plan (llama-2-7b, 64 GPUs, top 5)", "plan --preset llama-2-7b --num-gpus 64 --gpu-memory 80GiB --peak-flops 989e12 "
     "-s 4096 -gbs 512 --top 5".split()),
    ("plan --hardware h100 (llama-2-7b, 64 GPUs)", "plan --preset llama-2-7b --num-gpus 64 --hardware h100".split()),
    ("plan --hardware h100 --mfu 0.45 (llama-2-7b, 64 GPUs)",
     "plan --preset llama-2-7b --num-gpus 64 --hardware h100 --mfu 0.45".split()),
    ("time (llama-2-7b, 2T tokens, 256 H100)", "time --preset llama-2-7b --tokens 2T --num-gpus 256 --hardware h100 "
     "--mfu 40%".split()),
    ("time --causal (llama-2-7b, 2T tokens, 256 H100)", "time --preset llama-2-7b --tokens 2T --num-gpus 256 "
     "--hardware h100 --mfu 40% --causal".split()),
    ("serve (llama-3-70b, 4 H100)", "serve --preset llama-3-70b --hardware h100 -tp 4 -s 2048 -o 256 -b 16".split()),
    ("serve (mixtral-8x7b, 2 H100)", "serve --preset mixtral-8x7b --hardware h100 -tp 2".split()),
    ("serve (mixtral-8x7b, 64 x 32k prompts)", "serve --preset mixtral-8x7b --hardware h100 -tp 2 -s 32768 "
     "-b 64".split()),
    ("serve (llama-3-8b, -o 1, --prefill-batch 1)", "serve --preset llama-3-8b --hardware h100 -o 1 "
     "--prefill-batch 1".split()),
    ("serve (llama-3-70b, int4 weights, 2 H100)", "serve --preset llama-3-70b --hardware h100 -tp 2 "
     "--weight-dtype int4".split()),
    ("serve (llama-3-8b, device by flag)", "serve --preset llama-3-8b --peak-flops 989e12 --mem-bandwidth 3.35TB "
     "--gpu-memory 80GiB --memory-efficiency 80%".split()),
    ("serve (llama-3-8b, fp8 KV cache)", "serve --preset llama-3-8b --hardware h100 --kv-cache-dtype fp8 "
     "--activation-bytes 1".split()),
]
#: compute_optimal and the closed-form solvers: the frontier, its inverse (a loss target), the loss at a
#: given N, the inference-aware optimum (bisection on the derived condition)
SCALING = [
    ("scaling --compute 1e24", ["scaling", "--compute", "1e24"]),
    ("scaling --loss 2.0", ["scaling", "--loss", "2.0"]),
    ("scaling --compute 1e24 --params 7e10", ["scaling", "--compute", "1e24", "--params", "7e10"]),
    ("scaling --compute 1e24 --inference-tokens 2e12", ["scaling", "--compute", "1e24", "--inference-tokens", "2e12"]),
    ("scaling --compute 1e22 --unique-tokens 25B", ["scaling", "--compute", "1e22", "--unique-tokens", "25B"]),
]


def cookbook_command() -> tuple[str, list]:
    """The cookbook baseline process: the original script if SYMCALC_COOKBOOK_MEM names it, else our stand-in."""
    original = os.environ.get("SYMCALC_COOKBOOK_MEM")
    script = original if original and os.path.exists(original) else os.path.join(HERE, "cookbook_mem.py")
    name = "cookbook calc_transformer_mem.py" + ("" if script == original else " (stand-in: bench/cookbook_mem.py)")
    args = ("--num-layers=32 --sequence-length=4096 --num-attention-heads=32 --hidden-size=4096 "
            "--ffn-expansion-factor=3.5 --num-mlp-linears=3 --vocab-size=32000 --batch-size-per-gpu=1 --zero-stage=1 "
            "--pipeline-parallel-size=1 --tensor-parallel-size=1 --num-gpus=1").split()
    return name, [PY, script, *args]


def main(rounds: int = 3) -> list:
    cookbook_name, cookbook_cmd = cookbook_command()
    cmds = {cookbook_name: cookbook_cmd, "python -c 'import sympy'": [PY, "-c", "import sympy"],
            "python -c pass": [PY, "-c", "pass"]}
    for name, args in NUMERIC + OTHER + SCALING:
        cmds["symcalc " + name] = [PY, "-m", "symcalc", *args]
    got = interleaved(cmds, rounds)
    cb, sp = got[cookbook_name][1], got["python -c 'import sympy'"][1]
    rows = [(name, f"{lo:.3f}", f"{med:.3f}") for name, (lo, med) in got.items()]
    table(f"whole processes, {rounds} interleaved rounds", ("command", "min s", "median s"), rows)
    out = []
    for name, _ in NUMERIC:
        med = got["symcalc " + name][1]
        out.append(Target("numeric CLI", f"symcalc {name} <= 1.5x cookbook script", f"{med:.3f} s",
                          f"{cb:.3f} s ({cookbook_name.split(' (')[0]})", med / cb, med / cb <= 1.5, limit="<= 1.5x"))
    for name, _ in OTHER:
        med = got["symcalc " + name][1]
        out.append(Target("other subcommands", f"symcalc {name} <= 1.15x import sympy", f"{med:.3f} s",
                          f"{sp:.3f} s (import sympy)", med / sp, med / sp <= 1.15, limit="<= 1.15x"))
    for name, _ in SCALING:
        med = got["symcalc " + name][1]
        out.append(Target("scaling", f"symcalc {name} <= 1.15x import sympy", f"{med:.3f} s",
                          f"{sp:.3f} s (import sympy)", med / sp, med / sp <= 1.15, limit="<= 1.15x"))
    for t in out:
        print(f"{t.verdict}: {t.target} ({t.measured}, {t.ratio:.2f}x)")
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
