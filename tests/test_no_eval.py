"""No caller string is ever evaluated: a file-creating string goes into every argument of every public function.

The public functions and classes are enumerated from ``__all__`` of ``symcalc`` and of every public
module and subpackage (``symcalc.memory``, ``symcalc.solve``, ...; the CLI's argparse helpers in
``symcalc.cli.*`` are not library API, ``symcalc.cli.main`` is), each class's constructor and the
public methods it defines, with ``inspect.signature``: a function added later is covered without
touching this file, as long as its parameters' names are known below (else the test fails and
says which name to add). Each argument in turn receives ``__import__('os').system('touch ...')``
while the others are valid. sympify/eval would run it and create the file; symcalc must never do
that, and must answer with a one-line :class:`SymcalcError` — except for a few parameters that are
text by design (a title, a label, a folder), where the string is taken as text.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import signal
import uuid
from contextlib import contextmanager

import pytest
from sympy import Symbol

import symcalc
from symcalc import Model, SymcalcError
from symcalc import symbols as S

MARK = f"/tmp/pwned_{uuid.uuid4().hex}"
EVIL = f"__import__('os').system('touch {MARK}')"

#: Parameters that are text by design: the string is kept as text (and never evaluated).
TEXT = {"name", "title", "description", "latex", "source", "note", "intro", "tex", "total_label", "prefix",
        "directory", "symbol:Solution", "symbol:LayoutSolution", "unit:SymbolInfo", "value:as_text", "flag", "url",
        "date", "label",
        "vendor", "summary", "meaning", "example"}


@pytest.fixture(autouse=True, scope="module")
def _remove_mark():
    """If a string ever ran, its file is removed after the module (the failing test has already said so)."""
    yield
    if os.path.exists(MARK):
        os.remove(MARK)


def _tiny() -> Model:
    return Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=1, d_ff=16, vocab=10, name="tiny")


def _public_modules() -> list:
    """``symcalc`` and every public module and subpackage below it, except the CLI's internals."""
    names = ["symcalc", "symcalc.cli"]
    for info in pkgutil.iter_modules(symcalc.__path__):
        if not info.name.startswith("_") and info.name != "cli":
            names.append(f"symcalc.{info.name}")
    return [importlib.import_module(n) for n in names]


def public_callables() -> dict:
    """``{qualified name: callable}``: functions, classes and the public methods classes define."""
    out: dict = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if isinstance(obj, type):
                if issubclass(obj, (BaseException, str)):
                    continue
                out.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr != "__call__":
                        continue
                    if isinstance(member, (classmethod, staticmethod)):
                        out.setdefault(f"{obj.__module__}.{obj.__qualname__}.{attr}", getattr(obj, attr))
                    elif inspect.isfunction(member):
                        out.setdefault(f"{obj.__module__}.{obj.__qualname__}.{attr}", (obj, attr))
            elif inspect.isfunction(obj):
                out.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return out


