"""``symcalc scaling`` answers each question of the issue from the CLI; --json keys; --plot writes the computed frontier."""

from __future__ import annotations

import json

import pytest

from symcalc.cli import main
from symcalc.scaling import compute_for_loss, compute_optimal, data_constrained_optimal, inference_optimal


def run_json(capsys, *argv):
    assert main(["scaling", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_compute_optimal_per_fit(capsys):
    """--fit chinchilla-1 at Gopher's budget answers approach 1's 68.6B (Chinchilla's 70B), with fit and source."""
    out = run_json(capsys, "--compute", "5.76e23", "--fit", "chinchilla-1")
    assert out["params"] == pytest.approx(float(compute_optimal(5.76e23, "chinchilla-1").n_params))
    assert round(out["params"] / 1e9, 1) == 68.6 and out["loss"] is None
    assert out["fit"]["name"] == "chinchilla-1" and "Hoffmann" in out["fit"]["source"]


def test_list_fits(capsys):
    """--list-fits --json lists every fit with its source and constants."""
    out = run_json(capsys, "--list-fits")
    assert {f["name"] for f in out["fits"]} >= {"chinchilla", "kaplan", "besiroglu", "deepseek", "muennighoff"}
    assert all(f["source"] for f in out["fits"])


def test_loss_target_and_gpu_hours(capsys):
    """--loss 2 gives the least compute on the frontier; --hardware h100 --mfu 40% its GPU-hours = C/(peak·0.4)/3600."""
    out = run_json(capsys, "--loss", "2", "--hardware", "h100", "--mfu", "40%")
    assert out["compute"] == pytest.approx(float(compute_for_loss(2).compute), rel=1e-12)
    assert out["gpu_hours"] == pytest.approx(out["compute"] / (989.4e12 * 0.4) / 3600, rel=1e-12)


def test_inference_and_data_constrained(capsys):
    """--inference-tokens and --unique-tokens give the library's optima."""
    out = run_json(capsys, "--compute", "1e23", "--inference-tokens", "10T")
    assert out["inference"]["params"] == pytest.approx(float(inference_optimal("1e13", compute="1e23").n_params), rel=1e-12)
    out = run_json(capsys, "--compute", "9.26e21", "--unique-tokens", "25B")
    assert out["data_constrained"]["epochs"] == pytest.approx(float(data_constrained_optimal(9.26e21, 25e9).epochs), rel=1e-9)


def test_exact_flops_frontier(capsys):
    """--exact-flops puts the exact-FLOPs optimum beside the 6N one, with the difference."""
    out = run_json(capsys, "--compute", "1e22", "--exact-flops", "-s", "32768")
    assert out["shape"]["exact"]["size"] < out["shape"]["six_n"]["size"]
    assert out["shape"]["difference"]["tokens"] < 0


def test_human_output_has_decimals_and_units(capsys):
    """The default output reads N_opt in decimals with units, not a 31st root."""
    assert main(["scaling", "--compute", "1e24"]) == 0
    text = capsys.readouterr().out
    assert "4.13e10 parameters (41.3 B)" in text and "**" not in text and "note:" in text


def test_plot_writes_the_computed_frontier(tmp_path, capsys):
    """--plot writes a valid PNG; the figure's frontier line is compute_optimal's N and D."""
    from symcalc.plot import scaling_figure

    path = tmp_path / "f.png"
    out = run_json(capsys, "--compute", "1e24", "--plot", str(path))
    assert out["plot"] == str(path) and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = scaling_figure("chinchilla", 10**24, computes=[10**20, 10**22])
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "frontier"]
    assert list(line.get_xdata()) == [float(compute_optimal(c).n_params) for c in (10**20, 10**22)]
    assert list(line.get_ydata()) == [float(compute_optimal(c).tokens) for c in (10**20, 10**22)]


@pytest.mark.parametrize("argv,flag", [
    (["--compute", "1e24", "--fit", "gpt-5"], "unknown fit"),
    (["--loss", "1.5"], "irreducible"),
    (["--compute", "1e24", "--loss", "2"], "--compute"),
    (["--compute", "1e24", "--unique-tokens", "ten"], "--unique-tokens"),
    (["--compute", "1e24", "--inference-tokens", "-1"], "--inference-tokens"),
    (["--compute", "1e24", "--hardware", "toaster"], "toaster"),
    (["--compute", "1e22", "--exact-flops", "--flops-per-param-token", "8"], "--flops-per-param-token"),
])
def test_bad_input_is_one_line(argv, flag, capsys):
    """Bad input: one line naming the flag or value, exit 2."""
    assert main(["scaling", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert flag in err and "\n" not in err
