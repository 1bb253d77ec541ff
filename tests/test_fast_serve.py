"""`symcalc serve`'s sympy-free path on MoE presets answers exactly as the full sympy path (the truth)."""

from __future__ import annotations

import importlib

import pytest

from test_fast_cli import _full, _quick
from test_fast_cli_other import _process, _same
from symcalc._generated import MODULES
from symcalc.presets import PRESETS

MOE = [name for name in PRESETS
       if "expert_powers" in getattr(importlib.import_module(f"symcalc._generated.{MODULES[name]}"), "SERVE", {})]

#: (TP degree, batch, more flags): text and --json, expected experts (the power (1 - k/E)^T) and all experts.
WORKLOADS = [(1, 1, ["-s", "2048"]), (2, 8, ["-s", "100", "-o", "7", "--json"]),
             (8, 3, ["-s", "512", "--experts", "all"]), (4, 1, ["-s", "1", "-o", "2", "--experts", "expected", "--json"]),
             (16, 64, ["-s", "64", "-o", "300"])]


def test_every_moe_preset_has_generated_serving_code():
    """Each MoE preset's generated module has a serve function with its expected-experts powers (13 presets)."""
    from symcalc import Model

    assert MOE == [name for name in PRESETS if Model.preset(name).is_moe] and len(MOE) >= 10


@pytest.mark.parametrize("name", MOE)
def test_serve_moe_presets_equal_the_full_path(name):
    """`symcalc serve --preset MOE` over TP degrees, batches, prompt lengths, --experts and --json prints the
    full path's bytes; a TP degree the model cannot take is left to the full path (its error, exit 2)."""
    covered = 0
    for tp, batch, more in WORKLOADS:
        argv = ["serve", "--preset", name, "--hardware", "h100", "-tp", str(tp), "-b", str(batch), *more]
        fast = _quick(argv)
        if fast[0] is None:
            assert _full(argv)[0] == 2, " ".join(argv)
            continue
        covered += 1
        assert fast == _full(argv), " ".join(argv)
    assert covered >= 3, name


MOE_CASES = [
    "serve --preset mixtral-8x7b --hardware h100 -tp 2",                               # the default 8192-token prompt
    "serve --preset mixtral-8x7b --hardware h200 -tp 2 -s 32 -o 128 -b 8 --json",
    "serve --preset deepseek-v3 --hardware h200 -tp 8 -b 32 --experts all --json",       # MLA, shared experts
    "serve --preset qwen3-30b-a3b --hardware a100 -s 100 -o 2 -b 3",                     # one decode step
    "serve --preset kimi-k2 --hardware b200 -tp 8 -s 8192",                              # (47/48)^8192, text
    "serve --preset llama-4-scout --hardware rtx-4090 -tp 2 -o 3",                       # nothing fits the device
    "serve --preset gpt-oss-20b --hardware mi300x -s 4096 -o 1024 -b 64 --json",
    "serve --preset llama-3-8b --hardware h100 --experts all --json",                    # a dense model: all = expected
]


@pytest.mark.parametrize("argv", MOE_CASES)
def test_serve_moe_flag_combinations_equal_the_full_path(argv):
    """`symcalc serve` on MoE presets with the covered flags (text and --json) prints the full path's bytes."""
    _same(argv.split())


def test_serve_exact_strings_past_pythons_digit_limit_go_to_the_full_path():
    """--json whose exact values would exceed Python's int-to-str digit limit (kimi-k2, (47/48)^8192) is left to
    the full path, as is a step routing more tokens than the fast path takes."""
    assert _quick("serve --preset kimi-k2 --hardware b200 -tp 8 -s 8192 --json".split()) == (None, "")
    assert _quick("serve --preset mixtral-8x7b --hardware h100 -s 32768 -b 64".split()) == (None, "")


def test_serve_moe_process_never_imports_sympy():
    """As a process, `symcalc serve` on an MoE preset answers with 'sympy' never imported, as the full path."""
    argv = "serve --preset mixtral-8x7b --hardware h100 -tp 2 --json".split()
    code = ("import sys; from symcalc.cli import main; sys.argv = ['symcalc'] + sys.argv[1:]; status = main(); "
            "assert 'sympy' not in sys.modules, 'sympy imported'; sys.exit(status)")
    fast = _process(["-c", code, *argv])
    assert fast.returncode == 0, fast.stderr
    full = _process(["-m", "symcalc", *argv], SYMCALC_FULL_PATH="1")
    assert fast.stdout == full.stdout and full.returncode == 0
