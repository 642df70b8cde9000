"""Shared fixtures: the real corpus, throw-away copies of the project's inputs, and folders made once per
test session however many pytest-xdist workers run it; and the order the tests start in."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import pytest
from filelock import FileLock

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.common.params import StudyParams
from pipeline.common.params import load_params

RAW = PROJECT_ROOT / "data" / "raw"


def raw_text(doc_id: str) -> str:
    """The raw text of one article, by the doc_id the manifest gives it."""
    files = {"anhui": "000_c2f41a5a6c120b00.txt", "suzhou": "001_9eeabe4055502c3b.txt",
             "hefei": "002_b9b0226557ee4642.txt", "huainan": "003_76c821f3652298d8.txt",
             "chengdu": "004_491a414399764d69.txt"}
    return (RAW / files[doc_id]).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def project_params() -> StudyParams:
    return load_params(PROJECT_ROOT / "params.yaml")


def copy_project_inputs(destination: Path) -> Paths:
    """Copy what a run reads (data, lexicon, parameters, notebooks) into a fresh root."""
    for name in ("data", "lexicon", "notebooks"):
        source = PROJECT_ROOT / name
        if source.exists():
            shutil.copytree(source, destination / name)
    shutil.copy2(PROJECT_ROOT / "params.yaml", destination / "params.yaml")
    return Paths.at(destination)


@pytest.fixture
def project_copy(tmp_path) -> Paths:
    return copy_project_inputs(tmp_path / "project")


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """The folder `name`, filled by `make(folder)` once per test session, whichever worker asks first.

    pytest-xdist builds a session fixture once in every worker; a whole run of the study made that way
    would run once per worker. The workers of one session share the parent of their base temporary
    folders, so the first to take the lock there makes the folder and the others wait for it and reuse
    it. Run serially, the session's own base temporary folder holds it. What uses the folder must not
    change it: a test that changes it works on a copy.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    folder, done = base / name, base / f"{name}.done"
    with FileLock(base / f"{name}.lock"):
        if not done.exists():
            # A worker whose `make` failed leaves a partial folder: the next one starts again.
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests first, in their collection order, then the others in theirs.

    With `make test`'s workers (pytest-xdist, one module per worker at a time) a long module that
    started last would run alone at the end while the other workers idle; started first, the many
    short modules fill the time beside it.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
