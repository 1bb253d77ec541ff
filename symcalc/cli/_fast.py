"""The numeric CLI path without sympy: ``symcalc params|flops|mem --preset NAME`` from generated code.

The full path builds sympy expressions and evaluates them; importing sympy alone costs several
times a whole run of the cookbook's scripts. For the commands users run most, this module answers
from :mod:`symcalc._generated` instead: Python source generated once from the same expressions
(``python -m symcalc._fastgen --write``, checked current by the test suite), evaluated on ints
with exact integer numerator/denominator arithmetic. It prints (and ``--json`` writes) exactly
what the full path prints; tests compare the two for every preset and many flag combinations.

Covered (anything else goes to the full path, which gives the same answer, only slower):

- ``symcalc params --preset NAME [--json]``
- ``symcalc flops --preset NAME`` with ``-s/--sequence-length``, ``-b/--batch-size``, ``--tokens``,
  ``--recompute``, ``-ca/--no-checkpoint-activations``, ``-i/--infer``, ``--json``
- ``symcalc mem --preset NAME`` (training, or ``--infer`` with ``-o/--output-tokens``) with ``--num-gpus``, ``-tp``, ``-pp``, ``-ep``, ``-z``,
  ``-b/--batch-size-per-gpu``, ``-s/--sequence-length``, ``--recompute``, ``-ca``,
  ``--low-prec-bytes-per-val``, ``--high-prec-bytes-per-val``, ``--bytes-per-grad-ele``, ``--json``

Flag values must be plain decimal integers (``8192``; sequence lengths also ``4k``, ``1.5k``, ``1M``
with k = 1024; not ``2e12``), each flag given once, with today's defaults. A configuration the full path would refuse (tp not dividing the heads,
tp*pp not dividing the devices, ...) is also left to the full path, which prints its error.
Only the standard library and the generated modules are imported here.
"""

from __future__ import annotations

import importlib
import math
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, json or fractions: they cost a run ~20%
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["run"]

GIB = 2**30
POLICIES = ("none", "selective", "full")
PASSES = ("forward", "backward", "recompute")
PARTS = ("weights", "gradients", "optimizer", "activations", "kv_cache", "communication", "misc")

#: Subcommands answered by their own module's ``answer(argv)`` (the text, or None: the full path answers).
_OTHERS = {"presets": "_fast_catalog", "hardware": "_fast_catalog", "scaling": "_fast_scaling", "time": "_fast_time",
           "solve": "_fast_solve", "latex": "_fast_latex", "serve": "_fast_serve",
           "plan": "_fast_plan"}
#: Flag spellings -> (key, kind): "int" a positive integer, "stage" 0-3, "policy", "flag" (no value), "name".
_COMMON = {"--preset": ("preset", "name"), "--hf-config": ("hf_config", "name"), "--json": ("json", "flag")}
#: A flag-built model's sizes and MLP (no --preset or --hf-config); "h" is --hidden-size, and so on.
_MODEL = {
    "--num-layers": ("L", "int"), "-l": ("L", "int"), "--hidden-size": ("h", "int"), "-hs": ("h", "int"),
    "--num-attention-heads": ("a", "int"), "-a": ("a", "int"), "--num-kv-heads": ("g", "int"),
    "--vocab-size": ("v", "int"), "-v": ("v", "int"), "--ffn-hidden-size": ("f", "int"),
    "--swiglu": ("swiglu", "flag"), "--num-mlp-linears": ("nl", "int"), "-nl": ("nl", "int"),
}
_FLAGS = {
    "params": {},
    "flops": {
        "--sequence-length": ("s", "seq"), "-s": ("s", "seq"),
        "--batch-size": ("b", "int"), "-b": ("b", "int"),
        "--tokens": ("tokens", "int"),
        "--recompute": ("recompute", "policy"),
        "--no-checkpoint-activations": ("ca", "flag"), "-ca": ("ca", "flag"),
        "--infer": ("infer", "flag"), "-i": ("infer", "flag"),
    },
    "mem": {
        "--num-gpus": ("n", "int"),
        "--tensor-parallel-size": ("tp", "int"), "-tp": ("tp", "int"),
        "--pipeline-parallel-size": ("pp", "int"), "-pp": ("pp", "int"),
        "--expert-parallelism": ("ep", "int"), "-ep": ("ep", "int"),
        "--zero-stage": ("z", "stage"), "-z": ("z", "stage"),
        "--batch-size-per-gpu": ("b", "int"), "-b": ("b", "int"),
        "--sequence-length": ("s", "seq"), "-s": ("s", "seq"),
        "--recompute": ("recompute", "policy"),
        "--checkpoint-activations": ("ca", "flag"), "-ca": ("ca", "flag"),
        "--low-prec-bytes-per-val": ("lo", "int"), "--high-prec-bytes-per-val": ("hi", "int"),
        "--bytes-per-grad-ele": ("grad", "int"),
        "--infer": ("infer", "flag"), "--output-tokens": ("o", "int"), "-o": ("o", "int"),
    },
}


