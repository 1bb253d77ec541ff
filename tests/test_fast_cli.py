"""The sympy-free numeric CLI path (symcalc.cli._fast) answers exactly as the full sympy path."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from symcalc.cli import _fast, main
from symcalc.presets import PRESETS

ROOT = Path(__file__).resolve().parent.parent


def _full(argv):
    """stdout and exit status of the full (sympy) path, in-process."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(list(argv))
    return status, out.getvalue()


def _quick(argv):
    """stdout and exit status of the fast path; status None when it leaves argv to the full path."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = _fast.run(list(argv))
    return status, out.getvalue()


def _same(argv):
    fast = _quick(argv)
    assert fast[0] == 0, f"the fast path does not cover {' '.join(argv)}"
    assert fast == _full(argv), " ".join(argv)
    return fast[1]


def test_generated_code_is_current():
    """Regenerating symcalc/_generated from today's expressions gives exactly the checked-in files
    (else: python -m symcalc._fastgen --write)."""
    from symcalc._fastgen import OUT, check, file_names

    assert check() == []
    assert {p.name for p in OUT.glob("*.py")} == file_names()


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_json_equals_the_full_path(name):
    """For every preset, params/flops/mem --json (defaults, and one layout) print the full path's integers exactly."""
    for argv in (["params", "--preset", name, "--json"], ["flops", "--preset", name, "--json"],
                 ["mem", "--preset", name, "--json"], ["flops", "--preset", name, "--infer", "--json", "-s", "1000"],
                 ["mem", "--preset", name, "--json", "--num-gpus", "8", "-z", "3", "-b", "3", "-s", "1000",
                  "--recompute", "full"], ["mem", "--preset", name, "--infer", "--json", "-s", "1000", "-o", "100"]):
        if _quick(argv)[0] is None:  # a layout the model refuses: the full path answers (tested below)
            assert argv[1:3] == ["--preset", name] and "--num-gpus" in argv
            continue
        json.loads(_same(argv))


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_presets_config_json_equals_the_full_path(name, tmp_path):
    """A config.json holding a preset's fields (in a folder, or with _name_or_path) is answered as the full path answers it."""
    folder = tmp_path / "my-model"
    folder.mkdir()
    config = dict(PRESETS[name].config)
    (folder / "config.json").write_text(json.dumps(config))
    for argv in (["params", "--hf-config", str(folder), "--json"], ["mem", "--hf-config", str(folder / "config.json")],
                 ["flops", "--hf-config", str(folder), "-s", "1000", "--json"]):
        _same(argv)
    (folder / "config.json").write_text(json.dumps({**config, "_name_or_path": "org/model", "torch_dtype": "float32"}))
    _same(["mem", "--hf-config", str(folder), "--json", "-z", "3", "--num-gpus", "8"])


def test_changed_config_json_goes_to_the_full_path(tmp_path):
    """A config.json whose read fields differ from every preset's (a size, a bias, a dropout) is left to the full path."""
    base = dict(PRESETS["llama-3-8b"].config)
    for change in ({"hidden_size": 4160}, {"attention_bias": True}, {"attention_dropout": 0.1}, {"num_key_value_heads": 4},
                   {"tie_word_embeddings": True}, {"vocab_size": 128256.0}):
        (tmp_path / "config.json").write_text(json.dumps({**base, **change}))
        assert _quick(["params", "--hf-config", str(tmp_path)]) == (None, ""), change
        assert _full(["params", "--hf-config", str(tmp_path)])[0] in (0, 2)
    for text in ("not json", "[1, 2]", '{"model_type": ["llama"]}'):
        (tmp_path / "config.json").write_text(text)
        assert _quick(["params", "--hf-config", str(tmp_path)]) == (None, "")
    assert _quick(["params", "--hf-config", str(tmp_path / "absent")]) == (None, "")


@pytest.mark.parametrize("folder", sorted(p.name for p in (ROOT / "examples" / "configs").iterdir()))
def test_example_config_json_files_are_answered_fast(folder):
    """The real config.json files in examples/configs (extra fields, dropout 0.0, ...) are answered fast, as the full path."""
    for argv in (["params", "--hf-config", f"examples/configs/{folder}"],
                 ["mem", "--hf-config", f"examples/configs/{folder}/config.json", "--json", "-tp", "2", "--num-gpus", "2"]):
        _same([a.replace("examples/", str(ROOT / "examples") + "/") for a in argv])


