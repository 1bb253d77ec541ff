"""``symcalc solve``: inverse questions, answered in closed form where the expression allows.

One subcommand per question (:data:`QUESTIONS`). The memory questions take ``symcalc mem``'s
flags (the flag of the unknown is ignored) and ``--budget`` per device (80GiB, 80GB, 512MiB or
bytes); they build on :func:`symcalc.cli.mem.training_options`. Models default to ``symcalc
mem``'s flag defaults (dense). Each answer says how it was found (``closed-form`` or
``search``), the quantity at the answer, the budget and the headroom; with ``--json`` one
object whose first key is the question's name with ``-`` as ``_`` (``micro_batch``, ``tp``, ...).

Exit status: 0 when something fits, 1 when nothing does (the answer is printed all the same:
``feasible: false`` and the shortfall), 2 on bad input.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, Optional

from ..errors import SymcalcError
from ..solve import (
    Solution, max_d_model, max_d_model_in_memory, max_micro_batch, max_n_layers, max_n_layers_in_memory,
    max_seq_len, max_tokens, min_devices, min_pp, min_tp, min_zero_stage, parse_bytes, parse_count, parse_number,
)
from .common import add_model_arguments, parse_amount, positive_int, print_json, seq_len_type
from . import solve_infer
from ._solve_text import GIB, answer_line
from ._solve_text import amount as _amount, number as _num
from .hwargs import add_hardware_arguments
from .plotargs import add_plot_argument, write_plot

#: Inverse questions: name -> one-line help (``symcalc solve --help`` lists them).
QUESTIONS = {
    "micro-batch": "largest micro-batch per device whose training memory fits --budget",
    "seq-len": "longest sequence whose training memory per device fits --budget",
    "tp": "smallest tensor-parallel degree (dividing the KV heads) that fits --budget",
    "pp": "smallest pipeline-parallel degree (dividing the layers) that fits --budget",
    "zero-stage": "smallest ZeRO stage (0-3) that fits --budget",
    "devices": "smallest device count (a multiple of tp*pp*cp*ep) that fits --budget",
    "hidden-size": "largest hidden size at fixed depth or aspect ratio for a parameter or memory budget",
    "layers": "most layers at fixed width for a parameter or memory budget",
    "tokens": "most training tokens for a compute budget (6N, N the active parameters, or exact FLOPs with -s)",
}
#: The memory question -> (its library solver, the training_memory keyword it solves for, the mem flag ignored).
MEMORY_SOLVERS: dict[str, tuple[Callable[..., Solution], str, str]] = {
    "micro-batch": (max_micro_batch, "micro_batch", "-b/--batch-size-per-gpu"),
    "seq-len": (max_seq_len, "seq_len", "-s/--sequence-length"),
    "tp": (min_tp, "tp", "-tp/--tensor-parallel-size"),
    "pp": (min_pp, "pp", "-pp/--pipeline-parallel-size"),
    "zero-stage": (min_zero_stage, "zero_stage", "-z/--zero-stage"),
    "devices": (min_devices, "n_devices", "--num-gpus"),
}
#: How the text output names each answer.
ANSWERS = {"micro-batch": "largest micro-batch", "seq-len": "longest sequence", "tp": "smallest TP degree",
           "pp": "smallest PP degree", "zero-stage": "smallest ZeRO stage", "devices": "fewest devices"}
#: Exit status when nothing fits the budget.
NOTHING_FITS = 1


def _mem_parent() -> argparse.ArgumentParser:
    """``symcalc mem``'s parser, so the memory questions take exactly its flags."""
    from . import mem

    sub = argparse.ArgumentParser(add_help=False).add_subparsers()
    mem.register(sub)
    return sub.choices["mem"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "solve",
        help="inverse questions: largest micro-batch/sequence/model, smallest TP/PP/ZeRO/devices, tokens",
        description="Inverse questions, answered in closed form where the expression allows (else a "
                    "bracketed search; the answer says which). Exit status 0: an answer; 1: nothing fits "
                    "(the shortfall is printed); 2: bad input.",
        epilog="Examples: symcalc solve micro-batch --preset llama-2-7b -s 4096 --num-gpus 8 -z 3 --budget 80GiB | "
               "symcalc solve devices --preset llama-2-7b -z 3 -tp 2 --budget 40GiB --json | "
               "symcalc solve hidden-size -l 32 -a 32 --budget 7B --multiple-of 128",
    )
    qs = p.add_subparsers(dest="question", metavar="QUESTION", parser_class=type(p))
    qs.required = True
    parent = _mem_parent()

    def question(name: str, extra: str = "") -> argparse.ArgumentParser:
        q = qs.add_parser(name, help=QUESTIONS[name], description=QUESTIONS[name] + ". " + extra,
                          parents=[parent], conflict_handler="resolve")
        return q

    for name, (_, _, ignored) in MEMORY_SOLVERS.items():
        q = question(name, f"Takes the flags of `symcalc mem` (training); {ignored} is the unknown and is ignored. "
                           "With --infer (micro-batch, seq-len, tp, pp, devices): the same question for serving, "
                           "on inference memory (weights, KV cache, prefill activations; mem --infer's flags).")
        q.add_argument("--budget", help="memory per device: 80GiB, 80GB, 512MiB or bytes (or --hardware NAME)")
        add_hardware_arguments(q, fills="--budget with its reported memory")
        if name == "seq-len":
            q.add_argument("--multiple-of", type=positive_int, default=1, help="s must be a multiple of this")
        if name == "devices":
            q.add_argument("--max-devices", type=positive_int, help="search no further than this many devices")
            q.add_argument("--multiple-of", type=positive_int, default=1,
                           help="the device count is also a multiple of this (8: whole 8-GPU nodes)")
        solve_infer.add_arguments(q, name)
        add_plot_argument(q, "the largest micro-batch at sequence lengths s/8 ... 8s and the memory it needs, "
                             "with the budget line" if name == "micro-batch" else
                          "memory per device by part at the answer, with the budget line (training)")
        q.set_defaults(func=run_memory, compare=compare_memory)

    extra = ("--budget is a parameter count (7B, 7e9); --memory-budget (80GiB, 80GB) instead fits training memory "
             "per device with the flags of `symcalc mem`.")
    h = question("hidden-size", "-hs is the unknown (its value only sets the proportions f/h). The MLP keeps f/h; "
                 "the head count stays, or grows as h / --fixed-head-dim. " + extra)
    _budgets(h)
    h.add_argument("--multiple-of", type=positive_int, default=1, help="h must be a multiple of this (e.g. 64, 128)")
    h.add_argument("--aspect-ratio", type=positive_int, help="depth follows L = h / ratio instead of -l")
    h.add_argument("--fixed-head-dim", type=positive_int, help="heads grow as h / this (KV heads in proportion)")
    h.set_defaults(func=run_hidden, compare=None)

    layers = question("layers", "-l is the unknown. " + extra)
    _budgets(layers)
    layers.add_argument("--multiple-of", type=positive_int, default=1, help="L must be a multiple of this")
    layers.set_defaults(func=run_layers, compare=None)

    t = qs.add_parser("tokens", help=QUESTIONS["tokens"], description=QUESTIONS["tokens"] + ".")
    add_model_arguments(t)
    t.add_argument("--budget", "--compute", dest="compute", required=True, help="training FLOP, e.g. 1e24")
    t.add_argument("--sequence-length", "-s", type=seq_len_type,
                   help="use symcalc's exact training FLOPs per token at this sequence length (default: 6N, N the "
                        "active parameters, as symcalc flops' rule of thumb)")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.set_defaults(func=run_tokens)