def _parse(argv: Sequence[str]) -> Optional[tuple]:
    """``(command, options)`` when ``argv`` is in the covered set, else None."""
    if not argv or argv[0] not in _FLAGS:
        return None
    from ._fast_args import parse, table

    command, flags = argv[0], {**_COMMON, **_MODEL, **_FLAGS[argv[0]]}
    opts = parse(argv[1:], table(flags))
    if opts is None:
        return None
    if "z" in opts:
        opts["z"] = int(opts["z"])
    sources = ("preset" in opts) + ("hf_config" in opts) + any(flags[f][0] in opts for f in _MODEL)
    return (command, opts) if sources <= 1 else None  # flags over a preset's or config's fields: the full path


def _exact(value):
    """An int for a whole number (a Fraction with denominator 1 included), else the Fraction."""
    if type(value) is not int and value.denominator == 1:  # values are ints or fractions.Fraction
        return value.numerator
    return value


def _number(value):
    """JSON: an int for a whole number, else the exact fraction as text (as the full path)."""
    value = _exact(value)
    return value if isinstance(value, int) else str(value)


def _count(value, unit: str) -> str:
    """:func:`symcalc.display.format_count` of an exact number (int or Fraction)."""
    from .._countfmt import scaled_count

    text = scaled_count(float(value), unit)
    if text is None:
        if not isinstance(_exact(value), int):
            raise _Fallback
        return f"{value}"
    return text


def _table(title: str, parts: dict, extra: list, unit: str) -> str:
    """:meth:`symcalc.breakdown.Breakdown.table` of numeric parts."""
    rows = list(parts.items()) + [("total", sum(parts.values()))]
    n_main = len(rows)
    rows += extra
    rows = [(k, _exact(v)) for k, v in rows]
    width = max(len(k) for k, _ in rows)
    exacts = [f"{v:,}" if isinstance(v, int) else str(v) for _, v in rows]
    wide = max([26] + [len(e) for e in exacts])
    lines = [title] if title else []
    for (k, v), exact in zip(rows, exacts):
        lines.append(f"{k:<{width}}  {exact:>{wide}}  {_count(v, unit):>12}")
    total_line = bool(title) + n_main - 1
    lines.insert(total_line, "-" * len(lines[total_line]))
    return "\n".join(lines)


class _Fallback(Exception):
    """The fast path does not cover this case: the full path answers."""


def _json(out: list, obj) -> None:
    """:func:`symcalc.cli.common.print_json` into ``out``."""
    import json

    out.append(json.dumps(obj, indent=2))


def _params(m, info: dict, opts: dict, today: dict, out: list) -> None:
    from ._texts import PARAMS_FOOTER, params_conventions

    p = info["params"]
    if opts.get("json"):
        _json(out, {"model": info["name"] or "custom", "total": p["total"], "trainable": p["trainable"],
               "non_embedding": p["non_embedding"], "active": p["active"], "breakdown": p["breakdown"],
               "conventions": params_conventions(today["active_convention"])})
        return
    convention = today["active_convention"]
    out.append(f"symcalc params: {info['name'] or 'custom model'} - {info['describe']}")
    label = "active per token" + ("" if convention == "all" else f" ({convention})")
    extra = [("non-embedding", p["non_embedding"])] + ([(label, p["active"])] if info["is_moe"] or convention != "all" else [])
    out.append(_table("parameters" + (f" - {info['name']}" if info["name"] else ""), p["breakdown"], extra, "params"))
    out.append(PARAMS_FOOTER)


def _policy(opts: dict, ca_policy: str, ca_says: str, default: str, today: dict) -> tuple:
    policy, ca = opts.get("recompute"), opts.get("ca")
    if ca and policy not in (None, ca_policy):
        raise _Fallback  # the full path's error
    if policy is not None:
        return policy, "--recompute"
    if ca:
        return ca_policy, ca_says
    return default, today["label"]


def _select(parts: dict, prefix: str):
    return sum(v for k, v in parts.items() if k == prefix or k.startswith(prefix + "/"))


