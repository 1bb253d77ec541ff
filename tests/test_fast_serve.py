"""`symcalc serve`'s sympy-free path on MoE presets answers exactly as the full sympy path (the truth)."""

from __future__ import annotations

import importlib

import pytest

from test_fast_cli import _full, _quick
from test_fast_cli_other import _same
from symcalc._generated import MODULES
from symcalc.presets import PRESETS

MOE = [name for name in PRESETS
       if "expert_powers" in getattr(importlib.import_module(f"symcalc._generated.{MODULES[name]}"), "SERVE", {})]

H100 = ["--hardware", "h100"]
FIGURES = "--peak-flops 989.4T --mem-bandwidth 3.35TB --scaleup-bandwidth 450GB --gpu-memory 80GiB".split()
#: (TP degree, batch, more flags): text and --json, expected experts (the power (1 - k/E)^T) and all experts,
#: the device from --hardware, from flags alone, or both (a flag wins), efficiencies.
WORKLOADS = [(1, 1, [*H100, "-s", "2048"]), (2, 8, [*H100, "-s", "100", "-o", "7", "--json"]),
             (8, 3, [*H100, "-s", "512", "--experts", "all"]),
             (4, 1, [*H100, "-s", "1", "-o", "2", "--experts", "expected", "--json"]),
             (16, 64, [*H100, "-s", "64", "-o", "300"]),
             (2, 4, [*FIGURES, "-s", "300", "--memory-efficiency", "80%", "--json"]),
             (1, 2, ["--hardware", "b200", "--gpu-memory", "300GiB", "--mem-bandwidth", "10TB", "-s", "128",
                     "--compute-efficiency", "0.55", "--link-efficiency", "7e-1"]),
             (2, 16, [*H100, "-s", "64", "--kv-cache-dtype", "fp8", "--activation-bytes", "1", "--json"]),
             (4, 2, ["--hardware", "h200", "--dtype", "fp32", "--kv-cache-dtype", "int4", "-s", "77", "-o", "9"])]


def test_every_moe_preset_has_generated_serving_code():
    """Each MoE preset's generated module has a serve function with its expected-experts powers (13 presets)."""
    from symcalc import Model

    assert MOE == [name for name in PRESETS if Model.preset(name).is_moe] and len(MOE) >= 10


@pytest.mark.parametrize("name", MOE)
def test_serve_moe_presets_equal_the_full_path(name):
    """`symcalc serve --preset MOE` over TP degrees, batches, prompt lengths, --experts, device figures and
    efficiencies by flag and --json prints the full path's bytes; a TP degree the model cannot take is left
    to the full path (its error, exit 2)."""
    covered = 0
    for tp, batch, more in WORKLOADS:
        argv = ["serve", "--preset", name, "-tp", str(tp), "-b", str(batch), *more]
        fast = _quick(argv)
        if fast[0] is None:
            assert _full(argv)[0] == 2, " ".join(argv)
            continue
        covered += 1
        assert fast == _full(argv), " ".join(argv)
    assert covered >= 4, name


MOE_CASES = [
    "serve --preset mixtral-8x7b --hardware h100 -tp 2",                               # the default 8192-token prompt
    "serve --preset mixtral-8x7b --hardware h200 -tp 2 -s 32 -o 128 -b 8 --json",
    "serve --preset deepseek-v3 --hardware h200 -tp 8 -b 32 --experts all --json",       # MLA, shared experts
    "serve --preset qwen3-30b-a3b --hardware a100 -s 100 -o 2 -b 3",                     # one decode step
    "serve --preset kimi-k2 --hardware b200 -tp 8 -s 8192",                              # (47/48)^8192, text
    "serve --preset llama-4-scout --hardware rtx-4090 -tp 2 -o 3",                       # nothing fits the device
    "serve --preset gpt-oss-20b --hardware mi300x -s 4096 -o 1024 -b 64 --json",          # (7/8)^262144 kept
    # 2,097,152 routed prefill tokens: (3/4)^T kept a power (symcalc._powers), compute- and memory-bound prefills
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 -s 32768 -b 64",
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 -s 32768 -b 64 --json",
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 -s 32768 -b 64 --peak-flops 1e20 --json",
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 -s 32768 -b 64 --peak-flops 1e20",
    "serve --preset deepseek-v3 --hardware h200 -tp 8 -s 16384 -b 8 --json",               # (31/32)^131072, MLA
    "serve --preset kimi-k2 --hardware b200 -tp 8 -s 8192 -b 4 --peak-flops 1e19 --json",   # (47/48)^32768
    "serve --preset llama-3-8b --hardware h100 --experts all --json",                    # a dense model: all = expected
]


@pytest.mark.parametrize("argv", MOE_CASES)
def test_serve_moe_flag_combinations_equal_the_full_path(argv):
    """`symcalc serve` on MoE presets with the covered flags (text and --json) prints the full path's bytes."""
    _same(argv.split())


