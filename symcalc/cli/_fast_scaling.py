"""``symcalc scaling`` without sympy: the closed forms from generated decimal code, printed as the full path prints.

The full path (:mod:`symcalc.cli.scaling`) builds each answer as an exact sympy expression and
prints the double nearest it (:func:`symcalc.scaling.result.nearest_float`). This module evaluates
the same closed forms from :mod:`symcalc._generated.scaling` (written by
:mod:`symcalc._fastgen_scaling` from the library's own functions, checked current by the tests) in
:mod:`decimal` arithmetic at 60 significant digits, rounds each value once to the nearest double,
and prints it with the same formatting (:mod:`symcalc._scalefmt`): the same bytes, text or
``--json``; ``tests/test_fast_scaling.py`` compares the two paths.

Covered: ``--compute`` (``-C``) or ``--loss``, with ``--fit`` (any fit, any alias),
``--flops-per-param-token``, ``--params``, ``--hardware`` (a catalogue name or alias as listed, with
``--mfu``, ``--dtype``), ``--inference-tokens`` (with ``--inference-flops-per-param-token``), ``--unique-tokens``
(:mod:`symcalc.cli._fast_scaling_data`), ``--json``;
and ``--list-fits`` (with ``--json``). Values are
plain decimals (``1e24``, ``5.76e23``, ``2.0``; counts also ``7B``, ``2T``), each flag once, within the
flags' range (1e-30 to 1e30). Everything else, and every case the full path answers with an error,
goes to the full path: ``--exact-flops``, ``--latex``, ``--plot``,
``--cookbook``, ``--help``, abbreviated flags, fractions such as ``3/2``. Only the standard library and
the generated module are imported.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

from . import _fast_args

__all__ = ["answer", "PRECISION"]

#: Significant digits of the decimal evaluation (each printed float is the nearest double to it).
PRECISION = 60
#: Flag spellings -> (key, kind): "number" (1e24, 2.0), "count" (also 7B, 2T), "name", "flag" (no value).
FLAGS = {
    "--compute": ("compute", "number"), "-C": ("compute", "number"), "--loss": ("loss", "number"),
    "--fit": ("fit", "name"), "--flops-per-param-token": ("k", "number"), "--params": ("params", "count"),
    "--inference-tokens": ("d_inf", "count"), "--inference-flops-per-param-token": ("k_inf", "number"),
    "--json": ("json", "flag"), "--list-fits": ("list_fits", "flag"),
    "--hardware": ("hardware", "name"), "--mfu": ("mfu", "name"), "--dtype": ("dtype", "name"),
    "--unique-tokens": ("unique", "count"),
}


def amount(text: str, count: bool) -> Fraction | None:
    """The exact value of ``1e24``, ``5.76e23``, ``2.0`` (and with ``count``, ``7B``, ``2T``) within the
    flags' range, as :func:`symcalc.inputs.parse_number`/``parse_count`` read it; None for any other text.

    >>> amount("5.76e23", False), amount("7B", True), amount("7B", False), amount("3/2", False)
    (Fraction(576000000000000000000000, 1), Fraction(7000000000, 1), None, None)
    """
    value = _fast_args.amount(text, suffix=count)
    return None if value is None else Fraction(value)


def _parse(words: list) -> dict | None:
    """``{key: value}`` of the flags (numbers exact, by :func:`amount`); None when not covered."""
    opts = _fast_args.parse(words, {word: (key, "flag" if kind == "flag" else "text") for word, (key, kind) in FLAGS.items()})
    if opts is None:
        return None
    for key, kind in set(FLAGS.values()):
        if kind in ("number", "count") and key in opts:
            opts[key] = amount(opts[key], kind == "count")
            if opts[key] is None:
                return None
    return opts


def _dec(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


class _Fallback(Exception):
    """The full path answers (an error, or a case left to it)."""


def _root(f, slope, lo: Decimal) -> Decimal:
    """The root above ``lo`` of an increasing ``f`` (f(lo) < 0 < f(∞)), to 1e-40 relative.

    Newton's steps from a point above the root (F is convex there: steps stay above it and fall
    monotonically), then a check that f changes sign within 1e-40 of the result; bisection in log
    space if the steps did not get there.
    """
    hi = 2 * lo
    for _ in range(4000):
        if f(hi) > 0:
            break
        hi *= 2
    else:
        raise _Fallback
    tol = Decimal(10) ** -40
    x = hi
    for _ in range(200):
        step = f(x) / slope(x)
        x -= step
        if abs(step) < x * tol / 100:
            break
    if lo < x and f(x * (1 - tol)) <= 0 <= f(x * (1 + tol)):
        return x
    a, b = lo.ln(), hi.ln()
    while b - a >= tol:
        m = (a + b) / 2
        a, b = (a, m) if f(m.exp()) > 0 else (m, b)
    return ((a + b) / 2).exp()


def _mfu(text: str) -> Fraction:
    """``--mfu 0.4`` or ``40%`` exactly as :func:`symcalc.cost.as_mfu` reads it, in (0, 1]."""
    value = _fast_args.share(text)
    if value is None or value > 1:
        raise _Fallback
    return value


def _hardware(opts: dict, compute: Decimal, out: list, data: dict | None) -> None:
    """``--hardware NAME`` (a catalogue name or alias as listed), ``--mfu``, ``--dtype``: GPU-hours of the compute."""
    from .._generated import catalog
    from .._generated.scaling import DEFAULTS, hardware_cost
    from .._scalefmt import hardware_line

    name = catalog.ALIASES.get(opts["hardware"])
    if name is None:
        raise _Fallback
    figures = next(hw["figures"] for hw in catalog.HARDWARE if hw["name"] == name)
    dtype = opts.get("dtype", DEFAULTS["dtype"])
    peak = figures.get(f"peak_flops/{dtype}")
    if peak is None:
        raise _Fallback
    mfu = _mfu(opts["mfu"]) if "mfu" in opts else Fraction(*DEFAULTS["mfu"])
    gpu_hours, days = hardware_cost(compute, Decimal(peak[0]), _dec(mfu))
    if data is not None:
        data.update(gpu_hours=float(gpu_hours), days_on_one_device=float(days), mfu=float(mfu), hardware=name)
    else:
        out.append(hardware_line(name, float(mfu), float(gpu_hours)))


def _answer(opts: dict, G, out: list, data: dict | None) -> str:
    """The optimum (and --params, --inference-tokens) into ``out`` (text lines) or ``data`` (--json); the fit's name."""
    from .._scalefmt import at_params_line, fmt_float, inference_rows, inference_title, optimum_rows, table

    if ("compute" in opts) == ("loss" in opts):
        raise _Fallback
    key = opts.get("fit", G.DATA_CONSTRAINED_FIT if "unique" in opts else G.DEFAULT_FIT).strip().lower()
    name = G.ALIASES.get(key, key)
    if name not in G.FITS:
        raise _Fallback
    fit = G.FITS[name]
    funcs, parametric = fit["functions"], fit["kind"] == "parametric"
    k = opts.get("k", Fraction(*fit["k"]))
    consts = funcs["constants"]() if parametric else ()
    if "loss" in opts:
        ell = _dec(opts["loss"])
        if parametric:
            if not ell - consts[0] > consts[0] * Decimal(10) ** -45:  # at or below E: the full path's error
                raise _Fallback
            c, n, d, loss = G.parametric_for_loss(ell, _dec(k), *consts)
        elif "for_loss" in funcs:
            c, n, d, loss = funcs["for_loss"](ell, _dec(k))
        else:
            raise _Fallback
        exact_c = None
    else:
        exact_c = opts["compute"]
        c = _dec(exact_c)
        optimum = G.parametric_optimum(c, _dec(k), *consts) if parametric else funcs["optimum"](c, _dec(k))
        n, d, loss = optimum
    opts["optimum"] = (exact_c, c, n, d, loss, k)
    scale = fit["scale"]
    c_f = float(exact_c) if exact_c is not None else float(c)
    n_f, d_f, ratio_f = float(n), float(d), float(d / n)
    loss_f = None if loss is None else float(loss)
    if data is not None:
        data.update(compute=c_f, params=n_f, tokens=d_f)
        if scale == "params":
            data["tokens_per_param"] = ratio_f
        data.update(loss=loss_f, flops_per_param_token=float(k))
        data.setdefault("tokens_per_param", ratio_f)
        if scale == "flops_per_token":
            data["flops_per_token"], data["params"] = data["params"], float(n / 6)  # M as 6N-equivalent parameters
        data["fit"] = {"name": name, "source": fit["source"]}
        data["exponents"] = {"params": fit["exponents"][0], "tokens": fit["exponents"][1]}
        if "loss" in opts:
            data["target_loss"] = float(opts["loss"])
    else:
        rows = optimum_rows(scale, n_f, d_f, ratio_f if scale == "params" else None, loss_f)
        out.append(table(f"{name} at C = {fmt_float(c_f, 'FLOP')}", [(label, fmt_float(v, u)) for _, label, v, u in rows]))
    if "params" in opts:
        if not parametric:
            raise _Fallback
        n_at = opts["params"]
        d_at = exact_c / (k * n_at) if exact_c is not None else c / (_dec(k) * _dec(n_at))
        (loss_at,) = G.parametric_loss(_dec(n_at), _dec(d_at) if exact_c is not None else d_at, *consts)
        at = (float(n_at), float(d_at), float(loss_at))
        if data is not None:
            data["at_params"] = {"params": at[0], "tokens": at[1], "loss": at[2]}
        else:
            out.append(at_params_line(*at))
    if "hardware" in opts:
        _hardware(opts, c, out, data)
    elif "mfu" in opts or "dtype" in opts:
        raise _Fallback  # unused without --hardware: the full path ignores them, left to it
    if "d_inf" in opts:
        if not parametric:
            raise _Fallback
        d_inf, k_inf = opts["d_inf"], opts.get("k_inf", Fraction(*G.DEFAULTS["inference_flops_per_param_token"]))
        if "loss" not in opts:
            ell = loss
        args = (_dec(k), _dec(k_inf), _dec(d_inf))
        (lowest,) = G.parametric_lowest_tokens(ell, *consts)
        d_opt = _root(lambda t: G.parametric_inference(t, ell, *args, *consts)[0],
                      lambda t: G.parametric_inference_slope(t, ell, *args, *consts)[0], lowest * (1 + Decimal(10) ** -40))
        (n_opt,) = G.parametric_params_of_tokens(d_opt, ell, *consts)
        training, inference = args[0] * n_opt * d_opt, args[1] * n_opt * args[2]
        reference_total = c + args[1] * n * args[2]
        values = [float(v) for v in (n_opt, d_opt, d_opt / n_opt, training, inference, training + inference, n,
                                     reference_total, 1 - (training + inference) / reference_total)]
        rows = inference_rows(*values)
        if data is not None:
            data["inference"] = {"loss": float(ell), "inference_tokens": float(d_inf),
                                 **{key: v for key, _, v, _ in rows}}
        else:
            out.append(table(inference_title(name, float(ell), float(d_inf)),
                             [(label, fmt_float(v, u)) for _, label, v, u in rows]))
    return name


