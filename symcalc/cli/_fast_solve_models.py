"""``symcalc solve tokens|layers|hidden-size`` (the model questions) without sympy: exact answers from generated code.

The full path (:func:`symcalc.cli.solve.run_tokens`, ``run_layers``, ``run_hidden``) builds the quantity as a sympy
expression in the unknown and hands it to :func:`symcalc.solve.max_integer`, whose closed form (the exact real roots
of quantity = budget) gives the largest allowed value that fits. Here:

- ``tokens``: the quantity is F D, F the training FLOPs per token: Kaplan's 6N with N the preset's parameter count
  (generated), or with ``-s`` symcalc's exact training FLOPs of one token at that sequence length, recompute none
  (the generated FLOPs function). The answer is floor(C / F) when it is at least 1; else nothing fits, and the
  quantity reported is F (at D = 1), exit 1.

Covered: ``--preset NAME`` or ``--hf-config`` holding a preset's model, ``--budget``/``--compute`` (a decimal with an
optional exponent, ``1e24``, ``5.76e23``, within the CLI's range, whole), ``-s``, ``--json``. Anything else (a
fraction, a flag-built model, another flag) goes to the full path, which gives the same answer or its error.
Imports neither sympy nor typing.
"""

from __future__ import annotations

from ._fast_args import amount, parse, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["answer", "QUESTIONS"]

#: The model questions -> how the text answer names them, and the budget's unit.
QUESTIONS = {"tokens": ("most tokens", "FLOP")}

_TOKENS_FLAGS = {"--preset": ("preset", "name"), "--hf-config": ("hf_config", "name"), "--json": ("json", "flag"),
                 "--budget": ("budget", "name"), "--compute": ("budget", "name"),
                 "--sequence-length": ("s", "seq"), "-s": ("s", "seq")}


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


def answer(argv: Sequence[str]) -> Optional[object]:
    """The text ``symcalc solve tokens ...`` prints (a ``(text, 1)`` pair when nothing fits), or None (the full path)."""
    from ._fast import _Fallback
    from ._solve_text import amount as _amount, answer_line

    question = argv[1]
    what, unit = QUESTIONS[question]
    opts = parse(argv[2:], table(_TOKENS_FLAGS))
    if opts is None:
        return None
    key = question.replace("-", "_")
    try:
        budget, value, at = _tokens(opts)
    except _Fallback:
        return None
    except NothingFits as nothing:
        budget = _budget(opts, suffix=False)
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
