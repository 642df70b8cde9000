"""Startup artifacts: data structures built from inputs that do not change between runs, kept under build/artifacts/.

Cleaning and segmentation each start by building the same structures from
the same files (the character model from jieba's dictionary; jieba's prefix
dictionary and tag table), in every run and in every worker process. Each is
built once, pickled under `build/artifacts/<name>-<key>.pickle`, and loaded
from there afterwards.

The key is a SHA-256 digest of everything that makes the artifact: the bytes
of the files it is built from, the bytes of the modules whose code builds it,
the parameters it depends on, the versions of the libraries that build it
(jieba, opencc, numpy, ...) and Python's own version. Change any of them and
the key changes, so a stale artifact is never read; old entries are simply
left unused (`make clean-build` removes them all).

Artifacts are not stage results: `--no-cache`, which bypasses the stage
cache (build/cache), does not bypass them, since an entry keyed by the
content of its inputs is the artifact those inputs make, whichever run
built it.

Writes are atomic (a temporary file in the same folder, then `os.replace`),
so two processes building the same entry at once each write a whole file and
the last rename wins; a reader never sees half a file. An entry that cannot
be read (truncated, corrupt, from a foreign pickle) is built again and
replaced, never fatal.

joblib.Memory does not fit: it keys an entry on the function's arguments and
its own source only, not on the files the function reads, the code it calls
or the versions of the libraries that do the work, so a new jieba dictionary
or a changed builder would be served stale.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar

__all__ = ["artifact", "artifact_key", "artifact_path"]

log = logging.getLogger("pipeline")

T = TypeVar("T")


def artifact_key(files: Iterable[Path] = (), values: Mapping[str, Any] | None = None,
                 libraries: Iterable[str] = ()) -> str:
    """The digest of everything an artifact is built from.

    Parameters
    ----------
    files : Iterable[Path]
        The files it is built from and the source files of the code that builds it; their bytes count, in order.
    values : Mapping[str, Any] or None
        Parameters it depends on (JSON-serialisable).
    libraries : Iterable[str]
        Distributions whose installed version counts (e.g. "jieba", "opencc").

    Returns
    -------
    str
        A SHA-256 hex digest; Python's major and minor version are always part of it.
    """
    digest = hashlib.sha256()

    def part(label: str, data: bytes) -> None:
        # Each part is framed by its label and length, so no two sets of inputs give one byte stream.
        digest.update(f"{label}:{len(data)}:".encode())
        digest.update(data)

    part("python", f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    for index, path in enumerate(files):
        part(f"file{index}", Path(path).read_bytes())
    part("values", json.dumps(dict(values or {}), sort_keys=True, ensure_ascii=False, default=str).encode())
    for name in libraries:
        part(f"library {name}", importlib.metadata.version(name).encode())
    return digest.hexdigest()


def artifact_path(directory: Path, name: str, key: str) -> Path:
    """Where the artifact `name` with `key` is kept.

    Parameters
    ----------
    directory : Path
        The artifacts folder (`Paths.artifacts`).
    name : str
        The artifact's name.
    key : str
        Its key (`artifact_key`).

    Returns
    -------
    Path
        directory/name-key.pickle
    """
    return Path(directory) / f"{name}-{key}.pickle"


def artifact(directory: Path, name: str, key: str, build: Callable[[], T]) -> T:
    """The artifact `name` with `key`: read from `directory`, or built by `build()` and kept there.

    Parameters
    ----------
    directory : Path
        The artifacts folder (`Paths.artifacts`); created when missing.
    name : str
        The artifact's name.
    key : str
        Its key (`artifact_key`): the digest of everything `build` makes it from.
    build : Callable[[], T]
        Builds the artifact; its result must pickle.

    Returns
    -------
    T
        The artifact.
    """
    path = artifact_path(directory, name, key)
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except FileNotFoundError:
        pass
    except Exception as exc:  # noqa: BLE001 (any unreadable entry, whatever the cause, is rebuilt)
        log.warning("artifact %s could not be read (%s: %s); building it again", path.name, type(exc).__name__, exc)
    value = build()
    try:
        _write_atomically(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError as exc:
        # A folder this process cannot write (a remote worker's, a read-only
        # checkout) costs the next run the build again, nothing more.
        log.warning("artifact %s could not be kept (%s); the next run builds it again", path.name, exc)
    return value


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it over `path` (atomic on one file system)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
