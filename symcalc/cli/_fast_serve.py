"""``symcalc serve`` without sympy: the roofline from a preset's generated ``serve`` function.

The generated function (:mod:`symcalc._fastgen_serve`) gives, exactly, each operation's FLOPs and
memory traffic for the prefill and the decode step, their TP all-reduce bytes, the inference memory
and its KV cache; here each operation takes max(F / (peak x eta_c), B / (W_mem x eta_m)) and the
all-reduces bytes / (W_up x eta_l), in Fractions, as :class:`symcalc.serving.Step` writes them, and
the largest batch is the solver's closed form on memory A + B b (linear in b: checked on the
expression when generated). The text and JSON are :class:`symcalc.serving.ServingEstimate`'s.

Covered: ``--preset NAME`` (or ``--hf-config`` holding a preset's model) of a preset with a
generated ``serve`` (every preset; an MoE's expected experts E (1 - (p/q)^T) take P = p^T and
Q = q^T, computed here exactly, as two more arguments: ``SERVE["expert_powers"]``), the device from
``--hardware NAME`` (the peak of ``--dtype``) and/or the flags ``--peak-flops`` (a number or a catalogue name), ``--mem-bandwidth``,
``--scaleup-bandwidth`` and ``--gpu-memory`` (bytes as :func:`symcalc.inputs.parse_bytes` reads them;
a flag wins over the entry; a memory size is needed, a link for TP > 1), the efficiencies
``--compute-efficiency``, ``--memory-efficiency``, ``--link-efficiency`` (0.7 or 70%), ``-tp``, ``-s``,
``-o`` (1: the decode step at the context s, from the code's s + (n - 2)/2 at n = 2), ``-b``, ``--prefill-batch``
(the memory: M(p) - KV(p) + KV(b) of the generated memory and KV cache at batch p and b),
``--full-attention-square`` (the generated ``serve_square``: the prefill's FLOPs with the whole square),
``--no-flash-attention`` (``serve_eager``: the memory with the s^2 scores), ``--experts``, ``--weight-dtype`` (or ``--dtype`` naming a storage type;
16 bits or more as ``serve``'s argument w; below, fp8, int8, int4, the generated ``serve_<dtype>``: the linears
in a storage format, the rest 16-bit, in the memory and in every step's weight traffic), ``--kv-cache-dtype``,
``--activation-bytes`` (the generated code takes the bytes as arguments) and ``--json``. Weights below 16 bits
with ``--no-flash-attention``, ``--quantize`` (a storage format with scales), a decode step routing so many
tokens that the full path keeps its (p/q)^T a power, and two kept powers go to the full path.

A prefill routing so many tokens that written out (p/q)^T would pass 2^16 bits (:func:`symcalc._powers.kept`;
the full path keeps it a :class:`symcalc._routedpower.RoutedPower`) is answered here too: ``serve`` is
evaluated at P/Q = 0, 1 and 2, checked affine, and each number carried as c0 + c1 (p/q)^T
(:mod:`symcalc.cli._fast_kept`), decided and rounded exactly by :mod:`symcalc._powers` as the full path does.
"""

from __future__ import annotations

from fractions import Fraction

from .._powers import kept
from ._fast import _Fallback, layout
from ._fast_args import MAX_AMOUNT, answer_with
from ._fast_kept import Kept, Over, kept_or_number
from ._fast_time import DTYPES, MODEL_FLAGS, _exact as _whole, _figure, _hardware, _json_number, _need, model_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["answer"]

