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


HW_PRESETS = ("llama-2-7b", "mixtral-8x7b", "gemma-2-2b", "qwen3-30b-a3b", "llama-3.2-1b")


def test_every_catalogue_entry_alias_and_dtype_equals_the_full_path():
    """`--hardware NAME` for every catalogue name and alias, at every --dtype: text and --json equal the full path's
    (memory, the peak at --dtype, the scale-up link, the scale-out NIC and the node size from the entry, or the
    defaults where it has none), and where the entry has no peak at that dtype the fast path leaves the error to the
    full path (exit 2)."""
    from symcalc._generated.catalog import ALIASES, HARDWARE
    from symcalc.cli._fast_plan import DTYPES

    used, answered, refused = set(), 0, 0
    for i, hw in enumerate(HARDWARE):
        names = [a for a, canonical in ALIASES.items() if canonical == hw["name"]]
        assert len(names) <= len(DTYPES)
        for j, dtype in enumerate(DTYPES):
            name = names[j % len(names)]
            used.add(name)
            argv = ["plan", "--preset", HW_PRESETS[(i + j) % len(HW_PRESETS)], "--num-gpus", str((8, 16, 64, 128)[j % 4]),
                    "--hardware", name, "--dtype", dtype, "-gbs", "256", "--top", "4"]
            if f"peak_flops/{dtype}" not in hw["figures"]:
                assert _quick(argv) == (None, "") and _full(argv)[0] == 2, " ".join(argv)
                refused += 1
                continue
            fast = _quick(argv)
            if fast[0] is None:  # nothing fits on this small device: the full path suggests fixes
                assert _full(argv)[0] == 1, " ".join(argv)
                continue
            _same(argv)
            _same([*argv, "--json"])
            answered += 1
    assert used == set(ALIASES) and answered >= 50 and refused >= 10


HW_CASES = [
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--hardware", "h100"],             # the natural command
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--hardware", "h100", "--gpu-memory", "70GiB"],  # flag wins
    ["plan", "--preset", "llama-3-8b", "--num-gpus", "32", "--hardware", "a100", "--peak-flops", "250e12",
     "--tp-bandwidth", "200GB", "--dp-bandwidth", "12500MB", "--node-size", "4", "--max-tp", "4"],  # every flag wins
    ["plan", "--preset", "mixtral-8x7b", "--num-gpus", "64", "--hardware", "b200", "--ep-bandwidth", "50GB",
     "--dtype", "fp8"],                                                                        # MoE with EP, fp8 peak
    ["plan", "--preset", "llama-2-13b", "--num-gpus", "8", "--hardware", "h200", "-gbs", "64"],  # one node: dp, pp = 1
    ["plan", "--preset", "gemma-2-2b", "--num-gpus", "16", "--hardware", "h100-pcie", "-gbs", "64"],  # no NIC, no node
    ["plan", "--preset", "llama-3.1-8b", "--num-gpus", "128", "--hardware", "gb200-nvl72", "--max-tp", "16"],  # node 72
    ["plan", "--preset", "qwen2.5-7b", "--num-gpus", "64", "--hardware", "trillium", "-s", "4096"],  # TPU pod slice
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--gpu-memory", "80GiB", "--peak-flops", "989.4T"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--hardware", "a100", "--peak-flops", "0.25t"],  # K M B T
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "16", "--gpu-memory", "80GiB", "--peak-flops", "h100",
     "--dtype", "fp8"],                                                                        # --peak-flops NAME
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "16", "--gpu-memory", "24GiB", "--peak-flops", "4090",
     "--hardware", "mi300x"],                                       # 4090 is an alias; the flags win over mi300x
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--gpu-memory", "80G", "--peak-flops", "989e12",
     "--tp-bandwidth", "4.5e11", "--dp-bandwidth", "50gb"],          # byte sizes as parse_bytes reads them
    ["plan", "--preset", "llama-3-8b", "--num-gpus", "32", "--gpu-memory", "141e9", "--peak-flops", "989e12",
     "--ep-bandwidth", "0.05TB", "--tp-bandwidth", "921600MiB"],
]


@pytest.mark.parametrize("argv", HW_CASES, ids=[" ".join(a[2:]) for a in HW_CASES])
def test_hardware_flag_sets_equal_the_full_path(argv):
    """--hardware with flags given explicitly winning over its figures, --dtype, --peak-flops NAME: text and --json
    equal the full path's byte for byte."""
    _same(argv)
    _same([*argv, "--json"])


