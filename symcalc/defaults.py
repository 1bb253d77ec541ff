"""Every default setting, in one table, each with its source; the library and every subcommand read it.

A question that does not state a setting (the precision recipe, the ZeRO stage, whether attention
keeps its s² scores, dropout, the sequence length of a CLI question, ...) gets it from the
*active set* here, so the same question asked through the library, ``symcalc mem``, ``flops``,
``solve``, ``plan`` or ``latex`` gets the same number. Two sets ship:

``"today"`` (active unless switched)
    what current training and serving stacks do: Megatron-core's bf16 recipe (bf16 weights and
    activations, fp32 gradients, fp32 master weights and AdamW moments: 18 bytes per parameter)
    with its distributed optimizer (ZeRO 1) and sequence parallelism, flash/SDPA attention (no s²
    scores kept), no dropout unless the model has it, 8K sequences, model FLOPs without
    recomputation, MFU 40 %.
``"cookbook"``
    the EleutherAI cookbook calculators' defaults: eager attention with Korthikanti et al.'s
    dropout masks, DeepSpeed's ZeRO buffers, 2048-token sequences, one full recompute in
    ``calc_transformer_flops.py`` and its 128-expert MoE.

Switch with ``--cookbook`` on any subcommand, or in the library:

>>> from symcalc import defaults
>>> defaults.active().name, defaults.active().seq_len
('today', 8192)
>>> with defaults.using("cookbook"):
...     defaults.active().flash_attention, defaults.active().seq_len
(False, 2048)
>>> defaults.active().source("precision")[:38]
'Megatron-core distributed optimizer gu'

``defaults.use("cookbook")`` switches until switched back (it returns the set it replaced);
``defaults.active().replace(seq_len=4096)`` makes a set of your own to ``use``. Library
functions take ``None`` for "the active default" (``training_memory(m, zero_stage=None)``); a value
given always wins.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional, Union

from sympy import Integer, Rational

from .errors import SymcalcError
from .inputs import as_expr, as_text

#: A default's text value is a choice word ("adamw", "mixed-fp32-grads"), never an expression.
_WORD = re.compile(r"^[A-Za-z0-9_.+-]{1,40}$")


def _check_value(name: str, value: Any) -> Any:
    """A default's value: a flag, a choice word, or an exact number (through :mod:`symcalc.inputs`)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if not _WORD.match(value):
            raise SymcalcError(f"{name}={value!r:.60} is not a setting; give a choice word such as 'adamw' or a number")
        return value
    return as_expr(name, value)

__all__ = ["Default", "Defaults", "TODAY", "COOKBOOK", "SETS", "active", "use", "using", "resolve", "dropout_for",
           "recompute_for", "recompute_key", "table"]


@dataclass(frozen=True)
class Default:
    """One setting: its value, what it means, where it comes from, and the flag that overrides it."""

    value: Any
    meaning: str
    source: str
    flag: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _check_value("Default.value", self.value))
        for name in ("meaning", "source", "flag"):
            object.__setattr__(self, name, as_text(f"Default.{name}", getattr(self, name)))


