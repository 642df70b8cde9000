"""Shared fixtures: the real corpus, and throw-away copies of the project's inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
