"""The parameters file: read once, checked, handed down as plain dictionaries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.common.errors import InputError

REQUIRED_SECTIONS = ("ingest", "clean", "segment", "units", "emphases", "themes", "report")


def load_params(path: Path) -> dict[str, Any]:
    try:
        params = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "parameters file not found; pass --params with an existing file") from None
    except yaml.YAMLError as exc:
        raise InputError(path, f"is not valid YAML ({exc}); fix the syntax and rerun") from None
    if not isinstance(params, dict):
        raise InputError(path, "must be a YAML mapping of sections (ingest, clean, ...)")
    missing = [s for s in REQUIRED_SECTIONS if s not in params]
    if missing:
        raise InputError(path, f"lacks the section(s) {', '.join(missing)}; copy them from the project's params.yaml")
    return params


# Sections that configure tooling around the study, not the study's results:
# they are left out of the run manifest and of the run's fingerprint.
NON_STUDY_SECTIONS = ("bench",)


def study_params(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters that can change a result."""
    return {key: value for key, value in params.items() if key not in NON_STUDY_SECTIONS}
