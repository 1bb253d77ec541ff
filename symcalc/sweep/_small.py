"""Small grids at a few microseconds: plain arguments checked once, the part groups as Python float code.

A grid of a few configurations (a handful of ZeRO stages and policies at one layout, say) is all
fixed cost: on the general path, coercing and validating nine arguments, resolving the settings,
some fifty numpy calls on one-element arrays and the parts' arrays. :func:`small_grid` takes such a
call when every argument is plain (ints, lists of ints, stage numbers and policy names) and the
part groups have at most :data:`LIMIT` layouts each:

- what depends only on the model and the settings (the resolved settings, the compiled part
  groups, their scalar functions, which degrees fit the model) is kept per (model, settings,
  active defaults), keyed by the objects' identity;
- each part group is one call of its scalar function (:mod:`symcalc.sweep._scalar`) per layout,
  returning the group's total for every ZeRO stage (or policy) at once, bit for bit the floats of
  the numpy function;
- the grid's total is one broadcast add of the two small arrays, as on the general path; the
  parts (``Sweep.parts``) are computed by the general path on first use.

Anything else (an invalid degree, a dask array, numpy inputs, a MoE model whose e and d both
vary) returns None and takes the general path, which gives the same numbers or the one-line error.
"""

from __future__ import annotations

from typing import Optional

from .. import symbols as S
from ..defaults import active
from ..inputs import as_model
from ._functions import RECOMPUTE, RECOMPUTE_INDEX, check_settings, part_groups, resolved_settings
from ._grid import DIMS
from ._points import _checks

__all__ = ["small_grid", "LIMIT", "LazyParts"]

#: Most layouts per part group (t·p·d·e·c for the model states, t·p·c·b·s for the activations).
LIMIT = 32
_INDEX = {name: i for i, name in enumerate(RECOMPUTE)}
_PLAIN = (list, tuple, range)


class _Context:
    """What a small grid needs of one model under one set of settings and defaults."""

    __slots__ = ("model", "defaults", "settings", "states", "acts", "tp", "pp", "ep", "moe", "zero", "policy")

    def __init__(self, model, given: dict, defaults) -> None:
        from ._scalar import Unsupported, scalar_group

        self.model, self.defaults = model, defaults
        self.settings = resolved_settings(model, given)
        self.zero, self.policy = defaults["zero_stage"], defaults["recompute"]
        self.moe = model.is_moe
        self.states = self.acts = None
        if model.free_symbols:
            return
        # The degrees that fit the model (the checks of Parallel.check_model), as sets: each is at
        # most the number it divides (heads, layers, experts; a dense model's e is 1).
        checks = _checks(model)
        self.tp, self.pp, self.ep = (frozenset(v for v in range(1, int(top) + 1) if checks[name](v)) for name, top in
                                     (("tp", model.n_heads), ("pp", model.n_layers),
                                      ("ep", model.n_experts if model.is_moe else 1)))
        groups = part_groups(model, self.settings)
        try:
            self.states = scalar_group(groups.states.expr, groups.states.args[1:], S.zero_stage, (0, 1, 2, 3), True)
            self.acts = scalar_group(groups.activations.expr, groups.activations.args[1:], RECOMPUTE_INDEX, (0, 1, 2),
                                     False)
        except Unsupported:
            self.states = self.acts = None


_CONTEXTS: dict = {}
_STAGES = frozenset(range(4))
_LIST = frozenset((list, tuple, range))


def _context(model, settings: dict):
    defaults = active()
    try:
        key = (id(model), tuple(settings.items()), id(defaults))
        hit = _CONTEXTS.get(key)
    except TypeError:  # a setting that cannot be a key (a dict): the general path
        return None
    if hit is None:  # a hit holds the model and the defaults, so their ids still name them
        as_model("model", model)
        check_settings(settings)
        if len(_CONTEXTS) >= 64:
            _CONTEXTS.clear()
        hit = _CONTEXTS[key] = _Context(model, dict(settings), defaults)
    return hit


def _ints(value) -> Optional[list]:
    """A plain int as a one-element list, a non-empty list/tuple/range of plain ints as a list; else None."""
    if type(value) is int:
        return [value]
    if type(value) in _LIST and value:
        for v in value:
            if type(v) is not int:
                return None
        return list(value)
    return None


