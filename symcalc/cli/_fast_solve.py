"""``symcalc solve`` (the training-memory questions) without sympy: exact integer answers from the generated memory functions.

Every question evaluates the preset's generated training-memory function (:mod:`symcalc._generated`, exact ints
or Fractions) and gives the full path's answer (:mod:`symcalc.cli.solve`, :mod:`symcalc.solve`):

- ``micro-batch``: memory per device is A + B b in the micro-batch b for every preset and policy (checked on the
  sympy expression when the code is generated: ``MICRO_BATCH_LINEAR`` of :mod:`symcalc._generated.catalog`); the
  solver's closed form is the largest b >= 1 with A + B b <= budget, from two evaluations (b = 1, 2).
- ``tp``, ``pp``, ``zero-stage``: the allowed values (divisors of gcd(heads, KV heads) or of the layers, and of
  n/(the other degrees) with ``--num-gpus``; stages 0-3) are few, so each is evaluated and the smallest that
  fits is the answer. Where the unknown enters the expression only through rational functions (checked when
  the code is generated: :data:`symcalc._generated.solve.COVERED`), the full path's engine answers in closed
  form, and its closed form is exactly the smallest allowed value that fits.
- ``devices``: n a multiple of tp*pp*ep (and of ``--multiple-of``), d = n/(tp*pp); from d = 2 on the memory is
  alpha + beta/d (checked when generated), so the fewest devices are the first count with d >= beta/(budget - alpha),
  found exactly and checked at that count and the one before.
- ``seq-len``: memory is a polynomial of degree <= 2 in s (checked when generated); three evaluations give its
  coefficients exactly, and where it increases for s >= 1 the longest allowed s (a multiple of ``--multiple-of``
  and, under sequence parallelism, of tp) is found by exact bracketing and bisection.

Covered: ``--preset NAME`` (or ``--hf-config`` holding a preset's model), the layout and training flags of the
sympy-free ``symcalc mem`` (``--num-gpus -tp -pp -ep -z -b -s --recompute -ca`` and the precision flags; the
unknown's own flag goes to the full path), ``--budget`` (bytes: ``80GiB``, ``80GB``, ``1e9``) or ``--hardware
NAME``, ``--multiple-of`` (seq-len, devices), ``--max-devices`` (devices), ``--json``. Where nothing fits,
:mod:`symcalc.cli._fast_solve_fixes` prints the shortfall and the single changes that would fit (exit 1).
``--infer`` and every other flag go to the full path.
"""

from __future__ import annotations

from ._fast_args import budget_bytes, parse, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["answer"]

#: The question -> the key of the flag it solves for (given, it goes to the full path) and its text answer.
QUESTIONS = {"micro-batch": ("b", "largest micro-batch"), "seq-len": ("s", "longest sequence"),
             "tp": ("tp", "smallest TP degree"), "pp": ("pp", "smallest PP degree"),
             "zero-stage": ("z", "smallest ZeRO stage"), "devices": ("n", "fewest devices")}
#: Flags of one question only.
_EXTRA = {"seq-len": {"--multiple-of": ("multiple_of", "int")},
          "devices": {"--multiple-of": ("multiple_of", "int"), "--max-devices": ("max_devices", "int")}}


def _flags(question: str) -> dict:
    """The flags of ``question``: ``symcalc mem``'s covered training flags less the unknown's, a budget, --json."""
    from ._fast import _COMMON, _FLAGS

    unknown = QUESTIONS[question][0]
    flags = {k: v for k, v in _FLAGS["mem"].items() if v[0] not in (unknown, "infer", "o")}
    flags.update(_COMMON, **_EXTRA.get(question, {}),
                 **{"--budget": ("budget", "name"), "--hardware": ("hardware", "name")})
    return table(flags)


