"""`make check`: regenerate into a temporary folder and compare with the committed results.

The comparison itself (what counts as identical, equivalent or different, and
the tolerance) is `pipeline.run.compare`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from pipeline.common.config import Paths
from pipeline.common.params import StudyParams
from pipeline.run.compare import compare_notebooks, compare_trees
from pipeline.run.guard import scratch_root
from pipeline.run.runner import run_study

__all__ = ["check_results"]


def check_results(paths: Paths, params: StudyParams, params_file: Path, keep: bool = False) -> int:
    """Regenerate every result without the cache and compare it with `results/` and the notebooks.

    Prints the verdict and the evidence.

    Parameters
    ----------
    paths : Paths
        The project's folders and files, with the committed results and notebooks.
    params : StudyParams
        The parameters of the regeneration.
    params_file : Path
        The parameters file they were read from.
    keep : bool, optional
        Whether to keep the regenerated results, in the system's temp folder, for inspection.

    Returns
    -------
    int
        0 when the regeneration is identical or equivalent to the committed results, 1 when it differs.
    """
    # build/tmp is cleared by the next run; a folder kept for inspection goes to the system's temp folder.
    where = None if keep else scratch_root(paths.build)
    if where is not None:
        where.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="study-check-", dir=where))
    try:
        results = scratch / "results"
        notebooks = scratch / "notebooks"
        run_study(paths, params, params_file, results_dir=results, notebooks_dir=notebooks, use_cache=False)
        found = compare_trees(paths.results, results).merge(compare_notebooks(paths.notebooks, notebooks))
    finally:
        if keep:
            print(f"regenerated results kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if found.verdict == "different":
        print(f"make check: the regenerated results are {found.report()}", file=sys.stderr)
        print("If a change of code, data or parameters caused this, run `make results` and commit what it "
              "regenerates; if nothing changed, this machine computes another result: see "
              "\"What 'reproduces' means\" in the README.", file=sys.stderr)
        return 1
    print(f"make check: the regenerated results are {found.report()}")
    return 0
