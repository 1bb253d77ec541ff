"""``symcalc time`` without sympy: the run's FLOPs from the generated code, the rest in exact fractions.

Covered: a model from ``--preset NAME`` (or ``--hf-config`` holding a preset's model), ``--tokens``,
``-s``, ``-gbs``, ``--flops``, ``--recompute``, ``--num-gpus``, ``--hardware NAME`` (a name or alias as
``symcalc hardware`` lists it), ``--dtype``, ``--peak-flops`` (a number or a catalogue name),
``--mfu`` (a number or a percentage, not ``plan``), ``--achieved-flops``, ``--power``, ``--pue``,
``--price-per-gpu-hour``, ``--causal`` and ``--json``. The formulas are :class:`symcalc.cost.TrainingCost`'s:
t = F / (n R), GPU-hours n t / 3600, energy P n t PUE / 3.6e6, cost c_h x GPU-hours, evaluated on
ints and Fractions; the FLOPs F are the generated functions of :mod:`symcalc._generated` (the
same expressions ``symcalc flops`` evaluates; with ``--causal``, the run's total generated from ``symcalc flops
--causal``, half the attention square), so the answer is the full path's to the byte.
Anything else (size flags, a symbolic result such as energy without a board power,
every input the full path refuses) returns None and the full path answers.
"""

from __future__ import annotations

import importlib
from fractions import Fraction

from ._fast import _Fallback
from ._fast_args import amount, answer_with, share

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["answer"]

DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "fp4")
#: The model and output flags every sympy-free command of this kind takes (time, serve).
MODEL_FLAGS = {"--preset": ("preset", "text"), "--hf-config": ("hf_config", "text"), "--json": ("json", "flag")}
FLAGS = {
    **MODEL_FLAGS,
    "--tokens": ("tokens", "text"), "--sequence-length": ("s", "seq"), "-s": ("s", "seq"),
    "--global-batch-size": ("gbs", "int"), "-gbs": ("gbs", "int"), "--flops": ("flops", ("exact", "6N", "8N")),
    "--recompute": ("recompute", ("none", "selective", "full")), "--num-gpus": ("n", "int"),
    "--hardware": ("hardware", "text"), "--dtype": ("dtype", DTYPES), "--peak-flops": ("peak", "text"),
    "--mfu": ("mfu", "text"), "--achieved-flops": ("achieved", "text"), "--power": ("power", "text"),
    "--pue": ("pue", "text"), "--price-per-gpu-hour": ("price", "text"), "--causal": ("causal", "flag"),
}
SECONDS_PER_DAY, SECONDS_PER_HOUR, JOULES_PER_KWH = 86400, 3600, 3_600_000
UNITS = {"flops": "FLOP", "seconds": "s", "gpu_hours": "device-hours", "energy_kwh": "kWh",
         "cost": "currency of --price-per-gpu-hour", "peak_flops": "FLOP/s per device"}


def _need(value):
    if value is None:
        raise _Fallback
    return value


def _exact(value):
    """An int for a whole number, else the Fraction."""
    if type(value) is not int and value.denominator == 1:
        return value.numerator
    return value


def _json_number(value):
    """:func:`symcalc.cost._number`: an int when whole, else a float."""
    value = _exact(value)
    return value if type(value) is int else float(value)


def model_module(opts: dict):
    """The generated module of ``--preset`` (or of ``--hf-config`` holding a preset's model) and the model's name."""
    from .._generated import MODULES

    if "hf_config" in opts:
        if "preset" in opts:
            raise _Fallback
        from ._fast_sources import from_config

        preset, name = _need(from_config(opts["hf_config"]))
    else:
        preset = _need(opts.get("preset"))
        name = None
    m = importlib.import_module(f"symcalc._generated.{_need(MODULES.get(preset))}")
    return m, m.INFO["name"] if name is None else name


