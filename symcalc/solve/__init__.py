"""Inverse questions: the largest (or smallest) integer that fits a budget.

Because every quantity is an expression, "the largest x with f(x) ≤ budget" has a closed form
wherever sympy can solve f(x) = budget. The engine (:func:`max_integer`, :func:`min_integer`)

1. substitutes every other value, so the expression depends on ``x`` alone;
2. solves f(x) = budget exactly (``Poly.real_roots`` for polynomials and rational functions,
   ``sympy.solve`` otherwise) and finds the real poles of f. Between consecutive roots and poles
   f - budget keeps its sign, so the answer is among a few candidates: the lowest (highest)
   allowed value and the allowed values next to each root or pole (multiples, divisors, a list
   of choices). Each is evaluated exactly; no monotonicity is assumed (memory per device is not
   monotone in the PP degree at a fixed device count, for one), and the answer fits at x and not
   at the next allowed value;
3. only without a closed form (a ``ceiling`` or ``Piecewise`` in x) does it search: a finite set
   of up to 256 allowed values (ZeRO stages, divisors) is scanned whole; otherwise exponential
   bracketing, then bisection, assuming f is monotone, verified at the answer in the same way.

On a model left symbolic, :func:`closed_form` gives the boundary itself as an expression (the
micro-batch linear, the hidden size quadratic, one branch per ZeRO stage), without ``sympy.solve``.

The :class:`Solution` says which method answered. An unsatisfiable budget is an answer too
(``feasible=False``, with the shortfall to the best allowed value: the minimum over a finite
set of up to 256 values; else the lowest allowed value for a largest-x question, the highest
or the limit x → ∞ for a smallest-x one), not an exception.

Conventions: budgets and values are exact sympy numbers; byte budgets accept "80GiB", "80 GB",
"512MiB", "1e9" (:func:`parse_bytes`, a regex and ``fractions.Fraction``: never ``eval``);
GiB = 2^30 bytes, GB = 10^9 bytes.

>>> from symcalc.symbols import micro_batch as b
>>> from symcalc.solve import max_integer
>>> sol = max_integer(10 * b**2 + 3 * b + 7, b, 1000)
>>> sol.value, sol.method, sol.quantity
(9, 'closed-form', 844)
>>> max_integer(10 * b**2, b, 5).feasible
False
"""

from ._engine import Solution, divisors, max_integer, min_integer
from ._closed import closed_form
from ._models import max_d_model, max_n_layers, max_size, max_tokens, model_family
from ._memory import (
    max_d_model_in_memory, max_micro_batch, max_n_layers_in_memory, max_seq_len, min_devices, min_pp, min_tp,
    min_zero_stage,
)
from ._fixes import Change, single_changes
from ._serving import LayoutSolution, max_serving_batch, max_serving_context, min_serving_devices, serving_tp_degrees
from ._units import parse_bytes, parse_count, parse_number

__all__ = [
    "Solution", "max_integer", "min_integer", "closed_form", "parse_bytes", "parse_count", "parse_number",
    "model_family", "max_size", "max_d_model", "max_n_layers", "max_tokens",
    "max_micro_batch", "max_seq_len", "min_zero_stage", "min_tp", "min_pp", "min_devices",
    "max_d_model_in_memory", "max_n_layers_in_memory", "divisors",
    "max_serving_batch", "max_serving_context", "min_serving_devices", "serving_tp_degrees", "LayoutSolution",
    "single_changes", "Change",
]