def _budgets(q: argparse.ArgumentParser) -> None:
    g = q.add_mutually_exclusive_group()
    g.add_argument("--budget", help="parameters, e.g. 7e9 or 7B")
    g.add_argument("--memory-budget", help="training memory per device: 80GiB, 80GB, 512MiB or bytes")
    add_hardware_arguments(q, fills="--memory-budget with its reported memory")


def _memory_budget(args: argparse.Namespace, flag: str):
    """The memory budget per device: the flag's, else --hardware's reported memory; None when neither."""
    from .hwargs import figure_or_flag

    value, _ = figure_or_flag(args, flag.lstrip("-").replace("-", "_"), flag, "memory",
                              lambda text: parse_amount(text, flag, parse_bytes, positive=False))
    return value


#: How a changed setting is written on the command line (the fixes of "nothing fits").
def _flag_of(change) -> str:
    v = change.value
    return {
        "zero_stage": lambda: f"-z {v}", "recompute": lambda: f"--recompute {v}",
        "flash_attention": lambda: "--attention flash", "sequence_parallel": lambda: "--sequence-parallel",
        "tp": lambda: f"-tp {v}", "pp": lambda: f"-pp {v}", "micro_batch": lambda: f"-b {v}",
        "seq_len": lambda: f"-s {v}",  # as typed: a comma would make it a list
        "n_devices": lambda: f"--num-gpus {v} ({_num(v - int(change.was))} more GPUs)",
    }[change.setting]()


