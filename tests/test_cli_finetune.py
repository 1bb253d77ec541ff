"""The fine-tuning, quantization, offload and sharding flags of symcalc params, mem and solve."""

from __future__ import annotations

import json

import pytest

from symcalc import Model
from symcalc.finetune import LoRA, recipe
from symcalc.memory import Offload, Sharding, host_memory, inference_memory, training_memory

from _cli import run_cli

LLAMA_2_7B = 6_738_415_616  # Meta's published count (tests/test_presets.py)


def _json(capsys, argv):
    code, out, err = run_cli(capsys, argv + ["--json"])
    assert code == 0, err
    return json.loads(out)


def test_params_lora_q_v_on_llama_2_7b(capsys):
    """--lora-rank 8 --lora-targets q,v: 4,194,304 trainable (peft's count), total = the model's plus the adapter's."""
    out = _json(capsys, ["params", "--preset", "llama-2-7b", "--lora-rank", "8", "--lora-targets", "q,v"])
    assert out["trainable"] == 4_194_304
    assert out["total"] == LLAMA_2_7B + 4_194_304
    assert out["breakdown"]["lora/q"] == out["breakdown"]["lora/v"] == 2_097_152


def test_params_llama_3_8b_rank_16_on_all_seven_linears(capsys):
    """Llama-3-8B at rank 16 on q,k,v,o,gate,up,down: 41,943,040 trainable; all-linear is the same."""
    for targets in ("q,k,v,o,gate,up,down", "all-linear"):
        out = _json(capsys, ["params", "--preset", "llama-3-8b", "--lora-rank", "16", "--lora-targets", targets])
        assert out["trainable"] == 41_943_040


def test_params_freeze_leaves_parts_out_of_trainable(capsys):
    """--freeze embedding,lm_head: trainable is the total less both vocabulary matrices; the total is unchanged."""
    out = _json(capsys, ["params", "--preset", "llama-2-7b", "--freeze", "embedding,lm_head"])
    assert out["total"] == LLAMA_2_7B
    assert out["trainable"] == LLAMA_2_7B - 2 * 32000 * 4096


def test_optimizer_none_charges_no_master_copy(capsys):
    """--optimizer none: no optimizer state and no fp32 master copy (29.92 GiB for Llama-3-8B before)."""
    out = _json(capsys, ["mem", "--preset", "llama-3-8b", "--optimizer", "none"])
    assert out["per_device"]["optimizer"] == 0
    assert out["per_device"]["gradients"] > 0


