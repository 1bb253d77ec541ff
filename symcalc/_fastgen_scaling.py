"""``symcalc/_generated/scaling.py``: ``symcalc scaling``'s closed forms as decimal arithmetic, from sympy.

``symcalc scaling`` answers without importing sympy (:mod:`symcalc.cli._fast_scaling`) from Python
source generated here, once, from the very expressions the full path evaluates: for every fit of
the catalogue this module runs the library's own functions with their inputs left symbolic
(``compute_optimal(C, fit, flops_per_param_token=κ)``, ``compute_for_loss(𝓛, fit, κ)``, the fit's
L(N, D), the derived inference condition of Sardana et al. with the fit's constants) and prints each
result as :mod:`decimal` code (``Decimal`` ``+ - * /``, ``**``, ``.exp()``, ``.ln()``), evaluated at
60 significant digits by the caller: each printed float is the double nearest the exact value, as
the full path's :func:`symcalc.scaling.result.nearest_float`. The fits' names, titles, sources,
aliases, default κ, frontier exponents and constants (``--list-fits``) are written as data.

:mod:`symcalc._fastgen` writes it with the other generated files (``python -m symcalc._fastgen --write``;
``tests/test_fast_cli.py`` and ``tests/test_fast_scaling.py`` check it is current).
"""

from __future__ import annotations

import pprint

from sympy import Add, Expr, Mul, Pow, Rational, Symbol, diff, exp, log

from . import symbols as S
from .errors import SymcalcError

__all__ = ["generate_scaling", "decimal_code", "float_code", "ARGS"]

#: The generated functions' arguments: symbol -> Python name.
ARGS = {S.compute: "compute", S.flops_per_param_token: "k", S.loss: "loss", S.n_params: "n_params",
        S.tokens: "tokens", S.inference_flops_per_param_token: "k_inf", S.inference_tokens: "d_inf"}


def _decimal_number(e) -> str:
    return f"_D({int(e)})" if e.is_Integer else f"(_D({e.p}) / _D({e.q}))"


#: How each printer writes a number, e^x, ln x and 1: decimal.Decimal values (``_D``) or floats (math's ``_exp``, ``_log``).
_DECIMAL = {"name": "decimal", "number": _decimal_number, "exp": "({}).exp()", "log": "({}).ln()", "one": "_D(1)"}
_FLOAT = {"name": "float", "number": lambda e: repr(float(e)), "exp": "_exp({})", "log": "_log({})", "one": "1.0"}


def _code(expr: Expr, names: dict, way: dict) -> str:
    """``expr`` as a Python expression, numbers and functions written ``way`` (:data:`_DECIMAL`, :data:`_FLOAT`)."""
    if isinstance(expr, Symbol):
        if expr not in names:
            raise ValueError(f"symbol {expr} is not an argument")
        return names[expr]
    if expr.is_Rational:
        return way["number"](expr)
    if isinstance(expr, (exp, log)):
        return way["exp" if isinstance(expr, exp) else "log"].format(_code(expr.args[0], names, way))
    if isinstance(expr, Pow):
        base, power = expr.args
        if power == -1:
            return f"({way['one']} / {_code(base, names, way)})"
        return f"({_code(base, names, way)} ** {_code(power, names, way)})"
    if isinstance(expr, (Add, Mul)):
        op = " + " if isinstance(expr, Add) else " * "
        return "(" + op.join(_code(a, names, way) for a in expr.args) + ")"
    raise ValueError(f"no {way['name']} code for {type(expr).__name__}: {expr}")


def decimal_code(expr: Expr, names: dict = ARGS) -> str:
    """``expr`` as a Python expression on :class:`decimal.Decimal` values (``_D`` is ``Decimal``).

    Exact numbers enter exactly (integers) or as one division (rationals) at the caller's precision.

    >>> from sympy import Rational, sqrt
    >>> decimal_code(S.compute ** Rational(14, 31) * sqrt(2) + 1)
    '(_D(1) + ((_D(2) ** (_D(1) / _D(2))) * (compute ** (_D(14) / _D(31)))))'
    """
    return _code(expr, names, _DECIMAL)


