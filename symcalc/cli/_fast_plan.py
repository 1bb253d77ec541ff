"""``symcalc plan --preset NAME`` without sympy: the planner from generated code (``symcalc/_generated/plan*.py``).

The full path (:func:`symcalc.plan.plan`) builds its cost model as sympy expressions, compiles them,
ranks every candidate in float64 and re-checks the best exactly. This path evaluates the same cost
model from code generated once from those expressions (``python -m symcalc._fastgen --write``,
checked current by the test suite): every piece of every candidate layout as an exact
numerator/denominator pair, put together by the full path's own :mod:`symcalc._plancombine`, the
candidates by :func:`symcalc.frameworks._candidate_layouts`, the output by
:mod:`symcalc.cli._plan_output`. Like the full path it filters and ranks in float64 and decides
exactly wherever float64 could be wrong (a memory within 1e-9 of the budget or of the least, every
row that could be among the best), so its rows are those of the full path's exact re-check, and it
prints the same bytes (text and ``--json``; ``tests/test_fast_plan.py`` compares them).

Covered: ``--preset NAME`` with ``--num-gpus``, ``--hardware NAME`` (a catalogue name or alias as
``symcalc hardware`` lists it: its memory, dense peak at ``--dtype``, scale-up link for TP, scale-out
NIC for DP/PP/EP and scale-up domain as the node size, each where the entry has it, else the
planner's default, as :func:`symcalc.cli.plan._cluster` fills them; a flag given wins), ``--dtype``,
``--gpu-memory`` (a whole positive number of bytes as :func:`symcalc.inputs.parse_bytes` reads it: ``80GiB``,
``80G``, ``141e9``, ``512MiB``), ``--peak-flops``
(``989e12``, ``989.4e12``, ``989.4T`` (K M B T), a whole number, or a catalogue name or alias: its peak at
``--dtype``),
``-s/--sequence-length``, ``-gbs/--global-batch-size``, ``--max-tp``, ``--max-micro-batch``,
``--max-virtual-stages``, ``--node-size``, ``--framework``, ``--zero-stages``, ``--recompute``,
``--tp-bandwidth``/``--dp-bandwidth``/``--ep-bandwidth`` (as ``--gpu-memory``), ``--kernel-efficiency``
(a decimal), ``--gemm-half-size``, ``--mfu`` (a decimal: the compute at that fixed fraction of the peak,
from its own generated code), ``--top``, ``--json``, each once, today's defaults. Anything else
(another spelling of a hardware name, an entry without a peak at ``--dtype`` (the full path's error),
``--mfu`` as a fraction or with the efficiency model's flags, ``--attention``, ``--dropout``, ``--sequence-parallel``, ``--plot``,
``--cookbook``, size flags, a config.json, ``-s`` for a model with learned positions, whose table it
sizes), a plan where nothing fits (the full path suggests
fixes), more than :data:`MAX_LAYOUTS` layouts, or a memory within 1e-11 of the budget (where the
full path's float64 count could differ from the exact one) goes to the full path.
"""

from __future__ import annotations

import importlib

from ._fast import _Fallback
from ._fast_args import budget_bytes
from ._fast_time import DTYPES, _figure, _hardware

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["answer", "MAX_LAYOUTS"]

#: Above this many layouts the full path answers (a bound on this pure-Python pass: 0.1-0.3 ms a layout).
MAX_LAYOUTS = 4000
#: flag -> (key, kind)
_FLAGS = {
    "--preset": ("preset", "name"), "--json": ("json", "flag"), "--num-gpus": ("n", "int"),
    "--gpu-memory": ("memory", "bytes"), "--peak-flops": ("peak", "count"),
    "--sequence-length": ("s", "seq"), "-s": ("s", "seq"),
    "--global-batch-size": ("B", "int"), "-gbs": ("B", "int"),
    "--max-tp": ("max_tp", "int"), "--max-micro-batch": ("max_b", "int"), "--max-virtual-stages": ("max_v", "int"),
    "--node-size": ("node", "int"), "--framework": ("framework", "name"), "--zero-stages": ("zero", "name"),
    "--recompute": ("recompute", "name"), "--tp-bandwidth": ("w_tp", "bytes"), "--dp-bandwidth": ("w_dp", "bytes"),
    "--ep-bandwidth": ("w_ep", "bytes"), "--kernel-efficiency": ("keff", "decimal"),
    "--gemm-half-size": ("half", "int"), "--top": ("top", "int"),
    "--hardware": ("hardware", "hardware"), "--dtype": ("dtype", "dtype"), "--mfu": ("mfu", "decimal"),
}
ZERO_STAGES = (0, 1, 2, 3)
POLICIES = ("none", "selective", "full")


