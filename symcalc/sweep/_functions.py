"""The compiled float64 functions behind every sweep: one per part group, plus one total per discrete setting.

A grid sweep evaluates two functions, whatever the number of ZeRO stages and recompute policies:

- *model states* (weights, gradients, optimizer, communication buffers, misc) of
  ``(zero_stage, tp, pp, dp, ep, cp)``: the ZeRO stage is an argument (each part one ``Piecewise``
  over z, ``numpy.select`` at the small shape of these axes);
- *activations* of ``(recompute, tp, pp, cp, micro_batch, seq_len)``: the recompute policy is an
  argument too, its index in :data:`RECOMPUTE` (one ``Piecewise`` over the three policies).

The KV-head rule ``Max(1, g/t)`` and the buffers' ``d > 1`` condition are in the expressions, so
no degree needs a function of its own. Flat lists of configurations (:func:`total_function`)
use one function per (z, policy): the total alone, its terms expanded, so that a chunk of
configurations costs as few array passes as the formula allows.
"""

from __future__ import annotations

from typing import Any

from sympy import Integer, Piecewise, Symbol

from ..breakdown import _fold_stages
from ..defaults import active, dropout_for
from ..errors import SymcalcError
from ..numeric import CompiledExpr, compile_breakdown, compile_expr
from .. import symbols as S

__all__ = ["RECOMPUTE", "STATE_ARGS", "ACT_ARGS", "POINT_ARGS", "PartGroups", "part_groups", "total_function",
           "resolved_settings", "check_settings"]

RECOMPUTE = ("none", "selective", "full")
#: The recompute policy as a number inside the activations function (its index in RECOMPUTE).
RECOMPUTE_INDEX = Symbol("recompute_index", integer=True, nonnegative=True)
STATE_ARGS = (S.zero_stage, S.tp, S.pp, S.dp, S.ep, S.cp)
ACT_ARGS = (RECOMPUTE_INDEX, S.tp, S.pp, S.cp, S.micro_batch, S.seq_len)
POINT_ARGS = (S.tp, S.pp, S.dp, S.ep, S.cp, S.micro_batch, S.seq_len)
STATE_PARTS = ("weights", "gradients", "optimizer", "communication", "misc")

#: Keywords the sweeps set themselves (an axis or a discrete setting), not ``settings``.
RESERVED = ("seq_len", "micro_batch", "tp", "pp", "dp", "ep", "cp", "zero_stage", "recompute", "parallel")


def check_settings(settings: dict) -> None:
    given = sorted(set(settings) & set(RESERVED))
    if given:
        raise SymcalcError(f"{', '.join(given)} among the settings; give them as the sweep's own arguments "
                           "(a value or a list of values)")


def resolved_settings(model, settings: dict) -> dict:
    """``settings`` with every training_memory setting not given filled from :mod:`symcalc.defaults`.

    The compiled functions are cached by their settings, so a switch of the defaults set
    (``--cookbook``) gets functions of its own.
    """
    out = dict(settings)
    d = active()
    for key, name in (("precision", "precision"), ("optimizer", "optimizer"), ("profile", "activation_profile"),
                      ("flash_attention", "flash_attention"), ("sequence_parallel", "sequence_parallel"),
                      ("allgather_bucket", "allgather_bucket"), ("max_live_params", "max_live_params"),
                      ("misc_bytes", "misc_bytes")):
        if out.get(key) is None:
            out[key] = d[name]
    if out.get("dropout") is None:
        out["dropout"] = dropout_for(model)
    return out


class PartGroups:
    """The two compiled part-group functions of one model and settings (see the module docstring).

    ``states(z, t, p, d, e, c)`` returns weights, gradients, optimizer, communication, misc;
    ``activations(r, t, p, c, b, s)`` returns the activations (``r`` the policy's index in
    :data:`RECOMPUTE`). ``depends[name]`` is the set of argument names each part uses.
    """

    __slots__ = ("states", "activations", "depends")

    def __init__(self, states: CompiledExpr, activations: CompiledExpr) -> None:
        self.states, self.activations = states, activations
        self.depends = {}
        for fn in (states, activations):
            for name, expr in zip(fn.names, fn.expr):
                self.depends[name] = {str(s) for s in expr.free_symbols}


_GROUPS: dict = {}
_TOTALS: dict = {}


def _memory(model, zero_stage, recompute, settings):
    from ..memory import training_memory

    ep = S.ep if model.is_moe else Integer(1)
    return training_memory(model, seq_len=S.seq_len, micro_batch=S.micro_batch, tp=S.tp, pp=S.pp, dp=S.dp, ep=ep,
                           cp=S.cp, zero_stage=zero_stage, recompute=recompute, **settings).grouped()


def part_groups(model, settings: dict) -> PartGroups:
    """The compiled part groups of ``model`` under resolved ``settings``; cached."""
    from ..breakdown import Breakdown

    key = (model, tuple(sorted(settings.items())))
    hit = _GROUPS.get(key)
    if hit is not None:
        return hit
    states = _memory(model, S.zero_stage, "none", settings)
    folded = Breakdown({name: _fold_stages(states[name]) for name in STATE_PARTS})
    acts = [_memory(model, 0, r, settings)["activations"] for r in RECOMPUTE]
    policy = Piecewise(*((a, RECOMPUTE_INDEX <= i) for i, a in enumerate(acts[:-1])), (acts[-1], True))
    hit = _GROUPS[key] = PartGroups(compile_breakdown(folded, STATE_ARGS, total=False),
                                    compile_breakdown(Breakdown({"activations": policy}), ACT_ARGS, total=False))
    return hit


def total_function(model, zero_stage: int, recompute: str, settings: dict) -> CompiledExpr:
    """The total at one (z, policy) as a float64 function of :data:`POINT_ARGS`, terms expanded; cached."""
    key = (model, zero_stage, recompute, tuple(sorted(settings.items())))
    hit = _TOTALS.get(key)
    if hit is None:
        hit = _TOTALS[key] = compile_expr(_memory(model, zero_stage, recompute, settings).total.expand(), POINT_ARGS)
    return hit


def breakdown_function(model, zero_stage: int, recompute: str, tp: Any, dp: Any, settings: dict) -> CompiledExpr:
    """Grouped parts and total at one (z, policy), ``tp``/``dp`` fixed when numbers (memory_function)."""
    bd = _memory(model, zero_stage, recompute, settings).subs({S.tp: tp, S.dp: dp}).expand()
    return compile_breakdown(bd, POINT_ARGS)
