"""Execute the notebooks headlessly and export them as one HTML report.

The same function runs in `make results` and in the tests, with the notebooks
folder as working directory, so a notebook behaves identically in both.
Volatile metadata (timings, kernel ids) is stripped so that re-execution
yields no diff.

Execution is nbclient's `NotebookClient` and export nbconvert's `HTMLExporter`;
the code here adds only what they lack: several notebooks at once (nbclient runs
one notebook per client), Ctrl-C kept an interrupt (on the main thread's event
loop nbclient installs SIGINT/SIGTERM handlers that stop the kernel and report
a dead kernel instead, hence the loop's own thread in `run_interruptibly`), and
a `strip_volatile` that keeps the metadata an author sets, such as cell tags,
which nbconvert's `ClearMetadataPreprocessor` clears unless each key is listed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Iterator, Sequence

import nbformat

from pipeline.common.parallel import progress
from pipeline.report.results import RESULTS_ENV
from pipeline.report.images import shrink_embedded_images
from pipeline.report.tidy import tidy_tables

__all__ = ["FIGURE_LINK", "KERNEL", "KERNEL_DISPLAY_NAME", "REPORT_TITLE", "TEMPLATES", "build_report",
           "combined_notebook", "execute_notebook", "execute_notebooks", "export_html", "notebook_title",
           "run_interruptibly", "strip_volatile"]

# The kernel `make venv` registers inside .venv (and `make lab` uses), so that
# the notebooks run in the study's own environment wherever they are opened.
KERNEL = "governance-study"
KERNEL_DISPLAY_NAME = "Python (governance study)"


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
    nb.metadata["kernelspec"] = {"display_name": KERNEL_DISPLAY_NAME, "language": "python", "name": KERNEL}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


@contextlib.contextmanager
def _results_env(results_dir: Path) -> Iterator[None]:
    """Point the kernels at `results_dir` (they inherit this process's environment)."""
    previous = os.environ.get(RESULTS_ENV)
    os.environ[RESULTS_ENV] = str(results_dir)
    # Keep matplotlib quiet and headless inside the kernel.
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(RESULTS_ENV, None)
        else:
            os.environ[RESULTS_ENV] = previous


def _client_class():
    # nbclient and jupyter_client (~3 s) are loaded only when notebooks run
    from nbclient import NotebookClient

    class Client(NotebookClient):
        def _cleanup_kernel(self) -> None:
            """The exit hook nbclient registers per kernel: `_stop_kernel` has stopped the kernel
            already (a kernel also exits with this process), so at exit there is nothing left to do."""

    return Client


def _kernel_manager(sockets: str):
    """The kernel's manager: on POSIX its channels are Unix sockets in `sockets`, not TCP ports.

    A TCP port is picked free and bound a moment later by the kernel; with several runs starting kernels at once
    (parallel tests, two notebooks a run) another process can take it in between, and the kernel dies before
    it answers ("Address already in use"). A socket file in a folder of this kernel's own cannot be taken.
    Windows keeps TCP (None: nbclient's own manager).
    """
    if os.name != "posix":
        return None
    # jupyter_client (~3 s with nbclient) is loaded only when notebooks run
    from jupyter_client.manager import AsyncKernelManager

    return AsyncKernelManager(kernel_name=KERNEL, transport="ipc", ip=os.path.join(sockets, "kernel"))


async def _stop_kernel(client) -> None:
    """The notebook's kernel is gone, also when its start was cancelled half-way (Ctrl-C)."""
    manager = client.km
    if manager is not None and manager.has_kernel:
        with contextlib.suppress(Exception):
            await manager.shutdown_kernel(now=True)


async def _execute(source: Path, destination: Path, timeout: int, slots: asyncio.Semaphore,
                   bar=None) -> nbformat.NotebookNode:
    # nbclient and jupyter_client (~3 s) are loaded only when notebooks run
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(source, as_version=4)
    async with slots:
        sockets = tempfile.mkdtemp(prefix="kernel-")  # short: a Unix socket's path has at most 107 bytes
        # "immediate": a finished (or interrupted) notebook's kernel is stopped
        # at once, not first sent an interrupt it may receive while still starting.
        client = _client_class()(nb, km=_kernel_manager(sockets), timeout=timeout, kernel_name=KERNEL,
                                record_timing=False, shutdown_kernel="immediate",
                                resources={"metadata": {"path": str(source.parent)}})
        try:
            await client.async_execute()
        except NoSuchKernel:
            raise RuntimeError(f"{source}: the Jupyter kernel {KERNEL!r} is not registered; run `make venv` "
                               f"(or `python -m ipykernel install --sys-prefix --name {KERNEL}`)") from None
        except CellExecutionError as exc:
            # First line: the notebook and the error, readable without a terminal (no colour codes).
            what = re.sub(r"\x1b\[[0-9;]*m", "", f"{exc.ename}: {exc.evalue}")
            raise RuntimeError(f"{source}: a cell failed while executing ({what})\n{exc}") from None
        finally:
            await _stop_kernel(client)
            shutil.rmtree(sockets, ignore_errors=True)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        raise RuntimeError(f"{source}: error output in the executed notebook: {errors[0].get('ename')}")
    nb = strip_volatile(nb)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "w", encoding="utf-8", newline="\n") as handle:
        nbformat.write(nb, handle)
    if bar is not None:
        bar.update(1)
    return nb


