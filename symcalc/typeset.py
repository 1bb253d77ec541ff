"""LaTeX for papers: sums collected by part and broken over aligned lines that fit a column.

:func:`symcalc.latex` prints one expression on one line; this module lays out what is too long
for that, as a paper would:

- **common factors collected**: the terms of a sum are grouped by their parallel-degree
  denominator (t, p, d, e, c, n: the sharding) and each group's common factor is pulled out,
  ``\\frac{2 L}{p t} \\left(2 f h + f + \\dots\\right)``;
- **grouped by part** (:func:`breakdown_block`): one line per part of a Breakdown, parts equal to
  0 left out; parts that are a multiple of one another's per-device parameter count share the
  symbol Ψ (the ZeRO paper's letter), defined on its own line, so weights, gradients and
  optimizer read ``2 Ψ``, ``2 Ψ`` and ``12 Ψ / d``; a ZeRO stage left as the symbol ``z`` gives
  ``cases`` per part;
- **long sums broken** over ``aligned`` lines so that each line fits a column of
  :data:`COLUMN_PT` = 240 pt at 10 pt (one column of a two-column paper). Widths are estimated
  from TeX's font metrics (:func:`width_em`); the tests measure the result with KaTeX;
- **multi-letter names upright and separated**: ``\\mathrm{MFU}`` gets a thin space from its
  neighbours, so ``d p t \\mathrm{MFU}`` does not read "dptMFU".

>>> from symcalc import Model, params
>>> print(aligned([("N", params(Model()).total)]))
\\begin{aligned}
N &= 2 h \\left(L f + L h + \\frac{L g h}{a} + 2 L + v + 1\\right)
\\end{aligned}
"""

from __future__ import annotations

import re
from functools import reduce
from typing import Any, Optional, Sequence

from sympy import Add, Expr, Integer, Mul, Piecewise, Symbol, cancel, expand, factor_terms, fraction, gcd, piecewise_fold

from . import symbols as S
from .errors import SymcalcError
from .inputs import as_expr, as_text

__all__ = ["COLUMN_PT", "width_em", "upright_spacing", "sum_chunks", "aligned", "breakdown_block"]

#: A column of a two-column paper at 10 pt: 240 pt (3.33 in); 1 em = 10 pt.
COLUMN_PT = 240
#: Lines are filled to this share of the column (the estimate is within a few percent of TeX's).
_FILL = 0.9
#: The sharding degrees: terms are grouped by these in the denominator.
DEGREES = frozenset({S.tp, S.pp, S.dp, S.ep, S.cp, S.n_devices})

# Glyph widths in em (TeX's Computer Modern metrics, as KaTeX ships them).
_ITALIC = dict(zip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    .529, .429, .433, .520, .466, .490, .477, .576, .345, .412, .521, .298, .878, .600, .485, .503, .446, .451,
    .469, .361, .572, .485, .716, .572, .490, .465, .750, .759, .715, .828, .738, .643, .786, .831, .440, .555,
    .849, .681, .970, .803, .763, .642, .791, .759, .613, .584, .683, .583, .944, .828, .581, .683)))
_ROMAN = dict(zip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", (
    .500, .556, .444, .556, .444, .306, .500, .556, .278, .306, .528, .278, .833, .556, .500, .556, .528, .392,
    .394, .389, .556, .528, .722, .528, .528, .444, .750, .708, .722, .764, .681, .653, .785, .750, .361, .514,
    .778, .625, .917, .750, .778, .681, .778, .736, .556, .722, .750, .750, 1.028, .750, .750, .611) + (.5,) * 10))
_ROMAN.update({"(": .389, ")": .389, "[": .278, "]": .278, ",": .278, ".": .278, "/": .5, ":": .278, "-": .333,
               "_": .5, " ": .333, "'": .278, "%": .833, "!": .278})
_COMMANDS = {"alpha": .640, "beta": .566, "eta": .497, "tau": .437, "Psi": .612, "cdot": .278, "quad": 1.0,
             ",": .167, ";": .278, " ": .333, "!": -.167, "qquad": 2.0, "dots": 1.172, "ldots": 1.172, "cdots": 1.172,
             "max": 1.667, "min": 1.389, "log": 1.278, "exp": 1.528, "lceil": .444, "rceil": .444, "lfloor": .444,
             "rfloor": .444, "infty": 1.0, "sqrt": .833}