# --- valid values --------------------------------------------------------------------------------
def _valid_by_name() -> dict:
    """A valid value for each parameter name (a function whose own needs differ is in OVERRIDES)."""
    from symcalc.memory import RECIPES

    tiny = _tiny()
    return {
        "model": tiny, "n_params": 10**6, "expr": 2 * S.tp, "quantity": 2 * S.tp, "symbol": "tp",
        "budget": 10**9, "compute": 10**22, "compute_budget": 10**22, "tokens": 1000, "n_devices": 2,
        "memory": 2**30, "peak_flops": 10**12, "global_batch": 4, "seq_len": 4, "micro_batch": 1,
        "batch": 1, "dp": 2, "zero_stage": 1, "group": 2, "from_stage": 1, "bytes_weight": 2,
        "value": 10**9, "text": "80GiB", "n": 2, "dtype": "int4", "tp": 1, "precision": RECIPES["mixed"],
        "optimizer": "adamw", "parallel": None, "config": {"model_type": "llama", "hidden_size": 8,
        "intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "vocab_size": 10},
        "obj": 2 * S.tp, "factor": 2, "fn": lambda e: e, "prefix": "a", "depth": 1, "sym": S.tp,
        "args": (S.tp,), "exact": True, "breakdown": None, "values": {"tp": 2}, "argv": ["presets"],
        "directory": "sheets", "family": None, "size": S.d_model, "index": (0,), "rows": [(2,)],
        "arrays": None, "fit": None, "flops_per_param_token": 6,
        "message": 1000, "volume": 1000, "bandwidth": 10**9, "prompt_len": 4, "n_generate": 2,
        "indices": [0, 2], "n_layers": 4, "n_queries": 5, "position": 3,
        "adapter": _lora(), "freeze": None, "method": "lora", "targets": "q,v", "largest_layer_params": 10**5,
        "format": "nf4", "kind": "weights",
        "unique_tokens": 10**9, "loss": 2, "inference_tokens": 10**12, "overfit": 0.02,
    }


def _lora():
    from symcalc.finetune import LoRA

    return LoRA(rank=2, targets="q,v")


def _overrides() -> dict:
    """Base calls ``(args, kwargs)`` for callables whose valid arguments are not the defaults above."""
    from symcalc.breakdown import Breakdown
    from symcalc.memory import Parallel, Precision
    from symcalc.numeric import compile_expr
    from symcalc.params import params
    from symcalc.solve import max_integer, model_family

    from symcalc.serving import serving

    tiny, tp = _tiny(), S.tp
    est = serving(tiny, prompt_len=4, n_generate=2, batch=1, hardware="h100")
    step = est.decode
    family = model_family(Model(n_layers=2, d_model=64, n_heads=2, n_kv_heads=1, d_ff=128, vocab=10))[0]
    solution = max_integer(10 * S.micro_batch, "micro_batch", 100)
    return {
        "symcalc.breakdown.Breakdown": ((), dict(parts={"a": 2 * tp, "b": 3}, unit="bytes", title="t")),
        "symcalc.breakdown.Breakdown.table": ((), dict(total_label="total", extra=[("x", 1)])),
        "symcalc.breakdown.Breakdown.latex": ((), {}),
        "symcalc.breakdown.Breakdown.evaluate": ((), dict(values={"tp": 2})),
        "symcalc.breakdown.Breakdown.subs": ((), dict(values={"tp": 2})),
        "symcalc.display.format_count": ((), dict(value=10**9, unit="")),
        "symcalc.display.format_bytes": ((), dict(value=2**30)),
        "symcalc.display.Quantity": ((), dict(exact=3, unit="%")),
        "symcalc.display.Quantity.latex": ((), {}),
        "symcalc.display.Quantity.to_json": ((), {}),
        "symcalc.display.quantity": ((), dict(value=3, unit="%")),
        "symcalc.display.readable": ((), dict(value=3, unit="s", digits=3)),
        "symcalc.display.latex_number": ((), dict(value=3, unit="s", digits=3)),
        "symcalc.display.significant": ((), dict(x=3.5, digits=3)),
        "symcalc.display.html_table": ((), dict(rows=[("a", 1)], header=("p", "v"), title="t", total_rows=1,
                                                note="n")),
        "symcalc.breakdown.evaluate_expr": ((), dict(expr=2 * tp, values={"tp": 2})),
        "symcalc.breakdown.as_substitutions": ((), dict(values={"tp": 2})),
        "symcalc.model.Model": ((), dict(n_layers=2, d_model=8, n_heads=2, n_kv_heads=1, d_ff=16, vocab=10)),
        "symcalc.model.Model.preset": ((), dict(name="llama-2-7b")),
        "symcalc.model.Model.replace": ((), dict(n_layers=4)),
        "symcalc.model.Model.subs": ((), dict(values={"vocab": 12})),
        "symcalc.memory.parallel.Parallel": ((), dict(tp=1, pp=1, dp=2, ep=1, cp=1, sequence_parallel=False)),
        "symcalc.memory.parallel.Parallel.check_model": ((tiny,), {}),
        "symcalc.memory.states.Precision": ((), dict(weight=2, grad=2, master=4, act=2, kv=2)),
        "symcalc.memory.states.optimizer_bytes": ((), dict(optimizer="adamw", model=tiny)),
        "symcalc.memory.states.precision_recipe": ((), dict(precision="mixed")),
        "symcalc.memory.states.zero_shard": ((), dict(expr=12, group=2, from_stage=1, zero_stage=1)),
        "symcalc.memory.training.communication_buffers": ((), dict(zero_stage=3, dp=2, bytes_weight=2,
                                                                    allgather_bucket=5, max_live_params=7)),
        "symcalc.memory.inference.weight_bytes": ((), dict(dtype="int4")),
        "symcalc.memory.parallel.local_kv_heads": ((tiny,), dict(tp=2)),
        "symcalc.numeric.CompiledExpr": ((), dict(expr=2 * tp, args=(tp,), exact=True, names=())),
        "symcalc.numeric.CompiledExpr.__call__": ((2,), {}),
        "symcalc.numeric.CompiledExpr.natural": ((), {}),  # float path object below
        "symcalc.numeric.CompiledExpr.many": ((), dict(rows=[(2,), (3,)])),
        "symcalc.numeric.compile_expr": ((), dict(expr=2 * tp, args=(tp,), exact=True)),
        "symcalc.numeric.compile_breakdown": ((), dict(breakdown=Breakdown({"a": tp}), args=(tp,), exact=True,
                                                       total=True)),
        "symcalc.numeric.evaluate": ((), dict(expr=2 * tp, values={"tp": 2}, exact=True)),
        "symcalc.numeric.to_sympy": ((), dict(value=3)),
        "symcalc.plan.step_time": ((), dict(model=tiny, seq_len=4, global_batch=4, micro_batch=1, tp=1, pp=1, dp=2,
                                            peak_flops=10**12, mfu=0.5, bandwidth_tp=10**9, bandwidth_dp=10**9,
                                            bandwidth_ep=10**9)),
        "symcalc.plan.plan": ((), dict(model=tiny, n_devices=2, memory=2**30, peak_flops=10**12, seq_len=4,
                                       global_batch=4, zero_stages=(0, 1), recompute=("none",), top=2)),
        "symcalc.plan.candidates": ((), dict(model=tiny, n_devices=2, global_batch=4)),
        "symcalc.plan.PlanRow": ((), dict(tp=1, pp=1, dp=2, ep=1, zero_stage=1, recompute="none", micro_batch=1,
                                          n_microbatches=2, memory=100, step_time=1, time_parts={"compute": 1})),
        "symcalc.plan.PlanResult": ((), dict(rows=[], n_candidates=3, n_fit=0, settings={}, least_memory=2.5)),
        "symcalc.presets.Preset": ((), dict(name="x", description="y", config={"model_type": "llama"})),
        "symcalc.presets.get_preset": ((), dict(name="llama-2-7b")),
        "symcalc.render.latex": ((), dict(obj=2 * tp, symbol_names={tp: "t"}, total=True)),
        "symcalc.plot.memory_figure": ((), dict(rows=[("a", _tiny_memory())], budget=2**30, title="t")),
        "symcalc.plot.micro_batch_figure": ((), dict(budget=2**30, model=tiny, seq_lens=[4, 8], n_devices=2)),
        "symcalc.plot.plan_figure": ((), dict(result=_tiny_plan())),
        "symcalc.plot.save_figure": ((), dict(fig=_tiny_figure(), path="/tmp/symcalc_no_eval.png", flag="--plot")),
        "symcalc.typeset.width_em": ((), dict(tex="x^{2}", level=0)),
        "symcalc.typeset.upright_spacing": ((), dict(tex="d \\mathrm{MFU}")),
        "symcalc.typeset.sum_chunks": ((), dict(expr=2 * tp + 4)),
        "symcalc.typeset.aligned": ((), dict(rows=[("N", 2 * tp)], width_pt=240, symbol_names={tp: "t"})),
        "symcalc.typeset.breakdown_block": ((), dict(bd=Breakdown({"a": tp, "b": 2 * tp}, unit="bytes"), total=True,
                                                     width_pt=240, symbol_names={tp: "t"})),
        "symcalc.render.frontier_latex": ((), dict(optimum=_optimum(), fit=None)),
        "symcalc.render.Formula": ((), dict(title="t", tex="x", source="s", note="n")),
        "symcalc.render.Sheet": ((), dict(name="n", title="t", intro="i", formulas=())),
        "symcalc.render.main": ((), dict(argv=["--check", "formulas/"])),
        "symcalc.scaling.fits.ParametricFit": ((), dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)),
        "symcalc.scaling.fits.AllocationFit": ((), dict(exponent=0.5, unit=6, anchor=(10**21, 3 * 10**9))),
        "symcalc.scaling.fits.KaplanFit": ((), dict(coef=10**9)),
        "symcalc.scaling.fits.DeepSeekFit": ((), dict(coef=0.17, unit=1, flops_per_param_token=1, scale="flops_per_token")),
        "symcalc.scaling.fits.get_fit": ((), dict(name="chinchilla")),
        "symcalc.scaling.optimum.ComputeOptimum": ((), dict(compute=1, n_params=2, tokens=3, loss=4,
                                                            flops_per_param_token=6)),
        "symcalc.scaling.shape.ShapeOptimum": ((), dict(size=1, n_params=2, tokens=3, flops_per_token=4, loss=5)),
        "symcalc.scaling.shape.ShapeFrontier": ((), dict(six_n=_shape_opt(), exact_flops=_shape_opt(),
                                                         closed_form=_compute_opt())),
        "symcalc.scaling.inference.InferenceOptimum": ((), dict(
            loss=2, inference_tokens=10, n_params=2, tokens=3, flops_per_param_token=6, inference_flops_per_param_token=2,
            reference=_compute_opt(), condition=S.tokens - 1)),
        "symcalc.scaling.data.DataConstrainedOptimum": ((), dict(compute=10, unique_tokens=2, n_params=2, tokens=3,
                                                                 loss=3, reference=_compute_opt(), fit="muennighoff")),
        "symcalc.scaling.optimum.compute_cost": ((), dict(compute=10**22, hardware="h100", mfu=0.4, dtype="bf16")),
        "symcalc.scaling.inference.inference_optimal": ((), dict(inference_tokens=10**12, compute=10**22)),
        "symcalc.scaling.data.data_constrained_optimal": ((), dict(compute=10**21, unique_tokens=10**9)),
        "symcalc.scaling.laws.deepseek_flops_per_token": ((), dict(n_layers=2, d_model=8, seq_len=4)),
        "symcalc.scaling.shape.compute_optimal_shape": ((), dict(compute=10**20, model=family, size=S.d_model,
                                                                 multiple_of=64, lo=64, hi=1024)),
        "symcalc.scaling.shape.shape_frontier": ((), dict(compute=10**20, model=family, size=S.d_model, seq_len=64,
                                                          multiple_of=64, lo=64, hi=1024)),
        "symcalc.sensitivity.derivative": ((), dict(quantity=params(Model()), symbol="n_layers", n=1,
                                                    at={"d_model": 8})),
        "symcalc.sensitivity.elasticity": ((), dict(quantity=params(Model()), symbol="n_layers", at={"d_model": 8})),
        "symcalc.sensitivity.leading_terms": ((), dict(quantity=params(Model()), symbols="d_model", n=1)),
        "symcalc.sensitivity.degree_in": ((), dict(quantity=params(Model()), symbols=["d_model"])),
        "symcalc.solve._solution.Solution": ((), dict(symbol="b", value=3, method="search", quantity=5, budget=6,
                                                      feasible=True, kind="max", root=None, unit="bytes")),
        "symcalc.solve._engine.max_integer": ((), dict(quantity=10 * S.micro_batch, symbol="micro_batch", budget=100,
                                                       lo=1, hi=50, multiple_of=1, divisor_of=None, choices=None,
                                                       subs={"tp": 1}, unit="")),
        "symcalc.solve._engine.min_integer": ((), dict(quantity=80 + 640 / tp, symbol="tp", budget=200, lo=1, hi=64,
                                                       multiple_of=1, divisor_of=64, choices=[1, 2, 4, 8],
                                                       subs={"pp": 1}, unit="")),
        "symcalc.solve._engine.divisors": ((), dict(n=12)),
        "symcalc.solve._models.model_family": ((), dict(model=tiny, vary="d_model", aspect_ratio=4, d_head=4)),
        "symcalc.solve._models.max_size": ((), dict(quantity=lambda m: params(m), family=family, symbol=S.d_model,
                                                    budget=10**6, multiple_of=64, lo=1, hi=10**4, unit="params")),
        "symcalc.solve._models.max_d_model": ((), dict(budget=10**6, model=tiny, quantity=lambda m: params(m),
                                                       multiple_of=8, aspect_ratio=None, d_head=4, lo=1, hi=4096,
                                                       unit="params")),
        "symcalc.solve._models.max_n_layers": ((), dict(budget=10**6, model=tiny, quantity=lambda m: params(m),
                                                        multiple_of=1, lo=1, hi=10**4, unit="params")),
        "symcalc.solve._models.max_tokens": ((), dict(compute_budget=10**12, model=tiny, seq_len=4,
                                                      recompute="none")),
        "symcalc.sweep._grid.memory_grid": ((), dict(model=tiny, seq_len=4, micro_batch=[1, 2], tp=1, pp=1, dp=[1, 2],
                                               ep=1, cp=1, zero_stage=1, recompute="none")),
        "symcalc.sweep.memory_function": ((), dict(model=tiny, zero_stage=1, recompute="none", tp=S.tp, dp=S.dp)),
        "symcalc.sweep._grid.memory_blocks": ((), dict(model=tiny, seq_len=4, micro_batch=[1, 2], tp=1, pp=1,
                                                       dp=[1, 2], ep=1, cp=1, zero_stage=1, recompute="none",
                                                       block_bytes=64)),
        "symcalc.sweep._points.memory_points": ((), dict(model=tiny, seq_len=4, micro_batch=[1, 2], tp=1, pp=1,
                                                         dp=[1, 2], ep=1, cp=1, zero_stage=1, recompute="none",
                                                         chunk=64)),
        "symcalc.sweep._grid.Sweep": ((), dict(dims=(), coords={}, parts={}, total=None)),
        "symcalc.sweep._grid.Sweep.fits": ((), dict(budget=10**9)),
        "symcalc.sweep._grid.Sweep.sel": ((), dict(index=(0,))),
        "symcalc.symbols.SymbolInfo": ((), dict(latex="x", description="y", unit="")),
        "symcalc.symbols.by_name": ((), dict(name="tp")),
        "symcalc.symbols.describe": ((), dict(sym=S.tp)),
        "symcalc.hf.model_from_hf_config": ((), dict(config=_valid_by_name()["config"], name="m")),
        "symcalc.hf.load_hf_config": ((), dict(config=_valid_by_name()["config"])),
        "symcalc.model.Model.from_hf_config": ((), dict(config=_valid_by_name()["config"])),
        "symcalc.cli.main": ((), dict(argv=["presets"])),
        "symcalc.inputs.as_model": ((), dict(name="model", value=tiny)),
        "symcalc.cost.as_mfu": ((), dict(name="mfu", value="40%")),
        "symcalc.cost.TrainingCost": ((), dict(flops=10**20, n_devices=8, rate=10**14, peak_flops=2 * 10**14,
                                               mfu=0.5, power=700, pue=1, price=2, step_flops=10**15, info={})),
        "symcalc.cost.TrainingCost.subs": ((), dict(mfu=0.5)),
        "symcalc.hardware._entry.Source": ((), dict(title="t", url="u", date="d")),
        "symcalc.hardware._entry.Figure": ((), dict(value=10**12, source=_source(), note="n", uncertain=False)),
        "symcalc.hardware._entry.Hardware": ((), dict(name="x", label="X", vendor="V", aliases=("y",), summary="s",
                                                      figures={"peak_flops/bf16": _figure()})),
        "symcalc.hardware._entry.Hardware.peak": ((), dict(dtype="bf16")),
        "symcalc.hardware._entry.Hardware.subs": ((), dict(dtype="bf16")),
        "symcalc.hardware._entry.Hardware.require": ((), dict(name="memory", flag="--gpu-memory")),
        "symcalc.hardware.get": ((), dict(name="h100", flag="--hardware")),
        "symcalc.hardware.find": ((), dict(name="h100")),
        "symcalc.inputs.as_callable": ((), dict(name="fn", value=len)),
        "symcalc.inputs.as_choice": ((), dict(name="recompute", value="full", choices=("none", "full"))),
        "symcalc.inputs.as_symbol": ((), dict(name="symbol", value="tp")),
        "symcalc.inputs.as_symbols": ((), dict(name="symbols", value=["tp", "pp"])),
        "symcalc.inputs.as_bool": ((), dict(name="causal", value=True)),
        "symcalc.inputs.as_text": ((), dict(name="title", value="t")),
        "symcalc.inputs.as_fraction": ((), dict(name="mfu", value=0.5)),
        "symcalc.inputs.as_int": ((), dict(name="top", value=3, minimum=1, maximum=10)),
        "symcalc.inputs.as_expr": ((), dict(name="x", value=3, unit="bytes")),
        "symcalc.inputs.as_amount": ((), dict(name="x", value=3, unit="bytes")),
        "symcalc.inputs.as_positive": ((), dict(name="x", value=3, unit="bytes")),
        "symcalc.inputs.as_size": ((), dict(name="x", value=3)),
        "symcalc.inputs.as_count": ((), dict(name="x", value=0)),
        "symcalc.inputs.parse_number": ((), dict(text="1e24", name="compute")),
        "symcalc.inputs.parse_count": ((), dict(text="7B", name="budget")),
        "symcalc.inputs.parse_bytes": ((), dict(text="80GiB", name="budget")),
        "symcalc.cli.build_parser": ((), dict(argv=["presets"])),
        "symcalc.defaults.Default": ((), dict(value=2, meaning="m", source="s", flag="-f")),
        "symcalc.compare.Comparison": ((), dict(rows=[({"tp": 1}, 2)], varied=("tp",), title="t", fixed={}, details=[])),
        "symcalc.compare.compare": ((), dict(function=params, vary={"model": [tiny]}, title="t")),
        "symcalc.solve._fixes.Change": ((), dict(setting="tp", value=2, memory=10, was=1)),
        "symcalc.solve._fixes.single_changes": ((), dict(budget=10**9, model=tiny, max_devices=8, seq_len=4,
                                                         micro_batch=1, n_devices=2)),
        "symcalc.defaults.Defaults": ((), dict(name="mine", entries={"seq_len": _default()}, overrides={"flops": {}})),
        "symcalc.defaults.Defaults.entry": ((), dict(key="seq_len")),
        "symcalc.defaults.Defaults.source": ((), dict(key="seq_len")),
        "symcalc.defaults.Defaults.for_command": ((), dict(command="flops")),
        "symcalc.defaults.Defaults.replace": ((), dict(name="mine", seq_len=4096)),
        "symcalc.defaults.use": ((), dict(which="today")),
        "symcalc.defaults.using": ((), dict(which="today")),
        "symcalc.defaults.resolve": ((), dict(key="seq_len", value=4096)),
        "symcalc.serving._roofline.Step": ((), dict(flops=step.flops, traffic=step.traffic, comm=step.comm,
                                                    device=step.device, info={})),
        "symcalc.serving._roofline.Roofline": ((), dict(peak_flops=10**12, mem_bandwidth=10**9,
                                                        bandwidth_scaleup=10**9, memory=2**30,
                                                        compute_efficiency=1, memory_efficiency=0.5,
                                                        link_efficiency=1, name="x")),
        "symcalc.serving._roofline.Roofline.subs": ((), {}),
        "symcalc.serving._roofline.Step.subs": ((), {}),
        "symcalc.serving._estimate.ServingEstimate.subs": ((), {}),
        "symcalc.serving._estimate.ServingEstimate": ((), dict(prefill=est.prefill, decode=est.decode,
                                                               memory=est.memory, batch=1, n_generate=2,
                                                               max_batch=None, info={})),
        "symcalc.serving._roofline.roofline": ((), dict(hardware="h100", dtype="bf16", peak_flops=10**12,
                                                        mem_bandwidth=10**9, bandwidth_scaleup=10**9, memory=2**30,
                                                        compute_efficiency=1, memory_efficiency="50%",
                                                        link_efficiency=1)),
        "symcalc.serving._roofline.decode_step": ((), dict(model=tiny, context_len=2, batch=1, hardware="h100")),
        "symcalc.serving._roofline.prefill_step": ((), dict(model=tiny, prompt_len=4, batch=1, hardware="h100")),
        "symcalc.serving._estimate.serving": ((), dict(model=tiny, prompt_len=4, n_generate=2, batch=1,
                                                       hardware="h100")),
        "symcalc.solve._serving.LayoutSolution": ((), dict(symbol="n_devices", value=2, method="search", quantity=5,
                                                           budget=6, feasible=True, kind="min", unit="bytes", tp=2,
                                                           pp=1)),
        "symcalc.solve._serving.max_serving_batch": ((10**9, tiny), dict(seq_len=4, n_generate=2)),
        "symcalc.solve._serving.max_serving_context": ((10**9, tiny), dict(micro_batch=1, n_generate=2)),
        "symcalc.solve._serving.min_serving_devices": ((10**9, tiny), dict(seq_len=4, micro_batch=1, max_tp=2)),
        "symcalc.solve._serving.serving_tp_degrees": ((), dict(model=tiny, max_tp=2)),
        "symcalc.finetune.adapters.LoRA": ((), dict(rank=2, targets="q,v", dora=False, expert_layout="fused",
                                                    bytes_adapter=4)),
        "symcalc.finetune.freeze.Freeze": ((), dict(parts=("embedding",), layers=(0, 1))),
        "symcalc.finetune.freeze.Freeze.layer_counts": ((tiny,), {}),
        "symcalc.finetune.freeze.Freeze.frozen": ((tiny,), {}),
        "symcalc.finetune.freeze.Freeze.frozen_layers_before_grad": ((tiny,), dict(adapter_layers=False)),
        "symcalc.finetune.recipe": ((), dict(method="qlora", rank=2, targets="q,v", quantize="nf4",
                                             double_quant=True, freeze=None, expert_layout="fused")),
        "symcalc.finetune.as_freeze": ((), dict(freeze=("embedding",), adapter=None)),
        "symcalc.memory.offload.Offload": ((), dict(optimizer="cpu", params="cpu", activations="cpu")),
        "symcalc.memory.offload.Offload.check": ((S.zero_stage.subs(S.zero_stage, 3),), {}),
        "symcalc.memory.offload.Offload.device": ((), dict(kind="weights")),
        "symcalc.memory.offload.devices_per_node_default": ((), dict(n_devices=16, devices_per_node=8)),
        "symcalc.memory.sharding.Sharding": ((), dict(group=2, secondary=2)),
        "symcalc.memory.sharding.Sharding.zero_group": ((), dict(dp=4, ep=1)),
        "symcalc.memory.sharding.Sharding.check": ((), dict(dp=4, ep=1, zero_stage=3)),
        "symcalc.memory.storage.Storage": ((), dict(format="nf4", block=64, double_quant=True, block2=256,
                                                    scale="tensor", skip="lm_head")),
        "symcalc.memory.storage.Storage.bits_per_weight": ((), dict(d_in=8, d_out=8)),
        "symcalc.memory.storage.Storage.part_rates": ((), dict(model=tiny)),
        "symcalc.memory.storage.Storage.transient": ((), dict(model=tiny, bytes_compute=2)),
        "symcalc.memory.storage.storage_format": ((), dict(name="nf4", double_quant=True)),
        "symcalc.memory.placement.deepspeed_estimate": ((), dict(n_params=10**6, largest_layer_params=10**5,
                                                                 zero_stage=3, devices_per_node=2, n_nodes=1,
                                                                 offload_optimizer=True, offload_params=True,
                                                                 zero_init=True, buffer_factor=1.5)),
        "symcalc.cost.planned": ((), dict(model=tiny, n_devices=2, hardware="h100", dtype="bf16", peak_flops=10**15,
                                          seq_len=4, global_batch=4, flops="exact", recompute="none")),
        "symcalc.frameworks.Framework": ((), dict(name="x", zero_stages=(0, 1), zero_with_pp=(0,), interleaved=True,
                                                  microbatches_multiple_of_pp=False, summary="s")),
        "symcalc.frameworks.Framework.stages": ((), dict(pipelined=True)),
        "symcalc.frameworks.layouts": ((), dict(layers=4, heads=2, kv_heads=1, experts=0, n=4, batch=8, max_tp=2,
                                                max_b=2)),
        "symcalc.frameworks.stage_layers": ((), dict(layers=126, p=16)),
        "symcalc.frameworks.virtual_stages": ((), dict(layers=8, p=2, m=4, framework=_framework(), max_v=4)),
    }


