"""Flag parsing for the sympy-free path of the other subcommands (:mod:`symcalc.cli._fast_time`, ...).

Each command lists its flags as ``spelling -> (key, kind)``; :func:`parse` reads ``argv`` into a
dict, or returns None for anything it does not know (a flag given twice, an abbreviation, a value
of another form): the full path then parses it, with its errors. Numbers are read exactly as
:mod:`symcalc.inputs` reads them, for the forms covered here: decimals with an optional exponent
and (counts) a 1000-based suffix K M B T; fractions ``3/2``, underscores and spaces go to the full
path. Imports no sympy (nor ``re``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["parse", "table", "number", "amount", "share", "budget_bytes", "whole", "kibi", "answer_with"]

_SCALE = {"k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
#: Exact values outside [1e-30, 1e30] are the full path's (its flags refuse them with an error).
MAX_AMOUNT = 10**30


def number(text: str, suffix: bool = True) -> Optional[object]:
    """The exact value (an int, else a Fraction) of ``2e12``, ``989.4T`` (``suffix``: K M B T), ``0.4``; else None.

    >>> number("2T"), number("989.4e12"), number("0.4"), number("1.5k"), number("7b", suffix=False)
    (2000000000000, 989400000000000, Fraction(2, 5), 1500, None)
    """
    from fractions import Fraction

    if not text.isascii() or not text or len(text) > 40:
        return None
    scale = 1
    if suffix and text[-1].lower() in _SCALE:
        scale, text = _SCALE[text[-1].lower()], text[:-1]
    mantissa, e, exponent = text.replace("E", "e").partition("e")
    whole_part, _, frac = mantissa.partition(".")
    if not whole_part.isdigit() or (frac and not frac.isdigit()):
        return None
    if e:
        sign = exponent[:1] in "+-" and exponent[:1] or ""
        digits = exponent[len(sign):]
        if not digits.isdigit() or len(digits) > 2:
            return None
        exponent = int(exponent)
    else:
        exponent = 0
    value = Fraction(int(whole_part + frac), 10 ** len(frac)) * scale * Fraction(10) ** exponent
    return value.numerator if value.denominator == 1 else value


def amount(text: str, suffix: bool = True, zero: bool = False) -> Optional[object]:
    """:func:`number` within the CLI's range (above 0, or 0 with ``zero``, up to 1e30); else None."""
    from fractions import Fraction

    value = number(text, suffix)
    if value is None or value > MAX_AMOUNT or value < 0 or (value == 0 and not zero):
        return None
    return None if value != 0 and value < Fraction(1, MAX_AMOUNT) else value


def share(text: str) -> Optional[object]:
    """A fraction written ``0.4`` or ``40%`` (an MFU, an efficiency) as :func:`symcalc.cost.as_mfu` reads those
    forms, exact; None for any other form (the caller checks the range and falls back)."""
    from fractions import Fraction

    percent = text.endswith("%")
    value = amount(text[:-1] if percent else text, suffix=False)
    return None if value is None else Fraction(value, 100) if percent else value


_BYTES = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}


def budget_bytes(text: str):
    """:func:`symcalc.inputs.parse_bytes` for ``80GiB``, ``80GB``, ``80G``, ``512MiB``, ``1e9``, ``1e9B``; else None."""
    if text[-1:] in ("b", "B"):
        text = text[:-1]
    scale = 1
    for suffix in ("ki", "mi", "gi", "ti", "pi", "k", "m", "g", "t", "p"):
        cut = len(suffix)
        if text[-cut:].lower() == suffix and (cut == 1 or text[-1] == "i"):
            scale, text = _BYTES[suffix], text[:-cut]
            break
    value = amount(text, suffix=False, zero=True) if text else None
    return None if value is None else value * scale


def whole(text: str) -> Optional[int]:
    """A positive integer as plain decimal digits (``8192``; not ``08``, ``2e3``, past 1e18); else None."""
    if not text.isascii() or not text.isdigit() or text[0] == "0" or len(text) > 18:
        return None
    return int(text)


def kibi(text: str) -> Optional[str]:
    """``"4k"`` -> ``"4096"``, ``"1.5k"`` -> ``"1536"``, ``"1M"`` -> ``"1048576"`` (symcalc.cli.common.seq_len_type);
    None unless a whole number of tokens."""
    digits, scale = text[:-1], 1024 if text[-1] in "kK" else 1024**2
    whole_part, _, frac = digits.partition(".")
    if not (whole_part.isascii() and whole_part.isdigit() and (not frac or frac.isascii() and frac.isdigit())):
        return None
    numerator, denominator = int(whole_part + frac) * scale, 10 ** len(frac)
    return None if numerator % denominator else str(numerator // denominator)


#: The numeric path's kinds of flag (:mod:`symcalc.cli._fast`) as :func:`parse` reads them.
_KINDS = {"name": "text", "policy": ("none", "selective", "full"), "stage": ("0", "1", "2", "3")}


def table(flags: dict) -> dict:
    """``flags`` with the numeric path's kinds (``name``, ``policy``, ``stage``) as :func:`parse` reads them."""
    return {k: (key, _KINDS.get(kind, kind)) for k, (key, kind) in flags.items()}


def parse(argv: Sequence[str], flags: dict) -> Optional[dict]:
    """``{key: value}`` of ``argv`` by ``flags`` (spelling -> (key, kind)); None when not covered.

    Kinds: ``"flag"`` (no value: True), ``"text"`` (the value as given), ``"int"`` (:func:`whole`),
    ``"seq"`` (a sequence length: :func:`whole`, or ``4k``/``1M`` with k = 1024), or a tuple of choices.
    """
    opts: dict = {}
    words = list(argv)
    while words:
        word = words.pop(0)
        if "=" in word and word.startswith("--"):
            word, value = word.split("=", 1)
            words.insert(0, value)
        if word not in flags:
            return None
        key, kind = flags[word]
        if key in opts:
            return None
        if kind == "flag":
            opts[key] = True
            continue
        if not words:
            return None
        value = words.pop(0)
        if isinstance(kind, tuple):
            if value not in kind:
                return None
        elif kind == "int" or kind == "seq":
            if kind == "seq" and value[-1:] in ("k", "K", "m", "M"):  # 4k = 4096, 1M = 1024**2 (model cards)
                value = kibi(value)
                if value is None:
                    return None
            value = whole(value)
            if value is None:
                return None
        opts[key] = value
    return opts


def answer_with(argv: Sequence[str], flags: dict, compute, defaults: dict) -> Optional[str]:
    """A command's text (its JSON with ``--json``) from ``compute(opts, defaults) -> (json object, text lines)``;
    None when ``argv`` is not covered or ``compute`` raises :class:`symcalc.cli._fast._Fallback`."""
    from ._fast import _Fallback

    opts = parse(argv[1:], flags)
    if opts is None:
        return None
    try:
        out, lines = compute(opts, defaults)
    except _Fallback:
        return None
    if opts.get("json"):
        import json

        return json.dumps(out, indent=2)
    return "\n".join(lines)
