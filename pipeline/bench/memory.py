"""Memory and stage timing of a process tree, sampled while a benchmark task runs."""

from __future__ import annotations

import logging
import re
import threading

import psutil

__all__ = ["StageMemory", "tree_rss_mb"]

_STAGE_EVENT = re.compile(r"^stage (\w+): (started|done)")


def tree_rss_mb() -> float:
    """Resident memory of this process and all its descendants, in MB."""
    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        try:
            total += child.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass  # a worker that ended between listing and reading
    return total / 2**20


class StageMemory(logging.Handler):
    """Peak tree memory per runner stage, following the runner's stage log lines."""

    def __init__(self, interval: float):
        super().__init__(level=logging.INFO)
        self.interval = interval
        self.current = "setup"
        self.peaks: dict[str, float] = {}
        self.overall = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)

    def sample(self) -> None:
        value = tree_rss_mb()
        with self._lock:
            self.peaks[self.current] = max(self.peaks.get(self.current, 0.0), value)
            self.overall = max(self.overall, value)

    def emit(self, record: logging.LogRecord) -> None:
        match = _STAGE_EVENT.match(record.getMessage())
        if match:
            self.sample()  # closes the previous span
            with self._lock:
                self.current = match.group(1) if match.group(2) == "started" else "between"

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> "StageMemory":
        logging.getLogger("pipeline").addHandler(self)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        logging.getLogger("pipeline").removeHandler(self)