class _Problem:
    """One question's fixed values: the generated module, the layout flags, the budget, the memory at a layout."""

    def __init__(self, question: str, opts: dict):
        from .._generated import MODULES, TODAY
        from ._fast import _Fallback, _policy
        from ._fast_time import _figure, _hardware, model_module
        from ._texts import MEM_CA_SAYS

        self.m, _ = model_module(opts)
        self.preset = next(p for p, module in MODULES.items() if module == self.m.__name__.rsplit(".", 1)[1])
        self.info, self.opts, self.today = self.m.INFO, opts, TODAY
        if "z" in opts:
            opts["z"] = int(opts["z"])
        self.policy, _ = _policy(opts, "selective", MEM_CA_SAYS, TODAY["recompute"], TODAY)
        if question != "micro-batch":
            from .._generated.solve import COVERED

            if question not in COVERED[self.preset][self.policy]:
                raise _Fallback
        self.s, self.z, self.b = (opts.get("s", TODAY["seq_len"]), opts.get("z", TODAY["zero_stage"]),
                                  opts.get("b", TODAY["micro_batch"]))
        hw = _hardware(opts["hardware"]) if "hardware" in opts else None  # an unknown name: the full path's error
        if "budget" in opts:
            budget = budget_bytes(opts["budget"])
        else:
            budget = _figure(hw, "memory") if hw is not None else None
        if budget is None:
            raise _Fallback
        self.budget = budget
        rec = TODAY["precision"]
        self.bytes_per = (opts.get("lo", rec["low"]), opts.get("grad", rec["grad"]), opts.get("hi", rec["high"]))
        self.memory = getattr(self.m, f"mem_{self.policy}")

    def check(self, tp: int, pp: int, dp: int, ep: int, s: int) -> None:
        """Fall back on a layout the model refuses (as :func:`symcalc.cli._fast.layout`) or s not split over tp."""
        from ._fast import _Fallback, layout

        layout(self.info, {"tp": tp, "pp": pp, "ep": ep, "n": tp * pp * dp})
        if self.today["sequence_parallel"] and s % tp:
            raise _Fallback

    def total(self, tp: int, pp: int, dp: int, ep: int, *, b=None, s=None, z=None, policy=None):
        """Training memory per device (exact int or Fraction) at this layout; the problem's values by default."""
        from ._fast import _Fallback

        memory = self.memory if policy is None else getattr(self.m, f"mem_{policy}")
        parts = memory(tp, pp, dp, ep, self.b if b is None else b, self.s if s is None else s,
                       self.z if z is None else z, *self.bytes_per)
        if parts is self.m.SLOW:
            raise _Fallback
        return sum(parts)


class NothingFits(Exception):
    """Provably no allowed value fits: the value the full path reports as tried, and the memory it reports."""

    def __init__(self, tried: dict, quantity):
        super().__init__(tried, quantity)
        self.tried, self.quantity = tried, quantity


def _divisors(n: int) -> list:
    return [d for d in range(1, n + 1) if n % d == 0]


