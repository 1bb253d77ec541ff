"""`symcalc solve tokens|layers|hidden-size` on the sympy-free path answer exactly as the full sympy path."""

from __future__ import annotations

import random

import pytest

from test_fast_cli import _full, _quick
from test_fast_cli_other import _process
from test_fast_solve import test_fast_path_process_never_imports_sympy as _never_imports_sympy

#: Dense, GQA, MoE (6N counts every expert), learned positions, sliding windows, MLA.
PRESETS = ["llama-2-7b", "llama-3-70b", "mixtral-8x7b", "qwen3-30b-a3b", "gpt2", "opt-1.3b", "gemma-2-2b",
           "deepseek-v3", "mistral-7b", "falcon-7b"]


def _same(argv, status=0):
    fast = _quick(argv)
    assert fast[0] == status, f"the fast path does not cover {' '.join(argv)}"
    assert fast == _full(argv), " ".join(argv)


def _covered(lines) -> tuple:
    """``(answered, asked)`` over the argv lists ``lines``: each the fast path answers is the full path's bytes, each
    it leaves printed nothing."""
    covered = total = 0
    for argv in lines:
        fast = _quick(argv)
        total += 1
        if fast[0] is None:
            assert fast[1] == "", " ".join(argv)
            continue
        covered += 1
        assert fast == _full(argv), " ".join(argv)
    return covered, total


@pytest.mark.parametrize("name", PRESETS)
def test_tokens_presets_budgets_equal_the_full_path(name):
    """solve tokens over presets, 6N and exact FLOPs at several sequence lengths, text and --json: the full path's bytes."""
    rng = random.Random(name)
    for budget in ("1e24", "5.76e23", "3e21", "1E22", "1.e20"):
        seq = rng.choice([[], ["-s", "4096"], ["-s", "8k"], ["--sequence-length=1024"]])
        _same(["solve", "tokens", "--preset", name, "--budget", budget, *seq, *rng.choice([[], ["--json"]])])


NOTHING = ["tokens --preset llama-2-7b --budget 10", "tokens --preset llama-2-7b --budget 10 --json",
           "tokens --preset llama-2-7b --compute 0", "tokens --preset gpt2 --budget 1e6 -s 1024 --json",
           "tokens --preset mixtral-8x7b --budget 0.0 -s 4096",
           "layers --preset llama-2-7b --budget 0", "layers --preset llama-2-7b --budget 1e6 --json",
           "hidden-size --preset llama-2-7b --budget 0", "hidden-size --preset mixtral-8x7b --budget 1e6 --json",
           "hidden-size --preset llama-2-7b --budget 1e9 --aspect-ratio 7 --multiple-of 4096"]


@pytest.mark.parametrize("line", NOTHING)
def test_nothing_fits_equals_the_full_path(line):
    """A compute budget below one token's FLOPs, a parameter budget below the smallest allowed size: the full path's
    shortfall (text and --json), exit 1."""
    _same(["solve", *line.split()], status=1)


