"""The ``symcalc solve layers|hidden-size --memory-budget`` part of :mod:`symcalc._fastgen`: training memory per device
with the depth (and the hidden size) symbolic, as integer code, and what the sympy-free solver may rely on.

Per preset, ``symcalc/_generated/solve_<preset>.py`` holds, for each recompute policy, ``layers_<policy>(L, t, p,
d, e, b, s, z, lo, grad, hi)``: the training memory per device that ``symcalc mem`` computes (the same flags, the
same code as the preset's ``mem_<policy>``) of :func:`symcalc.solve.model_family`'s ``"n_layers"`` family, and
``hidden_<policy>(h, L, ...)``: that of the ``"d_model"`` family with the depth L left symbolic too (L = h/r for an
aspect ratio r). ``FACTS`` records, checked on those sympy expressions:

- ``layers``: the policies whose memory is, in every branch, a polynomial of degree <= 1 in L, and no condition,
  Max, Min, floor, ceiling or other function has L inside: memory is A + B L once the layout is numbers, so the
  full path's closed form is the largest allowed L with A + B L <= budget.
- ``hidden``: per policy, the total degree in (h, L) of the memory when it is, in every branch, a polynomial in
  h and L with no condition or function of them (else None). Along h = k m (and L fixed, or L = h/r) it is a
  polynomial in k of at most that degree, so that many evaluations plus one give its coefficients exactly.
- ``tp_multiple``: per TP degree t dividing the heads, the multiple of h that keeps the head counts divisible by t
  (:func:`symcalc.solve._memory._tp_multiple`, which the full path adds; a t it refuses, above the KV heads, is
  left out).

Regenerate with ``python -m symcalc._fastgen --write``; ``tests/test_fast_cli.py`` checks it is current.
"""

from __future__ import annotations

__all__ = ["files", "file_names", "solve_module", "flag_memory_facts"]


def solve_module(preset: str) -> str:
    """The sizes solver's generated module of a preset: ``llama-2-7b`` -> ``solve_llama_2_7b``."""
    from ._fastgen import module_name

    return "solve_" + module_name(preset)[2:]


def _polynomial_degree(total, symbols) -> object:
    """The total degree of ``total`` in ``symbols`` when every branch is a polynomial in them and no condition, Max,
    Min, floor, ceiling or other function has one inside; else None."""
    from sympy import Function, Max, Min, Piecewise, Poly, ceiling, floor, piecewise_fold

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
    return max(Poly(v, *symbols).total_degree() for v in branches)


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


def generate(name: str) -> str:
    """The source of ``solve_<preset>.py``: the memory functions of both families and their facts."""
    import pprint

    from sympy import divisors

    from . import defaults
    from . import symbols as S
    from .errors import SymcalcError
    from ._fastgen import HEADER, MEM_ARGS, PRELUDE, RECOMPUTE, _function
    from .model import Model
    from .solve._memory import _tp_multiple
    from .solve._models import model_family

    h, L = S.d_model, S.n_layers
    facts: dict = {"layers": [], "hidden": {}, "tp_multiple": {}}
    functions = []
    with defaults.using("today"):
        model = Model.preset(name)
        layers_family = model_family(model, "n_layers")[0]
        hidden_family = model_family(model, "d_model")[0].replace(n_layers=L)
        for t in divisors(int(model.n_heads)):
            try:
                facts["tp_multiple"][int(t)] = _tp_multiple(model_family(model, "d_model")[0], h, {"tp": t})
            except SymcalcError:  # t > the KV heads: the full path's error
                pass
        for policy in RECOMPUTE:
            _, memory = _memory_of(["--preset", name], (), policy)
            for kind, family, unknowns in (("layers", layers_family, (L,)), ("hidden", hidden_family, (h, L))):
                total = memory(family)
                degree = _polynomial_degree(total, unknowns)
                if kind == "layers":
                    if degree is not None and degree <= 1:
                        facts["layers"].append(policy)
                else:
                    facts["hidden"][policy] = degree
                functions.append(_function(f"{kind}_{policy}", unknowns + MEM_ARGS, (total,)))
    facts["layers"] = tuple(facts["layers"])
    lines = [HEADER, PRELUDE, "#: What the sympy-free solver relies on, checked on the expressions "
             "(:mod:`symcalc._fastgen_solve_sizes`).\nFACTS = " + pprint.pformat(facts, width=110, sort_dicts=False)
             + "\n\n", *functions]
    return "\n".join(line if line.endswith("\n") else line + "\n" for line in lines)


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
    """``{file name: source}`` of the sizes solver's generated files (of the presets ``names``, or every one)."""
    from .presets import PRESETS

    return {solve_module(name) + ".py": generate(name) for name in (PRESETS if names is None else names)}


def file_names() -> set:
    """The names of the sizes solver's generated files (without generating them)."""
    from .presets import PRESETS

    return {solve_module(n) + ".py" for n in PRESETS}
