"""``symcalc params`` and ``symcalc presets``: cookbook flags, JSON shape, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from symcalc.cli import main
from symcalc.presets import PRESETS


def run_json(capsys, *argv: str) -> dict:
    assert main(["params", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def total(capsys, *argv: str) -> int:
    return run_json(capsys, *argv)["total"]


def fails(capsys, *argv: str) -> str:
    """Run a command that must be refused: exit 2, one line on stderr, no traceback."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own errors exit from inside parse_args
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_llama_2_7b_preset_prints_exact_count(capsys):
    """The README's command reports 6,738,415,616 for Llama-2-7B."""
    assert main(["params", "--preset", "llama-2-7b"]) == 0
    out = capsys.readouterr().out
    assert "6,738,415,616" in out and "6.74 B" in out


def test_json_is_one_object_with_int_total_and_breakdown(capsys):
    """--json prints one object: "total" an int equal to the sum of the "breakdown" ints."""
    data = run_json(capsys, "--preset", "mixtral-8x7b")
    assert isinstance(data["total"], int)
    assert all(isinstance(v, int) for v in data["breakdown"].values())
    assert sum(data["breakdown"].values()) == data["total"] == 46702792704
    assert data["active"] < data["total"]


def test_every_cookbook_flag_is_accepted_with_long_and_short_names(capsys):
    """calc_transformer_params.py's flags, long and short, give the same model."""
    long = total(capsys, "--vocab-size", "1000", "--hidden-size", "64", "--sequence-length", "128",
                 "--num-layers", "3", "--moe", "--num-experts", "4", "--expert-interval", "1", "--topk", "2",
                 "--ffn-expansion-factor", "3", "--num-mlp-linears", "3", "--kv-size-ratio", "0.5",
                 "--tied-embeddings", "-a", "4")
    short = total(capsys, "-v", "1000", "-hs", "64", "-s", "128", "-l", "3", "--moe", "-e", "4", "-ei", "1",
                  "-t", "2", "-ff", "3", "-nl", "3", "-kv", "0.5", "--tied-embeddings", "-a", "4")
    assert long == short


BASE = ("-v", "1000", "-hs", "64", "-l", "4", "-a", "4")


@pytest.mark.parametrize("flags", [
    ("-v", "2000"), ("-hs", "128"), ("-l", "5"), ("--tied-embeddings",), ("-ff", "3"), ("-ff", "3.5"),
    ("-nl", "3"), ("-kv", "0.25"), ("--num-kv-heads", "2"), ("--ffn-hidden-size", "100"), ("--moe",),
    ("--moe", "-e", "4"), ("--moe", "-ei", "2"), ("--head-dim", "32"),
    ("--position", "learned"), ("--norm", "rmsnorm"), ("--no-bias",), ("--swiglu",),
    ("-a", "8", "--head-dim", "16"),
])
def test_flag_changes_the_count(capsys, flags):
    """Each size/structure flag changes the total of the default flag-built model."""
    assert total(capsys, *BASE, *flags) != total(capsys, *BASE)


def test_sequence_length_counts_only_with_learned_positions(capsys):
    """-s changes nothing for RoPE (no position parameters) and adds s·h rows with --position learned."""
    assert total(capsys, *BASE, "-s", "100") == total(capsys, *BASE, "-s", "200")
    grown = total(capsys, *BASE, "--position", "learned", "-s", "200") - total(
        capsys, *BASE, "--position", "learned", "-s", "100")
    assert grown == 100 * 64


def test_topk_changes_active_not_total(capsys):
    """-t routes each token to more experts: the active count grows, the total does not."""
    one = run_json(capsys, *BASE, "--moe", "-e", "4", "-t", "1")
    two = run_json(capsys, *BASE, "--moe", "-e", "4", "-t", "2")
    assert one["total"] == two["total"] and one["active"] < two["active"]


def test_kv_ratio_and_kv_heads_agree(capsys):
    """-kv 0.25 with 8 heads is the same model as --num-kv-heads 2."""
    assert total(capsys, *BASE, "-a", "8", "-kv", "0.25") == total(capsys, *BASE, "-a", "8", "--num-kv-heads", "2")


def test_expansion_factor_and_ffn_hidden_size_agree(capsys):
    """-ff 3.5 on h=64 is --ffn-hidden-size 224 (fractions allowed when f is whole)."""
    assert total(capsys, *BASE, "-ff", "3.5") == total(capsys, *BASE, "--ffn-hidden-size", "224")


def test_flags_override_a_preset(capsys):
    """A flag overrides the preset's field: Llama-2-7B with 2 layers is smaller, same per-layer shape."""
    full = run_json(capsys, "--preset", "llama-2-7b")
    two = run_json(capsys, "--preset", "llama-2-7b", "-l", "2")
    assert two["breakdown"]["attention/qkv"] * 16 == full["breakdown"]["attention/qkv"]
    assert two["breakdown"]["embedding/token"] == full["breakdown"]["embedding/token"]


def test_hf_config_file_and_folder(capsys, tmp_path):
    """--hf-config reads a config.json by path or by folder and matches the preset it came from."""
    (tmp_path / "config.json").write_text(json.dumps(PRESETS["qwen2.5-0.5b"].config))
    by_file = total(capsys, "--hf-config", str(tmp_path / "config.json"))
    by_dir = total(capsys, "--hf-config", str(tmp_path))
    assert by_file == by_dir == total(capsys, "--preset", "qwen2.5-0.5b") == 494032768


