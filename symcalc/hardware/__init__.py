"""The hardware catalogue: datasheet figures, each with its source, substituted into symbols.

Formulas use hardware *symbols* (:mod:`symcalc.symbols`): ``peak_flops`` F_peak [FLOP/s],
``device_memory`` M_dev [B], ``mem_bandwidth`` W_mem [B/s], ``bandwidth_scaleup`` W_up and
``bandwidth_scaleout`` W_out [B/s, each direction], ``device_power`` P_dev [W], and the
efficiency factors ``compute_efficiency``, ``memory_efficiency``, ``link_efficiency`` (fractions
of a peak reached; a formula's default of 1 is the physical limit). An entry of the catalogue
substitutes its numbers for them: ``expr.subs(get("h100").subs(dtype="bf16"))``.

Conventions (every entry follows them; each figure's note says how it was read):

- **peak FLOP/s are dense**. Datasheets often print 2:4-sparse peaks ("with sparsity"); those are
  halved. Peaks exist per dtype: ``fp32``, ``tf32``, ``bf16``, ``fp16``, ``fp8``, ``fp4``
  (only those the device has; consumer cards: FP32 accumulate, as training uses).
- **memory is what the device reports**: CUDA's ``totalGlobalMem`` (``torch.cuda
  .get_device_properties().total_memory``), ``rocm-smi`` for AMD; it moves by up to ~0.6% with
  the driver version and ECC. Where no report was found, the datasheet's "GB" as 10^9 bytes.
- **links are per device and per direction**: NVLink's "900 GB/s" is both directions together,
  so 450 GB/s here. Scale-up is the fast domain (NVLink, Infinity Fabric, ICI; a PCIe slot where
  there is none); scale-out is the NIC per device of the vendor's reference system (DGX), a
  deployment choice, and absent where no reference system fixes it.
- **power** is the board power (TDP/TBP) in W; Google publishes none for TPUs.

>>> from symcalc.hardware import get, names
>>> h = get("H100")                     # case-insensitive; aliases: h100 -> h100-sxm
>>> h.name, h.peak("bf16"), h.peak("fp8"), h.memory
('h100-sxm', 989400000000000, 1978900000000000, 85520809984)
>>> h.bandwidth_scaleup, h.bandwidth_scaleout, h.power
(450000000000, 50000000000, 700)
>>> print(h.figures["peak_flops/bf16"].note)
dense column; the datasheet prints 1,979* with sparsity
>>> from symcalc import symbols as S
>>> (S.n_params * 2 / S.mem_bandwidth).subs(get("h200").subs())   # seconds to read N bf16 weights once
n_params/2400000000000
>>> len(names()) >= 16
True

How later formulas should use it: write the expression in the symbols (a roofline time is
``max(F / (n F_peak eta_c), bytes / (W_mem eta_m))``; a TP all-reduce moves
``2 (t-1)/t x bytes`` at ``W_up eta_l``), then substitute :meth:`Hardware.subs`; a missing
figure stays a symbol, and :meth:`Hardware.require` gives a one-line error naming the flag that
supplies it. ``symcalc hardware`` lists the catalogue; ``symcalc hardware NAME`` shows every
figure with its source.
"""

from __future__ import annotations

from ._entry import DTYPES, FIGURES, Catalogue, Figure, Hardware, Source
from ._nvidia import ENTRIES as _NVIDIA
from ._others import ENTRIES as _OTHERS

__all__ = ["Hardware", "Figure", "Source", "DTYPES", "FIGURES", "get", "find", "names", "catalogue"]

_CATALOGUE = Catalogue()
for _hw in (*_NVIDIA, *_OTHERS):
    _CATALOGUE.add(_hw)


def get(name, flag: str = "--hardware") -> Hardware:
    """The entry called ``name`` (canonical name or alias, any case), or a one-line ``SymcalcError``.

    >>> get("a100").name, get("Trillium").name
    ('a100-80gb', 'tpu-v6e')
    >>> get("h300")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: --hardware 'h300' is not in the catalogue; did you mean h200, h100, mi300x? (`symcalc hardware` lists them all)
    """
    return _CATALOGUE.get(name, flag)


def find(name: str):
    """The entry called ``name``, or None (no error): for parsers that accept a name or a number."""
    return _CATALOGUE.find(name)


def names() -> tuple[str, ...]:
    """Canonical names, in catalogue order."""
    return tuple(_CATALOGUE.entries)


def catalogue() -> tuple[Hardware, ...]:
    """Every entry, in catalogue order."""
    return tuple(_CATALOGUE.entries.values())


def aliases() -> dict[str, str]:
    """Every accepted name (aliases included) -> its canonical name."""
    return dict(_CATALOGUE.aliases)
