"""The parameters file: read once, checked once (pipeline/common/params.py), handed down as typed sections."""

from __future__ import annotations

from pathlib import Path
import yaml

from pipeline.common.errors import InputError
from pipeline.common.params import StudyParams, problems

__all__ = ["load_params"]


def load_params(path: Path) -> StudyParams:
    """The parameters in `path`, after every key has been checked.

    Parameters
    ----------
    path : Path
        A YAML file shaped like the project's params.yaml.

    Returns
    -------
    StudyParams
        Every section, typed and frozen.

    Raises
    ------
    InputError
        Naming the file and every problem, one line each.
    """
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
    found = problems(params)
    if found:
        raise InputError(path, found)
    return StudyParams.model_validate(params)
