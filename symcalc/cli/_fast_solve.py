"""``symcalc solve micro-batch`` without sympy: an exact integer answer from the generated memory functions.

Training memory per device is A + B b in the micro-batch b for every preset and recompute policy
(checked on the sympy expression when the code is generated: ``MICRO_BATCH_LINEAR`` of
:mod:`symcalc._generated.catalog`). The library's solver (:func:`symcalc.solve.max_micro_batch`)
answers such a question in closed form: the largest b >= 1 with A + B b <= budget. Here A and B
come from two evaluations of the generated memory function (b = 1, 2; exact ints or Fractions), the
answer is floor((budget - A) / B), and the memory at the answer is evaluated once more.

Covered: ``--preset NAME`` (or ``--hf-config`` holding a preset's model), the layout and training
flags of the sympy-free ``symcalc mem`` (``--num-gpus -tp -pp -ep -z -s --recompute -ca`` and the
precision flags), ``--budget`` (bytes: ``80GiB``, ``80GB``, ``1e9``) or ``--hardware NAME``, ``--json``.
Nothing fitting (the full path then lists the single changes that would fit), ``-b``, ``--infer``
and every other flag go to the full path.
"""

from __future__ import annotations

from ._fast_args import amount, parse, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["answer"]

_BYTES = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}


def budget_bytes(text: str):
    """:func:`symcalc.inputs.parse_bytes` for ``80GiB``, ``80GB``, ``80G``, ``512MiB``, ``1e9``, ``1e9B``; else None."""
    if text[-1:] in ("b", "B"):
        text = text[:-1]
    scale = 1
    for suffix in ("ki", "mi", "gi", "ti", "pi", "k", "m", "g", "t", "p"):
        cut = len(suffix)
        if text[-cut:].lower() == suffix and (cut == 1 or text[-1] == "i"):
            scale, text = _BYTES[suffix], text[:-cut]
            break
    value = amount(text, suffix=False, zero=True) if text else None
    return None if value is None else value * scale


def _flags() -> dict:
    from ._fast import _COMMON, _FLAGS

    flags = {k: v for k, v in _FLAGS["mem"].items() if v[0] not in ("b", "infer", "o")}
    flags.update({k: v for k, v in _COMMON.items()}, **{"--budget": ("budget", "name"), "--hardware": ("hardware", "name")})
    return table(flags)


def answer(argv: Sequence[str]) -> Optional[str]:
    """The text ``symcalc solve micro-batch ...`` prints, or None when the full path must answer."""
    from .._generated import MODULES, TODAY
    from .._generated.catalog import MICRO_BATCH_LINEAR
    from ._fast import _Fallback, _policy, layout
    from ._fast_time import _exact, _figure, _hardware, _json_number, model_module
    from ._solve_text import answer_line
    from ._texts import MEM_CA_SAYS

    if argv[1:2] != ["micro-batch"]:
        return None
    opts = parse(argv[2:], _flags())
    if opts is None:
        return None
    try:
        m, _ = model_module(opts)
        preset = next(p for p, module in MODULES.items() if module == m.__name__.rsplit(".", 1)[1])
        info = m.INFO
        if "z" in opts:
            opts["z"] = int(opts["z"])
        tp, pp, dp, ep, n = layout(info, opts)
        policy, _ = _policy(opts, "selective", MEM_CA_SAYS, TODAY["recompute"], TODAY)
        s, z = opts.get("s", TODAY["seq_len"]), opts.get("z", TODAY["zero_stage"])
        if (TODAY["sequence_parallel"] and s % tp) or policy not in MICRO_BATCH_LINEAR[preset]:
            raise _Fallback
        if "budget" in opts:
            budget = budget_bytes(opts["budget"])
        else:
            budget = _figure(_hardware(opts["hardware"]), "memory") if "hardware" in opts else None
        if budget is None:
            raise _Fallback
        rec = TODAY["precision"]
        bytes_per = (opts.get("lo", rec["low"]), opts.get("grad", rec["grad"]), opts.get("hi", rec["high"]))
        memory = getattr(m, f"mem_{policy}")

        def total(b: int):
            parts = memory(tp, pp, dp, ep, b, s, z, *bytes_per)
            if parts is m.SLOW:
                raise _Fallback
            return sum(parts)

        one, two = total(1), total(2)
        slope = two - one
        if slope <= 0 or one > budget:
            raise _Fallback  # nothing fits: the full path's answer, with the changes that would fit
        b = int((budget - (one - slope)) // slope)
        at = _exact(total(b))
    except _Fallback:
        return None
    out = {"micro_batch": b, "feasible": True, "method": "closed-form", "quantity_at_answer": _json_number(at),
           "budget": _json_number(budget), "headroom": _json_number(budget - at), "unit": "bytes"}
    if opts.get("json"):
        import json

        return json.dumps(out, indent=2)
    return answer_line("largest micro-batch", b, out)