def _bytes(text: str):
    """A byte size as :func:`symcalc.inputs.parse_bytes` reads it (``80GiB``, ``80G``, ``141e9``) when a positive
    whole number of bytes; None for any other form (the full path answers or refuses it)."""
    value = budget_bytes(text)
    return int(value) if value is not None and value > 0 and value.denominator == 1 else None


def _parse(argv: Sequence[str]) -> Optional[dict]:
    """The options of a covered ``plan`` command line, else None."""
    from ._fast_args import amount, parse

    kinds = {"name": "text", "bytes": "text", "decimal": "text", "count": "text", "hardware": "text", "dtype": DTYPES}
    opts = parse(argv[1:], {k: (key, kinds.get(kind, kind)) for k, (key, kind) in _FLAGS.items()})
    if opts is None or not all(k in opts for k in ("preset", "n")):
        return None
    if "hardware" not in opts and not ("memory" in opts and "peak" in opts):
        return None  # the full path's error: plan needs --gpu-memory/--peak-flops or --hardware
    if "peak" in opts and opts["peak"] in _aliases():
        opts["peak_name"] = opts.pop("peak")  # --peak-flops h100: its dense peak at --dtype
    for key, kind in set(_FLAGS.values()):
        if key in opts and kind in ("bytes", "decimal", "count"):
            opts[key] = _bytes(opts[key]) if kind == "bytes" else amount(opts[key], suffix=kind == "count")
            if opts[key] is None:
                return None
    return opts


def _aliases() -> dict:
    """Every catalogue name and alias as ``symcalc hardware`` lists it -> the entry's name."""
    from .._generated.catalog import ALIASES

    return ALIASES


def _cluster(opts: dict, today: dict) -> tuple:
    """(memory, peak, TP, DP and EP bandwidths, node size, sources): each flag given, else --hardware's figure,
    else the planner's default, as symcalc.cli.plan._cluster and symcalc.cli.hwargs give them."""
    hw = _hardware(opts["hardware"]) if "hardware" in opts else None
    dtype = opts.get("dtype") or today["dtype"]
    if "peak" in opts:
        peak, peak_from = opts["peak"], "--peak-flops"
    elif "peak_name" in opts:  # --peak-flops h100
        peak, peak_from = _figure(_hardware(opts["peak_name"]), f"peak_flops/{dtype}"), "--peak-flops"
    else:  # _parse: --hardware is given
        peak, peak_from = _figure(hw, f"peak_flops/{dtype}"), f"{opts['hardware']} ({dtype})"
    if peak is None:
        raise _Fallback  # no such peak at --dtype: the full path's error

    def pick(key: str, flag: str, figure: str, default):
        if key in opts:
            return opts[key], flag
        value = None if hw is None else _figure(hw, figure)
        if value is not None:
            return value, hw["name"]
        if default is None:
            raise _Fallback  # the full path's error: the catalogue has no such figure
        return default, "default"

    memory, memory_from = pick("memory", "--gpu-memory", "memory", None)
    w_dp, dp_from = pick("w_dp", "--dp-bandwidth", "bandwidth_scaleout", today["bandwidth_dp"])
    w_tp, tp_from = pick("w_tp", "--tp-bandwidth", "bandwidth_scaleup", today["bandwidth_tp"])
    w_ep, ep_from = (opts["w_ep"], "--ep-bandwidth") if "w_ep" in opts else (w_dp, dp_from)
    node, node_from = pick("node", "--node-size", "scaleup_domain", opts.get("max_tp", today["max_tp"]))
    sources = {"memory": memory_from, "peak_flops": peak_from, "bandwidth_tp": tp_from, "bandwidth_dp": dp_from,
               "bandwidth_ep": ep_from, "node_size": "default: --max-tp" if node_from == "default" else node_from}
    return memory, peak, w_tp, w_dp, w_ep, node, sources, hw


def _choices(text: str, allowed: tuple) -> tuple:
    """symcalc.cli.plan's comma-separated list, each allowed value once (else the full path's error)."""
    items = tuple(x.strip() for x in text.split(",") if x.strip())
    names = {str(a): a for a in allowed}
    out = []
    for item in items:
        if item not in names or names[item] in out:
            raise _Fallback
        out.append(names[item])
    if not out:
        raise _Fallback
    return tuple(out)


