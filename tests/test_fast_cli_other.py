"""The sympy-free path of the other subcommands (presets, hardware, time, ...) answers exactly as the full sympy path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_fast_cli import _full, _quick
from symcalc.hardware import aliases

ROOT = Path(__file__).resolve().parent.parent


def _same(argv):
    fast = _quick(argv)
    assert fast[0] == 0, f"the fast path does not cover {' '.join(argv)}"
    assert fast == _full(argv), " ".join(argv)
    return fast[1]


@pytest.mark.parametrize("argv", [["presets"], ["presets", "--json"], ["hardware"], ["hardware", "--json"]])
def test_catalogue_listings_equal_the_full_path(argv):
    """`symcalc presets` and `symcalc hardware` (text and --json) print the full path's bytes."""
    out = _same(argv)
    if "--json" in argv:
        json.loads(out)


def test_every_hardware_name_and_alias_equals_the_full_path():
    """`symcalc hardware NAME` for every canonical name and alias, text and --json (either order), as the full path."""
    for name in aliases():
        _same(["hardware", name])
        assert json.loads(_same(["hardware", "--json", name]))["name"] == aliases()[name]


OUTSIDE = [
    ["presets", "--cookbook"], ["presets", "--json", "--json"], ["presets", "extra"], ["presets", "--help"],
    ["hardware", "H100"], ["hardware", "h1000"], ["hardware", "h100", "a100"], ["hardware", "--cookbook"],
    ["hardware", "-h"],
]


@pytest.mark.parametrize("argv", OUTSIDE, ids=[" ".join(a) for a in OUTSIDE])
def test_uncovered_input_goes_to_the_full_path(argv):
    """Other spellings, unknown names and flags the fast path does not know print nothing and return None."""
    assert _quick(argv) == (None, "")


def _process(args, **env):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env}, timeout=300)


#: One invocation per covered subcommand, as bench/cli.py runs them.
PROCESSES = [["presets"], ["hardware", "h100"], ["hardware", "--json"],
             "time --preset llama-2-7b --tokens 2T --num-gpus 256 --hardware h100 --mfu 40%".split(),
             "time --preset mixtral-8x7b --tokens 2T --num-gpus 64 --hardware h100 -gbs 512 --json".split(),
             "solve micro-batch --preset llama-2-7b -s 4096 --num-gpus 8 -z 3 --recompute full --budget 80GiB".split(),
             ["latex", "params"], ["latex", "mem", "--preset", "mixtral-8x7b", "--breakdown"],
             "serve --preset llama-3-70b --hardware h100 -tp 4 -s 2048 -o 256 -b 16".split(),
             "serve --preset mixtral-8x7b --hardware h100 -tp 2 --json".split(),
             "serve --preset mixtral-8x7b --hardware h100 -tp 2 -s 32768 -b 64".split(),
             "serve --preset llama-3-8b --hardware h100 -o 1 --prefill-batch 1 --no-flash-attention "
             "--full-attention-square --json".split(),
             "serve --preset llama-3-70b --hardware h100 -tp 2 --weight-dtype int4".split(),
             "serve --preset llama-3-8b --peak-flops 989e12 --mem-bandwidth 3.35TB --gpu-memory 80GiB "
             "--memory-efficiency 80%".split()]


@pytest.mark.parametrize("argv", PROCESSES, ids=[" ".join(a) for a in PROCESSES])
def test_fast_path_process_never_imports_sympy(argv):
    """As a process, each covered subcommand answers with 'sympy' never imported, and prints what the full path prints."""
    code = ("import sys; from symcalc.cli import main; sys.argv = ['symcalc'] + sys.argv[1:]; status = main(); "
            "assert 'sympy' not in sys.modules, 'sympy imported'; sys.exit(status)")
    fast = _process(["-c", code, *argv])
    assert fast.returncode == 0, fast.stderr
    full = _process(["-m", "symcalc", *argv], SYMCALC_FULL_PATH="1")
    assert fast.stdout == full.stdout and full.returncode == 0


def test_unknown_hardware_gets_the_full_paths_error():
    """An unknown device falls back: the process prints the full path's one-line error, exit 2."""
    got = _process(["-m", "symcalc", "hardware", "h1000"])
    assert got.returncode == 2 and got.stdout == "" and "is not in the catalogue" in got.stderr


# --- symcalc time ----------------------------------------------------------------------------------------------
from symcalc.presets import PRESETS  # noqa: E402

