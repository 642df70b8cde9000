"""Per-article work on 2 dask workers against 1 process, in interleaved pairs, and the machine's own ceiling.

A stage timed once on 2 workers and once in 1 process compares two moments
of a shared machine as much as two engines (on the benchmark's 2-vCPU
machine, the same 1000-article segmentation has taken 8.8 s and 11.1 s in
one process within two minutes). The measurements here pair the two sides
on the same slice of articles, back to back, slice after slice, as
`pipeline.bench.segment_ratio` pairs our segmentation with jieba's; each
pair gives one ratio and the median of the pairs is the measurement.

* `workers_vs_process`: the study's own `Pool` in this process against the
  same `Pool` on 2 workers of a running LocalCluster, states built
  beforehand on both sides. It is the engine's throughput on the
  per-article work, without the fixed costs of a stage run (the cluster's
  start, each worker's build of its segmenter), which the whole-stage rows
  of the ratios table include and which are reported apart.
* `bare_processes_ceiling`: the same work in 2 bare `multiprocessing`
  processes against 1 of them, states built beforehand, results dropped in
  the worker. No scheduler, no transfer, no result kept: what the machine
  itself gives for this work on 2 processes, against which the engine's
  ratio can be judged. On a machine with 2 vCPUs the engine's scheduler
  and this process share the cores with its 2 workers.

Wall-clock time on both sides (`time.perf_counter`): the work of 2
processes does not show in one process's CPU clock.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any, Callable, Sequence

from pipeline.bench.segment_ratio import interleaved_ratio
from pipeline.common.engine import Pool, engine, pool

__all__ = ["bare_processes_ceiling", "slices_of", "workers_vs_process"]

# The state of a bare ceiling process, built by its initializer.
_BARE_STATE: dict[str, Any] = {}


def slices_of(jobs: Sequence[Any], slices: int) -> list[list[Any]]:
    """`slices` round-robin samples of `jobs` (each a sample of the whole corpus), none empty."""
    if not jobs:
        raise ValueError("an engine ratio needs at least one job to time")
    return [list(jobs[i::slices]) for i in range(min(slices, len(jobs)))]


def workers_vs_process(work: Callable[[Any, Any], Any], jobs: Sequence[Any], build: Callable[..., Any],
                       build_args: tuple, slices: int = 20, local_directory: Any = None) -> dict[str, Any]:
    """`interleaved_ratio` of `Pool.map(work, slice)` in this process against 2 workers of a fresh
    LocalCluster.

    Parameters
    ----------
    work : Callable[[Any, Any], Any]
        The per-article work, called with a job and the built state (the segmentation of one article).
    jobs : Sequence[Any]
        The articles' jobs.
    build : Callable[..., Any]
        Builds the state the work needs (the segmenter).
    build_args : tuple
        The arguments of `build`.
    slices : int
        Number of round-robin slices of the jobs.
    local_directory : Any
        The dask workers' working folder; None for dask's default.

    Returns
    -------
    dict[str, Any]
        The record of `interleaved_ratio` (ours = 2 workers, theirs = 1 process), plus `identical` (every
        slice's results the same on both sides), `differing_slices`, `cluster_start_s`, `serial_build_s` and
        `workers_build_s` (the fixed costs the ratio leaves out) and `jobs`.

    Raises
    ------
    RuntimeError
        When a slice ran on one side only.
    """
    groups = slices_of(jobs, slices)
    serial = Pool(build, build_args)
    start = time.perf_counter()
    serial.state()
    serial_build_s = time.perf_counter() - start
    differing: list[int] = []
    with engine(workers=2, local_directory=local_directory) as own:
        start = time.perf_counter()
        own.client(2)
        cluster_start_s = time.perf_counter() - start
        with pool(build, build_args, 2) as workers:
            start = time.perf_counter()
            workers.map(work, groups[0][:2], "build")  # each worker builds its state on its first job
            workers_build_s = time.perf_counter() - start
            # Each slice's results on both sides, compared when the second side is done.
            pending: dict[int, list[Any]] = {}

            def compared(group: list[Any], results: list[Any]) -> None:
                number = next(i for i, g in enumerate(groups) if g is group)
                if number not in pending:
                    pending[number] = results
                elif pending.pop(number) != results:
                    differing.append(number)

            def on_workers(group: list[Any]) -> None:
                compared(group, workers.map(work, group, "workers"))

            def in_process(group: list[Any]) -> None:
                compared(group, serial.map(work, group, "process"))

            # ours = 2 workers, theirs = 1 process: the ratio is process / workers.
            found = interleaved_ratio(groups, on_workers, in_process, slices=len(groups), clock=time.perf_counter)
    if pending:
        raise RuntimeError(f"workers_vs_process: slices {sorted(pending)} ran on one side only")
    return {**found, "identical": not differing, "differing_slices": differing, "cluster_start_s": cluster_start_s,
            "serial_build_s": serial_build_s, "workers_build_s": workers_build_s, "jobs": len(jobs)}


def _bare_init(build: Callable[..., Any], build_args: tuple, work: Callable[[Any, Any], Any], ready: Any) -> None:
    _BARE_STATE["state"], _BARE_STATE["work"] = build(*build_args), work
    ready.wait()  # no timing starts before both processes have built their states


def _bare_run(group: list[Any]) -> float:
    """In a bare process: the work on every job of `group`, results dropped; its own wall seconds."""
    start = time.perf_counter()
    state, work = _BARE_STATE["state"], _BARE_STATE["work"]
    for job in group:
        work(job, state)
    return time.perf_counter() - start


def bare_processes_ceiling(work: Callable[[Any, Any], Any], jobs: Sequence[Any], build: Callable[..., Any],
                           build_args: tuple, slices: int = 20) -> dict[str, Any]:
    """`interleaved_ratio` of each slice in 2 bare processes (half each) against 1 of them alone.

    Parameters
    ----------
    work : Callable[[Any, Any], Any]
        The per-article work, called with a job and the built state; its results are dropped.
    jobs : Sequence[Any]
        The articles' jobs.
    build : Callable[..., Any]
        Builds the state the work needs, once in each bare process.
    build_args : tuple
        The arguments of `build`.
    slices : int
        Number of round-robin slices of the jobs.

    Returns
    -------
    dict[str, Any]
        The record of `interleaved_ratio` (ours = 2 processes, theirs = 1), plus `jobs`.
    """
    groups = slices_of(jobs, slices)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, as a dask worker is
    ready = context.Barrier(3)
    with context.Pool(2, initializer=_bare_init, initargs=(build, build_args, work, ready)) as bare:
        ready.wait()
        bare.map(_bare_run, [groups[0][:1], groups[0][:1]], chunksize=1)  # first-use tables loaded

        def two(group: list[Any]) -> None:
            bare.map(_bare_run, [group[0::2], group[1::2]], chunksize=1)

        def one(group: list[Any]) -> None:
            bare.apply(_bare_run, (group,))

        found = interleaved_ratio(groups, two, one, slices=len(groups), clock=time.perf_counter)
    return {**found, "jobs": len(jobs)}
