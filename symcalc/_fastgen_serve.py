"""The ``symcalc serve`` part of :mod:`symcalc._fastgen`: a preset's serving roofline as generated code.

:func:`serve_source` runs :func:`symcalc.serving.serving` (the function ``symcalc serve`` calls) on
a preset with the prompt length s, the tokens generated n, the batch b, the TP degree t and the
bytes left symbolic (w bytes per stored weight, a dtype of at least 16 bits: below, the linears
take a quantized storage format; 2 x the bytes per KV-cache value, kv2, an integer for every dtype
int4 included; a bytes per activation), today's defaults otherwise (the expected experts, the
causal prefill, flash attention), and writes one integer function
``serve(s, n, b, t, w, kv2, a, ...)`` of every number the report prints before the hardware divides it: the
FLOPs and the memory traffic of each operation of the prefill and of the decode step (at the mean
context s + (n - 2)/2), the bytes of their TP all-reduces, the inference memory per device and
its KV cache. :mod:`symcalc.cli._fast_serve` divides them by the device's roofs.

An MoE's expected distinct experts, E (1 - (1 - k/E)^T) for the T tokens a step routes (T = b s in
the prefill, b in a decode step), hold a power with a symbolic exponent, which integer code does
not evaluate: each such power (p/q)^T is replaced by P / Q with two more integer arguments
P = p^T >= 0 and Q = q^T > 0 that the caller computes exactly (``SERVE["expert_powers"]`` lists
(p, q, the exponent's arguments) for each pair); ``--experts all`` is P = 0, Q = 1 (a fraction of 1).
A preset whose expressions are still not integer code gets none, and the full path answers it.

Two more functions of the same arguments cover two flags: ``serve_square`` (the prefill's FLOPs by
operation with the full attention square, ``--full-attention-square``) and ``serve_eager`` (the inference
memory keeping the prefill's s^2 attention scores, ``--no-flash-attention``), and per weight dtype below
16 bits (fp8, int8, int4: the linears take a storage format, the rest stays 16-bit, in the memory and in
the weight traffic alike: :func:`symcalc.memory.inference.stored_weights`) ``serve_<dtype>``, ``serve``'s
values with those weights (its argument w unused).
"""

from __future__ import annotations

import pprint

__all__ = ["serve_source", "SERVE_ARGS"]


def _args():
    from sympy import Symbol

    from . import symbols as S

    return (S.seq_len, S.n_generate, S.micro_batch, S.tp, Symbol("bytes_weight", integer=True, positive=True),
            Symbol("bytes_kv_halves", integer=True, positive=True), Symbol("bytes_act", integer=True, positive=True))


#: The arguments of ``serve``: prompt tokens s, tokens generated n, sequences b, TP degree t, bytes per weight
#: w (a dtype of 16 bits or more), twice the bytes per KV-cache value kv2, bytes per activation a.
SERVE_ARGS = ("s", "n", "b", "t", "w", "kv2", "a")


def _linear_in(expr, symbol) -> bool:
    """Degree 1 in ``symbol``, which no floor, ceiling, Max, Min or Piecewise condition holds."""
    from sympy import Max, Min, Piecewise, ceiling, diff, floor

    inside = [a for a in expr.atoms(floor, ceiling, Max, Min) if symbol in a.free_symbols]
    conditions = [c for pw in expr.atoms(Piecewise) for _, c in pw.args if symbol in c.free_symbols]
    return not inside and not conditions and diff(expr, symbol, 2) == 0


def _expert_powers(exprs: list) -> tuple:
    """``(substitutions, extra arguments, table rows)`` for each power (p/q)^T with a symbolic exponent T."""
    from sympy import Pow, Rational, Symbol

    names = dict(zip(_args(), SERVE_ARGS))
    powers = sorted({p for e in exprs for p in e.atoms(Pow) if p.exp.free_symbols}, key=str)
    subs, args, rows = {}, [], []
    for i, p in enumerate(powers):
        base, factors = p.base, p.exp.as_ordered_factors()
        if not (isinstance(base, Rational) and 0 < base < 1 and all(f in names for f in factors)):
            raise ValueError(f"no integer code for {p}")  # only (p/q)^(a product of serve's arguments)
        exp_args = tuple(names[f] for f in factors)
        num, den = Symbol(f"experts_unpicked_num{i}", integer=True, nonnegative=True), \
            Symbol(f"experts_unpicked_den{i}", integer=True, positive=True)
        subs[p] = num / den
        args += [num, den]
        rows.append((int(base.p), int(base.q), exp_args))
    return subs, tuple(args), tuple(rows)