class Defaults(Mapping):
    """A named, immutable set of :class:`Default` entries; values read as attributes (``d.seq_len``).

    >>> TODAY.zero_stage, COOKBOOK.allgather_bucket
    (1, 500000000)
    >>> TODAY.replace(seq_len=4096).seq_len
    4096
    """

    def __init__(self, name: str, entries: Mapping[str, Default], overrides: Optional[Mapping[str, Mapping]] = None):
        object.__setattr__(self, "name", as_text("Defaults.name", name))
        if not isinstance(entries, Mapping) or not all(isinstance(k, str) and isinstance(v, Default)
                                                       for k, v in entries.items()):
            raise SymcalcError(f"entries={entries!r:.60} is not a mapping of setting name -> Default")
        object.__setattr__(self, "_entries", dict(entries))
        if overrides is not None and (not isinstance(overrides, Mapping)
                                      or not all(isinstance(v, Mapping) for v in overrides.values())):
            raise SymcalcError(f"overrides={overrides!r:.60} is not a mapping of subcommand -> {{setting: value}}")
        #: subcommand -> {setting: value}: where one cookbook script's default differs from the others'.
        object.__setattr__(self, "overrides", {
            _command(k): {key: _check_value(f"overrides[{k!r}][{key!r}]", val) for key, val in v.items()}
            for k, v in (overrides or {}).items()})

    def __setattr__(self, key: str, value: Any) -> None:
        raise SymcalcError(f"defaults are immutable; use .replace({key}=...) and defaults.use(...)")

    def __getattr__(self, key: str) -> Any:
        entries = self.__dict__.get("_entries", {})
        if key in entries:
            return entries[key].value
        raise AttributeError(f"no default named {key!r}")

    def __getitem__(self, key: str) -> Any:
        try:
            return self._entries[key].value
        except KeyError:
            raise SymcalcError(f"no default named {key!r}; the defaults are {', '.join(self._entries)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<symcalc defaults {self.name!r}: " + ", ".join(f"{k}={v.value!r}" for k, v in self._entries.items()) + ">"

    @property
    def label(self) -> str:
        """How output names a value taken from this set: "today's default", "the cookbook's default"."""
        return {"today": "today's default", "cookbook": "the cookbook's default"}.get(self.name, f"default of {self.name!r}")

    def entry(self, key: str) -> Default:
        """The :class:`Default` (value, meaning, source, flag) of one setting."""
        self[key]
        return self._entries[key]

    def source(self, key: str) -> str:
        """Where the setting ``key``'s value in this set comes from (paper, code or manual)."""
        return self.entry(key).source

    def for_command(self, command: str) -> dict[str, Any]:
        """Every value, with the named subcommand's own overrides (the cookbook's scripts disagree)."""
        out = {k: v.value for k, v in self._entries.items()}
        out.update(self.overrides.get(_command(command), {}))
        return out

    def replace(self, *, name: Optional[str] = None, **values: Any) -> "Defaults":
        """A new set with some values changed (their source becomes "set by the caller")."""
        entries = dict(self._entries)
        name = None if name is None else as_text("name", name)
        for key, value in values.items():
            old = self.entry(key)
            entries[key] = Default(value, old.meaning, "set by the caller", old.flag)
        return Defaults(name or f"{self.name} (modified)", entries, self.overrides)


def _command(command: Any) -> str:
    if not isinstance(command, str) or not re.match(r"^[a-z][a-z-]{0,30}$", command):
        raise SymcalcError(f"command={command!r:.60} is not a subcommand name such as 'flops'")
    return command


_M_CORE = ("Megatron-core distributed optimizer guide: bf16 parameters with fp32 gradients and fp32 main "
           "parameters and Adam moments, 18 bytes per parameter, 6 + 12/d distributed "
           "(https://docs.nvidia.com/megatron-core/developer-guide/latest/api-guide/dist_optimizer.html); "
           "Megatron-LM accumulates and all-reduces bf16 gradients in fp32 (main_grad)")
_COOKBOOK = "EleutherAI cookbook, calc_transformer_mem.py"
_FLOPS_COOKBOOK = "EleutherAI cookbook, calc_transformer_flops.py"

_TODAY_ENTRIES: dict[str, Default] = {
    # --- training memory
    "precision": Default("mixed-fp32-grads", "bf16 weights and activations, fp32 gradients, fp32 master copy "
                         "(2 + 4 + 4 bytes per parameter)", _M_CORE + "; the cookbook's --bytes-per-grad-ele 4 agrees",
                         "--bytes-per-grad-ele, --low-/--high-prec-bytes-per-val, --disable-mixed-precision"),
    "optimizer": Default("adamw", "AdamW: two fp32 moments, 8 bytes per parameter",
                         "Loshchilov & Hutter 2019; the same Megatron-core table (18 = 2 + 4 + 4 + 8)", "--optimizer"),
    "zero_stage": Default(1, "ZeRO 1: master weights and optimizer states sharded over the data-parallel group",
                          "Megatron-core's distributed optimizer (--use-distributed-optimizer shards the fp32 "
                          "master weights and moments: the guide's 6 + 12/d); the cookbook's -z 1", "-z/--zero-stage"),
    "recompute": Default("none", "no activation recomputation (memory and the planner)",
                         "Megatron-core: recompute_granularity is None unless asked; the cookbook's memory script "
                         "without -ca", "--recompute"),
    "kbit_recompute": Default("full", "the recompute policy when adapters train on a quantized (k-bit) base, as "
                              "QLoRA: gradient checkpointing, each layer's input kept and the layer recomputed",
                              "peft's prepare_model_for_kbit_training(model, use_gradient_checkpointing=True) "
                              "(peft 0.21, src/peft/utils/other.py), the QLoRA recipe; a 16-bit base (LoRA, full "
                              "fine-tuning) keeps `recompute` (transformers' TrainingArguments gradient_checkpointing "
                              "off by default)", "--recompute"),
    "flash_attention": Default(True, "flash/SDPA attention: the s² scores are not kept; saved are Q, K, V, the output "
                               "and the fp32 logsumexp per head and row",
                               "Dao 2023 (FlashAttention-2, Alg. 1-2: O and L saved for backward); transformers' default "
                               "attn_implementation is sdpa; Megatron-core uses Transformer Engine's fused attention",
                               "--attention flash/eager"),
    "activation_profile": Default("korthikanti", "saved tensors per layer as Korthikanti et al. 2022 Table 2, generalised",
                                  "Korthikanti et al. 2022, Section 4, Table 2", "--activation-profile"),
    "dropout": Default("model", "dropout only if the model has it (flag-built models and presets without a dropout "
                       "rate: off)", "Llama, Mistral, Qwen and Gemma configs train without dropout "
                       "(attention_dropout 0.0, transformers' LlamaConfig default)",
                       "--dropout/--no-dropout"),
    "sequence_parallel": Default(True, "sequence parallelism whenever t > 1 (norm, dropout and layer-input "
                                 "activations sharded over t)", "Korthikanti et al. 2022 Section 4.2.2, Megatron-LM's "
                                 "--sequence-parallel, used with every TP degree above 1 in their evaluation", "--sequence-parallel/--no-sequence-parallel"),
    "allgather_bucket": Default(Integer(0), "no all-gather bucket beyond the gradient and parameter buffers",
                                "Megatron-core: gradient/parameter buckets are views into the contiguous buffers "
                                "already counted", "-zbs/--zero-allgather-bucket-size"),
    "max_live_params": Default(Integer(0), "no ZeRO-3 live-parameter buffer charged", "Megatron-core has no ZeRO 3; "
                               "give DeepSpeed's stage3_max_live_parameters with -zmlp", "-zmlp/--zero3-max-live-params"),
    "misc_bytes": Default(Integer(0), "no constant overhead per device", "the cookbook's --misc-mem-gib 0",
                          "--misc-mem-gib"),
    # --- inference memory
    "weight_dtype": Default("bf16", "stored weights for inference (2 bytes)", "bf16 checkpoints served as released "
                            "(vLLM's dtype auto)", "--weight-dtype"),
    "kv_cache_dtype": Default("bf16", "KV-cache values (2 bytes)", "vLLM's kv_cache_dtype auto (the model dtype)",
                              "--kv-cache-dtype"),
    "window_cache": Default("window", "a sliding-window layer's KV cache holds W tokens once the context reaches W",
                            "vLLM's paged sliding-window blocks and transformers' static/sliding-window caches reserve W "
                            "slots ('window-1': transformers' DynamicCache keeps W - 1 after a long prefill)",
                            "--window-cache"),
    "mla_cache": Default("latent", "an MLA layer caches its compressed latent, r_kv + d_r values per token",
                         "transformers' DeepSeek-V3 cache and vLLM's MLA backends keep the latent ('decompressed': "
                         "per-head K and V, as a naive implementation)", "--mla-cache"),
    # --- serving (symcalc serve, symcalc.serving)
    "compute_efficiency": Default(Integer(1), "fraction of the peak FLOP/s a compute-bound operation reaches: 1, "
                                  "the physical limit (serving times are lower bounds)",
                                  "the roofline model's attainable bound (Williams, Waterman and Patterson 2009)",
                                  "--compute-efficiency"),
    "memory_efficiency": Default(Integer(1), "fraction of the memory bandwidth a memory-bound operation reaches: 1",
                                 "the roofline model's attainable bound (Williams, Waterman and Patterson 2009)",
                                 "--memory-efficiency"),
    "link_efficiency": Default(Integer(1), "fraction of the scale-up link bandwidth the TP all-reduces reach: 1",
                               "the ring all-reduce's bandwidth bound (Patarasuk and Yuan 2009)", "--link-efficiency"),
    "experts_read": Default("expected", "a serving step reads the expected distinct routed experts per MoE layer, "
                            "E(1 - (1 - k/E)^T) for T tokens routed uniformly", "uniform routing, the target of "
                            "MoE load-balancing losses (Fedus et al. 2022, Switch Transformer, eq. 4)", "--experts"),
    "prefill_causal": Default(True, "a prefill computes the causal half of the attention square",
                              "flash attention skips fully masked blocks (Dao 2023, FlashAttention-2, Section 3.1)",
                              "--full-attention-square"),
    "serve_output_tokens": Default(Integer(128), "tokens generated per sequence in symcalc serve",
                                   "the 128-token outputs of NVIDIA's TensorRT-LLM performance tables and vLLM's "
                                   "latency benchmark", "-o/--output-tokens"),
    # --- workload of a CLI question (the library keeps these symbolic unless given)
    "seq_len": Default(Integer(8192), "sequence length s of a CLI question", "Llama 3 pre-training: sequences of "
                       "8,192 tokens after the first 252M tokens (Llama Team 2024, The Llama 3 Herd of Models, "
                       "Section 3.4.1)",
                       "-s/--sequence-length"),
    "micro_batch": Default(Integer(1), "micro-batch b per device", "the cookbook's -b 1", "-b"),
    "n_devices": Default(Integer(1), "devices n: 1, or t·p·c when degrees are given (data-parallel degree 1, as "
                         "Parallel())", "the cookbook's --num-gpus 1 -tp 1 -pp 1",
                         "--num-gpus, -tp, -pp, -ep, --context-parallel-size"),
    "output_tokens": Default(Integer(1), "tokens generated (mem --infer)", "the cookbook's -o 1", "-o"),
    "tokens": Default(Integer(300 * 10**9), "training tokens of symcalc flops", "GPT-3's 300B tokens (Brown et al. "
                      "2020); the cookbook's --tokens 300e9", "--tokens"),
    "batch": Default(Integer(1), "sequences per step of symcalc flops", "the cookbook's -b 1", "-b/--batch-size"),
    # --- FLOPs
    "flops_recompute": Default("none", "training FLOPs count no recomputation: model FLOPs, as MFU is defined",
                               "PaLM appendix B (Chowdhery et al. 2022): MFU counts no rematerialisation",
                               "--recompute (flops: -ca is the cookbook's --no-checkpoint-activations)"),
    "causal": Default(False, "the full s² attention square", "torch FlopCounterMode, PaLM's MFU and the cookbook",
                      "--causal"),
    "elementwise": Default(False, "matmuls only (2·m·n·k per matmul)", "torch FlopCounterMode counts matmuls only",
                           "--elementwise"),
    "window_flops": Default("square", "sliding-window layers count the full s² attention square",
                            "torch FlopCounterMode on eager attention, which masks but computes the square ('band': the "
                            "s·W band a windowed flash kernel computes)", "--window-flops"),
    "active_convention": Default("all", "active parameters count everything a token touches, embeddings included",
                                 "Mixtral's model card (12.9B active: embedding and LM head counted); DeepSeek's and "
                                 "gpt-oss's cards leave out the input embedding ('no-input-embedding')", "--active-convention"),
    "flops_convention": Default("exact", "training time uses the exact model FLOPs", "symcalc.training_flops; 6N and "
                                "8N (Kaplan; Narayanan eq. 4) by flag", "--flops"),
    "mfu": Default(Rational(2, 5), "MFU 40 % (time, plan)", "Llama Team 2024, Table 4: 38-43 % BF16 MFU on "
                   "16K H100", "--mfu"),
    "pue": Default(Integer(1), "power usage effectiveness 1 (IT energy only)", "energy as the board power reports it",
                   "--pue"),
    "dtype": Default("bf16", "the peak FLOP/s of a device at bf16", "the precision recipe's compute dtype", "--dtype"),
    "inference_flops_per_param_token": Default(Integer(2), "inference FLOPs per parameter per served token: one "
                                               "forward pass, 2N", "Kaplan et al. 2020 §2.1 (C_forward ≈ 2N); Sardana "
                                               "et al. 2023 §2", "--inference-flops-per-param-token"),
    # --- planner
    "global_batch": Default(Integer(512), "sequences per step of symcalc plan", "symcalc plan's own choice (the "
                            "cookbook has no planner)", "-gbs/--global-batch-size"),
    "bandwidth_tp": Default(Integer(300 * 10**9), "TP all-reduce bandwidth per device, bytes/s",
                            "NVLink-class (A100 NVLink 3: 300 GB/s per direction)", "--tp-bandwidth"),
    "bandwidth_dp": Default(Integer(25 * 10**9), "DP/ZeRO bandwidth per device, bytes/s", "one 200 Gb/s NIC per device",
                            "--dp-bandwidth"),
    "bandwidth_ep": Default(Integer(25 * 10**9), "EP all-to-all bandwidth per device, bytes/s", "as the DP NIC",
                            "--ep-bandwidth"),
    "max_tp": Default(8, "largest TP degree the planner tries", "TP inside one 8-GPU node (Narayanan et al. 2021, "
                      "Takeaway #1)",
                      "--max-tp"),
    "max_micro_batch": Default(32, "largest micro-batch the planner tries", "symcalc plan", "--max-micro-batch"),
    "framework": Default("megatron", "the planner's framework rules: Megatron-LM/Megatron-core (TP, PP with "
                         "interleaving, distributed optimizer = ZeRO 1, no ZeRO 2/3)",
                         "Megatron-core trains the open frontier models the planner is checked against (Llama 3 "
                         "405B's 4D parallelism, Megatron's GPT-3 175B example)", "--framework"),
    "kernel_efficiency": Default(Rational(4, 5), "fraction of the dense peak very large matmuls reach (the "
                                 "planner's efficiency model)", "an 8192^3 bf16 matmul at 788 TFLOP/s = 79.6 % of "
                                 "989.4 on this workplace's H200 (device records, 2026-10-28)",
                                 "--kernel-efficiency"),
    "gemm_half_size": Default(Integer(128), "the matmul dimension that reaches half of kernel_efficiency along it",
                              "the 128-wide tiles of cuBLAS/CUTLASS tensor-core kernels (a modelling choice)",
                              "--gemm-half-size"),
    "max_virtual_stages": Default(8, "most model chunks per pipeline rank the planner tries (interleaved 1F1B)",
                                  "Narayanan et al. 2021 §2.2.2 (interleaved schedule); Megatron's "
                                  "--num-layers-per-virtual-pipeline-stage", "--max-virtual-stages"),
    # --- flag-built models (no --preset/--hf-config)
    "vocab_size": Default(51200, "vocabulary", "the cookbook (GPT-NeoX-20B-like)", "-v"),
    "hidden_size": Default(6144, "hidden size", "the cookbook (GPT-NeoX-20B-like)", "-hs"),
    "num_layers": Default(44, "layers", "the cookbook (GPT-NeoX-20B-like)", "-l"),
    "num_attention_heads": Default(64, "query heads", "the cookbook (GPT-NeoX-20B-like)", "-a"),
    "ffn_expansion_factor": Default(Rational(4), "MLP size f = 4h", "the cookbook", "-ff"),
    "num_mlp_linears": Default(2, "plain two-matrix MLP", "the cookbook", "-nl"),
    "kv_size_ratio": Default(Rational(1), "MHA (g = a)", "the cookbook", "-kv"),
    "num_experts": Default(8, "experts per MoE layer with --moe", "Mixtral 8x7B (Jiang et al. 2024)", "-e"),
    "expert_interval": Default(1, "every layer is MoE", "Mixtral 8x7B", "-ei"),
    "topk": Default(2, "experts per token", "Mixtral 8x7B: top-2 routing", "-t/--topk"),
}

#: Today's defaults: what current training and serving stacks do (the active set unless switched).
TODAY = Defaults("today", _TODAY_ENTRIES)


def _cookbook(value: Any, source: str = _COOKBOOK, meaning: Optional[str] = None, key: str = "") -> Default:
    old = _TODAY_ENTRIES[key]
    return Default(value, meaning or old.meaning, source, old.flag)


_COOKBOOK_CHANGES = {
    "flash_attention": (False, "Korthikanti et al. 2022 Table 2 (the 5as/h score terms); the cookbook's memory script",
                        "eager attention: the s² scores, their dropout mask and output are kept"),
    "dropout": (True, "Korthikanti et al. 2022 Table 2 (dropout masks); the cookbook's memory script",
                "dropout on: 1-byte masks after attention and MLP (and on the scores with eager attention)"),
    "sequence_parallel": (False, "the cookbook's memory script without -pa", "no sequence parallelism unless asked"),
    "allgather_bucket": (Integer(500_000_000), "DeepSpeed allgather_bucket_size 5e8; the cookbook's -zbs",
                         "DeepSpeed's ZeRO all-gather bucket, 5e8 elements (ZeRO >= 1, d > 1)"),
    "max_live_params": (Integer(1_000_000_000), "DeepSpeed stage3_max_live_parameters 1e9; the cookbook's -zmlp",
                        "DeepSpeed's ZeRO-3 live parameters, 1e9 elements (ZeRO 3, d > 1)"),
    "seq_len": (Integer(2048), "the cookbook's -s 2048", None),
    "flops_recompute": ("full", _FLOPS_COOKBOOK + ": activation checkpointing on by default (one full recompute)",
                        "training FLOPs count one full recompute of every layer"),
    "topk": (1, "the cookbook's --topk 1", "experts per token"),
    "framework": ("deepspeed", "the cookbook's memory script models DeepSpeed (ZeRO buffers -zbs/-zmlp)",
                  "DeepSpeed rules: ZeRO 0-3, ZeRO <= 1 with pipelines, no interleaving"),
}

#: The EleutherAI cookbook calculators' defaults (``--cookbook``), where they are not wrong.
COOKBOOK = Defaults(
    "cookbook",
    {**_TODAY_ENTRIES,
     **{k: _cookbook(v, src, meaning, key=k) for k, (v, src, meaning) in _COOKBOOK_CHANGES.items()}},
    overrides={"flops": {"num_experts": 128, "expert_interval": 2}},
)

#: The sets by name.
SETS: dict[str, Defaults] = {"today": TODAY, "cookbook": COOKBOOK}

_ACTIVE: list[Defaults] = [TODAY]


def active() -> Defaults:
    """The set in force: ``today`` unless switched with :func:`use` or :func:`using` (or ``--cookbook``)."""
    return _ACTIVE[-1]


def _as_set(which: Union[str, Defaults]) -> Defaults:
    if isinstance(which, Defaults):
        return which
    if isinstance(which, str) and which in SETS:
        return SETS[which]
    raise SymcalcError(f"defaults {which!r:.60} is not a set; use one of {', '.join(SETS)} or a Defaults")


def use(which: Union[str, Defaults]) -> Defaults:
    """Make ``which`` ("today", "cookbook" or a :class:`Defaults`) the active set; returns the previous one.

    >>> previous = use("cookbook"); active().name
    'cookbook'
    >>> use(previous).name, active().name
    ('cookbook', 'today')
    """
    new = _as_set(which)
    previous = _ACTIVE[-1]
    _ACTIVE[-1] = new
    return previous


def using(which: Union[str, Defaults]):
    """The set ``which`` in force inside a ``with`` block, the previous one again after it."""
    return _using(_as_set(which))


@contextmanager
def _using(new: Defaults) -> Iterator[Defaults]:
    _ACTIVE.append(new)
    try:
        yield new
    finally:
        _ACTIVE.pop()


def resolve(key: str, value: Any = None) -> Any:
    """``value`` when given, else the active set's default for ``key``.

    A given value is returned as it is (the function using it coerces it through
    :mod:`symcalc.inputs`), except that a string must be a choice word, never an expression.

    >>> resolve("zero_stage"), resolve("zero_stage", 3)
    (1, 3)
    """
    default = active()[key]
    if isinstance(value, str):  # a choice word; anything else the caller's own coercion checks
        return _check_value(key, value)
    return default if value is None else value


def recompute_for(value: Any = None, *, storage: Any = None) -> Any:
    """The activation recompute policy in force: ``value`` when given, else the active default for the base.

    A quantized (k-bit) base that trains adapters (``storage`` below 16 bits per weight: QLoRA's NF4,
    LLM.int8, ...) takes ``kbit_recompute`` (today: ``"full"``, the gradient checkpointing peft's
    ``prepare_model_for_kbit_training`` turns on); any other training takes ``recompute`` (``"none"``).
    ``storage`` is a :class:`~symcalc.memory.Storage`, a format name or ``None`` (16-bit weights).

    >>> recompute_for(), recompute_for(storage="nf4"), recompute_for("none", storage="nf4")
    ('none', 'full', 'none')
    """
    return resolve(recompute_key(storage), value)


def recompute_key(storage: Any = None) -> str:
    """The setting a training's recompute policy defaults to: ``"kbit_recompute"`` on a quantized base, else
    ``"recompute"`` (see :func:`recompute_for`).

    >>> recompute_key(), recompute_key("bf16"), recompute_key("int8")
    ('recompute', 'recompute', 'kbit_recompute')
    """
    from .memory.placement import as_storage

    storage = as_storage(storage)
    return "kbit_recompute" if storage is not None and bool(storage.data_bits < 16) else "recompute"


def dropout_for(model: Any, value: Any = None) -> Any:
    """Where dropout masks are kept, a :class:`~symcalc.dropout.Dropout`: ``value`` when given, else the active default.

    ``value`` True/False is dropout everywhere/nowhere; a ``Dropout`` says where. The default
    ``"model"`` (today) means the model's own (:attr:`Model.dropout <symcalc.model.Model>`, read
    from its config: where a rate is above 0); a model that does not say (flag-built, hand-built)
    trains without dropout. The cookbook's default is dropout everywhere, as Korthikanti et al.
    A ``Dropout`` is true when it drops anywhere.

    >>> from symcalc import Model
    >>> bool(dropout_for(Model())), bool(dropout_for(Model(), True)), bool(dropout_for(Model.preset("gpt2")))
    (False, True, True)
    """
    from .dropout import Dropout
    from .inputs import as_model

    model = as_model("model", model)
    if isinstance(value, Dropout):
        return value
    if value is not None:
        if not isinstance(value, bool):
            raise SymcalcError(f"dropout={value!r:.60} is not True, False or a Dropout (None: the default)")
        return Dropout.everywhere() if value else Dropout.nowhere()
    setting = active().dropout
    if setting == "model":
        return model.dropout if model.dropout is not None else Dropout.nowhere()
    return Dropout.everywhere() if setting else Dropout.nowhere()


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, Rational) and not value.is_Integer:
        q = int(value.q)
        while q % 2 == 0:
            q //= 2
        while q % 5 == 0:
            q //= 5
        return f"{float(value):g}" if q == 1 else str(value)
    if isinstance(value, (int, Integer)) and abs(int(value)) >= 10**6:
        n = int(value)
        for exp in range(18, 5, -1):
            if n % 10**exp == 0:
                return f"{n // 10**exp}e{exp}"
    return str(value)


def table() -> str:
    """The table of defaults: setting, today's value, the cookbook's, meaning and source.

    The documentation's Concepts page prints it (generated when the site is built).
    """
    rows = ["| setting | today | `--cookbook` | flag | meaning (today) | source (today; cookbook where it differs) |",
            "|---|---|---|---|---|---|"]
    for key in TODAY:
        t, c = TODAY.entry(key), COOKBOOK.entry(key)
        cook = _shown(c.value)
        for command, values in COOKBOOK.overrides.items():
            if key in values:
                cook += f" ({command}: {_shown(values[key])})"
        source = t.source if c.source == t.source else f"{t.source}. Cookbook: {c.source}"
        flag = f"`{t.flag}`" if t.flag else ""
        rows.append(f"| `{key}` | {_shown(t.value)} | {cook} | {flag} | {t.meaning} | {source} |")
    return "\n".join(rows)
