"""The whole study, run into temporary folders: determinism, atomicity, regression."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from pipeline.common import io
from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.common.errors import InputError
from pipeline.common.params import StudyParams
from pipeline.corpus.stage import documents_table
from pipeline.run.compare import compare_trees
from pipeline.run.runner import (load_concept_level, run_study, stage_corpus, stage_emphases, stage_segment,
                                 write_corpus_outputs, write_segment_outputs)
from pipeline.run.state import StudyState

pytestmark = pytest.mark.slow


def quick_params(params: StudyParams) -> StudyParams:
    """The project's parameters with a smaller topic sweep and bootstrap, for speed."""
    return params.updated({"themes": dict(k_min=2, k_max=3, seeds=[1, 2], passes=5, iterations=50,
                                          bootstrap_samples=50, processes=1),
                           "emphases": {"bootstrap_samples": 20}, "report": {"execute_notebooks": False}})


def tree_digest(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_runs_give_identical_bytes(project_copy, project_params, tmp_path):
    params = quick_params(project_params)
    first, second = tmp_path / "first", tmp_path / "second"
    run_study(project_copy, params, project_copy.params, results_dir=first, notebooks_dir=tmp_path / "nb1", use_cache=False)
    run_study(project_copy, params, project_copy.params, results_dir=second, notebooks_dir=tmp_path / "nb2", use_cache=False)
    assert compare_trees(first, second).verdict == "identical"
    # manifest.json too, to the byte (the comparison above leaves out its git block)
    assert tree_digest(first) == tree_digest(second)
    for table in ("documents", "cleaning_audit", "lexicon_coverage", "lexicon_profile", "place_terms",
                  "k_selection", "topics", "place_topics", "topic_roles", "place_concepts", "place_concepts_cut"):
        assert (first / "tables" / f"{table}.csv").exists(), table


def test_failed_run_leaves_previous_results_intact(project_copy, project_params, tmp_path):
    params = quick_params(project_params)
    results = tmp_path / "results"
    run_study(project_copy, params, project_copy.params, results_dir=results, notebooks_dir=tmp_path / "nb")
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


def test_corpus_lexicon_and_emphasis_tables_match_the_committed_results(project_params, tmp_path):
    """Regression: the stages before topic modelling reproduce results/ byte for byte."""
    committed = Paths.at().results
    if not (committed / "tables" / "documents.csv").exists():
        pytest.fail("results/ has no committed tables; run `make results` and commit them")
    paths = Paths.at()
    out = paths.with_results(tmp_path / "results")
    state = StudyState(params=project_params)
    stage_corpus(paths, state)
    write_corpus_outputs(out, state)
    seg = stage_segment(paths, state)
    write_segment_outputs(out, seg, project_params)
    io.write_csv(documents_table(state.documents, seg.doc_counts), out.tables / "documents.csv")
    stage_emphases(out, state, seg, load_concept_level(paths, seg))
    produced = sorted(p.relative_to(out.results).as_posix() for p in out.results.rglob("*") if p.is_file())
    assert produced
    for name in produced:
        assert (committed / name).read_bytes() == (out.results / name).read_bytes(), name


def test_cli_names_a_missing_parameters_file(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pipeline", "--params", str(tmp_path / "nope.yaml"), "run",
                           "--results", str(tmp_path / "out")], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode == 2
    assert "nope.yaml" in done.stderr and "not found" in done.stderr
    assert not (tmp_path / "out").exists()
