"""`symcalc solve seq-len|tp|pp|zero-stage|devices` on the sympy-free path answer exactly as the full sympy path."""

from __future__ import annotations

import itertools
import random

import pytest

from test_fast_cli import _full, _quick
from test_fast_cli_other import _process

QUESTIONS = ("seq-len", "tp", "pp", "zero-stage", "devices")
#: Dense, GQA (g = 8: t > g in the other questions' -tp 16), MoE with EP, learned positions, a sliding window.
MODELS = {
    "llama-2-7b": [],
    "llama-2-70b": ["-tp", "16"],
    "mixtral-8x7b": ["-ep", "8"],
    "qwen3-30b-a3b": ["-ep", "4"],
    "gpt2": [],
    "opt-1.3b": [],
    "gemma-2-2b": [],
}
#: The unknown's flag is left out of each question's invocation.
UNKNOWN = {"seq-len": ("-s",), "tp": ("-tp",), "pp": ("-pp",), "zero-stage": ("-z",), "devices": ("--num-gpus",)}


def _argv(question, name, extra, z, policy, budget, gpus):
    argv = ["solve", question, "--preset", name, "--budget", budget, "--recompute", policy]
    flags = list(extra) + ["-z", z, "--num-gpus", gpus] + ([] if question == "seq-len" else ["-s", "4096"])
    for i in range(0, len(flags), 2):
        if flags[i] not in UNKNOWN[question]:
            argv += flags[i:i + 2]
    return argv


def _compare(argv):
    """The fast path's answer equals the full path's (text, exit 0); where it falls back, the full path answers
    nothing fits (1) or refuses (2). Returns whether the fast path answered."""
    fast = _quick(argv)
    full = _full(argv)
    if fast[0] is None:
        assert fast[1] == "" and full[0] in (1, 2), " ".join(argv)
        return False
    assert fast == full, " ".join(argv)
    return True


@pytest.mark.parametrize("question", QUESTIONS)
def test_each_question_presets_stages_policies_equal_the_full_path(question):
    """Each question over dense, GQA with t > g, MoE with EP, learned-position and windowed presets, ZeRO stages and
    recompute policies: the fast path's text (and --json) is the full path's, byte for byte."""
    covered = 0
    rng = random.Random(question)
    for name, extra in MODELS.items():
        for z, policy in itertools.product("0123", ("none", "selective", "full")):
            if rng.random() < 0.5:
                continue
            gpus = "64" if name in ("llama-2-70b", "mixtral-8x7b", "qwen3-30b-a3b") else "8"
            budget = rng.choice(["80GiB", "141GB", "40GiB", "1e12"])
            argv = _argv(question, name, extra, z, policy, budget, gpus)
            if rng.random() < 0.3:
                argv.append("--json")
            covered += _compare(argv)
    assert covered >= 8


CASES = [
    "seq-len --preset llama-2-7b --budget 80GiB --num-gpus 8 -z 3",
    "seq-len --preset llama-2-7b --budget 80GiB --num-gpus 8 -z 3 --multiple-of 128 --json",
    "seq-len --preset llama-2-70b --budget 80GiB --num-gpus 64 -tp 8 -pp 4 -z 1 --recompute full",
    "seq-len --preset llama-2-70b --budget 80GiB --num-gpus 64 -tp 16 -pp 4 -z 1 --recompute full",  # t > g
    "seq-len --preset mixtral-8x7b --budget 141GB --num-gpus 64 -ep 8 -tp 2 -z 2 -b 2",
    "seq-len --preset gpt2 --budget 24GiB --recompute none",   # learned positions: the table keeps its rows
    "seq-len --preset llama-3-8b --hardware h100 -pp 4 --num-gpus 4 -ca",  # dp = 1
    "tp --preset llama-2-7b --budget 24GiB -s 4096 --recompute full -z 1",
    "tp --preset llama-3-70b --budget 80GiB --num-gpus 64 -z 3 --json",
    "tp --preset llama-2-70b --budget 80GiB --num-gpus 64 -pp 4 --recompute full",
    "tp --preset mixtral-8x7b --budget 80GiB --num-gpus 64 -ep 8 -z 1",
    "pp --preset llama-2-7b --budget 40GiB -s 4096 -tp 2 --recompute full",
    "pp --preset llama-2-70b --budget 80GiB --num-gpus 64 -tp 8 --json",
    "pp --preset qwen3-30b-a3b --budget 80GiB --num-gpus 32 -ep 4 -z 1",
    "zero-stage --preset llama-2-7b --budget 40GiB --num-gpus 8 --recompute full",
    "zero-stage --preset llama-2-70b --budget 80GiB --num-gpus 64 -tp 16 -pp 2 --json",
    "zero-stage --preset llama-2-7b --budget 141GB --recompute full -s 2048",  # dp = 1
    "devices --preset llama-2-7b -z 3 -tp 2 --budget 40GiB --json",
    "devices --preset llama-2-7b -z 3 --budget 40GiB --recompute full --multiple-of 8",
    "devices --preset llama-2-70b -z 3 -tp 8 --budget 80GiB --recompute full",
    "devices --preset llama-2-70b -z 1 -tp 16 -pp 4 --budget 80GiB --max-devices 4096",
    "devices --preset mixtral-8x7b -z 3 -ep 8 --budget 80GiB --recompute full",
    "devices --preset llama-2-7b -z 3 --budget 80GiB --recompute full",  # one device fits
    "devices --hf-config examples/configs/llama-3-8b -z 3 --budget 80GiB --recompute full",
]


