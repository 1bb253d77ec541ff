"""``symcalc solve layers|hidden-size --memory-budget`` without sympy: the most layers or the largest hidden size whose
training memory per device fits, from generated code.

The full path (:func:`symcalc.solve.max_n_layers_in_memory`, :func:`~symcalc.solve.max_d_model_in_memory`) solves
the training memory of :func:`symcalc.solve.model_family`'s family for the unknown in closed form. Here the
preset's ``solve_<preset>`` module (:mod:`symcalc._fastgen_solve_sizes`) gives that memory with the unknown as an
argument, and what the search relies on was checked on the sympy expression when it was generated (``FACTS``):

- layers: memory is A + B L at a fixed layout (degree <= 1 in L, no condition on L), so with L = k m (m: the
  least common multiple of ``--multiple-of`` and the PP degree, as the full path) two evaluations give A and B
  and the answer is the largest k with A + B k m <= budget, checked at k and k + 1.
- hidden-size: memory is a polynomial in (h, L) of a known total degree D (no condition on either), so along
  h = k m (L fixed, or h/r) it is a polynomial in k of degree <= D: D + 1 evaluations give its coefficients
  exactly. With no negative coefficient above degree 0 it increases for k > 0, memory = budget has at most one
  positive root, and the full path's closed form is the largest k with memory <= budget; m is the least common
  multiple of ``--multiple-of``, the multiple that keeps every size whole, the one that keeps the heads divisible
  by the TP degree (generated per TP degree) and the aspect ratio r.

Covered: ``--preset NAME`` (or ``--hf-config`` holding a preset's model), ``--memory-budget`` (``80GiB``, ``80GB``,
``1e9``) or ``--hardware NAME``, the training flags of the sympy-free ``symcalc mem`` (``--num-gpus -tp -pp -ep -z
-b -s --recompute -ca`` and the precision flags), ``--multiple-of``, ``--aspect-ratio`` (hidden-size), ``--json``.
Anything else (``--fixed-head-dim``, ``--infer``, a flag-built model, a memory that is not such a polynomial or
not increasing) goes to the full path. Imports neither sympy nor typing.
"""

from __future__ import annotations

from ._fast_args import budget_bytes

__all__ = ["memory_answer", "FLAGS"]

#: The flags of the memory questions besides the model's and the parameter questions' (symcalc mem's training ones).
FLAGS = {"--memory-budget": ("memory_budget", "name"), "--hardware": ("hardware", "name")}


def _coefficients(values: list) -> dict:
    """``{degree: coefficient}`` of the polynomial of degree < len(values) through (k, values[k - 1]), k = 1, 2, ...

    >>> _coefficients([3, 7, 13])     # k^2 + k + 1
    {0: Fraction(1, 1), 1: Fraction(1, 1), 2: Fraction(1, 1)}
    """
    from fractions import Fraction

    n = len(values)
    out = {d: Fraction(0) for d in range(n)}
    for i, y in enumerate(values):  # Lagrange: y_i * prod_{j != i} (k - x_j) / (x_i - x_j), x = 1..n
        basis, denominator = [Fraction(1)], 1
        for j in range(n):
            if j != i:
                basis = [Fraction(0)] + basis  # times k
                for d in range(len(basis) - 1):
                    basis[d] -= (j + 1) * basis[d + 1]
                denominator *= i - j
        for d, c in enumerate(basis):
            out[d] += y * c / denominator
    return out


def memory_answer(question: str, opts: dict) -> tuple:
    """``(budget, value, memory there)`` of ``solve layers|hidden-size`` with a memory budget per device; raises
    :class:`symcalc.cli._fast_solve_models.NothingFits` (the memory at the smallest allowed value) or falls back."""
    import importlib
    from math import lcm

    from .._generated import TODAY
    from .._generated.solve import MODELS
    from ._fast import _Fallback, _policy, layout
    from ._fast_solve_models import NothingFits, _largest, _model
    from ._fast_time import _figure, _hardware
    from ._texts import MEM_CA_SAYS

    m, info, preset, _ = _model(opts)
    if preset is None or "budget" in opts or "fixed_head_dim" in opts:
        raise _Fallback  # a flag-built model, or --budget beside a memory budget (the full path's error)
    if "memory_budget" in opts:
        budget = budget_bytes(opts["memory_budget"])
    else:
        budget = _figure(_hardware(opts["hardware"]), "memory")
    if budget is None:
        raise _Fallback
    sizes = importlib.import_module(f"symcalc._generated.solve_{m.__name__.rsplit('.', 1)[1][2:]}")
    policy, _ = _policy(opts, "selective", MEM_CA_SAYS, TODAY["recompute"], TODAY)
    rec = TODAY["precision"]
    z = int(opts.get("z", TODAY["zero_stage"]))
    s, b = opts.get("s", TODAY["seq_len"]), opts.get("b", TODAY["micro_batch"])
    settings = (b, s, z, opts.get("lo", rec["low"]), opts.get("grad", rec["grad"]), opts.get("hi", rec["high"]))
    pp = opts.get("pp", 1)
    tp, pp, dp, ep, _ = layout({**info, "n_layers": pp} if question == "layers" else info, opts)
    if TODAY["sequence_parallel"] and s % tp:
        raise _Fallback
    ratio = opts.get("aspect_ratio")
    if question == "layers":
        if policy not in sizes.FACTS["layers"]:
            raise _Fallback
        multiple = lcm(opts.get("multiple_of", 1), pp)
        at = lambda k: sizes.__dict__[f"layers_{policy}"](k * multiple, tp, pp, dp, ep, *settings)  # noqa: E731
        degree = 1
    else:
        degree, auto = sizes.FACTS["hidden"][policy], MODELS[preset]["multiple"]
        if degree is None or auto is None or tp not in sizes.FACTS["tp_multiple"]:
            raise _Fallback
        multiple = lcm(opts.get("multiple_of", 1), auto, sizes.FACTS["tp_multiple"][tp], *([ratio] if ratio else []))
        depth = info["n_layers"]

        def at(k: int):
            h = k * multiple
            return sizes.__dict__[f"hidden_{policy}"](h, depth if ratio is None else h // ratio, tp, pp, dp, ep,
                                                      *settings)

    values = []
    for k in range(1, degree + 2):
        value = at(k)
        if value is sizes.SLOW:
            raise _Fallback
        values.append(value[0])
    try:
        k, memory = _largest(_coefficients(values), 1, budget, whole=False)
    except NothingFits:
        raise NothingFits(values[0], budget) from None
    if at(k)[0] != memory or at(k + 1)[0] <= budget:
        raise _Fallback  # not the polynomial the facts promise: the full path
    return budget, k * multiple, memory
