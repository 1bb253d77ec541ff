"""Solvers, sweeps and the planner on every structure of issue 10, each answer against brute force.

Truth is training memory (or the parameter count) evaluated exactly at each allowed value; the
planner's first row is compared with every candidate evaluated by substitution, as in
tests/test_plan.py. Expert parallelism divides the routed experts only; shared experts stay
replicated on every expert-parallel rank.
"""

from __future__ import annotations

import itertools

import pytest
from sympy import Integer, Rational

from symcalc import Model, SymcalcError, params, training_memory
from symcalc.frameworks import stage_layers
from symcalc.plan import candidates, layout_memory, plan, step_time
from symcalc.solve import max_d_model, max_micro_batch, max_n_layers, max_seq_len, min_devices, min_tp
from symcalc.structure import GQA, MLA, MTP, LayerSet, Window

np = pytest.importorskip("numpy")

#: Within one node (4 devices here) every transfer uses the scale-up link (the planner's link rule).
LINKS = dict(bandwidth_dp=Integer(10**7), bandwidth_pp=Integer(10**7), bandwidth_ep=Integer(10**7))
COSTS = dict(peak_flops=Integer(10**9), mfu=Rational(1, 2), bandwidth_tp=Integer(10**7),
             bandwidth_dp=Integer(10**6), bandwidth_ep=Integer(10**6))

#: One small model per structure (numeric), named for what it exercises.
STRUCTURES = {
    "mla-dense-first-shared-mtp": Model(
        n_layers=4, d_model=32, n_heads=4, d_ff=64, vocab=97, gated_mlp=True, norm="rmsnorm",
        attention=MLA(q_lora_rank=16, kv_lora_rank=8, d_nope=8, d_rope=4, d_v=8), n_experts=4, top_k=2,
        d_ff_expert=16, n_shared_experts=1, first_dense_layers=1, mtp=MTP(1)),
    "mla-plain-q": Model(
        n_layers=4, d_model=32, n_heads=4, d_ff=64, vocab=97, gated_mlp=True, norm="rmsnorm",
        attention=MLA(q_lora_rank=None, kv_lora_rank=8, d_nope=8, d_rope=4, d_v=8)),
    "sliding-5-to-1-qk-norm": Model(
        n_layers=6, d_model=32, n_heads=4, n_kv_heads=2, d_ff=64, vocab=97, gated_mlp=True, norm="rmsnorm",
        norms_per_layer=4, tied_embeddings=True, attention=GQA(qk_norm="head"),
        window=Window.sliding(8, LayerSet(every=6, invert=True))),
    "alternating-sinks-biased-experts": Model(
        n_layers=4, d_model=32, n_heads=4, n_kv_heads=2, d_ff=24, vocab=97, gated_mlp=True, norm="rmsnorm",
        qkv_bias=True, attn_out_bias=True, attention=GQA(sinks=True), window=Window.sliding(4, LayerSet(every=2, offset=0)),
        n_experts=4, top_k=2, router_bias=True, mlp_bias=True),
    "chunked-interleaved-moe-shared": Model(
        n_layers=4, d_model=32, n_heads=4, n_kv_heads=2, d_ff=64, vocab=97, gated_mlp=True, norm="rmsnorm",
        attention=GQA(qk_norm="weightless"), window=Window.chunked(4, LayerSet(every=4, invert=True)),
        n_experts=4, top_k=1, d_ff_expert=16, n_shared_experts=1, moe_interval=2),
    "scattered-dense-full-qk-norm": Model(
        n_layers=4, d_model=32, n_heads=4, n_kv_heads=4, d_ff=64, vocab=97, gated_mlp=True, norm="rmsnorm",
        attention=GQA(qk_norm="full"), n_experts=4, top_k=2, d_ff_expert=16, moe_layers=LayerSet(indices=(0, 2, 3))),
}
NAMES = list(STRUCTURES)
BASE = dict(seq_len=16, zero_stage=1, recompute="selective")


def _mem(model, **kw):
    return training_memory(model, **{**BASE, **kw}).total


@pytest.mark.parametrize("name", NAMES)
def test_max_micro_batch_and_seq_len_against_brute_force(name):
    """The largest micro-batch and sequence fit, the next do not."""
    m = STRUCTURES[name]
    budget = _mem(m, micro_batch=5, n_devices=2) + 1
    b = max_micro_batch(budget, m, n_devices=2, **BASE).value
    assert _mem(m, micro_batch=b, n_devices=2) <= budget < _mem(m, micro_batch=b + 1, n_devices=2)
    kw = {k: v for k, v in BASE.items() if k != "seq_len"}
    s = max_seq_len(budget, m, micro_batch=2, n_devices=2, **kw).value
    assert training_memory(m, seq_len=s, micro_batch=2, n_devices=2, **kw).total <= budget
    assert training_memory(m, seq_len=s + 1, micro_batch=2, n_devices=2, **kw).total > budget


