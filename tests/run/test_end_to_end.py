"""The whole study, run into temporary folders: determinism and atomicity. (The regression against the
committed results is tests/run/test_check.py.)"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import pytest

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.errors import InputError
from pipeline.common.params import StudyParams, load_params
from pipeline.run.compare import compare_trees
from pipeline.run.runner import run_study
from tests.conftest import copy_project_inputs
from tests.run.cli_runs import SMALL, command, write_params
from tests.run.cli_runs import small_run  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


def quick_params(params: StudyParams) -> StudyParams:
    """The project's parameters with a smaller topic sweep and bootstrap, for speed."""
    return params.updated({"themes": dict(k_min=2, k_max=3, seeds=[1, 2], passes=5, iterations=50,
                                          bootstrap_samples=50, processes=1),
                           "emphases": {"bootstrap_samples": 20}, "report": {"execute_notebooks": False}})


def tree_digest(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_runs_give_identical_bytes(small_run, tmp_path):
    """The shared small run and a second one, independent of it: on a fresh copy of the inputs, with the
    same parameters, the stage cache off."""
    project = copy_project_inputs(tmp_path / "project")
    params = write_params(project.root, small_run.params.name, **SMALL)
    assert params.read_bytes() == small_run.params.read_bytes()
    first, second = small_run.results, tmp_path / "second"
    done = subprocess.run(command(project, params, "--quiet", "--no-cache", results=second), capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert compare_trees(first, second).verdict == "identical"
    # manifest.json too, to the byte (the comparison above leaves out its git block)
    assert tree_digest(first) == tree_digest(second)
    for table in ("documents", "cleaning_audit", "lexicon_coverage", "lexicon_profile", "place_terms",
                  "k_selection", "topics", "place_topics", "topic_roles", "place_concepts", "place_concepts_cut"):
        assert (first / "tables" / f"{table}.csv").exists(), table


def test_failed_run_leaves_previous_results_intact(project_copy, small_run, tmp_path):
    params = load_params(small_run.params)
    results = tmp_path / "results"
    shutil.copytree(small_run.results, results)  # the results of a finished run
    before = tree_digest(results)
    # A bad file added to data/raw/ stops the run at ingestion ...
    (project_copy.raw / "broken.txt").write_bytes(b"\x00\x01\x02")
    with open(project_copy.manifest_csv, "a", encoding="utf-8") as handle:
        handle.write("broken,broken.txt,某市,city,,,,\n")
    with pytest.raises(InputError, match="broken.txt"):
        run_study(project_copy, params, project_copy.params, results_dir=results, notebooks_dir=tmp_path / "nb")
    assert tree_digest(results) == before
    # ... and a broken lexicon stops it midway, after the corpus stage has written its files.
    (project_copy.raw / "broken.txt").unlink()
    lines = project_copy.manifest_csv.read_text(encoding="utf-8").splitlines()[:-1]
    project_copy.manifest_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(project_copy.lexicon / "governance_terms.csv", "a", encoding="utf-8") as handle:
        handle.write(",party_leadership,,missing term,\n")
    with pytest.raises(InputError, match="governance_terms.csv"):
        run_study(project_copy, params, project_copy.params, results_dir=results, notebooks_dir=tmp_path / "nb")
    assert tree_digest(results) == before
    assert sorted(p.name for p in tmp_path.iterdir() if "staging" in p.name) == []


def test_cli_names_a_missing_parameters_file(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pipeline", "--params", str(tmp_path / "nope.yaml"), "run",
                           "--results", str(tmp_path / "out")], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode == 2
    assert "nope.yaml" in done.stderr and "not found" in done.stderr
    assert not (tmp_path / "out").exists()