_RELATIONS = {"=": .778, "approx": .778, "ge": .778, "le": .778, "geq": .778, "leq": .778, "<": .778, ">": .778}
_BINARY = {"+": .778, "-": .778, "cdot": .278, "times": .778}
_DELIMS = {"left": .6, "right": .6, "bigl": .46, "bigr": .46, "Bigl": .6, "Bigr": .6, "biggl": .74, "biggr": .74}
_SCALE = (1.0, 1.0, 0.7, 0.5)  # display, text, script, scriptscript


class _Reader:
    """A cursor over LaTeX text (the subset sympy and this module write)."""

    def __init__(self, text: str) -> None:
        self.text, self.i = text, 0

    def group(self) -> str:
        """The next ``{...}`` group's contents, or the next single token."""
        t = self.text
        while self.i < len(t) and t[self.i] == " ":
            self.i += 1
        if self.i >= len(t):
            return ""
        if t[self.i] == "{":
            depth, start = 0, self.i
            while self.i < len(t):
                depth += {"{": 1, "}": -1}.get(t[self.i], 0)
                self.i += 1
                if depth == 0:
                    return t[start + 1:self.i - 1]
            return t[start + 1:]
        if t[self.i] == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", t[self.i:])
            self.i += len(m.group(0))
            return m.group(0)
        self.i += 1
        return t[self.i - 1]


def width_em(tex: str, level: int = 0) -> float:
    """Estimated natural width of display math ``tex`` in em (TeX's metrics; about what TeX sets).

    >>> round(width_em(r"\\frac{2 L}{p t} + \\mathrm{MFU}^{2}"), 2)     # pdflatex: 5.41 em
    5.36
    """
    tex = as_text("tex", tex)
    from .inputs import as_int

    scale = _SCALE[min(as_int("level", level, minimum=0), 3)]
    r = _Reader(tex)
    w = 0.0
    while r.i < len(tex):
        ch = tex[r.i]
        if ch in " &{}":
            if ch == "{":
                w += width_em(r.group(), level)
            else:
                r.i += 1
            continue
        if ch in "^_":
            r.i += 1
            w += width_em(r.group(), max(level, 1) + 1) + 0.05 * scale
            continue
        if ch == "\\":
            cmd = r.group()[1:]
            if cmd == "frac":
                inner = max(level, 0) + 1
                w += max(width_em(r.group(), inner), width_em(r.group(), inner)) + 0.24 * scale
            elif cmd in ("text", "mathrm", "operatorname"):
                w += sum(_ROMAN.get(c, .5) for c in r.group().replace("\\_", "_")) * scale
            elif cmd == "sqrt":
                if tex[r.i:r.i + 1] == "[":
                    end = tex.index("]", r.i)
                    w += width_em(tex[r.i + 1:end], 3)
                    r.i = end + 1
                w += width_em(r.group(), level) + 0.85 * scale
            elif cmd in _DELIMS:
                r.group()
                w += _DELIMS[cmd] * scale
            elif cmd in _RELATIONS:
                w += (_RELATIONS[cmd] + (0.556 if level < 2 else 0)) * scale
            elif cmd in _BINARY:
                w += (_BINARY[cmd] + (0.444 if level < 2 else 0)) * scale
            elif cmd in ("begin", "end"):
                r.group()
            elif cmd == "\\":
                pass
            else:
                w += _COMMANDS.get(cmd, 0.8) * scale
            continue
        r.i += 1
        if ch in _BINARY:
            w += (_BINARY[ch] + (0.444 if level < 2 else 0)) * scale
        elif ch in _RELATIONS:
            w += (_RELATIONS[ch] + (0.556 if level < 2 else 0)) * scale
        else:
            w += (_ITALIC.get(ch) or _ROMAN.get(ch, .5)) * scale
    return w


def upright_spacing(tex: str) -> str:
    """A thin space between a multi-letter upright name (``\\mathrm{MFU}``) and a neighbouring letter.

    >>> upright_spacing(r"d p t \\mathrm{MFU} F_{\\mathrm{peak}}")
    'd p t \\\\, \\\\mathrm{MFU} \\\\, F_{\\\\mathrm{peak}}'
    """
    tex = as_text("tex", tex)
    names = sorted({n for n in S.LATEX_NAMES.values() if re.fullmatch(r"\\mathrm\{[A-Za-z]{2,}\}", n)}, key=len)
    for name in names:
        tex = re.sub(r"(?<=[A-Za-z0-9}]) " + re.escape(name), lambda m: r" \, " + name, tex)
        tex = re.sub(re.escape(name) + r" (?=[A-Za-z]|\\(?!,))", lambda m: name + r" \, ", tex)
    return tex


