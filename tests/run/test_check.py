"""`make check` inside the suite: the study regenerated from the committed inputs, without the stage cache,
against the committed results and notebooks.

Both tests read one regeneration, made by the command `make check` runs (with `--keep`, so that the
regenerated folder stays for the second test), which takes the project's lock as `make check` does. As a
test it runs beside the other tests instead of before them all, and the suite runs the whole study once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.run.outputs import declaration

pytestmark = pytest.mark.slow

# The stages before topic modelling: their outputs are held to the byte, not only to the check's equivalence.
EXACT_STAGES = ("corpus", "segment", "documents", "emphases")


@pytest.fixture(scope="module")
def regeneration(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path | None]:
    """The check's exit, output and regenerated folder (None when it kept none)."""
    scratch = tmp_path_factory.mktemp("check")
    # `--keep` keeps the regeneration in the system's temporary folder: here, this fixture's.
    env = {**os.environ, "TMPDIR": str(scratch)}
    done = subprocess.run([sys.executable, "-m", "pipeline", "--root", str(PROJECT_ROOT), "--quiet", "check",
                           "--keep"], capture_output=True, text=True, cwd=PROJECT_ROOT, env=env)
    kept = sorted(scratch.glob("study-check-*"))
    return done, kept[0] if len(kept) == 1 else None


def test_the_regenerated_results_are_identical_or_equivalent_to_the_committed_ones(regeneration):
    done, _ = regeneration
    # The check's report names every file that differs, and how (the kernels' warnings before it are noise).
    report = done.stderr[done.stderr.find("make check:"):] if "make check:" in done.stderr else done.stderr
    assert done.returncode == 0, done.stdout + report
    assert "make check: the regenerated results are " in done.stdout


def test_corpus_lexicon_and_emphasis_outputs_match_the_committed_results_byte_for_byte(regeneration):
    done, kept = regeneration
    committed = Paths.at().results
    if not (committed / "tables" / "documents.csv").exists():
        pytest.fail("results/ has no committed tables; run `make results` and commit them")
    assert kept is not None and (kept / "results").is_dir(), done.stdout + done.stderr
    regenerated = kept / "results"
    # The cleaned texts and units, and every table and figure these stages declare.
    names = sorted(p.relative_to(regenerated).as_posix() for p in (regenerated / "corpus").rglob("*") if p.is_file())
    assert "corpus/units.jsonl" in names and any(name.startswith("corpus/clean/") for name in names)
    names += [name for stage in EXACT_STAGES for name in declaration(stage).names()]
    for name in names:
        assert (committed / name).read_bytes() == (regenerated / name).read_bytes(), name