def _compute_opt():
    from symcalc.scaling import compute_optimal

    return compute_optimal(10**22)


def _shape_opt():
    from symcalc.scaling import ShapeOptimum

    return ShapeOptimum(1, 2, 3, 4, 5)


def _default():
    from symcalc.defaults import Default

    return Default(4096, "m", "s", "-s")


def _tiny_memory():
    from symcalc import training_memory

    return training_memory(_tiny(), seq_len=4, micro_batch=1)


def _tiny_plan():
    from symcalc.plan import plan

    return plan(_tiny(), n_devices=2, memory=2**30, peak_flops=10**12, seq_len=4, global_batch=4, top=2)


def _tiny_figure():
    from symcalc.plot import memory_figure

    return memory_figure([("a", _tiny_memory())])


def _optimum():
    from symcalc.scaling import compute_optimal

    return compute_optimal()


def _framework():
    from symcalc.frameworks import FRAMEWORKS

    return FRAMEWORKS["megatron"]


def _source():
    from symcalc.hardware import Source

    return Source("datasheet", "https://example.org", "2024")


def _figure():
    from symcalc.hardware import Figure

    return Figure(10**15, _source())


def _instance(cls_name: str):
    """An instance whose methods are called (``Class.method`` targets)."""
    from symcalc.memory import RECIPES, Parallel
    from symcalc.numeric import compile_expr
    from symcalc.params import params
    from symcalc.plan import plan
    from symcalc.presets import PRESETS
    from symcalc.render import sheets
    from symcalc.scaling import compute_optimal
    from symcalc.solve import max_integer
    from symcalc.sweep import memory_grid

    from symcalc.cost import training_cost
    from symcalc.display import Quantity
    from symcalc.finetune import Freeze
    from symcalc.hardware import get
    from symcalc.solve import min_serving_devices
    from symcalc.structure import GQA, MLA, LayerSet, Window
    from symcalc.memory import Offload, Sharding, Storage

    tiny = _tiny()
    return {
        "TrainingCost": lambda: training_cost(tiny, tokens=10**6, seq_len=4, n_devices=2, hardware="h100", mfu=0.4),
        "Hardware": lambda: get("h100"),
        "Quantity": lambda: Quantity(3, "%"),
        "Figure": _figure,
        "ComputeOptimum": lambda: compute_optimal(10**24),
        "ParametricFit": lambda: __import__("symcalc.scaling").scaling.CHINCHILLA,
        "AllocationFit": lambda: __import__("symcalc.scaling").scaling.get_fit("chinchilla-1"),
        "KaplanFit": lambda: __import__("symcalc.scaling").scaling.get_fit("kaplan"),
        "DeepSeekFit": lambda: __import__("symcalc.scaling").scaling.get_fit("deepseek"),
        "Fit": lambda: __import__("symcalc.scaling").scaling.CHINCHILLA,
        "ShapeOptimum": _shape_opt,
        "ShapeFrontier": lambda: __import__("symcalc.scaling").scaling.ShapeFrontier(_shape_opt(), _shape_opt(), _compute_opt()),
        "InferenceOptimum": lambda: __import__("symcalc.scaling").scaling.inference_optimal(10**12, compute=10**22),
        "DataConstrainedOptimum": lambda: __import__("symcalc.scaling").scaling.data_constrained_optimal(10**21, 10**9),
        "PlanRow": lambda: plan(tiny, n_devices=2, memory=2**30, peak_flops=10**12, seq_len=4, global_batch=4).rows[0],
        "Preset": lambda: PRESETS["llama-2-7b"],
        "Sheet": lambda: sheets()[0],
        "Solution": lambda: max_integer(10 * S.micro_batch, "micro_batch", 100),
        "Breakdown": lambda: params(tiny),
        "Model": lambda: tiny,
        "Parallel": lambda: Parallel(dp=2),
        "Precision": lambda: RECIPES["mixed"],
        "CompiledExpr": lambda: compile_expr(2 * S.tp, (S.tp,)),
        "Sweep": lambda: memory_grid(tiny, seq_len=4, micro_batch=[1, 2]),
        "Defaults": lambda: __import__("symcalc.defaults").defaults.TODAY,
        "Comparison": lambda: __import__("symcalc.compare").compare.compare(params, vary={"model": [tiny]}),
        "ServingEstimate": lambda: _estimate(tiny),
        "Framework": _framework,
        "Step": lambda: _estimate(tiny).decode,
        "Roofline": lambda: _estimate(tiny).decode.device,
        "LayoutSolution": lambda: min_serving_devices(10**9, tiny, seq_len=4, micro_batch=1),
        "GQA": lambda: GQA(qk_norm="head", sinks=True),
        "MLA": lambda: MLA(q_lora_rank=8, kv_lora_rank=4, d_nope=2, d_rope=2, d_v=2),
        "LayerSet": lambda: LayerSet(every=2),
        "Window": lambda: Window.sliding(4, LayerSet(every=2)),
        "LoRA": _lora,
        "Freeze": lambda: Freeze(parts=("embedding",), layers=1),
        "Offload": lambda: Offload(optimizer="cpu"),
        "Sharding": lambda: Sharding(group=2),
        "Storage": lambda: Storage("nf4"),
    }[cls_name]()


