"""The ``symcalc solve layers|hidden-size --memory-budget`` part of :mod:`symcalc._fastgen`: training memory per device
with the model's sizes as arguments, as integer code, one module per structure, and what the sympy-free solver may
rely on.

Presets of one structure (the same :class:`~symcalc.model.Model` once its sizes L, h, a, g, f, v, an explicit d_h
and the expert's f_E are symbols: :func:`skeleton`) share ``symcalc/_generated/sizes_<first preset>.py`` (structures
whose generated code is the same share one too), which holds, for each recompute policy, ``memory_<policy>(L, h,
<the structure's other sizes>, t, p, d, e, b, s, z, lo, grad, hi)``: the training memory per device that ``symcalc
mem`` computes (the same flags, the same code as a preset's ``mem_<policy>``) of that symbolic model. Per preset,
``MODELS[preset]["memory"]`` of ``symcalc/_generated/solve.py`` (:func:`preset_memory`) holds its module, its sizes
(the ``"n_layers"`` family of :func:`symcalc.solve.model_family` is the function at those sizes with L an
argument), which of them the ``"d_model"`` family scales with h (as ratios to h; the others stay), and the TP
multiple. Each entry is checked when it is generated: the structure with the preset's sizes is exactly (as a
:class:`~symcalc.model.Model`) each of the preset's two families; ``tests/test_fast_solve_models.py`` checks each
preset's module at the preset's sizes against the preset's own ``mem_<policy>``. ``FACTS`` records, checked on the
structure's expressions:

- ``layers``: the policies whose memory is, in every branch, a polynomial of degree <= 1 in L, and no condition,
  Max, Min, floor, ceiling or other function has L inside: memory is A + B L once the layout is numbers, so the
  full path's closed form is the largest allowed L with A + B L <= budget.
- ``hidden``: per policy, the total degree in L, h and the sizes that may scale with h (f, d_h, f_E) of the memory
  when it is, in every branch, a polynomial in them with no condition or function of them (else None). Along
  h = k m (L fixed, or L = h/r; the scaled sizes fixed ratios of h) it is a polynomial in k of at most that
  degree, so that many evaluations plus one give its coefficients exactly.

Regenerate with ``python -m symcalc._fastgen --write``; ``tests/test_fast_cli.py`` checks it is current.
"""

from __future__ import annotations

import functools

__all__ = ["files", "file_names", "skeleton", "preset_memory", "flag_memory_facts"]

#: The sizes a structure's memory function may take as arguments, in order (each a Model field and the symbol of
#: :mod:`symcalc.symbols` of that name); the sizes after d_model that the ``"d_model"`` family may scale with h.
SIZE_FIELDS = ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_ff", "vocab", "d_head", "d_ff_expert")
SCALED = ("d_ff", "d_head", "d_ff_expert")


def skeleton(model) -> tuple:
    """``(structure, fields)``: ``model`` with its sizes ``fields`` (of :data:`SIZE_FIELDS`) made their symbols: the
    whole numbers among them, d_h only where it is not h/a, the KV heads g only where 1 < g < a (g = a stays a, g = 1
    stays 1) and not for MLA (its own sizes stay)."""
    from . import symbols as S

    fields = []
    for name in SIZE_FIELDS:
        value = getattr(model, name)
        if value is None or not getattr(value, "is_Integer", False):
            continue
        if name == "d_head" and (model.is_mla or value == model.d_model / model.n_heads):
            continue  # MLA's head sizes are its own; h/a follows h and a
        if name == "n_kv_heads" and (model.is_mla or value in (1, model.n_heads)):
            continue  # multi-query (g = 1) and multi-head attention (g = a) are structures of their own
        fields.append(name)
    changes = {name: getattr(S, name) for name in fields}
    if "n_heads" in fields and model.n_kv_heads == model.n_heads and not model.is_mla:
        changes["n_kv_heads"] = S.n_heads
    return model.replace(**changes), tuple(fields)


