"""The engine of the study's parallel work: in this process, or on a dask.distributed cluster.

Cleaning, segmentation and the topic fits each treat their jobs
independently, after building heavy state once (the character model,
jieba's dictionary with the lexicon, the sweep's corpora). `Pool` runs such
work over a list of jobs and gives the results in job order, so the tables do
not depend on which worker finished first and are identical to a serial run.

Where the work runs:

* `processes` 1 (a stage's key in params.yaml): in this process, with the
  state built here once. This holds with a scheduler too: 1 means here.
* `processes` above 1: on the run's dask cluster. Without a scheduler the
  engine starts a `LocalCluster` of single-threaded worker processes on the
  first parallel work of the run, shares it between the stages and closes it
  when the run ends, on error and Ctrl-C too. With a scheduler
  (`dask.scheduler` in params.yaml, or `--scheduler`) the work goes to that
  cluster's workers, which the engine neither starts nor stops.

The state is built lazily in each worker, once, on the first job that needs
it: the recipe (`build` and its arguments, the sweep's corpora among them) is
scattered to every worker once, and each worker keeps what it built under the
recipe's content token until the pool ends. jieba's user words therefore
enter the worker's own tokenizer (a pool that forked after building would
lose them silently; jieba issues #533, #537).

The token is a SHA-256 of the pickled recipe, not `dask.base.tokenize`: on the
study's recipes dask's token took 6.5 ms against 0.14 ms (cleaning), 7.9 against
1.9 ms (segmentation) and 1.6 s against 0.48 s (a sweep corpus 20 times the
study's), as it pickles and unpickles each object up to three times.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import pickle
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from threadpoolctl import threadpool_limits

from pipeline.common.cluster import Engine, engine, engine_for, study_engine
from pipeline.common.parallel import progress

__all__ = ["Engine", "Pool", "engine", "ordered_map", "pool", "same", "study_engine", "time_map", "worker_state",
           "MAX_JOBS_PER_TASK", "Recipe", "content_token", "Batch", "gc_paused"]

# The most jobs one task of `Pool.map` carries (about a second of cleaning or
# segmentation for news-length articles).
MAX_JOBS_PER_TASK = 64

# In a worker process: the state built from each recipe, by its token.
_WORKER_STATE: dict[str, Any] = {}
_WORKER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Recipe:
    """How a worker builds its state: `build(*args)`, remembered under `token`."""
    token: str
    build: Callable[..., Any]
    args: tuple


def content_token(*values: Any) -> str:
    """A digest of the pickled values: the same recipe gets the same token, a changed one another."""
    try:
        data = pickle.dumps(values, protocol=5)
    except (pickle.PicklingError, TypeError, AttributeError):
        # cloudpickle only for the values that plain pickle refuses
        import cloudpickle

        data = cloudpickle.dumps(values, protocol=5)
    return hashlib.sha256(data).hexdigest()


def worker_state(recipe: Recipe) -> Any:
    """The state of `recipe` in this process, built on first use."""
    with _WORKER_LOCK:
        if recipe.token not in _WORKER_STATE:
            logging.getLogger("jieba").setLevel(logging.WARNING)
            _WORKER_STATE[recipe.token] = recipe.build(*recipe.args)
        return _WORKER_STATE[recipe.token]


def _forget(token: str) -> None:
    with _WORKER_LOCK:
        _WORKER_STATE.pop(token, None)


class Batch:
    """A list handed to or from dask as one object: the jobs of one task, or its results.

    dask looks into the lists, tuples and dicts it is given or returns, item
    by item and level by level, for futures to resolve and for data it can
    serialise on its own; for thousands of segmented units that walk costs a
    worker more than the pickling itself (on the benchmark's 1000x corpus,
    about a tenth of a worker's time on segmentation). It does not look into
    this object, which is pickled whole.
    """
    __slots__ = ("items",)

    def __init__(self, items: list[Any]):
        self.items = items

    def __getstate__(self) -> list[Any]:
        return self.items

    def __setstate__(self, items: list[Any]) -> None:
        self.items = items


def _run_jobs(work: Callable[[Any, Any], Any], recipe: Recipe, batch: Batch, pause_gc: bool = False) -> Batch:
    """In a worker: [work(job, state) for job in the batch], on one BLAS thread whatever the worker's machine."""
    state = worker_state(recipe)
    with threadpool_limits(limits=1), gc_paused(pause_gc):
        return Batch([work(job, state) for job in batch.items])


@contextlib.contextmanager
def gc_paused(active: bool = True) -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (when `active`), on again after.

    Segmenting an article builds thousands of lists and tuples, and so does
    receiving its results from a worker; each few hundred of them wake the
    collector, which finds no cycles among them (about 8% of a worker's CPU
    time on segmentation at the benchmark's 1000x). Per-article work runs
    with it paused, in workers and in this process alike; any cycles made
    meanwhile are collected once it is on again.
    """
    if not active or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Pool:
    """Work over jobs with a state built by `build(*build_args)`: here, or on the run's cluster."""

    def __init__(self, build: Callable[..., Any], build_args: tuple, engine_: Engine | None = None,
                 processes: int = 1):
        self.build, self.build_args = build, build_args
        self.engine, self.processes = engine_, processes
        self._state: Any = None
        self._built = False
        self._recipe: Any = None  # the scattered recipe (a dask future)
        self._token = ""
        self._workers: list[str] | None = None

    @property
    def parallel(self) -> bool:
        return self.engine is not None

    def state(self) -> Any:
        """The state in this process (serial runs), built on first use."""
        if not self._built:
            self._state, self._built = self.build(*self.build_args), True
        return self._state

    def _client(self):
        client = self.engine.client(self.processes)
        if self._recipe is None:
            self._token = content_token(self.build, self.build_args)
            # Once to every worker; tasks refer to it by its future.
            self._recipe = client.scatter(Recipe(self._token, self.build, self.build_args), broadcast=True,
                                          hash=False)
            self._workers = self.engine.worker_addresses(self.processes)
        return client

    def submit(self, work: Callable[[Any, Any], Any], jobs: Sequence[Any], description: str,
               cost: Callable[[Any], float] | None = None, chunk: int = 1,
               unit: str = "task", pause_gc: bool = False) -> Callable[[], list[Any]]:
        """Start work(job, state) for every job; the returned function waits and gives the results in job order.

        Serial work is deferred to that call, so that what this process does
        in between overlaps with the work only when there is a cluster. With
        `cost`, the jobs are dealt costliest first (tasks of the costliest
        jobs start first, and the cheapest end the work), so that no worker
        is left with long jobs at the end; `chunk` jobs go in one task. With
        `pause_gc`, each task's jobs (each job, in this process) and the
        receipt of the results run with the garbage collector paused
        (`gc_paused`): for many small jobs whose results hold no cycles.
        """
        jobs = list(jobs)
        if not self.parallel:
            def run(job: Any) -> Any:
                with gc_paused(pause_gc):
                    return work(job, self.state())
            return lambda: [run(job) for job in progress(jobs, description, unit=unit)]
        client = self._client()
        order = list(range(len(jobs)))
        if cost is not None:
            order.sort(key=lambda i: (-cost(jobs[i]), i))
        step = max(1, chunk)
        chunks = [order[i:i + step] for i in range(0, len(order), step)]
        batch = uuid.uuid4().hex[:8]
        futures = [client.submit(_run_jobs, work, self._recipe, Batch([jobs[i] for i in members]), pause_gc,
                                 key=f"{description}-{batch}-{rank}", priority=len(chunks) - rank,
                                 workers=self._workers, pure=False)
                   for rank, members in enumerate(chunks)]

        def wait() -> list[Any]:
            # distributed (~1 s) is loaded only when a cluster is used
            from distributed import as_completed

            index = {future.key: rank for rank, future in enumerate(futures)}
            results: list[Any] = [None] * len(jobs)
            try:
                with progress(total=len(jobs), description=description, unit=unit) as bar, gc_paused(pause_gc):
                    for future in as_completed(futures, loop=client.loop):
                        part = future.result().items  # a failed task stops the wait at once
                        for position, result in zip(chunks[index[future.key]], part):
                            results[position] = result
                        bar.update(len(part))
                return results
            except BaseException:
                client.cancel(futures)
                raise
            finally:
                futures.clear()

        return wait

    def map(self, work: Callable[[Any, Any], Any], jobs: Sequence[Any], description: str,
            unit: str = "doc", cost: Callable[[Any], float] | None = None) -> list[Any]:
        """[work(job, state) for job in jobs], in job order, with the garbage collector paused for them;
        `cost` as in `submit`."""
        # At least eight tasks per worker keep the load even and amortise the
        # hand-over; at most MAX_JOBS_PER_TASK jobs each, so that the last
        # task of a large corpus leaves the other worker idle only briefly.
        chunk = max(1, min(len(jobs) // (max(self.processes, 1) * 8), MAX_JOBS_PER_TASK))
        return self.submit(work, jobs, description, cost=cost, chunk=chunk, unit=unit, pause_gc=True)()

    def close(self) -> None:
        """Drop the state in the workers and the scattered recipe."""
        if self._recipe is not None and self.engine is not None and self.engine._client is not None:
            with contextlib.suppress(Exception):
                self.engine._client.run(_forget, self._token)
                self._recipe.release()
        self._recipe = None


@contextlib.contextmanager
def pool(build: Callable[..., Any], build_args: tuple, processes: int) -> Iterator[Pool]:
    """A pool whose state is `build(*build_args)`: in this process when `processes` <= 1, else on the run's cluster.

    `build` and the work given to the pool must be module-level functions
    (workers import them by name).

    Parameters
    ----------
    build : Callable[..., Any]
        Module-level function that builds the state the work needs (a cleaner, a tokenizer, a sweep's corpora).
    build_args : tuple
        Arguments of `build`.
    processes : int
        Worker processes of the stage (its `processes` in params.yaml); 1 or less means this process.

    Yields
    ------
    Pool
        The pool, closed (its state dropped from the workers) when the block ends.
    """
    if processes <= 1:
        yield Pool(build, build_args)
        return
    with engine_for(processes) as current:
        opened = Pool(build, build_args, current, processes)
        try:
            yield opened
        except BaseException:
            opened._recipe = None  # the run's engine is closing; no word to the workers
            raise
        opened.close()


def ordered_map(work: Callable[[Any, Any], Any], jobs: Sequence[Any], build: Callable[..., Any],
                build_args: tuple, processes: int, description: str,
                cost: Callable[[Any], float] | None = None) -> list[Any]:
    """[work(job, state) for job in jobs], with state = build(*build_args) once per process; on workers,
    the costliest jobs (by `cost`) first.

    Parameters
    ----------
    work : Callable[[Any, Any], Any]
        Module-level function applied as `work(job, state)` to each job.
    jobs : Sequence[Any]
        The jobs of the stage (articles, segmentation jobs, fits); fewer than two run in this process.
    build : Callable[..., Any]
        Module-level function that builds the state `work` needs.
    build_args : tuple
        Arguments of `build`.
    processes : int
        Worker processes of the stage; 1 means this process.
    description : str
        Label of the work on its progress bar and in its task names.
    cost : Callable[[Any], float] or None
        Estimated cost of a job, so that the costliest start first on workers; None keeps job order.

    Returns
    -------
    list[Any]
        The result of `work` for each job, in job order.
    """
    if len(jobs) < 2:
        processes = 1
    with pool(build, build_args, processes) as workers:
        return workers.map(work, jobs, description, cost=cost)


def same(value: Any) -> Any:
    """A recipe's build for a state that is its own argument (data shipped as it is).

    Parameters
    ----------
    value : Any
        The data a worker's jobs need as it is (a recipe's only argument).

    Returns
    -------
    Any
        `value` itself.
    """
    return value


def time_map(work: Callable[[Any, Any], Any], jobs: Sequence[Any], build: Callable[..., Any], build_args: tuple,
             processes: int = 2, local_directory: Path | None = None) -> dict[str, Any]:
    """The same `ordered_map` in this process and on a fresh LocalCluster of `processes` workers (for the
    benchmark): wall seconds of each (the cluster's with its start, which is also given apart) and
    whether the results are identical.

    Parameters
    ----------
    work : Callable[[Any, Any], Any]
        Module-level function applied as `work(job, state)` to each job.
    jobs : Sequence[Any]
        The benchmark's jobs.
    build : Callable[..., Any]
        Module-level function that builds the state `work` needs.
    build_args : tuple
        Arguments of `build`.
    processes : int
        Worker processes of the fresh LocalCluster.
    local_directory : Path or None
        Scratch folder of the cluster's workers; None leaves it to dask.

    Returns
    -------
    dict[str, Any]
        `serial_s`, `cluster_s` and `cluster_start_s` (wall seconds), `processes`, and `identical` (whether
        both runs gave the same results).
    """
    start = time.perf_counter()
    serial = ordered_map(work, jobs, build, build_args, 1, "serial")
    serial_s = time.perf_counter() - start
    with engine(workers=processes, local_directory=local_directory) as own:
        start = time.perf_counter()
        own.client(processes)
        started_s = time.perf_counter() - start
        parallel = ordered_map(work, jobs, build, build_args, processes, "cluster")
        cluster_s = time.perf_counter() - start
    return {"serial_s": serial_s, "cluster_s": cluster_s, "cluster_start_s": started_s, "processes": processes,
            "identical": parallel == serial}
