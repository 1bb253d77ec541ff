"""The sheets in formulas/ and the README's notation table are what the code says now."""

from pathlib import Path

from symcalc.cli import main
from symcalc.render import check_sheets, sheet_files
from symcalc.symbols import SYMBOL_INFO

ROOT = Path(__file__).resolve().parent.parent
FORMULAS = ROOT / "formulas"


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


def test_readme_notation_table_lists_every_symbol():
    """README.md's Notation table has one row per symbol of symcalc.symbols, with its letter, meaning and unit."""
    text = (ROOT / "README.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `") and line.count("$") == 2]
    expected = [f"| `{sym.name}` | ${info.latex}$ | {info.description} | {info.unit} |" for sym, info in SYMBOL_INFO.items()]
    assert rows == expected


def test_every_formula_cites_a_paper():
    """Each formula on every sheet names its source: an author and a year (paper, then table/equation/section)."""
    import re

    from symcalc.render import sheets

    for sheet in sheets():
        for formula in sheet.formulas:
            assert re.search(r"[A-Z][a-z]+.* (19|20)\d\d", formula.source), (sheet.name, formula.title, formula.source)
            assert re.search(r"§|Table|eq\.|Figure|[Aa]ppendix", formula.source), (sheet.name, formula.title)


def test_markdown_sheets_use_github_display_math():
    """The .md sheets put display math in $$ blocks on their own lines (GitHub's syntax), never \\[ or equation."""
    for path in FORMULAS.glob("*.md"):
        text = path.read_text()
        assert text.count("\n$$\n") % 2 == 0 and "\n$$\n" in text, path.name
        assert "\\[" not in text and "\\begin{equation}" not in text, path.name