def _polynomial_degree(total, symbols) -> object:
    """At least the total degree of ``total`` in ``symbols`` (exactly it where no terms cancel) when every branch
    is a polynomial in them and no condition, Max, Min, floor, ceiling or other function has one inside; else None.

    >>> from symcalc import symbols as S
    >>> _polynomial_degree(S.d_model ** 2 * S.n_layers / S.n_heads + 3 * S.tp, (S.d_model, S.n_layers))
    3
    """
    from sympy import Function, Max, Min, Piecewise, ceiling, floor, piecewise_fold

    def has(e) -> bool:
        return any(e.has(x) for x in symbols)

    if any(has(a) for a in total.atoms(Function, Max, Min, floor, ceiling) if not isinstance(a, Piecewise)):
        return None
    if any(has(c) for pw in total.atoms(Piecewise) for _, c in pw.args):
        return None
    folded = piecewise_fold(total)
    branches = [v for v, _ in folded.args] if isinstance(folded, Piecewise) else [folded]
    if not all(v.is_polynomial(*symbols) for v in branches):
        return None

    def degree(e) -> int:  # an upper bound, walking the tree (sympy's Poly is slow with symbolic coefficients)
        if not has(e):
            return 0
        if e.is_Symbol:
            return 1
        if e.is_Add:
            return max(degree(a) for a in e.args)
        if e.is_Mul:
            return sum(degree(a) for a in e.args)
        if e.is_Pow and e.exp.is_Integer and e.exp >= 0:
            return int(e.exp) * degree(e.base)
        raise ValueError(e)

    try:
        return max(degree(v) for v in branches)
    except ValueError:
        return None


def _at(structure, values: dict):
    """The model ``structure`` with its size symbols replaced by ``values`` (``{symbol: expression}``)."""
    from sympy import Basic

    return structure.replace(**{f: v.xreplace(values) for f, v in vars(structure).items()
                                if isinstance(v, Basic) and v.free_symbols & set(values)})


def _memory_of(argv: list, dims: tuple, policy: str) -> tuple:
    """``(model, total)``: ``symcalc mem``'s model of ``argv`` (sizes ``dims`` symbolic, none for a preset) and the
    function giving a model's training memory per device as ``symcalc mem`` computes it (layout, micro-batch,
    sequence, ZeRO stage and bytes per value symbolic, as the preset's ``mem_<policy>``)."""
    from sympy import Integer

    from . import symbols as S
    from ._fastgen import _args, _symbolic_precision
    from .cli import mem
    from .memory import Parallel

    args = _symbolic_precision(_args(["mem", *argv, "--recompute", policy], dims))
    model = mem.model_from_mem_args(args)
    st, misc = mem._settings(args), mem.misc_bytes_of(args)
    args.sequence_length, args.batch_size_per_gpu = S.seq_len, S.micro_batch
    par = Parallel(tp=S.tp, pp=S.pp, dp=S.dp, ep=S.ep if model.is_moe else Integer(1), cp=1)
    return model, lambda family: mem._memory(family, args, st, par, zero=S.zero_stage, buffers=True, misc=misc).total


def _structures() -> list:
    """``[(structure, fields, [preset, ...]), ...]`` in preset order: the presets sharing each structure."""
    from . import defaults
    from .model import Model
    from .presets import PRESETS

    out: list = []
    with defaults.using("today"):
        for name in PRESETS:
            structure, fields = skeleton(Model.preset(name))
            for entry in out:
                if entry[0] == structure and entry[1] == fields:
                    entry[2].append(name)
                    break
            else:
                out.append((structure, fields, [name]))
    return out


def _module(names: list) -> str:
    """The module of a structure: ``sizes_<its first preset>``."""
    from ._fastgen import module_name

    return "sizes_" + module_name(names[0])[2:]


def _totals(argv: list, model) -> dict:
    """``{policy: memory}`` of ``model`` with ``symcalc mem``'s flags ``argv``."""
    from ._fastgen import RECOMPUTE

    return {policy: _memory_of(argv, (), policy)[1](model) for policy in RECOMPUTE}


def _body(structure, fields: tuple, first: str) -> str:
    """A structure's memory functions and their facts (``first``: a preset of it, for ``symcalc mem``'s flags)."""
    import pprint

    from . import defaults
    from . import symbols as S
    from ._fastgen import MEM_ARGS, PRELUDE, _function

    sizes = tuple(getattr(S, f) for f in fields)
    scaled = (S.n_layers, S.d_model) + tuple(getattr(S, f) for f in fields if f in SCALED)
    facts: dict = {"sizes": fields, "layers": [], "hidden": {}}
    functions = []
    with defaults.using("today"):
        for policy, total in _totals(["--preset", first], structure).items():
            degree = _polynomial_degree(total, (S.n_layers,))
            if degree is not None and degree <= 1:
                facts["layers"].append(policy)
            facts["hidden"][policy] = _polynomial_degree(total, scaled)
            functions.append(_function(f"memory_{policy}", sizes + MEM_ARGS, (total,)))
    facts["layers"] = tuple(facts["layers"])
    lines = [PRELUDE, "#: The sizes the functions take before the layout, and what the sympy-free solver relies "
             "on,\n#: checked on the expressions (:mod:`symcalc._fastgen_solve_sizes`).\nFACTS = "
             + pprint.pformat(facts, width=110, sort_dicts=False) + "\n\n", *functions]
    return "\n".join(line if line.endswith("\n") else line + "\n" for line in lines)