@pytest.mark.parametrize("line", CASES)
def test_flag_combinations_equal_the_full_path(line):
    """Each question with the covered flags (t > g, dp = 1, MoE with EP, --multiple-of, --max-devices, --hf-config)
    prints the full path's bytes."""
    argv = ["solve", *line.split()]
    fast = _quick(argv)
    assert fast[0] == 0, f"the fast path does not cover {line}"
    assert fast == _full(argv), line


NOTHING_FITS = [
    "tp --preset llama-3-70b --budget 80GiB --num-gpus 64",
    "tp --preset mixtral-8x7b --budget 40GiB --num-gpus 64 -ep 8 -b 4 --json",
    "tp --preset llama-2-7b --budget 2GiB -s 4096",                     # dp = 1
    "pp --preset llama-2-70b --budget 30GiB --num-gpus 64 -tp 16",      # t > g
    "pp --preset llama-2-7b --budget 10GiB --num-gpus 8 --json",
    "zero-stage --preset llama-2-7b --budget 40GiB --num-gpus 8",
    "zero-stage --preset llama-2-7b --budget 10GiB --num-gpus 8 -b 2",
    "zero-stage --preset qwen3-30b-a3b --budget 40GiB --num-gpus 16 -ep 4 --recompute none",
    "micro-batch --preset llama-2-7b --budget 10GiB",
    "micro-batch --preset llama-2-7b --budget 40GiB --num-gpus 8 -s 8192 --recompute none -z 1",
    "micro-batch --preset gpt2 --budget 1GiB --json",
    "micro-batch --preset llama-2-70b --budget 20GiB --num-gpus 64 -tp 8 -pp 2 -z 1",
    "seq-len --preset llama-2-7b --budget 80GiB",
    "devices --preset llama-2-7b -z 0 --budget 40GiB",                  # no ZeRO: more devices never help
    "devices --preset llama-2-7b -z 3 --budget 10GiB --json",           # the limit n -> oo
    "devices --preset llama-2-7b -z 3 --budget 40GiB --max-devices 2",  # nothing fits below the bound
    "devices --preset mixtral-8x7b -z 1 -ep 8 -tp 2 --budget 40GiB",
    "devices --preset llama-2-70b -z 3 -tp 8 --budget 10GiB --max-devices 64 --multiple-of 16",
    "seq-len --preset llama-2-7b --budget 1GiB --multiple-of 128",
    "seq-len --preset mixtral-8x7b --budget 10GiB --num-gpus 64 -ep 8 -b 2 -z 3 --json",
]


@pytest.mark.parametrize("line", NOTHING_FITS)
def test_nothing_fits_equals_the_full_path(line):
    """Where nothing fits, the fast path prints the full path's shortfall and single changes (text and --json), exit 1:
    over ZeRO stages, policies, dp = 1, t > g, MoE with EP, micro-batches above 1."""
    argv = ["solve", *line.split()]
    fast = _quick(argv)
    assert fast[0] == 1, f"the fast path does not cover {line}"
    assert fast == _full(argv), line


