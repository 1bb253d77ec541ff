"""The text of ``symcalc.scaling``'s results, free of sympy: shared by the library and the CLI's sympy-free path.

The library's results (:mod:`symcalc.scaling.result`) turn their exact values into floats (the
double nearest each exact value) and print them here; ``symcalc scaling``'s fast path
(:mod:`symcalc.cli._fast_scaling`) prints its decimal-arithmetic floats here too, so both print the
same bytes. Nothing here imports sympy, typing or json.

>>> fmt_float(41_296_702_419.4, "parameters"), fmt_float(1.9713, "nats/token"), fmt_float(1e24, "FLOP")
('4.13e10 parameters (41.3 B)', '1.97 nats/token', '1e24 FLOP')
>>> print(table("chinchilla at C = 1e24 FLOP", [("N_opt", "4.13e10"), ("D/N", "97.7")]))
chinchilla at C = 1e24 FLOP
  N_opt  ≈ 4.13e10
  D/N    ≈ 97.7
"""

from __future__ import annotations

_SUFFIXES = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))

#: What ``symcalc scaling`` prints under the heading when the fit is Chinchilla approach 3 as printed.
CHINCHILLA_NOTE = ("note: approach 3 as printed gives smaller models than approaches 1-2 (Hoffmann et al. §3.4; "
                   "Besiroglu et al. 2024); compare --fit chinchilla-1, chinchilla-3-tex, besiroglu")


def fmt_float(x, unit: str = "", digits: int = 3) -> str:
    """A float (or None: ``n/a``) as ``4.13e10 parameters (41.3 B)``: 3 significant digits, a
    1000-based suffix for counts (:func:`symcalc.scaling.result.fmt` of an exact value)."""
    if x is None:
        return "n/a"
    if abs(x) < 1e4 and x.is_integer():
        text = str(int(x))
    elif x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-3):
        mant, exp = f"{x:.{digits - 1}e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        text = f"{mant}e{int(exp)}"
    else:
        text = f"{x:.{digits}g}"
    suffix = ""
    if unit in ("parameters", "tokens") and abs(x) >= 1e3:
        for scale, letter in _SUFFIXES:
            if abs(x) >= scale:
                suffix = f" ({x / scale:.{digits}g} {letter})"
                break
    return f"{text} {unit}".rstrip() + suffix


def table(title: str, rows: list) -> str:
    """A result as printed: its title, then ``label ≈ text`` per row (labels aligned)."""
    width = max(len(label) for label, _ in rows)
    return "\n".join([title] + [f"  {label:<{width}}  ≈ {text}" for label, text in rows])


def optimum_rows(scale: str, n_params, tokens, tokens_per_param, loss) -> list:
    """The rows (key, label, value, unit) of a compute-optimal allocation; ``scale`` is the fit's
    (``"params"``, or ``"flops_per_token"`` for DeepSeek's M, which has no D/N row)."""
    n_label, n_unit = ("M_opt", "FLOP/token") if scale == "flops_per_token" else ("N_opt", "parameters")
    rows = [("params", n_label, n_params, n_unit), ("tokens", "D_opt", tokens, "tokens")]
    if scale == "params":
        rows.append(("tokens_per_param", "D/N", tokens_per_param, ""))
    rows.append(("loss", "loss", loss, "nats/token"))
    return rows


def inference_rows(n_params, tokens, tokens_per_param, training, inference, total, reference_params,
                   reference_total, savings) -> list:
    """The rows (key, label, value, unit) of the inference-aware optimum (Sardana et al. 2023)."""
    return [("params", "N", n_params, "parameters"), ("tokens", "D (training)", tokens, "tokens"),
            ("tokens_per_param", "D/N", tokens_per_param, ""),
            ("training_compute", "training compute", training, "FLOP"),
            ("inference_compute", "inference compute", inference, "FLOP"),
            ("total_compute", "lifetime compute", total, "FLOP"),
            ("chinchilla_params", "Chinchilla-optimal N", reference_params, "parameters"),
            ("chinchilla_total_compute", "its lifetime compute", reference_total, "FLOP"),
            ("savings", "saved", savings, "")]


def inference_title(fit_name: str, loss: float, inference_tokens: float) -> str:
    """The heading of the inference-aware optimum."""
    return (f"{fit_name}: least training + inference compute for loss {fmt_float(loss)} serving "
            f"{fmt_float(inference_tokens, 'tokens')}")


def at_params_line(n_params: float, tokens: float, loss: float) -> str:
    """``symcalc scaling --params N``'s line: the tokens and the loss of N parameters at the same compute."""
    return (f"  at N = {fmt_float(n_params, 'parameters')}: D = {fmt_float(tokens, 'tokens')}, "
            f"loss {fmt_float(loss, 'nats/token')}")


def hardware_line(hardware: str, mfu: float, gpu_hours: float) -> str:
    """``symcalc scaling --hardware``'s line: the GPU-hours of the compute on that device at the MFU."""
    return f"  on {hardware} at MFU {mfu:g}: {fmt_float(gpu_hours, 'GPU-hours')}"


def heading(title: str, source: str) -> str:
    """``symcalc scaling``'s first line: the fit's title and source."""
    return f"symcalc scaling ({title}; source: {source})"


def list_fits_text(fits: list) -> str:
    """``symcalc scaling --list-fits``: per fit (name, title, {constant: float}, source, example) four lines."""
    out = []
    for name, title, constants, source, example in fits:
        consts = ", ".join(f"{k} = {v:.6g}" for k, v in constants.items())
        out.append(f"{name:<17} {title}\n{'':<17} {consts}\n{'':<17} source: {source}\n{'':<17} "
                   f"paper's example: {example}")
    return "\n".join(out)
