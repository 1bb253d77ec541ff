"""Every symbol symcalc uses, declared once.

Sizes, counts and parallel degrees are ``integer=True, positive=True``; bytes per value,
throughputs and fractions are ``positive=True`` (a 4-bit weight is 1/2 byte). Each symbol's
Python name is its sympy name. Its LaTeX letter, description and unit live in the side table
:data:`SYMBOL_INFO` (sympy advises metadata beside a symbol, not a ``Symbol`` subclass); the
letters follow Korthikanti et al. 2022, Narayanan et al. 2021 and Chinchilla (see DESIGN.md).

>>> from symcalc.symbols import d_model, SYMBOL_INFO
>>> d_model.is_integer, d_model.is_positive
(True, True)
>>> SYMBOL_INFO[d_model].latex
'h'
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Symbol

__all__ = ["SymbolInfo", "SYMBOL_INFO", "LATEX_NAMES", "by_name", "describe"]


@dataclass(frozen=True)
class SymbolInfo:
    """Metadata for one symbol: its LaTeX letter, what it means, its unit."""

    latex: str
    description: str
    unit: str = ""

    def __post_init__(self) -> None:
        for name in ("latex", "description", "unit"):
            if not isinstance(getattr(self, name), str):
                from .errors import SymcalcError

                raise SymcalcError(f"SymbolInfo.{name}={getattr(self, name)!r:.60} must be a string")


#: Every symbol's metadata (:class:`SymbolInfo`: LaTeX letter, meaning, unit), in declaration order.
SYMBOL_INFO: dict[Symbol, SymbolInfo] = {}
_BY_NAME: dict[str, Symbol] = {}


def _declare(name: str, latex: str, description: str, unit: str = "", *, integer: bool = True) -> Symbol:
    if integer:
        sym = Symbol(name, integer=True, positive=True)
    else:
        sym = Symbol(name, positive=True)
    SYMBOL_INFO[sym] = SymbolInfo(latex, description, unit)
    _BY_NAME[name] = sym
    __all__.append(name)
    return sym


# --- model sizes -------------------------------------------------------------------------
n_layers = _declare("n_layers", "L", "transformer layers")
d_model = _declare("d_model", "h", "hidden size")
n_heads = _declare("n_heads", "a", "attention (query) heads")
n_kv_heads = _declare("n_kv_heads", "g", "key/value heads (query groups)")
d_head = _declare("d_head", "d_h", "head dimension")
d_ff = _declare("d_ff", "f", "MLP inner size")
vocab = _declare("vocab", "v", "vocabulary size")
n_positions = _declare("n_positions", r"n_{\mathrm{pos}}", "rows of a learned position table")
d_embed = _declare("d_embed", r"h_{e}", "embedding width when projected to the hidden size")
n_experts = _declare("n_experts", "E", "experts per MoE layer")
top_k = _declare("top_k", "k", "experts each token is routed to")
d_ff_expert = _declare("d_ff_expert", r"f_{E}", "inner size of one expert")
n_shared_experts = _declare("n_shared_experts", r"E_{s}", "shared (always active) experts")
# multi-head latent attention (DeepSeek-V2 §2.1: d_c', d_c, d_h^R; nope and v per-head sizes)
q_lora_rank = _declare("q_lora_rank", r"r_{q}", "query latent (LoRA) rank of MLA")
kv_lora_rank = _declare("kv_lora_rank", r"r_{kv}", "key/value latent rank of MLA")
d_head_nope = _declare("d_head_nope", r"d_{n}", "MLA query/key head size without rotary part")
d_head_rope = _declare("d_head_rope", r"d_{r}", "MLA query/key rotary head size (one shared rotary key)")
d_head_v = _declare("d_head_v", r"d_{v}", "MLA value head size")
# windowed attention
window = _declare("window", r"s_{\mathrm{win}}", "sliding-window length", "tokens")
chunk = _declare("chunk", r"s_{\mathrm{chunk}}", "attention chunk length", "tokens")

# --- workload ----------------------------------------------------------------------------
seq_len = _declare("seq_len", "s", "sequence length", "tokens")
micro_batch = _declare("micro_batch", "b", "micro-batch size per device", "sequences")
global_batch = _declare("global_batch", "B", "global batch size", "sequences")
tokens = _declare("tokens", "D", "tokens trained on", "tokens")
context_len = _declare("context_len", r"s_{\mathrm{ctx}}", "tokens already in the KV cache", "tokens")
n_generate = _declare("n_generate", r"n_{\mathrm{gen}}", "tokens generated", "tokens")

# --- parallelism -------------------------------------------------------------------------
tp = _declare("tp", "t", "tensor-parallel degree")
pp = _declare("pp", "p", "pipeline-parallel degree")
dp = _declare("dp", "d", "data-parallel degree")
ep = _declare("ep", "e", "expert-parallel degree")
cp = _declare("cp", "c", "context-parallel degree")
n_devices = _declare("n_devices", "n", "devices (GPUs)")
n_microbatches = _declare("n_microbatches", "m", "micro-batches per step (gradient accumulation)")
virtual_stages = _declare("virtual_stages", r"v_{\mathrm{pp}}", "model chunks per pipeline rank (interleaved 1F1B)")
layers_per_stage = _declare("layers_per_stage", r"L_{s}", "layers of the fullest pipeline stage")
# ZeRO stage is a non-negative integer (0-3), so it is not declared positive.
zero_stage = Symbol("zero_stage", integer=True, nonnegative=True)
SYMBOL_INFO[zero_stage] = SymbolInfo("z", "ZeRO stage (0-3)")
_BY_NAME["zero_stage"] = zero_stage
__all__.append("zero_stage")

# --- bytes per value ---------------------------------------------------------------------
bytes_weight = _declare("bytes_weight", r"\beta_{w}", "bytes per stored weight", "B", integer=False)
bytes_grad = _declare("bytes_grad", r"\beta_{g}", "bytes per gradient element", "B", integer=False)
bytes_master = _declare("bytes_master", r"\beta_{m}", "bytes per master-weight copy", "B", integer=False)
bytes_optim = _declare("bytes_optim", r"\beta_{o}", "optimizer-state bytes per parameter", "B", integer=False)
bytes_act = _declare("bytes_act", r"\beta_{a}", "bytes per activation value", "B", integer=False)
bytes_kv = _declare("bytes_kv", r"\beta_{kv}", "bytes per KV-cache value", "B", integer=False)

# --- throughput and budgets --------------------------------------------------------------
peak_flops = _declare("peak_flops", r"F_{\mathrm{peak}}", "peak FLOP/s per device", "FLOP/s", integer=False)
mfu = _declare("mfu", r"\mathrm{MFU}", "model FLOPs utilisation", "", integer=False)
tokens_per_second = _declare("tokens_per_second", r"\tau", "measured training throughput", "tokens/s", integer=False)
compute = _declare("compute", "C", "training compute budget", "FLOP", integer=False)
n_params = _declare("n_params", "N", "parameters", "", integer=True)
bandwidth_tp = _declare("bandwidth_tp", r"W_{t}", "tensor-parallel all-reduce bandwidth per device", "B/s", integer=False)
bandwidth_dp = _declare("bandwidth_dp", r"W_{d}", "data-parallel (gradient, ZeRO) bandwidth per device", "B/s", integer=False)
bandwidth_ep = _declare("bandwidth_ep", r"W_{e}", "expert-parallel all-to-all bandwidth per device", "B/s", integer=False)

# --- hardware (symcalc.hardware substitutes these from its catalogue) ------------------------
device_memory = _declare("device_memory", r"M_{\mathrm{dev}}", "memory per device, as the device reports it", "B",
                         integer=False)
mem_bandwidth = _declare("mem_bandwidth", r"W_{\mathrm{mem}}", "memory bandwidth per device", "B/s", integer=False)
bandwidth_scaleup = _declare("bandwidth_scaleup", r"W_{\mathrm{up}}",
                             "scale-up link bandwidth per device, each direction (NVLink, Infinity Fabric, ICI)",
                             "B/s", integer=False)
bandwidth_scaleout = _declare("bandwidth_scaleout", r"W_{\mathrm{out}}",
                              "scale-out (NIC) bandwidth per device, each direction", "B/s", integer=False)
device_power = _declare("device_power", r"P_{\mathrm{dev}}", "board power per device (TDP)", "W", integer=False)
compute_efficiency = _declare("compute_efficiency", r"\eta_{c}", "fraction of peak FLOP/s reached when compute-bound",
                              "", integer=False)
memory_efficiency = _declare("memory_efficiency", r"\eta_{m}", "fraction of memory bandwidth reached when memory-bound",
                             "", integer=False)
link_efficiency = _declare("link_efficiency", r"\eta_{l}", "fraction of link bandwidth reached by collectives",
                           "", integer=False)

# --- time, energy and cost (symcalc.cost) -------------------------------------------------
pue = _declare("pue", r"\mathrm{PUE}", "power usage effectiveness: facility energy over IT energy", "",
               integer=False)
price_per_device_hour = _declare("price_per_device_hour", r"c_{h}", "price per device-hour (GPU-hour)",
                                 "currency/h", integer=False)
# --- scaling laws (letters of Hoffmann et al. 2022, Kaplan et al. 2020, Muennighoff et al. 2023) ---
loss = _declare("loss", r"\mathcal{L}", "training loss (cross-entropy)", "nats/token", integer=False)
loss_irreducible = _declare("loss_irreducible", "E", "irreducible loss of a parametric fit", "nats/token", integer=False)
loss_coef_params = _declare("loss_coef_params", "A", "parameter-term coefficient of a parametric fit", "", integer=False)
loss_coef_tokens = _declare("loss_coef_tokens", "B", "data-term coefficient of a parametric fit", "", integer=False)
exp_params = _declare("exp_params", r"\alpha", "parameter exponent of a parametric fit", "", integer=False)
exp_tokens = _declare("exp_tokens", r"\beta", "data exponent of a parametric fit", "", integer=False)
flops_per_param_token = _declare("flops_per_param_token", r"\kappa", "training FLOPs per parameter per token (6 in C = 6ND)", "FLOP", integer=False)
alloc_coef = _declare("alloc_coef", "G", "coefficient of a power-law allocation N_opt = G (C/C_0)^a_N", "", integer=False)
alloc_exp = _declare("alloc_exp", r"a_{N}", "exponent of a power-law allocation", "", integer=False)
alloc_unit = _declare("alloc_unit", r"C_{0}", "compute unit of a power-law allocation", "FLOP", integer=False)
kaplan_n_c = _declare("kaplan_n_c", r"N_{c}", "Kaplan et al.'s parameter scale", "", integer=False)
kaplan_d_c = _declare("kaplan_d_c", r"D_{c}", "Kaplan et al.'s data scale", "tokens", integer=False)
kaplan_c_c = _declare("kaplan_c_c", r"C_{c}^{\min}", "Kaplan et al.'s compute scale", "PF-days", integer=False)
kaplan_alpha_n = _declare("kaplan_alpha_n", r"\alpha_{N}", "Kaplan et al.'s parameter exponent", "", integer=False)
kaplan_alpha_d = _declare("kaplan_alpha_d", r"\alpha_{D}", "Kaplan et al.'s data exponent", "", integer=False)
kaplan_alpha_c = _declare("kaplan_alpha_c", r"\alpha_{C}^{\min}", "Kaplan et al.'s compute exponent", "", integer=False)
flops_per_token = _declare("flops_per_token", "M", "non-embedding training FLOPs per token (DeepSeek's model scale)", "FLOP", integer=False)
inference_tokens = _declare("inference_tokens", r"D_{\mathrm{inf}}", "tokens served over the model's lifetime", "tokens")
inference_flops_per_param_token = _declare("inference_flops_per_param_token", r"\kappa_{\mathrm{inf}}", "inference FLOPs per parameter per token (2)", "FLOP", integer=False)
unique_tokens = _declare("unique_tokens", r"U_{D}", "unique tokens available", "tokens")
repeat_decay_tokens = _declare("repeat_decay_tokens", r"R_{D}^{*}", "decay constant of repeated tokens' value", "", integer=False)
repeat_decay_params = _declare("repeat_decay_params", r"R_{N}^{*}", "decay constant of excess parameters' value", "", integer=False)
lr_coef = _declare("lr_coef", r"\eta_{0}", "coefficient of a learning-rate law", "", integer=False)
lr_exp = _declare("lr_exp", r"p_{\eta}", "exponent of a learning-rate law (eta = eta_0 C^-p)", "", integer=False)
batch_coef = _declare("batch_coef", r"B_{0}", "coefficient of a batch-size law", "tokens", integer=False)
batch_exp = _declare("batch_exp", r"p_{B}", "exponent of a batch-size law (B = B_0 C^p)", "", integer=False)

# --- fine-tuning, quantized storage, offload and sharding groups ---------------------------
lora_rank = _declare("lora_rank", "r", "LoRA rank (columns of A, rows of B per adapted matrix)")
quant_block = _declare("quant_block", r"B_{q}", "weights per quantization block (one absmax scale each)")
quant_block2 = _declare("quant_block2", r"B_{q2}", "first-level scales per second-level block (double quantization)")
shard_group = _declare("shard_group", r"g_{s}", "devices a hybrid-sharded (HSDP) group shards the states over")
secondary_group = _declare("secondary_group", r"g_{\mathrm{hp}}",
                           "devices sharing a ZeRO++ secondary (hpZ) partition of the weights")
devices_per_node = _declare("devices_per_node", r"n_{\mathrm{node}}", "devices (GPUs) per node, sharing its CPU memory and NVMe")

#: Every symbol's LaTeX letter (``symbol_names`` for sympy's printer).
LATEX_NAMES: dict[Symbol, str] = {sym: info.latex for sym, info in SYMBOL_INFO.items()}


def by_name(name: str) -> Symbol:
    """The symbol called ``name`` (its Python name), or a one-line ``SymcalcError``.

    >>> by_name("seq_len")
    seq_len
    """
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        from .errors import SymcalcError

        known = ", ".join(sorted(_BY_NAME))
        raise SymcalcError(f"unknown symbol {name!r:.60}; known symbols: {known}") from None


def describe(sym: Symbol) -> str:
    """A one-line description of ``sym`` (a symbol or its name): its letter, meaning and unit.

    >>> describe("d_model")
    'd_model (h): hidden size'
    """
    sym = by_name(sym) if isinstance(sym, str) else sym
    if not isinstance(sym, Symbol) or sym not in SYMBOL_INFO:
        from .errors import SymcalcError

        raise SymcalcError(f"{sym!r:.60} is not one of symcalc's symbols; see symcalc.symbols")
    info = SYMBOL_INFO[sym]
    unit = f" [{info.unit}]" if info.unit else ""
    return f"{sym.name} ({info.latex}): {info.description}{unit}"