def float_code(expr: Expr, names: dict = ARGS) -> str:
    """``expr`` as a Python expression on floats (``_exp``, ``_log`` are :mod:`math`'s), for a quick first look
    whose every decision the caller makes only with a wide margin (the decimal code gives the values).

    >>> float_code(S.compute ** Rational(1, 2) * 3 + 1)
    '(1.0 + (3.0 * (compute ** 0.5)))'
    """
    return _code(expr, names, _FLOAT)


def _exact(value) -> tuple[int, int]:
    value = Rational(value)
    return int(value.p), int(value.q)


def _function(name: str, args: tuple, body: dict, doc: str, code=None) -> list[str]:
    """A generated function returning a tuple of decimal expressions (None where a value does not apply;
    ``code=float_code``: of floats)."""
    code = code or decimal_code
    lines = [f"def {name}({', '.join(ARGS[a] for a in args)}):", f"    {doc!r}"]
    parts = []
    for key, expr in body.items():
        if expr is None:
            parts.append("None")
            continue
        extra = {s for s in expr.free_symbols if s not in args}
        if extra:
            raise ValueError(f"{name}: {key} depends on {extra}, not an argument")
        parts.append(code(expr))
    lines.append("    return (" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")")
    return lines + ["", ""]


#: The parametric fits' constants as arguments: one set of functions serves every parametric fit.
CONSTANTS = (S.loss_irreducible, S.loss_coef_params, S.loss_coef_tokens, S.exp_params, S.exp_tokens)
ARGS.update({S.loss_irreducible: "E", S.loss_coef_params: "A", S.loss_coef_tokens: "B", S.exp_params: "alpha",
             S.exp_tokens: "beta", S.peak_flops: "peak", S.mfu: "mfu"})


def _hardware_code() -> tuple[dict, list[str]]:
    """``--hardware``: GPU-hours and days of C FLOPs on one device from :class:`symcalc.cost.TrainingCost`'s own
    properties (C, the peak and the MFU symbolic), and today's MFU, dtype and inference FLOPs per parameter-token
    (``symcalc.defaults``)."""
    from .cost import TrainingCost
    from .defaults import resolve, using

    cost = TrainingCost(flops=S.compute, n_devices=1, rate=S.peak_flops * S.mfu, peak_flops=S.peak_flops, mfu=S.mfu,
                        power=S.device_power, info={})
    lines = _function("hardware_cost", (S.compute, S.peak_flops, S.mfu),
                      {"gpu_hours": cost.gpu_hours, "days": cost.days},
                      "compute_cost(compute, hardware, mfu=mfu): (GPU-hours, days on one device)")
    with using("today"):
        return {"mfu": _exact(resolve("mfu")), "dtype": resolve("dtype"),
                "inference_flops_per_param_token": _exact(resolve("inference_flops_per_param_token"))}, lines


def _parametric_code() -> list[str]:
    """The functions of every parametric fit, its constants E, A, B, α, β as arguments (a fit with
    symbols for constants through the library's own functions: the closed forms stay small)."""
    from .scaling import ParametricFit, compute_for_loss, compute_optimal
    from .scaling.derive import inference_condition

    C, k, L, N, D = S.compute, S.flops_per_param_token, S.loss, S.n_params, S.tokens
    E, A, B, alpha, beta = CONSTANTS
    fit = ParametricFit(name="parametric", E=E, A=A, B=B, alpha=alpha, beta=beta)
    opt = compute_optimal(C, fit, flops_per_param_token=k)
    inv = compute_for_loss(L, fit, flops_per_param_token=k)
    cond = inference_condition()
    lowest = (B / (L - E)) ** (1 / beta)  # D where A/N^α -> 0 (N unbounded): F < 0 there, the root lies above
    return (_function("parametric_optimum", (C, k, *CONSTANTS), {"n": opt.n_params, "d": opt.tokens, "loss": opt.loss},
                      "compute_optimal(compute, fit, flops_per_param_token=k): (N_opt, D_opt, loss)")
            + _function("parametric_for_loss", (L, k, *CONSTANTS),
                        {"c": inv.compute, "n": inv.n_params, "d": inv.tokens, "loss": inv.loss},
                        "compute_for_loss(loss, fit, flops_per_param_token=k): (C, N_opt, D_opt, loss)")
            + _function("parametric_loss", (N, D, *CONSTANTS), {"loss": fit.loss(N, D)}, "the fit's L(N, D)")
            + _function("parametric_inference", (D, L, k, S.inference_flops_per_param_token, S.inference_tokens,
                                                 *CONSTANTS), {"F": cond["F"]},
                        "F(D) of symcalc.scaling.derive.inference_condition: its root is the inference-aware D")
            + _function("parametric_inference_slope", (D, L, k, S.inference_flops_per_param_token, S.inference_tokens,
                                                       *CONSTANTS), {"dF": diff(cond["F"], D)},
                        "dF/dD: Newton's steps towards the root")
            + _function("parametric_params_of_tokens", (D, L, *CONSTANTS), {"n": cond["params_of_tokens"]},
                        "N(D) on the loss (inference_condition's params_of_tokens)")
            + _function("parametric_lowest_tokens", (L, *CONSTANTS), {"d": lowest},
                        "D where N(D) diverges: the inference-aware root lies above it"))


