"""symcalc: parameters, FLOPs and memory of decoder-only transformers as exact sympy expressions.

>>> import symcalc
>>> symcalc.params(symcalc.Model.preset("llama-2-7b")).total
6738415616
"""

from .breakdown import Breakdown
from .errors import SymcalcError
from .model import Model
from .params import active_params, non_embedding_params, params
from . import symbols
from .flops import decode_flops, forward_flops, generation_flops, prefill_flops, training_flops
from .memory import inference_memory, training_memory
from .plan import plan
from .render import latex
from . import scaling, sensitivity, solve

__version__ = "0.1.0"

__all__ = [
    "Breakdown", "Model", "SymcalcError", "symbols",
    "params", "active_params", "non_embedding_params",
    "forward_flops", "training_flops", "prefill_flops", "decode_flops", "generation_flops",
    "training_memory", "inference_memory",
    "plan",
    "latex", "scaling", "sensitivity", "solve",
]
