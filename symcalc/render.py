"""LaTeX in the papers' notation, and the formula sheets in ``formulas/``.

:func:`latex` prints any expression, :class:`~symcalc.breakdown.Breakdown` (an ``aligned``
block: one line per part, then the total) or mapping of names to expressions with the letters of
DESIGN.md (:data:`symcalc.symbols.LATEX_NAMES`: L, h, a, g, d_h, f, v, s, b, ...). The result is
a ``str`` that Jupyter displays as math (``_repr_latex_``).

The formula sheets are generated from the code, never written by hand:
``python -m symcalc.render --write formulas/`` writes one Markdown file (``$$`` blocks, which
GitHub renders) and one ``.tex`` file (to ``\\input`` in a paper) per topic, each formula with
its source; ``--check formulas/`` exits 1 when they are out of date (the tests do the same).

>>> from symcalc import latex, Model, params
>>> from symcalc.symbols import n_layers, d_model
>>> latex(12 * n_layers * d_model**2)
'12 L h^{2}'
>>> print(latex(params(Model(n_layers=2, d_model=8, n_heads=2, n_kv_heads=2, d_ff=32, vocab=10)).grouped()))
\\begin{aligned}
\\text{embedding} &= 80 \\\\
\\text{attention} &= 512 \\\\
\\text{mlp} &= 1024 \\\\
\\text{norms} &= 64 \\\\
\\text{final\\_norm} &= 16 \\\\
\\text{lm\\_head} &= 80 \\\\
\\text{total} &= 1776
\\end{aligned}
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from sympy import Eq, Expr, Symbol
from sympy import latex as _sympy_latex

from .breakdown import Breakdown
from .errors import SymcalcError
from .inputs import as_bool, as_expr, as_symbol, as_text
from .symbols import LATEX_NAMES
from .typeset import aligned, breakdown_block, upright_spacing

__all__ = ["Latex", "latex", "frontier_latex", "Formula", "Sheet", "sheets", "sheet_files", "write_sheets", "check_sheets", "main"]


class Latex(str):
    """A LaTeX string that Jupyter renders as display math."""

    def _repr_latex_(self) -> str:
        return f"$${self}$$"


def _label(name: str) -> str:
    """A part name as upright text, LaTeX-safe."""
    safe = name.replace("\\", "").replace("{", "").replace("}", "")
    for ch in "_&%$#":
        safe = safe.replace(ch, "\\" + ch)
    return rf"\text{{{safe}}}"


def _names(extra: Optional[Mapping[Symbol, str]]) -> dict[Symbol, str]:
    names = dict(LATEX_NAMES)
    if extra is not None and not isinstance(extra, Mapping):
        raise SymcalcError(f"symbol_names={extra!r:.60} is not a mapping; pass {{symbol: 'latex'}}")
    names.update({as_symbol("symbol_names key", k): as_text("symbol_names value", v) for k, v in (extra or {}).items()})
    return names


def _check_settings(settings: dict) -> None:
    """sympy.latex's settings, each of the type of its default (a bool is True/False, never a string)."""
    from sympy.printing.latex import LatexPrinter

    defaults = LatexPrinter._default_settings
    for key, value in settings.items():
        if key not in defaults:
            raise SymcalcError(f"{key}: not a setting of sympy.latex; see its documentation for the settings it takes")
        if isinstance(defaults[key], bool):
            as_bool(key, value)


