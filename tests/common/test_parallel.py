"""Worker pools: results in job order, and no worker left when the run is interrupted."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from pipeline.common.parallel import ordered_map


def _build(offset: int) -> int:
    return offset


def _add(job: int, offset: int) -> int:
    return job + offset


def _slow(job: int, state: None) -> int:
    time.sleep(0.2)
    return job


def _nothing() -> None:
    return None


def test_ordered_map_keeps_job_order_in_workers_and_serially():
    jobs = list(range(40))
    assert ordered_map(_add, jobs, _build, (100,), 2, "test") == [j + 100 for j in jobs]
    assert ordered_map(_add, jobs, _build, (100,), 1, "test") == [j + 100 for j in jobs]


def _new_children(before: set, seconds: float) -> list:
    """Worker processes started since `before` that are still alive after at most `seconds`."""
    end = time.monotonic() + seconds
    while True:
        left = [p for p in multiprocessing.active_children() if p not in before]
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.05)


def test_ctrl_c_cancels_pending_jobs_and_ends_the_workers_at_once():
    # Only this call's workers count: a process another test started and the
    # interpreter has not reaped yet is not this pool's.
    before = set(multiprocessing.active_children())
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.setitimer(signal.ITIMER_REAL, 0.8)
    alarm = signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            ordered_map(_slow, list(range(800)), _nothing, (), 2, "test")  # 80 s of work in 2 workers
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, alarm)
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 15
    assert _new_children(before, 2.0) == []