def _micro_batch(pr: _Problem) -> tuple:
    from .._generated.catalog import MICRO_BATCH_LINEAR
    from ._fast import _Fallback, layout

    tp, pp, dp, ep, _ = layout(pr.info, pr.opts)
    pr.check(tp, pp, dp, ep, pr.s)
    if pr.policy not in MICRO_BATCH_LINEAR[pr.preset]:
        raise _Fallback
    one, two = pr.total(tp, pp, dp, ep, b=1), pr.total(tp, pp, dp, ep, b=2)
    slope = two - one
    if slope <= 0:
        raise _Fallback  # the full path's error (every b fits)
    if one > pr.budget:
        raise NothingFits({"micro_batch": 1}, one)
    b = int((pr.budget - (one - slope)) // slope)
    return b, pr.total(tp, pp, dp, ep, b=b)


def _zero_stage(pr: _Problem) -> tuple:
    from ._fast import layout

    tp, pp, dp, ep, _ = layout(pr.info, pr.opts)
    pr.check(tp, pp, dp, ep, pr.s)
    return _smallest([(z, pr.total(tp, pp, dp, ep, z=z)) for z in range(4)], pr.budget, "zero_stage")


def _degree(pr: _Problem, unknown: str) -> tuple:
    """The smallest TP (or PP) degree that fits: divisors of gcd(heads, KV heads) (or of the layers) and of n/rest."""
    from math import gcd

    from ._fast import _Fallback

    opts, info = pr.opts, pr.info
    tp, pp, ep, n = opts.get("tp", 1), opts.get("pp", 1), opts.get("ep", 1), opts.get("n")
    if unknown == "tp":
        bound, rest = gcd(info["n_heads"], info["n_kv_heads"]), pp * ep
    else:
        bound, rest = info["n_layers"], tp * ep
    if n is not None:
        if n % rest:
            raise _Fallback  # the full path's error
        bound = gcd(bound, n // rest)
    rows = []
    for v in _divisors(bound):
        t, p = (v, pp) if unknown == "tp" else (tp, v)
        dp = 1 if n is None else n // (t * p)
        pr.check(t, p, dp, ep, pr.s)
        rows.append((v, pr.total(t, p, dp, ep)))
    return _smallest(rows, pr.budget, unknown)


def _smallest(rows: list, budget, key: str) -> tuple:
    """The first ``(value, memory)`` whose memory fits. Nothing fitting: the highest value was tried, and the
    least memory of any (the first where several tie) is reported, as the full path's engine does."""
    found = next((row for row in rows if row[1] <= budget), None)
    if found is None:
        raise NothingFits({key: rows[-1][0]}, min((row[1] for row in rows)))
    return found


def _devices(pr: _Problem) -> tuple:
    """The fewest devices: n = k*step; k = 1 checked, then memory alpha + beta/d for d >= 2 solved exactly."""
    from math import gcd

    from ._fast import _Fallback

    opts = pr.opts
    tp, pp, ep = opts.get("tp", 1), opts.get("pp", 1), opts.get("ep", 1)
    mp, multiple = tp * pp, opts.get("multiple_of", 1)
    step = mp * ep * multiple // gcd(mp * ep, multiple)
    k_hi = None if "max_devices" not in opts else opts["max_devices"] // step
    if k_hi is not None and k_hi < 1:
        raise _Fallback  # the full path's error
    tried = {"n_devices": step}
    pr.check(tp, pp, step // mp, ep, pr.s)

    def fits(k: int):
        at = pr.total(tp, pp, k * step // mp, ep)
        return at if at <= pr.budget else None

    first = fits(1)
    if first is not None:
        return step, first
    from fractions import Fraction

    two, four = pr.total(tp, pp, 2, ep), pr.total(tp, pp, 4, ep)
    beta = 4 * (two - four)
    alpha = two - Fraction(beta, 2)

    def nothing() -> NothingFits:
        """min_devices' report: the memory at the bound (without one, the limit n -> oo: alpha), or at the first
        count where that is less."""
        at = alpha if k_hi is None else pr.total(tp, pp, k_hi * step // mp, ep)
        one = pr.total(tp, pp, step // mp, ep)
        return NothingFits(tried, one if one < at else at)

    if (beta > 0 and alpha >= pr.budget) or (beta == 0 and alpha > pr.budget):
        raise nothing()  # alpha + beta/d > budget for every d >= 2
    if beta <= 0 or alpha >= pr.budget:
        raise _Fallback
    d_min = Fraction(beta) / (pr.budget - alpha)  # exactly: d >= d_min fits
    k = max(2, int(-(-d_min * mp // step)))
    if k_hi is not None and k > k_hi:
        raise nothing()
    if fits(k) is None or fits(k - 1) is not None:
        raise _Fallback
    pr.check(tp, pp, k * step // mp, ep, pr.s)
    return k * step, fits(k)


def _seq_len(pr: _Problem) -> tuple:
    """The longest s (a multiple of --multiple-of, and of tp under sequence parallelism) whose memory fits."""
    from math import gcd

    from ._fast import _Fallback, layout

    tp, pp, dp, ep, _ = layout(pr.info, pr.opts)
    multiple = pr.opts.get("multiple_of", 1)
    if pr.today["sequence_parallel"] and tp > 1:
        multiple = multiple * tp // gcd(multiple, tp)
    from fractions import Fraction

    p1, p2, p3 = (pr.total(tp, pp, dp, ep, s=s) for s in (1, 2, 3))
    a = Fraction(p3 - 2 * p2 + p1) / 2  # exact coefficients of a s^2 + b s + c
    b = p2 - p1 - 3 * a
    c = p1 - a - b

    def poly(s: int):
        return (a * s + b) * s + c

    if a < 0 or 2 * a + b < 0 or (a == 0 and b <= 0):
        raise _Fallback  # not increasing: the full path's own answer or error
    if poly(multiple) > pr.budget:
        raise NothingFits({"seq_len": pr.opts.get("multiple_of", 1)}, pr.total(tp, pp, dp, ep, s=multiple))
    good, bad = 1, 2
    while poly(bad * multiple) <= pr.budget:
        good, bad = bad, bad * 2
    while bad - good > 1:
        mid = (good + bad) // 2
        if poly(mid * multiple) <= pr.budget:
            good = mid
        else:
            bad = mid
    s = good * multiple
    at = pr.total(tp, pp, dp, ep, s=s)
    if at != poly(s) or pr.total(tp, pp, dp, ep, s=s + multiple) != poly(s + multiple):
        raise _Fallback
    pr.check(tp, pp, dp, ep, s)
    return s, at


_SOLVERS = {"micro-batch": _micro_batch, "zero-stage": _zero_stage, "tp": lambda pr: _degree(pr, "tp"),
            "pp": lambda pr: _degree(pr, "pp"), "devices": _devices, "seq-len": _seq_len}


def answer(argv: Sequence[str]) -> Optional[str]:
    """The text ``symcalc solve QUESTION ...`` prints for a training-memory question, or None (the full path)."""
    from ._fast import _Fallback
    from ._fast_time import _exact, _json_number
    from ._solve_text import answer_line

    question = argv[1] if len(argv) > 1 else None
    if question not in QUESTIONS:
        from . import _fast_solve_models

        return _fast_solve_models.answer(argv) if question in _fast_solve_models.QUESTIONS else None
    opts = parse(argv[2:], _flags(question))
    if opts is None:
        return None
    try:
        pr = _Problem(question, opts)
        value, at = _SOLVERS[question](pr)
        at = _exact(at)
    except NothingFits as nothing:
        from ._fast_solve_fixes import nothing_fits

        return nothing_fits(pr, question, nothing)
    except _Fallback:
        return None
    budget = pr.budget
    out = {question.replace("-", "_"): value, "feasible": True, "method": "closed-form",
           "quantity_at_answer": _json_number(at), "budget": _json_number(budget),
           "headroom": _json_number(budget - at), "unit": "bytes"}
    if opts.get("json"):
        import json

        return json.dumps(out, indent=2)
    return answer_line(QUESTIONS[question][1], value, out)
