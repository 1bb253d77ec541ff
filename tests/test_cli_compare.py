"""Comparisons: comma-separated size and layout flags give one table and JSON rows, each row the single question's answer."""

import json

import pytest

from symcalc import Model, defaults, training_memory
from symcalc.cli import main
from symcalc.compare import Comparison, compare

LLAMA = ["--preset", "llama-2-7b"]


def run(capsys, *argv, status=0):
    code = main(list(argv))
    out = capsys.readouterr()
    assert code == status, out.err
    return out


def test_mem_rows_are_the_single_answers(capsys):
    """mem -z 0,1,2,3 -tp 1,2 --json: 8 rows in command-line order, each equal to mem asked once with that row's values."""
    argv = [*LLAMA, "-s", "4k", "--num-gpus", "8"]
    rows = json.loads(run(capsys, "mem", *argv, "-z", "0,1,2,3", "-tp", "1,2", "--json").out)
    assert rows["varied"] == ["zero_stage", "tp"]
    assert [tuple(r["config"].values()) for r in rows["rows"]] == [(z, t) for z in range(4) for t in (1, 2)]
    for row in rows["rows"]:
        z, t = row["config"]["zero_stage"], row["config"]["tp"]
        single = json.loads(run(capsys, "mem", *argv, "-z", str(z), "-tp", str(t), "--json").out)
        assert {k: v for k, v in row.items() if k != "config"} == single


def test_mem_table_has_a_row_per_configuration(capsys):
    """The text output is one table: a header naming the varied flags and parts, one line per combination."""
    out = run(capsys, "mem", *LLAMA, "-s", "4k,8k,32k", "-b", "1,2").out.splitlines()
    assert out[1].split()[:2] == ["seq_len", "micro_batch"] and "total" in out[1]
    body = [line for line in out[3:] if line.strip() and line.strip()[0].isdigit()]
    assert [line.split()[:2] for line in body] == [[s, b] for s in ("4,096", "8,192", "32,768") for b in ("1", "2")]


def test_library_rows_equal_training_memory():
    """compare(training_memory, vary=...) rows are (configuration, the Breakdown training_memory gives for it)."""
    m = Model.preset("llama-2-7b")
    rows = compare(training_memory, vary={"tp": [1, 2], "seq_len": [2048, 4096]}, model=m, micro_batch=1,
                   n_devices=8)
    assert isinstance(rows, Comparison) and len(rows) == 4 and rows.varied == ("tp", "seq_len")
    for config, result in rows:
        assert result.total == training_memory(m, micro_batch=1, n_devices=8, **config).total
    assert [r["config"] for r in rows.as_json()] == rows.configs()


def test_cli_comparison_is_the_library_helper(capsys):
    """symcalc.cli.mem.comparison gives the same rows (configuration, per-device Breakdown) the library gives."""
    from symcalc.cli import build_parser
    from symcalc.cli.mem import comparison

    argv = ["mem", *LLAMA, "-s", "4096", "--num-gpus", "8", "-tp", "1,2"]
    args = build_parser(argv).parse_args(argv)
    with defaults.using("today"):
        comp = comparison(args)
    lib = compare(training_memory, vary={"tp": [1, 2]}, model=Model.preset("llama-2-7b"), seq_len=4096,
                  micro_batch=1, n_devices=8)
    assert [c for c, _ in comp] == [c for c, _ in lib]
    assert [r.total for _, r in comp] == [r.total for _, r in lib]


def test_flops_params_and_solve_compare(capsys):
    """flops -s, params -l and solve micro-batch -s take lists; each row is the single question's answer."""
    f = json.loads(run(capsys, "flops", *LLAMA, "-s", "2k,4k", "--json").out)["rows"]
    assert f[1]["per_token"]["total"] == json.loads(run(capsys, "flops", *LLAMA, "-s", "4096", "--json").out)["per_token"]["total"]
    p = json.loads(run(capsys, "params", "-l", "24,32", "--json").out)["rows"]
    assert p[0]["total"] == json.loads(run(capsys, "params", "-l", "24", "--json").out)["total"]
    s = json.loads(run(capsys, "solve", "micro-batch", *LLAMA, "-s", "4k,8k", "--num-gpus", "8", "--recompute", "full",
                       "--budget", "80GiB", "--json").out)["rows"]
    single = json.loads(run(capsys, "solve", "micro-batch", *LLAMA, "-s", "8192", "--num-gpus", "8", "--recompute",
                            "full", "--budget", "80GiB", "--json").out)
    assert s[1]["micro_batch"] == single["micro_batch"] and s[0]["micro_batch"] > s[1]["micro_batch"]


@pytest.mark.parametrize("argv,needle", [
    (["latex", "mem", "-tp", "1,2"], "comma-separated values compare"),
    (["plan", *LLAMA, "--num-gpus", "8,16", "--gpu-memory", "80GiB", "--peak-flops", "1e15"], "not a"),
    (["mem", "-tp", "1,1"], "twice"),
    (["mem", "-tp", "1,,2"], "empty value"),
    (["mem", "-l", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", "-hs", "64,128,256,512,1024,2048,4096,8192,16384,32768,"
                                                                   "65536,131072,262144,524288,1048576,2097152,4194304",
      "-a", "1"], "at most 256"),
    (["mem", *LLAMA, "-tp", "1,3", "--num-gpus", "24"], "at tp=3"),
])
def test_bad_comparisons_are_one_line(capsys, argv, needle):
    """Lists where one value is expected, repeated or empty values, too many rows, an invalid row: one line, exit 2."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.count("\n") == 1, err


def test_mem_comparison_plot_is_the_rows(tmp_path, capsys, monkeypatch):
    """mem -z 0,3 --plot: the figure the CLI writes has one stacked bar per row, each part the row's GiB; a PNG."""
    pytest.importorskip("matplotlib")
    import symcalc.plot as plot

    drawn = []
    save = plot.save_figure
    monkeypatch.setattr(plot, "save_figure", lambda fig, path: drawn.append(fig) or save(fig, path))
    path = tmp_path / "mem.png"
    argv = ["mem", *LLAMA, "-s", "4096", "--num-gpus", "8", "-z", "0,3"]
    out = run(capsys, *argv, "--plot", str(path)).out
    assert "figure written to" in out and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = json.loads(run(capsys, *argv, "--json").out)["rows"]
    heights = [[bar.get_height() for bar in container] for container in drawn[0].axes[0].containers]
    parts = [p for p in rows[0]["per_device"] if p != "total" and any(r["per_device"][p] for r in rows)]
    for j, part in enumerate(parts):
        assert heights[j] == pytest.approx([r["per_device"][part] / 2**30 for r in rows], rel=1e-9), part