def _estimate_values(est) -> tuple:
    """``(table of operation names, values)`` of one estimate, in ``serve``'s order: each step's FLOPs, traffic
    and all-reduce bytes, then the memory and its KV cache."""
    from sympy import Integer

    table, exprs = {}, []
    for phase, step in (("prefill", est.prefill), ("decode", est.decode)):
        table[f"{phase}_flops"] = tuple(step.flops)
        table[f"{phase}_traffic"] = tuple(step.traffic)
        exprs += list(step.flops.values()) + list(step.traffic.values()) + [step.comm]
    exprs += [est.memory.total, est.memory.get("kv_cache", Integer(0))]
    return table, exprs


def serve_source(model) -> str:
    """The ``SERVE`` table and the ``serve`` function of one preset (empty when not integer code)."""
    from ._fastgen import _function
    from .serving import serving

    s, n, b, t, w, kv2, a = _args()
    est = serving(model, prompt_len=s, n_generate=n, batch=b, tp=t, weights=w, bytes_kv=kv2 / 2, bytes_act=a)
    table, exprs = _estimate_values(est)
    table["max_batch_linear"] = _linear_in(est.memory.total, b)
    try:
        subs, extra, rows = _expert_powers(exprs)
        if rows:
            table["expert_powers"] = rows
            exprs = [e.xreplace(subs) for e in exprs]
        source = _function("serve", _args() + extra, tuple(exprs))
    except Exception:  # noqa: BLE001 - no integer code for this model (a symbolic power): the full path serves it
        return ""
    source += _variants(model, table, exprs)
    return "SERVE = " + pprint.pformat(table, width=110, sort_dicts=False) + "\n\n" + source


#: ``serve_<dtype>``: ``serve``'s values with those of ``_serve_<dtype>`` (the ones weights change) in their places.
_WITH = '''def serve_{name}(*args):
    """``serve``'s values with {name} weights: positions {changed} from ``_serve_{name}``."""
    values, changed = serve(*args), _serve_{name}(*args)
    if values is SLOW or changed is SLOW:
        return SLOW
    values = list(values)
    for i, value in zip({changed}, changed):
        values[i] = value
    return tuple(values)'''


def _variants(model, table: dict, base: list) -> str:
    """``serve_square``: the prefill's FLOPs by operation with the full attention square (``--full-attention-square``);
    ``serve_eager``: the inference memory keeping the prefill's s^2 scores (``--no-flash-attention``), with
    ``SERVE["eager_linear"]`` (linear in b); ``serve_<dtype>``: ``serve``'s values with weights below 16 bits (the
    memory and every step's weight traffic, w unused), ``SERVE["<dtype>_linear"]``. Same arguments as ``serve``
    (``serve_<dtype>`` also its expert powers); left out when not integer code. ``serve_<dtype>`` is ``serve``
    with the values weights change (``base``: ``serve``'s, in its order) replaced by ``_serve_<dtype>``'s: the
    others (the FLOPs, the all-reduces) are checked to be the same expressions, free of w."""
    from ._fastgen import _function
    from .serving import serving

    s, n, b, t, w, kv2, a = _args()
    kw = dict(prompt_len=s, n_generate=n, batch=b, tp=t, weights=w, bytes_kv=kv2 / 2, bytes_act=a)
    out = ""
    square = serving(model, causal=False, **kw).prefill.flops
    if tuple(square) == table["prefill_flops"]:
        try:
            out += "\n\n" + _function("serve_square", _args(), tuple(square.values()))
        except Exception:  # noqa: BLE001 - not integer code: the full path answers the flag
            pass
    eager = serving(model, flash_attention=False, **kw).memory.total
    try:
        out += "\n\n" + _function("serve_eager", _args(), (eager,))
        table["eager_linear"] = _linear_in(eager, b)
    except Exception:  # noqa: BLE001
        pass
    from .memory.inference import _QUANTIZED_NAMES

    for name in _QUANTIZED_NAMES:  # weights below 16 bits: the linears in a storage format, the rest 16-bit
        est = serving(model, **{**kw, "weights": name})
        names, exprs = _estimate_values(est)
        if any(names[k] != table[k] for k in names):
            continue  # other operations than serve's: the full path answers
        try:
            subs, extra, rows = _expert_powers(exprs)
            if rows != table.get("expert_powers", ()):
                continue
            exprs = [e.xreplace(subs) for e in exprs]
            changed = tuple(i for i, (e, e0) in enumerate(zip(exprs, base)) if e != e0)
            if len(exprs) != len(base) or any(w in base[i].free_symbols for i in range(len(base)) if i not in changed):
                continue
            out += "\n\n" + _function(f"_serve_{name}", _args() + extra, tuple(exprs[i] for i in changed))
            out += "\n\n" + _WITH.format(name=name, changed=changed)
            table[f"{name}_linear"] = _linear_in(est.memory.total, b)
        except Exception:  # noqa: BLE001
            pass
    return out