DEVICE_CASES = [
    "serve --preset llama-3-8b --peak-flops 989e12 --mem-bandwidth 3.35TB --gpu-memory 80GiB",   # no --hardware, TP 1
    "serve --preset llama-3-8b --peak-flops 989.4T --mem-bandwidth 3.35e12 --gpu-memory 80GB --json",
    "serve --preset llama-3-70b --peak-flops h100 --mem-bandwidth 3.35TB --scaleup-bandwidth 450GB --gpu-memory 80GiB "
    "-tp 4 --json",                                                                               # a peak by name
    "serve --preset llama-3-70b --hardware h100 --gpu-memory 70GiB -tp 4 --memory-efficiency 80% "
    "--compute-efficiency 0.7 --link-efficiency 1",                                               # flags win
    "serve --preset mixtral-8x7b --hardware h200 --mem-bandwidth 4TB -tp 2 --link-efficiency 0.5 --json",
    "serve --preset mixtral-8x7b --hardware h200 --peak-flops a100 --dtype tf32 -tp 2",           # a100's tf32 peak
    "serve --preset llama-2-70b --hardware rtx-4090 --gpu-memory 24GB -tp 2 -o 3",                # nothing fits
    "serve --preset gemma-2-9b --peak-flops 1e15 --mem-bandwidth 2e12 --gpu-memory 512MiB --scaleup-bandwidth 1e11 "
    "-tp 2 --json",
]


@pytest.mark.parametrize("argv", DEVICE_CASES)
def test_serve_device_flags_equal_the_full_path(argv):
    """`symcalc serve` with the device's figures and efficiencies given by flag (with or without --hardware;
    a flag wins over the entry) prints the full path's bytes, text and --json."""
    _same(argv.split())


DEVICE_BAD = [
    "serve --preset llama-3-8b --peak-flops 989e12 --mem-bandwidth 3.35TB --gpu-memory 80GiB -tp 2",  # no link
    "serve --preset llama-3-8b --peak-flops 989e12", "serve --preset llama-3-8b --mem-bandwidth 3TB",
    "serve --preset llama-3-8b --hardware h100 --memory-efficiency 150%",
    "serve --preset llama-3-8b --hardware h100 --compute-efficiency 0",
    "serve --preset llama-3-8b --hardware h100 --link-efficiency 2",
    "serve --preset llama-3-8b --hardware h100 --memory-efficiency fast",
    "serve --preset llama-3-8b --hardware h100 --gpu-memory 1e31",
    "serve --preset llama-3-8b --hardware h100 --gpu-memory 1e-31",
    "serve --preset llama-3-8b --hardware h100 --mem-bandwidth 0",
    "serve --preset llama-3-8b --hardware h100 --scaleup-bandwidth eighty",
    "serve --preset llama-3-8b --hardware h100 --peak-flops h1000",
    "serve --preset llama-3-8b --hardware h100 --peak-flops tpu-v5e --dtype fp16",              # no fp16 peak
]


PRECISION_CASES = [
    "serve --preset llama-3-8b --hardware h100 --weight-dtype fp32 --kv-cache-dtype fp8 --activation-bytes 4",
    "serve --preset llama-3-8b --hardware h100 --dtype fp32 --json",                  # fp32 weights from --dtype
    "serve --preset llama-3-8b --hardware h100 --kv-cache-dtype int4 --json",         # half a byte per KV value
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 --kv-cache-dtype fp8 --weight-dtype fp16 --activation-bytes 1 "
    "--json",
    "serve --preset deepseek-v3 --hardware h200 -tp 8 --kv-cache-dtype int8 --activation-bytes 4",   # MLA's latent cache
    "serve --preset gemma-3-27b --hardware a100 -tp 2 --kv-cache-dtype fp32 --dtype tf32 --json",    # windows
    "serve --preset llama-3-70b --hardware h100 -tp 16 -s 100 -o 2 --weight-dtype fp32 --kv-cache-dtype fp16",  # t > g
]


@pytest.mark.parametrize("argv", PRECISION_CASES)
def test_serve_precision_flags_equal_the_full_path(argv):
    """`symcalc serve` with --weight-dtype (16 bits or more), --kv-cache-dtype (any) and --activation-bytes prints
    the full path's bytes, text and --json."""
    _same(argv.split())


