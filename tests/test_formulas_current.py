"""The sheets in formulas/ are what the code generates now."""

from pathlib import Path

from symcalc.cli import main
from symcalc.render import check_sheets, sheet_files

FORMULAS = Path(__file__).resolve().parent.parent / "formulas"


def test_formula_sheets_are_current():
    """Regenerating every sheet in memory gives exactly the files in formulas/ (else: symcalc latex sheets --write formulas/)."""
    assert check_sheets(FORMULAS) == []
    assert {p.name for p in FORMULAS.iterdir()} >= set(sheet_files())


def test_check_detects_a_stale_sheet(tmp_path, capsys):
    """`symcalc latex sheets --check` exits 1 on a sheet edited by hand, 0 once rewritten."""
    assert main(["latex", "sheets", "--write", str(tmp_path)]) == 0
    (tmp_path / "params.md").write_text("edited by hand\n")
    assert main(["latex", "sheets", "--check", str(tmp_path)]) == 1
    assert main(["latex", "sheets", "--write", str(tmp_path)]) == 0
    assert main(["latex", "sheets", "--check", str(tmp_path)]) == 0
