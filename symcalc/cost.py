"""Training time, GPU-hours, energy and cost: exact expressions over FLOPs and hardware symbols.

A run of D tokens costs F training FLOPs (:func:`run_flops`, by a stated convention). On n
devices each sustaining a rate R = F_peak x MFU (or a measured per-device rate), it takes

.. math::

    t = \\frac{F}{n R}, \\qquad \\text{GPU-hours} = \\frac{n t}{3600}, \\qquad
    E_{\\mathrm{kWh}} = \\frac{P_{\\mathrm{dev}}\\, n\\, t\\, \\mathrm{PUE}}{3.6 \\times 10^6}, \\qquad
    \\text{cost} = c_h \\cdot \\text{GPU-hours}

with P_dev the board power [W] and c_h the price per device-hour. Each formula is written once,
as a property of :class:`TrainingCost`; every input may be a symbol, so the result is a closed
form until numbers are substituted (and exact when they are).

FLOPs conventions (``flops=``):

- ``"exact"`` (the default): :func:`symcalc.training_flops` for D tokens in sequences of s:
  matmuls, full attention square (``causal=True`` halves it), **no recomputation** by default —
  the model FLOPs that MFU is defined on (PaLM appendix B). With ``recompute="full"`` it counts
  hardware FLOPs (pair it with a hardware-FLOPs rate such as Narayanan et al.'s 140 TFLOP/s).
- ``"6N"``: 6 N D with N the active parameters (Kaplan et al. 2020), no attention, no recompute.
- ``"8N"``: 8 N D, Narayanan et al. 2021 eq. 4: forward 2N, backward 4N and one recomputed
  forward 2N per token; it drops eq. 3's ``s/6h`` and ``V/16Lh`` terms.

>>> from symcalc import Model
>>> gpt3 = Model(n_layers=96, d_model=12288, n_heads=96, n_kv_heads=96, d_ff=4 * 12288, vocab=51200)
>>> run = training_cost(gpt3, tokens=300e9, n_devices=1024, achieved_flops="140T", flops="8N", seq_len=2048)
>>> round(float(run.days), 2)         # Narayanan et al. 2021 §5.1: "about 34 days"
33.95
>>> print(training_cost(Model(), flops="6N").seconds)
tokens*(12*d_ff*d_model*n_layers + 12*d_model**2*n_layers + 12*d_model**2*n_kv_heads*n_layers/n_heads + 24*d_model*n_layers + 12*d_model*vocab + 12*d_model)/(mfu*n_devices*peak_flops)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Optional

from sympy import Expr, Integer

from . import symbols as S
from ._numfmt import exact_text
from .display import _float, html_table, quantity, readable
from .errors import SymcalcError
from .inputs import as_amount, as_bool, as_choice, as_expr, as_fraction, as_model, as_positive, as_size
from .model import Model

__all__ = ["FLOPS_CONVENTIONS", "run_flops", "training_cost", "TrainingCost", "as_mfu", "planned"]

#: The recomputation a run's FLOPs count unless told: none, the model FLOPs MFU is defined on (PaLM appendix B).
MFU_RECOMPUTE = "none"
#: How ``training_cost`` counts the FLOPs of a run: ``exact`` model FLOPs (the default), Kaplan's ``6N``, or ``8N`` (with one full recompute, Narayanan et al. 2021 eq. 4).
FLOPS_CONVENTIONS = ("exact", "6N", "8N")
RECOMPUTE = ("none", "selective", "full")
SECONDS_PER_DAY = 86400
SECONDS_PER_HOUR = 3600
JOULES_PER_KWH = 3_600_000


def as_mfu(name: str, value: Any) -> Expr:
    """A utilisation in (0, 1]: ``0.4``, ``"0.4"``, ``"2/5"`` or ``"40%"`` (exact).

    >>> as_mfu("mfu", "40%"), as_mfu("mfu", 0.38)
    (2/5, 19/50)
    """
    if isinstance(value, str) and value.strip().endswith("%"):
        return as_fraction(name, as_amount(name, value.strip()[:-1].strip()) / 100)
    return as_fraction(name, value)


def run_flops(model: Model, *, tokens: Any = S.tokens, seq_len: Any = S.seq_len, flops: Optional[str] = None,
              recompute: str = MFU_RECOMPUTE, causal: Optional[bool] = None) -> Expr:
    """Training FLOPs of a run of ``tokens`` tokens under a counting convention (see the module).

    >>> from symcalc import Model
    >>> m = Model.preset("llama-2-7b")
    >>> run_flops(m, tokens=2e12, seq_len=4096)                 # exact model FLOPs
    92169830400000000000000
    >>> run_flops(m, tokens="2T", flops="6N")                   # 6 N D
    80860987392000000000000
    >>> run_flops(m, tokens=1, flops="6N", recompute="full")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: recompute='full' with flops='6N': 6N counts no recomputation; use flops='8N' (one full recompute, Narayanan et al. eq. 4) or flops='exact'
    """
    from .flops import six_n, training_flops

    from .defaults import resolve

    model, causal = as_model("model", model), as_bool("causal", resolve("causal", causal))
    flops = resolve("flops_convention", flops)
    if flops not in FLOPS_CONVENTIONS:
        raise SymcalcError(f"flops={flops!r} is not a FLOPs convention; use one of {', '.join(FLOPS_CONVENTIONS)}")
    if recompute not in RECOMPUTE:
        raise SymcalcError(f"recompute={recompute!r} is not a recompute policy; use one of {', '.join(RECOMPUTE)}")
    D = as_size("tokens", tokens)
    if flops == "exact":
        return training_flops(model, seq_len=as_size("seq_len", seq_len), tokens=D, recompute=recompute,
                              causal=causal).total
    if recompute != "none":
        raise SymcalcError(f"recompute={recompute!r} with flops={flops!r}: {flops} counts "
                           + ("no recomputation; use flops='8N' (one full recompute, Narayanan et al. eq. 4) or "
                              "flops='exact'" if flops == "6N" else "one full recompute by definition; drop recompute"))
    per_param = 6 if flops == "6N" else 8
    return six_n(model) / 6 * per_param * D


@dataclass(frozen=True)
class TrainingCost:
    """Time, GPU-hours, energy and cost of a training run: exact expressions, readable when printed.

    The inputs are fields; every result is a property written once here (see the module
    docstring). ``str()`` shows decimals with units, ``as_dict()`` gives JSON numbers (and the exact
    values as strings), ``subs()`` substitutes symbols in all of them.
    """

    flops: Expr                        #: training FLOPs of the run (by ``conventions["flops"]``)
    n_devices: Expr                    #: devices n
    rate: Expr                         #: FLOP/s each device sustains: peak x MFU, or the given achieved rate
    peak_flops: Expr                   #: dense peak FLOP/s per device
    mfu: Expr                          #: rate / peak
    power: Expr                        #: board power per device [W] (the symbol when unknown)
    pue: Expr = Integer(1)             #: facility energy over IT energy
    price: Optional[Expr] = None       #: price per device-hour (None: no cost)
    step_flops: Optional[Expr] = None  #: FLOPs of one step of the global batch (None: not asked)
    info: Mapping[str, Any] = field(default_factory=dict)   #: model, hardware, tokens, conventions

    def __post_init__(self) -> None:
        for name in ("flops", "n_devices", "rate", "peak_flops", "mfu", "power", "pue", "price", "step_flops"):
            value = getattr(self, name)
            if value is not None or name not in ("price", "step_flops"):
                object.__setattr__(self, name, as_expr(f"TrainingCost.{name}", value))
        if not isinstance(self.info, Mapping):
            raise SymcalcError(f"TrainingCost.info={self.info!r:.60} is not a mapping")

    # Each result is a Quantity once it is a number (symcalc.display's rule), the expression before.
    @property
    def seconds(self) -> Expr:
        """Wall-clock seconds: F / (n R)."""
        return quantity(self.flops / (self.n_devices * self.rate), "s")

    @property
    def days(self) -> Expr:
        """Wall-clock time in days (a display :class:`~symcalc.display.Quantity`)."""
        return quantity(self.seconds / SECONDS_PER_DAY, "days")

    @property
    def gpu_hours(self) -> Expr:
        """Device-hours: n t / 3600."""
        return quantity(self.n_devices * self.seconds / SECONDS_PER_HOUR, "device-hours")

    @property
    def energy_kwh(self) -> Expr:
        """Energy [kWh]: board power x devices x time x PUE (J / 3.6e6)."""
        return quantity(self.power * self.n_devices * self.seconds * self.pue / JOULES_PER_KWH, "kWh")

    @property
    def cost(self) -> Optional[Expr]:
        """Price per device-hour x device-hours (None when no price was given)."""
        return None if self.price is None else quantity(self.price * self.gpu_hours, "currency")

    @property
    def seconds_per_step(self) -> Optional[Expr]:
        """Seconds per optimizer step of the global batch (None when no batch was given)."""
        return None if self.step_flops is None else quantity(self.step_flops / (self.n_devices * self.rate), "s")

    RESULTS = ("flops", "seconds", "days", "gpu_hours", "energy_kwh", "cost", "seconds_per_step")

    def results(self) -> dict[str, Optional[Expr]]:
        """Every result by name (None where not asked for)."""
        return {k: getattr(self, k) for k in self.RESULTS}

    def subs(self, *args: Any, **kwargs: Any) -> "TrainingCost":
        """Substitute into every field: ``run.subs({S.mfu: Rational(2, 5)})`` or ``run.subs(mfu=0.4)``."""
        from .breakdown import as_substitutions

        mapping = as_substitutions(*args, **kwargs)
        fields = {k: (None if v is None else as_expr(k, v).subs(mapping))
                  for k, v in vars(self).items() if k != "info"}
        return replace(self, **fields)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: FLOPs as an int, the rest as floats (null where unknown), exact values as strings."""
        out: dict[str, Any] = dict(self.info)
        res = self.results()
        for key, value in res.items():
            if key in ("cost", "seconds_per_step") and value is None:
                continue
            out[key] = _number(value)
        out.update(mfu=_number(self.mfu), peak_flops=_number(self.peak_flops),
                   achieved_flops_per_device=_number(self.rate), power_w=_number(self.power), pue=_number(self.pue))
        if self.price is not None:
            out["price_per_gpu_hour"] = _number(self.price)
        out["exact"] = {k: exact_text(as_expr(k, v)) for k, v in res.items() if v is not None}
        return out

    def _lines(self) -> list[tuple[str, str]]:
        rows = [("training FLOPs", readable(self.flops, "FLOP")),
                ("rate per device", readable(self.rate, "FLOP/s")
                 + (f" (peak {readable(self.peak_flops, 'FLOP/s')} x MFU {readable(self.mfu, '%')})"
                    if not self.rate.free_symbols else "")),
                ("wall-clock", readable(self.seconds, "s") if self.flops.free_symbols or self.rate.free_symbols
                 or float(self.seconds) < 120 else f"{float(self.seconds):,.0f} s = {readable(self.days, 'days')}"),
                ("GPU-hours", readable(self.gpu_hours, "device-hours")),
                ("energy", readable(self.energy_kwh, "kWh") + (
                    f" ({readable(self.power, 'W')} x {readable(self.n_devices)} devices x PUE "
                    f"{readable(self.pue)})" if not self.power.free_symbols else " (needs the board power)"))]
        if self.cost is not None:
            rows.append(("cost", readable(self.cost, "currency")))
        if self.seconds_per_step is not None:
            rows.append(("per step", readable(self.seconds_per_step, "s")))
        return rows

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self._lines())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self._lines())

    def _repr_html_(self) -> str:
        return html_table(self._lines(), header=("training run", ""), title=f"training {self.info.get('model', '')}")


