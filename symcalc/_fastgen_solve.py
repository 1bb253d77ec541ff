"""The ``symcalc solve`` part of :mod:`symcalc._fastgen`: what the sympy-free solver may rely on, checked on the expressions.

:func:`solve_facts` builds, per preset and recompute policy, the expression ``symcalc solve`` solves
(:func:`symcalc.memory.training_memory` with the micro-batch, the sequence length, the TP and PP degrees,
the device count and the ZeRO stage symbolic) and records, for each memory question, the properties the
sympy-free path (:mod:`symcalc.cli._fast_solve`) needs to give the full path's answer exactly:

- ``closed``: the questions whose unknown enters only through rational functions (also inside every
  ``Piecewise``, ``Max``, ``Min`` branch and condition; no floor, ceiling or other function of it). With
  every other value a number, the full path's engine (:func:`symcalc.solve._engine._real_roots`) then
  finds the exact real roots and breakpoints, so it answers ``closed-form``; its answer is then the best
  allowed value that fits (the sign argument of :func:`symcalc.solve._engine._closed_form`), which the
  sympy-free path finds by evaluating the generated memory functions.
- ``devices``: from two data-parallel ranks on (d = n/(t·p) >= 2), memory is alpha + beta/d: every
  condition in d is decided there and d times the memory is of degree 1 in d. The fewest devices are then
  the first allowed count with d >= beta/(budget - alpha).
- ``seq_len``: memory is a polynomial of degree at most 2 in the sequence length s (no ``Piecewise``,
  ``Max``, ``Min``, floor or ceiling has s inside), so three evaluations give it exactly.

Regenerate with ``python -m symcalc._fastgen --write``; ``tests/test_fast_cli.py`` checks it is current.
"""

from __future__ import annotations

