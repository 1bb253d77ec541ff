"""Quantized weight storage: bits per weight of NF4, FP4, int8, fp8 and plain dtypes, and which parts use it.

A :class:`Storage` format stores the weights of the model's linears (:func:`symcalc.linears.linears`)
in ``bits`` per value plus its scales; everything else (embeddings, the LM head, norms, biases, the
router) stays in the 16-bit weight dtype, as bitsandbytes leaves them under transformers and peft
(it replaces ``nn.Linear`` modules only, and skips the output layer). ``skip`` names more target
words to keep in 16 bits.

Bits per weight (b data bits, scales fp32 unless said):

=====================  ===========================================================================
``nf4``, ``fp4``       block-wise absmax, one fp32 scale per block of B_q = 64: ``4 + 32/B_q`` = 4.5;
                       with double quantization the scales are 8-bit, with one fp32 scale per
                       B_q2 = 256 of them: ``4 + 8/B_q + 32/(B_q·B_q2)`` ≈ 4.127 (QLoRA §2)
``int8``               LLM.int8: int8 values and one fp32 scale per output row: ``8 + 32/d_in``
``fp8``                per-tensor scale (``8`` plus one fp32 per matrix) or per block of
                       B_q × B_q = 128 × 128 (DeepSeek-V3): ``8 + 32/B_q²``
plain dtypes           ``int4``, ``int8-plain``, ``fp8-plain``, ``bf16``, ``fp16``, ``fp32``: plain
                       values, scales not counted (``--weight-dtype``'s names)
=====================  ===========================================================================

Per-tensor constants of bitsandbytes' ``QuantState`` (the 16-value NF4 code, a double-quant
offset and its 256-value code: about 1 KiB per matrix) are not counted; blocks are taken to divide
each matrix (true of every released model's dimensions).

QLoRA computes in 16 bits: each 4-bit matrix is dequantized to the compute dtype just before its
matmul and freed after it (bitsandbytes' ``MatMul4Bit``), so one matrix's 16-bit copy is live at a
time: :meth:`Storage.transient` charges the largest (for training and inference alike).

>>> from symcalc import Model
>>> nf4 = Storage("nf4")
>>> nf4.bits_per_weight(), Storage("nf4", double_quant=True).bits_per_weight()
(9/2, 2113/512)
>>> float(Storage("nf4", double_quant=True).bits_per_weight())
4.126953125

References
----------
Dettmers et al. 2023, "QLoRA: Efficient Finetuning of Quantized LLMs", Section 2 (block-wise
quantization, NF4, double quantization: 32/64 = 0.5 bits per parameter, 8/64 + 32/(64·256) = 0.127).
Dettmers et al. 2022, "LLM.int8()", Section 3 (row-wise absmax). DeepSeek-AI 2024,
"DeepSeek-V3 Technical Report", Section 3.3.2 (128 × 128 fp8 weight blocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sympy import Expr, Integer, Max, Piecewise, Rational

from ..errors import SymcalcError
from ..inputs import as_bool, as_choice, as_model, as_positive, as_size
from ..linears import linears, resolve_targets

__all__ = ["Storage", "FORMATS", "QUANTIZE", "PLAIN_BITS", "NF4_BLOCK", "DQ_BLOCK", "FP8_BLOCK", "DEFAULT_SKIP",
           "storage_format"]

#: bitsandbytes' 4-bit block size (``blocksize=64``) and its double-quantization block (256 scales).
NF4_BLOCK = 64
#: First-level scales per double-quantization block (bitsandbytes: 256).
DQ_BLOCK = 256
#: DeepSeek-V3's fp8 weight tiles, 128 × 128.
FP8_BLOCK = 128
#: Target words kept in 16 bits besides embeddings, norms and biases: bitsandbytes skips the output
#: layer; transformers 5's routers are not ``nn.Linear`` (nor replaced).
DEFAULT_SKIP = ("lm_head", "router")
#: Quantization schemes with scales (``--quantize``).
QUANTIZE = ("nf4", "fp4", "int8", "fp8")
#: Plain value types (``--weight-dtype``): bits per value, scales not counted.
PLAIN_BITS: dict[str, Expr] = {"fp32": Integer(32), "bf16": Integer(16), "fp16": Integer(16),
                               "fp8-plain": Integer(8), "int8-plain": Integer(8), "int4": Integer(4)}
#: Every storage format name: the quantized ones, then the plain dtypes.
FORMATS = QUANTIZE + tuple(PLAIN_BITS)
_FP8_SCALES = ("tensor", "block")


@dataclass(frozen=True)
class Storage:
    """A storage format for the weights of the linears (see the module docstring).

    Parameters
    ----------
    format : str
        One of :data:`FORMATS`.
    block : expression, optional
        Weights per scale: NF4/FP4 block (default 64; the symbol ``quant_block`` for a closed form);
        fp8's tile side with ``scale="block"`` (default 128).
    double_quant : bool
        NF4/FP4 only: 8-bit scales with one fp32 scale per ``block2`` of them.
    block2 : expression
        Scales per second-level block (default 256).
    scale : "tensor" or "block"
        fp8 only.
    skip : str or sequence
        Target words kept in 16 bits (default :data:`DEFAULT_SKIP`).
    """

    format: str
    block: Any = None
    double_quant: bool = False
    block2: Any = DQ_BLOCK
    scale: str = "tensor"
    skip: Any = DEFAULT_SKIP

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        fmt = self.format.lower() if isinstance(self.format, str) else self.format
        set_("format", as_choice("format", fmt, FORMATS))
        set_("double_quant", as_bool("double_quant", self.double_quant))
        set_("scale", as_choice("scale", self.scale, _FP8_SCALES))
        if self.double_quant and self.format not in ("nf4", "fp4"):
            raise SymcalcError(f"double_quant=True with format={self.format!r}: double quantization is for nf4/fp4")
        if self.format in ("nf4", "fp4"):
            set_("block", as_size("block", NF4_BLOCK if self.block is None else self.block))
        elif self.format == "fp8" and self.scale == "block":
            set_("block", as_size("block", FP8_BLOCK if self.block is None else self.block))
        elif self.block is not None:
            raise SymcalcError(f"block={self.block!r:.40} with format={self.format!r}: only nf4/fp4 and fp8 "
                               "with scale='block' have blocks")
        if self.format != "fp8" and self.scale != "tensor":
            raise SymcalcError(f"scale={self.scale!r} with format={self.format!r}: only fp8 takes a scale granularity")
        set_("block2", as_size("block2", self.block2))
        skip = () if self.skip in ((), [], "") else resolve_targets(self.skip, flag="skip")
        set_("skip", skip)

    @property
    def is_plain(self) -> bool:
        """True for a plain dtype (``bf16``, ``int4``, ...): values only, no scales counted."""
        return self.format in PLAIN_BITS

    @property
    def data_bits(self) -> Expr:
        """Bits of one stored value, without its share of the scales (4 for NF4/FP4, 8 for int8/fp8)."""
        if self.is_plain:
            return PLAIN_BITS[self.format]
        return Integer(4) if self.format in ("nf4", "fp4") else Integer(8)

    def bits_per_weight(self, d_in: Any = None, d_out: Any = None) -> Expr:
        """Bits per stored weight, scales included, of a ``d_in -> d_out`` matrix (see the table above).

        >>> Storage("int8").bits_per_weight(4096, 4096)
        1025/128
        >>> Storage("fp8", scale="block").bits_per_weight()
        4097/512
        """
        b = self.data_bits
        d_in = None if d_in is None else as_size("d_in", d_in)
        d_out = None if d_out is None else as_size("d_out", d_out)
        if self.is_plain:
            return b
        if self.format in ("nf4", "fp4"):
            if self.double_quant:
                return b + Rational(8) / self.block + Rational(32) / (self.block * self.block2)
            return b + Rational(32) / self.block
        if self.format == "int8":
            if d_in is None:
                raise SymcalcError("int8 (LLM.int8) keeps one scale per row: give d_in")
            return b + 32 / d_in
        if self.scale == "block":
            return b + Rational(32) / self.block**2
        if d_in is None or d_out is None:
            raise SymcalcError("fp8 with a per-tensor scale keeps one scale per matrix: give d_in and d_out")
        return b + 32 / (d_in * d_out)

    def describe(self) -> str:
        """One line for tables: the format and its block or scale layout."""
        extra = ""
        if self.format in ("nf4", "fp4"):
            extra = f" block {self.block}" + (f", double quant ({self.block2})" if self.double_quant else "")
        elif self.format == "fp8":
            extra = f" per-{self.scale}" + (f" {self.block}x{self.block}" if self.scale == "block" else "")
        return self.format + extra

    def quantized(self, model) -> list:
        """The linears stored in this format (every linear except :attr:`skip`)."""
        m = as_model("model", model)
        return [lin for lin in linears(m) if not set(lin.members) & set(self.skip)]

    def part_rates(self, model) -> dict[str, tuple[Expr, Expr]]:
        """``{part: (quantized weights, bytes per quantized weight)}`` over the quantized linears, by parameter part."""
        groups: dict[str, list] = {}
        for lin in self.quantized(model):
            groups.setdefault(lin.part, []).append((lin.weights, self.bits_per_weight(lin.d_in, lin.d_out) / 8))
        out: dict[str, tuple[Expr, Expr]] = {}
        for part, items in groups.items():
            n = sum((w for w, _ in items), Integer(0))
            rates = {r for _, r in items}
            rate = rates.pop() if len(rates) == 1 else sum((w * r for w, r in items), Integer(0)) / n
            out[part] = (n, rate)
        return out

    def transient(self, model, bytes_compute: Any) -> Expr:
        """Bytes of the one matrix dequantized at a time: the largest quantized matrix in the compute dtype.

        Only bitsandbytes' 4-bit formats dequantize whole matrices (``MatMul4Bit``); LLM.int8
        multiplies in int8, fp8 natively, and the plain names count no dequantization: zero for them.
        """
        bytes_compute = as_positive("bytes_compute", bytes_compute)
        if self.format not in ("nf4", "fp4"):
            return Integer(0)
        sizes = []
        for lin in self.quantized(model):
            present = lin.count.is_positive  # a kind of matrix the model may not have (symbolic counts)
            if present is not False:
                size = lin.d_in * lin.d_out
                sizes.append(size if present else Piecewise((size, lin.count > 0), (0, True)))
        if not sizes:
            return Integer(0)
        return bytes_compute * (Max(*sizes) if len(sizes) > 1 else sizes[0])


def storage_format(name: Any, *, double_quant: bool = False, **options: Any) -> Storage:
    """A :class:`Storage` from a name (``"nf4"``, ``"int8"``, ``"int4"``, ...) or itself.

    >>> storage_format("nf4", double_quant=True).describe()
    'nf4 block 64, double quant (256)'
    """
    if isinstance(name, Storage):
        return name
    return Storage(name, double_quant=double_quant, **options)