#: U_N of the data-constrained regimes (the compute-optimal parameters for the unique tokens), an argument.
UNIQUE_PARAMS = Symbol("U_N", positive=True)
ARGS.update({S.unique_tokens: "unique", UNIQUE_PARAMS: "un"})


def _data_constrained_code(fit, ident: str) -> tuple[dict, list[str]]:
    """``--unique-tokens`` (Muennighoff et al.): per regime of :func:`symcalc.scaling.data.regime_losses` the loss
    along C = κND, its slope and curvature in N; U_N of the unique tokens; the effective D' and N' past U and U_N
    (the repeated branches of ``effective_tokens``/``effective_params``). κ is an argument."""
    from .scaling.data import effective_params, effective_tokens, params_for_tokens, regime_losses

    C, k, N, D, U = S.compute, S.flops_per_param_token, S.n_params, S.tokens, S.unique_tokens
    funcs, lines, regimes = {}, [], []
    for i, (regime, loss) in enumerate(regime_losses(fit, k, N, C, U, UNIQUE_PARAMS).items()):
        regimes.append(regime)
        slope = diff(loss, N)
        args, what = (N, C, U, UNIQUE_PARAMS, k), f"regime {regime} (repeated data?, excess parameters?) on C = k N D"
        lines += _function(f"{ident}_dc_{i}_loss", args, {"loss": loss}, f"L of {what}")
        lines += _function(f"{ident}_dc_{i}_slope", args, {"slope": slope}, f"dL/dN of {what}")
        lines += _function(f"{ident}_dc_{i}_curvature", args, {"curvature": diff(slope, N)}, f"d2L/dN2 of {what}")
        lines += _function(f"{ident}_dc_{i}_float", args, {"loss": loss, "slope": slope}, f"L, dL/dN of {what} in floats",
                           float_code)
        funcs.update({f"dc_{i}_{part}": f"{ident}_dc_{i}_{part}" for part in ("loss", "slope", "curvature", "float")})
    (_, _), (repeated, _) = effective_tokens(D, U, fit).args
    (_, _), (excess, _) = effective_params(N, U, fit).args
    lines += _function(f"{ident}_dc_unique_params", (U,), {"un": params_for_tokens(U, fit)},
                       "params_for_tokens(unique, fit): U_N, the compute-optimal parameters for U tokens")
    lines += _function(f"{ident}_dc_effective", (N, D, U), {"tokens": repeated, "params": excess},
                       "effective_tokens past U (D > U) and effective_params past U_N (N > U_N)")
    funcs.update(dc_unique_params=f"{ident}_dc_unique_params", dc_effective=f"{ident}_dc_effective")
    return {"dc_regimes": regimes}, funcs, lines


