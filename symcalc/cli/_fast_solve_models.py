"""``symcalc solve tokens|layers|hidden-size`` (the model questions) without sympy: exact answers from generated code.

The full path (:func:`symcalc.cli.solve.run_tokens`, ``run_layers``, ``run_hidden``) builds the quantity as a sympy
expression in the unknown and hands it to :func:`symcalc.solve.max_integer`, whose closed form (the exact real roots
of quantity = budget) gives the largest allowed value that fits. Here:

- ``tokens``: the quantity is F D, F the training FLOPs per token: Kaplan's 6N with N the preset's active parameter count
  (generated), or with ``-s`` symcalc's exact training FLOPs of one token at that sequence length, recompute none
  (the generated FLOPs function). The answer is floor(C / F) when it is at least 1; else nothing fits, and the
  quantity reported is F (at D = 1), exit 1.

- ``layers`` and ``hidden-size`` with a parameter budget: the parameter count of the solver's family
  (:func:`symcalc.solve.model_family`) is a polynomial in the unknown whose exact coefficients are generated per preset
  (``MODELS`` of :mod:`symcalc._generated.solve`, by :func:`symcalc._fastgen_solve.model_facts`: in L, and in (h, L)
  with L the preset's depth or h/r for ``--aspect-ratio r``). With no negative coefficient above degree 0 it
  increases for x > 0, so the closed form is the largest allowed x = k m (m: ``--multiple-of`` with the multiple
  that keeps every size whole) with p(x) <= budget, found exactly by bracketing and bisection; none: nothing fits,
  and p(m) is reported.

Covered: ``--preset NAME``, ``--hf-config`` holding a preset's model, or the size flags of the sympy-free ``symcalc
mem`` (``-l -hs -a --num-kv-heads --ffn-hidden-size -v --swiglu -nl``; for layers and hidden-size the structure's
parameter count in (L, h, 1/a, g, f, v) is generated: ``FLAG_MODELS``), ``--budget``/``--compute`` (a decimal with an
optional exponent, ``1e24``, ``5.76e23``, within the CLI's range, whole), ``-s`` (tokens), ``--budget`` (a whole count,
``7B``, ``7e9``), ``--multiple-of``, ``--aspect-ratio`` and ``--fixed-head-dim`` (hidden-size: heads h/d, the count
generated in (h, L, d, 1/d)), ``--json``. A memory budget
(``--memory-budget``, ``--hardware``) with ``symcalc mem``'s training flags: :mod:`symcalc.cli._fast_solve_sizes`.
Anything else (a fraction, another flag) goes to the full path, which gives the same answer or
its error.
Imports neither sympy nor typing.
"""

from __future__ import annotations

from ._fast import _FLAGS as _FLAGS_ALL, _MODEL
from ._fast_args import amount, parse, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["answer", "QUESTIONS"]

#: The model questions -> how the text answer names them, and the budget's unit.
QUESTIONS = {"tokens": ("most tokens", "FLOP"), "layers": ("most layers", "params"),
             "hidden-size": ("largest hidden size", "params")}

_TOKENS_FLAGS = {**_MODEL, "--preset": ("preset", "name"), "--hf-config": ("hf_config", "name"), "--json": ("json", "flag"),
                 "--budget": ("budget", "name"), "--compute": ("budget", "name"),
                 "--sequence-length": ("s", "seq"), "-s": ("s", "seq")}


_SIZE_FLAGS = {**_MODEL, "--preset": ("preset", "name"), "--hf-config": ("hf_config", "name"), "--json": ("json", "flag"),
               "--budget": ("budget", "name"), "--multiple-of": ("multiple_of", "int")}
#: Each question's flags.
_FLAGS = {"tokens": _TOKENS_FLAGS, "layers": _SIZE_FLAGS,
          "hidden-size": {**_SIZE_FLAGS, "--aspect-ratio": ("aspect_ratio", "int"),
                          "--fixed-head-dim": ("fixed_head_dim", "int")}}
#: ``symcalc mem``'s covered training flags, taken by layers and hidden-size with a memory budget.
_MEM_FLAGS = {k: v for k, v in _FLAGS_ALL["mem"].items() if v[0] not in ("infer", "o")}


class NothingFits(Exception):
    """No allowed value fits: the quantity at the lowest allowed value (what the full path reports), and the budget."""

    def __init__(self, quantity, budget):
        super().__init__(quantity, budget)
        self.quantity, self.budget = quantity, budget


def _whole(value):
    """``value`` when it is an int (a Fraction with denominator 1 as its int); else the full path answers."""
    from ._fast import _Fallback

    if type(value) is not int:
        if value.denominator != 1:
            raise _Fallback  # a fractional quantity or budget: the full path prints its float form
        value = value.numerator
    return value


def _budget(opts: dict, suffix: bool) -> int:
    from ._fast import _Fallback

    text = opts.get("budget")
    value = None if text is None else amount(text, suffix=suffix, zero=True)
    if value is None:
        raise _Fallback  # missing, negative, out of range or another form: the full path's error
    return _whole(value)


