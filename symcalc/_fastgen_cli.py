"""The catalogue part of :mod:`symcalc._fastgen`: the data ``symcalc presets|hardware|time`` print, as plain Python.

:func:`generate_catalog` writes ``symcalc/_generated/catalog.py`` from the library itself: every
preset's row of ``symcalc presets`` (its exact parameter counts from :func:`symcalc.params`), every
hardware entry as ``Hardware.as_dict()`` with its summary, the accepted names, and the defaults
``symcalc time`` reads. The sympy-free path (:mod:`symcalc.cli._fast_catalog`,
:mod:`symcalc.cli._fast_time`) formats them with the same text functions as the full path.
Regenerate with ``python -m symcalc._fastgen --write``; ``tests/test_fast_cli.py`` checks it is current.
"""

from __future__ import annotations

import pprint

from ._fastgen import HEADER

__all__ = ["generate_catalog", "SOURCE_KEYS"]

#: The keys of a figure's source in ``Hardware.as_dict()``.
SOURCE_KEYS = ("source", "url", "date")


def _fmt(value) -> str:
    return pprint.pformat(value, width=110, sort_dicts=False)


def _fraction(value) -> tuple:
    """An exact sympy number as ``(numerator, denominator)`` ints."""
    from sympy import Rational

    value = Rational(value)
    return int(value.p), int(value.q)


def time_defaults() -> dict:
    """The defaults ``symcalc time`` reads (today's set), as plain data."""
    from . import defaults
    from .cost import MFU_RECOMPUTE

    d = defaults.TODAY
    return {"recompute": MFU_RECOMPUTE, "name": d.name, "label": d.label, "mfu": _fraction(d.mfu), "dtype": d.dtype, "pue": _fraction(d.pue),
            "flops_convention": d.flops_convention, "seq_len": int(d.seq_len), "causal": bool(d.causal)}


def linear_micro_batch() -> dict:
    """Per preset, the recompute policies under which training memory per device is A + B b in the micro-batch b.

    Checked on the expression ``symcalc solve micro-batch`` solves (:func:`symcalc.memory.training_memory`
    with the layout, the sequence length, the ZeRO stage and the bytes per value symbolic): it is of
    degree 1 in b, and no floor, ceiling, Max or Min has b inside, nor a Piecewise condition. With every
    other value a number, the solver's closed form (:func:`symcalc.solve.max_integer`) is then the largest
    b with A + B b <= budget, which the sympy-free path computes from two evaluations of the generated
    memory functions (:mod:`symcalc.cli._fast_solve`).
    """
    from sympy import Max, Min, Piecewise, ceiling, diff, floor

    from . import defaults
    from . import symbols as S
    from .memory import training_memory
    from .memory.states import precision_recipe
    from .model import Model
    from .presets import PRESETS

    b = S.micro_batch
    out = {}
    with defaults.using("today"):
        for name in PRESETS:
            model = Model.preset(name)
            ep = {"ep": S.ep} if model.is_moe else {}
            policies = []
            for policy in ("none", "selective", "full"):
                total = training_memory(model, micro_batch=b, seq_len=S.seq_len, tp=S.tp, pp=S.pp, n_devices=S.n_devices,
                                        zero_stage=S.zero_stage, recompute=policy, precision=precision_recipe(None),
                                        **ep).total
                inside = [a for a in total.atoms(floor, ceiling, Max, Min) if b in a.free_symbols]
                conditions = [c for pw in total.atoms(Piecewise) for _, c in pw.args if b in c.free_symbols]
                if not inside and not conditions and diff(total, b, 2) == 0:
                    policies.append(policy)
            out[name] = tuple(policies)
    return out


def serve_defaults() -> dict:
    """The defaults ``symcalc serve`` reads (today's set) and the bytes of each storage dtype, as plain data."""
    from . import defaults
    from .memory.states import WEIGHT_DTYPES, activation_bytes

    d = defaults.TODAY
    with defaults.using("today"):
        act = int(activation_bytes())
    return {"dtype": d.dtype, "weight_dtype": d.weight_dtype, "kv_cache_dtype": d.kv_cache_dtype, "activation_bytes": act,
            "seq_len": int(d.seq_len), "output_tokens": int(d.serve_output_tokens), "batch": int(d.micro_batch),
            "experts": d.experts_read, "causal": bool(d.prefill_causal),
            "efficiency": {k: _fraction(d[f"{k}_efficiency"]) for k in ("compute", "memory", "link")},
            "storage": {k: _fraction(v) for k, v in WEIGHT_DTYPES.items()}}