@pytest.mark.parametrize("name", NAMES)
def test_min_devices_and_tp_against_brute_force(name):
    """The fewest devices and the smallest TP degree that fit; every smaller allowed value does not."""
    m = STRUCTURES[name]
    budget = _mem(m, micro_batch=2, n_devices=4, zero_stage=3) + 1
    n = min_devices(budget, m, micro_batch=2, **{**BASE, "zero_stage": 3}).value
    assert _mem(m, micro_batch=2, n_devices=n, zero_stage=3) <= budget
    assert all(_mem(m, micro_batch=2, n_devices=k, zero_stage=3) > budget for k in range(1, n))
    budget = _mem(m, micro_batch=2, n_devices=4, tp=2) + 1
    t = min_tp(budget, m, micro_batch=2, n_devices=4, **BASE).value
    assert t in (1, 2) and _mem(m, micro_batch=2, n_devices=4, tp=t) <= budget
    assert t == 1 or _mem(m, micro_batch=2, n_devices=4, tp=1) > budget


@pytest.mark.parametrize("name", NAMES)
def test_max_layers_and_width_against_brute_force(name):
    """The most layers (layer sets and windows keep their rule for any L) and the widest h within a parameter budget."""
    m = STRUCTURES[name]
    budget = params(m).total * 3
    if m.moe_layers.indices is not None:
        with pytest.raises(SymcalcError, match="numeric"):
            max_n_layers(budget, m)
    else:
        L = max_n_layers(budget, m).value
        assert params(m.replace(n_layers=L)).total <= budget < params(m.replace(n_layers=L + 1)).total
    h = max_d_model(budget, m, multiple_of=4).value
    fits = params(m.replace(d_model=h, d_ff=m.d_ff * h / m.d_model,
                            **({} if m.is_mla else {"d_head": h / m.n_heads}))).total
    assert fits <= budget


@pytest.mark.parametrize("name", NAMES)
def test_memory_grid_equals_exact(name):
    """The vectorised grid equals training_memory at each configuration (NaN where the layout is invalid)."""
    from symcalc.sweep import memory_grid

    m = STRUCTURES[name]
    axes = dict(tp=[1, 2], pp=[1, 2], dp=[1, 2], micro_batch=[1, 3], zero_stage=[0, 3], recompute=["none", "full"])
    if m.is_moe:
        axes["ep"] = [1, 2]
    g = memory_grid(m, seq_len=16, sequence_parallel=True, **axes)
    for idx in itertools.product(*(range(len(g.coords[d])) for d in g.dims)):
        cfg = g.sel(idx)
        got = g.total[idx]
        if cfg.get("ep", 1) > cfg["dp"]:
            assert np.isnan(got)
            continue
        want = float(training_memory(m, seq_len=16, sequence_parallel=True, **cfg).total)
        assert abs(got - want) <= 1e-12 * want


@pytest.mark.parametrize("name", NAMES)
def test_plan_top_choice_matches_brute_force(name):
    """The planner's first row is the fastest candidate that fits, by substitution into the expressions."""
    m = STRUCTURES[name]
    cands = candidates(m, n_devices=4, global_batch=8, max_tp=2, max_micro_batch=2)

    def cost(c):
        layers = stage_layers(int(m.n_layers), c["pp"])
        return (layout_memory(m, seq_len=8, layers_per_stage=layers, **c),
                step_time(m, seq_len=8, global_batch=8, layers_per_stage=layers, **c, **{**COSTS, **LINKS}).total)

    costs = [cost(c) for c in cands]
    budget = sorted(mem for mem, _ in costs)[len(costs) // 2]
    res = plan(m, n_devices=4, memory=budget, seq_len=8, global_batch=8, max_tp=2, max_micro_batch=2, top=2,
               node_size=4, **COSTS)
    best = min(time for mem, time in costs if mem <= budget)
    assert res.rows and res.rows[0].step_time == best and res.rows[0].memory <= budget
    if m.is_moe:
        assert any(c["ep"] > 1 for c in cands)


def test_expert_parallelism_divides_routed_experts_only():
    """With e = 2 the routed experts' weights halve on each device; shared experts and the router stay whole."""
    m = STRUCTURES["mla-dense-first-shared-mtp"]
    one = training_memory(m, seq_len=16, micro_batch=1, dp=2, ep=1)
    two = training_memory(m, seq_len=16, micro_batch=1, dp=2, ep=2)
    assert two["weights/moe/experts"] * 2 == one["weights/moe/experts"]
    assert two["weights/mtp/moe/experts"] * 2 == one["weights/mtp/moe/experts"]
    for part in ("weights/moe/shared_experts", "weights/moe/router", "weights/attention/kv_b"):
        assert two[part] == one[part]
