"""Training time, GPU-hours, energy and cost: published runs, symbolic = numeric, input checks."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from sympy import Rational

from symcalc import Model, SymcalcError, params, symbols as S
from symcalc._validation import LLAMA_CARD_HOURS
from symcalc.cost import TrainingCost, run_flops, training_cost
from symcalc.hardware import get

GPT3 = Model(n_layers=96, d_model=12288, n_heads=96, n_kv_heads=96, d_ff=4 * 12288, vocab=51200)


def test_narayanan_gpt3_about_34_days():
    """GPT-3 175B, 300B tokens, 1024 A100 at 140 TFLOP/s achieved, eq. 4 (8TP/nX): 'about 34 days' (33.5-34.5)."""
    run = training_cost(GPT3, tokens=300e9, n_devices=1024, hardware="a100", achieved_flops="140T", flops="8N",
                        seq_len=2048)
    assert Rational(67, 2) <= run.days < Rational(69, 2)
    assert run.mfu == Rational(140, 312)           # 140 of the A100's 312 dense bf16 TFLOP/s


def test_narayanan_exact_count_is_eq3_and_3_percent_above_eq4():
    """With full recompute the exact count is eq. 3; it exceeds eq. 4's 8TP by 1 + s/6h + V/16Lh (34.7 days)."""
    from symcalc.flops import narayanan_flops

    kw = dict(tokens=300e9, n_devices=1024, achieved_flops="140T", seq_len=2048)
    exact = training_cost(GPT3, flops="exact", recompute="full", **kw)
    eq4 = training_cost(GPT3, flops="8N", **kw)
    assert exact.flops == narayanan_flops(GPT3, batch=1, seq_len=2048) * 300 * 10**9 / 2048
    s, h, L, V = 2048, 12288, 96, 51200
    P = params(GPT3).total                          # eq. 3 is 96BsLh^2(...); eq. 4 is 8TP
    assert exact.seconds / eq4.seconds == 96 * L * h**2 * (1 + Rational(s, 6 * h) + Rational(V, 16 * L * h)) / (8 * P)
    assert 34 < exact.days < 35


# LLAMA_CARD_HOURS (Llama 3.1 model card: 30.84M H100-80GB GPU-hours for 405B) lives in symcalc._validation


def _hours(tokens, seq_len, mfu):
    return training_cost(Model.preset("llama-3.1-405b"), tokens=tokens, seq_len=seq_len, n_devices=16384,
                         hardware="h100", mfu=mfu).gpu_hours


def test_llama31_405b_gpu_hours_at_the_papers_mfu():
    """The card's 30.84M H100-hours lie within what Table 4's MFU allows for the published run.

    Llama 3 paper: 15.6T tokens at 8K context at 41-43% BF16 MFU (Table 4 rows 1-2), then ~800B
    long-context tokens (contexts rising to 128K, schedule unpublished) at 38% (row 3); dense bf16
    peak 989.4 TFLOP/s. Tolerance: MFU printed to whole percents (+-0.5), the long-context stage
    between 8K and 128K: 28.0M-31.8M hours.
    """
    low = _hours("15.6T", 8192, Rational(435, 1000)) + _hours("0.8T", 8192, Rational(385, 1000))
    high = _hours("15.6T", 8192, Rational(405, 1000)) + _hours("0.8T", 131072, Rational(375, 1000))
    assert low < LLAMA_CARD_HOURS < high
    assert 27_900_000 < low and high < 31_900_000        # the band is this narrow, not wider


def test_llama31_405b_flops_match_the_paper():
    """6ND for 405B on 15.6T tokens is the paper's 3.8e25 FLOPs (to its two digits)."""
    flops = run_flops(Model.preset("llama-3.1-405b"), tokens="15.6T", flops="6N")
    assert Rational(375, 10) * 10**24 <= flops < Rational(385, 10) * 10**24


def test_bloom_energy_is_board_power_times_gpu_hours():
    """BLOOM (Luccioni et al. 2023): 1,082,990 A100 GPU-hours at 400 W = 433,196 kWh of dynamic energy."""
    rate = get("a100").peak("bf16") / 2
    run = TrainingCost(flops=1_082_990 * 3600 * rate, n_devices=384, rate=rate, peak_flops=rate * 2,
                       mfu=Rational(1, 2), power=get("a100").power)
    assert run.gpu_hours == 1_082_990 and run.energy_kwh == Rational(4331960, 10)
    assert run.subs(pue=Rational(6, 5)).energy_kwh == run.energy_kwh  # pue is a field, not a symbol, here
    assert TrainingCost(**{**vars(run), "pue": Rational(6, 5)}).energy_kwh == Rational(4331960, 10) * Rational(6, 5)