def _tokens(opts: dict) -> tuple:
    """``(tokens, F tokens)``: the most tokens D with F D <= C."""
    from ._fast import _Fallback

    m, info, _, _ = _model(opts)
    budget = _budget(opts, suffix=False)
    if "s" in opts:
        values = m.flops_none(1, 1, opts["s"])  # one token's training FLOPs at sequence length s
        if values is m.SLOW:
            raise _Fallback
        per_token = _whole(sum(values[:len(m.FLOPS_PARTS_NONE)]))
    else:
        per_token = info["six_n"]  # Kaplan's 6N, N the active parameters: symcalc.flops.six_n, generated
    if per_token <= 0:
        raise _Fallback
    tokens = budget // per_token
    if tokens < 1:
        raise NothingFits(per_token, budget)
    return budget, tokens, per_token * tokens


def _dumps(obj) -> str:
    import json

    return json.dumps(obj, indent=2)


def _largest(coefficients: dict, multiple: int, budget, whole: bool = True) -> tuple:
    """``(k m, p(k m))`` for the largest k >= 1 with p(k m) <= budget, p the polynomial of ``coefficients``
    (degree -> exact coefficient), increasing for x > 0 (checked: no negative coefficient above degree 0; else the
    full path answers). Then quantity = budget has at most one positive root and the full path's closed form (the
    largest allowed value at or below a root) is exactly this value.

    >>> _largest({0: 10, 1: 3}, 4, 100)     # 10 + 3x <= 100: x <= 30, a multiple of 4
    (28, 94)
    """
    from ._fast import _Fallback

    if (any(c < 0 for d, c in coefficients.items() if d > 0) or not any(c for d, c in coefficients.items() if d > 0)
            or any(c for d, c in coefficients.items() if d < 0)):
        raise _Fallback

    def p(x: int):
        return sum(c * x**d for d, c in coefficients.items())

    exact = _whole if whole else (lambda value: value)
    if p(multiple) > budget:
        raise NothingFits(exact(p(multiple)), budget)
    good, bad = 1, 2
    while p(bad * multiple) <= budget:
        good, bad = bad, bad * 2
    while bad - good > 1:
        mid = (good + bad) // 2
        if p(mid * multiple) <= budget:
            good = mid
        else:
            bad = mid
    return good * multiple, exact(p(good * multiple))


def _model(opts: dict) -> tuple:
    """``(module, INFO, preset, sizes)``: a preset's (``--preset``, or ``--hf-config`` holding its model; sizes None)
    or the size flags' model (:func:`symcalc.cli._fast_sources.flag_model`, ``symcalc mem``'s defaults; preset None,
    sizes (L, h, a, g, f, v))."""
    from .._generated import MODULES
    from ._fast import _MODEL, _Fallback
    from ._fast_time import model_module

    sized = any(key in opts for key, _ in _MODEL.values())
    if ("preset" in opts) + ("hf_config" in opts) + sized > 1:
        raise _Fallback  # flags over a preset's fields: the full path
    if "preset" in opts or "hf_config" in opts:
        m, _ = model_module(opts)
        return m, m.INFO, next(p for p, module in MODULES.items() if module == m.__name__.rsplit(".", 1)[1]), None
    from ._fast_sources import flag_model

    built = flag_model("mem", opts)
    if built is None:
        raise _Fallback
    return (*built, None, built[0]._dims)


def _polynomial(terms, value_of) -> dict:
    """``{degree: coefficient}`` of a generated polynomial (``((exponents, numerator, denominator), ...)``) with
    ``value_of(exponents) -> (degree in the unknown, exact factor)`` giving each term's."""
    from fractions import Fraction

    from ._fast import _Fallback

    if terms is None:
        raise _Fallback  # not a polynomial with rational coefficients (checked when generated): the full path
    out: dict = {}
    for exponents, num, den in terms:
        degree, factor = value_of(exponents)
        out[degree] = out.get(degree, 0) + Fraction(num, den) * factor
    return out


def _layers(opts: dict) -> tuple:
    """``(budget, L, params at L)``: the most layers at fixed width, params A + B L."""
    from .._generated.solve import FLAG_MODELS, MODELS

    m, info, preset, sizes = _model(opts)
    budget = _budget(opts, suffix=True)
    if sizes is None:
        coefficients = _polynomial(MODELS[preset]["layers"], lambda e: (e[0], 1))
    else:
        _, h, a, g, f, v = sizes
        coefficients = _polynomial(FLAG_MODELS[m._variant], lambda e: (e[0], _sizes_factor(e, h, a, g, f, v)))
    return (budget, *_largest(coefficients, opts.get("multiple_of", 1), budget))


def _sizes_factor(e: tuple, h, a, g, f, v):
    """The value of h^e1 (1/a)^e2 g^e3 f^e4 v^e5 (the sizes but L of a flag-built model's term)."""
    from fractions import Fraction

    return h**e[1] * Fraction(1, a**e[2]) * g**e[3] * f**e[4] * v**e[5]


