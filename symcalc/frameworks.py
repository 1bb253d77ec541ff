"""What each training framework allows: the planner's rules (``symcalc plan --framework``).

=============  ======================  ==================  ============  ==========================================
framework      ZeRO stages             with pipelines      interleaved   source
=============  ======================  ==================  ============  ==========================================
``megatron``   0, 1 (distributed       0, 1                yes           Megatron-LM ``--use-distributed-optimizer``
               optimizer)                                                (master weights and optimizer states
                                                                         sharded over DP: the ZeRO-1 partition);
                                                                         interleaved 1F1B needs the micro-batches
                                                                         to be a multiple of p (Narayanan et al.
                                                                         2021 §2.2.2; Megatron's assertion)
``deepspeed``  0, 1, 2, 3              0, 1                no            ``deepspeed/runtime/pipe/engine.py``
                                                                         asserts "ZeRO-2 and ZeRO-3 are
                                                                         incompatible with pipeline parallelism";
                                                                         its pipeline engine runs plain 1F1B
``fsdp``       0 (DDP), 2, 3           0, 2                yes           FSDP2: full shard (ZeRO 3), shard
               (FSDP2 full/grad-op                                       gradients and optimizer states only
               shard)                                                    (ZeRO 2); with pipelines TorchTitan keeps
                                                                         parameters unsharded through the step
                                                                         (``reshard_after_forward=False``: ZeRO 2);
                                                                         ``ScheduleInterleaved1F1B``
``any``        0, 1, 2, 3              0, 1, 2, 3          yes           no framework's rules
=============  ======================  ==================  ============  ==========================================

Every framework here runs Megatron-style tensor parallelism (Megatron-DeepSpeed, DTensor TP in
FSDP2) with sequence parallelism; TP stays inside a scale-up domain (``max_tp``, the node size).

Pipeline stages: p divides the layers, or the first and last stages hold one layer fewer
(Megatron-core's uneven first/last stages; Llama 3 405B puts 126 layers on 16 stages of 8 with
7 at each end): ``(L + k) % p == 0`` for k = 1 (p ≥ 2) or k = 2 (p ≥ 3), each stage then
``(L + k)/p`` layers at most. Interleaving splits a rank's layers into v model chunks: v ≥ 2
needs p ≥ 2, ``(L + k) % (p·v) == 0`` and, for Megatron, m = B/(b·d) a multiple of p.

>>> FRAMEWORKS["deepspeed"].stages(pipelined=True), FRAMEWORKS["fsdp"].stages(pipelined=False)
((0, 1), (0, 2, 3))
>>> stage_layers(126, 16)       # Llama 3 405B: 16 stages of at most 8 layers
8
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Optional

from .errors import SymcalcError

# No sympy here (nor symcalc.inputs at import): the sympy-free ``symcalc plan`` path (symcalc.cli._fast_plan)
# enumerates its candidates with this module's own code.

__all__ = ["Framework", "FRAMEWORKS", "NAMES", "get_framework", "stage_layers", "virtual_stages", "layouts",
           "divisors"]


@dataclass(frozen=True)
class Framework:
    """One framework's rules: the ZeRO stages it offers, with and without pipelines, and interleaving."""

    name: str
    zero_stages: tuple
    zero_with_pp: tuple
    interleaved: bool
    microbatches_multiple_of_pp: bool
    summary: str

    def __post_init__(self) -> None:
        for key in ("name", "summary"):
            if not isinstance(getattr(self, key), str) or not getattr(self, key).strip():
                raise SymcalcError(f"Framework.{key}={getattr(self, key)!r:.60} is not a non-empty string")
        for key in ("zero_stages", "zero_with_pp"):
            value = getattr(self, key)
            if not isinstance(value, tuple) or not value or not all(z in (0, 1, 2, 3) and not isinstance(z, bool)
                                                                    for z in value):
                raise SymcalcError(f"Framework.{key}={value!r:.60} is not a tuple of ZeRO stages 0-3")
        for key in ("interleaved", "microbatches_multiple_of_pp"):
            if not isinstance(getattr(self, key), bool):
                raise SymcalcError(f"Framework.{key}={getattr(self, key)!r:.60} is not True or False")

    def stages(self, *, pipelined: bool) -> tuple:
        """The ZeRO stages allowed with (``pipelined``) or without pipeline parallelism."""
        from .inputs import as_bool

        return self.zero_with_pp if as_bool("pipelined", pipelined) else self.zero_stages


#: The planner's frameworks by name (``symcalc plan --framework``): what each allows.
FRAMEWORKS = {
    "megatron": Framework("megatron", (0, 1), (0, 1), True, True,
                          "Megatron-LM/Megatron-core: TP + SP, PP with interleaving, distributed optimizer (ZeRO 1)"),
    "deepspeed": Framework("deepspeed", (0, 1, 2, 3), (0, 1), False, False,
                           "DeepSpeed: ZeRO 0-3; its pipeline engine takes ZeRO <= 1 and runs plain 1F1B"),
    "fsdp": Framework("fsdp", (0, 2, 3), (0, 2), True, False,
                      "PyTorch FSDP2 (TorchTitan): full shard or grad-op shard; with PP parameters stay unsharded "
                      "through the step"),
    "any": Framework("any", (0, 1, 2, 3), (0, 1, 2, 3), True, False, "no framework's rules: every combination"),
}
#: The framework names, in the order ``--framework`` lists them.
NAMES = tuple(FRAMEWORKS)


def get_framework(name: Optional[str] = None) -> Framework:
    """The rules of ``name`` (None: the active default of :mod:`symcalc.defaults`, Megatron today)."""
    from .defaults import resolve
    from .inputs import as_choice

    return FRAMEWORKS[as_choice("framework", resolve("framework", name), NAMES)]