@given(L=st.integers(1, 8), h=st.sampled_from([8, 64, 512]), a=st.sampled_from([1, 2, 8]),
       v=st.integers(1, 5000), s=st.integers(1, 4096), D=st.integers(1, 10**13), n=st.integers(1, 4096),
       peak=st.integers(1, 10**16), u=st.fractions(Rational(1, 100), 1), power=st.integers(1, 2000),
       pue=st.fractions(1, 2), price=st.fractions(0, 10), B=st.integers(1, 4096),
       flops=st.sampled_from(["exact", "6N", "8N"]), recompute=st.sampled_from(["none", "selective", "full"]))
def test_symbolic_equals_numeric(L, h, a, v, s, D, n, peak, u, power, pue, price, B, flops, recompute):
    """Every result built fully symbolic, then substituted, equals the numeric call exactly (n = 1, MFU = 1 too)."""
    if flops != "exact":
        recompute = "none"
    sizes = dict(n_layers=L, d_model=h, n_heads=a, n_kv_heads=a, d_ff=4 * h, vocab=v)
    symbolic = training_cost(Model(), flops=flops, recompute=recompute, power=S.device_power,
                             pue=S.pue, price_per_device_hour=S.price_per_device_hour, global_batch=S.global_batch)
    values = {**sizes, "tokens": D, "seq_len": s, "n_devices": n, "peak_flops": peak, "mfu": Rational(u),
              "device_power": power, "pue": Rational(pue), "price_per_device_hour": Rational(price),
              "global_batch": B}
    numeric = training_cost(Model(**sizes), tokens=D, seq_len=s, n_devices=n, peak_flops=peak, mfu=Rational(u),
                            flops=flops, recompute=recompute, power=power, pue=Rational(pue),
                            price_per_device_hour=Rational(price), global_batch=B)
    substituted = symbolic.subs(values)
    for key, value in numeric.results().items():
        assert getattr(substituted, key) == value, key


def test_inputs_go_through_the_one_door():
    """2e12 and '2T' tokens, 0.4 and '40%' MFU, '140T' achieved rates are exact; the result is exact."""
    m = Model.preset("llama-2-7b")
    a = training_cost(m, tokens=2e12, seq_len=4096, n_devices=8, hardware="h100", mfu=0.4)
    b = training_cost(m, tokens="2T", seq_len=4096, n_devices=8, hardware="h100", mfu="40%")
    assert a.seconds == b.seconds and a.seconds.is_Rational and a.mfu == Rational(2, 5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(mfu=40), "above 1"),
    (dict(mfu="140%"), "above 1"),
    (dict(tokens=2.5), "not a whole number"),
    (dict(pue="0.9"), "below 1"),
    (dict(achieved_flops="2000T"), "above the peak"),
    (dict(achieved_flops="100T", mfu=0.5), "both given"),
    (dict(flops="7N"), "not a FLOPs convention"),
    (dict(flops="6N", recompute="full"), "6N counts no recomputation"),
    (dict(recompute="some"), "not a recompute policy"),
    (dict(hardware="h1000"), "not in the catalogue"),
    (dict(n_devices=0), "not positive"),
])
def test_bad_input_is_a_one_line_error(kwargs, message):
    """Impossible or inconsistent inputs raise a one-line SymcalcError naming the argument."""
    base = dict(tokens="1T", seq_len=2048, n_devices=8, hardware="a100")
    with pytest.raises(SymcalcError, match=message) as exc:
        training_cost(Model.preset("gpt2"), **{**base, **kwargs})
    assert "\n" not in str(exc.value)


def test_unknown_power_leaves_energy_symbolic():
    """A TPU has no published board power: energy stays in P_dev until one is given."""
    run = training_cost(Model.preset("gpt2"), tokens="1T", seq_len=1024, n_devices=256, hardware="v5e", mfu=0.5)
    assert run.energy_kwh.free_symbols == {S.device_power} and run.as_dict()["energy_kwh"] is None
    assert training_cost(Model.preset("gpt2"), tokens="1T", seq_len=1024, n_devices=256, hardware="v5e", mfu=0.5,
                         power=200).as_dict()["energy_kwh"] > 0


def test_printing_is_decimal_with_units_and_html():
    """str() shows decimals with units; _repr_html_ is a table; as_dict keeps the exact values as strings."""
    run = training_cost(Model.preset("gpt2"), tokens="1B", seq_len=1024, n_devices=8, hardware="rtx-4090", mfu=0.3,
                        price_per_device_hour=Rational(1, 2), global_batch=512)
    text = str(run)
    assert "days" in text and "kWh" in text and "device-hours" in text and "per step" in text
    assert run._repr_html_().startswith("<table") and "device-hours" in run._repr_html_()
    d = run.as_dict()
    assert set(d) >= {"flops", "seconds", "days", "gpu_hours", "energy_kwh", "cost", "seconds_per_step"}
    assert Rational(d["exact"]["seconds"]) == run.seconds
