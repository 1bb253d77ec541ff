"""Training memory per device: model states, activations, communication buffers, a constant.

:func:`training_memory` is the one expression solvers and planners use. Its continuous inputs
are the model sizes, ``seq_len``, ``micro_batch`` and the parallel degrees (numbers or symbols,
:data:`~symcalc.memory.parallel.SYMBOLIC`); its discrete settings are keyword options:
``zero_stage`` (0-3, or the symbol z: Piecewise in z), ``recompute``, ``precision``,
``optimizer``, ``profile``, ``flash_attention``, ``dropout``, ``sequence_parallel``. Substitute
the discrete settings first and the total is a rational function of the rest.
"""

from __future__ import annotations

from typing import Any, Optional, Union

from sympy import And, Expr, Integer, Max, Min, Piecewise

from .. import symbols as S
from ..breakdown import Breakdown
from ..inputs import as_amount, as_count, as_model, as_size
from .activations import activations, layer_activations
from .parallel import Parallel, as_parallel as _parallel, check_amounts
from .states import Precision, check_zero_stage, precision_recipe

__all__ = ["model_states", "communication_buffers", "training_memory", "host_memory", "PARTS"]

#: The top-level parts of :func:`training_memory` and :func:`~symcalc.memory.inference_memory`.
PARTS = ("weights", "gradients", "optimizer", "activations", "kv_cache", "communication", "misc")


def model_states(
    model,
    *,
    parallel: Optional[Parallel] = None,
    zero_stage: Any = None,
    precision: Union[str, Precision, None] = None,
    optimizer: Any = None,
    adapter: Any = None,
    freeze: Any = None,
    storage: Any = None,
    offload: Any = None,
    sharding: Any = None,
    **degrees: Any,
) -> Breakdown:
    """Weights, gradients and optimizer states per device on the GPU, by parameter part.

    .. math::

        \\beta_w \\frac{N_i}{[z \\ge 3]\\,d} + \\beta_g \\frac{T_i}{[z \\ge 2]\\,d}
        + (\\beta_m + \\beta_o) \\frac{T_i}{[z \\ge 1]\\,d}

    summed over the parts i of :func:`symcalc.params`, each ``N_i`` divided by exactly the
    degrees that shard it (see :mod:`symcalc.memory.parallel`); ``T_i`` is its trainable share
    (all of it unless ``freeze`` or an ``adapter`` freezes it); expert weights shard over the
    expert-data-parallel group ``d/e`` instead of d. Parts are ``weights/<part>``,
    ``gradients/<part>``, ``optimizer/<part>``; an adapter adds its own (``lora/<matrix>``),
    ``storage`` stores the frozen linears quantized, ``offload`` moves states off the GPU
    (:func:`host_memory` has them) and ``sharding`` changes the ZeRO group. The terms are built
    in one place, :mod:`symcalc.memory.placement`.

    ``degrees`` are ``tp, pp, dp, ep, cp, sequence_parallel, n_devices`` (see
    :class:`~symcalc.memory.parallel.Parallel`), or pass ``parallel=``. ``zero_stage``,
    ``precision`` and ``optimizer`` left at ``None`` take the active defaults
    (:mod:`symcalc.defaults`: ZeRO 1, bf16 weights with fp32 gradients and master copy, AdamW).

    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=2, d_ff=32, vocab=10)
    >>> model_states(m, zero_stage=0).grouped().as_ints()
    {'weights': 3552, 'gradients': 7104, 'optimizer': 21312}
    >>> model_states(m, zero_stage=0, optimizer="none").grouped().as_ints()
    {'weights': 3552, 'gradients': 7104, 'optimizer': 0}
    """
    from ..defaults import resolve
    from .placement import placed_states

    model = as_model("model", model)
    zero_stage = resolve("zero_stage", zero_stage)
    par = _parallel(parallel, degrees)
    return placed_states(model, par, zero_stage=zero_stage, precision=precision, optimizer=optimizer,
                         adapter=adapter, freeze=freeze, storage=storage, offload=offload, sharding=sharding)["gpu"]


