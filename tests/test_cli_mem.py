"""`symcalc mem`: cookbook flags, JSON shape, the cookbook's errors fixed, one-line errors with exit 2."""

import json
import subprocess
import sys

import pytest

from symcalc import Model, params
from symcalc.cli import main

KEYS = ["weights", "gradients", "optimizer", "activations", "kv_cache", "communication", "misc", "total"]


def run_json(capsys, *argv):
    assert main(["mem", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_parts_are_integers_summing_to_total(capsys):
    """--json gives every documented part as an integer, per device and per replica; the parts sum to the total within rounding."""
    out = run_json(capsys, "--preset", "llama-2-7b", "--num-gpus", "8", "-tp", "2", "-z", "1")
    for scope in ("per_device", "per_replica"):
        assert list(out[scope]) == KEYS
        assert all(isinstance(v, int) for v in out[scope].values())
        parts = sum(v for k, v in out[scope].items() if k != "total")
        assert 0 <= parts - out[scope]["total"] <= len(KEYS)
    assert out["per_device"]["kv_cache"] == 0 and out["parallel"]["dp"] == 4


def test_cookbook_defaults_are_dense_neox_20b_like(capsys):
    """With no flags: the cookbook's 44 x 6144 model, dense (--num-experts 0), ZeRO 1 on one GPU, no buffers."""
    out = run_json(capsys)
    m = Model(n_layers=44, d_model=6144, n_heads=64, n_kv_heads=64, d_ff=4 * 6144, vocab=51200,
              qkv_bias=True, attn_out_bias=True, mlp_bias=True)
    assert out["per_device"]["weights"] == 2 * params(m).total
    assert out["per_device"]["communication"] == 0
    assert out == run_json(capsys, "--num-experts", "0")


def test_zero_shards_over_data_parallel_not_all_gpus(capsys):
    """Cookbook fix: ZeRO-1 shards optimizer states over d = n/t (times t from TP); gradients divide by t."""
    one = run_json(capsys, "--preset", "llama-2-7b", "-z", "0")["per_device"]
    out = run_json(capsys, "--preset", "llama-2-7b", "-z", "1", "--num-gpus", "16", "-tp", "2")
    assert out["parallel"]["dp"] == 8
    # norms are replicated over TP, so the split is within 1% rather than exact
    assert out["per_device"]["optimizer"] * 16 == pytest.approx(one["optimizer"], rel=0.01)
    assert out["per_device"]["gradients"] * 2 == pytest.approx(one["gradients"], rel=0.01)
    z3 = run_json(capsys, "--preset", "llama-2-7b", "-z", "3", "--num-gpus", "16", "-tp", "2", "-pp", "2")
    assert z3["parallel"]["dp"] == 4
    assert z3["per_device"]["weights"] * 16 == pytest.approx(one["weights"], rel=0.05)


def test_checkpoint_activations_is_selective_recompute(capsys):
    """-ca keeps the cookbook's meaning: Korthikanti's selective recompute; -pa equals --sequence-parallel."""
    a = run_json(capsys, "-ca", "-pa", "-tp", "2", "--num-gpus", "2")
    b = run_json(capsys, "--recompute", "selective", "--sequence-parallel", "-tp", "2", "--num-gpus", "2")
    assert a["per_device"] == b["per_device"]
    full = run_json(capsys, "--recompute", "full")
    assert full["per_device"]["activations"] < a["per_device"]["activations"] * 2


def test_inference_kv_cache_has_factor_two_and_kv_heads(capsys):
    """Cookbook fix: the KV cache counts K and V, the KV heads, and is sharded by TP."""
    mha = run_json(capsys, "--infer", "-l", "2", "-hs", "512", "-a", "8", "-s", "100", "-o", "28", "-b", "3")
    assert mha["per_device"]["kv_cache"] == 2 * 2 * 512 * 2 * 128 * 3
    gqa = run_json(capsys, "--infer", "-l", "2", "-hs", "512", "-a", "8", "--num-kv-heads", "2", "-s", "100", "-o", "28",
                   "-b", "3", "-tp", "2", "--num-gpus", "2")
    assert gqa["per_device"]["kv_cache"] * 8 == mha["per_device"]["kv_cache"]
    assert gqa["per_device"]["gradients"] == 0


def test_misc_and_buffers(capsys):
    """--misc-mem-gib adds GiB per device; the all-gather bucket is charged only with data parallelism."""
    out = run_json(capsys, "--misc-mem-gib", "5", "--num-gpus", "4", "-zbs", "1000")
    assert out["per_device"]["misc"] == 5 * 2**30
    assert out["per_device"]["communication"] == 2000
    assert out["per_replica"]["misc"] == 5 * 2**30


@pytest.mark.parametrize("argv,needle", [
    (["--num-gpus", "3", "-tp", "2"], "does not divide n_devices"),
    (["-tp", "3", "--num-gpus", "3"], "does not divide n_heads"),
    (["--preset", "llama-2-7b", "-a", "32", "--num-kv-heads", "8", "-tp", "3", "--num-gpus", "3"], "does not divide n_heads"),
    (["-a", "12", "-hs", "768", "--num-kv-heads", "4", "-tp", "3", "--num-gpus", "3"], "n_kv_heads"),
    (["-z", "4"], "not a ZeRO stage"),
    (["--num-experts", "6", "-ep", "4", "--num-gpus", "4"], "does not divide n_experts"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    """Bad degrees, stages or EP: exit status 2 and a single error line."""
    assert main(["mem", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err


def test_human_output_is_labelled_gib(capsys):
    """The table prints every part in GiB (2^30) and says so."""
    assert main(["mem", "--preset", "llama-2-7b"]) == 0
    out = capsys.readouterr().out
    assert "GiB = 2^30" in out and "optimizer" in out and "total" in out


def test_whole_process_is_fast():
    """`symcalc mem --preset llama-2-7b` as a process finishes quickly (no heavy imports)."""
    import time

    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "symcalc", "mem", "--preset", "llama-2-7b"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert time.perf_counter() - start < 5