def latex(obj: Any, *, symbol_names: Optional[Mapping[Symbol, str]] = None, total: bool = True, **kwargs: Any) -> Latex:
    """LaTeX of an expression, a Breakdown (``aligned`` block) or a ``{name: expr}`` mapping.

    Examples
    ========

    >>> from symcalc import Model, params
    >>> from symcalc.symbols import d_head, n_kv_heads, seq_len
    >>> latex(2 * n_kv_heads * d_head * seq_len)
    '2 d_h g s'
    >>> latex(params(Model()).total).startswith('2 L f h + 2 L h^{2}')
    True

    Parameters
    ==========

    obj : sympy expression, :class:`~symcalc.breakdown.Breakdown`, or mapping of str to expression
    symbol_names : extra ``{symbol: latex}`` names (override the paper letters)
    total : for a Breakdown, end with a ``total`` line
    kwargs : passed to :func:`sympy.latex`
    """
    names = _names(symbol_names)
    total = as_bool("total", total)
    _check_settings(kwargs)

    def one(expr: Any) -> str:
        # Rename each symbol after its letter so factors sort as the papers write them (L h^2, not h^2 L).
        expr = as_expr("obj", expr)
        rename = {s: Symbol(names[s], **s.assumptions0) for s in expr.free_symbols if s in names}
        try:
            return upright_spacing(_sympy_latex(expr.xreplace(rename),
                                                symbol_names={new: names[old] for old, new in rename.items()}, **kwargs))
        except (TypeError, ValueError, KeyError) as exc:
            raise SymcalcError(f"latex settings {', '.join(kwargs)}: {' '.join(str(exc).split())[:120]}; "
                               "see sympy.latex for the settings it takes") from None

    if (isinstance(obj, Breakdown) or isinstance(obj, Mapping)) and not kwargs:
        # the paper layout: collected, zero parts left out, broken to a column (symcalc.typeset)
        return Latex(breakdown_block(obj, total=total, symbol_names=symbol_names))
    if isinstance(obj, Breakdown) or isinstance(obj, Mapping):
        lines = [rf"{_label(as_text('part name', k))} &= {one(v)}" for k, v in obj.items()]
        if isinstance(obj, Breakdown) and total:
            lines.append(rf"{_label('total')} &= {one(obj.total)}")
        body = " \\\\\n".join(lines)
        return Latex("\\begin{aligned}\n" + body + "\n\\end{aligned}")
    if isinstance(obj, Eq):
        return Latex(f"{one(obj.lhs)} = {one(obj.rhs)}")
    if isinstance(obj, str):
        raise SymcalcError(f"obj={obj!r:.60} is a string; pass a sympy expression, a Breakdown or a mapping (never parsed)")
    return Latex(one(obj))


def frontier_latex(optimum: Any, fit: Any = None) -> list[str]:
    r"""Chinchilla's compute-optimal frontier as LaTeX lines with named constants (eq. 4).

    ``N_opt(C) = G (C/k)^a``, ``D_opt(C) = G^{-1} (C/k)^b``, then G, a and b with their exact values
    and decimals, then the fit's constants when ``fit`` is given. Each line renders on its own.

    >>> from symcalc.scaling import compute_optimal, CHINCHILLA
    >>> lines = frontier_latex(compute_optimal(), CHINCHILLA)
    >>> print(lines[0])
    N_{\mathrm{opt}}(C) = G \left(\frac{C}{6}\right)^{a}
    >>> print(lines[2])
    G = \left(\frac{\alpha A}{\beta B}\right)^{\frac{1}{\alpha + \beta}} \approx 1.345
    """
    from .display import significant
    from .scaling import ChinchillaFit, ComputeOptimum

    if not isinstance(optimum, ComputeOptimum):
        raise SymcalcError(f"optimum={optimum!r:.60} is not a ComputeOptimum; pass compute_optimal(...)")
    if fit is not None and not isinstance(fit, ChinchillaFit):
        raise SymcalcError(f"fit={fit!r:.60} is not a ChinchillaFit; pass CHINCHILLA or ChinchillaFit(...)")
    G, a, b = optimum.frontier()
    k = latex(as_expr("k", optimum.flops_per_param_token))
    lines = [rf"N_{{\mathrm{{opt}}}}(C) = G \left(\frac{{C}}{{{k}}}\right)^{{a}}",
             rf"D_{{\mathrm{{opt}}}}(C) = G^{{-1}} \left(\frac{{C}}{{{k}}}\right)^{{b}}",
             rf"G = \left(\frac{{\alpha A}}{{\beta B}}\right)^{{\frac{{1}}{{\alpha + \beta}}}} \approx {significant(G, 4)}",
             rf"a = \frac{{\beta}}{{\alpha + \beta}} = {latex(a)} \approx {significant(a, 4)}, \quad "
             rf"b = \frac{{\alpha}}{{\alpha + \beta}} = {latex(b)} \approx {significant(b, 4)}"]
    if fit is not None:  # the fit's constants, two lines (a column is narrow)
        for names in ((("E", "E"), ("A", "A"), ("B", "B")), ((r"\alpha", "alpha"), (r"\beta", "beta"))):
            lines.append(", \\quad ".join(f"{name} = {float(getattr(fit, attr)):g}" for name, attr in names))
    return lines


