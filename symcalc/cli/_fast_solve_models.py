"""``symcalc solve tokens|layers|hidden-size`` (the model questions) without sympy: exact answers from generated code.

The full path (:func:`symcalc.cli.solve.run_tokens`, ``run_layers``, ``run_hidden``) builds the quantity as a sympy
expression in the unknown and hands it to :func:`symcalc.solve.max_integer`, whose closed form (the exact real roots
of quantity = budget) gives the largest allowed value that fits. Here:

- ``tokens``: the quantity is F D, F the training FLOPs per token: Kaplan's 6N with N the preset's parameter count
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

Covered: ``--preset NAME`` or ``--hf-config`` holding a preset's model, ``--budget``/``--compute`` (a decimal with an
optional exponent, ``1e24``, ``5.76e23``, within the CLI's range, whole), ``-s`` (tokens), ``--budget`` (a whole count,
``7B``, ``7e9``), ``--multiple-of`` and ``--aspect-ratio`` (layers, hidden-size), ``--json``. Anything else (a fraction,
a flag-built model, a memory budget, ``--fixed-head-dim``, another flag) goes to the full path, which gives the same
answer or its error.
Imports neither sympy nor typing.
"""

from __future__ import annotations

from ._fast_args import amount, parse, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["answer", "QUESTIONS"]

#: The model questions -> how the text answer names them, and the budget's unit.
QUESTIONS = {"tokens": ("most tokens", "FLOP"), "layers": ("most layers", "params"),
             "hidden-size": ("largest hidden size", "params")}

_TOKENS_FLAGS = {"--preset": ("preset", "name"), "--hf-config": ("hf_config", "name"), "--json": ("json", "flag"),
                 "--budget": ("budget", "name"), "--compute": ("budget", "name"),
                 "--sequence-length": ("s", "seq"), "-s": ("s", "seq")}


_SIZE_FLAGS = {"--preset": ("preset", "name"), "--hf-config": ("hf_config", "name"), "--json": ("json", "flag"),
               "--budget": ("budget", "name"), "--multiple-of": ("multiple_of", "int")}
#: Each question's flags.
_FLAGS = {"tokens": _TOKENS_FLAGS, "layers": _SIZE_FLAGS,
          "hidden-size": {**_SIZE_FLAGS, "--aspect-ratio": ("aspect_ratio", "int")}}


class NothingFits(Exception):
    """No allowed value fits: the quantity at the lowest allowed value (what the full path reports)."""

    def __init__(self, quantity):
        super().__init__(quantity)
        self.quantity = quantity


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
    from ._fast_time import model_module

    m, _ = model_module(opts)
    budget = _budget(opts, suffix=False)
    if "s" in opts:
        values = m.flops_none(1, 1, opts["s"])  # one token's training FLOPs at sequence length s
        if values is m.SLOW:
            raise _Fallback
        per_token = _whole(sum(values[:len(m.FLOPS_PARTS_NONE)]))
    else:
        per_token = 6 * m.INFO["params"]["total"]  # Kaplan's 6N, N every parameter
    if per_token <= 0:
        raise _Fallback
    tokens = budget // per_token
    if tokens < 1:
        raise NothingFits(per_token)
    return budget, tokens, per_token * tokens


def _dumps(obj) -> str:
    import json

    return json.dumps(obj, indent=2)


def _largest(coefficients: dict, multiple: int, budget: int) -> tuple:
    """``(k m, p(k m))`` for the largest k >= 1 with p(k m) <= budget, p the polynomial of ``coefficients``
    (degree -> exact coefficient), increasing for x > 0 (checked: no negative coefficient above degree 0; else the
    full path answers). Then quantity = budget has at most one positive root and the full path's closed form (the
    largest allowed value at or below a root) is exactly this value.

    >>> _largest({0: 10, 1: 3}, 4, 100)     # 10 + 3x <= 100: x <= 30, a multiple of 4
    (28, 94)
    """
    from ._fast import _Fallback

    if any(c < 0 for d, c in coefficients.items() if d > 0) or not any(c for d, c in coefficients.items() if d > 0):
        raise _Fallback

    def p(x: int):
        return sum(c * x**d for d, c in coefficients.items())

    if p(multiple) > budget:
        raise NothingFits(_whole(p(multiple)))
    good, bad = 1, 2
    while p(bad * multiple) <= budget:
        good, bad = bad, bad * 2
    while bad - good > 1:
        mid = (good + bad) // 2
        if p(mid * multiple) <= budget:
            good = mid
        else:
            bad = mid
    return good * multiple, _whole(p(good * multiple))


