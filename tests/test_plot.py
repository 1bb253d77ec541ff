"""Figures: the data drawn are the library's numbers (read back from the artists); files are valid images."""

from __future__ import annotations

import json
import sys

import pytest

matplotlib = pytest.importorskip("matplotlib", reason="matplotlib is in the test extra: pip install -e '.[test]'")

from symcalc import Model, SymcalcError, plan, training_memory  # noqa: E402
from symcalc.cli import main  # noqa: E402
from symcalc.plot import GIB, memory_figure, micro_batch_figure, plan_figure, require_matplotlib, save_figure  # noqa: E402
from symcalc.solve import max_micro_batch  # noqa: E402

LLAMA = Model.preset("llama-2-7b")
HEADERS = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def _is_image(path, kind: str) -> bool:
    data = path.read_bytes()
    if kind == "svg":
        head = data[:400].decode("utf-8", "replace")
        return "<svg" in head and data.rstrip().endswith(b"</svg>")
    return data.startswith(HEADERS[kind]) and len(data) > 1000


def test_stacked_memory_bars_are_the_parts_in_gib():
    """Each bar segment is a part of training_memory (GiB) for its configuration; the budget line is at the budget."""
    configs = [(f"ZeRO {z}", dict(zero_stage=z)) for z in range(4)]
    rows = [(label, training_memory(LLAMA, seq_len=4096, micro_batch=1, n_devices=8, recompute="selective", **kw))
            for label, kw in configs]
    fig = memory_figure(rows, budget="80GiB")
    ax = fig.axes[0]
    names = [c.get_label() for c in ax.containers]
    assert names == [k for k in rows[0][1].grouped() if any(r[1].grouped()[k] != 0 for r in rows)]
    for j, container in enumerate(ax.containers):
        for i, bar in enumerate(container.patches):
            assert bar.get_height() == pytest.approx(float(rows[i][1].grouped()[names[j]]) / GIB, rel=1e-12)
    tops = [sum(c.patches[i].get_height() for c in ax.containers) for i in range(len(rows))]
    assert tops == pytest.approx([float(bd.total) / GIB for _, bd in rows], rel=1e-12)
    budget = [line for line in ax.get_lines() if line.get_label() == "budget"][0]
    assert budget.get_ydata()[0] == 80
    assert [t.get_text() for t in ax.get_xticklabels()] == [label for label, _ in rows]
    by_config = memory_figure([({"tp": 2, "zero_stage": z}, bd) for z, (_, bd) in enumerate(rows)])
    assert [t.get_text() for t in by_config.axes[0].get_xticklabels()] == [f"tp=2 zero_stage={z}" for z in range(4)]


def test_micro_batch_figure_is_the_solver_across_sequence_lengths():
    """The line is max_micro_batch at each s; the stacked memory at each answer sums to the solver's quantity."""
    kw = dict(n_devices=8, zero_stage=3, recompute="full")
    lengths = [1024, 2048, 4096, 8192]
    fig = micro_batch_figure("80GiB", LLAMA, lengths, **kw)
    top, bottom = fig.axes[:2]
    line = [ln for ln in top.get_lines() if ln.get_label() == "largest micro-batch"][0]
    answers = [max_micro_batch(80 * GIB, LLAMA, seq_len=s, **kw) for s in lengths]
    assert list(line.get_ydata()) == [sol.value for sol in answers]
    assert [int(x) for x in line.get_xdata()] == lengths
    stacks = [sum(c.patches[i].get_height() for c in bottom.containers) for i in range(len(lengths))]
    assert stacks == pytest.approx([float(sol.quantity) / GIB for sol in answers], rel=1e-12)
    assert [ln for ln in bottom.get_lines() if ln.get_label() == "budget"][0].get_ydata()[0] == 80


def test_plan_figure_points_are_the_rows():
    """One point per plan row at (step time [s], memory [GiB]), in the plan's order."""
    res = plan(LLAMA, n_devices=8, memory=80 * GIB, peak_flops=989 * 10**12, seq_len=4096, global_batch=64, top=12)
    fig = plan_figure(res)
    offsets = fig.axes[0].collections[0].get_offsets()
    assert len(offsets) == len(res.rows) == 12
    for (x, y), row in zip(offsets, res.rows):
        assert x == pytest.approx(float(row.step_time), rel=1e-12) and y == pytest.approx(float(row.memory) / GIB, rel=1e-12)


@pytest.mark.parametrize("kind", ["png", "svg", "pdf"])
def test_figures_are_written_as_valid_images(tmp_path, kind):
    """save_figure writes a file whose header is that of its suffix's format."""
    fig = memory_figure([("one", training_memory(LLAMA, seq_len=2048, micro_batch=1))])
    path = tmp_path / f"m.{kind}"
    assert save_figure(fig, path) == str(path) and _is_image(path, kind)


def test_cli_plot_flags_write_images(tmp_path, capsys):
    """mem, solve and plan --plot write the figure and say so (and --json names the file)."""
    cases = [
        (["mem", "--preset", "llama-2-7b", "-s", "4096", "--num-gpus", "8", "-z", "1"], "png"),
        (["solve", "micro-batch", "--preset", "llama-2-7b", "-s", "4096", "--num-gpus", "8", "-z", "3",
          "--recompute", "full", "--budget", "80GiB"], "svg"),
        (["solve", "tp", "--preset", "llama-2-7b", "-s", "4096", "--num-gpus", "8", "-z", "1", "--budget", "40GiB"], "png"),
        (["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--gpu-memory", "80GiB", "--peak-flops", "989e12",
          "-s", "4096", "-gbs", "64", "--top", "20"], "pdf"),
    ]
    for i, (argv, kind) in enumerate(cases):
        path = tmp_path / f"f{i}.{kind}"
        assert main(argv + ["--plot", str(path)]) == 0
        assert f"figure written to {path}" in capsys.readouterr().out and _is_image(path, kind), argv
    path = tmp_path / "j.png"
    assert main(cases[0][0] + ["--plot", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["plot"] == str(path) and _is_image(path, "png")


def test_bad_plot_input_is_one_line(tmp_path, capsys, monkeypatch):
    """A wrong suffix, an unwritable path, symbolic sizes or a missing matplotlib: one line, exit 2 / SymcalcError."""
    base = ["mem", "--preset", "llama-2-7b", "-s", "4096"]
    for target in (tmp_path / "m.jpg", tmp_path / "missing" / "m.png"):
        assert main(base + ["--plot", str(target)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "--plot" in err
    assert main(["solve", "micro-batch", "--preset", "llama-2-7b", "--infer", "--budget", "80GiB",
                 "--plot", str(tmp_path / "i.png")]) == 2
    assert "draws no figure with --infer" in capsys.readouterr().err
    with pytest.raises(SymcalcError, match="symbolic"):
        memory_figure([("s", training_memory(LLAMA))])
    with pytest.raises(SymcalcError, match="Breakdown"):
        memory_figure([("x", 3)])
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SymcalcError, match=r"pip install 'symcalc\[plot\]'"):
        require_matplotlib()
    assert main(base + ["--plot", str(tmp_path / "m.png")]) == 2
    assert "symcalc[plot]" in capsys.readouterr().err