#: Bad values, other flags, counts the generator found no increasing polynomial for.
OUTSIDE = ["tokens --preset llama-2-7b --budget -1", "tokens --preset llama-2-7b --budget 1e31",
           "tokens --preset llama-2-7b --budget 7B", "tokens --preset llama-2-7b --budget abc",
           "tokens --preset llama-2-7b", "tokens --preset llama-2-7b --budget 1e24 -s 0",
           "tokens --preset no-such-model --budget 1e24", "tokens --preset llama-2-7b --budget 1e24 -l 3",
           "tokens --preset llama-2-7b --budget 1e24 --budget 1e24", "tokens --preset llama-2-7b --budget 3/2",
           "tokens --preset llama-2-7b --budget 2.5e-1", "tokens --preset llama-2-7b --budget 1e24 --bogus",
           "tokens --preset llama-2-7b --budget 1e24 --hf-config examples/configs/llama-3-8b",
           "layers --preset llama-2-7b --budget -1", "layers --preset llama-2-7b --budget 7.5",
           "layers --preset llama-2-7b --budget 7e9 --multiple-of 0", "layers --preset llama-2-7b --budget 7e9 -l 3",
           "hidden-size --preset llama-2-7b --budget 7e9 --aspect-ratio 0",
           "hidden-size --preset llama-2-7b --budget 7e9 -hs 4096",
           "hidden-size --preset deepseek-v3 --budget 7B --fixed-head-dim 128",  # MLA: the full path's error
           "hidden-size --preset llama-2-7b --budget 7B --multiple-of 128 --multiple-of 64",
           "hidden-size --preset llama-2-7b", "layers --preset no-such-model --budget 7B",
           "layers --preset llama-4-maverick --budget 7B",        # floor(L/2): no polynomial in L
           # training or device flags beside a parameter budget: the full path's error
           "hidden-size --preset llama-2-7b --budget 7B --hardware h100", "layers --preset llama-2-7b --budget 7B -z 3",
           "hidden-size --preset llama-2-7b --budget 7B --dtype fp8", "layers --preset llama-2-7b --budget 7B --infer",
           "hidden-size --preset opt-350m --budget 1e9",          # a Piecewise in h
           "hidden-size --preset glm-4.5-air --budget 1e10 --aspect-ratio 128",  # not increasing in h
           "hidden-size -l 32 -hs 4096 -a 32 --num-kv-heads 5 --budget 7B", "hidden-size -l 32 -a 32 -kv 2 --budget 7B",
           "hidden-size -l 32 -a 32 --head-dim 64 --budget 7B", "layers --preset llama-2-7b -l 32 --budget 7B",
           "hidden-size --preset llama-2-7b --budget 7B --plot x.png"]


@pytest.mark.parametrize("line", OUTSIDE)
def test_uncovered_or_bad_input_goes_to_the_full_path(line):
    """Bad values, fractional budgets, size flags over a preset, unknown flags and presets whose count is no
    increasing polynomial print nothing on the fast path; the full path then answers or gives its error, exit 2."""
    argv = ["solve", *line.split()]
    assert _quick(argv) == (None, "")
    try:
        status = _full(argv)[0]
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    assert status in (0, 1, 2)


@pytest.mark.parametrize("question", ["tokens", "layers", "hidden-size"])
def test_bad_budget_is_the_full_paths_one_line_error(question):
    """A negative budget, as a process: the full path's one-line error, exit 2."""
    out = _process(["-m", "symcalc", "solve", question, "--preset", "llama-2-7b", "--budget", "-1"])
    assert out.returncode == 2 and out.stdout == "" and len(out.stderr.strip().splitlines()) == 1


def test_tokens_from_hf_config_equals_the_full_path():
    """A config.json holding a preset's model answers as the full path (its name in nothing printed here)."""
    _same(["solve", "tokens", "--hf-config", "examples/configs/llama-3-8b", "--budget", "1e23", "-s", "4096"])


def test_sizes_every_preset_equals_the_full_path():
    """solve layers and hidden-size (parameter budgets) on every preset, with --multiple-of, --aspect-ratio and
    --json at budgets from nothing fitting to 1T: the full path's bytes wherever the fast path answers, and it
    answers all but the few presets whose count is no polynomial (or not increasing) in the unknown."""
    from symcalc.presets import PRESETS

    rng = random.Random(16)
    lines = []
    for name in PRESETS:
        for question in ("layers", "hidden-size"):
            argv = ["solve", question, "--preset", name, "--budget", rng.choice(["7B", "1e10", "70b", "1e9", "1T", "1e6"])]
            argv += rng.choice([[], ["--multiple-of", "4"], ["--multiple-of", "128"], ["--json"]])
            if question == "hidden-size" and rng.random() < 0.4:
                argv += ["--aspect-ratio", rng.choice(["128", "100", "64", "7"])]
            lines.append(argv)
    covered, total = _covered(lines)
    assert covered >= total - 8


