"""``symcalc solve layers|hidden-size --memory-budget`` without sympy: the most layers or the largest hidden size whose
training memory per device fits, from generated code.

The full path (:func:`symcalc.solve.max_n_layers_in_memory`, :func:`~symcalc.solve.max_d_model_in_memory`) solves
the training memory of :func:`symcalc.solve.model_family`'s family for the unknown in closed form. Here the
preset's structure's ``sizes_<first preset>`` module (:mod:`symcalc._fastgen_solve_sizes`) gives that memory with
the model's sizes as arguments (the preset's, from ``MODELS[preset]["memory"]``: the unknown and the sizes its
family scales with h replaced), and what the search relies on was checked on the sympy expression when it was
generated (``FACTS``):

- layers: memory is A + B L at a fixed layout (degree <= 1 in L, no condition on L), so with L = k m (m: the
  least common multiple of ``--multiple-of`` and the PP degree, as the full path) two evaluations give A and B
  and the answer is the largest k with A + B k m <= budget, checked at k and k + 1.
- hidden-size: memory is a polynomial in (h, L) of a known total degree D (no condition on either), so along
  h = k m (L fixed, or h/r) it is a polynomial in k of degree <= D: D + 1 evaluations give its coefficients
  exactly. With no negative coefficient above degree 0 it increases for k > 0, memory = budget has at most one
  positive root, and the full path's closed form is the largest k with memory <= budget; m is the least common
  multiple of ``--multiple-of``, the multiple that keeps every size whole, the one that keeps the heads divisible
  by the TP degree (generated per TP degree) and the aspect ratio r.

Covered: ``--preset NAME`` (or ``--hf-config`` holding a preset's model, or the size flags: the structure's generated
``<variant>_mem_<policy>`` of :mod:`symcalc._generated.flags` with L, h and f = (f0/h0) h as arguments, its facts in
``FLAG_MEMORY`` of :mod:`symcalc._generated.solve`), ``--memory-budget`` (``80GiB``, ``80GB``,
``1e9``) or ``--hardware NAME``, the training flags of the sympy-free ``symcalc mem`` (``--num-gpus -tp -pp -ep -z
-b -s --recompute -ca`` and the precision flags), ``--multiple-of``, ``--aspect-ratio`` (hidden-size), ``--json``.
Anything else (``--fixed-head-dim``, ``--infer``, a memory that is not such a polynomial or not increasing) goes to
the full path. Imports neither sympy nor typing.
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


class _Memory:
    """One model's training memory per device with the unknown an argument: a preset's structure's ``memory_<policy>``
    (``sizes_<first preset>``) at the preset's sizes (``MODELS[preset]["memory"]``), or a flag-built structure's ``<variant>_mem_<policy>`` (:mod:`symcalc._generated.flags`) at its sizes, with
    the facts checked when they were generated and the multiple of h that keeps every size whole."""

    def __init__(self, m, info: dict, preset, sizes, policy: str, tp: int):
        import importlib
        from fractions import Fraction
        from math import lcm

        from .._generated.solve import FLAG_MEMORY, MODELS
        from ._fast import _Fallback

        self.policy = policy
        if preset is not None:
            entry = MODELS[preset]["memory"]
            if entry is None:
                raise _Fallback
            module = importlib.import_module(f"symcalc._generated.{entry['module']}")
            facts, function = module.FACTS, getattr(module, f"memory_{policy}")
            sizes, per_h = entry["sizes"], entry["per_h"]

            def hidden_at(h, L, *rest):
                values = [L, h, *sizes[2:]]
                for i, (n, d) in per_h.items():
                    if h * n % d:
                        return None  # a size that is not whole: the full path
                    values[i] = h * n // d
                return function(*values, *rest)

            self.layers_at = lambda L, *rest: function(L, *sizes[1:], *rest)
            self.hidden_at = hidden_at
            auto, tp_multiple = MODELS[preset]["multiple"], entry["tp_multiple"].get(tp)
            if auto is None or tp_multiple is None:
                self.multiple = None  # no parameter polynomial, or t above the KV heads: the full path
            else:
                self.multiple = lcm(auto, tp_multiple)
        else:
            from .._generated import flags

            facts = FLAG_MEMORY[m._variant]
            function = getattr(flags, f"{m._variant}_mem_{policy}")
            L0, h0, a, g, f0, v = sizes
            ratio = Fraction(f0, h0)  # the MLP keeps f/h

            def total(parts):
                return parts if parts is flags.SLOW else (sum(parts),)

            self.layers_at = lambda L, *rest: total(function(L, h0, a, g, f0, v, *rest))
            self.hidden_at = lambda h, L, *rest: total(function(L, h, a, g, int(ratio * h), v, *rest))
            # d_h = h/a and f whole; the TP multiple (heads a/t, d_h = h t/a) divides a; t must divide the KV heads
            self.multiple = lcm(a, ratio.denominator) if g % tp == 0 else None
        self.linear_in_layers = policy in facts["layers"]
        self.degree = facts["hidden"][policy]
        if self.degree is None and not self.linear_in_layers:
            raise _Fallback


def memory_answer(question: str, opts: dict) -> tuple:
    """``(budget, value, memory there)`` of ``solve layers|hidden-size`` with a memory budget per device; raises
    :class:`symcalc.cli._fast_solve_models.NothingFits` (the memory at the smallest allowed value) or falls back."""
    from math import lcm

    from .._generated import TODAY
    from ._fast import _Fallback, _policy, layout
    from ._fast_solve_models import NothingFits, _largest, _model
    from ._fast_time import _figure, _hardware
    from ._texts import MEM_CA_SAYS

    m, info, preset, sizes = _model(opts)
    if "budget" in opts or "fixed_head_dim" in opts:
        raise _Fallback  # --budget beside a memory budget (the full path's error)
    if "memory_budget" in opts:
        budget = budget_bytes(opts["memory_budget"])
    else:
        budget = _figure(_hardware(opts["hardware"]), "memory")
    if budget is None:
        raise _Fallback
    policy, _ = _policy(opts, "selective", MEM_CA_SAYS, TODAY["recompute"], TODAY)
    rec = TODAY["precision"]
    z = int(opts.get("z", TODAY["zero_stage"]))
    s, b = opts.get("s", TODAY["seq_len"]), opts.get("b", TODAY["micro_batch"])
    settings = (b, s, z, opts.get("lo", rec["low"]), opts.get("grad", rec["grad"]), opts.get("hi", rec["high"]))
    pp = opts.get("pp", 1)
    tp, pp, dp, ep, _ = layout({**info, "n_layers": pp} if question == "layers" else info, opts)
    if TODAY["sequence_parallel"] and s % tp:
        raise _Fallback
    memory = _Memory(m, info, preset, sizes, policy, tp)
    ratio = opts.get("aspect_ratio")
    if question == "layers":
        if not memory.linear_in_layers:
            raise _Fallback
        multiple = lcm(opts.get("multiple_of", 1), pp)
        at = lambda k: memory.layers_at(k * multiple, tp, pp, dp, ep, *settings)  # noqa: E731
        degree = 1
    else:
        degree = memory.degree
        if degree is None or memory.multiple is None:
            raise _Fallback
        multiple = lcm(opts.get("multiple_of", 1), memory.multiple, *([ratio] if ratio else []))
        depth = info["n_layers"]

        def at(k: int):
            h = k * multiple
            return memory.hidden_at(h, depth if ratio is None else h // ratio, tp, pp, dp, ep, *settings)

    values = []
    for k in range(1, degree + 2):
        value = at(k)
        if value is None:  # SLOW: an argument the integer code does not take
            raise _Fallback
        values.append(value[0])
    try:
        k, found = _largest(_coefficients(values), 1, budget, whole=False)
    except NothingFits:
        raise NothingFits(values[0], budget) from None
    last, after = at(k), at(k + 1)
    if last is None or after is None or last[0] != found or after[0] <= budget:
        raise _Fallback  # not the polynomial the facts promise: the full path
    return budget, k * multiple, found
