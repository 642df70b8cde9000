"""The parameters file: read once, checked against the schema, handed down as plain dictionaries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.common.errors import InputError
from pipeline.run.schema import check_params

__all__ = ["NON_STUDY_SECTIONS", "load_params", "study_params"]


def load_params(path: Path) -> dict[str, Any]:
    """The parameters in `path`, after every key has been checked (pipeline/run/schema.py)."""
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "parameters file not found; pass --params with an existing file") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder; pass --params with a YAML file") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"is not UTF-8 (invalid byte at offset {exc.start}); save it as UTF-8") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        raise InputError(path, f"is not valid YAML{at} ({getattr(exc, 'problem', None) or exc}); fix the syntax and rerun") from None
    if not isinstance(params, dict):
        raise InputError(path, "must be a YAML mapping of sections (ingest, clean, ...)")
    problems = check_params(params)
    if problems:
        raise InputError(path, problems)
    return params


# Sections that configure tooling around the study, not the study's results:
# they are left out of the run manifest and of the run's fingerprint.
NON_STUDY_SECTIONS = ("bench", "cache", "dask")


def study_params(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters that can change a result."""
    return {key: value for key, value in params.items() if key not in NON_STUDY_SECTIONS}