# --- formula sheets ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Formula:
    """One displayed formula: a title, its LaTeX (display math) and where it comes from."""

    title: str
    tex: str
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        for name in ("title", "tex", "source", "note"):
            as_text(f"Formula.{name}", getattr(self, name))


@dataclass(frozen=True)
class Sheet:
    """A topic's formulas, written as ``NAME.md`` and ``NAME.tex``."""

    name: str
    title: str
    intro: str
    formulas: tuple[Formula, ...]

    def __post_init__(self) -> None:
        for name in ("name", "title", "intro"):
            as_text(f"Sheet.{name}", getattr(self, name))
        if isinstance(self.formulas, (str, bytes)) or not all(isinstance(f, Formula) for f in self.formulas):
            raise SymcalcError(f"Sheet.formulas={self.formulas!r:.60} is not a sequence of Formula")

    def markdown(self) -> str:
        """The sheet as Markdown with display math (what ``formulas/*.md`` hold)."""
        out = [f"# {self.title}", "", _GENERATED, "", self.intro, ""]
        for f in self.formulas:
            out += [f"## {f.title}", "", "$$", f.tex, "$$", ""]
            if f.note:
                out += [f.note, ""]
            out += [f"Source: {f.source}", ""]
        return "\n".join(out)

    def tex(self) -> str:
        """The sheet as LaTeX equations to input in a paper (what ``formulas/*.tex`` hold; needs amsmath)."""
        out = [f"% {self.title}", f"% {_GENERATED}", "% \\input this file; it needs amsmath.", ""]
        for f in self.formulas:
            out += [f"% {f.title}. Source: {f.source}", "\\begin{equation}", f.tex, "\\end{equation}", ""]
        return "\n".join(out)


_GENERATED = "Generated from the code by `symcalc latex sheets --write formulas/`; do not edit by hand."


def _eq(lhs: str, rhs: Any) -> str:
    return aligned([(lhs, rhs)])


def _aligned_eqs(rows: Sequence[tuple[str, Any]]) -> str:
    return aligned([(lhs, rhs.expr, "\\approx") if isinstance(rhs, _Approx) else (lhs, rhs) for lhs, rhs in rows])


def _params_sheet() -> Sheet:
    from .model import Model
    from .params import non_embedding_params, params
    from .sensitivity import leading_terms
    from .symbols import d_model, n_heads

    mha = Model(n_kv_heads=n_heads)
    llama = Model(gated_mlp=True, norm="rmsnorm")
    neox = Model(n_kv_heads=n_heads, qkv_bias=True, attn_out_bias=True, mlp_bias=True)
    kaplan = non_embedding_params(mha.replace(d_ff=4 * d_model))
    return Sheet("params", "Parameter counts", (
        "Exact parameter counts of a decoder-only transformer by part, in the notation of "
        "Korthikanti et al. 2022: $L$ layers, hidden size $h$, $a$ query heads, $g$ KV heads, "
        "head dimension $d_h = h/a$, MLP inner size $f$, vocabulary $v$. Each is "
        "`symcalc.params(Model(...))` left symbolic."), (
        Formula("Grouped-query attention, plain MLP, LayerNorm, untied embeddings (the general form)",
                latex(params(Model()).grouped()), "Vaswani et al. 2017, §3.2-3.3 (attention and MLP weights); Ainslie et al. 2023 (GQA), §2 for $g$"),
        Formula("Llama family: gated (SwiGLU) MLP, RMSNorm, GQA, no biases",
                latex(params(llama).grouped()), "Touvron et al. 2023 (Llama 2), §2; Shazeer 2020 (GLU variants)"),
        Formula("GPT-NeoX / Pythia: multi-head attention, biases on every linear, LayerNorm",
                latex(params(neox).grouped()), "Black et al. 2022 (GPT-NeoX-20B), §2"),
        Formula("Non-embedding parameters with $f = 4h$, and their leading term",
                _aligned_eqs([("N_{\\text{non-emb}}", kaplan), ("N_{\\text{non-emb}}", _Approx(leading_terms(kaplan, [d_model])))]),
                "Kaplan et al. 2020, Table 1 ($N \\approx 12 L h^2$)"),
    ))


