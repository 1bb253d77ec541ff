"""The planner's compiled cost model (symcalc._plancost) against the public sympy path: identical exact numbers."""

from __future__ import annotations

import random

import pytest
from sympy import Integer, Rational

from symcalc import Model
from symcalc.frameworks import FRAMEWORKS
from symcalc.plan import _layouts, layout_memory, plan, step_time
from symcalc._plancost import LayoutCosts

PRESETS = ["llama-2-7b", "llama-2-70b", "mixtral-8x7b"]  # dense MHA, GQA (g = 8, t up to 32 > g), MoE with EP
COSTS = dict(peak_flops=Integer(989 * 10**12), bandwidth_tp=Integer(450 * 10**9), bandwidth_dp=Integer(50 * 10**9),
             bandwidth_pp=Integer(50 * 10**9), bandwidth_ep=Integer(50 * 10**9), kernel_efficiency=Rational(4, 5),
             gemm_half_size=Integer(128))
POLICIES = ("none", "selective", "full")


def _common(batch):
    return dict(seq_len=Integer(4096), global_batch=Integer(batch), precision="mixed", flash_attention=True,
                sequence_parallel=True, dropout=False, allgather_bucket=0, max_live_params=0)


def _sample(model, n, batch, k, seed):
    layouts = list(_layouts(model, n, batch, FRAMEWORKS["any"], 32, 16, 4, None))
    rng = random.Random(seed)
    picked = rng.sample(layouts, min(k, len(layouts)))
    # the edge regimes: one stage, one data-parallel rank, t above the KV heads, interleaving
    for want in (lambda L: L[1] == 1, lambda L: L[2] == 1, lambda L: L[0] > int(model.n_kv_heads), lambda L: L[5] > 1):
        picked += [L for L in layouts if want(L)][:3]
    return picked


@pytest.mark.parametrize("name", PRESETS)
def test_compiled_exact_equals_the_sympy_expressions(name):
    """Memory, every step-time part and the total of sampled layouts: the compiled exact path gives the very
    rational that substituting the layout into layout_memory and step_time gives (incl. pp = 1, dp = 1, t > g, v > 1)."""
    model = Model.preset(name)
    n, batch = 512, 1024
    costs = LayoutCosts(model, (0, 1, 2, 3), POLICIES, COSTS, _common(batch))
    rows = _sample(model, n, batch, 6, seed=len(name))
    assert any(L[0] > int(model.n_kv_heads) for L in rows) or int(model.n_kv_heads) >= 32
    for t, p, d, e, b, v, zs, layers in rows:
        for z in (0, 3):
            for r in POLICIES:
                memory, parts, total = costs.exact((t, p, d, e, b, v, layers), z, r)
                degrees = dict(tp=t, pp=p, dp=d, micro_batch=b, virtual_stages=v, layers_per_stage=layers,
                               zero_stage=z, recompute=r, **({"ep": e} if model.is_moe else {}))
                want_mem = layout_memory(model, seq_len=4096, precision="mixed", flash_attention=True,
                                         sequence_parallel=True, dropout=False, allgather_bucket=0, max_live_params=0,
                                         **degrees)
                want = step_time(model, seq_len=4096, global_batch=batch, precision="mixed", **degrees,
                                 **{k: v_ for k, v_ in COSTS.items()})
                assert Rational(memory) == want_mem
                assert {k: Rational(x) for k, x in parts.items()} == dict(want.items())
                assert Rational(total) == want.total


def test_float_pieces_match_the_exact_values():
    """The float64 memory and time the planner ranks with are the exact values to within 1e-12 (relative)."""
    model = Model.preset("mixtral-8x7b")
    costs = LayoutCosts(model, (1, 2), POLICIES, COSTS, _common(1024))
    for t, p, d, e, b, v, zs, layers in _sample(model, 256, 1024, 10, seed=3):
        values = (t, p, d, e, b, v, layers)
        floats = costs.floats(list(values))
        for z in (1, 2):
            for r in POLICIES:
                memory, _, total = costs.exact(values, z, r)
                assert floats.memory(z, r) == pytest.approx(float(memory), rel=1e-12)
                assert floats.time(z, r) == pytest.approx(float(total), rel=1e-12)


def test_rows_are_exact_quantities():
    """A plan's rows hold exact rationals (printing, JSON and arithmetic as before the compiled path)."""
    res = plan(Model.preset("llama-2-7b"), n_devices=8, memory=80 * 2**30, peak_flops=989 * 10**12, seq_len=4096,
               global_batch=64, top=2)
    row = res.rows[0]
    assert row.memory.exact.is_Integer and row.step_time.exact.is_Rational
    assert row.step_time.exact == sum(p.exact for p in row.time_parts.values())
    assert float(row.mfu) == pytest.approx(float(row.mfu.exact))
    assert row.as_dict()["memory_bytes"] == int(row.memory.exact)
    assert "GiB" in str(res)


def test_integer_code_and_fraction_code_agree():
    """The re-check's integer code (int degrees) and its Fraction fallback (other exact inputs) give the same numbers."""
    from fractions import Fraction

    model = Model.preset("llama-2-70b")
    costs = LayoutCosts(model, (1,), ("selective",), COSTS, _common(256))
    for t, p, d, e, b, v, zs, layers in _sample(model, 64, 256, 5, seed=7):
        values = (t, p, d, e, b, v, layers)
        fn = costs._exact_function(1, "selective")
        assert fn(*values) == fn(*(Fraction(x) for x in values))
    assert fn._int is not None and fn._fraction is not None