def execute_notebooks(sources: Sequence[Path], destinations: Sequence[Path], results_dir: Path,
                      kernels: int = 2, timeout: int = 600) -> list[nbformat.NotebookNode]:
    """Execute each source with results read from `results_dir`, `kernels` at a time; write them out.

    The notebooks only read results, so they do not depend on one another
    and may run side by side, each in its own kernel process.
    """
    async def run_all() -> list[nbformat.NotebookNode]:
        slots = asyncio.Semaphore(max(1, kernels))
        with progress(total=len(sources), description="report: notebooks", unit="notebook") as bar:
            return list(await asyncio.gather(*(_execute(s, d, timeout, slots, bar)
                                               for s, d in zip(sources, destinations))))

    with _results_env(results_dir):
        return run_interruptibly(run_all())


async def _settle(tasks) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


def run_interruptibly(coroutine):
    """Run `coroutine` in an event loop of its own thread; Ctrl-C (or SIGTERM) in this
    thread cancels it, waits until every kernel is shut down, and re-raises.

    In its own thread the loop leaves the process's signal handlers alone
    (nbclient would otherwise replace them with its own, which stop a kernel
    and report a dead kernel instead of an interrupt).
    """
    loop = asyncio.new_event_loop()
    task = loop.create_task(coroutine)
    outcome: dict = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            outcome["value"] = loop.run_until_complete(task)
        except BaseException as exc:  # handed to the calling thread
            outcome["error"] = exc
        finally:
            rest = asyncio.all_tasks(loop)
            for pending in rest:
                pending.cancel()
            loop.run_until_complete(_settle(rest))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name="notebooks", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except BaseException:
        with contextlib.suppress(RuntimeError):  # the loop may have closed already
            loop.call_soon_threadsafe(task.cancel)
        thread.join(30)
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def execute_notebook(source: Path, destination: Path, results_dir: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Execute `source` with results read from `results_dir`; write it to `destination`."""
    return execute_notebooks([source], [destination], results_dir, 1, timeout)[0]


# nbconvert's lab template, less the scripts it would fetch from the web.
TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_TITLE = "Community governance (社区治理) in five Chinese places: what the study finds"


FIGURE_LINK = re.compile(r"!\[([^\]]*)\]\((?:results/)?figures/([^)\s]+\.png)\)")


def _attach_figures(markdown: str, results_dir: Path | None) -> tuple[str, dict]:
    """Markdown whose figure links (results/figures/X.png) point at cell attachments, and the attachments,
    so that the exported report carries its figures inside the page."""
    attachments: dict = {}
    if results_dir is None:
        return markdown, attachments

    def attach(match: re.Match) -> str:
        path = results_dir / "figures" / match.group(2)
        if not path.exists():
            return match.group(0)
        attachments[match.group(2)] = {"image/png": base64.b64encode(path.read_bytes()).decode("ascii")}
        return f"![{match.group(1)}](attachment:{match.group(2)})"

    return FIGURE_LINK.sub(attach, markdown), attachments


def combined_notebook(notebooks: list[nbformat.NotebookNode], titles: list[str], findings: str | None = None,
                      results_dir: Path | None = None) -> nbformat.NotebookNode:
    """One notebook: the title and the findings first, then the contents, then every notebook as an appendix."""
    # A notebook's own number ("3. Shared themes") gives way to its appendix number.
    appendix = [f"Appendix {i}: {re.sub(r'^[0-9]+[.)] *', '', title)}" for i, title in enumerate(titles, start=1)]
    merged = nbformat.v4.new_notebook()
    if findings:
        text, attachments = _attach_figures(f"# {REPORT_TITLE}\n\n## Findings\n\n{findings}", results_dir)
        cell = nbformat.v4.new_markdown_cell(text)
        if attachments:
            cell["attachments"] = attachments
        merged.cells.append(cell)
    else:
        merged.cells.append(nbformat.v4.new_markdown_cell(f"# {REPORT_TITLE}"))
    contents = ["## Appendices", "", "The notebooks behind the findings, executed by `make results` against the "
                "tables in `results/` (their code is in `notebooks/`): methods, cleaning, diagnostics, the "
                "exploratory model and the validation.", ""]
    contents += [f"{i}. [{title}](#{_anchor(title)})" for i, title in enumerate(appendix, start=1)]
    merged.cells.append(nbformat.v4.new_markdown_cell("\n".join(contents)))
    for nb, title in zip(notebooks, appendix):
        cells = copy.deepcopy(nb.cells)
        for cell in cells:
            if cell.cell_type == "markdown" and cell.source.startswith("# "):
                first, _, rest = cell.source.partition("\n")
                cell.source = f"# {title}" + ("\n" + rest if rest else "")
                break
        merged.cells.extend(cells)
    for index, cell in enumerate(merged.cells):
        cell["id"] = f"cell-{index:04d}"
    merged.metadata = copy.deepcopy(notebooks[0].metadata) if notebooks else merged.metadata
    merged.metadata["title"] = REPORT_TITLE
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
    # nbconvert (~4 s) is loaded only when the HTML is exported
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="study", extra_template_basedirs=[str(TEMPLATES)])
    # A reader's report: findings, figures and tables without the code behind
    # them (which the notebooks keep).
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    # What a scholar reads: no NaN or code names in its tables.
    body = tidy_tables(body)
    # Figures sized for the page (the notebooks keep them at full resolution).
    body = shrink_embedded_images(body)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(body)
    return destination


def build_report(notebook_sources: list[Path], notebooks_out: Path, results_dir: Path, report_path: Path,
                 kernels: int = 2, findings: str | None = None) -> list[Path]:
    """Execute every notebook into `notebooks_out` (`kernels` at a time) and write the combined HTML report,
    the findings (Markdown, figures from `results_dir`) first.

    Parameters
    ----------
    notebook_sources : list[Path]
        The study's notebooks to execute, in report order.
    notebooks_out : Path
        The folder the executed notebooks go to, under their source names.
    results_dir : Path
        The results folder the notebooks read and the findings' figures come from.
    report_path : Path
        Where the combined HTML report is written.
    kernels : int, optional
        How many notebooks run at a time.
    findings : str or None, optional
        The findings in Markdown, put before the notebooks.

    Returns
    -------
    list[Path]
        The executed notebooks' paths, one per source; no report is written when there is no notebook.
    """
    written = [notebooks_out / source.name for source in notebook_sources]
    executed = execute_notebooks(notebook_sources, written, results_dir, kernels)
    titles = [notebook_title(nb, source.stem) for nb, source in zip(executed, notebook_sources)]
    if executed:
        export_html(combined_notebook(executed, titles, findings, results_dir), report_path)
    return written