class _Approx:
    """Marks a right-hand side as an approximation in :func:`_aligned_eqs`."""

    def __init__(self, expr: Expr):
        self.expr = expr


def _scaling_sheet() -> Sheet:
    from sympy import Symbol as Sym

    from .scaling import CHINCHILLA, chinchilla_loss, frontier_exponents, kaplan_compute, symbolic_frontier
    from .symbols import compute, n_params, tokens

    sym = symbolic_frontier()
    n_opt, d_opt, G = sym["n_params"], sym["tokens"], sym["G"]
    a, b = frontier_exponents()
    fit = CHINCHILLA
    return Sheet("scaling", "Scaling laws", (
        "Chinchilla's parametric loss and its compute-optimal frontier, solved by sympy "
        "(`symcalc.scaling`): $N$ parameters, $D$ training tokens, $C$ training FLOPs."), (
        Formula("Parametric loss", _eq("L(N, D)", sym["loss"]), "Hoffmann et al. 2022, eq. (2)"),
        Formula("The published fit (approach 3)",
                _eq("L(N, D)", chinchilla_loss(n_params, tokens)),
                "Hoffmann et al. 2022, §3.3 and Appendix D.2: "
                f"E = {float(fit.E)}, A = {float(fit.A)}, B = {float(fit.B)}, α = {float(fit.alpha)}, β = {float(fit.beta)}"),
        Formula("Compute-optimal allocation under $C = 6ND$",
                _frontier_named(n_opt, d_opt, G),
                "Hoffmann et al. 2022, eq. (4); solved by sympy from dL/dN = 0 on C = 6ND",
                note="Written with the named constant $G$; sympy's solution is checked equal to it when the sheet is built."),
        Formula("Frontier exponents of the published fit",
                _aligned_eqs([("N_{\\mathrm{opt}}", Sym("K_N") * compute**a), ("D_{\\mathrm{opt}}", Sym("K_D") * compute**b)]),
                "Hoffmann et al. 2022, Table 2 (approach 3: a = 0.46, b = 0.54)",
                note=f"$a = {latex(a)} \\approx {float(a):.4f}$, $b = {latex(b)} \\approx {float(b):.4f}$."),
        Formula("Training compute", _eq("C", kaplan_compute(n_params, tokens)), "Kaplan et al. 2020, §2.1 ($C \\approx 6N$ per token)"),
    ))


def _frontier_named(n_opt: Expr, d_opt: Expr, G: Expr) -> str:
    """N_opt = G (C/6)^(β/(α+β)), D_opt = G^-1 (C/6)^(α/(α+β)): sympy's solution, checked, in the paper's form."""
    from sympy import Rational as R

    from .scaling import FIT_SYMBOLS
    from .symbols import compute

    al, be = FIT_SYMBOLS["alpha"], FIT_SYMBOLS["beta"]
    named_n = G * (compute / 6) ** (be / (al + be))
    named_d = (compute / 6) ** (al / (al + be)) / G
    point = {FIT_SYMBOLS["A"]: R(4064, 10), FIT_SYMBOLS["B"]: R(4107, 10), al: R(34, 100), be: R(28, 100), compute: 10**24}
    for solved, named in ((n_opt, named_n), (d_opt, named_d)):
        if abs(solved.subs(point).evalf(40) / named.subs(point).evalf(40) - 1) > 1e-30:  # pragma: no cover
            raise RuntimeError("the frontier's named form differs from sympy's solution")
    return aligned([
        (r"N_{\mathrm{opt}}(C)", r"G \left(\frac{C}{6}\right)^{\frac{\beta}{\alpha + \beta}}"),
        (r"D_{\mathrm{opt}}(C)", r"G^{-1} \left(\frac{C}{6}\right)^{\frac{\alpha}{\alpha + \beta}}"),
        ("G", r"\left(\frac{\alpha A}{\beta B}\right)^{\frac{1}{\alpha + \beta}}")])


