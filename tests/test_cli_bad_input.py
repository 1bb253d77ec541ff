"""Bad input to ``symcalc scaling``, ``latex``, ``solve``, ``plan`` and ``mem``: one line on stderr, exit 2."""

import json
import signal

import pytest

from symcalc.cli import main

PLAN = ["plan", "--preset", "llama-2-7b", "--num-gpus", "8", "--gpu-memory", "80GiB", "--peak-flops", "1e15"]


def _hang(signum, frame):
    raise TimeoutError("no answer within 20 s: a huge number was built or a loop ran away")


def refused(capsys, argv):
    """Run ``argv``; return its stderr after checking exit status 2 and a single line (a guard stops a hang)."""
    old = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(20)
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse rejects a flag's value before the handler runs
        rc = exc.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
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
    ([*PLAN, "--moe", "-e", "0"], "--num-experts"),  # --moe means the default experts everywhere; 0 is refused
    (["solve", "micro-batch", "--moe", "--num-experts", "0", "--budget", "80GiB"], "--num-experts"),
    (["plan", "--num-gpus", "8", "--gpu-memory", "80GiB", "--peak-flops", "1e15", "--hf-config", "/nonexistent"],
     "/nonexistent"),
])
def test_bad_values_are_one_line_naming_the_flag(capsys, argv, flag):
    """Zero, negative, non-numeric, tiny and huge values are refused naming the flag, never a traceback."""
    assert flag in refused(capsys, argv)


MEM = ["mem", "--preset", "llama-2-7b"]
HUGE = "9" * 5000


@pytest.mark.parametrize("argv,needle", [
    ([*MEM, "--misc-mem-gib", "1e999999999"], "--misc-mem-gib"),  # no exponent bound used to hang here
    ([*MEM, "--misc-mem-gib", "1e400"], "--misc-mem-gib"),
    ([*MEM, "--misc-mem-gib", "1e5000", "--json"], "--misc-mem-gib"),
    ([*MEM, "--misc-mem-gib", HUGE, "--json"], "--misc-mem-gib"),
    ([*MEM, "-s", "1e5000", "--json"], "--sequence-length"),
    (["flops", "--preset", "llama-2-7b", "--tokens", "1e400"], "--tokens"),
    (["flops", "--preset", "llama-2-7b", "--tokens", HUGE, "--json"], "--tokens"),
    (["solve", "micro-batch", "--preset", "llama-2-7b", "--budget", HUGE], "--budget"),
    (["solve", "tokens", "--preset", "llama-2-7b", "--budget", HUGE], "--budget"),
    (["solve", "hidden-size", "-l", "32", "-a", "32", "--budget", HUGE], "--budget"),
    (["scaling", "--compute", HUGE], "--compute"),
    (["scaling", "--compute", "1e24", "--params", HUGE], "--params"),
    ([*PLAN, "--zero-stages", "\u00b2"], "--zero-stages"),      # '²'.isdigit() is True, int('²') fails
    ([*PLAN, "--zero-stages", "\u0663"], "--zero-stages"),      # Arabic-Indic three
    ([*PLAN, "--zero-stages", "1,1"], "twice"),                 # rows were printed twice
    ([*PLAN, "--recompute", "full,full"], "twice"),
])
def test_remaining_holes_are_one_line(capsys, argv, needle):
    """Huge exponents and digit strings, look-alike digits and repeated choices: one line naming the flag, exit 2."""
    assert needle in refused(capsys, argv)


def _config(tmp_path, text):
    path = tmp_path / "config.json"
    path.write_text(text)
    return str(path)


LLAMA = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
         "num_attention_heads": 4, "vocab_size": 100}


@pytest.mark.parametrize("text,needle", [
    ('{"model_type": "llama", "x": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
    (json.dumps(LLAMA)[:-1] + ', "vocab_size": ' + "1" * 5000 + "}", "4300 digits"),
    (json.dumps({**LLAMA, "vocab_size": 1e300}), "'vocab_size'=1e+300 is out of range"),
    (json.dumps({**LLAMA, "vocab_size": 1e23}), "'vocab_size'=1e+23 is out of range"),  # was 99999999999999991611392
    (json.dumps({**LLAMA, "hidden_size": 64.5}), "'hidden_size'"),
    (json.dumps({**LLAMA, "hidden_size": "64"}), "'hidden_size'"),
    (json.dumps({**LLAMA, "num_hidden_layers": float("nan")}), "'num_hidden_layers'"),
    (json.dumps({**LLAMA, "model_type": "qwen2_moe", "num_experts": 4, "num_experts_per_tok": 2,
                 "moe_intermediate_size": 32, "mlp_only_layers": [0, "x"]}), "mlp_only_layers"),
    (json.dumps({**LLAMA, "model_type": ["llama"]}), "model_type"),
])
@pytest.mark.parametrize("command", ["params", "mem"])
def test_bad_config_files_are_one_line(capsys, tmp_path, text, needle, command):
    """Deep nesting, 5000-digit integers, sizes past 1e18, fractional or string sizes, mixed lists: one line, exit 2."""
    assert needle in refused(capsys, [command, "--hf-config", _config(tmp_path, text)])


def test_config_float_sizes_are_their_decimal_value(capsys, tmp_path):
    """A whole float in config.json counts exactly (4096.0 is 4096): Llama-2-7B's 6,738,415,616 either way."""
    cfg = {"model_type": "llama", "hidden_size": 4096.0, "intermediate_size": 11008, "num_hidden_layers": 32,
           "num_attention_heads": 32, "vocab_size": 32000.0}
    assert main(["params", "--hf-config", _config(tmp_path, json.dumps(cfg)), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 6_738_415_616


def test_path_with_a_newline_is_one_line(capsys, tmp_path):
    """A config path holding a newline is printed escaped: the error stays one line."""
    folder = tmp_path / "a\nb"
    folder.mkdir()
    err = refused(capsys, ["params", "--hf-config", str(folder)])
    assert "no such file" in err and "\\n" in err
    err = refused(capsys, ["latex", "sheets", "--write", "/proc/no\nsuch"])
    assert "\\n" in err