def _estimate(tiny):
    from symcalc.serving import serving

    return serving(tiny, prompt_len=4, n_generate=2, batch=1, hardware="h100")


#: Keywords a ``**kwargs`` parameter forwards, per callable (each gets the string too), plus one unknown.
FORWARDED = {
    "training_memory": ("tp", "pp", "dp", "ep", "cp", "n_devices", "sequence_parallel"),
    "model_states": ("tp", "dp", "n_devices"),
    "inference_memory": ("tp", "pp", "n_devices"),
    "backward_flops": ("seq_len", "batch", "tokens", "causal"),
    "recompute_flops": ("seq_len", "batch", "tokens"),
    "memory_grid": ("precision", "sequence_parallel", "allgather_bucket"),
    "memory_blocks": ("precision", "sequence_parallel"),
    "memory_points": ("precision", "sequence_parallel"),
    "memory_function": ("precision", "seq_len"),
    "Model.replace": ("n_layers", "d_ff", "gated_mlp", "norm"),
    "Model.subs": ("n_layers",),
    "Breakdown.subs": ("n_layers",),
    "Breakdown.evaluate": ("n_layers",),
    "evaluate_expr": ("tp",),
    "TrainingCost.subs": ("mfu",),
    "Defaults.replace": ("seq_len",),
    "single_changes": ("seq_len", "micro_batch", "n_devices"),
    "compare": ("model",),
    "Comparison": (),
    "as_substitutions": ("tp",),
    "evaluate": ("tp",),
    "latex": ("mode", "fold_frac_powers"),
    "Breakdown.latex": ("mode",),
    "max_micro_batch": ("seq_len", "tp", "n_devices", "zero_stage", "recompute"),
    "max_seq_len": ("micro_batch", "tp", "cp"),
    "min_zero_stage": ("seq_len", "micro_batch", "n_devices"),
    "min_tp": ("seq_len", "micro_batch", "pp", "n_devices"),
    "min_pp": ("seq_len", "micro_batch", "tp", "n_devices"),
    "min_devices": ("seq_len", "micro_batch", "tp", "zero_stage"),
    "max_d_model_in_memory": ("seq_len", "micro_batch", "n_devices"),
    "max_n_layers_in_memory": ("seq_len", "micro_batch", "pp", "n_devices"),
    "max_serving_batch": ("seq_len", "n_generate", "tp", "weights"),
    "max_serving_context": ("micro_batch", "n_generate", "tp", "prefill_batch"),
    "min_serving_devices": ("seq_len", "micro_batch", "bytes_kv"),
    "Step.subs": ("micro_batch",),
    "Roofline.subs": ("peak_flops",),
    "ServingEstimate.subs": ("micro_batch",),
}