def _number(value: Expr) -> Any:
    """An int for a whole number, a float otherwise, None while symbols remain."""
    value = as_expr("value", value)
    if value.free_symbols:
        return None
    return int(value) if value.is_integer else _float(value)


def planned(model: Model, *, n_devices: Any, hardware: Any, dtype: Optional[str] = None, peak_flops: Any = None,
            seq_len: Any = None, global_batch: Any = None, flops: Optional[str] = None, recompute: str = "none"):
    """The planner's fastest layout (:func:`symcalc.plan.plan` with the hardware entry's memory, links and
    node size) for one step of ``global_batch`` sequences: its ``mfu`` is the exact model FLOPs of the
    step over n x peak x the estimated step time, so ``training_cost(mfu="plan")`` is steps x step time.

    >>> from symcalc import Model
    >>> row = planned(Model.preset("llama-2-7b"), n_devices=64, hardware="h100", seq_len=4096, global_batch=512)
    >>> (row.tp, row.pp, row.dp), round(float(row.mfu), 3)
    ((1, 4, 16), 0.602)
    """
    from .defaults import resolve
    from .hardware import DTYPES, get
    from .plan import plan

    dtype, flops = as_choice("dtype", resolve("dtype", dtype), DTYPES), resolve("flops_convention", flops)
    if flops != "exact" or recompute != "none":
        raise SymcalcError("mfu='plan' is the planner's model-FLOPs utilisation: use flops='exact' and "
                           "recompute='none' (the planner already counts the recomputation it picks)")
    if hardware is None:
        raise SymcalcError("mfu='plan' needs hardware= (memory, links and node size come from the entry)")
    if global_batch is None:
        raise SymcalcError("mfu='plan' needs global_batch= (sequences per step: the planner lays out one step)")
    hw = get(hardware, "hardware")
    n = as_size("n_devices", n_devices)
    if not n.is_Integer:
        raise SymcalcError(f"n_devices={n} is symbolic; mfu='plan' needs a number of devices")
    res = plan(model, n_devices=int(n), memory=hw.require("memory", "--gpu-memory"),
               peak_flops=hw.peak(dtype) if peak_flops is None else peak_flops, seq_len=seq_len,
               global_batch=as_size("global_batch", global_batch),
               bandwidth_tp=hw.require("bandwidth_scaleup", "--tp-bandwidth"),
               bandwidth_dp=hw.bandwidth_scaleout, bandwidth_ep=hw.bandwidth_scaleout,
               node_size=None if hw.scaleup_domain is None else int(hw.scaleup_domain), top=1)
    if not res.rows:
        raise SymcalcError(f"mfu='plan': no layout of {int(n)} x {hw.name} fits the model at this sequence length "
                           f"and batch (the leanest needs {float(res.least_memory or 0) / 2**30:.1f} GiB per device)")
    return res.rows[0]