def _flops(m, info: dict, opts: dict, today: dict, out: list) -> None:
    from ._texts import FLOPS_CA_SAYS, flops_conventions

    infer = bool(opts.get("infer"))
    if infer and opts.get("recompute") not in (None, "none"):
        raise _Fallback
    s, b, tokens = opts.get("s", today["seq_len"]), opts.get("b", today["batch"]), opts.get("tokens", today["tokens"])
    policy, why = _policy(opts, "none", FLOPS_CA_SAYS, today["flops_recompute"], today)
    if infer:
        policy = "none"
    key = "infer" if infer else policy
    names = getattr(m, f"FLOPS_PARTS_{key.upper()}")
    values = getattr(m, f"flops_{key}")(tokens, b, s)
    if values is m.SLOW:
        raise _Fallback
    k = len(names)
    run, step, token = (dict(zip(names, values[i * k:(i + 1) * k])) for i in range(3))
    passes = {p: _select(run, p) for p in PASSES}
    # 6N*D: given -s, a learned position table has s rows (symcalc.cli.common.model_from_args); else the preset's
    approx = values[-1] if "s" in opts else info["six_n"] * tokens
    conventions = flops_conventions(elementwise=today["elementwise"], causal=today["causal"], infer=infer, policy=policy,
                                    why=why, defaults=today["name"], window_full=info["window_full"],
                                    window_flops=today["window_flops"])
    by_component: dict = {}
    for name, value in run.items():
        part = name.split("/", 1)[1]
        by_component[part] = by_component.get(part, 0) + value
    if infer and approx % 3:
        from fractions import Fraction

        six = Fraction(approx, 3)
    else:
        six = approx // 3 if infer else approx
    if opts.get("json"):
        _json(out, {
            "model": info["name"] or "custom", "tokens": tokens, "sequence_length": s, "batch_size": b,
            "mode": "inference" if infer else "training",
            **{p: _number(v) for p, v in passes.items()},
            "total": _number(sum(run.values())),
            "per_step": {"sequences": b, **{p: _number(_select(step, p)) for p in PASSES},
                         "total": _number(sum(step.values()))},
            "per_token": {**{p: _number(_select(token, p)) for p in PASSES}, "total": _number(sum(token.values()))},
            "six_n": _number(six),
            "breakdown": {p: _number(v) for p, v in by_component.items()},
            "breakdown_by_pass": {p: _number(v) for p, v in run.items()},
            "conventions": conventions,
        })
        return
    mode = "inference prefill (forward only)" if infer else f"training, recompute {policy}"
    out.append(f"symcalc flops: {info['name'] or 'custom model'} - {info['describe']}")
    out.append(f"{tokens:,} tokens in sequences of {s}; {mode}")
    extra = list(passes.items())
    extra += [(f"per step ({b} sequence{'' if b == 1 else 's'})", sum(step.values())), ("per token", sum(token.values())),
              ("2N*D (forward-only rule)" if infer else "6N*D (rule of thumb)", six)]
    out.append(_table("", by_component, extra, "FLOP"))
    out.append("conventions: " + "; ".join(f"{k}: {v}" for k, v in conventions.items()))


def _ceil(value) -> int:
    value = _exact(value)
    return value if isinstance(value, int) else math.ceil(value)


def layout(info: dict, opts: dict) -> tuple:
    """``(tp, pp, dp, ep, n)`` from the layout flags; the full path answers a layout the model refuses."""
    tp, pp, ep = opts.get("tp", 1), opts.get("pp", 1), opts.get("ep", 1)
    n = opts.get("n", tp * pp)  # without --num-gpus: tp*pp*cp devices, dp 1 (cp is 1 here)
    if n % (tp * pp) or info["n_heads"] % tp or info["n_layers"] % pp:
        raise _Fallback
    if info["n_kv_heads"] % tp and tp % info["n_kv_heads"]:
        raise _Fallback
    dp = n // (tp * pp)
    if (info["is_moe"] and (info["n_experts"] % ep or dp % ep)) or (not info["is_moe"] and ep != 1):
        raise _Fallback
    return tp, pp, dp, ep, n