TIME = ["time", "--tokens", "2T", "--num-gpus", "256", "--hardware", "h100"]


@pytest.mark.parametrize("name", list(PRESETS))
def test_time_every_preset_equals_the_full_path(name):
    """`symcalc time --preset NAME` (defaults, and 8N with a batch, -s and a price) prints the full path's JSON exactly."""
    _same([*TIME, "--preset", name, "--json"])
    _same(["time", "--preset", name, "--tokens", "300e9", "-s", "1000", "--num-gpus", "64", "--hardware", "a100",
           "--flops", "8N", "-gbs", "512", "--price-per-gpu-hour", "2.5", "--json"])


TIME_CASES = [
    [*TIME, "--preset", "llama-2-7b", "--mfu", "40%"],
    [*TIME, "--preset", "llama-2-7b"],
    [*TIME, "--preset", "llama-2-7b", "--mfu", "0.38", "--dtype", "fp8", "-s", "4k", "--recompute", "full"],
    [*TIME, "--preset", "gpt2", "-s", "1024", "--flops", "6N"],                     # a learned table of s rows
    [*TIME, "--preset", "gpt2", "--flops", "8N", "--json"],
    ["time", "--preset", "mixtral-8x7b", "--tokens", "1.5T", "--num-gpus", "8", "--peak-flops", "h100",
     "--power", "700", "--pue", "1.2", "--recompute", "selective"],                # MoE, peak by name, no --hardware
    ["time", "--preset", "llama-3.1-405b", "--tokens=15.6T", "-s", "8192", "--num-gpus", "16384", "--hardware",
     "h100", "--mfu", "40%", "-gbs", "2048", "--price-per-gpu-hour", "0"],
    ["time", "--preset", "llama-2-7b", "--tokens", "1000", "--num-gpus", "1", "--peak-flops", "989.4T",
     "--power", "700", "--mfu", "1"],                                               # seconds below 120
    ["time", "--preset", "llama-2-7b", "--tokens", "7e9", "--num-gpus", "3", "--hardware", "rtx-4090",
     "--achieved-flops", "100T", "--json"],
    ["time", "--preset", "deepseek-v3", "--tokens", "14.8T", "--num-gpus", "2048", "--hardware", "h800"
     if "h800" in aliases() else "h100", "--mfu", "23%", "--dtype", "fp8"],
    ["time", "--hf-config", "examples/configs/llama-3-8b", "--tokens", "15T", "--num-gpus", "1024", "--hardware",
     "b200", "--json"],
]


@pytest.mark.parametrize("argv", TIME_CASES, ids=[" ".join(a) for a in TIME_CASES])
def test_time_flag_combinations_equal_the_full_path(argv):
    """`symcalc time` with each covered flag (text and --json) prints the full path's bytes."""
    _same(argv)


TIME_OUTSIDE = [
    [*TIME, "--preset", "llama-2-7b", "--mfu", "plan", "-gbs", "8"],
    [*TIME, "--preset", "llama-2-7b", "--mfu", "140%"], [*TIME, "--preset", "llama-2-7b", "--mfu", "2/5"],
    [*TIME, "--preset", "llama-2-7b", "--mfu", "0.4", "--achieved-flops", "100T"],
    [*TIME, "--preset", "llama-2-7b", "--dtype", "fp4"], [*TIME, "--preset", "llama-2-7b", "--pue", "0.9"],
    [*TIME, "--preset", "llama-2-7b", "--flops", "6N", "--recompute", "full"],
    [*TIME, "--preset", "llama-2-7b", "--achieved-flops", "2000T"], [*TIME, "--preset", "nope"],
    ["time", "--preset", "llama-2-7b", "--tokens", "2T", "--num-gpus", "8"],           # no peak: an error
    ["time", "--preset", "llama-2-7b", "--tokens", "2T", "--num-gpus", "8", "--hardware", "tpu-v5e"],  # no power
    ["time", "--preset", "llama-2-7b", "--tokens", "2.5", "--num-gpus", "8", "--hardware", "h100"],
    ["time", "--preset", "llama-2-7b", "--tokens", "-2T", "--num-gpus", "8", "--hardware", "h100"],
    ["time", "--preset", "llama-2-7b", "--tokens", "2T", "--num-gpus", "0", "--hardware", "h100"],
    ["time", "--preset", "llama-2-7b", "--tokens", "2T", "--hardware", "h100"],
    [*TIME, "--preset", "llama-2-7b", "-l", "40"], [*TIME, "--preset", "llama-2-7b", "--hardware", "a100"],
]


