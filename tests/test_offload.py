"""Offload, hybrid sharding and ZeRO++ against DeepSpeed's published estimates and their own definitions.

DeepSpeed's "Memory Requirements" page (docs/code-docs/source/memory.rst) prints the output of
``estimate_zero2_model_states_mem_needs_all_cold`` and ``..._zero3_...`` for a 2851M-parameter
model (32M largest layer) on one node of 8 GPUs, in GiB labelled "GB", rounded to 2 decimals;
symcalc's :func:`deepspeed_estimate` builds the same numbers from its placed states.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from symcalc import Model, SymcalcError
from symcalc import symbols as S
from symcalc.finetune import LoRA
from symcalc.memory import (
    Offload, Parallel, Sharding, deepspeed_estimate, host_memory, largest_module_params, model_states,
    placed_states, training_memory,
)

GIB = 2**30
PSI, LARGEST = 2851 * 10**6, 32 * 10**6


def _gib(x) -> float:
    return round(float(x) / GIB, 2)


# (offload optimizer, offload params, zero.Init) -> (per CPU, per GPU) as printed, ZeRO-3 cold table
ZERO3_COLD = {
    (True, True, True): (71.69, 0.12),
    (True, True, False): (127.45, 0.12),
    (True, False, True): (63.72, 0.78),
    (True, False, False): (127.45, 0.78),
    (False, False, True): (1.43, 6.09),
    (False, False, False): (127.45, 6.09),
}


@pytest.mark.parametrize("options", list(ZERO3_COLD))
def test_zero3_cold_table(options):
    """Every row of DeepSpeed's estimate_zero3_model_states_mem_needs_all_cold table (2851M, 32M, 1 node x 8)."""
    opt, params_, init = options
    est = deepspeed_estimate(PSI, LARGEST, zero_stage=3, devices_per_node=8, n_nodes=1, offload_optimizer=opt,
                             offload_params=params_, zero_init=init)
    assert (_gib(est["cpu_per_node"]), _gib(est["gpu_per_device"])) == ZERO3_COLD[options]


def test_zero2_cold_table_with_offload():
    """ZeRO-2 with cpu_offload=1: 127.45 GB per CPU, 5.31 GB per GPU (the fp16 weights only)."""
    est = deepspeed_estimate(PSI, LARGEST, zero_stage=2, devices_per_node=8, offload_optimizer=True,
                             offload_params=False, zero_init=False)
    assert (_gib(est["cpu_per_node"]), _gib(est["gpu_per_device"])) == (127.45, 5.31)


def test_zero2_without_offload_differs_by_the_full_fp16_gradient_copy():
    """ZeRO-2 without offload: CPU 127.45 as printed; GPU 2 Psi below DeepSpeed's 15.93 (its full fp16 gradients)."""
    est = deepspeed_estimate(PSI, LARGEST, zero_stage=2, devices_per_node=8, offload_optimizer=False,
                             offload_params=False, zero_init=False)
    assert _gib(est["cpu_per_node"]) == 127.45
    assert _gib(est["gpu_per_device"] + 2 * PSI) == 15.93  # DeepSpeed: 4 Psi + 16 Psi / n; symcalc: 2 Psi + 16 Psi / n


def test_t5_large_gpu_cases_in_mib():
    """DeepSpeed's worked example (737.67M params, 32.90M largest layer, 4 GPUs): 3291, 125 and 477 MB (>> 20)."""
    psi, largest = 737_668_096, 32_899_072  # t5-large, counted in tests/conformance/test_offload_deepspeed.py
    cases = [deepspeed_estimate(psi, largest, zero_stage=3, devices_per_node=4, offload_optimizer=o, offload_params=p)
             for o, p in ((False, False), (True, True), (True, False))]
    assert [int(c["gpu_per_device"]) >> 20 for c in cases] == [3291, 125, 477]


def test_offload_moves_bytes_without_changing_them():
    """GPU + CPU + NVMe per device is the same total whatever is offloaded (ZeRO-3, Llama-2-7B, 8 devices)."""
    m = Model.preset("llama-2-7b")
    par = Parallel(n_devices=8)
    base = placed_states(m, par, zero_stage=3)["gpu"].total
    for off in (Offload(optimizer="cpu"), Offload(optimizer="nvme"), Offload(optimizer="cpu", params="nvme")):
        st_ = placed_states(m, par, zero_stage=3, offload=off)
        assert sum((b.total for b in st_.values()), 0) == base
        assert st_["cpu"].total + st_["nvme"].total > 0


def test_offload_optimizer_leaves_the_weights_on_the_gpu():
    """ZeRO-Offload (ZeRO-2): only the 16-bit weights stay on the GPU; gradients and optimizer go to the host."""
    m = Model.preset("llama-2-7b")
    gpu = model_states(m, zero_stage=2, n_devices=8, offload=Offload(optimizer="cpu")).grouped()
    assert set(gpu) == {"weights"} and gpu["weights"] == 2 * 6738415616


