"""Everyday friction: suffixes everywhere, unknown flags answered with the flag meant, computed fixes when nothing
fits, device counts in whole nodes, separators, the public namespace, the licence and the set-up notes."""

import configparser
import json
import re
from pathlib import Path

import pytest

import symcalc
from symcalc.cli import main

ROOT = Path(__file__).resolve().parents[1]
LLAMA = ["--preset", "llama-2-7b"]


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def cli_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code in (0, 1), err
    return json.loads(out)


def test_counts_take_the_budget_suffixes(capsys):
    """--tokens 2T = 2e12 = 2_000_000_000_000 (flops, time); -s 4k = 4096 and 32K = 32768 (sequence lengths)."""
    a = cli_json(capsys, "flops", *LLAMA, "--tokens", "2T", "-s", "4k")
    b = cli_json(capsys, "flops", *LLAMA, "--tokens", "2e12", "-s", "4096")
    assert a == b and a["tokens"] == 2 * 10**12
    t = cli_json(capsys, "time", *LLAMA, "--tokens", "2T", "-s", "4k", "--num-gpus", "8", "--hardware", "h100")
    assert t["tokens"] == 2 * 10**12 and t["sequence_length"] == 4096
    assert cli_json(capsys, "mem", *LLAMA, "-s", "32K")["per_device"] == cli_json(capsys, "mem", *LLAMA, "-s", "32768")["per_device"]


@pytest.mark.parametrize("argv,command,meant", [
    (["mem", "--tp", "2"], "symcalc mem", "-tp/--tensor-parallel-size"),
    (["solve", "micro-batch", "--num-gpu", "8"], "symcalc solve micro-batch", "--num-gpus"),
    (["flops", "--seq-len", "4096"], "symcalc flops", None),
    (["plan", "--tp", "2", "--num-gpus", "8"], "symcalc plan", None),
])
def test_unknown_flag_names_the_subcommand_and_the_flag_meant(capsys, argv, command, meant):
    """An unknown flag: one line naming the subcommand and the flag meant (never an abbreviation silently taken)."""
    code, _, err = run(capsys, *argv)
    flag = next(a for a in argv if a.startswith("-"))
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"{command}: error: unknown flag {flag}")
    if meant:
        assert f"did you mean {meant}?" in err


def test_nothing_fits_names_the_value_tried_and_computed_fixes(capsys):
    """solve micro-batch at 32K: names micro-batch 1 and the single changes; each change, applied, fits."""
    argv = ["solve", "micro-batch", *LLAMA, "-s", "32k", "--num-gpus", "8", "--budget", "80GiB"]
    code, out, _ = run(capsys, *argv)
    assert code == 1 and "micro-batch 1 needs" in out and "it would fit with one change:" in out
    fixes = cli_json(capsys, *argv)["fixes"]
    flags = {f["flag"] for f in fixes}
    assert "--recompute full" in flags and "-tp 4" in flags
    for fix in fixes:
        change = re.sub(r" \(.*\)$", "", fix["flag"]).split()
        fixed = argv + change
        if change[0] == "-s":  # the sequence question: the longest that fits, at micro-batch 1
            fixed = [a for a in argv if a not in ("-s", "32k")] + change
        answer = cli_json(capsys, *fixed)
        assert answer["feasible"] and answer["micro_batch"] >= 1, fix


def test_fixes_include_more_devices_when_zero_shards(capsys):
    """With ZeRO 3 on too few GPUs, 'N more GPUs' is offered, and that device count fits."""
    argv = ["solve", "micro-batch", "--preset", "llama-2-70b", "-s", "4096", "--num-gpus", "8", "-z", "3",
            "--recompute", "full", "--budget", "24GiB"]
    fixes = cli_json(capsys, *argv)["fixes"]
    more = [f for f in fixes if f["setting"] == "n_devices"]
    assert more and more[0]["flag"].endswith("more GPUs)")
    n = str(more[0]["value"])
    assert cli_json(capsys, *[a if a != "8" else n for a in argv])["feasible"]


def test_plan_nothing_fits_offers_checked_changes(capsys):
    """plan: when nothing fits, each change offered (more devices, ...) makes the planner find rows."""
    argv = ["plan", "--preset", "llama-2-70b", "--num-gpus", "4", "--gpu-memory", "80GiB", "--peak-flops", "989T",
            "-s", "4096", "--json"]
    code, out, _ = run(capsys, *argv)
    fixes = json.loads(out)["fixes"]
    assert code == 1 and fixes
    flag = fixes[-1]["flag"].split(" (")[0].split()
    assert flag[0] == "--num-gpus"
    code, out, _ = run(capsys, *[a if a != "4" else flag[1] for a in argv])
    assert code == 0 and json.loads(out)["rows"]


def test_devices_as_a_multiple_of_a_node(capsys):
    """solve devices --multiple-of 8: the fewest devices in whole 8-GPU nodes (3 GPUs fit, so 8)."""
    argv = ["solve", "devices", *LLAMA, "-s", "4096", "-z", "3", "--recompute", "full", "--budget", "40GiB"]
    assert cli_json(capsys, *argv)["devices"] == 3
    assert cli_json(capsys, *argv, "--multiple-of", "8")["devices"] == 8


def test_solver_answers_print_with_separators(capsys):
    """A long answer prints with thousands separators (the longest sequence of Llama-2-7B on 8 x 80 GiB, ZeRO 3)."""
    code, out, _ = run(capsys, "solve", "seq-len", *LLAMA, "-b", "1", "--num-gpus", "8", "-z", "3", "--recompute",
                       "full", "--budget", "80GiB", "--multiple-of", "128")
    assert code == 0 and re.search(r"longest sequence: \d{1,3}(,\d{3})+ ", out)


def test_public_names_and_no_stray_modules():
    """mfu, training_time, compute_optimal, max_micro_batch, min_devices, memory_grid, Precision, Parallel import from
    symcalc; dir(symcalc) is __all__ (and __version__): no helper modules."""
    from symcalc import (
        Parallel, Precision, compute_optimal, max_micro_batch, memory_grid, mfu, min_devices, training_time,
    )
    from symcalc import flops, memory, scaling, solve, sweep

    assert (mfu, training_time) == (flops.mfu, flops.training_time) and compute_optimal is scaling.compute_optimal
    assert (max_micro_batch, min_devices) == (solve.max_micro_batch, solve.min_devices)
    assert (memory_grid, Precision, Parallel) == (sweep.memory_grid, memory.Precision, memory.Parallel)
    assert set(dir(symcalc)) == set(symcalc.__all__) | {"__version__"}
    import types

    modules = {n for n in symcalc.__all__ if isinstance(getattr(symcalc, n), types.ModuleType)}
    assert modules == {"symbols", "defaults", "scaling", "sensitivity", "solve", "serving"}


def test_license_matches_setup_cfg():
    """LICENSE is the full Apache License 2.0 text and setup.cfg says Apache-2.0 and ships it."""
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text and "END OF TERMS AND CONDITIONS" in text
    assert len(text.splitlines()) > 190
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["metadata"]["license"] == "Apache-2.0" and "LICENSE" in cfg["metadata"]["license_files"]


def test_readme_setup_names_every_prerequisite():
    """The README's set-up names Node/npm (KaTeX) and how to install a CPU-only torch."""
    setup = (ROOT / "README.md").read_text().split("## A one-minute tour")[0]
    assert "npm" in setup and "Node" in setup
    assert "--index-url https://download.pytorch.org/whl/cpu" in setup and "torch==2.13.0" in setup
