"""Figures (matplotlib is optional: ``pip install 'symcalc[plot]'``).

Every figure function returns a :class:`matplotlib.figure.Figure` built without pyplot (no GUI
backend, safe in scripts and tests); save it with ``fig.savefig("file.png")`` (or ``.svg``,
``.pdf``), or with :func:`save_figure`. The data drawn are the library's own numbers (bytes in GiB
= 2^30, seconds), so a figure can be checked against them: each function's docstring says which
artist holds which numbers.

- :func:`memory_figure`: memory per device by part, stacked, one bar per configuration, with the
  budget line;
- :func:`micro_batch_figure`: the largest micro-batch against the sequence length, and the memory it
  needs against the budget line;
- :func:`plan_figure`: a plan's configurations, memory per device against step time;
- :func:`scaling_figure`: a scaling-law fit's loss contours over (N, D), iso-FLOP lines and the
  compute-optimal frontier (the line labelled ``"frontier"``: N_opt and D_opt of
  :func:`symcalc.scaling.compute_optimal`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional, Sequence

from .errors import SymcalcError

__all__ = ["require_matplotlib", "memory_figure", "micro_batch_figure", "plan_figure", "scaling_figure",
           "save_figure", "GIB"]

#: Bytes in a GiB (2^30): the unit of the memory axes.
GIB = 2**30
#: File types a figure is written as, by suffix.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def require_matplotlib() -> Any:
    """The ``matplotlib`` module, or a one-line error saying how to install it."""
    try:
        import matplotlib
        from matplotlib.figure import Figure  # noqa: F401 - the part we use
    except ImportError:
        raise SymcalcError("plotting needs matplotlib; install it with: pip install 'symcalc[plot]'") from None
    return matplotlib


def _figure(width: float = 7.0, height: float = 4.5) -> Any:
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _gib(value: Any, name: str = "bytes") -> float:
    from .inputs import as_amount

    amount = as_amount(name, value, unit="bytes")
    if amount.free_symbols:
        raise SymcalcError(f"{name} is still symbolic ({', '.join(sorted(map(str, amount.free_symbols)))}); "
                           "a figure needs numbers: give every size")
    return float(amount) / GIB


def memory_figure(rows: Sequence[tuple[str, Any]], *, budget: Any = None, title: str = "") -> Any:
    """Memory per device by part (weights, gradients, optimizer, activations, ...), stacked, one bar
    per configuration; a dashed line at ``budget`` bytes when given.

    ``rows`` are ``(label, Breakdown in bytes)``: one configuration each (a comparison table's rows,
    or a single ``symcalc mem``); a label may be a configuration mapping (``{"tp": 2, "zero_stage": 1}``,
    as a comparison's rows carry), written ``tp=2 zero_stage=1``. Parts are summed by their first name component; parts that are 0
    in every configuration are left out. Bar ``i`` of container ``j`` in ``fig.axes[0].containers``
    is part ``j`` of configuration ``i``, in GiB; the budget is the line labelled ``"budget"``.

    >>> from symcalc import Model, training_memory
    >>> m = Model.preset("llama-2-7b")
    >>> rows = [(f"z{z}", training_memory(m, seq_len=4096, n_devices=8, zero_stage=z)) for z in (0, 3)]
    >>> fig = memory_figure(rows, budget="80GiB")                               # doctest: +SKIP
    """
    from .breakdown import Breakdown
    from .inputs import as_text

    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or not rows:
        raise SymcalcError("rows: give a non-empty list of (label, Breakdown) pairs, one per configuration")
    labels, groups = [], []
    for row in rows:
        if not isinstance(row, (tuple, list)) or len(row) != 2 or not isinstance(row[1], Breakdown):
            raise SymcalcError(f"rows: {str(row)[:60]!r} is not a (label, Breakdown) pair")
        if row[1].unit != "bytes":
            raise SymcalcError(f"rows: {row[0]!r} is a breakdown in {row[1].unit or 'no unit'}; memory_figure draws bytes")
        label = row[0]
        if isinstance(label, Mapping):
            label = " ".join(f"{as_text('key', k)}={v}" for k, v in label.items()) or "default"
        labels.append(as_text("label", label))
        groups.append({k: _gib(v, f"{row[0]}: {k}") for k, v in row[1].grouped().items()})
    parts = [p for p in dict.fromkeys(k for g in groups for k in g) if any(g.get(p, 0) for g in groups)]
    fig = _figure(max(4.5, 1.1 * len(rows) + 3), 4.5)
    ax = fig.add_subplot()
    bottom = [0.0] * len(rows)
    for part in parts:
        heights = [g.get(part, 0.0) for g in groups]
        ax.bar(labels, heights, bottom=bottom, label=part)
        bottom = [b + h for b, h in zip(bottom, heights)]
    for x, total in enumerate(bottom):
        ax.annotate(f"{total:.1f}", (x, total), ha="center", va="bottom", fontsize=8)
    if budget is not None:
        ax.axhline(_gib(budget, "budget"), color="tab:red", linestyle="--", linewidth=1, label="budget")
    ax.set_ylabel("memory per device [GiB]")
    ax.set_title(as_text("title", title) or "training memory per device, by part", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if len(rows) > 4:
        ax.tick_params(axis="x", labelrotation=30)
    return fig


def micro_batch_figure(budget: Any, model: Any, seq_lens: Sequence[Any], **memory: Any) -> Any:
    """The largest micro-batch that fits ``budget`` at each sequence length, and where its memory goes.

    Each point is :func:`symcalc.solve.max_micro_batch` at one sequence length (the other keywords
    are :func:`symcalc.training_memory`'s). Axes 0: the line ``"largest micro-batch"`` (x: the
    sequence lengths where something fits, y: the answers). Axes 1: memory per device at each
    answer by part, stacked (bar ``i`` of container ``j`` is part ``j`` at the ``i``-th of those
    lengths, GiB), and the dashed line ``"budget"``.
    """
    from .inputs import as_amount, as_size
    from .memory import training_memory
    from .solve import max_micro_batch

    if isinstance(seq_lens, (str, bytes)) or not isinstance(seq_lens, Sequence) or not seq_lens:
        raise SymcalcError("seq_lens: give a non-empty list of sequence lengths")
    lengths = sorted({int(as_size("seq_lens", s)) for s in seq_lens})
    cap = as_amount("budget", budget, unit="bytes")
    xs, answers, groups = [], [], []
    for s in lengths:
        sol = max_micro_batch(cap, model, seq_len=s, **memory)
        if sol.feasible:
            xs.append(s)
            answers.append(int(sol.value))
            bd = training_memory(model, seq_len=s, micro_batch=sol.value, **memory)
            groups.append({k: _gib(v) for k, v in bd.grouped().items()})
    fig = _figure(7, 6)
    top, bottom = fig.subplots(2, 1)
    labels = [str(x) for x in xs]
    top.plot(labels, answers, marker="o", label="largest micro-batch")
    for x, b in zip(labels, answers):
        top.annotate(str(b), (x, b), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=8)
    top.set_ylabel("largest micro-batch b")
    top.set_yscale("log", base=2)
    top.yaxis.set_major_formatter("{x:g}")
    top.margins(y=0.25)
    name = getattr(model, "name", "") or "model"
    top.set_title(f"{name}: the largest micro-batch within {_gib(cap):.2f} GiB per device", fontsize=10)
    parts = [p for p in dict.fromkeys(k for g in groups for k in g) if any(g.get(p, 0) for g in groups)]
    base = [0.0] * len(groups)
    for part in parts:
        heights = [g.get(part, 0.0) for g in groups]
        bottom.bar(labels, heights, bottom=base, label=part)
        base = [b + h for b, h in zip(base, heights)]
    bottom.axhline(_gib(cap), color="tab:red", linestyle="--", linewidth=1, label="budget")
    bottom.set_ylabel("memory at the answer [GiB]")
    bottom.set_xlabel("sequence length s [tokens]")
    bottom.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    missing = [s for s in lengths if s not in xs]
    if missing:
        top.text(0.99, 0.95, "nothing fits at s = " + ", ".join(map(str, missing)), transform=top.transAxes,
                 ha="right", va="top", fontsize=8, color="tab:red")
    return fig


def plan_figure(result: Any) -> Any:
    """A plan's configurations: memory per device against step time, coloured by ZeRO stage; the
    budget line; the fastest and the leanest configuration labelled with their layout.

    The scatter (``fig.axes[0].collections[0]``) holds one point per row of ``result.rows``, in
    order: x the step time in seconds, y the memory in GiB; the budget is the line ``"budget"``.
    """
    from .plan import PlanResult

    if not isinstance(result, PlanResult):
        raise SymcalcError(f"result={str(result)[:60]!r} is not a PlanResult; pass symcalc.plan(...)")
    if not result.rows:
        raise SymcalcError("the plan has no configuration that fits; nothing to plot")
    times = [float(r.step_time) for r in result.rows]
    mems = [_gib(r.memory) for r in result.rows]
    fig = _figure(7, 4.5)
    ax = fig.add_subplot()
    palette = ("tab:blue", "tab:orange", "tab:green", "tab:purple")
    ax.scatter(times, mems, c=[palette[r.zero_stage] for r in result.rows], s=24)
    for z in sorted({r.zero_stage for r in result.rows}):
        ax.plot([], [], "o", color=palette[z], label=f"ZeRO {z}")
    leanest = min(range(len(mems)), key=lambda i: (mems[i], times[i]))
    for i, what in ((0, "fastest"), (leanest, "leanest")):
        r = result.rows[i]
        ax.annotate(f"{what}: tp {r.tp}, pp {r.pp}, dp {r.dp}, ZeRO {r.zero_stage}, b {r.micro_batch}, {r.recompute}",
                    (times[i], mems[i]), fontsize=7, textcoords="offset points",
                    xytext=(6, 8) if i == 0 else (-6, 10), ha="left" if i == 0 else "right",
                    arrowprops=dict(arrowstyle="-", color="0.5", linewidth=0.5))
    if "memory" in result.settings:
        ax.axhline(_gib(result.settings["memory"]), color="tab:red", linestyle="--", linewidth=1, label="budget")
    ax.set_xlabel("estimated step time [s]")
    ax.set_ylabel("memory per device [GiB]")
    ax.set_title(f"{len(result.rows)} fastest of {result.n_fit} configurations that fit", fontsize=10)
    ax.set_ylim(0, None)
    ax.margins(x=0.1)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def save_figure(fig: Any, path: Any, flag: str = "--plot") -> str:
    """Write ``fig`` to ``path`` (.png, .svg or .pdf, by its suffix); a one-line error naming ``flag``."""
    import os

    from .inputs import as_text

    flag = as_text("flag", flag)
    require_matplotlib()
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise SymcalcError(f"fig={str(fig)[:60]!r} is not a matplotlib Figure; pass what a symcalc.plot function returns")
    if not isinstance(path, (str, os.PathLike)):
        raise SymcalcError(f"{flag}: {str(path)[:60]!r} is not a file name; give e.g. memory.png")
    text = os.fspath(path)
    suffix = os.path.splitext(text)[1].lower()
    if suffix not in FORMATS:
        raise SymcalcError(f"{flag} {text!r:.60}: write .png, .svg or .pdf (the suffix sets the format)")
    try:
        fig.savefig(text, format=FORMATS[suffix], dpi=150)
    except OSError as exc:
        raise SymcalcError(f"{flag} {text!r:.60}: {exc.strerror or exc}; give a writable path") from None
    return text


def scaling_figure(fit: Any = "chinchilla", compute: Any = None, *, computes: Optional[Sequence[Any]] = None,
                   points: int = 40) -> Any:
    """Loss contours of a parametric fit over (N, D), iso-FLOP lines, the compute-optimal frontier
    and, when ``compute`` is given, its optimum.

    The frontier line is the line labelled ``"frontier"``: its x data are N_opt(C) and its y data
    D_opt(C) at the compute values of ``computes`` (default 1e18 … 1e26), as floats of
    :func:`symcalc.scaling.compute_optimal`.

    >>> fig = scaling_figure("chinchilla", 10**24)     # doctest: +SKIP
    >>> fig.savefig("chinchilla.png")                  # doctest: +SKIP
    """
    require_matplotlib()
    import numpy as np

    from .inputs import as_int, as_positive
    from .scaling import ParametricFit, compute_optimal, get_fit

    fit = get_fit(fit)
    points = as_int("points", points, minimum=4, maximum=400)
    grid = [as_positive("computes", c) for c in (computes if computes is not None else
                                                 [10**e for e in range(18, 27)])]
    if not grid:
        raise SymcalcError("computes is empty; give at least one compute budget")
    opts = [compute_optimal(c, fit) for c in grid]
    n_line = [float(o.n_params) for o in opts]
    d_line = [float(o.tokens) for o in opts]
    fig = _figure(7.0, 5.5)
    ax = fig.add_subplot()
    n_lo, n_hi = min(n_line) / 30, max(n_line) * 30
    d_lo, d_hi = min(d_line) / 30, max(d_line) * 30
    if isinstance(fit, ParametricFit):
        E, A, B, al, be = (float(fit.E), float(fit.A), float(fit.B), float(fit.alpha), float(fit.beta))
        N, D = np.meshgrid(np.geomspace(n_lo, n_hi, points), np.geomspace(d_lo, d_hi, points))
        L = E + A / N**al + B / D**be
        cs = ax.contour(N, D, L, levels=12, cmap="viridis", linewidths=0.8)
        ax.clabel(cs, fontsize=7, fmt="%.2f")
    k = float(opts[0].flops_per_param_token)
    ns = np.geomspace(n_lo, n_hi, 50)
    for c in grid:
        ax.plot(ns, float(c) / (k * ns), color="0.75", linestyle="--", linewidth=0.7)
    ax.plot(n_line, d_line, color="tab:blue", marker="o", markersize=3, label="frontier")
    if compute is not None:
        opt = compute_optimal(compute, fit)
        ax.plot([float(opt.n_params)], [float(opt.tokens)], marker="*", markersize=12, color="tab:red",
                linestyle="none", label=f"optimum at C = {float(opt.compute):.3g} FLOP")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(n_lo, n_hi)
    ax.set_ylim(d_lo, d_hi)
    ax.set_xlabel("parameters N")
    ax.set_ylabel("training tokens D")
    ax.set_title(f"{fit.name}: loss contours (nats/token), iso-FLOP lines (dashed), frontier", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    return fig