def test_flag_built_models_equal_the_full_path():
    """tokens, layers and hidden-size for models built from the size flags (MHA, GQA, an own f, SwiGLU, -nl 3, a
    vocabulary, aspect ratios, nothing fitting): the full path's text and --json."""
    rng = random.Random(3)
    covered = 0
    for _ in range(30):
        question = rng.choice(["layers", "hidden-size", "tokens"])
        a = rng.choice([8, 12, 32, 40, 64])
        h = a * rng.choice([64, 96, 100, 128])
        flags = ["-l", str(rng.choice([12, 32, 80])), "-hs", str(h), "-a", str(a)]
        flags += rng.choice([[], ["--num-kv-heads", str(a // 4)], ["--ffn-hidden-size", str(rng.choice([3 * h, 11008]))],
                             ["--swiglu"], ["-nl", "3"], ["-v", "32000"]])
        if question == "tokens":
            argv = [question, *flags, "--budget", rng.choice(["1e24", "1e21", "10"]), *rng.choice([[], ["-s", "4096"]])]
        else:
            argv = [question, *flags, "--budget", rng.choice(["7B", "70B", "1e9", "1e6"]),
                    *rng.choice([[], ["--multiple-of", "128"], ["--json"]])]
            if question == "hidden-size" and rng.random() < 0.4:
                argv += ["--aspect-ratio", rng.choice(["128", "64", "100"])]
        fast = _quick(["solve", *argv])
        assert fast[0] in (0, 1), " ".join(argv)
        assert fast == _full(["solve", *argv]), " ".join(argv)
        covered += 1
    assert covered == 30


def test_fixed_head_dim_equals_the_full_path():
    """hidden-size --fixed-head-dim (heads h/d, KV heads in proportion) on every preset and on flag-built models, with
    --multiple-of, --aspect-ratio and --json: the full path's bytes wherever the fast path answers (all but MLA and
    the presets whose count is no polynomial)."""
    from symcalc.presets import PRESETS

    rng = random.Random(7)
    lines = [["--preset", name] for name in PRESETS]
    for _ in range(12):
        a = rng.choice([8, 16, 32, 64])
        lines.append(["-l", str(rng.choice([12, 32])), "-hs", str(a * rng.choice([64, 96, 128])), "-a", str(a),
                      *rng.choice([[], ["--num-kv-heads", str(a // 4)], ["--swiglu"], ["-nl", "3"]])])
    covered, total = _covered([["solve", "hidden-size", *model, "--budget", rng.choice(["7B", "70B", "1e9", "1e6"]),
                                "--fixed-head-dim", rng.choice(["64", "128", "96"]),
                                *rng.choice([[], ["--multiple-of", "128"], ["--aspect-ratio", "128"], ["--json"]])]
                               for model in lines])
    assert covered >= total - 8


SIZES = [
    "hidden-size -l 32 -a 32 --budget 7B --multiple-of 128",          # the --help example: the default sizes
    "layers --budget 7B", "tokens --budget 1e24 -s 2048",              # no source: symcalc mem's default model
    "layers --preset llama-2-7b --budget 7B", "layers --preset llama-2-7b --budget 10B --multiple-of 4 --json",
    "layers --preset deepseek-v3 --budget 671B --json",               # MoE after dense layers: A < 0
    "layers --preset mixtral-8x7b --budget 47B", "layers --preset gpt2 --budget 1e9 --multiple-of 12",
    "layers --preset llama-2-7b --budget 6940798976",                 # met to the parameter (32 layers)
    "layers --preset llama-2-7b --budget 6940798975 --json",          # one short: 31
    "layers --hf-config examples/configs/llama-3-8b --budget 8B",
    "hidden-size --preset llama-2-7b --budget 7B --multiple-of 128",
    "hidden-size --preset llama-2-7b --budget 6738415616 --multiple-of 128",       # met to the parameter
    "hidden-size --preset llama-2-7b --budget 6738415615 --multiple-of 128 --json",
    "hidden-size --preset llama-3-70b --budget 70B --json",           # GQA
    "hidden-size --preset mixtral-8x7b --budget 47B",                 # MoE: the experts keep f/h
    "hidden-size --preset deepseek-v3 --budget 671B --json",          # MLA: head sizes fixed
    "hidden-size --preset gemma-7b --budget 8.5B",                    # d_head != h/a
    "hidden-size --preset gpt2 --budget 1.5B --aspect-ratio 64 --multiple-of 64",
    "hidden-size --preset llama-2-7b --budget 1e30 --aspect-ratio 128",
    "hidden-size --hf-config examples/configs/llama-3-8b --budget 8B --multiple-of 256",
    "hidden-size --preset llama-2-7b --budget=7e9 --multiple-of=64",
]


@pytest.mark.parametrize("line", SIZES)
def test_sizes_flag_combinations_equal_the_full_path(line):
    """solve layers / hidden-size: GQA, MoE, MLA, dense-then-MoE layers, d_head != h/a, aspect ratios, budgets met
    to the parameter and one short, --hf-config: the full path's text and --json."""
    _same(["solve", *line.split()])


MEMORY_MODELS = {"llama-2-7b": [], "llama-2-70b": ["-tp", "16"], "mixtral-8x7b": ["-ep", "8"],
                 "qwen3-30b-a3b": ["-ep", "4"], "gpt2": [], "gemma-2-2b": [], "deepseek-v3": ["-ep", "8"]}


@pytest.mark.parametrize("question", ["layers", "hidden-size"])
def test_memory_budget_presets_layouts_policies_equal_the_full_path(question):
    """layers / hidden-size with a memory budget over dense, GQA with t > g, MoE with EP, MLA, learned-position and
    windowed presets, ZeRO stages, policies, dp = 1, pp > 1, aspect ratios: the full path's text and --json wherever
    the fast path answers, and it answers most."""
    rng = random.Random(question)
    lines = []
    for name, extra in MEMORY_MODELS.items():
        for _ in range(4):
            argv = ["solve", question, "--preset", name, "--memory-budget", rng.choice(["80GiB", "141GB", "24GiB", "1e12"]),
                    "-z", rng.choice("0123"), "--recompute", rng.choice(["none", "selective", "full"]), *extra,
                    "--num-gpus", "64", *rng.choice([[], ["-pp", "2"], ["-s", "2048", "-b", "2"], ["--json"]])]
            if question == "hidden-size":
                argv += rng.choice([[], ["--multiple-of", "128"], ["--aspect-ratio", "128"]])
            lines.append(argv)
    covered, total = _covered(lines)
    assert covered >= total * 2 // 3


def test_memory_budget_every_preset_equals_the_full_path():
    """layers or hidden-size with a memory budget on every preset (the presets of one structure share its generated
    module: their sizes, the sizes scaled with h, d_h != h/a, t > g, EP, ZeRO stages, policies, aspect ratios): the
    full path's text and --json wherever the fast path answers, and it answers all but the few presets whose memory
    is no polynomial (or not increasing) in the unknown."""
    from symcalc.presets import PRESETS as ALL

    rng = random.Random(29)
    lines = []
    for name in ALL:
        question = rng.choice(["layers", "hidden-size"])
        argv = ["solve", question, "--preset", name, "--memory-budget", rng.choice(["80GiB", "141GB", "24GiB", "1e12"]),
                "-z", rng.choice("0123"), "--recompute", rng.choice(["none", "selective", "full"]), "--num-gpus", "64",
                *rng.choice([[], ["-tp", "2"], ["-tp", "16"], ["-pp", "2"], ["-ep", "8"], ["-s", "2048", "-b", "2"],
                             ["--json"]])]
        if question == "hidden-size":
            argv += rng.choice([[], ["--multiple-of", "128"], ["--aspect-ratio", "128"]])
        lines.append(argv)
    covered, total = _covered(lines)
    assert covered >= total - 12


def test_memory_structures_at_each_presets_sizes_equal_its_memory():
    """Every preset's structure module (shared by the presets of one structure, the sizes arguments), at the preset's
    own sizes, gives exactly the training memory of the preset's own mem_<policy> (generated from the preset's
    model, compared with the full path in test_fast_cli) over ZeRO stages, t > g, pp > 1, dp = 1, EP and precisions."""
    import importlib

    from symcalc._generated import MODULES
    from symcalc._generated.solve import MODELS
    from symcalc.presets import PRESETS as ALL

    rng = random.Random(17)
    for name in ALL:
        entry = MODELS[name]["memory"]
        structure = importlib.import_module(f"symcalc._generated.{entry['module']}")
        own = importlib.import_module(f"symcalc._generated.{MODULES[name]}")
        for policy in ("none", "selective", "full"):
            for _ in range(6):
                layout = (rng.choice([1, 2, 4, 16]), rng.choice([1, 2, 4]), rng.choice([1, 8, 64]),
                          rng.choice([1, 2, 8]), rng.choice([1, 2, 3]), rng.choice([512, 2048, 8192]),
                          rng.choice([0, 1, 2, 3]), rng.choice([1, 2]), rng.choice([2, 4]), rng.choice([4, 8]))
                parts = getattr(own, f"mem_{policy}")(*layout)
                assert getattr(structure, f"memory_{policy}")(*entry["sizes"], *layout) == (sum(parts),), (name, layout)


MEMORY = [
    "layers --preset llama-2-7b --memory-budget 80GB -s 4096 -b 1 --num-gpus 8 -z 1 --recompute full",
    "layers --preset llama-2-7b --memory-budget 80GiB --json",                        # dp = 1, pp = 1
    "layers --preset llama-2-7b --memory-budget 80GiB -pp 4 --num-gpus 8 -z 3",        # L a multiple of pp
    "layers --preset llama-2-70b --memory-budget 80GiB -tp 16 --num-gpus 64 -z 1",     # t > g
    "hidden-size --preset llama-2-70b --memory-budget 80GiB -tp 16 --num-gpus 64",      # t > g: KV heads replicated
    "layers --preset mixtral-8x7b --memory-budget 80GiB -ep 8 --num-gpus 64 -z 3 --json",
    "layers --preset llama-2-7b --hardware h100 -z 2 --num-gpus 8 --json",
    "layers --preset llama-2-7b --memory-budget 80GiB --multiple-of 8 -ca",
    "hidden-size --preset llama-2-7b --memory-budget 80GB -s 2048 -b 1 --num-gpus 8 -z 3 --recompute full "
    "--multiple-of 128",
    "hidden-size --preset llama-2-7b --memory-budget 80GiB --json",
    "hidden-size --preset llama-2-7b --memory-budget 80GiB --aspect-ratio 128 -z 3 --num-gpus 64",
    "hidden-size --preset llama-2-7b --memory-budget 80GiB -tp 8 --num-gpus 8",
    "hidden-size --preset mixtral-8x7b --memory-budget 80GiB -ep 8 --num-gpus 64 -z 3 --json",
    "hidden-size --preset llama-2-7b --hardware h100 -z 2 --num-gpus 8",
    "hidden-size --hf-config examples/configs/llama-3-8b --memory-budget 80GiB -z 3 --num-gpus 8",
]


@pytest.mark.parametrize("line", MEMORY)
def test_memory_budget_flag_combinations_equal_the_full_path(line):
    """layers / hidden-size with a memory budget (or --hardware): dp = 1, pp > 1, t > g, MoE with EP, -ca,
    --multiple-of, --aspect-ratio, --hf-config: the full path's text and --json."""
    _same(["solve", *line.split()])


def test_memory_budget_flag_built_models_equal_the_full_path():
    """layers / hidden-size with a memory budget for models built from the size flags (MHA, GQA, an own f, SwiGLU,
    -nl 3, ZeRO stages, policies, TP, PP, aspect ratios, nothing fitting): the full path's text and --json."""
    rng = random.Random(5)
    for _ in range(16):
        question = rng.choice(["layers", "hidden-size"])
        a = rng.choice([8, 16, 32, 64])
        h = a * rng.choice([64, 96, 128])
        argv = [question, "-l", str(rng.choice([12, 32, 80])), "-hs", str(h), "-a", str(a),
                *rng.choice([[], ["--num-kv-heads", str(a // 4)], ["--ffn-hidden-size", str(rng.choice([3 * h, 11008]))],
                             ["--swiglu"], ["-nl", "3"]]),
                "--memory-budget", rng.choice(["80GiB", "24GiB", "1GiB"]), "-z", rng.choice("0123"),
                "--recompute", rng.choice(["none", "selective", "full"]), "--num-gpus", "8",
                *rng.choice([[], ["-tp", "2"], ["-pp", "2"], ["-s", "4096", "-b", "2"], ["--json"]])]
        if question == "hidden-size":
            argv += rng.choice([[], ["--multiple-of", "128"], ["--aspect-ratio", "128"]])
        fast = _quick(["solve", *argv])
        assert fast[0] in (0, 1), " ".join(argv)
        assert fast == _full(["solve", *argv]), " ".join(argv)


MEMORY_NOTHING = ["layers --preset llama-2-7b --memory-budget 1GiB", "layers --preset llama-2-7b --memory-budget 1GiB --json",
                  "hidden-size --preset llama-2-7b --memory-budget 1GiB",
                  "hidden-size --preset mixtral-8x7b --memory-budget 1GiB -ep 8 --num-gpus 64 --json"]


@pytest.mark.parametrize("line", MEMORY_NOTHING)
def test_memory_budget_nothing_fits_equals_the_full_path(line):
    """A memory budget below the smallest allowed model: the full path's shortfall (text and --json), exit 1."""
    _same(["solve", *line.split()], status=1)


MEMORY_OUTSIDE = ["layers --preset llama-2-7b --memory-budget -1", "layers --preset llama-2-7b --memory-budget 80GIB",
                  "layers --preset llama-2-7b --memory-budget 80GiB --budget 7B",
                  "layers --preset llama-2-7b --memory-budget 80GiB --infer",
                  "hidden-size --preset llama-2-7b --memory-budget 80GiB --fixed-head-dim 128",
                  "layers --preset llama-2-7b --memory-budget 80GiB -tp 3",                     # refused layout
                  "hidden-size -l 32 -hs 4096 -a 32 --num-kv-heads 8 --memory-budget 80GiB -tp 16 --num-gpus 16",
                  "layers --preset llama-2-7b --budget 7B -z 3",                                  # mem flags, params
                  "layers --preset llama-2-7b --hardware no-such-gpu --budget 7B"]


@pytest.mark.parametrize("line", MEMORY_OUTSIDE)
def test_memory_budget_uncovered_input_goes_to_the_full_path(line):
    """Bad memory budgets, both budgets, --infer, --fixed-head-dim, t > g for a flag-built hidden-size and
    refused layouts print nothing on the fast path; the full path answers or gives its error."""
    test_uncovered_or_bad_input_goes_to_the_full_path(line)


PROCESSES = ["tokens --preset llama-2-7b --budget 1e24",
             "tokens --preset mixtral-8x7b --budget 1e24 -s 4096 --json",
             "layers --preset llama-2-7b --budget 10B",
             "hidden-size --preset llama-3-8b --budget 7B --multiple-of 128",
             "hidden-size -l 32 -a 32 --budget 7B --multiple-of 128",
             "layers --preset llama-2-7b --memory-budget 80GiB -z 3 --num-gpus 8",
             "hidden-size --preset llama-2-7b --hardware h100 -z 3 --num-gpus 8 --recompute full --json",
             "hidden-size -l 32 -a 32 --memory-budget 80GiB -z 3 --num-gpus 8",
             "hidden-size --preset mixtral-8x7b --budget 47B --aspect-ratio 128 --json"]


@pytest.mark.parametrize("line", PROCESSES)
def test_fast_path_process_never_imports_sympy(line):
    """As a process, each question answers with 'sympy' never imported, and prints what the full path prints."""
    _never_imports_sympy(line)