def _hidden(opts: dict) -> tuple:
    """``(budget, h, params at h)``: the largest hidden size at fixed depth (or L = h/r), f/h kept, heads fixed."""
    from fractions import Fraction
    from math import lcm

    from .._generated.solve import FLAG_MODELS, MODELS
    from ._fast import _Fallback

    m, info, preset, sizes = _model(opts)
    budget = _budget(opts, suffix=True)
    ratio = opts.get("aspect_ratio")
    depth = info["n_layers"]

    def layers(i: int) -> tuple:
        """L^i: at the model's depth, or (h/r)^i."""
        return (0, depth**i) if ratio is None else (i, Fraction(1, ratio**i))

    d = opts.get("fixed_head_dim")  # heads h/d, KV heads in proportion (g/a)(h/d), d_h = d
    kv = None if d is None else Fraction(info["n_kv_heads"], info["n_heads"] * d)
    if sizes is None:
        facts = MODELS[preset]
        if d is None:
            auto = facts["multiple"]

            def value_of(e: tuple) -> tuple:  # h^e0 L^e1
                degree, factor = layers(e[1])
                return e[0] + degree, factor
        else:
            if facts["head_dim"] is None:
                raise _Fallback  # MLA (its head sizes are its own: the full path's error) or no polynomial
            auto = lcm(facts["head_dim_multiple"], d, kv.denominator)

            def value_of(e: tuple) -> tuple:  # h^e0 L^e1 d^e2 (1/d)^e3
                degree, factor = layers(e[1])
                return e[0] + degree, factor * Fraction(d**e[2], d**e[3])

        coefficients = _polynomial(facts["hidden" if d is None else "head_dim"], value_of)
    else:
        _, h0, a, g, f0, v = sizes
        ratio_f = Fraction(f0, h0)  # the MLP keeps f/h
        auto = lcm(a, ratio_f.denominator) if d is None else lcm(d, kv.denominator, ratio_f.denominator)

        def value_of(e: tuple) -> tuple:  # L^e0 h^e1 (1/a)^e2 g^e3 f^e4 v^e5
            degree, factor = layers(e[0])
            factor *= ratio_f**e[4] * v**e[5]
            if d is None:
                return degree + e[1] + e[4], factor * Fraction(g**e[3], a**e[2])
            # a = h/d, g = kv h: (1/a)^e2 g^e3 = d^e2 kv^e3 h^(e3 - e2)
            return degree + e[1] + e[4] + e[3] - e[2], factor * d**e[2] * kv**e[3]

        coefficients = _polynomial(FLAG_MODELS[m._variant], value_of)
    multiple = lcm(opts.get("multiple_of", 1), auto, *(() if ratio is None else (ratio,)))
    return (budget, *_largest(coefficients, multiple, budget))


_SOLVERS = {"tokens": _tokens, "layers": _layers, "hidden-size": _hidden}


def answer(argv: Sequence[str]) -> Optional[object]:
    """The text ``symcalc solve tokens ...`` prints (a ``(text, 1)`` pair when nothing fits), or None (the full path)."""
    from ._fast import _Fallback
    from ._fast_time import _json_number
    from ._solve_text import amount as _amount, answer_line

    question = argv[1]
    what, unit = QUESTIONS[question]
    flags = _FLAGS[question]
    if question != "tokens":
        from ._fast_solve_sizes import FLAGS

        flags = {**flags, **_MEM_FLAGS, **FLAGS}
    opts = parse(argv[2:], table(flags))
    if opts is None:
        return None
    key = question.replace("-", "_")
    memory = "memory_budget" in opts or "hardware" in opts
    if memory:
        unit = "bytes"
    elif question != "tokens" and any(flag_key in opts for flag_key, _ in _MEM_FLAGS.values()):
        return None  # symcalc mem's flags beside a parameter budget: the full path
    try:
        if memory:
            from ._fast_solve_sizes import memory_answer

            budget, value, at = memory_answer(question, opts)
        else:
            budget, value, at = _SOLVERS[question](opts)
    except _Fallback:
        return None
    except NothingFits as nothing:
        budget, at = nothing.budget, nothing.quantity
        out = {key: None, "feasible": False, "method": "closed-form", "quantity_at_answer": _json_number(at),
               "budget": _json_number(budget), "headroom": _json_number(budget - at),
               "shortfall": _json_number(at - budget), "unit": unit}
        if opts.get("json"):
            return _dumps(out), 1
        return (f"nothing fits ({what}): the best allowed value needs {_amount(out['quantity_at_answer'], unit)}, "
                f"{_amount(out['shortfall'], unit)} over the budget {_amount(out['budget'], unit)}"), 1
    out = {key: value, "feasible": True, "method": "closed-form", "quantity_at_answer": _json_number(at),
           "budget": _json_number(budget), "headroom": _json_number(budget - at), "unit": unit}
    if opts.get("json"):
        return _dumps(out)
    return answer_line(what, value, out)
