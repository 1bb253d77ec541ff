"""QLoRA's gradient checkpointing: a quantized (k-bit) base trains with recompute full unless told otherwise.

The table's ``kbit_recompute`` ("full": peft's ``prepare_model_for_kbit_training`` turns gradient
checkpointing on, checked against peft itself in ``tests/conformance/test_finetune_measured.py``)
applies identically in the library (training_memory, host_memory, the solvers, single_changes) and
in every subcommand that takes ``--finetune`` (mem, solve, latex mem); a 16-bit base keeps
``recompute`` ("none"); a policy given always wins.
"""

from __future__ import annotations

import json

import pytest

from symcalc import Model, defaults
from symcalc.finetune import recipe
from symcalc.memory import Offload, host_memory, training_memory
from symcalc.solve import max_micro_batch, single_changes

from _cli import run_cli

RUN = dict(seq_len=4096, micro_batch=1, dropout=False)


def _json(capsys, argv, status=0):
    code, out, err = run_cli(capsys, argv + ["--json"])
    assert code == status, err
    return json.loads(out)


def _text(capsys, argv, status=0):
    code, out, err = run_cli(capsys, argv)
    assert code == status, err
    return out


def test_the_table_says_full_for_a_quantized_base_and_none_otherwise():
    """Both sets: kbit_recompute is full, recompute none; recompute_for picks by the storage's bits, a value wins."""
    for s in defaults.SETS.values():
        assert (s.kbit_recompute, s.recompute) == ("full", "none")
    assert "prepare_model_for_kbit_training" in defaults.TODAY.source("kbit_recompute")
    for fmt in ("nf4", "fp4", "int8", "fp8", "int4", "int8-plain"):
        assert defaults.recompute_for(storage=fmt) == "full", fmt
        assert defaults.recompute_for("none", storage=fmt) == "none"
        assert defaults.recompute_for("selective", storage=fmt) == "selective"
    for fmt in (None, "bf16", "fp16", "fp32"):
        assert defaults.recompute_for(storage=fmt) == "none", fmt


@pytest.mark.parametrize("method,quantize", [("qlora", None), ("lora", "nf4"), ("dora", "nf4"), ("lora", "int8")])
def test_library_quantized_base_defaults_to_full_recompute(method, quantize):
    """training_memory with a k-bit base and no recompute: every part equals recompute='full' exactly."""
    m = Model.preset("llama-2-7b")
    q = recipe(method, quantize=quantize)
    default = training_memory(m, **RUN, **q)
    assert dict(default.items()) == dict(training_memory(m, recompute="full", **RUN, **q).items())
    none = training_memory(m, recompute="none", **RUN, **q)
    assert none.total > default.total


def test_library_recompute_none_is_the_old_default():
    """recompute='none' on QLoRA is what the default gave before: the same bytes with kbit_recompute set to none."""
    m = Model.preset("llama-2-7b")
    q = recipe("qlora")
    with defaults.using(defaults.TODAY.replace(kbit_recompute="none")):
        old = training_memory(m, **RUN, **q)
        assert defaults.recompute_for(storage="nf4") == "none"
    assert dict(old.items()) == dict(training_memory(m, recompute="none", **RUN, **q).items())


@pytest.mark.parametrize("method", ["full", "lora", "dora"])
def test_library_16_bit_base_keeps_no_recompute(method):
    """Full fine-tuning, LoRA and DoRA on a bf16 base: the default is recompute none, as before."""
    m = Model.preset("llama-2-7b")
    q = recipe(method)
    assert training_memory(m, **RUN, **q).total == training_memory(m, recompute="none", **RUN, **q).total
    assert training_memory(m, **RUN, **q).total > training_memory(m, recompute="full", **RUN, **q).total


def test_host_memory_and_solvers_take_the_same_default():
    """host_memory (activations offloaded), max_micro_batch and single_changes read the same default."""
    m = Model.preset("llama-2-7b")
    q = recipe("qlora")
    off = Offload(activations="cpu")
    kw = dict(seq_len=4096, micro_batch=2, dropout=False, offload=off, **q)
    assert host_memory(m, **kw).total == host_memory(m, recompute="full", **kw).total
    assert host_memory(m, **kw).total != host_memory(m, recompute="none", **kw).total
    sol = max_micro_batch("24GiB", m, seq_len=4096, dropout=False, **q)
    assert sol.value == max_micro_batch("24GiB", m, seq_len=4096, dropout=False, recompute="full", **q).value
    # nothing left to suggest for the policy: the default is already full
    changes = single_changes("4GiB", m, seq_len=4096, micro_batch=1, dropout=False, **q)
    assert "recompute" not in [c.setting for c in changes]
    changes = single_changes("24GiB", m, seq_len=8192, micro_batch=1, dropout=False, recompute="none", **q)
    assert ("recompute", "full") in [(c.setting, c.value) for c in changes]


