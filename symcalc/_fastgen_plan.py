"""The planner part of :mod:`symcalc._fastgen`: the code the sympy-free ``symcalc plan`` path evaluates.

``symcalc plan --preset NAME`` (:mod:`symcalc.cli._fast_plan`) ranks layouts without importing sympy.
For every preset this module builds the planner's own cost model (:func:`symcalc._plancost.build_pieces`,
as :func:`symcalc.plan.plan` builds it with today's defaults) with the layout's degrees (t, p, d, e,
b, v, L_s) *and* the settings left symbolic: the sequence length, the global batch, the efficiency
model's half size, and as numerator/denominator pairs the peak FLOP/s, the TP, DP (= PP) and EP
bandwidths and the kernel efficiency. Every piece (each depending on the ZeRO stage or on the
recompute policy only; :mod:`symcalc._plancombine` puts them together) is written as integer
code (:func:`symcalc._intcode.int_function`, each piece a raw numerator/denominator pair), with the
compute pieces again at one fixed MFU (``--mfu``; the planner built with ``mfu`` instead of the
efficiency model, the MFU given in the kernel efficiency's pair) and the
model FLOPs of a step (each row's MFU) as a function of (s, B): ``symcalc/_generated/plan_<preset>.py``,
with ``plan.py`` indexing them and holding the defaults the path reads. Regenerate with
``python -m symcalc._fastgen --write``; ``tests/test_fast_cli.py`` checks the files are current.
"""

from __future__ import annotations

import pprint
from dataclasses import asdict

from sympy import Symbol

from . import symbols as S
from ._fastgen import HEADER, PRELUDE, module_name
from ._intcode import int_function
from ._plancost import ARGS, build_pieces

__all__ = ["SETTINGS", "PAIRS", "generate", "generate_index", "files", "file_names", "plan_module"]
#: The ZeRO stages and recompute policies every module covers (a plan uses those its framework and flags allow).
STAGES = (0, 1, 2, 3)
POLICIES = ("none", "selective", "full")
HALF = Symbol("gemm_half_size", integer=True, positive=True)
#: Settings given as whole numbers: the sequence length, the global batch, the efficiency model's half size.
SETTINGS = (S.seq_len, S.global_batch, HALF)
#: Settings given as numerator/denominator pairs (positive ints): the peak, the TP, DP (also PP) and EP
#: bandwidths, the kernel efficiency.
PAIRS = ("peak_flops", "bandwidth_tp", "bandwidth_dp", "bandwidth_ep", "kernel_efficiency")
#: Today's defaults the fast path reads.
DEFAULT_KEYS = ("seq_len", "global_batch", "max_tp", "max_micro_batch", "max_virtual_stages", "framework",
                "bandwidth_tp", "bandwidth_dp", "bandwidth_ep", "kernel_efficiency", "gemm_half_size", "precision",
                "flash_attention", "sequence_parallel", "dtype")


def _pair_symbols() -> dict:
    return {k: (Symbol(k + "_n", integer=True, positive=True), Symbol(k + "_d", integer=True, positive=True))
            for k in PAIRS}


def arguments() -> tuple:
    """The generated ``pieces`` function's arguments, in order."""
    return ARGS + SETTINGS + tuple(x for pair in _pair_symbols().values() for x in pair)


