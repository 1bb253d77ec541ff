"""One catalogue entry: frozen figures, each with its source, and the symbols they substitute.

A :class:`Figure` is one number (a sympy ``Integer``/``Rational``, exact), the :class:`Source` it
comes from and a note (how it was derived: a sparse peak halved, a bidirectional link figure
halved, a datasheet "GB" where the reported bytes were not found, an uncertainty). A
:class:`Hardware` holds its figures by name:

- ``peak_flops/<dtype>``: dense peak FLOP/s of one device for ``fp32``, ``tf32``, ``bf16``,
  ``fp16``, ``fp8``, ``fp4`` (those the device has);
- ``memory``: bytes as the device reports them (CUDA's ``totalGlobalMem``, which
  ``torch.cuda.get_device_properties().total_memory`` shows; ``rocm-smi`` for AMD), or the
  datasheet's GB as 10^9 bytes where no report was found (the note says which);
- ``mem_bandwidth``: peak memory bandwidth [B/s];
- ``bandwidth_scaleup``: scale-up link bandwidth of one device **in each direction** [B/s]
  (NVLink, Infinity Fabric, ICI, Gaudi's scale-up Ethernet; a PCIe slot where there is none);
- ``bandwidth_scaleout``: scale-out (NIC) bandwidth of one device in each direction [B/s], of the
  vendor's reference system (a deployment choice, not a chip property; the note names the system);
- ``power``: board power (TDP/TBP) [W];
- ``scaleup_domain``: devices joined by the scale-up link in the vendor's reference system (an
  HGX/DGX node's 8 GPUs, GB200 NVL72's 72, a TPU pod's chips): the planner keeps TP inside it and
  sends DP and PP traffic over the scale-out NIC beyond it. Absent for PCIe cards (no reference
  system fixes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import get_close_matches
from types import MappingProxyType
from typing import Any, Mapping, Optional

from sympy import Expr, Rational

from .. import symbols as S
from ..errors import SymcalcError
from ..inputs import as_bool, as_positive, as_text

__all__ = ["Source", "Figure", "Hardware", "Catalogue", "DTYPES", "FIGURES", "tera", "peta", "giga", "gbit", "watts"]

#: The dtypes a peak can be asked for, widest first.
DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "fp4")
#: The figures other than peaks, in display order.
FIGURES = ("memory", "mem_bandwidth", "bandwidth_scaleup", "bandwidth_scaleout", "power", "scaleup_domain")
#: Figure name -> the symbol it substitutes (peaks substitute ``peak_flops``).
SYMBOL_OF = {"memory": S.device_memory, "mem_bandwidth": S.mem_bandwidth,
             "bandwidth_scaleup": S.bandwidth_scaleup, "bandwidth_scaleout": S.bandwidth_scaleout,
             "power": S.device_power}
UNITS = {"peak_flops": "FLOP/s", "memory": "B", "mem_bandwidth": "B/s", "bandwidth_scaleup": "B/s",
         "bandwidth_scaleout": "B/s", "power": "W", "scaleup_domain": "devices"}


def tera(text: str) -> Rational:
    """``"989.4"`` TFLOP/s (or TB/s) as an exact number: 989400000000000."""
    return Rational(text) * 10**12


def peta(text: str) -> Rational:
    """``"4.5"`` PFLOP/s as an exact number."""
    return Rational(text) * 10**15


def watts(text: str) -> Rational:
    """``"700"`` W as an exact number."""
    return Rational(text)


def giga(text: str) -> Rational:
    """``"2039"`` GB/s as an exact number of bytes per second."""
    return Rational(text) * 10**9


def gbit(text: str) -> Rational:
    """``"400"`` Gb/s (a NIC or link rate in bits) as bytes per second: 50000000000."""
    return Rational(text) * 10**9 / 8


@dataclass(frozen=True)
class Source:
    """Where figures come from: a document's name, its address and its date (as printed)."""

    title: str
    url: str
    date: str

    def __post_init__(self) -> None:
        for name in ("title", "url", "date"):
            as_text(f"Source.{name}", getattr(self, name))

    def __str__(self) -> str:
        return f"{self.title} ({self.date}), {self.url}"


