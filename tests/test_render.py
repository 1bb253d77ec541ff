"""Every formula symcalc emits renders with KaTeX (throwOnError); paper notation."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sympy import Rational

from symcalc import Breakdown, Model, latex, params, training_flops
from symcalc.cli import main
from symcalc.presets import preset_names
from symcalc.render import Latex, sheets
from symcalc.scaling import compute_optimal, symbolic_frontier
from symcalc.symbols import d_model, n_heads, n_layers, seq_len, zero_stage

ROOT = Path(__file__).resolve().parent.parent
KATEX_DIR = ROOT / ".cache" / "katex"
RUNNER = r"""
const katex = require(process.argv[2]);
let data = ''; process.stdin.on('data', c => data += c); process.stdin.on('end', () => {
  const errors = [];
  for (const [name, tex] of JSON.parse(data)) {
    try { katex.renderToString(tex, {throwOnError: true, displayMode: true, strict: 'error'}); }
    catch (e) { errors.push([name, String(e.message || e)]); }
  }
  process.stdout.write(JSON.stringify(errors));
});
"""


@pytest.fixture(scope="session")
def katex_render(tmp_path_factory):
    """A function rendering [(name, tex)] with the npm package katex; installs it into .cache/katex once."""
    module = KATEX_DIR / "node_modules" / "katex"
    if not module.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is not installed; KaTeX is needed to check the LaTeX")
        proc = subprocess.run([npm, "install", "--prefix", str(KATEX_DIR), "katex", "--no-audit", "--no-fund"],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0 or not module.exists():
            pytest.fail(f"npm install katex failed: {proc.stderr[-2000:]}")
    runner = tmp_path_factory.mktemp("katex") / "render.js"
    runner.write_text(RUNNER)

    def render(items):
        proc = subprocess.run(["node", str(runner), str(module)], input=json.dumps(items),
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            pytest.fail(f"node failed: {proc.stderr[-2000:]}")
        return json.loads(proc.stdout)

    return render


def emitted_formulas(capsys) -> list[tuple[str, str]]:
    """Everything symcalc typesets: sheets, every preset's breakdowns, the CLI's output, closed forms."""
    items = [(f"{s.name}: {f.title}", f.tex) for s in sheets() for f in s.formulas]
    for name in preset_names():
        m = Model.preset(name)
        items.append((f"params {name}", latex(params(m))))
        items.append((f"params {name} (Breakdown.latex)", params(m).latex()))
        items.append((f"flops {name}", latex(training_flops(m, seq_len=seq_len, tokens=1))))
    variants = {
        "symbolic": Model(), "mha": Model(n_kv_heads=n_heads), "llama": Model(gated_mlp=True, norm="rmsnorm"),
        "moe": Model(n_experts=8, top_k=2, n_shared_experts=1, shared_expert_gate=True),
        "learned": Model(position="learned"), "padded": Model(vocab_multiple=128),
    }
    for name, m in variants.items():
        items.append((f"params {name}", latex(params(m))))
        items.append((f"flops {name}", latex(training_flops(m, seq_len=seq_len, tokens=1, recompute="full"))))
    from symcalc.memory import training_memory

    items.append(("memory symbolic", latex(training_memory(Model(), zero_stage=3))))
    items.append(("memory z", latex(training_memory(Model.preset("llama-2-7b"), seq_len=seq_len, zero_stage=zero_stage).total)))
    items.append(("N_opt", latex(symbolic_frontier()["n_params"])))
    items.append(("N_opt numeric", latex(compute_optimal(Rational(10) ** 24).n_params)))
    for argv in (["latex", "params"], ["latex", "params", "-l", "32", "--breakdown"],
                 ["latex", "flops", "--breakdown"], ["latex", "flops", "-s", "4096", "--recompute", "full"],
                 ["latex", "mem"], ["latex", "mem", "--preset", "llama-2-7b", "-z", "3", "--breakdown"],
                 ["scaling", "--compute", "1e24", "--latex"]):
        capsys.readouterr()
        assert main(argv) == 0
        for i, line in enumerate(capsys.readouterr().out.strip().split("\n" if argv[0] == "scaling" else "\x00")):
            items.append((" ".join(argv) + f" [{i}]", line))
    return items


def test_every_formula_renders_with_katex(katex_render, capsys):
    """KaTeX renders every formula symcalc emits without an error (throwOnError, strict)."""
    items = emitted_formulas(capsys)
    assert len(items) > 50
    errors = katex_render(items)
    assert errors == []


def test_katex_harness_catches_bad_latex(katex_render):
    """The harness reports broken LaTeX (so the test above can fail)."""
    assert len(katex_render([("bad", r"\frac{1}{"), ("good", "x^2")])) == 1


def test_paper_notation():
    """Symbols print as the papers' letters with factors in paper order."""
    assert latex(12 * n_layers * d_model**2) == "12 L h^{2}"
    assert latex(Model().d_head) == r"\frac{h}{a}"


def test_breakdown_is_an_aligned_block_and_jupyter_math():
    """A Breakdown renders one aligned line per part plus the total; Jupyter sees display math."""
    bd = Breakdown({"attention/qkv": 3 * d_model**2, "mlp_up": 8 * d_model**2}, unit="params")
    tex = latex(bd)
    assert tex.startswith("\\begin{aligned}") and tex.count("&=") == 3
    assert r"\text{mlp\_up} &= 8 h^{2}" in tex and r"\text{total} &= 11 h^{2}" in tex
    assert isinstance(tex, Latex) and tex._repr_latex_() == f"$${tex}$$"


def test_latex_help_says_unset_sizes_stay_symbolic(capsys):
    """`symcalc latex params --help` states the defaults it uses: symbols, not the cookbook's numbers."""
    with pytest.raises(SystemExit):
        main(["latex", "params", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default 51200" not in text and "default 6144" not in text and "default 44)" not in text
    assert "vocabulary size v (default v, a symbol)" in text
    assert main(["latex", "params"]) == 0
    out = capsys.readouterr().out
    assert " v" in out and "51200" not in out and "6144" not in out