CASES = [
    # text reports
    ["params", "--preset", "llama-2-7b"], ["params", "--preset", "mixtral-8x7b"], ["params", "--preset", "deepseek-v3"],
    ["flops", "--preset", "llama-2-7b"], ["flops", "--preset", "gemma-2-9b"], ["flops", "--preset", "gpt2", "-i"],
    ["mem", "--preset", "llama-2-7b"], ["mem", "--preset", "gemma-3-27b", "-ca"],
    # t > g (GQA with more TP than KV heads), dp = 1, pp = 1, pp > 1
    ["mem", "--preset", "llama-2-70b", "-tp", "16", "--num-gpus", "16", "--json"],
    ["mem", "--preset", "llama-3.1-405b", "-tp", "8", "-pp", "14", "--num-gpus", "896", "-z", "1", "-b", "2"],
    ["mem", "--preset", "falcon-7b", "-tp", "71", "--num-gpus", "71", "-s", "8236", "--json"],
    ["mem", "--preset", "llama-3-8b", "-pp", "4", "--num-gpus", "4", "-z", "2", "--json"],
    # MoE with expert parallelism
    ["mem", "--preset", "mixtral-8x7b", "-tp", "2", "-ep", "4", "--num-gpus", "64", "-z", "3", "--json"],
    ["mem", "--preset", "qwen3-30b-a3b", "-ep", "8", "--num-gpus", "8", "--recompute", "selective"],
    ["mem", "--preset", "gpt-oss-120b", "-ep", "4", "-tp", "2", "--num-gpus", "32", "--json"],
    # windows longer and shorter than the sequence
    ["mem", "--preset", "mistral-7b", "-s", "2048", "--json"], ["mem", "--preset", "mistral-7b", "-s", "32768", "--json"],
    ["mem", "--preset", "gemma-2-2b", "-s", "100", "--json"], ["flops", "--preset", "gemma-3-1b", "-s", "100000", "--json"],
    # MLA
    ["mem", "--preset", "deepseek-v2-lite", "-tp", "2", "--num-gpus", "8", "-ep", "2", "--json"],
    ["flops", "--preset", "kimi-k2", "--tokens", "1000", "-s", "3", "-b", "7", "--json"],
    # fractions: tokens not a multiple of s; cookbook flags
    ["flops", "--preset", "llama-2-7b", "--tokens", "1001", "-s", "7", "-b", "3"],
    ["flops", "--preset", "llama-2-7b", "--tokens=1001", "--sequence-length=7", "-i", "--json"],
    ["flops", "--preset", "llama-2-7b", "-ca", "--json"], ["flops", "--preset", "llama-2-7b", "--recompute", "full"],
    ["mem", "--preset", "llama-2-7b", "-ca", "--recompute", "selective", "--json"],
    ["mem", "--preset", "pythia-12b", "-tp", "4", "--num-gpus", "64", "-z", "0", "-s", "2048", "-b", "16"],
    ["mem", "--preset", "llama-2-7b", "-tp", "2", "-pp", "4", "--json"],  # without --num-gpus: tp*pp devices
    # inference memory
    ["mem", "--preset", "llama-2-7b", "--infer"], ["mem", "--preset", "llama-3-70b", "--infer", "-tp", "4", "-o", "256",
                                                 "-s", "2048", "-b", "8", "--json"],
    ["mem", "--preset", "deepseek-v2-lite", "--infer", "-tp", "2", "-ep", "2", "--num-gpus", "4", "-s", "32k"],
    ["mem", "--preset", "gemma-2-9b", "--infer", "-s", "100", "-o", "5000", "--json"],
    ["mem", "--infer", "-l", "4", "-hs", "256", "-a", "4", "--num-kv-heads", "1", "-tp", "2", "--json"],
    # sequence lengths as model cards write them (k = 1024)
    ["mem", "--preset", "llama-3-8b", "-s", "4k"], ["mem", "--preset", "llama-3-8b", "-s", "1.5K", "--json"],
    ["flops", "--preset", "llama-3.1-8b", "-s", "128k"], ["flops", "--preset", "gemma-3-1b", "-s", "1M", "--json"],
    # precision flags
    ["mem", "--preset", "llama-2-7b", "--low-prec-bytes-per-val", "1", "--bytes-per-grad-ele", "2", "--json"],
    ["mem", "--preset", "mixtral-8x7b", "--high-prec-bytes-per-val", "8", "-z", "3", "--num-gpus", "8", "-ep", "2"],
    ["mem", "-l", "4", "-hs", "256", "-a", "4", "--low-prec-bytes-per-val", "4", "--high-prec-bytes-per-val", "4",
     "--bytes-per-grad-ele", "4", "-tp", "2", "--json"],
    # flag-built models (the cookbook's flags), defaults included
    ["params"], ["flops"], ["mem"], ["params", "-l", "32", "-hs", "4096", "-a", "32", "-v", "32000", "--swiglu"],
    ["mem", "-l", "32", "-hs", "4096", "-a", "32", "-s", "4096", "-v", "32000", "--swiglu"],
    ["mem", "-l", "80", "-hs", "8192", "-a", "64", "--num-kv-heads", "8", "--ffn-hidden-size", "28672", "-nl", "3",
     "-tp", "16", "--num-gpus", "128", "-pp", "4", "-z", "1", "--json"],
    ["flops", "-l", "96", "-hs", "12288", "-a", "96", "--tokens", "300000000000", "-s", "2048"],
]


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(a) for a in CASES])
def test_flag_combinations_equal_the_full_path(argv):
    """Text and JSON of covered flag combinations (t > g, dp = 1, pp = 1, MoE with EP, windows, MLA) equal the full path's."""
    _same(argv)


