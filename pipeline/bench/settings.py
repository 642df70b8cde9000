"""The benchmark's settings: the stages it times, its table columns, and the parameters of each scale."""

from __future__ import annotations

import copy
import logging
from typing import Any

__all__ = ["BENCH_CSV_COLUMNS", "OTHER", "RATIO_COLUMNS", "REPORT", "STAGES", "TOTAL", "bench_settings", "log", "merge",
           "scale_params"]

log = logging.getLogger("pipeline.bench")


STAGES = ("ingest", "clean", "segment", "emphases", "themes", "report")


# Wall time of the whole run_study call, and the part of it outside every
# stage timer (loading the character model, writing tables and corpus
# figures, the manifest).
TOTAL, OTHER = "total", "other"


# The report runs after the study on its results (see `_task_report`).
REPORT = "report"


BENCH_CSV_COLUMNS = ("scale", "condition", "articles", "places", "units", "tokens", "chars",
                     "stage", "seconds", "peak_rss_mb", "maxrss_mb")


RATIO_COLUMNS = ("ratio", "scale", "numerator", "numerator_seconds", "denominator", "denominator_seconds",
                 "value", "target", "meets_target", "identical")


def bench_settings(params: dict[str, Any], quick: bool) -> dict[str, Any]:
    """The `bench:` section resolved for full or quick mode (quick_* keys win)."""
    if "bench" not in params:
        raise ValueError("params lack the bench section; copy it from the project's params.yaml")
    section = params["bench"]
    settings = {k: v for k, v in section.items() if not k.startswith("quick_")}
    if quick:
        for key, value in section.items():
            if key.startswith("quick_"):
                settings[key.removeprefix("quick_")] = value
    scales = [int(s) for s in settings["scales"]]
    settings["segment_ratio_scales"] = sorted({int(s) for s in settings["segment_ratio_scales"]})
    if not set(settings["segment_ratio_scales"]) <= set(scales) or int(settings["themes_ratio_scale"]) not in scales:
        raise ValueError("bench segment_ratio_scales and themes_ratio_scale must be among the scales")
    settings["scales"] = sorted(set(scales))
    return settings


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `base` with `overrides` merged in, section by section."""
    merged = copy.deepcopy(base)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def scale_params(params: dict[str, Any], settings: dict[str, Any], scale: int) -> dict[str, Any]:
    """The study parameters a benchmark run at `scale` uses (condition `bench`).

    The notebooks are executed by the `report` task after the run instead of
    inside it, so that a failing notebook costs the report's row, not the
    scale's measurements.
    """
    run = merge(params, settings.get("overrides", {}))
    run["report"]["execute_notebooks"] = False
    return run