def test_host_memory_per_node_counts_the_node_devices():
    """CPU per node = per-device offloaded states times the devices of the node (8 of 16 devices)."""
    m = Model.preset("llama-2-7b")
    kw = dict(seq_len=128, micro_batch=1, n_devices=16, zero_stage=3, offload=Offload(optimizer="cpu"))
    per_device = placed_states(m, Parallel(n_devices=16), zero_stage=3, offload=Offload(optimizer="cpu"))["cpu"].total
    assert host_memory(m, **kw).total == 8 * per_device
    assert host_memory(m, devices_per_node=4, **kw).total == 4 * per_device


def test_offload_needs_the_zero_stage_it_uses():
    """Optimizer offload needs ZeRO >= 1, parameter offload ZeRO-3: one-line errors naming the flag."""
    m = Model.preset("llama-2-7b")
    with pytest.raises(SymcalcError, match="--offload-optimizer needs ZeRO stage"):
        model_states(m, zero_stage=0, offload=Offload(optimizer="cpu"))
    with pytest.raises(SymcalcError, match="--offload-params needs ZeRO stage 3"):
        model_states(m, zero_stage=2, offload=Offload(optimizer="cpu", params="cpu"))


def test_activation_offload_keeps_one_layer_on_the_gpu():
    """With activations offloaded the GPU keeps one layer's; the other L-1 layers' are in host memory."""
    m = Model.preset("llama-2-7b")
    kw = dict(seq_len=4096, micro_batch=1, recompute="full", zero_stage=1)
    plain = training_memory(m, **kw)
    off = training_memory(m, offload=Offload(activations="cpu"), **kw)
    layer = plain["activations/layers/dense"] / 32
    assert off["activations/layers/one_layer"] == layer
    assert plain.total - off.total == 31 * layer
    assert host_memory(m, offload=Offload(activations="cpu"), **kw).total == 31 * layer


def test_hybrid_sharding_is_zero_over_the_shard_group():
    """HSDP over g_s inside d: the same states as ZeRO-3 on g_s devices (sharded by g_s, not d)."""
    m = Model.preset("llama-2-7b")
    hsdp = model_states(m, zero_stage=3, n_devices=64, sharding=Sharding(group=8))
    assert hsdp.total == model_states(m, zero_stage=3, n_devices=8).total
    with pytest.raises(SymcalcError, match="does not divide the data-parallel degree"):
        model_states(m, zero_stage=3, n_devices=64, sharding=Sharding(group=12))


def test_zero_pp_secondary_partition_adds_weights_over_the_node():
    """ZeRO++ hpZ: each device also holds beta_w N / g_hp of the 16-bit weights."""
    m = Model.preset("llama-2-7b")
    plain = model_states(m, zero_stage=3, n_devices=64)
    hpz = model_states(m, zero_stage=3, n_devices=64, sharding=Sharding(secondary=8))
    assert hpz.total - plain.total == 2 * 6738415616 // 8


def test_largest_module_is_the_embedding_or_a_stacked_expert_tensor():
    """DeepSpeed's largest layer: Llama-3-8B's 128256 x 4096 embedding; Mixtral's stacked expert gate/up."""
    assert largest_module_params(Model.preset("llama-3-8b")) == 128256 * 4096
    assert largest_module_params(Model.preset("mixtral-8x7b")) == 8 * 4096 * 14336


@settings(max_examples=20)
@given(z=st.sampled_from([1, 2, 3]), d=st.sampled_from([1, 2, 4, 8]), gs=st.sampled_from([1, 2, 4]),
       r=st.sampled_from([1, 4, 16]), opt=st.sampled_from(["none", "cpu", "nvme"]))
def test_symbolic_equals_numeric_for_offloaded_and_sharded_states(z, d, gs, r, opt):
    """GPU and host states built with d, g_s, r and n_node symbolic, then substituted, equal the numeric build."""
    if d % gs:
        gs = 1
    m = Model(n_layers=2, d_model=64, n_heads=4, n_kv_heads=2, d_ff=128, vocab=100, gated_mlp=True, norm="rmsnorm")
    off = Offload(optimizer=opt)
    sym = dict(adapter=LoRA(S.lora_rank, "all-linear"), sharding=Sharding(group=S.shard_group), offload=off)
    num = dict(adapter=LoRA(r, "all-linear"), sharding=Sharding(group=gs), offload=off)
    values = {S.lora_rank: r, S.shard_group: gs, S.dp: d, S.devices_per_node: d}
    a = placed_states(m, Parallel(dp=S.dp), zero_stage=z, **sym)
    b = placed_states(m, Parallel(dp=d), zero_stage=z, **num)
    for dev in a:
        assert a[dev].total.subs(values) == b[dev].total
    kw = dict(seq_len=16, micro_batch=1, zero_stage=z)
    hs = host_memory(m, dp=S.dp, devices_per_node=S.devices_per_node, **sym, **kw).total.subs(values)
    assert hs == host_memory(m, dp=d, devices_per_node=d, **num, **kw).total