@pytest.mark.parametrize("argv", TIME_OUTSIDE, ids=[" ".join(a) for a in TIME_OUTSIDE])
def test_time_uncovered_input_goes_to_the_full_path(argv):
    """`symcalc time` input outside the covered set (or refused by the full path) prints nothing and returns None."""
    assert _quick(argv) == (None, "")


def test_time_bad_input_gets_the_full_paths_error():
    """A refused value (MFU above 1) falls back: the process prints the full path's one-line error, exit 2."""
    got = _process(["-m", "symcalc", *TIME, "--preset", "llama-2-7b", "--mfu", "140%"])
    assert got.returncode == 2 and got.stdout == "" and "--mfu" in got.stderr and len(got.stderr.splitlines()) == 1


def test_time_random_flags_answer_as_the_full_path_or_fall_back():
    """Random `symcalc time` invocations: where the fast path answers, its text and JSON are the full path's."""
    import random

    rng = random.Random(14)
    names = list(PRESETS)
    covered = 0
    for _ in range(40):
        argv = ["time", "--preset", rng.choice(names), "--tokens", rng.choice(["2T", "300e9", "1.5e12", "123456789"]),
                "--num-gpus", str(rng.choice([1, 8, 96, 4096]))]
        options = [["--hardware", rng.choice(list(aliases()))], ["--dtype", rng.choice(["bf16", "fp8", "fp32", "fp4"])],
                   ["-s", rng.choice(["2048", "4k", "1000"])], ["-gbs", rng.choice(["1", "512"])],
                   ["--flops", rng.choice(["exact", "6N", "8N"])], ["--recompute", rng.choice(["none", "full"])],
                   ["--mfu", rng.choice(["35%", "0.5", "1"])], ["--achieved-flops", rng.choice(["100T", "1e14"])],
                   ["--peak-flops", rng.choice(["989e12", "h200", "2P"])], ["--power", rng.choice(["700", "1.5e3"])],
                   ["--pue", rng.choice(["1", "1.1"])], ["--price-per-gpu-hour", rng.choice(["2", "0.75"])], ["--json"]]
        for option in rng.sample(options, rng.randint(1, 6)):
            argv += option
        fast = _quick(argv)
        if fast[0] is not None:
            covered += 1
            assert fast == _full(argv), " ".join(argv)
    assert covered >= 10


# --- symcalc solve micro-batch ---------------------------------------------------------------------------------
SOLVE = ["solve", "micro-batch"]


@pytest.mark.parametrize("name", list(PRESETS))
def test_solve_micro_batch_every_preset_equals_the_full_path(name):
    """`symcalc solve micro-batch --preset NAME` (a budget that fits, one for 64 devices under ZeRO-3) as the full path,
    or, where nothing fits, left to it."""
    for argv in ([*SOLVE, "--preset", name, "--budget", "80GiB", "-s", "1024", "--json"],
                 [*SOLVE, "--preset", name, "--hardware", "b200", "--num-gpus", "64", "-z", "3", "--recompute", "full"]):
        fast = _quick(argv)
        if fast[0] is None:  # a layout the model refuses: the full path answers
            status, _ = _full(argv)
            assert status in (1, 2), " ".join(argv)
            continue
        assert fast == _full(argv), " ".join(argv)  # exit 1 where nothing fits (tests/test_fast_solve.py)


SOLVE_CASES = [
    [*SOLVE, "--preset", "llama-2-7b", "-s", "4096", "--num-gpus", "8", "-z", "3", "--recompute", "full",
     "--budget", "80GiB"],
    [*SOLVE, "--preset", "llama-2-7b", "-s", "4k", "--num-gpus", "8", "-z", "3", "--budget", "80GB", "--json"],
    [*SOLVE, "--preset", "llama-2-70b", "-tp", "8", "-pp", "4", "--num-gpus", "64", "-z", "1", "--hardware", "h100"],
    [*SOLVE, "--preset", "llama-2-70b", "-tp", "16", "-pp", "4", "--num-gpus", "64", "--budget", "80GiB",  # t > g
     "--recompute", "selective"],
    [*SOLVE, "--preset", "mixtral-8x7b", "--num-gpus", "64", "-ep", "8", "-tp", "2", "--hardware", "h200", "--json"],
    [*SOLVE, "--preset", "qwen3-30b-a3b", "--num-gpus", "16", "-ep", "16", "-z", "2", "--budget", "1e11"],
    [*SOLVE, "--preset", "llama-3-8b", "-pp", "4", "--num-gpus", "4", "-ca", "-s", "2048", "--budget", "80GiB"],  # dp = 1
    [*SOLVE, "--preset", "gpt2", "--budget", "24GiB", "-s", "1024", "--low-prec-bytes-per-val", "4",
     "--high-prec-bytes-per-val", "4", "--bytes-per-grad-ele", "4"],
    [*SOLVE, "--preset", "mistral-7b", "-s", "32k", "--num-gpus", "8", "-tp", "8", "--budget=80GiB", "--json"],
    [*SOLVE, "--hf-config", "examples/configs/llama-3-8b", "--num-gpus", "8", "-z", "3", "--budget", "80GiB"],
]