FLAGS = {
    **MODEL_FLAGS,
    "--sequence-length": ("s", "int"), "-s": ("s", "int"), "--output-tokens": ("n", "int"), "-o": ("n", "int"),
    "--batch-size": ("b", "int"), "-b": ("b", "int"), "--tensor-parallel-size": ("t", "int"), "-tp": ("t", "int"),
    "--hardware": ("hardware", "text"), "--dtype": ("dtype", DTYPES), "--experts": ("experts", ("expected", "all")),
    "--peak-flops": ("peak", "text"), "--mem-bandwidth": ("bw", "text"), "--scaleup-bandwidth": ("up", "text"),
    "--gpu-memory": ("mem", "text"), "--compute-efficiency": ("compute_efficiency", "text"),
    "--memory-efficiency": ("memory_efficiency", "text"), "--link-efficiency": ("link_efficiency", "text"),
    "--weight-dtype": ("weight_dtype", "text"), "--kv-cache-dtype": ("kv_cache_dtype", "text"),
    "--activation-bytes": ("act", "int"), "--prefill-batch": ("prefill_batch", "int"),
    "--full-attention-square": ("square", "flag"), "--no-flash-attention": ("eager", "flag"),
}
TIME = ("roofline per operation: max(FLOPs / (peak x compute_efficiency), bytes / (bandwidth x memory_efficiency)), "
        "summed, plus TP all-reduces / (scale-up link x link_efficiency); a lower bound on time")
UNITS = {"ttft_s": "s", "tpot_s": "s", "tokens_per_s": "output tokens/s of the replica",
         "kv_cache_bytes": "bytes per device", "memory_bytes": "bytes per device", "max_batch": "sequences"}


