"""The run's dask cluster: a LocalCluster started on the first parallel work and closed with the run,
or an existing cluster given by its scheduler's address (see pipeline/common/engine.py)."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import psutil

from pipeline.common.params import StudyParams

__all__ = ["CONNECT_TIMEOUT", "Engine", "LOCAL_CLUSTER_CONFIG", "engine", "engine_for", "study_engine",
           "study_workers"]

log = logging.getLogger("pipeline")

# Seconds to wait for a scheduler given by address before giving up.
CONNECT_TIMEOUT = 20
# The run's engine, set by `engine()` for the length of a run.
_CURRENT: dict[str, Any] = {"engine": None}


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
        # dask and distributed (~1 s) are loaded only when a cluster is used
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
        # dask and distributed (~1 s) are loaded only when a cluster is used
        import dask
        from distributed import Client, LocalCluster

        _quiet_dask_logs()
        if self.local_directory is not None:
            self.local_directory.mkdir(parents=True, exist_ok=True)
        with _interrupts_deferred(), dask.config.set(LOCAL_CLUSTER_CONFIG):
            self.cluster = LocalCluster(
                n_workers=0, threads_per_worker=1, processes=True,
                # No dashboard (bokeh is not installed); its HTTP server on a free port.
                dashboard_address=":0",
                local_directory=str(self.local_directory) if self.local_directory else None,
                # A task's error comes back to the run as its exception; what
                # workers log besides (a lost scheduler when the run ends) is noise.
                silence_logs=logging.CRITICAL,
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
        loggers = [logging.getLogger(name) for name in ("distributed", "asyncio")]
        levels = [logger.level for logger in loggers]
        if interrupted:
            # Work cut off halfway (a scatter, a task) makes the scheduler and
            # its event loop log errors; after an interrupt those are noise.
            for logger in loggers:
                logger.setLevel(logging.CRITICAL)
        client, cluster, self._client, self.cluster = self._client, self.cluster, None, None
        try:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close(timeout=10)
            if cluster is not None:
                cluster.close(timeout=10)
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)


# Settings of the LocalCluster the engine starts (its workers get them too).
# On a machine with as many cores as workers, every periodic wake-up of the
# scheduler, the nannies (both in this process) and a worker's event loop
# takes a core, or the worker's GIL, from the work; these wake up less often
# than dask's defaults. Nothing in the study reads what they would measure.
LOCAL_CLUSTER_CONFIG = {
    # Each worker samples its own stacks every 10 ms for the dashboard's profile.
    "distributed.worker.profile.enabled": False,
    # How often each server checks its event loop for blocking (only for a warning).
    "distributed.admin.tick.interval": "1s",
    # CPU, memory and network samples for the dashboard (each server, every 500 ms by default).
    "distributed.admin.system-monitor.interval": "5s",
}


def _quiet_dask_logs() -> None:
    # The scheduler and the nannies log at INFO in this process; keep warnings only.
    logging.getLogger("distributed").setLevel(logging.WARNING)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, then act on them as usual.

    A cluster cut off halfway through its start (before this process holds
    it, so before it can be closed) could leave its scheduler's threads
    behind; a start takes seconds, so the interrupt waits for it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum)) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for signum in dict.fromkeys(received):
        handler = previous[signum]
        if callable(handler):
            handler(signum, None)
        elif handler == signal.SIG_DFL:
            signal.raise_signal(signum)


@contextlib.contextmanager
def _workers_ignore_interrupts(count: int, seconds: float = 60.0) -> Iterator[None]:
    """Start `count` worker processes that ignore Ctrl-C: the run decides what an interrupt ends.

    An ignored signal stays ignored through fork and exec, and Python keeps
    it ignored, so SIGINT is ignored from the start of the block until
    `count` new worker processes run (30-50 ms). Meanwhile this thread
    blocks it, so a Ctrl-C sent to the run is held for it; only one that the
    kernel hands to another thread in that moment is lost.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return

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
    """The engine of one run: every pool opened meanwhile shares it; closed at the end, on error or Ctrl-C too.

    Parameters
    ----------
    scheduler : str or None
        Address of an existing dask scheduler to send the work to; None starts a local cluster when one is needed.
    workers : int
        Worker processes of the local cluster (at least 1).
    local_directory : Path or None
        Scratch folder of the local cluster's workers; None leaves it to dask.

    Yields
    ------
    Engine
        The run's engine, current until the block ends.
    """
    previous = _CURRENT["engine"]
    current = Engine(scheduler, workers, local_directory)
    _CURRENT["engine"] = current
    try:
        yield current
    except BaseException:
        # The run's own error or interrupt is what its user must see: a cluster
        # slow to close on a loaded machine (a worker busy in a figure or a fit
        # when the interrupt came) must not replace it. Its worker processes
        # end with this process in any case.
        try:
            current.close(interrupted=True)
        except Exception as exc:  # noqa: BLE001 (whatever the close raised, the first error stands)
            log.warning("engine: the dask cluster did not close cleanly (%s: %s)", type(exc).__name__, exc)
        raise
    else:
        current.close()
    finally:
        _CURRENT["engine"] = previous


def study_engine(params: StudyParams, build: Path):
    """The engine of a study run: `dask.scheduler` if set, else a local cluster sized by the largest
    `processes` of the stages, its workers' scratch folders under `build/dask/`.

    Parameters
    ----------
    params : StudyParams
        The study's parameters (params.yaml): `dask.scheduler` and each stage's `processes`.
    build : Path
        The build folder of the run; the workers' scratch folders go under its `dask/`.

    Returns
    -------
    contextlib.AbstractContextManager[Engine]
        The `engine` context of the run, not yet entered.
    """
    return engine(params.dask.scheduler, study_workers(params), Path(build) / "dask")


def study_workers(params: StudyParams) -> int:
    """The most worker processes a stage of the study asks for (1: every stage runs in the run's process).

    Parameters
    ----------
    params : StudyParams
        The study's parameters: each stage's `processes`.

    Returns
    -------
    int
        The largest of `clean.processes`, `segment.processes` and `themes.processes`.
    """
    return max(params.clean.processes, params.segment.processes, params.themes.processes)


@contextlib.contextmanager
def engine_for(processes: int) -> Iterator[Engine]:
    """The run's engine, or, outside a run (benchmark, tests), one for this pool only.

    Parameters
    ----------
    processes : int
        Worker processes of the pool; sizes the engine started when no run's engine is current.

    Yields
    ------
    Engine
        The run's engine, or one started for this pool and closed when the block ends.
    """
    if _CURRENT["engine"] is not None:
        yield _CURRENT["engine"]
        return
    with engine(workers=processes) as own:
        yield own
