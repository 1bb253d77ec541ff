"""Bad input to ``symcalc scaling``, ``latex``, ``solve`` and ``plan``: one line on stderr, exit 2."""

import pytest

from symcalc.cli import main

PLAN = ["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--gpu-memory", "80GiB", "--peak-flops", "1e15"]


def refused(capsys, argv):
    """Run ``argv``; return its stderr after checking exit status 2 and a single line."""
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse rejects a flag's value before the handler runs
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("argv,flag", [
    (["scaling", "--compute", "0"], "--compute"),
    (["scaling", "--compute", "-0"], "--compute"),
    (["scaling", "--compute", "1e400"], "--compute"),
    (["scaling", "--compute", "1e10000000000"], "--compute"),  # would build a 10^10-digit integer
    (["scaling", "--compute", "nan"], "--compute"),
    (["scaling", "--compute", "1e24", "--flops-per-param-token", "0"], "--flops-per-param-token"),
    (["scaling", "--compute", "1e24", "--params", "0"], "--params"),
    (["scaling", "--compute", "1e24", "--params", ""], "--params"),
    (["latex", "params", "-l", "0"], "--num-layers"),
    (["latex", "flops", "-s", "1.5"], "--sequence-length"),
    (["latex", "params", "--hf-config", "/nonexistent/config.json"], "config.json"),
    (["latex", "sheets", "--write", "/proc/no/such/dir"], "/proc/no/such/dir"),
    (["solve", "micro-batch", "--preset", "llama-2-7b", "--budget", "1e400"], "--budget"),
    (["solve", "micro-batch", "--preset", "llama-2-7b", "--budget", "80GiB", "-s", "1e400"], "--sequence-length"),
    (["solve", "hidden-size", "-l", "32", "-a", "32", "--budget", "1e400"], "--budget"),
    (["solve", "hidden-size", "-l", "32", "-a", "32", "--budget", "1e-400"], "--budget"),
    (["solve", "tokens", "--preset", "llama-2-7b", "--budget", "1e10000000000"], "--budget"),
    (["solve", "layers", "-hs", "4096", "-a", "32", "--memory-budget", "1e99GiB"], "--memory-budget"),
    ([*PLAN[:-1], "0"], "--peak-flops"),
    ([*PLAN[:-1], "1e-400"], "--peak-flops"),
    ([*PLAN, "--tp-bandwidth", "0"], "--tp-bandwidth"),
    ([*PLAN, "--mfu", "2"], "--mfu"),
    ([*PLAN, "--mfu", "1e-400"], "--mfu"),
    ([*PLAN[:6], "0", *PLAN[7:]], "--gpu-memory"),
    ([*PLAN, "--moe"], "--num-experts"),  # plan's models are dense by default: --moe needs -e
    (["solve", "micro-batch", "--moe", "--budget", "80GiB"], "--num-experts"),
    (["plan", "--num-gpus", "8", "--gpu-memory", "80GiB", "--peak-flops", "1e15", "--hf-config", "/nonexistent"],
     "/nonexistent"),
])
def test_bad_values_are_one_line_naming_the_flag(capsys, argv, flag):
    """Zero, negative, non-numeric, tiny and huge values are refused naming the flag, never a traceback."""
    assert flag in refused(capsys, argv)
