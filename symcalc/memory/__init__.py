"""Memory per device as exact expressions: training and inference, under TP/PP/DP/EP/CP and ZeRO.

Conventions (stated once for the package):

- Every result is a :class:`~symcalc.breakdown.Breakdown` with unit ``"bytes"``, per device;
  its parts sum to the total. Printed in GiB (2^30) and labelled; the ZeRO paper's "GB" are 10^9.
- Bytes per value are explicit (:class:`Precision`; symbols ``bytes_weight``, ``bytes_grad``,
  ``bytes_master``, ``bytes_optim``, ``bytes_act``, ``bytes_kv`` when left symbolic).
- Devices ``n = t·p·d·c``; ZeRO shards over the data-parallel group ``d = n/(t·p·c)`` only,
  expert weights over ``d/e``; see :mod:`symcalc.memory.parallel` for what each degree shards
  and which pipeline stage is reported.
- Discrete settings (ZeRO stage, recompute, precision recipe, optimizer, activation profile)
  are keyword options; the ZeRO stage may be the symbol ``zero_stage`` (a Piecewise in z).

>>> from symcalc import Model
>>> from symcalc.memory import training_memory
>>> m = Model.preset("llama-2-7b")
>>> mem = training_memory(m, seq_len=4096, micro_batch=1, n_devices=8, tp=2, zero_stage=1,
...                       recompute="selective", sequence_parallel=True)
>>> round(float(mem.total) / 2**30, 2)
37.89
"""

from .activations import PROFILES, RECOMPUTE, activations, layer_activations
from .inference import inference_memory, kv_cache, weight_bytes
from .parallel import SYMBOLIC, Parallel, local_kv_heads
from .offload import OFFLOAD_DEVICES, Offload
from .placement import deepspeed_estimate, largest_module_params, placed_states
from .sharding import Sharding
from .states import (
    OPTIMIZERS, RECIPES, WEIGHT_DTYPES, Precision, adafactor_state_elements, master_bytes, optimizer_bytes,
    precision_recipe, zero_model_states, zero_shard,
)
from .storage import Storage
from .training import PARTS, communication_buffers, host_memory, model_states, training_memory

__all__ = [
    "training_memory", "inference_memory", "model_states", "zero_model_states", "activations",
    "layer_activations", "kv_cache", "communication_buffers", "Parallel", "Precision", "SYMBOLIC",
    "RECIPES", "OPTIMIZERS", "WEIGHT_DTYPES", "PROFILES", "RECOMPUTE", "PARTS", "optimizer_bytes",
    "adafactor_state_elements", "precision_recipe", "weight_bytes", "local_kv_heads", "zero_shard",
    "host_memory", "placed_states", "deepspeed_estimate", "largest_module_params", "master_bytes", "Offload",
    "OFFLOAD_DEVICES", "Sharding", "Storage",
]