def _joined(items: list) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def result_json(args: argparse.Namespace, sol: Solution, tried: Optional[dict] = None,
                fixes: Optional[list] = None) -> dict:
    """The ``--json`` object of one answer (also a row of a comparison)."""
    key = args.question.replace("-", "_")
    out = sol.to_json()
    out = {key: out.pop(sol.symbol), **out}
    if not sol.feasible and tried is not None:
        out["tried"] = {k: _plain(v) for k, v in tried.items()}
        out["fixes"] = [{"flag": _flag_of(f), "setting": f.setting, "value": _plain(f.value),
                         "quantity": int(-(-f.memory.p // f.memory.q))} for f in fixes or []]
    return out


def _plain(v: Any) -> Any:
    return v if isinstance(v, (bool, str)) or v is None else int(v)


def _report(args: argparse.Namespace, sol: Solution, what: str, tried: Optional[dict] = None,
            fixes: Optional[list] = None) -> int:
    out = result_json(args, sol, tried, fixes)
    status = 0 if sol.feasible else NOTHING_FITS
    if args.json:
        print_json(out)
        return status
    unit = out.get("unit", "")
    if not sol.feasible:
        at = ", ".join(f"{TRIED_NAMES.get(k, k)} {_num(v)}" for k, v in (tried or {}).items()) \
            or "the best allowed value"
        print(f"nothing fits ({what}): {at} needs {_amount(out['quantity_at_answer'], unit)}, "
              f"{_amount(out['shortfall'], unit)} over the budget {_amount(out['budget'], unit)}")
        if fixes:
            print("it would fit with one change: " + _joined([f"{_flag_of(f)} ({float(f.memory) / GIB:.2f} GiB)"
                                                            for f in fixes]))
        elif tried is not None:
            print("no single change of ZeRO stage, recompute, attention, TP, PP, devices, micro-batch or sequence "
                  "length fits; change two, or the budget")
        _kbit_note(args)
        return status
    print(answer_line(what, sol.value, out))
    _kbit_note(args)
    return status


def _kbit_note(args: argparse.Namespace) -> None:
    """The text report's note when the recompute policy is the quantized base's default (--finetune qlora)."""
    from .mem import kbit_recompute_note

    note = kbit_recompute_note(args)
    if note:
        print("note: " + note)


#: How the text output names a setting of the layout tried.
TRIED_NAMES = {"micro_batch": "micro-batch", "seq_len": "sequence", "zero_stage": "ZeRO stage", "tp": "TP degree",
               "pp": "PP degree", "n_devices": "devices"}


def _training(args: argparse.Namespace, unknown: str = "") -> tuple[Any, dict[str, Any]]:
    """The model and training_memory's keywords from the mem flags, the unknown left out."""
    from . import mem

    if args.infer:
        raise SymcalcError("--infer: symcalc solve answers questions about training memory; drop --infer")
    model = mem.model_from_mem_args(args)
    options = mem.training_options(args)
    options.pop(unknown, None)
    return model, options


def solve_memory(args: argparse.Namespace, keep: Optional[dict] = None) -> tuple[Solution, Optional[dict], list]:
    """One training-memory question: the answer and, when nothing fits, the value tried and the single
    changes that would fit (:func:`symcalc.solve.single_changes`). ``keep`` receives the model, options
    and budget (for ``--plot``)."""
    from ..solve import single_changes

    solver, unknown, _ = MEMORY_SOLVERS[args.question]
    model, options = _training(args, unknown)
    kw = dict(options)
    if args.question == "seq-len":
        kw["multiple_of"] = int(args.multiple_of)
    if args.question == "devices":
        kw["hi"] = None if args.max_devices is None else int(args.max_devices)
        kw["multiple_of"] = int(args.multiple_of)
    budget = _memory_budget(args, "--budget")
    if budget is None:
        raise SymcalcError(f"solve {args.question} needs --budget (memory per device, e.g. 80GiB) or --hardware NAME")
    sol = solver(budget, model, **kw)
    if keep is not None:
        keep.update(model=model, options=kw, budget=budget, unknown=unknown)
    if sol.feasible:
        return sol, None, []
    tried = _tried(args, model, options)
    fixes = single_changes(budget, model, **{**options, **tried}) if tried is not None else []
    if args.question == "devices":
        fixes = [f for f in fixes if f.setting != "n_devices"]
    return sol, tried, fixes


def _tried(args: argparse.Namespace, model, options: dict) -> Optional[dict]:
    """The value of the unknown that came closest (the lowest allowed size, the highest allowed degree)."""
    from math import gcd, lcm

    q = args.question
    if q == "micro-batch":
        return {"micro_batch": 1}
    if q == "seq-len":
        m = lcm(int(args.multiple_of), int(options.get("cp", 1)))
        return {"seq_len": m}
    if q == "zero-stage":
        return {"zero_stage": 3}
    n = options.get("n_devices")
    if q == "tp":
        bound = gcd(int(model.n_heads), int(model.n_kv_heads))
        if n is not None:
            bound = gcd(bound, int(n) // (int(options.get("pp", 1)) * int(options.get("cp", 1))
                                          * int(options.get("ep", 1))))
        return {"tp": bound}
    if q == "pp":
        bound = int(model.n_layers)
        if n is not None:
            bound = gcd(bound, int(n) // (int(options.get("tp", 1)) * int(options.get("cp", 1))
                                          * int(options.get("ep", 1))))
        return {"pp": bound}
    if q == "devices":
        mp = int(options.get("tp", 1)) * int(options.get("pp", 1)) * int(options.get("cp", 1))
        return {"n_devices": lcm(mp * int(options.get("ep", 1)), int(args.multiple_of))}
    return None


def run_memory(args: argparse.Namespace) -> int:
    if args.infer or solve_infer.flags_given(args):  # the serving questions: symcalc.cli.solve_infer
        _no_plot(args, "with --infer (the figures draw training memory)")
        return solve_infer.run(args, _memory_budget(args, "--budget"), _report)
    kept: dict = {}
    sol, tried, fixes = solve_memory(args, kept)
    status = _report(args, sol, ANSWERS[args.question], tried, fixes)
    plotted = write_plot(args, lambda: _figure(args, kept["model"], dict(kept["options"]), kept["budget"], sol,
                                               kept["unknown"]))
    if plotted and not args.json:
        print(f"figure written to {plotted}")
    return status


def _figure(args: argparse.Namespace, model: Any, options: dict, budget: Any, sol: Solution, unknown: str) -> Any:
    """micro-batch: the answer across sequence lengths; the other questions: memory by part at the answer."""
    from ..memory import training_memory
    from ..plot import memory_figure, micro_batch_figure

    if args.question == "micro-batch":
        s = int(options.pop("seq_len"))
        lengths = sorted({max(1, s * 2**k // 8) for k in range(7)})
        return micro_batch_figure(budget, model, lengths, **options)
    if not sol.feasible:
        raise SymcalcError(f"--plot: nothing fits the budget, so there is no answer to draw (short by "
                           f"{sol.shortfall}); drop --plot or change the budget")
    kwargs = {k: v for k, v in options.items() if k not in ("multiple_of", "hi")}
    kwargs[unknown] = sol.value
    bd = training_memory(model, **kwargs)
    return memory_figure([(f"{args.question} = {sol.value}", bd)], budget=budget,
                         title=f"{model.name or 'custom model'}: memory per device at the answer")


def _no_plot(args: argparse.Namespace, why: str) -> None:
    """--plot where no figure is drawn: a one-line error, never silently ignored."""
    if getattr(args, "plot", None) is not None:
        raise SymcalcError(f"--plot: solve {args.question} draws no figure {why}; drop --plot "
                           "(figures: solve micro-batch, seq-len, tp, pp, zero-stage, devices)")




def comparison(args: argparse.Namespace, order=()):
    """Rows ``(configuration, Solution)`` of a memory question's comma-separated flags."""
    from .compare import detailed

    def compute(ns):
        if ns.infer or solve_infer.flags_given(ns):
            raise SymcalcError("comma-separated values compare training questions; ask --infer with one value per flag")
        return solve_memory(ns)

    return detailed(args, order, compute, lambda r: r[0], lambda ns, r: result_json(ns, *r),
                    lambda details: f"symcalc solve {args.question}: {ANSWERS[args.question]} per configuration")


def compare_memory(args: argparse.Namespace, order=()) -> int:
    from .compare import show

    comp = comparison(args, order)
    return show(args, comp, footer="bytes per device (GiB = 2^30); exit status 1 if any configuration has nothing that fits",
                status=lambda sol: 0 if sol.feasible else NOTHING_FITS)


def _parameter_budget_only(args: argparse.Namespace) -> None:
    """With ``--budget`` (a parameter count) the training and device flags change nothing: refuse them.

    Only the model's flags count, and ``-s``, which sizes a flag-built model's learned position table.
    """
    model = argparse.ArgumentParser(prog="symcalc params", add_help=False)
    add_model_arguments(model)
    kept = {a.dest for a in model._actions} | {"help", "json", "plot", "sequence_length"}
    device = [(a.dest, a.default, a.option_strings[0]) for a in _mem_parent()._actions if a.dest not in kept]
    for dest, default, flag in device + [("hardware", None, "--hardware"), ("dtype", None, "--dtype")]:
        if getattr(args, dest, default) != default:
            if dest == "hardware":
                raise SymcalcError("--budget is a parameter count and --hardware a memory budget per device: give one")
            raise SymcalcError(f"--budget is a parameter count, so {flag} has no effect: drop {flag}, or fit training "
                               "memory per device with --memory-budget (e.g. 80GiB) instead of --budget")


def run_hidden(args: argparse.Namespace) -> int:
    _no_plot(args, "for a model size")
    kw = dict(multiple_of=int(args.multiple_of), aspect_ratio=args.aspect_ratio, d_head=args.fixed_head_dim)
    if args.budget is None:
        model, options = _training(args)
        sol = max_d_model_in_memory(_required_memory(args), model, **kw, **options)
    else:
        _parameter_budget_only(args)
        sol = max_d_model(_count(args.budget), _plain_model(args), **kw)
    return _report(args, sol, "largest hidden size")


def run_layers(args: argparse.Namespace) -> int:
    _no_plot(args, "for a model size")
    if args.budget is None:
        model, options = _training(args)
        sol = max_n_layers_in_memory(_required_memory(args), model, multiple_of=int(args.multiple_of), **options)
    else:
        _parameter_budget_only(args)
        sol = max_n_layers(_count(args.budget), _plain_model(args), multiple_of=int(args.multiple_of))
    return _report(args, sol, "most layers")


def _required_memory(args: argparse.Namespace):
    budget = _memory_budget(args, "--memory-budget")
    if budget is None:
        raise SymcalcError(f"solve {args.question} needs --budget (parameters), --memory-budget (memory per device) "
                           "or --hardware NAME")
    return budget


def _count(text: str):
    """A parameter budget (7B, 7e9) within the range the solvers' float64 paths hold."""
    return parse_amount(text, "--budget", lambda t: parse_count(t, "--budget"), positive=False)


def _plain_model(args: argparse.Namespace):
    from . import mem

    return mem.model_from_mem_args(args)


def run_tokens(args: argparse.Namespace) -> int:
    from . import mem

    model = mem.model_from_mem_args(args)
    compute = parse_amount(args.compute, "--budget", lambda t: parse_number(t, "--budget"), positive=False)
    sol = max_tokens(compute, model, seq_len=args.sequence_length)
    return _report(args, sol, "most tokens")