def _ceil(value) -> int:
    value = _exact(value)
    return value if type(value) is int else -(-value.numerator // value.denominator)


def _step(table: dict, phase: str, values: list, device: dict) -> dict:
    """One step's numbers as :class:`symcalc.serving.Step` computes them (``values``: FLOPs, traffic, comm)."""
    ops, moved = table[f"{phase}_flops"], table[f"{phase}_traffic"]
    flops, traffic, comm = dict(zip(ops, values)), dict(zip(moved, values[len(ops):])), values[len(ops) + len(moved)]
    compute, memory = device["peak"] * device["compute"], device["bw"] * device["memory"]
    time = {k: _larger(Fraction(flops.get(k, 0)) / compute, _fraction(traffic.get(k, 0)) / memory)
            for k in list(flops) + [k for k in traffic if k not in flops]}
    time["tp_comm"] = Fraction(comm) / (device["up"] * device["link"]) if comm else Fraction(0)
    total = {"flops": sum(flops.values()), "traffic": sum(traffic.values())}
    out = {"time": {k: _exact(v) for k, v in time.items()}, "seconds": _exact(sum(time.values())),
           "flops": _exact(total["flops"]), "traffic": _exact(total["traffic"]),
           "compute_s": _exact(total["flops"] / compute), "memory_s": _exact(total["traffic"] / memory),
           "comm_s": _exact(time["tp_comm"])}
    out["bound"] = "memory" if _sign(out["memory_s"] - out["compute_s"]) >= 0 else "compute"
    return out


def _exact(value):
    """An int for a whole number, else the Fraction (a :class:`Kept` value as it is)."""
    return value if isinstance(value, Kept) else _whole(value)


def _fraction(value):
    return value if isinstance(value, Kept) else Fraction(value)


def _sign(value) -> int:
    return value.sign() if isinstance(value, Kept) else (value > 0) - (value < 0)


def _larger(a, b):
    """max(a, b), the first on a tie (as the full path's :func:`symcalc._routedpower.exact_max`)."""
    return a if _sign(a - b) >= 0 else b


def _json_value(value):
    return float(value) if isinstance(value, (Kept, Over)) else _json_number(value)


def _expert_powers(table: dict, experts: str, sizes: dict) -> tuple:
    """``(serve's arguments P = p^T, Q = q^T of each expected-experts power (p/q)^T, the powers kept)``: P = 0,
    Q = 1 for all experts; a power the full path keeps unevaluated (:func:`symcalc._powers.kept`) is listed
    as ``(index of its P, (p, q, T))`` and its arguments left None."""
    out, keep = [], []
    for p, q, names in table.get("expert_powers", ()):
        if experts == "all":
            out += [0, 1]
            continue
        tokens = 1
        for name in names:
            tokens *= sizes[name]
        if kept(p, q, tokens):
            keep.append((len(out), (p, q, tokens)))
            out += [None, None]
        else:
            out += [p ** tokens, q ** tokens]
    return out, keep


def _call(function, *args) -> tuple:
    """A generated function's values; None of them (its arguments outside its integer code): the full path."""
    values = function(*args)
    if values is None:  # the generated modules' SLOW
        raise _Fallback
    return values


def _values(m, function, args: tuple, powers: list, keep: list) -> list:
    """The generated ``serve``'s (or ``serve_<dtype>``'s) values; with one kept power x, each as c0 + c1 x
    (:class:`Kept`): the function is evaluated at x = 0, 1, 2 and checked to be affine in x (else, or with two
    kept powers, the full path)."""
    if not keep:
        values = function(*args, *powers)
        if values is m.SLOW:
            raise _Fallback
        return list(values)
    if len(keep) > 1:
        raise _Fallback
    (i, power), = keep
    at = []
    for x in (0, 1, 2):
        powers[i:i + 2] = [x, 1]
        at.append(function(*args, *powers))
        if at[-1] is m.SLOW:
            raise _Fallback
    if any(Fraction(v2) - v1 != Fraction(v1) - v0 for v0, v1, v2 in zip(*at)):
        raise _Fallback
    return [kept_or_number(v0, Fraction(v1) - v0, power) for v0, v1 in zip(at[0], at[1])]


def _device(opts: dict, dtype: str, defaults: dict) -> tuple:
    """``(the --hardware entry or None, the roofline's figures)``: each figure's flag wins over the entry's
    (:func:`symcalc.cli.serve.device_from_args`); a figure neither gives, or a value the full path refuses,
    falls back."""
    from ._fast_args import budget_bytes, share
    from ._fast_time import peak_flops

    hw = _hardware(opts["hardware"]) if "hardware" in opts else None

    def rate(key: str, figure: str):
        if key in opts:
            value = _need(budget_bytes(opts[key]))  # symcalc.inputs.parse_bytes, within the flags' range
            if value == 0 or value > MAX_AMOUNT or value < Fraction(1, MAX_AMOUNT):
                raise _Fallback
            return value
        return None if hw is None else _need(_figure(hw, figure))  # a figure the entry lacks: the full path's error

    def efficiency(key: str):
        text = opts.get(f"{key}_efficiency")
        if text is None:
            return Fraction(*defaults["efficiency"][key])
        value = _need(share(text))  # 70% or 0.7, as symcalc.cost.as_mfu
        if value > 1:
            raise _Fallback  # symcalc.cost.as_mfu's error
        return Fraction(value)

    peak = peak_flops(opts["peak"], dtype) if "peak" in opts else None if hw is None else \
        _figure(hw, f"peak_flops/{dtype}")
    device = {"peak": _need(peak), "bw": _need(rate("bw", "mem_bandwidth")), "up": rate("up", "bandwidth_scaleup"),
              "mem": _need(rate("mem", "memory")), **{k: efficiency(k) for k in ("compute", "memory", "link")}}
    if device["up"] is None and opts.get("t", 1) != 1:
        raise _Fallback  # the full path's error
    return hw, device


def compute(opts: dict, defaults: dict) -> tuple:
    """The estimate's JSON object and its text lines."""
    from .._numfmt import exact_text, readable_exact as readable, significant_float

    m, model_name = model_module(opts)
    if not hasattr(m, "serve"):
        raise _Fallback
    s, n, b = opts.get("s", defaults["seq_len"]), opts.get("n", defaults["output_tokens"]), opts.get("b", defaults["batch"])
    t = opts.get("t", 1)
    layout(m.INFO, {"tp": t})
    storage = defaults["storage"]
    dtype = opts.get("dtype") or defaults["dtype"]
    weights = opts.get("weight_dtype") or (dtype if dtype in storage else defaults["weight_dtype"])
    kv_dtype = opts.get("kv_cache_dtype") or defaults["kv_cache_dtype"]
    if weights not in storage or kv_dtype not in storage:
        raise _Fallback  # a dtype the full path refuses
    (w, w_den), (kv_num, kv_den) = storage[weights], storage[kv_dtype]
    if 2 * kv_num % kv_den:
        raise _Fallback
    # weights below 16 bits: the linears in a storage format, the rest 16-bit, in the memory and in the traffic
    # (the generated serve_<dtype>, whose w is unused)
    quantized = w_den != 1 or w < 2
    function = getattr(m, f"serve_{weights}", None) if quantized else m.serve
    bytes_ = (2 if quantized else w, 2 * kv_num // kv_den, opts.get("act", defaults["activation_bytes"]))
    hw, device = _device(opts, dtype, defaults)
    eff = {k: device[k] for k in ("compute", "memory", "link")}
    experts = opts.get("experts") or defaults["experts"]
    table = m.SERVE

    def serve(batch: int, read: str = experts, of=m.serve) -> tuple:
        return _call(of, s, n, batch, t, *bytes_, *_expert_powers(table, read, {"s": s, "n": n, "b": batch, "t": t})[0])

    square, eager = opts.get("square", False), opts.get("eager", False)
    linear = "eager_linear" if eager else f"{weights}_linear" if quantized else "max_batch_linear"
    if (square and not hasattr(m, "serve_square")) or (eager and quantized) or function is None \
            or not table.get(linear):
        raise _Fallback

    def total(batch: int):
        """The inference memory at ``batch`` sequences (every expert resident, whatever a step reads)."""
        if eager:
            return _call(m.serve_eager, s, n, batch, t, *bytes_)[0]
        return serve(batch, "all", function)[-2]

    def step_values(gen: int) -> list:
        return _values(m, function, (s, gen, b, t, *bytes_),
                       *_expert_powers(table, experts, {"s": s, "n": gen, "b": b, "t": t}))

    values = step_values(n)
    k = len(table["prefill_flops"]) + len(table["prefill_traffic"]) + 1
    if n == 1:  # one token: the decode step at the context s (symcalc.serving.mean_context), the code's s + (n-2)/2 at n = 2
        two = step_values(2)
        if two[:k] != values[:k]:
            raise _Fallback
        values = values[:k] + two[k:-2] + values[-2:]
    if square:  # --full-attention-square: the prefill's FLOPs with the whole s x s square
        values[:len(table["prefill_flops"])] = _call(m.serve_square, s, n, b, t, *bytes_)
    prefill_batch = opts.get("prefill_batch")
    if prefill_batch is not None:  # the memory: weights + activations of the prompts prefilled at once + KV cache of b
        values[-2] = total(prefill_batch) - serve(prefill_batch, "all")[-1] + values[-1]
    elif eager:
        values[-2] = total(b)
    pre = _step(table, "prefill", values[:k], device)
    dec = _step(table, "decode", values[k:-2], device)
    memory, kv = _exact(values[-2]), _exact(values[-1])
    ctx = s if n == 1 else _exact(s + Fraction(n - 2, 2))
    tpot = dec["seconds"]
    if any(isinstance(v, Kept) for v in (tpot, memory, kv)):
        raise _Fallback  # a decode step routing so many tokens that its power is kept: the full path
    results = {"ttft": pre["seconds"], "tpot": tpot, "tokens_per_s": _exact(b / Fraction(tpot)),
               "latency": _exact(pre["seconds"] + (n - 1) * Fraction(tpot))}
    latency = results["latency"]
    results["e2e_tokens_per_s"] = Over(b * n, latency) if isinstance(latency, Kept) else _exact(b * n / latency)
    results.update(kv_cache_bytes=kv, memory_bytes=memory)
    max_batch, method = None, None
    if table[linear]:
        if prefill_batch is None:
            one = _exact(total(1))
            slope = _exact(total(2) - one)
        else:  # the activations fixed: the KV cache alone grows with b (checked linear)
            kvs = [serve(batch, "all")[-1] for batch in (1, 2, 3)]
            slope = _exact(kvs[1] - kvs[0])
            if kvs[2] - kvs[1] != slope:
                raise _Fallback
            one = _exact(memory - values[-1] + kvs[0])
        if slope <= 0:
            raise _Fallback
        if one <= device["mem"]:
            max_batch, method = int((device["mem"] - (one - slope)) // slope), "closed-form"
    else:
        raise _Fallback
    causal = defaults["causal"] and not square
    out = {"model": model_name or "custom", "hardware": None if hw is None else hw["name"], "dtype": dtype, "prompt_len": s, "n_generate": n,
           "batch": b, "tp": t, "decode_context": _json_number(ctx),
           "conventions": {"time": TIME, "tpot": "decode step at the mean context s + (n - 2)/2",
                           "experts": experts, "prefill_attention": "causal half" if causal else "full square",
                           "memory": "weights + KV cache (s + n tokens) + one layer's prefill activations"
                                     + ("" if eager else " (flash attention)")}}
    out.update(ttft_s=_json_value(results["ttft"]), tpot_s=_json_number(tpot),
               tokens_per_s=_json_number(results["tokens_per_s"]), bound=dec["bound"], prefill_bound=pre["bound"],
               kv_cache_bytes=_ceil(kv), memory_bytes=_ceil(memory), device_memory_bytes=_ceil(device["mem"]),
               fits=bool(memory - device["mem"] <= 0), max_batch=max_batch, latency_s=_json_value(results["latency"]),
               e2e_tokens_per_s=_json_value(results["e2e_tokens_per_s"]))
    for name, step in (("prefill", pre), ("decode", dec)):
        out[f"{name}_parts_s"] = {op: _json_value(v) for op, v in step["time"].items()}
        for key, label in (("flops", "flops"), ("traffic", "traffic_bytes"), ("compute_s", "compute_s"),
                           ("memory_s", "memory_s"), ("comm_s", "comm_s")):
            out[f"{name}_{label}"] = _json_value(step[key])
    try:
        out["exact"] = {key: str(v) if isinstance(v, (Kept, Over)) else exact_text(v) for key, v in results.items()} \
            if opts.get("json") else {}
    except ValueError:  # a kept value the text is not written for: the full path
        raise _Fallback from None
    out.update(weight_dtype=weights, kv_cache_dtype=kv_dtype, units=UNITS)

    def ms(v) -> str:
        return f"{significant_float(float(v) * 1000, 4)} ms"

    rows = [("time to first token", ms(results["ttft"]) + f" (prefill, {pre['bound']}-bound)"),
            ("time per output token", ms(tpot) + f" (decode at context {out['decode_context']}, {dec['bound']}-bound)"),
            ("throughput", readable(results["tokens_per_s"], "tokens/s") + f" (batch {b} / TPOT)"),
            ("latency", ms(results["latency"]) + f" (TTFT + {n - 1} x TPOT)"),
            ("KV cache", readable(kv, "bytes") + " per device"),
            ("memory", readable(memory, "bytes") + f" per device of {readable(device['mem'], 'bytes')}"),
            ("max batch", f"{max_batch} sequences ({method})" if max_batch is not None else
             "none fits (the weights alone exceed the device)")]
    width = max(len(k) for k, _ in rows)
    effs = ", ".join(f"{k} {float(eff[k]):g}" for k in ("compute", "memory", "link"))
    on = "devices" if hw is None else f"{hw['name']} ({dtype})"
    lines = [f"symcalc serve: {model_name or 'custom model'} on {t} x {on}; weights {weights}, "
             f"KV cache {kv_dtype}; {b} x ({s} prompt + {n} generated) tokens"]
    lines += [f"{k:<{width}}  {v}" for k, v in rows]
    lines.append(f"roofline per operation, efficiencies {effs} (1 = the physical limit: times are lower bounds); "
                 "docs/guides/hardware-time-serving.md")
    return out, lines


def answer(argv: Sequence[str]) -> Optional[str]:
    """The text ``symcalc serve ...`` prints, or None when the full path must answer."""
    from .._generated.catalog import SERVE_DEFAULTS

    return answer_with(argv, FLAGS, compute, SERVE_DEFAULTS)
