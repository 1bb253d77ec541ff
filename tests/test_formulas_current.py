"""The sheets in formulas/ and the documentation's notation table are what the code says now."""

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


def test_docs_notation_table_lists_every_symbol():
    """The Concepts page's Notation table is generated with one row per symbol of symcalc.symbols (letter, meaning, unit)."""
    import sys

    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    import symcalc_docs

    assert "```{symcalc-md} notation\n```" in (ROOT / "docs" / "concepts.md").read_text()
    rows = [line for line in symcalc_docs.notation_md().splitlines()[2:]]
    assert len(rows) == len(SYMBOL_INFO)
    for row, (sym, info) in zip(rows, SYMBOL_INFO.items()):
        assert row == f"| [`{sym.name}`](#symcalc.symbols.{sym.name}) | ${info.latex}$ | {info.description} | {info.unit} |"


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