def test_random_layouts_answer_as_the_full_path_or_fall_back():
    """On random layouts (valid or not) of dense, GQA, MQA, MoE, MLA and windowed presets, the fast path prints exactly
    the full path's answer, or nothing when it falls back (the full path then answers or refuses)."""
    import random

    rng = random.Random(14)
    names = ["llama-2-70b", "falcon-7b", "mixtral-8x7b", "deepseek-v2-lite", "gemma-2-9b", "gpt2", "qwen3-30b-a3b"]
    covered = 0
    for _ in range(90):
        infer = rng.random() < 0.3
        argv = ["mem", "--preset", rng.choice(names), "--json"] + (["--infer"] if infer else [])
        flags = [("-tp", [1, 2, 3, 4, 8, 16, 32]), ("-pp", [1, 2, 3, 4, 6, 8]), ("-ep", [1, 2, 4, 8, 16]),
                 ("--num-gpus", [1, 8, 12, 64, 96, 512]), ("-b", [1, 2, 5]), ("-s", [100, 1000, 4096, 8191])]
        flags += [("-o", [1, 300])] if infer else [
            ("-z", [0, 1, 2, 3]), ("--low-prec-bytes-per-val", [1, 2, 4]), ("--bytes-per-grad-ele", [2, 4]),
            ("--high-prec-bytes-per-val", [4, 8])]
        for flag, values in flags:
            if rng.random() < 0.5:
                argv += [flag, str(rng.choice(values))]
        fast = _quick(argv)
        if fast[0] is None:
            assert fast[1] == ""
            continue
        covered += 1
        assert fast == _full(argv), " ".join(argv)
    assert covered >= 10


def test_random_flag_built_models_answer_as_the_full_path_or_fall_back():
    """Models built from size flags (plain, SwiGLU, -nl 3; MHA, GQA, MQA; t > g) with random layouts: the fast path
    prints exactly the full path's answer for params, flops and mem, or nothing when it falls back."""
    import random

    rng = random.Random(1414)
    covered = 0
    for k in range(45):
        a = rng.choice([1, 2, 4, 6, 8, 12, 32])
        argv = [("params", "flops", "mem")[k % 3], "-a", str(a), "-hs", str(a * rng.choice([8, 16, 20, 64])),
                "-l", str(rng.choice([1, 2, 3, 4, 12])), "--num-kv-heads", str(rng.choice([1, 2, a, 3])), "--json"]
        argv += rng.choice([[], ["--swiglu"], ["-nl", "3"], ["-nl", "2"], ["--ffn-hidden-size", "100"]])
        if rng.random() < 0.5:
            argv += ["-v", str(rng.choice([1000, 50257, 32000]))]
        if argv[0] == "mem":
            argv += ["--num-gpus", str(rng.choice([1, 2, 4, 8])), "-tp", str(rng.choice([1, 2, 4])),
                     "-z", str(rng.randint(0, 3)), "-s", str(rng.choice([64, 100, 2048]))]
        elif argv[0] == "flops":
            argv += ["-s", str(rng.choice([64, 100, 2048])), "--tokens", str(rng.choice([1000, 10**12 + 1]))]
        fast = _quick(argv)
        if fast[0] is None:
            assert fast[1] == ""
            continue
        covered += 1
        assert fast == _full(argv), " ".join(argv)
    assert covered >= 15


