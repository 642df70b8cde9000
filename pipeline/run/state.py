"""What one run carries between its stages, and how a stage is timed."""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.common.params import StudyParams
from pipeline.corpus.stage import CleanDocument
from pipeline.run.cache import StageCache
from pipeline.themes.results import SeededSummary, ThemesSummary

__all__ = ["StudyState", "StageTimer", "peak_rss_mb"]

log = logging.getLogger("pipeline")


@dataclass
class StudyState:
    """What the stages have produced so far in one run."""
    params: StudyParams
    documents: list[CleanDocument] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    # The models' summaries for the run manifest, by the manifest's key (`themes`, `themes_seeded`).
    summaries: dict[str, ThemesSummary | SeededSummary] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    cache: StageCache = field(default_factory=lambda: StageCache(Path("."), enabled=False))
    keys: dict[str, str] = field(default_factory=dict)


def peak_rss_mb() -> float:
    """Peak resident memory so far of this process and of its finished workers, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # ru_maxrss is in KiB on Linux


class StageTimer:
    """Logs a stage's start and end, and records its seconds and peak memory in the run's state."""

    def __init__(self, state: StudyState, name: str):
        self.state, self.name = state, name

    def __enter__(self):
        self.start = time.perf_counter()
        log.info("stage %s: started", self.name)
        return self

    def __exit__(self, *exc):
        if exc[0] is None:  # only finished stages are timed
            self.state.timings[self.name] = time.perf_counter() - self.start
            self.state.peak_rss_mb[self.name] = peak_rss_mb()
            log.info("stage %s: done in %.1f s", self.name, self.state.timings[self.name])
