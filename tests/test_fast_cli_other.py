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
PROCESSES = [["presets"], ["hardware", "h100"], ["hardware", "--json"]]


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
