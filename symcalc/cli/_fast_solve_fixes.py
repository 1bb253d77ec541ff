"""``symcalc solve`` without sympy when nothing fits: the shortfall and the single changes that would fit (exit 1).

The full path (:func:`symcalc.cli.solve.solve_memory`) reports the value tried and the memory there, then
:func:`symcalc.solve.single_changes` tries one setting at a time, in its order: a higher ZeRO stage, more
recomputation, (flash attention, sequence parallelism: on by today's defaults, else the full path answers), a
larger TP degree (a divisor of the heads), a larger PP degree (a divisor of the layers), more devices (with
``--num-gpus``; at most 4,096; not for ``solve devices``), a smaller micro-batch (when it was above 1), a shorter
sequence. Each change is
evaluated with the generated memory functions, the same exact numbers; a layout the full path refuses (its
``SymcalcError``, skipped there) is one :func:`symcalc.cli._fast.layout` or the sequence-parallel split refuses,
and the devices, micro-batch and sequence answers come from :mod:`symcalc.cli._fast_solve`'s own solvers.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

__all__ = ["nothing_fits"]

POLICIES = ("none", "selective", "full")
#: single_changes' limit on the device count it tries.
MAX_DEVICES = 4096
#: How the text names the setting tried (symcalc.cli.solve.TRIED_NAMES).
TRIED_NAMES = {"micro_batch": "micro-batch", "seq_len": "sequence", "zero_stage": "ZeRO stage", "tp": "TP degree",
               "pp": "PP degree", "n_devices": "devices"}
NO_CHANGE = ("no single change of ZeRO stage, recompute, attention, TP, PP, devices, micro-batch or sequence "
             "length fits; change two, or the budget")
#: The question -> the key of its unknown in the problem's options.
_KEYS = {"micro_batch": "b", "seq_len": "s", "zero_stage": "z", "tp": "tp", "pp": "pp", "n_devices": "n"}


def _flag(setting: str, value, was) -> str:
    """How a change is written on the command line (symcalc.cli.solve._flag_of)."""
    from ._solve_text import number

    if setting == "n_devices":
        return f"--num-gpus {value} ({number(value - was)} more GPUs)"
    return {"zero_stage": "-z", "recompute": "--recompute", "tp": "-tp", "pp": "-pp", "micro_batch": "-b",
            "seq_len": "-s"}[setting] + f" {value}"


def _changes(pr, state: dict, devices: bool = True) -> list:
    """single_changes of the layout tried: ``[(setting, value, memory, was)]``."""
    import copy

    from ._fast import _Fallback, layout
    from ._fast_solve import NothingFits, _devices, _divisors, _micro_batch, _seq_len

    info, budget, today = pr.info, pr.budget, pr.today
    out: list = []

    def memory(change: dict):
        """The memory of the layout tried with ``change``; None where the full path refuses the layout."""
        st = {**state, **change}
        tp, pp, ep, n = st["tp"], st["pp"], st["ep"], st["n"]
        try:
            tp, pp, dp, ep, _ = layout(info, {"tp": tp, "pp": pp, "ep": ep, **({} if n is None else {"n": n})})
            pr.check(tp, pp, dp, ep, st["s"])
        except _Fallback:
            return None
        return pr.total(tp, pp, dp, ep, b=st["b"], s=st["s"], z=st["z"], policy=st["policy"])

    def first(setting: str, key: str, values, was) -> None:
        for v in values:
            at = memory({key: v})
            if at is not None and at <= budget:
                out.append((setting, v, at, was))
                return

    first("zero_stage", "z", range(state["z"] + 1, 4), state["z"])
    first("recompute", "policy", POLICIES[POLICIES.index(state["policy"]) + 1:], state["policy"])
    if not today["flash_attention"] or (state["tp"] > 1 and not today["sequence_parallel"]):
        raise _Fallback  # single_changes would try flash attention or sequence parallelism
    first("tp", "tp", [t for t in _divisors(info["n_heads"]) if t > state["tp"]], state["tp"])
    first("pp", "pp", [p for p in _divisors(info["n_layers"]) if p > state["pp"]], state["pp"])

    def solved(solver, opts: dict, **values):
        sub = copy.copy(pr)
        sub.opts = opts
        for k, v in values.items():
            setattr(sub, k, v)
        try:
            return solver(sub)
        except NothingFits:
            return None

    degrees = {"tp": state["tp"], "pp": state["pp"], "ep": state["ep"]}
    if devices and state["n"] is not None:
        found = solved(_devices, {**degrees, "max_devices": MAX_DEVICES}, b=state["b"], s=state["s"], z=state["z"])
        if found is not None and found[0] > state["n"]:
            out.append(("n_devices", found[0], found[1], state["n"]))
    layout_opts = {**degrees, **({} if state["n"] is None else {"n": state["n"]})}
    if state["b"] > 1:
        found = solved(_micro_batch, layout_opts, s=state["s"], z=state["z"])
        if found is not None:
            out.append(("micro_batch", found[0], found[1], state["b"]))
    found = solved(_seq_len, layout_opts, b=state["b"], z=state["z"])
    if found is not None:
        out.append(("seq_len", found[0], found[1], state["s"]))
    return out


def nothing_fits(pr, question: str, nothing) -> Optional[tuple]:
    """``(text, 1)``: what the full path prints when nothing fits (``--json`` or text); None for the full path."""
    from ._fast import _Fallback
    from ._fast_time import _exact, _json_number
    from ._solve_text import GIB, amount, number

    opts = pr.opts
    state = {"tp": opts.get("tp", 1), "pp": opts.get("pp", 1), "ep": opts.get("ep", 1), "n": opts.get("n"),
             "b": pr.b, "s": pr.s, "z": pr.z, "policy": pr.policy}
    ((key, tried),) = nothing.tried.items()
    state[_KEYS[key]] = tried
    try:
        changes = _changes(pr, state, devices=question != "devices")
    except _Fallback:
        return None
    quantity, budget = _exact(nothing.quantity), pr.budget
    out = {question.replace("-", "_"): None, "feasible": False, "method": "closed-form",
           "quantity_at_answer": _json_number(quantity), "budget": _json_number(budget),
           "headroom": _json_number(budget - quantity), "shortfall": _json_number(quantity - budget), "unit": "bytes",
           "tried": {key: tried},
           "fixes": [{"flag": _flag(setting, v, was), "setting": setting, "value": v, "quantity": -(-at // 1)}
                     for setting, v, at, was in changes]}
    if opts.get("json"):
        import json

        return json.dumps(out, indent=2), 1
    from ._fast_solve import QUESTIONS

    lines = [f"nothing fits ({QUESTIONS[question][1]}): {TRIED_NAMES[key]} {number(tried)} needs "
             f"{amount(out['quantity_at_answer'], 'bytes')}, {amount(out['shortfall'], 'bytes')} over the budget "
             f"{amount(out['budget'], 'bytes')}"]
    if changes:
        items = [f"{_flag(setting, v, was)} ({float(at) / GIB:.2f} GiB)" for setting, v, at, was in changes]
        lines.append("it would fit with one change: "
                     + (items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]))
    else:
        lines.append(NO_CHANGE)
    return "\n".join(lines), 1