def training_cost(model: Model, *, tokens: Any = S.tokens, n_devices: Any = S.n_devices, hardware: Any = None,
                  dtype: Optional[str] = None, peak_flops: Any = None, mfu: Any = S.mfu, achieved_flops: Any = None,
                  seq_len: Any = S.seq_len, flops: Optional[str] = None, recompute: str = MFU_RECOMPUTE, causal: Optional[bool] = None,
                  power: Any = None, pue: Any = None, price_per_device_hour: Any = None,
                  global_batch: Any = None) -> TrainingCost:
    """Time, GPU-hours, energy and cost of training ``model`` on ``tokens`` tokens (see the module).

    Parameters
    ----------
    model : Model
    tokens : D, tokens trained on (``2e12``, ``"2T"``); seq_len : s [tokens] (``flops="exact"``)
    n_devices : n; hardware : a catalogue name or entry (peak at ``dtype``, power); dtype : ``"bf16"``...
    peak_flops : F_peak [FLOP/s per device] (default: the hardware's, else the symbol)
    mfu : fraction of the peak sustained (``0.4``, ``"40%"``), or ``"plan"``: the planner's estimate for its
        fastest layout (:func:`planned`; needs ``hardware`` and ``global_batch``); achieved_flops : a measured per-device
        rate [FLOP/s] instead (then MFU = achieved / peak)
    flops : ``"exact"`` (today's default; None: the active default), ``"6N"`` or ``"8N"``; recompute, causal : for ``"exact"``
    power : board power per device [W] (default: the hardware's, else the symbol P_dev)
    pue : power usage effectiveness (default 1: IT energy only); price_per_device_hour : c_h
    global_batch : sequences per optimizer step, for ``seconds_per_step``

    Examples
    --------
    >>> from symcalc import Model
    >>> run = training_cost(Model.preset("llama-2-7b"), tokens="2T", seq_len=4096, n_devices=1024,
    ...                     hardware="a100", mfu="50%", price_per_device_hour=2)
    >>> run.seconds                                      # exact underneath, readable on the surface
    6.68 days (576,985 s); exact 7500800/13
    >>> run.seconds.exact
    7500800/13
    >>> print(run)
    training FLOPs   9.22e22 FLOP
    rate per device  156 TFLOP/s (peak 312 TFLOP/s x MFU 50.0 %)
    wall-clock       576,985 s = 6.678 days
    GPU-hours        164,120 device-hours
    energy           65,648 kWh (400 W x 1,024 devices x PUE 1)
    cost             328,240 (currency)

    References
    ----------
    Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters Using
    Megatron-LM", §5.1 eq. 4; Chowdhery et al. 2022, "PaLM", appendix B (MFU).
    """
    from .defaults import resolve
    from .hardware import DTYPES, get

    model = as_model("model", model)
    dtype, pue = resolve("dtype", dtype), resolve("pue", pue)
    flops = resolve("flops_convention", flops)
    causal = as_bool("causal", resolve("causal", causal))
    as_choice("dtype", dtype, DTYPES)
    hw = None if hardware is None else get(hardware, "hardware")
    if peak_flops is not None:
        peak = as_positive("peak_flops", peak_flops)
    elif hw is not None:
        peak = hw.peak(dtype)
    else:
        peak = S.peak_flops
    n = as_size("n_devices", n_devices)
    if achieved_flops is not None:
        if mfu is not S.mfu:
            raise SymcalcError("mfu and achieved_flops both given; give one (MFU = achieved / peak)")
        rate = as_positive("achieved_flops", achieved_flops)
        utilisation = rate / peak
        if (utilisation - 1).is_positive:
            raise SymcalcError(f"achieved_flops={rate} is above the peak {peak}; give a rate at most the peak")
    elif isinstance(mfu, str) and mfu == "plan":
        row = planned(model, n_devices=n, hardware=hw, dtype=dtype, peak_flops=peak, seq_len=seq_len,
                      global_batch=global_batch, flops=flops, recompute=recompute)
        utilisation, rate = row.mfu, peak * row.mfu
    else:
        utilisation = as_mfu("mfu", mfu)
        rate = peak * utilisation
    if power is not None:
        watts = as_positive("power", power)
    elif hw is not None and hw.power is not None:
        watts = hw.power
    else:
        watts = S.device_power
    efficiency = as_positive("pue", pue)
    if (efficiency - 1).is_negative:
        raise SymcalcError(f"pue={efficiency} is below 1; PUE is facility energy over IT energy (1 = none extra)")
    price = None if price_per_device_hour is None else as_amount("price_per_device_hour", price_per_device_hour)
    kw = dict(seq_len=seq_len, flops=flops, recompute=recompute, causal=causal)
    total = run_flops(model, tokens=tokens, **kw)
    step = None
    if global_batch is not None:
        step = run_flops(model, tokens=as_size("global_batch", global_batch) * as_size("seq_len", seq_len), **kw)
    info = {"model": model.name or "custom", "hardware": None if hw is None else hw.name,
            "conventions": {"flops": flops, "recompute": recompute if flops == "exact" else
                            ("none" if flops == "6N" else "full (in 8N)"),
                            "attention": "causal (half the square)" if causal else "full square",
                            "rate": "achieved (given)" if achieved_flops is not None else
                            ("peak x the planner's MFU" if isinstance(mfu, str) and mfu == "plan" else "peak x MFU"),
                            "energy": "board power x devices x time x PUE"}}
    return TrainingCost(flops=total, n_devices=n, rate=rate, peak_flops=peak, mfu=utilisation, power=watts,
                        pue=efficiency, price=price, step_flops=step, info=info)
