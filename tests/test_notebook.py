"""examples/symcalc_in_jupyter.ipynb runs top to bottom in a kernel of this interpreter, and shows tables, not raw lines."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat/nbclient/ipykernel are in the test extra")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "symcalc_in_jupyter.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook, executed by a kernel whose interpreter is sys.executable (a kernelspec made here)."""
    spec_root = tmp_path_factory.mktemp("jupyter")
    spec = spec_root / "kernels" / "symcalc-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "symcalc test", "language": "python"}))
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(spec_root) + (os.pathsep + old if old else "")
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(nb, kernel_name="symcalc-test", timeout=120,
                                         resources={"metadata": {"path": str(ROOT / "examples")}})
        client.execute()
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old
    return nb


def _outputs(nb, source_start: str) -> dict:
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(source_start))
    data = {}
    for out in cell.outputs:
        assert out.output_type != "error", out
        data.update(out.get("data", {}))
    return data


def test_notebook_runs_and_every_result_is_rich(executed):
    """Every code cell ran; breakdowns, solver answers, optima and plans show HTML tables; the figure is a PNG."""
    from symcalc import Model, training_memory

    codes = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.outputs for c in codes) and not any(o.output_type == "error" for c in codes for o in c.outputs)
    mem = _outputs(executed, "mem = training_memory")
    html = mem["text/html"]
    exact = training_memory(Model.preset("llama-2-7b"), seq_len=4096, micro_batch=1, n_devices=8, zero_stage=1,
                            recompute="full")
    assert f"{int(exact.total):,}" in html and "weights/embedding/token = " not in html
    assert html.split("<details>")[0].count("<tr>") == 1 + sum(1 for v in exact.grouped().values() if v != 0) + 1
    assert _outputs(executed, "mem.total")["text/plain"] == str(exact.total)
    for start in ("max_micro_batch(", "compute_optimal(10**24)", "plan(llama"):
        assert "<table" in _outputs(executed, start)["text/html"], start
    assert "4.13e10" in _outputs(executed, "compute_optimal(10**24)")["text/plain"]
    assert "G·(C/6)^a" in _outputs(executed, "compute_optimal()")["text/plain"]
    assert "%" in _outputs(executed, "u = mfu")["text/plain"]
    assert r"\Psi" in _outputs(executed, "from symcalc.memory import SYMBOLIC")["text/latex"]
    assert "image/png" in _outputs(executed, "%matplotlib inline")
