"""`symcalc hardware` and `--hardware`/`--peak-flops NAME` in plan and solve, in-process."""

from __future__ import annotations

import json

import pytest

from _cli import run_cli
from symcalc.hardware import get, names

PLAN = ["plan", "--preset", "llama-2-7b", "--num-gpus", "16", "-s", "4096", "-gbs", "64", "--json", "--top", "5"]


_run = run_cli


def test_list_json_has_every_entry_with_sources(capsys):
    """--json lists every entry with dense peaks, memory in bytes and a source per figure; aliases map to names."""
    code, out, _ = _run(capsys, ["hardware", "--json"])
    data = json.loads(out)
    assert code == 0 and [h["name"] for h in data["hardware"]] == list(names())
    h100 = next(h for h in data["hardware"] if h["name"] == "h100-sxm")
    assert h100["peak_flops"]["bf16"] == 989400000000000 and h100["memory"] == 85520809984
    assert all(f["source"] and f["url"] for h in data["hardware"] for f in h["figures"].values())
    assert data["aliases"]["h100"] == "h100-sxm"


def test_table_and_one_entry(capsys):
    """The table has a row per entry; `hardware NAME` prints every figure with its note and source."""
    code, out, _ = _run(capsys, ["hardware"])
    assert code == 0 and all(any(line.startswith(n + " ") for line in out.splitlines()) for n in names())
    code, out, _ = _run(capsys, ["hardware", "mi300x"])
    assert code == 0 and "source: AMD Instinct MI300X data sheet" in out and "[uncertain]" in out
    assert "peak_flops/fp8: 2,614.9 TFLOP/s" in out


