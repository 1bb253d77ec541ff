"""symcalc: parameters, FLOPs and memory of decoder-only transformers as exact sympy expressions.

>>> import symcalc
>>> symcalc.params(symcalc.Model.preset("llama-2-7b")).total
6738415616

Only ``SymcalcError`` is imported with the package (no sympy: ``symcalc params|flops|mem --preset``
answer from generated code, :mod:`symcalc.cli._fast`); every other name in ``__all__``
(``Model``, ``Breakdown``, ``params``, ``symbols``, ``training_memory``, ``mfu``,
``training_time``, ``compute_optimal``, ``max_micro_batch``, ``min_devices``, ``memory_grid``,
``Precision``, ``Parallel``, the ``defaults`` table, ...) is imported on first use (PEP 562
``__getattr__``), so ``import symcalc`` and each CLI subcommand load only what they need.
``dir(symcalc)`` lists ``__all__`` (and ``__version__``), nothing else.
``symcalc.plan`` is the planner *function* (:func:`symcalc.plan.plan`) and ``symcalc.params`` the
parameter count (:func:`symcalc.params.params`), as they always were, even after ``import
symcalc.plan`` or ``import symcalc.params`` (which would otherwise rebind the name to the module).
"""

import importlib
import sys
from types import ModuleType

from .errors import SymcalcError

__version__ = "0.1.0"

#: Lazily imported names: name -> (module, attribute; None for the module itself).
_LAZY = {
    "Breakdown": (".breakdown", "Breakdown"),
    "Model": (".model", "Model"),
    **{name: (".params", name) for name in ("params", "active_params", "non_embedding_params")},
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
    import importlib.util

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


def _function_over_module(name: str, module: str):
    """A property keeping ``symcalc.<name>`` the function ``<module>.<name>`` when the submodule of that name is imported."""

    def get(self):
        value = self.__dict__.get(name)
        if value is None or isinstance(value, ModuleType):
            value = getattr(importlib.import_module(module, __name__), name)
        return value

    def set_(self, value):  # also receives the submodule when it is first imported
        self.__dict__[name] = value

    def delete(self):
        self.__dict__.pop(name, None)

    return property(get, set_, delete)


class _Package(ModuleType):
    """The ``symcalc`` module's type: keeps the names ``plan`` and ``params`` bound to their functions."""

    plan = _function_over_module("plan", ".plan")
    params = _function_over_module("params", ".params")


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
