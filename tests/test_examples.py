"""Every script in examples/ runs to completion (CI runs them all); the README's library tour runs."""

import ast
import doctest
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_are_examples():
    """examples/ is not empty."""
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script):
    """The example exits 0 and prints an answer."""
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip()


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_states_its_question_and_is_indexed(script):
    """Each script opens with a docstring (its question) and is listed in examples/README.md."""
    assert ast.get_docstring(ast.parse(script.read_text()))
    assert f"]({script.name})" in (ROOT / "examples" / "README.md").read_text()


def test_llama3_8b_example_prints_the_published_count():
    """examples/llama3_8b_params.py prints Meta's 8,030,261,248 parameters (Llama 3 model card: 8.03 B)."""
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "llama3_8b_params.py")],
                          capture_output=True, text=True, timeout=300)
    assert "8,030,261,248" in proc.stdout


def test_readme_doctests_pass():
    """Every `>>>` example in README.md (the library tour) gives the output printed there."""
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False, verbose=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8
    assert result.failed == 0