def generate_catalog() -> str:
    """The source of ``symcalc/_generated/catalog.py``."""
    from .cli.hardware import view
    from .cli.presets import rows
    from .hardware import aliases, catalogue

    views = [view(hw) for hw in catalogue()]
    sources: list = []  # each (title, url, date) once: the figures name theirs by index
    entries = []
    for entry, _, _ in views:
        figures = {}
        for key, fig in entry["figures"].items():
            source = {k: fig[k] for k in SOURCE_KEYS}
            if source not in sources:
                sources.append(source)
            assert list(fig) == ["value", *SOURCE_KEYS, "note", "uncertain"], list(fig)
            figures[key] = (fig["value"], sources.index(source), fig["note"], fig["uncertain"])
        entries.append({**entry, "figures": figures})
    return (HEADER.rstrip("\n").rstrip('"') + "\n\nThe data of ``symcalc presets`` and ``symcalc hardware`` "
            "(read by :mod:`symcalc.cli._fast_catalog`) and the\ndefaults ``symcalc time`` reads "
            "(:mod:`symcalc.cli._fast_time`).\n\"\"\"\n\n"
            "#: (name, family, total parameters, active parameters or None, description) per preset.\n"
            "PRESETS = " + _fmt(rows()) + "\n\n"
            "#: A figure's source (Hardware.as_dict()'s keys), named by index in HARDWARE.\n"
            "SOURCES = " + _fmt(sources) + "\n\n"
            "#: Hardware.as_dict() of every entry, in catalogue order, each figure as (value, source index, note, uncertain).\n"
            "HARDWARE = " + _fmt(entries) + "\n\n"
            "SUMMARIES = " + _fmt({v[0]["name"]: v[1] for v in views}) + "\n\n"
            "UNITS = " + _fmt(views[0][2]) + "\n\n"
            "#: Every accepted name (lower case, as the catalogue normalises it) -> the canonical name.\n"
            "ALIASES = " + _fmt(aliases()) + "\n\n"
            "TIME_DEFAULTS = " + _fmt(time_defaults()) + "\n\n"
            "#: Per preset, the recompute policies whose training memory is A + B b in the micro-batch b (linear_micro_batch).\n"
            "MICRO_BATCH_LINEAR = " + _fmt(linear_micro_batch()) + "\n\n"
            "SERVE_DEFAULTS = " + _fmt(serve_defaults()) + "\n")


#: ``symcalc latex`` quantities whose text the sympy-free path prints (each also with --breakdown and --preset NAME).
LATEX_QUANTITIES = ("params", "flops", "mem")


def latex_key(quantity: str, preset=None, breakdown: bool = False) -> str:
    """The key of one ``symcalc latex`` invocation in the generated table: ``"mem --preset gpt2 --breakdown"``."""
    return quantity + (f" --preset {preset}" if preset else "") + (" --breakdown" if breakdown else "")


def generate_latex() -> str:
    """The source of ``symcalc/_generated/latex.py``: what ``symcalc latex params|flops|mem`` prints (the full
    path run here, today's defaults), with no model flags and for every preset, with and without --breakdown."""
    import contextlib
    import io

    from . import defaults
    from .cli import main
    from .presets import PRESETS

    texts: list = []
    index = {}
    with defaults.using("today"):
        for quantity in LATEX_QUANTITIES:
            for preset in (None, *PRESETS):
                for breakdown in (False, True):
                    out = io.StringIO()
                    argv = ["latex", *latex_key(quantity, preset, breakdown).split()]
                    with contextlib.redirect_stdout(out):
                        assert main(argv) == 0, argv
                    text = out.getvalue()
                    assert text.endswith("\n")
                    if text[:-1] not in texts:
                        texts.append(text[:-1])
                    index[latex_key(quantity, preset, breakdown)] = texts.index(text[:-1])
    return (HEADER.rstrip("\n").rstrip('"') + "\n\nWhat ``symcalc latex params|flops|mem [--preset NAME] [--breakdown]`` "
            "prints (read by\n:mod:`symcalc.cli._fast_latex`): ``TEXTS[INDEX[key]]``, key as "
            ":func:`symcalc._fastgen_cli.latex_key` writes it.\n\"\"\"\n\n"
            "TEXTS = " + _fmt(texts) + "\n\n"
            "INDEX = " + _fmt(index) + "\n")