def _flops_sheet() -> Sheet:
    from .flops import forward_flops, narayanan_flops, palm_flops_per_token, six_n, training_flops
    from .model import Model
    from .symbols import seq_len

    m = Model()
    return Sheet("flops", "FLOPs", (
        "FLOPs per token of a decoder-only transformer (`symcalc.flops`): a matmul of "
        "$m \\times k$ by $k \\times n$ costs $2mnk$; the attention square is counted in full; "
        "backward is twice the forward. $s$ is the sequence length."), (
        Formula("Forward FLOPs per token, by part", latex(forward_flops(m, seq_len=seq_len, tokens=1)),
                "Kaplan et al. 2020, Table 1 (2 FLOPs per weight and $2 L s h$ for attention per token); equal to torch's FlopCounterMode"),
        Formula("Training FLOPs per token (forward + backward)",
                latex(training_flops(m, seq_len=seq_len, tokens=1).grouped()),
                "Kaplan et al. 2020, §2.1 (backward = 2 × forward); Hoffmann et al. 2022, Appendix F"),
        Formula("Training FLOPs per token with full recomputation",
                latex(training_flops(m, seq_len=seq_len, tokens=1, recompute="full").grouped()),
                "Korthikanti et al. 2022, §4 (recomputation); Narayanan et al. 2021, eq. 3"),
        Formula("Approximations per token", _aligned_eqs([
            ("6N", six_n(m)), ("F_{\\text{PaLM}}", palm_flops_per_token(m))]),
            "Kaplan et al. 2020, §2.1 (6N); Chowdhery et al. 2022 (PaLM), appendix B"),
        Formula("Narayanan et al.'s training FLOPs per step (B sequences)", _eq("F", narayanan_flops(m)),
                "Narayanan et al. 2021, eq. 3"),
    ))


def _memory_sheet() -> Sheet:
    from .memory import SYMBOLIC, layer_activations, training_memory, zero_model_states
    from .model import Model
    from .symbols import d_model, dp, n_heads, n_params, tp

    m = Model(gated_mlp=True, norm="rmsnorm")
    gpt = Model(n_kv_heads=n_heads, d_ff=4 * d_model)
    paper = dict(flash_attention=False, dropout=True)
    return Sheet("memory", "Training memory per device", (
        "Bytes per device for training (`symcalc.memory.training_memory`) on today's defaults "
        "(`symcalc.defaults`): bf16 weights and activations, fp32 gradients, fp32 master copy and AdamW "
        "moments (2 + 4 + 12 bytes per parameter), flash attention, no dropout, sequence parallelism; "
        "$N$ parameters, $b$ micro-batch, $s$ sequence, $t$, $p$, $d$, $c$ the tensor-, pipeline-, data- "
        "and context-parallel degrees. The total is the sum of the parts."), (
        Formula("Model states per device under each ZeRO stage",
                _aligned_eqs([(rf"M_{{\text{{ZeRO-{z}}}}}", zero_model_states(n_params, dp=dp, zero_stage=z).total)
                              for z in range(4)]),
                r"Rajbhandari et al. 2020 (ZeRO), §5.1 and Figure 1 ($(2 + 2 + K)\Psi$ with $K = 12$)"),
        Formula("Activations per layer of the paper's GPT (MHA, $f = 4h$, LayerNorm, eager attention, dropout, "
                "2 bytes); last line: today's flash attention without dropout",
                _aligned_eqs([
                    (r"A_{\text{none}}", layer_activations(gpt, **paper).total),
                    (r"A_{\text{TP+SP}}", layer_activations(gpt, tp=tp, sequence_parallel=True, **paper).total),
                    (r"A_{\text{selective}}", layer_activations(gpt, tp=tp, sequence_parallel=True, recompute="selective",
                                                                 **paper).total),
                    (r"A_{\text{full}}", layer_activations(gpt, recompute="full", **paper).total),
                    (r"A_{\text{flash}}", layer_activations(gpt, flash_attention=True, dropout=False).total),
                ]),
                "Korthikanti et al. 2022, Table 2 ($sbh(34 + 5as/h)$ without parallelism); flash: Dao 2023, "
                "Alg. 1-2 (Q, K, V, O and the fp32 logsumexp kept)"),
        Formula("Llama-style model, ZeRO-1, selective recomputation, by part",
                latex(training_memory(m, zero_stage=1, recompute="selective", **SYMBOLIC).grouped(), total=False),
                "Rajbhandari et al. 2020 (ZeRO), §5.1; Korthikanti et al. 2022, Table 2",
                note=(r"$\Psi$ is the number of parameters each device holds under tensor and pipeline parallelism "
                      r"(the ZeRO paper's $\Psi$); weights, gradients and optimizer states are multiples of it.")),
        Formula("Llama-style model, ZeRO-3, full recomputation, by part",
                latex(training_memory(m, zero_stage=3, recompute="full", **SYMBOLIC).grouped(), total=False),
                "Rajbhandari et al. 2020 (ZeRO), §5.1; Korthikanti et al. 2022, §4",
                note=(r"$\Psi$ is the number of parameters each device holds under tensor and pipeline parallelism "
                      r"(the ZeRO paper's $\Psi$); weights, gradients and optimizer states are multiples of it.")),
    ))


