"""The study's notebooks execute against the committed results, cleanly and reproducibly.

They run through `pipeline.report.notebooks.execute_notebook`, the function `make results`
uses, so a notebook that passes here is the notebook the report shows.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.report.notebooks import KERNEL, execute_notebook

pytestmark = pytest.mark.slow

EXPECTED = ["01_corpus_and_cleaning", "02_place_emphases", "03_shared_themes",
            "04_governance_profile", "05_findings", "06_explore"]
NOTEBOOKS = sorted(Paths.at().notebooks.glob("[0-9][0-9]_*.ipynb"))
MISSING_FIGURE = "Figure missing:"


def _outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]


def _output_text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return "\n".join(str(data[kind]) for kind in ("text/markdown", "text/plain", "text/html") if kind in data)


@pytest.fixture(scope="module")
def results_dir():
    results = Paths.at().results
    if not (results / "manifest.json").exists():
        pytest.fail(f"{results.name}/ holds no results; run `make results` first")
    return results


def test_the_six_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_structure(source):
    nb = nbformat.read(source, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata["kernelspec"]["name"] == KERNEL
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    # Results are read through pipeline.report.results only, never from a path of their own.
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "pipeline.report.results" in code
    assert not re.search(r"read_csv|open\(|\.read_text|results/tables", code)


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_cleanly_and_reproducibly(source, results_dir, tmp_path):
    executed_path = tmp_path / source.name
    nb = execute_notebook(source, executed_path, results_dir)
    outputs = _outputs(nb)
    assert outputs, "the notebook produced no output"
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors[0]
    # stderr carries warnings (a deprecated call, a glyph the font lacks): none belong in the report
    stderr = [o["text"] for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert not stderr, stderr[0]
    text = "\n".join(_output_text(o) for o in outputs)
    assert MISSING_FIGURE not in text, "a figure the notebook shows is not in the results"
    # nothing that varies between machines or runs: absolute paths of this checkout or the results
    for volatile in {str(PROJECT_ROOT), str(results_dir)}:
        assert volatile not in text
    # the committed notebook is exactly what executing it against the committed results gives
    assert executed_path.read_bytes() == source.read_bytes(), (
        f"{source.name} differs from its re-execution; run `make results` and commit the notebooks")


def test_the_study_kernel_is_registered_in_this_environment():
    """`make venv` registers the kernel the notebooks name (and `make lab` opens them with)."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    assert KERNEL in specs, f"kernel {KERNEL!r} not registered; run `make venv`"