def _mem(m, info: dict, opts: dict, today: dict, out: list) -> None:
    from ._texts import MEM_CA_MEANING, MEM_CA_SAYS, MEM_FOOTER, MEM_UNITS

    tp, pp, dp, ep, n = layout(info, opts)
    z, s, b = opts.get("z", today["zero_stage"]), opts.get("s", today["seq_len"]), opts.get("b", today["micro_batch"])
    if today["sequence_parallel"] and s % tp:  # sequence parallelism splits the s tokens over tp
        raise _Fallback
    infer = bool(opts.get("infer"))
    if infer:
        if any(k in opts for k in ("z", "recompute", "ca", "grad", "lo", "hi")):
            raise _Fallback  # training flags (the full path's error) or inference precision (not covered)
        o = opts.get("o", today["output_tokens"])
        line = f"defaults {today['name']}; attention {'flash' if today['flash_attention'] else 'eager'}"
        device = m.mem_infer(tp, pp, dp, ep, b, s, o)
        replica = m.replica_infer(tp, pp, b, s, o)
    else:
        if "o" in opts:
            raise _Fallback  # -o is for --infer
        policy, why = _policy(opts, "selective", MEM_CA_SAYS, today["recompute"], today)
        rec = today["precision"]
        lo, grad, hi = opts.get("lo", rec["low"]), opts.get("grad", rec["grad"]), opts.get("hi", rec["high"])
        line = info["settings_head"] + f"bytes per value: weight {lo}, grad {grad}, master {hi}, act {lo}"
        device = getattr(m, f"mem_{policy}")(tp, pp, dp, ep, b, s, z, lo, grad, hi)
        replica = getattr(m, f"replica_{policy}")(tp, pp, b, s, lo, grad, hi)
    if device is m.SLOW or replica is m.SLOW:
        raise _Fallback
    dev = {p: _ceil(v) for p, v in zip(PARTS, device)}
    dev["total"] = _ceil(sum(device))
    rep = {p: _ceil(v) for p, v in zip(PARTS, replica)}
    rep["total"] = _ceil(sum(replica))
    if opts.get("json"):
        tune = {"storage": None} if infer else {
            "finetune": "full", "adapter": None, "freeze": None, "storage": None, "offload": "none", "sharding": None,
            "trainable_params": info["trainable_params"], "gpus_per_node": min(n, 8)}
        _json(out, {
            "model": info["name"] or "custom", "mode": "inference" if infer else "training", "per_device": dev,
            "per_replica": rep, "parallel": {"tp": tp, "pp": pp, "dp": dp, "ep": ep, "cp": 1, "n_devices": n},
            "settings": {"zero_stage": None if infer else z, "recompute": None if infer else policy,
                         "recompute_from": None if infer else why, "activation_profile": today["activation_profile"],
                         "sequence_parallel": bool(today["sequence_parallel"] and tp != 1), "defaults": today["name"],
                         "dropout": None if infer else info["dropout_places"], "line": line, **tune},
            "units": MEM_UNITS,
        })
        return
    out.append(f"symcalc mem ({'inference' if infer else 'training'}): {info['name'] or 'custom model'} - {info['describe']}")
    out.append(f"devices {n} = tp {tp} x pp {pp} x dp {dp} x cp 1 (ep {ep} inside dp)"
               + ("" if infer else f"; ZeRO {z}; recompute {policy}") + f"; s {s}, b {b}")
    out.append(line)
    if opts.get("ca"):
        out.append("note: " + MEM_CA_MEANING)
    width = max(len(k) for k in dev)
    out.append("per device:")
    for k, v in dev.items():
        if k == "total":
            out.append("-" * (width + 18))
        out.append(f"  {k:<{width}}  {v / GIB:>10.2f} GiB")
    out.append(f"one model replica, unsharded (cookbook's 'single replica'): {rep['total'] / GIB:.2f} GiB")
    out.append(MEM_FOOTER)


def run(argv: Sequence[str]) -> Optional[int]:
    """Answer ``argv`` from the generated code and return 0; None when the full path must answer.

    Nothing is printed unless the whole answer was computed (a fallback prints nothing).
    """
    if argv and argv[0] in _OTHERS:  # other subcommands: each its own module, answer(argv) -> text or None
        text = importlib.import_module(f"{__package__}.{_OTHERS[argv[0]]}").answer(argv)
        if isinstance(text, tuple):  # (text, exit status): solve's "nothing fits" exits 1
            text, status = text
            return _write([text]) or status
        return None if text is None else _write([text])
    parsed = _parse(argv)
    if parsed is None:
        return None
    command, opts = parsed
    from .._generated import MODULES, TODAY

    if "preset" not in opts and "hf_config" not in opts:
        from ._fast_sources import flag_model

        built = flag_model(command, opts)
        if built is None:
            return None
        m, info = built
    else:
        if "hf_config" in opts:
            from ._fast_sources import from_config

            found = from_config(opts["hf_config"])
            if found is None:
                return None
            preset, name = found
        else:
            preset = opts["preset"]
        module = MODULES.get(preset)
        if module is None:
            return None
        m = importlib.import_module(f"symcalc._generated.{module}")
        info = m.INFO if "hf_config" not in opts else {**m.INFO, "name": name}
    out: list = []
    try:
        {"params": _params, "flops": _flops, "mem": _mem}[command](m, info, opts, TODAY, out)
    except _Fallback:
        return None
    return _write(out)


def _write(out: list) -> int:
    """Print the answer's lines; 0."""
    try:
        sys.stdout.write("\n".join(out) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `symcalc mem ... | head -1`: quiet, as the full path
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes at exit
    return 0
