"""Stage cache and the fingerprint of a whole run.

A stage's output is stored under the hash of everything it depends on: the
study's code, the package versions, the parameters it reads, and the digests
of its inputs. Rerunning after a change reuses every stage the change does
not reach; rerunning with nothing changed is answered from the fingerprint
recorded in results/manifest.json without running any stage.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

from pipeline.common.config import Paths
from pipeline.run.params import study_params

CODE_DIR = Path(__file__).resolve().parents[1]  # the pipeline package


def _digest(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def files_digest(files: Iterable[Path], root: Path) -> str:
    """One digest over the names (relative to root) and bytes of files."""
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
    """Every file a run reads: raw articles, manifest, lexicon and pattern files."""
    files = [p for p in paths.raw.iterdir() if p.is_file() and not p.name.startswith(".")]
    files += [paths.manifest_csv]
    # Documentation beside the word lists (README, codebook) is not read by any stage.
    files += [p for p in paths.lexicon.rglob("*") if p.is_file() and p.suffix != ".md"]
    return sorted(files)


def run_fingerprint(paths: Paths, params: dict, packages: dict[str, str]) -> str:
    """Everything a run's outputs depend on, as one digest."""
    return value_digest({
        "code": code_digest(),
        "inputs": files_digest(input_files(paths), paths.root),
        "notebooks": notebook_sources_digest(paths.notebooks) if paths.notebooks.exists() else None,
        "params": study_params(params),
        "packages": packages,
    })


class StageCache:
    """Pickled stage outputs in build/cache/, keyed by a digest of their dependencies."""

    def __init__(self, folder: Path, enabled: bool = True):
        self.folder = Path(folder)
        self.enabled = enabled
        self.hits: list[str] = []

    def key(self, stage: str, **dependencies: Any) -> str:
        return f"{stage}-{value_digest({'code': code_digest(), **dependencies})[:24]}"

    def get_or_compute(self, key: str, compute: Callable[[], Any]) -> Any:
        path = self.folder / f"{key}.pkl"
        if self.enabled and path.exists():
            try:
                with open(path, "rb") as handle:
                    value = pickle.load(handle)
                self.hits.append(key.split("-", 1)[0])
                return value
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
                path.unlink(missing_ok=True)  # a stale or broken entry is recomputed
        value = compute()
        if self.enabled:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        return value
