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
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from pipeline.common.parallel import progress

log = logging.getLogger("pipeline")

# Seconds to wait for a scheduler given by address before giving up.
CONNECT_TIMEOUT = 20
# The run's engine, set by `engine()` for the length of a run.
_CURRENT: dict[str, Any] = {"engine": None}
# In a worker process: the state built from each recipe, by its token.
_WORKER_STATE: dict[str, Any] = {}
_WORKER_LOCK = threading.Lock()


class Engine:
    """The run's cluster: none until parallel work asks for one, then one for the whole run."""

    def __init__(self, scheduler: str | None = None, workers: int = 2, local_directory: Path | None = None):
        self.scheduler = scheduler or None
        self.workers = max(1, int(workers))
        self.local_directory = Path(local_directory) if local_directory else None
        self.cluster: Any = None
        self._client: Any = None

    def client(self, processes: int):
        """The dask client, connecting or starting the cluster on first use."""
        if self._client is None:
            self._client = self._connect() if self.scheduler else self._start_local(max(self.workers, processes))
        return self._client

    def _connect(self):
        from distributed import Client

        _quiet_dask_logs()
        try:
            return Client(self.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"dask scheduler {self.scheduler}: no answer within {CONNECT_TIMEOUT} s ({exc}); start it with "
                "`dask scheduler` (and workers with `dask worker ADDRESS`), or leave out --scheduler / "
                "dask.scheduler to run on this machine") from None

    def _start_local(self, workers: int):
        import dask
        from distributed import Client, LocalCluster

        _quiet_dask_logs()
        if self.local_directory is not None:
            self.local_directory.mkdir(parents=True, exist_ok=True)
        # Workers sample their own stacks every 10 ms for the dashboard's
        # profile; nobody reads it here, and it costs CPU the fits need.
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            self.cluster = LocalCluster(
                n_workers=0, threads_per_worker=1, processes=True,
                # No dashboard (bokeh is not installed); its HTTP server on a free port.
                dashboard_address=":0",
                local_directory=str(self.local_directory) if self.local_directory else None,
                silence_logs=logging.WARNING,
                # As the process pools before it: no memory limit, so no worker
                # is paused or restarted halfway through a fit.
                memory_limit=0,
            )
            with _workers_ignore_interrupts(workers):
                self.cluster.scale(workers)
        client = Client(self.cluster, set_as_default=False)
        client.wait_for_workers(workers, timeout=120)
        log.info("engine: local dask cluster of %d worker processes started", workers)
        return client

    def worker_addresses(self, processes: int) -> list[str] | None:
        """The workers a stage of `processes` may use on a local cluster (None: any)."""
        if self.cluster is None:
            return None
        addresses = sorted(self._client.scheduler_info(n_workers=-1)["workers"])
        return addresses[:processes] if processes < len(addresses) else None

    def close(self, interrupted: bool = False) -> None:
        """Disconnect, and end the local cluster with its worker processes (a given scheduler's stay)."""
        if interrupted:
            # Workers ended mid-task make the scheduler log errors; after an
            # interrupt those are noise.
            logging.getLogger("distributed").setLevel(logging.CRITICAL)
        client, cluster, self._client, self.cluster = self._client, self.cluster, None, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=10)
        if cluster is not None:
            cluster.close(timeout=10)


def _quiet_dask_logs() -> None:
    # The scheduler and the nannies log at INFO in this process; keep warnings only.
    for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.core"):
        logging.getLogger(name).setLevel(logging.WARNING)


@contextlib.contextmanager
def _workers_ignore_interrupts(count: int, seconds: float = 60.0) -> Iterator[None]:
    """Start `count` worker processes that ignore Ctrl-C: the run decides what an interrupt ends.

    An ignored signal stays ignored through fork and exec, and Python keeps
    it ignored, so SIGINT is ignored from the start of the block until
    `count` new worker processes run (a fraction of a second). Meanwhile
    this thread blocks it, so a Ctrl-C sent to the run is held for it;
    only one that the kernel hands to another thread in that moment is lost.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    import time

    import psutil

    def workers_started() -> set[int]:
        found = set()
        for child in psutil.Process().children():
            with contextlib.suppress(psutil.Error):
                if any("spawn_main" in part for part in child.cmdline()):  # not the resource tracker
                    found.add(child.pid)
        return found

    before = workers_started()
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
        # Dispositions are copied when a process forks; a started worker keeps SIG_IGN.
        end = time.monotonic() + seconds
        while len(workers_started() - before) < count and time.monotonic() < end:
            time.sleep(0.01)
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


@contextlib.contextmanager
def engine(scheduler: str | None = None, workers: int = 2, local_directory: Path | None = None) -> Iterator[Engine]:
    """The engine of one run: every pool opened meanwhile shares it; closed at the end, on error or Ctrl-C too."""
    previous = _CURRENT["engine"]
    current = Engine(scheduler, workers, local_directory)
    _CURRENT["engine"] = current
    try:
        yield current
    except BaseException:
        current.close(interrupted=True)
        raise
    else:
        current.close()
    finally:
        _CURRENT["engine"] = previous


def study_engine(params: dict, build: Path):
    """The engine of a study run: `dask.scheduler` if set, else a local cluster sized by the largest
    `processes` of the stages, its workers' scratch folders under `build/dask/`."""
    scheduler = (params.get("dask") or {}).get("scheduler")
    workers = max(int((params.get(s) or {}).get("processes", 1)) for s in ("clean", "segment", "themes"))
    return engine(scheduler, workers, Path(build) / "dask")