QUANTIZED = [
    "serve --preset llama-3-8b --hardware h100 --weight-dtype int4",      # quantized linears: a storage format
    "serve --preset llama-3-8b --hardware h100 --weight-dtype int4 --json",
    "serve --preset llama-3-8b --hardware h100 --weight-dtype fp8", "serve --preset llama-3-8b --hardware h100 --dtype fp8",
    "serve --preset llama-3-8b --hardware h100 --dtype fp8 --json",
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 --weight-dtype int8",
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 --weight-dtype int8 --json",
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 --weight-dtype int4 -s 32768 -b 64 --peak-flops 1e20 --json",
    "serve --preset deepseek-v3 --hardware h200 -tp 8 --weight-dtype int4 --kv-cache-dtype fp8 --json",   # MLA
    "serve --preset gemma-2-9b --hardware l40s -o 1 -b 3 -s 9000 --weight-dtype int4 --prefill-batch 1 "
    "--full-attention-square --json",                                                                     # windows
    "serve --preset gpt2 --hardware a100 -b 2 -s 1024 --weight-dtype int8",                               # tied head
    "serve --preset llama-3-70b --hardware h100 -tp 16 -s 100 -o 2 --weight-dtype int4 --prefill-batch 7",  # t > g
    "serve --preset llama-2-70b --hardware rtx-4090 -tp 2 -o 3 --weight-dtype int4",                      # nothing fits
    "serve --preset llama-3-70b --hardware h100 --weight-dtype int4 --json",
]


@pytest.mark.parametrize("argv", QUANTIZED)
def test_serve_quantized_weights_equal_the_full_path(argv):
    """Weights below 16 bits (the linears in a storage format, the rest 16-bit, in the memory and in every step's
    weight reads: the generated serve_<dtype>) print the full path's bytes, text and --json."""
    _same(argv.split())


@pytest.mark.parametrize("name", list(PRESETS))
def test_serve_every_preset_with_quantized_weights_equals_the_full_path(name):
    """`symcalc serve --preset NAME` with --weight-dtype int4, int8 and --dtype fp8 (text and --json, TP 1 and 2,
    one generated token) prints the full path's bytes wherever the fast path answers, on nearly every preset."""
    covered = 0
    for more in (["--weight-dtype", "int4", "-s", "300", "-o", "5", "-b", "3"], ["--dtype", "fp8", "-tp", "2", "--json"],
                 ["--weight-dtype", "int8", "-o", "1", "--prefill-batch", "1", "--json"]):
        argv = ["serve", "--preset", name, "--hardware", "h100", *more]
        fast = _quick(argv)
        if fast[0] is None:
            continue
        covered += 1
        assert fast == _full(argv), " ".join(argv)
    assert covered >= 2, name


@pytest.mark.parametrize("argv", [
    "serve --preset llama-3-8b --hardware h100 --quantize nf4",
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 --quantize int8 --json",
    "serve --preset llama-3-8b --hardware h100 --quantize nf4 --double-quant --weight-dtype fp32",
    "serve --preset llama-3-8b --hardware h100 --dtype fp8 --quantize fp8"])
def test_serve_quantize_goes_to_the_full_path(argv):
    """--quantize (a storage format with scales: no generated code) is left to the full path, which answers."""
    assert _quick(argv.split()) == (None, "") and _full(argv.split())[0] == 0


def test_serve_quantized_weights_without_flash_attention_go_to_the_full_path():
    """Weights below 16 bits with --no-flash-attention (no generated memory for the pair) are left to the full path."""
    argv = "serve --preset llama-3-8b --hardware h100 --weight-dtype int4 --no-flash-attention".split()
    assert _quick(argv) == (None, "") and _full(argv)[0] == 0