def _structures_sheet() -> Sheet:
    from . import symbols as S
    from .flops import decode_flops
    from .memory import kv_cache
    from .model import Model
    from .params import params
    from .structure import GQA, MLA, MTP, LayerSet, Window

    def attention(model: Model) -> dict:
        return {k: v for k, v in params(model).items() if k.startswith("attention/")}

    gemma = Window.sliding(S.window, LayerSet(every=6, invert=True))
    local = Model(gated_mlp=True, norm="rmsnorm", window=gemma)
    mla = Model(attention=MLA(), gated_mlp=True, norm="rmsnorm")
    ds = Model(gated_mlp=True, norm="rmsnorm", n_experts=S.n_experts, top_k=S.top_k, d_ff_expert=S.d_ff_expert,
               n_shared_experts=S.n_shared_experts, first_dense_layers=3, n_layers=S.n_layers)
    mtp = {k: v for k, v in params(ds.replace(mtp=MTP(1))).items() if k.startswith("mtp/")}
    return Sheet("structures", "Structures: latent attention, windows, qk-norm, sinks, MoE layouts, MTP", (
        "Terms the structures of `symcalc.structure` add, each written once and used by params, FLOPs, "
        "memory and the KV cache: multi-head latent attention (MLA) with query rank $r_q$, key/value rank "
        "$r_{kv}$ and per-head sizes $d_n$ (no rotary), $d_r$ (rotary) and $d_v$; windows of "
        "$s_{\\mathrm{win}}$ tokens (chunks of $s_{\\mathrm{chunk}}$) on some layers; per-layer counts "
        "are explicit (floor expressions in $L$)."), (
        Formula("MLA parameters per model, by part (DeepSeek-V2/V3, Kimi-K2)", latex(attention(mla)),
                "DeepSeek-AI 2024, DeepSeek-V2, §2.1 (eq. 9-19)"),
        Formula("MLA KV cache per token and layer: the latent, or decompressed per-head K and V", _aligned_eqs([
            ("\\text{latent}", kv_cache(mla, tokens=1, batch=1, bytes_kv=1) / S.n_layers),
            ("\\text{decompressed}", kv_cache(mla, tokens=1, batch=1, bytes_kv=1, mla_cache="decompressed") / S.n_layers)]),
                "DeepSeek-AI 2024, DeepSeek-V2, §2.1.4 and Table 1 (KV cache per token)"),
        Formula("Query-key pairs of one windowed layer over $s$ queries (the band)", _aligned_eqs([
            ("P_{\\text{sliding}}(s)", Window.sliding(S.window).cumulative_pairs(S.seq_len, "band")),
            ("P_{\\text{chunked}}(s)", Window.chunked(S.chunk).cumulative_pairs(S.seq_len, "band"))]),
                "Beltagy et al. 2020, Longformer, §3.1 (sliding window); Jiang et al. 2023, Mistral 7B, §2",
                note="The default counts the full square $s^2$ that eager attention computes under the mask."),
        Formula("KV cache of a Gemma-3-style model: sliding window on all but every 6th layer (W tokens kept)",
                _eq("M_{\\mathrm{KV}}", kv_cache(local, tokens=S.context_len, batch=S.micro_batch, bytes_kv=S.bytes_kv)),
                "Gemma Team 2025, Gemma 3 technical report, §2 (5:1 local:global attention)"),
        Formula("Decode FLOPs of one token on that model at context $s_{\\mathrm{ctx}}$ (keys the cache returns)",
                _eq("F_{\\text{decode}}", decode_flops(local, context_len=S.context_len).total),
                "Jiang et al. 2023, Mistral 7B, §2 (rolling buffer cache)"),
        Formula("qk-norm and attention sinks per model", _aligned_eqs([
            ("N_{\\text{qk-norm, per head}}", params(Model(attention=GQA(qk_norm="head")))["attention/qk_norm"]),
            ("N_{\\text{qk-norm, full width}}", params(Model(attention=GQA(qk_norm="full")))["attention/qk_norm"]),
            ("N_{\\text{sinks}}", params(Model(attention=GQA(sinks=True)))["attention/sinks"])]),
                "Dehghani et al. 2023, Scaling Vision Transformers to 22B, §3.1 (qk-norm); Xiao et al. 2024, "
                "Efficient Streaming Language Models with Attention Sinks, §3"),
        Formula("Dense-first MoE with shared experts (3 dense layers), total and active", _aligned_eqs([
            ("N", params(ds).total), ("N_{\\text{active}}", params(ds, active=True).total)]),
                "Dai et al. 2024, DeepSeekMoE, §3 (shared experts); DeepSeek-AI 2024, DeepSeek-V3, §2.1.2"),
        Formula("One multi-token-prediction module of that model, by part", latex(mtp, total=False),
                "DeepSeek-AI 2024, DeepSeek-V3, §2.2 (MTP modules)"),
    ))