#: Stands for the shared base (Ψ) while a part is printed.
_BASE = Symbol("symcalc_base", positive=True)


#: Extra symbol names of the call being laid out (render.latex's ``symbol_names``).
_NAMES: dict = {}


def _latex(expr: Expr, base_name: str = r"\Psi") -> str:
    from .render import latex

    return latex(expr, symbol_names={**_NAMES, _BASE: base_name})


def _condition(cond: Any) -> str:
    """A Piecewise condition as LaTeX (``z \\ge 3``); the last one is "otherwise"."""
    ops = {">=": r"\ge", "<=": r"\le", ">": ">", "<": "<", "==": "="}
    if cond is True or getattr(cond, "is_Relational", False) is False:
        return r"\text{otherwise}"
    return f"{_latex(cond.lhs)} {ops.get(cond.rel_op, cond.rel_op)} {_latex(cond.rhs)}"


def _signed(tex: str) -> tuple[str, str]:
    return ("-", tex[1:].strip()) if tex.startswith("-") else ("+", tex)


def sum_chunks(expr: Any) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The terms of ``expr`` collected by sharding denominator, common factors pulled out.

    Each chunk is ``(sign, outer, inner)``: ``outer`` is the LaTeX of the common factor (or of the
    whole term when ``inner`` is empty), ``inner`` the signed terms inside its parentheses.

    >>> from symcalc.symbols import d_model as h, n_layers as L, tp as t, pp as p
    >>> [chunk[:3] for chunk in sum_chunks(4 * L * h**2 / (p * t) + 2 * L * h / (p * t) + 3 * h)]
    [('+', '3 h', []), ('+', '\\\\frac{2 L h}{p t}', [('+', '2 h'), ('+', '1')])]
    """
    expr = expand(as_expr("expr", expr), power_base=False, power_exp=False, log=False)
    groups: dict[Expr, list[Expr]] = {}
    for term in Add.make_args(expr):
        degree = _sharding(term)
        groups.setdefault(degree, []).append(term * degree)
    out = []
    for degree, terms in groups.items():
        collected = factor_terms(Add(*terms))
        adds = [a for a in Mul.make_args(collected) if a.is_Add]
        written = [_signed(_latex(t / degree)) for t in _ordered(Add(*terms))]
        outer = collected / adds[0] / degree if len(adds) == 1 else Integer(1)
        if len(terms) == 1 or len(adds) != 1 or outer == 1:
            out.extend((sign, tex, [], []) for sign, tex in written)
            continue
        sign, outer_tex = _signed(_latex(outer))
        inner = [_signed(_latex(t)) for t in _ordered(adds[0])]
        out.append((sign, outer_tex, inner, written))
    return out


def _sharding(term: Expr) -> Expr:
    """The product of the sharding degrees in a term's denominator (``p t`` of ``2 L h/(p t)``)."""
    return Mul(*[f for f in Mul.make_args(fraction(term)[1]) if f.free_symbols and f.free_symbols <= DEGREES])


def _ordered(expr: Expr) -> list[Expr]:
    """The terms of a sum in the order sympy's LaTeX printer writes them."""
    from sympy.printing.latex import LatexPrinter

    return list(LatexPrinter(dict(order=None))._as_ordered_terms(expr, order=None))


def _fill(parts: list[tuple[str, str]], first_room: float, room: float) -> list[list[tuple[str, str]]]:
    """Greedy line filling: (sign, tex) parts into lines of at most the given widths in em."""
    lines: list[list[tuple[str, str]]] = [[]]
    used = 0.0
    for sign, tex in parts:
        w = width_em(tex) + (1.222 if lines[-1] or sign == "-" else 0)
        limit = first_room if len(lines) == 1 else room
        if lines[-1] and used + w > limit:
            lines.append([])
            used = 1.222 + width_em(tex) + 1.0
        else:
            used += w
        lines[-1].append((sign, tex))
    return lines


def _join(items: list[tuple[str, str]], first: bool) -> str:
    text = ""
    for i, (sign, tex) in enumerate(items):
        text += (("- " if sign == "-" else "") if first and i == 0 else f" {sign} ") + tex
    return text.strip()


