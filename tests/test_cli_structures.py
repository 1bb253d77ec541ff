"""The CLI on the structures of issue 10: --mtp, --active-convention, --window-flops, --window-cache, --mla-cache."""

from __future__ import annotations

import json

import pytest

from symcalc import Model, active_params, params
from symcalc.cli import main
from symcalc.flops import training_flops
from symcalc.memory import kv_cache


def _json(capsys, argv):
    assert main(argv + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_params_mtp_and_active_conventions(capsys):
    """--mtp adds DeepSeek-V3's MTP module (the checkpoint's 685B at 3 digits); --active-convention picks what counts."""
    out = _json(capsys, ["params", "--preset", "deepseek-v3", "--mtp"])
    assert out["total"] == params(Model.preset("deepseek-v3", mtp=True)).total
    assert round(out["total"] / 1e9) in (684, 685) and "mtp/projection" in out["breakdown"]
    assert out["non_embedding"] == out["total"] - sum(out["breakdown"][k] for k in (
        "embedding/token", "lm_head/weight", "mtp/embedding", "mtp/head"))
    out = _json(capsys, ["params", "--preset", "gpt-oss-20b", "--active-convention", "no-input-embedding"])
    assert out["active"] == active_params(Model.preset("gpt-oss-20b"), convention="no-input-embedding").total
    assert round(out["active"] / 1e7) == 361  # OpenAI's card: 3.61B active


@pytest.mark.parametrize("argv, needle", [
    (["params", "-l", "2", "--mtp"], "--mtp needs --preset or --hf-config"),
    (["params", "--preset", "llama-2-7b", "--mtp"], "mtp"),
    (["params", "--preset", "deepseek-v2-lite", "--mtp"], "num_nextn_predict_layers is 0"),
    (["mem", "--preset", "gemma-3-1b", "--window-cache", "window-1"], "--window-cache applies to inference only"),
])
def test_structure_flags_refuse_in_one_line(capsys, argv, needle):
    """Misused structure flags exit 2 with one line naming the flag."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err


def test_flops_window_band_and_square(capsys):
    """--window-flops band lowers a Gemma-3 count below the square; both equal the library's."""
    square = _json(capsys, ["flops", "--preset", "gemma-3-1b", "-s", "4096", "--tokens", "4096", "-ca"])
    band = _json(capsys, ["flops", "--preset", "gemma-3-1b", "-s", "4096", "--tokens", "4096", "-ca",
                          "--window-flops", "band"])
    m = Model.preset("gemma-3-1b")
    assert band["total"] == training_flops(m, seq_len=4096, tokens=4096, window_flops="band").total < square["total"]
    assert "windowed layers" in band["conventions"]


@pytest.mark.parametrize("preset, flag, value", [
    ("gemma-3-27b", "--window-cache", "window-1"), ("gemma-3-27b", "--window-cache", "window"),
    ("deepseek-v2-lite", "--mla-cache", "decompressed"), ("deepseek-v2-lite", "--mla-cache", "latent"),
])
def test_mem_infer_kv_cache_conventions(capsys, preset, flag, value):
    """mem --infer's KV cache under each convention is the library's kv_cache for prompt + generated tokens."""
    out = _json(capsys, ["mem", "--preset", preset, "--infer", "-s", "8192", "-o", "8", flag, value])
    kw = {flag[2:].replace("-", "_"): value}
    assert out["per_device"]["kv_cache"] == kv_cache(Model.preset(preset), tokens=8200, batch=1, bytes_kv=2, **kw)
