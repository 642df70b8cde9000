"""An order-keeping map over worker processes, each with its own state built once.

Cleaning and segmentation both need heavy per-process state (the character
model, jieba's dictionary) and then treat articles independently. With
`processes` above 1 the articles are handed out in chunks to that many worker
processes; results come back in job order, so the output does not depend on
which worker finishes first, and is identical to a serial run.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, Sequence

from tqdm import tqdm

# The state of this worker process, built by `_init_worker`.
_WORKER_STATE: Any = None


def progress(items, description: str):
    """A progress bar on an interactive terminal, nothing otherwise."""
    return tqdm(items, desc=description, unit="doc", leave=False, disable=None)


def _init_worker(build: Callable[..., Any], build_args: tuple) -> None:
    global _WORKER_STATE
    logging.getLogger("jieba").setLevel(logging.WARNING)
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

    with ProcessPoolExecutor(processes, initializer=_init_worker, initargs=(build, build_args)) as pool:
        # Chunks amortise the hand-over; eight per process keep the load even.
        chunk = max(1, len(jobs) // (processes * 8))
        return list(progress(pool.map(functools.partial(_run_in_worker, work), jobs, chunksize=chunk), description))