def _rhs_lines(chunks: list, first_room: float, room: float) -> list[str]:
    """Right-hand sides of aligned rows: chunks filled into lines; a collected group too wide for a
    line of its own is written out term by term (its common factor multiplied back in)."""
    pieces: list[tuple[str, str]] = []
    for sign, outer, inner, terms in chunks:
        if not inner:
            pieces.append((sign, outer))
            continue
        whole = rf"{outer} \left({_join(inner, True)}\right)"
        if width_em(whole) <= room:
            pieces.append((sign, whole))
        else:
            pieces.extend(terms)
    lines = _fill(pieces, first_room, room)
    return [_join(line, i == 0) for i, line in enumerate(lines)]


def aligned(rows: Sequence[tuple], *, width_pt: Any = COLUMN_PT, symbol_names: Any = None) -> str:
    """An ``aligned`` block of ``lhs = rhs`` rows, each right-hand side collected and broken to fit.

    A row is ``(lhs, rhs)`` or ``(lhs, rhs, relation)`` (``"="``, ``"\\approx"``); ``rhs`` is an
    expression (collected by :func:`sum_chunks`) or a LaTeX string (kept whole). Continuation lines
    start ``&\\quad +``. ``symbol_names`` is :func:`symcalc.latex`'s.
    """
    from .inputs import as_positive
    from .render import _names

    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or \
            not all(isinstance(r, (tuple, list)) and len(r) in (2, 3) for r in rows):
        raise SymcalcError(f"rows={str(rows)[:60]!r} is not a list of (lhs, rhs) or (lhs, rhs, relation) rows")
    column = float(as_positive("width_pt", width_pt)) / 10 * _FILL
    names = {k: v for k, v in _names(symbol_names).items() if k not in S.LATEX_NAMES or v != S.LATEX_NAMES[k]}
    lhs_width = max(width_em(as_text("lhs", r[0])) for r in rows) if rows else 0.0
    out = []
    _NAMES.clear()
    _NAMES.update(names)
    for lhs, rhs, *rel in rows:
        relation = as_text("relation", rel[0]) if rel else "="
        if isinstance(rhs, str):
            lines = [rhs]
        else:
            first = column - lhs_width - width_em(relation)
            lines = _rhs_lines(sum_chunks(rhs), first, first - 1.0)
        out.append(f"{lhs} &{relation} {lines[0]}")
        out += [rf"&\quad {line}" for line in lines[1:]]
    return "\\begin{aligned}\n" + " \\\\\n".join(out) + "\n\\end{aligned}"


def _label(name: str) -> str:
    from .render import _label as label

    return label(name)


def _branches(expr: Expr) -> list[tuple[Expr, Any]]:
    """``[(value, condition)]`` of a (folded) Piecewise, or ``[(expr, True)]``."""
    folded = piecewise_fold(expr)
    if isinstance(folded, Piecewise):
        return [(e, c) for e, c in folded.args]
    return [(folded, True)]


def _base(parts: dict[str, Expr]) -> Optional[Expr]:
    """A per-device parameter count Ψ that at least two parts are monomial multiples of (or None)."""
    for value in parts.values():
        default = expand(_branches(value)[-1][0])
        if not default.is_Add or not default.free_symbols - DEGREES:  # numbers and degrees only: no Ψ
            continue
        content, primitive = default.as_content_primitive()
        # a sharding factor every term shares (ZeRO-3's 1/d) stays outside Ψ
        shared = reduce(gcd, (_sharding(t) for t in Add.make_args(primitive)))
        primitive = expand(primitive * shared)
        hits = sum(1 for v in parts.values() if _multiple(v, primitive) is not None)
        if hits >= 2:
            return primitive
    return None


def _multiple(value: Expr, base: Expr) -> Optional[list[tuple[Expr, Any]]]:
    """``[(r, condition)]`` with value = r·base on each branch, r free of model sizes; else None."""
    out = []
    for expr, cond in _branches(value):
        ratio = cancel(expand(expr) / base)
        if ratio.free_symbols - DEGREES or ratio.is_Add:
            return None
        out.append((ratio, cond))
    return out


