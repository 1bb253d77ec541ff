"""symcalc: parameters, FLOPs and memory of decoder-only transformers as exact sympy expressions.

>>> import symcalc
>>> symcalc.params(symcalc.Model.preset("llama-2-7b")).total
6738415616

Only the core (``Breakdown``, ``Model``, ``SymcalcError``, ``symbols``, the parameter counts) is
imported with the package; every other name in ``__all__`` (``training_memory``, ``mfu``,
``training_time``, ``compute_optimal``, ``max_micro_batch``, ``min_devices``, ``memory_grid``,
``Precision``, ``Parallel``, the ``defaults`` table, ...) is imported on first use (PEP 562
``__getattr__``), so ``import symcalc`` and each CLI subcommand load only what they need.
``dir(symcalc)`` lists ``__all__`` (and ``__version__``), nothing else.
``symcalc.plan`` is the planner *function* (:func:`symcalc.plan.plan`), as it always was, even
after ``import symcalc.plan`` (which would otherwise rebind the name to the module).
"""

import importlib
import importlib.util
import sys
from types import ModuleType

from .breakdown import Breakdown
from .errors import SymcalcError
from .model import Model
from .params import active_params, non_embedding_params, params
from . import symbols

__version__ = "0.1.0"

#: Lazily imported names: name -> (module, attribute; None for the module itself).
_LAZY = {
    **{name: (".flops", name) for name in ("forward_flops", "training_flops", "prefill_flops",
                                           "decode_flops", "generation_flops")},
    "training_memory": (".memory", "training_memory"),
    "inference_memory": (".memory", "inference_memory"),
    "latex": (".render", "latex"),
    "mfu": (".flops", "mfu"),
    "training_time": (".flops", "training_time"),
    "compute_optimal": (".scaling", "compute_optimal"),
    "max_micro_batch": (".solve", "max_micro_batch"),
    "min_devices": (".solve", "min_devices"),
    "memory_grid": (".sweep", "memory_grid"),
    "Precision": (".memory", "Precision"),
    "Parallel": (".memory", "Parallel"),
    "defaults": (".defaults", None),
    "scaling": (".scaling", None),
    "sensitivity": (".sensitivity", None),
    "solve": (".solve", None),
}


def __getattr__(name: str):
    """Import a name of ``__all__`` (or a submodule, as ``symcalc.memory``) on first use."""
    module, attr = _LAZY.get(name, ("." + name, None))
    if name.startswith("_") or importlib.util.find_spec(__name__ + module) is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = importlib.import_module(module, __name__)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__():
    """The public names only (``__all__`` and ``__version__``): no helper modules or imports."""
    return sorted(set(__all__) | {"__version__"})


class _Package(ModuleType):
    """The ``symcalc`` module's type: keeps the name ``plan`` bound to the planner function."""

    @property
    def plan(self):
        value = self.__dict__.get("plan")
        if value is None or isinstance(value, ModuleType):
            from .plan import plan as value
        return value

    @plan.setter
    def plan(self, value):  # also receives the submodule when ``symcalc.plan`` is first imported
        self.__dict__["plan"] = value

    @plan.deleter
    def plan(self):
        self.__dict__.pop("plan", None)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "Breakdown", "Model", "SymcalcError", "symbols",
    "params", "active_params", "non_embedding_params",
    "forward_flops", "training_flops", "prefill_flops", "decode_flops", "generation_flops",
    "training_memory", "inference_memory", "Precision", "Parallel", "memory_grid",
    "mfu", "training_time", "compute_optimal", "max_micro_batch", "min_devices",
    "plan",
    "latex", "defaults", "scaling", "sensitivity", "solve", "serving",
]
