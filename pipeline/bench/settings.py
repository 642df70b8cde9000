"""The benchmark's settings: the stages it times, its table columns, and the parameters of each scale."""

from __future__ import annotations

import logging
from typing import Any

from pipeline.common.params import StudyParams, merged

__all__ = ["BENCH_CSV_COLUMNS", "OTHER", "RATIO_COLUMNS", "REPORT", "STAGES", "TOTAL", "bench_settings", "log", "scale_params"]

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


def bench_settings(params: StudyParams, quick: bool) -> dict[str, Any]:
    """The `bench:` section resolved for full or quick mode (quick_* keys win; checked in `BenchParams`).

    Parameters
    ----------
    params : StudyParams
        The study's parameters.
    quick : bool
        Whether the quick mode's settings win.

    Returns
    -------
    dict[str, Any]
        The benchmark's settings, `scales` and `segment_ratio_scales` sorted without repeats.

    Raises
    ------
    ValueError
        When the parameters have no `bench` section.
    """
    if params.bench is None:
        raise ValueError("params lack the bench section; copy it from the project's params.yaml")
    settings = params.bench.resolved(quick)
    settings["segment_ratio_scales"] = sorted(set(settings["segment_ratio_scales"]))
    settings["scales"] = sorted(set(settings["scales"]))
    return settings


def scale_params(params: StudyParams, settings: dict[str, Any], scale: int) -> dict[str, Any]:
    """The study parameters a benchmark run at `scale` uses (condition `bench`).

    The notebooks are executed by the `report` task after the run instead of
    inside it, so that a failing notebook costs the report's row, not the
    scale's measurements.

    Parameters
    ----------
    params : StudyParams
        The study's parameters.
    settings : dict[str, Any]
        The resolved benchmark settings (`bench_settings`), whose `overrides` are merged in.
    scale : int
        The corpus scale; every scale uses the same parameters.

    Returns
    -------
    dict[str, Any]
        The parameters as a params.yaml mapping, notebooks not executed.
    """
    run = merged(params.record(), settings.get("overrides") or {})
    run["report"]["execute_notebooks"] = False
    return run
