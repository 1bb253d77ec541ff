"""`symcalc plan` in-process: table, --json, --top, and one-line errors with exit status 2."""

from __future__ import annotations

import json

from symcalc import Model
from symcalc.cli import main
from symcalc.frameworks import stage_layers
from symcalc.plan import layout_memory

ARGS = ["plan", "--preset", "llama-2-7b", "--num-gpus", "16", "--gpu-memory", "80GiB", "--peak-flops", "989e12",
        "-s", "4096", "-gbs", "64"]


def test_json_rows_fit_and_are_ranked(capsys):
    """--json rows fit the budget (checked against layout_memory), come fastest first, --top limits them."""
    assert main(ARGS + ["--json", "--top", "4"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["rows"]
    assert len(rows) == 4 and out["n_fit"] <= out["n_candidates"]
    assert [r["step_time_s"] for r in rows] == sorted(r["step_time_s"] for r in rows)
    m = Model.preset("llama-2-7b")
    for r in rows:
        assert r["tp"] * r["pp"] * r["dp"] == 16
        mem = layout_memory(m, seq_len=4096, micro_batch=r["micro_batch"], tp=r["tp"], pp=r["pp"], dp=r["dp"],
                            virtual_stages=r["virtual_stages"], layers_per_stage=stage_layers(32, r["pp"]),
                            zero_stage=r["zero_stage"], recompute=r["recompute"])
        assert r["memory_bytes"] == int(-(-mem.p // mem.q)) <= 80 * 2**30
    assert out["settings"]["memory"] == 80 * 2**30


def test_table_and_filters(capsys):
    """The table lists only the ZeRO stages and recompute policies asked for (ZeRO 3: a framework that has it)."""
    assert main(ARGS + ["--framework", "deepspeed", "--zero-stages", "3", "--recompute", "full", "--top", "3"]) == 0
    out = capsys.readouterr().out
    lines = [ln.split() for ln in out.splitlines() if ln[:3].strip().isdigit() and "of" not in ln]
    assert lines and all(ln[5] == "3" and ln[6] == "full" and ln[1] == "1" for ln in lines)  # ZeRO 3: no pipeline
    assert "layouts fit" in out


def test_gb_and_gib_differ(capsys):
    """80GB (10^9) is less memory than 80GiB (2^30)."""
    main(ARGS + ["--gpu-memory", "80GB", "--json"])
    gb = json.loads(capsys.readouterr().out)["settings"]["memory"]
    assert gb == 80 * 10**9


def test_bad_input_exits_2(capsys):
    """Unparseable sizes, unknown ZeRO stages and missing required flags are one-line errors, status 2."""
    for extra in (["--gpu-memory", "eighty"], ["--zero-stages", "4"], ["--recompute", "some"],
                  ["--zero-stages", "3"], ["--framework", "jax"], ["--mfu", "0.5", "--kernel-efficiency", "0.7"],
                  ["--kernel-efficiency", "1.5"]):
        try:
            code = main(ARGS + extra)
        except SystemExit as exc:
            code = exc.code
        assert code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "error" in err
    try:
        code = main(["plan", "--preset", "gpt2"])
    except SystemExit as exc:
        code = exc.code
    assert code == 2


def test_nothing_fits_exits_1_with_an_answer(capsys):
    """When no configuration fits, plan says so and exits 1, as symcalc solve does (not 0, not 2)."""
    assert main(["plan", "--preset", "llama-2-70b", "--num-gpus", "1", "--gpu-memory", "8GiB",
                 "--peak-flops", "1e15"]) == 1
    assert "nothing fits" in capsys.readouterr().out
    assert main(["plan", "--preset", "llama-2-70b", "--num-gpus", "1", "--gpu-memory", "8GiB",
                 "--peak-flops", "1e15", "-s", "2048", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] == []
    # the leanest layout on one device: ZeRO has nothing to shard, full recompute, b = 1 (today's defaults)
    leanest = layout_memory(Model.preset("llama-2-70b"), seq_len=2048, micro_batch=1, tp=1, pp=1, dp=1,
                            zero_stage=0, recompute="full")
    assert out["least_memory_bytes"] == -(-leanest // 1)


def test_readme_example_is_current(capsys):
    """The planning guide shows exactly what its first example command prints (Llama 3 405B on 16K H100)."""
    from pathlib import Path

    argv = ["plan", "--preset", "llama-3.1-405b", "--num-gpus", "16384", "--hardware", "h100", "-s", "8192",
            "-gbs", "2048", "--top", "5"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    readme = (Path(__file__).resolve().parents[1] / "docs" / "guides" / "planning.md").read_text()
    assert "symcalc " + " ".join(argv) in readme and "```\n" + out + "```\n" in readme
