"""The sympy-free `symcalc plan` path (symcalc.cli._fast_plan) prints exactly what the full sympy path prints."""

from __future__ import annotations

import json
import random

import pytest

from symcalc.presets import PRESETS
from test_fast_cli import _full, _process, _quick, _same
BASE = ["--num-gpus", "64", "--gpu-memory", "80GiB", "--peak-flops", "989e12"]


CASES = [
    ["plan", "--preset", "llama-2-7b", *BASE, "-s", "4096", "-gbs", "512", "--top", "5"],   # the benchmark's command
    ["plan", "--preset", "mixtral-8x7b", "--num-gpus", "64", "--gpu-memory", "40GiB", "--peak-flops", "989e12",
     "-s", "4096", "--top", "200"],                                                           # MoE with EP
    ["plan", "--preset", "qwen1.5-moe-a2.7b", "--num-gpus", "32", "--gpu-memory", "40GiB", "--peak-flops", "312e12",
     "--framework", "any", "--top", "30"],                                                    # MoE, every ZeRO stage
    ["plan", "--preset", "gemma-2-2b", "--num-gpus", "16", "--gpu-memory", "24GB", "--peak-flops", "989.4e12",
     "-s", "2k", "-gbs", "64", "--top", "60"],                                                # GQA g = 4: t = 8 > g
    ["plan", "--preset", "llama-2-13b", "--num-gpus", "8", "--gpu-memory", "141GB", "--peak-flops", "989e12",
     "-s", "4096", "-gbs", "64", "--top", "200", "--framework", "deepspeed"],                 # one node: dp = 1, pp = 1
    ["plan", "--preset", "llama-3-8b", "--num-gpus", "128", "--gpu-memory", "80GiB", "--peak-flops", "989e12",
     "--max-virtual-stages", "4", "--max-tp", "4", "--node-size", "4", "--top", "25"],        # interleaved, small nodes
    ["plan", "--preset", "gpt2", "--num-gpus", "4", "--gpu-memory", "16GiB", "--peak-flops", "125e12",
     "-gbs", "8", "--framework", "fsdp", "--zero-stages", "0,2,3", "--recompute", "none,full",
     "--top", "100"],
    ["plan", "--preset", "llama-2-13b", "--num-gpus", "16", "--gpu-memory", "40GiB", "--peak-flops", "312e12",
     "--tp-bandwidth", "600GB", "--dp-bandwidth", "50GB", "--ep-bandwidth", "40GB", "--kernel-efficiency", "0.7",
     "--gemm-half-size", "256", "--max-micro-batch", "8", "--top", "12"],
    ["plan", "--preset", "mistral-7b", "--num-gpus", "8", "--gpu-memory", "80GiB", "--peak-flops", "989e12",
     "--node-size", "16", "--zero-stages", "1", "--recompute", "selective", "--top", "8"],    # one node: no NIC
]


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(a[2:4]) for a in CASES])
def test_flag_sets_equal_the_full_path(argv):
    """Text and --json of the fast path equal the full path's byte for byte (MoE with EP, GQA with t > g, pp = 1,
    dp = 1, interleaving, every framework, bandwidth and efficiency flags)."""
    text = _same(argv)
    rows = [line for line in text.splitlines() if line[:3].strip().isdigit()]
    assert rows
    _same([*argv, "--json"])


def test_edge_regimes_are_among_the_cases():
    """The cases above do print rows with pp = 1, dp = 1, t > g, ep > 1 and v > 1 (so the comparison covers them)."""
    seen = set()
    for argv in CASES:
        got = json.loads(_quick([*argv, "--json"])[1])
        kv = {"gemma-2-2b": 4}.get(argv[2], 10**9)
        for r in got["rows"]:
            seen |= {k for k, ok in (("pp1", r["pp"] == 1), ("dp1", r["dp"] == 1), ("t>g", r["tp"] > kv),
                                     ("ep", r["ep"] > 1), ("v", r["virtual_stages"] > 1)) if ok}
    assert seen == {"pp1", "dp1", "t>g", "ep", "v"}


