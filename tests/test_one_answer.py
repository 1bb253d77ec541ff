"""One question, one answer: the same question through every entry point gives the same number.

Each question is asked through the library, ``symcalc mem``, ``flops``, ``solve``, ``plan``,
``latex`` (and ``params``, ``time`` where they answer it), under today's defaults and under the
cookbook's (``--cookbook`` / ``symcalc.defaults.using("cookbook")``). The numbers are not
recomputed here: every entry point answers for itself and the answers must agree exactly.
"""

import json

import pytest
from sympy import ceiling

from symcalc import Model, defaults, params, training_flops, training_memory
from symcalc.cli import main
from symcalc.solve import max_micro_batch

LLAMA = ["--preset", "llama-2-7b"]
SETS = ["today", "cookbook"]


def cli_json(capsys, *argv, status=0):
    assert main([*argv, "--json"]) == status, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def cli_text(capsys, *argv):
    assert main(list(argv)) == 0, capsys.readouterr().err
    return capsys.readouterr().out.strip()


def latex_value(text: str) -> int:
    """The number a fully numeric ``symcalc latex`` block ends with (its total)."""
    import re

    return int(re.findall(r"&= (\d+)", text)[-1]) if "&=" in text else int(text)


def flags(which: str) -> list:
    return ["--cookbook"] if which == "cookbook" else []


@pytest.mark.parametrize("which", SETS)
def test_memory_per_device_is_one_number(capsys, which):
    """Training memory of one Llama-2-7B layout: library = mem = plan row = latex mem = solve at its answer."""
    layout = dict(seq_len=4096, micro_batch=1, n_devices=8, tp=2, pp=1, zero_stage=1)
    with defaults.using(which):
        lib = training_memory(Model.preset("llama-2-7b"), **layout).total
    argv = [*LLAMA, "-s", "4096", "-b", "1", "--num-gpus", "8", "-tp", "2", "-pp", "1", "-z", "1", *flags(which)]
    mem = cli_json(capsys, "mem", *argv)["per_device"]["total"]
    tex = cli_text(capsys, "latex", "mem", *argv, "--context-parallel-size", "1", "-ep", "1")
    plan = cli_json(capsys, "plan", *LLAMA, "--num-gpus", "8", "--gpu-memory", "141GiB", "--peak-flops", "989T",
                    "-s", "4096", "-gbs", "8", "--zero-stages", "1", "--recompute", "none", "--top", "1000",
                    *flags(which))
    row = next(r for r in plan["rows"] if (r["tp"], r["pp"], r["dp"], r["micro_batch"]) == (2, 1, 4, 1))
    assert mem == row["memory_bytes"] == int(ceiling(lib)) == latex_value(tex)
    solve = cli_json(capsys, "solve", "micro-batch", *argv, "--budget", f"{int(lib)}")
    assert solve["micro_batch"] == 1 and solve["quantity_at_answer"] == lib


@pytest.mark.parametrize("which", SETS)
def test_largest_micro_batch_is_one_number(capsys, which):
    """The largest micro-batch: solve = max_micro_batch; mem says it fits and one more does not (issue: 40 vs 43)."""
    budget = 80 * 2**30
    with defaults.using(which):
        lib = max_micro_batch(budget, Model.preset("llama-2-7b"), seq_len=4096, n_devices=8, zero_stage=3,
                              recompute="full")
    argv = [*LLAMA, "-s", "4096", "--num-gpus", "8", "-z", "3", "--recompute", "full", *flags(which)]
    solve = cli_json(capsys, "solve", "micro-batch", *argv, "--budget", "80GiB")
    assert solve["micro_batch"] == lib.value and solve["quantity_at_answer"] == lib.quantity
    at = cli_json(capsys, "mem", *argv, "-b", str(lib.value))["per_device"]["total"]
    over = cli_json(capsys, "mem", *argv, "-b", str(lib.value + 1))["per_device"]["total"]
    assert at == int(ceiling(lib.quantity)) <= budget < over


@pytest.mark.parametrize("which", SETS)
def test_flops_per_token_is_one_number(capsys, which):
    """Training FLOPs per token: library = flops = latex flops (issue: 46.08 vs 61.18 GFLOP); time agrees at no recompute."""
    with defaults.using(which):
        lib = training_flops(Model.preset("llama-2-7b"), seq_len=4096, tokens=1).total
        model_flops = training_flops(Model.preset("llama-2-7b"), seq_len=4096, tokens=1, recompute="none").total
    flops = cli_json(capsys, "flops", *LLAMA, "-s", "4096", *flags(which))["per_token"]["total"]
    tex = cli_text(capsys, "latex", "flops", *LLAMA, "-s", "4096", *flags(which))
    assert flops == lib == latex_value(tex)
    time = cli_json(capsys, "time", *LLAMA, "-s", "4096", "--tokens", "4096", "--num-gpus", "1", "--hardware", "h100",
                    *flags(which))
    assert time["flops"] == 4096 * model_flops
    assert (lib == model_flops) == (which == "today")  # the cookbook's flops script counts one full recompute


@pytest.mark.parametrize("which", SETS)
def test_parameters_are_one_number(capsys, which):
    """Parameters: library = params = latex params = bf16 weights of mem / 2."""
    lib = params(Model.preset("llama-2-7b")).total
    assert cli_json(capsys, "params", *LLAMA, *flags(which))["total"] == lib
    assert latex_value(cli_text(capsys, "latex", "params", *LLAMA, *flags(which))) == lib
    assert cli_json(capsys, "mem", *LLAMA, *flags(which))["per_device"]["weights"] == 2 * lib