def test_mem_qlora_matches_the_library(capsys):
    """mem --finetune qlora: the same bytes as training_memory with recipe('qlora'); adapters' states only."""
    argv = ["mem", "--preset", "llama-3-8b", "--finetune", "qlora", "--lora-rank", "16", "--lora-targets", "all-linear",
            "--double-quant", "-s", "1024", "--recompute", "full", "--optimizer", "adamw"]
    out = _json(capsys, argv)
    m = Model.preset("llama-3-8b")
    lib = training_memory(m, seq_len=1024, micro_batch=1, zero_stage=1, recompute="full",
                          precision=training_precision(), optimizer=8, allgather_bucket=500_000_000,
                          max_live_params=10**9, **recipe("qlora", rank=16, targets="all-linear", double_quant=True))
    assert out["per_device"]["total"] == int(-(-lib.total // 1))
    assert out["settings"]["trainable_params"] == 41_943_040
    assert out["per_device"]["gradients"] == 4 * 41_943_040  # fp32 adapters only
    assert out["settings"]["storage"] == "nf4 block 64, double quant (256)"


def training_precision():
    from symcalc.memory import Precision

    return Precision(weight=2, grad=4, master=4, act=2, kv=2)  # symcalc mem's cookbook defaults


def test_offload_json_reports_host_memory_per_node(capsys):
    """--offload-optimizer cpu: cpu_per_node = the library's host memory for the node's 8 devices; the GPU keeps weights."""
    out = _json(capsys, ["mem", "--preset", "llama-2-7b", "-z", "2", "--num-gpus", "16", "--offload-optimizer", "cpu"])
    m = Model.preset("llama-2-7b")
    host = host_memory(m, seq_len=2048, micro_batch=1, n_devices=16, zero_stage=2, precision=training_precision(),
                       optimizer=8, offload=Offload(optimizer="cpu"))
    assert out["cpu_per_node"] == host.total and out["nvme_per_node"] == 0
    assert out["per_device"]["gradients"] == out["per_device"]["optimizer"] == 0
    assert out["settings"]["gpus_per_node"] == 8


def test_offload_params_to_nvme_and_hsdp(capsys):
    """--offload-params nvme (ZeRO-3) puts the weights on NVMe; --hsdp-shard-size shards over that group."""
    out = _json(capsys, ["mem", "--preset", "llama-2-7b", "-z", "3", "--num-gpus", "64", "--offload-optimizer", "cpu",
                         "--offload-params", "nvme", "--gpus-per-node", "8"])
    assert out["nvme_per_node"] == 8 * 2 * LLAMA_2_7B // 64
    hsdp = _json(capsys, ["mem", "--preset", "llama-2-7b", "-z", "3", "--num-gpus", "64", "--hsdp-shard-size", "8"])
    eight = _json(capsys, ["mem", "--preset", "llama-2-7b", "-z", "3", "--num-gpus", "8"])
    assert hsdp["per_device"]["weights"] == eight["per_device"]["weights"]
    lib = training_memory(Model.preset("llama-2-7b"), seq_len=2048, micro_batch=1, n_devices=64, zero_stage=3,
                          sharding=Sharding(group=8), precision=training_precision(), optimizer=8)
    assert hsdp["per_device"]["optimizer"] == lib.grouped()["optimizer"]


def test_infer_weight_dtype_int4_keeps_embeddings_16_bit(capsys):
    """--infer --weight-dtype int4: the same weights as the library's storage rules (embedding and LM head in 16 bits)."""
    out = _json(capsys, ["mem", "--preset", "llama-3-8b", "--infer", "--weight-dtype", "int4"])
    lib = inference_memory(Model.preset("llama-3-8b"), seq_len=2048, micro_batch=1, weights="int4")
    assert out["per_device"]["weights"] == lib.grouped()["weights"]
    assert out["per_device"]["weights"] > 2 * 2 * 128256 * 4096  # both vocabulary matrices at 2 bytes
    nf4 = _json(capsys, ["mem", "--preset", "llama-3-8b", "--infer", "--quantize", "nf4"])
    assert nf4["per_device"]["weights"] > out["per_device"]["weights"]  # scales and the dequantized matrix


@pytest.mark.parametrize("argv, message", [
    (["params", "--preset", "llama-2-7b", "--finetune", "full", "--lora-rank", "8"], "--lora-rank with --finetune full"),
    (["params", "--preset", "pythia-1b", "--lora-targets", "q,v"], "q+k+v as one matrix"),
    (["params", "--preset", "llama-2-7b", "--lora-targets", "query"], "--lora-targets: 'query' is not a target"),
    (["params", "--preset", "llama-2-7b", "--freeze", "embeddings"], "--freeze: 'embeddings' is not a part"),
    (["params", "--preset", "llama-2-7b", "--freeze", "layers=40"], "the model has 32 layers"),
    (["mem", "--preset", "llama-2-7b", "--finetune", "full", "--quantize", "nf4"], "quantized weights cannot be trained"),
    (["mem", "--preset", "llama-2-7b", "--finetune", "lora", "--quantize", "int8", "--double-quant"], "--double-quant"),
    (["mem", "--preset", "llama-2-7b", "-z", "2", "--offload-optimizer", "cpu", "--offload-params", "cpu"],
     "--offload-params needs ZeRO stage 3"),
    (["mem", "--preset", "llama-2-7b", "-z", "0", "--offload-optimizer", "cpu"], "--offload-optimizer needs ZeRO stage"),
    (["mem", "--preset", "llama-2-7b", "--num-gpus", "8", "--hsdp-shard-size", "3"], "does not divide"),
    (["mem", "--preset", "llama-2-7b", "--infer", "--finetune", "lora"], "training only"),
    (["mem", "--preset", "llama-2-7b", "--infer", "--offload-optimizer", "cpu"], "training only"),
    (["mem", "--preset", "llama-2-7b", "--finetune", "qlora", "--freeze", "embedding"], "already freezes the whole base"),
])
def test_bad_fine_tuning_flags_are_one_line_errors(capsys, argv, message):
    """Each inconsistent fine-tuning/offload flag: exit status 2 and one line naming it."""
    code, out, err = run_cli(capsys, argv)
    assert code == 2, (out, err)
    assert message in err and err.count("\n") == 1, err


def test_solve_largest_qlora_batch_on_a_24gb_card(capsys):
    """solve micro-batch --finetune qlora --hardware rtx-4090: the answer fits the card's memory, one more does not."""
    argv = ["solve", "micro-batch", "--preset", "llama-3-8b", "--finetune", "qlora", "--lora-targets", "all-linear",
            "-s", "2048", "--recompute", "full", "--hardware", "rtx-4090"]
    out = _json(capsys, argv)
    b, budget = out["micro_batch"], out["budget"]
    m = Model.preset("llama-3-8b")
    kw = dict(seq_len=2048, zero_stage=1, recompute="full", precision=training_precision(), optimizer=8,
              allgather_bucket=500_000_000, max_live_params=10**9, **recipe("qlora", targets="all-linear"))
    assert b >= 1
    assert training_memory(m, micro_batch=b, **kw).total <= budget < training_memory(m, micro_batch=b + 1, **kw).total
    same = _json(capsys, argv[:-2] + ["--budget", str(budget)])
    assert same["micro_batch"] == b


def test_lora_adapter_states_follow_zero_and_the_adapter_dtype():
    """Adapters shard under ZeRO like other states; 2-byte adapters get the precision's master copy, fp32 ones none."""
    m = Model.preset("llama-2-7b")
    fp32 = training_memory(m, seq_len=8, micro_batch=1, adapter=LoRA(8, "q,v")).grouped()
    bf16 = training_memory(m, seq_len=8, micro_batch=1, adapter=LoRA(8, "q,v", bytes_adapter=2)).grouped()
    assert fp32["optimizer"] == 8 * 4_194_304 and bf16["optimizer"] == 12 * 4_194_304
    z1 = training_memory(m, seq_len=8, micro_batch=1, adapter=LoRA(8, "q,v"), zero_stage=1, dp=4).grouped()
    assert z1["optimizer"] == 8 * 4_194_304 // 4
