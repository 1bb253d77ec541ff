"""`symcalc time --causal` without sympy answers exactly as the full sympy path (text, --json, errors)."""

from __future__ import annotations

import random

import pytest

from test_fast_cli import _full, _quick
from test_fast_cli_other import _process
from test_fast_cli_other import test_fast_path_process_never_imports_sympy as _never_imports_sympy
from symcalc.hardware import aliases
from symcalc.presets import PRESETS

TIME = ["time", "--tokens", "2T", "--num-gpus", "256", "--hardware", "h100", "--causal"]


def _same(argv):
    fast = _quick(argv)
    assert fast[0] == 0, f"the fast path does not cover {' '.join(argv)}"
    assert fast == _full(argv), " ".join(argv)
    return fast[1]


@pytest.mark.parametrize("name", list(PRESETS))
def test_time_causal_every_preset_equals_the_full_path(name):
    """`time --causal` for every preset (defaults; odd tokens and -s giving a fraction, every recompute policy, a
    step) prints the full path's text and JSON exactly."""
    _same([*TIME, "--preset", name, "--json"])
    for policy in ("none", "selective", "full"):
        _same(["time", "--preset", name, "--causal", "--tokens", "123456789", "-s", "1001", "--num-gpus", "96",
               "--hardware", "a100", "--recompute", policy, "-gbs", "7", "--json"])


CASES = [
    [*TIME, "--preset", "llama-2-7b", "--mfu", "40%"],
    [*TIME, "--preset", "llama-2-7b", "-s", "4k", "--recompute", "selective", "-gbs", "512"],
    [*TIME, "--preset", "gpt2", "-s", "1024"],                                          # a learned table of s rows
    [*TIME, "--preset", "gpt2", "-s", "1023", "--flops", "6N"],                          # 6N ignores the square
    [*TIME, "--preset", "llama-2-7b", "--flops", "8N", "--json"],
    [*TIME, "--preset", "gemma-2-9b", "-s", "8192"],                                     # windowed layers
    [*TIME, "--preset", "mistral-7b", "-s", "32768", "--json"],
    [*TIME, "--preset", "deepseek-v3", "--dtype", "fp8", "--mfu", "23%"],                # MLA, MoE
    [*TIME, "--preset", "mixtral-8x7b", "--achieved-flops", "400T", "--json"],
    ["time", "--causal", "--preset", "llama-2-7b", "--tokens", "1001", "-s", "3", "--num-gpus", "1",
     "--peak-flops", "989.4T", "--power", "700", "--mfu", "1"],                          # seconds below 120
    ["time", "--preset", "llama-3.1-405b", "--tokens=15.6T", "-s", "8192", "--num-gpus", "16384", "--hardware",
     "h100", "--mfu", "40%", "-gbs", "2048", "--price-per-gpu-hour", "2", "--causal"],
    ["time", "--hf-config", "examples/configs/llama-3-8b", "--causal", "--tokens", "15T", "--num-gpus", "1024",
     "--hardware", "b200", "--json"],
]


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(a) for a in CASES])
def test_time_causal_flag_combinations_equal_the_full_path(argv):
    """`time --causal` with the other covered flags (text and --json) prints the full path's bytes."""
    _same(argv)


OUTSIDE = [
    [*TIME, "--preset", "llama-2-7b", "--causal"],                                       # given twice
    [*TIME, "--preset", "llama-2-7b", "--mfu", "140%"], [*TIME, "--preset", "llama-2-7b", "--flops", "6N",
                                                         "--recompute", "full"],
    [*TIME, "--preset", "nope"], [*TIME, "--preset", "llama-2-7b", "-l", "40"],
    ["time", "--preset", "llama-2-7b", "--causal=1", "--tokens", "2T", "--num-gpus", "8", "--hardware", "h100"],
    ["time", "--preset", "llama-2-7b", "--causal", "--tokens", "2T", "--num-gpus", "8"],  # no peak: an error
]


@pytest.mark.parametrize("argv", OUTSIDE, ids=[" ".join(a) for a in OUTSIDE])
def test_time_causal_uncovered_input_goes_to_the_full_path(argv):
    """`time --causal` input outside the covered set (or refused by the full path) prints nothing and returns None."""
    assert _quick(argv) == (None, "")


@pytest.mark.parametrize("extra,flag", [(["--mfu", "140%"], "--mfu"), (["--tokens", "2.5"], "--tokens"),
                                        (["--flops", "6N", "--recompute", "full"], "recompute")])
def test_time_causal_bad_input_gets_the_full_paths_error(extra, flag):
    """A refused value beside --causal falls back: the process prints the full path's one-line error, exit 2."""
    argv = ["time", "--preset", "llama-2-7b", "--causal", "--tokens", "2T", "--num-gpus", "8", "--hardware", "h100"]
    got = _process(["-m", "symcalc", *argv, *extra])
    assert got.returncode == 2 and got.stdout == "" and flag in got.stderr and len(got.stderr.splitlines()) == 1


PROCESSES = ["time --preset llama-2-7b --tokens 2T --num-gpus 256 --hardware h100 --mfu 40% --causal".split(),
             "time --preset mixtral-8x7b --causal --tokens 2T --num-gpus 64 --hardware h100 -gbs 512 --json".split()]


@pytest.mark.parametrize("argv", PROCESSES, ids=[" ".join(a) for a in PROCESSES])
def test_time_causal_process_never_imports_sympy(argv):
    """As a process, `time --causal` answers with 'sympy' never imported, and prints what the full path prints."""
    _never_imports_sympy(argv)


def test_time_causal_random_flags_answer_as_the_full_path_or_fall_back():
    """Random `time --causal` invocations: where the fast path answers, its text and JSON are the full path's."""
    rng = random.Random(16)
    names = list(PRESETS)
    covered = 0
    for _ in range(30):
        argv = ["time", "--causal", "--preset", rng.choice(names), "--tokens",
                rng.choice(["2T", "300e9", "1.5e12", "123456789"]), "--num-gpus", str(rng.choice([1, 8, 96, 4096])),
                "--hardware", rng.choice(["h100", "a100", "h200", "b200", rng.choice(list(aliases()))])]
        options = [["--dtype", rng.choice(["bf16", "fp8", "fp32"])],
                   ["-s", rng.choice(["2048", "4k", "1000", "77"])], ["-gbs", rng.choice(["1", "3", "512"])],
                   ["--flops", rng.choice(["exact", "6N", "8N"])],
                   ["--recompute", rng.choice(["none", "selective", "full"])],
                   ["--mfu", rng.choice(["35%", "0.5", "1"])], ["--peak-flops", rng.choice(["989e12", "h200"])],
                   ["--power", "700"], ["--price-per-gpu-hour", "2"], ["--json"]]
        for option in rng.sample(options, rng.randint(1, 6)):
            argv += option
        fast = _quick(argv)
        if fast[0] is not None:
            covered += 1
            assert fast == _full(argv), " ".join(argv)
    assert covered >= 10