MFU_PRESETS = ("llama-2-7b", "mixtral-8x7b", "gemma-2-2b", "qwen1.5-moe-a2.7b", "llama-3-8b", "deepseek-v2-lite",
               "phi-3-mini", "falcon-7b")


@pytest.mark.parametrize("name", MFU_PRESETS)
def test_fixed_mfu_equals_the_full_path(name):
    """--mfu (one fixed fraction of the peak instead of the efficiency model) for dense, GQA, MoE and MLA presets,
    with --hardware or the flags, across nodes and in one: text and --json equal the full path's byte for byte."""
    i = MFU_PRESETS.index(name)
    for argv in (["plan", "--preset", name, "--num-gpus", "64", "--hardware", ("h100", "b200", "a100")[i % 3],
                  "--mfu", ("0.45", "1", "0.333", "0.5")[i % 4], "-gbs", "256", "--top", "20"],
                 ["plan", "--preset", name, "--num-gpus", "8", "--gpu-memory", "141GB", "--peak-flops", "989e12",
                  "--mfu", "0.38", "-gbs", "64", "--framework", "any", "--max-virtual-stages", "4", "--top", "50"]):
        _same(argv)
        _same([*argv, "--json"])


OUTSIDE = [
    ["plan", "--preset", "llama-2-7b", *BASE, "--mfu", "1.5"],                             # above 1: an error
    ["plan", "--preset", "llama-2-7b", *BASE, "--mfu", "0.5", "--kernel-efficiency", "0.7"],  # both: an error
    ["plan", "--preset", "llama-2-7b", *BASE, "--mfu", "0.5", "--gemm-half-size", "64"],
    ["plan", "--preset", "llama-2-7b", *BASE, "--mfu", "50%"],                              # plan's --mfu: no percent
    ["plan", "--preset", "llama-2-7b", *BASE, "--mfu", "1/2"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--gpu-memory", "80GiB", "--peak-flops", "989/1000T"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--hardware", "H100"],            # another spelling
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--hardware", "h300"],            # not in the catalogue
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--hardware", "tpu-v5e", "--dtype", "fp8"],  # no such peak
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--hardware", "h100", "--dtype", "int8"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--gpu-memory", "80GiB", "--peak-flops", "a100",
     "--dtype", "fp8"],                                                                     # a100 has no fp8 peak
    ["plan", "--preset", "llama-2-70b", "--num-gpus", "8", "--hardware", "rtx-4090"],      # nothing fits
    ["plan", "--preset", "llama-2-7b", *BASE, "--attention", "eager"],
    ["plan", "--preset", "llama-2-7b", *BASE, "--no-sequence-parallel"],
    ["plan", "--preset", "llama-2-7b", *BASE, "--cookbook"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--gpu-memory", "1GiB", "--peak-flops", "989e12"],  # no fit
    ["plan", "--preset", "llama-2-7b", *BASE, "--zero-stages", "1,1"],
    ["plan", "--preset", "llama-2-7b", *BASE, "--zero-stages", "2", "--framework", "megatron"],
    ["plan", "--preset", "llama-2-7b", *BASE, "--kernel-efficiency", "1.5"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--gpu-memory", "80 GiB", "--peak-flops", "989e12"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--gpu-memory", "0GiB", "--peak-flops", "989e12"],
    ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--gpu-memory", "80.5B", "--peak-flops", "989e12"],
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
    """`symcalc plan --preset` (with --gpu-memory/--peak-flops, or --hardware) as a process answers with 'sympy' not in sys.modules, as the full path does."""
    code = ("import sys; from symcalc.cli import main; sys.argv = ['symcalc'] + sys.argv[1:]; status = main(); "
            "assert 'sympy' not in sys.modules, 'sympy imported'; sys.exit(status)")
    for argv in (["plan", "--preset", "mixtral-8x7b", *BASE, "-s", "4096", "--top", "5", "--json"],
                 ["plan", "--preset", "llama-2-7b", "--num-gpus", "64", "--hardware", "h100", "--dtype", "fp8",
                  "--mfu", "0.4"]):
        fast = _process(["-c", code, *argv])
        assert fast.returncode == 0, fast.stderr
        full = _process(["-m", "symcalc", *argv], SYMCALC_FULL_PATH="1")
        assert fast.stdout == full.stdout and full.returncode == 0