def _text(opts: dict, G) -> str:
    import json as _json

    from .._scalefmt import CHINCHILLA_NOTE, heading, list_fits_text

    if opts.get("list_fits"):
        if set(opts) - {"list_fits", "json"}:
            raise _Fallback
        fits = [(name, f["title"], f["constants"], f["source"], f["example"]) for name, f in G.FITS.items()]
        if opts.get("json"):
            return _json.dumps({"fits": [{"name": n, "title": t, "kind": G.FITS[n]["kind"], "source": s, "constants": c}
                                         for n, t, c, s, _ in fits], "default": G.DEFAULT_FIT}, indent=2)
        return list_fits_text(fits)
    as_json = {} if opts.get("json") else None
    lines: list = []
    with localcontext() as ctx:
        ctx.prec = PRECISION
        name = _answer(opts, G, lines, as_json)
        if "unique" in opts:
            from ._fast_scaling_data import data_constrained

            data_constrained(opts, G, name, lines, as_json)
    if as_json is not None:
        return _json.dumps(as_json, indent=2)
    fit = G.FITS[name]
    head = [heading(fit["title"], fit["source"])] + ([CHINCHILLA_NOTE] if name == "chinchilla" else [])
    return "\n".join(head + lines)


def answer(argv: list) -> str | None:
    """The text ``symcalc scaling ...`` prints (``argv[0] == "scaling"``); None when the full path must answer."""
    opts = _parse(list(argv[1:]))
    if opts is None:
        return None
    from .._generated import scaling as G

    try:
        return _text(opts, G)
    except (_Fallback, ArithmeticError):
        return None
