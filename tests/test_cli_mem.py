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
    """Cookbook fix: ZeRO divides by d = n/(t·p) exactly, not by n (the cookbook's /num_gpus would give 16 and 16 here)."""
    model = ("--preset", "llama-2-7b", "-tp", "2", "-pp", "2")
    z0 = run_json(capsys, *model, "--num-gpus", "4", "-z", "0")["per_device"]
    z1 = run_json(capsys, *model, "--num-gpus", "32", "-z", "1")
    assert z1["parallel"]["dp"] == 8 and z1["per_device"]["optimizer"] * 8 == z0["optimizer"]
    z3 = run_json(capsys, *model, "--num-gpus", "16", "-z", "3")["per_device"]
    assert z3["weights"] * 4 == z0["weights"] and z3["gradients"] * 4 == z0["gradients"]


def test_gradients_and_optimizer_divided_by_tp_pp_like_weights(capsys):
    """Cookbook fix: gradients (4 B) and optimizer (4 + 2·4 B) are sharded by t·p exactly as the 2-byte weights."""
    out = run_json(capsys, "--preset", "llama-2-7b", "-tp", "2", "-pp", "2", "--num-gpus", "4", "-z", "0")["per_device"]
    assert out["gradients"] == 2 * out["weights"] and out["optimizer"] == 6 * out["weights"]


def test_checkpoint_activations_is_selective_recompute(capsys):
    """-ca is Korthikanti's selective recompute: per layer 34·sbh kept vs 2·sbh (full) and 34·sbh + 5·a·s²·b (none)."""
    L, s, b, h, a = 44, 2048, 1, 6144, 64  # the cookbook's default GPT (MHA, f = 4h, LayerNorm, dropout)
    ca = run_json(capsys, "--cookbook", "-ca")["per_device"]["activations"]
    full = run_json(capsys, "--cookbook", "--recompute", "full")["per_device"]["activations"]
    none = run_json(capsys, "--cookbook")["per_device"]["activations"]
    assert ca - full == L * (34 - 2) * s * b * h
    assert none - ca == L * 5 * a * s * s * b
    pa = run_json(capsys, "--cookbook", "-ca", "-pa", "-tp", "2", "--num-gpus", "2")
    sp = run_json(capsys, "--cookbook", "--recompute", "selective", "--sequence-parallel", "-tp", "2", "--num-gpus", "2")
    assert pa["per_device"] == sp["per_device"]
    assert run_json(capsys, "-ca")["settings"]["recompute"] == "selective"


def test_inference_kv_cache_has_factor_two_and_kv_heads(capsys):
    """Cookbook fix: the KV cache counts K and V (vLLM paper's 800 KB/token for OPT-13B), the KV heads, and TP."""
    # Kwon et al. 2023 (vLLM), section 3: one token of OPT-13B (40 layers, h = 5120) takes
    # 2 (K and V) x 5120 x 40 x 2 bytes = 819,200 bytes of KV cache in fp16.
    mha = run_json(capsys, "--infer", "-l", "40", "-hs", "5120", "-a", "40", "-s", "100", "-o", "28", "-b", "3")
    assert mha["per_device"]["kv_cache"] == 819_200 * 128 * 3
    gqa = run_json(capsys, "--infer", "-l", "40", "-hs", "5120", "-a", "40", "--num-kv-heads", "10", "-s", "100",
                   "-o", "28", "-b", "3", "-tp", "2", "--num-gpus", "2")
    assert gqa["per_device"]["kv_cache"] * 8 == mha["per_device"]["kv_cache"]
    assert gqa["per_device"]["gradients"] == 0


def test_misc_and_buffers(capsys):
    """--misc-mem-gib adds GiB per device; the all-gather bucket is charged only with data parallelism."""
    out = run_json(capsys, "--misc-mem-gib", "5", "--num-gpus", "4", "-zbs", "1000")
    assert out["per_device"]["misc"] == 5 * 2**30
    assert out["per_device"]["communication"] == 2000
    assert out["per_replica"]["misc"] == 5 * 2**30


