"""Running the CLI in-process for tests: exit status, stdout and stderr together."""

from __future__ import annotations

from symcalc.cli import main


def run_cli(capsys, argv):
    """``(exit status, stdout, stderr)`` of ``symcalc ARGV`` (argparse's SystemExit caught)."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err