def _fit_code(fit) -> tuple[dict, list[str]]:
    """The data of one fit and its functions (an allocation law's, or its constants for the parametric ones)."""
    from .scaling import compute_for_loss, compute_optimal, frontier_exponents
    from .scaling.fits import ParametricFit
    from .scaling.optimum import _k
    from .scaling.result import nearest_float

    C, k, L = S.compute, S.flops_per_param_token, S.loss
    ident = fit.name.replace("-", "_")
    a, b = frontier_exponents(fit)
    data = {"title": fit.title, "source": fit.source, "example": fit.example, "kind": fit.kind,
            "scale": getattr(fit, "scale", "params"), "k": _exact(_k(fit, None)),
            "exponents": (nearest_float(a), nearest_float(b)),
            "constants": {key: nearest_float(v) for key, v in fit.constants().items()}}
    if isinstance(fit, ParametricFit):
        values = fit.values()
        lines = _function(f"{ident}_constants", (), {str(c): values[c] for c in CONSTANTS},
                          f"E, A, B, alpha, beta of {fit.name}")
        funcs = {"constants": f"{ident}_constants"}
        if fit.repeat_tokens is not None:
            extra, dc_funcs, dc_lines = _data_constrained_code(fit, ident)
            data.update(extra)
            funcs.update(dc_funcs)
            lines += dc_lines
        return {**data, "functions": funcs}, lines
    opt = compute_optimal(C, fit, flops_per_param_token=k)
    lines = _function(f"{ident}_optimum", (C, k), {"n": opt.n_params, "d": opt.tokens, "loss": opt.loss},
                      f"compute_optimal(compute, {fit.name!r}, flops_per_param_token=k): (N_opt, D_opt, loss)")
    funcs = {"optimum": f"{ident}_optimum"}
    try:
        inv = compute_for_loss(L, fit, flops_per_param_token=k)
    except SymcalcError:  # an allocation law without a loss: the full path's error
        return {**data, "functions": funcs}, lines
    lines += _function(f"{ident}_for_loss", (L, k), {"c": inv.compute, "n": inv.n_params, "d": inv.tokens,
                                                      "loss": inv.loss},
                       f"compute_for_loss(loss, {fit.name!r}, flops_per_param_token=k): (C, N_opt, D_opt, loss)")
    return {**data, "functions": {**funcs, "for_loss": f"{ident}_for_loss"}}, lines


def generate_scaling() -> str:
    """The text of ``symcalc/_generated/scaling.py``."""
    from .scaling.fits import ALIASES, DEFAULT_FIT, FITS

    head = ['"""Generated by ``python -m symcalc._fastgen --write`` from symcalc.scaling\'s expressions; do not edit.',
            "",
            "``symcalc scaling``'s sympy-free path (:mod:`symcalc.cli._fast_scaling`): per fit its data (``FITS``) and",
            "its closed forms as decimal code, evaluated by the caller at 60 significant digits.",
            '"""',
            "# flake8: noqa",
            "from decimal import Decimal as _D",
            "from math import exp as _exp, log as _log",
            "", ""]
    body: list[str] = _parametric_code()
    fits = {}
    for fit in FITS.values():
        data, lines = _fit_code(fit)
        fits[fit.name] = data
        body += lines
    table = {name: {**data, "functions": "@@" + name} for name, data in fits.items()}
    text = pprint.pformat(table, width=120, sort_dicts=False)
    for name, data in fits.items():  # the function names as the functions themselves
        names = data["functions"]
        text = text.replace(repr("@@" + name), "{" + ", ".join(f"{k!r}: {v}" for k, v in names.items()) + "}")
    defaults, hardware_lines = _hardware_code()
    body += hardware_lines
    from .scaling.data import _MUENNIGHOFF

    tail = [f"DEFAULT_FIT = {DEFAULT_FIT!r}", "#: the fit of --unique-tokens without --fit",
            f"DATA_CONSTRAINED_FIT = {_MUENNIGHOFF!r}", f"ALIASES = {ALIASES!r}",
            "#: today's defaults of the flags: --hardware's MFU and --inference-flops-per-param-token as "
            "(numerator, denominator), --dtype",
            f"DEFAULTS = {defaults!r}", "", "#: name -> the fit's data and functions",
            f"FITS = {text}", ""]
    return "\n".join(head + body + tail)