def _uneven(layers: int, p: int) -> Optional[int]:
    """k in {0, 1, 2}: the layers the two end stages give up so that p stages split L evenly; None if none."""
    for k in (0, 1, 2):
        if (layers + k) % p == 0 and (k == 0 or p >= k + 1):
            return k
    return None


def stage_layers(layers: int, p: int) -> int:
    """The most layers one of p stages holds: L/p, or (L + k)/p with one layer fewer at each end."""
    from .inputs import as_int

    layers, p = as_int("n_layers", layers), as_int("pp", p)
    k = _uneven(layers, p)
    if k is None:
        raise SymcalcError(f"pp={p} does not split n_layers={layers} into stages (even, or one layer fewer at the "
                           "first and last stage); pick a pipeline size dividing the layers")
    return (layers + k) // p


def virtual_stages(layers: int, p: int, m: int, framework: Framework, max_v: int) -> list[int]:
    """Model chunks per pipeline rank v the framework allows (1 always; interleaving where it applies).

    >>> virtual_stages(126, 16, 16, FRAMEWORKS["megatron"], 8), virtual_stages(126, 16, 12, FRAMEWORKS["megatron"], 8)
    ([1, 2, 4, 8], [1])
    """
    from .inputs import as_int

    if not isinstance(framework, Framework):
        raise SymcalcError(f"framework={framework!r:.60} is not a Framework; use FRAMEWORKS[name] or get_framework(name)")
    layers, p, m, max_v = as_int("n_layers", layers), as_int("pp", p), as_int("m", m), as_int("max_v", max_v)
    if p < 2 or not framework.interleaved or (framework.microbatches_multiple_of_pp and m % p):
        return [1]
    return _chunks(stage_layers(layers, p), max_v)


@lru_cache(maxsize=1024)
def _chunks(per_stage: int, max_v: int) -> list[int]:
    return [v for v in range(1, min(per_stage, max_v) + 1) if per_stage % v == 0]


def layouts(layers: int, heads: int, kv_heads: int, experts: int, n: int, batch: int, max_tp: int,
            max_b: int) -> Iterator[tuple]:  # validates now, yields lazily
    """(t, p, d, e, micro-batches b) for every valid combination of degrees (the planner's candidates).

    t divides the heads and n (and t | g or g | t), t <= ``max_tp``; p splits the layers
    (:func:`stage_layers`); e (MoE only, ``experts > 0``) divides the experts and d; b·d divides B.
    """
    from .inputs import as_int

    layers, heads, kv_heads, n, batch, max_tp, max_b = (
        as_int(k, v) for k, v in (("n_layers", layers), ("n_heads", heads), ("n_kv_heads", kv_heads),
                                  ("n_devices", n), ("global_batch", batch), ("max_tp", max_tp),
                                  ("max_micro_batch", max_b)))
    experts = as_int("n_experts", experts, minimum=0)
    return _layouts(layers, heads, kv_heads, experts, n, batch, max_tp, max_b)


def _layouts(layers: int, heads: int, kv_heads: int, experts: int, n: int, batch: int, max_tp: int,
             max_b: int) -> Iterator[tuple]:
    for t in _divisors(n):
        if t > max_tp or heads % t or (kv_heads % t and t % kv_heads):
            continue
        for p in _divisors(n // t):
            if p > layers or _uneven(layers, p) is None:
                continue
            d = n // (t * p)
            if batch % d:
                continue
            bs = [b for b in _divisors(batch // d) if b <= max_b]
            eps = [e for e in _divisors(d) if experts % e == 0] if experts else [1]
            for e in eps:
                yield t, p, d, e, bs


def divisors(n: int) -> list[int]:
    """The divisors of a positive int, ascending (from its prime factorisation: a global batch can be in the
    millions).

    >>> divisors(12), divisors(1), divisors(2**13 * 3**2 * 5 * 7)[-3:]
    ([1, 2, 3, 4, 6, 12], [1], [860160, 1290240, 2580480])
    """
    from .inputs import as_int

    return list(_divisors(as_int("n", n)))


@lru_cache(maxsize=4096)
def _divisors(n: int) -> tuple:
    out, rest, f = [1], n, 2
    while f * f <= rest:
        k = 0
        while rest % f == 0:
            rest //= f
            k += 1
        if k:
            out = [x * f**i for x in out for i in range(k + 1)]
        f += 1 if f == 2 else 2
    if rest > 1:
        out = [x * m for x in out for m in (1, rest)]
    return tuple(sorted(out))


def _candidate_layouts(layers: int, heads: int, kv_heads: int, experts: int, n: int, batch: int, fw: Framework,
                      max_tp: int, max_b: int, max_v: int, stages: Optional[tuple]) -> Iterator[tuple]:
    """(t, p, d, e, b, v, ZeRO stages, layers of the fullest stage) of every layout the planner considers
    (:func:`symcalc.plan.candidates`), for checked ints."""
    for t, p, d, e, bs in _layouts(layers, heads, kv_heads, experts, n, batch, max_tp, max_b):
        allowed = fw.zero_with_pp if p > 1 else fw.zero_stages
        zs = allowed if stages is None else tuple(z for z in stages if z in allowed)
        if d == 1:
            zs = zs[:1]  # ZeRO shards nothing over one data-parallel rank: keep the lowest stage
        if not zs:
            continue
        k = _uneven(layers, p)
        per_stage = (layers + k) // p
        chunks = _chunks(per_stage, max_v) if p > 1 and fw.interleaved else [1]
        for b in bs:
            m = batch // (b * d)
            # as virtual_stages, per p once: Megatron interleaves only when p divides m
            for v in (chunks if not (fw.microbatches_multiple_of_pp and m % p) else [1]):
                yield t, p, d, e, b, v, zs, per_stage