def run_flops(m, opts: dict, convention: str, tokens: int, s: int):
    """:func:`symcalc.cost.run_flops` of ``tokens`` tokens from the generated FLOPs functions."""
    policy = opts["recompute"]
    if convention != "exact" and policy != "none":
        raise _Fallback  # the full path's error
    if convention == "exact" and opts["causal"]:
        values = getattr(m, f"causal_{policy}")(tokens, s)  # half the attention square: the run's total
        return _need(None if values is m.SLOW else _exact(values[0]))
    values = getattr(m, f"flops_{policy}")(tokens, 1, s)
    if values is m.SLOW:
        raise _Fallback
    if convention == "exact":
        return _exact(sum(values[:len(getattr(m, f"FLOPS_PARTS_{policy.upper()}"))]))
    six_n = values[-1] if "s" in opts else m.INFO["six_n"] * tokens  # with -s, a learned table has s rows
    return six_n if convention == "6N" else _exact(Fraction(six_n * 8, 6))


def _hardware(name: str):
    """``Hardware.as_dict()`` of a catalogue name or alias (as listed), else fall back."""
    from .._generated.catalog import ALIASES, HARDWARE
    from ._fast_catalog import hardware_entry

    canonical = _need(ALIASES.get(name))
    return hardware_entry(next(i for i, hw in enumerate(HARDWARE) if hw["name"] == canonical))


def _figure(hw: dict, key: str):
    """A figure's exact value (an int, or a Fraction from its text), None where the entry has none."""
    fig = hw["figures"].get(key)
    if fig is None:
        return None
    value = fig["value"]
    return value if isinstance(value, int) else _exact(Fraction(value))


def peak_flops(text: str, dtype: str):
    """``--peak-flops``: a catalogue name's peak at ``dtype`` (None where it has none), or a number
    (:func:`symcalc.cli.hwargs.parse_peak`); None for anything else."""
    from .._generated.catalog import ALIASES

    return _figure(_hardware(text), f"peak_flops/{dtype}") if text in ALIASES else amount(text)