#: The tiny model every flag is varied around (8 devices, the default ZeRO 1: every part is present).
BASE = ["-l", "4", "-hs", "512", "-a", "8", "-v", "1000", "-s", "256", "--num-gpus", "8"]
STATES = {"weights", "gradients", "optimizer"}
ALL_TRAIN = STATES | {"activations"}


@pytest.mark.parametrize("ref,flags,changed", [
    ([], ["--num-gpus", "16"], {"optimizer"}),
    ([], ["-tp", "2"], ALL_TRAIN),
    ([], ["-pp", "2"], STATES),  # 1F1B keeps L layers' activations whatever p; no dropout mask today
    (["--dropout"], ["-pp", "2"], ALL_TRAIN),  # p embedding dropout masks in flight
    (["-tp", "2", "--no-sequence-parallel"], ["-pa"], {"activations"}),
    (["-tp", "2", "--no-sequence-parallel"], ["--sequence-parallel"], {"activations"}),
    (["-tp", "2"], ["--no-sequence-parallel"], {"activations"}),
    ([], ["--context-parallel-size", "2"], {"optimizer", "activations"}),
    ([], ["-z", "2"], {"gradients"}),
    ([], ["-zbs", "10"], {"communication"}),
    ([], ["--cookbook"], {"activations", "communication"}),  # eager attention, dropout, DeepSpeed's bucket (s given)
    (["-z", "3"], ["-zmlp", "10"], {"communication"}),
    ([], ["-ca"], {"activations"}),
    ([], ["--recompute", "full"], {"activations"}),
    ([], ["-b", "2"], {"activations"}),
    ([], ["-s", "512"], {"activations"}),
    ([], ["-v", "2000"], ALL_TRAIN),
    ([], ["-hs", "1024"], ALL_TRAIN),
    ([], ["-a", "4"], {"activations"}),
    ([], ["-l", "8"], ALL_TRAIN),
    ([], ["-ff", "2"], ALL_TRAIN),
    ([], ["--ffn-hidden-size", "1000"], ALL_TRAIN),
    ([], ["-nl", "3"], ALL_TRAIN),
    ([], ["-kv", "0.25"], ALL_TRAIN),
    ([], ["--num-kv-heads", "2"], ALL_TRAIN),
    ([], ["--disable-mixed-precision"], {"weights", "optimizer", "activations"}),
    (["--cookbook"], ["--disable-mixed-precision"], {"weights", "optimizer", "activations", "communication"}),
    ([], ["--high-prec-bytes-per-val", "8"], {"optimizer"}),
    ([], ["--low-prec-bytes-per-val", "1"], {"weights", "activations"}),
    (["-zbs", "10"], ["--low-prec-bytes-per-val", "1"], {"weights", "activations", "communication"}),
    ([], ["--bytes-per-grad-ele", "2"], {"gradients"}),
    ([], ["-opt", "sgd"], {"optimizer"}),
    ([], ["-opt", "adafactor"], {"optimizer"}),
    ([], ["--num-experts", "8"], ALL_TRAIN),  # top-2 (today's default): two experts' activations per token
    ([], ["--num-experts", "8", "--topk", "1"], STATES),
    # ZeRO 1 already shards expert optimizer states over d: (N/e)/(d/e) = N/d, so EP leaves them unchanged
    (["--num-experts", "8"], ["-ep", "2"], {"weights", "gradients"}),
    ([], ["--activation-profile", "hf-eager"], {"activations"}),
    ([], ["--attention", "eager"], {"activations"}),
    (["--attention", "eager"], ["--flash-attention"], {"activations"}),
    ([], ["--dropout"], {"activations"}),
    ([], ["--misc-mem-gib", "1"], {"misc"}),
    ([], ["--infer"], {"gradients", "optimizer", "activations", "kv_cache"}),
    (["-zbs", "10"], ["--infer"], None),  # refused: -zbs is training only
    (["--infer"], ["-o", "100"], {"kv_cache"}),
    (["--infer"], ["-kv", "0.25"], {"weights", "activations", "kv_cache"}),
    (["--infer"], ["-tp", "2"], {"weights", "activations", "kv_cache"}),
    (["--infer"], ["--low-prec-bytes-per-val", "1"], {"weights", "activations", "kv_cache"}),
    (["--infer"], ["--disable-mixed-precision"], {"weights", "activations", "kv_cache"}),
])
def test_every_flag_changes_what_it_should(capsys, ref, flags, changed):
    """Each cookbook flag (and each addition) is used: it changes exactly the parts it governs, and the total."""
    before = run_json(capsys, *BASE, *ref)["per_device"]
    if changed is None:
        assert main(["mem", *BASE, *ref, *flags]) == 2 and "training only" in capsys.readouterr().err
        return
    after = run_json(capsys, *BASE, *ref, *flags)["per_device"]
    assert {k for k in KEYS if before[k] != after[k]} == changed | {"total"}


