"""Stage cache and the fingerprint of a whole run.

A stage's output is stored under the hash of everything it depends on: the
study's code, the package versions, the parameters it reads, and the digests
of its inputs. Rerunning after a change reuses every stage the change does
not reach; rerunning with nothing changed is answered from the fingerprint
recorded in results/manifest.json without running any stage.

This stays hand-written: joblib.Memory would replace only the 79 code lines
of `StageCache` by about 30, keeping the fingerprints (it hashes the memoised
function's own source, not the package a stage calls, nor input files or
package versions) and losing each entry's checksum; DVC or Snakemake would
need a command and files per stage instead of one process sharing its state
and dask cluster, and on a two-stage toy their no-op check took 1.0 s and
1.3 s against 0.07-0.12 s for this module's fingerprint and the manifest check.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

from pipeline.common.config import Paths
from pipeline.common.params import StudyParams

__all__ = ["CODE_DIR", "StageCache", "code_digest", "files_digest", "input_files", "notebook_sources_digest",
           "run_fingerprint", "value_digest"]

log = logging.getLogger("pipeline")

CODE_DIR = Path(__file__).resolve().parents[1]  # the pipeline package


def _digest(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def files_digest(files: Iterable[Path], root: Path) -> str:
    """One digest over the names (relative to root) and bytes of files.

    Parameters
    ----------
    files : Iterable[Path]
        The files to digest, taken in sorted order.
    root : Path
        The project root, against which the names are taken.

    Returns
    -------
    str
        The hex digest.
    """
    parts = []
    for path in sorted(files):
        parts.append(path.relative_to(root).as_posix().encode("utf-8"))
        parts.append(path.read_bytes())
    return _digest(parts)


def code_digest() -> str:
    """The study's own code: every module of the pipeline package."""
    return files_digest(CODE_DIR.rglob("*.py"), CODE_DIR)


def notebook_sources_digest(folder: Path) -> str:
    """The notebooks' sources only (cell types and texts), not their outputs."""
    parts = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [(c.get("cell_type"), "".join(c.get("source", ""))) for c in nb.get("cells", [])]
        parts.append(json.dumps([path.name, cells], ensure_ascii=False).encode("utf-8"))
    return _digest(parts)


def value_digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def input_files(paths: Paths) -> list[Path]:
    """Every file a run reads: raw articles, manifest, lexicon and pattern files.

    Parameters
    ----------
    paths : Paths
        The project's folders and files.

    Returns
    -------
    list[Path]
        The files, sorted: also the hand codes and coders' sheets, and the background counts when present.
    """
    files = [p for p in paths.raw.iterdir() if p.is_file() and not p.name.startswith(".")]
    files += [paths.manifest_csv]
    # The hand codes, and the coders' sheets with the record of their draw (validation kit).
    files += sorted(p for p in paths.validation.rglob("*") if p.suffix in (".csv", ".json")) \
        if paths.validation.exists() else []
    files += [paths.background_counts] if paths.background_counts.exists() else []
    # Documentation beside the word lists (README, codebook) is not read by any stage.
    files += [p for p in paths.lexicon.rglob("*") if p.is_file() and p.suffix != ".md"]
    return sorted(files)


def run_fingerprint(paths: Paths, params: StudyParams, packages: dict[str, str]) -> str:
    """Everything a run's outputs depend on, as one digest.

    Parameters
    ----------
    paths : Paths
        The project's folders and files.
    params : StudyParams
        The run's parameters.
    packages : dict[str, str]
        The reported packages' versions by name.

    Returns
    -------
    str
        The digest of the code, the input files, the notebooks, the parameters and the package versions.
    """
    return value_digest({
        "code": code_digest(),
        "inputs": files_digest(input_files(paths), paths.root),
        "notebooks": notebook_sources_digest(paths.notebooks) if paths.notebooks.exists() else None,
        "params": params.study_record(),
        "packages": packages,
    })


class StageCache:
    """Pickled stage outputs in build/cache/, keyed by a digest of their dependencies.

    Each entry is the SHA-256 of its pickle followed by the pickle. An entry
    that cannot be read, whose checksum does not match, or that does not
    unpickle, is deleted with a warning and recomputed. After each write the
    least recently used entries are deleted until the folder holds at most
    `max_mb` megabytes (the entry just written is kept).
    """

    def __init__(self, folder: Path, enabled: bool = True, max_mb: float = 500):
        self.folder = Path(folder)
        self.enabled = enabled
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.hits: list[str] = []
        self.written: list[str] = []

    def key(self, stage: str, **dependencies: Any) -> str:
        return f"{stage}-{value_digest({'code': code_digest(), **dependencies})[:24]}"

    def _read(self, path: Path) -> tuple[bool, Any]:
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return False, None
        except OSError as exc:
            log.warning("cache entry %s cannot be read (%s); recomputing it", path, exc.strerror)
            return False, None
        digest, payload = blob[:32], blob[32:]
        if len(blob) < 32 or hashlib.sha256(payload).digest() != digest:
            log.warning("cache entry %s is damaged (checksum mismatch); deleting and recomputing it", path)
            path.unlink(missing_ok=True)
            return False, None
        try:
            return True, pickle.loads(payload)
        except Exception as exc:  # written by other code: any failure to load means recompute
            log.warning("cache entry %s no longer loads (%s); deleting and recomputing it", path, type(exc).__name__)
            path.unlink(missing_ok=True)
            return False, None

    def get_or_compute(self, key: str, compute: Callable[[], Any]) -> Any:
        path = self.folder / f"{key}.pkl"
        if self.enabled:
            found, value = self._read(path)
            if found:
                self.hits.append(key.split("-", 1)[0])
                with contextlib.suppress(OSError):
                    os.utime(path)  # recently used: pruned last
                return value
        value = compute()
        if self.enabled:
            if self._write(path, value):
                self.written.append(key.split("-", 1)[0])
            self.prune(keep=path)
        return value

    def _write(self, path: Path, value: Any) -> bool:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(hashlib.sha256(payload).digest())
                    out.write(payload)
                os.replace(tmp, path)
                return True
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("cannot write the cache entry %s (%s); the run goes on without caching it", path, exc.strerror)
            return False

    def prune(self, keep: Path | None = None) -> list[Path]:
        """Delete the least recently used entries until the folder is within its size; returns them."""
        entries = []
        for p in self.folder.glob("*.pkl"):
            with contextlib.suppress(OSError):
                st = p.stat()
                entries.append((st.st_mtime, p, st.st_size))
        total = sum(size for _, _, size in entries)
        removed = []
        for _, p, size in sorted(entries):
            if total <= self.max_bytes:
                break
            if p == keep:
                continue
            p.unlink(missing_ok=True)
            total -= size
            removed.append(p)
        if removed:
            log.info("cache: deleted %d old entries to stay within %.0f MB", len(removed), self.max_bytes / 2**20)
        return removed