@functools.lru_cache(maxsize=1)
def _modules() -> tuple:
    """``((module, [preset, ...], source), ...)``: the structures' modules, structures whose generated code is the same
    (a window or a fused linear the training memory does not see) sharing one."""
    from ._fastgen import HEADER

    bodies: dict = {}
    for structure, fields, names in _structures():
        bodies.setdefault(_body(structure, fields, names[0]), []).extend(names)
    return tuple((_module(names), names, HEADER.rstrip("\n").rstrip('"') + "\n\nTraining memory per device with the "
                  "sizes as arguments, of the presets " + ", ".join(names) + " (:mod:`symcalc._fastgen_solve_sizes`)."
                  "\n\"\"\"\n" + body) for body, names in bodies.items())


def preset_memory() -> dict:
    """Per preset, ``{"module", "sizes", "per_h", "tp_multiple"}``, checked against the preset's own memory, or None
    (the full path answers): ``sizes`` the preset's values of its structure's size arguments, ``per_h``
    ``{position: (numerator, denominator)}`` of the sizes the ``"d_model"`` family scales with h (the others stay),
    ``tp_multiple`` per TP degree t dividing the heads the multiple of h that keeps the head counts divisible by t
    (:func:`symcalc.solve._memory._tp_multiple`, which the full path adds; a t it refuses, above the KV heads, is left
    out)."""
    from sympy import divisors

    from . import defaults
    from . import symbols as S
    from .errors import SymcalcError
    from .model import Model
    from .solve._memory import _tp_multiple
    from .solve._models import model_family

    h, L = S.d_model, S.n_layers
    module = {name: m for m, names, _ in _modules() for name in names}
    out = {}
    with defaults.using("today"):
        for structure, fields, names in _structures():
            for name in names:
                model = Model.preset(name)
                family = model_family(model, "d_model")[0]
                sizes = tuple(int(getattr(model, f)) for f in fields)
                per_h, at = {}, {S.n_layers: L, S.d_model: h}
                for i, f in enumerate(fields[2:], 2):
                    value = getattr(family, f)
                    ratio = value / h
                    at[getattr(S, f)] = value
                    if value != getattr(model, f):
                        per_h[i] = (int(ratio.p), int(ratio.q))
                tp_multiple = {}
                for t in divisors(int(model.n_heads)):
                    try:
                        tp_multiple[int(t)] = _tp_multiple(family, h, {"tp": t})
                    except SymcalcError:  # t > the KV heads: the full path's error
                        pass
                own = {getattr(S, f): getattr(model, f) for f in fields[1:]}
                ok = (_at(structure, own) == model.replace(n_layers=L)
                      and _at(structure, {**own, **at}) == family.replace(n_layers=L))
                out[name] = ({"module": module[name], "sizes": sizes, "per_h": per_h, "tp_multiple": tp_multiple}
                             if ok else None)
    return out


def flag_memory_facts() -> dict:
    """Per flag-built structure, ``FACTS``' ``layers`` and ``hidden`` of its generated ``<variant>_mem_<policy>``
    (:mod:`symcalc._generated.flags`): the policies whose memory is linear in L, and the total degree in (L, h, f)
    (the family keeps f/h, so along h = k m it is a polynomial in k of at most that degree)."""
    from . import defaults
    from . import symbols as S
    from ._fastgen import DIMS, RECOMPUTE, VARIANTS

    out = {}
    with defaults.using("today"):
        for variant, argv in VARIANTS.items():
            facts: dict = {"layers": [], "hidden": {}}
            for policy in RECOMPUTE:
                model, memory = _memory_of(argv, DIMS, policy)
                total = memory(model)
                degree = _polynomial_degree(total, (S.n_layers,))
                if degree is not None and degree <= 1:
                    facts["layers"].append(policy)
                facts["hidden"][policy] = _polynomial_degree(total, (S.n_layers, S.d_model, S.d_ff))
            out[variant] = {"layers": tuple(facts["layers"]), "hidden": facts["hidden"]}
    return out


def files(names=None) -> dict:
    """``{file name: source}`` of the structures' generated modules (of the presets ``names``, or every one)."""
    return {m + ".py": source for m, presets, source in _modules() if names is None or set(names) & set(presets)}


def file_names() -> set:
    """The names of the structures' generated modules."""
    return {m + ".py" for m, _, _ in _modules()}