#: Base calls of the memory solvers (the keywords they pass to training_memory).
SOLVER_BASE = dict(seq_len=4, micro_batch=1, n_devices=2, zero_stage=1)


def _base_call(qualname: str, target, overrides: dict, valid: dict) -> tuple:
    """(callable, args, kwargs) of a call that succeeds."""
    short = qualname.split(".")[-1]
    if isinstance(target, tuple):  # an instance method
        cls, attr = target
        fn = getattr(_instance(cls.__name__), attr)
        if qualname.endswith("CompiledExpr.natural"):
            return fn, (2.0,), {}
    else:
        fn = target
    if qualname in overrides:
        args, kwargs = overrides[qualname]
        return fn, tuple(args), dict(kwargs)
    if short in ("max_micro_batch", "max_seq_len", "min_zero_stage", "min_tp", "min_pp", "min_devices",
                 "max_d_model_in_memory", "max_n_layers_in_memory"):
        kw = dict(SOLVER_BASE)
        if short in ("max_micro_batch",):
            kw.pop("micro_batch")
        if short == "max_seq_len":
            kw.pop("seq_len")
        if short in ("min_tp", "min_pp", "min_devices"):
            kw.pop("n_devices")
        if short == "min_zero_stage":
            kw.pop("zero_stage")
        return fn, (10**9, _tiny()), kw
    kwargs = {}
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        if p.name not in valid or valid[p.name] is None:
            pytest.fail(f"{qualname}: no valid value known for parameter {p.name!r}; add it to _valid_by_name() "
                        "or a base call to _overrides() in tests/test_no_eval.py")
        kwargs[p.name] = valid[p.name]
    return fn, (), kwargs


