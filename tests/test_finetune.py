"""Adapters, frozen parts and quantized storage: published layouts, brute-force counts, symbolic = numeric."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st
from sympy import Integer, Rational

from symcalc import Model, SymcalcError
from symcalc import symbols as S
from symcalc.finetune import Freeze, LoRA, adapter_params, finetune_params, recipe, trainable_params
from symcalc.finetune.flow import grad_flow
from symcalc.linears import linears
from symcalc.memory import (
    Offload, Parallel, Precision, Sharding, Storage, activations, host_memory, inference_memory, placed_states,
    training_memory,
)
from symcalc.params import params

from strategies import models, symbolic_twin

FEW = settings(max_examples=20)


# --- quantized storage against the published layouts ---------------------------------------------
def test_nf4_bits_per_weight_are_qlora_s():
    """NF4, block 64, fp32 absmax: 4 + 32/64 = 4.5 bits; double quantization: 4 + 8/64 + 32/(64·256), QLoRA's 0.127."""
    assert Storage("nf4").bits_per_weight() == Rational(9, 2)
    dq = Storage("nf4", double_quant=True).bits_per_weight()
    assert round(float(dq - 4), 3) == 0.127  # "reduces the memory footprint from 32/64 = 0.5 bits to 0.127 bits"
    assert Storage("fp4", double_quant=True).bits_per_weight() == dq
    assert Storage("nf4", block=S.quant_block, double_quant=True, block2=S.quant_block2).bits_per_weight().subs(
        {S.quant_block: 64, S.quant_block2: 256}) == dq


def _bnb_4bit_bytes(n: int, double_quant: bool) -> int:
    """Bytes bitsandbytes' quantize_4bit allocates for n weights (functional.py): packed nibbles and the absmax.

    ``out``: (n + 1) // 2 uint8; ``absmax``: one fp32 per block of 64; with ``compress_statistics`` the absmax
    is re-quantized blockwise (blocksize 256) to uint8 with one fp32 absmax per 256 (the scalar offset and the
    code tables are per-tensor constants, not counted by symcalc).
    """
    blocks = math.ceil(n / 64)
    if not double_quant:
        return (n + 1) // 2 + 4 * blocks
    return (n + 1) // 2 + blocks + 4 * math.ceil(blocks / 256)


@pytest.mark.parametrize("name", ["llama-2-7b", "llama-3-8b", "mixtral-8x7b"])
@pytest.mark.parametrize("double_quant", [False, True])
def test_4bit_storage_equals_bitsandbytes_allocation(name, double_quant):
    """Every quantized matrix of the model: symcalc's bytes equal bitsandbytes' allocation, matrix by matrix."""
    m = Model.preset(name)
    storage = Storage("nf4", double_quant=double_quant)
    ours = sum((n * rate for n, rate in storage.part_rates(m).values()), Integer(0))
    theirs = sum(int(lin.count) * _bnb_4bit_bytes(int(lin.d_in * lin.d_out), double_quant)
                 for lin in storage.quantized(m))
    assert ours == theirs


def test_llm_int8_keeps_one_fp32_scale_per_row():
    """LLM.int8: Int8Params keeps CB (int8, out x in) and SCB (fp32, one per output row)."""
    m = Model.preset("llama-2-7b")
    storage = Storage("int8")
    ours = sum((n * rate for n, rate in storage.part_rates(m).values()), Integer(0))
    assert ours == sum(lin.count * (lin.d_in * lin.d_out + 4 * lin.d_out) for lin in storage.quantized(m))


def test_quantized_storage_leaves_embeddings_head_and_norms_in_16_bits():
    """bitsandbytes replaces nn.Linear only and skips the output layer: embedding, LM head, norms stay 2 bytes."""
    m = Model.preset("llama-3-8b")
    mem = inference_memory(m, seq_len=16, micro_batch=1, storage="nf4")
    p = params(m)
    for part in ("embedding/token", "lm_head/weight", "norms", "final_norm"):
        assert mem[f"weights/{part}"] == 2 * p[part]
    assert mem["weights/mlp/up"] == Rational(9, 16) * p["mlp/up"]
    # the one matrix dequantized at a time: the largest quantized (gate or up, 4096 x 14336) in bf16
    assert mem["weights/dequantized"] == 2 * 4096 * 14336


def test_storage_refuses_trainable_quantized_weights():
    """A quantized base cannot train: full fine-tuning with --quantize is a one-line error."""
    with pytest.raises(SymcalcError, match="quantized weights"):
        training_memory(Model.preset("llama-2-7b"), seq_len=8, micro_batch=1, storage="nf4")


# --- frozen parts --------------------------------------------------------------------------------
@settings(max_examples=30)
@given(model=models(), data=st.data())
def test_layer_range_freezes_the_layers_it_names(model, data):
    """Freezing layers a..b-1 freezes exactly those layers' parameters (dense and MoE counted layer by layer)."""
    L = int(model.n_layers)
    a = data.draw(st.integers(0, L - 1))
    b = data.draw(st.integers(a + 1, L))
    frozen = sum(Freeze(layers=(a, b)).frozen(model).values(), Integer(0))
    per_layer = {}
    for moe in (False, True):
        n = model.n_moe_layers if moe else model.n_dense_layers
        if n != 0:
            one = model.replace(n_layers=1, moe_interval=1, first_dense_layers=0) if moe else (
                model.replace(n_experts=0, n_shared_experts=0, shared_expert_gate=False, router_bias=False,
                              moe_interval=1, first_dense_layers=0, n_layers=1) if model.is_moe else model.replace(n_layers=1))
            p = params(one)
            per_layer[moe] = sum((v for k, v in p.items() if k.startswith(("attention/", "mlp/", "moe/", "norms"))),
                                 Integer(0))
    want = Integer(0)
    for i in range(a, b):
        is_moe = model.is_moe and i >= model.first_dense_layers and (i + 1) % model.moe_interval == 0
        want += per_layer[is_moe]
    assert frozen == want