def test_budget_met_to_the_byte_equals_the_full_path():
    """A budget equal to a row's exact memory (a tie decided exactly), and one byte below it, print as the full path."""
    argv = ["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--peak-flops", "989e12", "-gbs", "64"]
    got = json.loads(_quick([*argv, "--gpu-memory", "80GiB", "--json", "--top", "1000"])[1])
    need = sorted(r["memory_bytes"] for r in got["rows"])[len(got["rows"]) // 2]  # a row in the middle
    out = _same([*argv, "--gpu-memory", str(need), "--json", "--top", "3"])
    assert json.loads(out)["n_fit"] >= 1
    below = _same([*argv, "--gpu-memory", str(need - 1), "--json", "--top", "3"])  # one byte short: that row is out
    assert json.loads(below)["n_fit"] < json.loads(out)["n_fit"]


def test_random_problems_answer_as_the_full_path_or_fall_back():
    """Random presets, device counts, budgets and settings: the fast path equals the full path, or leaves it to it."""
    rng = random.Random(14)
    names = list(PRESETS)
    answered = 0
    for _ in range(12):
        argv = ["plan", "--preset", rng.choice(names), "--num-gpus", str(rng.choice([1, 2, 4, 8, 12, 16, 24, 32, 64])),
                "--gpu-memory", f"{rng.choice([16, 24, 40, 80, 141])}GiB", "--peak-flops", "989e12",
                "-s", str(rng.choice([512, 2048, 4096])), "-gbs", str(rng.choice([8, 32, 96, 256])),
                "--framework", rng.choice(["megatron", "deepspeed", "fsdp", "any"]), "--top", str(rng.randint(1, 15))]
        if rng.random() < 0.5:
            argv.append("--json")
        fast = _quick(argv)
        if fast[0] is None:
            assert fast[1] == ""
            continue
        answered += 1
        assert fast == _full(argv), " ".join(argv)
    assert answered >= 4


OUTSIDE = [
    ["plan", "--preset", "llama-2-7b", *BASE, "--mfu", "0.5"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--hardware", "h100"],
    ["plan", "--preset", "llama-2-7b", *BASE, "--attention", "eager"],
    ["plan", "--preset", "llama-2-7b", *BASE, "--no-sequence-parallel"],
    ["plan", "--preset", "llama-2-7b", *BASE, "--cookbook"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--gpu-memory", "1GiB", "--peak-flops", "989e12"],  # no fit
    ["plan", "--preset", "llama-2-7b", *BASE, "--zero-stages", "1,1"],
    ["plan", "--preset", "llama-2-7b", *BASE, "--zero-stages", "2", "--framework", "megatron"],
    ["plan", "--preset", "llama-2-7b", *BASE, "--kernel-efficiency", "1.5"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--gpu-memory", "80 GiB", "--peak-flops", "989e12"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--gpu-memory", "80GiB", "--peak-flops", "989.4T"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--gpu-memory", "80GiB"],
    ["plan", "--preset", "no-such-model", *BASE],
    ["plan", "-l", "32", "-hs", "4096", "-a", "32", *BASE],
    ["plan", "--preset", "llama-2-7b", *BASE, "--top", "0"],
    ["plan", "--preset", "gpt2", *BASE, "-s", "512"],          # -s sizes gpt2's learned position table
]


@pytest.mark.parametrize("argv", OUTSIDE, ids=[" ".join(a[4:]) or a[2] for a in OUTSIDE])
def test_uncovered_input_goes_to_the_full_path(argv):
    """Anything outside the covered set (or that fits nothing) prints nothing on the fast path and returns None."""
    assert _quick(argv) == (None, "")


def test_many_layouts_go_to_the_full_path():
    """Above MAX_LAYOUTS candidate layouts the full path (numpy over every candidate) answers."""
    from symcalc.cli._fast_plan import MAX_LAYOUTS

    argv = ["plan", "--preset", "mixtral-8x7b", "--num-gpus", "4096", "--gpu-memory", "80GiB", "--peak-flops",
            "989e12", "-gbs", "2580480", "--max-micro-batch", "2048", "--max-tp", "32"]
    assert MAX_LAYOUTS < 100_000 and _quick(argv) == (None, "")


def test_fast_plan_process_never_imports_sympy():
    """`symcalc plan --preset` as a process answers with 'sympy' not in sys.modules, as the full path does."""
    code = ("import sys; from symcalc.cli import main; sys.argv = ['symcalc'] + sys.argv[1:]; status = main(); "
            "assert 'sympy' not in sys.modules, 'sympy imported'; sys.exit(status)")
    argv = ["plan", "--preset", "mixtral-8x7b", *BASE, "-s", "4096", "--top", "5", "--json"]
    fast = _process(["-c", code, *argv])
    assert fast.returncode == 0, fast.stderr
    full = _process(["-m", "symcalc", *argv], SYMCALC_FULL_PATH="1")
    assert fast.stdout == full.stdout and full.returncode == 0
