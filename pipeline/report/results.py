"""Read the study's results: the one loader the notebooks use.

Notebooks compute nothing heavy; they call `load_table("place_terms")` and
plot. The results folder is the project's `results/` unless the runner points
the notebooks at a staging folder through the STUDY_RESULTS_DIR variable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from pipeline.common.config import Paths
from pipeline.common.io import read_jsonl

__all__ = ["RESULTS_ENV", "clean_text", "figure_path", "load_manifest", "load_table", "load_units", "read_table",
           "results_dir"]

RESULTS_ENV = "STUDY_RESULTS_DIR"


def results_dir() -> Path:
    override = os.environ.get(RESULTS_ENV)
    return Path(override) if override else Paths.at().results


def read_table(path: Path) -> pd.DataFrame:
    """A results table as written: empty cells are missing, no other string is.

    Parameters
    ----------
    path : Path
        A CSV table of the results folder.

    Returns
    -------
    pd.DataFrame
        The table; FileNotFoundError when it does not exist.
    """
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found; run `make results` first")
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def load_table(name: str) -> pd.DataFrame:
    """A table from results/tables/ by its name without .csv (e.g. 'documents')."""
    return read_table(results_dir() / "tables" / f"{name}.csv")


def load_manifest() -> dict:
    return json.loads((results_dir() / "manifest.json").read_text(encoding="utf-8"))


def figure_path(name: str) -> Path:
    return results_dir() / "figures" / name


def clean_text(doc_id: str) -> str:
    return (results_dir() / "corpus" / "clean" / f"{doc_id}.txt").read_text(encoding="utf-8")


def load_units() -> list[dict]:
    """The segmented text units (results/corpus/units.jsonl): text, tokens and their spans, place, doc_id."""
    path = results_dir() / "corpus" / "units.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found; run `make results` first")
    return read_jsonl(path)
