"""`symcalc solve tokens|layers|hidden-size` on the sympy-free path answer exactly as the full sympy path."""

from __future__ import annotations

import random

import pytest

from test_fast_cli import _full, _quick
from test_fast_cli_other import _process

#: Dense, GQA, MoE (6N counts every expert), learned positions, sliding windows, MLA.
PRESETS = ["llama-2-7b", "llama-3-70b", "mixtral-8x7b", "qwen3-30b-a3b", "gpt2", "opt-1.3b", "gemma-2-2b",
           "deepseek-v3", "mistral-7b", "falcon-7b"]


def _same(argv, status=0):
    fast = _quick(argv)
    assert fast[0] == status, f"the fast path does not cover {' '.join(argv)}"
    assert fast == _full(argv), " ".join(argv)


@pytest.mark.parametrize("name", PRESETS)
def test_tokens_presets_budgets_equal_the_full_path(name):
    """solve tokens over presets, 6N and exact FLOPs at several sequence lengths, text and --json: the full path's bytes."""
    rng = random.Random(name)
    for budget in ("1e24", "5.76e23", "3e21", "1E22", "1.e20"):
        seq = rng.choice([[], ["-s", "4096"], ["-s", "8k"], ["--sequence-length=1024"]])
        _same(["solve", "tokens", "--preset", name, "--budget", budget, *seq, *rng.choice([[], ["--json"]])])


TOKENS_NOTHING = ["tokens --preset llama-2-7b --budget 10", "tokens --preset llama-2-7b --budget 10 --json",
                  "tokens --preset llama-2-7b --compute 0", "tokens --preset gpt2 --budget 1e6 -s 1024 --json",
                  "tokens --preset mixtral-8x7b --budget 0.0 -s 4096"]


@pytest.mark.parametrize("line", TOKENS_NOTHING)
def test_tokens_nothing_fits_equals_the_full_path(line):
    """A compute budget below one token's FLOPs: the full path's shortfall (text and --json), exit 1."""
    _same(["solve", *line.split()], status=1)


OUTSIDE = ["tokens --preset llama-2-7b --budget -1", "tokens --preset llama-2-7b --budget 1e31",
           "tokens --preset llama-2-7b --budget 7B", "tokens --preset llama-2-7b --budget abc",
           "tokens --preset llama-2-7b", "tokens --preset llama-2-7b --budget 1e24 -s 0",
           "tokens --preset no-such-model --budget 1e24", "tokens --preset llama-2-7b --budget 1e24 -l 3",
           "tokens --preset llama-2-7b --budget 1e24 --budget 1e24", "tokens --preset llama-2-7b --budget 3/2",
           "tokens --preset llama-2-7b --budget 2.5e-1", "tokens --preset llama-2-7b --budget 1e24 --bogus",
           "tokens --preset llama-2-7b --budget 1e24 --hf-config examples/configs/llama-3-8b"]


@pytest.mark.parametrize("line", OUTSIDE)
def test_uncovered_or_bad_input_goes_to_the_full_path(line):
    """Bad values, fractional budgets, size flags and unknown flags print nothing on the fast path; the full path then
    answers (a fraction: its float form) or gives its one-line error, exit 2."""
    argv = ["solve", *line.split()]
    assert _quick(argv) == (None, "")
    try:
        status = _full(argv)[0]
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    assert status in (0, 1, 2)


def test_tokens_bad_budget_is_the_full_paths_one_line_error():
    """A negative compute budget, as a process: the full path's one-line error, exit 2."""
    out = _process(["-m", "symcalc", "solve", "tokens", "--preset", "llama-2-7b", "--budget", "-1"])
    assert out.returncode == 2 and out.stdout == "" and len(out.stderr.strip().splitlines()) == 1


def test_tokens_from_hf_config_equals_the_full_path():
    """A config.json holding a preset's model answers as the full path (its name in nothing printed here)."""
    _same(["solve", "tokens", "--hf-config", "examples/configs/llama-3-8b", "--budget", "1e23", "-s", "4096"])


PROCESSES = ["tokens --preset llama-2-7b --budget 1e24",
             "tokens --preset mixtral-8x7b --budget 1e24 -s 4096 --json"]


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