@pytest.mark.parametrize("argv", SOLVE_CASES, ids=[" ".join(a) for a in SOLVE_CASES])
def test_solve_micro_batch_flag_combinations_equal_the_full_path(argv):
    """`symcalc solve micro-batch` with the covered flags (text and --json) prints the full path's bytes."""
    _same(argv)


SOLVE_OUTSIDE = [
    [*SOLVE, "--preset", "llama-2-7b"],  # no budget
    [*SOLVE, "--preset", "llama-2-7b", "--budget", "80GIB"], [*SOLVE, "--preset", "llama-2-7b", "--budget", "-1"],
    [*SOLVE, "--preset", "llama-2-7b", "--budget", "80GiB", "-b", "4"],
    [*SOLVE, "--preset", "llama-2-7b", "--budget", "80GiB", "--infer"],
    [*SOLVE, "--preset", "llama-2-7b", "--budget", "80GiB", "-tp", "3", "--num-gpus", "3"],
    [*SOLVE, "--preset", "llama-2-7b", "--budget", "80GiB", "-ca", "--recompute", "full"],
    [*SOLVE, "--preset", "llama-2-7b", "--budget", "80GiB", "--plot", "x.png"],
    [*SOLVE, "--preset", "llama-2-7b", "--hardware", "H100"],
]


@pytest.mark.parametrize("argv", SOLVE_OUTSIDE, ids=[" ".join(a) for a in SOLVE_OUTSIDE])
def test_solve_uncovered_input_goes_to_the_full_path(argv):
    """Flags not covered and refused values print nothing and return None."""
    assert _quick(argv) == (None, "")


def test_solve_random_layouts_answer_as_the_full_path_or_fall_back():
    """Random presets, layouts, policies and budgets: where the fast path answers, it is the full path's answer."""
    import random

    rng = random.Random(6)
    names = list(PRESETS)
    covered = 0
    for _ in range(30):
        argv = [*SOLVE, "--preset", rng.choice(names), "--budget", rng.choice(["24GiB", "80GiB", "141GB", "1e12"]),
                "-s", rng.choice(["512", "2048", "8k"]), "--num-gpus", str(rng.choice([1, 2, 8, 64])),
                "-tp", str(rng.choice([1, 2, 8])), "-z", rng.choice("0123"), "--recompute",
                rng.choice(["none", "selective", "full"])] + rng.choice([[], ["-ep", "2"], ["-pp", "2"], ["--json"]])
        fast = _quick(argv)
        if fast[0] is not None:
            covered += 1
            assert fast == _full(argv), " ".join(argv)
    assert covered >= 8


def test_solve_nothing_fits_gets_the_full_paths_answer():
    """A budget nothing fits falls back: the process prints the full path's shortfall and fixes, exit 1."""
    got = _process(["-m", "symcalc", *SOLVE, "--preset", "llama-2-7b", "--budget", "10GiB"])
    assert got.returncode == 1 and got.stdout.startswith("nothing fits") and got.stderr == ""


# --- symcalc latex ---------------------------------------------------------------------------------------------
LATEX_CASES = [["latex", q, *extra] for q in ("params", "flops", "mem")
               for extra in ([], ["--breakdown"], ["--preset", "llama-2-70b"], ["--breakdown", "--preset", "gpt2"],
                             ["--preset", "deepseek-v3", "--breakdown"])]


@pytest.mark.parametrize("argv", LATEX_CASES, ids=[" ".join(a) for a in LATEX_CASES])
def test_latex_equals_the_full_path(argv):
    """`symcalc latex params|flops|mem` (symbolic, a preset, --breakdown in either place) prints the full path's text;
    every preset's text is regenerated from the full path by test_generated_code_is_current."""
    assert _same(argv).startswith("\\begin{aligned}")