#: Sheet builders, in order.
_SHEETS: list[Callable[[], Sheet]] = [_params_sheet, _flops_sheet, _memory_sheet, _structures_sheet, _scaling_sheet]


def sheets() -> list[Sheet]:
    """Every formula sheet, built from the code now, on today's defaults (whatever set is active:
    the sheets in ``formulas/`` are one document, not a function of ``--cookbook``)."""
    from .defaults import using

    with using("today"):
        return [build() for build in _SHEETS]


def sheet_files() -> dict[str, str]:
    """``{filename: text}`` of every sheet, Markdown and LaTeX."""
    out: dict[str, str] = {}
    for sheet in sheets():
        out[f"{sheet.name}.md"] = sheet.markdown()
        out[f"{sheet.name}.tex"] = sheet.tex()
    return out


def _directory(directory: Any) -> Path:
    """A folder path (str or os.PathLike), one line on a bad value."""
    import os

    if not isinstance(directory, (str, os.PathLike)):
        raise SymcalcError(f"directory={directory!r:.60} is not a path; give a folder such as 'formulas/'")
    return Path(directory)


def write_sheets(directory: Any) -> list[Path]:
    """Write every sheet into ``directory``; returns the paths written."""
    root = _directory(directory)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sheet_files().items():
        path = root / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def check_sheets(directory: Any) -> list[str]:
    """Names of the sheets in ``directory`` that are missing or differ from the code."""
    root = _directory(directory)
    stale = []
    for name, text in sheet_files().items():
        path = root / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m symcalc.render --write DIR`` or ``--check DIR``."""
    if argv is not None and (not isinstance(argv, (list, tuple)) or not all(isinstance(a, str) for a in argv)):
        raise SymcalcError(f"argv={argv!r:.60} is not a list of strings; e.g. ['--check', 'formulas/']")
    parser = argparse.ArgumentParser(prog="python -m symcalc.render", description="write or check the formula sheets")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="DIR", help="write the sheets into DIR (e.g. formulas/)")
    group.add_argument("--check", metavar="DIR", help="exit 1 if the sheets in DIR are out of date")
    args = parser.parse_args(argv)
    if args.write:
        for path in write_sheets(args.write):
            print(path)
        return 0
    stale = check_sheets(args.check)
    if stale:
        where = args.check if args.check.isprintable() else repr(args.check)
        sys.stderr.write(f"out of date: {', '.join(stale)}; run python -m symcalc.render --write {where}\n")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
