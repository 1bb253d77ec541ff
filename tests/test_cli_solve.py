"""``symcalc solve``: every question answers in JSON, and ``symcalc mem`` confirms the answer is the edge.

Truth for the memory questions is ``symcalc mem --json`` run with the answer (and its neighbour)
put back into the flag of the unknown: it fits at the answer and not one allowed step beyond.
"""

from __future__ import annotations

import json

import pytest

from symcalc.cli import main
from symcalc.cli.solve import QUESTIONS

LLAMA = ["--preset", "llama-2-7b", "-s", "4096", "--recompute", "full"]
GIB = 2**30


def run_json(capsys, argv):
    """(exit status, the JSON object printed)."""
    status = main(argv)
    return status, json.loads(capsys.readouterr().out)


def mem_total(capsys, argv):
    """``symcalc mem --json``'s total bytes per device."""
    status, out = run_json(capsys, ["mem", *argv, "--json"])
    assert status == 0
    return out["per_device"]["total"]


# question, extra flags, budget in GiB, the unknown's flag, how to step to the neighbour that must not fit
CASES = [
    ("micro-batch", ["--num-gpus", "8", "-z", "3"], 80, "-b", lambda v: v + 1),
    ("seq-len", ["--num-gpus", "8", "-z", "3", "-b", "2"], 40, "-s", lambda v: v + 1),
    ("tp", ["--num-gpus", "8", "-z", "1"], 30, "-tp", lambda v: v // 2),
    ("pp", ["--num-gpus", "8", "-tp", "2", "-z", "1"], 20, "-pp", lambda v: v // 2),
    ("zero-stage", ["--num-gpus", "8"], 40, "-z", lambda v: v - 1),
    ("devices", ["-z", "3", "-tp", "2"], 40, "--num-gpus", lambda v: v - 2),
]


@pytest.mark.parametrize("question,flags,gib,flag,neighbour", CASES, ids=[c[0] for c in CASES])
def test_memory_question_is_the_edge(capsys, question, flags, gib, flag, neighbour):
    """The answer is an int that fits per `symcalc mem`; the next allowed value beyond it does not."""
    status, out = run_json(capsys, ["solve", question, *LLAMA, *flags, "--budget", f"{gib}GiB", "--json"])
    key = question.replace("-", "_")
    assert status == 0 and list(out)[0] == key and isinstance(out[key], int)
    assert out["method"] in ("closed-form", "search") and out["feasible"] and out["unit"] == "bytes"
    value = out[key]
    base = [f for f in LLAMA + flags]
    assert mem_total(capsys, [*base, flag, str(value)]) <= gib * GIB
    other = neighbour(value)
    if other >= (1 if question != "zero-stage" else 0):
        assert mem_total(capsys, [*base, flag, str(other)]) > gib * GIB


def test_nothing_fits_exits_1_with_the_shortfall(capsys):
    """Without ZeRO more devices never help: exit 1, feasible false, devices null, a positive shortfall."""
    status, out = run_json(capsys, ["solve", "devices", *LLAMA, "-z", "0", "--budget", "40GiB", "--json"])
    assert status == 1 and out["devices"] is None and not out["feasible"]
    assert out["shortfall"] == out["quantity_at_answer"] - 40 * GIB > 0
    assert main(["solve", "micro-batch", *LLAMA, "--budget", "10GiB"]) == 1
    assert capsys.readouterr().out.startswith("nothing fits (largest micro-batch)")


def test_hidden_size_and_layers_in_a_memory_budget(capsys):
    """--memory-budget answers that `symcalc mem` confirms: fits at the answer, not one step larger."""
    model = ["-l", "8", "-a", "16", "-ff", "4", "--num-gpus", "8", "-z", "3", "-s", "2048"]
    status, out = run_json(capsys, ["solve", "hidden-size", *model, "-hs", "1024", "--memory-budget", "20GB",
                                    "--multiple-of", "128", "--json"])
    h = out["hidden_size"]
    assert status == 0 and h % 128 == 0 and out["unit"] == "bytes"
    assert mem_total(capsys, [*model, "-hs", str(h)]) <= 20 * 10**9 < mem_total(capsys, [*model, "-hs", str(h + 128)])
    status, out = run_json(capsys, ["solve", "layers", *model, "-hs", "2048", "-pp", "2", "--memory-budget", "20GB",
                                    "--json"])
    L = out["layers"]
    assert status == 0 and L % 2 == 0
    deep = [*model[2:], "-hs", "2048", "-pp", "2"]
    assert mem_total(capsys, [*deep, "-l", str(L)]) <= 20 * 10**9 < mem_total(capsys, [*deep, "-l", str(L + 2)])


@pytest.mark.parametrize("name", ["llama-2-7b", "mixtral-8x7b", "deepseek-v3", "qwen3-30b-a3b"])
def test_tokens_6n_is_the_flops_rule_of_thumb(capsys, name):
    """`solve tokens`' 6N per token is `symcalc flops`' 6N*D rule per token (active parameters of an MoE, so the
    two commands agree on what a token costs), and the answer is the largest D within the budget."""
    _, flops = run_json(capsys, ["flops", "--preset", name, "--json"])
    per_token = flops["six_n"] // flops["tokens"]
    assert per_token * flops["tokens"] == flops["six_n"]
    _, got = run_json(capsys, ["solve", "tokens", "--preset", name, "--budget", "1e24", "--json"])
    assert got["quantity_at_answer"] == got["tokens"] * per_token
    assert got["tokens"] * per_token <= 10**24 < (got["tokens"] + 1) * per_token


def test_tokens_budget_alias(capsys):
    """`solve tokens --budget` is `--compute`: the largest D with 6ND ≤ C (same answer both ways)."""
    _, a = run_json(capsys, ["solve", "tokens", "--preset", "llama-2-7b", "--budget", "1e23", "--json"])
    _, b = run_json(capsys, ["solve", "tokens", "--preset", "llama-2-7b", "--compute", "1e23", "--json"])
    assert a == b and a["tokens"] > 0 and a["headroom"] >= 0


def test_help_lists_every_question(capsys):
    """`symcalc solve --help` names each question with its one-line help."""
    with pytest.raises(SystemExit) as exc:
        main(["solve", "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for name, line in QUESTIONS.items():
        assert name in text and " ".join(line.split()[:4]) in text


@pytest.mark.parametrize("argv,message", [
    (["solve", "zero-stage", "--preset", "llama-2-7b", "--infer", "--budget", "80GiB"], "--infer"),
    (["solve", "micro-batch", "--preset", "llama-2-7b", "--infer", "-z", "1", "--budget", "80GiB"], "training only"),
    (["solve", "micro-batch", "--preset", "llama-2-7b", "--prefill-batch", "1", "--budget", "80GiB"], "add --infer"),
    (["solve", "devices", "--preset", "llama-2-7b", "--infer", "--max-tp", "0", "--budget", "80GiB"], "not positive"),
    (["solve", "tp", "--preset", "llama-2-7b", "--budget", "80 GiBs"], "is not a number"),
    (["solve", "pp", "--preset", "llama-2-7b", "--num-gpus", "8", "-tp", "3", "--budget", "80GiB"], "does not divide"),
    # a parameter budget: the training and device flags would be parsed and never used
    (["solve", "hidden-size", "--preset", "llama-2-7b", "--budget", "7B", "-z", "3"], "--zero-stage has no effect"),
    (["solve", "layers", "-l", "32", "-hs", "4096", "-a", "32", "--budget", "7B", "--num-gpus", "8"],
     "--num-gpus has no effect"),
    (["solve", "hidden-size", "--preset", "llama-2-7b", "--budget", "7B", "--infer"], "--infer has no effect"),
    (["solve", "hidden-size", "--preset", "llama-2-7b", "--budget", "7B", "--disable-mixed-precision"],
     "--disable-mixed-precision has no effect"),
    (["solve", "hidden-size", "--preset", "llama-2-7b", "--budget", "7B", "--hardware", "h100"], "give one"),
    (["solve", "layers", "--preset", "llama-2-7b", "--budget", "7B", "--dtype", "fp8"], "--dtype has no effect"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    """Bad flags are one line on stderr and exit status 2, never a traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [
    ["solve", "hidden-size", "-l", "32", "-a", "32", "--budget", "7B", "--multiple-of", "128", "-s", "4096"],
    ["solve", "layers", "--preset", "gpt2", "--budget", "1B", "--json"],
])
def test_parameter_budget_keeps_the_model_flags(capsys, argv):
    """With a parameter budget the model's flags, -s (a flag-built model's position table) and --json still answer."""
    assert main(argv) == 0 and capsys.readouterr().err == ""