@dataclass(frozen=True)
class Figure:
    """One exact figure, its source and a note on how it was read (empty when printed as is)."""

    value: Expr
    source: Source
    note: str = ""
    uncertain: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", as_positive("figure", self.value))
        if not isinstance(self.source, Source):
            raise SymcalcError(f"Figure.source={self.source!r:.60} is not a Source")
        as_text("Figure.note", self.note)
        as_bool("Figure.uncertain", self.uncertain)

    def as_dict(self) -> dict[str, Any]:
        """The figure for JSON: value (an int, or exact text), source title, URL, date, note, uncertain."""
        v = self.value
        return {"value": int(v) if v.is_integer else str(v), "source": self.source.title, "url": self.source.url,
                "date": self.source.date, "note": self.note, "uncertain": self.uncertain}


@dataclass(frozen=True)
class Hardware:
    """A device of the catalogue: its figures (exact, each with a source) and how to substitute them.

    Parameters
    ----------
    name : canonical name (``h100-sxm``); aliases : other names it answers to (``h100``)
    label : the vendor's product name; vendor : ``NVIDIA``, ``AMD``, ``Intel``, ``Google``
    figures : figure name -> :class:`Figure` (see the module docstring for the names)

    Examples
    --------
    >>> from symcalc.hardware import get
    >>> h100 = get("h100")
    >>> h100.name, h100.peak("bf16"), h100.memory
    ('h100-sxm', 989400000000000, 85520809984)
    >>> h100.peak("fp4")
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: --dtype fp4: h100-sxm has no fp4 peak; it has fp32, tf32, bf16, fp16, fp8
    """

    name: str
    label: str
    vendor: str
    figures: Mapping[str, Figure]
    aliases: tuple[str, ...] = ()
    summary: str = ""

    def __post_init__(self) -> None:
        for name in ("name", "label", "vendor", "summary"):
            as_text(f"Hardware.{name}", getattr(self, name))
        if not isinstance(self.aliases, tuple) or not all(isinstance(a, str) for a in self.aliases):
            raise SymcalcError(f"Hardware.aliases={self.aliases!r:.60} is not a tuple of names")
        if not isinstance(self.figures, Mapping) or not all(isinstance(f, Figure) for f in self.figures.values()):
            raise SymcalcError(f"Hardware.figures={self.figures!r:.60} is not a mapping of name -> Figure")
        object.__setattr__(self, "figures", MappingProxyType(dict(self.figures)))

    # --- the numbers ------------------------------------------------------------------------
    @property
    def dtypes(self) -> tuple[str, ...]:
        """The dtypes with a dense peak, widest first."""
        return tuple(d for d in DTYPES if f"peak_flops/{d}" in self.figures)

    def peak(self, dtype: str = "bf16") -> Expr:
        """Dense peak FLOP/s of one device in ``dtype`` (a one-line error if it has none)."""
        key = f"peak_flops/{dtype}"
        if dtype not in DTYPES:
            raise SymcalcError(f"--dtype {dtype!r} is not a dtype; use one of {', '.join(DTYPES)}")
        if key not in self.figures:
            raise SymcalcError(f"--dtype {dtype}: {self.name} has no {dtype} peak; it has {', '.join(self.dtypes)}")
        return self.figures[key].value

    def _value(self, name: str) -> Optional[Expr]:
        fig = self.figures.get(name)
        return None if fig is None else fig.value

    @property
    def memory(self) -> Optional[Expr]:
        """Memory per device [bytes], as the device reports it (see the figure's note)."""
        return self._value("memory")

    @property
    def mem_bandwidth(self) -> Optional[Expr]:
        """Peak memory bandwidth [B/s]."""
        return self._value("mem_bandwidth")

    @property
    def bandwidth_scaleup(self) -> Optional[Expr]:
        """Scale-up link bandwidth per device, each direction [B/s]."""
        return self._value("bandwidth_scaleup")

    @property
    def bandwidth_scaleout(self) -> Optional[Expr]:
        """Scale-out (NIC) bandwidth per device, each direction [B/s]; None where none is published."""
        return self._value("bandwidth_scaleout")

    @property
    def scaleup_domain(self) -> Optional[Expr]:
        """Devices per scale-up domain (a node's NVLink/Infinity Fabric/ICI domain); None where none is fixed."""
        return self._value("scaleup_domain")

    @property
    def power(self) -> Optional[Expr]:
        """Board power [W]; None where the vendor publishes none (TPUs)."""
        return self._value("power")

    def require(self, name: str, flag: str) -> Expr:
        """A figure's value, or a one-line error naming ``flag`` as the way to give it."""
        value = self._value(name)
        if value is None:
            what = name.replace("_", " ")
            raise SymcalcError(f"the catalogue has no {what} for {self.name}; give it with {flag}")
        return value

    # --- symbols ----------------------------------------------------------------------------
    def subs(self, dtype: str = "bf16") -> dict:
        """Symbol -> number for every figure this device has (``peak_flops`` at ``dtype``).

        The planner's bandwidths map onto the links: ``bandwidth_tp`` (TP all-reduces, kept inside
        the scale-up domain) is the scale-up bandwidth, ``bandwidth_dp`` and ``bandwidth_ep`` the
        scale-out bandwidth (a conservative choice: DP and EP groups span nodes).

        >>> from symcalc.hardware import get
        >>> from symcalc import symbols as S
        >>> get("a100-80gb").subs()[S.mem_bandwidth]
        2039000000000
        """
        out = {S.peak_flops: self.peak(dtype)}
        for name, sym in SYMBOL_OF.items():
            if name in self.figures:
                out[sym] = self.figures[name].value
        if S.bandwidth_scaleup in out:
            out[S.bandwidth_tp] = out[S.bandwidth_scaleup]
        if S.bandwidth_scaleout in out:
            out[S.bandwidth_dp] = out[S.bandwidth_ep] = out[S.bandwidth_scaleout]
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the numbers (ints; null where unknown) and every figure with its source."""
        peaks = {d: int(self.peak(d)) for d in self.dtypes}
        return {
            "name": self.name, "label": self.label, "vendor": self.vendor, "aliases": list(self.aliases),
            "peak_flops": peaks,
            **{k: (None if self._value(k) is None else int(self._value(k))) for k in FIGURES},
            "figures": {k: f.as_dict() for k, f in self.figures.items()},
            "units": {"peak_flops": "FLOP/s, dense", "memory": "bytes", "mem_bandwidth": "bytes/s",
                      "bandwidth_scaleup": "bytes/s per direction", "bandwidth_scaleout": "bytes/s per direction",
                      "power": "W", "scaleup_domain": "devices"},
        }


@dataclass
class Catalogue:
    """Name -> entry, with aliases; lookups are case-insensitive and a miss is a one-line error."""

    entries: dict[str, Hardware] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def add(self, hw: Hardware) -> Hardware:
        for key in (hw.name, *hw.aliases):
            if key in self.aliases:
                raise ValueError(f"duplicate hardware name {key!r}")
            self.aliases[key] = hw.name
        self.entries[hw.name] = hw
        return hw

    def find(self, name: str) -> Optional[Hardware]:
        if not isinstance(name, str):
            return None
        key = _normal(name)
        return self.entries[self.aliases[key]] if key in self.aliases else None

    def get(self, name: Any, flag: str = "--hardware") -> Hardware:
        if isinstance(name, Hardware):
            return name
        if not isinstance(name, str):
            raise SymcalcError(f"{flag} {name!r} is not a hardware name; see `symcalc hardware`")
        hw = self.find(name)
        if hw is None:
            close = get_close_matches(_normal(name), list(self.aliases), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise SymcalcError(f"{flag} {name!r} is not in the catalogue{hint} (`symcalc hardware` lists them all)")
        return hw


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")