def small_grid(model, seq_len, micro_batch, tp, pp, dp, ep, cp, zero_stage, recompute, settings: dict):
    """``(dims, coords, total)`` of a small plain grid (``total`` a float64 array), or None for the general path."""
    ctx = _context(model, settings)
    if ctx is None or ctx.states is None:
        return None
    if zero_stage is None:
        zero_stage = ctx.zero
    if recompute is None:
        recompute = ctx.policy
    if (type(tp) is int and type(pp) is int and type(dp) is int and type(ep) is int and type(cp) is int
            and type(micro_batch) is int and type(seq_len) is int):
        return _one_layout(ctx, seq_len, micro_batch, tp, pp, dp, ep, cp, zero_stage, recompute)
    ts = [tp] if type(tp) is int else _ints(tp)
    ps = [pp] if type(pp) is int else _ints(pp)
    ds = [dp] if type(dp) is int else _ints(dp)
    es = [ep] if type(ep) is int else _ints(ep)
    cs = [cp] if type(cp) is int else _ints(cp)
    bs = [micro_batch] if type(micro_batch) is int else _ints(micro_batch)
    ss = [seq_len] if type(seq_len) is int else _ints(seq_len)
    zs = [zero_stage] if type(zero_stage) is int else _ints(zero_stage)
    rs = [recompute] if type(recompute) is str else list(recompute) if type(recompute) in _LIST else None
    if None in (ts, ps, ds, es, cs, bs, ss, zs) or not rs or not _STAGES.issuperset(zs):
        return None
    codes = [_INDEX.get(r) if type(r) is str else None for r in rs]
    if None in codes:
        return None
    nt, np_ = len(ts), len(ps)
    if nt * np_ * max(len(ds) * len(es) * len(cs), len(cs) * len(bs) * len(ss)) > LIMIT:
        return None
    if not (ctx.tp.issuperset(ts) and ctx.pp.issuperset(ps) and ctx.ep.issuperset(es)):
        return None  # NaN where a degree does not fit: the general path marks them
    if ctx.moe and len(es) * len(ds) > 1 and any(d % e for d in ds for e in es):
        return None
    states_fn, acts_fn = ctx.states, ctx.acts
    try:
        if nt == np_ == len(ds) == len(es) == len(cs) == len(bs) == len(ss) == 1:  # one layout: stages and policies
            t, p, c = float(ts[0]), float(ps[0]), float(cs[0])
            per = states_fn(t, p, float(ds[0]), float(es[0]), c)
            states = [per[z] for z in zs]
            per = acts_fn(t, p, c, float(bs[0]), float(ss[0]))
            acts = [per[k] for k in codes]
        else:
            layouts = [states_fn(float(t), float(p), float(d), float(e), float(c))
                       for t in ts for d in ds for p in ps for e in es for c in cs]
            states = [v[z] for z in zs for v in layouts]
            layouts = [acts_fn(float(t), float(p), float(c), float(b), float(s))
                       for t in ts for p in ps for c in cs for b in bs for s in ss]
            acts = [v[k] for k in codes for v in layouts]
    except (ArithmeticError, TypeError, ValueError):  # a zero or huge size: numpy's inf/NaN on the general path
        return None
    listed = (type(zero_stage) is not int, type(recompute) is not str, type(tp) is not int, type(dp) is not int,
              type(pp) is not int, type(ep) is not int, type(cp) is not int, type(micro_batch) is not int,
              type(seq_len) is not int)
    layout = _LAYOUTS.get(listed)
    if layout is None:
        layout = _LAYOUTS[listed] = _layout(listed)
    dims, axes, outer = layout
    values = (zs, rs, ts, ds, ps, es, cs, bs, ss)
    sizes = [len(values[i]) for i in axes]
    np = _NUMPY[0] if _NUMPY else _numpy()
    if outer and len(states) * len(acts) <= 64:
        # The states vary along leading axes only and the activations along the trailing ones:
        # the broadcast add is the outer sum of the two lists (the same float additions).
        total = np.array([s + a for s in states for a in acts]).reshape(sizes)
    else:
        total = np.empty(sizes)
        np.add(np.array(states).reshape([len(values[i]) if i in _STATE_AXES else 1 for i in axes]),
               np.array(acts).reshape([len(values[i]) if i in _ACT_AXES else 1 for i in axes]), out=total)
    return dims, {d: values[i] for d, i in zip(dims, axes)}, total