def communication_buffers(
    *,
    zero_stage: Any,
    dp: Any,
    bytes_weight: Any,
    allgather_bucket: Any = 0,
    max_live_params: Any = 0,
) -> Breakdown:
    """DeepSpeed's ZeRO buffers: the all-gather bucket (ZeRO >= 1) and ZeRO-3's live parameters.

    .. math::

        \\beta_w \\left([z \\ge 1] \\cdot \\text{bucket} + [z = 3] \\cdot \\text{live}\\right)
        \\quad \\text{only when } d > 1

    ``allgather_bucket`` is DeepSpeed's ``allgather_bucket_size`` (elements, 5e8 by default in
    DeepSpeed and the cookbook); ``max_live_params`` is ``stage3_max_live_parameters`` (1e9).
    With one data-parallel rank nothing is sharded and no buffer is charged. Both conditions are
    in the expression: with z or d symbolic the parts are ``Piecewise`` in ``z >= 1`` (``z >= 3``)
    and ``d > 1``, so substituting d = 1 gives 0, as the numeric call does.

    >>> communication_buffers(zero_stage=1, dp=1, bytes_weight=2, allgather_bucket=500_000_000).total
    0
    >>> communication_buffers(zero_stage=3, dp=8, bytes_weight=2, allgather_bucket=5, max_live_params=10).total
    30
    >>> from symcalc.symbols import dp
    >>> communication_buffers(zero_stage=1, dp=dp, bytes_weight=2, allgather_bucket=5)["allgather_bucket"]
    Piecewise((10, dp > 1), (0, True))
    """
    z = check_zero_stage(zero_stage)
    d = as_size("dp", dp)
    bw = as_amount("bytes_weight", bytes_weight)
    bucket = as_count("allgather_bucket", allgather_bucket) * bw
    live = as_count("max_live_params", max_live_params) * bw
    sharded = d > 1
    parts = {"allgather_bucket": Piecewise((bucket, And(z >= 1, sharded)), (0, True)),
             "zero3_live_params": Piecewise((live, And(z >= 3, sharded)), (0, True))}
    return Breakdown(parts, unit="bytes", title="communication buffers")