@pytest.mark.parametrize("argv", [
    ("params", "--preset", "llama-2-7"),
    ("params", "--hf-config", "/nonexistent/config.json"),
    ("params", "-kv", "0.3"),
    ("params", "--moe", "-ei", "5"),
    ("params", "--moe", "-t", "9"),
    ("params", "-t", "2"),
    ("params", "-hs", "100", "-a", "3"),
    ("params", "--num-kv-heads", "3"),
    ("params", "-l", "0"),
    ("params", "-l", "2.5"),
    ("params", "-hs", "-64"),
    ("params", "-v", "abc"),
    ("params", "-ff", "3.3"),
    ("params", "-nl", "4"),
    ("params", "--preset", "gpt2", "--hf-config", "x"),
    ("params", "--ffn-hidden-size", "100", "-ff", "4"),
    ("params", "--moe", "-e", "0"),
    ("params", "-hs", "1e10000000000"),  # would build a 10^10-digit integer if parsed naively
    ("params", "-hs", "1e19"),
    ("params", "-kv", "1e-400"),
    ("params", "-l", "nan"),
    ("params", "-l", "inf"),
    ("params", "-l", "-0"),
    ("params", "-l", ""),
    ("params", "-hs", "1/0"),
    ("params", "--preset", ""),
    ("params", "--hf-config", ""),
    ("params", "--preset", "llama-2-7b", "-kv", "1/64"),
    ("params", "--preset", "llama-2-7b", "-ei", "2"),
    ("params", "--preset", "mixtral-8x7b", "-t", "9"),
    ("params", "--swiglu", "-nl", "2"),
    ("params", "-e", "0", "-t", "2"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv):
    """Bad flags and unusable models exit 2 with one line on stderr and no traceback."""
    fails(capsys, *argv)


@pytest.mark.parametrize("content", [
    "{not json", "[1, 2]", '{"model_type": "t5"}', '{"model_type": "llama"}', "", '{"model_type": ["llama"]}',
    '{"model_type": "llama", "hidden_size": "big", "num_hidden_layers": 2, "num_attention_heads": 2, '
    '"intermediate_size": 8, "vocab_size": 10}',
])
def test_bad_config_json_is_one_line_exit_2(capsys, tmp_path, content):
    """Malformed, non-object, unsupported or incomplete config.json files are one-line errors."""
    path = tmp_path / "config.json"
    path.write_text(content)
    err = fails(capsys, "params", "--hf-config", str(path))
    assert str(path) in err


@pytest.mark.parametrize("name", ["mixtral-8x7b", "qwen1.5-moe-a2.7b"])
def test_zero_experts_turns_an_moe_preset_dense(capsys, name):
    """-e 0 on an MoE preset counts its dense counterpart: no experts, router or shared expert."""
    out = run_json(capsys, "--preset", name, "-e", "0")
    assert out["active"] == out["total"]
    assert not [k for k in out["breakdown"] if k.startswith("moe/")]
    assert out["breakdown"]["embedding/token"] == run_json(capsys, "--preset", name)["breakdown"]["embedding/token"]
    if name == "mixtral-8x7b":  # Mixtral is Mistral-7B's shape with 8 experts: dense, it is Mistral 7B
        assert out["total"] == 7_241_732_096  # mistralai/Mistral-7B-v0.1 (transformers' count)


def test_folder_without_config_json_is_one_line_exit_2(capsys, tmp_path):
    """--hf-config on a folder with no config.json names the file it looked for."""
    assert str(tmp_path / "config.json") in fails(capsys, "params", "--hf-config", str(tmp_path))


def test_errors_name_the_flag(capsys):
    """Model errors are reported with the flag names the user typed."""
    assert "--topk 9" in fails(capsys, "params", "--moe", "-t", "9")
    assert "--num-attention-heads 3" in fails(capsys, "params", "-hs", "100", "-a", "3")


def test_presets_lists_every_preset_aligned(capsys):
    """`symcalc presets` prints one aligned row per preset with a 1000-based suffix."""
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines[1:] if line.split() and line.split()[0] in PRESETS}
    assert set(rows) == set(PRESETS)
    assert "6.74 B" in rows["llama-2-7b"] and "124.44 M" in rows["gpt2"]
    column = lines[0].index("family")
    assert all(line[column:].startswith(PRESETS[name].family + " ") for name, line in rows.items())


def test_presets_json(capsys):
    """`symcalc presets --json` maps each name to family, exact total and description."""
    assert main(["presets", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == list(PRESETS)
    assert data["llama-2-7b"]["total"] == 6738415616 and data["llama-2-7b"]["family"] == "llama"
    assert data["mixtral-8x7b"]["active"] < data["mixtral-8x7b"]["total"]


def test_console_entry_point_runs():
    """`python -m symcalc params --preset llama-2-7b` works as a real process."""
    out = subprocess.run([sys.executable, "-m", "symcalc", "params", "--preset", "llama-2-7b"],
                         capture_output=True, text=True, check=True).stdout
    assert "6,738,415,616" in out