def test_moe_means_one_model_everywhere(capsys):
    """--moe builds the same model in params, flops and mem today (the issue: 8 experts in params, 128 in flops)."""
    p = cli_json(capsys, "params", "--moe")
    f = cli_json(capsys, "flops", "--moe", "--tokens", "1", "-s", "1")
    m = cli_json(capsys, "mem", "--moe")
    n_moe = 44  # every layer (interval 1)
    experts_p = p["breakdown"]["moe/router"] // (6144 * n_moe)
    experts_f = f["breakdown_by_pass"]["forward/moe/router"] // (2 * 6144 * n_moe)
    assert experts_p == experts_f == defaults.TODAY.num_experts
    assert m["per_device"]["weights"] == 2 * p["total"]
    assert f["six_n"] == 6 * p["active"]  # the same top-k: active parameters agree
    # the cookbook's set reproduces its two scripts, which disagree: 8 experts (params) and 128 every 2nd layer (flops)
    pc = cli_json(capsys, "params", "--moe", "--cookbook")
    fc = cli_json(capsys, "flops", "--moe", "--tokens", "1", "-s", "1", "--cookbook")
    assert pc["breakdown"]["moe/router"] // (6144 * 44) == 8
    assert fc["breakdown_by_pass"]["forward/moe/router"] // (2 * 6144 * 22) == 128


def test_ca_says_which_meaning_applies(capsys):
    """-ca keeps both cookbook spellings and the output says which one applies: selective in mem, none in flops."""
    mem = cli_text(capsys, "mem", *LLAMA, "-ca")
    assert "recompute selective" in mem and "--checkpoint-activations" in mem
    assert cli_json(capsys, "mem", *LLAMA, "-ca")["settings"]["recompute"] == "selective"
    flops = cli_json(capsys, "flops", *LLAMA, "-ca", "--cookbook")
    assert flops["recompute"] == 0 and "--no-checkpoint-activations" in flops["conventions"]["recompute"]
    for command, meaning in (("mem", "selective"), ("flops", "none")):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "-ca is the cookbook" in text and f"= --recompute {meaning}" in text


def test_degrees_without_num_gpus_are_the_library_layout(capsys):
    """-tp 2 -pp 2 without --num-gpus is Parallel(tp=2, pp=2) (data-parallel degree 1), as in the library."""
    m = Model.preset("llama-2-7b")
    lib = training_memory(m, seq_len=4096, micro_batch=1, tp=2, pp=2)
    out = cli_json(capsys, "mem", *LLAMA, "-s", "4096", "-tp", "2", "-pp", "2")
    assert out["parallel"]["n_devices"] == 4 and out["parallel"]["dp"] == 1
    assert out["per_device"]["total"] == int(ceiling(lib.total))
    sol = cli_json(capsys, "solve", "tp", *LLAMA, "--budget", "80GiB", "-s", "4096")
    # every TP degree the heads allow was tried (not only the 1 that n_devices=1 allows), and it agrees with mem
    assert sol["tp"] > 1 and sol["feasible"]
    assert cli_json(capsys, "mem", *LLAMA, "-s", "4096", "-tp", str(sol["tp"]))["per_device"]["total"] \
        == sol["quantity_at_answer"]


@pytest.mark.parametrize("key, flag, value, question", [
    ("window_cache", "--window-cache", "window-1",
     lambda m: ["mem", "--infer", "--preset", "gemma-3-27b", "-s", "4096"]),
    ("mla_cache", "--mla-cache", "decompressed",
     lambda m: ["mem", "--infer", "--preset", "deepseek-v3", "-s", "4096"]),
    ("window_flops", "--window-flops", "band", lambda m: ["flops", "--preset", "gemma-3-27b", "-s", "4096"]),
    ("active_convention", "--active-convention", "no-embeddings", lambda m: ["params", "--preset", "mixtral-8x7b"]),
])
def test_structure_conventions_come_from_the_defaults_table(capsys, key, flag, value, question):
    """A structure convention left unsaid is the active set's; changing the set equals giving the flag."""
    argv = question(None)
    default = cli_json(capsys, *argv)
    given = cli_json(capsys, *argv, flag, value)
    with defaults.using(defaults.active().replace(**{key: value})):
        switched = cli_json(capsys, *argv)
    assert given == {**switched, **{k: given[k] for k in ("settings", "conventions") if k in given}}
    assert given != default


def test_time_and_scaling_costs_read_mfu_dtype_and_flops_convention_from_the_table(capsys):
    """compute_cost and training_cost take MFU, dtype and the FLOPs convention from the active set, not from literals."""
    from sympy import Rational

    from symcalc.cost import training_cost
    from symcalc.scaling import compute_cost

    base = compute_cost(10**24, "h100").gpu_hours
    with defaults.using(defaults.active().replace(mfu=Rational(1, 5), dtype="fp8")):
        assert compute_cost(10**24, "h100").gpu_hours == compute_cost(10**24, "h100", mfu="20%", dtype="fp8").gpu_hours
        assert compute_cost(10**24, "h100").gpu_hours != base
    m = Model.preset("llama-2-7b")
    exact = training_cost(m, tokens="1T", seq_len=4096, mfu="40%").flops
    with defaults.using(defaults.active().replace(flops_convention="6N")):
        six = training_cost(m, tokens="1T", seq_len=4096, mfu="40%").flops
    assert six == training_cost(m, tokens="1T", seq_len=4096, mfu="40%", flops="6N").flops != exact
