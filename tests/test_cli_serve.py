"""`symcalc serve` and `symcalc solve ... --infer` in-process: JSON keys, the library's numbers, one-line errors."""

from __future__ import annotations

import json

import pytest
from sympy import Rational

from _cli import run_cli
from symcalc import Model
from symcalc.serving import serving
from symcalc.solve import max_serving_batch, min_serving_devices

BASE = ["serve", "--preset", "llama-3-8b", "--hardware", "h100", "-s", "2048", "-o", "128", "-b", "8", "--json"]


def test_json_keys_and_library_numbers(capsys):
    """--json has ttft_s, tpot_s, tokens_per_s, bound, kv_cache_bytes, max_batch; they equal serving()'s values."""
    code, out, _ = run_cli(capsys, BASE)
    data = json.loads(out)
    assert code == 0
    assert {"ttft_s", "tpot_s", "tokens_per_s", "bound", "kv_cache_bytes", "max_batch"} <= set(data)
    lib = serving(Model.preset("llama-3-8b"), prompt_len=2048, n_generate=128, batch=8, hardware="h100")
    assert data["bound"] == "memory" and data["prefill_bound"] == "compute"
    assert data["max_batch"] == lib.max_batch.value and data["kv_cache_bytes"] == int(lib.kv_cache_bytes)
    for key, attr in (("ttft_s", "ttft"), ("tpot_s", "tpot"), ("tokens_per_s", "tokens_per_s")):
        assert data[key] == float(getattr(lib, attr)) and Rational(data["exact"][attr]) == getattr(lib, attr)


def test_json_exact_values_past_the_int_digit_limit(capsys):
    """A MoE prefill routing 8192 tokens holds (47/48)^8192 exactly: --json still prints it (was a traceback past 4300 digits)."""
    from symcalc._numfmt import exact_text

    code, out, _ = run_cli(capsys, ["serve", "--preset", "kimi-k2", "--hardware", "b200", "-tp", "8", "--json"])
    assert code == 0
    data = json.loads(out)
    lib = serving(Model.preset("kimi-k2"), prompt_len=8192, n_generate=128, batch=1, tp=8, hardware="b200")
    assert len(data["exact"]["ttft"]) > 4300 and data["exact"]["ttft"] == exact_text(lib.ttft.exact)
    assert data["ttft_s"] == float(lib.ttft)


def test_text_output_names_units_and_the_lower_bound(capsys):
    """The table prints ms, tokens/s, GiB and says the times are lower bounds."""
    code, out, _ = run_cli(capsys, BASE[:-1])
    assert code == 0
    for text in ("time to first token", "ms", "tokens/s", "GiB per device", "max batch", "lower bounds"):
        assert text in out


def test_flags_win_over_the_catalogue(capsys):
    """--mem-bandwidth given with --hardware replaces the entry's figure (halving it doubles a memory-bound TPOT)."""
    _, a, _ = run_cli(capsys, BASE)
    _, b, _ = run_cli(capsys, BASE + ["--mem-bandwidth", "1.675TB"])
    assert Rational(json.loads(b)["exact"]["tpot"]) == 2 * Rational(json.loads(a)["exact"]["tpot"])


def test_fp8_dtype_sets_the_weights(capsys):
    """--dtype fp8 takes the fp8 peak and stores weights in fp8 unless --weight-dtype says otherwise."""
    _, out, _ = run_cli(capsys, BASE + ["--dtype", "fp8"])
    assert json.loads(out)["weight_dtype"] == "fp8"
    _, out, _ = run_cli(capsys, BASE + ["--dtype", "fp8", "--weight-dtype", "bf16"])
    assert json.loads(out)["weight_dtype"] == "bf16"


@pytest.mark.parametrize("argv, message", [
    (["serve", "--preset", "llama-3-8b"], "--hardware"),
    (["serve", "--preset", "llama-3-8b", "--hardware", "h100", "--memory-efficiency", "1.5"], "above 1"),
    (["serve", "--preset", "llama-3-8b", "--hardware", "h100", "-tp", "3"], "does not divide"),
    (["serve", "--preset", "llama-3-8b", "--peak-flops", "1e15", "--mem-bandwidth", "3TB", "-tp", "2"],
     "--scaleup-bandwidth"),
    (["serve", "--preset", "llama-3-8b", "--hardware", "h100", "--mem-bandwidth", "fast"], "--mem-bandwidth"),
    (["serve", "--preset", "llama-3-8b", "--hardware", "h100", "-b", "0"], "-b"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, message):
    """Missing figures, an efficiency above 1, a TP degree not dividing the heads, a bad number: one line, exit 2."""
    code, _, err = run_cli(capsys, argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_solve_infer_answers_as_the_library(capsys):
    """solve micro-batch/devices --infer give max_serving_batch / min_serving_devices on mem --infer's flags."""
    m = Model.preset("llama-3-70b")
    common = ["--preset", "llama-3-70b", "--infer", "--flash-attention", "--hardware", "h100", "-s", "4096",
              "-o", "512", "--json"]
    code, out, _ = run_cli(capsys, ["solve", "micro-batch", *common, "-tp", "4"])
    lib = max_serving_batch("85520809984", m, seq_len=4096, n_generate=512, flash_attention=True, tp=4)
    assert code == 0 and json.loads(out)["micro_batch"] == lib.value
    code, out, _ = run_cli(capsys, ["solve", "devices", *common, "-b", "16"])
    lib = min_serving_devices("85520809984", m, seq_len=4096, n_generate=512, micro_batch=16, flash_attention=True)
    data = json.loads(out)
    assert code == 0 and (data["devices"], data["tp"], data["pp"]) == (lib.value, lib.tp, lib.pp) == (4, 4, 1)


def test_solve_infer_nothing_fits_exits_1(capsys):
    """A 70B model in bf16 on one 80 GB device: nothing fits, exit 1, the shortfall printed."""
    code, out, _ = run_cli(capsys, ["solve", "micro-batch", "--preset", "llama-3-70b", "--infer", "--hardware", "h100"])
    assert code == 1 and "nothing fits" in out


def test_readme_example_is_current(capsys):
    """The serving guide shows exactly what its first example command prints."""
    from pathlib import Path

    argv = ["serve", "--preset", "llama-3-70b", "--hardware", "h100", "-tp", "4", "-s", "2048", "-o", "256", "-b", "16"]
    _, out, _ = run_cli(capsys, argv)
    readme = (Path(__file__).resolve().parents[1] / "docs" / "guides" / "hardware-time-serving.md").read_text()
    assert "symcalc " + " ".join(argv) in readme and "```\n" + out + "```\n" in readme