def training_memory(
    model,
    *,
    seq_len: Any = S.seq_len,
    micro_batch: Any = S.micro_batch,
    parallel: Optional[Parallel] = None,
    zero_stage: Any = None,
    precision: Union[str, Precision, None] = None,
    optimizer: Any = None,
    recompute: Optional[str] = None,
    profile: Optional[str] = None,
    flash_attention: Optional[bool] = None,
    dropout: Any = None,
    allgather_bucket: Any = None,
    max_live_params: Any = None,
    misc_bytes: Any = None,
    adapter: Any = None,
    freeze: Any = None,
    storage: Any = None,
    offload: Any = None,
    sharding: Any = None,
    **degrees: Any,
) -> Breakdown:
    """Bytes per device (on the GPU) for training, by part; ``.grouped()`` gives the parts of :data:`PARTS`.

    .. math::

        M = \\underbrace{W + G + O}_{\\text{model states}} + A + B_{\\text{comm}} + M_{\\text{misc}}

    Parameters
    ----------
    model : Model
    seq_len, micro_batch : expression
        s [tokens] and b [sequences per device].
    parallel : Parallel, or the degrees as keywords
        ``tp, pp, dp, ep, cp, sequence_parallel, n_devices``.
    zero_stage : 0-3 or the symbol ``zero_stage``
    precision : recipe name or :class:`~symcalc.memory.states.Precision`
    optimizer : see :func:`~symcalc.memory.states.optimizer_bytes`
    recompute, profile, flash_attention, dropout : see :func:`~symcalc.memory.activations.layer_activations`
    allgather_bucket, max_live_params : elements of DeepSpeed's ZeRO buffers (0: none)
    misc_bytes : constant overhead per device [bytes] (cookbook ``--misc-mem-gib`` times 2^30)
    adapter : :class:`~symcalc.finetune.LoRA`, optional
        Train a LoRA/DoRA adapter; the base is frozen.
    freeze : :class:`~symcalc.finetune.Freeze`, optional
        Parts that get no gradient or optimizer state (full fine-tuning of the rest).
    storage : :class:`~symcalc.memory.storage.Storage` or a format name, optional
        How the frozen linears are stored (``"nf4"`` for QLoRA); 16-bit by default.
    offload : :class:`~symcalc.memory.offload.Offload`, optional
        States (and activations) kept in CPU memory or on NVMe; see :func:`host_memory`.
    sharding : :class:`~symcalc.memory.sharding.Sharding`, optional
        Hybrid sharding group g_s, ZeRO++ secondary partition.

    Notes
    -----
    Every setting left at ``None`` takes the active default of :mod:`symcalc.defaults` (today:
    ZeRO 1, bf16 weights and activations with fp32 gradients, master copy and AdamW moments, no
    recompute (on a quantized base, as QLoRA: full, peft's gradient checkpointing; see
    :func:`~symcalc.defaults.recompute_for`), flash attention, dropout only where the model has it,
    sequence parallelism when t > 1, no DeepSpeed buffers); ``with symcalc.defaults.using("cookbook"):`` gives the cookbook's.

    Examples
    --------
    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=2, d_ff=32, vocab=10)
    >>> mem = training_memory(m, seq_len=4, micro_batch=1, zero_stage=1, dp=2)
    >>> mem.grouped().as_ints()
    {'weights': 3552, 'gradients': 7104, 'optimizer': 10656, 'activations': 2400, 'communication': 0, 'misc': 0}

    References
    ----------
    Rajbhandari et al. 2020 (ZeRO), Section 5; Korthikanti et al. 2022, Table 2.
    """
    from ..defaults import recompute_for, resolve

    model = as_model("model", model)
    par = _parallel(parallel, degrees)
    zero_stage = resolve("zero_stage", zero_stage)
    allgather_bucket = resolve("allgather_bucket", allgather_bucket)
    max_live_params = resolve("max_live_params", max_live_params)
    misc_bytes = resolve("misc_bytes", misc_bytes)
    n = check_amounts(seq_len=seq_len, micro_batch=micro_batch, allgather_bucket=allgather_bucket,
                      max_live_params=max_live_params, misc_bytes=misc_bytes)
    seq_len, micro_batch, misc_bytes = n["seq_len"], n["micro_batch"], n["misc_bytes"]
    allgather_bucket, max_live_params = n["allgather_bucket"], n["max_live_params"]
    prec = precision_recipe(precision)
    states = model_states(model, parallel=par, zero_stage=zero_stage, precision=prec, optimizer=optimizer,
                          adapter=adapter, freeze=freeze, storage=storage, offload=offload, sharding=sharding)
    act, _ = _activations(model, par, seq_len, micro_batch, prec, recompute=recompute_for(recompute, storage=storage),
                          profile=profile, flash_attention=flash_attention, dropout=dropout, offload=offload,
                          adapter=adapter, freeze=freeze)
    comm = communication_buffers(zero_stage=zero_stage, dp=par.dp, bytes_weight=prec.weight,
                                 allgather_bucket=allgather_bucket, max_live_params=max_live_params)
    parts = dict(states.items())
    parts.update(act.prefixed("activations").items())
    parts.update(comm.prefixed("communication").items())
    parts["misc"] = misc_bytes
    title = "training memory per device" + (f" - {model.name}" if model.name else "")
    return Breakdown(parts, unit="bytes", title=title)