def test_hf_config_equals_the_same_model_from_flags(capsys, tmp_path):
    """--hf-config reads a local config.json: a Llama config (no dropout) gives what the equivalent flags with --no-dropout give."""
    cfg = {"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
           "num_key_value_heads": 2, "intermediate_size": 176, "vocab_size": 128, "tie_word_embeddings": False}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    from_file = run_json(capsys, "--hf-config", str(path), "-s", "64")["per_device"]
    flags = run_json(capsys, "-l", "2", "-hs", "64", "-a", "4", "--num-kv-heads", "2", "--ffn-hidden-size", "176",
                     "-v", "128", "-nl", "3", "--norm", "rmsnorm", "--no-bias", "-s", "64", "--no-dropout")["per_device"]
    assert from_file == flags
    assert from_file != run_json(capsys, "-s", "64")["per_device"]


@pytest.mark.parametrize("argv,needle", [
    (["--num-gpus", "3", "-tp", "2"], "does not divide n_devices"),
    (["--num-gpus", "2", "-tp", "2", "-pp", "2"], "does not divide n_devices"),
    (["-tp", "3", "--num-gpus", "3"], "does not divide n_heads"),
    (["--preset", "llama-2-7b", "-a", "32", "--num-kv-heads", "8", "-tp", "3", "--num-gpus", "3"], "does not divide n_heads"),
    (["-a", "12", "-hs", "768", "--num-kv-heads", "4", "-tp", "3", "--num-gpus", "3"], "n_kv_heads"),
    (["-pp", "3", "--num-gpus", "3"], "does not divide n_layers"),
    (["-z", "4"], "not a ZeRO stage"),
    (["-z", "-1"], "not a ZeRO stage"),
    (["-z", "abc"], "--zero-stage"),
    (["-z", "1.5"], "--zero-stage"),
    (["--num-experts", "6", "-ep", "4", "--num-gpus", "4"], "does not divide n_experts"),
    (["--num-experts", "8", "-ep", "4", "--num-gpus", "2"], "does not divide the data-parallel degree"),
    (["-ep", "2", "--num-gpus", "2"], "dense model"),
    (["--context-parallel-size", "3", "--num-gpus", "3"], "does not divide seq_len"),
    (["-pa", "-tp", "2", "--num-gpus", "2", "-s", "2047"], "sequence parallelism"),
    (["--infer", "--context-parallel-size", "2", "--num-gpus", "2"], "for inference"),
    (["--infer", "-z", "3", "--num-gpus", "8"], "--zero-stage applies to training only"),
    (["--infer", "-ca"], "--checkpoint-activations applies to training only"),
    (["--infer", "--recompute", "full"], "--recompute applies to training only"),
    (["--infer", "-opt", "sgd"], "--optimizer applies to training only"),
    (["--infer", "-zbs", "10"], "training only"),
    (["--infer", "--bytes-per-grad-ele", "2"], "training only"),
    (["--infer", "--activation-profile", "hf-eager"], "training only"),
    (["--recompute", "none", "-ca"], "give one of them"),
    (["-b", "0"], "--batch-size-per-gpu"),
    (["-s", "abc"], "--sequence-length"),
    (["--num-gpus", "-8"], "--num-gpus"),
    (["-tp", "0"], "--tensor-parallel-size"),
    (["--misc-mem-gib", "-1"], "negative"),
    (["--misc-mem-gib", "nan"], "not a number"),
    (["-zbs", "-1"], "--zero-allgather-bucket-size"),
    (["-kv", "0.3"], "--kv-size-ratio"),
    (["-nl", "5"], "--num-mlp-linears"),
    (["--hf-config", "/nonexistent/config.json"], "no such file"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    """Bad degrees, stages, EP, CP, numbers or flag combinations: exit status 2 and a single error line, no traceback."""
    try:
        status = main(["mem", *argv])
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and "Traceback" not in err


@pytest.mark.parametrize("text", ["[]", "{}", '{"model_type": "llama"', '{"model_type": "llama", "hidden_size": "x"}'])
def test_malformed_hf_config_exits_2(capsys, tmp_path, text):
    """A config.json that is not JSON, not an object, or lacks fields: one line, exit 2."""
    path = tmp_path / "config.json"
    path.write_text(text)
    assert main(["mem", "--hf-config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert str(path) in err and "\n" not in err


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


def test_sequence_length_does_not_resize_a_presets_position_table(capsys):
    """-s is the training length: GPT-2's learned table keeps its 1024 rows (weights = 2 B × params(preset)) whatever s is."""
    short = run_json(capsys, "--preset", "gpt2", "-s", "128")["per_device"]
    assert short["weights"] == run_json(capsys, "--preset", "gpt2", "-s", "1024")["per_device"]["weights"]
    assert short["weights"] == 2 * params(Model.preset("gpt2")).total


def test_inference_weight_and_kv_cache_dtypes(capsys):
    """--weight-dtype int4 stores Llama-2-7B's linears in half a byte each, the embedding, LM head and norms in 2 bytes; fp8 KV halves the cache."""
    base = ["--preset", "llama-2-7b", "--infer", "-s", "4096", "-b", "8", "-o", "256"]
    bf16 = run_json(capsys, *base)["per_device"]
    int4 = run_json(capsys, *base, "--weight-dtype", "int4")["per_device"]
    fp8 = run_json(capsys, *base, "--kv-cache-dtype", "fp8")["per_device"]
    kept = 2 * 32000 * 4096 + 65 * 4096  # embedding, LM head, 65 RMSNorms (Llama-2-7B's published 6,738,415,616 in all)
    assert int4["weights"] == (6_738_415_616 - kept) // 2 + 2 * kept and bf16["weights"] == 2 * 6_738_415_616
    assert fp8["kv_cache"] * 2 == bf16["kv_cache"] and fp8["weights"] == bf16["weights"]


@pytest.mark.parametrize("flag", [["--weight-dtype", "int8"], ["--kv-cache-dtype", "fp8"]])
def test_inference_dtypes_refused_for_training(capsys, flag):
    """The inference dtype flags without --infer are one line on stderr and exit 2, not silently ignored."""
    assert main(["mem", "--preset", "llama-2-7b", *flag]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "inference only" in err


def test_inference_reports_no_zero_stage(capsys):
    """--infer (where -z is refused) reports no ZeRO stage: null in --json, absent from the table; training keeps it."""
    assert main(["mem", "--preset", "llama-2-7b", "--infer", "-s", "4096", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["zero_stage"] is None
    assert main(["mem", "--preset", "llama-2-7b", "--infer", "-s", "4096"]) == 0
    assert "ZeRO" not in capsys.readouterr().out.splitlines()[1]
    assert main(["mem", "--preset", "llama-2-7b", "-z", "2", "--num-gpus", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["zero_stage"] == 2


def test_dropout_comes_from_the_config(capsys):
    """Llama-2-7B's config has no dropout: hf-eager activations equal --no-dropout's (the CLI once charged +41%); --dropout adds the masks; GPT-2's config has dropout."""
    base = ["--preset", "llama-2-7b", "-s", "4096", "--activation-profile", "hf-eager"]
    default = run_json(capsys, *base)
    assert not any(default["settings"]["dropout"].values())
    assert default["per_device"] == run_json(capsys, *base, "--no-dropout")["per_device"]
    assert run_json(capsys, *base, "--dropout")["per_device"]["activations"] > default["per_device"]["activations"]
    assert all(run_json(capsys, "--preset", "gpt2", "-s", "1024")["settings"]["dropout"].values())
