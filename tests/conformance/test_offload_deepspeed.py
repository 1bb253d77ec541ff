"""DeepSpeed's "live" estimator tables, with the parameter counts of the real T5 models (meta device).

DeepSpeed's ``estimate_zero{2,3}_model_states_mem_needs_all_live(model, ...)`` counts
``total_params`` (shared tensors once) and ``largest_layer_params`` (the largest module's own
parameters) of the loaded model, then prints per-CPU and per-GPU GiB ("GB", 2 decimals). The
counts here come from the same transformers models built from their configs on the meta device
(DeepSpeed need not be installed); symcalc's :func:`deepspeed_estimate` does the rest. Published
outputs: DeepSpeed's docs/code-docs/source/memory.rst (t5-3b, 1 node x 8 GPUs).
"""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from symcalc.memory import deepspeed_estimate  # noqa: E402

pytestmark = pytest.mark.conformance

T5_3B = dict(d_model=1024, d_ff=16384, num_layers=24, num_heads=32, d_kv=128, vocab_size=32128)


def live_counts(cfg) -> tuple[int, int]:
    """(total_params, largest_layer_params) as DeepSpeed's live estimators count them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.device("meta"):
            model = transformers.AutoModel.from_config(cfg)
    total = sum(dict((id(p), p.numel()) for p in model.parameters()).values())
    largest = max(sum(p.numel() for p in m.parameters(recurse=False)) for m in model.modules())
    return total, largest


def _gib(x) -> float:
    return round(float(x) / 2**30, 2)


def test_t5_3b_live_tables():
    """t5-3b on 1 node x 8 GPUs: the ZeRO-3 rows and the ZeRO-2 offload row of DeepSpeed's live tables."""
    total, largest = live_counts(transformers.T5Config(**T5_3B))
    assert (total // 10**6, largest // 10**6) == (2851, 32)  # "2851M total params, 32M largest layer params"
    zero3 = {  # (offload optimizer, offload params, zero.Init) -> (per CPU, per GPU)
        (True, True, True): (71.71, 0.12), (True, True, False): (127.48, 0.12),
        (True, False, True): (63.74, 0.79), (True, False, False): (127.48, 0.79),
        (False, False, True): (1.47, 6.10), (False, False, False): (127.48, 6.10),
    }
    for (opt, par, init), printed in zero3.items():
        est = deepspeed_estimate(total, largest, zero_stage=3, devices_per_node=8, offload_optimizer=opt,
                                 offload_params=par, zero_init=init)
        assert (_gib(est["cpu_per_node"]), _gib(est["gpu_per_device"])) == printed, (opt, par, init)
    est = deepspeed_estimate(total, largest, zero_stage=2, devices_per_node=8, offload_optimizer=True,
                             offload_params=False, zero_init=False)
    assert (_gib(est["cpu_per_node"]), _gib(est["gpu_per_device"])) == (127.48, 5.31)