__all__ = ["solve_facts", "model_facts", "flag_model_facts", "QUESTIONS"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: The memory questions the sympy-free path answers besides micro-batch, and the symbol each solves for.
QUESTIONS = {"tp": "tp", "pp": "pp", "zero-stage": "zero_stage", "devices": "n_devices", "seq-len": "seq_len"}


def _rational(expr, x) -> bool:
    """Whether ``expr`` is a rational function of ``x`` in every branch and condition (no other function of x)."""
    from sympy import Dummy, Function, Max, Min, Piecewise
    from sympy.core.relational import Relational

    if not expr.has(x):
        return True
    expr = expr.replace(lambda e: isinstance(e, (Max, Min)) and e.has(x), lambda e: e.rewrite(Piecewise))
    if any(a.has(x) for a in expr.atoms(Function) if not isinstance(a, Piecewise)):
        return False
    pieces = expr.atoms(Piecewise)

    def plain(e) -> bool:
        e = e.xreplace({pw: Dummy() for pw in e.atoms(Piecewise)})
        return e.is_rational_function(x)

    if not plain(expr):
        return False
    for pw in pieces:
        for value, cond in pw.args:
            if not plain(value):
                return False
            rels = cond.atoms(Relational) if isinstance(cond, Relational) or cond.args else set()
            if any(r.has(x) and not plain(r.lhs - r.rhs) for r in rels):
                return False
    return True


def _inverse_in_d(total, n, t, p) -> bool:
    """Whether, for d = n/(t·p) >= 2, total = alpha + beta/d: conditions in d decided and d·total of degree 1 in d."""
    from sympy import Piecewise, Symbol, cancel, diff, piecewise_fold

    y = Symbol("y", nonnegative=True)  # d = 2 + y
    sub = total.subs(n, t * p * (2 + y))
    if any(c.has(y) for pw in sub.atoms(Piecewise) for _, c in pw.args):
        return False
    if not _rational(sub, y):
        return False
    folded = piecewise_fold((2 + y) * sub)
    branches = [v for v, _ in folded.args] if isinstance(folded, Piecewise) else [folded]
    return all(cancel(diff(v, y, 2)) == 0 for v in branches)


def _quadratic_in(total, s) -> bool:
    """Whether ``total`` is, in every branch, a polynomial of degree <= 2 in ``s``, and no condition, Max, Min,
    floor, ceiling or other function has s inside."""
    from sympy import Function, Max, Min, Piecewise, ceiling, diff, floor, piecewise_fold

    if any(a.has(s) for a in total.atoms(Function, Max, Min, floor, ceiling) if not isinstance(a, Piecewise)):
        return False
    if any(c.has(s) for pw in total.atoms(Piecewise) for _, c in pw.args):
        return False
    folded = piecewise_fold(total)
    branches = [v for v, _ in folded.args] if isinstance(folded, Piecewise) else [folded]
    return all(v.is_polynomial(s) and diff(v, s, 3) == 0 for v in branches)


def solve_facts() -> dict:
    """Per preset and recompute policy: the questions answered in closed form, and the devices and seq-len forms.

    ``{preset: {policy: {"closed": (question, ...), "devices": bool, "seq_len": bool}}}``.
    """
    from . import defaults
    from . import symbols as S
    from .memory import training_memory
    from .memory.states import precision_recipe
    from .model import Model
    from .presets import PRESETS

    out = {}
    with defaults.using("today"):
        for name in PRESETS:
            model = Model.preset(name)
            ep = {"ep": S.ep} if model.is_moe else {}
            per = {}
            for policy in ("none", "selective", "full"):
                total = training_memory(model, micro_batch=S.micro_batch, seq_len=S.seq_len, tp=S.tp, pp=S.pp,
                                        n_devices=S.n_devices, zero_stage=S.zero_stage, recompute=policy,
                                        precision=precision_recipe(None), **ep).total
                closed = tuple(q for q, sym in QUESTIONS.items() if _rational(total, getattr(S, sym)))
                per[policy] = {"closed": closed, "devices": _inverse_in_d(total, S.n_devices, S.tp, S.pp),
                               "seq_len": _quadratic_in(total, S.seq_len)}
            out[name] = per
    return out


def _coefficients(poly) -> Optional[tuple]:
    """``((exponents, numerator, denominator), ...)`` of a polynomial with rational coefficients; None otherwise."""
    if not (poly.domain.is_ZZ or poly.domain.is_QQ):
        return None
    return tuple((monom, int(c.p), int(c.q)) for monom, c in poly.terms())


def model_facts() -> dict:
    """Per preset, the parameter count of ``symcalc solve layers``' and ``hidden-size``'s families as polynomials.

    ``{preset: {"layers": coefficients in L or None, "hidden": coefficients in (h, L) or None, "multiple": m,
    "head_dim": coefficients in (h, L, d, 1/d) or None, "head_dim_multiple": m}}``:
    ``layers`` is the parameter count of :func:`symcalc.solve.model_family` (``"n_layers"``) in L; ``hidden`` that
    of the ``"d_model"`` family with the depth L left symbolic, checked to be the family's count at the preset's
    depth and, with L = h/r, the count of the family with a symbolic aspect ratio r; ``multiple`` the multiple of h
    :func:`symcalc.solve._models._auto_multiple` adds (an aspect ratio r adds r); ``head_dim`` the count of the
    family with ``--fixed-head-dim d`` (heads h/d) in (h, L, d, 1/d) and ``head_dim_multiple`` the multiple its
    other sizes add (d and the KV heads' g/(a d) add theirs at run time). None where the count is not a
    polynomial with rational coefficients (a ``Piecewise`` in h, a layer pattern with floor(L/2)): the full path
    answers those.
    """
    from sympy import Poly, PolynomialError, Symbol, expand

    from . import defaults
    from . import symbols as S
    from .model import Model
    from .params import params
    from .errors import SymcalcError
    from .presets import PRESETS
    from .solve._models import _auto_multiple, model_family

    r = Symbol("r", positive=True, integer=True)
    d = Symbol("d", positive=True, integer=True)
    L = S.n_layers
    out = {}
    with defaults.using("today"):
        for name in PRESETS:
            model = Model.preset(name)
            facts: dict = {"layers": None, "hidden": None, "multiple": None, "head_dim": None, "head_dim_multiple": None}
            try:
                facts["layers"] = _coefficients(Poly(params(model_family(model, "n_layers")[0]).total, L))
            except PolynomialError:
                pass
            try:
                family, h = model_family(model, "d_model")
                both = Poly(params(family.replace(n_layers=L)).total, h, L)
                plain = params(family).total
                ratio = params(model_family(model, "d_model", aspect_ratio=r)[0]).total
                if (expand(both.as_expr().subs(L, model.n_layers) - plain) == 0
                        and expand(both.as_expr().subs(L, h / r) - ratio) == 0):
                    facts["hidden"] = _coefficients(both)
                    facts["multiple"] = _auto_multiple(family, h)
            except PolynomialError:
                pass
            try:  # --fixed-head-dim D: heads h/D (KV heads in proportion), d_h = D
                family, h = model_family(model, "d_model", d_head=d)
                facts["head_dim"] = _coefficients(Poly(params(family.replace(n_layers=L)).total, h, L, d, 1 / d))
                facts["head_dim_multiple"] = _auto_multiple(family, h)  # the sizes whose multiple is not D's
            except (PolynomialError, SymcalcError):  # MLA: the head sizes are the attention's own
                pass
            out[name] = facts
    return out


def flag_model_facts() -> dict:
    """Per flag-built structure (:data:`symcalc._fastgen.VARIANTS`), the parameter count of ``symcalc mem``'s model
    as a polynomial in its sizes (L, h, 1/a, g, f, v), as :func:`_coefficients` writes it (None: not one)."""
    from sympy import Poly, PolynomialError, Symbol

    from . import defaults
    from ._fastgen import DIMS, VARIANTS, _args
    from .cli import mem
    from .params import params

    out = {}
    with defaults.using("today"):
        for variant, argv in VARIANTS.items():
            model = mem.model_from_mem_args(_args(["mem", *argv], DIMS))
            try:
                inverse = Symbol("inverse_a", positive=True)  # the head count enters as d_h = h/a
                total = params(model).total.subs(DIMS[2], 1 / inverse)
                out[variant] = _coefficients(Poly(total, *DIMS[:2], inverse, *DIMS[3:]))
            except PolynomialError:
                out[variant] = None
    return out


def generate_solve() -> str:
    """The source of ``symcalc/_generated/solve.py``: per preset and policy, the questions the sympy-free path answers."""
    import pprint

    from ._fastgen import HEADER
    from ._fastgen_solve_sizes import flag_memory_facts, preset_memory

    models, memory = model_facts(), preset_memory()
    for name, facts in models.items():
        facts["memory"] = memory[name]
    covered = {}
    for name, per in solve_facts().items():
        covered[name] = {policy: tuple(q for q in f["closed"] if (q != "devices" or f["devices"])
                                       and (q != "seq-len" or f["seq_len"])) for policy, f in per.items()}
    return (HEADER.rstrip("\n").rstrip('"') + "\n\nRead by :mod:`symcalc.cli._fast_solve`; checked on the expressions "
            "by :func:`symcalc._fastgen_solve.solve_facts`.\n\"\"\"\n\n"
            "#: Per preset and recompute policy, the memory questions (besides micro-batch) answered without sympy.\n"
            "COVERED = " + pprint.pformat(covered, width=110, sort_dicts=False) + "\n\n"
            "#: Per preset, the parameter count of ``solve layers``' family in L and of ``solve hidden-size``'s in (h, L)\n"
            "#: as ((exponents, numerator, denominator), ...), and the multiple of h that keeps every size whole\n"
            "#: (:func:`symcalc._fastgen_solve.model_facts`; None: the full path answers).\n"
            "#: ``memory``: the training memory's structure module, sizes, the sizes scaled with h and the TP multiple\n"
            "#: (:func:`symcalc._fastgen_solve_sizes.preset_memory`).\n"
            "MODELS = " + pprint.pformat(models, width=110, sort_dicts=False) + "\n\n"
            "#: Per flag-built structure, the parameter count in (L, h, 1/a, g, f, v), as MODELS writes it\n"
            "#: (:func:`symcalc._fastgen_solve.flag_model_facts`).\n"
            "FLAG_MODELS = " + pprint.pformat(flag_model_facts(), width=110, sort_dicts=False) + "\n\n"
            "#: Per flag-built structure, the memory facts of its generated mem_<policy> for solve layers/hidden-size\n"
            "#: (:func:`symcalc._fastgen_solve_sizes.flag_memory_facts`).\n"
            "FLAG_MEMORY = " + pprint.pformat(flag_memory_facts(), width=110, sort_dicts=False) + "\n")
