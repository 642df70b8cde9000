"""What a run holds and checks around its work: one run per project at a
time, no leftovers of a run that died, and a results folder that belongs to
its user (nothing deleted that a run did not write, read-only respected)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import stat
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from pipeline.common.errors import InputError, RunBusy
from pipeline.common.io import sha256_file, sha256_text

__all__ = ["LOCK_FILE", "MANIFEST", "SELF_DIGEST", "check_results_folder", "clear_leftovers", "foreign_files",
           "manifest_digest", "outputs_intact", "project_lock", "read_manifest", "scratch_root", "seal"]

log = logging.getLogger("pipeline")

LOCK_FILE = "run.lock"
MANIFEST = "manifest.json"
# The manifest's digest of itself: an edited manifest no longer matches it.
SELF_DIGEST = "manifest_sha256"


def _write_pid(fd: int) -> None:
    """Record the holder's pid in the lock file, for the message of a second run."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)


def _holder(path: Path) -> str:
    try:
        return path.read_bytes()[:32].decode("ascii", "replace").strip() or "?"
    except OSError:
        return "?"


@contextlib.contextmanager
def project_lock(build: Path, wait: bool = False) -> Iterator[Path]:
    """Hold build/run.lock for the whole run; a second run waits (`wait`) or stops with a message.

    The lock is filelock's flock on an open file, so it is released by the
    kernel when the holder exits, however it exits (even on SIGKILL), and a
    process forked from the holder does not keep it. The file stays in place
    and holds the holder's pid.

    Parameters
    ----------
    build : Path
        The project's build folder, created if missing.
    wait : bool, optional
        Whether to wait for a run holding the lock to finish instead of stopping with RunBusy.

    Yields
    ------
    Path
        The lock file, held until the block ends.
    """
    build.mkdir(parents=True, exist_ok=True)
    path = build / LOCK_FILE
    lock = FileLock(path, mode=0o644, poll_interval=0.2, preserve_lock_file=True, on_acquired=_write_pid)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        holder = _holder(path)
        if not wait:
            raise RunBusy(path, f"another run of the study is going in this project (pid {holder}); "
                                "wait for it to finish, or pass --wait to start when it has") from None
        log.warning("another run (pid %s) holds %s; waiting for it to finish", holder, path)
        lock.acquire()
    try:
        yield path
    finally:
        lock.release()


def scratch_root(build: Path) -> Path:
    """build/tmp: every temporary folder of a run lives here, so the next run can clear what a dead one left.

    Parameters
    ----------
    build : Path
        The project's build folder.

    Returns
    -------
    Path
        `build/tmp`.
    """
    return build / "tmp"


def clear_leftovers(targets: list[Path], scratch: Path | None = None) -> list[Path]:
    """Delete the staging copies beside `targets`, and the `scratch` folder, that a dead run left.

    Called while holding the project lock, so none of them belongs to a live
    run.

    Parameters
    ----------
    targets : list[Path]
        The folders a run replaces (results, notebooks); their `.staging-*` and `.previous-*` siblings go.
    scratch : Path or None, optional
        The run's scratch folder (`scratch_root`), emptied and removed.

    Returns
    -------
    list[Path]
        What was removed.
    """
    removed = []
    if scratch is not None and scratch.exists():
        removed += sorted(scratch.iterdir())
        shutil.rmtree(scratch, ignore_errors=True)
    for target in targets:
        if target.parent.exists():
            for pattern in (f"{target.name}.staging-*", f"{target.name}.previous-*"):
                for leftover in sorted(target.parent.glob(pattern)):
                    shutil.rmtree(leftover, ignore_errors=True)
                    removed.append(leftover)
    for path in removed:
        log.info("removed %s, left by a run that did not finish", path)
    return removed


def manifest_digest(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != SELF_DIGEST}
    return sha256_text(json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True))


def seal(manifest: dict) -> dict:
    """The manifest with its own digest added.

    Parameters
    ----------
    manifest : dict
        A run manifest.

    Returns
    -------
    dict
        A copy with the digest of itself under `manifest_sha256`.
    """
    return {**manifest, SELF_DIGEST: manifest_digest(manifest)}


def read_manifest(target: Path) -> dict | None:
    """target/manifest.json when it is intact (its digest of itself matches), else None.

    Parameters
    ----------
    target : Path
        A results folder.

    Returns
    -------
    dict or None
        The manifest, or None when it is missing, unreadable or edited.
    """
    path = target / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get(SELF_DIGEST) != manifest_digest(manifest):
        return None
    return manifest


def outputs_intact(target: Path, manifest: dict, keep: tuple[str, ...]) -> bool:
    """Every output the manifest lists is there with its digest, and there is nothing else.

    Parameters
    ----------
    target : Path
        The results folder.
    manifest : dict
        Its run manifest, as `read_manifest` gives it.
    keep : tuple[str, ...]
        Top-level folders of `target` that a run carries over, not checked.

    Returns
    -------
    bool
        Whether the folder holds exactly the listed outputs, each with its recorded digest.
    """
    outputs = manifest.get("outputs")
    if not isinstance(outputs, dict):
        return False
    present = {p.relative_to(target).as_posix() for p in target.rglob("*")
               if p.is_file() and p.relative_to(target).parts[0] not in keep} - {MANIFEST}
    if present != set(outputs):
        return False
    return all(sha256_file(target / name) == digest for name, digest in outputs.items())


def foreign_files(target: Path, keep: tuple[str, ...]) -> list[str]:
    """Files under `target` that no run of the study wrote (not listed in its manifest, outside `keep`)."""
    if not target.is_dir():
        return []
    try:
        listed = set(json.loads((target / MANIFEST).read_text(encoding="utf-8")).get("outputs", {}))
    except (OSError, ValueError, AttributeError):
        listed = set()
    return sorted(name for p in target.rglob("*")
                  if (p.is_file() or p.is_symlink()) and p.relative_to(target).parts[0] not in keep
                  and (name := p.relative_to(target).as_posix()) not in listed and name != MANIFEST)


def _writable(folder: Path) -> bool:
    """Writable by this process, and not marked read-only by its owner (root may write anywhere)."""
    return os.access(folder, os.W_OK | os.X_OK) and bool(folder.stat().st_mode & stat.S_IWUSR)


def check_results_folder(target: Path, keep: tuple[str, ...]) -> None:
    """Refuse, before any work, a results folder the run could not or should not replace.

    Parameters
    ----------
    target : Path
        The results folder the run is to write; InputError when it is not a folder, cannot be written, or
        holds files no run of the study wrote.
    keep : tuple[str, ...]
        Top-level folders of `target` that a run carries over without writing them.
    """
    if target.exists() and not target.is_dir():
        raise InputError(target, "is not a folder; pass --results with a folder (it is created if missing)")
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not _writable(parent):
        raise InputError(target, f"cannot be written: {parent} is read-only; pass --results with a writable folder")
    if target.exists() and not _writable(target):
        raise InputError(target, "is read-only, so the run will not replace it; make it writable "
                                 "(chmod u+w) or pass --results with another folder")
    foreign = foreign_files(target, keep)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise InputError(target, f"holds file(s) that no run of the study wrote: {shown}. A run replaces the whole "
                                 "folder, so move them elsewhere first (nothing was changed)")