class _Row:
    """A row as :class:`symcalc.plan.PlanRow` shows it (ints, and exact ints or Fractions)."""

    def __init__(self, **fields) -> None:
        self.__dict__.update(fields)


def _first(item: tuple):
    return item[0]


def _finish(num: int, den: int):
    """An int when whole, else the Fraction."""
    from fractions import Fraction

    q, m = divmod(num, den)
    return q if not m else Fraction(num, den)


def _pair(value) -> tuple:
    from fractions import Fraction

    value = Fraction(value)
    return value.numerator, value.denominator


def _plan(opts: dict, gen, info: dict, today: dict) -> tuple:
    """(settings, sources, n_candidates, n_fit, rows) as symcalc.plan.plan and symcalc.cli.plan give them."""
    from fractions import Fraction

    from .. import _plancombine as combine
    from ..frameworks import FRAMEWORKS, _candidate_layouts

    if info["learned_positions"] and "s" in opts:
        raise _Fallback  # -s sizes a learned position table (symcalc.cli.common.model_from_args): not generated
    n = opts["n"]
    B = opts.get("B", today["global_batch"])
    s = opts.get("s", today["seq_len"])
    framework = opts.get("framework", today["framework"])
    if framework not in FRAMEWORKS:
        raise _Fallback
    fw = FRAMEWORKS[framework]
    budget, peak, w_tp, w_dp, w_ep, node, sources, hw = _cluster(opts, today)
    max_tp = min(opts.get("max_tp", today["max_tp"]), node)
    max_b, max_v = opts.get("max_b", today["max_micro_batch"]), opts.get("max_v", today["max_virtual_stages"])
    stages = _choices(opts["zero"], ZERO_STAGES) if "zero" in opts else None
    if stages is not None and not set(stages) & set(fw.zero_stages):
        raise _Fallback
    recompute = _choices(opts.get("recompute", "none,selective,full"), POLICIES)
    keff = opts.get("keff", Fraction(*today["kernel_efficiency"]) if isinstance(today["kernel_efficiency"], tuple)
                    else Fraction(today["kernel_efficiency"]))
    mfu = opts.get("mfu")
    if keff > 1 or (mfu is not None and (mfu > 1 or "keff" in opts or "half" in opts)):
        raise _Fallback  # the full path's errors
    half = opts.get("half", today["gemm_half_size"])
    cross = n > node
    costs = dict(peak_flops=peak, bandwidth_tp=w_tp, bandwidth_dp=w_dp if cross else w_tp,
                 bandwidth_pp=w_dp if cross else w_tp, bandwidth_ep=w_ep if cross else w_tp)
    costs.update(dict(kernel_efficiency=keff, gemm_half_size=half) if mfu is None else dict(mfu=mfu))
    layouts = list(_candidate_layouts(info["n_layers"], info["n_heads"], info["n_kv_heads"], info["n_experts"], n, B,
                                     fw, max_tp, max_b, max_v, stages))
    if not layouts or len(layouts) > MAX_LAYOUTS:
        raise _Fallback
    settings_args = (s, B, half, *_pair(peak), *_pair(costs["bandwidth_tp"]), *_pair(costs["bandwidth_dp"]),
                     *_pair(costs["bandwidth_ep"]), *_pair(keff))
    # --mfu: the compute pieces at that fixed fraction of the peak (the generated code takes it as the kernel
    # efficiency's pair); the others do not depend on the efficiency model
    fixed_args = None if mfu is None else (*settings_args[:-2], *_pair(mfu))
    names, part_names = info["pieces"], info["part_names"]
    compute = [names.index(k) for k in info["fixed_mfu_pieces"]]
    memory_names = [i for i, k in enumerate(names) if k == "interleaving" or k.startswith(("rest@", "activations@"))]

    def exact_memory(raw: tuple, z: int, r: str, v: int):
        exact = {names[i]: _finish(*raw[i]) for i in memory_names}
        return combine.memory(exact, z, r, exact["interleaving"] if v != 1 else 0)

    # float64 first (as the full path ranks); exact wherever float64 could decide wrongly: a memory within 1e-9 of
    # the budget or of the least, and every row that could be among the best
    window = Fraction(budget) * (1 + Fraction(1, 10**11))
    low, high = float(budget) * (1 - 1e-9), float(budget) * (1 + 1e-9)
    n_candidates, fits, least, lean = 0, [], float("inf"), []
    for t, p, d, e, b, v, zs, layers in layouts:
        raw = gen.pieces(t, p, d, e, b, v, layers, *settings_args)
        if raw is None:
            raise _Fallback
        if fixed_args is not None:
            raw = list(raw)
            for i, pair in zip(compute, gen.fixed_mfu_pieces(t, p, d, e, b, v, layers, *fixed_args)):
                raw[i] = pair
        floats = {k: num / den for k, (num, den) in zip(names, raw)}
        interleaved = floats["interleaving"] if v != 1 else 0.0
        for z in zs:
            for r in recompute:
                n_candidates += 1
                memory = combine.memory(floats, z, r, interleaved)
                if memory <= least * (1 + 1e-9):
                    least = min(least, memory)
                    lean.append((memory, raw, z, r, v))
                if memory > high:
                    continue
                if memory >= low:
                    exact = exact_memory(raw, z, r, v)
                    if exact > budget:
                        if exact <= window:
                            raise _Fallback  # float64 and exact could count it differently: the full path decides
                        continue
                fits.append((combine.time(floats, part_names, z, r), (t, p, d, e, b, v, z, r, layers), raw))
    if not fits:
        raise _Fallback  # nothing fits: the full path (it suggests the changes that would fit)
    least = min(exact_memory(raw, z, r, v) for memory, raw, z, r, v in lean if memory <= least * (1 + 1e-9))
    top = opts.get("top", 10)
    fits.sort(key=_first)
    cutoff = fits[min(top, len(fits)) - 1][0] * (1 + 1e-9)
    ranked = []
    for time, (t, p, d, e, b, v, z, r, layers), raw in fits:  # every row that could be among the best
        if time > cutoff:
            break
        pieces = {k: _finish(num, den) for k, (num, den) in zip(names, raw)}
        memory = combine.memory(pieces, z, r, pieces["interleaving"] if v != 1 else 0)
        ranked.append(((combine.time(pieces, part_names, z, r), memory, t, p, e, v, z, r, b), (pieces, d, layers)))
    ranked.sort(key=_first)
    flops = gen.model_flops(s, B)
    rows = []
    for (total, memory, t, p, e, v, z, r, b), (pieces, d, layers) in ranked[:top]:
        rows.append(_Row(tp=t, pp=p, dp=d, ep=e, zero_stage=z, recompute=r, micro_batch=b, n_microbatches=B // (b * d),
                         memory=memory, step_time=total, time_parts=combine.parts(pieces, part_names, z, r),
                         virtual_stages=v, layers_per_stage=layers, mfu=flops / (peak * n * total)))
    common = dict(seq_len=s, dropout=info["dropout"], sequence_parallel=today["sequence_parallel"])
    settings = combine.settings(n=n, global_batch=B, budget=budget, costs=costs, common=common, framework=fw.name,
                                node=node, cross=cross, w_tp=w_tp, max_tp=max_tp, max_b=max_b, max_v=max_v,
                                precision=today["precision"], flash_attention=today["flash_attention"],
                                defaults=today["name"])
    return settings, sources, n_candidates, len(fits), rows, float(least), hw


def answer(argv: Sequence[str]) -> Optional[str]:
    """The text a covered ``symcalc plan`` prints, from the generated code; None when the full path must answer."""
    opts = _parse(argv)
    if opts is None:
        return None
    from .._generated.plan import MODULES, TODAY

    module = MODULES.get(opts["preset"])
    if module is None:
        return None
    gen = importlib.import_module(f"symcalc._generated.{module}")
    try:
        settings, sources, n_candidates, n_fit, rows, least, hw = _plan(opts, gen, gen.INFO, TODAY)
    except _Fallback:
        return None
    from ._plan_output import json_object, text_head, text_rows

    name = gen.INFO["name"]
    if opts.get("json"):
        import json

        obj = json_object(name, n_candidates, n_fit, settings, None if hw is None else hw["name"], sources, rows)
        obj["least_memory_bytes"] = int(-(-least // 1))  # as symcalc.cli.plan, from the float
        return json.dumps(obj, indent=2)
    return "\n".join([*text_head(name, settings, opts.get("hardware"), sources),
                      f"{n_fit} of {n_candidates} layouts fit; fastest {len(rows)}:", *text_rows(rows)])
