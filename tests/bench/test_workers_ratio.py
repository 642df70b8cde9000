"""The interleaved engine ratios: slices sample the whole corpus, both sides see every slice and are compared,
and a side that gives other results is caught."""

from __future__ import annotations

import pytest

from pipeline.bench.workers_ratio import bare_processes_ceiling, slices_of, workers_vs_process


def _build(offset: int) -> int:
    return offset


def _add(job: int, offset: int) -> int:
    return job + offset


def _pid_dependent(job: int, main_pid: int) -> int:
    """A result that differs between this process and a worker: what the identity check is for."""
    import os

    return job + (0 if os.getpid() == main_pid else 1)


def test_slices_are_round_robin_samples_and_never_empty():
    assert slices_of(list(range(7)), 3) == [[0, 3, 6], [1, 4], [2, 5]]
    assert slices_of([1, 2], 5) == [[1], [2]]


def test_workers_against_one_process_on_a_local_cluster(tmp_path):
    found = workers_vs_process(_add, list(range(40)), _build, (3,), slices=4, local_directory=tmp_path)
    assert found["pairs"] == 4 and found["identical"] is True and found["differing_slices"] == []
    assert found["ratio"] > 0 and found["cluster_start_s"] > 0 and found["jobs"] == 40
    assert {r["first"] for r in found["rounds"]} == {"ours", "theirs"}  # each side leads in turn


def test_workers_giving_other_results_are_reported(tmp_path):
    import os

    found = workers_vs_process(_pid_dependent, list(range(12)), _build, (os.getpid(),), slices=3,
                               local_directory=tmp_path)
    assert found["identical"] is False and found["differing_slices"] == [0, 1, 2]


def test_bare_ceiling_runs_every_slice_on_both_sides():
    found = bare_processes_ceiling(_add, list(range(30)), _build, (1,), slices=3)
    assert found["pairs"] == 3 and found["jobs"] == 30
    assert all(r["ours_seconds"] > 0 and r["theirs_seconds"] > 0 for r in found["rounds"])


def test_no_jobs_is_an_error():
    with pytest.raises(ValueError):
        bare_processes_ceiling(_add, [], _build, (1,))