def breakdown_block(bd: Any, *, total: bool = True, width_pt: Any = COLUMN_PT, symbol_names: Any = None) -> str:
    """A Breakdown (or ``{name: expr}``) as a paper would set it: one collected, broken line per part.

    Parts equal to 0 are left out; a shared per-device parameter count becomes Ψ on its own line;
    a Piecewise part (ZeRO stage ``z`` left symbolic) becomes ``cases``. With ``total``, the first
    row is the total: its expression when that fits on one line, else the sum of the parts' names.
    """
    from collections.abc import Mapping

    from .breakdown import Breakdown

    if not isinstance(bd, Mapping):
        raise SymcalcError(f"bd={bd!r:.60} is not a Breakdown or mapping of names to expressions")
    from .inputs import as_bool
    from .render import _names

    from .inputs import as_positive

    total, base_name = as_bool("total", total), r"\Psi"
    width_pt = as_positive("width_pt", width_pt)
    _NAMES.clear()
    _NAMES.update({k: v for k, v in _names(symbol_names).items() if S.LATEX_NAMES.get(k) != v})
    parts = {as_text("part name", k): as_expr(f"part {k!r}", v) for k, v in bd.items()}
    parts = {k: v for k, v in parts.items() if v != 0} or parts
    named, definitions = _name_maxima(parts.values())
    parts = {k: v.xreplace(named) for k, v in parts.items()}
    # Ψ, the per-device parameter count, is a memory notion: only for breakdowns in bytes
    bytes_ = isinstance(bd, Breakdown) and bd.unit == "bytes"
    base = _base(parts) if bytes_ and any(v.free_symbols for v in parts.values()) else None
    rows: list[tuple[str, Any]] = []
    for name, value in parts.items():
        multiple = _multiple(value, base) if base is not None else None
        if multiple is not None:
            rows.append((_label(name), _cases([(r * _BASE, c) for r, c in multiple], base_name)))
        elif len(_branches(value)) > 1:
            rows.append((_label(name), _cases(_branches(value), base_name)))
        else:
            rows.append((_label(name), value))
    if total and isinstance(bd, Breakdown):
        whole = bd.total
        column = float(width_pt) / 10 * _FILL
        if len(_branches(whole)) == 1 and width_em(_latex(whole)) + width_em(_label("total")) + 1.4 <= column:
            rows.append((_label("total"), whole))
        else:
            rows.insert(0, (_label("total"), " + ".join(_label(k) for k in parts)))
    if base is not None:
        rows.append((base_name, base))
    rows += definitions
    block = aligned(rows, width_pt=width_pt, symbol_names=symbol_names)
    return _break_names(block, width_pt)


def _name_maxima(exprs: Any) -> tuple[dict, list[tuple[str, str]]]:
    """Each ``Max(...)`` with a sharding degree inside gets a name and a row of its own.

    ``max(1, g/t)``, the KV heads each tensor-parallel rank holds, becomes ``g_t``; any other
    becomes ``m_1``, ``m_2``, ... So ``\\frac{2 L h^{2} g_t}{a p}`` stays a monomial in the sharding
    degrees and collects with its neighbours.
    """
    from sympy import Max

    found: list = []
    for e in exprs:
        for m in sorted(e.atoms(Max), key=str):
            if m.free_symbols & DEGREES and m not in found:
                found.append(m)
    named, rows = {}, []
    for i, m in enumerate(found):
        if m == Max(1, S.n_kv_heads / S.tp):
            symbol, tex = Symbol("g_t", positive=True), "g_{t}"
        else:
            symbol, tex = Symbol(f"m_{i + 1}", positive=True), f"m_{{{i + 1}}}"
        named[m] = symbol
        _NAMES[symbol] = tex
        rows.append((tex, _latex(m)))
    return named, rows


def _cases(branches: list[tuple[Expr, Any]], base_name: str) -> str:
    """One value, or a ``cases`` block of values and conditions (PSI printed as the base's name)."""
    if len(branches) == 1:
        return _latex(branches[0][0], base_name)
    rows = [f"{_latex(value, base_name)} & {_condition(cond)}" for value, cond in branches]
    return "\\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"


def _break_names(block: str, width_pt: Any) -> str:
    """A total written as the sum of part names, broken over lines when wider than the column."""
    lines = block.split(" \\\\\n")
    head = lines[0]
    if "&= \\text{" not in head or width_em(head) <= float(width_pt) / 10 * _FILL:
        return block
    prefix, _, names = head.partition("&= ")
    lhs = prefix.replace("\\begin{aligned}\n", "")
    column = float(width_pt) / 10 * _FILL - width_em(lhs) - 1.4
    pieces = [("+", n.strip()) for n in names.split(" + ")]
    filled = _fill(pieces, column, column - 1.0)
    new = [f"{prefix}&= {_join(filled[0], True)}"] + [rf"&\quad + {_join(f, True)}" for f in filled[1:]]
    return " \\\\\n".join(new + lines[1:])
