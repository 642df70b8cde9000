"""`make check`: regenerate into a temporary folder and compare with the committed results."""

from __future__ import annotations

import filecmp
import json
import shutil
import sys
import tempfile
from pathlib import Path

from pipeline.common.config import Paths
from pipeline.run.guard import SELF_DIGEST

# Folders under results/ that a study run does not produce (the benchmark writes them).
NOT_REGENERATED = ("bench",)


def _files(folder: Path) -> set[str]:
    if not folder.exists():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and p.relative_to(folder).parts[0] not in NOT_REGENERATED}


def _manifest_without_git(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("git", None)
    data.pop(SELF_DIGEST, None)  # a digest over the whole manifest, git block included
    return data


def compare_trees(expected: Path, actual: Path) -> list[str]:
    """Differences between two results folders, as readable lines (empty when identical).

    The manifest's `git` block is left out of the comparison: it names the
    commit of the checkout, which a regeneration in another clone may lack.
    """
    problems = []
    want, have = _files(expected), _files(actual)
    problems += [f"missing from the regeneration: {name}" for name in sorted(want - have)]
    problems += [f"not in the committed results: {name}" for name in sorted(have - want)]
    for name in sorted(want & have):
        a, b = expected / name, actual / name
        if name.endswith("manifest.json"):
            if _manifest_without_git(a) != _manifest_without_git(b):
                problems.append(f"differs: {name}")
        elif not filecmp.cmp(a, b, shallow=False):
            problems.append(f"differs: {name}")
    return problems


def check_results(paths: Paths, params: dict, params_file: Path, keep: bool = False) -> int:
    from pipeline.run.runner import run_study

    from pipeline.run.guard import scratch_root

    # build/tmp is cleared by the next run; a folder kept for inspection goes to the system's temp folder.
    where = None if keep else scratch_root(paths.build)
    if where is not None:
        where.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="study-check-", dir=where))
    try:
        results = scratch / "results"
        notebooks = scratch / "notebooks"
        run_study(paths, params, params_file, results_dir=results, notebooks_dir=notebooks, use_cache=False)
        problems = compare_trees(paths.results, results)
        for executed in sorted(notebooks.glob("*.ipynb")):
            committed = paths.notebooks / executed.name
            if committed.read_bytes() != executed.read_bytes():
                problems.append(f"differs: notebooks/{executed.name} (its executed outputs)")
    finally:
        if keep:
            print(f"regenerated results kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if problems:
        print("make check: the regenerated results differ from the committed ones:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        print("Run `make results` and commit what it regenerates (or find the source of non-determinism).", file=sys.stderr)
        return 1
    print("make check: regenerated results are identical to the committed ones.")
    return 0
