"""Worker processes that never outlive the run, an order-keeping map over
them, and progress bars for long work.

Cleaning and segmentation both need heavy per-process state (the character
model, jieba's dictionary) and then treat articles independently. With
`processes` above 1 the articles are handed out in chunks to that many worker
processes; results come back in job order, so the output does not depend on
which worker finishes first, and is identical to a serial run.

Every pool made here (and the topic sweep's) is started with `worker_setup`
and closed with `closing_pool`: workers ignore Ctrl-C (the parent decides),
die with their parent even when it is killed outright, and are terminated,
with pending work cancelled, as soon as the parent stops for any reason.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import Executor
from multiprocessing import context as mp_context
from typing import Any, Callable, Iterator, Sequence

from tqdm import tqdm

# The state of this worker process, built by `_init_worker`.
_WORKER_STATE: Any = None
_PROGRESS = {"enabled": True}


def set_progress(enabled: bool) -> None:
    """Progress bars on (the default: shown on a terminal only) or off (--quiet)."""
    _PROGRESS["enabled"] = enabled


def progress(items=None, description: str = "", total: int | None = None, unit: str = "doc"):
    """A progress bar with an ETA on an interactive terminal; nothing in logs, CI or under --quiet."""
    return tqdm(items, desc=description, total=total, unit=unit, leave=False, dynamic_ncols=True,
                mininterval=0.5, disable=None if _PROGRESS["enabled"] else True)


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux), else watch the parent."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent died before the request took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            threading.Event().wait(1.0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _start_ignoring_interrupts(start: Callable[[], None]) -> None:
    """Start a process with Ctrl-C blocked: the mask is inherited through fork and exec, so a worker
    still importing when Ctrl-C arrives prints no traceback (`worker_setup` then ignores it for good).
    In the parent a Ctrl-C that arrives meanwhile is held, not lost, and delivered once the worker runs."""
    if not hasattr(signal, "pthread_sigmask"):
        start()
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _SpawnProcess(mp_context.SpawnProcess):
    def start(self) -> None:
        _start_ignoring_interrupts(super().start)


class _SpawnContext(mp_context.SpawnContext):
    Process = _SpawnProcess


_CONTEXTS: dict[str, Any] = {"spawn": _SpawnContext}
if hasattr(mp_context, "ForkProcess"):  # POSIX
    class _ForkProcess(mp_context.ForkProcess):
        def start(self) -> None:
            _start_ignoring_interrupts(super().start)

    class _ForkContext(mp_context.ForkContext):
        Process = _ForkProcess

    _CONTEXTS["fork"] = _ForkContext


def worker_context(method: str | None = None):
    """The multiprocessing context for worker pools (`method`: fork, spawn, or the platform's default)."""
    method = method or multiprocessing.get_start_method()
    return _CONTEXTS[method]() if method in _CONTEXTS else multiprocessing.get_context(method)


def worker_setup(parent: int) -> None:
    """Run first in every worker: Ctrl-C is the parent's to handle, and the worker dies with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # also drops a Ctrl-C held since the start
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _die_with_parent(parent)
    logging.getLogger("jieba").setLevel(logging.WARNING)


@contextlib.contextmanager
def closing_pool(pool: Executor) -> Iterator[Executor]:
    """Use `pool`; on success wait for it, on any exception (Ctrl-C too) cancel and end its workers at once."""
    try:
        yield pool
    except BaseException:
        terminate_pool(pool)
        raise
    pool.shutdown(wait=True)


def terminate_pool(pool: Executor) -> None:
    """Cancel pending work and end every worker process of a ProcessPoolExecutor now."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=3)
            if process.is_alive():
                process.kill()
                process.join(timeout=3)


def _init_worker(parent: int, build: Callable[..., Any], build_args: tuple) -> None:
    global _WORKER_STATE
    worker_setup(parent)
    _WORKER_STATE = build(*build_args)


def _run_in_worker(work: Callable[[Any, Any], Any], job: Any) -> Any:
    return work(job, _WORKER_STATE)


def ordered_map(work: Callable[[Any, Any], Any], jobs: Sequence[Any], build: Callable[..., Any],
                build_args: tuple, processes: int, description: str) -> list[Any]:
    """[work(job, state) for job in jobs], with state = build(*build_args) once per process.

    `work` and `build` must be module-level functions (they are sent to the
    workers by name).
    """
    if processes <= 1 or len(jobs) < 2:
        state = build(*build_args)
        return [work(job, state) for job in progress(jobs, description)]
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(processes, mp_context=worker_context(), initializer=_init_worker,
                               initargs=(os.getpid(), build, build_args))
    with closing_pool(pool):
        # Chunks amortise the hand-over; eight per process keep the load even.
        chunk = max(1, len(jobs) // (processes * 8))
        results = pool.map(functools.partial(_run_in_worker, work), jobs, chunksize=chunk)
        return list(progress(results, description, total=len(jobs)))