def generate(name: str) -> str:
    """The source of one preset's module."""
    from . import defaults
    from .flops import training_flops
    from .plan import memory_settings

    from ._fastgen import _namespace
    from .cli.common import model_from_args

    # the model as `symcalc plan --preset NAME` builds it without -s (with -s, a learned position table has s rows:
    # INFO["learned_positions"] sends those to the full path)
    model = model_from_args(_namespace(["plan", "--preset", name, "--num-gpus", "1", "--gpu-memory", "1",
                                        "--peak-flops", "1"]))
    pairs = {k: n / d for k, (n, d) in _pair_symbols().items()}
    with defaults.using("today"):
        common = memory_settings(model, seq_len=S.seq_len, global_batch=S.global_batch)
        costs = dict(peak_flops=pairs["peak_flops"], bandwidth_tp=pairs["bandwidth_tp"],
                     bandwidth_dp=pairs["bandwidth_dp"], bandwidth_pp=pairs["bandwidth_dp"],
                     bandwidth_ep=pairs["bandwidth_ep"], kernel_efficiency=pairs["kernel_efficiency"],
                     gemm_half_size=HALF)
        pieces, part_names = build_pieces(model, STAGES, POLICIES, costs, common)
        # --mfu: the compute pieces at one fixed fraction of the peak (the efficiency model's pair stands for it)
        fixed = {k: v for k, v in costs.items() if k not in ("kernel_efficiency", "gemm_half_size")}
        fixed_pieces = build_pieces(model, STAGES, POLICIES, {**fixed, "mfu": pairs["kernel_efficiency"]}, common)[0]
        flops = training_flops(model, seq_len=S.seq_len, batch=S.global_batch).total
    info = dict(name=model.name, learned_positions=model.position == "learned", n_layers=int(model.n_layers), n_heads=int(model.n_heads),
                n_kv_heads=int(model.n_kv_heads), n_experts=int(model.n_experts), part_names=part_names,
                pieces=tuple(pieces), dropout=asdict(common["dropout"]))
    _, source = int_function(arguments(), tuple(pieces.values()), 0)
    compute = tuple(k for k in pieces if k.startswith("compute@"))
    info["fixed_mfu_pieces"] = compute
    _, fixed_source = int_function(arguments(), tuple(fixed_pieces[k] for k in compute), 0)
    _, flops_source = int_function((S.seq_len, S.global_batch), flops)
    lines = [HEADER, PRELUDE, "INFO = " + pprint.pformat(info, width=110, sort_dicts=False) + "\n\n",
             "#: Every piece of INFO['pieces'] as a (numerator, denominator) pair, of the layout and the settings.",
             source.replace("def _int_path(", "def pieces(", 1),
             "\n#: INFO['fixed_mfu_pieces'] (the compute time) at a fixed MFU (--mfu) given as the kernel efficiency's pair"
             " (the half size unused), as pieces.",
             fixed_source.replace("def _int_path(", "def fixed_mfu_pieces(", 1),
             "\n#: The model FLOPs of one step (no recompute), of the sequence length and the global batch.",
             flops_source.replace("def _int_path(", "def model_flops(", 1)]
    return "\n".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _plain(value):
    from fractions import Fraction

    if isinstance(value, (bool, str)) or value is None:
        return value
    value = Fraction(int(value.p), int(value.q)) if hasattr(value, "q") else Fraction(value)
    return value.numerator if value.denominator == 1 else (value.numerator, value.denominator)


def generate_index() -> str:
    """The source of ``symcalc/_generated/plan.py``: the preset -> module table and today's defaults."""
    from . import defaults
    from .presets import PRESETS

    d = defaults.TODAY
    values = {k: _plain(d[k]) for k in DEFAULT_KEYS}
    values["precision"] = str(values["precision"])
    values["name"] = d.name
    return (HEADER.rstrip("\n").rstrip('"') + "\n\nThe planner's module per preset (``MODULES``), imported on use by "
            ":mod:`symcalc.cli._fast_plan`;\n``TODAY`` holds the values of today's defaults it reads (a fraction as "
            "(numerator, denominator)).\n\"\"\"\n\n"
            "MODULES = " + pprint.pformat({n: plan_module(n) for n in PRESETS}, width=110, sort_dicts=False) + "\n\n"
            "TODAY = " + pprint.pformat(values, width=110, sort_dicts=False) + "\n")


def files(names=None) -> dict:
    """``{file name: source}`` of the planner's generated files (or of the presets ``names`` and the index)."""
    from .presets import PRESETS

    out = {"plan.py": generate_index()}
    for name in (PRESETS if names is None else names):
        out[plan_module(name) + ".py"] = generate(name)
    return out


def file_names() -> set:
    """The names of the planner's generated files (without generating them)."""
    from .presets import PRESETS

    return {"plan.py"} | {plan_module(n) + ".py" for n in PRESETS}


def plan_module(preset: str) -> str:
    """The planner's generated module of a preset: ``llama-2-7b`` -> ``plan_llama_2_7b``."""
    return "plan_" + module_name(preset)[2:]