ONE_TOKEN_AND_PREFILL_BATCH = [
    "serve --preset llama-3-8b --hardware h100 -o 1 -b 4",                              # no decode step: context s
    "serve --preset llama-3-8b --hardware h100 -o 1 -b 4 --json",
    "serve --preset llama-3-8b --hardware h100 -b 4 --prefill-batch 8",                 # more prompts than sequences
    "serve --preset llama-3-8b --hardware h100 -b 4 --prefill-batch 1 -s 100000 --json",  # one prompt at a time
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 -o 1 -b 8 --prefill-batch 2 --json",
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 -s 32768 -b 64 -o 1 --prefill-batch 1 --json",  # power kept
    "serve --preset deepseek-v3 --hardware h200 -tp 8 -o 1 --json",                     # MLA
    "serve --preset gemma-2-9b --hardware l40s -o 1 -b 3 -s 9000",                       # windows shorter than s
    "serve --preset gemma-2-9b --hardware l40s -o 1 -b 3 -s 9000 --prefill-batch 2 --json",
    "serve --preset llama-3-70b --hardware h100 -tp 16 -s 100 -o 1 --prefill-batch 3",  # t > g
    "serve --preset llama-2-70b --hardware rtx-4090 -tp 2 -o 1 --prefill-batch 1",      # nothing fits the device
    "serve --preset llama-2-70b --hardware rtx-4090 -tp 2 -o 3 --prefill-batch 1 --gpu-memory 1GiB",
    "serve --preset gpt2 --hardware a100 -o 1 --prefill-batch 5 -b 2 -s 1024 --json",   # learned positions
    "serve --preset gpt2 --hardware a100 -o 1 -b 2 -s 1 --json",
    "serve --preset llama-3-8b --hardware h100-pcie --prefill-batch 1",
    # --full-attention-square (the generated serve_square) and --no-flash-attention (serve_eager)
    "serve --preset llama-3-8b --hardware h100 --full-attention-square",
    "serve --preset llama-3-8b --hardware h100 --full-attention-square --json",
    "serve --preset llama-3-8b --hardware h100 --no-flash-attention -b 4 --json",
    "serve --preset llama-3-8b --hardware h100 --no-flash-attention --full-attention-square -b 4 --prefill-batch 1 -o 1 "
    "--json",
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 --full-attention-square --no-flash-attention --json",
    "serve --preset mixtral-8x7b --hardware h100 -tp 2 -s 32768 -b 64 --full-attention-square --peak-flops 1e20 --json",
    "serve --preset deepseek-v3 --hardware h200 -tp 8 --full-attention-square --no-flash-attention",
    "serve --preset gemma-2-9b --hardware l40s -o 3 -b 3 -s 9000 --full-attention-square --json",
    "serve --preset gemma-2-9b --hardware l40s -o 3 -b 3 -s 9000 --no-flash-attention --json",
    "serve --preset gpt2 --hardware a100 -b 2 -s 1024 --no-flash-attention --full-attention-square",
    "serve --preset llama-3-70b --hardware h100 -tp 16 -s 100 -o 2 --no-flash-attention --prefill-batch 7",
    "serve --preset llama-2-70b --hardware rtx-4090 -tp 2 -o 3 --no-flash-attention",            # nothing fits
    "serve --preset llama-3-8b --hardware h100 -s 100000 --no-flash-attention",
]


@pytest.mark.parametrize("argv", ONE_TOKEN_AND_PREFILL_BATCH)
def test_serve_one_output_token_prefill_batch_and_attention_flags_equal_the_full_path(argv):
    """`symcalc serve -o 1` (the decode step at the context s, latency = TTFT), --prefill-batch (the transient
    activations of that many prompts; the largest batch with them fixed), --full-attention-square and
    --no-flash-attention print the full path's bytes."""
    _same(argv.split())


DEVICE_BAD += [
    "serve --preset llama-3-8b --hardware h100 --prefill-batch 0", "serve --preset llama-3-8b --hardware h100 "
    "--prefill-batch -1", "serve --preset llama-3-8b --hardware h100 --prefill-batch x",
    "serve --preset llama-3-8b --hardware h100 --prefill-batch 1.5", "serve --preset llama-3-8b --hardware h100 -o 0",
    "serve --preset llama-3-8b --hardware h100 --no-flash-attention=yes",
    "serve --preset llama-3-8b --hardware h100 --full-attention-square=1",
]
DEVICE_BAD += [
    "serve --preset llama-3-8b --hardware h100 --weight-dtype BF16", "serve --preset llama-3-8b --hardware h100 "
    "--kv-cache-dtype fp4", "serve --preset llama-3-8b --hardware h100 --activation-bytes 0",
    "serve --preset llama-3-8b --hardware h100 --activation-bytes 1.5",
]


@pytest.mark.parametrize("argv", DEVICE_BAD)
def test_serve_bad_device_and_precision_flags_get_the_full_paths_error(argv):
    """A device or precision flag the full path refuses (or a figure missing) is left to it: its one-line
    error, exit 2."""
    assert _quick(argv.split()) == (None, "")
    try:
        status = _full(argv.split())[0]
    except SystemExit as exc:  # argparse's own error (a choice or a type it refuses)
        status = exc.code
    assert status == 2


def test_serve_exact_strings_past_pythons_digit_limit_equal_the_full_path():
    """--json whose exact values exceed Python's int-to-str digit limit (kimi-k2, (47/48)^8192, written out) and
    a step routing 2,097,152 tokens (the power kept) print the full path's bytes."""
    _same("serve --preset kimi-k2 --hardware b200 -tp 8 -s 8192 --json".split())
    _same("serve --preset mixtral-8x7b --hardware h100 -s 32768 -b 64 --json".split())


# As processes (sympy never imported): the MoE and device-by-flag cases are rows of
# test_fast_cli_other.PROCESSES.


def test_serve_decode_routing_a_kept_power_is_left_to_the_full_path():
    """A decode step of 40,000 sequences (Mixtral: (3/4)^40000 kept a power) is left to the full path, which answers."""
    argv = "serve --preset mixtral-8x7b --hardware h100 -tp 2 -s 1 -o 2 -b 40000 --json".split()
    assert _quick(argv)[0] is None and _full(argv)[0] == 0