LATEX_OUTSIDE = [["latex", "params", "-l", "32"], ["latex", "params", "--preset", "nope"], ["latex", "sheets"],
                 ["latex", "mem", "--cookbook"], ["latex", "flops", "--hf-config", "examples/configs/llama-3-8b"],
                 ["latex"], ["latex", "params", "--breakdown", "--breakdown"]]


@pytest.mark.parametrize("argv", LATEX_OUTSIDE, ids=[" ".join(a) for a in LATEX_OUTSIDE])
def test_latex_uncovered_input_goes_to_the_full_path(argv):
    """`symcalc latex` with size flags, other quantities, unknown presets or --cookbook is left to the full path."""
    assert _quick(argv) == (None, "")


# --- symcalc serve ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(PRESETS))
def test_serve_every_preset_equals_the_full_path(name):
    """`symcalc serve --preset NAME --hardware h100` (text, and --json with TP 2): the full path's bytes."""
    _same(["serve", "--preset", name, "--hardware", "h100", "-s", "2048", "-o", "128", "-b", "8"])
    argv = ["serve", "--preset", name, "--hardware", "b200", "-tp", "2", "--json"]
    if _quick(argv)[0] is not None:  # else tp 2 does not fit the heads: the full path's error
        _same(argv)


SERVE_CASES = [
    "serve --preset llama-3-70b --hardware h100 -tp 4 -s 2048 -o 256 -b 16",
    "serve --preset llama-3-70b --hardware h100 -tp 4 -s 2048 -o 256 -b 16 --json",
    "serve --preset llama-3-70b --hardware h100 -tp 16 -s 100 -o 2",            # t > g, one decode step
    "serve --preset llama-2-70b --hardware rtx-4090 -tp 2 -o 3",                # nothing fits the device
    "serve --preset gpt2 --hardware a100 --dtype fp16 --json",                  # fp16: another name, same bytes
    "serve --preset gemma-2-9b --hardware l40s -o 2 -b 3 --dtype tf32",         # windows; a peak that stores nothing
    "serve --preset mistral-7b --hardware mi300x -s 32768 -o 1024 -b 64",
    "serve --hf-config examples/configs/llama-3-8b --hardware h100 -s 2048 -b 8",
]


@pytest.mark.parametrize("argv", SERVE_CASES)
def test_serve_flag_combinations_equal_the_full_path(argv):
    """`symcalc serve` with the covered flags (text and --json) prints the full path's bytes."""
    _same(argv.split())


SERVE_OUTSIDE = [
    "serve --preset llama-3-8b --hardware h100 -o 0", "serve --preset llama-3-8b --hardware a100 --dtype fp8",
    "serve --preset llama-3-8b", "serve --preset llama-3-8b --peak-flops 989e12 --mem-bandwidth 3.35TB",
    "serve --preset llama-3-8b --hardware h100 -tp 3", "serve --preset llama-3-8b --hardware h100 -s 4k",
    "serve --preset llama-3-8b --hardware h100 --prefill-batch 02",
    "serve --preset llama-3-8b --hardware h100 --weight-dtype int4 --no-flash-attention",
    "serve --preset llama-3-8b --hardware h100 --dtype fp4", "serve --preset llama-3-8b --hardware pcie-4090",
    "serve --preset llama-3-8b --hardware h100 --full-attention-square --weight-dtype nf4",
]


@pytest.mark.parametrize("argv", SERVE_OUTSIDE)
def test_serve_uncovered_input_goes_to_the_full_path(argv):
    """`symcalc serve` flags not covered, MoE presets and refused values print nothing and return None."""
    assert _quick(argv.split()) == (None, "")


def test_serve_random_workloads_answer_as_the_full_path_or_fall_back():
    """Random presets, devices, TP degrees and workloads: where the fast path answers, it is the full path's answer."""
    import random

    rng = random.Random(11)
    names = list(PRESETS)
    covered = 0
    for _ in range(25):
        argv = ["serve", "--preset", rng.choice(names), "--hardware", rng.choice(list(aliases())),
                "-tp", str(rng.choice([1, 2, 4, 8])), "-s", str(rng.choice([1, 100, 4096])),
                "-o", str(rng.choice([2, 7, 500])), "-b", str(rng.choice([1, 3, 256]))] + rng.choice([[], ["--json"]])
        fast = _quick(argv)
        if fast[0] is not None:
            covered += 1
            assert fast == _full(argv), " ".join(argv)
    assert covered >= 8