def _one_layout(ctx, seq_len, micro_batch, tp, pp, dp, ep, cp, zero_stage, recompute):
    """:func:`small_grid` at one layout: the axes are the ZeRO stages and the policies (if lists)."""
    if tp not in ctx.tp or pp not in ctx.pp or ep not in ctx.ep:
        return None
    t, p, c = float(tp), float(pp), float(cp)
    try:
        states = ctx.states(t, p, float(dp), float(ep), c)
        acts = ctx.acts(t, p, c, float(micro_batch), float(seq_len))
    except (ArithmeticError, TypeError, ValueError):  # a zero or huge size: numpy's inf/NaN on the general path
        return None
    if type(zero_stage) is int:
        if not 0 <= zero_stage <= 3:
            return None
        states, zs = (states[zero_stage],), None
    else:
        zs = _ints(zero_stage)
        if zs is None or not _STAGES.issuperset(zs):
            return None
        if zs != _ALL_STAGES:
            states = [states[z] for z in zs]
    if type(recompute) is str:
        code = _INDEX.get(recompute)
        if code is None:
            return None
        acts, rs = (acts[code],), None
    else:
        rs = list(recompute) if type(recompute) in _LIST else None
        if not rs:
            return None
        if rs != _ALL_POLICIES:
            codes = [_INDEX.get(r) if type(r) is str else None for r in rs]
            if None in codes:
                return None
            acts = [acts[k] for k in codes]
    np = _NUMPY[0] if _NUMPY else _numpy()
    total = np.array([s + a for s in states for a in acts])
    if zs is None:
        return ((), {}, total.reshape(())) if rs is None else (("recompute",), {"recompute": rs}, total)
    if rs is None:
        return ("zero_stage",), {"zero_stage": zs}, total
    return ("zero_stage", "recompute"), {"zero_stage": zs, "recompute": rs}, total.reshape(len(zs), len(rs))


_ALL_STAGES = [0, 1, 2, 3]
_ALL_POLICIES = list(RECOMPUTE)
#: Positions in DIMS of the axes each group varies along.
_STATE_AXES = frozenset((0, 2, 3, 4, 5, 6))
_ACT_AXES = frozenset((1, 2, 4, 6, 7, 8))
_LAYOUTS: dict = {}
_NUMPY: list = []


def _layout(listed: tuple) -> tuple:
    """(dims, their positions in DIMS, whether every states axis precedes every activations axis, none shared)."""
    axes = tuple(i for i, on in enumerate(listed) if on)
    kinds = ["s" if i not in _ACT_AXES else "a" if i not in _STATE_AXES else "both" for i in axes]
    outer = "both" not in kinds and kinds == sorted(kinds, reverse=True)  # "s"... then "a"...
    return tuple(DIMS[i] for i in axes), axes, outer


def _numpy():
    from ..numeric import require_numpy

    _NUMPY[:] = [require_numpy()]
    return _NUMPY[0]




class LazyParts(dict):
    """``Sweep.parts`` of a small grid: a dict filled by ``self._build()`` (the general path) on first use."""

    __slots__ = ("_build",)

    def __reduce__(self):
        return dict, (dict(self.items()),)


def _filled(name: str):
    method = getattr(dict, name)

    def call(self, *args, **kwargs):
        build = getattr(self, "_build", None)
        if build is not None:
            self._build = None
            dict.update(self, build())
        return method(self, *args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


for _name in ("__getitem__", "__iter__", "__len__", "__contains__", "__eq__", "__ne__", "__repr__", "__reversed__",
              "__or__", "__ror__", "__ior__", "__setitem__", "__delitem__", "get", "keys", "values", "items", "copy",
              "pop", "popitem", "setdefault", "update", "clear"):
    setattr(LazyParts, _name, _filled(_name))
del _name
