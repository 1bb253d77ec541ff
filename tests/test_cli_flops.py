"""``symcalc flops``: cookbook flags and defaults, JSON shape, bad input exits 2 with one line."""

import json
import re
import subprocess
import sys

import pytest

from symcalc.cli import main

# calc_transformer_flops.py (EleutherAI cookbook) with its default flags, total FLOPs before its
# rounding for print: with checkpointing (default) and with -ca. Where the cookbook is right
# (dense, top-1) symcalc must reproduce it exactly.
COOKBOOK_DEFAULT_TOTAL = 51058940313600000000000
COOKBOOK_NO_CHECKPOINT_TOTAL = 38435762995200000000000
COOKBOOK_GPT3_TOTAL = 430199694950400000000000  # -l 96 -hs 12288


def run_json(capsys, *argv):
    assert main(["flops", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_defaults_reproduce_cookbook(capsys):
    """--cookbook (checkpointing on, s = 2048) and --cookbook -ca give the cookbook's totals exactly; today's
    default (no recompute, s = 8192) is the -ca count at 8192."""
    assert run_json(capsys, "--cookbook")["total"] == COOKBOOK_DEFAULT_TOTAL
    assert run_json(capsys, "--cookbook", "-ca")["total"] == COOKBOOK_NO_CHECKPOINT_TOTAL
    assert run_json(capsys, "--cookbook", "-l", "96", "-hs", "12288")["total"] == COOKBOOK_GPT3_TOTAL
    assert run_json(capsys, "-s", "2048")["total"] == COOKBOOK_NO_CHECKPOINT_TOTAL
    today = run_json(capsys)
    assert today["recompute"] == 0 and today["sequence_length"] == 8192


def test_json_shape_and_sums(capsys):
    """JSON has integer forward/backward/recompute/total that add up, and a breakdown summing to total."""
    out = run_json(capsys, "--preset", "llama-2-7b", "--tokens", "1e9", "-s", "4096", "-b", "8")
    for key in ("forward", "backward", "recompute", "total"):
        assert isinstance(out[key], int)
    assert out["forward"] + out["backward"] + out["recompute"] == out["total"]
    assert sum(out["breakdown"].values()) == out["total"]
    assert sum(out["breakdown_by_pass"].values()) == out["total"]
    assert out["backward"] == 2 * out["forward"]
    assert out["per_step"]["sequences"] == 8


def test_recompute_flag_overrides_checkpointing(capsys):
    """--recompute sets the policy; -ca alone means none; -ca with another policy is refused; selective sits between."""
    full = run_json(capsys, "--cookbook")
    assert run_json(capsys, "--recompute", "full", "-s", "2048")["total"] == full["total"]
    assert main(["flops", "-ca", "--recompute", "full"]) == 2
    assert "give one of them" in capsys.readouterr().err
    none = run_json(capsys, "--cookbook", "-ca")
    assert none["recompute"] == 0
    assert run_json(capsys, "--recompute", "none", "-s", "2048")["total"] == none["total"]
    sel = run_json(capsys, "--recompute", "selective", "--cookbook")
    assert none["total"] < sel["total"] < full["total"]
    assert sel["recompute"] == sel["breakdown_by_pass"]["recompute/attention/scores"] * 2


def test_infer_is_forward_only(capsys):
    """--infer reports one forward: no backward, no recompute, the training forward unchanged."""
    inf = run_json(capsys, "--infer")
    train = run_json(capsys)
    assert inf["backward"] == inf["recompute"] == 0
    assert inf["total"] == inf["forward"] == train["forward"]


def test_tokens_accept_exact_notation(capsys):
    """--tokens 3e11, 300e9, 300B and 300000000000 are the same (the cookbook's default is a float)."""
    totals = {run_json(capsys, "--cookbook", "--tokens", t)["total"]
              for t in ("3e11", "300e9", "300000000000", "300_000_000_000", "300B", "0.3T")}
    assert totals == {COOKBOOK_DEFAULT_TOTAL}


def test_every_cookbook_flag_changes_the_count(capsys):
    """Each cookbook size flag (including --ffn-hidden-size and --batch-size, ignored by the cookbook) is used."""
    base = run_json(capsys, "--cookbook")
    changed = {
        ("-v", "50000"): "total", ("-hs", "4096"): "total", ("-s", "4096"): "total", ("-l", "40"): "total",
        ("-kv", "0.25"): "total", ("-ff", "3.5"): "total", ("--ffn-hidden-size", "20000"): "total",
        ("-nl", "3"): "total", ("--swiglu",): "total", ("--tokens", "1e9"): "total", ("-ca",): "total",
        ("--infer",): "total", ("--causal",): "total", ("-b", "4"): "per_step",
        ("--num-kv-heads", "8"): "total", ("--elementwise",): "total",
    }
    for flags, key in changed.items():
        out = run_json(capsys, "--cookbook", *flags)
        assert out[key] != base[key], flags
    assert run_json(capsys, "--swiglu")["total"] == run_json(capsys, "-nl", "3")["total"]
    assert run_json(capsys, "--cookbook", "-b", "4")["per_step"]["total"] == 4 * base["per_step"]["total"]


def test_moe_flags_and_top_k_with_interval(capsys):
    """MoE flags are used; with top-k 2 every other layer, MLP work is 1.5× the dense model's (not 2×, the cookbook's)."""
    dense = run_json(capsys, "-l", "4", "-ca")
    moe = run_json(capsys, "-l", "4", "-ca", "--moe", "-e", "8", "-t", "2", "-ei", "2")
    mlp = lambda out: sum(v for k, v in out["breakdown"].items() if k.startswith(("mlp/", "moe/experts")))
    assert 2 * mlp(moe) == 3 * mlp(dense)
    assert moe["breakdown"]["moe/router"] > 0
    more = run_json(capsys, "-l", "4", "-ca", "--moe", "-e", "16", "-t", "2", "-ei", "2")
    assert more["breakdown"]["moe/router"] == 2 * moe["breakdown"]["moe/router"]
    every = run_json(capsys, "-l", "4", "-ca", "--moe", "-e", "8", "-t", "2", "-ei", "1")
    assert mlp(every) == 2 * mlp(dense)


def test_hf_config_and_model_flags(capsys, tmp_path):
    """--hf-config reads a local config.json; -a and --num-kv-heads change GQA attention."""
    cfg = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 688, "num_hidden_layers": 4,
           "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 1000}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    a = run_json(capsys, "--hf-config", str(path), "-s", "128", "--tokens", "1024")
    b = run_json(capsys, "--hf-config", str(path), "-s", "128", "--tokens", "1024", "--num-kv-heads", "8")
    assert b["breakdown"]["attention/qkv"] > a["breakdown"]["attention/qkv"]
    c = run_json(capsys, "-a", "16", "--num-kv-heads", "4", "-s", "128", "--tokens", "1024")
    d = run_json(capsys, "-a", "16", "--num-kv-heads", "16", "-s", "128", "--tokens", "1024")
    assert c["breakdown"]["attention/qkv"] < d["breakdown"]["attention/qkv"]


def test_human_output_names_conventions(capsys):
    """The table prints the parts, forward/backward/recompute and the conventions used."""
    assert main(["flops", "--causal", "-ca"]) == 0
    out = capsys.readouterr().out
    for word in ("attention/qkv", "lm_head", "forward", "backward", "recompute: none", "causal", "2*m*n*k"):
        assert word in out


@pytest.mark.parametrize("argv", [
    ["--moe", "-e", "4", "-t", "5"],
    ["--moe", "-l", "44", "-ei", "3"],
    ["--tokens", "0"],
    ["--tokens", "-5"],
    ["--tokens", "1.5"],
    ["-s", "0"],
    ["-hs", "0"],
    ["-b", "0"],
    ["--recompute", "half"],
    ["--cookbook", "--moe", "-l", "45"],  # the cookbook flops script's --expert-interval 2 does not divide 45
    ["--infer", "--recompute", "full"],
    ["--tokens", "1e10000000000"],
    ["--tokens", "nan"],
    ["--tokens", "inf"],
    ["-b", "-0"],
    ["--preset", "llama-2-7b", "--hf-config", "config.json"],
])
def test_bad_input_exits_2_with_one_line(capsys, argv):
    """Top-k above experts, a non-dividing interval, non-positive or fractional sizes: exit 2, one line."""
    try:
        rc = main(["flops", *argv])
    except SystemExit as exc:  # argparse rejects a flag's value before the handler runs
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err and "error" in err


def test_module_entry_point():
    """`python -m symcalc flops --json` runs as a process and prints one JSON object."""
    res = subprocess.run([sys.executable, "-m", "symcalc", "flops", "--json", "--cookbook", "-ca"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0
    assert json.loads(res.stdout)["total"] == COOKBOOK_NO_CHECKPOINT_TOTAL


def test_table_numbers_stay_right_aligned_past_26_digits(capsys):
    """Exact counts wider than the default column (Llama-2-7B on 2e12 tokens) still end in one column."""
    assert main(["flops", "--preset", "llama-2-7b", "-s", "4096", "--tokens", "2e12"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "ZFLOP" in line]
    numbers = [re.search(r"\d[\d,]{4,}", line) for line in rows]
    assert len(rows) >= 8 and any(len(m.group()) > 26 for m in numbers)
    assert len({m.end() for m in numbers}) == 1