OUTSIDE = [
    "seq-len --preset llama-2-7b --budget 80GiB -s 4096",                # the unknown's flag
    "tp --preset llama-2-7b --budget 80GiB -tp 2",
    "pp --preset llama-2-7b --budget 80GiB -pp 2",
    "zero-stage --preset llama-2-7b --budget 80GiB -z 1",
    "devices --preset llama-2-7b --budget 80GiB --num-gpus 8",
    "pp --preset llama-2-7b --budget 80GiB -tp 3 --num-gpus 6",          # refused layout
    "tp --preset llama-2-7b --budget 80GiB -pp 3 --num-gpus 8",          # pp does not divide the devices
    "seq-len --preset llama-2-7b --budget 80GiB --multiple-of 0",
    "devices --preset llama-2-7b --budget 80GiB --max-devices -1",
    "tp --preset llama-2-7b --budget -1", "tp --preset llama-2-7b", "tp --preset llama-2-7b --budget 80GIB",
    "tp --preset llama-2-7b --budget 80GiB --infer", "tp --preset llama-2-7b --budget 80GiB --plot x.png",
    "seq-len --preset llama-2-7b --budget 80GiB --multiple-of 64 --multiple-of 64",
    "tp --preset no-such-model --budget 80GiB", "tp --preset llama-2-7b --budget 80GiB --hardware h1000",
    "hidden-size --preset deepseek-v3 --budget 7B --fixed-head-dim 128",
]


@pytest.mark.parametrize("line", OUTSIDE)
def test_uncovered_input_goes_to_the_full_path(line):
    """The unknown's own flag, refused layouts, bad values and other questions print nothing and return None (the full path answers: nothing fits, exit 1, or its one-line error, exit 2)."""
    assert _quick(["solve", *line.split()]) == (None, "")


def test_random_problems_answer_as_the_full_path_or_fall_back():
    """Random presets, questions, layouts, policies and budgets: where the fast path answers, it is the full path's."""
    from symcalc.presets import PRESETS

    rng = random.Random(15)
    names = list(PRESETS)
    covered = 0
    for _ in range(30):
        question = rng.choice(QUESTIONS)
        name = rng.choice(names)
        flags = ["-tp", rng.choice(["1", "2", "8"]), "-z", rng.choice("0123"), "--num-gpus", rng.choice(["8", "64"]),
                 "-s", rng.choice(["512", "2048", "8k"])] + rng.choice([[], ["-ep", "2"], ["-pp", "2"], ["-b", "2"]])
        argv = ["solve", question, "--preset", name, "--budget", rng.choice(["24GiB", "80GiB", "141GB", "1e12"]),
                "--recompute", rng.choice(["none", "selective", "full"])]
        for i in range(0, len(flags), 2):
            if flags[i] not in UNKNOWN[question]:
                argv += flags[i:i + 2]
        covered += _compare(argv)
    assert covered >= 8


PROCESSES = ["seq-len --preset llama-2-7b --budget 80GiB --num-gpus 8 -z 3",
             "tp --preset llama-2-70b --budget 80GiB --num-gpus 64 -pp 4 --recompute full --json",
             "pp --preset llama-2-70b --budget 80GiB --num-gpus 64 -tp 8",
             "zero-stage --preset llama-2-7b --budget 40GiB --num-gpus 8 --recompute full",
             "devices --preset mixtral-8x7b -z 3 -ep 8 --budget 80GiB --recompute full"]


@pytest.mark.parametrize("line", PROCESSES)
def test_fast_path_process_never_imports_sympy(line):
    """As a process, each question answers with 'sympy' never imported, and prints what the full path prints."""
    code = ("import sys; from symcalc.cli import main; sys.argv = ['symcalc'] + sys.argv[1:]; status = main(); "
            "assert 'sympy' not in sys.modules, 'sympy imported'; sys.exit(status)")
    argv = ["solve", *line.split()]
    fast = _process(["-c", code, *argv])
    assert fast.returncode == 0, fast.stderr
    full = _process(["-m", "symcalc", *argv], SYMCALC_FULL_PATH="1")
    assert fast.stdout == full.stdout and full.returncode == 0


def test_nothing_fits_process_never_imports_sympy():
    """As a process, a budget nothing fits prints the full path's shortfall and fixes, exit 1, sympy never imported."""
    code = ("import sys; from symcalc.cli import main; sys.argv = ['symcalc'] + sys.argv[1:]; status = main(); "
            "assert 'sympy' not in sys.modules, 'sympy imported'; sys.exit(status)")
    argv = ["solve", "tp", "--preset", "llama-3-70b", "--budget", "80GiB", "--num-gpus", "64"]
    fast = _process(["-c", code, *argv])
    assert fast.returncode == 1 and fast.stdout.startswith("nothing fits") and fast.stderr == ""
    full = _process(["-m", "symcalc", *argv], SYMCALC_FULL_PATH="1")
    assert fast.stdout == full.stdout and full.returncode == 1