def test_unknown_name_is_one_line_exit_2(capsys):
    """An unknown device is one line on stderr naming close matches, exit status 2."""
    code, _, err = _run(capsys, ["hardware", "h1000"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "did you mean" in err


#: Every figure the command needs given by flag, so the entry would not be read at all.
EVERY_FIGURE_GIVEN = [
    "solve micro-batch --preset llama-2-7b -s 4096 --num-gpus 8 -z 3 --budget 80GiB",
    "solve tp --preset llama-2-7b --num-gpus 8 -z 3 --budget 80GiB",
    "serve --preset llama-3-8b --peak-flops 989e12 --mem-bandwidth 3.35TB --gpu-memory 80GiB",
    "plan --preset llama-2-7b --num-gpus 64 --gpu-memory 80GiB --peak-flops 989e12",
    "time --preset llama-2-7b --tokens 1T --num-gpus 64 --peak-flops 989e12",
]


@pytest.mark.parametrize("line", EVERY_FIGURE_GIVEN)
def test_unknown_name_is_refused_even_when_every_figure_is_a_flag(capsys, line):
    """A misspelt --hardware is one line naming --hardware, exit 2, even where flags give every figure it would fill."""
    code, out, err = _run(capsys, line.split() + ["--hardware", "h1000"])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--hardware 'h1000'" in err


def test_plan_hardware_equals_explicit_flags(capsys):
    """plan --hardware h100 ranks exactly as the same memory, peak and bandwidths given as flags."""
    h = get("h100")
    code, out, _ = _run(capsys, PLAN + ["--hardware", "h100"])
    by_hw = json.loads(out)
    explicit = ["--gpu-memory", str(h.memory), "--peak-flops", "989.4T", "--tp-bandwidth", "450GB",
                "--dp-bandwidth", "50GB", "--ep-bandwidth", "50GB"]
    code2, out2, _ = _run(capsys, PLAN + explicit)
    by_flags = json.loads(out2)
    assert code == code2 == 0 and by_hw["rows"] == by_flags["rows"] and by_hw["settings"] == by_flags["settings"]
    assert by_hw["sources"]["bandwidth_tp"] == "h100-sxm" and by_flags["sources"]["bandwidth_tp"] == "--tp-bandwidth"


def test_plan_flag_wins_over_hardware_and_dtype_picks_peak(capsys):
    """An explicit --gpu-memory overrides the entry's; --dtype fp8 takes the fp8 peak."""
    _, out, _ = _run(capsys, PLAN + ["--hardware", "h100", "--gpu-memory", "40GiB", "--dtype", "fp8"])
    s = json.loads(out)["settings"]
    assert s["memory"] == 40 * 2**30 and s["peak_flops"] == 1978900000000000


@pytest.mark.parametrize("peak", ["989e12", "989T", "989000000000000", "0.989e15"])
def test_peak_flops_spellings_agree(capsys, peak):
    """--peak-flops 989T, 989e12 and the plain number are the same peak."""
    _, out, _ = _run(capsys, PLAN + ["--gpu-memory", "80GiB", "--peak-flops", peak])
    assert json.loads(out)["settings"]["peak_flops"] == 989 * 10**12


def test_peak_flops_accepts_a_catalogue_name(capsys):
    """--peak-flops h100 is the H100's dense bf16 peak (or at --dtype)."""
    _, out, _ = _run(capsys, PLAN + ["--gpu-memory", "80GiB", "--peak-flops", "h100", "--dtype", "tf32"])
    assert json.loads(out)["settings"]["peak_flops"] == 494700000000000


def test_plan_without_memory_or_hardware_is_refused(capsys):
    """Neither --gpu-memory nor --hardware: one line naming both, exit 2."""
    code, _, err = _run(capsys, ["plan", "--preset", "gpt2", "--num-gpus", "8", "--peak-flops", "1e15"])
    assert code == 2 and "--gpu-memory" in err and "--hardware" in err


def test_plan_hardware_without_a_nic_uses_the_stated_default(capsys):
    """An entry with no scale-out figure (L40S) takes the planner's DP default, and says so."""
    _, out, _ = _run(capsys, PLAN + ["--hardware", "l40s"])
    data = json.loads(out)
    assert data["sources"]["bandwidth_dp"] == "default" and data["settings"]["bandwidth_dp"] == 25 * 10**9


def test_solve_hardware_is_its_reported_memory(capsys):
    """solve micro-batch --hardware a100-40gb answers as --budget with the entry's reported bytes."""
    base = ["solve", "micro-batch", "--preset", "llama-2-7b", "-s", "4096", "--num-gpus", "8", "-z", "3",
            "--recompute", "full", "--json"]
    _, out, _ = _run(capsys, base + ["--hardware", "a100-40gb"])
    _, out2, _ = _run(capsys, base + ["--budget", str(get("a100-40gb").memory)])
    assert json.loads(out) == json.loads(out2) and json.loads(out)["budget"] == 42298834944
    code, _, err = _run(capsys, base)
    assert code == 2 and "--budget" in err and "--hardware" in err


def test_solve_hidden_size_takes_hardware_as_memory_budget(capsys):
    """solve hidden-size --hardware fits training memory in the entry's memory, like --memory-budget."""
    base = ["solve", "hidden-size", "-l", "32", "-a", "32", "--swiglu", "--num-gpus", "8", "-z", "3",
            "--recompute", "full", "--multiple-of", "128", "--json"]
    _, out, _ = _run(capsys, base + ["--hardware", "h100"])
    _, out2, _ = _run(capsys, base + ["--memory-budget", "85520809984"])
    assert json.loads(out) == json.loads(out2)


def test_readme_table_is_current(capsys):
    """The hardware guide shows exactly what `symcalc hardware` prints."""
    from pathlib import Path

    _, out, _ = _run(capsys, ["hardware"])
    readme = (Path(__file__).resolve().parents[1] / "docs" / "guides" / "hardware-time-serving.md").read_text()
    assert "```\n" + out + "```\n" in readme


def test_readme_lists_every_alias():
    """The hardware guide names every entry with all its aliases."""
    from pathlib import Path

    from symcalc.hardware import catalogue

    readme = (Path(__file__).resolve().parents[1] / "docs" / "guides" / "hardware-time-serving.md").read_text()
    for hw in catalogue():
        assert f"`{hw.name}`" in readme and all(f"`{a}`" in readme for a in hw.aliases)