def _facts(opts: dict, key: str):
    """The preset's generated facts for ``solve layers``/``hidden-size`` (:data:`symcalc._generated.solve.MODELS`)."""
    from .._generated import MODULES
    from .._generated.solve import MODELS
    from ._fast import _Fallback
    from ._fast_time import model_module

    m, _ = model_module(opts)
    preset = next(p for p, module in MODULES.items() if module == m.__name__.rsplit(".", 1)[1])
    facts = MODELS.get(preset)
    if facts is None or facts[key] is None:
        raise _Fallback  # not a polynomial with rational coefficients: the full path
    return m, facts


def _layers(opts: dict) -> tuple:
    """``(budget, L, params at L)``: the most layers at fixed width, params A + B L."""
    from fractions import Fraction

    _, facts = _facts(opts, "layers")
    budget = _budget(opts, suffix=True)
    coefficients = {exps[0]: Fraction(num, den) for exps, num, den in facts["layers"]}
    return (budget, *_largest(coefficients, opts.get("multiple_of", 1), budget))


def _hidden(opts: dict) -> tuple:
    """``(budget, h, params at h)``: the largest hidden size at the preset's depth (or L = h/r), params P(h, L)."""
    from fractions import Fraction
    from math import lcm

    m, facts = _facts(opts, "hidden")
    budget = _budget(opts, suffix=True)
    ratio = opts.get("aspect_ratio")
    depth = m.INFO["n_layers"]
    coefficients: dict = {}
    for (i, j), num, den in facts["hidden"]:
        c = Fraction(num, den)
        if ratio is None:  # h^i L^j at the preset's depth L
            degree, c = i, c * depth**j
        else:  # L = h / r: h^(i+j) / r^j
            degree, c = i + j, c / ratio**j
        coefficients[degree] = coefficients.get(degree, 0) + c
    multiple = lcm(opts.get("multiple_of", 1), facts["multiple"], *(() if ratio is None else (ratio,)))
    return (budget, *_largest(coefficients, multiple, budget))


_SOLVERS = {"tokens": _tokens, "layers": _layers, "hidden-size": _hidden}


def answer(argv: Sequence[str]) -> Optional[object]:
    """The text ``symcalc solve tokens ...`` prints (a ``(text, 1)`` pair when nothing fits), or None (the full path)."""
    from ._fast import _Fallback
    from ._solve_text import amount as _amount, answer_line

    question = argv[1]
    what, unit = QUESTIONS[question]
    opts = parse(argv[2:], table(_FLAGS[question]))
    if opts is None:
        return None
    key = question.replace("-", "_")
    try:
        budget, value, at = _SOLVERS[question](opts)
    except _Fallback:
        return None
    except NothingFits as nothing:
        budget = _budget(opts, suffix=question != "tokens")
        at = nothing.quantity
        out = {key: None, "feasible": False, "method": "closed-form", "quantity_at_answer": at, "budget": budget,
               "headroom": budget - at, "shortfall": at - budget, "unit": unit}
        if opts.get("json"):
            return _dumps(out), 1
        return (f"nothing fits ({what}): the best allowed value needs {_amount(at, unit)}, "
                f"{_amount(at - budget, unit)} over the budget {_amount(budget, unit)}"), 1
    out = {key: value, "feasible": True, "method": "closed-form", "quantity_at_answer": at, "budget": budget,
           "headroom": budget - at, "unit": unit}
    if opts.get("json"):
        return _dumps(out)
    return answer_line(what, value, out)