OUTSIDE = [
    ["mem", "--preset", "llama-2-7b", "-s", "1.0001k"],                 # refused: not a whole number of tokens
    ["mem", "--preset", "llama-2-7b", "-s", "0k"], ["mem", "--preset", "llama-2-7b", "-s", "4 k"],
    ["mem", "--preset", "llama-2-7b", "-s", "2e3"], ["mem", "--preset", "llama-2-7b", "-b", "4k"],
    ["mem", "--preset", "llama-2-7b", "--cookbook"],                     # other defaults
    ["mem", "--preset", "llama-2-7b", "-tp", "1,2"],                     # comparisons
    ["mem", "--preset", "llama-2-7b", "--infer", "-z", "1"],             # refused: a training flag with --infer
    ["mem", "--preset", "llama-2-7b", "-o", "10"],                       # refused: -o is for --infer
    ["mem", "--preset", "llama-2-7b", "--infer", "--low-prec-bytes-per-val", "1"],  # inference precision
    ["mem", "--preset", "llama-2-7b", "--infer", "--kv-cache-dtype", "fp8"],
    ["mem", "--preset", "llama-2-7b", "--disable-mixed-precision"],      # precision without a master copy
    ["mem", "--preset", "llama-2-7b", "--plot", "x.png"],
    ["mem", "--preset", "llama-2-7b", "--lora-rank", "8"],               # fine-tuning
    ["mem", "--preset", "llama-2-7b", "-z", "1", "-z", "2"],             # a flag twice
    ["mem", "--preset", "llama-2-7b", "-tp", "3", "--num-gpus", "3"],    # refused by the model
    ["mem", "--preset", "llama-2-7b", "-tp", "3", "--num-gpus", "8"],    # refused: tp*pp does not divide the devices
    ["mem", "--preset", "llama-2-7b", "-tp", "2", "--num-gpus", "2", "-s", "1001"],  # refused: SP needs t | s
    ["mem", "--preset", "llama-2-7b", "-b", "1000000000000000000000"],   # past the flags' 1e18
    ["mem", "--preset", "llama-2-7b", "-ep", "2", "--num-gpus", "2"],    # refused: EP on a dense model
    ["mem", "--preset", "llama-2-7b", "-ca", "--recompute", "full"],     # refused: -ca contradicts --recompute
    ["flops", "--preset", "llama-2-7b", "--infer", "--recompute", "full"],
    ["flops", "--preset", "llama-2-7b", "--causal"],
    ["params", "--preset", "no-such-model"], ["params", "--help"],
    ["params", "-l", "2", "-hs", "64", "-ff", "3.5"], ["params", "-l", "2", "--no-bias"], ["params", "--norm", "rmsnorm"],
    ["params", "-l", "2", "-hs", "100", "-a", "3"],                      # refused: a does not divide h
    ["params", "--swiglu", "-nl", "2"],                                  # refused: SwiGLU has 3 linears
    ["params", "--preset", "llama-2-7b", "-l", "40"],                    # flags over a preset's fields
    ["params", "--preset", "llama-2-7b", "--hf-config", "examples/configs/llama-3-8b"],
    ["params", "--hf-config", "examples/configs/llama-3-8b", "--mtp"],
    ["latex", "params", "--preset", "llama-2-7b", "-l", "40"], ["params", "--preset", "llama-2-7b", "--mtp"],
]


@pytest.mark.parametrize("argv", OUTSIDE, ids=[" ".join(a) for a in OUTSIDE])
def test_uncovered_input_goes_to_the_full_path(argv):
    """Anything outside the covered set (or refused by the model) prints nothing on the fast path and returns None."""
    assert _quick(argv) == (None, "")


def _process(args, **env):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env}, timeout=300)


def test_fast_path_process_never_imports_sympy():
    """`symcalc params|flops|mem --preset` as a process answers with 'sympy' not in sys.modules, as the full path does."""
    code = ("import sys; from symcalc.cli import main; sys.argv = ['symcalc'] + sys.argv[1:]; status = main(); "
            "assert 'sympy' not in sys.modules, 'sympy imported'; sys.exit(status)")
    for argv in (["params", "--preset", "llama-2-7b"], ["flops", "--preset", "mixtral-8x7b", "--json"],
                 ["mem", "--hf-config", "examples/configs/llama-3-8b/config.json", "-tp", "2", "--num-gpus", "8"],
                 ["mem", "--preset", "llama-2-70b", "-tp", "8", "--num-gpus", "64", "-z", "1", "--json"]):
        fast = _process(["-c", code, *argv])
        assert fast.returncode == 0, fast.stderr
        full = _process(["-m", "symcalc", *argv], SYMCALC_FULL_PATH="1")
        assert fast.stdout == full.stdout and full.returncode == 0


def test_closed_pipe_is_quiet():
    """`symcalc mem --preset ... --json` into a pipe closed early exits 0 with nothing on stderr, as the full path."""
    for env in ({}, {"SYMCALC_FULL_PATH": "1"}):
        proc = subprocess.Popen([sys.executable, "-m", "symcalc", "mem", "--preset", "llama-2-7b", "--json"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": str(ROOT), **env})
        proc.stdout.close()
        assert proc.stderr.read() == b"" and proc.wait(timeout=300) == 0


def test_refused_layout_gets_the_full_paths_error():
    """A layout the model refuses (tp 3 for 32 heads) falls back: the process prints the full path's one-line error, exit 2."""
    got = _process(["-m", "symcalc", "mem", "--preset", "llama-2-7b", "-tp", "3", "--num-gpus", "3"])
    assert got.returncode == 2 and got.stdout == "" and "does not divide n_heads=32" in got.stderr