@contextmanager
def _deadline(seconds: int):
    def fail(signum, frame):
        raise TimeoutError(f"took more than {seconds} s (a string repeated or evaluated?)")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _cases():
    targets = public_callables()
    return [pytest.param(name, id=name.replace("symcalc.", "")) for name in sorted(targets)]


def _call(fn, args, kwargs):
    with _deadline(60):
        return fn(*args, **kwargs)


def test_enumeration_finds_the_documented_entry_points():
    """The enumeration reaches the functions the issue names (so a renamed __all__ cannot hide them)."""
    names = {n.split(".")[-1] for n in public_callables()}
    for expected in ("kv_cache", "training_memory", "inference_memory", "activations", "layer_activations",
                     "zero_model_states", "max_micro_batch", "plan", "step_time", "compute_optimal", "derivative",
                     "latex", "evaluate", "scale", "leading_terms", "Model", "Precision", "training_time", "mfu",
                     "as_substitutions", "memory_grid", "compile_expr", "max_integer", "main"):
        assert expected in names, expected


@pytest.mark.parametrize("qualname", _cases())
def test_a_code_string_in_any_argument_is_never_run(qualname, tmp_path, monkeypatch):
    """Every argument of this callable, given a file-creating string: nothing runs; a one-line SymcalcError (or text kept as text)."""
    monkeypatch.chdir(tmp_path)  # text parameters such as a folder stay inside the test's own directory
    target = public_callables()[qualname]
    valid, overrides = _valid_by_name(), _overrides()
    fn, args, kwargs = _base_call(qualname, target, overrides, valid)
    _call(fn, args, kwargs)  # the base call is valid
    short = qualname.split(".")[-1]
    owner = qualname.split(".")[-2] if isinstance(target, tuple) else ""
    key = f"{owner}.{short}" if owner else short
    sig = inspect.signature(fn)
    tried = []
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            variants = [(args + (EVIL,), kwargs)]
        elif p.kind is p.VAR_KEYWORD:
            variants = [(args, {**kwargs, k: EVIL}) for k in FORWARDED.get(key, ()) + ("bogus_keyword",)]
        elif p.kind is p.POSITIONAL_ONLY or (args and list(sig.parameters).index(p.name) < len(args)):
            i = list(sig.parameters).index(p.name)
            variants = [(args[:i] + (EVIL,) + args[i + 1:], kwargs)]
        else:
            variants = [(args, {**kwargs, p.name: EVIL})]
        text = p.name in TEXT or f"{p.name}:{fn.__qualname__.split('.')[0]}" in TEXT
        for a, kw in variants:
            tried.append(p.name)
            try:
                _call(fn, a, kw)
            except SymcalcError as exc:
                assert "\n" not in str(exc), (qualname, p.name, str(exc))
            except Exception as exc:  # noqa: BLE001 - any other type is the failure this test is for
                pytest.fail(f"{qualname}({p.name}=<code string>) raised {type(exc).__name__}: {exc}"[:400])
            else:
                assert text, f"{qualname}({p.name}=<code string>) was accepted; it must be refused with a SymcalcError"
            assert not os.path.exists(MARK), f"{qualname}({p.name}=...) ran the string"
    assert tried or not sig.parameters