def _activations(model, par: Parallel, seq_len: Expr, micro_batch: Expr, prec: Precision, *, recompute: str,
                 profile: str, flash_attention: bool, dropout: bool, offload: Any, adapter: Any = None,
                 freeze: Any = None) -> tuple[Breakdown, Expr]:
    """(activations on the GPU, activation bytes offloaded to the CPU) per device.

    With activations offloaded the GPU keeps one layer's worth (the larger of a dense and an MoE
    layer) besides the embedding and output tensors; the other layers' go to host memory.
    """
    from ..finetune.flow import grad_flow
    from .placement import as_offload

    kw = dict(seq_len=seq_len, micro_batch=micro_batch, bytes_act=prec.act, tp=par.tp, cp=par.cp,
              sequence_parallel=par.sequence_parallel, recompute=recompute, flash_attention=flash_attention,
              dropout=dropout, profile=profile, flow=grad_flow(model, adapter=adapter, freeze=freeze))
    act = activations(model, pp=par.pp, **kw)
    if as_offload(offload).activations == "none":
        return act, Integer(0)
    layers = ("layers/dense", "layers/moe")
    in_layers = sum((act[k] for k in layers if k in act), Integer(0))
    # the GPU keeps the largest one layer's tensors (none when no layer saves any)
    sizes = [Piecewise((layer_activations(model, moe_layer=moe, **kw).total, n > 0), (0, True))
             for moe, n in ((False, model.n_dense_layers), (True, model.n_moe_layers)) if n != 0]
    one = Min(Max(*sizes) if len(sizes) > 1 else sizes[0], in_layers)
    on_host = in_layers - one
    parts = {k: v for k, v in act.items() if k not in layers}
    parts = {"layers/one_layer": one, **parts}
    return Breakdown(parts, unit="bytes", title=act.title), on_host


def host_memory(
    model,
    *,
    seq_len: Any = S.seq_len,
    micro_batch: Any = S.micro_batch,
    parallel: Optional[Parallel] = None,
    zero_stage: Any = None,
    precision: Union[str, Precision, None] = None,
    optimizer: Any = None,
    recompute: Optional[str] = None,
    profile: Optional[str] = None,
    flash_attention: Optional[bool] = None,
    dropout: Optional[bool] = None,
    adapter: Any = None,
    freeze: Any = None,
    storage: Any = None,
    offload: Any = None,
    sharding: Any = None,
    devices_per_node: Any = None,
    **degrees: Any,
) -> Breakdown:
    """CPU memory and NVMe per node that offloading uses, by part: ``cpu/<state>/<part>``, ``nvme/...``.

    The same terms as :func:`training_memory` (same arguments), for what ``offload`` moves off the
    GPU, times the devices on a node (``devices_per_node``: default ``min(n, 8)``, the symbol
    ``devices_per_node`` for a symbolic n). ``.grouped()`` gives ``{"cpu": ..., "nvme": ...}``.
    Zero everywhere without offload. Settings left at ``None`` take the active defaults.

    >>> from symcalc import Model
    >>> from symcalc.memory import Offload
    >>> m = Model.preset("llama-2-7b")
    >>> host = host_memory(m, seq_len=4096, micro_batch=1, n_devices=8, zero_stage=2,
    ...                    precision="mixed-fp32-grads", offload=Offload(optimizer="cpu"))
    >>> round(float(host.grouped()["cpu"]) / 2**30, 2)  # 16 bytes x 6.74B on one node: fp32 grads, master, Adam
    100.41
    """
    from .offload import devices_per_node_default
    from .placement import placed_states

    from ..defaults import recompute_for, resolve

    model = as_model("model", model)
    par = _parallel(parallel, degrees)
    zero_stage = resolve("zero_stage", zero_stage)
    n = check_amounts(seq_len=seq_len, micro_batch=micro_batch)
    prec = precision_recipe(precision)
    states = placed_states(model, par, zero_stage=zero_stage, precision=prec, optimizer=optimizer, adapter=adapter,
                           freeze=freeze, storage=storage, offload=offload, sharding=sharding)
    _, act_host = _activations(model, par, n["seq_len"], n["micro_batch"], prec,
                               recompute=recompute_for(recompute, storage=storage),
                               profile=profile, flash_attention=flash_attention, dropout=dropout, offload=offload,
                               adapter=adapter, freeze=freeze)
    k = devices_per_node_default(par.n_devices, devices_per_node)
    parts = {"cpu/" + name: value * k for name, value in states["cpu"].items()}
    if act_host != 0:
        parts["cpu/activations"] = act_host * k
    parts.update({"nvme/" + name: value * k for name, value in states["nvme"].items()})
    if not parts:
        parts = {"cpu": Integer(0), "nvme": Integer(0)}
    title = "host memory per node" + (f" - {model.name}" if model.name else "")
    return Breakdown(parts, unit="bytes", title=title)
