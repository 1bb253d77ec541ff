"""`symcalc time` in-process: JSON keys, the library's numbers, spellings of inputs, one-line errors."""

from __future__ import annotations

import json

import pytest
from sympy import Rational

from symcalc import Model
from _cli import run_cli
from symcalc.cost import training_cost

BASE = ["time", "--preset", "llama-2-7b", "--tokens", "2T", "-s", "4096", "--num-gpus", "256", "--hardware", "h100",
        "--mfu", "0.4", "--json"]


_run = run_cli


def test_json_keys_and_library_numbers(capsys):
    """--json has flops, seconds, days, gpu_hours, energy_kwh and cost; they equal training_cost's values."""
    code, out, _ = _run(capsys, BASE + ["--price-per-gpu-hour", "2.5", "-gbs", "1024"])
    data = json.loads(out)
    assert code == 0
    assert {"flops", "seconds", "days", "gpu_hours", "energy_kwh", "cost", "seconds_per_step"} <= set(data)
    lib = training_cost(Model.preset("llama-2-7b"), tokens="2T", seq_len=4096, n_devices=256, hardware="h100",
                        mfu=Rational(2, 5), price_per_device_hour=Rational(5, 2), global_batch=1024)
    assert data["flops"] == int(lib.flops)
    for key in ("seconds", "days", "gpu_hours", "energy_kwh", "cost", "seconds_per_step"):
        assert data[key] == float(getattr(lib, key)) and Rational(data["exact"][key]) == getattr(lib, key)


def test_cost_only_with_a_price(capsys):
    """Without --price-per-gpu-hour there is no "cost" key."""
    _, out, _ = _run(capsys, BASE)
    assert "cost" not in json.loads(out)


@pytest.mark.parametrize("a, b", [(["--tokens", "2T"], ["--tokens", "2e12"]),
                                  (["--mfu", "40%"], ["--mfu", "0.4"]),
                                  (["--peak-flops", "989.4T"], ["--peak-flops", "h100"])])
def test_spellings_agree(capsys, a, b):
    """2T = 2e12 tokens, 40% = 0.4 MFU, --peak-flops 989.4T = --peak-flops h100."""
    results = []
    for extra in (a, b):
        _, out, _ = _run(capsys, BASE + extra)
        results.append(json.loads(out)["exact"]["seconds"])
    assert results[0] == results[1]


def test_narayanan_gpt3_from_the_command_line(capsys):
    """GPT-3 175B flags, 300e9 tokens, 1024 A100 at 140T achieved, --flops 8N: about 34 days."""
    code, out, _ = _run(capsys, ["time", "-l", "96", "-hs", "12288", "-a", "96", "-v", "51200", "-s", "2048",
                                 "--tokens", "300e9", "--num-gpus", "1024", "--hardware", "a100",
                                 "--achieved-flops", "140T", "--flops", "8N", "--json"])
    data = json.loads(out)
    assert code == 0 and 33.5 <= data["days"] < 34.5 and data["conventions"]["flops"] == "8N"


def test_text_output_names_units_and_default_mfu(capsys):
    """The table has units; leaving out --mfu prints that the 0.4 default was used; no power is noted."""
    code, out, _ = _run(capsys, ["time", "--preset", "gpt2", "--tokens", "10B", "--num-gpus", "8",
                                 "--hardware", "tpu-v5e"])
    assert code == 0 and "days" in out and "device-hours" in out
    assert "MFU 0.4 is today's default" in out and "give --power" in out


@pytest.mark.parametrize("extra, flag", [
    (["--mfu", "40"], "--mfu"),
    (["--tokens", "2.5"], "--tokens"),
    (["--tokens", "lots"], "--tokens"),
    (["--pue", "0.5"], "pue"),
    (["--hardware", "h1000"], "--hardware"),
    (["--achieved-flops", "100T"], "--achieved-flops"),
    (["--power", "-3"], "--power"),
    (["--flops", "6N", "--recompute", "full"], "6N"),
])
def test_bad_input_exits_2_one_line(capsys, extra, flag):
    """Bad values are one line on stderr naming the flag, exit status 2."""
    code, _, err = _run(capsys, BASE + extra)
    assert code == 2 and len(err.strip().splitlines()) == 1 and flag in err


def test_needs_a_peak(capsys):
    """No --hardware, --peak-flops or --achieved-flops: one line naming them, exit 2."""
    code, _, err = _run(capsys, ["time", "--preset", "gpt2", "--tokens", "1B", "--num-gpus", "8"])
    assert code == 2 and "--hardware" in err and "--peak-flops" in err


def test_readme_example_is_current(capsys):
    """The training-time guide shows exactly what its first example command prints."""
    from pathlib import Path

    argv = ["time", "--preset", "llama-3.1-405b", "--tokens", "15.6T", "-s", "8192", "--num-gpus", "16384",
            "--hardware", "h100", "--mfu", "41%", "--price-per-gpu-hour", "2"]
    _, out, _ = _run(capsys, argv)
    readme = (Path(__file__).resolve().parents[1] / "docs" / "guides" / "hardware-time-serving.md").read_text()
    assert "symcalc " + " ".join(argv) in readme and "```\n" + out + "```\n" in readme


def test_time_from_the_planners_estimate(capsys):
    """--mfu plan: Llama 3.1 405B's 15.6T tokens at 8K on 16,384 H100 with 2,048 sequences per step (Llama 3
    paper Table 4) take the planner's fastest layout; the GPU-hours land in the band the model card's 30.84M
    implies (27.97M-31.79M, README Training time) and equal steps x the planned step time."""
    code, out, _ = _run(capsys, ["time", "--preset", "llama-3.1-405b", "--tokens", "15.6T", "-s", "8192",
                                 "--num-gpus", "16384", "--hardware", "h100", "--mfu", "plan", "-gbs", "2048",
                                 "--json"])
    data = json.loads(out)
    assert code == 0 and 27.97e6 <= data["gpu_hours"] <= 31.79e6
    steps = Rational(15_600_000_000_000, 2048 * 8192)
    assert Rational(data["exact"]["seconds"]) == steps * Rational(data["exact"]["seconds_per_step"])
    for argv in (["--mfu", "plan"], ["--mfu", "plan", "-gbs", "2048", "--peak-flops", "989T"]):
        base = ["time", "--preset", "llama-2-7b", "--tokens", "2T", "--num-gpus", "64"]
        code, _, err = _run(capsys, base + argv)
        assert code == 2 and "--mfu plan needs" in err