@contextlib.contextmanager
def _engine_for(processes: int) -> Iterator[Engine]:
    """The run's engine, or, outside a run (benchmark, tests), one for this pool only."""
    if _CURRENT["engine"] is not None:
        yield _CURRENT["engine"]
        return
    with engine(workers=processes) as own:
        yield own


@dataclass(frozen=True)
class Recipe:
    """How a worker builds its state: `build(*args)`, remembered under `token`."""
    token: str
    build: Callable[..., Any]
    args: tuple


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


def _run_jobs(work: Callable[[Any, Any], Any], recipe: Recipe, jobs: Sequence[Any]) -> list[Any]:
    """In a worker: [work(job, state) for job in jobs], on one BLAS thread whatever the worker's machine."""
    from threadpoolctl import threadpool_limits

    state = worker_state(recipe)
    with threadpool_limits(limits=1):
        return [work(job, state) for job in jobs]


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
            from dask.base import tokenize

            self._token = tokenize(self.build, self.build_args)
            # Once to every worker; tasks refer to it by its future.
            self._recipe = client.scatter(Recipe(self._token, self.build, self.build_args), broadcast=True,
                                          hash=False)
            self._workers = self.engine.worker_addresses(self.processes)
        return client

    def submit(self, work: Callable[[Any, Any], Any], jobs: Sequence[Any], description: str,
               cost: Callable[[Any], float] | None = None, chunk: int = 1,
               unit: str = "task") -> Callable[[], list[Any]]:
        """Start work(job, state) for every job; the returned function waits and gives the results in job order.

        Serial work is deferred to that call, so that what this process does
        in between overlaps with the work only when there is a cluster. With
        `cost`, the costliest jobs start first, so that no worker is left
        with one long job at the end; `chunk` jobs go in one task.
        """
        jobs = list(jobs)
        if not self.parallel:
            return lambda: [work(job, self.state()) for job in progress(jobs, description, unit=unit)]
        client = self._client()
        chunks = [jobs[i:i + chunk] for i in range(0, len(jobs), max(1, chunk))]
        order = list(range(len(chunks)))
        if cost is not None:
            order.sort(key=lambda i: (-max(cost(job) for job in chunks[i]), i))
        batch = uuid.uuid4().hex[:8]
        futures: list[Any] = [None] * len(chunks)
        for rank, i in enumerate(order):
            futures[i] = client.submit(_run_jobs, work, self._recipe, chunks[i], key=f"{description}-{batch}-{i}",
                                       priority=len(order) - rank, workers=self._workers, pure=False)

        def wait() -> list[Any]:
            from distributed import as_completed

            try:
                with progress(total=len(jobs), description=description, unit=unit) as bar:
                    for future in as_completed(futures, loop=client.loop):
                        bar.update(len(future.result()))  # a failed task stops the wait at once
                return [result for part in client.gather(futures) for result in part]
            except BaseException:
                client.cancel(futures)
                raise
            finally:
                futures.clear()

        return wait

    def map(self, work: Callable[[Any, Any], Any], jobs: Sequence[Any], description: str,
            unit: str = "doc") -> list[Any]:
        """[work(job, state) for job in jobs], in job order."""
        # Eight tasks per worker keep the load even and amortise the hand-over.
        chunk = max(1, len(jobs) // (max(self.processes, 1) * 8))
        return self.submit(work, jobs, description, chunk=chunk, unit=unit)()

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
    """
    if processes <= 1:
        yield Pool(build, build_args)
        return
    with _engine_for(processes) as current:
        opened = Pool(build, build_args, current, processes)
        try:
            yield opened
        except BaseException:
            opened._recipe = None  # the run's engine is closing; no word to the workers
            raise
        opened.close()


def ordered_map(work: Callable[[Any, Any], Any], jobs: Sequence[Any], build: Callable[..., Any],
                build_args: tuple, processes: int, description: str) -> list[Any]:
    """[work(job, state) for job in jobs], with state = build(*build_args) once per process."""
    if len(jobs) < 2:
        processes = 1
    with pool(build, build_args, processes) as workers:
        return workers.map(work, jobs, description)


def same(value: Any) -> Any:
    """A recipe's build for a state that is its own argument (data shipped as it is)."""
    return value


def time_map(work: Callable[[Any, Any], Any], jobs: Sequence[Any], build: Callable[..., Any], build_args: tuple,
             processes: int = 2, local_directory: Path | None = None) -> dict[str, Any]:
    """The same `ordered_map` in this process and on a fresh LocalCluster of `processes` workers (for the
    benchmark): wall seconds of each (the cluster's with its start, which is also given apart) and
    whether the results are identical."""
    import time

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