def test_an_adapter_freezes_the_whole_base():
    """With an adapter only the adapter trains (as peft sets requires_grad); the total is the model's plus the adapter's."""
    m = Model.preset("llama-2-7b")
    lora = LoRA(8, "q,v")
    assert trainable_params(m, adapter=lora).total == adapter_params(m, lora).total == 4_194_304
    assert finetune_params(m, adapter=lora)["total"] == 6_738_415_616 + 4_194_304


# --- symbolic equals numeric ---------------------------------------------------------------------
@FEW
@given(model=models(), rank=st.integers(1, 16), dora=st.booleans(), data=st.data())
def test_adapter_params_symbolic_equals_numeric(model, rank, dora, data):
    """LoRA/DoRA parameters with every size and r symbolic, substituted, equal the numeric count, part by part."""
    targets = data.draw(st.sampled_from(["q,v", "attention", "all-linear", "o,down,lm_head"]))
    if "qkv" in model.fused_linears and targets == "q,v":
        targets = "q,k,v"
    layout = "linear" if dora else "fused"
    twin, values = symbolic_twin(model)
    sym = adapter_params(twin, LoRA(S.lora_rank, targets, dora=dora, expert_layout=layout))
    num = adapter_params(model, LoRA(rank, targets, dora=dora, expert_layout=layout))
    values[S.lora_rank] = rank
    for name in set(sym) | set(num):
        assert sym.get(name, Integer(0)).xreplace(values) == num.get(name, Integer(0)), name


@FEW
@given(model=models(), data=st.data())
def test_finetune_memory_symbolic_equals_numeric(model, data):
    """Training memory with an adapter or frozen parts, quantized storage, offload, hybrid sharding, activations
    following the gradient: the symbolic build substituted equals the numeric one, part by part."""
    rank, b, s = data.draw(st.integers(1, 8)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 8))
    z = data.draw(st.sampled_from([1, 2, 3]))
    d, gs = data.draw(st.sampled_from([(1, 1), (2, 1), (4, 2), (4, 4)]))
    kind = data.draw(st.sampled_from(["lora", "qlora", "dora", "freeze"]))
    profile = data.draw(st.sampled_from(["korthikanti", "hf-eager"]))
    offload = Offload(optimizer=data.draw(st.sampled_from(["none", "cpu"])),
                      activations=data.draw(st.sampled_from(["none", "cpu"])))
    twin, values = symbolic_twin(model)
    def objs(r):
        if kind == "freeze":
            return dict(freeze=Freeze(parts=("embedding",), layers=(0, 1)))
        targets = "all-linear" if kind != "dora" else "attention"
        out = recipe("dora" if kind == "dora" else ("qlora" if kind == "qlora" else "lora"), rank=r, targets=targets,
                     expert_layout="linear")
        return out
    prec = Precision(2, 4, 4, 2)
    kw = dict(zero_stage=z, precision=prec, optimizer="adamw", profile=profile, dropout=False, offload=offload)
    sym = training_memory(twin, seq_len=S.seq_len, micro_batch=S.micro_batch, dp=S.dp,
                          sharding=Sharding(group=S.shard_group), **objs(S.lora_rank), **kw)
    num = training_memory(model, seq_len=s, micro_batch=b, dp=d, sharding=Sharding(group=gs), **objs(rank), **kw)
    values.update({S.lora_rank: rank, S.seq_len: s, S.micro_batch: b, S.dp: d, S.shard_group: gs})
    for name in set(sym) | set(num):
        assert sym.get(name, Integer(0)).xreplace(values) == num.get(name, Integer(0)), name
    hs = host_memory(twin, seq_len=S.seq_len, micro_batch=S.micro_batch, dp=S.dp, devices_per_node=S.devices_per_node,
                     sharding=Sharding(group=S.shard_group), **objs(S.lora_rank), **{k: v for k, v in kw.items()})
    hn = host_memory(model, seq_len=s, micro_batch=b, dp=d, devices_per_node=d, sharding=Sharding(group=gs),
                     **objs(rank), **kw)
    values[S.devices_per_node] = d
    assert hs.total.xreplace(values) == hn.total


def test_lora_keeps_the_activations_backward_needs():
    """LoRA on q,v (bf16 base, fp32 adapters): per layer the four linear inputs of frozen weights go, an fp32 copy of x
    and an r-wide output per adapted matrix come; with every layer's adapters no layer is left out."""
    m = Model.preset("llama-2-7b")
    kw = dict(seq_len=4096, micro_batch=1, bytes_act=2, dropout=False)
    full = activations(m, **kw)
    lora = activations(m, flow=grad_flow(m, adapter=LoRA(8, "q,v")), **kw)
    assert lora["layers/dense"] < full["layers/dense"]
    assert "output/head_input" not in lora  # the frozen LM head keeps no input
    head_only = activations(m, flow=grad_flow(m, adapter=LoRA(8, "lm_head")), **kw)
    assert "layers/dense" not in head_only or head_only["layers/dense"] == 0  # no gradient reaches the layers


def test_linears_add_up_to_the_parameter_parts():
    """The inventory's matrices of each part sum to that part of params() on every dense preset and Mixtral."""
    from symcalc.presets import PRESETS

    for name in PRESETS:
        m = Model.preset(name)
        if m.mlp_bias and m.is_moe:
            continue
        got: dict = {}
        for lin in linears(m):
            got[lin.part] = got.get(lin.part, 0) + lin.weights
        p = params(m)
        for part, n in got.items():
            assert n == p[part], (name, part)