def test_mem_qlora_without_recompute_equals_recompute_full(capsys):
    """mem --finetune qlora: the same bytes as --recompute full, and says where the policy came from."""
    base = ["mem", "--preset", "llama-2-7b", "--finetune", "qlora"]
    default, full = _json(capsys, base), _json(capsys, base + ["--recompute", "full"])
    assert default["per_device"] == full["per_device"] and default["per_replica"] == full["per_replica"]
    assert default["settings"]["recompute"] == "full"
    assert default["settings"]["recompute_from"].startswith("today's default for a quantized base (kbit_recompute")
    assert full["settings"]["recompute_from"] == "--recompute"
    none = _json(capsys, base + ["--recompute", "none"])
    m = Model.preset("llama-2-7b")
    lib = training_memory(m, seq_len=8192, micro_batch=1, recompute="none", **recipe("qlora"))
    assert none["per_device"]["total"] == int(-(-lib.total // 1))
    assert none["per_device"]["total"] > default["per_device"]["total"]
    text = _text(capsys, base)
    assert "; recompute full;" in text
    assert "storage nf4 block 64; recompute full (gradient checkpointing: the default on a quantized base" in text
    assert "gradient checkpointing" not in _text(capsys, base + ["--recompute", "full"])


def test_mem_quantize_with_lora_is_qlora_and_lora_keeps_none(capsys):
    """--finetune lora --quantize nf4 is QLoRA's memory; plain --finetune lora and full keep recompute none."""
    base = ["mem", "--preset", "llama-2-7b", "-s", "4096"]
    qlora = _json(capsys, base + ["--finetune", "qlora"])
    assert _json(capsys, base + ["--finetune", "lora", "--quantize", "nf4"])["per_device"] == qlora["per_device"]
    for method in ("lora", "full"):
        out = _json(capsys, base + ["--finetune", method])
        assert out["settings"]["recompute"] == "none"
        assert out["settings"]["recompute_from"] == "today's default"
        assert out["per_device"] == _json(capsys, base + ["--finetune", method, "--recompute", "none"])["per_device"]
    # the cookbook's set has no fine-tuning default of its own: the same policy
    assert _json(capsys, base + ["--finetune", "qlora", "--cookbook"])["settings"]["recompute"] == "full"
    # -ca (the cookbook memory script's checkpointing) is a policy given: selective
    assert _json(capsys, base + ["--finetune", "qlora", "-ca"])["settings"]["recompute"] == "selective"


def test_solve_micro_batch_qlora_on_24gib(capsys):
    """solve micro-batch --finetune qlora --budget 24GiB fits (it said nothing fits); = --recompute full; none is the old answer."""
    base = ["solve", "micro-batch", "--preset", "llama-2-7b", "--finetune", "qlora", "--budget", "24GiB"]
    default = _json(capsys, base)
    assert default["feasible"] and default["micro_batch"] >= 1
    assert default == _json(capsys, base + ["--recompute", "full"])
    none = _json(capsys, base + ["--recompute", "none"], status=1)
    assert not none["feasible"] and ("recompute", "full") in [(f["setting"], f["value"]) for f in none["fixes"]]
    text = _text(capsys, base)
    assert "note: recompute full (gradient checkpointing: the default on a quantized base, kbit_recompute)" in text
    assert "note: recompute" not in _text(capsys, base + ["--recompute", "full"])
    lora = ["solve", "micro-batch", "--preset", "llama-2-7b", "--finetune", "lora", "-s", "2048", "--budget", "24GiB"]
    assert _json(capsys, lora) == _json(capsys, lora + ["--recompute", "none"])
    assert "note: recompute" not in _text(capsys, lora)


def test_solve_seq_len_and_latex_mem_take_the_same_default(capsys):
    """solve seq-len and latex mem with --finetune qlora equal their --recompute full answers."""
    base = ["solve", "seq-len", "--preset", "llama-2-7b", "--finetune", "qlora", "--budget", "12GiB"]
    assert _json(capsys, base) == _json(capsys, base + ["--recompute", "full"])
    tex = ["latex", "mem", "--preset", "llama-2-7b", "--finetune", "qlora", "-s", "4096", "-b", "1"]
    assert _text(capsys, tex) == _text(capsys, tex + ["--recompute", "full"])
    assert _text(capsys, tex) != _text(capsys, tex + ["--recompute", "none"])