def compute(opts: dict, defaults: dict) -> tuple:
    """The run's exact numbers and the texts around them: ``(json object, text lines)``."""
    from .._numfmt import readable_exact as readable

    m, model_name = model_module(opts)
    n = _need(opts.get("n"))
    tokens = _need(amount(_need(opts.get("tokens"))))
    if type(tokens) is not int or (opts.get("mfu") is not None and opts.get("achieved") is not None):
        raise _Fallback
    hw = _hardware(opts["hardware"]) if "hardware" in opts else None
    dtype = opts.get("dtype") or defaults["dtype"]
    if "peak" in opts:
        peak = peak_flops(opts["peak"], dtype)
    else:
        peak = None if hw is None else _figure(hw, f"peak_flops/{dtype}")
    peak = _need(peak)  # no peak (or the dtype's missing): the full path's error, or a symbolic answer
    if opts.get("mfu") == "plan":
        raise _Fallback
    if "achieved" in opts:
        rate = _need(amount(opts["achieved"]))
        mfu = Fraction(rate, 1) / peak
        if mfu > 1:
            raise _Fallback
    else:
        if "mfu" in opts:
            mfu = _need(share(opts["mfu"]))
        else:
            mfu = Fraction(*defaults["mfu"])
        if mfu > 1:
            raise _Fallback
        rate = peak * mfu
    watts = amount(opts["power"], suffix=False) if "power" in opts else (None if hw is None else _figure(hw, "power"))
    pue = amount(opts["pue"], suffix=False) if "pue" in opts else Fraction(*defaults["pue"])
    price = amount(opts["price"], suffix=False, zero=True) if "price" in opts else None
    if _need(watts) is None or _need(pue) < 1 or ("price" in opts and price is None):
        raise _Fallback
    s = opts.get("s", defaults["seq_len"])
    convention = opts.get("flops") or defaults["flops_convention"]
    opts.setdefault("recompute", defaults["recompute"])
    if defaults["causal"]:
        raise _Fallback  # the generated FLOPs count the full square unless --causal
    opts.setdefault("causal", False)
    flops = run_flops(m, opts, convention, tokens, s)
    step = run_flops(m, opts, convention, opts["gbs"] * s, s) if "gbs" in opts else None
    seconds = Fraction(flops) / (n * rate)
    results = {"flops": flops, "seconds": seconds, "days": seconds / SECONDS_PER_DAY,
               "gpu_hours": n * seconds / SECONDS_PER_HOUR, "energy_kwh": watts * n * seconds * pue / JOULES_PER_KWH}
    gpu_hours = results["gpu_hours"]
    results["cost"] = None if price is None else price * gpu_hours
    results["seconds_per_step"] = None if step is None else Fraction(step) / (n * rate)
    results = {k: None if v is None else _exact(v) for k, v in results.items()}
    policy = opts["recompute"]
    conventions = {"flops": convention, "recompute": policy if convention == "exact" else
                   ("none" if convention == "6N" else "full (in 8N)"),
                   "attention": "causal (half the square)" if opts["causal"] else "full square",
                   "rate": "achieved (given)" if "achieved" in opts else "peak x MFU",
                   "energy": "board power x devices x time x PUE"}
    notes = []
    if "mfu" not in opts and "achieved" not in opts:
        notes.append(f"MFU {float(Fraction(*defaults['mfu'])):g} is {defaults['label']}; "
                     "set --mfu (or --achieved-flops, or --mfu plan)")
    if convention == "exact" and policy == "none" and "achieved" in opts:
        notes.append("--achieved-flops with model FLOPs (no recompute): a measured rate that counts recomputation "
                     "(hardware FLOPs) pairs with --recompute full or --flops 8N")
    out = {"model": model_name or "custom", "hardware": None if hw is None else hw["name"], "n_devices": n,
           "tokens": tokens, "sequence_length": s, "conventions": conventions}
    out.update({k: _json_number(v) for k, v in results.items() if v is not None})
    out.update(mfu=_json_number(mfu), peak_flops=_json_number(peak), achieved_flops_per_device=_json_number(rate),
               power_w=_json_number(watts), pue=_json_number(pue))
    if price is not None:
        out["price_per_gpu_hour"] = _json_number(price)
    out["exact"] = {k: str(v) for k, v in results.items() if v is not None}
    out.update(units=UNITS, notes=notes)
    on = f"{hw['name']} ({dtype})" if hw is not None else "devices"
    rows = [("training FLOPs", readable(flops, "FLOP")),
            ("rate per device", readable(rate, "FLOP/s") + f" (peak {readable(peak, 'FLOP/s')} x MFU {readable(mfu, '%')})"),
            ("wall-clock", readable(results["seconds"], "s") if float(results["seconds"]) < 120
             else f"{float(results['seconds']):,.0f} s = {readable(results['days'], 'days')}"),
            ("GPU-hours", readable(results["gpu_hours"], "device-hours")),
            ("energy", readable(results["energy_kwh"], "kWh")
             + f" ({readable(watts, 'W')} x {readable(n)} devices x PUE {readable(pue)})")]
    if results["cost"] is not None:
        rows.append(("cost", readable(results["cost"], "currency")))
    if results["seconds_per_step"] is not None:
        rows.append(("per step", readable(results["seconds_per_step"], "s")))
    width = max(len(k) for k, _ in rows)
    lines = [f"symcalc time: {model_name or 'custom model'} - {tokens:,} tokens in sequences of {s} on {n:,} x {on}",
             f"FLOPs {convention} (recompute {conventions['recompute']}, attention {conventions['attention']}); "
             f"rate {conventions['rate']}"]
    lines += [f"{k:<{width}}  {v}" for k, v in rows] + [f"note: {note}" for note in notes]
    return out, lines


def answer(argv: Sequence[str]) -> Optional[str]:
    """The text ``symcalc time ...`` prints, or None when the full path must answer."""
    from .._generated.catalog import TIME_DEFAULTS

    return answer_with(argv, FLAGS, compute, TIME_DEFAULTS)
