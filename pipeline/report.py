"""Execute the notebooks headlessly and export them as one HTML report.

The same function runs in `make results` and in the tests, with the notebooks
folder as working directory, so a notebook behaves identically in both.
Volatile metadata (timings, kernel ids) is stripped so that re-execution
yields no diff.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat

from pipeline.results import RESULTS_ENV

KERNEL = "python3"


def strip_volatile(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes from run to run without changing the content."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
        if "id" in cell:
            # stable ids: position-based, so inserting a cell renumbers but re-running does not
            pass
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": KERNEL}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def execute_notebook(source: Path, destination: Path, results_dir: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Execute `source` with results read from `results_dir`; write it to `destination`."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(source, as_version=4)
    previous = os.environ.get(RESULTS_ENV)
    os.environ[RESULTS_ENV] = str(results_dir)
    # Keep matplotlib quiet and headless inside the kernel.
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL, record_timing=False,
                                resources={"metadata": {"path": str(source.parent)}})
        try:
            client.execute()
        except CellExecutionError as exc:
            raise RuntimeError(f"{source}: a cell failed while executing:\n{exc}") from None
    finally:
        if previous is None:
            os.environ.pop(RESULTS_ENV, None)
        else:
            os.environ[RESULTS_ENV] = previous
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        raise RuntimeError(f"{source}: error output in the executed notebook: {errors[0].get('ename')}")
    nb = strip_volatile(nb)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "w", encoding="utf-8", newline="\n") as handle:
        nbformat.write(nb, handle)
    return nb


def combined_notebook(notebooks: list[nbformat.NotebookNode], titles: list[str]) -> nbformat.NotebookNode:
    """One notebook holding all of them, after a table of contents."""
    toc = ["# Community governance in five Chinese places: the study's report", "",
           "Every notebook of the study, executed by `make results`.", ""]
    toc += [f"{i}. [{title}](#{_anchor(title)})" for i, title in enumerate(titles, start=1)]
    merged = nbformat.v4.new_notebook()
    merged.cells.append(nbformat.v4.new_markdown_cell("\n".join(toc)))
    for nb in notebooks:
        merged.cells.extend(copy.deepcopy(nb.cells))
    for index, cell in enumerate(merged.cells):
        cell["id"] = f"cell-{index:04d}"
    merged.metadata = copy.deepcopy(notebooks[0].metadata) if notebooks else merged.metadata
    return merged


def _anchor(title: str) -> str:
    return title.strip().replace(" ", "-")


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def export_html(nb: nbformat.NotebookNode, destination: Path) -> Path:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(body)
    return destination


def build_report(notebook_sources: list[Path], notebooks_out: Path, results_dir: Path, report_path: Path) -> list[Path]:
    """Execute every notebook into `notebooks_out` and write the combined HTML report."""
    executed, titles, written = [], [], []
    for source in notebook_sources:
        destination = notebooks_out / source.name
        nb = execute_notebook(source, destination, results_dir)
        executed.append(nb)
        titles.append(notebook_title(nb, source.stem))
        written.append(destination)
    if executed:
        export_html(combined_notebook(executed, titles), report_path)
    return written
